/* test_cert.c — the cert module against real NSS databases: certificates are made at test
 * time by certs/mkcerts.sh (openssl), imported with cert_initnss/cert_import_p12 into one
 * NSS DB per node, then signed with by one node and verified by another (RSA-PSS and ECDSA,
 * SHA-256/384/512), with the failure cases (bad signature, untrusted CA, IP SAN mismatch,
 * expired, malformed), the verification cache, method 1, interop with OpenSSL-made
 * signatures, the RFC 7427 Appendix A AlgorithmIdentifier bytes, idempotent import and
 * renewal, and listcerts.
 *
 * NSS keeps process-wide state, so each test runs forked (Check's default) and opens one
 * DB; whatever needs a second DB (signing as another node, the admin functions) runs in a
 * child process. Set MESHD_CERT_BENCH=N for N rounds of the timing case (default 20). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "cert.h"
#include "cert_ike.h"
#include "crypto.h"
#include "log.h"
#include "unit.h"

static char tmp[256];                 /* the fixture's directory; "" when it could not run */
static struct log quiet;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void db_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "sql:%s/db_%s", tmp, name);
}

/* Run fn(arg) in a child (its own NSS); returns its exit status. */
static int in_child(int (*fn)(const void *arg), const void *arg)
{
	int st = 0;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

struct import_req {
	const char *db, *file, *pw;
	bool no_init;
};

static int do_import(const void *arg)
{
	const struct import_req *q = arg;
	if (!q->no_init && cert_initnss(q->db, &quiet) != 0)
		return 10;
	return -cert_import_p12(q->db, q->file, q->pw, &quiet);
}

/* make DB name from OUT/c/<p12>.p12 */
static void mkdb(const char *name, const char *p12)
{
	char db[300], file[300];
	db_path(db, sizeof(db), name);
	snprintf(file, sizeof(file), "%s/c/%s.p12", tmp, p12);
	struct import_req q = { db, file, "", false };
	ck_assert_int_eq(in_child(do_import, &q), 0);
}

static void fixture_setup(void)
{
	char dir[] = "/tmp/test_cert.XXXXXX";
	const char *src = getenv("top_srcdir");

	log_init(&quiet, LOG_SINK_NONE, false, "test");
	tmp[0] = '\0';
	if (system("openssl version >/dev/null 2>&1") != 0)
		return;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tmp, sizeof(tmp), "%s", dir);
	if (src == NULL)
		src = ".";
	const char *mk = "certs/mkcerts.sh";
	sh("cd %s && MK=$(cd '%s' && pwd)/%s && sh $MK c a:192.0.2.1,2001:db8::1 b:192.0.2.2 "
	   "nosan && sh $MK --rsa c r:192.0.2.3 && sh $MK --ca evil c x:192.0.2.4 && "
	   "sh $MK --startdate 20200101000000Z --enddate 20200102000000Z c old:192.0.2.5 && "
	   "sh $MK --password s3cret c pw:192.0.2.6 && "
	   "sh $MK --startdate 20250101000000Z --enddate 20350101000000Z c n:192.0.2.7 && "
	   "mv c/n.p12 c/n_old.p12 && sh $MK c n:192.0.2.7 && "
	   "for f in a b nosan r x old n; do openssl x509 -in c/$f.pem -outform DER -out c/$f.der; done",
	   tmp, src, mk);
	mkdb("a", "a");
	mkdb("b", "b");
	mkdb("r", "r");
}

static void fixture_teardown(void)
{
	if (tmp[0] != '\0' && getenv("MESHD_TEST_KEEP") == NULL)
		sh("rm -rf '%s'", tmp);
}

static void need_fixture(void)
{
	ck_assert_msg(tmp[0] != '\0', "no fixture");
}

static void read_file(const char *name, struct buf *out)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/c/%s", tmp, name);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	uint8_t b[8192];
	size_t n = fread(b, 1, sizeof(b), f);
	fclose(f);
	ck_assert_int_eq(buf_dup(out, b, n), 0);
}

/* ---- one node's view ---- */

struct node {
	struct crypto *c;
	struct cert_store *s;
};

