/* conf_keys.c — every meshd.conf key: its section, its checker and where it is stored.
 *
 * Each setter checks one value and stores it. At parse time it runs with a diag (k->d) and
 * reports "KEY: ..." problems at the key's file:line; when the parser later applies the
 * merged conns (%default, also=) it runs again with k->d == NULL on values that are known
 * to be good. Proposal and duration syntax is here too (conf_check_proposals,
 * conf_parse_duration), so meshctl and the IKE module read the same language. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "conf_keys.h"
#include "proposal.h"

#define MS_S  1000ull
#define MS_M  (60 * MS_S)
#define MS_H  (60 * MS_M)
#define MS_D  (24 * MS_H)

__attribute__((format(printf, 2, 3)))
static bool kerr(const struct conf_kctx *k, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	if (!k->d)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_report(k->d, DIAG_ERR, k->file, k->line, "%s: %s", k->key, msg);
	return false;
}

__attribute__((format(printf, 2, 3)))
static void kwarn(const struct conf_kctx *k, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	if (!k->d)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_report(k->d, DIAG_WARN, k->file, k->line, "%s: %s", k->key, msg);
}

static void *field(const struct conf_kctx *k)
{
	char *base = k->ent->flags & CK_SETUP ? (char *)k->setup : (char *)k->conn;
	return base + k->ent->off;
}

static bool set_str(char **dst, const char *v)
{
	char *n = strdup(v);
	if (!n)
		return false;
	free(*dst);
	*dst = n;
	return true;
}

/* ---- names ---- */

struct name { const char *s; int v; };

static bool name_lookup(const struct name *t, const char *v, int *out)
{
	for (; t->s; t++)
		if (strcmp(t->s, v) == 0) {
			*out = t->v;
			return true;
		}
	return false;
}

/* yes/no values; Libreswan also takes true/false and on/off. */
static bool parse_yn(const char *v, bool *out)
{
	static const struct name yn[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 }, { "on", 1 },
		{ "off", 0 }, { NULL, 0 },
	};
	int x;
	if (!name_lookup(yn, v, &x))
		return false;
	*out = x;
	return true;
}

static bool set_bool(const struct conf_kctx *k, const char *v)
{
	bool b;
	if (!parse_yn(v, &b))
		return kerr(k, "invalid value '%s' (expected yes or no)", v);
	*(bool *)field(k) = b;
	return true;
}

/* ---- numbers and durations ---- */

static bool parse_u64(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t x = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++)   /* saturates: too big is out of range */
		x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX : x * 10 + (uint64_t)(*s - '0');
	*sp = s;
	*out = x;
	return true;
}

int conf_parse_duration(const char *s, enum conf_unit unit, uint64_t max_ms, uint64_t *ms)
{
	static const struct { const char *sfx; uint64_t mul; } sfx[] = {
		{ "ms", 1 }, { "s", MS_S }, { "m", MS_M }, { "h", MS_H }, { "d", MS_D },
		{ "w", 7 * MS_D },
	};
	uint64_t n, mul = unit == CONF_UNIT_MS ? 1 : unit == CONF_UNIT_S ? MS_S : MS_D;
	if (!parse_u64(&s, &n))
		return -EINVAL;
	if (*s) {
		size_t i;
		for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
			if (strcmp(s, sfx[i].sfx) == 0)
				break;
		if (i == sizeof(sfx) / sizeof(sfx[0]))
			return -EINVAL;
		mul = sfx[i].mul;
	}
	if (n > max_ms / mul)
		return -ERANGE;
	*ms = n * mul;
	return 0;
}

static void fmt_ms(uint64_t ms, char *buf, size_t n)
{
	if (ms % MS_D == 0 && ms)
		snprintf(buf, n, "%llud", (unsigned long long)(ms / MS_D));
	else if (ms % MS_H == 0 && ms)
		snprintf(buf, n, "%lluh", (unsigned long long)(ms / MS_H));
	else if (ms % MS_M == 0 && ms)
		snprintf(buf, n, "%llum", (unsigned long long)(ms / MS_M));
	else if (ms % MS_S == 0)
		snprintf(buf, n, "%llus", (unsigned long long)(ms / MS_S));
	else
		snprintf(buf, n, "%llums", (unsigned long long)ms);
}

