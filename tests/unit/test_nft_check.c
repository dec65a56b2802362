/* test_nft_check — the firewall check's decision on rulesets built in memory with
 * libnftnl, expression by expression as nft(8) would build them. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_check.h"
#include "unit.h"

static struct nftc_ruleset *rs;
static char msgs[8192];
static uint64_t next_handle;

static void collect(struct diag *d, enum diag_sev sev, const char *file, unsigned line, const char *msg)
{
	(void)d; (void)file; (void)line;
	size_t l = strlen(msgs);
	snprintf(msgs + l, sizeof(msgs) - l, "%s%s\n", sev == DIAG_WARN ? "W " : "E ", msg);
}

static void setup(void)
{
	rs = nftc_new();
	ck_assert_ptr_nonnull(rs);
	msgs[0] = 0;
	next_handle = 1;
}

static void teardown(void)
{
	nftc_free(rs);
	rs = NULL;
}

static int report(const struct nft_check_opts *o)
{
	struct diag d = { .fn = collect };
	int n = nftc_report(rs, o, &d);
	ck_assert_int_eq((int)d.n_warn, n);
	ck_assert_int_eq((int)d.n_err, 0);
	return n;
}

/* ---- building ---- */

static void table(uint32_t fam, const char *name, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, fam);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	ck_assert_int_eq(nftc_add_table(rs, t), 0);
}

/* hook: -1 for a regular chain */
static void chain(uint32_t fam, const char *tab, const char *name, int hook, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, fam);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, tab);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	}
	ck_assert_int_eq(nftc_add_chain(rs, c), 0);
}

static struct nftnl_rule *rule(uint32_t fam, const char *tab, const char *ch)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, fam);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tab);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, next_handle++);
	return r;
}

static void commit(struct nftnl_rule *r)
{
	ck_assert_int_eq(nftc_add_rule(rs, r), 0);
}

static struct nftnl_expr *ex(struct nftnl_rule *r, const char *kind)
{
	struct nftnl_expr *e = nftnl_expr_alloc(kind);
	ck_assert_ptr_nonnull(e);
	nftnl_rule_add_expr(r, e);
	return e;
}

static void e_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void e_cmp(struct nftnl_rule *r, uint32_t op, const void *d, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, d, len);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

static void e_verdict(struct nftnl_rule *r, int v, const char *target)
{
	struct nftnl_expr *e = ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (target)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, target);
}

static void e_lookup(struct nftnl_rule *r, const char *set, bool inv, bool vmap)
{
	struct nftnl_expr *e = ex(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
}

/* meta l4proto P */
static void m_l4(struct nftnl_rule *r, uint8_t p)
{
	e_meta(r, NFT_META_L4PROTO);
	e_cmp(r, NFT_CMP_EQ, &p, 1);
}

/* meta l4proto udp udp dport PORT */
static void m_udp_dport(struct nftnl_rule *r, uint16_t port)
{
	m_l4(r, IPPROTO_UDP);
	uint16_t p = htons(port);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_cmp(r, NFT_CMP_EQ, &p, 2);
}

/* ct state MASK (ct state established,related: bitwise + cmp neq 0) */
static void m_ct_state(struct nftnl_rule *r, uint32_t mask)
{
	struct nftnl_expr *e = ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = ex(r, "bitwise");
	uint32_t zero = 0;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	e_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

static void m_iifname(struct nftnl_rule *r, const char *name)
{
	char b[16] = { 0 };
	strncpy(b, name, sizeof(b) - 1);
	e_meta(r, NFT_META_IIFNAME);
	e_cmp(r, NFT_CMP_EQ, b, 16);
}

/* a set (anonymous or not) with 2-byte port keys or 4-byte ct state keys */
static struct nftnl_set *set_new(uint32_t fam, const char *tab, const char *name, uint32_t klen,
				 uint32_t flags)
{
	struct nftnl_set *s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, fam);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, tab);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	return s;
}

static void set_elem(struct nftnl_set *s, const void *key, uint32_t len, uint32_t flags, int verdict)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	if (verdict != -100)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)verdict);
	nftnl_set_elem_add(s, e);
}

static void port_elem(struct nftnl_set *s, uint16_t port, uint32_t flags, int verdict)
{
	uint16_t p = htons(port);
	set_elem(s, &p, 2, flags, verdict);
}

/* table inet filter { chain input { type filter hook input priority 0; policy P; } } */
static void inet_filter(uint32_t policy)
{
	table(NFPROTO_INET, "filter", 0);
	chain(NFPROTO_INET, "filter", "input", NF_INET_LOCAL_IN, policy);
}

#define IN NFPROTO_INET, "filter", "input"

