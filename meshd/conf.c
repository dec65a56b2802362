/* conf.c — the meshd.conf reader: lines, sections, include, conn %default and also=.
 *
 * Two passes. Reading checks every line and every value at its own file:line (through the
 * key table of conf_keys.c) and keeps the good key=value pairs per section. Building then
 * merges each conn (its own keys, then its also= conns depth-first in the order written,
 * then the %default sections read before it, latest first), applies the values to a fresh
 * struct conf_conn and runs the checks that need the whole conn. Any error anywhere and
 * conf_load returns NULL: nothing is half-loaded.
 *
 * Files are read whole (at most CONF_MAX_FILE bytes) and split into lines here; nothing
 * in a line is trusted: NUL bytes, over-long lines, control characters and unterminated
 * quotes are reported, never followed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_keys.h"

#define CONF_MAX_LINE   8192
#define CONF_MAX_FILE   (16u << 20)
#define CONF_MAX_DEPTH  10         /* include nesting below the top file */
#define CONF_MAX_ALSO   100        /* also= nesting */
#define CONF_MAX_NAME   128

struct kv {
	const struct conf_key *ent;
	char *key;                /* as written */
	char *val;
	const char *file;         /* interned in struct parser */
	unsigned line;
	bool reported;            /* also=: a missing target or loop was reported */
};

enum sect_kind { SECT_SETUP, SECT_CONN, SECT_DEFAULT };

struct sect {
	enum sect_kind kind;
	char *name;
	const char *file;
	unsigned line;
	struct kv *kv;
	size_t n_kv;
	size_t n_defaults;        /* %default sections read before this conn */
	unsigned visit;           /* building: expansion stamp */
	bool on_stack;
};

struct parser {
	struct diag *d;
	struct conf *c;
	struct sect **sects;
	size_t n_sects;
	struct sect *setup;
	struct sect **defaults;
	size_t n_defaults;
	char **files;             /* interned file names */
	size_t n_files;
	char *stack[CONF_MAX_DEPTH + 1];  /* real paths of the files being read */
	int depth;
	struct sect *cur;         /* the section being read; NULL outside one */
	bool skip;                /* outside a section, but say nothing (bad header) */
	bool no_fs;               /* in-memory text with a "<name>": no include */
	struct conf_conn scratch; /* conn values are checked into this */
	char *ipsecdir;
};

__attribute__((format(printf, 4, 5)))
static void err(struct parser *p, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_report(p->d, DIAG_ERR, file, line, "%s", msg);
}

__attribute__((format(printf, 4, 5)))
static void warn(struct parser *p, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_report(p->d, DIAG_WARN, file, line, "%s", msg);
}

static void oom(struct parser *p, const char *file, unsigned line)
{
	err(p, file, line, "out of memory");
}

/* Arrays of n items have room for max(4, next power of two >= n): they grow when n is 0
 * or a power of two >= 4. GROW(arr, n) makes room for item n; false on ENOMEM (arr is
 * unchanged then). Needs a "void *tmp_" in scope. */
static bool need_grow(size_t n)
{
	return n == 0 || (n >= 4 && !(n & (n - 1)));
}
#define GROW(arr, n) (!need_grow(n) || \
	((tmp_ = realloc((arr), ((n) ? (n) * 2 : 4) * sizeof(*(arr)))) && ((arr) = tmp_, true)))

static const char *intern(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i], name) == 0)
			return p->files[i];
	char *s = strdup(name);
	void *tmp_;
	if (!s || !GROW(p->files, p->n_files)) {
		free(s);
		return NULL;
	}
	p->files[p->n_files++] = s;
	return s;
}

static void sect_free(struct sect *s)
{
	for (size_t i = 0; i < s->n_kv; i++) {
		free(s->kv[i].key);
		free(s->kv[i].val);
	}
	free(s->kv);
	free(s->name);
	free(s);
}

static struct sect *find_conn(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_sects; i++)
		if (p->sects[i]->kind == SECT_CONN && strcmp(p->sects[i]->name, name) == 0)
			return p->sects[i];
	return NULL;
}

