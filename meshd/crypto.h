/* crypto.h — the cryptography of IKEv2 (RFC 7296) through NSS: DH/ECDH key exchange, PRF and
 * prf+, the IKE and Child SA key schedules, SK payload protection (AES-GCM-16, AES-CBC +
 * HMAC-SHA1/SHA2), hashes and the RNG.
 *
 * This header is NSS-free: only crypto*.c include NSS/NSPR (DESIGN.md §3.2; cert.c is the other
 * NSS user). Conventions: functions return 0 or -errno (-EINVAL bad argument or peer value,
 * -ENOTSUP unknown transform, -EBADMSG integrity failure, -ENOSPC output too small, -ENOMEM,
 * -EIO an NSS failure); predicates return bool; destructors accept NULL.
 *
 * Ownership: struct crypto_buf is owned memory, zeroed before it is freed (crypto_buf_free);
 * struct crypto_iov is a borrowed read-only view, never freed.
 *
 * Threads: a struct crypto and the objects made from it may be used from one thread at a time;
 * distinct objects may be used from different threads (NSS softoken is thread-safe).
 */
#ifndef MESHD_CRYPTO_H
#define MESHD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MUST_USE __attribute__((warn_unused_result))

/* IKEv2 transform IDs (IANA "IKEv2 Parameters"), prefixed so as not to collide with the wire
 * constants of the IKE message layer. The same numbers are used for ESP. */
enum {
	/* Transform type 1, ENCR */
	CRYPTO_ENCR_AES_CBC = 12,
	CRYPTO_ENCR_AES_GCM_16 = 20,       /* RFC 5282 */
	/* Transform type 2, PRF */
	CRYPTO_PRF_HMAC_SHA1 = 2,
	CRYPTO_PRF_HMAC_SHA2_256 = 5,      /* RFC 4868 */
	CRYPTO_PRF_HMAC_SHA2_384 = 6,
	CRYPTO_PRF_HMAC_SHA2_512 = 7,
	/* Transform type 3, INTEG */
	CRYPTO_INTEG_NONE = 0,
	CRYPTO_INTEG_HMAC_SHA1_96 = 2,
	CRYPTO_INTEG_HMAC_SHA2_256_128 = 12,
	CRYPTO_INTEG_HMAC_SHA2_384_192 = 13,
	CRYPTO_INTEG_HMAC_SHA2_512_256 = 14,
	/* Transform type 4, KE (DH group) */
	CRYPTO_DH_MODP2048 = 14,           /* RFC 3526 */
	CRYPTO_DH_MODP3072 = 15,
	CRYPTO_DH_ECP256 = 19,             /* RFC 5903 */
	CRYPTO_DH_ECP384 = 20,
	CRYPTO_DH_CURVE25519 = 31,         /* RFC 8031 */
	/* RFC 7427 hash algorithm IDs (SIGNATURE_HASH_ALGORITHMS) */
	CRYPTO_HASH_SHA1 = 1,
	CRYPTO_HASH_SHA2_256 = 2,
	CRYPTO_HASH_SHA2_384 = 3,
	CRYPTO_HASH_SHA2_512 = 4,
};

#define CRYPTO_MAX_HASH_LEN 64           /* SHA-512 */
#define CRYPTO_MAX_DH_LEN 384            /* MODP-3072 */
#define CRYPTO_GCM_SALT_LEN 4            /* RFC 5282 §7.1: key material = key || salt */

/* Owned bytes; p == NULL iff len == 0. */
struct crypto_buf {
	uint8_t *p;
	size_t len;
};

/* Borrowed bytes. */
struct crypto_iov {
	const void *p;
	size_t len;
};

#define CRYPTO_IOV(ptr, n) ((struct crypto_iov){ .p = (ptr), .len = (n) })
#define CRYPTO_IOV_BUF(b) ((struct crypto_iov){ .p = (b).p, .len = (b).len })

int crypto_buf_alloc(struct crypto_buf *b, size_t len) CRYPTO_MUST_USE;         /* zero-filled */
int crypto_buf_dup(struct crypto_buf *b, const void *p, size_t len) CRYPTO_MUST_USE;
void crypto_buf_free(struct crypto_buf *b);        /* zeroes, frees, leaves {NULL, 0} */

/* ---- NSS initialisation ----
 * crypto_init() opens its own NSSInitContext: with nssdir (e.g. "sql:/var/lib/meshd/nss") the
 * softoken DB there, read-write; with NULL no DB at all (tests, NULL-auth-only hosts). NSS keeps
 * one process-wide state (its global, not ours): the first context initialises it; a later
 * context naming another DB opens that DB as an extra module; NSS shuts down when the last
 * context is closed. The cert module does not initialise NSS itself: it is created after, and
 * freed before, the struct crypto of the same meshd context, and uses the DB opened here. */
struct crypto;
int crypto_init(struct crypto **out, const char *nssdir) CRYPTO_MUST_USE;      /* *out: (owned) */
void crypto_free(struct crypto *c);

