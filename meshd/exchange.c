/* exchange.c — the dispatcher of the IKEv2 engine (aesthetics.md 7.8).
 *
 * exchange_input: parse the datagram into a digest -> find the SA (or make a responder SA
 * for a new IKE_SA_INIT request) -> check the message ID (answer a duplicate request from
 * the response cache) -> unprotect SK -> find the first transition row that matches ->
 * run its handler -> apply the verdict. Nothing that fails a check before the handler
 * runs changes any state; it is counted and dropped.
 *
 * This is the only file that assigns sa->state (set_state), and it logs each move. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_auth.h"
#include "oe.h"

void sa_log(struct ike *ike, const struct ike_sa *sa, int level, const char *fmt, ...)
{
	char msg[512], ps[ADDR_STRLEN], pfx[PREFIX_STRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	addr_str(&sa->peer, ps);
	if (sa->conf.group[0])
		log_msg(&ike->ctx->log, (enum log_level)level, "\"%s#%s\"[%u] ...%s #%u: %s",
			sa->conf.group, prefix_str(&sa->conf.entry, pfx), sa->conf.instance, ps,
			sa->serial, msg);
	else
		log_msg(&ike->ctx->log, (enum log_level)level, "...%s #%u: %s", ps, sa->serial, msg);
}

void x_why(struct xctx *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
}

static void set_state(struct ike *ike, struct ike_sa *sa, enum ike_state to, const char *story)
{
	if (sa->state == to)
		return;
	sa_log(ike, sa, LOG_LVL_DEBUG, "%s: %s -> %s", story, ike_state_name(sa->state),
	       ike_state_name(to));
	sa_ike_set_state(ike->sas, sa, to);
}

/* A message whose handler returned V_SUSPEND: its datagram and plaintext, to rebuild the
 * digest when the work is done (exchange_resume). */
struct parked {
	struct parked *next;
	uint32_t serial;
	struct buf msg;               /* the datagram (the last fragment when reassembled) */
	struct buf pt;                /* the inner payloads (owned, secret) */
	uint8_t np;
	struct addr from, to;
	uint16_t sport, dport;
};

static void parked_free(struct parked *k)
{
	buf_free(&k->msg);
	buf_free_secret(&k->pt);
	free(k);
}

static struct parked *unlink_parked(struct ike *ike, uint32_t serial)
{
	for (struct parked **pp = &ike->parked; *pp; pp = &(*pp)->next) {
		if ((*pp)->serial == serial) {
			struct parked *k = *pp;
			*pp = k->next;
			return k;
		}
	}
	return NULL;
}

void exchange_unpark(struct ike *ike, uint32_t serial)
{
	struct parked *k;
	while (serial == 0 ? (k = ike->parked) && (ike->parked = k->next, 1)
			   : (k = unlink_parked(ike, serial)) != NULL)
		parked_free(k);
}

/* Keep d (and its plaintext pt, adopted) for exchange_resume; a retransmission of the same
 * request replaces what was kept. */
static void park(struct ike *ike, const struct ike_sa *sa, const struct ike_digest *d,
		 struct buf *pt, const struct addr *from, uint16_t sport, const struct addr *to,
		 uint16_t dport)
{
	exchange_unpark(ike, sa->serial);
	struct parked *k = calloc(1, sizeof(*k));
	if (!k || buf_dup(&k->msg, d->msg, d->msg_len) < 0) {
		free(k);
		return;
	}
	k->serial = sa->serial;
	k->pt = *pt;
	*pt = (struct buf){ 0 };
	k->np = d->sk.np;
	k->from = *from;
	k->to = *to;
	k->sport = sport;
	k->dport = dport;
	k->next = ike->parked;
	ike->parked = k;
}

/* The end of an IKE SA: a failed OE attempt reports its reason (failure shunt), the Child
 * SAs leave the kernel, the object is freed. */
