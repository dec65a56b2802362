#!/bin/sh
# dnssec_ike.sh — two real meshd daemons authenticating each other with keys published in
# DNSSEC-signed reverse zones (rightrsasigkey=%dnsondemand, libreswan-oe.md §4.3).
#
#   ns A (meshd) a0 10.0.0.1/24 ---- veth ---- b0 10.0.0.2/24 ns B (meshd)
#   ns A da 10.53.1.2/24 ---- ns D (nsd) ad 10.53.1.1, bd 10.53.2.1 ---- db 10.53.2.2/24 ns B
#
# Each node: an NSS DB whose key "node" signs AUTH (method 14) — A's a certificate's
# (certs/mkcerts.sh, RSA), B's a raw ECDSA key from `meshctl newhostkey` —, leftid unset
# (= its IP, ID_IPV4_ADDR), and the other node in `private`. NSD
# serves 0.0.10.in-addr.arpa. signed with ldns-signzone at test time, with the IPSECKEY
# records from `meshctl showhostkey --ipseckey --reverse ADDR` of each node; the zone's DS
# is the daemons' dnssec-anchors=. DNS runs on its own links, outside the private group.
# A ping from A raises the ACQUIRE; A looks B up when it sends IKE_SA_INIT, B looks A up on
# IKE_AUTH. Then:
#   kernel without ESP (this machine): both authenticated by DNS (logged), the SA install
#     fails with "kernel has no ESP" (B's why/shuntstatus);
#   kernel with ESP (tests/vm/run): trafficstatus on A shows B's IP ID and the key source.
# Broken zones, each with its own daemons: B's record missing (NODATA), B's record's RRSIG
# corrupted (bogus), B's RRSIG with a validity that ended in 2020 (expired), B's record
# holding another key (wrongkey: the lookup is secure, B's AUTH does not verify with it),
# B's name delegated without a DS to an unsigned zone (unsigned): A's attempt ends in the
# group's failure shunt (shuntstatus: %drop, private) and A's `why` gives the case's own
# reason. Only B's name is broken, or B would refuse A first (AUTHENTICATION_FAILED).
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ping openssl nsd ldns-keygen ldns-signzone

# ESP support: can a scratch namespace hold an ESP state?
P=$(ns_new probe) || skip "cannot create namespaces"
if ip -n "$P" xfrm state add src 10.9.9.1 dst 10.9.9.2 proto esp spi 0x100 mode transport \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324 128 \
	2>/dev/null; then
	ESP=yes
else
	ESP=no
fi
echo "# kernel ESP support: $ESP"
NOESP="kernel has no ESP|kernel refused the ESP SA"

sh "$top_srcdir/certs/mkcerts.sh" --rsa "$T_DIR/c" a:10.0.0.1 >/dev/null ||
	skip "certs/mkcerts.sh failed"
for n in a b; do
	"$MESHCTL" initnss --nssdir "sql:$T_DIR/nss-$n" >/dev/null 2>&1 || fail "initnss $n"
done
# A signs with its certificate's key, B with a raw key (meshctl newhostkey, no certificate)
"$MESHCTL" import "$T_DIR/c/a.p12" --nssdir "sql:$T_DIR/nss-a" >/dev/null 2>&1 || fail "import a"
"$MESHCTL" newhostkey --ecdsa --nssdir "sql:$T_DIR/nss-b" >/dev/null 2>&1 || fail "newhostkey b"
# another key, published under B's name by the wrongkey zone
"$MESHCTL" initnss --nssdir "sql:$T_DIR/nss-x" >/dev/null 2>&1 &&
	"$MESHCTL" newhostkey --ecdsa --nssdir "sql:$T_DIR/nss-x" >/dev/null 2>&1 || fail "newhostkey x"
REC_A=$("$MESHCTL" showhostkey --ipseckey --reverse 10.0.0.1 --nssdir "sql:$T_DIR/nss-a") ||
	fail "showhostkey a"
REC_B=$("$MESHCTL" showhostkey --ipseckey --reverse 10.0.0.2 --nssdir "sql:$T_DIR/nss-b") ||
	fail "showhostkey b"
