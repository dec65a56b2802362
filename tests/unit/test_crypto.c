/* test_crypto.c — the crypto module against published vectors: FIPS 180 (SHA), RFC 2202 /
 * RFC 4231 (HMAC), RFC 4868 (PRF-HMAC-SHA2), RFC 7748 (X25519), RFC 5903 (ECP-256/384),
 * McGrew-Viega GCM test cases (AES-GCM), NIST SP 800-38A (AES-CBC); prf+ and the IKEv2 key
 * schedules against an independent computation (Python hmac, cross-checked with
 * `openssl mac`); DH agreement, peer-value validation and SK tamper detection. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "unit.h"

static struct crypto *c;

static void setup(void)
{
	ck_assert_int_eq(crypto_init(&c, NULL), 0);
}

static void teardown(void)
{
	crypto_free(c);
	c = NULL;
}

/* hex (spaces allowed) -> bytes; returns the length */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s != '\0'; s++) {
		int v;
		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			ck_abort_msg("bad hex");
		if (hi < 0) {
			hi = v;
			continue;
		}
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	ck_assert_int_eq(hi, -1);
	return n;
}

#define ck_assert_hex(got, len, hex)                                             \
	do {                                                                    \
		uint8_t exp_[1024];                                             \
		size_t elen_ = unhex(hex, exp_, sizeof(exp_));                  \
		ck_assert_uint_eq((len), elen_);                                \
		ck_assert_mem_eq((got), exp_, elen_);                           \
	} while (0)

/* ---- hashes ---- */

