/* dns.c — IPSECKEY lookups and DNSSEC validation with ldns (the only ldns user; DESIGN.md
 * §3.2). See dns.h for the contract.
 *
 * Validation, a small DNSSEC validator over a non-validating path (RFC 4033-4035): queries go
 * out with DO and CD set, so whatever sits between us and the authority hands us the
 * signatures; we check them ourselves.
 *   1. The trust anchor: the configured DS/DNSKEY whose owner is the longest suffix of the
 *      name. None: INSECURE (nothing vouches for the name).
 *   2. The answer RRset and its RRSIGs; the signer's DNSKEY set is trusted when the anchor
 *      (DS digest or DNSKEY) matches one of its keys that signs it, or, below the anchor,
 *      when the zone's DS set, signed by a trusted parent, does (recursively, bounded).
 *   3. No RRSIG: INSECURE only if a signed NSEC proves a delegation without DS between the
 *      anchor and the name; otherwise BOGUS (the anchor says the zone is signed).
 *   4. No RRset: MISSING, saying whether the denial (NSEC/NSEC3) validated.
 * The result TTL is the least of the RR TTLs, the RRSIG original TTL and the time left
 * before the signature expires.
 *
 * Threads: ldns objects (resolver, anchors, packets) are used by the worker thread only;
 * dns_new sets them up before the worker starts. The loop thread and the worker share only
 * the request and result queues, under d->mu. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "log.h"
#include "loop.h"

#define DNS_QUEUE_MAX 1024          /* queued lookups before -EBUSY */
#define DNS_QUERY_BUDGET 40         /* DNS queries per lookup: bounds a hostile chain */

#define DNS_STATUS_TEXT(name, text) [name] = text,
static const char *const status_names[] = { DNS_STATUS_LIST(DNS_STATUS_TEXT) };

const char *dns_status_name(enum dns_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

struct dns_req {
	struct dns_req *next;
	uint32_t serial;
	char qname[IPSECKEY_NAME_MAX];
	struct addr peer;             /* family 0: none */
	dns_result_fn fn;
	void *arg;
	struct dns_result res;
};

struct dns {
	struct log *log;
	struct loop *loop;
	bool dnssec;
	time_t now_fixed;
	/* worker-only after dns_new */
	ldns_resolver *res;
	ldns_rr_list *anchors;        /* DS and DNSKEY records */
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dns_req *todo, *done;  /* FIFO queues (tail found by walking: short) */
	struct dns_req *running;
	bool running_cancelled;
	size_t n_pending;
	bool stop;
	bool have_thread;
	pthread_t thread;
	int efd;
	dns_fake_fn fake;             /* test hook (dns_new_fake): answers instead of ldns */
	void *fake_arg;
};

/* ---- one lookup (worker thread) ---- */

struct keymemo {
	struct keymemo *next;
	ldns_rdf *zone;
	ldns_rr_list *keys;           /* validated DNSKEY set, or NULL */
	enum dns_status st;
	char why[256];
};

struct vctx {
	struct dns *d;
	time_t now;
	unsigned budget;
	struct keymemo *memo;
	unsigned depth;
};

static void say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

static void name_str(const ldns_rdf *n, char *out, size_t cap)
{
	char *s = ldns_rdf2str(n);
	snprintf(out, cap, "%s", s != NULL ? s : "?");
	free(s);
}

/* Clones of the RRs of section sec with this owner and type (RRSIG: those covering type). */
static ldns_rr_list *pick(const ldns_pkt *p, ldns_pkt_section sec, const ldns_rdf *owner,
			  ldns_rr_type type, bool sigs)
{
	ldns_rr_list *from = sec == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) : ldns_pkt_authority(p);
	ldns_rr_list *out = ldns_rr_list_new();

	for (size_t i = 0; out != NULL && i < ldns_rr_list_rr_count(from); i++) {
		ldns_rr *rr = ldns_rr_list_rr(from, i);
		if (owner != NULL && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (sigs) {
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) < 1 ||
			    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) != type)
				continue;
		} else if (ldns_rr_get_type(rr) != type) {
			continue;
		}
		ldns_rr_list_push_rr(out, ldns_rr_clone(rr));
	}
	if (out != NULL && ldns_rr_list_rr_count(out) == 0) {
		ldns_rr_list_free(out);
		out = NULL;
	}
	return out;
}

