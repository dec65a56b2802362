/* ike_auth.c — IKE_AUTH authentication (ike_auth.h): certificate stores, our ID / CERT /
 * AUTH, the peer's checks.
 *
 * AUTH octets (RFC 7296 §2.15), for the side X that sends the AUTH:
 *   X = initiator: IKE_SA_INIT request | Nr | prf(SK_pi, IDi')
 *   X = responder: IKE_SA_INIT response | Ni | prf(SK_pr, IDr')
 * ID' is the ID payload body (type, three reserved octets, data). Method 14 (RFC 7427)
 * signs the octets with our certificate's key; method 13 (NULL, RFC 7619 §2.1) is the
 * shared-key MIC with SK_px as the key: prf(prf(SK_px, "Key Pad for IKEv2"), octets). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
#include "cert_ike.h"
#include "cert_rawkey.h"
#include "ctx.h"
#include "dns.h"
#include "exchange.h"
#include "ipseckey.h"
#include "ike_auth.h"
#include "ike_emit.h"

#define MAX_STORES 8

struct store {
	char nick[64];
	struct cert_store *s;         /* (owned) NULL when it could not be opened */
	struct cert_rawkey *raw;      /* (owned) a raw key pair under the nickname (meshctl
	                               * newhostkey) when there is no certificate */
	char missing[400];            /* why certificate groups using it fail; "" = usable */
};

struct ike_certs {
	struct crypto *crypto;        /* (owned) the NSS context over nssdir; NULL without DB */
	char nssdir[256];
	bool have_db;
	struct store st[MAX_STORES];
	size_t n;
	struct buf certreq;           /* SHA-1 of our trusted CAs' SPKI (owned) */
};

static const char key_pad[] = "Key Pad for IKEv2";

struct cert_store *ike_certs_store(const struct meshd_ctx *ctx, size_t i, const char **nick)
{
	const struct ike_certs *c = ctx->certs;
	if (!c || i >= c->n)
		return NULL;
	if (nick)
		*nick = c->st[i].nick;
	return c->st[i].s;
}

static bool wants_certs(const struct conf_conn *cc)
{
	return (cc->authby & (AUTHBY_RSASIG | AUTHBY_ECDSA)) && !(cc->authby & AUTHBY_NEVER) &&
	       cc->right_kind == RIGHT_OPPGROUP;
}

static const char *nick_of(const struct conf_conn *cc)
{
	return cc->leftcert && cc->leftcert[0] ? cc->leftcert : "node";
}

/* The conn of the group sa was configured from (NULL after a reload removed it). */
static const struct conf_conn *sa_conn(const struct ike *ike, const struct ike_sa *sa)
{
	const struct conf *c = ike->ctx->conf;
	for (size_t i = 0; c && i < c->n_conns; i++)
		if (strcmp(c->conns[i].name, sa->conf.group) == 0)
			return &c->conns[i];
	return NULL;
}

/* "sql:/dir" or "/dir": does it hold an NSS database? */
static bool db_exists(const char *nssdir)
{
	char p[300];
	const char *dir = strncmp(nssdir, "sql:", 4) == 0 ? nssdir + 4 : nssdir;
	snprintf(p, sizeof(p), "%s/cert9.db", dir);
	if (access(p, R_OK) == 0)
		return true;
	snprintf(p, sizeof(p), "%s/cert8.db", dir);
	return access(p, R_OK) == 0;
}

static struct store *store_find(struct ike_certs *ic, const char *nick)
{
	for (size_t i = 0; i < ic->n; i++)
		if (strcmp(ic->st[i].nick, nick) == 0)
			return &ic->st[i];
	return NULL;
}

static void store_load(struct meshd_ctx *ctx, struct ike_certs *ic, struct store *st,
		       const char *group)
{
	if (!ic->have_db) {
		snprintf(st->missing, sizeof(st->missing), "no node certificate '%s' in %s", st->nick,
			 ic->nssdir);
		log_warn(&ctx->log, "no NSS database at %s: certificate group %s cannot "
			 "authenticate (meshctl initnss; meshctl import FILE.p12)", ic->nssdir, group);
		return;
	}
	int r = st->s ? cert_reload(st->s, st->nick)
		      : cert_open(&st->s, ic->crypto, st->nick, &ctx->log);
	if (r == 0 && cert_self(st->s)->key != CERT_KEY_NONE) {
		cert_rawkey_close(st->raw);
		st->raw = NULL;
		st->missing[0] = '\0';
		return;
	}
	/* no certificate: a raw key pair signs (peers find its public key in DNS) */
	bool had = st->raw != NULL;
	if (st->raw || cert_rawkey_open(&st->raw, st->nick) == 0) {
		unsigned bits = 0;
		enum cert_key_type t = cert_rawkey_type(st->raw, &bits);
		if (!had)
			log_info(&ctx->log, "raw key \"%s\": %s-%u (no certificate)", st->nick,
				 t == CERT_KEY_RSA ? "RSA" : "ECDSA", bits);
		st->missing[0] = '\0';
		return;
	}
	snprintf(st->missing, sizeof(st->missing), "no node certificate '%s' in %s", st->nick,
		 ic->nssdir);
	log_warn(&ctx->log, "%s: certificate group %s cannot authenticate", st->missing, group);
}

/* Open a store for every certificate group's nickname not open yet, reload the others. */
static void stores_sync(struct meshd_ctx *ctx, struct ike_certs *ic, bool reload)
{
	const struct conf *c = ctx->conf;
	for (size_t i = 0; c && i < c->n_conns; i++) {
		const struct conf_conn *cc = &c->conns[i];
		if (!wants_certs(cc))
			continue;
		struct store *st = store_find(ic, nick_of(cc));
		if (st && !reload)
			continue;
		if (!st) {
			if (ic->n == MAX_STORES) {
				log_warn(&ctx->log, "group %s: too many different leftcert= "
					 "nicknames (at most %d)", cc->name, MAX_STORES);
				continue;
			}
			st = &ic->st[ic->n++];
			snprintf(st->nick, sizeof(st->nick), "%s", nick_of(cc));
		} else if (reload && st->missing[0] == '\0' && !st->s) {
			continue;
		}
		store_load(ctx, ic, st, cc->name);
	}
	buf_free(&ic->certreq);
	if (ic->have_db && cert_ike_certreq(&ic->certreq) < 0)
		log_warn(&ctx->log, "cannot list the trusted CAs for CERTREQ");
}

