#!/bin/sh
# Replay every fuzz target's corpus and crash reproducers (DESIGN.md §4). A target that
# crashes on any input fails the test. Targets are the tests/fuzz/fuzz_* programs built
# in the build tree; their inputs live in tests/fuzz/corpus/NAME{,-crash}/.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
fail=0 ran=0
for bin in "$top_builddir"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.o|*.c) continue;; esac
	name=${bin##*/fuzz_}
	dirs=""
	for d in "$top_srcdir/tests/fuzz/corpus/$name" "$top_srcdir/tests/fuzz/corpus/$name-crash"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	if [ -z "$dirs" ]; then
		echo "FAIL: fuzz_$name has no corpus in tests/fuzz/corpus/$name"
		fail=1
		continue
	fi
	# shellcheck disable=SC2086
	if "$bin" $dirs >/dev/null; then
		echo "ok: fuzz_$name"
	else
		echo "FAIL: fuzz_$name crashed on its corpus"
		fail=1
	fi
	ran=$((ran + 1))
done
if [ "$ran" -eq 0 ]; then
	echo "SKIP: no fuzz targets built"
	exit 77
fi
exit $fail
