#!/bin/sh
# daemon_signals.sh — meshd stops promptly and through its stop path, whatever else it is
# doing: on this machine's kernel (no ESP needed), in a private network namespace.
#
# The daemon runs with a %dnsondemand group, so it has a DNS worker thread: a thread that
# left SIGTERM unblocked took the signal with its default action (meshd died at once,
# without turning its traps into blocks or removing its SAs) and SIGHUP killed it instead
# of reloading. Asserts: every thread blocks SIGHUP/SIGINT/SIGTERM (they reach only the
# event loop's signalfd); SIGHUP reloads; a control client that dribbles its request (a
# byte every 0.3 s) holds the daemon up at most the control socket's 2 s bound (it was up
# to a second per byte, forever in effect), so another meshctl is answered and a SIGTERM
# sent meanwhile ends meshd within 6 s, through its stop path (the private entry is left
# blocked).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd nc
A=$(ns_new sig) || skip "cannot create network namespaces"

mkdir -p "$T_DIR/pol" "$T_DIR/nss"
echo 10.77.0.0/16 >"$T_DIR/pol/private"
echo "nameserver 127.0.0.1" >"$T_DIR/resolv.conf"
# (a trust anchor the resolver loads; nothing is ever asked: no peer negotiates here)
echo ". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D" \
	>"$T_DIR/anchor.ds"
"$MESHCTL" initnss --nssdir "sql:$T_DIR/nss" >/dev/null 2>&1 || skip "meshctl initnss failed"
cat >"$T_DIR/meshd.conf" <<EOF
config setup
	nssdir=sql:$T_DIR/nss
	dnssec-anchors=$T_DIR/anchor.ds
	resolv-conf=$T_DIR/resolv.conf

conn private
	auto=ondemand
	type=transport
	authby=rsasig
	failureshunt=drop
	negotiationshunt=drop
	left=%defaultroute
	leftcert=node
	leftrsasigkey=%cert
	right=%opportunisticgroup
	rightrsasigkey=%dnsondemand
EOF
start_meshd "$A" "$T_DIR/meshd.conf" "$T_DIR/pol" sig || { finish; exit 1; }
LOG=$T_DIR/sig.log
now() { awk '{ printf "%.2f\n", $1 }' /proc/uptime; }
since() { awk -v a="$1" '{ printf "%.1f\n", $1 - a }' /proc/uptime; }

tasks=$(ls "/proc/$MESHD_PID/task" | wc -l)
if [ "$tasks" -ge 2 ]; then ok "meshd runs $tasks threads (the DNS worker)"
else fail "meshd runs $tasks thread: no DNS worker, this test shows nothing"; fi
for t in /proc/"$MESHD_PID"/task/*; do
	blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$t/status")
	# SIGHUP 1, SIGINT 2, SIGTERM 15: bits 0, 1 and 14
	if [ $((0x$blk & 0x4003)) -eq $((0x4003)) ]; then
		ok "thread ${t##*/} blocks SIGHUP, SIGINT and SIGTERM (SigBlk $blk)"
	else
		fail "thread ${t##*/} leaves a stop/reload signal unblocked (SigBlk $blk)"
	fi
done

kill -HUP "$MESHD_PID"
if wait_for 10 grep -q 'SIGHUP: reloading' "$LOG" && "$MESHCTL" --ctlsocket "$CTL" ping >/dev/null 2>&1; then
	ok "SIGHUP reloads, and meshd still answers"
else
	fail "SIGHUP did not reload a running meshd"
	tail -n 5 "$LOG"
fi

# dribble: a control client that sends a byte every 0.3 s for 30 s
dribble() {
	( i=0; while [ $i -lt 100 ]; do printf p; sleep 0.3; i=$((i + 1)); done ) |
		timeout 40 nc -U "$CTL" >/dev/null 2>&1 &
	T_PIDS="$T_PIDS $!"
}
dribble
sleep 0.5
t0=$(now)
if timeout 20 "$MESHCTL" --ctlsocket "$CTL" ping >/dev/null 2>&1; then
	dt=$(since "$t0")
	if awk -v d="$dt" 'BEGIN { exit !(d < 6) }'; then
		ok "meshctl ping answered in $dt s while another client dribbles its request"
	else
		fail "meshctl ping took $dt s while another client dribbles its request"
	fi
else
	fail "meshctl ping got no answer within 20 s while another client dribbles its request"
fi
grep -q 'control: a client sent no complete request' "$LOG" &&
	ok "the dribbling client is logged and dropped" ||
	fail "no log line about the dribbling client"

dribble
sleep 0.5
t0=$(now)
kill -TERM "$MESHD_PID"
if wait_for 20 sh -c "! kill -0 $MESHD_PID"; then
	dt=$(since "$t0")
	if awk -v d="$dt" 'BEGIN { exit !(d < 6) }'; then
		ok "meshd exited $dt s after SIGTERM, a client dribbling meanwhile"
	else
		fail "meshd took $dt s to exit after SIGTERM (a client dribbling)"
	fi
else
	fail "meshd did not exit within 20 s of SIGTERM (a client dribbling)"
	grep -E '^(State|SigBlk)' "/proc/$MESHD_PID/status"
	cat "/proc/$MESHD_PID/wchan" 2>/dev/null; echo
fi
grep -q 'signal 15: stopping' "$LOG" && grep -q 'stopping: [0-9]* kernel policies stay' "$LOG" &&
	ok "SIGTERM went through the stop path (log: signal 15: stopping; kernel policies stay)" ||
	{ fail "SIGTERM did not go through the stop path"; tail -n 5 "$LOG"; }
out=$(ip -n "$A" xfrm policy list dst 10.77.0.0/16 dir out 2>/dev/null)
assert_contains "the private entry is left blocked" "action block" "$out"
finish
