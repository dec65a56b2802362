/* ike_emit.h — IKEv2 message builders, the mirror image of ike_pld (uses wr only).
 *
 * A struct ike_emit wraps a writer and remembers where the previous payload's
 * next-payload byte is, so each builder chains itself in; ike_emit_finish() patches the
 * header's length. Builders take the same structs the parser produces, so
 * parse(emit(x)) == x. Errors are sticky (the writer's overflow flag, or a bad argument):
 * builders return 0 or -ENOSPC/-ENOMEM/-ERANGE/-EINVAL, and ike_emit_finish() returns the
 * first error, so a message can be built and checked once.
 *
 * SK/SKF: the message layer encrypts; this module only lays out the bytes. Between
 * ike_emit_sk_begin() and ike_emit_sk_end() the builders emit the inner payloads; sk_end
 * appends padding, the pad length byte and room for the ICV and reports the offsets in
 * struct ike_sk_layout for the crypto step. Nothing may follow an SK or SKF payload. */
#ifndef MESHD_IKE_EMIT_H
#define MESHD_IKE_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_pld.h"
#include "wr.h"

struct ike_emit {
	struct wr *w;             /* borrowed */
	size_t hdr_at;            /* offset of the IKE header */
	bool have_hdr;
	size_t np_at;             /* offset of the next-payload byte to patch */
	bool np_pending;          /* np_at is valid (a chain is open) */
	bool any;                 /* a payload has been emitted */
	uint8_t first_np;         /* type of the first payload when there is no header (a
	                           * bare chain, e.g. SK plaintext to be fragmented) */
	bool in_sk, skf, sk_closed;
	size_t sk_at;             /* SK/SKF generic header */
	size_t sk_iv_at, sk_iv_len;
	size_t sk_pt_at;          /* first inner byte */
	int err;                  /* sticky argument / state error */
};

/* Where the crypto step must act; offsets in the writer's buffer. */
struct ike_sk_layout {
	size_t aad_at, aad_len;   /* AEAD associated data: IKE header .. end of the SK/SKF
	                           * header (RFC 7296 §5.1, RFC 7383 §2.5.3) */
	size_t iv_at, iv_len;     /* IV (zeroed; the caller fills it) */
	size_t pt_at, pt_len;     /* plaintext: inner payloads || padding || pad length */
	size_t pad_len;           /* padding bytes (zeroed), pt_len includes them + 1 */
	size_t icv_at, icv_len;   /* integrity checksum (zeroed) */
};

#define IKE_EMIT_MUST __attribute__((warn_unused_result))

/* Start a message (or a bare payload chain, when no header is emitted) at w's current
 * position. */
void ike_emit_init(struct ike_emit *e, struct wr *w);
/* Header: h->np and h->length are ignored (chained / patched at finish). */
int ike_emit_header(struct ike_emit *e, const struct ike_hdr *h);
/* Patch the header length; returns the first error of the whole build, 0 if none. */
int ike_emit_finish(struct ike_emit *e) IKE_EMIT_MUST;

int ike_emit_sa(struct ike_emit *e, const struct ike_sa_pld *sa);
int ike_emit_ke(struct ike_emit *e, uint16_t group, const uint8_t *data, size_t len);
int ike_emit_nonce(struct ike_emit *e, const uint8_t *p, size_t len);
int ike_emit_notify(struct ike_emit *e, const struct ike_notify *n);
/* pl_type is IKE_PL_IDI or IKE_PL_IDR. */
int ike_emit_id(struct ike_emit *e, uint8_t pl_type, const struct ike_id *id);
/* Method DIGSIG emits len(alg_id) || alg_id || sig; other methods emit a->data. */
int ike_emit_auth(struct ike_emit *e, const struct ike_auth *a);
int ike_emit_cert(struct ike_emit *e, const struct ike_cert *c);
int ike_emit_certreq(struct ike_emit *e, const struct ike_cert *c);
/* pl_type is IKE_PL_TSI or IKE_PL_TSR; every selector's family follows its type. */
int ike_emit_ts(struct ike_emit *e, uint8_t pl_type, const struct ike_ts_list *ts);
int ike_emit_delete(struct ike_emit *e, const struct ike_delete *del);
int ike_emit_vid(struct ike_emit *e, const uint8_t *p, size_t len);
int ike_emit_cp(struct ike_emit *e, const struct ike_cp *cp);
/* Any payload with a raw body (tests, EAP, payload types we do not know). */
int ike_emit_raw(struct ike_emit *e, uint8_t pl_type, bool critical, const uint8_t *body,
		 size_t len);

/* Open an SK payload with iv_len bytes of IV room; inner payloads follow. */
int ike_emit_sk_begin(struct ike_emit *e, size_t iv_len);
/* Open an SKF payload (RFC 7383): first_np is the first inner payload's type for
 * fragment 1 and must be 0 for the others; the caller appends the already serialised
 * plaintext chunk with ike_emit_sk_bytes(). */
int ike_emit_skf_begin(struct ike_emit *e, uint16_t frag_num, uint16_t frag_total,
		       uint8_t first_np, size_t iv_len);
int ike_emit_sk_bytes(struct ike_emit *e, const uint8_t *p, size_t len);
/* Close SK/SKF: pad so that (plaintext + pad length byte) is a multiple of block (1 for
 * AEAD), reserve icv_len bytes, patch the SK length, fill *out. */
int ike_emit_sk_end(struct ike_emit *e, size_t block, size_t icv_len,
		    struct ike_sk_layout *out);

#endif
