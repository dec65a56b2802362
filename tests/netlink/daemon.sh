#!/bin/sh
# daemon.sh — meshd against this machine's real kernel, in a private network namespace.
#
#   ns A (meshd) a0 10.0.0.1/24 fd00::1/64 ---- b0 ns B (plain host, no meshd)
#        routes 10.20/16 10.30/16 10.40/16,          10.0.0.2, fd00::2 and every
#        2001:db8:30::/48 via B                       test address below as /32 /128
#
# Groups (overlaps both ways, IPv6, a port line):
#   clear    10.20.1.0/24   10.30.1.7   2001:db8:30::7
#   private  10.20.1.5      10.30.1.0/24   2001:db8:30::/48
#   block    10.30.1.8      2001:db8:30::8
#   private-or-clear  10.40.0.0/16   10.40.9.0/24 tcp 0 25
# Asserts: the exact kernel policies after start; priorities; packets to clear leave,
# to block are refused, cleartext from private is dropped and counted and makes meshd
# initiate to its sender (once per peer), to private raise an ACQUIRE, IKE_SA_INIT goes out (nobody answers:
# B runs no IKE) and the attempt ends in a failure shunt with its reason (shuntstatus,
# why); reload edits change exactly the expected policies;
# stop leaves private blocked (private-or-clear clear, nft table kept; no cleartext to a
# private address on the wire) and the next start replaces that in place (xfrm monitor:
# no group policy deleted); meshctl shutdown --flush and meshd --flush remove everything
# of meshd's and nothing else.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ping

A=$(ns_new a) && B=$(ns_new b) || skip "cannot create namespaces"
ip link add a0 netns "$A" type veth peer name b0 netns "$B" || skip "no veth support"
ip -n "$A" addr add 10.0.0.1/24 dev a0
ip -n "$A" addr add fd00::1/64 dev a0 nodad
ip -n "$B" addr add 10.0.0.2/24 dev b0
ip -n "$B" addr add fd00::2/64 dev b0 nodad
for a in 10.20.1.1 10.20.1.5 10.30.1.7 10.30.1.8 10.30.1.9 10.30.1.13 10.30.1.14 10.40.1.1; do
	ip -n "$B" addr add "$a/32" dev b0
done
for a in 2001:db8:30::7 2001:db8:30::8 2001:db8:30::9 2001:db8:30::13; do
	ip -n "$B" addr add "$a/128" dev b0 nodad
done
ip -n "$A" link set a0 up
ip -n "$B" link set b0 up
for p in 10.20.0.0/16 10.30.0.0/16 10.40.0.0/16; do ip -n "$A" route add "$p" via 10.0.0.2; done
ip -n "$A" -6 route add 2001:db8:30::/48 via fd00::2

CONF=$T_DIR/meshd.conf
POL=$T_DIR/policies
mkdir -p "$POL"
cat >"$CONF" <<'CONF'
config setup
	shuntlifetime=2m

conn clear
	auto=ondemand
	type=passthrough
	authby=never
	left=%defaultroute
	right=%group

conn block
	auto=ondemand
	type=drop
	authby=never
	left=%defaultroute
	right=%group

conn private
	auto=ondemand
	type=transport
	authby=null
	failureshunt=drop
	negotiationshunt=drop
	left=%defaultroute
	leftid=%null
	rightid=%null
	retransmit-timeout=3s
	right=%opportunisticgroup

conn private-or-clear
	auto=ondemand
	type=transport
	authby=null
	failureshunt=passthrough
	negotiationshunt=passthrough
	left=%defaultroute
	leftid=%null
	rightid=%null
	retransmit-timeout=3s
	right=%opportunisticgroup
CONF
printf '10.20.1.0/24\n10.30.1.7\n2001:db8:30::7\n' >"$POL/clear"
printf '# private peers\n10.20.1.5\n10.30.1.0/24\n2001:db8:30::/48\n' >"$POL/private"
printf '10.30.1.8\n2001:db8:30::8\n' >"$POL/block"
printf '10.40.0.0/16\n10.40.9.0/24 tcp 0 25\n' >"$POL/private-or-clear"

