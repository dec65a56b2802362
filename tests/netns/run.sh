#!/bin/sh
# tests/netns/run.sh — the `make check` entry of the namespace mesh suite (and, with
# --suite interop, of tests/interop: tests/interop/run.sh).
#
# The scenarios (tests/SUITE/NN-*.sh, see tests/netns/run-all.sh) need a kernel with ESP:
#   1. this kernel can add an ESP SA (probed in a scratch namespace) -> run them here;
#   2. otherwise, if the QEMU guest (tests/vm/run) works here -> run them ALL in one boot
#      of Debian's stock kernel, the build tree shared read-write;
#   3. otherwise SKIP (exit 77) saying why.
# Before that, on the host: the test certificates are minted, and tests/SUITE/prepare.sh
# runs if there is one (interop: fetches the peers; its exit 77 SKIPs the suite).
# Prints each scenario's output, then a PASS/FAIL/SKIP line per scenario, the totals, and
# the wall time of the guest boot and of the suite. Exit 0 only if every scenario passed
# or skipped with a reason.
#
# MESHD_NETNS=auto (default) | direct | vm | skip    force a way (MESHD_INTEROP for interop)
# MESHD_NETNS_SCENARIOS="01-private-esp.sh:null 04-ipv6.sh"   run only these
#   (MESHD_INTEROP_SCENARIOS for interop)
# MESH_CROSS_NODES=N MESH_CROSS_ROUNDS=R                    size of 13-crossing (10 nodes, 20 rounds)
here=$(cd "$(dirname "$0")" && pwd)
suite=netns
[ "${1:-}" = --suite ] && { suite=$2; shift 2; }
SUITE=$(echo "$suite" | tr a-z A-Z)
sdir=$(cd "$here/../$suite" && pwd)
eval "mode=\${MESHD_$SUITE:-auto}"
eval "scen=\${MESHD_${SUITE}_SCENARIOS:-}"
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
up() { cut -d' ' -f1 /proc/uptime; }
t_start=$(up)

case "$mode" in skip) echo "SKIP: MESHD_$SUITE=skip"; exit 77 ;; esac
# make distcheck builds in DISTDIR/_build/sub: the suite already ran in the real tree
case "$top_builddir" in
*/_build/sub) [ "$mode" = auto ] && { echo "SKIP: under make distcheck (MESHD_NETNS=vm or direct to run it)"; exit 77; } ;;
esac
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, XFRM, QEMU guest)"; exit 77; }
[ -x "$top_builddir/meshd/meshd" ] || { echo "SKIP: meshd is not built in $top_builddir"; exit 77; }

esp_probe() {
	p="meshd-espprobe-$$"
	ip netns add "$p" 2>/dev/null || { why="cannot create network namespaces"; return 1; }
	if ip -n "$p" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 mode transport \
		aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128 2>/tmp/.esp-probe.$$; then
		r=0
	else
		why="this kernel ($(uname -r)) cannot add an ESP SA: $(cat /tmp/.esp-probe.$$)"
		r=1
	fi
	ip netns del "$p"
	rm -f /tmp/.esp-probe.$$
	return $r
}

# the scenarios' certificates: minted here (RSA key generation is ~15x slower in a TCG
# guest) into the build tree's cache (tests/netns/certs-cache), which the guest sees
if command -v openssl >/dev/null 2>&1; then
	(MESH_ESP_OK=1; . "$here/lib.sh"; mesh_certs_warm) >/dev/null 2>&1 ||
		echo "note: could not mint the test certificates here; the scenarios will"
fi
if [ -f "$sdir/prepare.sh" ]; then
	sh "$sdir/prepare.sh"
	case $? in 0) ;; 77) exit 77 ;; *) echo "FAIL: $sdir/prepare.sh"; exit 1 ;; esac
fi

