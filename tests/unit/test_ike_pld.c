/* test_ike_pld.c — IKEv2 wire layer: ike_pld (datagram → digest), ike_emit (builders),
 * ike_wire (names).
 *
 * Vectors: tests/data/ike/sa_init_r.hex is written by hand from RFC 7296 §3; the others
 * are built with the emitter and checked field by field. Every vector then goes through
 * every truncation and a sweep of every single-bit flip (run under valgrind or ASan: each
 * input is an exact-size heap copy). Then specific malformed cases, and a round trip
 * parse(emit(x)) == x for every payload kind.
 *
 * IKE_DUMP_DIR=dir makes the dump_vectors case write the vectors as binary files (this is
 * how tests/fuzz/corpus/{ike_msg,ike_sk_inner,ts}/ were seeded). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_emit.h"
#include "ike_pld.h"
#include "ike_wire.h"
#include "unit.h"

#define MAXMSG 4096

static struct ike_digest dg;     /* large; one per test process (Check forks per test) */

static const struct ike_hdr H_INIT = {
	.spi_i = UINT64_C(0x8a1c3e5f00112233), .xchg = IKE_XCHG_SA_INIT, .flags = IKE_FLAG_I,
};
static const struct ike_hdr H_AUTH = {
	.spi_i = UINT64_C(0x8a1c3e5f00112233), .spi_r = UINT64_C(0x7e44910caabbccdd),
	.xchg = IKE_XCHG_AUTH, .flags = IKE_FLAG_I, .msgid = 1,
};

static uint8_t pat[512];        /* filler: pat[i] = i * 7 + 1 */

static void fill_pat(void)
{
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 1);
}

static struct ike_blob B(const void *p, size_t len)
{
	return (struct ike_blob){ p, len };
}

