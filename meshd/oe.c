/* oe.c — ACQUIRE handling and the fate of one opportunistic attempt. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "ike.h"
#include "oe.h"
#include "shunt.h"

struct peers {
	struct peer_diag *v;
	size_t n, max;
};

struct peers *peers_new(size_t max)
{
	struct peers *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->max = max ? max : 1;
	return p;
}

void peers_free(struct peers *p)
{
	if (!p)
		return;
	free(p->v);
	free(p);
}

const struct peer_diag *peers_find(const struct peers *p, const struct addr *peer)
{
	for (size_t i = 0; i < p->n; i++)
		if (addr_eq(&p->v[i].peer, peer))
			return &p->v[i];
	return NULL;
}

/* The record for peer, created if needed; when full, the least recently attempted one
 * is reused, so memory stays bounded whatever the traffic. */
static struct peer_diag *peer_get(struct peers *p, const struct addr *peer)
{
	struct peer_diag *d = (struct peer_diag *)peers_find(p, peer);
	if (d)
		return d;
	if (p->n < p->max) {
		struct peer_diag *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
		if (nv) {
			p->v = nv;
			d = &p->v[p->n++];
		}
	}
	if (!d) {
		if (!p->n)
			return NULL;
		d = &p->v[0];
		for (size_t i = 1; i < p->n; i++)
			if (p->v[i].last_attempt < d->last_attempt)
				d = &p->v[i];
	}
	memset(d, 0, sizeof(*d));
	d->peer = *peer;
	return d;
}

/* Log a note about a peer once (until the note changes), not for every packet. */
static void note_vonce(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt,
		       va_list ap) __attribute__((format(printf, 3, 0)));