int ike_certs_open(struct meshd_ctx *ctx)
{
	struct ike_certs *ic = calloc(1, sizeof(*ic));
	if (!ic)
		return -ENOMEM;
	const char *dir = ctx->conf->setup.nssdir ? ctx->conf->setup.nssdir : "sql:/var/lib/meshd/nss";
	snprintf(ic->nssdir, sizeof(ic->nssdir), "%s", dir);
	bool need = false;
	for (size_t i = 0; i < ctx->conf->n_conns; i++)
		need |= wants_certs(&ctx->conf->conns[i]);
	/* the database is opened even when no group needs it yet: a reload may add one */
	if (db_exists(dir)) {
		int r = crypto_init(&ic->crypto, dir);
		if (r < 0)
			log_err(&ctx->log, "cannot open the NSS database %s: %s", dir, strerror(-r));
		else
			ic->have_db = true;
	} else if (need) {
		log_debug(&ctx->log, "no NSS database at %s", dir);
	}
	ctx->certs = ic;
	stores_sync(ctx, ic, false);
	return 0;
}

void ike_certs_close(struct meshd_ctx *ctx)
{
	struct ike_certs *ic = ctx->certs;
	if (!ic)
		return;
	for (size_t i = 0; i < ic->n; i++) {
		cert_close(ic->st[i].s);
		cert_rawkey_close(ic->st[i].raw);
	}
	buf_free(&ic->certreq);
	crypto_free(ic->crypto);
	free(ic);
	ctx->certs = NULL;
}

void ike_certs_reload(struct meshd_ctx *ctx)
{
	if (ctx->certs)
		stores_sync(ctx, ctx->certs, true);
}

/* Our certificate store for sa's group, or NULL with *why. */
static struct cert_store *sa_store(struct ike *ike, const struct ike_sa *sa, const char **why)
{
	struct ike_certs *ic = ike->ctx->certs;
	const struct conf_conn *cc = sa_conn(ike, sa);
	if (!cc) {
		*why = "the group's conn is gone";
		return NULL;
	}
	struct store *st = ic ? store_find(ic, nick_of(cc)) : NULL;
	if (st && st->s && !st->missing[0])
		return st->s;
	if (st && st->missing[0]) {
		*why = st->missing;
	} else {
		snprintf(ike->why_buf, sizeof(ike->why_buf), "no node certificate '%s' in %s",
			 nick_of(cc), ic ? ic->nssdir : "the NSS database");
		*why = ike->why_buf;
	}
	return NULL;
}

static unsigned key_authby(enum cert_key_type k)
{
	return k == CERT_KEY_RSA ? AUTHBY_RSASIG : k == CERT_KEY_ECDSA ? AUTHBY_ECDSA : 0;
}

/* Our raw key for sa's group when its nickname names no certificate, or NULL. */
static struct cert_rawkey *sa_raw(struct ike *ike, const struct ike_sa *sa)
{
	struct ike_certs *ic = ike->ctx->certs;
	const struct conf_conn *cc = sa_conn(ike, sa);
	struct store *st = ic && cc ? store_find(ic, nick_of(cc)) : NULL;
	if (!st || !st->raw || st->missing[0] || (st->s && cert_self(st->s)->key != CERT_KEY_NONE))
		return NULL;
	return st->raw;
}

/* Do we sign (true) or use NULL (false)? false with *why when neither works. */
static bool choose_method(struct ike *ike, const struct ike_sa *sa, bool *sign,
			  struct cert_store **store, struct cert_rawkey **raw, const char **why)
{
	unsigned authby = sa->conf.authby;
	*sign = false;
	*store = NULL;
	*raw = NULL;
	struct cert_rawkey *rk = sa_raw(ike, sa);
	unsigned bits;
	if ((authby & (AUTHBY_RSASIG | AUTHBY_ECDSA)) && rk) {
		if (key_authby(cert_rawkey_type(rk, &bits)) & authby) {
			*sign = true;
			*raw = rk;
			return true;
		}
		if (authby & AUTHBY_NULL)
			return true;
		*why = cert_rawkey_type(rk, &bits) == CERT_KEY_RSA
			       ? "our raw key is RSA but the group allows only authby=ecdsa"
			       : "our raw key is ECDSA but the group allows only authby=rsasig";
		return false;
	}
	if (authby & (AUTHBY_RSASIG | AUTHBY_ECDSA)) {
		const char *w = NULL;
		struct cert_store *s = sa_store(ike, sa, &w);
		if (s && (key_authby(cert_self(s)->key) & authby)) {
			*sign = true;
			*store = s;
			return true;
		}
		if (s)
			w = cert_self(s)->key == CERT_KEY_RSA
				    ? "our certificate has an RSA key but the group allows only authby=ecdsa"
				    : "our certificate has an ECDSA key but the group allows only authby=rsasig";
		if (authby & AUTHBY_NULL)
			return true;
		*why = w;
		return false;
	}
	if (authby & AUTHBY_NULL)
		return true;
	*why = "the group has no authentication method";
	return false;
}

bool ike_auth_ready(struct ike *ike, const struct ike_sa *sa, const char **why)
{
	bool sign;
	struct cert_store *s;
	struct cert_rawkey *rk;
	return choose_method(ike, sa, &sign, &s, &rk, why);
}

/* RFC 7427 §4: the hashes we accept and sign with. */
static const uint16_t our_hashes[] = { CRYPTO_HASH_SHA2_256, CRYPTO_HASH_SHA2_384,
				       CRYPTO_HASH_SHA2_512 };

static bool cert_group(const struct ike_sa *sa)
{
	return sa->conf.authby & (AUTHBY_RSASIG | AUTHBY_ECDSA);
}

void ike_auth_sa_init_emit(struct ike *ike, const struct ike_sa *sa, struct ike_emit *e,
			   bool response)
{
	if (!cert_group(sa))
		return;
	uint8_t h[2 * ARRAY_LEN(our_hashes)];
	for (size_t i = 0; i < ARRAY_LEN(our_hashes); i++) {
		h[2 * i] = (uint8_t)(our_hashes[i] >> 8);
		h[2 * i + 1] = (uint8_t)our_hashes[i];
	}
	struct ike_notify n = { .type = IKE_N_SIGNATURE_HASH_ALGORITHMS, .data = { h, sizeof(h) } };
	ike_emit_notify(e, &n);
	const struct ike_certs *ic = ike->ctx->certs;
	if (response && ic && ic->certreq.len) {
		struct ike_cert cr = { .enc = IKE_CERT_X509_SIG,
				       .data = { ic->certreq.p, ic->certreq.len } };
		ike_emit_certreq(e, &cr);
	}
}

