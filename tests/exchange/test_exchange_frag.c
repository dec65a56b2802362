/* test_exchange_frag.c — COOKIEs (RFC 7296 §2.6), IKE fragmentation (RFC 7383) and NAT
 * traversal (RFC 7296 §2.23, RFC 3948) between two meshd daemons in one process, each on
 * its own mock kernel, with in-memory packets and one virtual clock (the harness of
 * test_exchange.c, plus a NAT in front of A).
 *
 *   A 10.0.1.1 --[NAT: A's source ports 500 -> 40500, 4500 -> 44500]-- B 10.0.2.2
 *
 * The NAT keeps A's address and rewrites its ports (a port-translating NAT); that is
 * enough to make the NAT_DETECTION hashes disagree, and it keeps the traffic selectors
 * what they would be without it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "exchange.h"
#include "ike.h"
#include "ike_cookie.h"
#include "ike_frag.h"
#include "kernel_mock.h"
#include "loop.h"
#include "oe.h"
#include "shunt.h"
#include "unit.h"

#define MAX_PKTS 1024
#define NAT_500 40500
#define NAT_4500 44500

struct pkt {
	uint8_t *p;
	size_t n;
	struct addr from, to;
	uint16_t sport, dport;
	int sender;
};

struct node {
	char dir[64];
	char conf[128], pol[128], sock[128];
	struct meshd_ctx *ctx;
	struct addr addr;
	char *logbuf;
	size_t loglen;
	FILE *logf;
};

struct net {
	struct node node[2];
	struct pkt q[MAX_PKTS];
	size_t nq;
	size_t sent[2];
	size_t keepalives[2];        /* 0xff datagrams seen (not delivered: the kernel eats them) */
	uint64_t now;
	bool nat;                    /* A is behind a port-translating NAT */
};

struct hook_arg {
	struct net *net;
	int idx;
};
static struct hook_arg hook_args[2];

static uint64_t vclock(void *arg)
{
	return ((struct net *)arg)->now;
}

