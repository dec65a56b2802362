# lib.sh — helpers for the live tests: network namespaces, meshd daemons, assertions.
# Sourced by tests/netlink/*.sh and tests/netns/*.sh. Each test gets unique names
# (mesh-$$-N), cleans up on exit, and skips (77) when it cannot run here.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
MESHD=${MESHD:-$top_builddir/meshd/meshd}
MESHCTL=${MESHCTL:-$top_builddir/tools/meshctl}
T_PREFIX="mesh-$$"
T_DIR=$(mktemp -d /tmp/meshd-test.XXXXXX)
T_NS=""
T_PIDS=""
T_FAILS=0
T_CHECKS=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XFRM)"
	command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
	ip netns add "$T_PREFIX-probe" 2>/dev/null || skip "cannot create network namespaces here"
	ip netns del "$T_PREFIX-probe"
}

require_cmd() {
	for c; do command -v "$c" >/dev/null || skip "$c is not installed"; done
}

cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		# wait for our own daemons so they remove their state first
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	for n in $T_NS; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T_DIR"
}
trap cleanup EXIT

# ns NAME: create namespace $T_PREFIX-NAME with lo up; prints its full name.
ns_new() {
	n="$T_PREFIX-$1"
	ip netns add "$n" || return 1
	ip -n "$n" link set lo up
	T_NS="$T_NS $n"
	echo "$n"
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	t=$1; shift
	i=0
	while [ "$i" -lt $((t * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_meshd NS CONF POLDIR NAME: start a daemon in NS; sets MESHD_PID and CTL.
start_meshd() {
	ns=$1 conf=$2 pol=$3 name=$4
	CTL="$T_DIR/$name.ctl"
	ip netns exec "$ns" "$MESHD" --config "$conf" --policies-dir "$pol" --ctlsocket "$CTL" \
		--nofork --stderrlog >"$T_DIR/$name.log" 2>&1 &
	MESHD_PID=$!
	T_PIDS="$T_PIDS $MESHD_PID"
	if ! wait_for 10 "$MESHCTL" --ctlsocket "$CTL" ping; then
		cat "$T_DIR/$name.log"
		fail "meshd ($name) did not come up"
		return 1
	fi
}

# stop_meshd PID: SIGTERM and wait for it to exit.
stop_meshd() {
	kill -TERM "$1" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $1" || { fail "meshd $1 did not stop"; kill -9 "$1"; }
	wait "$1" 2>/dev/null
}

# pol_dump NS: the namespace's XFRM policies, one normalised line each, sorted:
#   DIR SRC DST PROTO SPORT DPORT ACTION   (ACTION: pass, block, trap, ipsec)
pol_dump() {
	ip -n "$1" -o xfrm policy | awk '{
		cut = index($0, "\\")
		sel = cut ? substr($0, 1, cut - 1) : $0
		rest = cut ? substr($0, cut + 1) : ""
		n = split(sel, f, " ")
		src = ""; dst = ""; proto = "any"; sp = "0"; dp = "0"
		for (i = 1; i <= n; i++) {
			if (f[i] == "src") src = f[i + 1]
			else if (f[i] == "dst") dst = f[i + 1]
			else if (f[i] == "proto") proto = f[i + 1]
			else if (f[i] == "sport" || f[i] == "type") sp = f[i + 1]
			else if (f[i] == "dport" || f[i] == "code") dp = f[i + 1]
		}
		m = split(rest, g, /[ \t\\]+/)
		dir = ""; act = "pass"; tmpl = 0; tsrc = ""
		for (i = 1; i <= m; i++) {
			if (g[i] == "dir") dir = g[i + 1]
			else if (g[i] == "action" && g[i + 1] == "block") act = "block"
			else if (g[i] == "tmpl") { tmpl = 1; tsrc = g[i + 2] }
		}
		if (act == "pass" && tmpl) act = (tsrc == "0.0.0.0" || tsrc == "::") ? "trap" : "ipsec"
		print dir, src, dst, proto, sp, dp, act
	}' | sort
}

# pol_priority NS DIR SRC DST: the priority of that policy.
pol_priority() {
	ip -n "$1" -o xfrm policy | awk -v d="$2" -v s="$3" -v t="$4" '
		$1 == "src" && $2 == s && $3 == "dst" && $4 == t {
			for (i = 1; i <= NF; i++) {
				if ($i == "dir") dir = $(i + 1)
				if ($i == "priority") pr = $(i + 1)
			}
			if (dir == d) print pr
		}'
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1"
		echo "--- expected"; echo "$2"; echo "--- actual"; echo "$3"; echo "---"
	fi
}

assert_contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) fail "$1: '$2' not in:"; echo "$3" ;;
	esac
}

finish() {
	echo "$T_CHECKS checks, $T_FAILS failures"
	[ "$T_FAILS" -eq 0 ]
}