static enum dns_status query(struct vctx *v, const ldns_rdf *name, ldns_rr_type t,
			     ldns_pkt **pkt, char *why, size_t cap)
{
	char n[IPSECKEY_NAME_MAX];
	ldns_status s;

	*pkt = NULL;
	if (v->budget == 0) {
		say(why, cap, "too many queries to validate the chain");
		return DNS_BOGUS;
	}
	v->budget--;
	s = ldns_resolver_send(pkt, v->d->res, name, t, LDNS_RR_CLASS_IN, LDNS_RD);
	name_str(name, n, sizeof(n));
	if (s != LDNS_STATUS_OK || *pkt == NULL) {
		say(why, cap, "no answer from the nameserver for %s (%s)", n,
		    ldns_get_errorstr_by_id(s));
		if (*pkt != NULL)
			ldns_pkt_free(*pkt);
		*pkt = NULL;
		return DNS_TIMEOUT;
	}
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(*pkt);
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
		say(why, cap, "the nameserver answered %s for %s",
		    rc == LDNS_RCODE_SERVFAIL ? "SERVFAIL" : rc == LDNS_RCODE_REFUSED ? "REFUSED" :
		    "an error", n);
		ldns_pkt_free(*pkt);
		*pkt = NULL;
		return DNS_SERVFAIL;
	}
	return DNS_SECURE;
}

static const ldns_rr *find_anchor(struct dns *d, const ldns_rdf *name)
{
	const ldns_rr *best = NULL;

	for (size_t i = 0; i < ldns_rr_list_rr_count(d->anchors); i++) {
		const ldns_rr *a = ldns_rr_list_rr(d->anchors, i);
		const ldns_rdf *o = ldns_rr_owner(a);
		if (ldns_dname_compare(o, name) != 0 && !ldns_dname_is_subdomain(name, o))
			continue;
		if (best == NULL || ldns_dname_label_count(o) > ldns_dname_label_count(ldns_rr_owner(best)))
			best = a;
	}
	return best;
}

/* Keys of the DNSKEY set that an anchor for zone (DS or DNSKEY) names. */
static ldns_rr_list *anchored_keys(struct dns *d, const ldns_rdf *zone, const ldns_rr_list *keys)
{
	ldns_rr_list *out = ldns_rr_list_new();

	for (size_t i = 0; out != NULL && i < ldns_rr_list_rr_count(d->anchors); i++) {
		const ldns_rr *a = ldns_rr_list_rr(d->anchors, i);
		if (ldns_dname_compare(ldns_rr_owner(a), zone) != 0)
			continue;
		for (size_t k = 0; k < ldns_rr_list_rr_count(keys); k++) {
			ldns_rr *key = ldns_rr_list_rr(keys, k);
			bool match = ldns_rr_get_type(a) == LDNS_RR_TYPE_DS ?
				     ldns_rr_compare_ds(a, key) : ldns_rr_compare(a, key) == 0;
			if (match)
				ldns_rr_list_push_rr(out, key);     /* borrowed from keys */
		}
	}
	return out;
}

static ldns_rr_list *ds_matched_keys(const ldns_rr_list *ds, const ldns_rr_list *keys)
{
	ldns_rr_list *out = ldns_rr_list_new();

	for (size_t i = 0; out != NULL && i < ldns_rr_list_rr_count(ds); i++)
		for (size_t k = 0; k < ldns_rr_list_rr_count(keys); k++)
			if (ldns_rr_compare_ds(ldns_rr_list_rr(ds, i), ldns_rr_list_rr(keys, k)))
				ldns_rr_list_push_rr(out, ldns_rr_list_rr(keys, k));
	return out;
}

static enum dns_status zone_keys(struct vctx *v, const ldns_rdf *zone, const ldns_rdf *anchor,
				 const ldns_rr_list **keys, char *why, size_t cap);

/* Verify rrset with sigs by the validated keys of the signer zone named in sigs. */
static enum dns_status verify_rrset(struct vctx *v, const ldns_rr_list *rrset,
				    const ldns_rr_list *sigs, const ldns_rdf *owner,
				    const ldns_rdf *anchor, const char *what, char *why, size_t cap)
{
	const ldns_rr_list *keys;
	const ldns_rdf *signer = ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0));
	char z[IPSECKEY_NAME_MAX];
	enum dns_status st;

	if (signer == NULL ||
	    (ldns_dname_compare(signer, owner) != 0 && !ldns_dname_is_subdomain(owner, signer)) ||
	    (ldns_dname_compare(signer, anchor) != 0 && !ldns_dname_is_subdomain(signer, anchor))) {
		say(why, cap, "%s signed by a zone that cannot vouch for it", what);
		return DNS_BOGUS;
	}
	st = zone_keys(v, signer, anchor, &keys, why, cap);
	if (st != DNS_SECURE)
		return st;
	ldns_status s = ldns_verify_time(rrset, sigs, keys, v->now, NULL);
	if (s != LDNS_STATUS_OK) {
		name_str(signer, z, sizeof(z));
		say(why, cap, "%s: %s (signer %s)", what, ldns_get_errorstr_by_id(s), z);
		return DNS_BOGUS;
	}
	return DNS_SECURE;
}

