/* fuzz_ipseckey.c — IPSECKEY rdata (RFC 4025) to a public key, and DER SPKI back to the
 * IPSECKEY key field. Nothing may crash; the answers must be documented codes; a record that
 * parses and converts to an SPKI must convert back to the same algorithm and key field.
 *
 * Input: byte 0 selects the target (even: ipseckey_parse on the rest, then the SPKI round
 * trip; odd: ipseckey_from_spki on the rest, then base64 encode/decode of the result). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipseckey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rdata_target(const uint8_t *p, size_t n)
{
	struct ipseckey k;
	struct buf spki, key;
	const char *why = NULL;
	uint8_t alg = 0;
	int r = ipseckey_parse(p, n, &k, &why);

	if (r != 0) {
		if ((r != -EBADMSG && r != -ENOTSUP) || why == NULL)
			abort();
		return;
	}
	(void)ipseckey_usable(&k, NULL, &why);
	r = ipseckey_to_spki(&k, &spki);
	if (r == -ENOTSUP)
		return;
	if (r != 0 || ipseckey_from_spki(spki.p, spki.len, &alg, &key) != 0 || alg != k.alg)
		abort();
	/* RSA keys in the 3-octet exponent form come back in the short form */
	if (alg != IPSECKEY_ALG_RSA && (key.len != k.key_len || memcmp(key.p, k.key, key.len) != 0))
		abort();
	buf_free(&key);
	buf_free(&spki);
}

static void spki_target(const uint8_t *p, size_t n)
{
	struct buf key, b64, back;
	uint8_t alg;
	int r = ipseckey_from_spki(p, n, &alg, &key);

	if (r != 0) {
		if (r != -EBADMSG && r != -ENOTSUP)
			abort();
		return;
	}
	if (ipseckey_b64_encode(key.p, key.len, &b64) != 0 ||
	    ipseckey_b64_decode((const char *)b64.p, &back) != 0 || back.len != key.len ||
	    memcmp(back.p, key.p, key.len) != 0)
		abort();
	buf_free(&back);
	buf_free(&b64);
	buf_free(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		spki_target(data + 1, size - 1);
	else
		rdata_target(data + 1, size - 1);
	return 0;
}
