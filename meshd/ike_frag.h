/* ike_frag.h — IKE fragmentation (RFC 7383): the fragments of a message we send, and the
 * reassembly of the fragments we receive.
 *
 * Only SK-protected messages after IKE_SA_INIT are fragmented, and only when both sides
 * sent IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT (sa->frag). ike_msg.c does the
 * protecting: every fragment has its own IV and ICV, and a fragment that fails its check
 * is dropped alone (RFC 7383 §2.6). This module holds the bytes and the rules:
 *
 *   sending    a message bigger than the fragment size goes as n fragments of at most
 *              that size (IP + UDP + non-ESP marker included); the request's fragments
 *              are what retransmits resend, the response's are the response cache.
 *   receiving  per direction (the peer's request, the answer to ours) one message is
 *              reassembled at a time: fragments of another message ID start over; a
 *              bigger Total Fragments starts over, a smaller one is dropped (§2.6.2);
 *              duplicates are dropped; at most IKE_FRAG_MAX fragments and
 *              IKE_FRAG_BYTES_MAX plaintext bytes; a set older than the retransmit
 *              budget is discarded when the next fragment arrives.
 *
 * Ownership: struct ike_frag belongs to its IKE SA (sa->fr) and is freed with it. */
#ifndef MESHD_IKE_FRAG_H
#define MESHD_IKE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IKE_FRAG_MAX 32             /* fragments of one message, both ways */
#define IKE_FRAG_BYTES_MAX 65536    /* reassembled plaintext of one message */
/* Datagram size of a fragment, IP and UDP headers included (RFC 7383 §2.5.1; no path
 * MTU discovery). IPv6: its minimum MTU. IPv4: the same 1280 as strongSwan's default
 * rather than the 576-byte minimum reassembly size, which would split even an ECDSA
 * certificate's IKE_AUTH; 1280 still fits any path that carries tunnelled traffic. */
#define IKE_FRAG_SIZE_IPV4 1280
#define IKE_FRAG_SIZE_IPV6 1280

/* The datagrams of one message sent as fragments; n == 0: it went whole. */
struct ike_frag_train {
	size_t n;
	struct buf *m;                /* (owned) n datagrams; NULL when n is 0 (a responder
	                               * keeps its last answer's train for the SA's life) */
};

/* One message being reassembled. */
struct ike_frag_rx {
	bool active;
	uint32_t msgid;
	uint16_t total, have;
	uint8_t first_np;             /* from fragment 1 */
	size_t bytes;                 /* plaintext kept so far */
	uint64_t start_ms;            /* first fragment of this set */
	struct buf part[IKE_FRAG_MAX];   /* decrypted chunks, [num - 1] (secret) */
	struct buf first;             /* fragment 1 as it arrived */
};

struct ike_frag {
	struct ike_frag_train req;    /* our outstanding request, when fragmented */
	struct ike_frag_train resp;   /* our cached response, when fragmented */
	/* the plaintext of the message msg_seal made last, in case it must be split */
	struct buf pending_pt;        /* inner payloads (secret) */
	uint8_t pending_np;           /* first inner payload */
	const uint8_t *pending_p;     /* the sealed message it belongs to (identity only) */
	size_t pending_len;
	struct ike_frag_rx rx[2];     /* [0] the peer's request, [1] the answer to ours */
	struct buf req_first;         /* fragment 1 of the request just reassembled: what a
	                               * retransmission of it starts with */
};

/* A zeroed struct ike_frag, or NULL. */
struct ike_frag *ike_frag_new(void);
/* Accepts NULL. */
void ike_frag_free(struct ike_frag *f);
void ike_frag_train_clear(struct ike_frag_train *t);
void ike_frag_rx_reset(struct ike_frag_rx *rx);
void ike_frag_pending_clear(struct ike_frag *f);
/* Nothing kept: no train, no reassembly under way, no pending plaintext or fragment 1
 * (the owner may free it; an idle struct ike_frag is 2 KB per SA). True for NULL. */
bool ike_frag_idle(const struct ike_frag *f);

/* Results of ike_frag_rx_add. */
enum {
	IKE_FRAG_KEPT = 0,            /* stored; more to come */
	IKE_FRAG_COMPLETE = 1,        /* all fragments are here: ike_frag_rx_take */
};

/* Add fragment num/total of message msgid: chunk is its decrypted content (padding
 * removed), raw the datagram (kept for fragment 1). np is the SKF Next Payload. A set
 * started more than timeout_ms before now is discarded first. Returns IKE_FRAG_KEPT,
 * IKE_FRAG_COMPLETE, -EALREADY (duplicate), -ERANGE (bad numbering, or a smaller total
 * than the set's), -E2BIG (over the limits) or -ENOMEM; nothing is kept on error. */
int ike_frag_rx_add(struct ike_frag_rx *rx, uint32_t msgid, uint16_t num, uint16_t total,
		    uint8_t np, const uint8_t *chunk, size_t len, const uint8_t *raw,
		    size_t raw_len, uint64_t now_ms, uint64_t timeout_ms)
	__attribute__((warn_unused_result));
/* The complete message: *pt (owned) the inner payloads in order, *np the first one's type,
 * *first (owned) fragment 1 as received. The set is reset. 0 or -ENOMEM / -EINVAL (not
 * complete). */
int ike_frag_rx_take(struct ike_frag_rx *rx, struct buf *pt, uint8_t *np, struct buf *first)
	__attribute__((warn_unused_result));

/* The datagram size for fragments: the override (tests) or the RFC 7383 default. */
size_t ike_frag_size(size_t override, int family);
/* The largest IKE message that fits a datagram of dgram bytes (IP and UDP headers, the
 * non-ESP marker on 4500 taken off); 0 if none does. */
size_t ike_frag_msg_max(size_t dgram, int family, bool natt);
/* The most inner-payload bytes one SKF fragment of at most msg_max bytes can carry,
 * given the cipher's IV, ICV and block sizes (the pad length byte and the worst-case
 * padding included); 0 if none. */
size_t ike_frag_chunk(size_t msg_max, size_t iv, size_t icv, size_t block);

#endif
