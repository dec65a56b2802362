/* bench_ike.c — IKE SA setups per second per core as responder, and heap per established
 * peer (BENCHMARKS.md "IKE handshakes"; performance.md §0, §5, §7).
 *
 *   bench_ike mkdb NSSDIR CERTDIR NE NR   build the bench NSS database (tools/bench_ike.sh)
 *   bench_ike run CASE NSSDIR N CERTDIR [-v]   CASE: ecdsa | rsa | null
 *
 * Two meshd contexts in one process and one thread (tests/exchange/xnet.c starts them, each
 * on its own mock kernel): a responder at 10.0.2.2 and one initiator that opens every IKE
 * SA from its own source address 10.0.(16 + i / 250).(1 + i % 250), so each handshake is a
 * different peer to the responder. Datagrams go through an in-memory queue, one handshake
 * (IKE_SA_INIT + IKE_AUTH with one Child SA) at a time.
 *
 * What is timed: CLOCK_THREAD_CPUTIME_ID around every call into the responder (each
 * ike_input of a datagram addressed to it), minus the time spent inside its mock kernel
 * (kernel_ops wrapped below; a real XFRM install is ~5 µs, performance.md §6). The
 * initiator is timed the same way (acquire + its ike_input calls), mock included.
 *
 * Cold and warm (certificate cases): the initiator presents certificate nI for peer I
 * (distinct subjects and serials, issued by the bench CA; they share one key pair because
 * key generation is not the responder's work). Pass 1 ("cold") is the first time the
 * responder sees each certificate: full chain check and key import. All IKE SAs are then
 * deleted, and pass 2 ("warm") repeats the same peers with the same certificates: the
 * responder's verification cache (cert.c) hits. Both processes' worth of NSS state lives
 * in one process: when the responder decodes a peer certificate, NSS finds it already
 * decoded (the initiator holds it), which saves the ~85 µs "decode only" of
 * performance.md §4 per cold handshake that a separate daemon would spend.
 *
 * Heap: mallinfo2() (uordblks + hblkhd) before and after each call into the responder,
 * summed, minus the same measured inside the responder's mock kernel calls. That is
 * everything the responder's engine, its logs, its certificate cache and NSS allocate
 * on its behalf and keep. Divided by the IKE SAs (each with one Child SA) established at
 * the end of the cold pass.
 *
 * The initiator swaps its certificate by reloading its store under nickname nI; the store
 * comes from ike_certs_store() (checked at start). */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "buf.h"
#include "cert.h"
#include "ctx.h"
#include "ike.h"
#include "ike_auth.h"
#include "kernel.h"
#include "log.h"
#include "oe.h"
#include "policy.h"
#include "unit.h"
#include "xnet.h"

#define RESP 1
#define INIT 0

static bool verbose;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_ike: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool heap_on;

static int64_t heap_now(void)
{
	if (!heap_on)
		return 0;
	struct mallinfo2 mi = mallinfo2();
	return (int64_t)(mi.uordblks + mi.hblkhd);
}

/* ---- the responder's kernel, wrapped: its time and heap are the mock's, not meshd's ---- */
static const struct kernel_ops *orig_ops;
static struct kernel_ops wrap_ops;
static uint64_t mock_ns;
static int64_t mock_heap;

#define WRAP_BEGIN uint64_t t0 = cpu_ns(); int64_t h0 = heap_now()
#define WRAP_END mock_heap += heap_now() - h0; mock_ns += cpu_ns() - t0

static int w_policy_put(struct kernel *k, const struct kpolicy *p, size_t n, kernel_err_fn err,
			void *arg)
{
	WRAP_BEGIN;
	int r = orig_ops->policy_put(k, p, n, err, arg);
	WRAP_END;
	return r;
}

static int w_policy_del(struct kernel *k, const struct kpolicy *p, size_t n, kernel_err_fn err,
			void *arg)
{
	WRAP_BEGIN;
	int r = orig_ops->policy_del(k, p, n, err, arg);
	WRAP_END;
	return r;
}

static int w_sa_get_spi(struct kernel *k, const struct addr *src, const struct addr *dst,
			uint32_t reqid, uint32_t *spi)
{
	WRAP_BEGIN;
	int r = orig_ops->sa_get_spi(k, src, dst, reqid, spi);
	WRAP_END;
	return r;
}

static int w_sa_add(struct kernel *k, const struct ksa *sa)
{
	WRAP_BEGIN;
	int r = orig_ops->sa_add(k, sa);
	WRAP_END;
	return r;
}

