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

/* ---- the module's private part ----
 * What kernel_xfrm.c (policies, events, requests) and kernel_xfrm_sa.c (ESP SAs) share, with libmnl and <linux/xfrm.h>. Only the module's own files define MESHD_KERNEL_XFRM_INTERNAL
 * before including this header, so the library's headers stay inside the module
 * (DESIGN.md 3.2); every other module sees the library-free API above. */
#ifdef MESHD_KERNEL_XFRM_INTERNAL
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#define BATCH_BYTES (64 * 1024)     /* requests per sendmsg, by size ... */
#define BATCH_MSGS 256              /* ... and by count (bounds the ack backlog) */
#define MSG_MAX 512                 /* largest batched request (policy + 1 template) */
#define REQ_BYTES 1024              /* a single (non-batched) request */
#define RECV_BYTES (64 * 1024)      /* >= the kernel's 32 KiB dump skb */
#define EXT_ACK_MAX 128             /* kept text of the last extended ack */

struct xfrm {
	struct mnl_socket *req;      /* requests and their replies */
	struct mnl_socket *ev;       /* ACQUIRE / EXPIRE multicast, non-blocking */
	uint32_t portid;             /* of req */
	uint32_t seq;                /* next request sequence number */
	struct xfrm_counters st;
	xfrm_tap_fn tap;
	void *tap_arg;
	char ext_ack[EXT_ACK_MAX];   /* kernel's reason for the last failed xfrm_talk, or "" */
	size_t batch_idx[BATCH_MSGS];   /* item index of each request in the batch */
	bool acked[BATCH_MSGS];
	char sbuf[BATCH_BYTES + MSG_MAX];
	char rbuf[RECV_BYTES];
	/* events have their own buffer: an event handler sends requests (shunts) and their
	 * acks are read into rbuf while the event batch is still being walked */
	char evbuf[RECV_BYTES];
};

/* ---- helpers from kernel_xfrm.c ---- */
bool xfrm_family_ok(int family);
void xfrm_addr_put(xfrm_address_t *x, const struct addr *a);
void xfrm_addr_get(struct addr *a, const xfrm_address_t *x, int family);
/* struct ksel -> xfrm_selector; 0, -EAFNOSUPPORT or -EINVAL (mixed families). */
int xfrm_sel_put(const struct ksel *s, struct xfrm_selector *x);
void xfrm_lft_infinite(struct xfrm_lifetime_cfg *l);
/* A request header (NLM_F_REQUEST | flags) at the start of buf. */
struct nlmsghdr *xfrm_req_header(void *buf, uint16_t type, uint16_t flags, uint32_t seq);
/* Send one request (its seq is assigned here) and read replies until its ack, error or
 * NLMSG_DONE, calling cb (may be NULL) for each other reply. Replies with a foreign seq or
 * portid are counted and skipped. Returns 0 or -errno (the kernel's error, -ETIMEDOUT
 * when no reply came, -EINTR when a dump was interrupted); on a kernel error its
 * extended-ack text, if any, is left in x->ext_ack. */
int xfrm_talk(struct kernel *k, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* ---- the SA operations, kernel_xfrm_sa.c ---- */
int xfrm_sa_get_spi(struct kernel *k, const struct addr *src, const struct addr *dst,
		    uint32_t reqid, uint32_t *spi);
int xfrm_sa_add(struct kernel *k, const struct ksa *sa);
int xfrm_sa_del(struct kernel *k, const struct addr *dst, uint32_t spi);
int xfrm_sa_stats(struct kernel *k, const struct addr *dst, uint32_t spi,
		  struct ksa_stats *out);
#endif /* MESHD_KERNEL_XFRM_INTERNAL */

#endif
