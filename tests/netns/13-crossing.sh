#!/bin/sh
# 13-crossing — crossing streams in a mesh: N nodes (default 10) all send to each other at
# the same moment, so pairs trigger on both ends at once and both initiate. Repeated over
# R rounds (default 20), every daemon restarted (SIGTERM, then started again) between
# rounds.
# scenario-timeout: 2400
#
#   n1 10.15.1.1 ... nN 10.15.1.N  ── br0        private = 10.15.0.0/16
#
# The trigger: every node sends one UDP datagram to every other node (bash /dev/udp, one
# process per node, all released by one FIFO), peers in ascending order in odd rounds and
# descending in even ones. Each round then asserts, from `meshctl trafficstatus --json` on
# every node: each unordered pair {a, b} has exactly one Child SA on a and exactly one on
# b, a's spi-out is b's spi-in and back (one working pair, not two half pairs: Libreswan
# #1903/#2184/#1635); after a second burst of datagrams both ends of every pair count
# bytes in and out on that SA (traffic flows both ways through it); and a ring of pings
# (each node to the next) is answered. The number of crossings the daemons
# settled ("crossing streams: ... deleting ours") is printed per round.
# MESH_CROSS_NODES / MESH_CROSS_ROUNDS change N / R.
#
# Every wait is bounded and says what was stuck when it runs out (lib.sh: mesh_wait_exit,
# ctl, mesh_diag). The hang once seen in CI (issue #8: round 2, a loaded machine, no
# output and an idle guest) was this script's own FIFO release: the writer opened the FIFO
# write-only, so when the first sender had read its line and closed before the other
# senders had opened it, the next `echo go` had no reader and SIGPIPE killed the script,
# leaving the late senders blocked for ever in open() with the suite's output pipe open
# (tee waited on them). On a quiet machine all ten had opened it before the write. The
# FIFO is now opened read-write (no SIGPIPE, no blocking open), the senders' output does
# not go to the suite's pipe, and a watchdog ends senders that are still there after 60 s.
# Each process costs up to a second in a loaded TCG guest, so a round spawns as few as it
# can and asks the ten daemons at once (one meshctl per node per look, one awk for all).
. "$(dirname "$0")/lib.sh"
mesh_require
require_cmd bash
N=${MESH_CROSS_NODES:-10}
R=${MESH_CROSS_ROUNDS:-20}

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
# a TCG guest running N daemons at once can starve one for seconds: the point here is how
# crossing negotiations settle, not the retransmit budget, so give them room
MESH_CONN="retransmit-timeout=30s"
step "$N nodes"
i=1
while [ "$i" -le "$N" ]; do
	mesh_node "n$i" "10.15.1.$i" || { finish; exit 1; }
	i=$((i + 1))
done
mesh_up || { finish; exit 1; }
NODES=$(i=1; while [ "$i" -le "$N" ]; do printf 'n%s ' "$i"; i=$((i + 1)); done)
# PEERS_asc_nX / PEERS_desc_nX: every other node's address, ascending or descending
for n in $NODES; do
	_a= _d=
	for o in $NODES; do
		[ "$o" = "$n" ] && continue
		_a="$_a 10.15.1.${o#n}"
		_d="10.15.1.${o#n} $_d"
	done
	eval "PEERS_asc_$n=\$_a; PEERS_desc_$n=\$_d"
