/* test_exchange.c — the IKEv2 exchanges with NULL authentication between two meshd
 * daemons in one process (the network is xnet.h): the OE happy path in both modes,
 * retransmits, INVALID_KE, NO_PROPOSAL_CHOSEN, traffic selectors, AUTHENTICATION_FAILED,
 * a kernel without ESP, a clear peer, Delete, duplicates and corrupted messages.
 * Certificates are in test_exchange_cert.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "exchange.h"
#include "ike.h"
#include "kernel_mock.h"
#include "loop.h"
#include "oe.h"
#include "shunt.h"
#include "unit.h"
#include "xnet.h"

/* A's and B's Child SAs are mirror images: A's outbound SA is B's inbound SA (same SPI,
 * same keys) and the other way round. */
static void assert_crosswise(struct net *net, bool tunnel)
{
	struct child_list a, b;
	children(net, 0, &a);
	children(net, 1, &b);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(a.c[0].spi_out, b.c[0].spi_in);
	ck_assert_uint_eq(a.c[0].spi_in, b.c[0].spi_out);
	ck_assert_str_eq(a.c[0].peer_id, "ID_NULL");
	ck_assert_int_eq(a.c[0].tunnel, tunnel);
	struct kernel *ka = &net->node[0].ctx->kern, *kb = &net->node[1].ctx->kern;
	const struct addr *A = &net->node[0].addr, *B = &net->node[1].addr;
	const struct ksa *a_out = kmock_sa_find(ka, B, a.c[0].spi_out);
	const struct ksa *b_in = kmock_sa_find(kb, B, b.c[0].spi_in);
	const struct ksa *a_in = kmock_sa_find(ka, A, a.c[0].spi_in);
	const struct ksa *b_out = kmock_sa_find(kb, A, b.c[0].spi_out);
	ck_assert_ptr_nonnull(a_out);
	ck_assert_ptr_nonnull(b_in);
	ck_assert_ptr_nonnull(a_in);
	ck_assert_ptr_nonnull(b_out);
	ck_assert_str_eq(a_out->aead_name, "rfc4106(gcm(aes))");
	ck_assert_uint_eq(a_out->enc_key_len, 36);         /* 256-bit key + 4-byte salt */
	ck_assert_uint_eq(a_out->enc_key_len, b_in->enc_key_len);
	ck_assert_mem_eq(a_out->enc_key, b_in->enc_key, a_out->enc_key_len);
	ck_assert_mem_eq(a_in->enc_key, b_out->enc_key, a_in->enc_key_len);
	ck_assert(memcmp(a_in->enc_key, a_out->enc_key, a_in->enc_key_len) != 0);
	ck_assert_int_eq(a_out->tunnel, tunnel);
	ck_assert_int_eq(b_in->tunnel, tunnel);
	ck_assert_uint_eq(b_in->replay_window, 128);
	ck_assert(a_out->esn);
	ck_assert_uint_eq(kmock_sa_count(ka), 2);
	ck_assert_uint_eq(kmock_sa_count(kb), 2);
}

/* ---- the OE happy path ----
 *   A: ACQUIRE 10.0.1.1 -> 10.0.2.2, negotiation shunt
 *   HDR, SAi1, KEi, Ni -->
 *                          <-- HDR, SAr1, KEr, Nr
 *   HDR, SK {IDi, IDr, AUTH, SAi2, TSi, TSr, N(USE_TRANSPORT_MODE)} -->
 *                          <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr, N(USE_TRANSPORT_MODE)}
 *   both: ESP SAs in/out, /32 policies; A's negotiation shunt replaced. */
