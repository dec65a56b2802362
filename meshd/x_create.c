/* x_create.c — CREATE_CHILD_SA (RFC 7296 §1.3, §2.8, §2.17, §2.18, §2.25): rekeying a
 * Child SA and rekeying the IKE SA; the exchange's transition table and handlers.
 *
 *   Child SA rekey (§1.3.3), PFS with the IKE SA's KE group unless esp= names groups
 *   (libreswan-oe.md §5.6):
 *   HDR, SK {N(REKEY_SA, ESP, SPI), [N(USE_TRANSPORT_MODE),] SA, Ni, KEi, TSi, TSr}  -->
 *                        <--  HDR, SK {[N(USE_TRANSPORT_MODE),] SA, Nr, KEr, TSi, TSr}
 *   IKE SA rekey (§1.3.2):
 *   HDR, SK {SA, Ni, KEi}  -->              <--  HDR, SK {SA, Nr, KEr}
 *   Refusals:               <--  HDR, SK {N(NO_PROPOSAL_CHOSEN | INVALID_KE_PAYLOAD |
 *                                TS_UNACCEPTABLE | TEMPORARY_FAILURE | CHILD_SA_NOT_FOUND |
 *                                NO_ADDITIONAL_SAS)}
 *
 * The REKEY_SA SPI is the one its sender receives on (§1.3.3): our inbound SPI when we
 * ask, the peer's inbound SPI (our outbound one) when we answer. The new Child SA keeps
 * the old one's reqid, so the pair's policies already lead to it and are never touched:
 * the kernel sends on the newest outbound SA of a reqid. The answering side adds its new
 * outbound SA only when the initiator deletes the old Child SA (ike_child.c hand_over):
 * until then the initiator may not have the new inbound SA, and no packet should be sent
 * that it cannot take. The initiator deletes the old Child SA (INFORMATIONAL D(ESP)) once
 * the new pair is in; an IKE SA rekey moves the Child SAs to the new IKE SA and the
 * initiator deletes the old IKE SA (D(IKE)) on it.
 *
 * Collisions (§2.8.1, §2.8.2, §2.25): a rekey request for what we are rekeying ourselves
 * is answered as usual and remembered; once our own answer is in, both ends know the four
 * nonces, and the SA made by the exchange holding the lowest one is deleted by the end
 * that asked for it; the other end's initiator deletes the old SA. Rekeying a Child SA
 * while the IKE SA is being rekeyed (or the other way round, or while one of its Child SAs
 * is being deleted) is answered TEMPORARY_FAILURE, and our own request refused that way is
 * tried again a little later. A request for an additional Child SA (no REKEY_SA) is
 * refused with NO_ADDITIONAL_SAS: an OE IKE SA carries the one host-pair Child SA made in
 * IKE_AUTH (and its rekeyed successors). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_auth.h"
#include "ike_emit.h"
#include "ts.h"

#define MAX_INVALID_KE 1

enum rk_kind { RK_CHILD = 1, RK_IKE };

struct ike_rekey {
	enum rk_kind kind;
	uint32_t old;                 /* RK_CHILD: the Child SA being rekeyed */
	uint16_t dh_group;
	struct crypto_dh *dh;         /* (owned) */
	struct buf ni;                /* our nonce (owned) */
	uint32_t spi_in;              /* RK_CHILD: reserved inbound SPI, 0 once used */
	uint64_t spi;                 /* RK_IKE: our SPI of the new IKE SA */
	struct ike_ts_list ts_i, ts_r;
	unsigned invalid_ke;
	/* the peer's simultaneous rekey of the same SA, answered by us (§2.8.1) */
	uint32_t coll;                /* the SA it made, 0 = none */
	struct buf coll_ni, coll_nr;
};

void ike_rekey_free(struct ike_rekey *rk)
{
	if (!rk)
		return;
	crypto_dh_free(rk->dh);
	buf_free_secret(&rk->ni);
	buf_free_secret(&rk->coll_ni);
	buf_free_secret(&rk->coll_nr);
	free(rk);
}

static void release(struct ike *ike, struct ike_sa *sa, struct ike_rekey *rk)
{
	if (rk && rk->spi_in)
		child_release_spi(ike, sa, rk->spi_in);
	ike_rekey_free(rk);
}

bool x_create_rekeying(const struct ike_sa *sa, uint32_t child)
{
	return sa->rk && sa->rk->kind == RK_CHILD && sa->rk->old == child;
}

void x_create_forget(struct ike *ike, struct ike_sa *sa)
{
	release(ike, sa, sa->rk);
	sa->rk = NULL;
}

/* ---- helpers ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Nonces compare as unsigned byte strings; a proper prefix is the lower (§2.8.1). */
static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

/* Does the exchange with nonces (a1, a2) hold the lowest of the four? */
static bool holds_lowest(const struct buf *a1, const struct ike_blob *a2, const struct buf *b1,
			 const struct buf *b2)
{
	const uint8_t *lo = a1->p;
	size_t lol = a1->len;
	if (nonce_cmp(a2->p, a2->len, lo, lol) < 0) {
		lo = a2->p;
		lol = a2->len;
	}
	return nonce_cmp(lo, lol, b1->p, b1->len) < 0 && nonce_cmp(lo, lol, b2->p, b2->len) < 0;
}

/* The ESP proposals of a rekey: esp= with the KE groups for PFS — those esp= names, or
 * the IKE SA's group (libreswan-oe.md §5.6). */
static void pfs_proposals(const struct ike_sa *sa, struct proposals *p)
{
	uint16_t own = sa->dh_group;
	const uint16_t *g = sa->conf.n_esp_dh ? sa->conf.esp_dh : &own;
	unsigned ng = !sa->conf.pfs ? 0 : sa->conf.n_esp_dh ? sa->conf.n_esp_dh : 1;
	*p = *sa->conf.esp;
	for (unsigned i = 0; i < p->sa.n_prop; i++) {
		struct ike_proposal *pr = &p->sa.prop[i];
		for (unsigned k = 0; k < ng && pr->n_xf < IKE_MAX_TRANSFORMS; k++) {
			/* keep the type order: before ESN */
			unsigned at = pr->n_xf;
			while (at > 0 && pr->xf[at - 1].type == IKE_XF_ESN)
				at--;
			memmove(&pr->xf[at + 1], &pr->xf[at], (pr->n_xf - at) * sizeof(pr->xf[0]));
			pr->xf[at] = (struct ike_transform){ .type = IKE_XF_DH, .id = g[k] };
			pr->n_xf++;
		}
	}
}

