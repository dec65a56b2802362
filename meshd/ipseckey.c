/* ipseckey.c — IPSECKEY rdata (RFC 4025), key format conversions, query names and the DNS
 * key cache. No DNS library here: dns.c hands us rdata bytes. See ipseckey.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipseckey.h"
#include "rd.h"
#include "wr.h"

#define WHY(s) do { if (why != NULL) *why = (s); } while (0)

/* ---- DER pieces for SubjectPublicKeyInfo ---- */

static const uint8_t ALG_RSA[] = {          /* SEQ { rsaEncryption, NULL } */
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
};
static const uint8_t OID_EC[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t OID_P256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t OID_P384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t ALG_ED25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t ALG_ED448[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71 };

static size_t der_len_size(size_t n)
{
	size_t s = 1;

	if (n >= 0x80)
		for (; n > 0; n >>= 8)
			s++;
	return s;
}

static size_t der_size(size_t content)
{
	return 1 + der_len_size(content) + content;
}

static int der_hdr(struct wr *w, uint8_t tag, size_t n)
{
	wr_u8(w, tag);
	if (n < 0x80)
		return wr_u8(w, (uint8_t)n);
	size_t k = der_len_size(n) - 1;
	wr_u8(w, (uint8_t)(0x80 | k));
	while (k-- > 0)
		wr_u8(w, (uint8_t)(n >> (8 * k)));
	return w->err;
}

/* An unsigned big-endian number as a DER INTEGER: no leading zeros, one 0x00 when the top
 * bit is set. p has no leading zero octets (RFC 3110) but may be a single 0. */
static size_t der_uint_content(const uint8_t *p, size_t n)
{
	return n + ((p[0] & 0x80) ? 1 : 0);
}

static void der_uint(struct wr *w, const uint8_t *p, size_t n)
{
	der_hdr(w, 0x02, der_uint_content(p, n));
	if (p[0] & 0x80)
		wr_u8(w, 0);
	wr_bytes(w, p, n);
}

/* RFC 3110 §2 layout; fills exponent and modulus views and the modulus size in bits. */
static int rsa_split(const uint8_t *key, size_t len, const uint8_t **e, size_t *e_len,
		     const uint8_t **n, size_t *n_len, unsigned *bits, const char **why)
{
	struct rd r;
	uint8_t l8;
	uint16_t l16 = 0;

	rd_init(&r, key, len);
	rd_u8(&r, &l8);
	if (l8 == 0)
		rd_be16(&r, &l16);
	*e_len = l8 != 0 ? l8 : l16;
	rd_bytes(&r, *e_len, e);
	*n_len = rd_left(&r);
	rd_bytes(&r, *n_len, n);
	if (!rd_ok(&r) || *e_len == 0 || *n_len == 0) {
		WHY("RSA key truncated (RFC 3110 exponent length or modulus missing)");
		return -EBADMSG;
	}
	if ((*e)[0] == 0 || (*n)[0] == 0) {
		WHY("RSA key has leading zero octets (RFC 3110 §2)");
		return -EBADMSG;
	}
	if (*e_len > *n_len) {
		WHY("RSA exponent longer than the modulus");
		return -EBADMSG;
	}
	if (*n_len > IPSECKEY_RSA_MAX_BITS / 8) {
		WHY("RSA modulus too long");
		return -ENOTSUP;
	}
	unsigned top = 0;
	for (uint8_t b = (*n)[0]; b != 0; b >>= 1)
		top++;
	*bits = (unsigned)(*n_len - 1) * 8 + top;
	if (*bits < IPSECKEY_RSA_MIN_BITS) {
		WHY("RSA modulus too short");
		return -ENOTSUP;
	}
	return 0;
}

/* ---- rdata ---- */

/* Uncompressed wire name (RFC 1035 §3.1; RFC 4025 §2.5 forbids compression) into its
 * presentation form, escaping what is not a letter, digit, '-' or '_'. */
static int wire_name(struct rd *r, char *out, size_t cap, const char **why)
{
	size_t total = 0, o = 0;
	uint8_t l;

	for (;;) {
		if (rd_u8(r, &l) != 0) {
			WHY("gateway name truncated");
			return -EBADMSG;
		}
		total += 1 + (size_t)l;
		if (l & 0xc0) {
			WHY("gateway name uses compression or an extended label type");
			return -EBADMSG;
		}
		if (total > 255) {
			WHY("gateway name longer than 255 octets");
			return -EBADMSG;
		}
		if (l == 0)
			break;
		const uint8_t *lab;
		if (rd_bytes(r, l, &lab) != 0) {
			WHY("gateway name truncated");
			return -EBADMSG;
		}
		for (size_t i = 0; i < l; i++) {
			uint8_t c = lab[i];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == '-' || c == '_';
			if (o + 5 >= cap)
				return -ENOSPC;          /* cannot happen with IPSECKEY_NAME_MAX */
			if (plain)
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
		}
		out[o++] = '.';
	}
	if (o == 0)
		out[o++] = '.';                       /* the root */
	out[o] = '\0';
	return 0;
}

int ipseckey_parse(const uint8_t *rdata, size_t len, struct ipseckey *out, const char **why)
{
	struct rd r;
	const uint8_t *p;
	int ret;

	memset(out, 0, sizeof(*out));
	rd_init(&r, rdata, len);
	rd_u8(&r, &out->precedence);
	rd_u8(&r, &out->gw_type);
	rd_u8(&r, &out->alg);
	if (!rd_ok(&r)) {
		WHY("rdata shorter than its fixed header");
		return -EBADMSG;
	}
	switch (out->gw_type) {
	case IPSECKEY_GW_NONE:
		strcpy(out->gw_name, ".");
		break;
	case IPSECKEY_GW_IPV4:
	case IPSECKEY_GW_IPV6:
		out->gw_addr.family = out->gw_type == IPSECKEY_GW_IPV4 ? AF_INET : AF_INET6;
		if (rd_bytes(&r, addr_len(out->gw_addr.family), &p) != 0) {
			WHY("gateway address truncated");
			return -EBADMSG;
		}
		memcpy(out->gw_addr.b, p, addr_len(out->gw_addr.family));
		addr_str(&out->gw_addr, out->gw_name);
		break;
	case IPSECKEY_GW_NAME:
		ret = wire_name(&r, out->gw_name, sizeof(out->gw_name), why);
		if (ret != 0)
			return ret;
		break;
	default:
		WHY("unknown gateway type");
		return -ENOTSUP;
	}
	out->key_len = rd_left(&r);
	rd_bytes(&r, out->key_len, &out->key);

	const uint8_t *e, *n;
	size_t e_len, n_len;
	switch (out->alg) {
	case IPSECKEY_ALG_NONE:
		if (out->key_len != 0) {
			WHY("algorithm 0 (no key) with a key field");
			return -EBADMSG;
		}
		return 0;
	case IPSECKEY_ALG_DSA:
		WHY("DSA keys (algorithm 1) are not accepted");
		return -ENOTSUP;
	case IPSECKEY_ALG_RSA:
		return rsa_split(out->key, out->key_len, &e, &e_len, &n, &n_len, &out->key_bits, why);
	case IPSECKEY_ALG_ECDSA:
		if (out->key_len == 64 || out->key_len == 96) {
			out->key_bits = out->key_len == 64 ? 256 : 384;
			return 0;
		}
		WHY(out->key_len == 0 ? "ECDSA key missing" : "ECDSA key is neither P-256 nor P-384");
		return out->key_len == 0 ? -EBADMSG : -ENOTSUP;
	case IPSECKEY_ALG_EDDSA:
		if (out->key_len == 32 || out->key_len == 57) {
			out->key_bits = out->key_len == 32 ? 255 : 448;
			return 0;
		}
		WHY(out->key_len == 0 ? "EdDSA key missing" : "EdDSA key is neither Ed25519 nor Ed448");
		return out->key_len == 0 ? -EBADMSG : -ENOTSUP;
	default:
		WHY("unknown key algorithm");
		return -ENOTSUP;
	}
}

bool ipseckey_usable(const struct ipseckey *k, const struct addr *peer, const char **why)
{
	if (k->alg != IPSECKEY_ALG_RSA && k->alg != IPSECKEY_ALG_ECDSA &&
	    k->alg != IPSECKEY_ALG_EDDSA) {
		WHY("record carries no usable key");
		return false;
	}
	switch (k->gw_type) {
	case IPSECKEY_GW_NONE:
		return true;
	case IPSECKEY_GW_IPV4:
	case IPSECKEY_GW_IPV6:
		if (peer != NULL && addr_eq(&k->gw_addr, peer))
			return true;
		WHY("record names a gateway other than the peer");
		return false;
	default:
		WHY("record names a gateway by name (not used for host-to-host OE)");
		return false;
	}
}

/* ---- SubjectPublicKeyInfo ---- */

static int spki_rsa(const struct ipseckey *k, struct wr *w)
{
	const uint8_t *e, *n;
	size_t e_len, n_len;
	unsigned bits;
	int ret = rsa_split(k->key, k->key_len, &e, &e_len, &n, &n_len, &bits, NULL);

	if (ret != 0)
		return ret;
	size_t seq = der_size(der_uint_content(n, n_len)) + der_size(der_uint_content(e, e_len));
	size_t bit = 1 + der_size(seq);
	der_hdr(w, 0x30, sizeof(ALG_RSA) + der_size(bit));
	wr_bytes(w, ALG_RSA, sizeof(ALG_RSA));
	der_hdr(w, 0x03, bit);
	wr_u8(w, 0);
	der_hdr(w, 0x30, seq);
	der_uint(w, n, n_len);
	der_uint(w, e, e_len);
	return w->err;
}

static int spki_ec(const struct ipseckey *k, struct wr *w)
{
	const uint8_t *oid = k->key_len == 64 ? OID_P256 : OID_P384;
	size_t oid_len = k->key_len == 64 ? sizeof(OID_P256) : sizeof(OID_P384);
	size_t alg = sizeof(OID_EC) + oid_len, bit = 2 + k->key_len;

	der_hdr(w, 0x30, der_size(alg) + der_size(bit));
	der_hdr(w, 0x30, alg);
	wr_bytes(w, OID_EC, sizeof(OID_EC));
	wr_bytes(w, oid, oid_len);
	der_hdr(w, 0x03, bit);
	wr_u8(w, 0);
	wr_u8(w, 0x04);                            /* uncompressed point (SEC 1 §2.3.3) */
	wr_bytes(w, k->key, k->key_len);
	return w->err;
}

static int spki_ed(const struct ipseckey *k, struct wr *w)
{
	const uint8_t *alg = k->key_len == 32 ? ALG_ED25519 : ALG_ED448;

	der_hdr(w, 0x30, sizeof(ALG_ED25519) + der_size(1 + k->key_len));
	wr_bytes(w, alg, sizeof(ALG_ED25519));
	der_hdr(w, 0x03, 1 + k->key_len);
	wr_u8(w, 0);
	wr_bytes(w, k->key, k->key_len);
	return w->err;
}

int ipseckey_to_spki(const struct ipseckey *k, struct buf *out)
{
	struct wr w;
	int ret;

	*out = (struct buf){ 0 };
	ret = wr_init_alloc(&w, k->key_len + 64, k->key_len + 256);
	if (ret != 0)
		return ret;
	switch (k->alg) {
	case IPSECKEY_ALG_RSA:
		ret = spki_rsa(k, &w);
		break;
	case IPSECKEY_ALG_ECDSA:
		ret = (k->key_len == 64 || k->key_len == 96) ? spki_ec(k, &w) : -ENOTSUP;
		break;
	case IPSECKEY_ALG_EDDSA:
		ret = (k->key_len == 32 || k->key_len == 57) ? spki_ed(k, &w) : -ENOTSUP;
		break;
	default:
		ret = -ENOTSUP;
	}
	if (ret == 0)
		return wr_take(&w, out);
	wr_fini(&w);
	return ret == -EBADMSG ? -ENOTSUP : ret;
}

/* One DER element: tag must match; *body is its content. Long lengths up to 4 octets. */
static int der_get(struct rd *r, uint8_t tag, struct rd *body)
{
	uint8_t t, l;
	size_t n = 0;

	rd_u8(r, &t);
	rd_u8(r, &l);
	if (l & 0x80) {
		unsigned k = l & 0x7f;
		if (k == 0 || k > 4)
			return rd_fail(r);
		for (unsigned i = 0; i < k; i++) {
			uint8_t b = 0;
			rd_u8(r, &b);
			n = n << 8 | b;
		}
	} else {
		n = l;
	}
	if (rd_ok(r) && t != tag)
		rd_fail(r);
	return rd_sub(r, n, body);
}

static bool rd_is(const struct rd *r, const uint8_t *p, size_t n)
{
	return rd_ok(r) && r->len == n && memcmp(r->p, p, n) == 0;
}

/* A DER INTEGER's magnitude: the leading 0x00 (sign) dropped; negative or empty refused. */
static int der_uint_get(struct rd *r, const uint8_t **p, size_t *n)
{
	struct rd v;

	der_get(r, 0x02, &v);
	if (!rd_ok(&v) || v.len == 0 || (v.p[0] & 0x80))
		return rd_fail(r);
	while (v.len > 1 && v.p[0] == 0)
		rd_skip(&v, 1);
	*n = v.len;
	return rd_bytes(&v, v.len, p);
}

static int rfc3110_key(struct rd *bits, struct buf *key)
{
	struct rd seq;
	const uint8_t *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0;
	struct wr w;
	int ret;

	der_get(bits, 0x30, &seq);
	der_uint_get(&seq, &n, &n_len);
	der_uint_get(&seq, &e, &e_len);
	if (!rd_done(&seq) || !rd_done(bits) || n[0] == 0 || e[0] == 0 || e_len > 0xffff)
		return -EBADMSG;
	ret = wr_init_alloc(&w, 3 + e_len + n_len, 3 + e_len + n_len);
	if (ret != 0)
		return ret;
	if (e_len <= 255) {
		wr_u8(&w, (uint8_t)e_len);
	} else {
		wr_u8(&w, 0);
		wr_be16(&w, (uint16_t)e_len);
	}
	wr_bytes(&w, e, e_len);
	wr_bytes(&w, n, n_len);
	return wr_take(&w, key);
}

int ipseckey_from_spki(const uint8_t *spki, size_t len, uint8_t *alg, struct buf *key)
{
	struct rd r, seq, algid, bits;
	uint8_t unused = 0xff;

	*key = (struct buf){ 0 };
	rd_init(&r, spki, len);
	der_get(&r, 0x30, &seq);
	if (!rd_done(&r))
		return -EBADMSG;
	struct rd whole_alg = seq;             /* the AlgorithmIdentifier with its header */
	der_get(&seq, 0x30, &algid);
	size_t alg_len = whole_alg.len - seq.len;
	der_get(&seq, 0x03, &bits);
	rd_u8(&bits, &unused);
	if (!rd_done(&seq) || unused != 0)
		return -EBADMSG;
	if (alg_len == sizeof(ALG_RSA) && memcmp(whole_alg.p, ALG_RSA, alg_len) == 0) {
		*alg = IPSECKEY_ALG_RSA;
		return rfc3110_key(&bits, key);
	}
	if (alg_len == sizeof(ALG_ED25519) &&
	    (memcmp(whole_alg.p, ALG_ED25519, alg_len) == 0 ||
	     memcmp(whole_alg.p, ALG_ED448, alg_len) == 0)) {
		if (bits.len != (whole_alg.p[6] == 0x70 ? 32u : 57u))
			return -EBADMSG;
		*alg = IPSECKEY_ALG_EDDSA;
		return buf_dup(key, bits.p, bits.len);
	}
	struct rd oid = algid;
	if (oid.len < sizeof(OID_EC) || memcmp(oid.p, OID_EC, sizeof(OID_EC)) != 0)
		return -ENOTSUP;
	rd_skip(&oid, sizeof(OID_EC));
	size_t want = rd_is(&oid, OID_P256, sizeof(OID_P256)) ? 64 :
		      rd_is(&oid, OID_P384, sizeof(OID_P384)) ? 96 : 0;
	if (want == 0)
		return -ENOTSUP;
	if (bits.len != 1 + want || bits.p[0] != 0x04)
		return -EBADMSG;
	*alg = IPSECKEY_ALG_ECDSA;
	return buf_dup(key, bits.p + 1, want);
}

/* ---- names ---- */

int ipseckey_reverse_name(const struct addr *a, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (a->family == AF_INET) {
		int n = snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa.", a->b[3], a->b[2], a->b[1],
				 a->b[0]);
		return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
	}
	if (a->family != AF_INET6)
		return -EINVAL;
	if (cap < 64 + sizeof("ip6.arpa."))
		return -ENOSPC;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a->b[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a->b[i] >> 4];
		out[o++] = '.';
	}
	strcpy(out + o, "ip6.arpa.");
	return 0;
}

