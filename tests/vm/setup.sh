#!/bin/bash
# tests/vm/setup.sh — make the throw-away test guest bootable on this machine.
#
#   tests/vm/setup.sh [--no-install] [--print]
#
# 1. Installs what is missing with Debian's apt-get (root only): qemu-system-x86,
#    linux-image-amd64 (the guest kernel; the host keeps running its own), busybox-static,
#    cpio, kmod, iproute2, xz-utils.  The kernel is installed with INITRD=No, so no
#    initramfs for it is generated in /boot (we build our own, tiny one).
# 2. Picks the guest kernel (newest Debian *-amd64 with modules under /lib/modules and a
#    /boot/vmlinuz; MESHD_VM_KERNEL=VERSION overrides) and builds, under the cache
#    directory, keyed by kernel version and a hash of tests/vm/init + tests/vm/stage2:
#      vmlinux        the ELF kernel extracted from the XZ bzImage (booted through PVH)
#      initramfs.cpio busybox + /init + stage2 + 9p/virtio/overlay modules
#    Products are rebuilt when missing; concurrent callers serialise on a lock.
# 3. With --print, prints shell assignments KVER=, VMLINUX=, INITRD=, CACHE= on stdout.
#
# Exit status: 0 ready; 77 the guest cannot be made to run here ("SKIP: reason" on stderr).
# Environment: MESHD_VM_CACHE (cache dir; default /var/cache/meshd-vm when writable, else
# ${XDG_CACHE_HOME:-~/.cache}/meshd-vm), MESHD_VM_KERNEL, MESHD_VM_NO_INSTALL=1.
set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
install=1
print=0
[ "${MESHD_VM_NO_INSTALL:-0}" = 1 ] && install=0
for a in "$@"; do
	case $a in
	--no-install) install=0 ;;
	--print) print=1 ;;
	*) echo "usage: $0 [--no-install] [--print]" >&2; exit 2 ;;
	esac
done

skip() { echo "SKIP: $*" >&2; exit 77; }
log() { echo "vm-setup: $*" >&2; }

# ---------------------------------------------------------------- packages
have_kernel() {
	local d
	for d in /lib/modules/*-amd64; do
		[ -e "$d/kernel/fs/9p/9p.ko" ] && [ -e "/boot/vmlinuz-${d##*/}" ] && return 0
	done
	return 1
}
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx switch_root \
	&& ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v xz >/dev/null || missing+=(xz-utils)
[ -x /sbin/modprobe ] || command -v modprobe >/dev/null || missing+=(kmod)
command -v ip >/dev/null || missing+=(iproute2)
have_kernel || missing+=(linux-image-amd64)

