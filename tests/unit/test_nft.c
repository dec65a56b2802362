/* test_nft.c — the inbound sets without a kernel: the interval arithmetic (nft_sets.c),
 * differentially against policy_classify on random sets, and round trips of the batches
 * nft.c builds (build into a buffer, parse back with libmnl/libnftnl, compare). The
 * library headers are included here only to read the batches back. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft.h"
#include "unit.h"

/* ---- helpers ---------------------------------------------------------------------- */

struct grp {
	const char *name;
	enum group_class cls;
	const char *text;
};

static struct policy_set *build(const struct grp *g, size_t n, const char *const *host)
{
	struct policy_set *s = policy_new();
	struct addr ha[8];
	struct host_addrs h = { ha, 0 };
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(policy_add_group(s, g[i].name, g[i].name, g[i].cls, (int)i), (int)i);
		policy_parse_buf(s, (unsigned)i, g[i].name, g[i].text, strlen(g[i].text), NULL);
	}
	for (; host && host[h.n]; h.n++)
		ck_assert(addr_parse(host[h.n], &ha[h.n]));
	ck_assert_int_eq(policy_finish(s, &h, false, NULL), 0);
	return s;
}

/* The ranges of one set as "a/n,lo-hi,..." */
static const char *ranges_str(const struct nft_plan *p, enum nft_set_id id, char *buf,
			      size_t len)
{
	const struct nft_ranges *r = &p->set[id];
	buf[0] = 0;
	for (size_t i = 0; i < r->n; i++) {
		char s[NFT_RANGE_STRLEN];
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
			 nft_range_str(&r->v[i], nft_set_family(id), s));
	}
	return buf;
}

#define CK_SET(plan, id, want)                                                         \
	do {                                                                           \
		char _b[4096];                                                         \
		ck_assert_str_eq(ranges_str((plan), (id), _b, sizeof(_b)), (want));    \
	} while (0)

static struct nft_plan plan_of(const struct grp *g, size_t n, const char *const *host)
{
	struct policy_set *s = build(g, n, host);
	struct nft_plan p;
	ck_assert_int_eq(nft_plan_build(s, &p), 0);
	policy_free(s);
	return p;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- interval arithmetic ---------------------------------------------------------- */

START_TEST(clear_hole_in_private)
{
	static const struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/16\n" },
		{ "clear", GC_CLEAR, "10.0.5.5\n" },
	};
	struct nft_plan p = plan_of(g, N(g), NULL);
	CK_SET(&p, NFT_SET_PRIVATE4, "10.0.0.0-10.0.5.4,10.0.5.6-10.0.255.255");
	CK_SET(&p, NFT_SET_POC4, "");
	nft_plan_fini(&p);
}
END_TEST

START_TEST(private_inside_clear)
{
	static const struct grp g[] = {
		{ "clear", GC_CLEAR, "192.168.1.0/24\n" },
		{ "private", GC_OE_DROP, "192.168.1.7\n" },
		{ "private-or-clear", GC_OE_PASS, "192.168.1.64/26\n" },
	};
	struct nft_plan p = plan_of(g, N(g), NULL);
	CK_SET(&p, NFT_SET_PRIVATE4, "192.168.1.7/32");
	CK_SET(&p, NFT_SET_POC4, "192.168.1.64/26");
	nft_plan_fini(&p);
}
END_TEST

/* private /8 > clear /16 > private /24 > poc /28 > block /32 > private /32 neighbours */
START_TEST(deep_nesting)
{
	static const struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/8\n10.1.1.0/24\n10.1.1.3\n" },
		{ "clear", GC_CLEAR, "10.1.0.0/16\n" },
		{ "private-or-clear", GC_OE_PASS, "10.1.1.0/28\n" },
		{ "block", GC_BLOCK, "10.1.1.2\n" },
		{ "clear-or-private", GC_OE_RESPOND, "10.1.1.128/25\n" },
	};
	struct nft_plan p = plan_of(g, N(g), NULL);
	CK_SET(&p, NFT_SET_PRIVATE4,
	       "10.0.0.0/16,10.1.1.3/32,10.1.1.16-10.1.1.127,10.2.0.0-10.255.255.255");
	CK_SET(&p, NFT_SET_POC4, "10.1.1.0/31,10.1.1.4-10.1.1.15");
	nft_plan_fini(&p);
}
END_TEST

