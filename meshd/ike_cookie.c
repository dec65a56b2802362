/* ike_cookie.c — COOKIE secrets and the cookie function (RFC 7296 §2.6); see ike_cookie.h.
 * When to ask for a cookie is x_sa_init.c's business. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "ike_cookie.h"

static int new_secret(struct ike_cookie *c, uint64_t now_ms)
{
	uint8_t s[IKE_COOKIE_SECRET_LEN];
	if (crypto_random(s, sizeof(s)) < 0)
		return -EIO;
	memcpy(c->secret[1], c->secret[0], sizeof(s));
	c->version[1] = c->version[0];
	c->have[1] = c->have[0];
	memcpy(c->secret[0], s, sizeof(s));
	c->version[0] = (uint8_t)(c->version[1] + 1);
	c->have[0] = true;
	c->born_ms = now_ms;
	explicit_bzero(s, sizeof(s));
	return 0;
}

/* Rotate when the current secret is a period old; after two periods of silence the
 * previous one is too old to keep as well. */
static int rotate(struct ike_cookie *c, uint64_t now_ms)
{
	if (c->have[0] && now_ms - c->born_ms < IKE_COOKIE_PERIOD_MS)
		return 0;
	if (c->have[0] && now_ms - c->born_ms >= 2 * (uint64_t)IKE_COOKIE_PERIOD_MS) {
		explicit_bzero(c->secret[0], sizeof(c->secret[0]));
		c->have[0] = false;
	}
	return new_secret(c, now_ms);
}

static int compute(const struct ike_cookie *c, int which, const uint8_t *ni, size_t ni_len,
		   const struct addr *ipi, uint64_t spi_i, uint8_t out[IKE_COOKIE_LEN])
{
	uint8_t spi[8], h[CRYPTO_MAX_HASH_LEN];
	for (int i = 7; i >= 0; i--, spi_i >>= 8)
		spi[i] = (uint8_t)spi_i;
	struct crypto_iov in[4] = {
		CRYPTO_IOV(ni, ni_len), CRYPTO_IOV(ipi->b, addr_len(ipi->family)),
		CRYPTO_IOV(spi, 8), CRYPTO_IOV(c->secret[which], IKE_COOKIE_SECRET_LEN),
	};
	if (crypto_hash(CRYPTO_HASH_SHA2_256, in, 4, h) < 0)
		return -EIO;
	out[0] = c->version[which];
	memcpy(out + 1, h, IKE_COOKIE_LEN - 1);
	explicit_bzero(h, sizeof(h));
	return 0;
}

int ike_cookie_make(struct ike_cookie *c, uint64_t now_ms, const uint8_t *ni, size_t ni_len,
		    const struct addr *ipi, uint64_t spi_i, uint8_t out[IKE_COOKIE_LEN])
{
	int r = rotate(c, now_ms);
	if (r < 0)
		return r;
	return compute(c, 0, ni, ni_len, ipi, spi_i, out);
}

/* No early exit on the first differing byte. */
static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

bool ike_cookie_check(struct ike_cookie *c, uint64_t now_ms, const uint8_t *ni, size_t ni_len,
		      const struct addr *ipi, uint64_t spi_i, const uint8_t *cookie, size_t len)
{
	uint8_t want[IKE_COOKIE_LEN];
	if (len != IKE_COOKIE_LEN || rotate(c, now_ms) < 0)
		return false;
	/* the version byte picks the secret; it is not secret itself */
	for (int i = 0; i < 2; i++) {
		if (!c->have[i] || c->version[i] != cookie[0])
			continue;
		if (compute(c, i, ni, ni_len, ipi, spi_i, want) < 0)
			return false;
		bool ok = same(want, cookie, IKE_COOKIE_LEN);
		explicit_bzero(want, sizeof(want));
		return ok;
	}
	return false;
}

void ike_cookie_fini(struct ike_cookie *c)
{
	explicit_bzero(c, sizeof(*c));
}
