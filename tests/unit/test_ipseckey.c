/* test_ipseckey.c — IPSECKEY rdata parsing (every gateway type, algorithms 2/3/4, malformed
 * rdata: every truncation, bad lengths, bad names), SPKI conversions both ways, query names,
 * base64, the TTL cache on a virtual clock, and keys from rdata verifying signatures made by
 * OpenSSL with the matching private keys (through cert_peer_from_spki / cert_verify_sig). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cert.h"
#include "crypto.h"
#include "ipseckey.h"
#include "unit.h"

/* e = 65537, a 1024-bit modulus 0xc3 0x01 0x02 ... (RFC 3110 layout). */
static size_t rsa_key(uint8_t *k, size_t mod_len)
{
	size_t n = 0;
	k[n++] = 3;
	k[n++] = 0x01;
	k[n++] = 0x00;
	k[n++] = 0x01;
	for (size_t i = 0; i < mod_len; i++)
		k[n++] = (uint8_t)(i == 0 ? 0xc3 : i);
	return n;
}

static size_t rdata(uint8_t *out, uint8_t gwt, const uint8_t *gw, size_t gw_len, uint8_t alg,
		    const uint8_t *key, size_t key_len)
{
	size_t n = 0;
	out[n++] = 10;
	out[n++] = gwt;
	out[n++] = alg;
	memcpy(out + n, gw, gw_len);
	n += gw_len;
	memcpy(out + n, key, key_len);
	return n + key_len;
}

static const uint8_t GW_NAME[] = { 2, 'g', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
static const uint8_t GW4[] = { 192, 0, 2, 7 };
static const uint8_t GW6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };

