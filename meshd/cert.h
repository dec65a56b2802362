/* cert.h — certificates and AUTH signatures over the NSS database (the only module
 * besides crypto that includes NSS headers).
 *
 * The NSS database is opened by crypto_init(nssdir) (one NSS initialisation per process
 * context); cert_open() then finds the node certificate and its key in it. All results
 * that name a peer are plain data (DER bytes, printable strings), never NSS handles. */
#ifndef MESHD_CERT_H
#define MESHD_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "log.h"

struct crypto;
struct cert_store;

enum cert_key_type { CERT_KEY_NONE, CERT_KEY_RSA, CERT_KEY_ECDSA };

/* Our own identity: the node certificate and its private key. */
struct cert_self {
	enum cert_key_type key;
	unsigned key_bits;            /* 2048, 256, ... */
	struct buf der;               /* certificate, DER (owned) */
	struct buf subject_der;       /* subject DN, DER: the ID_DER_ASN1_DN payload data */
	char subject[512];            /* printable: "C=US, O=Example, CN=node1" */
	char issuer[512];
	char serial[80];              /* hex */
	time_t not_before, not_after;
};

/* Open the store over an NSS database already opened by crypto_init(c, nssdir) and load
 * the node certificate by nickname (leftcert=, default "node"). A missing nickname is not
 * an error for NULL-auth-only setups: self->key is then CERT_KEY_NONE. 0 or -errno with
 * the reason logged. */
int cert_open(struct cert_store **out, struct crypto *c, const char *nickname,
	      struct log *log);
void cert_close(struct cert_store *s);
/* Reload the node certificate (a renewed one under the same nickname). */
int cert_reload(struct cert_store *s, const char *nickname);
const struct cert_self *cert_self(const struct cert_store *s);

/* RFC 7427 signature (AUTH method 14) over data with our key: out_alg gets the DER
 * AlgorithmIdentifier (RSASSA-PSS with SHA-256/384/512, or ecdsa-with-SHA256/384/512),
 * out_sig the signature. hash is a CRYPTO_HASH_* number chosen from the peer's
 * SIGNATURE_HASH_ALGORITHMS. 0 or -errno. */
int cert_sign(struct cert_store *s, uint16_t hash, const uint8_t *data, size_t len,
	      struct buf *out_alg, struct buf *out_sig);
/* Our certificate's intermediate CAs (DER, without the root), for CERT payloads after
 * our own: copies into out[] (owned by the caller), at most cap. Kept in the store and
 * rebuilt from the DB every few minutes. */
size_t cert_self_chain(struct cert_store *s, struct buf *out, size_t cap);

/* The result of checking a peer's certificate chain. */
struct cert_peer {
	struct buf der;               /* end-entity certificate (owned) */
	struct buf subject_der;       /* its subject DN, DER (compared with IDi/IDr) */
	char subject[512];
	char issuer[512];
	enum cert_key_type key;
	unsigned key_bits;
	time_t not_after;
	bool has_ip_san;              /* the certificate lists IP subjectAltNames */
	void *pubkey;                 /* opaque handle for cert_verify_sig; freed with the peer */
};

/* Verify a peer's end-entity certificate (DER) plus intermediates to a CA trusted in the
 * NSS database (trust CT,,), for the peer address: when the certificate carries IP
 * subjectAltNames, peer must be one of them. Successful results are cached by certificate
 * hash until the certificate expires. On failure *why says why (static text, e.g.
 * "certificate issuer is not trusted", "certificate expired", "peer address not in the
 * certificate's subjectAltName"). 0 or -EACCES / -EINVAL / -ENOMEM. */
int cert_verify_peer(struct cert_store *s, const uint8_t *ee, size_t ee_len,
		     const struct buf *chain, size_t n_chain, const struct addr *peer,
		     struct cert_peer *out, const char **why);
void cert_peer_free(struct cert_peer *p);

/* A peer key without a certificate (e.g. an IPSECKEY from DNS, converted to DER): out gets
 * only key, key_bits and pubkey, for cert_verify_sig. spki: a DER SubjectPublicKeyInfo.
 * 0, -EINVAL (undecodable), -ENOTSUP (not RSA or EC), -ENOMEM. Free with cert_peer_free. */
int cert_peer_from_spki(const uint8_t *spki, size_t len, struct cert_peer *out);

/* Counters of cert_verify_peer outcomes: a cold check (chain verified, key imported), a
 * cache hit (neither), and failures. */
struct cert_stats {
	uint64_t verify_cold, verify_cached, verify_failed;
};
void cert_get_stats(const struct cert_store *s, struct cert_stats *out);

/* Verify an AUTH signature by the peer's key: method 14 (alg is the DER
 * AlgorithmIdentifier from the AUTH payload) or method 1 (RSA PKCS#1 v1.5 with SHA-1,
 * alg empty). 0 or -EBADMSG (bad signature) / -ENOTSUP (algorithm) / -EINVAL (malformed
 * AlgorithmIdentifier, or one that does not fit the key). s may be NULL. */
