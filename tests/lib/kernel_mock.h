/* kernel_mock.h — in-memory struct kernel_ops for tests: records policies, lets a test
 * queue ACQUIREs, and can be told to fail chosen operations. */
#ifndef MESHD_KERNEL_MOCK_H
#define MESHD_KERNEL_MOCK_H

#include "kernel.h"

int kmock_open(struct kernel *k);
size_t kmock_count(const struct kernel *k);
/* The policy with this selector and direction, or NULL. */
const struct kpolicy *kmock_find(const struct kernel *k, const struct ksel *sel, enum kdir dir);
const struct kpolicy *kmock_at(const struct kernel *k, size_t i);
/* Queue an ACQUIRE for the next event_read. */
int kmock_queue_acquire(struct kernel *k, const struct kacquire *acq);
/* Make every put of a policy whose dst prefix equals dst fail with err (0 = stop). */
void kmock_fail_dst(struct kernel *k, const struct prefix *dst, int err);
/* Counters of calls made (batches) and items. */
struct kmock_stats { size_t put_calls, put_items, del_calls, del_items; };
const struct kmock_stats *kmock_stats(const struct kernel *k);

#endif