static struct sect *sect_new(struct parser *p, enum sect_kind kind, const char *name,
			     const char *file, unsigned line)
{
	struct sect *s = calloc(1, sizeof(*s));
	void *tmp_;
	if (!s || !(s->name = strdup(name)) || !GROW(p->sects, p->n_sects) ||
	    (kind == SECT_DEFAULT && !GROW(p->defaults, p->n_defaults))) {
		if (s)
			free(s->name);
		free(s);
		oom(p, file, line);
		return NULL;
	}
	s->kind = kind;
	s->file = file;
	s->line = line;
	s->n_defaults = p->n_defaults;
	p->sects[p->n_sects++] = s;
	if (kind == SECT_DEFAULT)
		p->defaults[p->n_defaults++] = s;
	return s;
}

/* ---- reading ---- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static char *skip_ws(char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

/* Next blank-separated word of a column-0 line; NULL at the end or at a comment. A word
 * may be double-quoted (for include); *bad is set on an unterminated quote. */
static char *next_word(char **sp, bool *bad)
{
	char *s = skip_ws(*sp), *w;
	if (!*s || *s == '#')
		return NULL;
	if (*s == '"') {
		char *q = strchr(s + 1, '"');
		if (!q) {
			*bad = true;
			return NULL;
		}
		*q = 0;
		*sp = q + 1;
		return s + 1;
	}
	w = s;
	while (*s && !is_ws(*s))
		s++;
	if (*s)
		*s++ = 0;
	*sp = s;
	return w;
}

static bool valid_conn_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > CONF_MAX_NAME || n[0] == '.' || n[0] == '-')
		return false;
	return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		      "._-+@:") == len;
}

static void parse_text(struct parser *p, const char *name, const char *text, size_t len);

