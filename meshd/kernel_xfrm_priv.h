/* kernel_xfrm_priv.h — what kernel_xfrm.c (policies, events, the request machinery) shares
 * with kernel_xfrm_sa.c (ESP SAs). Internal to those two files: it pulls in libmnl and
 * <linux/xfrm.h>, which nothing else may see (use kernel_xfrm.h instead). */
#ifndef MESHD_KERNEL_XFRM_PRIV_H
#define MESHD_KERNEL_XFRM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "kernel_xfrm.h"

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

#endif
