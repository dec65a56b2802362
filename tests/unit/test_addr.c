/* test_addr.c — numeric address and prefix parsing/formatting. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "unit.h"

START_TEST(parse_v4_v6)
{
	struct prefix p;
	char buf[PREFIX_STRLEN];
	ck_assert(prefix_parse("10.1.2.0/24", &p, false, NULL));
	ck_assert_str_eq(prefix_str(&p, buf), "10.1.2.0/24");
	ck_assert(prefix_parse("10.1.2.3", &p, false, NULL));
	ck_assert_str_eq(prefix_str(&p, buf), "10.1.2.3/32");
	ck_assert(prefix_parse("2001:db8::/32", &p, false, NULL));
	ck_assert_str_eq(prefix_str(&p, buf), "2001:db8::/32");
	ck_assert(prefix_parse("::1", &p, false, NULL));
	ck_assert_uint_eq(p.len, 128);
	ck_assert(prefix_parse("0.0.0.0/0", &p, false, NULL));
	ck_assert_uint_eq(p.len, 0);
}
END_TEST

START_TEST(parse_rejects)
{
	struct prefix p;
	static const char *const bad[] = {
		"", "10.1.2", "10.1.2.3/33", "10.1.2.3/", "10.1.2.3/-1", "host.example",
		"10.1.2.0/024", "2001:db8::/129", "10.1.2.3/24x", "1.2.3.4 ", "::g",
		"10.1.2.3/24",       /* host bits set */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!prefix_parse(bad[i], &p, false, NULL), "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(host_bits_zeroed)
{
	struct prefix p;
	bool had;
	char buf[PREFIX_STRLEN];
	ck_assert(prefix_parse("10.1.2.3/24", &p, true, &had));
	ck_assert(had);
	ck_assert_str_eq(prefix_str(&p, buf), "10.1.2.0/24");
	ck_assert(prefix_parse("2001:db8::1/64", &p, true, &had));
	ck_assert(had);
	ck_assert_str_eq(prefix_str(&p, buf), "2001:db8::/64");
	ck_assert(prefix_parse("10.1.3.0/23", &p, true, &had));
	ck_assert(had);
	ck_assert_str_eq(prefix_str(&p, buf), "10.1.2.0/23");
}
END_TEST

START_TEST(contains)
{
	struct prefix p;
	struct addr a;
	ck_assert(prefix_parse("10.15.0.0/16", &p, false, NULL));
	ck_assert(addr_parse("10.15.200.1", &a));
	ck_assert(prefix_contains(&p, &a));
	ck_assert(addr_parse("10.16.0.1", &a));
	ck_assert(!prefix_contains(&p, &a));
	ck_assert(addr_parse("::ffff:10.15.0.1", &a));
	ck_assert(!prefix_contains(&p, &a));   /* other family */
	ck_assert(prefix_parse("10.0.0.0/9", &p, false, NULL));
	ck_assert(addr_parse("10.127.255.255", &a));
	ck_assert(prefix_contains(&p, &a));
	ck_assert(addr_parse("10.128.0.0", &a));
	ck_assert(!prefix_contains(&p, &a));
	ck_assert(prefix_parse("0.0.0.0/0", &p, false, NULL));
	ck_assert(prefix_contains(&p, &a));
}
END_TEST

START_TEST(sockaddr_roundtrip)
{
	struct addr a, b;
	struct sockaddr_storage ss;
	uint16_t port;
	ck_assert(addr_parse("2001:db8::7", &a));
	addr_to_sockaddr(&a, 4500, &ss);
	addr_from_sockaddr((struct sockaddr *)&ss, &b, &port);
	ck_assert(addr_eq(&a, &b));
	ck_assert_uint_eq(port, 4500);
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	tcase_add_test(tc, parse_v4_v6);
	tcase_add_test(tc, parse_rejects);
	tcase_add_test(tc, host_bits_zeroed);
	tcase_add_test(tc, contains);
	tcase_add_test(tc, sockaddr_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(addr_suite)
