#!/bin/sh
# 03-strongswan — meshd and strongSwan 5.9.8 (charon + swanctl): certificates, transport
# mode, both directions, Child SA rekey with lifetimes in seconds.
#
#   n1 10.15.1.1 meshd      ─┐  policies/private = 10.15.0.0/16; authby=ecdsa (seed recipe)
#   s2 10.15.1.2 strongSwan ─┼─ br0 (tcpdump)
#   n3 10.15.1.3 meshd      ─┘  salifetime=60s rekeymargin=20s rekeyfuzz=0%
#   ECDSA node certificates from one test CA; s2's swanctl.conf:
#     to-n1   child start_action=trap (strongSwan's on-demand), rekey_time=30s
#     from-n3 a plain responder (no start action)
#
# Asserts: s2 -> n1 (charon's trap initiates, meshd answers) and n3 -> s2 (meshd
# initiates, charon answers) are answered; `swanctl --list-sas` shows both IKE SAs
# ESTABLISHED with an INSTALLED TRANSPORT child and meshd's certificate ID; `meshctl
# trafficstatus` shows s2's ID; ESP SAs both ways on both ends; under continuous pings,
# s2 rekeys its child with n1 and n3 rekeys its child with s2 (new SPIs in both kernels, the
# old ones gone, swanctl and meshctl agree), with no more than 4 of 240 pings lost per pair;
# children with PFS (strongSwan's esp_proposals name DH groups, as Libreswan's OE does); only
# ESP crosses the bridge.
. "$(dirname "$0")/lib.sh"
interop_require strongswan
MESH_AUTH=ecdsa MESH_TYPE=transport
echo '10.15.0.0/16' >"$MESH_POLICIES/private"

step "n1 (meshd), s2 (strongSwan), n3 (meshd, short Child SA lifetime)"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
MESH_CONN="salifetime=60s
rekeymargin=20s
rekeyfuzz=0%"
mesh_node n3 10.15.1.3 || { finish; exit 1; }
MESH_CONN=
sw_node s2 10.15.1.2 || { finish; exit 1; }
dn() { echo "C=US, O=meshd test, CN=$1"; }
# PFS on rekey, as meshd and Libreswan do it (KE of the IKE SA's group); strongSwan's
# default ESP proposal has no DH group, and meshd refuses a rekey without KE
SW_ESP="aes256gcm16-aes128gcm16-x25519-ecp256-modp2048"
cat >"$T_DIR/s2/swanctl/swanctl.conf" <<EOF
connections {
	to-n1 {
		remote_addrs = 10.15.1.1
		local {
			auth = pubkey
			certs = s2.pem
			id = "$(dn s2)"
		}
		remote {
			auth = pubkey
			id = "$(dn n1)"
		}
		children {
			to-n1 {
				mode = transport
				start_action = trap
				rekey_time = 30s
				life_time = 120s
				rand_time = 0s
				esp_proposals = $SW_ESP
			}
		}
	}
	from-n3 {
		remote_addrs = 10.15.1.3
		local {
			auth = pubkey
			certs = s2.pem
			id = "$(dn s2)"
		}
		remote {
			auth = pubkey
			id = "$(dn n3)"
		}
		children {
			from-n3 {
				mode = transport
				esp_proposals = $SW_ESP
			}
		}
	}
}
EOF
sw_load s2 || { finish; exit 1; }
mesh_up || { finish; exit 1; }
echo "s2: $(swx s2 --version --daemon 2>/dev/null | tr '\n' ' ')"
cap_start sw || { finish; exit 1; }

step "strongSwan initiates (start_action=trap): s2 -> n1"
t0=$(t_now)
ping_until 40 s2 10.15.1.1 && ok "s2 -> n1 answered after $(t_since "$t0") s" ||
	{ fail "s2 -> n1: no reply within 40 s"; ctl n1 why 10.15.1.2; tail -n 30 "$T_DIR/s2/charon.log"; }
