/* nft.c — table inet meshd through libnftnl: build batches, send them, read the acks and
 * the counters. The only file that includes libnftnl (and, with kernel_xfrm.c, libmnl).
 * The contents of the sets come from nft_sets.c; nft.h describes the table.
 *
 * Every change is one nfnetlink batch (BATCH_BEGIN ... BATCH_END) with NLM_F_ACK on each
 * message between, sent with one sendmsg. The kernel handles the batch inside sendmsg,
 * so every ack is queued when it returns; an error is mapped back to its message by
 * sequence number and, for element lists, to the element by the extended-ack offset
 * (what nftables' mnl_batch_talk does). */
#include "config.h"

#define MESHD_NFT_INTERNAL
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nft.h"

/* nft's datatype numbers for the set key types (so "nft list" prints addresses). */
#define NFT_TYPE_IPADDR   7
#define NFT_TYPE_IP6ADDR  8
#define CHAIN_NAME        "input"
#define CHAIN_PRIO        (-10)        /* NF_IP_PRI_FILTER - 10; see nft.h */
#define RANGES_PER_MSG    512          /* <= 1024 elements: well under 64 KiB per message */
#define MSG_ROOM          (96 * 1024)  /* free space kept before building one message */
#define ACK_WAIT_MS       1000

enum ctr { CTR_IPSEC, CTR_ESP, CTR_IKE, CTR_PRIVATE, CTR_POC, CTR_COUNT };

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_IPSEC] = "ipsec_accepted",
	[CTR_ESP] = "esp_accepted",
	[CTR_IKE] = "ike_accepted",
	[CTR_PRIVATE] = "private_dropped",
	[CTR_POC] = "private_or_clear_accepted",
};

struct nft {
	struct log *log;                  /* borrowed */
	struct mnl_socket *nl;            /* NULL for nft_new */
	uint32_t portid, seq;
	char table[64];
	uint16_t ike_port, nat_ike_port;
	uint16_t log_group;               /* NFLOG group of the trigger rules, 0 = none */
	bool log_refused;                 /* the kernel refused them once: not tried again */
	bool force_full;                  /* the next sync replaces the whole table */
	bool created;                     /* the table is ours and holds `installed` */
	struct nft_plan installed;
	size_t n_port_specific;
	size_t sndbuf;
};

/* What one message of a batch did, to name it in errors. */
struct msg_info {
	uint32_t seq;
	size_t off;                       /* in the batch buffer */
	const char *what;                 /* "add set", ... */
	int set;                          /* enum nft_set_id, -1 */
	bool del;                         /* element list from del[] rather than add[] */
	size_t first, count;              /* ranges of that list in this message */
	const char *name;                 /* counter / rule name, may be NULL */
};

struct nft_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq0, seq;               /* BATCH_BEGIN's seq, next seq */
	struct msg_info *msgs;
	size_t n_msgs, cap_msgs;
	struct nft_plan next;
	struct nft_ranges del[NFT_SET_COUNT], add[NFT_SET_COUNT];
	bool full;
};

/* ---- batch buffer --------------------------------------------------------------- */

static int batch_room(struct nft_batch *b)
{
	if (b->cap - b->len >= MSG_ROOM && b->n_msgs < b->cap_msgs)
		return 0;
	if (b->cap - b->len < MSG_ROOM) {
		size_t cap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
		while (cap - b->len < MSG_ROOM)
			cap *= 2;
		char *p = realloc(b->buf, cap);
		if (!p)
			return -ENOMEM;
		memset(p + b->cap, 0, cap - b->cap);
		b->buf = p;
		b->cap = cap;
	}
	if (b->n_msgs == b->cap_msgs) {
		size_t cap = b->cap_msgs ? b->cap_msgs * 2 : 64;
		struct msg_info *m = realloc(b->msgs, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		b->msgs = m;
		b->cap_msgs = cap;
	}
	return 0;
}

/* Start a message at the end of the buffer (batch_room must have succeeded). */
static struct nlmsghdr *msg_start(struct nft_batch *b, uint16_t type, uint16_t flags,
				  const char *what)
{
	struct msg_info *m = &b->msgs[b->n_msgs];
	memset(m, 0, sizeof(*m));
	m->seq = b->seq;
	m->off = b->len;
	m->what = what;
	m->set = -1;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET, flags | NLM_F_ACK,
				     b->seq++);
}

static struct msg_info *msg_end(struct nft_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return &b->msgs[b->n_msgs++];
}

