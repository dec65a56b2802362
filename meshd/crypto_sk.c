/* crypto_sk.c — SK payload protection (RFC 7296 §3.14) with AES-CBC + HMAC-SHA1/SHA2 and
 * AES-GCM-16 (RFC 5282). A struct crypto_sk holds one direction's keys as bytes and imports
 * them into NSS for each message only: an established IKE SA sends or receives a message
 * every few minutes at most (DPD, rekey, delete), while NSS session keys and contexts kept
 * for its life cost ~10 KB of heap per SA (softoken objects, locks). The import costs a
 * few µs per message (BENCHMARKS.md "IKE handshakes"). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MESHD_CRYPTO_INTERNAL
#include "crypto.h"

#define GCM_IV_LEN 8            /* RFC 5282 §3.1: explicit IV */
#define GCM_NONCE_LEN 12        /* salt || IV */
#define GCM_ICV_LEN 16
#define AES_BLOCK 16
#define IKE_SK_STACK 4096      /* GCM scratch on the stack; larger messages use the heap */

struct crypto_sk {
	struct crypto *c;                   /* (borrowed) its slot */
	uint16_t encr, integ;
	size_t iv_len, icv_len, block;
	uint8_t key[32];                    /* the AES key, salt excluded */
	size_t key_len;
	uint8_t salt[CRYPTO_GCM_SALT_LEN];  /* GCM only */
	uint64_t counter;                   /* GCM: last IV handed out */
	CK_MECHANISM_TYPE hmech;            /* CBC only: the HMAC and its key */
	size_t hlen;
	uint8_t akey[CRYPTO_MAX_HASH_LEN];
};

static int integ_params(uint16_t integ, CK_MECHANISM_TYPE *mech, size_t *len, size_t *trunc)
{
	switch (integ) {
	case CRYPTO_INTEG_HMAC_SHA1_96:
		*mech = CKM_SHA_1_HMAC, *len = 20, *trunc = 12;
		return 0;
	case CRYPTO_INTEG_HMAC_SHA2_256_128:
		*mech = CKM_SHA256_HMAC, *len = 32, *trunc = 16;
		return 0;
	case CRYPTO_INTEG_HMAC_SHA2_384_192:
		*mech = CKM_SHA384_HMAC, *len = 48, *trunc = 24;
		return 0;
	case CRYPTO_INTEG_HMAC_SHA2_512_256:
		*mech = CKM_SHA512_HMAC, *len = 64, *trunc = 32;
		return 0;
	}
	return -ENOTSUP;
}

int crypto_sk_new(struct crypto *c, uint16_t encr, uint16_t keybits, uint16_t integ,
		  struct crypto_iov ekey, struct crypto_iov akey, struct crypto_sk **out)
{
	size_t elen = crypto_encr_key_len(encr, keybits), aeslen = keybits / 8;
	struct crypto_sk *sk;
	int r;

	*out = NULL;
	if (elen == 0)
		return -ENOTSUP;
	if (ekey.len != elen || aeslen > sizeof(sk->key))
		return -EINVAL;
	sk = calloc(1, sizeof(*sk));
	if (sk == NULL)
		return -ENOMEM;
	sk->c = c;
	sk->encr = encr;
	sk->integ = integ;
	if (encr == CRYPTO_ENCR_AES_GCM_16) {
		r = -ENOTSUP;
		if (integ != CRYPTO_INTEG_NONE)
			goto fail;
		sk->iv_len = GCM_IV_LEN;
		sk->icv_len = GCM_ICV_LEN;
		sk->block = 1;
		/* RFC 5282 §7.1: the last 4 octets of the key material are the salt */
		memcpy(sk->salt, (const uint8_t *)ekey.p + aeslen, CRYPTO_GCM_SALT_LEN);
	} else {
		r = integ_params(integ, &sk->hmech, &sk->hlen, &sk->icv_len);
		if (r != 0)
			goto fail;
		r = -EINVAL;
		if (akey.len != sk->hlen || akey.len > sizeof(sk->akey))
			goto fail;
		memcpy(sk->akey, akey.p, akey.len);
		sk->iv_len = AES_BLOCK;
		sk->block = AES_BLOCK;
	}
	memcpy(sk->key, ekey.p, aeslen);
	sk->key_len = aeslen;
	*out = sk;
	return 0;
fail:
	crypto_sk_free(sk);
	return r;
}

