/* proposal.c — ike=/esp= strings to proposal lists, strict responder selection, the
 * initiator's check of the answer, and log text (DESIGN.md 2.4, RFC 7296 §2.7, §3.3).
 *
 * The language is the one conf_check_proposals() (conf_keys.c) accepts — a comma list of
 * ENC[-INTEG][-PRF][-DH] (ike=) or ENC[-INTEG][-DH] (esp=) where each "-" group is a
 * "+" list of alternatives and the DH group may follow a ";" instead — plus Libreswan's
 * long names (hmac_sha2_512, hmac_sha2_256_128, ...) that its log lines print. Names
 * conf accepts but crypto.h does not implement (192-bit AES, MODP-4096 and above,
 * ECP-521, ChaCha20-Poly1305) are refused here with "not supported"; test_proposal
 * keeps the two parsers in step.
 *
 * Mapping (as Libreswan's ike_info.c / esp_info.c):
 *   ike=  one hash group:  AEAD: it is the PRF (aes_gcm256-sha2_512 = GCM16/256 +
 *                          PRF_HMAC_SHA2_512, no INTEG); otherwise INTEG and PRF both
 *                          come from it (aes256-sha2_256 = CBC/256 + HMAC_SHA2_256_128 +
 *                          PRF_HMAC_SHA2_256).
 *         two groups:      INTEG-PRF (AEAD: none-PRF).
 *         none given:      PRF sha2_512+sha2_256 (CBC: INTEG the same hashes); DH the
 *                          default groups.
 *   esp=  sha1 = HMAC_SHA1_96, sha2 = sha2_256 = HMAC_SHA2_256_128, sha2_384 =
 *         HMAC_SHA2_384_192, sha2_512 = HMAC_SHA2_512_256; CBC without INTEG gets
 *         sha2_512+sha2_256; a DH group means PFS; ESN YES+NO (proposals_set_esn).
 *   An encryption name without key size (aes, aes_gcm) is 256 then 128, two ENCR
 *   transforms in the same proposal (Libreswan emits every default key length).
 *
 * Selection: the responder's (our) preference wins, as in Libreswan: our proposals in
 * order, for each the peer's proposals in order; within a proposal each type takes our
 * first transform that the peer also offered. The KE group the peer already sent is
 * taken whenever an acceptable proposal contains it (saves a round trip); only when none
 * does is -EAGAIN returned with our preferred group of the best match. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proposal.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ALTS 16
#define PROP_MAX_LIST 4096
#define PROP_MAX_ONE 255

/* ---- names ---- */

enum hash { H_NONE, H_SHA1, H_SHA256, H_SHA384, H_SHA512 };

static const struct {
	uint16_t prf, integ;
} hash_ids[] = {
	[H_NONE] = { 0, IKE_INTEG_NONE },
	[H_SHA1] = { IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96 },
	[H_SHA256] = { IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128 },
	[H_SHA384] = { IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192 },
	[H_SHA512] = { IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256 },
};

static const struct {
	const char *name;
	enum hash h;
} hash_names[] = {
	{ "sha1", H_SHA1 }, { "sha", H_SHA1 }, { "sha2", H_SHA256 },
	{ "sha2_256", H_SHA256 }, { "sha2_384", H_SHA384 }, { "sha2_512", H_SHA512 },
	{ "sha256", H_SHA256 }, { "sha384", H_SHA384 }, { "sha512", H_SHA512 },
	/* Libreswan's long names (PRF and INTEG spellings) */
	{ "hmac_sha1", H_SHA1 }, { "hmac_sha1_96", H_SHA1 },
	{ "hmac_sha2_256", H_SHA256 }, { "hmac_sha2_256_128", H_SHA256 },
	{ "hmac_sha2_384", H_SHA384 }, { "hmac_sha2_384_192", H_SHA384 },
	{ "hmac_sha2_512", H_SHA512 }, { "hmac_sha2_512_256", H_SHA512 },
};

