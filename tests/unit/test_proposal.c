/* test_proposal.c — ike=/esp= parsing and expansion, strict selection, INVALID_KE, the
 * initiator's check of the answer, log text, emit/parse round trip, and agreement with
 * conf_check_proposals(). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "ike_emit.h"
#include "ike_pld.h"
#include "proposal.h"
#include "unit.h"
#include "wr.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* "E20/256 P7 P5 D31" style compact form of one proposal for assertions. */
static const char *compact(const struct ike_proposal *pr, char *buf, size_t n)
{
	static const char tc[] = "?EPIDN";
	size_t l = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < pr->n_xf; i++) {
		const struct ike_transform *x = &pr->xf[i];
		if (x->key_len)
			l += (size_t)snprintf(buf + l, n - l, "%s%c%u/%u", i ? " " : "",
					      tc[x->type <= 5 ? x->type : 0], x->id, x->key_len);
		else
			l += (size_t)snprintf(buf + l, n - l, "%s%c%u", i ? " " : "",
					      tc[x->type <= 5 ? x->type : 0], x->id);
	}
	return buf;
}

static void parse_ok(uint8_t proto, const char *spec, struct proposals *p)
{
	const char *why = NULL;
	int r = proposals_parse(proto, spec, p, &why);
	ck_assert_msg(r == 0, "'%s' refused: %s", spec ? spec : "(default)", why ? why : "?");
}

static void expect(const struct proposals *p, unsigned i, const char *want)
{
	char buf[512];
	ck_assert_uint_lt(i, p->sa.n_prop);
	ck_assert_str_eq(compact(&p->sa.prop[i], buf, sizeof(buf)), want);
}

#define DH_DEF "D31 D19 D20 D14 D15"

START_TEST(defaults_ike)
{
	struct proposals p;
	parse_ok(IKE_PROTO_IKE, NULL, &p);
	ck_assert_uint_eq(p.proto, IKE_PROTO_IKE);
	ck_assert_uint_eq(p.sa.n_prop, 4);
	expect(&p, 0, "E20/256 P7 P5 " DH_DEF);
	expect(&p, 1, "E20/128 P7 P5 " DH_DEF);
	expect(&p, 2, "E12/256 P7 P5 I14 I12 " DH_DEF);
	expect(&p, 3, "E12/128 P7 P5 I14 I12 " DH_DEF);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(p.sa.prop[i].num, i + 1);
		ck_assert_uint_eq(p.sa.prop[i].proto, IKE_PROTO_IKE);
		ck_assert_uint_eq(p.sa.prop[i].spi_size, 0);
	}
	ck_assert_uint_eq(proposals_first_dh(&p), IKE_DH_CURVE25519);
	ck_assert(proposals_has_dh(&p, IKE_DH_MODP3072));
	ck_assert(!proposals_has_dh(&p, IKE_DH_MODP4096));
}
END_TEST

START_TEST(defaults_esp)
{
	struct proposals p;
	parse_ok(IKE_PROTO_ESP, NULL, &p);
	ck_assert_uint_eq(p.sa.n_prop, 4);
	expect(&p, 0, "E20/256 N1 N0");
	expect(&p, 1, "E20/128 N1 N0");
	expect(&p, 2, "E12/256 I14 I12 N1 N0");
	expect(&p, 3, "E12/128 I14 I12 N1 N0");
	ck_assert_uint_eq(proposals_first_dh(&p), 0);
	proposals_set_esn(&p, false);
	expect(&p, 0, "E20/256 N0");
	proposals_set_esn(&p, true);
	expect(&p, 2, "E12/256 I14 I12 N1 N0");
	ck_assert_int_eq(proposals_add_dh(&p, IKE_DH_ECP256), 0);
	expect(&p, 2, "E12/256 I14 I12 D19 N1 N0");
	proposals_strip_dh(&p);
	expect(&p, 2, "E12/256 I14 I12 N1 N0");
}
END_TEST