/* The host group wins whatever its length: 127.0.0.0/8 beats a private /32 in it. */
START_TEST(host_wins)
{
	static const struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/30\n127.0.0.5\n0.0.0.0/0\n::/0\n" },
	};
	static const char *const host[] = { "10.0.0.1", "2001:db8::1", NULL };
	struct nft_plan p = plan_of(g, N(g), host);
	CK_SET(&p, NFT_SET_PRIVATE4, "0.0.0.0-10.0.0.0,10.0.0.2-126.255.255.255,"
	       "128.0.0.0-169.253.255.255,169.255.0.0-255.255.255.255");
	CK_SET(&p, NFT_SET_PRIVATE6, "::/128,::2-2001:db8::,2001:db8::2-fe7f:ffff:ffff:ffff:"
	       "ffff:ffff:ffff:ffff,fec0::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	nft_plan_fini(&p);
}
END_TEST

START_TEST(port_specific_ignored)
{
	static const struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/24\n10.0.1.1 tcp 0 22\n" },
		{ "clear", GC_CLEAR, "10.0.0.5 tcp 0 22\n10.0.1.0/24\n" },
	};
	struct nft_plan p = plan_of(g, N(g), NULL);
	CK_SET(&p, NFT_SET_PRIVATE4, "10.0.0.0/24");
	ck_assert_uint_eq(p.n_port_specific, 2);
	nft_plan_fini(&p);
}
END_TEST

START_TEST(merge_and_v6)
{
	static const struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/25\n10.0.0.128/25\n2001:db8::/33\n"
		  "2001:db8:8000::/33\n255.255.255.0/24\n" },
		{ "private-or-clear", GC_OE_PASS, "2001:db8:1::/48\nffff::/16\n" },
	};
	struct nft_plan p = plan_of(g, N(g), NULL);
	CK_SET(&p, NFT_SET_PRIVATE4, "10.0.0.0/24,255.255.255.0/24");
	CK_SET(&p, NFT_SET_PRIVATE6, "2001:db8::/48,"
	       "2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	CK_SET(&p, NFT_SET_POC6, "2001:db8:1::/48,ffff::/16");
	nft_plan_fini(&p);
}
END_TEST

/* Random sets in a small space, every address checked against policy_classify. */
static uint32_t rnd(uint64_t *st)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

static void check_ranges_sane(const struct nft_ranges *r, unsigned fam)
{
	size_t len = addr_len((int)fam);
	for (size_t i = 0; i < r->n; i++) {
		ck_assert_int_le(memcmp(r->v[i].lo, r->v[i].hi, len), 0);
		if (i) {
			/* sorted, disjoint and not adjacent: hi[i-1] + 1 < lo[i] */
			uint8_t k[16];
			memcpy(k, r->v[i - 1].hi, len);
			size_t j = len;
			while (j-- > 0 && ++k[j] == 0)
				;
			ck_assert_int_lt(memcmp(k, r->v[i].lo, len), 0);
		}
	}
}