static int send_hook(void *arg, const uint8_t *p, size_t n, const struct addr *from,
		     uint16_t sport, const struct addr *to, uint16_t dport)
{
	struct hook_arg *h = arg;
	struct net *net = h->net;
	net->sent[h->idx]++;
	if (n == 1 && p[0] == 0xff) {
		net->keepalives[h->idx]++;
		return 0;
	}
	struct pkt k = { .n = n, .from = *from, .to = *to, .sport = sport, .dport = dport,
			 .sender = h->idx };
	if (net->nat && h->idx == 0) {
		/* outbound through A's NAT */
		k.sport = sport == 500 ? NAT_500 : sport == 4500 ? NAT_4500 : sport;
	}
	if (net->nat && h->idx == 1) {
		/* inbound through A's NAT: only its mappings get through */
		if (dport != NAT_500 && dport != NAT_4500)
			return 0;
		k.dport = dport == NAT_500 ? 500 : 4500;
	}
	ck_assert_uint_lt(net->nq, MAX_PKTS);
	k.p = malloc(n);
	memcpy(k.p, p, n);
	net->q[net->nq++] = k;
	return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

struct node_conf {
	const char *setup;           /* extra `config setup` lines */
	const char *conn;            /* extra lines for both OE conns */
};

static void node_start(struct net *net, int i, const char *addr, const struct node_conf *nc)
{
	struct node *n = &net->node[i];
	char conf[2048];
	snprintf(n->dir, sizeof(n->dir), "/tmp/meshd-frag-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	char dir[64];
	memcpy(dir, n->dir, sizeof(dir));
	snprintf(n->pol, sizeof(n->pol), "%s/policies", dir);
	ck_assert_int_eq(mkdir(n->pol, 0700), 0);
	snprintf(n->conf, sizeof(n->conf), "%s/meshd.conf", dir);
	snprintf(n->sock, sizeof(n->sock), "%s/ctl", dir);
	const char *setup = nc && nc->setup ? nc->setup : "";
	const char *extra = nc && nc->conn ? nc->conn : "";
	snprintf(conf, sizeof(conf),
		 "config setup\n\tshuntlifetime=60s\n%s\n"
		 "conn clear\n\tauto=ondemand\n\ttype=passthrough\n\tauthby=never\n"
		 "\tleft=%%defaultroute\n\tright=%%group\n\n"
		 "conn private\n\tauto=ondemand\n\ttype=transport\n\tauthby=null\n"
		 "\tfailureshunt=drop\n\tnegotiationshunt=drop\n\tleft=%%defaultroute\n"
		 "\tleftid=%%null\n\trightid=%%null\n\tright=%%opportunisticgroup\n%s\n"
		 "conn private-or-clear\n\tauto=ondemand\n\ttype=transport\n\tauthby=null\n"
		 "\tfailureshunt=passthrough\n\tnegotiationshunt=passthrough\n"
		 "\tleft=%%defaultroute\n\tleftid=%%null\n\trightid=%%null\n"
		 "\tright=%%opportunisticgroup\n%s",
		 setup, extra, extra);
	write_file(n->dir, "meshd.conf", conf);
	write_file(n->pol, "private", "10.0.0.0/16\n");
	write_file(n->pol, "private-or-clear", "");
	write_file(n->pol, "clear", "");
	n->ctx = calloc(1, sizeof(*n->ctx));
	log_init(&n->ctx->log, LOG_SINK_STDERR, true, i ? "B" : "A");
	n->logf = open_memstream(&n->logbuf, &n->loglen);
	n->ctx->log.fp = n->logf;
	ck_assert_int_eq(kmock_open(&n->ctx->kern), 0);
	struct meshd_opts o = {
		.config = n->conf, .ctlsocket = n->sock, .policies_dir = n->pol,
		.nofork = true, .no_ike_sockets = true, .no_signals = true,
	};
	ck_assert_int_eq(daemon_start(n->ctx, &o), 0);
	ck_assert_ptr_nonnull(n->ctx->ike);
	if (!net->now)
		net->now = loop_now_ms(n->ctx->loop);
	loop_set_clock(n->ctx->loop, vclock, net);
	ck_assert(addr_parse(addr, &n->addr));
	hook_args[i] = (struct hook_arg){ net, i };
	ike_set_send(n->ctx->ike, send_hook, &hook_args[i]);
}

static struct net *net_new(const struct node_conf *a, const struct node_conf *b)
{
	struct net *net = calloc(1, sizeof(*net));
	node_start(net, 0, "10.0.1.1", a);
	node_start(net, 1, "10.0.2.2", b);
	return net;
}

static void net_free(struct net *net)
{
	for (int i = 0; i < 2; i++) {
		struct node *n = &net->node[i];
		daemon_stop(n->ctx);
		free(n->ctx);
		fclose(n->logf);
		free(n->logbuf);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	for (size_t i = 0; i < net->nq; i++)
		free(net->q[i].p);
	free(net);
}

static const char *logs(struct net *net, int i)
{
	fflush(net->node[i].logf);
	return net->node[i].logbuf ? net->node[i].logbuf : "";
}

static int node_of(struct net *net, const struct addr *a)
{
	for (int i = 0; i < 2; i++)
		if (addr_eq(&net->node[i].addr, a))
			return i;
	return -1;
}

static void deliver(struct net *net, const struct pkt *k)
{
	int to = node_of(net, &k->to);
	ck_assert_int_ge(to, 0);
	ike_input(net->node[to].ctx->ike, k->p, k->n, &k->from, k->sport, &k->to, k->dport, -1);
}

/* Take queued datagram i out of the queue (owned by the caller). */
static struct pkt take(struct net *net, size_t i)
{
	ck_assert_uint_lt(i, net->nq);
	struct pkt k = net->q[i];
	memmove(&net->q[i], &net->q[i + 1], (net->nq - i - 1) * sizeof(net->q[0]));
	net->nq--;
	return k;
}

static size_t pump(struct net *net)
{
	size_t n = 0;
	while (net->nq) {
		struct pkt k = take(net, 0);
		deliver(net, &k);
		free(k.p);
		n++;
	}
	return n;
}

/* Deliver the first n queued datagrams only. */
static void step(struct net *net, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pkt k = take(net, 0);
		deliver(net, &k);
		free(k.p);
	}
}

static void advance(struct net *net, uint64_t ms)
{
	net->now += ms;
	for (int i = 0; i < 2; i++)
		loop_run_timers(net->node[i].ctx->loop);
}

static void acquire(struct meshd_ctx *ctx, const char *src, const char *dst)
{
	struct kacquire acq = { 0 };
	ck_assert(addr_parse(src, &acq.sel.src.a));
	ck_assert(addr_parse(dst, &acq.sel.dst.a));
	acq.sel.src.len = acq.sel.dst.len = (uint8_t)addr_bits(acq.sel.src.a.family);
	const struct pol_entry *e = policy_classify(ctx->pol, &acq.sel.dst.a, 0, 0, 0);
	acq.reqid = e ? e->reqid : 0;
	oe_acquire(ctx, &acq);
}

static struct ike_counts counts(struct net *net, int i)
{
	struct ike_counts c;
	ike_counts(net->node[i].ctx->ike, &c);
	return c;
}

static bool is_skf(const struct pkt *k)
{
	return k->n > IKE_HDR_LEN && k->p[16] == IKE_PL_SKF;
}

static uint8_t xchg_of(const struct pkt *k)
{
	return k->n > 18 ? k->p[18] : 0;
}

/* Both Child SAs up, mirror images of each other. */
static void assert_up(struct net *net)
{
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(counts(net, i).ike_established, 1);
		ck_assert_uint_eq(counts(net, i).child_total, 1);
		ck_assert_uint_eq(kmock_sa_count(&net->node[i].ctx->kern), 2);
	}
}

/* ---- COOKIE ----
 *   HDR, SAi1, KEi, Ni -->
 *                          <-- HDR, N(COOKIE)            (B keeps nothing)
 *   HDR, N(COOKIE), SAi1, KEi, Ni -->
 *                          <-- HDR, SAr1, KEr, Nr
 *   IKE_AUTH both ways */
START_TEST(cookie_then_established)
{
	struct node_conf b = { .setup = "\tddos-ike-threshold=0\n" };
	struct net *net = net_new(NULL, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 1);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).cookies_sent, 1);
	ck_assert_uint_eq(net->nq, 1);
	/* the answer: header and one N(COOKIE) of 16 bytes, SPIr zero */
	const struct pkt *c = &net->q[0];
	ck_assert_uint_eq(c->n, IKE_HDR_LEN + 8 + IKE_COOKIE_LEN);
	ck_assert_uint_eq(c->p[16], IKE_PL_NOTIFY);
	static const uint8_t zero[8];
	ck_assert_mem_eq(c->p + 8, zero, 8);
	ck_assert_uint_eq(pump(net), 5);
	assert_up(net);
	ck_assert_uint_eq(counts(net, 1).cookies_sent, 1);
	ck_assert_uint_eq(counts(net, 1).rx_cookie_bad, 0);
	net_free(net);
}
END_TEST

