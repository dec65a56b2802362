/* wr.c — bounds-checked writer; see wr.h for the contract. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wr.h"

static int fail(struct wr *w, int err)
{
	if (!w->overflow) {
		w->overflow = true;
		w->err = err;
	}
	return w->err;
}

void wr_init(struct wr *w, void *p, size_t cap)
{
	*w = (struct wr){ .p = p, .cap = p ? cap : 0, .max = p ? cap : 0 };
}

int wr_init_alloc(struct wr *w, size_t hint, size_t max)
{
	if (hint > max)
		hint = max;
	*w = (struct wr){ .grow = true, .max = max };
	w->p = malloc(hint ? hint : 1);
	if (!w->p)
		return fail(w, -ENOMEM);
	w->cap = hint;
	return 0;
}

void wr_fini(struct wr *w)
{
	if (!w || !w->grow)
		return;
	free(w->p);
	w->p = NULL;
	w->cap = w->len = 0;
}

int wr_take(struct wr *w, struct buf *out)
{
	out->p = NULL;
	out->len = 0;
	if (!w->grow)
		return -EINVAL;
	if (w->overflow) {
		int err = w->err;
		wr_fini(w);
		return err;
	}
	out->p = w->p;
	out->len = w->len;
	w->p = NULL;
	w->cap = w->len = 0;
	return 0;
}

/* Make room for n more bytes; returns the offset to write at, or fails (sticky). */
static int room(struct wr *w, size_t n)
{
	if (w->overflow)
		return w->err;
	if (n <= w->cap - w->len)
		return 0;
	if (!w->grow || n > w->max - w->len)
		return fail(w, -ENOSPC);
	size_t want = w->len + n, cap = w->cap ? w->cap : 64;
	while (cap < want)
		cap = cap > w->max / 2 ? w->max : cap * 2;
	uint8_t *np = realloc(w->p, cap ? cap : 1);
	if (!np)
		return fail(w, -ENOMEM);
	w->p = np;
	w->cap = cap;
	return 0;
}

int wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (room(w, n))
		return w->err;
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
	return 0;
}

int wr_zero(struct wr *w, size_t n)
{
	if (room(w, n))
		return w->err;
	if (n)
		memset(w->p + w->len, 0, n);
	w->len += n;
	return 0;
}

int wr_u8(struct wr *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

int wr_be16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };
	return wr_bytes(w, b, sizeof(b));
}

int wr_be32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
	return wr_bytes(w, b, sizeof(b));
}

int wr_be64(struct wr *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	return wr_bytes(w, b, sizeof(b));
}

/* Patching: the target must lie wholly inside what was written. */
static uint8_t *at_ptr(struct wr *w, size_t at, size_t n)
{
	if (w->overflow || at > w->len || n > w->len - at) {
		fail(w, -ENOSPC);
		return NULL;
	}
	return w->p + at;
}

int wr_put_u8(struct wr *w, size_t at, uint8_t v)
{
	uint8_t *q = at_ptr(w, at, 1);
	if (q)
		q[0] = v;
	return q ? 0 : w->err;
}

int wr_put_be16(struct wr *w, size_t at, uint16_t v)
{
	uint8_t *q = at_ptr(w, at, 2);
	if (q) {
		q[0] = v >> 8;
		q[1] = v;
	}
	return q ? 0 : w->err;
}

int wr_put_be32(struct wr *w, size_t at, uint32_t v)
{
	uint8_t *q = at_ptr(w, at, 4);
	if (q) {
		q[0] = v >> 24;
		q[1] = v >> 16;
		q[2] = v >> 8;
		q[3] = v;
	}
	return q ? 0 : w->err;
}

size_t wr_begin_len16(struct wr *w)
{
	size_t at = w->len;
	wr_be16(w, 0);
	return at;
}

size_t wr_begin_len32(struct wr *w)
{
	size_t at = w->len;
	wr_be32(w, 0);
	return at;
}

static int end_len(struct wr *w, size_t at, size_t from, size_t width, uint64_t lim)
{
	if (w->overflow)
		return w->err;
	if (from > w->len || w->len - from > lim)
		return fail(w, -ERANGE);
	size_t v = w->len - from;
	return width == 2 ? wr_put_be16(w, at, (uint16_t)v) : wr_put_be32(w, at, (uint32_t)v);
}

int wr_end_len16(struct wr *w, size_t at, size_t from)
{
	return end_len(w, at, from, 2, UINT16_MAX);
}

int wr_end_len32(struct wr *w, size_t at, size_t from)
{
	return end_len(w, at, from, 4, UINT32_MAX);
}
