#!/bin/sh
# 14-reload-sas — meshctl reload with live SAs, byte counters compared (issue #8 item 5).
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┼─ br0     every node: policies/private = 10.15.1.1 10.15.1.2 10.15.1.3
#   n3 10.15.1.3 ─┘
#
# Asserts, on n1 with SAs to n2 and n3:
#  - a reload that adds an unrelated entry: both SA pairs keep their SPIs and their kernel
#    byte counters (equal before/after without traffic, growing with traffic after), and
#    meshctl reload --json reports the counts;
#  - 10.15.1.3 moved from private to clear: "1 changed ... 1 SAs torn down"; n1 <-> n3 SAs
#    gone and its policy is pass; n1 <-> n2 untouched (SPIs, counters);
#  - esp= changed to aes_gcm_16_128: the reload keeps the live SA (AES-GCM-256 key) and
#    reports 0 changed entries; after meshctl down + traffic the new SA uses 128-bit keys;
#  - a broken config: reload exits non-zero with file:line on stderr, nothing changes.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
mesh_require

printf '10.15.1.1\n10.15.1.2\n10.15.1.3\n' >"$MESH_POLICIES/private"
step "3 nodes"
for i in 1 2 3; do mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }; done
mesh_up || { finish; exit 1; }
ping_until 30 n1 10.15.1.2 || fail "10.15.1.2: no reply"
ping_until 30 n1 10.15.1.3 || fail "10.15.1.3: no reply"
ping_n n1 10.15.1.2 3
POL=$T_DIR/n1/policies
xsnap n1
spi2=$(esp_spis n1 10.15.1.1 10.15.1.2) spi3=$(esp_spis n1 10.15.1.1 10.15.1.3)
xunsnap
[ -n "$spi2" ] && [ -n "$spi3" ] && ok "SAs up: n2 [$spi2] n3 [$spi3]" || fail "SAs missing: n2 [$spi2] n3 [$spi3]"

step "reload with an unrelated entry added"
b2o=$(esp_bytes n1 10.15.1.1 10.15.1.2) b2i=$(esp_bytes n1 10.15.1.2 10.15.1.1)
b3o=$(esp_bytes n1 10.15.1.1 10.15.1.3)
ts2=$(ts_bytes n1 10.15.1.2)
echo '10.15.1.9' >>"$POL/private"
R=$(ctl n1 --json reload)
echo "   $R"
assert_contains "reload --json counts" '"ok":true,"added":1,"removed":0,"changed":0,"unchanged":' "$R"
assert_contains "reload --json: no SA torn down, one kernel policy" '"sas_deleted":0,"kernel_policies_added":1,"kernel_policies_removed":0' "$R"
assert_eq "n1 -> n2 kernel bytes unchanged by the reload" "$b2o" "$(esp_bytes n1 10.15.1.1 10.15.1.2)"
assert_eq "n2 -> n1 kernel bytes unchanged by the reload" "$b2i" "$(esp_bytes n1 10.15.1.2 10.15.1.1)"
assert_eq "n1 -> n3 kernel bytes unchanged by the reload" "$b3o" "$(esp_bytes n1 10.15.1.1 10.15.1.3)"
assert_eq "trafficstatus bytes with n2 unchanged by the reload" "$ts2" "$(ts_bytes n1 10.15.1.2)"
assert_eq "n1 <-> n2 SPIs kept" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
assert_eq "n1 <-> n3 SPIs kept" "$spi3" "$(esp_spis n1 10.15.1.1 10.15.1.3)"
ping_n n1 10.15.1.2 3 && ok "n2 answers after the reload" || fail "n2 lost after the reload"
a2o=$(esp_bytes n1 10.15.1.1 10.15.1.2)
[ "$a2o" -gt "$b2o" ] && ok "the same SA counts on: n1 -> n2 bytes $b2o -> $a2o" || fail "n1 -> n2 bytes $b2o -> $a2o"
assert_eq "n1 <-> n2 SPIs still kept after traffic" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"

