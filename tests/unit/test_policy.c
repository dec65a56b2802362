/* test_policy.c — group files, duplicates, automatic entries, classification, reqids,
 * reload diff and kernel priorities. Sets are built by hand (policy_new/add_group/
 * parse_buf/finish) or loaded from tests/data/policies with a conf built by hand. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpm.h"
#include "policy.h"
#include "unit.h"

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

/* ---- helpers ---------------------------------------------------------------------- */

struct capture {
	char msg[32][512];
	enum diag_sev sev[32];
	unsigned n;
};

static void capture_fn(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		       const char *msg)
{
	struct capture *c = d->arg;
	if (c->n < 32) {
		snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s:%u: %s", file, line, msg);
		c->sev[c->n] = sev;
	}
	c->n++;
}

#define DIAG_CAPTURE(name, cap) struct capture cap = { .n = 0 }; \
	struct diag name = { capture_fn, &cap, 0, 0 }

struct grp {
	const char *name;
	enum group_class cls;
	const char *text;
};

#define NGRP(a) (sizeof(a) / sizeof((a)[0]))

/* Groups get file "t/<name>" and conn = their index. */
static struct policy_set *build(const struct grp *g, size_t n, const struct host_addrs *host,
				bool strict, struct diag *d)
{
	struct policy_set *s = policy_new();
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		char file[64];
		snprintf(file, sizeof(file), "t/%s", g[i].name);
		int gi = policy_add_group(s, g[i].name, file, g[i].cls, (int)i);
		ck_assert_int_eq(gi, (int)i);
		policy_parse_buf(s, (unsigned)gi, file, g[i].text, strlen(g[i].text), d);
	}
	ck_assert_int_eq(policy_finish(s, host, strict, d), 0);
	return s;
}

static struct addr A(const char *s)
{
	struct addr a;
	ck_assert_msg(addr_parse(s, &a), "bad addr %s", s);
	return a;
}

static const char *group_of(const struct policy_set *s, const struct pol_entry *e)
{
	return e ? policy_group(s, e)->name : "(none)";
}

static const char *entry_of(const struct pol_entry *e, char *buf)
{
	return e ? policy_entry_str(e, buf) : "(none)";
}

/* ---- parsing ---------------------------------------------------------------------- */

START_TEST(parse_lines)
{
	DIAG_CAPTURE(d, cap);
	const char text[] =
		"# a comment line\n"
		"\n"
		"   \t  \n"
		"10.0.0.0/8\n"
		"192.168.1.7   # trailing comment\n"
		"2001:db8::/32\n"
		"10.0.1.0/24 tcp 0 25\n"
		"0.0.0.0/0 tcp smtp 0\n"
		"::/0 ipv6-icmp 0 0\n"
		"10.9.0.0/16 17 0 domain\r\n"
		"fe80::1#x\n"                 /* '#' inside a token is not a comment */

		"10.8.0.0/16 icmpv6 0 0\n"
		"10.7.0.0/16 sctp 65535 1";      /* no final newline */
	struct grp g[] = { { "private", GC_OE_DROP, text } };
	struct policy_set *s = build(g, 1, NULL, false, &d);
	ck_assert_uint_eq(cap.n, 1);
	ck_assert_str_eq(cap.msg[0], "t/private:11: 'fe80::1#x' is not a numeric address or CIDR; ignored");
	ck_assert_uint_eq(d.n_err, 1);
	ck_assert_uint_eq(s->groups[0].n_entries, 9);
	ck_assert_str_eq(s->groups[1].name, "(host)");
	ck_assert_int_eq(s->groups[1].conn, -1);
	ck_assert_str_eq(s->groups[1].file, "(automatic)");
	ck_assert_uint_eq(s->groups[1].n_entries, 4);
	ck_assert_uint_eq(s->n_entries, 13);

	/* entries are sorted by key, and each borrows its group's file name */
	for (size_t i = 1; i < s->n_entries; i++) {
		const struct pol_entry *x = &s->entries[i - 1], *y = &s->entries[i];
		int c = prefix_cmp(&x->pfx, &y->pfx);
		ck_assert(c < 0 || (c == 0 && (x->proto < y->proto || (x->proto == y->proto &&
			  (x->lport < y->lport || (x->lport == y->lport && x->rport < y->rport))))));
	}
	char buf[POL_ENTRY_STRLEN];
	const char *want[] = {
		"0.0.0.0/0 tcp 25 0", "10.0.0.0/8", "10.0.1.0/24 tcp 0 25", "10.7.0.0/16 sctp 65535 1",
		"10.8.0.0/16 ipv6-icmp 0 0", "10.9.0.0/16 udp 0 53", "192.168.1.7/32",
		"::/0 ipv6-icmp 0 0", "2001:db8::/32",
	};
	size_t k = 0;
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct pol_entry *e = &s->entries[i];
		if (policy_is_host(s, e))
			continue;
		ck_assert_ptr_eq(e->file, s->groups[0].file);
		ck_assert_uint_lt(k, NGRP(want));
		ck_assert_str_eq(policy_entry_str(e, buf), want[k]);
		k++;
	}
	ck_assert_uint_eq(k, NGRP(want));
	policy_free(s);
}
END_TEST

