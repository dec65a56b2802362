#!/bin/sh
# bench_ike.sh — IKE handshake benchmark: meshd (tools/bench_ike) and strongSwan 5.9.8 in
# the same run (BENCHMARKS.md "IKE handshakes"; performance.md §5, §8).
#
#   tools/bench_ike.sh [BUILDDIR]     (root; BUILDDIR holds tools/bench_ike, default .)
#
# Environment: NE (ECDSA peers, default 1000), NR (RSA peers, 400), NN (NULL peers, 3000),
# NS (strongSwan IKE_SAs per case, 1000; 0 = skip strongSwan), ROUNDS (rounds, 1),
# PEERS (where tests/interop/fetch-peers.sh unpacks strongSwan; default
# BUILDDIR/tests/interop/peers, reused across runs).
# Makes a throw-away CA per key type and NE / NR distinct initiator certificates (one key
# pair per type) with openssl, an NSS database with tools/bench_ike mkdb, runs the three
# meshd cases, then strongSwan 5.9.8 on the same certificates and proposals in the same
# run (tools/bench_sswan.sh: two charon daemons in namespaces, childless IKE_SAs,
# performance.md §5). The load average is printed before each case: other work on the
# machine inflates every figure. Everything it starts is stopped by PID and its files are
# removed at exit.
set -eu

B=$(cd "${1:-.}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
NE=${NE:-1000}
NR=${NR:-400}
NN=${NN:-3000}
NS=${NS:-1000}
ROUNDS=${ROUNDS:-1}
PEERS=${PEERS:-$B/tests/interop/peers}
W=$(mktemp -d /tmp/bench_ike.XXXXXX)

cleanup() {
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

echo "# machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# NSS $(dpkg-query -W -f '${Version}' libnss3 2>/dev/null || echo '?'), $(openssl version)"

# ---- certificates ----
C=$W/c
mkdir -p "$C"
MK="$SRC/certs/mkcerts.sh"
sh "$MK" --friendly r "$C" r >/dev/null
sh "$MK" --friendly n0 "$C" n0 >/dev/null
sh "$MK" --rsa --ca rca --ca-rsa --friendly rr "$C" rr >/dev/null
sh "$MK" --rsa --ca rca --friendly rn0 "$C" rn0 >/dev/null
# NAME KEY CA N: certificates NAME1..NAME(N-1) for KEY's public key, DER, signed by CA
# (python3-cryptography: ~1 ms each; the openssl CLI fallback takes ~0.3 s each here)
mint() {
	if python3 -c 'import cryptography' 2>/dev/null; then
		python3 - "$C" "$@" <<'PY'
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
d, name, key, ca, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
load = lambda f: open(os.path.join(d, f), "rb").read()
pub = serialization.load_pem_private_key(load(key + ".key"), None).public_key()
cacert = x509.load_pem_x509_certificate(load(ca + ".pem"))
cakey = serialization.load_pem_private_key(load(ca + ".key"), None)
now = datetime.datetime.now(datetime.timezone.utc)
for i in range(1, n):
    subj = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshd test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "%s%d" % (name, i))])
    c = (x509.CertificateBuilder().subject_name(subj).issuer_name(cacert.subject)
         .public_key(pub).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                      False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             cakey.public_key()), critical=False)
         .sign(cakey, hashes.SHA256()))
    open(os.path.join(d, "%s%d.der" % (name, i)), "wb").write(
        c.public_bytes(serialization.Encoding.DER))
PY
		return
	fi
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$C/ext"
	i=1
	while [ "$i" -lt "$4" ]; do
		openssl req -new -key "$C/$2.key" -subj "/C=US/O=meshd test/CN=$1$i" 2>/dev/null |
			openssl x509 -req -CA "$C/$3.pem" -CAkey "$C/$3.key" \
			-set_serial "$((0x$(openssl rand -hex 6) + i))" -days 30 -sha256 \
			-extfile "$C/ext" -outform DER -out "$C/$1$i.der" 2>/dev/null
		i=$((i + 1))
	done
}
t0=$(date +%s)
mint n n0 ca "$NE"
mint rn rn0 rca "$NR"
echo "# $NE ECDSA + $NR RSA initiator certificates in $(($(date +%s) - t0)) s"
NSSDIR=sql:$W/nss
mkdir -p "$W/nss"
"$B/tools/bench_ike" mkdb "$NSSDIR" "$C" "$NE" "$NR"

loadavg() { echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) before $*"; }

# ---- meshd ----
r=0
while [ $r -lt "$ROUNDS" ]; do
	loadavg meshd ecdsa
	"$B/tools/bench_ike" run ecdsa "$NSSDIR" "$NE" "$C"
	loadavg meshd rsa
	"$B/tools/bench_ike" run rsa "$NSSDIR" "$NR" "$C"
	loadavg meshd null
	"$B/tools/bench_ike" run null "$NSSDIR" "$NN" "$C"
	r=$((r + 1))
done

# ---- strongSwan 5.9.8, same certificates and proposals (tools/bench_sswan.sh) ----
[ "$NS" -gt 0 ] || exit 0
rc=0
sh "$SRC/tests/interop/fetch-peers.sh" --strongswan "$PEERS" >/dev/null || rc=$?
if [ $rc -ne 0 ]; then
	echo "# strongSwan: not run (tests/interop/fetch-peers.sh exit $rc)"
	exit 0
fi
echo "# $(grep strongswan "$PEERS/versions" 2>/dev/null || echo strongswan)"
r=0
while [ $r -lt "$ROUNDS" ]; do
	loadavg strongswan ecdsa
	sh "$SRC/tools/bench_sswan.sh" ecdsa x25519 "$NS" "$C" "$PEERS" | sed "s/^/sswan  ecdsa n=$NS /"
	loadavg strongswan rsa
	sh "$SRC/tools/bench_sswan.sh" rsa modp2048 "$NS" "$C" "$PEERS" | sed "s/^/sswan  rsa   n=$NS /"
	r=$((r + 1))
done