static void node_open(struct node *n, const char *name)
{
	char db[300];
	need_fixture();
	db_path(db, sizeof(db), name);
	ck_assert_int_eq(crypto_init(&n->c, db), 0);
	ck_assert_int_eq(cert_open(&n->s, n->c, "node", &quiet), 0);
}

static void node_close(struct node *n)
{
	cert_close(n->s);
	crypto_free(n->c);
}

/* sign as another node, in a child, through a pipe */
struct sign_req {
	const char *db;
	uint16_t hash;
	const uint8_t *data;
	size_t len;
	int fd;
};

static int do_sign(const void *arg)
{
	const struct sign_req *q = arg;
	struct crypto *c;
	struct cert_store *s;
	struct buf alg, sig;
	char db[300];
	db_path(db, sizeof(db), q->db);
	if (crypto_init(&c, db) != 0 || cert_open(&s, c, "node", &quiet) != 0)
		return 1;
	if (cert_sign(s, q->hash, q->data, q->len, &alg, &sig) != 0)
		return 2;
	uint32_t l[2] = { (uint32_t)alg.len, (uint32_t)sig.len };
	if (write(q->fd, l, sizeof(l)) != sizeof(l) || write(q->fd, alg.p, alg.len) != (ssize_t)alg.len ||
	    write(q->fd, sig.p, sig.len) != (ssize_t)sig.len)
		return 3;
	buf_free(&alg);
	buf_free(&sig);
	cert_close(s);
	crypto_free(c);
	return 0;
}

static void sign_as(const char *db, uint16_t hash, const uint8_t *data, size_t len,
		    struct buf *alg, struct buf *sig)
{
	int p[2];
	uint32_t l[2];
	uint8_t b[2048];
	ck_assert_int_eq(pipe(p), 0);
	struct sign_req q = { db, hash, data, len, p[1] };
	ck_assert_int_eq(in_child(do_sign, &q), 0);
	close(p[1]);
	ck_assert_int_eq(read(p[0], l, sizeof(l)), sizeof(l));
	ck_assert_uint_le(l[0] + l[1], sizeof(b));
	ck_assert_int_eq(read(p[0], b, l[0] + l[1]), (ssize_t)(l[0] + l[1]));
	close(p[0]);
	ck_assert_int_eq(buf_dup(alg, b, l[0]), 0);
	ck_assert_int_eq(buf_dup(sig, b + l[0], l[1]), 0);
}

static struct addr ip(const char *s)
{
	struct addr a;
	ck_assert(addr_parse(s, &a));
	return a;
}

