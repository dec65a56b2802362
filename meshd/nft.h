/* nft.h — inbound enforcement for `private` groups and accounting, with nftables.
 *
 * XFRM trap policies only guard what leaves the host. meshd closes the inbound side with
 * its own table (DESIGN.md 2.1, 2.2 "Inbound", 3.4), programmed through libnftnl (nft.c
 * is the only user of libnftnl; the interval arithmetic lives in nft_sets.c):
 *
 *   table inet meshd {
 *     counter ipsec_accepted / esp_accepted / ike_accepted / private_dropped /
 *             private_or_clear_accepted
 *     set private4, private6, private_or_clear4, private_or_clear6  (flags interval)
 *     chain input { type filter hook input priority filter - 10; policy accept;
 *       meta ipsec exists counter name "ipsec_accepted" accept      came through IPsec
 *       meta l4proto esp counter name "esp_accepted" accept          ESP itself
 *       udp dport 500 / 4500 counter name "ike_accepted" accept      IKE (our IKE ports)
 *       icmp type destination-unreachable accept                    IKE failure detection
 *       icmpv6 type 1-4 accept; icmpv6 type 133-137 accept           errors, PMTU, ND
 *       ip saddr @private4 / ip6 saddr @private6 limit rate 20/second burst 40 packets
 *           log group G snaplen 64 queue-threshold 1                 (with a log group)
 *       ip saddr @private4 / ip6 saddr @private6 counter name "private_dropped" drop
 *       ip saddr @private_or_clear4 / ip6 ... counter name "private_or_clear_accepted" accept
 *   } }
 *
 * Priority filter - 10: after conntrack/defrag (-200) so fragments arrive reassembled,
 * before the usual filter chains (firewalld, the operator's own at 0 and above), so
 * cleartext from private peers is dropped and counted whatever they say. Our accepts only
 * end our own chain: other tables still see (and may drop) every packet we let through.
 *
 * Which sources go into the sets ("most specific wins", as for outbound): an address is
 * in private{4,6} when the host group does not cover it and the longest protocol-agnostic
 * entry containing it belongs to a `private` group; the same for `private-or-clear`. So a
 * clear /32 inside a private /16 is a hole in the set, and a private /32 inside a clear
 * /24 is in it. Entries with a protocol or ports are ignored for the inbound sets (they do
 * not open or close anything inbound: the sets are per source address only); nft_sync
 * logs how many there were.
 *
 * The log rules (nft_opts.log_group, `nflog-group=` in meshd.conf) hand the headers of
 * dropped cleartext to meshd (nft_log.h), which initiates to the peer as an ACQUIRE would
 * (oe_inbound): what Libreswan gets from the trap its reply would hit (libreswan-oe.md
 * 7.2, east private / road clear-or-private). They never change what is dropped.
 *
 * Coexistence: only table inet meshd is ever touched; the ruleset is never flushed. The
 * first nft_sync replaces a table left by a crashed meshd atomically (add table, delete
 * table, add table and its contents in one batch), so there is no moment without it.
 * Later nft_sync calls send only the changed intervals (delete removed ones, then add new
 * ones), one batch per call, NLM_F_ACK on every message; a failure names the element. */
#ifndef MESHD_NFT_H
#define MESHD_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"
#include "policy.h"

#define NFT_TABLE_DEFAULT "meshd"

/* The four interval sets (index into struct nft_plan.set). */
enum nft_set_id {
	NFT_SET_PRIVATE4,
	NFT_SET_PRIVATE6,
	NFT_SET_POC4,             /* private-or-clear */
	NFT_SET_POC6,
	NFT_SET_COUNT
};

/* An inclusive address range in network byte order; IPv4 uses the first 4 bytes. */
struct nft_range {
	uint8_t lo[16], hi[16];
};

/* A sorted list of disjoint, non-adjacent ranges of one family (owned array). */
struct nft_ranges {
	struct nft_range *v;
	size_t n, cap;
};

/* The contents of the four sets computed from a policy set (nft_sets.c, no kernel). */
struct nft_plan {
	struct nft_ranges set[NFT_SET_COUNT];
	size_t n_port_specific;   /* non-host entries with protocol/ports: ignored inbound */
};

/* Compute the plan of s (which must be finished). Returns 0 or -ENOMEM (out is then
 * empty). out must be zeroed or fini'd. */
int nft_plan_build(const struct policy_set *s, struct nft_plan *out)
	__attribute__((warn_unused_result));
void nft_plan_fini(struct nft_plan *p);
static inline unsigned nft_set_family(enum nft_set_id id)
{
	return (id == NFT_SET_PRIVATE6 || id == NFT_SET_POC6) ? AF_INET6 : AF_INET;
}
const char *nft_set_name(enum nft_set_id id);      /* "private4", ... */
/* Is a (of the set's family) inside one of the ranges? Binary search. */
bool nft_ranges_contains(const struct nft_ranges *r, const struct addr *a);
/* Append a range (must sort after the last one; adjacent/overlapping ones are merged). */
int nft_ranges_push(struct nft_ranges *r, const uint8_t lo[16], const uint8_t hi[16],
		    unsigned family) __attribute__((warn_unused_result));
