/* test_exchange_rekey.c — CREATE_CHILD_SA between two meshd daemons in one process
 * (xnet.h, virtual clock): Child SA and IKE SA rekeys started by either side, by our
 * timers and by the kernel's soft EXPIRE, simultaneous rekeys (RFC 7296 §2.8.1/§2.8.2),
 * hard expiry, the OE idle rule and the re-trigger after it, a rekey the peer refuses,
 * rekey=no. What is asserted is what an operator sees: the Child SAs `meshctl
 * trafficstatus` lists, the kernel's ESP SAs and policies, the log lines. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike.h"
#include "kernel_mock.h"
#include "loop.h"
#include "ike_emit.h"
#include "oe.h"
#include "ts.h"
#include "unit.h"
#include "xnet.h"

/* salifetime 60 s, ikelifetime 600 s, rekeymargin 10 s, no fuzz: the IKE initiator (A)
 * rekeys a Child SA at 50 s, the responder (B) at 55 s. */
#define CHILD_LIFE "\tsalifetime=60s\n\tikelifetime=600s\n\trekeymargin=10s\n\trekeyfuzz=0%\n"
/* the other way round: A rekeys the IKE SA at 50 s, B at 55 s */
#define IKE_LIFE "\tsalifetime=600s\n\tikelifetime=60s\n\trekeymargin=10s\n\trekeyfuzz=0%\n"

static struct net *up(const char *a_extra, const char *b_extra)
{
	struct node_conf a = { .conn_extra = a_extra }, b = { .conn_extra = b_extra };
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 1, 0);
	ck_assert_uint_eq(pump(net), 4);
	ck_assert_uint_eq(counts(net, 0).ike_established, 1);
	ck_assert_uint_eq(counts(net, 1).ike_established, 1);
	return net;
}

/* Packets arrive on every inbound ESP SA of both nodes (the idle rule sees traffic). */
static void traffic(struct net *net)
{
	for (int i = 0; i < 2; i++) {
		struct child_list l;
		children(net, i, &l);
		for (size_t k = 0; k < l.n; k++) {
			struct ksa_stats st = { .bytes = net->now, .packets = net->now / 100 };
			kmock_sa_set_stats(&net->node[i].ctx->kern, &net->node[i].addr,
					   l.c[k].spi_in, &st);
		}
	}
}

/* Run the clock for ms in 1 s steps, delivering everything, with traffic or without. */
static void run(struct net *net, uint64_t ms, bool busy)
{
	for (uint64_t t = 0; t < ms; t += 1000) {
		if (busy)
			traffic(net);
		advance(net, 1000);
		pump(net);
	}
}

/* One Child SA each side, mirror images (keys and SPIs), both ESP SAs in each kernel and
 * nothing else; returns A's Child SA. */
static struct ike_child_info one_child(struct net *net)
{
	struct child_list a, b;
	children(net, 0, &a);
	children(net, 1, &b);
	ck_assert_msg(a.n == 1, "A has %zu Child SAs:\n%s", a.n, logs(net, 0));
	ck_assert_msg(b.n == 1, "B has %zu Child SAs:\n%s", b.n, logs(net, 1));
	ck_assert_uint_eq(a.c[0].spi_out, b.c[0].spi_in);
	ck_assert_uint_eq(a.c[0].spi_in, b.c[0].spi_out);
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
	ck_assert_mem_eq(a_out->enc_key, b_in->enc_key, a_out->enc_key_len);
	ck_assert_mem_eq(a_in->enc_key, b_out->enc_key, a_in->enc_key_len);
	ck_assert_uint_eq(a_out->reqid, a_in->reqid);
	ck_assert_uint_eq(kmock_sa_count(ka), 2);
	ck_assert_uint_eq(kmock_sa_count(kb), 2);
	ck_assert_uint_eq(counts(net, 0).child_total, 1);
	ck_assert_uint_eq(counts(net, 1).child_total, 1);
	/* the pair's policies lead to the Child SA's reqid */
	const struct kpolicy *p = find_pol(net->node[0].ctx, "10.0.1.1/32", "10.0.2.2/32",
					   KDIR_OUT, 0, 0, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_IPSEC);
	ck_assert_uint_eq(p->reqid, a.c[0].reqid);
	ck_assert_ptr_nonnull(find_pol(net->node[0].ctx, "10.0.2.2/32", "10.0.1.1/32", KDIR_IN,
				       0, 0, 0));
	ck_assert_ptr_nonnull(find_pol(net->node[1].ctx, "10.0.2.2/32", "10.0.1.1/32",
				       KDIR_OUT, 0, 0, 0));
	return a.c[0];
}