static uint8_t *heap(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* ---- vectors ------------------------------------------------------------------------ */

static size_t load_hex(const char *name, uint8_t *out, size_t cap)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/ike/%s", top ? top : ".", name);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	size_t n = 0;
	int c, hi = -1;
	bool comment = false;
	while ((c = fgetc(f)) != EOF) {
		if (c == '\n')
			comment = false;
		if (comment || isspace(c))
			continue;
		if (c == '#') {
			comment = true;
			continue;
		}
		ck_assert_msg(isxdigit(c), "bad hex char in %s", path);
		int v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			ck_assert(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	ck_assert_int_eq(hi, -1);
	return n;
}

static void xf(struct ike_proposal *p, uint8_t type, uint16_t id, uint16_t key_len)
{
	p->xf[p->n_xf++] = (struct ike_transform){ .type = type, .id = id, .key_len = key_len };
}

/* Libreswan's OE IKE proposal set (libreswan-oe.md §5.1): 4 proposals. */
static void oe_ike_sa(struct ike_sa_pld *sa)
{
	static const uint16_t dh[] = { 19, 20, 21, 31, 16, 15, 14, 18 };
	memset(sa, 0, sizeof(*sa));
	for (unsigned i = 0; i < 4; i++) {
		struct ike_proposal *p = &sa->prop[sa->n_prop++];
		p->num = (uint8_t)(i + 1);
		p->proto = IKE_PROTO_IKE;
		xf(p, IKE_XF_ENCR, i < 2 ? IKE_ENCR_AES_GCM_16 : IKE_ENCR_AES_CBC,
		   i % 2 ? 128 : 256);
		xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
		xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, 0);
		if (i >= 2) {
			xf(p, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0);
			xf(p, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
		}
		for (unsigned j = 0; j < sizeof(dh) / sizeof(dh[0]); j++)
			xf(p, IKE_XF_DH, dh[j], 0);
	}
}

static void esp_sa(struct ike_sa_pld *sa)
{
	memset(sa, 0, sizeof(*sa));
	struct ike_proposal *p = &sa->prop[sa->n_prop++];
	p->num = 1;
	p->proto = IKE_PROTO_ESP;
	p->spi_size = 4;
	memcpy(p->spi, "\xc1\x00\x00\x07", 4);
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(p, IKE_XF_ESN, IKE_ESN_YES, 0);
	xf(p, IKE_XF_ESN, IKE_ESN_NO, 0);
}

static const uint8_t sha_algs[] = { 0, 2, 0, 3, 0, 4 };

/* HDR, SAi1, KEi, Ni, N(NAT_D src), N(NAT_D dst), N(FRAG), N(SIG_HASH), V */
static size_t build_sa_init_i(uint8_t *out, size_t cap)
{
	struct wr w;
	struct ike_emit e;
	struct ike_sa_pld sa;
	wr_init(&w, out, cap);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	oe_ike_sa(&sa);
	ike_emit_sa(&e, &sa);
	ike_emit_ke(&e, IKE_DH_ECP256, pat, 64);
	ike_emit_nonce(&e, pat + 64, 32);
	struct ike_notify n = { .type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = B(pat + 100, 20) };
	ike_emit_notify(&e, &n);
	n.type = IKE_N_NAT_DETECTION_DESTINATION_IP;
	n.data = B(pat + 120, 20);
	ike_emit_notify(&e, &n);
	n = (struct ike_notify){ .type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED };
	ike_emit_notify(&e, &n);
	n = (struct ike_notify){ .type = IKE_N_SIGNATURE_HASH_ALGORITHMS,
				 .data = B(sha_algs, sizeof(sha_algs)) };
	ike_emit_notify(&e, &n);
	ike_emit_vid(&e, (const uint8_t *)"Opportunistic IPsec", 19);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	return wr_len(&w);
}

static const uint8_t dn[] = "\x30\x10\x31\x0e\x30\x0c\x06\x03\x55\x04\x03\x0c\x05north";
static const uint8_t rsa_pss_alg[] = { 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
				       0xf7, 0x0d, 0x01, 0x01, 0x0a };

static void ts_host(struct ike_ts_list *l, int fam, uint8_t last)
{
	memset(l, 0, sizeof(*l));
	struct ike_ts *t = &l->ts[l->n++];
	t->type = fam == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
	t->eport = 65535;
	t->start.family = t->end.family = (uint8_t)fam;
	if (fam == AF_INET) {
		memcpy(t->start.b, "\xc0\x00\x02", 3);
	} else {
		memcpy(t->start.b, "\x20\x01\x0d\xb8", 4);
	}
	t->start.b[fam == AF_INET ? 3 : 15] = last;
	t->end = t->start;
}

/* The SK inner chain of an IKE_AUTH request:
 * IDi, CERT, CERTREQ, AUTH(14), N(USE_TRANSPORT_MODE), N(INITIAL_CONTACT), SA, TSi, TSr */
static void auth_inner(struct ike_emit *e)
{
	struct ike_id id = { .type = IKE_ID_DER_ASN1_DN, .data = B(dn, sizeof(dn) - 1) };
	ike_emit_id(e, IKE_PL_IDI, &id);
	struct ike_cert c = { .enc = IKE_CERT_X509_SIG, .data = B(pat, 300) };
	ike_emit_cert(e, &c);
	c.data = B(pat + 300, 20);
	ike_emit_certreq(e, &c);
	struct ike_auth a = { .method = IKE_AUTH_DIGSIG,
			      .alg_id = B(rsa_pss_alg, sizeof(rsa_pss_alg)),
			      .sig = B(pat + 10, 256) };
	ike_emit_auth(e, &a);
	struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };
	ike_emit_notify(e, &n);
	n.type = IKE_N_INITIAL_CONTACT;
	ike_emit_notify(e, &n);
	struct ike_sa_pld sa;
	esp_sa(&sa);
	ike_emit_sa(e, &sa);
	struct ike_ts_list ts;
	ts_host(&ts, AF_INET, 1);
	ike_emit_ts(e, IKE_PL_TSI, &ts);
	ts_host(&ts, AF_INET, 2);
	ike_emit_ts(e, IKE_PL_TSR, &ts);
}

/* HDR, SK { auth_inner }: CBC-style layout (8-byte IV, 16-byte block, 16-byte ICV). */
static size_t build_auth_i(uint8_t *out, size_t cap, struct ike_sk_layout *lay)
{
	struct wr w;
	struct ike_emit e;
	wr_init(&w, out, cap);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ck_assert_int_eq(ike_emit_sk_begin(&e, 8), 0);
	auth_inner(&e);
	ck_assert_int_eq(ike_emit_sk_end(&e, 16, 16, lay), 0);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	return wr_len(&w);
}

/* The bare inner chain (no header), as the message layer builds it before fragmenting. */
static size_t build_auth_plain(uint8_t *out, size_t cap, uint8_t *first)
{
	struct wr w;
	struct ike_emit e;
	wr_init(&w, out, cap);
	ike_emit_init(&e, &w);
	auth_inner(&e);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	*first = e.first_np;
	return wr_len(&w);
}

/* HDR, SKF(1/3) carrying the first 100 plaintext bytes (AEAD layout). */
static size_t build_skf(uint8_t *out, size_t cap, struct ike_sk_layout *lay)
{
	uint8_t plain[MAXMSG], first;
	size_t n = build_auth_plain(plain, sizeof(plain), &first);
	ck_assert_uint_gt(n, 100);
	struct wr w;
	struct ike_emit e;
	wr_init(&w, out, cap);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ck_assert_int_eq(ike_emit_skf_begin(&e, 1, 3, first, 8), 0);
	ck_assert_int_eq(ike_emit_sk_bytes(&e, plain, 100), 0);
	ck_assert_int_eq(ike_emit_sk_end(&e, 1, 16, lay), 0);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	return wr_len(&w);
}

/* A TS payload body with an IPv4 and an IPv6 range and one unknown selector type. */
static size_t build_ts_body(uint8_t *out, size_t cap)
{
	struct ike_ts_list l;
	uint8_t msg[512];
	struct wr w;
	struct ike_emit e;
	ts_host(&l, AF_INET, 1);
	l.ts[0].end.b[3] = 200;
	l.ts[0].proto = 6;
	l.ts[0].sport = 22;
	l.ts[0].eport = 22;
	struct ike_ts_list v6;
	ts_host(&v6, AF_INET6, 1);
	l.ts[l.n++] = v6.ts[0];
	wr_init(&w, msg, sizeof(msg));
	ike_emit_init(&e, &w);
	ike_emit_ts(&e, IKE_PL_TSI, &l);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	size_t n = wr_len(&w) - IKE_GEN_HDR_LEN;
	ck_assert(n <= cap);
	memcpy(out, msg + IKE_GEN_HDR_LEN, n);
	return n;
}

/* ---- invariants checked after any successful parse --------------------------------- */

static void blob_in(const struct ike_blob *b, const uint8_t *base, size_t len)
{
	if (b->len == 0)
		return;
	ck_assert_ptr_nonnull(b->p);
	ck_assert(b->p >= base && b->p <= base + len);
	ck_assert(b->len <= (size_t)(base + len - b->p));
}

static void digest_sane(const struct ike_digest *d, const uint8_t *base, size_t len)
{
	blob_in(&d->ke.data, base, len);
	blob_in(&d->nonce, base, len);
	blob_in(&d->idi.data, base, len);
	blob_in(&d->idr.data, base, len);
	blob_in(&d->auth.data, base, len);
	blob_in(&d->auth.alg_id, base, len);
	blob_in(&d->auth.sig, base, len);
	blob_in(&d->cp.attrs, base, len);
	blob_in(&d->eap, base, len);
	ck_assert_uint_le(d->n_notify, IKE_MAX_NOTIFIES);
	for (unsigned i = 0; i < d->n_notify; i++) {
		blob_in(&d->notify[i].spi, base, len);
		blob_in(&d->notify[i].data, base, len);
	}
	for (unsigned i = 0; i < d->n_cert; i++)
		blob_in(&d->cert[i].data, base, len);
	for (unsigned i = 0; i < d->n_certreq; i++)
		blob_in(&d->certreq[i].data, base, len);
	for (unsigned i = 0; i < d->n_vid; i++)
		blob_in(&d->vid[i], base, len);
	for (unsigned i = 0; i < d->n_del; i++)
		blob_in(&d->del[i].spis, base, len);
	ck_assert_uint_le(d->sa.n_prop, IKE_MAX_PROPOSALS);
	for (unsigned i = 0; i < d->sa.n_prop; i++)
		ck_assert_uint_le(d->sa.prop[i].n_xf, IKE_MAX_TRANSFORMS);
	ck_assert_uint_le(d->tsi.n, IKE_MAX_TS);
	ck_assert_uint_le(d->tsr.n, IKE_MAX_TS);
	if (d->sk.present && !d->inner) {
		ck_assert_uint_le(d->sk.body_off, len);
		ck_assert_uint_le(d->sk.body_len, len - d->sk.body_off);
	}
}

/* ---- valid vectors ------------------------------------------------------------------ */

START_TEST(hand_written_vector)
{
	uint8_t m[MAXMSG];
	size_t n = load_hex("sa_init_r.hex", m, sizeof(m));
	ck_assert_uint_eq(n, 265);
	uint8_t *h = heap(m, n);
	ck_assert_int_eq(ike_pld_parse(&dg, h, n), 0);
	ck_assert(dg.hdr.spi_i == UINT64_C(0x8a1c3e5f00112233));
	ck_assert(dg.hdr.spi_r == UINT64_C(0x7e44910caabbccdd));
	ck_assert_uint_eq(dg.hdr.xchg, IKE_XCHG_SA_INIT);
	ck_assert_uint_eq(dg.hdr.flags, IKE_FLAG_R);
	ck_assert_uint_eq(dg.hdr.msgid, 0);
	ck_assert_uint_eq(dg.hdr.length, 265);
	ck_assert(dg.pl == (IKE_PL_BIT(IKE_PL_SA) | IKE_PL_BIT(IKE_PL_KE) |
			    IKE_PL_BIT(IKE_PL_NONCE) | IKE_PL_BIT(IKE_PL_NOTIFY) |
			    IKE_PL_BIT(IKE_PL_CERTREQ)));
	ck_assert_uint_eq(dg.n_payloads, 7);
	ck_assert_uint_eq(dg.sa.n_prop, 1);
	const struct ike_proposal *p = &dg.sa.prop[0];
	ck_assert_uint_eq(p->num, 1);
	ck_assert_uint_eq(p->proto, IKE_PROTO_IKE);
	ck_assert_uint_eq(p->spi_size, 0);
	ck_assert_uint_eq(p->n_xf, 3);
	ck_assert_uint_eq(p->xf[0].type, IKE_XF_ENCR);
	ck_assert_uint_eq(p->xf[0].id, IKE_ENCR_AES_GCM_16);
	ck_assert_uint_eq(p->xf[0].key_len, 256);
	ck_assert(!p->xf[0].unknown_attr);
	ck_assert_uint_eq(p->xf[1].id, IKE_PRF_HMAC_SHA2_512);
	ck_assert_uint_eq(p->xf[2].type, IKE_XF_DH);
	ck_assert_uint_eq(p->xf[2].id, IKE_DH_ECP256);
	ck_assert_uint_eq(dg.ke.group, 19);
	ck_assert_uint_eq(dg.ke.data.len, 64);
	ck_assert_uint_eq(dg.ke.data.p[0], 0x4b);
	ck_assert_uint_eq(dg.nonce.len, 32);
	ck_assert_uint_eq(dg.nonce.p[31], 0xdf);
	ck_assert_uint_eq(dg.n_notify, 3);
	const struct ike_notify *nd = ike_digest_notify(&dg, IKE_N_NAT_DETECTION_DESTINATION_IP);
	ck_assert_ptr_nonnull(nd);
	ck_assert_uint_eq(nd->data.len, 20);
	ck_assert_uint_eq(nd->data.p[0], 0xb5);
	nd = ike_digest_notify(&dg, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);
	ck_assert_ptr_nonnull(nd);
	ck_assert_uint_eq(nd->data.len, 0);
	ck_assert_ptr_null(ike_digest_notify(&dg, IKE_N_COOKIE));
	ck_assert_uint_eq(dg.n_certreq, 1);
	ck_assert_uint_eq(dg.certreq[0].enc, IKE_CERT_X509_SIG);
	ck_assert_uint_eq(dg.certreq[0].data.len, 20);
	digest_sane(&dg, h, n);

	/* the emitter, fed the digest in wire order, reproduces the hand-written bytes */
	uint8_t out[MAXMSG];
	struct wr w;
	struct ike_emit e;
	wr_init(&w, out, sizeof(out));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &dg.hdr);
	ike_emit_sa(&e, &dg.sa);
	ike_emit_ke(&e, dg.ke.group, dg.ke.data.p, dg.ke.data.len);
	ike_emit_nonce(&e, dg.nonce.p, dg.nonce.len);
	for (unsigned i = 0; i < dg.n_notify; i++)
		ike_emit_notify(&e, &dg.notify[i]);
	ike_emit_certreq(&e, &dg.certreq[0]);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	ck_assert_uint_eq(wr_len(&w), n);
	ck_assert_mem_eq(out, m, n);
	free(h);
}
END_TEST

START_TEST(sa_init_request)
{
	uint8_t m[MAXMSG];
	fill_pat();
	size_t n = build_sa_init_i(m, sizeof(m));
	uint8_t *h = heap(m, n);
	ck_assert_int_eq(ike_pld_parse(&dg, h, n), 0);
	ck_assert_uint_eq(dg.hdr.version, IKE_VERSION_2);
	ck_assert_uint_eq(dg.hdr.np, IKE_PL_SA);
	ck_assert_uint_eq(dg.hdr.length, n);
	ck_assert_uint_eq(dg.sa.n_prop, 4);
	ck_assert_uint_eq(dg.sa.prop[3].num, 4);
	ck_assert_uint_eq(dg.sa.prop[0].n_xf, 11);
	ck_assert_uint_eq(dg.sa.prop[3].n_xf, 13);
	ck_assert_uint_eq(dg.sa.prop[3].xf[0].id, IKE_ENCR_AES_CBC);
	ck_assert_uint_eq(dg.sa.prop[3].xf[0].key_len, 128);
	ck_assert_uint_eq(dg.sa.prop[3].xf[12].id, IKE_DH_MODP8192);
	ck_assert_uint_eq(dg.n_notify, 4);
	const struct ike_notify *sh = ike_digest_notify(&dg, IKE_N_SIGNATURE_HASH_ALGORITHMS);
	ck_assert_ptr_nonnull(sh);
	ck_assert_mem_eq(sh->data.p, sha_algs, sizeof(sha_algs));
	ck_assert_uint_eq(dg.n_vid, 1);
	ck_assert_mem_eq(dg.vid[0].p, "Opportunistic IPsec", 19);
	ck_assert(!dg.sk.present);
	digest_sane(&dg, h, n);
	free(h);
}
END_TEST