# meshctl check accepts the fixture, and rejects a bad line with file:line
if "$MESHCTL" check --config "$CONF" 2>"$T_DIR/check.err"; then ok "meshctl check accepts the fixture"
else fail "meshctl check rejected the fixture: $(cat "$T_DIR/check.err")"; fi
# (check reads policies-dir from the config; point it at ours)
printf '10.1.2.0/24\n10.1.2.300\n' >"$T_DIR/bad"
if "$MESHCTL" check --policy "$T_DIR/bad" 2>"$T_DIR/check.err"; then fail "check accepted a bad file"
else assert_contains "check names file:line" "$T_DIR/bad:2:" "$(cat "$T_DIR/check.err")"; fi

# a policy that is not meshd's must survive meshd's start and stop
ip -n "$A" xfrm policy add src 0.0.0.0/0 dst 192.0.2.99/32 dir out priority 1000 action block
FOREIGN="out 0.0.0.0/0 192.0.2.99/32 any 0 0 block"

start_meshd "$A" "$CONF" "$POL" a || { finish; exit 1; }
M=$MESHD_PID

mine() { pol_dump "$A" | grep -E ' (10\.(20|30|40)\.|2001:db8:30::)' ; }
EXPECTED="fwd 10.20.1.0/24 0.0.0.0/0 any 0 0 pass
fwd 10.30.1.7/32 0.0.0.0/0 any 0 0 pass
fwd 10.30.1.8/32 0.0.0.0/0 any 0 0 block
fwd 2001:db8:30::7/128 ::/0 any 0 0 pass
fwd 2001:db8:30::8/128 ::/0 any 0 0 block
in 10.20.1.0/24 0.0.0.0/0 any 0 0 pass
in 10.30.1.7/32 0.0.0.0/0 any 0 0 pass
in 10.30.1.8/32 0.0.0.0/0 any 0 0 block
in 2001:db8:30::7/128 ::/0 any 0 0 pass
in 2001:db8:30::8/128 ::/0 any 0 0 block
out 0.0.0.0/0 10.20.1.0/24 any 0 0 pass
out 0.0.0.0/0 10.20.1.5/32 any 0 0 trap
out 0.0.0.0/0 10.30.1.0/24 any 0 0 trap
out 0.0.0.0/0 10.30.1.7/32 any 0 0 pass
out 0.0.0.0/0 10.30.1.8/32 any 0 0 block
out 0.0.0.0/0 10.40.0.0/16 any 0 0 trap
out 0.0.0.0/0 10.40.9.0/24 tcp 0 25 trap
out ::/0 2001:db8:30::/48 any 0 0 trap
out ::/0 2001:db8:30::7/128 any 0 0 pass
out ::/0 2001:db8:30::8/128 any 0 0 block"
assert_eq "kernel policies after start" "$EXPECTED" "$(mine | sort)"
assert_contains "loopback is always clear" "out 0.0.0.0/0 127.0.0.0/8 any 0 0 pass" "$(pol_dump "$A")"
assert_contains "own address is always clear" "out 0.0.0.0/0 10.0.0.1/32 any 0 0 pass" "$(pol_dump "$A")"
assert_contains "foreign policy untouched by start" "$FOREIGN" "$(pol_dump "$A")"
assert_contains "IPv6 neighbour solicitations bypass traps" "in ::/0 ::/0 ipv6-icmp 135 0 pass" "$(pol_dump "$A")"
assert_contains "IPv6 neighbour advertisements bypass traps" "out ::/0 ::/0 ipv6-icmp 136 0 pass" "$(pol_dump "$A")"

p_clear32=$(pol_priority "$A" out 0.0.0.0/0 10.30.1.7/32)
p_priv24=$(pol_priority "$A" out 0.0.0.0/0 10.30.1.0/24)
p_priv32=$(pol_priority "$A" out 0.0.0.0/0 10.20.1.5/32)
p_clear24=$(pol_priority "$A" out 0.0.0.0/0 10.20.1.0/24)
p_port=$(pol_priority "$A" out 0.0.0.0/0 10.40.9.0/24)
p_poc16=$(pol_priority "$A" out 0.0.0.0/0 10.40.0.0/16)
[ "$p_clear32" -lt "$p_priv24" ] && ok "clear /32 outranks private /24" || fail "priority clear/32 $p_clear32 vs private/24 $p_priv24"
[ "$p_priv32" -lt "$p_clear24" ] && ok "private /32 outranks clear /24" || fail "priority private/32 $p_priv32 vs clear/24 $p_clear24"
[ "$p_port" -lt "$p_poc16" ] && ok "/24 port line outranks /16" || fail "priority port/24 $p_port vs /16 $p_poc16"