/* The peer's SIGNATURE_HASH_ALGORITHMS, from its IKE_SA_INIT message as kept for AUTH:
 * a bitmask of 1 << hash id; 0 when it sent none. */
static unsigned peer_hashes(const struct ike_sa *sa)
{
	const struct buf *m = sa->initiator ? &sa->msg_r : &sa->msg_i;
	struct ike_digest *d = malloc(sizeof(*d));
	unsigned mask = 0;
	if (!d)
		return 0;
	if (m->len && ike_pld_parse(d, m->p, m->len) == 0) {
		for (unsigned i = 0; i < d->n_notify; i++) {
			const struct ike_notify *n = &d->notify[i];
			if (n->type != IKE_N_SIGNATURE_HASH_ALGORITHMS)
				continue;
			for (size_t k = 0; k + 1 < n->data.len; k += 2) {
				unsigned id = (unsigned)n->data.p[k] << 8 | n->data.p[k + 1];
				if (id < 16)
					mask |= 1u << id;
			}
		}
	}
	free(d);
	return mask;
}

/* Our hash for a signature: the one that matches an ECDSA key's curve, SHA2-512 first
 * for RSA; among those the peer accepts (any, when it announced none). 0 if none. */
static uint16_t pick_hash(const struct cert_self *me, unsigned peer)
{
	uint16_t pref[3];
	if (me->key == CERT_KEY_ECDSA && me->key_bits <= 256) {
		pref[0] = CRYPTO_HASH_SHA2_256, pref[1] = CRYPTO_HASH_SHA2_384, pref[2] = CRYPTO_HASH_SHA2_512;
	} else if (me->key == CERT_KEY_ECDSA && me->key_bits <= 384) {
		pref[0] = CRYPTO_HASH_SHA2_384, pref[1] = CRYPTO_HASH_SHA2_512, pref[2] = CRYPTO_HASH_SHA2_256;
	} else {
		pref[0] = CRYPTO_HASH_SHA2_512, pref[1] = CRYPTO_HASH_SHA2_384, pref[2] = CRYPTO_HASH_SHA2_256;
	}
	if (!peer)
		return pref[0];
	for (size_t i = 0; i < 3; i++)
		if (peer & (1u << pref[i]))
			return pref[i];
	return 0;
}

/* msg | nonce | prf(SK_px, ID') for the side that sends the AUTH (of_initiator). *out is
 * owned by the caller. */
static int octets(struct ike *ike, const struct ike_sa *sa, bool of_initiator,
		  const struct ike_id *id, struct buf *out)
{
	uint16_t prf = sa->suite.prf;
	size_t L = crypto_prf_len(prf);
	const struct crypto_buf *key = of_initiator ? &sa->keys.sk_pi : &sa->keys.sk_pr;
	const struct buf *msg = of_initiator ? &sa->msg_i : &sa->msg_r;
	const struct buf *nonce = of_initiator ? &sa->nr : &sa->ni;
	uint8_t idh[4] = { id->type, 0, 0, 0 };
	struct crypto_iov idv[2] = { CRYPTO_IOV(idh, 4), CRYPTO_IOV(id->data.p, id->data.len) };
	int r;

	*out = (struct buf){ NULL, 0 };
	if (!L || L > CRYPTO_MAX_HASH_LEN || !msg->len)
		return -EINVAL;
	uint8_t *p = malloc(msg->len + nonce->len + L);
	if (!p)
		return -ENOMEM;
	memcpy(p, msg->p, msg->len);
	memcpy(p + msg->len, nonce->p, nonce->len);
	if ((r = crypto_prf(ike->crypto, prf, CRYPTO_IOV_BUF(*key), idv, 2,
			    p + msg->len + nonce->len)) < 0) {
		free(p);
		return r;
	}
	out->p = p;
	out->len = msg->len + nonce->len + L;
	return 0;
}

/* Method 13: prf(prf(SK_px, "Key Pad for IKEv2"), octets). */
static int null_auth(struct ike *ike, const struct ike_sa *sa, bool of_initiator,
		     const struct ike_id *id, uint8_t *out, size_t *out_len)
{
	uint16_t prf = sa->suite.prf;
	size_t L = crypto_prf_len(prf);
	const struct crypto_buf *key = of_initiator ? &sa->keys.sk_pi : &sa->keys.sk_pr;
	struct crypto_iov pad = CRYPTO_IOV(key_pad, sizeof(key_pad) - 1);
	uint8_t kp[CRYPTO_MAX_HASH_LEN];
	struct buf oct;
	int r = octets(ike, sa, of_initiator, id, &oct);
	if (r < 0)
		return r;
	if ((r = crypto_prf(ike->crypto, prf, CRYPTO_IOV_BUF(*key), &pad, 1, kp)) == 0) {
		struct crypto_iov o = CRYPTO_IOV(oct.p, oct.len);
		r = crypto_prf(ike->crypto, prf, CRYPTO_IOV(kp, L), &o, 1, out);
	}
	explicit_bzero(kp, sizeof(kp));
	buf_free(&oct);
	*out_len = L;
	return r;
}

static bool ct_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* Our ID for a certificate group: leftid=%fromcert or a DN -> the subject DN; unset -> our
 * address; @fqdn -> ID_FQDN. */
static void my_cert_id(const struct conf_conn *cc, const struct ike_sa *sa,
		       const struct cert_self *me, struct auth_mine *o)
{
	const char *lid = cc ? cc->leftid : NULL;
	if (lid && lid[0] == '@' && lid[1]) {
		o->id.type = IKE_ID_FQDN;
		o->id.data = (struct ike_blob){ (const uint8_t *)lid + 1, strlen(lid + 1) };
		return;
	}
	struct addr la;
	if (lid && addr_parse(lid, &la)) {
		o->id.type = la.family == AF_INET ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
		size_t n = addr_len(la.family);
		memcpy(o->id_addr, la.b, n);
		o->id.data = (struct ike_blob){ o->id_addr, n };
		return;
	}
	if (!lid || strcmp(lid, "%myid") == 0) {
		o->id.type = sa->local.family == AF_INET ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
		size_t n = addr_len(sa->local.family);
		memcpy(o->id_addr, sa->local.b, n);
		o->id.data = (struct ike_blob){ o->id_addr, n };
		return;
	}
	o->id.type = IKE_ID_DER_ASN1_DN;
	o->id.data = (struct ike_blob){ me->subject_der.p, me->subject_der.len };
}

