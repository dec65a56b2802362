/* policy_file.c — group-file parser (meshd-policies(5)).
 *
 * One entry per line: "CIDR" or "CIDR PROTO LPORT RPORT"; a token that starts with '#'
 * ends the line; CRLF is accepted. A bad line is reported as file:line and only that line
 * is skipped. Protocol and service names come from small built-in tables, not from
 * /etc/protocols or /etc/services, so the same file means the same thing on every host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define LINE_MAX_BYTES 1024   /* longer lines are refused */
#define TOKEN_SHOW 40         /* bytes of a bad token quoted in a message */

static const struct { const char *name; uint8_t num; } protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 }, { "egp", 8 },
	{ "udp", 17 }, { "dccp", 33 }, { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 },
	{ "esp", 50 }, { "ah", 51 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "ospf", 89 },
	{ "pim", 103 }, { "vrrp", 112 }, { "l2tp", 115 }, { "sctp", 132 }, { "udplite", 136 },
	{ "mpls-in-ip", 137 },
};

static const struct { const char *name; uint16_t num; } services[] = {
	{ "echo", 7 }, { "discard", 9 }, { "ftp-data", 20 }, { "ftp", 21 }, { "ssh", 22 },
	{ "telnet", 23 }, { "smtp", 25 }, { "domain", 53 }, { "bootps", 67 }, { "bootpc", 68 },
	{ "tftp", 69 }, { "http", 80 }, { "kerberos", 88 }, { "pop3", 110 }, { "sunrpc", 111 },
	{ "ntp", 123 }, { "imap", 143 }, { "snmp", 161 }, { "snmp-trap", 162 }, { "bgp", 179 },
	{ "ldap", 389 }, { "https", 443 }, { "microsoft-ds", 445 }, { "submissions", 465 },
	{ "isakmp", 500 }, { "syslog", 514 }, { "submission", 587 }, { "ldaps", 636 },
	{ "rsync", 873 }, { "imaps", 993 }, { "pop3s", 995 }, { "openvpn", 1194 },
	{ "nfs", 2049 }, { "mysql", 3306 }, { "ms-wbt-server", 3389 }, { "ipsec-nat-t", 4500 },
	{ "sip", 5060 }, { "postgresql", 5432 }, { "http-alt", 8080 },
};

const char *policy_proto_name(uint8_t proto, char *buf)
{
	if (proto == 0)
		return "any";
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	snprintf(buf, 4, "%u", proto);
	return buf;
}

const char *policy_entry_str(const struct pol_entry *e, char *buf)
{
	char p[PREFIX_STRLEN], n[4];
	prefix_str(&e->pfx, p);
	if (e->proto == 0)
		snprintf(buf, POL_ENTRY_STRLEN, "%s", p);
	else
		snprintf(buf, POL_ENTRY_STRLEN, "%s %s %u %u", p, policy_proto_name(e->proto, n),
			 e->lport, e->rport);
	return buf;
}

struct pol_entry *policy_entry_append(struct policy_set *s)
{
	if (s->finished)
		return NULL;
	if (s->n_entries == s->entries_cap) {
		size_t cap = s->entries_cap ? s->entries_cap * 2 : 256;
		struct pol_entry *ne = realloc(s->entries, cap * sizeof(*ne));
		if (!ne)
			return NULL;
		s->entries = ne;
		s->entries_cap = cap;
	}
	struct pol_entry *e = &s->entries[s->n_entries++];
	memset(e, 0, sizeof(*e));
	return e;
}

struct tok {
	const char *p;
	size_t len;
};

/* A printable, bounded copy of a token for messages. */
static const char *show(const struct tok *t, char *buf /* [TOKEN_SHOW + 4] */)
{
	size_t n = t->len < TOKEN_SHOW ? t->len : TOKEN_SHOW;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t->p[i];
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	strcpy(buf + n, t->len > n ? "..." : "");
	return buf;
}

static bool tok_eq(const struct tok *t, const char *s)
{
	return strlen(s) == t->len && memcmp(t->p, s, t->len) == 0;
}

/* Decimal digits only, value <= max. */
static bool tok_num(const struct tok *t, unsigned long max, unsigned long *out)
{
	if (t->len == 0 || t->len > 6)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(t->p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_proto(const struct tok *t, uint8_t *out)
{
	unsigned long v;
	if (tok_num(t, 255, &v)) {
		*out = (uint8_t)v;
		return true;
	}
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (tok_eq(t, protos[i].name)) {
			*out = protos[i].num;
			return true;
		}
	return false;
}

static bool parse_port(const struct tok *t, uint16_t *out)
{
	unsigned long v;
	if (tok_num(t, 65535, &v)) {
		*out = (uint16_t)v;
		return true;
	}
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (tok_eq(t, services[i].name)) {
			*out = services[i].num;
			return true;
		}
	return false;
}

/* Split a line into at most max tokens; returns the count, max + 1 when there are more. */
static unsigned tokenize(const char *p, size_t len, struct tok *toks, unsigned max)
{
	unsigned n = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == len || p[i] == '#')
			break;
		size_t start = i;
		while (i < len && p[i] != ' ' && p[i] != '\t')
			i++;
		if (n == max)
			return max + 1;
		toks[n].p = p + start;
		toks[n].len = i - start;
		n++;
	}
	return n;
}

