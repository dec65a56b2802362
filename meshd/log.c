/* log.c — logging to stderr (journald-friendly) or syslog; parser diagnostics. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

void log_init(struct log *l, enum log_sink sink, bool debug, const char *ident)
{
	memset(l, 0, sizeof(*l));
	l->sink = sink;
	l->max = debug ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	l->fp = stderr;
	l->ident = ident;
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal; it then
	 * reads "<N>" priority prefixes (sd-daemon(3)). */
	l->prefix_prio = getenv("JOURNAL_STREAM") != NULL;
	if (sink == LOG_SINK_SYSLOG)
		openlog(ident ? ident : "meshd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_fini(struct log *l)
{
	if (l->sink == LOG_SINK_SYSLOG)
		closelog();
	l->sink = LOG_SINK_NONE;
}

void log_vmsg(struct log *l, enum log_level lvl, const char *fmt, va_list ap)
{
	if (!l || lvl > l->max || l->sink == LOG_SINK_NONE)
		return;
	if (l->sink == LOG_SINK_SYSLOG) {
		vsyslog((int)lvl, fmt, ap);
		return;
	}
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	static const char *const names[] = {
		[LOG_LVL_ERR] = "error: ", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_NOTICE] = "", [LOG_LVL_INFO] = "", [LOG_LVL_DEBUG] = "debug: ",
	};
	if (l->prefix_prio)
		fprintf(l->fp, "<%d>%s\n", (int)lvl, line);
	else
		fprintf(l->fp, "%s%s%s%s\n", l->ident ? l->ident : "", l->ident ? ": " : "",
			names[lvl], line);
	fflush(l->fp);
}

void log_msg(struct log *l, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(l, lvl, fmt, ap);
	va_end(ap);
}

void diag_report(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == DIAG_ERR)
		d->n_err++;
	else
		d->n_warn++;
	if (d->fn)
		d->fn(d, sev, file, line, msg);
}

static void diag_format(char *out, size_t n, enum diag_sev sev, const char *file, unsigned line,
			const char *msg)
{
	const char *s = sev == DIAG_ERR ? "error" : "warning";
	if (file && line)
		snprintf(out, n, "%s:%u: %s: %s", file, line, s, msg);
	else if (file)
		snprintf(out, n, "%s: %s: %s", file, s, msg);
	else
		snprintf(out, n, "%s: %s", s, msg);
}

void diag_to_file(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		  const char *msg)
{
	char buf[1400];
	diag_format(buf, sizeof(buf), sev, file, line, msg);
	fprintf(d->arg ? (FILE *)d->arg : stderr, "%s\n", buf);
}

void diag_to_log(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
		 const char *msg)
{
	char buf[1400];
	/* the log adds its own "warning: "/"error: " tag, so format without it */
	if (file && line)
		snprintf(buf, sizeof(buf), "%s:%u: %s", file, line, msg);
	else if (file)
		snprintf(buf, sizeof(buf), "%s: %s", file, msg);
	else
		snprintf(buf, sizeof(buf), "%s", msg);
	log_msg((struct log *)d->arg, sev == DIAG_ERR ? LOG_LVL_ERR : LOG_LVL_WARN, "%s", buf);
}