static enum dns_status zone_keys_fetch(struct vctx *v, const ldns_rdf *zone,
				       const ldns_rdf *anchor, ldns_rr_list **out, char *why,
				       size_t cap)
{
	char z[IPSECKEY_NAME_MAX];
	ldns_pkt *p = NULL, *dsp = NULL;
	ldns_rr_list *keys = NULL, *sigs = NULL, *ds = NULL, *dssigs = NULL, *trusted = NULL;
	enum dns_status st;

	name_str(zone, z, sizeof(z));
	st = query(v, zone, LDNS_RR_TYPE_DNSKEY, &p, why, cap);
	if (st != DNS_SECURE)
		goto done;
	keys = pick(p, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_DNSKEY, false);
	sigs = pick(p, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_DNSKEY, true);
	if (keys == NULL || sigs == NULL) {
		say(why, cap, "no signed DNSKEY set for %s", z);
		st = DNS_BOGUS;
		goto done;
	}
	if (ldns_dname_compare(zone, anchor) == 0) {
		trusted = anchored_keys(v->d, zone, keys);
		if (trusted == NULL || ldns_rr_list_rr_count(trusted) == 0) {
			say(why, cap, "no DNSKEY of %s matches the trust anchor", z);
			st = DNS_BOGUS;
			goto done;
		}
	} else {
		/* the zone's DS set, from (and signed by) its parent */
		st = query(v, zone, LDNS_RR_TYPE_DS, &dsp, why, cap);
		if (st != DNS_SECURE)
			goto done;
		ds = pick(dsp, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_DS, false);
		dssigs = pick(dsp, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_DS, true);
		if (ds == NULL || dssigs == NULL) {
			say(why, cap, "no signed DS set for %s in its parent", z);
			st = DNS_BOGUS;
			goto done;
		}
		/* the DS signer must be a proper ancestor of the zone */
		const ldns_rdf *ps = ldns_rr_rrsig_signame(ldns_rr_list_rr(dssigs, 0));
		if (ps == NULL || ldns_dname_compare(ps, zone) == 0) {
			say(why, cap, "DS set for %s is not signed by its parent", z);
			st = DNS_BOGUS;
			goto done;
		}
		st = verify_rrset(v, ds, dssigs, zone, anchor, "DS set", why, cap);
		if (st != DNS_SECURE)
			goto done;
		trusted = ds_matched_keys(ds, keys);
		if (trusted == NULL || ldns_rr_list_rr_count(trusted) == 0) {
			say(why, cap, "no DNSKEY of %s matches its DS set", z);
			st = DNS_BOGUS;
			goto done;
		}
	}
	ldns_status s = ldns_verify_time(keys, sigs, trusted, v->now, NULL);
	if (s != LDNS_STATUS_OK) {
		say(why, cap, "DNSKEY set of %s: %s", z, ldns_get_errorstr_by_id(s));
		st = DNS_BOGUS;
		goto done;
	}
	*out = keys;
	keys = NULL;
done:
	if (trusted != NULL)
		ldns_rr_list_free(trusted);             /* borrowed members */
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(ds);
	ldns_rr_list_deep_free(dssigs);
	if (p != NULL)
		ldns_pkt_free(p);
	if (dsp != NULL)
		ldns_pkt_free(dsp);
	return st;
}

/* The validated DNSKEY set of zone, memoised for the lookup. */
static enum dns_status zone_keys(struct vctx *v, const ldns_rdf *zone, const ldns_rdf *anchor,
				 const ldns_rr_list **keys, char *why, size_t cap)
{
	struct keymemo *m;

	for (m = v->memo; m != NULL; m = m->next)
		if (ldns_dname_compare(m->zone, zone) == 0)
			break;
	if (m == NULL) {
		if (v->depth > 16) {
			say(why, cap, "delegation chain too deep");
			return DNS_BOGUS;
		}
		m = calloc(1, sizeof(*m));
		if (m == NULL) {
			say(why, cap, "out of memory");
			return DNS_ERROR;
		}
		m->zone = ldns_rdf_clone(zone);
		v->depth++;
		m->st = zone_keys_fetch(v, zone, anchor, &m->keys, m->why, sizeof(m->why));
		v->depth--;
		m->next = v->memo;
		v->memo = m;
	}
	*keys = m->keys;
	if (m->st != DNS_SECURE)
		say(why, cap, "%s", m->why);
	return m->st;
}

/* Signed NSEC owned by name in pkt's authority section, validated; NULL if none. */
static ldns_rr *signed_nsec(struct vctx *v, const ldns_pkt *p, const ldns_rdf *owner,
			    const ldns_rdf *anchor, ldns_rr_list **hold)
{
	char why[256];
	ldns_rr_list *n = pick(p, LDNS_SECTION_AUTHORITY, owner, LDNS_RR_TYPE_NSEC, false);
	ldns_rr_list *s = pick(p, LDNS_SECTION_AUTHORITY, owner, LDNS_RR_TYPE_NSEC, true);
	ldns_rr *r = NULL;

	if (n != NULL && s != NULL &&
	    verify_rrset(v, n, s, owner, anchor, "NSEC", why, sizeof(why)) == DNS_SECURE)
		r = ldns_rr_list_rr(n, 0);
	ldns_rr_list_deep_free(s);
	if (r == NULL) {
		ldns_rr_list_deep_free(n);
		n = NULL;
	}
	*hold = n;
	return r;
}

