/* test_rd_wr.c — the bounds-checked reader and writer (aesthetics.md §7.7, §7.12):
 * boundary values for every width, sticky errors, rd_sub containment, writer overflow,
 * length patching, growable writers, owned buffers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rd.h"
#include "unit.h"
#include "wr.h"

/* Exact-size heap copy so that valgrind/ASan would catch a one-byte overread. */
static uint8_t *heap(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t seq[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

START_TEST(rd_widths_exact)
{
	struct rd r;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	uint8_t *p = heap(seq, 1);
	rd_init(&r, p, 1);
	ck_assert_int_eq(rd_u8(&r, &v8), 0);
	ck_assert_uint_eq(v8, 1);
	ck_assert(rd_done(&r));
	free(p);

	p = heap(seq, 2);
	rd_init(&r, p, 2);
	ck_assert_int_eq(rd_be16(&r, &v16), 0);
	ck_assert_uint_eq(v16, 0x0102);
	ck_assert(rd_done(&r));
	free(p);

	p = heap(seq, 4);
	rd_init(&r, p, 4);
	ck_assert_int_eq(rd_be32(&r, &v32), 0);
	ck_assert_uint_eq(v32, 0x01020304);
	ck_assert(rd_done(&r));
	free(p);

	p = heap(seq, 8);
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_be64(&r, &v64), 0);
	ck_assert(v64 == UINT64_C(0x0102030405060708));
	ck_assert(rd_done(&r));
	free(p);

	/* all-ones: the maximum of every width, no sign extension */
	rd_init(&r, ff, 8);
	ck_assert_int_eq(rd_u8(&r, &v8), 0);
	ck_assert_uint_eq(v8, 0xff);
	rd_init(&r, ff, 8);
	ck_assert_int_eq(rd_be16(&r, &v16), 0);
	ck_assert_uint_eq(v16, 0xffff);
	rd_init(&r, ff, 8);
	ck_assert_int_eq(rd_be32(&r, &v32), 0);
	ck_assert_uint_eq(v32, 0xffffffffu);
	rd_init(&r, ff, 8);
	ck_assert_int_eq(rd_be64(&r, &v64), 0);
	ck_assert(v64 == UINT64_MAX);
}
END_TEST

/* Every width with one byte too few fails, zeroes the output and sticks. */
static const size_t widths[] = { 1, 2, 4, 8 };

START_TEST(rd_widths_short)
{
	size_t w = widths[_i];
	for (size_t have = 0; have < w; have++) {
		uint8_t *p = heap(ff, have);
		struct rd r;
		rd_init(&r, p, have);
		uint8_t v8 = 7;
		uint16_t v16 = 7;
		uint32_t v32 = 7;
		uint64_t v64 = 7;
		int err;
		switch (w) {
		case 1: err = rd_u8(&r, &v8); ck_assert_uint_eq(v8, 0); break;
		case 2: err = rd_be16(&r, &v16); ck_assert_uint_eq(v16, 0); break;
		case 4: err = rd_be32(&r, &v32); ck_assert_uint_eq(v32, 0); break;
		default: err = rd_be64(&r, &v64); ck_assert(v64 == 0); break;
		}
		ck_assert_int_eq(err, -EBADMSG);
		ck_assert_int_eq(r.err, -EBADMSG);
		ck_assert_uint_eq(rd_left(&r), 0);
		ck_assert(!rd_done(&r));
		free(p);
	}
}
END_TEST

START_TEST(rd_sticky)
{
	uint8_t *p = heap(seq, 8);
	struct rd r;
	uint32_t v32;
	uint8_t v8;
	const uint8_t *b;

	rd_init(&r, p, 3);
	ck_assert_int_eq(rd_be32(&r, &v32), -EBADMSG);   /* short */
	/* every later read fails although bytes would have been there */
	ck_assert_int_eq(rd_u8(&r, &v8), -EBADMSG);
	ck_assert_uint_eq(v8, 0);
	ck_assert_int_eq(rd_bytes(&r, 0, &b), -EBADMSG);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(rd_skip(&r, 0), -EBADMSG);
	ck_assert(!rd_ok(&r));

	/* a whole fixed header read, then one test */
	rd_init(&r, p, 8);
	uint16_t a, c;
	rd_be16(&r, &a);
	rd_be32(&r, &v32);
	rd_be16(&r, &c);
	ck_assert(rd_done(&r));
	ck_assert_uint_eq(a, 0x0102);
	ck_assert_uint_eq(v32, 0x03040506);
	ck_assert_uint_eq(c, 0x0708);

	/* rd_fail marks a semantic error */
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_fail(&r), -EBADMSG);
	ck_assert_int_eq(rd_u8(&r, &v8), -EBADMSG);

	/* NULL pointer view is empty */
	rd_init(&r, NULL, 5);
	ck_assert_uint_eq(rd_left(&r), 0);
	ck_assert(rd_done(&r));
	free(p);
}
END_TEST

