/* cert_alg.c — RFC 7427 signature AlgorithmIdentifiers: the exact DER we send (Appendix A,
 * byte-identical to Libreswan's and strongSwan's), and a strict DER parser for the peer's,
 * built on rd (every byte here is untrusted). */
#include "config.h"

#define MESHD_CERT_INTERNAL
#include "cert.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "rd.h"

/* ---- OIDs (contents octets) ---- */
static const uint8_t OID_SHA1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t OID_SHA256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t OID_SHA384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
static const uint8_t OID_SHA512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };
static const uint8_t OID_MGF1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08 };
static const uint8_t OID_RSASSA_PSS[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a };
/* sha{256,384,512}WithRSAEncryption: 1.2.840.113549.1.1.{11,12,13} */
static const uint8_t OID_PKCS1_PREFIX[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01 };
/* ecdsa-with-SHA{256,384,512}: 1.2.840.10045.4.3.{2,3,4} */
static const uint8_t OID_ECDSA_PREFIX[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03 };

/* ---- the blobs we send (RFC 7427 Appendix A; RSASSA-PSS as A.4.3 with the hash varied) ---- */
#define PSS_BLOB(hashbyte, salt)                                                            \
	{ 0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,     \
	  0x30, 0x34,                                                                       \
	  0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,     \
	  0x02, hashbyte, 0x05, 0x00,                                                       \
	  0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,     \
	  0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,     \
	  0x02, hashbyte, 0x05, 0x00,                                                       \
	  0xa2, 0x03, 0x02, 0x01, salt }
static const uint8_t BLOB_PSS_256[] = PSS_BLOB(0x01, 0x20);
static const uint8_t BLOB_PSS_384[] = PSS_BLOB(0x02, 0x30);
static const uint8_t BLOB_PSS_512[] = PSS_BLOB(0x03, 0x40);

#define ECDSA_BLOB(last) { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last }
static const uint8_t BLOB_ECDSA_256[] = ECDSA_BLOB(0x02);
static const uint8_t BLOB_ECDSA_384[] = ECDSA_BLOB(0x03);
static const uint8_t BLOB_ECDSA_512[] = ECDSA_BLOB(0x04);

#define PKCS1_BLOB(last)                                                                    \
	{ 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last,     \
	  0x05, 0x00 }
static const uint8_t BLOB_PKCS1_256[] = PKCS1_BLOB(0x0b);
static const uint8_t BLOB_PKCS1_384[] = PKCS1_BLOB(0x0c);
static const uint8_t BLOB_PKCS1_512[] = PKCS1_BLOB(0x0d);

const uint8_t *cert_alg_blob(enum cert_sig_scheme scheme, uint16_t hash, size_t *len)
{
	static const struct {
		enum cert_sig_scheme scheme;
		uint16_t hash;
		const uint8_t *p;
		size_t len;
	} tab[] = {
#define B(s, h, b) { s, h, b, sizeof(b) }
		B(CERT_SIG_RSA_PSS, CRYPTO_HASH_SHA2_256, BLOB_PSS_256),
		B(CERT_SIG_RSA_PSS, CRYPTO_HASH_SHA2_384, BLOB_PSS_384),
		B(CERT_SIG_RSA_PSS, CRYPTO_HASH_SHA2_512, BLOB_PSS_512),
		B(CERT_SIG_ECDSA, CRYPTO_HASH_SHA2_256, BLOB_ECDSA_256),
		B(CERT_SIG_ECDSA, CRYPTO_HASH_SHA2_384, BLOB_ECDSA_384),
		B(CERT_SIG_ECDSA, CRYPTO_HASH_SHA2_512, BLOB_ECDSA_512),
		B(CERT_SIG_RSA_PKCS1, CRYPTO_HASH_SHA2_256, BLOB_PKCS1_256),
		B(CERT_SIG_RSA_PKCS1, CRYPTO_HASH_SHA2_384, BLOB_PKCS1_384),
		B(CERT_SIG_RSA_PKCS1, CRYPTO_HASH_SHA2_512, BLOB_PKCS1_512),
#undef B
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].scheme == scheme && tab[i].hash == hash) {
			*len = tab[i].len;
			return tab[i].p;
		}
	}
	*len = 0;
	return NULL;
}

/* ---- hashes ---- */

CK_MECHANISM_TYPE cert_hash_mech(uint16_t hash)
{
	switch (hash) {
	case CRYPTO_HASH_SHA1: return CKM_SHA_1;
	case CRYPTO_HASH_SHA2_256: return CKM_SHA256;
	case CRYPTO_HASH_SHA2_384: return CKM_SHA384;
	case CRYPTO_HASH_SHA2_512: return CKM_SHA512;
	}
	return CKM_INVALID_MECHANISM;
}

