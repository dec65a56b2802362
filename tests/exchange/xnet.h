/* xnet.h — the test network of tests/exchange: two meshd daemons in one process, each on
 * its own mock kernel, with in-memory packets between them and one virtual clock
 * (aesthetics.md 7.12).
 *
 *   A 10.0.1.1  ---- in-memory UDP 500 ----  B 10.0.2.2
 *
 * The send hook of each engine queues datagrams; pump() delivers them in order to the
 * context that owns the destination address (and drops those to nobody, counting them).
 * Every datagram is also kept, so tests can replay, truncate and corrupt them. */
#ifndef MESHD_TEST_XNET_H
#define MESHD_TEST_XNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctx.h"
#include "ike.h"
#include "kernel.h"

#define MAX_PKTS 512

struct pkt {
	uint8_t *p;
	size_t n;
	struct addr from, to;
	uint16_t sport, dport;
	int sender;                  /* index of the sending node */
};

struct node {
	char dir[64];
	char conf[128], pol[128], sock[128];   /* ctx->opts borrows these */
	struct meshd_ctx *ctx;
	struct addr addr;
	char *logbuf;
	size_t loglen;
	FILE *logf;
};

struct net {
	struct node node[2];
	struct pkt q[MAX_PKTS];      /* waiting to be delivered */
	size_t nq;
	struct pkt all[MAX_PKTS];    /* every datagram sent (copies) */
	size_t nall;
	size_t lost;                 /* to an address nobody has */
	size_t sent[2];
	uint64_t now;
	bool drop_all;               /* a peer that never answers */
};

/* A node's configuration: type= for the private group, ike=/esp= overrides. */
struct node_conf {
	const char *type;            /* "transport" (default) / "tunnel" */
	const char *ike, *esp;
	const char *private_file, *poc_file, *clear_file;
	const char *authby;          /* default "null" */
	/* certificates (NULL = the NULL-auth defaults: leftid/rightid=%null, no nssdir) */
	const char *nssdir;          /* config setup nssdir= */
	const char *leftcert, *leftid, *rightid, *rightca;
	const char *conn_extra;      /* more lines for both OE conns ("\tkey=value\n"...) */
};

struct child_list {
	struct ike_child_info c[4];
	char peer_id[4][IKE_PEER_ID_MAX];
	size_t n;
};

/* Start daemon i at addr with configuration nc (groups private and private-or-clear with
 * nc's settings, clear with authby=never). */
void node_start(struct net *net, int i, const char *addr, const struct node_conf *nc);
/* A = 10.0.1.1 with a, B = 10.0.2.2 with b (NULL = defaults). */
struct net *net_new(const struct node_conf *a, const struct node_conf *b);
void net_free(struct net *net);
/* Daemon i dies without a word (kill -9: its kernel state goes with it) and starts again
 * at the same address with nc. */
void node_restart(struct net *net, int i, const struct node_conf *nc);
void write_file(const char *dir, const char *name, const char *text);
/* Node i's log so far. */
const char *logs(struct net *net, int i);
int node_of(struct net *net, const struct addr *a);
void deliver(struct net *net, const struct pkt *k);
/* Deliver queued datagrams until none is left; returns how many. */
size_t pump(struct net *net);
size_t pump_one(struct net *net);
/* Drop what is queued without delivering it. */
void flush(struct net *net);
/* Move the virtual clock and run due timers. */
void advance(struct net *net, uint64_t ms);
/* A kernel ACQUIRE src -> dst with the reqid of the entry that covers dst. */
void acquire(struct meshd_ctx *ctx, const char *src, const char *dst, uint8_t proto,
	     uint16_t dport);
const struct kpolicy *find_pol(struct meshd_ctx *ctx, const char *src, const char *dst,
			       enum kdir dir, uint8_t proto, uint16_t sport, uint16_t dport);
void children(struct net *net, int i, struct child_list *l);
struct ike_counts counts(struct net *net, int i);

#endif