static int w_sa_del(struct kernel *k, const struct addr *dst, uint32_t spi)
{
	WRAP_BEGIN;
	int r = orig_ops->sa_del(k, dst, spi);
	WRAP_END;
	return r;
}

static void wrap_kernel(struct kernel *k)
{
	orig_ops = k->ops;
	wrap_ops = *k->ops;
	wrap_ops.policy_put = w_policy_put;
	wrap_ops.policy_del = w_policy_del;
	wrap_ops.sa_get_spi = w_sa_get_spi;
	wrap_ops.sa_add = w_sa_add;
	wrap_ops.sa_del = w_sa_del;
	k->ops = &wrap_ops;
}

/* ---- packets ---- */
struct qpkt {
	uint8_t *p;
	size_t n;
	struct addr from, to;
	uint16_t sport, dport;
};

static struct qpkt *q;
static size_t nq, capq;
static struct addr resp_addr;

static int send_hook(void *arg, const uint8_t *p, size_t n, const struct addr *from,
		     uint16_t sport, const struct addr *to, uint16_t dport)
{
	(void)arg;
	if (nq == capq) {
		capq = capq ? 2 * capq : 64;
		q = realloc(q, capq * sizeof(*q));
		if (!q)
			die("out of memory");
	}
	struct qpkt *k = &q[nq++];
	k->p = malloc(n);
	if (!k->p)
		die("out of memory");
	memcpy(k->p, p, n);
	k->n = n;
	k->from = *from;
	k->to = *to;
	k->sport = sport;
	k->dport = dport;
	return 0;
}

struct side {
	uint64_t ns;                  /* CPU in meshd (mock excluded for the responder) */
	int64_t heap;                 /* net heap kept (mock excluded) */
	uint64_t msgs;
};

static struct side side[2];
static struct net *net;

/* Deliver everything queued (FIFO), timing each call into its receiver. */
static void pump_all(bool timed)
{
	size_t i = 0;
	while (i < nq) {
		struct qpkt k = q[i++];
		int to = addr_eq(&k.to, &resp_addr) ? RESP : INIT;
		struct ike *ike = net->node[to].ctx->ike;
		int64_t h0 = to == RESP && timed ? heap_now() : 0;
		uint64_t m0 = mock_ns;
		int64_t mh0 = mock_heap;
		uint64_t t0 = cpu_ns();
		ike_input(ike, k.p, k.n, &k.from, k.sport, &k.to, k.dport, -1);
		uint64_t t1 = cpu_ns();
		if (timed) {
			side[to].ns += t1 - t0;
			side[to].msgs++;
			if (to == RESP) {
				side[to].ns -= mock_ns - m0;
				side[to].heap += heap_now() - h0 - (mock_heap - mh0);
			}
		}
		free(k.p);
		if (i == nq || i > 4096) {          /* compact */
			memmove(q, q + i, (nq - i) * sizeof(*q));
			nq -= i;
			i = 0;
		}
	}
}

static void peer_addr(size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "10.0.%zu.%zu", 16 + i / 250, 1 + i % 250);
}

/* The kernel's ACQUIRE src -> dst (xnet.c's acquire() without Check asserts). */
static void bench_acquire(struct meshd_ctx *ctx, const char *src, const char *dst)
{
	struct kacquire acq = { 0 };
	if (!addr_parse(src, &acq.sel.src.a) || !addr_parse(dst, &acq.sel.dst.a))
		die("bad address %s / %s", src, dst);
	acq.sel.src.len = acq.sel.dst.len = (uint8_t)addr_bits(acq.sel.src.a.family);
	const struct pol_entry *e = policy_classify(ctx->pol, &acq.sel.dst.a, 0, 0, 0);
	acq.reqid = e ? e->reqid : 0;
	oe_acquire(ctx, &acq);
}

static const char *certdir;
static struct cert_store *init_store(void);

/* Give the initiator certificate prefix+i: import its DER under that nickname (i > 0),
 * reload the initiator's store with it; the previous one leaves the database. */
static void swap_cert(const char *prefix, size_t i)
{
	static char prev[32];
	char nick[32];
	snprintf(nick, sizeof(nick), "%s%zu", prefix, i);
	if (i > 0) {
		char f[512];
		unsigned char der[8192];
		snprintf(f, sizeof(f), "%s/%s.der", certdir, nick);
		FILE *fp = fopen(f, "rb");
		if (!fp)
			die("%s: %s", f, strerror(errno));
		size_t len = fread(der, 1, sizeof(der), fp);
		fclose(fp);
		if (cert_db_add_der(der, len, nick) != 0)
			die("import %s into the NSS database failed", f);
	}
	if (cert_reload(init_store(), nick) != 0)
		die("no certificate %s in the NSS database", nick);
	if (prev[0] && strcmp(prev, nick) != 0 && strcmp(prev + strlen(prefix), "0") != 0) {
		(void)cert_db_del(prev);
	}
	snprintf(prev, sizeof(prev), "%s", nick);
}