static struct ike_sa *ike_sa_of(struct net *net, int i)
{
	ck_assert_uint_eq(sa_ike_count(net->node[i].ctx->ike->sas), 1);
	return sa_ike_at(net->node[i].ctx->ike->sas, 0);
}

static void has_log(struct net *net, int i, const char *s)
{
	ck_assert_msg(strstr(logs(net, i), s), "node %d log lacks \"%s\":\n%s", i, s, logs(net, i));
}

/* ---- Child SA rekey by the IKE initiator (A, its timer at 50 s) ----
 *   HDR, SK {N(REKEY_SA), SA, Ni, KEi, TSi, TSr} -->
 *                             <-- HDR, SK {SA, Nr, KEr, TSi, TSr}
 *   HDR, SK {D(ESP, old)} -->  <-- HDR, SK {D(ESP, old)} */
START_TEST(child_rekey_by_initiator)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	/* the kernel's soft lifetime is our rekey moment; hard is salifetime */
	const struct ksa *k = kmock_sa_find(&net->node[0].ctx->kern, &net->node[1].addr,
					    old.spi_out);
	ck_assert_uint_eq(k->soft_add_s, 50);
	ck_assert_uint_eq(k->hard_add_s, 60);
	size_t sent = net->sent[0];
	run(net, 49000, true);
	ck_assert_uint_eq(net->sent[0], sent);           /* nothing before 50 s */
	run(net, 1000, true);
	struct ike_child_info now = one_child(net);
	ck_assert_uint_gt(now.serial, old.serial);
	ck_assert_uint_ne(now.spi_in, old.spi_in);
	ck_assert_uint_ne(now.spi_out, old.spi_out);
	ck_assert_uint_eq(now.reqid, old.reqid);
	ck_assert_uint_eq(now.ike_serial, old.ike_serial);
	ck_assert_uint_eq(net->sent[0], sent + 2);       /* CREATE_CHILD_SA, Delete */
	has_log(net, 0, "rekeying Child SA #2 (PFS X25519)");
	has_log(net, 0, "Child SA #2 rekeyed as #3 (initiator, PFS X25519)");
	has_log(net, 0, "deleting Child SA #2");
	has_log(net, 1, "Child SA #2 rekeyed as #3 (responder, PFS X25519)");
	has_log(net, 1, "peer deleted Child SA #2");
	/* A's kernel SAs are for the new Child SA, its lifetimes start again */
	k = kmock_sa_find(&net->node[0].ctx->kern, &net->node[1].addr, now.spi_out);
	ck_assert_uint_eq(k->soft_add_s, 50);
	/* B's timer (55 s after the first) finds nothing to do; the next rekey is A's again */
	run(net, 49000, true);
	ck_assert_uint_eq(one_child(net).serial, now.serial);
	run(net, 2000, true);
	ck_assert_uint_gt(one_child(net).serial, now.serial);
	ck_assert_uint_eq(counts(net, 0).ike_total, 1);
	ck_assert_uint_eq(counts(net, 1).ike_total, 1);
	net_free(net);
}
END_TEST

/* ---- the order in the kernels, message by message: no side ever sends on an SA the
 * other cannot take yet, and the old pair goes only after the new one carries traffic ---- */
