/* test_ts.c — OE traffic selectors: building, responder narrowing, the initiator's
 * check of the answer, conversion to a kernel selector. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ts.h"
#include "unit.h"

static struct addr A(const char *s)
{
	struct addr a;
	ck_assert_msg(addr_parse(s, &a), "bad address %s", s);
	return a;
}

static struct ike_ts T(const char *start, const char *end, uint8_t proto, uint16_t sp,
		       uint16_t ep)
{
	struct ike_ts t = { 0 };
	t.start = A(start);
	t.end = A(end);
	t.type = t.start.family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
	t.proto = proto;
	t.sport = sp;
	t.eport = ep;
	return t;
}

static struct ts_end E(const char *a, uint8_t proto, uint16_t port)
{
	return (struct ts_end){ .addr = A(a), .proto = proto, .port = port };
}

static void list1(struct ike_ts_list *l, struct ike_ts t)
{
	memset(l, 0, sizeof(*l));
	l->n = 1;
	l->ts[0] = t;
}

static void assert_ts(const struct ike_ts *t, const char *want)
{
	char buf[TS_STRLEN];
	ck_assert_str_eq(ts_str(t, buf), want);
}

START_TEST(build)
{
	struct ike_ts_list i, r;
	struct ts_end l = E("192.1.3.209", 0, 0), p = E("192.1.2.23", 0, 0);
	ck_assert_int_eq(ts_build(&l, &p, &i, &r), 0);
	ck_assert_uint_eq(i.n, 1);
	ck_assert_uint_eq(r.n, 1);
	assert_ts(&i.ts[0], "192.1.3.209-192.1.3.209:0/0-65535");
	assert_ts(&r.ts[0], "192.1.2.23-192.1.2.23:0/0-65535");
	/* port-specific group line: [192.1.3.209/32/TCP===192.1.2.23/32/TCP/7] */
	l = E("192.1.3.209", IPPROTO_TCP, 0);
	p = E("192.1.2.23", IPPROTO_TCP, 7);
	ck_assert_int_eq(ts_build(&l, &p, &i, &r), 0);
	assert_ts(&i.ts[0], "192.1.3.209-192.1.3.209:6/0-65535");
	assert_ts(&r.ts[0], "192.1.2.23-192.1.2.23:6/7-7");
	/* IPv6 */
	l = E("2001:db8:1::45", 0, 0);
	p = E("2001:db8:1::23", 0, 0);
	ck_assert_int_eq(ts_build(&l, &p, &i, &r), 0);
	ck_assert_uint_eq(i.ts[0].type, IKE_TS_IPV6_ADDR_RANGE);
	/* mixed families / protocols */
	p = E("192.1.2.23", 0, 0);
	ck_assert_int_eq(ts_build(&l, &p, &i, &r), -EINVAL);
	l = E("192.1.3.209", IPPROTO_UDP, 0);
	ck_assert_int_eq(ts_build(&l, &p, &i, &r), -EINVAL);
}
END_TEST

START_TEST(narrow_exact)
{
	struct ike_ts_list i, r;
	struct ts_pair out;
	struct ts_end peer = E("192.1.3.209", 0, 0), us = E("192.1.2.23", 0, 0);
	/* what a Libreswan OE initiator sends */
	ck_assert_int_eq(ts_build(&peer, &us, &i, &r), 0);
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	ck_assert(ts_contains(&i.ts[0], &out.i) && ts_contains(&out.i, &i.ts[0]));
	ck_assert(ts_contains(&r.ts[0], &out.r) && ts_contains(&out.r, &r.ts[0]));
	/* and the initiator accepts the answer */
	struct ike_ts_list ai, ar;
	struct ts_pair chk;
	ts_answer(&out, &ai, &ar);
	ck_assert_int_eq(ts_check_answer(&i, &r, &ai, &ar, &peer.addr, &us.addr, &chk), 0);
}
END_TEST

