/* control.c — meshctl requests: status, shuntstatus, trafficstatus, why, reload.
 * Plain output follows Libreswan's formats where scrapers expect them; every listing
 * also has --json with stable field names (documented in meshctl(8)). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "control.h"
#include "control_priv.h"
#include "ctl_proto.h"
#include "ctx.h"
#include "daemon.h"
#include "ike.h"
#include "ike_auth.h"
#include "json.h"
#include "kernel_apply.h"
#include "nft.h"
#include "nft_log.h"
#include "oe.h"
#include "shunt.h"

static const char *ctl_path(const struct meshd_ctx *ctx)
{
	return ctx->opts.ctlsocket ? ctx->opts.ctlsocket : ctx->conf->setup.ctlsocket;
}

static void fmt_duration(char *buf, size_t n, uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, n, "%" PRIu64 "d%" PRIu64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%" PRIu64 "h%" PRIu64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, n, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, n, "%" PRIu64 "s", s);
}

static void fmt_time(char *buf, size_t n, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *class_action(enum group_class gc)
{
	switch (gc) {
	case GC_CLEAR: return "pass in/out/fwd";
	case GC_BLOCK: return "block in/out/fwd";
	case GC_OE_PASS: return "trap out; negotiate on first packet; failure: pass";
	case GC_OE_DROP: return "trap out; negotiate on first packet; failure: drop";
	case GC_OE_RESPOND: return "no kernel policy; answer IKE only";
	case GC_NONE: break;
	}
	return "-";
}

/* Loopback ::1 is a host prefix too; tell it apart from the host's own addresses. */
static bool prefix_is_special(const struct prefix *p)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	return p->a.family == AF_INET6 && memcmp(p->a.b, lo6, 16) == 0;
}

/* ---- status ---- */

struct kcounts { size_t trap, pass, block; };

static void count_kernel(const struct meshd_ctx *ctx, struct kcounts *kc)
{
	memset(kc, 0, sizeof(*kc));
	for (size_t i = 0; i < ctx->pol->n_entries; i++) {
		struct kpolicy kp[3];
		size_t n = kernel_entry_policies(ctx->pol, &ctx->pol->entries[i], kp);
		for (size_t j = 0; j < n; j++) {
			if (kp[j].act == KACT_TRAP)
				kc->trap++;
			else if (kp[j].act == KACT_BLOCK)
				kc->block++;
			else
				kc->pass++;
		}
	}
}

static void shunt_counts(const struct meshd_ctx *ctx, size_t *nego, size_t *fpass, size_t *fdrop)
{
	*nego = *fpass = *fdrop = 0;
	for (size_t i = 0; i < shunts_count(ctx->shunts); i++) {
		const struct shunt *sh = shunts_at(ctx->shunts, i);
		if (sh->kind == SHUNT_NEGOTIATING)
			(*nego)++;
		else if (sh->action == SHUNT_PASS)
			(*fpass)++;
		else
			(*fdrop)++;
	}
}

/* Inbound enforcement counters; false when enforcement is off. */
static bool inbound_counters(struct meshd_ctx *ctx, struct nft_counters *c)
{
	memset(c, 0, sizeof(*c));
	return ctx->nft && nft_counters(ctx->nft, c) == 0;
}

static void json_count(FILE *out, bool *f, const char *name, const struct nft_count *c)
{
	char k[64];
	snprintf(k, sizeof(k), "%s_packets", name);
	json_kv_u64(out, f, k, c->packets);
	snprintf(k, sizeof(k), "%s_bytes", name);
	json_kv_u64(out, f, k, c->bytes);
}

/* The node certificates in use (one per leftcert= nickname): subject, serial, expiry and
 * a warning within cert-expiry-warning= (JSON: an array under "certificates"). */