START_TEST(differential_random)
{
	static const enum group_class cls[] = { GC_OE_DROP, GC_OE_PASS, GC_CLEAR, GC_BLOCK,
						GC_OE_RESPOND, GC_OE_DROP };
	uint64_t st = 0x5eed0000u + (uint64_t)_i;
	bool v6 = _i & 1;
	char text[N(cls)][8192];
	struct grp g[N(cls)];
	for (size_t k = 0; k < N(cls); k++) {
		text[k][0] = 0;
		g[k].name = k == 0 ? "p" : k == 1 ? "poc" : k == 2 ? "c" : k == 3 ? "b" : k == 4 ? "cop" : "p2";
		g[k].cls = cls[k];
		g[k].text = text[k];
	}
	/* 4096 addresses: 10.20.0.0/20 or 2001:db8::/116, prefixes of length 18..32 (114..128) */
	unsigned n = 5 + rnd(&st) % 60;
	for (unsigned i = 0; i < n; i++) {
		size_t k = rnd(&st) % N(cls);
		unsigned len = 18 + rnd(&st) % 15, off = rnd(&st) % 4096;
		if (len < 20 && rnd(&st) % 3)
			len = 20;
		unsigned host = 32 - len;
		off &= ~((1u << host) - 1) & 0xfff;
		char line[128];
		if (v6)
			snprintf(line, sizeof(line), "2001:db8::%x/%u", off, len + 96);
		else
			snprintf(line, sizeof(line), "10.20.%u.%u/%u", off >> 8, off & 255, len);
		bool ports = rnd(&st) % 6 == 0;
		snprintf(text[k] + strlen(text[k]), sizeof(text[k]) - strlen(text[k]), "%s%s\n",
			 line, ports ? " tcp 0 22" : "");
	}
	struct addr ha[3];
	const char *hs[4] = { NULL };
	char hbuf[3][64];
	unsigned nh = rnd(&st) % 3;
	for (unsigned i = 0; i < nh; i++) {
		unsigned off = rnd(&st) % 4096;
		if (v6)
			snprintf(hbuf[i], sizeof(hbuf[i]), "2001:db8::%x", off);
		else
			snprintf(hbuf[i], sizeof(hbuf[i]), "10.20.%u.%u", off >> 8, off & 255);
		hs[i] = hbuf[i];
	}
	(void)ha;
	struct policy_set *s = build(g, N(cls), hs);
	struct nft_plan p;
	ck_assert_int_eq(nft_plan_build(s, &p), 0);
	for (int id = 0; id < NFT_SET_COUNT; id++)
		check_ranges_sane(&p.set[id], nft_set_family((enum nft_set_id)id));
	enum nft_set_id sp = v6 ? NFT_SET_PRIVATE6 : NFT_SET_PRIVATE4;
	enum nft_set_id sc = v6 ? NFT_SET_POC6 : NFT_SET_POC4;
	for (unsigned a = 0; a < 4096 + 64; a++) {
		unsigned x = a < 4096 ? a : 4096 * 3 + a;     /* a few beyond the /20 */
		struct addr ad;
		char as[64];
		if (v6)
			snprintf(as, sizeof(as), "2001:db8::%x", x);
		else
			snprintf(as, sizeof(as), "10.20.%u.%u", x >> 8, x & 255);
		ck_assert(addr_parse(as, &ad));
		const struct pol_entry *e = policy_classify(s, &ad, 0, 0, 0);
		enum group_class c = e ? policy_group(s, e)->cls : GC_NONE;
		bool in_p = nft_ranges_contains(&p.set[sp], &ad);
		bool in_c = nft_ranges_contains(&p.set[sc], &ad);
		ck_assert_msg(in_p == (c == GC_OE_DROP), "%s: private set %d, class %s (seed %d)",
			      as, in_p, group_class_name(c), _i);
		ck_assert_msg(in_c == (c == GC_OE_PASS), "%s: poc set %d, class %s (seed %d)",
			      as, in_c, group_class_name(c), _i);
	}
	nft_plan_fini(&p);
	policy_free(s);
}
END_TEST

/* ---- batch round trips ------------------------------------------------------------ */

struct parsed {
	uint16_t types[256];
	uint16_t flags[256];
	size_t n;
	struct nft_ranges sets[NFT_SET_COUNT];     /* element lists, turned back into ranges */
	struct nft_ranges del[NFT_SET_COUNT];
	size_t max_msg;
	char rules[16][512];
	size_t n_rules;
	char objs[8][64];
	size_t n_objs;
	uint32_t set_flags[NFT_SET_COUNT], set_klen[NFT_SET_COUNT], set_ktype[NFT_SET_COUNT];
	int32_t chain_prio;
	uint32_t chain_hook, chain_policy;
	char chain_type[16];
};

static int set_index(const char *name)
{
	for (int i = 0; i < NFT_SET_COUNT; i++)
		if (strcmp(name, nft_set_name((enum nft_set_id)i)) == 0)
			return i;
	return -1;
}

struct elems_ctx {
	struct nft_ranges *out;
	unsigned fam;
	uint8_t open[16];
	bool have_open;
};

/* Elements come as start, end(hi + 1) pairs; a start without end runs to the last address. */
static void close_open(struct elems_ctx *c, const uint8_t *end_key)
{
	uint8_t hi[16] = { 0 };
	size_t len = addr_len((int)c->fam);
	if (end_key) {
		memcpy(hi, end_key, len);
		size_t j = len;
		while (j-- > 0 && hi[j]-- == 0)
			;
	} else {
		memset(hi, 0xff, len);
	}
	ck_assert_int_eq(nft_ranges_push(c->out, c->open, hi, c->fam), 0);
	c->have_open = false;
}

/* Element lists are read with libmnl: libnftnl 1.2.4 numbers the nests of a list 1, 2,
 * 3... when building (the kernel ignores the nest type) but its own parser accepts only
 * NFTA_LIST_ELEM (1), so it cannot read back a list of more than one element. */