static const struct {
	const char *name;
	uint16_t dh;              /* 0: known but not supported by crypto.h */
} dh_names[] = {
	{ "modp2048", IKE_DH_MODP2048 }, { "dh14", IKE_DH_MODP2048 },
	{ "modp3072", IKE_DH_MODP3072 }, { "dh15", IKE_DH_MODP3072 },
	{ "dh19", IKE_DH_ECP256 }, { "ecp256", IKE_DH_ECP256 }, { "ecp_256", IKE_DH_ECP256 },
	{ "dh20", IKE_DH_ECP384 }, { "ecp384", IKE_DH_ECP384 }, { "ecp_384", IKE_DH_ECP384 },
	{ "dh31", IKE_DH_CURVE25519 }, { "x25519", IKE_DH_CURVE25519 },
	{ "curve25519", IKE_DH_CURVE25519 },
	{ "modp4096", 0 }, { "dh16", 0 }, { "modp6144", 0 }, { "dh17", 0 },
	{ "modp8192", 0 }, { "dh18", 0 }, { "dh21", 0 }, { "ecp521", 0 }, { "ecp_521", 0 },
};

static const struct {
	const char *prefix, *why;
} refused[] = {
	{ "aes_gcm_8", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_gcm8", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_gcm_12", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_gcm12", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_gcm_a", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_gcm_b", "only the 16-octet ICV of AES-GCM is supported" },
	{ "aes_ctr", "AES-CTR is not supported" }, { "aes_ccm", "AES-CCM is not supported" },
	{ "3des", "3DES is not supported" }, { "camellia", "Camellia is not supported" },
	{ "serpent", "Serpent is not supported" }, { "twofish", "Twofish is not supported" },
	{ "cast", "CAST is not supported" }, { "md5", "MD5 is not supported" },
	{ "aes_xcbc", "AES-XCBC is not supported" }, { "aes_cmac", "AES-CMAC is not supported" },
	{ "modp768", "too weak" }, { "modp1024", "too weak" }, { "modp1536", "too weak" },
};

static const char *const weak_dh[] = { "dh1", "dh2", "dh5", "dh22", "dh23", "dh24" };

enum kind { K_UNKNOWN, K_BAD, K_ENC, K_AEAD, K_HASH, K_NONE, K_DH };

/* One algorithm name, classified. */
struct alg {
	enum kind kind;
	uint16_t encr;
	uint16_t bits;            /* 0 = 256 then 128 */
	enum hash hash;
	uint16_t dh;
	const char *why;          /* K_BAD */
};

static bool enc_name(const char *n, struct alg *a)
{
	static const struct { const char *base; uint16_t encr; } bases[] = {
		{ "aes_gcm_16", IKE_ENCR_AES_GCM_16 }, { "aes_gcm16", IKE_ENCR_AES_GCM_16 },
		{ "aes_gcm_c", IKE_ENCR_AES_GCM_16 }, { "aes_gcm", IKE_ENCR_AES_GCM_16 },
		{ "aes_cbc", IKE_ENCR_AES_CBC }, { "aes", IKE_ENCR_AES_CBC },
	};
	static const struct { const char *s; uint16_t bits; } lens[] = {
		{ "", 0 }, { "128", 128 }, { "192", 192 }, { "256", 256 },
		{ "_128", 128 }, { "_192", 192 }, { "_256", 256 },
	};
	for (size_t i = 0; i < N_ELEMS(bases); i++) {
		size_t bl = strlen(bases[i].base);
		if (strncmp(n, bases[i].base, bl) != 0)
			continue;
		for (size_t j = 0; j < N_ELEMS(lens); j++) {
			if (strcmp(n + bl, lens[j].s) != 0)
				continue;
			a->encr = bases[i].encr;
			a->bits = lens[j].bits;
			a->kind = a->encr == IKE_ENCR_AES_GCM_16 ? K_AEAD : K_ENC;
			if (a->bits == 192) {
				a->kind = K_BAD;
				a->why = "192-bit AES keys are not supported by the crypto module";
			}
			return true;
		}
	}
	return false;
}

static void classify(const char *n, struct alg *a)
{
	memset(a, 0, sizeof(*a));
	if (enc_name(n, a))
		return;
	if (strcmp(n, "chacha20_poly1305") == 0 || strcmp(n, "chacha20poly1305") == 0) {
		a->kind = K_BAD;
		a->why = "ChaCha20-Poly1305 is not supported by the crypto module";
		return;
	}
	for (size_t i = 0; i < N_ELEMS(hash_names); i++)
		if (strcmp(n, hash_names[i].name) == 0) {
			a->kind = K_HASH;
			a->hash = hash_names[i].h;
			return;
		}
	if (strcmp(n, "none") == 0 || strcmp(n, "null") == 0) {
		a->kind = K_NONE;
		return;
	}
	for (size_t i = 0; i < N_ELEMS(dh_names); i++)
		if (strcmp(n, dh_names[i].name) == 0) {
			a->kind = dh_names[i].dh ? K_DH : K_BAD;
			a->dh = dh_names[i].dh;
			a->why = "this DH group is not supported by the crypto module";
			return;
		}
	for (size_t i = 0; i < N_ELEMS(weak_dh); i++)
		if (strcmp(n, weak_dh[i]) == 0) {
			a->kind = K_BAD;
			a->why = "too weak";
			return;
		}
	for (size_t i = 0; i < N_ELEMS(refused); i++)
		if (strncmp(n, refused[i].prefix, strlen(refused[i].prefix)) == 0) {
			a->kind = K_BAD;
			a->why = refused[i].why;
			return;
		}
	a->kind = K_UNKNOWN;
}

/* ---- parsing ---- */

/* A "-" group: its kind and its alternatives. */
struct group {
	enum kind kind;
	unsigned n;
	struct alg alg[MAX_ALTS];
};

/* One proposal as written, before expansion. */
struct parsed {
	struct group enc;
	unsigned n_hash;
	struct group hash[2];
	bool have_dh;
	struct group dh;          /* kind K_NONE: explicit no-PFS */
};

static int fail(struct proposals *out, const char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct proposals *out, const char **why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
	if (why)
		*why = out->err;
	return -EINVAL;
}

/* Lower-cased group text g; dh_pos: after ';' (so "none" means no DH). */
static int parse_group(char *g, bool dh_pos, const char *prop, struct group *grp,
		       struct proposals *out, const char **why)
{
	size_t gl = strlen(g);
	char *save = NULL, *n;
	memset(grp, 0, sizeof(*grp));
	if (gl == 0 || g[0] == '+' || g[gl - 1] == '+' || strstr(g, "++"))
		return fail(out, why, "empty algorithm name in proposal '%s'", prop);
	for (n = strtok_r(g, "+", &save); n; n = strtok_r(NULL, "+", &save)) {
		struct alg a;
		classify(n, &a);
		if (a.kind == K_BAD) {
			return fail(out, why, "algorithm '%s' in proposal '%s' is not supported (%s)",
				    n, prop, a.why);
		}
		if (a.kind == K_UNKNOWN)
			return fail(out, why, "unknown algorithm '%s' in proposal '%s'", n, prop);
		if (grp->n == 0)
			grp->kind = a.kind;
		else if (a.kind != grp->kind)
			return fail(out, why, "'%s' cannot be an alternative to the algorithms "
				    "before it in proposal '%s'", n, prop);
		if (grp->n == MAX_ALTS)
			return fail(out, why, "too many alternatives in proposal '%s'", prop);
		grp->alg[grp->n++] = a;
	}
	(void)dh_pos;
	return 0;
}

static int check_combination(uint8_t proto, const struct parsed *p, const char *prop,
			     struct proposals *out, const char **why)
{
	bool esp = proto == IKE_PROTO_ESP;
	const struct group *h = p->hash;
	if (esp && p->enc.kind == K_AEAD && p->n_hash == 1 && h[0].kind != K_NONE)
		return fail(out, why, "AEAD encryption takes no integrity algorithm in esp=, "
			    "proposal '%s' (drop it or write -none)", prop);
	if (p->enc.kind == K_ENC && p->n_hash >= 1 && h[0].kind == K_NONE)
		return fail(out, why, "non-AEAD encryption needs an integrity algorithm, "
			    "proposal '%s'", prop);
	if (!esp && p->n_hash == 2 && h[1].kind == K_NONE)
		return fail(out, why, "the PRF cannot be none, proposal '%s'", prop);
	if (!esp && p->enc.kind == K_AEAD && p->n_hash == 2 && h[0].kind != K_NONE)
		return fail(out, why, "AEAD encryption takes no integrity algorithm "
			    "(ENC-none-PRF), proposal '%s'", prop);
	if (p->have_dh && p->dh.kind == K_NONE && !esp)
		return fail(out, why, "'none' as DH group is only valid in esp= (no PFS), "
			    "proposal '%s'", prop);
	return 0;
}

/* Split one proposal (already trimmed, at most PROP_MAX_ONE bytes) into groups. */
static int parse_one(uint8_t proto, char *p, struct parsed *out_p, struct proposals *out,
		     const char **why)
{
	bool esp = proto == IKE_PROTO_ESP;
	char prop[PROP_MAX_ONE + 1], *semi, *save = NULL, *g;
	size_t pl = strlen(p), n_groups = 0;
	int r;
	memset(out_p, 0, sizeof(*out_p));
	if (pl && p[pl - 1] == '!')
		p[--pl] = 0;
	snprintf(prop, sizeof(prop), "%s", p);
	if (pl == 0)
		return fail(out, why, "empty proposal");
	for (char *c = p; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	semi = strchr(p, ';');
	if (semi) {
		*semi++ = 0;
		if (strchr(semi, ';'))
			return fail(out, why, "more than one ';' in proposal '%s'", prop);
	}
	if (!*p || p[0] == '-' || p[strlen(p) - 1] == '-' || strstr(p, "--"))
		return fail(out, why, "empty algorithm group in proposal '%s'", prop);
	for (g = strtok_r(p, "-", &save); g; g = strtok_r(NULL, "-", &save), n_groups++) {
		struct group grp;
		if (out_p->have_dh)
			return fail(out, why, "nothing may follow the DH group in proposal '%s'",
				    prop);
		if ((r = parse_group(g, false, prop, &grp, out, why)) < 0)
			return r;
		if (n_groups == 0) {
			if (grp.kind != K_ENC && grp.kind != K_AEAD)
				return fail(out, why, "proposal '%s' must start with an encryption "
					    "algorithm", prop);
			out_p->enc = grp;
		} else if (grp.kind == K_HASH || grp.kind == K_NONE) {
			if (out_p->n_hash == (esp ? 1u : 2u))
				return fail(out, why, "too many integrity/PRF groups in proposal "
					    "'%s'%s", prop, esp ? " (esp= takes ENC-INTEG-DH)" : "");
			out_p->hash[out_p->n_hash++] = grp;
		} else if (grp.kind == K_DH) {
			out_p->have_dh = true;
			out_p->dh = grp;
		} else {
			return fail(out, why, "misplaced algorithm in proposal '%s'", prop);
		}
	}
	if (semi) {
		if (out_p->have_dh)
			return fail(out, why, "two DH groups in proposal '%s'", prop);
		if ((r = parse_group(semi, true, prop, &out_p->dh, out, why)) < 0)
			return r;
		if (out_p->dh.kind != K_DH && out_p->dh.kind != K_NONE)
			return fail(out, why, "only DH groups may follow ';' in proposal '%s'",
				    prop);
		out_p->have_dh = true;
	}
	return check_combination(proto, out_p, prop, out, why);
}

static const enum hash default_hashes[] = { H_SHA512, H_SHA256 };
static const uint16_t default_dh[] = {
	IKE_DH_CURVE25519, IKE_DH_ECP256, IKE_DH_ECP384, IKE_DH_MODP2048, IKE_DH_MODP3072,
};

/* Append a transform unless the proposal already has it (duplicates like "sha2+sha256"). */
static int add_xf(struct ike_proposal *pr, uint8_t type, uint16_t id, uint16_t key_len)
{
	for (unsigned i = 0; i < pr->n_xf; i++)
		if (pr->xf[i].type == type && pr->xf[i].id == id && pr->xf[i].key_len == key_len)
			return 0;
	if (pr->n_xf == IKE_MAX_TRANSFORMS)
		return -E2BIG;
	pr->xf[pr->n_xf++] = (struct ike_transform){ .type = type, .id = id,
						     .key_len = key_len };
	return 0;
}

static int add_hashes(struct ike_proposal *pr, uint8_t type, const struct group *g)
{
	int r = 0;
	if (!g) {
		for (size_t i = 0; i < N_ELEMS(default_hashes) && !r; i++)
			r = add_xf(pr, type, type == IKE_XF_PRF ? hash_ids[default_hashes[i]].prf
				   : hash_ids[default_hashes[i]].integ, 0);
		return r;
	}
	for (unsigned i = 0; i < g->n && !r; i++)
		r = add_xf(pr, type, type == IKE_XF_PRF ? hash_ids[g->alg[i].hash].prf
			   : hash_ids[g->alg[i].hash].integ, 0);
	return r;
}

/* Expand one parsed proposal into transforms (order: ENCR, PRF, INTEG, DH, ESN). */
static int expand(uint8_t proto, const struct parsed *p, struct ike_proposal *pr)
{
	bool esp = proto == IKE_PROTO_ESP, aead = p->enc.kind == K_AEAD;
	const struct group *integ = NULL, *prf = NULL;
	int r = 0;
	memset(pr, 0, sizeof(*pr));
	pr->proto = proto;
	for (unsigned i = 0; i < p->enc.n && !r; i++) {
		const struct alg *a = &p->enc.alg[i];
		if (a->bits) {
			r = add_xf(pr, IKE_XF_ENCR, a->encr, a->bits);
		} else {
			r = add_xf(pr, IKE_XF_ENCR, a->encr, 256);
			if (!r)
				r = add_xf(pr, IKE_XF_ENCR, a->encr, 128);
		}
	}
	if (esp) {
		integ = p->n_hash ? &p->hash[0] : NULL;
	} else if (p->n_hash == 2) {
		integ = &p->hash[0];
		prf = &p->hash[1];
	} else if (p->n_hash == 1) {
		if (aead && p->hash[0].kind == K_NONE)
			integ = &p->hash[0];
		else if (aead)
			prf = &p->hash[0];
		else
			integ = prf = &p->hash[0];
	} else if (!aead) {
		integ = NULL;   /* defaults below, same hashes as the PRF */
	}
	if (!esp && !r)
		r = add_hashes(pr, IKE_XF_PRF, prf);
	if (!aead && !r)
		r = add_hashes(pr, IKE_XF_INTEG, integ);
	/* AEAD: no INTEG transform at all (RFC 7296 §3.3: omitted) */
	if (p->have_dh && p->dh.kind == K_DH) {
		for (unsigned i = 0; i < p->dh.n && !r; i++)
			r = add_xf(pr, IKE_XF_DH, p->dh.alg[i].dh, 0);
	} else if (!esp) {
		for (size_t i = 0; i < N_ELEMS(default_dh) && !r; i++)
			r = add_xf(pr, IKE_XF_DH, default_dh[i], 0);
	}
	if (esp && !r)
		r = add_xf(pr, IKE_XF_ESN, IKE_ESN_YES, 0);
	if (esp && !r)
		r = add_xf(pr, IKE_XF_ESN, IKE_ESN_NO, 0);
	return r;
}

static const char default_spec[] = "aes_gcm_16_256,aes_gcm_16_128,aes_cbc_256,aes_cbc_128";

int proposals_parse(uint8_t proto, const char *spec, struct proposals *out, const char **why)
{
	const char *p;
	int r;
	memset(out, 0, sizeof(*out));
	out->proto = proto;
	if (proto != IKE_PROTO_IKE && proto != IKE_PROTO_ESP)
		return fail(out, why, "proposals are for IKE or ESP only");
	if (!spec)
		spec = default_spec;
	if (strlen(spec) > PROP_MAX_LIST)
		return fail(out, why, "proposal list longer than 4096 bytes");
	if (!*spec)
		return fail(out, why, "empty proposal list");
	for (p = spec;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char buf[PROP_MAX_ONE + 1];
		struct parsed parsed;
		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > PROP_MAX_ONE)
			return fail(out, why, "proposal longer than 255 bytes");
		memcpy(buf, p, n);
		buf[n] = 0;
		if ((r = parse_one(proto, buf, &parsed, out, why)) < 0)
			return r;
		if (out->sa.n_prop == IKE_MAX_PROPOSALS)
			return fail(out, why, "more than 16 proposals");
		if (expand(proto, &parsed, &out->sa.prop[out->sa.n_prop]) < 0)
			return fail(out, why, "too many transforms in one proposal (at most 32)");
		out->sa.prop[out->sa.n_prop].num = out->sa.n_prop + 1;
		out->sa.n_prop++;
		if (!e)
			break;
		p = e + 1;
	}
	out->err[0] = 0;
	return 0;
}

void proposals_set_esn(struct proposals *p, bool esn)
{
	if (p->proto != IKE_PROTO_ESP)
		return;
	for (unsigned i = 0; i < p->sa.n_prop; i++) {
		struct ike_proposal *pr = &p->sa.prop[i];
		unsigned k = 0;
		for (unsigned j = 0; j < pr->n_xf; j++)
			if (pr->xf[j].type != IKE_XF_ESN)
				pr->xf[k++] = pr->xf[j];
		pr->n_xf = k;
		if (esn)
			(void)add_xf(pr, IKE_XF_ESN, IKE_ESN_YES, 0);
		(void)add_xf(pr, IKE_XF_ESN, IKE_ESN_NO, 0);
	}
}

void proposals_strip_dh(struct proposals *p)
{
	for (unsigned i = 0; i < p->sa.n_prop; i++) {
		struct ike_proposal *pr = &p->sa.prop[i];
		unsigned k = 0;
		for (unsigned j = 0; j < pr->n_xf; j++)
			if (pr->xf[j].type != IKE_XF_DH)
				pr->xf[k++] = pr->xf[j];
		pr->n_xf = k;
	}
}

int proposals_add_dh(struct proposals *p, uint16_t dh)
{
	for (unsigned i = 0; i < p->sa.n_prop; i++) {
		struct ike_proposal *pr = &p->sa.prop[i];
		bool has = false;
		for (unsigned j = 0; j < pr->n_xf; j++)
			has |= pr->xf[j].type == IKE_XF_DH;
		if (has)
			continue;
		if (pr->n_xf == IKE_MAX_TRANSFORMS)
			return -E2BIG;
		/* keep the type order: insert before ESN */
		unsigned at = pr->n_xf;
		while (at > 0 && pr->xf[at - 1].type == IKE_XF_ESN)
			at--;
		memmove(&pr->xf[at + 1], &pr->xf[at], (pr->n_xf - at) * sizeof(pr->xf[0]));
		pr->xf[at] = (struct ike_transform){ .type = IKE_XF_DH, .id = dh };
		pr->n_xf++;
	}
	return 0;
}

uint16_t proposals_first_dh(const struct proposals *p)
{
	for (unsigned i = 0; i < p->sa.n_prop; i++)
		for (unsigned j = 0; j < p->sa.prop[i].n_xf; j++)
			if (p->sa.prop[i].xf[j].type == IKE_XF_DH && p->sa.prop[i].xf[j].id)
				return p->sa.prop[i].xf[j].id;
	return 0;
}

bool proposals_has_dh(const struct proposals *p, uint16_t dh)
{
	for (unsigned i = 0; i < p->sa.n_prop; i++)
		for (unsigned j = 0; j < p->sa.prop[i].n_xf; j++)
			if (p->sa.prop[i].xf[j].type == IKE_XF_DH && p->sa.prop[i].xf[j].id == dh)
				return true;
	return false;
}

/* ---- selection ---- */

static bool spi_size_ok(uint8_t proto, uint8_t spi_size)
{
	return proto == IKE_PROTO_IKE ? spi_size == 0 || spi_size == 8 : spi_size == 4;
}

static bool offers(const struct ike_proposal *pr, uint8_t type, uint16_t id, uint16_t key_len)
{
	for (unsigned i = 0; i < pr->n_xf; i++)
		if (pr->xf[i].type == type && pr->xf[i].id == id && pr->xf[i].key_len == key_len)
			return true;
	return false;
}

static unsigned count_type(const struct ike_proposal *pr, uint8_t type)
{
	unsigned n = 0;
	for (unsigned i = 0; i < pr->n_xf; i++)
		n += pr->xf[i].type == type;
	return n;
}

static void set_suite(struct suite *s, const struct ike_transform *x)
{
	switch (x->type) {
	case IKE_XF_ENCR:
		s->encr = x->id;
		s->encr_bits = x->key_len;
		break;
	case IKE_XF_PRF:   s->prf = x->id; break;
	case IKE_XF_INTEG: s->integ = x->id; break;
	case IKE_XF_DH:    s->dh = x->id; break;
	case IKE_XF_ESN:   s->esn = x->id == IKE_ESN_YES; break;
	}
}

enum match { M_NO, M_YES, M_KE };

/* Our proposal o against the peer's t. M_YES with *s; M_KE: everything matches but the
 * KE group (then s->dh is our preferred common group). */
static enum match match(const struct ike_proposal *o, const struct ike_proposal *t,
			uint8_t proto, uint16_t ke, struct suite *s)
{
	bool ke_ok = true;
	memset(s, 0, sizeof(*s));
	if (t->proto != proto || !spi_size_ok(proto, t->spi_size))
		return M_NO;
	for (unsigned i = 0; i < t->n_xf; i++)
		if (t->xf[i].unknown_attr || t->xf[i].type < IKE_XF_ENCR ||
		    t->xf[i].type > IKE_XF_ESN)
			return M_NO;   /* RFC 7296 §3.3.6: reject the proposal */
	for (uint8_t type = IKE_XF_ENCR; type <= IKE_XF_ESN; type++) {
		const struct ike_transform *pick = NULL;
		if (count_type(o, type) == 0) {
			/* we have none of this type: only an explicit NONE (INTEG, or DH in
			 * ESP) or nothing is acceptable */
			if (count_type(t, type) == 0)
				continue;
			if ((type == IKE_XF_INTEG || (type == IKE_XF_DH && proto == IKE_PROTO_ESP)) &&
			    offers(t, type, 0, 0) && !(type == IKE_XF_DH && ke))
				continue;
			return M_NO;
		}
		if (type == IKE_XF_DH && ke)
			for (unsigned i = 0; i < o->n_xf && !pick; i++)
				if (o->xf[i].type == type && o->xf[i].id == ke && offers(t, type, ke, 0))
					pick = &o->xf[i];
		for (unsigned i = 0; i < o->n_xf && !pick; i++)
			if (o->xf[i].type == type && offers(t, type, o->xf[i].id, o->xf[i].key_len))
				pick = &o->xf[i];
		if (!pick)
			return M_NO;
		if (type == IKE_XF_DH && ke && pick->id != ke)
			ke_ok = false;
		if (type == IKE_XF_DH && !ke && proto == IKE_PROTO_ESP)
			return M_NO;   /* PFS configured but no KE payload */
		set_suite(s, pick);
	}
	return ke_ok ? M_YES : M_KE;
}

int proposals_select(const struct proposals *ours, const struct ike_sa_pld *offer,
		     uint16_t ke_group, struct suite *chosen, uint8_t *num, uint16_t *want_dh)
{
	bool have_ke = false;
	uint16_t ke_want = 0;
	for (unsigned j = 0; j < ours->sa.n_prop; j++)
		for (unsigned i = 0; i < offer->n_prop && i < IKE_MAX_PROPOSALS; i++) {
			struct suite s;
			enum match m = match(&ours->sa.prop[j], &offer->prop[i], ours->proto,
					     ke_group, &s);
			if (m == M_YES) {
				*chosen = s;
				*num = offer->prop[i].num;
				return 0;
			}
			if (m == M_KE && !have_ke) {
				have_ke = true;
				ke_want = s.dh;
			}
		}
	if (have_ke) {
		if (want_dh)
			*want_dh = ke_want;
		return -EAGAIN;
	}
	return -ENOENT;
}

int proposals_accept(const struct proposals *ours, const struct ike_sa_pld *answer,
		     struct suite *chosen)
{
	const struct ike_proposal *a;
	if (answer->n_prop != 1)
		return -EINVAL;
	a = &answer->prop[0];
	if (a->proto != ours->proto || !spi_size_ok(ours->proto, a->spi_size))
		return -EINVAL;
	for (uint8_t type = IKE_XF_ENCR; type <= IKE_XF_ESN; type++)
		if (count_type(a, type) > 1)
			return -EINVAL;
	for (unsigned j = 0; j < ours->sa.n_prop; j++) {
		const struct ike_proposal *o = &ours->sa.prop[j];
		struct suite s;
		uint16_t ke = 0;
		if (o->num != a->num)
			continue;
		/* a single-transform answer matches iff selecting from it succeeds; the KE
		 * group is not checked here (the caller compares s.dh with what it sent) */
		for (unsigned i = 0; i < a->n_xf; i++)
			if (a->xf[i].type == IKE_XF_DH && a->xf[i].id)
				ke = a->xf[i].id;
		if (match(o, a, ours->proto, ke, &s) != M_YES)
			continue;
		/* every type we offered must be answered */
		for (uint8_t type = IKE_XF_ENCR; type <= IKE_XF_ESN; type++)
			if (count_type(o, type) && !count_type(a, type))
				return -EINVAL;
		*chosen = s;
		return 0;
	}
	return -EINVAL;
}

void proposals_answer(const struct suite *c, uint8_t proto, uint8_t num,
		      struct ike_sa_pld *out)
{
	struct ike_proposal *pr = &out->prop[0];
	memset(out, 0, sizeof(*out));
	out->n_prop = 1;
	pr->num = num;
	pr->proto = proto;
	pr->spi_size = proto == IKE_PROTO_ESP ? 4 : 0;
	(void)add_xf(pr, IKE_XF_ENCR, c->encr, c->encr_bits);
	if (proto == IKE_PROTO_IKE)
		(void)add_xf(pr, IKE_XF_PRF, c->prf, 0);
	if (c->integ)
		(void)add_xf(pr, IKE_XF_INTEG, c->integ, 0);
	if (c->dh)
		(void)add_xf(pr, IKE_XF_DH, c->dh, 0);
	if (proto == IKE_PROTO_ESP)
		(void)add_xf(pr, IKE_XF_ESN, c->esn ? IKE_ESN_YES : IKE_ESN_NO, 0);
}

/* ---- text ---- */

struct sbuf {
	char *p;
	size_t n, len;
};

static void put(struct sbuf *b, const char *s)
{
	size_t l = strlen(s);
	if (b->n == 0)
		return;
	if (b->len + 1 < b->n) {
		size_t c = l < b->n - 1 - b->len ? l : b->n - 1 - b->len;
		memcpy(b->p + b->len, s, c);
		b->len += c;
		b->p[b->len] = 0;
	}
}

static void put_xf(struct sbuf *b, const struct ike_transform *x)
{
	char tmp[48];
	const char *n = ike_xf_id_name(x->type, x->id);
	if (strcmp(n, "UNKNOWN") == 0 || strchr(n, '?')) {
		snprintf(tmp, sizeof(tmp), "%s_%u", ike_xf_type_name(x->type), x->id);
		n = tmp;
	} else if (x->type == IKE_XF_PRF) {
		snprintf(tmp, sizeof(tmp), "PRF_%s", n);
		n = tmp;
	} else if (x->type == IKE_XF_ESN) {
		snprintf(tmp, sizeof(tmp), "ESN_%s", n);
		n = tmp;
	}
	if (x->key_len) {
		char k[64];
		snprintf(k, sizeof(k), "%s_%u", n, x->key_len);
		put(b, k);
	} else {
		put(b, n);
	}
	if (x->unknown_attr)
		put(b, "(attr?)");
}

static void put_prop(struct sbuf *b, const struct ike_proposal *pr)
{
	bool first_group = true;
	if (pr->n_xf == 0)
		put(b, "(empty)");
	for (unsigned type = 0; type <= 255; type++) {
		bool first = true;
		for (unsigned i = 0; i < pr->n_xf; i++) {
			if (pr->xf[i].type != type)
				continue;
			if (first && !first_group)
				put(b, "-");
			if (!first)
				put(b, "+");
			put_xf(b, &pr->xf[i]);
			first = first_group = false;
		}
	}
}

const char *proposals_str(const struct ike_sa_pld *sa, uint8_t proto, char *buf, size_t n)
{
	struct sbuf b = { buf, n, 0 };
	if (n)
		buf[0] = 0;
	for (unsigned i = 0; i < sa->n_prop && i < IKE_MAX_PROPOSALS; i++) {
		if (i)
			put(&b, ", ");
		if (sa->prop[i].proto != proto) {
			put(&b, ike_proto_name(sa->prop[i].proto));
			put(&b, ":");
		}
		put_prop(&b, &sa->prop[i]);
	}
	if (sa->n_prop == 0)
		put(&b, "(none)");
	return buf;
}

const char *suite_str(const struct suite *s, uint8_t proto, char *buf, size_t n)
{
	struct ike_sa_pld sa;
	proposals_answer(s, proto, 1, &sa);
	return proposals_str(&sa, proto, buf, n);
}