/* Is there a proven insecure delegation (NS without DS, RFC 4035 §5.2) strictly between
 * the anchor and name (or at name)? On true, zone names it. */
static bool insecure_delegation(struct vctx *v, const ldns_rdf *name, const ldns_rdf *anchor,
				char *zone, size_t cap)
{
	unsigned total = ldns_dname_label_count(name), top = ldns_dname_label_count(anchor);
	char why[256];

	for (unsigned labels = top + 1; labels <= total; labels++) {
		ldns_rdf *z = ldns_dname_clone_from(name, (uint16_t)(total - labels));
		ldns_pkt *p = NULL;
		ldns_rr_list *hold = NULL;
		bool proven = false, stop = true;

		if (z != NULL && query(v, z, LDNS_RR_TYPE_DS, &p, why, sizeof(why)) == DNS_SECURE) {
			ldns_rr_list *ds = pick(p, LDNS_SECTION_ANSWER, z, LDNS_RR_TYPE_DS, false);
			if (ds != NULL) {
				stop = false;               /* a signed delegation: go on below */
			} else if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR) {
				ldns_rr *nsec = signed_nsec(v, p, z, anchor, &hold);
				if (nsec != NULL) {
					ldns_rdf *bm = ldns_nsec_get_bitmap(nsec);
					proven = ldns_nsec_bitmap_covers_type(bm, LDNS_RR_TYPE_NS) &&
						 !ldns_nsec_bitmap_covers_type(bm, LDNS_RR_TYPE_DS) &&
						 !ldns_nsec_bitmap_covers_type(bm, LDNS_RR_TYPE_SOA);
					stop = proven;
				} else {
					stop = false;       /* an empty non-terminal, NSEC3, ... */
				}
			}
			ldns_rr_list_deep_free(ds);
		}
		if (proven)
			name_str(z, zone, cap);
		ldns_rr_list_deep_free(hold);
		if (p != NULL)
			ldns_pkt_free(p);
		ldns_rdf_deep_free(z);
		if (stop)
			return proven;
	}
	return false;
}

/* Why is there no RRset: a validated NSEC/NSEC3 denial, or not. */
static void denial(struct vctx *v, const ldns_pkt *p, const ldns_rdf *name, ldns_rr_type t,
		   const ldns_rdf *anchor, char *out, size_t cap)
{
	bool nx = ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN, ok = false;
	ldns_rr_list *auth = ldns_pkt_authority(p);
	char why[256] = "no NSEC/NSEC3 records in the answer";

	for (size_t i = 0; !ok && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *n = ldns_rr_list_rr(auth, i);
		ldns_rr_type nt = ldns_rr_get_type(n);
		if (nt != LDNS_RR_TYPE_NSEC && nt != LDNS_RR_TYPE_NSEC3)
			continue;
		ldns_rr_list *set = pick(p, LDNS_SECTION_AUTHORITY, ldns_rr_owner(n), nt, false);
		ldns_rr_list *sig = pick(p, LDNS_SECTION_AUTHORITY, ldns_rr_owner(n), nt, true);
		bool covers;
		if (nt == LDNS_RR_TYPE_NSEC)
			covers = nx ? ldns_nsec_covers_name(n, name) :
				 ldns_dname_compare(ldns_rr_owner(n), name) == 0 &&
				 !ldns_nsec_bitmap_covers_type(ldns_nsec_get_bitmap(n), t) &&
				 !ldns_nsec_bitmap_covers_type(ldns_nsec_get_bitmap(n), LDNS_RR_TYPE_CNAME);
		else
			covers = true;          /* NSEC3: checked as a whole below */
		if (covers && set != NULL && sig != NULL &&
		    verify_rrset(v, set, sig, ldns_rr_owner(n), anchor, "denial", why,
				 sizeof(why)) == DNS_SECURE)
			ok = nt == LDNS_RR_TYPE_NSEC;
		ldns_rr_list_deep_free(set);
		ldns_rr_list_deep_free(sig);
		if (nt == LDNS_RR_TYPE_NSEC3 && !ok) {
			ldns_rr *q = ldns_rr_new_frm_type(t);
			ldns_rr_list *n3 = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_NSEC3,
								    LDNS_SECTION_AUTHORITY);
			ldns_rr_list *s3 = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_RRSIG,
								    LDNS_SECTION_AUTHORITY);
			if (q != NULL && n3 != NULL && s3 != NULL) {
				ldns_rr_set_owner(q, ldns_rdf_clone(name));
				ldns_rr_set_question(q, true);
				ok = ldns_dnssec_verify_denial_nsec3(q, n3, s3, ldns_pkt_get_rcode(p), t,
								     !nx) == LDNS_STATUS_OK;
			}
			ldns_rr_free(q);
			ldns_rr_list_deep_free(n3);
			ldns_rr_list_deep_free(s3);
			break;
		}
	}
	say(out, cap, "%s%s", nx ? "NXDOMAIN" : "NODATA",
	    ok ? ", denial validated" : "; the denial did not validate: ");
	if (!ok)
		strncat(out, why, cap - strlen(out) - 1);
}