pingA() { ip netns exec "$A" ping -n -q -c 1 -W 1 "$@" >/dev/null 2>&1; }

# inbound: cleartext from a private peer is dropped and counted (nftables), from a clear
# peer it is not
if command -v nft >/dev/null; then
	T=$(ip netns exec "$A" nft list table inet meshd 2>&1)
	assert_contains "nft table with the private set" "set private4" "$T"
	# (10.30.1.14: cleartext from it starts a negotiation, see below)
	ip netns exec "$B" ping -n -q -c 1 -W 1 -I 10.30.1.14 10.0.0.1 >/dev/null 2>&1 &&
		fail "cleartext from private 10.30.1.14 reached us" || ok "cleartext from a private peer is dropped"
	ip netns exec "$B" ping -n -q -c 1 -W 1 -I 10.30.1.7 10.0.0.1 >/dev/null 2>&1 &&
		ok "cleartext from a clear /32 inside private passes" || fail "clear 10.30.1.7 could not reach us"
	J=$("$MESHCTL" --ctlsocket "$CTL" --json status)
	case "$J" in *'"enforced":true'*'"private_dropped_packets":0,'*) fail "drop not counted: $J" ;;
	*'"enforced":true'*) ok "inbound drop counted in status --json" ;; *) fail "inbound not enforced: $J" ;; esac
fi

pingA 10.20.1.1 && ok "clear /24 passes" || fail "ping to clear 10.20.1.1 failed"
pingA 10.30.1.7 && ok "clear /32 inside private /24 passes" || fail "ping to clear 10.30.1.7 failed"
# (IPv6 neighbour discovery may take the first try)
wait_for 5 ip netns exec "$A" ping -n -q -c 1 -W 1 -6 2001:db8:30::7 && ok "IPv6 clear /128 passes" || fail "ping to 2001:db8:30::7 failed"
out=$(ip netns exec "$A" ping -n -c 1 -W 1 10.30.1.8 2>&1)
assert_contains "block /32 is refused" "Operation not permitted" "$out"
out=$(ip netns exec "$A" ping -n -c 1 -W 1 -6 2001:db8:30::8 2>&1)
assert_contains "IPv6 block /128 is refused" "Operation not permitted" "$out"