START_TEST(child_rekey_kernel_order)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	struct kernel *ka = &net->node[0].ctx->kern, *kb = &net->node[1].ctx->kern;
	const struct addr *A = &net->node[0].addr, *B = &net->node[1].addr;
	struct kexpire exp = { .dst = *A, .spi = old.spi_in, .proto = IKE_PROTO_ESP };
	ike_expire(net->node[0].ctx->ike, &exp);
	/* A reserved its new inbound SPI: nothing installed yet */
	ck_assert_uint_eq(kmock_sa_count(ka), 2);
	ck_assert_uint_eq(pump_one(net), 1);          /* the request: B answers */
	/* B: the new inbound SA is in; the new outbound waits (A has no inbound SA yet),
	 * B still sends on the old one */
	ck_assert_uint_eq(kmock_sa_count(kb), 3);
	ck_assert_ptr_nonnull(kmock_sa_find(kb, A, old.spi_in));
	ck_assert_ptr_nonnull(kmock_sa_find(kb, B, old.spi_out));
	ck_assert_uint_eq(pump_one(net), 1);          /* the answer: A installs, deletes old */
	/* A: new inbound and outbound in, the old outbound gone (A sends on the new one),
	 * the old inbound kept until the Delete is answered */
	ck_assert_uint_eq(kmock_sa_count(ka), 3);
	ck_assert_ptr_null(kmock_sa_find(ka, B, old.spi_out));
	ck_assert_ptr_nonnull(kmock_sa_find(ka, A, old.spi_in));
	struct child_list a;
	children(net, 0, &a);
	ck_assert_uint_eq(a.n, 1);                    /* trafficstatus: the new one */
	ck_assert_uint_ne(a.c[0].spi_in, old.spi_in);
	ck_assert_uint_eq(pump_one(net), 1);          /* D(ESP): B adds its new outbound */
	ck_assert_uint_eq(kmock_sa_count(kb), 2);
	ck_assert_ptr_nonnull(kmock_sa_find(kb, A, a.c[0].spi_in));  /* B -> A, new */
	ck_assert_uint_eq(pump_one(net), 1);          /* its answer: A drops the old inbound */
	ck_assert_uint_eq(kmock_sa_count(ka), 2);
	ck_assert_uint_eq(net->nq, 0);
	one_child(net);
	net_free(net);
}
END_TEST

/* ---- Child SA rekey by the IKE responder (B: A has rekey=no) ---- */
START_TEST(child_rekey_by_responder)
{
	struct net *net = up(CHILD_LIFE "\trekey=no\n", CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	const struct ksa *k = kmock_sa_find(&net->node[1].ctx->kern, &net->node[1].addr,
					    old.spi_out);
	ck_assert_uint_eq(k->soft_add_s, 55);            /* B: margin / 2 */
	size_t sent = net->sent[1];
	run(net, 54000, true);
	ck_assert_uint_eq(net->sent[1], sent);
	run(net, 1000, true);
	struct ike_child_info now = one_child(net);
	ck_assert_uint_gt(now.serial, old.serial);
	ck_assert_uint_ne(now.spi_in, old.spi_in);
	has_log(net, 1, "Child SA #2 rekeyed as #3 (initiator");
	has_log(net, 0, "Child SA #2 rekeyed as #3 (responder");
	has_log(net, 0, "peer deleted Child SA #2");
	net_free(net);
}
END_TEST

/* ---- IKE SA rekey by the initiator (A at 50 s) ----
 *   HDR, SK {SA, Ni, KEi} -->  <-- HDR, SK {SA, Nr, KEr}
 *   on the old IKE SA: HDR, SK {D(IKE)} -->  <-- HDR, SK {}
 * The Child SA moves to the new IKE SA; a Child SA rekey over it (keys from the new
 * SK_d) and a Delete (its SK keys) work. */
static void ike_rekey_then_use(struct net *net, int rekeyer)
{
	struct ike_child_info child = one_child(net);
	uint64_t spi_i = ike_sa_of(net, 0)->spi_i;
	run(net, rekeyer == 0 ? 50000 : 55000, true);
	struct ike_sa *a = ike_sa_of(net, 0), *b = ike_sa_of(net, 1);
	ck_assert_uint_ne(a->spi_i, spi_i);
	ck_assert_uint_eq(a->spi_i, b->spi_i);
	ck_assert_uint_eq(a->spi_r, b->spi_r);
	ck_assert_int_eq(a->initiator, rekeyer == 0);
	ck_assert_int_eq(a->state, IKES_ESTABLISHED);
	ck_assert_int_eq(b->state, IKES_ESTABLISHED);
	struct ike_child_info moved = one_child(net);
	ck_assert_uint_eq(moved.serial, child.serial);   /* the same Child SA ... */
	ck_assert_uint_eq(moved.ike_serial, a->serial);  /* ... on the new IKE SA */
	has_log(net, rekeyer, "IKE SA #1 rekeyed as #3 (initiator");
	has_log(net, !rekeyer, "IKE SA #1 rekeyed as #3 (responder");
	has_log(net, !rekeyer, "peer deleted IKE SA #1");
	/* a Child SA rekey over the new IKE SA (by its kernel's soft EXPIRE) */
	struct kexpire exp = { .dst = net->node[rekeyer].addr,
			       .spi = rekeyer ? moved.spi_out : moved.spi_in,
			       .proto = IKE_PROTO_ESP };
	ike_expire(net->node[rekeyer].ctx->ike, &exp);
	pump(net);
	ck_assert_uint_gt(one_child(net).serial, moved.serial);
	/* and a Delete */
	ck_assert_uint_eq(ike_down(net->node[0].ctx->ike, &net->node[1].addr), 1);
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 0);
	has_log(net, 1, "peer deleted IKE SA #3");
}

