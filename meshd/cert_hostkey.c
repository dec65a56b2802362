/* cert_hostkey.c — the node's public key out of NSS for an IPSECKEY record, and raw host
 * key generation (see cert_hostkey.h). Part of the cert module: NSS is allowed here. */
#include "config.h"

#define MESHD_CERT_INTERNAL
#include "cert.h"

#include <errno.h>
#include <string.h>

#include "cert_hostkey.h"

/* The named private key in slot (the first one), or NULL. */
static SECKEYPrivateKey *find_priv(PK11SlotInfo *slot, const char *nickname)
{
	SECKEYPrivateKeyList *l = PK11_ListPrivKeysInSlot(slot, (char *)nickname, NULL);
	SECKEYPrivateKey *k = NULL;

	if (l == NULL)
		return NULL;
	if (!PRIVKEY_LIST_END(PRIVKEY_LIST_HEAD(l), l))
		k = SECKEY_CopyPrivateKey(PRIVKEY_LIST_HEAD(l)->key);
	SECKEY_DestroyPrivateKeyList(l);
	return k;
}

static int encode_spki(const SECKEYPublicKey *pk, struct buf *out)
{
	SECItem *der = SECKEY_EncodeDERSubjectPublicKeyInfo(pk);
	int r;

	if (der == NULL)
		return -EIO;
	r = buf_dup(out, der->data, der->len);
	SECITEM_FreeItem(der, PR_TRUE);
	return r;
}

int cert_hostkey_spki(const char *nssdir, const char *nickname, struct buf *spki,
		      struct log *log)
{
	NSSInitContext *ctx;
	PK11SlotInfo *slot;
	SECKEYPublicKey *pk = NULL;
	int r = cert_admin_open(nssdir, false, &ctx, &slot);

	*spki = (struct buf){ 0 };
	if (r != 0)
		return r;
	CERTCertificate *c = CERT_FindCertByNickname(CERT_GetDefaultCertDB(), nickname);
	if (c != NULL) {
		pk = CERT_ExtractPublicKey(c);
		CERT_DestroyCertificate(c);
	} else {
		SECKEYPrivateKey *k = find_priv(slot, nickname);
		if (k != NULL) {
			pk = SECKEY_ConvertToPublicKey(k);
			SECKEY_DestroyPrivateKey(k);
		}
	}
	if (pk == NULL) {
		log_err(log, "no certificate or key named '%s' in %s", nickname, nssdir);
		r = -ENOENT;
	} else {
		r = encode_spki(pk, spki);
		SECKEY_DestroyPublicKey(pk);
	}
	cert_admin_close(ctx, slot);
	return r;
}

int cert_hostkey_new(const char *nssdir, const char *nickname, enum cert_key_type type,
		     unsigned bits, struct buf *spki, struct log *log)
{
	/* RFC 5480 §2.1.1.1: secp256r1 as the EC parameters (a DER OID) */
	static unsigned char p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	SECItem ecparams = { siBuffer, p256, sizeof(p256) };
	PK11RSAGenParams rsa = { .keySizeInBits = (int)bits, .pe = 65537 };
	NSSInitContext *ctx;
	PK11SlotInfo *slot;
	SECKEYPublicKey *pub = NULL;
	SECKEYPrivateKey *priv;
	int r;

	if (spki != NULL)
		*spki = (struct buf){ 0 };
	if (nickname == NULL || *nickname == '\0' ||
	    (type == CERT_KEY_RSA && (bits < 2048 || bits > 8192)) ||
	    (type != CERT_KEY_RSA && type != CERT_KEY_ECDSA))
		return -EINVAL;
	r = cert_admin_open(nssdir, false, &ctx, &slot);
	if (r != 0)
		return r;
	CERTCertificate *c = CERT_FindCertByNickname(CERT_GetDefaultCertDB(), nickname);
	SECKEYPrivateKey *old = find_priv(slot, nickname);
	if (c != NULL || old != NULL) {
		log_err(log, "'%s' already names a %s in %s", nickname, c ? "certificate" : "key",
			nssdir);
		if (c != NULL)
			CERT_DestroyCertificate(c);
		if (old != NULL)
			SECKEY_DestroyPrivateKey(old);
		cert_admin_close(ctx, slot);
		return -EEXIST;
	}
	priv = type == CERT_KEY_RSA ?
	       PK11_GenerateKeyPair(slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &rsa, &pub, PR_TRUE, PR_TRUE,
				    NULL) :
	       PK11_GenerateKeyPair(slot, CKM_EC_KEY_PAIR_GEN, &ecparams, &pub, PR_TRUE, PR_TRUE,
				    NULL);
	if (priv == NULL || pub == NULL ||
	    PK11_SetPrivateKeyNickname(priv, nickname) != SECSuccess ||
	    PK11_SetPublicKeyNickname(pub, nickname) != SECSuccess) {
		log_err(log, "generating the key pair in %s failed (NSS error %d)", nssdir,
			PORT_GetError());
		r = -EIO;
	} else if (spki != NULL) {
		r = encode_spki(pub, spki);
	}
	if (priv != NULL)
		SECKEY_DestroyPrivateKey(priv);
	if (pub != NULL)
		SECKEY_DestroyPublicKey(pub);
	cert_admin_close(ctx, slot);
	return r;
}
