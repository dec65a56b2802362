/* test_core.c — event loop timers, control framing, shunts, and a whole daemon context on
 * the mock kernel: start, ACQUIRE -> shunts with reasons, status output, reload diff,
 * stop. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "ctl_proto.h"
#include "ctx.h"
#include "daemon.h"
#include "kernel_apply.h"
#include "kernel_mock.h"
#include "loop.h"
#include "oe.h"
#include "shunt.h"
#include "unit.h"

/* ---- loop ---- */

struct vclock { uint64_t now; };
static uint64_t vclock_now(void *arg) { return ((struct vclock *)arg)->now; }

static char fired[16];
static char tag_a[] = "a", tag_A[] = "A", tag_b[] = "b", tag_c[] = "c";
static void fire(void *arg) { strncat(fired, arg, sizeof(fired) - strlen(fired) - 1); }

START_TEST(loop_timers_order_and_cancel)
{
	struct loop *l = loop_new();
	struct vclock vc = { 1000 };
	loop_set_clock(l, vclock_now, &vc);
	fired[0] = '\0';
	loop_timer_add(l, 30, fire, tag_c);
	loop_timer_add(l, 10, fire, tag_a);
	uint64_t b = loop_timer_add(l, 20, fire, tag_b);
	loop_timer_add(l, 10, fire, tag_A);   /* same deadline: insertion order */
	loop_timer_cancel(l, b);
	vc.now += 9;
	loop_run_timers(l);
	ck_assert_str_eq(fired, "");
	vc.now += 1;
	loop_run_timers(l);
	ck_assert_str_eq(fired, "aA");
	vc.now += 100;
	loop_run_timers(l);
	ck_assert_str_eq(fired, "aAc");
	loop_free(l);
}
END_TEST

/* Many timers, random deadlines, half cancelled: the rest fire in (due, arming) order,
 * cancelled and stale ids are harmless, loop_timer_arg finds live ones only. */
struct rt { uint64_t due; unsigned order; bool cancelled, fired; };
static struct rt rts[2000];
static unsigned fire_count, last_index;
static uint64_t last_due;
static void rt_fire(void *arg)
{
	struct rt *r = arg;
	ck_assert(!r->cancelled);
	ck_assert(!r->fired);
	ck_assert_uint_ge(r->due, last_due);
	if (r->due == last_due)
		ck_assert_uint_gt(r->order, last_index);
	last_due = r->due;
	last_index = r->order;
	r->fired = true;
	fire_count++;
}

START_TEST(loop_timers_random)
{
	struct loop *l = loop_new();
	struct vclock vc = { 0 };
	loop_set_clock(l, vclock_now, &vc);
	uint64_t ids[2000];
	unsigned seed = 7, live = 0;
	for (unsigned i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		rts[i] = (struct rt){ .due = (seed >> 8) % 500, .order = i };
		ids[i] = loop_timer_add(l, rts[i].due, rt_fire, &rts[i]);
		ck_assert_uint_ne(ids[i], 0);
	}
	for (unsigned i = 0; i < 2000; i += 2) {
		ck_assert_ptr_eq(loop_timer_arg(l, ids[i]), &rts[i]);
		rts[i].cancelled = true;
		loop_timer_cancel(l, ids[i]);
		ck_assert_ptr_null(loop_timer_arg(l, ids[i]));
		loop_timer_cancel(l, ids[i]);          /* stale: ignored */
	}
	for (unsigned i = 1; i < 2000; i += 2)
		live++;
	fire_count = 0;
	last_due = 0;
	last_index = 0;
	for (vc.now = 0; vc.now <= 500; vc.now++)
		loop_run_timers(l);
	ck_assert_uint_eq(fire_count, live);
	/* fired ids are stale too, even once their slots are reused */
	uint64_t fresh = loop_timer_add(l, 10, rt_fire, &rts[1]);
	ck_assert_ptr_null(loop_timer_arg(l, ids[1]));
	loop_timer_cancel(l, ids[1]);
	ck_assert_ptr_eq(loop_timer_arg(l, fresh), &rts[1]);
	loop_free(l);
}
END_TEST

