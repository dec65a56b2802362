/* conf.h — meshd.conf: Libreswan "config setup" + "conn" syntax.
 *
 * Grammar (ipsec.conf(5)): "config setup" and "conn NAME" sections start at column 0;
 * their "key=value" lines are indented; "#" starts a comment; values may be double-quoted;
 * "include GLOB" at column 0 pulls in files (relative globs are taken from the including
 * file's directory); "also=NAME" merges another conn; "conn %default" sets defaults for
 * every conn that follows it.
 *
 * Unknown keys are errors with file:line; keys Libreswan made obsolete (keyingtries,
 * dpdaction, ...) are warnings. A conf with errors is not used: the daemon refuses to
 * start with it and a reload keeps the running one. */
#ifndef MESHD_CONF_H
#define MESHD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONF_DEFAULT_PATH        "/etc/meshd/meshd.conf"
#define CONF_DEFAULT_POLICIES    "/etc/meshd/policies"
#define CONF_DEFAULT_NSSDIR      "sql:/var/lib/meshd/nss"
#define CONF_DEFAULT_CTLSOCKET   "/run/meshd/meshd.ctl"
#define CONF_DEFAULT_ROOTKEY     "/usr/share/dns/root.key"

enum conf_auto { AUTO_IGNORE, AUTO_ADD, AUTO_ONDEMAND /* route, ondemand */, AUTO_START };
enum conf_type { TYPE_TUNNEL, TYPE_TRANSPORT, TYPE_PASSTHROUGH, TYPE_DROP /* drop, reject */ };
enum conf_right { RIGHT_HOST /* an address or unset */, RIGHT_GROUP /* %group */,
		  RIGHT_OPPGROUP /* %opportunisticgroup */ };
/* Shunt actions. hold and reject are accepted as DROP with a warning. */
enum shunt_action { SHUNT_UNSET = 0, SHUNT_NONE, SHUNT_PASS, SHUNT_DROP };

/* sendca= and encapsulation= (stored for the IKE module). */
enum conf_sendca { SENDCA_ISSUER = 0, SENDCA_NONE, SENDCA_ALL };
enum conf_encaps { ENCAPS_AUTO = 0, ENCAPS_YES, ENCAPS_NO };

/* authby= is a comma list; these are bits. */
enum {
	AUTHBY_RSASIG = 1u << 0,
	AUTHBY_ECDSA  = 1u << 1,
	AUTHBY_NULL   = 1u << 2,
	AUTHBY_NEVER  = 1u << 3,
};

/* What a group conn does with its group file (DESIGN.md 2.1). Ordered from least to most
 * restrictive: that order settles an exact duplicate between two groups at run time. */
enum group_class {
	GC_NONE = 0,        /* not a group conn */
	GC_CLEAR,           /* right=%group, type=passthrough */
	GC_OE_RESPOND,      /* clear-or-private: %opportunisticgroup, auto=add */
	GC_OE_PASS,         /* private-or-clear: initiates, failureshunt pass */
	GC_OE_DROP,         /* private: initiates, failureshunt drop */
	GC_BLOCK,           /* right=%group, type=drop|reject */
};

struct conf_conn {
	char *name;
	char *file;                   /* where "conn NAME" was read (owned) */
	unsigned line;

	enum conf_auto autostart;     /* auto= (default ignore) */
	enum conf_type type;          /* type= (default tunnel) */
	unsigned authby;              /* AUTHBY_* bits (default rsasig,ecdsa) */
	enum conf_right right_kind;
	char *left, *right;           /* raw values (%defaultroute, %group, ...) */
	char *leftid, *rightid;       /* %fromcert, %null, @fqdn, IP, DN; NULL = unset */
	char *leftcert;               /* NSS nickname */
	char *rightca;                /* %same, %any or a DN; NULL = unset */
	char *leftrsasigkey, *rightrsasigkey; /* %cert, %dnsondemand (alias %dns), raw key */
	char *ike, *esp;              /* proposal strings, syntax-checked; NULL = defaults */
	enum shunt_action negotiationshunt;   /* default: drop */
	enum shunt_action failureshunt;       /* default: none */
	uint32_t ikelifetime_s;       /* default 28800, max 86400 */
	uint32_t salifetime_s;        /* default 28800, max 86400 */
	uint32_t rekeymargin_s;       /* default 540 */
	uint32_t rekeyfuzz_pct;       /* default 100 */
	bool rekey;                   /* default yes */
	uint32_t retransmit_timeout_ms;  /* default 10000 for opportunistic conns, else 60000 */
	uint32_t retransmit_interval_ms; /* default 500 */
	uint32_t dpddelay_s, dpdtimeout_s;  /* 0 = off (default) */
	uint32_t priority;            /* 0 = computed */
	uint32_t replay_window;       /* default 128 */
	bool pfs;                     /* default yes */
	bool esn;                     /* default yes */
	bool fragmentation;           /* default yes */
	char *leftprotoport, *rightprotoport; /* raw; NULL = any */
	bool narrowing;               /* default no */
	bool mobike;                  /* default no */
	enum conf_sendca sendca;      /* default issuer */
	enum conf_encaps encapsulation; /* default auto */
};