static void status_certs(struct meshd_ctx *ctx, bool json, FILE *out)
{
	uint32_t warn_s = ctx->conf->setup.cert_expiry_warning_s;
	time_t now = time(NULL);
	size_t shown = 0;
	if (json)
		fputc('[', out);
	for (size_t i = 0;; i++) {
		const char *nick = NULL;
		struct cert_store *s = ike_certs_store(ctx, i, &nick);
		if (!nick)
			break;
		const struct cert_self *me = s ? cert_self(s) : NULL;
		if (!me || me->key == CERT_KEY_NONE)
			continue;
		char na[32], when[48];
		bool warn = cert_expiry_str(me->not_after, now, warn_s, when, sizeof(when));
		fmt_time(na, sizeof(na), me->not_after);
		if (json) {
			bool f = true;
			fputs(shown ? ",{" : "{", out);
			json_kv_str(out, &f, "nickname", nick);
			json_kv_str(out, &f, "subject", me->subject);
			json_kv_str(out, &f, "issuer", me->issuer);
			json_kv_str(out, &f, "serial", me->serial);
			json_kv_str(out, &f, "not_after", na);
			json_kv_u64(out, &f, "expires_in_days", me->not_after > now ?
				    (uint64_t)(me->not_after - now) / 86400 : 0);
			json_kv_bool(out, &f, "expiry_warning", warn);
			fputc('}', out);
		} else {
			fprintf(out, "node certificate \"%s\": %s, serial %s, expires %s (%s)\n", nick,
				me->subject, me->serial, na, when);
			if (warn)
				fprintf(out, "  WARNING: node certificate \"%s\" expires %s "
					"(cert-expiry-warning=%ud); renew it\n", nick, when,
					warn_s / 86400);
		}
		shown++;
	}
	if (json)
		fputc(']', out);
}

