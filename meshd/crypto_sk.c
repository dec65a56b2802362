/* crypto_sk.c — SK payload protection (RFC 7296 §3.14) with AES-CBC + HMAC-SHA1/SHA2 and
 * AES-GCM-16 (RFC 5282). A struct crypto_sk holds one direction's keys; for GCM it keeps an NSS
 * message context per operation, which makes a 1 KiB seal about twice as fast as a one-shot
 * PK11_Encrypt (reference/performance.md §3). */
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

struct crypto_sk {
	uint16_t encr, integ;
	size_t iv_len, icv_len, block;
	PK11SymKey *key;                    /* (owned) the AES key, salt excluded */
	uint8_t salt[CRYPTO_GCM_SALT_LEN];  /* GCM only */
	uint64_t counter;                   /* GCM: last IV handed out */
	PK11Context *seal, *open;           /* GCM message contexts, (owned), made on first use */
	struct crypto_hmac mac;             /* CBC only */
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
	CK_MECHANISM_TYPE mech, hmech = CKM_INVALID_MECHANISM;
	size_t hlen = 0;
	struct crypto_sk *sk;
	SECItem k;
	int r;

	*out = NULL;
	if (elen == 0)
		return -ENOTSUP;
	if (ekey.len != elen)
		return -EINVAL;
	sk = calloc(1, sizeof(*sk));
	if (sk == NULL)
		return -ENOMEM;
	sk->encr = encr;
	sk->integ = integ;
	if (encr == CRYPTO_ENCR_AES_GCM_16) {
		r = -ENOTSUP;
		if (integ != CRYPTO_INTEG_NONE)
			goto fail;
		mech = CKM_AES_GCM;
		sk->iv_len = GCM_IV_LEN;
		sk->icv_len = GCM_ICV_LEN;
		sk->block = 1;
		/* RFC 5282 §7.1: the last 4 octets of the key material are the salt */
		memcpy(sk->salt, (const uint8_t *)ekey.p + aeslen, CRYPTO_GCM_SALT_LEN);
	} else {
		r = integ_params(integ, &hmech, &hlen, &sk->icv_len);
		if (r != 0)
			goto fail;
		r = -EINVAL;
		if (akey.len != hlen)
			goto fail;
		mech = CKM_AES_CBC;
		sk->iv_len = AES_BLOCK;
		sk->block = AES_BLOCK;
		r = crypto_hmac_init(c, &sk->mac, hmech, hlen, akey);
		if (r != 0)
			goto fail;
	}
	k.type = siBuffer;
	k.data = (unsigned char *)ekey.p;
	k.len = (unsigned int)aeslen;
	r = -EIO;
	sk->key = PK11_ImportSymKeyWithFlags(c->slot, mech, PK11_OriginUnwrap, CKA_FLAGS_ONLY, &k,
					     CKF_ENCRYPT | CKF_DECRYPT, PR_FALSE, NULL);
	if (sk->key == NULL)
		goto fail;
	*out = sk;
	return 0;
fail:
	crypto_sk_free(sk);
	return r;
}

void crypto_sk_free(struct crypto_sk *sk)
{
	if (sk == NULL)
		return;
	if (sk->seal != NULL)
		PK11_DestroyContext(sk->seal, PR_TRUE);
	if (sk->open != NULL)
		PK11_DestroyContext(sk->open, PR_TRUE);
	if (sk->key != NULL)
		PK11_FreeSymKey(sk->key);
	crypto_hmac_fini(&sk->mac);
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

static PK11Context *gcm_context(struct crypto_sk *sk, bool seal)
{
	PK11Context **ctx = seal ? &sk->seal : &sk->open;
	SECItem noparam = { siBuffer, NULL, 0 };

	if (*ctx == NULL)
		*ctx = PK11_CreateContextBySymKey(CKM_AES_GCM,
						  CKA_NSS_MESSAGE | (seal ? CKA_ENCRYPT : CKA_DECRYPT),
						  sk->key, &noparam);
	return *ctx;
}

/* AEAD over (aad, data): out gets data's length, tag GCM_ICV_LEN (written when sealing,
 * checked when opening). iv: the 8-octet explicit IV. */
static int gcm_op(struct crypto_sk *sk, bool seal, const uint8_t *iv, struct crypto_iov aad,
		  struct crypto_iov data, uint8_t *out, uint8_t *tag)
{
	uint8_t nonce[GCM_NONCE_LEN];
	PK11Context *ctx = gcm_context(sk, seal);
	int got = 0;

	if (ctx == NULL)
		return -EIO;
	if (aad.len > INT32_MAX || data.len > INT32_MAX - GCM_ICV_LEN)
		return -EINVAL;
	memcpy(nonce, sk->salt, CRYPTO_GCM_SALT_LEN);
	memcpy(nonce + CRYPTO_GCM_SALT_LEN, iv, GCM_IV_LEN);
	if (PK11_AEADOp(ctx, CKG_NO_GENERATE, 0, nonce, sizeof(nonce), aad.p, (int)aad.len, out,
			&got, (int)data.len, tag, GCM_ICV_LEN, data.p, (int)data.len) != SECSuccess ||
	    got != (int)data.len)
		return seal ? -EIO : -EBADMSG;
	return 0;
}

/* The truncated HMAC of AAD || IV || ciphertext (RFC 7296 §3.14: the checksum covers the
 * message from the IKE header through the encrypted data). */
static int cbc_icv(struct crypto_sk *sk, struct crypto_iov aad, const uint8_t *ivct,
		   size_t len, uint8_t *icv)
{
	uint8_t full[CRYPTO_MAX_HASH_LEN];
	const struct crypto_iov in[] = { aad, CRYPTO_IOV(ivct, len) };
	int r = crypto_hmac_run(&sk->mac, in, 2, full);

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
		r = -EIO;
		if (PK11_Encrypt(sk->key, CKM_AES_CBC, &ivitem, ct, &got, (unsigned int)pt.len,
				 pt.p, (unsigned int)pt.len) == SECSuccess && got == pt.len)
			r = cbc_icv(sk, aad, out, sk->iv_len + pt.len, ct + pt.len);
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
			ivitem.type = siBuffer;
			ivitem.data = (unsigned char *)p;
			ivitem.len = (unsigned int)sk->iv_len;
			if (PK11_Decrypt(sk->key, CKM_AES_CBC, &ivitem, out, &got,
					 (unsigned int)len, p + sk->iv_len,
					 (unsigned int)len) != SECSuccess || got != len)
				r = -EIO;
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
