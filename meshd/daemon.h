/* daemon.h — one meshd instance's life: start, reload, stop (everything hangs off ctx). */
#ifndef MESHD_DAEMON_H
#define MESHD_DAEMON_H

#include "ctx.h"
#include "kernel_apply.h"

struct reload_result {
	bool ok;                      /* false: the new config had errors; nothing changed */
	size_t added, removed, changed, unchanged;   /* group entries */
	size_t kernel_failed;         /* kernel policies refused (logged) */
	size_t shunts_dropped;        /* shunts whose peer's group changed */
	size_t sas_deleted;           /* IKE SAs whose group entry was removed or changed */
	unsigned conf_errors, conf_warnings;
};

/* Start: load the config and group files, install the kernel state, open the sockets.
 * If ctx->kern.ops is already set (tests), that kernel is used. Returns 0 or -errno with
 * the reason logged. */
int daemon_start(struct meshd_ctx *ctx, const struct meshd_opts *opts);
/* Re-read config, groups and host addresses; apply only the difference. */
void daemon_reload(struct meshd_ctx *ctx, struct reload_result *res);
/* Remove everything meshd installed in the kernel, close everything, free ctx state. */
void daemon_stop(struct meshd_ctx *ctx);

/* The host's addresses (getifaddrs); replaces *h. 0 or -errno. */
int daemon_host_addrs(struct host_addrs *h);

#endif