static int cmd_status(struct meshd_ctx *ctx, bool json, FILE *out)
{
	struct nft_counters nc;
	bool inbound = inbound_counters(ctx, &nc);
	struct ike_counts ic = { 0 };
	if (ctx->ike)
		ike_counts(ctx->ike, &ic);
	struct kcounts kc;
	size_t nego, fpass, fdrop;
	count_kernel(ctx, &kc);
	shunt_counts(ctx, &nego, &fpass, &fdrop);
	uint64_t up = (uint64_t)(time(NULL) - ctx->started);
	if (json) {
		bool f = true, g;
		fputc('{', out);
		json_kv_str(out, &f, "version", PACKAGE_VERSION);
		json_kv_u64(out, &f, "pid", (uint64_t)getpid());
		json_kv_u64(out, &f, "uptime_s", up);
		json_kv_str(out, &f, "config", ctx->opts.config);
		json_kv_str(out, &f, "policies_dir", ctx->conf->setup.policies_dir);
		json_key(out, &f, "certificates");
		status_certs(ctx, true, out);
		json_key(out, &f, "groups");
		fputc('[', out);
		for (size_t i = 0; i < ctx->pol->n_groups; i++) {
			const struct pol_group *gr = &ctx->pol->groups[i];
			g = true;
			fputs(i ? ",{" : "{", out);
			json_kv_str(out, &g, "name", gr->name);
			json_kv_str(out, &g, "class", group_class_name(gr->cls));
			json_kv_str(out, &g, "file", gr->file);
			json_kv_bool(out, &g, "file_missing", gr->file_missing);
			json_kv_bool(out, &g, "automatic", gr->conn < 0);
			json_kv_u64(out, &g, "entries", gr->n_entries);
			fputc('}', out);
		}
		fputc(']', out);
		json_key(out, &f, "kernel");
		g = true;
		fputc('{', out);
		json_kv_u64(out, &g, "policies", kc.trap + kc.pass + kc.block);
		json_kv_u64(out, &g, "traps", kc.trap);
		json_kv_u64(out, &g, "pass", kc.pass);
		json_kv_u64(out, &g, "block", kc.block);
		json_kv_u64(out, &g, "refused_total", ctx->stats.kernel_errors);
		fputc('}', out);
		json_key(out, &f, "shunts");
		g = true;
		fputc('{', out);
		json_kv_u64(out, &g, "negotiating", nego);
		json_kv_u64(out, &g, "failed_pass", fpass);
		json_kv_u64(out, &g, "failed_drop", fdrop);
		fputc('}', out);
		json_key(out, &f, "inbound");
		g = true;
		fputc('{', out);
		json_kv_bool(out, &g, "enforced", inbound);
		json_kv_str(out, &g, "error", ctx->opts.no_nft ? "disabled"
					    : ctx->nft_error[0] ? ctx->nft_error : NULL);
		json_count(out, &g, "private_dropped", &nc.private_dropped);
		json_count(out, &g, "private_or_clear_accepted", &nc.poc_accepted);
		json_count(out, &g, "ike_accepted", &nc.ike_accepted);
		json_count(out, &g, "esp_accepted", &nc.esp_accepted);
		json_count(out, &g, "ipsec_accepted", &nc.ipsec_accepted);
		json_kv_u64(out, &g, "trigger_nflog_group",
			    ctx->nflog ? nft_log_group_of(ctx->nflog) : 0);
		json_kv_str(out, &g, "trigger_error", ctx->nflog || ctx->opts.no_nft ? NULL
						       : ctx->nflog_error);
		json_kv_u64(out, &g, "trigger_packets", ctx->stats.inbound_triggers);
		json_kv_u64(out, &g, "trigger_ignored", ctx->stats.inbound_ignored);
		fputc('}', out);
		json_key(out, &f, "host_addresses");
		fputc('[', out);
		for (size_t i = 0; i < ctx->host.n; i++) {
			char a[ADDR_STRLEN];
			if (i)
				fputc(',', out);
			json_str(out, addr_str(&ctx->host.a[i], a));
		}
		fputc(']', out);
		json_key(out, &f, "counters");
		g = true;
		fputc('{', out);
		json_kv_u64(out, &g, "acquires", ctx->stats.acquires);
		json_kv_u64(out, &g, "acquires_ignored", ctx->stats.acquires_ignored);
		json_kv_u64(out, &g, "attempts", ctx->stats.attempts);
		json_kv_u64(out, &g, "failures", ctx->stats.failures);
		json_kv_u64(out, &g, "reloads", ctx->stats.reloads);
		json_kv_u64(out, &g, "reload_errors", ctx->stats.reload_errors);
		json_kv_u64(out, &g, "ike_dropped", ctx->stats.ike_dropped);
		fputc('}', out);
		json_key(out, &f, "ike");
		g = true;
		fputc('{', out);
		json_kv_u64(out, &g, "ike_sas", ic.ike_total);
		json_kv_u64(out, &g, "ike_half_open", ic.ike_half_open);
		json_kv_u64(out, &g, "ike_established", ic.ike_established);
		json_kv_u64(out, &g, "ike_anonymous", ic.ike_anonymous);
		json_kv_u64(out, &g, "child_sas", ic.child_total);
		json_kv_u64(out, &g, "rx", ic.rx);
		json_kv_u64(out, &g, "tx", ic.tx);
		json_kv_u64(out, &g, "retransmits", ic.retransmits);
		json_kv_u64(out, &g, "rx_dropped_malformed", ic.rx_dropped_malformed);
		json_kv_u64(out, &g, "rx_dropped_integrity", ic.rx_dropped_integrity);
		json_kv_u64(out, &g, "rx_ignored_policy", ic.rx_ignored_policy);
		fputc('}', out);
		fputs("}\n", out);
		return 0;
	}
	char d[32];
	fmt_duration(d, sizeof(d), up);
	fprintf(out, "meshd %s, pid %d, up %s\n", PACKAGE_VERSION, (int)getpid(), d);
	fprintf(out, "config: %s; groups from %s\n", ctx->opts.config,
		ctx->conf->setup.policies_dir);
	status_certs(ctx, false, out);
	fprintf(out, "groups:\n");
	for (size_t i = 0; i < ctx->pol->n_groups; i++) {
		const struct pol_group *gr = &ctx->pol->groups[i];
		if (gr->conn < 0)
			continue;
		fprintf(out, "  %-18s %-17s %6zu entries  %s%s\n", gr->name,
			group_class_name(gr->cls), gr->n_entries, gr->file,
			gr->file_missing ? " (missing: empty)" : "");
	}
	fprintf(out, "always clear (automatic): loopback, link-local");
	for (size_t i = 0; i < ctx->host.n; i++) {
		char a[ADDR_STRLEN];
		fprintf(out, ", %s", addr_str(&ctx->host.a[i], a));
	}
	fprintf(out, ", IKE (UDP %u/%u, per-socket bypass)\n", ctx->conf->setup.ike_port,
		ctx->conf->setup.nat_ike_port);
	fprintf(out, "kernel: %zu policies (%zu trap, %zu pass, %zu block); %" PRIu64
		" refused since start\n", kc.trap + kc.pass + kc.block, kc.trap, kc.pass,
		kc.block, ctx->stats.kernel_errors);
	fprintf(out, "shunts: %zu negotiating, %zu failed-pass, %zu failed-drop\n", nego, fpass,
		fdrop);
	if (inbound)
		fprintf(out, "inbound (nft inet meshd): cleartext from private dropped %" PRIu64
			" pkts; clear from private-or-clear %" PRIu64 " pkts; IKE %" PRIu64
			", ESP %" PRIu64 ", decrypted %" PRIu64 " pkts\n",
			nc.private_dropped.packets, nc.poc_accepted.packets, nc.ike_accepted.packets,
			nc.esp_accepted.packets, nc.ipsec_accepted.packets);
	if (inbound && ctx->nflog)
		fprintf(out, "inbound trigger (NFLOG group %u): %" PRIu64 " dropped packets "
			"reported, %" PRIu64 " started nothing (peer busy or not ours)\n",
			nft_log_group_of(ctx->nflog), ctx->stats.inbound_triggers,
			ctx->stats.inbound_ignored);
	else if (inbound)
		fprintf(out, "inbound trigger: OFF (%s): dropped cleartext starts no negotiation\n",
			ctx->nflog_error[0] ? ctx->nflog_error : "not running");
	if (!inbound)
		fprintf(out, "inbound enforcement: OFF (%s)\n",
			ctx->opts.no_nft ? "disabled" : ctx->nft_error[0] ? ctx->nft_error
									  : "table missing");
	fprintf(out, "OE: %" PRIu64 " acquires (%" PRIu64 " ignored), %" PRIu64 " attempts, %" PRIu64
		" failed\n", ctx->stats.acquires, ctx->stats.acquires_ignored, ctx->stats.attempts,
		ctx->stats.failures);
	fprintf(out, "IKE SAs: total(%zu), half-open(%zu), established(%zu), anonymous(%zu)\n",
		ic.ike_total, ic.ike_half_open, ic.ike_established, ic.ike_anonymous);
	fprintf(out, "IPsec SAs: total(%zu)\n", ic.child_total);
	return 0;
}

