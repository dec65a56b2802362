/* cert_priv.h — what cert.c, cert_alg.c and cert_admin.c share; NSS types allowed here, so
 * only cert*.c may include it (DESIGN.md §3.2). */
#ifndef MESHD_CERT_PRIV_H
#define MESHD_CERT_PRIV_H

#include <nss/cert.h>  /* not meshd/cert.h, which -I finds first */
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>

#include "cert.h"

/* A node certificate imported while its friendly name named another subject is stored as
 * "NICK" CERT_RENAME_MARK "SERIAL)"; cert_open counts it as NICK. */
#define CERT_RENAME_MARK " (meshd import "

/* Printable DN in Libreswan's order and style: the RDNs as they appear in the DER, joined
 * with ", " ("C=US, O=Example, CN=east"). Always NUL-terminates (truncates). */
void cert_dn_str(const CERTName *name, char *out, size_t cap);
/* The certificate serial as lowercase hex; truncates. */
void cert_serial_str(const CERTCertificate *cert, char *out, size_t cap);
/* notBefore / notAfter as time_t (0 if undecodable). */
void cert_validity(const CERTCertificate *cert, time_t *not_before, time_t *not_after);
/* Key type and size of a public key. */
enum cert_key_type cert_key_info(const SECKEYPublicKey *pk, unsigned *bits);

/* RFC 7427 AlgorithmIdentifier handling (cert_alg.c). */
enum cert_sig_scheme { CERT_SIG_RSA_PSS, CERT_SIG_RSA_PKCS1, CERT_SIG_ECDSA };

struct cert_alg {
	enum cert_sig_scheme scheme;
	uint16_t hash;                /* CRYPTO_HASH_* */
	uint16_t mgf_hash;            /* PSS: MGF1 hash (CRYPTO_HASH_*) */
	unsigned salt_len;            /* PSS */
};

/* The exact DER we send for scheme + hash (RFC 7427 Appendix A); NULL if none. */
const uint8_t *cert_alg_blob(enum cert_sig_scheme scheme, uint16_t hash, size_t *len);
/* Parse a peer's AlgorithmIdentifier. 0, -EINVAL (malformed DER), -ENOTSUP (well-formed but
 * an algorithm or parameter we do not accept). */
int cert_alg_parse(const uint8_t *der, size_t len, struct cert_alg *out);
/* NSS mapping for CRYPTO_HASH_* ids: digest length, hash OID, PKCS#11 hash and MGF. */
SECOidTag cert_hash_oid(uint16_t hash, size_t *len);
CK_MECHANISM_TYPE cert_hash_mech(uint16_t hash);
CK_RSA_PKCS_MGF_TYPE cert_hash_mgf(uint16_t hash);

/* Admin (cert_admin.c): open the DB at nssdir read-write, refusing when NSS is already
 * initialised in this process (the admin functions are for meshctl, not the daemon). */
int cert_admin_open(const char *nssdir, bool create, NSSInitContext **ctx,
		    PK11SlotInfo **slot);
void cert_admin_close(NSSInitContext *ctx, PK11SlotInfo *slot);

#endif
