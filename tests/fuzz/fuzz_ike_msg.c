/* fuzz_ike_msg.c — a whole IKE datagram → struct ike_digest (header, payload chain,
 * every payload decoder). On success, every borrowed range is read once (so ASan sees
 * any overreach) and the SK offsets must lie inside the datagram. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_digest d;
	if (ike_pld_parse(&d, data, size) != 0)
		return 0;
	/* touch everything the digest borrowed, so ASan sees any overreach */
	volatile uint8_t sink = 0;
	for (unsigned i = 0; i < d.n_notify; i++)
		for (size_t j = 0; j < d.notify[i].data.len; j++)
			sink ^= d.notify[i].data.p[j];
	for (size_t j = 0; j < d.auth.sig.len; j++)
		sink ^= d.auth.sig.p[j];
	if (d.sk.present && (d.sk.body_off > size || d.sk.body_len > size - d.sk.body_off))
		abort();
	(void)sink;
	return 0;
}