static uint32_t rrsig_ttl(const ldns_rr_list *rrset, const ldns_rr_list *sigs, time_t now)
{
	uint32_t ttl = UINT32_MAX;

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrset); i++)
		if (ldns_rr_ttl(ldns_rr_list_rr(rrset, i)) < ttl)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(rrset, i));
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
		const ldns_rr *s = ldns_rr_list_rr(sigs, i);
		uint32_t o = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(s));
		time_t exp = ldns_rdf2native_time_t(ldns_rr_rrsig_expiration(s));
		if (o < ttl)
			ttl = o;
		if (exp > now && (uint64_t)(exp - now) < ttl)
			ttl = (uint32_t)(exp - now);
	}
	return ttl == UINT32_MAX ? 0 : ttl;
}

/* Fetch name/t and validate it. SECURE: *rrset (owned) and *ttl. */
static enum dns_status fetch(struct vctx *v, const ldns_rdf *name, ldns_rr_type t,
			     ldns_rr_list **rrset, uint32_t *ttl, char *why, size_t cap)
{
	char n[IPSECKEY_NAME_MAX], z[IPSECKEY_NAME_MAX], a[IPSECKEY_NAME_MAX];
	const ldns_rr *anchor = find_anchor(v->d, name);
	ldns_rr_list *sigs = NULL;
	ldns_pkt *p = NULL;
	enum dns_status st;

	*rrset = NULL;
	name_str(name, n, sizeof(n));
	st = query(v, name, t, &p, why, cap);
	if (st != DNS_SECURE)
		return st;
	*rrset = pick(p, LDNS_SECTION_ANSWER, name, t, false);
	if (!v->d->dnssec) {
		say(why, cap, "DNSSEC validation is off (dnssec-enable=no)");
		st = *rrset != NULL ? DNS_INSECURE : DNS_MISSING;
		goto done;
	}
	if (anchor == NULL) {
		say(why, cap, "no trust anchor covers %s", n);
		st = DNS_INSECURE;
		goto done;
	}
	const ldns_rdf *an = ldns_rr_owner(anchor);
	name_str(an, a, sizeof(a));
	if (*rrset == NULL) {
		denial(v, p, name, t, an, why, cap);
		st = DNS_MISSING;
		goto done;
	}
	sigs = pick(p, LDNS_SECTION_ANSWER, name, t, true);
	if (sigs == NULL) {
		if (insecure_delegation(v, name, an, z, sizeof(z))) {
			say(why, cap, "zone %s is unsigned (its parent proves there is no DS)", z);
			st = DNS_INSECURE;
		} else {
			say(why, cap, "answer has no RRSIG, but %s is under the trust anchor %s", n, a);
			st = DNS_BOGUS;
		}
		goto done;
	}
	st = verify_rrset(v, *rrset, sigs, name, an, "answer", why, cap);
	if (st == DNS_SECURE)
		*ttl = rrsig_ttl(*rrset, sigs, v->now);
done:
	if (st != DNS_SECURE) {
		ldns_rr_list_deep_free(*rrset);
		*rrset = NULL;
	}
	ldns_rr_list_deep_free(sigs);
	ldns_pkt_free(p);
	return st;
}

static bool is_reverse(const char *qname)
{
	size_t n = strlen(qname);
	static const char *const sfx[] = { ".in-addr.arpa.", ".ip6.arpa." };

	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(sfx[i]);
		if (n >= k && strcasecmp(qname + n - k, sfx[i]) == 0)
			return true;
	}
	return false;
}

/* FQDN mode: the name's validated A/AAAA set must contain peer. */
static enum dns_status match_addr(struct vctx *v, const ldns_rdf *name, const struct addr *peer,
				  uint32_t *ttl, char *why, size_t cap)
{
	ldns_rr_type t = peer->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	ldns_rr_list *set = NULL;
	uint32_t attl = 0;
	char ps[ADDR_STRLEN], sub[400];
	enum dns_status st = fetch(v, name, t, &set, &attl, sub, sizeof(sub));

	if (st != DNS_SECURE) {
		say(why, cap, "%s record: %s", t == LDNS_RR_TYPE_A ? "A" : "AAAA", sub);
		return st == DNS_MISSING ? DNS_ADDR_MISMATCH : st;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(set); i++) {
		const ldns_rdf *r = ldns_rr_rdf(ldns_rr_list_rr(set, i), 0);
		if (r != NULL && ldns_rdf_size(r) == addr_len(peer->family) &&
		    memcmp(ldns_rdf_data(r), peer->b, ldns_rdf_size(r)) == 0) {
			if (attl < *ttl)
				*ttl = attl;
			ldns_rr_list_deep_free(set);
			return DNS_SECURE;
		}
	}
	ldns_rr_list_deep_free(set);
	say(why, cap, "the name's validated %s records do not include %s",
	    t == LDNS_RR_TYPE_A ? "A" : "AAAA", addr_str(peer, ps));
	return DNS_ADDR_MISMATCH;
}

