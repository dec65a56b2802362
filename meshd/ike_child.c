/* ike_child.c — a negotiated Child SA into the kernel: KEYMAT (RFC 7296 §2.17), the two ESP
 * SAs, and the host-pair policies (libreswan-oe.md §2.6).
 *
 * Order, so that no cleartext leaks and no packet meets a policy without its SA:
 *   1. inbound SA (on the SPI we reserved), outbound SA;
 *   2. inbound policy (and forward, for tunnel mode);
 *   3. outbound policy at policy_priority(family, full, proto, lport, rport, full) — the
 *      priority of the pair's negotiation/failure shunt. When the shunt has the same
 *      selector the IPsec policy replaces it in place (UPDPOLICY) and only the shunt's
 *      record is forgotten: there is no moment without a policy for the pair. A shunt
 *      with another selector is deleted after the put.
 * Removal goes the other way: outbound policy first, then inbound, then the SAs.
 *
 * Behind a NAT (either side) both SAs carry UDP encapsulation (RFC 3948) on the ports the
 * IKE SA moved to; the kernel then sends ESP in UDP and takes it from the NAT-T socket,
 * which has UDP_ENCAP_ESPINUDP (ike_sock.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "policy.h"
#include "shunt.h"

int child_reserve_spi(struct ike *ike, const struct ike_sa *sa, uint32_t reqid, uint32_t *spi)
{
	struct kernel *k = &ike->ctx->kern;
	if (!k->ops->sa_get_spi)
		return -ENOTSUP;
	return k->ops->sa_get_spi(k, &sa->peer, &sa->local, reqid, spi);
}

void child_release_spi(struct ike *ike, const struct ike_sa *sa, uint32_t spi)
{
	struct kernel *k = &ike->ctx->kern;
	if (k->ops->sa_del)
		(void)k->ops->sa_del(k, &sa->local, spi);
}

/* Kernel crypto API names (RFC 4106 for GCM; RFC 4868 truncations). */
static int fill_algs(struct ksa *ks, const struct suite *s, const struct crypto_buf *ekey,
		     const struct crypto_buf *akey)
{
	if (ekey->len > sizeof(ks->enc_key) || akey->len > sizeof(ks->auth_key))
		return -EINVAL;
	if (s->encr == IKE_ENCR_AES_GCM_16) {
		snprintf(ks->aead_name, sizeof(ks->aead_name), "rfc4106(gcm(aes))");
		ks->aead_icv_bits = 128;
	} else if (s->encr == IKE_ENCR_AES_CBC) {
		snprintf(ks->enc_name, sizeof(ks->enc_name), "cbc(aes)");
		switch (s->integ) {
		case IKE_INTEG_HMAC_SHA2_256_128:
			snprintf(ks->auth_name, sizeof(ks->auth_name), "hmac(sha256)");
			ks->auth_trunc_bits = 128;
			break;
		case IKE_INTEG_HMAC_SHA2_384_192:
			snprintf(ks->auth_name, sizeof(ks->auth_name), "hmac(sha384)");
			ks->auth_trunc_bits = 192;
			break;
		case IKE_INTEG_HMAC_SHA2_512_256:
			snprintf(ks->auth_name, sizeof(ks->auth_name), "hmac(sha512)");
			ks->auth_trunc_bits = 256;
			break;
		case IKE_INTEG_HMAC_SHA1_96:
			snprintf(ks->auth_name, sizeof(ks->auth_name), "hmac(sha1)");
			ks->auth_trunc_bits = 96;
			break;
		default:
			return -ENOTSUP;
		}
		memcpy(ks->auth_key, akey->p, akey->len);
		ks->auth_key_len = (uint16_t)akey->len;
	} else {
		return -ENOTSUP;
	}
	memcpy(ks->enc_key, ekey->p, ekey->len);
	ks->enc_key_len = (uint16_t)ekey->len;
	return 0;
}

static void reverse(const struct ksel *in, struct ksel *out)
{
	*out = *in;
	out->src = in->dst;
	out->dst = in->src;
	out->sport = in->dport;
	out->dport = in->sport;
}