if [ ${#missing[@]} -gt 0 ]; then
	[ $install = 1 ] || skip "missing packages: ${missing[*]} (installation disabled)"
	[ "$(id -u)" = 0 ] || skip "missing packages: ${missing[*]} (not root, cannot apt-get)"
	command -v apt-get >/dev/null || skip "missing packages: ${missing[*]} (no apt-get)"
	log "installing ${missing[*]}"
	# INITRD=No: the kernel's postinst hook (/etc/kernel/postinst.d/initramfs-tools) skips
	# update-initramfs, which is slow and not needed (and may fail in containers).
	aptget() {
		INITRD=No DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 \
			install --no-install-recommends "${missing[@]}" >&2
	}
	if ! aptget; then
		apt-get -q update >&2 || true
		aptget || skip "apt-get install ${missing[*]} failed"
	fi
	have_kernel || skip "linux-image-amd64 installed but no usable kernel with 9p modules"
fi

# ---------------------------------------------------------------- kernel choice
if [ -n "${MESHD_VM_KERNEL:-}" ]; then
	kver=$MESHD_VM_KERNEL
else
	kver=$(for d in /lib/modules/*-amd64; do
		[ -e "$d/kernel/fs/9p/9p.ko" ] && [ -e "/boot/vmlinuz-${d##*/}" ] && echo "${d##*/}"
	done | sort -V | tail -n 1)
fi
[ -n "$kver" ] && [ -e "/boot/vmlinuz-$kver" ] && [ -d "/lib/modules/$kver" ] ||
	skip "no guest kernel found (want /boot/vmlinuz-VER and /lib/modules/VER)"

# ---------------------------------------------------------------- cache
if [ -n "${MESHD_VM_CACHE:-}" ]; then
	cache=$MESHD_VM_CACHE
elif [ -w /var/cache ] || [ -w /var/cache/meshd-vm ]; then
	cache=/var/cache/meshd-vm
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/meshd-vm
fi
mkdir -p "$cache" || skip "cannot create cache directory $cache"
key=$(cat "$here/init" "$here/stage2" "$here/setup.sh" /bin/busybox | sha256sum | cut -c1-12)
dir=$cache/$kver-$key
vmlinux=$dir/vmlinux
initrd=$dir/initramfs.cpio

# Read a little-endian unsigned integer of $3 bytes at offset $2 of file $1.
le() { od -An -tu"$3" -j "$2" -N "$3" --endian=little "$1" | tr -d ' '; }

# The bzImage holds the compressed ELF vmlinux at payload_offset (0x248) of the setup
# header, payload_length (0x24c) bytes long, counted from the protected-mode code, which
# starts after (setup_sects + 1) sectors (setup_sects at 0x1f1; 0 means 4).
extract_vmlinux() {
	local bz=$1 out=$2 sects off len magic
	[ "$(dd if="$bz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] || { log "$bz: not a bzImage"; return 1; }
	sects=$(le "$bz" $((0x1f1)) 1); [ "$sects" = 0 ] && sects=4
	off=$(( (sects + 1) * 512 + $(le "$bz" $((0x248)) 4) ))
	len=$(le "$bz" $((0x24c)) 4)
	magic=$(od -An -tx1 -j "$off" -N 6 "$bz" | tr -d ' \n')
	local unpack
	case $magic in
	fd377a585a00) unpack="xz -dc" ;;
	1f8b*) unpack="gzip -dc" ;;
	28b52ffd*) unpack="zstd -dc" ;;
	5d0000*) unpack="xz -dc --format=lzma" ;;
	*) log "$bz: unknown payload compression (magic $magic)"; return 1 ;;
	esac
	tail -c +$((off + 1)) "$bz" | head -c "$len" | $unpack >"$out" 2>/dev/null
	[ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || { log "extracted payload is not ELF"; return 1; }
}

build() {
	local tmp
	tmp=$(mktemp -d "$cache/.build.XXXXXX") || return 1
	chmod 755 "$tmp"
	log "building guest boot files for $kver in $dir"
	extract_vmlinux "/boot/vmlinuz-$kver" "$tmp/vmlinux" || { rm -rf "$tmp"; return 1; }

	local root=$tmp/root m path seen=" "
	mkdir -p "$root"/{bin,dev,proc,sys,newroot,lib/modules} || return 1
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 755 "$here/init" "$root/init"
	install -m 755 "$here/stage2" "$root/stage2"
	# modprobe --show-depends prints "insmod PATH" lines in load order (dependencies first).
	: >"$root/modules.order"
	for m in virtio_pci virtio_console 9pnet_virtio 9p overlay; do
		while read -r word path _; do
			[ "$word" = insmod ] || continue
			case $seen in *" $path "*) continue ;; esac
			seen="$seen$path "
			cp "$path" "$root/lib/modules/" || return 1
			echo "${path##*/}" >>"$root/modules.order"
		done < <(modprobe -S "$kver" --show-depends "$m" 2>/dev/null)
	done
	grep -q '^9p.ko$' "$root/modules.order" || { log "9p module not found for $kver"; return 1; }
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$tmp/initramfs.cpio" || return 1
	echo "$kver" >"$tmp/kver"
	rm -rf "$root"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

if ! [ -s "$vmlinux" ] || ! [ -s "$initrd" ]; then
	command -v flock >/dev/null || skip "flock not found"
	exec 8>"$cache/.lock"
	flock 8
	if ! [ -s "$vmlinux" ] || ! [ -s "$initrd" ]; then
		build || skip "could not build guest boot files (see messages above)"
	fi
	# Prune boot files of other kernels or scripts not used for two days.
	find "$cache" -mindepth 1 -maxdepth 1 -type d -name '*-*' ! -path "$dir" -mtime +1 \
		-exec rm -rf {} + 2>/dev/null
	flock -u 8
	exec 8>&-
fi
touch "$dir" 2>/dev/null # marks it used, for the pruning above

if [ $print = 1 ]; then
	printf 'KVER=%q\nVMLINUX=%q\nINITRD=%q\nCACHE=%q\n' "$kver" "$vmlinux" "$initrd" "$cache"
fi
exit 0