/* ---- RNG (NSS's DRBG) ---- */
int crypto_random(void *buf, size_t len) CRYPTO_MUST_USE;

/* ---- Hashes (NAT_DETECTION, RFC 7427) ---- */
size_t crypto_hash_len(uint16_t hash);               /* 0 if unknown */
int crypto_hash(uint16_t hash, const struct crypto_iov *in, size_t n_in,
		uint8_t *out) CRYPTO_MUST_USE;           /* out: crypto_hash_len() bytes */

/* ---- Key exchange ----
 * The KE payload data (crypto_dh_public) is: MODP g^x big-endian padded to the prime length;
 * ECP x || y without the point-format byte (RFC 5903 §7); Curve25519 the 32-byte u (RFC 8031).
 * The shared secret g^ir has the same encoding rules: MODP padded to the prime length, ECP the
 * x coordinate, Curve25519 the 32-byte u. */
struct crypto_dh;
bool crypto_dh_supported(uint16_t group);
size_t crypto_dh_public_len(uint16_t group);          /* 0 if unsupported */
size_t crypto_dh_secret_len(uint16_t group);
int crypto_dh_new(struct crypto *c, uint16_t group,
		  struct crypto_dh **out) CRYPTO_MUST_USE;   /* ephemeral key; *out: (owned) */
/* Import a fixed private key (known-answer tests, deterministic exchange tests); ECP and
 * Curve25519 only (-ENOTSUP for MODP). priv: the scalar big-endian for ECP (RFC 5903), the
 * 32-byte RFC 7748 string for Curve25519. pub: the matching KE payload data; required for ECP
 * (NSS cannot compute y; it must be on the curve with x = x(priv * G), else -EINVAL), optional
 * (len 0: computed) for Curve25519. */
int crypto_dh_new_fixed(struct crypto *c, uint16_t group, struct crypto_iov priv,
			struct crypto_iov pub, struct crypto_dh **out) CRYPTO_MUST_USE;
uint16_t crypto_dh_group(const struct crypto_dh *dh);
int crypto_dh_public(const struct crypto_dh *dh, struct crypto_buf *out) CRYPTO_MUST_USE;
/* Validates the peer's value (length; ECP on the curve; MODP 1 < y < p-1; Curve25519 not an
 * all-zero result) and returns -EINVAL for a bad one. secret: (owned) by the caller. */
int crypto_dh_derive(struct crypto_dh *dh, struct crypto_iov peer,
		     struct crypto_buf *secret) CRYPTO_MUST_USE;
void crypto_dh_free(struct crypto_dh *dh);

/* ---- PRF (HMAC), prf+ (RFC 7296 §2.13) ---- */
size_t crypto_prf_len(uint16_t prf);                  /* output (= preferred key) length */
int crypto_prf(struct crypto *c, uint16_t prf, struct crypto_iov key,
	       const struct crypto_iov *in, size_t n_in, uint8_t *out) CRYPTO_MUST_USE;
/* T1 | T2 | ... truncated to len; at most 255 * crypto_prf_len(prf) bytes. */
int crypto_prf_plus(struct crypto *c, uint16_t prf, struct crypto_iov key,
		    const struct crypto_iov *seed, size_t n_seed,
		    uint8_t *out, size_t len) CRYPTO_MUST_USE;

/* Key lengths in bytes from the negotiated transforms: the ENCR length includes the 4-byte
 * salt for AES-GCM (RFC 5282 §7.1); keybits is the Key Length attribute (128 or 256). */
size_t crypto_encr_key_len(uint16_t encr, uint16_t keybits);   /* 0 if unsupported */
size_t crypto_integ_key_len(uint16_t integ);                   /* 0 for NONE or unsupported */
bool crypto_encr_is_aead(uint16_t encr);

/* ---- IKE SA keys (RFC 7296 §2.14, §2.18) ---- */
struct crypto_ike_suite {
	uint16_t encr, encr_keybits, integ, prf;     /* integ = CRYPTO_INTEG_NONE with AEAD */
};

struct crypto_ike_keys {                         /* all (owned) */
	struct crypto_buf sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

/* SKEYSEED = prf(Ni | Nr, g^ir);
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
 * spi_i, spi_r: 8 bytes each. out must be zeroed or freed; it is left empty on error. */
int crypto_ike_keys(struct crypto *c, const struct crypto_ike_suite *s, struct crypto_iov g_ir,
		    struct crypto_iov ni, struct crypto_iov nr, const uint8_t spi_i[8],
		    const uint8_t spi_r[8], struct crypto_ike_keys *out) CRYPTO_MUST_USE;
/* Rekeying: SKEYSEED = prf_old(SK_d(old), g^ir(new) | Ni | Nr), then prf+ of the new suite. */
int crypto_ike_rekey_keys(struct crypto *c, uint16_t old_prf, struct crypto_iov old_sk_d,
			  const struct crypto_ike_suite *s, struct crypto_iov g_ir,
			  struct crypto_iov ni, struct crypto_iov nr, const uint8_t spi_i[8],
			  const uint8_t spi_r[8], struct crypto_ike_keys *out) CRYPTO_MUST_USE;
void crypto_ike_keys_free(struct crypto_ike_keys *k);

/* ---- Child SA keys (RFC 7296 §2.17) ---- */
struct crypto_child_suite {
	uint16_t encr, encr_keybits, integ;
};

struct crypto_child_keys {                       /* all (owned); e* include the GCM salt */
	struct crypto_buf ei, ai, er, ar;        /* i: initiator -> responder */
};

/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); g_ir.len == 0 for no PFS. Taken in the order
 * encryption key then integrity key, initiator->responder first. */
