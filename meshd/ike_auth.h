/* ike_auth.h — authentication for IKE_AUTH (RFC 7296 §2.15, RFC 7427, RFC 7619): the
 * daemon's certificate stores, our ID / CERT / CERTREQ / AUTH, and the checks of the
 * peer's. x_auth.c runs the exchange; everything about who is who lives here.
 *
 * Certificates (DESIGN.md §2.3, libreswan-oe.md §4.2): the NSS database of `config setup`
 * nssdir= is opened at start (ike_certs_open); each certificate group's leftcert= (default
 * "node") names our certificate. A missing database or certificate is not fatal: NULL
 * groups keep working and certificate groups fail with "no node certificate 'node' in
 * sql:/var/lib/meshd/nss".
 *
 * IDs: leftid=%fromcert (or a DN) sends ID_DER_ASN1_DN of our certificate; leftid unset
 * sends our IP (ID_IPV4_ADDR / ID_IPV6_ADDR), @fqdn ID_FQDN. The peer's ID must be its
 * certificate's subject DN, or its IP when the certificate lists that IP as a
 * subjectAltName; with rightid unset the IP subjectAltName is required (Libreswan's
 * require-id-on-certificate). rightca=%same: the peer's issuer must be ours; a DN: that
 * issuer. AUTH method 14 (RSASSA-PSS / ECDSA with SHA-2), hash from the peer's
 * SIGNATURE_HASH_ALGORITHMS; method 1 (RSA PKCS#1 v1.5 SHA-1) accepted from old peers.
 *
 * NSS keeps one view of all databases opened in a process (crypto.h). Two daemons in one
 * test process therefore share trust anchors and see each other's certificates: each
 * needs its own leftcert= nickname (tests/exchange/test_exchange_cert.c). */
#ifndef MESHD_IKE_AUTH_H
#define MESHD_IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "ike_pld.h"

struct meshd_ctx;
struct ike;
struct ike_sa;
struct ike_emit;
struct xctx;

/* ---- the daemon's certificate stores (ctx->certs) ---- */
/* Open nssdir and the node certificate of every certificate group. Never fatal: what is
 * missing is logged (when a group needs it) and remembered as the reason. Returns 0 or
 * -ENOMEM. */
int ike_certs_open(struct meshd_ctx *ctx);
/* The i-th certificate store the daemon opened (one per leftcert= nickname) and its
 * nickname, or NULL past the last (tests and benchmarks). */
struct cert_store *ike_certs_store(const struct meshd_ctx *ctx, size_t i, const char **nick);
void ike_certs_close(struct meshd_ctx *ctx);
/* `meshctl reload`: reload renewed certificates under the same nicknames, open those of
 * groups that are new. */
void ike_certs_reload(struct meshd_ctx *ctx);

/* Can sa's group authenticate us (a certificate, or NULL allowed)? false with *why set
 * (static or per-store text valid while the stores live). */
bool ike_auth_ready(struct ike *ike, const struct ike_sa *sa, const char **why);

/* IKE_SA_INIT, certificate groups only: N(SIGNATURE_HASH_ALGORITHMS) in both directions
 * and, in the response, CERTREQ with our trusted CAs. */
void ike_auth_sa_init_emit(struct ike *ike, const struct ike_sa *sa, struct ike_emit *e,
			   bool response);

#define AUTH_MAX_CHAIN 4

/* Our side of IKE_AUTH, ready to emit. */
struct auth_mine {
	struct ike_id id;
	uint8_t id_addr[16];
	bool certs;                   /* CERT (+ CERTREQ from the initiator) go out */
	struct buf cert;              /* our certificate, DER (owned) */
	struct buf chain[AUTH_MAX_CHAIN];   /* intermediates (owned) */
	size_t n_chain;
	struct buf certreq;           /* CERTREQ data (owned) */
	struct ike_auth auth;
	uint8_t mac[CRYPTO_MAX_HASH_LEN];
	struct buf alg, sig;          /* method 14 (owned) */
	const char *name;             /* "NULL", "ECDSA-SHA256", ... */
};

/* Build ID and AUTH for x->sa (we are x->sa->initiator's side). 0, or -1 with x->why. */
int ike_auth_mine(struct xctx *x, struct auth_mine *o);
/* ID, [CERT...], [CERTREQ], [IDr = ID_NULL for a NULL initiator], AUTH. */
void ike_auth_emit(struct ike_emit *e, const struct auth_mine *o, bool initiator);
void ike_auth_mine_free(struct auth_mine *o);

/* Verify the peer's ID, certificate or DNS key, and AUTH in x->d. On success
 * sa->peer_id, peer_id_type and auth_name are set. AUTH_FAIL with x->why set to the reason
 * (cert.h's texts for certificates: "certificate issuer is not trusted", "peer address not
 * in the certificate's subjectAltName", "AUTH signature invalid", ...; for DNS keys
 * "DNSSEC: <the lookup's reason>" or "AUTH signature does not match the DNSSEC key of
 * NAME"), logged. AUTH_PENDING: the peer's key is being looked up in DNS (group with
 * rightrsasigkey=%dnsondemand); the handler suspends and runs again when the answer is
 * there (exchange_resume). */
enum auth_verdict { AUTH_OK, AUTH_FAIL, AUTH_PENDING };
enum auth_verdict ike_auth_check(struct xctx *x);

/* ---- DNSSEC keys (libreswan-oe.md §4.3) ---- */
/* Initiator, when IKE_SA_INIT goes out: start looking up the responder's key (its IP ID's
 * reverse name) unless the cache has it. No-op for groups not using DNS keys. */
void ike_dns_start(struct ike *ike, struct ike_sa *sa);
/* The SA is gone: cancel its lookup, forget its records. */
void ike_dns_forget(struct ike *ike, uint32_t serial);
/* IKE SA old was rekeyed into serial: its record (where the peer's key came from) goes
 * with it. */
void ike_dns_rekeyed(struct ike *ike, uint32_t old, uint32_t serial);
/* Engine creation (make the resolver when a conn uses DNS keys) and shutdown. */
void ike_dns_init(struct ike *ike);
void ike_dns_fini(struct ike *ike);
/* Where the peer's key of an established SA came from: "NULL", "certificate", "DNSSEC
 * secure, TTL 250 s left" (into buf). */
const char *ike_key_source(const struct ike *ike, const struct ike_sa *sa, char *buf,
			   size_t n);

/* Initiator: the responder failed authentication: tell it (INFORMATIONAL with
 * N(AUTHENTICATION_FAILED) and D(IKE), RFC 7296 §2.21.2), sent once, not retransmitted. */
void ike_auth_reject_responder(struct xctx *x);

#endif