static void elem_one(struct elems_ctx *c, const struct nlattr *el)
{
	const struct nlattr *a, *key = NULL;
	uint32_t flags = 0;
	mnl_attr_for_each_nested(a, el) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS) {
			ck_assert_int_eq(mnl_attr_validate(a, MNL_TYPE_U32), 0);
			flags = ntohl(mnl_attr_get_u32(a));
		} else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY) {
			const struct nlattr *v;
			mnl_attr_for_each_nested(v, a)
				if (mnl_attr_get_type(v) == NFTA_DATA_VALUE)
					key = v;
		}
	}
	ck_assert_ptr_nonnull(key);
	ck_assert_uint_eq(mnl_attr_get_payload_len(key), addr_len((int)c->fam));
	const uint8_t *k = mnl_attr_get_payload(key);
	if (flags & NFT_SET_ELEM_INTERVAL_END) {
		ck_assert(c->have_open);
		close_open(c, k);
	} else {
		if (c->have_open)
			close_open(c, NULL);
		memset(c->open, 0, 16);
		memcpy(c->open, k, addr_len((int)c->fam));
		c->have_open = true;
	}
}

/* Set name and element count of an element-list message; elements go to c when given. */
static const char *elems_parse(const struct nlmsghdr *nlh, struct elems_ctx *c, size_t *count)
{
	const struct nlattr *a;
	const char *name = NULL;
	*count = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET) {
			ck_assert_int_eq(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
			name = mnl_attr_get_str(a);
		} else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_TABLE) {
			ck_assert_str_eq(mnl_attr_get_str(a), "meshd");
		} else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS) {
			const struct nlattr *el;
			mnl_attr_for_each_nested(el, a) {
				ck_assert_uint_eq(mnl_attr_get_type(el), *count + 1);
				if (c)
					elem_one(c, el);
				(*count)++;
			}
		}
	}
	ck_assert_ptr_nonnull(name);
	return name;
}

static void parse_batch(const void *data, size_t len, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	const struct nlmsghdr *nlh = data;
	int left = (int)len;
	uint32_t seq = nlh->nlmsg_seq;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		ck_assert_uint_lt(p->n, 256);
		ck_assert_uint_eq(nlh->nlmsg_seq, seq++);          /* consecutive */
		ck_assert_uint_lt(nlh->nlmsg_len, 65536);
		if (nlh->nlmsg_len > p->max_msg)
			p->max_msg = nlh->nlmsg_len;
		uint16_t type = nlh->nlmsg_type;
		p->types[p->n] = type;
		p->flags[p->n++] = nlh->nlmsg_flags;
		if (type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END)
			continue;
		ck_assert_uint_eq(type >> 8, NFNL_SUBSYS_NFTABLES);
		ck_assert(nlh->nlmsg_flags & NLM_F_ACK);
		const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
		ck_assert_uint_eq(nfg->nfgen_family, NFPROTO_INET);
		switch (type & 0xff) {
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE: {
			struct nftnl_table *t = nftnl_table_alloc();
			ck_assert_int_eq(nftnl_table_nlmsg_parse(nlh, t), 0);
			ck_assert_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "meshd");
			nftnl_table_free(t);
			break;
		}
		case NFT_MSG_NEWOBJ: {
			struct nftnl_obj *o = nftnl_obj_alloc();
			ck_assert_int_eq(nftnl_obj_nlmsg_parse(nlh, o), 0);
			ck_assert_uint_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), NFT_OBJECT_COUNTER);
			snprintf(p->objs[p->n_objs++], 64, "%s", nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
			nftnl_obj_free(o);
			break;
		}
		case NFT_MSG_NEWSET: {
			struct nftnl_set *s = nftnl_set_alloc();
			ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
			int i = set_index(nftnl_set_get_str(s, NFTNL_SET_NAME));
			ck_assert_int_ge(i, 0);
			p->set_flags[i] = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
			p->set_klen[i] = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
			p->set_ktype[i] = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
			ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_ID), (uint32_t)i + 1);
			nftnl_set_free(s);
			break;
		}
		case NFT_MSG_NEWSETELEM:
		case NFT_MSG_DELSETELEM: {
			size_t cnt;
			bool del = (type & 0xff) == NFT_MSG_DELSETELEM;
			int i = set_index(elems_parse(nlh, NULL, &cnt));
			ck_assert_int_ge(i, 0);
			if (!del)
				ck_assert(nlh->nlmsg_flags & NLM_F_EXCL);
			struct elems_ctx c = { del ? &p->del[i] : &p->sets[i],
					       nft_set_family((enum nft_set_id)i), { 0 }, false };
			(void)elems_parse(nlh, &c, &cnt);
			if (c.have_open)
				close_open(&c, NULL);
			break;
		}
		case NFT_MSG_NEWCHAIN: {
			struct nftnl_chain *c = nftnl_chain_alloc();
			ck_assert_int_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
			ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "input");
			p->chain_prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
			p->chain_hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
			p->chain_policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
			snprintf(p->chain_type, sizeof(p->chain_type), "%s",
				 nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE));
			nftnl_chain_free(c);
			break;
		}
		case NFT_MSG_NEWRULE: {
			struct nftnl_rule *r = nftnl_rule_alloc();
			ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
			ck_assert(nlh->nlmsg_flags & NLM_F_APPEND);
			char *t = p->rules[p->n_rules++];
			nftnl_rule_snprintf(t, 512, r, NFTNL_OUTPUT_DEFAULT, 0);
			nftnl_rule_free(r);
			break;
		}
		default:
			ck_abort_msg("unexpected message type %u", type & 0xff);
		}
	}
	ck_assert_int_eq(left, 0);
}