# inbound trigger: cleartext from a private peer with no SA is dropped, and meshd initiates
# to it as an ACQUIRE for it would (its NFLOG rule reports the drop); more cleartext from
# it while that attempt or its failure shunt lives starts nothing more
jnum() { printf '%s' "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | sed 's/.*://'; }
if command -v nft >/dev/null; then
	assert_contains "nft: rate-limited NFLOG rule before the private drop" \
		"ip saddr @private4 limit rate 20/second burst 40 packets log group 28005" \
		"$(ip netns exec "$A" nft list table inet meshd)"
	J0=$("$MESHCTL" --ctlsocket "$CTL" --json status)
	ip netns exec "$B" ping -n -q -c 4 -i 0.2 -W 1 -I 10.30.1.13 10.0.0.1 >/dev/null 2>&1 &&
		fail "cleartext from private 10.30.1.13 was answered"
	wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.0.0.1/32 -0-> 10.30.1.13/32 => %drop'" &&
		ok "cleartext from private 10.30.1.13 made meshd initiate to it (shunt)" ||
		fail "no negotiation toward 10.30.1.13 after its cleartext: $(tail -n 5 "$T_DIR/a.log")"
	assert_contains "log: initiate on-demand for the dropped cleartext" \
		"\"private#10.30.1.0/24\" 10.0.0.1 -> 10.30.1.13: initiate on-demand for dropped inbound cleartext ($POL/private:3)" \
		"$(cat "$T_DIR/a.log")"
	assert_contains "log: IKE_SA_INIT to the sender" "...10.30.1.13 #" "$(grep 'initiating IKEv2 to 10.30.1.13' "$T_DIR/a.log")"
	assert_contains "why notes the trigger" "note: cleartext from 10.30.1.13 to 10.0.0.1 dropped (group private): initiating to it" \
		"$("$MESHCTL" --ctlsocket "$CTL" why 10.30.1.13)"
	J1=$("$MESHCTL" --ctlsocket "$CTL" --json status)
	d=$(( $(jnum "$J1" private_dropped_packets) - $(jnum "$J0" private_dropped_packets) ))
	[ "$d" -ge 4 ] && ok "the 4 cleartext pings were dropped and counted ($d)" || fail "private_dropped grew by $d, not 4"
	d=$(( $(jnum "$J1" attempts) - $(jnum "$J0" attempts) ))
	assert_eq "4 dropped pings started exactly one attempt" 1 "$d"
	t=$(( $(jnum "$J1" trigger_packets) - $(jnum "$J0" trigger_packets) ))
	i=$(( $(jnum "$J1" trigger_ignored) - $(jnum "$J0" trigger_ignored) ))
	[ "$t" -ge 4 ] && [ "$i" -eq $((t - 1)) ] && ok "trigger: $t reported, $i ignored (the pair was busy)" ||
		fail "trigger: $t reported, $i ignored (want >= 4, reported - 1)"
	ip netns exec "$B" ping -n -q -c 1 -W 1 -I 2001:db8:30::13 fd00::1 >/dev/null 2>&1 &&
		fail "cleartext from private 2001:db8:30::13 was answered"
	wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q 'fd00::1/128 -0-> 2001:db8:30::13/128 => %drop'" &&
		ok "IPv6: cleartext from a private peer made meshd initiate to it" || fail "no negotiation toward 2001:db8:30::13"
	assert_contains "status shows the trigger" "inbound trigger (NFLOG group 28005):" "$("$MESHCTL" --ctlsocket "$CTL" status)"
fi

# private: the first packet raises an ACQUIRE and is lost; meshd sends IKE_SA_INIT (B runs
# no IKE) under the drop negotiation shunt, and after retransmit-timeout=3s the attempt
# ends in the drop failure shunt with its reason (3 s: long enough to see it negotiating
# on a loaded machine)
REASON="no response to IKE_SA_INIT after 3 s"
pingA 10.30.1.9 && fail "ping to private 10.30.1.9 passed in clear"
wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.30.1.9/32 => %drop    oe-negotiating'" &&
	ok "negotiation shunt while IKE runs" || fail "no negotiation shunt for 10.30.1.9"
wait_for 8 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.30.1.9/32 => %drop    no response'" || fail "no failure shunt for 10.30.1.9"
SHUNTS=$("$MESHCTL" --ctlsocket "$CTL" shuntstatus)
assert_contains "shuntstatus line (private)" "10.0.0.1/32 -0-> 10.30.1.9/32 => %drop    $REASON" "$SHUNTS"
pingA 10.30.1.9 && fail "ping to private 10.30.1.9 passed while the drop shunt is up"
WHY=$("$MESHCTL" --ctlsocket "$CTL" why 10.30.1.9)
assert_contains "why names group and file:line" "group private (private), entry 10.30.1.0/24 at $POL/private:3" "$WHY"
assert_contains "why gives the reason" "failure shunt %drop" "$WHY"
assert_contains "why gives the reason (text)" "$REASON" "$WHY"
assert_contains "shunt policy in the kernel" "out 10.0.0.1/32 10.30.1.9/32 any 0 0 block" "$(pol_dump "$A")"

# a UDP datagram (not only ICMP) to a private address raises the ACQUIRE too
if command -v nc >/dev/null; then
	ip netns exec "$A" sh -c 'echo probe | nc -u -w1 10.30.1.11 9' >/dev/null 2>&1
	wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.30.1.11/32 => %drop'" &&
		ok "a UDP datagram to a private address starts a negotiation" || fail "no shunt after a UDP datagram to 10.30.1.11"
fi

# a private /32 inside a clear /24, IPv6 private, and private-or-clear, all at once
pingA 10.20.1.5
pingA -6 2001:db8:30::9
pingA 10.40.1.1
# private-or-clear negotiates under a pass shunt: cleartext flows while IKE runs
wait_for 5 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.40.1.1/32 => %pass    oe-negotiating'" || fail "no pass negotiation shunt for 10.40.1.1"
pingA 10.40.1.1 && ok "private-or-clear passes while negotiating" || fail "ping to 10.40.1.1 failed under the pass negotiation shunt"
wait_for 8 sh -c "'$MESHCTL' --ctlsocket '$CTL' shuntstatus | grep -q '10.40.1.1/32 => %pass    no response'" || fail "no failure shunt for 10.40.1.1"
SHUNTS=$("$MESHCTL" --ctlsocket "$CTL" shuntstatus)
assert_contains "shunt for private inside clear" "10.0.0.1/32 -0-> 10.20.1.5/32 => %drop    $REASON" "$SHUNTS"
assert_contains "IPv6 shunt" "fd00::1/128 -0-> 2001:db8:30::9/128 => %drop    $REASON" "$SHUNTS"
assert_contains "shuntstatus line (private-or-clear)" "10.0.0.1/32 -0-> 10.40.1.1/32 => %pass    $REASON" "$SHUNTS"
pingA 10.40.1.1 && ok "private-or-clear falls back to clear" || fail "ping to 10.40.1.1 failed after the pass shunt"

JSON=$("$MESHCTL" --ctlsocket "$CTL" --json shuntstatus)
assert_contains "shuntstatus --json" "\"remote\":\"10.40.1.1/32\",\"protocol\":0,\"local_port\":0,\"remote_port\":0,\"action\":\"pass\",\"kind\":\"failure\",\"group\":\"private-or-clear\",\"reason\":\"$REASON\"" "$JSON"

# ---- reload ----
snap() { mine | sort >"$T_DIR/$1"; }
snap before
# comment-only edit and reorder: no change at all
printf '# blocked\n2001:db8:30::8\n# again\n10.30.1.8   # trailing comment\n' >"$POL/block"
R=$("$MESHCTL" --ctlsocket "$CTL" reload)
assert_contains "reload after comment/reorder edit" "reloaded: 0 added, 0 removed, 0 changed" "$R"
snap after1
assert_eq "comment/reorder edit changes no policy" "$(cat "$T_DIR/before")" "$(cat "$T_DIR/after1")"
# append one line and remove another
printf '# private peers\n10.20.1.5\n10.30.1.0/24\n2001:db8:30::/48\n10.30.2.0/24\n' >"$POL/private"
printf '10.20.1.0/24\n2001:db8:30::7\n' >"$POL/clear"
R=$("$MESHCTL" --ctlsocket "$CTL" reload)
assert_contains "reload counts" "reloaded: 1 added, 1 removed, 0 changed" "$R"
snap after2
DIFF=$(diff "$T_DIR/before" "$T_DIR/after2" | grep '^[<>]')
assert_eq "reload changes exactly the edited entries" "< fwd 10.30.1.7/32 0.0.0.0/0 any 0 0 pass
< in 10.30.1.7/32 0.0.0.0/0 any 0 0 pass
< out 0.0.0.0/0 10.30.1.7/32 any 0 0 pass
> out 0.0.0.0/0 10.30.2.0/24 any 0 0 trap" "$DIFF"
# move block -> clear
printf '2001:db8:30::8\n' >"$POL/block"
printf '10.20.1.0/24\n2001:db8:30::7\n10.30.1.8\n' >"$POL/clear"
R=$("$MESHCTL" --ctlsocket "$CTL" --json reload)
assert_contains "reload --json" '"ok":true,"added":0,"removed":0,"changed":1' "$R"
assert_contains "moved entry is now pass" "out 0.0.0.0/0 10.30.1.8/32 any 0 0 pass" "$(pol_dump "$A")"
pingA 10.30.1.8 && ok "moved entry passes traffic" || fail "ping to 10.30.1.8 failed after moving it to clear"
# a broken config is refused and nothing changes
cp "$CONF" "$T_DIR/good.conf"
printf 'conn private\n\tnosuchkey=yes\n' >>"$CONF"
snap before3
"$MESHCTL" --ctlsocket "$CTL" reload >/dev/null 2>"$T_DIR/reload.err" && fail "reload with a broken config succeeded"
assert_contains "broken reload refused" "reload refused" "$(cat "$T_DIR/reload.err")"
snap after3
assert_eq "broken reload changes nothing" "$(cat "$T_DIR/before3")" "$(cat "$T_DIR/after3")"
cp "$T_DIR/good.conf" "$CONF"

# SIGHUP reloads too
printf '10.20.1.0/24\n2001:db8:30::7\n10.30.1.8\n10.30.3.3\n' >"$POL/clear"
kill -HUP "$M"
wait_for 5 sh -c "ip -n '$A' -o xfrm policy | grep -q 10.30.3.3/32" && ok "SIGHUP reloads" || fail "SIGHUP did not reload"

# ---- stop: private stays blocked until the next meshd owns the kernel (DESIGN 2.5) ----
# (a shunt to show that per-peer state goes while the group entries stay)
pingA 10.30.1.12
wait_for 5 sh -c "ip -n '$A' -o xfrm policy | grep -q 'dst 10.30.1.12/32'" || fail "no shunt before the stop"
stop_meshd "$M"
assert_contains "stop logs what stays" "private blocked" "$(cat "$T_DIR/a.log")"
D=$(mine | sort)
assert_contains "stop: private trap becomes block" "out 0.0.0.0/0 10.30.1.0/24 any 0 0 block" "$D"
assert_contains "stop: private /32 inside clear becomes block" "out 0.0.0.0/0 10.20.1.5/32 any 0 0 block" "$D"
assert_contains "stop: IPv6 private becomes block" "out ::/0 2001:db8:30::/48 any 0 0 block" "$D"
assert_contains "stop: private-or-clear becomes pass (its fallback)" "out 0.0.0.0/0 10.40.0.0/16 any 0 0 pass" "$D"
assert_contains "stop: clear stays pass" "out 0.0.0.0/0 10.20.1.0/24 any 0 0 pass" "$D"
assert_contains "stop: block stays block" "in 2001:db8:30::8/128 ::/0 any 0 0 block" "$D"
case "$D" in *" trap"*) fail "a trap survived the stop: $D" ;; *) ok "no trap left at stop (no ACQUIRE for nobody)" ;; esac
case "$(pol_dump "$A")" in *"10.0.0.1/32 10.30.1.12/32"*) fail "shunt left at stop" ;; *) ok "shunts removed at stop" ;; esac
assert_contains "foreign policy untouched by stop" "$FOREIGN" "$(pol_dump "$A")"
if command -v nft >/dev/null; then
	ip netns exec "$A" nft list table inet meshd >/dev/null 2>&1 && ok "nft inbound table kept at stop" || fail "nft table removed at stop"
	ip netns exec "$B" ping -n -q -c 1 -W 1 -I 10.30.1.9 10.0.0.1 >/dev/null 2>&1 &&
		fail "cleartext from private 10.30.1.9 reached us while meshd is stopped" || ok "cleartext from a private peer is dropped while stopped"
