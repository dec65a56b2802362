/* ike_pld.c — IKEv2 payload chain → struct ike_digest; see ike_pld.h.
 *
 * Every byte is read through rd: each payload body is an rd_sub() of its generic
 * header's length, so a decoder cannot read into its neighbour, and each decoder ends by
 * requiring rd_done() so that length lies are caught. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_pld.h"

/* Payloads that may appear at most once per message. */
#define SINGLETONS (IKE_PL_BIT(IKE_PL_SA) | IKE_PL_BIT(IKE_PL_KE) |                  \
		    IKE_PL_BIT(IKE_PL_NONCE) | IKE_PL_BIT(IKE_PL_IDI) |               \
		    IKE_PL_BIT(IKE_PL_IDR) | IKE_PL_BIT(IKE_PL_AUTH) |                \
		    IKE_PL_BIT(IKE_PL_TSI) | IKE_PL_BIT(IKE_PL_TSR) |                 \
		    IKE_PL_BIT(IKE_PL_CP) | IKE_PL_BIT(IKE_PL_EAP) |                  \
		    IKE_PL_BIT(IKE_PL_SK) | IKE_PL_BIT(IKE_PL_SKF))

static int bad(struct ike_digest *d, const char *what)
{
	d->err_notify = IKE_N_INVALID_SYNTAX;
	d->err_what = what;
	return -EBADMSG;
}

int ike_hdr_read(struct rd *r, struct ike_hdr *h)
{
	rd_be64(r, &h->spi_i);
	rd_be64(r, &h->spi_r);
	rd_u8(r, &h->np);
	rd_u8(r, &h->version);
	rd_u8(r, &h->xchg);
	rd_u8(r, &h->flags);
	rd_be32(r, &h->msgid);
	return rd_be32(r, &h->length);
}

/* RFC 7296 §3.3.2 + §3.3.5: one transform and its attributes. */
static int dec_transform(struct ike_digest *d, struct rd *pb, struct ike_transform *xf,
			 bool last)
{
	uint8_t more, rsv;
	uint16_t len;
	struct rd tb;

	rd_u8(pb, &more);
	rd_u8(pb, &rsv);
	rd_be16(pb, &len);
	if (!rd_ok(pb) || len < 8)
		return bad(d, "transform length < 8 or truncated");
	if (rd_sub(pb, len - 4, &tb))
		return bad(d, "transform length past end of proposal");
	if (more != (last ? IKE_XF_LAST : IKE_XF_MORE))
		return bad(d, "transform last-substruc inconsistent with count");
	rd_u8(&tb, &xf->type);
	rd_u8(&tb, &rsv);
	rd_be16(&tb, &xf->id);
	while (rd_ok(&tb) && rd_left(&tb) > 0) {
		uint16_t type, val;
		rd_be16(&tb, &type);
		rd_be16(&tb, &val);
		if (!rd_ok(&tb))
			return bad(d, "transform attribute truncated");
		if (!(type & IKE_ATTR_TV)) {
			/* TLV: val is the length of the value that follows */
			if (rd_skip(&tb, val))
				return bad(d, "transform attribute length past end");
			xf->unknown_attr = true;
		} else if ((type & ~IKE_ATTR_TV) == IKE_ATTR_KEY_LENGTH && !xf->key_len && val) {
			xf->key_len = val;
		} else {
			xf->unknown_attr = true;
		}
	}
	return rd_done(&tb) ? 0 : bad(d, "transform truncated");
}

/* RFC 7296 sets no limit on the transforms of a proposal, and peers send many: strongSwan
 * 5.9's default IKE proposals carry 37 and 38 (every cipher, PRF and group it knows), and
 * rejecting the message left it retransmitting into silence. Past IKE_MAX_TRANSFORMS the
 * peer's first choices are kept, but a type never vanishes (a proposal without INTEG or
 * DH would mean something else): a transform of a type not stored yet takes the slot of
 * the last transform of a type that has several. Selection sees a subset of the offer, so
 * whatever it picks was offered. */
