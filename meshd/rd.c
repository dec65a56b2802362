/* rd.c — bounds-checked reader; see rd.h for the contract. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rd.h"

int rd_fail(struct rd *r)
{
	if (!r->err)
		r->err = -EBADMSG;
	r->len = 0;
	return r->err;
}

/* Take n bytes from the front of the view, or fail (sticky). */
static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->err || n > r->len) {
		rd_fail(r);
		return NULL;
	}
	const uint8_t *q = r->p;
	r->p += n;
	r->len -= n;
	return q;
}

int rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *q = take(r, 1);
	*v = q ? q[0] : 0;
	return r->err;
}

int rd_be16(struct rd *r, uint16_t *v)
{
	const uint8_t *q = take(r, 2);
	*v = q ? (uint16_t)(q[0] << 8 | q[1]) : 0;
	return r->err;
}

int rd_be32(struct rd *r, uint32_t *v)
{
	const uint8_t *q = take(r, 4);
	*v = q ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3] : 0;
	return r->err;
}

int rd_be64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;
	rd_be32(r, &hi);
	rd_be32(r, &lo);
	*v = r->err ? 0 : (uint64_t)hi << 32 | lo;
	return r->err;
}

int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	*out = take(r, n);
	return r->err;
}

int rd_copy(struct rd *r, size_t n, struct buf *out)
{
	const uint8_t *q = take(r, n);
	out->p = NULL;
	out->len = 0;
	if (!q)
		return r->err;
	if (buf_dup(out, q, n) < 0) {
		r->err = -ENOMEM;
		r->len = 0;
	}
	return r->err;
}

int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *q = take(r, n);
	sub->p = q;
	sub->len = q ? n : 0;
	sub->err = q ? 0 : -EBADMSG;
	return r->err;
}

int rd_skip(struct rd *r, size_t n)
{
	take(r, n);
	return r->err;
}
