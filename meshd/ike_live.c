/* ike_live.c — the life of an established IKE SA beyond its exchanges: liveness checks
 * (dpddelay=, RFC 7296 §2.4), INITIAL_CONTACT after a peer restarted (§2.4), and which IKE
 * SA carries a host pair when there are two of them (crossing streams).
 *
 * Liveness. With dpddelay= set, an established IKE SA notes when it last heard from the
 * peer: any authentic IKE message, or a rise of its Child SAs' inbound ESP bytes (kernel
 * counters, read when the timer fires). Idle for dpddelay, it sends an empty
 * INFORMATIONAL request; it is retransmitted as usual, but only for dpdtimeout (the
 * retransmit budget when dpdtimeout= is 0). No answer: the peer is dead, every
 * established IKE SA with it is deleted locally (nothing is sent) with its Child SAs'
 * kernel state, and no failure shunt is put: the group's trap shows through again, so the
 * next packet negotiates anew.
 *
 * Replacement. A peer that restarted has lost its SAs while we keep ours: the first new IKE
 * SA it makes with us replaces them. We mark our IKE_AUTH request with INITIAL_CONTACT when
 * we hold no other IKE SA with that peer (always so after our own start). On receipt,
 * once the peer authenticated, every IKE SA with that peer that was already established
 * before the new one began goes away silently (the peer rebooted: a Delete would only meet
 * an unknown SPI), provided it authenticated the same identity or was NULL-authenticated:
 * a NULL-authenticated SA never replaces an authenticated one (ike_auth.c refuses it,
 * libreswan-oe.md §4.1), and NULL replaces NULL only for the same address (we only look at
 * the same address). Without INITIAL_CONTACT the peer held another IKE SA with us when
 * it sent IKE_AUTH, so the two are treated as crossing streams (below): our view of which
 * began first can differ from the peer's when datagrams were lost or late. The old SA is
 * then asked with a liveness check: a peer that lost it (an implementation that never
 * sends INITIAL_CONTACT) cannot answer, and that SA alone goes.
 *
 * Crossing streams (DESIGN.md §2.2 item 6; Libreswan #1903, #2184, #1635). Two hosts whose
 * packets trigger each other at the same moment both initiate, and both answer the other:
 * two IKE SAs with one Child SA each, negotiated at the same time (each began before the
 * other was up: what tells them apart from a stale SA above). The kernel has one policy
 * per selector and direction, so only one Child SA can be in use, and the two ends must
 * pick the same one without talking about it: both keep the IKE SA that the host with the
 * numerically lower address initiated (the lower initiator SPI if one host began both).
 * The winner's Child SA takes the policies over (in place, ike_child.c); if one host began
 * both, it deletes the loser at once with an ordinary INFORMATIONAL Delete. The rule holds
 * under loss and reordering because it needs nothing but what each end already has: if
 * one of the two negotiations never completes, there is nothing to choose, and the one
 * that did complete stays (a failed attempt does not put a failure shunt over a pair
 * another IKE SA carries: exchange.c).
 *
 * A peer may follow another rule. Libreswan 4.10 keeps the Child SA that was established
 * last on its side, drops the other one (and an initiator still in IKE_AUTH whose
 * connection got a responder IKE SA: "IKE SA was superseded") and sends no Delete for
 * either. So when each end began one of the two, the loser is watched (T_CROSS) rather
 * than deleted at once, and what the peer does decides: its ESP is the evidence. From
 * CROSS_LOOK_MS on, once a second: inbound ESP on the winner's Child SA means the peer
 * uses the winner, and the loser is deleted (by us at once if we began it; if the peer
 * began it, it was to delete it: we do after CROSS_WAIT_MS); ESP on the loser's Child SA
 * and none on the winner's means the peer kept the loser: it takes the policies back and
 * the winner is deleted instead. So is the winner when the loser is ours and came up
 * after it: the peer answered it last, so a peer that keeps the newest Child SA routes
 * through it even when its kernel sends through the other SA of the same reqid (added
 * in the same second), and our Delete would take the peer's route away. Without any evidence by CROSS_WAIT_MS the rule stands
 * (the initiator of the loser deletes it then; the other end waits CROSS_WAIT_MS more).
 * Two meshd end the same way as before: the peer's ESP goes through the winner, which it
 * took at the same moment. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_emit.h"

static bool same_pair(const struct ike_sa *a, const struct ike_sa *b)
{
	return addr_eq(&a->local, &b->local) && addr_eq(&a->peer, &b->peer);
}

/* The IKE SAs with sa's peer address, in serial order (sa.c's index): o is NULL at the
 * end. The loop restarts from o's serial, so the body may free o. */
