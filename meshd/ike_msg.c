/* ike_msg.c — the message layer of the IKEv2 engine: build and protect messages (SK,
 * RFC 7296 §3.14), send them, retransmit requests, answer duplicates from the response
 * cache, and unprotect what arrives.
 *
 * Timers (RFC 7296 §2.1, §2.4): a request is retransmitted after retransmit-interval
 * (0.5 s), the interval doubling each time, until retransmit-timeout (10 s for OE) has
 * passed since it was first sent; then the exchange fails. Only the requester
 * retransmits; a responder answers a retransmitted request (the same bytes) from its
 * cache without processing it again. The window is 1: one request outstanding. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_emit.h"

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

int msg_seal(struct ike_sa *sa, struct msg_out *m, struct buf *out)
{
	struct ike_sk_layout lay;
	int r = 0;
	uint8_t *pt = NULL;

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
		size_t outl = 0;
		r = crypto_sk_encrypt(sa->sk_out, NULL,
				      CRYPTO_IOV(m->w.p + lay.aad_at, lay.aad_len),
				      CRYPTO_IOV(pt, lay.pt_len), m->w.p + lay.iv_at,
				      lay.iv_len + lay.pt_len + lay.icv_len, &outl);
		explicit_bzero(pt, lay.pt_len);
		if (r < 0)
			goto done;
		if (outl != lay.iv_len + lay.pt_len + lay.icv_len) {
			r = -EIO;
			goto done;
		}
	}
	m->open = false;
	r = wr_take(&m->w, out);
done:
	free(pt);
	msg_abort(m);
	return r;
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
	/* a send error is a lost datagram: the retransmit timer copes */
	(void)send_sa(ike, sa, &sa->req);
	return 0;
}

int msg_send_response(struct ike *ike, struct ike_sa *sa, struct buf *msg,
		      const uint8_t *req_in, size_t req_len)
{
	buf_free(&sa->resp);
	buf_free(&sa->last_req_in);
	sa->resp = *msg;
	*msg = (struct buf){ 0 };
	sa->have_resp = true;
	if (req_in && buf_dup(&sa->last_req_in, req_in, req_len) < 0)
		sa->last_req_in = (struct buf){ 0 };
	(void)send_sa(ike, sa, &sa->resp);
	return 0;
}

void msg_request_done(struct ike *ike, struct ike_sa *sa)
{
	ike_timer_cancel(ike, &sa->rtx_timer);
	sa->req_out = false;
	buf_free(&sa->req);
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
	uint64_t budget = sa->conf.retransmit_timeout_ms ? sa->conf.retransmit_timeout_ms : 10000;
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
	(void)send_sa(ike, sa, &sa->req);
	/* the last wait ends exactly at the budget */
	uint64_t left = sa->req_first_ms + budget - now;
	sa->rtx_interval_ms = (uint32_t)(next < left ? next : left);
	sa->rtx_timer = ike_timer_arm(ike, sa->serial, T_RETRANSMIT,
				      next < left ? next : left);
}

int msg_unprotect(struct ike_sa *sa, struct ike_digest *d, struct buf *pt)
{
	*pt = (struct buf){ 0 };
	if (!sa->sk_in)
		return -EBADMSG;
	if (d->pl & PL(SKF))
		return -ENOTSUP;
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
	/* RFC 7296 §3.14: ... || Padding || Pad Length */
	size_t pad = out[len - 1];
	if (pad + 1 > len) {
		explicit_bzero(out, len);
		free(out);
		return -EINVAL;
	}
	pt->p = out;
	pt->len = len;
	if (ike_pld_parse_inner(d, d->sk.np, out, len - pad - 1) < 0)
		return -EINVAL;
	return 0;
}