START_TEST(ike_rekey_by_initiator)
{
	struct net *net = up(IKE_LIFE, IKE_LIFE);
	ike_rekey_then_use(net, 0);
	net_free(net);
}
END_TEST

START_TEST(ike_rekey_by_responder)
{
	struct net *net = up(IKE_LIFE "\trekey=no\n", IKE_LIFE);
	ike_rekey_then_use(net, 1);
	net_free(net);
}
END_TEST

/* ---- both rekey the Child SA at once (§2.8.1): the kernel's soft EXPIRE on both ----
 *   A: req1 -->  <-- req2 :B     each answers the other's; the Child SA made by the
 *   exchange holding the lowest of the four nonces is deleted by its initiator, the
 *   other initiator deletes the old one: one new Child SA remains on both. */
START_TEST(child_rekey_collision)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	for (int i = 0; i < 2; i++) {
		struct kexpire exp = { .dst = net->node[i].addr,
				       .spi = i ? old.spi_out : old.spi_in, .proto = IKE_PROTO_ESP };
		ike_expire(net->node[i].ctx->ike, &exp);
	}
	ck_assert_uint_eq(net->nq, 2);                   /* both requests cross */
	pump(net);
	struct ike_child_info now = one_child(net);
	ck_assert_uint_ne(now.spi_in, old.spi_in);
	has_log(net, 0, "simultaneous rekey of Child SA #2");
	has_log(net, 1, "simultaneous rekey of Child SA #2");
	/* the next rekeys work as usual */
	run(net, 50000, true);
	ck_assert_uint_ne(one_child(net).spi_in, now.spi_in);
	ck_assert_uint_eq(counts(net, 0).ike_total, 1);
	net_free(net);
}
END_TEST

