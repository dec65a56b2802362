#!/bin/sh
# 07-reload-live-sas — meshctl reload with live SAs: unchanged entries keep their SAs.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┼─ br0     every node: policies/private = 10.15.1.2  10.15.1.3
#   n3 10.15.1.3 ─┘                       (and 10.15.1.1, so that n2 and n3 answer n1)
#
# Asserts: after SAs n1<->n2 and n1<->n3 exist, a comment-only edit reloads as a no-op and
# an edit that adds an unrelated entry leaves both SA pairs in the kernel with the same
# SPIs and traffic still in ESP; removing 10.15.1.3 from n1's private file removes only
# what belongs to that entry: the n1<->n2 SAs keep their SPIs.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
mesh_require

printf '# the mesh\n10.15.1.1\n10.15.1.2\n10.15.1.3\n' >"$MESH_POLICIES/private"
step "3 nodes"
for i in 1 2 3; do mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }; done
mesh_up || { finish; exit 1; }
step "SAs n1 <-> n2, n1 <-> n3"
ping_until 30 n1 10.15.1.2 || fail "10.15.1.2: no reply"
ping_until 30 n1 10.15.1.3 || fail "10.15.1.3: no reply"
xsnap n1
spi2=$(esp_spis n1 10.15.1.1 10.15.1.2) spi3=$(esp_spis n1 10.15.1.1 10.15.1.3)
xunsnap
[ -n "$spi2" ] && [ -n "$spi3" ] && ok "SAs up: n2 [$spi2] n3 [$spi3]" || fail "SAs missing: n2 [$spi2] n3 [$spi3]"
POL=$T_DIR/n1/policies

step "comment-only edit"
printf '# the mesh (reordered, commented)\n10.15.1.3  # n3\n10.15.1.2\n# n1\n10.15.1.1\n' >"$POL/private"
R=$(mesh_reload n1)
assert_contains "comment-only reload is a no-op" "reloaded: 0 added, 0 removed, 0 changed" "$R"

step "an unrelated entry added"
echo '10.15.1.9' >>"$POL/private"
echo '10.15.1.8' >"$POL/clear"
R=$(ctl n1 --json reload)
assert_contains "reload --json" '"ok":true,"added":2,"removed":0,"changed":0' "$R"
cap_start reload || { finish; exit 1; }
ping_n n1 10.15.1.2 3 && ok "n2 still answers" || fail "n2 lost after the reload"
ping_n n1 10.15.1.3 3 && ok "n3 still answers" || fail "n3 lost after the reload"
cap_stop
xsnap n1
assert_eq "n1 <-> n2 SAs kept (SPIs)" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
assert_eq "n1 <-> n3 SAs kept (SPIs)" "$spi3" "$(esp_spis n1 10.15.1.1 10.15.1.3)"
xunsnap
assert_only_esp reload 10.15.1.1 10.15.1.2
assert_only_esp reload 10.15.1.1 10.15.1.3
assert_eq "no IKE after the reload (no renegotiation)" 0 "$(cap_count reload udp port 500 or udp port 4500)"
assert_eq "trafficstatus still lists n2" 1 "$(ts_count n1 10.15.1.2)"

step "10.15.1.3 removed"
printf '10.15.1.1\n10.15.1.2\n10.15.1.9\n' >"$POL/private"
R=$(mesh_reload n1)
assert_contains "reload counts" "reloaded: 0 added, 1 removed, 0 changed" "$R"
xsnap n1
assert_eq "n1 <-> n2 SAs kept (SPIs)" "$spi2" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
# DESIGN 2.5 "removed entries tear down only their own SAs"
assert_eq "n1 <-> n3 SAs gone with their entry" "" "$(esp_spis n1 10.15.1.1 10.15.1.3)"
assert_contains "n1 <-> n2 ipsec policy kept" "out 10.15.1.1/32 10.15.1.2/32 any 0 0 ipsec" "$(xpol n1)"
xunsnap
ping_n n1 10.15.1.2 2 && ok "n2 still answers" || fail "n2 lost after removing n3's entry"
assert_eq "trafficstatus no longer lists n3" 0 "$(ts_count n1 10.15.1.3)"
finish
