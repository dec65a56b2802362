/* cert_admin.c — offline NSS database administration for meshctl: initnss (an empty,
 * password-less sql: DB, like `certutil -N --empty-password`), PKCS#12 import (like
 * `pk12util -i`, plus trust CT,, on the CA certificates in the file; idempotent, and a
 * renewed certificate under the same nickname is simply added), and listing.
 *
 * Each function opens and closes its own NSS context and refuses to run in a process where
 * NSS is already initialised: the internal key slot would then be another DB's. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MESHD_CERT_INTERNAL
#include "cert.h"
#include "json.h"

#define P12_MAX_SIZE (1u << 20)

static const char *dir_of(const char *nssdir)
{
	return strncmp(nssdir, "sql:", 4) == 0 ? nssdir + 4 : nssdir;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int cert_admin_open(const char *nssdir, bool create, NSSInitContext **ctx, PK11SlotInfo **slot)
{
	NSSInitParameters params;
	char path[PATH_MAX + 8];
	struct stat st;

	*ctx = NULL;
	*slot = NULL;
	if (nssdir == NULL || *nssdir == '\0')
		return -EINVAL;
	if (NSS_IsInitialized())
		return -EBUSY;
	if (snprintf(path, sizeof(path), "%s/cert9.db", dir_of(nssdir)) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!create && stat(path, &st) != 0)
		return -ENOENT;               /* never create a DB by accident */
	if (create) {
		int r = mkdir_p(dir_of(nssdir));
		if (r != 0)
			return r;
	}
	memset(&params, 0, sizeof(params));
	params.length = sizeof(params);
	snprintf(path, sizeof(path), "sql:%s", dir_of(nssdir));
	*ctx = NSS_InitContext(path, "", "", "", &params, NSS_INIT_NOROOTINIT);
	if (*ctx == NULL)
		return -EIO;
	*slot = PK11_GetInternalKeySlot();
	if (*slot == NULL) {
		cert_admin_close(*ctx, NULL);
		*ctx = NULL;
		return -EIO;
	}
	/* a DB made by NSS_InitContext has no password yet: set the empty one */
	if (PK11_NeedUserInit(*slot) && PK11_InitPin(*slot, NULL, "") != SECSuccess) {
		cert_admin_close(*ctx, *slot);
		*ctx = NULL;
		*slot = NULL;
		return -EIO;
	}
	if (PK11_NeedLogin(*slot) && PK11_Authenticate(*slot, PR_TRUE, NULL) != SECSuccess) {
		/* a DB with a real password: meshd (like Libreswan by default) needs none */
		cert_admin_close(*ctx, *slot);
		*ctx = NULL;
		*slot = NULL;
		return -EACCES;
	}
	return 0;
}

void cert_admin_close(NSSInitContext *ctx, PK11SlotInfo *slot)
{
	if (slot != NULL)
		PK11_FreeSlot(slot);
	if (ctx != NULL)
		NSS_ShutdownContext(ctx);
}

static const char *open_error(int r)
{
	switch (r) {
	case -EBUSY: return "NSS is already initialised in this process";
	case -ENOENT: return "no NSS database there (run meshctl initnss first)";
	case -EACCES: return "the NSS database has a password (meshd needs an empty one)";
	case -EINVAL: return "no NSS database directory given";
	default: return strerror(-r);
	}
}

int cert_initnss(const char *nssdir, struct log *log)
{
	NSSInitContext *ctx;
	PK11SlotInfo *slot;
	int r = cert_admin_open(nssdir, true, &ctx, &slot);

	if (r != 0) {
		log_err(log, "initnss %s: %s", nssdir != NULL ? nssdir : "(null)", open_error(r));
		return r;
	}
	cert_admin_close(ctx, slot);
	log_info(log, "NSS database %s ready (empty password)", nssdir);
	return 0;
}

/* ---- PKCS#12 ---- */

/* The PKCS#12 password: UTF-8 -> BMPString (UCS-2 big-endian) with the terminating NUL
 * character (RFC 7292 Appendix B.1). Characters beyond the BMP are refused. */