static void happy(bool tunnel)
{
	struct node_conf nc = { .type = tunnel ? "tunnel" : "transport" };
	struct net *net = net_new(&nc, &nc);
	struct meshd_ctx *A = net->node[0].ctx, *B = net->node[1].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 1, 0);
	/* negotiating: the drop shunt is there, one IKE_SA_INIT is queued */
	ck_assert_ptr_nonnull(shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr));
	ck_assert_uint_eq(net->nq, 1);
	ck_assert_uint_eq(counts(net, 0).ike_half_open, 1);
	ck_assert_uint_eq(pump(net), 4);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	ck_assert_uint_eq(counts(net, 1).ike_established, 1);
	ck_assert_uint_eq(counts(net, 0).ike_anonymous, 1);
	assert_crosswise(net, tunnel);
	/* policies: out replaces the shunt (same selector), in, and fwd for tunnel mode */
	const struct kpolicy *p = find_pol(A, "10.0.1.1/32", "10.0.2.2/32", KDIR_OUT, 0, 0, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_IPSEC);
	ck_assert_int_eq(p->tunnel, tunnel);
	ck_assert(addr_eq(&p->tmpl_dst, &net->node[1].addr));
	ck_assert_ptr_null(shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr));
	p = find_pol(A, "10.0.2.2/32", "10.0.1.1/32", KDIR_IN, 0, 0, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_IPSEC);
	ck_assert_int_eq(find_pol(A, "10.0.2.2/32", "10.0.1.1/32", KDIR_FWD, 0, 0, 0) != NULL,
			 tunnel);
	ck_assert_ptr_nonnull(find_pol(B, "10.0.2.2/32", "10.0.1.1/32", KDIR_OUT, 0, 0, 0));
	ck_assert_ptr_nonnull(find_pol(B, "10.0.1.1/32", "10.0.2.2/32", KDIR_IN, 0, 0, 0));
	ck_assert_msg(strstr(logs(net, 0), "IKE SA #1 established with 10.0.2.2 "
				"(AES_GCM_16_256, X25519, NULL)"), "%s", logs(net, 0));
	ck_assert_msg(strstr(logs(net, 1), "established with 10.0.1.1 (AES_GCM_16_256, X25519, "
				"NULL)"), "%s", logs(net, 1));
	/* a further ACQUIRE for the pair starts nothing */
	uint64_t attempts = A->stats.attempts;
	acquire(A, "10.0.1.1", "10.0.2.2", 6, 80);
	ck_assert_uint_eq(A->stats.attempts, attempts);
	ck_assert_uint_eq(net->nq, 0);
	/* no retransmits later on, nothing dies */
	advance(net, 30000);
	ck_assert_uint_eq(net->nq, 0);
	ck_assert_uint_eq(counts(net, 0).child_total, 1);
	net_free(net);
}

START_TEST(oe_null_transport)
{
	happy(false);
}
END_TEST

START_TEST(oe_null_tunnel)
{
	happy(true);
}
END_TEST

/* ---- retransmits, then the failure shunt ----
 *   HDR, SAi1, KEi, Ni -->  (lost)  at 0, 0.5, 1.5, 3.5, 7.5 s; gives up at 10 s */
START_TEST(retransmit_then_timeout)
{
	struct net *net = net_new(NULL, NULL);
	struct meshd_ctx *A = net->node[0].ctx;
	net->drop_all = true;
	acquire(A, "10.0.1.1", "10.0.2.2", 17, 0);
	ck_assert_uint_eq(net->sent[0], 1);
	uint64_t t = 0;
	while (t < 9999) {
		advance(net, 1);
		t++;
	}
	ck_assert_uint_eq(net->sent[0], 5);
	ck_assert_uint_eq(counts(net, 0).retransmits, 4);
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_int_eq(sh->kind, SHUNT_NEGOTIATING);
	advance(net, 1);
	sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(sh->kind, SHUNT_FAILED);
	ck_assert_int_eq(sh->action, SHUNT_DROP);
	ck_assert_str_eq(sh->reason, "no response to IKE_SA_INIT after 10 s");
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(&A->kern), 0);
	advance(net, 60000);
	ck_assert_uint_eq(net->sent[0], 5);
	net_free(net);
}
END_TEST

