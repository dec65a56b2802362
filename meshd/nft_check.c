/* nft_check.c — would the host's firewall drop IKE or ESP? Reads the nftables ruleset
 * (read-only) and runs probe packets through the base input chains abstractly; see
 * nft_check.h for what is known about a probe and what the check cannot see. */
#include "config.h"

#define MESHD_NFT_INTERNAL
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nft_check.h"

#define MAX_DEPTH    16            /* the kernel's jump stack */
#define MAX_STEPS    20000         /* rule evaluations per probe before "cannot tell" */
#define MAX_ELEMS    100000        /* elements kept per set; more: lookups "may" match */
#define KEY_MAX      64

#define CT_STATE_ESTABLISHED 2u    /* NF_CT_STATE_BIT(IP_CT_ESTABLISHED) */
#define CT_STATE_NEW         8u    /* NF_CT_STATE_BIT(IP_CT_NEW) */

struct elem {
	uint8_t key[KEY_MAX], key_end[KEY_MAX], data[KEY_MAX];
	uint32_t klen, kelen, dlen;
	bool end;                  /* NFT_SET_ELEM_INTERVAL_END */
	bool has_verdict;
	int verdict;
	char *chain;
};

struct cset {
	uint32_t family;
	char *table, *name;
	uint32_t flags, key_len;
	struct elem *e;
	size_t n, cap;
	bool incomplete;
	bool sorted;
};

struct cchain {
	uint32_t family;
	char *table, *name, *type;
	bool base;
	uint32_t hook, policy;
	struct nftnl_rule **r;
	size_t n, cap;
};

struct ctable {
	uint32_t family;
	char *name;
	uint32_t flags;
};

struct nftc_ruleset {
	struct ctable *t;
	size_t nt;
	struct cchain *c;
	size_t nc;
	struct cset *s;
	size_t ns;
};

/* ---- the model --------------------------------------------------------------------- */

struct nftc_ruleset *nftc_new(void)
{
	return calloc(1, sizeof(struct nftc_ruleset));
}

void nftc_free(struct nftc_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nt; i++)
		free(rs->t[i].name);
	for (size_t i = 0; i < rs->nc; i++) {
		struct cchain *c = &rs->c[i];
		for (size_t j = 0; j < c->n; j++)
			nftnl_rule_free(c->r[j]);
		free(c->r);
		free(c->table);
		free(c->name);
		free(c->type);
	}
	for (size_t i = 0; i < rs->ns; i++) {
		struct cset *s = &rs->s[i];
		for (size_t j = 0; j < s->n; j++)
			free(s->e[j].chain);
		free(s->e);
		free(s->table);
		free(s->name);
	}
	free(rs->t);
	free(rs->c);
	free(rs->s);
	free(rs);
}

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

static void *grow(void *v, size_t n, size_t sz)
{
	/* room for one more when n is 0 or a power of two (n+1 elements) */
	if (n && (n & (n - 1)))
		return v;
	size_t cap = n ? 2 * n : 4;
	return realloc(v, cap * sz);
}

int nftc_add_table(struct nftc_ruleset *rs, struct nftnl_table *t)
{
	struct ctable *v = grow(rs->t, rs->nt, sizeof(*v));
	if (!v) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	rs->t = v;
	struct ctable *x = &v[rs->nt];
	x->family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	x->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) : 0;
	x->name = dupstr(nftnl_table_get_str(t, NFTNL_TABLE_NAME));
	nftnl_table_free(t);
	if (!x->name)
		return -ENOMEM;
	rs->nt++;
	return 0;
}

int nftc_add_chain(struct nftc_ruleset *rs, struct nftnl_chain *c)
{
	struct cchain *v = grow(rs->c, rs->nc, sizeof(*v));
	if (!v) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	rs->c = v;
	struct cchain *x = &v[rs->nc];
	memset(x, 0, sizeof(*x));
	x->family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	x->table = dupstr(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
	x->name = dupstr(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	x->type = dupstr(nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "");
	x->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
	x->hook = x->base ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : 0;
	x->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
							       : NF_ACCEPT;
	nftnl_chain_free(c);
	rs->nc++;
	if (!x->table || !x->name || !x->type)
		return -ENOMEM;
	return 0;
}

static struct cchain *chain_find(const struct nftc_ruleset *rs, uint32_t family, const char *table,
				 const char *name)
{
	if (!table || !name)
		return NULL;
	for (size_t i = 0; i < rs->nc; i++)
		if (rs->c[i].family == family && strcmp(rs->c[i].table, table) == 0 &&
		    strcmp(rs->c[i].name, name) == 0)
			return &rs->c[i];
	return NULL;
}

static struct cset *set_find(const struct nftc_ruleset *rs, uint32_t family, const char *table,
			     const char *name)
{
	if (!table || !name)
		return NULL;
	for (size_t i = 0; i < rs->ns; i++)
		if (rs->s[i].family == family && strcmp(rs->s[i].table, table) == 0 &&
		    strcmp(rs->s[i].name, name) == 0)
			return &rs->s[i];
	return NULL;
}

int nftc_add_rule(struct nftc_ruleset *rs, struct nftnl_rule *r)
{
	struct cchain *c = chain_find(rs, nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
				      nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
				      nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (!c) {
		nftnl_rule_free(r);
		return -EINVAL;
	}
	struct nftnl_rule **v = grow(c->r, c->n, sizeof(*v));
	if (!v) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	c->r = v;
	c->r[c->n++] = r;
	return 0;
}

static void copy_data(struct nftnl_set_elem *e, uint16_t attr, uint8_t *dst, uint32_t *len)
{
	uint32_t l = 0;
	const void *p = nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get(e, attr, &l) : NULL;
	if (!p || l > KEY_MAX)
		l = 0;
	if (l)
		memcpy(dst, p, l);
	*len = l;
}

static int elem_cb(struct nftnl_set_elem *ne, void *data)
{
	struct cset *s = data;
	if (s->n >= MAX_ELEMS) {
		s->incomplete = true;
		return 0;
	}
	struct elem *v = grow(s->e, s->n, sizeof(*v));
	if (!v)
		return -1;
	s->e = v;
	struct elem *e = &v[s->n];
	memset(e, 0, sizeof(*e));
	copy_data(ne, NFTNL_SET_ELEM_KEY, e->key, &e->klen);
	copy_data(ne, NFTNL_SET_ELEM_KEY_END, e->key_end, &e->kelen);
	copy_data(ne, NFTNL_SET_ELEM_DATA, e->data, &e->dlen);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS))
		e->end = nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END;
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_VERDICT)) {
		e->has_verdict = true;
		e->verdict = (int)nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_VERDICT);
		if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_CHAIN) &&
		    !(e->chain = strdup(nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_CHAIN))))
			return -1;
	}
	if (!e->klen)
		s->incomplete = true;   /* e.g. a catch-all element: lookups "may" match */
	s->n++;
	return 0;
}