START_TEST(parse_errors)
{
	DIAG_CAPTURE(d, cap);
	char longline[2000];
	memset(longline, '1', sizeof(longline));
	const char *lines[] = {
		"10.0.0.0/8 esp 0 0",                    /* 1 */
		"10.0.0.0/8 tcp",                        /* 2 */
		"host.example",                          /* 3 */
		"10.0.0.0/8 tcp 0 99999",                /* 4 */
		"10.0.0.0/8 foo 1 2",                    /* 5 */
		"10.0.0.0/33",                           /* 6 */
		"1.2.3.4 5 6 7 8",                       /* 7 */
		"10.0.0.0/8 0 0 0",                      /* 8 */
		"10.0.0.0/8 ah 0 0",                     /* 9 */
		"10.0.0.0/8 51 0 0",                     /* 10 */
		"10.0.0.0/8 256 0 0",                    /* 11 */
		"10.0.0.0/8 tcp ssh- 0",                 /* 12 */
		"10.0.0.0/8 tcp 0 -1",                   /* 13 */
		"10.1.2.3/24",                           /* 14: warning only, kept */
		"10.0.0.0/8 a b",                        /* 15 */
		"10.1.2.0/024",                          /* 16 */
		"2001:db8::1/64 tcp 22 0",               /* 17: warning only, kept */
		"10.5.0.0/16",                           /* 18: fine, after all the errors */
	};
	/* assemble, with a NUL line (19) and a long line (20) and a good last line (21) */
	size_t cap_len = 8192, len = 0;
	char *text = malloc(cap_len);
	for (size_t i = 0; i < NGRP(lines); i++)
		len += (size_t)snprintf(text + len, cap_len - len, "%s\n", lines[i]);
	memcpy(text + len, "10.6.\0.0/16\n", 12);
	len += 12;
	memcpy(text + len, longline, sizeof(longline));
	len += sizeof(longline);
	memcpy(text + len, "\n10.4.0.0/16\n", 13);
	len += 13;

	struct policy_set *s = policy_new();
	int g = policy_add_group(s, "private", "p/private", GC_OE_DROP, 0);
	ck_assert_int_eq(g, 0);
	size_t added = policy_parse_buf(s, 0, "p/private", text, len, &d);
	ck_assert_uint_eq(added, 4);
	const char *want[] = {
		"p/private:1: protocol 'esp' cannot be used in a group entry (0, esp and ah are refused); ignored",
		"p/private:2: expected 'CIDR' or 'CIDR PROTO LPORT RPORT' but found 2 fields; ignored",
		"p/private:3: 'host.example' is not a numeric address or CIDR; ignored",
		"p/private:4: '99999' is not a remote port (0-65535 or a service name such as ssh); ignored",
		"p/private:5: 'foo' is not a protocol (a number 1-255 or a name such as tcp, udp, icmp); ignored",
		"p/private:6: '10.0.0.0/33' is not a numeric address or CIDR; ignored",
		"p/private:7: expected 'CIDR' or 'CIDR PROTO LPORT RPORT' but found more than 4 fields; ignored",
		"p/private:8: protocol '0' cannot be used in a group entry (0, esp and ah are refused); ignored",
		"p/private:9: protocol 'ah' cannot be used in a group entry (0, esp and ah are refused); ignored",
		"p/private:10: protocol '51' cannot be used in a group entry (0, esp and ah are refused); ignored",
		"p/private:11: '256' is not a protocol (a number 1-255 or a name such as tcp, udp, icmp); ignored",
		"p/private:12: 'ssh-' is not a local port (0-65535 or a service name such as ssh); ignored",
		"p/private:13: '-1' is not a remote port (0-65535 or a service name such as ssh); ignored",
		"p/private:14: '10.1.2.3/24' has host bits set; using 10.1.2.0/24",
		"p/private:15: expected 'CIDR' or 'CIDR PROTO LPORT RPORT' but found 3 fields; ignored",
		"p/private:16: '10.1.2.0/024' is not a numeric address or CIDR; ignored",
		"p/private:17: '2001:db8::1/64' has host bits set; using 2001:db8::/64",
		"p/private:19: line contains a NUL byte; ignored",
		"p/private:20: line is longer than 1024 bytes; ignored",
	};
	ck_assert_uint_eq(cap.n, NGRP(want));
	for (size_t i = 0; i < NGRP(want); i++)
		ck_assert_str_eq(cap.msg[i], want[i]);
	ck_assert_uint_eq(d.n_warn, 2);
	ck_assert_uint_eq(d.n_err, NGRP(want) - 2);
	ck_assert_int_eq(s->entries[3].line, 21);

	/* a long unprintable token is quoted bounded and sanitised */
	cap.n = 0;
	const char junk[] = "\x01\x02\xff" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
	ck_assert_uint_eq(policy_parse_buf(s, 0, "p/private", junk, sizeof(junk) - 1, &d), 0);
	ck_assert_uint_eq(cap.n, 1);
	char jwant[200];
	snprintf(jwant, sizeof(jwant), "p/private:1: '???%.37s...' is not a numeric address or CIDR; ignored",
		 junk + 3);
	ck_assert_str_eq(cap.msg[0], jwant);
	/* a bad group index or a finished set adds nothing */
	ck_assert_uint_eq(policy_parse_buf(s, 7, "x", "10.0.0.0/8\n", 11, &d), 0);
	ck_assert_int_eq(policy_finish(s, NULL, false, NULL), 0);
	ck_assert_uint_eq(policy_parse_buf(s, 0, "x", "10.0.0.0/8\n", 11, NULL), 0);
	ck_assert_int_ne(policy_finish(s, NULL, false, NULL), 0);
	policy_free(s);
	free(text);
}
END_TEST

/* ---- duplicates and automatic entries ---------------------------------------------- */

START_TEST(dup_same_group)
{
	DIAG_CAPTURE(d, cap);
	struct grp g[] = { { "private", GC_OE_DROP,
			     "10.0.0.0/8\n10.0.0.0/8 tcp 0 22\n10.0.0.1/8\n10.0.0.0/8 6 0 ssh\n" } };
	struct policy_set *s = build(g, 1, NULL, true, &d);
	ck_assert_uint_eq(cap.n, 3);
	ck_assert_str_eq(cap.msg[0], "t/private:3: '10.0.0.1/8' has host bits set; using 10.0.0.0/8");
	ck_assert_str_eq(cap.msg[1], "t/private:3: 10.0.0.0/8 is listed twice in this group (first at line 1); ignored");
	ck_assert_str_eq(cap.msg[2], "t/private:4: 10.0.0.0/8 tcp 0 22 is listed twice in this group (first at line 2); ignored");
	ck_assert_uint_eq(d.n_err, 0);     /* within one group: a warning even when strict */
	ck_assert_uint_eq(s->groups[0].n_entries, 2);
	struct prefix p;
	ck_assert(prefix_parse("10.0.0.0/8", &p, false, NULL));
	const struct pol_entry *e = lpm_exact(s->lpm4, &p);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->line, 1);
	ck_assert_ptr_nonnull(e->next_same);
	ck_assert_uint_eq(e->next_same->line, 2);
	ck_assert_ptr_null(e->next_same->next_same);
	policy_free(s);
}
END_TEST

