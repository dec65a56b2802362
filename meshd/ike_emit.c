/* ike_emit.c — IKEv2 builders; see ike_emit.h. Every byte goes through wr. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ike_emit.h"

static int fail(struct ike_emit *e, int err)
{
	if (!e->err)
		e->err = err;
	return e->err;
}

static int status(const struct ike_emit *e)
{
	if (e->err)
		return e->err;
	return wr_ok(e->w) ? 0 : e->w->err;
}

void ike_emit_init(struct ike_emit *e, struct wr *w)
{
	*e = (struct ike_emit){ .w = w, .hdr_at = w->len };
}

int ike_emit_header(struct ike_emit *e, const struct ike_hdr *h)
{
	struct wr *w = e->w;
	if (e->have_hdr || e->any)
		return fail(e, -EINVAL);
	e->hdr_at = w->len;
	e->have_hdr = true;
	wr_be64(w, h->spi_i);
	wr_be64(w, h->spi_r);
	e->np_at = w->len;
	e->np_pending = true;
	wr_u8(w, IKE_PL_NONE);
	wr_u8(w, h->version ? h->version : IKE_VERSION_2);
	wr_u8(w, h->xchg);
	wr_u8(w, h->flags);
	wr_be32(w, h->msgid);
	wr_be32(w, 0);                            /* length, patched by finish */
	return status(e);
}

int ike_emit_finish(struct ike_emit *e)
{
	if (e->in_sk)
		return fail(e, -EINVAL);          /* SK left open */
	if (e->have_hdr)
		wr_end_len32(e->w, e->hdr_at + 24, e->hdr_at);
	return status(e);
}

/* Chain a new payload in and write its generic header; returns the header's offset. */
static size_t pl_begin(struct ike_emit *e, uint8_t type, bool critical)
{
	struct wr *w = e->w;
	if (e->sk_closed || e->skf) {
		fail(e, -EINVAL);                 /* nothing may follow SK/SKF */
		return w->len;
	}
	if (e->np_pending)
		wr_put_u8(w, e->np_at, type);
	else if (!e->any)
		e->first_np = type;
	e->any = true;
	size_t at = w->len;
	e->np_at = at;
	e->np_pending = true;
	wr_u8(w, IKE_PL_NONE);
	wr_u8(w, critical ? IKE_PL_CRITICAL : 0);
	wr_be16(w, 0);
	return at;
}

static int pl_end(struct ike_emit *e, size_t at)
{
	if (!e->err)
		wr_end_len16(e->w, at + 2, at);
	return status(e);
}

static void blob(struct wr *w, const struct ike_blob *b)
{
	wr_bytes(w, b->p, b->len);
}

/* RFC 7296 §3.3. */
static void transform(struct wr *w, const struct ike_transform *xf, bool last)
{
	size_t at = w->len;
	wr_u8(w, last ? IKE_XF_LAST : IKE_XF_MORE);
	wr_u8(w, 0);
	size_t len_at = wr_begin_len16(w);
	wr_u8(w, xf->type);
	wr_u8(w, 0);
	wr_be16(w, xf->id);
	if (xf->key_len) {
		wr_be16(w, IKE_ATTR_TV | IKE_ATTR_KEY_LENGTH);
		wr_be16(w, xf->key_len);
	}
	wr_end_len16(w, len_at, at);
}

int ike_emit_sa(struct ike_emit *e, const struct ike_sa_pld *sa)
{
	struct wr *w = e->w;
	size_t at = pl_begin(e, IKE_PL_SA, false);
	if (sa->n_prop == 0 || sa->n_prop > IKE_MAX_PROPOSALS)
		return fail(e, -EINVAL);
	for (unsigned i = 0; i < sa->n_prop; i++) {
		const struct ike_proposal *pr = &sa->prop[i];
		if (pr->spi_size > IKE_MAX_SPI_LEN || pr->n_xf > IKE_MAX_TRANSFORMS)
			return fail(e, -EINVAL);
		size_t pat = w->len;
		wr_u8(w, i + 1 == sa->n_prop ? IKE_PROP_LAST : IKE_PROP_MORE);
		wr_u8(w, 0);
		size_t len_at = wr_begin_len16(w);
		wr_u8(w, pr->num);
		wr_u8(w, pr->proto);
		wr_u8(w, pr->spi_size);
		wr_u8(w, pr->n_xf);
		wr_bytes(w, pr->spi, pr->spi_size);
		for (unsigned j = 0; j < pr->n_xf; j++)
			transform(w, &pr->xf[j], j + 1 == pr->n_xf);
		wr_end_len16(w, len_at, pat);
	}
	return pl_end(e, at);
}

