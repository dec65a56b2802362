/* control_sa.c — SA listings and actions for meshctl: trafficstatus (Libreswan 5 line
 * format; --json with strongSwan VICI list-sa field names), up, down. Part of the control
 * module (the only code that formats status). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_priv.h"
#include "ctx.h"
#include "ike.h"
#include "json.h"
#include "oe.h"

/* Libreswan's connection name of a group instance: "group#10.0.0.0/16" or, for an entry
 * with a protocol, "group#10.0.0.0/16-(lport--proto--rport)". */
static void conn_name(const struct ike_child_info *c, char *buf, size_t n)
{
	char pfx[PREFIX_STRLEN];
	prefix_str(&c->entry, pfx);
	if (c->proto)
		snprintf(buf, n, "%s#%s-(%u--%u--%u)", c->group, pfx, c->lport, c->proto, c->rport);
	else
		snprintf(buf, n, "%s#%s", c->group, pfx);
}

struct traffic {
	struct meshd_ctx *ctx;
	FILE *out;
	bool json, first;
};

static void sa_bytes(struct meshd_ctx *ctx, const struct addr *dst, uint32_t spi,
		     struct ksa_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ctx->kern.ops->sa_stats)
		ctx->kern.ops->sa_stats(&ctx->kern, dst, spi, st);
}

static void one_child(const struct ike_child_info *c, void *arg)
{
	struct traffic *t = arg;
	struct ksa_stats in, out;
	char name[160], peer[ADDR_STRLEN], local[ADDR_STRLEN];
	sa_bytes(t->ctx, &c->local, c->spi_in, &in);
	sa_bytes(t->ctx, &c->peer, c->spi_out, &out);
	conn_name(c, name, sizeof(name));
	addr_str(&c->peer, peer);
	addr_str(&c->local, local);
	if (!t->json) {
		/* #2: "private#10.15.0.0/16"[1] ...10.15.1.2, type=ESP, add_time=…,
		 * inBytes=…, outBytes=…, maxBytes=2^63B, id='…' */
		fprintf(t->out, "#%" PRIu32 ": \"%s\"[%u] ...%s, type=ESP, add_time=%lld, "
			"inBytes=%" PRIu64 ", outBytes=%" PRIu64 ", maxBytes=2^63B, id='%s'\n",
			c->serial, name, c->instance, peer, (long long)c->add_time, in.bytes,
			out.bytes, c->peer_id ? c->peer_id : "");
		return;
	}
	char buf[32];
	bool f = true, g = true;
	fputs(t->first ? "{" : ",{", t->out);
	t->first = false;
	json_kv_u64(t->out, &f, "uniqueid", c->ike_serial);
	json_kv_str(t->out, &f, "version", "2");
	json_kv_str(t->out, &f, "state", "ESTABLISHED");
	json_kv_str(t->out, &f, "local-host", local);
	json_kv_str(t->out, &f, "remote-host", peer);
	json_kv_str(t->out, &f, "remote-id", c->peer_id);
	json_kv_str(t->out, &f, "auth", c->auth);
	json_kv_str(t->out, &f, "key-source", c->key_source ? c->key_source : "");
	json_kv_str(t->out, &f, "ike-algorithms", c->ike_algs);
	json_kv_str(t->out, &f, "conn", name);
	json_kv_u64(t->out, &f, "instance", c->instance);
	json_key(t->out, &f, "child-sas");
	fputc('{', t->out);
	snprintf(buf, sizeof(buf), "%s-%" PRIu32, c->group, c->serial);
	json_key(t->out, &g, buf);
	bool h = true;
	fputc('{', t->out);
	json_kv_u64(t->out, &h, "uniqueid", c->serial);
	json_kv_u64(t->out, &h, "reqid", c->reqid);
	json_kv_str(t->out, &h, "state", "INSTALLED");
	json_kv_str(t->out, &h, "mode", c->tunnel ? "TUNNEL" : "TRANSPORT");
	json_kv_str(t->out, &h, "protocol", "ESP");
	json_kv_str(t->out, &h, "algorithms", c->algs);
	snprintf(buf, sizeof(buf), "%08" PRIx32, c->spi_in);
	json_kv_str(t->out, &h, "spi-in", buf);
	snprintf(buf, sizeof(buf), "%08" PRIx32, c->spi_out);
	json_kv_str(t->out, &h, "spi-out", buf);
	json_kv_u64(t->out, &h, "bytes-in", in.bytes);
	json_kv_u64(t->out, &h, "packets-in", in.packets);
	json_kv_u64(t->out, &h, "bytes-out", out.bytes);
	json_kv_u64(t->out, &h, "packets-out", out.packets);
	json_kv_u64(t->out, &h, "install-time", (uint64_t)c->add_time);
	json_kv_u64(t->out, &h, "use-in", in.use_time);
	json_kv_u64(t->out, &h, "use-out", out.use_time);
	json_key(t->out, &h, "local-ts");
	fputc('[', t->out);
	struct prefix lp, rp;
	char ls[PREFIX_STRLEN], rs[PREFIX_STRLEN];
	prefix_host(&c->local, &lp);
	prefix_host(&c->peer, &rp);
	json_str(t->out, prefix_str(&lp, ls));
	fputs("]", t->out);
	json_key(t->out, &h, "remote-ts");
	fputc('[', t->out);
	json_str(t->out, prefix_str(&rp, rs));
	fputs("]}}}", t->out);
}

