/* oe.h — the opportunistic path: ACQUIRE -> classify -> negotiation shunt -> IKE ->
 * SA or failure shunt (DESIGN.md 2.2), and what we remember per peer for `meshctl why`. */
#ifndef MESHD_OE_H
#define MESHD_OE_H

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "kernel.h"

struct meshd_ctx;

#define PEER_REASON_MAX 160

struct peer_diag {
	struct addr peer;
	time_t last_attempt, last_failure;
	uint32_t attempts, failures;
	char last_reason[PEER_REASON_MAX];    /* why the last attempt failed */
	char last_note[PEER_REASON_MAX];      /* last thing logged once for this peer */
};

struct peers;

struct peers *peers_new(size_t max);           /* keeps at most max peers (oldest go) */
void peers_free(struct peers *p);
const struct peer_diag *peers_find(const struct peers *p, const struct addr *peer);

/* Kernel ACQUIRE handler. */
void oe_acquire(struct meshd_ctx *ctx, const struct kacquire *acq);
/* Cleartext from peer (acq->sel.dst) to local (acq->sel.src) was dropped by the inbound
 * table (nft_log.h); acq->sel has the reply's flow (ports swapped), seq 0. Starts the
 * attempt an ACQUIRE for that flow would, unless the pair has an IKE SA, a shunt, or too
 * many IKE SAs are half-open. */
void oe_inbound(struct meshd_ctx *ctx, const struct kacquire *acq);
/* An attempt toward peer (from local) ended without SAs: install the group's failure
 * shunt with the reason, remember it for `why`, log one line. */
void oe_failed(struct meshd_ctx *ctx, const struct addr *local, const struct addr *peer,
	       const char *reason);
/* Log a note about peer once (until it changes) and keep it for `meshctl why`
 * (peer_diag.last_note): e.g. a peer that tried to negotiate although we classify it as
 * clear (DESIGN.md 2.2 item 7). */
void oe_note(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
