/* kernel_mock.c — the in-memory kernel for unit and exchange tests. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kernel_mock.h"

struct kmock {
	struct kpolicy *pol;
	size_t n, cap;
	struct kacquire *acq;
	size_t n_acq, cap_acq;
	struct prefix fail_dst;
	int fail_err;
	struct kmock_stats st;
	struct msa *sa;
	size_t n_sa, cap_sa;
	uint32_t next_spi;
	int sa_fail_err;
	struct kexpire *exp;
	size_t n_exp, cap_exp;
};

/* An ESP SA, or an SPI reserved by sa_get_spi (larval: only dst, src, spi, reqid). */
struct msa {
	struct ksa sa;
	bool larval;
	struct ksa_stats st;
};

/* Grow *v (of *cap elements of size sz) to hold n + 1. */
static int grow(void **v, size_t *cap, size_t n, size_t sz, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : first;
	void *nv = realloc(*v, c * sz);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static bool sel_eq(const struct ksel *a, const struct ksel *b)
{
	return prefix_cmp(&a->src, &b->src) == 0 && prefix_cmp(&a->dst, &b->dst) == 0 &&
	       a->proto == b->proto && a->sport == b->sport && a->dport == b->dport;
}

static ssize_t find(const struct kmock *m, const struct ksel *sel, enum kdir dir)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pol[i].dir == dir && sel_eq(&m->pol[i].sel, sel))
			return (ssize_t)i;
	return -1;
}

static int put(struct kernel *k, const struct kpolicy *p, size_t n, kernel_err_fn err, void *arg)
{
	struct kmock *m = k->priv;
	int first = 0;
	m->st.put_calls++;
	for (size_t i = 0; i < n; i++) {
		m->st.put_items++;
		if (m->fail_err && prefix_cmp(&p[i].sel.dst, &m->fail_dst) == 0) {
			if (err)
				err(i, -m->fail_err, arg);
			if (!first)
				first = -m->fail_err;
			continue;
		}
		ssize_t at = find(m, &p[i].sel, p[i].dir);
		if (at >= 0) {
			m->pol[at] = p[i];
			continue;
		}
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct kpolicy *np = realloc(m->pol, cap * sizeof(*np));
			if (!np)
				return -ENOMEM;
			m->pol = np;
			m->cap = cap;
		}
		m->pol[m->n++] = p[i];
	}
	return first;
}

static int del(struct kernel *k, const struct kpolicy *p, size_t n, kernel_err_fn err, void *arg)
{
	struct kmock *m = k->priv;
	m->st.del_calls++;
	for (size_t i = 0; i < n; i++) {
		m->st.del_items++;
		ssize_t at = find(m, &p[i].sel, p[i].dir);
		if (at >= 0)
			m->pol[at] = m->pol[--m->n];
	}
	return 0;
}

static int bypass(struct kernel *k, int fd, int family)
{
	return 0;
}

static int event_fd(struct kernel *k)
{
	return -1;
}

static ssize_t sa_at(const struct kmock *m, const struct addr *dst, uint32_t spi);
static void sa_remove(struct kmock *m, size_t i);

static int event_read(struct kernel *k, const struct kernel_events *ev)
{
	struct kmock *m = k->priv;
	size_t n = m->n_acq;
	for (size_t i = 0; i < n && i < m->n_acq; i++)
		if (ev && ev->acquire)
			ev->acquire(&m->acq[i], ev->arg);
	/* handlers may have queued more; keep those */
	memmove(m->acq, m->acq + n, (m->n_acq - n) * sizeof(*m->acq));
	m->n_acq -= n;
	n = m->n_exp;
	for (size_t i = 0; i < n && i < m->n_exp; i++) {
		ssize_t at = sa_at(m, &m->exp[i].dst, m->exp[i].spi);
		if (m->exp[i].hard && at >= 0)
			sa_remove(m, (size_t)at);      /* the kernel deletes it, then tells */
		if (ev && ev->expire)
			ev->expire(&m->exp[i], ev->arg);
	}
	memmove(m->exp, m->exp + n, (m->n_exp - n) * sizeof(*m->exp));
	m->n_exp -= n;
	return 0;
}

/* ---- ESP SAs ---- */

static ssize_t sa_at(const struct kmock *m, const struct addr *dst, uint32_t spi)
{
	for (size_t i = 0; i < m->n_sa; i++)
		if (m->sa[i].sa.spi == spi && addr_eq(&m->sa[i].sa.dst, dst))
			return (ssize_t)i;
	return -1;
}

static void sa_remove(struct kmock *m, size_t i)
{
	m->sa[i] = m->sa[--m->n_sa];
	explicit_bzero(&m->sa[m->n_sa], sizeof(m->sa[0]));   /* keys */
}

static int sa_get_spi(struct kernel *k, const struct addr *src, const struct addr *dst,
		      uint32_t reqid, uint32_t *spi)
{
	struct kmock *m = k->priv;
	uint32_t s;

	m->st.spi_calls++;
	if (grow((void **)&m->sa, &m->cap_sa, m->n_sa, sizeof(*m->sa), 16) < 0)
		return -ENOMEM;
	do {
		s = m->next_spi++;
		if (s < 0x100) {        /* wrapped: 1..255 are reserved */
			m->next_spi = 0x101;
			s = 0x100;
		}
	} while (sa_at(m, dst, s) >= 0);
	memset(&m->sa[m->n_sa], 0, sizeof(m->sa[0]));
	m->sa[m->n_sa].sa.src = *src;
	m->sa[m->n_sa].sa.dst = *dst;
	m->sa[m->n_sa].sa.spi = s;
	m->sa[m->n_sa].sa.reqid = reqid;
	m->sa[m->n_sa].larval = true;
	m->n_sa++;
	*spi = s;
	return 0;
}

