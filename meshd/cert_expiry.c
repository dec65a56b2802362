/* cert_expiry.c — certificate expiry for operators (issue #8 item 6): the trusted CAs of
 * the daemon's NSS database, the offline check of the node certificates for meshctl
 * check, and the one wording of "expires in N days" that status, the log, listcerts and
 * check share. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MESHD_CERT_INTERNAL
#include "cert.h"

#define DAY 86400

bool cert_expiry_str(time_t not_after, time_t now, uint32_t warn_s, char *out, size_t cap)
{
	long long left = (long long)not_after - (long long)now;
	if (left <= 0) {
		snprintf(out, cap, "EXPIRED %lld days ago", -left / DAY);
		return true;
	}
	if (left < DAY)
		snprintf(out, cap, "in %lld hours", left / 3600);
	else
		snprintf(out, cap, "in %lld days", left / DAY);
	return left < (long long)warn_s;
}

static bool trusted_ca(CERTCertificate *c)
{
	return cert_ca_trusted_now(c);
}

int cert_trusted_cas(struct cert_ca_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!NSS_IsInitialized())
		return 0;
	CERTCertList *all = PK11_ListCerts(PK11CertListAll, NULL);
	if (all == NULL)
		return -EIO;
	size_t cap = 0;
	int r = 0;
	for (CERTCertListNode *c = CERT_LIST_HEAD(all); !CERT_LIST_END(c, all) && r == 0;
	     c = CERT_LIST_NEXT(c)) {
		if (!trusted_ca(c->cert))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct cert_ca_info *v = realloc(*out, cap * sizeof(*v));
			if (v == NULL) {
				r = -ENOMEM;
				break;
			}
			*out = v;
		}
		struct cert_ca_info *ci = &(*out)[(*n)++];
		time_t nb;
		cert_dn_str(&c->cert->subject, ci->subject, sizeof(ci->subject));
		cert_validity(c->cert, &nb, &ci->not_after);
	}
	CERT_DestroyCertList(all);
	return r;
}

/* The node certificate a daemon would pick for nick: the newest valid one with its key. */
static void check_nick(CERTCertList *all, const char *nick, uint32_t warn_s, time_t now,
		       const char *nssdir, struct diag *d)
{
	CERTCertificate *best = NULL;
	time_t best_nb = 0, best_na = 0;
	for (CERTCertListNode *c = CERT_LIST_HEAD(all); !CERT_LIST_END(c, all);
	     c = CERT_LIST_NEXT(c)) {
		const char *cn = c->cert->nickname;
		size_t len = strlen(nick);
		if (cn == NULL || strncmp(cn, nick, len) != 0 ||
		    (cn[len] != '\0' && strncmp(cn + len, CERT_RENAME_MARK,
						 strlen(CERT_RENAME_MARK)) != 0))
			continue;
		SECKEYPrivateKey *k = PK11_FindKeyByAnyCert(c->cert, NULL);
		if (k == NULL)
			continue;
		SECKEY_DestroyPrivateKey(k);
		time_t nb, na;
		cert_validity(c->cert, &nb, &na);
		bool valid = nb <= now && now < na, bvalid = best && best_nb <= now && now < best_na;
		if (best == NULL || (valid && !bvalid) || (valid == bvalid && nb > best_nb)) {
			best = c->cert;
			best_nb = nb;
			best_na = na;
		}
	}
	if (best == NULL)
		return;
	char when[48], subject[512];
	if (!cert_expiry_str(best_na, now, warn_s, when, sizeof(when)))
		return;
	cert_dn_str(&best->subject, subject, sizeof(subject));
	diag_report(d, DIAG_WARN, nssdir, 0, "node certificate \"%s\" (%s) expires %s "
		    "(cert-expiry-warning=%ud): renew it (meshctl import, meshctl reload)", nick,
		    subject, when, warn_s / DAY);
}

int cert_expiry_check(const char *nssdir, const char *const *nicks, size_t n_nicks,
		      uint32_t warn_s, struct diag *d)
{
	NSSInitContext *ctx;
	PK11SlotInfo *slot;
	int r = cert_admin_open(nssdir, false, &ctx, &slot);
	if (r != 0)
		return r;
	CERTCertList *all = PK11_ListCerts(PK11CertListAll, NULL);
	time_t now = time(NULL);
	for (size_t i = 0; all != NULL && i < n_nicks; i++)
		check_nick(all, nicks[i], warn_s, now, nssdir, d);
	for (CERTCertListNode *c = all ? CERT_LIST_HEAD(all) : NULL;
	     c != NULL && !CERT_LIST_END(c, all); c = CERT_LIST_NEXT(c)) {
		char when[48], subject[512];
		time_t nb, na;
		if (!trusted_ca(c->cert))
			continue;
		cert_validity(c->cert, &nb, &na);
		if (!cert_expiry_str(na, now, warn_s, when, sizeof(when)))
			continue;
		cert_dn_str(&c->cert->subject, subject, sizeof(subject));
		diag_report(d, DIAG_WARN, nssdir, 0, "trusted CA %s expires %s", subject, when);
	}
	if (all != NULL)
		CERT_DestroyCertList(all);
	cert_admin_close(ctx, slot);
	return all != NULL ? 0 : -EIO;
}