int ipseckey_fqdn_name(const char *id, char *out, size_t cap)
{
	size_t n, lab = 0;

	if (id[0] == '@')
		id++;
	n = strlen(id);
	while (n > 0 && id[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (c == '.') {
			if (lab == 0)
				return -EINVAL;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_') || ++lab > 63)
			return -EINVAL;
	}
	if (n + 2 > cap)
		return -ENOSPC;
	memcpy(out, id, n);
	out[n] = '.';
	out[n + 1] = '\0';
	return 0;
}

/* ---- presentation ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ipseckey_b64_encode(const uint8_t *p, size_t len, struct buf *out)
{
	size_t o = 0;
	char *s = malloc((len + 2) / 3 * 4 + 1);

	*out = (struct buf){ 0 };
	if (s == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		s[o++] = B64[v >> 18];
		s[o++] = B64[(v >> 12) & 63];
		s[o++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
		s[o++] = i + 2 < len ? B64[v & 63] : '=';
	}
	s[o] = '\0';
	out->p = (uint8_t *)s;
	out->len = o;
	return 0;
}

int ipseckey_b64_decode(const char *s, struct buf *out)
{
	size_t n = strlen(s), o = 0, pad = 0;
	unsigned q = 0;
	uint32_t v = 0;
	uint8_t *d = malloc(n / 4 * 3 + 3);

	*out = (struct buf){ 0 };
	if (d == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(B64, s[i]);
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] == '=') {
			pad++;
			c = B64;                   /* a zero sextet */
		} else if (c == NULL || s[i] == '\0' || pad > 0) {
			goto bad;
		}
		v = v << 6 | (uint32_t)(c - B64);
		if (++q == 4) {
			if (pad > 2)
				goto bad;
			d[o++] = (uint8_t)(v >> 16);
			if (pad < 2)
				d[o++] = (uint8_t)(v >> 8);
			if (pad < 1)
				d[o++] = (uint8_t)v;
			q = 0;
			v = 0;
		}
	}
	if (q != 0)
		goto bad;
	out->p = d;
	out->len = o;
	return 0;
