/* cert.c — the node certificate and key, RFC 7427 AUTH signatures, and peer certificate
 * verification with a cache (performance.md §4, §7: chain checks and peer-key imports are
 * the main per-handshake cost, so a verified certificate and its imported key are kept).
 * AlgorithmIdentifiers are in cert_alg.c, the offline administration in cert_admin.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MESHD_CERT_INTERNAL
#include "cert.h"
#include "cert_ike.h"
#include "crypto.h"

#define CACHE_SIZE 4096               /* verified certificates kept */
#define CACHE_BUCKETS 4096            /* hash chains (power of two) */
#define CACHE_TTL 3600                /* a verification is trusted this long at most */
#define ANCHORS_TTL 300               /* re-read the trusted CAs from the DB this often */
#define MAX_SAN_IPS 32
#define SELF_CHAIN_MAX 4              /* intermediates sent with our certificate */

/* A peer public key shared by the cache and every cert_peer made from it: NSS imports an
 * EC key into the token on first use and keeps the handle in the SECKEYPublicKey, so
 * sharing it is what saves the import (RSA keys are imported per use: cert_verify_sig).
 * The SECKEYPublicKey is ours, not NSS's: one allocation holding the struct and its few
 * bytes (EC parameters and point, or RSA modulus and exponent), no arena. What
 * CERT_ExtractPublicKey returns lives in a 2 KB arena, ~2.3 KB per cached peer
 * (BENCHMARKS.md, issue #3). Not thread-safe: one store is used from one thread. */
struct cert_key {
	unsigned refs;
	SECKEYPublicKey pk;           /* arena NULL; items point into data; pkcs11Slot and
	                               * pkcs11ID set once NSS imported it (EC) */
	uint8_t data[];
};

struct cache_ent {
	bool used, ref;               /* ref: the clock's second-chance bit */
	int32_t next;                 /* next in the bucket chain, -1 = end */
	uint8_t hash[32];             /* SHA-256 of the end-entity DER */
	size_t der_len;               /* its length (the DER itself is not kept: a hit is
	                               * the same SHA-256, RFC 5280 fingerprints' premise) */
	time_t expires;
	struct cert_peer peer;        /* (owned) subject_der (der empty); pubkey holds a
	                               * reference */
	struct addr ips[MAX_SAN_IPS];
	size_t n_ips;
};

struct cert_store {
	struct crypto *c;             /* (borrowed) */
	struct log *log;              /* (borrowed) */
	CERTCertDBHandle *db;         /* (borrowed) NSS's default DB */
	CERTCertificate *cert;        /* (owned) node certificate, or NULL */
	SECKEYPrivateKey *key;        /* (owned) its key */
	struct cert_self self;
	struct buf chain[SELF_CHAIN_MAX];   /* (owned) our intermediates, from the DB */
	size_t n_chain;
	time_t chain_at;              /* when chain was built; 0 = not yet */
	CERTCertList *anchors;        /* (owned) trusted CAs (C or T SSL trust) */
	time_t anchors_at;
	struct cache_ent *ents;       /* (owned) CACHE_SIZE */
	int32_t *buckets;             /* (owned) CACHE_BUCKETS heads, -1 = empty */
	unsigned hand;                /* clock hand */
	struct cert_stats stats;
};

/* ---- printable names ---- */

static const char *ava_key(SECOidTag tag)
{
	switch (tag) {
	case SEC_OID_AVA_COUNTRY_NAME: return "C";
	case SEC_OID_AVA_STATE_OR_PROVINCE: return "ST";
	case SEC_OID_AVA_LOCALITY: return "L";
	case SEC_OID_AVA_ORGANIZATION_NAME: return "O";
	case SEC_OID_AVA_ORGANIZATIONAL_UNIT_NAME: return "OU";
	case SEC_OID_AVA_COMMON_NAME: return "CN";
	case SEC_OID_PKCS9_EMAIL_ADDRESS: return "E";
	case SEC_OID_AVA_DC: return "DC";
	case SEC_OID_AVA_SURNAME: return "SN";
	case SEC_OID_AVA_GIVEN_NAME: return "G";
	case SEC_OID_AVA_TITLE: return "T";
	case SEC_OID_AVA_SERIAL_NUMBER: return "serialNumber";
	case SEC_OID_RFC1274_UID: return "UID";
	default: return NULL;
	}
}

struct strbuf {
	char *p;
	size_t cap, len;
};

static void sb_putc(struct strbuf *b, char ch)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = ch;
	b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

static void sb_puts(struct strbuf *b, const char *s)
{
	while (*s != '\0')
		sb_putc(b, *s++);
}

void cert_dn_str(const CERTName *name, char *out, size_t cap)
{
	struct strbuf b = { out, cap, 0 };
	bool first = true;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (name == NULL || name->rdns == NULL)
		return;
	for (CERTRDN **rdn = name->rdns; *rdn != NULL; rdn++) {
		bool first_ava = true;
		for (CERTAVA **ava = (*rdn)->avas; ava != NULL && *ava != NULL; ava++) {
			const char *k = ava_key(CERT_GetAVATag(*ava));
			SECItem *v = CERT_DecodeAVAValue(&(*ava)->value);

			sb_puts(&b, first ? "" : first_ava ? ", " : " + ");
			first = first_ava = false;
			if (k != NULL) {
				sb_puts(&b, k);
			} else {
				char *oid = CERT_GetOidString(&(*ava)->type);
				sb_puts(&b, oid != NULL ? oid : "OID.?");
				if (oid != NULL)
					PR_smprintf_free(oid);
			}
			sb_putc(&b, '=');
			for (unsigned i = 0; v != NULL && i < v->len; i++) {
				char ch = (char)v->data[i];
				if (ch == ',' || ch == '+' || ch == '\\')
					sb_putc(&b, '\\');
				sb_putc(&b, ch == '\0' ? '?' : ch);
			}
			if (v != NULL)
				SECITEM_FreeItem(v, PR_TRUE);
		}
	}
}

