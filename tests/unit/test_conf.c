/* test_conf.c — the meshd.conf parser: fixtures from tests/data/conf, include/also=/
 * %default merging, every diagnostic with its file:line, durations and proposals. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "unit.h"

/* ---- a diag sink that keeps every message as "file:line: error|warning: msg" ---- */

#define SINK_MAX 64

struct sink {
	char msg[SINK_MAX][600];
	size_t n;
	struct diag d;
};

static void sink_fn(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		    const char *msg)
{
	struct sink *s = d->arg;
	const char *sv = sev == DIAG_ERR ? "error" : "warning";
	if (s->n >= SINK_MAX)
		return;
	if (line)   /* the same shape as diag_to_file */
		snprintf(s->msg[s->n++], sizeof(s->msg[0]), "%s:%u: %s: %s", file, line, sv, msg);
	else
		snprintf(s->msg[s->n++], sizeof(s->msg[0]), "%s: %s: %s", file ? file : "-", sv,
			 msg);
}

static void sink_init(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->d.fn = sink_fn;
	s->d.arg = s;
}

static void sink_dump(const struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		fprintf(stderr, "  diag: %s\n", s->msg[i]);
}

static bool sink_has(const struct sink *s, const char *needle)
{
	for (size_t i = 0; i < s->n; i++)
		if (strstr(s->msg[i], needle))
			return true;
	return false;
}

static struct conf *load_str(struct sink *s, const char *text)
{
	sink_init(s);
	return conf_load_buf("<t>", text, strlen(text), &s->d);
}

static char *data_path(const char *name)
{
	static char buf[4096];   /* test-only convenience */
	const char *top = getenv("top_srcdir");
	snprintf(buf, sizeof(buf), "%s/tests/data/conf/%s", top ? top : ".", name);
	return buf;
}

static const struct conf_conn *conn(const struct conf *c, const char *name)
{
	const struct conf_conn *cc = conf_find_conn(c, name);
	ck_assert_msg(cc != NULL, "conn %s missing", name);
	return cc;
}

/* ---- fixtures ---- */

START_TEST(seed_clean)
{
	struct sink s;
	sink_init(&s);
	struct conf *c = conf_load(data_path("mesh-seed.conf"), &s.d);
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(s.d.n_err, 0);
	ck_assert_uint_eq(s.d.n_warn, 0);
	ck_assert_uint_eq(c->n_conns, 3);
	ck_assert_str_eq(c->conns[0].name, "clear");
	ck_assert_str_eq(c->conns[1].name, "private");
	ck_assert_str_eq(c->conns[2].name, "private-or-clear");
	ck_assert_uint_eq(c->conns[0].line, 1);
	ck_assert_uint_eq(c->conns[1].line, 8);
	ck_assert_uint_eq(c->conns[2].line, 21);
	ck_assert_str_eq(c->conns[1].file, data_path("mesh-seed.conf"));
	ck_assert_int_eq(conf_conn_class(conn(c, "clear")), GC_CLEAR);
	ck_assert_int_eq(conf_conn_class(conn(c, "private")), GC_OE_DROP);
	ck_assert_int_eq(conf_conn_class(conn(c, "private-or-clear")), GC_OE_PASS);

	const struct conf_conn *p = conn(c, "private");
	ck_assert_int_eq(p->autostart, AUTO_ONDEMAND);
	ck_assert_int_eq(p->type, TYPE_TRANSPORT);
	ck_assert_uint_eq(p->authby, AUTHBY_RSASIG);
	ck_assert_int_eq(p->right_kind, RIGHT_OPPGROUP);
	ck_assert_str_eq(p->left, "%defaultroute");
	ck_assert_str_eq(p->leftcert, "nodeXXXX");
	ck_assert_str_eq(p->leftid, "%fromcert");
	ck_assert_str_eq(p->rightid, "%fromcert");
	ck_assert_int_eq(p->failureshunt, SHUNT_DROP);
	ck_assert_int_eq(p->negotiationshunt, SHUNT_DROP);
	ck_assert_uint_eq(p->retransmit_timeout_ms, 10000);
	const struct conf_conn *pc = conn(c, "private-or-clear");
	ck_assert_str_eq(pc->leftrsasigkey, "%cert");
	ck_assert_str_eq(pc->rightrsasigkey, "%cert");
	ck_assert_int_eq(pc->failureshunt, SHUNT_PASS);
	ck_assert_int_eq(pc->negotiationshunt, SHUNT_PASS);
	const struct conf_conn *cl = conn(c, "clear");
	ck_assert_uint_eq(cl->authby, AUTHBY_NEVER);
	ck_assert_int_eq(cl->type, TYPE_PASSTHROUGH);
	ck_assert_uint_eq(cl->retransmit_timeout_ms, 60000);
	/* setup defaults */
	ck_assert_str_eq(c->setup.policies_dir, CONF_DEFAULT_POLICIES);
	ck_assert_str_eq(c->setup.nssdir, CONF_DEFAULT_NSSDIR);
	ck_assert_str_eq(c->setup.ctlsocket, CONF_DEFAULT_CTLSOCKET);
	conf_free(c);
}
END_TEST

/* The recipe's conf as printed, with its "1", "2", "3" callout markers: three clear
 * errors at the right lines, nothing loaded. */
START_TEST(seed_verbatim)
{
	struct sink s;
	char want[3][4200];
	const char *f = data_path("mesh-seed-verbatim.conf");
	sink_init(&s);
	struct conf *c = conf_load(f, &s.d);
	sink_dump(&s);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(s.d.n_err, 3);
	ck_assert_uint_eq(s.n, 3);
	snprintf(want[0], sizeof(want[0]), "%s:2: error: auto: unquoted value 'ondemand 1' "
		 "contains a blank", f);
	snprintf(want[1], sizeof(want[1]), "%s:17: error: leftid: unquoted value '%%fromcert 2'", f);
	snprintf(want[2], sizeof(want[2]), "%s:29: error: leftcert: unquoted value 'nodeXXXX 3'", f);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(strncmp(s.msg[i], want[i], strlen(want[i])) == 0, "got '%s' want '%s'",
			      s.msg[i], want[i]);
}
END_TEST