static const struct {
	uint16_t alg;
	const char *md;
} abc[] = {
	{ CRYPTO_HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ CRYPTO_HASH_SHA2_256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ CRYPTO_HASH_SHA2_384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
				"1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7" },
	{ CRYPTO_HASH_SHA2_512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
};

START_TEST(hash_fips180)
{
	uint8_t md[CRYPTO_MAX_HASH_LEN];
	const struct crypto_iov split[] = { CRYPTO_IOV("a", 1), CRYPTO_IOV("", 0), CRYPTO_IOV("bc", 2) };
	ck_assert_int_eq(crypto_hash(abc[_i].alg, split, 3, md), 0);
	ck_assert_hex(md, crypto_hash_len(abc[_i].alg), abc[_i].md);
	ck_assert_int_eq(crypto_hash(99, split, 3, md), -ENOTSUP);
}
END_TEST

/* ---- HMAC PRFs ---- */

static const char rfc4231_7_data[] =
	"This is a test using a larger than block-size key and a larger than block-size data. "
	"The key needs to be hashed before being used by the HMAC algorithm.";

static const struct {
	const char *name;
	uint16_t prf;
	const char *key_hex;            /* NULL: key_str */
	const char *key_str;
	int key_rep;                    /* key_hex repeated */
	const char *data_hex;           /* NULL: data_str */
	const char *data_str;
	int data_rep;
	const char *mac;
} hmac_vec[] = {
	/* RFC 2202 §3 (HMAC-SHA-1), test cases 1, 2 */
	{ "2202-1", CRYPTO_PRF_HMAC_SHA1, "0b", NULL, 20, NULL, "Hi There", 1,
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "2202-2", CRYPTO_PRF_HMAC_SHA1, NULL, "Jefe", 1, NULL, "what do ya want for nothing?", 1,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	/* RFC 4231 §4.2-4.8, test cases 1, 2, 3, 4, 6, 7 (5 is a truncation test) */
	{ "4231-1", CRYPTO_PRF_HMAC_SHA2_256, "0b", NULL, 20, NULL, "Hi There", 1,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4231-1", CRYPTO_PRF_HMAC_SHA2_384, "0b", NULL, 20, NULL, "Hi There", 1,
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "4231-1", CRYPTO_PRF_HMAC_SHA2_512, "0b", NULL, 20, NULL, "Hi There", 1,
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "4231-2", CRYPTO_PRF_HMAC_SHA2_256, NULL, "Jefe", 1, NULL, "what do ya want for nothing?", 1,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "4231-2", CRYPTO_PRF_HMAC_SHA2_384, NULL, "Jefe", 1, NULL, "what do ya want for nothing?", 1,
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649" },
	{ "4231-2", CRYPTO_PRF_HMAC_SHA2_512, NULL, "Jefe", 1, NULL, "what do ya want for nothing?", 1,
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "4231-3", CRYPTO_PRF_HMAC_SHA2_256, "aa", NULL, 20, "dd", NULL, 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4231-3", CRYPTO_PRF_HMAC_SHA2_384, "aa", NULL, 20, "dd", NULL, 50,
	  "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	  "2a5ab39dc13814b94e3ab6e101a34f27" },
	{ "4231-3", CRYPTO_PRF_HMAC_SHA2_512, "aa", NULL, 20, "dd", NULL, 50,
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ "4231-4", CRYPTO_PRF_HMAC_SHA2_256, "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  NULL, 1, "cd", NULL, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "4231-4", CRYPTO_PRF_HMAC_SHA2_384, "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  NULL, 1, "cd", NULL, 50,
	  "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	  "6801dd23c4a7d679ccf8a386c674cffb" },
	{ "4231-4", CRYPTO_PRF_HMAC_SHA2_512, "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  NULL, 1, "cd", NULL, 50,
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	{ "4231-6", CRYPTO_PRF_HMAC_SHA2_256, "aa", NULL, 131, NULL,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 1,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "4231-6", CRYPTO_PRF_HMAC_SHA2_384, "aa", NULL, 131, NULL,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 1,
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	  "0c2ef6ab4030fe8296248df163f44952" },
	{ "4231-6", CRYPTO_PRF_HMAC_SHA2_512, "aa", NULL, 131, NULL,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 1,
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "4231-7", CRYPTO_PRF_HMAC_SHA2_256, "aa", NULL, 131, NULL, rfc4231_7_data, 1,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	{ "4231-7", CRYPTO_PRF_HMAC_SHA2_384, "aa", NULL, 131, NULL, rfc4231_7_data, 1,
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
	  "a678cc31e799176d3860e6110c46523e" },
	{ "4231-7", CRYPTO_PRF_HMAC_SHA2_512, "aa", NULL, 131, NULL, rfc4231_7_data, 1,
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
	/* RFC 4868 §2.7.1 PRF test cases 1-3: keys of the PRF's own length */
	{ "4868-1", CRYPTO_PRF_HMAC_SHA2_256, "0b", NULL, 32, NULL, "Hi There", 1,
	  "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7" },
	{ "4868-1", CRYPTO_PRF_HMAC_SHA2_384, "0b", NULL, 48, NULL, "Hi There", 1,
	  "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
	  "4c5df61d5b3297b4fb68dab9f1b582c2" },
	{ "4868-1", CRYPTO_PRF_HMAC_SHA2_512, "0b", NULL, 64, NULL, "Hi There", 1,
	  "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
	  "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b" },
	{ "4868-2", CRYPTO_PRF_HMAC_SHA2_256, NULL, "JefeJefeJefeJefeJefeJefeJefeJefe", 1, NULL,
	  "what do ya want for nothing?", 1,
	  "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6" },
	{ "4868-2", CRYPTO_PRF_HMAC_SHA2_384, NULL, "JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe",
	  1, NULL, "what do ya want for nothing?", 1,
	  "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5"
	  "349524ca4e82400cbde0686d403371c9" },
	{ "4868-2", CRYPTO_PRF_HMAC_SHA2_512, NULL,
	  "JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe", 1, NULL,
	  "what do ya want for nothing?", 1,
	  "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"
	  "6aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcceaae38c833b7dba38" },
	{ "4868-3", CRYPTO_PRF_HMAC_SHA2_256, "aa", NULL, 32, "dd", NULL, 50,
	  "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0" },
	{ "4868-3", CRYPTO_PRF_HMAC_SHA2_384, "aa", NULL, 48, "dd", NULL, 50,
	  "809f439be00274321d4a538652164b53554a508184a0c3160353e3428597003d"
	  "35914a18770f9443987054944b7c4b4a" },
	{ "4868-3", CRYPTO_PRF_HMAC_SHA2_512, "aa", NULL, 64, "dd", NULL, 50,
	  "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8"
	  "623c7b55cebefccf02d5581acc1c9d5fb1ff68a1de45509fbe4da9a433922655" },
};

/* key_hex/data_hex repeated rep times, or the string */
static size_t vec_bytes(const char *hex, const char *str, int rep, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (hex == NULL) {
		n = strlen(str);
		ck_assert_uint_le(n, cap);
		memcpy(out, str, n);
		return n;
	}
	for (int i = 0; i < rep; i++)
		n += unhex(hex, out + n, cap - n);
	return n;
}

START_TEST(hmac_vectors)
{
	uint8_t key[256], data[256], mac[CRYPTO_MAX_HASH_LEN];
	size_t klen = vec_bytes(hmac_vec[_i].key_hex, hmac_vec[_i].key_str, hmac_vec[_i].key_rep,
				key, sizeof(key));
	size_t dlen = vec_bytes(hmac_vec[_i].data_hex, hmac_vec[_i].data_str,
				hmac_vec[_i].data_rep, data, sizeof(data));
	struct crypto_iov in = CRYPTO_IOV(data, dlen);

	memset(mac, 0, sizeof(mac));
	ck_assert_msg(crypto_prf(c, hmac_vec[_i].prf, CRYPTO_IOV(key, klen), &in, 1, mac) == 0,
		      "%s", hmac_vec[_i].name);
	ck_assert_hex(mac, crypto_prf_len(hmac_vec[_i].prf), hmac_vec[_i].mac);
}
END_TEST

START_TEST(prf_errors)
{
	uint8_t out[64];
	struct crypto_iov in = CRYPTO_IOV("x", 1);
	ck_assert_int_eq(crypto_prf(c, 4 /* AES128_XCBC: not offered */, CRYPTO_IOV("k", 1), &in, 1,
				    out), -ENOTSUP);
	ck_assert_uint_eq(crypto_prf_len(99), 0);
	/* the empty key is HMAC's zero-padded key */
	uint8_t a[32], b[32];
	static const uint8_t zero = 0;
	ck_assert_int_eq(crypto_prf(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(NULL, 0), &in, 1, a), 0);
	ck_assert_int_eq(crypto_prf(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(&zero, 1), &in, 1, b), 0);
	ck_assert_mem_eq(a, b, 32);
}
END_TEST

/* ---- prf+ ---- */

START_TEST(prf_plus_kat)
{
	/* K = 0x0b * 32, S = "meshd prf+ test seed"; expected from
	 * T=; for n in 01 02 03 04; do T=$(echo -n "$T$S$n" | xxd -r -p |
	 *   openssl mac -digest SHA256 -macopt hexkey:$K HMAC); done   (and Python hmac) */
	uint8_t key[32], out[100];
	const char *s = "meshd prf+ test seed";
	const struct crypto_iov seed[] = { CRYPTO_IOV(s, 6), CRYPTO_IOV(s + 6, strlen(s) - 6) };
	memset(key, 0x0b, sizeof(key));
	ck_assert_int_eq(crypto_prf_plus(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(key, 32), seed, 2,
					 out, sizeof(out)), 0);
	ck_assert_hex(out, sizeof(out),
		      "cec337ce759af5dd262f40f5f5ec2ae08ea1fbe4cdaf555383e9ac8ed8f3723c"
		      "b01e88912fd0cca6421c47ec843312997cd3d2e9720c36a691d5fb5f8e6bb057"
		      "ed4ba504577dd19f602a6c7816652973a99ee6d5990b3efefa9dca69a984356f"
		      "d344d224");
}
END_TEST

static const uint16_t all_prfs[] = { CRYPTO_PRF_HMAC_SHA1, CRYPTO_PRF_HMAC_SHA2_256,
				     CRYPTO_PRF_HMAC_SHA2_384, CRYPTO_PRF_HMAC_SHA2_512 };

/* prf+ recomputed from crypto_prf by the RFC 7296 §2.13 definition, at the 255-block limit */
START_TEST(prf_plus_iterated)
{
	uint16_t prf = all_prfs[_i];
	size_t h = crypto_prf_len(prf), max = 255 * h;
	uint8_t key[40], seed[70], t[64], *got = malloc(max), *exp = malloc(max);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(exp);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(3 * i + 1);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i ^ 0x5a);
	struct crypto_iov s = CRYPTO_IOV(seed, sizeof(seed));
	ck_assert_int_eq(crypto_prf_plus(c, prf, CRYPTO_IOV(key, sizeof(key)), &s, 1, got, max), 0);
	for (unsigned n = 1; n <= 255; n++) {
		uint8_t cnt = (uint8_t)n;
		struct crypto_iov in[] = { CRYPTO_IOV(t, n == 1 ? 0 : h), s, CRYPTO_IOV(&cnt, 1) };
		ck_assert_int_eq(crypto_prf(c, prf, CRYPTO_IOV(key, sizeof(key)), in, 3, t), 0);
		memcpy(exp + (n - 1) * h, t, h);
	}
	ck_assert_mem_eq(got, exp, max);
	/* a shorter output is a prefix */
	ck_assert_int_eq(crypto_prf_plus(c, prf, CRYPTO_IOV(key, sizeof(key)), &s, 1, got, h + 3), 0);
	ck_assert_mem_eq(got, exp, h + 3);
	/* beyond 255 blocks the counter would wrap */
	ck_assert_int_eq(crypto_prf_plus(c, prf, CRYPTO_IOV(key, sizeof(key)), &s, 1, got, max + 1),
			 -EINVAL);
	free(got);
	free(exp);
}
END_TEST

/* ---- IKE and Child SA key schedules ----
 * Inputs: Ni = 01..20, Nr = 40..5f, g^ir = 80..9f, SPIi = 0011223344556677,
 * SPIr = 8899aabbccddeeff, new g^ir = c0..df. Expected key material from Python's hmac module
 * implementing RFC 7296 §2.13/§2.14/§2.17/§2.18 directly. */
static uint8_t ni[32], nr[32], gir[32], gir2[32];
static const uint8_t spi_i[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
static const uint8_t spi_r[8] = { 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

static void fill_inputs(void)
{
	for (int i = 0; i < 32; i++) {
		ni[i] = (uint8_t)(0x01 + i);
		nr[i] = (uint8_t)(0x40 + i);
		gir[i] = (uint8_t)(0x80 + i);
		gir2[i] = (uint8_t)(0xc0 + i);
	}
}

/* check the 7 keys are consecutive slices of km, with the given lengths */
static void check_ike_keys(const struct crypto_ike_keys *k, const char *km_hex, size_t plen,
			   size_t alen, size_t elen)
{
	static uint8_t km[1024];
	size_t n = unhex(km_hex, km, sizeof(km)), off = 0;
	const struct crypto_buf *order[] = { &k->sk_d, &k->sk_ai, &k->sk_ar, &k->sk_ei,
					     &k->sk_er, &k->sk_pi, &k->sk_pr };
	const size_t lens[] = { plen, alen, alen, elen, elen, plen, plen };
	for (int i = 0; i < 7; i++) {
		ck_assert_uint_eq(order[i]->len, lens[i]);
		if (lens[i] > 0)
			ck_assert_mem_eq(order[i]->p, km + off, lens[i]);
		off += lens[i];
	}
	ck_assert_uint_eq(off, n);
}

static const char km_a[] =
	"1e8410ecf746191a31c33ed3649df9093db5b94ba47c30225e830ad45df31a4e4e8e56c88e3d1e34afe0a82a"
	"270361cb6afa4055f445517155a73b371945768cc22da562c60561fde4c24324a6988fce0be126cad9e93c40"
	"9be56d58a0f9c95c7b604f8905f2a59000ba1da411a519e4fb1cd6915523b1c38bf154245f4223b384bf152d"
	"ab96e8fa0cb0311e7062a64200530c57cc37b80d73bf7123d4abe90d2d4cecfbd13adde2";

START_TEST(ike_keys_gcm_sha256)
{
	struct crypto_ike_suite s = { CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE,
				      CRYPTO_PRF_HMAC_SHA2_256 };
	struct crypto_ike_keys k;
	fill_inputs();
	ck_assert_int_eq(crypto_ike_keys(c, &s, CRYPTO_IOV(gir, 32), CRYPTO_IOV(ni, 32),
					 CRYPTO_IOV(nr, 32), spi_i, spi_r, &k), 0);
	check_ike_keys(&k, km_a, 32, 0, 36);
	crypto_ike_keys_free(&k);
	ck_assert_ptr_null(k.sk_d.p);
	crypto_ike_keys_free(&k);        /* idempotent */
}
END_TEST

START_TEST(ike_keys_cbc_sha512)
{
	struct crypto_ike_suite s = { CRYPTO_ENCR_AES_CBC, 128, CRYPTO_INTEG_HMAC_SHA2_256_128,
				      CRYPTO_PRF_HMAC_SHA2_512 };
	struct crypto_ike_keys k;
	fill_inputs();
	ck_assert_int_eq(crypto_ike_keys(c, &s, CRYPTO_IOV(gir, 32), CRYPTO_IOV(ni, 32),
					 CRYPTO_IOV(nr, 32), spi_i, spi_r, &k), 0);
	check_ike_keys(&k,
		"e8af66e8831c7cfbb5cfe9b07297ab42301c03c44d174ea7ac49ba377e04aab971d72934c4124ff0733dc910"
		"8d82130b17de08cb6fd005bae5b0a7cf3db3766f5903958ff0cd911523178f8ec750ef72daad86f646113351"
		"2ad9aa164929de265c51fe6422214424cf033fd134770c70761af1570898acf2858389bc4889800d12bbc3e4"
		"fb6389bee8ab828f2312386f3337e355aee0142a580b3b6327cc0680f10644f469cba3fb68d0093c8d1713fd"
		"84b6742261946786becccb2206b928acb79ad6cbacb5b3cb4f1f740b0b46e42dae79c1b2e8e5c2dac8e36d7c"
		"37f9d712cd1240e8dc6c9b577812c7d308cf8eaf08b48c8d51ec3180afa48ac8b5c86bc872d8140a820fc8d7"
		"6d6afc398676195e0ea78b8851885e749bcfa8245b05be86", 64, 32, 16);
	crypto_ike_keys_free(&k);
}
END_TEST

START_TEST(ike_rekey_keys)
{
	/* old SA: suite A (PRF SHA2-256); new SA: CBC-128 / SHA2-256-128 / PRF SHA2-512 */
	struct crypto_ike_suite s = { CRYPTO_ENCR_AES_CBC, 128, CRYPTO_INTEG_HMAC_SHA2_256_128,
				      CRYPTO_PRF_HMAC_SHA2_512 };
	struct crypto_ike_keys k;
	uint8_t sk_d[32];
	fill_inputs();
	unhex("1e8410ecf746191a31c33ed3649df9093db5b94ba47c30225e830ad45df31a4e", sk_d, 32);
	ck_assert_int_eq(crypto_ike_rekey_keys(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(sk_d, 32), &s,
					       CRYPTO_IOV(gir2, 32), CRYPTO_IOV(ni, 32),
					       CRYPTO_IOV(nr, 32), spi_i, spi_r, &k), 0);
	check_ike_keys(&k,
		"5d571a31f33e722b89e8533cf1779ff51c6524bbeb869770d49c380742185e371b8bf806198ae6061211c72a"
		"f68c81aa7e712eb2d329101c8310e13c0a83fba545b6e367311d543af240761dfcf6477a18b319f848c6a91b"
		"488190951aadf22d56588d562690f1ddad0831506113b4dc6f2f5107e28d9d5100dd7356970897dc2b41a04e"
		"33159b38734d3b62e02681b48a25478d76be39475fcdf7b6983e03e3e033e5f33e11a23cb41ec4775a7ad02f"
		"47ae1eb0932ff90673acef07475fd8d9be01b9a5173a23a7b6a86be5d17f71a8cb1dd9ff3557d4d91d751692"
		"ccb234e51a375107258abc12c7e5802bb9dd00584a5738f1cdbc3deb371621f471b6aab45f02b2378e9832ab"
		"f4cb9e402e87fb69c6319185f73e0334a437a126aac2f92b", 64, 32, 16);
	crypto_ike_keys_free(&k);
}
END_TEST

START_TEST(ike_keys_errors)
{
	struct crypto_ike_keys k;
	struct crypto_ike_suite bad[] = {
		{ CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_HMAC_SHA2_256_128, CRYPTO_PRF_HMAC_SHA2_256 },
		{ CRYPTO_ENCR_AES_CBC, 256, CRYPTO_INTEG_NONE, CRYPTO_PRF_HMAC_SHA2_256 },
		{ CRYPTO_ENCR_AES_CBC, 192, CRYPTO_INTEG_HMAC_SHA2_256_128, CRYPTO_PRF_HMAC_SHA2_256 },
		{ 3 /* 3DES */, 0, CRYPTO_INTEG_HMAC_SHA2_256_128, CRYPTO_PRF_HMAC_SHA2_256 },
		{ CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE, 1 /* HMAC_MD5 */ },
	};
	fill_inputs();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(crypto_ike_keys(c, &bad[i], CRYPTO_IOV(gir, 32), CRYPTO_IOV(ni, 32),
						 CRYPTO_IOV(nr, 32), spi_i, spi_r, &k), -ENOTSUP);
		ck_assert_ptr_null(k.sk_d.p);
	}
}
END_TEST

START_TEST(child_keys)
{
	uint8_t sk_d[32];
	struct crypto_child_keys k;
	struct crypto_child_suite gcm = { CRYPTO_ENCR_AES_GCM_16, 128, CRYPTO_INTEG_NONE };
	struct crypto_child_suite cbc = { CRYPTO_ENCR_AES_CBC, 256, CRYPTO_INTEG_HMAC_SHA2_512_256 };
	uint8_t km[256];

	fill_inputs();
	unhex("1e8410ecf746191a31c33ed3649df9093db5b94ba47c30225e830ad45df31a4e", sk_d, 32);
	/* no PFS: KEYMAT = prf+(SK_d, Ni | Nr) */
	ck_assert_int_eq(crypto_child_keys(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(sk_d, 32), &gcm,
					   CRYPTO_IOV(NULL, 0), CRYPTO_IOV(ni, 32),
					   CRYPTO_IOV(nr, 32), &k), 0);
	unhex("b04de31aa918ed0baa7f5d438712664bea8371da68edabf6e0917d01d82fbc879e72c3f18c15ffa4",
	      km, sizeof(km));
	ck_assert_uint_eq(k.ei.len, 20);
	ck_assert_uint_eq(k.ai.len, 0);
	ck_assert_uint_eq(k.er.len, 20);
	ck_assert_uint_eq(k.ar.len, 0);
	ck_assert_mem_eq(k.ei.p, km, 20);
	ck_assert_mem_eq(k.er.p, km + 20, 20);
	crypto_child_keys_free(&k);

	/* PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr) */
	ck_assert_int_eq(crypto_child_keys(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(sk_d, 32), &cbc,
					   CRYPTO_IOV(gir2, 32), CRYPTO_IOV(ni, 32),
					   CRYPTO_IOV(nr, 32), &k), 0);
	unhex("6d0e6c346b44275e1706e5a25cc556fb7a9eef35f2681abe2094b7b594146976c8051ba6e575a940d2e712"
	      "1e535638ef4a0b4e60ace2a345f86d9e21e74337a6b0518432f4eb07efee3b9f4de71225c0274e0f374754"
	      "c38e3b13278251b4203a436fccd6761e7f436bfdd21c9e5b469b7fa6b4313cb3e9bccb8a9eb67670283de7"
	      "bc9dfb2d2ccf42de146d84563dadfb41b2aa0fab9dc47aae1598097be4cfcbb5f8f9a8671118cce8753a77"
	      "bde35e4eaeffd7489a966986659fc9a3d9a33b03", km, sizeof(km));
	ck_assert_uint_eq(k.ei.len, 32);
	ck_assert_uint_eq(k.ai.len, 64);
	ck_assert_mem_eq(k.ei.p, km, 32);
	ck_assert_mem_eq(k.ai.p, km + 32, 64);
	ck_assert_mem_eq(k.er.p, km + 96, 32);
	ck_assert_mem_eq(k.ar.p, km + 128, 64);
	crypto_child_keys_free(&k);
}
END_TEST

/* ---- key exchange ---- */

static const uint16_t all_groups[] = { CRYPTO_DH_CURVE25519, CRYPTO_DH_ECP256, CRYPTO_DH_ECP384,
				       CRYPTO_DH_MODP2048, CRYPTO_DH_MODP3072 };

START_TEST(dh_agreement)
{
	uint16_t g = all_groups[_i];
	struct crypto_dh *a, *b;
	struct crypto_buf pa, pb, sa, sb;

	ck_assert(crypto_dh_supported(g));
	ck_assert_int_eq(crypto_dh_new(c, g, &a), 0);
	ck_assert_int_eq(crypto_dh_new(c, g, &b), 0);
	ck_assert_uint_eq(crypto_dh_group(a), g);
	ck_assert_int_eq(crypto_dh_public(a, &pa), 0);
	ck_assert_int_eq(crypto_dh_public(b, &pb), 0);
	ck_assert_uint_eq(pa.len, crypto_dh_public_len(g));
	ck_assert_uint_eq(pb.len, crypto_dh_public_len(g));
	ck_assert(pa.len != pb.len || memcmp(pa.p, pb.p, pa.len) != 0);
	ck_assert_int_eq(crypto_dh_derive(a, CRYPTO_IOV_BUF(pb), &sa), 0);
	ck_assert_int_eq(crypto_dh_derive(b, CRYPTO_IOV_BUF(pa), &sb), 0);
	ck_assert_uint_eq(sa.len, crypto_dh_secret_len(g));
	ck_assert_uint_eq(sb.len, sa.len);
	ck_assert_mem_eq(sa.p, sb.p, sa.len);
	/* a second derive from the same key works (responder retransmits, tests) */
	crypto_buf_free(&sb);
	ck_assert_int_eq(crypto_dh_derive(b, CRYPTO_IOV_BUF(pa), &sb), 0);
	ck_assert_mem_eq(sa.p, sb.p, sa.len);
	crypto_buf_free(&sb);
	/* wrong lengths */
	ck_assert_int_eq(crypto_dh_derive(a, CRYPTO_IOV(pb.p, pb.len - 1), &sb), -EINVAL);
	ck_assert_ptr_null(sb.p);
	ck_assert_int_eq(crypto_dh_derive(a, CRYPTO_IOV(NULL, 0), &sb), -EINVAL);
	crypto_buf_free(&pa);
	crypto_buf_free(&pb);
	crypto_buf_free(&sa);
	crypto_buf_free(&sb);
	crypto_dh_free(a);
	crypto_dh_free(b);
}
END_TEST

START_TEST(dh_unsupported)
{
	struct crypto_dh *dh;
	ck_assert(!crypto_dh_supported(2));
	ck_assert_uint_eq(crypto_dh_public_len(5), 0);
	ck_assert_int_eq(crypto_dh_new(c, 2, &dh), -ENOTSUP);
	ck_assert_ptr_null(dh);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_MODP2048, CRYPTO_IOV("x", 1),
					     CRYPTO_IOV(NULL, 0), &dh), -ENOTSUP);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_ECP256, CRYPTO_IOV("x", 1),
					     CRYPTO_IOV(NULL, 0), &dh), -EINVAL);
	crypto_dh_free(NULL);
}
END_TEST

/* RFC 7748 §5.2: X25519(scalar, u) through a fixed private key */
static const struct {
	const char *k, *u, *out;
} x25519_vec[] = {
	{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
};

START_TEST(x25519_rfc7748_5_2)
{
	uint8_t k[32], u[32];
	struct crypto_dh *dh;
	struct crypto_buf s;
	unhex(x25519_vec[_i].k, k, 32);
	unhex(x25519_vec[_i].u, u, 32);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(k, 32),
					     CRYPTO_IOV(NULL, 0), &dh), 0);
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(u, 32), &s), 0);
	ck_assert_hex(s.p, s.len, x25519_vec[_i].out);
	crypto_buf_free(&s);
	crypto_dh_free(dh);
}
END_TEST

/* RFC 7748 §6.1: Alice and Bob */
START_TEST(x25519_rfc7748_6_1)
{
	uint8_t a[32], b[32];
	struct crypto_dh *da, *db;
	struct crypto_buf pa, pb, ka, kb;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(a, 32),
					     CRYPTO_IOV(NULL, 0), &da), 0);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(b, 32),
					     CRYPTO_IOV(NULL, 0), &db), 0);
	ck_assert_int_eq(crypto_dh_public(da, &pa), 0);
	ck_assert_int_eq(crypto_dh_public(db, &pb), 0);
	/* given with the wrong public value: refused; with the right one: accepted */
	struct crypto_dh *dx;
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(a, 32),
					     CRYPTO_IOV_BUF(pb), &dx), -EINVAL);
	ck_assert_int_eq(crypto_dh_new_fixed(c, CRYPTO_DH_CURVE25519, CRYPTO_IOV(a, 32),
					     CRYPTO_IOV_BUF(pa), &dx), 0);
	crypto_dh_free(dx);
	ck_assert_hex(pa.p, pa.len, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	ck_assert_hex(pb.p, pb.len, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	ck_assert_int_eq(crypto_dh_derive(da, CRYPTO_IOV_BUF(pb), &ka), 0);
	ck_assert_int_eq(crypto_dh_derive(db, CRYPTO_IOV_BUF(pa), &kb), 0);
	ck_assert_hex(ka.p, ka.len, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	ck_assert_hex(kb.p, kb.len, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	crypto_buf_free(&pa);
	crypto_buf_free(&pb);
	crypto_buf_free(&ka);
	crypto_buf_free(&kb);
	crypto_dh_free(da);
	crypto_dh_free(db);
}
END_TEST

/* Small-order u values give an all-zero X25519 output (RFC 7748 §6.1); they must fail. */
START_TEST(x25519_low_order)
{
	static const char *const bad[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct crypto_dh *dh;
	struct crypto_buf s;
	uint8_t u[32];
	ck_assert_int_eq(crypto_dh_new(c, CRYPTO_DH_CURVE25519, &dh), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unhex(bad[i], u, 32);
		ck_assert_msg(crypto_dh_derive(dh, CRYPTO_IOV(u, 32), &s) == -EINVAL, "u #%zu", i);
		ck_assert_ptr_null(s.p);
	}
	crypto_dh_free(dh);
}
END_TEST

/* RFC 5903 §8.1 and §8.2: fixed i and r, KE payloads gi and gr, shared girx */
static const struct {
	uint16_t group;
	const char *i, *gi, *r, *gr, *gir;
} rfc5903[] = {
	{ CRYPTO_DH_ECP256,
	  "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
	  "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
	  "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
	  "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
	  "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
	  "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
	  "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE" },
	{ CRYPTO_DH_ECP384,
	  "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 E35B5380"
	  "41E649EE 3FAEF896 783AB194",
	  "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 DE3AC808"
	  "ACB4BDB4 C88732AE E95F41AA"
	  "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3"
	  "C2C947DA E69B4C63 4573A81C",
	  "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 E0308312"
	  "916B8ED2 960E4BD5 5A7448FC",
	  "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D 0D1AC43A"
	  "0336DEF9 6FDA41D0 774A3571"
	  "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401"
	  "42209DFF 5EAAD96D B9E6386C",
	  "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 D6031355"
	  "69B9E9D0 9CF5D4A2 70F59746" },
};

START_TEST(ecp_rfc5903)
{
	uint8_t i[48], r[48], gi[96], gr[96];
	size_t ilen = unhex(rfc5903[_i].i, i, sizeof(i)), rlen = unhex(rfc5903[_i].r, r, sizeof(r));
	size_t gilen = unhex(rfc5903[_i].gi, gi, sizeof(gi));
	size_t grlen = unhex(rfc5903[_i].gr, gr, sizeof(gr));
	struct crypto_dh *di, *dr;
	struct crypto_buf p, s;

	/* a public value that is not i's, or none, is refused */
	ck_assert_int_eq(crypto_dh_new_fixed(c, rfc5903[_i].group, CRYPTO_IOV(i, ilen),
					     CRYPTO_IOV(gr, grlen), &di), -EINVAL);
	ck_assert_int_eq(crypto_dh_new_fixed(c, rfc5903[_i].group, CRYPTO_IOV(i, ilen),
					     CRYPTO_IOV(NULL, 0), &di), -EINVAL);
	ck_assert_int_eq(crypto_dh_new_fixed(c, rfc5903[_i].group, CRYPTO_IOV(i, ilen),
					     CRYPTO_IOV(gi, gilen), &di), 0);
	ck_assert_int_eq(crypto_dh_new_fixed(c, rfc5903[_i].group, CRYPTO_IOV(r, rlen),
					     CRYPTO_IOV(gr, grlen), &dr), 0);
	ck_assert_int_eq(crypto_dh_public(di, &p), 0);
	ck_assert_uint_eq(p.len, gilen);
	ck_assert_mem_eq(p.p, gi, gilen);
	crypto_buf_free(&p);
	ck_assert_int_eq(crypto_dh_public(dr, &p), 0);
	ck_assert_mem_eq(p.p, gr, grlen);
	crypto_buf_free(&p);
	ck_assert_int_eq(crypto_dh_derive(di, CRYPTO_IOV(gr, grlen), &s), 0);
	ck_assert_hex(s.p, s.len, rfc5903[_i].gir);
	crypto_buf_free(&s);
	ck_assert_int_eq(crypto_dh_derive(dr, CRYPTO_IOV(gi, gilen), &s), 0);
	ck_assert_hex(s.p, s.len, rfc5903[_i].gir);
	crypto_buf_free(&s);

	/* points off the curve: y changed, x = y = 0, x = p-ish */
	gr[grlen - 1] ^= 1;
	ck_assert_int_eq(crypto_dh_derive(di, CRYPTO_IOV(gr, grlen), &s), -EINVAL);
	ck_assert_ptr_null(s.p);
	memset(gr, 0, grlen);
	ck_assert_int_eq(crypto_dh_derive(di, CRYPTO_IOV(gr, grlen), &s), -EINVAL);
	memset(gr, 0xff, grlen);
	ck_assert_int_eq(crypto_dh_derive(di, CRYPTO_IOV(gr, grlen), &s), -EINVAL);
	/* the 0x04-prefixed form is one octet too long */
	ck_assert_int_eq(crypto_dh_derive(di, CRYPTO_IOV(gi, gilen + 1), &s), -EINVAL);
	crypto_dh_free(di);
	crypto_dh_free(dr);
}
END_TEST

START_TEST(modp_bounds)
{
	uint16_t g = _i == 0 ? CRYPTO_DH_MODP2048 : CRYPTO_DH_MODP3072;
	size_t n = crypto_dh_public_len(g);
	struct crypto_dh *dh, *peer;
	struct crypto_buf s, pp;
	uint8_t y[CRYPTO_MAX_DH_LEN];

	/* a genuine peer value is accepted */
	ck_assert_int_eq(crypto_dh_new(c, g, &dh), 0);
	ck_assert_int_eq(crypto_dh_new(c, g, &peer), 0);
	ck_assert_int_eq(crypto_dh_public(peer, &pp), 0);
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV_BUF(pp), &s), 0);
	crypto_buf_free(&s);

	memset(y, 0, n);                                         /* 0 */
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), -EINVAL);
	y[n - 1] = 1;                                            /* 1 */
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), -EINVAL);
	y[n - 1] = 2;                                            /* 2: allowed */
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), 0);
	crypto_buf_free(&s);
	memset(y, 0xff, n);                                      /* > p */
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), -EINVAL);
	ck_assert_ptr_null(s.p);
	crypto_buf_free(&pp);
	crypto_dh_free(peer);
	crypto_dh_free(dh);
}
END_TEST

