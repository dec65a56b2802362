/* crypto_dh.c — IKEv2 key exchange through NSS: MODP (RFC 3526), ECP (RFC 5903) and
 * Curve25519 (RFC 8031). Ephemeral keys are made derive-only (SECKEY_CreateECPrivateKey), which
 * spares NSS's ECDSA pairwise self-test, as Libreswan does. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MESHD_CRYPTO_INTERNAL
#include "crypto.h"

/* RFC 3526 2048-bit MODP group prime, generator 2 */
static const uint8_t modp2048_p[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2,
	0x21, 0x68, 0xc2, 0x34, 0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1,
	0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6,
	0x3b, 0x13, 0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd,
	0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30, 0x2b, 0x0a, 0x6d,
	0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45,
	0xe4, 0x85, 0xb5, 0x76, 0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9,
	0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed,
	0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae, 0x9f, 0x24, 0x11,
	0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36,
	0x1c, 0x55, 0xd3, 0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f,
	0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96, 0x1c, 0x62, 0xf3, 0x56,
	0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d,
	0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08,
	0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b,
	0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2,
	0xec, 0x07, 0xa2, 0x8f, 0xb5, 0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9,
	0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39, 0x95, 0x49, 0x7c,
	0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xac, 0xaa, 0x68, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff,
};
/* RFC 3526 3072-bit MODP group prime, generator 2 */
static const uint8_t modp3072_p[384] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2,
	0x21, 0x68, 0xc2, 0x34, 0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1,
	0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6,
	0x3b, 0x13, 0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd,
	0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30, 0x2b, 0x0a, 0x6d,
	0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45,
	0xe4, 0x85, 0xb5, 0x76, 0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9,
	0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed,
	0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae, 0x9f, 0x24, 0x11,
	0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36,
	0x1c, 0x55, 0xd3, 0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f,
	0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96, 0x1c, 0x62, 0xf3, 0x56,
	0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d,
	0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08,
	0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b,
	0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2,
	0xec, 0x07, 0xa2, 0x8f, 0xb5, 0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9,
	0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39, 0x95, 0x49, 0x7c,
	0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xaa, 0xc4, 0x2d, 0xad, 0x33, 0x17, 0x0d,
	0x04, 0x50, 0x7a, 0x33, 0xa8, 0x55, 0x21, 0xab, 0xdf, 0x1c, 0xba, 0x64,
	0xec, 0xfb, 0x85, 0x04, 0x58, 0xdb, 0xef, 0x0a, 0x8a, 0xea, 0x71, 0x57,
	0x5d, 0x06, 0x0c, 0x7d, 0xb3, 0x97, 0x0f, 0x85, 0xa6, 0xe1, 0xe4, 0xc7,
	0xab, 0xf5, 0xae, 0x8c, 0xdb, 0x09, 0x33, 0xd7, 0x1e, 0x8c, 0x94, 0xe0,
	0x4a, 0x25, 0x61, 0x9d, 0xce, 0xe3, 0xd2, 0x26, 0x1a, 0xd2, 0xee, 0x6b,
	0xf1, 0x2f, 0xfa, 0x06, 0xd9, 0x8a, 0x08, 0x64, 0xd8, 0x76, 0x02, 0x73,
	0x3e, 0xc8, 0x6a, 0x64, 0x52, 0x1f, 0x2b, 0x18, 0x17, 0x7b, 0x20, 0x0c,
	0xbb, 0xe1, 0x17, 0x57, 0x7a, 0x61, 0x5d, 0x6c, 0x77, 0x09, 0x88, 0xc0,
	0xba, 0xd9, 0x46, 0xe2, 0x08, 0xe2, 0x4f, 0xa0, 0x74, 0xe5, 0xab, 0x31,
	0x43, 0xdb, 0x5b, 0xfc, 0xe0, 0xfd, 0x10, 0x8e, 0x4b, 0x82, 0xd1, 0x20,
	0xa9, 0x3a, 0xd2, 0xca, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static const uint8_t modp_g[] = { 2 };