static int read_whole(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((uint64_t)st.st_size > CONF_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) {   /* grew while we read */
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	*out = buf;
	*len = n;
	return 0;
}

/* Read and parse path (named by an include at file:line, or the top file if file is NULL). */
static void parse_file(struct parser *p, const char *path, const char *file, unsigned line)
{
	char *real = realpath(path, NULL), *text = NULL;
	size_t len = 0;
	int r;
	if (real) {
		for (int i = 0; i < p->depth; i++)
			if (p->stack[i] && strcmp(p->stack[i], real) == 0) {
				err(p, file, line, "include loop: %s is already being read", path);
				free(real);
				return;
			}
	}
	r = read_whole(path, &text, &len);
	if (r < 0) {
		if (file)
			err(p, file, line, "include: cannot read %s: %s", path, strerror(-r));
		else
			err(p, path, 0, "cannot read: %s", strerror(-r));
		free(real);
		return;
	}
	p->stack[p->depth++] = real;   /* may be NULL: then no loop check for this one */
	parse_text(p, path, text, len);
	p->stack[--p->depth] = NULL;
	free(real);
	free(text);
}

static void do_include(struct parser *p, const char *file, unsigned line, const char *pat)
{
	char full[PATH_MAX + 256];
	glob_t g;
	int r;
	if (p->no_fs) {
		err(p, file, line, "include is not allowed in %s (text without a file)", file);
		return;
	}
	if (p->depth > CONF_MAX_DEPTH) {
		err(p, file, line, "include nested deeper than %d files", CONF_MAX_DEPTH);
		return;
	}
	if (pat[0] == '/') {
		if (snprintf(full, sizeof(full), "%s", pat) >= (int)sizeof(full))
			goto toolong;
	} else {
		const char *slash = strrchr(file, '/');
		int dl = slash ? (int)(slash - file) : 1;
		if (snprintf(full, sizeof(full), "%.*s/%s", dl, slash ? file : ".", pat) >=
		    (int)sizeof(full))
			goto toolong;
	}
	r = glob(full, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return;               /* an empty include directory is fine */
	if (r != 0) {
		err(p, file, line, "include %s: cannot expand the pattern", pat);
		globfree(&g);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			warn(p, file, line, "include %s: skipping directory %s", pat, g.gl_pathv[i]);
			continue;
		}
		parse_file(p, g.gl_pathv[i], file, line);
	}
	globfree(&g);
	return;
toolong:
	err(p, file, line, "include %s: path too long", pat);
}

/* A line that starts in column 0. */
static void parse_header(struct parser *p, char *s, const char *file, unsigned line)
{
	bool bad = false;
	char *w = next_word(&s, &bad), *arg, *extra;
	p->cur = NULL;
	p->skip = true;
	if (w && strchr(w, '=')) {
		err(p, file, line, "'%s' must be indented under 'config setup' or 'conn NAME'", w);
		return;
	}
	arg = w ? next_word(&s, &bad) : NULL;
	extra = arg ? next_word(&s, &bad) : NULL;
	if (bad || !w) {
		err(p, file, line, "unterminated quoted string");
		return;
	}
	if (strcmp(w, "config") == 0) {
		if (!arg || strcmp(arg, "setup") != 0 || extra) {
			err(p, file, line, "expected 'config setup'");
			return;
		}
		if (!p->setup && !(p->setup = sect_new(p, SECT_SETUP, "setup", file, line)))
			return;
		p->cur = p->setup;
		p->skip = false;
	} else if (strcmp(w, "conn") == 0) {
		struct sect *old;
		if (!arg || extra) {
			err(p, file, line, "expected 'conn NAME'");
			return;
		}
		if (strcmp(arg, "%default") == 0) {
			p->cur = sect_new(p, SECT_DEFAULT, arg, file, line);
			p->skip = !p->cur;
			return;
		}
		if (!valid_conn_name(arg)) {
			err(p, file, line, "invalid conn name '%.*s' (up to %d letters, digits and "
			    "._-+@:, not starting with . or -; it also names the group file)",
			    CONF_MAX_NAME + 1, arg, CONF_MAX_NAME);
			return;
		}
		if ((old = find_conn(p, arg))) {
			err(p, file, line, "duplicate conn %s (first defined at %s:%u)", arg,
			    old->file, old->line);
			return;
		}
		p->cur = sect_new(p, SECT_CONN, arg, file, line);
		p->skip = !p->cur;
	} else if (strcmp(w, "include") == 0) {
		if (!arg || extra)
			err(p, file, line, "expected 'include FILE-OR-GLOB'");
		else
			do_include(p, file, line, arg);
		p->cur = NULL;
		p->skip = false;
	} else if (strcmp(w, "version") == 0) {
		p->skip = false;
		if (!arg || extra || (strcmp(arg, "2") != 0 && strcmp(arg, "2.0") != 0))
			err(p, file, line, "unsupported 'version' line (only 'version 2' is known)");
	} else
		err(p, file, line, "unexpected '%.40s' at the start of a line (expected "
		    "'config setup', 'conn NAME', 'include' or 'version 2')", w);
}

/* Split an indented "key=value" line; returns false after reporting. */
static bool split_kv(struct parser *p, char *s, const char *file, unsigned line,
		     char **key, char **val)
{
	char *k = s, *v;
	while (*s && *s != '=' && !is_ws(*s))
		s++;
	if (s == k || (*s != '=' && *skip_ws(s) != '=')) {
		err(p, file, line, "expected key=value, got '%.40s'", k);
		return false;
	}
	v = skip_ws(s);
	*s = 0;
	v = skip_ws(v + 1);
	if (strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	    strlen(k)) {
		err(p, file, line, "invalid key name '%.40s'", k);
		return false;
	}
	if (*v == '"') {
		char *q = strchr(v + 1, '"'), *rest;
		if (!q) {
			err(p, file, line, "%s: unterminated quoted value", k);
			return false;
		}
		*q = 0;
		rest = skip_ws(q + 1);
		if (*rest && *rest != '#') {
			err(p, file, line, "%s: unexpected text after the quoted value", k);
			return false;
		}
		v++;
	} else {
		/* "#" starts a comment at the start of the value or after a blank */
		char *e = v;
		while (*e && !(*e == '#' && (e == v || is_ws(e[-1]))))
			e++;
		while (e > v && is_ws(e[-1]))
			e--;
		*e = 0;
		for (char *t = v; *t; t++)
			if (is_ws(*t)) {
				err(p, file, line, "%s: unquoted value '%s' contains a blank (quote "
				    "values that contain blanks; was the rest meant as a comment?)",
				    k, v);
				return false;
			}
	}
	for (const unsigned char *t = (const unsigned char *)v; *t; t++)
		if ((*t < 0x20 && *t != '\t') || *t == 0x7f) {
			err(p, file, line, "%s: control character in the value", k);
			return false;
		}
	*key = k;
	*val = v;
	return true;
}

static void parse_kv(struct parser *p, char *s, const char *file, unsigned line)
{
	struct sect *cs = p->cur;
	unsigned kind = cs->kind == SECT_SETUP ? CK_SETUP : CK_CONN;
	const struct conf_key *ent;
	char *key, *val;
	void *tmp_;
	bool other;
	if (!split_kv(p, s, file, line, &key, &val))
		return;
	ent = conf_key_lookup(key, kind, &other);
	if (!ent) {
		if (other)
			err(p, file, line, "%s= belongs in %s, not in %s", key,
			    kind == CK_SETUP ? "a conn" : "config setup",
			    kind == CK_SETUP ? "config setup" : "a conn");
		else
			err(p, file, line, "unknown key '%s'", key);
		return;
	}
	if (ent->flags & CK_UNSUPPORTED) {
		err(p, file, line, "%s= is not supported by meshd: %s", key, ent->note);
		return;
	}
	if (ent->flags & (CK_OBSOLETE | CK_IGNORED)) {
		warn(p, file, line, "%s= is %s and ignored%s%s", key,
		     ent->flags & CK_OBSOLETE ? "obsolete" : "not used by meshd",
		     ent->note ? ": " : "", ent->note ? ent->note : "");
		return;
	}
	if (!*val && !(ent->flags & CK_EMPTY)) {
		err(p, file, line, "%s: empty value", key);
		return;
	}
	if (ent->flags & CK_ALSO) {
		if (cs->kind == SECT_DEFAULT) {
			err(p, file, line, "also= is not allowed in conn %%default");
			return;
		}
		if (!valid_conn_name(val)) {
			err(p, file, line, "also: invalid conn name '%.*s'", CONF_MAX_NAME + 1, val);
			return;
		}
	} else {
		for (size_t i = 0; i < cs->n_kv; i++) {
			const struct kv *o = &cs->kv[i];
			if (!(o->ent->flags & CK_ALSO) &&
			    strcmp(conf_key_canon(o->ent), conf_key_canon(ent)) == 0) {
				err(p, file, line, "%s= set twice in %s%s (first as %s= at %s:%u)",
				    key, cs->kind == SECT_SETUP ? "config setup" : "conn ",
				    cs->kind == SECT_SETUP ? "" : cs->name, o->key, o->file, o->line);
				return;
			}
		}
		struct conf_kctx k = {
			.d = p->d, .file = file, .line = line, .key = key, .ent = ent,
			.conn = &p->scratch, .setup = &p->c->setup, .ipsecdir = &p->ipsecdir,
		};
		if (!ent->set(&k, val))
			return;
	}
	if (!GROW(cs->kv, cs->n_kv)) {
		oom(p, file, line);
		return;
	}
	struct kv *kv = &cs->kv[cs->n_kv];
	memset(kv, 0, sizeof(*kv));
	kv->ent = ent;
	kv->file = file;
	kv->line = line;
	kv->key = strdup(key);
	kv->val = strdup(val);
	if (!kv->key || !kv->val) {
		free(kv->key);
		free(kv->val);
		oom(p, file, line);
		return;
	}
	cs->n_kv++;
}

static void parse_line(struct parser *p, char *s, const char *file, unsigned line)
{
	char *t = skip_ws(s);
	if (!*t || *t == '#')
		return;
	if (t == s) {
		parse_header(p, s, file, line);
		return;
	}
	if (!p->cur) {
		if (!p->skip)
			err(p, file, line, "'%.40s' is outside a section (indented key=value lines "
			    "belong under 'config setup' or 'conn NAME')", t);
		p->skip = true;     /* once per block */
		return;
	}
	parse_kv(p, t, file, line);
}

static void parse_text(struct parser *p, const char *name, const char *text, size_t len)
{
	const char *file = intern(p, name);
	char *buf = malloc(CONF_MAX_LINE + 1);
	unsigned lineno = 0;
	size_t pos = 0;
	if (!file || !buf) {
		free(buf);
		oom(p, name, 0);
		return;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)   /* UTF-8 BOM */
		pos = 3;
	p->cur = NULL;
	p->skip = false;
	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;
		pos += ll + 1;
		lineno++;
		if (ll && l[ll - 1] == '\r')
			ll--;
		if (memchr(l, '\0', ll)) {
			err(p, file, lineno, "NUL byte in line");
			continue;
		}
		if (ll > CONF_MAX_LINE) {
			err(p, file, lineno, "line longer than %d bytes", CONF_MAX_LINE);
			continue;
		}
		memcpy(buf, l, ll);
		buf[ll] = 0;
		parse_line(p, buf, file, lineno);
	}
	p->cur = NULL;
	p->skip = false;
	free(buf);
}

