/* test_sa.c — the SA table's indexes (sa.c): lookups by serial, initiator SPI, host pair
 * and peer address, and the half-open count, after inserts, deletes, re-keys of the
 * indexed fields and the rehashes that thousands of entries cause, checked against a scan
 * of the table in serial order (what the lookups did before they were indexed). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sa.h"
#include "unit.h"

static struct addr addr_n(unsigned n, bool v6)
{
	struct addr a = { .family = v6 ? AF_INET6 : AF_INET };
	a.b[0] = 10;
	a.b[1] = (uint8_t)(n >> 16);
	a.b[2] = (uint8_t)(n >> 8);
	a.b[3] = (uint8_t)n;
	return a;
}

/* ---- the reference: scans in serial order ---- */

static struct ike_sa *scan_spi(const struct sa_table *t, uint64_t spi_i, uint64_t spi_r,
			       bool we_initiated)
{
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(t, i)); i++)
		if (sa->initiator == we_initiated && sa->spi_i == spi_i && sa->state != IKES_DEAD &&
		    (sa->spi_r == spi_r || (we_initiated && sa->spi_r == 0)))
			return sa;
	return NULL;
}

static struct ike_sa *scan_half_open(const struct sa_table *t, uint64_t spi_i,
				     const struct addr *peer)
{
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(t, i)); i++)
		if (!sa->initiator && sa->spi_i == spi_i && addr_eq(&sa->peer, peer) &&
		    sa->state != IKES_DEAD)
			return sa;
	return NULL;
}

static struct ike_sa *scan_pair(const struct sa_table *t, const struct addr *l,
				const struct addr *p)
{
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(t, i)); i++)
		if (sa->state != IKES_DEAD && sa->state != IKES_DELETING &&
		    addr_eq(&sa->peer, p) && addr_eq(&sa->local, l))
			return sa;
	return NULL;
}

static size_t scan_half_open_count(const struct sa_table *t)
{
	size_t n = 0;
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(t, i)); i++)
		n += !sa->initiator && sa->state == IKES_R_SA_INIT;
	return n;
}

/* The peer iterators return exactly the scan's SAs with that peer, in serial order. */
static void check_peer_iter(const struct sa_table *t, const struct addr *p)
{
	struct ike_sa *want, *got = sa_ike_peer_next(t, p, 0);
	for (size_t i = 0; (want = sa_ike_at(t, i)); i++) {
		if (!addr_eq(&want->peer, p))
			continue;
		ck_assert_ptr_eq(got, want);
		got = sa_ike_peer_next(t, p, got->serial);
	}
	ck_assert_ptr_null(got);
	struct child_sa *cw, *cg = sa_child_peer_next(t, p, 0);
	for (size_t i = 0; (cw = sa_child_at(t, i)); i++) {
		if (!addr_eq(&cw->peer, p))
			continue;
		ck_assert_ptr_eq(cg, cw);
		cg = sa_child_peer_next(t, p, cg->serial);
	}
	ck_assert_ptr_null(cg);
}

START_TEST(basic)
{
	struct sa_table *t = sa_table_new();
	ck_assert_ptr_nonnull(t);
	struct addr l = addr_n(1, false), p = addr_n(2, false), q = addr_n(3, false);
	struct ike_sa *a = sa_ike_new(t), *b = sa_ike_new(t);
	sa_ike_set_spi_i(t, a, 0x1111);
	sa_ike_set_addrs(t, a, &l, &p);
	b->initiator = true;
	sa_ike_set_spi_i(t, b, 0x2222);
	sa_ike_set_addrs(t, b, &l, &q);
	ck_assert_ptr_eq(sa_ike_half_open(t, 0x1111, &p), a);
	ck_assert_ptr_null(sa_ike_half_open(t, 0x1111, &q));
	ck_assert_ptr_eq(sa_ike_by_spi(t, 0x2222, 0x99, true), b);   /* spi_r still 0 */
	ck_assert_ptr_null(sa_ike_by_spi(t, 0x2222, 0x99, false));
	ck_assert_ptr_eq(sa_ike_by_pair(t, &l, &q), b);
	sa_ike_set_state(t, a, IKES_R_SA_INIT);
	ck_assert_uint_eq(sa_ike_half_open_count(t), 1);
	/* a changed key: found under the new one only */
	sa_ike_set_spi_i(t, a, 0x3333);
	ck_assert_ptr_null(sa_ike_half_open(t, 0x1111, &p));
	ck_assert_ptr_eq(sa_ike_half_open(t, 0x3333, &p), a);
	sa_ike_set_addrs(t, a, &l, &q);
	ck_assert_ptr_null(sa_ike_by_pair(t, &l, &p));
	ck_assert_ptr_eq(sa_ike_peer_next(t, &q, 0), a);
	ck_assert_ptr_eq(sa_ike_peer_next(t, &q, a->serial), b);
	/* lookups after a delete */
	uint32_t as = a->serial;
	sa_ike_free(t, a);
	ck_assert_uint_eq(sa_ike_half_open_count(t), 0);
	ck_assert_ptr_null(sa_ike_by_serial(t, as));
	ck_assert_ptr_null(sa_ike_half_open(t, 0x3333, &q));
	ck_assert_ptr_eq(sa_ike_peer_next(t, &q, 0), b);
	ck_assert_ptr_eq(sa_ike_by_serial(t, b->serial), b);
	struct child_sa *c = sa_child_new(t, b->serial);
	sa_child_set_addrs(t, c, &l, &q);
	ck_assert_ptr_eq(sa_child_peer_next(t, &q, 0), c);
	ck_assert_ptr_eq(sa_child_by_serial(t, c->serial), c);
	sa_child_free(t, c);
	ck_assert_ptr_null(sa_child_peer_next(t, &q, 0));
	sa_table_free(t);
}
END_TEST

