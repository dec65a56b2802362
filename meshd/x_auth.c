/* x_auth.c — IKE_AUTH (RFC 7296 §1.2, §2.15; RFC 7619 NULL authentication): its
 * transition table and handlers. The first Child SA is made here.
 *
 *   Initiator                         Responder
 *   HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
 *                                <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr,
 *                                              [N(USE_TRANSPORT_MODE)]}
 *                                <--  HDR, SK {N(AUTHENTICATION_FAILED)}
 *                                <--  HDR, SK {N(TS_UNACCEPTABLE | NO_PROPOSAL_CHOSEN)}
 *
 * With certificates (RFC 7427 method 14) the request is
 *   HDR, SK {IDi, CERT, [CERTREQ,] AUTH, SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
 * and the answer carries IDr, CERT, AUTH. IDs, certificates and the AUTH payload are made
 * and checked by ike_auth.c; a responder that fails the initiator answers
 * AUTHENTICATION_FAILED and puts the group's failure shunt toward it, an initiator that
 * fails the responder tells it (INFORMATIONAL N(AUTHENTICATION_FAILED), D(IKE)) and gets
 * the failure shunt through oe_failed. */
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
#include "ts.h"

/* The text the logs and status show for an ESP suite. */
void child_esp_text(const struct suite *s, char *buf, size_t n)
{
	char e[32];
	if (s->integ)
		snprintf(buf, n, "ESP %s-%s%s", ike_encr_str(s->encr, s->encr_bits, e, sizeof(e)),
			 ike_xf_id_name(IKE_XF_INTEG, s->integ), s->esn ? "/ESN" : "");
	else
		snprintf(buf, n, "ESP %s%s", ike_encr_str(s->encr, s->encr_bits, e, sizeof(e)),
			 s->esn ? "/ESN" : "");
}

static void established(struct xctx *x, struct child_sa *c)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	char ps[ADDR_STRLEN], e[32], ls[ADDR_STRLEN];
	sa->established_wall = time(NULL);
	sa->child_up = true;
	/* both AUTH payloads are done: the IKE_SA_INIT copies they signed are not needed */
	buf_free(&sa->msg_i);
	buf_free(&sa->msg_r);
	sa_log(ike, sa, LOG_LVL_INFO, "IKE SA #%u established with %s (%s, %s, %s)", sa->serial,
	       addr_str(&sa->peer, ps), ike_encr_str(sa->suite.encr, sa->suite.encr_bits, e, sizeof(e)),
	       ike_dh_short(sa->dh_group), sa->auth_name);
	sa_log(ike, sa, LOG_LVL_INFO, "Child SA #%u established: %s mode %s===%s {%s =>0x%08x "
	       "<0x%08x}", c->serial, c->tunnel ? "tunnel" : "transport", addr_str(&c->local, ls),
	       ps, c->algs, c->spi_out, c->spi_in);
	rekey_ike_arm(ike, sa);
}

static struct child_sa *new_child(struct xctx *x, const struct suite *esp, uint32_t spi_out,
				  const struct ksel *sel, bool tunnel)
{
	struct ike_sa *sa = x->sa;
	struct child_sa *c = sa_child_new(x->ike->sas, sa->serial);
	if (!c)
		return NULL;
	sa_child_set_addrs(x->ike->sas, c, &sa->local, &sa->peer);
	c->spi_in = sa->child_spi_in;
	c->spi_out = spi_out;
	c->reqid = sa->child_reqid;
	c->tunnel = tunnel;
	c->sel = *sel;
	c->esp = *esp;
	snprintf(c->group, sizeof(c->group), "%s", sa->conf.group);
	c->entry = sa->conf.entry;
	c->instance = sa->conf.instance;
	child_esp_text(esp, c->algs, sizeof(c->algs));
	sa->child = c->serial;
	return c;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* HDR, SK {IDi, IDr, AUTH, SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)], [N(INITIAL_CONTACT)]}
 *   --> */
/* The initiator's selectors for sa's IKE_AUTH: a function of the SA's addresses and conf,
 * so built again to check the answer rather than kept (1.3 KB per SA). */
static int my_ts(const struct ike_sa *sa, struct ike_ts_list *ts_i, struct ike_ts_list *ts_r)
{
	struct ts_end le = { sa->local, sa->conf.proto, sa->conf.lport };
	struct ts_end pe = { sa->peer, sa->conf.proto, sa->conf.rport };
	return ts_build(&le, &pe, ts_i, ts_r);
}

