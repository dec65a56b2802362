/* kernel_xfrm.h — XFRM specifics beyond struct kernel_ops: the message parsers (so they
 * can be fuzzed), counters, an event tap and the SPD hash thresholds. This header must
 * not pull in libmnl or <linux/xfrm.h>; only kernel_xfrm.c sees those. */
#ifndef MESHD_KERNEL_XFRM_H
#define MESHD_KERNEL_XFRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

/* Parse one netlink message (header included) of type XFRM_MSG_ACQUIRE. Returns 0,
 * -EBADMSG when it is truncated or inconsistent, -EPROTONOSUPPORT for an address family
 * other than IPv4/IPv6, -ENOMSG for another message type. Never reads past buf + len. */
int xfrm_parse_acquire(const void *buf, size_t len, struct kacquire *out);

/* Parse one netlink message (header included) of type XFRM_MSG_EXPIRE (struct
 * xfrm_user_expire: the SA's id, reqid and whether the hard limit was hit). Returns 0,
 * -EBADMSG when it is truncated or its attributes are malformed, -EPROTONOSUPPORT for an
 * address family other than IPv4/IPv6, -ENOMSG for another message type. Never reads past
 * buf + len. */
int xfrm_parse_expire(const void *buf, size_t len, struct kexpire *out);

/* Parse one XFRM_MSG_NEWPOLICY / UPDPOLICY message (a dump entry). Returns 0, -EBADMSG,
 * -ENOMSG (another type), or -EOPNOTSUPP for a policy struct kpolicy cannot describe
 * (socket policies, sub-policies, more than one template). */
int xfrm_parse_policy(const void *buf, size_t len, struct kpolicy *out);

/* Counters kept by event_read and the batch engine. */
struct xfrm_counters {
	uint64_t acquires;        /* ACQUIREs parsed and dispatched */
	uint64_t expires;         /* EXPIRE parsed and dispatched, POLEXPIRE seen */
	uint64_t malformed;       /* event messages dropped as unparseable */
	uint64_t ignored;         /* other event types, or from a non-kernel sender */
	uint64_t overruns;        /* ENOBUFS on the event socket: events were lost */
	uint64_t stray_replies;   /* replies with a foreign seq or portid, dropped */
};
void xfrm_get_counters(struct kernel *k, struct xfrm_counters *out);

/* Called by event_read with every raw message before it is parsed (capture, tracing). */
typedef void (*xfrm_tap_fn)(const void *msg, size_t len, void *arg);
void xfrm_set_event_tap(struct kernel *k, xfrm_tap_fn fn, void *arg);

/* SPD hash thresholds (lbits/rbits per family) as the kernel reports them. */
struct xfrm_hthresh {
	uint8_t lbits4, rbits4, lbits6, rbits6;
};
int xfrm_get_hthresh(struct kernel *k, struct xfrm_hthresh *out);
int xfrm_set_hthresh(struct kernel *k, const struct xfrm_hthresh *h, bool v4, bool v6);

/* The rule tune() applies: above XFRM_HTHRESH_MIN prefix policies of a family, that
 * family's remote threshold drops to XFRM_HTHRESH_R4 / _R6 with local 0. */
#define XFRM_HTHRESH_MIN 1000
#define XFRM_HTHRESH_R4 24
#define XFRM_HTHRESH_R6 64

#endif
