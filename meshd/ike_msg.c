/* ike_msg.c — the message layer of the IKEv2 engine: build and protect messages (SK,
 * RFC 7296 §3.14), send them, retransmit requests, answer duplicates from the response
 * cache, and unprotect what arrives.
 *
 * Timers (RFC 7296 §2.1, §2.4): a request is retransmitted after retransmit-interval
 * (0.5 s), the interval doubling each time, until retransmit-timeout (10 s for OE) has
 * passed since it was first sent; then the exchange fails. Only the requester
 * retransmits; a responder answers a retransmitted request (the same bytes) from its
 * cache without processing it again. The window is 1: one request outstanding.
 *
 * Fragments (RFC 7383, ike_frag.h): when both sides support them, an SK message larger
 * than the fragment size leaves as SKF fragments, each protected on its own. msg_seal
 * keeps the plaintext of what it sealed; msg_send_request / msg_send_response split it
 * when the message does not fit, and keep the fragments for retransmits and for the
 * response cache. A retransmitted fragmented request starts with the same fragment 1,
 * which is what duplicate detection compares.
 *
 * NAT (RFC 7296 §2.23): once a NAT is seen, the SA follows the port of every
 * authenticated message from the peer (msg_authentic). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_emit.h"
#include "ike_frag.h"

#define MSG_MAX 65535

int msg_start(struct ike_sa *sa, struct msg_out *m, uint8_t xchg, bool response,
	      uint32_t msgid, bool sk)
{
	memset(m, 0, sizeof(*m));
	int r = wr_init_alloc(&m->w, 512, MSG_MAX);
	if (r < 0)
		return r;
	m->open = true;
	m->sk = sk;
	ike_emit_init(&m->e, &m->w);
	struct ike_hdr h = {
		.spi_i = sa->spi_i, .spi_r = sa->spi_r, .version = IKE_VERSION_2, .xchg = xchg,
		.flags = (uint8_t)((sa->initiator ? IKE_FLAG_I : 0) | (response ? IKE_FLAG_R : 0)),
		.msgid = msgid,
	};
	ike_emit_header(&m->e, &h);
	if (sk) {
		if (!sa->sk_out)
			return -EINVAL;
		ike_emit_sk_begin(&m->e, crypto_sk_iv_len(sa->sk_out));
	}
	return m->e.err;
}

void msg_abort(struct msg_out *m)
{
	if (m->open)
		wr_fini(&m->w);
	m->open = false;
}

/* Encrypt the SK/SKF payload laid out in w in place (IV, ciphertext, ICV). pt (a copy
 * of the plaintext, lay->pt_len bytes) is wiped. */
static int protect(struct ike_sa *sa, struct wr *w, const struct ike_sk_layout *lay, uint8_t *pt)
{
	size_t outl = 0;
	int r = crypto_sk_encrypt(sa->sk_out, NULL, CRYPTO_IOV(w->p + lay->aad_at, lay->aad_len),
				  CRYPTO_IOV(pt, lay->pt_len), w->p + lay->iv_at,
				  lay->iv_len + lay->pt_len + lay->icv_len, &outl);
	explicit_bzero(pt, lay->pt_len);
	if (r < 0)
		return r;
	return outl == lay->iv_len + lay->pt_len + lay->icv_len ? 0 : -EIO;
}

/* Keep the inner payloads of the message just sealed, in case it has to be split. */
static void keep_plaintext(struct ike_sa *sa, const struct msg_out *m,
			   const struct ike_sk_layout *lay)
{
	if (!sa->fr && !(sa->fr = ike_frag_new()))
		return;     /* then it goes whole */
	struct ike_frag *f = sa->fr;
	if (buf_dup(&f->pending_pt, m->w.p + lay->pt_at, lay->pt_len - lay->pad_len - 1) < 0)
		return;
	f->pending_np = m->w.p[m->e.sk_at];   /* the SK payload's Next Payload */
}