enum verdict x_auth_initiate(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	struct msg_out m;
	struct buf out = { 0 };
	int r;

	sa->child_reqid = ike_new_reqid(ike);
	if ((r = child_reserve_spi(ike, sa, sa->child_reqid, &sa->child_spi_in)) < 0) {
		x_why(x, "kernel refused an SPI: %s", strerror(-r));
		return V_FAIL;
	}
	struct ike_ts_list ts_i, ts_r;
	if (my_ts(sa, &ts_i, &ts_r) < 0) {
		x_why(x, "cannot express the traffic selectors");
		return V_FAIL;
	}
	struct auth_mine am;
	if (ike_auth_mine(x, &am) < 0)
		return V_FAIL;
	struct ike_sa_pld esp = sa->conf.esp->sa;
	for (unsigned i = 0; i < esp.n_prop; i++) {
		esp.prop[i].spi_size = 4;
		esp.prop[i].spi[0] = (uint8_t)(sa->child_spi_in >> 24);
		esp.prop[i].spi[1] = (uint8_t)(sa->child_spi_in >> 16);
		esp.prop[i].spi[2] = (uint8_t)(sa->child_spi_in >> 8);
		esp.prop[i].spi[3] = (uint8_t)sa->child_spi_in;
	}
	r = msg_start(sa, &m, IKE_XCHG_AUTH, false, sa->msgid_next, true);
	ike_auth_emit(&m.e, &am, true);
	if (live_initial_contact(ike, sa)) {
		/* RFC 7296 §2.4: no other IKE SA with this peer; after a restart of ours it
		 * drops what it still holds with us (ike_live.c) */
		struct ike_notify n = { .type = IKE_N_INITIAL_CONTACT };
		ike_emit_notify(&m.e, &n);
	}
	if (sa->conf.transport) {
		struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };
		ike_emit_notify(&m.e, &n);
	}
	ike_emit_sa(&m.e, &esp);
	ike_emit_ts(&m.e, IKE_PL_TSI, &ts_i);
	ike_emit_ts(&m.e, IKE_PL_TSR, &ts_r);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		ike_auth_mine_free(&am);
		x_why(x, "cannot build IKE_AUTH: %s", strerror(-r));
		return V_FAIL;
	}
	ike_auth_mine_free(&am);
	msg_send_request(ike, sa, &out);
	return V_OK;
}

/* Responder: the entry that governs the Child SA the initiator asks for. A protocol/port
 * specific entry is found from the selectors; otherwise the narrowest negotiating entry
 * (policy_classify_oe), as at IKE_SA_INIT. */
static const struct pol_entry *child_entry(struct xctx *x)
{
	const struct policy_set *pol = x->ike->ctx->pol;
	const struct ike_digest *d = x->d;
	const struct addr *peer = &x->sa->peer;
	if (d->tsi.n && d->tsr.n) {
		const struct ike_ts *ti = &d->tsi.ts[0], *tr = &d->tsr.ts[0];
		uint16_t rport = ti->sport == ti->eport ? ti->sport : 0;
		uint16_t lport = tr->sport == tr->eport ? tr->sport : 0;
		const struct pol_entry *e = policy_classify(pol, peer, ti->proto, lport, rport);
		if (e) {
			enum group_class gc = policy_group(pol, e)->cls;
			if (gc == GC_OE_RESPOND || gc == GC_OE_PASS || gc == GC_OE_DROP)
				return e;
		}
	}
	return policy_classify_oe(pol, peer);
}

/* Responder: the initiator failed authentication. A group that initiates gets its failure
 * shunt toward the peer, as after a failed attempt of ours (DESIGN.md §2.2 item 5), so
 * `meshctl why` and shuntstatus show the reason on this side too. */
static void responder_failed(struct xctx *x)
{
	struct meshd_ctx *ctx = x->ike->ctx;
	if (live_pair_carried(x->ike, x->sa))
		return;     /* another IKE SA carries the pair: a shunt would replace its policy */
	const struct pol_entry *e = policy_classify_oe(ctx->pol, &x->sa->peer);
	enum group_class gc = e ? policy_group(ctx->pol, e)->cls : GC_NONE;
	if (gc == GC_OE_PASS || gc == GC_OE_DROP)
		oe_failed(ctx, &x->sa->local, &x->sa->peer, x->why);
}

