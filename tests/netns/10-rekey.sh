#!/bin/sh
# 10-rekey — Child SA and IKE SA rekeys under traffic, then idle expiry, on real ESP.
#
#   n1 10.15.1.1 ─┬─ br0   both: policies/private = 10.15.1.1 10.15.1.2, and
#   n2 10.15.1.2 ─┘        salifetime=16s ikelifetime=24s rekeymargin=4s rekeyfuzz=50%
#
# With those lifetimes the IKE initiator rekeys its Child SA 10-12 s after it is made (the
# responder would at 14 s) and its IKE SA 18-20 s after (ike_rekey.c): a daemon may stall
# for seconds under TCG without an SA running out. Asserts: a continuous ping n1 -> n2 (5
# a second for 44 s) crosses several Child SA rekeys and an IKE SA rekey (logged
# by both, the kernel's ESP SPIs change several times) and every echo is answered; the
# bridge capture shows ESP and not one cleartext ICMP echo between them; halfway
# trafficstatus lists one Child SA and status one established IKE SA on each side. Then,
# with no traffic, the SAs go at the next rekey moment ("expire unused IKE SA", both
# kernels empty, trafficstatus empty) and the next ping negotiates new ones.
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
MESH_CONN="salifetime=16s
ikelifetime=24s
rekeymargin=4s
rekeyfuzz=50%"
mesh_require

printf '10.15.1.1\n10.15.1.2\n' >"$MESH_POLICIES/private"
step "2 nodes, short lifetimes"
for i in 1 2; do mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }; done
mesh_up || { finish; exit 1; }
# (the capture first: under TCG starting it takes seconds, and an SA with no traffic for
# rekeymargin would rightly be deleted at its first rekey moment)
cap_start rekey || { finish; exit 1; }
ping_until 30 n1 10.15.1.2 || { fail "no SA n1 <-> n2"; finish; exit 1; }

step "continuous ping for 44 s across rekeys"
PING=$T_DIR/ping.out
nsx n1 ping -n -i 0.2 -c 220 -W 2 10.15.1.2 >"$PING" 2>&1 &
ping_pid=$!
# the SPIs n1's kernel holds for the pair, every 2 s or so; halfway, what an operator
# sees (the checks would race the idle expiry once the ping stops)
: >"$T_DIR/spis"
t0=$(t_now) seen=
two() { [ "$(esp_count n1 10.15.1.1 10.15.1.2)" = 2 ]; }
while kill -0 "$ping_pid" 2>/dev/null; do
	esp_spis n1 10.15.1.1 10.15.1.2 | tr ' ' '\n' >>"$T_DIR/spis"
	if [ -z "$seen" ] && [ "$(t_since "$t0" | cut -d. -f1)" -ge 16 ]; then
		seen=1
		step "halfway: trafficstatus, status, kernel"
		assert_eq "n1 trafficstatus: one Child SA" 1 "$(ts_count n1 10.15.1.2)"
		assert_eq "n2 trafficstatus: one Child SA" 1 "$(ts_count n2 10.15.1.1)"
		assert_contains "n1 status: one IKE SA" "established(1)" "$(ctl n1 status)"
		assert_contains "n2 status: one IKE SA" "established(1)" "$(ctl n2 status)"
		# (3 for the moment between a new pair going in and the old one's Delete)
		wait_until 5 two && ok "n1 kernel: one ESP SA each way" ||
			fail "n1 kernel: $(esp_count n1 10.15.1.1 10.15.1.2) ESP SAs for the pair"
	fi
	sleep 2
done
wait "$ping_pid"
cap_stop
step "ping done"
tail -n 2 "$PING"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$PING")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$PING")
assert_eq "every echo answered across the rekeys ($recv of $sent)" "$sent" "$recv"
nspi=$(sort -u "$T_DIR/spis" | grep -c .)
[ "$nspi" -ge 6 ] && ok "ESP SPIs changed: $nspi distinct SPIs seen (in and out)" ||
	fail "only $nspi distinct ESP SPIs seen during the ping"
L1=$(mesh_log n1) L2=$(mesh_log n2)
c1=$(printf '%s\n' "$L1" | grep -c 'Child SA #[0-9]* rekeyed as')
c2=$(printf '%s\n' "$L2" | grep -c 'Child SA #[0-9]* rekeyed as')
i1=$(printf '%s\n' "$L1" | grep -c 'IKE SA #[0-9]* rekeyed as')
i2=$(printf '%s\n' "$L2" | grep -c 'IKE SA #[0-9]* rekeyed as')
# (the two logs are read a moment apart: one may hold one more)
[ "$c1" -ge 3 ] && [ "$c2" -ge 3 ] && ok "Child SA rekeys: n1 $c1, n2 $c2" ||
	fail "Child SA rekeys: n1 $c1, n2 $c2 (want >= 3 each)"
[ "$i1" -ge 1 ] && [ "$i2" -ge 1 ] && ok "IKE SA rekeys: n1 $i1, n2 $i2" ||
	fail "IKE SA rekeys: n1 $i1, n2 $i2 (want >= 1 each)"
printf '%s\n' "$L1" | grep -E 'rekeyed as' | head -n 6
assert_only_esp rekey 10.15.1.1 10.15.1.2

step "idle: the SAs go at the next rekey moment"
t0=$(t_now)
gone() { [ "$(esp_count n1 10.15.1.1 10.15.1.2)" = 0 ] && [ "$(esp_count n2 10.15.1.1 10.15.1.2)" = 0 ]; }
if wait_until 60 gone; then ok "n1 and n2 kernels hold no ESP SA after $(t_since "$t0") s idle"
else fail "ESP SAs still there after 60 s idle"; fi
assert_contains "expire logged" "expire unused IKE SA" "$(mesh_log n1; mesh_log n2)"
assert_eq "n1 trafficstatus empty" 0 "$(ts_count n1 10.15.1.2)"
assert_contains "n1 status: no IKE SA" "IKE SAs: total(0)" "$(ctl n1 status)"

step "the next packet negotiates again"
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered again" || fail "no new SA after the idle expiry"
spi2=$(esp_spis n1 10.15.1.1 10.15.1.2)
grep -qx "$(echo "$spi2" | awk '{print $1}')" "$T_DIR/spis" && fail "new SA reuses an old SPI [$spi2]" ||
	ok "new SA [$spi2]"
if [ "$T_FAILS" -gt 0 ]; then
	echo "--- n1 log"; mesh_log n1 | tail -n 80
	echo "--- n2 log"; mesh_log n2 | tail -n 80
fi
finish