START_TEST(rd_sub_contained)
{
	uint8_t *p = heap(seq, 8);
	struct rd r, s, s2;
	uint8_t v8;
	uint16_t v16;
	const uint8_t *b;

	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_u8(&r, &v8), 0);
	ck_assert_int_eq(rd_sub(&r, 3, &s), 0);
	ck_assert_uint_eq(rd_left(&s), 3);
	ck_assert_uint_eq(rd_left(&r), 4);
	/* the sub-view cannot read past its 3 bytes, even though the parent has more */
	ck_assert_int_eq(rd_be16(&s, &v16), 0);
	ck_assert_uint_eq(v16, 0x0203);
	ck_assert_int_eq(rd_be16(&s, &v16), -EBADMSG);
	/* the sub-view's failure does not poison the parent */
	ck_assert(rd_ok(&r));
	ck_assert_int_eq(rd_u8(&r, &v8), 0);
	ck_assert_uint_eq(v8, 5);

	/* a sub-sub view cannot exceed its parent sub-view */
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_sub(&r, 4, &s), 0);
	ck_assert_int_eq(rd_sub(&s, 5, &s2), -EBADMSG);
	ck_assert(!rd_ok(&s2));
	ck_assert_uint_eq(rd_left(&s2), 0);
	ck_assert(!rd_ok(&s));
	ck_assert(rd_ok(&r));

	/* a sub larger than the parent fails both (parent sticky) */
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_sub(&r, 9, &s), -EBADMSG);
	ck_assert(!rd_ok(&r));
	ck_assert(!rd_ok(&s));
	ck_assert_int_eq(rd_bytes(&s, 0, &b), -EBADMSG);

	/* sub of a failed parent fails */
	ck_assert_int_eq(rd_sub(&r, 0, &s), -EBADMSG);
	ck_assert(!rd_ok(&s));

	/* an exact-size sub leaves the parent done */
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_sub(&r, 8, &s), 0);
	ck_assert(rd_done(&r));
	ck_assert_int_eq(rd_bytes(&s, 8, &b), 0);
	ck_assert_mem_eq(b, seq, 8);
	ck_assert(rd_done(&s));
	free(p);
}
END_TEST

START_TEST(rd_bytes_copy_skip)
{
	uint8_t *p = heap(seq, 8);
	struct rd r;
	const uint8_t *b;
	struct buf c;

	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_skip(&r, 2), 0);
	ck_assert_int_eq(rd_bytes(&r, 2, &b), 0);
	ck_assert_ptr_eq(b, p + 2);
	ck_assert_int_eq(rd_copy(&r, 4, &c), 0);
	ck_assert_uint_eq(c.len, 4);
	ck_assert_ptr_ne(c.p, p + 4);
	ck_assert_mem_eq(c.p, seq + 4, 4);
	ck_assert(rd_done(&r));
	buf_free(&c);
	ck_assert_ptr_null(c.p);
	ck_assert_uint_eq(c.len, 0);
	buf_free(&c);                 /* twice is fine */
	buf_free(NULL);

	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_copy(&r, 9, &c), -EBADMSG);
	ck_assert_ptr_null(c.p);
	ck_assert_uint_eq(c.len, 0);

	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_skip(&r, SIZE_MAX), -EBADMSG);
	rd_init(&r, p, 8);
	ck_assert_int_eq(rd_bytes(&r, SIZE_MAX, &b), -EBADMSG);
	free(p);
}
END_TEST