static int verify(struct node *n, const char *who, const char *addr, struct cert_peer *p,
		  const char **why)
{
	struct buf der = { NULL, 0 };
	char f[64];
	struct addr a = ip(addr);
	snprintf(f, sizeof(f), "%s.der", who);
	read_file(f, &der);
	int r = cert_verify_peer(n->s, der.p, der.len, NULL, 0, &a, p, why);
	buf_free(&der);
	return r;
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* RFC 7427 Appendix A (A.3.3 / A.4.3 pattern for SHA-384/512, as Libreswan and strongSwan) */
static const char *const PSS_HEX[] = {
	"304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886"
	"f70d010108300d06096086480165030402010500a203020120",
	"304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886"
	"f70d010108300d06096086480165030402020500a203020130",
	"304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886"
	"f70d010108300d06096086480165030402030500a203020140",
};
static const char *const ECDSA_HEX[] = {
	"300a06082a8648ce3d040302", "300a06082a8648ce3d040303", "300a06082a8648ce3d040304",
};

/* ---- tests ---- */

START_TEST(t_self)
{
	struct node n;
	node_open(&n, "a");
	const struct cert_self *me = cert_self(n.s);
	ck_assert_int_eq(me->key, CERT_KEY_ECDSA);
	ck_assert_uint_eq(me->key_bits, 256);
	ck_assert_str_eq(me->subject, "C=US, O=meshd test, CN=a");
	ck_assert_str_eq(me->issuer, "C=US, O=meshd test, CN=meshd test CA ca");
	ck_assert_uint_gt(me->der.len, 100);
	ck_assert_uint_gt(me->subject_der.len, 10);
	ck_assert_int_eq(me->subject_der.p[0], 0x30);
	ck_assert(me->not_after > time(NULL));
	ck_assert(me->serial[0] != '\0');
	node_close(&n);

	node_open(&n, "r");
	ck_assert_int_eq(cert_self(n.s)->key, CERT_KEY_RSA);
	ck_assert_uint_eq(cert_self(n.s)->key_bits, 2048);
	ck_assert_str_eq(cert_self(n.s)->subject, "C=US, O=meshd test, CN=r");
	/* no such nickname: NULL-auth only, not an error */
	struct cert_store *s2;
	ck_assert_int_eq(cert_open(&s2, n.c, "nosuch", &quiet), 0);
	ck_assert_int_eq(cert_self(s2)->key, CERT_KEY_NONE);
	struct buf alg, sig;
	ck_assert_int_eq(cert_sign(s2, 2, (const uint8_t *)"x", 1, &alg, &sig), -ENOKEY);
	cert_close(s2);
	node_close(&n);
}
END_TEST

static void sign_verify_case(const char *signer, const char *addr, bool ec)
{
	static const uint8_t data[] = "IKE_SA_INIT | Nr | prf(SK_pi, IDi')";
	struct buf algs[3], sigs[3];
	struct node b;
	/* sign first: a child forked after NSS is up would inherit this process's DB */
	need_fixture();
	for (uint16_t h = 2; h <= 4; h++)
		sign_as(signer, h, data, sizeof(data), &algs[h - 2], &sigs[h - 2]);
	node_open(&b, "b");
	for (uint16_t h = 2; h <= 4; h++) {
		struct buf alg = algs[h - 2], sig = sigs[h - 2];
		struct cert_peer p;
		const char *why = NULL;
		uint8_t want[128];
		size_t wlen = unhex(ec ? ECDSA_HEX[h - 2] : PSS_HEX[h - 2], want);

		ck_assert_uint_eq(alg.len, wlen);
		ck_assert_mem_eq(alg.p, want, wlen);
		ck_assert_int_eq(verify(&b, signer, addr, &p, &why), 0);
		ck_assert_ptr_null(why);
		ck_assert_int_eq(p.key, ec ? CERT_KEY_ECDSA : CERT_KEY_RSA);
		ck_assert(p.has_ip_san);
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, alg.p, alg.len, data, sizeof(data),
						 sig.p, sig.len), 0);
		/* wrong data */
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, alg.p, alg.len, data, sizeof(data) - 1,
						 sig.p, sig.len), -EBADMSG);
		/* flipped signature byte (in the value, not just the DER framing) */
		sig.p[sig.len - 3] ^= 0x01;
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, alg.p, alg.len, data, sizeof(data),
						 sig.p, sig.len), -EBADMSG);
		/* truncated */
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, alg.p, alg.len, data, sizeof(data),
						 sig.p, sig.len / 2), -EBADMSG);
		/* malformed AlgorithmIdentifier */
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, alg.p, alg.len - 1, data, sizeof(data),
						 sig.p, sig.len), -EINVAL);
		/* an algorithm that does not fit the key */
		uint8_t other[128];
		size_t olen = unhex(ec ? PSS_HEX[0] : ECDSA_HEX[0], other);
		ck_assert_int_eq(cert_verify_sig(b.s, &p, 14, other, olen, data, sizeof(data),
						 sig.p, sig.len), -EINVAL);
		cert_peer_free(&p);
		buf_free(&alg);
		buf_free(&sig);
	}
	node_close(&b);
}

START_TEST(t_sign_verify_ecdsa)
{
	sign_verify_case("a", "192.0.2.1", true);
}
END_TEST

START_TEST(t_sign_verify_rsa)
{
	sign_verify_case("r", "192.0.2.3", false);
}
END_TEST