int nftc_add_set(struct nftc_ruleset *rs, struct nftnl_set *ns)
{
	struct cset *v = grow(rs->s, rs->ns, sizeof(*v));
	if (!v) {
		nftnl_set_free(ns);
		return -ENOMEM;
	}
	rs->s = v;
	struct cset *s = &v[rs->ns];
	memset(s, 0, sizeof(*s));
	s->family = nftnl_set_get_u32(ns, NFTNL_SET_FAMILY);
	s->table = dupstr(nftnl_set_get_str(ns, NFTNL_SET_TABLE));
	s->name = dupstr(nftnl_set_get_str(ns, NFTNL_SET_NAME));
	s->flags = nftnl_set_is_set(ns, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(ns, NFTNL_SET_FLAGS) : 0;
	s->key_len = nftnl_set_is_set(ns, NFTNL_SET_KEY_LEN) ? nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN) : 0;
	rs->ns++;
	int rc = (!s->table || !s->name) ? -ENOMEM : 0;
	if (rc == 0 && nftnl_set_elem_foreach(ns, elem_cb, s) < 0)
		rc = -ENOMEM;
	nftnl_set_free(ns);
	return rc;
}

/* ---- the probe ---------------------------------------------------------------------- */

enum tri { NO, YES, MAYBE };   /* does a rule match the probe? */

/* Registers: the verdict register (16 bytes) and 16 x 4 bytes, as the kernel lays them
 * out; each byte known or not. Units of 4 bytes may carry a tag: "the input interface"
 * (only "is it lo?" can be answered). */
#define REG_BYTES 80
enum tag { TAG_NONE, TAG_IIFNAME, TAG_IIF };

struct probe_ctx {
	const struct nftc_ruleset *rs;
	const struct nftc_probe *p;
	uint16_t port;             /* the probe's UDP destination port (0 for ESP) */
	uint32_t base_policy;
	long steps;
	uint64_t drop_handle;      /* the last drop rule seen (for messages) */
	const char *drop_chain;
};

struct regs {
	uint8_t v[REG_BYTES];
	bool k[REG_BYTES];
	uint8_t tag[REG_BYTES / 4];
};

enum act { A_NONE, A_ACCEPT, A_DROP, A_JUMP, A_GOTO, A_RETURN, A_UNKNOWN };

struct rule_eval {
	const struct probe_ctx *x;
	const struct cchain *c;
	struct regs r;
	enum tri match;
	enum act act;
	const char *target;
	bool stop;
};

static int reg_off(uint32_t reg)
{
	if (reg <= NFT_REG_4)
		return (int)reg * 16;
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return 16 + (int)(reg - NFT_REG32_00) * 4;
	return -1;
}

/* Load len bytes (NULL: unknown) into reg, zero-padding to 4 as the kernel does. */
static bool reg_load(struct regs *r, uint32_t reg, const uint8_t *val, uint32_t len)
{
	int off = reg_off(reg);
	uint32_t full = (len + 3) & ~3u;
	if (off < 0 || off + full > REG_BYTES || len == 0) {
		memset(r->k + 16, 0, REG_BYTES - 16);    /* we lost track: all unknown */
		memset(r->tag, 0, sizeof(r->tag));
		return false;
	}
	for (uint32_t i = 0; i < full; i++) {
		r->v[off + i] = (val && i < len) ? val[i] : 0;
		r->k[off + i] = val || i >= len;
	}
	for (uint32_t i = 0; i < full / 4; i++)
		r->tag[off / 4 + i] = TAG_NONE;
	return true;
}

static bool reg_known(const struct regs *r, int off, uint32_t len)
{
	if (off < 0 || off + len > REG_BYTES)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (!r->k[off + i])
			return false;
	return true;
}

