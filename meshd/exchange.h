/* exchange.h — inside the IKEv2 engine: the engine object, the table-driven exchange
 * machine (aesthetics.md 7.8) and the helpers the exchange files share.
 *
 * Each exchange file (x_sa_init.c, x_auth.c, x_info.c) owns one transition table. The
 * dispatcher (exchange.c) takes a parsed, authenticated message, finds the first row whose
 * state set, exchange, role, payload sets (cleartext and inside SK) and notify match, runs
 * its handler and applies the verdict. It is the only code that changes sa->state, and it
 * logs every change as "old -> new". */
#ifndef MESHD_EXCHANGE_H
#define MESHD_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "ike.h"
#include "ike_cookie.h"
#include "ike_emit.h"
#include "ike_pld.h"
#include "sa.h"
#include "wr.h"

struct meshd_ctx;
struct timer_ref;
struct dns;
struct ipseckey_cache;
struct dns_wait;
struct parked;

struct ike {
	struct meshd_ctx *ctx;        /* borrowed: the engine lives inside it */
	struct crypto *crypto;        /* (owned) */
	struct sa_table *sas;         /* (owned) */
	ike_send_fn send;
	void *send_arg;
	struct timer_ref *timers;     /* armed timers (owned records) */
	struct ike_counts st;         /* counters (the size fields are filled on demand) */
	struct ike_cookie cookie;     /* COOKIE secrets (ike_cookie.c) */
	size_t frag_size;             /* datagram size for SKF fragments; 0 = RFC 7383
	                               * defaults (ike_frag.c); tests set it */
	/* DNSSEC keys (ike_auth.c): the resolver, made on first need (tests put a fake one
	 * here first), the TTL cache of keys by peer ID, lookups by SA serial */
	struct dns *dns;              /* (owned) NULL until needed */
	struct ipseckey_cache *dns_keys;   /* (owned) */
	struct dns_wait *dns_waits;   /* (owned) */
	char dns_error[160];          /* why the resolver could not be made, "" = not tried */
	struct parked *parked;        /* (owned) messages of suspended handlers (exchange.c) */
	char why_buf[400];            /* a composed failure reason handed out as `const char *why`:
	                               * valid until the next one (no static buffers) */
	struct ike_props *props;      /* (owned) parsed ike=/esp= the SAs point to (ike.c) */
};

/* Verdicts of a handler (aesthetics.md 7.4). */
enum verdict {
	V_OK,          /* move to the row's state; a request's answer has been queued */
	V_SUSPEND,     /* waiting on asynchronous work (resumed by serial) */
	V_IGNORE,      /* drop silently and count; no state change */
	V_NOTIFY,      /* answer the request with the error notify in x->notify; a
	                * negotiation (not yet established) dies with it */
	V_FAIL,        /* the SA dies; x->why says why */
	V_BUG,
};

enum msg_role { ROLE_INITIATE, ROLE_REQUEST, ROLE_RESPONSE };

/* Any error notify (< 16384) in the row's notify field. */
#define X_ANY_ERROR 0xffff

struct xctx {
	struct ike *ike;
	struct ike_sa *sa;
	const struct ike_digest *d;   /* NULL when we initiate */
	const struct addr *from, *to; /* where the message came from / was sent to */
	uint16_t sport, dport;
	uint16_t notify;              /* V_NOTIFY: the type */
	uint8_t notify_data[16];      /*           its data */
	size_t notify_len;
	char why[160];                /* V_FAIL / V_NOTIFY: why, for the log and oe_failed */
	bool next_set;                /* V_OK: go to state `next` instead of the row's (a row
	                               * whose handler started another exchange on the SA) */
	enum ike_state next;
};

struct ike_transition {
	const char *story;            /* "respond to IKE_SA_INIT" */
	uint32_t from;                /* IKES_BIT() mask */
	uint8_t xchg;                 /* IKE_XCHG_* */
	enum msg_role role;
	uint64_t req, opt;            /* IKE_PL_BIT() sets, cleartext; N and V are always
	                               * allowed */
	uint64_t sk_req, sk_opt;      /* inside SK */
	uint16_t notify;              /* a notify that must be present, 0 = none,
	                               * X_ANY_ERROR = any error notify */
	bool (*when)(const struct ike_digest *d);   /* extra condition, NULL = none */
	enum ike_state to;
	enum verdict (*handler)(struct xctx *x);
};

struct ike_exchange {
	const char *name;
	const struct ike_transition *rows;
	size_t n;
};

#define PL(t) IKE_PL_BIT(IKE_PL_##t)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

extern const struct ike_exchange xchg_sa_init, xchg_auth, xchg_info, xchg_create,
	xchg_dpd;

