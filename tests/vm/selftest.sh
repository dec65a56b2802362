#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"  # automake runs .sh tests with $(SHELL)
# tests/vm/selftest.sh — proves tests/vm/run: boots the guest once and checks inside it
# (tests/vm/selftest-guest.sh) the Debian kernel, esp4/esp6/xfrm_user/veth, netns, an ESP
# SA, the read-only build tree and writable /tmp; checks here that stdout, stderr and the
# exit status came back separately. Meanwhile a second runner with --timeout 3 runs at
# the same time, which must end with 124 without disturbing the first (concurrency +
# timeout). Exit 0 pass, 1 fail, 77 "SKIP: reason" when the guest cannot run here.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/../.." && pwd -P)

setup=$("$here/setup.sh" --print 2>"${TMPDIR:-/tmp}/meshd-vm-selftest-setup.$$")
rc=$?
if [ $rc != 0 ]; then
	reason=$(grep '^SKIP:' "${TMPDIR:-/tmp}/meshd-vm-selftest-setup.$$" | tail -n 1)
	[ $rc = 77 ] || cat "${TMPDIR:-/tmp}/meshd-vm-selftest-setup.$$" >&2
	rm -f "${TMPDIR:-/tmp}/meshd-vm-selftest-setup.$$"
	if [ $rc = 77 ]; then
		echo "${reason:-SKIP: tests/vm/setup.sh cannot prepare the guest}"
		exit 77
	fi
	echo "FAIL: tests/vm/setup.sh exited $rc"
	exit 1
fi
rm -f "${TMPDIR:-/tmp}/meshd-vm-selftest-setup.$$"
eval "$setup"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/meshd-vm-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The second, concurrent runner: killed by its timeout.
start=$(date +%s.%N)
"$here/run" --timeout 3 --mem 256 --cpus 1 -- sleep 600 >"$tmp/t.out" 2>"$tmp/t.err" &
tpid=$!

cwd=$(pwd -P)
"$here/run" -v --status-file "$tmp/status" -- \
	bash "$here/selftest-guest.sh" "$KVER" "$srcdir" "$cwd" >"$tmp/out" 2>"$tmp/err"
rc=$?
end=$(date +%s.%N)
wait $tpid
trc=$?

sed 's/^/  guest stdout| /' "$tmp/out"
sed 's/^/  guest stderr| /' "$tmp/err"

[ $rc = 3 ] && pass "exit status 3 propagated" || fail "exit status: want 3, got $rc"
[ "$(cat "$tmp/status" 2>/dev/null)" = "exit 3" ] && pass "--status-file says exit 3" ||
	fail "--status-file: $(cat "$tmp/status" 2>/dev/null)"
grep -qx marker-stdout "$tmp/out" && pass "stdout came back" || fail "marker-stdout missing from stdout"
grep -qx marker-stderr "$tmp/err" && pass "stderr came back" || fail "marker-stderr missing from stderr"
! grep -q marker-stderr "$tmp/out" && ! grep -q marker-stdout "$tmp/err" &&
	pass "stdout and stderr kept apart" || fail "stdout and stderr mixed"
n_ok=$(grep -c '^ok ' "$tmp/out")
n_bad=$(grep -c '^not ok ' "$tmp/out")
[ "$n_ok" -ge 17 ] && [ "$n_bad" = 0 ] && pass "$n_ok checks inside the guest" ||
	fail "checks inside the guest: $n_ok ok, $n_bad not ok"
while read -r line; do
	case $line in
	"ok "*) pass "guest: ${line#ok }" ;;
	"not ok "*) fail "guest: ${line#not ok }" ;;
	esac
done <"$tmp/out"

[ $trc = 124 ] && pass "concurrent runner with --timeout 3 ended with 124" ||
	fail "concurrent runner with --timeout 3: want 124, got $trc ($(cat "$tmp/t.err"))"
grep -q 'timeout' "$tmp/t.err" && pass "timeout reported on stderr" || fail "no timeout message"

awk -v a="$start" -v b="$end" 'BEGIN{printf "# selftest boot+run %.1f s\n", b-a}'
grep '^tests/vm/run: kernel' "$tmp/err" | sed 's/^/# /'
echo "$passes passed, $fails failed"
[ $fails = 0 ]