/* ---- shuntstatus ---- */

static void shunt_sel(const struct shunt *sh, char *l, char *p)
{
	struct prefix x;
	prefix_host(&sh->local, &x);
	prefix_str(&x, l);
	prefix_host(&sh->peer, &x);
	prefix_str(&x, p);
}

static int cmd_shuntstatus(struct meshd_ctx *ctx, bool json, FILE *out)
{
	uint64_t now = loop_now_ms(ctx->loop);
	size_t n = shunts_count(ctx->shunts);
	if (json) {
		fputs("{\"shunts\":[", out);
		for (size_t i = 0; i < n; i++) {
			const struct shunt *sh = shunts_at(ctx->shunts, i);
			char l[PREFIX_STRLEN], p[PREFIX_STRLEN], t[32];
			bool f = true;
			shunt_sel(sh, l, p);
			fmt_time(t, sizeof(t), sh->created_wall);
			fputs(i ? ",{" : "{", out);
			json_kv_str(out, &f, "local", l);
			json_kv_str(out, &f, "remote", p);
			json_kv_u64(out, &f, "protocol", sh->proto);
			json_kv_u64(out, &f, "local_port", sh->lport);
			json_kv_u64(out, &f, "remote_port", sh->rport);
			json_kv_str(out, &f, "action", shunt_action_name(sh->action));
			json_kv_str(out, &f, "kind",
				    sh->kind == SHUNT_NEGOTIATING ? "negotiation" : "failure");
			json_kv_str(out, &f, "group", sh->group);
			json_kv_str(out, &f, "reason", sh->reason);
			json_kv_str(out, &f, "since", t);
			json_kv_u64(out, &f, "expires_in_s",
				    sh->expires_ms > now ? (sh->expires_ms - now + 999) / 1000 : 0);
			fputc('}', out);
		}
		fputs("]}\n", out);
		return 0;
	}
	/* Libreswan's layout: a title, a separator line holding one space, then one line
	 * per shunt: "<ours> -<proto>-> <peer> => %<action>    <why>". */
	fputs("Bare Shunt list:\n \n", out);
	for (size_t i = 0; i < n; i++) {
		const struct shunt *sh = shunts_at(ctx->shunts, i);
		char l[PREFIX_STRLEN], p[PREFIX_STRLEN];
		shunt_sel(sh, l, p);
		fprintf(out, "%s -%u-> %s => %%%s    %s\n", l, sh->proto, p,
			shunt_action_name(sh->action), sh->reason);
	}
	return 0;
}