START_TEST(t_reject)
{
	struct node b;
	struct cert_peer p;
	const char *why = NULL;
	node_open(&b, "b");
	ck_assert_int_eq(verify(&b, "x", "192.0.2.4", &p, &why), -EACCES);
	ck_assert_str_eq(why, "certificate issuer is not trusted");
	ck_assert_int_eq(verify(&b, "old", "192.0.2.5", &p, &why), -EACCES);
	ck_assert_str_eq(why, "certificate expired");
	ck_assert_int_eq(verify(&b, "a", "192.0.2.99", &p, &why), -EACCES);
	ck_assert_str_eq(why, "peer address not in the certificate's subjectAltName");
	ck_assert_int_eq(verify(&b, "a", "2001:db8::2", &p, &why), -EACCES);
	ck_assert_int_eq(verify(&b, "a", "2001:db8::1", &p, &why), 0);
	cert_peer_free(&p);
	/* no IP SAN: any address */
	ck_assert_int_eq(verify(&b, "nosan", "198.51.100.1", &p, &why), 0);
	ck_assert(!p.has_ip_san);
	ck_assert_str_eq(p.subject, "C=US, O=meshd test, CN=nosan");
	ck_assert_str_eq(p.issuer, "C=US, O=meshd test, CN=meshd test CA ca");
	cert_peer_free(&p);
	/* malformed DER */
	static const uint8_t junk[] = { 0x30, 0x82, 0x01, 0x00, 0x01, 0x02 };
	ck_assert_int_eq(cert_verify_peer(b.s, junk, sizeof(junk), NULL, 0, NULL, &p, &why),
			 -EINVAL);
	ck_assert_str_eq(why, "malformed certificate");
	ck_assert_int_eq(cert_verify_peer(b.s, junk, 0, NULL, 0, NULL, &p, &why), -EINVAL);
	/* a corrupted signature on the certificate */
	struct buf der;
	read_file("a.der", &der);
	der.p[der.len - 5] ^= 0x40;
	struct addr a = ip("192.0.2.1");
	int r = cert_verify_peer(b.s, der.p, der.len, NULL, 0, &a, &p, &why);
	ck_assert_int_ne(r, 0);
	ck_assert_msg(strcmp(why, "certificate signature is invalid") == 0 ||
		      strcmp(why, "malformed certificate") == 0, "why: %s", why);
	buf_free(&der);
	node_close(&b);
}
END_TEST

START_TEST(t_cache)
{
	struct node b;
	struct cert_peer p, q;
	struct cert_stats st;
	const char *why = NULL;
	node_open(&b, "b");
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &p, &why), 0);
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &q, &why), 0);
	cert_get_stats(b.s, &st);
	ck_assert_uint_eq(st.verify_cold, 1);
	ck_assert_uint_eq(st.verify_cached, 1);
	/* the cached peer shares the imported key, and outlives the cache entry */
	ck_assert_ptr_eq(p.pubkey, q.pubkey);
	ck_assert_str_eq(q.subject, p.subject);
	ck_assert_mem_eq(q.subject_der.p, p.subject_der.p, p.subject_der.len);
	/* the IP SAN rule holds on a cache hit too */
	struct cert_peer x;
	ck_assert_int_eq(verify(&b, "a", "192.0.2.77", &x, &why), -EACCES);
	ck_assert_str_eq(why, "peer address not in the certificate's subjectAltName");
	cert_get_stats(b.s, &st);
	ck_assert_uint_eq(st.verify_cold, 1);
	ck_assert_uint_eq(st.verify_cached, 2);
	ck_assert_uint_eq(st.verify_failed, 1);
	/* a reload forgets; the peer keys stay usable */
	ck_assert_int_eq(cert_reload(b.s, "node"), 0);
	static const uint8_t d[] = "x";
	ck_assert_int_eq(cert_verify_sig(b.s, &q, 14, (const uint8_t *)"\x30\x0a\x06\x08\x2a\x86\x48"
					 "\xce\x3d\x04\x03\x02", 12, d, 1, d, 1), -EBADMSG);
	cert_peer_free(&p);
	cert_peer_free(&q);
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &p, &why), 0);
	cert_get_stats(b.s, &st);
	ck_assert_uint_eq(st.verify_cold, 2);
	cert_peer_free(&p);
	node_close(&b);
}
END_TEST

/* Set the trust of the CA (the certificate with CT,, trust, or the one named in *nick) in
 * db as another process does (certutil -M): the daemon's NSS keeps its own view. */
