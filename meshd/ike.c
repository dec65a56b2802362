/* ike.c — the engine object: creation, the daemon-facing calls of ike.h, timers keyed by
 * SA serial, the per-SA configuration snapshot, status.
 *
 * Timers (all armed through ike_timer_arm, each carrying an SA serial, never a pointer):
 *   T_RETRANSMIT   retransmit-interval (0.5 s), doubling, until retransmit-timeout
 *                  (10 s for OE) from the first send (RFC 7296 §2.1) — ike_msg.c
 *   T_IKE_EXPIRE   ikelifetime after establishment: the IKE SA is deleted (it is normally
 *                  rekeyed before, ike_rekey.c, unless rekey=no or it stayed idle)
 *   T_IKE_REKEY, T_IKE_SAMPLE, T_CHILD_REKEY, T_CHILD_EXPIRE, T_CHILD_SAMPLE
 *                  rekey / expiry / idle sampling — ike_rekey.c (the CHILD kinds carry
 *                  a Child SA's serial)
 *   T_DPD          dpddelay= liveness checks of an established IKE SA — ike_live.c
 *   T_CROSS        crossing streams: the watch of a loser the peer should delete — ike_live.c */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_auth.h"
#include "ike_sock.h"
#include "policy.h"

struct timer_ref {
	struct ike *ike;
	uint32_t serial;
	enum ike_timer kind;
	uint64_t id;
	struct timer_ref *next, *prev;  /* ike->timers: every armed timer, for ike_free */
};

uint64_t ike_now_ms(const struct ike *ike)
{
	return loop_now_ms(ike->ctx->loop);
}

static void unlink_ref(struct ike *ike, struct timer_ref *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		ike->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static void timer_fire(void *arg)
{
	struct timer_ref *t = arg;
	struct ike *ike = t->ike;
	uint32_t serial = t->serial;
	enum ike_timer kind = t->kind;
	unlink_ref(ike, t);
	free(t);
	if (kind >= T_IKE_REKEY) {
		rekey_timer(ike, serial, kind);
		return;
	}
	struct ike_sa *sa = sa_ike_by_serial(ike->sas, serial);
	if (!sa)
		return;
	switch (kind) {
	case T_RETRANSMIT:
		msg_retransmit(ike, sa);
		break;
	case T_IKE_EXPIRE:
		sa->expire_timer = 0;
		if (sa->state == IKES_R_SA_INIT) {
			/* ike_live.c: a half-open responder SA whose initiator gave up */
			exchange_kill(ike, sa, "no IKE_AUTH request came after IKE_SA_INIT");
			break;
		}
		sa_log(ike, sa, LOG_LVL_INFO, "IKE SA lifetime reached: deleting it");
		if (sa->state == IKES_ESTABLISHED)
			(void)exchange_initiate(ike, sa, &xchg_info);
		else
			exchange_kill(ike, sa, "IKE SA lifetime reached");
		break;
	case T_NAT_KEEPALIVE:
		ike_natt_keepalive(ike, sa);
		break;
	case T_DPD:
		live_dpd(ike, sa);
		break;
	case T_CROSS:
		live_cross_watch(ike, sa);
		break;
	default:
		break;
	}
}

uint64_t ike_timer_arm(struct ike *ike, uint32_t serial, enum ike_timer kind, uint64_t after_ms)
{
	struct timer_ref *t = calloc(1, sizeof(*t));
	if (!t)
		return 0;
	t->ike = ike;
	t->serial = serial;
	t->kind = kind;
	t->id = loop_timer_add(ike->ctx->loop, after_ms, timer_fire, t);
	if (!t->id) {
		free(t);
		return 0;
	}
	t->next = ike->timers;
	if (t->next)
		t->next->prev = t;
	ike->timers = t;
	return t->id;
}

void ike_timer_cancel(struct ike *ike, uint64_t *id)
{
	if (!*id)
		return;
	/* the loop finds the record by id: no walk over every armed timer */
	struct timer_ref *t = loop_timer_arg(ike->ctx->loop, *id);
	if (t) {
		unlink_ref(ike, t);
		loop_timer_cancel(ike->ctx->loop, *id);
		free(t);
	}
	*id = 0;
}

static int default_send(void *arg, const uint8_t *p, size_t n, const struct addr *from,
			uint16_t sport, const struct addr *to, uint16_t dport)
{
	return ike_sock_send(arg, p, n, from, sport, to, dport);
}

static void props_free(struct ike *ike);

struct ike *ike_new(struct meshd_ctx *ctx)
{
	struct ike *ike = calloc(1, sizeof(*ike));
	if (!ike)
		return NULL;
	ike->ctx = ctx;
	ike->send = default_send;
	ike->send_arg = ctx;
	int r = crypto_init(&ike->crypto, NULL);
	if (r < 0) {
		log_err(&ctx->log, "IKE: cannot initialise NSS: %s", strerror(-r));
		free(ike);
		return NULL;
	}
	if (!(ike->sas = sa_table_new())) {
		crypto_free(ike->crypto);
		free(ike);
		return NULL;
	}
	ike_dns_init(ike);
	return ike;
}

void ike_free(struct ike *ike)
{
	if (!ike)
		return;
	while (ike->timers) {
		struct timer_ref *t = ike->timers;
		ike->timers = t->next;
		if (ike->ctx->loop)
			loop_timer_cancel(ike->ctx->loop, t->id);
		free(t);
	}
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(ike->sas, i)); i++) {
		child_remove_all(ike, sa->serial);
		if (sa->child_spi_in && !sa->child_up)
			child_release_spi(ike, sa, sa->child_spi_in);
	}
	ike_dns_fini(ike);
	exchange_unpark(ike, 0);
	sa_table_free(ike->sas);
	props_free(ike);
	ike_cookie_fini(&ike->cookie);
	crypto_free(ike->crypto);
	free(ike);
}

