/* shunt.h — per-peer shunts: the negotiation shunt installed while an OE attempt runs and
 * the failure shunt left when it fails, each with the real reason and a lifetime.
 *
 * A shunt is one outbound kernel policy for the host pair (local /32 -> peer /32, with
 * the group entry's protocol and ports) at a priority above the entry's trap. Expired
 * failure shunts are deleted by shunts_sweep, so the trap shows through again and the
 * next packet retries (DESIGN.md 2.2). */
#ifndef MESHD_SHUNT_H
#define MESHD_SHUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "kernel.h"
#include "log.h"

enum shunt_kind { SHUNT_NEGOTIATING, SHUNT_FAILED };

#define SHUNT_REASON_MAX 160
#define SHUNT_GROUP_MAX 64

struct shunt {
	uint32_t serial;
	struct addr local, peer;
	uint8_t proto;
	uint16_t lport, rport;
	enum shunt_kind kind;
	enum shunt_action action;      /* SHUNT_PASS or SHUNT_DROP */
	char group[SHUNT_GROUP_MAX];   /* the group conn that decided it */
	char reason[SHUNT_REASON_MAX];
	uint64_t created_ms;           /* loop clock */
	uint64_t expires_ms;           /* 0 = no lifetime (negotiating) */
	time_t created_wall;
};

struct shunts;

struct shunts *shunts_new(struct kernel *k, struct log *log);
void shunts_free(struct shunts *s);             /* accepts NULL; kernel state untouched */

/* Install (or replace) the shunt for this host pair. action SHUNT_NONE removes it
 * instead. Returns the shunt (borrowed until the next call that changes the table) or
 * NULL with the kernel error logged. */
const struct shunt *shunt_set(struct shunts *s, const struct addr *local, const struct addr *peer,
			      uint8_t proto, uint16_t lport, uint16_t rport, enum shunt_kind kind,
			      enum shunt_action action, const char *group, const char *reason,
			      uint64_t now_ms, uint64_t lifetime_ms);
const struct shunt *shunt_find(const struct shunts *s, const struct addr *local,
			       const struct addr *peer);
/* Any shunt toward peer, from any local address. */
const struct shunt *shunt_find_peer(const struct shunts *s, const struct addr *peer);
/* Remove the shunt for the pair (kernel policy and record); 0 or -ENOENT. */
int shunt_del(struct shunts *s, const struct addr *local, const struct addr *peer);
/* Forget the shunt's record but leave its kernel policy: for a caller that has just
 * replaced that policy in place (same selector, UPDPOLICY), e.g. an established Child
 * SA's outbound policy. 0 or -ENOENT. */
int shunt_forget(struct shunts *s, const struct addr *local, const struct addr *peer);
/* Delete expired shunts; returns how many. */
size_t shunts_sweep(struct shunts *s, uint64_t now_ms);
/* Remove every shunt (kernel policies too). */
void shunts_clear(struct shunts *s);
size_t shunts_count(const struct shunts *s);
const struct shunt *shunts_at(const struct shunts *s, size_t i);
/* Remove shunts for which keep(shunt, arg) returns false (reload). Returns how many. */
size_t shunts_filter(struct shunts *s, bool (*keep)(const struct shunt *sh, void *arg), void *arg);

/* The kernel policy of a shunt (for tests and status). */
void shunt_kpolicy(const struct shunt *sh, struct kpolicy *out);

#endif
