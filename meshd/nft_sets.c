/* nft_sets.c — the interval arithmetic behind the inbound sets: which source addresses
 * are enforced (private) or accounted (private-or-clear), as sorted disjoint ranges.
 *
 * The policy set's entries are sorted by (family, address, prefix length), so a prefix
 * comes before every prefix nested in it. One sweep per family with a stack of the open
 * prefixes labels every address with the class of the innermost (longest) prefix that
 * contains it, at any nesting depth; the host group, which wins over everything whatever
 * its length (policy_classify looks it up first), is then subtracted. Only entries
 * without protocol/ports take part (nft.h explains why). No library includes here. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft.h"

typedef unsigned __int128 u128;

enum label { L_OTHER, L_PRIVATE, L_POC };

static const char *const set_names[NFT_SET_COUNT] = {
	[NFT_SET_PRIVATE4] = "private4",
	[NFT_SET_PRIVATE6] = "private6",
	[NFT_SET_POC4] = "private_or_clear4",
	[NFT_SET_POC6] = "private_or_clear6",
};

const char *nft_set_name(enum nft_set_id id)
{
	return id < NFT_SET_COUNT ? set_names[id] : "?";
}

static u128 to_u128(const uint8_t *b, unsigned family)
{
	u128 v = 0;
	for (size_t i = 0; i < addr_len((int)family); i++)
		v = (v << 8) | b[i];
	return v;
}

static void from_u128(u128 v, unsigned family, uint8_t *b)
{
	size_t n = addr_len((int)family);
	memset(b, 0, 16);
	for (size_t i = n; i-- > 0;) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static u128 max_of(unsigned family)
{
	return family == AF_INET6 ? ~(u128)0 : (u128)0xffffffffu;
}

/* Last address of a prefix. */
static u128 prefix_end(const struct prefix *p)
{
	unsigned bits = addr_bits(p->a.family);
	u128 start = to_u128(p->a.b, p->a.family);
	if (p->len >= bits)
		return start;
	u128 host = (p->len == 0) ? max_of(p->a.family) : (((u128)1 << (bits - p->len)) - 1);
	return start | host;
}

/* Ranges in u128 form while computing. */
struct ivl {
	u128 lo, hi;
};

struct ivls {
	struct ivl *v;
	size_t n, cap;
};

static int ivls_push(struct ivls *l, u128 lo, u128 hi)
{
	if (l->n && l->v[l->n - 1].hi + 1 == lo && l->v[l->n - 1].hi != ~(u128)0) {
		l->v[l->n - 1].hi = hi;    /* adjacent: merge */
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ivl *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].lo = lo;
	l->v[l->n].hi = hi;
	l->n++;
	return 0;
}

struct sweep {
	struct ivls out[3];       /* per label; [L_OTHER] unused */
	struct { u128 end; enum label lab; } stack[130];
	unsigned depth;
	u128 pos;
	bool exhausted;           /* pos went past the family's last address */
};

static int emit(struct sweep *w, u128 lo, u128 hi, enum label lab)
{
	if (lab == L_OTHER || lo > hi)
		return 0;
	return ivls_push(&w->out[lab], lo, hi);
}

/* Close the innermost open prefix: the rest of it (from pos) is its own. */
static int pop(struct sweep *w)
{
	int rc = 0;
	unsigned t = --w->depth;
	if (!w->exhausted && w->pos <= w->stack[t].end)
		rc = emit(w, w->pos, w->stack[t].end, w->stack[t].lab);
	if (w->stack[t].end == ~(u128)0)
		w->exhausted = true;
	else if (!w->exhausted && w->pos <= w->stack[t].end + 1)
		w->pos = w->stack[t].end + 1;
	return rc;
}

static enum label label_of(enum group_class c)
{
	return c == GC_OE_DROP ? L_PRIVATE : c == GC_OE_PASS ? L_POC : L_OTHER;
}

/* One family: sweep the protocol-agnostic non-host entries, collect the host prefixes. */
static int sweep_family(const struct policy_set *s, unsigned family, struct sweep *w,
			struct ivls *host, size_t *n_port)
{
	int rc = 0;
	for (size_t i = 0; i < s->n_entries && rc == 0; i++) {
		const struct pol_entry *e = &s->entries[i];
		if (e->pfx.a.family != family)
			continue;
		u128 lo = to_u128(e->pfx.a.b, family), hi = prefix_end(&e->pfx);
		if (policy_is_host(s, e)) {
			/* host prefixes come sorted too; nested ones merge into their parent */
			if (host->n && lo <= host->v[host->n - 1].hi) {
				if (hi > host->v[host->n - 1].hi)
					host->v[host->n - 1].hi = hi;
			} else {
				rc = ivls_push(host, lo, hi);
			}
			continue;
		}
		if (e->proto || e->lport || e->rport) {
			(*n_port)++;
			continue;
		}
		while (rc == 0 && w->depth && w->stack[w->depth - 1].end < lo)
			rc = pop(w);
		if (rc)
			break;
		if (w->depth && w->pos < lo)
			rc = emit(w, w->pos, lo - 1, w->stack[w->depth - 1].lab);
		if (w->depth == sizeof(w->stack) / sizeof(w->stack[0]))
			return -EINVAL;    /* deeper than the address has bits: not sorted */
		w->stack[w->depth].end = hi;
		w->stack[w->depth].lab = label_of(policy_group(s, e)->cls);
		w->depth++;
		w->pos = lo;
		w->exhausted = false;
	}
	while (rc == 0 && w->depth)
		rc = pop(w);
	return rc;
}

