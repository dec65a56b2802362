/* dns_probe.c — test driver for the dns module: look up NAME/IPSECKEY through dns.c against
 * an explicit server with explicit trust anchors and print the outcome, for
 * tests/netlink/dnssec.sh.
 *
 *   dns_probe --server ADDR [--port N] --anchors GLOB [--peer ADDR] [--now UNIXTIME]
 *             [--sync] [--no-dnssec] NAME
 *   dns_probe --record OWNER SPKI.der [PRECEDENCE]     (print the zone-file line)
 *
 * Output: "status=S ttl=T keys=N skipped=M" then "reason=..." then one "key alg=A bits=B
 * spki=BASE64" per key. Exit 0 if the lookup ran (whatever its status), 1 on a set-up
 * error, 2 on usage. Without --sync the lookup goes through the worker thread and the
 * event loop, as in the daemon. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "ipseckey.h"
#include "log.h"
#include "loop.h"

static void print_result(const struct dns_result *r)
{
	printf("status=%s ttl=%u keys=%zu skipped=%zu\n", dns_status_name(r->status), r->ttl_s,
	       r->n_keys, r->n_skipped);
	printf("reason=%s\n", r->reason);
	for (size_t i = 0; i < r->n_keys; i++) {
		struct buf b;
		if (ipseckey_b64_encode(r->keys[i].spki.p, r->keys[i].spki.len, &b) != 0)
			exit(1);
		printf("key alg=%u bits=%u spki=%s\n", r->keys[i].alg, r->keys[i].bits, (char *)b.p);
		buf_free(&b);
	}
}

struct wait {
	struct loop *loop;
	bool done;
	uint32_t serial;
};

static void on_result(struct dns_result *r, void *arg)
{
	struct wait *w = arg;
	if (r->serial != w->serial)
		abort();
	print_result(r);
	w->done = true;
	loop_stop(w->loop);
}

static int record(int argc, char **argv)
{
	FILE *f;
	uint8_t der[8192], alg;
	size_t n;
	struct buf key, line;

	if (argc < 4)
		return 2;
	f = fopen(argv[3], "rb");
	if (f == NULL)
		return 1;
	n = fread(der, 1, sizeof(der), f);
	fclose(f);
	if (ipseckey_from_spki(der, n, &alg, &key) != 0 ||
	    ipseckey_record_str(argv[2], (uint8_t)(argc > 4 ? atoi(argv[4]) : 10), NULL, alg, key.p,
				key.len, &line) != 0)
		return 1;
	fputs((char *)line.p, stdout);
	buf_free(&key);
	buf_free(&line);
	return 0;
}

int main(int argc, char **argv)
{
	struct dns_config cfg = { .dnssec_enable = true, .timeout_ms = 1000, .tries = 2 };
	struct addr peer = { 0 };
	const char *name = NULL;
	bool sync = false;
	struct log log;
	struct dns *d;
	struct loop *loop = NULL;
	int r;

	if (argc > 1 && strcmp(argv[1], "--record") == 0)
		return record(argc, argv);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--sync") == 0) {
			sync = true;
		} else if (strcmp(a, "--no-dnssec") == 0) {
			cfg.dnssec_enable = false;
		} else if (v == NULL && a[0] == '-') {
			return 2;
		} else if (strcmp(a, "--server") == 0) {
			cfg.server = argv[++i];
		} else if (strcmp(a, "--port") == 0) {
			cfg.port = (uint16_t)atoi(argv[++i]);
		} else if (strcmp(a, "--anchors") == 0) {
			cfg.anchors = argv[++i];
		} else if (strcmp(a, "--now") == 0) {
			cfg.now = (time_t)strtoll(argv[++i], NULL, 10);
		} else if (strcmp(a, "--peer") == 0) {
			if (!addr_parse(argv[++i], &peer))
				return 2;
		} else if (a[0] != '-' && name == NULL) {
			name = a;
		} else {
			return 2;
		}
	}
	if (name == NULL || cfg.server == NULL) {
		fprintf(stderr, "usage: dns_probe --server ADDR [--port N] --anchors GLOB "
			"[--peer ADDR] [--now T] [--sync] [--no-dnssec] NAME\n");
		return 2;
	}
	log_init(&log, LOG_SINK_STDERR, getenv("DNS_PROBE_DEBUG") != NULL, "dns_probe");
	if (!sync && (loop = loop_new()) == NULL)
		return 1;
	r = dns_new(&d, &cfg, loop, &log);
	if (r != 0) {
		fprintf(stderr, "dns_new: %s\n", strerror(-r));
		loop_free(loop);
		return 1;
	}
	if (sync) {
		struct dns_result res;
		r = dns_lookup_sync(d, name, peer.family ? &peer : NULL, &res);
		print_result(&res);
		dns_result_fini(&res);
	} else {
		struct wait w = { .loop = loop, .serial = 42 };
		/* a cancelled lookup never calls back; the kept one does */
		r = dns_lookup_ipseckey(d, 41, name, peer.family ? &peer : NULL, on_result, &w);
		if (r == 0)
			dns_cancel(d, 41);
		if (r == 0)
			r = dns_lookup_ipseckey(d, 42, name, peer.family ? &peer : NULL, on_result, &w);
		if (r == 0)
			r = loop_run(loop);
		if (!w.done)
			r = -EIO;
	}
	dns_free(d);
	loop_free(loop);
	log_fini(&log);
	return r == 0 ? 0 : 1;
}