bad:
	free(d);
	return -EBADMSG;
}

int ipseckey_record_str(const char *owner, uint8_t precedence, const struct addr *gw,
			uint8_t alg, const uint8_t *key, size_t key_len, struct buf *out)
{
	struct buf b64;
	char gws[ADDR_STRLEN] = ".";
	unsigned gwt = 0;
	size_t ol = strlen(owner);
	int ret, n;

	*out = (struct buf){ 0 };
	if (ol == 0)
		return -EINVAL;
	if (gw != NULL && gw->family != 0) {
		gwt = gw->family == AF_INET ? IPSECKEY_GW_IPV4 : IPSECKEY_GW_IPV6;
		addr_str(gw, gws);
	}
	ret = ipseckey_b64_encode(key, key_len, &b64);
	if (ret != 0)
		return ret;
	size_t cap = ol + b64.len + ADDR_STRLEN + 64;
	char *s = malloc(cap);
	if (s == NULL) {
		buf_free(&b64);
		return -ENOMEM;
	}
	n = snprintf(s, cap, "%s%s IN IPSECKEY %u %u %u %s %s\n", owner,
		     owner[ol - 1] == '.' ? "" : ".", precedence, gwt, alg, gws, (char *)b64.p);
	buf_free(&b64);
	out->p = (uint8_t *)s;
	out->len = (size_t)n;
	return 0;
}

