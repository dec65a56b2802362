/* ts.h — traffic selectors for OE host-to-host Child SAs (RFC 7296 §2.9, §3.13;
 * libreswan-oe.md §5.5).
 *
 * The initiator sends TSi = its own address, TSr = the peer's address, each a single
 * host range with the group entry's protocol (0 = any) and ports (0 = 0..65535). The
 * responder narrows what it receives to the host pair and the protocol/ports allowed by
 * its chosen group entry, or refuses (TS_UNACCEPTABLE). The initiator checks that the
 * answer lies within what it sent and still covers the host pair.
 *
 * A received list may start with the "packet" selector (RFC 7296 §2.9: the first TS of
 * each list describes the triggering packet); Libreswan's OE does not send one. Both are
 * accepted: every selector of a list is tried, the packet one included.
 *
 * Ports: sport..eport, host order. OPAQUE (sport 65535, eport 0, RFC 7296 §3.13.1)
 * matches only "any port"; for ICMP/ICMPv6 the 16-bit port holds type << 8 | code and is
 * treated like a port. Everything returns 0 or -errno; nothing allocates. */
#ifndef MESHD_TS_H
#define MESHD_TS_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ike_pld.h"
#include "kernel.h"

/* What one side may carry: a host, an IP protocol (0 = any) and a port (0 = any port,
 * else exactly that port). */
struct ts_end {
	struct addr addr;
	uint8_t proto;
	uint16_t port;
};

/* Narrowed result: one selector per side. */
struct ts_pair {
	struct ike_ts i, r;       /* TSi (initiator side), TSr (responder side) */
};

/* Initiator: TSi = {local}, TSr = {peer}, each one selector (proto from local, which
 * must equal peer's; ports as given). -EINVAL for mixed families or protocols. */
int ts_build(const struct ts_end *local, const struct ts_end *peer,
	     struct ike_ts_list *tsi, struct ike_ts_list *tsr) __attribute__((warn_unused_result));

/* Responder: the initiator's TSi/TSr lists against our allowed pair (peer = the
 * initiator's side, local = ours; proto and ports from the chosen group entry). Picks
 * the first (TSi, TSr) pair of selectors that contains both hosts and intersects the
 * allowed protocol/ports, and narrows it to the host pair and that intersection.
 * -ENOENT: nothing acceptable (answer TS_UNACCEPTABLE); -EINVAL: bad arguments. */
int ts_narrow(const struct ike_ts_list *tsi, const struct ike_ts_list *tsr,
	      const struct ts_end *peer, const struct ts_end *local,
	      struct ts_pair *out) __attribute__((warn_unused_result));

/* Responder: the answer lists (one selector each) for a narrowed pair. */
void ts_answer(const struct ts_pair *p, struct ike_ts_list *tsi, struct ike_ts_list *tsr);

/* Initiator: the responder's TSi/TSr (exactly one selector each) must lie within what we
 * sent (sent_i/sent_r) and still contain our host pair (local, peer addresses).
 * 0 with *out, or -EINVAL. */
int ts_check_answer(const struct ike_ts_list *sent_i, const struct ike_ts_list *sent_r,
		    const struct ike_ts_list *ans_i, const struct ike_ts_list *ans_r,
		    const struct addr *local, const struct addr *peer,
		    struct ts_pair *out) __attribute__((warn_unused_result));

/* The kernel selector of a narrowed pair, seen from our side: we_initiated selects
 * src = TSi, dst = TSr (else src = TSr, dst = TSi). Addresses must be single hosts;
 * ports a single port or the full range (any); OPAQUE becomes "any"; the ports of
 * ICMP become sport = type, dport = code as XFRM expects. -EINVAL when the selector cannot
 * be expressed as one struct ksel (a range that is neither one host nor a prefix...). */
int ts_to_ksel(const struct ts_pair *p, bool we_initiated,
	       struct ksel *out) __attribute__((warn_unused_result));

/* Does selector a contain selector b (family, addresses, protocol, ports)? */
bool ts_contains(const struct ike_ts *a, const struct ike_ts *b);

/* "10.0.0.1-10.0.0.1:6/0-65535" style text for logs. buf: TS_STRLEN bytes. */
#define TS_STRLEN 128
const char *ts_str(const struct ike_ts *t, char *buf);

#endif