REC_X=$("$MESHCTL" showhostkey --ipseckey --reverse 10.0.0.2 --nssdir "sql:$T_DIR/nss-x") ||
	fail "showhostkey x"
echo "# $REC_A"
echo "# $REC_B"

Z=$T_DIR/zones
mkdir -p "$Z"
ZONE=0.0.10.in-addr.arpa

# zone VARIANT: write and sign the reverse zone(s) in $Z/VARIANT; the DS goes to its anchors/
#   good     both records
#   missing  only A's record (B's name has no IPSECKEY: NODATA)
#   bogus    both, B's RRSIG corrupted after signing
#   expired  both, B's RRSIG replaced by one with the same key and a validity that ended in
#            2020 (the zone signed again with ldns-signzone -i/-e in the past)
#   wrongkey A's, and under B's name another key (nss-x's)
#   unsigned A's; B's name is delegated without a DS to the unsigned zone
#            2.0.0.10.in-addr.arpa. (b.zone) that holds B's record
# Only B's name is broken: B authenticates A, and A's verdict on B's AUTH is the reason.
soa() {
	printf '$TTL 300\n@ IN SOA ns.mesh.test. hostmaster.mesh.test. 1 3600 900 604800 300\n'
	printf '@ IN NS ns.mesh.test.\n'
}
zone() {
	v=$1
	mkdir -p "$Z/$v/anchors"
	{
		soa
		echo "$REC_A"
		case $v in
		missing) echo "2 IN PTR b.mesh.test." ;;
		wrongkey) echo "$REC_X" ;;
		unsigned) echo "2 IN NS ns.mesh.test." ;;
		*) echo "$REC_B" ;;
		esac
	} >"$Z/$v/rev.zone"
	[ "$v" = unsigned ] && { soa; echo "$REC_B"; } >"$Z/$v/b.zone"
	(cd "$Z/$v" && k=$(ldns-keygen -a ECDSAP256SHA256 -k $ZONE) &&
		ldns-signzone -o $ZONE rev.zone "$k" && cp "$k.ds" anchors/ &&
		if [ "$v" = expired ]; then
			ldns-signzone -i 20190101000000 -e 20200101000000 -f old.signed -o $ZONE \
				rev.zone "$k"
		fi) || return 1
	brrsig='$1 == "2.0.0.10.in-addr.arpa." && $4 == "RRSIG" && $5 == "IPSECKEY"'
	if [ "$v" = expired ]; then
		{ awk "!($brrsig)" "$Z/$v/rev.zone.signed"; awk "$brrsig" "$Z/$v/old.signed"; } \
			>"$Z/$v/bad" && mv "$Z/$v/bad" "$Z/$v/rev.zone.signed"
		awk "$brrsig"' { n++; if ($9 !~ /^2020/) bad = 1 } END { exit !(n == 1 && !bad) }' \
			"$Z/$v/rev.zone.signed" || return 1
	fi
	if [ "$v" = unsigned ]; then
		grep -q '^2\.0\.0\.10\.in-addr\.arpa\..*[[:space:]]NS[[:space:]]' "$Z/$v/rev.zone.signed" &&
			! grep -q '^2\.0\.0\.10\.in-addr\.arpa\..*[[:space:]]DS[[:space:]]' \
				"$Z/$v/rev.zone.signed" || return 1
	fi
	if [ "$v" = bogus ]; then
		awk '$1 == "2.0.0.10.in-addr.arpa." && $4 == "RRSIG" && $5 == "IPSECKEY" {
			s = $NF; c = substr(s, 20, 1); r = (c == "A") ? "B" : "A"
			$NF = substr(s, 1, 19) r substr(s, 21) } { print }' "$Z/$v/rev.zone.signed" \
			>"$Z/$v/bad" && mv "$Z/$v/bad" "$Z/$v/rev.zone.signed"
		grep -q '^2.0.0.10.in-addr.arpa.*RRSIG.*IPSECKEY' "$Z/$v/rev.zone.signed" ||
			return 1
	fi
}
for v in good missing bogus expired wrongkey unsigned; do
	zone $v || skip "cannot sign the $v zone"
done

