/* daemon.c — start, reload and stop of one meshd instance. */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cert.h"
#include "control.h"
#include "daemon.h"
#include "ike.h"
#include "ike_auth.h"
#include "ike_sock.h"
#include "lpm.h"
#include "nft.h"
#include "nft_log.h"
#include "oe.h"
#include "shunt.h"

#define PEERS_MAX 65536

int daemon_host_addrs(struct host_addrs *h)
{
	struct ifaddrs *ifa, *i;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	size_t n = 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
				    i->ifa_addr->sa_family == AF_INET6))
			n++;
	struct addr *v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	size_t k = 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		struct addr a;
		addr_from_sockaddr(i->ifa_addr, &a, NULL);
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = addr_eq(&v[j], &a);
		if (!dup)
			v[k++] = a;
	}
	freeifaddrs(ifa);
	free(h->a);
	h->a = v;
	h->n = k;
	return 0;
}

static void on_acquire(const struct kacquire *acq, void *arg)
{
	oe_acquire(arg, acq);
}

static void on_expire(const struct kexpire *exp, void *arg)
{
	struct meshd_ctx *ctx = arg;
	if (ctx->ike)
		ike_expire(ctx->ike, exp);
}

static void on_kernel_event(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	struct kernel_events ev = { .acquire = on_acquire, .expire = on_expire, .arg = ctx };
	int r = ctx->kern.ops->event_read(&ctx->kern, &ev);
	if (r < 0 && r != -EAGAIN)
		log_warn(&ctx->log, "reading kernel events: %s", strerror(-r));
}

static void shunt_sweep_timer(void *arg)
{
	struct meshd_ctx *ctx = arg;
	shunts_sweep(ctx->shunts, loop_now_ms(ctx->loop));
	ctx->shunt_timer = loop_timer_add(ctx->loop,
					  (uint64_t)ctx->conf->setup.expire_shunt_interval_s * 1000,
					  shunt_sweep_timer, ctx);
}

/* Logs each config message and keeps the errors' text for meshctl reload's answer. */
struct diag_keep {
	struct log *log;
	char *buf;
	size_t cap;
};

static void diag_log_keep(struct diag *d, enum diag_sev sev, const char *file, unsigned line,
			  const char *msg)
{
	struct diag_keep *k = d->arg;
	struct diag inner = { .arg = k->log };
	diag_to_log(&inner, sev, file, line, msg);
	if (sev != DIAG_ERR || !k->buf)
		return;
	size_t len = strlen(k->buf);
	if (len + 1 >= k->cap)
		return;
	if (file && line)
		snprintf(k->buf + len, k->cap - len, "%s:%u: %s\n", file, line, msg);
	else if (file)
		snprintf(k->buf + len, k->cap - len, "%s: %s\n", file, msg);
	else
		snprintf(k->buf + len, k->cap - len, "%s\n", msg);
}

/* Node and trusted CA certificates that expire within cert-expiry-warning= are logged at
 * start, at every reload and once a day, so a renewal that did not happen is in the
 * journal two weeks (by default) before peers start refusing us. */