/* ---- cache ---- */

struct ipseckey_cache {
	struct ipseckey_entry *e;
	size_t n, max;
	uint32_t floor_s, ceiling_s;
};

struct ipseckey_cache *ipseckey_cache_new(size_t max, uint32_t floor_s, uint32_t ceiling_s)
{
	struct ipseckey_cache *c = calloc(1, sizeof(*c));

	if (c == NULL || max == 0)
		goto fail;
	c->e = calloc(max, sizeof(*c->e));
	if (c->e == NULL)
		goto fail;
	c->max = max;
	c->floor_s = floor_s;
	c->ceiling_s = ceiling_s < floor_s ? floor_s : ceiling_s;
	return c;
fail:
	free(c);
	return NULL;
}

static void entry_fini(struct ipseckey_entry *e)
{
	for (size_t i = 0; i < e->n_keys; i++)
		buf_free(&e->keys[i].spki);
	free(e->keys);
	buf_free(&e->id);
	memset(e, 0, sizeof(*e));
}

static void entry_remove(struct ipseckey_cache *c, size_t i)
{
	entry_fini(&c->e[i]);
	c->e[i] = c->e[--c->n];
	memset(&c->e[c->n], 0, sizeof(c->e[c->n]));
}

void ipseckey_cache_free(struct ipseckey_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_fini(&c->e[i]);
	free(c->e);
	free(c);
}

