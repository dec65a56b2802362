/* kernel_mock.h — in-memory struct kernel_ops for tests: records policies and ESP SAs,
 * hands out SPIs, lets a test queue ACQUIREs and EXPIREs and set SA counters, and can be
 * told to fail chosen operations. */
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
/* ---- ESP SAs ----
 * sa_get_spi hands out unique nonzero SPIs (>= 0x100) and reserves them (larval, like the
 * kernel); sa_add installs (an SPI already installed: -EEXIST, a reserved one: replaced);
 * sa_del removes either kind (unknown: 0); sa_stats returns what kmock_sa_set_stats set
 * (zeros at first; unknown: -ENOENT). */
/* Installed SAs (reserved SPIs not counted). */
size_t kmock_sa_count(const struct kernel *k);
/* The installed SA (dst, spi), or NULL. */
const struct ksa *kmock_sa_find(const struct kernel *k, const struct addr *dst, uint32_t spi);
/* Whether (dst, spi) is reserved by sa_get_spi and not yet installed. */
bool kmock_spi_reserved(const struct kernel *k, const struct addr *dst, uint32_t spi);
/* Set the counters sa_stats reports for an installed SA: 0 or -ENOENT. */
int kmock_sa_set_stats(struct kernel *k, const struct addr *dst, uint32_t spi,
		       const struct ksa_stats *st);
/* Make every sa_add fail with -err (0 = stop); e.g. EPROTONOSUPPORT is what a kernel
 * without ESP answers. */
void kmock_sa_fail_add(struct kernel *k, int err);
/* Queue an EXPIRE for the next event_read (delivered after the queued ACQUIREs). A hard
 * one removes the SA when it is delivered, as the kernel deletes it before telling. */
int kmock_queue_expire(struct kernel *k, const struct kexpire *exp);

/* Counters of calls made (batches) and items. */
struct kmock_stats {
	size_t put_calls, put_items, del_calls, del_items;
	size_t spi_calls, sa_add_calls, sa_del_calls;
};
const struct kmock_stats *kmock_stats(const struct kernel *k);

#endif
