/* crypto_priv.h — what the crypto*.c files share; NSS types allowed here, so only crypto*.c may
 * include it. */
#ifndef MESHD_CRYPTO_PRIV_H
#define MESHD_CRYPTO_PRIV_H

#include <nss.h>
#include <pk11pub.h>

#include "crypto.h"

struct crypto {
	NSSInitContext *nss;            /* (owned) our reference on NSS's process-wide state */
	PK11SlotInfo *slot;             /* (owned) internal crypto slot: session keys live here */
};

/* A keyed HMAC that can be run many times: the key is imported once (prf+, SK integrity). */
struct crypto_hmac {
	CK_MECHANISM_TYPE mech;
	size_t len;                     /* full output length */
	PK11SymKey *key;                /* (owned) */
	PK11Context *ctx;               /* (owned) */
};

/* PRF and INTEG ids map to the same HMAC mechanisms. */
CK_MECHANISM_TYPE crypto_prf_mech(uint16_t prf, size_t *len);
int crypto_hmac_init(struct crypto *c, struct crypto_hmac *h, CK_MECHANISM_TYPE mech, size_t len,
		     struct crypto_iov key);
/* out: h->len bytes */
int crypto_hmac_run(struct crypto_hmac *h, const struct crypto_iov *in, size_t n_in, uint8_t *out);
void crypto_hmac_fini(struct crypto_hmac *h);

#endif
