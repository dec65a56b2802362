/* nft_check.h — would the host's own firewall drop IKE or ESP? (meshctl check)
 *
 * nft_check_firewall lists the nftables ruleset over netlink (tables, chains, rules, sets
 * and their elements; read-only, nothing is ever changed) and runs a few probe packets
 * through every base chain of type filter on the input hook of the inet, ip and ip6
 * families (except table inet meshd, which is ours):
 *
 *   IKE       UDP to the IKE port (500) and the NAT-T port (4500)
 *   ESP       IP protocol 50
 *
 * once per address family the chain sees, each as a NEW connection (a peer starting a
 * negotiation or sending the first ESP packet) and as an ESTABLISHED one (replies to what
 * this host started). The probes are evaluated abstractly: what a probe is known to carry
 * is its family (meta nfproto/protocol, ip version), its layer 4 protocol (meta l4proto,
 * ip protocol, ip6 nexthdr without extension headers), the UDP destination port, ct
 * state (new or established), ct status 0 for a new connection (not DNATed), meta pkttype
 * host, no secpath (meta ipsec / ipsec expressions do not match), and an input interface
 * that is not lo. Everything else (addresses, source ports, interfaces other than the
 * lo test, marks, limits, quotas, fib, socket, xt matches...) is unknown: a rule that
 * depends on it "may" match, and both ways are followed. Jumps, gotos and returns are
 * followed (16 levels as in the kernel); set and verdict-map lookups use the sets'
 * elements (exact, intervals, ranges). The probe is "dropped" only when EVERY way through
 * the chain ends in a drop (the policy or a drop/reject rule); an accept, a queue or an
 * expression we cannot interpret on any way means "cannot tell", and nothing is said.
 *
 * So the check warns only when it can tell; it misses (says nothing about): drops in
 * other hooks (prerouting, the netdev/bridge families, raw/mangle), rules that drop by
 * source address or interface (unknown here), rate limits, legacy iptables rules (it
 * only notes that legacy tables are loaded), iptables-nft rules using xt matches, and
 * packets DNATed before input. A warning may be wrong when a NEW IKE packet reaches the
 * host through DNAT or with ct state untracked (notrack). */
#ifndef MESHD_NFT_CHECK_H
#define MESHD_NFT_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct nft_check_opts {
	uint16_t ike_port;        /* 0: 500 */
	uint16_t nat_ike_port;    /* 0: 4500 */
	const char *skip_table;   /* table inet NAME to ignore; NULL: "meshd" */
};

/* Read the ruleset of this network namespace and report, through d (DIAG_WARN, no file),
 * each base input chain that would drop IKE or ESP (see above), and legacy iptables
 * filter tables if loaded. Returns the number of warnings, or -errno when the ruleset
 * cannot be read (no netlink, no CAP_NET_ADMIN, no nf_tables): then nothing was said. */
int nft_check_firewall(struct diag *d, const struct nft_check_opts *o);

/* ---- the model, for tests: a ruleset built in memory ------------------------------- */

struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;
struct nftc_ruleset;

struct nftc_ruleset *nftc_new(void);
void nftc_free(struct nftc_ruleset *rs);                 /* accepts NULL */
/* Add objects as a dump would give them (rules in chain order; sets with their
 * elements). The object is adopted (freed by nftc_free, or at once on error). A table
 * need not be added (then it is active). Returns 0 or -ENOMEM/-EINVAL. */
int nftc_add_table(struct nftc_ruleset *rs, struct nftnl_table *t);
int nftc_add_chain(struct nftc_ruleset *rs, struct nftnl_chain *c);
int nftc_add_rule(struct nftc_ruleset *rs, struct nftnl_rule *r);
int nftc_add_set(struct nftc_ruleset *rs, struct nftnl_set *s);

/* One probe through one base chain: a bit mask of the ways it can end. */
enum {
	NFTC_ACCEPT = 1,          /* accepted by this chain */
	NFTC_DROP_RULE = 2,       /* a drop or reject rule */
	NFTC_DROP_POLICY = 4,     /* the chain's policy drop */
	NFTC_UNKNOWN = 8,         /* queue, an expression we cannot follow, too deep/long */
};
enum nftc_what { NFTC_IKE, NFTC_NATT, NFTC_ESP };
struct nftc_probe {
	unsigned family;          /* AF_INET or AF_INET6 */
	enum nftc_what what;
	bool established;         /* ct state established (else new) */
};
/* Run a probe through base chain FAMILY TABLE CHAIN (family: NFPROTO_*). Returns the
 * mask, 0 when there is no such base chain. */
unsigned nftc_eval(const struct nftc_ruleset *rs, unsigned nfproto, const char *table,
		   const char *chain, const struct nftc_probe *p, const struct nft_check_opts *o);
/* Report on every base input chain of rs (the decision nft_check_firewall makes after
 * reading the ruleset). Returns the number of warnings. */
int nftc_report(const struct nftc_ruleset *rs, const struct nft_check_opts *o, struct diag *d);

#endif