START_TEST(dup_across_groups)
{
	static const struct grp g[] = {
		{ "clear", GC_CLEAR, "10.0.0.0/24\n# x\n10.0.1.0/24\n" },
		{ "private", GC_OE_DROP, "10.0.1.0/24\n10.0.2.0/24\n" },
		{ "private-or-clear", GC_OE_PASS, "10.0.0.0/24\n10.0.2.0/24\n" },
		{ "block", GC_BLOCK, "\n\n\n10.0.2.0/24\n" },
		{ "private-2", GC_OE_DROP, "10.0.1.0/24\n" },
	};
	for (int strict = 0; strict < 2; strict++) {
		DIAG_CAPTURE(d, cap);
		struct policy_set *s = build(g, NGRP(g), NULL, strict, &d);
		const char *want[] = {
			"t/clear:1: 10.0.0.0/24 is also in group private-or-clear at t/private-or-clear:1; the more restrictive group private-or-clear (private-or-clear) wins",
			"t/private-2:1: 10.0.1.0/24 is also in group private at t/private:1; both are private, the group first in the configuration (private) wins",
			"t/clear:3: 10.0.1.0/24 is also in group private at t/private:1; the more restrictive group private (private) wins",
			"t/private:2: 10.0.2.0/24 is also in group block at t/block:4; the more restrictive group block (block) wins",
			"t/private-or-clear:2: 10.0.2.0/24 is also in group block at t/block:4; the more restrictive group block (block) wins",
		};
		ck_assert_uint_eq(cap.n, NGRP(want));
		for (size_t i = 0; i < NGRP(want); i++) {
			ck_assert_str_eq(cap.msg[i], want[i]);
			ck_assert_int_eq(cap.sev[i], strict ? DIAG_ERR : DIAG_WARN);
		}
		struct addr a = A("10.0.0.1");
		ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "private-or-clear");
		a = A("10.0.1.1");
		ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "private");
		a = A("10.0.2.1");
		ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "block");
		ck_assert_uint_eq(s->groups[0].n_entries, 0);
		ck_assert_uint_eq(s->groups[1].n_entries, 1);
		ck_assert_uint_eq(s->groups[2].n_entries, 1);
		ck_assert_uint_eq(s->groups[3].n_entries, 1);
		ck_assert_uint_eq(s->groups[4].n_entries, 0);
		policy_free(s);
	}
}
END_TEST

START_TEST(host_entries)
{
	DIAG_CAPTURE(d, cap);
	struct addr ha[3] = { A("10.0.0.1"), A("2001:db8::1"), A("10.0.0.1") };
	struct host_addrs host = { ha, 3 };
	struct grp g[] = {
		{ "private", GC_OE_DROP, "10.0.0.0/8\n10.0.0.1\n127.0.0.0/8\n::/0\nfe80::/10 tcp 0 22\n" },
		{ "block", GC_BLOCK, "2001:db8::1/128\n0.0.0.0/0\n" },
	};
	struct policy_set *s = build(g, NGRP(g), &host, true, &d);
	const char *want[] = {
		"t/private:2: 10.0.0.1/32 is this host's own address; it is always clear",
		"t/private:3: 127.0.0.0/8 is loopback or link-local; it is always clear",
		"t/block:1: 2001:db8::1/128 is this host's own address; it is always clear",
	};
	ck_assert_uint_eq(cap.n, NGRP(want));
	for (size_t i = 0; i < NGRP(want); i++) {
		ck_assert_str_eq(cap.msg[i], want[i]);
		ck_assert_int_eq(cap.sev[i], DIAG_WARN);
	}
	ck_assert_uint_eq(s->groups[2].n_entries, 6);   /* 4 automatic + 2 host addresses */
	const char *host_peers[] = { "10.0.0.1", "127.0.0.1", "127.255.0.9", "::1", "169.254.1.1",
				     "fe80::1234", "2001:db8::1" };
	for (size_t i = 0; i < NGRP(host_peers); i++) {
		struct addr a = A(host_peers[i]);
		/* even with a protocol: fe80::/10 tcp 0 22 in private does not beat it */
		const struct pol_entry *e = policy_classify(s, &a, 6, 1000, 22);
		ck_assert_msg(e && policy_is_host(s, e), "%s not automatic", host_peers[i]);
		ck_assert_int_eq(policy_group(s, e)->cls, GC_CLEAR);
		ck_assert_uint_eq(e->line, 0);
		ck_assert_str_eq(e->file, "(automatic)");
	}
	struct addr a = A("10.0.0.2");
	ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "private");
	a = A("2001:db8::2");
	ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "private");
	a = A("11.0.0.2");
	ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "block");
	/* no host list: only loopback and link-local */
	policy_free(s);
	s = build(g, NGRP(g), NULL, false, NULL);
	a = A("10.0.0.1");
	ck_assert_str_eq(group_of(s, policy_classify(s, &a, 0, 0, 0)), "private");
	ck_assert_uint_eq(s->groups[2].n_entries, 4);
	policy_free(s);
}
END_TEST

/* ---- loading and classification ---------------------------------------------------- */