static bool set_dur(const struct conf_kctx *k, const char *v)
{
	const struct conf_key *e = k->ent;
	char lo[32], hi[32];
	uint64_t ms;
	int r = conf_parse_duration(v, e->unit, e->max, &ms);
	fmt_ms(e->min, lo, sizeof(lo));
	fmt_ms(e->max, hi, sizeof(hi));
	if (r == -EINVAL)
		return kerr(k, "invalid duration '%s' (a number with an optional unit ms, s, m, "
			    "h, d; a bare number is %s)", v,
			    e->unit == CONF_UNIT_MS ? "milliseconds" :
			    e->unit == CONF_UNIT_S ? "seconds" : "days");
	if (r == -ERANGE || ms < e->min)
		return kerr(k, "duration '%s' out of range (%s to %s)", v, lo, hi);
	if (e->in_ms)
		*(uint32_t *)field(k) = (uint32_t)ms;
	else if (ms % MS_S)
		return kerr(k, "duration '%s' is not a whole number of seconds", v);
	else
		*(uint32_t *)field(k) = (uint32_t)(ms / MS_S);
	return true;
}

static bool set_u32(const struct conf_kctx *k, const char *v)
{
	const char *s = v;
	uint64_t n;
	if (!parse_u64(&s, &n) || *s)
		return kerr(k, "invalid number '%s'", v);
	if (n < k->ent->min || n > k->ent->max)
		return kerr(k, "%s out of range (%llu to %llu)", v,
			    (unsigned long long)k->ent->min, (unsigned long long)k->ent->max);
	*(uint32_t *)field(k) = (uint32_t)n;
	return true;
}

static bool set_percent(const struct conf_kctx *k, const char *v)
{
	char buf[32];
	size_t n = strlen(v);
	if (n && v[n - 1] == '%' && n < sizeof(buf)) {
		memcpy(buf, v, n - 1);
		buf[n - 1] = 0;
		v = buf;
	}
	return set_u32(k, v);
}

static bool set_port(const struct conf_kctx *k, const char *v)
{
	const char *s = v;
	uint64_t n;
	if (!parse_u64(&s, &n) || *s || n == 0 || n > 65535)
		return kerr(k, "invalid UDP port '%s' (1 to 65535)", v);
	*(uint16_t *)field(k) = (uint16_t)n;
	return true;
}

/* ---- strings ---- */

static bool set_path(const struct conf_kctx *k, const char *v)
{
	if (*v && *v != '/')
		return kerr(k, "'%s' is not an absolute path", v);
	return set_str((char **)field(k), v) || kerr(k, "out of memory");
}

static bool set_nssdir(const struct conf_kctx *k, const char *v)
{
	char buf[4200];
	const char *dir = strncmp(v, "sql:", 4) == 0 ? v + 4 : v;
	if (*dir != '/')
		return kerr(k, "'%s' is not an absolute path (optionally prefixed with sql:)", v);
	if (strlen(dir) > 4096)
		return kerr(k, "path too long");
	snprintf(buf, sizeof(buf), "sql:%s", dir);
	return set_str(&k->setup->nssdir, buf) || kerr(k, "out of memory");
}

static bool set_ipsecdir(const struct conf_kctx *k, const char *v)
{
	if (*v != '/')
		return kerr(k, "'%s' is not an absolute path", v);
	if (strlen(v) > 4000)
		return kerr(k, "path too long");
	return set_str(k->ipsecdir, v) || kerr(k, "out of memory");
}

static bool set_ctlsocket(const struct conf_kctx *k, const char *v)
{
	if (strlen(v) >= 108)   /* sizeof(sun_path) */
		return kerr(k, "socket path longer than 107 bytes");
	return set_path(k, v);
}

static bool set_anchors(const struct conf_kctx *k, const char *v)
{
	if (strcmp(k->key, "dnssec-trusted") == 0)
		kwarn(k, "old name of dnssec-anchors=; use that");
	if (!*v) {
		free(k->setup->dnssec_anchors);
		k->setup->dnssec_anchors = NULL;
		return true;
	}
	return set_path(k, v);
}

static bool set_plutodebug(const struct conf_kctx *k, const char *v)
{
	k->setup->debug = *v && strcmp(v, "none") != 0;
	return true;
}

static bool set_listen(const struct conf_kctx *k, const char *v)
{
	struct addr a;
	if (!addr_parse(v, &a))
		return kerr(k, "'%s' is not a numeric IPv4 or IPv6 address", v);
	return set_str(&k->setup->listen, v) || kerr(k, "out of memory");
}

/* ---- conn values ---- */

static bool set_auto(const struct conf_kctx *k, const char *v)
{
	static const struct name t[] = {
		{ "ignore", AUTO_IGNORE }, { "add", AUTO_ADD }, { "route", AUTO_ONDEMAND },
		{ "ondemand", AUTO_ONDEMAND }, { "start", AUTO_START }, { "up", AUTO_START },
		{ NULL, 0 },
	};
	int x;
	if (!name_lookup(t, v, &x))
		return kerr(k, "invalid value '%s' (expected ignore, add, route, ondemand, start "
			    "or up)", v);
	k->conn->autostart = x;
	return true;
}