START_TEST(mapping)
{
	struct proposals p;
	/* IKE AEAD: the second element is the PRF */
	parse_ok(IKE_PROTO_IKE, "aes_gcm256-sha2_512;dh19", &p);
	expect(&p, 0, "E20/256 P7 D19");
	/* IKE CBC: INTEG and PRF from the same hash */
	parse_ok(IKE_PROTO_IKE, "aes256-sha2_256", &p);
	expect(&p, 0, "E12/256 P5 I12 " DH_DEF);
	parse_ok(IKE_PROTO_IKE, "aes256-sha2;modp2048", &p);
	expect(&p, 0, "E12/256 P5 I12 D14");
	/* ENC-INTEG-PRF-DH and ENC-none-PRF */
	parse_ok(IKE_PROTO_IKE, "aes128-sha1-sha2_384-dh20", &p);
	expect(&p, 0, "E12/128 P6 I2 D20");
	parse_ok(IKE_PROTO_IKE, "aes_gcm_16_128-none-sha2_256-x25519+ecp_384", &p);
	expect(&p, 0, "E20/128 P5 D31 D20");
	/* no key size: 256 then 128 in one proposal */
	parse_ok(IKE_PROTO_IKE, "aes_gcm", &p);
	expect(&p, 0, "E20/256 E20/128 P7 P5 " DH_DEF);
	parse_ok(IKE_PROTO_IKE, "AES-SHA2_512+SHA2_256", &p);
	expect(&p, 0, "E12/256 E12/128 P7 P5 I14 I12 " DH_DEF);
	/* ESP */
	parse_ok(IKE_PROTO_ESP, "aes_gcm_16_256-null", &p);
	expect(&p, 0, "E20/256 N1 N0");
	parse_ok(IKE_PROTO_ESP, "aes256-sha2", &p);
	expect(&p, 0, "E12/256 I12 N1 N0");
	parse_ok(IKE_PROTO_ESP, "aes128-sha2_512+sha1", &p);
	expect(&p, 0, "E12/128 I14 I2 N1 N0");
	parse_ok(IKE_PROTO_ESP, "aes_gcm128-none;modp3072", &p);
	expect(&p, 0, "E20/128 D15 N1 N0");
	parse_ok(IKE_PROTO_ESP, "aes256-sha2_384-dh19", &p);
	expect(&p, 0, "E12/256 I13 D19 N1 N0");
	parse_ok(IKE_PROTO_ESP, "aes256-sha2;none", &p);
	expect(&p, 0, "E12/256 I12 N1 N0");
	/* lists, spaces, the old strict marker */
	parse_ok(IKE_PROTO_IKE, " aes_gcm256-sha2_512 , aes256-sha2!", &p);
	ck_assert_uint_eq(p.sa.n_prop, 2);
	ck_assert_uint_eq(p.sa.prop[1].num, 2);
	/* duplicates collapse */
	parse_ok(IKE_PROTO_ESP, "aes256-sha2+sha2_256+sha256", &p);
	expect(&p, 0, "E12/256 I12 N1 N0");
}
END_TEST

/* Libreswan's proposal strings (libreswan-oe.md §5.1, in the config form and in the
 * expanded form its logs print) and the algparse examples. */
START_TEST(libreswan_samples)
{
	static const char *const ike_ok[] = {
		"AES_GCM_16_256-HMAC_SHA2_512+HMAC_SHA2_256-MODP2048+MODP3072+DH19+DH20+DH31",
		"AES_GCM_16_128-HMAC_SHA2_512+HMAC_SHA2_256-MODP2048",
		"AES_CBC_256-HMAC_SHA2_512+HMAC_SHA2_256-DH19",
		"AES_CBC_128-HMAC_SHA2_512_256+HMAC_SHA2_256_128-HMAC_SHA2_512+HMAC_SHA2_256-DH31",
		"aes_gcm256-sha2_512;dh19", "aes256-sha2;modp2048", "aes-sha1;modp2048",
		"aes_gcm_c-sha2", "aes256-sha2_512-modp3072", "aes_gcm-sha2_512+sha2_256;dh19+dh31",
	};
	static const char *const esp_ok[] = {
		"AES_GCM_16_256-NONE", "AES_GCM_16_128-NONE",
		"AES_CBC_256-HMAC_SHA2_512_256+HMAC_SHA2_256_128",
		"AES_CBC_128-HMAC_SHA2_512_256+HMAC_SHA2_256_128",
		"aes_gcm_16_256-null", "aes_gcm256", "aes256-sha2", "aes-sha1", "aes_gcm-none",
	};
	/* the v4.x default list names groups meshd's crypto does not implement */
	static const char v4[] =
		"AES_GCM_16_256-HMAC_SHA2_512+HMAC_SHA2_256-MODP2048+MODP3072+MODP4096+MODP8192+"
		"DH19+DH20+DH21+DH31";
	struct proposals p;
	const char *why = NULL;
	for (size_t i = 0; i < N_ELEMS(ike_ok); i++)
		parse_ok(IKE_PROTO_IKE, ike_ok[i], &p);
	for (size_t i = 0; i < N_ELEMS(esp_ok); i++)
		parse_ok(IKE_PROTO_ESP, esp_ok[i], &p);
	parse_ok(IKE_PROTO_IKE, ike_ok[0], &p);
	expect(&p, 0, "E20/256 P7 P5 D14 D15 D19 D20 D31");
	parse_ok(IKE_PROTO_IKE, ike_ok[3], &p);
	expect(&p, 0, "E12/128 P7 P5 I14 I12 D31");
	parse_ok(IKE_PROTO_ESP, esp_ok[2], &p);
	expect(&p, 0, "E12/256 I14 I12 N1 N0");
	ck_assert_int_eq(proposals_parse(IKE_PROTO_IKE, v4, &p, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "modp4096"));
	ck_assert_ptr_nonnull(strstr(why, "not supported"));
}
END_TEST

