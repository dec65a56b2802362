/* x_sa_init.c — IKE_SA_INIT (RFC 7296 §1.2, §2.6, §2.7, §2.10, §2.23): its transition
 * table and handlers.
 *
 *   Initiator                         Responder
 *   HDR, [N(COOKIE)], SAi1, KEi, Ni,
 *        N(NATD_S), N(NATD_D), [N(FRAG_SUP)]  -->
 *                                <--  HDR, SAr1, KEr, Nr, N(NATD_S), N(NATD_D), [N(FRAG_SUP)]
 *                                <--  HDR, N(COOKIE)               (retry with it first)
 *                                <--  HDR, N(INVALID_KE_PAYLOAD)   (retry with its group)
 *                                <--  HDR, N(NO_PROPOSAL_CHOSEN)   (fail)
 *
 * The responder keeps no state for an error answer. An initiator that matches only a
 * clear or block entry of ours gets no answer at all (libreswan-oe.md §4.5), noted once
 * per peer for `meshctl why`.
 *
 * COOKIE (§2.6): while ddos-ike-threshold or more responder SAs are half-open, a request
 * without a valid cookie is answered with N(COOKIE) before any DH work, and nothing is
 * kept (ike_cookie.c makes and checks the cookie).
 * Fragmentation (RFC 7383 §2.3): both sides announce IKEV2_FRAGMENTATION_SUPPORTED when
 * fragmentation=yes; sa->frag when both did.
 * NAT (§2.23): when the NAT_DETECTION hashes do not match, the initiator moves the IKE
 * SA to the NAT-T port (4500) for IKE_AUTH; the responder follows when the peer's next
 * authenticated message arrives there (msg_authentic). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_auth.h"
#include "ike_emit.h"
#include "oe.h"
#include "policy.h"

#define NONCE_LEN 32
#define MAX_INVALID_KE 2
#define MAX_COOKIE 2

static void spi_bytes(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/* RFC 7296 §2.23: SHA-1(SPIi | SPIr | IP | Port). */
static int natd_hash(uint64_t spi_i, uint64_t spi_r, const struct addr *a, uint16_t port,
		     uint8_t out[CRYPTO_MAX_HASH_LEN])
{
	uint8_t si[8], sr[8], pb[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	spi_bytes(si, spi_i);
	spi_bytes(sr, spi_r);
	struct crypto_iov in[4] = {
		CRYPTO_IOV(si, 8), CRYPTO_IOV(sr, 8), CRYPTO_IOV(a->b, addr_len(a->family)),
		CRYPTO_IOV(pb, 2),
	};
	return crypto_hash(CRYPTO_HASH_SHA1, in, 4, out);
}

static void emit_natd(struct msg_out *m, const struct ike_sa *sa, uint64_t spi_r)
{
	uint8_t h[CRYPTO_MAX_HASH_LEN];
	size_t hl = crypto_hash_len(CRYPTO_HASH_SHA1);
	if (natd_hash(sa->spi_i, spi_r, &sa->local, sa->lport, h) == 0) {
		struct ike_notify n = { .type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = { h, hl } };
		ike_emit_notify(&m->e, &n);
	}
	if (natd_hash(sa->spi_i, spi_r, &sa->peer, sa->rport, h) == 0) {
		struct ike_notify n = { .type = IKE_N_NAT_DETECTION_DESTINATION_IP,
					.data = { h, hl } };
		ike_emit_notify(&m->e, &n);
	}
}

/* Compare the peer's NAT_DETECTION_* with what we see (a mismatch means a NAT). */
static void natd_check(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	const struct ike_notify *src = ike_digest_notify(d, IKE_N_NAT_DETECTION_SOURCE_IP);
	const struct ike_notify *dst = ike_digest_notify(d, IKE_N_NAT_DETECTION_DESTINATION_IP);
	uint8_t h[CRYPTO_MAX_HASH_LEN];
	size_t hl = crypto_hash_len(CRYPTO_HASH_SHA1);
	if (!src || !dst)
		return;
	uint64_t spi_r = d->hdr.spi_r;
	bool peer_ok = false;
	for (unsigned i = 0; i < d->n_notify; i++) {
		const struct ike_notify *n = &d->notify[i];
		if (n->type == IKE_N_NAT_DETECTION_SOURCE_IP && n->data.len == hl &&
		    natd_hash(sa->spi_i, spi_r, x->from, x->sport, h) == 0 &&
		    memcmp(h, n->data.p, hl) == 0)
			peer_ok = true;
	}
	bool local_ok = dst->data.len == hl && natd_hash(sa->spi_i, spi_r, x->to, x->dport, h) == 0 &&
			memcmp(h, dst->data.p, hl) == 0;
	sa->nat_peer = !peer_ok;
	sa->nat_local = !local_ok;
	if (!sa->nat_peer && !sa->nat_local)
		return;
	const struct conf *conf = x->ike->ctx->conf;
	uint16_t natt = conf && conf->setup.nat_ike_port ? conf->setup.nat_ike_port : 4500;
	sa_log(x->ike, sa, LOG_LVL_INFO, "NAT detected %s%s",
	       sa->nat_local ? "in front of us" : "in front of the peer",
	       sa->initiator && sa->lport != natt ? "; moving to the NAT-T port" : "");
	if (sa->initiator) {
		sa->lport = natt;
		sa->rport = natt;
	}
}

static void emit_frag_supported(struct msg_out *m, const struct ike_sa *sa)
{
	if (!sa->conf.fragmentation)
		return;
	struct ike_notify n = { .type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED };
	ike_emit_notify(&m->e, &n);
}

static bool peer_frag_supported(const struct ike_sa *sa, const struct ike_digest *d)
{
	return sa->conf.fragmentation &&
	       ike_digest_notify(d, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
}

int ike_new_nonce(struct buf *b)
{
	uint8_t n[NONCE_LEN];
	int r = crypto_random(n, sizeof(n));
	if (r == 0)
		r = buf_dup(b, n, sizeof(n));
	explicit_bzero(n, sizeof(n));
	return r;
}

int ike_sk_make(struct ike *ike, struct ike_sa *sa)
{
	const struct crypto_ike_keys *k = &sa->keys;
	int r = crypto_sk_new(ike->crypto, sa->suite.encr, sa->suite.encr_bits, sa->suite.integ,
			      CRYPTO_IOV_BUF(sa->initiator ? k->sk_ei : k->sk_er),
			      CRYPTO_IOV_BUF(sa->initiator ? k->sk_ai : k->sk_ar), &sa->sk_out);
	if (r == 0)
		r = crypto_sk_new(ike->crypto, sa->suite.encr, sa->suite.encr_bits,
				  sa->suite.integ,
				  CRYPTO_IOV_BUF(sa->initiator ? k->sk_er : k->sk_ei),
				  CRYPTO_IOV_BUF(sa->initiator ? k->sk_ar : k->sk_ai), &sa->sk_in);
	return r;
}

/* Keys from g^ir: SKEYSEED, the seven keys, and the SK protection both ways. */
static int make_keys(struct ike *ike, struct ike_sa *sa, struct crypto_iov peer_ke)
{
	struct crypto_buf gir = { 0 };
	uint8_t si[8], sr[8];
	int r = crypto_dh_derive(sa->dh, peer_ke, &gir);
	if (r < 0)
		return r;
	spi_bytes(si, sa->spi_i);
	spi_bytes(sr, sa->spi_r);
	struct crypto_ike_suite s = { sa->suite.encr, sa->suite.encr_bits, sa->suite.integ,
				      sa->suite.prf };
	r = crypto_ike_keys(ike->crypto, &s, CRYPTO_IOV_BUF(gir), CRYPTO_IOV_BUF(sa->ni),
			    CRYPTO_IOV_BUF(sa->nr), si, sr, &sa->keys);
	crypto_buf_free(&gir);
	if (r < 0)
		return r;
	r = ike_sk_make(ike, sa);
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	return r;
}

/* Build and send (or resend, after INVALID_KE / COOKIE) our IKE_SA_INIT request. */
static enum verdict send_request(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	struct crypto_buf pub = { 0 };
	struct msg_out m;
	struct buf out = { 0 };
	int r;

	if (!sa->dh && (r = crypto_dh_new(ike->crypto, sa->dh_group, &sa->dh)) < 0) {
		x_why(x, "cannot make a %s key: %s",
			 ike_dh_short(sa->dh_group), strerror(-r));
		return V_FAIL;
	}
	if ((r = crypto_dh_public(sa->dh, &pub)) < 0)
		return V_FAIL;
	sa->msgid_next = 0;        /* every IKE_SA_INIT request is message 0 */
	r = msg_start(sa, &m, IKE_XCHG_SA_INIT, false, 0, false);
	if (r == 0 && sa->cookie.len) {
		struct ike_notify n = { .type = IKE_N_COOKIE, .data = { sa->cookie.p, sa->cookie.len } };
		ike_emit_notify(&m.e, &n);
	}
	ike_emit_sa(&m.e, &sa->conf.ike->sa);
	ike_emit_ke(&m.e, sa->dh_group, pub.p, pub.len);
	ike_emit_nonce(&m.e, sa->ni.p, sa->ni.len);
	emit_natd(&m, sa, 0);
	emit_frag_supported(&m, sa);
	ike_auth_sa_init_emit(ike, sa, &m.e, false);
	crypto_buf_free(&pub);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		x_why(x, "cannot build IKE_SA_INIT: %s", strerror(-r));
		return V_FAIL;
	}
	buf_free(&sa->msg_i);
	if (buf_dup(&sa->msg_i, out.p, out.len) < 0) {
		buf_free(&out);
		return V_FAIL;
	}
	msg_send_request(ike, sa, &out);
	return V_OK;
}

/* HDR, SAi1, KEi, Ni --> */
static enum verdict initiate(struct xctx *x)
{
	return send_request(x);
}

/* <-- HDR, N(INVALID_KE_PAYLOAD): retry with the group the responder wants, if we
 * offered it (RFC 7296 §1.2). */
static enum verdict retry_ke(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	const struct ike_notify *n = ike_digest_notify(x->d, IKE_N_INVALID_KE_PAYLOAD);
	if (n->data.len != 2)
		return V_IGNORE;
	uint16_t want = (uint16_t)(n->data.p[0] << 8 | n->data.p[1]);
	/* The answer to a retransmission of the request before the retry: it asks for the
	 * group we switched to already. Its twin was answered first; the retry stands (a
	 * slow peer, or a slow us, under TCG: seen against Libreswan in tests/interop). */
	if (want == sa->dh_group && sa->invalid_ke > 0)
		return V_IGNORE;
	if (want == sa->dh_group || !proposals_has_dh(sa->conf.ike, want) ||
	    sa->invalid_ke >= MAX_INVALID_KE) {
		snprintf(x->why, sizeof(x->why),
			 "peer answered INVALID_KE_PAYLOAD asking for %s, which we %s",
			 ike_dh_short(want), want == sa->dh_group ? "sent already" : "do not offer");
		return V_FAIL;
	}
	sa_log(x->ike, sa, LOG_LVL_INFO, "peer answered INVALID_KE_PAYLOAD: retrying with %s "
	       "instead of %s", ike_dh_short(want), ike_dh_short(sa->dh_group));
	sa->invalid_ke++;
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	sa->dh_group = want;
	return send_request(x);
}

/* <-- HDR, N(COOKIE): resend with the cookie first (RFC 7296 §2.6). */
static enum verdict retry_cookie(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	const struct ike_notify *n = ike_digest_notify(x->d, IKE_N_COOKIE);
	if (n->data.len < 1 || n->data.len > 64 || sa->cookie.len > 0xff00)
		return V_IGNORE;
	if (++sa->invalid_ke > MAX_INVALID_KE + MAX_COOKIE) {
		x_why(x, "peer keeps asking for a COOKIE");
		return V_FAIL;
	}
	buf_free(&sa->cookie);
	if (buf_dup(&sa->cookie, n->data.p, n->data.len) < 0)
		return V_FAIL;
	return send_request(x);
}

/* <-- HDR, N(error) */
static enum verdict peer_error(struct xctx *x)
{
	const struct ike_digest *d = x->d;
	for (unsigned i = 0; i < d->n_notify; i++) {
		if (IKE_N_IS_ERROR(d->notify[i].type)) {
			x_why(x, "peer answered %s",
				 ike_notify_name(d->notify[i].type));
			break;
		}
	}
	sa_log(x->ike, x->sa, LOG_LVL_INFO, "IKE_SA_INIT: %s", x->why);
	return V_FAIL;
}

/* <-- HDR, SAr1, KEr, Nr: keys, then the IKE_AUTH request. */
static enum verdict process_response(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	char ours[512], theirs[512];

	if (d->hdr.spi_r == 0)
		return V_IGNORE;
	if (proposals_accept(sa->conf.ike, &d->sa, &sa->suite) < 0 || sa->suite.dh != sa->dh_group ||
	    d->ke.group != sa->dh_group) {
		x_why(x, "peer chose what we did not offer: ours [%s] "
			 "theirs [%s]",
			 proposals_str(&sa->conf.ike->sa, IKE_PROTO_IKE, ours, sizeof(ours)),
			 proposals_str(&d->sa, IKE_PROTO_IKE, theirs, sizeof(theirs)));
		return V_FAIL;
	}
	sa->spi_r = d->hdr.spi_r;
	if (buf_dup(&sa->nr, d->nonce.p, d->nonce.len) < 0)
		return V_FAIL;
	if (make_keys(ike, sa, CRYPTO_IOV(d->ke.data.p, d->ke.data.len)) < 0) {
		x_why(x, "peer's KE payload is not a valid %s value",
			 ike_dh_short(sa->dh_group));
		return V_FAIL;
	}
	buf_free(&sa->msg_r);
	if (buf_dup(&sa->msg_r, d->msg, d->msg_len) < 0)
		return V_FAIL;
	natd_check(x);
	sa->frag = peer_frag_supported(sa, d);
	char e[32];
	sa_log(ike, sa, LOG_LVL_DEBUG, "processed IKE_SA_INIT response {cipher=%s prf=%s ke=%s}, "
	       "initiating IKE_AUTH", ike_encr_str(sa->suite.encr, sa->suite.encr_bits, e, sizeof(e)),
	       ike_xf_id_name(IKE_XF_PRF, sa->suite.prf), ike_dh_short(sa->dh_group));
	return x_auth_initiate(x);
}

/* Is this peer one we negotiate with? The narrowest negotiating entry covering it, or NULL
 * with the refusal noted once. */
static const struct pol_entry *responder_entry(struct xctx *x)
{
	struct meshd_ctx *ctx = x->ike->ctx;
	const struct addr *peer = &x->sa->peer;
	const struct pol_entry *e = policy_classify_oe(ctx->pol, peer);
	if (e)
		return e;
	char ps[ADDR_STRLEN];
	addr_str(peer, ps);
	const struct pol_entry *c = policy_classify(ctx->pol, peer, 0, 0, 0);
	x->ike->st.rx_ignored_policy++;
	if (c)
		oe_note(ctx, peer, "%s tried to negotiate; our policy makes it %s at %s:%u; its "
			"replies will be dropped by its own shunt", ps,
			group_class_name(policy_group(ctx->pol, c)->cls), c->file, c->line);
	else
		oe_note(ctx, peer, "%s tried to negotiate; no group of ours covers it", ps);
	return NULL;
}

/* Responder SAs that answered IKE_SA_INIT and wait for IKE_AUTH. */
static size_t half_open(const struct ike *ike)
{
	return sa_ike_half_open_count(ike->sas);
}

/* RFC 7296 §2.6: under load, only an initiator that echoes our cookie gets DH work. V_OK
 * lets the request through; V_NOTIFY answers N(COOKIE) (a fresh one, also for a wrong
 * cookie) and the dispatcher frees the new SA: no state is kept. */
static enum verdict cookie_gate(struct xctx *x)
{
	struct ike *ike = x->ike;
	const struct ike_digest *d = x->d;
	const struct conf *conf = ike->ctx->conf;
	uint32_t threshold = conf ? conf->setup.ddos_ike_threshold : 50;
	if (half_open(ike) < threshold)
		return V_OK;
	uint64_t now = ike_now_ms(ike);
	const struct ike_notify *n = ike_digest_notify(d, IKE_N_COOKIE);
	if (n && ike_cookie_check(&ike->cookie, now, d->nonce.p, d->nonce.len, x->from,
				  d->hdr.spi_i, n->data.p, n->data.len))
		return V_OK;
	if (n)
		ike->st.rx_cookie_bad++;
	_Static_assert(IKE_COOKIE_LEN <= sizeof(x->notify_data), "a cookie fits the notify");
	if (ike_cookie_make(&ike->cookie, now, d->nonce.p, d->nonce.len, x->from, d->hdr.spi_i,
			    x->notify_data) < 0)
		return V_IGNORE;
	x->notify = IKE_N_COOKIE;
	x->notify_len = IKE_COOKIE_LEN;
	ike->st.cookies_sent++;
	return V_NOTIFY;
}

/* HDR, SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr, Nr */
static enum verdict respond(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	const char *why = NULL;
	char ours[512], theirs[512], ps[ADDR_STRLEN];
	uint8_t num = 0;
	uint16_t want = 0;
	struct crypto_buf pub = { 0 };
	struct msg_out m;
	struct buf out = { 0 };
	int r;

	const struct pol_entry *e = responder_entry(x);
	if (!e)
		return V_IGNORE;
	enum verdict cv = cookie_gate(x);
	if (cv != V_OK)
		return cv;
	if (ike_sa_configure(ike, sa, e, &why) < 0) {
		sa_log(ike, sa, LOG_LVL_WARN, "cannot answer: %s", why);
		return V_IGNORE;
	}
	addr_str(&sa->peer, ps);
	r = proposals_select(sa->conf.ike, &d->sa, d->ke.group, &sa->suite, &num, &want);
	if (r == -EAGAIN) {
		sa_log(ike, sa, LOG_LVL_INFO, "%s sent KE %s; answering INVALID_KE_PAYLOAD for %s",
		       ps, ike_dh_short(d->ke.group), ike_dh_short(want));
		x->notify = IKE_N_INVALID_KE_PAYLOAD;
		x->notify_data[0] = (uint8_t)(want >> 8);
		x->notify_data[1] = (uint8_t)want;
		x->notify_len = 2;
		return V_NOTIFY;
	}
	if (r < 0) {
		sa_log(ike, sa, LOG_LVL_INFO, "no proposal chosen: ours [%s] theirs [%s]",
		       proposals_str(&sa->conf.ike->sa, IKE_PROTO_IKE, ours, sizeof(ours)),
		       proposals_str(&d->sa, IKE_PROTO_IKE, theirs, sizeof(theirs)));
		x->notify = IKE_N_NO_PROPOSAL_CHOSEN;
		return V_NOTIFY;
	}
	sa->dh_group = d->ke.group;
	if (crypto_dh_new(ike->crypto, sa->dh_group, &sa->dh) < 0 ||
	    crypto_dh_public(sa->dh, &pub) < 0)
		return V_IGNORE;
	uint64_t spi_r;
	do {
		if (crypto_random(&spi_r, sizeof(spi_r)) < 0) {
			crypto_buf_free(&pub);
			return V_IGNORE;
		}
	} while (!spi_r);
	sa->spi_r = spi_r;
	if (buf_dup(&sa->ni, d->nonce.p, d->nonce.len) < 0 || ike_new_nonce(&sa->nr) < 0 ||
	    make_keys(ike, sa, CRYPTO_IOV(d->ke.data.p, d->ke.data.len)) < 0) {
		crypto_buf_free(&pub);
		sa_log(ike, sa, LOG_LVL_DEBUG, "IKE_SA_INIT with a bad KE value dropped");
		return V_IGNORE;
	}
	natd_check(x);
	struct ike_sa_pld answer;
	proposals_answer(&sa->suite, IKE_PROTO_IKE, num, &answer);
	r = msg_start(sa, &m, IKE_XCHG_SA_INIT, true, 0, false);
	ike_emit_sa(&m.e, &answer);
	ike_emit_ke(&m.e, sa->dh_group, pub.p, pub.len);
	ike_emit_nonce(&m.e, sa->nr.p, sa->nr.len);
	emit_natd(&m, sa, sa->spi_r);
	sa->frag = peer_frag_supported(sa, d);
	if (sa->frag)
		emit_frag_supported(&m, sa);
	ike_auth_sa_init_emit(ike, sa, &m.e, true);
	crypto_buf_free(&pub);
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		return V_BUG;
	}
	if (buf_dup(&sa->msg_i, d->msg, d->msg_len) < 0 ||
	    buf_dup(&sa->msg_r, out.p, out.len) < 0) {
		buf_free(&out);
		return V_IGNORE;
	}
	msg_send_response(ike, sa, &out, d->msg, d->msg_len);
	char enc[32];
	sa_log(ike, sa, LOG_LVL_DEBUG, "answered IKE_SA_INIT {cipher=%s prf=%s ke=%s}",
	       ike_encr_str(sa->suite.encr, sa->suite.encr_bits, enc, sizeof(enc)),
	       ike_xf_id_name(IKE_XF_PRF, sa->suite.prf), ike_dh_short(sa->dh_group));
	return V_OK;
}