static int batch_edge(struct nft_batch *b, bool begin)
{
	int rc = batch_room(b);
	if (rc)
		return rc;
	struct msg_info *m = &b->msgs[b->n_msgs];
	memset(m, 0, sizeof(*m));
	m->seq = b->seq;
	m->off = b->len;
	m->what = begin ? "begin batch" : "end batch";
	m->set = -1;
	struct nlmsghdr *nlh = begin ? nftnl_batch_begin(b->buf + b->len, b->seq++)
				     : nftnl_batch_end(b->buf + b->len, b->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->n_msgs++;
	return 0;
}

/* ---- objects -------------------------------------------------------------------- */

static int put_table(struct nft_batch *b, const struct nft *n, uint16_t type)
{
	int rc = batch_room(b);
	struct nftnl_table *t = rc ? NULL : nftnl_table_alloc();
	if (rc || !t)
		return rc ? rc : -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, n->table) < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	struct nlmsghdr *nlh = msg_start(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0,
					 type == NFT_MSG_NEWTABLE ? "add table" : "delete table");
	nftnl_table_nlmsg_build_payload(nlh, t);
	msg_end(b, nlh);
	nftnl_table_free(t);
	return 0;
}

static int put_counter(struct nft_batch *b, const struct nft *n, enum ctr c)
{
	int rc = batch_room(b);
	struct nftnl_obj *o = rc ? NULL : nftnl_obj_alloc();
	if (rc || !o)
		return rc ? rc : -ENOMEM;
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, n->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, ctr_names[c]);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, "add counter");
	nftnl_obj_nlmsg_build_payload(nlh, o);
	msg_end(b, nlh)->name = ctr_names[c];
	nftnl_obj_free(o);
	return 0;
}

/* A set object naming one of ours (for NEWSET, and as the carrier of element lists). */
static struct nftnl_set *set_obj(const struct nft *n, enum nft_set_id id, bool with_id)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, nft_set_name(id)) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	if (with_id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)id + 1);
	return s;
}

static int put_set(struct nft_batch *b, const struct nft *n, enum nft_set_id id)
{
	int rc = batch_room(b);
	struct nftnl_set *s = rc ? NULL : set_obj(n, id, true);
	if (rc || !s)
		return rc ? rc : -ENOMEM;
	bool v6 = nft_set_family(id) == AF_INET6;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE, "add set");
	nftnl_set_nlmsg_build_payload(nlh, s);
	msg_end(b, nlh)->set = (int)id;
	nftnl_set_free(s);
	return 0;
}

/* hi + 1 into key; false when hi is the family's last address (no end element then). */
static bool range_end_key(const struct nft_range *r, size_t len, uint8_t *key)
{
	memcpy(key, r->hi, len);
	for (size_t i = len; i-- > 0;)
		if (++key[i] != 0)
			return true;
	return false;
}

static int add_elem(struct nftnl_set *s, const uint8_t *key, size_t len, bool end)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	if (!e)
		return -ENOMEM;
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len) < 0) {
		nftnl_set_elem_free(e);
		return -ENOMEM;
	}
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);
	return 0;
}

/* Element lists for ranges r (of set id), RANGES_PER_MSG ranges per message. */
static int put_elems(struct nft_batch *b, const struct nft *n, enum nft_set_id id,
		     const struct nft_ranges *r, bool del, bool with_id)
{
	size_t len = addr_len((int)nft_set_family(id));
	for (size_t first = 0; first < r->n; first += RANGES_PER_MSG) {
		size_t count = r->n - first < RANGES_PER_MSG ? r->n - first : RANGES_PER_MSG;
		int rc = batch_room(b);
		struct nftnl_set *s = rc ? NULL : set_obj(n, id, with_id);
		if (rc || !s)
			return rc ? rc : -ENOMEM;
		for (size_t i = first; i < first + count && rc == 0; i++) {
			uint8_t key[16];
			rc = add_elem(s, r->v[i].lo, len, false);
			if (rc == 0 && range_end_key(&r->v[i], len, key))
				rc = add_elem(s, key, len, true);
		}
		if (rc) {
			nftnl_set_free(s);
			return rc;
		}
		struct nlmsghdr *nlh = del
			? msg_start(b, NFT_MSG_DELSETELEM, 0, "delete elements")
			: msg_start(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, "add elements");
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		struct msg_info *m = msg_end(b, nlh);
		m->set = (int)id;
		m->del = del;
		m->first = first;
		m->count = count;
		nftnl_set_free(s);
	}
	return 0;
}