/* ---- IKE_AUTH answered, but the answer is lost ----
 *   HDR, SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr, Nr
 *   HDR, SK {IDi, AUTH, SAi2, TSi, TSr} -->      (B establishes its Child SA)
 *                         X-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr}   (lost, and every resend)
 *   ... 10 s: HDR, SK {D(IKE)} -->               (once) B removes its one-sided SAs */
static bool is_queued_from(struct net *net, int sender)
{
	return net->nq && net->q[0].sender == sender;
}

START_TEST(auth_answer_lost_tells_responder)
{
	struct net *net = net_new(NULL, NULL);
	struct meshd_ctx *A = net->node[0].ctx, *B = net->node[1].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 17, 0);
	ck_assert_uint_eq(pump_one(net), 1);          /* IKE_SA_INIT request */
	ck_assert_uint_eq(pump_one(net), 1);          /* IKE_SA_INIT response */
	ck_assert_uint_eq(pump_one(net), 1);          /* IKE_AUTH request: B establishes */
	ck_assert_uint_eq(kmock_sa_count(&B->kern), 2);
	ck_assert(is_queued_from(net, 1));
	flush(net);                                   /* B's answer is lost */
	net->drop_all = true;                         /* and so is every resend */
	for (int i = 0; i < 9990; i++)
		advance(net, 1);
	flush(net);
	net->drop_all = false;
	advance(net, 20);                             /* A gives up: one D(IKE) */
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_str_eq(sh->reason, "no response to IKE_AUTH after 10 s");
	ck_assert_uint_eq(pump(net), 2);              /* D(IKE) and B's answer, ignored by A */
	ck_assert_uint_eq(kmock_sa_count(&B->kern), 0);
	ck_assert_uint_eq(counts(net, 1).child_total, 0);
	advance(net, 30000);
	ck_assert_uint_eq(net->nq, 0);                /* not retransmitted */
	net_free(net);
}
END_TEST

/* ---- INVALID_KE_PAYLOAD both ways ----
 *   HDR, SAi1, KEi(X25519), Ni -->
 *                          <-- HDR, N(INVALID_KE_PAYLOAD, ECP_256)
 *   HDR, SAi1, KEi(ECP_256), Ni -->  ... established with ECP_256 */
START_TEST(invalid_ke_retry)
{
	struct node_conf want19 = { .ike = "aes_gcm256-sha2_512;dh19" };
	for (int dir = 0; dir < 2; dir++) {
		struct net *net = dir ? net_new(&want19, NULL) : net_new(NULL, &want19);
		int ini = dir, resp = !dir;
		acquire(net->node[ini].ctx, dir ? "10.0.2.2" : "10.0.1.1",
			dir ? "10.0.1.1" : "10.0.2.2", 0, 0);
		ck_assert_uint_eq(pump(net), 6);
		ck_assert_uint_eq(counts(net, ini).ike_established, 1);
		ck_assert_uint_eq(counts(net, resp).ike_established, 1);
		ck_assert_msg(strstr(logs(net, ini), "peer answered INVALID_KE_PAYLOAD: retrying "
				     "with ECP_256 instead of X25519"), "%s", logs(net, ini));
		ck_assert_msg(strstr(logs(net, ini), "(AES_GCM_16_256, ECP_256, NULL)"), "%s",
			      logs(net, ini));
		/* the responder kept no state for the refused attempt: one IKE SA */
		ck_assert_uint_eq(counts(net, resp).ike_total, 1);
		net_free(net);
	}
	/* an initiator whose first group the responder also allows needs no retry */
	struct net *net = net_new(&want19, NULL);
	acquire(net->node[1].ctx, "10.0.2.2", "10.0.1.1", 0, 0);
	ck_assert_uint_eq(pump(net), 6);
	net_free(net);
	net = net_new(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 4);
	net_free(net);
}
END_TEST

/* ---- a retransmitted first request answered after the retry ----
 *   HDR, SAi1, KEi(X25519), Ni -->  (and its retransmission, before any answer)
 *                          <-- HDR, N(INVALID_KE_PAYLOAD, ECP_256)   x2
 *   HDR, SAi1, KEi(ECP_256), Ni -->   the second INVALID_KE is stale: ignored
 * (seen against Libreswan in a loaded TCG guest: meshd failed the attempt) */