static bool child_group_ok(const struct ike_sa *sa, uint16_t g)
{
	if (!sa->conf.pfs)
		return false;
	if (!sa->conf.n_esp_dh)
		return g == sa->dh_group;
	for (unsigned i = 0; i < sa->conf.n_esp_dh; i++)
		if (sa->conf.esp_dh[i] == g)
			return true;
	return false;
}

static struct child_sa *child_by_spi_out(struct ike *ike, const struct ike_sa *sa, uint32_t spi)
{
	struct child_sa *c;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
		if (c->ike_serial == sa->serial && c->spi_out == spi)
			return c;
	return NULL;
}

static void move_children(struct ike *ike, uint32_t from, uint32_t to)
{
	struct child_sa *c;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
		if (c->ike_serial == from)
			c->ike_serial = to;
}

/* g^ir of our DH and the peer's KE payload (the DH is freed). */
static int shared_secret(struct crypto_dh **dh, const struct ike_digest *d,
			 struct crypto_buf *gir)
{
	int r = crypto_dh_derive(*dh, CRYPTO_IOV(d->ke.data.p, d->ke.data.len), gir);
	crypto_dh_free(*dh);
	*dh = NULL;
	return r;
}

/* A new Child SA carrying on from old, with the negotiated suite and SPIs. */
static struct child_sa *successor(struct ike *ike, const struct ike_sa *sa,
				  const struct child_sa *old, const struct suite *esp,
				  uint32_t spi_in, uint32_t spi_out, bool initiator)
{
	struct child_sa *c = sa_child_new(ike->sas, sa->serial);
	if (!c)
		return NULL;
	sa_child_set_addrs(ike->sas, c, &old->local, &old->peer);
	c->reqid = old->reqid;
	c->tunnel = old->tunnel;
	c->sel = old->sel;
	c->esp = *esp;
	memcpy(c->group, old->group, sizeof(c->group));
	c->entry = old->entry;
	c->instance = old->instance;
	c->spi_in = spi_in;
	c->spi_out = spi_out;
	c->initiator = initiator;
	c->replaces = old->serial;
	child_esp_text(esp, c->algs, sizeof(c->algs));
	return c;
}

static void log_child(struct ike *ike, struct ike_sa *sa, const struct child_sa *old,
		      const struct child_sa *c, const char *role)
{
	sa_log(ike, sa, LOG_LVL_INFO, "Child SA #%u rekeyed as #%u (%s, PFS %s): {%s =>0x%08x "
	       "<0x%08x}", old->serial, c->serial, role,
	       c->esp.dh ? ike_dh_short(c->esp.dh) : "none", c->algs, c->spi_out, c->spi_in);
}

/* Our Delete(IKE) for an IKE SA whose Child SAs have moved on (ike_rekey.c checks that
 * no request is outstanding). */
static int send_delete_ike(struct ike *ike, struct ike_sa *sa)
{
	struct msg_out m;
	struct buf out = { 0 };
	struct ike_delete del = { .proto = IKE_PROTO_IKE };
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r == 0)
		r = ike_emit_delete(&m.e, &del);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_request(ike, sa, &out);
}

/* ---- initiator: the requests ---- */

static struct ike_rekey *rk_new(enum rk_kind kind, uint16_t group)
{
	struct ike_rekey *rk = calloc(1, sizeof(*rk));
	if (rk) {
		rk->kind = kind;
		rk->dh_group = group;
	}
	return rk;
}

static int rk_keys(struct ike *ike, struct ike_rekey *rk, struct crypto_buf *pub)
{
	int r = ike_new_nonce(&rk->ni);
	if (!rk->dh_group)
		return r;     /* pfs=no */
	if (r == 0)
		r = crypto_dh_new(ike->crypto, rk->dh_group, &rk->dh);
	if (r == 0)
		r = crypto_dh_public(rk->dh, pub);
	return r;
}

/* HDR, SK {N(REKEY_SA), [N(USE_TRANSPORT_MODE),] SA, Ni, KEi, TSi, TSr} --> */
static int request_child(struct ike *ike, struct ike_sa *sa, const struct child_sa *c,
			 struct ike_rekey *rk)
{
	struct crypto_buf pub = { 0 };
	struct proposals p;
	struct msg_out m;
	struct buf out = { 0 };
	uint8_t spi[4];
	int r = child_reserve_spi(ike, sa, c->reqid, &rk->spi_in);
	if (r == 0)
		r = rk_keys(ike, rk, &pub);
	struct ts_end le = { sa->local, sa->conf.proto, sa->conf.lport };
	struct ts_end pe = { sa->peer, sa->conf.proto, sa->conf.rport };
	if (r == 0)
		r = ts_build(&le, &pe, &rk->ts_i, &rk->ts_r);
	if (r < 0) {
		crypto_buf_free(&pub);
		return r;
	}
	pfs_proposals(sa, &p);
	for (unsigned i = 0; i < p.sa.n_prop; i++) {
		p.sa.prop[i].spi_size = 4;
		put32(p.sa.prop[i].spi, rk->spi_in);
	}
	put32(spi, c->spi_in);
	struct ike_notify rekey = { .proto = IKE_PROTO_ESP, .type = IKE_N_REKEY_SA,
				    .spi = { spi, 4 } };
	r = msg_start(sa, &m, IKE_XCHG_CREATE_CHILD_SA, false, sa->msgid_next, true);
	ike_emit_notify(&m.e, &rekey);
	if (sa->conf.transport) {
		struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };
		ike_emit_notify(&m.e, &n);
	}
	ike_emit_sa(&m.e, &p.sa);
	ike_emit_nonce(&m.e, rk->ni.p, rk->ni.len);
	if (rk->dh_group)
		ike_emit_ke(&m.e, rk->dh_group, pub.p, pub.len);
	ike_emit_ts(&m.e, IKE_PL_TSI, &rk->ts_i);
	ike_emit_ts(&m.e, IKE_PL_TSR, &rk->ts_r);
	crypto_buf_free(&pub);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_request(ike, sa, &out);
}