/* udp dport { 500, 4500 } accept; meta l4proto esp accept */
static void accept_ike_esp(void)
{
	struct nftnl_set *s = set_new(NFPROTO_INET, "filter", "__set0", 2, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	port_elem(s, 500, 0, -100);
	port_elem(s, 4500, 0, -100);
	ck_assert_int_eq(nftc_add_set(rs, s), 0);
	struct nftnl_rule *r = rule(IN);
	m_l4(r, IPPROTO_UDP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_lookup(r, "__set0", false, false);
	ex(r, "counter");
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	r = rule(IN);
	m_l4(r, IPPROTO_ESP);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
}

static unsigned probe(unsigned af, enum nftc_what w, bool est)
{
	struct nftc_probe p = { af, w, est };
	return nftc_eval(rs, NFPROTO_INET, "filter", "input", &p, NULL);
}

static void has(const char *needle)
{
	ck_assert_msg(strstr(msgs, needle), "'%s' not in:\n%s", needle, msgs);
}

/* ---- cases ---- */

START_TEST(policy_drop_no_rules)
{
	inet_filter(NF_DROP);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_DROP_POLICY);
	ck_assert_uint_eq(probe(AF_INET6, NFTC_ESP, true), NFTC_DROP_POLICY);
	ck_assert_int_eq(report(NULL), 2);
	has("W firewall: table inet filter chain input has policy drop and no rule accepting UDP 500/4500 (IKE): negotiation will fail\n");
	has("W firewall: table inet filter chain input has policy drop and no rule accepting ESP (IP protocol 50): IPsec traffic from peers will be dropped\n");
}
END_TEST

START_TEST(policy_drop_with_accepts)
{
	inet_filter(NF_DROP);
	accept_ike_esp();
	for (int w = NFTC_IKE; w <= NFTC_ESP; w++) {
		ck_assert_uint_eq(probe(AF_INET, (enum nftc_what)w, false), NFTC_ACCEPT);
		ck_assert_uint_eq(probe(AF_INET6, (enum nftc_what)w, false), NFTC_ACCEPT);
	}
	ck_assert_int_eq(report(NULL), 0);
	ck_assert_str_eq(msgs, "");
}
END_TEST

START_TEST(configured_ports)
{
	inet_filter(NF_DROP);
	accept_ike_esp();
	struct nft_check_opts o = { .ike_port = 5000, .nat_ike_port = 4500 };
	ck_assert_int_eq(report(&o), 1);
	has("no rule accepting UDP 5000 (IKE): negotiation will fail");
}
END_TEST

START_TEST(established_only)
{
	inet_filter(NF_DROP);
	struct nftnl_rule *r = rule(IN);
	m_ct_state(r, 2 | 4);                      /* established,related */
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	r = rule(IN);                              /* tcp dport 22 accept */
	m_l4(r, IPPROTO_TCP);
	uint16_t p22 = htons(22);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_cmp(r, NFT_CMP_EQ, &p22, 2);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_DROP_POLICY);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, true), NFTC_ACCEPT);
	ck_assert_int_eq(report(NULL), 2);
	has("no rule accepting new UDP 500/4500 (IKE): only replies get through (ct state established): peers cannot start a negotiation with this host");
	has("no rule accepting new ESP (IP protocol 50): only ESP in established");
}
END_TEST

START_TEST(ct_state_vmap)
{
	/* ct state vmap { established : accept, related : accept, invalid : drop } */
	inet_filter(NF_DROP);
	struct nftnl_set *s = set_new(NFPROTO_INET, "filter", "__map0", 4,
				      NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	uint32_t est = 2, rel = 4, inv = 1;
	set_elem(s, &est, 4, 0, NF_ACCEPT);
	set_elem(s, &rel, 4, 0, NF_ACCEPT);
	set_elem(s, &inv, 4, 0, NF_DROP);
	ck_assert_int_eq(nftc_add_set(rs, s), 0);
	struct nftnl_rule *r = rule(IN);
	struct nftnl_expr *e = ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e_lookup(r, "__map0", false, true);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_ESP, false), NFTC_DROP_POLICY);
	ck_assert_uint_eq(probe(AF_INET, NFTC_ESP, true), NFTC_ACCEPT);
	/* and a port vmap accepting IKE */
	s = set_new(NFPROTO_INET, "filter", "__map1", 2, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	port_elem(s, 500, 0, NF_ACCEPT);
	port_elem(s, 4500, 0, NF_ACCEPT);
	ck_assert_int_eq(nftc_add_set(rs, s), 0);
	r = rule(IN);
	m_l4(r, IPPROTO_UDP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_lookup(r, "__map1", false, true);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_ACCEPT);
	ck_assert_uint_eq(probe(AF_INET6, NFTC_NATT, false), NFTC_ACCEPT);
	ck_assert_int_eq(report(NULL), 1);
	has("new ESP");
}
END_TEST

