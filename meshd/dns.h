/* dns.h — IPSECKEY lookups with DNSSEC validation (DESIGN.md §2.3). dns.c is the only file
 * that includes ldns (DESIGN.md §3.2); this header is library-free.
 *
 * A lookup fetches NAME/IPSECKEY with its RRSIGs and validates the chain, DNSKEY by DS, up
 * to a configured trust anchor (dnssec-rootkey-file=, dnssec-anchors=). Only a SECURE answer
 * yields keys; every other outcome is a failure with its own status and reason text for
 * `meshctl why`. For a forward name (an FQDN ID) with the peer's address given, the name's
 * A or AAAA RRset is fetched and validated too, and must contain that address (Libreswan's
 * dns-match-id=yes, always on here).
 *
 * Threads: struct dns owns ONE worker thread, which alone touches ldns objects (resolver,
 * trust anchors, packets). The API below is called from the event-loop thread only;
 * requests and results cross through a mutex-protected queue, and an eventfd watched by the
 * loop (loop_add_fd) wakes the loop, which calls the result callbacks — so callbacks run on
 * the loop thread and the daemon never blocks on DNS. Without a loop there is no worker and
 * only dns_lookup_sync() works (tools, tests). */
#ifndef MESHD_DNS_H
#define MESHD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "ipseckey.h"

struct loop;
struct log;
struct dns;

#define DNS_MUST __attribute__((warn_unused_result))

/* Outcomes, in the order a validator reaches them. Only DNS_SECURE carries keys. */
#define DNS_STATUS_LIST(X) \
	X(DNS_SECURE, "secure") \
	X(DNS_INSECURE, "insecure") \
	X(DNS_BOGUS, "bogus") \
	X(DNS_MISSING, "missing") \
	X(DNS_ADDR_MISMATCH, "address-mismatch") \
	X(DNS_NO_KEYS, "no-usable-key") \
	X(DNS_SERVFAIL, "servfail") \
	X(DNS_TIMEOUT, "timeout") \
	X(DNS_ERROR, "error")
#define DNS_STATUS_ENUM(name, text) name,
enum dns_status { DNS_STATUS_LIST(DNS_STATUS_ENUM) };
const char *dns_status_name(enum dns_status s);

struct dns_config {
	bool dnssec_enable;           /* no: every answer is INSECURE (never used for AUTH) */
	const char *resolv_conf;      /* nameservers from here (default /etc/resolv.conf) ... */
	const char *server;           /* ... unless this numeric address is given (tests) */
	uint16_t port;                /* 0: 53 */
	const char *rootkey_file;     /* DS or DNSKEY records, zone-file format; NULL or a
				       * missing file: no root anchor (logged) */
	const char *anchors;          /* glob of more anchor files; NULL: none */
	unsigned timeout_ms;          /* per query try (0: 2000) */
	unsigned tries;               /* per query (0: 2) */
	time_t now;                   /* validation time; 0: the clock (tests pin it) */
};

struct dns_result {
	uint32_t serial;              /* the caller's (SA serial) */
	enum dns_status status;
	char qname[IPSECKEY_NAME_MAX];
	char reason[512];             /* one line for `why`: "IPSECKEY for X: RRSIG expired" */
	uint32_t ttl_s;               /* SECURE: min of RR TTLs, RRSIG original TTL and time to
				       * signature expiry */
	struct ipseckey_key *keys;    /* SECURE: usable keys as SPKI (owned by the result) */
	size_t n_keys;
	size_t n_skipped;             /* SECURE records that were not usable (DSA, gateway ...) */
};
void dns_result_fini(struct dns_result *r);

/* Called on the loop thread; r is borrowed for the call (move r->keys out to keep them:
 * set r->keys = NULL, r->n_keys = 0). Never called for a cancelled serial. */
typedef void (*dns_result_fn)(struct dns_result *r, void *arg);

/* Load the trust anchors and set up the resolver (errors logged with the file name). loop
 * may be NULL (synchronous use only). 0, -ENOENT (no nameserver / no anchor at all while
 * dnssec_enable), -EINVAL (an unreadable anchor file), -ENOMEM, -errno of pthread/eventfd. */
int dns_new(struct dns **out, const struct dns_config *cfg, struct loop *loop,
	    struct log *log) DNS_MUST;
/* Stops the worker (waits for its current query to end, at most one query timeout), drops
 * pending requests without calling back, frees everything. Accepts NULL. */
void dns_free(struct dns *d);

/* Queue a lookup of qname/IPSECKEY ("1.2.0.10.in-addr.arpa." or "east.example.") for the
 * caller's serial. peer: the peer's address (may be NULL); for a forward name (not under
 * in-addr.arpa./ip6.arpa.) its validated A/AAAA set must contain peer, and a record whose
 * gateway is an address must name peer. fn(arg) gets
 * the result later on the loop thread. 0, -EINVAL (bad name), -EBUSY (queue full),
 * -ENOTCONN (no loop), -ENOMEM. */
int dns_lookup_ipseckey(struct dns *d, uint32_t serial, const char *qname,
			const struct addr *peer, dns_result_fn fn, void *arg) DNS_MUST;
/* Forget every queued or running lookup of serial: its callback will not be called. */
void dns_cancel(struct dns *d, uint32_t serial);
/* Lookups queued or running. */
size_t dns_pending(const struct dns *d);

/* The same lookup, blocking, on the calling thread (tools and tests): -EBUSY when d has a
 * loop (the resolver is the worker's then), -EINVAL for a name without its final dot (out
 * is filled with DNS_ERROR), else 0 with the outcome in out. */
int dns_lookup_sync(struct dns *d, const char *qname, const struct addr *peer,
		    struct dns_result *out) DNS_MUST;

/* ---- test hook ----
 * A struct dns without resolver, anchors or worker: each dns_lookup_ipseckey() is answered
 * at once by fn (out is zeroed, its serial and qname set; fn fills status, reason, keys as
 * malloc'd SPKI copies), and the result is queued and delivered through the eventfd on
 * loop like a real one (so dns_cancel before the loop runs drops it). For the exchange
 * tests, which have no DNS server. */
typedef void (*dns_fake_fn)(void *arg, const char *qname, const struct addr *peer,
			    struct dns_result *out);
int dns_new_fake(struct dns **out, struct loop *loop, struct log *log, dns_fake_fn fn,
		 void *arg) DNS_MUST;

/* Number of trust anchor records loaded. */
size_t dns_anchor_count(const struct dns *d);

#endif
