#!/bin/sh
# 09-dnssec-esp — tests/netlink/dnssec_ike.sh on this suite's kernel, which has ESP: two
# meshd daemons authenticate each other with IPSECKEY records in DNSSEC-signed reverse zones
# served by NSD (rightrsasigkey=%dnsondemand), the SA comes up (trafficstatus, ping through
# ESP), and each broken zone (missing record, bogus signature, expired RRSIG, wrong key,
# unsigned zone) ends in the private group's failure shunt with its own reason in `why`.
# Exits with that script's status (77 = skip, e.g. nsd or ldns-signzone not installed).
# Like mesh_require, refuses (77) to run on a kernel without ESP: that case is covered by
# `make check` running tests/netlink/dnssec_ike.sh directly.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
if [ "${MESH_ESP_OK:-}" != 1 ] && [ "$(id -u)" = 0 ]; then
	p="meshd-09-esp-$$"
	if ip netns add "$p" 2>/dev/null; then
		ip -n "$p" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 \
			mode transport aead 'rfc4106(gcm(aes))' \
			0x0102030405060708090a0b0c0d0e0f1011121314 128 2>/dev/null
		r=$?
		ip netns del "$p"
		[ $r -eq 0 ] || { echo "SKIP: this kernel ($(uname -r)) cannot add an ESP SA; run through tests/netns/run.sh, which uses the QEMU guest"; exit 77; }
	fi
fi
exec sh "$top_srcdir/tests/netlink/dnssec_ike.sh"
