/* xnet.c — the test network of tests/exchange (xnet.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "exchange.h"
#include "ike.h"
#include "kernel_mock.h"
#include "loop.h"
#include "oe.h"
#include "shunt.h"
#include "unit.h"
#include "xnet.h"
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
	struct pkt k = { .n = n, .from = *from, .to = *to, .sport = sport, .dport = dport,
			 .sender = h->idx };
	if (net->nall < MAX_PKTS) {
		k.p = malloc(n);
		memcpy(k.p, p, n);
		net->all[net->nall++] = k;
	}
	if (net->nq < MAX_PKTS && !net->drop_all) {
		k.p = malloc(n);
		memcpy(k.p, p, n);
		net->q[net->nq++] = k;
	}
	return 0;
}

void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}


void node_start(struct net *net, int i, const char *addr, const struct node_conf *nc)
{
	struct node *n = &net->node[i];
	char conf[6144];
	snprintf(n->dir, sizeof(n->dir), "/tmp/meshd-xchg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	char dir[64];
	memcpy(dir, n->dir, sizeof(dir));
	snprintf(n->pol, sizeof(n->pol), "%s/policies", dir);
	ck_assert_int_eq(mkdir(n->pol, 0700), 0);
	snprintf(n->conf, sizeof(n->conf), "%s/meshd.conf", dir);
	snprintf(n->sock, sizeof(n->sock), "%s/ctl", dir);
	char extra[768] = "";
	if (nc->ike)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "\tike=%s\n", nc->ike);
	if (nc->esp)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "\tesp=%s\n", nc->esp);
	if (nc->conn_extra)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%s", nc->conn_extra);
	const char *authby = nc->authby ? nc->authby : "null";
	char setup[256] = "", ids[512];
	if (nc->nssdir)
		snprintf(setup, sizeof(setup), "\tnssdir=%s\n", nc->nssdir);
	snprintf(ids, sizeof(ids), "\tleftid=%s\n\trightid=%s\n%s%s%s%s%s%s",
		 nc->leftid ? nc->leftid : "%null", nc->rightid ? nc->rightid : "%null",
		 nc->leftcert ? "\tleftcert=" : "", nc->leftcert ? nc->leftcert : "",
		 nc->leftcert ? "\n" : "", nc->rightca ? "\trightca=" : "",
		 nc->rightca ? nc->rightca : "", nc->rightca ? "\n" : "");
	snprintf(conf, sizeof(conf),
		 "config setup\n\tshuntlifetime=60s\n%s\n"
		 "conn clear\n\tauto=ondemand\n\ttype=passthrough\n\tauthby=never\n"
		 "\tleft=%%defaultroute\n\tright=%%group\n\n"
		 "conn private\n\tauto=ondemand\n\ttype=%s\n\tauthby=%s\n"
		 "\tfailureshunt=drop\n\tnegotiationshunt=drop\n\tleft=%%defaultroute\n"
		 "%s\tright=%%opportunisticgroup\n%s\n"
		 "conn private-or-clear\n\tauto=ondemand\n\ttype=%s\n\tauthby=%s\n"
		 "\tfailureshunt=passthrough\n\tnegotiationshunt=passthrough\n"
		 "\tleft=%%defaultroute\n%s"
		 "\tright=%%opportunisticgroup\n%s",
		 setup, nc->type ? nc->type : "transport", authby, ids, extra,
		 nc->type ? nc->type : "transport", authby, ids, extra);
	write_file(n->dir, "meshd.conf", conf);
	write_file(n->pol, "private", nc->private_file ? nc->private_file : "10.0.0.0/16\n");
	write_file(n->pol, "private-or-clear", nc->poc_file ? nc->poc_file : "");
	write_file(n->pol, "clear", nc->clear_file ? nc->clear_file : "");
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

struct net *net_new(const struct node_conf *a, const struct node_conf *b)
{
	struct net *net = calloc(1, sizeof(*net));
	static const struct node_conf def;
	node_start(net, 0, "10.0.1.1", a ? a : &def);
	node_start(net, 1, "10.0.2.2", b ? b : &def);
	return net;
}

static void node_stop(struct node *n)
{
	daemon_stop(n->ctx);
	free(n->ctx);
	fclose(n->logf);
	free(n->logbuf);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
	ck_assert_int_eq(system(cmd), 0);
	memset(n, 0, sizeof(*n));
}

void node_restart(struct net *net, int i, const struct node_conf *nc)
{
	char addr[ADDR_STRLEN];
	static const struct node_conf def;
	addr_str(&net->node[i].addr, addr);
	node_stop(&net->node[i]);
	node_start(net, i, addr, nc ? nc : &def);
}

void net_free(struct net *net)
{
	for (int i = 0; i < 2; i++)
		node_stop(&net->node[i]);
	for (size_t i = 0; i < net->nq; i++)
		free(net->q[i].p);
	for (size_t i = 0; i < net->nall; i++)
		free(net->all[i].p);
	free(net);
}

const char *logs(struct net *net, int i)
{
	fflush(net->node[i].logf);
	return net->node[i].logbuf ? net->node[i].logbuf : "";
}

int node_of(struct net *net, const struct addr *a)
{
	for (int i = 0; i < 2; i++)
		if (addr_eq(&net->node[i].addr, a))
			return i;
	return -1;
}

void deliver(struct net *net, const struct pkt *k)
{
	int to = node_of(net, &k->to);
	if (to < 0) {
		net->lost++;
		return;
	}
	ike_input(net->node[to].ctx->ike, k->p, k->n, &k->from, k->sport, &k->to, k->dport, -1);
}

/* Deliver queued datagrams until none is left; returns how many. */
size_t pump(struct net *net)
{
	size_t n = 0;
	while (net->nq) {
		struct pkt k = net->q[0];
		memmove(&net->q[0], &net->q[1], (net->nq - 1) * sizeof(net->q[0]));
		net->nq--;
		deliver(net, &k);
		free(k.p);
		n++;
	}
	return n;
}