void cert_serial_str(const CERTCertificate *cert, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (cap == 0)
		return;
	for (unsigned i = 0; i < cert->serialNumber.len && n + 2 < cap; i++) {
		out[n++] = hex[cert->serialNumber.data[i] >> 4];
		out[n++] = hex[cert->serialNumber.data[i] & 15];
	}
	out[n] = '\0';
}

void cert_validity(const CERTCertificate *cert, time_t *not_before, time_t *not_after)
{
	PRTime nb = 0, na = 0;

	if (CERT_GetCertTimes(cert, &nb, &na) != SECSuccess)
		nb = na = 0;
	*not_before = (time_t)(nb / PR_USEC_PER_SEC);
	*not_after = (time_t)(na / PR_USEC_PER_SEC);
}

enum cert_key_type cert_key_info(const SECKEYPublicKey *pk, unsigned *bits)
{
	*bits = pk != NULL ? SECKEY_PublicKeyStrengthInBits(pk) : 0;
	switch (pk != NULL ? pk->keyType : nullKey) {
	case rsaKey: return CERT_KEY_RSA;
	case ecKey: return CERT_KEY_ECDSA;
	default: return CERT_KEY_NONE;
	}
}

/* ---- the node certificate ---- */

static void self_clear(struct cert_store *s)
{
	for (size_t i = 0; i < s->n_chain; i++)
		buf_free(&s->chain[i]);
	s->n_chain = 0;
	s->chain_at = 0;
	buf_free(&s->self.der);
	buf_free(&s->self.subject_der);
	memset(&s->self, 0, sizeof(s->self));
	if (s->key != NULL)
		SECKEY_DestroyPrivateKey(s->key);
	if (s->cert != NULL)
		CERT_DestroyCertificate(s->cert);
	s->key = NULL;
	s->cert = NULL;
}

/* Is a a better node certificate than b: valid now beats not valid, then the later
 * notBefore (the renewed one), then the later notAfter. */
static bool better_cert(CERTCertificate *a, bool a_valid, CERTCertificate *b, bool b_valid)
{
	PRTime anb = 0, ana = 0, bnb = 0, bna = 0;

	if (b == NULL)
		return true;
	if (a_valid != b_valid)
		return a_valid;
	if (CERT_GetCertTimes(a, &anb, &ana) != SECSuccess)
		return false;
	if (CERT_GetCertTimes(b, &bnb, &bna) != SECSuccess)
		return true;
	return anb != bnb ? anb > bnb : ana > bna;
}

static int self_fill(struct cert_store *s)
{
	SECKEYPublicKey *pk = CERT_ExtractPublicKey(s->cert);
	struct cert_self *me = &s->self;
	int r;

	me->key = cert_key_info(pk, &me->key_bits);
	if (pk != NULL)
		SECKEY_DestroyPublicKey(pk);
	if (me->key == CERT_KEY_NONE)
		return -ENOTSUP;
	if ((r = buf_dup(&me->der, s->cert->derCert.data, s->cert->derCert.len)) != 0 ||
	    (r = buf_dup(&me->subject_der, s->cert->derSubject.data, s->cert->derSubject.len)) != 0)
		return r;
	cert_dn_str(&s->cert->subject, me->subject, sizeof(me->subject));
	cert_dn_str(&s->cert->issuer, me->issuer, sizeof(me->issuer));
	cert_serial_str(s->cert, me->serial, sizeof(me->serial));
	cert_validity(s->cert, &me->not_before, &me->not_after);
	return 0;
}

/* The certificate's nickname is nickname, or the name cert_import_p12 gave it because the
 * nickname was taken by another subject (the private part of cert.h). */
static bool nickname_is(const CERTCertificate *c, const char *nickname)
{
	size_t n = strlen(nickname);

	if (c->nickname == NULL || strncmp(c->nickname, nickname, n) != 0)
		return false;
	return c->nickname[n] == '\0' ||
		strncmp(c->nickname + n, CERT_RENAME_MARK, strlen(CERT_RENAME_MARK)) == 0;
}

