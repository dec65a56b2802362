/* test_lpm.c — the LPM trie: fixed cases, then a randomised differential test against a
 * naive list (as WireGuard's allowedips selftest does), for IPv4 and IPv6. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "lpm.h"
#include "unit.h"

static struct prefix P(const char *s)
{
	struct prefix p;
	ck_assert_msg(prefix_parse(s, &p, false, NULL), "bad prefix %s", s);
	return p;
}

static struct addr A(const char *s)
{
	struct addr a;
	ck_assert_msg(addr_parse(s, &a), "bad addr %s", s);
	return a;
}

static int vals[64];
#define V(i) ((void *)&vals[i])

START_TEST(basic_v4)
{
	struct lpm *t = lpm_new(AF_INET);
	ck_assert_ptr_nonnull(t);
	unsigned len = 99;
	struct addr a = A("10.1.2.3");
	ck_assert_ptr_null(lpm_lookup(t, &a, &len));
	struct prefix p1 = P("10.0.0.0/8"), p2 = P("10.1.2.0/24"), p3 = P("10.1.2.3/32"),
		      p4 = P("0.0.0.0/0"), p5 = P("10.1.3.0/24");
	ck_assert_int_eq(lpm_insert(t, &p2, V(2)), 0);
	ck_assert_int_eq(lpm_insert(t, &p1, V(1)), 0);   /* ancestor after descendant */
	ck_assert_int_eq(lpm_insert(t, &p3, V(3)), 0);
	ck_assert_int_eq(lpm_insert(t, &p5, V(5)), 0);   /* sibling: glue node at /23 */
	ck_assert_uint_eq(lpm_count(t), 4);
	ck_assert_ptr_eq(lpm_lookup(t, &a, &len), V(3));
	ck_assert_uint_eq(len, 32);
	a = A("10.1.2.4");
	ck_assert_ptr_eq(lpm_lookup(t, &a, &len), V(2));
	ck_assert_uint_eq(len, 24);
	a = A("10.1.3.200");
	ck_assert_ptr_eq(lpm_lookup(t, &a, &len), V(5));
	a = A("10.200.0.1");
	ck_assert_ptr_eq(lpm_lookup(t, &a, &len), V(1));
	ck_assert_uint_eq(len, 8);
	a = A("11.0.0.1");
	ck_assert_ptr_null(lpm_lookup(t, &a, NULL));
	/* glue nodes (10.1.2.0/23) are not values */
	struct prefix glue = P("10.1.2.0/23");
	ck_assert_ptr_null(lpm_exact(t, &glue));
	ck_assert_int_eq(lpm_insert(t, &p4, V(4)), 0);
	ck_assert_ptr_eq(lpm_lookup(t, &a, &len), V(4));
	ck_assert_uint_eq(len, 0);
	/* replace */
	ck_assert_int_eq(lpm_insert(t, &p2, V(6)), 0);
	ck_assert_uint_eq(lpm_count(t), 5);
	ck_assert_ptr_eq(lpm_exact(t, &p2), V(6));
	/* a glue node becomes a value */
	ck_assert_int_eq(lpm_insert(t, &glue, V(7)), 0);
	ck_assert_uint_eq(lpm_count(t), 6);
	ck_assert_ptr_eq(lpm_exact(t, &glue), V(7));
	a = A("10.1.3.0");
	ck_assert_ptr_eq(lpm_lookup(t, &a, NULL), V(5));
	/* wrong family / bad input */
	struct prefix v6 = P("2001:db8::/32");
	ck_assert_int_eq(lpm_insert(t, &v6, V(1)), -EINVAL);
	ck_assert_int_eq(lpm_insert(t, &p1, NULL), -EINVAL);
	a = A("2001:db8::1");
	ck_assert_ptr_null(lpm_lookup(t, &a, NULL));
	ck_assert_ptr_null(lpm_exact(t, &v6));
	lpm_free(t);
	lpm_free(NULL);
	ck_assert_ptr_null(lpm_new(AF_UNIX));
}
END_TEST

static bool collect(void *value, unsigned len, void *arg)
{
	unsigned *out = arg;
	out[out[0] + 1] = len;
	out[0]++;
	return value == V(9);
}

START_TEST(walk_up_order)
{
	struct lpm *t = lpm_new(AF_INET6);
	const char *ps[] = { "::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64",
			     "2001:db8:1:2::5/128", "2001:db8:2::/48" };
	for (unsigned i = 0; i < 6; i++) {
		struct prefix p = P(ps[i]);
		ck_assert_int_eq(lpm_insert(t, &p, V(i)), 0);
	}
	unsigned got[16] = { 0 };
	struct addr a = A("2001:db8:1:2::5");
	ck_assert_ptr_null(lpm_walk_up(t, &a, collect, got));
	ck_assert_uint_eq(got[0], 5);
	unsigned want[] = { 128, 64, 48, 32, 0 };
	for (unsigned i = 0; i < 5; i++)
		ck_assert_uint_eq(got[i + 1], want[i]);
	/* stop early: fn returns true at the /48 */
	struct prefix p48 = P("2001:db8:1::/48");
	ck_assert_int_eq(lpm_insert(t, &p48, V(9)), 0);
	memset(got, 0, sizeof(got));
	ck_assert_ptr_eq(lpm_walk_up(t, &a, collect, got), V(9));
	ck_assert_uint_eq(got[0], 3);
	/* ::/0 and the /128 at the extremes */
	a = A("::1");
	memset(got, 0, sizeof(got));
	lpm_walk_up(t, &a, collect, got);
	ck_assert_uint_eq(got[0], 1);
	ck_assert_uint_eq(got[1], 0);
	lpm_free(t);
}
END_TEST