static void keep_transform(struct ike_proposal *pr, const struct ike_transform *t)
{
	if (pr->n_xf < IKE_MAX_TRANSFORMS) {
		pr->xf[pr->n_xf++] = *t;
		return;
	}
	for (unsigned i = 0; i < pr->n_xf; i++)
		if (pr->xf[i].type == t->type)
			return;
	for (unsigned j = pr->n_xf; j-- > 0;) {
		unsigned same = 0;
		for (unsigned i = 0; i < pr->n_xf; i++)
			same += pr->xf[i].type == pr->xf[j].type;
		if (same > 1) {
			memmove(&pr->xf[j], &pr->xf[j + 1], (pr->n_xf - j - 1) * sizeof(pr->xf[0]));
			pr->xf[pr->n_xf - 1] = *t;
			return;
		}
	}
}

/* RFC 7296 §3.3.1: one proposal. */
static int dec_proposal(struct ike_digest *d, struct rd *b, struct ike_proposal *pr,
			uint8_t *more)
{
	uint8_t rsv, n_xf;
	uint16_t len;
	const uint8_t *spi;
	struct rd pb;

	rd_u8(b, more);
	rd_u8(b, &rsv);
	rd_be16(b, &len);
	if (!rd_ok(b) || len < 8)
		return bad(d, "proposal length < 8 or truncated");
	if (rd_sub(b, len - 4, &pb))
		return bad(d, "proposal length past end of SA");
	if (*more != IKE_PROP_LAST && *more != IKE_PROP_MORE)
		return bad(d, "proposal last-substruc not 0 or 2");
	rd_u8(&pb, &pr->num);
	rd_u8(&pb, &pr->proto);
	rd_u8(&pb, &pr->spi_size);
	rd_u8(&pb, &n_xf);
	if (pr->spi_size > IKE_MAX_SPI_LEN)
		return bad(d, "proposal SPI size > 8");
	if (rd_bytes(&pb, pr->spi_size, &spi))
		return bad(d, "proposal SPI truncated");
	memcpy(pr->spi, spi, pr->spi_size);
	pr->n_xf = 0;
	for (unsigned i = 0; i < n_xf; i++) {
		struct ike_transform t = { 0 };
		int err = dec_transform(d, &pb, &t, i + 1 == n_xf);
		if (err)
			return err;
		keep_transform(pr, &t);
	}
	return rd_done(&pb) ? 0 : bad(d, "proposal length does not match its transforms");
}

static int dec_sa(struct ike_digest *d, struct rd *b)
{
	uint8_t more = IKE_PROP_MORE;
	while (more == IKE_PROP_MORE) {
		if (d->sa.n_prop == IKE_MAX_PROPOSALS)
			return bad(d, "too many proposals");
		int err = dec_proposal(d, b, &d->sa.prop[d->sa.n_prop], &more);
		if (err)
			return err;
		d->sa.n_prop++;
	}
	return rd_done(b) ? 0 : bad(d, "bytes after the last proposal");
}

/* Borrow the rest of a body. */
static void rest(struct rd *b, struct ike_blob *out)
{
	out->len = rd_left(b);
	if (rd_bytes(b, out->len, &out->p))
		out->len = 0;
}

static int dec_ke(struct ike_digest *d, struct rd *b)
{
	uint16_t rsv;
	rd_be16(b, &d->ke.group);
	rd_be16(b, &rsv);
	if (!rd_ok(b) || rd_left(b) == 0)
		return bad(d, "KE truncated");
	rest(b, &d->ke.data);
	return 0;
}

static int dec_nonce(struct ike_digest *d, struct rd *b)
{
	if (rd_left(b) < IKE_NONCE_MIN || rd_left(b) > IKE_NONCE_MAX)
		return bad(d, "nonce not 16..256 bytes");
	rest(b, &d->nonce);
	return 0;
}

static int dec_notify(struct ike_digest *d, struct rd *b)
{
	if (d->n_notify == IKE_MAX_NOTIFIES)
		return bad(d, "too many notify payloads");
	struct ike_notify *n = &d->notify[d->n_notify];
	rd_u8(b, &n->proto);
	rd_u8(b, &n->spi_size);
	rd_be16(b, &n->type);
	if (!rd_ok(b))
		return bad(d, "notify truncated");
	if (n->spi_size != 0 && n->spi_size != 4 && n->spi_size != 8)
		return bad(d, "notify SPI size not 0, 4 or 8");
	n->spi.len = n->spi_size;
	if (rd_bytes(b, n->spi_size, &n->spi.p))
		return bad(d, "notify SPI truncated");
	rest(b, &n->data);
	d->n_notify++;
	return 0;
}