/* out = in minus host (both sorted and disjoint), as nft ranges. */
static int subtract(const struct ivls *in, const struct ivls *host, unsigned family,
		    struct nft_ranges *out)
{
	size_t j = 0;
	for (size_t i = 0; i < in->n; i++) {
		u128 lo = in->v[i].lo, hi = in->v[i].hi;
		bool gone = false;
		while (j < host->n && host->v[j].hi < lo)
			j++;
		for (size_t k = j; k < host->n && host->v[k].lo <= hi; k++) {
			if (host->v[k].lo > lo) {
				uint8_t a[16], b[16];
				from_u128(lo, family, a);
				from_u128(host->v[k].lo - 1, family, b);
				int rc = nft_ranges_push(out, a, b, family);
				if (rc)
					return rc;
			}
			if (host->v[k].hi >= hi) {
				gone = true;
				break;
			}
			lo = host->v[k].hi + 1;
		}
		if (!gone) {
			uint8_t a[16], b[16];
			from_u128(lo, family, a);
			from_u128(hi, family, b);
			int rc = nft_ranges_push(out, a, b, family);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int nft_plan_build(const struct policy_set *s, struct nft_plan *out)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	static const unsigned fams[2] = { AF_INET, AF_INET6 };
	for (unsigned f = 0; f < 2 && rc == 0; f++) {
		struct sweep *w = calloc(1, sizeof(*w));
		struct ivls host = { 0 };
		if (!w)
			return -ENOMEM;
		rc = sweep_family(s, fams[f], w, &host, &out->n_port_specific);
		if (rc == 0)
			rc = subtract(&w->out[L_PRIVATE], &host, fams[f],
				      &out->set[f ? NFT_SET_PRIVATE6 : NFT_SET_PRIVATE4]);
		if (rc == 0)
			rc = subtract(&w->out[L_POC], &host, fams[f],
				      &out->set[f ? NFT_SET_POC6 : NFT_SET_POC4]);
		for (unsigned l = 0; l < 3; l++)
			free(w->out[l].v);
		free(w);
		free(host.v);
	}
	if (rc)
		nft_plan_fini(out);
	return rc;
}

void nft_plan_fini(struct nft_plan *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < NFT_SET_COUNT; i++)
		free(p->set[i].v);
	memset(p, 0, sizeof(*p));
}

int nft_ranges_push(struct nft_ranges *r, const uint8_t lo[16], const uint8_t hi[16],
		    unsigned family)
{
	size_t n = addr_len((int)family);
	if (r->n) {
		struct nft_range *last = &r->v[r->n - 1];
		u128 lhi = to_u128(last->hi, family), nlo = to_u128(lo, family);
		if (nlo <= lhi || (lhi != max_of(family) && lhi + 1 == nlo)) {
			if (to_u128(hi, family) > lhi)
				memcpy(last->hi, hi, n);
			return 0;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct nft_range *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	memcpy(r->v[r->n].lo, lo, n);
	memcpy(r->v[r->n].hi, hi, n);
	r->n++;
	return 0;
}

bool nft_ranges_contains(const struct nft_ranges *r, const struct addr *a)
{
	unsigned family = a->family;
	u128 x = to_u128(a->b, family);
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (to_u128(r->v[mid].hi, family) < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && to_u128(r->v[lo].lo, family) <= x;
}

const char *nft_range_str(const struct nft_range *r, unsigned family, char *buf)
{
	struct addr a = { .family = (uint8_t)family }, b = { .family = (uint8_t)family };
	char sa[ADDR_STRLEN], sb[ADDR_STRLEN];
	memcpy(a.b, r->lo, 16);
	memcpy(b.b, r->hi, 16);
	u128 lo = to_u128(r->lo, family), hi = to_u128(r->hi, family);
	u128 span = hi - lo;
	/* a CIDR: span + 1 is a power of two and lo is aligned to it */
	if (span != ~(u128)0 && ((span + 1) & span) == 0 && (lo & span) == 0) {
		unsigned host = 0;
		while (host < 128 && (span >> host) & 1)
			host++;
		snprintf(buf, NFT_RANGE_STRLEN, "%s/%u", addr_str(&a, sa),
			 addr_bits((int)family) - host);
	} else if (span == ~(u128)0) {
		snprintf(buf, NFT_RANGE_STRLEN, "%s/0", addr_str(&a, sa));
	} else {
		snprintf(buf, NFT_RANGE_STRLEN, "%s-%s", addr_str(&a, sa), addr_str(&b, sb));
	}
	return buf;
}
