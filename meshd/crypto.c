/* crypto.c — NSS initialisation, RNG, hashes, HMAC PRFs, prf+ and the IKEv2 key schedules
 * (RFC 7296 §2.13, §2.14, §2.17, §2.18). Key exchange is in crypto_dh.c, SK payload
 * protection in crypto_sk.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MESHD_CRYPTO_INTERNAL
#include "crypto.h"

/* ---- buffers ---- */

int crypto_buf_alloc(struct crypto_buf *b, size_t len)
{
	b->p = NULL;
	b->len = 0;
	if (len == 0)
		return 0;
	b->p = calloc(1, len);
	if (b->p == NULL)
		return -ENOMEM;
	b->len = len;
	return 0;
}

int crypto_buf_dup(struct crypto_buf *b, const void *p, size_t len)
{
	int r = crypto_buf_alloc(b, len);
	if (r == 0 && len > 0)
		memcpy(b->p, p, len);
	return r;
}

void crypto_buf_free(struct crypto_buf *b)
{
	if (b == NULL)
		return;
	if (b->p != NULL) {
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
	b->p = NULL;
	b->len = 0;
}

/* ---- NSS ---- */

int crypto_init(struct crypto **out, const char *nssdir)
{
	NSSInitParameters params;
	PRUint32 flags;
	struct crypto *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	memset(&params, 0, sizeof(params));
	params.length = sizeof(params);
	/* No builtin root module in either case: a mesh trusts only its own CA, whose trust
	 * flags are in the DB. Without a DB this is NSS_NoDB_Init, but reference-counted. */
	flags = NSS_INIT_NOROOTINIT;
	if (nssdir == NULL)
		flags |= NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
			 NSS_INIT_FORCEOPEN | NSS_INIT_OPTIMIZESPACE;
	c->nss = NSS_InitContext(nssdir != NULL ? nssdir : "", "", "", "", &params, flags);
	if (c->nss == NULL) {
		free(c);
		return -EIO;
	}
	c->slot = PK11_GetInternalSlot();
	if (c->slot == NULL) {
		crypto_free(c);
		return -EIO;
	}
	*out = c;
	return 0;
}

void crypto_free(struct crypto *c)
{
	if (c == NULL)
		return;
	if (c->slot != NULL)
		PK11_FreeSlot(c->slot);
	if (c->nss != NULL)
		NSS_ShutdownContext(c->nss);
	free(c);
}

int crypto_random(void *buf, size_t len)
{
	if (len > INT32_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	return PK11_GenerateRandom(buf, (int)len) == SECSuccess ? 0 : -EIO;
}

/* ---- hashes ---- */

static SECOidTag hash_oid(uint16_t hash, size_t *len)
{
	switch (hash) {
	case CRYPTO_HASH_SHA1:
		*len = 20;
		return SEC_OID_SHA1;
	case CRYPTO_HASH_SHA2_256:
		*len = 32;
		return SEC_OID_SHA256;
	case CRYPTO_HASH_SHA2_384:
		*len = 48;
		return SEC_OID_SHA384;
	case CRYPTO_HASH_SHA2_512:
		*len = 64;
		return SEC_OID_SHA512;
	}
	*len = 0;
	return SEC_OID_UNKNOWN;
}

size_t crypto_hash_len(uint16_t hash)
{
	size_t len;
	hash_oid(hash, &len);
	return len;
}

int crypto_hash(uint16_t hash, const struct crypto_iov *in, size_t n_in, uint8_t *out)
{
	size_t len;
	SECOidTag oid = hash_oid(hash, &len);
	PK11Context *ctx;
	unsigned int got = 0;
	int r = -EIO;

	if (oid == SEC_OID_UNKNOWN)
		return -ENOTSUP;
	ctx = PK11_CreateDigestContext(oid);
	if (ctx == NULL)
		return -EIO;
	if (PK11_DigestBegin(ctx) != SECSuccess)
		goto done;
	for (size_t i = 0; i < n_in; i++) {
		if (in[i].len == 0)
			continue;
		if (in[i].len > UINT32_MAX ||
		    PK11_DigestOp(ctx, in[i].p, (unsigned int)in[i].len) != SECSuccess)
			goto done;
	}
	if (PK11_DigestFinal(ctx, out, &got, (unsigned int)len) != SECSuccess || got != len)
		goto done;
	r = 0;
done:
	PK11_DestroyContext(ctx, PR_TRUE);
	return r;
}

/* ---- HMAC ---- */

CK_MECHANISM_TYPE crypto_prf_mech(uint16_t prf, size_t *len)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_SHA1:
		*len = 20;
		return CKM_SHA_1_HMAC;
	case CRYPTO_PRF_HMAC_SHA2_256:
		*len = 32;
		return CKM_SHA256_HMAC;
	case CRYPTO_PRF_HMAC_SHA2_384:
		*len = 48;
		return CKM_SHA384_HMAC;
	case CRYPTO_PRF_HMAC_SHA2_512:
		*len = 64;
		return CKM_SHA512_HMAC;
	}
	*len = 0;
	return CKM_INVALID_MECHANISM;
}

