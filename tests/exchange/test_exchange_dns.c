/* test_exchange_dns.c — IKE_AUTH with peer keys from DNSSEC (rightrsasigkey=%dnsondemand,
 * libreswan-oe.md §4.3) between two meshd daemons in one process (xnet.h), with a FAKE
 * resolver (dns_new_fake): each lookup is answered from a table and delivered through the
 * resolver's eventfd like a real answer.
 *
 *   A 10.0.1.1, leftid=10.0.1.1, key of certificate "a" (ECDSA P-256)
 *   B 10.0.2.2, leftid=10.0.2.2, key of certificate "b"
 *   1.1.0.10.in-addr.arpa. IPSECKEY = a's key, 2.2.0.10.in-addr.arpa. IPSECKEY = b's key
 *
 * The initiator starts its lookup when it sends IKE_SA_INIT; the responder on IKE_AUTH,
 * suspending the exchange until the answer arrives. Cases: both sides by DNS; the cache
 * on a second handshake (no second lookup); a wrong key (AUTHENTICATION_FAILED, failure
 * shunt with the reason); BOGUS, MISSING and INSECURE answers (failure with the DNS
 * reason), on the initiator's and on the responder's side; an SA deleted while its lookup
 * is pending (cancelled, no callback). The signing keys come from certificates made by
 * certs/mkcerts.sh (skipped without openssl). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cert.h"
#include "cert_hostkey.h"
#include "ctx.h"
#include "dns.h"
#include "exchange.h"
#include "ike.h"
#include "ike_auth.h"
#include "kernel_mock.h"
#include "oe.h"
#include "shunt.h"
#include "unit.h"
#include "xnet.h"

static char tmp[256];                 /* fixture directory, "" when openssl is missing */
static char nssdir[300];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* NSS administration runs in a child: the parent must not initialise NSS before Check
 * forks the tests. */
static int import_all(void)
{
	static const char *const files[] = { "a", "b" };
	struct log quiet;
	char f[400];
	log_init(&quiet, LOG_SINK_NONE, false, "test");
	if (cert_initnss(nssdir, &quiet) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(f, sizeof(f), "%s/c/%s.p12", tmp, files[i]);
		if (cert_import_p12(nssdir, f, "", &quiet) != 0)
			return 2 + (int)i;
	}
	/* raw key pairs without certificates (meshctl newhostkey): ka ECDSA, kb RSA */
	static const char *const raw[] = { "ka", "kb" };
	for (size_t i = 0; i < 2; i++) {
		struct buf spki = { 0 };
		if (cert_hostkey_new(nssdir, raw[i], i ? CERT_KEY_RSA : CERT_KEY_ECDSA, 2048, &spki,
				     &quiet) != 0)
			return 10 + (int)i;
		snprintf(f, sizeof(f), "%s/c/%s.spki", tmp, raw[i]);
		FILE *fp = fopen(f, "wb");
		if (!fp || fwrite(spki.p, 1, spki.len, fp) != spki.len || fclose(fp) != 0)
			return 12;
		buf_free(&spki);
	}
	return 0;
}

static void fixture_setup(void)
{
	char dir[] = "/tmp/test_xdns.XXXXXX";
	const char *src = getenv("top_srcdir");
	tmp[0] = '\0';
	if (system("openssl version >/dev/null 2>&1") != 0)
		return;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tmp, sizeof(tmp), "%s", dir);
	snprintf(nssdir, sizeof(nssdir), "sql:%s/nss", tmp);
	sh("cd %s && MK=$(cd '%s' && pwd)/certs/mkcerts.sh && mkdir nss && "
	   "sh $MK --friendly a c a:10.0.1.1 && sh $MK --friendly b c b:10.0.2.2 && "
	   "openssl pkey -in c/a.key -pubout -outform DER -out c/a.spki && "
	   "openssl pkey -in c/b.key -pubout -outform DER -out c/b.spki",
	   tmp, src ? src : ".");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(import_all());
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "import failed: %d", st);
}