CK_RSA_PKCS_MGF_TYPE cert_hash_mgf(uint16_t hash)
{
	switch (hash) {
	case CRYPTO_HASH_SHA1: return CKG_MGF1_SHA1;
	case CRYPTO_HASH_SHA2_256: return CKG_MGF1_SHA256;
	case CRYPTO_HASH_SHA2_384: return CKG_MGF1_SHA384;
	case CRYPTO_HASH_SHA2_512: return CKG_MGF1_SHA512;
	}
	return 0;
}

/* ---- a strict DER reader over rd ---- */

enum {
	TAG_INTEGER = 0x02, TAG_NULL = 0x05, TAG_OID = 0x06, TAG_SEQUENCE = 0x30,
	TAG_CTX0 = 0xa0, TAG_CTX1 = 0xa1, TAG_CTX2 = 0xa2, TAG_CTX3 = 0xa3,
};

/* Next TLV: its tag and a view of its value. Definite, minimal lengths only (up to 64 KiB,
 * far beyond any AlgorithmIdentifier); low tag numbers only. */
static int der_next(struct rd *r, uint8_t *tag, struct rd *val)
{
	uint8_t t = 0, l0 = 0, b = 0;
	size_t len;

	rd_u8(r, &t);
	rd_u8(r, &l0);
	if (!rd_ok(r) || (t & 0x1f) == 0x1f)
		goto bad;
	if (l0 < 0x80) {
		len = l0;
	} else if (l0 == 0x81) {
		rd_u8(r, &b);
		if (b < 0x80)
			goto bad;
		len = b;
	} else if (l0 == 0x82) {
		uint16_t v = 0;
		rd_be16(r, &v);
		if (v < 0x100)
			goto bad;
		len = v;
	} else {
		goto bad;
	}
	*tag = t;
	return rd_sub(r, len, val);
bad:
	rd_fail(r);
	rd_init(val, NULL, 0);
	rd_fail(val);
	return -EINVAL;
}

static bool der_expect(struct rd *r, uint8_t tag, struct rd *val)
{
	uint8_t t = 0;
	if (der_next(r, &t, val) != 0)
		return false;
	if (t != tag) {
		rd_fail(r);
		return false;
	}
	return true;
}

static bool rd_eq(const struct rd *v, const uint8_t *p, size_t n)
{
	return rd_ok(v) && v->len == n && memcmp(v->p, p, n) == 0;
}

/* AlgorithmIdentifier of a hash: SEQUENCE { OID, NULL OPTIONAL }. */
static int parse_hash_alg(struct rd *seq, uint16_t *hash)
{
	struct rd oid, null;

	if (!der_expect(seq, TAG_OID, &oid))
		return -EINVAL;
	if (rd_left(seq) > 0) {
		if (!der_expect(seq, TAG_NULL, &null) || rd_left(&null) != 0)
			return -EINVAL;
	}
	if (!rd_done(seq))
		return -EINVAL;
	if (rd_eq(&oid, OID_SHA256, sizeof(OID_SHA256)))
		*hash = CRYPTO_HASH_SHA2_256;
	else if (rd_eq(&oid, OID_SHA384, sizeof(OID_SHA384)))
		*hash = CRYPTO_HASH_SHA2_384;
	else if (rd_eq(&oid, OID_SHA512, sizeof(OID_SHA512)))
		*hash = CRYPTO_HASH_SHA2_512;
	else if (rd_eq(&oid, OID_SHA1, sizeof(OID_SHA1)))
		*hash = CRYPTO_HASH_SHA1;
	else
		return -ENOTSUP;
	return 0;
}

/* A small non-negative INTEGER (DER: minimal, no sign bit). */
static int parse_uint(struct rd *v, unsigned *out)
{
	unsigned x = 0;
	uint8_t b = 0;

	if (!rd_ok(v) || rd_left(v) == 0 || rd_left(v) > 3 || (v->p[0] & 0x80) != 0 ||
	    (rd_left(v) > 1 && v->p[0] == 0 && (v->p[1] & 0x80) == 0))
		return -EINVAL;
	while (rd_left(v) > 0) {
		rd_u8(v, &b);
		x = x << 8 | b;
	}
	*out = x;
	return 0;
}