int crypto_hmac_init(struct crypto *c, struct crypto_hmac *h, CK_MECHANISM_TYPE mech, size_t len,
		     struct crypto_iov key)
{
	static const uint8_t zero = 0;
	SECItem k, noparam = { siBuffer, NULL, 0 };

	memset(h, 0, sizeof(*h));
	h->mech = mech;
	h->len = len;
	/* HMAC zero-pads its key to the block size, so the empty key equals one zero byte; NSS
	 * refuses to import an empty key. */
	if (key.len == 0)
		key = CRYPTO_IOV(&zero, 1);
	if (key.len > UINT32_MAX)
		return -EINVAL;
	k.type = siBuffer;
	k.data = (unsigned char *)key.p;
	k.len = (unsigned int)key.len;
	h->key = PK11_ImportSymKey(c->slot, mech, PK11_OriginUnwrap, CKA_SIGN, &k, NULL);
	if (h->key == NULL)
		return -EIO;
	h->ctx = PK11_CreateContextBySymKey(mech, CKA_SIGN, h->key, &noparam);
	if (h->ctx == NULL) {
		crypto_hmac_fini(h);
		return -EIO;
	}
	return 0;
}

int crypto_hmac_run(struct crypto_hmac *h, const struct crypto_iov *in, size_t n_in, uint8_t *out)
{
	unsigned int got = 0;

	if (PK11_DigestBegin(h->ctx) != SECSuccess)
		return -EIO;
	for (size_t i = 0; i < n_in; i++) {
		if (in[i].len == 0)
			continue;
		if (in[i].len > UINT32_MAX ||
		    PK11_DigestOp(h->ctx, in[i].p, (unsigned int)in[i].len) != SECSuccess)
			return -EIO;
	}
	if (PK11_DigestFinal(h->ctx, out, &got, (unsigned int)h->len) != SECSuccess ||
	    got != h->len)
		return -EIO;
	return 0;
}

void crypto_hmac_fini(struct crypto_hmac *h)
{
	if (h->ctx != NULL)
		PK11_DestroyContext(h->ctx, PR_TRUE);
	if (h->key != NULL)
		PK11_FreeSymKey(h->key);
	h->ctx = NULL;
	h->key = NULL;
}

/* ---- PRF, prf+ ---- */

size_t crypto_prf_len(uint16_t prf)
{
	size_t len;
	crypto_prf_mech(prf, &len);
	return len;
}

int crypto_prf(struct crypto *c, uint16_t prf, struct crypto_iov key,
	       const struct crypto_iov *in, size_t n_in, uint8_t *out)
{
	struct crypto_hmac h;
	size_t len;
	CK_MECHANISM_TYPE mech = crypto_prf_mech(prf, &len);
	int r;

	if (mech == CKM_INVALID_MECHANISM)
		return -ENOTSUP;
	r = crypto_hmac_init(c, &h, mech, len, key);
	if (r == 0)
		r = crypto_hmac_run(&h, in, n_in, out);
	crypto_hmac_fini(&h);
	return r;
}

/* RFC 7296 §2.13: prf+ (K,S) = T1 | T2 | T3 | ...
 *   T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n); at most 255 blocks. */
int crypto_prf_plus(struct crypto *c, uint16_t prf, struct crypto_iov key,
		    const struct crypto_iov *seed, size_t n_seed, uint8_t *out, size_t len)
{
	struct crypto_iov *in = NULL;
	uint8_t t[CRYPTO_MAX_HASH_LEN];
	uint8_t counter;
	struct crypto_hmac h;
	size_t hlen, done = 0;
	CK_MECHANISM_TYPE mech = crypto_prf_mech(prf, &hlen);
	int r;

	if (mech == CKM_INVALID_MECHANISM)
		return -ENOTSUP;
	if (len > 255 * hlen || n_seed > 64)
		return -EINVAL;
	in = calloc(n_seed + 2, sizeof(*in));
	if (in == NULL)
		return -ENOMEM;
	r = crypto_hmac_init(c, &h, mech, hlen, key);
	for (counter = 1; r == 0 && done < len; counter++) {
		size_t n = 0, take;
		if (counter > 1)
			in[n++] = CRYPTO_IOV(t, hlen);              /* Tn-1 */
		for (size_t i = 0; i < n_seed; i++)
			in[n++] = seed[i];                           /* S */
		in[n++] = CRYPTO_IOV(&counter, 1);                  /* n */
		r = crypto_hmac_run(&h, in, n, t);
		if (r != 0)
			break;
		take = len - done < hlen ? len - done : hlen;
		memcpy(out + done, t, take);
		done += take;
	}
	crypto_hmac_fini(&h);
	explicit_bzero(t, sizeof(t));
	free(in);
	if (r != 0)
		explicit_bzero(out, len);
	return r;
}