/* Deliver only the first queued datagram; returns 1, or 0 when the queue is empty. */
size_t pump_one(struct net *net)
{
	if (!net->nq)
		return 0;
	struct pkt k = net->q[0];
	memmove(&net->q[0], &net->q[1], (net->nq - 1) * sizeof(net->q[0]));
	net->nq--;
	deliver(net, &k);
	free(k.p);
	return 1;
}

/* Drop what is queued without delivering it. */
void flush(struct net *net)
{
	for (size_t i = 0; i < net->nq; i++)
		free(net->q[i].p);
	net->nq = 0;
}

void advance(struct net *net, uint64_t ms)
{
	net->now += ms;
	for (int i = 0; i < 2; i++)
		loop_run_timers(net->node[i].ctx->loop);
}

void acquire(struct meshd_ctx *ctx, const char *src, const char *dst, uint8_t proto,
		    uint16_t dport)
{
	struct kacquire acq = { 0 };
	ck_assert(addr_parse(src, &acq.sel.src.a));
	ck_assert(addr_parse(dst, &acq.sel.dst.a));
	acq.sel.src.len = acq.sel.dst.len = (uint8_t)addr_bits(acq.sel.src.a.family);
	acq.sel.proto = proto;
	acq.sel.dport = dport;
	const struct pol_entry *e = policy_classify(ctx->pol, &acq.sel.dst.a, proto, 0, dport);
	acq.reqid = e ? e->reqid : 0;
	oe_acquire(ctx, &acq);
}

const struct kpolicy *find_pol(struct meshd_ctx *ctx, const char *src, const char *dst,
				      enum kdir dir, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct ksel sel = { .proto = proto, .sport = sport, .dport = dport };
	ck_assert(prefix_parse(src, &sel.src, false, NULL));
	ck_assert(prefix_parse(dst, &sel.dst, false, NULL));
	return kmock_find(&ctx->kern, &sel, dir);
}


static void collect(const struct ike_child_info *c, void *arg)
{
	struct child_list *l = arg;
	if (l->n < 4) {
		l->c[l->n] = *c;
		snprintf(l->peer_id[l->n], sizeof(l->peer_id[0]), "%s", c->peer_id);
		l->c[l->n].peer_id = l->peer_id[l->n];
		l->c[l->n].algs = l->c[l->n].ike_algs = l->c[l->n].auth = l->c[l->n].group = "";
		l->n++;
	}
}

void children(struct net *net, int i, struct child_list *l)
{
	memset(l, 0, sizeof(*l));
	ike_child_foreach(net->node[i].ctx->ike, collect, l);
}

struct ike_counts counts(struct net *net, int i)
{
	struct ike_counts c;
	ike_counts(net->node[i].ctx->ike, &c);
	return c;
}