static int put_chain(struct nft_batch *b, const struct nft *n)
{
	int rc = batch_room(b);
	struct nftnl_chain *c = rc ? NULL : nftnl_chain_alloc();
	if (rc || !c)
		return rc ? rc : -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, CHAIN_NAME) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, CHAIN_PRIO);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, "add chain");
	nftnl_chain_nlmsg_build_payload(nlh, c);
	msg_end(b, nlh);
	nftnl_chain_free(c);
	return 0;
}

/* ---- rules ---------------------------------------------------------------------- */

/* The chain, top to bottom (nft.h). Every match loads into register 1. */
enum match { M_SECPATH, M_L4, M_DPORT, M_TYPE, M_TYPES, M_SADDR };

struct rule_def {
	const char *name;                 /* for error messages */
	uint8_t nfproto, l4proto;         /* 0 = no check */
	enum match match;
	unsigned arg;                     /* port (0: IKE port, 1: NAT-T port), type, set */
	uint8_t type_hi;                  /* M_TYPES: lo = arg */
	int ctr;                          /* enum ctr, -1 = none */
	int verdict;                      /* NF_*, or V_TRIGGER */
};

/* No verdict: rate-limit, then send the packet's headers to meshd over NFLOG (nft_log.c)
 * and carry on to the next rule, which drops it. Only with a log group (nft_opts). */
#define V_TRIGGER (-1)

static const struct rule_def rules[] = {
	{ "ipsec", 0, 0, M_SECPATH, 0, 0, CTR_IPSEC, NF_ACCEPT },
	{ "esp", 0, IPPROTO_ESP, M_L4, 0, 0, CTR_ESP, NF_ACCEPT },
	{ "ike", 0, IPPROTO_UDP, M_DPORT, 0, 0, CTR_IKE, NF_ACCEPT },
	{ "ike-nat", 0, IPPROTO_UDP, M_DPORT, 1, 0, CTR_IKE, NF_ACCEPT },
	{ "icmp-unreachable", NFPROTO_IPV4, IPPROTO_ICMP, M_TYPE, 3, 0, -1, NF_ACCEPT },
	{ "icmpv6-errors", NFPROTO_IPV6, IPPROTO_ICMPV6, M_TYPES, 1, 4, -1, NF_ACCEPT },
	{ "icmpv6-nd", NFPROTO_IPV6, IPPROTO_ICMPV6, M_TYPES, 133, 137, -1, NF_ACCEPT },
	{ "private4-trigger", NFPROTO_IPV4, 0, M_SADDR, NFT_SET_PRIVATE4, 0, -1, V_TRIGGER },
	{ "private6-trigger", NFPROTO_IPV6, 0, M_SADDR, NFT_SET_PRIVATE6, 0, -1, V_TRIGGER },
	{ "private4", NFPROTO_IPV4, 0, M_SADDR, NFT_SET_PRIVATE4, 0, CTR_PRIVATE, NF_DROP },
	{ "private6", NFPROTO_IPV6, 0, M_SADDR, NFT_SET_PRIVATE6, 0, CTR_PRIVATE, NF_DROP },
	{ "private_or_clear4", NFPROTO_IPV4, 0, M_SADDR, NFT_SET_POC4, 0, CTR_POC, NF_ACCEPT },
	{ "private_or_clear6", NFPROTO_IPV6, 0, M_SADDR, NFT_SET_POC6, 0, CTR_POC, NF_ACCEPT },
};

static int x_add(struct nftnl_rule *r, const char *kind, struct nftnl_expr **out)
{
	struct nftnl_expr *e = nftnl_expr_alloc(kind);
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	*out = e;
	return 0;
}

static int x_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e;
	int rc = x_add(r, "meta", &e);
	if (rc == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return rc;
}

static int x_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e;
	int rc = x_add(r, "cmp", &e);
	if (rc == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		if (nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len) < 0)
			rc = -ENOMEM;
	}
	return rc;
}

static int x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e;
	int rc = x_add(r, "payload", &e);
	if (rc == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return rc;
}