/* the RFC 3526 2048-bit prime p, typed from the RFC; p - 1 and p - 2 differ in the last octet */
static const char modp2048_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
	"8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
	"0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
	"1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
	"F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
	"955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";

START_TEST(modp_p_minus_1)
{
	size_t n;
	struct crypto_dh *dh;
	struct crypto_buf s;
	uint8_t y[256];

	n = unhex(modp2048_hex, y, sizeof(y));
	ck_assert_uint_eq(n, 256);
	ck_assert_int_eq(crypto_dh_new(c, CRYPTO_DH_MODP2048, &dh), 0);
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), -EINVAL);       /* p */
	y[255] = 0xfe;
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), -EINVAL);       /* p - 1 */
	y[255] = 0xfd;
	ck_assert_int_eq(crypto_dh_derive(dh, CRYPTO_IOV(y, n), &s), 0);             /* p - 2 */
	ck_assert_uint_eq(s.len, 256);
	crypto_buf_free(&s);
	crypto_dh_free(dh);
}
END_TEST

/* ---- SK payload protection ---- */

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3, 4 (AES-128) and
 * 13-16 (AES-256); the 12-octet IV is split as RFC 5282 does: salt (last 4 octets of the key
 * material) || explicit IV. */
static const char gcm_p[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_c128[] =
	"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
static const char gcm_c256[] =
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
static const struct {
	const char *name;
	uint16_t bits;
	const char *key, *iv, *aad, *pt;
	size_t ptlen;
	const char *ct, *tag;
} gcm_vec[] = {
	{ "tc3", 128, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "", gcm_p, 64,
	  gcm_c128, "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "tc4", 128, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_p, 60, gcm_c128,
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "tc13", 256, "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", 0, "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "tc14", 256, "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000", 16,
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "tc15", 256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "", gcm_p, 64, gcm_c256, "b094dac5d93471bdec1a502270e3cc6c" },
	{ "tc16", 256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_p, 60,
	  gcm_c256, "76fc6ece0f4e1768cddf8853bb2d551b" },
};

START_TEST(gcm_vectors)
{
	uint8_t key[36], iv[12], aad[32], pt[64], ct[64], out[256], back[64];
	size_t klen = unhex(gcm_vec[_i].key, key, 32);
	size_t aadlen = unhex(gcm_vec[_i].aad, aad, sizeof(aad));
	size_t ptlen = gcm_vec[_i].ptlen, olen, blen;
	struct crypto_sk *sk;

	unhex(gcm_vec[_i].iv, iv, 12);
	unhex(gcm_vec[_i].pt, pt, sizeof(pt));
	unhex(gcm_vec[_i].ct, ct, sizeof(ct));
	memcpy(key + klen, iv, 4);                                   /* salt */
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_GCM_16, gcm_vec[_i].bits,
				       CRYPTO_INTEG_NONE, CRYPTO_IOV(key, klen + 4),
				       CRYPTO_IOV(NULL, 0), &sk), 0);
	ck_assert_uint_eq(crypto_sk_iv_len(sk), 8);
	ck_assert_uint_eq(crypto_sk_icv_len(sk), 16);
	ck_assert_int_eq(crypto_sk_encrypt(sk, iv + 4, CRYPTO_IOV(aad, aadlen),
					   CRYPTO_IOV(pt, ptlen), out, sizeof(out), &olen), 0);
	ck_assert_uint_eq(olen, 8 + ptlen + 16);
	ck_assert_mem_eq(out, iv + 4, 8);
	if (ptlen > 0)
		ck_assert_mem_eq(out + 8, ct, ptlen);
	ck_assert_hex(out + 8 + ptlen, (size_t)16, gcm_vec[_i].tag);
	ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(aad, aadlen), CRYPTO_IOV(out, olen),
					   back, sizeof(back), &blen), 0);
	ck_assert_uint_eq(blen, ptlen);
	if (ptlen > 0)
		ck_assert_mem_eq(back, pt, ptlen);
	crypto_sk_free(sk);
}
END_TEST