static void make_policy(const struct child_sa *c, enum kdir dir, struct kpolicy *p)
{
	memset(p, 0, sizeof(*p));
	unsigned bits = addr_bits(c->peer.family);
	if (dir == KDIR_OUT) {
		p->sel = c->sel;
		p->tmpl_src = c->local;
		p->tmpl_dst = c->peer;
	} else {
		reverse(&c->sel, &p->sel);
		p->tmpl_src = c->peer;
		p->tmpl_dst = c->local;
	}
	p->dir = dir;
	p->act = KACT_IPSEC;
	p->reqid = c->reqid;
	p->tunnel = c->tunnel;
	p->priority = policy_priority(c->peer.family, bits, c->sel.proto, c->sel.sport,
				      c->sel.dport, bits, false);
}

static void kerr(size_t i, int err, void *arg)
{
	(void)i;
	*(int *)arg = err;
}

static int put_policy(struct kernel *k, const struct child_sa *c, enum kdir dir)
{
	struct kpolicy p;
	int err = 0;
	make_policy(c, dir, &p);
	int r = k->ops->policy_put(k, &p, 1, kerr, &err);
	return err ? err : r;
}

static void del_policy(struct kernel *k, const struct child_sa *c, enum kdir dir)
{
	struct kpolicy p;
	make_policy(c, dir, &p);
	(void)k->ops->policy_del(k, &p, 1, NULL, NULL);
}

static bool same_selector(const struct shunt *sh, const struct child_sa *c)
{
	struct kpolicy sp, cp;
	shunt_kpolicy(sh, &sp);
	make_policy(c, KDIR_OUT, &cp);
	return prefix_cmp(&sp.sel.src, &cp.sel.src) == 0 &&
	       prefix_cmp(&sp.sel.dst, &cp.sel.dst) == 0 && sp.sel.proto == cp.sel.proto &&
	       sp.sel.sport == cp.sel.sport && sp.sel.dport == cp.sel.dport;
}

static void hand_over(struct ike *ike, struct child_sa *c);

/* The Child SAs with peer address peer, in serial order (sa.c's index; the body may free
 * o: the loop goes on from its serial). */