static int dec_delete(struct ike_digest *d, struct rd *b)
{
	if (d->n_del == IKE_MAX_DELETES)
		return bad(d, "too many delete payloads");
	struct ike_delete *del = &d->del[d->n_del];
	rd_u8(b, &del->proto);
	rd_u8(b, &del->spi_size);
	rd_be16(b, &del->n_spi);
	if (!rd_ok(b))
		return bad(d, "delete truncated");
	if (del->spi_size == 0 ? del->n_spi != 0 : del->spi_size > IKE_MAX_SPI_LEN)
		return bad(d, "delete SPI size");
	if ((size_t)del->n_spi * del->spi_size != rd_left(b))
		return bad(d, "delete SPI count does not match length");
	rest(b, &del->spis);
	d->n_del++;
	return 0;
}

static int dec_id(struct ike_digest *d, struct rd *b, struct ike_id *id)
{
	uint8_t rsv[3];
	rd_u8(b, &id->type);
	for (int i = 0; i < 3; i++)
		rd_u8(b, &rsv[i]);
	if (!rd_ok(b))
		return bad(d, "ID truncated");
	rest(b, &id->data);
	if ((id->type == IKE_ID_IPV4_ADDR && id->data.len != 4) ||
	    (id->type == IKE_ID_IPV6_ADDR && id->data.len != 16))
		return bad(d, "ID address of the wrong length");
	if (id->type != IKE_ID_NULL && id->data.len == 0)
		return bad(d, "ID data empty");
	return 0;
}

static int dec_cert(struct ike_digest *d, struct rd *b, struct ike_cert *c, bool req)
{
	if (rd_u8(b, &c->enc))
		return bad(d, req ? "CERTREQ truncated" : "CERT truncated");
	rest(b, &c->data);
	if (!req && c->data.len == 0)
		return bad(d, "CERT data empty");
	return 0;
}

/* RFC 7296 §3.8, RFC 7427 §3 for method 14. */
static int dec_auth(struct ike_digest *d, struct rd *b)
{
	struct ike_auth *a = &d->auth;
	uint8_t rsv[3];
	rd_u8(b, &a->method);
	for (int i = 0; i < 3; i++)
		rd_u8(b, &rsv[i]);
	if (!rd_ok(b) || rd_left(b) == 0)
		return bad(d, "AUTH truncated");
	rest(b, &a->data);
	if (a->method != IKE_AUTH_DIGSIG)
		return 0;
	struct rd s;
	uint8_t alg_len;
	rd_init(&s, a->data.p, a->data.len);
	rd_u8(&s, &alg_len);
	a->alg_id.len = alg_len;
	rd_bytes(&s, alg_len, &a->alg_id.p);
	if (!rd_ok(&s) || alg_len == 0 || rd_left(&s) == 0)
		return bad(d, "AUTH AlgorithmIdentifier length or signature");
	rest(&s, &a->sig);
	return 0;
}

static int addr_order(const struct addr *x, const struct addr *y, size_t n)
{
	return memcmp(x->b, y->b, n);
}

/* RFC 7296 §3.13.1: one selector. */
static int dec_selector(struct rd *b, struct ike_ts_list *l, const char **what)
{
	uint8_t type, proto;
	uint16_t len;
	rd_u8(b, &type);
	rd_u8(b, &proto);
	rd_be16(b, &len);
	if (!rd_ok(b) || len < 4) {
		*what = "traffic selector length < 4 or truncated";
		return -EBADMSG;
	}
	struct rd sb;
	if (rd_sub(b, len - 4, &sb)) {
		*what = "traffic selector length past end";
		return -EBADMSG;
	}
	if (type != IKE_TS_IPV4_ADDR_RANGE && type != IKE_TS_IPV6_ADDR_RANGE) {
		l->n_unknown++;           /* skipped: e.g. RFC 9478 security labels */
		return 0;
	}
	size_t alen = type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
	if (len != 8 + 2 * alen) {
		*what = "traffic selector length does not match its address family";
		return -EBADMSG;
	}
	struct ike_ts *ts = &l->ts[l->n];
	const uint8_t *s, *e;
	ts->type = type;
	ts->proto = proto;
	rd_be16(&sb, &ts->sport);
	rd_be16(&sb, &ts->eport);
	rd_bytes(&sb, alen, &s);
	rd_bytes(&sb, alen, &e);
	if (!rd_done(&sb)) {
		*what = "traffic selector truncated";
		return -EBADMSG;
	}
	memset(&ts->start, 0, sizeof(ts->start));
	memset(&ts->end, 0, sizeof(ts->end));
	ts->start.family = ts->end.family = alen == 4 ? AF_INET : AF_INET6;
	memcpy(ts->start.b, s, alen);
	memcpy(ts->end.b, e, alen);
	if (addr_order(&ts->start, &ts->end, alen) > 0) {
		*what = "traffic selector start address > end address";
		return -EBADMSG;
	}
	if (ts->sport > ts->eport && !(ts->sport == 65535 && ts->eport == 0)) {
		*what = "traffic selector start port > end port (and not OPAQUE)";
		return -EBADMSG;
	}
	l->n++;
	return 0;
}

