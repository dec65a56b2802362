/* conf_keys.h — the meshd.conf key table and value checkers (conf_keys.c), shared by the
 * parser (conf.c) only. Not a public interface: other modules use conf.h. */
#ifndef MESHD_CONF_KEYS_H
#define MESHD_CONF_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Key flags. */
enum {
	CK_SETUP       = 1u << 0,  /* belongs in "config setup" */
	CK_CONN        = 1u << 1,  /* belongs in a conn (and conn %default) */
	CK_EMPTY       = 1u << 2,  /* key= (empty) is a valid value */
	CK_OBSOLETE    = 1u << 3,  /* Libreswan dropped it: warning, value ignored */
	CK_IGNORED     = 1u << 4,  /* valid in Libreswan, no effect in meshd: warning */
	CK_UNSUPPORTED = 1u << 5,  /* valid in Libreswan, meshd cannot honour it: error */
	CK_OLDNAME     = 1u << 6,  /* accepted under its canonical name, with a warning */
	CK_ALSO        = 1u << 7,  /* also=: handled by the parser itself */
};

/* Where a setter writes and whom it tells. d == NULL: the value was checked before, so
 * report nothing (the parser applies merged conns this way). */
struct conf_kctx {
	struct diag *d;
	const char *file;
	unsigned line;
	const char *key;                  /* as written in the file */
	const struct conf_key *ent;
	struct conf_conn *conn;           /* CK_CONN keys */
	struct conf_setup *setup;         /* CK_SETUP keys */
	char **ipsecdir;                  /* ipsecdir= goes here (owned by the parser) */
};

struct conf_key {
	const char *name;
	const char *canon;                /* the name duplicates and merging go by; NULL = name */
	unsigned flags;
	bool (*set)(const struct conf_kctx *k, const char *v);  /* false: error reported */
	size_t off;                       /* field, for the generic setters */
	uint64_t min, max;                /* numbers; durations in ms */
	enum conf_unit unit;              /* durations: unit of a bare number */
	bool in_ms;                       /* durations: the field holds ms, not s */
	const char *note;                 /* obsolete / ignored / unsupported: why */
};

/* The entry for name in a section of kind CK_SETUP or CK_CONN; NULL if unknown there.
 * *other is set when the key exists in the other kind of section. */
const struct conf_key *conf_key_lookup(const char *name, unsigned kind, bool *other);
static inline const char *conf_key_canon(const struct conf_key *k)
{
	return k->canon ? k->canon : k->name;
}

/* Checks that need the whole merged conn; errors go to d at file:line. */
bool conf_conn_check(const struct conf_conn *cc, struct diag *d, const char *file, unsigned line);

#endif