START_TEST(errors)
{
	static const struct { uint8_t proto; const char *s, *why; } cases[] = {
		{ IKE_PROTO_IKE, "", "empty proposal list" },
		{ IKE_PROTO_IKE, "aes256-sha2,", "empty proposal" },
		{ IKE_PROTO_IKE, "aes256--sha2", "empty algorithm group" },
		{ IKE_PROTO_IKE, "aes256-sha2+", "empty algorithm name" },
		{ IKE_PROTO_IKE, "blowfish-sha2", "unknown algorithm 'blowfish'" },
		{ IKE_PROTO_IKE, "3des-sha1", "3DES is not supported" },
		{ IKE_PROTO_IKE, "aes256-md5", "MD5 is not supported" },
		{ IKE_PROTO_IKE, "aes256-sha2;modp1024", "too weak" },
		{ IKE_PROTO_IKE, "aes256-sha2;dh5", "too weak" },
		{ IKE_PROTO_IKE, "aes192-sha2", "192-bit" },
		{ IKE_PROTO_IKE, "aes_gcm_8_256-sha2", "16-octet ICV" },
		{ IKE_PROTO_IKE, "chacha20_poly1305-sha2", "ChaCha20-Poly1305 is not supported" },
		{ IKE_PROTO_IKE, "aes256-sha2;dh21", "DH group is not supported" },
		{ IKE_PROTO_IKE, "sha2-aes256", "must start with an encryption algorithm" },
		{ IKE_PROTO_IKE, "aes256-sha2-sha2-sha2", "too many integrity/PRF groups" },
		{ IKE_PROTO_ESP, "aes256-sha2-sha2", "esp= takes ENC-INTEG-DH" },
		{ IKE_PROTO_IKE, "aes256-sha2;dh19;dh20", "more than one ';'" },
		{ IKE_PROTO_IKE, "aes256-sha2-dh19;dh20", "two DH groups" },
		{ IKE_PROTO_IKE, "aes256-dh19-sha2", "nothing may follow the DH group" },
		{ IKE_PROTO_IKE, "aes256-sha2;sha1", "only DH groups may follow ';'" },
		{ IKE_PROTO_IKE, "aes256-sha2;none", "only valid in esp=" },
		{ IKE_PROTO_IKE, "aes256+aes_gcm-sha2", "cannot be an alternative" },
		{ IKE_PROTO_ESP, "aes_gcm256-sha2", "AEAD encryption takes no integrity" },
		{ IKE_PROTO_IKE, "aes_gcm256-sha2-sha2", "AEAD encryption takes no integrity" },
		{ IKE_PROTO_IKE, "aes256-none", "non-AEAD encryption needs an integrity" },
		{ IKE_PROTO_IKE, "aes256-sha2-none", "the PRF cannot be none" },
		{ IKE_PROTO_IKE, "aes256-sha2+dh19", "cannot be an alternative" },
		{ IKE_PROTO_IKE, "aes256,aes256,aes256,aes256,aes256,aes256,aes256,aes256,aes256,"
				 "aes256,aes256,aes256,aes256,aes256,aes256,aes256,aes256",
		  "more than 16 proposals" },
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct proposals p;
		const char *why = NULL;
		int r = proposals_parse(cases[i].proto, cases[i].s, &p, &why);
		ck_assert_msg(r == -EINVAL, "'%s' accepted", cases[i].s);
		ck_assert_msg(why && strstr(why, cases[i].why), "'%s': why '%s', want '%s'",
			      cases[i].s, why ? why : "(null)", cases[i].why);
	}
}
END_TEST