step "10.15.1.3 moved from private to clear"
b2o=$(esp_bytes n1 10.15.1.1 10.15.1.2)
printf '10.15.1.1\n10.15.1.2\n10.15.1.9\n' >"$POL/private"
echo '10.15.1.3' >"$POL/clear"
R=$(mesh_reload n1)
echo "   $R"
assert_contains "reload text" "reloaded: 0 added, 0 removed, 1 changed, 2 unchanged entries; 1 SAs torn down; kernel: +3 -0 policies" "$R"
wait_until 10 sh -c "[ -z \"\$(ip -n '$(ns_of n1)' -o xfrm state | grep 'dst 10.15.1.3 ')\" ]"
xsnap n1
assert_eq "n1 <-> n3 SAs gone with the move" "" "$(esp_spis n1 10.15.1.1 10.15.1.3)"
assert_contains "n3 is clear now" "out 0.0.0.0/0 10.15.1.3/32 any 0 0 pass" "$(xpol n1)"
assert_eq "n1 <-> n2 SPIs kept" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
xunsnap
assert_eq "n1 -> n2 kernel bytes unchanged by the move" "$b2o" "$(esp_bytes n1 10.15.1.1 10.15.1.2)"
assert_eq "trafficstatus no longer lists n3" 0 "$(ts_count n1 10.15.1.3)"
ping_n n1 10.15.1.2 2 && ok "n2 still answers" || fail "n2 lost after moving n3"

step "esp= changed (aes_gcm_16_128): live SAs keep theirs, new SAs use it"
sed -i 's/^\(\t*\)right=%opportunisticgroup/\1esp=aes_gcm_16_128\n&/' "$T_DIR/n1/meshd.conf"
R=$(mesh_reload n1)
assert_contains "esp= change is no entry change" "reloaded: 0 added, 0 removed, 0 changed" "$R"
assert_contains "esp= change tears no SA down" "0 SAs torn down" "$R"
assert_eq "n1 <-> n2 SPIs kept across the esp= change" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
algs=$(json_strv "$(ts_sa n1 10.15.1.2)" algorithms)
echo "   live SA: $algs"
case "$algs" in *128*) fail "the live SA changed its algorithms: $algs" ;; *) ok "live SA keeps its algorithms ($algs)" ;; esac
ctl n1 down 10.15.1.2
wait_ike_sas 10 n1 0 || fail "n1 still has an IKE SA after down"
wait_until 10 sh -c "[ -z \"\$(ip -n '$(ns_of n1)' -o xfrm state | grep 'dst 10.15.1.2 ' | grep -v 'spi 0x00000000')\" ]"
ping_until 30 n1 10.15.1.2 || fail "10.15.1.2: no reply after down"
algs=$(json_strv "$(ts_sa n1 10.15.1.2)" algorithms)
echo "   new SA: $algs"
assert_contains "the new SA uses the new esp=" "128" "$algs"
keylen=$(ip -n "$(ns_of n1)" xfrm state | awk '/src 10.15.1.1 dst 10.15.1.2/ { f = 1 } f && /aead/ { print length($3); exit }')
assert_eq "kernel: AES-GCM key of 128 bits + salt (2+32+8 hex digits)" 42 "$keylen"

step "a broken config is refused"
cp "$T_DIR/n1/meshd.conf" "$T_DIR/n1/good.conf"
printf 'conn private\n\tnosuchkey=yes\n' >>"$T_DIR/n1/meshd.conf"
if ctl n1 reload >"$T_DIR/r.out" 2>"$T_DIR/r.err"; then fail "a broken config reloaded"
else ok "reload of a broken config exits $?"; fi
assert_contains "refusal names file:line" "$T_DIR/n1/meshd.conf:" "$(cat "$T_DIR/r.err")"
assert_contains "refusal says so" "reload refused" "$(cat "$T_DIR/r.err")"
R=$(ctl n1 --json reload 2>&1)
assert_contains "--json refusal" '"ok":false' "$R"
cp "$T_DIR/n1/good.conf" "$T_DIR/n1/meshd.conf"
ping_n n1 10.15.1.2 2 && ok "n2 still answers after the refused reload" || fail "n2 lost after a refused reload"
finish
