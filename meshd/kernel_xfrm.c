/* kernel_xfrm.c — struct kernel_ops over XFRM netlink, with libmnl.
 *
 * ESP SAs (sa_get_spi, sa_add, sa_del, sa_stats) are in kernel_xfrm_sa.c, which shares
 * struct xfrm and xfrm_talk through the private part of kernel_xfrm.h.
 *
 * Two NETLINK_XFRM sockets: a blocking one for requests (with a receive timeout so a lost
 * reply cannot hang the daemon) and a non-blocking one subscribed to XFRMNLGRP_ACQUIRE and
 * XFRMNLGRP_EXPIRE. Bulk policy changes go out as many requests per sendmsg (up to
 * BATCH_BYTES / BATCH_MSGS), each with NLM_F_ACK; every ack is matched to its item by
 * sequence number and checked against our portid (aesthetics.md §7.11).
 *
 * The policies follow Libreswan (libreswan-oe.md §2.2): shunts are transport-mode with
 * zero template addresses, lifetimes are XFRM_INF, and the trap's reqid is planted in the
 * template so the kernel echoes it back in the ACQUIRE's XFRMA_TMPL.
 *
 * Ownership: all state is in struct xfrm (k->priv), freed by close. Nothing here aborts
 * on kernel input: a malformed message is counted (struct xfrm_counters), logged at debug
 * level and dropped. */
#include "config.h"

#define MESHD_KERNEL_XFRM_INTERNAL
#include "kernel_xfrm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

#define RCVBUF_BYTES (4 << 20)      /* an ack skb costs ~1 KiB of rmem */
#define REPLY_TIMEOUT_S 5

/* One batched call (policy_put / policy_del) in progress. */
struct batch {
	const char *op;              /* "put" / "del", for logs */
	const struct kpolicy *p;
	bool enoent_ok;
	kernel_err_fn err;
	void *arg;
	int first_err;
	size_t first_idx;
	size_t n_failed;
};

static const char *const dir_names[] = { "in", "out", "fwd" };
static const char *const act_names[] = { "pass", "block", "trap", "ipsec" };

static const char *kpolicy_str(const struct kpolicy *p, char *buf, size_t len)
{
	char s[PREFIX_STRLEN], d[PREFIX_STRLEN];
	snprintf(buf, len, "%s %s -> %s proto %u sport %u dport %u %s prio %u reqid %u",
		 (unsigned)p->dir <= KDIR_FWD ? dir_names[p->dir] : "dir?",
		 prefix_str(&p->sel.src, s), prefix_str(&p->sel.dst, d),
		 p->sel.proto, p->sel.sport, p->sel.dport,
		 (unsigned)p->act <= KACT_IPSEC ? act_names[p->act] : "act?",
		 p->priority, p->reqid);
	return buf;
}

/* ---- selectors and templates ------------------------------------------------------ */

bool xfrm_family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

void xfrm_addr_put(xfrm_address_t *x, const struct addr *a)
{
	memset(x, 0, sizeof(*x));
	if (xfrm_family_ok(a->family))
		memcpy(x, a->b, addr_len(a->family));
}

void xfrm_addr_get(struct addr *a, const xfrm_address_t *x, int family)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	memcpy(a->b, x, addr_len(family));
}

static bool xaddr_is_zero(const xfrm_address_t *x)
{
	static const xfrm_address_t zero;
	return memcmp(x, &zero, sizeof(zero)) == 0;
}

int xfrm_sel_put(const struct ksel *s, struct xfrm_selector *x)
{
	int family = s->src.a.family;

	if (!xfrm_family_ok(family))
		return -EAFNOSUPPORT;
	if (s->dst.a.family != family)
		return -EINVAL;             /* mixed-family selector */
	memset(x, 0, sizeof(*x));
	xfrm_addr_put(&x->saddr, &s->src.a);
	xfrm_addr_put(&x->daddr, &s->dst.a);
	x->family = (uint16_t)family;
	/* Lengths beyond the family's width are left for the kernel to refuse. */
	x->prefixlen_s = s->src.len;
	x->prefixlen_d = s->dst.len;
	x->proto = s->proto;
	x->sport = htons(s->sport);
	x->sport_mask = s->sport ? 0xffff : 0;
	x->dport = htons(s->dport);
	x->dport_mask = s->dport ? 0xffff : 0;
	return 0;
}

