/* cert_ike.c — CERTREQ hashes, our intermediates and signature-algorithm names for IKE_AUTH
 * (cert_ike.h), over the process's NSS view. */
#include "config.h"

#define MESHD_CERT_INTERNAL
#include "cert.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "cert_ike.h"
#include "crypto.h"

/* Trusted the way cert.c's anchors are: a CA certificate with C or T SSL trust. */
static bool trusted_ca(CERTCertificate *c)
{
	return cert_ca_trusted_now(c);
}

int cert_ike_certreq(struct buf *out)
{
	CERTCertList *all;
	size_t n = 0, cap = 0;
	uint8_t *p = NULL;
	int r = 0;

	*out = (struct buf){ NULL, 0 };
	if (!NSS_IsInitialized())
		return 0;
	all = PK11_ListCerts(PK11CertListAll, NULL);
	if (all == NULL)
		return -EIO;
	for (CERTCertListNode *node = CERT_LIST_HEAD(all); !CERT_LIST_END(node, all);
	     node = CERT_LIST_NEXT(node)) {
		const SECItem *spki = &node->cert->derPublicKey;
		uint8_t h[CERT_IKE_SHA1_LEN];
		if (!trusted_ca(node->cert) || spki->len == 0 || spki->len > INT_MAX ||
		    PK11_HashBuf(SEC_OID_SHA1, h, spki->data, (PRInt32)spki->len) != SECSuccess)
			continue;
		/* the same CA may be listed once per token: send each hash once */
		bool dup = false;
		for (size_t i = 0; i + CERT_IKE_SHA1_LEN <= n && !dup; i += CERT_IKE_SHA1_LEN)
			dup = memcmp(p + i, h, CERT_IKE_SHA1_LEN) == 0;
		if (dup)
			continue;
		if (n + CERT_IKE_SHA1_LEN > cap) {
			size_t nc = cap ? 2 * cap : 4 * CERT_IKE_SHA1_LEN;
			uint8_t *np = realloc(p, nc);
			if (np == NULL) {
				r = -ENOMEM;
				break;
			}
			p = np;
			cap = nc;
		}
		memcpy(p + n, h, CERT_IKE_SHA1_LEN);
		n += CERT_IKE_SHA1_LEN;
	}
	CERT_DestroyCertList(all);
	if (r < 0 || n == 0) {
		free(p);
		return r;
	}
	out->p = p;
	out->len = n;
	return 0;
}

size_t cert_ike_chain(const struct buf *ee, struct buf *out, size_t cap)
{
	SECItem item = { siDERCertBuffer, ee->p, (unsigned)ee->len };
	CERTCertificate *c;
	CERTCertificateList *chain;
	size_t n = 0;

	if (!NSS_IsInitialized() || ee->len == 0 || ee->len > INT_MAX)
		return 0;
	c = CERT_FindCertByDERCert(CERT_GetDefaultCertDB(), &item);
	if (c == NULL)
		return 0;
	/* without the root; [0] is the certificate itself */
	chain = CERT_CertChainFromCert(c, certUsageSSLClient, PR_FALSE);
	CERT_DestroyCertificate(c);
	if (chain == NULL)
		return 0;
	for (int i = 1; i < chain->len && n < cap; i++) {
		if (buf_dup(&out[n], chain->certs[i].data, chain->certs[i].len) == 0)
			n++;
	}
	CERT_DestroyCertificateList(chain);
	return n;
}

const char *cert_ike_alg_name(const uint8_t *alg, size_t len)
{
	struct cert_alg a;
	if (alg == NULL || len == 0 || cert_alg_parse(alg, len, &a) != 0)
		return NULL;
	static const char *const names[3][3] = {
		[CERT_SIG_RSA_PSS] = { "RSASSA-PSS-SHA256", "RSASSA-PSS-SHA384", "RSASSA-PSS-SHA512" },
		[CERT_SIG_RSA_PKCS1] = { "RSA-SHA256", "RSA-SHA384", "RSA-SHA512" },
		[CERT_SIG_ECDSA] = { "ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512" },
	};
	if ((unsigned)a.scheme > CERT_SIG_ECDSA)
		return NULL;
	switch (a.hash) {
	case CRYPTO_HASH_SHA2_256: return names[a.scheme][0];
	case CRYPTO_HASH_SHA2_384: return names[a.scheme][1];
	case CRYPTO_HASH_SHA2_512: return names[a.scheme][2];
	default: return NULL;
	}
}

bool cert_ike_dn_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen == blen && memcmp(a, b, alen) == 0)
		return true;
	if (alen == 0 || blen == 0 || alen > UINT_MAX || blen > UINT_MAX)
		return false;
	PLArenaPool *arena = PORT_NewArena(1024);
	if (arena == NULL)
		return false;
	CERTName na = { 0 }, nb = { 0 };
	SECItem ia = { siBuffer, (unsigned char *)a, (unsigned)alen };
	SECItem ib = { siBuffer, (unsigned char *)b, (unsigned)blen };
	bool eq = SEC_QuickDERDecodeItem(arena, &na, SEC_ASN1_GET(CERT_NameTemplate), &ia) == SECSuccess &&
		  SEC_QuickDERDecodeItem(arena, &nb, SEC_ASN1_GET(CERT_NameTemplate), &ib) == SECSuccess &&
		  CERT_CompareName(&na, &nb) == SECEqual;
	PORT_FreeArena(arena, PR_FALSE);
	return eq;
}