/* Every name in our tables is something crypto.h implements. */
START_TEST(supported_by_crypto)
{
	struct proposals p;
	static const char *const specs[] = {
		"aes_gcm-none-sha1+sha2_256+sha2_384+sha2_512;modp2048+modp3072+dh19+dh20+dh31",
		"aes-sha1+sha2_256+sha2_384+sha2_512",
	};
	for (size_t k = 0; k < N_ELEMS(specs); k++) {
		parse_ok(IKE_PROTO_IKE, specs[k], &p);
		const struct ike_proposal *pr = &p.sa.prop[0];
		for (unsigned i = 0; i < pr->n_xf; i++) {
			const struct ike_transform *x = &pr->xf[i];
			switch (x->type) {
			case IKE_XF_ENCR:
				ck_assert_uint_ne(crypto_encr_key_len(x->id, x->key_len), 0);
				break;
			case IKE_XF_PRF:
				ck_assert_uint_ne(crypto_prf_len(x->id), 0);
				break;
			case IKE_XF_INTEG:
				ck_assert_uint_ne(crypto_integ_key_len(x->id), 0);
				break;
			case IKE_XF_DH:
				ck_assert(crypto_dh_supported(x->id));
				break;
			}
		}
	}
}
END_TEST

/* conf_check_proposals() and proposals_parse() accept the same strings, except the
 * documented differences. */
START_TEST(agrees_with_conf)
{
	static const char *const both_ike[] = {
		"aes_gcm256-sha2_512;dh19", "aes256-sha2;modp2048", "aes-sha1", "aes_gcm",
		"aes_gcm_c_128-none-sha2_256", "aes128-sha1-sha2_384-dh20", "AES256-SHA2!",
		"aes_gcm16_256-sha512;ecp_256+curve25519", "aes_cbc_256-sha384-x25519",
		"aes256-sha2,aes128-sha1;dh14", "aes_gcm_16-sha2_512+sha2_256-ecp384",
	};
	static const char *const both_esp[] = {
		"aes_gcm_16_256-null", "aes256-sha2", "aes_gcm128-none;modp3072", "aes",
		"aes256-sha2_384-dh19", "aes256-sha2;none", "aes_gcm256,aes128-sha1",
	};
	static const char *const neither_ike[] = {
		"", ",", "aes256-sha2,", "blowfish", "3des-sha1", "aes256-sha2;dh5",
		"sha2-aes", "aes256-sha2;none", "aes256-none", "aes256-sha2-none",
		"aes_gcm256-sha2-sha2", "aes256-sha2;dh19;dh20", "aes256-dh19-sha2",
		"aes256+aes_gcm", "aes256--sha2", "aes256-sha2++sha1", "aes_gcm_8",
	};
	static const char *const neither_esp[] = {
		"aes_gcm256-sha2", "aes256-sha2-sha2", "aes256-none", "camellia-sha2",
	};
	/* the crypto module lacks them: refused as "not supported" */
	static const char *const conf_only[] = {
		"aes192-sha2", "chacha20_poly1305-sha2", "aes256-sha2;modp4096",
		"aes256-sha2;modp8192", "aes256-sha2;dh21", "aes256-sha2;ecp521",
	};
	/* Libreswan's long names */
	static const char *const prop_only[] = {
		"aes256-hmac_sha2_256", "aes_gcm256-hmac_sha2_512", "aes256-hmac_sha1_96",
	};
	char why[256];
	struct proposals p;
	const char *pw;
	for (size_t i = 0; i < N_ELEMS(both_ike); i++) {
		ck_assert_msg(conf_check_proposals(both_ike[i], false, why, sizeof(why)),
			      "conf refused '%s': %s", both_ike[i], why);
		parse_ok(IKE_PROTO_IKE, both_ike[i], &p);
	}
	for (size_t i = 0; i < N_ELEMS(both_esp); i++) {
		ck_assert_msg(conf_check_proposals(both_esp[i], true, why, sizeof(why)),
			      "conf refused '%s': %s", both_esp[i], why);
		parse_ok(IKE_PROTO_ESP, both_esp[i], &p);
	}
	for (size_t i = 0; i < N_ELEMS(neither_ike); i++) {
		ck_assert_msg(!conf_check_proposals(neither_ike[i], false, why, sizeof(why)),
			      "conf accepted '%s'", neither_ike[i]);
		ck_assert_msg(proposals_parse(IKE_PROTO_IKE, neither_ike[i], &p, &pw) == -EINVAL,
			      "accepted '%s'", neither_ike[i]);
	}
	for (size_t i = 0; i < N_ELEMS(neither_esp); i++) {
		ck_assert_msg(!conf_check_proposals(neither_esp[i], true, why, sizeof(why)),
			      "conf accepted '%s'", neither_esp[i]);
		ck_assert_msg(proposals_parse(IKE_PROTO_ESP, neither_esp[i], &p, &pw) == -EINVAL,
			      "accepted '%s'", neither_esp[i]);
	}
	/* conf validates with proposals_parse itself: algorithms the crypto module lacks are
	 * refused by both with the same words, and Libreswan's long names load */
	for (size_t i = 0; i < N_ELEMS(conf_only); i++) {
		ck_assert_msg(!conf_check_proposals(conf_only[i], false, why, sizeof(why)),
			      "conf accepted '%s'", conf_only[i]);
		ck_assert_ptr_nonnull(strstr(why, "not supported"));
		ck_assert_int_eq(proposals_parse(IKE_PROTO_IKE, conf_only[i], &p, &pw), -EINVAL);
		ck_assert_ptr_nonnull(strstr(pw, "not supported"));
	}
	for (size_t i = 0; i < N_ELEMS(prop_only); i++) {
		ck_assert_msg(conf_check_proposals(prop_only[i], false, why, sizeof(why)),
			      "conf refused '%s': %s", prop_only[i], why);
		parse_ok(IKE_PROTO_IKE, prop_only[i], &p);
	}
}
END_TEST

