#!/bin/sh
# 11-dpd — liveness checks (dpddelay=1s dpdtimeout=5s): a peer whose link is cut is
# declared dead and its SAs vanish, the trap is back; a live peer stays.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┼─ br0        every node: private = 10.15.0.0/16, dpddelay=1s, dpdtimeout=5s
#   n3 10.15.1.3 ─┘
#
# Asserts: n1 has SAs with n2 and n3; after `ip link set eth0 down` in n2, n1's SAs with n2
# are gone within dpddelay + dpdtimeout (+ slack for TCG), n1 logs "peer 10.15.1.2 dead (no
# answer to liveness for 5 s)", no ESP state, no /32 policy and no shunt toward n2 remain
# (the group's trap catches the next packet); n1's SA pair with n3, idle all along and
# checked every second, is still the same one and still carries pings; once n2's link is
# back, a ping negotiates a new pair.
. "$(dirname "$0")/lib.sh"
mesh_require

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
MESH_CONN="dpddelay=1s
dpdtimeout=5s"
step "3 nodes with dpddelay=1s dpdtimeout=5s"
for i in 1 2 3; do
	mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }
done
mesh_up || { finish; exit 1; }

step "SAs n1 <-> n2 and n1 <-> n3"
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered" || fail "n1 -> n2: no reply within 30 s"
ping_until 30 n1 10.15.1.3 && ok "n1 -> n3 answered" || fail "n1 -> n3: no reply within 30 s"
assert_eq "n1: trafficstatus lists n2 and n3" "10.15.1.2 10.15.1.3" "$(ts_peers n1)"
spis13=$(esp_spis n1 10.15.1.1 10.15.1.3)

step "cut n2's link"
# n1's XFRM events with timestamps: when its SAs with n2 go, on the guest's own clock
ip -n "$(ns_of n1)" -ts xfrm monitor >"$T_DIR/mon.txt" 2>&1 &
MON=$!
T_PIDS="$T_PIDS $MON"
cap_start dpd || { finish; exit 1; }
ip -n "$(ns_of n2)" link set eth0 down
tcut=$(date +%s.%N)
t0=$(t_now)
if wait_until 30 sh -c "! ip -n '$(ns_of n1)' -o xfrm state | grep -q '10.15.1.2'"; then
	ok "n1's ESP SAs with n2 gone (seen by the poller after $(t_since "$t0") s, TCG)"
else
	fail "n1 still has ESP SAs with n2 after 30 s"
fi
cap_stop
kill "$MON" 2>/dev/null
# the first deletion of an SA with n2, seconds after the cut
tdel=$(awk '/^\[/ && /Deleted/ && /10\.15\.1\.2/ { t = substr($1, 2, 26); sub(/\]$/, "", t); print t; exit }' "$T_DIR/mon.txt")
el=$( [ -n "$tdel" ] && echo "$(date -d "$(echo "$tdel" | tr T ' ')" +%s.%N) $tcut" | awk '{ printf "%.2f\n", $1 - $2 }')
echo "# n1 deleted its first SA with n2 at ${tdel:-?} (${el:-?} s after the cut)"
# the wire: n1's liveness requests to n2 around the cut (seconds relative to the cut)
echo "# n1 -> n2 IKE datagrams around the cut (s): $(tcpdump -tt -n -r "$T_DIR/dpd.pcap" 'src 10.15.1.1 and dst 10.15.1.2 and udp port 500' 2>/dev/null |
	awk -v c="$tcut" '{ printf "%.1f ", $1 - c }')"
# the last check before the cut may be answered or lost: dead between dpdtimeout -
# dpddelay and dpddelay + dpdtimeout after the cut (+0.5 s of slack)
awk -v e="${el:-99}" 'BEGIN { exit !(e >= 4 && e <= 6.5) }' &&
	ok "SAs with n2 deleted $el s after the cut (dpddelay 1 s, dpdtimeout 5 s)" ||
	fail "SAs with n2 deleted ${el:-?} s after the cut, not within [4, 6.5] s"
wait_until 5 sh -c "grep -q 'peer 10.15.1.2 dead' '$T_DIR/n1/meshd.log'"
assert_contains "n1 log" "peer 10.15.1.2 dead (no answer to liveness for 5 s)" "$(mesh_log n1)"
xsnap n1
assert_eq "n1: no ESP SA with n2" "0" "$(esp_count n1 10.15.1.1 10.15.1.2)"
assert_eq "n1: no /32 policy with n2 (the trap is back)" "" \
	"$(xpol n1 | grep -F '10.15.1.2/32')"
xunsnap
assert_eq "n1: trafficstatus lists only n3" "10.15.1.3" "$(ts_peers n1)"
assert_eq "n1: no shunt toward n2" "" "$(ctl n1 shuntstatus | grep -F -- '-> 10.15.1.2/')"

step "the live peer n3 stayed"
assert_eq "n1 <-> n3: the same SA pair as before" "$spis13" "$(esp_spis n1 10.15.1.1 10.15.1.3)"
ping_n n1 10.15.1.3 3 && ok "n1 -> n3 still answered" || fail "n1 -> n3 broken"
assert_eq "n3: not declared dead by n1" "" "$(grep -F 'peer 10.15.1.3 dead' "$T_DIR/n1/meshd.log")"

step "n2's link back: the trap negotiates anew"
ip -n "$(ns_of n2)" link set eth0 up
t0=$(t_now)
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered again after $(t_since "$t0") s" ||
	fail "n1 -> n2: no reply within 30 s after the link came back"
assert_eq "n1: one Child SA with n2" "1" "$(ts_count n1 10.15.1.2)"
finish