spi1=$(esp_spis n1 10.15.1.1 10.15.1.2)
# continuous traffic from now on: the rekeys (s2's at 30 s, n3's at 40 s) happen under it,
# and an idle OE SA would be deleted at rekey time instead of rekeyed
nsx s2 ping -n -q -i 0.5 -c 240 -W 2 10.15.1.1 >"$T_DIR/ping-s2n1.txt" 2>&1 &
p1=$!
step "meshd initiates, strongSwan responds: n3 -> s2"
t0=$(t_now)
ping_until 40 n3 10.15.1.2 && ok "n3 -> s2 answered after $(t_since "$t0") s" ||
	{ fail "n3 -> s2: no reply within 40 s"; ctl n3 why 10.15.1.2; tail -n 30 "$T_DIR/s2/charon.log"; }
spi3=$(esp_spis n3 10.15.1.3 10.15.1.2)
nsx n3 ping -n -q -i 0.5 -c 240 -W 2 10.15.1.2 >"$T_DIR/ping-n3s2.txt" 2>&1 &
p3=$!
T_PIDS="$T_PIDS $p1 $p3"

step "what both sides show"
S=$(swx s2 --list-sas)
echo "$S"
for c in to-n1 from-n3; do
	sa=$(echo "$S" | awk -v c="$c" '$1 == c ":" { on = 1; print; next } /^[a-z0-9-]+: #/ { on = 0 } on')
	assert_contains "s2 swanctl --list-sas: $c ESTABLISHED" "ESTABLISHED" "$sa"
	assert_contains "s2 swanctl --list-sas: $c child INSTALLED, TRANSPORT" "INSTALLED, TRANSPORT" "$sa"
done
assert_contains "s2 swanctl: n1's certificate ID" "remote '$(dn n1)' @ 10.15.1.1" "$S"
assert_contains "s2 swanctl: n3's certificate ID" "remote '$(dn n3)' @ 10.15.1.3" "$S"
assert_contains "n1 meshctl trafficstatus: s2's ID" "id='$(dn s2)'" "$(ts_line n1 10.15.1.2)"
assert_contains "n3 meshctl trafficstatus: s2's ID" "id='$(dn s2)'" "$(ts_line n3 10.15.1.2)"
assert_contains "n1 trafficstatus --json: TRANSPORT" '"mode":"TRANSPORT"' "$(ts_sa n1 10.15.1.2)"
xsnap n1 s2 n3
# (s2's first rekey, 30 s after the SA, may be under way here: old and new SAs overlap)
sa_some() { # WHAT NODE A B: ESP SAs both ways between A and B, all in transport mode
	_s=$({ esp_states "$2" "$3" "$4"; esp_states "$2" "$4" "$3"; })
	_o=$(esp_states "$2" "$3" "$4" | grep -c .) _i=$(esp_states "$2" "$4" "$3" | grep -c .)
	_m=$(echo "$_s" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')
	[ "$_o" -ge 1 ] && [ "$_i" -ge 1 ] && [ "$_m" = transport ] &&
		ok "$1: $2's kernel has ESP SAs each way with $4 ($_o out, $_i in), transport mode" ||
		fail "$1: $2's kernel: $_o out, $_i in ESP SAs with $4, modes '$_m'"
}
sa_some "charon initiated" n1 10.15.1.1 10.15.1.2
sa_some "charon initiated" s2 10.15.1.2 10.15.1.1
sa_some "meshd initiated" n3 10.15.1.3 10.15.1.2
sa_some "meshd initiated" s2 10.15.1.2 10.15.1.3
assert_eq "n3 and s2 have the same SPIs" "$(esp_spis n3 10.15.1.3 10.15.1.2)" "$(esp_spis s2 10.15.1.2 10.15.1.3)"
xunsnap
grep -q 'initiating IKE_SA to-n1' "$T_DIR/s2/charon.log" && ok "s2's log: charon initiated to-n1 (trap)" ||
	fail "s2's log: no initiation of to-n1"
grep -q 'initiating IKE_SA from-n3' "$T_DIR/s2/charon.log" && fail "s2 initiated from-n3 (n3 should have)" ||
	ok "s2 answered n3 (no initiation of its own)"

step "Child SA rekey under traffic (s2 rekeys with n1 at 30 s, n3 with s2 at 40 s)"
echo "SPIs at the start: s2-n1 $spi1, n3-s2 $spi3"
new_spis() { # NODE A B OLD: the pair's SPIs are all different from OLD
	_now=$(esp_spis "$1" "$2" "$3")
	[ -n "$_now" ] || return 1
	for _o in $4; do case " $_now " in *" $_o "*) return 1 ;; esac; done
	return 0
}
wait_until 110 new_spis s2 10.15.1.2 10.15.1.1 "$spi1" && ok "s2 <-> n1: new SPIs after the rekey ($(esp_spis s2 10.15.1.2 10.15.1.1))" ||
	fail "s2 <-> n1: no rekey within 110 s (SPIs $(esp_spis s2 10.15.1.2 10.15.1.1), were $spi1)"
