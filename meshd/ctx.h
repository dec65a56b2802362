/* ctx.h — struct meshd_ctx: all of one daemon's state. There are no mutable globals, so
 * tests can run two daemons in one process. */
#ifndef MESHD_CTX_H
#define MESHD_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "kernel.h"
#include "log.h"
#include "loop.h"
#include "policy.h"

struct shunts;
struct ctl;
struct peers;
struct ike;
struct nft;
struct nft_log;
struct ike_certs;

/* Command-line settings; they override meshd.conf. */
struct meshd_opts {
	const char *config;          /* --config (default CONF_DEFAULT_PATH) */
	const char *ctlsocket;       /* --ctlsocket, NULL = from config */
	const char *policies_dir;    /* --policies-dir, NULL = from config */
	bool nofork, stderrlog, debug;
	bool no_ike_sockets;         /* tests: do not bind UDP 500/4500 */
	bool no_signals;             /* tests: leave signal handling alone */
	bool no_nft;                 /* tests: no nftables table (inbound enforcement) */
};

struct meshd_stats {
	uint64_t acquires;           /* ACQUIREs received */
	uint64_t acquires_ignored;   /* for own address / no negotiating group / in progress */
	uint64_t inbound_triggers;   /* dropped cleartext from private peers reported (NFLOG) */
	uint64_t inbound_ignored;    /* of those: pair busy, not ours to answer, half-open cap */
	uint64_t attempts;           /* OE attempts started */
	uint64_t failures;           /* attempts that ended in a failure shunt */
	uint64_t reloads, reload_errors;
	uint64_t kernel_errors;      /* policy operations the kernel refused */
	uint64_t ike_dropped;        /* IKE datagrams dropped (no engine / malformed) */
};

struct meshd_ctx {
	struct meshd_opts opts;
	struct log log;
	struct loop *loop;
	struct conf *conf;
	struct policy_set *pol;
	struct host_addrs host;
	uint32_t next_reqid;
	struct kernel kern;
	bool kern_open;
	struct shunts *shunts;
	struct peers *peers;         /* per-peer diagnosis: last attempt and failure */
	struct ctl *ctl;
	struct ike *ike;             /* the IKEv2 engine (ike.h); NULL before start / after stop */
	struct ike_certs *certs;     /* NSS DB and node certificates (ike_auth.h); opened before
	                              * the engine, closed after it */
	struct nft *nft;             /* inbound enforcement; NULL when off or failed */
	char nft_error[160];         /* why inbound enforcement is off, "" when on */
	struct nft_log *nflog;       /* NFLOG listener of the inbound trigger (nft_log.h) */
	char nflog_error[160];       /* why the inbound trigger is off, "" when on */
	bool nflog_refused;          /* the kernel refused the NFLOG rule: not tried again */
	int ike_fd[4];               /* UDP 500 v4, 4500 v4, 500 v6, 4500 v6; -1 = closed */
	int ctl_fd;                  /* listening control socket, -1 = closed */
	int signal_fd;
	uint64_t shunt_timer;
	uint64_t cert_timer;         /* daily certificate expiry warning */
	time_t started;
	struct meshd_stats stats;
	bool flush_on_stop;          /* meshctl shutdown --flush: daemon_stop removes everything */
	/* counts of kernel policies meshd has installed for the group entries */
	size_t n_kpolicies;
};

#endif