static void parsed_fini(struct parsed *p)
{
	for (int i = 0; i < NFT_SET_COUNT; i++) {
		free(p->sets[i].v);
		free(p->del[i].v);
	}
}

static bool ranges_eq(const struct nft_ranges *a, const struct nft_ranges *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->v[i].lo, b->v[i].lo, 16) || memcmp(a->v[i].hi, b->v[i].hi, 16))
			return false;
	return true;
}

#define T(x) (NFNL_SUBSYS_NFTABLES << 8 | (x))

static const struct grp sample[] = {
	{ "private", GC_OE_DROP, "10.1.0.0/16\n2001:db8:1::/48\n0.0.0.0/0\n" },
	{ "private-or-clear", GC_OE_PASS, "10.2.0.0/16\n2001:db8:2::/48\n" },
	{ "clear", GC_CLEAR, "10.1.2.3\n" },
};

/* What "nft --debug=netlink" prints for the same rules written in nft syntax. */
static const char *const want_rules[] = {
	"[ meta load secpath => reg 1 ] [ cmp eq reg 1 0x00000001 ] "
	"[ objref type 1 name ipsec_accepted ] [ immediate reg 0 accept ]",
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000032 ] "
	"[ objref type 1 name esp_accepted ] [ immediate reg 0 accept ]",
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000011 ] "
	"[ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x0000f401 ] "
	"[ objref type 1 name ike_accepted ] [ immediate reg 0 accept ]",
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000011 ] "
	"[ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x00009411 ] "
	"[ objref type 1 name ike_accepted ] [ immediate reg 0 accept ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000001 ] "
	"[ payload load 1b @ transport header + 0 => reg 1 ] [ cmp eq reg 1 0x00000003 ] "
	"[ immediate reg 0 accept ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x0000000a ] "
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x0000003a ] "
	"[ payload load 1b @ transport header + 0 => reg 1 ] [ cmp gte reg 1 0x00000001 ] "
	"[ cmp lte reg 1 0x00000004 ] [ immediate reg 0 accept ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x0000000a ] "
	"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x0000003a ] "
	"[ payload load 1b @ transport header + 0 => reg 1 ] [ cmp gte reg 1 0x00000085 ] "
	"[ cmp lte reg 1 0x00000089 ] [ immediate reg 0 accept ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
	"[ payload load 4b @ network header + 12 => reg 1 ] [ lookup reg 1 set private4 ] "
	"[ objref type 1 name private_dropped ] [ immediate reg 0 drop ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x0000000a ] "
	"[ payload load 16b @ network header + 8 => reg 1 ] [ lookup reg 1 set private6 ] "
	"[ objref type 1 name private_dropped ] [ immediate reg 0 drop ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
	"[ payload load 4b @ network header + 12 => reg 1 ] "
	"[ lookup reg 1 set private_or_clear4 ] "
	"[ objref type 1 name private_or_clear_accepted ] [ immediate reg 0 accept ]",
	"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x0000000a ] "
	"[ payload load 16b @ network header + 8 => reg 1 ] "
	"[ lookup reg 1 set private_or_clear6 ] "
	"[ objref type 1 name private_or_clear_accepted ] [ immediate reg 0 accept ]",
};