static int sel_from_xfrm(const struct xfrm_selector *x, struct ksel *s)
{
	int family = x->family;

	if (!xfrm_family_ok(family))
		return -EPROTONOSUPPORT;
	if (x->prefixlen_s > addr_bits(family) || x->prefixlen_d > addr_bits(family))
		return -EBADMSG;
	memset(s, 0, sizeof(*s));
	xfrm_addr_get(&s->src.a, &x->saddr, family);
	xfrm_addr_get(&s->dst.a, &x->daddr, family);
	s->src.len = x->prefixlen_s;
	s->dst.len = x->prefixlen_d;
	prefix_mask(&s->src);
	prefix_mask(&s->dst);
	s->proto = x->proto;
	s->sport = x->sport_mask ? ntohs(x->sport) : 0;
	s->dport = x->dport_mask ? ntohs(x->dport) : 0;
	return 0;
}

void xfrm_lft_infinite(struct xfrm_lifetime_cfg *l)
{
	l->soft_byte_limit = XFRM_INF;
	l->hard_byte_limit = XFRM_INF;
	l->soft_packet_limit = XFRM_INF;
	l->hard_packet_limit = XFRM_INF;
}

/* The single ESP template of a BLOCK, TRAP or IPSEC policy. */
static int tmpl_build(const struct kpolicy *p, struct xfrm_user_tmpl *t)
{
	int family = p->sel.src.a.family;

	memset(t, 0, sizeof(*t));
	t->id.proto = IPPROTO_ESP;
	t->reqid = p->reqid;
	t->mode = XFRM_MODE_TRANSPORT;
	t->share = XFRM_SHARE_ANY;
	t->optional = 0;
	t->aalgos = t->ealgos = t->calgos = ~0u;
	if (p->act == KACT_IPSEC) {
		if (xfrm_family_ok(p->tmpl_dst.family)) {
			if (p->tmpl_src.family != p->tmpl_dst.family)
				return -EINVAL;
			family = p->tmpl_dst.family;
			xfrm_addr_put(&t->saddr, &p->tmpl_src);
			xfrm_addr_put(&t->id.daddr, &p->tmpl_dst);
		} else if (p->tunnel) {
			return -EDESTADDRREQ;       /* a tunnel needs its endpoints */
		}
		if (p->tunnel)
			t->mode = XFRM_MODE_TUNNEL;
	}
	/* Shunts: 0.0.0.0 -> 0.0.0.0 (or ::), as Libreswan plants them. */
	t->family = (uint16_t)family;
	return 0;
}

/* ---- request builders: each returns the message length or -errno ------------------ */

struct nlmsghdr *xfrm_req_header(void *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

static int build_put(void *buf, const struct kpolicy *p, uint32_t seq)
{
	struct xfrm_userpolicy_info pi;
	struct xfrm_user_tmpl t;
	struct nlmsghdr *nlh;
	int r;

	if ((unsigned)p->dir > KDIR_FWD || (unsigned)p->act > KACT_IPSEC)
		return -EINVAL;
	memset(&pi, 0, sizeof(pi));
	r = xfrm_sel_put(&p->sel, &pi.sel);
	if (r < 0)
		return r;
	xfrm_lft_infinite(&pi.lft);
	pi.priority = p->priority;
	pi.dir = (uint8_t)p->dir;
	pi.action = p->act == KACT_BLOCK ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
	pi.share = XFRM_SHARE_ANY;
	/* Messages in a batch are only 4-byte aligned and this struct holds u64s: copy. */
	nlh = xfrm_req_header(buf, XFRM_MSG_UPDPOLICY, NLM_F_ACK, seq);
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(pi)), &pi, sizeof(pi));
	if (p->act != KACT_PASS) {
		/* BLOCK carries the template too (ignored by the kernel), like Libreswan. */
		r = tmpl_build(p, &t);
		if (r < 0)
			return r;
		mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	}
	return (int)nlh->nlmsg_len;
}

static int build_del(void *buf, const struct kpolicy *p, uint32_t seq)
{
	struct xfrm_userpolicy_id *id;
	struct nlmsghdr *nlh;
	int r;

	if ((unsigned)p->dir > KDIR_FWD)
		return -EINVAL;
	nlh = xfrm_req_header(buf, XFRM_MSG_DELPOLICY, NLM_F_ACK, seq);
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	r = xfrm_sel_put(&p->sel, &id->sel);
	if (r < 0)
		return r;
	id->dir = (uint8_t)p->dir;
	return (int)nlh->nlmsg_len;
}