int ike_emit_ke(struct ike_emit *e, uint16_t group, const uint8_t *data, size_t len)
{
	size_t at = pl_begin(e, IKE_PL_KE, false);
	wr_be16(e->w, group);
	wr_be16(e->w, 0);
	wr_bytes(e->w, data, len);
	return pl_end(e, at);
}

int ike_emit_nonce(struct ike_emit *e, const uint8_t *p, size_t len)
{
	size_t at = pl_begin(e, IKE_PL_NONCE, false);
	wr_bytes(e->w, p, len);
	return pl_end(e, at);
}

int ike_emit_notify(struct ike_emit *e, const struct ike_notify *n)
{
	size_t at = pl_begin(e, IKE_PL_NOTIFY, false);
	if (n->spi.len > IKE_MAX_SPI_LEN)
		return fail(e, -EINVAL);
	wr_u8(e->w, n->proto);
	wr_u8(e->w, (uint8_t)n->spi.len);
	wr_be16(e->w, n->type);
	blob(e->w, &n->spi);
	blob(e->w, &n->data);
	return pl_end(e, at);
}

/* Type byte + 3 reserved bytes, the common prefix of ID, AUTH and CP bodies. */
static void type_rsv(struct wr *w, uint8_t type)
{
	wr_u8(w, type);
	wr_zero(w, 3);
}

int ike_emit_id(struct ike_emit *e, uint8_t pl_type, const struct ike_id *id)
{
	if (pl_type != IKE_PL_IDI && pl_type != IKE_PL_IDR)
		return fail(e, -EINVAL);
	size_t at = pl_begin(e, pl_type, false);
	type_rsv(e->w, id->type);
	blob(e->w, &id->data);
	return pl_end(e, at);
}

int ike_emit_auth(struct ike_emit *e, const struct ike_auth *a)
{
	size_t at = pl_begin(e, IKE_PL_AUTH, false);
	type_rsv(e->w, a->method);
	if (a->method == IKE_AUTH_DIGSIG) {
		/* RFC 7427 §3 */
		if (a->alg_id.len == 0 || a->alg_id.len > UINT8_MAX)
			return fail(e, -EINVAL);
		wr_u8(e->w, (uint8_t)a->alg_id.len);
		blob(e->w, &a->alg_id);
		blob(e->w, &a->sig);
	} else {
		blob(e->w, &a->data);
	}
	return pl_end(e, at);
}

static int cert(struct ike_emit *e, uint8_t type, const struct ike_cert *c)
{
	size_t at = pl_begin(e, type, false);
	wr_u8(e->w, c->enc);
	blob(e->w, &c->data);
	return pl_end(e, at);
}

int ike_emit_cert(struct ike_emit *e, const struct ike_cert *c)
{
	return cert(e, IKE_PL_CERT, c);
}

int ike_emit_certreq(struct ike_emit *e, const struct ike_cert *c)
{
	return cert(e, IKE_PL_CERTREQ, c);
}