/* ---- key lengths ---- */

bool crypto_encr_is_aead(uint16_t encr)
{
	return encr == CRYPTO_ENCR_AES_GCM_16;
}

size_t crypto_encr_key_len(uint16_t encr, uint16_t keybits)
{
	if (keybits != 128 && keybits != 256)
		return 0;
	switch (encr) {
	case CRYPTO_ENCR_AES_CBC:
		return keybits / 8;
	case CRYPTO_ENCR_AES_GCM_16:
		return keybits / 8 + CRYPTO_GCM_SALT_LEN;
	}
	return 0;
}

size_t crypto_integ_key_len(uint16_t integ)
{
	switch (integ) {
	case CRYPTO_INTEG_HMAC_SHA1_96:
		return 20;
	case CRYPTO_INTEG_HMAC_SHA2_256_128:
		return 32;
	case CRYPTO_INTEG_HMAC_SHA2_384_192:
		return 48;
	case CRYPTO_INTEG_HMAC_SHA2_512_256:
		return 64;
	}
	return 0;
}

/* Encryption and integrity lengths for a suite; AEAD takes no integrity transform, and a
 * non-AEAD cipher must have one. */
static int suite_lens(uint16_t encr, uint16_t keybits, uint16_t integ, size_t *elen,
		      size_t *alen)
{
	*elen = crypto_encr_key_len(encr, keybits);
	*alen = crypto_integ_key_len(integ);
	if (*elen == 0)
		return -ENOTSUP;
	if (crypto_encr_is_aead(encr) ? integ != CRYPTO_INTEG_NONE : *alen == 0)
		return -ENOTSUP;
	return 0;
}

/* Cut the next len bytes of km into a new owned buffer. */
static int take(struct crypto_buf *dst, const uint8_t *km, size_t *off, size_t len)
{
	int r = crypto_buf_dup(dst, km + *off, len);
	*off += len;
	return r;
}

/* ---- IKE SA keys ---- */

static int ike_keys_from_skeyseed(struct crypto *c, const struct crypto_ike_suite *s,
				  const uint8_t *skeyseed, size_t sklen, struct crypto_iov ni,
				  struct crypto_iov nr, const uint8_t spi_i[8],
				  const uint8_t spi_r[8], struct crypto_ike_keys *out)
{
	struct crypto_buf km = { NULL, 0 };
	size_t plen = crypto_prf_len(s->prf), elen, alen, off = 0;
	const struct crypto_iov seed[] = { ni, nr, CRYPTO_IOV(spi_i, 8), CRYPTO_IOV(spi_r, 8) };
	int r;

	memset(out, 0, sizeof(*out));
	r = suite_lens(s->encr, s->encr_keybits, s->integ, &elen, &alen);
	if (r != 0)
		return r;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
	 *	= prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr) */
	r = crypto_buf_alloc(&km, 3 * plen + 2 * alen + 2 * elen);
	if (r == 0)
		r = crypto_prf_plus(c, s->prf, CRYPTO_IOV(skeyseed, sklen), seed, 4, km.p, km.len);
	if (r == 0)
		r = take(&out->sk_d, km.p, &off, plen);
	if (r == 0)
		r = take(&out->sk_ai, km.p, &off, alen);
	if (r == 0)
		r = take(&out->sk_ar, km.p, &off, alen);
	if (r == 0)
		r = take(&out->sk_ei, km.p, &off, elen);
	if (r == 0)
		r = take(&out->sk_er, km.p, &off, elen);
	if (r == 0)
		r = take(&out->sk_pi, km.p, &off, plen);
	if (r == 0)
		r = take(&out->sk_pr, km.p, &off, plen);
	crypto_buf_free(&km);
	if (r != 0)
		crypto_ike_keys_free(out);
	return r;
}

