#!/bin/sh
# 15-cert-renewal — a renewed node certificate and a removed CA with live SAs (issue #8
# item 6), ECDSA certificates.
#
#   n1 10.15.1.1 ─┐   n1: node certificate from CA "ca" that expires in 3 days
#   n2 10.15.1.2 ─┼─ br0   n2: trusts only "ca"
#   n3 10.15.1.3 ─┘        n3: trusts "ca", and "ca2" once the rollover reaches it
#
# Asserts: n1's status, listcerts, check and log warn about its certificate (3 days <
# cert-expiry-warning= 14 days). The renewal (same nickname "node", CN=n1, a new key, from
# CA "ca2", valid 730 days) imported into n1's database while meshd runs, then meshctl
# reload: status shows the new serial and expiry without a warning, the live SAs n1 <-> n2
# keep their SPIs and carry traffic; a new IKE SA n1 -> n3 authenticates with the renewed
# certificate (n3 trusts ca2); a new IKE SA n1 -> n2 is refused by n2 because n1 now
# presents a ca2 certificate (so the renewed one is in use) with a certificate reason in
# n2's why. Then n3's trust in ca2 is removed (certutil -M -t ,,) and n3 reloads: its live
# SA with n1 stays (SPIs), and a new one fails with a certificate reason in n3's why.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=ecdsa
mesh_require
require_cmd openssl certutil
# diag NODE PEER: what NODE knows about PEER, for a failure
diag() {
	echo "   --- $1 about $2: policies, states, counters, log"
	pol_dump "$(ns_of "$1")" | grep -F "$2/"
	ip -n "$(ns_of "$1")" -o xfrm state | grep -F "$2" | cut -c1-160
	ctl "$1" --json status | grep -o '"counters":{[^}]*}'
	mesh_log "$1" | tail -n 12
}

printf '10.15.1.1\n10.15.1.2\n10.15.1.3\n' >"$MESH_POLICIES/private"
step "certificates: n1's expires in 3 days; its renewal from CA ca2"
mesh_cert n1 ecdsa 10.15.1.1 || { finish; exit 1; }
OLDC=$T_DIR/oldc
mkdir -p "$OLDC" && cp -r "$MESH_CERT_CACHE/ecdsa-ca" "$OLDC/" || fail "copy of the CA"
sh "$MKCERTS" --ecdsa --ca ca --startdate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
	--enddate "$(date -u -d '+3 days +2 hours' +%Y%m%d%H%M%SZ)" "$OLDC/ecdsa-ca" n1:10.15.1.1 \
	>"$T_DIR/mk-old.log" 2>&1 || { cat "$T_DIR/mk-old.log"; fail "minting n1's short certificate"; }
echo 10.15.1.1 >"$OLDC/ecdsa-ca/n1.ips"
NEWC=$T_DIR/newc
sh "$MKCERTS" --ecdsa --ca ca2 --days 730 "$NEWC" n1:10.15.1.1 >"$T_DIR/mk-new.log" 2>&1 ||
	{ cat "$T_DIR/mk-new.log"; fail "minting n1's renewal"; }

step "3 nodes"
_cache=$MESH_CERT_CACHE
MESH_CERT_CACHE=$OLDC
mesh_node n1 10.15.1.1 || { finish; exit 1; }
MESH_CERT_CACHE=$_cache
mesh_node n2 10.15.1.2 || { finish; exit 1; }
mesh_node n3 10.15.1.3 || { finish; exit 1; }
mesh_up || { finish; exit 1; }
ping_until 40 n1 10.15.1.2 && ok "n1 -> n2 with the old certificate" || fail "n1 -> n2: no reply"
spi2=$(esp_spis n1 10.15.1.1 10.15.1.2)

step "expiry warnings"
S=$(ctl n1 status)
echo "$S" | grep -i certificate
old_serial=$(echo "$S" | sed -n 's/^node certificate "node": .*, serial \([0-9a-f]*\), .*/\1/p')
assert_contains "status: node certificate line" 'node certificate "node": C=US, O=meshd test, CN=n1, serial' "$S"
assert_contains "status: expires in 3 days" "(in 3 days)" "$S"
assert_contains "status: warning" 'WARNING: node certificate "node" expires in 3 days' "$S"
J=$(ctl n1 --json status)
assert_contains "status --json: certificates" '"certificates":[{"nickname":"node","subject":"C=US, O=meshd test, CN=n1"' "$J"
assert_contains "status --json: warning" '"expires_in_days":3,"expiry_warning":true' "$J"
L=$("$MESHCTL" listcerts --nssdir "sql:$T_DIR/n1/nss" --config "$T_DIR/n1/meshd.conf")
assert_contains "listcerts: warning mark" "WARNING: expires in 3 days" "$L"
"$MESHCTL" check --config "$T_DIR/n1/meshd.conf" --no-firewall 2>"$T_DIR/check.err"
assert_contains "meshctl check warns" 'node certificate "node" (C=US, O=meshd test, CN=n1) expires in 3 days' "$(cat "$T_DIR/check.err")"
assert_contains "the log warns" 'node certificate "node" (C=US, O=meshd test, CN=n1, serial' "$(mesh_log n1 | grep 'expires in 3 days')"

