/* policy.c — groups, duplicate resolution, classification, reqids, reload diff, kernel
 * priorities. The group-file parser is policy_file.c; the trie is lpm.c.
 *
 * A set is built in three steps: groups are added in config order, their files are
 * parsed into one flat entries array (unsorted), and policy_finish sorts the array by key
 * (pfx, proto, lport, rport), keeps one entry per key, chains entries of the same prefix
 * with next_same and puts the first of each prefix into the family's trie. The array is
 * never reallocated after that, so the trie and the chains can point into it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpm.h"
#include "policy.h"

#define HOST_GROUP_NAME "(host)"
#define HOST_GROUP_FILE "(automatic)"

/* Loopback and link-local: always clear, like the host's own addresses. */
static const char *const automatic[] = { "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10" };

struct policy_set *policy_new(void)
{
	return calloc(1, sizeof(struct policy_set));
}

void policy_free(struct policy_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		free(s->groups[i].file);
	}
	free(s->groups);
	free(s->entries);
	free(s->by_reqid);
	lpm_free(s->lpm4);
	lpm_free(s->lpm6);
	lpm_free(s->host4);
	lpm_free(s->host6);
	free(s);
}

int policy_add_group(struct policy_set *s, const char *name, const char *file,
		     enum group_class cls, int conn)
{
	if (s->finished)
		return -EINVAL;
	struct pol_group *ng = realloc(s->groups, (s->n_groups + 1) * sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	s->groups = ng;
	struct pol_group *g = &ng[s->n_groups];
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	g->file = strdup(file);
	if (!g->name || !g->file) {
		free(g->name);
		free(g->file);
		return -ENOMEM;
	}
	g->cls = cls;
	g->conn = conn;
	return (int)s->n_groups++;
}

/* ---- keys and duplicates ---------------------------------------------------------- */

static int key_cmp(const struct pol_entry *x, const struct pol_entry *y)
{
	if (x->pfx.a.family != y->pfx.a.family)
		return x->pfx.a.family < y->pfx.a.family ? -1 : 1;
	int r = memcmp(x->pfx.a.b, y->pfx.a.b, 16);
	if (r)
		return r;
	if (x->pfx.len != y->pfx.len)
		return x->pfx.len < y->pfx.len ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	return 0;
}

static bool same_prefix(const struct pol_entry *x, const struct pol_entry *y)
{
	return x->pfx.len == y->pfx.len && x->pfx.a.family == y->pfx.a.family &&
	       memcmp(x->pfx.a.b, y->pfx.a.b, 16) == 0;
}

/* qsort over entries needs the groups for its tie-break; qsort_r carries them. */
static int entry_order(const void *a, const void *b, void *arg)
{
	const struct pol_entry *x = a, *y = b;
	const struct pol_group *g = arg;
	int r = key_cmp(x, y);
	if (r)
		return r;
	/* Equal keys: the winner sorts first. The host group, then the more restrictive
	 * class, then the group first in config order, then the earlier line. */
	const struct pol_group *gx = &g[x->group], *gy = &g[y->group];
	if ((gx->conn < 0) != (gy->conn < 0))
		return gx->conn < 0 ? -1 : 1;
	if (gx->cls != gy->cls)
		return gx->cls > gy->cls ? -1 : 1;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

static bool is_builtin(const struct prefix *p)
{
	for (size_t i = 0; i < sizeof(automatic) / sizeof(automatic[0]); i++) {
		struct prefix a;
		if (prefix_parse(automatic[i], &a, false, NULL) && prefix_cmp(&a, p) == 0)
			return true;
	}
	return false;
}

/* Report why loser is dropped in favour of win (they have the same key). */
static void report_dup(const struct policy_set *s, const struct pol_entry *win,
		       const struct pol_entry *lose, bool strict, struct diag *d)
{
	const struct pol_group *gw = policy_group(s, win), *gl = policy_group(s, lose);
	char e[POL_ENTRY_STRLEN];
	policy_entry_str(lose, e);
	if (gl->conn < 0)
		return;                    /* a host address listed twice, or one that is loopback */
	if (gw->conn < 0) {
		diag_report(d, DIAG_WARN, lose->file, lose->line,
			    is_builtin(&win->pfx) ? "%s is loopback or link-local; it is always clear"
						  : "%s is this host's own address; it is always clear", e);
		return;
	}
	if (win->group == lose->group) {
		diag_report(d, DIAG_WARN, lose->file, lose->line,
			    "%s is listed twice in this group (first at line %u); ignored",
			    e, win->line);
		return;
	}
	if (gw->cls != gl->cls)
		diag_report(d, strict ? DIAG_ERR : DIAG_WARN, lose->file, lose->line,
			    "%s is also in group %s at %s:%u; the more restrictive group %s (%s) wins",
			    e, gw->name, win->file, win->line, gw->name, group_class_name(gw->cls));
	else
		diag_report(d, strict ? DIAG_ERR : DIAG_WARN, lose->file, lose->line,
			    "%s is also in group %s at %s:%u; both are %s, the group first in the configuration (%s) wins",
			    e, gw->name, win->file, win->line, group_class_name(gw->cls), gw->name);
}

static int add_host_entries(struct policy_set *s, const struct host_addrs *host)
{
	int g = policy_add_group(s, HOST_GROUP_NAME, HOST_GROUP_FILE, GC_CLEAR, -1);
	if (g < 0)
		return g;
	size_t n_auto = sizeof(automatic) / sizeof(automatic[0]);
	size_t n_host = host ? host->n : 0;
	for (size_t i = 0; i < n_auto + n_host; i++) {
		struct prefix p;
		if (i < n_auto) {
			if (!prefix_parse(automatic[i], &p, false, NULL))
				continue;
		} else {
			const struct addr *a = &host->a[i - n_auto];
			if (a->family != AF_INET && a->family != AF_INET6)
				continue;
			prefix_host(a, &p);
		}
		struct pol_entry *e = policy_entry_append(s);
		if (!e)
			return -ENOMEM;
		e->pfx = p;
		e->group = (unsigned)g;
		e->file = s->groups[g].file;
	}
	return 0;
}

static int build_tries(struct policy_set *s)
{
	if (!(s->lpm4 = lpm_new(AF_INET)) || !(s->lpm6 = lpm_new(AF_INET6)) ||
	    !(s->host4 = lpm_new(AF_INET)) || !(s->host6 = lpm_new(AF_INET6)))
		return -ENOMEM;
	struct pol_entry *head = NULL;
	for (size_t i = 0; i < s->n_entries; i++) {
		struct pol_entry *e = &s->entries[i];
		e->next_same = NULL;
		bool v6 = e->pfx.a.family == AF_INET6;
		if (head && same_prefix(head, e)) {
			s->entries[i - 1].next_same = e;
		} else {
			head = e;
			int rc = lpm_insert(v6 ? s->lpm6 : s->lpm4, &e->pfx, e);
			if (rc)
				return rc;
		}
		if (policy_is_host(s, e)) {
			int rc = lpm_insert(v6 ? s->host6 : s->host4, &e->pfx, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int policy_finish(struct policy_set *s, const struct host_addrs *host, bool strict,
		  struct diag *d)
{
	struct diag dummy = { 0 };
	if (!d)
		d = &dummy;
	if (s->finished)
		return -EINVAL;
	int rc = add_host_entries(s, host);
	if (rc)
		return rc;
	s->finished = true;
	qsort_r(s->entries, s->n_entries, sizeof(*s->entries), entry_order, s->groups);

	/* keep the first of each run of equal keys */
	size_t out = 0;
	for (size_t i = 0; i < s->n_entries; i++) {
		struct pol_entry *e = &s->entries[i];
		if (out && key_cmp(&s->entries[out - 1], e) == 0) {
			report_dup(s, &s->entries[out - 1], e, strict, d);
			continue;
		}
		if (out != i)
			s->entries[out] = *e;
		out++;
	}
	s->n_entries = out;
	for (size_t i = 0; i < s->n_groups; i++)
		s->groups[i].n_entries = 0;
	for (size_t i = 0; i < s->n_entries; i++)
		s->groups[s->entries[i].group].n_entries++;
	return build_tries(s);
}

struct policy_set *policy_load(const struct conf *c, const char *dir,
			       const struct host_addrs *host, bool strict, struct diag *d)
{
	struct diag dummy = { 0 };
	if (!d)
		d = &dummy;
	struct policy_set *s = policy_new();
	if (!s)
		return NULL;
	if (!dir)
		dir = c->setup.policies_dir ? c->setup.policies_dir : CONF_DEFAULT_POLICIES;
	for (size_t i = 0; i < c->n_conns; i++) {
		const struct conf_conn *cc = &c->conns[i];
		enum group_class cls = conf_conn_class(cc);
		if (cls == GC_NONE)
			continue;
		size_t n = strlen(dir) + strlen(cc->name) + 2;
		char *path = malloc(n);
		if (!path)
			goto fail;
		snprintf(path, n, "%s/%s", dir, cc->name);
		int g = policy_add_group(s, cc->name, path, cls, (int)i);
		free(path);
		if (g < 0)
			goto fail;
		(void)policy_read_file(s, (unsigned)g, d);   /* reported; the group stays empty */
	}
	if (policy_finish(s, host, strict, d) == 0)
		return s;
fail:
	policy_free(s);
	return NULL;
}

/* ---- classification --------------------------------------------------------------- */

/* How specific an entry's selector is beyond its prefix: 4 for a protocol, 2 for a local
 * port, 1 for a remote port. Ordered exactly like policy_priority's middle field. */
static unsigned specificity(const struct pol_entry *e)
{
	return (e->proto ? 4u : 0u) | (e->lport ? 2u : 0u) | (e->rport ? 1u : 0u);
}

struct classify_q {
	uint8_t proto;
	uint16_t lport, rport;
	const struct pol_entry *best;
};

/* An entry without protocol matches everything. One with a protocol (and ports) matches
 * only a query with that protocol (and those ports): a query with proto 0 ("unknown")
 * matches wildcard entries only, and so does a port 0 against a port-specific entry. */
static bool level_match(void *v, unsigned len, void *arg)
{
	struct classify_q *q = arg;
	for (const struct pol_entry *e = v; e; e = e->next_same) {
		if (e->proto && (e->proto != q->proto || (e->lport && e->lport != q->lport) ||
				 (e->rport && e->rport != q->rport)))
			continue;
		if (!q->best || specificity(e) > specificity(q->best))
			q->best = e;
	}
	return q->best != NULL;
}

const struct pol_entry *policy_classify(const struct policy_set *s, const struct addr *peer,
					uint8_t proto, uint16_t lport, uint16_t rport)
{
	if (!s || !s->finished)
		return NULL;
	bool v6 = peer->family == AF_INET6;
	const struct pol_entry *h = lpm_lookup(v6 ? s->host6 : s->host4, peer, NULL);
	if (h)
		return h;
	struct classify_q q = { proto, lport, rport, NULL };
	lpm_walk_up(v6 ? s->lpm6 : s->lpm4, peer, level_match, &q);
	return q.best;
}

struct classify_oe_q {
	const struct policy_set *s;
	const struct pol_entry *best;
};

static bool is_oe(enum group_class c)
{
	return c == GC_OE_RESPOND || c == GC_OE_PASS || c == GC_OE_DROP;
}

/* At the longest prefix with an OE entry: its wildcard entry, else its first one. */
static bool level_oe(void *v, unsigned len, void *arg)
{
	struct classify_oe_q *q = arg;
	for (const struct pol_entry *e = v; e; e = e->next_same) {
		if (!is_oe(policy_group(q->s, e)->cls))
			continue;
		if (e->proto == 0) {
			q->best = e;
			return true;
		}
		if (!q->best)
			q->best = e;
	}
	return q->best != NULL;
}

const struct pol_entry *policy_classify_oe(const struct policy_set *s, const struct addr *peer)
{
	if (!s || !s->finished)
		return NULL;
	struct classify_oe_q q = { s, NULL };
	lpm_walk_up(peer->family == AF_INET6 ? s->lpm6 : s->lpm4, peer, level_oe, &q);
	return q.best;
}

/* ---- reqids and diff -------------------------------------------------------------- */

/* For every group of b, the index of the group of a with the same name and class, or
 * (unsigned)-1. NULL on ENOMEM: callers then compare names directly. */
static unsigned *group_map(const struct policy_set *a, const struct policy_set *b)
{
	unsigned *map = malloc((b->n_groups ? b->n_groups : 1) * sizeof(*map));
	if (!map)
		return NULL;
	for (size_t i = 0; i < b->n_groups; i++) {
		map[i] = (unsigned)-1;
		for (size_t j = 0; j < a->n_groups; j++)
			if (a->groups[j].cls == b->groups[i].cls &&
			    strcmp(a->groups[j].name, b->groups[i].name) == 0) {
				map[i] = (unsigned)j;
				break;
			}
	}
	return map;
}

static bool same_group(const struct policy_set *a, const struct pol_entry *ea,
		       const struct policy_set *b, const struct pol_entry *eb, const unsigned *map)
{
	if (map)
		return map[eb->group] == ea->group;
	const struct pol_group *ga = policy_group(a, ea), *gb = policy_group(b, eb);
	return ga->cls == gb->cls && strcmp(ga->name, gb->name) == 0;
}

static size_t reqid_slot(uint32_t reqid, size_t cap)
{
	return (size_t)(reqid * 2654435761u) & (cap - 1);
}

static bool index_put(struct policy_set *s, struct pol_entry *e)
{
	for (size_t i = reqid_slot(e->reqid, s->by_reqid_cap);; i = (i + 1) & (s->by_reqid_cap - 1)) {
		if (!s->by_reqid[i]) {
			s->by_reqid[i] = e;
			return true;
		}
		if (s->by_reqid[i]->reqid == e->reqid)
			return false;
	}
}

const struct pol_entry *policy_by_reqid(const struct policy_set *s, uint32_t reqid)
{
	if (!s || reqid == 0)
		return NULL;
	if (!s->by_reqid) {   /* no index (ENOMEM when it was built): scan */
		for (size_t i = 0; i < s->n_entries; i++)
			if (s->entries[i].reqid == reqid)
				return &s->entries[i];
		return NULL;
	}
	for (size_t i = reqid_slot(reqid, s->by_reqid_cap);; i = (i + 1) & (s->by_reqid_cap - 1)) {
		if (!s->by_reqid[i])
			return NULL;
		if (s->by_reqid[i]->reqid == reqid)
			return s->by_reqid[i];
	}
}

static uint32_t fresh_reqid(struct policy_set *s, uint32_t *next)
{
	for (;;) {
		uint32_t r = (*next)++;
		if (r == 0)
			continue;
		if (!s->by_reqid || !policy_by_reqid(s, r))
			return r;
	}
}

void policy_assign_reqids(struct policy_set *new_set, const struct policy_set *old,
			  uint32_t *next)
{
	struct policy_set *s = new_set;
	free(s->by_reqid);
	s->by_reqid = NULL;
	s->by_reqid_cap = 0;
	size_t cap = 16;
	while (cap < 2 * s->n_entries)
		cap *= 2;
	s->by_reqid = calloc(cap, sizeof(*s->by_reqid));
	if (s->by_reqid)
		s->by_reqid_cap = cap;

	/* pass 1: entries whose key and group survived keep their reqid */
	unsigned *map = old ? group_map(old, s) : NULL;
	size_t i = 0, j = 0;
	for (j = 0; j < s->n_entries; j++)
		s->entries[j].reqid = 0;
	for (j = 0; old && i < old->n_entries && j < s->n_entries;) {
		const struct pol_entry *o = &old->entries[i];
		struct pol_entry *n = &s->entries[j];
		int c = key_cmp(o, n);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			if (o->reqid && same_group(old, o, s, n, map)) {
				n->reqid = o->reqid;
				if (s->by_reqid && !index_put(s, n))
					n->reqid = 0;   /* cannot happen with a sane old set */
			}
			i++;
			j++;
		}
	}
	free(map);
	/* pass 2: fresh reqids for the rest, never 0 and never one already in use */
	for (j = 0; j < s->n_entries; j++) {
		struct pol_entry *n = &s->entries[j];
		if (n->reqid)
			continue;
		n->reqid = fresh_reqid(s, next);
		if (s->by_reqid)
			index_put(s, n);
	}
}

void policy_diff(const struct policy_set *old, const struct policy_set *new_set,
		 void (*fn)(const struct pol_entry *o, const struct pol_entry *n, void *arg),
		 void *arg)
{
	size_t no = old ? old->n_entries : 0, nn = new_set ? new_set->n_entries : 0;
	unsigned *map = old && new_set ? group_map(old, new_set) : NULL;
	size_t i = 0, j = 0;
	while (i < no || j < nn) {
		int c = i == no ? 1 : j == nn ? -1 : key_cmp(&old->entries[i], &new_set->entries[j]);
		if (c < 0) {
			fn(&old->entries[i++], NULL, arg);
		} else if (c > 0) {
			fn(NULL, &new_set->entries[j++], arg);
		} else {
			const struct pol_entry *o = &old->entries[i++], *n = &new_set->entries[j++];
			if (!same_group(old, o, new_set, n, map))
				fn(o, n, arg);
		}
	}
	free(map);
}

/* ---- kernel priorities ------------------------------------------------------------ */

/* prio = POLICY_PRIO_BASE
 *      + (host_group ? 0 : 1)                 << 22    the automatic entries first
 *      + (family bits - peer prefix length)   << 14    8 bits: longer peer prefix wins
 *      + (7 - specificity)                    << 11    3 bits: proto 4, lport 2, rport 1
 *      + (family bits - local prefix length)  << 3     8 bits: local /32 beats wildcard
 * Every field is smaller than the weight of the field above it, so each rule dominates
 * all those after it; the largest value is BASE + 0x7fffff, inside the band. The low 3
 * bits stay 0 for callers that need to order policies with identical selectors. */
uint32_t policy_priority(unsigned family, unsigned peer_len, uint8_t proto, uint16_t lport,
			 uint16_t rport, unsigned local_len, bool host_group)
{
	unsigned bits = addr_bits((int)family);
	unsigned pd = bits - (peer_len < bits ? peer_len : bits);
	unsigned ld = bits - (local_len < bits ? local_len : bits);
	unsigned spec = proto ? 4u | (lport ? 2u : 0u) | (rport ? 1u : 0u) : 0u;
	return POLICY_PRIO_BASE + ((host_group ? 0u : 1u) << 22) + (pd << 14) +
	       ((7u - spec) << 11) + (ld << 3);
}

uint32_t policy_entry_priority(const struct policy_set *s, const struct pol_entry *e)
{
	return policy_priority(e->pfx.a.family, e->pfx.len, e->proto, e->lport, e->rport, 0,
			       policy_is_host(s, e));
}