/* ---- the batch engine ------------------------------------------------------------- */

static void item_failed(struct kernel *k, struct batch *b, size_t idx, int err,
			const char *why)
{
	char buf[256];

	if (err == -ENOENT && b->enoent_ok)
		return;
	b->n_failed++;
	if (!b->first_err || idx < b->first_idx) {
		b->first_err = err;
		b->first_idx = idx;
	}
	log_debug(k->log, "xfrm: policy %s #%zu (%s): %s%s%s", b->op, idx,
		  kpolicy_str(&b->p[idx], buf, sizeof(buf)), strerror(-err),
		  why ? ": " : "", why ? why : "");
	if (b->err)
		b->err(idx, err, b->arg);
}

static int ext_ack_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* The kernel's extended-ack text for an error reply, or NULL. */
static const char *ext_ack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	size_t off = sizeof(*e);
	const char *msg = NULL;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return NULL;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (off > plen)
		return NULL;
	mnl_attr_parse(nlh, (unsigned)off, ext_ack_cb, &msg);
	return msg;
}

/* Fail every request of the batch that has no ack yet. */
static void fail_pending(struct kernel *k, struct batch *b, size_t m, int err)
{
	struct xfrm *x = k->priv;

	for (size_t j = 0; j < m; j++)
		if (!x->acked[j])
			item_failed(k, b, x->batch_idx[j], err, "no reply");
}

/* Read the m acks of the batch sent with sequence numbers s0 .. s0+m-1. */
static void collect_acks(struct kernel *k, struct batch *b, uint32_t s0, size_t m)
{
	struct xfrm *x = k->priv;
	size_t pending = m;

	memset(x->acked, 0, m * sizeof(x->acked[0]));
	while (pending > 0) {
		ssize_t len = mnl_socket_recvfrom(x->req, x->rbuf, sizeof(x->rbuf));
		if (len < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				e = ETIMEDOUT;
			log_warn(k->log, "xfrm: reading acks for %zu requests: %s",
				 pending, strerror(e));
			fail_pending(k, b, m, -e);
			return;
		}
		int rem = (int)len;
		for (const struct nlmsghdr *nlh = (const void *)x->rbuf; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			uint32_t j = nlh->nlmsg_seq - s0;
			if (nlh->nlmsg_pid != x->portid || j >= m || x->acked[j] ||
			    nlh->nlmsg_type != NLMSG_ERROR ||
			    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
				x->st.stray_replies++;
				continue;
			}
			x->acked[j] = true;
			pending--;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error > 0 || e->error < -4095) {
				item_failed(k, b, x->batch_idx[j], -EPROTO, "bad ack");
			} else if (e->error < 0) {
				item_failed(k, b, x->batch_idx[j], e->error, ext_ack_msg(nlh));
			}
		}
	}
}

typedef int (*build_fn)(void *buf, const struct kpolicy *p, uint32_t seq);

static int run_batch(struct kernel *k, struct batch *b, size_t n, build_fn build)
{
	struct xfrm *x = k->priv;
	size_t i = 0;

	while (i < n) {
		uint32_t s0 = x->seq;
		size_t off = 0, m = 0;

		while (i < n && m < BATCH_MSGS && off < BATCH_BYTES) {
			int len = build(x->sbuf + off, &b->p[i], s0 + (uint32_t)m);
			if (len < 0) {
				/* Refused before sending: nothing for the kernel to ack. */
				item_failed(k, b, i++, len, "not sent");
				continue;
			}
			off += (size_t)len;
			x->batch_idx[m++] = i++;
		}
		if (m == 0)
			continue;
		x->seq += (uint32_t)m;
		if (mnl_socket_sendto(x->req, x->sbuf, off) < 0) {
			int e = errno;
			log_warn(k->log, "xfrm: sending %zu requests (%zu bytes): %s", m, off,
				 strerror(e));
			memset(x->acked, 0, m * sizeof(x->acked[0]));
			fail_pending(k, b, m, -e);
			continue;
		}
		collect_acks(k, b, s0, m);
	}
	if (b->n_failed)
		log_debug(k->log, "xfrm: policy %s: %zu of %zu failed", b->op, b->n_failed, n);
	return b->first_err;
}