/* Our ID and AUTH signed with a raw key (no certificate: no CERT goes out; the peer knows
 * our key from DNS). */
static int mine_raw(struct xctx *x, struct cert_rawkey *rk, struct auth_mine *o)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	struct cert_self me = { 0 };
	struct buf oct;
	int r;
	me.key = cert_rawkey_type(rk, &me.key_bits);
	my_cert_id(sa_conn(ike, sa), sa, &me, o);
	if (o->id.type == IKE_ID_DER_ASN1_DN) {
		x_why(x, "leftid= names a DN, but our key is a raw key without a certificate "
			 "(use leftid unset, an address or @FQDN)");
		return -1;
	}
	uint16_t hash = pick_hash(&me, peer_hashes(sa));
	if (!hash) {
		x_why(x, "the peer accepts no signature hash of ours (SHA2_256, SHA2_384, "
			 "SHA2_512)");
		return -1;
	}
	if ((r = octets(ike, sa, sa->initiator, &o->id, &oct)) < 0 ||
	    (r = cert_rawkey_sign(rk, hash, oct.p, oct.len, &o->alg, &o->sig)) < 0) {
		buf_free(&oct);
		x_why(x, "cannot sign AUTH with our raw key: %s", strerror(-r));
		ike_auth_mine_free(o);
		return -1;
	}
	buf_free(&oct);
	o->auth = (struct ike_auth){ .method = IKE_AUTH_DIGSIG,
				     .alg_id = { o->alg.p, o->alg.len },
				     .sig = { o->sig.p, o->sig.len } };
	o->name = cert_ike_alg_name(o->alg.p, o->alg.len);
	if (!o->name)
		o->name = me.key == CERT_KEY_RSA ? "RSA" : "ECDSA";
	return 0;
}

int ike_auth_mine(struct xctx *x, struct auth_mine *o)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const char *why = NULL;
	bool sign;
	struct cert_store *s;
	struct cert_rawkey *rk;
	int r;

	memset(o, 0, sizeof(*o));
	if (!choose_method(ike, sa, &sign, &s, &rk, &why)) {
		x_why(x, "%s", why);
		return -1;
	}
	if (!sign) {
		size_t n = 0;
		o->id.type = IKE_ID_NULL;
		if (null_auth(ike, sa, sa->initiator, &o->id, o->mac, &n) < 0) {
			x_why(x, "cannot compute the NULL AUTH");
			return -1;
		}
		o->auth = (struct ike_auth){ .method = IKE_AUTH_NULL, .data = { o->mac, n } };
		o->name = "NULL";
		return 0;
	}
	if (rk)
		return mine_raw(x, rk, o);
	const struct cert_self *me = cert_self(s);
	my_cert_id(sa_conn(ike, sa), sa, me, o);
	uint16_t hash = pick_hash(me, peer_hashes(sa));
	if (!hash) {
		x_why(x, "the peer accepts no signature hash of ours (SHA2_256, SHA2_384, "
			 "SHA2_512)");
		return -1;
	}
	struct buf oct;
	if ((r = octets(ike, sa, sa->initiator, &o->id, &oct)) < 0 ||
	    (r = cert_sign(s, hash, oct.p, oct.len, &o->alg, &o->sig)) < 0) {
		buf_free(&oct);
		x_why(x, "cannot sign AUTH with our certificate: %s", strerror(-r));
		ike_auth_mine_free(o);
		return -1;
	}
	buf_free(&oct);
	if (buf_dup(&o->cert, me->der.p, me->der.len) < 0) {
		ike_auth_mine_free(o);
		x_why(x, "out of memory");
		return -1;
	}
	o->n_chain = cert_self_chain(s, o->chain, AUTH_MAX_CHAIN);
	const struct ike_certs *ic = ike->ctx->certs;
	if (sa->initiator && ic && ic->certreq.len && buf_dup(&o->certreq, ic->certreq.p,
							      ic->certreq.len) < 0) {
		ike_auth_mine_free(o);
		x_why(x, "out of memory");
		return -1;
	}
	o->certs = true;
	o->auth = (struct ike_auth){ .method = IKE_AUTH_DIGSIG,
				     .alg_id = { o->alg.p, o->alg.len },
				     .sig = { o->sig.p, o->sig.len } };
	o->name = cert_ike_alg_name(o->alg.p, o->alg.len);
	if (!o->name)
		o->name = me->key == CERT_KEY_RSA ? "RSA" : "ECDSA";
	return 0;
}

void ike_auth_emit(struct ike_emit *e, const struct auth_mine *o, bool initiator)
{
	ike_emit_id(e, initiator ? IKE_PL_IDI : IKE_PL_IDR, &o->id);
	if (o->certs) {
		struct ike_cert c = { .enc = IKE_CERT_X509_SIG, .data = { o->cert.p, o->cert.len } };
		ike_emit_cert(e, &c);
		for (size_t i = 0; i < o->n_chain; i++) {
			c.data = (struct ike_blob){ o->chain[i].p, o->chain[i].len };
			ike_emit_cert(e, &c);
		}
		if (initiator && o->certreq.len) {
			struct ike_cert cr = { .enc = IKE_CERT_X509_SIG,
					       .data = { o->certreq.p, o->certreq.len } };
			ike_emit_certreq(e, &cr);
		}
	}
	/* an ID_NULL initiator names the responder ID_NULL too (libreswan-oe.md §4.4);
	 * %fromcert has no name to send */
	if (initiator && o->id.type == IKE_ID_NULL)
		ike_emit_id(e, IKE_PL_IDR, &o->id);
	ike_emit_auth(e, &o->auth);
}

void ike_auth_mine_free(struct auth_mine *o)
{
	buf_free(&o->cert);
	for (size_t i = 0; i < o->n_chain; i++)
		buf_free(&o->chain[i]);
	o->n_chain = 0;
	buf_free(&o->certreq);
	buf_free(&o->alg);
	buf_free(&o->sig);
	explicit_bzero(o->mac, sizeof(o->mac));
}

/* ---- the peer ---- */

