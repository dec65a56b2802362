/* fuzz_exchange.c — arbitrary datagrams into a responder daemon's IKE engine (mock
 * kernel, no sockets): the dispatcher, IKE_SA_INIT responder, message-ID and SK checks.
 * After each input every SA with the fake peer is deleted, so inputs stay independent
 * and memory stays bounded; ASan/LSan see any overreach or leak. The seed corpus is the
 * handshake tests/exchange/test_exchange captures (MESHD_WRITE_CORPUS=dir). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "ike.h"
#include "kernel_mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct meshd_ctx *ctx;
static struct addr peer, self;
static char dir[64];

static int discard(void *arg, const uint8_t *p, size_t n, const struct addr *from,
		   uint16_t sport, const struct addr *to, uint16_t dport)
{
	return 0;
}

static void put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/meshd-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	put("meshd.conf", "config setup\n\tshuntlifetime=60s\n\n"
			  "conn private-or-clear\n\tauto=ondemand\n\ttype=transport\n"
			  "\tauthby=null\n\tfailureshunt=passthrough\n"
			  "\tnegotiationshunt=passthrough\n\tleft=%defaultroute\n"
			  "\tleftid=%null\n\trightid=%null\n\tright=%opportunisticgroup\n");
	put("private-or-clear", "10.0.0.0/16\n");
	ctx = calloc(1, sizeof(*ctx));
	log_init(&ctx->log, LOG_SINK_NONE, false, NULL);
	if (!ctx || kmock_open(&ctx->kern) < 0)
		abort();
	char conf[128], sock[128];
	snprintf(conf, sizeof(conf), "%s/meshd.conf", dir);
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	struct meshd_opts o = {
		.config = conf, .ctlsocket = sock, .policies_dir = dir,
		.nofork = true, .no_ike_sockets = true, .no_signals = true,
	};
	if (daemon_start(ctx, &o) < 0 || !ctx->ike)
		abort();
	ike_set_send(ctx->ike, discard, NULL);
	if (!addr_parse("10.0.1.1", &peer) || !addr_parse("10.0.2.2", &self))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx)
		setup();
	ike_input(ctx->ike, data, size, &peer, 500, &self, 500, -1);
	ike_down(ctx->ike, &peer);
	return 0;
}