# start_all VARIANT: fresh namespaces, nsd with that zone, both daemons
start_all() {
	v=$1
	A=$(ns_new a$v) && B=$(ns_new b$v) && D=$(ns_new d$v) || return 1
	ip link add a0 netns "$A" type veth peer name b0 netns "$B" || return 1
	ip link add da netns "$A" type veth peer name ad netns "$D"
	ip link add db netns "$B" type veth peer name bd netns "$D"
	ip -n "$A" addr add 10.0.0.1/24 dev a0
	ip -n "$B" addr add 10.0.0.2/24 dev b0
	ip -n "$A" addr add 10.53.1.2/24 dev da
	ip -n "$B" addr add 10.53.2.2/24 dev db
	ip -n "$D" addr add 10.53.1.1/24 dev ad
	ip -n "$D" addr add 10.53.2.1/24 dev bd
	for l in "$A a0" "$B b0" "$A da" "$B db" "$D ad" "$D bd"; do
		set -- $l
		ip -n "$1" link set dev "$2" up
	done
	cat >"$Z/$v/nsd.conf" <<EOF
server:
	ip-address: 10.53.1.1
	ip-address: 10.53.2.1
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$Z/$v"
	database: ""
	zonelistfile: "$Z/$v/zone.list"
	xfrdfile: "$Z/$v/xfrd.state"
	pidfile: "$Z/$v/nsd.pid"
	logfile: "$Z/$v/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: $ZONE
	zonefile: rev.zone.signed
EOF
	[ -f "$Z/$v/b.zone" ] &&
		printf 'zone:\n\tname: 2.0.0.10.in-addr.arpa\n\tzonefile: b.zone\n' >>"$Z/$v/nsd.conf"
	ip netns exec "$D" nsd -d -c "$Z/$v/nsd.conf" >"$Z/$v/nsd.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	for n in a b; do
		dir=$T_DIR/$v-$n
		mkdir -p "$dir/pol"
		[ $n = a ] && ns=10.53.1.1 || ns=10.53.2.1
		echo "nameserver $ns" >"$dir/resolv.conf"
		cat >"$dir/meshd.conf" <<EOF
config setup
	nssdir=sql:$T_DIR/nss-$n
	shuntlifetime=2m
	dnssec-anchors=$Z/$v/anchors/*
	resolv-conf=$dir/resolv.conf

conn clear
	auto=ondemand
	type=passthrough
	authby=never
	left=%defaultroute
	right=%group

conn private
	auto=ondemand
	type=transport
	authby=rsasig,ecdsa
	failureshunt=drop
	negotiationshunt=drop
	left=%defaultroute
	leftcert=node
	leftrsasigkey=%cert
	right=%opportunisticgroup
	rightrsasigkey=%dnsondemand
EOF
		: >"$dir/pol/private-or-clear"
		: >"$dir/pol/clear"
		[ $n = a ] && echo 10.0.0.2/32 >"$dir/pol/private" || echo 10.0.0.1/32 >"$dir/pol/private"
	done
	start_meshd "$B" "$T_DIR/$v-b/meshd.conf" "$T_DIR/$v-b/pol" $v-b || return 1
	CTL_B=$CTL
	start_meshd "$A" "$T_DIR/$v-a/meshd.conf" "$T_DIR/$v-a/pol" $v-a || return 1
	CTL_A=$CTL
	LOGA=$T_DIR/$v-a.log
	LOGB=$T_DIR/$v-b.log
}

# ---- the good zone: both sides authenticated by DNS ----
start_all good || { fail "cannot set up the good zone's network"; finish; exit 1; }
ip netns exec "$A" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1
if [ "$ESP" = yes ]; then
	wait_for 15 sh -c "'$MESHCTL' --ctlsocket '$CTL_A' trafficstatus | grep -q \"id='10.0.0.2'\"" ||
		fail "no SA on A"
else
	wait_for 15 grep -qE "$NOESP" "$LOGB" || fail "B never tried to install the SA"
	wait_for 5 grep -q "OE attempt failed" "$LOGA" || fail "A's attempt did not end"
fi
assert_contains "B authenticated A by its DNSSEC key" \
	"authenticated peer '10.0.0.1' using RSA-2048 RSASSA-PSS-SHA512 (the DNSSEC key of 1.0.0.10.in-addr.arpa.)" \
	"$(cat "$LOGB")"
assert_contains "A authenticated B by its DNSSEC key" \
	"authenticated peer '10.0.0.2' using ECDSA-256 " "$(cat "$LOGA")"
assert_contains "A: B's key is the DNSSEC one" "(the DNSSEC key of 2.0.0.10.in-addr.arpa.)" \
	"$(cat "$LOGA")"
assert_contains "B signs with its raw key" 'raw key "node": ECDSA-256' "$(cat "$LOGB")"
if [ "$ESP" = yes ]; then
	TS_A=$("$MESHCTL" --ctlsocket "$CTL_A" trafficstatus)
	assert_contains "A: trafficstatus shows B's IP ID" "id='10.0.0.2'" "$TS_A"
	TSJ=$("$MESHCTL" --ctlsocket "$CTL_A" --json trafficstatus)
	assert_contains "A: key source in trafficstatus --json" 'DNSSEC secure, TTL' "$TSJ"
	ip netns exec "$A" ping -c 2 -W 2 10.0.0.2 >/dev/null 2>&1 || fail "no ping through ESP"
else
	WHY_B=$("$MESHCTL" --ctlsocket "$CTL_B" why 10.0.0.1)
	case "$WHY_B" in
	*"kernel has no ESP"*|*"kernel refused the ESP SA"*) ok "B: why gives the kernel's reason" ;;
	*) fail "B: why lacks the kernel's reason:"; echo "$WHY_B" ;;
	esac
fi

# ---- broken zones: A's failure shunt, and A's why gives the case's own reason ----
# expect_why VARIANT SUBSTRING [dns]: dns = the reason is the lookup's ("DNSSEC: ...")
expect_why() {
	v=$1 want=$2 dns=$3
	start_all "$v" || { fail "cannot set up the $v zone's network"; return; }
	ip netns exec "$A" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1
	wait_for 15 grep -q "OE attempt failed" "$LOGA" || fail "$v: A's attempt did not end"
	# the group's failure shunt (private: failureshunt=drop), with the reason
	wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL_A' shuntstatus | grep -qF -- '-> 10.0.0.2/32 => %drop' && ! '$MESHCTL' --ctlsocket '$CTL_A' shuntstatus | grep -F -- '-> 10.0.0.2/32' | grep -q oe-negotiating" ||
		fail "$v: no failure shunt for 10.0.0.2 on A"
	SJ_A=$("$MESHCTL" --ctlsocket "$CTL_A" --json shuntstatus)
	assert_contains "$v: A's failure shunt is the private group's %drop" \
		'"remote":"10.0.0.2/32","protocol":0,"local_port":0,"remote_port":0,"action":"drop","kind":"failure","group":"private","reason":"' \
		"$SJ_A"
	SH_A=$("$MESHCTL" --ctlsocket "$CTL_A" shuntstatus | grep -F -- '-> 10.0.0.2/32 => %drop')
	echo "# shuntstatus: $SH_A"
	assert_contains "$v: A's shuntstatus gives the reason" "$want" "$SH_A"
	WHY_A=$("$MESHCTL" --ctlsocket "$CTL_A" why 10.0.0.2)
	echo "$WHY_A" | sed -n 's/^  last failure: /# why: /p'
	assert_contains "$v: A's why gives the reason" "$want" "$WHY_A"
	if [ "$dns" = dns ]; then
		case "$WHY_A" in *"DNSSEC: "*) ok "$v: the reason is DNSSEC's" ;;
		*) fail "$v: why: $WHY_A" ;; esac
	fi
}
expect_why missing "NODATA, denial validated" dns
expect_why bogus "bogus: answer: Bogus DNSSEC signature" dns
expect_why expired "IPSECKEY: bogus: answer: DNSSEC signature has expired" dns
expect_why wrongkey "AUTH signature does not match the DNSSEC key of 2.0.0.10.in-addr.arpa."
expect_why unsigned "insecure: zone 2.0.0.10.in-addr.arpa. is unsigned" dns
finish
