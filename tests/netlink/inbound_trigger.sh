#!/bin/sh
# inbound_trigger.sh — the group-matrix cell east `private`, road `clear-or-private`
# (libreswan-oe.md 7.2) between two real meshd daemons: road talks first, in cleartext.
#
#   ns A "east" (meshd) a0 10.0.0.1/24 ---- veth ---- b0 10.0.0.2/24 ns B "road" (meshd)
#   A puts 10.0.0.2 in private; B puts 10.0.0.1 in clear-or-private (NULL auth, transport)
#
# B pings A in clear (clear-or-private installs nothing). A's table inet meshd drops the
# ping (private_dropped counts it) and its NFLOG rule reports it; A initiates to B as the
# ACQUIRE for its answer would (Libreswan's answer would hit the trap), B answers
# IKE_SA_INIT and IKE_AUTH. Then:
#   kernel without ESP (this machine): B fails to add the ESP SAs ("kernel has no ESP")
#     and answers NO_PROPOSAL_CHOSEN; A holds its drop failure shunt with that reason;
#     further cleartext from B starts no second attempt while that shunt lives;
#   kernel with ESP (tests/vm/run): both sides show the SA and B's pings are answered.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ping nft

A=$(ns_new a) && B=$(ns_new b) || skip "cannot create namespaces"
ip link add a0 netns "$A" type veth peer name b0 netns "$B" || skip "no veth support"
ip -n "$A" addr add 10.0.0.1/24 dev a0
ip -n "$B" addr add 10.0.0.2/24 dev b0
ip -n "$A" link set a0 up
ip -n "$B" link set b0 up

P=$(ns_new probe)
if ip -n "$P" xfrm state add src 10.9.9.1 dst 10.9.9.2 proto esp spi 0x100 mode transport \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324 128 \
	2>/dev/null; then
	ESP=yes
else
	ESP=no
fi
echo "# kernel ESP support: $ESP"
NOESP="kernel has no ESP|kernel refused the ESP SA"

for n in a b; do
	mkdir -p "$T_DIR/pol-$n"
	cat >"$T_DIR/$n.conf" <<'CONF'
config setup
	shuntlifetime=2m

conn private
	auto=ondemand
	type=transport
	authby=null
	leftid=%null
	rightid=%null
	failureshunt=drop
	negotiationshunt=drop
	left=%defaultroute
	retransmit-timeout=5s
	right=%opportunisticgroup

conn clear-or-private
	auto=add
	type=transport
	authby=null
	leftid=%null
	rightid=%null
	failureshunt=passthrough
	negotiationshunt=passthrough
	left=%defaultroute
	retransmit-timeout=5s
	right=%opportunisticgroup
CONF
done
echo 10.0.0.2/32 >"$T_DIR/pol-a/private"
echo 10.0.0.1/32 >"$T_DIR/pol-b/clear-or-private"

start_meshd "$A" "$T_DIR/a.conf" "$T_DIR/pol-a" a || { finish; exit 1; }
CTL_A=$CTL
start_meshd "$B" "$T_DIR/b.conf" "$T_DIR/pol-b" b || { finish; exit 1; }
CTL_B=$CTL
jnum() { printf '%s' "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | sed 's/.*://'; }
case "$("$MESHCTL" --ctlsocket "$CTL_A" status)" in
*"inbound trigger (NFLOG group"*) ok "A: the inbound trigger is on" ;;
*) "$MESHCTL" --ctlsocket "$CTL_A" status; skip "A: no inbound trigger here (no NFLOG in this kernel?)" ;;
esac

# road (B) talks first, in clear: 3 pings, 1 s apart
ip netns exec "$B" ping -n -q -c 3 -i 1 -W 1 10.0.0.1 >"$T_DIR/ping1.txt" 2>&1
if [ "$ESP" = yes ]; then
	wait_for 15 sh -c "'$MESHCTL' --ctlsocket '$CTL_B' trafficstatus | grep -q 10.0.0.1" || fail "no SA on B"
else
	wait_for 20 grep -qE "$NOESP" "$T_DIR/b.log" || fail "B never tried to install the SA"
	wait_for 10 grep -q "OE attempt failed" "$T_DIR/a.log" || fail "A's attempt did not end"
fi
LOG_A=$(cat "$T_DIR/a.log")
LOG_B=$(cat "$T_DIR/b.log")
assert_contains "A: initiated for B's dropped cleartext" \
	"\"private#10.0.0.2/32\" 10.0.0.1 -> 10.0.0.2: initiate on-demand for dropped inbound cleartext" "$LOG_A"
assert_contains "A: IKE_SA_INIT to B" "initiating IKEv2 to 10.0.0.2" "$LOG_A"
case "$LOG_B" in *"initiating IKEv2"*) fail "B initiated (clear-or-private never does)" ;;
*) ok "B only answered (clear-or-private)" ;; esac
J=$("$MESHCTL" --ctlsocket "$CTL_A" --json status)
[ "$(jnum "$J" private_dropped_packets)" -ge 1 ] && ok "A: B's cleartext was dropped and counted" ||
	fail "A: private_dropped_packets is $(jnum "$J" private_dropped_packets)"
assert_eq "A: one attempt" 1 "$(jnum "$J" attempts)"

if [ "$ESP" = yes ]; then
	assert_contains "A: trafficstatus shows B" "10.0.0.2" "$("$MESHCTL" --ctlsocket "$CTL_A" trafficstatus)"
	ip netns exec "$B" ping -n -q -c 3 -i 0.5 -W 2 10.0.0.1 >/dev/null 2>&1 &&
		ok "B's pings are answered through the SA" || fail "B's pings are not answered with the SA up"
else
	SH_A=$("$MESHCTL" --ctlsocket "$CTL_A" shuntstatus)
	assert_contains "A: failure shunt with B's answer" \
		"10.0.0.1/32 -0-> 10.0.0.2/32 => %drop    peer answered NO_PROPOSAL_CHOSEN" "$SH_A"
	assert_contains "A: why notes the trigger" \
		"note: cleartext from 10.0.0.2 to 10.0.0.1 dropped (group private): initiating to it" \
		"$("$MESHCTL" --ctlsocket "$CTL_A" why 10.0.0.2)"
	case "$LOG_B" in
	*"kernel has no ESP"*|*"kernel refused the ESP SA"*) ok "B: got through IKE_AUTH to the ESP SAs (the kernel's reason logged)" ;;
	*) fail "B: no kernel reason in its log" ;;
	esac
	# more cleartext while A's failure shunt lives: dropped, no second attempt
	ip netns exec "$B" ping -n -q -c 3 -i 0.3 -W 1 10.0.0.1 >/dev/null 2>&1 &&
		fail "B's cleartext was answered"
	sleep 0.5
	J2=$("$MESHCTL" --ctlsocket "$CTL_A" --json status)
	assert_eq "A: no second attempt while the failure shunt lives" 1 "$(jnum "$J2" attempts)"
	[ "$(jnum "$J2" private_dropped_packets)" -ge "$(( $(jnum "$J" private_dropped_packets) + 3 ))" ] &&
		ok "A: the later cleartext was dropped too" || fail "A: later cleartext not counted as dropped"
fi
finish