static int self_load(struct cert_store *s, const char *nickname)
{
	CERTCertList *list = PK11_ListCerts(PK11CertListUser, NULL);
	CERTCertificate *best = NULL;
	SECKEYPrivateKey *best_key = NULL;
	bool best_valid = false;
	PRTime now = PR_Now();
	int r;

	self_clear(s);
	if (list == NULL)
		return -EIO;
	for (CERTCertListNode *n = CERT_LIST_HEAD(list); !CERT_LIST_END(n, list);
	     n = CERT_LIST_NEXT(n)) {
		bool valid = CERT_CheckCertValidTimes(n->cert, now, PR_FALSE) == secCertTimeValid;
		SECKEYPrivateKey *k;

		if (!nickname_is(n->cert, nickname) ||
		    !better_cert(n->cert, valid, best, best_valid))
			continue;
		k = PK11_FindKeyByAnyCert(n->cert, NULL);
		if (k == NULL)
			continue;             /* a certificate without our key: not ours */
		if (best_key != NULL)
			SECKEY_DestroyPrivateKey(best_key);
		best = n->cert;
		best_key = k;
		best_valid = valid;
	}
	if (best == NULL) {
		CERT_DestroyCertList(list);
		log_info(s->log, "no certificate \"%s\" with its private key in the NSS database: "
			 "certificate authentication disabled", nickname);
		return 0;
	}
	s->cert = CERT_DupCertificate(best);
	s->key = cert_key_to_session(best_key);
	CERT_DestroyCertList(list);
	r = self_fill(s);
	if (r != 0) {
		log_err(s->log, "certificate \"%s\": %s", nickname,
			r == -ENOTSUP ? "unsupported key type (RSA or ECDSA needed)" : "out of memory");
		self_clear(s);
		return r;
	}
	if (!best_valid)
		log_warn(s->log, "certificate \"%s\" (%s) is not valid now", nickname,
			 s->self.subject);
	log_info(s->log, "certificate \"%s\": %s, %s-%u, serial %s", nickname, s->self.subject,
		 s->self.key == CERT_KEY_RSA ? "RSA" : "ECDSA", s->self.key_bits, s->self.serial);
	return 0;
}

/* ---- the verification cache ---- */

/* Drop what NSS imported for pk (what SECKEY_DestroyPublicKey does before freeing the
 * arena, which ours do not have). */
static void key_unimport(SECKEYPublicKey *pk)
{
	if (pk->pkcs11Slot == NULL)
		return;
	/* a session object: NSS imports verification keys with isToken false */
	if (pk->pkcs11ID != CK_INVALID_HANDLE)
		(void)PK11_DestroyObject(pk->pkcs11Slot, pk->pkcs11ID);
	PK11_FreeSlot(pk->pkcs11Slot);
	pk->pkcs11Slot = NULL;
	pk->pkcs11ID = CK_INVALID_HANDLE;
}

static void key_put(struct cert_key *k)
{
	if (k == NULL || --k->refs > 0)
		return;
	key_unimport(&k->pk);
	free(k);
}

/* Our compact copy of an RSA or EC public key (src stays the caller's); NULL for other
 * types or on ENOMEM. */
static struct cert_key *key_compact(const SECKEYPublicKey *src)
{
	const SECItem *a, *b;
	switch (src != NULL ? src->keyType : nullKey) {
	case rsaKey:
		a = &src->u.rsa.modulus;
		b = &src->u.rsa.publicExponent;
		break;
	case ecKey:
		a = &src->u.ec.DEREncodedParams;
		b = &src->u.ec.publicValue;
		break;
	default:
		return NULL;
	}
	struct cert_key *k = malloc(sizeof(*k) + a->len + b->len);
	if (k == NULL)
		return NULL;
	k->refs = 1;
	k->pk = *src;                 /* the scalars (EC size and encoding) */
	k->pk.arena = NULL;
	k->pk.pkcs11Slot = NULL;
	k->pk.pkcs11ID = CK_INVALID_HANDLE;
	memcpy(k->data, a->data, a->len);
	memcpy(k->data + a->len, b->data, b->len);
	SECItem ia = { a->type, k->data, a->len }, ib = { b->type, k->data + a->len, b->len };
	if (src->keyType == rsaKey) {
		k->pk.u.rsa.modulus = ia;
		k->pk.u.rsa.publicExponent = ib;
	} else {
		k->pk.u.ec.DEREncodedParams = ia;
		k->pk.u.ec.publicValue = ib;
	}
	return k;
}

static uint32_t bucket_of(const uint8_t hash[32])
{
	return ((uint32_t)hash[0] << 8 | hash[1]) & (CACHE_BUCKETS - 1);
}

static void cache_unlink(struct cert_store *s, int32_t i)
{
	struct cache_ent *e = &s->ents[i];
	int32_t *pp = &s->buckets[bucket_of(e->hash)];

	while (*pp != -1 && *pp != i)
		pp = &s->ents[*pp].next;
	if (*pp == i)
		*pp = e->next;
	cert_peer_free(&e->peer);
	memset(e, 0, sizeof(*e));
	e->next = -1;
}

static void cache_flush(struct cert_store *s)
{
	for (int32_t i = 0; s->ents != NULL && i < CACHE_SIZE; i++)
		if (s->ents[i].used)
			cache_unlink(s, i);
}

static struct cache_ent *cache_find(struct cert_store *s, const uint8_t hash[32], time_t now)
{
	for (int32_t i = s->buckets[bucket_of(hash)]; i != -1; i = s->ents[i].next) {
		struct cache_ent *e = &s->ents[i];
		if (memcmp(e->hash, hash, 32) != 0)
			continue;
		if (e->expires <= now) {
			cache_unlink(s, i);
			return NULL;
		}
		e->ref = true;
		return e;
	}
	return NULL;
}