/* RFC 7296 §3.13. */
int ike_emit_ts(struct ike_emit *e, uint8_t pl_type, const struct ike_ts_list *ts)
{
	struct wr *w = e->w;
	if (pl_type != IKE_PL_TSI && pl_type != IKE_PL_TSR)
		return fail(e, -EINVAL);
	size_t at = pl_begin(e, pl_type, false);
	if (ts->n == 0 || ts->n > IKE_MAX_TS)
		return fail(e, -EINVAL);
	type_rsv(w, ts->n);
	for (unsigned i = 0; i < ts->n; i++) {
		const struct ike_ts *t = &ts->ts[i];
		size_t alen;
		if (t->type == IKE_TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (t->type == IKE_TS_IPV6_ADDR_RANGE)
			alen = 16;
		else
			return fail(e, -EINVAL);
		wr_u8(w, t->type);
		wr_u8(w, t->proto);
		wr_be16(w, (uint16_t)(8 + 2 * alen));
		wr_be16(w, t->sport);
		wr_be16(w, t->eport);
		wr_bytes(w, t->start.b, alen);
		wr_bytes(w, t->end.b, alen);
	}
	return pl_end(e, at);
}

int ike_emit_delete(struct ike_emit *e, const struct ike_delete *del)
{
	size_t at = pl_begin(e, IKE_PL_DELETE, false);
	if ((size_t)del->n_spi * del->spi_size != del->spis.len)
		return fail(e, -EINVAL);
	wr_u8(e->w, del->proto);
	wr_u8(e->w, del->spi_size);
	wr_be16(e->w, del->n_spi);
	blob(e->w, &del->spis);
	return pl_end(e, at);
}

int ike_emit_vid(struct ike_emit *e, const uint8_t *p, size_t len)
{
	return ike_emit_raw(e, IKE_PL_VID, false, p, len);
}

int ike_emit_cp(struct ike_emit *e, const struct ike_cp *cp)
{
	size_t at = pl_begin(e, IKE_PL_CP, false);
	type_rsv(e->w, cp->type);
	blob(e->w, &cp->attrs);
	return pl_end(e, at);
}

int ike_emit_raw(struct ike_emit *e, uint8_t pl_type, bool critical, const uint8_t *body,
		 size_t len)
{
	size_t at = pl_begin(e, pl_type, critical);
	wr_bytes(e->w, body, len);
	return pl_end(e, at);
}

/* RFC 7296 §3.14: SK header, then IV room; the inner chain starts at the SK header's
 * next-payload byte. */
int ike_emit_sk_begin(struct ike_emit *e, size_t iv_len)
{
	if (e->in_sk)
		return fail(e, -EINVAL);
	e->sk_at = pl_begin(e, IKE_PL_SK, false);
	e->in_sk = true;
	e->sk_iv_at = e->w->len;
	e->sk_iv_len = iv_len;
	wr_zero(e->w, iv_len);
	e->sk_pt_at = e->w->len;
	return status(e);
}

/* RFC 7383 §2.5. */
int ike_emit_skf_begin(struct ike_emit *e, uint16_t frag_num, uint16_t frag_total,
		       uint8_t first_np, size_t iv_len)
{
	if (e->in_sk || frag_num == 0 || frag_num > frag_total ||
	    (frag_num > 1 && first_np != IKE_PL_NONE))
		return fail(e, -EINVAL);
	e->sk_at = pl_begin(e, IKE_PL_SKF, false);
	wr_put_u8(e->w, e->sk_at, first_np);
	wr_be16(e->w, frag_num);
	wr_be16(e->w, frag_total);
	e->in_sk = e->skf = true;
	e->np_pending = false;
	e->sk_iv_at = e->w->len;
	e->sk_iv_len = iv_len;
	wr_zero(e->w, iv_len);
	e->sk_pt_at = e->w->len;
	return status(e);
}

int ike_emit_sk_bytes(struct ike_emit *e, const uint8_t *p, size_t len)
{
	if (!e->in_sk || !e->skf)
		return fail(e, -EINVAL);
	wr_bytes(e->w, p, len);
	return status(e);
}

int ike_emit_sk_end(struct ike_emit *e, size_t block, size_t icv_len,
		    struct ike_sk_layout *out)
{
	struct wr *w = e->w;
	memset(out, 0, sizeof(*out));
	if (!e->in_sk || block == 0 || block > 256)
		return fail(e, -EINVAL);
	/* RFC 7296 §3.14: (inner || padding || pad length) is a multiple of the block */
	size_t inner = w->len - e->sk_pt_at;
	size_t pad = (block - (inner + 1) % block) % block;
	wr_zero(w, pad);
	wr_u8(w, (uint8_t)pad);
	size_t icv_at = w->len;
	wr_zero(w, icv_len);
	wr_end_len16(w, e->sk_at + 2, e->sk_at);
	e->in_sk = e->skf = false;
	e->sk_closed = true;
	e->np_pending = false;
	if (status(e))
		return status(e);
	*out = (struct ike_sk_layout){
		.aad_at = e->hdr_at, .aad_len = e->sk_iv_at - e->hdr_at,
		.iv_at = e->sk_iv_at, .iv_len = e->sk_iv_len,
		.pt_at = e->sk_pt_at, .pt_len = inner + pad + 1, .pad_len = pad,
		.icv_at = icv_at, .icv_len = icv_len,
	};
	return 0;
}
