/* lpm.c — path-compressed binary trie for longest-prefix match (one per family).
 *
 * The layout follows WireGuard's allowedips: every node holds a masked key and a prefix
 * length (cidr); a child hangs under bit[b] where b is bit number `cidr` of its key, and
 * its cidr is strictly longer. Nodes created only to branch ("glue" nodes) carry no
 * value. Nothing is ever removed (a policy set is rebuilt on reload), so nodes come from
 * a slab: one allocation per LPM_SLAB nodes and a free without recursion. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lpm.h"

#define LPM_SLAB 1024

struct lpm_node {
	struct lpm_node *bit[2];
	void *value;
	uint8_t key[16];              /* host bits beyond cidr are zero */
	uint8_t cidr;
	bool has_value;
};

struct lpm_slab {
	struct lpm_slab *next;
	size_t used;
	struct lpm_node nodes[LPM_SLAB];
};

struct lpm {
	struct lpm_node *root;
	struct lpm_slab *slabs;
	int family;
	unsigned bits;
	size_t count;
};

struct lpm *lpm_new(int family)
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	struct lpm *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->family = family;
	t->bits = addr_bits(family);
	return t;
}

void lpm_free(struct lpm *t)
{
	if (!t)
		return;
	struct lpm_slab *s = t->slabs;
	while (s) {
		struct lpm_slab *next = s->next;
		free(s);
		s = next;
	}
	free(t);
}

static struct lpm_node *node_new(struct lpm *t, const uint8_t *key, unsigned cidr)
{
	if (!t->slabs || t->slabs->used == LPM_SLAB) {
		struct lpm_slab *s = malloc(sizeof(*s));
		if (!s)
			return NULL;
		s->next = t->slabs;
		s->used = 0;
		t->slabs = s;
	}
	struct lpm_node *n = &t->slabs->nodes[t->slabs->used++];
	memset(n, 0, sizeof(*n));
	memcpy(n->key, key, 16);
	n->cidr = (uint8_t)cidr;
	/* clear bits beyond cidr so that keys compare bytewise */
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		if (lo >= cidr)
			n->key[i] = 0;
		else if (cidr < lo + 8)
			n->key[i] &= (uint8_t)(0xff << (8 - (cidr - lo)));
	}
	return n;
}

static inline unsigned key_bit(const uint8_t *k, unsigned i)
{
	return (k[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Number of leading bits on which a and b agree, at most max. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
	unsigned i = 0;
	while (i + 8 <= max && a[i >> 3] == b[i >> 3])
		i += 8;
	if (i >= max)
		return max;
	uint8_t x = a[i >> 3] ^ b[i >> 3];
	if (x == 0)
		return max;   /* only reachable when max is not a multiple of 8 */
	unsigned n = i + (unsigned)__builtin_clz((unsigned)x) - (8 * (sizeof(unsigned) - 1));
	return n < max ? n : max;
}

/* Does the first n->cidr bits of key equal n's key? */
static inline bool node_matches(const struct lpm_node *n, const uint8_t *key)
{
	unsigned full = n->cidr >> 3, rest = n->cidr & 7;
	if (memcmp(n->key, key, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (key[full] & m) == n->key[full];
}

int lpm_insert(struct lpm *t, const struct prefix *p, void *value)
{
	if (!t || !value || p->a.family != t->family || p->len > t->bits)
		return -EINVAL;
	const uint8_t *key = p->a.b;
	unsigned cidr = p->len;
	struct lpm_node **slot = &t->root, *n;

	while ((n = *slot)) {
		unsigned cap = n->cidr < cidr ? n->cidr : cidr;
		unsigned common = common_bits(n->key, key, cap);
		if (common == cap) {
			if (n->cidr == cidr) {            /* exact: replace */
				if (!n->has_value)
					t->count++;
				n->value = value;
				n->has_value = true;
				return 0;
			}
			if (n->cidr < cidr) {             /* n is an ancestor: descend */
				slot = &n->bit[key_bit(key, n->cidr)];
				continue;
			}
			/* the new prefix is an ancestor of n: it goes in between */
			struct lpm_node *nn = node_new(t, key, cidr);
			if (!nn)
				return -ENOMEM;
			nn->value = value;
			nn->has_value = true;
			nn->bit[key_bit(n->key, cidr)] = n;
			*slot = nn;
			t->count++;
			return 0;
		}
		/* diverge at bit `common`: a glue node branches there */
		struct lpm_node *nn = node_new(t, key, cidr);
		struct lpm_node *glue = nn ? node_new(t, key, common) : NULL;
		if (!glue)
			return -ENOMEM;   /* a lone unused slab node is harmless */
		nn->value = value;
		nn->has_value = true;
		glue->bit[key_bit(key, common)] = nn;
		glue->bit[key_bit(n->key, common)] = n;
		*slot = glue;
		t->count++;
		return 0;
	}
	n = node_new(t, key, cidr);
	if (!n)
		return -ENOMEM;
	n->value = value;
	n->has_value = true;
	*slot = n;
	t->count++;
	return 0;
}

void *lpm_exact(const struct lpm *t, const struct prefix *p)
{
	if (!t || p->a.family != t->family || p->len > t->bits)
		return NULL;
	const struct lpm_node *n = t->root;
	while (n && n->cidr <= p->len && node_matches(n, p->a.b)) {
		if (n->cidr == p->len)
			return n->has_value ? n->value : NULL;
		n = n->bit[key_bit(p->a.b, n->cidr)];
	}
	return NULL;
}

/* Collect the value-carrying nodes on a's path, shortest first; returns how many. */
static unsigned path(const struct lpm *t, const struct addr *a,
		     const struct lpm_node **out /* [129] */)
{
	unsigned k = 0;
	const struct lpm_node *n = t->root;
	while (n && node_matches(n, a->b)) {
		if (n->has_value)
			out[k++] = n;
		if (n->cidr >= t->bits)
			break;
		n = n->bit[key_bit(a->b, n->cidr)];
	}
	return k;
}

void *lpm_lookup(const struct lpm *t, const struct addr *a, unsigned *len_out)
{
	if (!t || a->family != t->family)
		return NULL;
	const struct lpm_node *found = NULL, *n = t->root;
	while (n && node_matches(n, a->b)) {
		if (n->has_value)
			found = n;
		if (n->cidr >= t->bits)
			break;
		n = n->bit[key_bit(a->b, n->cidr)];
	}
	if (!found)
		return NULL;
	if (len_out)
		*len_out = found->cidr;
	return found->value;
}

void *lpm_walk_up(const struct lpm *t, const struct addr *a,
		  bool (*fn)(void *value, unsigned len, void *arg), void *arg)
{
	if (!t || a->family != t->family)
		return NULL;
	const struct lpm_node *stack[129];
	unsigned k = path(t, a, stack);
	while (k-- > 0)
		if (fn(stack[k]->value, stack[k]->cidr, arg))
			return stack[k]->value;
	return NULL;
}

size_t lpm_count(const struct lpm *t)
{
	return t ? t->count : 0;
}