/* "inet meshd input 0 0\n  [ a ]\n  [ b ]\n" -> "[ a ] [ b ]" */
static void squash(char *s)
{
	char *nl = strchr(s, '\n'), *o = s;
	const char *i = nl ? nl + 1 : s;
	for (; *i; i++) {
		if (*i == '\n')
			continue;
		if (*i == ' ' && (o == s || o[-1] == ' '))
			continue;
		*o++ = *i;
	}
	while (o > s && o[-1] == ' ')
		o--;
	*o = 0;
}

/* got == want, except that an objref name in got may carry trailing bytes: libnftnl 1.2.4
 * puts NFTA_OBJREF_IMM_NAME without its NUL (the kernel compares by attribute length)
 * and its parser then reads on into the next attribute when the name fills its 4-byte
 * padding exactly. The name bytes themselves are checked. */
static bool rule_eq(const char *got, const char *want)
{
	while (*want) {
		if (*got == *want) {
			got++;
			want++;
			continue;
		}
		if (strncmp(want, " ]", 2) != 0 || !strstr(got, " ]"))
			return false;
		const char *name = want;
		while (name[-1] != ' ')       /* every rule text starts with "[ " */
			name--;
		if (strncmp(name - 5, "name ", 5) != 0)
			return false;
		got = strstr(got, " ]");
	}
	return *got == 0;
}

START_TEST(full_batch_round_trip)
{
	struct nft *n;
	ck_assert_int_eq(nft_new(&n, NULL, NULL), 0);
	struct nft_plan p = plan_of(sample, N(sample), NULL), copy = plan_of(sample, N(sample), NULL);
	struct nft_batch *b;
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	ck_assert_ptr_nonnull(b);
	size_t len;
	const void *data = nft_batch_data(b, &len);
	struct parsed r;
	parse_batch(data, len, &r);

	/* shape: begin, add+delete+add table, counters, sets, elements, chain, rules, end */
	static const uint16_t head[] = { NFNL_MSG_BATCH_BEGIN, T(NFT_MSG_NEWTABLE),
		T(NFT_MSG_DELTABLE), T(NFT_MSG_NEWTABLE), T(NFT_MSG_NEWOBJ), T(NFT_MSG_NEWOBJ),
		T(NFT_MSG_NEWOBJ), T(NFT_MSG_NEWOBJ), T(NFT_MSG_NEWOBJ), T(NFT_MSG_NEWSET),
		T(NFT_MSG_NEWSET), T(NFT_MSG_NEWSET), T(NFT_MSG_NEWSET) };
	for (size_t i = 0; i < N(head); i++)
		ck_assert_uint_eq(r.types[i], head[i]);
	ck_assert_uint_eq(r.types[r.n - 1], NFNL_MSG_BATCH_END);
	ck_assert_uint_eq(r.types[r.n - 13], T(NFT_MSG_NEWCHAIN));
	ck_assert_uint_eq(nft_batch_msgs(b), r.n - 2);
	ck_assert(r.flags[1] & NLM_F_CREATE);
	ck_assert(!(r.flags[1] & NLM_F_EXCL));       /* an existing table is no error */

	ck_assert_str_eq(r.objs[0], "ipsec_accepted");
	ck_assert_str_eq(r.objs[3], "private_dropped");
	ck_assert_str_eq(r.objs[4], "private_or_clear_accepted");
	for (int i = 0; i < NFT_SET_COUNT; i++) {
		ck_assert_uint_eq(r.set_flags[i], NFT_SET_INTERVAL);
		bool v6 = nft_set_family((enum nft_set_id)i) == AF_INET6;
		ck_assert_uint_eq(r.set_klen[i], v6 ? 16 : 4);
		ck_assert_uint_eq(r.set_ktype[i], v6 ? 8 : 7);
		ck_assert_msg(ranges_eq(&r.sets[i], &copy.set[i]), "set %d differs", i);
	}
	ck_assert_int_eq(r.chain_prio, -10);
	ck_assert_uint_eq(r.chain_hook, NF_INET_LOCAL_IN);
	ck_assert_uint_eq(r.chain_policy, NF_ACCEPT);
	ck_assert_str_eq(r.chain_type, "filter");
	ck_assert_uint_eq(r.n_rules, N(want_rules));
	for (size_t i = 0; i < N(want_rules); i++) {
		squash(r.rules[i]);
		ck_assert_msg(rule_eq(r.rules[i], want_rules[i]), "rule %zu: %s", i, r.rules[i]);
	}
	/* 0.0.0.0/0 private minus 10.1.2.3 (clear), 10.2.0.0/16 (poc) and the host group */
	char buf[512];
	ck_assert_str_eq(ranges_str(&copy, NFT_SET_PRIVATE4, buf, sizeof(buf)),
			 "0.0.0.0-10.1.2.2,10.1.2.4-10.1.255.255,10.3.0.0-126.255.255.255,"
			 "128.0.0.0-169.253.255.255,169.255.0.0-255.255.255.255");
	parsed_fini(&r);
	nft_plan_fini(&copy);
	nft_batch_free(b);
	ck_assert_int_eq(nft_close(n, false), 0);
}
END_TEST