static void bury(struct ike *ike, struct ike_sa *sa, bool report)
{
	ike_timer_cancel(ike, &sa->rtx_timer);
	ike_timer_cancel(ike, &sa->expire_timer);
	rekey_ike_disarm(ike, sa);
	ike_timer_cancel(ike, &sa->dpd_timer);
	ike_timer_cancel(ike, &sa->cross_timer);
	uint32_t carrier = report && sa->oe && sa->initiator && !sa->child_up
				   ? live_pair_carried(ike, sa) : 0;
	if (carrier) {
		/* crossing streams: the peer's IKE SA carries the pair; a failure shunt
		 * would replace its outbound policy */
		sa_log(ike, sa, LOG_LVL_INFO, "OE attempt ended: %s; IKE SA #%u carries the pair",
		       sa->reason[0] ? sa->reason : "IKE SA deleted", carrier);
	} else if (report && sa->oe && sa->initiator && !sa->child_up) {
		sa_log(ike, sa, LOG_LVL_INFO, "OE attempt failed: %s",
		       sa->reason[0] ? sa->reason : "IKE SA deleted");
		oe_failed(ike->ctx, &sa->local, &sa->peer,
			  sa->reason[0] ? sa->reason : "IKE SA deleted");
	}
	child_remove_all(ike, sa->serial);
	if (sa->child_spi_in && !sa->child_up)
		child_release_spi(ike, sa, sa->child_spi_in);
	exchange_unpark(ike, sa->serial);
	ike_dns_forget(ike, sa->serial);
	sa_ike_free(ike->sas, sa);
}

static void die(struct ike *ike, struct ike_sa *sa, const char *why, const char *story)
{
	if (why && why[0] && !sa->reason[0])
		snprintf(sa->reason, sizeof(sa->reason), "%s", why);
	set_state(ike, sa, IKES_DEAD, story);
	bury(ike, sa, true);
}

/* An initiator whose IKE_AUTH went unanswered may face a responder that did answer and
 * installed its Child SA (the answer was lost, or came too late). Tell it once, without
 * waiting, that the IKE SA is gone (INFORMATIONAL D(IKE)), so no one-sided SA stays up
 * while we hold a failure shunt. A responder that never got our request drops it. */
static void tell_delete_once(struct ike *ike, struct ike_sa *sa)
{
	struct msg_out m;
	struct buf out = { 0 };
	struct ike_delete del = { .proto = IKE_PROTO_IKE };
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r == 0)
		r = ike_emit_delete(&m.e, &del);
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		buf_free(&out);
		return;
	}
	msg_send_raw(ike, &sa->local, sa->lport, &sa->peer, sa->rport, out.p, out.len);
	buf_free(&out);
}

void exchange_timeout(struct ike *ike, struct ike_sa *sa, const char *why)
{
	if (live_probe_lost(ike, sa))
		return;      /* a dead peer: its SAs are gone */
	sa_log(ike, sa, LOG_LVL_INFO, "%s", why);
	if (sa->initiator && sa->req_xchg == IKE_XCHG_AUTH)
		tell_delete_once(ike, sa);
	die(ike, sa, why, "retransmit timeout");
}

void exchange_kill(struct ike *ike, struct ike_sa *sa, const char *why)
{
	die(ike, sa, why, why);
}

void exchange_adopt(struct ike *ike, struct ike_sa *sa, const char *story)
{
	set_state(ike, sa, IKES_ESTABLISHED, story);
	live_rekeyed(ike, sa);
}

static const struct ike_exchange *table_for(uint8_t xchg)
{
	switch (xchg) {
	case IKE_XCHG_SA_INIT:
		return &xchg_sa_init;
	case IKE_XCHG_AUTH:
		return &xchg_auth;
	case IKE_XCHG_INFORMATIONAL:
		return &xchg_info;
	case IKE_XCHG_CREATE_CHILD_SA:
		return &xchg_create;
	default:
		return NULL;
	}
}

static bool pl_ok(uint64_t have, uint64_t req, uint64_t opt)
{
	const uint64_t always = PL(NOTIFY) | PL(VID);
	return (have & req) == req && (have & ~(req | opt | always)) == 0;
}