static bool set_type(const struct conf_kctx *k, const char *v)
{
	static const struct name t[] = {
		{ "tunnel", TYPE_TUNNEL }, { "transport", TYPE_TRANSPORT },
		{ "passthrough", TYPE_PASSTHROUGH }, { "pass", TYPE_PASSTHROUGH },
		{ "drop", TYPE_DROP }, { "reject", TYPE_DROP }, { NULL, 0 },
	};
	int x;
	if (!name_lookup(t, v, &x))
		return kerr(k, "invalid value '%s' (expected tunnel, transport, passthrough, drop "
			    "or reject)", v);
	k->conn->type = x;
	return true;
}

static bool set_shunt(const struct conf_kctx *k, const char *v)
{
	bool failure = strcmp(k->ent->name, "failureshunt") == 0;
	enum shunt_action a;
	if (strcmp(v, "pass") == 0 || strcmp(v, "passthrough") == 0)
		a = SHUNT_PASS;
	else if (strcmp(v, "drop") == 0)
		a = SHUNT_DROP;
	else if (failure && strcmp(v, "none") == 0)
		a = SHUNT_NONE;
	else if (strcmp(v, "hold") == 0 || (failure && strcmp(v, "reject") == 0)) {
		kwarn(k, "'%s' is deprecated and taken as drop", v);
		a = SHUNT_DROP;
	} else
		return kerr(k, "invalid value '%s' (expected %spass, passthrough or drop)", v,
			    failure ? "none, " : "");
	if (failure)
		k->conn->failureshunt = a;
	else
		k->conn->negotiationshunt = a;
	return true;
}

static bool set_authby(const struct conf_kctx *k, const char *v)
{
	static const struct name t[] = {
		{ "rsasig", AUTHBY_RSASIG }, { "rsa", AUTHBY_RSASIG },
		{ "rsa-sha1", AUTHBY_RSASIG }, { "rsa-sha2", AUTHBY_RSASIG },
		{ "rsa-sha2_256", AUTHBY_RSASIG }, { "rsa-sha2_384", AUTHBY_RSASIG },
		{ "rsa-sha2_512", AUTHBY_RSASIG }, { "ecdsa", AUTHBY_ECDSA },
		{ "ecdsa-sha2", AUTHBY_ECDSA }, { "ecdsa-sha2_256", AUTHBY_ECDSA },
		{ "ecdsa-sha2_384", AUTHBY_ECDSA }, { "ecdsa-sha2_512", AUTHBY_ECDSA },
		{ "null", AUTHBY_NULL }, { "never", AUTHBY_NEVER }, { NULL, 0 },
	};
	unsigned bits = 0;
	const char *p = v;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char w[32];
		int x;
		if (n == 0 || n >= sizeof(w))
			return kerr(k, "invalid list '%s'", v);
		memcpy(w, p, n);
		w[n] = 0;
		if (strcmp(w, "secret") == 0 || strcmp(w, "psk") == 0)
			return kerr(k, "'%s': pre-shared keys are not supported (a group PSK "
				    "leaks with one host); use rsasig, ecdsa or null", w);
		if (!name_lookup(t, w, &x))
			return kerr(k, "unknown method '%s' (expected rsasig, ecdsa, null or "
				    "never, or a comma list of them)", w);
		bits |= (unsigned)x;
		p += n;
		if (*p == ',' && !*++p)
			return kerr(k, "invalid list '%s'", v);
	}
	if ((bits & AUTHBY_NEVER) && bits != AUTHBY_NEVER)
		return kerr(k, "never cannot be combined with other methods");
	k->conn->authby = bits;
	return true;
}

static bool set_end(const struct conf_kctx *k, const char *v)
{
	bool right = k->ent->name[0] == 'r';
	struct addr a;
	if (strcmp(v, "%group") == 0 || strcmp(v, "%opportunisticgroup") == 0) {
		if (!right)
			return kerr(k, "%s belongs on right=", v);
		k->conn->right_kind = v[1] == 'g' ? RIGHT_GROUP : RIGHT_OPPGROUP;
	} else if (strcmp(v, "%defaultroute") == 0 || strcmp(v, "%any") == 0 ||
		   strcmp(v, "%any4") == 0 || strcmp(v, "%any6") == 0 || addr_parse(v, &a)) {
		if (right)
			k->conn->right_kind = RIGHT_HOST;
	} else
		return kerr(k, "invalid value '%s' (expected %s%%defaultroute, %%any or a numeric "
			    "address; meshd does not resolve host names here)", v,
			    right ? "%group, %opportunisticgroup, " : "");
	return set_str(right ? &k->conn->right : &k->conn->left, v) || kerr(k, "out of memory");
}