res=$(mktemp /tmp/meshd-netns-run.XXXXXX)
trap 'rm -f "$res" "$res.err" "$res.rc"' EXIT
boot=
why="MESHD_$SUITE=$mode"
# shellcheck disable=SC2086
if [ "$mode" = direct ] || { [ "$mode" = auto ] && esp_probe; }; then
	where="this kernel ($(uname -r))"
	echo "== $suite suite on $where"
	{ sh "$here/run-all.sh" --dir "$sdir" $scen; echo $? >"$res.rc"; } | tee "$res"
	rc=$(cat "$res.rc")
else
	[ "$mode" = auto ] && echo "== $why; running the suite in the QEMU guest (tests/vm/run)"
	[ -x "$top_srcdir/tests/vm/run" ] || { echo "SKIP: $why, and tests/vm/run is missing"; exit 77; }
	where="a QEMU guest"
	# the guest's /tmp is its own: the build tree must be shared read-write (logs, state)
	set -- --rw "$top_builddir"
	case "$top_srcdir" in /tmp/*|/run/*) [ "$top_srcdir" != "$top_builddir" ] && set -- "$@" --ro "$top_srcdir" ;; esac
	{
		"$top_srcdir/tests/vm/run" -v "$@" \
			--env "top_srcdir=$top_srcdir" --env "top_builddir=$top_builddir" \
			${MESH_SCENARIO_TIMEOUT:+--env "MESH_SCENARIO_TIMEOUT=$MESH_SCENARIO_TIMEOUT"} \
			--env "MESH_SUITE_DIR=$sdir" ${scen:+--env "MESH_SCENARIOS=$scen"} \
			${MESH_CROSS_NODES:+--env "MESH_CROSS_NODES=$MESH_CROSS_NODES"} \
			${MESH_CROSS_ROUNDS:+--env "MESH_CROSS_ROUNDS=$MESH_CROSS_ROUNDS"} \
			-- sh -c 'sh "$0/tests/netns/run-all.sh" --dir "$MESH_SUITE_DIR" $MESH_SCENARIOS' "$top_srcdir" \
			2>"$res.err"
		echo $? >"$res.rc"
	} | tee "$res"
	rc=$(cat "$res.rc")
	grep -v '^tests/vm/run: kernel' "$res.err" >&2
	boot=$(sed -n 's/.*boot to command \([0-9.]*\) s.*/\1/p' "$res.err")
	vmline=$(sed -n 's/^tests\/vm\/run: //p' "$res.err" | grep '^kernel' | head -n 1)
	case $rc in
	77) echo "SKIP: $why, and the QEMU guest cannot run here: $(grep SKIP "$res.err" | head -n 1)"; exit 77 ;;
	124) echo "FAIL: the guest timed out (tests/vm/run --timeout)" ;;
	125) echo "FAIL: the guest failed to boot or died (see tests/vm/run's messages above)" ;;
	esac
fi

echo
echo "======== $suite suite on $where"
grep '^RESULT ' "$res" | awk '{ r = ""; for (i = 5; i <= NF; i++) r = r " " $i
	printf "%-4s  %-28s %6s s %s\n", $3, $2, $4, r }'
pass=$(grep -c '^RESULT [^ ]* PASS' "$res")
fail=$(grep -c '^RESULT [^ ]* FAIL' "$res")
skip=$(grep -c '^RESULT [^ ]* SKIP' "$res")
total=$(grep -c '^RESULT ' "$res")
suite=$(sed -n 's/^SUITE \([0-9.]*\) s.*/\1/p' "$res")
echo "total: $total scenarios, $pass passed, $fail failed, $skip skipped"
[ -n "$boot" ] && echo "guest boot to command: $boot s ($vmline)"
echo "suite wall time: ${suite:-?} s inside; $(awk -v a="$t_start" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s in all"
if [ "$total" -eq 0 ]; then
	echo "FAIL: no scenario ran"
	exit 1
fi
[ "$fail" -eq 0 ] && [ "${rc:-1}" -eq 0 ] && exit 0
exit 1