/* ---- control framing ---- */

START_TEST(ctl_framing)
{
	char a0[] = "why", a1[] = "10.1.2.3", a2[] = "--json";
	char *in[] = { a0, a1, a2 };
	char buf[CTL_MAX_REQUEST], *argv[CTL_MAX_ARGS];
	int n = ctl_build_request(3, in, buf, sizeof(buf));
	ck_assert_int_eq(n, 20);
	ck_assert_int_eq(ctl_parse_request(buf, (size_t)n, argv), 3);
	ck_assert_str_eq(argv[1], "10.1.2.3");
	ck_assert_int_eq(ctl_parse_request(buf, (size_t)n - 1, argv), -EINVAL);  /* no NUL */
	char empty[] = "why\0\0";
	ck_assert_int_eq(ctl_parse_request(empty, 5, argv), -EINVAL);
	char ctrl[] = "wh\ny";
	ck_assert_int_eq(ctl_parse_request(ctrl, 5, argv), -EINVAL);
	size_t off;
	ck_assert_int_eq(ctl_parse_status("status 3\nxy", 11, &off), 3);
	ck_assert_uint_eq(off, 9);
	ck_assert_int_eq(ctl_parse_status("status 126\n", 11, &off), -EBADMSG);
	ck_assert_int_eq(ctl_parse_status("status \n", 8, &off), -EBADMSG);
	ck_assert_int_eq(ctl_parse_status("stat", 4, &off), -EBADMSG);
}
END_TEST

/* ---- shunts on the mock kernel ---- */

START_TEST(shunt_lifecycle)
{
	struct kernel k;
	struct log log;
	log_init(&log, LOG_SINK_NONE, false, NULL);
	ck_assert_int_eq(kmock_open(&k), 0);
	struct shunts *s = shunts_new(&k, &log);
	struct addr me, peer;
	ck_assert(addr_parse("10.0.0.1", &me));
	ck_assert(addr_parse("10.0.0.2", &peer));
	const struct shunt *sh = shunt_set(s, &me, &peer, 0, 0, 0, SHUNT_NEGOTIATING, SHUNT_DROP,
					   "private", "oe-negotiating", 1000, 15000);
	ck_assert_ptr_nonnull(sh);
	ck_assert_uint_eq(kmock_count(&k), 1);
	const struct kpolicy *kp = kmock_at(&k, 0);
	ck_assert_int_eq(kp->act, KACT_BLOCK);
	ck_assert_int_eq(kp->dir, KDIR_OUT);
	ck_assert_uint_eq(kp->sel.src.len, 32);
	ck_assert_uint_eq(kp->sel.dst.len, 32);
	ck_assert(addr_eq(&kp->sel.dst.a, &peer));
	/* the failure shunt replaces it in place (same selector) */
	sh = shunt_set(s, &me, &peer, 0, 0, 0, SHUNT_FAILED, SHUNT_PASS, "private-or-clear",
		       "no answer", 2000, 900000);
	ck_assert_uint_eq(kmock_count(&k), 1);
	ck_assert_int_eq(kmock_at(&k, 0)->act, KACT_PASS);
	ck_assert_str_eq(sh->reason, "no answer");
	ck_assert_uint_eq(shunts_count(s), 1);
	ck_assert_uint_eq(shunts_sweep(s, 901999), 0);
	ck_assert_uint_eq(shunts_sweep(s, 902000), 1);
	ck_assert_uint_eq(kmock_count(&k), 0);
	ck_assert_uint_eq(shunts_count(s), 0);
	/* a shunt beats the trap of a /24 covering the peer, but not a /32 port entry */
	shunt_set(s, &me, &peer, 0, 0, 0, SHUNT_FAILED, SHUNT_DROP, "private", "x", 0, 0);
	uint32_t shunt_prio = kmock_at(&k, 0)->priority;
	ck_assert_uint_lt(shunt_prio, policy_priority(AF_INET, 24, 0, 0, 0, 0, false));
	ck_assert_uint_lt(shunt_prio, policy_priority(AF_INET, 32, 0, 0, 0, 0, false));
	ck_assert_uint_gt(shunt_prio, policy_priority(AF_INET, 32, 6, 0, 25, 0, false));
	shunts_clear(s);
	ck_assert_uint_eq(kmock_count(&k), 0);
	shunts_free(s);
	k.ops->close(&k);
}
END_TEST

