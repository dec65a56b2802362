#!/bin/sh
# 01-libreswan — meshd and Libreswan 4.10, both opportunistic with the seed recipe.
#
#   n1 10.15.1.1 meshd     ─┐
#   l2 10.15.1.2 Libreswan ─┼─ br0 (tcpdump)     policies/GROUP = 10.15.0.0/16 everywhere
#   n3 10.15.1.3 meshd     ─┘
#
# Usage: 01-libreswan.sh AUTH:GROUP:TYPE    AUTH null|rsa|ecdsa (rsa/ecdsa: node
#   certificates from one test CA, authby=rsasig/ecdsa, %fromcert), GROUP private|
#   private-or-clear, TYPE transport|tunnel (default null:private:transport)
# Asserts: n1 -> l2 (meshd initiates) and l2 -> n3 (Libreswan initiates) answer after the
# first packet; both ends of each pair have one ESP SA each way in TYPE mode; `ipsec
# trafficstatus` on l2 and `meshctl trafficstatus` on n1/n3 list the SA with the peer's ID;
# more pings move the byte counters on both sides; the bridge sees ESP and no cleartext
# ICMP; Libreswan's log shows who initiated; no shunt is left on either side.
. "$(dirname "$0")/lib.sh"
IFS=: read -r MESH_AUTH grp MESH_TYPE <<EOF
${1:-null:private:transport}
EOF
: "${grp:=private}" "${MESH_TYPE:=transport}"
interop_require libreswan
echo "auth $MESH_AUTH, group $grp, $MESH_TYPE mode"

echo '10.15.0.0/16' >"$MESH_POLICIES/$grp"
step "n1 (meshd), l2 (Libreswan), n3 (meshd)"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
ls_node l2 10.15.1.2 || { finish; exit 1; }
mesh_node n3 10.15.1.3 || { finish; exit 1; }
mesh_up || { finish; exit 1; }
ls_up || { finish; exit 1; }
echo "l2: $(ls_conns l2)"
cap_start lsw || { finish; exit 1; }

case $MESH_AUTH in
null) id="ID_NULL" ;;
*) id="C=US, O=meshd test, CN=" ;;
esac

step "meshd initiates: n1 -> l2"
t0=$(t_now)
ping_until 40 n1 10.15.1.2 && ok "n1 -> l2 answered after $(t_since "$t0") s" ||
	{ fail "n1 -> l2: no reply within 40 s"; ctl n1 why 10.15.1.2; tail -n 30 "$T_DIR/l2/pluto.log"; }
step "Libreswan initiates: l2 -> n3"
t0=$(t_now)
ping_until 40 l2 10.15.1.3 && ok "l2 -> n3 answered after $(t_since "$t0") s" ||
	{ fail "l2 -> n3: no reply within 40 s"; ctl n3 why 10.15.1.2; tail -n 30 "$T_DIR/l2/pluto.log"; }

step "kernel state"
xsnap n1 l2 n3
sa_pair "meshd initiated" n1 10.15.1.1 10.15.1.2 "$MESH_TYPE"
sa_pair "meshd initiated" l2 10.15.1.2 10.15.1.1 "$MESH_TYPE"
sa_pair "Libreswan initiated" l2 10.15.1.2 10.15.1.3 "$MESH_TYPE"
sa_pair "Libreswan initiated" n3 10.15.1.3 10.15.1.2 "$MESH_TYPE"
assert_contains "n1: ipsec out policy to l2" "out 10.15.1.1/32 10.15.1.2/32 any 0 0 ipsec" "$(xpol n1)"
# (Libreswan's transport-mode templates carry no addresses: pol_dump calls them "trap")
xpol l2 | grep -Eq "^out 10.15.1.2/32 10.15.1.3/32 any 0 0 (ipsec|trap)$" &&
	ok "l2: /32 out policy with an ESP template to n3" || fail "l2: no /32 out policy to n3"
xunsnap

step "what both sides show"
L=$(lsx l2 ipsec trafficstatus)
echo "$L"
case $MESH_AUTH in null) i1=$id i3=$id ;; *) i1="${id}n1" i3="${id}n3" ;; esac
assert_contains "l2 ipsec trafficstatus: n1, type=ESP" "\"$grp#10.15.0.0/16\"[" "$(ls_traffic l2 10.15.1.1)"
assert_contains "l2 ipsec trafficstatus: n1's id" "id='$i1'" "$(ls_traffic l2 10.15.1.1)"
assert_contains "l2 ipsec trafficstatus: n3's id" "id='$i3'" "$(ls_traffic l2 10.15.1.3)"
T1=$(ts_line n1 10.15.1.2) T3=$(ts_line n3 10.15.1.2)
echo "n1: $T1"; echo "n3: $T3"
case $MESH_AUTH in null) il=$id ;; *) il="${id}l2" ;; esac
assert_contains "n1 meshctl trafficstatus: l2, type=ESP" "\"$grp#10.15.0.0/16\"[" "$T1"
assert_contains "n1 meshctl trafficstatus: l2's id" "id='$il'" "$T1"
assert_contains "n3 meshctl trafficstatus: l2's id" "id='$il'" "$T3"
mode=$(echo "$MESH_TYPE" | tr a-z A-Z)
assert_contains "n3 trafficstatus --json: $mode" "\"mode\":\"$mode\"" "$(ts_sa n3 10.15.1.2)"
# who initiated, in Libreswan's words
grep -q 'initiate on-demand for packet 10.15.1.2:.*->10.15.1.3' "$T_DIR/l2/pluto.log" &&
	ok "l2's log: it initiated on demand to n3" || fail "l2's log has no on-demand initiation to n3"
grep -q 'initiate on-demand for packet 10.15.1.2:.*->10.15.1.1' "$T_DIR/l2/pluto.log" &&
	fail "l2 initiated to n1 (n1 should have)" || ok "l2 answered n1 (no initiation of its own)"

step "more traffic: counters on both sides"
b1=$(ts_bytes n1 10.15.1.2)
lin() { ls_traffic l2 "$1" | sed -n 's/.*inBytes=\([0-9]*\).*/\1/p'; }
bl=$(lin 10.15.1.1)
ping_n n1 10.15.1.2 5 && ok "5 more pings n1 -> l2" || fail "pings n1 -> l2 lost after the SA"
ping_n l2 10.15.1.3 5 && ok "5 more pings l2 -> n3" || fail "pings l2 -> n3 lost after the SA"
a1=$(ts_bytes n1 10.15.1.2)
al=$(lin 10.15.1.1)
set -- $b1 $a1
[ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] && ok "n1 trafficstatus with l2: in $1 -> $3, out $2 -> $4" ||
	fail "n1 trafficstatus with l2: counters did not grow (in $1 -> $3, out $2 -> $4)"
[ "${al:-0}" -gt "${bl:-0}" ] && ok "l2 ipsec trafficstatus inBytes from n1: $bl -> $al" ||
	fail "l2 ipsec trafficstatus inBytes from n1 did not grow ($bl -> $al)"

step "capture"
cap_stop
assert_only_esp lsw 10.15.1.1 10.15.1.2
assert_only_esp lsw 10.15.1.2 10.15.1.3
assert_eq "n1: no shunt left" "" "$(ctl n1 shuntstatus | grep -- '->')"
assert_eq "n3: no shunt left" "" "$(ctl n3 shuntstatus | grep -- '->')"
assert_eq "l2: no bare shunt left" "" "$(lsx l2 ipsec shuntstatus | grep -- '->')"
finish