START_TEST(libreswan_oe)
{
	struct sink s;
	sink_init(&s);
	struct conf *c = conf_load(data_path("libreswan-oe.conf"), &s.d);
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_conns, 5);
	ck_assert_int_eq(conf_conn_class(conn(c, "clear")), GC_CLEAR);
	ck_assert_int_eq(conf_conn_class(conn(c, "clear-or-private")), GC_OE_RESPOND);
	ck_assert_int_eq(conf_conn_class(conn(c, "private-or-clear")), GC_OE_PASS);
	ck_assert_int_eq(conf_conn_class(conn(c, "private")), GC_OE_DROP);
	ck_assert_int_eq(conf_conn_class(conn(c, "block")), GC_BLOCK);
	ck_assert_uint_eq(conn(c, "private")->authby, AUTHBY_NULL);
	ck_assert_str_eq(conn(c, "private")->leftid, "%null");
	ck_assert_int_eq(conn(c, "private")->negotiationshunt, SHUNT_DROP);
	ck_assert_int_eq(conn(c, "block")->type, TYPE_DROP);
	ck_assert_uint_eq(conn(c, "private-or-clear")->retransmit_timeout_ms, 2000);
	ck_assert_int_eq(conn(c, "clear-or-private")->autostart, AUTO_ADD);
	ck_assert(!c->setup.debug);
	/* protostack (ignored), keyingtries (obsolete), negotiationshunt=hold (deprecated) */
	ck_assert_uint_eq(s.d.n_err, 0);
	ck_assert_uint_eq(s.d.n_warn, 3);
	ck_assert(sink_has(&s, "libreswan-oe.conf:6: warning: protostack= is not used by meshd"));
	ck_assert(sink_has(&s, "libreswan-oe.conf:37: warning: keyingtries= is obsolete"));
	ck_assert(sink_has(&s, "libreswan-oe.conf:47: warning: negotiationshunt: 'hold' is "
			   "deprecated and taken as drop"));
	conf_free(c);
}
END_TEST

START_TEST(ansible_mesh)
{
	struct sink s;
	sink_init(&s);
	struct conf *c = conf_load(data_path("ansible-mesh.conf"), &s.d);
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(s.d.n_warn, 4);   /* keyingtries and hold, twice */
	ck_assert_int_eq(conf_conn_class(conn(c, "private")), GC_OE_DROP);
	ck_assert_int_eq(conf_conn_class(conn(c, "private-or-clear")), GC_OE_PASS);
	ck_assert_int_eq(conf_conn_class(conn(c, "clear")), GC_CLEAR);
	ck_assert_str_eq(conn(c, "private")->rightca, "%same");
	ck_assert_str_eq(conn(c, "private")->leftcert, "node");
	conf_free(c);
}
END_TEST

START_TEST(full_values)
{
	struct sink s;
	sink_init(&s);
	struct conf *c = conf_load(data_path("full.conf"), &s.d);
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(s.d.n_warn, 0);
	const struct conf_setup *st = &c->setup;
	ck_assert_str_eq(st->nssdir, "sql:/var/lib/ipsec/nss");
	ck_assert_str_eq(st->policies_dir, "/etc/ipsec.d/policies");
	ck_assert_str_eq(st->ctlsocket, "/run/meshd/test.ctl");
	ck_assert_uint_eq(st->shuntlifetime_s, 600);
	ck_assert_uint_eq(st->expire_shunt_interval_s, 30);
	ck_assert(!st->dnssec_enable);
	ck_assert_str_eq(st->dnssec_rootkey_file, "/var/lib/unbound/root.key");
	ck_assert_str_eq(st->dnssec_anchors, "/etc/ipsec.d/*.key");
	ck_assert_str_eq(st->resolv_conf, "/etc/resolv.meshd.conf");
	ck_assert_uint_eq(st->cert_expiry_warning_s, 30 * 86400);
	ck_assert(st->debug);
	ck_assert_str_eq(st->listen, "192.0.2.1");
	ck_assert_uint_eq(st->ike_port, 5500);
	ck_assert_uint_eq(st->nat_ike_port, 5501);

	ck_assert_uint_eq(c->n_conns, 2);
	const struct conf_conn *p = conn(c, "private");
	ck_assert_int_eq(p->autostart, AUTO_START);
	ck_assert_int_eq(p->type, TYPE_TRANSPORT);               /* from also=oe-base */
	ck_assert_uint_eq(p->authby, AUTHBY_ECDSA | AUTHBY_RSASIG);
	ck_assert_str_eq(p->leftid, "@node1.example.org");
	ck_assert_str_eq(p->rightid, "CN=peer, O=Example");
	ck_assert_str_eq(p->rightca, "C=US, O=Example CA");
	ck_assert_str_eq(p->rightrsasigkey, "%dnsondemand");     /* %dns normalised */
	ck_assert_int_eq(p->right_kind, RIGHT_OPPGROUP);
	ck_assert_str_eq(p->ike, "aes_gcm256-sha2_512;dh19+dh20,aes256-sha2");  /* %default */
	ck_assert_str_eq(p->esp, "aes_gcm256,aes256-sha2_256-dh31");
	ck_assert_uint_eq(p->ikelifetime_s, 3600);
	ck_assert_uint_eq(p->salifetime_s, 1800);
	ck_assert_uint_eq(p->rekeymargin_s, 180);
	ck_assert_uint_eq(p->rekeyfuzz_pct, 50);
	ck_assert(!p->rekey);
	ck_assert_int_eq(p->negotiationshunt, SHUNT_PASS);
	ck_assert_int_eq(p->failureshunt, SHUNT_DROP);
	ck_assert_uint_eq(p->retransmit_timeout_ms, 15000);
	ck_assert_uint_eq(p->retransmit_interval_ms, 250);
	ck_assert_uint_eq(p->dpddelay_s, 30);
	ck_assert_uint_eq(p->dpdtimeout_s, 150);
	ck_assert_uint_eq(p->priority, 1234);
	ck_assert_uint_eq(p->replay_window, 64);
	ck_assert(!p->pfs && !p->esn && !p->fragmentation);
	ck_assert_str_eq(p->leftprotoport, "tcp");
	ck_assert_str_eq(p->rightprotoport, "udp/53");
	ck_assert(p->narrowing && p->mobike);
	ck_assert_int_eq(p->sendca, SENDCA_ALL);
	ck_assert_int_eq(p->encapsulation, ENCAPS_YES);
	ck_assert_int_eq(conf_conn_class(p), GC_OE_PASS + 1);    /* private */
	/* the template is a conn too, with its own keys only */
	ck_assert_int_eq(conn(c, "oe-base")->autostart, AUTO_IGNORE);
	ck_assert_int_eq(conn(c, "oe-base")->right_kind, RIGHT_OPPGROUP);
	ck_assert_str_eq(conn(c, "oe-base")->ike, p->ike);    /* %default applies to it too */
	ck_assert_int_eq(conn(c, "oe-base")->negotiationshunt, SHUNT_DROP);
	conf_free(c);
}
END_TEST

