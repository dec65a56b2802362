#!/bin/sh
# 05-libreswan-rekey — Child SA and IKE SA rekeys between meshd and Libreswan 4.10 under
# traffic, with the lifetimes shortened to seconds on both (NULL auth, private group).
#
#   n1 10.15.1.1 meshd     ─┐
#   l2 10.15.1.2 Libreswan ─┼─ br0 (tcpdump)    salifetime=16s ikelifetime=24s
#   n3 10.15.1.3 meshd     ─┘                   rekeymargin=4s rekeyfuzz=50% everywhere
#
# n1 -> l2: meshd is the original initiator and rekeys first (Libreswan answers our
# CREATE_CHILD_SA); l2 -> n3: Libreswan initiates and rekeys first (meshd answers).
# Asserts: 44 s of continuous ping on both pairs, every echo answered (n1 -> l2: at most
# one lost per rekey meshd asks for, see below); meshd logs Child SA and IKE SA rekeys
# with each peer; the kernels' SPIs change; the bridge sees ESP and no cleartext ICMP.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=null MESH_TYPE=transport
MESH_CONN="salifetime=16s
ikelifetime=24s
rekeymargin=4s
rekeyfuzz=50%"
interop_require libreswan

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
step "n1 (meshd), l2 (Libreswan), n3 (meshd)"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
ls_node l2 10.15.1.2 || { finish; exit 1; }
mesh_node n3 10.15.1.3 || { finish; exit 1; }
mesh_up || { finish; exit 1; }
ls_up || { finish; exit 1; }
cap_start rekey || { finish; exit 1; }
# each continuous ping starts as soon as its SA is up: an SA without traffic for
# rekeymargin would rightly be deleted at its first rekey moment (the idle rule)
ping_until 40 n1 10.15.1.2 || { fail "n1 -> l2: no SA"; tail -n 30 "$T_DIR/l2/pluto.log"; finish; exit 1; }
nsx n1 ping -n -i 0.2 -c 220 -W 2 10.15.1.2 >"$T_DIR/p12" 2>&1 &
p1=$!
ping_until 40 l2 10.15.1.3 || { fail "l2 -> n3: no SA"; tail -n 30 "$T_DIR/l2/pluto.log"; finish; exit 1; }
nsx l2 ping -n -i 0.2 -c 220 -W 2 10.15.1.3 >"$T_DIR/p23" 2>&1 &
p2=$!
s12=$(esp_spis n1 10.15.1.1 10.15.1.2) s23=$(esp_spis n3 10.15.1.2 10.15.1.3)
ok "SAs up: n1-l2 [$s12] l2-n3 [$s23]"
step "44 s of ping on both pairs"
sleep 30
# the SPIs while the traffic runs (once it stops, the idle rule deletes the SAs)
n12=$(esp_spis n1 10.15.1.1 10.15.1.2) n23=$(esp_spis n3 10.15.1.2 10.15.1.3)
wait "$p1"
wait "$p2"
cap_stop
step "pings done"
# n1 -> l2: Libreswan answers meshd's rekeys and adds its new outbound SA at once, before
# meshd can have the new inbound SA: an echo reply in flight then may be lost, at most one
# per Child SA rekey meshd asks for. l2 -> n3: meshd answers and holds its new outbound SA
# back until Libreswan deletes the old one (x_create.c): nothing may be lost.
c1=$(mesh_log n1 | grep -c 'Child SA #[0-9]* rekeyed as .*initiator')
for p in p12 p23; do
	tail -n 2 "$T_DIR/$p"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T_DIR/$p")
	recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/$p")
	allow=0
	[ "$p" = p12 ] && allow=$c1
	[ $((sent - recv)) -le "$allow" ] &&
		ok "$p: $recv of $sent echoes answered across the rekeys (at most $allow may go)" ||
		fail "$p: $recv of $sent echoes answered across the rekeys (at most $allow may go)"
done
for n in n1 n3; do
	L=$(mesh_log $n)
	c=$(printf '%s\n' "$L" | grep -c 'Child SA #[0-9]* rekeyed as')
	i=$(printf '%s\n' "$L" | grep -c 'IKE SA #[0-9]* rekeyed as')
	[ "$c" -ge 2 ] && [ "$i" -ge 1 ] && ok "$n: $c Child SA rekeys, $i IKE SA rekeys with l2" ||
		fail "$n: $c Child SA rekeys, $i IKE SA rekeys with l2 (want >= 2 and >= 1)"
	printf '%s\n' "$L" | grep -E 'rekeyed as|refused|failed|TEMPORARY|NO_PROPOSAL' | head -n 8
done
grep -iE 'rekey|replace' "$T_DIR/l2/pluto.log" | head -n 8
[ -n "$n12" ] && [ "$n12" != "$s12" ] && ok "n1-l2 SPIs changed: [$s12] -> [$n12]" ||
	fail "n1-l2 SPIs: [$s12] -> [$n12]"
[ -n "$n23" ] && [ "$n23" != "$s23" ] && ok "l2-n3 SPIs changed: [$s23] -> [$n23]" ||
	fail "l2-n3 SPIs: [$s23] -> [$n23]"
assert_only_esp rekey 10.15.1.1 10.15.1.2
assert_only_esp rekey 10.15.1.2 10.15.1.3
if [ "$T_FAILS" -gt 0 ]; then
	echo "--- n1 log"; mesh_log n1 | tail -n 40
	echo "--- l2 log"; tail -n 80 "$T_DIR/l2/pluto.log"
fi
finish