int msg_seal(struct ike_sa *sa, struct msg_out *m, struct buf *out)
{
	struct ike_sk_layout lay;
	int r = 0;
	uint8_t *pt = NULL;
	bool keep = false;

	ike_frag_pending_clear(sa->fr);
	if (m->sk)
		ike_emit_sk_end(&m->e, crypto_sk_block_len(sa->sk_out),
				crypto_sk_icv_len(sa->sk_out), &lay);
	if ((r = ike_emit_finish(&m->e)) < 0)
		goto done;
	if (m->sk) {
		/* encrypt needs separate input and output: copy the plaintext out */
		if (!(pt = malloc(lay.pt_len))) {
			r = -ENOMEM;
			goto done;
		}
		memcpy(pt, m->w.p + lay.pt_at, lay.pt_len);
		/* the plaintext is still in the writer until protect() overwrites it */
		keep = sa->frag;
		if (keep)
			keep_plaintext(sa, m, &lay);
		if ((r = protect(sa, &m->w, &lay, pt)) < 0)
			goto done;
	}
	m->open = false;
	r = wr_take(&m->w, out);
	if (r == 0 && keep && sa->fr && sa->fr->pending_pt.p) {
		sa->fr->pending_p = out->p;
		sa->fr->pending_len = out->len;
	}
done:
	if (r < 0)
		ike_frag_pending_clear(sa->fr);
	free(pt);
	msg_abort(m);
	return r;
}

/* One SKF fragment of the message whose header is h. */
static int seal_fragment(struct ike_sa *sa, const struct ike_hdr *h, uint16_t num,
			 uint16_t total, uint8_t np, const uint8_t *chunk, size_t len,
			 struct buf *out)
{
	struct wr w;
	struct ike_emit e;
	struct ike_sk_layout lay;
	uint8_t *pt = NULL;
	int r = wr_init_alloc(&w, len + 128, MSG_MAX);
	if (r < 0)
		return r;
	ike_emit_init(&e, &w);
	ike_emit_header(&e, h);
	ike_emit_skf_begin(&e, num, total, num == 1 ? np : IKE_PL_NONE,
			   crypto_sk_iv_len(sa->sk_out));
	ike_emit_sk_bytes(&e, chunk, len);
	ike_emit_sk_end(&e, crypto_sk_block_len(sa->sk_out), crypto_sk_icv_len(sa->sk_out),
			&lay);
	if ((r = ike_emit_finish(&e)) < 0)
		goto done;
	if (!(pt = malloc(lay.pt_len))) {
		r = -ENOMEM;
		goto done;
	}
	memcpy(pt, w.p + lay.pt_at, lay.pt_len);
	if ((r = protect(sa, &w, &lay, pt)) < 0)
		goto done;
	r = wr_take(&w, out);
done:
	free(pt);
	if (r < 0)
		wr_fini(&w);
	return r;
}

static uint16_t nat_port(const struct ike *ike)
{
	uint16_t p = ike->ctx->conf ? ike->ctx->conf->setup.nat_ike_port : 0;
	return p ? p : 4500;
}

/* The fragment state once it holds nothing: made again when a message needs it. */
static void frag_drop_idle(struct ike_sa *sa)
{
	if (sa->fr && ike_frag_idle(sa->fr)) {
		ike_frag_free(sa->fr);
		sa->fr = NULL;
	}
}

/* Split msg into fragments in t when it was sealed with fragmentation on and does not fit
 * (RFC 7383 §2.5). t is emptied first; it stays empty when msg goes whole. */