/* ---- a whole daemon context on the mock kernel ---- */

struct fixture {
	char dir[64];
	char conf[128], pol[128], sock[128];
	struct meshd_ctx *ctx;
	struct vclock vc;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static const char mesh_conf[] =
	"config setup\n"
	"\tshuntlifetime=60s\n"
	"\n"
	"conn clear\n\tauto=ondemand\n\ttype=passthrough\n\tauthby=never\n"
	"\tleft=%defaultroute\n\tright=%group\n\n"
	"conn block\n\tauto=ondemand\n\ttype=drop\n\tauthby=never\n"
	"\tleft=%defaultroute\n\tright=%group\n\n"
	"conn private\n\tauto=ondemand\n\ttype=transport\n\tauthby=null\n"
	"\tfailureshunt=drop\n\tnegotiationshunt=drop\n\tleft=%defaultroute\n"
	"\tleftid=%null\n\trightid=%null\n\tretransmit-timeout=2s\n"
	"\tright=%opportunisticgroup\n\n"
	"conn private-or-clear\n\tauto=ondemand\n\ttype=transport\n\tauthby=null\n"
	"\tfailureshunt=passthrough\n\tnegotiationshunt=passthrough\n\tleft=%defaultroute\n"
	"\tleftid=%null\n\trightid=%null\n\tretransmit-timeout=2s\n"
	"\tright=%opportunisticgroup\n";

static void fixture_start(struct fixture *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/meshd-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	snprintf(fx->pol, sizeof(fx->pol), "%s/policies", fx->dir);
	ck_assert_int_eq(mkdir(fx->pol, 0700), 0);
	snprintf(fx->conf, sizeof(fx->conf), "%s/meshd.conf", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/ctl", fx->dir);
	write_file(fx->dir, "meshd.conf", mesh_conf);
	write_file(fx->pol, "private", "# private peers\n10.15.0.0/16\n2001:db8:15::/48\n");
	write_file(fx->pol, "private-or-clear", "10.15.7.7\n192.0.2.0/24\n");
	write_file(fx->pol, "clear", "10.15.1.1\n198.51.100.0/24\n");
	write_file(fx->pol, "block", "10.15.6.6\n");
	fx->ctx = calloc(1, sizeof(*fx->ctx));
	log_init(&fx->ctx->log, LOG_SINK_NONE, false, NULL);
	ck_assert_int_eq(kmock_open(&fx->ctx->kern), 0);
	struct meshd_opts o = {
		.config = fx->conf, .ctlsocket = fx->sock, .policies_dir = fx->pol,
		.nofork = true, .no_ike_sockets = true, .no_signals = true, .no_nft = true,
	};
	ck_assert_int_eq(daemon_start(fx->ctx, &o), 0);
	/* continue from the real clock, so timers armed at start keep their deadlines */
	fx->vc.now = loop_now_ms(fx->ctx->loop);
	loop_set_clock(fx->ctx->loop, vclock_now, &fx->vc);
}

static void fixture_stop(struct fixture *fx)
{
	daemon_stop(fx->ctx);
	free(fx->ctx);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run a control command as meshctl would send it; returns the output (free it). */
/* Move the virtual clock forward in 100 ms steps, firing timers as they come due. */
static void advance(struct fixture *fx, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		fx->vc.now += 100;
		loop_run_timers(fx->ctx->loop);
	}
}

static char *run_ctl(struct meshd_ctx *ctx, int *status, ...)
{
	char *argv[CTL_MAX_ARGS];
	int argc = 0;
	va_list ap;
	va_start(ap, status);
	const char *a;
	while ((a = va_arg(ap, const char *)) && argc < CTL_MAX_ARGS)
		argv[argc++] = strdup(a);
	va_end(ap);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*status = ctl_execute(ctx, argc, argv, f);
	fclose(f);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return text;
}

static void acquire(struct meshd_ctx *ctx, const char *src, const char *dst, uint8_t proto)
{
	struct kacquire acq = { 0 };
	ck_assert(addr_parse(src, &acq.sel.src.a));
	ck_assert(addr_parse(dst, &acq.sel.dst.a));
	acq.sel.src.len = acq.sel.dst.len = (uint8_t)addr_bits(acq.sel.src.a.family);
	acq.sel.proto = proto;
	const struct pol_entry *e = policy_classify(ctx->pol, &acq.sel.dst.a, proto, 0, 0);
	acq.reqid = e ? e->reqid : 0;
	/* the daemon's own handler, as the event loop would call it */
	oe_acquire(ctx, &acq);
}

static const struct kpolicy *find_pol(struct meshd_ctx *ctx, const char *src, const char *dst,
				      enum kdir dir)
{
	struct ksel sel = { 0 };
	ck_assert(prefix_parse(src, &sel.src, false, NULL));
	ck_assert(prefix_parse(dst, &sel.dst, false, NULL));
	return kmock_find(&ctx->kern, &sel, dir);
}

START_TEST(daemon_installs_group_policies)
{
	struct fixture fx;
	fixture_start(&fx);
	struct meshd_ctx *ctx = fx.ctx;
	const struct kpolicy *p;
	p = find_pol(ctx, "0.0.0.0/0", "10.15.0.0/16", KDIR_OUT);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_TRAP);
	ck_assert_uint_ne(p->reqid, 0);
	ck_assert_ptr_null(find_pol(ctx, "10.15.0.0/16", "0.0.0.0/0", KDIR_IN));
	p = find_pol(ctx, "0.0.0.0/0", "10.15.1.1/32", KDIR_OUT);
	ck_assert_int_eq(p->act, KACT_PASS);
	ck_assert_ptr_nonnull(find_pol(ctx, "10.15.1.1/32", "0.0.0.0/0", KDIR_IN));
	ck_assert_ptr_nonnull(find_pol(ctx, "10.15.1.1/32", "0.0.0.0/0", KDIR_FWD));
	/* the clear /32 outranks the private /16 trap */
	ck_assert_uint_lt(p->priority, find_pol(ctx, "0.0.0.0/0", "10.15.0.0/16", KDIR_OUT)->priority);
	p = find_pol(ctx, "0.0.0.0/0", "10.15.6.6/32", KDIR_OUT);
	ck_assert_int_eq(p->act, KACT_BLOCK);
	ck_assert_int_eq(find_pol(ctx, "10.15.6.6/32", "0.0.0.0/0", KDIR_IN)->act, KACT_BLOCK);
	p = find_pol(ctx, "::/0", "2001:db8:15::/48", KDIR_OUT);
	ck_assert_int_eq(p->act, KACT_TRAP);
	/* loopback is always clear */
	ck_assert_int_eq(find_pol(ctx, "0.0.0.0/0", "127.0.0.0/8", KDIR_OUT)->act, KACT_PASS);
	fixture_stop(&fx);
}
END_TEST

START_TEST(acquire_private_ends_in_drop_shunt_with_reason)
{
	struct fixture fx;
	fixture_start(&fx);
	struct meshd_ctx *ctx = fx.ctx;
	acquire(ctx, "10.15.1.10", "10.15.2.20", 17);
	const struct kpolicy *p = find_pol(ctx, "10.15.1.10/32", "10.15.2.20/32", KDIR_OUT);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_BLOCK);
	int st;
	/* negotiating: the drop negotiation shunt, and why says so */
	char *out = run_ctl(ctx, &st, "shuntstatus", NULL);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(out, "Bare Shunt list:\n \n"
			      "10.15.1.10/32 -0-> 10.15.2.20/32 => %drop    oe-negotiating\n");
	free(out);
	out = run_ctl(ctx, &st, "why", "10.15.2.20", NULL);
	ck_assert_msg(strstr(out, "state: negotiating since"), "%s", out);
	free(out);
	/* nobody answers (this test has no sockets): after retransmit-timeout=2s the
	 * attempt fails into the drop failure shunt with that reason */
	advance(&fx, 2500);
	out = run_ctl(ctx, &st, "shuntstatus", NULL);
	ck_assert_str_eq(out, "Bare Shunt list:\n \n"
			      "10.15.1.10/32 -0-> 10.15.2.20/32 => %drop    "
			      "no response to IKE_SA_INIT after 2 s\n");
	free(out);
	out = run_ctl(ctx, &st, "why", "10.15.2.20", NULL);
	ck_assert_msg(strstr(out, "group private (private), entry 10.15.0.0/16 at "), "%s", out);
	ck_assert_msg(strstr(out, "policies/private:2"), "%s", out);
	ck_assert_msg(strstr(out, "failure shunt %drop"), "%s", out);
	ck_assert_msg(strstr(out, "no response to IKE_SA_INIT after 2 s"), "%s", out);
	free(out);
	out = run_ctl(ctx, &st, "why", "10.15.2.20", "--json", NULL);
	ck_assert_msg(strstr(out, "\"state\":\"failed\""), "%s", out);
	ck_assert_msg(strstr(out, "\"reason\":\"no response to IKE_SA_INIT after 2 s\""), "%s", out);
	free(out);
	/* a second ACQUIRE for the same pair starts nothing new */
	uint64_t attempts = ctx->stats.attempts;
	acquire(ctx, "10.15.1.10", "10.15.2.20", 6);
	ck_assert_uint_eq(ctx->stats.attempts, attempts);
	/* after the shunt lifetime (60 s) and a sweep the trap shows through again */
	advance(&fx, 60000 + 20000);
	ck_assert_ptr_null(find_pol(ctx, "10.15.1.10/32", "10.15.2.20/32", KDIR_OUT));
	acquire(ctx, "10.15.1.10", "10.15.2.20", 17);
	ck_assert_uint_eq(ctx->stats.attempts, attempts + 1);
	fixture_stop(&fx);
}
END_TEST