static int xfrm_policy_put(struct kernel *k, const struct kpolicy *p, size_t n,
			   kernel_err_fn err, void *arg)
{
	struct batch b = { .op = "put", .p = p, .err = err, .arg = arg };

	return run_batch(k, &b, n, build_put);
}

static int xfrm_policy_del(struct kernel *k, const struct kpolicy *p, size_t n,
			   kernel_err_fn err, void *arg)
{
	struct batch b = { .op = "del", .p = p, .enoent_ok = true, .err = err, .arg = arg };

	return run_batch(k, &b, n, build_del);
}

/* ---- single requests: send one, run callbacks until the ack / NLMSG_DONE ---------- */

/* One reply of ours to the request with this seq. Returns 1 to keep reading, else the
 * final result (0 or -errno). */
static int talk_one(struct kernel *k, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		    bool *intr)
{
	struct xfrm *x = k->priv;
	const struct nlmsgerr *e;
	const char *why;
	int r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		*intr = true;          /* finish reading the dump, then report EINTR */
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return 1;
	case NLMSG_DONE:
		return *intr ? -EINTR : 0;
	case NLMSG_ERROR:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			return -EBADMSG;
		e = mnl_nlmsg_get_payload(nlh);
		if (e->error > 0 || e->error < -4095)
			return -EPROTO;
		if (e->error == 0)
			return *intr ? -EINTR : 0;
		why = ext_ack_msg(nlh);
		if (why)
			snprintf(x->ext_ack, sizeof(x->ext_ack), "%s", why);
		return e->error;
	default:
		if (!cb)
			return 1;
		errno = 0;
		r = cb(nlh, data);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < MNL_CB_OK)
			return errno ? -errno : -EPROTO;
		return 1;
	}
}

/* The sequence number and portid are checked here rather than by mnl_cb_run, which
 * reports a foreign reply with the same errno (ESRCH, EPROTO) as a kernel error of that
 * value: a GETSA or DELSA of an unknown SA answers -ESRCH. */
int xfrm_talk(struct kernel *k, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct xfrm *x = k->priv;
	uint32_t seq = x->seq++;
	bool intr = false;

	nlh->nlmsg_seq = seq;
	x->ext_ack[0] = '\0';
	if (mnl_socket_sendto(x->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(x->req, x->rbuf, sizeof(x->rbuf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		int rem = (int)len;
		for (const struct nlmsghdr *m = (const void *)x->rbuf; mnl_nlmsg_ok(m, rem);
		     m = mnl_nlmsg_next(m, &rem)) {
			if (m->nlmsg_pid != x->portid || m->nlmsg_seq != seq) {
				/* a late reply to an earlier request: skip it */
				x->st.stray_replies++;
				continue;
			}
			int r = talk_one(k, m, cb, data, &intr);
			if (r <= 0)
				return r;
		}
	}
}

/* ---- policy dump ------------------------------------------------------------------ */

struct dump {
	struct kpolicy *v;
	size_t n, cap;
	int err;
	uint64_t skipped;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct kpolicy p;
	int r = xfrm_parse_policy(nlh, nlh->nlmsg_len, &p);

	if (r < 0) {
		d->skipped++;
		return MNL_CB_OK;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct kpolicy *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = p;
	return MNL_CB_OK;
}

static int xfrm_policy_dump(struct kernel *k, struct kpolicy **out, size_t *n)
{
	char buf[REQ_BYTES];
	int r = -EINTR;

	*out = NULL;
	*n = 0;
	/* NLM_F_DUMP_INTR (the SPD changed under the dump) surfaces as EINTR: retry. */
	for (int attempt = 0; attempt < 5 && r == -EINTR; attempt++) {
		struct dump d = { 0 };
		struct nlmsghdr *nlh = xfrm_req_header(buf, XFRM_MSG_GETPOLICY, NLM_F_DUMP, 0);
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct xfrm_userpolicy_id));
		r = xfrm_talk(k, nlh, dump_cb, &d);
		if (r == 0 && d.err)
			r = d.err;
		if (r < 0) {
			free(d.v);
			continue;
		}
		*out = d.v;
		*n = d.n;
	}
	if (r < 0)
		log_warn(k->log, "xfrm: policy dump: %s", strerror(-r));
	return r;
}

/* ---- SPD hash thresholds ---------------------------------------------------------- */

static int spdinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct xfrm_hthresh *h = data;
	const struct xfrmu_spdhthresh *t;
	int type = mnl_attr_get_type(attr);

	if (type != XFRMA_SPD_IPV4_HTHRESH && type != XFRMA_SPD_IPV6_HTHRESH)
		return MNL_CB_OK;
	if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(*t)) < 0)
		return MNL_CB_ERROR;
	t = mnl_attr_get_payload(attr);
	if (type == XFRMA_SPD_IPV4_HTHRESH) {
		h->lbits4 = t->lbits;
		h->rbits4 = t->rbits;
	} else {
		h->lbits6 = t->lbits;
		h->rbits6 = t->rbits;
	}
	return MNL_CB_OK;
}