START_TEST(final_reject_rule)
{
	/* policy accept, but the chain ends in reject (firewalld's filter_INPUT does) */
	inet_filter(NF_ACCEPT);
	struct nftnl_rule *r = rule(IN);
	m_iifname(r, "lo");
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	r = rule(IN);
	ex(r, "reject");
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_DROP_RULE);
	ck_assert_int_eq(report(NULL), 2);
	has("chain input has a drop or reject rule (handle 2 in chain input) and no rule before it accepting UDP 500/4500 (IKE)");
}
END_TEST

START_TEST(unknowns_are_not_warned)
{
	/* ip saddr 10.0.0.0/8 accept; iifname "eth0" accept; an xt match: cannot tell */
	inet_filter(NF_DROP);
	struct nftnl_rule *r = rule(IN);
	uint8_t v4 = NFPROTO_IPV4, net[4] = { 10, 0, 0, 0 };
	e_meta(r, NFT_META_NFPROTO);
	e_cmp(r, NFT_CMP_EQ, &v4, 1);
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 1);
	e_cmp(r, NFT_CMP_EQ, net, 1);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	unsigned m = probe(AF_INET, NFTC_IKE, false);
	ck_assert_uint_eq(m, NFTC_ACCEPT | NFTC_DROP_POLICY);
	/* IPv6 is still definitely dropped: the rule is IPv4 only */
	ck_assert_uint_eq(probe(AF_INET6, NFTC_IKE, false), NFTC_DROP_POLICY);
	ck_assert_int_eq(report(NULL), 2);
	has("(IKE) over IPv6: negotiation will fail");
	has("ESP (IP protocol 50) over IPv6");
	ck_assert_ptr_null(strstr(msgs, "IPv4"));

	r = rule(IN);
	m_iifname(r, "eth0");
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	msgs[0] = 0;
	ck_assert_int_eq(report(NULL), 0);
}
END_TEST

START_TEST(lo_and_xt_match)
{
	inet_filter(NF_DROP);
	struct nftnl_rule *r = rule(IN);
	m_iifname(r, "lo");
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	ck_assert_int_eq(report(NULL), 2);
	r = rule(IN);
	ex(r, "match");                            /* iptables-nft: -m something -j ACCEPT */
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	msgs[0] = 0;
	ck_assert_int_eq(report(NULL), 0);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_ACCEPT | NFTC_DROP_POLICY);
}
END_TEST

START_TEST(jump_goto_return)
{
	inet_filter(NF_DROP);
	chain(NFPROTO_INET, "filter", "ike", -1, 0);
	chain(NFPROTO_INET, "filter", "zone", -1, 0);
	/* input: jump ike; goto zone */
	struct nftnl_rule *r = rule(IN);
	e_verdict(r, NFT_JUMP, "ike");
	commit(r);
	r = rule(IN);
	e_verdict(r, NFT_GOTO, "zone");
	commit(r);
	/* ike: udp dport 500 accept; meta l4proto esp return; (falls off) */
	r = rule(NFPROTO_INET, "filter", "ike");
	m_udp_dport(r, 500);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	r = rule(NFPROTO_INET, "filter", "ike");
	m_l4(r, IPPROTO_ESP);
	e_verdict(r, NFT_RETURN, NULL);
	commit(r);
	/* zone: tcp dport 22 accept (falls off: the base chain's policy) */
	r = rule(NFPROTO_INET, "filter", "zone");
	m_l4(r, IPPROTO_TCP);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_ACCEPT);
	ck_assert_uint_eq(probe(AF_INET, NFTC_NATT, false), NFTC_DROP_POLICY);
	ck_assert_uint_eq(probe(AF_INET, NFTC_ESP, false), NFTC_DROP_POLICY);
	ck_assert_int_eq(report(NULL), 2);
	has("no rule accepting UDP 4500 (IKE NAT traversal): negotiation will fail");
}
END_TEST

START_TEST(jump_loop_is_unknown)
{
	inet_filter(NF_DROP);
	chain(NFPROTO_INET, "filter", "a", -1, 0);
	struct nftnl_rule *r = rule(IN);
	e_verdict(r, NFT_JUMP, "a");
	commit(r);
	r = rule(NFPROTO_INET, "filter", "a");
	e_verdict(r, NFT_JUMP, "a");
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_UNKNOWN);
	ck_assert_int_eq(report(NULL), 0);
}
END_TEST

