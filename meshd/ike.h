/* ike.h — the IKEv2 engine as the daemon sees it: start an opportunistic attempt, feed it
 * datagrams, list what it established, tear a peer down.
 *
 * One struct ike per meshd context (ctx->ike). It owns every IKE and Child SA; the rest of
 * the daemon only holds serial numbers (Libreswan's #N), never pointers. Outcomes flow
 * back through oe.c: a failed attempt calls oe_failed(ctx, local, peer, reason), an
 * established Child SA replaces the pair's negotiation (or failure) shunt.
 *
 * Inside (DESIGN.md 3.2): sa.c (objects and tables), ike_msg.c (message IDs, SK
 * protection, retransmits, response cache), exchange.c (the dispatcher: the only code that
 * changes an SA's state), x_sa_init.c / x_auth.c / x_info.c (one transition table per
 * exchange), ike_child.c (ESP SAs and IPsec policies in the kernel), ike_live.c (liveness
 * checks, INITIAL_CONTACT, crossing streams). */
#ifndef MESHD_IKE_H
#define MESHD_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct meshd_ctx;
struct pol_entry;
struct ike;

/* Send one IKE datagram from (from, sport) to (to, dport). p is borrowed for the call.
 * On port 4500 the hook adds the 4-byte non-ESP marker itself (RFC 3948 §2.2): p is always
 * the bare IKE message, except for a NAT-keepalive (the single byte 0xff, RFC 3948 §2.3),
 * which goes out as it is. Returns 0 or -errno (a failed send is retransmitted like a lost
 * datagram). */
typedef int (*ike_send_fn)(void *arg, const uint8_t *p, size_t n, const struct addr *from,
			   uint16_t sport, const struct addr *to, uint16_t dport);

/* The engine for ctx; it sends through ike_sock_send() until ike_set_send() replaces the
 * hook. NULL on allocation or NSS failure (logged). */
struct ike *ike_new(struct meshd_ctx *ctx);
/* Remove every Child SA's kernel state (SAs, policies), free every SA. Sends nothing.
 * Accepts NULL. */
void ike_free(struct ike *ike);
/* Tests (in-memory packets) and the daemon's sockets. arg is borrowed. */
void ike_set_send(struct ike *ike, ike_send_fn fn, void *arg);

/* Start an OE attempt local -> peer for the group entry e (borrowed for the call) that
 * caught the packet; the negotiation shunt is already in place. Returns 0 when the
 * IKE_SA_INIT request went out, -EALREADY when an IKE SA for this pair already exists or
 * is being negotiated (nothing to do), or -errno with *why set (static text) when nothing
 * could start; the caller then installs the failure shunt. acq_seq: the kernel ACQUIRE's
 * seq (0 = none), handed to the outbound SA so the kernel drops its larval state. */
int ike_initiate(struct ike *ike, const struct addr *local, const struct addr *peer,
		 const struct pol_entry *e, uint32_t acq_seq, const char **why);

/* Is an IKE SA between local and peer established or being negotiated? (oe_acquire: a
 * further ACQUIRE for such a pair must not put a shunt over its policies.) */
bool ike_pair_active(const struct ike *ike, const struct addr *local, const struct addr *peer);

/* A datagram received on one of the IKE sockets (sock = index into ctx->ike_fd, or -1 in
 * tests). p: the IKE message without the non-ESP marker (borrowed for the call). Anything
 * malformed, unexpected, replayed or failing its integrity check is dropped and counted;
 * it never changes an SA's state. */
void ike_input(struct ike *ike, const uint8_t *p, size_t n, const struct addr *from,
	       uint16_t sport, const struct addr *to, uint16_t dport, int sock);

/* A kernel EXPIRE (struct kexpire, kernel.h) for one of our ESP SAs: soft starts the
 * Child SA's rekey (unless it is under way), hard expires it (ike_rekey.c). Others are
 * ignored. */
struct kexpire;
void ike_expire(struct ike *ike, const struct kexpire *exp);

/* `meshctl down PEER`: delete every IKE SA with peer (INFORMATIONAL Delete), removing the
 * Child SAs' kernel state at once. Returns how many IKE SAs were deleted. */
size_t ike_down(struct ike *ike, const struct addr *peer);

/* ---- status (control.c formats it) ---- */

#define IKE_PEER_ID_MAX 256
#define IKE_ALGS_MAX 96
#define IKE_GROUP_MAX 64

/* One established Child SA (borrowed view, valid during the callback only). */
struct ike_child_info {
	uint32_t serial;              /* Child SA #N */
	uint32_t ike_serial;          /* its IKE SA #N */
	const char *group;            /* group conn name */
	struct prefix entry;          /* the group entry's prefix ("private#10.0.0.0/16") */
	uint8_t proto;                /* entry / negotiated selector: protocol, ports */
	uint16_t lport, rport;
	unsigned instance;            /* [N]: instance number within the group */
	struct addr local, peer;
	bool tunnel;                  /* mode */
	time_t add_time;              /* wall clock, when the kernel SAs were added */
	uint32_t spi_in, spi_out;     /* host order */
	uint32_t reqid;
	const char *peer_id;          /* "ID_NULL", a DN "C=US, O=..., CN=...", an IP */
	const char *algs;             /* "ESP AES_GCM_16_256" / "ESP AES_CBC_256-HMAC_SHA2_256_128" */
	const char *ike_algs;         /* "AES_GCM_16_256-HMAC_SHA2_512-X25519" */
	const char *auth;             /* "NULL", "RSA", "ECDSA" */
	const char *key_source;       /* where the peer's key came from: "NULL",
	                               * "certificate", "DNSSEC secure, TTL 250 s left" */
};

/* Call fn for every established Child SA, in serial order. Returns how many. */
size_t ike_child_foreach(const struct ike *ike,
			 void (*fn)(const struct ike_child_info *c, void *arg), void *arg);

struct ike_counts {
	size_t ike_total, ike_half_open, ike_established, ike_anonymous;
	size_t child_total;
	/* datagrams */
	uint64_t rx, tx, rx_dropped_malformed, rx_dropped_no_sa, rx_dropped_msgid,
		 rx_dropped_integrity, rx_dropped_unexpected, rx_duplicates, retransmits,
		 rx_ignored_policy;
	/* COOKIE (RFC 7296 §2.6), fragments (RFC 7383), NAT-T (RFC 3948) */
	uint64_t cookies_sent, rx_cookie_bad, frags_tx, frags_rx, frag_reassembled,
		 rx_frag_dropped, nat_keepalives;
};
void ike_counts(const struct ike *ike, struct ike_counts *out);

#endif
