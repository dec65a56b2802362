#!/bin/sh
# 13-crossing — crossing streams in a mesh: N nodes (default 10) all send to each other at
# the same moment, so pairs trigger on both ends at once and both initiate. Repeated over
# R rounds (default 20), every daemon restarted between rounds.
# scenario-timeout: 2400
#
#   n1 10.15.1.1 ... nN 10.15.1.N  ── br0        private = 10.15.0.0/16
#
# The trigger: every node sends one UDP datagram to every other node (bash /dev/udp, one
# process per node, all released by one file), peers in ascending order in odd rounds and
# descending in even ones. Each round then asserts, from `meshctl trafficstatus --json` on
# every node: each unordered pair {a, b} has exactly one Child SA on a and exactly one on
# b, a's spi-out is b's spi-in and back (one working pair, not two half pairs: Libreswan
# #1903/#2184/#1635); after a second burst of datagrams both ends of every pair count
# bytes in and out on that SA (traffic flows both ways through it); and a ring of pings
# (each node to the next) is answered. The number of crossings the daemons
# settled ("crossing streams: ... deleting ours") is printed per round.
# MESH_CROSS_NODES / MESH_CROSS_ROUNDS change N / R.
. "$(dirname "$0")/lib.sh"
# Not in the default run yet: in the CI verification run of 6db653f the guest went idle in
# round 2 (after restart_all, no output for 12 minutes; rounds 1 and the helper's earlier
# 20-round runs passed). Until that hang is understood (issue #8), it runs on request.
[ -n "${MESH_RUN_CROSSING:-}" ] ||
	skip "not in the default run: it hung once in round 2 in CI (issue #8, under investigation); MESH_RUN_CROSSING=1 runs it"
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
peers_of() { # NAME ORDER: every other node's address, ascending or descending
	for _o in $NODES; do [ "$_o" = "$1" ] || echo "10.15.1.${_o#n}"; done |
		if [ "$2" = desc ]; then sort -t. -k4,4nr; else cat; fi | tr '\n' ' '
}

# restart_all: every meshd stopped (SIGTERM) and started again; logs kept per round
restart_all() {
	for n in $NODES; do eval "kill \$PID_$n" 2>/dev/null; done
	for n in $NODES; do eval "wait \$PID_$n" 2>/dev/null; done
	for n in $NODES; do
		_d=$T_DIR/$n
		cat "$_d/meshd.log" >>"$_d/meshd.all.log"
		ip netns exec "$(ns_of "$n")" "$MESHD" --config "$_d/meshd.conf" --policies-dir "$_d/policies" \
			--ctlsocket "$_d/meshd.ctl" --nofork --stderrlog >"$_d/meshd.log" 2>&1 &
		eval "PID_$n=\$!"
		T_PIDS="$T_PIDS $!"
		MESH_PENDING="${MESH_PENDING:-} $n"
	done
	mesh_up
}

# burst FIFO ORDER COUNT: every node sends COUNT UDP datagrams (port 9) to every peer; all
# nodes wait on one FIFO and are released by the same write, so their first datagrams
# leave together (no process per datagram: bash's /dev/udp)
burst() {
	rm -f "$1"
	mkfifo "$1" || { fail "mkfifo $1"; return 1; }
	_pids=
	for n in $NODES; do
		ip netns exec "$(ns_of "$n")" bash -c '
			read -r _ <"$1"
			c=$2; shift 2
			for p; do for ((i = 0; i < c; i++)); do echo x >"/dev/udp/$p/9"; done; done 2>/dev/null
			true' burst "$1" "$3" $(peers_of "$n" "$2") &
		_pids="$_pids $!"
	done
	sleep 1
	# one open write end for all of them: a reader that opens late still finds its line
	exec 3>"$1"
	for n in $NODES; do echo go >&3; done
	for _p in $_pids; do wait "$_p"; done
	exec 3>&-
	rm -f "$1"
}

# sa_table: "ME PEER SPI-IN SPI-OUT BYTES-IN BYTES-OUT" for every Child SA of every node
sa_table() {
	for n in $NODES; do
		json_sas "$(ctl "$n" --json trafficstatus)" | awk -v me="10.15.1.${n#n}" '
			function s(k,   m) { return match($0, "\"" k "\":\"[^\"]*\"") ? substr($0, RSTART + length(k) + 4, RLENGTH - length(k) - 5) : "-" }
			function v(k) { return match($0, "\"" k "\":[0-9]+") ? substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3) : "-" }
			{ print me, s("remote-host"), s("spi-in"), s("spi-out"), v("bytes-in"), v("bytes-out") }'
	done
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

# ring: every node pings its next neighbour once (request one way, reply the other), all
# at once; prints the lost ones
ring() {
	_pids=
	for n in $NODES; do
		t=$((${n#n} % N + 1))
		( ip netns exec "$(ns_of "$n")" ping -n -q -c 1 -W 5 "10.15.1.$t" >/dev/null 2>&1 ||
			echo "$n -> 10.15.1.$t" ) &
		_pids="$_pids $!"
	done
	for _p in $_pids; do wait "$_p"; done
}

pairs=$((N * (N - 1) / 2))
bad_rounds=0
crossings=0
total0=$(t_now)
r=1
while [ "$r" -le "$R" ]; do
	t0=$(t_now)
	[ "$r" -gt 1 ] && { restart_all || { fail "round $r: daemons did not come back"; break; }; }
	t1=$(t_now)
	step "round $r"
	order=asc
	[ $((r % 2)) -eq 0 ] && order=desc
	burst "$T_DIR/go" "$order" 1
	# settle: until every node lists one SA per peer (a crossing loser is being deleted)
	wait_until 60 sh -c "[ \$(for n in $NODES; do timeout -k 5 30 '$MESHCTL' --ctlsocket '$T_DIR/'\$n/meshd.ctl trafficstatus; done | grep -c 'type=ESP') -eq $((N * (N - 1))) ]" ||
		echo "# round $r: not every node lists $((N - 1)) SAs after 60 s"
	t2=$(t_now)
	burst "$T_DIR/go2" "$order" 3
	sleep 0.5
	bad=$(check_pairs "$(sa_table)" 1)
	lost=$(ring)
	crossed=$(cat "$T_DIR"/n*/meshd.log | grep -c 'crossing streams: .*deleting ours')
	crossings=$((crossings + crossed))
	if [ -z "$bad" ] && [ -z "$lost" ]; then
		ok "round $r ($order): $pairs pairs, each one matching Child SA pair carrying traffic both ways, $N ring pings answered; $crossed crossings settled (restart $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, negotiation $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s, round $(t_since "$t0") s)"
	else
		bad_rounds=$((bad_rounds + 1))
		fail "round $r ($order): $(echo "$bad" | grep -c .) bad pairs, pings lost: $(echo "$lost" | grep -c .) ($crossed crossings)"
		echo "$bad" | head -n 10
		echo "$lost" | head -n 5
		grep -h 'crossing\|failed\|carries' "$T_DIR"/n*/meshd.log | head -n 20
	fi
	r=$((r + 1))
done
assert_eq "rounds with a broken pair" "0" "$bad_rounds"
[ "$crossings" -gt 0 ] && ok "$crossings crossings settled over $R rounds" ||
	fail "no crossing happened: the scenario did not test crossing streams"
echo "# $R rounds of $N nodes ($pairs pairs) in $(t_since "$total0") s"
finish