/* A wrong cookie is answered with a fresh one and creates no state; the initiator then
 * succeeds with the fresh one. */
START_TEST(wrong_cookie_answered_again)
{
	struct node_conf b = { .setup = "\tddos-ike-threshold=0\n" };
	struct net *net = net_new(NULL, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 2);       /* request, COOKIE answer: A retries with the cookie first */
	ck_assert_uint_eq(net->nq, 1);
	struct pkt *r = &net->q[0];
	/* HDR | N generic header (4) | proto, SPI size, type (4) | cookie */
	ck_assert_uint_eq(r->p[16], IKE_PL_NOTIFY);
	ck_assert_uint_eq((unsigned)(r->p[IKE_HDR_LEN + 6] << 8 | r->p[IKE_HDR_LEN + 7]),
			  IKE_N_COOKIE);
	uint8_t good[IKE_COOKIE_LEN];
	memcpy(good, r->p + IKE_HDR_LEN + 8, IKE_COOKIE_LEN);
	r->p[IKE_HDR_LEN + 8 + 5] ^= 0x40;
	step(net, 1);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).rx_cookie_bad, 1);
	ck_assert_uint_eq(counts(net, 1).cookies_sent, 2);
	ck_assert_uint_eq(net->nq, 1);
	/* the fresh cookie is the right one for the same Ni/SPIi, not the corrupted one */
	ck_assert_mem_eq(net->q[0].p + IKE_HDR_LEN + 8, good, IKE_COOKIE_LEN);
	pump(net);
	assert_up(net);
	net_free(net);
}
END_TEST