START_TEST(acquire_poc_inside_private_passes)
{
	struct fixture fx;
	fixture_start(&fx);
	struct meshd_ctx *ctx = fx.ctx;
	/* a private-or-clear /32 inside the private /16 falls back to clear */
	acquire(ctx, "10.15.1.10", "10.15.7.7", 1);
	const struct kpolicy *p = find_pol(ctx, "10.15.1.10/32", "10.15.7.7/32", KDIR_OUT);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->act, KACT_PASS);
	/* ACQUIREs for our own address, or for a clear peer, start nothing */
	uint64_t attempts = ctx->stats.attempts;
	acquire(ctx, "10.15.1.10", "10.15.1.10", 1);
	acquire(ctx, "10.15.1.10", "10.15.1.1", 1);
	ck_assert_uint_eq(ctx->stats.attempts, attempts);
	ck_assert_uint_eq(ctx->stats.acquires_ignored, 2);
	fixture_stop(&fx);
}
END_TEST

START_TEST(reload_applies_only_the_difference)
{
	struct fixture fx;
	fixture_start(&fx);
	struct meshd_ctx *ctx = fx.ctx;
	const struct kmock_stats *st = kmock_stats(&ctx->kern);
	uint32_t reqid16 = find_pol(ctx, "0.0.0.0/0", "10.15.0.0/16", KDIR_OUT)->reqid;
	struct reload_result r;

	/* comment-only edit and reordering: nothing changes */
	write_file(fx.pol, "private", "2001:db8:15::/48   # v6\n# reordered\n10.15.0.0/16\n");
	size_t puts = st->put_items, dels = st->del_items;
	daemon_reload(ctx, &r);
	ck_assert(r.ok);
	ck_assert_uint_eq(r.added + r.removed + r.changed, 0);
	/* the 7 entries of the group files, not the automatic ones (loopback, link-local) */
	ck_assert_uint_eq(r.unchanged, 7);
	ck_assert_uint_eq(r.policies_put + r.policies_del, 0);
	ck_assert_uint_eq(st->put_items, puts);
	ck_assert_uint_eq(st->del_items, dels);

	/* append one line: exactly one trap added; the /16 keeps its reqid */
	write_file(fx.pol, "private", "2001:db8:15::/48\n10.15.0.0/16\n10.99.0.0/24\n");
	daemon_reload(ctx, &r);
	ck_assert_uint_eq(r.added, 1);
	ck_assert_uint_eq(r.removed + r.changed, 0);
	ck_assert_uint_eq(r.unchanged, 7);
	ck_assert_uint_eq(r.policies_put, 1);
	ck_assert_uint_eq(st->put_items, puts + 1);
	ck_assert_ptr_nonnull(find_pol(ctx, "0.0.0.0/0", "10.99.0.0/24", KDIR_OUT));
	ck_assert_uint_eq(find_pol(ctx, "0.0.0.0/0", "10.15.0.0/16", KDIR_OUT)->reqid, reqid16);

	/* move 10.15.6.6 from block to clear: its policies are replaced in place */
	write_file(fx.pol, "block", "\n");
	write_file(fx.pol, "clear", "10.15.1.1\n198.51.100.0/24\n10.15.6.6\n");
	daemon_reload(ctx, &r);
	ck_assert_uint_eq(r.changed, 1);
	ck_assert_uint_eq(r.added + r.removed, 0);
	ck_assert_int_eq(find_pol(ctx, "0.0.0.0/0", "10.15.6.6/32", KDIR_OUT)->act, KACT_PASS);

	/* remove a line: only its policy goes */
	size_t before = kmock_count(&ctx->kern);
	write_file(fx.pol, "private", "2001:db8:15::/48\n10.15.0.0/16\n");
	daemon_reload(ctx, &r);
	ck_assert_uint_eq(r.removed, 1);
	ck_assert_uint_eq(kmock_count(&ctx->kern), before - 1);

	/* a broken config is refused and nothing changes */
	write_file(fx.dir, "meshd.conf", "conn private\n\tnosuchkey=1\n");
	before = kmock_count(&ctx->kern);
	daemon_reload(ctx, &r);
	ck_assert(!r.ok);
	ck_assert_uint_ge(r.conf_errors, 1);
	ck_assert_msg(strstr(r.error_text, "meshd.conf:2: ") && strstr(r.error_text, "nosuchkey"),
		      "%s", r.error_text);
	ck_assert_uint_eq(kmock_count(&ctx->kern), before);
	fixture_stop(&fx);
}
END_TEST