/* ---- both rekey the IKE SA at once (§2.8.2) ---- */
START_TEST(ike_rekey_collision)
{
	struct net *net = up(IKE_LIFE, IKE_LIFE);
	struct ike_child_info child = one_child(net);
	ck_assert_int_eq(x_create_rekey_ike(net->node[0].ctx->ike, ike_sa_of(net, 0)), 0);
	ck_assert_int_eq(x_create_rekey_ike(net->node[1].ctx->ike, ike_sa_of(net, 1)), 0);
	ck_assert_uint_eq(net->nq, 2);
	pump(net);
	struct ike_sa *a = ike_sa_of(net, 0), *b = ike_sa_of(net, 1);
	ck_assert_uint_eq(a->spi_i, b->spi_i);
	ck_assert_uint_eq(a->spi_r, b->spi_r);
	ck_assert_int_ne(a->initiator, b->initiator);
	ck_assert_uint_eq(one_child(net).ike_serial, a->serial);
	ck_assert_uint_eq(one_child(net).serial, child.serial);
	has_log(net, 0, "simultaneous rekey of IKE SA #1");
	has_log(net, 1, "simultaneous rekey of IKE SA #1");
	/* the survivor carries a Child SA rekey and a Delete */
	struct kexpire exp = { .dst = net->node[1].addr, .spi = child.spi_out,
			       .proto = IKE_PROTO_ESP };
	ike_expire(net->node[1].ctx->ike, &exp);
	pump(net);
	ck_assert_uint_gt(one_child(net).serial, child.serial);
	ck_assert_uint_eq(ike_down(net->node[1].ctx->ike, &net->node[0].addr), 1);
	pump(net);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(&net->node[0].ctx->kern), 0);
	net_free(net);
}
END_TEST

/* ---- A rekeys the IKE SA while B rekeys the Child SA: each answers the other
 * TEMPORARY_FAILURE (§2.25) and tries again after a random 1-3 s; both rekeys happen ---- */
START_TEST(temporary_failure_retried)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	ck_assert_int_eq(x_create_rekey_ike(net->node[0].ctx->ike, ike_sa_of(net, 0)), 0);
	struct kexpire exp = { .dst = net->node[1].addr, .spi = old.spi_out,
			       .proto = IKE_PROTO_ESP };
	ike_expire(net->node[1].ctx->ike, &exp);
	ck_assert_uint_eq(net->nq, 2);
	pump(net);
	has_log(net, 0, "answering TEMPORARY_FAILURE: we are rekeying the IKE SA");
	has_log(net, 1, "answering TEMPORARY_FAILURE: we are rekeying a Child SA");
	has_log(net, 0, "rekey of IKE SA #1: peer answered TEMPORARY_FAILURE; trying again in");
	has_log(net, 1, "rekey of Child SA #2: peer answered TEMPORARY_FAILURE; trying again in");
	ck_assert_uint_eq(one_child(net).serial, old.serial);
	ck_assert_uint_eq(ike_sa_of(net, 0)->serial, 1);
	run(net, 20000, true);
	ck_assert_uint_gt(one_child(net).serial, old.serial);
	ck_assert_uint_gt(ike_sa_of(net, 0)->serial, 1);
	ck_assert_uint_eq(one_child(net).ike_serial, ike_sa_of(net, 0)->serial);
	net_free(net);
}
END_TEST

/* what daemon.c's kernel event handler does with an EXPIRE */
static void on_expire(const struct kexpire *exp, void *arg)
{
	ike_expire(arg, exp);
}

/* ---- the kernel's soft EXPIRE starts one rekey, however many arrive ---- */
START_TEST(soft_expire_rekeys_once)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	size_t sent = net->sent[0];
	traffic(net);
	struct kernel *ka = &net->node[0].ctx->kern;
	struct kexpire in = { .dst = net->node[0].addr, .spi = old.spi_in, .proto = IKE_PROTO_ESP };
	struct kexpire out = { .dst = net->node[1].addr, .spi = old.spi_out,
			       .proto = IKE_PROTO_ESP };
	ck_assert_int_eq(kmock_queue_expire(ka, &in), 0);
	ck_assert_int_eq(kmock_queue_expire(ka, &out), 0);
	struct kernel_events ev = { .expire = on_expire, .arg = net->node[0].ctx->ike };
	ck_assert_int_ge(ka->ops->event_read(ka, &ev), 0);
	ck_assert_uint_eq(net->sent[0], sent + 1);       /* one CREATE_CHILD_SA */
	pump(net);
	ck_assert_uint_gt(one_child(net).serial, old.serial);
	/* a late soft EXPIRE of the old SA changes nothing */
	ike_expire(net->node[0].ctx->ike, &in);
	ck_assert_uint_eq(net->nq, 0);
	net_free(net);
}
END_TEST