#define FOR_PEER(ike, sa, o) \
	for (uint32_t o##_s = 0; \
	     ((o) = sa_ike_peer_next((ike)->sas, &(sa)->peer, o##_s)) && (o##_s = (o)->serial, 1);)

static bool is_up(const struct ike_sa *o)
{
	return o->state == IKES_ESTABLISHED && o->child_up && o->up_serial;
}

bool live_initial_contact(const struct ike *ike, const struct ike_sa *sa)
{
	struct ike_sa *o;
	FOR_PEER(ike, sa, o)
		if (o != sa)
			return false;
	return true;
}

uint32_t live_pair_carried(const struct ike *ike, const struct ike_sa *sa)
{
	struct ike_sa *o;
	FOR_PEER(ike, sa, o)
		if (o != sa && same_pair(o, sa) && o->state == IKES_ESTABLISHED && o->child_up)
			return o->serial;
	return 0;
}

/* o was established before sa began: sa replaces it. */
static bool stale(const struct ike_sa *o, const struct ike_sa *sa)
{
	return o != sa && is_up(o) && o->up_serial <= sa->serial && same_pair(o, sa);
}

void live_replace(struct ike *ike, struct ike_sa *sa, bool initial_contact)
{
	bool null = sa->peer_id_type == IKE_ID_NULL;
	struct ike_sa *o;
	FOR_PEER(ike, sa, o) {
		if (!stale(o, sa))
			continue;
		bool o_null = o->peer_id_type == IKE_ID_NULL;
		if (null && !o_null) {
			/* ike_auth.c refuses this before we get here; never let it through */
			sa_log(ike, sa, LOG_LVL_INFO, "not replacing authenticated SA #%u with a "
			       "NULL-auth SA", o->serial);
			continue;
		}
		if (initial_contact && (o_null || strcmp(o->peer_id, sa->peer_id) == 0)) {
			sa_log(ike, sa, LOG_LVL_INFO, "peer restarted (INITIAL_CONTACT): IKE SA #%u "
			       "and its Child SAs replaced by #%u", o->serial, sa->serial);
			exchange_kill(ike, o, "replaced after the peer restarted");
			continue;     /* o is gone: the loop goes on from its serial */
		}
		if (initial_contact)
			sa_log(ike, sa, LOG_LVL_INFO, "INITIAL_CONTACT from '%s': IKE SA #%u with "
			       "'%s' is not replaced", sa->peer_id, o->serial, o->peer_id);
		/* without INITIAL_CONTACT: live_up decides */
	}
}

/* Of a and b, negotiated at the same time with one peer, the IKE SA both ends keep. */
static struct ike_sa *crossing_winner(struct ike_sa *a, struct ike_sa *b)
{
	if (a->initiator != b->initiator) {
		bool we_lower = addr_cmp(&a->local, &a->peer) < 0;
		return a->initiator == we_lower ? a : b;
	}
	return a->spi_i < b->spi_i ? a : b;
}

static struct child_sa *child_of(struct ike *ike, const struct ike_sa *sa)
{
	struct child_sa *c, *last = NULL;
	for (c = sa_child_peer_next(ike->sas, &sa->peer, 0); c;
	     c = sa_child_peer_next(ike->sas, &sa->peer, c->serial))
		if (c->ike_serial == sa->serial && c->sa_in && c->sa_out)
			last = c;
	return last;
}

enum {
	CROSS_LOOK_MS = 2000,   /* the first look at the counters (the peer settles too) */
	CROSS_TICK_MS = 1000,
	CROSS_WAIT_MS = 6000,   /* no evidence: the loser's initiator deletes it */
};

static void cross_arm(struct ike *ike, struct ike_sa *lose, uint64_t after)
{
	ike_timer_cancel(ike, &lose->cross_timer);
	lose->cross_timer = ike_timer_arm(ike, lose->serial, T_CROSS, after);
}

/* sa and o are both up with the same peer and were negotiated at the same time. */
static void settle_crossing(struct ike *ike, struct ike_sa *sa, struct ike_sa *o)
{
	struct ike_sa *win = crossing_winner(sa, o), *lose = win == sa ? o : sa;
	char ws[ADDR_STRLEN];
	struct child_sa *wc = child_of(ike, win);
	if (wc && !wc->pol_out && child_take_policies(ike, wc) < 0)
		sa_log(ike, win, LOG_LVL_WARN, "crossing streams: kernel refused the policies of "
		       "Child SA #%u", wc->serial);
	addr_str(win->initiator ? &win->local : &win->peer, ws);
	if (lose->initiator && win->initiator) {
		sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: IKE SA #%u (initiated by %s) "
		       "carries the pair; deleting ours, #%u", win->serial, ws, lose->serial);
		(void)exchange_initiate(ike, lose, &xchg_info);
		return;
	}
	sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: IKE SA #%u (initiated by %s) carries "
	       "the pair; #%u goes once the peer's ESP shows it agrees", win->serial, ws,
	       lose->serial);
	lose->cross_with = win->serial;
	lose->cross_from_ms = ike_now_ms(ike);
	lose->cross_sampled = false;
	cross_arm(ike, lose, CROSS_LOOK_MS);
}

/* Inbound ESP bytes of sa's Child SAs (kernel counters). */
static uint64_t in_bytes(struct ike *ike, const struct ike_sa *sa)
{
	struct kernel *k = &ike->ctx->kern;
	uint64_t bytes = 0;
	struct child_sa *c;
	if (!k->ops->sa_stats)
		return 0;
	for (c = sa_child_peer_next(ike->sas, &sa->peer, 0); c;
	     c = sa_child_peer_next(ike->sas, &sa->peer, c->serial)) {
		struct ksa_stats st;
		if (c->ike_serial == sa->serial && c->sa_in &&
		    k->ops->sa_stats(k, &c->local, c->spi_in, &st) == 0)
			bytes += st.bytes;
	}
	return bytes;
}

/* The peer sends through lose's Child SA and not through win's: it kept lose. */
static void cross_keep_loser(struct ike *ike, struct ike_sa *lose, struct ike_sa *win)
{
	struct child_sa *lc = child_of(ike, lose);
	sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: the peer keeps #%u; deleting #%u",
	       lose->serial, win->serial);
	lose->cross_with = 0;
	if (lc && !lc->pol_out && child_take_policies(ike, lc) < 0)
		sa_log(ike, lose, LOG_LVL_WARN, "crossing streams: kernel refused the policies of "
		       "Child SA #%u", lc->serial);
	if (win->req_out)
		exchange_kill(ike, win, "crossing streams: the peer kept the other IKE SA");
	else
		(void)exchange_initiate(ike, win, &xchg_info);
}