/* The initiator authenticated, but our kernel refused its Child SA: answer with our ID and
 * AUTH and the error (RFC 7296 §2.21.3), so both sides have checked each other, and keep
 * the reason here too. An OE IKE SA without its Child SA is of no use: both drop it.
 *                 <-- HDR, SK {IDr, [CERT,] AUTH, N(NO_PROPOSAL_CHOSEN)} */
static enum verdict child_failed(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	struct auth_mine am;
	struct msg_out m;
	struct buf out = { 0 };
	sa_log(x->ike, sa, LOG_LVL_INFO, "Child SA failed: %s", x->why);
	responder_failed(x);
	if (ike_auth_mine(x, &am) < 0) {
		x->notify = IKE_N_NO_PROPOSAL_CHOSEN;
		return V_NOTIFY;
	}
	struct ike_notify n = { .type = IKE_N_NO_PROPOSAL_CHOSEN };
	int r = msg_start(sa, &m, IKE_XCHG_AUTH, true, x->d->hdr.msgid, true);
	ike_auth_emit(&m.e, &am, false);
	ike_emit_notify(&m.e, &n);
	r = r < 0 ? r : msg_seal(sa, &m, &out);
	ike_auth_mine_free(&am);
	if (r < 0) {
		msg_abort(&m);
		return V_BUG;
	}
	msg_send_response(x->ike, sa, &out, x->d->msg, x->d->msg_len);
	return V_FAIL;
}

/* HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr} -->
 *                 <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr} */
