/* cert_trust.c — is a certificate a trusted CA *now*, as the NSS database on disk says.
 *
 * NSS keeps a certificate's trust in its CERTCertificate while any reference to it lives
 * (libpkix's caches hold our anchors for minutes), so CERT_GetCertTrust does not see a
 * trust change made by another process (certutil -M, meshctl import) until then: a CA an
 * operator distrusted kept being accepted after meshctl reload (Libreswan #1038 saw the
 * same). The trust objects themselves (CKO_NSS_TRUST, matched by the certificate's SHA-1)
 * are read from the token on every call, so reload and the anchors use them. */
#include "config.h"

#include <string.h>

#define MESHD_CERT_INTERNAL
#include "cert.h"


static bool delegator(PK11GenericObject *o, CK_ATTRIBUTE_TYPE type)
{
	SECItem v = { 0 };
	bool yes = false;
	if (PK11_ReadRawAttribute(PK11_TypeGeneric, o, type, &v) == SECSuccess &&
	    v.len == sizeof(CK_ULONG)) {
		CK_ULONG t;
		memcpy(&t, v.data, sizeof(t));
		yes = t == CKT_NSS_TRUSTED_DELEGATOR;
	}
	SECITEM_FreeItem(&v, PR_FALSE);
	return yes;
}

/* 1 trusted (C or T), 0 a trust object without CA trust, -1 no trust object found. */
static int token_trust(CERTCertificate *c)
{
	uint8_t sha1[20];
	int res = -1;
	if (PK11_HashBuf(SEC_OID_SHA1, sha1, c->derCert.data, (PRInt32)c->derCert.len) !=
	    SECSuccess)
		return -1;
	PK11SlotList *slots = PK11_GetAllSlotsForCert(c, NULL);
	for (PK11SlotListElement *e = slots ? slots->head : NULL; e && res != 1; e = e->next) {
		PK11GenericObject *objs = PK11_FindGenericObjects(e->slot, CKO_NSS_TRUST);
		for (PK11GenericObject *o = objs; o && res != 1; o = PK11_GetNextGenericObject(o)) {
			SECItem h = { 0 };
			if (PK11_ReadRawAttribute(PK11_TypeGeneric, o, CKA_CERT_SHA1_HASH, &h) ==
			    SECSuccess && h.len == sizeof(sha1) && memcmp(h.data, sha1, sizeof(sha1)) == 0)
				res = delegator(o, CKA_TRUST_SERVER_AUTH) ||
				      delegator(o, CKA_TRUST_CLIENT_AUTH) ? 1 : 0;
			SECITEM_FreeItem(&h, PR_FALSE);
		}
		if (objs)
			PK11_DestroyGenericObjects(objs);
	}
	if (slots)
		PK11_FreeSlotList(slots);
	return res;
}

bool cert_ca_trusted_now(CERTCertificate *c)
{
	if (!CERT_IsCACert(c, NULL))
		return false;
	int t = token_trust(c);
	if (t >= 0)
		return t == 1;
	/* no trust object in a token we can read (e.g. a built-in root module): NSS's view */
	CERTCertTrust tr;
	return CERT_GetCertTrust(c, &tr) == SECSuccess &&
	       (tr.sslFlags & (CERTDB_TRUSTED_CA | CERTDB_TRUSTED_CLIENT_CA)) != 0;
}