static int p12_password(const char *pw, SECItem *out)
{
	size_t n = strlen(pw), k = 0;
	unsigned char *u = calloc(2 * n + 2, 1);

	if (u == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)pw[i];
		unsigned cp, extra;
		if (c < 0x80) {
			cp = c;
			extra = 0;
		} else if ((c & 0xe0) == 0xc0) {
			cp = c & 0x1f;
			extra = 1;
		} else if ((c & 0xf0) == 0xe0) {
			cp = c & 0x0f;
			extra = 2;
		} else {
			goto bad;
		}
		if (extra > 0 && i + extra >= n)
			goto bad;
		for (unsigned j = 1; j <= extra; j++) {
			if (((unsigned char)pw[i + j] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | ((unsigned char)pw[i + j] & 0x3f);
		}
		i += extra + 1;
		u[k++] = (unsigned char)(cp >> 8);
		u[k++] = (unsigned char)cp;
	}
	u[k++] = 0;
	u[k++] = 0;
	*out = (SECItem){ siBuffer, u, (unsigned)k };
	return 0;
bad:
	explicit_bzero(u, 2 * n + 2);
	free(u);
	return -EINVAL;
}

static void p12_enable_ciphers(void)
{
	static const long ciphers[] = {
		PKCS12_RC2_CBC_40, PKCS12_RC2_CBC_128, PKCS12_RC4_40, PKCS12_RC4_128,
		PKCS12_DES_56, PKCS12_DES_EDE3_168, PKCS12_AES_CBC_128, PKCS12_AES_CBC_192,
		PKCS12_AES_CBC_256,
	};
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		SEC_PKCS12EnableCipher(ciphers[i], 1);
}

/* A nickname that already names another subject (a node re-keyed under a new DN, still
 * "node"): NSS's PKCS#12 decoder insists on a nickname free of other subjects, so the
 * certificate goes in as "NICK" CERT_RENAME_MARK "SERIAL)", which cert_open counts as NICK
 * (renaming afterwards with __PK11_SetCertificateNickname fails on NSS 3.87). The
 * callback's last argument is the leaf certificate, not a context of ours. */
static SECItem *rename_nickname(SECItem *old_nick, PRBool *cancel, void *leaf)
{
	char serial[80] = "0", tmp[400];
	SECItem *it;
	size_t n;

	*cancel = PR_FALSE;
	if (old_nick == NULL || old_nick->len == 0 || old_nick->len > 200 ||
	    memchr(old_nick->data, '(', old_nick->len) != NULL)
		return NULL;                  /* no friendly name, or already one of ours */
	if (leaf != NULL)
		cert_serial_str(leaf, serial, sizeof(serial));
	n = old_nick->len;
	while (n > 0 && old_nick->data[n - 1] == '\0')
		n--;
	snprintf(tmp, sizeof(tmp), "%.*s" CERT_RENAME_MARK "%s)", (int)n, (const char *)old_nick->data,
		 serial);
	n = strlen(tmp);
	it = SECITEM_AllocItem(NULL, NULL, (unsigned)n + 1);
	if (it == NULL)
		return NULL;
	memcpy(it->data, tmp, n + 1);
	it->len = (unsigned)n;
	return it;
}

static int read_file(const char *file, SECItem *out)
{
	FILE *f = fopen(file, "rb");
	unsigned char *p;
	size_t n;

	if (f == NULL)
		return -errno;
	p = malloc(P12_MAX_SIZE);
	if (p == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(p, 1, P12_MAX_SIZE, f);
	if (ferror(f) || n == P12_MAX_SIZE || n == 0) {
		int e = ferror(f) ? -EIO : n == 0 ? -ENODATA : -EFBIG;
		fclose(f);
		free(p);
		return e;
	}
	fclose(f);
	*out = (SECItem){ siBuffer, p, (unsigned)n };
	return 0;
}

/* One decode+import attempt. *why gets a static reason on failure. */
static int p12_import_once(PK11SlotInfo *slot, const SECItem *data, SECItem *pw,
			   const char **why)
{
	SEC_PKCS12DecoderContext *dcx;
	CERTCertList *certs = NULL;
	int r = -EIO;

	dcx = SEC_PKCS12DecoderStart(pw, slot, NULL, NULL, NULL, NULL, NULL, NULL);
	if (dcx == NULL) {
		*why = "cannot start the PKCS#12 decoder";
		return -EIO;
	}
	if (SEC_PKCS12DecoderUpdate(dcx, data->data, data->len) != SECSuccess ||
	    SEC_PKCS12DecoderVerify(dcx) != SECSuccess) {
		int err = PORT_GetError();
		*why = err == SEC_ERROR_BAD_PASSWORD || err == SEC_ERROR_PKCS12_INVALID_MAC ?
			"wrong password (or a damaged file)" : "not a readable PKCS#12 file";
		r = err == SEC_ERROR_BAD_PASSWORD || err == SEC_ERROR_PKCS12_INVALID_MAC ?
			-EACCES : -EINVAL;
		goto done;
	}
	if (SEC_PKCS12DecoderValidateBags(dcx, rename_nickname) != SECSuccess) {
		*why = "the PKCS#12 contents are not valid";
		r = -EINVAL;
		goto done;
	}
	if (SEC_PKCS12DecoderImportBags(dcx) != SECSuccess) {
		int err = PORT_GetError();
		/* everything in the file is already in the DB: importing again is a no-op */
		if (err != SEC_ERROR_PKCS12_DUPLICATE_DATA) {
			*why = "importing into the NSS database failed";
			goto done;
		}
	}
	/* trust CT,, for every CA certificate of the file */
	certs = SEC_PKCS12DecoderGetCerts(dcx);
	for (CERTCertListNode *n = certs ? CERT_LIST_HEAD(certs) : NULL;
	     n != NULL && !CERT_LIST_END(n, certs); n = CERT_LIST_NEXT(n)) {
		CERTCertTrust trust;
		CERTCertificate *db;

		db = CERT_FindCertByDERCert(CERT_GetDefaultCertDB(), &n->cert->derCert);
		if (db == NULL)
			continue;
		if (CERT_IsCACert(n->cert, NULL) &&
		    (CERT_DecodeTrustString(&trust, "CT,,") != SECSuccess ||
		     CERT_ChangeCertTrust(CERT_GetDefaultCertDB(), db, &trust) != SECSuccess)) {
			CERT_DestroyCertificate(db);
			*why = "cannot set the CA's trust";
			goto done;
		}
		CERT_DestroyCertificate(db);
	}
	r = 0;
done:
	if (certs != NULL)
		CERT_DestroyCertList(certs);
	SEC_PKCS12DecoderFinish(dcx);
	return r;
}

int cert_import_p12(const char *nssdir, const char *file, const char *pw, struct log *log)
{
	NSSInitContext *ctx = NULL;
	PK11SlotInfo *slot = NULL;
	SECItem data = { siBuffer, NULL, 0 }, upw = { siBuffer, NULL, 0 }, nopw;
	const char *why = NULL;
	int r;

	if ((r = read_file(file, &data)) != 0) {
		log_err(log, "import %s: %s", file, strerror(-r));
		return r;
	}
	if ((r = p12_password(pw != NULL ? pw : "", &upw)) != 0) {
		log_err(log, "import %s: the password is not valid UTF-8 in the BMP", file);
		goto done;
	}
	if ((r = cert_admin_open(nssdir, false, &ctx, &slot)) != 0) {
		log_err(log, "import %s into %s: %s", file, nssdir, open_error(r));
		goto done;
	}
	p12_enable_ciphers();
	r = p12_import_once(slot, &data, &upw, &why);
	if (r == -EACCES && (pw == NULL || *pw == '\0')) {
		/* OpenSSL may protect a password-less file with a zero-length password rather
		 * than the empty BMPString: try that too, as pk12util does */
		nopw = (SECItem){ siBuffer, upw.data, 0 };
		r = p12_import_once(slot, &data, &nopw, &why);
	}
	if (r != 0)
		log_err(log, "import %s: %s", file, why != NULL ? why : "failed");
	else
		log_info(log, "imported %s into %s", file, nssdir);
done:
	cert_admin_close(ctx, slot);
	if (upw.data != NULL) {
		explicit_bzero(upw.data, upw.len);
		free(upw.data);
	}
	free(data.data);
	return r;
}

/* ---- listing ---- */

/* certutil's notation: per SSL, S/MIME, object signing: P/p peer (trusted/valid), C trusted
 * CA, T trusted client CA, c valid CA, u user (has a key), w warn, I invisible, G govt. */
static size_t trust_flags(unsigned f, char *out)
{
	size_t n = 0;

	if (f & CERTDB_TERMINAL_RECORD)
		out[n++] = (f & CERTDB_TRUSTED) ? 'P' : 'p';
	if ((f & CERTDB_VALID_CA) && !(f & (CERTDB_TRUSTED_CA | CERTDB_TRUSTED_CLIENT_CA)))
		out[n++] = 'c';
	if (f & CERTDB_TRUSTED_CA)
		out[n++] = 'C';
	if (f & CERTDB_TRUSTED_CLIENT_CA)
		out[n++] = 'T';
	if (f & CERTDB_USER)
		out[n++] = 'u';
	if (f & CERTDB_SEND_WARN)
		out[n++] = 'w';
	if (f & CERTDB_INVISIBLE_CA)
		out[n++] = 'I';
	if (f & CERTDB_GOVT_APPROVED_CA)
		out[n++] = 'G';
	return n;
}

static void trust_str(CERTCertificate *cert, char *out, size_t cap)
{
	CERTCertTrust t;
	char tmp[40];
	size_t n = 0;

	out[0] = '\0';
	if (CERT_GetCertTrust(cert, &t) != SECSuccess)
		return;
	n += trust_flags(t.sslFlags, tmp + n);
	tmp[n++] = ',';
	n += trust_flags(t.emailFlags, tmp + n);
	tmp[n++] = ',';
	n += trust_flags(t.objectSigningFlags, tmp + n);
	tmp[n] = '\0';
	snprintf(out, cap, "%s", tmp);
}

static void time_str(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "?");
}

int cert_list(const char *nssdir, FILE *out, bool json, uint32_t warn_s)
{
	NSSInitContext *ctx;
	PK11SlotInfo *slot;
	CERTCertList *all;
	bool first_cert = true;
	int r = cert_admin_open(nssdir, false, &ctx, &slot);

	if (r != 0) {
		fprintf(stderr, "listcerts %s: %s\n", nssdir != NULL ? nssdir : "(null)",
			open_error(r));
		return r;
	}
	all = PK11_ListCerts(PK11CertListAll, NULL);
	if (json)
		fprintf(out, "{\"certificates\":[");
	else
		fprintf(out, "%-24s %-8s %-20s %s\n", "NICKNAME", "TRUST", "NOT-AFTER", "SUBJECT");
	for (CERTCertListNode *n = all ? CERT_LIST_HEAD(all) : NULL;
	     n != NULL && !CERT_LIST_END(n, all); n = CERT_LIST_NEXT(n)) {
		char subject[512], issuer[512], serial[80], trust[48], nb_s[32], na_s[32];
		time_t nb, na;
		SECKEYPrivateKey *key = PK11_FindKeyByAnyCert(n->cert, NULL);
		const char *nick = n->cert->nickname != NULL ? n->cert->nickname : "";
		bool first = true, has_key = key != NULL;

		if (key != NULL)
			SECKEY_DestroyPrivateKey(key);
		cert_dn_str(&n->cert->subject, subject, sizeof(subject));
		cert_dn_str(&n->cert->issuer, issuer, sizeof(issuer));
		cert_serial_str(n->cert, serial, sizeof(serial));
		cert_validity(n->cert, &nb, &na);
		time_str(nb, nb_s, sizeof(nb_s));
		time_str(na, na_s, sizeof(na_s));
		trust_str(n->cert, trust, sizeof(trust));
		char when[48];
		bool warn = cert_expiry_str(na, time(NULL), warn_s, when, sizeof(when));
		if (!json) {
			fprintf(out, "%-24s %-8s %-20s %s\n", nick, trust[0] ? trust : "-", na_s,
				subject);
			fprintf(out, "%-24s issuer: %s; serial %s%s; expires %s\n", "", issuer,
				serial, has_key ? "; private key" : "", when);
			if (warn)
				fprintf(out, "%-24s WARNING: expires %s\n", "", when);
			continue;
		}
		fprintf(out, "%s{", first_cert ? "" : ",");
		first_cert = false;
		json_kv_str(out, &first, "nickname", nick);
		json_kv_str(out, &first, "subject", subject);
		json_kv_str(out, &first, "issuer", issuer);
		json_kv_str(out, &first, "serial", serial);
		json_kv_str(out, &first, "not_before", nb_s);
		json_kv_str(out, &first, "not_after", na_s);
		json_kv_str(out, &first, "trust", trust);
		json_kv_bool(out, &first, "ca", CERT_IsCACert(n->cert, NULL));
		json_kv_bool(out, &first, "private_key", has_key);
		json_kv_str(out, &first, "expires", when);
		json_kv_bool(out, &first, "expiry_warning", warn);
		fprintf(out, "}");
	}
	if (json)
		fprintf(out, "]}\n");
	if (all != NULL)
		CERT_DestroyCertList(all);
	cert_admin_close(ctx, slot);
	return 0;
}

int cert_db_add_der(const uint8_t *der, size_t len, const char *nick)
{
	if (!NSS_IsInitialized())
		return -ENODEV;
	if (len > UINT_MAX)
		return -EINVAL;
	PK11SlotInfo *slot = PK11_GetInternalKeySlot();
	if (!slot)
		return -EIO;
	SECItem item = { siDERCertBuffer, (unsigned char *)der, (unsigned)len };
	SECStatus rv = PK11_ImportDERCert(slot, &item, CK_INVALID_HANDLE, (char *)nick, PR_FALSE);
	PK11_FreeSlot(slot);
	return rv == SECSuccess ? 0 : -EIO;
}

int cert_db_del(const char *nick)
{
	if (!NSS_IsInitialized())
		return -ENODEV;
	CERTCertificate *c = CERT_FindCertByNickname(CERT_GetDefaultCertDB(), nick);
	if (!c)
		return -ENOENT;
	SECStatus rv = SEC_DeletePermCertificate(c);
	CERT_DestroyCertificate(c);
	return rv == SECSuccess ? 0 : -EIO;
}