static void take_keys(const ldns_rr_list *set, const struct addr *peer, struct dns_result *out,
		      char *why, size_t cap)
{
	ldns_buffer *b = ldns_buffer_new(1024);
	const char *w = NULL;

	out->keys = calloc(ldns_rr_list_rr_count(set), sizeof(*out->keys));
	for (size_t i = 0; b != NULL && out->keys != NULL && i < ldns_rr_list_rr_count(set); i++) {
		struct ipseckey k;
		ldns_buffer_clear(b);
		if (ldns_rr_rdata2buffer_wire(b, ldns_rr_list_rr(set, i)) != LDNS_STATUS_OK ||
		    ipseckey_parse(ldns_buffer_begin(b), ldns_buffer_position(b), &k, &w) != 0 ||
		    !ipseckey_usable(&k, peer, &w) ||
		    ipseckey_to_spki(&k, &out->keys[out->n_keys].spki) != 0) {
			out->n_skipped++;
			continue;
		}
		out->keys[out->n_keys].alg = k.alg;
		out->keys[out->n_keys].bits = k.key_bits;
		out->n_keys++;
	}
	ldns_buffer_free(b);
	if (out->n_keys == 0)
		say(why, cap, "no usable key in %zu record%s (%s)", out->n_skipped,
		    out->n_skipped == 1 ? "" : "s", w != NULL ? w : "out of memory");
}

static int lookup(struct dns *d, const char *qname, const struct addr *peer,
		  struct dns_result *out)
{
	struct vctx v = { .d = d, .budget = DNS_QUERY_BUDGET };
	ldns_rdf *name;
	ldns_rr_list *set = NULL;
	char why[400] = "";
	uint32_t ttl = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->qname, sizeof(out->qname), "%s", qname);
	v.now = d->now_fixed != 0 ? d->now_fixed : time(NULL);
	name = ldns_dname_new_frm_str(qname);
	if (name == NULL || strlen(qname) == 0 || qname[strlen(qname) - 1] != '.') {
		ldns_rdf_deep_free(name);
		out->status = DNS_ERROR;
		snprintf(out->reason, sizeof(out->reason), "%s: not a fully qualified name", qname);
		return -EINVAL;
	}
	out->status = fetch(&v, name, LDNS_RR_TYPE_IPSECKEY, &set, &ttl, why, sizeof(why));
	if (out->status == DNS_SECURE && peer != NULL && peer->family != 0 && !is_reverse(qname))
		out->status = match_addr(&v, name, peer, &ttl, why, sizeof(why));
	if (out->status == DNS_SECURE) {
		take_keys(set, peer, out, why, sizeof(why));
		if (out->n_keys == 0) {
			free(out->keys);
			out->keys = NULL;
			out->status = DNS_NO_KEYS;
		}
		out->ttl_s = ttl;
	}
	if (out->status == DNS_SECURE)
		snprintf(out->reason, sizeof(out->reason), "%s IPSECKEY: DNSSEC secure, %zu key%s, "
			 "TTL %u s", qname, out->n_keys, out->n_keys == 1 ? "" : "s", ttl);
	else
		snprintf(out->reason, sizeof(out->reason), "%s IPSECKEY: %s: %s", qname,
			 dns_status_name(out->status), why);
	ldns_rr_list_deep_free(set);
	ldns_rdf_deep_free(name);
	while (v.memo != NULL) {
		struct keymemo *m = v.memo;
		v.memo = m->next;
		ldns_rdf_deep_free(m->zone);
		ldns_rr_list_deep_free(m->keys);
		free(m);
	}
	return 0;
}

int dns_lookup_sync(struct dns *d, const char *qname, const struct addr *peer,
		    struct dns_result *out)
{
	if (d->have_thread) {            /* the resolver belongs to the worker */
		memset(out, 0, sizeof(*out));
		return -EBUSY;
	}
	return lookup(d, qname, peer, out);
}

void dns_result_fini(struct dns_result *r)
{
	for (size_t i = 0; i < r->n_keys; i++)
		buf_free(&r->keys[i].spki);
	free(r->keys);
	r->keys = NULL;
	r->n_keys = 0;
}

/* ---- set-up ---- */

static int load_anchor_file(struct dns *d, const char *file, bool quiet_missing)
{
	FILE *f = fopen(file, "r");
	uint32_t ttl = 3600;
	ldns_rdf *origin = NULL, *prev = NULL;
	int line = 0, ret = 0;

	if (f == NULL) {
		if (!quiet_missing)
			log_err(d->log, "dns: trust anchor file %s: %s", file, strerror(errno));
		return quiet_missing ? 0 : -EINVAL;
	}
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (s != LDNS_STATUS_OK) {
			log_err(d->log, "dns: %s:%d: %s", file, line, ldns_get_errorstr_by_id(s));
			ret = -EINVAL;
			break;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY)
			ldns_rr_list_push_rr(d->anchors, rr);
		else
			ldns_rr_free(rr);
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(f);
	return ret;
}