static int x_match(struct nftnl_rule *r, const struct nft *n, const struct rule_def *d)
{
	int rc = 0;
	uint8_t u8;
	if (d->nfproto && (rc = x_meta(r, NFT_META_NFPROTO)) == 0)
		rc = x_cmp(r, NFT_CMP_EQ, &d->nfproto, 1);
	if (rc == 0 && d->l4proto && (rc = x_meta(r, NFT_META_L4PROTO)) == 0)
		rc = x_cmp(r, NFT_CMP_EQ, &d->l4proto, 1);
	if (rc)
		return rc;
	switch (d->match) {
	case M_SECPATH:
		u8 = 1;
		if ((rc = x_meta(r, NFT_META_SECPATH)) == 0)
			rc = x_cmp(r, NFT_CMP_EQ, &u8, 1);
		break;
	case M_L4:
		break;
	case M_DPORT: {
		uint16_t port = htons(d->arg ? n->nat_ike_port : n->ike_port);
		if ((rc = x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) == 0)
			rc = x_cmp(r, NFT_CMP_EQ, &port, 2);
		break;
	}
	case M_TYPE:
	case M_TYPES:
		u8 = (uint8_t)d->arg;
		rc = x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		if (rc == 0)
			rc = x_cmp(r, d->match == M_TYPE ? NFT_CMP_EQ : NFT_CMP_GTE, &u8, 1);
		if (rc == 0 && d->match == M_TYPES)
			rc = x_cmp(r, NFT_CMP_LTE, &d->type_hi, 1);
		break;
	case M_SADDR: {
		bool v6 = nft_set_family((enum nft_set_id)d->arg) == AF_INET6;
		struct nftnl_expr *e;
		rc = x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4);
		if (rc == 0 && (rc = x_add(r, "lookup", &e)) == 0) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
			if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET,
					       nft_set_name((enum nft_set_id)d->arg)) < 0)
				rc = -ENOMEM;
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, d->arg + 1);
		}
		break;
	}
	}
	return rc;
}

/* limit rate NFT_LOG_RATE/second burst NFT_LOG_BURST packets log group G snaplen
 * NFT_LOG_SNAPLEN queue-threshold 1: a flood costs the kernel a token bucket, not a
 * netlink message per packet, and each message leaves at once. */
static int x_trigger(struct nftnl_rule *r, const struct nft *n)
{
	struct nftnl_expr *e;
	int rc = x_add(r, "limit", &e);
	if (rc == 0) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, NFT_LOG_RATE);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, NFT_LOG_BURST);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
		rc = x_add(r, "log", &e);
	}
	if (rc == 0) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, n->log_group);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, NFT_LOG_SNAPLEN);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
	}
	return rc;
}

static int x_action(struct nftnl_rule *r, const struct nft *n, const struct rule_def *d)
{
	struct nftnl_expr *e;
	int rc = 0;
	if (d->verdict == V_TRIGGER)
		return x_trigger(r, n);
	if (d->ctr >= 0 && (rc = x_add(r, "objref", &e)) == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
		if (nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, ctr_names[d->ctr]) < 0)
			rc = -ENOMEM;
	}
	if (rc == 0 && (rc = x_add(r, "immediate", &e)) == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)d->verdict);
	}
	return rc;
}

static int put_rule(struct nft_batch *b, const struct nft *n, const struct rule_def *d)
{
	int rc = batch_room(b);
	struct nftnl_rule *r = rc ? NULL : nftnl_rule_alloc();
	if (rc || !r)
		return rc ? rc : -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME) < 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = x_match(r, n, d);
	if (rc == 0)
		rc = x_action(r, n, d);
	if (rc == 0) {
		struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
						 "add rule");
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh)->name = d->name;
	}
	nftnl_rule_free(r);
	return rc;
}

/* ---- building ------------------------------------------------------------------- */

static int range_cmp(const struct nft_range *x, const struct nft_range *y)
{
	int r = memcmp(x->lo, y->lo, 16);
	return r ? r : memcmp(x->hi, y->hi, 16);
}

static int ranges_copy(struct nft_ranges *out, const struct nft_range *r, unsigned family)
{
	return nft_ranges_push(out, r->lo, r->hi, family);
}

/* Ranges of old not in new go to del, ranges of new not in old to add (both sorted). */
static int ranges_diff(const struct nft_ranges *old, const struct nft_ranges *new_r,
		       unsigned family, struct nft_ranges *del, struct nft_ranges *add)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < old->n || j < new_r->n)) {
		int c = i == old->n ? 1 : j == new_r->n ? -1 : range_cmp(&old->v[i], &new_r->v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			rc = ranges_copy(del, &old->v[i++], family);
		} else {
			rc = ranges_copy(add, &new_r->v[j++], family);
		}
	}
	return rc;
}