static struct cert_store *init_store(void)
{
	return ike_certs_store(net->node[INIT].ctx, 0, NULL);
}

static void check_initiator_store(const char *nick0)
{
	const char *nick = NULL;
	struct cert_store *st = ike_certs_store(net->node[INIT].ctx, 0, &nick);
	char want[64];
	snprintf(want, sizeof(want), "CN=%s", nick0);
	if (!st || ike_certs_store(net->node[INIT].ctx, 1, NULL) || strcmp(nick, nick0) != 0 ||
	    !strstr(cert_self(st)->subject, want))
		die("the initiator's certificate store is not %s alone", nick0);
}

static void quiet_logs(int i)
{
	struct meshd_ctx *ctx = net->node[i].ctx;
	if (verbose)
		return;
	ctx->log.max = LOG_LVL_INFO;         /* what a daemon logs by default */
	ctx->log.fp = fopen("/dev/null", "w");
	if (!ctx->log.fp)
		die("/dev/null: %s", strerror(errno));
}

struct result {
	double resp_us, init_us, wall_s;
	int64_t heap;
	size_t n;
};

/* One pass over peers 0..n-1. cert_prefix: the initiator's nickname prefix, or NULL. */
static struct result pass(size_t n, const char *cert_prefix)
{
	struct result r = { .n = n };
	memset(side, 0, sizeof(side));
	struct ike_counts c0;
	ike_counts(net->node[RESP].ctx->ike, &c0);
	uint64_t w0 = wall_ns();
	for (size_t i = 0; i < n; i++) {
		char src[32];
		if (cert_prefix)
			swap_cert(cert_prefix, i);
		peer_addr(i, src, sizeof(src));
		uint64_t t0 = cpu_ns();
		bench_acquire(net->node[INIT].ctx, src, "10.0.2.2");
		side[INIT].ns += cpu_ns() - t0;
		pump_all(true);
	}
	r.wall_s = (double)(wall_ns() - w0) / 1e9;
	struct ike_counts c;
	ike_counts(net->node[RESP].ctx->ike, &c);
	if (c.ike_established != c0.ike_established + n || c.child_total != c0.child_total + n) {
		fprintf(stderr, "%s\n", logs(net, RESP));
		die("responder established %zu IKE / %zu Child SAs of %zu", c.ike_established -
		    c0.ike_established, c.child_total - c0.child_total, n);
	}
	r.resp_us = (double)side[RESP].ns / 1e3 / (double)n;
	r.init_us = (double)side[INIT].ns / 1e3 / (double)n;
	r.heap = side[RESP].heap;
	return r;
}

static void teardown(void)
{
	ike_down(net->node[INIT].ctx->ike, &resp_addr);
	pump_all(false);
	struct ike_counts c;
	ike_counts(net->node[RESP].ctx->ike, &c);
	if (c.ike_total != 0 || c.child_total != 0)
		die("teardown left %zu IKE / %zu Child SAs on the responder", c.ike_total,
		    c.child_total);
}

static void print(const char *kase, const char *kind, const struct result *r)
{
	printf("%-6s %-5s n=%-5zu responder %7.0f us = %6.0f/s per core | initiator %7.0f us"
	       " = %6.0f/s | wall %.2f s (%.0f/s, both sides on one core)\n",
	       kase, kind, r->n, r->resp_us, 1e6 / r->resp_us, r->init_us, 1e6 / r->init_us,
	       r->wall_s, (double)r->n / r->wall_s);
}