static void regs_forget(struct regs *r)
{
	memset(r->k + 16, 0, REG_BYTES - 16);
	memset(r->tag, 0, sizeof(r->tag));
}

static void maybe(struct rule_eval *e)
{
	if (e->match == YES)
		e->match = MAYBE;
}

static void no(struct rule_eval *e)
{
	e->match = NO;
	e->stop = true;
}

static const uint8_t *get_data(const struct nftnl_expr *ex, uint16_t attr, uint32_t *len)
{
	*len = 0;
	if (!nftnl_expr_is_set(ex, attr))
		return NULL;
	return nftnl_expr_get(ex, attr, len);
}

static uint32_t get_u32(const struct nftnl_expr *ex, uint16_t attr, uint32_t dflt)
{
	return nftnl_expr_is_set(ex, attr) ? nftnl_expr_get_u32(ex, attr) : dflt;
}

static void x_meta(struct rule_eval *e, const struct nftnl_expr *ex)
{
	if (!nftnl_expr_is_set(ex, NFTNL_EXPR_META_DREG))
		return;                          /* meta set: no effect on matching */
	uint32_t dreg = nftnl_expr_get_u32(ex, NFTNL_EXPR_META_DREG);
	const struct nftc_probe *p = e->x->p;
	bool v6 = p->family == AF_INET6;
	uint8_t b[4] = { 0 };
	uint32_t len = 0;
	switch (nftnl_expr_get_u32(ex, NFTNL_EXPR_META_KEY)) {
	case NFT_META_NFPROTO:
		b[0] = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		len = 1;
		break;
	case NFT_META_PROTOCOL: {
		uint16_t eth = htons(v6 ? 0x86dd : 0x0800);
		memcpy(b, &eth, 2);
		len = 2;
		break;
	}
	case NFT_META_L4PROTO:
		b[0] = p->what == NFTC_ESP ? IPPROTO_ESP : IPPROTO_UDP;
		len = 1;
		break;
	case NFT_META_PKTTYPE:
		b[0] = 0;                        /* PACKET_HOST */
		len = 1;
		break;
	case NFT_META_SECPATH:
		b[0] = 0;                        /* the probe did not come through IPsec */
		len = 1;
		break;
	case NFT_META_IIFNAME:
		reg_load(&e->r, dreg, NULL, 16);      /* IFNAMSIZ */
		if (reg_off(dreg) >= 0)
			e->r.tag[reg_off(dreg) / 4] = TAG_IIFNAME;
		return;
	case NFT_META_IIF:
		reg_load(&e->r, dreg, NULL, 4);
		if (reg_off(dreg) >= 0)
			e->r.tag[reg_off(dreg) / 4] = TAG_IIF;
		return;
	default:
		reg_load(&e->r, dreg, NULL, 16);
		return;
	}
	reg_load(&e->r, dreg, b, len);
}

static void x_ct(struct rule_eval *e, const struct nftnl_expr *ex)
{
	if (!nftnl_expr_is_set(ex, NFTNL_EXPR_CT_DREG))
		return;                          /* ct set */
	uint32_t dreg = nftnl_expr_get_u32(ex, NFTNL_EXPR_CT_DREG);
	uint32_t v;
	switch (nftnl_expr_get_u32(ex, NFTNL_EXPR_CT_KEY)) {
	case NFT_CT_STATE:
		v = e->x->p->established ? CT_STATE_ESTABLISHED : CT_STATE_NEW;
		reg_load(&e->r, dreg, (const uint8_t *)&v, 4);
		return;
	case NFT_CT_STATUS:
		if (!e->x->p->established) {
			v = 0;                   /* new, not DNATed (see nft_check.h) */
			reg_load(&e->r, dreg, (const uint8_t *)&v, 4);
			return;
		}
		break;
	case NFT_CT_DIRECTION: {
		uint8_t d = 0;                   /* IP_CT_DIR_ORIGINAL */
		if (!e->x->p->established) {
			reg_load(&e->r, dreg, &d, 1);
			return;
		}
		break;
	}
	default:
		break;
	}
	reg_load(&e->r, dreg, NULL, 16);
}

static void x_payload(struct rule_eval *e, const struct nftnl_expr *ex)
{
	if (!nftnl_expr_is_set(ex, NFTNL_EXPR_PAYLOAD_DREG))
		return;                          /* payload set (mangling) */
	uint32_t dreg = nftnl_expr_get_u32(ex, NFTNL_EXPR_PAYLOAD_DREG);
	uint32_t base = get_u32(ex, NFTNL_EXPR_PAYLOAD_BASE, 0);
	uint32_t off = get_u32(ex, NFTNL_EXPR_PAYLOAD_OFFSET, 0);
	uint32_t len = get_u32(ex, NFTNL_EXPR_PAYLOAD_LEN, 0);
	const struct nftc_probe *p = e->x->p;
	uint8_t hdr[64];
	bool known[64] = { false };
	memset(hdr, 0, sizeof(hdr));
	if (base == NFT_PAYLOAD_NETWORK_HEADER && p->family == AF_INET) {
		hdr[0] = 0x45;
		known[0] = true;
		hdr[9] = p->what == NFTC_ESP ? IPPROTO_ESP : IPPROTO_UDP;
		known[9] = true;
	} else if (base == NFT_PAYLOAD_NETWORK_HEADER && p->family == AF_INET6) {
		hdr[6] = p->what == NFTC_ESP ? IPPROTO_ESP : IPPROTO_UDP;
		known[6] = true;
	} else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && p->what != NFTC_ESP) {
		hdr[2] = (uint8_t)(e->x->port >> 8);
		hdr[3] = (uint8_t)e->x->port;
		known[2] = known[3] = true;
	}
	bool all = len > 0 && off + len <= sizeof(hdr);
	for (uint32_t i = 0; all && i < len; i++)
		all = known[off + i];
	reg_load(&e->r, dreg, all ? hdr + off : NULL, len ? len : 4);
}

