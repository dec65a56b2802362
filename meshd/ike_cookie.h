/* ike_cookie.h — stateless COOKIEs for IKE_SA_INIT under half-open load (RFC 7296 §2.6).
 *
 *   Cookie = VersionIDofSecret || first 15 bytes of SHA-256(Ni | IPi | SPIi | secret)
 *
 * 16 bytes in all. The secret is 32 random bytes made on first use and replaced every
 * IKE_COOKIE_PERIOD_MS; a cookie made with the previous secret is still accepted for one
 * more period, so an initiator that got a cookie just before a rotation is not turned
 * away. Rotation happens lazily when a cookie is made or checked (no timer). Nothing is
 * allocated: the state is embedded in struct ike. */
#ifndef MESHD_IKE_COOKIE_H
#define MESHD_IKE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define IKE_COOKIE_LEN 16
#define IKE_COOKIE_PERIOD_MS 60000
#define IKE_COOKIE_SECRET_LEN 32

struct ike_cookie {
	uint8_t secret[2][IKE_COOKIE_SECRET_LEN];   /* [0] current, [1] previous */
	uint8_t version[2];           /* their version IDs */
	bool have[2];
	uint64_t born_ms;             /* when secret[0] was made */
};

/* The cookie for (ni, ipi, spi_i) into out. 0, or -EIO when there is no randomness for a
 * new secret. */
int ike_cookie_make(struct ike_cookie *c, uint64_t now_ms, const uint8_t *ni, size_t ni_len,
		    const struct addr *ipi, uint64_t spi_i, uint8_t out[IKE_COOKIE_LEN])
	__attribute__((warn_unused_result));
/* Is cookie (borrowed, untrusted) one we made for (ni, ipi, spi_i) with the current or
 * the previous secret? Compared in constant time. */
bool ike_cookie_check(struct ike_cookie *c, uint64_t now_ms, const uint8_t *ni, size_t ni_len,
		      const struct addr *ipi, uint64_t spi_i, const uint8_t *cookie, size_t len);
/* Wipe the secrets. */
void ike_cookie_fini(struct ike_cookie *c);

#endif
