/* fuzz_create_child.c — arbitrary CREATE_CHILD_SA requests into an established IKE SA
 * (x_create.c's responder: REKEY_SA lookup, ESP and IKE proposals, KE, nonces, traffic
 * selectors, the answers). Two daemons in one process on mock kernels (no sockets), A
 * and B, have one IKE SA with one Child SA; each input is the inner payload chain of one
 * request from A, sealed with the IKE SA's real keys so that it gets past the integrity
 * check and reaches the handlers:
 *
 *   first payload type (1) | payload chain (rest)
 *
 * B's answer goes back to A. When an input changed the SAs (a rekey that worked, an SA
 * that died), both daemons start again, so the Child SA's SPIs are the first ones the
 * mock kernel hands out and the captured seeds' REKEY_SA SPI keeps matching. The seed
 * corpus is the inner payloads test_exchange_rekey captures (MESHD_WRITE_CORPUS=dir). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "exchange.h"
#include "kernel_mock.h"
#include "oe.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 64

struct qpkt {
	uint8_t *p;
	size_t n;
	struct addr from, to;
	uint16_t sport, dport;
};

static struct meshd_ctx *node[2];
static struct addr addr[2];
static char dir[64];
static struct qpkt q[QMAX];
static size_t nq;
static struct crypto *nss_ref;    /* keeps NSS up while the daemons come and go */

static int qsend(void *arg, const uint8_t *p, size_t n, const struct addr *from, uint16_t sport,
		 const struct addr *to, uint16_t dport)
{
	(void)arg;
	if (nq == QMAX || !(q[nq].p = malloc(n)))
		return 0;
	memcpy(q[nq].p, p, n);
	q[nq] = (struct qpkt){ q[nq].p, n, *from, *to, sport, dport };
	nq++;
	return 0;
}

static void pump(void)
{
	for (size_t i = 0; i < nq && i < 256; i++) {
		struct qpkt k = q[i];
		int to = addr_eq(&k.to, &addr[0]) ? 0 : addr_eq(&k.to, &addr[1]) ? 1 : -1;
		if (to >= 0)
			ike_input(node[to]->ike, k.p, k.n, &k.from, k.sport, &k.to, k.dport, -1);
		free(k.p);
		q[i].p = NULL;
	}
	nq = 0;
}

static void put(const char *sub, const char *name, const char *text)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
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

static void node_start(int i)
{
	static const char *const sub[2] = { "a", "b" };
	char conf[160], sock[160], pol[160];
	snprintf(conf, sizeof(conf), "%s/%s/meshd.conf", dir, sub[i]);
	snprintf(sock, sizeof(sock), "%s/%s/ctl", dir, sub[i]);
	snprintf(pol, sizeof(pol), "%s/%s", dir, sub[i]);
	node[i] = calloc(1, sizeof(*node[i]));
	if (!node[i])
		abort();
	log_init(&node[i]->log, LOG_SINK_NONE, false, NULL);
	if (kmock_open(&node[i]->kern) < 0)
		abort();
	struct meshd_opts o = {
		.config = conf, .ctlsocket = sock, .policies_dir = pol,
		.nofork = true, .no_ike_sockets = true, .no_signals = true, .no_nft = true,
	};
	if (daemon_start(node[i], &o) < 0 || !node[i]->ike)
		abort();
	ike_set_send(node[i]->ike, qsend, NULL);
}

/* Both daemons, and the IKE SA A -> B with its Child SA. */
static void up(void)
{
	for (int i = 0; i < 2; i++)
		node_start(i);
	struct kacquire acq = { 0 };
	acq.sel.src.a = addr[0];
	acq.sel.dst.a = addr[1];
	acq.sel.src.len = acq.sel.dst.len = 32;
	const struct pol_entry *e = policy_classify(node[0]->pol, &addr[1], 0, 0, 0);
	acq.reqid = e ? e->reqid : 0;
	oe_acquire(node[0], &acq);
	pump();
}

static void down(void)
{
	pump();
	for (int i = 0; i < 2; i++) {
		daemon_stop(node[i]);
		free(node[i]);
		node[i] = NULL;
	}
}

static void setup(void)
{
	static const char conf[] =
		"config setup\n\tshuntlifetime=60s\n\n"
		"conn private\n\tauto=ondemand\n\ttype=transport\n\tauthby=null\n"
		"\tfailureshunt=drop\n\tnegotiationshunt=drop\n\tleft=%defaultroute\n"
		"\tleftid=%null\n\trightid=%null\n\tright=%opportunisticgroup\n";
	snprintf(dir, sizeof(dir), "/tmp/meshd-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	for (int i = 0; i < 2; i++) {
		char p[96];
		snprintf(p, sizeof(p), "%s/%s", dir, i ? "b" : "a");
		if (mkdir(p, 0700) < 0)
			abort();
		put(i ? "b" : "a", "meshd.conf", conf);
		put(i ? "b" : "a", "private", "10.0.0.0/16\n");
	}
	if (!addr_parse("10.0.1.1", &addr[0]) || !addr_parse("10.0.2.2", &addr[1]))
		abort();
	if (crypto_init(&nss_ref, NULL) < 0)
		abort();
	up();
}

/* The established pair as up() left it? */
static bool pristine(void)
{
	struct ike_counts a, b;
	ike_counts(node[0]->ike, &a);
	ike_counts(node[1]->ike, &b);
	return a.ike_established == 1 && b.ike_established == 1 && a.ike_total == 1 &&
	       b.ike_total == 1 && a.child_total == 1 && b.child_total == 1 &&
	       sa_child_count(node[1]->ike->sas) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!node[0])
		setup();
	if (size < 1)
		return 0;
	struct ike_sa *sa = sa_ike_at(node[0]->ike->sas, 0);
	struct msg_out m;
	struct buf out = { 0 };
	if (!sa || sa->state != IKES_ESTABLISHED ||
	    msg_start(sa, &m, IKE_XCHG_CREATE_CHILD_SA, false, sa->msgid_next, true) < 0)
		abort();
	/* the inner payloads as they are: the SK payload's Next Payload names the first */
	m.e.skf = true;
	(void)ike_emit_sk_bytes(&m.e, data + 1, size - 1);
	m.e.skf = false;
	m.w.p[m.e.sk_at] = data[0];
	if (msg_seal(sa, &m, &out) == 0)
		msg_send_request(node[0]->ike, sa, &out);
	buf_free(&out);
	pump();
	pump();
	if (!pristine()) {
		down();
		up();
	} else if (sa->req_out) {
		/* B dropped it: forget the request rather than retransmit */
		msg_request_done(node[0]->ike, sa);
		sa->msgid_next--;
	}
	return 0;
}