/* ---- differential test ------------------------------------------------------------ */

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: fixed seeds keep failures reproducible */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

struct naive {
	struct prefix p;
	void *v;
};

static void rand_addr(uint64_t *s, int family, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	for (size_t i = 0; i < addr_len(family); i++)
		a->b[i] = (uint8_t)rnd(s);
	/* cluster the addresses so that prefixes nest and share long common parts */
	a->b[0] = (uint8_t)(rnd(s) % 4);
	if (family == AF_INET6 && rnd(s) % 2)
		a->b[1] = a->b[2] = 0xdb;
}

static void differential(int family, uint64_t seed, unsigned n_prefix, unsigned n_lookup)
{
	uint64_t s = seed;
	unsigned bits = addr_bits(family);
	struct lpm *t = lpm_new(family);
	struct naive *list = calloc(n_prefix, sizeof(*list));
	int *payload = calloc(n_prefix, sizeof(*payload));
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(list);
	size_t n = 0;
	for (unsigned i = 0; i < n_prefix; i++) {
		struct prefix p;
		/* sometimes re-insert an existing prefix (replace) */
		if (n && rnd(&s) % 8 == 0) {
			p = list[rnd(&s) % n].p;
		} else {
			rand_addr(&s, family, &p.a);
			unsigned r = (unsigned)(rnd(&s) % 10);
			p.len = (uint8_t)(r < 3 ? bits : r < 5 ? rnd(&s) % 9 : rnd(&s) % (bits + 1));
			prefix_mask(&p);
		}
		void *v = &payload[i];
		ck_assert_int_eq(lpm_insert(t, &p, v), 0);
		size_t k;
		for (k = 0; k < n; k++)
			if (prefix_cmp(&list[k].p, &p) == 0)
				break;
		if (k == n)
			list[n++].p = p;
		list[k].v = v;
	}
	ck_assert_uint_eq(lpm_count(t), n);
	for (size_t k = 0; k < n; k++)
		ck_assert_ptr_eq(lpm_exact(t, &list[k].p), list[k].v);

	for (unsigned i = 0; i < n_lookup; i++) {
		struct addr a;
		if (i % 2) {
			rand_addr(&s, family, &a);
		} else {
			/* inside a known prefix, random host bits */
			const struct prefix *base = &list[rnd(&s) % n].p;
			rand_addr(&s, family, &a);
			for (unsigned b = 0; b < base->len; b++) {
				unsigned byte = b / 8, m = 0x80u >> (b % 8);
				a.b[byte] = (uint8_t)((a.b[byte] & ~m) | (base->a.b[byte] & m));
			}
		}
		const struct naive *best = NULL;
		for (size_t k = 0; k < n; k++)
			if (prefix_contains(&list[k].p, &a) && (!best || list[k].p.len > best->p.len))
				best = &list[k];
		unsigned len = 999;
		void *got = lpm_lookup(t, &a, &len);
		if (!best) {
			ck_assert_ptr_null(got);
		} else {
			ck_assert_ptr_eq(got, best->v);
			ck_assert_uint_eq(len, best->p.len);
		}
		/* walk_up sees every containing prefix, longest first */
		unsigned seen[200] = { 0 };
		lpm_walk_up(t, &a, collect, seen);
		unsigned want = 0;
		for (size_t k = 0; k < n; k++)
			want += prefix_contains(&list[k].p, &a);
		ck_assert_uint_eq(seen[0], want);
		for (unsigned k = 1; k < seen[0]; k++)
			ck_assert_uint_gt(seen[k], seen[k + 1]);
		/* exact on a random prefix of a */
		struct prefix q = { a, (uint8_t)(rnd(&s) % (bits + 1)) };
		prefix_mask(&q);
		const struct naive *ex = NULL;
		for (size_t k = 0; k < n; k++)
			if (prefix_cmp(&list[k].p, &q) == 0)
				ex = &list[k];
		ck_assert_ptr_eq(lpm_exact(t, &q), ex ? ex->v : NULL);
	}
	lpm_free(t);
	free(list);
	free(payload);
}

START_TEST(differential_v4)
{
	differential(AF_INET, 0x1234567887654321ull, 3000, 20000);
	differential(AF_INET, 42, 200, 5000);
	differential(AF_INET, 7, 5000, 10000);
}
END_TEST

START_TEST(differential_v6)
{
	differential(AF_INET6, 0xdeadbeefcafef00dull, 3000, 20000);
	differential(AF_INET6, 99, 200, 5000);
	differential(AF_INET6, 12345, 5000, 10000);
}
END_TEST

static Suite *lpm_suite(void)
{
	Suite *s = suite_create("lpm");
	TCase *tc = tcase_create("lpm");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, basic_v4);
	tcase_add_test(tc, walk_up_order);
	tcase_add_test(tc, differential_v4);
	tcase_add_test(tc, differential_v6);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(lpm_suite)