step "the CA rollover reaches n3 (trust ca2), n3 reloads"
certutil -A -d "sql:$T_DIR/n3/nss" -n ca2 -t CT,, -a -i "$NEWC/ca2.pem" || fail "certutil -A on n3"
R=$(ctl n3 reload)
assert_contains "n3 reload" "reloaded: 0 added" "$R"

step "renewal: meshctl import on n1 while meshd runs, meshctl reload"
"$MESHCTL" import "$NEWC/n1.p12" --nssdir "sql:$T_DIR/n1/nss" >"$T_DIR/import2.log" 2>&1 ||
	{ cat "$T_DIR/import2.log"; fail "meshctl import of the renewal"; }
R=$(ctl n1 reload)
assert_contains "n1 reload" "reloaded: 0 added, 0 removed, 0 changed" "$R"
assert_contains "the reload tore no SA down" "0 SAs torn down" "$R"
S=$(ctl n1 status)
echo "$S" | grep -i certificate
new_serial=$(echo "$S" | sed -n 's/^node certificate "node": .*, serial \([0-9a-f]*\), .*/\1/p')
[ -n "$new_serial" ] && [ "$new_serial" != "$old_serial" ] && ok "status: new serial $new_serial (was $old_serial)" ||
	fail "status serial after the renewal: '$new_serial' (was '$old_serial')"
assert_contains "status: the renewal's expiry" "(in 729 days)" "$S"
case "$S" in *WARNING*) fail "status still warns after the renewal" ;; *) ok "no warning after the renewal" ;; esac
assert_eq "live SAs n1 <-> n2 kept (SPIs)" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
ping_n n1 10.15.1.2 3 && ok "n2 still answers over the live SA" || fail "n2 lost after the renewal"
assert_eq "live SAs n1 <-> n2 still the same after traffic" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"

step "a new IKE SA n1 -> n3 uses the renewed certificate"
ping_until 40 n1 10.15.1.3 && ok "n1 -> n3 answered (n3 trusts ca2)" || { fail "n1 -> n3: no reply"; ctl n1 why 10.15.1.3; ctl n3 why 10.15.1.1; }
assert_contains "n3 trafficstatus: n1's certificate subject" "id='C=US, O=meshd test, CN=n1'" "$(ctl n3 trafficstatus)"
spi3=$(esp_spis n3 10.15.1.3 10.15.1.1)

step "a new IKE SA n1 -> n2: n2 does not trust ca2 yet"
ctl n1 down 10.15.1.2
wait_ike_sas 10 n1 1 || fail "n1's IKE SA with n2 still there after down"
wait_until 10 sh -c "[ -z \"\$(ip -n '$(ns_of n1)' -o xfrm state | grep 'dst 10.15.1.2 ' | grep -v 'spi 0x00000000')\" ]"
ping_once n1 10.15.1.2
wait_failure_shunt 30 n1 10.15.1.2 && ok "n1 -> n2 failed" || { fail "n1 -> n2: no failure shunt"; diag n1 10.15.1.2; diag n2 10.15.1.1; }
W2=$(ctl n2 why 10.15.1.1)
echo "$W2"
W1=$(ctl n1 why 10.15.1.2)
echo "$W1"
case "$W2" in *certificate*|*issuer*) ok "n2's why gives a certificate reason" ;; *) fail "n2's why has no certificate reason" ;; esac
assert_eq "no SA n1 <-> n2" 0 "$(esp_count n1 10.15.1.1 10.15.1.2)"

step "n3 removes its trust in ca2 and reloads"
certutil -M -d "sql:$T_DIR/n3/nss" -n ca2 -t ,, || fail "certutil -M on n3"
R=$(ctl n3 reload)
assert_contains "n3 reload tears nothing down" "0 SAs torn down" "$R"
assert_eq "n3's live SA with n1 stays (SPIs)" "$spi3" "$(esp_spis n3 10.15.1.3 10.15.1.1)"
ping_n n1 10.15.1.3 2 && ok "n1 -> n3 still answers over the live SA" || fail "n1 -> n3 lost after n3's reload"
ctl n3 down 10.15.1.1
wait_ike_sas 10 n3 0 || fail "n3's IKE SA with n1 still there after down"
wait_until 10 sh -c "[ -z \"\$(ip -n '$(ns_of n3)' -o xfrm state | grep 'dst 10.15.1.1 ' | grep -v 'spi 0x00000000')\" ]"
ping_once n3 10.15.1.1
wait_failure_shunt 30 n3 10.15.1.1 && ok "n3 -> n1 failed after the trust removal" || { fail "n3 -> n1: no failure shunt"; diag n3 10.15.1.1; diag n1 10.15.1.3; }
W3=$(ctl n3 why 10.15.1.1)
echo "$W3"
case "$W3" in *certificate*|*issuer*) ok "n3's why gives a certificate reason" ;; *) fail "n3's why has no certificate reason" ;; esac
assert_eq "no SA n3 <-> n1" 0 "$(esp_count n3 10.15.1.3 10.15.1.1)"
finish
