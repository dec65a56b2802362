/* kernel_mock.c — the in-memory kernel for unit and exchange tests. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_mock.h"

struct kmock {
	struct kpolicy *pol;
	size_t n, cap;
	struct kacquire *acq;
	size_t n_acq, cap_acq;
	struct prefix fail_dst;
	int fail_err;
	struct kmock_stats st;
};

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
	.close = mclose,
};

int kmock_open(struct kernel *k)
{
	struct kmock *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
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