/* ---- selection ---- */

static void xf(struct ike_proposal *pr, uint8_t type, uint16_t id, uint16_t kl)
{
	pr->xf[pr->n_xf++] = (struct ike_transform){ .type = type, .id = id, .key_len = kl };
}

static struct ike_proposal *prop(struct ike_sa_pld *sa, uint8_t proto)
{
	struct ike_proposal *pr = &sa->prop[sa->n_prop++];
	memset(pr, 0, sizeof(*pr));
	pr->num = sa->n_prop;
	pr->proto = proto;
	pr->spi_size = proto == IKE_PROTO_ESP ? 4 : 0;
	return pr;
}

START_TEST(select_overlap_and_preference)
{
	struct proposals ours;
	struct ike_sa_pld offer = { 0 };
	struct suite s;
	uint8_t num = 0;
	uint16_t want = 0;
	parse_ok(IKE_PROTO_IKE, NULL, &ours);
	/* Libreswan v4 style offer: CBC-128 first, then GCM-256, MODP2048 KE */
	struct ike_proposal *a = prop(&offer, IKE_PROTO_IKE);
	xf(a, IKE_XF_ENCR, IKE_ENCR_AES_CBC, 128);
	xf(a, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf(a, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf(a, IKE_XF_DH, IKE_DH_MODP2048, 0);
	struct ike_proposal *b = prop(&offer, IKE_PROTO_IKE);
	xf(b, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(b, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf(b, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
	xf(b, IKE_XF_DH, IKE_DH_MODP2048, 0);
	xf(b, IKE_XF_DH, IKE_DH_ECP256, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want), 0);
	/* our order wins: GCM-256 (their #2), our PRF preference SHA2-512, their KE group */
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(s.encr, IKE_ENCR_AES_GCM_16);
	ck_assert_uint_eq(s.encr_bits, 256);
	ck_assert_uint_eq(s.prf, IKE_PRF_HMAC_SHA2_512);
	ck_assert_uint_eq(s.integ, 0);
	ck_assert_uint_eq(s.dh, IKE_DH_MODP2048);
	/* KE ECP256 also fine */
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want), 0);
	ck_assert_uint_eq(s.dh, IKE_DH_ECP256);
	/* without GCM in our list, CBC-128 from their #1 */
	parse_ok(IKE_PROTO_IKE, "aes128-sha2;modp2048", &ours);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want), 0);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(s.encr, IKE_ENCR_AES_CBC);
	ck_assert_uint_eq(s.encr_bits, 128);
	ck_assert_uint_eq(s.integ, IKE_INTEG_HMAC_SHA2_256_128);
	ck_assert_uint_eq(s.prf, IKE_PRF_HMAC_SHA2_256);
}
END_TEST

