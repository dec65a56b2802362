#!/bin/sh
# 16-restart-no-leak — restart of a `private` node's meshd (systemctl restart = SIGTERM +
# start) with traffic flowing: no cleartext at any moment, and the peers are back quickly.
#
#   n1 10.15.1.1 ─┬─ br0     both: policies/private = 10.15.1.1 10.15.1.2
#   n2 10.15.1.2 ─┘
#
# Asserts: with an SA n1 <-> n2 and pings both ways every 0.1 s, stopping n1's meshd leaves
# n1's private entry as a block policy (no trap, no cleartext: the stopped node's pings
# fail with EPERM); starting it again replaces the block in place; a bridge capture over
# the whole stop/start shows zero cleartext ICMP between n1 and n2; n1's pings are answered
# again within 2 s of their first packet meeting the new daemon (its first ACQUIRE, stamped
# by ip -ts xfrm monitor: the packet hits the trap, IKE runs, n2 takes the new SA). Prints
# the measured times.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
mesh_require

printf '10.15.1.1\n10.15.1.2\n' >"$MESH_POLICIES/private"
step "2 private nodes"
for i in 1 2; do mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }; done
mesh_up || { finish; exit 1; }
ping_until 30 n1 10.15.1.2 || fail "10.15.1.2: no reply"
ping_until 10 n2 10.15.1.1 || fail "10.15.1.1: no reply"
assert_eq "SA n1 <-> n2" 1 "$(ts_count n1 10.15.1.2)"
spi_old=$(esp_spis n1 10.15.1.1 10.15.1.2)

step "continuous pings both ways, capture on the bridge"
cap_start restart || { finish; exit 1; }
# -D: unix time stamps on every line, so the first reply after the restart can be found
ip netns exec "$(ns_of n1)" ping -n -D -i 0.1 -W 1 10.15.1.2 >"$T_DIR/ping1.txt" 2>&1 &
P1=$!
ip netns exec "$(ns_of n2)" ping -n -D -i 0.1 -W 1 10.15.1.1 >"$T_DIR/ping2.txt" 2>&1 &
P2=$!
T_PIDS="$T_PIDS $P1 $P2"
sleep 1

step "stop n1's meshd (SIGTERM)"
mesh_stop n1
D=$(xpol n1)
assert_contains "stopped: private peer blocked" "out 0.0.0.0/0 10.15.1.2/32 any 0 0 block" "$D"
case "$D" in *" trap"*|*" ipsec"*) fail "stopped: a trap or SA policy is left: $D" ;; *) ok "stopped: no trap, no SA policy" ;; esac
assert_eq "stopped: n1 has no ESP SA" "" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
nsx n1 nft list table inet meshd >/dev/null 2>&1 && ok "stopped: nft inbound table kept" || fail "stopped: nft table gone"
out=$(nsx n1 ping -n -c 1 -W 1 10.15.1.2 2>&1)
assert_contains "stopped: a ping to the private peer is refused" "Operation not permitted" "$out"
sleep 2

step "start n1's meshd again"
# the kernel's view with time stamps (ACQUIRE, new SAs), printed if the gap is too long
ip -n "$(ns_of n1)" -ts xfrm monitor acquire SA >"$T_DIR/mon1.txt" 2>&1 &
MON=$!
T_PIDS="$T_PIDS $MON"
t0=$(date +%s.%N)
mesh_start n1
mesh_up || { finish; exit 1; }
t_ready=$(date +%s.%N)
assert_contains "restarted: trap back" "out 0.0.0.0/0 10.15.1.2/32 any 0 0 trap" "$(pol_dump "$(ns_of n1)")"
wait_until 10 sh -c "[ \$(awk -v t=$t_ready '/bytes from/ { s = \$1; gsub(/[][]/, \"\", s); if (s + 0 > t) n++ } END { print n + 0 }' '$T_DIR/ping1.txt') -gt 0 ]"
sleep 1
kill -INT "$P1" "$P2" 2>/dev/null
wait_until 5 sh -c "! kill -0 $P1 && ! kill -0 $P2" || kill -9 "$P1" "$P2" 2>/dev/null
wait "$P1" "$P2" 2>/dev/null
cap_stop
kill "$MON" 2>/dev/null

# "back within 2 s of traffic": from the new daemon's first ACQUIRE (our first packet hit
# its trap; ip -ts stamps it) to the first echo reply after it; printed with the time from
# launching meshd (its start-up included) and from its control socket answering
acq=$(sed -n 's/^\[\([0-9T:.-]*\)\] *acquire.*/\1/p' "$T_DIR/mon1.txt" | head -n 1)
t_acq=
[ -n "$acq" ] && t_acq=$(date -d "$acq" +%s.%N 2>/dev/null)
from=${t_acq:-$t_ready}
first=$(awk -v t="$from" '/bytes from/ { s = $1; gsub(/[][]/, "", s); if (s + 0 > t) { print s; exit } }' "$T_DIR/ping1.txt")
if [ -z "$first" ]; then
	fail "n1's pings were not answered after the restart"
	tail -n 20 "$T_DIR/ping1.txt"; mesh_log n1 | tail -n 20
else
	gap=$(awk -v a="$from" -v b="$first" 'BEGIN { printf "%.2f", b - a }')
	start=$(awk -v a="$t0" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }')
	launch=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.2f", b - a }')
	echo "   meshd launched -> control socket: $start s; launched -> first reply: $launch s;" \
		"$([ -n "$t_acq" ] && echo "first ACQUIRE" || echo "control socket") -> first reply: $gap s"
	awk -v g="$gap" 'BEGIN { exit !(g <= 2.0) }' && ok "n1's pings answered $gap s after its first packet met the new meshd (<= 2 s)" ||
		{ fail "n1's pings answered only $gap s after the new meshd (> 2 s)"
		  echo "   n1's pings after it:"
		  awk -v t="$from" '{ s = $1; gsub(/[][]/, "", s) } s + 0 > t - 0.5' "$T_DIR/ping1.txt" | head -n 30
		  echo "   n1's xfrm monitor:"; grep -v '^ *\(auth\|enc\|aead\|sel\|lifetime\|anti\|replay\)' "$T_DIR/mon1.txt" | head -n 30
		  echo "   n1's log:"; mesh_log n1 | tail -n 25; echo "   n2's log:"; mesh_log n2 | tail -n 15; }
fi
first2=$(awk -v t="$t_ready" '/bytes from/ { s = $1; gsub(/[][]/, "", s); if (s + 0 > t) { print s; exit } }' "$T_DIR/ping2.txt")
[ -n "$first2" ] && ok "n2's pings answered again" || fail "n2's pings were not answered after the restart"
spi_new=$(esp_spis n1 10.15.1.1 10.15.1.2)
[ -n "$spi_new" ] && [ "$spi_new" != "$spi_old" ] && ok "new SA pair [$spi_new]" || fail "SA after the restart: [$spi_new] (before: [$spi_old])"

assert_eq "no cleartext ICMP between n1 and n2 during stop and start" 0 "$(cap_icmp restart 10.15.1.1 10.15.1.2)"
[ "$(cap_icmp restart 10.15.1.1 10.15.1.2)" -eq 0 ] || cap_show restart 10.15.1.1 10.15.1.2
esp=$(cap_esp restart 10.15.1.1 10.15.1.2)
[ "$esp" -gt 0 ] && ok "capture saw the traffic as ESP ($esp packets)" || fail "capture saw no ESP"
finish
