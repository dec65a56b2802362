/* kernel_apply.h — group entries as kernel policies; whole-set install/remove and the
 * reload diff (kernel.c). */
#ifndef MESHD_KERNEL_APPLY_H
#define MESHD_KERNEL_APPLY_H

#include "kernel.h"
#include "log.h"
#include "policy.h"

struct kernel_apply_result {
	size_t added, removed, changed;   /* entries (for install_set: policies added); for
	                                   * apply_diff group-file entries only */
	size_t automatic;                 /* apply_diff: automatic (host) entries changed */
	size_t failed;                    /* kernel policies refused (each logged) */
	size_t policies_put, policies_del;   /* apply_diff: kernel policies sent each way */
};

/* The kernel policies of one entry (0..3); see kernel.c for the table. */
size_t kernel_entry_policies(const struct policy_set *s, const struct pol_entry *e,
			     struct kpolicy out[3]);
/* Policies meshd installs for the whole set rather than one entry: IPv6 neighbour
 * discovery bypass (when the set has IPv6 entries). */
#define KERNEL_FIXED_MAX 6
size_t kernel_fixed_policies(const struct policy_set *s, struct kpolicy out[KERNEL_FIXED_MAX]);
/* Install every entry's policies, batched; then tune the kernel's hashing. Returns 0,
 * -EIO if some policies were refused (each logged with its file:line), or -ENOMEM. */
int kernel_install_set(struct kernel *k, const struct policy_set *s, struct log *log,
		       struct kernel_apply_result *res);
/* Delete policies in meshd's priority band that s does not produce: what a crashed
 * predecessor left (its shunts and entries since removed). Policies of other software
 * are never touched. *n_removed gets the count. */
int kernel_remove_stale(struct kernel *k, const struct policy_set *s, struct log *log,
			size_t *n_removed);
int kernel_remove_set(struct kernel *k, const struct policy_set *s, struct log *log);
/* What stays in the kernel while no meshd runs (a stop that is not a flush): every trap
 * becomes what a failed negotiation would leave, in place (same selector and priority):
 * `private` traps become block, `private-or-clear` traps pass; block and clear entries
 * stay as they are. A trap with nobody to answer its ACQUIRE also drops, but the kernel
 * would keep a larval state per flow for 30 s after an ACQUIRE that the stopping daemon
 * still received, delaying the next daemon's first negotiation; a block is explicit.
 * The next start's kernel_install_set replaces them in place (make-before-break).
 * *n_kept gets the number of policies left. 0 or -errno. */
int kernel_stop_set(struct kernel *k, const struct policy_set *s, struct log *log,
		    size_t *n_kept);
/* Delete every policy in meshd's priority band (meshd --flush, meshctl shutdown --flush):
 * group entries, shunts and SA policies of this or an earlier meshd. */
int kernel_flush_band(struct kernel *k, struct log *log, size_t *n_removed);
/* Apply only the difference old -> new: unchanged entries are not touched. */
int kernel_apply_diff(struct kernel *k, const struct policy_set *old,
		      const struct policy_set *new_set, struct log *log,
		      struct kernel_apply_result *res);

#endif