int crypto_ike_keys(struct crypto *c, const struct crypto_ike_suite *s, struct crypto_iov g_ir,
		    struct crypto_iov ni, struct crypto_iov nr, const uint8_t spi_i[8],
		    const uint8_t spi_r[8], struct crypto_ike_keys *out)
{
	uint8_t skeyseed[CRYPTO_MAX_HASH_LEN], nonces[512];
	size_t plen = crypto_prf_len(s->prf);
	int r;

	memset(out, 0, sizeof(*out));
	if (plen == 0)
		return -ENOTSUP;
	/* SKEYSEED = prf(Ni | Nr, g^ir): the nonces are the key, so they go in one buffer.
	 * RFC 7296 §3.9 bounds each nonce to 16..256 octets. */
	if (ni.len + nr.len > sizeof(nonces) || ni.len == 0 || nr.len == 0)
		return -EINVAL;
	memcpy(nonces, ni.p, ni.len);
	memcpy(nonces + ni.len, nr.p, nr.len);
	r = crypto_prf(c, s->prf, CRYPTO_IOV(nonces, ni.len + nr.len), &g_ir, 1, skeyseed);
	if (r == 0)
		r = ike_keys_from_skeyseed(c, s, skeyseed, plen, ni, nr, spi_i, spi_r, out);
	explicit_bzero(skeyseed, sizeof(skeyseed));
	return r;
}

int crypto_ike_rekey_keys(struct crypto *c, uint16_t old_prf, struct crypto_iov old_sk_d,
			  const struct crypto_ike_suite *s, struct crypto_iov g_ir,
			  struct crypto_iov ni, struct crypto_iov nr, const uint8_t spi_i[8],
			  const uint8_t spi_r[8], struct crypto_ike_keys *out)
{
	uint8_t skeyseed[CRYPTO_MAX_HASH_LEN];
	const struct crypto_iov in[] = { g_ir, ni, nr };
	size_t plen = crypto_prf_len(old_prf);
	int r;

	memset(out, 0, sizeof(*out));
	if (plen == 0 || crypto_prf_len(s->prf) == 0)
		return -ENOTSUP;
	/* RFC 7296 §2.18: SKEYSEED = prf (SK_d (old), g^ir (new) | Ni | Nr), with the PRF of
	 * the old IKE SA; the prf+ that follows uses the new SA's PRF. */
	r = crypto_prf(c, old_prf, old_sk_d, in, 3, skeyseed);
	if (r == 0)
		r = ike_keys_from_skeyseed(c, s, skeyseed, plen, ni, nr, spi_i, spi_r, out);
	explicit_bzero(skeyseed, sizeof(skeyseed));
	return r;
}

void crypto_ike_keys_free(struct crypto_ike_keys *k)
{
	if (k == NULL)
		return;
	crypto_buf_free(&k->sk_d);
	crypto_buf_free(&k->sk_ai);
	crypto_buf_free(&k->sk_ar);
	crypto_buf_free(&k->sk_ei);
	crypto_buf_free(&k->sk_er);
	crypto_buf_free(&k->sk_pi);
	crypto_buf_free(&k->sk_pr);
}

/* ---- Child SA keys ---- */

int crypto_child_keys(struct crypto *c, uint16_t prf, struct crypto_iov sk_d,
		      const struct crypto_child_suite *s, struct crypto_iov g_ir,
		      struct crypto_iov ni, struct crypto_iov nr, struct crypto_child_keys *out)
{
	struct crypto_buf km = { NULL, 0 };
	const struct crypto_iov seed[] = { g_ir, ni, nr };   /* an empty g_ir adds nothing */
	size_t elen, alen, off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (crypto_prf_len(prf) == 0)
		return -ENOTSUP;
	r = suite_lens(s->encr, s->encr_keybits, s->integ, &elen, &alen);
	if (r != 0)
		return r;
	/* RFC 7296 §2.17: KEYMAT = prf+ (SK_d, [g^ir (new) |] Ni | Nr); encryption key first,
	 * then integrity, initiator-to-responder first. */
	r = crypto_buf_alloc(&km, 2 * (elen + alen));
	if (r == 0)
		r = crypto_prf_plus(c, prf, sk_d, seed, 3, km.p, km.len);
	if (r == 0)
		r = take(&out->ei, km.p, &off, elen);
	if (r == 0)
		r = take(&out->ai, km.p, &off, alen);
	if (r == 0)
		r = take(&out->er, km.p, &off, elen);
	if (r == 0)
		r = take(&out->ar, km.p, &off, alen);
	crypto_buf_free(&km);
	if (r != 0)
		crypto_child_keys_free(out);
	return r;
}

void crypto_child_keys_free(struct crypto_child_keys *k)
{
	if (k == NULL)
		return;
	crypto_buf_free(&k->ei);
	crypto_buf_free(&k->ai);
	crypto_buf_free(&k->er);
	crypto_buf_free(&k->ar);
}