static int spdinfo_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != XFRM_MSG_NEWSPDINFO ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(uint32_t))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(uint32_t), spdinfo_attr_cb, data) != MNL_CB_OK) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int xfrm_get_hthresh(struct kernel *k, struct xfrm_hthresh *out)
{
	char buf[REQ_BYTES];
	struct nlmsghdr *nlh = xfrm_req_header(buf, XFRM_MSG_GETSPDINFO, NLM_F_ACK, 0);
	uint32_t *flags = mnl_nlmsg_put_extra_header(nlh, sizeof(*flags));

	*flags = 0xffffffff;   /* what iproute2 sends: "all" */
	memset(out, 0, sizeof(*out));
	return xfrm_talk(k, nlh, spdinfo_cb, out);
}

int xfrm_set_hthresh(struct kernel *k, const struct xfrm_hthresh *h, bool v4, bool v6)
{
	char buf[REQ_BYTES];
	struct nlmsghdr *nlh = xfrm_req_header(buf, XFRM_MSG_NEWSPDINFO, NLM_F_ACK, 0);
	uint32_t *flags = mnl_nlmsg_put_extra_header(nlh, sizeof(*flags));
	int r;

	*flags = 0;
	if (v4) {
		struct xfrmu_spdhthresh t = { .lbits = h->lbits4, .rbits = h->rbits4 };
		mnl_attr_put(nlh, XFRMA_SPD_IPV4_HTHRESH, sizeof(t), &t);
	}
	if (v6) {
		struct xfrmu_spdhthresh t = { .lbits = h->lbits6, .rbits = h->rbits6 };
		mnl_attr_put(nlh, XFRMA_SPD_IPV6_HTHRESH, sizeof(t), &t);
	}
	if (!v4 && !v6)
		return 0;
	r = xfrm_talk(k, nlh, NULL, NULL);
	if (r < 0)
		log_warn(k->log, "xfrm: setting SPD hash thresholds: %s", strerror(-r));
	return r;
}

/* Deleting an inexact (prefix) policy walks every node of its bin's trees, so with many
 * prefix policies a single delete costs milliseconds (performance.md §6.1). Policies whose
 * prefixes reach the thresholds are hashed instead. Ours put the wildcard on the local
 * side (out: dst = CIDR, in/fwd: src = CIDR), hence lbits 0. rbits is where the hash
 * stops: /24 (v4) and /64 (v6) hash the common CIDR sizes and everything longer, while
 * keeping distinct /24s (/64s) in distinct buckets; shorter prefixes stay in the tree.
 * Below XFRM_HTHRESH_MIN prefix policies the tree is cheap enough and the kernel default
 * (or the admin's setting) is left alone. The kernel rehashes asynchronously. */
static int xfrm_tune(struct kernel *k, size_t n_prefix4, size_t n_prefix6)
{
	struct xfrm_hthresh h = {
		.lbits4 = 0, .rbits4 = XFRM_HTHRESH_R4, .lbits6 = 0, .rbits6 = XFRM_HTHRESH_R6,
	};
	bool v4 = n_prefix4 > XFRM_HTHRESH_MIN, v6 = n_prefix6 > XFRM_HTHRESH_MIN;

	if (!v4 && !v6)
		return 0;
	log_info(k->log, "xfrm: %zu/%zu prefix policies: SPD hash thresholds%s%s", n_prefix4,
		 n_prefix6, v4 ? " hthresh4 0 24" : "", v6 ? " hthresh6 0 64" : "");
	return xfrm_set_hthresh(k, &h, v4, v6);
}

