#!/bin/sh
# 01-private-esp — private: a ping establishes ESP SAs; only ESP crosses the wire.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┼─ br0 (namespace sw, tcpdump -i br0)
#   n3 10.15.1.3 ─┘
#   every node: meshd, the seed recipe, policies/private = 10.15.0.0/16
#
# Usage: 01-private-esp.sh [null|rsa|ecdsa]  (default null; rsa is the recipe verbatim:
# authby=rsasig, certificates from PKCS#12 imported under the nickname "node", %fromcert)
# Asserts: the first ping may be lost, then pings are answered; each end has an ESP SA in
# each direction (transport mode) and an ipsec out policy for the /32 pair; byte counters
# grow on both ends (meshctl trafficstatus --json); the bridge sees ESP between the pairs
# and not one cleartext ICMP echo; no shunt is left behind.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
mesh_require
echo "auth: $MESH_AUTH"

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
step "3 nodes"
for i in 1 2 3; do
	mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }
done
mesh_up || { finish; exit 1; }
cap_start private || { finish; exit 1; }
[ "$MESH_AUTH" = null ] || cert_auth_or_skip n1 10.15.1.2
step "pings"
t0=$(t_now)
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered after $(t_since "$t0") s" ||
	fail "n1 -> n2: no reply within 30 s"
ping_until 30 n2 10.15.1.3 && ok "n2 -> n3 answered" || fail "n2 -> n3: no reply within 30 s"
ping_until 30 n3 10.15.1.1 && ok "n3 -> n1 answered" || fail "n3 -> n1: no reply within 30 s"

step "kernel state"
xsnap n1 n2 n3
# kernel state on both ends of each pair
for pair in "n1 10.15.1.1 n2 10.15.1.2" "n2 10.15.1.2 n3 10.15.1.3" "n3 10.15.1.3 n1 10.15.1.1"; do
	set -- $pair
	for end in "$1 $2 $4" "$3 $4 $2"; do
		set -- $end
		sas=$({ esp_states "$1" "$2" "$3"; esp_states "$1" "$3" "$2"; })
		assert_eq "$1: ESP SAs with $3, both directions, $MESH_TYPE mode" "2 $MESH_TYPE" \
			"$(echo "$sas" | grep -c .) $(echo "$sas" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
		assert_contains "$1: ipsec out policy to $3" "out $2/32 $3/32 any 0 0 ipsec" "$(xpol "$1")"
	done
done

step "trafficstatus"
xunsnap
# meshctl trafficstatus on both ends lists the SA
assert_eq "n1: trafficstatus --json lists n2 and n3" "10.15.1.2 10.15.1.3" "$(ts_peers n1)"
assert_eq "n2: trafficstatus --json lists n1 and n3" "10.15.1.1 10.15.1.3" "$(ts_peers n2)"
assert_eq "n3: trafficstatus --json lists n1 and n2" "10.15.1.1 10.15.1.2" "$(ts_peers n3)"
J=$(ts_sa n1 10.15.1.2)
mode=$(echo "$MESH_TYPE" | tr a-z A-Z)
assert_contains "n1 trafficstatus --json: mode" "\"mode\":\"$mode\"" "$J"
assert_contains "n1 trafficstatus --json: conn" '"conn":"private#10.15.0.0/16"' "$J"
T=$(ctl n1 trafficstatus)
assert_contains "n1 trafficstatus (Libreswan line)" '"private#10.15.0.0/16"[' "$T"
assert_contains "n1 trafficstatus (peer, type)" "...10.15.1.2, type=ESP, add_time=" "$T"

# byte counters grow on both ends, and the kernel agrees
b1=$(ts_bytes n1 10.15.1.2) b2=$(ts_bytes n2 10.15.1.1)
ping_n n1 10.15.1.2 5 && ok "5 more pings n1 -> n2" || fail "pings n1 -> n2 lost after the SA"
a1=$(ts_bytes n1 10.15.1.2) a2=$(ts_bytes n2 10.15.1.1)
grows() { # WHAT BEFORE AFTER  ("IN OUT" pairs)
	set -- "$1" $2 $3
	if [ "$4" -gt "$2" ] && [ "$5" -gt "$3" ]; then ok "$1: inBytes $2 -> $4, outBytes $3 -> $5"
	else fail "$1: byte counters did not grow: in $2 -> $4, out $3 -> $5"; fi
}
grows "n1 trafficstatus (peer n2)" "$b1" "$a1"
grows "n2 trafficstatus (peer n1)" "$b2" "$a2"
k=$(esp_bytes n1 10.15.1.1 10.15.1.2)
set -- $a1
[ "$k" -ge "$2" ] && [ "$2" -gt 0 ] && ok "kernel out bytes on n1 ($k) >= trafficstatus outBytes ($2)" ||
	fail "kernel out bytes on n1 ($k) vs trafficstatus outBytes ($2)"

step "capture"
cap_stop
assert_only_esp private 10.15.1.1 10.15.1.2
assert_only_esp private 10.15.1.2 10.15.1.3
assert_only_esp private 10.15.1.1 10.15.1.3
ike=$(cap_ike private 10.15.1.1 10.15.1.2)
[ "$ike" -ge 4 ] && ok "IKE between n1 and n2 on the wire ($ike packets)" || fail "only $ike IKE packets n1 <-> n2"

for n in n1 n2 n3; do
	assert_eq "$n: no shunt left" "" "$(ctl "$n" shuntstatus | grep -- '->')"
done
finish
