/* cert_ike.h — what IKE_AUTH needs from the NSS database beyond cert.h: the CERTREQ
 * contents (RFC 7296 §3.7), the intermediates sent after our certificate, and a printable
 * name for an RFC 7427 AlgorithmIdentifier. NSS-free header; cert_ike.c is the NSS side.
 *
 * NSS keeps one process-wide view of every database opened in the process (crypto.h), so
 * these functions see all of them: two daemons in one test process share trust anchors. */
#ifndef MESHD_CERT_IKE_H
#define MESHD_CERT_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CERT_IKE_SHA1_LEN 20

/* The CERTREQ Certification Authority field: the SHA-1 hash of the SubjectPublicKeyInfo
 * of every CA trusted for us (trust C or T, as cert_verify_peer uses), concatenated, in
 * database order; *out is owned by the caller (empty when there is no trusted CA).
 * 0 or -ENOMEM / -EIO. */
int cert_ike_certreq(struct buf *out);

/* The certificates that sit between our certificate (DER) and its root, leaf side first,
 * as found in the NSS database (the root itself is never included): at most cap of them
 * into out[], each owned by the caller. Returns how many (0 when the issuer is a root or
 * unknown). */
size_t cert_ike_chain(const struct buf *ee, struct buf *out, size_t cap);

/* "ECDSA-SHA256", "RSASSA-PSS-SHA512", "RSA-SHA384" for an AlgorithmIdentifier we accept,
 * NULL otherwise (static text). */
const char *cert_ike_alg_name(const uint8_t *alg, size_t len);

/* Do two DER Names (an ID_DER_ASN1_DN payload and a certificate's subject) name the same
 * entity? RFC 5280 §7.1 comparison as NSS does it (CERT_CompareName): byte-equal values, or
 * the same text under different string types (strongSwan encodes "O=meshd test" from its
 * id= setting as PrintableString where the certificate has UTF8String), printable strings
 * case- and blank-insensitively. False when either does not decode. */
bool cert_ike_dn_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