static bool notify_ok(const struct ike_digest *d, uint16_t want)
{
	if (!want)
		return true;
	for (unsigned i = 0; i < d->n_notify; i++)
		if (want == X_ANY_ERROR ? IKE_N_IS_ERROR(d->notify[i].type)
					: d->notify[i].type == want)
			return true;
	return false;
}

static const struct ike_transition *match(const struct ike_exchange *x, const struct ike_sa *sa,
					  const struct ike_digest *d, enum msg_role role)
{
	for (size_t i = 0; i < x->n; i++) {
		const struct ike_transition *t = &x->rows[i];
		if (t->role != role || !(t->from & IKES_BIT(sa->state)))
			continue;
		if (!pl_ok(d->pl, t->req, t->opt) || !pl_ok(d->sk_pl, t->sk_req, t->sk_opt))
			continue;
		if (!notify_ok(d, t->notify) || (t->when && !t->when(d)))
			continue;
		return t;
	}
	return NULL;
}

/* Answer a request with an error notify: in clear for IKE_SA_INIT (responder SPI 0, as
 * the SA does not exist), inside SK otherwise. */
static void send_error(struct ike *ike, struct ike_sa *sa, const struct ike_digest *d,
		       const struct xctx *x)
{
	struct msg_out m;
	struct buf out = { 0 };
	bool sk = d->hdr.xchg != IKE_XCHG_SA_INIT && sa->sk_out;
	uint64_t spi_r = sa->spi_r;
	if (!sk)
		sa->spi_r = 0;
	int r = msg_start(sa, &m, d->hdr.xchg, true, d->hdr.msgid, sk);
	sa->spi_r = spi_r;
	struct ike_notify n = {
		.type = x->notify,
		.data = { x->notify_len ? x->notify_data : NULL, x->notify_len },
	};
	if (r == 0)
		ike_emit_notify(&m.e, &n);
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		buf_free(&out);
		return;
	}
	if (sk) {
		msg_send_response(ike, sa, &out, d->msg, d->msg_len);
	} else {
		msg_send_raw(ike, &sa->local, sa->lport, &sa->peer, sa->rport, out.p, out.len);
		buf_free(&out);
	}
}

static void resend_cached(struct ike *ike, struct ike_sa *sa)
{
	ike->st.rx_duplicates++;
	sa_log(ike, sa, LOG_LVL_DEBUG, "duplicate request: answering from the cache");
	msg_resend_response(ike, sa);
}

static void apply(struct ike *ike, struct ike_sa *sa, const struct ike_transition *t,
		  struct xctx *x, enum verdict v, bool fresh, uint32_t req_seq)
{
	const struct ike_digest *d = x->d;
	bool response = d && (d->hdr.flags & IKE_FLAG_R);

	if (v != V_IGNORE && v != V_SUSPEND && response && sa->req_seq == req_seq)
		msg_request_done(ike, sa);
	switch (v) {
	case V_OK: {
		enum ike_state was = sa->state;
		if (d && !response)
			sa->msgid_peer = d->hdr.msgid + 1;
		set_state(ike, sa, x->next_set ? x->next : t->to, t->story);
		if (sa->state == IKES_DEAD)
			bury(ike, sa, true);
		else if (sa->state == IKES_ESTABLISHED && was != IKES_ESTABLISHED)
			live_up(ike, sa);      /* may delete sa (crossing streams) */
		else if (sa->state == IKES_R_SA_INIT && was != IKES_R_SA_INIT)
			live_half_open(ike, sa);
		return;
	}
	case V_SUSPEND:
		return;
	case V_IGNORE:
		ike->st.rx_dropped_unexpected++;
		if (fresh)
			sa_ike_free(ike->sas, sa);
		return;
	case V_NOTIFY:
		if (d && !response) {
			send_error(ike, sa, d, x);
			sa->msgid_peer = d->hdr.msgid + 1;
		}
		if (fresh) {
			sa_ike_free(ike->sas, sa);
			return;
		}
		if (sa->state != IKES_ESTABLISHED)
			die(ike, sa, x->why[0] ? x->why : ike_notify_name(x->notify), t->story);
		return;
	case V_FAIL:
	case V_BUG:
		if (v == V_BUG)
			sa_log(ike, sa, LOG_LVL_ERR, "internal error in \"%s\"", t->story);
		if (fresh) {
			sa_ike_free(ike->sas, sa);
			return;
		}
		die(ike, sa, x->why[0] ? x->why : "failed", t->story);
		return;
	}
}