static void peer_id_text(struct ike_sa *sa, const struct ike_id *id, const char *dn)
{
	sa->peer_id_type = id->type;
	struct addr a = { 0 };
	switch (id->type) {
	case IKE_ID_NULL:
		snprintf(sa->peer_id, sizeof(sa->peer_id), "ID_NULL");
		return;
	case IKE_ID_DER_ASN1_DN:
		snprintf(sa->peer_id, sizeof(sa->peer_id), "%s", dn ? dn : "ID_DER_ASN1_DN");
		return;
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		a.family = id->type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6;
		if (id->data.len == addr_len(a.family)) {
			memcpy(a.b, id->data.p, id->data.len);
			addr_str(&a, sa->peer_id);
			return;
		}
		break;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR: {
		size_t n = 0;
		for (size_t i = 0; i < id->data.len && n + 1 < sizeof(sa->peer_id); i++) {
			uint8_t c = id->data.p[i];
			sa->peer_id[n++] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
		}
		sa->peer_id[n] = '\0';
		return;
	}
	default:
		break;
	}
	snprintf(sa->peer_id, sizeof(sa->peer_id), "%s", ike_id_type_name(id->type));
}

/* Is the peer's ID an address equal to its own? */
static bool id_is_peer_addr(const struct ike_id *id, const struct addr *peer)
{
	int fam = id->type == IKE_ID_IPV4_ADDR ? AF_INET : id->type == IKE_ID_IPV6_ADDR ? AF_INET6 : 0;
	return fam && fam == peer->family && id->data.len == addr_len(fam) &&
	       memcmp(id->data.p, peer->b, id->data.len) == 0;
}

/* Printable DNs compared loosely: case and the blanks after separators do not matter. */
static bool dn_text_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
		if (ca != cb)
			return false;
		a++, b++;
	}
}

/* Initiator or responder: would a NULL-authenticated SA replace an authenticated one with
 * this peer (DESIGN.md §2.3)? Returns that SA's serial or 0. */
static uint32_t authenticated_twin(struct ike *ike, const struct ike_sa *sa)
{
	struct ike_sa *o;
	for (o = sa_ike_peer_next(ike->sas, &sa->peer, 0); o;
	     o = sa_ike_peer_next(ike->sas, &sa->peer, o->serial))
		if (o != sa && o->state == IKES_ESTABLISHED && addr_eq(&o->local, &sa->local) &&
		    o->peer_id_type != IKE_ID_NULL)
			return o->serial;
	return 0;
}

static bool verify_null(struct xctx *x, const struct ike_id *id, const char *ps)
{
	struct ike_sa *sa = x->sa;
	const struct ike_auth *a = &x->d->auth;
	uint8_t want[CRYPTO_MAX_HASH_LEN];
	size_t wl = 0;
	if (!(sa->conf.authby & AUTHBY_NULL)) {
		x_why(x, "AUTHENTICATION_FAILED: %s used NULL authentication; group %.40s "
			 "requires certificates", ps, sa->conf.group);
		return false;
	}
	if (null_auth(x->ike, sa, !sa->initiator, id, want, &wl) < 0 || a->data.len != wl ||
	    !ct_eq(a->data.p, want, wl)) {
		x_why(x, "AUTHENTICATION_FAILED: the NULL AUTH of %s does not verify", ps);
		return false;
	}
	uint32_t twin = authenticated_twin(x->ike, sa);
	if (twin) {
		x_why(x, "cannot replace authenticated IKE SA #%u with a NULL-authenticated one",
		      twin);
		return false;
	}
	sa->auth_name = "NULL";
	peer_id_text(sa, id, NULL);
	return true;
}

/* The peer's ID against its verified certificate and our rightid= / rightca=. NULL or why. */
static const char *check_identity(struct ike *ike, const struct ike_sa *sa,
				  const struct ike_id *id, const struct cert_peer *p,
				  struct cert_store *s)
{
	const struct conf_conn *cc = sa_conn(ike, sa);
	const char *rid = cc ? cc->rightid : NULL, *rca = cc ? cc->rightca : NULL;
	bool dn_ok = id->type == IKE_ID_DER_ASN1_DN &&
		     cert_ike_dn_eq(id->data.p, id->data.len, p->subject_der.p, p->subject_der.len);
	/* cert_verify_peer already required the address among the IP SANs, if there are any */
	bool ip_ok = id_is_peer_addr(id, &sa->peer) && p->has_ip_san;
	if (!dn_ok && !ip_ok)
		return id->type == IKE_ID_DER_ASN1_DN ? "peer ID is not its certificate's subject"
		       : id_is_peer_addr(id, &sa->peer)
			       ? "peer address not in the certificate's subjectAltName"
			       : "peer ID does not match its certificate";
	if (!rid && !p->has_ip_san)
		return "peer address not in the certificate's subjectAltName";
	if (rid && rid[0] && rid[0] != '%' && rid[0] != '@' && strchr(rid, '=') &&
	    !dn_text_eq(rid, p->subject))
		return "peer certificate's subject is not rightid=";
	if (rca && strcmp(rca, "%same") == 0 && !dn_text_eq(p->issuer, cert_self(s)->issuer))
		return "peer certificate is not issued by our CA (rightca=%same)";
	if (rca && rca[0] && rca[0] != '%' && !dn_text_eq(p->issuer, rca))
		return "peer certificate is not issued by rightca=";
	if (!(key_authby(p->key) & sa->conf.authby))
		return p->key == CERT_KEY_RSA ? "peer used an RSA key; the group allows only "
						"authby=ecdsa"
					      : "peer used an ECDSA key; the group allows only "
						"authby=rsasig";
	return NULL;
}