static bool is_lo_name(const uint8_t *d, uint32_t len)
{
	return len >= 3 && d[0] == 'l' && d[1] == 'o' && d[2] == 0;
}

static void x_cmp(struct rule_eval *e, const struct nftnl_expr *ex)
{
	uint32_t len;
	const uint8_t *d = get_data(ex, NFTNL_EXPR_CMP_DATA, &len);
	int off = reg_off(get_u32(ex, NFTNL_EXPR_CMP_SREG, NFT_REG_1));
	uint32_t op = get_u32(ex, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	if (!d || off < 0) {
		maybe(e);
		return;
	}
	if (!reg_known(&e->r, off, len)) {
		uint8_t tag = e->r.tag[off / 4];
		uint32_t one = 1;
		bool lo = (tag == TAG_IIFNAME && is_lo_name(d, len)) ||
			  (tag == TAG_IIF && len == 4 && memcmp(d, &one, 4) == 0);
		if (lo && op == NFT_CMP_EQ)
			no(e);
		else if (!lo || op != NFT_CMP_NEQ)
			maybe(e);
		return;
	}
	int c = memcmp(e->r.v + off, d, len);
	bool t;
	switch (op) {
	case NFT_CMP_EQ: t = c == 0; break;
	case NFT_CMP_NEQ: t = c != 0; break;
	case NFT_CMP_LT: t = c < 0; break;
	case NFT_CMP_LTE: t = c <= 0; break;
	case NFT_CMP_GT: t = c > 0; break;
	case NFT_CMP_GTE: t = c >= 0; break;
	default: maybe(e); return;
	}
	if (!t)
		no(e);
}

static void x_range(struct rule_eval *e, const struct nftnl_expr *ex)
{
	uint32_t lf, lt;
	const uint8_t *from = get_data(ex, NFTNL_EXPR_RANGE_FROM_DATA, &lf);
	const uint8_t *to = get_data(ex, NFTNL_EXPR_RANGE_TO_DATA, &lt);
	int off = reg_off(get_u32(ex, NFTNL_EXPR_RANGE_SREG, NFT_REG_1));
	if (!from || !to || lf != lt || !reg_known(&e->r, off, lf)) {
		maybe(e);
		return;
	}
	bool in = memcmp(e->r.v + off, from, lf) >= 0 && memcmp(e->r.v + off, to, lf) <= 0;
	bool eq = get_u32(ex, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ) == NFT_RANGE_EQ;
	if (in != eq)
		no(e);
}

static void x_bitwise(struct rule_eval *e, const struct nftnl_expr *ex)
{
	uint32_t len = get_u32(ex, NFTNL_EXPR_BITWISE_LEN, 0);
	uint32_t dreg = get_u32(ex, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	int so = reg_off(get_u32(ex, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1));
	uint32_t ml, xl;
	const uint8_t *mask = get_data(ex, NFTNL_EXPR_BITWISE_MASK, &ml);
	const uint8_t *xr = get_data(ex, NFTNL_EXPR_BITWISE_XOR, &xl);
	bool boolop = get_u32(ex, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL) == NFT_BITWISE_BOOL;
	if (!boolop || !mask || !xr || ml < len || xl < len || len > 64 || so < 0 ||
	    !reg_known(&e->r, so, len)) {
		reg_load(&e->r, dreg, NULL, len ? len : 4);
		return;
	}
	uint8_t out[64];
	for (uint32_t i = 0; i < len; i++)
		out[i] = (uint8_t)((e->r.v[so + i] & mask[i]) ^ xr[i]);
	reg_load(&e->r, dreg, out, len);
}

static int elem_cmp(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, KEY_MAX);
	if (c)
		return c;
	return (int)y->end - (int)x->end;    /* at one key: the end of one interval first */
}

/* The element of s containing key (NULL: none); *unsure when we cannot tell. */
static const struct elem *set_lookup(struct cset *s, const uint8_t *key, uint32_t len, bool *unsure)
{
	*unsure = false;
	if (s->incomplete) {
		*unsure = true;
		return NULL;
	}
	if (!(s->flags & NFT_SET_INTERVAL)) {
		for (size_t i = 0; i < s->n; i++)
			if (s->e[i].klen >= len && memcmp(s->e[i].key, key, len) == 0)
				return &s->e[i];
		return NULL;
	}
	/* ranges with an explicit end (concatenations, newer kernels) */
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].kelen && memcmp(s->e[i].key, key, len) <= 0 &&
		    memcmp(key, s->e[i].key_end, len) <= 0)
			return &s->e[i];
	/* rbtree intervals: start elements and exclusive end elements */
	if (!s->sorted) {
		qsort(s->e, s->n, sizeof(*s->e), elem_cmp);
		s->sorted = true;
	}
	const struct elem *best = NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].kelen)
			continue;
		if (memcmp(s->e[i].key, key, len) > 0)
			break;
		best = &s->e[i];
	}
	return best && !best->end ? best : NULL;
}