static ssize_t find(const struct ipseckey_cache *c, uint8_t t, const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].id_type == t && c->e[i].id.len == n && memcmp(c->e[i].id.p, id, n) == 0)
			return (ssize_t)i;
	return -1;
}

int ipseckey_cache_put(struct ipseckey_cache *c, uint8_t id_type, const uint8_t *id,
		       size_t id_len, const struct ipseckey_key *keys, size_t n, uint32_t ttl_s,
		       uint64_t now_ms)
{
	struct ipseckey_entry e = { .id_type = id_type };
	ssize_t at;
	int ret;

	ipseckey_cache_del(c, id_type, id, id_len);
	if (n == 0)
		return 0;
	e.keys = calloc(n, sizeof(*e.keys));
	if (e.keys == NULL || (ret = buf_dup(&e.id, id, id_len)) != 0) {
		free(e.keys);
		return -ENOMEM;
	}
	for (; e.n_keys < n; e.n_keys++) {
		struct ipseckey_key *k = &e.keys[e.n_keys];
		k->alg = keys[e.n_keys].alg;
		k->bits = keys[e.n_keys].bits;
		ret = buf_dup(&k->spki, keys[e.n_keys].spki.p, keys[e.n_keys].spki.len);
		if (ret != 0) {
			entry_fini(&e);
			return ret;
		}
	}
	e.ttl_s = ttl_s < c->floor_s ? c->floor_s : ttl_s > c->ceiling_s ? c->ceiling_s : ttl_s;
	e.expires_ms = now_ms + (uint64_t)e.ttl_s * 1000;
	ipseckey_cache_expire(c, now_ms);
	if (c->n == c->max) {                     /* evict the one that expires first */
		at = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->e[i].expires_ms < c->e[at].expires_ms)
				at = (ssize_t)i;
		entry_remove(c, (size_t)at);
	}
	c->e[c->n++] = e;
	return 0;
}

