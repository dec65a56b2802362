/* control.h — the control socket server; the only code that formats status output. */
#ifndef MESHD_CONTROL_H
#define MESHD_CONTROL_H

#include <stdio.h>

struct meshd_ctx;

/* Create the control socket (ctx->opts.ctlsocket or the config's), mode 0600, and watch
 * it. Refuses when another daemon answers on that path. 0 or -errno. */
int ctl_open(struct meshd_ctx *ctx);
/* -EADDRINUSE (logged) when a live meshd answers on our control socket path, else 0. */
int ctl_in_use(struct meshd_ctx *ctx);
void ctl_close(struct meshd_ctx *ctx);
/* Run one request (argv as the client sent it) and write the output to out; returns the
 * exit status for meshctl. Exposed for tests, which call it without a socket. */
int ctl_execute(struct meshd_ctx *ctx, int argc, char **argv, FILE *out);

#endif