/* ---- the kernel's hard EXPIRE: the SA is gone, so is the IKE SA; the trap is back ---- */
START_TEST(hard_expire_deletes)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_child_info old = one_child(net);
	struct kernel *ka = &net->node[0].ctx->kern;
	struct kexpire in = { .dst = net->node[0].addr, .spi = old.spi_in, .proto = IKE_PROTO_ESP,
			      .hard = true };
	ck_assert_int_eq(kmock_queue_expire(ka, &in), 0);
	struct kernel_events ev = { .expire = on_expire, .arg = net->node[0].ctx->ike };
	ck_assert_int_ge(ka->ops->event_read(ka, &ev), 0);
	pump(net);
	has_log(net, 0, "Child SA #2 expired (kernel hard EXPIRE): deleting IKE SA #1");
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(ka), 0);
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 0);
	ck_assert_ptr_null(find_pol(net->node[0].ctx, "10.0.1.1/32", "10.0.2.2/32", KDIR_OUT, 0,
				    0, 0));
	net_free(net);
}
END_TEST

/* ---- idle: nothing received for rekeymargin at rekey time -> the IKE SA is deleted,
 * not rekeyed; the next packet negotiates again ---- */
START_TEST(idle_expires_and_retriggers)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct meshd_ctx *A = net->node[0].ctx;
	run(net, 35000, true);                           /* busy until 35 s ... */
	run(net, 15000, false);                          /* ... then quiet: at 50 s, 15 s idle */
	has_log(net, 0, "expire unused IKE SA #1: Child SA #2 received nothing for");
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	ck_assert_uint_eq(kmock_sa_count(&A->kern), 0);
	ck_assert_uint_eq(kmock_sa_count(&net->node[1].ctx->kern), 0);
	const struct peer_diag *pd = peers_find(A->peers, &net->node[1].addr);
	ck_assert_ptr_nonnull(pd);
	ck_assert_msg(strstr(pd->last_note, "expired unused"), "%s", pd->last_note);
	/* the trap is back: the next packet makes a new IKE SA */
	acquire(A, "10.0.1.1", "10.0.2.2", 1, 0);
	ck_assert_uint_eq(pump(net), 4);
	struct ike_child_info c = one_child(net);
	ck_assert_uint_gt(c.ike_serial, 1);
	net_free(net);
}
END_TEST

/* traffic in the margin before the rekey moment keeps the SA */
START_TEST(busy_is_rekeyed)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	run(net, 45000, false);                          /* quiet until 45 s ... */
	run(net, 5000, true);                            /* ... a packet in the last 10 s */
	ck_assert_uint_eq(counts(net, 0).ike_total, 1);
	ck_assert_uint_eq(one_child(net).serial, 3);
	net_free(net);
}
END_TEST

/* ---- a rekey whose proposal the peer does not allow: NO_PROPOSAL_CHOSEN, the Child SA
 * expires at its lifetime and takes the IKE SA along ---- */
START_TEST(rekey_no_proposal_chosen)
{
	/* A wants PFS with ECP-256 (esp= names it); B allows only the IKE SA's group */
	struct node_conf a = { .esp = "aes_gcm_16_256-none;dh19", .conn_extra = CHILD_LIFE };
	struct node_conf b = { .esp = "aes_gcm_16_256-none", .conn_extra = CHILD_LIFE };
	struct net *net = net_new(&a, &b);
	acquire(net->node[0].ctx, "10.0.1.1", "10.0.2.2", 1, 0);
	ck_assert_uint_eq(pump(net), 4);
	run(net, 50000, true);
	has_log(net, 0, "rekeying Child SA #2 (PFS ECP_256)");
	has_log(net, 1, "no proposal chosen (ESP rekey)");
	has_log(net, 0, "rekey of Child SA #2 failed: peer answered NO_PROPOSAL_CHOSEN");
	ck_assert_uint_eq(one_child(net).serial, 2);     /* still the old one */
	/* B tries at 55 s and is refused the same way (A wants ECP-256) */
	run(net, 5000, true);
	has_log(net, 0, "no proposal chosen (ESP rekey)");
	run(net, 5000, true);
	has_log(net, 0, "Child SA #2 expired (salifetime reached): deleting IKE SA #1");
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	net_free(net);
}
END_TEST

