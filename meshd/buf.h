/* buf.h — an owned byte buffer (aesthetics.md §7.6).
 *
 * struct buf owns p (malloc'd); struct rd (rd.h) is the borrowed read-only view. Both free
 * functions accept a NULL buf or an empty one and leave it empty, so a buf can be freed twice. */
#ifndef MESHD_BUF_H
#define MESHD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;               /* owned; NULL when len == 0 is allowed */
	size_t len;
};

/* Copy len bytes of p into a new buffer (owned by *out). 0 or -ENOMEM. A zero-length copy
 * still allocates one byte, so out->p is never NULL after success. */
int buf_dup(struct buf *out, const void *p, size_t len) __attribute__((warn_unused_result));
/* Free and empty. */
void buf_free(struct buf *b);
/* Zero the contents (explicit_bzero), then free and empty: for keys, nonces, DH secrets. */
void buf_free_secret(struct buf *b);

#endif
