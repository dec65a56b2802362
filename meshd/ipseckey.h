/* ipseckey.h — IPSECKEY records (RFC 4025) without a DNS library: rdata parsing, public key
 * conversion to and from DER SubjectPublicKeyInfo, the names to query, the presentation
 * form for showhostkey, and the TTL cache of DNS keys (DESIGN.md §2.3).
 *
 * The rdata parser reads untrusted bytes through rd.h only; it is a fuzz target
 * (tests/fuzz/fuzz_ipseckey.c). Key formats:
 *   algorithm 2, RSA    RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets),
 *                       exponent, modulus (RFC 4025 §2.4);
 *   algorithm 3, ECDSA  RFC 8005 §4 / RFC 6605 §4: the point x || y without the 0x04
 *                       prefix, 64 bytes for P-256 and 96 for P-384;
 *   algorithm 4, EdDSA  RFC 9373: the raw public key, 32 bytes Ed25519 / 57 bytes Ed448;
 *   algorithm 1, DSA    refused (-ENOTSUP).
 * Conventions: 0 or -errno; -EBADMSG malformed input, -ENOTSUP well-formed but not
 * usable by us, -ENOSPC output too small, -ENOMEM. No globals; no threads needed. */
#ifndef MESHD_IPSECKEY_H
#define MESHD_IPSECKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"

#define IPSECKEY_MUST __attribute__((warn_unused_result))

enum ipseckey_gw {
	IPSECKEY_GW_NONE = 0,
	IPSECKEY_GW_IPV4 = 1,
	IPSECKEY_GW_IPV6 = 2,
	IPSECKEY_GW_NAME = 3,         /* uncompressed wire-format domain name */
};

enum ipseckey_alg {
	IPSECKEY_ALG_NONE = 0,        /* no key present */
	IPSECKEY_ALG_DSA = 1,
	IPSECKEY_ALG_RSA = 2,
	IPSECKEY_ALG_ECDSA = 3,
	IPSECKEY_ALG_EDDSA = 4,
};

/* Longest presentation-form domain name with its trailing dot and NUL (RFC 1035 §2.3.4:
 * 255 wire octets; escapes "\DDD" can make text up to four times longer). */
#define IPSECKEY_NAME_MAX 1024
/* Largest RSA modulus we take (RFC 3110 allows 4096 bits; we allow 8192) and smallest. */
#define IPSECKEY_RSA_MAX_BITS 8192
#define IPSECKEY_RSA_MIN_BITS 1024

/* One parsed record. key points into the rdata given to ipseckey_parse (borrowed). */
struct ipseckey {
	uint8_t precedence;
	uint8_t gw_type;              /* enum ipseckey_gw */
	uint8_t alg;                  /* enum ipseckey_alg */
	struct addr gw_addr;          /* gw_type 1 or 2 */
	char gw_name[IPSECKEY_NAME_MAX]; /* presentation form: "." for type 0, "gw.example." */
	const uint8_t *key;           /* borrowed: the public key field, as on the wire */
	size_t key_len;
	unsigned key_bits;            /* RSA modulus bits, 256/384 ECDSA, 255/448 EdDSA */
};

/* Parse IPSECKEY rdata (RFC 4025 §2.1). The key field is checked against its algorithm's
 * format. why (may be NULL) gets a static reason on failure. 0, -EBADMSG (malformed:
 * truncated, trailing bytes, bad name, bad key layout), -ENOTSUP (DSA, unknown gateway
 * type or algorithm, unsupported curve length or key size). */
int ipseckey_parse(const uint8_t *rdata, size_t len, struct ipseckey *out, const char **why)
	IPSECKEY_MUST;

/* Can this record authenticate peer (DESIGN.md §2.3; Libreswan takes gateway type 0 only,
 * we also take a gateway that is the peer's own address)? A record without a key, or one
 * naming another gateway, is not usable. why gets a static reason when false. */
bool ipseckey_usable(const struct ipseckey *k, const struct addr *peer, const char **why);

/* The record's public key as DER SubjectPublicKeyInfo (owned by *out), for
 * cert_peer_from_spki(). 0, -ENOTSUP (no key, DSA), -ENOMEM. */
int ipseckey_to_spki(const struct ipseckey *k, struct buf *out) IPSECKEY_MUST;

/* The reverse: a DER SubjectPublicKeyInfo (RSA, EC P-256/P-384, Ed25519/Ed448) to the
 * IPSECKEY algorithm number and key field (owned by *key). 0, -EBADMSG (not a DER SPKI),
 * -ENOTSUP (another key type or curve), -ENOMEM. */