START_TEST(narrow_wider_offer)
{
	struct ike_ts_list i, r;
	struct ts_pair out;
	struct ts_end peer = E("10.0.1.5", 0, 0), us = E("10.0.2.7", 0, 0);
	list1(&i, T("10.0.1.0", "10.0.1.255", 0, 0, 65535));
	list1(&r, T("0.0.0.0", "255.255.255.255", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "10.0.1.5-10.0.1.5:0/0-65535");
	assert_ts(&out.r, "10.0.2.7-10.0.2.7:0/0-65535");
	/* a range that misses the host */
	list1(&i, T("10.0.1.6", "10.0.1.255", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
}
END_TEST

START_TEST(narrow_ports)
{
	struct ike_ts_list i, r;
	struct ts_pair out;
	/* our group entry: tcp to our port 22 */
	struct ts_end peer = E("10.0.1.5", IPPROTO_TCP, 0), us = E("10.0.2.7", IPPROTO_TCP, 22);
	list1(&i, T("10.0.1.5", "10.0.1.5", 0, 0, 65535));
	list1(&r, T("10.0.2.7", "10.0.2.7", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "10.0.1.5-10.0.1.5:6/0-65535");
	assert_ts(&out.r, "10.0.2.7-10.0.2.7:6/22-22");
	/* the initiator's TCP 1-1024 contains 22 */
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 1, 1024));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.r, "10.0.2.7-10.0.2.7:6/22-22");
	/* ... 80-443 does not */
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 80, 443));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
	/* OPAQUE only where any port is allowed */
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 65535, 0));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
	list1(&i, T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 65535, 0));
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 22, 22));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "10.0.1.5-10.0.1.5:6/OPAQUE");
	/* ICMP type/code as a port: echo request (8 << 8 | 0) */
	peer = E("10.0.1.5", IPPROTO_ICMP, 0);
	us = E("10.0.2.7", IPPROTO_ICMP, 0x0800);
	list1(&i, T("10.0.1.5", "10.0.1.5", IPPROTO_ICMP, 0, 65535));
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_ICMP, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	struct ksel k;
	ck_assert_int_eq(ts_to_ksel(&out, false, &k), 0);
	ck_assert_uint_eq(k.proto, IPPROTO_ICMP);
	ck_assert_uint_eq(k.sport, 8);
	ck_assert_uint_eq(k.dport, 0);
}
END_TEST

START_TEST(narrow_proto_mismatch)
{
	struct ike_ts_list i, r;
	struct ts_pair out;
	struct ts_end peer = E("10.0.1.5", IPPROTO_TCP, 0), us = E("10.0.2.7", IPPROTO_TCP, 0);
	list1(&i, T("10.0.1.5", "10.0.1.5", IPPROTO_UDP, 0, 65535));
	list1(&r, T("10.0.2.7", "10.0.2.7", IPPROTO_UDP, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
	/* our entry any, theirs UDP on one side, any on the other: aligned to UDP */
	peer = E("10.0.1.5", 0, 0);
	us = E("10.0.2.7", 0, 0);
	list1(&i, T("10.0.1.5", "10.0.1.5", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	ck_assert_uint_eq(out.i.proto, IPPROTO_UDP);
	ck_assert_uint_eq(out.r.proto, IPPROTO_UDP);
	/* TCP on one side, UDP on the other: no single selector */
	list1(&i, T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
}
END_TEST

START_TEST(narrow_family)
{
	struct ike_ts_list i, r;
	struct ts_pair out;
	struct ts_end peer = E("2001:db8::5", 0, 0), us = E("2001:db8::7", 0, 0);
	list1(&i, T("10.0.1.5", "10.0.1.5", 0, 0, 65535));
	list1(&r, T("10.0.2.7", "10.0.2.7", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
	list1(&i, T("2001:db8::", "2001:db8::ffff", 0, 0, 65535));
	list1(&r, T("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 0, 65535));
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "2001:db8::5-2001:db8::5:0/0-65535");
	/* mixed arguments */
	us = E("10.0.2.7", 0, 0);
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -EINVAL);
}
END_TEST

START_TEST(narrow_multiple)
{
	struct ike_ts_list i = { 0 }, r = { 0 };
	struct ts_pair out;
	struct ts_end peer = E("10.0.1.5", 0, 0), us = E("10.0.2.7", 0, 0);
	/* RFC 7296 §2.9: the first selectors describe the packet (TCP 10.0.1.5:40000 ->
	 * 10.0.2.7:80), the next the whole policy. The policy pair wins. */
	i.n = 3;
	i.ts[0] = T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 40000, 40000);
	i.ts[1] = T("192.168.0.0", "192.168.255.255", 0, 0, 65535);
	i.ts[2] = T("10.0.1.0", "10.0.1.255", 0, 0, 65535);
	r.n = 2;
	r.ts[0] = T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 80, 80);
	r.ts[1] = T("10.0.2.0", "10.0.2.255", 0, 0, 65535);
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "10.0.1.5-10.0.1.5:0/0-65535");
	assert_ts(&out.r, "10.0.2.7-10.0.2.7:0/0-65535");
	/* only the packet selectors fit our TCP-only entry */
	peer = E("10.0.1.5", IPPROTO_TCP, 0);
	us = E("10.0.2.7", IPPROTO_TCP, 80);
	i.ts[2].proto = IPPROTO_UDP;
	r.ts[1].proto = IPPROTO_UDP;
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), 0);
	assert_ts(&out.i, "10.0.1.5-10.0.1.5:6/40000-40000");
	assert_ts(&out.r, "10.0.2.7-10.0.2.7:6/80-80");
	/* unknown selector types were skipped by the parser; an empty list is no match */
	r.n = 0;
	ck_assert_int_eq(ts_narrow(&i, &r, &peer, &us, &out), -ENOENT);
}
END_TEST

START_TEST(check_answer)
{
	struct ike_ts_list si, sr, ai, ar;
	struct ts_pair out;
	struct ts_end l = E("10.0.1.5", 0, 0), p = E("10.0.2.7", 0, 0);
	ck_assert_int_eq(ts_build(&l, &p, &si, &sr), 0);
	/* narrowed to TCP: fine */
	list1(&ai, T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 0, 65535));
	list1(&ar, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 443, 443));
	ck_assert_int_eq(ts_check_answer(&si, &sr, &ai, &ar, &l.addr, &p.addr, &out), 0);
	/* wider than we sent */
	list1(&ar, T("10.0.2.0", "10.0.2.255", 0, 0, 65535));
	ck_assert_int_eq(ts_check_answer(&si, &sr, &ai, &ar, &l.addr, &p.addr, &out), -EINVAL);
	/* swapped sides */
	list1(&ai, T("10.0.2.7", "10.0.2.7", 0, 0, 65535));
	list1(&ar, T("10.0.1.5", "10.0.1.5", 0, 0, 65535));
	ck_assert_int_eq(ts_check_answer(&si, &sr, &ai, &ar, &l.addr, &p.addr, &out), -EINVAL);
	/* two selectors in the answer */
	list1(&ai, T("10.0.1.5", "10.0.1.5", 0, 0, 65535));
	list1(&ar, T("10.0.2.7", "10.0.2.7", 0, 0, 65535));
	ar.n = 2;
	ar.ts[1] = ar.ts[0];
	ck_assert_int_eq(ts_check_answer(&si, &sr, &ai, &ar, &l.addr, &p.addr, &out), -EINVAL);
	/* a port-specific proposal and an answer with any port: not within */
	l = E("10.0.1.5", IPPROTO_TCP, 0);
	p = E("10.0.2.7", IPPROTO_TCP, 7);
	ck_assert_int_eq(ts_build(&l, &p, &si, &sr), 0);
	list1(&ai, T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 0, 65535));
	list1(&ar, T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 0, 65535));
	ck_assert_int_eq(ts_check_answer(&si, &sr, &ai, &ar, &l.addr, &p.addr, &out), -EINVAL);
}
END_TEST