START_TEST(auth_sk_layout_and_inner)
{
	uint8_t m[MAXMSG];
	struct ike_sk_layout lay;
	fill_pat();
	size_t n = build_auth_i(m, sizeof(m), &lay);
	uint8_t *h = heap(m, n);
	ck_assert_int_eq(ike_pld_parse(&dg, h, n), 0);
	ck_assert(dg.pl == IKE_PL_BIT(IKE_PL_SK));
	ck_assert(dg.sk.present);
	ck_assert_uint_eq(dg.sk.np, IKE_PL_IDI);
	ck_assert_uint_eq(dg.sk.hdr_off, IKE_HDR_LEN);
	ck_assert_uint_eq(lay.aad_at, 0);
	ck_assert_uint_eq(lay.aad_len, IKE_HDR_LEN + IKE_GEN_HDR_LEN);
	ck_assert_uint_eq(dg.sk.body_off, lay.iv_at);
	ck_assert_uint_eq(dg.sk.body_len, lay.iv_len + lay.pt_len + lay.icv_len);
	ck_assert_uint_eq(lay.pt_at, lay.iv_at + 8);
	ck_assert_uint_eq(lay.pt_len % 16, 0);
	ck_assert_uint_eq(lay.icv_at + lay.icv_len, n);
	ck_assert_uint_eq(m[lay.pt_at + lay.pt_len - 1], lay.pad_len);

	/* the decrypted contents, minus padding and pad length, parse with the inside flag */
	size_t inner = lay.pt_len - lay.pad_len - 1;
	uint8_t *pt = heap(m + lay.pt_at, inner);
	ck_assert_int_eq(ike_pld_parse_inner(&dg, dg.sk.np, pt, inner), 0);
	ck_assert(dg.inner);
	ck_assert(dg.pl == IKE_PL_BIT(IKE_PL_SK));
	ck_assert(dg.sk_pl == (IKE_PL_BIT(IKE_PL_IDI) | IKE_PL_BIT(IKE_PL_CERT) |
			       IKE_PL_BIT(IKE_PL_CERTREQ) | IKE_PL_BIT(IKE_PL_AUTH) |
			       IKE_PL_BIT(IKE_PL_NOTIFY) | IKE_PL_BIT(IKE_PL_SA) |
			       IKE_PL_BIT(IKE_PL_TSI) | IKE_PL_BIT(IKE_PL_TSR)));
	ck_assert_uint_eq(dg.idi.type, IKE_ID_DER_ASN1_DN);
	ck_assert_uint_eq(dg.idi.data.len, sizeof(dn) - 1);
	ck_assert_uint_eq(dg.n_cert, 1);
	ck_assert_uint_eq(dg.cert[0].data.len, 300);
	ck_assert_uint_eq(dg.auth.method, IKE_AUTH_DIGSIG);
	ck_assert_uint_eq(dg.auth.alg_id.len, sizeof(rsa_pss_alg));
	ck_assert_mem_eq(dg.auth.alg_id.p, rsa_pss_alg, sizeof(rsa_pss_alg));
	ck_assert_uint_eq(dg.auth.sig.len, 256);
	ck_assert_uint_eq(dg.auth.data.len, 1 + sizeof(rsa_pss_alg) + 256);
	ck_assert_ptr_nonnull(ike_digest_notify(&dg, IKE_N_USE_TRANSPORT_MODE));
	ck_assert_ptr_nonnull(ike_digest_notify(&dg, IKE_N_INITIAL_CONTACT));
	ck_assert_uint_eq(dg.sa.prop[0].proto, IKE_PROTO_ESP);
	ck_assert_uint_eq(dg.sa.prop[0].spi_size, 4);
	ck_assert_mem_eq(dg.sa.prop[0].spi, "\xc1\x00\x00\x07", 4);
	ck_assert_uint_eq(dg.tsi.n, 1);
	ck_assert_uint_eq(dg.tsr.ts[0].start.b[3], 2);
	digest_sane(&dg, pt, inner);

	/* the bare chain built without a header is the same bytes */
	uint8_t plain[MAXMSG], first;
	ck_assert_uint_eq(build_auth_plain(plain, sizeof(plain), &first), inner);
	ck_assert_uint_eq(first, IKE_PL_IDI);
	ck_assert_mem_eq(plain, pt, inner);
	free(pt);
	free(h);
}
END_TEST

START_TEST(skf_fragment)
{
	uint8_t m[MAXMSG];
	struct ike_sk_layout lay;
	fill_pat();
	size_t n = build_skf(m, sizeof(m), &lay);
	uint8_t *h = heap(m, n);
	ck_assert_int_eq(ike_pld_parse(&dg, h, n), 0);
	ck_assert(dg.pl == IKE_PL_BIT(IKE_PL_SKF));
	ck_assert_uint_eq(dg.sk.frag_num, 1);
	ck_assert_uint_eq(dg.sk.frag_total, 3);
	ck_assert_uint_eq(dg.sk.np, IKE_PL_IDI);
	ck_assert_uint_eq(dg.sk.body_off, IKE_HDR_LEN + 8);
	ck_assert_uint_eq(dg.sk.body_off, lay.iv_at);
	ck_assert_uint_eq(lay.aad_len, IKE_HDR_LEN + 8);
	ck_assert_uint_eq(lay.pad_len, 0);
	ck_assert_uint_eq(lay.pt_len, 101);
	ck_assert_uint_eq(dg.sk.body_len, 8 + 101 + 16);
	free(h);
}
END_TEST

/* ---- truncation and bit-flip sweeps ------------------------------------------------- */

enum { V_HAND, V_INIT, V_AUTH, V_SKF, V_INNER, V_TS, V_COUNT };

static size_t vector(int which, uint8_t *m, size_t cap, uint8_t *first)
{
	struct ike_sk_layout lay;
	fill_pat();
	*first = 0;
	switch (which) {
	case V_HAND:  return load_hex("sa_init_r.hex", m, cap);
	case V_INIT:  return build_sa_init_i(m, cap);
	case V_AUTH:  return build_auth_i(m, cap, &lay);
	case V_SKF:   return build_skf(m, cap, &lay);
	case V_INNER: return build_auth_plain(m, cap, first);
	default:      return build_ts_body(m, cap);
	}
}

static int parse_any(int which, const uint8_t *p, size_t n, uint8_t first)
{
	int err;
	if (which == V_TS) {
		struct ike_ts_list l;
		err = ike_pld_parse_ts(&l, p, n);
		if (!err)
			ck_assert_uint_le(l.n, IKE_MAX_TS);
		return err;
	}
	if (which == V_INNER) {
		memset(&dg, 0, sizeof(dg));
		err = ike_pld_parse_inner(&dg, first, p, n);
	} else {
		err = ike_pld_parse(&dg, p, n);
	}
	if (err) {
		ck_assert_int_eq(err, -EBADMSG);
		ck_assert_uint_ne(dg.err_notify, 0);
		ck_assert_ptr_nonnull(dg.err_what);
	} else {
		digest_sane(&dg, p, n);
	}
	return err;
}

/* Every proper prefix is rejected: as is (header length mismatch) and, for datagrams,
 * with the header length patched to the prefix so that the chain walker sees it. */
START_TEST(every_truncation)
{
	uint8_t m[MAXMSG], first;
	size_t n = vector(_i, m, sizeof(m), &first);
	ck_assert_int_eq(parse_any(_i, m, n, first), 0);
	for (size_t len = 0; len < n; len++) {
		uint8_t *h = heap(m, len);
		ck_assert_msg(parse_any(_i, h, len, first) != 0, "prefix %zu accepted", len);
		if (_i <= V_SKF && len >= IKE_HDR_LEN) {
			h[24] = (uint8_t)(len >> 24);
			h[25] = (uint8_t)(len >> 16);
			h[26] = (uint8_t)(len >> 8);
			h[27] = (uint8_t)len;
			ck_assert_msg(parse_any(_i, h, len, first) != 0,
				      "patched prefix %zu accepted", len);
		}
		free(h);
	}
}
END_TEST

/* Every single-bit flip of every byte: no crash, no overread, and anything accepted is
 * sane. Also counts that a good share is rejected (the checks are not vacuous). */
START_TEST(every_bitflip)
{
	uint8_t m[MAXMSG], first;
	size_t n = vector(_i, m, sizeof(m), &first);
	unsigned rejected = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			uint8_t *h = heap(m, n);
			h[i] ^= (uint8_t)(1u << b);
			if (parse_any(_i, h, n, first))
				rejected++;
			total++;
			free(h);
		}
		/* and the first-payload type of the inner chain */
	}
	if (_i == V_INNER)
		for (int b = 0; b < 8; b++)
			if (parse_any(_i, m, n, (uint8_t)(first ^ (1u << b))))
				rejected++;
	ck_assert_uint_gt(rejected, 0);
	ck_assert_uint_lt(rejected, total + 8);
}
END_TEST

