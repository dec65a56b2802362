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

/* An ESP SA (one direction). Keys are raw bytes; algorithm names are the kernel's crypto
 * API names ("rfc4106(gcm(aes))", "cbc(aes)", "hmac(sha256)"). */
struct ksa {
	struct addr src, dst;         /* outer addresses */
	uint32_t spi;                 /* host order */
	uint32_t reqid;
	bool tunnel;                  /* mode tunnel, else transport */
	struct ksel sel;              /* the SA's selector (host pair, proto/ports) */
	/* AEAD (aead_name set) or cipher + integrity */
	char aead_name[64];
	uint16_t aead_icv_bits;       /* 128 for GCM-16 */
	char enc_name[64];
	char auth_name[64];
	uint16_t auth_trunc_bits;     /* 128 for hmac(sha256) per RFC 4868 */
	uint8_t enc_key[64];          /* for AEAD: key || salt (RFC 4106: 4-byte salt) */
	uint16_t enc_key_len;         /* bytes */
	uint8_t auth_key[64];
	uint16_t auth_key_len;
	bool esn;
	uint32_t replay_window;       /* packets; 0 = none (outbound) */
	uint64_t soft_bytes, hard_bytes;      /* 0 = unlimited */
	uint64_t soft_add_s, hard_add_s;      /* lifetimes in seconds since add; 0 = none */
	/* UDP encapsulation (RFC 3948) when NAT was detected; 0 = none */
	uint16_t encap_sport, encap_dport;
	/* the seq of the ACQUIRE an outbound SA answers (0 = none): the kernel then drops
	 * the larval state it made for that ACQUIRE, which otherwise holds back every
	 * further ACQUIRE of the flow for 30 s (xfrm_acq_expires) — e.g. after a restart */
	uint32_t acq_seq;
};

struct ksa_stats {
	uint64_t bytes, packets;
	uint64_t add_time, use_time;  /* unix seconds; use_time 0 = never used */
};

/* An EXPIRE: the kernel says an SA reached its soft or hard limit. */
struct kexpire {
	struct addr dst;
	uint32_t spi;
	uint8_t proto;
	uint32_t reqid;
	bool hard;
};

/* Per-item result of a batched call: index into the array passed, and -errno. */
typedef void (*kernel_err_fn)(size_t index, int err, void *arg);

struct kernel_events {
	void (*acquire)(const struct kacquire *acq, void *arg);
	void (*expire)(const struct kexpire *exp, void *arg);   /* may be NULL */
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
	/* ---- ESP SAs (the IKE engine) ---- */
	/* Reserve an inbound SPI for src -> dst (XFRM_MSG_ALLOCSPI, larval state).
	 * Returns 0 and *spi (host order) or -errno. */
	int (*sa_get_spi)(struct kernel *k, const struct addr *src, const struct addr *dst,
			  uint32_t reqid, uint32_t *spi);
	/* Install (or update, for an SPI from sa_get_spi) an SA. A kernel without ESP answers
	 * -EPROTONOSUPPORT ("Requested type not found"), or -ENOSYS when it lacks the
	 * algorithm (checked first): the caller reports it. */
	int (*sa_add)(struct kernel *k, const struct ksa *sa);
	/* Delete an SA; one already gone is not an error. */
	int (*sa_del)(struct kernel *k, const struct addr *dst, uint32_t spi);
	/* Byte/packet counters and times of an SA. */
	int (*sa_stats)(struct kernel *k, const struct addr *dst, uint32_t spi,
			struct ksa_stats *out);
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
/* tests/lib/kernel_mock.c implements an in-memory kernel for tests. */

#endif
