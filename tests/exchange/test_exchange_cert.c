/* test_exchange_cert.c — IKE_AUTH with X.509 certificates between two meshd daemons in one
 * process (xnet.h): ECDSA and RSA happy paths in transport and tunnel mode, and the
 * failures — an untrusted CA, a subjectAltName that does not name the peer's address, a
 * missing node certificate — each ending in AUTHENTICATION_FAILED and the group's failure
 * shunt on both sides, with the reason `meshctl why` shows.
 *
 * Certificates are made once per run by certs/mkcerts.sh (skipped without openssl) and
 * imported into ONE NSS database that both daemons name in nssdir=. NSS keeps a single
 * view of every database a process opens (crypto.h), so two daemons in one process cannot
 * have private databases anyway: each gets its own nickname instead (leftcert=a /
 * leftcert=b), and "untrusted" means a CA that is not in the database at all (the
 * stranger's PKCS#12 is rebuilt without its CA). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cert.h"
#include "ctx.h"
#include "exchange.h"
#include "ike.h"
#include "ike_pld.h"
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
	static const char *const files[] = { "a", "b", "ra", "rb", "w", "x-nochain" };
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
	return 0;
}

static void fixture_setup(void)
{
	char dir[] = "/tmp/test_xcert.XXXXXX";
	const char *src = getenv("top_srcdir");
	tmp[0] = '\0';
	if (system("openssl version >/dev/null 2>&1") != 0)
		return;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tmp, sizeof(tmp), "%s", dir);
	snprintf(nssdir, sizeof(nssdir), "sql:%s/nss", tmp);
	/* a, b: ECDSA; ra, rb: RSA; w: A's name on a certificate for another address;
	 * x: issued by a CA nobody trusts, imported without it */
	sh("cd %s && MK=$(cd '%s' && pwd)/certs/mkcerts.sh && mkdir nss && "
	   "sh $MK --friendly a c a:10.0.1.1 && sh $MK --friendly b c b:10.0.2.2 && "
	   "sh $MK --rsa --friendly ra c ra:10.0.1.1 && sh $MK --rsa --friendly rb c rb:10.0.2.2 && "
	   "sh $MK --friendly w c w:10.0.1.99 && sh $MK --ca evil --friendly x c x:10.0.1.1 && "
	   "openssl pkcs12 -export -in c/x.pem -inkey c/x.key -name x -out c/x-nochain.p12 "
	   "-passout pass: 2>/dev/null", tmp, src ? src : ".");
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

/* A certificate node: nickname nick, transport or tunnel. */
static struct node_conf cert_node(const char *nick, bool tunnel, const char *authby)
{
	return (struct node_conf){
		.type = tunnel ? "tunnel" : "transport", .authby = authby ? authby : "rsasig,ecdsa",
		.nssdir = nssdir, .leftcert = nick, .leftid = "%fromcert", .rightid = "%fromcert",
	};
}

static const struct shunt *shunt_of(struct net *net, int i)
{
	return shunt_find(net->node[i].ctx->shunts, &net->node[i].addr, &net->node[!i].addr);
}

static const char *why_of(struct net *net, int i)
{
	const struct peer_diag *pd = peers_find(net->node[i].ctx->peers, &net->node[!i].addr);
	return pd ? pd->last_reason : "";
}

/* Did datagram k carry N(SIGNATURE_HASH_ALGORITHMS) = SHA2-256, 384, 512? */
static bool has_hash_notify(const struct pkt *k)
{
	struct ike_digest *d = malloc(sizeof(*d));
	bool ok = false;
	if (ike_pld_parse(d, k->p, k->n) == 0) {
		const struct ike_notify *n = ike_digest_notify(d, IKE_N_SIGNATURE_HASH_ALGORITHMS);
		static const uint8_t want[] = { 0, 2, 0, 3, 0, 4 };
		ok = n && n->data.len == sizeof(want) && memcmp(n->data.p, want, sizeof(want)) == 0;
	}
	free(d);
	return ok;
}

static size_t certreqs(const struct pkt *k)
{
	struct ike_digest *d = malloc(sizeof(*d));
	size_t n = 0;
	if (ike_pld_parse(d, k->p, k->n) == 0)
		n = d->n_certreq;
	free(d);
	return n;
}

#define NEED_OPENSSL()                                                                    \
	do {                                                                              \
		if (!tmp[0]) {                                                            \
			fprintf(stderr, "SKIP: openssl is not installed\n");              \
			return;                                                           \
		}                                                                         \
	} while (0)