int cert_verify_sig(struct cert_store *s, const struct cert_peer *p, unsigned method,
		    const uint8_t *alg, size_t alg_len, const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t sig_len);

/* Offline administration for meshctl (each opens and closes NSS itself). */
int cert_initnss(const char *nssdir, struct log *log);
/* Import a PKCS#12 file (password from pw, may be "") into nssdir; every CA certificate
 * in it gets trust CT,,; the key certificate keeps its friendly name (nickname).
 * Idempotent: importing the same file twice changes nothing. */
int cert_import_p12(const char *nssdir, const char *file, const char *pw, struct log *log);
/* In the NSS database this process has open (tests and benchmarks that change a running
 * node's identity): add a DER certificate under a nickname, or remove one. 0 or -errno. */
int cert_db_add_der(const uint8_t *der, size_t len, const char *nick);
int cert_db_del(const char *nick);
/* Print every certificate: nickname, subject, issuer, serial, expiry, trust; those that
 * expire within warn_s (or expired) get a WARNING line (json: expiry_warning). */
int cert_list(const char *nssdir, FILE *out, bool json, uint32_t warn_s);

/* ---- expiry (cert_expiry.c) ---- */
/* "in 301 days", "in 5 hours", "EXPIRED 3 days ago" into out; true when the certificate
 * expires within warn_s or has expired (warn about it). No NSS. */
bool cert_expiry_str(time_t not_after, time_t now, uint32_t warn_s, char *out, size_t cap);
/* The trusted CA certificates (trust C or T) of the NSS database this process has open. */
struct cert_ca_info {
	char subject[512];
	time_t not_after;
};
/* *out (malloc'd, caller frees) and *n; none when NSS is not open. 0 or -ENOMEM/-EIO. */
int cert_trusted_cas(struct cert_ca_info **out, size_t *n);
/* meshctl check (offline, opens nssdir): a warning through d for each node certificate
 * nickname whose certificate (the one meshd would pick) expires within warn_s, and for
 * each trusted CA that does. 0, or -errno when the database cannot be opened. */
struct diag;
int cert_expiry_check(const char *nssdir, const char *const *nicks, size_t n_nicks,
		      uint32_t warn_s, struct diag *d);

/* ---- the module's private part ----
 * What cert.c, cert_alg.c, cert_admin.c, cert_hostkey.c and cert_ike.c share, with NSS types. Only the module's own files define MESHD_CERT_INTERNAL
 * before including this header, so the library's headers stay inside the module
 * (DESIGN.md 3.2); every other module sees the library-free API above. */
#ifdef MESHD_CERT_INTERNAL
#include <nss/cert.h>  /* NSS's cert.h: this file is meshd/cert.h, which -I finds first */
#include <certdb.h>
#include <cryptohi.h>
#include <keyhi.h>
#include <nss.h>
#include <p12.h>
#include <p12plcy.h>
#include <pk11pub.h>
#include <pkcs11n.h>
#include <prerror.h>
#include <prprf.h>
#include <secerr.h>
#include <secoid.h>
#include <secpkcs7.h>

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
/* NSS mapping for CRYPTO_HASH_* ids: PKCS#11 hash and MGF (hashing itself is crypto_hash). */
CK_MECHANISM_TYPE cert_hash_mech(uint16_t hash);
CK_RSA_PKCS_MGF_TYPE cert_hash_mgf(uint16_t hash);

/* Admin (cert_admin.c): open the DB at nssdir read-write, refusing when NSS is already
 * initialised in this process (the admin functions are for meshctl, not the daemon). */
int cert_admin_open(const char *nssdir, bool create, NSSInitContext **ctx,
		    PK11SlotInfo **slot);
void cert_admin_close(NSSInitContext *ctx, PK11SlotInfo *slot);
/* A CA certificate with C or T trust as the database says now, not as NSS cached it when
 * the certificate was first loaded (cert_trust.c): the trust anchors and CERTREQ use it so
 * that meshctl reload sees trust changes made by other processes. */
bool cert_ca_trusted_now(CERTCertificate *c);
/* RFC 7427 signature with a private key (cert.c; cert_sign and cert_rawkey_sign use it). */
int cert_sign_key(SECKEYPrivateKey *key, enum cert_key_type type, uint16_t hash,
		  const uint8_t *data, size_t len, struct buf *out_alg, struct buf *out_sig);
/* A private key we sign with on every handshake, as a session object (cert.c): a key in
 * the sql: database is a token object whose attributes softoken reads back from SQLite on
 * every C_SignInit (~0.3 ms a signature here); its session copy lives in memory. Takes
 * key; returns the copy, or key itself when the token cannot copy it. */
SECKEYPrivateKey *cert_key_to_session(SECKEYPrivateKey *key);
#endif /* MESHD_CERT_INTERNAL */

#endif
