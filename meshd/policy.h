/* policy.h — opportunistic groups: group files, classification, reqids, reload diff.
 *
 * A group is a conn with right=%group or right=%opportunisticgroup; its entries come from
 * <policies-dir>/<conn name>, one "CIDR [proto lport rport]" per line (meshd-policies(5)).
 * Every entry of every group goes into one LPM trie per family. The most specific entry
 * wins across all groups: the longest prefix, then an entry with protocol/ports that
 * match beats one without. An exact duplicate in two groups resolves to the more
 * restrictive group (enum group_class order) with a warning naming both places.
 *
 * The host's own addresses, loopback and link-local are always clear: policy_load adds
 * them as entries of the built-in group "(host)" that win over everything. */
#ifndef MESHD_POLICY_H
#define MESHD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "log.h"

/* Kernel priority band meshd owns: every XFRM policy meshd installs has a priority in
 * [POLICY_PRIO_BASE, POLICY_PRIO_END). Lower value wins in the kernel. */
#define POLICY_PRIO_BASE 0x60000000u
#define POLICY_PRIO_END  0x61000000u

struct pol_entry {
	struct prefix pfx;            /* remote CIDR, host bits zero */
	uint8_t proto;                /* 0 = any */
	uint16_t lport, rport;        /* our port, peer's port; 0 = any */
	unsigned group;               /* index into policy_set.groups */
	const char *file;             /* borrowed from the group (its file path) */
	unsigned line;                /* 0 for automatic entries */
	uint32_t reqid;               /* planted in the trap template; stable across reloads */
	struct pol_entry *next_same;  /* other entries with the same prefix (proto/ports) */
};

struct pol_group {
	char *name;                   /* conn name, "(host)" for the automatic group */
	char *file;                   /* group file path (owned) */
	enum group_class cls;
	int conn;                     /* index into conf->conns, -1 for "(host)" */
	size_t n_entries;             /* entries of this group after duplicates */
	bool file_missing;            /* a missing file is an empty group */
};

struct policy_set {
	struct pol_group *groups;
	size_t n_groups;
	struct pol_entry *entries;    /* sorted by key (pfx, proto, lport, rport) */
	size_t n_entries;
	struct lpm *lpm4, *lpm6;      /* prefix -> first pol_entry with that prefix */
	/* reqid -> entry lookup (open addressing), filled by policy_assign_reqids */
	struct pol_entry **by_reqid;
	size_t by_reqid_cap;
	/* added: */
	size_t entries_cap;           /* allocated entries while parsing */
	struct lpm *host4, *host6;    /* the "(host)" entries alone, checked first */
	bool finished;                /* policy_finish ran: sorted, deduplicated, tries built */
};

/* Host addresses that are always clear, besides loopback and link-local. */
struct host_addrs {
	struct addr *a;
	size_t n;
};

/* Read every group file named by c's group conns from dir (NULL: c->setup.policies_dir).
 * Bad lines are reported with file:line and skipped; a missing file is an empty group.
 * strict=true makes an exact duplicate across groups an error (meshctl check), otherwise a
 * warning. Never returns NULL except on allocation failure. */
struct policy_set *policy_load(const struct conf *c, const char *dir,
			       const struct host_addrs *host, bool strict, struct diag *d);
void policy_free(struct policy_set *s);        /* accepts NULL */

/* Parse one group file held in memory into s as entries of group g (fuzz target entry).
 * file is used for messages. Returns the number of entries added. */
size_t policy_parse_buf(struct policy_set *s, unsigned g, const char *file,
			const char *text, size_t len, struct diag *d);

/* The entry that governs traffic to peer with this protocol and ports, or NULL when no
 * group covers it. The "(host)" entries are checked first and always win. Otherwise the
 * longest prefix with a matching entry wins; at that prefix the most specific match
 * (proto + both ports > proto + lport > proto + rport > proto > none). An entry with a
 * protocol/port matches only a query with that protocol/port: 0 in the query means
 * "unknown" and matches only entries that have 0 (any) there. */