static int ts_body(struct rd *b, struct ike_ts_list *l, const char **what)
{
	uint8_t num, rsv[3];
	memset(l, 0, sizeof(*l));
	rd_u8(b, &num);
	for (int i = 0; i < 3; i++)
		rd_u8(b, &rsv[i]);
	if (!rd_ok(b)) {
		*what = "TS truncated";
		return -EBADMSG;
	}
	if (num == 0 || num > IKE_MAX_TS) {
		*what = "TS count 0 or above 16";
		return -EBADMSG;
	}
	for (unsigned i = 0; i < num; i++)
		if (dec_selector(b, l, what))
			return -EBADMSG;
	if (!rd_done(b)) {
		*what = "bytes after the last traffic selector";
		return -EBADMSG;
	}
	return 0;
}

int ike_pld_parse_ts(struct ike_ts_list *ts, const uint8_t *body, size_t len)
{
	struct rd b;
	const char *what = NULL;
	rd_init(&b, body, len);
	return ts_body(&b, ts, &what);
}

static int dec_ts(struct ike_digest *d, struct rd *b, struct ike_ts_list *l)
{
	const char *what = NULL;
	return ts_body(b, l, &what) ? bad(d, what) : 0;
}

static int dec_cp(struct ike_digest *d, struct rd *b)
{
	uint8_t rsv[3];
	rd_u8(b, &d->cp.type);
	for (int i = 0; i < 3; i++)
		rd_u8(b, &rsv[i]);
	if (!rd_ok(b))
		return bad(d, "CP truncated");
	rest(b, &d->cp.attrs);
	return 0;
}

/* RFC 7296 §3.14 and RFC 7383 §2.5: record where the protected data is. */
static int dec_sk(struct ike_digest *d, struct rd *b, uint8_t type, uint8_t next,
		  size_t hdr_off)
{
	struct ike_sk *sk = &d->sk;
	sk->present = true;
	sk->np = next;
	sk->hdr_off = hdr_off;
	sk->body_off = hdr_off + IKE_GEN_HDR_LEN;
	if (type == IKE_PL_SKF) {
		rd_be16(b, &sk->frag_num);
		rd_be16(b, &sk->frag_total);
		if (!rd_ok(b))
			return bad(d, "SKF truncated");
		if (sk->frag_num == 0 || sk->frag_total == 0 || sk->frag_num > sk->frag_total)
			return bad(d, "SKF fragment number out of range");
		if (sk->frag_num > 1 && next != IKE_PL_NONE)
			return bad(d, "SKF next payload set in a non-first fragment");
		sk->body_off += 4;
	}
	sk->body_len = rd_left(b);
	return 0;
}

static bool known(uint8_t type)
{
	return (type >= IKE_PL_SA && type <= IKE_PL_EAP) || type == IKE_PL_SKF;
}