static int start_child(struct ike *ike, struct ike_sa *sa, struct child_sa *c, uint16_t group,
		       unsigned invalid_ke)
{
	if (sa->state != IKES_ESTABLISHED || sa->replaced_by || sa->rk || sa->req_out)
		return -EBUSY;
	struct ike_rekey *rk = rk_new(RK_CHILD, group);
	if (!rk)
		return -ENOMEM;
	rk->old = c->serial;
	rk->invalid_ke = invalid_ke;
	int r = request_child(ike, sa, c, rk);
	if (r < 0) {
		sa_log(ike, sa, LOG_LVL_WARN, "cannot rekey Child SA #%u: %s", c->serial,
		       strerror(-r));
		release(ike, sa, rk);
		return r;
	}
	sa->rk = rk;
	sa_log(ike, sa, LOG_LVL_INFO, "rekeying Child SA #%u (PFS %s)", c->serial,
	       group ? ike_dh_short(group) : "none");
	return 0;
}

int x_create_rekey_child(struct ike *ike, struct ike_sa *sa, struct child_sa *c)
{
	uint16_t g = !sa->conf.pfs ? 0 : sa->conf.n_esp_dh ? sa->conf.esp_dh[0] : sa->dh_group;
	return start_child(ike, sa, c, g, 0);
}

/* HDR, SK {SA, Ni, KEi} --> */
static int request_ike(struct ike *ike, struct ike_sa *sa, struct ike_rekey *rk)
{
	struct crypto_buf pub = { 0 };
	struct ike_sa_pld p = sa->conf.ike->sa;
	struct msg_out m;
	struct buf out = { 0 };
	int r;
	do {
		if ((r = crypto_random(&rk->spi, sizeof(rk->spi))) < 0)
			return r;
	} while (!rk->spi);
	if ((r = rk_keys(ike, rk, &pub)) < 0) {
		crypto_buf_free(&pub);
		return r;
	}
	for (unsigned i = 0; i < p.n_prop; i++) {
		p.prop[i].spi_size = 8;
		put64(p.prop[i].spi, rk->spi);
	}
	r = msg_start(sa, &m, IKE_XCHG_CREATE_CHILD_SA, false, sa->msgid_next, true);
	ike_emit_sa(&m.e, &p);
	ike_emit_nonce(&m.e, rk->ni.p, rk->ni.len);
	ike_emit_ke(&m.e, rk->dh_group, pub.p, pub.len);
	crypto_buf_free(&pub);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_request(ike, sa, &out);
}

static int start_ike(struct ike *ike, struct ike_sa *sa, uint16_t group, unsigned invalid_ke)
{
	if (sa->state != IKES_ESTABLISHED || sa->replaced_by || sa->rk || sa->req_out)
		return -EBUSY;
	struct ike_rekey *rk = rk_new(RK_IKE, group);
	if (!rk)
		return -ENOMEM;
	rk->invalid_ke = invalid_ke;
	int r = request_ike(ike, sa, rk);
	if (r < 0) {
		sa_log(ike, sa, LOG_LVL_WARN, "cannot rekey IKE SA #%u: %s", sa->serial,
		       strerror(-r));
		release(ike, sa, rk);
		return r;
	}
	sa->rk = rk;
	sa_log(ike, sa, LOG_LVL_INFO, "rekeying IKE SA #%u (%s)", sa->serial,
	       ike_dh_short(group));
	return 0;
}

int x_create_rekey_ike(struct ike *ike, struct ike_sa *sa)
{
	return start_ike(ike, sa, sa->dh_group, 0);
}

/* ---- the new IKE SA ---- */

/* A new IKE SA taking over from old with the given SPIs; not yet in any state. */
static struct ike_sa *new_ike(struct ike *ike, const struct ike_sa *old, uint64_t spi_i,
			      uint64_t spi_r, bool initiator, const struct suite *suite)
{
	struct ike_sa *n = sa_ike_new(ike->sas);
	if (!n)
		return NULL;
	n->initiator = initiator;
	n->oe = old->oe;
	sa_ike_set_spi_i(ike->sas, n, spi_i);
	n->spi_r = spi_r;
	sa_ike_set_addrs(ike->sas, n, &old->local, &old->peer);
	n->lport = old->lport;
	n->rport = old->rport;
	n->conf = old->conf;
	n->suite = *suite;
	n->dh_group = suite->dh;
	n->nat_local = old->nat_local;
	n->nat_peer = old->nat_peer;
	n->frag = old->frag;
	n->peer_id_type = old->peer_id_type;
	memcpy(n->peer_id, old->peer_id, sizeof(n->peer_id));
	n->auth_name = old->auth_name;
	n->child = old->child;
	n->child_reqid = old->child_reqid;
	n->child_up = true;
	n->rekey_of = old->serial;
	n->established_wall = time(NULL);
	return n;
}

/* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), the seven keys with the new SPIs
 * (RFC 7296 §2.18), and the SK protection both ways. */
static int rekey_keys(struct ike *ike, const struct ike_sa *old, struct ike_sa *n,
		      const struct crypto_buf *gir)
{
	uint8_t si[8], sr[8];
	put64(si, n->spi_i);
	put64(sr, n->spi_r);
	struct crypto_ike_suite s = { n->suite.encr, n->suite.encr_bits, n->suite.integ,
				      n->suite.prf };
	int r = crypto_ike_rekey_keys(ike->crypto, old->suite.prf, CRYPTO_IOV_BUF(old->keys.sk_d),
				      &s, CRYPTO_IOV_BUF(*gir), CRYPTO_IOV_BUF(n->ni),
				      CRYPTO_IOV_BUF(n->nr), si, sr, &n->keys);
	if (r < 0)
		return r;
	return ike_sk_make(ike, n);
}

