#!/bin/sh
# bench-first-packet.sh — first packet -> ESP SA installed, 2 meshd nodes, NULL auth.
#
#   n1 10.15.1.1 ─┬─ br0 ─── n2 10.15.1.2 + 10.15.2.1 ... 10.15.2.N
#   policies/private = 10.15.0.0/16 on both
#
# N times (default 20), n1 sends one ping to a fresh address of n2 (a fresh peer: a new
# IKE SA and Child SA each time). `ip -ts xfrm monitor` in n1's namespace timestamps the
# kernel's ACQUIRE (the first packet hit the trap) and the NEWSA of the outbound ESP SA
# (traffic can flow). Prints every sample and min / median / max in ms.
# Not part of make check: tests/vm/run --rw BUILD -- sh tests/netns/bench-first-packet.sh
# (needs a kernel with ESP).
. "$(dirname "$0")/lib.sh"
N=${1:-20}
MESH_AUTH=null
mesh_require
require_cmd ip

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
addrs=""
i=1
while [ $i -le "$N" ]; do addrs="$addrs 10.15.2.$i/24"; i=$((i + 1)); done
mesh_node n1 10.15.1.1 || exit 1
MESH_ADDRS=$addrs
mesh_node n2 10.15.1.2 || exit 1
MESH_ADDRS=
mesh_up || exit 1
# n1 reaches 10.15.2.0/24 on the same link
ip -n "$(ns_of n1)" route add 10.15.2.0/24 dev eth0

nsx n1 ip -ts xfrm monitor acquire SA >"$T_DIR/mon.log" 2>&1 &
T_PIDS="$T_PIDS $!"
sleep 1
i=1
while [ $i -le "$N" ]; do
	p=10.15.2.$i
	ping_once n1 "$p"
	wait_until 30 sh -c "ip -n '$(ns_of n1)' -o xfrm state | grep -q 'src 10.15.1.1 dst $p[^0-9].*spi 0x0*[1-9a-f]'" ||
		echo "sample $i: no SA with $p after 30 s"
	i=$((i + 1))
done
sleep 1
# events: "[2026-11-22T23:59:01.123456] acquire proto esp: ..." then "sel src A/32 dst B/32"
# lines; an SA: "[ts] src A dst B" then "proto esp spi 0x..." lines
awk '
	function secs(ts,   d, t) { gsub(/[][]/, "", ts); split(ts, d, "T"); split(d[2], t, ":"); return t[1] * 3600 + t[2] * 60 + t[3] }
	/^\[/ { ts = secs($1); kind = ($2 == "acquire") ? "acq" : ($2 == "src" ? "sa" : "")
		if (kind == "sa") { src = $3; dst = $5 } ; next }
	kind == "acq" && $1 == "sel" { for (i = 1; i <= NF; i++) if ($i == "dst") { d = $(i + 1); sub(/\/.*/, "", d) }
		if (!(d in acq)) acq[d] = ts; kind = "" }
	kind == "sa" && $1 == "proto" && $2 == "esp" && $4 !~ /^0x0+$/ {
		if (src == "10.15.1.1" && !(dst in sa)) sa[dst] = ts; kind = "" }
	END { for (d in acq) if (d in sa) printf "%s %.1f\n", d, (sa[d] - acq[d]) * 1000 }
' "$T_DIR/mon.log" | sort -t. -k4 -n >"$T_DIR/samples"
cat "$T_DIR/samples" | sed 's/^/sample /'
n=$(grep -c . "$T_DIR/samples")
awk '{ print $2 }' "$T_DIR/samples" | sort -n | awk -v n="$n" '
	{ v[NR] = $1 }
	END {
		if (n == 0) { print "no samples"; exit 1 }
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "first packet -> SA installed: n=%d  min %.1f ms  median %.1f ms  max %.1f ms\n", n, v[1], med, v[n]
	}'
[ -r /proc/cpuinfo ] && echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs${MESHD_VM:+, inside tests/vm (QEMU)}"