static int build_full(struct nft_batch *b, const struct nft *n)
{
	/* add + delete + add: replaces a table left by a crash, or creates it, atomically */
	int rc = put_table(b, n, NFT_MSG_NEWTABLE);
	if (rc == 0)
		rc = put_table(b, n, NFT_MSG_DELTABLE);
	if (rc == 0)
		rc = put_table(b, n, NFT_MSG_NEWTABLE);
	for (int c = 0; c < CTR_COUNT && rc == 0; c++)
		rc = put_counter(b, n, (enum ctr)c);
	for (int s = 0; s < NFT_SET_COUNT && rc == 0; s++)
		rc = put_set(b, n, (enum nft_set_id)s);
	for (int s = 0; s < NFT_SET_COUNT && rc == 0; s++)
		rc = put_elems(b, n, (enum nft_set_id)s, &b->add[s], false, true);
	if (rc == 0)
		rc = put_chain(b, n);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && rc == 0; i++)
		if (rules[i].verdict != V_TRIGGER || n->log_group)
			rc = put_rule(b, n, &rules[i]);
	return rc;
}

void nft_batch_free(struct nft_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b->msgs);
	nft_plan_fini(&b->next);
	for (int s = 0; s < NFT_SET_COUNT; s++) {
		free(b->del[s].v);
		free(b->add[s].v);
	}
	free(b);
}

int nft_batch_build(const struct nft *n, struct nft_plan *next, bool full,
		    struct nft_batch **out)
{
	*out = NULL;
	full = full || !n->created;
	struct nft_batch *b = calloc(1, sizeof(*b));
	if (!b) {
		nft_plan_fini(next);
		return -ENOMEM;
	}
	b->next = *next;
	memset(next, 0, sizeof(*next));
	b->full = full;
	b->seq0 = b->seq = n->seq;
	int rc = 0;
	size_t changes = 0;
	for (int s = 0; s < NFT_SET_COUNT && rc == 0; s++) {
		static const struct nft_ranges none;
		unsigned fam = nft_set_family((enum nft_set_id)s);
		rc = ranges_diff(full ? &none : &n->installed.set[s], &b->next.set[s], fam,
				 &b->del[s], &b->add[s]);
		changes += b->del[s].n + b->add[s].n;
	}
	if (rc == 0 && !full && changes == 0) {
		nft_batch_free(b);         /* nothing to send */
		return 0;
	}
	if (rc == 0)
		rc = batch_edge(b, true);
	if (rc == 0 && full)
		rc = build_full(b, n);
	/* a diff: every removal first, so the additions never overlap what stays */
	for (int s = 0; s < NFT_SET_COUNT && rc == 0 && !full; s++)
		rc = put_elems(b, n, (enum nft_set_id)s, &b->del[s], true, false);
	for (int s = 0; s < NFT_SET_COUNT && rc == 0 && !full; s++)
		rc = put_elems(b, n, (enum nft_set_id)s, &b->add[s], false, false);
	if (rc == 0)
		rc = batch_edge(b, false);
	if (rc) {
		nft_batch_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

const void *nft_batch_data(const struct nft_batch *b, size_t *len)
{
	*len = b->len;
	return b->buf;
}

size_t nft_batch_msgs(const struct nft_batch *b)
{
	return b->n_msgs >= 2 ? b->n_msgs - 2 : 0;
}

static void adopt(struct nft *n, struct nft_batch *b)
{
	nft_plan_fini(&n->installed);
	n->installed = b->next;
	memset(&b->next, 0, sizeof(b->next));
	n->created = true;
	n->seq = b->seq;
}

void nft_batch_adopt(struct nft *n, struct nft_batch *b)
{
	adopt(n, b);
	nft_batch_free(b);
}

/* ---- talking to the kernel ------------------------------------------------------ */

static const struct msg_info *msg_by_seq(const struct nft_batch *b, uint32_t seq)
{
	uint32_t i = seq - b->seq0;
	return i < b->n_msgs ? &b->msgs[i] : NULL;
}

/* Which element of an element-list message lies at byte offset off of the message. */
static bool elem_at(const struct nlmsghdr *nlh, size_t off, size_t *idx)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		const struct nlattr *e;
		size_t i = 0;
		mnl_attr_for_each_nested(e, a) {
			size_t start = (size_t)((const char *)e - (const char *)nlh);
			if (off >= start && off < start + mnl_attr_get_payload_len(e) + MNL_ATTR_HDRLEN) {
				*idx = i;
				return true;
			}
			i++;
		}
	}
	return false;
}