static void set_verdict(struct rule_eval *e, int verdict, const char *chain)
{
	switch (verdict) {
	case NF_ACCEPT: e->act = A_ACCEPT; break;
	case NF_DROP: e->act = A_DROP; break;
	case NFT_JUMP: e->act = A_JUMP; e->target = chain; break;
	case NFT_GOTO: e->act = A_GOTO; e->target = chain; break;
	case NFT_RETURN: e->act = A_RETURN; break;
	case NFT_CONTINUE: e->act = A_NONE; break;
	case NFT_BREAK: no(e); break;
	default: e->act = A_UNKNOWN; break;      /* queue, stolen... */
	}
	if ((e->act == A_JUMP || e->act == A_GOTO) && !chain)
		e->act = A_UNKNOWN;
}

static void x_lookup(struct rule_eval *e, const struct nftnl_expr *ex)
{
	const struct cchain *c = e->c;
	struct cset *s = set_find(e->x->rs, c->family, c->table,
				  nftnl_expr_is_set(ex, NFTNL_EXPR_LOOKUP_SET)
					  ? nftnl_expr_get_str(ex, NFTNL_EXPR_LOOKUP_SET) : NULL);
	int off = reg_off(get_u32(ex, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1));
	bool inv = get_u32(ex, NFTNL_EXPR_LOOKUP_FLAGS, 0) & NFT_LOOKUP_F_INV;
	bool has_dreg = nftnl_expr_is_set(ex, NFTNL_EXPR_LOOKUP_DREG);
	uint32_t dreg = has_dreg ? nftnl_expr_get_u32(ex, NFTNL_EXPR_LOOKUP_DREG) : 0;
	const struct elem *hit = NULL;
	bool unsure = true;
	if (s && s->key_len && s->key_len <= KEY_MAX && reg_known(&e->r, off, s->key_len))
		hit = set_lookup(s, e->r.v + off, s->key_len, &unsure);
	if (unsure) {
		maybe(e);
		if (has_dreg && dreg == NFT_REG_VERDICT)
			e->act = A_UNKNOWN;
		else if (has_dreg)
			reg_load(&e->r, dreg, NULL, 16);
		return;
	}
	if ((hit != NULL) == inv) {
		no(e);
		return;
	}
	if (!has_dreg || !hit)
		return;
	if (dreg == NFT_REG_VERDICT) {
		if (hit->has_verdict)
			set_verdict(e, hit->verdict, hit->chain);
		else
			e->act = A_UNKNOWN;
	} else {
		reg_load(&e->r, dreg, hit->dlen ? hit->data : NULL, hit->dlen ? hit->dlen : 16);
	}
}

