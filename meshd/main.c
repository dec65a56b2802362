/* main.c — meshd: command line, daemonising, systemd notification, the event loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: meshd [--config FILE] [--ctlsocket PATH] [--policies-dir DIR]\n"
		"             [--nofork] [--stderrlog] [--debug]\n"
		"       meshd --flush [--config FILE] [--ctlsocket PATH]\n"
		"       meshd --version\n"
		"Opportunistic IPsec mesh agent; see meshd(8).\n");
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if (n >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, n);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

struct watchdog {
	struct loop *loop;
	uint64_t every_ms;
};

static void watchdog_tick(void *arg)
{
	struct watchdog *w = arg;
	notify("WATCHDOG=1");
	loop_timer_add(w->loop, w->every_ms, watchdog_tick, w);
}

/* meshd --flush: remove what a stopped meshd left failing closed (DESIGN.md 2.5), for an
 * operator who uninstalls or disables it. Refuses while a meshd answers. */
static int run_flush(const struct meshd_opts *o)
{
	struct meshd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return 1;
	log_init(&ctx->log, LOG_SINK_STDERR, o->debug, "meshd");
	int r = daemon_flush(ctx, o);
	if (r == -EADDRINUSE)
		fprintf(stderr, "meshd --flush: meshd is running; stop it first, or use "
			"meshctl shutdown --flush\n");
	log_fini(&ctx->log);
	free(ctx);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ctlsocket", required_argument, NULL, 's' },
		{ "policies-dir", required_argument, NULL, 'p' },
		{ "nofork", no_argument, NULL, 'n' },
		{ "stderrlog", no_argument, NULL, 'e' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "flush", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct meshd_opts o = { .config = CONF_DEFAULT_PATH };
	int c;
	bool flush = false;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 's': o.ctlsocket = optarg; break;
		case 'p': o.policies_dir = optarg; break;
		case 'n': o.nofork = true; break;
		case 'e': o.stderrlog = true; break;
		case 'd': o.debug = true; break;
		case 'F': flush = true; break;
		case 'V': printf("meshd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (flush)
		return run_flush(&o);

	/* Daemonise before anything binds: the parent waits for the child to say it is
	 * ready (or why it is not) through a pipe, so "meshd && meshctl status" works. */
	int ready[2] = { -1, -1 };
	if (!o.nofork) {
		if (pipe(ready) < 0) {
			perror("meshd: pipe");
			return 1;
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("meshd: fork");
			return 1;
		}
		if (pid > 0) {
			close(ready[1]);
			char st = 1;
			if (read(ready[0], &st, 1) != 1)
				st = 1;
			return st;
		}
		close(ready[0]);
		setsid();
	}

	if (daemon_block_signals() < 0) {
		perror("meshd: blocking signals");
		return 1;
	}
	struct meshd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return 1;
	bool to_stderr = o.stderrlog || (o.nofork && getenv("JOURNAL_STREAM"));
	log_init(&ctx->log, to_stderr ? LOG_SINK_STDERR : LOG_SINK_SYSLOG, o.debug, "meshd");
	int r = daemon_start(ctx, &o);
	if (r < 0) {
		log_err(&ctx->log, "meshd did not start: %s", strerror(-r));
		daemon_stop(ctx);
		log_fini(&ctx->log);
		free(ctx);
		if (ready[1] >= 0) {
			char st = 1;
			if (write(ready[1], &st, 1) < 0)
				return 1;
		}
		return 1;
	}
	log_info(&ctx->log, "meshd %s started", PACKAGE_VERSION);
	notify("READY=1");
	if (ready[1] >= 0) {
		char st = 0;
		if (write(ready[1], &st, 1) < 0)
			log_warn(&ctx->log, "cannot tell the parent process we are ready");
		close(ready[1]);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			if (!to_stderr)
				dup2(devnull, 2);
			if (devnull > 2)
				close(devnull);
		}
	}
	struct watchdog wd = { .loop = ctx->loop };
	const char *wusec = getenv("WATCHDOG_USEC");
	if (wusec && atoll(wusec) > 0) {
		wd.every_ms = (uint64_t)atoll(wusec) / 2000;
		loop_timer_add(ctx->loop, wd.every_ms, watchdog_tick, &wd);
	}
	r = loop_run(ctx->loop);
	notify("STOPPING=1");
	log_info(&ctx->log, "meshd stopping%s", r < 0 ? " after an event loop error" : "");
	daemon_stop(ctx);
	log_fini(&ctx->log);
	free(ctx);
	return r < 0 ? 1 : 0;
}
