#!/bin/sh
# ike_certs.sh — two real meshd daemons authenticating each other with X.509 certificates.
#
#   ns A (meshd) a0 10.0.0.1/24 ---- veth ---- b0 10.0.0.2/24 ns B (meshd)
#
# Each daemon has its own NSS DB (meshctl initnss + import of a certs/mkcerts.sh PKCS#12,
# RSA, CA trusted CT,,) and the seed recipe's conns (tests/data/conf/mesh-seed.conf:
# authby=rsasig, leftcert=node, leftid/rightid=%fromcert, type=transport); each puts the
# other in `private`. A ping from A raises the ACQUIRE; IKE_SA_INIT and IKE_AUTH run with
# certificates and both daemons log the peer's DN as authenticated. Then:
#   kernel without ESP (this machine): installing the ESP SAs fails; the responder B
#     answers IDr+AUTH+N(NO_PROPOSAL_CHOSEN) (RFC 7296 §2.21.3) and records
#     "kernel has no ESP" (why, shuntstatus); A's failure shunt says so too — never an SA;
#   kernel with ESP (tests/vm/run): trafficstatus shows the SA on both sides with the DN.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ping openssl

A=$(ns_new a) && B=$(ns_new b) || skip "cannot create namespaces"
ip link add a0 netns "$A" type veth peer name b0 netns "$B" || skip "no veth support"
ip -n "$A" addr add 10.0.0.1/24 dev a0
ip -n "$B" addr add 10.0.0.2/24 dev b0
ip -n "$A" link set a0 up
ip -n "$B" link set b0 up

# ESP support: can a scratch namespace hold an ESP state?
P=$(ns_new probe)
if ip -n "$P" xfrm state add src 10.9.9.1 dst 10.9.9.2 proto esp spi 0x100 mode transport \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324 128 \
	2>/dev/null; then
	ESP=yes
else
	ESP=no
fi
echo "# kernel ESP support: $ESP"
# the reason ike_child.c gives for the kernel's refusal: "kernel has no ESP" (no esp4/esp6,
# or "(algorithm not found)" for the missing AEAD that this kernel reports first); older
# ike_child.c said "kernel refused the ESP SA" for the latter
NOESP="kernel has no ESP|kernel refused the ESP SA"

sh "$top_srcdir/certs/mkcerts.sh" --rsa "$T_DIR/c" a:10.0.0.1 b:10.0.0.2 >/dev/null ||
	skip "certs/mkcerts.sh failed"
for n in a b; do
	"$MESHCTL" initnss --nssdir "sql:$T_DIR/nss-$n" >/dev/null || fail "initnss $n"
	"$MESHCTL" import "$T_DIR/c/$n.p12" --nssdir "sql:$T_DIR/nss-$n" >/dev/null || fail "import $n"
	mkdir -p "$T_DIR/pol-$n"
	{
		printf 'config setup\n\tnssdir=sql:%s/nss-%s\n\tshuntlifetime=2m\n\n' "$T_DIR" "$n"
		sed 's/leftcert=nodeXXXX/leftcert=node/' "$top_srcdir/tests/data/conf/mesh-seed.conf"
	} >"$T_DIR/$n.conf"
	: >"$T_DIR/pol-$n/private-or-clear"
	: >"$T_DIR/pol-$n/clear"
done
echo 10.0.0.2/32 >"$T_DIR/pol-a/private"
echo 10.0.0.1/32 >"$T_DIR/pol-b/private"

start_meshd "$B" "$T_DIR/b.conf" "$T_DIR/pol-b" b || { finish; exit 1; }
CTL_B=$CTL
start_meshd "$A" "$T_DIR/a.conf" "$T_DIR/pol-a" a || { finish; exit 1; }
CTL_A=$CTL

ip netns exec "$A" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1
if [ "$ESP" = yes ]; then
	wait_for 15 sh -c "'$MESHCTL' --ctlsocket '$CTL_A' trafficstatus | grep -q 'CN=b'" ||
		fail "no SA on A"
else
	wait_for 15 grep -qE "$NOESP" "$T_DIR/b.log" || fail "B never tried to install the SA"
	wait_for 5 grep -q "OE attempt failed" "$T_DIR/a.log" || fail "A's attempt did not end"
fi
LOG_A=$(cat "$T_DIR/a.log")
LOG_B=$(cat "$T_DIR/b.log")
assert_contains "A: our certificate loaded" 'certificate "node": C=US, O=meshd test, CN=a' "$LOG_A"
assert_contains "B authenticated A by certificate" \
	"authenticated peer 'C=US, O=meshd test, CN=a' using RSA-2048 RSASSA-PSS-SHA512" "$LOG_B"
assert_contains "A authenticated B by certificate" \
	"authenticated peer 'C=US, O=meshd test, CN=b' using RSA-2048 RSASSA-PSS-SHA512" "$LOG_A"

if [ "$ESP" = yes ]; then
	TS_A=$("$MESHCTL" --ctlsocket "$CTL_A" trafficstatus)
	wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL_B' trafficstatus | grep -q 'CN=a'"
	TS_B=$("$MESHCTL" --ctlsocket "$CTL_B" trafficstatus)
	assert_contains "A: trafficstatus shows B's DN" "id='C=US, O=meshd test, CN=b'" "$TS_A"
	assert_contains "B: trafficstatus shows A's DN" "id='C=US, O=meshd test, CN=a'" "$TS_B"
	assert_contains "A: established line" \
		"established with 10.0.0.2 (AES_GCM_16_256, X25519, RSASSA-PSS-SHA512)" "$LOG_A"
	ip netns exec "$A" ping -c 2 -W 2 10.0.0.2 >/dev/null 2>&1 || fail "no ping through ESP"
else
	WHY_B=$("$MESHCTL" --ctlsocket "$CTL_B" why 10.0.0.1)
	SH_B=$("$MESHCTL" --ctlsocket "$CTL_B" shuntstatus)
	WHY_A=$("$MESHCTL" --ctlsocket "$CTL_A" why 10.0.0.2)
	SH_A=$("$MESHCTL" --ctlsocket "$CTL_A" shuntstatus)
	REASON=$(echo "$SH_B" | sed -n 's/^10.0.0.2\/32 -0-> 10.0.0.1\/32 => %drop    //p')
	case "$REASON" in
	"kernel has no ESP"*|"kernel refused the ESP SA") ok "B: failure shunt: $REASON" ;;
	*) fail "B: no failure shunt with the kernel's reason:"; echo "$SH_B" ;;
	esac
	assert_contains "B: why gives the reason" "state: failure shunt %drop" "$WHY_B"
	assert_contains "B: why gives the reason" "$REASON" "$WHY_B"
	assert_contains "A: failure shunt, not an SA" \
		"10.0.0.1/32 -0-> 10.0.0.2/32 => %drop    peer answered NO_PROPOSAL_CHOSEN" "$SH_A"
	assert_contains "A: why" "peer answered NO_PROPOSAL_CHOSEN" "$WHY_A"
	TS_A=$("$MESHCTL" --ctlsocket "$CTL_A" trafficstatus)
	case "$TS_A" in *CN=b*) fail "A claims an SA without ESP: $TS_A" ;; *) ok "A shows no SA" ;; esac
fi
finish