/* every single-byte change of the message or of the AAD must fail, and so must truncation */
static void tamper_sweep(struct crypto_sk *sk, const uint8_t *aad, size_t aadlen,
			 const uint8_t *msg, size_t len)
{
	uint8_t m[600], a[64], out[600];
	size_t olen;

	ck_assert_uint_le(len, sizeof(m));
	ck_assert_uint_le(aadlen, sizeof(a));
	memcpy(a, aad, aadlen);
	for (size_t i = 0; i < len; i++) {
		memcpy(m, msg, len);
		m[i] ^= 0x01 << (i % 8);
		ck_assert_msg(crypto_sk_decrypt(sk, CRYPTO_IOV(a, aadlen), CRYPTO_IOV(m, len), out,
						sizeof(out), &olen) == -EBADMSG, "byte %zu", i);
		ck_assert_uint_eq(olen, 0);
	}
	for (size_t i = 0; i < aadlen; i++) {
		a[i] ^= 0x80;
		ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(a, aadlen), CRYPTO_IOV(msg, len),
						   out, sizeof(out), &olen), -EBADMSG);
		a[i] ^= 0x80;
	}
	for (size_t cut = 1; cut <= len; cut++)
		ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(a, aadlen),
						   CRYPTO_IOV(msg, len - cut), out, sizeof(out),
						   &olen), -EBADMSG);
	/* the untouched message still opens */
	ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(a, aadlen), CRYPTO_IOV(msg, len), out,
					   sizeof(out), &olen), 0);
}