fi
if command -v tcpdump >/dev/null; then
	ip netns exec "$B" tcpdump -n -i b0 -U --immediate-mode -w "$T_DIR/stopped.pcap" icmp >"$T_DIR/stopped.log" 2>&1 &
	CAPB=$!
	T_PIDS="$T_PIDS $CAPB"
	wait_for 10 grep -q "listening on" "$T_DIR/stopped.log"
	out=$(ip netns exec "$A" ping -n -c 1 -W 1 10.30.1.9 2>&1)
	assert_contains "ping to private while stopped is refused" "Operation not permitted" "$out"
	ip netns exec "$A" ping -n -c 1 -W 1 -6 2001:db8:30::9 >/dev/null 2>&1 && fail "IPv6 private passed while stopped"
	pingA 10.40.1.1 && ok "private-or-clear passes in clear while stopped" || fail "ping to 10.40.1.1 failed while stopped"
	sleep 0.3
	kill -INT "$CAPB"; wait "$CAPB" 2>/dev/null
	n=$(tcpdump -n -r "$T_DIR/stopped.pcap" 'icmp and host 10.30.1.9' 2>/dev/null | grep -c .)
	assert_eq "no cleartext to private on the wire while stopped" 0 "$n"
	n=$(tcpdump -n -r "$T_DIR/stopped.pcap" 'icmp and host 10.40.1.1' 2>/dev/null | grep -c .)
	[ "$n" -gt 0 ] && ok "capture works (private-or-clear echo seen: $n)" || fail "capture saw nothing"