static void x_immediate(struct rule_eval *e, const struct nftnl_expr *ex)
{
	uint32_t dreg = get_u32(ex, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	if (dreg == NFT_REG_VERDICT) {
		const char *chain = nftnl_expr_is_set(ex, NFTNL_EXPR_IMM_CHAIN)
					    ? nftnl_expr_get_str(ex, NFTNL_EXPR_IMM_CHAIN) : NULL;
		set_verdict(e, (int)get_u32(ex, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_CONTINUE), chain);
		return;
	}
	uint32_t len;
	const uint8_t *d = get_data(ex, NFTNL_EXPR_IMM_DATA, &len);
	reg_load(&e->r, dreg, d, d ? len : 16);
}

static int expr_cb(struct nftnl_expr *ex, void *data)
{
	struct rule_eval *e = data;
	const char *k = nftnl_expr_get_str(ex, NFTNL_EXPR_NAME);
	if (!k)
		k = "";
	if (strcmp(k, "meta") == 0)
		x_meta(e, ex);
	else if (strcmp(k, "ct") == 0)
		x_ct(e, ex);
	else if (strcmp(k, "payload") == 0)
		x_payload(e, ex);
	else if (strcmp(k, "cmp") == 0)
		x_cmp(e, ex);
	else if (strcmp(k, "range") == 0)
		x_range(e, ex);
	else if (strcmp(k, "bitwise") == 0)
		x_bitwise(e, ex);
	else if (strcmp(k, "lookup") == 0)
		x_lookup(e, ex);
	else if (strcmp(k, "immediate") == 0)
		x_immediate(e, ex);
	else if (strcmp(k, "counter") == 0 || strcmp(k, "log") == 0 || strcmp(k, "notrack") == 0 ||
		 strcmp(k, "dup") == 0)
		;                                /* no effect on the verdict */
	else if (strcmp(k, "objref") == 0) {
		if (get_u32(ex, NFTNL_EXPR_OBJREF_IMM_TYPE, 0) != NFT_OBJECT_COUNTER)
			maybe(e);                /* quota, limit objects */
	} else if (strcmp(k, "xfrm") == 0)
		no(e);                           /* no secpath: the rule breaks */
	else if (strcmp(k, "reject") == 0)
		e->act = A_DROP;
	else if (strcmp(k, "queue") == 0 || strcmp(k, "target") == 0 || strcmp(k, "synproxy") == 0 ||
		 strcmp(k, "fwd") == 0 || strcmp(k, "tproxy") == 0) {
		maybe(e);
		e->act = A_UNKNOWN;
	} else {
		/* limit, quota, connlimit, dynset, xt match, fib, rt, socket, exthdr, hash...:
		 * may or may not match, and may have loaded any register */
		regs_forget(&e->r);
		maybe(e);
	}
	return e->stop ? -1 : 0;
}

static void eval_rule(const struct probe_ctx *x, const struct cchain *c, struct nftnl_rule *r,
		      struct rule_eval *e)
{
	memset(e, 0, sizeof(*e));
	e->x = x;
	e->c = c;
	e->match = YES;
	e->act = A_NONE;
	nftnl_expr_foreach(r, expr_cb, e);
}

struct frame {
	const struct cchain *c;
	size_t i;
	const struct frame *up;
};

static unsigned run(struct probe_ctx *x, const struct cchain *c, size_t i, const struct frame *stk,
		    int depth);

static unsigned chain_end(struct probe_ctx *x, const struct frame *stk, int depth)
{
	if (!stk)
		return x->base_policy == NF_DROP ? NFTC_DROP_POLICY
		     : x->base_policy == NF_ACCEPT ? NFTC_ACCEPT : NFTC_UNKNOWN;
	return run(x, stk->c, stk->i + 1, stk->up, depth - 1);
}

static unsigned take(struct probe_ctx *x, const struct cchain *c, size_t i, const struct rule_eval *e,
		     const struct frame *stk, int depth)
{
	switch (e->act) {
	case A_ACCEPT:
		return NFTC_ACCEPT;
	case A_DROP:
		x->drop_handle = nftnl_rule_is_set(c->r[i], NFTNL_RULE_HANDLE)
					 ? nftnl_rule_get_u64(c->r[i], NFTNL_RULE_HANDLE) : 0;
		x->drop_chain = c->name;
		return NFTC_DROP_RULE;
	case A_RETURN:
		return chain_end(x, stk, depth);
	case A_JUMP:
	case A_GOTO: {
		const struct cchain *t = chain_find(x->rs, c->family, c->table, e->target);
		if (!t || depth + 1 >= MAX_DEPTH)
			return NFTC_UNKNOWN;
		if (e->act == A_GOTO)
			return run(x, t, 0, stk, depth);
		struct frame f = { c, i, stk };
		return run(x, t, 0, &f, depth + 1);
	}
	default:
		return NFTC_UNKNOWN;
	}
}

static unsigned run(struct probe_ctx *x, const struct cchain *c, size_t i, const struct frame *stk,
		    int depth)
{
	for (; i < c->n; i++) {
		if (++x->steps > MAX_STEPS)
			return NFTC_UNKNOWN;
		struct rule_eval e;
		eval_rule(x, c, c->r[i], &e);
		if (e.match == NO || e.act == A_NONE)
			continue;
		unsigned out = take(x, c, i, &e, stk, depth);
		if (e.match == YES)
			return out;
		return out | run(x, c, i + 1, stk, depth);
	}
	return chain_end(x, stk, depth);
}

static uint16_t probe_port(const struct nftc_probe *p, const struct nft_check_opts *o)
{
	if (p->what == NFTC_IKE)
		return o && o->ike_port ? o->ike_port : 500;
	if (p->what == NFTC_NATT)
		return o && o->nat_ike_port ? o->nat_ike_port : 4500;
	return 0;
}

static unsigned eval_chain(const struct nftc_ruleset *rs, const struct cchain *c,
			   const struct nftc_probe *p, const struct nft_check_opts *o,
			   uint64_t *handle, const char **in_chain)
{
	struct probe_ctx x = { .rs = rs, .p = p, .port = probe_port(p, o), .base_policy = c->policy };
	unsigned m = run(&x, c, 0, NULL, 0);
	if (handle)
		*handle = x.drop_handle;
	if (in_chain)
		*in_chain = x.drop_chain;
	return m;
}

unsigned nftc_eval(const struct nftc_ruleset *rs, unsigned nfproto, const char *table,
		   const char *chain, const struct nftc_probe *p, const struct nft_check_opts *o)
{
	const struct cchain *c = chain_find(rs, nfproto, table, chain);
	if (!c || !c->base)
		return 0;
	return eval_chain(rs, c, p, o, NULL, NULL);
}

/* ---- the report ------------------------------------------------------------------------ */

static bool dropped(unsigned m)
{
	return m && !(m & (NFTC_ACCEPT | NFTC_UNKNOWN));
}

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	default: return "?";
	}
}

static bool table_active(const struct nftc_ruleset *rs, uint32_t family, const char *name)
{
	for (size_t i = 0; i < rs->nt; i++)
		if (rs->t[i].family == family && strcmp(rs->t[i].name, name) == 0)
			return !(rs->t[i].flags & NFT_TABLE_F_DORMANT);
	return true;
}

/* What one family of probes found in one chain. */
struct verdicts {
	bool new_drop[3], est_drop[3];
	bool any;
	bool by_policy;                /* the drops were the policy's (else a rule's) */
	uint64_t handle;
	const char *in_chain;
};

