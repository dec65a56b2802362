/* control_priv.h — the control module's internal split (control.c, control_sa.c). */
#ifndef MESHD_CONTROL_PRIV_H
#define MESHD_CONTROL_PRIV_H

#include <stdbool.h>
#include <stdio.h>

struct meshd_ctx;

int ctl_trafficstatus(struct meshd_ctx *ctx, bool json, FILE *out);
int ctl_up(struct meshd_ctx *ctx, const char *arg, FILE *out);
int ctl_down(struct meshd_ctx *ctx, const char *arg, FILE *out);
/* The established SAs with peer for `why` (text lines, or a JSON array); returns how many. */
struct addr;
size_t ctl_why_sas(struct meshd_ctx *ctx, const struct addr *peer, bool json, FILE *out);

#endif