int ctl_trafficstatus(struct meshd_ctx *ctx, bool json, FILE *out)
{
	struct traffic t = { .ctx = ctx, .out = out, .json = json, .first = true };
	if (json)
		fputs("{\"sas\":[", out);
	if (ctx->ike)
		ike_child_foreach(ctx->ike, one_child, &t);
	if (json)
		fputs("]}\n", out);
	return 0;
}

/* The local address the kernel would use toward peer (a connected UDP socket). */
static int route_source(const struct addr *peer, struct addr *src)
{
	struct sockaddr_storage ss, me;
	socklen_t sl = addr_to_sockaddr(peer, 500, &ss), ml = sizeof(me);
	int fd = socket(peer->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
		getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ? -errno : 0;
	close(fd);
	if (!r)
		addr_from_sockaddr((struct sockaddr *)&me, src, NULL);
	return r;
}

/* meshctl up ADDR: negotiate now, exactly as a first packet would (same checks, shunts). */
int ctl_up(struct meshd_ctx *ctx, const char *arg, FILE *out)
{
	struct kacquire acq = { 0 };
	struct addr *peer = &acq.sel.dst.a, *local = &acq.sel.src.a;
	if (!addr_parse(arg, peer)) {
		fprintf(out, "up: '%s' is not a numeric IPv4 or IPv6 address\n", arg);
		return 2;
	}
	int r = route_source(peer, local);
	if (r < 0) {
		fprintf(out, "up: no route to %s: %s\n", arg, strerror(-r));
		return 1;
	}
	acq.sel.src.len = acq.sel.dst.len = (uint8_t)addr_bits(peer->family);
	const struct pol_entry *e = policy_classify(ctx->pol, peer, 0, 0, 0);
	const struct pol_group *g = e ? policy_group(ctx->pol, e) : NULL;
	if (!g || (g->cls != GC_OE_PASS && g->cls != GC_OE_DROP && g->cls != GC_OE_RESPOND)) {
		fprintf(out, "up: %s is not in a negotiating group (see meshctl why %s)\n", arg, arg);
		return 1;
	}
	acq.reqid = e->reqid;
	uint64_t before = ctx->stats.attempts;
	oe_acquire(ctx, &acq);
	if (ctx->stats.attempts == before) {
		fprintf(out, "up: nothing started for %s (already negotiating or established, or "
			"a failure shunt is in place: see meshctl why %s)\n", arg, arg);
		return 1;
	}
	fprintf(out, "up: negotiating with %s from %s (group %s); see meshctl trafficstatus\n",
		arg, addr_str(local, (char[ADDR_STRLEN]){ 0 }), g->name);
	return 0;
}

/* meshctl down ADDR: delete the SAs with a peer (Delete notifications are sent). */
int ctl_down(struct meshd_ctx *ctx, const char *arg, FILE *out)
{
	struct addr peer;
	if (!addr_parse(arg, &peer)) {
		fprintf(out, "down: '%s' is not a numeric IPv4 or IPv6 address\n", arg);
		return 2;
	}
	size_t n = ctx->ike ? ike_down(ctx->ike, &peer) : 0;
	if (!n) {
		fprintf(out, "down: no IKE SA with %s\n", arg);
		return 1;
	}
	fprintf(out, "down: deleted %zu IKE SA%s with %s\n", n, n == 1 ? "" : "s", arg);
	return 0;
}

struct why_sa {
	const struct addr *peer;
	FILE *out;
	bool json;
	size_t n;
};

static void why_one(const struct ike_child_info *c, void *arg)
{
	struct why_sa *w = arg;
	if (!addr_eq(&c->peer, w->peer))
		return;
	if (w->json) {
		bool f = true;
		char buf[32];
		fputs(w->n ? ",{" : "{", w->out);
		json_kv_u64(w->out, &f, "child", c->serial);
		json_kv_u64(w->out, &f, "ike", c->ike_serial);
		json_kv_str(w->out, &f, "mode", c->tunnel ? "tunnel" : "transport");
		json_kv_str(w->out, &f, "peer_id", c->peer_id);
		json_kv_str(w->out, &f, "auth", c->auth);
		json_kv_str(w->out, &f, "key_source", c->key_source);
		json_kv_str(w->out, &f, "algorithms", c->algs);
		snprintf(buf, sizeof(buf), "%08x", c->spi_out);
		json_kv_str(w->out, &f, "spi_out", buf);
		fputc('}', w->out);
	} else {
		fprintf(w->out, "  SA: Child SA #%u (IKE SA #%u) established, %s, %s; peer '%s' "
			"authenticated by %s (key: %s)\n", c->serial, c->ike_serial,
			c->tunnel ? "tunnel" : "transport", c->algs ? c->algs : "ESP",
			c->peer_id ? c->peer_id : "", c->auth ? c->auth : "?",
			c->key_source ? c->key_source : "?");
	}
	w->n++;
}

size_t ctl_why_sas(struct meshd_ctx *ctx, const struct addr *peer, bool json, FILE *out)
{
	struct why_sa w = { .peer = peer, .out = out, .json = json };
	if (json)
		fputc('[', out);
	if (ctx->ike)
		ike_child_foreach(ctx->ike, why_one, &w);
	if (json)
		fputc(']', out);
	return w.n;
}