static void family_verdicts(const struct nftc_ruleset *rs, const struct cchain *c, unsigned af,
			    const struct nft_check_opts *o, struct verdicts *v)
{
	memset(v, 0, sizeof(*v));
	v->by_policy = true;
	for (int w = NFTC_IKE; w <= NFTC_ESP; w++) {
		for (int est = 0; est <= 1; est++) {
			struct nftc_probe p = { af, (enum nftc_what)w, est };
			uint64_t h;
			const char *in;
			unsigned m = eval_chain(rs, c, &p, o, &h, &in);
			bool d = dropped(m);
			if (est)
				v->est_drop[w] = d;
			else
				v->new_drop[w] = d;
			if (d && !est) {
				v->any = true;
				if (m & NFTC_DROP_RULE) {
					v->by_policy = false;
					v->handle = h;
					v->in_chain = in;
				}
			}
		}
	}
}

static bool same_verdicts(const struct verdicts *a, const struct verdicts *b)
{
	return memcmp(a->new_drop, b->new_drop, sizeof(a->new_drop)) == 0 &&
	       memcmp(a->est_drop, b->est_drop, sizeof(a->est_drop)) == 0;
}

static int report_family(const struct cchain *c, const struct verdicts *v, const char *fam,
			 const struct nft_check_opts *o, struct diag *d)
{
	if (!v->any)
		return 0;
	char where[300], why[300];
	bool iptnft = strcmp(c->name, "INPUT") == 0 && c->family != NFPROTO_INET;
	snprintf(where, sizeof(where), "firewall: table %s %s chain %s%s", family_name(c->family),
		 c->table, c->name, iptnft ? " (iptables-nft?)" : "");
	if (v->by_policy)
		snprintf(why, sizeof(why), "has policy drop and no rule accepting");
	else
		snprintf(why, sizeof(why), "has a drop or reject rule (handle %llu in chain %s) and no rule before it accepting",
			 (unsigned long long)v->handle, v->in_chain ? v->in_chain : c->name);
	unsigned ike = o && o->ike_port ? o->ike_port : 500;
	unsigned natt = o && o->nat_ike_port ? o->nat_ike_port : 4500;
	int n = 0;
	if (v->new_drop[NFTC_IKE] || v->new_drop[NFTC_NATT]) {
		char ports[40];
		bool both = v->new_drop[NFTC_IKE] && v->new_drop[NFTC_NATT];
		bool est = (!v->new_drop[NFTC_IKE] || v->est_drop[NFTC_IKE]) &&
			   (!v->new_drop[NFTC_NATT] || v->est_drop[NFTC_NATT]);
		if (both)
			snprintf(ports, sizeof(ports), "UDP %u/%u (IKE)", ike, natt);
		else if (v->new_drop[NFTC_IKE])
			snprintf(ports, sizeof(ports), "UDP %u (IKE)", ike);
		else
			snprintf(ports, sizeof(ports), "UDP %u (IKE NAT traversal)", natt);
		diag_report(d, DIAG_WARN, NULL, 0, "%s %s %s%s%s: %s", where, why,
			    est ? "" : "new ", ports, fam,
			    est ? "negotiation will fail"
				: "only replies get through (ct state established): peers cannot start a negotiation with this host");
		n++;
	}
	if (v->new_drop[NFTC_ESP]) {
		bool est = v->est_drop[NFTC_ESP];
		diag_report(d, DIAG_WARN, NULL, 0, "%s %s %sESP (IP protocol 50)%s: %s", where, why,
			    est ? "" : "new ", fam,
			    est ? "IPsec traffic from peers will be dropped"
				: "only ESP in established conntrack entries gets through: a peer's traffic is dropped until this host sends it ESP first");
		n++;
	}
	return n;
}

int nftc_report(const struct nftc_ruleset *rs, const struct nft_check_opts *o, struct diag *d)
{
	const char *skip = o && o->skip_table ? o->skip_table : "meshd";
	int n = 0;
	for (size_t i = 0; i < rs->nc; i++) {
		const struct cchain *c = &rs->c[i];
		if (!c->base || c->hook != NF_INET_LOCAL_IN || strcmp(c->type, "filter") != 0)
			continue;
		if (c->family != NFPROTO_INET && c->family != NFPROTO_IPV4 && c->family != NFPROTO_IPV6)
			continue;
		if ((c->family == NFPROTO_INET && strcmp(c->table, skip) == 0) ||
		    !table_active(rs, c->family, c->table))
			continue;
		struct verdicts v4, v6;
		bool has4 = c->family != NFPROTO_IPV6, has6 = c->family != NFPROTO_IPV4;
		if (has4)
			family_verdicts(rs, c, AF_INET, o, &v4);
		if (has6)
			family_verdicts(rs, c, AF_INET6, o, &v6);
		if (has4 && has6 && same_verdicts(&v4, &v6)) {
			n += report_family(c, &v4, "", o, d);
		} else {
			if (has4)
				n += report_family(c, &v4, has6 ? " over IPv4" : "", o, d);
			if (has6)
				n += report_family(c, &v6, has4 ? " over IPv6" : "", o, d);
		}
	}
	return n;
}

/* ---- reading the ruleset ------------------------------------------------------------ */