/* The range whose start or end element is element number idx of message m. */
static const struct nft_range *range_of_elem(const struct nft_batch *b,
					     const struct msg_info *m, size_t idx)
{
	const struct nft_ranges *r = m->del ? &b->del[m->set] : &b->add[m->set];
	size_t len = addr_len((int)nft_set_family((enum nft_set_id)m->set)), k = 0;
	for (size_t i = m->first; i < m->first + m->count && i < r->n; i++) {
		uint8_t key[16];
		size_t elems = range_end_key(&r->v[i], len, key) ? 2 : 1;
		if (idx < k + elems)
			return &r->v[i];
		k += elems;
	}
	return NULL;
}

static void report(struct nft *n, const struct nft_batch *b, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	const struct msg_info *m = msg_by_seq(b, err->msg.nlmsg_seq);
	const char *kmsg = NULL;
	size_t off = 0;
	bool have_off = false;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t tlv = (nlh->nlmsg_flags & NLM_F_CAPPED) ? sizeof(*err)
				: sizeof(err->error) + err->msg.nlmsg_len;
		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, tlv) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				kmsg = mnl_attr_get_str(a);
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				off = mnl_attr_get_u32(a);
				have_off = true;
			}
		}
	}
	char what[160] = "";
	if (m && m->set >= 0 && m->count) {
		const struct nlmsghdr *sent = (const void *)(b->buf + m->off);
		size_t idx;
		const struct nft_range *r = have_off && elem_at(sent, off, &idx)
					    ? range_of_elem(b, m, idx) : NULL;
		char rs[NFT_RANGE_STRLEN];
		if (r)
			snprintf(what, sizeof(what), "%s %s %s", m->what,
				 m->del ? "from" : "to", nft_set_name((enum nft_set_id)m->set));
		if (r)
			snprintf(what + strlen(what), sizeof(what) - strlen(what), ": %s",
				 nft_range_str(r, nft_set_family((enum nft_set_id)m->set), rs));
		else
			snprintf(what, sizeof(what), "%s %s %s (%zu ranges)", m->what,
				 m->del ? "from" : "to", nft_set_name((enum nft_set_id)m->set),
				 m->count);
	} else if (m) {
		snprintf(what, sizeof(what), "%s%s%s%s%s", m->what, m->set >= 0 ? " " : "",
			 m->set >= 0 ? nft_set_name((enum nft_set_id)m->set) : "",
			 m->name ? " " : "", m->name ? m->name : "");
	} else {
		snprintf(what, sizeof(what), "message seq %u", err->msg.nlmsg_seq);
	}
	log_warn(n->log, "nft: table inet %s: %s failed: %s%s%s", n->table, what,
		 strerror(-err->error), kmsg ? ": " : "", kmsg ? kmsg : "");
}

static int grow_sockbuf(struct nft *n, int opt_force, int opt, size_t want)
{
	int fd = mnl_socket_get_fd(n->nl);
	int v = want > (1u << 30) ? 1 << 30 : (int)want;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/* Send b and read every ack. Returns 0 or the first error (-errno). */
static int talk(struct nft *n, const struct nft_batch *b)
{
	if (!n->nl)
		return -ENOTCONN;
	if (b->len + 4096 > n->sndbuf) {
		(void)grow_sockbuf(n, SO_SNDBUFFORCE, SO_SNDBUF, b->len + 4096);
		(void)grow_sockbuf(n, SO_RCVBUFFORCE, SO_RCVBUF, (1u << 20) + b->n_msgs * 256);
		n->sndbuf = b->len + 4096;
	}
	if (mnl_socket_sendto(n->nl, b->buf, b->len) < 0)
		return -errno;
	size_t want = nft_batch_msgs(b), got = 0;
	int first = 0;
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!buf)
		return -ENOMEM;
	struct pollfd pfd = { .fd = mnl_socket_get_fd(n->nl), .events = POLLIN };
	while (got < want) {
		ssize_t len = recv(pfd.fd, buf, MNL_SOCKET_BUFFER_SIZE * 4, MSG_DONTWAIT);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN) {
			/* the batch was handled inside sendmsg: a short wait is only for safety */
			if (poll(&pfd, 1, first ? 0 : ACK_WAIT_MS) <= 0)
				break;
			continue;
		}
		if (len < 0) {
			first = first ? first : -errno;
			if (errno == ENOBUFS)
				continue;
			break;
		}
		const struct nlmsghdr *nlh = (const void *)buf;
		size_t left = (size_t)len;
		for (; mnl_nlmsg_ok(nlh, (int)left); nlh = mnl_nlmsg_next(nlh, (int *)&left)) {
			if (nlh->nlmsg_pid != n->portid || nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				continue;
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			if (!msg_by_seq(b, err->msg.nlmsg_seq))
				continue;          /* not ours: a stale reply */
			got++;
			if (err->error) {
				report(n, b, nlh);
				first = first ? first : err->error;
			}
		}
	}
	free(buf);
	if (!first && got < want)
		first = -ETIMEDOUT;
	return first;
}