/* ---- happy paths ----
 *   HDR, SAi1, KEi, Ni, N(NATD_S), N(NATD_D), N(SIGNATURE_HASH_ALGORITHMS) -->
 *          <-- HDR, SAr1, KEr, Nr, N(NATD_S), N(NATD_D), N(SIGNATURE_HASH_ALGORITHMS), CERTREQ
 *   HDR, SK {IDi(DN), CERT, CERTREQ, AUTH(14), SAi2, TSi, TSr, N(USE_TRANSPORT_MODE)} -->
 *          <-- HDR, SK {IDr(DN), CERT, AUTH(14), SAr2, TSi, TSr, N(USE_TRANSPORT_MODE)} */
static void happy(const char *na, const char *nb, bool tunnel, const char *authby,
		  const char *alg)
{
	struct node_conf a = cert_node(na, tunnel, authby), b = cert_node(nb, tunnel, authby);
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_ge(pump(net), 4);   /* RSA's IKE_AUTH goes as RFC 7383 fragments */
	ck_assert_msg(counts(net, 0).ike_established == 1, "%s", logs(net, 0));
	ck_assert_msg(counts(net, 1).ike_established == 1, "%s", logs(net, 1));
	ck_assert_uint_eq(counts(net, 0).ike_anonymous, 0);
	ck_assert_uint_eq(counts(net, 1).ike_anonymous, 0);
	ck_assert(has_hash_notify(&net->all[0]));
	ck_assert(has_hash_notify(&net->all[1]));
	ck_assert_uint_eq(certreqs(&net->all[1]), 1);
	char line[160];
	snprintf(line, sizeof(line), "IKE SA #1 established with 10.0.2.2 (AES_GCM_16_256, X25519, "
		 "%s)", alg);
	ck_assert_msg(strstr(logs(net, 0), line), "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "established with 10.0.1.1 (AES_GCM_16_256, X25519, "),
		      "%s", logs(net, 1));
	struct child_list ca, cb;
	children(net, 0, &ca);
	children(net, 1, &cb);
	ck_assert_uint_eq(ca.n, 1);
	ck_assert_uint_eq(cb.n, 1);
	char want_a[64], want_b[64];
	snprintf(want_a, sizeof(want_a), "C=US, O=meshd test, CN=%s", na);
	snprintf(want_b, sizeof(want_b), "C=US, O=meshd test, CN=%s", nb);
	ck_assert_str_eq(ca.c[0].peer_id, want_b);
	ck_assert_str_eq(cb.c[0].peer_id, want_a);
	ck_assert_int_eq(ca.c[0].tunnel, tunnel);
	ck_assert_uint_eq(ca.c[0].spi_out, cb.c[0].spi_in);
	ck_assert_uint_eq(ca.c[0].spi_in, cb.c[0].spi_out);
	ck_assert_uint_eq(kmock_sa_count(&net->node[0].ctx->kern), 2);
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 2);
	ck_assert_ptr_null(shunt_of(net, 0));
	/* the other direction over the same DB: B initiates after a Delete */
	ck_assert_uint_eq(ike_down(net->node[0].ctx->ike, &net->node[1].addr), 1);
	pump(net);
	acquire(net->node[1].ctx, "10.0.2.2", "10.0.1.1", 0, 0);
	ck_assert_uint_ge(pump(net), 4);   /* RSA's IKE_AUTH goes as RFC 7383 fragments */
	ck_assert_uint_eq(counts(net, 1).ike_established, 1);
	ck_assert_uint_eq(counts(net, 0).child_total, 1);
	net_free(net);
}

START_TEST(cert_ecdsa_transport)
{
	NEED_OPENSSL();
	happy("a", "b", false, NULL, "ECDSA-SHA256");
}
END_TEST

START_TEST(cert_ecdsa_tunnel)
{
	NEED_OPENSSL();
	happy("a", "b", true, "ecdsa", "ECDSA-SHA256");
}
END_TEST

START_TEST(cert_rsa_transport)
{
	NEED_OPENSSL();
	happy("ra", "rb", false, "rsasig", "RSASSA-PSS-SHA512");
}
END_TEST

START_TEST(cert_rsa_tunnel)
{
	NEED_OPENSSL();
	happy("ra", "rb", true, NULL, "RSASSA-PSS-SHA512");
}
END_TEST

/* RSA on one side, ECDSA on the other (authby=rsasig,ecdsa, the default). */
START_TEST(cert_mixed_keys)
{
	NEED_OPENSSL();
	struct node_conf a = cert_node("ra", false, NULL), b = cert_node("b", false, NULL);
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_ge(pump(net), 4);   /* RSA's IKE_AUTH goes as RFC 7383 fragments */
	ck_assert_msg(strstr(logs(net, 0), "(AES_GCM_16_256, X25519, ECDSA-SHA256)"), "%s",
		      logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "(AES_GCM_16_256, X25519, RSASSA-PSS-SHA512)"), "%s",
		      logs(net, 1));
	net_free(net);
}
END_TEST