/* Below the threshold nobody is asked for a cookie (the default is 50). */
START_TEST(no_cookie_below_threshold)
{
	struct net *net = net_new(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	ck_assert_uint_eq(pump(net), 4);
	assert_up(net);
	ck_assert_uint_eq(counts(net, 1).cookies_sent, 0);
	net_free(net);
}
END_TEST

/* The secret rotates each period; a cookie stays good for one more period. */
START_TEST(cookie_secret_rotation)
{
	struct ike_cookie c = { 0 };
	struct addr ip;
	ck_assert(addr_parse("192.0.2.7", &ip));
	uint8_t ni[32] = { 1, 2, 3 }, k[IKE_COOKIE_LEN], k2[IKE_COOKIE_LEN];
	struct net *net = net_new(NULL, NULL);   /* NSS up */
	uint64_t t = 1000000;
	ck_assert_int_eq(ike_cookie_make(&c, t, ni, sizeof(ni), &ip, 42, k), 0);
	ck_assert(ike_cookie_check(&c, t + 1, ni, sizeof(ni), &ip, 42, k, sizeof(k)));
	ck_assert(!ike_cookie_check(&c, t + 1, ni, sizeof(ni), &ip, 43, k, sizeof(k)));
	ck_assert(!ike_cookie_check(&c, t + 1, ni, 31, &ip, 42, k, sizeof(k)));
	ck_assert(!ike_cookie_check(&c, t + 1, ni, sizeof(ni), &ip, 42, k, sizeof(k) - 1));
	/* next period: a new secret, the old cookie still accepted, new cookies differ */
	ck_assert_int_eq(ike_cookie_make(&c, t + IKE_COOKIE_PERIOD_MS, ni, sizeof(ni), &ip, 42,
					 k2), 0);
	ck_assert(memcmp(k, k2, sizeof(k)) != 0);
	ck_assert(ike_cookie_check(&c, t + IKE_COOKIE_PERIOD_MS + 1, ni, sizeof(ni), &ip, 42, k,
				   sizeof(k)));
	/* one more period: the first secret is gone */
	ck_assert(!ike_cookie_check(&c, t + 2 * IKE_COOKIE_PERIOD_MS, ni, sizeof(ni), &ip, 42, k,
				    sizeof(k)));
	ck_assert(ike_cookie_check(&c, t + 2 * IKE_COOKIE_PERIOD_MS, ni, sizeof(ni), &ip, 42, k2,
				   sizeof(k2)));
	/* long silence: nothing old survives */
	ck_assert(!ike_cookie_check(&c, t + 10 * IKE_COOKIE_PERIOD_MS, ni, sizeof(ni), &ip, 42, k2,
				    sizeof(k2)));
	ike_cookie_fini(&c);
	net_free(net);
}
END_TEST

/* ---- fragments ----
 * Both nodes send fragments of at most 200 bytes (a test hook), so IKE_AUTH goes as SKF
 * fragments both ways. */
static struct net *frag_net(const struct node_conf *a, const struct node_conf *b)
{
	struct net *net = net_new(a, b);
	net->node[0].ctx->ike->frag_size = 200;
	net->node[1].ctx->ike->frag_size = 200;
	return net;
}

static size_t count_skf(struct net *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->nq; i++) {
		n += is_skf(&net->q[i]);
		ck_assert_uint_le(net->q[i].n, 200 - 28);
	}
	return n;
}