int nft_batch_send(struct nft *n, struct nft_batch *b)
{
	int rc = talk(n, b);
	if (rc == 0)
		adopt(n, b);
	else
		n->seq = b->seq;
	nft_batch_free(b);
	return rc;
}

/* ---- public --------------------------------------------------------------------- */

int nft_new(struct nft **out, struct log *log, const struct nft_opts *opts)
{
	*out = NULL;
	struct nft *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->log = log;
	const char *t = opts && opts->table ? opts->table : NFT_TABLE_DEFAULT;
	if (strlen(t) >= sizeof(n->table) || !*t) {
		free(n);
		return -EINVAL;
	}
	strcpy(n->table, t);
	n->ike_port = opts && opts->ike_port ? opts->ike_port : 500;
	n->nat_ike_port = opts && opts->nat_ike_port ? opts->nat_ike_port : 4500;
	n->log_group = opts ? opts->log_group : 0;
	n->seq = (uint32_t)time(NULL);
	*out = n;
	return 0;
}

int nft_open(struct nft **out, struct log *log, const struct nft_opts *opts)
{
	struct nft *n;
	int rc = nft_new(&n, log, opts), one = 1;
	if (rc)
		return rc;
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		nft_close(n, false);
		return rc ? rc : -EIO;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	/* short acks (no copy of our message), with the offending attribute's offset */
	(void)mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* nft_counters reads its dump with blocking recvs: a reply that never comes must cost
	 * meshctl status an error, not hang the event loop (talk() polls with its own bound) */
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*out = n;
	return 0;
}

static void log_plan(struct nft *n, const struct nft_batch *b)
{
	const struct nft_plan *p = &b->next;
	if (b->full) {
		log_info(n->log, "nft: table inet %s installed: private %zu+%zu ranges, "
			 "private-or-clear %zu+%zu ranges (IPv4+IPv6)", n->table,
			 p->set[NFT_SET_PRIVATE4].n, p->set[NFT_SET_PRIVATE6].n,
			 p->set[NFT_SET_POC4].n, p->set[NFT_SET_POC6].n);
	} else {
		size_t del = 0, add = 0;
		for (int s = 0; s < NFT_SET_COUNT; s++) {
			del += b->del[s].n;
			add += b->add[s].n;
		}
		log_info(n->log, "nft: table inet %s updated: %zu ranges removed, %zu added",
			 n->table, del, add);
	}
}

/* Send a whole-table batch for plan again (taken back from b, which is freed). */
static int resend_full(struct nft *n, struct nft_batch **b)
{
	struct nft_plan again = (*b)->next;
	memset(&(*b)->next, 0, sizeof((*b)->next));
	n->seq = (*b)->seq;
	nft_batch_free(*b);
	*b = NULL;
	int rc = nft_batch_build(n, &again, true, b);
	return rc ? rc : talk(n, *b);
}

