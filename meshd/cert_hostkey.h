/* cert_hostkey.h — this node's public key for DNS publication (meshctl showhostkey) and raw
 * key pairs for nodes without a certificate (meshctl newhostkey). NSS-free header; the code
 * (cert_hostkey.c) is part of the cert module. Offline tools: each call opens and closes the
 * NSS database itself and refuses to run where NSS is already initialised (-EBUSY). */
#ifndef MESHD_CERT_HOSTKEY_H
#define MESHD_CERT_HOSTKEY_H

#include "buf.h"
#include "cert.h"
#include "log.h"

/* The public key of the certificate named nickname, or else of the raw private key with that
 * nickname, as DER SubjectPublicKeyInfo (owned by *spki). 0, -ENOENT (no such certificate or
 * key; no database), -EACCES (the DB has a password), -EIO, -ENOMEM. */
int cert_hostkey_spki(const char *nssdir, const char *nickname, struct buf *spki,
		      struct log *log) __attribute__((warn_unused_result));

/* Generate a raw key pair in the database (Libreswan's newhostkey): CERT_KEY_RSA with bits
 * (2048..8192, exponent 65537) or CERT_KEY_ECDSA (P-256; bits ignored), both halves stored
 * under nickname. *spki (owned; may be NULL) gets the public key. 0, -EEXIST (nickname
 * already names a key or certificate), -EINVAL, -ENOENT (no database), -EIO. */
int cert_hostkey_new(const char *nssdir, const char *nickname, enum cert_key_type type,
		     unsigned bits, struct buf *spki, struct log *log)
	__attribute__((warn_unused_result));

#endif