/* A DN in Libreswan's string form: RDNs "ATTR=value" separated by "," or "/". */
static bool is_dn(const char *v)
{
	const char *eq = strchr(v, '=');
	return eq && eq != v && (isalpha((unsigned char)v[0]) || v[0] == '/');
}

static bool set_id(const struct conf_kctx *k, const char *v)
{
	bool right = k->ent->name[0] == 'r';
	struct addr a;
	if (strcmp(v, "%fromcert") == 0 || strcmp(v, "%null") == 0 || strcmp(v, "%any") == 0 ||
	    (v[0] == '@' && v[1]) || addr_parse(v, &a) || is_dn(v))
		return set_str(right ? &k->conn->rightid : &k->conn->leftid, v) ||
		       kerr(k, "out of memory");
	return kerr(k, "invalid ID '%s' (expected %%fromcert, %%null, %%any, @FQDN, a numeric "
		    "address or a DN such as \"CN=node, O=Example\")", v);
}

static bool set_cert(const struct conf_kctx *k, const char *v)
{
	if (strchr(v, '/'))
		return kerr(k, "'%s' looks like a file; leftcert= is the NSS nickname of the "
			    "certificate (import it with meshctl import)", v);
	return set_str(&k->conn->leftcert, v) || kerr(k, "out of memory");
}

static bool set_ca(const struct conf_kctx *k, const char *v)
{
	if (strcmp(v, "%same") != 0 && strcmp(v, "%any") != 0 && !is_dn(v))
		return kerr(k, "invalid value '%s' (expected %%same, %%any or a DN)", v);
	return set_str(&k->conn->rightca, v) || kerr(k, "out of memory");
}

static bool is_b64(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/' && *s != '=')
			return false;
	return true;
}

static bool set_sigkey(const struct conf_kctx *k, const char *v)
{
	char **dst = k->ent->name[0] == 'r' ? &k->conn->rightrsasigkey : &k->conn->leftrsasigkey;
	if (strcmp(v, "%dns") == 0 || strcmp(v, "%dnsondemand") == 0)
		v = "%dnsondemand";
	else if (strcmp(v, "%dnsonload") == 0) {
		kwarn(k, "%%dnsonload is taken as %%dnsondemand");
		v = "%dnsondemand";
	} else if (strcmp(v, "%cert") == 0)
		;
	else if (strncmp(v, "0s", 2) == 0 && v[2] && is_b64(v + 2))
		;
	else if (strncmp(v, "0x", 2) == 0 && v[2] && strspn(v + 2, "0123456789abcdefABCDEF") ==
		 strlen(v + 2))
		;
	else
		return kerr(k, "invalid value '%s' (expected %%cert, %%dnsondemand, %%dns or a raw "
			    "key 0s<base64> / 0x<hex>)", v);
	return set_str(dst, v) || kerr(k, "out of memory");
}

static bool set_proposal(const struct conf_kctx *k, const char *v)
{
	bool esp = strcmp(k->ent->name, "esp") == 0;
	char why[256];
	if (!conf_check_proposals(v, esp, why, sizeof(why)))
		return kerr(k, "%s", why);
	if (strchr(v, '!'))
		kwarn(k, "the trailing '!' is obsolete: meshd proposals are always strict");
	return set_str(esp ? &k->conn->esp : &k->conn->ike, v) || kerr(k, "out of memory");
}

static bool set_esn(const struct conf_kctx *k, const char *v)
{
	if (strcmp(v, "either") == 0) {
		k->conn->esn = true;
		return true;
	}
	return set_bool(k, v);
}

static bool set_frag(const struct conf_kctx *k, const char *v)
{
	if (strcmp(v, "force") == 0) {
		k->conn->fragmentation = true;
		return true;
	}
	return set_bool(k, v);
}

static bool set_ikev2(const struct conf_kctx *k, const char *v)
{
	static const char *const ok[] = { "insist", "yes", "permit", "propose", "always", NULL };
	for (size_t i = 0; ok[i]; i++)
		if (strcmp(v, ok[i]) == 0)
			return true;
	if (strcmp(v, "no") == 0 || strcmp(v, "never") == 0)
		return kerr(k, "'%s': IKEv1 is not supported; meshd speaks IKEv2 only", v);
	return kerr(k, "invalid value '%s' (expected insist, yes, permit or propose)", v);
}