const struct pol_entry *policy_classify(const struct policy_set *s, const struct addr *peer,
					uint8_t proto, uint16_t lport, uint16_t rport);
/* The narrowest entry of a negotiating group (OE_RESPOND, OE_PASS, OE_DROP) that
 * contains peer, ignoring clear/block entries (responder choice); NULL if none. At that
 * prefix the entry without protocol is preferred, else the first in key order. */
const struct pol_entry *policy_classify_oe(const struct policy_set *s, const struct addr *peer);

/* Give every entry a reqid: an entry of new whose key and group match an entry of old
 * keeps its reqid; others get fresh ones from *next (which advances; 0 is never used).
 * Builds new's reqid index. old may be NULL. "Group matches" means the same group name
 * and class. A fresh reqid never repeats one kept in the same set, even after *next
 * wraps. O(n) after the sort done by policy_finish. */
void policy_assign_reqids(struct policy_set *new_set, const struct policy_set *old,
			  uint32_t *next);
const struct pol_entry *policy_by_reqid(const struct policy_set *s, uint32_t reqid);

/* Keyed diff of two sets, in key order. fn gets (old, NULL) for a removed entry,
 * (NULL, new) for an added one, (old, new) when the key stayed but the group (class or
 * name) changed. Unchanged entries are not reported. */
void policy_diff(const struct policy_set *old, const struct policy_set *new_set,
		 void (*fn)(const struct pol_entry *o, const struct pol_entry *n, void *arg),
		 void *arg);

/* Kernel priority of a selector (lower wins), inside the owned band: the longer the peer
 * prefix the lower; at equal prefix, a protocol beats none and each port beats none;
 * at equal remote side, a /32 (/128) local side beats a wildcard one. host_group gets the
 * lowest values of all. */
uint32_t policy_priority(unsigned family, unsigned peer_len, uint8_t proto, uint16_t lport,
			 uint16_t rport, unsigned local_len, bool host_group);
/* Priority of an entry's own kernel policies (local side wildcard). */
uint32_t policy_entry_priority(const struct policy_set *s, const struct pol_entry *e);

/* Building a set by hand (policy_load does these steps; tests and the fuzz target use
 * them directly). policy_new: an empty set. policy_add_group: append a group (name and
 * file are copied); returns its index or -ENOMEM. Groups are kept in the order added,
 * which is config order and breaks ties between groups of the same class.
 * policy_finish: add the automatic "(host)" group (last index), sort, resolve duplicates
 * (reported to d), chain next_same and build the tries; returns 0 or -ENOMEM. No entry
 * may be added after it. */
struct policy_set *policy_new(void);
int policy_add_group(struct policy_set *s, const char *name, const char *file,
		     enum group_class cls, int conn) __attribute__((warn_unused_result));
int policy_finish(struct policy_set *s, const struct host_addrs *host, bool strict,
		  struct diag *d) __attribute__((warn_unused_result));

/* Append a zeroed entry while parsing (NULL on ENOMEM or after policy_finish); the
 * pointer is valid until the next append. */
struct pol_entry *policy_entry_append(struct policy_set *s);
/* Read s->groups[g].file into group g: a missing file sets file_missing and is no error;
 * other failures are reported to d and leave the group empty. Returns 0 or -errno. */
int policy_read_file(struct policy_set *s, unsigned g, struct diag *d);

/* "10.0.1.0/24" or "10.0.1.0/24 tcp 0 25" into buf (POL_ENTRY_STRLEN bytes). */
#define POL_ENTRY_STRLEN 80
const char *policy_entry_str(const struct pol_entry *e, char *buf);
/* Protocol name ("tcp", "ipv6-icmp") or its number in buf (4 bytes); proto 0 -> "any". */
const char *policy_proto_name(uint8_t proto, char *buf);

static inline bool policy_is_host(const struct policy_set *s, const struct pol_entry *e)
{
	return s->groups[e->group].conn < 0;
}

static inline const struct pol_group *policy_group(const struct policy_set *s,
						   const struct pol_entry *e)
{
	return &s->groups[e->group];
}

#endif