START_TEST(fragmented_auth_both_ways)
{
	struct net *net = frag_net(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 2);
	size_t nreq = net->nq;
	ck_assert_uint_ge(nreq, 2);
	ck_assert_uint_eq(count_skf(net), nreq);
	ck_assert_uint_eq(xchg_of(&net->q[0]), IKE_XCHG_AUTH);
	step(net, nreq);
	size_t nresp = net->nq;
	ck_assert_msg(nresp >= 2, "%s", logs(net, 1));
	ck_assert_uint_eq(count_skf(net), nresp);
	pump(net);
	assert_up(net);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(counts(net, i).frag_reassembled, 1);
		ck_assert_uint_eq(counts(net, i).rx_dropped_integrity, 0);
	}
	ck_assert_uint_eq(counts(net, 0).frags_tx, nreq);
	ck_assert_uint_eq(counts(net, 1).frags_tx, nresp);
	ck_assert_uint_eq(counts(net, 1).frags_rx, nreq);
	/* the Delete exchange is small: it goes whole */
	ike_down(net->node[0].ctx->ike, &net->node[1].addr);
	ck_assert_uint_eq(net->nq, 1);
	ck_assert(!is_skf(&net->q[0]));
	pump(net);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	net_free(net);
}
END_TEST

/* Fragments in reverse order, with duplicates, still make the message. */
START_TEST(fragments_reordered_and_duplicated)
{
	struct net *net = frag_net(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 2);
	size_t n = net->nq;
	ck_assert_uint_ge(n, 2);
	/* deliver: last, last again, ..., first, and the first again */
	struct pkt f[IKE_FRAG_MAX];
	for (size_t i = 0; i < n; i++)
		f[i] = take(net, 0);
	deliver(net, &f[n - 1]);
	deliver(net, &f[n - 1]);
	for (size_t i = n - 1; i-- > 0;)
		deliver(net, &f[i]);
	ck_assert_uint_eq(counts(net, 1).frag_reassembled, 1);
	size_t nresp = net->nq;
	ck_assert_uint_ge(nresp, 2);
	/* fragment 1 once more is a retransmitted request: the whole answer again */
	deliver(net, &f[0]);
	ck_assert_uint_eq(net->nq, 2 * nresp);
	for (size_t i = 0; i < nresp; i++) {
		ck_assert_uint_eq(net->q[i].n, net->q[nresp + i].n);
		ck_assert_mem_eq(net->q[i].p, net->q[nresp + i].p, net->q[i].n);
	}
	for (size_t i = 0; i < n; i++)
		free(f[i].p);
	ck_assert_uint_eq(counts(net, 1).rx_duplicates, 2);
	/* A gets every response fragment twice */
	pump(net);
	assert_up(net);
	ck_assert_uint_eq(counts(net, 0).frag_reassembled, 1);
	/* the second set arrives after the exchange is done: stale, dropped */
	ck_assert_uint_eq(counts(net, 0).rx_dropped_msgid, nresp);
	net_free(net);
}
END_TEST