START_TEST(select_strict)
{
	struct proposals ours;
	struct ike_sa_pld offer = { 0 };
	struct suite s;
	uint8_t num = 0;
	uint16_t want = 0;
	parse_ok(IKE_PROTO_IKE, "aes_gcm256-sha2_512;dh19", &ours);
	/* #1 has only AES-GCM-128: skipped; #2 has the wrong PRF: skipped */
	struct ike_proposal *a = prop(&offer, IKE_PROTO_IKE);
	xf(a, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 128);
	xf(a, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
	xf(a, IKE_XF_DH, IKE_DH_ECP256, 0);
	struct ike_proposal *b = prop(&offer, IKE_PROTO_IKE);
	xf(b, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(b, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf(b, IKE_XF_DH, IKE_DH_ECP256, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
	/* #3 is fine, but carries an integrity algorithm with the AEAD: skipped too */
	struct ike_proposal *c = prop(&offer, IKE_PROTO_IKE);
	xf(c, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(c, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
	xf(c, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf(c, IKE_XF_DH, IKE_DH_ECP256, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
	/* ... but INTEG NONE with the AEAD is allowed (RFC 7296 §3.3) */
	c->xf[2].id = IKE_INTEG_NONE;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want), 0);
	ck_assert_uint_eq(num, 3);
	/* an unknown attribute rejects the proposal (RFC 7296 §3.3.6) */
	c->xf[0].unknown_attr = true;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
	c->xf[0].unknown_attr = false;
	/* a missing type (no DH) rejects it */
	c->n_xf = 3;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
	/* an ESP proposal in an IKE SA payload is not ours */
	c->n_xf = 4;
	c->proto = IKE_PROTO_ESP;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
	/* empty offer */
	offer.n_prop = 0;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want),
			 -ENOENT);
}
END_TEST

START_TEST(select_invalid_ke)
{
	struct proposals ours;
	struct ike_sa_pld offer = { 0 };
	struct suite s;
	uint8_t num = 0;
	uint16_t want = 0;
	parse_ok(IKE_PROTO_IKE, NULL, &ours);
	/* Libreswan v4: KE MODP2048 but we allow it: accepted. Now a peer whose KE is
	 * MODP4096 (offered, not allowed) with ECP256/MODP3072 also offered */
	struct ike_proposal *a = prop(&offer, IKE_PROTO_IKE);
	xf(a, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(a, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
	xf(a, IKE_XF_DH, IKE_DH_MODP4096, 0);
	xf(a, IKE_XF_DH, IKE_DH_MODP3072, 0);
	xf(a, IKE_XF_DH, IKE_DH_ECP256, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP4096, &s, &num, &want),
			 -EAGAIN);
	ck_assert_uint_eq(want, IKE_DH_ECP256);   /* our preference among the offered */
	ck_assert(proposals_has_dh(&ours, want));
	/* the retry with KE ECP256 */
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_ECP256, &s, &num, &want), 0);
	ck_assert_uint_eq(s.dh, IKE_DH_ECP256);
	/* KE group not even offered: still INVALID_KE with our choice */
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_CURVE25519, &s, &num, &want),
			 -EAGAIN);
	ck_assert_uint_eq(want, IKE_DH_ECP256);
	/* nothing in common at all: NO_PROPOSAL_CHOSEN, not INVALID_KE */
	a->n_xf = 3;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP4096, &s, &num, &want),
			 -ENOENT);
	/* a lower-preference proposal with the KE group beats a round trip */
	offer.n_prop = 0;
	a = prop(&offer, IKE_PROTO_IKE);
	xf(a, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(a, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, 0);
	xf(a, IKE_XF_DH, IKE_DH_ECP384, 0);
	struct ike_proposal *b = prop(&offer, IKE_PROTO_IKE);
	xf(b, IKE_XF_ENCR, IKE_ENCR_AES_CBC, 256);
	xf(b, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf(b, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf(b, IKE_XF_DH, IKE_DH_MODP2048, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want), 0);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(s.encr, IKE_ENCR_AES_CBC);
}
END_TEST

START_TEST(select_esp_esn)
{
	struct proposals ours;
	struct ike_sa_pld offer = { 0 };
	struct suite s;
	uint8_t num = 0;
	uint16_t want = 0;
	parse_ok(IKE_PROTO_ESP, NULL, &ours);
	/* Libreswan: ESN_NO+ESN_YES; we prefer YES */
	struct ike_proposal *a = prop(&offer, IKE_PROTO_ESP);
	xf(a, IKE_XF_ENCR, IKE_ENCR_AES_CBC, 256);
	xf(a, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0);
	xf(a, IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf(a, IKE_XF_ESN, IKE_ESN_NO, 0);
	xf(a, IKE_XF_ESN, IKE_ESN_YES, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, 0, &s, &num, &want), 0);
	ck_assert(s.esn);
	ck_assert_uint_eq(s.integ, IKE_INTEG_HMAC_SHA2_512_256);
	ck_assert_uint_eq(s.dh, 0);
	/* esn=no: only ESN_NO */
	proposals_set_esn(&ours, false);
	ck_assert_int_eq(proposals_select(&ours, &offer, 0, &s, &num, &want), 0);
	ck_assert(!s.esn);
	/* peer insists on ESN: nothing */
	a->n_xf = 4;
	a->xf[3].id = IKE_ESN_YES;
	ck_assert_int_eq(proposals_select(&ours, &offer, 0, &s, &num, &want), -ENOENT);
	proposals_set_esn(&ours, true);
	/* no ESN transform at all: ESP requires one */
	a->n_xf = 3;
	ck_assert_int_eq(proposals_select(&ours, &offer, 0, &s, &num, &want), -ENOENT);
	/* DH NONE in an IKE_AUTH child offer is fine without PFS */
	xf(a, IKE_XF_DH, IKE_DH_NONE, 0);
	xf(a, IKE_XF_ESN, IKE_ESN_YES, 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, 0, &s, &num, &want), 0);
	/* a real DH group with a KE, while we have no PFS configured: strict */
	a->xf[3].id = IKE_DH_MODP2048;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want),
			 -ENOENT);
	/* with the IKE SA's group added (CREATE_CHILD_SA with PFS) it matches */
	ck_assert_int_eq(proposals_add_dh(&ours, IKE_DH_MODP2048), 0);
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want), 0);
	ck_assert_uint_eq(s.dh, IKE_DH_MODP2048);
	/* wrong SPI size */
	a->spi_size = 8;
	ck_assert_int_eq(proposals_select(&ours, &offer, IKE_DH_MODP2048, &s, &num, &want),
			 -ENOENT);
}
END_TEST

