#!/bin/sh
# 12-peer-restart — a peer's meshd is killed (kill -9) and started again: its first
# packet negotiates a new pair with INITIAL_CONTACT and the survivor replaces the old one.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┴─ br0        private = 10.15.0.0/16, no dpddelay (the default)
#
# Asserts: n1 <-> n2 up; kill -9 of n2's meshd; n2's meshd started again; from n2's first
# ping the pair is back within 2 s (pings answered both ways); n1 logs "peer restarted
# (INITIAL_CONTACT)"; n1's trafficstatus lists exactly one Child SA with n2, with a new
# IKE serial and new SPIs, matching n2's (n1's spi-out = n2's spi-in and back); n1 holds
# exactly two ESP SAs with n2 in the kernel. Done twice (the second time the survivor's SA
# is itself one that replaced an older one).
. "$(dirname "$0")/lib.sh"
mesh_require

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
step "2 nodes"
for i in 1 2; do
	mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }
done
mesh_up || { finish; exit 1; }
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered" || fail "n1 -> n2: no reply within 30 s"

# restart_meshd NAME SIGNAL: stop NAME's meshd with SIGNAL, start it again (same files)
restart_meshd() {
	eval "_p=\$PID_$1"
	kill -"$2" "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	_d=$T_DIR/$1
	ip netns exec "$(ns_of "$1")" "$MESHD" --config "$_d/meshd.conf" --policies-dir "$_d/policies" \
		--ctlsocket "$_d/meshd.ctl" --nofork --stderrlog >>"$_d/meshd.log" 2>&1 &
	eval "PID_$1=\$!"
	T_PIDS="$T_PIDS $!"
	MESH_PENDING="${MESH_PENDING:-} $1"
}

for round in 1 2; do
	step "round $round: kill -9 n2's meshd, start it again"
	before=$(ts_sa n1 10.15.1.2)
	ike0=$(json_num "$before" uniqueid)
	spi0=$(json_strv "$before" spi-out)
	[ -n "$ike0" ] && ok "n1: IKE SA #$ike0 with n2 (spi-out $spi0)" || fail "n1: no SA with n2 before the restart"
	restart_meshd n2 9
	mesh_up || { finish; exit 1; }
	cap_start restart$round || { finish; exit 1; }
	# one ping process, an echo every 0.2 s: the first one triggers the negotiation (and
	# is lost), the first answered one shows when the pair carries traffic again
	got=$(timeout 20 ip netns exec "$(ns_of n2)" ping -n -c 25 -i 0.2 -W 1 10.15.1.1 2>/dev/null |
		awk '/ received/ { print $4 }')
	[ "${got:-0}" -gt 0 ] && ok "n2 -> n1: $got of 25 echoes (0.2 s apart) answered" ||
		fail "n2 -> n1: no echo answered after the restart"
	cap_stop
	# on the wire: from n2's IKE_SA_INIT request to n1's IKE_AUTH answer (4 datagrams),
	# then the first ESP from n1 (the echo reply through the new pair)
	ike=$(tcpdump -tt -n -r "$T_DIR/restart$round.pcap" 'host 10.15.1.1 and host 10.15.1.2 and (udp port 500 or udp port 4500 or esp)' 2>/dev/null |
		awk '/ESP/ && !e && n >= 4 { e = $1 } !/ESP/ { n++; if (n == 1) f = $1; if (n == 4) a = $1 }
			END { if (n >= 4) printf "%.3f %.3f\n", a - f, (e ? e - f : -1) }')
	set -- $ike
	awk -v e="${2:-99}" 'BEGIN { exit !(e >= 0 && e <= 2) }' &&
		ok "pair back within 2 s: IKE_SA_INIT to IKE_AUTH answer ${1:-?} s, first ESP echo ${2:-?} s after n2's first IKE datagram (wire)" ||
		fail "pair back after ${2:-?} s on the wire (> 2 s; IKE took ${1:-?} s)"
	ping_once n1 10.15.1.2 && ok "n1 -> n2 answered" || fail "n1 -> n2 not answered"
	wait_until 5 sh -c "grep -q 'peer restarted (INITIAL_CONTACT)' '$T_DIR/n1/meshd.log'"
	assert_eq "n1 log: peer restarted (INITIAL_CONTACT), round $round" "$round" \
		"$(grep -c 'peer restarted (INITIAL_CONTACT)' "$T_DIR/n1/meshd.log")"
	assert_eq "n1: exactly one Child SA with n2" "1" "$(ts_count n1 10.15.1.2)"
	assert_eq "n2: exactly one Child SA with n1" "1" "$(ts_count n2 10.15.1.1)"
	a=$(ts_sa n1 10.15.1.2) b=$(ts_sa n2 10.15.1.1)
	ike1=$(json_num "$a" uniqueid)
	[ -n "$ike1" ] && [ "$ike1" != "$ike0" ] && ok "n1: new IKE SA #$ike1 (was #$ike0)" ||
		fail "n1: IKE serial did not change ($ike0 -> $ike1)"
	[ "$(json_strv "$a" spi-out)" != "$spi0" ] && ok "n1: new spi-out $(json_strv "$a" spi-out) (was $spi0)" ||
		fail "n1: spi-out did not change ($spi0)"
	assert_eq "n1 spi-out = n2 spi-in" "$(json_strv "$a" spi-out)" "$(json_strv "$b" spi-in)"
	assert_eq "n1 spi-in = n2 spi-out" "$(json_strv "$a" spi-in)" "$(json_strv "$b" spi-out)"
	assert_eq "n1: two ESP SAs with n2 in the kernel" "2" "$(esp_count n1 10.15.1.1 10.15.1.2)"
	ping_n n1 10.15.1.2 3 && ok "3 pings n1 -> n2 through the new pair" || fail "pings n1 -> n2 lost"
done
finish
