#!/bin/sh
# tests/interop/fetch-peers.sh — Debian's Libreswan and strongSwan, unpacked privately.
#
#   fetch-peers.sh [--libreswan] [--strongswan] [DIR]      (default: both)
#
# DIR defaults to $top_builddir/tests/interop/peers (a cache reused across runs; delete it
# to start over). The two packages conflict, so neither is installed on the system: each
# is fetched with `apt-get download` and unpacked with `dpkg -x`, together with the library
# packages it needs that this machine does not have. Idempotent: a second run with
# everything in place does nothing (no network). Exit 0 when DIR is ready, 77 (SKIP) when
# the packages cannot be fetched here (no apt-get, no network), with the reason on stderr.
#
# What DIR holds afterwards:
#   DIR/libreswan/...       root of the libreswan package (+ libevent-pthreads etc.)
#   DIR/strongswan/...      root of strongswan-charon, -libcharon, -swanctl, libstrongswan,
#                           libstrongswan-standard-plugins
#   DIR/versions            "libreswan 4.10-2+deb12u1" / "strongswan 5.9.8-5+deb12u6"
#   DIR/bin/*               wrappers that run a package's program in a private mount
#                           namespace with DIR/<package>/usr overlaid on /usr, because both
#                           packages have their paths compiled in (pluto forks
#                           /usr/libexec/ipsec/addconn, charon loads /usr/lib/ipsec/plugins):
#                           run them as root. Nothing outside the process tree changes.
#   DIR/bin/ipsec           Libreswan's `ipsec` command. Point it at a private instance with
#                           IPSEC_RUNDIR (pluto.ctl), IPSEC_CONF, IPSEC_CONFDDIR, IPSEC_NSSDIR,
#                           e.g. `IPSEC_RUNDIR=/tmp/x DIR/bin/ipsec trafficstatus`
#   DIR/bin/pluto, whack, addconn   Libreswan's binaries
#   DIR/bin/charon, DIR/bin/swanctl
#                           strongSwan's charon and swanctl, with a private /run as well
#                           (charon's pid file is fixed there). Give charon a private
#                           config with STRONGSWAN_CONF=FILE (vici socket = FILE's
#                           charon.plugins.vici.socket) and talk to it with
#                           `DIR/bin/swanctl --uri unix:///path/to/vici.sock ...`.
# Example (a benchmark responder):
#   tests/interop/fetch-peers.sh --strongswan /tmp/peers &&
#   STRONGSWAN_CONF=/tmp/sw/strongswan.conf ip netns exec NS /tmp/peers/bin/charon &
set -eu

want_ls=no want_sw=no
dir=
for a; do
	case "$a" in
	--libreswan) want_ls=yes ;;
	--strongswan) want_sw=yes ;;
	-h|--help) sed -n '2,/^set -eu/s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
	-*) echo "fetch-peers.sh: unknown option $a" >&2; exit 2 ;;
	*) dir=$a ;;
	esac
done
[ "$want_ls$want_sw" = nono ] && want_ls=yes want_sw=yes
[ -n "$dir" ] || dir=${top_builddir:-.}/tests/interop/peers
mkdir -p "$dir/debs" "$dir/bin"
dir=$(cd "$dir" && pwd)

LS_PKGS="libreswan"
SW_PKGS="strongswan-charon strongswan-libcharon libstrongswan libstrongswan-standard-plugins strongswan-swanctl"

