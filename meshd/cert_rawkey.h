/* cert_rawkey.h — signing IKE AUTH with a raw key pair in NSS (no certificate), as made by
 * `meshctl newhostkey`: the peer authenticates us by the public key we publish in DNS
 * (rightrsasigkey=%dnsondemand on its side, DESIGN.md §2.3). NSS-free header; the code
 * (cert_rawkey.c) is part of the cert module. The daemon's NSS database must already be
 * open (crypto_init(nssdir)). */
#ifndef MESHD_CERT_RAWKEY_H
#define MESHD_CERT_RAWKEY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cert.h"

struct cert_rawkey;

/* The private key with that nickname in the internal slot. 0, -ENOENT (no such key),
 * -ENOTSUP (neither RSA nor EC), -ENOMEM. */
int cert_rawkey_open(struct cert_rawkey **out, const char *nickname)
	__attribute__((warn_unused_result));
void cert_rawkey_close(struct cert_rawkey *k);            /* accepts NULL */
/* Key type and size (2048, 256, ...). */
enum cert_key_type cert_rawkey_type(const struct cert_rawkey *k, unsigned *bits);
/* As cert_sign(): RFC 7427 signature (RSASSA-PSS or ECDSA with the SHA-2 hash) over data;
 * out_alg gets the AlgorithmIdentifier DER, out_sig the signature. 0 or -errno. */
int cert_rawkey_sign(struct cert_rawkey *k, uint16_t hash, const uint8_t *data, size_t len,
		     struct buf *out_alg, struct buf *out_sig);

#endif