/* RSASSA-PSS-params (RFC 4055 §3.1); defaults SHA-1, MGF1-SHA-1, salt 20, trailer 1. */
static int parse_pss(struct rd *p, struct cert_alg *out)
{
	uint8_t tag = 0, last = 0;
	int r;

	out->scheme = CERT_SIG_RSA_PSS;
	out->hash = out->mgf_hash = CRYPTO_HASH_SHA1;
	out->salt_len = 20;
	while (rd_left(p) > 0) {
		struct rd v, seq, oid, inner;
		unsigned trailer = 0;

		if (der_next(p, &tag, &v) != 0)
			return -EINVAL;
		if (tag <= last || tag < TAG_CTX0 || tag > TAG_CTX3)
			return -EINVAL;       /* unknown, repeated or out of order */
		last = tag;
		switch (tag) {
		case TAG_CTX0:
			if (!der_expect(&v, TAG_SEQUENCE, &seq) || !rd_done(&v))
				return -EINVAL;
			if ((r = parse_hash_alg(&seq, &out->hash)) != 0)
				return r;
			break;
		case TAG_CTX1:
			if (!der_expect(&v, TAG_SEQUENCE, &seq) || !rd_done(&v))
				return -EINVAL;
			if (!der_expect(&seq, TAG_OID, &oid))
				return -EINVAL;
			if (!der_expect(&seq, TAG_SEQUENCE, &inner) || !rd_done(&seq))
				return -EINVAL;
			if (!rd_eq(&oid, OID_MGF1, sizeof(OID_MGF1)))
				return -ENOTSUP;
			if ((r = parse_hash_alg(&inner, &out->mgf_hash)) != 0)
				return r;
			break;
		case TAG_CTX2:
			if (!der_expect(&v, TAG_INTEGER, &seq) || !rd_done(&v))
				return -EINVAL;
			if (parse_uint(&seq, &out->salt_len) != 0)
				return -EINVAL;
			break;
		case TAG_CTX3:
			if (!der_expect(&v, TAG_INTEGER, &seq) || !rd_done(&v))
				return -EINVAL;
			if (parse_uint(&seq, &trailer) != 0)
				return -EINVAL;
			if (trailer != 1)
				return -ENOTSUP;
			break;
		}
	}
	if (!rd_done(p))
		return -EINVAL;
	/* SHA-1 is not offered in RFC 7427 negotiation by us; refuse it in PSS too */
	if (out->hash == CRYPTO_HASH_SHA1 || out->mgf_hash == CRYPTO_HASH_SHA1)
		return -ENOTSUP;
	return 0;
}

int cert_alg_parse(const uint8_t *der, size_t len, struct cert_alg *out)
{
	struct rd r, seq, oid, params;
	uint8_t tag = 0;

	memset(out, 0, sizeof(*out));
	rd_init(&r, der, len);
	if (der == NULL || !der_expect(&r, TAG_SEQUENCE, &seq) || !rd_done(&r))
		return -EINVAL;
	if (!der_expect(&seq, TAG_OID, &oid))
		return -EINVAL;
	if (rd_eq(&oid, OID_RSASSA_PSS, sizeof(OID_RSASSA_PSS))) {
		/* RFC 7427 A.4.1 "empty parameters" would mean SHA-1: not accepted */
		if (rd_left(&seq) == 0)
			return -ENOTSUP;
		if (!der_expect(&seq, TAG_SEQUENCE, &params) || !rd_done(&seq))
			return -EINVAL;
		return parse_pss(&params, out);
	}
	/* the others take no parameters (ECDSA, RFC 5758) or NULL (PKCS#1) */
	if (rd_left(&seq) > 0) {
		if (der_next(&seq, &tag, &params) != 0 || tag != TAG_NULL ||
		    rd_left(&params) != 0 || !rd_done(&seq))
			return -EINVAL;
	}
	if (oid.len == sizeof(OID_PKCS1_PREFIX) + 1 &&
	    memcmp(oid.p, OID_PKCS1_PREFIX, sizeof(OID_PKCS1_PREFIX)) == 0) {
		out->scheme = CERT_SIG_RSA_PKCS1;
		switch (oid.p[sizeof(OID_PKCS1_PREFIX)]) {
		case 0x0b: out->hash = CRYPTO_HASH_SHA2_256; return 0;
		case 0x0c: out->hash = CRYPTO_HASH_SHA2_384; return 0;
		case 0x0d: out->hash = CRYPTO_HASH_SHA2_512; return 0;
		}
		return -ENOTSUP;
	}
	if (oid.len == sizeof(OID_ECDSA_PREFIX) + 1 &&
	    memcmp(oid.p, OID_ECDSA_PREFIX, sizeof(OID_ECDSA_PREFIX)) == 0) {
		if (tag == TAG_NULL)
			return -EINVAL;       /* RFC 5758 §3.2: parameters MUST be absent */
		out->scheme = CERT_SIG_ECDSA;
		switch (oid.p[sizeof(OID_ECDSA_PREFIX)]) {
		case 0x02: out->hash = CRYPTO_HASH_SHA2_256; return 0;
		case 0x03: out->hash = CRYPTO_HASH_SHA2_384; return 0;
		case 0x04: out->hash = CRYPTO_HASH_SHA2_512; return 0;
		}
		return -ENOTSUP;
	}
	return -ENOTSUP;
}