const struct ipseckey_entry *ipseckey_cache_get(struct ipseckey_cache *c, uint8_t id_type,
						const uint8_t *id, size_t id_len,
						uint64_t now_ms)
{
	ssize_t i = find(c, id_type, id, id_len);

	if (i < 0)
		return NULL;
	if (c->e[i].expires_ms <= now_ms) {
		entry_remove(c, (size_t)i);
		return NULL;
	}
	return &c->e[i];
}

void ipseckey_cache_del(struct ipseckey_cache *c, uint8_t id_type, const uint8_t *id,
			size_t id_len)
{
	ssize_t i = find(c, id_type, id, id_len);

	if (i >= 0)
		entry_remove(c, (size_t)i);
}

size_t ipseckey_cache_expire(struct ipseckey_cache *c, uint64_t now_ms)
{
	size_t gone = 0;

	for (size_t i = 0; i < c->n;) {
		if (c->e[i].expires_ms <= now_ms) {
			entry_remove(c, i);
			gone++;
		} else {
			i++;
		}
	}
	return gone;
}

size_t ipseckey_cache_count(const struct ipseckey_cache *c)
{
	return c->n;
}

uint32_t ipseckey_entry_ttl_left(const struct ipseckey_entry *e, uint64_t now_ms)
{
	return e->expires_ms <= now_ms ? 0 : (uint32_t)((e->expires_ms - now_ms + 999) / 1000);
}