START_TEST(intervals_and_ranges)
{
	inet_filter(NF_DROP);
	/* udp dport { 400-600 } accept: rbtree interval (start, exclusive end) */
	struct nftnl_set *s = set_new(NFPROTO_INET, "filter", "__set1", 2,
				      NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL);
	port_elem(s, 0, NFT_SET_ELEM_INTERVAL_END, -100);
	port_elem(s, 400, 0, -100);
	port_elem(s, 601, NFT_SET_ELEM_INTERVAL_END, -100);
	ck_assert_int_eq(nftc_add_set(rs, s), 0);
	struct nftnl_rule *r = rule(IN);
	m_l4(r, IPPROTO_UDP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_lookup(r, "__set1", false, false);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	/* udp dport 4000-5000 accept: range expression */
	r = rule(IN);
	m_l4(r, IPPROTO_UDP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	struct nftnl_expr *e = ex(r, "range");
	uint16_t lo = htons(4000), hi = htons(5000);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 2);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 2);
	e_verdict(r, NF_ACCEPT, NULL);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_ACCEPT);
	ck_assert_uint_eq(probe(AF_INET, NFTC_NATT, false), NFTC_ACCEPT);
	struct nft_check_opts o = { .ike_port = 601, .nat_ike_port = 5001 };
	ck_assert_int_eq(report(&o), 2);
	has("UDP 601/5001 (IKE)");
}
END_TEST

START_TEST(inverted_lookup_drop)
{
	/* policy accept; udp dport != { 53 } drop: IKE definitely dropped by a rule */
	inet_filter(NF_ACCEPT);
	struct nftnl_set *s = set_new(NFPROTO_INET, "filter", "__set2", 2, NFT_SET_ANONYMOUS);
	port_elem(s, 53, 0, -100);
	ck_assert_int_eq(nftc_add_set(rs, s), 0);
	struct nftnl_rule *r = rule(IN);
	m_l4(r, IPPROTO_UDP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_lookup(r, "__set2", true, false);
	e_verdict(r, NF_DROP, NULL);
	commit(r);
	ck_assert_uint_eq(probe(AF_INET, NFTC_IKE, false), NFTC_DROP_RULE);
	ck_assert_uint_eq(probe(AF_INET, NFTC_ESP, false), NFTC_ACCEPT);
	ck_assert_int_eq(report(NULL), 1);
	has("(handle 1 in chain input)");
}
END_TEST

START_TEST(which_chains)
{
	/* our own table, a dormant table, another hook, and ip / ip6 tables */
	table(NFPROTO_INET, "meshd", 0);
	chain(NFPROTO_INET, "meshd", "input", NF_INET_LOCAL_IN, NF_DROP);
	table(NFPROTO_INET, "sleepy", NFT_TABLE_F_DORMANT);
	chain(NFPROTO_INET, "sleepy", "input", NF_INET_LOCAL_IN, NF_DROP);
	table(NFPROTO_INET, "fwd", 0);
	chain(NFPROTO_INET, "fwd", "forward", NF_INET_FORWARD, NF_DROP);
	ck_assert_int_eq(report(NULL), 0);
	table(NFPROTO_IPV4, "filter", 0);
	chain(NFPROTO_IPV4, "filter", "INPUT", NF_INET_LOCAL_IN, NF_DROP);
	table(NFPROTO_IPV6, "t6", 0);
	chain(NFPROTO_IPV6, "t6", "in", NF_INET_LOCAL_IN, NF_DROP);
	ck_assert_int_eq(report(NULL), 4);
	has("table ip filter chain INPUT (iptables-nft?) has policy drop and no rule accepting UDP 500/4500 (IKE): negotiation");
	has("table ip6 t6 chain in has policy drop and no rule accepting ESP (IP protocol 50): IPsec");
	ck_assert_ptr_null(strstr(msgs, "over IPv"));
	struct nft_check_opts o = { .skip_table = "other" };
	msgs[0] = 0;
	ck_assert_int_eq(report(&o), 6);
	has("table inet meshd chain input");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("nft_check");
	TCase *tc = tcase_create("decision");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, policy_drop_no_rules);
	tcase_add_test(tc, policy_drop_with_accepts);
	tcase_add_test(tc, configured_ports);
	tcase_add_test(tc, established_only);
	tcase_add_test(tc, ct_state_vmap);
	tcase_add_test(tc, final_reject_rule);
	tcase_add_test(tc, unknowns_are_not_warned);
	tcase_add_test(tc, lo_and_xt_match);
	tcase_add_test(tc, jump_goto_return);
	tcase_add_test(tc, jump_loop_is_unknown);
	tcase_add_test(tc, intervals_and_ranges);
	tcase_add_test(tc, inverted_lookup_drop);
	tcase_add_test(tc, which_chains);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