START_TEST(diff_batch_round_trip)
{
	struct nft *n;
	ck_assert_int_eq(nft_new(&n, NULL, &(struct nft_opts){ .ike_port = 5000 }), 0);
	struct nft_plan p = plan_of(sample, N(sample), NULL);
	struct nft_batch *b;
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	nft_batch_adopt(n, b);
	ck_assert_uint_eq(nft_installed(n, NFT_SET_PRIVATE4), 5);

	/* the same again: nothing to send */
	p = plan_of(sample, N(sample), NULL);
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	ck_assert_ptr_null(b);

	/* one poc /16 replaced, one private v6 /48 added */
	static const struct grp changed[] = {
		{ "private", GC_OE_DROP, "10.1.0.0/16\n2001:db8:1::/48\n0.0.0.0/0\n2001:db8:9::/48\n" },
		{ "private-or-clear", GC_OE_PASS, "10.3.0.0/16\n2001:db8:2::/48\n" },
		{ "clear", GC_CLEAR, "10.1.2.3\n" },
	};
	p = plan_of(changed, N(changed), NULL);
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	ck_assert_ptr_nonnull(b);
	size_t len;
	const void *data = nft_batch_data(b, &len);
	struct parsed r;
	parse_batch(data, len, &r);
	/* begin, delete from private4 and poc4, add to private4, private6 and poc4, end: the
	 * poc /16 moved, so the private 0.0.0.0/0 around it has its hole elsewhere */
	static const uint16_t want[] = { NFNL_MSG_BATCH_BEGIN, T(NFT_MSG_DELSETELEM),
		T(NFT_MSG_DELSETELEM), T(NFT_MSG_NEWSETELEM), T(NFT_MSG_NEWSETELEM),
		T(NFT_MSG_NEWSETELEM), NFNL_MSG_BATCH_END };
	ck_assert_uint_eq(r.n, N(want));
	for (size_t i = 0; i < N(want); i++)
		ck_assert_uint_eq(r.types[i], want[i]);
	char buf[256];
	struct nft_plan got = { 0 };
	got.set[NFT_SET_POC4] = r.del[NFT_SET_POC4];
	ck_assert_str_eq(ranges_str(&got, NFT_SET_POC4, buf, sizeof(buf)), "10.2.0.0/16");
	got.set[NFT_SET_POC4] = r.sets[NFT_SET_POC4];
	ck_assert_str_eq(ranges_str(&got, NFT_SET_POC4, buf, sizeof(buf)), "10.3.0.0/16");
	got.set[NFT_SET_PRIVATE6] = r.sets[NFT_SET_PRIVATE6];
	ck_assert_str_eq(ranges_str(&got, NFT_SET_PRIVATE6, buf, sizeof(buf)), "2001:db8:9::/48");
	got.set[NFT_SET_PRIVATE4] = r.del[NFT_SET_PRIVATE4];
	ck_assert_str_eq(ranges_str(&got, NFT_SET_PRIVATE4, buf, sizeof(buf)),
			 "10.1.2.4-10.1.255.255,10.3.0.0-126.255.255.255");
	got.set[NFT_SET_PRIVATE4] = r.sets[NFT_SET_PRIVATE4];
	ck_assert_str_eq(ranges_str(&got, NFT_SET_PRIVATE4, buf, sizeof(buf)),
			 "10.1.2.4-10.2.255.255,10.4.0.0-126.255.255.255");
	ck_assert_uint_eq(r.del[NFT_SET_PRIVATE6].n + r.sets[NFT_SET_POC6].n, 0);
	parsed_fini(&r);
	nft_batch_adopt(n, b);
	ck_assert_int_eq(nft_close(n, false), 0);
}
END_TEST