/* ---- a CREATE_CHILD_SA for an additional Child SA: NO_ADDITIONAL_SAS ----
 *   HDR, SK {SA, Ni, TSi, TSr} -->  <-- HDR, SK {N(NO_ADDITIONAL_SAS)} */
START_TEST(additional_child_refused)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE);
	struct ike_sa *sa = ike_sa_of(net, 0);
	struct msg_out m;
	struct buf out = { 0 };
	uint8_t ni[32] = { 1, 2, 3 };
	struct ike_ts_list tsi, tsr;
	struct ts_end le = { sa->local, 0, 0 }, pe = { sa->peer, 0, 0 };
	ck_assert_int_eq(ts_build(&le, &pe, &tsi, &tsr), 0);
	struct ike_sa_pld p = sa->conf.esp->sa;
	for (unsigned i = 0; i < p.n_prop; i++) {
		p.prop[i].spi_size = 4;
		p.prop[i].spi[3] = 0x42;
	}
	ck_assert_int_eq(msg_start(sa, &m, IKE_XCHG_CREATE_CHILD_SA, false, sa->msgid_next, true),
			 0);
	ike_emit_sa(&m.e, &p);
	ike_emit_nonce(&m.e, ni, sizeof(ni));
	ike_emit_ts(&m.e, IKE_PL_TSI, &tsi);
	ike_emit_ts(&m.e, IKE_PL_TSR, &tsr);
	ck_assert_int_eq(msg_seal(sa, &m, &out), 0);
	msg_send_request(net->node[0].ctx->ike, sa, &out);
	pump(net);
	has_log(net, 1, "CREATE_CHILD_SA: answering NO_ADDITIONAL_SAS");
	ck_assert(!sa->req_out);
	one_child(net);
	run(net, 20000, true);
	ck_assert_uint_eq(counts(net, 0).ike_total, 1);
	ck_assert_uint_eq(counts(net, 0).retransmits, 0);
	net_free(net);
}
END_TEST

/* ---- pfs=no: the rekey carries no KE ---- */
START_TEST(rekey_without_pfs)
{
	struct net *net = up(CHILD_LIFE "\tpfs=no\n", CHILD_LIFE "\tpfs=no\n");
	struct ike_child_info old = one_child(net);
	run(net, 50000, true);
	ck_assert_uint_gt(one_child(net).serial, old.serial);
	has_log(net, 0, "rekeying Child SA #2 (PFS none)");
	has_log(net, 1, "Child SA #2 rekeyed as #3 (responder, PFS none)");
	net_free(net);
}
END_TEST

/* a peer that wants PFS and one that does not: NO_PROPOSAL_CHOSEN, strict */
START_TEST(pfs_mismatch_refused)
{
	struct net *net = up(CHILD_LIFE, CHILD_LIFE "\tpfs=no\n");
	run(net, 50000, true);
	has_log(net, 1, "no proposal chosen (ESP rekey)");
	has_log(net, 0, "rekey of Child SA #2 failed: peer answered NO_PROPOSAL_CHOSEN");
	ck_assert_uint_eq(one_child(net).serial, 2);
	net_free(net);
}
END_TEST