void ike_set_send(struct ike *ike, ike_send_fn fn, void *arg)
{
	ike->send = fn;
	ike->send_arg = arg;
}

uint32_t ike_new_reqid(struct ike *ike)
{
	uint32_t r = ike->ctx->next_reqid++;
	if (!r)
		r = ike->ctx->next_reqid++;
	return r;
}

/* The KE groups esp= names, in order, for PFS in CREATE_CHILD_SA (before they are
 * stripped for IKE_AUTH). */
static void keep_esp_dh(struct sa_conf *c, const struct proposals *esp)
{
	c->n_esp_dh = 0;
	for (unsigned i = 0; i < esp->sa.n_prop; i++) {
		const struct ike_proposal *pr = &esp->sa.prop[i];
		for (unsigned j = 0; j < pr->n_xf; j++) {
			uint16_t g = pr->xf[j].id;
			bool have = pr->xf[j].type != IKE_XF_DH || g == IKE_DH_NONE;
			for (unsigned k = 0; k < c->n_esp_dh && !have; k++)
				have = c->esp_dh[k] == g;
			if (!have && c->n_esp_dh < ARRAY_LEN(c->esp_dh))
				c->esp_dh[c->n_esp_dh++] = g;
		}
	}
}

/* One parsed (ike=, esp=, esn=) of a conn. The SAs point into it; the engine keeps every
 * one it made until ike_free (a reload that changes the strings adds one; the old one
 * stays for the SAs still using it). A failed parse is kept too: why points into it. */
struct ike_props {
	struct ike_props *next;
	char *ike_spec, *esp_spec;    /* (owned) NULL = the defaults */
	bool esn;
	int r;                        /* proposals_parse's result */
	const char *why;
	struct proposals ike, esp;    /* esp with its KE groups */
	struct proposals esp_nodh;    /* esp without them (IKE_AUTH) */
};