void live_cross_watch(struct ike *ike, struct ike_sa *lose)
{
	lose->cross_timer = 0;
	struct ike_sa *win = sa_ike_by_serial(ike->sas, lose->cross_with);
	if (!win || win->state != IKES_ESTABLISHED || lose->state != IKES_ESTABLISHED) {
		lose->cross_with = 0;
		return;     /* one of them went: nothing left to choose */
	}
	uint64_t bw = in_bytes(ike, win), bl = in_bytes(ike, lose);
	if (!lose->cross_sampled) {
		lose->cross_sampled = true;
		lose->cross_in_win = bw;
		lose->cross_in_lose = bl;
		cross_arm(ike, lose, CROSS_TICK_MS);
		return;
	}
	bool rw = bw != lose->cross_in_win, rl = bl != lose->cross_in_lose;
	uint64_t waited = ike_now_ms(ike) - lose->cross_from_ms;
	if (rl && !rw) {
		sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: the peer sends through #%u's "
		       "Child SA, not #%u's", lose->serial, win->serial);
		cross_keep_loser(ike, lose, win);
		return;
	}
	if (rw && lose->initiator && lose->up_serial > win->up_serial) {
		/* ESP through the winner, but ours came up last: a peer that keeps the Child
		 * SA established last (Libreswan) routes the pair through ours, and deleting
		 * it would take its route away; its kernel can still pick the other SA of the
		 * same reqid when both were added in the same second */
		sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: #%u came up after #%u: a peer "
		       "that keeps the newest Child SA routes through it", lose->serial,
		       win->serial);
		cross_keep_loser(ike, lose, win);
		return;
	}
	if ((rw && lose->initiator) || waited >= (lose->initiator ? 1u : 2u) * CROSS_WAIT_MS) {
		sa_log(ike, lose, LOG_LVL_INFO, "crossing streams: %s; deleting %s, #%u",
		       rw ? "the peer sends through the winner's Child SA"
			  : "no ESP from the peer on either Child SA",
		       lose->initiator ? "ours" : "the peer's (it sent no Delete)", lose->serial);
		lose->cross_with = 0;
		if (lose->req_out)
			exchange_kill(ike, lose, "crossing streams: the other IKE SA carries the pair");
		else
			(void)exchange_initiate(ike, lose, &xchg_info);
		return;
	}
	cross_arm(ike, lose, CROSS_TICK_MS);
}