/* Random inserts, deletes, key changes and state changes with few distinct keys (long
 * chains, SPI collisions across peers) and many entries (rehashes), each step checked
 * against the scans. */
static void differential(unsigned seed, size_t steps, size_t max_live, unsigned n_keys)
{
	srand(seed);
	struct sa_table *t = sa_table_new();
	ck_assert_ptr_nonnull(t);
	struct addr l = addr_n(0, false);
	for (size_t step = 0; step < steps; step++) {
		int op = rand() % 10;
		size_t n = sa_ike_count(t);
		if (op < 4 && n < max_live) {
			struct ike_sa *sa = sa_ike_new(t);
			ck_assert_ptr_nonnull(sa);
			sa->initiator = rand() % 2;
			sa_ike_set_spi_i(t, sa, (uint64_t)(rand() % n_keys));
			sa->spi_r = (uint64_t)(rand() % 3);
			struct addr p = addr_n((unsigned)(rand() % n_keys) + 1, rand() % 4 == 0);
			sa_ike_set_addrs(t, sa, &l, &p);
			if (rand() % 2) {
				struct child_sa *c = sa_child_new(t, sa->serial);
				ck_assert_ptr_nonnull(c);
				sa_child_set_addrs(t, c, &l, &p);
			}
		} else if (op < 6 && n) {
			struct ike_sa *sa = sa_ike_at(t, (size_t)rand() % n);
			sa_ike_free(t, sa);
			size_t nc = sa_child_count(t);
			if (nc)
				sa_child_free(t, sa_child_at(t, (size_t)rand() % nc));
		} else if (op < 8 && n) {
			struct ike_sa *sa = sa_ike_at(t, (size_t)rand() % n);
			sa_ike_set_state(t, sa, (enum ike_state)(rand() % IKES__COUNT));
		} else if (n) {
			struct ike_sa *sa = sa_ike_at(t, (size_t)rand() % n);
			if (rand() % 2) {
				sa_ike_set_spi_i(t, sa, (uint64_t)(rand() % n_keys));
			} else {
				struct addr p = addr_n((unsigned)(rand() % n_keys) + 1, false);
				sa_ike_set_addrs(t, sa, &l, &p);
			}
		}
		ck_assert_uint_eq(sa_ike_half_open_count(t), scan_half_open_count(t));
		/* a few random probes per step, hits and misses */
		for (int k = 0; k < 3; k++) {
			uint64_t spi = (uint64_t)(rand() % (n_keys + 2));
			uint64_t spi_r = (uint64_t)(rand() % 3);
			struct addr p = addr_n((unsigned)(rand() % (n_keys + 2)), rand() % 4 == 0);
			bool wi = rand() % 2;
			ck_assert_ptr_eq(sa_ike_by_spi(t, spi, spi_r, wi), scan_spi(t, spi, spi_r, wi));
			ck_assert_ptr_eq(sa_ike_half_open(t, spi, &p), scan_half_open(t, spi, &p));
			ck_assert_ptr_eq(sa_ike_by_pair(t, &l, &p), scan_pair(t, &l, &p));
			check_peer_iter(t, &p);
			uint32_t s = (uint32_t)rand() % (sa_next_serial(t) + 1);
			struct ike_sa *want = NULL, *sa;
			for (size_t i = 0; (sa = sa_ike_at(t, i)); i++)
				if (sa->serial == s)
					want = sa;
			ck_assert_ptr_eq(sa_ike_by_serial(t, s), want);
		}
	}
	/* empty it in random order: every lookup misses at the end */
	while (sa_ike_count(t))
		sa_ike_free(t, sa_ike_at(t, (size_t)rand() % sa_ike_count(t)));
	while (sa_child_count(t))
		sa_child_free(t, sa_child_at(t, 0));
	for (unsigned k = 0; k < n_keys + 2; k++) {
		struct addr p = addr_n(k, false);
		ck_assert_ptr_null(sa_ike_by_spi(t, k, 0, true));
		ck_assert_ptr_null(sa_ike_peer_next(t, &p, 0));
		ck_assert_ptr_null(sa_child_peer_next(t, &p, 0));
	}
	ck_assert_uint_eq(sa_ike_half_open_count(t), 0);
	sa_table_free(t);
}

START_TEST(differential_few_keys)
{
	differential(1, 20000, 200, 7);
}
END_TEST

START_TEST(differential_rehash)
{
	/* grows well past the first 64 buckets several times, then shrinks */
	differential(2, 12000, 5000, 4000);
}
END_TEST

static Suite *sa_suite(void)
{
	Suite *s = suite_create("sa");
	TCase *tc = tcase_create("index");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, basic);
	tcase_add_test(tc, differential_few_keys);
	tcase_add_test(tc, differential_rehash);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sa_suite)