static bool same_spec(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void props_free(struct ike *ike)
{
	while (ike->props) {
		struct ike_props *p = ike->props;
		ike->props = p->next;
		free(p->ike_spec);
		free(p->esp_spec);
		free(p);
	}
}

static const struct ike_props *props_get(struct ike *ike, const struct conf_conn *cc)
{
	struct ike_props *p;
	for (p = ike->props; p; p = p->next)
		if (same_spec(p->ike_spec, cc->ike) && same_spec(p->esp_spec, cc->esp) &&
		    p->esn == cc->esn)
			return p;
	if (!(p = calloc(1, sizeof(*p))) || (cc->ike && !(p->ike_spec = strdup(cc->ike))) ||
	    (cc->esp && !(p->esp_spec = strdup(cc->esp)))) {
		if (p) {
			free(p->ike_spec);
			free(p);
		}
		return NULL;
	}
	p->esn = cc->esn;
	p->r = proposals_parse(IKE_PROTO_IKE, cc->ike, &p->ike, &p->why);
	if (p->r == 0)
		p->r = proposals_parse(IKE_PROTO_ESP, cc->esp, &p->esp, &p->why);
	if (p->r == 0) {
		proposals_set_esn(&p->esp, cc->esn);
		p->esp_nodh = p->esp;
		proposals_strip_dh(&p->esp_nodh);
	}
	p->next = ike->props;
	ike->props = p;
	return p;
}

int ike_sa_configure(struct ike *ike, struct ike_sa *sa, const struct pol_entry *e,
		     const char **why)
{
	struct meshd_ctx *ctx = ike->ctx;
	const struct pol_group *g = policy_group(ctx->pol, e);
	const struct conf_conn *cc = g->conn >= 0 && (size_t)g->conn < ctx->conf->n_conns
					     ? &ctx->conf->conns[g->conn] : NULL;
	struct sa_conf *c = &sa->conf;
	if (!cc) {
		*why = "the group has no conn";
		return -EINVAL;
	}
	unsigned instance = c->instance;
	memset(c, 0, sizeof(*c));
	snprintf(c->group, sizeof(c->group), "%s", g->name);
	c->entry = e->pfx;
	c->proto = e->proto;
	c->lport = e->lport;
	c->rport = e->rport;
	c->instance = instance ? instance : sa_next_instance(ike->sas);
	c->authby = cc->authby;
	c->transport = cc->type == TYPE_TRANSPORT;
	c->retransmit_timeout_ms = cc->retransmit_timeout_ms;
	c->retransmit_interval_ms = cc->retransmit_interval_ms;
	c->ikelifetime_s = cc->ikelifetime_s;
	c->salifetime_s = cc->salifetime_s;
	c->rekeymargin_s = cc->rekeymargin_s;
	c->replay_window = cc->replay_window;
	c->fragmentation = cc->fragmentation;
	c->rekey = cc->rekey;
	c->pfs = cc->pfs;
	c->rekeyfuzz_pct = cc->rekeyfuzz_pct;
	c->dpddelay_ms = cc->dpddelay_s * 1000;
	c->dpdtimeout_ms = cc->dpdtimeout_s * 1000;
	const struct ike_props *p = props_get(ike, cc);
	if (!p) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (p->r < 0) {
		*why = p->why;
		return -EINVAL;
	}
	c->ike = &p->ike;
	c->esp = &p->esp_nodh;
	keep_esp_dh(c, &p->esp);
	return 0;
}

static int random_spi(uint64_t *spi)
{
	do {
		if (crypto_random(spi, sizeof(*spi)) < 0)
			return -EIO;
	} while (*spi == 0);
	return 0;
}

int ike_initiate(struct ike *ike, const struct addr *local, const struct addr *peer,
		 const struct pol_entry *e, uint32_t acq_seq, const char **why)
{
	*why = NULL;
	if (sa_ike_by_pair(ike->sas, local, peer))
		return -EALREADY;
	struct ike_sa *sa = sa_ike_new(ike->sas);
	if (!sa) {
		*why = "out of memory";
		return -ENOMEM;
	}
	sa->initiator = true;
	sa->acq_seq = acq_seq;
	sa_ike_set_addrs(ike->sas, sa, local, peer);
	sa->lport = sa->rport = ike->ctx->conf->setup.ike_port ? ike->ctx->conf->setup.ike_port
								: 500;
	int r = ike_sa_configure(ike, sa, e, why);
	if (r < 0) {
		sa_ike_free(ike->sas, sa);
		return r;
	}
	if (!ike_auth_ready(ike, sa, why)) {
		sa_ike_free(ike->sas, sa);
		return -ENOTSUP;
	}
	sa->dh_group = proposals_first_dh(sa->conf.ike);
	uint8_t ni[32];
	uint64_t spi_i;
	if (random_spi(&spi_i) < 0 || crypto_random(ni, sizeof(ni)) < 0 ||
	    buf_dup(&sa->ni, ni, sizeof(ni)) < 0) {
		*why = "no randomness";
		sa_ike_free(ike->sas, sa);
		return -EIO;
	}
	sa_ike_set_spi_i(ike->sas, sa, spi_i);
	explicit_bzero(ni, sizeof(ni));
	char ps[ADDR_STRLEN];
	sa_log(ike, sa, LOG_LVL_INFO, "initiating IKEv2 to %s", addr_str(peer, ps));
	if (exchange_initiate(ike, sa, &xchg_sa_init) != V_OK) {
		*why = "could not build the IKE_SA_INIT request";
		return -EIO;
	}
	/* from here on, failures go through oe_failed with their reason */
	sa->oe = true;
	/* a responder's DNS key is fetched while IKE_SA_INIT is under way */
	ike_dns_start(ike, sa);
	return 0;
}

bool ike_pair_active(const struct ike *ike, const struct addr *local, const struct addr *peer)
{
	return sa_ike_by_pair(ike->sas, local, peer) != NULL;
}

void ike_input(struct ike *ike, const uint8_t *p, size_t n, const struct addr *from,
	       uint16_t sport, const struct addr *to, uint16_t dport, int sock)
{
	(void)sock;
	exchange_input(ike, p, n, from, sport, to, dport);
}

size_t ike_down(struct ike *ike, const struct addr *peer)
{
	size_t n = 0;
	for (size_t i = 0; i < sa_ike_count(ike->sas);) {
		struct ike_sa *sa = sa_ike_at(ike->sas, i);
		if (!addr_eq(&sa->peer, peer) || sa->state == IKES_DELETING) {
			i++;
			continue;
		}
		uint32_t serial = sa->serial;
		n++;
		if (sa->state == IKES_ESTABLISHED)
			(void)exchange_initiate(ike, sa, &xchg_info);
		else
			exchange_kill(ike, sa, "deleted by the operator");
		/* the SA either moved to DELETING (still at i) or is gone */
		if (sa_ike_by_serial(ike->sas, serial))
			i++;
	}
	return n;
}

size_t ike_child_foreach(const struct ike *ike,
			 void (*fn)(const struct ike_child_info *c, void *arg), void *arg)
{
	size_t n = 0;
	struct child_sa *c;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++) {
		if (!c->sa_in || !c->sa_out)
			continue;
		const struct ike_sa *sa = sa_ike_by_serial(ike->sas, c->ike_serial);
		char ike_algs[IKE_ALGS_MAX] = "", ks[64];
		if (sa) {
			char e[32];
			snprintf(ike_algs, sizeof(ike_algs), "%s-%s%s%s-%s",
				 ike_encr_str(sa->suite.encr, sa->suite.encr_bits, e, sizeof(e)),
				 sa->suite.integ ? ike_xf_id_name(IKE_XF_INTEG, sa->suite.integ) : "",
				 sa->suite.integ ? "-" : "",
				 ike_xf_id_name(IKE_XF_PRF, sa->suite.prf), ike_dh_short(sa->suite.dh));
		}
		struct ike_child_info info = {
			.serial = c->serial, .ike_serial = c->ike_serial, .group = c->group,
			.entry = c->entry, .proto = c->sel.proto, .lport = c->sel.sport,
			.rport = c->sel.dport, .instance = c->instance, .local = c->local,
			.peer = c->peer, .tunnel = c->tunnel, .add_time = c->add_time,
			.spi_in = c->spi_in, .spi_out = c->spi_out, .reqid = c->reqid,
			.peer_id = sa ? sa->peer_id : "", .algs = c->algs, .ike_algs = ike_algs,
			.auth = sa && sa->auth_name ? sa->auth_name : "",
			.key_source = ike_key_source(ike, sa, ks, sizeof(ks)),
		};
		fn(&info, arg);
		n++;
	}
	return n;
}