static int run(const char *kase, const char *nssdir, size_t n)
{
	struct node_conf ncr = { 0 }, nci = { 0 };
	const char *prefix = NULL, *nick0 = NULL;
	if (strcmp(kase, "ecdsa") == 0) {
		ncr = (struct node_conf){ .authby = "ecdsa", .leftcert = "r" };
		nci = (struct node_conf){ .authby = "ecdsa", .leftcert = "n0" };
		ncr.ike = nci.ike = "aes_gcm256-sha2_512;x25519";
		prefix = "n";
		nick0 = "n0";
	} else if (strcmp(kase, "rsa") == 0) {
		ncr = (struct node_conf){ .authby = "rsasig", .leftcert = "rr" };
		nci = (struct node_conf){ .authby = "rsasig", .leftcert = "rn0" };
		ncr.ike = nci.ike = "aes_gcm256-sha2_512;modp2048";
		prefix = "rn";
		nick0 = "rn0";
	} else if (strcmp(kase, "null") == 0) {
		ncr.ike = nci.ike = "aes_gcm256-sha2_512;x25519";
	} else {
		die("unknown case %s (ecdsa | rsa | null)", kase);
	}
	if (prefix) {
		ncr.nssdir = nci.nssdir = nssdir;
		ncr.leftid = nci.leftid = ncr.rightid = nci.rightid = "%fromcert";
	}
	net = calloc(1, sizeof(*net));
	if (!net)
		die("out of memory");
	node_start(net, INIT, "10.0.1.1", &nci);
	node_start(net, RESP, "10.0.2.2", &ncr);
	resp_addr = net->node[RESP].addr;
	quiet_logs(INIT);
	quiet_logs(RESP);
	if (prefix) {
		check_initiator_store(nick0);
	}
	ike_set_send(net->node[INIT].ctx->ike, send_hook, NULL);
	ike_set_send(net->node[RESP].ctx->ike, send_hook, NULL);
	wrap_kernel(&net->node[RESP].ctx->kern);

	/* cold: n new peers (new certificates); heap measured in this pass */
	heap_on = true;
	struct result cold = pass(n, prefix);
	heap_on = false;
	uint64_t cold_mock_ns = mock_ns;
	print(kase, prefix ? "cold" : "new", &cold);
	struct cert_stats cs = { 0 };
	teardown();
	struct result warm = pass(n, prefix);
	print(kase, prefix ? "warm" : "again", &warm);
	if (prefix) {
		cert_get_stats(ike_certs_store(net->node[RESP].ctx, 0, NULL), &cs);
	}
	printf("%-6s heap  n=%-5zu responder engine %.0f B per established peer (IKE SA + "
	       "Child SA), mock kernel %.0f B per peer not counted; mock kernel CPU %.1f us per "
	       "handshake not counted\n",
	       kase, cold.n, (double)cold.heap / (double)cold.n,
	       (double)mock_heap / (double)cold.n, (double)cold_mock_ns / 1e3 / (double)n);
	if (prefix)
		printf("%-6s certs responder verify_cold %llu verify_cached %llu verify_failed %llu\n",
		       kase, (unsigned long long)cs.verify_cold,
		       (unsigned long long)cs.verify_cached, (unsigned long long)cs.verify_failed);
	teardown();
	return 0;
}

/* ---- the NSS database: CAs, responders r / rr and initiators n0 / rn0 (with the one key
 * pair per type) from PKCS#12. The other initiator certificates nI / rnI go in one at a
 * time while their handshake runs (bench_ike run): with a thousand certificates in the
 * database, every re-read of the trust anchors would list them all. ---- */
static int mkdb(const char *nssdir, const char *dir, size_t ne, size_t nr)
{
	struct log lg;
	log_init(&lg, LOG_SINK_STDERR, false, "bench_ike");
	if (cert_initnss(nssdir, &lg) != 0)
		die("initnss %s failed", nssdir);
	static const char *const p12[] = { "r", "n0", "rr", "rn0" };
	for (size_t i = 0; i < 4; i++) {
		char f[512];
		snprintf(f, sizeof(f), "%s/%s.p12", dir, p12[i]);
		if (cert_import_p12(nssdir, f, "", &lg) != 0)
			die("import %s failed", f);
	}
	(void)ne;
	(void)nr;
	return 0;
}

/* xnet.c's node_start reports through Check, so the run is one Check test (no fork). */
static const char *run_case, *run_nssdir;
static size_t run_n;

START_TEST(bench_run)
{
	run(run_case, run_nssdir, run_n);
}
END_TEST

static int run_in_check(void)
{
	Suite *s = suite_create("bench_ike");
	TCase *tc = tcase_create("run");
	tcase_add_test(tc, bench_run);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	if (argc == 6 && strcmp(argv[1], "mkdb") == 0)
		return mkdb(argv[2], argv[3], strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		certdir = argv[5];
		size_t n = strtoul(argv[4], NULL, 10);
		if (n < 1 || n > 50000)
			die("N must be 1..50000");
		run_case = argv[2];
		run_nssdir = argv[3];
		run_n = n;
		return run_in_check();
	}
	fprintf(stderr, "usage: bench_ike mkdb NSSDIR CERTDIR NE NR\n"
		"       bench_ike run ecdsa|rsa|null NSSDIR N CERTDIR [-v]\n");
	return 2;
}
