/* shunt.c — negotiation and failure shunts with reasons and lifetimes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "shunt.h"

struct shunts {
	struct kernel *k;
	struct log *log;
	struct shunt *v;             /* unordered; lookups are linear (see shunt_find) */
	size_t n, cap;
	uint32_t next_serial;
};

struct shunts *shunts_new(struct kernel *k, struct log *log)
{
	struct shunts *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->k = k;
	s->log = log;
	s->next_serial = 1;
	return s;
}

void shunts_free(struct shunts *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

void shunt_kpolicy(const struct shunt *sh, struct kpolicy *out)
{
	unsigned bits = addr_bits(sh->peer.family);
	memset(out, 0, sizeof(*out));
	prefix_host(&sh->local, &out->sel.src);
	prefix_host(&sh->peer, &out->sel.dst);
	out->sel.proto = sh->proto;
	out->sel.sport = sh->lport;
	out->sel.dport = sh->rport;
	out->dir = KDIR_OUT;
	out->act = sh->action == SHUNT_DROP ? KACT_BLOCK : KACT_PASS;
	out->priority = policy_priority(sh->peer.family, bits, sh->proto, sh->lport, sh->rport,
					bits, false);
}

/* A linear scan: shunts exist only for peers that are negotiating or failed recently,
 * a few thousand at most in a large fleet, and every lookup follows a kernel event. */
static ssize_t find(const struct shunts *s, const struct addr *local, const struct addr *peer)
{
	for (size_t i = 0; i < s->n; i++)
		if (addr_eq(&s->v[i].peer, peer) && addr_eq(&s->v[i].local, local))
			return (ssize_t)i;
	return -1;
}

const struct shunt *shunt_find(const struct shunts *s, const struct addr *local,
			       const struct addr *peer)
{
	ssize_t i = find(s, local, peer);
	return i < 0 ? NULL : &s->v[i];
}

const struct shunt *shunt_find_peer(const struct shunts *s, const struct addr *peer)
{
	for (size_t i = 0; i < s->n; i++)
		if (addr_eq(&s->v[i].peer, peer))
			return &s->v[i];
	return NULL;
}

static void kernel_err(size_t i, int err, void *arg)
{
	(void)i;
	*(int *)arg = err;
}

static void remove_at(struct shunts *s, size_t i)
{
	struct kpolicy kp;
	int err = 0;
	shunt_kpolicy(&s->v[i], &kp);
	s->k->ops->policy_del(s->k, &kp, 1, kernel_err, &err);
	if (err) {
		char a[ADDR_STRLEN];
		log_err(s->log, "kernel refused to delete the shunt toward %s: %s",
			addr_str(&s->v[i].peer, a), strerror(-err));
	}
	s->v[i] = s->v[--s->n];
}

const struct shunt *shunt_set(struct shunts *s, const struct addr *local, const struct addr *peer,
			      uint8_t proto, uint16_t lport, uint16_t rport, enum shunt_kind kind,
			      enum shunt_action action, const char *group, const char *reason,
			      uint64_t now_ms, uint64_t lifetime_ms)
{
	ssize_t at = find(s, local, peer);
	if (action != SHUNT_PASS && action != SHUNT_DROP) {
		if (at >= 0)
			remove_at(s, (size_t)at);
		return NULL;
	}
	struct shunt sh = {
		.local = *local, .peer = *peer, .proto = proto, .lport = lport, .rport = rport,
		.kind = kind, .action = action, .created_ms = now_ms,
		.expires_ms = lifetime_ms ? now_ms + lifetime_ms : 0,
		.created_wall = time(NULL),
	};
	snprintf(sh.group, sizeof(sh.group), "%s", group ? group : "");
	snprintf(sh.reason, sizeof(sh.reason), "%s", reason ? reason : "");
	if (at >= 0) {
		/* a different protocol/port selector means a different kernel policy */
		struct shunt *old = &s->v[at];
		if (old->proto != proto || old->lport != lport || old->rport != rport) {
			remove_at(s, (size_t)at);
			at = -1;
		} else {
			sh.serial = old->serial;
		}
	}
	struct kpolicy kp;
	int err = 0;
	shunt_kpolicy(&sh, &kp);
	s->k->ops->policy_put(s->k, &kp, 1, kernel_err, &err);
	if (err) {
		char a[ADDR_STRLEN];
		log_err(s->log, "kernel refused the %s shunt toward %s: %s",
			shunt_action_name(action), addr_str(peer, a), strerror(-err));
		if (at >= 0)
			s->v[at] = s->v[--s->n];   /* UPDPOLICY failed: old state is unknown */
		return NULL;
	}
	if (at >= 0) {
		s->v[at] = sh;
		return &s->v[at];
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct shunt *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			s->k->ops->policy_del(s->k, &kp, 1, NULL, NULL);
			return NULL;
		}
		s->v = nv;
		s->cap = cap;
	}
	sh.serial = s->next_serial++;
	s->v[s->n] = sh;
	return &s->v[s->n++];
}

int shunt_del(struct shunts *s, const struct addr *local, const struct addr *peer)
{
	ssize_t at = find(s, local, peer);
	if (at < 0)
		return -ENOENT;
	remove_at(s, (size_t)at);
	return 0;
}

int shunt_forget(struct shunts *s, const struct addr *local, const struct addr *peer)
{
	ssize_t at = find(s, local, peer);
	if (at < 0)
		return -ENOENT;
	s->v[at] = s->v[--s->n];
	return 0;
}

size_t shunts_sweep(struct shunts *s, uint64_t now_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n;) {
		if (s->v[i].expires_ms && s->v[i].expires_ms <= now_ms) {
			char a[ADDR_STRLEN];
			log_info(s->log, "%s shunt toward %s expired (%s); the next packet retries",
				 shunt_action_name(s->v[i].action), addr_str(&s->v[i].peer, a),
				 s->v[i].reason);
			remove_at(s, i);
			n++;
			continue;
		}
		i++;
	}
	return n;
}

void shunts_clear(struct shunts *s)
{
	while (s->n)
		remove_at(s, s->n - 1);
}

size_t shunts_filter(struct shunts *s, bool (*keep)(const struct shunt *sh, void *arg), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n;) {
		if (!keep(&s->v[i], arg)) {
			remove_at(s, i);
			n++;
			continue;
		}
		i++;
	}
	return n;
}

size_t shunts_count(const struct shunts *s)
{
	return s->n;
}

const struct shunt *shunts_at(const struct shunts *s, size_t i)
{
	return i < s->n ? &s->v[i] : NULL;
}