START_TEST(t_gateways)
{
	uint8_t key[300], rd[600];
	size_t kl = rsa_key(key, 128), n;
	struct ipseckey k;
	const char *why = NULL;
	struct addr peer;

	n = rdata(rd, 0, NULL, 0, 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_uint_eq(k.precedence, 10);
	ck_assert_str_eq(k.gw_name, ".");
	ck_assert_uint_eq(k.key_bits, 1024);
	ck_assert_uint_eq(k.key_len, kl);
	ck_assert(ipseckey_usable(&k, NULL, &why));

	n = rdata(rd, 1, GW4, 4, 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_str_eq(k.gw_name, "192.0.2.7");
	ck_assert(addr_parse("192.0.2.7", &peer));
	ck_assert(ipseckey_usable(&k, &peer, &why));
	ck_assert(addr_parse("192.0.2.8", &peer));
	ck_assert(!ipseckey_usable(&k, &peer, &why));
	ck_assert_str_eq(why, "record names a gateway other than the peer");

	n = rdata(rd, 2, GW6, 16, 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_str_eq(k.gw_name, "2001:db8::9");
	ck_assert_uint_eq(k.gw_addr.family, AF_INET6);

	n = rdata(rd, 3, GW_NAME, sizeof(GW_NAME), 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_str_eq(k.gw_name, "gw.example.");
	ck_assert(!ipseckey_usable(&k, &peer, &why));

	/* odd octets in a name are escaped */
	static const uint8_t odd[] = { 3, 'a', '.', 0x01, 0 };
	n = rdata(rd, 3, odd, sizeof(odd), 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_str_eq(k.gw_name, "a\\046\\001.");
	/* the root as a gateway name */
	static const uint8_t root[] = { 0 };
	n = rdata(rd, 3, root, 1, 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_str_eq(k.gw_name, ".");
	ck_assert(!ipseckey_usable(&k, NULL, &why));
	ck_assert_str_eq(why, "record carries no usable key");

	n = rdata(rd, 4, NULL, 0, 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -ENOTSUP);
	ck_assert_str_eq(why, "unknown gateway type");
}
END_TEST

START_TEST(t_algorithms)
{
	uint8_t key[300], rd[600];
	size_t n, kl;
	struct ipseckey k;
	const char *why;

	/* RSA, exponent length in the 3-octet form */
	kl = rsa_key(key + 2, 256) + 2;
	key[0] = 0;
	key[1] = 0;
	key[2] = 3;
	n = rdata(rd, 0, NULL, 0, 2, key, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_uint_eq(k.key_bits, 2048);

	memset(key, 0x5a, sizeof(key));
	for (size_t len = 0; len < 100; len++) {
		n = rdata(rd, 0, NULL, 0, 3, key, len);
		int want = len == 64 || len == 96 ? 0 : len == 0 ? -EBADMSG : -ENOTSUP;
		ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), want);
		if (want == 0)
			ck_assert_uint_eq(k.key_bits, len == 64 ? 256 : 384);
		n = rdata(rd, 0, NULL, 0, 4, key, len);
		want = len == 32 || len == 57 ? 0 : len == 0 ? -EBADMSG : -ENOTSUP;
		ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), want);
	}
	n = rdata(rd, 0, NULL, 0, 1, key, 64);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -ENOTSUP);
	ck_assert_str_eq(why, "DSA keys (algorithm 1) are not accepted");
	n = rdata(rd, 0, NULL, 0, 9, key, 64);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -ENOTSUP);
	n = rdata(rd, 0, NULL, 0, 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	n = rdata(rd, 0, NULL, 0, 0, key, 1);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
}
END_TEST

START_TEST(t_malformed)
{
	uint8_t key[300], rd[600], ec[64];
	size_t n, kl = rsa_key(key, 128);
	struct ipseckey k;
	const char *why;

	memset(ec, 7, sizeof(ec));
	/* every truncation of a name-gateway ECDSA record fails (the key length is exact) */
	n = rdata(rd, 3, GW_NAME, sizeof(GW_NAME), 3, ec, sizeof(ec));
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_ne(ipseckey_parse(rd, i, &k, &why), 0);
	/* and of the fixed part and gateway of every gateway type */
	const uint8_t *gws[] = { NULL, GW4, GW6, GW_NAME };
	const size_t gwl[] = { 0, 4, 16, sizeof(GW_NAME) };
	for (unsigned t = 0; t < 4; t++) {
		n = rdata(rd, (uint8_t)t, gws[t], gwl[t], 2, key, kl);
		ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
		for (size_t i = 0; i < 3 + gwl[t] + 4; i++)
			ck_assert_int_eq(ipseckey_parse(rd, i, &k, &why), -EBADMSG);
		/* cutting into the key: too short a modulus (below 1024 bits), or none */
		for (size_t i = 3 + gwl[t] + 4; i < n; i++)
			ck_assert_int_ne(ipseckey_parse(rd, i, &k, &why), 0);
	}
	ck_assert_int_eq(ipseckey_parse(NULL, 0, &k, &why), -EBADMSG);

	/* names: a compression pointer, an extended label, no terminator, 256 octets */
	static const uint8_t ptr[] = { 2, 'g', 'w', 0xc0, 0x0c };
	static const uint8_t ext[] = { 0x41, 'x' };
	static const uint8_t unterminated[] = { 2, 'g', 'w' };
	n = rdata(rd, 3, ptr, sizeof(ptr), 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	ck_assert_str_eq(why, "gateway name uses compression or an extended label type");
	n = rdata(rd, 3, ext, sizeof(ext), 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	n = rdata(rd, 3, unterminated, sizeof(unterminated), 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	uint8_t longname[300];
	size_t ln = 0;
	for (int i = 0; i < 4; i++) {          /* 4 * 64 = 256 octets and the root */
		longname[ln++] = 63;
		memset(longname + ln, 'a', 63);
		ln += 63;
	}
	longname[ln++] = 0;
	n = rdata(rd, 3, longname, ln, 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	ck_assert_str_eq(why, "gateway name longer than 255 octets");
	longname[0] = 61;                      /* 62 + 3 * 64 + 1 = 255 octets: fine */
	memmove(longname + 62, longname + 64, ln - 64);
	n = rdata(rd, 3, longname, ln - 2, 0, NULL, 0);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);

	/* RSA layouts: leading zeros, exponent longer than the modulus, empty parts */
	uint8_t bad[300];
	memcpy(bad, key, kl);
	bad[4] = 0;                            /* modulus leading zero */
	n = rdata(rd, 0, NULL, 0, 2, bad, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	memcpy(bad, key, kl);
	bad[1] = 0;                            /* exponent leading zero */
	n = rdata(rd, 0, NULL, 0, 2, bad, kl);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	bad[0] = 200;                          /* exponent length past the modulus */
	n = rdata(rd, 0, NULL, 0, 2, bad, 250);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	static const uint8_t zero_len[] = { 0, 0, 0, 0xc1 };
	n = rdata(rd, 0, NULL, 0, 2, zero_len, sizeof(zero_len));
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	static const uint8_t no_mod[] = { 3, 1, 0, 1 };
	n = rdata(rd, 0, NULL, 0, 2, no_mod, sizeof(no_mod));
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -EBADMSG);
	static const uint8_t short_mod[] = { 1, 3, 0xc1, 0x02 };
	n = rdata(rd, 0, NULL, 0, 2, short_mod, sizeof(short_mod));
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), -ENOTSUP);
	ck_assert_str_eq(why, "RSA modulus too short");

	/* a bit-flip sweep: never a crash */
	n = rdata(rd, 3, GW_NAME, sizeof(GW_NAME), 2, key, kl);
	for (size_t i = 0; i < n * 8; i++) {
		rd[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (ipseckey_parse(rd, n, &k, &why) == 0) {
			struct buf s;
			if (ipseckey_to_spki(&k, &s) == 0)
				buf_free(&s);
		}
		rd[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}
END_TEST

START_TEST(t_names)
{
	char out[IPSECKEY_NAME_MAX];
	struct addr a;

	ck_assert(addr_parse("10.0.2.1", &a));
	ck_assert_int_eq(ipseckey_reverse_name(&a, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1.2.0.10.in-addr.arpa.");
	ck_assert_int_eq(ipseckey_reverse_name(&a, out, 10), -ENOSPC);
	ck_assert(addr_parse("2001:db8::1", &a));
	ck_assert_int_eq(ipseckey_reverse_name(&a, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			 "8.b.d.0.1.0.0.2.ip6.arpa.");
	ck_assert_int_eq(ipseckey_reverse_name(&a, out, 64), -ENOSPC);
	a.family = 0;
	ck_assert_int_eq(ipseckey_reverse_name(&a, out, sizeof(out)), -EINVAL);

	ck_assert_int_eq(ipseckey_fqdn_name("@east.example.org", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "east.example.org.");
	ck_assert_int_eq(ipseckey_fqdn_name("east.example.org..", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "east.example.org.");
	ck_assert_int_eq(ipseckey_fqdn_name("_x-1", out, sizeof(out)), 0);
	ck_assert_int_eq(ipseckey_fqdn_name("", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name("@", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name("a..b", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name(".a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name("a b", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name("@@a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(ipseckey_fqdn_name("abc", out, 4), -ENOSPC);
	char lab[80];
	memset(lab, 'x', 64);
	lab[64] = '\0';
	ck_assert_int_eq(ipseckey_fqdn_name(lab, out, sizeof(out)), -EINVAL);
	lab[63] = '\0';
	ck_assert_int_eq(ipseckey_fqdn_name(lab, out, sizeof(out)), 0);
}
END_TEST

START_TEST(t_base64)
{
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct buf b, d;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {   /* RFC 4648 §10 */
		ck_assert_int_eq(ipseckey_b64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), &b), 0);
		ck_assert_str_eq((char *)b.p, v[i][1]);
		ck_assert_int_eq(ipseckey_b64_decode(v[i][1], &d), 0);
		ck_assert_uint_eq(d.len, strlen(v[i][0]));
		ck_assert(memcmp(d.p, v[i][0], d.len) == 0);
		buf_free(&b);
		buf_free(&d);
	}
	ck_assert_int_eq(ipseckey_b64_decode("Zm9v\n YmFy", &d), 0);
	ck_assert_uint_eq(d.len, 6);
	buf_free(&d);
	ck_assert_int_eq(ipseckey_b64_decode("Zm9", &d), -EBADMSG);
	ck_assert_int_eq(ipseckey_b64_decode("Zm=v", &d), -EBADMSG);
	ck_assert_int_eq(ipseckey_b64_decode("Z===", &d), -EBADMSG);
	ck_assert_int_eq(ipseckey_b64_decode("Zm9*", &d), -EBADMSG);
}
END_TEST

START_TEST(t_cache)
{
	struct ipseckey_cache *c = ipseckey_cache_new(3, 10, 3600);
	struct ipseckey_key k[2] = {
		{ .alg = 2, .bits = 2048, .spki = { (uint8_t *)"AAAA", 4 } },
		{ .alg = 3, .bits = 256, .spki = { (uint8_t *)"BBB", 3 } },
	};
	static const uint8_t ip1[] = { 10, 0, 2, 1 }, ip2[] = { 10, 0, 2, 2 };
	const struct ipseckey_entry *e;

	ck_assert_ptr_nonnull(c);
	/* TTL floor: a 2 s TTL lives 10 s */
	ck_assert_int_eq(ipseckey_cache_put(c, 1, ip1, 4, k, 2, 2, 1000), 0);
	ck_assert_ptr_nonnull(e = ipseckey_cache_get(c, 1, ip1, 4, 1000));
	ck_assert_uint_eq(e->n_keys, 2);
	ck_assert_uint_eq(e->ttl_s, 10);
	ck_assert_uint_eq(ipseckey_entry_ttl_left(e, 5000), 6);
	ck_assert(memcmp(e->keys[1].spki.p, "BBB", 3) == 0);
	ck_assert_ptr_nonnull(ipseckey_cache_get(c, 1, ip1, 4, 10999));
	ck_assert_ptr_null(ipseckey_cache_get(c, 1, ip1, 4, 11000));
	ck_assert_uint_eq(ipseckey_cache_count(c), 0);
	/* the ID type is part of the key */
	ck_assert_int_eq(ipseckey_cache_put(c, 1, ip1, 4, k, 1, 60, 0), 0);
	ck_assert_ptr_null(ipseckey_cache_get(c, 2, ip1, 4, 0));
	/* ceiling */
	ck_assert_int_eq(ipseckey_cache_put(c, 2, (const uint8_t *)"a.example", 9, k, 1, 86400, 0),
			 0);
	ck_assert_uint_eq(ipseckey_cache_get(c, 2, (const uint8_t *)"a.example", 9, 0)->ttl_s, 3600);
	/* an answer replaces all of the ID's keys */
	ck_assert_int_eq(ipseckey_cache_put(c, 1, ip1, 4, k + 1, 1, 100, 0), 0);
	ck_assert_uint_eq(ipseckey_cache_count(c), 2);
	e = ipseckey_cache_get(c, 1, ip1, 4, 0);
	ck_assert_uint_eq(e->n_keys, 1);
	ck_assert_uint_eq(e->keys[0].alg, 3);
	/* the bound: the entry expiring first goes */
	ck_assert_int_eq(ipseckey_cache_put(c, 1, ip2, 4, k, 1, 50, 0), 0);
	ck_assert_uint_eq(ipseckey_cache_count(c), 3);
	ck_assert_int_eq(ipseckey_cache_put(c, 5, ip2, 4, k, 1, 500, 0), 0);
	ck_assert_uint_eq(ipseckey_cache_count(c), 3);
	ck_assert_ptr_null(ipseckey_cache_get(c, 1, ip2, 4, 0));
	ck_assert_ptr_nonnull(ipseckey_cache_get(c, 1, ip1, 4, 0));
	/* expiry sweep, delete, and n == 0 removes */
	ck_assert_uint_eq(ipseckey_cache_expire(c, 100 * 1000), 1);
	ipseckey_cache_del(c, 5, ip2, 4);
	ck_assert_uint_eq(ipseckey_cache_count(c), 1);
	ck_assert_int_eq(ipseckey_cache_put(c, 2, (const uint8_t *)"a.example", 9, k, 0, 60, 0), 0);
	ck_assert_uint_eq(ipseckey_cache_count(c), 0);
	ipseckey_cache_free(c);
	ipseckey_cache_free(NULL);
	ck_assert_ptr_null(ipseckey_cache_new(0, 1, 1));
}
END_TEST

/* ---- with OpenSSL: real keys, real signatures ---- */

static char tmp[256];

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void slurp(const char *name, struct buf *out)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	uint8_t b[8192];
	size_t n = fread(b, 1, sizeof(b), f);
	fclose(f);
	ck_assert_int_eq(buf_dup(out, b, n), 0);
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* Make a key with openssl; its SPKI goes through IPSECKEY rdata and back, byte-exact; the
 * key from the rdata verifies openssl's signature (and not a signature over other data). */
static void key_roundtrip(struct crypto *c, const char *genpkey, uint8_t want_alg,
			  unsigned want_bits, const char *alg_hex, const char *dgst)
{
	struct buf spki, key, spki2, sig, rec;
	struct ipseckey k;
	struct cert_peer p;
	uint8_t rd[1200], alg = 0, a[64];
	const uint8_t *data = (const uint8_t *)"octets to sign";
	const char *why;

	ck_assert_int_eq(sh("cd %s && openssl genpkey %s -out k.pem 2>/dev/null && "
			    "openssl pkey -in k.pem -pubout -outform DER -out k.spki && "
			    "printf 'octets to sign' >data && "
			    "openssl dgst %s -sign k.pem -out data.sig data", tmp, genpkey, dgst), 0);
	slurp("k.spki", &spki);
	slurp("data.sig", &sig);
	ck_assert_int_eq(ipseckey_from_spki(spki.p, spki.len, &alg, &key), 0);
	ck_assert_uint_eq(alg, want_alg);
	size_t n = rdata(rd, 0, NULL, 0, alg, key.p, key.len);
	ck_assert_int_eq(ipseckey_parse(rd, n, &k, &why), 0);
	ck_assert_uint_eq(k.key_bits, want_bits);
	ck_assert_int_eq(ipseckey_to_spki(&k, &spki2), 0);
	ck_assert_uint_eq(spki2.len, spki.len);
	ck_assert(memcmp(spki2.p, spki.p, spki.len) == 0);

	ck_assert_int_eq(cert_peer_from_spki(spki2.p, spki2.len, &p), 0);
	size_t al = unhex(alg_hex, a);
	ck_assert_int_eq(cert_verify_sig(NULL, &p, 14, a, al, data, 14, sig.p, sig.len), 0);
	ck_assert_int_eq(cert_verify_sig(NULL, &p, 14, a, al, data, 13, sig.p, sig.len), -EBADMSG);
	cert_peer_free(&p);

	/* the zone-file line: base64 of exactly the key field */
	ck_assert_int_eq(ipseckey_record_str("2.1.0.10.in-addr.arpa", 10, NULL, alg, key.p, key.len,
					     &rec), 0);
	char head[64];
	snprintf(head, sizeof(head), "2.1.0.10.in-addr.arpa. IN IPSECKEY 10 0 %u . ", alg);
	ck_assert(strncmp((char *)rec.p, head, strlen(head)) == 0);
	struct buf back;
	char *b64 = strdup((char *)rec.p + strlen(head));
	ck_assert_int_eq(ipseckey_b64_decode(b64, &back), 0);
	ck_assert_uint_eq(back.len, key.len);
	ck_assert(memcmp(back.p, key.p, key.len) == 0);
	free(b64);
	buf_free(&back);
	buf_free(&rec);
	buf_free(&spki);
	buf_free(&spki2);
	buf_free(&key);
	buf_free(&sig);
}

START_TEST(t_openssl_keys)
{
	struct crypto *c = NULL;
	char dir[] = "/tmp/test_ipseckey.XXXXXX";

	if (sh("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP (t_openssl_keys): no openssl command\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tmp, sizeof(tmp), "%s", dir);
	ck_assert_int_eq(crypto_init(&c, NULL), 0);
	/* RSA: PKCS#1 v1.5 with SHA-256 (RFC 7427 sha256WithRSAEncryption) */
	key_roundtrip(c, "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", 2, 2048,
		      "300d06092a864886f70d01010b0500", "-sha256");
	/* a 3072-bit key with exponent 3 */
	key_roundtrip(c, "-algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3",
		      2, 3072, "300d06092a864886f70d01010b0500", "-sha256");
	/* ECDSA P-256 / P-384 (RFC 7427 ecdsa-with-SHA256 / SHA384) */
	key_roundtrip(c, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", 3, 256,
		      "300a06082a8648ce3d040302", "-sha256");
	key_roundtrip(c, "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", 3, 384,
		      "300a06082a8648ce3d040303", "-sha384");
	crypto_free(c);
	sh("rm -rf %s", tmp);
}
END_TEST

START_TEST(t_spki_errors)
{
	uint8_t alg;
	struct buf key;
	/* P-521 is not an IPSECKEY curve */
	uint8_t p521[] = { 0x30, 0x10, 0x30, 0x0e, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
			   0x01, 0x06, 0x03, 0x2b, 0x81, 0x04 };
	ck_assert_int_eq(ipseckey_from_spki((const uint8_t *)"\x30\x00", 2, &alg, &key), -EBADMSG);
	ck_assert_int_eq(ipseckey_from_spki(NULL, 0, &alg, &key), -EBADMSG);
	ck_assert_int_ne(ipseckey_from_spki(p521, sizeof(p521), &alg, &key), 0);
	/* Ed25519 both ways */
	uint8_t ed[44] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	memset(ed + 12, 0x11, 32);
	ck_assert_int_eq(ipseckey_from_spki(ed, sizeof(ed), &alg, &key), 0);
	ck_assert_uint_eq(alg, 4);
	ck_assert_uint_eq(key.len, 32);
	struct ipseckey k = { .alg = 4, .key = key.p, .key_len = key.len };
	struct buf s;
	ck_assert_int_eq(ipseckey_to_spki(&k, &s), 0);
	ck_assert_uint_eq(s.len, sizeof(ed));
	ck_assert(memcmp(s.p, ed, sizeof(ed)) == 0);
	buf_free(&s);
	buf_free(&key);
	k.alg = 1;
	ck_assert_int_eq(ipseckey_to_spki(&k, &s), -ENOTSUP);
}
END_TEST

static Suite *ipseckey_suite(void)
{
	Suite *s = suite_create("ipseckey");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, t_gateways);
	tcase_add_test(tc, t_algorithms);
	tcase_add_test(tc, t_malformed);
	tcase_add_test(tc, t_names);
	tcase_add_test(tc, t_base64);
	tcase_add_test(tc, t_cache);
	tcase_add_test(tc, t_spki_errors);
	tcase_add_test(tc, t_openssl_keys);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ipseckey_suite)