/* an IKE header + SK payload header stand-in */
static const uint8_t hdr[32] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 0,
				 0, 0, 0, 1, 0x2e, 0x20, 0x23, 0x08, 0, 0, 0, 1, 0, 0, 0, 0x74,
				 0x21, 0x00, 0x00, 0x58 };

START_TEST(gcm_tamper_and_iv)
{
	uint8_t key[36], pt[64], out1[128], out2[128];
	size_t l1, l2;
	struct crypto_sk *sk;

	memset(key, 0x42, sizeof(key));
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)i;
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE,
				       CRYPTO_IOV(key, 36), CRYPTO_IOV(NULL, 0), &sk), 0);
	ck_assert_uint_eq(crypto_sk_block_len(sk), 1);
	ck_assert_uint_eq(crypto_sk_overhead(sk), 24);
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 61), out1,
					   sizeof(out1), &l1), 0);
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 61), out2,
					   sizeof(out2), &l2), 0);
	ck_assert_uint_eq(l1, 8 + 61 + 16);
	/* counter IVs: 1 then 2, so the two ciphertexts differ */
	ck_assert_hex(out1, (size_t)8, "0000000000000001");
	ck_assert_hex(out2, (size_t)8, "0000000000000002");
	ck_assert(memcmp(out1 + 8, out2 + 8, 61) != 0);
	tamper_sweep(sk, hdr, 32, out1, l1);
	/* too small an output buffer */
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 61), out2,
					   l1 - 1, &l2), -ENOSPC);
	crypto_sk_free(sk);
	/* the other key length and a wrong key length */
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_GCM_16, 128, CRYPTO_INTEG_NONE,
				       CRYPTO_IOV(key, 20), CRYPTO_IOV(NULL, 0), &sk), 0);
	crypto_sk_free(sk);
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_GCM_16, 128, CRYPTO_INTEG_NONE,
				       CRYPTO_IOV(key, 16), CRYPTO_IOV(NULL, 0), &sk), -EINVAL);
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_GCM_16, 128,
				       CRYPTO_INTEG_HMAC_SHA2_256_128, CRYPTO_IOV(key, 20),
				       CRYPTO_IOV(key, 32), &sk), -ENOTSUP);
	crypto_sk_free(NULL);
}
END_TEST

/* NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, block 1, through the SK path; the ICV is then
 * HMAC-SHA2-256(SK_a, AAD | IV | C) truncated to 128 bits (RFC 4868 §2.3). */
START_TEST(cbc_sp800_38a)
{
	uint8_t key[16], iv[16], pt[16], akey[32], out[64], back[16], icv[32];
	size_t olen, blen;
	struct crypto_sk *sk;

	unhex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	unhex("000102030405060708090a0b0c0d0e0f", iv, 16);
	unhex("6bc1bee22e409f96e93d7e117393172a", pt, 16);
	memset(akey, 0x5c, sizeof(akey));
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_CBC, 128, CRYPTO_INTEG_HMAC_SHA2_256_128,
				       CRYPTO_IOV(key, 16), CRYPTO_IOV(akey, 32), &sk), 0);
	ck_assert_int_eq(crypto_sk_encrypt(sk, iv, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 16), out,
					   sizeof(out), &olen), 0);
	ck_assert_uint_eq(olen, 16 + 16 + 16);
	ck_assert_mem_eq(out, iv, 16);
	ck_assert_hex(out + 16, (size_t)16, "7649abac8119b246cee98e9b12e9197d");
	const struct crypto_iov mac_in[] = { CRYPTO_IOV(hdr, 32), CRYPTO_IOV(out, 32) };
	ck_assert_int_eq(crypto_prf(c, CRYPTO_PRF_HMAC_SHA2_256, CRYPTO_IOV(akey, 32), mac_in, 2,
				    icv), 0);
	ck_assert_mem_eq(out + 32, icv, 16);
	ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(out, olen), back,
					   sizeof(back), &blen), 0);
	ck_assert_uint_eq(blen, 16);
	ck_assert_mem_eq(back, pt, 16);
	crypto_sk_free(sk);
}
END_TEST