START_TEST(defaults_and_empty)
{
	struct sink s;
	struct conf *c = load_str(&s, "");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_conns, 0);
	ck_assert_str_eq(c->path, "<t>");
	ck_assert_uint_eq(c->setup.shuntlifetime_s, 900);
	ck_assert_uint_eq(c->setup.ike_port, 500);
	ck_assert_str_eq(c->setup.dnssec_rootkey_file, CONF_DEFAULT_ROOTKEY);
	conf_free(c);

	c = load_str(&s, "conn x\n");
	ck_assert_ptr_nonnull(c);
	const struct conf_conn *x = conn(c, "x");
	ck_assert_int_eq(x->autostart, AUTO_IGNORE);
	ck_assert_int_eq(x->type, TYPE_TUNNEL);
	ck_assert_uint_eq(x->authby, AUTHBY_RSASIG | AUTHBY_ECDSA);
	ck_assert_uint_eq(x->ikelifetime_s, 28800);
	ck_assert_uint_eq(x->replay_window, 128);
	ck_assert_ptr_null(x->ike);
	ck_assert_ptr_null(x->leftid);
	ck_assert_int_eq(x->sendca, SENDCA_ISSUER);
	conf_free(c);

	/* policies-dir wins over ipsecdir, in either order */
	c = load_str(&s, "config setup\n\tpolicies-dir=/p\n\tipsecdir=/etc/ipsec.d\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->setup.policies_dir, "/p");
	conf_free(c);
	c = load_str(&s, "config setup\n\tipsecdir=/x\n");
	ck_assert_str_eq(c->setup.policies_dir, "/x/policies");
	conf_free(c);
	c = load_str(&s, "config setup\n\tplutodebug=none\n\tdnssec-rootkey-file=\n");
	ck_assert(!c->setup.debug);
	ck_assert_str_eq(c->setup.dnssec_rootkey_file, "");
	conf_free(c);
}
END_TEST

START_TEST(syntax_accepted)
{
	struct sink s;
	struct conf *c = load_str(&s,
		"version 2.0\n"
		"# comment\n"
		"   # indented comment\n"
		"conn a # trailing comment on the header\r\n"
		"\tauto=add # trailing\r\n"
		"\tleftid=@a#b\r\n"
		"\trightid=\"CN=x # not a comment\" # but this is\n"
		"\tleft = 192.0.2.1\n"
		"\tright=2001:db8::1\n"
		"\n"
		"config setup\n"
		"\tlisten=::1\n"
		"conn b\n"
		"\tauto=start");   /* no final newline */
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(s.n, 0);
	const struct conf_conn *a = conn(c, "a");
	ck_assert_int_eq(a->autostart, AUTO_ADD);
	ck_assert_str_eq(a->leftid, "@a#b");
	ck_assert_str_eq(a->rightid, "CN=x # not a comment");
	ck_assert_str_eq(a->left, "192.0.2.1");
	ck_assert_int_eq(a->right_kind, RIGHT_HOST);
	ck_assert_uint_eq(a->line, 4);
	ck_assert_int_eq(conn(c, "b")->autostart, AUTO_START);
	ck_assert_str_eq(c->setup.listen, "::1");
	conf_free(c);
}
END_TEST

/* ---- %default and also= ---- */

START_TEST(default_and_also)
{
	struct sink s;
	struct conf *c = load_str(&s,
		"conn early\n"                   /* before any %default: gets none */
		"\tauto=add\n"
		"conn %default\n"
		"\tikelifetime=1h\n"
		"\tsalifetime=2h\n"
		"conn mid\n"
		"\talso=base\n"                  /* defined later */
		"\talso=other\n"
		"\tsalifetime=3h\n"              /* own key beats also= and %default */
		"conn %default\n"
		"\tikelifetime=4h\n"             /* later %default: only for conns below */
		"conn late\n"
		"\talso=base\n"
		"conn base\n"
		"\ttype=transport\n"
		"\tdpddelay=10\n"
		"\tsalifetime=5h\n"
		"\talso=other\n"
		"conn other\n"
		"\ttype=passthrough\n"           /* base's own type wins */
		"\tdpddelay=20\n"
		"\tpriority=7\n");
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	const struct conf_conn *e = conn(c, "early"), *m = conn(c, "mid"), *l = conn(c, "late");
	ck_assert_uint_eq(e->ikelifetime_s, 28800);
	ck_assert_uint_eq(m->ikelifetime_s, 3600);
	ck_assert_uint_eq(m->salifetime_s, 3 * 3600);
	ck_assert_int_eq(m->type, TYPE_TRANSPORT);
	ck_assert_uint_eq(m->dpddelay_s, 10);
	ck_assert_uint_eq(m->priority, 7);
	ck_assert_uint_eq(l->ikelifetime_s, 4 * 3600);
	ck_assert_uint_eq(l->salifetime_s, 5 * 3600);          /* also= beats %default */
	ck_assert_int_eq(conn(c, "other")->type, TYPE_PASSTHROUGH);
	ck_assert_uint_eq(c->n_conns, 5);                      /* %default is not a conn */
	conf_free(c);

	/* aliases share one name: lifetime= overrides a %default salifetime= */
	c = load_str(&s, "conn %default\n\tsalifetime=1h\nconn a\n\tlifetime=2h\n");
	ck_assert_uint_eq(conn(c, "a")->salifetime_s, 7200);
	conf_free(c);
}
END_TEST

