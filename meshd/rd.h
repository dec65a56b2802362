/* rd.h — the bounds-checked reader for every untrusted byte (aesthetics.md §7.7).
 *
 * A struct rd is a borrowed view of len bytes at p; it is never freed. Every read checks
 * "n > r->len" (never pointer arithmetic past the end). The first failure is sticky: it
 * sets r->err = -EBADMSG and r->len = 0, zeroes the output, and every later read fails
 * too, so a decoder may read a whole fixed header and test once (rd_ok/rd_done) at the
 * end. All functions return 0 or r->err. */
#ifndef MESHD_RD_H
#define MESHD_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rd {
	const uint8_t *p;         /* borrowed */
	size_t len;               /* bytes left */
	int err;                  /* 0, or the first error (sticky) */
};

#define RD_MUST __attribute__((warn_unused_result))

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->err = 0;
}

int rd_u8(struct rd *r, uint8_t *v);
int rd_be16(struct rd *r, uint16_t *v);
int rd_be32(struct rd *r, uint32_t *v);
int rd_be64(struct rd *r, uint64_t *v);
/* Borrow n bytes (*out points into the view; NULL on failure). */
int rd_bytes(struct rd *r, size_t n, const uint8_t **out);
/* Copy n bytes into a new owned buffer: the only allocating read (-ENOMEM is sticky too). */
int rd_copy(struct rd *r, size_t n, struct buf *out) RD_MUST;
/* Carve the next n bytes off as a nested view. The sub-view can never reach past them;
 * on failure (or if r has already failed) *sub is an empty view in error. */
int rd_sub(struct rd *r, size_t n, struct rd *sub);
int rd_skip(struct rd *r, size_t n);
/* Mark the view as failed (a decoder found a semantic error in what it read). */
int rd_fail(struct rd *r);

static inline size_t rd_left(const struct rd *r) { return r->len; }
static inline bool rd_ok(const struct rd *r) { return r->err == 0; }
/* Fully consumed and no error. */
static inline bool rd_done(const struct rd *r) { return r->err == 0 && r->len == 0; }

#endif