wait_until 110 new_spis n3 10.15.1.3 10.15.1.2 "$spi3" && ok "n3 <-> s2: new SPIs after the rekey ($(esp_spis n3 10.15.1.3 10.15.1.2))" ||
	fail "n3 <-> s2: no rekey within 110 s (SPIs $(esp_spis n3 10.15.1.3 10.15.1.2), were $spi3)"
wait "$p1" "$p3"
for f in s2n1 n3s2; do
	r=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-$f.txt")
	echo "pings $f during the rekey: $(grep 'transmitted' "$T_DIR/ping-$f.txt")"
	[ "${r:-0}" -ge 236 ] && ok "$f: at most 4 of 240 pings lost across the rekey ($r received)" ||
		fail "$f: ${r:-0} of 240 pings received across the rekey"
done
xsnap n1 s2 n3
assert_eq "after the rekey: n1 and s2 agree on the SPIs" "$(esp_spis n1 10.15.1.1 10.15.1.2)" "$(esp_spis s2 10.15.1.2 10.15.1.1)"
assert_eq "after the rekey: n3 and s2 agree on the SPIs" "$(esp_spis n3 10.15.1.3 10.15.1.2)" "$(esp_spis s2 10.15.1.2 10.15.1.3)"
sa_pair "after the rekey" n1 10.15.1.1 10.15.1.2 transport
sa_pair "after the rekey" n3 10.15.1.3 10.15.1.2 transport
xunsnap
grep -E 'CREATE_CHILD_SA' "$T_DIR/s2/charon.log" | cut -c1-160 | tail -n 4
grep -q 'generating CREATE_CHILD_SA request [0-9]* \[ N(REKEY_SA).* KE ' "$T_DIR/s2/charon.log" &&
	ok "s2's log: charon rekeyed its child with n1 (CREATE_CHILD_SA, REKEY_SA, KE: PFS)" || fail "s2's log: charon sent no rekey"
grep -q 'parsed CREATE_CHILD_SA request [0-9]* \[ N(REKEY_SA).* KE ' "$T_DIR/s2/charon.log" &&
	ok "s2's log: n3 (meshd) rekeyed its child with s2 (REKEY_SA, KE)" || fail "s2's log: no rekey request from n3"
assert_eq "n1 trafficstatus: one Child SA with s2" 1 "$(ts_count n1 10.15.1.2)"
assert_eq "n3 trafficstatus: one Child SA with s2" 1 "$(ts_count n3 10.15.1.2)"

step "capture"
cap_stop
assert_only_esp sw 10.15.1.1 10.15.1.2
assert_only_esp sw 10.15.1.2 10.15.1.3
finish
