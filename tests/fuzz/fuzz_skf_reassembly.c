/* fuzz_skf_reassembly.c — RFC 7383 reassembly (ike_frag_rx_add / ike_frag_rx_take) from
 * arbitrary fragment sequences. The input is a list of records
 *
 *   num (1) | total (1) | np (1) | msgid (1) | advance ms / 256 (1) | len (2) | bytes
 *
 * fed to one reassembly slot as the decrypted content of each fragment (the integrity
 * check is ike_msg.c's and is not what is tested here). Checked: the limits hold (never
 * more than IKE_FRAG_MAX parts or IKE_FRAG_BYTES_MAX bytes), a completed message is
 * exactly the chunks in fragment-number order, and ASan/LSan see no overreach or leak. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_frag.h"
#include "ike_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_frag_rx rx = { 0 };
	/* a model of what the slot should hold: chunk copies by number */
	static uint8_t model[IKE_FRAG_MAX][65536 / 8];
	size_t mlen[IKE_FRAG_MAX] = { 0 };
	uint64_t now = 1000;
	size_t at = 0;
	while (size - at >= 7) {
		const uint8_t *h = data + at;
		uint16_t num = h[0], total = h[1];
		uint8_t np = h[2];
		uint32_t msgid = h[3];
		now += (uint64_t)h[4] * 256;
		size_t len = (size_t)h[5] << 8 | h[6];
		at += 7;
		if (len > size - at)
			len = size - at;
		const uint8_t *chunk = data + at;
		at += len;
		bool was_active = rx.active;
		uint32_t old_msgid = rx.msgid;
		uint16_t old_total = rx.total;
		int r = ike_frag_rx_add(&rx, msgid, num, total, np, chunk, len, h, 7, now, 10000);
		if (rx.have > IKE_FRAG_MAX || rx.bytes > IKE_FRAG_BYTES_MAX || rx.have > rx.total)
			abort();
		/* a set that was started over forgets the model */
		if (!was_active || rx.msgid != old_msgid || rx.total != old_total ||
		    (rx.have == 1 && r >= 0))
			memset(mlen, 0, sizeof(mlen));
		if (r == IKE_FRAG_KEPT || r == IKE_FRAG_COMPLETE) {
			if (len <= sizeof(model[0])) {
				memcpy(model[num - 1], chunk, len);
				mlen[num - 1] = len;
			} else {
				mlen[num - 1] = SIZE_MAX;    /* too big to model: length only */
			}
		}
		if (r == IKE_FRAG_COMPLETE) {
			struct buf pt, first;
			uint8_t fnp;
			if (ike_frag_rx_take(&rx, &pt, &fnp, &first) < 0)
				abort();
			if (rx.active || !first.p)
				abort();
			size_t off = 0;
			for (size_t i = 0; i < total; i++) {
				if (mlen[i] != SIZE_MAX) {
					if (off + mlen[i] > pt.len ||
					    memcmp(pt.p + off, model[i], mlen[i]) != 0)
						abort();
					off += mlen[i];
				} else {
					off = pt.len;    /* unverifiable tail */
					break;
				}
			}
			if (off != pt.len)
				abort();
			buf_free(&pt);
			buf_free(&first);
			memset(mlen, 0, sizeof(mlen));
		} else if (r != IKE_FRAG_KEPT && r != -EALREADY && r != -ERANGE && r != -E2BIG &&
			   r != -ENOMEM) {
			abort();
		}
	}
	ike_frag_rx_reset(&rx);
	return 0;
}
