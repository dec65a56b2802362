#!/bin/sh
# 01-libreswan — meshd and Libreswan 4.10, both opportunistic with the seed recipe, in up
# to three variants at once (one trio of hosts each, side by side on one bridge).
#
#   trio 1: n1  10.15.1.1 meshd, l2  10.15.1.2 Libreswan, n3  10.15.1.3 meshd ─┐
#   trio 2: n1b 10.15.2.1 ...    l2b 10.15.2.2 ...        n3b 10.15.2.3 ...   ─┼─ br0 (tcpdump)
#   trio 3: n1c 10.15.3.1 ...    l2c 10.15.3.2 ...        n3c 10.15.3.3 ...   ─┘
#   policies/GROUP = 10.15.0.0/16 on every host of a trio (its variant's GROUP)
#
# Usage: 01-libreswan.sh VARIANT[+VARIANT[+VARIANT]], VARIANT = AUTH:GROUP:TYPE
#   AUTH null|rsa|ecdsa (rsa/ecdsa: node certificates from one test CA, authby=rsasig/
#   ecdsa, %fromcert), GROUP private|private-or-clear, TYPE transport|tunnel
#   (default null:private:transport)
# Asserts, per variant: n1 -> l2 (meshd initiates) and l2 -> n3 (Libreswan initiates)
# answer after the first packet; both ends of each pair settle on one ESP SA each way in
# TYPE mode (with private-or-clear the cleartext first packets trigger both ends: crossing
# streams, which must converge on one pair); `ipsec trafficstatus` on l2 and `meshctl
# trafficstatus` on n1/n3 list the SA with the peer's ID; more pings move the byte
# counters on both sides and cross the bridge as ESP only (no cleartext echo once the SA is
# up; with `private` none at all); Libreswan's log shows who initiated; no shunt is left.
# (three variants take 450-610 s in the TCG guest, depending on the host's load)
# scenario-timeout: 1200
. "$(dirname "$0")/lib.sh"
VARIANTS=${1:-null:private:transport}
interop_require libreswan

# trio K: names and addresses
sfx() { case $1 in 1) echo "" ;; 2) echo b ;; 3) echo c ;; esac; }
ids() { # K AUTH -> "n1id n3id l2id" as trafficstatus shows them
	case $2 in
	null) echo "ID_NULL ID_NULL ID_NULL" ;;
	*) _s=$(sfx "$1"); echo "CN=n1$_s CN=n3$_s CN=l2$_s" ;;
	esac
}

k=0
TRIOS=
for v in $(echo "$VARIANTS" | tr + ' '); do
	k=$((k + 1))
	[ "$k" -le 3 ] || { fail "at most three variants at once: $VARIANTS"; finish; exit 1; }
	IFS=: read -r MESH_AUTH grp MESH_TYPE <<EOF