done
# t_diff A B: B - A for two t_now readings, one decimal
t_diff() { _x=$(( ${2%.*}${2#*.} - ${1%.*}${1#*.} )); printf '%d.%d' $((_x / 100)) $((_x % 100 / 10)); }

# restart_all: every meshd stopped (SIGTERM) and started again (its log appended to).
# Bounded: a meshd that has not exited MESH_STOP_TIMEOUT s after the SIGTERM gets a stall
# report (what it is blocked in), a failed check and kill -9.
restart_all() {
	for n in $NODES; do eval "kill \$PID_$n" 2>/dev/null; done
	_ts=$(t_now)
	for n in $NODES; do mesh_wait_exit "$n" || return 1; done
	echo "# all $N daemons exited $(t_since "$_ts") s after SIGTERM"
	for n in $NODES; do mesh_start "$n"; done
	mesh_up
}

# senders ORDER COUNT [FIFO [RING]]: every node sends COUNT UDP datagrams (port 9) to every
# peer (no process per datagram: bash's /dev/udp), each node's sender waiting first for a
# line from FIFO if there is one, and with RING=1 then pinging its next neighbour once (a
# lost ping is written to $T_DIR/lost.NODE); their PIDs in SENDERS. Their output does not
# go to the suite's pipe: nothing left behind can keep it open.
senders() {
	SENDERS=
	[ "${4:-}" = 1 ] && rm -f "$T_DIR"/lost.n*
	for n in $NODES; do
		_r=
		[ "${4:-}" = 1 ] && _r="10.15.1.$((${n#n} % N + 1))"
		ip netns exec "$(ns_of "$n")" bash -c '
			[ -n "$1" ] && read -r _ <"$1"
			f=$2 c=$3 lost=$4; shift 4
			for p; do for ((i = 0; i < c; i++)); do echo x >"/dev/udp/$p/9"; done; done 2>/dev/null
			[ -z "$f" ] || ping -n -q -c 1 -W 5 -w 10 "$f" >/dev/null 2>&1 || echo "${lost##*.} -> $f" >"$lost"
			true' burst "${3:-}" "$_r" "$2" "$T_DIR/lost.$n" $(eval "echo \$PEERS_$1_$n") >/dev/null 2>&1 &
		SENDERS="$SENDERS $!"
	done
}
# reap PIDS...: wait for these children, at most 60 s (a watchdog ends them then)
reap() {
	( sleep 60 && kill "$@" ) >/dev/null 2>&1 &
	_wd=$!
	for _p; do
		wait "$_p" || echo "# a sender ended with status $? (143: ended by the 60 s watchdog)"
	done
	kill "$_wd" 2>/dev/null
}
# burst FIFO ORDER: every node sends one datagram to every peer, all nodes released by one
# write to FIFO, so their first datagrams leave together
burst() {
	rm -f "$1"
	mkfifo "$1" || { fail "mkfifo $1"; return 1; }
	senders "$2" 1 "$1"
	sleep 1
	# Read-write: opening never blocks, and with our own read end a write never meets a
	# FIFO without readers (SIGPIPE); a sender that opens late still finds its line.
	exec 3<>"$1"
	for n in $NODES; do echo go >&3; done
	reap $SENDERS
	exec 3>&-
	rm -f "$1"
}

# ts_all [--json]: every node's trafficstatus, asked of all nodes at once (each meshctl
# costs up to a second in a loaded guest), into $T_DIR/ts.NODE; a node that does not
# answer within MESH_CTL_TIMEOUT gets a stall report (on stderr) and an empty file
ts_all() {
	_pids=
	for n in $NODES; do
		ctl "$n" "$@" trafficstatus >"$T_DIR/ts.$n" 2>"$T_DIR/ts-err.$n" &
		_pids="$_pids $!"
	done
	for _p in $_pids; do wait "$_p"; done
	cat "$T_DIR"/ts-err.n* >&2
}
# n_sas: the Child SAs all nodes list in trafficstatus
n_sas() { ts_all; cat "$T_DIR"/ts.n* | grep -c 'type=ESP'; }

# sa_table: "ME PEER SPI-IN SPI-OUT BYTES-IN BYTES-OUT" for every Child SA of every node
# (each node's trafficstatus --json on a line after its address; one awk for all)
sa_table() {
	ts_all --json
	for n in $NODES; do echo "10.15.1.${n#n} $(cat "$T_DIR/ts.$n")"; done | awk '
		function s(e, k) { return match(e, "\"" k "\":\"[^\"]*\"") ? substr(e, RSTART + length(k) + 4, RLENGTH - length(k) - 5) : "-" }
		function v(e, k) { return match(e, "\"" k "\":[0-9]+") ? substr(e, RSTART + length(k) + 3, RLENGTH - length(k) - 3) : "-" }
		function one(e) { if (e != "") print me, s(e, "remote-host"), s(e, "spi-in"), s(e, "spi-out"), v(e, "bytes-in"), v(e, "bytes-out") }
		{
			me = $1
			i0 = index($0, "\"sas\":[")
			if (!i0) next
			d = 0; inq = 0; out = ""
			for (i = i0 + 7; i <= length($0); i++) {
				c = substr($0, i, 1)
				if (inq) { out = out c; if (c == "\\") { i++; out = out substr($0, i, 1) } else if (c == "\"") inq = 0; continue }
				if (c == "\"") { inq = 1; out = out c; continue }
				if (d == 0 && c == "]") break
				if (c == "{" || c == "[") d++
				if (c == "}" || c == "]") d--
				if (d == 0 && c == ",") { one(out); out = ""; continue }
				out = out c
			}
			one(out)
		}'
}

# check_pairs TABLE BYTES: one line per pair that is not exactly one matching SA pair (and,
# with BYTES=1, that did not count traffic both ways on both ends)
check_pairs() {
	echo "$1" | awk -v n="$N" -v bytes="$2" '
		NF == 6 { k = $1 " " $2; cnt[k]++; in_[k] = $3; out[k] = $4; bi[k] = $5; bo[k] = $6 }
		END {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
				a = "10.15.1." i; b = "10.15.1." j; ab = a " " b; ba = b " " a
				if (cnt[ab] != 1 || cnt[ba] != 1)
					print a, b, "Child SAs:", cnt[ab] + 0, "on", a ",", cnt[ba] + 0, "on", b
				else if (out[ab] != in_[ba] || in_[ab] != out[ba])
					print a, b, "SPIs do not match:", a, "in", in_[ab], "out", out[ab] ";", b, "in", in_[ba], "out", out[ba]
				else if (bytes && (bi[ab] + 0 == 0 || bo[ab] + 0 == 0 || bi[ba] + 0 == 0 || bo[ba] + 0 == 0))
					print a, b, "no traffic both ways: bytes in/out", bi[ab], bo[ab], "on", a ";", bi[ba], bo[ba], "on", b
			}
		}'
}

pairs=$((N * (N - 1) / 2))
bad_rounds=0
crossings=0
# crossings so far, from every node's log (appended to across restarts)
n_crossed() { cat "$T_DIR"/n*/meshd.log | grep -c 'crossing streams: .*deleting ours'; }
total0=$(t_now)
r=1
while [ "$r" -le "$R" ]; do
	t0=$(t_now)
	c0=$(n_crossed)
	[ "$r" -gt 1 ] && { restart_all || { fail "round $r: daemons did not come back"; break; }; }
	t1=$(t_now)
	step "round $r"
	order=asc
	[ $((r % 2)) -eq 0 ] && order=desc
	burst "$T_DIR/go" "$order"
	# settle: until every node lists one SA per peer (a crossing loser is being deleted)
	settle_end=$(( $(up_s) + 60 ))
	until [ "$(n_sas)" -eq $((N * (N - 1))) ]; do
		[ "$(up_s)" -ge "$settle_end" ] && {
			echo "# round $r: not every node lists $((N - 1)) SAs after 60 s"; break; }
		sleep 1
	done
	t2=$(t_now)
	# traffic both ways on every pair (no need to leave together now), then a ring of
	# pings, each node to the next (request one way, reply the other), all at once
	senders "$order" 3 "" 1
	reap $SENDERS
	lost=$(cat "$T_DIR"/lost.n* 2>/dev/null)
	bad=$(check_pairs "$(sa_table)" 1)
	crossed=$(( $(n_crossed) - c0 ))
	crossings=$((crossings + crossed))
	if [ -z "$bad" ] && [ -z "$lost" ]; then
		ok "round $r ($order): $pairs pairs, each one matching Child SA pair carrying traffic both ways, $N ring pings answered; $crossed crossings settled (restart $(t_diff "$t0" "$t1") s, negotiation $(t_diff "$t1" "$t2") s, round $(t_diff "$t0" "$(t_now)") s)"
	else
		bad_rounds=$((bad_rounds + 1))
		fail "round $r ($order): $(echo "$bad" | grep -c .) bad pairs, pings lost: $(echo "$lost" | grep -c .) ($crossed crossings)"
		echo "$bad" | head -n 10
		echo "$lost" | head -n 5
		grep -h 'crossing\|failed\|carries' "$T_DIR"/n*/meshd.log | tail -n 20
	fi
	r=$((r + 1))
done
assert_eq "rounds with a broken pair" "0" "$bad_rounds"
[ "$crossings" -gt 0 ] && ok "$crossings crossings settled over $R rounds" ||
	fail "no crossing happened: the scenario did not test crossing streams"
echo "# $R rounds of $N nodes ($pairs pairs) in $(t_since "$total0") s"
finish