static bool verify_cert(struct xctx *x, const struct ike_id *id, const char *ps)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_digest *d = x->d;
	const struct ike_auth *a = &d->auth;
	const char *why = NULL;
	struct buf chain[8];
	size_t n_chain = 0;
	const struct ike_cert *ee = NULL;

	if (!(sa->conf.authby & (AUTHBY_RSASIG | AUTHBY_ECDSA))) {
		x_why(x, "AUTHENTICATION_FAILED: %s used AUTH method %s; group %.40s allows only "
			 "NULL authentication", ps, ike_auth_method_name(a->method), sa->conf.group);
		return false;
	}
	if (a->method != IKE_AUTH_DIGSIG && a->method != IKE_AUTH_RSA_SIG) {
		x_why(x, "AUTH method %s is not accepted", ike_auth_method_name(a->method));
		return false;
	}
	struct cert_store *s = sa_store(ike, sa, &why);
	if (!s) {
		x_why(x, "%s", why);
		return false;
	}
	for (unsigned i = 0; i < d->n_cert; i++) {
		if (d->cert[i].enc != IKE_CERT_X509_SIG)
			continue;
		if (!ee)
			ee = &d->cert[i];
		else if (n_chain < ARRAY_LEN(chain))
			/* borrowed views: cert_verify_peer only reads them */
			chain[n_chain++] = (struct buf){ (uint8_t *)d->cert[i].data.p,
							 d->cert[i].data.len };
	}
	if (!ee) {
		x_why(x, "peer sent no X.509 certificate");
		return false;
	}
	struct cert_peer p;
	if (cert_verify_peer(s, ee->data.p, ee->data.len, chain, n_chain, &sa->peer, &p, &why) < 0) {
		x_why(x, "%s", why ? why : "certificate chain verification failed");
		return false;
	}
	const char *bad = check_identity(ike, sa, id, &p, s);
	if (bad) {
		sa_log(ike, sa, LOG_LVL_INFO, "certificate of %s: subject '%s', issuer '%s'", ps,
		       p.subject, p.issuer);
		x_why(x, "%s", bad);
		cert_peer_free(&p);
		return false;
	}
	struct buf oct;
	int r = octets(ike, sa, !sa->initiator, id, &oct);
	if (r == 0) {
		if (a->method == IKE_AUTH_DIGSIG)
			r = cert_verify_sig(s, &p, a->method, a->alg_id.p, a->alg_id.len, oct.p,
					    oct.len, a->sig.p, a->sig.len);
		else
			r = cert_verify_sig(s, &p, a->method, NULL, 0, oct.p, oct.len, a->data.p,
					    a->data.len);
	}
	buf_free(&oct);
	if (r < 0) {
		x_why(x, "%s", r == -EBADMSG ? "AUTH signature invalid"
			       : r == -ENOTSUP ? "AUTH signature algorithm not supported"
					       : "AUTH signature algorithm does not fit the key");
		cert_peer_free(&p);
		return false;
	}
	const char *name = a->method == IKE_AUTH_RSA_SIG ? "RSA-SHA1"
			   : cert_ike_alg_name(a->alg_id.p, a->alg_id.len);
	sa->auth_name = name ? name : p.key == CERT_KEY_RSA ? "RSA" : "ECDSA";
	peer_id_text(sa, id, p.subject);
	sa_log(ike, sa, LOG_LVL_INFO, "authenticated peer '%s' using %s-%u %s (certificate "
	       "issued by '%s')", sa->peer_id, p.key == CERT_KEY_RSA ? "RSA" : "ECDSA", p.key_bits,
	       sa->auth_name, p.issuer);
	cert_peer_free(&p);
	return true;
}

/* ---- DNSSEC keys (libreswan-oe.md §4.3) ----
 * One record per SA serial: a lookup under way or answered, and after a successful AUTH
 * the key's origin for status. The answer also goes into the TTL cache by peer ID (all of
 * its keys replace the ID's), which later SAs use before asking DNS again. */
struct dns_wait {
	struct dns_wait *next;
	uint32_t serial;
	char qname[IPSECKEY_NAME_MAX];
	uint8_t id_type;
	uint8_t id[256];
	size_t id_len;
	uint32_t floor_s;             /* TTL floor: the SA's retransmit timeout */
	bool done;                    /* res is the answer */
	struct dns_result res;
	bool authenticated;           /* AUTH verified with a DNS key: status only */
	uint64_t expires_ms;          /* ... whose cache entry expires then */
};

static bool dns_peer(const struct conf_conn *cc)
{
	return cc && cc->rightrsasigkey && strcmp(cc->rightrsasigkey, "%dnsondemand") == 0;
}

static struct dns_wait *wait_find(const struct ike *ike, uint32_t serial)
{
	for (struct dns_wait *w = ike->dns_waits; w; w = w->next)
		if (w->serial == serial)
			return w;
	return NULL;
}