START_TEST(accept_answer)
{
	struct proposals ours;
	struct ike_sa_pld ans;
	struct suite s = { 0 }, c;
	parse_ok(IKE_PROTO_IKE, NULL, &ours);
	s.encr = IKE_ENCR_AES_CBC;
	s.encr_bits = 256;
	s.prf = IKE_PRF_HMAC_SHA2_256;
	s.integ = IKE_INTEG_HMAC_SHA2_512_256;
	s.dh = IKE_DH_ECP384;
	proposals_answer(&s, IKE_PROTO_IKE, 3, &ans);
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), 0);
	ck_assert_int_eq(memcmp(&s, &c, sizeof(s)), 0);
	/* wrong proposal number: CBC-256 is our #3, not #1 */
	ans.prop[0].num = 1;
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
	ans.prop[0].num = 3;
	/* something we did not offer */
	ans.prop[0].xf[3].id = IKE_DH_MODP4096;
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
	ans.prop[0].xf[3].id = IKE_DH_ECP384;
	/* two transforms of one type */
	xf(&ans.prop[0], IKE_XF_DH, IKE_DH_ECP256, 0);
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
	ans.prop[0].n_xf--;
	/* a missing type (no INTEG for CBC) */
	ans.prop[0].xf[2] = ans.prop[0].xf[3];
	ans.prop[0].n_xf--;
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
	/* two proposals */
	proposals_answer(&s, IKE_PROTO_IKE, 3, &ans);
	ans.prop[1] = ans.prop[0];
	ans.n_prop = 2;
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
	/* ESP answer from an ESP list */
	parse_ok(IKE_PROTO_ESP, NULL, &ours);
	memset(&s, 0, sizeof(s));
	s.encr = IKE_ENCR_AES_GCM_16;
	s.encr_bits = 128;
	s.esn = true;
	proposals_answer(&s, IKE_PROTO_ESP, 2, &ans);
	ck_assert_uint_eq(ans.prop[0].spi_size, 4);
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), 0);
	ck_assert(c.esn);
	/* IKE answer to an ESP list */
	ans.prop[0].proto = IKE_PROTO_IKE;
	ck_assert_int_eq(proposals_accept(&ours, &ans, &c), -EINVAL);
}
END_TEST