static int setup_resolver(struct dns *d, const struct dns_config *cfg)
{
	struct timeval tv = { .tv_sec = (cfg->timeout_ms ? cfg->timeout_ms : 2000) / 1000,
			      .tv_usec = (cfg->timeout_ms ? cfg->timeout_ms : 2000) % 1000 * 1000 };

	if (cfg->server != NULL) {
		struct addr a;
		ldns_rdf *ns;
		if (!addr_parse(cfg->server, &a)) {
			log_err(d->log, "dns: server %s is not a numeric address", cfg->server);
			return -EINVAL;
		}
		d->res = ldns_resolver_new();
		ns = ldns_rdf_new_frm_str(a.family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
					  cfg->server);
		if (d->res == NULL || ns == NULL ||
		    ldns_resolver_push_nameserver(d->res, ns) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(ns);
			return -ENOMEM;
		}
		ldns_rdf_deep_free(ns);
	} else {
		const char *rc = cfg->resolv_conf ? cfg->resolv_conf : "/etc/resolv.conf";
		ldns_status s = ldns_resolver_new_frm_file(&d->res, rc);
		if (s != LDNS_STATUS_OK) {
			log_err(d->log, "dns: %s: %s", rc, ldns_get_errorstr_by_id(s));
			return -ENOENT;
		}
		if (ldns_resolver_nameserver_count(d->res) == 0) {
			log_err(d->log, "dns: %s names no nameserver", rc);
			return -ENOENT;
		}
	}
	if (cfg->port != 0)
		ldns_resolver_set_port(d->res, cfg->port);
	ldns_resolver_set_dnssec(d->res, true);          /* DO: send us the signatures */
	ldns_resolver_set_dnssec_cd(d->res, true);       /* CD: we validate ourselves */
	ldns_resolver_set_edns_udp_size(d->res, 4096);
	ldns_resolver_set_fallback(d->res, true);        /* TCP on truncation */
	ldns_resolver_set_timeout(d->res, tv);
	ldns_resolver_set_retry(d->res, (uint8_t)(cfg->tries ? cfg->tries : 2));
	ldns_resolver_set_random(d->res, false);
	return 0;
}

static int load_anchors(struct dns *d, const struct dns_config *cfg)
{
	glob_t g;
	int ret;

	d->anchors = ldns_rr_list_new();
	if (d->anchors == NULL)
		return -ENOMEM;
	if (cfg->rootkey_file != NULL && *cfg->rootkey_file != '\0') {
		ret = load_anchor_file(d, cfg->rootkey_file, true);
		if (ret != 0)
			return ret;
		if (access(cfg->rootkey_file, R_OK) != 0)
			log_warn(d->log, "dns: root trust anchor %s not readable; only "
				 "dnssec-anchors= apply", cfg->rootkey_file);
	}
	if (cfg->anchors != NULL && *cfg->anchors != '\0') {
		ret = glob(cfg->anchors, 0, NULL, &g);
		if (ret == 0) {
			for (size_t i = 0; i < g.gl_pathc && ret == 0; i++)
				ret = load_anchor_file(d, g.gl_pathv[i], false);
			globfree(&g);
			if (ret != 0)
				return ret;
		} else if (ret != GLOB_NOMATCH) {
			return -EINVAL;
		}
	}
	if (cfg->dnssec_enable && ldns_rr_list_rr_count(d->anchors) == 0) {
		log_err(d->log, "dns: no DNSSEC trust anchor loaded (dnssec-rootkey-file=, "
			"dnssec-anchors=)");
		return -ENOENT;
	}
	return 0;
}

/* ---- the worker and the loop side ---- */