START_TEST(buf_secret)
{
	struct buf b;
	ck_assert_int_eq(buf_dup(&b, seq, 8), 0);
	ck_assert_mem_eq(b.p, seq, 8);
	buf_free_secret(&b);
	ck_assert_ptr_null(b.p);
	buf_free_secret(&b);
	buf_free_secret(NULL);
	ck_assert_int_eq(buf_dup(&b, NULL, 0), 0);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(wr_widths_exact)
{
	uint8_t out[15];
	struct wr w;
	wr_init(&w, out, sizeof(out));
	ck_assert_int_eq(wr_u8(&w, 0xff), 0);
	ck_assert_int_eq(wr_be16(&w, 0x0102), 0);
	ck_assert_int_eq(wr_be32(&w, 0xfffffffe), 0);
	ck_assert_int_eq(wr_be64(&w, UINT64_C(0x0102030405060708)), 0);
	ck_assert(wr_ok(&w));
	ck_assert_uint_eq(wr_len(&w), 15);
	static const uint8_t want[15] = { 0xff, 1, 2, 0xff, 0xff, 0xff, 0xfe,
					  1, 2, 3, 4, 5, 6, 7, 8 };
	ck_assert_mem_eq(out, want, 15);

	/* round trip through rd at the extremes */
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	wr_init(&w, out, sizeof(out));
	wr_u8(&w, 0);
	wr_be16(&w, UINT16_MAX);
	wr_be32(&w, 0);
	wr_be64(&w, UINT64_MAX);
	ck_assert(wr_ok(&w));
	struct rd r;
	rd_init(&r, out, wr_len(&w));
	rd_u8(&r, &v8);
	rd_be16(&r, &v16);
	rd_be32(&r, &v32);
	rd_be64(&r, &v64);
	ck_assert(rd_done(&r));
	ck_assert_uint_eq(v8, 0);
	ck_assert_uint_eq(v16, UINT16_MAX);
	ck_assert_uint_eq(v32, 0);
	ck_assert(v64 == UINT64_MAX);
}
END_TEST

/* Every width into a buffer one byte too small overflows, writes nothing, and sticks. */
START_TEST(wr_widths_overflow)
{
	size_t wd = widths[_i];
	uint8_t out[8];
	struct wr w;
	memset(out, 0xaa, sizeof(out));
	wr_init(&w, out, wd - 1);
	int err;
	switch (wd) {
	case 1: err = wr_u8(&w, 1); break;
	case 2: err = wr_be16(&w, 1); break;
	case 4: err = wr_be32(&w, 1); break;
	default: err = wr_be64(&w, 1); break;
	}
	ck_assert_int_eq(err, -ENOSPC);
	ck_assert(!wr_ok(&w));
	ck_assert_uint_eq(out[0], 0xaa);
	/* sticky: even a write that would fit now fails */
	ck_assert_int_eq(wr_bytes(&w, seq, 0), -ENOSPC);
	ck_assert_int_eq(wr_put_u8(&w, 0, 1), -ENOSPC);
}
END_TEST

START_TEST(wr_len_patch)
{
	uint8_t out[64];
	struct wr w;
	wr_init(&w, out, sizeof(out));
	wr_u8(&w, 0x2e);
	size_t at = wr_begin_len16(&w);
	wr_bytes(&w, seq, 5);
	ck_assert_int_eq(wr_end_len16(&w, at, 0), 0);
	ck_assert_uint_eq(out[1], 0);
	ck_assert_uint_eq(out[2], 8);              /* 1 + 2 + 5 */
	size_t at32 = wr_begin_len32(&w);
	ck_assert_int_eq(wr_end_len32(&w, at32, at32), 0);
	ck_assert_uint_eq(out[at32 + 3], 4);
	ck_assert_int_eq(wr_put_be16(&w, 3, 0xbeef), 0);
	ck_assert_uint_eq(out[3], 0xbe);
	ck_assert_int_eq(wr_put_be32(&w, 0, 0x01020304), 0);
	ck_assert_uint_eq(out[3], 4);
	/* a patch that does not lie wholly inside what was written overflows */
	ck_assert_int_eq(wr_put_be16(&w, wr_len(&w) - 1, 1), -ENOSPC);
	ck_assert(!wr_ok(&w));
	/* end_len refuses an offset outside the written data */
	wr_init(&w, out, sizeof(out));
	at = wr_begin_len16(&w);
	ck_assert_int_eq(wr_end_len16(&w, at, 3), -ERANGE);
}
END_TEST

START_TEST(wr_len16_range)
{
	struct wr w;
	ck_assert_int_eq(wr_init_alloc(&w, 16, 70000), 0);
	size_t at = wr_begin_len16(&w);
	ck_assert_int_eq(wr_zero(&w, 65533), 0);
	ck_assert_int_eq(wr_end_len16(&w, at, at), 0);    /* 65535 fits */
	ck_assert_uint_eq(w.p[0], 0xff);
	ck_assert_uint_eq(w.p[1], 0xff);
	at = 0;
	ck_assert_int_eq(wr_u8(&w, 0), 0);
	ck_assert_int_eq(wr_end_len16(&w, at, at), -ERANGE);   /* 65536 does not */
	ck_assert(!wr_ok(&w));
	wr_fini(&w);
	wr_fini(NULL);
}
END_TEST

START_TEST(wr_grow)
{
	struct wr w;
	struct buf b;
	ck_assert_int_eq(wr_init_alloc(&w, 1, 100), 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(wr_u8(&w, (uint8_t)i), 0);
	ck_assert_uint_eq(wr_len(&w), 100);
	ck_assert_int_eq(wr_u8(&w, 0), -ENOSPC);       /* max reached */
	ck_assert_int_eq(wr_take(&w, &b), -ENOSPC);
	ck_assert_ptr_null(b.p);

	ck_assert_int_eq(wr_init_alloc(&w, 0, 1000), 0);
	ck_assert_int_eq(wr_bytes(&w, seq, 8), 0);
	ck_assert_int_eq(wr_zero(&w, 900), 0);
	ck_assert_int_eq(wr_take(&w, &b), 0);
	ck_assert_uint_eq(b.len, 908);
	ck_assert_mem_eq(b.p, seq, 8);
	ck_assert_ptr_null(w.p);
	buf_free(&b);

	/* take from a fixed writer is refused */
	uint8_t out[4];
	wr_init(&w, out, sizeof(out));
	ck_assert_int_eq(wr_take(&w, &b), -EINVAL);
	wr_fini(&w);                  /* no-op for fixed */

	/* a NULL fixed buffer has no room */
	wr_init(&w, NULL, 10);
	ck_assert_int_eq(wr_u8(&w, 1), -ENOSPC);
}
END_TEST

static Suite *rd_wr_suite(void)
{
	Suite *s = suite_create("rd_wr");
	TCase *tc = tcase_create("rd");
	tcase_add_test(tc, rd_widths_exact);
	tcase_add_loop_test(tc, rd_widths_short, 0, 4);
	tcase_add_test(tc, rd_sticky);
	tcase_add_test(tc, rd_sub_contained);
	tcase_add_test(tc, rd_bytes_copy_skip);
	tcase_add_test(tc, buf_secret);
	suite_add_tcase(s, tc);
	tc = tcase_create("wr");
	tcase_add_test(tc, wr_widths_exact);
	tcase_add_loop_test(tc, wr_widths_overflow, 0, 4);
	tcase_add_test(tc, wr_len_patch);
	tcase_add_test(tc, wr_len16_range);
	tcase_add_test(tc, wr_grow);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(rd_wr_suite)