static void fixture_teardown(void)
{
	if (tmp[0] && !getenv("MESHD_TEST_KEEP"))
		sh("rm -rf '%s'", tmp);
}

#define NEED_OPENSSL()                                                                    \
	do {                                                                              \
		if (!tmp[0]) {                                                            \
			fprintf(stderr, "SKIP: openssl is not installed\n");              \
			return;                                                           \
		}                                                                         \
	} while (0)

#define NAME_A "1.1.0.10.in-addr.arpa."
#define NAME_B "2.2.0.10.in-addr.arpa."

/* ---- the fake resolver: one table per node ---- */
struct answer {
	const char *qname;
	enum dns_status status;
	const char *reason;
	const char *key;              /* "a" / "b": that node's key; NULL none */
};

struct fake {
	struct answer ans[4];
	unsigned calls;
	char last[IPSECKEY_NAME_MAX];
};

static struct fake fakes[2];

static void read_spki(const char *who, struct buf *out)
{
	char f[400];
	snprintf(f, sizeof(f), "%s/c/%s.spki", tmp, who);
	FILE *fp = fopen(f, "rb");
	ck_assert_ptr_nonnull(fp);
	uint8_t b[1024];
	size_t n = fread(b, 1, sizeof(b), fp);
	fclose(fp);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf_dup(out, b, n), 0);
}

static void fake_answer(void *arg, const char *qname, const struct addr *peer,
			struct dns_result *out)
{
	struct fake *f = arg;
	(void)peer;
	f->calls++;
	snprintf(f->last, sizeof(f->last), "%s", qname);
	for (size_t i = 0; i < 4 && f->ans[i].qname; i++) {
		const struct answer *a = &f->ans[i];
		if (strcmp(a->qname, qname) != 0)
			continue;
		out->status = a->status;
		snprintf(out->reason, sizeof(out->reason), "%s", a->reason);
		if (a->status == DNS_SECURE && a->key) {
			out->keys = calloc(1, sizeof(*out->keys));
			ck_assert_ptr_nonnull(out->keys);
			out->keys[0].alg = IPSECKEY_ALG_ECDSA;
			out->keys[0].bits = 256;
			read_spki(a->key, &out->keys[0].spki);
			out->n_keys = 1;
			out->ttl_s = 300;
		}
		return;
	}
	out->status = DNS_MISSING;
	snprintf(out->reason, sizeof(out->reason), "%s IPSECKEY: NXDOMAIN (denial validated)",
		 qname);
}

static const struct answer secure_a = { NAME_A, DNS_SECURE,
					NAME_A " IPSECKEY: DNSSEC secure, 1 key", "a" };
static const struct answer secure_b = { NAME_B, DNS_SECURE,
					NAME_B " IPSECKEY: DNSSEC secure, 1 key", "b" };

static struct node_conf dns_node(const char *nick, const char *id)
{
	return (struct node_conf){
		.type = "transport", .authby = "rsasig,ecdsa", .nssdir = nssdir, .leftcert = nick,
		.leftid = id, .rightid = "%any\n\trightrsasigkey=%dnsondemand",
	};
}

/* Both daemons with the fake resolvers: A answers from fakes[0], B from fakes[1]. */
static struct net *dns_net_keys(const char *ka, const char *kb, const char *ida,
				const char *idb)
{
	struct node_conf a = dns_node(ka, ida), b = dns_node(kb, idb);
	struct net *net = net_new(&a, &b);
	for (int i = 0; i < 2; i++) {
		struct meshd_ctx *ctx = net->node[i].ctx;
		struct ike *ike = ctx->ike;
		dns_free(ike->dns);
		ike->dns = NULL;
		ike->dns_error[0] = '\0';
		fakes[i].calls = 0;
		ck_assert_int_eq(dns_new_fake(&ike->dns, ctx->loop, &ctx->log, fake_answer,
					      &fakes[i]), 0);
	}
	return net;
}

static struct net *dns_net(void)
{
	return dns_net_keys("a", "b", "10.0.1.1", "10.0.2.2");
}