/* The new IKE SA is up: it takes the Child SAs, the old one stops rekeying. */
static void ike_took_over(struct ike *ike, struct ike_sa *old, struct ike_sa *n,
			  const char *role)
{
	char e[32];
	exchange_adopt(ike, n, "IKE SA rekeyed");
	rekey_ike_arm(ike, n);
	move_children(ike, old->serial, n->serial);
	ike_dns_rekeyed(ike, old->serial, n->serial);
	if (!old->replaced_by)
		old->replaced_by = n->serial;
	ike_timer_cancel(ike, &old->rekey_timer);
	ike_timer_cancel(ike, &old->sample_timer);
	sa_log(ike, old, LOG_LVL_INFO, "IKE SA #%u rekeyed as #%u (%s, %s, %s)", old->serial,
	       n->serial, role, ike_encr_str(n->suite.encr, n->suite.encr_bits, e, sizeof(e)),
	       ike_dh_short(n->dh_group));
}

/* ---- initiator: the answers ---- */

static enum verdict rekey_failed(struct xctx *x, const struct ike_rekey *rk, const char *what)
{
	x_why(x, "%s", what);
	sa_log(x->ike, x->sa, LOG_LVL_INFO, "rekey of %s #%u failed: %s; it expires at the end "
	       "of its lifetime", rk->kind == RK_CHILD ? "Child SA" : "IKE SA",
	       rk->kind == RK_CHILD ? rk->old : x->sa->serial, what);
	return V_OK;
}

/* §2.8.1: both rekeyed Child SA old at once. The exchange with the lowest nonce made the
 * redundant SA; its initiator deletes it, the other initiator deletes old. */
static void child_collision(struct ike *ike, struct ike_sa *sa, struct ike_rekey *rk,
			    struct child_sa *old, struct child_sa *mine,
			    const struct ike_blob *nr)
{
	struct child_sa *theirs = sa_child_by_serial(ike->sas, rk->coll);
	if (holds_lowest(&rk->ni, nr, &rk->coll_ni, &rk->coll_nr)) {
		sa_log(ike, sa, LOG_LVL_INFO, "simultaneous rekey of Child SA #%u: ours (#%u) has "
		       "the lowest nonce and goes, #%u stays", old->serial, mine->serial, rk->coll);
		if (theirs)
			old->replaced_by = theirs->serial;
		(void)rekey_delete_child(ike, sa, mine);
		return;
	}
	sa_log(ike, sa, LOG_LVL_INFO, "simultaneous rekey of Child SA #%u: #%u stays, the "
	       "peer deletes #%u", old->serial, mine->serial, rk->coll);
	old->replaced_by = mine->serial;
	if (theirs && theirs->out_pending) {
		/* it is going: it never sends */
		explicit_bzero(theirs->out_pending, sizeof(*theirs->out_pending));
		free(theirs->out_pending);
		theirs->out_pending = NULL;
	}
	(void)rekey_delete_child(ike, sa, old);
}

/* <-- HDR, SK {[N(USE_TRANSPORT_MODE),] SA, Nr, KEr, TSi, TSr} */
static enum verdict child_answered(struct xctx *x, struct ike_rekey *rk)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	struct child_sa *old = sa_child_by_serial(ike->sas, rk->old);
	struct proposals p;
	struct suite esp;
	struct ts_pair pair;
	struct ksel sel;
	const char *why;

	pfs_proposals(sa, &p);
	if (!old)
		return rekey_failed(x, rk, "the Child SA went away meanwhile");
	bool ke = d->sk_pl & PL(KE);
	if (proposals_accept(&p, &d->sa, &esp) < 0 || d->sa.prop[0].spi_size != 4 ||
	    esp.dh != rk->dh_group || ke != (rk->dh_group != 0) || (ke && d->ke.group != rk->dh_group))
		return rekey_failed(x, rk, "peer chose an ESP proposal we did not offer");
	if ((ike_digest_notify(d, IKE_N_USE_TRANSPORT_MODE) != NULL) != sa->conf.transport)
		return rekey_failed(x, rk, "peer answered with another mode");
	if (!(d->sk_pl & PL(TSI)) || !(d->sk_pl & PL(TSR)) ||
	    ts_check_answer(&rk->ts_i, &rk->ts_r, &d->tsi, &d->tsr, &sa->local, &sa->peer,
			    &pair) < 0 || ts_to_ksel(&pair, true, &sel) < 0 ||
	    !child_same_sel(&sel, &old->sel))
		return rekey_failed(x, rk, "peer's selectors differ from the Child SA's");
	struct crypto_buf gir = { 0 };
	if (ke && shared_secret(&rk->dh, d, &gir) < 0)
		return rekey_failed(x, rk, "peer's KE payload is not a valid value");
	struct child_sa *c = successor(ike, sa, old, &esp, rk->spi_in, be32(d->sa.prop[0].spi),
				       true);
	int r = c ? child_install_rekey(ike, sa, c, CRYPTO_IOV_BUF(gir), CRYPTO_IOV_BUF(rk->ni),
					CRYPTO_IOV(d->nonce.p, d->nonce.len), false, &why)
		  : -ENOMEM;
	crypto_buf_free(&gir);
	rk->spi_in = 0;       /* c owns it now (its cleanup released it on failure) */
	if (r < 0) {
		if (c)
			sa_child_free(ike->sas, c);
		return rekey_failed(x, rk, c ? why : "out of memory");
	}
	log_child(ike, sa, old, c, "initiator");
	if (rk->coll) {
		child_collision(ike, sa, rk, old, c, &d->nonce);
		return V_OK;
	}
	old->replaced_by = c->serial;
	if (rekey_delete_child(ike, sa, old) < 0)
		sa_log(ike, sa, LOG_LVL_WARN, "cannot delete Child SA #%u", old->serial);
	return V_OK;
}

