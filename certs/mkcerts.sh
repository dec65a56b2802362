#!/bin/sh
# mkcerts.sh — mint a throw-away test CA and node certificates for meshd (openssl CLI).
#
#   certs/mkcerts.sh [options] OUTDIR NAME:IP[,IP...] ...
#
# Writes, in OUTDIR:
#   CA.pem, CA.key            the CA (made on first use, reused afterwards; CA = --ca name)
#   NAME.p12                  key + node certificate (friendly name "node") + the CA certificate
#   NAME.pem, NAME.key        the same certificate and key as PEM
# Each node certificate has the subject "C=US, O=meshd test, CN=NAME" and one iPAddress
# subjectAltName per IP (none if NAME has no ":IP" part).
#
# Options (they apply to every NAME of the invocation):
#   --ecdsa            node keys ECDSA P-256 (the default)
#   --rsa              node keys RSA-2048
#   --ca NAME          use (or make) the CA called NAME (default "ca"); a second name gives a
#                      second, unrelated CA, e.g. for "untrusted issuer" tests
#   --ca-rsa           make a new CA with an RSA-2048 key (default ECDSA P-256)
#   --password PW      PKCS#12 password (default: empty)
#   --friendly NAME    PKCS#12 friendly name (default "node")
#   --days N           validity from now (default 365)
#   --startdate D --enddate D
#                      explicit validity, openssl ca format YYYYMMDDHHMMSSZ (e.g. an expired
#                      certificate: --startdate 20200101000000Z --enddate 20200102000000Z)
#   --no-san           no subjectAltName even if IPs are given
# Never use these keys for anything real: they are made for tests and demos.
set -eu

usage() {
	sed -n '2,/^# Never/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

keytype=ecdsa
ca=ca
ca_keytype=ecdsa
password=
friendly=node
days=365
startdate=
enddate=
san=yes

while [ $# -gt 0 ]; do
	case "$1" in
	--ecdsa) keytype=ecdsa ;;
	--rsa) keytype=rsa ;;
	--ca) shift; ca=${1:?--ca needs a name} ;;
	--ca-rsa) ca_keytype=rsa ;;
	--ca-ecdsa) ca_keytype=ecdsa ;;
	--password) shift; password=${1?--password needs a value} ;;
	--friendly) shift; friendly=${1:?--friendly needs a name} ;;
	--days) shift; days=${1:?--days needs a number} ;;
	--startdate) shift; startdate=${1:?} ;;
	--enddate) shift; enddate=${1:?} ;;
	--no-san) san=no ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "mkcerts.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || usage
out=$1
shift

command -v openssl >/dev/null 2>&1 || { echo "mkcerts.sh: openssl not found" >&2; exit 127; }
mkdir -p "$out"
umask 077

genkey() { # TYPE FILE
	case "$1" in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
	ecdsa) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$2" 2>/dev/null ;;
	esac
}

cadir="$out/.$ca.d"
if [ ! -f "$out/$ca.pem" ] || [ ! -f "$out/$ca.key" ]; then
	mkdir -p "$cadir"
	genkey "$ca_keytype" "$out/$ca.key"
	openssl req -new -x509 -key "$out/$ca.key" -out "$out/$ca.pem" -days 3650 \
		-subj "/C=US/O=meshd test/CN=meshd test CA $ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null
	: >"$cadir/index.txt"
	# a random first serial: two CAs (or two runs) never hand out the same serial
	openssl rand -hex 8 | sed 's/^./1/' >"$cadir/serial"
fi
mkdir -p "$cadir"
[ -f "$cadir/index.txt" ] || : >"$cadir/index.txt"
[ -f "$cadir/serial" ] || openssl rand -hex 8 | sed 's/^./1/' >"$cadir/serial"

cat >"$cadir/ca.cnf" <<EOF
[ ca ]
default_ca = meshd_test
[ meshd_test ]
dir = $cadir
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $out/$ca.pem
private_key = $out/$ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
EOF

for spec in "$@"; do
	name=${spec%%:*}
	ips=
	case "$spec" in *:*) ips=${spec#*:} ;; esac
	[ -n "$name" ] || { echo "mkcerts.sh: empty node name in '$spec'" >&2; exit 2; }
	genkey "$keytype" "$out/$name.key"
	openssl req -new -key "$out/$name.key" -out "$cadir/$name.csr" \
		-subj "/C=US/O=meshd test/CN=$name" 2>/dev/null
	ext="$cadir/$name.ext"
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "subjectKeyIdentifier=hash"
		echo "authorityKeyIdentifier=keyid"
		if [ "$san" = yes ] && [ -n "$ips" ]; then
			printf 'subjectAltName='
			echo "$ips" | tr ',' '\n' | sed 's/^/IP:/' | paste -sd, -
		fi
	} >"$ext"
	if [ -n "$startdate" ] || [ -n "$enddate" ]; then
		dates="-startdate ${startdate:-$(date -u +%Y%m%d%H%M%SZ)} -enddate ${enddate:?--enddate needed}"
	else
		dates="-days $days"
	fi
	# shellcheck disable=SC2086
	openssl ca -batch -notext -config "$cadir/ca.cnf" -in "$cadir/$name.csr" \
		-out "$out/$name.pem" -extfile "$ext" $dates 2>"$cadir/$name.log" || {
		cat "$cadir/$name.log" >&2
		exit 1
	}
	openssl pkcs12 -export -in "$out/$name.pem" -inkey "$out/$name.key" \
		-certfile "$out/$ca.pem" -name "$friendly" -out "$out/$name.p12" \
		-passout "pass:$password"
done
