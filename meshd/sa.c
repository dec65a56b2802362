/* sa.c — IKE and Child SA objects and their tables.
 *
 * The tables are arrays kept in serial order (new SAs get the highest serial, so
 * appending keeps the order; removal shifts): a serial is found by binary search.
 * Every datagram is matched to its IKE SA by initiator SPI, and the engine asks "which
 * SAs have this peer" on every handshake (ike_live.c, ike_auth.c, ike_child.c), so both
 * are hash indexes: chains through links in the SAs themselves, each chain in serial
 * order (so a lookup returns what a scan in serial order would), doubled when they hold
 * more entries than buckets. Initiator SPIs and peer addresses are chosen by peers, so
 * the hash is keyed with a per-table random key (SipHash-2-4) against chain flooding. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ike_frag.h"
#include "sa.h"

/* One hash index: chains through the struct sa_link at link_off in each object. */
struct sa_index {
	void **b;
	size_t nb, n;                 /* buckets (a power of 2 or 0), entries */
	size_t link_off;
};

struct sa_table {
	struct ike_sa **ike;
	size_t n_ike, cap_ike;
	struct child_sa **child;
	size_t n_child, cap_child;
	uint32_t next_serial;
	unsigned next_instance;
	size_t n_half_open;           /* responder SAs in IKES_R_SA_INIT */
	uint64_t key[2];              /* SipHash key of the indexes */
	struct sa_index by_spi, by_peer, child_by_peer;
};

_Static_assert(offsetof(struct ike_sa, serial) == 0, "chains sort by the first member");
_Static_assert(offsetof(struct child_sa, serial) == 0, "chains sort by the first member");