/* ---- the responder refuses the initiator's certificate ----
 *   HDR, SK {IDi, CERT(bad), CERTREQ, AUTH, ...} -->
 *                           <-- HDR, SK {N(AUTHENTICATION_FAILED)}
 * A (initiator, group private): drop shunt "peer answered AUTHENTICATION_FAILED";
 * B (responder, A is in its private-or-clear group): pass shunt with B's reason. */
static void refused_by_responder(const char *nick_a, const char *why)
{
	struct node_conf a = cert_node(nick_a, false, NULL), b = cert_node("b", false, NULL);
	b.private_file = "";
	b.poc_file = "10.0.1.0/24\n";
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 4);
	const struct shunt *sa = shunt_of(net, 0), *sb = shunt_of(net, 1);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(sa->kind, SHUNT_FAILED);
	ck_assert_int_eq(sa->action, SHUNT_DROP);
	ck_assert_str_eq(sa->reason, "peer answered AUTHENTICATION_FAILED");
	ck_assert_msg(sb != NULL, "%s", logs(net, 1));
	ck_assert_int_eq(sb->kind, SHUNT_FAILED);
	ck_assert_int_eq(sb->action, SHUNT_PASS);
	ck_assert_str_eq(sb->reason, why);
	ck_assert_str_eq(why_of(net, 1), why);
	ck_assert_str_eq(why_of(net, 0), "peer answered AUTHENTICATION_FAILED");
	char line[200];
	snprintf(line, sizeof(line), "authentication of 10.0.1.1 failed: %s", why);
	ck_assert_msg(strstr(logs(net, 1), line), "%s", logs(net, 1));
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(counts(net, i).ike_total, 0);
		ck_assert_uint_eq(kmock_sa_count(&net->node[i].ctx->kern), 0);
	}
	net_free(net);
}

/* ---- the initiator refuses the responder's certificate ----
 *                <-- HDR, SK {IDr, CERT(bad), AUTH, SAr2, TSi, TSr}
 *   HDR, SK {N(AUTHENTICATION_FAILED), D(IKE)} -->
 * B (initiator, private): drop shunt with the reason; A deletes what it had installed. */
static void refused_by_initiator(const char *nick_a, const char *why)
{
	struct node_conf a = cert_node(nick_a, false, NULL), b = cert_node("b", false, NULL);
	struct net *net = net_new(&a, &b);
	acquire(net->node[1].ctx, "10.0.2.2", "10.0.1.1", 0, 0);
	ck_assert_uint_eq(pump(net), 6);
	const struct shunt *sb = shunt_of(net, 1);
	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(sb->action, SHUNT_DROP);
	ck_assert_str_eq(sb->reason, why);
	ck_assert_str_eq(why_of(net, 1), why);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(counts(net, i).ike_total, 0);
		ck_assert_uint_eq(kmock_sa_count(&net->node[i].ctx->kern), 0);
	}
	net_free(net);
}

START_TEST(untrusted_ca)
{
	NEED_OPENSSL();
	refused_by_responder("x", "certificate issuer is not trusted");
	refused_by_initiator("x", "certificate issuer is not trusted");
}
END_TEST

START_TEST(wrong_san_address)
{
	NEED_OPENSSL();
	refused_by_responder("w", "peer address not in the certificate's subjectAltName");
	refused_by_initiator("w", "peer address not in the certificate's subjectAltName");
}
END_TEST

/* ---- no node certificate: the certificate group fails at once with the reason; a NULL
 * peer is refused by a certificate group ---- */
START_TEST(no_node_certificate)
{
	NEED_OPENSSL();
	struct node_conf a = cert_node("nosuch", false, NULL), b = cert_node("b", false, NULL);
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(net->nq, 0);
	const struct shunt *sa = shunt_of(net, 0);
	ck_assert_ptr_nonnull(sa);
	char want[400];
	snprintf(want, sizeof(want), "no node certificate 'nosuch' in %s", nssdir);
	ck_assert_str_eq(sa->reason, want);
	ck_assert_msg(strstr(logs(net, 0), want), "%s", logs(net, 0));
	net_free(net);
	/* without any NSS database */
	a.nssdir = "sql:/nonexistent/meshd-nss";
	a.leftcert = "node";
	net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_str_eq(shunt_of(net, 0)->reason,
			 "no node certificate 'node' in sql:/nonexistent/meshd-nss");
	net_free(net);
}
END_TEST

START_TEST(null_peer_refused)
{
	NEED_OPENSSL();
	struct node_conf a = { 0 }, b = cert_node("b", false, "rsasig,ecdsa");
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 4);
	ck_assert_str_eq(shunt_of(net, 0)->reason, "peer answered AUTHENTICATION_FAILED");
	ck_assert_msg(strstr(why_of(net, 1), "used NULL authentication"), "%s", why_of(net, 1));
	net_free(net);
}
END_TEST