/* ---- per-socket bypass ------------------------------------------------------------ */

/* As Libreswan's netlink_poke_ipsec_policy_hole: an ALLOW socket policy in both
 * directions, so IKE packets never meet a trap or a block. The option is chosen by the
 * socket's family (the kernel compiles IP_XFRM_POLICY only on AF_INET sockets). */
static int xfrm_socket_bypass(struct kernel *k, int fd, int family)
{
	static const uint8_t dirs[] = { XFRM_POLICY_IN, XFRM_POLICY_OUT };
	struct xfrm_userpolicy_info pi;
	int level, opt;

	if (family == AF_INET) {
		level = IPPROTO_IP;
		opt = IP_XFRM_POLICY;
	} else if (family == AF_INET6) {
		level = IPPROTO_IPV6;
		opt = IPV6_XFRM_POLICY;
	} else {
		return -EAFNOSUPPORT;
	}
	memset(&pi, 0, sizeof(pi));
	pi.sel.family = (uint16_t)family;
	xfrm_lft_infinite(&pi.lft);
	pi.action = XFRM_POLICY_ALLOW;
	pi.share = XFRM_SHARE_ANY;
	for (size_t i = 0; i < sizeof(dirs); i++) {
		pi.dir = dirs[i];
		if (setsockopt(fd, level, opt, &pi, sizeof(pi)) < 0) {
			int e = errno;
			log_warn(k->log, "xfrm: bypass policy (%s) on socket %d: %s",
				 dir_names[dirs[i]], fd, strerror(e));
			return -e;
		}
	}
	return 0;
}

/* ---- parsers (kernel input: never trust a length) --------------------------------- */

struct tmpl_attrs {
	struct xfrm_user_tmpl first;
	size_t n_tmpl;
	bool has_type;
	uint8_t type;
	bool bad;
};

static int tmpl_attr_cb(const struct nlattr *attr, void *data)
{
	struct tmpl_attrs *t = data;
	size_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case XFRMA_TMPL:
		/* an array of struct xfrm_user_tmpl; only one XFRMA_TMPL attribute */
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, 0) < 0 || t->n_tmpl ||
		    len < sizeof(t->first) || len % sizeof(t->first)) {
			t->bad = true;
			return MNL_CB_ERROR;
		}
		memcpy(&t->first, mnl_attr_get_payload(attr), sizeof(t->first));
		t->n_tmpl = len / sizeof(t->first);
		break;
	case XFRMA_POLICY_TYPE:
		if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
				       sizeof(struct xfrm_userpolicy_type)) < 0) {
			t->bad = true;
			return MNL_CB_ERROR;
		}
		t->has_type = true;
		t->type = ((const struct xfrm_userpolicy_type *)mnl_attr_get_payload(attr))->type;
		break;
	default:
		break;   /* XFRMA_SEC_CTX, XFRMA_MARK, XFRMA_IF_ID, ...: not ours */
	}
	return MNL_CB_OK;
}

/* Common framing: a whole message of the given type with a fixed header of hdrlen
 * bytes, copied to hdr (the buffer need not be aligned for it), and its attributes. */
static int parse_frame(const void *buf, size_t len, uint16_t type, void *hdr, size_t hdrlen,
		       struct tmpl_attrs *t)
{
	const struct nlmsghdr *nlh = buf;

	if (!buf || len < sizeof(*nlh) || len > INT_MAX || !mnl_nlmsg_ok(nlh, (int)len))
		return -EBADMSG;
	if (nlh->nlmsg_type != type)
		return -ENOMSG;
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
		return -EBADMSG;
	memcpy(hdr, mnl_nlmsg_get_payload(nlh), hdrlen);
	memset(t, 0, sizeof(*t));
	if (mnl_attr_parse(nlh, (unsigned)hdrlen, tmpl_attr_cb, t) != MNL_CB_OK || t->bad)
		return -EBADMSG;
	return 0;
}