/* Named-curve OIDs, DER-encoded, as NSS wants them in SECKEYECParams. */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
/* 1.3.6.1.4.1.11591.15.1: NSS's name for Curve25519 as an EC named curve */
static const uint8_t oid_25519[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f,
				     0x01 };

/* Base points in KE payload form (x || y; u), to check a fixed key's public value. */
static const uint8_t p256_g[64] = {
	0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
	0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
	0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2,
	0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
	0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68,
	0x37, 0xbf, 0x51, 0xf5,
};
static const uint8_t p384_g[96] = {
	0xaa, 0x87, 0xca, 0x22, 0xbe, 0x8b, 0x05, 0x37, 0x8e, 0xb1, 0xc7, 0x1e,
	0xf3, 0x20, 0xad, 0x74, 0x6e, 0x1d, 0x3b, 0x62, 0x8b, 0xa7, 0x9b, 0x98,
	0x59, 0xf7, 0x41, 0xe0, 0x82, 0x54, 0x2a, 0x38, 0x55, 0x02, 0xf2, 0x5d,
	0xbf, 0x55, 0x29, 0x6c, 0x3a, 0x54, 0x5e, 0x38, 0x72, 0x76, 0x0a, 0xb7,
	0x36, 0x17, 0xde, 0x4a, 0x96, 0x26, 0x2c, 0x6f, 0x5d, 0x9e, 0x98, 0xbf,
	0x92, 0x92, 0xdc, 0x29, 0xf8, 0xf4, 0x1d, 0xbd, 0x28, 0x9a, 0x14, 0x7c,
	0xe9, 0xda, 0x31, 0x13, 0xb5, 0xf0, 0xb8, 0xc0, 0x0a, 0x60, 0xb1, 0xce,
	0x1d, 0x7e, 0x81, 0x9d, 0x7a, 0x43, 0x1d, 0x7c, 0x90, 0xea, 0x0e, 0x5f,
};
static const uint8_t x25519_g[32] = { 9 };

enum dh_kind { DH_MODP, DH_ECP, DH_X25519 };

struct dh_group {
	uint16_t id;
	enum dh_kind kind;
	size_t len;                     /* field element / prime length in bytes */
	const uint8_t *param;           /* MODP prime or curve OID */
	size_t param_len;
	const uint8_t *base;            /* ECP / Curve25519 base point, KE payload form */
};

static const struct dh_group groups[] = {
	{ CRYPTO_DH_MODP2048, DH_MODP, 256, modp2048_p, sizeof(modp2048_p), NULL },
	{ CRYPTO_DH_MODP3072, DH_MODP, 384, modp3072_p, sizeof(modp3072_p), NULL },
	{ CRYPTO_DH_ECP256, DH_ECP, 32, oid_p256, sizeof(oid_p256), p256_g },
	{ CRYPTO_DH_ECP384, DH_ECP, 48, oid_p384, sizeof(oid_p384), p384_g },
	{ CRYPTO_DH_CURVE25519, DH_X25519, 32, oid_25519, sizeof(oid_25519), x25519_g },
};

struct crypto_dh {
	struct crypto *c;               /* (borrowed) */
	const struct dh_group *g;
	SECKEYPrivateKey *priv;         /* (owned) */
	uint8_t pub[CRYPTO_MAX_DH_LEN]; /* KE payload form, g->len or 2 * g->len bytes */
	size_t pub_len;
};