static void *worker(void *arg)
{
	struct dns *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->stop && d->todo == NULL)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stop)
			break;
		struct dns_req *q = d->todo;
		d->todo = q->next;
		q->next = NULL;
		d->running = q;
		d->running_cancelled = false;
		pthread_mutex_unlock(&d->mu);

		(void)lookup(d, q->qname, q->peer.family ? &q->peer : NULL, &q->res);
		q->res.serial = q->serial;

		pthread_mutex_lock(&d->mu);
		d->running = NULL;
		if (d->running_cancelled) {
			dns_result_fini(&q->res);
			free(q);
			d->n_pending--;
			continue;
		}
		struct dns_req **t = &d->done;
		while (*t != NULL)
			t = &(*t)->next;
		*t = q;
		uint64_t one = 1;
		if (write(d->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow here; nothing to do */
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void on_results(int fd, uint32_t events, void *arg)
{
	struct dns *d = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: a spurious wake-up */
	}
	for (;;) {
		pthread_mutex_lock(&d->mu);
		struct dns_req *q = d->done;
		if (q != NULL) {
			d->done = q->next;
			d->n_pending--;
		}
		pthread_mutex_unlock(&d->mu);
		if (q == NULL)
			break;
		q->fn(&q->res, q->arg);
		dns_result_fini(&q->res);
		free(q);
	}
}

int dns_new(struct dns **out, const struct dns_config *cfg, struct loop *loop, struct log *log)
{
	struct dns *d = calloc(1, sizeof(*d));
	int ret;

	*out = NULL;
	if (d == NULL)
		return -ENOMEM;
	d->log = log;
	d->dnssec = cfg->dnssec_enable;
	d->now_fixed = cfg->now;
	d->efd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	ret = load_anchors(d, cfg);
	if (ret == 0)
		ret = setup_resolver(d, cfg);
	if (ret == 0 && loop != NULL) {
		d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->efd < 0)
			ret = -errno;
		if (ret == 0)
			ret = loop_add_fd(loop, d->efd, on_results, d);
		if (ret == 0) {
			d->loop = loop;
			ret = -pthread_create(&d->thread, NULL, worker, d);
			d->have_thread = ret == 0;
		}
	}
	if (ret != 0) {
		dns_free(d);
		return ret;
	}
	log_debug(log, "dns: %zu trust anchor record(s), validation %s",
		  ldns_rr_list_rr_count(d->anchors), d->dnssec ? "on" : "off");
	*out = d;
	return 0;
}

static void free_list(struct dns_req *q)
{
	while (q != NULL) {
		struct dns_req *next = q->next;
		dns_result_fini(&q->res);
		free(q);
		q = next;
	}
}

void dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->have_thread) {
		pthread_mutex_lock(&d->mu);
		d->stop = true;
		pthread_cond_signal(&d->cv);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->thread, NULL);
	}
	if (d->loop != NULL)
		loop_del_fd(d->loop, d->efd);
	if (d->efd >= 0)
		close(d->efd);
	free_list(d->todo);
	free_list(d->done);
	if (d->res != NULL)
		ldns_resolver_deep_free(d->res);
	ldns_rr_list_deep_free(d->anchors);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

int dns_lookup_ipseckey(struct dns *d, uint32_t serial, const char *qname,
			const struct addr *peer, dns_result_fn fn, void *arg)
{
	struct dns_req *q;
	size_t n = strlen(qname);

	if (!d->have_thread && !d->fake)
		return -ENOTCONN;
	if (n == 0 || n >= IPSECKEY_NAME_MAX || qname[n - 1] != '.' || fn == NULL)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	memcpy(q->qname, qname, n + 1);
	q->serial = serial;
	if (peer != NULL)
		q->peer = *peer;
	q->fn = fn;
	q->arg = arg;
	if (d->fake) {
		q->res.serial = serial;
		memcpy(q->res.qname, qname, n + 1);
		d->fake(d->fake_arg, q->qname, peer, &q->res);
		q->res.serial = serial;
	}
	pthread_mutex_lock(&d->mu);
	if (d->n_pending >= DNS_QUEUE_MAX) {
		pthread_mutex_unlock(&d->mu);
		dns_result_fini(&q->res);
		free(q);
		return -EBUSY;
	}
	struct dns_req **t = d->fake ? &d->done : &d->todo;
	while (*t != NULL)
		t = &(*t)->next;
	*t = q;
	d->n_pending++;
	if (d->fake) {
		uint64_t one = 1;
		if (write(d->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow here */
		}
	}
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

int dns_new_fake(struct dns **out, struct loop *loop, struct log *log, dns_fake_fn fn,
		 void *arg)
{
	struct dns *d = calloc(1, sizeof(*d));
	int ret;

	*out = NULL;
	if (d == NULL)
		return -ENOMEM;
	d->log = log;
	d->dnssec = true;
	d->efd = -1;
	d->fake = fn;
	d->fake_arg = arg;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = d->efd < 0 ? -errno : loop_add_fd(loop, d->efd, on_results, d);
	if (ret == 0)
		d->loop = loop;
	if (ret != 0) {
		dns_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

static void drop_serial(struct dns *d, struct dns_req **list, uint32_t serial)
{
	while (*list != NULL) {
		struct dns_req *q = *list;
		if (q->serial != serial) {
			list = &q->next;
			continue;
		}
		*list = q->next;
		dns_result_fini(&q->res);
		free(q);
		d->n_pending--;
	}
}

void dns_cancel(struct dns *d, uint32_t serial)
{
	pthread_mutex_lock(&d->mu);
	drop_serial(d, &d->todo, serial);
	drop_serial(d, &d->done, serial);
	if (d->running != NULL && d->running->serial == serial)
		d->running_cancelled = true;
	pthread_mutex_unlock(&d->mu);
}

size_t dns_pending(const struct dns *d)
{
	struct dns *m = (struct dns *)d;   /* the lock is not part of the logical state */
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->n_pending;
	pthread_mutex_unlock(&m->mu);
	return n;
}

size_t dns_anchor_count(const struct dns *d)
{
	return ldns_rr_list_rr_count(d->anchors);
}
