#!/bin/sh
# tests/interop/prepare.sh — run by tests/netns/run.sh on the host before the suite: the
# guest has no network, so the peers are fetched here (fetch-peers.sh; its exit 77 = SKIP).
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
if ! out=$(sh "$here/fetch-peers.sh" "$top_builddir/tests/interop/peers" 2>&1); then
	rc=$?
	echo "$out"
	[ $rc = 77 ] && echo "SKIP: $(echo "$out" | sed -n 's/^SKIP: //p' | head -n 1)"
	exit $rc
fi
[ -n "$out" ] && echo "$out"
echo "peers: $(tr '\n' ' ' <"$top_builddir/tests/interop/peers/versions")"
exit 0