static const struct ike_transition rows[] = {
	/* HDR, SAi1, KEi, Ni --> */
	{ .story = "initiate IKE_SA_INIT", .from = IKES_BIT(IKES_NEW),
	  .xchg = IKE_XCHG_SA_INIT, .role = ROLE_INITIATE, .to = IKES_I_SA_INIT,
	  .handler = initiate },
	/* <-- HDR, N(INVALID_KE_PAYLOAD) */
	{ .story = "retry IKE_SA_INIT with the group the peer wants",
	  .from = IKES_BIT(IKES_I_SA_INIT), .xchg = IKE_XCHG_SA_INIT, .role = ROLE_RESPONSE,
	  .req = PL(NOTIFY), .notify = IKE_N_INVALID_KE_PAYLOAD, .to = IKES_I_SA_INIT,
	  .handler = retry_ke },
	/* <-- HDR, N(COOKIE) */
	{ .story = "retry IKE_SA_INIT with the peer's cookie", .from = IKES_BIT(IKES_I_SA_INIT),
	  .xchg = IKE_XCHG_SA_INIT, .role = ROLE_RESPONSE, .req = PL(NOTIFY),
	  .notify = IKE_N_COOKIE, .to = IKES_I_SA_INIT, .handler = retry_cookie },
	/* <-- HDR, N(error) */
	{ .story = "IKE_SA_INIT refused", .from = IKES_BIT(IKES_I_SA_INIT),
	  .xchg = IKE_XCHG_SA_INIT, .role = ROLE_RESPONSE, .req = PL(NOTIFY),
	  .notify = X_ANY_ERROR, .to = IKES_DEAD, .handler = peer_error },
	/* <-- HDR, SAr1, KEr, Nr, [CERTREQ] ; then HDR, SK {IDi, AUTH, SAi2, TSi, TSr} --> */
	{ .story = "process IKE_SA_INIT response, initiate IKE_AUTH",
	  .from = IKES_BIT(IKES_I_SA_INIT), .xchg = IKE_XCHG_SA_INIT, .role = ROLE_RESPONSE,
	  .req = PL(SA) | PL(KE) | PL(NONCE), .opt = PL(CERTREQ), .to = IKES_I_AUTH,
	  .handler = process_response },
	/* HDR, SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr, Nr */
	{ .story = "respond to IKE_SA_INIT", .from = IKES_BIT(IKES_NEW),
	  .xchg = IKE_XCHG_SA_INIT, .role = ROLE_REQUEST, .req = PL(SA) | PL(KE) | PL(NONCE),
	  .to = IKES_R_SA_INIT, .handler = respond },
};

const struct ike_exchange xchg_sa_init = { "IKE_SA_INIT", rows, ARRAY_LEN(rows) };