START_TEST(invalid_ke_stale_answer)
{
	struct node_conf want19 = { .ike = "aes_gcm256-sha2_512;dh19" };
	struct net *net = net_new(NULL, &want19);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(net->nq, 1);
	advance(net, 700);
	ck_assert_uint_eq(net->nq, 2);       /* the request and its retransmission */
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	ck_assert_uint_eq(counts(net, 1).ike_established, 1);
	ck_assert_msg(!strstr(logs(net, 0), "sent already"), "%s", logs(net, 0));
	net_free(net);
}
END_TEST

/* ---- NO_PROPOSAL_CHOSEN ----
 *   HDR, SAi1(GCM, X25519), KEi, Ni -->
 *                          <-- HDR, N(NO_PROPOSAL_CHOSEN)   (B logs both lists) */
START_TEST(no_proposal_chosen)
{
	struct node_conf a = { .ike = "aes_gcm256-sha2_512;dh31" };
	struct node_conf b = { .ike = "aes128-sha2_256;dh14" };
	struct net *net = net_new(&a, &b);
	struct meshd_ctx *A = net->node[0].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 2);
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(sh->kind, SHUNT_FAILED);
	ck_assert_str_eq(sh->reason, "peer answered NO_PROPOSAL_CHOSEN");
	const char *lb = logs(net, 1);
	const char *np = strstr(lb, "no proposal chosen: ours [");
	ck_assert_msg(np, "%s", lb);
	ck_assert_msg(strstr(np, "AES_CBC_128") && strstr(np, "theirs [") &&
		      strstr(strstr(np, "theirs ["), "AES_GCM_16_256"), "%s", np);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	net_free(net);
}
END_TEST

/* ---- traffic selectors narrowed to the responder's port-specific group line ----
 *   A: 10.0.0.0/16 (any)   B: 10.0.1.1/32 tcp, B's port 7
 *   TSi = 10.0.1.1 any, TSr = 10.0.2.2 any -->  <-- TSi = 10.0.1.1 tcp, TSr = 10.0.2.2 tcp/7 */
START_TEST(ts_narrowed_to_port_entry)
{
	struct node_conf b = { .private_file = "10.0.1.1/32 tcp 7 0\n" };
	struct net *net = net_new(NULL, &b);
	struct meshd_ctx *A = net->node[0].ctx, *B = net->node[1].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 6, 7);
	ck_assert_uint_eq(pump(net), 4);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	const struct kpolicy *p = find_pol(A, "10.0.1.1/32", "10.0.2.2/32", KDIR_OUT, 6, 0, 7);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_IPSEC);
	ck_assert_ptr_nonnull(find_pol(B, "10.0.2.2/32", "10.0.1.1/32", KDIR_OUT, 6, 7, 0));
	ck_assert_ptr_nonnull(find_pol(B, "10.0.1.1/32", "10.0.2.2/32", KDIR_IN, 6, 0, 7));
	/* A's any-protocol negotiation shunt had another selector: it is gone too */
	ck_assert_ptr_null(shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr));
	ck_assert_ptr_null(find_pol(A, "10.0.1.1/32", "10.0.2.2/32", KDIR_OUT, 0, 0, 0));
	net_free(net);
}
END_TEST

/* ---- TS_UNACCEPTABLE: B negotiates with A only on tcp/7, A insists on udp/53 ---- */
START_TEST(ts_unacceptable)
{
	struct node_conf a = { .private_file = "10.0.2.2/32 udp 0 53\n" };
	struct node_conf b = { .private_file = "10.0.1.1/32 tcp 7 0\n" };
	struct net *net = net_new(&a, &b);
	struct meshd_ctx *A = net->node[0].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 17, 53);
	ck_assert_uint_eq(pump(net), 4);
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_str_eq(sh->reason, "peer answered TS_UNACCEPTABLE");
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 0);
	net_free(net);
}
END_TEST