/* ---- building ---- */

struct eff {
	const struct kv **kv;
	size_t n;
	bool oom;
};

static void eff_add(struct eff *e, const struct kv *kv)
{
	const char *c = conf_key_canon(kv->ent);
	void *tmp_;
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(conf_key_canon(e->kv[i]->ent), c) == 0)
			return;
	if (!GROW(e->kv, e->n)) {
		e->oom = true;
		return;
	}
	e->kv[e->n++] = kv;
}

static void expand(struct parser *p, struct sect *s, struct eff *e, unsigned stamp, int depth)
{
	s->on_stack = true;
	s->visit = stamp;
	for (size_t i = 0; i < s->n_kv; i++)
		if (!(s->kv[i].ent->flags & CK_ALSO))
			eff_add(e, &s->kv[i]);
	for (size_t i = 0; i < s->n_kv; i++) {
		struct kv *kv = &s->kv[i];
		struct sect *t;
		if (!(kv->ent->flags & CK_ALSO))
			continue;
		t = find_conn(p, kv->val);
		if (!t || t->on_stack || depth >= CONF_MAX_ALSO) {
			if (!kv->reported)
				err(p, kv->file, kv->line, !t ? "also=%s: no such conn" :
				    t->on_stack ? "also=%s: loop (conn %s is already being merged)" :
				    "also=%s: nested too deep", kv->val, kv->val);
			kv->reported = true;
			continue;
		}
		if (t->visit != stamp)  /* a diamond: merged once, where first met */
			expand(p, t, e, stamp, depth + 1);
	}
	s->on_stack = false;
}

