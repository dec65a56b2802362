/* conf_model.c — the configuration model: defaults, group classes, lookups, freeing.
 * The parser that fills it is conf.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"

enum group_class conf_conn_class(const struct conf_conn *cc)
{
	/* Libreswan does not load auto=ignore conns: they are templates for also= */
	if (cc->autostart == AUTO_IGNORE)
		return GC_NONE;
	switch (cc->right_kind) {
	case RIGHT_GROUP:
		return cc->type == TYPE_DROP ? GC_BLOCK : GC_CLEAR;
	case RIGHT_OPPGROUP:
		if (cc->autostart != AUTO_ONDEMAND && cc->autostart != AUTO_START)
			return GC_OE_RESPOND;
		return cc->failureshunt == SHUNT_PASS ? GC_OE_PASS : GC_OE_DROP;
	case RIGHT_HOST:
		break;
	}
	return GC_NONE;
}

const char *group_class_name(enum group_class gc)
{
	switch (gc) {
	case GC_NONE: return "none";
	case GC_CLEAR: return "clear";
	case GC_OE_RESPOND: return "clear-or-private";
	case GC_OE_PASS: return "private-or-clear";
	case GC_OE_DROP: return "private";
	case GC_BLOCK: return "block";
	}
	return "?";
}

const char *shunt_action_name(enum shunt_action a)
{
	switch (a) {
	case SHUNT_UNSET: return "unset";
	case SHUNT_NONE: return "none";
	case SHUNT_PASS: return "pass";
	case SHUNT_DROP: return "drop";
	}
	return "?";
}

const struct conf_conn *conf_find_conn(const struct conf *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_conns; i++)
		if (strcmp(c->conns[i].name, name) == 0)
			return &c->conns[i];
	return NULL;
}

static void setup_defaults(struct conf_setup *s)
{
	s->shuntlifetime_s = 900;
	s->expire_shunt_interval_s = 20;
	s->dnssec_enable = true;
	s->cert_expiry_warning_s = 14 * 24 * 3600;
	s->ike_port = 500;
	s->nat_ike_port = 4500;
	s->ddos_ike_threshold = 50;
	s->nflog_group = CONF_DEFAULT_NFLOG_GROUP;
}

/* Fill the string defaults that are still unset; returns false on ENOMEM. */
bool conf_setup_finish(struct conf_setup *s)
{
	struct { char **p; const char *v; } d[] = {
		{ &s->nssdir, CONF_DEFAULT_NSSDIR },
		{ &s->policies_dir, CONF_DEFAULT_POLICIES },
		{ &s->ctlsocket, CONF_DEFAULT_CTLSOCKET },
		{ &s->dnssec_rootkey_file, CONF_DEFAULT_ROOTKEY },
		{ &s->resolv_conf, "/etc/resolv.conf" },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (!*d[i].p && !(*d[i].p = strdup(d[i].v)))
			return false;
	return true;
}

void conf_setup_init(struct conf_setup *s)
{
	memset(s, 0, sizeof(*s));
	setup_defaults(s);
}

void conf_conn_init(struct conf_conn *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->autostart = AUTO_IGNORE;
	cc->type = TYPE_TUNNEL;
	cc->authby = AUTHBY_RSASIG | AUTHBY_ECDSA;
	cc->right_kind = RIGHT_HOST;
	cc->negotiationshunt = SHUNT_DROP;
	cc->failureshunt = SHUNT_NONE;
	cc->ikelifetime_s = 28800;
	cc->salifetime_s = 28800;
	cc->rekeymargin_s = 540;
	cc->rekeyfuzz_pct = 100;
	cc->rekey = true;
	cc->retransmit_timeout_ms = 0;     /* resolved by conf_conn_finish */
	cc->retransmit_interval_ms = 500;
	cc->replay_window = 128;
	cc->pfs = true;
	cc->esn = true;
	cc->fragmentation = true;
}

void conf_conn_finish(struct conf_conn *cc)
{
	if (cc->retransmit_timeout_ms == 0)
		cc->retransmit_timeout_ms = cc->right_kind == RIGHT_OPPGROUP ? 10000 : 60000;
}

void conf_conn_fini(struct conf_conn *cc)
{
	char **strs[] = {
		&cc->name, &cc->file, &cc->left, &cc->right, &cc->leftid, &cc->rightid,
		&cc->leftcert, &cc->rightca, &cc->leftrsasigkey, &cc->rightrsasigkey,
		&cc->ike, &cc->esp, &cc->leftprotoport, &cc->rightprotoport,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

void conf_setup_fini(struct conf_setup *s)
{
	char **strs[] = {
		&s->nssdir, &s->policies_dir, &s->ctlsocket, &s->dnssec_rootkey_file,
		&s->dnssec_anchors, &s->resolv_conf, &s->listen,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

struct conf *conf_new_default(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	conf_setup_init(&c->setup);
	if (!conf_setup_finish(&c->setup)) {
		conf_free(c);
		return NULL;
	}
	return c;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_conns; i++)
		conf_conn_fini(&c->conns[i]);
	free(c->conns);
	conf_setup_fini(&c->setup);
	free(c->path);
	free(c);
}