struct dump {
	struct nftc_ruleset *rs;
	int type;                      /* NFT_MSG_NEW* of what is read */
	struct nftnl_set *set;         /* GETSETELEM: the set the elements go to */
	int err;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	int rc = 0;
	switch (d->type) {
	case NFT_MSG_NEWTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();
		if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0) {
			nftnl_table_free(t);
			rc = -ENOMEM;
		} else {
			rc = nftc_add_table(d->rs, t);
		}
		break;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();
		if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0) {
			nftnl_chain_free(c);
			rc = -ENOMEM;
		} else {
			rc = nftc_add_chain(d->rs, c);
		}
		break;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();
		if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
			nftnl_rule_free(r);
			rc = -ENOMEM;
		} else {
			rc = nftc_add_rule(d->rs, r);
			if (rc == -EINVAL)
				rc = 0;          /* a chain added since: ignore */
		}
		break;
	}
	case NFT_MSG_NEWSET: {
		struct nftnl_set *s = nftnl_set_alloc();
		if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
			nftnl_set_free(s);
			rc = -ENOMEM;
		} else {
			rc = nftc_add_set(d->rs, s);
		}
		break;
	}
	case NFT_MSG_NEWSETELEM:
		if (nftnl_set_elems_nlmsg_parse(nlh, d->set) < 0)
			rc = -ENOMEM;
		break;
	default:
		break;
	}
	if (rc) {
		d->err = rc;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, uint32_t *seq, uint16_t msg, uint32_t family,
		struct nftnl_set *for_set, struct dump *d)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!buf)
		return -ENOMEM;
	uint32_t s = (*seq)++;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, msg, (uint16_t)family, NLM_F_DUMP, s);
	if (for_set)
		nftnl_set_elems_nlmsg_build_payload(nlh, for_set);
	int rc = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	uint32_t portid = mnl_socket_get_portid(nl);
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			rc = -errno;
			break;
		}
		int r = mnl_cb_run(buf, (size_t)len, s, portid, dump_cb, d);
		if (r < 0) {
			rc = d->err ? d->err : -errno;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	free(buf);
	return rc;
}

/* The elements of every set of rs (one GETSETELEM dump per set). */
static int read_elems(struct mnl_socket *nl, uint32_t *seq, struct nftc_ruleset *rs)
{
	for (size_t i = 0; i < rs->ns; i++) {
		struct cset *cs = &rs->s[i];
		struct nftnl_set *s = nftnl_set_alloc();
		if (!s)
			return -ENOMEM;
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, cs->family);
		if (nftnl_set_set_str(s, NFTNL_SET_TABLE, cs->table) < 0 ||
		    nftnl_set_set_str(s, NFTNL_SET_NAME, cs->name) < 0) {
			nftnl_set_free(s);
			return -ENOMEM;
		}
		struct dump d = { rs, NFT_MSG_NEWSETELEM, s, 0 };
		int rc = dump(nl, seq, NFT_MSG_GETSETELEM, cs->family, s, &d);
		if (rc == 0 && nftnl_set_elem_foreach(s, elem_cb, cs) < 0)
			rc = -ENOMEM;
		if (rc < 0)
			cs->incomplete = true;   /* lookups in it "may" match */
		nftnl_set_free(s);
		if (rc == -ENOMEM)
			return rc;
	}
	return 0;
}

static int read_ruleset(struct nftc_ruleset *rs)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	int rc = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	uint32_t seq = (uint32_t)time(NULL);
	static const uint16_t what[][2] = {
		{ NFT_MSG_GETTABLE, NFT_MSG_NEWTABLE }, { NFT_MSG_GETCHAIN, NFT_MSG_NEWCHAIN },
		{ NFT_MSG_GETSET, NFT_MSG_NEWSET }, { NFT_MSG_GETRULE, NFT_MSG_NEWRULE },
	};
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && rc == 0; i++) {
		struct dump d = { rs, what[i][1], NULL, 0 };
		rc = dump(nl, &seq, what[i][0], NFPROTO_UNSPEC, NULL, &d);
	}
	if (rc == 0)
		rc = read_elems(nl, &seq, rs);
out:
	mnl_socket_close(nl);
	return rc;
}

/* Legacy iptables: the x_tables filter table is loaded in this namespace. */
static int legacy_note(struct diag *d)
{
	static const char *const files[] = { "/proc/net/ip_tables_names", "/proc/net/ip6_tables_names" };
	static const char *const names[] = { "iptables", "ip6tables" };
	int n = 0;
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		if (!f)
			continue;
		char line[64];
		while (fgets(line, sizeof(line), f))
			if (strcmp(line, "filter\n") == 0) {
				diag_report(d, DIAG_WARN, NULL, 0,
					    "firewall: legacy %s filter table is loaded (%s): not inspected; "
					    "make sure its INPUT chain accepts UDP 500/4500 (IKE) and ESP",
					    names[i], files[i]);
				n++;
			}
		fclose(f);
	}
	return n;
}

int nft_check_firewall(struct diag *d, const struct nft_check_opts *o)
{
	struct nftc_ruleset *rs = nftc_new();
	if (!rs)
		return -ENOMEM;
	int rc = read_ruleset(rs);
	if (rc == 0)
		rc = nftc_report(rs, o, d) + legacy_note(d);
	nftc_free(rs);
	return rc;
}
