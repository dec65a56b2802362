/* sa.c — IKE and Child SA objects and their tables.
 *
 * The tables are arrays kept in serial order (new SAs get the highest serial, so
 * appending keeps the order; removal shifts). Lookups are linear: an OE host has one IKE
 * SA per active peer, and every lookup follows a datagram or a kernel event. A hash by
 * SPI is the obvious next step when a responder serves tens of thousands of peers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ike_frag.h"
#include "sa.h"

struct sa_table {
	struct ike_sa **ike;
	size_t n_ike, cap_ike;
	struct child_sa **child;
	size_t n_child, cap_child;
	uint32_t next_serial;
	unsigned next_instance;
};

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
	if (t) {
		t->next_serial = 1;
		t->next_instance = 1;
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

void sa_ike_free(struct sa_table *t, struct ike_sa *sa)
{
	for (size_t i = 0; i < t->n_ike; i++) {
		if (t->ike[i] != sa)
			continue;
		memmove(&t->ike[i], &t->ike[i + 1], (t->n_ike - i - 1) * sizeof(t->ike[0]));
		t->n_ike--;
		ike_release(sa);
		return;
	}
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
	for (size_t i = 0; i < t->n_child; i++) {
		if (t->child[i] != c)
			continue;
		memmove(&t->child[i], &t->child[i + 1],
			(t->n_child - i - 1) * sizeof(t->child[0]));
		t->n_child--;
		child_release(c);
		return;
	}
}

struct ike_sa *sa_ike_by_serial(const struct sa_table *t, uint32_t serial)
{
	for (size_t i = 0; i < t->n_ike; i++)
		if (t->ike[i]->serial == serial)
			return t->ike[i];
	return NULL;
}

struct child_sa *sa_child_by_serial(const struct sa_table *t, uint32_t serial)
{
	for (size_t i = 0; i < t->n_child; i++)
		if (t->child[i]->serial == serial)
			return t->child[i];
	return NULL;
}

struct ike_sa *sa_ike_by_spi(const struct sa_table *t, uint64_t spi_i, uint64_t spi_r,
			     bool we_initiated)
{
	for (size_t i = 0; i < t->n_ike; i++) {
		struct ike_sa *sa = t->ike[i];
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
	for (size_t i = 0; i < t->n_ike; i++) {
		struct ike_sa *sa = t->ike[i];
		if (!sa->initiator && sa->spi_i == spi_i && addr_eq(&sa->peer, peer) &&
		    sa->state != IKES_DEAD)
			return sa;
	}
	return NULL;
}

struct ike_sa *sa_ike_by_pair(const struct sa_table *t, const struct addr *local,
			      const struct addr *peer)
{
	for (size_t i = 0; i < t->n_ike; i++) {
		struct ike_sa *sa = t->ike[i];
		if (sa->state != IKES_DEAD && sa->state != IKES_DELETING &&
		    addr_eq(&sa->peer, peer) && addr_eq(&sa->local, local))
			return sa;
	}
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