static int sa_add(struct kernel *k, const struct ksa *sa)
{
	struct kmock *m = k->priv;
	ssize_t at;

	m->st.sa_add_calls++;
	if (m->sa_fail_err)
		return -m->sa_fail_err;
	if (sa->spi == 0 || (!sa->aead_name[0] && !sa->enc_name[0]))
		return -EINVAL;
	at = sa_at(m, &sa->dst, sa->spi);
	if (at >= 0 && !m->sa[at].larval)
		return -EEXIST;
	if (at < 0) {
		if (grow((void **)&m->sa, &m->cap_sa, m->n_sa, sizeof(*m->sa), 16) < 0)
			return -ENOMEM;
		at = (ssize_t)m->n_sa++;
	}
	memset(&m->sa[at], 0, sizeof(m->sa[0]));
	m->sa[at].sa = *sa;
	return 0;
}

static int sa_del(struct kernel *k, const struct addr *dst, uint32_t spi)
{
	struct kmock *m = k->priv;
	ssize_t at = sa_at(m, dst, spi);

	m->st.sa_del_calls++;
	if (at >= 0)
		sa_remove(m, (size_t)at);
	return 0;
}

static int sa_stats(struct kernel *k, const struct addr *dst, uint32_t spi,
		    struct ksa_stats *out)
{
	const struct kmock *m = k->priv;
	ssize_t at = sa_at(m, dst, spi);

	if (at < 0 || m->sa[at].larval)
		return -ENOENT;
	*out = m->sa[at].st;
	return 0;
}

static int tune(struct kernel *k, size_t n4, size_t n6)
{
	return 0;
}

static void mclose(struct kernel *k)
{
	struct kmock *m = k->priv;
	if (!m)
		return;
	free(m->pol);
	free(m->acq);
	free(m->exp);
	if (m->sa)
		explicit_bzero(m->sa, m->cap_sa * sizeof(*m->sa));
	free(m->sa);
	free(m);
	k->priv = NULL;
}

static const struct kernel_ops kmock_ops = {
	.name = "mock",
	.policy_put = put,
	.policy_del = del,
	.socket_bypass = bypass,
	.event_fd = event_fd,
	.event_read = event_read,
	.tune = tune,
	.sa_get_spi = sa_get_spi,
	.sa_add = sa_add,
	.sa_del = sa_del,
	.sa_stats = sa_stats,
	.close = mclose,
};

int kmock_open(struct kernel *k)
{
	struct kmock *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->next_spi = 0x1000;
	k->ops = &kmock_ops;
	k->priv = m;
	return 0;
}

size_t kmock_count(const struct kernel *k)
{
	return ((const struct kmock *)k->priv)->n;
}

const struct kpolicy *kmock_find(const struct kernel *k, const struct ksel *sel, enum kdir dir)
{
	const struct kmock *m = k->priv;
	ssize_t at = find(m, sel, dir);
	return at < 0 ? NULL : &m->pol[at];
}

const struct kpolicy *kmock_at(const struct kernel *k, size_t i)
{
	const struct kmock *m = k->priv;
	return i < m->n ? &m->pol[i] : NULL;
}

int kmock_queue_acquire(struct kernel *k, const struct kacquire *acq)
{
	struct kmock *m = k->priv;
	if (m->n_acq == m->cap_acq) {
		size_t cap = m->cap_acq ? m->cap_acq * 2 : 8;
		struct kacquire *n = realloc(m->acq, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->acq = n;
		m->cap_acq = cap;
	}
	m->acq[m->n_acq++] = *acq;
	return 0;
}

void kmock_fail_dst(struct kernel *k, const struct prefix *dst, int err)
{
	struct kmock *m = k->priv;
	m->fail_dst = *dst;
	m->fail_err = err;
}

const struct kmock_stats *kmock_stats(const struct kernel *k)
{
	return &((const struct kmock *)k->priv)->st;
}

size_t kmock_sa_count(const struct kernel *k)
{
	const struct kmock *m = k->priv;
	size_t n = 0;
	for (size_t i = 0; i < m->n_sa; i++)
		n += !m->sa[i].larval;
	return n;
}

const struct ksa *kmock_sa_find(const struct kernel *k, const struct addr *dst, uint32_t spi)
{
	const struct kmock *m = k->priv;
	ssize_t at = sa_at(m, dst, spi);
	return at < 0 || m->sa[at].larval ? NULL : &m->sa[at].sa;
}

bool kmock_spi_reserved(const struct kernel *k, const struct addr *dst, uint32_t spi)
{
	const struct kmock *m = k->priv;
	ssize_t at = sa_at(m, dst, spi);
	return at >= 0 && m->sa[at].larval;
}

int kmock_sa_set_stats(struct kernel *k, const struct addr *dst, uint32_t spi,
		       const struct ksa_stats *st)
{
	struct kmock *m = k->priv;
	ssize_t at = sa_at(m, dst, spi);
	if (at < 0 || m->sa[at].larval)
		return -ENOENT;
	m->sa[at].st = *st;
	return 0;
}

void kmock_sa_fail_add(struct kernel *k, int err)
{
	((struct kmock *)k->priv)->sa_fail_err = err;
}

int kmock_queue_expire(struct kernel *k, const struct kexpire *exp)
{
	struct kmock *m = k->priv;
	if (grow((void **)&m->exp, &m->cap_exp, m->n_exp, sizeof(*m->exp), 8) < 0)
		return -ENOMEM;
	m->exp[m->n_exp++] = *exp;
	return 0;
}