static int set_ca_trust(const char *db, const char *trust, char *nick, size_t cap)
{
	char cmd[1024];
	if (!nick[0]) {
		snprintf(cmd, sizeof(cmd), "certutil -L -d %s | sed -n 's/^\\(.*[^ ]\\)  *CT,,.*$/\\1/p'", db);
		FILE *f = popen(cmd, "r");
		ck_assert_ptr_nonnull(f);
		if (!fgets(nick, (int)cap, f))
			nick[0] = '\0';
		pclose(f);
		nick[strcspn(nick, "\n")] = '\0';
		ck_assert_msg(nick[0], "no CT,, certificate in %s", db);
	}
	snprintf(cmd, sizeof(cmd), "certutil -M -d %s -n '%s' -t '%s'", db, nick, trust);
	return system(cmd);
}

/* A CA distrusted by another process while we hold it (the anchors, libpkix's caches):
 * after cert_reload its peers are refused; trusted again, accepted (issue #8 item 6). */
START_TEST(t_trust_other_process)
{
	struct node b;
	struct cert_peer p;
	const char *why = NULL;
	char db[300], nick[256] = "";
	if (system("command -v certutil >/dev/null 2>&1") != 0) {
		fprintf(stderr, "t_trust_other_process: certutil not installed, not run\n");
		return;
	}
	node_open(&b, "b");
	db_path(db, sizeof(db), "b");
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &p, &why), 0);
	cert_peer_free(&p);
	ck_assert_int_eq(set_ca_trust(db, ",,", nick, sizeof(nick)), 0);
	ck_assert_int_eq(cert_reload(b.s, "node"), 0);
	int r = verify(&b, "a", "192.0.2.1", &p, &why);
	if (r == 0)
		cert_peer_free(&p);
	/* (trust back first: the other tests share the database) */
	ck_assert_int_eq(set_ca_trust(db, "CT,,", nick, sizeof(nick)), 0);
	ck_assert_int_eq(r, -EACCES);
	ck_assert_msg(strstr(why, "trusted") != NULL || strstr(why, "issuer") != NULL, "why: %s",
		      why);
	ck_assert_int_eq(cert_reload(b.s, "node"), 0);
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &p, &why), 0);
	cert_peer_free(&p);
	node_close(&b);
}
END_TEST

/* Signatures made by OpenSSL with the node keys: method 1, PKCS#1 v1.5 and PSS in method 14,
 * ECDSA; and OpenSSL verifies ours (interop both ways). */
