/* fuzz_ike_sk_inner.c — the decrypted contents of an SK payload → digest, with the
 * "inside SK" flag set (iked's msg_e harness). The first input byte is the type of the
 * first inner payload; the rest is the plaintext chain. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ike_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_digest d;
	if (size < 1)
		return 0;
	memset(&d, 0, sizeof(d));
	if (ike_pld_parse_inner(&d, data[0], data + 1, size - 1) != 0)
		return 0;
	volatile uint8_t sink = 0;
	for (size_t j = 0; j < d.idi.data.len; j++)
		sink ^= d.idi.data.p[j];
	for (size_t j = 0; j < d.auth.alg_id.len; j++)
		sink ^= d.auth.alg_id.p[j];
	(void)sink;
	return 0;
}