fi

# ---- restart: the new daemon replaces the blocks in place (no moment without a policy) ----
ip -n "$A" xfrm monitor policy >"$T_DIR/monitor.txt" 2>&1 &
MON=$!
T_PIDS="$T_PIDS $MON"
sleep 0.3
start_meshd "$A" "$CONF" "$POL" a1 || { finish; exit 1; }
M=$MESHD_PID
sleep 0.3
kill "$MON"; wait "$MON" 2>/dev/null
D=$(mine | sort)
assert_contains "restart: private trap back" "out 0.0.0.0/0 10.30.1.0/24 any 0 0 trap" "$D"
assert_contains "restart: private-or-clear trap back" "out 0.0.0.0/0 10.40.0.0/16 any 0 0 trap" "$D"
assert_contains "restart replaced the block in place" "10.30.1.0/24" "$(grep -i updated "$T_DIR/monitor.txt")"
assert_eq "restart deleted none of the group policies" "" "$(grep -i '^deleted' "$T_DIR/monitor.txt" | grep -E 'dst (10\.(20|30|40)\.|2001:db8:30::)' | grep -v 'dst 10\.0\.0\.1/32')"
# a second meshd on the same control socket touches nothing
ip netns exec "$A" "$MESHD" --flush --config "$CONF" --ctlsocket "$CTL" >/dev/null 2>"$T_DIR/flush.err" &&
	fail "meshd --flush ran while meshd is running"