/* Deliver datagrams and DNS answers until nothing moves. */
static void settle(struct net *net)
{
	for (int k = 0; k < 40; k++) {
		size_t n = pump(net);
		size_t p = 0;
		for (int i = 0; i < 2; i++) {
			p += dns_pending(net->node[i].ctx->ike->dns);
			ck_assert_int_eq(loop_once(net->node[i].ctx->loop, 0), 0);
		}
		if (!n && !p)
			return;
	}
	ck_abort_msg("the exchange does not settle");
}

static const char *why_of(struct net *net, int i)
{
	const struct peer_diag *pd = peers_find(net->node[i].ctx->peers, &net->node[!i].addr);
	return pd ? pd->last_reason : "";
}

static const struct shunt *shunt_of(struct net *net, int i)
{
	return shunt_find(net->node[i].ctx->shunts, &net->node[i].addr, &net->node[!i].addr);
}

/* ---- both sides by DNS, then the cache ----
 *   HDR, SAi1, KEi, Ni -->                    A: lookup 2.2.0.10.in-addr.arpa. starts
 *          <-- HDR, SAr1, KEr, Nr
 *   HDR, SK {IDi(10.0.1.1), CERT, AUTH(14), SAi2, TSi, TSr} -->
 *                                             B: lookup 1.1.0.10.in-addr.arpa., suspended
 *          <-- HDR, SK {IDr(10.0.2.2), CERT, AUTH(14), SAr2, TSi, TSr}   (on the answer) */
START_TEST(test_dns_both)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = secure_b;
	fakes[1].ans[0] = secure_a;
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_msg(counts(net, 0).ike_established == 1, "%s", logs(net, 0));
	ck_assert_msg(counts(net, 1).ike_established == 1, "%s", logs(net, 1));
	ck_assert_uint_eq(fakes[0].calls, 1);
	ck_assert_str_eq(fakes[0].last, NAME_B);
	ck_assert_uint_eq(fakes[1].calls, 1);
	ck_assert_str_eq(fakes[1].last, NAME_A);
	ck_assert_msg(strstr(logs(net, 0), "authenticated peer '10.0.2.2' using ECDSA-256"),
		      "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "DNSSEC key of " NAME_A), "%s", logs(net, 1));
	struct child_list ca, cb;
	children(net, 0, &ca);
	children(net, 1, &cb);
	ck_assert_uint_eq(ca.n, 1);
	ck_assert_uint_eq(cb.n, 1);
	ck_assert_str_eq(ca.c[0].peer_id, "10.0.2.2");
	ck_assert_str_eq(cb.c[0].peer_id, "10.0.1.1");
	ck_assert_uint_eq(kmock_sa_count(&net->node[0].ctx->kern), 2);
	ck_assert_ptr_null(shunt_of(net, 0));
	/* key source for status: the TTL (300 s) counts down on the virtual clock */
	char ks[64];
	struct ike_sa *sa = sa_ike_at(net->node[0].ctx->ike->sas, 0);
	ck_assert_ptr_nonnull(sa);
	ck_assert_str_eq(ike_key_source(net->node[0].ctx->ike, sa, ks, sizeof(ks)),
			 "DNSSEC secure, TTL 300 s left");
	advance(net, 50000);
	ck_assert_str_eq(ike_key_source(net->node[0].ctx->ike, sa, ks, sizeof(ks)),
			 "DNSSEC secure, TTL 250 s left");
	/* an IKE SA rekey keeps where the key came from */
	ck_assert_int_eq(x_create_rekey_ike(net->node[0].ctx->ike, sa), 0);
	settle(net);
	sa = sa_ike_at(net->node[0].ctx->ike->sas, 0);
	ck_assert_msg(sa && sa->rekey_of && counts(net, 0).ike_total == 1, "%s", logs(net, 0));
	ck_assert_str_eq(ike_key_source(net->node[0].ctx->ike, sa, ks, sizeof(ks)),
			 "DNSSEC secure, TTL 250 s left");

	/* a second handshake uses the cached keys on both sides: no lookup */
	ck_assert_uint_eq(ike_down(net->node[0].ctx->ike, &net->node[1].addr), 1);
	settle(net);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_msg(counts(net, 0).ike_established == 1, "%s", logs(net, 0));
	ck_assert_msg(counts(net, 1).ike_established == 1, "%s", logs(net, 1));
	ck_assert_uint_eq(fakes[0].calls, 1);
	ck_assert_uint_eq(fakes[1].calls, 1);
	ck_assert_msg(strstr(logs(net, 1), "cached DNSSEC key of " NAME_A), "%s", logs(net, 1));
	net_free(net);
}
END_TEST

