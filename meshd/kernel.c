/* kernel.c — what the group entries mean in the kernel, and applying a whole policy set
 * or the difference between two of them through struct kernel_ops.
 *
 *   clear             pass  out / in / fwd
 *   block             block out / in / fwd
 *   private, p-or-c   trap  out (ESP transport template with the entry's reqid)
 *   clear-or-private  nothing (traffic goes clear; we only answer IKE)
 *   (host)            pass  out / in / fwd, at the lowest priorities
 *
 * The local side of a group policy is a wildcard (0.0.0.0/0 or ::/0), so the host's
 * addresses may change without touching the group policies; per-peer policies (shunts,
 * SAs) use the local /32 (/128) and so outrank the group entry that covers the peer. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kernel_apply.h"

static void any_prefix(int family, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->a.family = (uint8_t)family;
	p->len = 0;
}

size_t kernel_entry_policies(const struct policy_set *s, const struct pol_entry *e,
			     struct kpolicy out[3])
{
	const struct pol_group *g = policy_group(s, e);
	struct prefix any;
	any_prefix(e->pfx.a.family, &any);
	struct kpolicy p = { 0 };
	p.priority = policy_entry_priority(s, e);
	p.sel.proto = e->proto;
	size_t n = 0;

	switch (g->cls) {
	case GC_OE_PASS:
	case GC_OE_DROP:
		p.act = KACT_TRAP;
		p.reqid = e->reqid;
		p.dir = KDIR_OUT;
		p.sel.src = any;
		p.sel.dst = e->pfx;
		p.sel.sport = e->lport;
		p.sel.dport = e->rport;
		out[n++] = p;
		break;
	case GC_CLEAR:
	case GC_BLOCK:
		p.act = g->cls == GC_BLOCK ? KACT_BLOCK : KACT_PASS;
		p.dir = KDIR_OUT;
		p.sel.src = any;
		p.sel.dst = e->pfx;
		p.sel.sport = e->lport;
		p.sel.dport = e->rport;
		out[n++] = p;
		p.dir = KDIR_IN;
		p.sel.src = e->pfx;
		p.sel.dst = any;
		p.sel.sport = e->rport;
		p.sel.dport = e->lport;
		out[n++] = p;
		p.dir = KDIR_FWD;
		out[n++] = p;
		break;
	case GC_OE_RESPOND:
	case GC_NONE:
		break;
	}
	return n;
}

/* IPv6 neighbour discovery must never meet a trap or block: a neighbour advertisement
 * to a peer in a private /64 would otherwise raise an ACQUIRE and the link would never
 * resolve. Like Libreswan, pass ICMPv6 types 135 and 136 both ways at the top of our band
 * whenever IPv6 entries exist. (An ICMP selector carries the type in sport.) */
size_t kernel_fixed_policies(const struct policy_set *s, struct kpolicy out[KERNEL_FIXED_MAX])
{
	bool v6 = false;
	for (size_t i = 0; i < s->n_entries && !v6; i++)
		v6 = s->entries[i].pfx.a.family == AF_INET6 &&
		     policy_group(s, &s->entries[i])->conn >= 0;
	if (!v6)
		return 0;
	size_t n = 0;
	static const uint16_t types[2] = { 135, 136 };
	static const enum kdir dirs[3] = { KDIR_OUT, KDIR_IN, KDIR_FWD };
	for (int t = 0; t < 2; t++) {
		for (int d = 0; d < 3; d++) {
			struct kpolicy p = { 0 };
			any_prefix(AF_INET6, &p.sel.src);
			any_prefix(AF_INET6, &p.sel.dst);
			p.sel.proto = 58;
			p.sel.sport = types[t];
			p.dir = dirs[d];
			p.act = KACT_PASS;
			p.priority = POLICY_PRIO_BASE;
			out[n++] = p;
		}
	}
	return n;
}

struct batch {
	struct kpolicy *p;
	const struct pol_entry **owner;   /* entry each policy belongs to, for messages */
	size_t n, cap;
	const struct policy_set *set;
	struct log *log;
	size_t failed;
	const char *verb;
};

static int batch_push(struct batch *b, const struct kpolicy *p, const struct pol_entry *e)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct kpolicy *np = realloc(b->p, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		b->p = np;
		const struct pol_entry **no = realloc(b->owner, cap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		b->owner = no;
		b->cap = cap;
	}
	b->p[b->n] = *p;
	b->owner[b->n++] = e;
	return 0;
}

static const char *dir_name(enum kdir d)
{
	return d == KDIR_OUT ? "out" : d == KDIR_IN ? "in" : "fwd";
}

static void batch_err(size_t i, int err, void *arg)
{
	struct batch *b = arg;
	const struct pol_entry *e = b->owner[i];
	char pfx[PREFIX_STRLEN];
	b->failed++;
	if (e)
		log_err(b->log, "kernel refused to %s the %s policy of %s %s (%s:%u): %s", b->verb,
			dir_name(b->p[i].dir), policy_group(b->set, e)->name,
			prefix_str(&e->pfx, pfx), e->file, e->line, strerror(-err));
	else
		log_err(b->log, "kernel refused to %s a policy: %s", b->verb, strerror(-err));
}