/* ---- malformed cases ---------------------------------------------------------------- */

/* Build HDR + one raw payload of the given type. */
static size_t one(uint8_t *m, size_t cap, uint8_t type, bool crit, const void *body, size_t len)
{
	struct wr w;
	struct ike_emit e;
	wr_init(&w, m, cap);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	ike_emit_raw(&e, type, crit, body, len);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	return wr_len(&w);
}

static void expect(const uint8_t *m, size_t n, uint16_t notify, const char *what)
{
	uint8_t *h = heap(m, n);
	int err = ike_pld_parse(&dg, h, n);
	free(h);
	if (!notify) {
		ck_assert_msg(err == 0, "rejected: %s", dg.err_what);
		return;
	}
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_uint_eq(dg.err_notify, notify);
	if (what)
		ck_assert_msg(strstr(dg.err_what, what) != NULL, "reason '%s', wanted '%s'",
			      dg.err_what, what);
}

static void expect_body(uint8_t type, const void *body, size_t len, const char *what)
{
	uint8_t m[MAXMSG];
	size_t n = one(m, sizeof(m), type, false, body, len);
	expect(m, n, what ? IKE_N_INVALID_SYNTAX : 0, what);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

START_TEST(bad_header)
{
	uint8_t m[MAXMSG];
	static const uint8_t nb[4];
	size_t n = one(m, sizeof(m), IKE_PL_NOTIFY, false, nb, 4);
	expect(m, n, 0, NULL);
	expect(m, IKE_HDR_LEN - 1, IKE_N_INVALID_SYNTAX, "shorter than the IKE header");
	/* header length one more / one less than the datagram */
	m[27]++;
	expect(m, n, IKE_N_INVALID_SYNTAX, "header length");
	m[27] -= 2;
	expect(m, n, IKE_N_INVALID_SYNTAX, "header length");
	m[27]++;
	/* wrong major version; the minor version is ignored */
	m[17] = 0x10;
	expect(m, n, IKE_N_INVALID_MAJOR_VERSION, "major version");
	m[17] = 0x30;
	expect(m, n, IKE_N_INVALID_MAJOR_VERSION, NULL);
	m[17] = 0x21;
	expect(m, n, 0, NULL);
	m[17] = 0x20;
	/* bytes after the last payload (next payload 0) */
	m[n] = 0;
	m[27]++;
	expect(m, n + 1, IKE_N_INVALID_SYNTAX, "after the last payload");
}
END_TEST

START_TEST(bad_payload_lengths)
{
	uint8_t m[MAXMSG];
	static const uint8_t nb[8];
	size_t n = one(m, sizeof(m), IKE_PL_NOTIFY, false, nb, 8);
	for (uint16_t l = 0; l < 4; l++) {
		put16(m + IKE_HDR_LEN + 2, l);
		expect(m, n, IKE_N_INVALID_SYNTAX, "payload length < 4");
	}
	put16(m + IKE_HDR_LEN + 2, 13);
	expect(m, n, IKE_N_INVALID_SYNTAX, "past end of message");
	put16(m + IKE_HDR_LEN + 2, 0xffff);
	expect(m, n, IKE_N_INVALID_SYNTAX, "past end of message");
	/* shorter payload leaves trailing bytes that are not a payload */
	put16(m + IKE_HDR_LEN + 2, 11);
	expect(m, n, IKE_N_INVALID_SYNTAX, "after the last payload");
	/* next payload set but the message ends */
	put16(m + IKE_HDR_LEN + 2, 12);
	m[IKE_HDR_LEN] = IKE_PL_NOTIFY;
	expect(m, n, IKE_N_INVALID_SYNTAX, "chain truncated");
}
END_TEST

START_TEST(critical_unknown)
{
	uint8_t m[MAXMSG];
	static const uint8_t body[3] = { 1, 2, 3 };
	size_t n = one(m, sizeof(m), 49, true, body, 3);
	expect(m, n, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "critical");
	ck_assert_uint_eq(dg.err_pl, 49);
	/* non-critical unknown payloads are skipped, the chain continues past them */
	struct wr w;
	struct ike_emit e;
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	ike_emit_raw(&e, 49, false, body, 3);
	ike_emit_raw(&e, 200, false, NULL, 0);
	ike_emit_vid(&e, body, 3);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), 0, NULL);
	ck_assert(dg.pl == IKE_PL_BIT(IKE_PL_VID));
	ck_assert_uint_eq(dg.n_payloads, 3);
	/* the critical bit on a known payload is fine */
	n = one(m, sizeof(m), IKE_PL_VID, true, body, 3);
	expect(m, n, 0, NULL);
}
END_TEST

START_TEST(too_many)
{
	uint8_t m[MAXMSG * 4];
	struct wr w;
	struct ike_emit e;
	struct ike_notify nt = { .type = IKE_N_COOKIE };
	for (unsigned count = IKE_MAX_NOTIFIES; count <= IKE_MAX_NOTIFIES + 1; count++) {
		wr_init(&w, m, sizeof(m));
		ike_emit_init(&e, &w);
		ike_emit_header(&e, &H_INIT);
		for (unsigned i = 0; i < count; i++)
			ike_emit_notify(&e, &nt);
		ck_assert_int_eq(ike_emit_finish(&e), 0);
		expect(m, wr_len(&w), count > IKE_MAX_NOTIFIES ? IKE_N_INVALID_SYNTAX : 0,
		       "too many notify");
	}
	/* unknown payloads count too */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	for (unsigned i = 0; i <= IKE_MAX_PAYLOADS; i++)
		ike_emit_raw(&e, 50, false, NULL, 0);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "too many payloads");
	/* V, CERT, CERTREQ, D limits */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	for (unsigned i = 0; i <= IKE_MAX_VIDS; i++)
		ike_emit_vid(&e, pat, 4);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "too many vendor");
	struct ike_cert c = { .enc = 4, .data = B(pat, 20) };
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	for (unsigned i = 0; i <= IKE_MAX_CERTREQS; i++)
		ike_emit_certreq(&e, &c);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "too many CERTREQ");
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	for (unsigned i = 0; i <= IKE_MAX_CERTS; i++)
		ike_emit_cert(&e, &c);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "too many CERT ");
	struct ike_delete del = { .proto = IKE_PROTO_IKE };
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	for (unsigned i = 0; i <= IKE_MAX_DELETES; i++)
		ike_emit_delete(&e, &del);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "too many delete");
	/* singletons */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_INIT);
	ike_emit_nonce(&e, pat, 16);
	ike_emit_nonce(&e, pat, 16);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "appears twice");
}
END_TEST

START_TEST(proposal_limits)
{
	uint8_t m[MAXMSG * 4];
	struct wr w;
	struct ike_emit e;
	static struct ike_sa_pld sa;
	/* 17 proposals: the emitter refuses, so write the SA body by hand */
	wr_init(&w, m, sizeof(m));
	for (unsigned i = 0; i < IKE_MAX_PROPOSALS + 1; i++) {
		static const uint8_t prop[16] = { 2, 0, 0, 16, 1, 1, 0, 1,
						  0, 0, 0, 8, 1, 0, 0, 20 };
		wr_bytes(&w, prop, sizeof(prop));
		if (i == IKE_MAX_PROPOSALS)
			m[wr_len(&w) - 16] = IKE_PROP_LAST;
	}
	uint8_t body[MAXMSG];
	size_t blen = wr_len(&w);
	memcpy(body, m, blen);
	expect_body(IKE_PL_SA, body, blen, "too many proposals");
	expect_body(IKE_PL_SA, body + 16, blen - 16, NULL);        /* 16 is fine */

	/* 33 and 34 transforms */
	memset(&sa, 0, sizeof(sa));
	sa.n_prop = 1;
	sa.prop[0].proto = IKE_PROTO_IKE;
	for (unsigned i = 0; i < IKE_MAX_TRANSFORMS; i++)
		xf(&sa.prop[0], IKE_XF_DH, (uint16_t)i, 0);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_sa(&e, &sa);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	blen = wr_len(&w) - 4;
	memcpy(body, m + 4, blen);
	expect_body(IKE_PL_SA, body, blen, NULL);
	/* append one more transform and bump the count and the lengths */
	static const uint8_t more[8] = { 0, 0, 0, 8, 4, 0, 0, 99 };
	body[blen - 8] = IKE_XF_MORE;
	memcpy(body + blen, more, 8);
	blen += 8;
	body[7] = IKE_MAX_TRANSFORMS + 1;
	put16(body + 2, (uint16_t)blen);
	/* more than we store is not an error (strongSwan sends 37): the first 32 are kept */
	expect_body(IKE_PL_SA, body, blen, NULL);
	uint8_t mm[MAXMSG];
	size_t mn = one(mm, sizeof(mm), IKE_PL_SA, false, body, blen);
	uint8_t *h = heap(mm, mn);
	ck_assert_int_eq(ike_pld_parse(&dg, h, mn), 0);
	free(h);
	ck_assert_uint_eq(dg.sa.prop[0].n_xf, IKE_MAX_TRANSFORMS);
	ck_assert_uint_eq(dg.sa.prop[0].xf[IKE_MAX_TRANSFORMS - 1].id, IKE_MAX_TRANSFORMS - 1);
	/* ... and a type first seen past the limit still appears (here: ESN) */
	body[blen - 8] = IKE_XF_MORE;
	static const uint8_t esn[8] = { 0, 0, 0, 8, 5, 0, 0, 0 };
	memcpy(body + blen, esn, 8);
	blen += 8;
	body[7] = IKE_MAX_TRANSFORMS + 2;
	put16(body + 2, (uint16_t)blen);
	mn = one(mm, sizeof(mm), IKE_PL_SA, false, body, blen);
	h = heap(mm, mn);
	ck_assert_int_eq(ike_pld_parse(&dg, h, mn), 0);
	free(h);
	ck_assert_uint_eq(dg.sa.prop[0].n_xf, IKE_MAX_TRANSFORMS);
	ck_assert_uint_eq(dg.sa.prop[0].xf[IKE_MAX_TRANSFORMS - 1].type, IKE_XF_ESN);
	ck_assert_uint_eq(dg.sa.prop[0].xf[IKE_MAX_TRANSFORMS - 2].id, IKE_MAX_TRANSFORMS - 2);
}
END_TEST

