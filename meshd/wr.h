/* wr.h — the bounds-checked writer, mirror image of rd (aesthetics.md §7.7).
 *
 * A struct wr writes into a fixed caller buffer (wr_init) or into a growable heap buffer
 * it owns (wr_init_alloc; bounded by max). The first write that does not fit sets the
 * sticky overflow flag; later writes do nothing and fail too, so a builder may emit a
 * whole message and test wr_ok() once. Offsets (not pointers) name positions, because a
 * growable buffer moves. All int functions return 0 or -ENOSPC (-ENOMEM on allocation
 * failure, also sticky as overflow). */
#ifndef MESHD_WR_H
#define MESHD_WR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct wr {
	uint8_t *p;               /* borrowed (fixed) or owned (growable) */
	size_t cap, len;
	size_t max;               /* growable: the most cap may become; fixed: == cap */
	bool grow;                /* p is owned and may be reallocated */
	bool overflow;            /* sticky */
	int err;                  /* -ENOSPC or -ENOMEM once overflow is set */
};

#define WR_MUST __attribute__((warn_unused_result))

/* Fixed buffer of cap bytes (borrowed; outlives the writer). */
void wr_init(struct wr *w, void *p, size_t cap);
/* Growable buffer starting at hint bytes, never above max. 0 or -ENOMEM. */
int wr_init_alloc(struct wr *w, size_t hint, size_t max) WR_MUST;
/* Free a growable writer's buffer (no-op for fixed ones). Accepts NULL. */
void wr_fini(struct wr *w);
/* Hand a growable writer's bytes to *out (owned by the caller); the writer is left empty.
 * -ENOSPC if the writer overflowed (the buffer is freed then), -EINVAL for a fixed one. */
int wr_take(struct wr *w, struct buf *out) WR_MUST;

static inline bool wr_ok(const struct wr *w) { return !w->overflow; }
static inline size_t wr_len(const struct wr *w) { return w->len; }

int wr_u8(struct wr *w, uint8_t v);
int wr_be16(struct wr *w, uint16_t v);
int wr_be32(struct wr *w, uint32_t v);
int wr_be64(struct wr *w, uint64_t v);
int wr_bytes(struct wr *w, const void *p, size_t n);
int wr_zero(struct wr *w, size_t n);

/* Patch already-written bytes at offset at (at + width <= len, else overflow). */
int wr_put_u8(struct wr *w, size_t at, uint8_t v);
int wr_put_be16(struct wr *w, size_t at, uint16_t v);
int wr_put_be32(struct wr *w, size_t at, uint32_t v);

/* Length fields, libmnl nest_start/nest_end style: begin writes a zero placeholder and
 * returns its offset; end patches it with (w->len - from), where from is the offset the
 * length counts from (an IKE payload's length counts from its generic header). end fails
 * with -ERANGE (and overflow) if the value does not fit the field. */
size_t wr_begin_len16(struct wr *w);
int wr_end_len16(struct wr *w, size_t at, size_t from);
size_t wr_begin_len32(struct wr *w);
int wr_end_len32(struct wr *w, size_t at, size_t from);

#endif