static void dpd_arm(struct ike *ike, struct ike_sa *sa, uint64_t after)
{
	ike_timer_cancel(ike, &sa->dpd_timer);
	sa->dpd_timer = ike_timer_arm(ike, sa->serial, T_DPD, after);
}

void live_half_open(struct ike *ike, struct ike_sa *sa)
{
	uint64_t budget = sa->conf.retransmit_timeout_ms ? sa->conf.retransmit_timeout_ms : 10000;
	ike_timer_cancel(ike, &sa->expire_timer);
	sa->expire_timer = ike_timer_arm(ike, sa->serial, T_IKE_EXPIRE, 2 * budget);
}

void live_up(struct ike *ike, struct ike_sa *sa)
{
	sa->up_serial = sa_next_serial(ike->sas);
	sa->last_rx_ms = ike_now_ms(ike);
	if (sa->conf.dpddelay_ms)
		dpd_arm(ike, sa, sa->conf.dpddelay_ms);
	struct ike_sa *o;
	FOR_PEER(ike, sa, o) {
		if (o == sa || !is_up(o) || !same_pair(o, sa))
			continue;
		uint32_t os = o->serial;
		bool old = stale(o, sa);
		settle_crossing(ike, sa, o);
		/* o was up before the peer began sa, and the peer sent no INITIAL_CONTACT:
		 * crossing streams where our view of the order differs from the peer's, or a
		 * peer that lost o without saying so. Ask o: a peer that lost it cannot
		 * answer, and o alone goes (live_probe_lost). */
		if (old && (o = sa_ike_by_serial(ike->sas, os)) && o->state == IKES_ESTABLISHED &&
		    !o->req_out) {
			sa_log(ike, o, LOG_LVL_INFO, "the peer began IKE SA #%u while #%u was up, "
			       "without INITIAL_CONTACT: checking that it still has #%u",
			       sa->serial, os, os);
			(void)exchange_initiate(ike, o, &xchg_dpd);
		}
		break;
	}
}

void live_rekeyed(struct ike *ike, struct ike_sa *sa)
{
	const struct ike_sa *old = sa_ike_by_serial(ike->sas, sa->rekey_of);
	sa->up_serial = old && old->up_serial ? old->up_serial : sa_next_serial(ike->sas);
	sa->last_rx_ms = ike_now_ms(ike);
	if (sa->conf.dpddelay_ms)
		dpd_arm(ike, sa, sa->conf.dpddelay_ms);
}