/* ---- AUTHENTICATION_FAILED: B's group wants certificates, A offers NULL ---- */
START_TEST(auth_failed_gives_failure_shunt)
{
	struct node_conf b = { .authby = "rsasig" };
	struct net *net = net_new(NULL, &b);
	struct meshd_ctx *A = net->node[0].ctx;
	acquire(A, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 4);
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(sh->action, SHUNT_DROP);
	ck_assert_str_eq(sh->reason, "peer answered AUTHENTICATION_FAILED");
	ck_assert_msg(strstr(logs(net, 1), "AUTHENTICATION_FAILED: 10.0.1.1 used NULL"), "%s",
		      logs(net, 1));
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 0);
	net_free(net);
}
END_TEST

/* ---- a kernel without ESP: never pretend success ---- */
START_TEST(kernel_without_esp)
{
	struct net *net = net_new(NULL, NULL);
	struct meshd_ctx *A = net->node[0].ctx;
	kmock_sa_fail_add(&A->kern, EPROTONOSUPPORT);
	acquire(A, "10.0.1.1", "10.0.2.2", 0, 0);
	pump(net);
	const struct shunt *sh = shunt_find(A->shunts, &net->node[0].addr, &net->node[1].addr);
	ck_assert_ptr_nonnull(sh);
	ck_assert_str_eq(sh->reason, "kernel has no ESP");
	ck_assert_uint_eq(counts(net, 0).child_total, 0);
	ck_assert_ptr_null(find_pol(A, "10.0.2.2/32", "10.0.1.1/32", KDIR_IN, 0, 0, 0));
	net_free(net);
}
END_TEST

/* ---- a peer we classify as clear gets no answer, and `why` can tell ---- */
START_TEST(clear_peer_not_answered)
{
	struct node_conf b = { .private_file = "10.0.0.0/16\n", .clear_file = "10.0.1.1\n" };
	struct node_conf b2 = { .private_file = "", .clear_file = "10.0.1.1\n" };
	struct net *net = net_new(NULL, &b2);
	(void)b;
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	ck_assert_uint_eq(pump(net), 1);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).rx_ignored_policy, 1);
	const struct peer_diag *pd = peers_find(net->node[1].ctx->peers, &net->node[0].addr);
	ck_assert_ptr_nonnull(pd);
	ck_assert_msg(strstr(pd->last_note, "10.0.1.1 tried to negotiate; our policy makes it "
			     "clear at ") && strstr(pd->last_note, "policies/clear:1"), "%s",
		      pd->last_note);
	/* the retransmits are not answered either, and not logged again */
	advance(net, 600);
	ck_assert_uint_eq(pump(net), 1);
	ck_assert_uint_eq(counts(net, 1).rx_ignored_policy, 2);
	const char *lb = logs(net, 1);
	const char *first = strstr(lb, "tried to negotiate");
	ck_assert_ptr_null(strstr(first + 1, "tried to negotiate"));
	net_free(net);
}
END_TEST

/* ---- DELETE from either side ----
 *   HDR, SK {D(IKE)} -->   <-- HDR, SK {}
 * SAs and policies leave both kernels; the trap shows through again. */