START_TEST(text)
{
	struct proposals p;
	char buf[1024];
	struct suite s = { .encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
			   .prf = IKE_PRF_HMAC_SHA2_512, .dh = IKE_DH_CURVE25519 };
	parse_ok(IKE_PROTO_IKE, "aes_gcm256-sha2_512;dh31+dh19,aes256-sha2", &p);
	ck_assert_str_eq(proposals_str(&p.sa, IKE_PROTO_IKE, buf, sizeof(buf)),
			 "AES_GCM_16_256-PRF_HMAC_SHA2_512-CURVE25519+ECP_256, "
			 "AES_CBC_256-PRF_HMAC_SHA2_256-HMAC_SHA2_256_128-"
			 "CURVE25519+ECP_256+ECP_384+MODP2048+MODP3072");
	ck_assert_str_eq(suite_str(&s, IKE_PROTO_IKE, buf, sizeof(buf)),
			 "AES_GCM_16_256-PRF_HMAC_SHA2_512-CURVE25519");
	parse_ok(IKE_PROTO_ESP, "aes_gcm128", &p);
	ck_assert_str_eq(proposals_str(&p.sa, IKE_PROTO_ESP, buf, sizeof(buf)),
			 "AES_GCM_16_128-ESN_YES+ESN_NO");
	/* truncation is safe */
	ck_assert_str_eq(proposals_str(&p.sa, IKE_PROTO_ESP, buf, 8), "AES_GCM");
	/* unknown ids and foreign protocols are shown, not hidden */
	struct ike_sa_pld sa = { 0 };
	struct ike_proposal *pr = prop(&sa, IKE_PROTO_ESP);
	xf(pr, IKE_XF_ENCR, 1234, 0);
	xf(pr, 9, 1, 0);
	ck_assert_str_eq(proposals_str(&sa, IKE_PROTO_IKE, buf, sizeof(buf)),
			 "ESP:ENCR_1234-UNKNOWN_1");
}
END_TEST

/* emit with ike_emit_sa, parse back with ike_pld: the same lists. */
START_TEST(round_trip)
{
	static const struct { uint8_t proto; const char *spec; } specs[] = {
		{ IKE_PROTO_IKE, NULL }, { IKE_PROTO_ESP, NULL },
		{ IKE_PROTO_IKE, "aes_gcm-none-sha2_512+sha2_256;dh31+dh19+dh20+dh14+dh15,aes-sha1" },
	};
	for (size_t k = 0; k < N_ELEMS(specs); k++) {
		struct proposals p;
		uint8_t mem[4096];
		struct wr w;
		struct ike_emit e;
		static struct ike_digest d;
		parse_ok(specs[k].proto, specs[k].spec, &p);
		if (specs[k].proto == IKE_PROTO_ESP)
			for (unsigned i = 0; i < p.sa.n_prop; i++) {
				p.sa.prop[i].spi_size = 4;
				memcpy(p.sa.prop[i].spi, "\x01\x02\x03\x04", 4);
			}
		wr_init(&w, mem, sizeof(mem));
		ike_emit_init(&e, &w);
		ck_assert_int_eq(ike_emit_sa(&e, &p.sa), 0);
		ck_assert_int_eq(ike_emit_finish(&e), 0);
		memset(&d, 0, sizeof(d));
		ck_assert_msg(ike_pld_parse_inner(&d, IKE_PL_SA, mem, w.len) == 0, "parse: %s",
			      d.err_what ? d.err_what : "?");
		ck_assert_uint_eq(d.sa.n_prop, p.sa.n_prop);
		for (unsigned i = 0; i < p.sa.n_prop; i++) {
			const struct ike_proposal *x = &p.sa.prop[i], *y = &d.sa.prop[i];
			ck_assert_uint_eq(x->num, y->num);
			ck_assert_uint_eq(x->proto, y->proto);
			ck_assert_uint_eq(x->spi_size, y->spi_size);
			ck_assert_uint_eq(x->n_xf, y->n_xf);
			ck_assert_int_eq(memcmp(x->xf, y->xf, x->n_xf * sizeof(x->xf[0])), 0);
		}
		/* and our own offer selects its first proposal */
		struct suite s;
		uint8_t num;
		uint16_t want;
		uint16_t ke = proposals_first_dh(&p);
		ck_assert_int_eq(proposals_select(&p, &d.sa, ke, &s, &num, &want), 0);
		ck_assert_uint_eq(num, 1);
	}
}
END_TEST

static Suite *proposal_suite(void)
{
	Suite *s = suite_create("proposal");
	TCase *tc = tcase_create("proposal");
	tcase_add_test(tc, defaults_ike);
	tcase_add_test(tc, defaults_esp);
	tcase_add_test(tc, mapping);
	tcase_add_test(tc, libreswan_samples);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, supported_by_crypto);
	tcase_add_test(tc, agrees_with_conf);
	tcase_add_test(tc, select_overlap_and_preference);
	tcase_add_test(tc, select_strict);
	tcase_add_test(tc, select_invalid_ke);
	tcase_add_test(tc, select_esp_esn);
	tcase_add_test(tc, accept_answer);
	tcase_add_test(tc, text);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(proposal_suite)
