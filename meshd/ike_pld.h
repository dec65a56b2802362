/* ike_pld.h — IKEv2 datagram → struct ike_digest (RFC 7296 §3, RFC 7383 §2.5).
 *
 * ike_pld_parse() checks the header and walks the payload chain with rd only; every
 * known payload body is decoded field by field into typed structs. The digest borrows
 * from the datagram (all pointers below point into it, or into the plaintext given to
 * ike_pld_parse_inner()), so it must not outlive those bytes. Nothing is allocated.
 *
 * Limits (exceeding one is INVALID_SYNTAX, never an allocation):
 *   payloads per message (cleartext + inside SK, unknown ones included)  IKE_MAX_PAYLOADS
 *   proposals per SA × transforms per proposal                           16 × 32
 *   N 64, CERT 16, CERTREQ 8, V 16, D 16, selectors per TS payload 16
 * SA, KE, Nonce, IDi, IDr, AUTH, TSi, TSr, CP, EAP, SK, SKF may appear once per message. */
#ifndef MESHD_IKE_PLD_H
#define MESHD_IKE_PLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ike_wire.h"
#include "rd.h"

#define IKE_MAX_PAYLOADS       256
#define IKE_MAX_PROPOSALS      16
#define IKE_MAX_TRANSFORMS     32
#define IKE_MAX_NOTIFIES       64
#define IKE_MAX_CERTS          16
#define IKE_MAX_CERTREQS       8
#define IKE_MAX_VIDS           16
#define IKE_MAX_DELETES        16
#define IKE_MAX_TS             16
#define IKE_MAX_SPI_LEN        8
#define IKE_NONCE_MIN          16        /* RFC 7296 §3.9 */
#define IKE_NONCE_MAX          256

/* A borrowed byte range. */
struct ike_blob {
	const uint8_t *p;
	size_t len;
};

struct ike_hdr {
	uint64_t spi_i, spi_r;    /* host order; 0 = not yet chosen */
	uint8_t np;               /* first payload */
	uint8_t version;          /* major << 4 | minor */
	uint8_t xchg;             /* enum ike_xchg */
	uint8_t flags;            /* IKE_FLAG_* */
	uint32_t msgid;
	uint32_t length;
};

struct ike_transform {
	uint8_t type;             /* enum ike_xf_type */
	uint16_t id;
	uint16_t key_len;         /* Key Length attribute in bits; 0 = absent */
	bool unknown_attr;        /* an attribute other than one Key Length: RFC 7296 §3.3.6
	                           * says to reject the proposal */
};

struct ike_proposal {
	uint8_t num;              /* Proposal Num */
	uint8_t proto;            /* enum ike_proto */
	uint8_t spi_size;         /* 0, 4 or 8 */
	uint8_t spi[IKE_MAX_SPI_LEN];
	uint8_t n_xf;
	struct ike_transform xf[IKE_MAX_TRANSFORMS];
};

struct ike_sa_pld {
	uint8_t n_prop;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
};

struct ike_ke {
	uint16_t group;           /* enum ike_dh */
	struct ike_blob data;
};

struct ike_notify {
	uint8_t proto;            /* 0 when no SPI */
	uint8_t spi_size;
	uint16_t type;            /* enum ike_notify_type */
	struct ike_blob spi;
	struct ike_blob data;
};

struct ike_delete {
	uint8_t proto;
	uint8_t spi_size;         /* 0 for IKE, 4 for ESP/AH */
	uint16_t n_spi;
	struct ike_blob spis;     /* n_spi × spi_size bytes */
};

struct ike_id {
	uint8_t type;             /* enum ike_id_type */
	struct ike_blob data;     /* 4 bytes for IPV4_ADDR, 16 for IPV6_ADDR */
};

struct ike_cert {
	uint8_t enc;              /* enum ike_cert_enc */
	struct ike_blob data;
};

struct ike_auth {
	uint8_t method;           /* enum ike_auth_method */
	struct ike_blob data;     /* everything after method + reserved */
	/* method DIGSIG (RFC 7427 §3): data = len(1) || AlgorithmIdentifier || signature */
	struct ike_blob alg_id;   /* DER AlgorithmIdentifier (not decoded here) */
	struct ike_blob sig;
};