/* B publishes A's key under B's name: A (initiator) refuses B. */
START_TEST(test_dns_wrong_key_initiator)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = (struct answer){ NAME_B, DNS_SECURE, "secure", "a" };
	fakes[1].ans[0] = secure_a;
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_uint_eq(counts(net, 0).ike_established, 0);
	ck_assert_str_eq(why_of(net, 0), "AUTH signature does not match the DNSSEC key of "
			 NAME_B);
	ck_assert_ptr_nonnull(shunt_of(net, 0));
	ck_assert_msg(strstr(logs(net, 0), "authentication of 10.0.2.2 failed"), "%s",
		      logs(net, 0));
	net_free(net);
}
END_TEST

/* A's name has B's key at B: B (responder) answers AUTHENTICATION_FAILED. */
START_TEST(test_dns_wrong_key_responder)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = secure_b;
	fakes[1].ans[0] = (struct answer){ NAME_A, DNS_SECURE, "secure", "b" };
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_uint_eq(counts(net, 0).ike_established, 0);
	ck_assert_uint_eq(counts(net, 1).ike_established, 0);
	ck_assert_str_eq(why_of(net, 0), "peer answered AUTHENTICATION_FAILED");
	ck_assert_str_eq(why_of(net, 1), "AUTH signature does not match the DNSSEC key of "
			 NAME_A);
	ck_assert_ptr_nonnull(shunt_of(net, 1));
	net_free(net);
}
END_TEST

/* Raw keys in NSS (no certificates, no CERT payloads), leftid = the node's IP:
 * AUTH method 14 signed by the raw keys, ECDSA one way and RSA-PSS the other. */
START_TEST(test_dns_raw_keys)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = (struct answer){ NAME_B, DNS_SECURE, "secure", "kb" };
	fakes[1].ans[0] = (struct answer){ NAME_A, DNS_SECURE, "secure", "ka" };
	struct net *net = dns_net_keys("ka", "kb", "10.0.1.1", "10.0.2.2");
	ck_assert_msg(strstr(logs(net, 0), "raw key \"ka\": ECDSA-256"), "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "raw key \"kb\": RSA-2048"), "%s", logs(net, 1));
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_msg(counts(net, 0).ike_established == 1, "%s", logs(net, 0));
	ck_assert_msg(counts(net, 1).ike_established == 1, "%s", logs(net, 1));
	ck_assert_msg(strstr(logs(net, 0), "authenticated peer '10.0.2.2' using RSA-2048 "
			     "RSASSA-PSS-SHA512 (the DNSSEC key of " NAME_B ")"), "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "authenticated peer '10.0.1.1' using ECDSA-256 "),
		      "%s", logs(net, 1));
	net_free(net);
}
END_TEST

/* B names itself @b.mesh.test: A's early lookup (B's reverse name) does not fit IDr, so A
 * asks for b.mesh.test. (with B's address for the A/AAAA check) and suspends on the
 * IKE_AUTH response until the answer is there. */
START_TEST(test_dns_fqdn_responder)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = secure_b;
	fakes[0].ans[1] = (struct answer){ "b.mesh.test.", DNS_SECURE, "secure", "b" };
	fakes[1].ans[0] = secure_a;
	struct net *net = dns_net_keys("a", "b", "10.0.1.1", "@b.mesh.test");
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_msg(counts(net, 0).ike_established == 1, "%s", logs(net, 0));
	ck_assert_uint_eq(fakes[0].calls, 2);
	ck_assert_str_eq(fakes[0].last, "b.mesh.test.");
	struct child_list ca;
	children(net, 0, &ca);
	ck_assert_uint_eq(ca.n, 1);
	ck_assert_str_eq(ca.c[0].peer_id, "b.mesh.test");
	ck_assert_msg(strstr(logs(net, 0), "(the DNSSEC key of b.mesh.test.)"), "%s", logs(net, 0));
	net_free(net);
}
END_TEST