static bool set_keyexchange(const struct conf_kctx *k, const char *v)
{
	if (strcmp(v, "ikev2") == 0 || strcmp(v, "ike") == 0)
		return true;
	if (strcmp(v, "ikev1") == 0)
		return kerr(k, "IKEv1 is not supported; meshd speaks IKEv2 only");
	return kerr(k, "invalid value '%s' (expected ikev2)", v);
}

static bool set_protoport(const struct conf_kctx *k, const char *v)
{
	static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "ipv6-icmp",
					      "sctp", "gre", NULL };
	char **dst = k->ent->name[0] == 'r' ? &k->conn->rightprotoport : &k->conn->leftprotoport;
	const char *slash = strchr(v, '/'), *s;
	size_t n = slash ? (size_t)(slash - v) : strlen(v);
	uint64_t x;
	bool ok = false;
	for (size_t i = 0; protos[i]; i++)
		if (strlen(protos[i]) == n && strncmp(v, protos[i], n) == 0)
			ok = true;
	s = v;
	if (!ok && parse_u64(&s, &x) && s == v + n && x <= 255)
		ok = true;
	if (ok && slash) {
		s = slash + 1;
		ok = strcmp(s, "%any") == 0 || (parse_u64(&s, &x) && !*s && x <= 65535);
	}
	if (!ok)
		return kerr(k, "invalid value '%s' (expected PROTO or PROTO/PORT, PROTO a name "
			    "such as tcp or a number, PORT a number or %%any)", v);
	return set_str(dst, v) || kerr(k, "out of memory");
}

static bool set_sendca(const struct conf_kctx *k, const char *v)
{
	static const struct name t[] = {
		{ "issuer", SENDCA_ISSUER }, { "none", SENDCA_NONE }, { "all", SENDCA_ALL },
		{ NULL, 0 },
	};
	int x;
	if (!name_lookup(t, v, &x))
		return kerr(k, "invalid value '%s' (expected none, issuer or all)", v);
	k->conn->sendca = x;
	return true;
}

static bool set_encaps(const struct conf_kctx *k, const char *v)
{
	static const struct name t[] = {
		{ "auto", ENCAPS_AUTO }, { "yes", ENCAPS_YES }, { "no", ENCAPS_NO }, { NULL, 0 },
	};
	int x;
	if (!name_lookup(t, v, &x))
		return kerr(k, "invalid value '%s' (expected yes, no or auto)", v);
	k->conn->encapsulation = x;
	return true;
}

/* ---- the table ---- */

#define CONN(f) offsetof(struct conf_conn, f)
#define SETUP(f) offsetof(struct conf_setup, f)
#define DUR(nm, sect, fld, lo, hi, u, ms) \
	{ .name = nm, .flags = sect, .set = set_dur, .off = fld, .min = lo, .max = hi, \
	  .unit = u, .in_ms = ms }
#define OBSOLETE(nm, sect, why) { .name = nm, .flags = (sect) | CK_OBSOLETE | CK_EMPTY, .note = why }
#define IGNORED(nm, sect, why) { .name = nm, .flags = (sect) | CK_IGNORED | CK_EMPTY, .note = why }
#define UNSUPP(nm, sect, why) { .name = nm, .flags = (sect) | CK_UNSUPPORTED | CK_EMPTY, .note = why }

static const char logs_note[] = "meshd logs to journald or syslog; use --stderrlog or the "
				"journal instead";
static const char ikev1_note[] = "an IKEv1 option; meshd speaks IKEv2 only";
static const char subnet_note[] = "meshd negotiates host-to-host (/32, /128) selectors from "
				  "the group files; list the networks in a group file instead";

