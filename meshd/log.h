/* log.h — daemon logging and configuration diagnostics.
 *
 * Logging goes to stderr with sd-daemon "<N>" priority prefixes (under systemd or with
 * --stderrlog) or to syslog. A struct log lives in the daemon context; there is no global
 * logger. Nothing secret is ever logged.
 *
 * Diagnostics (struct diag) collect "file:line: message" reports from the parsers so that
 * the daemon can log them and meshctl check can print them on stderr. */
#ifndef MESHD_LOG_H
#define MESHD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

enum log_sink { LOG_SINK_STDERR, LOG_SINK_SYSLOG, LOG_SINK_NONE };

struct log {
	enum log_sink sink;
	enum log_level max;       /* messages above this level are dropped */
	bool prefix_prio;         /* "<N>" prefixes for journald */
	FILE *fp;                 /* for LOG_SINK_STDERR (stderr unless a test sets another) */
	const char *ident;        /* syslog ident / stderr prefix, may be NULL */
};

void log_init(struct log *l, enum log_sink sink, bool debug, const char *ident);
void log_fini(struct log *l);
void log_msg(struct log *l, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(struct log *l, enum log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(l, ...)    log_msg((l), LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(l, ...)   log_msg((l), LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(l, ...) log_msg((l), LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(l, ...)   log_msg((l), LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(l, ...)  log_msg((l), LOG_LVL_DEBUG, __VA_ARGS__)

/* Parser diagnostics. */
enum diag_sev { DIAG_WARN, DIAG_ERR };

struct diag;
typedef void (*diag_fn)(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
			const char *msg);

struct diag {
	diag_fn fn;               /* may be NULL: only count */
	void *arg;                /* for fn */
	unsigned n_err, n_warn;
};

/* file may be NULL (no location); line 0 means "whole file". */
void diag_report(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Ready-made sinks: print "file:line: warning: msg" to the FILE* in d->arg, or log it
 * through the struct log * in d->arg. */
void diag_to_file(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		  const char *msg);
void diag_to_log(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		 const char *msg);

#endif