static enum verdict respond(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	char ours[512], theirs[512];
	const char *why = NULL;
	struct msg_out m;
	struct buf out = { 0 };
	int r;

	const struct pol_entry *e = child_entry(x);
	if (!e) {
		x_why(x, "TS_UNACCEPTABLE: no negotiating group entry");
		x->notify = IKE_N_TS_UNACCEPTABLE;
		return V_NOTIFY;
	}
	if (prefix_cmp(&e->pfx, &sa->conf.entry) != 0 || e->proto != sa->conf.proto ||
	    e->lport != sa->conf.lport || e->rport != sa->conf.rport) {
		if (ike_sa_configure(ike, sa, e, &why) < 0) {
			x_why(x, "%s", why);
			x->notify = IKE_N_TS_UNACCEPTABLE;
			return V_NOTIFY;
		}
	}
	enum auth_verdict av = ike_auth_check(x);
	if (av == AUTH_PENDING)
		return V_SUSPEND;     /* the peer's DNS key: resumed with the answer */
	if (av != AUTH_OK) {
		x->notify = IKE_N_AUTHENTICATION_FAILED;
		responder_failed(x);
		return V_NOTIFY;
	}
	if (!ike_auth_ready(ike, sa, &why)) {
		x_why(x, "cannot authenticate ourselves: %s", why);
		sa_log(ike, sa, LOG_LVL_INFO, "%s", x->why);
		x->notify = IKE_N_AUTHENTICATION_FAILED;
		return V_NOTIFY;
	}

	/* a restarted peer: its old SAs go before the new Child SA takes the pair */
	live_replace(ike, sa, ike_digest_notify(d, IKE_N_INITIAL_CONTACT) != NULL);

	/* the Child SA: mode, proposal, selectors */
	bool want_transport = ike_digest_notify(d, IKE_N_USE_TRANSPORT_MODE) != NULL;
	if (want_transport != sa->conf.transport) {
		x_why(x, "NO_PROPOSAL_CHOSEN: peer wants %s mode, group %s "
			 "is %s", want_transport ? "transport" : "tunnel", sa->conf.group,
			 sa->conf.transport ? "transport" : "tunnel");
		sa_log(ike, sa, LOG_LVL_INFO, "%s", x->why);
		x->notify = IKE_N_NO_PROPOSAL_CHOSEN;
		return V_NOTIFY;
	}
	struct suite esp;
	uint8_t num = 0;
	if (proposals_select(sa->conf.esp, &d->sa, 0, &esp, &num, NULL) < 0) {
		x_why(x, "NO_PROPOSAL_CHOSEN for ESP");
		sa_log(ike, sa, LOG_LVL_INFO, "no proposal chosen (ESP): ours [%s] theirs [%s]",
		       proposals_str(&sa->conf.esp->sa, IKE_PROTO_ESP, ours, sizeof(ours)),
		       proposals_str(&d->sa, IKE_PROTO_ESP, theirs, sizeof(theirs)));
		x->notify = IKE_N_NO_PROPOSAL_CHOSEN;
		return V_NOTIFY;
	}
	uint32_t spi_out = 0;
	for (unsigned i = 0; i < d->sa.n_prop; i++)
		if (d->sa.prop[i].num == num && d->sa.prop[i].spi_size == 4)
			spi_out = be32(d->sa.prop[i].spi);
	if (!spi_out) {
		x_why(x, "peer's ESP proposal has no SPI");
		x->notify = IKE_N_INVALID_SYNTAX;
		return V_NOTIFY;
	}
	struct ts_end pe = { sa->peer, e->proto, e->rport }, le = { sa->local, e->proto, e->lport };
	struct ts_pair pair;
	struct ksel sel;
	if (ts_narrow(&d->tsi, &d->tsr, &pe, &le, &pair) < 0 || ts_to_ksel(&pair, false, &sel) < 0) {
		x_why(x, "TS_UNACCEPTABLE: the selectors do not fit group "
			 "%s entry %s:%u", sa->conf.group, e->file, e->line);
		sa_log(ike, sa, LOG_LVL_INFO, "%s", x->why);
		x->notify = IKE_N_TS_UNACCEPTABLE;
		return V_NOTIFY;
	}
	sa->child_reqid = ike_new_reqid(ike);
	if ((r = child_reserve_spi(ike, sa, sa->child_reqid, &sa->child_spi_in)) < 0) {
		x_why(x, "kernel refused an SPI: %s", strerror(-r));
		x->notify = IKE_N_TEMPORARY_FAILURE;
		return V_NOTIFY;
	}
	struct child_sa *c = new_child(x, &esp, spi_out, &sel, !sa->conf.transport);
	if (!c)
		return V_FAIL;
	if (child_install(ike, sa, c, &why) < 0) {
		x_why(x, "%s", why);
		sa_child_free(ike->sas, c);
		sa->child_spi_in = 0;   /* released by child_install's cleanup */
		return child_failed(x);
	}

	/* the answer */
	struct auth_mine am;
	if (ike_auth_mine(x, &am) < 0) {
		sa_log(ike, sa, LOG_LVL_INFO, "cannot authenticate ourselves: %s", x->why);
		child_uninstall(ike, c);
		sa_child_free(ike->sas, c);
		sa->child_spi_in = 0;
		x->notify = IKE_N_AUTHENTICATION_FAILED;
		return V_NOTIFY;
	}
	struct ike_sa_pld ans;
	proposals_answer(&esp, IKE_PROTO_ESP, num, &ans);
	ans.prop[0].spi_size = 4;
	ans.prop[0].spi[0] = (uint8_t)(c->spi_in >> 24);
	ans.prop[0].spi[1] = (uint8_t)(c->spi_in >> 16);
	ans.prop[0].spi[2] = (uint8_t)(c->spi_in >> 8);
	ans.prop[0].spi[3] = (uint8_t)c->spi_in;
	struct ike_ts_list tsi, tsr;
	ts_answer(&pair, &tsi, &tsr);
	r = msg_start(sa, &m, IKE_XCHG_AUTH, true, d->hdr.msgid, true);
	ike_auth_emit(&m.e, &am, false);
	if (sa->conf.transport) {
		struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };
		ike_emit_notify(&m.e, &n);
	}
	ike_emit_sa(&m.e, &ans);
	ike_emit_ts(&m.e, IKE_PL_TSI, &tsi);
	ike_emit_ts(&m.e, IKE_PL_TSR, &tsr);
	r = r < 0 ? r : msg_seal(sa, &m, &out);
	ike_auth_mine_free(&am);
	if (r < 0) {
		msg_abort(&m);
		return V_BUG;
	}
	msg_send_response(ike, sa, &out, d->msg, d->msg_len);
	established(x, c);
	return V_OK;
}