int crypto_child_keys(struct crypto *c, uint16_t prf, struct crypto_iov sk_d,
		      const struct crypto_child_suite *s, struct crypto_iov g_ir,
		      struct crypto_iov ni, struct crypto_iov nr,
		      struct crypto_child_keys *out) CRYPTO_MUST_USE;
void crypto_child_keys_free(struct crypto_child_keys *k);

/* ---- SK payload protection (RFC 7296 §3.14, RFC 5282 §3) ----
 * One struct crypto_sk per direction: SK_ei (+ SK_ai) protect what the initiator sends.
 * It keeps the imported keys (and, for GCM, an NSS message context) for the SA's life.
 *   aad: AES-GCM: the IKE header through the SK payload header (RFC 5282 §5.1);
 *        AES-CBC: the same bytes, covered by the integrity checksum with IV || ciphertext.
 *   pt:  the inner payloads followed by padding and the Pad Length octet (the caller pads to
 *        crypto_sk_block_len(); the length must be a multiple of it).
 *   out: IV || ciphertext || ICV, crypto_sk_overhead() + pt.len bytes.
 * iv == NULL picks the IV: a per-key counter for GCM (never repeats under one key), random for
 * CBC; a given iv (crypto_sk_iv_len bytes) is for known-answer tests only. Input and output
 * must not overlap. */
struct crypto_sk;
int crypto_sk_new(struct crypto *c, uint16_t encr, uint16_t keybits, uint16_t integ,
		  struct crypto_iov ekey, struct crypto_iov akey,
		  struct crypto_sk **out) CRYPTO_MUST_USE;    /* *out: (owned) */
void crypto_sk_free(struct crypto_sk *sk);
size_t crypto_sk_iv_len(const struct crypto_sk *sk);       /* 8 GCM, 16 CBC */
size_t crypto_sk_icv_len(const struct crypto_sk *sk);      /* 16 GCM, 12/16/24/32 HMAC */
size_t crypto_sk_block_len(const struct crypto_sk *sk);    /* 16 CBC, 1 GCM */
size_t crypto_sk_overhead(const struct crypto_sk *sk);     /* iv + icv */
int crypto_sk_encrypt(struct crypto_sk *sk, const uint8_t *iv, struct crypto_iov aad,
		      struct crypto_iov pt, uint8_t *out, size_t cap,
		      size_t *out_len) CRYPTO_MUST_USE;
/* in: IV || ciphertext || ICV. Verifies the ICV (constant time) before decrypting; any
 * mismatch or malformed length gives -EBADMSG and writes nothing useful to out. */
int crypto_sk_decrypt(struct crypto_sk *sk, struct crypto_iov aad, struct crypto_iov in,
		      uint8_t *out, size_t cap, size_t *out_len) CRYPTO_MUST_USE;

/* ---- the module's private part ----
 * What crypto.c, crypto_dh.c and crypto_sk.c share, with NSS types. Only the module's own files define MESHD_CRYPTO_INTERNAL
 * before including this header, so the library's headers stay inside the module
 * (DESIGN.md 3.2); every other module sees the library-free API above. */
#ifdef MESHD_CRYPTO_INTERNAL
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <secoid.h>

struct crypto {
	NSSInitContext *nss;            /* (owned) our reference on NSS's process-wide state */
	PK11SlotInfo *slot;             /* (owned) internal crypto slot: session keys live here */
};

/* A keyed HMAC that can be run many times: the key is imported once (prf+, SK integrity). */
struct crypto_hmac {
	CK_MECHANISM_TYPE mech;
	size_t len;                     /* full output length */
	PK11SymKey *key;                /* (owned) */
	PK11Context *ctx;               /* (owned) */
};

/* PRF and INTEG ids map to the same HMAC mechanisms. */
CK_MECHANISM_TYPE crypto_prf_mech(uint16_t prf, size_t *len);
int crypto_hmac_init(struct crypto *c, struct crypto_hmac *h, CK_MECHANISM_TYPE mech, size_t len,
		     struct crypto_iov key);
/* out: h->len bytes */
int crypto_hmac_run(struct crypto_hmac *h, const struct crypto_iov *in, size_t n_in, uint8_t *out);
void crypto_hmac_fini(struct crypto_hmac *h);
#endif /* MESHD_CRYPTO_INTERNAL */

#endif