/* One line; returns true when an entry was added. */
static bool parse_line(struct policy_set *s, unsigned g, const char *file, unsigned lineno,
		       const char *p, size_t len, struct diag *d)
{
	char show_buf[TOKEN_SHOW + 4];
	struct tok toks[4];

	if (len > LINE_MAX_BYTES) {
		diag_report(d, DIAG_ERR, file, lineno, "line is longer than %u bytes; ignored",
			    LINE_MAX_BYTES);
		return false;
	}
	if (len && p[len - 1] == '\r')
		len--;
	if (memchr(p, '\0', len)) {
		diag_report(d, DIAG_ERR, file, lineno, "line contains a NUL byte; ignored");
		return false;
	}
	unsigned n = tokenize(p, len, toks, 4);
	if (n == 0)
		return false;
	if (n != 1 && n != 4) {
		diag_report(d, DIAG_ERR, file, lineno,
			    "expected 'CIDR' or 'CIDR PROTO LPORT RPORT' but found %s fields; ignored",
			    n > 4 ? "more than 4" : n == 2 ? "2" : "3");
		return false;
	}

	struct prefix pfx;
	char cidr[PREFIX_STRLEN + 8];
	bool had_host = false;
	if (toks[0].len >= sizeof(cidr)) {
		diag_report(d, DIAG_ERR, file, lineno,
			    "'%s' is not a numeric address or CIDR; ignored", show(&toks[0], show_buf));
		return false;
	}
	memcpy(cidr, toks[0].p, toks[0].len);
	cidr[toks[0].len] = '\0';
	if (!prefix_parse(cidr, &pfx, true, &had_host)) {
		diag_report(d, DIAG_ERR, file, lineno,
			    "'%s' is not a numeric address or CIDR; ignored", show(&toks[0], show_buf));
		return false;
	}

	uint8_t proto = 0;
	uint16_t lport = 0, rport = 0;
	if (n == 4) {
		if (!parse_proto(&toks[1], &proto)) {
			diag_report(d, DIAG_ERR, file, lineno,
				    "'%s' is not a protocol (a number 1-255 or a name such as tcp, udp, icmp); ignored",
				    show(&toks[1], show_buf));
			return false;
		}
		if (proto == 0 || proto == 50 || proto == 51) {
			diag_report(d, DIAG_ERR, file, lineno,
				    "protocol '%s' cannot be used in a group entry (0, esp and ah are refused); ignored",
				    show(&toks[1], show_buf));
			return false;
		}
		for (unsigned i = 2; i < 4; i++)
			if (!parse_port(&toks[i], i == 2 ? &lport : &rport)) {
				diag_report(d, DIAG_ERR, file, lineno,
					    "'%s' is not a %s port (0-65535 or a service name such as ssh); ignored",
					    show(&toks[i], show_buf), i == 2 ? "local" : "remote");
				return false;
			}
	}
	if (had_host) {
		char z[PREFIX_STRLEN];
		diag_report(d, DIAG_WARN, file, lineno, "'%s' has host bits set; using %s", cidr,
			    prefix_str(&pfx, z));
	}

	struct pol_entry *e = policy_entry_append(s);
	if (!e) {
		diag_report(d, DIAG_ERR, file, lineno, "out of memory; entry ignored");
		return false;
	}
	e->pfx = pfx;
	e->proto = proto;
	e->lport = lport;
	e->rport = rport;
	e->group = g;
	e->file = s->groups[g].file;
	e->line = lineno;
	return true;
}

size_t policy_parse_buf(struct policy_set *s, unsigned g, const char *file,
			const char *text, size_t len, struct diag *d)
{
	struct diag dummy = { 0 };
	if (!d)
		d = &dummy;
	if (!s || g >= s->n_groups || s->finished)
		return 0;
	size_t added = 0;
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		if (parse_line(s, g, file, lineno, p, (size_t)(le - p), d))
			added++;
		p = nl ? nl + 1 : end;
	}
	return added;
}

/* Read a group file into s as group g. A missing file is an empty group; another read
 * error is reported and leaves the group empty. Returns 0 or -errno. */
int policy_read_file(struct policy_set *s, unsigned g, struct diag *d)
{
	struct diag dummy = { 0 };
	if (!d)
		d = &dummy;
	if (g >= s->n_groups)
		return -EINVAL;
	struct pol_group *grp = &s->groups[g];
	int fd = open(grp->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT) {
			grp->file_missing = true;
			return 0;
		}
		diag_report(d, DIAG_ERR, grp->file, 0, "cannot open group file: %s", strerror(err));
		return -err;
	}
	struct stat st;
	char *buf = NULL;
	size_t cap, len = 0;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		diag_report(d, DIAG_ERR, grp->file, 0, "cannot read group file: %s",
			    strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		diag_report(d, DIAG_ERR, grp->file, 0, "group file is not a regular file");
		goto done;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	for (;;) {
		if (!buf) {
			rc = -ENOMEM;
			diag_report(d, DIAG_ERR, grp->file, 0, "out of memory");
			goto done;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			diag_report(d, DIAG_ERR, grp->file, 0, "cannot read group file: %s",
				    strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {       /* the file grew while we read it */
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	policy_parse_buf(s, g, grp->file, buf, len, d);
done:
	free(buf);
	close(fd);
	return rc;
}
