#!/bin/sh
# dnssec.sh — the dns module against a real authoritative server (NSD) with zones signed by
# ldns-signzone at test time (keys from ldns-keygen), the zones' DS records as trust anchors.
#
#   ns D (nsd) d0 10.53.0.1/24 ---- c0 10.53.0.2/24 ns C (tests/netlink/dns_probe)
#
# Zones (NSEC, ECDSA P-256 zone keys; node keys made by openssl):
#   2.0.10.in-addr.arpa.  signed: 11 -> east's RSA key, 12 -> west's ECDSA key,
#                         13 -> west's key (a wrong key for east), 14 PTR only (no IPSECKEY)
#   mesh.test.            signed: east/west A + IPSECKEY, liar (A is not the peer), nokey
#                         (A only), noaddr (IPSECKEY only), bogus (its IPSECKEY RRSIG
#                         corrupted after signing),
#                         unsigned -> delegation without DS
#   unsigned.mesh.test.   unsigned child zone (a proven insecure delegation)
#   expired.test.         signed with an RRSIG validity that ended in 2020
#   wrongkey.test.        signed with one key; the trust anchor is another key's DS
#   plain.test.           unsigned, no trust anchor
# Asserts SECURE with the right key (reverse and FQDN names, RSA and ECDSA, through the
# worker thread and synchronously) and a distinct status and reason for every failure.
. "$(dirname "$0")/lib.sh"
PROBE=${DNS_PROBE:-$top_builddir/tests/netlink/dns_probe}
require_root
require_cmd nsd ldns-keygen ldns-signzone openssl base64
[ -x "$PROBE" ] || skip "tests/netlink/dns_probe is not built"

D=$(ns_new d) && C=$(ns_new c) || skip "cannot create namespaces"
ip link add d0 netns "$D" type veth peer name c0 netns "$C" || skip "no veth support"
ip -n "$D" addr add 10.53.0.1/24 dev d0
ip -n "$C" addr add 10.53.0.2/24 dev c0
ip -n "$D" link set d0 up
ip -n "$C" link set c0 up

Z=$T_DIR/zones
mkdir -p "$Z/anchors"
cd "$Z" || exit 1

# Node keys and their IPSECKEY lines.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out east.pem 2>/dev/null &&
	openssl pkey -in east.pem -pubout -outform DER -out east.spki &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out west.pem &&
	openssl pkey -in west.pem -pubout -outform DER -out west.spki || skip "openssl cannot make keys"
EAST_B64=$(base64 -w0 east.spki)
WEST_B64=$(base64 -w0 west.spki)
rec() { "$PROBE" --record "$1" "$2"; }

soa() {
	cat <<EOF
\$TTL 300
@ IN SOA ns.mesh.test. hostmaster.mesh.test. 1 3600 900 604800 300
@ IN NS ns.mesh.test.
EOF
}

{ soa; rec 11.2.0.10.in-addr.arpa east.spki; rec 12.2.0.10.in-addr.arpa west.spki
  rec 13.2.0.10.in-addr.arpa west.spki; echo "14 IN PTR nokey.mesh.test."; } >rev.zone
{ soa; echo "ns IN A 10.53.0.1"
  echo "east IN A 10.0.2.11"; rec east.mesh.test east.spki
  echo "west IN A 10.0.2.12"; rec west.mesh.test west.spki
  echo "liar IN A 10.0.2.99"; rec liar.mesh.test east.spki
  echo "nokey IN A 10.0.2.14"
  rec bogus.mesh.test east.spki
  rec noaddr.mesh.test east.spki
  echo "unsigned IN NS ns.mesh.test."; } >mesh.zone
{ soa; rec east.unsigned.mesh.test east.spki; } >unsigned.zone
{ soa; rec east.expired.test east.spki; } >expired.zone
{ soa; rec east.wrongkey.test east.spki; } >wrongkey.zone
{ soa; rec east.plain.test east.spki; } >plain.zone

# sign ZONEFILE ORIGIN [ldns-signzone options]: a fresh key; its DS becomes an anchor.
sign() {
	f=$1 o=$2; shift 2
	k=$(ldns-keygen -a ECDSAP256SHA256 -k "$o") || return 1
	ldns-signzone "$@" -o "$o" "$f" "$k" || return 1
	cp "$k.ds" "anchors/$o.ds"
}
sign rev.zone 2.0.10.in-addr.arpa &&
	sign mesh.zone mesh.test &&
	sign expired.zone expired.test -i 20190101000000 -e 20200101000000 &&
	sign wrongkey.zone wrongkey.test || skip "ldns-signzone failed"
# wrongkey.test.: the anchor is the DS of a key that did not sign the zone
other=$(ldns-keygen -a ECDSAP256SHA256 -k wrongkey.test) && cp "$other.ds" anchors/wrongkey.test.ds
# corrupt the signature over bogus.mesh.test./IPSECKEY (one base64 character of it)
awk '$1 == "bogus.mesh.test." && $4 == "RRSIG" && $5 == "IPSECKEY" {
	s = $NF; c = substr(s, 20, 1); r = (c == "A") ? "B" : "A"
	$NF = substr(s, 1, 19) r substr(s, 21) } { print }' mesh.zone.signed >mesh.zone.bad &&
	mv mesh.zone.bad mesh.zone.signed
grep -q "^bogus.mesh.test.*RRSIG.*IPSECKEY" mesh.zone.signed || fail "no RRSIG to corrupt"