enum verdict exchange_initiate(struct ike *ike, struct ike_sa *sa, const struct ike_exchange *xt)
{
	const struct ike_transition *t = NULL;
	for (size_t i = 0; i < xt->n && !t; i++)
		if (xt->rows[i].role == ROLE_INITIATE && (xt->rows[i].from & IKES_BIT(sa->state)))
			t = &xt->rows[i];
	if (!t)
		return V_BUG;
	struct xctx x = { .ike = ike, .sa = sa };
	enum verdict v = t->handler(&x);
	if (v == V_OK) {
		set_state(ike, sa, t->to, t->story);
		return v;
	}
	die(ike, sa, x.why[0] ? x.why : "could not start", t->story);
	return v == V_SUSPEND ? V_FAIL : v;
}

void exchange_input(struct ike *ike, const uint8_t *p, size_t n, const struct addr *from,
		    uint16_t sport, const struct addr *to, uint16_t dport)
{
	struct ike_digest *d = malloc(sizeof(*d));
	struct buf pt = { 0 };
	char fs[ADDR_STRLEN];
	ike->st.rx++;
	if (!d)
		return;
	if (ike_pld_parse(d, p, n) < 0) {
		ike->st.rx_dropped_malformed++;
		log_debug(&ike->ctx->log, "IKE message from %s:%u dropped: %s", addr_str(from, fs),
			  sport, d->err_what ? d->err_what : "malformed");
		goto out;
	}
	const struct ike_hdr *h = &d->hdr;
	bool response = h->flags & IKE_FLAG_R, from_initiator = h->flags & IKE_FLAG_I;
	const struct ike_exchange *xt = table_for(h->xchg);
	struct ike_sa *sa = NULL;
	bool fresh = false;
	if (!xt) {
		ike->st.rx_dropped_unexpected++;
		goto out;
	}
	if (!response && h->xchg == IKE_XCHG_SA_INIT && h->spi_r == 0) {
		if (!from_initiator || h->msgid != 0 || h->spi_i == 0) {
			ike->st.rx_dropped_malformed++;
			goto out;
		}
		sa = sa_ike_half_open(ike->sas, h->spi_i, from);
		if (sa) {
			if (sa->have_resp && msg_is_last_request(sa, p, n))
				resend_cached(ike, sa);
			else
				ike->st.rx_dropped_msgid++;
			goto out;
		}
		if (!(sa = sa_ike_new(ike->sas)))
			goto out;
		fresh = true;
		sa->initiator = false;
		sa_ike_set_spi_i(ike->sas, sa, h->spi_i);
		sa_ike_set_addrs(ike->sas, sa, to, from);
		sa->lport = dport;
		sa->rport = sport;
	} else {
		sa = sa_ike_by_spi(ike->sas, h->spi_i, h->spi_r, !from_initiator);
		if (!sa || !addr_eq(&sa->peer, from)) {
			ike->st.rx_dropped_no_sa++;
			goto out;
		}
		if (response) {
			if (!sa->req_out || h->msgid != sa->msgid_next - 1 || h->xchg != sa->req_xchg) {
				ike->st.rx_dropped_msgid++;
				goto out;
			}
		} else {
			if (sa->have_resp && h->msgid + 1 == sa->msgid_peer &&
			    msg_is_last_request(sa, p, n)) {
				resend_cached(ike, sa);
				goto out;
			}
			if (h->msgid != sa->msgid_peer) {
				ike->st.rx_dropped_msgid++;
				goto out;
			}
		}
		if (h->xchg != IKE_XCHG_SA_INIT) {
			if (!(d->pl & (PL(SK) | PL(SKF)))) {
				ike->st.rx_dropped_unexpected++;
				goto out;
			}
			int r = msg_unprotect(ike, sa, d, &pt);
			if (r == -EINPROGRESS)
				goto out;    /* a fragment: kept (or a duplicate), counted */
			if (r < 0) {
				if (r == -EBADMSG)
					ike->st.rx_dropped_integrity++;
				else
					ike->st.rx_dropped_malformed++;
				sa_log(ike, sa, LOG_LVL_DEBUG, "%s %s dropped: %s",
				       ike_xchg_name(h->xchg), response ? "response" : "request",
				       r == -EBADMSG ? "integrity check failed"
				       : r == -ENOTSUP ? "fragmentation was not negotiated"
						       : "bad inner payloads");
				goto out;
			}
			msg_authentic(ike, sa, sport, dport);
			sa->last_rx_ms = ike_now_ms(ike);   /* liveness (ike_live.c) */
		}
	}
	const struct ike_transition *t = match(xt, sa, d, response ? ROLE_RESPONSE : ROLE_REQUEST);
	if (!t) {
		ike->st.rx_dropped_unexpected++;
		sa_log(ike, sa, LOG_LVL_DEBUG, "unexpected %s %s in state %s dropped",
		       ike_xchg_name(h->xchg), response ? "response" : "request",
		       ike_state_name(sa->state));
		if (fresh)
			sa_ike_free(ike->sas, sa);
		goto out;
	}
	struct xctx x = {
		.ike = ike, .sa = sa, .d = d, .from = from, .to = to, .sport = sport, .dport = dport,
	};
	uint32_t seq = sa->req_seq;
	enum verdict v = t->handler(&x);
	apply(ike, sa, t, &x, v, fresh, seq);
	if (v == V_SUSPEND && !fresh && d->inner)
		park(ike, sa, d, &pt, from, sport, to, dport);
out:
	buf_free_secret(&pt);
	free(d);
}

