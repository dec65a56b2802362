/* lpm.h — longest-prefix-match binary trie, one per address family.
 *
 * Path-compressed binary trie (WireGuard allowedips layout). Each node that carries a
 * prefix holds an opaque value (the policy module stores the first pol_entry of that
 * prefix). Tested differentially against a naive list (tests/unit/test_lpm.c). */
#ifndef MESHD_LPM_H
#define MESHD_LPM_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct lpm;

struct lpm *lpm_new(int family);
void lpm_free(struct lpm *t);                 /* accepts NULL; values are not freed */
/* Insert or replace the value at exactly p. Returns 0 or -ENOMEM / -EINVAL. */
int lpm_insert(struct lpm *t, const struct prefix *p, void *value)
	__attribute__((warn_unused_result));
/* Value at exactly p, or NULL. */
void *lpm_exact(const struct lpm *t, const struct prefix *p);
/* Value of the longest prefix containing a, or NULL; *len_out gets its length. */
void *lpm_lookup(const struct lpm *t, const struct addr *a, unsigned *len_out);
/* Walk every prefix containing a, longest first; stop when fn returns true.
 * Returns the value fn stopped at, or NULL. */
void *lpm_walk_up(const struct lpm *t, const struct addr *a,
		  bool (*fn)(void *value, unsigned len, void *arg), void *arg);
size_t lpm_count(const struct lpm *t);

#endif
