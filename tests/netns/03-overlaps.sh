#!/bin/sh
# 03-overlaps — the most specific entry wins, across groups, on the wire.
#
#   n1 10.15.1.1  10.16.1.1 ─┐  meshd
#   n2 10.15.1.2            ─┤  meshd
#   n3 10.15.1.3  10.16.1.3 ─┼─ br0
#   h4 10.15.1.4  10.16.1.4 ─┤  plain host
#   h5 10.15.1.5            ─┤  plain host
#   h6 10.15.1.6            ─┘  plain host
#
# Group files (the same on every node):
#   private           10.15.0.0/16   10.16.1.1   10.16.1.3
#   clear             10.15.1.4      10.16.1.0/24
#   block             10.15.1.5
#   private-or-clear  10.15.1.6
# Asserts: 10.15.1.2 (private /16): ESP only; 10.15.1.4 (clear /32 in the private /16):
# cleartext echo; 10.15.1.5 (block /32 in it): "Operation not permitted", nothing on the
# wire; 10.15.1.6 (poc /32 in the private /16, no meshd there): falls back to clear with
# the reason, not to the /16's drop; 10.16.1.4 (clear /24): cleartext; 10.16.1.3 (private
# /32 inside the clear /24): ESP only.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
MESH_CONN="retransmit-timeout=2s"
mesh_require

echo '10.15.0.0/16
10.16.1.1
10.16.1.3' >"$MESH_POLICIES/private"
printf '10.15.1.4\n10.16.1.0/24\n' >"$MESH_POLICIES/clear"
echo '10.15.1.5' >"$MESH_POLICIES/block"
echo '10.15.1.6' >"$MESH_POLICIES/private-or-clear"

step "3 meshd nodes, 3 plain hosts"
MESH_ADDRS=10.16.1.1/24; mesh_node n1 10.15.1.1 || { finish; exit 1; }
MESH_ADDRS=; mesh_node n2 10.15.1.2 || { finish; exit 1; }
MESH_ADDRS=10.16.1.3/24; mesh_node n3 10.15.1.3 || { finish; exit 1; }
MESH_ADDRS=10.16.1.4/24; plain_host h4 10.15.1.4
MESH_ADDRS=; plain_host h5 10.15.1.5
plain_host h6 10.15.1.6
mesh_up || { finish; exit 1; }

P=$(pol_dump "$(ns_of n1)")
for l in "out 0.0.0.0/0 10.15.0.0/16 any 0 0 trap" "out 0.0.0.0/0 10.15.1.4/32 any 0 0 pass" \
	"out 0.0.0.0/0 10.15.1.5/32 any 0 0 block" "out 0.0.0.0/0 10.15.1.6/32 any 0 0 trap" \
	"out 0.0.0.0/0 10.16.1.0/24 any 0 0 pass" "out 0.0.0.0/0 10.16.1.3/32 any 0 0 trap"; do
	assert_contains "n1 kernel: $l" "$l" "$P"
done

cap_start overlaps || { finish; exit 1; }
step "private /16 (n2), private /32 inside clear /24 (n3)"
ping_until 30 n1 10.15.1.2 && ok "private 10.15.1.2 answered" || fail "private 10.15.1.2: no reply"
ping_until 30 n1 10.16.1.3 && ok "private /32 10.16.1.3 inside clear /24 answered" || fail "10.16.1.3: no reply"
step "clear /32 inside private /16 (h4), clear /24 (h4's second address)"
ping_once n1 10.15.1.4 && ok "clear /32 10.15.1.4 inside private /16 answered" || fail "10.15.1.4: no reply"
ping_once n1 10.16.1.4 && ok "clear /24 10.16.1.4 answered" || fail "10.16.1.4: no reply"
step "block /32 inside private /16 (h5)"
out=$(nsx n1 ping -n -c 1 -W 1 10.15.1.5 2>&1)
assert_contains "block /32 10.15.1.5 refused" "Operation not permitted" "$out"
step "private-or-clear /32 inside private /16 toward a host without meshd (h6)"
ping_once n1 10.15.1.6
wait_failure_shunt 15 n1 10.15.1.6 && ok "poc /32 attempt failed" || fail "no failure shunt for 10.15.1.6"
ping_once n1 10.15.1.6 && ok "poc /32 inside private /16 falls back to clear" || fail "10.15.1.6 unreachable after the failure (the /16's drop?)"
assert_contains "poc /32 shunt is %pass with the reason" "-> 10.15.1.6/32 => %pass    no response to IKE_SA_INIT" "$(shunt_line n1 10.15.1.6)"
cap_stop

step "capture"
assert_only_esp overlaps 10.15.1.1 10.15.1.2
assert_only_esp overlaps 10.16.1.1 10.16.1.3
assert_clear_icmp overlaps 10.15.1.1 10.15.1.4
assert_clear_icmp overlaps 10.16.1.1 10.16.1.4
assert_clear_icmp overlaps 10.15.1.1 10.15.1.6
assert_eq "nothing to the block /32 on the wire" 0 "$(cap_count overlaps host 10.15.1.5 and not arp)"
xsnap n1
assert_eq "n1: ESP SAs with 10.16.1.3" 2 "$(esp_count n1 10.16.1.1 10.16.1.3)"
assert_eq "n1: no SA with the clear /32" 0 "$(esp_count n1 10.15.1.1 10.15.1.4)"
J=$(ts_sa n1 10.16.1.3)
assert_contains "trafficstatus: the private /32's conn" '"conn":"private#10.16.1.3/32"' "$J"
finish