START_TEST(t_openssl_interop)
{
	struct node b;
	struct cert_peer pr, pa;
	const char *why;
	struct buf sig, alg, sig2;
	uint8_t a[128];
	struct buf alg_a, sig_a, alg_r, sig_r;
	const uint8_t *d = (const uint8_t *)"signed octets";
	need_fixture();
	sign_as("a", 2, d, 13, &alg_a, &sig_a);
	sign_as("r", 3, d, 13, &alg_r, &sig_r);
	node_open(&b, "b");
	sh("cd %s/c && printf 'signed octets' >data && "
	   "openssl dgst -sha1 -sign r.key -out m1.sig data && "
	   "openssl dgst -sha384 -sign r.key -out p1.sig data && "
	   "openssl dgst -sha512 -sign r.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 "
	   "-out pss.sig data && openssl dgst -sha256 -sign a.key -out ec.sig data", tmp);
	ck_assert_int_eq(verify(&b, "r", "192.0.2.3", &pr, &why), 0);
	ck_assert_int_eq(verify(&b, "a", "192.0.2.1", &pa, &why), 0);
	read_file("m1.sig", &sig);
	ck_assert_int_eq(cert_verify_sig(b.s, &pr, 1, NULL, 0, d, 13, sig.p, sig.len), 0);
	ck_assert_int_eq(cert_verify_sig(b.s, &pr, 1, NULL, 0, d, 12, sig.p, sig.len), -EBADMSG);
	ck_assert_int_eq(cert_verify_sig(b.s, &pa, 1, NULL, 0, d, 13, sig.p, sig.len), -EINVAL);
	buf_free(&sig);
	read_file("p1.sig", &sig);
	ck_assert_int_eq(cert_verify_sig(b.s, &pr, 14, a, unhex("300d06092a864886f70d01010c0500", a),
					 d, 13, sig.p, sig.len), 0);
	buf_free(&sig);
	read_file("pss.sig", &sig);
	ck_assert_int_eq(cert_verify_sig(b.s, &pr, 14, a, unhex(PSS_HEX[2], a), d, 13, sig.p,
					 sig.len), 0);
	/* the same with another salt length claimed: must fail */
	size_t n = unhex(PSS_HEX[2], a);
	a[n - 1] = 0x20;
	ck_assert_int_eq(cert_verify_sig(b.s, &pr, 14, a, n, d, 13, sig.p, sig.len), -EBADMSG);
	buf_free(&sig);
	read_file("ec.sig", &sig);
	ck_assert_int_eq(cert_verify_sig(b.s, &pa, 14, a, unhex(ECDSA_HEX[0], a), d, 13, sig.p,
					 sig.len), 0);
	buf_free(&sig);
	/* ours, checked by OpenSSL */
	alg = alg_a;
	sig2 = sig_a;
	FILE *f;
	char path[300];
	snprintf(path, sizeof(path), "%s/c/ours.sig", tmp);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(sig2.p, 1, sig2.len, f), sig2.len);
	fclose(f);
	sh("cd %s/c && openssl x509 -in a.pem -pubkey -noout >a.pub && "
	   "openssl dgst -sha256 -verify a.pub -signature ours.sig data >/dev/null", tmp);
	buf_free(&alg);
	buf_free(&sig2);
	alg = alg_r;
	sig2 = sig_r;
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(sig2.p, 1, sig2.len, f), sig2.len);
	fclose(f);
	sh("cd %s/c && openssl x509 -in r.pem -pubkey -noout >r.pub && "
	   "openssl dgst -sha384 -verify r.pub -sigopt rsa_padding_mode:pss -sigopt "
	   "rsa_pss_saltlen:48 -signature ours.sig data >/dev/null", tmp);
	buf_free(&alg);
	buf_free(&sig2);
	cert_peer_free(&pr);
	cert_peer_free(&pa);
	node_close(&b);
}
END_TEST

/* ---- expiry wording (status, log, listcerts, check) ---- */

START_TEST(t_expiry_str)
{
	char b[48];
	time_t now = 1800000000;
	ck_assert(cert_expiry_str(now + 3 * 86400 + 5, now, 14 * 86400, b, sizeof(b)));
	ck_assert_str_eq(b, "in 3 days");
	ck_assert(!cert_expiry_str(now + 301 * 86400, now, 14 * 86400, b, sizeof(b)));
	ck_assert_str_eq(b, "in 301 days");
	ck_assert(cert_expiry_str(now + 7200, now, 86400, b, sizeof(b)));
	ck_assert_str_eq(b, "in 2 hours");
	ck_assert(cert_expiry_str(now - 2 * 86400, now, 14 * 86400, b, sizeof(b)));
	ck_assert_str_eq(b, "EXPIRED 2 days ago");
}
END_TEST

/* ---- administration ---- */

static int do_list(const void *arg)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/list.%s", tmp, (const char *)arg);
	FILE *f = fopen(path, "w");
	char db[300];
	db_path(db, sizeof(db), "imp");
	/* "warn": a horizon of 365 days, which the test certificates (days) are within */
	uint32_t warn = strcmp(arg, "warn") == 0 ? 365u * 86400 : 0;
	int r = cert_list(db, f, strcmp(arg, "json") == 0, warn);
	fclose(f);
	return -r;
}

static bool file_has(const char *name, const char *needle)
{
	char path[300], b[8192];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(b, 1, sizeof(b) - 1, f);
	fclose(f);
	b[n] = '\0';
	return strstr(b, needle) != NULL;
}