START_TEST(also_errors)
{
	struct sink s;
	struct conf *c = load_str(&s, "conn a\n\talso=b\nconn b\n\talso=c\nconn c\n\talso=a\n");
	sink_dump(&s);
	ck_assert_ptr_null(c);
	ck_assert(sink_has(&s, "<t>:6: error: also=a: loop"));
	ck_assert_uint_eq(s.d.n_err, 3);   /* reported once at each also= of the ring */

	c = load_str(&s, "conn a\n\talso=a\n");
	ck_assert_ptr_null(c);
	ck_assert(sink_has(&s, "<t>:2: error: also=a: loop"));

	c = load_str(&s, "conn a\n\tauto=add\n\talso=nope\n");
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(s.d.n_err, 1);
	ck_assert(sink_has(&s, "<t>:3: error: also=nope: no such conn"));

	/* a diamond is not a loop */
	c = load_str(&s, "conn a\n\talso=b\n\talso=c\nconn b\n\talso=d\nconn c\n\talso=d\n"
		     "conn d\n\tpriority=3\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(conn(c, "a")->priority, 3);
	conf_free(c);
}
END_TEST

/* ---- include ---- */

static void write_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static char *make_tmpdir(void)
{
	static char tmpl[64];   /* test-only */
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return tmpl;
}

static void rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(include_glob)
{
	char *dir = make_tmpdir(), sub[4200], main_conf[4200], want[4300];
	struct sink s;
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file(dir, "main.conf",
		   "config setup\n\tshuntlifetime=60\n"
		   "include conf.d/*.conf\n"
		   "include nomatch/*.conf\n"
		   "include \"%s/abs.conf\"\n"
		   "conn last\n\tauto=add\n", dir);
	write_file(sub, "b.conf", "\n\nconn b\n\talso=a\n");
	write_file(sub, "a.conf", "conn a\n\tpriority=9\n");
	write_file(sub, "ignored.txt", "this is not a conf\n");
	write_file(dir, "abs.conf", "conn abs\n\tauto=start\n");
	snprintf(main_conf, sizeof(main_conf), "%s/main.conf", dir);
	sink_init(&s);
	struct conf *c = conf_load(main_conf, &s.d);
	sink_dump(&s);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_conns, 4);
	ck_assert_str_eq(c->conns[0].name, "a");       /* glob order */
	ck_assert_str_eq(c->conns[1].name, "b");
	ck_assert_str_eq(c->conns[2].name, "abs");
	ck_assert_str_eq(c->conns[3].name, "last");
	snprintf(want, sizeof(want), "%s/b.conf", sub);
	ck_assert_str_eq(c->conns[1].file, want);
	ck_assert_uint_eq(c->conns[1].line, 3);
	ck_assert_uint_eq(conn(c, "b")->priority, 9);
	ck_assert_uint_eq(c->setup.shuntlifetime_s, 60);
	conf_free(c);

	/* the same through conf_load_buf: relative to the name's directory */
	const char *text = "include conf.d/a.conf\n";
	sink_init(&s);
	c = conf_load_buf(main_conf, text, strlen(text), &s.d);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_conns, 1);
	conf_free(c);

	/* an error inside an included file names that file */
	write_file(sub, "c.conf", "conn c\n\tauto=sometimes\n");
	sink_init(&s);
	c = conf_load(main_conf, &s.d);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s/c.conf:2: error: auto: invalid value 'sometimes'", sub);
	ck_assert_msg(sink_has(&s, want), "missing '%s'", want);
	rm_rf(dir);
}
END_TEST

START_TEST(include_loops)
{
	char *dir = make_tmpdir(), path[4200], want[4300];
	struct sink s;
	write_file(dir, "a.conf", "include b.conf\n");
	write_file(dir, "b.conf", "conn b\n\tauto=add\ninclude a.conf\n");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	sink_init(&s);
	struct conf *c = conf_load(path, &s.d);
	sink_dump(&s);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(s.d.n_err, 1);
	snprintf(want, sizeof(want), "%s/b.conf:3: error: include loop", dir);
	ck_assert(sink_has(&s, want));

	write_file(dir, "self.conf", "include *.conf\n");   /* matches itself */
	snprintf(path, sizeof(path), "%s/self.conf", dir);
	sink_init(&s);
	c = conf_load(path, &s.d);
	ck_assert_ptr_null(c);
	ck_assert(sink_has(&s, "include loop"));

	/* a chain of 12 files: 10 levels below the top are fine, the 11th is not */
	for (int i = 0; i < 12; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d%02d.conf", i);
		write_file(dir, name, "conn c%d\n\tauto=add\ninclude d%02d.conf\n", i, i + 1);
	}
	snprintf(path, sizeof(path), "%s/d00.conf", dir);
	sink_init(&s);
	c = conf_load(path, &s.d);
	sink_dump(&s);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(s.d.n_err, 1);
	snprintf(want, sizeof(want), "%s/d10.conf:3: error: include nested deeper than 10", dir);
	ck_assert(sink_has(&s, want));
	snprintf(path, sizeof(path), "%s/d02.conf", dir);     /* d02..d12: 10 below the top */
	sink_init(&s);
	c = conf_load(path, &s.d);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_conns, 10);   /* d12.conf does not exist: no match is fine */
	conf_free(c);

	/* a missing top file */
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	sink_init(&s);
	ck_assert_ptr_null(conf_load(path, &s.d));
	snprintf(want, sizeof(want), "%s/missing.conf: error: cannot read", dir);
	ck_assert(sink_has(&s, want));
	/* text without a file may not include */
	c = load_str(&s, "include /etc/*.conf\n");
	ck_assert_ptr_null(c);
	ck_assert(sink_has(&s, "<t>:1: error: include is not allowed in <t>"));
	rm_rf(dir);
}
END_TEST

/* ---- every error, at its line ---- */

struct err_case {
	const char *text;
	const char *want;     /* prefix of the one error */
};