START_TEST(reload_drops_shunts_of_reclassified_peers)
{
	struct fixture fx;
	fixture_start(&fx);
	struct meshd_ctx *ctx = fx.ctx;
	acquire(ctx, "10.15.1.10", "10.15.2.20", 17);
	ck_assert_uint_eq(shunts_count(ctx->shunts), 1);
	write_file(fx.pol, "clear", "10.15.1.1\n198.51.100.0/24\n10.15.2.20\n");
	struct reload_result r;
	daemon_reload(ctx, &r);
	ck_assert_uint_eq(r.shunts_dropped, 1);
	ck_assert_uint_eq(shunts_count(ctx->shunts), 0);
	ck_assert_ptr_null(find_pol(ctx, "10.15.1.10/32", "10.15.2.20/32", KDIR_OUT));
	fixture_stop(&fx);
}
END_TEST

START_TEST(status_output)
{
	struct fixture fx;
	fixture_start(&fx);
	int st;
	char *out = run_ctl(fx.ctx, &st, "status", NULL);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(out, "  private            private                2 entries"), "%s", out);
	ck_assert_msg(strstr(out, "kernel: "), "%s", out);
	free(out);
	out = run_ctl(fx.ctx, &st, "status", "--json", NULL);
	ck_assert_msg(strstr(out, "\"name\":\"private-or-clear\",\"class\":\"private-or-clear\""),
		      "%s", out);
	free(out);
	out = run_ctl(fx.ctx, &st, "frobnicate", NULL);
	ck_assert_int_eq(st, 2);
	free(out);
	out = run_ctl(fx.ctx, &st, "why", "not-an-address", NULL);
	ck_assert_int_eq(st, 2);
	free(out);
	fixture_stop(&fx);
}
END_TEST