static void cert_expiry_log(struct meshd_ctx *ctx)
{
	uint32_t warn = ctx->conf->setup.cert_expiry_warning_s;
	time_t now = time(NULL);
	char when[48];
	for (size_t i = 0;; i++) {
		const char *nick = NULL;
		struct cert_store *s = ike_certs_store(ctx, i, &nick);
		if (!nick)
			break;
		const struct cert_self *me = s ? cert_self(s) : NULL;
		if (me && me->key != CERT_KEY_NONE &&
		    cert_expiry_str(me->not_after, now, warn, when, sizeof(when)))
			log_warn(&ctx->log, "node certificate \"%s\" (%s, serial %s) expires %s: "
				 "renew it (meshctl import FILE.p12; meshctl reload)", nick,
				 me->subject, me->serial, when);
	}
	struct cert_ca_info *cas = NULL;
	size_t n = 0;
	if (cert_trusted_cas(&cas, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (cert_expiry_str(cas[i].not_after, now, warn, when, sizeof(when)))
				log_warn(&ctx->log, "trusted CA %s expires %s", cas[i].subject, when);
	free(cas);
}

static void cert_expiry_timer(void *arg)
{
	struct meshd_ctx *ctx = arg;
	cert_expiry_log(ctx);
	ctx->cert_timer = loop_timer_add(ctx->loop, 86400ull * 1000, cert_expiry_timer, ctx);
}

static struct conf *load_conf(struct meshd_ctx *ctx, unsigned *errs, unsigned *warns,
			      char *err_text, size_t err_cap)
{
	struct diag_keep keep = { .log = &ctx->log, .buf = err_text, .cap = err_cap };
	struct diag d = { .fn = diag_log_keep, .arg = &keep };
	if (err_text && err_cap)
		err_text[0] = '\0';
	struct conf *c;
	if (access(ctx->opts.config, F_OK) != 0 && errno == ENOENT) {
		log_warn(&ctx->log, "%s does not exist; running with defaults and no groups",
			 ctx->opts.config);
		c = conf_new_default();
	} else {
		c = conf_load(ctx->opts.config, &d);
	}
	if (errs)
		*errs = d.n_err;
	if (warns)
		*warns = d.n_warn;
	if (c && ctx->opts.policies_dir) {
		char *p = strdup(ctx->opts.policies_dir);
		if (!p) {
			conf_free(c);
			return NULL;
		}
		free(c->setup.policies_dir);
		c->setup.policies_dir = p;
	}
	return c;
}

static struct policy_set *load_policy(struct meshd_ctx *ctx, const struct conf *c)
{
	struct diag d = { .fn = diag_to_log, .arg = &ctx->log };
	return policy_load(c, NULL, &ctx->host, false, &d);
}

static void log_groups(struct meshd_ctx *ctx)
{
	for (size_t i = 0; i < ctx->pol->n_groups; i++) {
		const struct pol_group *g = &ctx->pol->groups[i];
		if (g->conn < 0)
			continue;
		log_info(&ctx->log, "group \"%s\" (%s): %zu entries from %s%s", g->name,
			 group_class_name(g->cls), g->n_entries, g->file,
			 g->file_missing ? " (no such file: empty)" : "");
	}
}

static int open_signals(struct meshd_ctx *ctx);

static void on_nflog_pkt(const struct nft_log_pkt *p, void *arg)
{
	/* the ACQUIRE the reply would raise: from us (p->dst) to the peer, ports swapped */
	struct kacquire acq = { 0 };
	prefix_host(&p->dst, &acq.sel.src);
	prefix_host(&p->src, &acq.sel.dst);
	acq.sel.proto = p->proto;
	if (p->ports) {
		acq.sel.sport = p->dport;
		acq.sel.dport = p->sport;
	}
	oe_inbound(arg, &acq);
}

static void on_nflog(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	int r = nft_log_read(ctx->nflog, on_nflog_pkt, ctx);
	if (r < 0)
		log_warn(&ctx->log, "reading nflog group %u: %s", nft_log_group_of(ctx->nflog),
			 strerror(-r));
}

static void nflog_close(struct meshd_ctx *ctx)
{
	if (!ctx->nflog)
		return;
	loop_del_fd(ctx->loop, nft_log_fd(ctx->nflog));
	nft_log_close(ctx->nflog);
	ctx->nflog = NULL;
}

/* The inbound trigger (nft_log.h): listen on nflog-group= before the table's log rules
 * exist. Without it (no NFLOG in the kernel, the group taken, nflog-group=0) cleartext
 * from private peers is dropped all the same; it just starts no negotiation. */
static void nflog_apply(struct meshd_ctx *ctx, const struct conf *c)
{
	uint16_t want = (uint16_t)c->setup.nflog_group;
	if (ctx->nflog && nft_log_group_of(ctx->nflog) == want)
		return;
	nflog_close(ctx);
	if (!want || ctx->nflog_refused) {
		if (!want)
			snprintf(ctx->nflog_error, sizeof(ctx->nflog_error), "nflog-group=0");
		return;
	}
	int r = nft_log_open(&ctx->nflog, &ctx->log, want);
	if (r == 0 && (r = loop_add_fd(ctx->loop, nft_log_fd(ctx->nflog), on_nflog, ctx)) < 0) {
		nft_log_close(ctx->nflog);
		ctx->nflog = NULL;
	}
	if (r < 0) {
		snprintf(ctx->nflog_error, sizeof(ctx->nflog_error), "NFLOG group %u: %s%s", want,
			 strerror(-r), r == -EBUSY ? " (another listener has it; see nflog-group=)"
						   : "");
		log_warn(&ctx->log, "inbound trigger off: %s; cleartext from private peers is "
			 "dropped but starts no negotiation", ctx->nflog_error);
		return;
	}
	ctx->nflog_error[0] = '\0';
	log_info(&ctx->log, "inbound trigger: listening on NFLOG group %u", want);
}

/* Inbound enforcement of `private` (nftables table inet meshd). A failure is loud but not
 * fatal: outbound protection (XFRM) still holds, and status says enforcement is off. */
static void nft_apply(struct meshd_ctx *ctx, const struct conf *c, const struct policy_set *s)
{
	int r;
	if (ctx->opts.no_nft)
		return;
	if (!ctx->nft) {
		struct nft_opts no = { .ike_port = c->setup.ike_port,
				       .nat_ike_port = c->setup.nat_ike_port };
		r = nft_open(&ctx->nft, &ctx->log, &no);
		if (r < 0) {
			snprintf(ctx->nft_error, sizeof(ctx->nft_error), "nftables unavailable: %s",
				 strerror(-r));
			log_err(&ctx->log, "inbound enforcement of private groups is OFF: %s",
				ctx->nft_error);
			ctx->nft = NULL;
			return;
		}
	}
	nflog_apply(ctx, c);
	nft_set_log_group(ctx->nft, ctx->nflog ? nft_log_group_of(ctx->nflog) : 0);
	r = nft_sync(ctx->nft, s);
	if (ctx->nflog && !nft_log_group(ctx->nft)) {
		/* nft_sync logged it: the kernel has no NFLOG for nftables */
		snprintf(ctx->nflog_error, sizeof(ctx->nflog_error),
			 "the kernel refused nftables' log expression (no NFLOG support)");
		ctx->nflog_refused = true;
		nflog_close(ctx);
	}
	if (r < 0) {
		snprintf(ctx->nft_error, sizeof(ctx->nft_error), "nftables refused the update: %s",
			 strerror(-r));
		log_err(&ctx->log, "inbound enforcement not updated: %s", ctx->nft_error);
		return;
	}
	ctx->nft_error[0] = '\0';
}

int daemon_start(struct meshd_ctx *ctx, const struct meshd_opts *opts)
{
	int r;
	ctx->opts = *opts;
	if (!ctx->opts.config)
		ctx->opts.config = CONF_DEFAULT_PATH;
	for (int i = 0; i < 4; i++)
		ctx->ike_fd[i] = -1;
	ctx->ctl_fd = -1;
	ctx->signal_fd = -1;
	ctx->started = time(NULL);
	ctx->next_reqid = 1;
	if (!(ctx->loop = loop_new()))
		return -ENOMEM;
	ctx->conf = load_conf(ctx, NULL, NULL, NULL, 0);
	if (!ctx->conf) {
		log_err(&ctx->log, "%s has errors; not starting", ctx->opts.config);
		return -EINVAL;
	}
	if ((r = daemon_host_addrs(&ctx->host)) < 0)
		log_warn(&ctx->log, "cannot list the host's addresses: %s", strerror(-r));
	if (!(ctx->pol = load_policy(ctx, ctx->conf)))
		return -ENOMEM;
	policy_assign_reqids(ctx->pol, NULL, &ctx->next_reqid);
	log_groups(ctx);

	/* a second meshd on the same control socket must not touch the running one's kernel
	 * state (its stale sweep would remove the running daemon's shunts and SA policies) */
	if ((r = ctl_in_use(ctx)) < 0)
		return r;
	ctx->kern.log = &ctx->log;
	if (!ctx->kern.ops) {
		if ((r = xfrm_open(&ctx->kern)) < 0) {
			log_err(&ctx->log, "cannot open the kernel's XFRM interface: %s",
				strerror(-r));
			return r;
		}
	}
	ctx->kern.log = &ctx->log;
	ctx->kern_open = true;
	if (!(ctx->shunts = shunts_new(&ctx->kern, &ctx->log)) ||
	    !(ctx->peers = peers_new(PEERS_MAX)))
		return -ENOMEM;

	struct kernel_apply_result res;
	r = kernel_install_set(&ctx->kern, ctx->pol, &ctx->log, &res);
	if (r == -ENOMEM)
		return r;
	ctx->n_kpolicies = res.added - res.failed;
	ctx->stats.kernel_errors += res.failed;
	log_info(&ctx->log, "installed %zu kernel policies for %zu group entries%s",
		 ctx->n_kpolicies, ctx->pol->n_entries, res.failed ? " (some refused, see above)" : "");
	/* a predecessor's leftovers (a stopped meshd's blocks, a crashed one's shunts and SA
	 * policies) go only now, after the new state is in place: the same selectors were
	 * replaced in place, so its block and trap policies cover the peers until ours do */
	size_t stale = 0;
	r = kernel_remove_stale(&ctx->kern, ctx->pol, &ctx->log, &stale);
	if (r < 0)
		log_warn(&ctx->log, "cleaning up policies of a previous meshd: %s", strerror(-r));
	else if (stale)
		log_info(&ctx->log, "removed %zu policies a previous meshd left behind", stale);

	nft_apply(ctx, ctx->conf, ctx->pol);

	int efd = ctx->kern.ops->event_fd(&ctx->kern);
	if (efd >= 0 && (r = loop_add_fd(ctx->loop, efd, on_kernel_event, ctx)) < 0)
		return r;
	if (!ctx->opts.no_ike_sockets && (r = ike_sock_open(ctx)) < 0)
		return r;
	if ((r = ike_certs_open(ctx)) < 0)
		return r;
	if (!(ctx->ike = ike_new(ctx)))
		return -ENOMEM;
	if ((r = ctl_open(ctx)) < 0)
		return r;
	if ((r = open_signals(ctx)) < 0)
		return r;
	ctx->shunt_timer = loop_timer_add(ctx->loop,
					  (uint64_t)ctx->conf->setup.expire_shunt_interval_s * 1000,
					  shunt_sweep_timer, ctx);
	cert_expiry_timer(ctx);
	return 0;
}

struct shunt_keep {
	struct meshd_ctx *ctx;
};

/* After a reload, a shunt stays only while its peer is still governed by a negotiating
 * group of the same name. */
static bool shunt_still_valid(const struct shunt *sh, void *arg)
{
	struct meshd_ctx *ctx = arg;
	const struct pol_entry *e = policy_classify(ctx->pol, &sh->peer, sh->proto, sh->lport,
						    sh->rport);
	if (!e)
		return false;
	const struct pol_group *g = policy_group(ctx->pol, e);
	return (g->cls == GC_OE_PASS || g->cls == GC_OE_DROP) && strcmp(g->name, sh->group) == 0;
}

/* Is the entry an SA was negotiated under still in s, in the same negotiating group? */
static bool entry_kept(const struct policy_set *s, const struct ike_child_info *c)
{
	const struct lpm *t = c->entry.a.family == AF_INET6 ? s->lpm6 : s->lpm4;
	for (const struct pol_entry *e = t ? lpm_exact(t, &c->entry) : NULL; e; e = e->next_same) {
		const struct pol_group *g = policy_group(s, e);
		if (e->proto == c->proto && e->lport == c->lport && e->rport == c->rport &&
		    strcmp(g->name, c->group) == 0 &&
		    (g->cls == GC_OE_PASS || g->cls == GC_OE_DROP || g->cls == GC_OE_RESPOND))
			return true;
	}
	return false;
}

struct gone_peers {
	const struct policy_set *s;
	struct addr *v;
	size_t n, cap;
};

static void collect_gone(const struct ike_child_info *c, void *arg)
{
	struct gone_peers *g = arg;
	if (entry_kept(g->s, c))
		return;
	for (size_t i = 0; i < g->n; i++)
		if (addr_eq(&g->v[i], &c->peer))
			return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct addr *nv = realloc(g->v, cap * sizeof(*nv));
		if (!nv)
			return;
		g->v = nv;
		g->cap = cap;
	}
	g->v[g->n++] = c->peer;
}

/* A reload takes down only the SAs of entries it removed or moved to another group
 * (DESIGN.md 2.5); unchanged entries keep theirs, byte counters and all. */
static size_t drop_sas_of_removed_entries(struct meshd_ctx *ctx)
{
	struct gone_peers g = { .s = ctx->pol };
	size_t n = 0;
	if (!ctx->ike)
		return 0;
	ike_child_foreach(ctx->ike, collect_gone, &g);
	for (size_t i = 0; i < g.n; i++) {
		char a[ADDR_STRLEN];
		log_info(&ctx->log, "reload: the entry governing %s was removed or changed; "
			 "deleting its SAs", addr_str(&g.v[i], a));
		n += ike_down(ctx->ike, &g.v[i]);
	}
	free(g.v);
	return n;
}

void daemon_reload(struct meshd_ctx *ctx, struct reload_result *res)
{
	memset(res, 0, sizeof(*res));
	ctx->stats.reloads++;
	struct conf *c = load_conf(ctx, &res->conf_errors, &res->conf_warnings, res->error_text,
				   sizeof(res->error_text));
	if (!c) {
		ctx->stats.reload_errors++;
		log_err(&ctx->log, "reload: %s has errors; keeping the running configuration",
			ctx->opts.config);
		return;
	}
	if (strcmp(c->setup.ctlsocket, ctx->conf->setup.ctlsocket) != 0 ||
	    strcmp(c->setup.nssdir, ctx->conf->setup.nssdir) != 0)
		log_warn(&ctx->log, "reload: ctlsocket= and nssdir= changes take effect at restart");
	int r = daemon_host_addrs(&ctx->host);
	if (r < 0)
		log_warn(&ctx->log, "cannot list the host's addresses: %s", strerror(-r));
	struct policy_set *p = load_policy(ctx, c);
	if (!p) {
		conf_free(c);
		ctx->stats.reload_errors++;
		log_err(&ctx->log, "reload: out of memory; keeping the running configuration");
		return;
	}
	policy_assign_reqids(p, ctx->pol, &ctx->next_reqid);
	struct kernel_apply_result kr;
	kernel_apply_diff(&ctx->kern, ctx->pol, p, &ctx->log, &kr);
	nft_apply(ctx, c, p);
	policy_free(ctx->pol);
	conf_free(ctx->conf);
	ctx->pol = p;
	ctx->conf = c;
	ike_certs_reload(ctx);     /* renewed node certificate, CA trust: new SAs use them */
	cert_expiry_log(ctx);
	res->ok = true;
	res->added = kr.added;
	res->removed = kr.removed;
	res->changed = kr.changed;
	size_t configured = 0;
	for (size_t i = 0; i < p->n_entries; i++)
		configured += policy_group(p, &p->entries[i])->conn >= 0;
	res->unchanged = configured - kr.added - kr.changed;
	res->kernel_failed = kr.failed;
	res->policies_put = kr.policies_put;
	res->policies_del = kr.policies_del;
	ctx->stats.kernel_errors += kr.failed;
	res->shunts_dropped = shunts_filter(ctx->shunts, shunt_still_valid, ctx);
	res->sas_deleted = drop_sas_of_removed_entries(ctx);
	log_info(&ctx->log, "reloaded: %zu added, %zu removed, %zu changed, %zu unchanged entries"
		 "; %zu SAs torn down; kernel: +%zu -%zu policies%s", res->added, res->removed,
		 res->changed, res->unchanged, res->sas_deleted, res->policies_put,
		 res->policies_del, kr.failed ? " (some refused, see above)" : "");
}

/* A stop that is not a flush leaves the kernel failing closed until the next meshd owns
 * it (DESIGN.md 2.5: a restart of `private` must not leak cleartext): see kernel_stop_set.
 * The traps become block/pass before the SAs go, so traffic in between raises no ACQUIRE
 * (whose larval state would hold back the next daemon's negotiation for 30 s); the nft
 * inbound table stays too, and the next start replaces both in place. */
static void keep_kernel_state(struct meshd_ctx *ctx)
{
	size_t kept = 0;
	int r = kernel_stop_set(&ctx->kern, ctx->pol, &ctx->log, &kept);
	if (r < 0)
		log_err(&ctx->log, "converting the traps for the stop: %s", strerror(-r));
	log_info(&ctx->log, "stopping: %zu kernel policies stay (private blocked, "
		 "private-or-clear clear) until meshd starts again; meshd --flush removes them",
		 kept);
}

static void flush_kernel_state(struct meshd_ctx *ctx)
{
	size_t n = 0;
	int r = kernel_remove_set(&ctx->kern, ctx->pol, &ctx->log);
	if (r < 0)
		log_err(&ctx->log, "removing meshd's kernel policies: %s", strerror(-r));
	r = kernel_flush_band(&ctx->kern, &ctx->log, &n);
	if (r < 0)
		log_err(&ctx->log, "removing leftover policies in meshd's band: %s", strerror(-r));
	log_info(&ctx->log, "flush: meshd's kernel policies removed");
}

void daemon_stop(struct meshd_ctx *ctx)
{
	bool flush = ctx->flush_on_stop;
	ctl_close(ctx);
	if (ctx->kern_open && ctx->pol && !flush)
		keep_kernel_state(ctx);
	ike_free(ctx->ike);          /* Child SAs leave the kernel before the sockets close */
	ctx->ike = NULL;
	ike_certs_close(ctx);
	ike_sock_close(ctx);
	if (ctx->shunts) {
		shunts_clear(ctx->shunts);
		shunts_free(ctx->shunts);
		ctx->shunts = NULL;
	}
	if (ctx->kern_open && ctx->pol && flush)
		flush_kernel_state(ctx);
	nflog_close(ctx);
	if (ctx->nft) {
		int r = nft_close(ctx->nft, flush);
		if (r < 0)
			log_err(&ctx->log, "removing the nftables table: %s", strerror(-r));
		ctx->nft = NULL;
	}
	if (ctx->kern_open && ctx->kern.ops->close)
		ctx->kern.ops->close(&ctx->kern);
	ctx->kern_open = false;
	peers_free(ctx->peers);
	ctx->peers = NULL;
	policy_free(ctx->pol);
	ctx->pol = NULL;
	conf_free(ctx->conf);
	ctx->conf = NULL;
	free(ctx->host.a);
	ctx->host.a = NULL;
	ctx->host.n = 0;
	if (ctx->signal_fd >= 0)
		close(ctx->signal_fd);
	ctx->signal_fd = -1;
	loop_free(ctx->loop);
	ctx->loop = NULL;
}

int daemon_flush(struct meshd_ctx *ctx, const struct meshd_opts *opts)
{
	ctx->opts = *opts;
	if (!ctx->opts.config)
		ctx->opts.config = CONF_DEFAULT_PATH;
	ctx->conf = load_conf(ctx, NULL, NULL, NULL, 0);
	if (!ctx->conf)
		ctx->conf = conf_new_default();
	if (!ctx->conf)
		return -ENOMEM;
	int r = ctl_in_use(ctx);
	if (r < 0) {
		conf_free(ctx->conf);
		ctx->conf = NULL;
		return r;
	}
	ctx->kern.log = &ctx->log;
	if (!ctx->kern.ops && (r = xfrm_open(&ctx->kern)) < 0) {
		log_err(&ctx->log, "cannot open the kernel's XFRM interface: %s", strerror(-r));
		conf_free(ctx->conf);
		ctx->conf = NULL;
		return r;
	}
	size_t n = 0;
	r = kernel_flush_band(&ctx->kern, &ctx->log, &n);
	if (r < 0)
		log_err(&ctx->log, "removing meshd's kernel policies: %s", strerror(-r));
	else
		log_info(&ctx->log, "flush: %zu kernel policies in meshd's band removed", n);
	struct nft *nft = NULL;
	int rn = ctx->opts.no_nft ? 0 : nft_open(&nft, &ctx->log, NULL);
	if (rn == 0 && nft)
		rn = nft_close(nft, true);
	if (rn < 0 && rn != -ENOENT)
		log_warn(&ctx->log, "removing the nftables table: %s", strerror(-rn));
	if (ctx->kern.ops->close)
		ctx->kern.ops->close(&ctx->kern);
	conf_free(ctx->conf);
	ctx->conf = NULL;
	return r < 0 ? r : 0;
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			struct reload_result res;
			log_info(&ctx->log, "SIGHUP: reloading");
			daemon_reload(ctx, &res);
		} else {
			log_info(&ctx->log, "signal %u: stopping", si.ssi_signo);
			loop_stop(ctx->loop);
		}
	}
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

int daemon_block_signals(void)
{
	sigset_t set;
	stop_signals(&set);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -EINVAL;
}

static int open_signals(struct meshd_ctx *ctx)
{
	ctx->signal_fd = -1;
	if (ctx->opts.no_signals)
		return 0;
	sigset_t set;
	stop_signals(&set);
	/* (main did this before any thread existed: see daemon_block_signals) */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	ctx->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ctx->signal_fd < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return loop_add_fd(ctx->loop, ctx->signal_fd, on_signal, ctx);
}