#define FOR_CHILD_PEER(ike, peer, o) \
	for (uint32_t o##_s = 0; \
	     ((o) = sa_child_peer_next((ike)->sas, (peer), o##_s)) && (o##_s = (o)->serial, 1);)

bool child_same_sel(const struct ksel *a, const struct ksel *b)
{
	return prefix_cmp(&a->src, &b->src) == 0 && prefix_cmp(&a->dst, &b->dst) == 0 &&
	       a->proto == b->proto && a->sport == b->sport && a->dport == b->dport;
}

/* The newest other installed Child SA with c's host pair and selector, or NULL. The
 * kernel holds one policy per selector and direction, so of two such Child SAs (crossing
 * streams, a peer that restarted: ike_live.c) only one owns the policies: its pol_*
 * flags say so. */
static struct child_sa *sibling(struct ike *ike, const struct child_sa *c)
{
	struct child_sa *o, *best = NULL;
	FOR_CHILD_PEER(ike, &c->peer, o)
		if (o != c && o->sa_in && o->sa_out && addr_eq(&o->local, &c->local) &&
		    child_same_sel(&o->sel, &c->sel))
			best = o;
	return best;
}

/* c's policies were just put (UPDPOLICY replaced any sibling's in place): the siblings
 * no longer own any. */
static void disown_siblings(struct ike *ike, const struct child_sa *c)
{
	struct child_sa *o;
	FOR_CHILD_PEER(ike, &c->peer, o)
		if (o != c && addr_eq(&o->local, &c->local) && child_same_sel(&o->sel, &c->sel))
			o->pol_in = o->pol_out = o->pol_fwd = false;
}

/* c's inbound policy, and its forward one in tunnel mode (both before the outbound one). */
static int put_in_fwd(struct kernel *k, struct child_sa *c)
{
	int r = put_policy(k, c, KDIR_IN);
	if (r < 0)
		return r;
	c->pol_in = true;
	if (c->tunnel) {
		if ((r = put_policy(k, c, KDIR_FWD)) < 0)
			return r;
		c->pol_fwd = true;
	}
	return 0;
}

/* Point the pair's policies at c: in (and fwd) first, out last, each replacing the
 * previous owner's in place, so no packet meets a missing policy. */
int child_take_policies(struct ike *ike, struct child_sa *c)
{
	struct kernel *k = &ike->ctx->kern;
	int r;
	if ((r = put_in_fwd(k, c)) < 0)
		return r;
	if ((r = put_policy(k, c, KDIR_OUT)) < 0)
		return r;
	c->pol_out = true;
	disown_siblings(ike, c);
	return 0;
}

void child_uninstall(struct ike *ike, struct child_sa *c)
{
	struct kernel *k = &ike->ctx->kern;
	rekey_child_disarm(ike, c);
	hand_over(ike, c);      /* a Child SA of the same reqid takes c's claim */
	bool sa_out = c->sa_out;
	c->sa_in = c->sa_out = false;   /* not an heir of its own policies */
	struct child_sa *heir = c->pol_out || c->pol_in ? sibling(ike, c) : NULL;
	if (heir && child_take_policies(ike, heir) == 0) {
		/* the policies now lead to the other Child SA: nothing of c's to delete */
	} else {
		if (c->pol_out)
			del_policy(k, c, KDIR_OUT);
		if (c->pol_in)
			del_policy(k, c, KDIR_IN);
		if (c->pol_fwd)
			del_policy(k, c, KDIR_FWD);
	}
	c->pol_out = c->pol_in = c->pol_fwd = false;
	if (sa_out)
		(void)k->ops->sa_del(k, &c->peer, c->spi_out);
	/* the inbound SPI was reserved even when no SA was installed on it */
	if (c->spi_in)
		(void)k->ops->sa_del(k, &c->local, c->spi_in);
}

/* Does another Child SA with c's reqid and host pair hold the pair's policies? (A rekeyed
 * Child SA keeps its predecessor's reqid, so they already lead to its SAs: the kernel
 * picks the newest outbound SA of a reqid.) */
static struct child_sa *policy_holder(struct ike *ike, const struct child_sa *c)
{
	struct child_sa *o;
	FOR_CHILD_PEER(ike, &c->peer, o)
		if (o != c && o->reqid == c->reqid && o->pol_out && addr_eq(&o->local, &c->local))
			return o;
	return NULL;
}

/* The policies: in (and fwd), then out replacing the pair's shunt. */
static int install_policies(struct ike *ike, struct child_sa *c)
{
	struct meshd_ctx *ctx = ike->ctx;
	struct kernel *k = &ctx->kern;
	int r;
	if ((r = put_in_fwd(k, c)) < 0)
		return r;
	const struct shunt *sh = shunt_find(ctx->shunts, &c->local, &c->peer);
	bool same = sh && same_selector(sh, c);
	if ((r = put_policy(k, c, KDIR_OUT)) < 0)
		return r;
	c->pol_out = true;
	disown_siblings(ike, c);
	if (same)
		shunt_forget(ctx->shunts, &c->local, &c->peer);
	else if (sh)
		shunt_del(ctx->shunts, &c->local, &c->peer);
	return 0;
}

/* Everything of the two ESP SAs but the keys: endpoints, selectors, lifetimes, NAT-T. */
static void fill_ksas(struct ike *ike, const struct ike_sa *sa, struct child_sa *c,
		      struct ksa *in, struct ksa *out)
{
	/* hard: salifetime; soft: when we rekey it ourselves (ike_rekey.c), so the kernel's
	 * EXPIRE and our timer agree and whichever comes first starts the one rekey */
	uint64_t life = sa->conf.salifetime_s ? sa->conf.salifetime_s : 28800;
	c->rekey_after_ms = rekey_child_after_ms(ike, sa, c->initiator);
	for (int i = 0; i < 2; i++) {
		struct ksa *ks = i ? out : in;
		ks->reqid = c->reqid;
		ks->tunnel = c->tunnel;
		ks->esn = c->esp.esn;
		ks->hard_add_s = life;
		ks->soft_add_s = c->rekey_after_ms ? (c->rekey_after_ms + 999) / 1000 : 0;
	}
	in->src = c->peer;
	in->dst = c->local;
	in->spi = c->spi_in;
	reverse(&c->sel, &in->sel);
	in->replay_window = sa->conf.replay_window ? sa->conf.replay_window : 128;
	out->src = c->local;
	out->dst = c->peer;
	out->spi = c->spi_out;
	out->sel = c->sel;
	out->acq_seq = sa->acq_seq;
	uint16_t lport, rport;
	if (ike_natt_encap(ike, sa, &lport, &rport)) {
		in->encap_sport = rport;
		in->encap_dport = lport;
		out->encap_sport = lport;
		out->encap_dport = rport;
	} else if (sa->nat_local || sa->nat_peer) {
		sa_log(ike, sa, LOG_LVL_WARN, "Child SA #%u: NAT detected but the peer stayed on "
		       "port %u; ESP is not encapsulated", c->serial, sa->rport);
	}
}

struct keysrc {
	struct crypto_iov g_ir, ni, nr;
	bool defer_out;
};

static int install(struct ike *ike, struct ike_sa *sa, struct child_sa *c,
		   const struct keysrc *src, const char **why)
{
	struct kernel *k = &ike->ctx->kern;
	struct crypto_child_keys keys = { 0 };
	struct crypto_child_suite cs = { c->esp.encr, c->esp.encr_bits, c->esp.integ };
	struct ksa in = { 0 }, out = { 0 };
	int r;

	*why = NULL;
	r = crypto_child_keys(ike->crypto, sa->suite.prf, CRYPTO_IOV_BUF(sa->keys.sk_d), &cs,
			      src->g_ir, src->ni, src->nr, &keys);
	if (r < 0) {
		*why = "cannot derive the Child SA keys";
		goto fail;
	}
	/* i: initiator -> responder, of the exchange that made c */
	const struct crypto_buf *e_in = c->initiator ? &keys.er : &keys.ei;
	const struct crypto_buf *a_in = c->initiator ? &keys.ar : &keys.ai;
	const struct crypto_buf *e_out = c->initiator ? &keys.ei : &keys.er;
	const struct crypto_buf *a_out = c->initiator ? &keys.ai : &keys.ar;
	if (fill_algs(&in, &c->esp, e_in, a_in) < 0 || fill_algs(&out, &c->esp, e_out, a_out) < 0) {
		*why = "ESP algorithm not supported by the kernel interface";
		r = -ENOTSUP;
		goto fail;
	}
	fill_ksas(ike, sa, c, &in, &out);
	if ((r = k->ops->sa_add(k, &in)) < 0)
		goto kfail;
	c->sa_in = true;
	if (src->defer_out) {
		if (!(c->out_pending = malloc(sizeof(*c->out_pending)))) {
			r = -ENOMEM;
			goto kfail;
		}
		*c->out_pending = out;
	} else {
		if ((r = k->ops->sa_add(k, &out)) < 0)
			goto kfail;
		c->sa_out = true;
		sa->acq_seq = 0;      /* the larval state is gone with this add */
	}
	if (!policy_holder(ike, c) && (r = install_policies(ike, c)) < 0)
		goto pfail;
	c->add_time = time(NULL);
	c->installed_ms = ike_now_ms(ike);
	c->idle_bytes = 0;
	c->idle_since_ms = c->installed_ms;
	ike_natt_arm(ike, sa);
	rekey_child_arm(ike, sa, c);
	crypto_child_keys_free(&keys);
	explicit_bzero(&in, sizeof(in));
	explicit_bzero(&out, sizeof(out));
	return 0;

kfail:
	/* no esp4/esp6: -EPROTONOSUPPORT ("Requested type not found"); a missing AEAD or
	 * cipher is checked first and gives -ENOSYS */
	*why = r == -EPROTONOSUPPORT || r == -ENOENT ? "kernel has no ESP"
	       : r == -ENOSYS ? "kernel has no ESP (algorithm not found)"
			      : "kernel refused the ESP SA";
	goto fail;
pfail:
	*why = "kernel refused the IPsec policy";
fail:
	sa_log(ike, sa, LOG_LVL_ERR, "Child SA #%u: %s (%s)", c->serial, *why, strerror(-r));
	child_uninstall(ike, c);
	crypto_child_keys_free(&keys);
	explicit_bzero(&in, sizeof(in));
	explicit_bzero(&out, sizeof(out));
	return r < 0 ? r : -EIO;
}

int child_install(struct ike *ike, struct ike_sa *sa, struct child_sa *c, const char **why)
{
	/* IKE_AUTH: no PFS, the IKE SA's nonces and roles */
	struct keysrc src = { CRYPTO_IOV(NULL, 0), CRYPTO_IOV_BUF(sa->ni), CRYPTO_IOV_BUF(sa->nr),
			      false };
	c->initiator = sa->initiator;
	return install(ike, sa, c, &src, why);
}

int child_install_rekey(struct ike *ike, struct ike_sa *sa, struct child_sa *c,
			struct crypto_iov g_ir, struct crypto_iov ni, struct crypto_iov nr,
			bool defer_out, const char **why)
{
	struct keysrc src = { g_ir, ni, nr, defer_out };
	return install(ike, sa, c, &src, why);
}

void child_add_pending_out(struct ike *ike, struct child_sa *c)
{
	struct kernel *k = &ike->ctx->kern;
	if (!c->out_pending)
		return;
	int r = k->ops->sa_add(k, c->out_pending);
	explicit_bzero(c->out_pending, sizeof(*c->out_pending));
	free(c->out_pending);
	c->out_pending = NULL;
	if (r == 0)
		c->sa_out = true;
	else
		log_warn(&ike->ctx->log, "Child SA #%u: kernel refused the outbound SA: %s",
			 c->serial, strerror(-r));
}

uint64_t child_in_bytes(struct ike *ike, const struct child_sa *c)
{
	struct kernel *k = &ike->ctx->kern;
	struct ksa_stats st = { 0 };
	if (!c->sa_in || !k->ops->sa_stats || k->ops->sa_stats(k, &c->local, c->spi_in, &st) < 0)
		return 0;
	return st.bytes;
}

/* c leaves: the Child SAs that rekeyed it carry the pair from now on. A successor whose
 * outbound SA was kept back (we answered the rekey) adds it first; then the newest
 * installed Child SA with c's reqid (a successor, or a sibling from a rekey collision)
 * takes c's claim on the policies, which lead to that reqid already. */
static void hand_over(struct ike *ike, struct child_sa *c)
{
	struct child_sa *o, *heir = NULL;
	/* a successor has c's pair (x_create.c successor()) */
	FOR_CHILD_PEER(ike, &c->peer, o)
		if (o != c && o->replaces == c->serial)
			child_add_pending_out(ike, o);
	FOR_CHILD_PEER(ike, &c->peer, o)
		if (o != c && o->reqid == c->reqid && o->sa_in && o->sa_out &&
		    addr_eq(&o->local, &c->local))
			heir = o;
	if (heir && (c->pol_out || c->pol_in || c->pol_fwd)) {
		heir->pol_out |= c->pol_out;
		heir->pol_in |= c->pol_in;
		heir->pol_fwd |= c->pol_fwd;
		c->pol_out = c->pol_in = c->pol_fwd = false;
	}
}

void child_remove_all(struct ike *ike, uint32_t ike_serial)
{
	const struct ike_sa *sa = sa_ike_by_serial(ike->sas, ike_serial);
	if (sa) {
		/* its Child SAs have its peer address (x_auth.c, x_create.c) */
		struct addr peer = sa->peer;
		struct child_sa *c;
		FOR_CHILD_PEER(ike, &peer, c) {
			if (c->ike_serial != ike_serial)
				continue;
			child_uninstall(ike, c);
			sa_child_free(ike->sas, c);
		}
		return;
	}
	for (size_t i = 0; i < sa_child_count(ike->sas);) {
		struct child_sa *c = sa_child_at(ike->sas, i);
		if (c->ike_serial != ike_serial) {
			i++;
			continue;
		}
		child_uninstall(ike, c);
		sa_child_free(ike->sas, c);
	}
}