/* The AES key as an NSS session key for one operation (free with PK11_FreeSymKey). */
static PK11SymKey *sk_key(const struct crypto_sk *sk)
{
	SECItem k = { siBuffer, (unsigned char *)sk->key, (unsigned int)sk->key_len };

	return PK11_ImportSymKeyWithFlags(sk->c->slot,
					  sk->encr == CRYPTO_ENCR_AES_GCM_16 ? CKM_AES_GCM
									     : CKM_AES_CBC,
					  PK11_OriginUnwrap, CKA_FLAGS_ONLY, &k,
					  CKF_ENCRYPT | CKF_DECRYPT, PR_FALSE, NULL);
}

void crypto_sk_free(struct crypto_sk *sk)
{
	if (sk == NULL)
		return;
	explicit_bzero(sk, sizeof(*sk));
	free(sk);
}

size_t crypto_sk_iv_len(const struct crypto_sk *sk)
{
	return sk->iv_len;
}

size_t crypto_sk_icv_len(const struct crypto_sk *sk)
{
	return sk->icv_len;
}

size_t crypto_sk_block_len(const struct crypto_sk *sk)
{
	return sk->block;
}

size_t crypto_sk_overhead(const struct crypto_sk *sk)
{
	return sk->iv_len + sk->icv_len;
}

/* AEAD over (aad, data): out gets data's length, tag GCM_ICV_LEN (written when sealing,
 * checked when opening). iv: the 8-octet explicit IV. */
static int gcm_op(struct crypto_sk *sk, bool seal, const uint8_t *iv, struct crypto_iov aad,
		  struct crypto_iov data, uint8_t *out, uint8_t *tag)
{
	uint8_t nonce[GCM_NONCE_LEN], buf[IKE_SK_STACK];
	uint8_t *tmp = buf;
	PK11SymKey *key;
	unsigned int got = 0;
	size_t n = data.len + GCM_ICV_LEN;
	int r = seal ? -EIO : -EBADMSG;

	if (aad.len > INT32_MAX || data.len > INT32_MAX - GCM_ICV_LEN)
		return -EINVAL;
	/* NSS's one-shot GCM works on ciphertext || tag in one buffer */
	if (n > sizeof(buf) && (tmp = malloc(n)) == NULL)
		return -ENOMEM;
	memcpy(nonce, sk->salt, CRYPTO_GCM_SALT_LEN);
	memcpy(nonce + CRYPTO_GCM_SALT_LEN, iv, GCM_IV_LEN);
	CK_GCM_PARAMS gp = {
		.pIv = nonce, .ulIvLen = sizeof(nonce), .ulIvBits = 8 * sizeof(nonce),
		.pAAD = (CK_BYTE_PTR)aad.p, .ulAADLen = aad.len, .ulTagBits = 8 * GCM_ICV_LEN,
	};
	SECItem param = { siBuffer, (unsigned char *)&gp, sizeof(gp) };
	key = sk_key(sk);
	if (key == NULL) {
		r = -EIO;
	} else if (seal) {
		if (PK11_Encrypt(key, CKM_AES_GCM, &param, tmp, &got, (unsigned int)n, data.p,
				 (unsigned int)data.len) == SECSuccess && got == n) {
			memcpy(out, tmp, data.len);
			memcpy(tag, tmp + data.len, GCM_ICV_LEN);
			r = 0;
		}
	} else {
		memcpy(tmp, data.p, data.len);
		memcpy(tmp + data.len, tag, GCM_ICV_LEN);
		if (PK11_Decrypt(key, CKM_AES_GCM, &param, out, &got, (unsigned int)data.len, tmp,
				 (unsigned int)n) == SECSuccess && got == data.len)
			r = 0;
	}
	if (key != NULL)
		PK11_FreeSymKey(key);
	explicit_bzero(tmp, n < sizeof(buf) ? n : sizeof(buf));
	if (tmp != buf) {
		explicit_bzero(tmp, n);
		free(tmp);
	}
	return r;
}

/* The truncated HMAC of AAD || IV || ciphertext (RFC 7296 §3.14: the checksum covers the
 * message from the IKE header through the encrypted data). */
static int cbc_icv(struct crypto_sk *sk, struct crypto_iov aad, const uint8_t *ivct,
		   size_t len, uint8_t *icv)
{
	uint8_t full[CRYPTO_MAX_HASH_LEN];
	const struct crypto_iov in[] = { aad, CRYPTO_IOV(ivct, len) };
	struct crypto_hmac mac;
	int r = crypto_hmac_init(sk->c, &mac, sk->hmech, sk->hlen,
				 CRYPTO_IOV(sk->akey, sk->hlen));

	if (r == 0)
		r = crypto_hmac_run(&mac, in, 2, full);
	crypto_hmac_fini(&mac);
	if (r == 0)
		memcpy(icv, full, sk->icv_len);
	explicit_bzero(full, sizeof(full));
	return r;
}