/* The Child SAs' inbound bytes went up since the last look: the peer is alive. */
static void esp_activity(struct ike *ike, struct ike_sa *sa, uint64_t now)
{
	if (!ike->ctx->kern.ops->sa_stats)
		return;
	uint64_t bytes = in_bytes(ike, sa);
	if (bytes != sa->esp_in_bytes)     /* a rise, or a rekeyed Child SA counting anew */
		sa->last_rx_ms = now;
	sa->esp_in_bytes = bytes;
}

void live_dpd(struct ike *ike, struct ike_sa *sa)
{
	sa->dpd_timer = 0;
	uint64_t delay = sa->conf.dpddelay_ms;
	if (sa->state != IKES_ESTABLISHED || !delay || sa->replaced_by)
		return;     /* a rekeyed IKE SA: its successor checks */
	uint64_t now = ike_now_ms(ike);
	esp_activity(ike, sa, now);
	uint64_t idle = now - sa->last_rx_ms;
	if (idle < delay) {
		dpd_arm(ike, sa, delay - idle);
		return;
	}
	if (!sa->req_out) {
		sa_log(ike, sa, LOG_LVL_DEBUG, "nothing from the peer for %llu ms: liveness check",
		       (unsigned long long)idle);
		uint32_t serial = sa->serial;
		if (exchange_initiate(ike, sa, &xchg_dpd) != V_OK ||
		    !(sa = sa_ike_by_serial(ike->sas, serial)))
			return;
	}
	dpd_arm(ike, sa, delay);
}

uint64_t live_budget_ms(const struct ike_sa *sa, uint64_t budget)
{
	if (sa->dpd_seq && sa->req_out && sa->dpd_seq == sa->req_seq && sa->conf.dpdtimeout_ms)
		return sa->conf.dpdtimeout_ms;
	return budget;
}

/* Every established (or deleting) IKE SA with peer goes, nothing sent. */
static void peer_dead(struct ike *ike, const struct addr *peer_in)
{
	struct addr peer = *peer_in;
	struct ike_sa *o;
	for (uint32_t s = 0; (o = sa_ike_peer_next(ike->sas, &peer, s));) {
		s = o->serial;
		if (o->state == IKES_ESTABLISHED || o->state == IKES_DELETING)
			exchange_kill(ike, o, "peer dead (liveness)");
	}
}

bool live_probe_lost(struct ike *ike, struct ike_sa *sa)
{
	if (!sa->dpd_seq || !sa->req_out || sa->dpd_seq != sa->req_seq)
		return false;
	char ps[ADDR_STRLEN];
	uint64_t waited = ike_now_ms(ike) - sa->req_first_ms;
	addr_str(&sa->peer, ps);
	struct ike_sa *o;
	FOR_PEER(ike, sa, o) {
		if (o != sa && is_up(o) && same_pair(o, sa) && o->up_serial > sa->up_serial) {
			/* a newer IKE SA with the peer works: the peer only lost this one */
			sa_log(ike, sa, LOG_LVL_INFO, "no answer to a liveness check for %llu s: the "
			       "peer lost IKE SA #%u; #%u carries the pair",
			       (unsigned long long)((waited + 500) / 1000), sa->serial, o->serial);
			exchange_kill(ike, sa, "the peer lost it");
			return true;
		}
	}
	log_info(&ike->ctx->log, "peer %s dead (no answer to liveness for %llu s): deleting its "
		 "SAs, the trap is back", ps, (unsigned long long)((waited + 500) / 1000));
	peer_dead(ike, &sa->peer);
	return true;
}

/* HDR, SK {} --> (a liveness check, RFC 7296 §1.4) */
static enum verdict probe(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	struct msg_out m;
	struct buf out = { 0 };
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		x_why(x, "cannot build the liveness check");
		return V_FAIL;
	}
	msg_send_request(x->ike, sa, &out);
	sa->dpd_seq = sa->req_seq;
	return V_OK;
}

static const struct ike_transition rows[] = {
	/* HDR, SK {} --> */
	{ .story = "send a liveness check", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_INITIATE, .to = IKES_ESTABLISHED,
	  .handler = probe },
};

/* Only for exchange_initiate: the answer is dispatched by xchg_info ("liveness answered"). */
const struct ike_exchange xchg_dpd = { "INFORMATIONAL", rows, ARRAY_LEN(rows) };
