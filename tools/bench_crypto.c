/* bench_crypto.c — µs per operation of the per-handshake crypto primitives (crypto.h), to
 * compare with reference/performance.md §3. Usage: tools/bench_crypto [iterations] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* one side of a handshake: keygen + derive against a fixed peer value */
static int bench_dh(struct crypto *c, uint16_t group, const char *name, int n)
{
	struct crypto_dh *peer, *dh;
	struct crypto_buf pub, s;
	double t0, t1, tgen = 0, tder = 0;

	if (crypto_dh_new(c, group, &peer) != 0 || crypto_dh_public(peer, &pub) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		if (crypto_dh_new(c, group, &dh) != 0)
			return -1;
		t1 = now_us();
		if (crypto_dh_derive(dh, CRYPTO_IOV_BUF(pub), &s) != 0)
			return -1;
		tgen += t1 - t0;
		tder += now_us() - t1;
		crypto_buf_free(&s);
		crypto_dh_free(dh);
	}
	printf("%-12s keygen %8.1f us  derive %8.1f us  total %8.1f us\n", name, tgen / n,
	       tder / n, (tgen + tder) / n);
	crypto_buf_free(&pub);
	crypto_dh_free(peer);
	return 0;
}

static int bench_sk(struct crypto *c, uint16_t encr, uint16_t bits, uint16_t integ,
		    size_t alen, const char *name, int n)
{
	static uint8_t key[64], akey[64], pt[1024], out[1024 + 64], hdr[32];
	struct crypto_sk *sk;
	size_t olen;
	double t0;

	if (crypto_sk_new(c, encr, bits, integ, CRYPTO_IOV(key, crypto_encr_key_len(encr, bits)),
			  CRYPTO_IOV(akey, alen), &sk) != 0)
		return -1;
	t0 = now_us();
	for (int i = 0; i < n; i++)
		if (crypto_sk_encrypt(sk, NULL, CRYPTO_IOV(hdr, 32), CRYPTO_IOV(pt, sizeof(pt)), out,
				      sizeof(out), &olen) != 0)
			return -1;
	printf("%-12s seal 1 KiB %6.2f us\n", name, (now_us() - t0) / n);
	crypto_sk_free(sk);
	return 0;
}

static int bench_keys(struct crypto *c, int n)
{
	static const uint8_t spi[8], nonce[32], gir[32];
	struct crypto_ike_suite s = { CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE,
				      CRYPTO_PRF_HMAC_SHA2_256 };
	struct crypto_child_suite cs = { CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE };
	struct crypto_ike_keys k;
	struct crypto_child_keys ck;
	double t0 = now_us();

	for (int i = 0; i < n; i++) {
		if (crypto_ike_keys(c, &s, CRYPTO_IOV(gir, 32), CRYPTO_IOV(nonce, 32),
				    CRYPTO_IOV(nonce, 32), spi, spi, &k) != 0 ||
		    crypto_child_keys(c, s.prf, CRYPTO_IOV_BUF(k.sk_d), &cs, CRYPTO_IOV(NULL, 0),
				      CRYPTO_IOV(nonce, 32), CRYPTO_IOV(nonce, 32), &ck) != 0)
			return -1;
		crypto_ike_keys_free(&k);
		crypto_child_keys_free(&ck);
	}
	printf("%-12s IKE + Child key schedule %6.1f us\n", "prf-sha256", (now_us() - t0) / n);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	struct crypto *c;

	if (n <= 0 || crypto_init(&c, NULL) != 0)
		return 1;
	if (bench_dh(c, CRYPTO_DH_CURVE25519, "x25519", n) != 0 ||
	    bench_dh(c, CRYPTO_DH_ECP256, "ecp256", n) != 0 ||
	    bench_dh(c, CRYPTO_DH_ECP384, "ecp384", n / 4 + 1) != 0 ||
	    bench_dh(c, CRYPTO_DH_MODP2048, "modp2048", n / 4 + 1) != 0 ||
	    bench_dh(c, CRYPTO_DH_MODP3072, "modp3072", n / 10 + 1) != 0 ||
	    bench_sk(c, CRYPTO_ENCR_AES_GCM_16, 256, CRYPTO_INTEG_NONE, 0, "gcm256", 50 * n) != 0 ||
	    bench_sk(c, CRYPTO_ENCR_AES_CBC, 256, CRYPTO_INTEG_HMAC_SHA2_256_128, 32,
		     "cbc256-sha256", 50 * n) != 0 ||
	    bench_keys(c, 10 * n) != 0) {
		fprintf(stderr, "bench_crypto: an operation failed\n");
		crypto_free(c);
		return 1;
	}
	crypto_free(c);
	return 0;
}