/* "10.0.0.0/16" when the range is a CIDR, else "10.0.0.1-10.0.0.9" (NFT_RANGE_STRLEN). */
#define NFT_RANGE_STRLEN (2 * ADDR_STRLEN + 2)
const char *nft_range_str(const struct nft_range *r, unsigned family, char *buf);

/* ---- the kernel side (nft.c) ---------------------------------------------------- */

struct nft;            /* opaque: socket, sequence numbers, the intervals last installed */
struct nft_batch;      /* one built batch: its bytes and the plan it installs */

struct nft_opts {
	const char *table;        /* NULL: NFT_TABLE_DEFAULT */
	uint16_t ike_port;        /* 0: 500 */
	uint16_t nat_ike_port;    /* 0: 4500 */
	uint16_t log_group;       /* NFLOG group for the trigger rules; 0: no such rules */
};

/* The trigger rules' kernel-side budget (all private peers together) and how much of
 * each packet they copy: the IP header with options and the ports. */
#define NFT_LOG_RATE     20
#define NFT_LOG_BURST    40
#define NFT_LOG_SNAPLEN  64

/* Open a netfilter netlink socket (needs CAP_NET_ADMIN). Nothing is sent until
 * nft_sync. log is borrowed; opts may be NULL. Returns 0 or -errno. */
int nft_open(struct nft **out, struct log *log, const struct nft_opts *opts)
	__attribute__((warn_unused_result));
/* The same without a socket: for building batches in tests (nft_sync then fails). */
int nft_new(struct nft **out, struct log *log, const struct nft_opts *opts)
	__attribute__((warn_unused_result));

/* Bring the table in line with s: the first call creates (or atomically replaces) the
 * whole table, later calls send only the intervals that changed; nothing is sent when
 * nothing changed. One batch per call. If the kernel's table was changed behind our back
 * (ENOENT/EEXIST on an element), the table is recreated in a second batch. On failure
 * the kernel is unchanged and the next call retries the same diff. Returns 0 or -errno. */
int nft_sync(struct nft *n, const struct policy_set *s) __attribute__((warn_unused_result));
/* The same from a computed plan (adopted: *plan is moved out and zeroed). */
int nft_sync_plan(struct nft *n, struct nft_plan *plan) __attribute__((warn_unused_result));

/* Change the trigger rules' NFLOG group (0: remove them); the next nft_sync then
 * replaces the whole table (atomically). After the kernel refused the log expression
 * once (no NFLOG support: nft_sync logs it and installs the table without the rules),
 * a non-zero group is ignored. nft_log_group: the group in use, 0 when none. */
void nft_set_log_group(struct nft *n, uint16_t group);
uint16_t nft_log_group(const struct nft *n);

struct nft_count {
	uint64_t packets, bytes;
};

struct nft_counters {
	struct nft_count private_dropped;   /* cleartext from private peers, dropped */
	struct nft_count poc_accepted;      /* cleartext from private-or-clear peers, passed */
	struct nft_count ike_accepted;      /* UDP to our IKE ports */
	struct nft_count esp_accepted;      /* ESP packets */
	struct nft_count ipsec_accepted;    /* packets that came through IPsec (secpath) */
};

/* Read the named counters of our table (one GETOBJ dump). -ENOENT when the table is not
 * there. Returns 0 or -errno. */
int nft_counters(struct nft *n, struct nft_counters *out) __attribute__((warn_unused_result));
/* Number of intervals installed in a set (what the last successful nft_sync sent). */
size_t nft_installed(const struct nft *n, enum nft_set_id id);

/* Close the socket and free n; with remove_table, delete our table first (a missing
 * table is no error). Returns the result of the delete (0 without remove_table). Accepts
 * NULL. */
int nft_close(struct nft *n, bool remove_table);

/* Lower level, for tests and tools/bench_nft: build the batch that would take the kernel
 * from what n installed to next (adopted), with full = true forcing a whole-table
 * (re)create. *out is NULL when there is nothing to send. nft_batch_send sends it and, on
 * success, makes its plan the installed one; nft_batch_adopt does the latter without a
 * kernel. Both consume b. */
int nft_batch_build(const struct nft *n, struct nft_plan *next, bool full,
		    struct nft_batch **out) __attribute__((warn_unused_result));
const void *nft_batch_data(const struct nft_batch *b, size_t *len);
size_t nft_batch_msgs(const struct nft_batch *b);   /* messages between BEGIN and END */
int nft_batch_send(struct nft *n, struct nft_batch *b) __attribute__((warn_unused_result));
void nft_batch_adopt(struct nft *n, struct nft_batch *b);
void nft_batch_free(struct nft_batch *b);            /* accepts NULL */

/* ---- the module's private part ----
 * nft.c and nft_check.c define MESHD_NFT_INTERNAL before including this header; they alone
 * see libmnl and libnftnl (DESIGN.md 3.2). */
#ifdef MESHD_NFT_INTERNAL
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#endif /* MESHD_NFT_INTERNAL */

#endif