/* ---- trafficstatus ---- */

/* ---- why ---- */

static int cmd_why(struct meshd_ctx *ctx, const char *arg, bool json, FILE *out)
{
	struct addr a;
	if (!addr_parse(arg, &a)) {
		fprintf(out, "why: '%s' is not a numeric IPv4 or IPv6 address\n", arg);
		return 2;
	}
	char as[ADDR_STRLEN], pfx[PREFIX_STRLEN];
	addr_str(&a, as);
	const struct pol_entry *e = policy_classify(ctx->pol, &a, 0, 0, 0);
	const struct pol_group *g = e ? policy_group(ctx->pol, e) : NULL;
	const struct shunt *sh = shunt_find_peer(ctx->shunts, &a);
	const struct peer_diag *pd = peers_find(ctx->peers, &a);
	uint64_t now = loop_now_ms(ctx->loop);
	struct kpolicy kp[3];
	size_t nk = e ? kernel_entry_policies(ctx->pol, e, kp) : 0;

	if (json) {
		bool f = true;
		fputc('{', out);
		json_kv_str(out, &f, "address", as);
		json_key(out, &f, "match");
		if (e) {
			bool m = true;
			fputc('{', out);
			json_kv_str(out, &m, "group", g->name);
			json_kv_str(out, &m, "class", group_class_name(g->cls));
			json_kv_str(out, &m, "entry", prefix_str(&e->pfx, pfx));
			json_kv_u64(out, &m, "protocol", e->proto);
			json_kv_u64(out, &m, "local_port", e->lport);
			json_kv_u64(out, &m, "remote_port", e->rport);
			json_kv_str(out, &m, "file", e->file);
			json_kv_u64(out, &m, "line", e->line);
			json_kv_bool(out, &m, "automatic", g->conn < 0);
			json_kv_u64(out, &m, "reqid", e->reqid);
			json_kv_str(out, &m, "kernel", class_action(g->cls));
			json_kv_u64(out, &m, "priority", nk ? kp[0].priority : 0);
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		json_key(out, &f, "shunt");
		if (sh) {
			bool m = true;
			fputc('{', out);
			json_kv_str(out, &m, "kind",
				    sh->kind == SHUNT_NEGOTIATING ? "negotiation" : "failure");
			json_kv_str(out, &m, "action", shunt_action_name(sh->action));
			json_kv_str(out, &m, "reason", sh->reason);
			json_kv_u64(out, &m, "expires_in_s",
				    sh->expires_ms > now ? (sh->expires_ms - now + 999) / 1000 : 0);
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		json_key(out, &f, "history");
		if (pd) {
			bool m = true;
			char t[32] = "";
			fputc('{', out);
			json_kv_u64(out, &m, "attempts", pd->attempts);
			json_kv_u64(out, &m, "failures", pd->failures);
			if (pd->last_failure)
				fmt_time(t, sizeof(t), pd->last_failure);
			json_kv_str(out, &m, "last_failure", pd->last_failure ? t : NULL);
			json_kv_str(out, &m, "last_reason", pd->last_failure ? pd->last_reason : NULL);
			json_kv_str(out, &m, "note", pd->last_note[0] ? pd->last_note : NULL);
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		json_key(out, &f, "sas");
		size_t n_sas = ctl_why_sas(ctx, &a, true, out);
		json_key(out, &f, "state");
		json_str(out, n_sas ? "established"
			 : sh ? (sh->kind == SHUNT_NEGOTIATING ? "negotiating" : "failed")
			 : !e ? "not covered"
			 : g->cls == GC_OE_PASS || g->cls == GC_OE_DROP ? "trap" : group_class_name(g->cls));
		fputs("}\n", out);
		return 0;
	}

	if (!e) {
		fprintf(out, "%s: no group covers it; meshd leaves its traffic alone (cleartext)\n",
			as);
	} else if (g->conn < 0) {
		fprintf(out, "%s: always clear: %s (automatic entry %s)\n", as,
			e->pfx.len == addr_bits(e->pfx.a.family) && !prefix_is_special(&e->pfx) ? "this host's own address" : "loopback or link-local",
			prefix_str(&e->pfx, pfx));
	} else {
		fprintf(out, "%s: group %s (%s), entry %s", as, g->name, group_class_name(g->cls),
			prefix_str(&e->pfx, pfx));
		if (e->proto)
			fprintf(out, " proto %u ports %u/%u", e->proto, e->lport, e->rport);
		fprintf(out, " at %s:%u\n", e->file, e->line);
		fprintf(out, "  kernel: %s", class_action(g->cls));
		if (nk)
			fprintf(out, " (priority %u%s)", kp[0].priority,
				kp[0].act == KACT_TRAP ? ", reqid planted" : "");
		fputc('\n', out);
	}
	size_t n_sas = ctl_why_sas(ctx, &a, false, out);
	if (sh) {
		char t[32], left[32] = "";
		fmt_time(t, sizeof(t), sh->created_wall);
		if (sh->expires_ms > now)
			fmt_duration(left, sizeof(left), (sh->expires_ms - now + 999) / 1000);
		if (sh->kind == SHUNT_NEGOTIATING)
			fprintf(out, "  state: negotiating since %s (negotiation shunt %%%s)\n", t,
				shunt_action_name(sh->action));
		else
			fprintf(out, "  state: failure shunt %%%s since %s, %s%s: %s\n",
				shunt_action_name(sh->action), t, left[0] ? "expires in " : "expiring",
				left, sh->reason);
	} else if (!n_sas && e && (g->cls == GC_OE_PASS || g->cls == GC_OE_DROP)) {
		fprintf(out, "  state: trap armed; the next packet starts IKE\n");
	}
	if (pd && pd->last_note[0])
		fprintf(out, "  note: %s\n", pd->last_note);
	if (pd && pd->last_failure) {
		char t[32];
		fmt_time(t, sizeof(t), pd->last_failure);
		/* failures count both roles, attempts only the ones we started: say so
		 * rather than print "1 of 0 attempts" on a responder */
		fprintf(out, "  last failure: %s: %s (%u failed; %u started by us)\n", t,
			pd->last_reason, pd->failures, pd->attempts);
	}
	return 0;
}

/* ---- reload ---- */

static int cmd_reload(struct meshd_ctx *ctx, bool json, FILE *out)
{
	struct reload_result r;
	daemon_reload(ctx, &r);
	if (json) {
		bool f = true;
		fputc('{', out);
		json_kv_bool(out, &f, "ok", r.ok);
		json_kv_u64(out, &f, "added", r.added);
		json_kv_u64(out, &f, "removed", r.removed);
		json_kv_u64(out, &f, "changed", r.changed);
		json_kv_u64(out, &f, "unchanged", r.unchanged);
		json_kv_u64(out, &f, "sas_deleted", r.sas_deleted);
		json_kv_u64(out, &f, "kernel_policies_added", r.policies_put);
		json_kv_u64(out, &f, "kernel_policies_removed", r.policies_del);
		json_kv_u64(out, &f, "kernel_refused", r.kernel_failed);
		json_kv_u64(out, &f, "shunts_dropped", r.shunts_dropped);
		json_kv_u64(out, &f, "config_errors", r.conf_errors);
		json_kv_u64(out, &f, "config_warnings", r.conf_warnings);
		json_kv_str(out, &f, "error", r.ok ? NULL : r.error_text);
		fputs("}\n", out);
	} else if (r.ok) {
		fprintf(out, "reloaded: %zu added, %zu removed, %zu changed, %zu unchanged entries; "
			"%zu SAs torn down; kernel: +%zu -%zu policies", r.added, r.removed,
			r.changed, r.unchanged, r.sas_deleted, r.policies_put, r.policies_del);
		if (r.kernel_failed)
			fprintf(out, "; %zu kernel policies refused (see the log)", r.kernel_failed);
		if (r.shunts_dropped)
			fprintf(out, "; %zu shunts dropped", r.shunts_dropped);
		if (r.conf_warnings)
			fprintf(out, "; %u warnings (see the log)", r.conf_warnings);
		fputc('\n', out);
	} else {
		fprintf(out, "%sreload refused: %u errors in the configuration; the running "
			"configuration is unchanged\n", r.error_text, r.conf_errors);
	}
	return r.ok ? (r.kernel_failed ? 1 : 0) : 1;
}

/* shutdown [--flush]: stop as SIGTERM does (the kernel stays failing closed for the next
 * start), or with --flush remove everything meshd installed (uninstalling, disabling). */
static int cmd_shutdown(struct meshd_ctx *ctx, bool flush, FILE *out)
{
	ctx->flush_on_stop = flush;
	loop_stop(ctx->loop);
	fprintf(out, flush ? "meshd stopping; removing all its kernel policies, SAs and the nft "
		"table\n" : "meshd stopping; private destinations stay blocked until it starts "
		"again (shutdown --flush removes everything)\n");
	return 0;
}

int ctl_execute(struct meshd_ctx *ctx, int argc, char **argv, FILE *out)
{
	bool json = false;
	int n = 0;
	char *args[CTL_MAX_ARGS];
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			args[n++] = argv[i];
	}
	if (n == 0) {
		fprintf(out, "no command\n");
		return 2;
	}
	const char *cmd = args[0];
	if (strcmp(cmd, "status") == 0 && n == 1)
		return cmd_status(ctx, json, out);
	if (strcmp(cmd, "shuntstatus") == 0 && n == 1)
		return cmd_shuntstatus(ctx, json, out);
	if (strcmp(cmd, "trafficstatus") == 0 && n == 1)
		return ctl_trafficstatus(ctx, json, out);
	if (strcmp(cmd, "up") == 0 && n == 2)
		return ctl_up(ctx, args[1], out);
	if (strcmp(cmd, "down") == 0 && n == 2)
		return ctl_down(ctx, args[1], out);
	if (strcmp(cmd, "why") == 0 && n == 2)
		return cmd_why(ctx, args[1], json, out);
	if (strcmp(cmd, "reload") == 0 && n == 1)
		return cmd_reload(ctx, json, out);
	if (strcmp(cmd, "shutdown") == 0 && (n == 1 || (n == 2 && strcmp(args[1], "--flush") == 0)))
		return cmd_shutdown(ctx, n == 2, out);
	if (strcmp(cmd, "ping") == 0 && n == 1) {
		fprintf(out, "pong\n");
		return 0;
	}
	fprintf(out, "unknown command or wrong arguments: %s (see meshctl(8))\n", cmd);
	return 2;
}

/* ---- the socket ---- */

/* A control client has CTL_READ_MS in all to send its request and CTL_WRITE_MS in all to
 * take the answer: limits on the whole exchange, not per read or write. The loop serves a
 * client inline, so one that sends a byte a second, or stops reading its answer, would
 * otherwise hold back IKE, the kernel's events and a SIGTERM for as long as it likes. */
#define CTL_READ_MS 2000
#define CTL_WRITE_MS 5000

static struct timespec deadline_in(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Wait until c is ready for ev, at most until end. False: the time is up (or poll failed). */
static bool ready_by(int c, short ev, const struct timespec *end)
{
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long ms = (long long)(end->tv_sec - now.tv_sec) * 1000 +
			       (end->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return false;
		struct pollfd p = { .fd = c, .events = ev };
		int r = poll(&p, 1, (int)ms);
		if (r > 0)
			return true;
		if (r == 0 || errno != EINTR)
			return false;
	}
}

/* The request: up to EOF (the client shuts down its side) or CTL_MAX_REQUEST bytes, or
 * what came before the time ran out. */
static size_t read_request(struct meshd_ctx *ctx, int c, char *buf, size_t cap)
{
	struct timespec end = deadline_in(CTL_READ_MS);
	size_t len = 0;
	while (len < cap) {
		ssize_t r = read(c, buf + len, cap - len);
		if (r > 0) {
			len += (size_t)r;
		} else if (r == 0) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN || !ready_by(c, POLLIN, &end)) {
			if (errno == EAGAIN)
				log_warn(&ctx->log, "control: a client sent no complete request "
					 "within %d ms; serving the %zu bytes it sent", CTL_READ_MS, len);
			break;
		}
	}
	return len;
}

static void write_answer(struct meshd_ctx *ctx, int c, const char *p, size_t n)
{
	struct timespec end = deadline_in(CTL_WRITE_MS);
	for (size_t off = 0; off < n;) {
		ssize_t w = send(c, p + off, n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w == 0 || errno != EAGAIN || !ready_by(c, POLLOUT, &end)) {
			if (w < 0 && errno == EAGAIN)
				log_warn(&ctx->log, "control: a client did not take its answer within "
					 "%d ms (%zu of %zu bytes sent); dropped", CTL_WRITE_MS, off, n);
			return;
		}
	}
}

static void serve(struct meshd_ctx *ctx, int c)
{
	char buf[CTL_MAX_REQUEST + 1];
	size_t len = read_request(ctx, c, buf, sizeof(buf));
	char *out_text = NULL;
	size_t out_len = 0;
	FILE *out = open_memstream(&out_text, &out_len);
	if (!out)
		return;
	char *argv[CTL_MAX_ARGS];
	int argc = ctl_parse_request(buf, len, argv);
	int status;
	if (argc < 0) {
		fprintf(out, "malformed control request (%s)\n", strerror(-argc));
		status = 2;
	} else {
		status = ctl_execute(ctx, argc, argv, out);
	}
	fclose(out);
	/* the status line, then the text: one buffer under one deadline */
	char hdr[32];
	int hl = snprintf(hdr, sizeof(hdr), "status %d\n", status);
	char *all = malloc((size_t)hl + out_len);
	if (all) {
		memcpy(all, hdr, (size_t)hl);
		memcpy(all + hl, out_text, out_len);
		write_answer(ctx, c, all, (size_t)hl + out_len);
		free(all);
	}
	free(out_text);
}

static void on_ctl(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	serve(ctx, c);
	close(c);
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_in_use(struct meshd_ctx *ctx)
{
	const char *path = ctl_path(ctx);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;                 /* ctl_open says why */
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		log_err(&ctx->log, "another meshd answers on %s; use --ctlsocket for a second one",
			path);
		return -EADDRINUSE;
	}
	return 0;
}

int ctl_open(struct meshd_ctx *ctx)
{
	const char *path = ctl_path(ctx);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err(&ctx->log, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	int r = mkdir_parent(path);
	if (r < 0) {
		log_err(&ctx->log, "cannot create the directory of %s: %s", path, strerror(-r));
		return r;
	}
	/* a live daemon on the same path must not be hijacked; a stale socket is replaced */
	if ((r = ctl_in_use(ctx)) < 0)
		return r;
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		log_err(&ctx->log, "cannot listen on %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if ((r = loop_add_fd(ctx->loop, fd, on_ctl, ctx)) < 0) {
		close(fd);
		return r;
	}
	ctx->ctl_fd = fd;
	return 0;
}

void ctl_close(struct meshd_ctx *ctx)
{
	if (ctx->ctl_fd < 0)
		return;
	if (ctx->loop)
		loop_del_fd(ctx->loop, ctx->ctl_fd);
	close(ctx->ctl_fd);
	ctx->ctl_fd = -1;
	if (ctx->conf)
		unlink(ctl_path(ctx));
}