void exchange_resume(struct ike *ike, uint32_t serial)
{
	struct parked *k = unlink_parked(ike, serial);
	struct ike_sa *sa = sa_ike_by_serial(ike->sas, serial);
	struct ike_digest *d = NULL;
	if (!k || !sa || !k->pt.len || !(d = malloc(sizeof(*d))) ||
	    ike_pld_parse(d, k->msg.p, k->msg.len) < 0)
		goto out;
	/* the inner payloads as msg_unprotect found them: a reassembled message's plaintext
	 * is exact, a whole SK body ends with its padding and pad length */
	size_t inner = k->pt.len;
	if (d->pl & PL(SKF)) {
		d->pl = (d->pl & ~PL(SKF)) | PL(SK);
	} else {
		size_t pad = k->pt.p[inner - 1];
		if (pad + 1 > inner)
			goto out;
		inner -= pad + 1;
	}
	d->sk.np = k->np;
	if (ike_pld_parse_inner(d, k->np, k->pt.p, inner) < 0)
		goto out;
	bool response = d->hdr.flags & IKE_FLAG_R;
	/* still the message the SA waits on? (a retransmission may have moved it on) */
	if (response ? !sa->req_out || d->hdr.msgid != sa->msgid_next - 1
		     : d->hdr.msgid != sa->msgid_peer)
		goto out;
	const struct ike_exchange *xt = table_for(d->hdr.xchg);
	const struct ike_transition *t = xt ? match(xt, sa, d, response ? ROLE_RESPONSE
									 : ROLE_REQUEST)
					    : NULL;
	if (!t)
		goto out;
	sa_log(ike, sa, LOG_LVL_DEBUG, "resuming \"%s\"", t->story);
	struct xctx x = {
		.ike = ike, .sa = sa, .d = d, .from = &k->from, .to = &k->to, .sport = k->sport,
		.dport = k->dport,
	};
	uint32_t seq = sa->req_seq;
	enum verdict v = t->handler(&x);
	apply(ike, sa, t, &x, v, false, seq);
	if (v == V_SUSPEND) {
		park(ike, sa, d, &k->pt, &k->from, k->sport, &k->to, k->dport);
	}
out:
	free(d);
	if (k)
		parked_free(k);
}