struct ike_ts {
	uint8_t type;             /* IKE_TS_IPV4_ADDR_RANGE / IKE_TS_IPV6_ADDR_RANGE */
	uint8_t proto;            /* IP protocol, 0 = any */
	uint16_t sport, eport;    /* 65535/0 = OPAQUE (RFC 7296 §3.13.1) */
	struct addr start, end;   /* start <= end */
};

struct ike_ts_list {
	uint8_t n;
	uint8_t n_unknown;        /* selectors of other types, skipped (e.g. SECLABEL) */
	struct ike_ts ts[IKE_MAX_TS];
};

struct ike_cp {
	uint8_t type;             /* enum ike_cp_type */
	struct ike_blob attrs;    /* raw attributes */
};

/* SK (RFC 7296 §3.14) or SKF (RFC 7383 §2.5): where the protected data is. Offsets are
 * from the start of the datagram: the AEAD associated data is [0, body_off). */
struct ike_sk {
	bool present;
	uint8_t np;               /* type of the first inner payload (0 in SKF fragments > 1) */
	size_t hdr_off;           /* generic payload header of SK/SKF */
	size_t body_off;          /* IV || ciphertext || ICV starts here */
	size_t body_len;
	uint16_t frag_num, frag_total;  /* SKF only */
};

struct ike_digest {
	const uint8_t *msg;       /* the datagram (borrowed) */
	size_t msg_len;
	struct ike_hdr hdr;

	uint64_t pl;              /* IKE_PL_BIT() of every payload type seen in cleartext */
	uint64_t sk_pl;           /* ... and inside SK (after ike_pld_parse_inner) */
	bool inner;               /* ike_pld_parse_inner() has run */
	unsigned n_payloads;      /* all payloads, known or not */

	/* Why parsing failed: the notify to answer with (INVALID_SYNTAX,
	 * INVALID_MAJOR_VERSION, UNSUPPORTED_CRITICAL_PAYLOAD), the payload type concerned
	 * (for UNSUPPORTED_CRITICAL_PAYLOAD its data), and a debug-log reason. */
	uint16_t err_notify;
	uint8_t err_pl;
	const char *err_what;

	struct ike_sa_pld sa;
	struct ike_ke ke;
	struct ike_blob nonce;
	struct ike_id idi, idr;
	struct ike_auth auth;
	struct ike_ts_list tsi, tsr;
	struct ike_cp cp;
	struct ike_blob eap;
	struct ike_sk sk;         /* SK, or SKF when pl has IKE_PL_BIT(IKE_PL_SKF) */

	uint8_t n_notify, n_cert, n_certreq, n_vid, n_del;
	struct ike_notify notify[IKE_MAX_NOTIFIES];
	struct ike_cert cert[IKE_MAX_CERTS];
	struct ike_cert certreq[IKE_MAX_CERTREQS];
	struct ike_blob vid[IKE_MAX_VIDS];
	struct ike_delete del[IKE_MAX_DELETES];
};

#define IKE_PLD_MUST __attribute__((warn_unused_result))

/* Decode the 28-byte IKE header from r (no length or version checks). */
int ike_hdr_read(struct rd *r, struct ike_hdr *h) IKE_PLD_MUST;

/* Parse a whole datagram (msg, borrowed for the digest's life) into *d, which is reset
 * first. Checks: header length == len, major version 2, the payload chain (generic
 * header length >= 4 and within the message, ends exactly at the end, SK/SKF last),
 * every known body, the limits above. Returns 0, or -EBADMSG with d->err_* set. */
int ike_pld_parse(struct ike_digest *d, const uint8_t *msg, size_t len) IKE_PLD_MUST;

/* Parse the decrypted SK contents (padding and pad length already removed) starting with
 * payload type first_type, into the same digest; payloads are recorded in d->sk_pl. SK or
 * SKF inside SK is an error. Returns 0 or -EBADMSG with d->err_* set. */
int ike_pld_parse_inner(struct ike_digest *d, uint8_t first_type, const uint8_t *pt,
			size_t len) IKE_PLD_MUST;

/* Decode a TSi/TSr payload body (after the generic header). 0 or -EBADMSG. */
int ike_pld_parse_ts(struct ike_ts_list *ts, const uint8_t *body, size_t len) IKE_PLD_MUST;

/* First notify of this type, or NULL. */
const struct ike_notify *ike_digest_notify(const struct ike_digest *d, uint16_t type);

#endif
