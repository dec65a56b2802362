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
	size_t policies_put, policies_del;   /* kernel policies added/replaced, deleted */
	unsigned conf_errors, conf_warnings;
	char error_text[1024];        /* the config errors, "file:line: msg" a line (!ok) */
};

/* Start: load the config and group files, install the kernel state, open the sockets.
 * If ctx->kern.ops is already set (tests), that kernel is used. Returns 0 or -errno with
 * the reason logged. */
int daemon_start(struct meshd_ctx *ctx, const struct meshd_opts *opts);
/* Re-read config, groups and host addresses; apply only the difference. */
void daemon_reload(struct meshd_ctx *ctx, struct reload_result *res);
/* Close everything and free ctx state. The SAs and shunts leave the kernel; the group
 * entries' policies stay failing closed (private blocked, see kernel_stop_set) with the
 * nft inbound table, for the next start to replace in place. With ctx->flush_on_stop
 * (meshctl shutdown --flush) everything meshd installed is removed instead. */
void daemon_stop(struct meshd_ctx *ctx);
/* meshd --flush: with no meshd running (-EADDRINUSE if one answers on the control
 * socket), remove every policy in meshd's priority band and the nft table. 0 or -errno. */
int daemon_flush(struct meshd_ctx *ctx, const struct meshd_opts *opts);

/* Block SIGHUP, SIGTERM and SIGINT in the calling thread, before daemon_start: every
 * thread made later (the DNS worker, library threads) inherits the mask, so these signals
 * reach only the event loop's signalfd. A thread that left SIGTERM unblocked took it with
 * its default action: meshd died without its stop path (the traps not turned into blocks,
 * its SAs left behind), and SIGHUP killed it instead of reloading. A signal sent while
 * daemon_start runs waits, and is handled by the loop's first turn. 0 or -errno. */
int daemon_block_signals(void);

/* The host's addresses (getifaddrs); replaces *h. 0 or -errno. */
int daemon_host_addrs(struct host_addrs *h);

#endif