struct conf_setup {
	char *nssdir;                 /* nssdir= (default CONF_DEFAULT_NSSDIR) */
	char *policies_dir;           /* policies-dir= or ipsecdir=DIR -> DIR/policies */
	char *ctlsocket;              /* ctlsocket= (default CONF_DEFAULT_CTLSOCKET) */
	uint32_t shuntlifetime_s;     /* default 900 */
	uint32_t expire_shunt_interval_s; /* default 20, max 1000 */
	bool dnssec_enable;           /* default yes */
	char *dnssec_rootkey_file;    /* default CONF_DEFAULT_ROOTKEY */
	char *dnssec_anchors;         /* glob, NULL = none */
	char *resolv_conf;            /* default /etc/resolv.conf */
	uint32_t cert_expiry_warning_s; /* default 14 days */
	bool debug;                   /* plutodebug= other than none */
	char *listen;                 /* listen= address, NULL = all */
	uint16_t ike_port, nat_ike_port; /* default 500, 4500 */
	uint32_t ddos_ike_threshold;  /* half-open IKE SAs before COOKIEs; default 50 */
	uint32_t nflog_group;         /* NFLOG group of the inbound trigger (nft_log.h);
	                               * default CONF_DEFAULT_NFLOG_GROUP, 0 = off */
};

/* Out of the small numbers ulogd and firewall recipes use (0, 1, 2, 100). */
#define CONF_DEFAULT_NFLOG_GROUP 28005

struct conf {
	char *path;                   /* the top-level file */
	struct conf_setup setup;
	struct conf_conn *conns;      /* in file order, %default and also= already merged */
	size_t n_conns;
};

/* Load path and everything it includes. Every problem goes to d with file:line. Returns
 * NULL if any error was reported (or on allocation failure); warnings do not fail. */
struct conf *conf_load(const char *path, struct diag *d);
/* The same from memory; name is used in messages and to resolve relative includes. A
 * name starting with '<' ("<fuzz>", "<stdin>") has no file system context: every include
 * is then an error, so untrusted text cannot make the parser open files. name NULL is
 * "<buffer>". */
struct conf *conf_load_buf(const char *name, const char *text, size_t len, struct diag *d);
void conf_free(struct conf *c);      /* accepts NULL */

/* A conf with built-in defaults only and no conns (meshd without a config file). */
struct conf *conf_new_default(void);

/* Model helpers (conf_model.c), for the parser and for tests that build a conf by hand. */
void conf_setup_init(struct conf_setup *s);      /* numeric defaults, strings NULL */
bool conf_setup_finish(struct conf_setup *s);    /* string defaults for unset paths */
void conf_setup_fini(struct conf_setup *s);
void conf_conn_init(struct conf_conn *cc);       /* every conn default */
void conf_conn_finish(struct conf_conn *cc);     /* defaults that depend on other keys */
void conf_conn_fini(struct conf_conn *cc);

enum group_class conf_conn_class(const struct conf_conn *cc);
const char *group_class_name(enum group_class gc);  /* "clear", "private", ... */
const char *shunt_action_name(enum shunt_action a); /* "pass", "drop", "none" */
const struct conf_conn *conf_find_conn(const struct conf *c, const char *name);

/* Value parsers of the conf parser (conf_keys.c), also for meshctl and the IKE module. */
enum conf_unit { CONF_UNIT_MS, CONF_UNIT_S, CONF_UNIT_D };
/* "N" (in unit), "Nms", "Ns", "Nm", "Nh", "Nd", "Nw" -> *ms. Returns 0, -EINVAL (syntax) or
 * -ERANGE (above max_ms). */
int conf_parse_duration(const char *s, enum conf_unit unit, uint64_t max_ms, uint64_t *ms);
/* Syntax-check a Libreswan ike= (esp == false) or esp= proposal list such as
 * "aes_gcm256-sha2_512;dh19+dh20,aes256-sha2". On failure a reason goes to why. */
bool conf_check_proposals(const char *s, bool esp, char *why, size_t whylen);

#endif