/* ---- SipHash-2-4 (Aumasson & Bernstein), for short keys ---- */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static uint64_t siphash(const uint64_t k[2], const uint8_t *p, size_t len)
{
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
			  k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull };
	uint64_t m;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		m = 0;
		for (unsigned j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	m = (uint64_t)len << 56;
	for (unsigned j = 0; i + j < len; j++)
		m |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (unsigned j = 0; j < 4; j++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t hash_spi(const struct sa_table *t, uint64_t spi)
{
	uint8_t b[8];
	memcpy(b, &spi, sizeof(b));
	return (uint32_t)siphash(t->key, b, sizeof(b));
}

static uint32_t hash_addr(const struct sa_table *t, const struct addr *a)
{
	uint8_t b[17] = { a->family };
	size_t n = a->family == AF_INET6 ? 16 : a->family == AF_INET ? 4 : 0;
	memcpy(b + 1, a->b, n);
	return (uint32_t)siphash(t->key, b, 1 + n);
}

/* ---- the chains ---- */

static struct sa_link *link_of(const struct sa_index *ix, void *obj)
{
	return (struct sa_link *)((char *)obj + ix->link_off);
}

static uint32_t serial_of(const void *obj)
{
	uint32_t s;
	memcpy(&s, obj, sizeof(s));
	return s;
}

/* Into its bucket, after every entry with a lower serial. */
static void chain_put(struct sa_index *ix, void *obj)
{
	struct sa_link *l = link_of(ix, obj);
	void **pp = &ix->b[l->hash & (ix->nb - 1)];
	while (*pp && serial_of(*pp) < serial_of(obj))
		pp = &link_of(ix, *pp)->next;
	l->next = *pp;
	*pp = obj;
}

/* Double the buckets; on ENOMEM the chains just get longer. */
static void index_grow(struct sa_index *ix)
{
	size_t nb = ix->nb * 2;
	void **nbk = calloc(nb, sizeof(*nbk)), **old = ix->b;
	if (!nbk)
		return;
	size_t onb = ix->nb;
	ix->b = nbk;
	ix->nb = nb;
	for (size_t i = 0; i < onb; i++) {
		for (void *o = old[i], *next; o; o = next) {
			next = link_of(ix, o)->next;
			chain_put(ix, o);
		}
	}
	free(old);
}

static void index_del(struct sa_index *ix, void *obj)
{
	struct sa_link *l = link_of(ix, obj);
	if (!l->in)
		return;
	void **pp = &ix->b[l->hash & (ix->nb - 1)];
	while (*pp && *pp != obj)
		pp = &link_of(ix, *pp)->next;
	if (*pp)
		*pp = l->next;
	l->next = NULL;
	l->in = false;
	ix->n--;
}

static void index_put(struct sa_index *ix, void *obj, uint32_t hash)
{
	index_del(ix, obj);
	if (ix->n >= ix->nb)
		index_grow(ix);
	struct sa_link *l = link_of(ix, obj);
	l->hash = hash;
	l->in = true;
	chain_put(ix, obj);
	ix->n++;
}

static void *index_first(const struct sa_index *ix, uint32_t hash)
{
	return ix->b[hash & (ix->nb - 1)];
}

static int index_init(struct sa_index *ix, size_t link_off)
{
	ix->link_off = link_off;
	ix->nb = 64;
	ix->b = calloc(ix->nb, sizeof(*ix->b));
	return ix->b ? 0 : -1;
}

static void *index_next(const struct sa_index *ix, void *obj)
{
	return link_of(ix, obj)->next;
}

static const char *const state_names[IKES__COUNT] = {
	[IKES_NEW] = "NEW",
	[IKES_I_SA_INIT] = "I_SA_INIT",
	[IKES_R_SA_INIT] = "R_SA_INIT",
	[IKES_I_AUTH] = "I_AUTH",
	[IKES_ESTABLISHED] = "ESTABLISHED",
	[IKES_DELETING] = "DELETING",
	[IKES_DEAD] = "DEAD",
};

const char *ike_state_name(enum ike_state s)
{
	return s < IKES__COUNT ? state_names[s] : "?";
}

struct sa_table *sa_table_new(void)
{
	struct sa_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->next_serial = 1;
	t->next_instance = 1;
	if (index_init(&t->by_spi, offsetof(struct ike_sa, ix_spi)) < 0 ||
	    index_init(&t->by_peer, offsetof(struct ike_sa, ix_peer)) < 0 ||
	    index_init(&t->child_by_peer, offsetof(struct child_sa, ix_peer)) < 0) {
		sa_table_free(t);
		return NULL;
	}
	if (getrandom(t->key, sizeof(t->key), GRND_NONBLOCK) != (ssize_t)sizeof(t->key)) {
		/* no entropy yet: a weaker key still spreads honest peers */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->key[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)t;
		t->key[1] = (uint64_t)ts.tv_sec * 0x9e3779b97f4a7c15ull;
	}
	return t;
}

static void ike_release(struct ike_sa *sa)
{
	crypto_dh_free(sa->dh);
	crypto_sk_free(sa->sk_out);
	crypto_sk_free(sa->sk_in);
	crypto_ike_keys_free(&sa->keys);
	buf_free_secret(&sa->ni);
	buf_free_secret(&sa->nr);
	buf_free(&sa->cookie);
	buf_free(&sa->msg_i);
	buf_free(&sa->msg_r);
	buf_free(&sa->req);
	buf_free(&sa->last_req_in);
	buf_free(&sa->resp);
	ike_frag_free(sa->fr);
	ike_rekey_free(sa->rk);
	free(sa);
}

static void child_release(struct child_sa *c)
{
	if (c->out_pending) {
		explicit_bzero(c->out_pending, sizeof(*c->out_pending));
		free(c->out_pending);
	}
	free(c);
}

void sa_table_free(struct sa_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_ike; i++)
		ike_release(t->ike[i]);
	for (size_t i = 0; i < t->n_child; i++)
		child_release(t->child[i]);
	free(t->ike);
	free(t->child);
	free(t->by_spi.b);
	free(t->by_peer.b);
	free(t->child_by_peer.b);
	explicit_bzero(t->key, sizeof(t->key));
	free(t);
}

static int grow(void ***v, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void **nv = realloc(*v, nc * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

struct ike_sa *sa_ike_new(struct sa_table *t)
{
	if (grow((void ***)&t->ike, &t->cap_ike, t->n_ike) < 0)
		return NULL;
	struct ike_sa *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->serial = t->next_serial++;
	sa->state = IKES_NEW;
	t->ike[t->n_ike++] = sa;
	return sa;
}

/* Index of the first entry with serial >= s in an array in serial order. */
static size_t lower_bound(void *const *v, size_t n, uint32_t s)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (serial_of(v[mid]) < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void sa_ike_free(struct sa_table *t, struct ike_sa *sa)
{
	size_t i = lower_bound((void *const *)t->ike, t->n_ike, sa->serial);
	if (i >= t->n_ike || t->ike[i] != sa)
		return;
	memmove(&t->ike[i], &t->ike[i + 1], (t->n_ike - i - 1) * sizeof(t->ike[0]));
	t->n_ike--;
	index_del(&t->by_spi, sa);
	index_del(&t->by_peer, sa);
	if (!sa->initiator && sa->state == IKES_R_SA_INIT)
		t->n_half_open--;
	ike_release(sa);
}

void sa_ike_set_spi_i(struct sa_table *t, struct ike_sa *sa, uint64_t spi_i)
{
	sa->spi_i = spi_i;
	index_put(&t->by_spi, sa, hash_spi(t, spi_i));
}

void sa_ike_set_addrs(struct sa_table *t, struct ike_sa *sa, const struct addr *local,
		      const struct addr *peer)
{
	sa->local = *local;
	sa->peer = *peer;
	index_put(&t->by_peer, sa, hash_addr(t, peer));
}

void sa_child_set_addrs(struct sa_table *t, struct child_sa *c, const struct addr *local,
			const struct addr *peer)
{
	c->local = *local;
	c->peer = *peer;
	index_put(&t->child_by_peer, c, hash_addr(t, peer));
}

void sa_ike_set_state(struct sa_table *t, struct ike_sa *sa, enum ike_state to)
{
	if (!sa->initiator)
		t->n_half_open += (to == IKES_R_SA_INIT) - (sa->state == IKES_R_SA_INIT);
	sa->state = to;
}

size_t sa_ike_half_open_count(const struct sa_table *t)
{
	return t->n_half_open;
}

uint32_t sa_next_serial(const struct sa_table *t)
{
	return t->next_serial;
}

struct child_sa *sa_child_new(struct sa_table *t, uint32_t ike_serial)
{
	if (grow((void ***)&t->child, &t->cap_child, t->n_child) < 0)
		return NULL;
	struct child_sa *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->serial = t->next_serial++;
	c->ike_serial = ike_serial;
	t->child[t->n_child++] = c;
	return c;
}

void sa_child_free(struct sa_table *t, struct child_sa *c)
{
	size_t i = lower_bound((void *const *)t->child, t->n_child, c->serial);
	if (i >= t->n_child || t->child[i] != c)
		return;
	memmove(&t->child[i], &t->child[i + 1], (t->n_child - i - 1) * sizeof(t->child[0]));
	t->n_child--;
	index_del(&t->child_by_peer, c);
	child_release(c);
}

struct ike_sa *sa_ike_by_serial(const struct sa_table *t, uint32_t serial)
{
	size_t i = lower_bound((void *const *)t->ike, t->n_ike, serial);
	return i < t->n_ike && t->ike[i]->serial == serial ? t->ike[i] : NULL;
}

struct child_sa *sa_child_by_serial(const struct sa_table *t, uint32_t serial)
{
	size_t i = lower_bound((void *const *)t->child, t->n_child, serial);
	return i < t->n_child && t->child[i]->serial == serial ? t->child[i] : NULL;
}

struct ike_sa *sa_ike_by_spi(const struct sa_table *t, uint64_t spi_i, uint64_t spi_r,
			     bool we_initiated)
{
	for (struct ike_sa *sa = index_first(&t->by_spi, hash_spi(t, spi_i)); sa;
	     sa = index_next(&t->by_spi, sa)) {
		if (sa->initiator != we_initiated || sa->spi_i != spi_i || sa->state == IKES_DEAD)
			continue;
		if (sa->spi_r == spi_r || (we_initiated && sa->spi_r == 0))
			return sa;
	}
	return NULL;
}

struct ike_sa *sa_ike_half_open(const struct sa_table *t, uint64_t spi_i,
				const struct addr *peer)
{
	for (struct ike_sa *sa = index_first(&t->by_spi, hash_spi(t, spi_i)); sa;
	     sa = index_next(&t->by_spi, sa))
		if (!sa->initiator && sa->spi_i == spi_i && addr_eq(&sa->peer, peer) &&
		    sa->state != IKES_DEAD)
			return sa;
	return NULL;
}

/* Chains are in serial order: when the SA numbered after is still linked with this peer
 * (the usual case), the next one follows it, so a walk over many SAs with one peer
 * address (all behind one NAT, or every SA of an initiator to one responder) stays
 * linear; otherwise the bucket is searched from its head. */
struct ike_sa *sa_ike_peer_next(const struct sa_table *t, const struct addr *peer,
				uint32_t after)
{
	struct ike_sa *a = after ? sa_ike_by_serial(t, after) : NULL, *sa;
	if (a && a->ix_peer.in && addr_eq(&a->peer, peer))
		sa = index_next(&t->by_peer, a);
	else
		sa = index_first(&t->by_peer, hash_addr(t, peer));
	for (; sa; sa = index_next(&t->by_peer, sa))
		if (sa->serial > after && addr_eq(&sa->peer, peer))
			return sa;
	return NULL;
}

struct child_sa *sa_child_peer_next(const struct sa_table *t, const struct addr *peer,
				    uint32_t after)
{
	struct child_sa *a = after ? sa_child_by_serial(t, after) : NULL, *c;
	if (a && a->ix_peer.in && addr_eq(&a->peer, peer))
		c = index_next(&t->child_by_peer, a);
	else
		c = index_first(&t->child_by_peer, hash_addr(t, peer));
	for (; c; c = index_next(&t->child_by_peer, c))
		if (c->serial > after && addr_eq(&c->peer, peer))
			return c;
	return NULL;
}

struct ike_sa *sa_ike_by_pair(const struct sa_table *t, const struct addr *local,
			      const struct addr *peer)
{
	for (struct ike_sa *sa = sa_ike_peer_next(t, peer, 0); sa;
	     sa = sa_ike_peer_next(t, peer, sa->serial))
		if (sa->state != IKES_DEAD && sa->state != IKES_DELETING &&
		    addr_eq(&sa->local, local))
			return sa;
	return NULL;
}

struct ike_sa *sa_ike_at(const struct sa_table *t, size_t i)
{
	return i < t->n_ike ? t->ike[i] : NULL;
}

struct child_sa *sa_child_at(const struct sa_table *t, size_t i)
{
	return i < t->n_child ? t->child[i] : NULL;
}

size_t sa_ike_count(const struct sa_table *t)
{
	return t->n_ike;
}

size_t sa_child_count(const struct sa_table *t)
{
	return t->n_child;
}

unsigned sa_next_instance(struct sa_table *t)
{
	return t->next_instance++;
}