/* <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr} */
static enum verdict process_response(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	const char *why = NULL;

	enum auth_verdict av = ike_auth_check(x);
	if (av == AUTH_PENDING)
		return V_SUSPEND;     /* the responder's DNS key: resumed with the answer */
	if (av != AUTH_OK) {
		ike_auth_reject_responder(x);
		return V_FAIL;
	}
	live_replace(ike, sa, ike_digest_notify(d, IKE_N_INITIAL_CONTACT) != NULL);
	struct suite esp;
	if (proposals_accept(sa->conf.esp, &d->sa, &esp) < 0 || d->sa.prop[0].spi_size != 4) {
		x_why(x, "peer chose an ESP proposal we did not offer");
		return V_FAIL;
	}
	uint32_t spi_out = be32(d->sa.prop[0].spi);
	bool transport = ike_digest_notify(d, IKE_N_USE_TRANSPORT_MODE) != NULL;
	if (transport != sa->conf.transport) {
		x_why(x, "peer answered with %s mode; we asked for %s",
			 transport ? "transport" : "tunnel", sa->conf.transport ? "transport" : "tunnel");
		return V_FAIL;
	}
	struct ts_pair pair;
	struct ksel sel;
	struct ike_ts_list ts_i, ts_r;
	if (my_ts(sa, &ts_i, &ts_r) < 0 ||
	    ts_check_answer(&ts_i, &ts_r, &d->tsi, &d->tsr, &sa->local, &sa->peer, &pair) < 0 ||
	    ts_to_ksel(&pair, true, &sel) < 0) {
		x_why(x, "TS_UNACCEPTABLE: the peer's selectors are not "
			 "within ours");
		return V_FAIL;
	}
	struct child_sa *c = new_child(x, &esp, spi_out, &sel, !sa->conf.transport);
	if (!c)
		return V_FAIL;
	if (child_install(ike, sa, c, &why) < 0) {
		x_why(x, "%s", why);
		sa_child_free(ike->sas, c);
		sa->child_spi_in = 0;
		return V_FAIL;
	}
	established(x, c);
	return V_OK;
}

/* <-- HDR, SK {[IDr, AUTH,] N(error)}: with IDr and AUTH the responder accepted us but
 * not the Child SA; its authentication is still checked (and logged). */
static enum verdict peer_error(struct xctx *x)
{
	const struct ike_digest *d = x->d;
	if ((d->sk_pl & PL(IDR)) && (d->sk_pl & PL(AUTH))) {
		enum auth_verdict av = ike_auth_check(x);
		if (av == AUTH_PENDING)
			return V_SUSPEND;
		if (av != AUTH_OK) {
			ike_auth_reject_responder(x);
			return V_FAIL;
		}
	}
	for (unsigned i = 0; i < d->n_notify; i++) {
		if (IKE_N_IS_ERROR(d->notify[i].type)) {
			x_why(x, "peer answered %s",
				 ike_notify_name(d->notify[i].type));
			break;
		}
	}
	sa_log(x->ike, x->sa, LOG_LVL_INFO, "IKE_AUTH: %s", x->why);
	return V_FAIL;
}

static const struct ike_transition rows[] = {
	/* <-- HDR, SK {[IDr, AUTH,] N(error)} */
	{ .story = "IKE_AUTH refused", .from = IKES_BIT(IKES_I_AUTH), .xchg = IKE_XCHG_AUTH,
	  .role = ROLE_RESPONSE, .req = PL(SK), .sk_req = PL(NOTIFY),
	  .sk_opt = PL(IDR) | PL(AUTH) | PL(CERT), .notify = X_ANY_ERROR, .to = IKES_DEAD,
	  .handler = peer_error },
	/* <-- HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr} */
	{ .story = "process IKE_AUTH response", .from = IKES_BIT(IKES_I_AUTH),
	  .xchg = IKE_XCHG_AUTH, .role = ROLE_RESPONSE, .req = PL(SK),
	  .sk_req = PL(IDR) | PL(AUTH) | PL(SA) | PL(TSI) | PL(TSR), .sk_opt = PL(CERT),
	  .to = IKES_ESTABLISHED, .handler = process_response },
	/* HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr} --> */
	{ .story = "respond to IKE_AUTH", .from = IKES_BIT(IKES_R_SA_INIT),
	  .xchg = IKE_XCHG_AUTH, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(IDI) | PL(AUTH) | PL(SA) | PL(TSI) | PL(TSR),
	  .sk_opt = PL(IDR) | PL(CERT) | PL(CERTREQ), .to = IKES_ESTABLISHED, .handler = respond },
};

const struct ike_exchange xchg_auth = { "IKE_AUTH", rows, ARRAY_LEN(rows) };
