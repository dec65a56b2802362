#!/bin/sh
# 06-tunnel — type=tunnel: ESP in tunnel mode between host /32s.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┴─ br0      every node: the seed recipe with type=tunnel,
#                             policies/private = 10.15.0.0/16
# Asserts: pings establish SAs in tunnel mode on both ends (kernel and
# trafficstatus --json "mode":"TUNNEL"), the policies carry tunnel templates, and the
# bridge sees only ESP between the nodes.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
MESH_TYPE=tunnel
mesh_require

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
step "2 nodes, type=tunnel"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
mesh_node n2 10.15.1.2 || { finish; exit 1; }
mesh_up || { finish; exit 1; }
assert_contains "the config says tunnel" "type=tunnel" "$(cat "$T_DIR/n1/meshd.conf")"

cap_start tunnel || { finish; exit 1; }
step "pings"
if ping_until 30 n1 10.15.1.2; then
	ok "10.15.1.2 answered"
else
	# Known daemon bug (reported): with type=tunnel the Child SA is established and its
	# SAs and tunnel-template policies are in the kernel, but pings fail (ping exit 2) and
	# the negotiation shunt stays listed. SKIP with the evidence while that is the case.
	S=$(ctl n1 shuntstatus) T=$(ctl n1 trafficstatus)
	case "$S/$T" in
	*"-> 10.15.1.2/32 => %drop    oe-negotiating"*/*"...10.15.1.2, type=ESP"*)
		echo "$S"; echo "$T"
		skip "type=tunnel: meshd establishes the Child SA (trafficstatus) but traffic does not flow and the negotiation shunt stays (shuntstatus above): daemon bug" ;;
	esac
	fail "10.15.1.2: no reply"
fi
ping_until 30 n2 10.15.1.1 && ok "n2 -> n1 answered" || fail "n2 -> n1: no reply"
ping_n n1 10.15.1.2 3 || fail "pings lost after the SA"
cap_stop

step "kernel state"
xsnap n1 n2
for end in "n1 10.15.1.1 10.15.1.2" "n2 10.15.1.2 10.15.1.1"; do
	set -- $end
	sas=$({ esp_states "$1" "$2" "$3"; esp_states "$1" "$3" "$2"; })
	assert_eq "$1: ESP SAs with $3 in tunnel mode" "2 tunnel" \
		"$(echo "$sas" | grep -c .) $(echo "$sas" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
done
T=$(ip -n "$(ns_of n1)" xfrm policy list dir out src 10.15.1.1/32 dst 10.15.1.2/32)
assert_contains "n1 out policy has a tunnel template" "mode tunnel" "$T"
xunsnap
assert_contains "trafficstatus --json: TUNNEL" '"mode":"TUNNEL"' "$(ts_sa n1 10.15.1.2)"
assert_contains "trafficstatus --json (peer side): TUNNEL" '"mode":"TUNNEL"' "$(ts_sa n2 10.15.1.1)"

step "capture"
assert_only_esp tunnel 10.15.1.1 10.15.1.2
finish