int xfrm_parse_acquire(const void *buf, size_t len, struct kacquire *out)
{
	struct xfrm_user_acquire ua;
	struct tmpl_attrs t;
	unsigned bits;
	int r = parse_frame(buf, len, XFRM_MSG_ACQUIRE, &ua, sizeof(ua), &t);

	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	r = sel_from_xfrm(&ua.sel, &out->sel);
	if (r < 0)
		return r;
	/* The kernel's selector is the packet's flow: host prefixes both ways. */
	bits = addr_bits(out->sel.src.a.family);
	if (out->sel.src.len != bits || out->sel.dst.len != bits)
		return -EBADMSG;
	/* A trap always has a template; its reqid is the one we planted. */
	if (t.n_tmpl == 0)
		return -EBADMSG;
	out->reqid = t.first.reqid;
	out->seq = ua.seq;
	return 0;
}

int xfrm_parse_policy(const void *buf, size_t len, struct kpolicy *out)
{
	struct xfrm_userpolicy_info pi;
	struct tmpl_attrs t;
	int r = parse_frame(buf, len, XFRM_MSG_NEWPOLICY, &pi, sizeof(pi), &t);

	if (r == -ENOMSG)
		r = parse_frame(buf, len, XFRM_MSG_UPDPOLICY, &pi, sizeof(pi), &t);
	if (r < 0)
		return r;
	if (pi.dir > XFRM_POLICY_FWD || (t.has_type && t.type != XFRM_POLICY_TYPE_MAIN) ||
	    t.n_tmpl > 1)
		return -EOPNOTSUPP;
	memset(out, 0, sizeof(*out));
	r = sel_from_xfrm(&pi.sel, &out->sel);
	if (r < 0)
		return r;
	out->dir = (enum kdir)pi.dir;
	out->priority = pi.priority;
	if (pi.action == XFRM_POLICY_BLOCK)
		out->act = KACT_BLOCK;
	else if (pi.action != XFRM_POLICY_ALLOW)
		return -EBADMSG;
	else if (t.n_tmpl == 0)
		out->act = KACT_PASS;
	else if (t.first.mode == XFRM_MODE_TRANSPORT && xaddr_is_zero(&t.first.saddr) &&
		 xaddr_is_zero(&t.first.id.daddr))
		out->act = KACT_TRAP;
	else
		out->act = KACT_IPSEC;
	if (t.n_tmpl == 0)
		return 0;
	out->reqid = t.first.reqid;
	if (out->act == KACT_IPSEC) {
		int family = t.first.family;
		if (!xfrm_family_ok(family))
			return -EBADMSG;
		out->tunnel = t.first.mode == XFRM_MODE_TUNNEL;
		xfrm_addr_get(&out->tmpl_src, &t.first.saddr, family);
		xfrm_addr_get(&out->tmpl_dst, &t.first.id.daddr, family);
	}
	return 0;
}

/* ---- events ----------------------------------------------------------------------- */

static void event_one(struct kernel *k, const struct nlmsghdr *nlh,
		      const struct kernel_events *ev)
{
	struct xfrm *x = k->priv;
	struct kacquire acq;
	struct kexpire exp;
	int r;

	if (x->tap)
		x->tap(nlh, nlh->nlmsg_len, x->tap_arg);
	if (nlh->nlmsg_pid != 0) {         /* multicast from the kernel has portid 0 */
		x->st.ignored++;
		return;
	}
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_ACQUIRE:
		r = xfrm_parse_acquire(nlh, nlh->nlmsg_len, &acq);
		if (r < 0) {
			x->st.malformed++;
			log_debug(k->log, "xfrm: dropping ACQUIRE (%u bytes): %s",
				  nlh->nlmsg_len, strerror(-r));
			return;
		}
		x->st.acquires++;
		if (ev && ev->acquire)
			ev->acquire(&acq, ev->arg);
		return;
	case XFRM_MSG_EXPIRE:
		r = xfrm_parse_expire(nlh, nlh->nlmsg_len, &exp);
		if (r < 0) {
			x->st.malformed++;
			log_debug(k->log, "xfrm: dropping EXPIRE (%u bytes): %s",
				  nlh->nlmsg_len, strerror(-r));
			return;
		}
		x->st.expires++;
		if (ev && ev->expire)
			ev->expire(&exp, ev->arg);
		return;
	case XFRM_MSG_POLEXPIRE:
		/* Our policies never expire (XFRM_INF): only checked for size. */
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct xfrm_user_polexpire)) {
			x->st.malformed++;
			return;
		}
		x->st.expires++;
		return;
	default:
		x->st.ignored++;
		return;
	}
}