static void add_conn(struct conf *c, const char *name, enum conf_right rk, enum conf_type type,
		     enum conf_auto au, enum shunt_action fs)
{
	c->conns = realloc(c->conns, (c->n_conns + 1) * sizeof(*c->conns));
	ck_assert_ptr_nonnull(c->conns);
	struct conf_conn *cc = &c->conns[c->n_conns++];
	conf_conn_init(cc);
	cc->name = strdup(name);
	cc->right_kind = rk;
	cc->type = type;
	cc->autostart = au;
	cc->failureshunt = fs;
	conf_conn_finish(cc);
}

/* The five groups in the order of the Libreswan example, a host-to-host conn that is not
 * a group, and a group whose file does not exist. */
static struct conf *fixture_conf(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	conf_setup_init(&c->setup);
	add_conn(c, "clear", RIGHT_GROUP, TYPE_PASSTHROUGH, AUTO_ONDEMAND, SHUNT_NONE);
	add_conn(c, "clear-or-private", RIGHT_OPPGROUP, TYPE_TUNNEL, AUTO_ADD, SHUNT_PASS);
	add_conn(c, "static", RIGHT_HOST, TYPE_TUNNEL, AUTO_START, SHUNT_NONE);
	add_conn(c, "private-or-clear", RIGHT_OPPGROUP, TYPE_TUNNEL, AUTO_ONDEMAND, SHUNT_PASS);
	add_conn(c, "private", RIGHT_OPPGROUP, TYPE_TUNNEL, AUTO_ONDEMAND, SHUNT_DROP);
	add_conn(c, "block", RIGHT_GROUP, TYPE_DROP, AUTO_ONDEMAND, SHUNT_NONE);
	add_conn(c, "missing", RIGHT_OPPGROUP, TYPE_TUNNEL, AUTO_ONDEMAND, SHUNT_DROP);
	return c;
}

static struct policy_set *load_fixture(struct diag *d)
{
	struct conf *c = fixture_conf();
	struct addr ha = A("10.9.0.1");
	struct host_addrs host = { &ha, 1 };
	struct policy_set *s = policy_load(c, TEST_DATADIR "/policies/overlap", &host, true, d);
	ck_assert_ptr_nonnull(s);
	conf_free(c);
	return s;
}

START_TEST(load_dir)
{
	DIAG_CAPTURE(d, cap);
	struct policy_set *s = load_fixture(&d);
	ck_assert_msg(cap.n == 0, "unexpected: %s", cap.msg[0]);
	ck_assert_uint_eq(s->n_groups, 7);     /* 6 group conns + (host) */
	const char *names[] = { "clear", "clear-or-private", "private-or-clear", "private", "block",
				"missing", "(host)" };
	const int conns[] = { 0, 1, 3, 4, 5, 6, -1 };
	const enum group_class cls[] = { GC_CLEAR, GC_OE_RESPOND, GC_OE_PASS, GC_OE_DROP,
					 GC_BLOCK, GC_OE_DROP, GC_CLEAR };
	const size_t n[] = { 5, 2, 4, 5, 3, 0, 5 };
	for (size_t i = 0; i < NGRP(names); i++) {
		ck_assert_str_eq(s->groups[i].name, names[i]);
		ck_assert_int_eq(s->groups[i].conn, conns[i]);
		ck_assert_int_eq(s->groups[i].cls, cls[i]);
		ck_assert_uint_eq(s->groups[i].n_entries, n[i]);
		ck_assert(s->groups[i].file_missing == (i == 5));
	}
	ck_assert_str_eq(s->groups[3].file, TEST_DATADIR "/policies/overlap/private");
	ck_assert_uint_eq(s->n_entries, 24);
	policy_free(s);

	/* an unreadable "file" (a directory) is reported and leaves the group empty */
	struct conf *c = fixture_conf();
	free(c->conns[0].name);
	c->conns[0].name = strdup("..");
	cap.n = 0;
	s = policy_load(c, TEST_DATADIR "/policies/overlap", NULL, false, &d);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(cap.n, 1);
	ck_assert_str_eq(cap.msg[0], TEST_DATADIR "/policies/overlap/..:0: group file is not a regular file");
	ck_assert_uint_eq(s->groups[0].n_entries, 0);
	policy_free(s);
	conf_free(c);
}
END_TEST

struct cls_case {
	const char *peer;
	uint8_t proto;
	uint16_t lport, rport;
	const char *group;
	const char *entry;
};

