/* test_nft_log.c — the inbound trigger's NFLOG parser (nft_log.c) on the fuzz seeds in
 * tests/fuzz/corpus/nflog: what each parses to, and that the bad ones are refused. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nft_log.h"
#include "unit.h"

struct got {
	struct nft_log_pkt p[4];
	size_t n, bad;
};

static void keep(const struct nft_log_pkt *p, void *arg)
{
	struct got *g = arg;
	if (g->n < 4)
		g->p[g->n] = *p;
	g->n++;
}

static struct got parse_seed(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/nflog/%s", SRCDIR, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	static uint8_t buf[4096] __attribute__((aligned(8)));
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct got g = { 0 };
	size_t n = nft_log_parse(buf, len, keep, &g, &g.bad);
	ck_assert_uint_eq(n, g.n);
	return g;
}

static void assert_pkt(const struct nft_log_pkt *p, const char *src, const char *dst,
		       unsigned proto, bool ports, unsigned sport, unsigned dport)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];
	ck_assert_str_eq(addr_str(&p->src, s), src);
	ck_assert_str_eq(addr_str(&p->dst, d), dst);
	ck_assert_uint_eq(p->proto, proto);
	ck_assert(p->ports == ports);
	ck_assert_uint_eq(p->sport, sport);
	ck_assert_uint_eq(p->dport, dport);
}

START_TEST(ipv4)
{
	struct got g = parse_seed("v4_icmp_echo.bin");
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.bad, 0);
	assert_pkt(&g.p[0], "10.15.2.4", "10.15.3.5", IPPROTO_ICMP, false, 0, 0);
	g = parse_seed("v4_udp.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "10.30.1.9", "10.0.0.1", IPPROTO_UDP, true, 40000, 9999);
	/* 40 bytes of options, then the ports */
	g = parse_seed("v4_tcp_options.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "10.30.1.9", "10.0.0.1", IPPROTO_TCP, true, 51000, 22);
	/* the copy ends inside the options: addresses yes, ports no */
	g = parse_seed("v4_options_cut.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "10.30.1.9", "10.0.0.1", IPPROTO_TCP, false, 0, 0);
	/* a later fragment has no transport header */
	g = parse_seed("v4_fragment.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "10.30.1.9", "10.0.0.1", IPPROTO_UDP, false, 0, 0);
}
END_TEST

START_TEST(ipv6)
{
	struct got g = parse_seed("v6_tcp.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "2001:db8:30::9", "fd00::1", IPPROTO_TCP, true, 51000, 22);
	/* an extension header first: the protocol is that header's, no ports */
	g = parse_seed("v6_hopbyhop.bin");
	ck_assert_uint_eq(g.n, 1);
	assert_pkt(&g.p[0], "2001:db8:30::9", "fd00::1", 0, false, 0, 0);
}
END_TEST

START_TEST(batch)
{
	struct got g = parse_seed("multi_then_done.bin");
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.bad, 0);
	assert_pkt(&g.p[0], "10.30.1.9", "10.0.0.1", IPPROTO_UDP, true, 40000, 9999);
	assert_pkt(&g.p[1], "2001:db8:30::9", "fd00::1", IPPROTO_ICMPV6, false, 0, 0);
	g = parse_seed("config_ack.bin");
	ck_assert_uint_eq(g.n, 0);
	ck_assert_uint_eq(g.bad, 0);
}
END_TEST

START_TEST(refused)
{
	static const char *const bad[] = {
		"bad_family_mismatch.bin", "bad_hw_mismatch.bin", "bad_short_header.bin",
		"bad_ihl.bin", "bad_truncated_msg.bin", "bad_attr_overlong.bin",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct got g = parse_seed(bad[i]);
		ck_assert_msg(g.n == 0 && g.bad == 1, "%s: %zu packets, %zu bad", bad[i], g.n,
			      g.bad);
	}
	/* nothing at all */
	size_t b = 9;
	ck_assert_uint_eq(nft_log_parse(NULL, 0, NULL, NULL, &b), 0);
	ck_assert_uint_eq(b, 0);
}
END_TEST

static Suite *nft_log_suite(void)
{
	Suite *s = suite_create("nft_log");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, ipv4);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, batch);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(nft_log_suite)