static int batch_flush(struct kernel *k, struct batch *b, bool del)
{
	if (!b->n)
		return 0;
	b->verb = del ? "delete" : "install";
	int r = del ? k->ops->policy_del(k, b->p, b->n, batch_err, b)
		    : k->ops->policy_put(k, b->p, b->n, batch_err, b);
	b->n = 0;
	return r;
}

static void batch_fini(struct batch *b)
{
	free(b->p);
	free(b->owner);
}

/* Flush every this many policies so memory stays bounded on 100k-entry sets. */
#define BATCH_FLUSH 8192

int kernel_install_set(struct kernel *k, const struct policy_set *s, struct log *log,
		       struct kernel_apply_result *res)
{
	struct batch b = { .set = s, .log = log };
	size_t n4 = 0, n6 = 0;
	int r = 0;
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < s->n_entries && r != -ENOMEM; i++) {
		struct kpolicy kp[3];
		const struct pol_entry *e = &s->entries[i];
		size_t n = kernel_entry_policies(s, e, kp);
		if (n && e->pfx.len < addr_bits(e->pfx.a.family))
			*(e->pfx.a.family == AF_INET6 ? &n6 : &n4) += 1;
		for (size_t j = 0; j < n && r != -ENOMEM; j++)
			r = batch_push(&b, &kp[j], e);
		res->added += n;
		if (b.n >= BATCH_FLUSH)
			batch_flush(k, &b, false);
	}
	struct kpolicy fixed[KERNEL_FIXED_MAX];
	size_t nf = kernel_fixed_policies(s, fixed);
	for (size_t j = 0; j < nf && r != -ENOMEM; j++)
		r = batch_push(&b, &fixed[j], NULL);
	res->added += nf;
	if (r != -ENOMEM)
		batch_flush(k, &b, false);
	if (r != -ENOMEM && k->ops->tune)
		k->ops->tune(k, n4, n6);
	res->failed = b.failed;
	batch_fini(&b);
	return r == -ENOMEM ? r : (res->failed ? -EIO : 0);
}

int kernel_remove_set(struct kernel *k, const struct policy_set *s, struct log *log)
{
	struct batch b = { .set = s, .log = log };
	int r = 0;
	for (size_t i = 0; i < s->n_entries && r == 0; i++) {
		struct kpolicy kp[3];
		size_t n = kernel_entry_policies(s, &s->entries[i], kp);
		for (size_t j = 0; j < n && r == 0; j++)
			r = batch_push(&b, &kp[j], &s->entries[i]);
		if (b.n >= BATCH_FLUSH)
			batch_flush(k, &b, true);
	}
	struct kpolicy fixed[KERNEL_FIXED_MAX];
	size_t nf = kernel_fixed_policies(s, fixed);
	for (size_t j = 0; j < nf && r == 0; j++)
		r = batch_push(&b, &fixed[j], NULL);
	if (r == 0)
		batch_flush(k, &b, true);
	int failed = (int)b.failed;
	batch_fini(&b);
	return r ? r : (failed ? -EIO : 0);
}

int kernel_stop_set(struct kernel *k, const struct policy_set *s, struct log *log,
		    size_t *n_kept)
{
	struct batch b = { .set = s, .log = log };
	int r = 0;
	*n_kept = 0;
	for (size_t i = 0; i < s->n_entries && r == 0; i++) {
		struct kpolicy kp[3];
		const struct pol_entry *e = &s->entries[i];
		size_t n = kernel_entry_policies(s, e, kp);
		*n_kept += n;
		for (size_t j = 0; j < n && r == 0; j++) {
			if (kp[j].act != KACT_TRAP)
				continue;
			kp[j].act = policy_group(s, e)->cls == GC_OE_DROP ? KACT_BLOCK : KACT_PASS;
			kp[j].reqid = 0;
			r = batch_push(&b, &kp[j], e);
		}
		if (b.n >= BATCH_FLUSH)
			batch_flush(k, &b, false);
	}
	*n_kept += kernel_fixed_policies(s, (struct kpolicy[KERNEL_FIXED_MAX]){ 0 });
	if (r == 0)
		batch_flush(k, &b, false);
	size_t failed = b.failed;
	batch_fini(&b);
	return r ? r : (failed ? -EIO : 0);
}

int kernel_flush_band(struct kernel *k, struct log *log, size_t *n_removed)
{
	struct policy_set none = { 0 };
	return kernel_remove_stale(k, &none, log, n_removed);
}

struct diff_apply {
	struct kernel *k;
	struct batch put, del;
	struct kernel_apply_result *res;
	int err;
};

static bool has_dir(const struct kpolicy *p, size_t n, enum kdir d)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].dir == d)
			return true;
	return false;
}