static const struct {
	uint16_t bits, integ;
	size_t alen, icv;
} cbc_suites[] = {
	{ 128, CRYPTO_INTEG_HMAC_SHA1_96, 20, 12 },
	{ 128, CRYPTO_INTEG_HMAC_SHA2_256_128, 32, 16 },
	{ 256, CRYPTO_INTEG_HMAC_SHA2_256_128, 32, 16 },
	{ 256, CRYPTO_INTEG_HMAC_SHA2_384_192, 48, 24 },
	{ 256, CRYPTO_INTEG_HMAC_SHA2_512_256, 64, 32 },
};

START_TEST(cbc_round_trip_tamper)
{
	uint8_t key[32], akey[64], pt[96], out[256], back[96];
	size_t olen, blen, elen = cbc_suites[_i].bits / 8;
	struct crypto_sk *sk;

	ck_assert_int_eq(crypto_random(key, sizeof(key)), 0);
	ck_assert_int_eq(crypto_random(akey, sizeof(akey)), 0);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(0xa0 ^ i);
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_CBC, cbc_suites[_i].bits,
				       cbc_suites[_i].integ, CRYPTO_IOV(key, elen),
				       CRYPTO_IOV(akey, cbc_suites[_i].alen), &sk), 0);
	ck_assert_uint_eq(crypto_sk_iv_len(sk), 16);
	ck_assert_uint_eq(crypto_sk_icv_len(sk), cbc_suites[_i].icv);
	ck_assert_uint_eq(crypto_sk_block_len(sk), 16);
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 96), out,
					   sizeof(out), &olen), 0);
	ck_assert_uint_eq(olen, 16 + 96 + cbc_suites[_i].icv);
	ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(out, olen), back,
					   sizeof(back), &blen), 0);
	ck_assert_uint_eq(blen, 96);
	ck_assert_mem_eq(back, pt, 96);
	tamper_sweep(sk, hdr, 32, out, olen);
	/* short output buffer, unpadded or empty plaintext */
	ck_assert_int_eq(crypto_sk_decrypt(sk, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(out, olen),
					   back, 95, &blen), -ENOSPC);
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 95), out,
					   sizeof(out), &olen), -EINVAL);
	ck_assert_int_eq(crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, 0), out,
					   sizeof(out), &olen), -EINVAL);
	crypto_sk_free(sk);
	/* wrong integrity key length, missing integrity */
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_CBC, cbc_suites[_i].bits,
				       cbc_suites[_i].integ, CRYPTO_IOV(key, elen),
				       CRYPTO_IOV(akey, cbc_suites[_i].alen - 1), &sk), -EINVAL);
	ck_assert_int_eq(crypto_sk_new(c, CRYPTO_ENCR_AES_CBC, cbc_suites[_i].bits,
				       CRYPTO_INTEG_NONE, CRYPTO_IOV(key, elen),
				       CRYPTO_IOV(NULL, 0), &sk), -ENOTSUP);
}
END_TEST