START_TEST(bad_transforms)
{
	/* one proposal (IKE, 1 transform) whose transform is given below */
	uint8_t body[64];
	static const uint8_t prop_hdr[8] = { 0, 0, 0, 0, 1, 1, 0, 1 };
	struct { const char *what; uint8_t xf[24]; size_t len; bool unknown; uint16_t keylen; }
	cases[] = {
		{ NULL, { 0, 0, 0, 12, 1, 0, 0, 20, 0x80, 14, 1, 0 }, 12, false, 256 },
		/* unknown TV attribute: accepted, flagged (RFC 7296 §3.3.6) */
		{ NULL, { 0, 0, 0, 12, 1, 0, 0, 20, 0x80, 99, 0, 1 }, 12, true, 0 },
		/* key length twice */
		{ NULL, { 0, 0, 0, 16, 1, 0, 0, 12, 0x80, 14, 0, 128, 0x80, 14, 1, 0 }, 16, true, 128 },
		/* key length 0 */
		{ NULL, { 0, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 0, 0 }, 12, true, 0 },
		/* TLV attribute, length 2, value present */
		{ NULL, { 0, 0, 0, 14, 1, 0, 0, 12, 0x00, 77, 0, 2, 9, 9 }, 14, true, 0 },
		{ "attribute length past end", { 0, 0, 0, 14, 1, 0, 0, 12, 0x00, 77, 0, 3, 9, 9 }, 14, false, 0 },
		{ "attribute truncated", { 0, 0, 0, 10, 1, 0, 0, 12, 0x80, 14 }, 10, false, 0 },
		{ "transform length < 8", { 0, 0, 0, 7, 1, 0, 0, 12 }, 8, false, 0 },
		{ "transform length past end", { 0, 0, 0, 9, 1, 0, 0, 12 }, 8, false, 0 },
		{ "last-substruc", { 3, 0, 0, 8, 1, 0, 0, 12 }, 8, false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(body, prop_hdr, 8);
		memcpy(body + 8, cases[i].xf, cases[i].len);
		put16(body + 2, (uint16_t)(8 + cases[i].len));
		expect_body(IKE_PL_SA, body, 8 + cases[i].len, cases[i].what);
		if (!cases[i].what) {
			ck_assert_uint_eq(dg.sa.prop[0].xf[0].unknown_attr, cases[i].unknown);
			ck_assert_uint_eq(dg.sa.prop[0].xf[0].key_len, cases[i].keylen);
		}
	}
	/* proposal-level: SPI size 9, last-substruc 1, length < 8, fewer transforms */
	memcpy(body, prop_hdr, 8);
	memcpy(body + 8, cases[0].xf, 12);
	put16(body + 2, 20);
	body[6] = 9;
	expect_body(IKE_PL_SA, body, 20, "SPI size");
	body[6] = 0;
	body[0] = 1;
	expect_body(IKE_PL_SA, body, 20, "last-substruc");
	body[0] = 0;
	put16(body + 2, 7);
	expect_body(IKE_PL_SA, body, 20, "proposal length");
	put16(body + 2, 20);
	body[7] = 2;
	expect_body(IKE_PL_SA, body, 20, "last-substruc");   /* first of 2 says "last" */
	body[7] = 0;
	expect_body(IKE_PL_SA, body, 20, "does not match");
	body[7] = 1;
	expect_body(IKE_PL_SA, body, 19, "past end");
	expect_body(IKE_PL_SA, body, 0, "proposal length");
	body[20] = 0;
	expect_body(IKE_PL_SA, body, 21, "after the last proposal");
}
END_TEST

static size_t sel(uint8_t *p, uint8_t type, uint16_t len, uint16_t sp, uint16_t ep,
		  uint8_t s_last, uint8_t e_last, size_t alen)
{
	p[0] = type;
	p[1] = 0;
	put16(p + 2, len);
	put16(p + 4, sp);
	put16(p + 6, ep);
	memset(p + 8, 0x0a, 2 * alen);
	p[8 + alen - 1] = s_last;
	p[8 + 2 * alen - 1] = e_last;
	return 8 + 2 * alen;
}

START_TEST(bad_ts)
{
	uint8_t b[512];
	struct ike_ts_list l;
	memset(b, 0, 4);
	b[0] = 1;
	size_t n = 4 + sel(b + 4, 7, 16, 0, 65535, 1, 2, 4);
	ck_assert_int_eq(ike_pld_parse_ts(&l, b, n), 0);
	expect_body(IKE_PL_TSI, b, n, NULL);
	ck_assert_uint_eq(dg.tsi.n, 1);
	ck_assert_uint_eq(dg.tsi.ts[0].start.family, AF_INET);
	/* start > end */
	n = 4 + sel(b + 4, 7, 16, 0, 65535, 3, 2, 4);
	expect_body(IKE_PL_TSI, b, n, "start address > end");
	n = 4 + sel(b + 4, 8, 40, 0, 65535, 3, 2, 16);
	expect_body(IKE_PL_TSR, b, n, "start address > end");
	/* the selector length must match the family */
	n = 4 + sel(b + 4, 7, 40, 0, 65535, 1, 2, 16);
	expect_body(IKE_PL_TSI, b, n, "does not match its address family");
	n = 4 + sel(b + 4, 8, 16, 0, 65535, 1, 2, 4);
	expect_body(IKE_PL_TSI, b, n, "does not match its address family");
	n = 4 + sel(b + 4, 7, 17, 0, 65535, 1, 2, 4);
	expect_body(IKE_PL_TSI, b, n, "past end");
	n = 4 + sel(b + 4, 7, 3, 0, 65535, 1, 2, 4);
	expect_body(IKE_PL_TSI, b, n, "length < 4");
	/* ports: start > end only as OPAQUE */
	n = 4 + sel(b + 4, 7, 16, 100, 50, 1, 2, 4);
	expect_body(IKE_PL_TSI, b, n, "port");
	n = 4 + sel(b + 4, 7, 16, 65535, 0, 1, 2, 4);
	expect_body(IKE_PL_TSI, b, n, NULL);
	/* count */
	b[0] = 0;
	expect_body(IKE_PL_TSI, b, n, "count");
	b[0] = 2;
	expect_body(IKE_PL_TSI, b, n, "truncated");
	b[0] = 1;
	b[n] = 0;
	expect_body(IKE_PL_TSI, b, n + 1, "after the last traffic selector");
	b[0] = IKE_MAX_TS + 1;
	expect_body(IKE_PL_TSI, b, n, "count");
	expect_body(IKE_PL_TSI, b, 3, "TS truncated");
	/* unknown selector types (e.g. security labels, type 10) are skipped, counted */
	b[0] = 2;
	size_t k = sel(b + 4, 7, 16, 0, 65535, 1, 2, 4);
	static const uint8_t label[8] = { 10, 0, 0, 8, 's', 'e', 'c', 0 };
	memcpy(b + 4 + k, label, 8);
	expect_body(IKE_PL_TSI, b, 4 + k + 8, NULL);
	ck_assert_uint_eq(dg.tsi.n, 1);
	ck_assert_uint_eq(dg.tsi.n_unknown, 1);
	/* 16 selectors fine */
	b[0] = IKE_MAX_TS;
	n = 4;
	for (int i = 0; i < IKE_MAX_TS; i++)
		n += sel(b + n, 7, 16, 0, 65535, (uint8_t)i, (uint8_t)i, 4);
	expect_body(IKE_PL_TSI, b, n, NULL);
	ck_assert_uint_eq(dg.tsi.n, IKE_MAX_TS);
}
END_TEST

START_TEST(bad_bodies)
{
	uint8_t b[512];
	memset(b, 0, sizeof(b));
	/* nonce 16..256 */
	expect_body(IKE_PL_NONCE, b, 15, "nonce");
	expect_body(IKE_PL_NONCE, b, 16, NULL);
	expect_body(IKE_PL_NONCE, b, 256, NULL);
	expect_body(IKE_PL_NONCE, b, 257, "nonce");
	/* KE */
	expect_body(IKE_PL_KE, b, 4, "KE truncated");
	expect_body(IKE_PL_KE, b, 3, "KE truncated");
	expect_body(IKE_PL_KE, b, 5, NULL);
	/* notify */
	expect_body(IKE_PL_NOTIFY, b, 3, "notify truncated");
	b[1] = 3;
	expect_body(IKE_PL_NOTIFY, b, 8, "SPI size");
	b[1] = 4;
	expect_body(IKE_PL_NOTIFY, b, 7, "notify SPI truncated");
	expect_body(IKE_PL_NOTIFY, b, 8, NULL);
	ck_assert_uint_eq(dg.notify[0].spi.len, 4);
	b[1] = 0;
	/* delete */
	b[0] = IKE_PROTO_ESP;
	b[1] = 4;
	b[3] = 2;
	expect_body(IKE_PL_DELETE, b, 12, NULL);
	expect_body(IKE_PL_DELETE, b, 11, "does not match");
	expect_body(IKE_PL_DELETE, b, 13, "does not match");
	b[1] = 0;
	expect_body(IKE_PL_DELETE, b, 4, "SPI size");
	b[1] = 9;
	expect_body(IKE_PL_DELETE, b, 22, "SPI size");
	b[3] = 0;
	b[1] = 0;
	b[0] = 0;
	expect_body(IKE_PL_DELETE, b, 3, "delete truncated");
	/* ID */
	b[0] = IKE_ID_IPV4_ADDR;
	expect_body(IKE_PL_IDI, b, 8, NULL);
	expect_body(IKE_PL_IDI, b, 9, "wrong length");
	b[0] = IKE_ID_IPV6_ADDR;
	expect_body(IKE_PL_IDR, b, 8, "wrong length");
	expect_body(IKE_PL_IDR, b, 20, NULL);
	b[0] = IKE_ID_FQDN;
	expect_body(IKE_PL_IDI, b, 4, "empty");
	expect_body(IKE_PL_IDI, b, 3, "ID truncated");
	b[0] = IKE_ID_NULL;
	expect_body(IKE_PL_IDI, b, 4, NULL);
	/* CERT, CERTREQ */
	b[0] = IKE_CERT_X509_SIG;
	expect_body(IKE_PL_CERT, b, 1, "CERT data empty");
	expect_body(IKE_PL_CERT, b, 0, "CERT truncated");
	expect_body(IKE_PL_CERTREQ, b, 1, NULL);
	expect_body(IKE_PL_CERTREQ, b, 0, "CERTREQ truncated");
	/* AUTH */
	b[0] = IKE_AUTH_NULL;
	expect_body(IKE_PL_AUTH, b, 4, "AUTH truncated");
	expect_body(IKE_PL_AUTH, b, 5, NULL);
	b[0] = IKE_AUTH_DIGSIG;
	b[4] = 0;                                   /* AlgorithmIdentifier length 0 */
	expect_body(IKE_PL_AUTH, b, 10, "AlgorithmIdentifier");
	b[4] = 6;                                   /* 6 + no signature */
	expect_body(IKE_PL_AUTH, b, 11, "AlgorithmIdentifier");
	expect_body(IKE_PL_AUTH, b, 12, NULL);
	ck_assert_uint_eq(dg.auth.alg_id.len, 6);
	ck_assert_uint_eq(dg.auth.sig.len, 1);
	b[4] = 200;                                 /* past the end */
	expect_body(IKE_PL_AUTH, b, 12, "AlgorithmIdentifier");
	/* CP */
	expect_body(IKE_PL_CP, b, 3, "CP truncated");
	/* SKF */
	memset(b, 0, 8);
	expect_body(IKE_PL_SKF, b, 3, "SKF truncated");
	put16(b, 0);
	put16(b + 2, 3);
	expect_body(IKE_PL_SKF, b, 8, "fragment number");
	put16(b, 4);
	expect_body(IKE_PL_SKF, b, 8, "fragment number");
	put16(b, 3);
	expect_body(IKE_PL_SKF, b, 8, NULL);
}
END_TEST

START_TEST(bad_sk)
{
	uint8_t m[MAXMSG];
	struct wr w;
	struct ike_emit e;
	struct ike_sk_layout lay;
	/* bytes after SK */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_sk_begin(&e, 16);
	ck_assert_int_eq(ike_emit_sk_end(&e, 1, 16, &lay), 0);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	size_t n = wr_len(&w);
	expect(m, n, 0, NULL);
	ck_assert_uint_eq(dg.sk.np, 0);
	memcpy(m + n, "\0\0\0\4", 4);
	m[27] += 4;
	expect(m, n + 4, IKE_N_INVALID_SYNTAX, "after SK");
	/* SKF with next payload in a non-first fragment */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_skf_begin(&e, 2, 3, 0, 8);
	ike_emit_sk_bytes(&e, pat, 10);
	ck_assert_int_eq(ike_emit_sk_end(&e, 1, 16, &lay), 0);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	expect(m, wr_len(&w), 0, NULL);
	m[IKE_HDR_LEN] = IKE_PL_IDI;
	expect(m, wr_len(&w), IKE_N_INVALID_SYNTAX, "non-first fragment");
	/* SK inside SK, SK twice */
	static const uint8_t sk[4] = { 0, 0, 0, 4 };
	memset(&dg, 0, sizeof(dg));
	ck_assert_int_eq(ike_pld_parse_inner(&dg, IKE_PL_SK, sk, 4), -EBADMSG);
	ck_assert_str_eq(dg.err_what, "SK or SKF inside SK");
	memset(&dg, 0, sizeof(dg));
	ck_assert_int_eq(ike_pld_parse_inner(&dg, IKE_PL_SKF, sk, 4), -EBADMSG);
	/* empty inner (an empty INFORMATIONAL, i.e. a liveness check) */
	memset(&dg, 0, sizeof(dg));
	ck_assert_int_eq(ike_pld_parse_inner(&dg, IKE_PL_NONE, NULL, 0), 0);
	ck_assert(dg.sk_pl == 0);
	/* an inner singleton that also appeared outside */
	fill_pat();
	n = build_sa_init_i(m, sizeof(m));
	ck_assert_int_eq(ike_pld_parse(&dg, m, n), 0);
	uint8_t in[64];
	wr_init(&w, in, sizeof(in));
	ike_emit_init(&e, &w);
	ike_emit_nonce(&e, pat, 16);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	ck_assert_int_eq(ike_pld_parse_inner(&dg, IKE_PL_NONCE, in, wr_len(&w)), -EBADMSG);
	ck_assert_str_eq(dg.err_what, "payload that may appear once appears twice");
}
END_TEST

/* ---- round trips: parse(emit(x)) == x for every payload kind ------------------------ */

static bool blob_eq(const struct ike_blob *a, const struct ike_blob *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Emit HDR + (one payload via fn), parse it back; also re-emit from the digest and
 * demand identical bytes. */
typedef void (*emit_fn)(struct ike_emit *e, const void *arg);

static void rt(emit_fn fn, const void *arg, uint8_t *m, size_t *n)
{
	struct wr w;
	struct ike_emit e;
	wr_init(&w, m, MAXMSG);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	fn(&e, arg);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	*n = wr_len(&w);
	ck_assert_msg(ike_pld_parse(&dg, m, *n) == 0, "rejected: %s", dg.err_what);
	ck_assert(dg.hdr.spi_i == H_AUTH.spi_i && dg.hdr.spi_r == H_AUTH.spi_r);
	ck_assert_uint_eq(dg.hdr.msgid, H_AUTH.msgid);
	ck_assert_uint_eq(dg.hdr.xchg, H_AUTH.xchg);
	ck_assert_uint_eq(dg.hdr.flags, H_AUTH.flags);
	digest_sane(&dg, m, *n);
}

static void e_sa(struct ike_emit *e, const void *a) { ike_emit_sa(e, a); }
static void e_ke(struct ike_emit *e, const void *a)
{
	const struct ike_ke *k = a;
	ike_emit_ke(e, k->group, k->data.p, k->data.len);
}
static void e_nonce(struct ike_emit *e, const void *a)
{
	const struct ike_blob *b = a;
	ike_emit_nonce(e, b->p, b->len);
}
static void e_notify(struct ike_emit *e, const void *a) { ike_emit_notify(e, a); }
static void e_delete(struct ike_emit *e, const void *a) { ike_emit_delete(e, a); }
static void e_idi(struct ike_emit *e, const void *a) { ike_emit_id(e, IKE_PL_IDI, a); }
static void e_idr(struct ike_emit *e, const void *a) { ike_emit_id(e, IKE_PL_IDR, a); }
static void e_cert(struct ike_emit *e, const void *a) { ike_emit_cert(e, a); }
static void e_certreq(struct ike_emit *e, const void *a) { ike_emit_certreq(e, a); }
static void e_auth(struct ike_emit *e, const void *a) { ike_emit_auth(e, a); }
static void e_tsi(struct ike_emit *e, const void *a) { ike_emit_ts(e, IKE_PL_TSI, a); }
static void e_tsr(struct ike_emit *e, const void *a) { ike_emit_ts(e, IKE_PL_TSR, a); }
static void e_vid(struct ike_emit *e, const void *a)
{
	const struct ike_blob *b = a;
	ike_emit_vid(e, b->p, b->len);
}
static void e_cp(struct ike_emit *e, const void *a) { ike_emit_cp(e, a); }
static void e_eap(struct ike_emit *e, const void *a)
{
	const struct ike_blob *b = a;
	ike_emit_raw(e, IKE_PL_EAP, false, b->p, b->len);
}

static void sa_eq(const struct ike_sa_pld *x, const struct ike_sa_pld *y)
{
	ck_assert_uint_eq(x->n_prop, y->n_prop);
	for (unsigned i = 0; i < x->n_prop; i++) {
		const struct ike_proposal *p = &x->prop[i], *q = &y->prop[i];
		ck_assert_uint_eq(p->num, q->num);
		ck_assert_uint_eq(p->proto, q->proto);
		ck_assert_uint_eq(p->spi_size, q->spi_size);
		ck_assert_mem_eq(p->spi, q->spi, p->spi_size);
		ck_assert_uint_eq(p->n_xf, q->n_xf);
		for (unsigned j = 0; j < p->n_xf; j++) {
			ck_assert_uint_eq(p->xf[j].type, q->xf[j].type);
			ck_assert_uint_eq(p->xf[j].id, q->xf[j].id);
			ck_assert_uint_eq(p->xf[j].key_len, q->xf[j].key_len);
			ck_assert(!q->xf[j].unknown_attr);
		}
	}
}

static void ts_eq(const struct ike_ts_list *x, const struct ike_ts_list *y)
{
	ck_assert_uint_eq(x->n, y->n);
	ck_assert_uint_eq(y->n_unknown, 0);
	for (unsigned i = 0; i < x->n; i++) {
		const struct ike_ts *a = &x->ts[i], *b = &y->ts[i];
		ck_assert_uint_eq(a->type, b->type);
		ck_assert_uint_eq(a->proto, b->proto);
		ck_assert_uint_eq(a->sport, b->sport);
		ck_assert_uint_eq(a->eport, b->eport);
		ck_assert(addr_eq(&a->start, &b->start));
		ck_assert(addr_eq(&a->end, &b->end));
	}
}

START_TEST(roundtrip_each_kind)
{
	uint8_t m[MAXMSG];
	size_t n;
	fill_pat();

	static struct ike_sa_pld sa;
	oe_ike_sa(&sa);
	rt(e_sa, &sa, m, &n);
	sa_eq(&sa, &dg.sa);
	esp_sa(&sa);
	rt(e_sa, &sa, m, &n);
	sa_eq(&sa, &dg.sa);

	struct ike_ke ke = { .group = IKE_DH_CURVE25519, .data = B(pat, 32) };
	rt(e_ke, &ke, m, &n);
	ck_assert_uint_eq(dg.ke.group, ke.group);
	ck_assert(blob_eq(&dg.ke.data, &ke.data));

	struct ike_blob nonce = B(pat + 1, 32);
	rt(e_nonce, &nonce, m, &n);
	ck_assert(blob_eq(&dg.nonce, &nonce));

	struct ike_notify nt = { .proto = IKE_PROTO_ESP, .spi_size = 4, .type = IKE_N_REKEY_SA,
				 .spi = B(pat, 4) };
	rt(e_notify, &nt, m, &n);
	ck_assert_uint_eq(dg.n_notify, 1);
	ck_assert_uint_eq(dg.notify[0].proto, nt.proto);
	ck_assert_uint_eq(dg.notify[0].spi_size, 4);
	ck_assert_uint_eq(dg.notify[0].type, nt.type);
	ck_assert(blob_eq(&dg.notify[0].spi, &nt.spi));
	ck_assert_uint_eq(dg.notify[0].data.len, 0);
	nt = (struct ike_notify){ .type = IKE_N_INVALID_KE_PAYLOAD, .data = B("\0\x13", 2) };
	rt(e_notify, &nt, m, &n);
	ck_assert_uint_eq(dg.notify[0].type, IKE_N_INVALID_KE_PAYLOAD);
	ck_assert(blob_eq(&dg.notify[0].data, &nt.data));
	ck_assert_uint_eq(dg.notify[0].spi.len, 0);

	struct ike_delete del = { .proto = IKE_PROTO_ESP, .spi_size = 4, .n_spi = 3,
				  .spis = B(pat, 12) };
	rt(e_delete, &del, m, &n);
	ck_assert_uint_eq(dg.n_del, 1);
	ck_assert_uint_eq(dg.del[0].proto, del.proto);
	ck_assert_uint_eq(dg.del[0].spi_size, del.spi_size);
	ck_assert_uint_eq(dg.del[0].n_spi, del.n_spi);
	ck_assert(blob_eq(&dg.del[0].spis, &del.spis));
	del = (struct ike_delete){ .proto = IKE_PROTO_IKE };
	rt(e_delete, &del, m, &n);
	ck_assert_uint_eq(dg.del[0].n_spi, 0);

	struct ike_id id = { .type = IKE_ID_DER_ASN1_DN, .data = B(dn, sizeof(dn) - 1) };
	rt(e_idi, &id, m, &n);
	ck_assert_uint_eq(dg.idi.type, id.type);
	ck_assert(blob_eq(&dg.idi.data, &id.data));
	id = (struct ike_id){ .type = IKE_ID_NULL };
	rt(e_idr, &id, m, &n);
	ck_assert(dg.pl == IKE_PL_BIT(IKE_PL_IDR));
	ck_assert_uint_eq(dg.idr.type, IKE_ID_NULL);
	ck_assert_uint_eq(dg.idr.data.len, 0);
	id = (struct ike_id){ .type = IKE_ID_IPV4_ADDR, .data = B("\xc0\x00\x02\x17", 4) };
	rt(e_idi, &id, m, &n);
	ck_assert(blob_eq(&dg.idi.data, &id.data));

	struct ike_cert c = { .enc = IKE_CERT_X509_SIG, .data = B(pat, 500) };
	rt(e_cert, &c, m, &n);
	ck_assert_uint_eq(dg.cert[0].enc, c.enc);
	ck_assert(blob_eq(&dg.cert[0].data, &c.data));
	c.data = B(pat, 40);
	rt(e_certreq, &c, m, &n);
	ck_assert_uint_eq(dg.n_certreq, 1);
	ck_assert(blob_eq(&dg.certreq[0].data, &c.data));

	struct ike_auth a = { .method = IKE_AUTH_RSA_SIG, .data = B(pat, 256) };
	rt(e_auth, &a, m, &n);
	ck_assert_uint_eq(dg.auth.method, a.method);
	ck_assert(blob_eq(&dg.auth.data, &a.data));
	a = (struct ike_auth){ .method = IKE_AUTH_NULL, .data = B(pat, 64) };
	rt(e_auth, &a, m, &n);
	ck_assert(blob_eq(&dg.auth.data, &a.data));
	a = (struct ike_auth){ .method = IKE_AUTH_DIGSIG, .alg_id = B(rsa_pss_alg, 13),
			       .sig = B(pat, 72) };
	rt(e_auth, &a, m, &n);
	ck_assert(blob_eq(&dg.auth.alg_id, &a.alg_id));
	ck_assert(blob_eq(&dg.auth.sig, &a.sig));

	struct ike_ts_list ts, v6;
	ts_host(&ts, AF_INET, 7);
	ts_host(&v6, AF_INET6, 9);
	v6.ts[0].proto = 17;
	v6.ts[0].sport = v6.ts[0].eport = 500;
	v6.ts[0].start.b[15] = 0;
	ts.ts[ts.n++] = v6.ts[0];
	ts.ts[ts.n] = ts.ts[0];
	ts.ts[ts.n].sport = 65535;             /* OPAQUE */
	ts.ts[ts.n++].eport = 0;
	rt(e_tsi, &ts, m, &n);
	ts_eq(&ts, &dg.tsi);
	rt(e_tsr, &ts, m, &n);
	ts_eq(&ts, &dg.tsr);

	struct ike_blob vid = B("Opportunistic IPsec", 19);
	rt(e_vid, &vid, m, &n);
	ck_assert(blob_eq(&dg.vid[0], &vid));

	struct ike_cp cp = { .type = IKE_CP_REQUEST, .attrs = B("\0\1\0\0", 4) };
	rt(e_cp, &cp, m, &n);
	ck_assert_uint_eq(dg.cp.type, cp.type);
	ck_assert(blob_eq(&dg.cp.attrs, &cp.attrs));

	struct ike_blob eap = B(pat, 9);
	rt(e_eap, &eap, m, &n);
	ck_assert(blob_eq(&dg.eap, &eap));
}
END_TEST

/* The whole IKE_AUTH inner chain round-trips too (many kinds in one chain), and so do
 * SK and SKF framing (checked in auth_sk_layout_and_inner / skf_fragment). */
START_TEST(roundtrip_reemit)
{
	uint8_t m[MAXMSG], first, again[MAXMSG];
	fill_pat();
	size_t n = build_auth_plain(m, sizeof(m), &first);
	memset(&dg, 0, sizeof(dg));
	ck_assert_int_eq(ike_pld_parse_inner(&dg, first, m, n), 0);
	struct wr w;
	struct ike_emit e;
	wr_init(&w, again, sizeof(again));
	ike_emit_init(&e, &w);
	ike_emit_id(&e, IKE_PL_IDI, &dg.idi);
	ike_emit_cert(&e, &dg.cert[0]);
	ike_emit_certreq(&e, &dg.certreq[0]);
	ike_emit_auth(&e, &dg.auth);
	ike_emit_notify(&e, &dg.notify[0]);
	ike_emit_notify(&e, &dg.notify[1]);
	ike_emit_sa(&e, &dg.sa);
	ike_emit_ts(&e, IKE_PL_TSI, &dg.tsi);
	ike_emit_ts(&e, IKE_PL_TSR, &dg.tsr);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	ck_assert_uint_eq(wr_len(&w), n);
	ck_assert_mem_eq(again, m, n);
}
END_TEST

/* ---- emitter misuse and names ------------------------------------------------------- */

START_TEST(emit_errors)
{
	uint8_t m[MAXMSG];
	struct wr w;
	struct ike_emit e;
	struct ike_sk_layout lay;
	/* nothing may follow SK */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_sk_begin(&e, 8);
	ck_assert_int_eq(ike_emit_sk_end(&e, 16, 16, &lay), 0);
	ck_assert_int_eq(ike_emit_vid(&e, pat, 4), -EINVAL);
	ck_assert_int_eq(ike_emit_finish(&e), -EINVAL);
	/* SK left open */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_sk_begin(&e, 8);
	ck_assert_int_eq(ike_emit_finish(&e), -EINVAL);
	/* sk_end without begin, block 0 */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ck_assert_int_eq(ike_emit_sk_end(&e, 16, 16, &lay), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_sk_begin(&e, 8);
	ck_assert_int_eq(ike_emit_sk_end(&e, 0, 16, &lay), -EINVAL);
	/* builders refused inside SKF; sk_bytes refused in SK */
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_sk_begin(&e, 8);
	ck_assert_int_eq(ike_emit_sk_bytes(&e, pat, 1), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ike_emit_skf_begin(&e, 1, 1, IKE_PL_IDI, 8);
	ck_assert_int_eq(ike_emit_nonce(&e, pat, 16), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ck_assert_int_eq(ike_emit_skf_begin(&e, 2, 1, 0, 8), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ck_assert_int_eq(ike_emit_skf_begin(&e, 2, 3, IKE_PL_IDI, 8), -EINVAL);
	/* bad arguments */
	struct ike_ts_list ts;
	ts_host(&ts, AF_INET, 1);
	ts.ts[0].type = 9;
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ck_assert_int_eq(ike_emit_ts(&e, IKE_PL_TSI, &ts), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ts.n = 0;
	ck_assert_int_eq(ike_emit_ts(&e, IKE_PL_TSR, &ts), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	ck_assert_int_eq(ike_emit_id(&e, IKE_PL_AUTH, &(struct ike_id){ 0 }), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	struct ike_auth a = { .method = IKE_AUTH_DIGSIG };
	ck_assert_int_eq(ike_emit_auth(&e, &a), -EINVAL);
	wr_init(&w, m, sizeof(m));
	ike_emit_init(&e, &w);
	struct ike_delete del = { .proto = 3, .spi_size = 4, .n_spi = 2, .spis = B(pat, 4) };
	ck_assert_int_eq(ike_emit_delete(&e, &del), -EINVAL);
	/* a writer too small (the message is 28 + 20 + 8 = 56 bytes): the error surfaces at finish */
	for (size_t cap = 0; cap < 56; cap++) {
		wr_init(&w, m, cap);
		ike_emit_init(&e, &w);
		ike_emit_header(&e, &H_AUTH);
		ike_emit_nonce(&e, pat, 16);
		ike_emit_vid(&e, pat, 4);
		ck_assert_int_eq(ike_emit_finish(&e), -ENOSPC);
	}
	wr_init(&w, m, 56);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_nonce(&e, pat, 16);
	ike_emit_vid(&e, pat, 4);
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	/* a growable writer */
	ck_assert_int_eq(wr_init_alloc(&w, 8, 65535), 0);
	ike_emit_init(&e, &w);
	ike_emit_header(&e, &H_AUTH);
	ike_emit_cert(&e, &(struct ike_cert){ .enc = 4, .data = B(pat, 500) });
	ck_assert_int_eq(ike_emit_finish(&e), 0);
	ck_assert_int_eq(ike_pld_parse(&dg, w.p, wr_len(&w)), 0);
	ck_assert_uint_eq(dg.cert[0].data.len, 500);
	wr_fini(&w);
}
END_TEST

START_TEST(name_tables)
{
	ck_assert_str_eq(ike_payload_name(IKE_PL_SA), "SA");
	ck_assert_str_eq(ike_payload_name(IKE_PL_SKF), "SKF");
	ck_assert_str_eq(ike_payload_name(49), "UNKNOWN");
	ck_assert_str_eq(ike_notify_name(IKE_N_INVALID_KE_PAYLOAD), "INVALID_KE_PAYLOAD");
	ck_assert_str_eq(ike_notify_name(16430), "IKEV2_FRAGMENTATION_SUPPORTED");
	ck_assert_str_eq(ike_notify_name(IKE_N_NULL_AUTH), "NULL_AUTH");
	ck_assert_str_eq(ike_notify_name(2), "UNKNOWN");
	ck_assert_str_eq(ike_xchg_name(34), "IKE_SA_INIT");
	ck_assert_str_eq(ike_xchg_name(IKE_XCHG_INFORMATIONAL), "INFORMATIONAL");
	ck_assert_str_eq(ike_xchg_name(0), "UNKNOWN");
	ck_assert_str_eq(ike_xf_id_name(IKE_XF_ENCR, 20), "AES_GCM_16");
	ck_assert_str_eq(ike_xf_id_name(IKE_XF_DH, 31), "CURVE25519");
	ck_assert_str_eq(ike_xf_id_name(IKE_XF_INTEG, 0), "NONE");
	ck_assert_str_eq(ike_xf_id_name(9, 0), "UNKNOWN");
	ck_assert_str_eq(ike_id_type_name(IKE_ID_NULL), "ID_NULL");
	ck_assert_int_eq(IKE_ID_NULL, 13);
	ck_assert_str_eq(ike_auth_method_name(14), "DIGITAL_SIGNATURE");
	ck_assert_int_eq(IKE_AUTH_NULL, 13);
	ck_assert_str_eq(ike_ts_type_name(8), "TS_IPV6_ADDR_RANGE");
	ck_assert_str_eq(ike_proto_name(3), "ESP");
	ck_assert_str_eq(ike_cert_enc_name(4), "X509_SIG");
	ck_assert_str_eq(ike_cp_type_name(1), "CFG_REQUEST");
	ck_assert_str_eq(ike_xf_type_name(4), "DH");
	ck_assert(IKE_N_IS_ERROR(IKE_N_TS_UNACCEPTABLE));
	ck_assert(!IKE_N_IS_ERROR(IKE_N_COOKIE));
	ck_assert(IKE_PL_BIT(IKE_PL_SA) == 2);
	ck_assert(IKE_PL_BIT(IKE_PL_NONE) == 0);
	ck_assert(IKE_PL_BIT(200) == 0);
}
END_TEST

/* IKE_DUMP_DIR=dir: write the vectors as fuzz seeds (no assertions beyond building). */
static void dump(const char *dir, const char *sub, const char *name, const uint8_t *p,
		 size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

START_TEST(dump_vectors)
{
	const char *dir = getenv("IKE_DUMP_DIR");
	if (!dir)
		return;
	static const char *const names[V_COUNT] = { "sa_init_r", "sa_init_i", "ike_auth_i",
						    "skf_1of3", "auth_inner", "ts_mixed" };
	uint8_t m[MAXMSG + 1], first;
	for (int i = 0; i < V_COUNT; i++) {
		size_t n = vector(i, m + 1, MAXMSG, &first);
		if (i == V_INNER) {
			m[0] = first;
			dump(dir, "ike_sk_inner", names[i], m, n + 1);
		} else if (i == V_TS) {
			dump(dir, "ts", names[i], m + 1, n);
		} else {
			dump(dir, "ike_msg", names[i], m + 1, n);
		}
	}
}
END_TEST

static Suite *ike_pld_suite(void)
{
	Suite *s = suite_create("ike_pld");
	TCase *tc = tcase_create("vectors");
	tcase_add_test(tc, hand_written_vector);
	tcase_add_test(tc, sa_init_request);
	tcase_add_test(tc, auth_sk_layout_and_inner);
	tcase_add_test(tc, skf_fragment);
	tcase_add_test(tc, dump_vectors);
	suite_add_tcase(s, tc);
	tc = tcase_create("sweeps");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, every_truncation, 0, V_COUNT);
	tcase_add_loop_test(tc, every_bitflip, 0, V_COUNT);
	suite_add_tcase(s, tc);
	tc = tcase_create("malformed");
	tcase_add_test(tc, bad_header);
	tcase_add_test(tc, bad_payload_lengths);
	tcase_add_test(tc, critical_unknown);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, proposal_limits);
	tcase_add_test(tc, bad_transforms);
	tcase_add_test(tc, bad_ts);
	tcase_add_test(tc, bad_bodies);
	tcase_add_test(tc, bad_sk);
	suite_add_tcase(s, tc);
	tc = tcase_create("roundtrip");
	tcase_add_test(tc, roundtrip_each_kind);
	tcase_add_test(tc, roundtrip_reemit);
	tcase_add_test(tc, emit_errors);
	tcase_add_test(tc, name_tables);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ike_pld_suite)