int crypto_sk_encrypt(struct crypto_sk *sk, const uint8_t *iv, struct crypto_iov aad,
		      struct crypto_iov pt, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = sk->iv_len + pt.len + sk->icv_len;
	uint8_t *ct = out + sk->iv_len;
	unsigned int got = 0;
	SECItem ivitem;
	int r;

	*out_len = 0;
	if (pt.len % sk->block != 0 || (sk->block > 1 && pt.len == 0) || pt.len > INT32_MAX)
		return -EINVAL;
	if (cap < total)
		return -ENOSPC;
	if (iv != NULL) {
		memcpy(out, iv, sk->iv_len);
	} else if (sk->encr == CRYPTO_ENCR_AES_GCM_16) {
		/* RFC 5282 §3.1: the IV must not repeat under a key; a counter cannot. */
		if (sk->counter == UINT64_MAX)
			return -EOVERFLOW;
		sk->counter++;
		for (size_t i = 0; i < GCM_IV_LEN; i++)
			out[i] = (uint8_t)(sk->counter >> (8 * (GCM_IV_LEN - 1 - i)));
	} else {
		/* RFC 7296 §3.14: CBC IVs must be unpredictable */
		r = crypto_random(out, sk->iv_len);
		if (r != 0)
			return r;
	}
	if (sk->encr == CRYPTO_ENCR_AES_GCM_16) {
		r = gcm_op(sk, true, out, aad, pt, ct, ct + pt.len);
	} else {
		ivitem.type = siBuffer;
		ivitem.data = out;
		ivitem.len = (unsigned int)sk->iv_len;
		PK11SymKey *key = sk_key(sk);
		r = -EIO;
		if (key != NULL &&
		    PK11_Encrypt(key, CKM_AES_CBC, &ivitem, ct, &got, (unsigned int)pt.len,
				 pt.p, (unsigned int)pt.len) == SECSuccess && got == pt.len)
			r = cbc_icv(sk, aad, out, sk->iv_len + pt.len, ct + pt.len);
		if (key != NULL)
			PK11_FreeSymKey(key);
	}
	if (r != 0) {
		explicit_bzero(out, total);
		return r;
	}
	*out_len = total;
	return 0;
}

int crypto_sk_decrypt(struct crypto_sk *sk, struct crypto_iov aad, struct crypto_iov in,
		      uint8_t *out, size_t cap, size_t *out_len)
{
	const uint8_t *p = in.p;
	uint8_t icv[CRYPTO_MAX_HASH_LEN];
	unsigned int got = 0;
	SECItem ivitem;
	size_t len;
	int r;

	*out_len = 0;
	if (in.len < sk->iv_len + sk->icv_len)
		return -EBADMSG;
	len = in.len - sk->iv_len - sk->icv_len;
	if (len % sk->block != 0 || (sk->block > 1 && len == 0) || len > INT32_MAX)
		return -EBADMSG;
	if (cap < len)
		return -ENOSPC;
	if (sk->encr == CRYPTO_ENCR_AES_GCM_16) {
		memcpy(icv, p + sk->iv_len + len, GCM_ICV_LEN);
		r = gcm_op(sk, false, p, aad, CRYPTO_IOV(p + sk->iv_len, len), out, icv);
	} else {
		/* verify first, in constant time; decrypt only authentic ciphertext */
		r = cbc_icv(sk, aad, p, sk->iv_len + len, icv);
		if (r == 0 && NSS_SecureMemcmp(icv, p + sk->iv_len + len, sk->icv_len) != 0)
			r = -EBADMSG;
		if (r == 0) {
			PK11SymKey *key = sk_key(sk);
			ivitem.type = siBuffer;
			ivitem.data = (unsigned char *)p;
			ivitem.len = (unsigned int)sk->iv_len;
			if (key == NULL ||
			    PK11_Decrypt(key, CKM_AES_CBC, &ivitem, out, &got, (unsigned int)len,
					 p + sk->iv_len, (unsigned int)len) != SECSuccess ||
			    got != len)
				r = -EIO;
			if (key != NULL)
				PK11_FreeSymKey(key);
		}
	}
	explicit_bzero(icv, sizeof(icv));
	if (r != 0) {
		explicit_bzero(out, len);
		return r;
	}
	*out_len = len;
	return 0;
}