START_TEST(t_import)
{
	char db[300], f[300], g[300];
	need_fixture();
	db_path(db, sizeof(db), "imp");
	snprintf(f, sizeof(f), "%s/c/pw.p12", tmp);
	snprintf(g, sizeof(g), "%s/c/a.p12", tmp);
	struct import_req wrong = { db, f, "nope", false }, right = { db, f, "s3cret", false },
			  a = { db, g, "", false };
	ck_assert_int_eq(in_child(do_import, &wrong), EACCES);
	ck_assert_int_eq(in_child(do_import, &right), 0);
	ck_assert_int_eq(in_child(do_import, &right), 0);      /* again: a no-op */
	ck_assert_int_eq(in_child(do_import, &a), 0);
	ck_assert_int_eq(in_child(do_import, &a), 0);
	ck_assert_int_eq(in_child(do_list, "text"), 0);
	ck_assert_int_eq(in_child(do_list, "json"), 0);
	ck_assert(file_has("list.text", "CT,,"));
	ck_assert(file_has("list.text", "C=US, O=meshd test, CN=pw"));
	ck_assert(file_has("list.json", "\"nickname\":\"node\""));
	ck_assert(file_has("list.json", "\"trust\":\"CT,,\""));
	ck_assert(file_has("list.json", "\"private_key\":true"));
	ck_assert(file_has("list.json", "\"expiry_warning\":false"));
	ck_assert(!file_has("list.text", "WARNING"));
	ck_assert(file_has("list.text", "; expires in "));
	ck_assert_int_eq(in_child(do_list, "warn"), 0);
	ck_assert(file_has("list.warn", "WARNING: expires in "));
	/* no DB: import refuses to create one */
	char nodb[300];
	snprintf(nodb, sizeof(nodb), "sql:%s/no-db", tmp);
	struct import_req none = { nodb, g, "", true };
	ck_assert_int_eq(in_child(do_import, &none), ENOENT);
}
END_TEST

static void renew_case(const char *db, const char *first, const char *second)
{
	char d[300], f1[300], f2[300];
	db_path(d, sizeof(d), db);
	snprintf(f1, sizeof(f1), "%s/c/%s.p12", tmp, first);
	snprintf(f2, sizeof(f2), "%s/c/%s.p12", tmp, second);
	struct import_req q1 = { d, f1, "", false }, q2 = { d, f2, "", false };
	ck_assert_int_eq(in_child(do_import, &q1), 0);
	ck_assert_int_eq(in_child(do_import, &q2), 0);
	/* the renewed certificate (n.p12) is the newest valid one */
	struct node n;
	node_open(&n, db);
	sh("cd %s/c && test \"$(openssl x509 -in n.pem -noout -serial | cut -d= -f2 | "
	   "tr A-F a-f | sed 's/^0*//')\" = \"$(echo %s | sed 's/^0*//')\"", tmp,
	   cert_self(n.s)->serial);
	ck_assert_str_eq(cert_self(n.s)->subject, "C=US, O=meshd test, CN=n");
	ck_assert(cert_self(n.s)->not_before > 1767225600);     /* 2026-01-01 */
	node_close(&n);
}

START_TEST(t_renew)
{
	need_fixture();
	renew_case("renew1", "n_old", "n");
	renew_case("renew2", "n", "n_old");     /* the order of import does not matter */
}
END_TEST

START_TEST(t_initnss_idempotent)
{
	char db[300];
	need_fixture();
	db_path(db, sizeof(db), "init");
	struct import_req q = { db, "/nonexistent.p12", "", false };
	ck_assert_int_eq(in_child(do_import, &q), ENOENT);   /* initnss ok, the file is not */
	ck_assert_int_eq(in_child(do_import, &q), ENOENT);
}
END_TEST