installed() { dpkg-query -W -f '${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed"; }

updated=no
# download PKG...: into DIR/debs unless a .deb of that name is there already
download() {
	_need=
	for _p; do ls "$dir/debs/${_p}_"*.deb >/dev/null 2>&1 || _need="$_need $_p"; done
	[ -z "$_need" ] && return 0
	command -v apt-get >/dev/null || { echo "SKIP: apt-get is not available to fetch$_need" >&2; exit 77; }
	# (apt's sandbox user may not write into DIR: download as the caller)
	# shellcheck disable=SC2086
	if ! (cd "$dir/debs" && apt-get -q -o APT::Sandbox::User=root download $_need) >"$dir/download.log" 2>&1; then
		if [ "$updated" = no ] && [ "$(id -u)" = 0 ]; then
			updated=yes
			apt-get update -qq >>"$dir/download.log" 2>&1 || true
			download "$@"
			return
		fi
		tail -n 5 "$dir/download.log" >&2
		echo "SKIP: apt-get download$_need failed (see $dir/download.log)" >&2
		exit 77
	fi
}

# deps DEB: the library packages DEB depends on that are neither installed here nor
# fetched already (first alternative of each; only lib* packages: the tools run from
# DIR and need nothing else from the system that the test hosts lack)
deps() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' | while read -r _alt; do
		_ok=no
		for _c in $(echo "$_alt" | tr '|' '\n' | sed 's/(.*)//; s/:any//' | awk '{print $1}'); do
			installed "$_c" && { _ok=yes; break; }
			ls "$dir/debs/${_c}_"*.deb >/dev/null 2>&1 && { _ok=yes; break; }
		done
		[ "$_ok" = yes ] && continue
		_first=$(echo "$_alt" | sed 's/|.*//; s/(.*)//; s/:any//' | awk '{print $1}')
		case "$_first" in lib*) echo "$_first" ;; esac
	done
}

# unpack NAME PKG...: DIR/NAME = the packages and their missing libraries, unpacked
unpack() {
	_name=$1; shift
	_stamp="$dir/$_name/.unpacked"
	if [ -f "$_stamp" ] && [ "$(cat "$_stamp")" = "$*" ]; then return 0; fi
	download "$@"
	_all="$*"
	# missing libraries, to a fixed point (a few rounds at most)
	for _round in 1 2 3 4; do
		_more=
		for _p in $_all; do
			for _d in $(deps "$dir/debs/${_p}_"*.deb); do
				case " $_all $_more " in *" $_d "*) ;; *) _more="$_more $_d" ;; esac
			done
		done
		[ -z "$_more" ] && break
		# shellcheck disable=SC2086
		download $_more
		_all="$_all$_more"
	done
	rm -rf "$dir/$_name"
	mkdir -p "$dir/$_name"
	for _p in $_all; do dpkg -x "$dir/debs/${_p}_"*.deb "$dir/$_name"; done
	echo "$*" >"$_stamp"
	echo "fetch-peers.sh: $_name unpacked in $dir/$_name ($_all)" >&2
}

version() { dpkg-deb -f "$dir/debs/${1}_"*.deb Version; }

# wrap NAME ROOT BIN [tmpfs-run]: DIR/bin/NAME runs BIN from package root ROOT in a private
# mount namespace where ROOT/usr is overlaid on /usr: the packages' compiled-in paths
# (/usr/libexec/ipsec, /usr/lib/ipsec/plugins) and libraries resolve to DIR, nothing is
# installed. With tmpfs-run, /run is private too (charon's fixed pid file).
wrap() {
	_run=
	[ "${4:-}" = tmpfs-run ] && _run=' && mount -t tmpfs meshd-peer /run'
	cat >"$dir/bin/$1" <<EOF
#!/bin/sh
# $3 from $2 (made by fetch-peers.sh): a private mount namespace with $2/usr
# overlaid on /usr (the package's compiled-in paths)${4:+ and a private /run}
exec unshare -m sh -c 'mount --make-rprivate / &&
	mount -t overlay meshd-peer -o lowerdir=$2/usr:/usr /usr$_run && exec "\$0" "\$@"' $3 "\$@"
EOF
	chmod 755 "$dir/bin/$1"
}

if [ "$want_ls" = yes ]; then
	# shellcheck disable=SC2086
	unpack libreswan $LS_PKGS
	wrap ipsec "$dir/libreswan" /usr/sbin/ipsec
	for b in pluto whack addconn; do wrap "$b" "$dir/libreswan" "/usr/libexec/ipsec/$b"; done
fi

if [ "$want_sw" = yes ]; then
	# shellcheck disable=SC2086
	unpack strongswan $SW_PKGS
	wrap charon "$dir/strongswan" /usr/lib/ipsec/charon tmpfs-run
	wrap swanctl "$dir/strongswan" /usr/sbin/swanctl tmpfs-run
fi

{
	[ -f "$dir/libreswan/.unpacked" ] && echo "libreswan $(version libreswan)"
	[ -f "$dir/strongswan/.unpacked" ] && echo "strongswan $(version strongswan-charon)"
} >"$dir/versions"
exit 0