static const struct conf_key keys[] = {
	/* config setup */
	{ .name = "nssdir", .flags = CK_SETUP, .set = set_nssdir },
	{ .name = "ipsecdir", .flags = CK_SETUP, .set = set_ipsecdir },
	{ .name = "policies-dir", .flags = CK_SETUP, .set = set_path, .off = SETUP(policies_dir) },
	{ .name = "ctlsocket", .flags = CK_SETUP, .set = set_ctlsocket, .off = SETUP(ctlsocket) },
	DUR("shuntlifetime", CK_SETUP, SETUP(shuntlifetime_s), MS_S, 7 * MS_D, CONF_UNIT_S, false),
	DUR("expire-shunt-interval", CK_SETUP, SETUP(expire_shunt_interval_s), MS_S, 1000 * MS_S,
	    CONF_UNIT_S, false),
	{ .name = "dnssec-enable", .flags = CK_SETUP, .set = set_bool, .off = SETUP(dnssec_enable) },
	{ .name = "dnssec-rootkey-file", .flags = CK_SETUP | CK_EMPTY, .set = set_path,
	  .off = SETUP(dnssec_rootkey_file) },
	{ .name = "dnssec-anchors", .flags = CK_SETUP | CK_EMPTY, .set = set_anchors,
	  .off = SETUP(dnssec_anchors) },
	{ .name = "dnssec-trusted", .canon = "dnssec-anchors",
	  .flags = CK_SETUP | CK_EMPTY | CK_OLDNAME, .set = set_anchors,
	  .off = SETUP(dnssec_anchors) },
	{ .name = "resolv-conf", .flags = CK_SETUP, .set = set_path, .off = SETUP(resolv_conf) },
	DUR("cert-expiry-warning", CK_SETUP, SETUP(cert_expiry_warning_s), 0, 365 * MS_D,
	    CONF_UNIT_D, false),
	{ .name = "plutodebug", .flags = CK_SETUP | CK_EMPTY, .set = set_plutodebug },
	{ .name = "listen", .flags = CK_SETUP, .set = set_listen },
	{ .name = "ike-port", .flags = CK_SETUP, .set = set_port, .off = SETUP(ike_port) },
	{ .name = "ikeport", .canon = "ike-port", .flags = CK_SETUP, .set = set_port,
	  .off = SETUP(ike_port) },
	{ .name = "nat-ike-port", .flags = CK_SETUP, .set = set_port, .off = SETUP(nat_ike_port) },
	{ .name = "nat-ikeport", .canon = "nat-ike-port", .flags = CK_SETUP, .set = set_port,
	  .off = SETUP(nat_ike_port) },
	{ .name = "ddos-ike-threshold", .flags = CK_SETUP, .set = set_u32,
	  .off = SETUP(ddos_ike_threshold), .min = 0, .max = 1000000 },
	{ .name = "nflog-group", .flags = CK_SETUP, .set = set_u32,
	  .off = SETUP(nflog_group), .min = 0, .max = 65535 },
	IGNORED("logfile", CK_SETUP, logs_note),
	IGNORED("logtime", CK_SETUP, logs_note),
	IGNORED("logappend", CK_SETUP, logs_note),
	IGNORED("logip", CK_SETUP, logs_note),
	IGNORED("logstderr", CK_SETUP, logs_note),
	IGNORED("uniqueids", CK_SETUP, "meshd keeps one IKE SA per peer pair anyway"),
	IGNORED("virtual-private", CK_SETUP, "meshd has no roadwarrior (virtual IP) support"),
	IGNORED("protostack", CK_SETUP, "meshd always uses the kernel's XFRM stack"),
	IGNORED("interfaces", CK_SETUP, "meshd listens on every address (use listen=)"),
	IGNORED("dumpdir", CK_SETUP, "meshd does not write core dumps itself"),
	IGNORED("secretsfile", CK_SETUP, "meshd takes keys from the NSS database (nssdir=)"),
	OBSOLETE("nat_traversal", CK_SETUP, "NAT traversal is always on"),
	OBSOLETE("klipsdebug", CK_SETUP, "KLIPS is gone"),
	OBSOLETE("force_keepalive", CK_SETUP, "NAT keepalives are automatic"),
	OBSOLETE("keep_alive", CK_SETUP, "NAT keepalives are automatic"),
	OBSOLETE("oe", CK_SETUP, "opportunistic encryption is configured with group conns"),
	OBSOLETE("plutowait", CK_SETUP, NULL),
	OBSOLETE("prepluto", CK_SETUP, NULL),
	OBSOLETE("postpluto", CK_SETUP, NULL),
	OBSOLETE("fragicmp", CK_SETUP, "a KLIPS option"),
	OBSOLETE("hidetos", CK_SETUP, "a KLIPS option"),
	OBSOLETE("overridemtu", CK_SETUP, "a KLIPS option"),
	OBSOLETE("plutostderrlog", CK_SETUP, logs_note),
	OBSOLETE("plutorestartoncrash", CK_SETUP, NULL),
	OBSOLETE("myid", CK_SETUP, "use leftid= in the conns"),

	/* conn */
	{ .name = "also", .flags = CK_CONN | CK_ALSO },
	{ .name = "auto", .flags = CK_CONN, .set = set_auto },
	{ .name = "type", .flags = CK_CONN, .set = set_type },
	{ .name = "authby", .flags = CK_CONN, .set = set_authby },
	{ .name = "left", .flags = CK_CONN, .set = set_end },
	{ .name = "right", .flags = CK_CONN, .set = set_end },
	{ .name = "leftid", .flags = CK_CONN, .set = set_id },
	{ .name = "rightid", .flags = CK_CONN, .set = set_id },
	{ .name = "leftcert", .flags = CK_CONN, .set = set_cert },
	{ .name = "rightca", .flags = CK_CONN, .set = set_ca },
	{ .name = "leftrsasigkey", .flags = CK_CONN, .set = set_sigkey },
	{ .name = "rightrsasigkey", .flags = CK_CONN, .set = set_sigkey },
	{ .name = "ike", .flags = CK_CONN, .set = set_proposal },
	{ .name = "esp", .flags = CK_CONN, .set = set_proposal },
	{ .name = "phase2alg", .canon = "esp", .flags = CK_CONN, .set = set_proposal },
	{ .name = "negotiationshunt", .flags = CK_CONN, .set = set_shunt },
	{ .name = "failureshunt", .flags = CK_CONN, .set = set_shunt },
	DUR("ikelifetime", CK_CONN, CONN(ikelifetime_s), MS_S, MS_D, CONF_UNIT_S, false),
	DUR("salifetime", CK_CONN, CONN(salifetime_s), MS_S, MS_D, CONF_UNIT_S, false),
	{ .name = "lifetime", .canon = "salifetime", .flags = CK_CONN, .set = set_dur,
	  .off = CONN(salifetime_s), .min = MS_S, .max = MS_D, .unit = CONF_UNIT_S },
	{ .name = "keylife", .canon = "salifetime", .flags = CK_CONN, .set = set_dur,
	  .off = CONN(salifetime_s), .min = MS_S, .max = MS_D, .unit = CONF_UNIT_S },
	DUR("rekeymargin", CK_CONN, CONN(rekeymargin_s), 0, MS_D, CONF_UNIT_S, false),
	{ .name = "rekeyfuzz", .flags = CK_CONN, .set = set_percent, .off = CONN(rekeyfuzz_pct),
	  .max = 1000 },
	{ .name = "rekey", .flags = CK_CONN, .set = set_bool, .off = CONN(rekey) },
	DUR("retransmit-timeout", CK_CONN, CONN(retransmit_timeout_ms), MS_S, MS_H, CONF_UNIT_S,
	    true),
	DUR("retransmit-interval", CK_CONN, CONN(retransmit_interval_ms), 10, 60 * MS_S,
	    CONF_UNIT_MS, true),
	DUR("dpddelay", CK_CONN, CONN(dpddelay_s), 0, MS_D, CONF_UNIT_S, false),
	DUR("dpdtimeout", CK_CONN, CONN(dpdtimeout_s), 0, MS_D, CONF_UNIT_S, false),
	{ .name = "priority", .flags = CK_CONN, .set = set_u32, .off = CONN(priority),
	  .max = UINT32_MAX },
	{ .name = "replay-window", .flags = CK_CONN, .set = set_u32, .off = CONN(replay_window),
	  .max = 0x7fffffff },
	{ .name = "pfs", .flags = CK_CONN, .set = set_bool, .off = CONN(pfs) },
	{ .name = "esn", .flags = CK_CONN, .set = set_esn, .off = CONN(esn) },
	{ .name = "fragmentation", .flags = CK_CONN, .set = set_frag, .off = CONN(fragmentation) },
	{ .name = "ikev2", .flags = CK_CONN, .set = set_ikev2 },
	{ .name = "keyexchange", .flags = CK_CONN, .set = set_keyexchange },
	{ .name = "leftprotoport", .flags = CK_CONN, .set = set_protoport },
	{ .name = "rightprotoport", .flags = CK_CONN, .set = set_protoport },
	{ .name = "narrowing", .flags = CK_CONN, .set = set_bool, .off = CONN(narrowing) },
	{ .name = "sendca", .flags = CK_CONN, .set = set_sendca },
	{ .name = "mobike", .flags = CK_CONN, .set = set_bool, .off = CONN(mobike) },
	{ .name = "encapsulation", .flags = CK_CONN, .set = set_encaps },
	UNSUPP("leftsubnet", CK_CONN, subnet_note),
	UNSUPP("rightsubnet", CK_CONN, subnet_note),
	UNSUPP("leftsubnets", CK_CONN, subnet_note),
	UNSUPP("rightsubnets", CK_CONN, subnet_note),
	UNSUPP("leftsourceip", CK_CONN, "meshd has no virtual IP support"),
	UNSUPP("rightsourceip", CK_CONN, "meshd has no virtual IP support"),
	UNSUPP("leftaddresspool", CK_CONN, "meshd has no virtual IP support"),
	UNSUPP("rightaddresspool", CK_CONN, "meshd has no virtual IP support"),
	UNSUPP("leftupdown", CK_CONN, "meshd runs no updown scripts"),
	UNSUPP("rightupdown", CK_CONN, "meshd runs no updown scripts"),
	UNSUPP("rightcert", CK_CONN, "peers are verified against the CAs in the NSS database; "
	       "pin a peer with rightid="),
	IGNORED("leftsendcert", CK_CONN, "meshd always sends its certificate"),
	IGNORED("rightsendcert", CK_CONN, "meshd always sends its certificate"),
	IGNORED("compress", CK_CONN, "meshd does not do IPComp"),
	IGNORED("nic-offload", CK_CONN, "meshd does not configure NIC offload"),
	OBSOLETE("keyingtries", CK_CONN, "an OE attempt is one try; see retransmit-timeout="),
	OBSOLETE("dpdaction", CK_CONN, "a dead peer's SAs are always deleted"),
	OBSOLETE("phase2", CK_CONN, ikev1_note),
	OBSOLETE("pfsgroup", CK_CONN, "put the DH group in esp="),
	OBSOLETE("aggrmode", CK_CONN, ikev1_note),
	OBSOLETE("aggressive", CK_CONN, ikev1_note),
	OBSOLETE("ike_frag", CK_CONN, "use fragmentation="),
	OBSOLETE("ike-frag", CK_CONN, "use fragmentation="),
	OBSOLETE("forceencaps", CK_CONN, "use encapsulation="),
	OBSOLETE("remote_peer_type", CK_CONN, ikev1_note),
	OBSOLETE("connaddrfamily", CK_CONN, NULL),
	OBSOLETE("auth", CK_CONN, "AH is gone; ESP is always used"),
	OBSOLETE("sha2-truncbug", CK_CONN, NULL),
	OBSOLETE("ikepad", CK_CONN, ikev1_note),
	OBSOLETE("xauthby", CK_CONN, ikev1_note),
	OBSOLETE("xauthfail", CK_CONN, ikev1_note),
	OBSOLETE("leftxauthserver", CK_CONN, ikev1_note),
	OBSOLETE("rightxauthserver", CK_CONN, ikev1_note),
	OBSOLETE("leftxauthclient", CK_CONN, ikev1_note),
	OBSOLETE("rightxauthclient", CK_CONN, ikev1_note),
};