/* ---- rekey=no: nothing is rekeyed; at salifetime the SAs are gone ---- */
START_TEST(rekey_no_expires)
{
	struct net *net = up(CHILD_LIFE "\trekey=no\n", CHILD_LIFE "\trekey=no\n");
	struct ike_child_info old = one_child(net);
	const struct ksa *k = kmock_sa_find(&net->node[0].ctx->kern, &net->node[1].addr,
					    old.spi_out);
	ck_assert_uint_eq(k->soft_add_s, 0);
	size_t sent = net->sent[0] + net->sent[1];
	run(net, 59000, true);
	ck_assert_uint_eq(net->sent[0] + net->sent[1], sent);
	run(net, 1000, true);
	ck_assert_uint_eq(counts(net, 0).ike_total, 0);
	ck_assert_uint_eq(counts(net, 1).ike_total, 0);
	net_free(net);
}
END_TEST

/* The inner payloads of the request last queued by node 0, as node 1 decrypts them, into
 * dir/name: the seed format of tests/fuzz/fuzz_create_child.c (first payload type, then
 * the chain). */
static void keep_inner(struct net *net, const char *dir, const char *name)
{
	struct ike_digest *d = malloc(sizeof(*d));
	struct buf pt = { 0 };
	const struct pkt *k = &net->q[net->nq - 1];
	struct ike *ike = net->node[1].ctx->ike;
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(ike_pld_parse(d, k->p, k->n), 0);
	struct ike_sa *sa = sa_ike_by_spi(ike->sas, d->hdr.spi_i, d->hdr.spi_r, false);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(msg_unprotect(ike, sa, d, &pt), 0);
	size_t inner = pt.len - pt.p[pt.len - 1] - 1;
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	fputc(d->sk.np, f);
	fwrite(pt.p, 1, inner, f);
	fclose(f);
	buf_free_secret(&pt);
	free(d);
}

/* Seeds for fuzz_create_child when asked (MESHD_WRITE_CORPUS=dir): a Child SA rekey
 * request with and without PFS, an IKE SA rekey request, each made by fresh daemons (so
 * the REKEY_SA SPI is the mock kernel's first, as in the fuzz harness). */
START_TEST(capture_corpus)
{
	const char *dir = getenv("MESHD_WRITE_CORPUS");
	const char *lifes[2] = { CHILD_LIFE, CHILD_LIFE "\tpfs=no\n" };
	for (int i = 0; i < 3; i++) {
		struct net *net = up(lifes[i == 1], lifes[i == 1]);
		struct ike_child_info c = one_child(net);
		if (i < 2) {
			struct kexpire exp = { .dst = net->node[0].addr, .spi = c.spi_in,
					       .proto = IKE_PROTO_ESP };
			ike_expire(net->node[0].ctx->ike, &exp);
		} else {
			ck_assert_int_eq(x_create_rekey_ike(net->node[0].ctx->ike,
							    ike_sa_of(net, 0)), 0);
		}
		ck_assert_uint_eq(net->nq, 1);
		if (dir)
			keep_inner(net, dir, i == 0 ? "rekey-child" : i == 1 ? "rekey-child-nopfs"
									   : "rekey-ike");
		pump(net);
		net_free(net);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("exchange_rekey");
	TCase *t = tcase_create("rekey");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, child_rekey_by_initiator);
	tcase_add_test(t, child_rekey_kernel_order);
	tcase_add_test(t, child_rekey_by_responder);
	tcase_add_test(t, ike_rekey_by_initiator);
	tcase_add_test(t, ike_rekey_by_responder);
	tcase_add_test(t, child_rekey_collision);
	tcase_add_test(t, ike_rekey_collision);
	tcase_add_test(t, temporary_failure_retried);
	tcase_add_test(t, soft_expire_rekeys_once);
	tcase_add_test(t, hard_expire_deletes);
	tcase_add_test(t, idle_expires_and_retriggers);
	tcase_add_test(t, busy_is_rekeyed);
	tcase_add_test(t, rekey_no_proposal_chosen);
	tcase_add_test(t, rekey_no_expires);
	tcase_add_test(t, additional_child_refused);
	tcase_add_test(t, rekey_without_pfs);
	tcase_add_test(t, pfs_mismatch_refused);
	tcase_add_test(t, capture_corpus);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
