/* ike_frag.c — the bookkeeping of RFC 7383 fragments: trains of datagrams we send and
 * the reassembly of what we receive (see ike_frag.h). No crypto, no I/O: ike_msg.c
 * protects and sends, and the fuzz target drives the reassembly directly. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_frag.h"
#include "ike_wire.h"

struct ike_frag *ike_frag_new(void)
{
	return calloc(1, sizeof(struct ike_frag));
}

void ike_frag_train_clear(struct ike_frag_train *t)
{
	for (size_t i = 0; i < t->n; i++)
		buf_free(&t->m[i]);
	free(t->m);
	t->m = NULL;
	t->n = 0;
}

void ike_frag_rx_reset(struct ike_frag_rx *rx)
{
	for (size_t i = 0; i < IKE_FRAG_MAX; i++)
		buf_free_secret(&rx->part[i]);
	buf_free(&rx->first);
	memset(rx, 0, sizeof(*rx));
}

void ike_frag_pending_clear(struct ike_frag *f)
{
	if (!f)
		return;
	buf_free_secret(&f->pending_pt);
	f->pending_p = NULL;
	f->pending_len = 0;
	f->pending_np = 0;
}

bool ike_frag_idle(const struct ike_frag *f)
{
	return !f || (f->req.n == 0 && f->resp.n == 0 && !f->pending_pt.p && !f->rx[0].active &&
		      !f->rx[1].active && !f->req_first.p);
}

void ike_frag_free(struct ike_frag *f)
{
	if (!f)
		return;
	ike_frag_train_clear(&f->req);
	ike_frag_train_clear(&f->resp);
	ike_frag_pending_clear(f);
	ike_frag_rx_reset(&f->rx[0]);
	ike_frag_rx_reset(&f->rx[1]);
	buf_free(&f->req_first);
	free(f);
}

int ike_frag_rx_add(struct ike_frag_rx *rx, uint32_t msgid, uint16_t num, uint16_t total,
		    uint8_t np, const uint8_t *chunk, size_t len, const uint8_t *raw,
		    size_t raw_len, uint64_t now_ms, uint64_t timeout_ms)
{
	if (num == 0 || total == 0 || num > total || (num > 1 && np != IKE_PL_NONE))
		return -ERANGE;
	if (total > IKE_FRAG_MAX)
		return -E2BIG;
	if (rx->active && (rx->msgid != msgid || now_ms - rx->start_ms > timeout_ms))
		ike_frag_rx_reset(rx);
	if (rx->active && total != rx->total) {
		/* §2.6.2: the sender went to smaller fragments (more of them); start over */
		if (total < rx->total)
			return -ERANGE;
		ike_frag_rx_reset(rx);
	}
	if (!rx->active) {
		rx->active = true;
		rx->msgid = msgid;
		rx->total = total;
		rx->start_ms = now_ms;
	}
	struct buf *slot = &rx->part[num - 1];
	if (slot->p || (num == 1 && rx->first.p))
		return -EALREADY;
	if (len > IKE_FRAG_BYTES_MAX - rx->bytes)
		return -E2BIG;
	/* an empty chunk is legal; keep a 1-byte allocation so the slot reads as taken */
	if (!(slot->p = malloc(len ? len : 1)))
		return -ENOMEM;
	if (len)
		memcpy(slot->p, chunk, len);
	slot->len = len;
	if (num == 1) {
		rx->first_np = np;
		if (buf_dup(&rx->first, raw, raw_len) < 0) {
			buf_free_secret(slot);
			return -ENOMEM;
		}
	}
	rx->bytes += len;
	rx->have++;
	return rx->have == rx->total ? IKE_FRAG_COMPLETE : IKE_FRAG_KEPT;
}

int ike_frag_rx_take(struct ike_frag_rx *rx, struct buf *pt, uint8_t *np, struct buf *first)
{
	*pt = (struct buf){ 0 };
	*first = (struct buf){ 0 };
	if (!rx->active || rx->have != rx->total)
		return -EINVAL;
	uint8_t *p = malloc(rx->bytes ? rx->bytes : 1);
	if (!p)
		return -ENOMEM;
	size_t at = 0;
	for (size_t i = 0; i < rx->total; i++) {
		if (rx->part[i].len)
			memcpy(p + at, rx->part[i].p, rx->part[i].len);
		at += rx->part[i].len;
	}
	pt->p = p;
	pt->len = at;
	*np = rx->first_np;
	*first = rx->first;
	rx->first = (struct buf){ 0 };
	ike_frag_rx_reset(rx);
	return 0;
}

size_t ike_frag_size(size_t override, int family)
{
	if (override)
		return override;
	return family == AF_INET6 ? IKE_FRAG_SIZE_IPV6 : IKE_FRAG_SIZE_IPV4;
}

size_t ike_frag_msg_max(size_t dgram, int family, bool natt)
{
	size_t over = (family == AF_INET6 ? 40 : 20) + 8 + (natt ? 4 : 0);
	return dgram > over ? dgram - over : 0;
}

size_t ike_frag_chunk(size_t msg_max, size_t iv, size_t icv, size_t block)
{
	/* HDR (28) | SKF header (8) | IV | chunk | padding | pad length | ICV */
	size_t over = IKE_HDR_LEN + IKE_GEN_HDR_LEN + 4 + iv + icv;
	if (block == 0 || msg_max <= over)
		return 0;
	size_t room = (msg_max - over) / block * block;    /* chunk + padding + 1 */
	return room ? room - 1 : 0;
}
