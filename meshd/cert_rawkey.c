/* cert_rawkey.c — AUTH signatures with a raw NSS key pair (cert_rawkey.h). Part of the cert
 * module: NSS is allowed here. */
#include "config.h"

#define MESHD_CERT_INTERNAL
#include "cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert_rawkey.h"
#include "crypto.h"

struct cert_rawkey {
	SECKEYPrivateKey *key;        /* (owned) */
	enum cert_key_type type;
	unsigned bits;
};

int cert_rawkey_open(struct cert_rawkey **out, const char *nickname)
{
	*out = NULL;
	PK11SlotInfo *slot = PK11_GetInternalKeySlot();
	if (slot == NULL)
		return -ENOENT;
	SECKEYPrivateKeyList *l = PK11_ListPrivKeysInSlot(slot, (char *)nickname, NULL);
	SECKEYPrivateKey *k = NULL;
	if (l != NULL) {
		if (!PRIVKEY_LIST_END(PRIVKEY_LIST_HEAD(l), l))
			k = SECKEY_CopyPrivateKey(PRIVKEY_LIST_HEAD(l)->key);
		SECKEY_DestroyPrivateKeyList(l);
	}
	PK11_FreeSlot(slot);
	if (k == NULL)
		return -ENOENT;
	SECKEYPublicKey *pk = SECKEY_ConvertToPublicKey(k);
	unsigned bits = 0;
	enum cert_key_type t = pk ? cert_key_info(pk, &bits) : CERT_KEY_NONE;
	if (pk)
		SECKEY_DestroyPublicKey(pk);
	if (t == CERT_KEY_NONE) {
		SECKEY_DestroyPrivateKey(k);
		return -ENOTSUP;
	}
	struct cert_rawkey *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		SECKEY_DestroyPrivateKey(k);
		return -ENOMEM;
	}
	r->key = cert_key_to_session(k);
	r->type = t;
	r->bits = bits;
	*out = r;
	return 0;
}

void cert_rawkey_close(struct cert_rawkey *k)
{
	if (k == NULL)
		return;
	SECKEY_DestroyPrivateKey(k->key);
	free(k);
}

enum cert_key_type cert_rawkey_type(const struct cert_rawkey *k, unsigned *bits)
{
	*bits = k->bits;
	return k->type;
}

int cert_rawkey_sign(struct cert_rawkey *k, uint16_t hash, const uint8_t *data, size_t len,
		     struct buf *out_alg, struct buf *out_sig)
{
	return cert_sign_key(k->key, k->type, hash, data, len, out_alg, out_sig);
}