static void split(struct ike *ike, struct ike_sa *sa, const struct buf *msg,
		  struct ike_frag_train *t)
{
	struct ike_frag *f = sa->fr;
	if (!f)
		return;
	ike_frag_train_clear(t);
	if (!sa->frag || !f->pending_pt.p || f->pending_p != msg->p || f->pending_len != msg->len)
		goto done;
	size_t msg_max = ike_frag_msg_max(ike_frag_size(ike->frag_size, sa->peer.family),
					  sa->peer.family, sa->lport == nat_port(ike));
	if (msg->len <= msg_max)
		goto done;
	size_t chunk = ike_frag_chunk(msg_max, crypto_sk_iv_len(sa->sk_out),
				      crypto_sk_icv_len(sa->sk_out),
				      crypto_sk_block_len(sa->sk_out));
	size_t len = f->pending_pt.len;
	size_t n = chunk ? (len + chunk - 1) / chunk : 0;
	if (n < 2 || n > IKE_FRAG_MAX) {
		sa_log(ike, sa, LOG_LVL_DEBUG, "message of %zu bytes not fragmented (%zu fragments "
		       "of %zu bytes)", msg->len, n, chunk);
		goto done;
	}
	struct rd r;
	struct ike_hdr h;
	rd_init(&r, msg->p, msg->len);
	if (ike_hdr_read(&r, &h) < 0 || !(t->m = calloc(n, sizeof(*t->m))))
		goto done;
	for (size_t i = 0; i < n; i++) {
		size_t at = i * chunk, l = len - at < chunk ? len - at : chunk;
		if (seal_fragment(sa, &h, (uint16_t)(i + 1), (uint16_t)n, f->pending_np,
				  f->pending_pt.p + at, l, &t->m[i]) < 0) {
			ike_frag_train_clear(t);
			goto done;
		}
		t->n = i + 1;
	}
	ike->st.frags_tx += n;
	sa_log(ike, sa, LOG_LVL_DEBUG, "%s %s of %zu bytes sent as %zu fragments",
	       ike_xchg_name(h.xchg), h.flags & IKE_FLAG_R ? "response" : "request", msg->len, n);
done:
	ike_frag_pending_clear(f);
	frag_drop_idle(sa);      /* t is then empty: the caller sends msg whole */
}

int msg_send_raw(struct ike *ike, const struct addr *from, uint16_t sport,
		 const struct addr *to, uint16_t dport, const uint8_t *p, size_t n)
{
	ike->st.tx++;
	if (!ike->send)
		return -ENOTCONN;
	return ike->send(ike->send_arg, p, n, from, sport, to, dport);
}

static int send_sa(struct ike *ike, struct ike_sa *sa, const struct buf *b)
{
	return msg_send_raw(ike, &sa->local, sa->lport, &sa->peer, sa->rport, b->p, b->len);
}