int nft_sync_plan(struct nft *n, struct nft_plan *plan)
{
	struct nft_batch *b;
	if (plan->n_port_specific != n->n_port_specific && plan->n_port_specific)
		log_info(n->log, "nft: %zu group entries with a protocol or ports are not "
			 "enforced inbound (the inbound sets match source addresses only)",
			 plan->n_port_specific);
	n->n_port_specific = plan->n_port_specific;
	int rc = nft_batch_build(n, plan, n->force_full, &b);
	if (rc || !b)
		return rc;
	bool full = b->full;
	rc = talk(n, b);
	if ((rc == -ENOENT || rc == -EEXIST) && !full) {
		/* the table is not what we installed (deleted or edited by someone else) */
		log_warn(n->log, "nft: table inet %s changed behind meshd's back; replacing it",
			 n->table);
		full = true;
		rc = resend_full(n, &b);
	}
	if (rc < 0 && rc != -ENOMEM && full && n->log_group) {
		/* a kernel without NFLOG (nfnetlink_log) refuses the log expression: the
		 * drop matters more than the trigger, so the table goes in without it */
		int first = rc;
		uint16_t group = n->log_group;
		n->log_group = 0;
		rc = resend_full(n, &b);
		if (rc == 0) {
			log_warn(n->log, "nft: table inet %s: the kernel refused the NFLOG trigger "
				 "rules (%s); cleartext from private peers is dropped but starts no "
				 "negotiation", n->table, strerror(-first));
			n->log_refused = true;
		} else {
			n->log_group = group;     /* not the log rules' fault */
		}
	}
	if (rc == 0) {
		log_plan(n, b);
		adopt(n, b);
		n->force_full = false;
	} else if (b) {
		n->seq = b->seq;
	}
	nft_batch_free(b);
	return rc;
}

void nft_set_log_group(struct nft *n, uint16_t group)
{
	if (group == n->log_group || (n->log_refused && group))
		return;
	n->log_group = group;
	n->force_full = true;
}

uint16_t nft_log_group(const struct nft *n)
{
	return n->log_group;
}

int nft_sync(struct nft *n, const struct policy_set *s)
{
	struct nft_plan p;
	int rc = nft_plan_build(s, &p);
	if (rc)
		return rc;
	return nft_sync_plan(n, &p);
}

size_t nft_installed(const struct nft *n, enum nft_set_id id)
{
	return n->created && id < NFT_SET_COUNT ? n->installed.set[id].n : 0;
}

struct ctr_dump {
	struct nft_counters *out;
	unsigned found;
};

static int obj_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctr_dump *d = arg;
	struct nftnl_obj *o = nftnl_obj_alloc();
	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER) {
		const char *name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
		struct nft_count *slot[CTR_COUNT] = {
			[CTR_IPSEC] = &d->out->ipsec_accepted, [CTR_ESP] = &d->out->esp_accepted,
			[CTR_IKE] = &d->out->ike_accepted, [CTR_PRIVATE] = &d->out->private_dropped,
			[CTR_POC] = &d->out->poc_accepted,
		};
		for (int c = 0; name && c < CTR_COUNT; c++) {
			if (strcmp(name, ctr_names[c]) != 0)
				continue;
			slot[c]->packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
			slot[c]->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
			d->found |= 1u << c;
		}
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int nft_counters(struct nft *n, struct nft_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (!n->nl)
		return -ENOTCONN;
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct nftnl_obj *o = nftnl_obj_alloc();
	int rc = 0;
	if (!buf || !o) {
		rc = -ENOMEM;
		goto done;
	}
	uint32_t seq = n->seq++;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET,
						     NLM_F_DUMP, seq);
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, n->table);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto done;
	}
	struct ctr_dump d = { out, 0 };
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(n->nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			rc = -errno;
			break;
		}
		int r = mnl_cb_run(buf, (size_t)len, seq, n->portid, obj_cb, &d);
		if (r < 0) {
			rc = errno == ESRCH ? 0 : -errno;   /* ESRCH: a stale reply; read on */
			if (rc)
				break;
		} else if (r == MNL_CB_STOP) {
			break;
		}
	}
	if (rc == 0 && d.found == 0)
		rc = -ENOENT;
done:
	nftnl_obj_free(o);
	free(buf);
	return rc;
}

int nft_close(struct nft *n, bool remove_table)
{
	int rc = 0;
	if (!n)
		return 0;
	if (remove_table && n->nl) {
		struct nft_batch *b = calloc(1, sizeof(*b));
		rc = b ? 0 : -ENOMEM;
		if (b)
			b->seq0 = b->seq = n->seq;
		if (rc == 0)
			rc = batch_edge(b, true);
		/* add + delete: no error when it is already gone */
		if (rc == 0)
			rc = put_table(b, n, NFT_MSG_NEWTABLE);
		if (rc == 0)
			rc = put_table(b, n, NFT_MSG_DELTABLE);
		if (rc == 0)
			rc = batch_edge(b, false);
		if (rc == 0)
			rc = talk(n, b);
		if (rc == 0)
			log_info(n->log, "nft: table inet %s removed", n->table);
		nft_batch_free(b);
	}
	if (n->nl)
		mnl_socket_close(n->nl);
	nft_plan_fini(&n->installed);
	free(n);
	return rc;
}