START_TEST(classify_overlaps)
{
	struct policy_set *s = load_fixture(NULL);
	static const struct cls_case cases[] = {
		/* a /24 clear with a /32 private inside */
		{ "10.1.0.5", 0, 0, 0, "private", "10.1.0.5/32" },
		{ "10.1.0.6", 0, 0, 0, "clear", "10.1.0.0/24" },
		{ "10.1.0.5", 6, 1234, 80, "private", "10.1.0.5/32" },
		/* a /24 private with a /32 clear and a /32 block inside */
		{ "10.2.0.7", 0, 0, 0, "clear", "10.2.0.7/32" },
		{ "10.2.0.9", 0, 0, 0, "block", "10.2.0.9/32" },
		{ "10.2.0.10", 0, 0, 0, "private", "10.2.0.0/24" },
		/* protocol/ports at the same prefix: most specific match wins */
		{ "10.2.0.10", 17, 5000, 53, "private", "10.2.0.0/24" },
		{ "10.2.0.10", 6, 40000, 80, "private-or-clear", "10.2.0.0/24 tcp 0 0" },
		{ "10.2.0.10", 6, 40000, 22, "clear", "10.2.0.0/24 tcp 0 22" },
		{ "10.2.0.10", 6, 2222, 22, "block", "10.2.0.0/24 tcp 2222 22" },
		{ "10.2.0.10", 6, 0, 0, "private-or-clear", "10.2.0.0/24 tcp 0 0" },
		/* but a longer prefix beats any protocol match */
		{ "10.2.0.9", 6, 2222, 22, "block", "10.2.0.9/32" },
		{ "10.2.0.7", 6, 2222, 22, "clear", "10.2.0.7/32" },
		/* a private-or-clear /32 inside a private /16 */
		{ "10.3.1.1", 0, 0, 0, "private-or-clear", "10.3.1.1/32" },
		{ "10.3.1.2", 0, 0, 0, "private", "10.3.0.0/16" },
		{ "10.200.0.1", 0, 0, 0, "private-or-clear", "10.0.0.0/8" },
		{ "192.168.3.4", 0, 0, 0, "clear-or-private", "192.168.0.0/16" },
		{ "11.0.0.1", 0, 0, 0, "(none)", "(none)" },
		/* automatic */
		{ "10.9.0.1", 0, 0, 0, "(host)", "10.9.0.1/32" },
		{ "127.0.0.53", 17, 1000, 53, "(host)", "127.0.0.0/8" },
		{ "169.254.169.254", 0, 0, 0, "(host)", "169.254.0.0/16" },
		/* IPv6 */
		{ "2001:db8:1::5", 0, 0, 0, "private", "2001:db8:1::5/128" },
		{ "2001:db8:1::6", 0, 0, 0, "clear", "2001:db8:1::/48" },
		{ "2001:db8:2::7", 0, 0, 0, "clear", "2001:db8:2::7/128" },
		{ "2001:db8:2::9", 0, 0, 0, "block", "2001:db8:2::9/128" },
		{ "2001:db8:2::1", 0, 0, 0, "private", "2001:db8:2::/48" },
		{ "2001:db8:ffff::1", 0, 0, 0, "private-or-clear", "2001:db8::/32" },
		{ "fd12::1", 0, 0, 0, "clear-or-private", "fd00::/8" },
		{ "2001:db9::1", 0, 0, 0, "(none)", "(none)" },
		{ "::1", 0, 0, 0, "(host)", "::1/128" },
		{ "fe80::1", 0, 0, 0, "(host)", "fe80::/10" },
	};
	for (size_t i = 0; i < NGRP(cases); i++) {
		const struct cls_case *c = &cases[i];
		struct addr a = A(c->peer);
		const struct pol_entry *e = policy_classify(s, &a, c->proto, c->lport, c->rport);
		char buf[POL_ENTRY_STRLEN];
		ck_assert_msg(strcmp(group_of(s, e), c->group) == 0 &&
			      strcmp(entry_of(e, buf), c->entry) == 0,
			      "%s proto %u %u %u: got %s %s, want %s %s", c->peer, c->proto,
			      c->lport, c->rport, group_of(s, e), entry_of(e, buf), c->group, c->entry);
	}
	policy_free(s);
}
END_TEST

START_TEST(classify_oe)
{
	struct policy_set *s = load_fixture(NULL);
	static const struct { const char *peer, *entry, *group; } cases[] = {
		{ "10.2.0.7", "10.2.0.0/24", "private" },         /* clear /32 ignored */
		{ "10.2.0.9", "10.2.0.0/24", "private" },         /* block /32 ignored */
		{ "10.2.0.10", "10.2.0.0/24", "private" },        /* wildcard over tcp entry */
		{ "10.1.0.6", "10.0.0.0/8", "private-or-clear" }, /* clear /24 ignored */
		{ "10.1.0.5", "10.1.0.5/32", "private" },
		{ "10.3.1.1", "10.3.1.1/32", "private-or-clear" },
		{ "192.168.1.1", "192.168.0.0/16", "clear-or-private" },
		{ "2001:db8:1::6", "2001:db8::/32", "private-or-clear" },
		{ "2001:db8:2::9", "2001:db8:2::/48", "private" },
		{ "11.0.0.1", "(none)", "(none)" },
		{ "127.0.0.1", "(none)", "(none)" },
	};
	for (size_t i = 0; i < NGRP(cases); i++) {
		struct addr a = A(cases[i].peer);
		const struct pol_entry *e = policy_classify_oe(s, &a);
		char buf[POL_ENTRY_STRLEN];
		ck_assert_msg(strcmp(entry_of(e, buf), cases[i].entry) == 0 &&
			      strcmp(group_of(s, e), cases[i].group) == 0,
			      "%s: got %s %s", cases[i].peer, entry_of(e, buf), group_of(s, e));
	}
	/* only a protocol-specific OE entry at the longest level: it is returned */
	struct grp g[] = { { "private", GC_OE_DROP, "10.0.0.0/8\n10.1.0.0/16 tcp 0 25\n" },
			   { "clear", GC_CLEAR, "10.1.0.0/16\n" } };
	struct policy_set *t = build(g, NGRP(g), NULL, false, NULL);
	struct addr a = A("10.1.2.3");
	char buf[POL_ENTRY_STRLEN];
	ck_assert_str_eq(entry_of(policy_classify_oe(t, &a), buf), "10.1.0.0/16 tcp 0 25");
	ck_assert_str_eq(group_of(t, policy_classify(t, &a, 0, 0, 0)), "clear");
	ck_assert_str_eq(group_of(t, policy_classify(t, &a, 6, 999, 25)), "private");
	policy_free(t);
	policy_free(s);
}
END_TEST

/* ---- reqids and diff -------------------------------------------------------------- */

static const struct pol_entry *find(const struct policy_set *s, const char *entry)
{
	char buf[POL_ENTRY_STRLEN];
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(policy_entry_str(&s->entries[i], buf), entry) == 0)
			return &s->entries[i];
	return NULL;
}