void ike_counts(const struct ike *ike, struct ike_counts *out)
{
	*out = ike->st;
	out->ike_total = out->ike_half_open = out->ike_established = out->ike_anonymous = 0;
	struct ike_sa *sa;
	for (size_t i = 0; (sa = sa_ike_at(ike->sas, i)); i++) {
		out->ike_total++;
		if (sa->replaced_by)
			continue;     /* rekeyed: waiting for its Delete, like DELETING */
		if (sa->state == IKES_ESTABLISHED) {
			out->ike_established++;
			if (sa->peer_id_type == IKE_ID_NULL)
				out->ike_anonymous++;
		} else if (sa->state != IKES_DELETING) {
			out->ike_half_open++;
		}
	}
	out->child_total = 0;
	struct child_sa *c;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
		out->child_total += c->sa_in && c->sa_out;
}

const char *ike_dh_short(uint16_t dh)
{
	switch (dh) {
	case IKE_DH_MODP2048: return "MODP2048";
	case IKE_DH_MODP3072: return "MODP3072";
	case IKE_DH_ECP256: return "ECP_256";
	case IKE_DH_ECP384: return "ECP_384";
	case IKE_DH_CURVE25519: return "X25519";
	case IKE_DH_NONE: return "NONE";
	default: return ike_xf_id_name(IKE_XF_DH, dh);
	}
}

const char *ike_encr_str(uint16_t encr, uint16_t bits, char *buf, size_t n)
{
	snprintf(buf, n, "%s_%u", ike_xf_id_name(IKE_XF_ENCR, encr), bits);
	return buf;
}