/* SK keys from the key schedule work end to end: the initiator seals with SK_ei, the
 * responder opens with the same bytes. */
START_TEST(ike_keys_to_sk)
{
	struct crypto_ike_suite s = { CRYPTO_ENCR_AES_GCM_16, 128, CRYPTO_INTEG_NONE,
				      CRYPTO_PRF_HMAC_SHA2_512 };
	struct crypto_ike_keys k;
	struct crypto_sk *tx, *rx;
	uint8_t out[128], back[64];
	size_t olen, blen;
	fill_inputs();
	ck_assert_int_eq(crypto_ike_keys(c, &s, CRYPTO_IOV(gir, 32), CRYPTO_IOV(ni, 32),
					 CRYPTO_IOV(nr, 32), spi_i, spi_r, &k), 0);
	ck_assert_uint_eq(k.sk_ei.len, 20);
	ck_assert_uint_eq(k.sk_ai.len, 0);
	ck_assert_uint_eq(k.sk_pi.len, 64);
	ck_assert_int_eq(crypto_sk_new(c, s.encr, s.encr_keybits, s.integ, CRYPTO_IOV_BUF(k.sk_ei),
				       CRYPTO_IOV_BUF(k.sk_ai), &tx), 0);
	ck_assert_int_eq(crypto_sk_new(c, s.encr, s.encr_keybits, s.integ, CRYPTO_IOV_BUF(k.sk_ei),
				       CRYPTO_IOV_BUF(k.sk_ai), &rx), 0);
	ck_assert_int_eq(crypto_sk_encrypt(tx, NULL, CRYPTO_IOV(hdr, 28), CRYPTO_IOV(ni, 32), out,
					   sizeof(out), &olen), 0);
	ck_assert_int_eq(crypto_sk_decrypt(rx, CRYPTO_IOV(hdr, 28), CRYPTO_IOV(out, olen), back,
					   sizeof(back), &blen), 0);
	ck_assert_mem_eq(back, ni, 32);
	/* the other direction's key does not open it */
	crypto_sk_free(rx);
	ck_assert_int_eq(crypto_sk_new(c, s.encr, s.encr_keybits, s.integ, CRYPTO_IOV_BUF(k.sk_er),
				       CRYPTO_IOV_BUF(k.sk_ar), &rx), 0);
	ck_assert_int_eq(crypto_sk_decrypt(rx, CRYPTO_IOV(hdr, 28), CRYPTO_IOV(out, olen), back,
					   sizeof(back), &blen), -EBADMSG);
	crypto_sk_free(tx);
	crypto_sk_free(rx);
	crypto_ike_keys_free(&k);
}
END_TEST

/* ---- RNG, init ---- */

START_TEST(random_bytes)
{
	uint8_t a[32], b[32], z[32];
	memset(z, 0, sizeof(z));
	ck_assert_int_eq(crypto_random(a, sizeof(a)), 0);
	ck_assert_int_eq(crypto_random(b, sizeof(b)), 0);
	ck_assert(memcmp(a, b, 32) != 0);
	ck_assert(memcmp(a, z, 32) != 0);
	ck_assert_int_eq(crypto_random(a, 0), 0);
}
END_TEST

/* Two contexts in one process (two daemons in one test), freed in either order; one of them
 * with an NSS DB directory. */
START_TEST(init_twice_and_db)
{
	char dir[] = "/tmp/meshd-crypto-XXXXXX", spec[64], path[96];
	struct crypto *c2, *c3;
	struct crypto_dh *dh;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "sql:%s", dir);
	ck_assert_int_eq(crypto_init(&c2, NULL), 0);
	ck_assert_int_eq(crypto_init(&c3, spec), 0);
	ck_assert_int_eq(crypto_dh_new(c2, CRYPTO_DH_CURVE25519, &dh), 0);
	crypto_dh_free(dh);
	crypto_free(c2);
	ck_assert_int_eq(crypto_dh_new(c3, CRYPTO_DH_ECP256, &dh), 0);
	crypto_dh_free(dh);
	crypto_free(c3);
	crypto_free(NULL);
	/* the fixture's context still works after the others closed */
	ck_assert_int_eq(crypto_dh_new(c, CRYPTO_DH_ECP256, &dh), 0);
	crypto_dh_free(dh);
	static const char *const files[] = { "cert9.db", "key4.db", "pkcs11.txt" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}
END_TEST

START_TEST(bufs)
{
	struct crypto_buf b;
	ck_assert_int_eq(crypto_buf_dup(&b, "abc", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.p, "abc", 3);
	crypto_buf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	crypto_buf_free(&b);
	crypto_buf_free(NULL);
	ck_assert_int_eq(crypto_buf_alloc(&b, 0), 0);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(crypto_encr_key_len(CRYPTO_ENCR_AES_GCM_16, 256), 36);
	ck_assert_uint_eq(crypto_encr_key_len(CRYPTO_ENCR_AES_CBC, 128), 16);
	ck_assert_uint_eq(crypto_encr_key_len(CRYPTO_ENCR_AES_CBC, 192), 0);
	ck_assert_uint_eq(crypto_integ_key_len(CRYPTO_INTEG_HMAC_SHA2_384_192), 48);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *t;

	t = tcase_create("hash_prf");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, hash_fips180, 0, N(abc));
	tcase_add_loop_test(t, hmac_vectors, 0, N(hmac_vec));
	tcase_add_test(t, prf_errors);
	tcase_add_test(t, prf_plus_kat);
	tcase_add_loop_test(t, prf_plus_iterated, 0, N(all_prfs));
	tcase_add_test(t, bufs);
	tcase_add_test(t, random_bytes);
	suite_add_tcase(s, t);

	t = tcase_create("keys");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, ike_keys_gcm_sha256);
	tcase_add_test(t, ike_keys_cbc_sha512);
	tcase_add_test(t, ike_rekey_keys);
	tcase_add_test(t, ike_keys_errors);
	tcase_add_test(t, child_keys);
	tcase_add_test(t, ike_keys_to_sk);
	suite_add_tcase(s, t);

	t = tcase_create("dh");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, dh_agreement, 0, N(all_groups));
	tcase_add_test(t, dh_unsupported);
	tcase_add_loop_test(t, x25519_rfc7748_5_2, 0, N(x25519_vec));
	tcase_add_test(t, x25519_rfc7748_6_1);
	tcase_add_test(t, x25519_low_order);
	tcase_add_loop_test(t, ecp_rfc5903, 0, N(rfc5903));
	tcase_add_loop_test(t, modp_bounds, 0, 2);
	tcase_add_test(t, modp_p_minus_1);
	suite_add_tcase(s, t);

	t = tcase_create("sk");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, gcm_vectors, 0, N(gcm_vec));
	tcase_add_test(t, gcm_tamper_and_iv);
	tcase_add_test(t, cbc_sp800_38a);
	tcase_add_loop_test(t, cbc_round_trip_tamper, 0, N(cbc_suites));
	suite_add_tcase(s, t);

	t = tcase_create("init");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, init_twice_and_db);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(crypto_suite)