/* §2.8.2: both rekeyed the IKE SA at once; the Child SAs go to the SA that stays. */
static void ike_collision(struct xctx *x, struct ike_rekey *rk, struct ike_sa *mine)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa, *theirs = sa_ike_by_serial(ike->sas, rk->coll);
	if (theirs && holds_lowest(&mine->ni, &x->d->nonce, &rk->coll_ni, &rk->coll_nr)) {
		sa_log(ike, sa, LOG_LVL_INFO, "simultaneous rekey of IKE SA #%u: ours (#%u) has "
		       "the lowest nonce and goes, #%u stays", sa->serial, mine->serial,
		       theirs->serial);
		move_children(ike, mine->serial, theirs->serial);
		sa->replaced_by = theirs->serial;
		(void)exchange_initiate(ike, mine, &xchg_info);
		return;
	}
	sa_log(ike, sa, LOG_LVL_INFO, "simultaneous rekey of IKE SA #%u: #%u stays, the peer "
	       "deletes #%u", sa->serial, mine->serial, rk->coll);
	if (theirs)
		move_children(ike, theirs->serial, mine->serial);
	sa->replaced_by = mine->serial;
	if (send_delete_ike(ike, sa) == 0) {
		x->next_set = true;
		x->next = IKES_DELETING;
	}
}

/* <-- HDR, SK {SA, Nr, KEr} */
static enum verdict ike_answered(struct xctx *x, struct ike_rekey *rk)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	struct suite suite;
	if (proposals_accept(sa->conf.ike, &d->sa, &suite) < 0 || d->sa.prop[0].spi_size != 8 ||
	    suite.dh != rk->dh_group || !(d->sk_pl & PL(KE)) || d->ke.group != rk->dh_group ||
	    (d->sk_pl & (PL(TSI) | PL(TSR))))
		return rekey_failed(x, rk, "peer chose an IKE proposal we did not offer");
	uint64_t spi_r = be64(d->sa.prop[0].spi);
	struct crypto_buf gir = { 0 };
	if (!spi_r || shared_secret(&rk->dh, d, &gir) < 0)
		return rekey_failed(x, rk, "peer's SPI or KE payload is not valid");
	struct ike_sa *n = new_ike(ike, sa, rk->spi, spi_r, true, &suite);
	int r = n ? 0 : -ENOMEM;
	if (r == 0) {
		n->ni = rk->ni;
		rk->ni = (struct buf){ 0 };
		r = buf_dup(&n->nr, d->nonce.p, d->nonce.len);
	}
	if (r == 0)
		r = rekey_keys(ike, sa, n, &gir);
	crypto_buf_free(&gir);
	if (r < 0) {
		if (n)
			sa_ike_free(ike->sas, n);
		return rekey_failed(x, rk, "cannot make the new IKE SA's keys");
	}
	ike_took_over(ike, sa, n, "initiator");
	if (rk->coll) {
		ike_collision(x, rk, n);
		return V_OK;
	}
	if (send_delete_ike(ike, sa) == 0) {
		sa_log(ike, sa, LOG_LVL_INFO, "deleting IKE SA #%u (rekeyed as #%u)", sa->serial,
		       n->serial);
		x->next_set = true;
		x->next = IKES_DELETING;
	}
	return V_OK;
}

static enum verdict answered(struct xctx *x)
{
	struct ike_rekey *rk = x->sa->rk;
	if (!rk)
		return V_OK;      /* not a request of ours that we still know: just done */
	x->sa->rk = NULL;
	msg_request_done(x->ike, x->sa);    /* answered: the next request may go now */
	enum verdict v = rk->kind == RK_CHILD ? child_answered(x, rk) : ike_answered(x, rk);
	release(x->ike, x->sa, rk);
	return v;
}

/* INVALID_KE_PAYLOAD: once more with the group the peer wants, if we allow it. */
static bool retry_ke(struct xctx *x, const struct ike_rekey *rk, const struct ike_notify *n)
{
	struct ike_sa *sa = x->sa;
	if (n->data.len != 2 || rk->invalid_ke >= MAX_INVALID_KE)
		return false;
	uint16_t want = (uint16_t)(n->data.p[0] << 8 | n->data.p[1]);
	bool ok = rk->kind == RK_CHILD ? child_group_ok(sa, want)
				       : proposals_has_dh(sa->conf.ike, want);
	if (!ok || want == rk->dh_group)
		return false;
	sa_log(x->ike, sa, LOG_LVL_INFO, "peer answered INVALID_KE_PAYLOAD: rekeying with %s "
	       "instead of %s", ike_dh_short(want), ike_dh_short(rk->dh_group));
	struct child_sa *c = rk->kind == RK_CHILD ? sa_child_by_serial(x->ike->sas, rk->old)
						  : NULL;
	if (rk->kind == RK_CHILD)
		return c && start_child(x->ike, sa, c, want, rk->invalid_ke + 1) == 0;
	return start_ike(x->ike, sa, want, rk->invalid_ke + 1) == 0;
}

/* <-- HDR, SK {N(error)} */
static enum verdict refused(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	struct ike_rekey *rk = sa->rk;
	const struct ike_notify *n = NULL;
	if (!rk)
		return V_OK;
	sa->rk = NULL;
	msg_request_done(ike, sa);
	for (unsigned i = 0; i < x->d->n_notify && !n; i++)
		if (IKE_N_IS_ERROR(x->d->notify[i].type))
			n = &x->d->notify[i];
	bool child = rk->kind == RK_CHILD;
	uint32_t serial = child ? rk->old : sa->serial;
	const struct child_sa *c = child ? sa_child_by_serial(ike->sas, rk->old) : NULL;
	if (n->type == IKE_N_INVALID_KE_PAYLOAD && retry_ke(x, rk, n)) {
		/* a new request is out */
	} else if ((child && (!c || c->replaced_by)) || (!child && sa->replaced_by)) {
		/* the peer's own rekey replaced it meanwhile (§2.25): nothing to do */
		sa_log(ike, sa, LOG_LVL_DEBUG, "rekey of #%u answered %s; already replaced",
		       serial, ike_notify_name(n->type));
	} else if (n->type == IKE_N_TEMPORARY_FAILURE) {
		uint32_t wait;
		if (crypto_random(&wait, sizeof(wait)) < 0)
			wait = 0;
		wait = 1000 + wait % 2000;
		sa_log(ike, sa, LOG_LVL_INFO, "rekey of %s #%u: peer answered TEMPORARY_FAILURE; "
		       "trying again in %u ms", child ? "Child SA" : "IKE SA", serial, wait);
		rekey_retry(ike, serial, !child, wait);
	} else {
		char why[96];
		snprintf(why, sizeof(why), "peer answered %s", ike_notify_name(n->type));
		(void)rekey_failed(x, rk, why);
	}
	release(ike, sa, rk);
	return V_OK;
}