static int xfrm_event_read(struct kernel *k, const struct kernel_events *ev)
{
	struct xfrm *x = k->priv;

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(x->ev, x->evbuf, sizeof(x->evbuf));
		if (len < 0) {
			int e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return 0;
			if (e == EINTR)
				continue;
			if (e == ENOBUFS) {
				/* The kernel re-sends an ACQUIRE once the larval state expires. */
				x->st.overruns++;
				log_warn(k->log, "xfrm: event socket overrun, events lost");
				continue;
			}
			if (e == ENOSPC) {        /* truncated datagram (MSG_TRUNC) */
				x->st.malformed++;
				continue;
			}
			log_warn(k->log, "xfrm: reading events: %s", strerror(e));
			return -e;
		}
		int rem = (int)len;
		const struct nlmsghdr *nlh = (const void *)x->evbuf;
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
			event_one(k, nlh, ev);
		if (rem > 0)
			x->st.malformed++;    /* trailing bytes that are no message */
	}
}

/* ---- open / close ----------------------------------------------------------------- */

static int xfrm_event_fd(struct kernel *k)
{
	struct xfrm *x = k->priv;

	return x && x->ev ? mnl_socket_get_fd(x->ev) : -1;
}

static void xfrm_close(struct kernel *k)
{
	struct xfrm *x = k->priv;

	if (!x)
		return;
	if (x->req)
		mnl_socket_close(x->req);
	if (x->ev)
		mnl_socket_close(x->ev);
	free(x);
	k->priv = NULL;
}

void xfrm_get_counters(struct kernel *k, struct xfrm_counters *out)
{
	const struct xfrm *x = k->priv;

	*out = x->st;
}

void xfrm_set_event_tap(struct kernel *k, xfrm_tap_fn fn, void *arg)
{
	struct xfrm *x = k->priv;

	x->tap = fn;
	x->tap_arg = arg;
}

static const struct kernel_ops xfrm_ops = {
	.name = "xfrm",
	.policy_put = xfrm_policy_put,
	.policy_del = xfrm_policy_del,
	.socket_bypass = xfrm_socket_bypass,
	.event_fd = xfrm_event_fd,
	.event_read = xfrm_event_read,
	.tune = xfrm_tune,
	.sa_get_spi = xfrm_sa_get_spi,
	.sa_add = xfrm_sa_add,
	.sa_del = xfrm_sa_del,
	.sa_stats = xfrm_sa_stats,
	.close = xfrm_close,
	.policy_dump = xfrm_policy_dump,
};

/* A big receive buffer: a full batch queues BATCH_MSGS ack skbs at once, and an ACQUIRE
 * burst can be large. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which we have; else best effort. */
static void grow_rcvbuf(int fd)
{
	int sz = RCVBUF_BYTES;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static int open_sockets(struct xfrm *x)
{
	unsigned groups[] = { XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	int on = 1;

	x->req = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
	if (!x->req || mnl_socket_bind(x->req, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	x->portid = mnl_socket_get_portid(x->req);
	/* Short error acks (no echo of our request) and the kernel's reason text; both
	 * optional. */
	(void)mnl_socket_setsockopt(x->req, NETLINK_CAP_ACK, &on, sizeof(on));
	(void)mnl_socket_setsockopt(x->req, NETLINK_EXT_ACK, &on, sizeof(on));
	grow_rcvbuf(mnl_socket_get_fd(x->req));
	if (setsockopt(mnl_socket_get_fd(x->req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;

	x->ev = mnl_socket_open2(NETLINK_XFRM, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!x->ev || mnl_socket_bind(x->ev, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(x->ev, NETLINK_ADD_MEMBERSHIP, &groups[i],
					  sizeof(groups[i])) < 0)
			return -errno;
	grow_rcvbuf(mnl_socket_get_fd(x->ev));
	return 0;
}

int xfrm_open(struct kernel *k)
{
	struct xfrm *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	k->ops = &xfrm_ops;
	k->priv = x;
	r = open_sockets(x);
	if (r < 0) {
		log_err(k->log, "xfrm: opening NETLINK_XFRM sockets: %s", strerror(-r));
		xfrm_close(k);
		k->ops = NULL;
		return r;
	}
	x->seq = (uint32_t)time(NULL);
	return 0;
}
