#!/bin/bash
# tests/vm/selftest-guest.sh — the guest half of tests/vm/selftest.sh; runs as root inside
# the guest. Usage: selftest-guest.sh KVER SRCDIR CWD
# Prints "ok NAME" / "not ok NAME" on stdout, "marker-stdout" on stdout and "marker-stderr"
# on stderr, and exits 3 when every check passed (1 otherwise), so that the host can see
# that stdout, stderr and the exit status all made it through.
set -u
kver=$1 srcdir=$2 want_cwd=$3
fails=0
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		echo "ok $name"
	else
		echo "not ok $name"
		printf '%s\n' "$out" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
}

check "uname is the Debian guest kernel $kver" \
	sh -c "[ \"\$(uname -r)\" = '$kver' ] && uname -v | grep -q Debian && case \$(uname -r) in 6.1.*) ;; *) exit 1;; esac"
check "we are root" sh -c '[ "$(id -u)" = 0 ]'
check "MESHD_VM=1 in the environment" sh -c '[ "${MESHD_VM:-}" = 1 ]'
check "cwd preserved ($want_cwd)" sh -c "[ \"\$(pwd -P)\" = '$want_cwd' ]"
check "modprobe esp4 esp6 xfrm_user veth" modprobe -a esp4 esp6 xfrm_user veth
check "esp4/esp6 loaded" sh -c 'grep -q "^esp4 " /proc/modules && grep -q "^esp6 " /proc/modules'
check "ip netns add" ip netns add vmselftest
check "lo up in the netns" ip -n vmselftest link set lo up
check "veth pair into the netns" sh -c 'ip link add vst0 type veth peer name vst1 && ip link set vst1 netns vmselftest'
check "ESP SA (rfc4106 gcm-aes) can be added" \
	ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 mode transport \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
check "ESP SA is listed" sh -c 'ip xfrm state list | grep -q "spi 0x00000100"'
check "ESP SA in the netns too" \
	ip -n vmselftest xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x101 mode tunnel \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
check "build tree visible ($srcdir/tests/vm/run)" test -x "$srcdir/tests/vm/run"
check "build tree read-only" sh -c "! touch '$srcdir/.vm-write-probe' 2>/dev/null && ! [ -e '$srcdir/.vm-write-probe' ]"
check "/tmp writable" sh -c 'echo hello >/tmp/probe && [ "$(cat /tmp/probe)" = hello ]'
check "/etc writable (overlay)" sh -c 'echo x >/etc/meshd-vm-probe && rm /etc/meshd-vm-probe'
check "/var/lib writable (overlay)" sh -c 'mkdir -p /var/lib/meshd-vm-probe && rmdir /var/lib/meshd-vm-probe'

echo marker-stdout
echo marker-stderr >&2
[ $fails = 0 ] && exit 3
exit 1
