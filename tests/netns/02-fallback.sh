#!/bin/sh
# 02-fallback — toward hosts without meshd: private-or-clear falls back to clear,
# private drops; both with the reason in shuntstatus and why.
#
#   n1 10.15.1.1 ─┐  meshd (NULL auth, retransmit-timeout=2s)
#   h4 10.15.1.4 ─┼─ br0   plain host, no IKE       policies/private-or-clear = 10.15.1.4
#   h5 10.15.1.5 ─┘        plain host, no IKE       policies/private          = 10.15.1.5
#
# Asserts: poc: pings pass under the %pass negotiation shunt and after the failure, the
# failure shunt says why (shuntstatus, shuntstatus --json, why), the capture shows the
# IKE_SA_INIT attempts and cleartext ICMP, no ESP; private: no echo ever leaves n1 (ICMP
# is held by the %drop shunts), the failure shunt is %drop with the reason, the kernel has
# a block policy for the pair, and why tells the operator.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
MESH_CONN="retransmit-timeout=2s"
mesh_require

echo '10.15.1.4' >"$MESH_POLICIES/private-or-clear"
echo '10.15.1.5' >"$MESH_POLICIES/private"
step "n1 with meshd, h4 and h5 without"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
plain_host h4 10.15.1.4
plain_host h5 10.15.1.5
mesh_up || { finish; exit 1; }
REASON="no response to IKE_SA_INIT after 2 s"

cap_start fallback || { finish; exit 1; }
step "private-or-clear toward h4"
t0=$(t_now)
ping_once n1 10.15.1.4 || ping_once n1 10.15.1.4
wait_for 10 sh -c "'$MESHCTL' --ctlsocket '$T_DIR/n1/meshd.ctl' shuntstatus | grep -q -- '-> 10.15.1.4/32'" ||
	fail "no shunt for 10.15.1.4"
ping_once n1 10.15.1.4 && ok "poc: cleartext passes while IKE is tried" || fail "poc: ping failed under the %pass shunt"
step "private toward h5"
ping_once n1 10.15.1.5 && fail "private: a ping to 10.15.1.5 was answered (must be dropped)"
wait_failure_shunt 15 n1 10.15.1.4 && ok "poc: attempt failed after $(t_since "$t0") s" || fail "poc: no failure shunt"
wait_failure_shunt 15 n1 10.15.1.5 && ok "private: attempt failed" || fail "private: no failure shunt"
ping_once n1 10.15.1.4 && ok "poc: clear after the failure" || fail "poc: ping failed after the failure"
ping_once n1 10.15.1.5 && fail "private: ping answered after the failure"
cap_stop

step "what the operator sees"
S=$(ctl n1 shuntstatus)
echo "$S"
assert_contains "poc shunt line" "10.15.1.1/32 -0-> 10.15.1.4/32 => %pass    $REASON" "$S"
assert_contains "private shunt line" "10.15.1.1/32 -0-> 10.15.1.5/32 => %drop    $REASON" "$S"
J=$(ctl n1 --json shuntstatus)
assert_contains "shuntstatus --json (poc)" "\"remote\":\"10.15.1.4/32\",\"protocol\":0,\"local_port\":0,\"remote_port\":0,\"action\":\"pass\",\"kind\":\"failure\",\"group\":\"private-or-clear\",\"reason\":\"$REASON\"" "$J"
assert_contains "shuntstatus --json (private)" "\"remote\":\"10.15.1.5/32\",\"protocol\":0,\"local_port\":0,\"remote_port\":0,\"action\":\"drop\",\"kind\":\"failure\",\"group\":\"private\",\"reason\":\"$REASON\"" "$J"
W=$(ctl n1 why 10.15.1.5)
echo "$W"
assert_contains "why names the entry" "group private (private), entry 10.15.1.5/32 at $T_DIR/n1/policies/private:1" "$W"
assert_contains "why gives the reason" "failure shunt %drop" "$W"
assert_contains "why gives the reason (text)" "$REASON" "$W"
W=$(ctl n1 --json why 10.15.1.4)
assert_contains "why --json (poc)" "\"reason\":\"$REASON\"" "$W"
P=$(pol_dump "$(ns_of n1)")
assert_contains "kernel: block for the private pair" "out 10.15.1.1/32 10.15.1.5/32 any 0 0 block" "$P"
assert_contains "kernel: pass for the poc pair" "out 10.15.1.1/32 10.15.1.4/32 any 0 0 pass" "$P"
assert_eq "no SA with h4" 0 "$(esp_count n1 10.15.1.1 10.15.1.4)"
assert_eq "trafficstatus lists nothing" "" "$(ctl n1 trafficstatus)"

step "capture"
assert_clear_icmp fallback 10.15.1.1 10.15.1.4
n=$(cap_ike fallback 10.15.1.1 10.15.1.4)
[ "$n" -ge 2 ] && ok "IKE_SA_INIT sent to h4 and retransmitted ($n packets)" || fail "$n IKE packets to h4"
n=$(cap_ike fallback 10.15.1.1 10.15.1.5)
[ "$n" -ge 2 ] && ok "IKE_SA_INIT sent to h5 and retransmitted ($n packets)" || fail "$n IKE packets to h5"
assert_eq "not one echo to h5 on the wire" 0 "$(cap_icmp fallback 10.15.1.1 10.15.1.5)"
assert_eq "no ESP at all" 0 "$(cap_count fallback esp)"
finish