/* b, or all of t when the message went as fragments. */
static void send_msg(struct ike *ike, struct ike_sa *sa, const struct buf *b,
		     const struct ike_frag_train *t)
{
	if (!t || t->n == 0) {
		(void)send_sa(ike, sa, b);
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		(void)send_sa(ike, sa, &t->m[i]);
}

int msg_send_request(struct ike *ike, struct ike_sa *sa, struct buf *msg)
{
	buf_free(&sa->req);
	sa->req = *msg;
	*msg = (struct buf){ 0 };
	sa->req_out = true;
	sa->req_seq++;
	sa->req_xchg = sa->req.len > 18 ? sa->req.p[18] : 0;
	sa->req_first_ms = ike_now_ms(ike);
	sa->retransmits = 0;
	sa->rtx_interval_ms = sa->conf.retransmit_interval_ms ? sa->conf.retransmit_interval_ms
							      : 500;
	sa->msgid_next++;
	ike_timer_cancel(ike, &sa->rtx_timer);
	sa->rtx_timer = ike_timer_arm(ike, sa->serial, T_RETRANSMIT, sa->rtx_interval_ms);
	split(ike, sa, &sa->req, sa->fr ? &sa->fr->req : NULL);
	/* a send error is a lost datagram: the retransmit timer copes */
	send_msg(ike, sa, &sa->req, sa->fr ? &sa->fr->req : NULL);
	return 0;
}

/* A request is remembered by its SHA-256: a copy of an IKE_AUTH request with
 * certificates would be 1-3 KB per SA, kept for the SA's life. */
static void req_digest(const uint8_t *p, size_t n, struct buf *out)
{
	struct crypto_iov in = CRYPTO_IOV(p, n);
	uint8_t h[CRYPTO_MAX_HASH_LEN];
	*out = (struct buf){ 0 };
	if (crypto_hash(CRYPTO_HASH_SHA2_256, &in, 1, h) < 0 ||
	    buf_dup(out, h, crypto_hash_len(CRYPTO_HASH_SHA2_256)) < 0)
		*out = (struct buf){ 0 };
}

bool msg_is_last_request(const struct ike_sa *sa, const uint8_t *p, size_t n)
{
	struct buf d;
	if (!sa->last_req_in.len)
		return false;
	req_digest(p, n, &d);
	bool same = d.len == sa->last_req_in.len && memcmp(d.p, sa->last_req_in.p, d.len) == 0;
	buf_free(&d);
	return same;
}

int msg_send_response(struct ike *ike, struct ike_sa *sa, struct buf *msg,
		      const uint8_t *req_in, size_t req_len)
{
	buf_free(&sa->resp);
	buf_free(&sa->last_req_in);
	sa->resp = *msg;
	*msg = (struct buf){ 0 };
	sa->have_resp = true;
	if (sa->fr && sa->fr->req_first.p) {
		/* the request came in fragments: its retransmission starts with fragment 1 */
		req_digest(sa->fr->req_first.p, sa->fr->req_first.len, &sa->last_req_in);
		buf_free(&sa->fr->req_first);
	} else if (req_in) {
		req_digest(req_in, req_len, &sa->last_req_in);
	}
	split(ike, sa, &sa->resp, sa->fr ? &sa->fr->resp : NULL);
	send_msg(ike, sa, &sa->resp, sa->fr ? &sa->fr->resp : NULL);
	if (sa->fr && sa->fr->resp.n)
		buf_free(&sa->resp);    /* resent as its fragments only: no second copy */
	return 0;
}

void msg_resend_response(struct ike *ike, struct ike_sa *sa)
{
	send_msg(ike, sa, &sa->resp, sa->fr ? &sa->fr->resp : NULL);
}

void msg_request_done(struct ike *ike, struct ike_sa *sa)
{
	ike_timer_cancel(ike, &sa->rtx_timer);
	sa->req_out = false;
	buf_free(&sa->req);
	if (sa->fr) {
		ike_frag_train_clear(&sa->fr->req);
		ike_frag_rx_reset(&sa->fr->rx[1]);
		frag_drop_idle(sa);
	}
}

static const char *xchg_short(uint8_t x)
{
	return ike_xchg_name(x);
}

void msg_retransmit(struct ike *ike, struct ike_sa *sa)
{
	sa->rtx_timer = 0;
	if (!sa->req_out)
		return;
	uint64_t now = ike_now_ms(ike);
	uint64_t budget = live_budget_ms(sa, sa->conf.retransmit_timeout_ms
						  ? sa->conf.retransmit_timeout_ms : 10000);
	uint64_t next = sa->rtx_interval_ms * 2;
	if (now - sa->req_first_ms >= budget) {
		char why[160];
		uint64_t s = budget / 1000, ms = budget % 1000;
		if (ms)
			snprintf(why, sizeof(why), "no response to %s after %llu.%03llu s",
				 xchg_short(sa->req_xchg), (unsigned long long)s,
				 (unsigned long long)ms);
		else
			snprintf(why, sizeof(why), "no response to %s after %llu s",
				 xchg_short(sa->req_xchg), (unsigned long long)s);
		exchange_timeout(ike, sa, why);
		return;
	}
	sa->retransmits++;
	ike->st.retransmits++;
	sa_log(ike, sa, LOG_LVL_DEBUG, "retransmitting %s request (%u)", xchg_short(sa->req_xchg),
	       sa->retransmits);
	send_msg(ike, sa, &sa->req, sa->fr ? &sa->fr->req : NULL);
	/* the last wait ends exactly at the budget */
	uint64_t left = sa->req_first_ms + budget - now;
	sa->rtx_interval_ms = (uint32_t)(next < left ? next : left);
	sa->rtx_timer = ike_timer_arm(ike, sa->serial, T_RETRANSMIT,
				      next < left ? next : left);
}

/* Decrypt and check d's SK or SKF body into *pt (owned, padding included); *inner is the
 * length without padding and pad length. */
static int open_sk(struct ike_sa *sa, const struct ike_digest *d, struct buf *pt,
		   size_t *inner)
{
	*pt = (struct buf){ 0 };
	if (!d->sk.present || d->sk.body_len == 0)
		return -EBADMSG;
	uint8_t *out = malloc(d->sk.body_len);
	if (!out)
		return -ENOMEM;
	size_t len = 0;
	int r = crypto_sk_decrypt(sa->sk_in, CRYPTO_IOV(d->msg, d->sk.body_off),
				  CRYPTO_IOV(d->msg + d->sk.body_off, d->sk.body_len), out,
				  d->sk.body_len, &len);
	if (r < 0 || len == 0) {
		free(out);
		return -EBADMSG;
	}
	pt->p = out;
	pt->len = len;
	/* RFC 7296 §3.14: ... || Padding || Pad Length */
	size_t pad = out[len - 1];
	if (pad + 1 > len)
		return -EINVAL;
	*inner = len - pad - 1;
	return 0;
}

/* An authentic SKF fragment: keep it; parse the message once it is complete. */
static int unprotect_fragment(struct ike *ike, struct ike_sa *sa, struct ike_digest *d,
			      struct buf *pt)
{
	struct buf frag = { 0 }, first = { 0 };
	size_t inner = 0;
	bool response = d->hdr.flags & IKE_FLAG_R;
	int r = open_sk(sa, d, &frag, &inner);
	if (r < 0) {
		buf_free_secret(&frag);
		return r;
	}
	ike->st.frags_rx++;
	if (!sa->fr && !(sa->fr = ike_frag_new())) {
		buf_free_secret(&frag);
		return -ENOMEM;
	}
	uint64_t budget = sa->conf.retransmit_timeout_ms ? sa->conf.retransmit_timeout_ms : 10000;
	r = ike_frag_rx_add(&sa->fr->rx[response], d->hdr.msgid, d->sk.frag_num,
			    d->sk.frag_total, d->sk.np, frag.p, inner, d->msg, d->msg_len,
			    ike_now_ms(ike), budget);
	buf_free_secret(&frag);
	switch (r) {
	case IKE_FRAG_KEPT:
		return -EINPROGRESS;
	case IKE_FRAG_COMPLETE:
		break;
	case -EALREADY:
		ike->st.rx_duplicates++;
		return -EINPROGRESS;
	default:
		ike->st.rx_frag_dropped++;
		sa_log(ike, sa, LOG_LVL_DEBUG, "fragment %u/%u of message %u dropped: %s",
		       d->sk.frag_num, d->sk.frag_total, d->hdr.msgid,
		       r == -E2BIG ? "too many or too large" : r == -ERANGE ? "inconsistent numbering"
							      : "out of memory");
		return -EINPROGRESS;
	}
	uint8_t np = 0;
	if ((r = ike_frag_rx_take(&sa->fr->rx[response], pt, &np, &first)) < 0)
		return r;
	ike->st.frag_reassembled++;
	buf_free(&sa->fr->req_first);
	if (!response)
		sa->fr->req_first = first;
	else
		buf_free(&first);
	/* from here on it is the message as if it had come whole, in one SK (§2.6.2) */
	d->pl = (d->pl & ~PL(SKF)) | PL(SK);
	d->sk.np = np;
	if (ike_pld_parse_inner(d, np, pt->p, pt->len) < 0)
		return -EINVAL;
	return 0;
}

int msg_unprotect(struct ike *ike, struct ike_sa *sa, struct ike_digest *d, struct buf *pt)
{
	*pt = (struct buf){ 0 };
	if (!sa->sk_in)
		return -EBADMSG;
	if (d->pl & PL(SKF)) {
		if (!sa->frag)
			return -ENOTSUP;
		return unprotect_fragment(ike, sa, d, pt);
	}
	size_t inner = 0;
	int r = open_sk(sa, d, pt, &inner);
	if (r < 0)
		return r;
	if (sa->fr && !(d->hdr.flags & IKE_FLAG_R)) {
		/* a whole request: no fragment 1 to remember, no set to finish */
		buf_free(&sa->fr->req_first);
		ike_frag_rx_reset(&sa->fr->rx[0]);
	}
	if (ike_pld_parse_inner(d, d->sk.np, pt->p, inner) < 0)
		return -EINVAL;
	return 0;
}

void msg_authentic(struct ike *ike, struct ike_sa *sa, uint16_t sport, uint16_t dport)
{
	if (sa->rport == sport && sa->lport == dport)
		return;
	/* a peer that moved to the NAT-T port, or a NAT that changed its mapping */
	if (!(sa->nat_local || sa->nat_peer || dport == nat_port(ike)))
		return;
	sa_log(ike, sa, LOG_LVL_DEBUG, "peer now at port %u (ours %u), was %u (ours %u)", sport,
	       dport, sa->rport, sa->lport);
	sa->rport = sport;
	sa->lport = dport;
}