START_TEST(delete_either_side)
{
	for (int side = 0; side < 2; side++) {
		struct net *net = net_new(NULL, NULL);
		struct meshd_ctx *A = net->node[0].ctx, *B = net->node[1].ctx;
		acquire(A, "10.0.1.1", "10.0.2.2", 0, 0);
		ck_assert_uint_eq(pump(net), 4);
		size_t base_a = kmock_count(&A->kern), base_b = kmock_count(&B->kern);
		ck_assert_uint_eq(ike_down(net->node[side].ctx->ike, &net->node[!side].addr), 1);
		ck_assert_uint_eq(pump(net), 2);
		for (int i = 0; i < 2; i++) {
			ck_assert_uint_eq(counts(net, i).ike_total, 0);
			ck_assert_uint_eq(counts(net, i).child_total, 0);
			ck_assert_uint_eq(kmock_sa_count(&net->node[i].ctx->kern), 0);
		}
		ck_assert_uint_eq(kmock_count(&A->kern), base_a - 2);
		ck_assert_uint_eq(kmock_count(&B->kern), base_b - 2);
		ck_assert_ptr_null(find_pol(A, "10.0.1.1/32", "10.0.2.2/32", KDIR_OUT, 0, 0, 0));
		const struct kpolicy *trap = find_pol(A, "0.0.0.0/0", "10.0.0.0/16", KDIR_OUT, 0, 0, 0);
		ck_assert_ptr_nonnull(trap);
		ck_assert_int_eq(trap->act, KACT_TRAP);
		/* the next packet negotiates again */
		uint64_t attempts = A->stats.attempts;
		acquire(A, "10.0.1.1", "10.0.2.2", 0, 0);
		ck_assert_uint_eq(A->stats.attempts, attempts + 1);
		ck_assert_uint_eq(pump(net), 4);
		ck_assert_uint_eq(counts(net, 0).child_total, 1);
		net_free(net);
	}
}
END_TEST