static int dec_body(struct ike_digest *d, uint8_t type, struct rd *b, uint8_t next,
		    size_t hdr_off, bool inside)
{
	switch (type) {
	case IKE_PL_SA:      return dec_sa(d, b);
	case IKE_PL_KE:      return dec_ke(d, b);
	case IKE_PL_IDI:     return dec_id(d, b, &d->idi);
	case IKE_PL_IDR:     return dec_id(d, b, &d->idr);
	case IKE_PL_CERT:
		if (d->n_cert == IKE_MAX_CERTS)
			return bad(d, "too many CERT payloads");
		return dec_cert(d, b, &d->cert[d->n_cert++], false);
	case IKE_PL_CERTREQ:
		if (d->n_certreq == IKE_MAX_CERTREQS)
			return bad(d, "too many CERTREQ payloads");
		return dec_cert(d, b, &d->certreq[d->n_certreq++], true);
	case IKE_PL_AUTH:    return dec_auth(d, b);
	case IKE_PL_NONCE:   return dec_nonce(d, b);
	case IKE_PL_NOTIFY:  return dec_notify(d, b);
	case IKE_PL_DELETE:  return dec_delete(d, b);
	case IKE_PL_VID:
		if (d->n_vid == IKE_MAX_VIDS)
			return bad(d, "too many vendor ID payloads");
		rest(b, &d->vid[d->n_vid++]);
		return 0;
	case IKE_PL_TSI:     return dec_ts(d, b, &d->tsi);
	case IKE_PL_TSR:     return dec_ts(d, b, &d->tsr);
	case IKE_PL_CP:      return dec_cp(d, b);
	case IKE_PL_EAP:
		rest(b, &d->eap);
		return 0;
	case IKE_PL_SK:
	case IKE_PL_SKF:
		if (inside)
			return bad(d, "SK or SKF inside SK");
		return dec_sk(d, b, type, next, hdr_off);
	}
	return bad(d, "unknown payload type");     /* not reached: see known() */
}

/* Walk a payload chain starting with type np until next-payload 0, which must coincide
 * with the end of r (or until SK/SKF, which must be last). */
static int walk(struct ike_digest *d, struct rd *r, uint8_t np, bool inside)
{
	uint64_t *seen = inside ? &d->sk_pl : &d->pl;

	while (np != IKE_PL_NONE) {
		size_t hdr_off = inside ? 0 : (size_t)(r->p - d->msg);
		uint8_t next, flags;
		uint16_t len;
		struct rd body;

		if (++d->n_payloads > IKE_MAX_PAYLOADS)
			return bad(d, "too many payloads");
		rd_u8(r, &next);
		rd_u8(r, &flags);
		rd_be16(r, &len);
		if (!rd_ok(r))
			return bad(d, "payload chain truncated");
		if (len < IKE_GEN_HDR_LEN)
			return bad(d, "payload length < 4");
		if (rd_sub(r, len - IKE_GEN_HDR_LEN, &body))
			return bad(d, "payload length past end of message");
		if (!known(np)) {
			/* RFC 7296 §2.5 */
			if (flags & IKE_PL_CRITICAL) {
				d->err_notify = IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
				d->err_pl = np;
				d->err_what = "unsupported critical payload";
				return -EBADMSG;
			}
			np = next;
			continue;
		}
		uint64_t bit = IKE_PL_BIT(np);
		if ((bit & SINGLETONS) && ((d->pl | d->sk_pl) & bit))
			return bad(d, "payload that may appear once appears twice");
		int err = dec_body(d, np, &body, next, hdr_off, inside);
		if (err)
			return err;
		*seen |= bit;
		if (np == IKE_PL_SK || np == IKE_PL_SKF) {
			/* its next payload names the first inner payload */
			return rd_left(r) ? bad(d, "payload after SK/SKF") : 0;
		}
		np = next;
	}
	return rd_left(r) ? bad(d, "bytes after the last payload") : 0;
}

int ike_pld_parse(struct ike_digest *d, const uint8_t *msg, size_t len)
{
	struct rd r;

	memset(d, 0, sizeof(*d));
	d->msg = msg;
	d->msg_len = len;
	rd_init(&r, msg, len);
	if (ike_hdr_read(&r, &d->hdr))
		return bad(d, "shorter than the IKE header");
	if (d->hdr.version >> 4 != 2) {
		/* RFC 7296 §3.1: the minor version is ignored */
		d->err_notify = IKE_N_INVALID_MAJOR_VERSION;
		d->err_what = "major version not 2";
		return -EBADMSG;
	}
	if (d->hdr.length != len)
		return bad(d, "header length does not match the datagram");
	return walk(d, &r, d->hdr.np, false);
}

int ike_pld_parse_inner(struct ike_digest *d, uint8_t first_type, const uint8_t *pt,
			size_t len)
{
	struct rd r;

	d->inner = true;
	d->err_notify = 0;
	d->err_pl = 0;
	d->err_what = NULL;
	rd_init(&r, pt, len);
	return walk(d, &r, first_type, true);
}

const struct ike_notify *ike_digest_notify(const struct ike_digest *d, uint16_t type)
{
	for (unsigned i = 0; i < d->n_notify; i++)
		if (d->notify[i].type == type)
			return &d->notify[i];
	return NULL;
}