/* ---- responder ---- */

static enum verdict notify(struct xctx *x, uint16_t type, const char *why)
{
	x->notify = type;
	if (why != x->why)
		x_why(x, "%s", why);
	sa_log(x->ike, x->sa, LOG_LVL_INFO, "CREATE_CHILD_SA: answering %s: %s",
	       ike_notify_name(type), x->why);
	return V_NOTIFY;
}

/* The Child SA of a REKEY_SA notify, or a refusal in *v. */
static struct child_sa *rekey_target(struct xctx *x, enum verdict *v)
{
	const struct ike_notify *n = ike_digest_notify(x->d, IKE_N_REKEY_SA);
	struct ike_sa *sa = x->sa;
	if (n->proto != IKE_PROTO_ESP || n->spi.len != 4) {
		*v = notify(x, IKE_N_INVALID_SYNTAX, "REKEY_SA without an ESP SPI");
		return NULL;
	}
	struct child_sa *old = child_by_spi_out(x->ike, sa, be32(n->spi.p));
	if (!old)
		*v = notify(x, IKE_N_CHILD_SA_NOT_FOUND, "no Child SA with that SPI");
	else if (sa->rk && sa->rk->kind == RK_IKE)
		*v = notify(x, IKE_N_TEMPORARY_FAILURE, "we are rekeying the IKE SA");
	else if (old->deleting || old->replaced_by)
		*v = notify(x, IKE_N_TEMPORARY_FAILURE, "the Child SA is being replaced");
	else if ((ike_digest_notify(x->d, IKE_N_USE_TRANSPORT_MODE) != NULL) != sa->conf.transport)
		*v = notify(x, IKE_N_NO_PROPOSAL_CHOSEN, sa->conf.transport
			    ? "peer wants tunnel mode" : "peer wants transport mode");
	else
		return old;
	return NULL;
}

/* The negotiated ESP suite, the peer's SPI and our DH answer, or a refusal. */
static enum verdict child_choose(struct xctx *x, const struct child_sa *old, struct suite *esp,
				 uint32_t *spi_out, struct ts_pair *pair)
{
	const struct ike_digest *d = x->d;
	struct ike_sa *sa = x->sa;
	struct proposals p;
	char ours[512], theirs[512];
	uint8_t num = 0;
	uint16_t want = 0;
	pfs_proposals(sa, &p);
	int r = proposals_select(&p, &d->sa, (d->sk_pl & PL(KE)) ? d->ke.group : 0, esp, &num,
				 &want);
	if (r == -EAGAIN) {
		x->notify_data[0] = (uint8_t)(want >> 8);
		x->notify_data[1] = (uint8_t)want;
		x->notify_len = 2;
		x_why(x, "we want KE %s", ike_dh_short(want));
		return notify(x, IKE_N_INVALID_KE_PAYLOAD, x->why);
	}
	if (r < 0) {
		sa_log(x->ike, sa, LOG_LVL_INFO, "no proposal chosen (ESP rekey): ours [%s] theirs "
		       "[%s]", proposals_str(&p.sa, IKE_PROTO_ESP, ours, sizeof(ours)),
		       proposals_str(&d->sa, IKE_PROTO_ESP, theirs, sizeof(theirs)));
		return notify(x, IKE_N_NO_PROPOSAL_CHOSEN, "ESP proposals do not match");
	}
	*spi_out = 0;
	for (unsigned i = 0; i < d->sa.n_prop; i++)
		if (d->sa.prop[i].num == num && d->sa.prop[i].spi_size == 4)
			*spi_out = be32(d->sa.prop[i].spi);
	if (!*spi_out)
		return notify(x, IKE_N_INVALID_SYNTAX, "peer's ESP proposal has no SPI");
	struct ts_end pe = { sa->peer, sa->conf.proto, sa->conf.rport };
	struct ts_end le = { sa->local, sa->conf.proto, sa->conf.lport };
	struct ksel sel;
	if (ts_narrow(&d->tsi, &d->tsr, &pe, &le, pair) < 0 ||
	    ts_to_ksel(pair, false, &sel) < 0 || !child_same_sel(&sel, &old->sel))
		return notify(x, IKE_N_TS_UNACCEPTABLE, "the selectors are not the Child SA's");
	return V_OK;
}