static const struct dh_group *group_lookup(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

static SECItem item(const void *p, size_t len)
{
	SECItem it = { siBuffer, (unsigned char *)p, (unsigned int)len };
	return it;
}

bool crypto_dh_supported(uint16_t group)
{
	return group_lookup(group) != NULL;
}

size_t crypto_dh_public_len(uint16_t group)
{
	const struct dh_group *g = group_lookup(group);
	if (g == NULL)
		return 0;
	return g->kind == DH_ECP ? 2 * g->len : g->len;
}

size_t crypto_dh_secret_len(uint16_t group)
{
	const struct dh_group *g = group_lookup(group);
	return g == NULL ? 0 : g->len;
}

uint16_t crypto_dh_group(const struct crypto_dh *dh)
{
	return dh->g->id;
}

/* Store NSS's public value in KE payload form. */
static int set_public(struct crypto_dh *dh, const SECItem *v)
{
	const struct dh_group *g = dh->g;

	switch (g->kind) {
	case DH_MODP:
		/* NSS may drop leading zero octets; RFC 7296 §3.4 wants the prime's length. */
		if (v->len == 0 || v->len > g->len)
			return -EIO;
		memset(dh->pub, 0, g->len - v->len);
		memcpy(dh->pub + g->len - v->len, v->data, v->len);
		dh->pub_len = g->len;
		return 0;
	case DH_ECP:
		/* 0x04 || x || y; RFC 5903 §7 drops the point-format octet */
		if (v->len != 1 + 2 * g->len || v->data[0] != 0x04)
			return -EIO;
		memcpy(dh->pub, v->data + 1, 2 * g->len);
		dh->pub_len = 2 * g->len;
		return 0;
	case DH_X25519:
		if (v->len != g->len)
			return -EIO;
		memcpy(dh->pub, v->data, g->len);
		dh->pub_len = g->len;
		return 0;
	}
	return -EIO;
}

/* Curve25519: a random scalar imported, its public value X25519(k, 9) computed by one
 * derive. NSS 3.87's key-pair generation adds a pairwise-consistency derive (the
 * no-pairwise mechanism arrived in NSS 3.105), so this halves the cost (performance.md
 * §3: 80 -> 43 us here). RFC 7748 §5 clamps the scalar inside X25519 itself. */
static int x25519_new(struct crypto *c, struct crypto_dh **out)
{
	uint8_t k[32];
	int r = crypto_random(k, sizeof(k));

	if (r == 0)
		r = crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(k, sizeof(k)),
					CRYPTO_IOV(NULL, 0), out);
	explicit_bzero(k, sizeof(k));
	return r;
}

static int derive(struct crypto_dh *dh, const uint8_t *peer, struct crypto_buf *secret);

/* MODP: a random 256-bit exponent x (at least twice the strength of the 2048- and
 * 3072-bit groups, RFC 3526 §8) imported as a session DH private key, and g^x computed by
 * one derive with the peer value g. NSS 3.87's DH key-pair generation adds a
 * pairwise-consistency derive (~0.4 ms for MODP-2048, performance.md §3), and neither
 * PKCS#8 (NSS's DH template drops the prime and base) nor C_UnwrapKey take a DH key, so
 * the key goes in as an object with all its attributes, found again by a random CKA_ID.
 * A fresh x for every exchange: nothing is reused. -ENOTSUP: this NSS refused (the caller
 * falls back to key-pair generation). */
static int modp_import(struct crypto *c, struct crypto_dh *dh)
{
	const struct dh_group *g = dh->g;
	uint8_t x[32], id[16], gpub[CRYPTO_MAX_DH_LEN];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_DH;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	int r;

	if ((r = crypto_random(x, sizeof(x))) != 0 || (r = crypto_random(id, sizeof(id))) != 0)
		return r;
	x[0] |= 0x80;                 /* exactly 256 bits: never 0 or 1 */
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) }, { CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_SENSITIVE, &no, sizeof(no) }, { CKA_DERIVE, &yes, sizeof(yes) },
		{ CKA_PRIME, (void *)g->param, g->param_len },
		{ CKA_BASE, (void *)modp_g, sizeof(modp_g) },
		{ CKA_VALUE, x, sizeof(x) }, { CKA_ID, id, sizeof(id) },
	};
	PK11GenericObject *o = PK11_CreateGenericObject(c->slot, t, sizeof(t) / sizeof(t[0]),
							PR_FALSE);
	explicit_bzero(x, sizeof(x));
	if (o == NULL)
		return -ENOTSUP;
	SECItem idi = item(id, sizeof(id));
	/* the key object owns the PKCS#11 object: destroying it destroys the object */
	dh->priv = PK11_FindKeyByKeyID(c->slot, &idi, NULL);
	if (dh->priv == NULL) {
		(void)PK11_DestroyObject(c->slot, PK11_GetObjectHandle(PK11_TypeGeneric, o, NULL));
		PK11_DestroyGenericObject(o);
		return -ENOTSUP;
	}
	PK11_DestroyGenericObject(o);     /* the handle only (not a managed object) */
	memset(gpub, 0, g->len);
	gpub[g->len - 1] = modp_g[0];
	struct crypto_buf y = { NULL, 0 };
	if ((r = derive(dh, gpub, &y)) != 0)
		return r == -EINVAL ? -EIO : r;
	memcpy(dh->pub, y.p, g->len);
	dh->pub_len = g->len;
	crypto_buf_free(&y);
	return 0;
}

