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
	r->key = k;
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
	uint8_t digest[CRYPTO_MAX_HASH_LEN];
	size_t dlen = 0, blob_len = 0;
	SECItem dig, sig = { siBuffer, NULL, 0 }, der = { siBuffer, NULL, 0 };
	int siglen, r;

	*out_alg = (struct buf){ NULL, 0 };
	*out_sig = (struct buf){ NULL, 0 };
	const uint8_t *blob = cert_alg_blob(k->type == CERT_KEY_RSA ? CERT_SIG_RSA_PSS
								  : CERT_SIG_ECDSA, hash, &blob_len);
	SECOidTag oid = cert_hash_oid(hash, &dlen);
	if (blob == NULL || oid == SEC_OID_UNKNOWN)
		return -ENOTSUP;
	if (len > INT32_MAX || PK11_HashBuf(oid, digest, data, (PRInt32)len) != SECSuccess)
		return -EIO;
	dig = (SECItem){ siBuffer, digest, (unsigned)dlen };
	siglen = PK11_SignatureLen(k->key);
	if (siglen <= 0 || SECITEM_AllocItem(NULL, &sig, (unsigned)siglen) == NULL)
		return -EIO;
	r = -EIO;
	if (k->type == CERT_KEY_RSA) {
		CK_RSA_PKCS_PSS_PARAMS pss = {
			.hashAlg = cert_hash_mech(hash),
			.mgf = cert_hash_mgf(hash),
			.sLen = dlen,
		};
		SECItem param = { siBuffer, (unsigned char *)&pss, sizeof(pss) };
		if (PK11_SignWithMechanism(k->key, CKM_RSA_PKCS_PSS, &param, &sig, &dig) !=
		    SECSuccess)
			goto done;
		r = buf_dup(out_sig, sig.data, sig.len);
	} else {
		/* RFC 7427 §3: ECDSA signatures are the DER ECDSA-Sig-Value */
		if (PK11_SignWithMechanism(k->key, CKM_ECDSA, NULL, &sig, &dig) != SECSuccess ||
		    DSAU_EncodeDerSigWithLen(&der, &sig, sig.len) != SECSuccess)
			goto done;
		r = buf_dup(out_sig, der.data, der.len);
	}
	if (r == 0)
		r = buf_dup(out_alg, blob, blob_len);
	if (r != 0)
		buf_free(out_sig);
done:
	explicit_bzero(digest, sizeof(digest));
	SECITEM_FreeItem(&sig, PR_FALSE);
	SECITEM_FreeItem(&der, PR_FALSE);
	return r;
}