static void diff_cb(const struct pol_entry *o, const struct pol_entry *n, void *arg)
{
	struct diff_apply *da = arg;
	struct kpolicy okp[3], nkp[3];
	size_t on = o ? kernel_entry_policies(da->del.set, o, okp) : 0;
	size_t nn = n ? kernel_entry_policies(da->put.set, n, nkp) : 0;
	if (da->err)
		return;
	/* new state first, then remove what the new state does not replace: a changed entry
	 * never passes through "no policy at all" */
	for (size_t i = 0; i < nn && !da->err; i++)
		da->err = batch_push(&da->put, &nkp[i], n);
	for (size_t i = 0; i < on && !da->err; i++)
		if (!has_dir(nkp, nn, okp[i].dir))
			da->err = batch_push(&da->del, &okp[i], o);
	/* the counts are of group-file entries; the automatic ones (host addresses, loopback)
	 * change with the host's addresses and are counted apart */
	const struct pol_entry *e = n ? n : o;
	if (policy_group(n ? da->put.set : da->del.set, e)->conn < 0)
		da->res->automatic++;
	else if (o && n)
		da->res->changed++;
	else if (n)
		da->res->added++;
	else
		da->res->removed++;
}

int kernel_apply_diff(struct kernel *k, const struct policy_set *old,
		      const struct policy_set *new_set, struct log *log,
		      struct kernel_apply_result *res)
{
	struct diff_apply da = {
		.k = k,
		.put = { .set = new_set, .log = log },
		.del = { .set = old, .log = log },
		.res = res,
	};
	memset(res, 0, sizeof(*res));
	policy_diff(old, new_set, diff_cb, &da);
	struct kpolicy of[KERNEL_FIXED_MAX], nf[KERNEL_FIXED_MAX];
	size_t non = kernel_fixed_policies(old, of), nnn = kernel_fixed_policies(new_set, nf);
	for (size_t i = 0; i < nnn && !non && !da.err; i++)
		da.err = batch_push(&da.put, &nf[i], NULL);
	for (size_t i = 0; i < non && !nnn && !da.err; i++)
		da.err = batch_push(&da.del, &of[i], NULL);
	res->policies_put = da.put.n;
	res->policies_del = da.del.n;
	if (!da.err) {
		batch_flush(k, &da.put, false);
		batch_flush(k, &da.del, true);
	}
	res->failed = da.put.failed + da.del.failed;
	batch_fini(&da.put);
	batch_fini(&da.del);
	if (da.err)
		return da.err;
	return res->failed ? -EIO : 0;
}

/* Order policies by direction and selector, so two lists can be merged. */
static int ksel_cmp(const struct kpolicy *a, const struct kpolicy *b)
{
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	int r = prefix_cmp(&a->sel.src, &b->sel.src);
	if (!r)
		r = prefix_cmp(&a->sel.dst, &b->sel.dst);
	if (!r)
		r = (a->sel.proto > b->sel.proto) - (a->sel.proto < b->sel.proto);
	if (!r)
		r = (a->sel.sport > b->sel.sport) - (a->sel.sport < b->sel.sport);
	if (!r)
		r = (a->sel.dport > b->sel.dport) - (a->sel.dport < b->sel.dport);
	return r;
}

static int kpolicy_qcmp(const void *a, const void *b)
{
	return ksel_cmp(a, b);
}

int kernel_remove_stale(struct kernel *k, const struct policy_set *s, struct log *log,
			size_t *n_removed)
{
	struct kpolicy *have = NULL, *want = NULL;
	size_t n_have = 0, n_want = 0;
	*n_removed = 0;
	if (!k->ops->policy_dump)
		return 0;
	int r = k->ops->policy_dump(k, &have, &n_have);
	if (r < 0)
		return r;
	want = calloc(s->n_entries * 3 + KERNEL_FIXED_MAX, sizeof(*want));
	if (!want) {
		free(have);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_entries; i++)
		n_want += kernel_entry_policies(s, &s->entries[i], want + n_want);
	n_want += kernel_fixed_policies(s, want + n_want);
	qsort(have, n_have, sizeof(*have), kpolicy_qcmp);
	qsort(want, n_want, sizeof(*want), kpolicy_qcmp);
	/* keep only ours (priority band) that the set does not produce */
	size_t j = 0, n_stale = 0;
	for (size_t i = 0; i < n_have; i++) {
		if (have[i].priority < POLICY_PRIO_BASE || have[i].priority >= POLICY_PRIO_END)
			continue;
		while (j < n_want && ksel_cmp(&want[j], &have[i]) < 0)
			j++;
		if (j < n_want && ksel_cmp(&want[j], &have[i]) == 0)
			continue;
		have[n_stale++] = have[i];
	}
	if (n_stale) {
		struct batch b = { .set = s, .log = log, .verb = "delete" };
		b.p = have;
		b.n = n_stale;
		b.owner = calloc(n_stale, sizeof(*b.owner));
		if (b.owner) {
			r = k->ops->policy_del(k, have, n_stale, batch_err, &b);
			free(b.owner);
		} else {
			r = -ENOMEM;
		}
		*n_removed = n_stale - b.failed;
	}
	free(have);
	free(want);
	return r;
}