/* A corrupted fragment fails its own check only; the retransmit fills the gap. */
START_TEST(corrupted_fragment_dropped)
{
	struct net *net = frag_net(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 2);
	size_t n = net->nq;
	ck_assert_uint_ge(n, 2);
	net->q[1].p[net->q[1].n - 20] ^= 1;      /* inside the ciphertext of fragment 2 */
	step(net, n);
	ck_assert_uint_eq(counts(net, 1).rx_dropped_integrity, 1);
	ck_assert_uint_eq(counts(net, 1).frags_rx, n - 1);
	ck_assert_uint_eq(counts(net, 1).frag_reassembled, 0);
	ck_assert_uint_eq(net->nq, 0);          /* no answer yet */
	/* A retransmits all fragments after 0.5 s; B completes with the missing one */
	advance(net, 500);
	ck_assert_uint_eq(net->nq, n);
	ck_assert_uint_eq(count_skf(net), n);
	pump(net);
	assert_up(net);
	ck_assert_uint_eq(counts(net, 0).retransmits, 1);
	net_free(net);
}
END_TEST

/* fragmentation=no on one side: nobody fragments, big messages go whole. */
START_TEST(fragmentation_off)
{
	struct node_conf off = { .conn = "\tfragmentation=no\n" };
	for (int side = 0; side < 2; side++) {
		struct net *net = side ? frag_net(NULL, &off) : frag_net(&off, NULL);
		acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
		ck_assert_uint_eq(pump(net), 4);
		assert_up(net);
		for (int i = 0; i < 2; i++) {
			ck_assert_uint_eq(counts(net, i).frags_tx, 0);
			ck_assert_uint_eq(counts(net, i).frags_rx, 0);
		}
		net_free(net);
	}
}
END_TEST

/* ---- NAT ----
 *   A:500 -> NAT:40500 ->  B:500     IKE_SA_INIT: B sees 10.0.1.1:40500, A's NATD_SRC
 *                                    says :500 -> NAT in front of A (both notice)
 *   A:4500 -> NAT:44500 -> B:4500    IKE_AUTH on the NAT-T port, with the marker
 *   ESP SAs with UDP encapsulation 4500 <-> 44500 (B) / 4500 <-> 4500 (A) */
START_TEST(nat_moves_to_4500)
{
	struct net *net = net_new(NULL, NULL);
	net->nat = true;
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	ck_assert_uint_eq(net->q[0].sport, NAT_500);
	step(net, 2);
	ck_assert_msg(strstr(logs(net, 0), "NAT detected in front of us; moving to the NAT-T port"),
		      "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "NAT detected in front of the peer"), "%s",
		      logs(net, 1));
	/* IKE_AUTH request from A's 4500 (after the NAT: 44500) to B's 4500 */
	ck_assert_uint_eq(net->nq, 1);
	ck_assert_uint_eq(xchg_of(&net->q[0]), IKE_XCHG_AUTH);
	ck_assert_uint_eq(net->q[0].sport, NAT_4500);
	ck_assert_uint_eq(net->q[0].dport, 4500);
	step(net, 1);
	ck_assert_uint_eq(net->nq, 1);
	ck_assert_uint_eq(net->q[0].sport, 4500);
	ck_assert_uint_eq(net->q[0].dport, 4500);     /* back through the NAT */
	pump(net);
	assert_up(net);
	struct child_list {
		uint32_t in, out;
	} cl[2];
	for (int i = 0; i < 2; i++) {
		struct ike_sa *sa = sa_ike_at(net->node[i].ctx->ike->sas, 0);
		struct child_sa *c = sa_child_at(net->node[i].ctx->ike->sas, 0);
		ck_assert_ptr_nonnull(sa);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(sa->lport, 4500);
		cl[i].in = c->spi_in;
		cl[i].out = c->spi_out;
	}
	const struct addr *A = &net->node[0].addr, *B = &net->node[1].addr;
	const struct ksa *a_out = kmock_sa_find(&net->node[0].ctx->kern, B, cl[0].out);
	const struct ksa *a_in = kmock_sa_find(&net->node[0].ctx->kern, A, cl[0].in);
	const struct ksa *b_out = kmock_sa_find(&net->node[1].ctx->kern, A, cl[1].out);
	const struct ksa *b_in = kmock_sa_find(&net->node[1].ctx->kern, B, cl[1].in);
	ck_assert_ptr_nonnull(a_out);
	ck_assert_ptr_nonnull(a_in);
	ck_assert_ptr_nonnull(b_out);
	ck_assert_ptr_nonnull(b_in);
	ck_assert_uint_eq(a_out->encap_sport, 4500);
	ck_assert_uint_eq(a_out->encap_dport, 4500);
	ck_assert_uint_eq(a_in->encap_sport, 4500);
	ck_assert_uint_eq(a_in->encap_dport, 4500);
	ck_assert_uint_eq(b_out->encap_sport, 4500);
	ck_assert_uint_eq(b_out->encap_dport, NAT_4500);
	ck_assert_uint_eq(b_in->encap_sport, NAT_4500);
	ck_assert_uint_eq(b_in->encap_dport, 4500);
	/* A, behind the NAT, keeps the mapping open: one 0xff every 20 s; B sends none */
	ck_assert_uint_eq(net->keepalives[0], 0);
	advance(net, 20000);
	ck_assert_uint_eq(net->keepalives[0], 1);
	advance(net, 20000);
	ck_assert_uint_eq(net->keepalives[0], 2);
	ck_assert_uint_eq(net->keepalives[1], 0);
	ck_assert_uint_eq(counts(net, 0).nat_keepalives, 2);
	/* the Delete goes over 4500 too, and the keepalives stop with the SA */
	ike_down(net->node[0].ctx->ike, B);
	ck_assert_uint_eq(net->q[0].dport, 4500);
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	advance(net, 60000);
	ck_assert_uint_eq(net->keepalives[0], 2);
	net_free(net);
}
END_TEST

