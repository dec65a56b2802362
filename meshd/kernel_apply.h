/* kernel_apply.h — group entries as kernel policies; whole-set install/remove and the
 * reload diff (kernel.c). */
#ifndef MESHD_KERNEL_APPLY_H
#define MESHD_KERNEL_APPLY_H

#include "kernel.h"
#include "log.h"
#include "policy.h"

struct kernel_apply_result {
	size_t added, removed, changed;   /* entries (for install_set: policies added) */
	size_t failed;                    /* kernel policies refused (each logged) */
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
/* Apply only the difference old -> new: unchanged entries are not touched. */
int kernel_apply_diff(struct kernel *k, const struct policy_set *old,
		      const struct policy_set *new_set, struct log *log,
		      struct kernel_apply_result *res);

#endif