static bool build_conn(struct parser *p, struct sect *s, struct conf_conn *cc, unsigned stamp)
{
	struct eff e = { 0 };
	expand(p, s, &e, stamp, 0);
	for (size_t i = s->n_defaults; i > 0; i--) {
		const struct sect *d = p->defaults[i - 1];
		for (size_t j = 0; j < d->n_kv; j++)
			eff_add(&e, &d->kv[j]);
	}
	conf_conn_init(cc);
	cc->name = strdup(s->name);
	cc->file = strdup(s->file);
	cc->line = s->line;
	if (e.oom || !cc->name || !cc->file) {
		free(e.kv);
		oom(p, s->file, s->line);
		return false;
	}
	for (size_t i = 0; i < e.n; i++) {
		struct conf_kctx k = {
			.d = NULL, .file = e.kv[i]->file, .line = e.kv[i]->line,
			.key = e.kv[i]->key, .ent = e.kv[i]->ent, .conn = cc,
		};
		e.kv[i]->ent->set(&k, e.kv[i]->val);
	}
	free(e.kv);
	conf_conn_finish(cc);
	return conf_conn_check(cc, p->d, s->file, s->line);
}

static const struct kv *setup_kv(const struct parser *p, const char *canon)
{
	for (size_t i = 0; p->setup && i < p->setup->n_kv; i++)
		if (strcmp(conf_key_canon(p->setup->kv[i].ent), canon) == 0)
			return &p->setup->kv[i];
	return NULL;
}