int ipseckey_from_spki(const uint8_t *spki, size_t len, uint8_t *alg, struct buf *key)
	IPSECKEY_MUST;

/* Query names. Reverse: "4.3.2.1.in-addr.arpa." / 32 nibbles + "ip6.arpa." (RFC 1035
 * §3.5, RFC 3596 §2.5). Forward: an FQDN ID ("@host.example", "host.example.") as
 * "host.example." (one "@" and trailing dots stripped, one dot added; labels 1..63 octets,
 * name ≤ 253 octets, letters, digits, '-' and '_' only). 0, -EINVAL, -ENOSPC. */
int ipseckey_reverse_name(const struct addr *a, char *out, size_t cap) IPSECKEY_MUST;
int ipseckey_fqdn_name(const char *id, char *out, size_t cap) IPSECKEY_MUST;

/* Presentation form of one record for a zone file (Libreswan showhostkey's layout):
 * "OWNER IN IPSECKEY PREC GWTYPE ALG GATEWAY BASE64KEY\n" with gateway "." when gw is NULL
 * or unset (type 0), else type 1/2 and the address. owner is used as given plus a final
 * dot when it lacks one. The string is owned by *out (NUL-terminated; len excludes it). */
int ipseckey_record_str(const char *owner, uint8_t precedence, const struct addr *gw,
			uint8_t alg, const uint8_t *key, size_t key_len, struct buf *out)
	IPSECKEY_MUST;

/* Base64 (RFC 4648 §4, with padding). encode: the string is owned by *out, NUL-terminated.
 * decode: whitespace is skipped; -EBADMSG on anything else that is not base64. */
int ipseckey_b64_encode(const uint8_t *p, size_t len, struct buf *out) IPSECKEY_MUST;
int ipseckey_b64_decode(const char *s, struct buf *out) IPSECKEY_MUST;

/* ---- Cache of DNS keys, keyed by (IKE ID type, ID data) ----
 * Every answer replaces all of that ID's keys (Libreswan: all RRs replace the ID's keys).
 * An entry lives for its TTL, raised to the floor (Libreswan: not below the retransmit
 * timeout) and capped at the ceiling; the cache holds at most max entries (the one that
 * expires first is evicted). Time is a parameter (ms, any monotonic origin), so tests run
 * on a virtual clock. Lookups are linear: the bound keeps them cheap, and a lookup happens
 * once per IKE_AUTH. Single-threaded (the event loop's). */
struct ipseckey_cache;

struct ipseckey_key {
	uint8_t alg;                  /* enum ipseckey_alg */
	unsigned bits;
	struct buf spki;              /* DER SubjectPublicKeyInfo (owned by the entry) */
};

struct ipseckey_entry {
	uint8_t id_type;              /* IKEv2 ID type: 1 IPv4, 2 FQDN, 5 IPv6 */
	struct buf id;                /* ID data (owned) */
	struct ipseckey_key *keys;    /* owned */
	size_t n_keys;
	uint32_t ttl_s;               /* after the floor and ceiling */
	uint64_t expires_ms;
};

struct ipseckey_cache *ipseckey_cache_new(size_t max, uint32_t floor_s, uint32_t ceiling_s);
void ipseckey_cache_free(struct ipseckey_cache *c);          /* accepts NULL */
/* Replace the ID's keys with copies of keys[0..n). n == 0 removes the entry. */
int ipseckey_cache_put(struct ipseckey_cache *c, uint8_t id_type, const uint8_t *id,
		       size_t id_len, const struct ipseckey_key *keys, size_t n, uint32_t ttl_s,
		       uint64_t now_ms) IPSECKEY_MUST;
/* The live entry for the ID (borrowed until the next put/del/expire), or NULL; an expired
 * entry is removed on the way. */
const struct ipseckey_entry *ipseckey_cache_get(struct ipseckey_cache *c, uint8_t id_type,
						const uint8_t *id, size_t id_len,
						uint64_t now_ms);
/* Forget an ID (a cached key failed AUTH: the next attempt queries again). */
void ipseckey_cache_del(struct ipseckey_cache *c, uint8_t id_type, const uint8_t *id,
			size_t id_len);
/* Drop expired entries; returns how many. */
size_t ipseckey_cache_expire(struct ipseckey_cache *c, uint64_t now_ms);
size_t ipseckey_cache_count(const struct ipseckey_cache *c);
/* Seconds an entry has left (0 if expired), for status ("DNSSEC secure, TTL 3542 s"). */
uint32_t ipseckey_entry_ttl_left(const struct ipseckey_entry *e, uint64_t now_ms);

#endif