/* Without a NAT nothing moves and nothing is encapsulated. */
START_TEST(no_nat_stays_on_500)
{
	struct net *net = net_new(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	ck_assert_uint_eq(pump(net), 4);
	assert_up(net);
	struct child_sa *c = sa_child_at(net->node[0].ctx->ike->sas, 0);
	const struct ksa *a_out = kmock_sa_find(&net->node[0].ctx->kern, &net->node[1].addr,
						c->spi_out);
	ck_assert_ptr_nonnull(a_out);
	ck_assert_uint_eq(a_out->encap_sport, 0);
	ck_assert_uint_eq(a_out->encap_dport, 0);
	advance(net, 60000);
	ck_assert_uint_eq(net->keepalives[0] + net->keepalives[1], 0);
	net_free(net);
}
END_TEST

/* NAT and fragments together: IKE_AUTH fragments on 4500 (the 4-byte marker counts). */
START_TEST(nat_and_fragments)
{
	struct net *net = frag_net(NULL, NULL);
	net->nat = true;
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2");
	step(net, 2);
	ck_assert_uint_ge(net->nq, 2);
	for (size_t i = 0; i < net->nq; i++) {
		ck_assert(is_skf(&net->q[i]));
		ck_assert_uint_eq(net->q[i].dport, 4500);
		ck_assert_uint_le(net->q[i].n, 200 - 28 - 4);
	}
	pump(net);
	assert_up(net);
	net_free(net);
}
END_TEST

static Suite *frag_suite(void)
{
	Suite *s = suite_create("exchange_frag");
	TCase *tc = tcase_create("cookie");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cookie_then_established);
	tcase_add_test(tc, wrong_cookie_answered_again);
	tcase_add_test(tc, no_cookie_below_threshold);
	tcase_add_test(tc, cookie_secret_rotation);
	suite_add_tcase(s, tc);
	tc = tcase_create("frag");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fragmented_auth_both_ways);
	tcase_add_test(tc, fragments_reordered_and_duplicated);
	tcase_add_test(tc, corrupted_fragment_dropped);
	tcase_add_test(tc, fragmentation_off);
	suite_add_tcase(s, tc);
	tc = tcase_create("nat");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nat_moves_to_4500);
	tcase_add_test(tc, no_nat_stays_on_500);
	tcase_add_test(tc, nat_and_fragments);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(frag_suite)