/* A free slot: an unused one or, by the clock, the first without a recent hit. */
static int32_t cache_slot(struct cert_store *s)
{
	for (unsigned n = 0; n < 2 * CACHE_SIZE + 1; n++) {
		int32_t i = (int32_t)(s->hand++ % CACHE_SIZE);
		struct cache_ent *e = &s->ents[i];
		if (!e->used)
			return i;
		if (e->ref) {
			e->ref = false;
			continue;
		}
		cache_unlink(s, i);
		return i;
	}
	return 0;                     /* not reached: two sweeps clear every bit */
}

/* Copy the peer fields, with der (len bytes; none when NULL) as the certificate; the key
 * gains a reference. */
static int peer_copy(struct cert_peer *dst, const struct cert_peer *src, const uint8_t *der,
		     size_t len)
{
	int r = 0;

	*dst = *src;
	dst->der = (struct buf){ NULL, 0 };
	dst->subject_der = (struct buf){ NULL, 0 };
	dst->pubkey = NULL;
	if ((der != NULL && (r = buf_dup(&dst->der, der, len)) != 0) ||
	    (r = buf_dup(&dst->subject_der, src->subject_der.p, src->subject_der.len)) != 0) {
		cert_peer_free(dst);
		return r;
	}
	dst->pubkey = src->pubkey;
	((struct cert_key *)dst->pubkey)->refs++;
	return 0;
}

static void cache_add(struct cert_store *s, const uint8_t hash[32], const struct cert_peer *p,
		      const struct addr *ips, size_t n_ips, time_t now)
{
	int32_t i = cache_slot(s);
	struct cache_ent *e = &s->ents[i];
	uint32_t b = bucket_of(hash);

	if (peer_copy(&e->peer, p, NULL, 0) != 0)
		return;                       /* no memory: just not cached */
	memcpy(e->hash, hash, 32);
	e->der_len = p->der.len;
	e->used = true;
	e->ref = false;
	e->expires = p->not_after < now + CACHE_TTL ? p->not_after : now + CACHE_TTL;
	memcpy(e->ips, ips, n_ips * sizeof(ips[0]));
	e->n_ips = n_ips;
	e->next = s->buckets[b];
	s->buckets[b] = i;
}

/* ---- open, close ---- */