/* ---- exchange.c: the dispatcher ---- */
/* A datagram for the engine (see ike_input). */
void exchange_input(struct ike *ike, const uint8_t *p, size_t n, const struct addr *from,
		    uint16_t sport, const struct addr *to, uint16_t dport);
/* Run the ROLE_INITIATE row of x that matches sa's state. Returns the verdict (the SA may
 * be dead and freed afterwards when it is not V_OK). */
enum verdict exchange_initiate(struct ike *ike, struct ike_sa *sa, const struct ike_exchange *x);
/* The retransmit budget ran out (ike_msg.c): the SA dies with that reason. */
void exchange_timeout(struct ike *ike, struct ike_sa *sa, const char *why);
/* Delete an SA now without telling the peer (engine shutdown, IKE SA lifetime). */
void exchange_kill(struct ike *ike, struct ike_sa *sa, const char *why);
/* A handler's asynchronous work for the SA serial is done: run the message it suspended
 * on again (dropped when the SA is gone). */
void exchange_resume(struct ike *ike, uint32_t serial);
/* Forget the suspended message of serial (the SA is gone) / all of them. */
void exchange_unpark(struct ike *ike, uint32_t serial);
/* A new IKE SA made by rekeying (x_create.c) enters the table established. */
void exchange_adopt(struct ike *ike, struct ike_sa *sa, const char *story);
/* Set x->why (printf style; truncated to fit). */
void x_why(struct xctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log with the SA's prefix: "\"group#prefix\"[N] ...peer #S: ". */
void sa_log(struct ike *ike, const struct ike_sa *sa, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- ike.c ---- */
/* Fill sa->conf from the group entry e and its conn (proposals parsed). 0 or -EINVAL with
 * *why set. */
int ike_sa_configure(struct ike *ike, struct ike_sa *sa, const struct pol_entry *e,
		     const char **why);
/* A fresh reqid for a Child SA (never 0; shares the daemon's counter with the group
 * entries so the two never collide). */
uint32_t ike_new_reqid(struct ike *ike);
/* Timers by serial. */
enum ike_timer {
	T_RETRANSMIT, T_IKE_EXPIRE, T_NAT_KEEPALIVE,
	T_DPD, T_CROSS,  /* ike_live.c */
	/* ike_rekey.c (from T_IKE_REKEY on); the CHILD ones carry a Child SA's serial */
	T_IKE_REKEY, T_IKE_SAMPLE, T_CHILD_REKEY, T_CHILD_EXPIRE, T_CHILD_SAMPLE,
};
uint64_t ike_timer_arm(struct ike *ike, uint32_t serial, enum ike_timer kind, uint64_t after_ms);
void ike_timer_cancel(struct ike *ike, uint64_t *id);   /* sets *id = 0 */
uint64_t ike_now_ms(const struct ike *ike);

/* ---- x_sa_init.c: shared with the rekey exchange (x_create.c) ---- */
/* A fresh Ni / Nr (32 random bytes) into b. 0 or -errno. */
int ike_new_nonce(struct buf *b);
/* sa->sk_out / sk_in from sa->keys and sa->suite, by sa->initiator's side. 0 or -errno. */
int ike_sk_make(struct ike *ike, struct ike_sa *sa);

/* ---- ike_msg.c: messages ---- */
struct msg_out {
	struct wr w;
	struct ike_emit e;
	bool sk;
	bool open;
};
/* Start a message of sa: header (SPIs, I/R flags, msgid) and, when sk, an SK payload whose
 * inner payloads the caller emits next with m->e. */
int msg_start(struct ike_sa *sa, struct msg_out *m, uint8_t xchg, bool response,
	      uint32_t msgid, bool sk);
/* Close, pad, encrypt (when sk) into *out (owned by the caller). The writer is freed. */
int msg_seal(struct ike_sa *sa, struct msg_out *m, struct buf *out);
void msg_abort(struct msg_out *m);
/* Send our request (adopted: *msg is emptied), remember it for retransmits, arm the
 * timer, advance msgid_next. */
int msg_send_request(struct ike *ike, struct ike_sa *sa, struct buf *msg);
/* Send our answer to the peer's current request (adopted) and cache it for duplicates;
 * req_in is the request it answers (its SHA-256 is kept for duplicate detection). */
int msg_send_response(struct ike *ike, struct ike_sa *sa, struct buf *msg,
		      const uint8_t *req_in, size_t req_len);
/* A stateless datagram (IKE_SA_INIT error answers). */
int msg_send_raw(struct ike *ike, const struct addr *from, uint16_t sport,
		 const struct addr *to, uint16_t dport, const uint8_t *p, size_t n);
/* The outstanding request got its answer: stop retransmitting. */
void msg_request_done(struct ike *ike, struct ike_sa *sa);
/* Retransmit timer fired. */
void msg_retransmit(struct ike *ike, struct ike_sa *sa);
/* Decrypt d's SK payload with sa's keys and parse the inner payloads into d. *pt receives
 * the plaintext (owned; d borrows from it). An SKF fragment is checked and kept until its
 * message is complete (RFC 7383 §2.6). 0 or -EBADMSG (integrity) / -EINVAL (inner payloads
 * malformed) / -ENOTSUP (fragments not negotiated) / -EINPROGRESS (a fragment was kept
 * or was a duplicate: nothing to do yet, already counted). */
int msg_unprotect(struct ike *ike, struct ike_sa *sa, struct ike_digest *d, struct buf *pt);
/* d passed its integrity check: with a NAT, follow the peer's port (RFC 7296 §2.23). */
void msg_authentic(struct ike *ike, struct ike_sa *sa, uint16_t sport, uint16_t dport);
/* Answer a duplicate request again from the cache (all fragments of it). */
void msg_resend_response(struct ike *ike, struct ike_sa *sa);
/* p is the request (or its fragment 1) msg_send_response answered last. */
bool msg_is_last_request(const struct ike_sa *sa, const uint8_t *p, size_t n);

/* ---- ike_child.c: Child SAs in the kernel ---- */
/* Reserve our inbound SPI for a Child SA with peer. */
int child_reserve_spi(struct ike *ike, const struct ike_sa *sa, uint32_t reqid, uint32_t *spi);
/* Derive keys (KEYMAT from SK_d, Ni, Nr; no PFS in IKE_AUTH), install both ESP SAs and
 * the /32 policies (in, fwd for tunnel, then out replacing the pair's shunt). On failure
 * everything installed is removed again and *why is set. */
int child_install(struct ike *ike, struct ike_sa *sa, struct child_sa *c, const char **why);
/* Remove the kernel state of c (SAs and policies); the object stays. */
void child_uninstall(struct ike *ike, struct child_sa *c);
/* Point the host pair's policies at c (in, fwd, then out, each replaced in place). */
int child_take_policies(struct ike *ike, struct child_sa *c);
/* Uninstall and free every Child SA of an IKE SA. */
void child_remove_all(struct ike *ike, uint32_t ike_serial);
/* Release an SPI reserved with child_reserve_spi that was never used. */
void child_release_spi(struct ike *ike, const struct ike_sa *sa, uint32_t spi);

/* Install a Child SA whose keys come from a CREATE_CHILD_SA: KEYMAT = prf+(SK_d,
 * [g^ir |] Ni | Nr), roles from c->initiator. The pair's policies are put only when no
 * Child SA with c's reqid holds them (they already lead to c's reqid); with defer_out the
 * outbound SA is kept in c->out_pending (child_add_pending_out adds it). */
int child_install_rekey(struct ike *ike, struct ike_sa *sa, struct child_sa *c,
			struct crypto_iov g_ir, struct crypto_iov ni, struct crypto_iov nr,
			bool defer_out, const char **why);
/* Same kernel selector (addresses, protocol, ports)? */
bool child_same_sel(const struct ksel *a, const struct ksel *b);
/* Add c's kept outbound SA now. */
void child_add_pending_out(struct ike *ike, struct child_sa *c);
/* The inbound bytes of c's SA (0 when the kernel does not say). */
uint64_t child_in_bytes(struct ike *ike, const struct child_sa *c);

/* ---- ike_rekey.c: lifetimes, rekey and expiry timers, the idle rule ---- */
/* c was installed: arm its rekey (salifetime - margin', or never with rekey=no), expiry
 * and idle sample timers. Called by child_install*. */
void rekey_child_arm(struct ike *ike, struct ike_sa *sa, struct child_sa *c);
/* How long after install c is rekeyed (ms; 0 = never); the kernel's soft lifetime. */
uint64_t rekey_child_after_ms(struct ike *ike, const struct ike_sa *sa, bool initiator);
/* sa was established (IKE_AUTH or an IKE rekey): arm its rekey and expiry timers. */
void rekey_ike_arm(struct ike *ike, struct ike_sa *sa);
/* A timer of ike_rekey.c fired for serial. */
void rekey_timer(struct ike *ike, uint32_t serial, enum ike_timer kind);
/* Cancel c's timers (it leaves the kernel). */
void rekey_child_disarm(struct ike *ike, struct child_sa *c);
/* The IKE SA's timers (it is being buried). */
void rekey_ike_disarm(struct ike *ike, struct ike_sa *sa);
/* Delete the Child SA c of sa with an INFORMATIONAL Delete(ESP); it leaves the kernel
 * when the answer comes (or with the IKE SA). */
int rekey_delete_child(struct ike *ike, struct ike_sa *sa, struct child_sa *c);
/* The answer to our Delete(ESP) came: remove the Child SAs we were deleting. */
void rekey_delete_answered(struct ike *ike, struct ike_sa *sa);
/* Try again later (a request was outstanding, or the peer said TEMPORARY_FAILURE). */
void rekey_retry(struct ike *ike, uint32_t serial, bool ike_sa, uint64_t after_ms);

/* ---- x_create.c ---- */
/* Drop sa's outstanding CREATE_CHILD_SA, releasing a reserved SPI (the SA is buried). */
void x_create_forget(struct ike *ike, struct ike_sa *sa);
/* Is our outstanding CREATE_CHILD_SA on sa the rekey of that Child SA? */
bool x_create_rekeying(const struct ike_sa *sa, uint32_t child);
/* Start rekeying Child SA c / the IKE SA sa. 0, -EBUSY (another exchange is under way:
 * try later) or -errno. */
int x_create_rekey_child(struct ike *ike, struct ike_sa *sa, struct child_sa *c);
int x_create_rekey_ike(struct ike *ike, struct ike_sa *sa);

/* ---- ike_natt.c: after a NAT was detected ---- */
/* The UDP encapsulation ports (ours, the peer's) for sa's Child SAs; false (ports 0) when
 * no NAT was detected or the IKE SA did not move to the NAT-T port. */
bool ike_natt_encap(const struct ike *ike, const struct ike_sa *sa, uint16_t *lport,
		    uint16_t *rport);
/* Start the NAT-keepalives of sa when we are behind the NAT (no-op otherwise or when they
 * already run). */
void ike_natt_arm(struct ike *ike, struct ike_sa *sa);
/* T_NAT_KEEPALIVE fired: send one, re-arm. */
void ike_natt_keepalive(struct ike *ike, struct ike_sa *sa);

/* ---- x_auth.c ---- */
/* The text logs and status show for an ESP suite ("ESP AES_GCM_16_256/ESN"). */
void child_esp_text(const struct suite *s, char *buf, size_t n);
/* Initiator: build and send the IKE_AUTH request (after the IKE_SA_INIT response). */
enum verdict x_auth_initiate(struct xctx *x);

/* ---- ike_live.c: liveness, INITIAL_CONTACT, crossing streams ---- */
/* Send INITIAL_CONTACT with sa's IKE_AUTH request? (no other IKE SA with the peer) */
bool live_initial_contact(const struct ike *ike, const struct ike_sa *sa);
/* sa has authenticated its peer (before its Child SA is installed): replace the IKE SAs
 * with that peer that were up before sa began (silently with INITIAL_CONTACT). */
void live_replace(struct ike *ike, struct ike_sa *sa, bool initial_contact);
/* sa just became ESTABLISHED (exchange.c): liveness timer, crossing streams. */
void live_up(struct ike *ike, struct ike_sa *sa);
/* sa answered IKE_SA_INIT: it waits for IKE_AUTH for twice the retransmit budget at
 * most (T_IKE_EXPIRE), so a peer that gave up leaves nothing behind. */
void live_half_open(struct ike *ike, struct ike_sa *sa);
/* sa took over from the IKE SA it rekeyed (sa->rekey_of): same age for the replacement
 * rules, its own liveness checks. */
void live_rekeyed(struct ike *ike, struct ike_sa *sa);
/* T_DPD fired. */
void live_dpd(struct ike *ike, struct ike_sa *sa);
/* The retransmit budget of sa's outstanding request (dpdtimeout for a liveness check). */
uint64_t live_budget_ms(const struct ike_sa *sa, uint64_t budget);
/* The retransmit budget ran out: was it a liveness check? Then the peer is dead and its
 * SAs (sa too) are gone: true. */
bool live_probe_lost(struct ike *ike, struct ike_sa *sa);
/* T_CROSS fired: the crossing-streams watch of a loser the peer should delete. */
void live_cross_watch(struct ike *ike, struct ike_sa *sa);
/* Serial of another established IKE SA with a Child SA for sa's host pair, or 0. */
uint32_t live_pair_carried(const struct ike *ike, const struct ike_sa *sa);

/* ---- names for logs ---- */
const char *ike_dh_short(uint16_t dh);          /* "X25519", "ECP_256", "MODP2048" */
/* "AES_GCM_16_256" etc. into buf. */
const char *ike_encr_str(uint16_t encr, uint16_t bits, char *buf, size_t n);

#endif
