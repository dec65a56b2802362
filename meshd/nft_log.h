/* nft_log.h — the NFLOG listener behind table inet meshd's trigger rules (nft.h).
 *
 * When the table drops cleartext from a `private` peer, its trigger rule first sends the
 * packet's first NFT_LOG_SNAPLEN bytes (the IP header and the ports) to an NFLOG group,
 * rate-limited in the kernel. meshd binds that group (nfnetlink_log, NFULNL_CFG_CMD_BIND,
 * copy mode packet) and hands each packet to oe_inbound, which starts the negotiation to
 * the source as an ACQUIRE for it would: Libreswan, which does not drop the packet, gets
 * the same from the trap its reply hits (libreswan-oe.md 7.2). Part of the nft module
 * (libmnl, DESIGN.md 3.2); the parser takes kernel bytes, so it goes through libmnl's
 * attribute checks and `rd`, and has a fuzz target (tests/fuzz/fuzz_nflog.c).
 *
 * An NFLOG group has one listener per network namespace: a second bind fails with EBUSY
 * (another meshd, or ulogd on the same group). The caller then carries on without the
 * trigger; the drop does not depend on it. */
#ifndef MESHD_NFT_LOG_H
#define MESHD_NFT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"

/* One dropped packet, as far as its copied bytes tell. */
struct nft_log_pkt {
	struct addr src, dst;     /* same family */
	uint8_t proto;            /* IPv4 protocol / IPv6 first next header */
	uint16_t sport, dport;    /* TCP, UDP, UDP-Lite, SCTP (host order); else 0 */
	bool ports;               /* the ports were in the copied bytes (not a fragment) */
};

typedef void nft_log_fn(const struct nft_log_pkt *p, void *arg);

struct nft_log_stats {
	uint64_t packets;         /* parsed and handed on */
	uint64_t malformed;       /* messages or payloads that did not parse */
	uint64_t overruns;        /* ENOBUFS: the socket overflowed, packets lost */
};

struct nft_log;

/* Open a netfilter socket and bind NFLOG group (1..65535) with copy mode packet and
 * NFT_LOG_SNAPLEN bytes. log is borrowed. Returns 0 or -errno (EBUSY: the group has a
 * listener already; EPERM; EOPNOTSUPP/ENOENT: no nfnetlink_log in this kernel). */
int nft_log_open(struct nft_log **out, struct log *log, uint16_t group)
	__attribute__((warn_unused_result));
int nft_log_fd(const struct nft_log *l);         /* non-blocking, for the event loop */
uint16_t nft_log_group_of(const struct nft_log *l);
const struct nft_log_stats *nft_log_stats(const struct nft_log *l);
/* Read every datagram waiting on the socket; fn(packet, arg) for each packet. Returns 0
 * (nothing more to read) or -errno. */
int nft_log_read(struct nft_log *l, nft_log_fn *fn, void *arg);
/* Unbind and close; accepts NULL. */
void nft_log_close(struct nft_log *l);

/* The parser: one datagram from the socket (one or more netlink messages, any bytes).
 * fn is called for each NFULNL_MSG_PACKET whose payload is an IPv4 or IPv6 header that
 * agrees with the message's family; other netlink messages (DONE, errors) are skipped.
 * Returns the number of packets handed on; *malformed (may be NULL) gets the number of
 * messages or payloads refused. */
size_t nft_log_parse(const void *buf, size_t len, nft_log_fn *fn, void *arg,
		     size_t *malformed);

#endif