static const struct err_case err_cases[] = {
	{ "conn a\n\tfoo=bar\n", "<t>:2: error: unknown key 'foo'" },
	{ "conn a\n\tAuto=add\n", "<t>:2: error: unknown key 'Auto'" },
	{ "conn a\n\tauto=add\n\tauto=start\n", "<t>:3: error: auto= set twice in conn a (first as auto= at <t>:2)" },
	{ "conn a\n\tlifetime=1h\n\tsalifetime=1h\n", "<t>:3: error: salifetime= set twice in conn a (first as lifetime=" },
	{ "config setup\n\tlisten=::1\nconfig setup\n\tlisten=::2\n", "<t>:4: error: listen= set twice in config setup" },
	{ "conn a\nconn a\n", "<t>:2: error: duplicate conn a (first defined at <t>:1)" },
	{ "conn a\n\tauto=sometimes\n", "<t>:2: error: auto: invalid value 'sometimes'" },
	{ "conn a\n\ttype=bridge\n", "<t>:2: error: type: invalid value 'bridge'" },
	{ "conn a\n\tauthby=secret\n", "<t>:2: error: authby: 'secret': pre-shared keys are not supported" },
	{ "conn a\n\tauthby=rsasig,foo\n", "<t>:2: error: authby: unknown method 'foo'" },
	{ "conn a\n\tauthby=never,null\n", "<t>:2: error: authby: never cannot be combined" },
	{ "conn a\n\tauthby=rsasig,\n", "<t>:2: error: authby: invalid list" },
	{ "conn a\n\tleft=%group\n", "<t>:2: error: left: %group belongs on right=" },
	{ "conn a\n\tright=peer.example\n", "<t>:2: error: right: invalid value 'peer.example'" },
	{ "conn a\n\tleftid=node\n", "<t>:2: error: leftid: invalid ID 'node'" },
	{ "conn a\n\trightca=someca\n", "<t>:2: error: rightca: invalid value 'someca'" },
	{ "conn a\n\tleftcert=/etc/node.pem\n", "<t>:2: error: leftcert: '/etc/node.pem' looks like a file" },
	{ "conn a\n\trightrsasigkey=%foo\n", "<t>:2: error: rightrsasigkey: invalid value '%foo'" },
	{ "conn a\n\tleftrsasigkey=0s!!\n", "<t>:2: error: leftrsasigkey: invalid value" },
	{ "conn a\n\tike=aes_gcm257-sha2\n", "<t>:2: error: ike: unknown algorithm 'aes_gcm257' in proposal 'aes_gcm257-sha2'" },
	{ "conn a\n\tike=aes-sha2;modp1024\n", "<t>:2: error: ike: algorithm 'modp1024' in proposal 'aes-sha2;modp1024' is not supported (too weak)" },
	{ "conn a\n\tesp=aes_gcm256-sha2\n", "<t>:2: error: esp: AEAD encryption takes no integrity algorithm" },
	{ "conn a\n\tphase2alg=3des-sha1\n", "<t>:2: error: phase2alg: algorithm '3des'" },
	{ "conn a\n\tnegotiationshunt=none\n", "<t>:2: error: negotiationshunt: invalid value 'none'" },
	{ "conn a\n\tfailureshunt=trap\n", "<t>:2: error: failureshunt: invalid value 'trap'" },
	{ "conn a\n\tikelifetime=25h\n", "<t>:2: error: ikelifetime: duration '25h' out of range (1s to 1d)" },
	{ "conn a\n\tsalifetime=8x\n", "<t>:2: error: salifetime: invalid duration '8x'" },
	{ "conn a\n\tkeylife=0\n", "<t>:2: error: keylife: duration '0' out of range" },
	{ "conn a\n\trekeyfuzz=2000%\n", "<t>:2: error: rekeyfuzz: 2000 out of range" },
	{ "conn a\n\trekey=maybe\n", "<t>:2: error: rekey: invalid value 'maybe' (expected yes or no)" },
	{ "conn a\n\tretransmit-interval=5\n", "<t>:2: error: retransmit-interval: duration '5' out of range (10ms to 1m)" },
	{ "conn a\n\tdpddelay=1500ms\n", "<t>:2: error: dpddelay: duration '1500ms' is not a whole number of seconds" },
	{ "conn a\n\tpriority=-1\n", "<t>:2: error: priority: invalid number '-1'" },
	{ "conn a\n\treplay-window=99999999999\n", "<t>:2: error: replay-window: 99999999999 out of range" },
	{ "conn a\n\tikev2=no\n", "<t>:2: error: ikev2: 'no': IKEv1 is not supported" },
	{ "conn a\n\tikev2=never\n", "<t>:2: error: ikev2: 'never': IKEv1 is not supported" },
	{ "conn a\n\tkeyexchange=ikev1\n", "<t>:2: error: keyexchange: IKEv1 is not supported" },
	{ "conn a\n\tleftprotoport=tcp/http\n", "<t>:2: error: leftprotoport: invalid value 'tcp/http'" },
	{ "conn a\n\tsendca=some\n", "<t>:2: error: sendca: invalid value 'some'" },
	{ "conn a\n\tencapsulation=always\n", "<t>:2: error: encapsulation: invalid value 'always'" },
	{ "conn a\n\tesn=perhaps\n", "<t>:2: error: esn: invalid value 'perhaps'" },
	{ "conn a\n\tleftsubnet=10.0.0.0/8\n", "<t>:2: error: leftsubnet= is not supported by meshd: meshd negotiates host-to-host" },
	{ "conn a\n\trightsubnet=10.0.0.0/8\n", "<t>:2: error: rightsubnet= is not supported" },
	{ "conn a\n\tnssdir=/x\n", "<t>:2: error: nssdir= belongs in config setup, not in a conn" },
	{ "config setup\n\tauto=add\n", "<t>:2: error: auto= belongs in a conn, not in config setup" },
	{ "config setup\n\talso=x\n", "<t>:2: error: also= belongs in a conn" },
	{ "\tauto=add\n", "<t>:1: error: 'auto=add' is outside a section" },
	{ "include /x\n", "<t>:1: error: include is not allowed" },
	{ "conn a\nversion 2\n\tauto=add\n\tauto=add\n", "<t>:3: error: 'auto=add' is outside a section" },
	{ "auto=add\n", "<t>:1: error: 'auto=add' must be indented" },
	{ "connection a\n", "<t>:1: error: unexpected 'connection' at the start of a line" },
	{ "config\n", "<t>:1: error: expected 'config setup'" },
	{ "conn\n", "<t>:1: error: expected 'conn NAME'" },
	{ "conn a b\n", "<t>:1: error: expected 'conn NAME'" },
	{ "conn ../etc\n\tauto=add\n", "<t>:1: error: invalid conn name '../etc'" },
	{ "conn a/b\n", "<t>:1: error: invalid conn name 'a/b'" },
	{ "version 3\n", "<t>:1: error: unsupported 'version' line" },
	{ "conn a\n\tleftid=\"CN=x\n", "<t>:2: error: leftid: unterminated quoted value" },
	{ "conn a\n\tleftid=\"CN=x\" y\n", "<t>:2: error: leftid: unexpected text after the quoted value" },
	{ "conn a\n\tleftid=\"CN=\tx\x01\"\n", "<t>:2: error: leftid: control character in the value" },
	{ "conn a\n\tleftcert=\n", "<t>:2: error: leftcert: empty value" },
	{ "conn a\n\tleftcert\n", "<t>:2: error: expected key=value, got 'leftcert'" },
	{ "conn a\n\tleft.cert=x\n", "<t>:2: error: invalid key name 'left.cert'" },
	{ "conn %default\n\talso=b\nconn b\n", "<t>:2: error: also= is not allowed in conn %default" },
	{ "config setup\n\texpire-shunt-interval=1001\n", "<t>:2: error: expire-shunt-interval: duration '1001' out of range (1s to 1000s)" },
	{ "config setup\n\tpolicies-dir=policies\n", "<t>:2: error: policies-dir: 'policies' is not an absolute path" },
	{ "config setup\n\tnssdir=sql:nss\n", "<t>:2: error: nssdir: 'sql:nss' is not an absolute path" },
	{ "config setup\n\tlisten=any\n", "<t>:2: error: listen: 'any' is not a numeric" },
	{ "config setup\n\tike-port=0\n", "<t>:2: error: ike-port: invalid UDP port '0'" },
	{ "config setup\n\tikeport=4500\n", "<t>:2: error: ike-port and nat-ike-port are both 4500" },
	{ "config setup\n\tike-port=1\n\tikeport=2\n", "<t>:3: error: ikeport= set twice in config setup (first as ike-port=" },
	{ "config setup\n\tcert-expiry-warning=400\n", "<t>:2: error: cert-expiry-warning: duration '400' out of range" },
	{ "config setup\n\tdnssec-enable=1\n", "<t>:2: error: dnssec-enable: invalid value '1'" },
	{ "config setup\n\tctlsocket=/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "<t>:2: error: ctlsocket: socket path longer than 107 bytes" },
	{ "conn a\n\tright=%group\n\ttype=tunnel\n", "<t>:1: error: conn a: right=%group needs type=passthrough" },
	{ "conn a\n\tright=%opportunisticgroup\n\ttype=passthrough\n", "<t>:1: error: conn a: right=%opportunisticgroup negotiates; type=passthrough groups use right=%group" },
	{ "conn a\n\tright=%opportunisticgroup\n\tauthby=never\n", "<t>:1: error: conn a: authby=never cannot negotiate" },
	{ "conn a\n\tleftid=x\0y\n", "<t>:2: error: NUL byte in line" },
	{ "\"conn\n", "<t>:1: error: unterminated quoted string" },
};

START_TEST(error_case)
{
	const struct err_case *ec = &err_cases[_i];
	/* texts with an embedded NUL: take the length up to the final newline */
	size_t len = strlen(ec->text);
	if (strstr(ec->want, "NUL byte"))
		len += strlen(ec->text + len + 1) + 1;
	struct sink s;
	sink_init(&s);
	struct conf *c = conf_load_buf("<t>", ec->text, len, &s.d);
	if (s.d.n_err != 1 || strncmp(s.msg[0], ec->want, strlen(ec->want)) != 0)
		sink_dump(&s);
	ck_assert_msg(c == NULL, "case %d loaded", _i);
	ck_assert_msg(s.d.n_err == 1, "case %d: %u errors", _i, s.d.n_err);
	ck_assert_msg(strncmp(s.msg[0], ec->want, strlen(ec->want)) == 0,
		      "case %d: got '%s' want '%s'", _i, s.msg[0], ec->want);
}
END_TEST

/* ---- warnings: the conf still loads ---- */

static const struct err_case warn_cases[] = {
	{ "conn a\n\tkeyingtries=%forever\n", "<t>:2: warning: keyingtries= is obsolete and ignored" },
	{ "conn a\n\tdpdaction=restart\n", "<t>:2: warning: dpdaction= is obsolete" },
	{ "conn a\n\tphase2=esp\n", "<t>:2: warning: phase2= is obsolete and ignored: an IKEv1 option" },
	{ "conn a\n\tpfsgroup=modp2048\n", "<t>:2: warning: pfsgroup= is obsolete" },
	{ "conn a\n\taggrmode=no\n", "<t>:2: warning: aggrmode= is obsolete" },
	{ "conn a\n\tforceencaps=yes\n", "<t>:2: warning: forceencaps= is obsolete and ignored: use encapsulation=" },
	{ "conn a\n\tleftsendcert=always\n", "<t>:2: warning: leftsendcert= is not used by meshd" },
	{ "config setup\n\tnat_traversal=yes\n", "<t>:2: warning: nat_traversal= is obsolete" },
	{ "config setup\n\tklipsdebug=none\n", "<t>:2: warning: klipsdebug= is obsolete" },
	{ "config setup\n\tlogfile=/var/log/pluto.log\n", "<t>:2: warning: logfile= is not used by meshd and ignored: meshd logs to journald or syslog" },
	{ "config setup\n\tlogtime=yes\n", "<t>:2: warning: logtime= is not used by meshd" },
	{ "config setup\n\tlogappend=no\n", "<t>:2: warning: logappend= is not used" },
	{ "config setup\n\tlogip=no\n", "<t>:2: warning: logip= is not used" },
	{ "config setup\n\tuniqueids=yes\n", "<t>:2: warning: uniqueids= is not used" },
	{ "config setup\n\tvirtual-private=%v4:10.0.0.0/8\n", "<t>:2: warning: virtual-private= is not used" },
	{ "config setup\n\tinterfaces=%defaultroute\n", "<t>:2: warning: interfaces= is not used" },
	{ "config setup\n\tdnssec-trusted=/etc/a.key\n", "<t>:2: warning: dnssec-trusted: old name of dnssec-anchors=" },
	{ "conn a\n\tnegotiationshunt=hold\n", "<t>:2: warning: negotiationshunt: 'hold' is deprecated and taken as drop" },
	{ "conn a\n\tfailureshunt=reject\n", "<t>:2: warning: failureshunt: 'reject' is deprecated and taken as drop" },
	{ "conn a\n\tike=aes256-sha2!\n", "<t>:2: warning: ike: the trailing '!' is obsolete" },
	{ "conn a\n\trightrsasigkey=%dnsonload\n", "<t>:2: warning: rightrsasigkey: %dnsonload is taken as %dnsondemand" },
	{ "conn a\n\trekeymargin=9h\n", "<t>:1: warning: conn a: rekeymargin=32400s is not below the lifetimes" },
};

START_TEST(warn_case)
{
	const struct err_case *wc = &warn_cases[_i];
	struct sink s;
	struct conf *c = load_str(&s, wc->text);
	if (s.n != 1 || strncmp(s.msg[0], wc->want, strlen(wc->want)) != 0)
		sink_dump(&s);
	ck_assert_msg(c != NULL, "case %d did not load", _i);
	ck_assert_msg(s.d.n_warn == 1 && s.d.n_err == 0, "case %d: %u warnings %u errors", _i,
		      s.d.n_warn, s.d.n_err);
	ck_assert_msg(strncmp(s.msg[0], wc->want, strlen(wc->want)) == 0,
		      "case %d: got '%s' want '%s'", _i, s.msg[0], wc->want);
	conf_free(c);
}
END_TEST

START_TEST(warn_effects)
{
	struct sink s;
	struct conf *c = load_str(&s, "config setup\n\tdnssec-trusted=/etc/a.key\n"
				  "conn a\n\tfailureshunt=reject\n\tnegotiationshunt=hold\n"
				  "\tleftrsasigkey=%dnsonload\n\tesn=either\n\tfragmentation=force\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->setup.dnssec_anchors, "/etc/a.key");
	ck_assert_int_eq(conn(c, "a")->failureshunt, SHUNT_DROP);
	ck_assert_int_eq(conn(c, "a")->negotiationshunt, SHUNT_DROP);
	ck_assert_str_eq(conn(c, "a")->leftrsasigkey, "%dnsondemand");
	ck_assert(conn(c, "a")->esn && conn(c, "a")->fragmentation);
	conf_free(c);
	/* a warning in %default is reported once, not once per conn */
	c = load_str(&s, "conn %default\n\tkeyingtries=1\nconn a\nconn b\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(s.d.n_warn, 1);
	conf_free(c);
}
END_TEST

/* ---- durations and proposals ---- */

START_TEST(durations)
{
	static const struct { const char *s; enum conf_unit u; uint64_t ms; int r; } t[] = {
		/* with a maximum of one day, except for the CONF_UNIT_D rows (365 days) */
		{ "8h", CONF_UNIT_S, 8 * 3600000ull, 0 }, { "3600", CONF_UNIT_S, 3600000, 0 },
		{ "60s", CONF_UNIT_S, 60000, 0 }, { "1m", CONF_UNIT_S, 60000, 0 },
		{ "1d", CONF_UNIT_S, 86400000, 0 }, { "500", CONF_UNIT_MS, 500, 0 },
		{ "2s", CONF_UNIT_MS, 2000, 0 }, { "250ms", CONF_UNIT_S, 250, 0 },
		{ "14", CONF_UNIT_D, 14 * 86400000ull, 0 }, { "2w", CONF_UNIT_D, 14 * 86400000ull, 0 },
		{ "0", CONF_UNIT_S, 0, 0 }, { "25h", CONF_UNIT_S, 0, -ERANGE },
		{ "86401", CONF_UNIT_S, 0, -ERANGE }, { "", CONF_UNIT_S, 0, -EINVAL },
		{ "h", CONF_UNIT_S, 0, -EINVAL }, { "1 h", CONF_UNIT_S, 0, -EINVAL },
		{ "-1", CONF_UNIT_S, 0, -EINVAL }, { "1.5h", CONF_UNIT_S, 0, -EINVAL },
		{ "1H", CONF_UNIT_S, 0, -EINVAL }, { "1hs", CONF_UNIT_S, 0, -EINVAL },
		{ "99999999999999999999999", CONF_UNIT_S, 0, -ERANGE },
		{ "18446744073709551615d", CONF_UNIT_S, 0, -ERANGE },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ms = 12345;
		uint64_t max = t[i].u == CONF_UNIT_D ? 365 * 86400000ull : 86400000;
		int r = conf_parse_duration(t[i].s, t[i].u, max, &ms);
		ck_assert_msg(r == t[i].r, "'%s': %d", t[i].s, r);
		if (r == 0)
			ck_assert_msg(ms == t[i].ms, "'%s': %llu", t[i].s, (unsigned long long)ms);
	}
}
END_TEST

START_TEST(proposals)
{
	static const char *const ike_ok[] = {
		"aes_gcm256-sha2_512;dh19,aes256-sha2", "aes_gcm_16_256-sha2_512-dh19+dh20",
		"aes128-sha1-modp2048", "aes-sha2", "aes_gcm",
		"aes256-sha2_256-sha2_512-ecp384", "AES256-SHA2", "aes_gcm-none-sha2_256;dh31",
		"aes+aes128-sha2+sha1-modp3072+modp2048", "aes_cbc_256-sha384;curve25519",
		"aes256-sha2;dh14+dh20", "aes256-sha2!", " aes256-sha2 , aes128-sha1 ",
		"aes_gcm128-sha2_384-ecp384",
	};
	static const char *const esp_ok[] = {
		"aes_gcm256", "aes_gcm256-none", "aes256-sha2_256", "aes-sha1;modp2048",
		"aes_gcm256,aes256-sha2_256-dh31", "aes-sha2;none",
		"aes_gcm_16_128-null-ecp256",
	};
	static const char *const ike_bad[] = {
		"", ",", "aes,", "aes,,aes", "sha2-aes", "aes-", "-aes", "aes--sha2", "aes+-sha2",
		"aes_gcm257", "aes-md5", "aes-sha2;modp1536", "aes-sha2-dh2", "3des-sha1",
		"aes-sha2;dh19;dh20", "aes-sha2-dh19-sha1", "aes-sha2-dh19;dh20", "aes+aes_gcm-sha2",
		"aes-sha2+dh19", "aes-sha2;sha1", "aes-none-sha2", "aes-sha2-none",
		"aes-sha2-sha2-sha2", "aes_gcm-sha2-sha2", "aes-sha2;none", "aes_ctr-sha2",
		"aes_gcm_8", "aes-sha2 ;dh19", "dh19", "aes-sha2;",
		/* the crypto module lacks these */
		"chacha20_poly1305-sha512-x25519", "aes_gcm128-sha2_384-ecp521", "aes-sha2;modp8192",
	};
	static const char *const esp_bad[] = {
		"aes_gcm256-sha2", "aes-sha2-sha1", "aes-none", "aes-sha2-modp1024",
	};
	char why[256];
	for (size_t i = 0; i < sizeof(ike_ok) / sizeof(ike_ok[0]); i++)
		ck_assert_msg(conf_check_proposals(ike_ok[i], false, why, sizeof(why)),
			      "ike '%s': %s", ike_ok[i], why);
	for (size_t i = 0; i < sizeof(esp_ok) / sizeof(esp_ok[0]); i++)
		ck_assert_msg(conf_check_proposals(esp_ok[i], true, why, sizeof(why)),
			      "esp '%s': %s", esp_ok[i], why);
	for (size_t i = 0; i < sizeof(ike_bad) / sizeof(ike_bad[0]); i++)
		ck_assert_msg(!conf_check_proposals(ike_bad[i], false, why, sizeof(why)),
			      "ike '%s' accepted", ike_bad[i]);
	for (size_t i = 0; i < sizeof(esp_bad) / sizeof(esp_bad[0]); i++)
		ck_assert_msg(!conf_check_proposals(esp_bad[i], true, why, sizeof(why)),
			      "esp '%s' accepted", esp_bad[i]);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(robustness)
{
	struct sink s;
	size_t n = 200000;
	char *big = malloc(n + 64);
	ck_assert_ptr_nonnull(big);
	/* a very long line */
	memcpy(big, "conn a\n\tleftid=@", 16);
	memset(big + 16, 'x', n);
	memcpy(big + 16 + n, "\nconn b\n", 9);
	sink_init(&s);
	struct conf *c = conf_load_buf("<t>", big, strlen(big), &s.d);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(s.d.n_err, 1);
	ck_assert(sink_has(&s, "<t>:2: error: line longer than 8192 bytes"));
	/* an 8000-byte value is fine */
	memcpy(big, "conn a\n\tleftid=@", 16);
	memset(big + 16, 'y', 8000);
	big[16 + 8000] = 0;
	c = load_str(&s, big);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(strlen(conn(c, "a")->leftid), 8001);
	conf_free(c);
	/* every byte value, unterminated quotes, stray CRs: reported, never a crash */
	for (unsigned i = 0; i < n; i++)
		big[i] = (char)((i * 2654435761u) >> 13);
	sink_init(&s);
	c = conf_load_buf("<t>", big, n, &s.d);
	conf_free(c);
	free(big);
	/* CRLF everywhere and lone CRs */
	c = load_str(&s, "conn a\r\n\tauto=add\r\n\r\nconn b\r\n\ttype=transport\r\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conn(c, "b")->type, TYPE_TRANSPORT);
	conf_free(c);
	c = load_str(&s, "conn a\r\r\n\tauto=add\r\n");
	ck_assert_ptr_null(c);
	/* NULL diag and NULL text */
	c = conf_load_buf("<t>", "conn a\n\tauto=bad\n", 17, NULL);
	ck_assert_ptr_null(c);
	c = conf_load_buf(NULL, NULL, 5, NULL);
	ck_assert_ptr_nonnull(c);
	conf_free(c);
	/* a UTF-8 byte-order mark */
	c = load_str(&s, "\xef\xbb\xbf" "conn a\n\trightid=\"CN=Jos\xc3\xa9\"\n");
	ck_assert_ptr_nonnull(c);
	conf_free(c);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("fixtures");
	tcase_add_test(tc, seed_clean);
	tcase_add_test(tc, seed_verbatim);
	tcase_add_test(tc, libreswan_oe);
	tcase_add_test(tc, ansible_mesh);
	tcase_add_test(tc, full_values);
	tcase_add_test(tc, defaults_and_empty);
	tcase_add_test(tc, syntax_accepted);
	suite_add_tcase(s, tc);
	tc = tcase_create("merge");
	tcase_add_test(tc, default_and_also);
	tcase_add_test(tc, also_errors);
	tcase_add_test(tc, include_glob);
	tcase_add_test(tc, include_loops);
	suite_add_tcase(s, tc);
	tc = tcase_create("diagnostics");
	tcase_add_loop_test(tc, error_case, 0, sizeof(err_cases) / sizeof(err_cases[0]));
	tcase_add_loop_test(tc, warn_case, 0, sizeof(warn_cases) / sizeof(warn_cases[0]));
	tcase_add_test(tc, warn_effects);
	suite_add_tcase(s, tc);
	tc = tcase_create("values");
	tcase_add_test(tc, durations);
	tcase_add_test(tc, proposals);
	tcase_add_test(tc, robustness);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(conf_suite)
