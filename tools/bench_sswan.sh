#!/bin/sh
# bench_sswan.sh — strongSwan 5.9.8 measured the way performance.md §5 describes, for
# tools/bench_ike.sh (BENCHMARKS.md "IKE handshakes"): two charon daemons in two throw-away
# network namespaces joined by a veth pair, the initiator starting N childless IKE_SAs
# (RFC 6023) through VICI, WINDOW (default 16) at a time, each a blocking VICI initiate
# that holds one of charon's 64 worker threads; CPU per IKE_SA of each daemon from /proc,
# heap from VICI stats (mallinfo).
#
#   tools/bench_sswan.sh KEYTYPE DH N CERTDIR PEERS [WINDOW]        (root)
#
# KEYTYPE ecdsa | rsa, DH x25519 | modp2048 | ecp256; CERTDIR as bench_ike.sh makes it
# (ca/n0/r for ECDSA, rca/rn0/rr for RSA, PEM); PEERS a tests/interop/fetch-peers.sh
# --strongswan directory (its bin/charon runs Debian's charon privately). The initiator
# presents the same certificate every time. No ESP: the IKE_SAs are childless, so the
# kernel is only asked for the IKE socket bypass policies. Logging off, no DoS protection
# or half-open limits, reuse_ikesa = no, RSA signatures as RSASSA-PSS (as meshd signs).
# Starts and stops only its own daemons (by PID) and namespaces.
set -eu

KT=$1 DH=$2 N=$3 CERTDIR=$4 PEERS=$5 WINDOW=${6:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/bench_sswan.XXXXXX)
NI=meshd-bsw-i$$ NR=meshd-bsw-r$$
PIDS=

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	ip netns del "$NI" 2>/dev/null || true
	ip netns del "$NR" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

ip netns add "$NI"
ip netns add "$NR"
ip -n "$NI" link add veth0 type veth peer name veth1 netns "$NR"
ip -n "$NI" addr add 10.77.0.1/24 dev veth0
ip -n "$NR" addr add 10.77.0.2/24 dev veth1
for n in "$NI" "$NR"; do ip -n "$n" link set lo up; done
ip -n "$NI" link set veth0 up
ip -n "$NR" link set veth1 up

# conf SIDE: a private strongswan.conf (STRONGSWAN_CONF) with its VICI socket in $W
conf() {
	mkdir -p "$W/$1"
	cat >"$W/$1/strongswan.conf" <<EOF
charon {
	load = random nonce openssl kdf pem pkcs1 pkcs8 x509 revocation constraints pubkey vici kernel-netlink socket-default
	threads = 64
	dos_protection = no
	init_limit_half_open = 0
	init_limit_job_load = 0
	cookie_threshold = 1000000
	block_threshold = 1000000
	reuse_ikesa = no
	rsa_pss = yes
	install_routes = no
	install_virtual_ip = no
	ikesa_table_size = 4096
	ikesa_table_segments = 16
	retransmit_tries = 10
	filelog {
	}
	syslog {
		daemon {
			default = -1
		}
		auth {
			default = -1
		}
	}
	plugins {
		vici {
			socket = unix://$W/$1/vici.sock
		}
	}
}
EOF
}

# start SIDE NS: charon in NS; its PID (the wrapper execs down to charon) joins PIDS
start() {
	conf "$1"
	STRONGSWAN_CONF=$W/$1/strongswan.conf ip netns exec "$2" "$PEERS/bin/charon" \
		>"$W/$1/out" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
}
start i "$NI"
start r "$NR"
i=0
while { [ ! -S "$W/i/vici.sock" ] || [ ! -S "$W/r/vici.sock" ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
for s in i r; do
	eval "p=\$PID_$s"
	# shellcheck disable=SC2154
	if [ "$(cat "/proc/$p/comm" 2>/dev/null)" != charon ] || [ ! -S "$W/$s/vici.sock" ]; then
		cat "$W/$s/out" >&2
		echo "bench_sswan: charon ($s) did not start" >&2
		exit 1
	fi
done
python3 "$HERE/bench_sswan.py" load "$W/r/vici.sock" r "$KT" "$DH" "$CERTDIR" 10.77.0.2 10.77.0.1
python3 "$HERE/bench_sswan.py" load "$W/i/vici.sock" i "$KT" "$DH" "$CERTDIR" 10.77.0.1 10.77.0.2
# shellcheck disable=SC2154
python3 "$HERE/bench_sswan.py" run "$W/i/vici.sock" "$W/r/vici.sock" "$PID_i" "$PID_r" "$N" "$WINDOW"