/* ---- a retransmitted request is answered from the cache ---- */
START_TEST(duplicate_answered_from_cache)
{
	struct net *net = net_new(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	/* IKE_SA_INIT request, delivered twice: the same answer twice, one SA */
	ck_assert_uint_eq(net->nq, 1);
	struct pkt req = net->q[0];
	net->nq = 0;
	deliver(net, &req);
	deliver(net, &req);
	free(req.p);
	ck_assert_uint_eq(net->nq, 2);
	ck_assert_uint_eq(net->q[0].n, net->q[1].n);
	ck_assert_mem_eq(net->q[0].p, net->q[1].p, net->q[0].n);
	free(net->q[1].p);
	net->nq = 1;
	ck_assert_uint_eq(counts(net, 1).ike_total, 1);
	ck_assert_uint_eq(pump(net), 3);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	/* IKE_AUTH request again (all[3] is the first answer to it) */
	ck_assert_uint_eq(net->nall, 5);
	deliver(net, &net->all[3]);
	ck_assert_uint_eq(net->nq, 1);
	ck_assert_uint_eq(net->q[0].n, net->all[4].n);
	ck_assert_mem_eq(net->q[0].p, net->all[4].p, net->q[0].n);
	flush(net);
	ck_assert_uint_eq(counts(net, 1).rx_duplicates, 2);
	ck_assert_uint_eq(counts(net, 1).ike_total, 1);
	ck_assert_uint_eq(counts(net, 1).child_total, 1);
	/* a stale IKE_SA_INIT (the exchange moved on) and an old response are dropped */
	deliver(net, &net->all[0]);
	ck_assert_uint_eq(net->nq, 0);
	deliver(net, &net->all[4]);
	ck_assert_uint_eq(net->nq, 0);
	ck_assert_uint_ge(counts(net, 0).rx_dropped_msgid, 1);
	ck_assert_uint_eq(counts(net, 0).child_total, 1);
	net_free(net);
}
END_TEST

/* ---- every truncation, and every bit flip of the protected messages, is dropped ----
 * The handshake is stopped before message m is delivered; each corrupted copy must be
 * dropped with no state change; then the real one completes the handshake. */
START_TEST(corrupted_messages_dropped)
{
	for (int m = 0; m < 4; m++) {
		struct net *net = net_new(NULL, NULL);
		acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
		for (int k = 0; k < m; k++) {
			ck_assert_uint_ge(net->nq, 1);
			struct pkt p = net->q[0];
			memmove(&net->q[0], &net->q[1], (net->nq - 1) * sizeof(net->q[0]));
			net->nq--;
			deliver(net, &p);
			free(p.p);
		}
		ck_assert_uint_eq(net->nq, 1);
		struct pkt orig = net->q[0];
		net->nq = 0;
		int to = node_of(net, &orig.to);
		struct ike_counts before = counts(net, to);
		uint8_t *buf = malloc(orig.n);
		for (size_t len = 0; len < orig.n; len++) {
			memcpy(buf, orig.p, len);
			ike_input(net->node[to].ctx->ike, buf, len, &orig.from, orig.sport, &orig.to,
				  orig.dport, -1);
		}
		size_t flips = 0;
		if (m >= 2) {   /* SK-protected: every single-bit change must fail a check */
			for (size_t i = 0; i < orig.n; i++)
				for (int b = 0; b < 8; b++) {
					memcpy(buf, orig.p, orig.n);
					buf[i] ^= (uint8_t)(1u << b);
					ike_input(net->node[to].ctx->ike, buf, orig.n, &orig.from,
						  orig.sport, &orig.to, orig.dport, -1);
					flips++;
				}
		}
		free(buf);
		struct ike_counts after = counts(net, to);
		ck_assert_uint_eq(net->nq, 0);                 /* nothing answered */
		ck_assert_uint_eq(after.ike_total, before.ike_total);
		ck_assert_uint_eq(after.ike_established, before.ike_established);
		ck_assert_uint_eq(after.child_total, before.child_total);
		uint64_t dropped = after.rx_dropped_malformed + after.rx_dropped_no_sa +
				   after.rx_dropped_msgid + after.rx_dropped_integrity +
				   after.rx_dropped_unexpected + after.rx_duplicates -
				   (before.rx_dropped_malformed + before.rx_dropped_no_sa +
				    before.rx_dropped_msgid + before.rx_dropped_integrity +
				    before.rx_dropped_unexpected + before.rx_duplicates);
		ck_assert_uint_eq(dropped, orig.n + flips);
		/* the genuine message still works */
		net->q[net->nq++] = orig;
		pump(net);
		ck_assert_uint_eq(counts(net, 0).ike_established, 1);
		ck_assert_uint_eq(counts(net, 1).ike_established, 1);
		net_free(net);
	}
}
END_TEST

/* Write the captured handshake as the fuzz seed corpus when asked
 * (MESHD_WRITE_CORPUS=dir). */
START_TEST(capture_corpus)
{
	const char *dir = getenv("MESHD_WRITE_CORPUS");
	struct net *net = net_new(NULL, NULL);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 0, 0);
	pump(net);
	ike_down(net->node[0].ctx->ike, &net->node[1].addr);
	pump(net);
	ck_assert_uint_eq(net->nall, 6);
	for (size_t i = 0; dir && i < net->nall; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/handshake-%zu", dir, i);
		FILE *f = fopen(p, "wb");
		ck_assert_ptr_nonnull(f);
		fwrite(net->all[i].p, 1, net->all[i].n, f);
		fclose(f);
	}
	net_free(net);
}
END_TEST

static Suite *exchange_suite(void)
{
	Suite *s = suite_create("exchange");
	TCase *tc = tcase_create("oe");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, oe_null_transport);
	tcase_add_test(tc, oe_null_tunnel);
	tcase_add_test(tc, retransmit_then_timeout);
	tcase_add_test(tc, auth_answer_lost_tells_responder);
	tcase_add_test(tc, invalid_ke_retry);
	tcase_add_test(tc, invalid_ke_stale_answer);
	tcase_add_test(tc, no_proposal_chosen);
	tcase_add_test(tc, ts_narrowed_to_port_entry);
	tcase_add_test(tc, ts_unacceptable);
	tcase_add_test(tc, auth_failed_gives_failure_shunt);
	tcase_add_test(tc, kernel_without_esp);
	tcase_add_test(tc, clear_peer_not_answered);
	tcase_add_test(tc, delete_either_side);
	tcase_add_test(tc, duplicate_answered_from_cache);
	tcase_add_test(tc, corrupted_messages_dropped);
	tcase_add_test(tc, capture_corpus);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exchange_suite)