/* 100,000 /32s: the element lists are split so that no message reaches 64 KiB. */
START_TEST(large_batch_split)
{
	struct nft *n;
	ck_assert_int_eq(nft_new(&n, NULL, NULL), 0);
	struct nft_plan p = { 0 };
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t a[16] = { 0 };
		uint32_t v = htonl(0x0a000000u + 2 * i);
		memcpy(a, &v, 4);
		ck_assert_int_eq(nft_ranges_push(&p.set[NFT_SET_PRIVATE4], a, a, AF_INET), 0);
	}
	struct nft_batch *b;
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	size_t len, n_elem_msgs = 0, total = 0;
	const void *data = nft_batch_data(b, &len);
	const struct nlmsghdr *nlh = data;
	int left = (int)len;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		ck_assert_uint_lt(nlh->nlmsg_len, 65536);
		if (nlh->nlmsg_type != T(NFT_MSG_NEWSETELEM))
			continue;
		size_t cnt;
		ck_assert_str_eq(elems_parse(nlh, NULL, &cnt), "private4");
		total += cnt;
		n_elem_msgs++;
	}
	ck_assert_uint_eq(total, 200000);
	ck_assert_uint_eq(n_elem_msgs, (100000 + 511) / 512);
	nft_batch_free(b);
	ck_assert_int_eq(nft_close(n, false), 0);
}
END_TEST

/* With a log group, a rate-limited NFLOG rule per family sits right before each private
 * drop rule (nft.h); the drop rules themselves do not change. */
START_TEST(trigger_rules)
{
	struct nft *n;
	struct nft_opts o = { .log_group = 28005 };
	ck_assert_int_eq(nft_new(&n, NULL, &o), 0);
	ck_assert_uint_eq(nft_log_group(n), 28005);
	struct nft_plan p = plan_of(sample, N(sample), NULL);
	struct nft_batch *b;
	ck_assert_int_eq(nft_batch_build(n, &p, false, &b), 0);
	size_t len;
	const void *data = nft_batch_data(b, &len);
	struct parsed r;
	parse_batch(data, len, &r);
	ck_assert_uint_eq(r.n_rules, N(want_rules) + 2);
	static const char *const trig[] = {
		"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
		"[ payload load 4b @ network header + 12 => reg 1 ] [ lookup reg 1 set private4 ] "
		"[ limit rate 20/second burst 40 type packets flags 0x0 ] "
		"[ log group 28005 snaplen 64 qthreshold 1 ]",
		"[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x0000000a ] "
		"[ payload load 16b @ network header + 8 => reg 1 ] [ lookup reg 1 set private6 ] "
		"[ limit rate 20/second burst 40 type packets flags 0x0 ] "
		"[ log group 28005 snaplen 64 qthreshold 1 ]",
	};
	for (size_t i = 0, k = 0; i < r.n_rules; i++) {
		squash(r.rules[i]);
		const char *want = i == 7 ? trig[0] : i == 8 ? trig[1] : want_rules[k++];
		ck_assert_msg(rule_eq(r.rules[i], want), "rule %zu: %s", i, r.rules[i]);
	}
	parsed_fini(&r);
	nft_batch_free(b);
	/* a group change is a whole-table replacement at the next sync; 0 removes the rules */
	nft_set_log_group(n, 0);
	ck_assert_uint_eq(nft_log_group(n), 0);
	ck_assert_int_eq(nft_close(n, false), 0);
}
END_TEST

static Suite *nft_suite(void)
{
	Suite *s = suite_create("nft");
	TCase *tc = tcase_create("sets");
	tcase_add_test(tc, clear_hole_in_private);
	tcase_add_test(tc, private_inside_clear);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, host_wins);
	tcase_add_test(tc, port_specific_ignored);
	tcase_add_test(tc, merge_and_v6);
	tcase_add_loop_test(tc, differential_random, 0, 200);
	suite_add_tcase(s, tc);
	tc = tcase_create("batch");
	tcase_add_test(tc, full_batch_round_trip);
	tcase_add_test(tc, diff_batch_round_trip);
	tcase_add_test(tc, large_batch_split);
	tcase_add_test(tc, trigger_rules);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(nft_suite)
