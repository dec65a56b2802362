/* kernel.h — the daemon's view of the kernel IPsec tables (struct kernel_ops).
 *
 * Implementations: kernel_xfrm.c (XFRM over netlink with libmnl, the real one) and
 * kernel_mock.c (an in-memory table for tests). The rest of the daemon never talks to
 * netlink directly. All functions return 0 or -errno. */
#ifndef MESHD_KERNEL_H
#define MESHD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum kdir { KDIR_IN = 0, KDIR_OUT = 1, KDIR_FWD = 2 };  /* = XFRM_POLICY_IN/OUT/FWD */

enum kact {
	KACT_PASS,      /* allow, no template (clear, pass shunts) */
	KACT_BLOCK,     /* block (block group, drop shunts) */
	KACT_TRAP,      /* allow + ESP transport template 0.0.0.0->0.0.0.0 with reqid: ACQUIRE */
	KACT_IPSEC,     /* allow + ESP template with real endpoints (established Child SA) */
};

/* A selector. Ports are host order, 0 = any; proto 0 = any. */
struct ksel {
	struct prefix src, dst;       /* same family */
	uint8_t proto;
	uint16_t sport, dport;
};

struct kpolicy {
	struct ksel sel;
	enum kdir dir;
	enum kact act;
	uint32_t priority;
	uint32_t reqid;               /* KACT_TRAP, KACT_IPSEC */
	/* KACT_IPSEC only: */
	struct addr tmpl_src, tmpl_dst;
	bool tunnel;
};

/* An ACQUIRE: the kernel's selector of the triggering flow (host /32 or /128 both ways)
 * and the reqid of the trap that caught it. */
struct kacquire {
	struct ksel sel;
	uint32_t reqid;
	uint32_t seq;
};

/* Per-item result of a batched call: index into the array passed, and -errno. */
typedef void (*kernel_err_fn)(size_t index, int err, void *arg);

struct kernel_events {
	void (*acquire)(const struct kacquire *acq, void *arg);
	void *arg;
};

struct kernel;

struct kernel_ops {
	const char *name;
	/* Add or replace (same selector and direction) n policies, batched. Returns 0 when all
	 * succeeded, else the first error; err (may be NULL) is called for each failure. */
	int (*policy_put)(struct kernel *k, const struct kpolicy *p, size_t n,
			  kernel_err_fn err, void *arg);
	/* Delete n policies (matched by selector + direction; priority ignored). A policy that
	 * is already gone (-ENOENT) is not an error. */
	int (*policy_del)(struct kernel *k, const struct kpolicy *p, size_t n,
			  kernel_err_fn err, void *arg);
	/* Give this socket a bypass policy both ways, so IKE never hits a trap or block. */
	int (*socket_bypass)(struct kernel *k, int fd, int family);
	/* File descriptor to poll for events, or -1. */
	int (*event_fd)(struct kernel *k);
	/* Read pending events and dispatch them; never blocks. */
	int (*event_read)(struct kernel *k, const struct kernel_events *ev);
	/* Called once after the initial load with the number of prefix (non-host) policies per
	 * family, so the implementation can tune the kernel's hashing (hthresh). */
	int (*tune)(struct kernel *k, size_t n_prefix4, size_t n_prefix6);
	void (*close)(struct kernel *k);
	/* All main-type IN/OUT/FWD policies now in the kernel (for status and tests). On
	 * success *out is a malloc'd array of *n entries (NULL when 0) that the caller frees.
	 * May be NULL in an implementation that cannot list. */
	int (*policy_dump)(struct kernel *k, struct kpolicy **out, size_t *n);
};

struct log;

struct kernel {
	const struct kernel_ops *ops;
	void *priv;
	struct log *log;              /* optional, set by the caller (zero-init = silent) */
};

/* The XFRM/netlink implementation (kernel_xfrm.c). */
int xfrm_open(struct kernel *k);
/* The in-memory implementation for tests (kernel_mock.c). */
int kmock_open(struct kernel *k);

#endif
