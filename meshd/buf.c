/* buf.c — owned byte buffers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int buf_dup(struct buf *out, const void *p, size_t len)
{
	out->p = malloc(len ? len : 1);
	if (!out->p) {
		out->len = 0;
		return -ENOMEM;
	}
	if (len)
		memcpy(out->p, p, len);
	out->len = len;
	return 0;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

void buf_free_secret(struct buf *b)
{
	if (!b)
		return;
	if (b->p)
		explicit_bzero(b->p, b->len);
	buf_free(b);
}