/* Stop the daemon but keep the mock kernel open to look at what stayed; returns it. */
static struct kernel stop_keep_kernel(struct fixture *fx, struct kernel_ops *noclose)
{
	struct meshd_ctx *ctx = fx->ctx;
	*noclose = *ctx->kern.ops;
	noclose->close = NULL;
	ctx->kern.ops = noclose;
	struct kernel k = ctx->kern;
	daemon_stop(ctx);
	free(ctx);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	ck_assert_int_eq(system(cmd), 0);
	return k;
}

static const struct kpolicy *out_policy(const struct kernel *k, const char *dst)
{
	struct ksel sel = { 0 };
	ck_assert(prefix_parse(dst, &sel.dst, false, NULL));
	sel.src.a.family = sel.dst.a.family;
	return kmock_find(k, &sel, KDIR_OUT);
}

/* SIGTERM (a restart): private stays blocked until the next meshd owns the kernel,
 * private-or-clear falls back to clear, clear and block stay; shunts go (DESIGN 2.5). */
START_TEST(stop_keeps_private_blocked)
{
	struct fixture fx;
	fixture_start(&fx);
	acquire(fx.ctx, "10.15.1.10", "10.15.2.20", 17);
	size_t with_shunt = kmock_count(&fx.ctx->kern);
	struct kernel_ops noclose;
	const struct kernel_ops *real = fx.ctx->kern.ops;
	struct kernel k = stop_keep_kernel(&fx, &noclose);
	ck_assert_uint_lt(kmock_count(&k), with_shunt);       /* the shunt is gone */
	for (size_t i = 0; i < kmock_count(&k); i++)
		ck_assert_int_ne(kmock_at(&k, i)->act, KACT_TRAP);
	const struct kpolicy *p = out_policy(&k, "10.15.0.0/16");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(p->priority, POLICY_PRIO_BASE);     /* in place: same priority */
	ck_assert_int_eq(out_policy(&k, "10.15.0.0/16")->act, KACT_BLOCK);
	ck_assert_int_eq(out_policy(&k, "2001:db8:15::/48")->act, KACT_BLOCK);
	ck_assert_int_eq(out_policy(&k, "192.0.2.0/24")->act, KACT_PASS);
	ck_assert_int_eq(out_policy(&k, "10.15.7.7/32")->act, KACT_PASS);
	ck_assert_int_eq(out_policy(&k, "10.15.1.1/32")->act, KACT_PASS);
	ck_assert_int_eq(out_policy(&k, "10.15.6.6/32")->act, KACT_BLOCK);
	real->close(&k);
}
END_TEST