assert_contains "meshd --flush refuses while meshd runs" "meshd is running" "$(cat "$T_DIR/flush.err")"
assert_contains "the running meshd's policies are intact" "out 0.0.0.0/0 10.30.1.0/24 any 0 0 trap" "$(pol_dump "$A")"

# ---- meshctl shutdown --flush: everything goes (uninstalling, disabling) ----
R=$("$MESHCTL" --ctlsocket "$CTL" shutdown --flush)
assert_contains "shutdown --flush answers" "removing all" "$R"
wait_for 10 sh -c "! kill -0 $M" || fail "meshd did not stop on shutdown --flush"
wait "$M" 2>/dev/null
assert_eq "shutdown --flush leaves only the foreign policy" "$FOREIGN" "$(pol_dump "$A")"
if command -v nft >/dev/null; then
	ip netns exec "$A" nft list table inet meshd >/dev/null 2>&1 && fail "nft table left after shutdown --flush" || ok "nft table removed by shutdown --flush"
fi

# ---- a crash leaves state that the next start replaces ----
start_meshd "$A" "$CONF" "$POL" a2 || { finish; exit 1; }
# (a fresh address: the kernel sends no second ACQUIRE for a flow while its larval
# state from the first one lives, 30 s by default)
pingA 10.30.1.10
wait_for 5 sh -c "ip -n '$A' -o xfrm policy | grep -q 'src 10.0.0.1/32 dst 10.30.1.10/32'" || fail "no shunt before the crash"
kill -9 "$MESHD_PID"; wait "$MESHD_PID" 2>/dev/null
assert_contains "a killed meshd leaves its policies" "out 0.0.0.0/0 10.30.2.0/24 any 0 0 trap" "$(pol_dump "$A")"
printf '# private peers\n10.20.1.5\n10.30.1.0/24\n2001:db8:30::/48\n' >"$POL/private"
start_meshd "$A" "$CONF" "$POL" a3 || { finish; exit 1; }
D=$(pol_dump "$A")
case "$D" in *10.30.2.0/24*) fail "stale trap of a removed entry survived the restart" ;; *) ok "stale entry removed at start" ;; esac
case "$D" in *"10.0.0.1/32 10.30.1.10/32"*) fail "stale shunt survived the restart" ;; *) ok "stale shunt removed at start" ;; esac
assert_contains "foreign policy survives a restart" "$FOREIGN" "$D"
assert_contains "current entries installed" "out 0.0.0.0/0 10.30.1.0/24 any 0 0 trap" "$D"
stop_meshd "$MESHD_PID"
assert_contains "stop after restart keeps private blocked" "out 0.0.0.0/0 10.30.1.0/24 any 0 0 block" "$(pol_dump "$A")"
# ---- meshd --flush: what a stopped meshd left goes ----
ip netns exec "$A" "$MESHD" --flush --config "$CONF" --ctlsocket "$CTL" 2>"$T_DIR/flush.err" && ok "meshd --flush" ||
	fail "meshd --flush failed: $(cat "$T_DIR/flush.err")"
assert_eq "meshd --flush leaves only the foreign policy" "$FOREIGN" "$(pol_dump "$A")"
if command -v nft >/dev/null; then
	ip netns exec "$A" nft list table inet meshd >/dev/null 2>&1 && fail "nft table left after meshd --flush" || ok "nft table removed by meshd --flush"
fi

finish