static void wait_drop(struct ike *ike, struct dns_wait *w)
{
	for (struct dns_wait **pp = &ike->dns_waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (ike->dns && !w->done && !w->authenticated)
		dns_cancel(ike->dns, w->serial);
	dns_result_fini(&w->res);
	free(w);
}

/* The resolver, made on first need; NULL with ike->dns_error set. */
static struct dns *need_dns(struct ike *ike)
{
	if (!ike->dns_keys)
		ike->dns_keys = ipseckey_cache_new(1024, 10, 86400);
	if (ike->dns || ike->dns_error[0])
		return ike->dns;
	const struct conf_setup *su = &ike->ctx->conf->setup;
	struct dns_config cfg = {
		.dnssec_enable = su->dnssec_enable,
		.resolv_conf = su->resolv_conf,
		.rootkey_file = su->dnssec_rootkey_file,
		.anchors = su->dnssec_anchors,
	};
	int r = dns_new(&ike->dns, &cfg, ike->ctx->loop, &ike->ctx->log);
	if (r < 0) {
		snprintf(ike->dns_error, sizeof(ike->dns_error), "DNSSEC: no resolver: %s",
			 r == -ENOENT ? "no nameserver or no trust anchor" : strerror(-r));
		log_warn(&ike->ctx->log, "%s; groups with rightrsasigkey=%%dnsondemand cannot "
			 "authenticate their peers", ike->dns_error);
	}
	return ike->dns;
}

void ike_dns_init(struct ike *ike)
{
	const struct conf *c = ike->ctx->conf;
	for (size_t i = 0; c && i < c->n_conns; i++) {
		if (dns_peer(&c->conns[i])) {
			(void)need_dns(ike);
			return;
		}
	}
}

void ike_dns_fini(struct ike *ike)
{
	dns_free(ike->dns);           /* first: no callback after this */
	ike->dns = NULL;
	while (ike->dns_waits) {
		struct dns_wait *w = ike->dns_waits;
		ike->dns_waits = w->next;
		dns_result_fini(&w->res);
		free(w);
	}
	ipseckey_cache_free(ike->dns_keys);
	ike->dns_keys = NULL;
}

void ike_dns_rekeyed(struct ike *ike, uint32_t old, uint32_t serial)
{
	struct dns_wait *w = wait_find(ike, old);
	if (w && !wait_find(ike, serial))
		w->serial = serial;
}

void ike_dns_forget(struct ike *ike, uint32_t serial)
{
	struct dns_wait *w = wait_find(ike, serial);
	if (w)
		wait_drop(ike, w);
}

/* The name to query for the peer's ID (FQDN, or an IP that is its address), with the ID
 * type and data the cache keys it by. false with *why. */
static bool dns_name(const struct ike_sa *sa, const struct ike_id *id, struct dns_wait *w,
		     char *why, size_t wn)
{
	char ps[ADDR_STRLEN];
	w->id_type = id->type;
	w->id_len = id->data.len < sizeof(w->id) ? id->data.len : sizeof(w->id);
	memcpy(w->id, id->data.p, w->id_len);
	if (id->type == IKE_ID_IPV4_ADDR || id->type == IKE_ID_IPV6_ADDR) {
		if (!id_is_peer_addr(id, &sa->peer)) {
			snprintf(why, wn, "peer ID is an address other than its own (%s)",
				 addr_str(&sa->peer, ps));
			return false;
		}
		if (ipseckey_reverse_name(&sa->peer, w->qname, sizeof(w->qname)) < 0) {
			snprintf(why, wn, "no reverse name for %s", ps);
			return false;
		}
		return true;
	}
	if (id->type == IKE_ID_FQDN) {
		char fq[256];
		size_t n = id->data.len < sizeof(fq) - 1 ? id->data.len : sizeof(fq) - 1;
		memcpy(fq, id->data.p, n);
		fq[n] = '\0';
		if (strlen(fq) != n || ipseckey_fqdn_name(fq, w->qname, sizeof(w->qname)) < 0) {
			snprintf(why, wn, "peer ID_FQDN is not a DNS name");
			return false;
		}
		return true;
	}
	snprintf(why, wn, "peer sent %s; a DNS key needs ID_FQDN, ID_IPV4_ADDR or "
		 "ID_IPV6_ADDR", ike_id_type_name(id->type));
	return false;
}

static void dns_done(struct dns_result *r, void *arg)
{
	struct ike *ike = arg;
	struct dns_wait *w = wait_find(ike, r->serial);
	struct ike_sa *sa = sa_ike_by_serial(ike->sas, r->serial);
	if (!w || w->done || w->authenticated)
		return;
	if (!sa) {
		wait_drop(ike, w);
		return;
	}
	w->done = true;
	w->res = *r;
	r->keys = NULL;
	r->n_keys = 0;
	sa_log(ike, sa, LOG_LVL_INFO, "DNS: %s", w->res.reason);
	if (w->res.status == DNS_SECURE && ike->dns_keys && w->res.n_keys) {
		uint32_t ttl = w->res.ttl_s > w->floor_s ? w->res.ttl_s : w->floor_s;
		if (ipseckey_cache_put(ike->dns_keys, w->id_type, w->id, w->id_len, w->res.keys,
				       w->res.n_keys, ttl, ike_now_ms(ike)) < 0)
			sa_log(ike, sa, LOG_LVL_WARN, "cannot cache the DNS keys of %s", w->qname);
	}
	exchange_resume(ike, r->serial);
}

/* Start the lookup of w (linked to ike). 0 or -1 with x->why. */
static int dns_query(struct ike *ike, struct ike_sa *sa, struct dns_wait *w, char *why,
		     size_t wn)
{
	struct dns *d = need_dns(ike);
	if (!d) {
		snprintf(why, wn, "%s", ike->dns_error);
		return -1;
	}
	bool fwd = w->id_type == IKE_ID_FQDN;
	int r = dns_lookup_ipseckey(d, sa->serial, w->qname, fwd ? &sa->peer : NULL, dns_done, ike);
	if (r < 0) {
		snprintf(why, wn, "DNSSEC: cannot query %.100s: %s", w->qname, strerror(-r));
		return -1;
	}
	sa_log(ike, sa, LOG_LVL_DEBUG, "DNS: looking up %s IPSECKEY", w->qname);
	return 0;
}

static struct dns_wait *wait_new(struct ike *ike, const struct ike_sa *sa)
{
	struct dns_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->serial = sa->serial;
	uint32_t rt = sa->conf.retransmit_timeout_ms ? sa->conf.retransmit_timeout_ms : 10000;
	w->floor_s = (rt + 999) / 1000;
	w->next = ike->dns_waits;
	ike->dns_waits = w;
	return w;
}

void ike_dns_start(struct ike *ike, struct ike_sa *sa)
{
	if (!dns_peer(sa_conn(ike, sa)) || wait_find(ike, sa->serial))
		return;
	struct dns_wait *w = wait_new(ike, sa);
	char why[160];
	if (!w)
		return;
	uint8_t ab[16];
	memcpy(ab, sa->peer.b, addr_len(sa->peer.family));
	struct ike_id id = { .type = sa->peer.family == AF_INET ? IKE_ID_IPV4_ADDR
								: IKE_ID_IPV6_ADDR,
			     .data = { ab, addr_len(sa->peer.family) } };
	need_dns(ike);
	if (!dns_name(sa, &id, w, why, sizeof(why)) ||
	    (ike->dns_keys && ipseckey_cache_get(ike->dns_keys, w->id_type, w->id, w->id_len,
						 ike_now_ms(ike))) ||
	    dns_query(ike, sa, w, why, sizeof(why)) < 0)
		wait_drop(ike, w);    /* IKE_AUTH tries again and reports */
}

/* AUTH by one of keys: 0 (auth_name set, *bits the key's size), -1 none verifies. */
static int try_keys(struct xctx *x, const struct ike_id *id, const struct ipseckey_key *keys,
		    size_t n, unsigned *bits, const char **kind)
{
	struct ike_sa *sa = x->sa;
	const struct ike_auth *a = &x->d->auth;
	struct buf oct;
	if (octets(x->ike, sa, !sa->initiator, id, &oct) < 0)
		return -1;
	int ok = -1;
	for (size_t i = 0; i < n && ok < 0; i++) {
		struct cert_peer p;
		if (cert_peer_from_spki(keys[i].spki.p, keys[i].spki.len, &p) < 0)
			continue;
		int r = -EINVAL;
		if (key_authby(p.key) & sa->conf.authby) {
			if (a->method == IKE_AUTH_DIGSIG)
				r = cert_verify_sig(NULL, &p, a->method, a->alg_id.p, a->alg_id.len,
						    oct.p, oct.len, a->sig.p, a->sig.len);
			else
				r = cert_verify_sig(NULL, &p, a->method, NULL, 0, oct.p, oct.len,
						    a->data.p, a->data.len);
		}
		if (r == 0) {
			const char *name = a->method == IKE_AUTH_RSA_SIG
						   ? "RSA-SHA1"
						   : cert_ike_alg_name(a->alg_id.p, a->alg_id.len);
			sa->auth_name = name ? name : p.key == CERT_KEY_RSA ? "RSA" : "ECDSA";
			*bits = p.key_bits;
			*kind = p.key == CERT_KEY_RSA ? "RSA" : "ECDSA";
			ok = 0;
		}
		cert_peer_free(&p);
	}
	buf_free(&oct);
	return ok;
}

static enum auth_verdict dns_ok(struct xctx *x, const struct ike_id *id, struct dns_wait *w,
				uint64_t expires_ms, unsigned bits, const char *kind,
				const char *how)
{
	struct ike_sa *sa = x->sa;
	dns_result_fini(&w->res);
	w->done = false;
	w->authenticated = true;
	w->expires_ms = expires_ms;
	peer_id_text(sa, id, NULL);
	sa_log(x->ike, sa, LOG_LVL_INFO, "authenticated peer '%s' using %s-%u %s (%s DNSSEC key "
	       "of %s)", sa->peer_id, kind, bits, sa->auth_name, how, w->qname);
	return AUTH_OK;
}

static enum auth_verdict verify_dns(struct xctx *x, const struct ike_id *id)
{
	struct ike *ike = x->ike;
	struct ike_sa *sa = x->sa;
	const struct ike_auth *a = &x->d->auth;
	uint64_t now = ike_now_ms(ike);
	unsigned bits = 0;
	const char *kind = "";

	if (a->method != IKE_AUTH_DIGSIG && a->method != IKE_AUTH_RSA_SIG) {
		x_why(x, "AUTH method %s is not accepted", ike_auth_method_name(a->method));
		return AUTH_FAIL;
	}
	struct dns_wait *w = wait_find(ike, sa->serial), probe = { 0 };
	if (!dns_name(sa, id, &probe, x->why, sizeof(x->why)))
		return AUTH_FAIL;
	if (w && (w->authenticated || strcmp(w->qname, probe.qname) != 0 ||
		  w->id_type != probe.id_type)) {
		wait_drop(ike, w);    /* the initiator guessed another ID */
		w = NULL;
	}
	if (w && w->done) {
		if (w->res.status != DNS_SECURE) {
			x_why(x, "DNSSEC: %s", w->res.reason);
			wait_drop(ike, w);
			return AUTH_FAIL;
		}
		if (try_keys(x, id, w->res.keys, w->res.n_keys, &bits, &kind) == 0) {
			uint32_t ttl = w->res.ttl_s > w->floor_s ? w->res.ttl_s : w->floor_s;
			const struct ipseckey_entry *e =
				ike->dns_keys ? ipseckey_cache_get(ike->dns_keys, w->id_type, w->id,
								   w->id_len, now)
					      : NULL;
			return dns_ok(x, id, w, e ? e->expires_ms : now + (uint64_t)ttl * 1000,
				      bits, kind, "the");
		}
		if (ike->dns_keys)
			ipseckey_cache_del(ike->dns_keys, w->id_type, w->id, w->id_len);
		x_why(x, "AUTH signature does not match the DNSSEC key of %s", w->qname);
		wait_drop(ike, w);
		return AUTH_FAIL;
	}
	/* cached keys first; a wrong one does not block a new query */
	const struct ipseckey_entry *e =
		ike->dns_keys ? ipseckey_cache_get(ike->dns_keys, probe.id_type, probe.id,
						   probe.id_len, now)
			      : NULL;
	if (e) {
		if (try_keys(x, id, e->keys, e->n_keys, &bits, &kind) == 0) {
			if (!w && !(w = wait_new(ike, sa))) {
				x_why(x, "out of memory");
				return AUTH_FAIL;
			}
			memcpy(w->qname, probe.qname, sizeof(w->qname));
			return dns_ok(x, id, w, e->expires_ms, bits, kind, "cached");
		}
		sa_log(ike, sa, LOG_LVL_INFO, "cached DNSSEC key of %s does not verify; asking "
		       "DNS again", probe.qname);
		ipseckey_cache_del(ike->dns_keys, probe.id_type, probe.id, probe.id_len);
	}
	if (w)
		return AUTH_PENDING;  /* the answer resumes the exchange */
	if (!(w = wait_new(ike, sa))) {
		x_why(x, "out of memory");
		return AUTH_FAIL;
	}
	memcpy(w->qname, probe.qname, sizeof(w->qname));
	w->id_type = probe.id_type;
	memcpy(w->id, probe.id, probe.id_len);
	w->id_len = probe.id_len;
	if (dns_query(ike, sa, w, x->why, sizeof(x->why)) < 0) {
		wait_drop(ike, w);
		return AUTH_FAIL;
	}
	return AUTH_PENDING;
}

const char *ike_key_source(const struct ike *ike, const struct ike_sa *sa, char *buf,
			   size_t n)
{
	if (!sa || !sa->auth_name)
		return "";
	if (sa->peer_id_type == IKE_ID_NULL)
		return "NULL";
	const struct dns_wait *w = wait_find(ike, sa->serial);
	if (!w || !w->authenticated)
		return "certificate";
	uint64_t now = ike_now_ms(ike);
	unsigned left = w->expires_ms > now ? (unsigned)((w->expires_ms - now + 999) / 1000) : 0;
	snprintf(buf, n, "DNSSEC secure, TTL %u s left", left);
	return buf;
}

enum auth_verdict ike_auth_check(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	const struct ike_id *id = sa->initiator ? &x->d->idr : &x->d->idi;
	char ps[ADDR_STRLEN];
	addr_str(&sa->peer, ps);
	enum auth_verdict v;
	if (x->d->auth.method == IKE_AUTH_NULL)
		v = verify_null(x, id, ps) ? AUTH_OK : AUTH_FAIL;
	else if (dns_peer(sa_conn(x->ike, sa)))
		v = verify_dns(x, id);
	else
		v = verify_cert(x, id, ps) ? AUTH_OK : AUTH_FAIL;
	if (v == AUTH_FAIL)
		sa_log(x->ike, sa, LOG_LVL_INFO, "authentication of %s failed: %s", ps, x->why);
	return v;
}

void ike_auth_reject_responder(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	struct msg_out m;
	struct buf out = { 0 };
	struct ike_notify n = { .type = IKE_N_AUTHENTICATION_FAILED };
	struct ike_delete del = { .proto = IKE_PROTO_IKE };
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r == 0) {
		ike_emit_notify(&m.e, &n);
		ike_emit_delete(&m.e, &del);
	}
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		buf_free(&out);
		return;
	}
	msg_send_raw(x->ike, &sa->local, sa->lport, &sa->peer, sa->rport, out.p, out.len);
	buf_free(&out);
}