cat >nsd.conf <<EOF
server:
	ip-address: 10.53.0.1
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$Z"
	database: ""
	zonelistfile: "$Z/zone.list"
	xfrdfile: "$Z/xfrd.state"
	pidfile: "$Z/nsd.pid"
	logfile: "$Z/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: 2.0.10.in-addr.arpa
	zonefile: rev.zone.signed
zone:
	name: mesh.test
	zonefile: mesh.zone.signed
zone:
	name: unsigned.mesh.test
	zonefile: unsigned.zone
zone:
	name: expired.test
	zonefile: expired.zone.signed
zone:
	name: wrongkey.test
	zonefile: wrongkey.zone.signed
zone:
	name: plain.test
	zonefile: plain.zone
EOF
nsd-checkconf nsd.conf || skip "nsd-checkconf refused the test config"
ip netns exec "$D" nsd -d -c "$Z/nsd.conf" >"$Z/nsd.out" 2>&1 &
T_PIDS="$T_PIDS $!"
ready() { ip netns exec "$C" "$PROBE" --server 10.53.0.1 --anchors "$Z/anchors/*" --sync \
	ns.mesh.test. | grep -q '^status='; }
wait_for 10 ready || { cat "$Z/nsd.out" "$Z/nsd.log" 2>/dev/null; fail "nsd did not answer"; exit 1; }

OUT=$T_DIR/out
probe() { ip netns exec "$C" "$PROBE" --server 10.53.0.1 --anchors "$Z/anchors/*" "$@" >"$OUT" 2>&1; }
# expect STATUS REASON-SUBSTRING [KEY-B64] -- probe args
expect() {
	st=$1 why=$2 key=$3; shift 4
	probe "$@"
	label="$* -> $st"
	if ! grep -q "^status=$st " "$OUT"; then
		fail "$label: got $(head -2 "$OUT" | tr '\n' ' ')"
	elif ! grep "^reason=" "$OUT" | grep -qF -- "$why"; then
		fail "$label: reason lacks '$why': $(grep '^reason=' "$OUT")"
	elif [ -n "$key" ] && ! grep -qF "spki=$key" "$OUT"; then
		fail "$label: not the expected key: $(cat "$OUT")"
	else
		ok "$label ($(grep '^reason=' "$OUT" | cut -c8-))"
	fi
}

# SECURE: reverse and forward names, RSA and ECDSA, worker thread and synchronous
expect secure "DNSSEC secure, 1 key" "$EAST_B64" -- 11.2.0.10.in-addr.arpa.
expect secure "DNSSEC secure, 1 key" "$WEST_B64" -- 12.2.0.10.in-addr.arpa.
expect secure "DNSSEC secure" "$EAST_B64" -- --sync 11.2.0.10.in-addr.arpa.
expect secure "DNSSEC secure" "$EAST_B64" -- --peer 10.0.2.11 east.mesh.test.
expect secure "DNSSEC secure" "$WEST_B64" -- --peer 10.0.2.12 west.mesh.test.
probe 11.2.0.10.in-addr.arpa.
ttl=$(sed -n 's/^status=secure ttl=\([0-9]*\).*/\1/p' "$OUT")
[ -n "$ttl" ] && [ "$ttl" -gt 0 ] && [ "$ttl" -le 300 ] && ok "TTL $ttl s (zone TTL 300)" ||
	fail "TTL of the secure answer: '$ttl'"
# a wrong key: validated, but it is not east's (AUTH with east's private key must fail)
probe 13.2.0.10.in-addr.arpa.
if grep -q "^status=secure" "$OUT" && ! grep -qF "spki=$EAST_B64" "$OUT"; then
	ok "13.2.0.10.in-addr.arpa. publishes another key than east's"
else
	fail "wrong-key record: $(cat "$OUT")"
fi

# failures, each with its own status and reason
expect bogus "Bogus DNSSEC signature" "" -- bogus.mesh.test.
expect bogus "expired" "" -- east.expired.test.
expect bogus "no DNSKEY of wrongkey.test. matches the trust anchor" "" -- east.wrongkey.test.
expect missing "NODATA, denial validated" "" -- nokey.mesh.test.
expect missing "NXDOMAIN, denial validated" "" -- nothere.mesh.test.
expect missing "NODATA, denial validated" "" -- 14.2.0.10.in-addr.arpa.
expect missing "NXDOMAIN" "" -- 99.2.0.10.in-addr.arpa.
expect address-mismatch "do not include 10.0.2.11" "" -- --peer 10.0.2.11 liar.mesh.test.
expect address-mismatch "A record: NODATA, denial validated" "" -- --peer 10.0.2.14 noaddr.mesh.test.
expect insecure "zone unsigned.mesh.test. is unsigned" "" -- east.unsigned.mesh.test.
expect insecure "no trust anchor covers east.plain.test." "" -- east.plain.test.
expect insecure "dnssec-enable=no" "" -- --no-dnssec 11.2.0.10.in-addr.arpa.
ip netns exec "$C" "$PROBE" --server 10.53.0.9 --anchors "$Z/anchors/*" 11.2.0.10.in-addr.arpa. \
	>"$OUT" 2>&1
grep -q "^status=timeout" "$OUT" && ok "no server -> timeout" || fail "no server: $(cat "$OUT")"

echo "$T_CHECKS checks, $T_FAILS failures"
[ "$T_FAILS" -eq 0 ]