int cert_open(struct cert_store **out, struct crypto *c, const char *nickname, struct log *log)
{
	struct cert_store *s;
	int r;

	*out = NULL;
	if (!NSS_IsInitialized())
		return -EINVAL;               /* crypto_init() first */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->c = c;
	s->log = log;
	s->db = CERT_GetDefaultCertDB();
	s->ents = calloc(CACHE_SIZE, sizeof(*s->ents));
	s->buckets = malloc(CACHE_BUCKETS * sizeof(*s->buckets));
	if (s->ents == NULL || s->buckets == NULL) {
		cert_close(s);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < CACHE_BUCKETS; i++)
		s->buckets[i] = -1;
	for (unsigned i = 0; i < CACHE_SIZE; i++)
		s->ents[i].next = -1;
	r = self_load(s, nickname != NULL && *nickname != '\0' ? nickname : "node");
	if (r != 0) {
		cert_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void cert_close(struct cert_store *s)
{
	if (s == NULL)
		return;
	cache_flush(s);
	self_clear(s);
	if (s->anchors != NULL)
		CERT_DestroyCertList(s->anchors);
	free(s->ents);
	free(s->buckets);
	free(s);
}

int cert_reload(struct cert_store *s, const char *nickname)
{
	/* trust may have changed with the renewal: forget what was verified */
	cache_flush(s);
	if (s->anchors != NULL)
		CERT_DestroyCertList(s->anchors);
	s->anchors = NULL;
	return self_load(s, nickname != NULL && *nickname != '\0' ? nickname : "node");
}

const struct cert_self *cert_self(const struct cert_store *s)
{
	return &s->self;
}

void cert_get_stats(const struct cert_store *s, struct cert_stats *out)
{
	*out = s->stats;
}

/* ---- signing ---- */

/* The crypto module's hashing; *out_len gets the digest length. */
static int hash_data(uint16_t hash, const uint8_t *data, size_t len, uint8_t *out,
		     size_t *out_len)
{
	struct crypto_iov in = CRYPTO_IOV(data, len);
	if (data == NULL && len > 0)
		return -EINVAL;
	*out_len = crypto_hash_len(hash);
	return *out_len ? crypto_hash(hash, &in, 1, out) : -ENOTSUP;
}

SECKEYPrivateKey *cert_key_to_session(SECKEYPrivateKey *key)
{
	SECKEYPrivateKey *copy;

	if (key == NULL ||
	    !PK11_HasAttributeSet(key->pkcs11Slot, key->pkcs11ID, CKA_TOKEN, PR_FALSE))
		return key;
	/* same slot: C_CopyObject with CKA_TOKEN false, which works for sensitive keys */
	copy = PK11_CopyTokenPrivKeyToSessionPrivKey(NULL, key);
	if (copy == NULL)
		return key;
	SECKEY_DestroyPrivateKey(key);
	return copy;
}

/* RFC 7427 signature with a private key (the node certificate's or a raw host key's):
 * RSASSA-PSS with salt = hash length, or ECDSA as a DER ECDSA-Sig-Value. */
int cert_sign_key(SECKEYPrivateKey *key, enum cert_key_type type, uint16_t hash,
		  const uint8_t *data, size_t len, struct buf *out_alg, struct buf *out_sig)
{
	uint8_t digest[CRYPTO_MAX_HASH_LEN];
	size_t dlen = 0, blob_len = 0;
	SECItem dig, sig = { siBuffer, NULL, 0 }, der = { siBuffer, NULL, 0 };
	const uint8_t *blob;
	int siglen, r;

	*out_alg = (struct buf){ NULL, 0 };
	*out_sig = (struct buf){ NULL, 0 };
	if (key == NULL)
		return -ENOKEY;
	blob = cert_alg_blob(type == CERT_KEY_RSA ? CERT_SIG_RSA_PSS : CERT_SIG_ECDSA, hash,
			     &blob_len);
	if (blob == NULL)
		return -ENOTSUP;
	if ((r = hash_data(hash, data, len, digest, &dlen)) != 0)
		return r;
	dig = (SECItem){ siBuffer, digest, (unsigned)dlen };
	siglen = PK11_SignatureLen(key);
	if (siglen <= 0 || SECITEM_AllocItem(NULL, &sig, (unsigned)siglen) == NULL)
		return -EIO;
	r = -EIO;
	if (type == CERT_KEY_RSA) {
		CK_RSA_PKCS_PSS_PARAMS pss = {
			.hashAlg = cert_hash_mech(hash),
			.mgf = cert_hash_mgf(hash),
			.sLen = dlen,
		};
		SECItem param = { siBuffer, (unsigned char *)&pss, sizeof(pss) };
		if (PK11_SignWithMechanism(key, CKM_RSA_PKCS_PSS, &param, &sig, &dig) != SECSuccess)
			goto done;
		r = buf_dup(out_sig, sig.data, sig.len);
	} else {
		/* RFC 7427 §3: ECDSA signatures are the DER ECDSA-Sig-Value */
		if (PK11_SignWithMechanism(key, CKM_ECDSA, NULL, &sig, &dig) != SECSuccess ||
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

int cert_sign(struct cert_store *s, uint16_t hash, const uint8_t *data, size_t len,
	      struct buf *out_alg, struct buf *out_sig)
{
	return cert_sign_key(s->key, s->self.key, hash, data, len, out_alg, out_sig);
}

/* Our intermediates are looked up in the DB (CERT_CertChainFromCert, a few SQLite
 * queries) once per ANCHORS_TTL, like the trust anchors, not once per handshake. */
size_t cert_self_chain(struct cert_store *s, struct buf *out, size_t cap)
{
	time_t now = time(NULL);
	size_t n = 0;

	if (s->self.der.len == 0)
		return 0;
	if (s->chain_at == 0 || now - s->chain_at >= ANCHORS_TTL) {
		for (size_t i = 0; i < s->n_chain; i++)
			buf_free(&s->chain[i]);
		s->n_chain = cert_ike_chain(&s->self.der, s->chain, SELF_CHAIN_MAX);
		s->chain_at = now;
	}
	for (size_t i = 0; i < s->n_chain && n < cap; i++)
		if (buf_dup(&out[n], s->chain[i].p, s->chain[i].len) == 0)
			n++;
	return n;
}

/* ---- peer verification ---- */

static CERTCertList *anchors_get(struct cert_store *s, time_t now)
{
	CERTCertList *all, *list;

	if (s->anchors != NULL && now - s->anchors_at < ANCHORS_TTL)
		return s->anchors;
	all = PK11_ListCerts(PK11CertListAll, NULL);
	list = CERT_NewCertList();
	if (all == NULL || list == NULL)
		goto done;
	for (CERTCertListNode *n = CERT_LIST_HEAD(all); !CERT_LIST_END(n, all);
	     n = CERT_LIST_NEXT(n)) {
		if (!cert_ca_trusted_now(n->cert))
			continue;
		CERTCertificate *dup = CERT_DupCertificate(n->cert);
		if (CERT_AddCertToListTail(list, dup) != SECSuccess)
			CERT_DestroyCertificate(dup);
	}
	if (s->anchors != NULL)
		CERT_DestroyCertList(s->anchors);
	s->anchors = list;
	s->anchors_at = now;
	list = NULL;
done:
	if (all != NULL)
		CERT_DestroyCertList(all);
	if (list != NULL)
		CERT_DestroyCertList(list);
	return s->anchors;
}

static const char *verify_error(int err)
{
	switch (err) {
	case SEC_ERROR_UNKNOWN_ISSUER:
	case SEC_ERROR_UNTRUSTED_ISSUER:
	case SEC_ERROR_UNTRUSTED_CERT:
	case SEC_ERROR_CA_CERT_INVALID:
	case SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID:
		return "certificate issuer is not trusted";
	case SEC_ERROR_EXPIRED_CERTIFICATE:
		return "certificate expired or not yet valid";
	case SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE:
		return "issuer certificate expired";
	case SEC_ERROR_BAD_SIGNATURE:
		return "certificate signature is invalid";
	case SEC_ERROR_REVOKED_CERTIFICATE:
		return "certificate revoked";
	case SEC_ERROR_INADEQUATE_KEY_USAGE:
	case SEC_ERROR_INADEQUATE_CERT_TYPE:
		return "certificate not allowed for IPsec (key usage or extended key usage)";
	case SEC_ERROR_BAD_DER:
	case SEC_ERROR_EXTENSION_VALUE_INVALID:
	case SEC_ERROR_CERT_BAD_ACCESS_LOCATION:
		return "malformed certificate";
	default:
		return "certificate chain verification failed";
	}
}

/* CERT_PKIXVerifyCert to our trust anchors only, no network, CRLs from the DB when present.
 * Usage: IPsec (NSS ≥ 3.55: EKU absent, or serverAuth/clientAuth/ipsecIKE; what Libreswan
 * uses), then TLS client and server as older Libreswan did for certificates with a TLS EKU. */
static int pkix_verify(CERTCertificate *ee, CERTCertList *anchors, const char **why)
{
	static const SECCertificateUsage usages[] = {
		certificateUsageIPsec, certificateUsageSSLClient, certificateUsageSSLServer,
	};
	PRUint64 leaf[2] = {
		[cert_revocation_method_crl] = CERT_REV_M_TEST_USING_THIS_METHOD |
			CERT_REV_M_FORBID_NETWORK_FETCHING | CERT_REV_M_SKIP_TEST_ON_MISSING_SOURCE |
			CERT_REV_M_IGNORE_MISSING_FRESH_INFO,
		[cert_revocation_method_ocsp] = CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD,
	};
	PRUint64 chain[2] = { leaf[0], leaf[1] };
	CERTRevocationFlags rev = {
		.leafTests = { .number_of_defined_methods = 2, .cert_rev_flags_per_method = leaf },
		.chainTests = { .number_of_defined_methods = 2, .cert_rev_flags_per_method = chain },
	};
	CERTValInParam in[] = {
		{ .type = cert_pi_revocationFlags, .value.pointer.revocation = &rev },
		{ .type = cert_pi_useAIACertFetch, .value.scalar.b = PR_FALSE },
		{ .type = cert_pi_trustAnchors, .value.pointer.chain = anchors },
		{ .type = cert_pi_useOnlyTrustAnchors, .value.scalar.b = PR_TRUE },
		{ .type = cert_pi_end },
	};
	CERTValOutParam outp[] = { { .type = cert_po_end } };
	int err = 0;

	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		if (CERT_PKIXVerifyCert(ee, usages[i], in, outp, NULL) == SECSuccess)
			return 0;
		err = PORT_GetError();
		/* only a usage mismatch is worth another profile */
		if (err != SEC_ERROR_INADEQUATE_CERT_TYPE && err != SEC_ERROR_INADEQUATE_KEY_USAGE)
			break;
	}
	*why = verify_error(err);
	return -EACCES;
}

static size_t san_ips(CERTCertificate *cert, struct addr *ips, size_t cap)
{
	SECItem ext = { siBuffer, NULL, 0 };
	PLArenaPool *arena;
	CERTGeneralName *names, *n;
	size_t k = 0;

	if (CERT_FindCertExtension(cert, SEC_OID_X509_SUBJECT_ALT_NAME, &ext) != SECSuccess)
		return 0;
	arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
	names = arena != NULL ? CERT_DecodeAltNameExtension(arena, &ext) : NULL;
	n = names;
	while (n != NULL) {
		const SECItem *v = &n->name.other;
		if (n->type == certIPAddress && (v->len == 4 || v->len == 16) && k < cap) {
			memset(&ips[k], 0, sizeof(ips[k]));
			ips[k].family = v->len == 4 ? AF_INET : AF_INET6;
			memcpy(ips[k].b, v->data, v->len);
			k++;
		}
		n = CERT_GetNextGeneralName(n);
		if (n == names)
			break;
	}
	if (arena != NULL)
		PORT_FreeArena(arena, PR_FALSE);
	SECITEM_FreeItem(&ext, PR_FALSE);
	return k;
}

static bool addr_listed(const struct addr *peer, const struct addr *ips, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(peer, &ips[i]))
			return true;
	return false;
}

/* Fill out from a verified certificate. */
static int peer_fill(CERTCertificate *ee, struct cert_peer *out, size_t n_ips)
{
	SECKEYPublicKey *pk = CERT_ExtractPublicKey(ee);
	time_t nb;
	int r;

	out->key = cert_key_info(pk, &out->key_bits);
	out->pubkey = out->key != CERT_KEY_NONE ? key_compact(pk) : NULL;
	if (pk != NULL)
		SECKEY_DestroyPublicKey(pk);
	if (out->key == CERT_KEY_NONE)
		return -ENOTSUP;
	if (out->pubkey == NULL)
		return -ENOMEM;
	if ((r = buf_dup(&out->der, ee->derCert.data, ee->derCert.len)) != 0 ||
	    (r = buf_dup(&out->subject_der, ee->derSubject.data, ee->derSubject.len)) != 0)
		return r;
	cert_dn_str(&ee->subject, out->subject, sizeof(out->subject));
	cert_dn_str(&ee->issuer, out->issuer, sizeof(out->issuer));
	cert_validity(ee, &nb, &out->not_after);
	out->has_ip_san = n_ips > 0;
	return 0;
}

static int verify_cold(struct cert_store *s, const uint8_t hash[32], const uint8_t *ee_der,
		       size_t ee_len, const struct buf *chain, size_t n_chain,
		       const struct addr *peer, struct cert_peer *out, const char **why)
{
	CERTCertificate *ee, *inter[8] = { NULL };
	SECItem item = { siDERCertBuffer, (unsigned char *)ee_der, (unsigned)ee_len };
	struct addr ips[MAX_SAN_IPS];
	size_t n_inter = 0, n_ips;
	time_t now = time(NULL);
	CERTCertList *anchors;
	int r = -EACCES;

	ee = CERT_NewTempCertificate(s->db, &item, NULL, PR_FALSE, PR_TRUE);
	if (ee == NULL) {
		*why = "malformed certificate";
		return -EINVAL;
	}
	/* intermediates become temporary certificates for the path builder while we hold them */
	for (size_t i = 0; i < n_chain && n_inter < sizeof(inter) / sizeof(inter[0]); i++) {
		SECItem ci = { siDERCertBuffer, chain[i].p, (unsigned)chain[i].len };
		if (chain[i].len == 0 || chain[i].len > INT_MAX)
			continue;
		inter[n_inter] = CERT_NewTempCertificate(s->db, &ci, NULL, PR_FALSE, PR_TRUE);
		if (inter[n_inter] != NULL)
			n_inter++;
	}
	switch (CERT_CheckCertValidTimes(ee, PR_Now(), PR_FALSE)) {
	case secCertTimeValid:
		break;
	case secCertTimeNotValidYet:
		*why = "certificate not yet valid";
		goto done;
	case secCertTimeExpired:
		*why = "certificate expired";
		goto done;
	default:
		*why = "malformed certificate";
		r = -EINVAL;
		goto done;
	}
	anchors = anchors_get(s, now);
	if (anchors == NULL || CERT_LIST_EMPTY(anchors)) {
		*why = "no trusted CA in the NSS database";
		goto done;
	}
	if ((r = pkix_verify(ee, anchors, why)) != 0)
		goto done;
	n_ips = san_ips(ee, ips, MAX_SAN_IPS);
	if ((r = peer_fill(ee, out, n_ips)) != 0) {
		*why = r == -ENOTSUP ? "unsupported public key type" : "out of memory";
		r = r == -ENOTSUP ? -EACCES : r;
		cert_peer_free(out);
		goto done;
	}
	s->stats.verify_cold++;
	cache_add(s, hash, out, ips, n_ips, now);
	if (peer != NULL && n_ips > 0 && !addr_listed(peer, ips, n_ips)) {
		*why = "peer address not in the certificate's subjectAltName";
		cert_peer_free(out);
		r = -EACCES;
	}
done:
	for (size_t i = 0; i < n_inter; i++)
		CERT_DestroyCertificate(inter[i]);
	CERT_DestroyCertificate(ee);
	return r;
}

int cert_verify_peer(struct cert_store *s, const uint8_t *ee, size_t ee_len,
		     const struct buf *chain, size_t n_chain, const struct addr *peer,
		     struct cert_peer *out, const char **why)
{
	static const char *ignored;
	uint8_t hash[32];
	struct cache_ent *e;
	time_t now = time(NULL);
	int r;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (ee == NULL || ee_len == 0 || ee_len > INT_MAX ||
	    PK11_HashBuf(SEC_OID_SHA256, hash, ee, (PRInt32)ee_len) != SECSuccess) {
		*why = "malformed certificate";
		r = -EINVAL;
		goto fail;
	}
	e = cache_find(s, hash, now);
	if (e != NULL && e->der_len == ee_len) {
		s->stats.verify_cached++;
		if (peer != NULL && e->n_ips > 0 && !addr_listed(peer, e->ips, e->n_ips)) {
			*why = "peer address not in the certificate's subjectAltName";
			r = -EACCES;
			goto fail;
		}
		r = peer_copy(out, &e->peer, ee, ee_len);
		if (r != 0)
			*why = "out of memory";
		return r;
	}
	r = verify_cold(s, hash, ee, ee_len, chain, n_chain, peer, out, why);
	if (r == 0)
		return 0;
fail:
	s->stats.verify_failed++;
	return r;
}

void cert_peer_free(struct cert_peer *p)
{
	if (p == NULL)
		return;
	buf_free(&p->der);
	buf_free(&p->subject_der);
	key_put(p->pubkey);
	memset(p, 0, sizeof(*p));
}

int cert_peer_from_spki(const uint8_t *spki, size_t len, struct cert_peer *out)
{
	SECItem item = { siBuffer, (unsigned char *)spki, (unsigned)len };
	CERTSubjectPublicKeyInfo *info;
	SECKEYPublicKey *pk;

	memset(out, 0, sizeof(*out));
	if (spki == NULL || len == 0 || len > INT_MAX)
		return -EINVAL;
	info = SECKEY_DecodeDERSubjectPublicKeyInfo(&item);
	if (info == NULL)
		return -EINVAL;
	pk = SECKEY_ExtractPublicKey(info);
	SECKEY_DestroySubjectPublicKeyInfo(info);
	out->key = cert_key_info(pk, &out->key_bits);
	out->pubkey = out->key != CERT_KEY_NONE ? key_compact(pk) : NULL;
	if (pk != NULL)
		SECKEY_DestroyPublicKey(pk);
	if (out->key == CERT_KEY_NONE || out->pubkey == NULL) {
		int r = out->key == CERT_KEY_NONE ? -ENOTSUP : -ENOMEM;
		cert_peer_free(out);
		return r;
	}
	return 0;
}

/* ---- AUTH signature verification ---- */

/* DigestInfo prefixes for RSASSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1). */
static const uint8_t DI_SHA1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
				   0x1a, 0x05, 0x00, 0x04, 0x14 };
#define DI_SHA2(total, n, dlen)                                                             \
	{ 0x30, total, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,    \
	  0x02, n, 0x05, 0x00, 0x04, dlen }
static const uint8_t DI_SHA256[] = DI_SHA2(0x31, 0x01, 0x20);
static const uint8_t DI_SHA384[] = DI_SHA2(0x41, 0x02, 0x30);
static const uint8_t DI_SHA512[] = DI_SHA2(0x51, 0x03, 0x40);

static int verify_pkcs1(SECKEYPublicKey *pk, uint16_t hash, const uint8_t *digest, size_t dlen,
			SECItem *sig)
{
	uint8_t di[sizeof(DI_SHA512) + CRYPTO_MAX_HASH_LEN];
	const uint8_t *prefix;
	size_t plen;
	SECItem data;

	switch (hash) {
	case CRYPTO_HASH_SHA1: prefix = DI_SHA1; plen = sizeof(DI_SHA1); break;
	case CRYPTO_HASH_SHA2_256: prefix = DI_SHA256; plen = sizeof(DI_SHA256); break;
	case CRYPTO_HASH_SHA2_384: prefix = DI_SHA384; plen = sizeof(DI_SHA384); break;
	case CRYPTO_HASH_SHA2_512: prefix = DI_SHA512; plen = sizeof(DI_SHA512); break;
	default: return -ENOTSUP;
	}
	memcpy(di, prefix, plen);
	memcpy(di + plen, digest, dlen);
	data = (SECItem){ siBuffer, di, (unsigned)(plen + dlen) };
	return PK11_VerifyWithMechanism(pk, CKM_RSA_PKCS, NULL, sig, &data, NULL) == SECSuccess ?
		0 : -EBADMSG;
}

static int verify_with(SECKEYPublicKey *pk, const struct cert_alg *a, SECItem *sg, SECItem *dg,
		       const uint8_t *digest, size_t dlen);

int cert_verify_sig(struct cert_store *s, const struct cert_peer *p, unsigned method,
		    const uint8_t *alg, size_t alg_len, const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t sig_len)
{
	struct cert_key *k = p != NULL ? p->pubkey : NULL;
	struct cert_alg a = { .scheme = CERT_SIG_RSA_PKCS1, .hash = CRYPTO_HASH_SHA1 };
	uint8_t digest[CRYPTO_MAX_HASH_LEN];
	size_t dlen = 0;
	SECItem sg = { siBuffer, (unsigned char *)sig, (unsigned)sig_len }, dg;
	int r;

	(void)s;
	if (k == NULL)
		return -EINVAL;
	if (method == 14) {
		if ((r = cert_alg_parse(alg, alg_len, &a)) != 0)
			return r;
	} else if (method != 1) {
		return -ENOTSUP;
	}
	if ((a.scheme == CERT_SIG_ECDSA) != (p->key == CERT_KEY_ECDSA))
		return -EINVAL;               /* the algorithm does not fit the certificate key */
	if (sig == NULL || sig_len == 0 || sig_len > 65535)
		return -EBADMSG;
	if ((r = hash_data(a.hash, data, len, digest, &dlen)) != 0)
		return r;
	dg = (SECItem){ siBuffer, digest, (unsigned)dlen };
	if (p->key == CERT_KEY_RSA) {
		/* An RSA key is imported per use (~3 µs) from a shallow copy, so the cache keeps
		 * no softoken object for it (~8 KB each); an EC key stays imported, as importing
		 * one costs ~0.4 ms on NSS 3.87 (performance.md §3). */
		SECKEYPublicKey tmp = k->pk;
		tmp.pkcs11Slot = NULL;
		tmp.pkcs11ID = CK_INVALID_HANDLE;
		r = verify_with(&tmp, &a, &sg, &dg, digest, dlen);
		key_unimport(&tmp);
		return r;
	}
	return verify_with(&k->pk, &a, &sg, &dg, digest, dlen);
}

static int verify_with(SECKEYPublicKey *pk, const struct cert_alg *a, SECItem *sg, SECItem *dg,
		       const uint8_t *digest, size_t dlen)
{
	SECItem *raw;
	int r;

	switch (a->scheme) {
	case CERT_SIG_RSA_PSS: {
		CK_RSA_PKCS_PSS_PARAMS pss = {
			.hashAlg = cert_hash_mech(a->hash),
			.mgf = cert_hash_mgf(a->mgf_hash),
			.sLen = a->salt_len,
		};
		SECItem param = { siBuffer, (unsigned char *)&pss, sizeof(pss) };
		return PK11_VerifyWithMechanism(pk, CKM_RSA_PKCS_PSS, &param, sg, dg, NULL) ==
			SECSuccess ? 0 : -EBADMSG;
	}
	case CERT_SIG_RSA_PKCS1:
		return verify_pkcs1(pk, a->hash, digest, dlen, sg);
	case CERT_SIG_ECDSA:
		raw = DSAU_DecodeDerSigToLen(sg, SECKEY_SignatureLen(pk));
		if (raw == NULL)
			return -EBADMSG;
		r = PK11_VerifyWithMechanism(pk, CKM_ECDSA, NULL, raw, dg, NULL) == SECSuccess ?
			0 : -EBADMSG;
		SECITEM_FreeItem(raw, PR_TRUE);
		return r;
	}
	return -ENOTSUP;
}