START_TEST(to_ksel)
{
	struct ts_pair p;
	struct ksel k;
	char buf[PREFIX_STRLEN];
	p.i = T("10.0.1.5", "10.0.1.5", IPPROTO_TCP, 0, 65535);
	p.r = T("10.0.2.7", "10.0.2.7", IPPROTO_TCP, 22, 22);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), 0);
	ck_assert_str_eq(prefix_str(&k.src, buf), "10.0.1.5/32");
	ck_assert_str_eq(prefix_str(&k.dst, buf), "10.0.2.7/32");
	ck_assert_uint_eq(k.proto, IPPROTO_TCP);
	ck_assert_uint_eq(k.sport, 0);
	ck_assert_uint_eq(k.dport, 22);
	/* responder's view */
	ck_assert_int_eq(ts_to_ksel(&p, false, &k), 0);
	ck_assert_str_eq(prefix_str(&k.src, buf), "10.0.2.7/32");
	ck_assert_uint_eq(k.sport, 22);
	ck_assert_uint_eq(k.dport, 0);
	/* IPv6, any */
	p.i = T("2001:db8::5", "2001:db8::5", 0, 0, 65535);
	p.r = T("2001:db8::7", "2001:db8::7", 0, 0, 65535);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), 0);
	ck_assert_str_eq(prefix_str(&k.dst, buf), "2001:db8::7/128");
	ck_assert_uint_eq(k.proto, 0);
	/* a prefix-shaped range is fine, an arbitrary range is not */
	p.i = T("2001:db8::", "2001:db8::ff", 0, 0, 65535);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), 0);
	ck_assert_str_eq(prefix_str(&k.src, buf), "2001:db8::/120");
	p.i = T("2001:db8::1", "2001:db8::ff", 0, 0, 65535);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), -EINVAL);
	/* a port range cannot be one selector; OPAQUE is any */
	p.i = T("10.0.1.5", "10.0.1.5", IPPROTO_UDP, 1000, 2000);
	p.r = T("10.0.2.7", "10.0.2.7", IPPROTO_UDP, 65535, 0);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), -EINVAL);
	p.i.sport = p.i.eport = 1000;
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), 0);
	ck_assert_uint_eq(k.sport, 1000);
	ck_assert_uint_eq(k.dport, 0);
	/* mixed families */
	p.r = T("2001:db8::7", "2001:db8::7", IPPROTO_UDP, 0, 65535);
	ck_assert_int_eq(ts_to_ksel(&p, true, &k), -EINVAL);
}
END_TEST

static Suite *ts_suite(void)
{
	Suite *s = suite_create("ts");
	TCase *tc = tcase_create("ts");
	tcase_add_test(tc, build);
	tcase_add_test(tc, narrow_exact);
	tcase_add_test(tc, narrow_wider_offer);
	tcase_add_test(tc, narrow_ports);
	tcase_add_test(tc, narrow_proto_mismatch);
	tcase_add_test(tc, narrow_family);
	tcase_add_test(tc, narrow_multiple);
	tcase_add_test(tc, check_answer);
	tcase_add_test(tc, to_ksel);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ts_suite)
