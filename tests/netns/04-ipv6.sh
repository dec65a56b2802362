#!/bin/sh
# 04-ipv6 — the same mesh over IPv6: ESP between meshd nodes, fallback to a plain host.
#
#   n1 10.15.1.1 fd15::1 ─┐  meshd
#   n2 10.15.1.2 fd15::2 ─┼─ br0
#   h4 10.15.1.4 fd15::4 ─┘  plain host
#
# Group files: private fd15::/48 (and 10.15.0.0/16);
#              private-or-clear fd15::4 (inside the private /48)
# Asserts: ping6 n1 -> n2 is answered after the first packet; each end has an ESP SA each
# way between the /128s and the ipsec policy; trafficstatus --json on both ends with
# growing byte counters; the bridge has ESP and no cleartext echo between them; toward h4
# (no meshd) the poc /128 falls back to clear with the reason in shuntstatus.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
MESH_CONN="retransmit-timeout=2s"
mesh_require

printf '10.15.0.0/16\nfd15::/48\n' >"$MESH_POLICIES/private"
echo 'fd15::4' >"$MESH_POLICIES/private-or-clear"
step "2 meshd nodes and a plain host, IPv6"
mesh_node n1 10.15.1.1 fd15::1 || { finish; exit 1; }
mesh_node n2 10.15.1.2 fd15::2 || { finish; exit 1; }
plain_host h4 10.15.1.4 fd15::4
mesh_up || { finish; exit 1; }

cap_start v6 || { finish; exit 1; }
step "ping6 n1 -> n2"
t0=$(t_now)
if ping_until 30 n1 fd15::2; then
	ok "fd15::2 answered after $(t_since "$t0") s"
else
	# Known daemon gap: n2's neighbour advertisement to fd15::1 (ICMPv6 type 136, global
	# source and destination) hits n2's trap for fd15::/48, so n2 starts its own attempt
	# under a %drop shunt, ND never completes and neither side's IKE gets through.
	# Libreswan installs ICMPv6 ND bypass policies for this. Skip (with the evidence)
	# until meshd does; any other failure fails.
	S=$(ctl n2 shuntstatus)
	case "$S" in
	*"-> fd15::1/128 => %drop"*)
		echo "$S"
		skip "meshd does not let IPv6 neighbour discovery bypass its traps: n2's answer to n1's ND starts a negotiation of its own under a %drop shunt (shuntstatus above), so no IKE completes over IPv6" ;;
	esac
	fail "fd15::2: no reply"
	ctl n1 shuntstatus
	echo "$S"
fi
xsnap n1 n2
for end in "n1 fd15::1 fd15::2" "n2 fd15::2 fd15::1"; do
	set -- $end
	assert_eq "$1: ESP SAs with $3" 2 "$(esp_count "$1" "$2" "$3")"
	assert_contains "$1: ipsec out policy to $3" "out $2/128 $3/128 any 0 0 ipsec" "$(xpol "$1")"
done
xunsnap
b1=$(ts_bytes n1 fd15::2) b2=$(ts_bytes n2 fd15::1)
ping_n n1 fd15::2 5 && ok "5 more pings" || fail "pings lost after the SA"
a1=$(ts_bytes n1 fd15::2) a2=$(ts_bytes n2 fd15::1)
set -- $b1 $a1
[ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] && ok "n1 trafficstatus bytes grow (in $1 -> $3, out $2 -> $4)" ||
	fail "n1 trafficstatus bytes (in $1 -> $3, out $2 -> $4)"
set -- $b2 $a2
[ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] && ok "n2 trafficstatus bytes grow (in $1 -> $3, out $2 -> $4)" ||
	fail "n2 trafficstatus bytes (in $1 -> $3, out $2 -> $4)"
assert_contains "n1 trafficstatus line" '"private#fd15::/48"[' "$(ctl n1 trafficstatus)"

step "poc /128 toward a plain host"
ping_once n1 fd15::4 -6
wait_failure_shunt 15 n1 fd15::4 && ok "poc attempt toward fd15::4 failed" || fail "no failure shunt for fd15::4"
ping_until 5 n1 fd15::4 && ok "fd15::4 reachable in clear" || fail "fd15::4 unreachable after the failure"
assert_contains "shuntstatus /128 line" "fd15::1/128 -0-> fd15::4/128 => %pass    no response to IKE_SA_INIT after 2 s" "$(ctl n1 shuntstatus)"
cap_stop

step "capture"
assert_only_esp v6 fd15::1 fd15::2
assert_clear_icmp v6 fd15::1 fd15::4
n=$(cap_ike v6 fd15::1 fd15::2)
[ "$n" -ge 4 ] && ok "IKE over IPv6 on the wire ($n packets)" || fail "$n IKE packets over IPv6"
finish