/* <-- HDR, SK {[N(USE_TRANSPORT_MODE),] SA, Nr, KEr, TSi, TSr} */
static int answer_child(struct xctx *x, const struct child_sa *c, uint8_t num,
			const struct ts_pair *pair, const struct buf *nr,
			const struct crypto_buf *pub)
{
	struct ike_sa_pld ans;
	struct ike_ts_list tsi, tsr;
	struct msg_out m;
	struct buf out = { 0 };
	proposals_answer(&c->esp, IKE_PROTO_ESP, num, &ans);
	ans.prop[0].spi_size = 4;
	put32(ans.prop[0].spi, c->spi_in);
	ts_answer(pair, &tsi, &tsr);
	int r = msg_start(x->sa, &m, IKE_XCHG_CREATE_CHILD_SA, true, x->d->hdr.msgid, true);
	if (x->sa->conf.transport) {
		struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };
		ike_emit_notify(&m.e, &n);
	}
	ike_emit_sa(&m.e, &ans);
	ike_emit_nonce(&m.e, nr->p, nr->len);
	if (pub->len)
		ike_emit_ke(&m.e, c->esp.dh, pub->p, pub->len);
	ike_emit_ts(&m.e, IKE_PL_TSI, &tsi);
	ike_emit_ts(&m.e, IKE_PL_TSR, &tsr);
	if (r < 0 || (r = msg_seal(x->sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_response(x->ike, x->sa, &out, x->d->msg, x->d->msg_len);
}

static uint8_t chosen_num(const struct ike_digest *d, uint32_t spi_out)
{
	for (unsigned i = 0; i < d->sa.n_prop; i++)
		if (d->sa.prop[i].spi_size == 4 && be32(d->sa.prop[i].spi) == spi_out)
			return d->sa.prop[i].num;
	return 0;
}

/* Our half of the new Child SA: SPI, nonce, DH, keys; the outbound SA waits. */
static struct child_sa *child_make(struct xctx *x, struct child_sa *old, const struct suite *esp,
				   uint32_t spi_out, struct buf *nr, struct crypto_buf *pub)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	struct crypto_dh *dh = NULL;
	struct crypto_buf gir = { 0 };
	uint32_t spi_in = 0;
	const char *why = "cannot make the keys";
	struct child_sa *c = NULL;
	if (ike_new_nonce(nr) < 0 ||
	    (esp->dh && (crypto_dh_new(ike->crypto, esp->dh, &dh) < 0 ||
			 crypto_dh_public(dh, pub) < 0 || shared_secret(&dh, x->d, &gir) < 0)))
		goto out;
	why = "kernel refused an SPI";
	if (child_reserve_spi(ike, sa, old->reqid, &spi_in) < 0)
		goto out;
	why = "out of memory";
	if (!(c = successor(ike, sa, old, esp, spi_in, spi_out, false))) {
		child_release_spi(ike, sa, spi_in);
		goto out;
	}
	if (child_install_rekey(ike, sa, c, CRYPTO_IOV_BUF(gir),
				CRYPTO_IOV(x->d->nonce.p, x->d->nonce.len), CRYPTO_IOV_BUF(*nr),
				true, &why) < 0) {
		sa_child_free(ike->sas, c);
		c = NULL;
	}
out:
	crypto_dh_free(dh);
	crypto_buf_free(&gir);
	if (!c)
		x_why(x, "%s", why);
	return c;
}

/* HDR, SK {N(REKEY_SA), SA, Ni, KEi, TSi, TSr} -->  <-- HDR, SK {SA, Nr, KEr, TSi, TSr} */
static enum verdict respond_child(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	enum verdict v = V_NOTIFY;
	struct suite esp;
	uint32_t spi_out;
	struct ts_pair pair;
	struct child_sa *old = rekey_target(x, &v);
	if (!old)
		return v;
	if ((v = child_choose(x, old, &esp, &spi_out, &pair)) != V_OK)
		return v;
	struct buf nr = { 0 };
	struct crypto_buf pub = { 0 };
	struct child_sa *c = child_make(x, old, &esp, spi_out, &nr, &pub);
	if (!c) {
		buf_free_secret(&nr);
		crypto_buf_free(&pub);
		return notify(x, IKE_N_NO_PROPOSAL_CHOSEN, x->why);
	}
	int r = answer_child(x, c, chosen_num(x->d, spi_out), &pair, &nr, &pub);
	crypto_buf_free(&pub);
	if (r < 0) {
		child_uninstall(ike, c);
		sa_child_free(ike->sas, c);
		buf_free_secret(&nr);
		return V_BUG;
	}
	log_child(ike, sa, old, c, "responder");
	if (!old->replaced_by)
		old->replaced_by = c->serial;
	ike_timer_cancel(ike, &old->rekey_timer);
	if (sa->rk && sa->rk->kind == RK_CHILD && sa->rk->old == old->serial && !sa->rk->coll) {
		/* §2.8.1: we asked to rekey it too; decided when our answer comes */
		sa->rk->coll = c->serial;
		sa->rk->coll_nr = nr;
		nr = (struct buf){ 0 };
		if (buf_dup(&sa->rk->coll_ni, x->d->nonce.p, x->d->nonce.len) < 0)
			sa->rk->coll = 0;
	}
	buf_free_secret(&nr);
	return V_OK;
}

/* HDR, SK {SA, Ni, [KEi,] TSi, TSr} --> (an additional Child SA) */
static enum verdict refuse_new_child(struct xctx *x)
{
	return notify(x, IKE_N_NO_ADDITIONAL_SAS, "an OE IKE SA carries one Child SA");
}

/* <-- HDR, SK {SA, Nr, KEr} */
static int answer_ike(struct xctx *x, const struct ike_sa *n, uint8_t num,
		      const struct crypto_buf *pub)
{
	struct ike_sa_pld ans;
	struct msg_out m;
	struct buf out = { 0 };
	proposals_answer(&n->suite, IKE_PROTO_IKE, num, &ans);
	ans.prop[0].spi_size = 8;
	put64(ans.prop[0].spi, n->spi_r);
	int r = msg_start(x->sa, &m, IKE_XCHG_CREATE_CHILD_SA, true, x->d->hdr.msgid, true);
	ike_emit_sa(&m.e, &ans);
	ike_emit_nonce(&m.e, n->nr.p, n->nr.len);
	ike_emit_ke(&m.e, n->dh_group, pub->p, pub->len);
	if (r < 0 || (r = msg_seal(x->sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_response(x->ike, x->sa, &out, x->d->msg, x->d->msg_len);
}

/* The new IKE SA of a rekey we answer, keyed; NULL with x->why. */
static struct ike_sa *ike_make(struct xctx *x, const struct suite *suite, uint64_t spi_i,
			       struct crypto_buf *pub)
{
	struct ike *ike = x->ike;
	struct crypto_dh *dh = NULL;
	struct crypto_buf gir = { 0 };
	uint64_t spi_r = 0;
	struct ike_sa *n = NULL;
	int r = crypto_dh_new(ike->crypto, suite->dh, &dh);
	if (r == 0)
		r = crypto_dh_public(dh, pub);
	if (r == 0)
		r = shared_secret(&dh, x->d, &gir);
	while (r == 0 && !spi_r)
		r = crypto_random(&spi_r, sizeof(spi_r));
	if (r == 0 && !(n = new_ike(ike, x->sa, spi_i, spi_r, false, suite)))
		r = -ENOMEM;
	if (r == 0)
		r = buf_dup(&n->ni, x->d->nonce.p, x->d->nonce.len);
	if (r == 0)
		r = ike_new_nonce(&n->nr);
	if (r == 0)
		r = rekey_keys(ike, x->sa, n, &gir);
	crypto_dh_free(dh);
	crypto_buf_free(&gir);
	if (r < 0 && n) {
		sa_ike_free(ike->sas, n);
		n = NULL;
	}
	if (!n)
		x_why(x, "cannot make the new IKE SA: %s", strerror(-r));
	return n;
}

/* HDR, SK {SA, Ni, KEi} -->  <-- HDR, SK {SA, Nr, KEr} */
static enum verdict respond_ike(struct xctx *x)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	char ours[512], theirs[512];
	struct suite suite;
	uint8_t num = 0;
	uint16_t want = 0;
	if (sa->rk && sa->rk->kind == RK_CHILD)
		return notify(x, IKE_N_TEMPORARY_FAILURE, "we are rekeying a Child SA");
	if (sa->del_seq)
		return notify(x, IKE_N_TEMPORARY_FAILURE, "we are deleting a Child SA");
	if (sa->replaced_by)
		return notify(x, IKE_N_TEMPORARY_FAILURE, "the IKE SA was rekeyed already");
	int r = proposals_select(sa->conf.ike, &d->sa, d->ke.group, &suite, &num, &want);
	if (r == -EAGAIN) {
		x->notify_data[0] = (uint8_t)(want >> 8);
		x->notify_data[1] = (uint8_t)want;
		x->notify_len = 2;
		x_why(x, "we want KE %s", ike_dh_short(want));
		return notify(x, IKE_N_INVALID_KE_PAYLOAD, x->why);
	}
	if (r < 0) {
		sa_log(ike, sa, LOG_LVL_INFO, "no proposal chosen (IKE rekey): ours [%s] theirs "
		       "[%s]", proposals_str(&sa->conf.ike->sa, IKE_PROTO_IKE, ours, sizeof(ours)),
		       proposals_str(&d->sa, IKE_PROTO_IKE, theirs, sizeof(theirs)));
		return notify(x, IKE_N_NO_PROPOSAL_CHOSEN, "IKE proposals do not match");
	}
	uint64_t spi_i = 0;
	for (unsigned i = 0; i < d->sa.n_prop; i++)
		if (d->sa.prop[i].num == num && d->sa.prop[i].spi_size == 8)
			spi_i = be64(d->sa.prop[i].spi);
	if (!spi_i)
		return notify(x, IKE_N_INVALID_SYNTAX, "peer's IKE proposal has no SPI");
	struct crypto_buf pub = { 0 };
	struct ike_sa *n = ike_make(x, &suite, spi_i, &pub);
	if (!n) {
		crypto_buf_free(&pub);
		return notify(x, IKE_N_NO_PROPOSAL_CHOSEN, x->why);
	}
	r = answer_ike(x, n, num, &pub);
	crypto_buf_free(&pub);
	if (r < 0) {
		sa_ike_free(ike->sas, n);
		return V_BUG;
	}
	ike_took_over(ike, sa, n, "responder");
	if (sa->rk && sa->rk->kind == RK_IKE && !sa->rk->coll &&
	    buf_dup(&sa->rk->coll_ni, n->ni.p, n->ni.len) == 0 &&
	    buf_dup(&sa->rk->coll_nr, n->nr.p, n->nr.len) == 0)
		sa->rk->coll = n->serial;    /* §2.8.2: decided when our answer comes */
	return V_OK;
}

static const struct ike_transition rows[] = {
	/* <-- HDR, SK {N(error)} */
	{ .story = "CREATE_CHILD_SA refused", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_CREATE_CHILD_SA, .role = ROLE_RESPONSE, .req = PL(SK),
	  .sk_req = PL(NOTIFY), .notify = X_ANY_ERROR, .to = IKES_ESTABLISHED,
	  .handler = refused },
	/* <-- HDR, SK {SA, Nr, [KEr,] [TSi, TSr]} */
	{ .story = "process CREATE_CHILD_SA response", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_CREATE_CHILD_SA, .role = ROLE_RESPONSE, .req = PL(SK),
	  .sk_req = PL(SA) | PL(NONCE), .sk_opt = PL(KE) | PL(TSI) | PL(TSR),
	  .to = IKES_ESTABLISHED, .handler = answered },
	/* HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr} --> */
	{ .story = "respond to a Child SA rekey", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_CREATE_CHILD_SA, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(SA) | PL(NONCE) | PL(TSI) | PL(TSR), .sk_opt = PL(KE),
	  .notify = IKE_N_REKEY_SA, .to = IKES_ESTABLISHED, .handler = respond_child },
	/* HDR, SK {SA, Ni, [KEi,] TSi, TSr} --> */
	{ .story = "refuse an additional Child SA", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_CREATE_CHILD_SA, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(SA) | PL(NONCE) | PL(TSI) | PL(TSR), .sk_opt = PL(KE),
	  .to = IKES_ESTABLISHED, .handler = refuse_new_child },
	/* HDR, SK {SA, Ni, KEi} --> */
	{ .story = "respond to an IKE SA rekey", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_CREATE_CHILD_SA, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(SA) | PL(NONCE) | PL(KE), .to = IKES_ESTABLISHED,
	  .handler = respond_ike },
};

const struct ike_exchange xchg_create = { "CREATE_CHILD_SA", rows, ARRAY_LEN(rows) };