const struct conf_key *conf_key_lookup(const char *name, unsigned kind, bool *other)
{
	*other = false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (keys[i].flags & kind)
			return &keys[i];
		*other = true;
	}
	return NULL;
}

/* ---- cross-key checks ---- */

bool conf_conn_check(const struct conf_conn *cc, struct diag *d, const char *file, unsigned line)
{
	bool ok = true;
	bool clearish = cc->type == TYPE_PASSTHROUGH || cc->type == TYPE_DROP;
	if (cc->right_kind == RIGHT_OPPGROUP && clearish) {
		diag_report(d, DIAG_ERR, file, line, "conn %s: right=%%opportunisticgroup negotiates; "
			    "type=%s groups use right=%%group", cc->name,
			    cc->type == TYPE_DROP ? "drop" : "passthrough");
		ok = false;
	}
	if (cc->right_kind == RIGHT_GROUP && !clearish) {
		diag_report(d, DIAG_ERR, file, line, "conn %s: right=%%group needs type=passthrough "
			    "(clear) or type=drop (block); a negotiating group uses "
			    "right=%%opportunisticgroup", cc->name);
		ok = false;
	}
	if (cc->right_kind == RIGHT_OPPGROUP && (cc->authby & AUTHBY_NEVER)) {
		diag_report(d, DIAG_ERR, file, line, "conn %s: authby=never cannot negotiate with "
			    "right=%%opportunisticgroup", cc->name);
		ok = false;
	}
	if (!clearish && (cc->rekeymargin_s >= cc->salifetime_s ||
			  cc->rekeymargin_s >= cc->ikelifetime_s))
		diag_report(d, DIAG_WARN, file, line, "conn %s: rekeymargin=%us is not below the "
			    "lifetimes (ikelifetime=%us, salifetime=%us); SAs will be rekeyed at once",
			    cc->name, cc->rekeymargin_s, cc->ikelifetime_s, cc->salifetime_s);
	return ok;
}

/* ---- ike= / esp= proposals ----
 *
 * One parser for the proposal language (proposal.c), so a conf that loads is a conf whose
 * proposals the IKE engine can offer: an algorithm the crypto module lacks is an error
 * here, with the same words. */
bool conf_check_proposals(const char *s, bool esp, char *why, size_t whylen)
{
	struct proposals *p = malloc(sizeof(*p));
	const char *w = NULL;
	if (!p) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	int r = proposals_parse(esp ? IKE_PROTO_ESP : IKE_PROTO_IKE, s, p, &w);
	if (r < 0)
		snprintf(why, whylen, "%s", w ? w : "invalid proposal list");
	free(p);
	return r == 0;
}