START_TEST(reqids_across_reload)
{
	struct grp g1[] = {
		{ "clear", GC_CLEAR, "10.0.0.0/24\n10.0.1.0/24\n" },
		{ "private", GC_OE_DROP, "10.1.0.0/16\n10.2.0.0/16 tcp 0 22\n2001:db8::/32\n" },
	};
	struct grp g2[] = {   /* reordered, one removed, one appended, one moved */
		{ "clear", GC_CLEAR, "# edited\n10.0.1.0/24\n10.1.0.0/16\n" },
		{ "private", GC_OE_DROP, "2001:db8::/32\n10.2.0.0/16 tcp 0 22\n10.3.0.0/16\n" },
	};
	struct policy_set *a = build(g1, 2, NULL, false, NULL);
	struct policy_set *b = build(g2, 2, NULL, false, NULL);
	uint32_t next = 0;     /* 0 is never used */
	policy_assign_reqids(a, NULL, &next);
	for (size_t i = 0; i < a->n_entries; i++) {
		ck_assert_uint_ne(a->entries[i].reqid, 0);
		ck_assert_ptr_eq(policy_by_reqid(a, a->entries[i].reqid), &a->entries[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_uint_ne(a->entries[i].reqid, a->entries[j].reqid);
	}
	ck_assert_uint_eq(next, a->n_entries + 1);
	uint32_t first_fresh = next;
	policy_assign_reqids(b, a, &next);
	const char *kept[] = { "10.0.1.0/24", "10.2.0.0/16 tcp 0 22", "2001:db8::/32",
			       "127.0.0.0/8", "::1/128" };
	for (size_t i = 0; i < NGRP(kept); i++)
		ck_assert_uint_eq(find(b, kept[i])->reqid, find(a, kept[i])->reqid);
	ck_assert_uint_ge(find(b, "10.3.0.0/16")->reqid, first_fresh);       /* appended */
	ck_assert_uint_ge(find(b, "10.1.0.0/16")->reqid, first_fresh);       /* moved */
	ck_assert_ptr_null(policy_by_reqid(b, find(a, "10.0.0.0/24")->reqid));   /* removed */
	ck_assert_ptr_null(policy_by_reqid(b, find(a, "10.1.0.0/16")->reqid));
	for (size_t i = 0; i < b->n_entries; i++)
		ck_assert_ptr_eq(policy_by_reqid(b, b->entries[i].reqid), &b->entries[i]);
	ck_assert_ptr_null(policy_by_reqid(b, 0));

	/* wrap-around skips 0 */
	struct policy_set *c = build(g2, 2, NULL, false, NULL);
	next = UINT32_MAX;
	policy_assign_reqids(c, NULL, &next);
	ck_assert_uint_eq(c->entries[0].reqid, UINT32_MAX);
	ck_assert_uint_eq(c->entries[1].reqid, 1);
	/* fresh reqids never collide with kept ones, even when the counter restarts low */
	struct policy_set *e = build(g1, 2, NULL, false, NULL);
	next = 1;
	policy_assign_reqids(e, b, &next);
	ck_assert_uint_eq(find(e, "10.0.1.0/24")->reqid, find(b, "10.0.1.0/24")->reqid);
	for (size_t i = 0; i < e->n_entries; i++) {
		ck_assert_ptr_eq(policy_by_reqid(e, e->entries[i].reqid), &e->entries[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_uint_ne(e->entries[i].reqid, e->entries[j].reqid);
	}
	policy_free(a);
	policy_free(b);
	policy_free(c);
	policy_free(e);
}
END_TEST

struct diff_rec {
	unsigned added, removed, changed;
	char last[3][POL_ENTRY_STRLEN + 64];
};

static void diff_cb(const struct pol_entry *o, const struct pol_entry *n, void *arg)
{
	struct diff_rec *r = arg;
	char b1[POL_ENTRY_STRLEN];
	if (o && n) {
		r->changed++;
		snprintf(r->last[2], sizeof(r->last[2]), "%s", policy_entry_str(n, b1));
	} else if (o) {
		r->removed++;
		snprintf(r->last[1], sizeof(r->last[1]), "%s", policy_entry_str(o, b1));
	} else {
		r->added++;
		snprintf(r->last[0], sizeof(r->last[0]), "%s", policy_entry_str(n, b1));
	}
}

static struct diff_rec diff_texts(const char *c1, const char *p1, const char *c2, const char *p2,
				  enum group_class pcls2)
{
	struct grp g1[] = { { "clear", GC_CLEAR, c1 }, { "private", GC_OE_DROP, p1 } };
	struct grp g2[] = { { "clear", GC_CLEAR, c2 }, { "private", pcls2, p2 } };
	struct policy_set *a = build(g1, 2, NULL, false, NULL);
	struct policy_set *b = build(g2, 2, NULL, false, NULL);
	struct diff_rec r;
	memset(&r, 0, sizeof(r));
	policy_diff(a, b, diff_cb, &r);
	policy_free(a);
	policy_free(b);
	return r;
}

START_TEST(diff_cases)
{
	const char *c = "10.0.0.0/24\n10.0.1.0/24 tcp 0 22\n";
	const char *p = "10.1.0.0/16\n2001:db8::/32\n10.2.0.0/16\n";
	struct diff_rec r;

	r = diff_texts(c, p, c, p, GC_OE_DROP);
	ck_assert_uint_eq(r.added + r.removed + r.changed, 0);
	/* comment-only edit, blank lines, trailing comments: no change */
	r = diff_texts(c, p, "# new header\n\n10.0.0.0/24   # db\n10.0.1.0/24 tcp 0 ssh\n", p,
		       GC_OE_DROP);
	ck_assert_uint_eq(r.added + r.removed + r.changed, 0);
	/* reordered lines: no change */
	r = diff_texts(c, p, c, "10.2.0.0/16\n2001:db8::/32\n10.1.0.0/16\n", GC_OE_DROP);
	ck_assert_uint_eq(r.added + r.removed + r.changed, 0);
	/* appended line: exactly one added */
	r = diff_texts(c, p, c, "10.1.0.0/16\n2001:db8::/32\n10.2.0.0/16\n10.3.0.0/16\n", GC_OE_DROP);
	ck_assert_uint_eq(r.added, 1);
	ck_assert_uint_eq(r.removed + r.changed, 0);
	ck_assert_str_eq(r.last[0], "10.3.0.0/16");
	/* removed line: exactly one removed */
	r = diff_texts(c, p, c, "10.1.0.0/16\n10.2.0.0/16\n", GC_OE_DROP);
	ck_assert_uint_eq(r.removed, 1);
	ck_assert_uint_eq(r.added + r.changed, 0);
	ck_assert_str_eq(r.last[1], "2001:db8::/32");
	/* moved from private to clear: one changed */
	r = diff_texts(c, p, "10.0.0.0/24\n10.0.1.0/24 tcp 0 22\n10.2.0.0/16\n",
		       "10.1.0.0/16\n2001:db8::/32\n", GC_OE_DROP);
	ck_assert_uint_eq(r.changed, 1);
	ck_assert_uint_eq(r.added + r.removed, 0);
	ck_assert_str_eq(r.last[2], "10.2.0.0/16");
	/* the group changed class (private -> private-or-clear): each of its entries changed */
	r = diff_texts(c, p, c, p, GC_OE_PASS);
	ck_assert_uint_eq(r.changed, 3);
	ck_assert_uint_eq(r.added + r.removed, 0);
	/* a host-bit variant of a line is the same key */
	r = diff_texts(c, p, c, "10.1.2.3/16\n2001:db8::/32\n10.2.0.0/16\n", GC_OE_DROP);
	ck_assert_uint_eq(r.added + r.removed + r.changed, 0);
	/* from/to nothing */
	struct grp g[] = { { "clear", GC_CLEAR, c } };
	struct policy_set *a = build(g, 1, NULL, false, NULL);
	memset(&r, 0, sizeof(r));
	policy_diff(NULL, a, diff_cb, &r);
	ck_assert_uint_eq(r.added, a->n_entries);
	memset(&r, 0, sizeof(r));
	policy_diff(a, NULL, diff_cb, &r);
	ck_assert_uint_eq(r.removed, a->n_entries);
	policy_free(a);
}
END_TEST

/* ---- priorities ------------------------------------------------------------------- */

struct sel {
	unsigned family, peer_len, local_len;
	uint8_t proto;
	uint16_t lport, rport;
	bool host;
};

static unsigned spec(const struct sel *x)
{
	return x->proto ? 4u | (x->lport ? 2u : 0u) | (x->rport ? 1u : 0u) : 0u;
}

/* The documented order: -1 when x must get a lower (winning) priority than y. */
static int expected_order(const struct sel *x, const struct sel *y)
{
	if (x->host != y->host)
		return x->host ? -1 : 1;
	if (x->peer_len != y->peer_len)
		return x->peer_len > y->peer_len ? -1 : 1;
	if (spec(x) != spec(y))
		return spec(x) > spec(y) ? -1 : 1;
	if (x->local_len != y->local_len)
		return x->local_len > y->local_len ? -1 : 1;
	return 0;
}

START_TEST(priority_order)
{
	static const struct { uint8_t proto; uint16_t lport, rport; } ps[] = {
		{ 0, 0, 0 }, { 6, 0, 0 }, { 6, 0, 22 }, { 17, 53, 0 }, { 6, 2222, 22 },
	};
	const unsigned fams[] = { AF_INET, AF_INET6 };
	for (size_t f = 0; f < 2; f++) {
		unsigned bits = fams[f] == AF_INET ? 32 : 128, step = fams[f] == AF_INET ? 1 : 7;
		struct sel *v = calloc(2 * 5 * 3 * 130, sizeof(*v));
		size_t n = 0;
		for (unsigned pl = 0; pl <= bits + step - 1; pl += step)
			for (size_t k = 0; k < NGRP(ps); k++)
				for (unsigned ll = 0; ll < 3; ll++)
					for (int h = 0; h < 2; h++) {
						struct sel *x = &v[n++];
						x->family = fams[f];
						x->peer_len = pl > bits ? bits : pl;
						x->local_len = ll == 0 ? 0 : ll == 1 ? bits / 2 : bits;
						x->proto = ps[k].proto;
						x->lport = ps[k].lport;
						x->rport = ps[k].rport;
						x->host = h;
					}
		uint32_t *pr = calloc(n, sizeof(*pr));
		for (size_t i = 0; i < n; i++) {
			pr[i] = policy_priority(v[i].family, v[i].peer_len, v[i].proto, v[i].lport,
						v[i].rport, v[i].local_len, v[i].host);
			ck_assert_uint_ge(pr[i], POLICY_PRIO_BASE);
			ck_assert_uint_lt(pr[i], POLICY_PRIO_END);
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++) {
				int want = expected_order(&v[i], &v[j]);
				int got = (pr[i] > pr[j]) - (pr[i] < pr[j]);
				if (want == got)
					continue;     /* one assertion per pair would be slow */
				ck_assert_msg(want == got,
					      "fam %u: (%u,%u,%u/%u,%u,%d)=%#x vs (%u,%u,%u/%u,%u,%d)=%#x",
					      v[i].family, v[i].peer_len, v[i].proto, v[i].lport,
					      v[i].rport, v[i].local_len, v[i].host, pr[i], v[j].peer_len,
					      v[j].proto, v[j].lport, v[j].rport, v[j].local_len, v[j].host,
					      pr[j]);
			}
		free(pr);
		free(v);
	}
	/* entry priorities follow classification on the fixture: whenever classify picks e
	 * for a peer, e has the lowest priority among the entries whose selectors match */
	struct policy_set *s = load_fixture(NULL);
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct pol_entry *e = &s->entries[i];
		uint32_t pe = policy_entry_priority(s, e);
		if (policy_is_host(s, e))
			ck_assert_uint_lt(pe, POLICY_PRIO_BASE + (1u << 22));
		const struct pol_entry *c = policy_classify(s, &e->pfx.a, e->proto ? e->proto : 6,
							    e->lport ? e->lport : 1000,
							    e->rport ? e->rport : 2000);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_le(policy_entry_priority(s, c), pe);
	}
	policy_free(s);
}
END_TEST

/* The shipped files are comment-only, and their examples parse cleanly when uncommented. */
START_TEST(shipped_files)
{
	const char *names[] = { "private", "private-or-clear", "clear-or-private", "clear", "block" };
	for (size_t i = 0; i < NGRP(names); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/../../policies/%s", TEST_DATADIR, names[i]);
		FILE *f = fopen(path, "r");
		ck_assert_msg(f != NULL, "%s", path);
		char text[8192], examples[8192], line[512];
		size_t tl = 0, el = 0;
		bool in_examples = false;
		while (fgets(line, sizeof(line), f)) {
			tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s", line);
			if (strncmp(line, "# Examples:", 11) == 0)
				in_examples = true;
			else if (in_examples && strncmp(line, "# ", 2) == 0)
				el += (size_t)snprintf(examples + el, sizeof(examples) - el, "%s", line + 2);
		}
		fclose(f);
		ck_assert_uint_gt(el, 0);
		DIAG_CAPTURE(d, cap);
		struct grp g[] = { { names[i], GC_OE_DROP, text } };
		struct policy_set *s = build(g, 1, NULL, true, &d);
		ck_assert_uint_eq(s->groups[0].n_entries, 0);
		ck_assert_uint_eq(cap.n, 0);
		policy_free(s);
		struct grp ge[] = { { names[i], GC_OE_DROP, examples } };
		s = build(ge, 1, NULL, true, &d);
		ck_assert_msg(cap.n == 0, "%s: %s", names[i], cap.msg[0]);
		ck_assert_uint_ge(s->groups[0].n_entries, 2);
		policy_free(s);
	}
}
END_TEST

/* ---- scale ------------------------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *gen_text(size_t n, unsigned seed, size_t *len)
{
	char *t = malloc(n * 48);
	size_t l = 0;
	uint32_t x = seed;
	for (size_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		if (i % 10 == 9)
			l += (size_t)sprintf(t + l, "2001:db8:%x:%x::/64\n", (x >> 16) & 0xffff, x & 0xffff);
		else if (i % 7 == 3)
			l += (size_t)sprintf(t + l, "10.%u.%u.0/24 tcp 0 %u\n", (x >> 24) & 0xff,
					     (x >> 16) & 0xff, (x & 0xfff) + 1);
		else
			l += (size_t)sprintf(t + l, "10.%u.%u.%u\n", (x >> 24) & 0xff, (x >> 16) & 0xff,
					     (x >> 8) & 0xff);
	}
	*len = l;
	return t;
}

static struct policy_set *big_set(const char *t1, size_t l1, const char *t2, size_t l2)
{
	struct policy_set *s = policy_new();
	ck_assert_int_eq(policy_add_group(s, "private", "b/private", GC_OE_DROP, 0), 0);
	ck_assert_int_eq(policy_add_group(s, "clear", "b/clear", GC_CLEAR, 1), 1);
	policy_parse_buf(s, 0, "b/private", t1, l1, NULL);
	policy_parse_buf(s, 1, "b/clear", t2, l2, NULL);
	ck_assert_int_eq(policy_finish(s, NULL, false, NULL), 0);
	return s;
}

START_TEST(scale_100k)
{
	size_t l1, l2;
	char *t1 = gen_text(90000, 1, &l1), *t2 = gen_text(10000, 2, &l2);
	double t0 = now();
	struct policy_set *a = big_set(t1, l1, t2, l2);
	double t_load = now() - t0;
	uint32_t next = 1;
	policy_assign_reqids(a, NULL, &next);
	/* change one line (the first of the clear group) and reload */
	char *nl = memchr(t2, '\n', l2);
	const char repl[] = "172.16.0.1";
	memmove(t2 + sizeof(repl) - 1, nl, (size_t)(t2 + l2 - nl));
	l2 = l2 - (size_t)(nl - t2) + sizeof(repl) - 1;
	memcpy(t2, repl, sizeof(repl) - 1);
	struct policy_set *b = big_set(t1, l1, t2, l2);
	t0 = now();
	struct diff_rec r;
	memset(&r, 0, sizeof(r));
	policy_diff(a, b, diff_cb, &r);
	policy_assign_reqids(b, a, &next);
	double t_diff = now() - t0;
	ck_assert_uint_eq(r.added, 1);
	ck_assert_uint_le(r.removed, 1);   /* 0 when the old line had a duplicate elsewhere */
	ck_assert_uint_le(r.changed, 1);
	ck_assert_str_eq(r.last[0], "172.16.0.1/32");
	fprintf(stderr, "scale_100k: %zu entries, parse+finish %.1f ms, diff+reqids %.2f ms\n",
		a->n_entries, t_load * 1e3, t_diff * 1e3);
	/* generous bounds: this also runs under valgrind and on loaded machines */
	ck_assert(t_load < 5.0);
	ck_assert(t_diff < 1.0);
	/* every entry classifies to itself or to something at least as specific */
	for (size_t i = 0; i < a->n_entries; i += 97) {
		const struct pol_entry *e = &a->entries[i];
		const struct pol_entry *c = policy_classify(a, &e->pfx.a, e->proto, e->lport, e->rport);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_ge(c->pfx.len, e->pfx.len);
	}
	policy_free(a);
	policy_free(b);
	free(t1);
	free(t2);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, parse_lines);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, dup_same_group);
	tcase_add_test(tc, dup_across_groups);
	tcase_add_test(tc, host_entries);
	tcase_add_test(tc, load_dir);
	tcase_add_test(tc, classify_overlaps);
	tcase_add_test(tc, classify_oe);
	tcase_add_test(tc, reqids_across_reload);
	tcase_add_test(tc, diff_cases);
	tcase_add_test(tc, priority_order);
	tcase_add_test(tc, shipped_files);
	tcase_add_test(tc, scale_100k);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(policy_suite)