$v
EOF
	: "${grp:=private}" "${MESH_TYPE:=transport}"
	s=$(sfx $k)
	eval "V_$k=\"\$MESH_AUTH \$grp \$MESH_TYPE\""
	step "trio $k: auth $MESH_AUTH, group $grp, $MESH_TYPE mode: n1$s (meshd), l2$s (Libreswan), n3$s (meshd)"
	rm -f "$MESH_POLICIES"/*
	echo '10.15.0.0/16' >"$MESH_POLICIES/$grp"
	mesh_node "n1$s" "10.15.$k.1" || { finish; exit 1; }
	ls_node "l2$s" "10.15.$k.2" || { finish; exit 1; }
	mesh_node "n3$s" "10.15.$k.3" || { finish; exit 1; }
	TRIOS="$TRIOS $k"
done
mesh_up || { finish; exit 1; }
ls_up || { finish; exit 1; }
for k in $TRIOS; do echo "l2$(sfx $k): $(ls_conns "l2$(sfx $k)")"; done
cap_start lsw || { finish; exit 1; }

# pair_settled NODE A B MODE: NODE holds exactly one ESP SA each way between A and B
pair_settled() {
	_s=$({ esp_states "$1" "$2" "$3"; esp_states "$1" "$3" "$2"; })
	[ "$(echo "$_s" | grep -c .) $(echo "$_s" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')" = "2 $4" ]
}

for k in $TRIOS; do
	s=$(sfx $k) a=10.15.$k
	eval "set -- \$V_$k"
	step "trio $k ($1 $2 $3): meshd initiates: n1$s -> l2$s"
	t0=$(t_now)
	ping_until 40 "n1$s" "$a.2" && ok "n1$s -> l2$s answered after $(t_since "$t0") s" ||
		{ fail "n1$s -> l2$s: no reply within 40 s"; ctl "n1$s" why "$a.2"; tail -n 30 "$T_DIR/l2$s/pluto.log"; }
	step "trio $k ($1 $2 $3): Libreswan initiates: l2$s -> n3$s"
	t0=$(t_now)
	ping_until 40 "l2$s" "$a.3" && ok "l2$s -> n3$s answered after $(t_since "$t0") s" ||
		{ fail "l2$s -> n3$s: no reply within 40 s"; ctl "n3$s" why "$a.2"; tail -n 30 "$T_DIR/l2$s/pluto.log"; }
done

for k in $TRIOS; do
	s=$(sfx $k) a=10.15.$k
	eval "set -- \$V_$k"
	grp=$2 MODE=$3
	step "trio $k ($1 $2 $3): kernel state"
	if [ "$grp" != private ]; then
		# crossing streams (private-or-clear) settle within seconds: wait for one pair
		t0=$(t_now)
		for pr in "n1$s $a.1 $a.2" "l2$s $a.2 $a.1" "l2$s $a.2 $a.3" "n3$s $a.3 $a.2"; do
			set -- $pr
			wait_until 40 pair_settled "$1" "$2" "$3" "$MODE" || true
		done
		echo "settled after $(t_since "$t0") s"
	fi
	xsnap "n1$s" "l2$s" "n3$s"
	sa_pair "meshd initiated" "n1$s" "$a.1" "$a.2" "$MODE"
	sa_pair "meshd initiated" "l2$s" "$a.2" "$a.1" "$MODE"
	sa_pair "Libreswan initiated" "l2$s" "$a.2" "$a.3" "$MODE"
	sa_pair "Libreswan initiated" "n3$s" "$a.3" "$a.2" "$MODE"
	assert_contains "n1$s: ipsec out policy to l2$s" "out $a.1/32 $a.2/32 any 0 0 ipsec" "$(xpol "n1$s")"
	# (Libreswan's transport-mode templates carry no addresses: pol_dump calls them "trap")
	xpol "l2$s" | grep -Eq "^out $a.2/32 $a.3/32 any 0 0 (ipsec|trap)$" &&
		ok "l2$s: /32 out policy with an ESP template to n3$s" || fail "l2$s: no /32 out policy to n3$s"
	xunsnap

	step "trio $k: what both sides show"
	eval "set -- \$V_$k"
	L=$(lsx "l2$s" ipsec trafficstatus)
	echo "$L"
	L1=$(echo "$L" | grep -F -- "...$a.1,") L3=$(echo "$L" | grep -F -- "...$a.3,")
	set -- $(ids $k "$1")
	i1=$1 i3=$2 il=$3
	assert_contains "l2$s ipsec trafficstatus: n1$s, type=ESP" "\"$grp#10.15.0.0/16\"[" "$L1"
	assert_contains "l2$s ipsec trafficstatus: n1$s's id" "$i1'" "$L1"
	assert_contains "l2$s ipsec trafficstatus: n3$s's id" "$i3'" "$L3"
	assert_eq "l2$s ipsec trafficstatus: one SA with n1$s, one with n3$s" "1 1" \
		"$(echo "$L1" | grep -c .) $(echo "$L3" | grep -c .)"
	T1=$(ts_line "n1$s" "$a.2") T3=$(ts_line "n3$s" "$a.2")
	echo "n1$s: $T1"; echo "n3$s: $T3"
	assert_contains "n1$s meshctl trafficstatus: l2$s, type=ESP" "\"$grp#10.15.0.0/16\"[" "$T1"
	assert_contains "n1$s meshctl trafficstatus: l2$s's id" "$il'" "$T1"
	assert_contains "n3$s meshctl trafficstatus: l2$s's id" "$il'" "$T3"
	assert_eq "meshctl trafficstatus: one SA with l2$s on n1$s and on n3$s" "1 1" \
		"$(echo "$T1" | grep -c .) $(echo "$T3" | grep -c .)"
	mode=$(echo "$MODE" | tr a-z A-Z)
	assert_contains "n3$s trafficstatus --json: $mode" "\"mode\":\"$mode\"" "$(ts_sa "n3$s" "$a.2")"
	# who initiated, in both daemons' words (with private-or-clear the cleartext reply
	# triggers the other end too: crossing streams, both initiate)
	grep -q "$a.1 -> $a.2: initiate on-demand" "$T_DIR/n1$s/meshd.log" &&
		ok "n1$s's log: it initiated on demand to l2$s" || fail "n1$s's log has no on-demand initiation to l2$s"
	grep -q "initiate on-demand for packet $a.2:.*->$a.3" "$T_DIR/l2$s/pluto.log" &&
		ok "l2$s's log: it initiated on demand to n3$s" || fail "l2$s's log has no on-demand initiation to n3$s"
	if [ "$grp" = private ]; then
		grep -q "initiate on-demand for packet $a.2:.*->$a.1" "$T_DIR/l2$s/pluto.log" &&
			fail "l2$s initiated to n1$s (n1$s should have)" || ok "l2$s answered n1$s (no initiation of its own)"
	else
		grep -h 'crossing streams' "$T_DIR/n1$s/meshd.log" "$T_DIR/n3$s/meshd.log" | sed 's/^/  /'
	fi
done

cap_stop
cap_start lsw2 || { finish; exit 1; }
# lin TRAFFICSTATUS PEER: inBytes of PEER's line in l2's `ipsec trafficstatus`
lin() { echo "$1" | grep -F -- "...$2," | sed -n 's/.*inBytes=\([0-9]*\).*/\1/p'; }
for k in $TRIOS; do
	s=$(sfx $k) a=10.15.$k
	step "trio $k: more traffic: counters on both sides"
	b1=$(ts_bytes "n1$s" "$a.2")
	L=$(lsx "l2$s" ipsec trafficstatus)
	bl=$(lin "$L" "$a.1") bl3=$(lin "$L" "$a.3")
	ping_n "n1$s" "$a.2" 5 && ok "5 more pings n1$s -> l2$s" || fail "pings n1$s -> l2$s lost after the SA"
	ping_n "l2$s" "$a.3" 5 && ok "5 more pings l2$s -> n3$s" || fail "pings l2$s -> n3$s lost after the SA"
	a1=$(ts_bytes "n1$s" "$a.2")
	L=$(lsx "l2$s" ipsec trafficstatus)
	al=$(lin "$L" "$a.1") al3=$(lin "$L" "$a.3")
	set -- $b1 $a1
	[ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] && ok "n1$s trafficstatus with l2$s: in $1 -> $3, out $2 -> $4" ||
		fail "n1$s trafficstatus with l2$s: counters did not grow (in $1 -> $3, out $2 -> $4)"
	[ "${al:-0}" -gt "${bl:-0}" ] && ok "l2$s ipsec trafficstatus inBytes from n1$s: $bl -> $al" ||
		fail "l2$s ipsec trafficstatus inBytes from n1$s did not grow ($bl -> $al)"
	[ "${al3:-0}" -gt "${bl3:-0}" ] && ok "l2$s ipsec trafficstatus inBytes from n3$s: $bl3 -> $al3" ||
		fail "l2$s ipsec trafficstatus inBytes from n3$s did not grow ($bl3 -> $al3)"
done
cap_stop

for k in $TRIOS; do
	s=$(sfx $k) a=10.15.$k
	eval "set -- \$V_$k"
	step "trio $k ($1 $2 $3): capture"
	echo "  the 5 + 5 pings once the SAs were up:"
	assert_only_esp lsw2 "$a.1" "$a.2"
	assert_only_esp lsw2 "$a.2" "$a.3"
	if [ "$2" = private ]; then
		echo "  from the start (private: not even the first packets go out in clear):"
		assert_only_esp lsw "$a.1" "$a.2"
		assert_only_esp lsw "$a.2" "$a.3"
	else
		echo "  before the SAs (negotiationshunt=passthrough): $(cap_icmp lsw "$a.1" "$a.2") and" \
			"$(cap_icmp lsw "$a.2" "$a.3") cleartext echo packets"
	fi
	assert_eq "n1$s: no shunt left" "" "$(ctl "n1$s" shuntstatus | grep -- '->')"
	assert_eq "n3$s: no shunt left" "" "$(ctl "n3$s" shuntstatus | grep -- '->')"
	assert_eq "l2$s: no bare shunt left" "" "$(lsx "l2$s" ipsec shuntstatus | grep -- '->')"
done
finish