static const struct answer bad[] = {
	{ NAME_B, DNS_BOGUS, NAME_B " IPSECKEY: bogus: RRSIG expired", NULL },
	{ NAME_B, DNS_MISSING, NAME_B " IPSECKEY: NODATA (denial validated)", NULL },
	{ NAME_B, DNS_INSECURE, NAME_B " IPSECKEY: zone 0.10.in-addr.arpa. is unsigned", NULL },
};

/* A gets a failed answer for B's name: the failure shunt carries the DNS reason. */
START_TEST(test_dns_bad_initiator)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = bad[_i];
	fakes[1].ans[0] = secure_a;
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_uint_eq(counts(net, 0).ike_established, 0);
	char want[200];
	snprintf(want, sizeof(want), "DNSSEC: %s", bad[_i].reason);
	ck_assert_str_eq(why_of(net, 0), want);
	ck_assert_ptr_nonnull(shunt_of(net, 0));
	net_free(net);
}
END_TEST

/* B gets a failed answer for A's name: it refuses A with the DNS reason. */
START_TEST(test_dns_bad_responder)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = secure_b;
	fakes[1].ans[0] = bad[_i];
	fakes[1].ans[0].qname = NAME_A;
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	settle(net);
	ck_assert_uint_eq(counts(net, 1).ike_established, 0);
	char want[200];
	snprintf(want, sizeof(want), "DNSSEC: %s", bad[_i].reason);
	ck_assert_str_eq(why_of(net, 1), want);
	ck_assert_str_eq(why_of(net, 0), "peer answered AUTHENTICATION_FAILED");
	net_free(net);
}
END_TEST

/* The SAs die while their lookups are pending: cancelled, no callback, no crash. */
START_TEST(test_dns_deleted_while_pending)
{
	NEED_OPENSSL();
	memset(fakes, 0, sizeof(fakes));
	fakes[0].ans[0] = secure_b;
	fakes[1].ans[0] = secure_a;
	struct net *net = dns_net();
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	pump(net);                    /* B suspends on IKE_AUTH, its answer is queued */
	struct ike *ib = net->node[1].ctx->ike, *ia = net->node[0].ctx->ike;
	ck_assert_uint_eq(dns_pending(ib->dns), 1);
	ck_assert_uint_eq(dns_pending(ia->dns), 1);
	ck_assert_uint_eq(counts(net, 1).ike_half_open, 1);
	ck_assert_uint_eq(ike_down(ib, &net->node[0].addr), 1);
	ck_assert_uint_eq(ike_down(ia, &net->node[1].addr), 1);
	ck_assert_uint_eq(dns_pending(ib->dns), 0);
	ck_assert_uint_eq(dns_pending(ia->dns), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(loop_once(net->node[i].ctx->loop, 0), 0);
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	/* and the next attempt works */
	ck_assert_uint_eq(counts(net, 0).ike_established, 0);
	net_free(net);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("exchange_dns");
	TCase *t = tcase_create("dns");
	tcase_add_unchecked_fixture(t, fixture_setup, fixture_teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_dns_both);
	tcase_add_test(t, test_dns_raw_keys);
	tcase_add_test(t, test_dns_fqdn_responder);
	tcase_add_test(t, test_dns_wrong_key_initiator);
	tcase_add_test(t, test_dns_wrong_key_responder);
	tcase_add_loop_test(t, test_dns_bad_initiator, 0, 3);
	tcase_add_loop_test(t, test_dns_bad_responder, 0, 3);
	tcase_add_test(t, test_dns_deleted_while_pending);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("SKIP: openssl is not installed (certs/mkcerts.sh needs it)\n");
		return 77;
	}
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
