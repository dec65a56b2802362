#!/bin/sh
# tests/netns/run-all.sh — run the namespace scenarios one after the other on this kernel
# (which must have ESP: tests/netns/run.sh decides where this runs, here or in the guest).
#
#   run-all.sh [--dir DIR] [SCENARIO[:ARG]...]
# DIR (default tests/netns) holds the scenarios; default list: DIR/scenarios if it exists
# (one SCENARIO[:ARG] a line, # comments), else every NN-*.sh (netns: 01 once per auth mode)
#
# Each scenario's output is printed as it comes, followed by one line
#   RESULT <scenario[:arg]> PASS|FAIL|SKIP <seconds> [reason]
# and at the end "SUITE <seconds> s, N scenarios". Exit 0 when nothing failed.
# MESH_SCENARIO_TIMEOUT (default 300 s) bounds each scenario; a scenario may raise its own
# bound with a "# scenario-timeout: SECONDS" comment line.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
[ "${1:-}" = --dir ] && { here=$2; shift 2; }
tmo=${MESH_SCENARIO_TIMEOUT:-300}
up() { cut -d' ' -f1 /proc/uptime; }
dt() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

if [ $# -eq 0 ] && [ -f "$here/scenarios" ]; then
	set -- $(sed 's/#.*//' "$here/scenarios")
elif [ $# -eq 0 ]; then
	set --
	for f in "$here"/[0-9][0-9]-*.sh; do
		b=$(basename "$f")
		case "$b" in
		01-*) set -- "$@" "$b:null" "$b:rsa" ;;
		*) set -- "$@" "$b" ;;
		esac
	done
fi

suite0=$(up)
failed=0
n=0
out=$(mktemp /tmp/meshd-netns-out.XXXXXX)
for s in "$@"; do
	script=${s%%:*}
	arg=
	case "$s" in *:*) arg=${s#*:} ;; esac
	n=$((n + 1))
	echo "######## $s"
	t0=$(up)
	# shellcheck disable=SC2086
	# a scenario may ask for more time with a "# scenario-timeout: SECONDS" line
	stmo=$(sed -n 's/^# scenario-timeout: *\([0-9][0-9]*\).*/\1/p' "$here/$script" | head -n 1)
	stmo=${stmo:-$tmo}
	[ "$stmo" -lt "$tmo" ] && stmo=$tmo
	# The output goes to a file, followed by tail until the scenario has ended: a process
	# it left behind (its own bug) must not hold a pipe open and hang the suite, as the
	# burst senders of a 13-crossing killed by SIGPIPE once did (issue #8). timeout runs
	# the scenario in a process group of its own; what is left of it afterwards is killed.
	timeout -k 10 "$stmo" sh "$here/$script" $arg >"$out" 2>&1 &
	spid=$!
	tail -n +1 -f --pid="$spid" "$out" &
	tpid=$!
	wait "$spid"
	rc=$?
	wait "$tpid"
	kill -9 "-$spid" 2>/dev/null && echo "# killed what $s left running"
	case $rc in
	0) res=PASS; why= ;;
	77) res=SKIP; why=$(grep '^SKIP:' "$out" | tail -n 1 | sed 's/^SKIP: *//') ;;
	124|137) res=FAIL; why="timed out after $stmo s"; failed=$((failed + 1)) ;;
	*) res=FAIL; why=$(grep -c '^FAIL' "$out")" failed checks (exit $rc)"; failed=$((failed + 1)) ;;
	esac
	echo "RESULT $s $res $(dt "$t0") $why"
done
rm -f "$out"
echo "SUITE $(dt "$suite0") s, $n scenarios, $failed failed"
[ $failed -eq 0 ]