static void note_vonce(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt,
		       va_list ap)
{
	char msg[PEER_REASON_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct peer_diag *d = peer_get(ctx->peers, peer);
	if (d && strcmp(d->last_note, msg) == 0)
		return;
	if (d)
		snprintf(d->last_note, sizeof(d->last_note), "%s", msg);
	log_info(&ctx->log, "%s", msg);
}

static void note_once(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_once(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note_vonce(ctx, peer, fmt, ap);
	va_end(ap);
}

void oe_note(struct meshd_ctx *ctx, const struct addr *peer, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note_vonce(ctx, peer, fmt, ap);
	va_end(ap);
}

static bool is_host_addr(const struct meshd_ctx *ctx, const struct addr *a)
{
	for (size_t i = 0; i < ctx->host.n; i++)
		if (addr_eq(&ctx->host.a[i], a))
			return true;
	return false;
}

static const struct conf_conn *entry_conn(const struct meshd_ctx *ctx, const struct pol_entry *e)
{
	const struct pol_group *g = policy_group(ctx->pol, e);
	return g->conn >= 0 && (size_t)g->conn < ctx->conf->n_conns ? &ctx->conf->conns[g->conn]
								   : NULL;
}

/* Hand the pair to the IKE initiator. Returns 0 when an exchange was started, or -errno
 * with *why set when it could not be. */
static int ike_start(struct meshd_ctx *ctx, const struct addr *local, const struct addr *peer,
		     const struct pol_entry *e, uint32_t acq_seq, const char **why)
{
	if (!ctx->ike) {
		*why = "IKE engine not running";
		return -ENOSYS;
	}
	return ike_initiate(ctx->ike, local, peer, e, acq_seq, why);
}

/* A pair with an IKE SA (negotiating or up) or a shunt (negotiating or failed) starts
 * nothing more. */
static bool pair_busy(const struct meshd_ctx *ctx, const struct addr *local,
		      const struct addr *peer)
{
	return shunt_find(ctx->shunts, local, peer) ||
	       (ctx->ike && ike_pair_active(ctx->ike, local, peer));
}

/* One OE attempt local -> peer under entry e (DESIGN.md 2.2 steps 3-5): the negotiation
 * shunt, then IKE. seq: the ACQUIRE's (0 = none); how: what started it, for the log. */
static void oe_start(struct meshd_ctx *ctx, const struct addr *local, const struct addr *peer,
		     const struct pol_entry *e, uint32_t seq, const char *how)
{
	char ps[ADDR_STRLEN], ls[ADDR_STRLEN], pfx[PREFIX_STRLEN];
	addr_str(peer, ps);
	addr_str(local, ls);
	const struct pol_group *g = policy_group(ctx->pol, e);
	const struct conf_conn *cc = entry_conn(ctx, e);
	uint64_t now = loop_now_ms(ctx->loop);
	struct peer_diag *d = peer_get(ctx->peers, peer);
	if (d) {
		d->last_attempt = time(NULL);
		d->attempts++;
	}
	ctx->stats.attempts++;
	log_info(&ctx->log, "\"%s#%s\" %s -> %s: initiate on-demand%s (%s:%u)", g->name,
		 prefix_str(&e->pfx, pfx), ls, ps, how, e->file, e->line);

	/* the negotiation shunt has a safety lifetime: retransmit budget plus a margin, in
	 * case the attempt is never concluded */
	uint64_t guard = (cc ? cc->retransmit_timeout_ms : 10000) + 5000;
	enum shunt_action na = cc ? cc->negotiationshunt : SHUNT_DROP;
	if (!shunt_set(ctx->shunts, local, peer, e->proto, e->lport, e->rport, SHUNT_NEGOTIATING,
		       na == SHUNT_PASS ? SHUNT_PASS : SHUNT_DROP, g->name, "oe-negotiating", now,
		       guard)) {
		oe_failed(ctx, local, peer, "kernel refused the negotiation shunt");
		return;
	}
	const char *why = NULL;
	int r = ike_start(ctx, local, peer, e, seq, &why);
	if (r < 0 && r != -EALREADY)
		oe_failed(ctx, local, peer, why ? why : "IKE could not start");
}

void oe_acquire(struct meshd_ctx *ctx, const struct kacquire *acq)
{
	const struct addr *local = &acq->sel.src.a, *peer = &acq->sel.dst.a;
	char ps[ADDR_STRLEN], ls[ADDR_STRLEN];
	addr_str(peer, ps);
	addr_str(local, ls);
	ctx->stats.acquires++;

	if (addr_eq(local, peer) || is_host_addr(ctx, peer)) {
		ctx->stats.acquires_ignored++;
		note_once(ctx, peer, "ACQUIRE for our own address %s ignored", ps);
		return;
	}
	const struct pol_entry *e = policy_classify(ctx->pol, peer, acq->sel.proto,
						    acq->sel.sport, acq->sel.dport);
	const struct pol_group *g = e ? policy_group(ctx->pol, e) : NULL;
	if (!g || (g->cls != GC_OE_PASS && g->cls != GC_OE_DROP)) {
		ctx->stats.acquires_ignored++;
		note_once(ctx, peer, "ACQUIRE %s -> %s: %s", ls, ps,
			  g ? "the most specific entry does not negotiate"
			    : "no group covers it (stale kernel policy?)");
		return;
	}
	/* Parallel ACQUIREs for a pair already negotiating or shunted are expected
	 * (other flows, other protocols): ignore them. */
	if (pair_busy(ctx, local, peer)) {
		ctx->stats.acquires_ignored++;
		return;
	}
	oe_start(ctx, local, peer, e, acq->seq, "");
}

/* Dropped inbound cleartext (nft_log.h). The peer sent us cleartext, so it is there and
 * waits for an answer; Libreswan's answer would hit its trap and start IKE (libreswan-oe.md
 * 7.2), ours is never made (the packet is dropped), so IKE starts as that ACQUIRE would:
 * same entry, same shunts. Bounded: the kernel's rate limit on the log rule; one attempt
 * per peer while an IKE SA, a negotiation or a failure shunt exists (a failure waits out
 * shuntlifetime, as for outbound traffic); none while ddos-ike-threshold IKE SAs are
 * half-open, so a spoofed flood starts few negotiations and they time out. */
void oe_inbound(struct meshd_ctx *ctx, const struct kacquire *acq)
{
	const struct addr *local = &acq->sel.src.a, *peer = &acq->sel.dst.a;
	char ps[ADDR_STRLEN], ls[ADDR_STRLEN];
	addr_str(peer, ps);
	addr_str(local, ls);
	ctx->stats.inbound_triggers++;
	/* to a broadcast or multicast address, or from ourselves: nothing to answer */
	if (!is_host_addr(ctx, local) || addr_eq(local, peer) || is_host_addr(ctx, peer)) {
		ctx->stats.inbound_ignored++;
		return;
	}
	const struct pol_entry *e = policy_classify(ctx->pol, peer, acq->sel.proto,
						    acq->sel.sport, acq->sel.dport);
	const struct pol_group *g = e ? policy_group(ctx->pol, e) : NULL;
	if (!g || (g->cls != GC_OE_PASS && g->cls != GC_OE_DROP) || pair_busy(ctx, local, peer)) {
		ctx->stats.inbound_ignored++;
		return;
	}
	struct ike_counts ic = { 0 };
	if (ctx->ike)
		ike_counts(ctx->ike, &ic);
	if (ic.ike_half_open >= ctx->conf->setup.ddos_ike_threshold) {
		ctx->stats.inbound_ignored++;
		note_once(ctx, peer, "cleartext from %s dropped; not initiating to it while %zu "
			  "IKE SAs are half-open (ddos-ike-threshold)", ps, ic.ike_half_open);
		return;
	}
	note_once(ctx, peer, "cleartext from %s to %s dropped (group %s): initiating to it",
		  ps, ls, g->name);
	oe_start(ctx, local, peer, e, 0, " for dropped inbound cleartext");
}

void oe_failed(struct meshd_ctx *ctx, const struct addr *local, const struct addr *peer,
	       const char *reason)
{
	char ps[ADDR_STRLEN];
	addr_str(peer, ps);
	ctx->stats.failures++;
	struct peer_diag *d = peer_get(ctx->peers, peer);
	if (d) {
		d->last_failure = time(NULL);
		d->failures++;
		snprintf(d->last_reason, sizeof(d->last_reason), "%s", reason);
	}
	const struct pol_entry *e = policy_classify(ctx->pol, peer, 0, 0, 0);
	const struct shunt *cur = shunt_find(ctx->shunts, local, peer);
	uint8_t proto = cur ? cur->proto : 0;
	uint16_t lport = cur ? cur->lport : 0, rport = cur ? cur->rport : 0;
	if (cur) {
		const struct pol_entry *ce = policy_classify(ctx->pol, peer, proto, lport, rport);
		if (ce)
			e = ce;
	}
	const struct pol_group *g = e ? policy_group(ctx->pol, e) : NULL;
	const struct conf_conn *cc = e ? entry_conn(ctx, e) : NULL;
	enum shunt_action fa = cc ? cc->failureshunt : SHUNT_NONE;
	if (fa != SHUNT_PASS && fa != SHUNT_DROP) {
		shunt_del(ctx->shunts, local, peer);
		log_info(&ctx->log, "OE to %s failed: %s; no failure shunt, the trap is back", ps,
			 reason);
		return;
	}
	uint64_t life = (uint64_t)ctx->conf->setup.shuntlifetime_s * 1000;
	if (!shunt_set(ctx->shunts, local, peer, proto, lport, rport, SHUNT_FAILED, fa,
		       g ? g->name : "", reason, loop_now_ms(ctx->loop), life)) {
		log_err(&ctx->log, "OE to %s failed: %s; and the failure shunt could not be set", ps,
			reason);
		return;
	}
	log_info(&ctx->log, "OE to %s failed: %s; %s for %us (%s)", ps, reason,
		 fa == SHUNT_PASS ? "cleartext allowed" : "traffic dropped",
		 ctx->conf->setup.shuntlifetime_s, g ? g->name : "?");
}