int crypto_dh_new(struct crypto *c, uint16_t group, struct crypto_dh **out)
{
	const struct dh_group *g = group_lookup(group);
	SECKEYPublicKey *pub = NULL;
	struct crypto_dh *dh;
	int r = -EIO;

	*out = NULL;
	if (g == NULL)
		return -ENOTSUP;
	if (g->kind == DH_X25519)
		return x25519_new(c, out);
	dh = calloc(1, sizeof(*dh));
	if (dh == NULL)
		return -ENOMEM;
	dh->c = c;
	dh->g = g;
	if (g->kind == DH_MODP && (r = modp_import(c, dh)) != -ENOTSUP) {
		if (r != 0)
			goto done;
		*out = dh;
		return 0;
	}
	r = -EIO;
	if (dh->priv != NULL) {
		SECKEY_DestroyPrivateKey(dh->priv);
		dh->priv = NULL;
	}
	if (g->kind == DH_MODP) {
		SECKEYDHParams params;
		memset(&params, 0, sizeof(params));
		params.prime = item(g->param, g->param_len);
		params.base = item(modp_g, sizeof(modp_g));
		dh->priv = SECKEY_CreateDHPrivateKey(&params, &pub, NULL);
	} else {
		SECKEYECParams params = item(g->param, g->param_len);
		dh->priv = SECKEY_CreateECPrivateKey(&params, &pub, NULL);
	}
	if (dh->priv == NULL || pub == NULL)
		goto done;
	r = set_public(dh, g->kind == DH_MODP ? &pub->u.dh.publicValue : &pub->u.ec.publicValue);
done:
	if (pub != NULL)
		SECKEY_DestroyPublicKey(pub);
	if (r != 0)
		crypto_dh_free(dh);
	else
		*out = dh;
	return r;
}

/* A minimal DER writer for the PKCS#8 wrapper of a fixed EC private key. */
struct der {
	uint8_t b[256];
	size_t len;
	bool overflow;
};