static void build_setup(struct parser *p)
{
	struct conf_setup *s = &p->c->setup;
	if (p->ipsecdir && !s->policies_dir) {
		size_t n = strlen(p->ipsecdir) + sizeof("/policies");
		if ((s->policies_dir = malloc(n)))
			snprintf(s->policies_dir, n, "%s/policies", p->ipsecdir);
	}
	if (s->ike_port == s->nat_ike_port) {
		const struct kv *kv = setup_kv(p, "nat-ike-port");
		if (!kv)
			kv = setup_kv(p, "ike-port");
		err(p, kv ? kv->file : p->c->path, kv ? kv->line : 0,
		    "ike-port and nat-ike-port are both %u; they must differ", s->ike_port);
	}
	if (!conf_setup_finish(s))
		oom(p, p->c->path, 0);
}

static void build(struct parser *p)
{
	size_t n = 0;
	unsigned stamp = 0;
	build_setup(p);
	for (size_t i = 0; i < p->n_sects; i++)
		n += p->sects[i]->kind == SECT_CONN;
	if (!n)
		return;
	p->c->conns = calloc(n, sizeof(*p->c->conns));
	if (!p->c->conns) {
		oom(p, p->c->path, 0);
		return;
	}
	for (size_t i = 0; i < p->n_sects; i++) {
		struct sect *s = p->sects[i];
		if (s->kind != SECT_CONN)
			continue;
		build_conn(p, s, &p->c->conns[p->c->n_conns++], ++stamp);
	}
}

static struct conf *load(const char *name, const char *path, const char *text, size_t len,
			 struct diag *d)
{
	struct diag quiet = { 0 };
	struct parser p = { 0 };
	unsigned errs0;
	if (!d)
		d = &quiet;
	errs0 = d->n_err;
	p.d = d;
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c || !(p.c->path = strdup(name))) {
		free(p.c);
		diag_report(d, DIAG_ERR, name, 0, "out of memory");
		return NULL;
	}
	conf_setup_init(&p.c->setup);
	conf_conn_init(&p.scratch);
	if (path)
		parse_file(&p, path, NULL, 0);
	else {
		p.no_fs = name[0] == '<';
		if (!p.no_fs)   /* a real name: an include of itself is a loop */
			p.stack[p.depth++] = realpath(name, NULL);
		parse_text(&p, name, text, len);
		if (!p.no_fs)
			free(p.stack[--p.depth]);
	}
	build(&p);
	conf_conn_fini(&p.scratch);
	for (size_t i = 0; i < p.n_sects; i++)
		sect_free(p.sects[i]);
	free(p.sects);
	free(p.defaults);
	for (size_t i = 0; i < p.n_files; i++)
		free(p.files[i]);
	free(p.files);
	free(p.ipsecdir);
	if (d->n_err != errs0) {
		conf_free(p.c);
		return NULL;
	}
	return p.c;
}

struct conf *conf_load(const char *path, struct diag *d)
{
	return load(path, path, NULL, 0, d);
}

/* A name starting with '<' ("<fuzz>", "<stdin>") has no directory: include is an error
 * there, so untrusted text cannot make the parser read files. */
struct conf *conf_load_buf(const char *name, const char *text, size_t len, struct diag *d)
{
	return load(name ? name : "<buffer>", NULL, text ? text : "", text ? len : 0, d);
}