/* ---- a NULL-authenticated IKE SA never replaces an authenticated one (libreswan-oe.md
 * §4.1), not even with INITIAL_CONTACT: A and B authenticate with certificates (both groups
 * also allow NULL), then "B" restarts with NULL authentication only and comes back.
 *   HDR, SK {IDi(NULL), AUTH(13), N(INITIAL_CONTACT), ...} -->
 *                  <-- HDR, SK {N(AUTHENTICATION_FAILED)}
 * A keeps the authenticated SA, its kernel state, and puts no shunt over it. ---- */
START_TEST(null_never_replaces_authenticated)
{
	NEED_OPENSSL();
	struct node_conf a = cert_node("a", false, "rsasig,ecdsa,null"),
			 b = cert_node("b", false, "rsasig,ecdsa,null");
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	ck_assert_uint_eq(counts(net, 0).ike_anonymous, 0);
	struct child_list before;
	children(net, 0, &before);
	ck_assert_uint_eq(before.n, 1);
	struct node_conf null_only = { 0 };
	node_restart(net, 1, &null_only);
	flush(net);
	acquire(net->node[1].ctx, "10.0.2.2", "10.0.1.1", 0, 0);
	pump(net);
	ck_assert_msg(strstr(logs(net, 0), "cannot replace authenticated IKE SA #1 with a "
			     "NULL-authenticated one"), "%s", logs(net, 0));
	ck_assert_str_eq(shunt_of(net, 1)->reason, "peer answered AUTHENTICATION_FAILED");
	struct child_list after;
	children(net, 0, &after);
	ck_assert_uint_eq(after.n, 1);
	ck_assert_uint_eq(after.c[0].serial, before.c[0].serial);
	ck_assert_str_eq(after.c[0].peer_id, "C=US, O=meshd test, CN=b");
	ck_assert_uint_eq(counts(net, 0).ike_total, 1);
	ck_assert_ptr_null(shunt_of(net, 0));
	struct ksel sel = { 0 };
	ck_assert(prefix_parse("10.0.1.1/32", &sel.src, false, NULL));
	ck_assert(prefix_parse("10.0.2.2/32", &sel.dst, false, NULL));
	const struct kpolicy *out = kmock_find(&net->node[0].ctx->kern, &sel, KDIR_OUT);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(out->act, KACT_IPSEC);
	ck_assert_uint_eq(out->reqid, before.c[0].reqid);
	ck_assert_uint_eq(kmock_sa_count(&net->node[0].ctx->kern), 2);
	net_free(net);
}
END_TEST

/* ---- the responder's kernel has no ESP: both sides still authenticate each other ----
 *                <-- HDR, SK {IDr, CERT, AUTH, N(NO_PROPOSAL_CHOSEN)} */
START_TEST(responder_kernel_without_esp)
{
	NEED_OPENSSL();
	struct node_conf a = cert_node("a", false, NULL), b = cert_node("b", false, NULL);
	struct net *net = net_new(&a, &b);
	kmock_sa_fail_add(&net->node[1].ctx->kern, EPROTONOSUPPORT);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 4);
	ck_assert_msg(strstr(logs(net, 0), "authenticated peer 'C=US, O=meshd test, CN=b'"), "%s",
		      logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "authenticated peer 'C=US, O=meshd test, CN=a'"), "%s",
		      logs(net, 1));
	ck_assert_str_eq(shunt_of(net, 0)->reason, "peer answered NO_PROPOSAL_CHOSEN");
	ck_assert_str_eq(why_of(net, 1), "kernel has no ESP");
	ck_assert_str_eq(shunt_of(net, 1)->reason, "kernel has no ESP");
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(counts(net, i).ike_total, 0);
		ck_assert_uint_eq(counts(net, i).child_total, 0);
	}
	net_free(net);
}
END_TEST

static Suite *exchange_cert_suite(void)
{
	Suite *s = suite_create("exchange_cert");
	TCase *tc = tcase_create("certificates");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, cert_ecdsa_transport);
	tcase_add_test(tc, cert_ecdsa_tunnel);
	tcase_add_test(tc, cert_rsa_transport);
	tcase_add_test(tc, cert_rsa_tunnel);
	tcase_add_test(tc, cert_mixed_keys);
	tcase_add_test(tc, untrusted_ca);
	tcase_add_test(tc, wrong_san_address);
	tcase_add_test(tc, no_node_certificate);
	tcase_add_test(tc, null_peer_refused);
	tcase_add_test(tc, null_never_replaces_authenticated);
	tcase_add_test(tc, responder_kernel_without_esp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("SKIP: openssl is not installed (certs/mkcerts.sh needs it)\n");
		return 77;
	}
	SRunner *sr = srunner_create(exchange_cert_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