/* meshctl shutdown --flush: everything meshd installed goes. */
START_TEST(shutdown_flush_removes_everything)
{
	struct fixture fx;
	fixture_start(&fx);
	acquire(fx.ctx, "10.15.1.10", "10.15.2.20", 17);
	ck_assert_uint_gt(kmock_count(&fx.ctx->kern), 5);
	int st;
	char *out = run_ctl(fx.ctx, &st, "shutdown", "--flush", NULL);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(out, "removing all"), "%s", out);
	free(out);
	ck_assert(loop_stopping(fx.ctx->loop));
	struct kernel_ops noclose;
	const struct kernel_ops *real = fx.ctx->kern.ops;
	struct kernel k = stop_keep_kernel(&fx, &noclose);
	ck_assert_uint_eq(kmock_count(&k), 0);
	real->close(&k);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("loop+ctl+shunt");
	tcase_add_test(tc, loop_timers_order_and_cancel);
	tcase_add_test(tc, loop_timers_random);
	tcase_add_test(tc, ctl_framing);
	tcase_add_test(tc, shunt_lifecycle);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_add_test(tc, daemon_installs_group_policies);
	tcase_add_test(tc, acquire_private_ends_in_drop_shunt_with_reason);
	tcase_add_test(tc, acquire_poc_inside_private_passes);
	tcase_add_test(tc, reload_applies_only_the_difference);
	tcase_add_test(tc, reload_drops_shunts_of_reclassified_peers);
	tcase_add_test(tc, status_output);
	tcase_add_test(tc, stop_keeps_private_blocked);
	tcase_add_test(tc, shutdown_flush_removes_everything);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(core_suite)