/* ---- timing (printed, not asserted) ---- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

START_TEST(t_bench)
{
	const char *e = getenv("MESHD_CERT_BENCH");
	int rounds = e != NULL ? atoi(e) : 20;
	static const uint8_t d[64] = { 1 };
	const char *nodes[] = { "a", "r" };
	if (rounds <= 0)
		rounds = 20;
	for (int k = 0; k < 2; k++) {
		struct node n;
		struct buf alg, sig, der;
		struct cert_peer p;
		const char *why;
		struct addr a = ip(k == 0 ? "192.0.2.1" : "192.0.2.3");
		double t0, sign_us, cold_us = 0, warm_us, vs_us;

		node_open(&n, nodes[k]);
		t0 = now_us();
		for (int i = 0; i < rounds; i++) {
			ck_assert_int_eq(cert_sign(n.s, 2, d, sizeof(d), &alg, &sig), 0);
			if (i + 1 < rounds) {
				buf_free(&alg);
				buf_free(&sig);
			}
		}
		sign_us = (now_us() - t0) / rounds;
		read_file(k == 0 ? "a.der" : "r.der", &der);
		for (int i = 0; i < rounds; i++) {
			ck_assert_int_eq(cert_reload(n.s, "node"), 0);     /* empties the cache */
			t0 = now_us();
			ck_assert_int_eq(cert_verify_peer(n.s, der.p, der.len, NULL, 0, &a, &p, &why), 0);
			cold_us += now_us() - t0;
			cert_peer_free(&p);
		}
		cold_us /= rounds;
		t0 = now_us();
		for (int i = 0; i < rounds * 10; i++) {
			ck_assert_int_eq(cert_verify_peer(n.s, der.p, der.len, NULL, 0, &a, &p, &why), 0);
			if (i + 1 < rounds * 10)
				cert_peer_free(&p);
		}
		warm_us = (now_us() - t0) / (rounds * 10);
		t0 = now_us();
		for (int i = 0; i < rounds; i++)
			ck_assert_int_eq(cert_verify_sig(n.s, &p, 14, alg.p, alg.len, d, sizeof(d),
							 sig.p, sig.len), 0);
		vs_us = (now_us() - t0) / rounds;
		fprintf(stderr, "bench %s: cert_sign %.0f us, cert_verify_peer cold %.0f us, "
			"cached %.1f us, cert_verify_sig %.0f us\n",
			k == 0 ? "ECDSA P-256" : "RSA-2048 PSS", sign_us, cold_us, warm_us, vs_us);
		cert_peer_free(&p);
		buf_free(&der);
		buf_free(&alg);
		buf_free(&sig);
		node_close(&n);
	}
}
END_TEST

/* IDs against certificate subjects: the same DN with other string types is the same DN
 * (strongSwan encodes its id= text as PrintableString, openssl's certificates UTF8String) */
START_TEST(t_dn_eq)
{
	static const uint8_t utf8[] = {
		0x30, 0x22, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'U', 'S',
		0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0a,
		'm', 'e', 's', 'h', 'd', ' ', 't', 'e', 's', 't' };
	uint8_t printable[sizeof(utf8)], other[sizeof(utf8)], bad[sizeof(utf8)];
	memcpy(printable, utf8, sizeof(utf8));
	printable[24] = 0x13;
	memcpy(other, printable, sizeof(utf8));
	other[26] = 'n';
	memcpy(bad, utf8, sizeof(utf8));
	bad[1] = 0x30;
	ck_assert(cert_ike_dn_eq(utf8, sizeof(utf8), utf8, sizeof(utf8)));
	ck_assert(cert_ike_dn_eq(utf8, sizeof(utf8), printable, sizeof(printable)));
	ck_assert(cert_ike_dn_eq(printable, sizeof(printable), utf8, sizeof(utf8)));
	ck_assert(!cert_ike_dn_eq(utf8, sizeof(utf8), other, sizeof(other)));
	ck_assert(!cert_ike_dn_eq(utf8, sizeof(utf8), bad, sizeof(bad)));
	ck_assert(!cert_ike_dn_eq(utf8, sizeof(utf8), utf8, 0));
}
END_TEST

static Suite *cert_suite(void)
{
	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: test_cert needs the openssl command to make certificates\n");
		exit(77);
	}
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("cert");
	tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_self);
	tcase_add_test(tc, t_sign_verify_ecdsa);
	tcase_add_test(tc, t_sign_verify_rsa);
	tcase_add_test(tc, t_reject);
	tcase_add_test(tc, t_cache);
	tcase_add_test(tc, t_trust_other_process);
	tcase_add_test(tc, t_openssl_interop);
	tcase_add_test(tc, t_import);
	tcase_add_test(tc, t_renew);
	tcase_add_test(tc, t_expiry_str);
	tcase_add_test(tc, t_initnss_idempotent);
	tcase_add_test(tc, t_bench);
	tcase_add_test(tc, t_dn_eq);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(cert_suite)