static void der_put(struct der *d, const void *p, size_t n)
{
	if (d->overflow || n > sizeof(d->b) - d->len) {
		d->overflow = true;
		return;
	}
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

/* Lengths below 256 octets: all a PKCS#8 made here needs. */
static void der_hdr(struct der *d, uint8_t tag, size_t n)
{
	uint8_t h[3] = { tag, 0x81, (uint8_t)n };

	if (n >= 0x100)
		d->overflow = true;
	else if (n >= 0x80)
		der_put(d, h, 3);
	else
		der_put(d, (uint8_t[]){ tag, (uint8_t)n }, 2);
}

static size_t der_size(size_t n)
{
	return (n < 0x80 ? 2 : 3) + n;
}

/* PrivateKeyInfo { 0, { id-ecPublicKey, namedCurve },
 *	OCTET STRING ECPrivateKey { 1, OCTET STRING priv, [1] BIT STRING pub } }
 * NSS wants the public value in it (for CKA_ID) and does not check it; pub is in NSS form. */
static int pkcs8_ec(struct der *d, const struct dh_group *g, struct crypto_iov priv,
		    const uint8_t *pub, size_t pub_len)
{
	static const uint8_t v0[] = { 0x02, 0x01, 0x00 }, v1[] = { 0x02, 0x01, 0x01 };
	static const uint8_t id_ec[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
	size_t bits = 1 + pub_len;
	size_t ecpk = sizeof(v1) + der_size(priv.len) + der_size(der_size(bits));
	size_t alg = sizeof(id_ec) + g->param_len;
	size_t body = sizeof(v0) + der_size(alg) + der_size(der_size(ecpk));

	d->len = 0;
	d->overflow = false;
	der_hdr(d, 0x30, body);
	der_put(d, v0, sizeof(v0));
	der_hdr(d, 0x30, alg);
	der_put(d, id_ec, sizeof(id_ec));
	der_put(d, g->param, g->param_len);
	der_hdr(d, 0x04, der_size(ecpk));
	der_hdr(d, 0x30, ecpk);
	der_put(d, v1, sizeof(v1));
	der_hdr(d, 0x04, priv.len);
	der_put(d, priv.p, priv.len);
	der_hdr(d, 0xa1, der_size(bits));
	der_hdr(d, 0x03, bits);
	der_put(d, (const uint8_t[]){ 0 }, 1);              /* no unused bits */
	der_put(d, pub, pub_len);
	return d->overflow ? -EINVAL : 0;
}

int crypto_dh_public(const struct crypto_dh *dh, struct crypto_buf *out)
{
	return crypto_buf_dup(out, dh->pub, dh->pub_len);
}

/* 1 < y < p - 1 (RFC 7296 §5, NIST SP 800-56A 5.6.2.3.1); p is odd so p - 1 differs from p in
 * its last octet only. Public values: no need for constant time. */
static bool modp_valid(const struct dh_group *g, const uint8_t *y)
{
	size_t n = g->len;
	int cmp;
	bool small = true;

	for (size_t i = 0; i + 1 < n; i++)
		if (y[i] != 0)
			small = false;
	if (small && y[n - 1] <= 1)
		return false;
	cmp = memcmp(y, g->param, n - 1);
	if (cmp != 0)
		return cmp < 0;
	return y[n - 1] < g->param[n - 1] - 1;
}

/* g^ir from the peer's KE payload data, whose length the caller has checked. */
static int derive(struct crypto_dh *dh, const uint8_t *peer, struct crypto_buf *secret)
{
	const struct dh_group *g = dh->g;
	size_t plen = crypto_dh_public_len(g->id);
	uint8_t point[1 + 2 * 48];
	SECKEYPublicKey pk;
	PK11SymKey *sym = NULL;
	const SECItem *v;
	int r;

	memset(&pk, 0, sizeof(pk));
	pk.pkcs11ID = CK_INVALID_HANDLE;
	switch (g->kind) {
	case DH_MODP:
		if (!modp_valid(g, peer))
			return -EINVAL;
		pk.keyType = dhKey;
		pk.u.dh.prime = item(g->param, g->param_len);
		pk.u.dh.base = item(modp_g, sizeof(modp_g));
		pk.u.dh.publicValue = item(peer, plen);
		sym = PK11_PubDerive(dh->priv, &pk, PR_FALSE, NULL, NULL, CKM_DH_PKCS_DERIVE,
				     CKM_GENERIC_SECRET_KEY_GEN, CKA_DERIVE, 0, NULL);
		break;
	case DH_ECP:
	case DH_X25519:
		pk.keyType = ecKey;
		pk.u.ec.DEREncodedParams = item(g->param, g->param_len);
		pk.u.ec.size = (int)(8 * g->len);
		if (g->kind == DH_ECP) {
			/* NSS checks that the point is on the curve (ECDH_Derive) */
			point[0] = 0x04;
			memcpy(point + 1, peer, plen);
			pk.u.ec.publicValue = item(point, 1 + plen);
		} else {
			pk.u.ec.publicValue = item(peer, plen);
		}
		sym = PK11_PubDeriveWithKDF(dh->priv, &pk, PR_FALSE, NULL, NULL, CKM_ECDH1_DERIVE,
					    CKM_GENERIC_SECRET_KEY_GEN, CKA_DERIVE, 0, CKD_NULL,
					    NULL, NULL);
		break;
	}
	if (sym == NULL)
		return -EINVAL;     /* NSS rejected the peer's value */
	r = -EIO;
	if (PK11_ExtractKeyValue(sym) != SECSuccess)
		goto done;
	v = PK11_GetKeyData(sym);
	if (v == NULL || v->len == 0 || v->len > g->len)
		goto done;
	r = crypto_buf_alloc(secret, g->len);
	if (r != 0)
		goto done;
	/* left-pad: NSS may strip leading zero octets of g^ir */
	memcpy(secret->p + g->len - v->len, v->data, v->len);
	/* RFC 7748 §6.1: an all-zero X25519 output means a small-order peer value */
	if (g->kind == DH_X25519 && NSS_SecureMemcmpZero(secret->p, secret->len) == 0) {
		crypto_buf_free(secret);
		r = -EINVAL;
	}
done:
	PK11_FreeSymKey(sym);
	return r;
}

int crypto_dh_derive(struct crypto_dh *dh, struct crypto_iov peer, struct crypto_buf *secret)
{
	secret->p = NULL;
	secret->len = 0;
	if (peer.len != crypto_dh_public_len(dh->g->id))
		return -EINVAL;
	return derive(dh, peer.p, secret);
}

/* The public value of an imported key: Curve25519 computes X25519(k, 9); for ECP (whose y NSS
 * cannot give) the caller's value is checked to lie on the curve and to have x(k * G) as x. */
static int fixed_public(struct crypto_dh *dh, struct crypto_iov pub)
{
	const struct dh_group *g = dh->g;
	struct crypto_buf s = { NULL, 0 };
	int r = derive(dh, g->base, &s);

	if (r != 0)
		return r == -EINVAL ? -EIO : r;
	if (g->kind == DH_X25519) {
		if (pub.len != 0 && memcmp(pub.p, s.p, s.len) != 0)
			r = -EINVAL;
		memcpy(dh->pub, s.p, s.len);
		dh->pub_len = s.len;
	} else {
		if (memcmp(pub.p, s.p, s.len) != 0)
			r = -EINVAL;
		crypto_buf_free(&s);
		if (r == 0)
			r = derive(dh, pub.p, &s);
		memcpy(dh->pub, pub.p, pub.len);
		dh->pub_len = pub.len;
	}
	crypto_buf_free(&s);
	return r;
}

int crypto_dh_new_fixed(struct crypto *c, uint16_t group, struct crypto_iov priv,
			struct crypto_iov pub, struct crypto_dh **out)
{
	const struct dh_group *g = group_lookup(group);
	uint8_t nsspub[1 + 2 * 48];
	size_t nsspub_len;
	struct crypto_dh *dh = NULL;
	struct der d;
	SECItem der;
	int r;

	*out = NULL;
	if (g == NULL || g->kind == DH_MODP)
		return -ENOTSUP;
	if (priv.len != g->len)
		return -EINVAL;
	if (g->kind == DH_ECP) {
		if (pub.len != 2 * g->len)
			return -EINVAL;
		nsspub[0] = 0x04;
		memcpy(nsspub + 1, pub.p, pub.len);
		nsspub_len = 1 + pub.len;
	} else {
		if (pub.len != 0 && pub.len != g->len)
			return -EINVAL;
		/* a placeholder: NSS only makes the key's CKA_ID of it */
		memcpy(nsspub, g->base, g->len);
		nsspub_len = g->len;
	}
	r = pkcs8_ec(&d, g, priv, nsspub, nsspub_len);
	if (r != 0)
		goto done;
	r = -ENOMEM;
	dh = calloc(1, sizeof(*dh));
	if (dh == NULL)
		goto done;
	dh->c = c;
	dh->g = g;
	r = -EIO;
	der = item(d.b, d.len);
	if (PK11_ImportDERPrivateKeyInfoAndReturnKey(c->slot, &der, NULL, NULL, PR_FALSE, PR_TRUE,
						     KU_KEY_AGREEMENT, &dh->priv,
						     NULL) != SECSuccess ||
	    dh->priv == NULL)
		goto done;
	r = fixed_public(dh, pub);
done:
	explicit_bzero(d.b, sizeof(d.b));
	if (r != 0)
		crypto_dh_free(dh);
	else
		*out = dh;
	return r;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh == NULL)
		return;
	if (dh->priv != NULL)
		SECKEY_DestroyPrivateKey(dh->priv);
	free(dh);
}
