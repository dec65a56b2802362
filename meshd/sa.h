/* sa.h — IKE SA and Child SA objects of the IKEv2 engine and the tables that find them
 * (by serial, by IKE SPIs, by peer).
 *
 * Serial numbers (#N, as Libreswan prints them) are shared by IKE and Child SAs, start at
 * 1 and never repeat within an engine's life. Timers, kernel events and the control
 * socket keep serials and look the SA up when they run (aesthetics.md 7.6): a deleted SA
 * is then simply "not found".
 *
 * Ownership: the table owns every SA; sa_ike_new/sa_child_new return borrowed pointers
 * valid until sa_ike_free/sa_child_free or sa_table_free. */
#ifndef MESHD_SA_H
#define MESHD_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "crypto.h"
#include "ike.h"
#include "kernel.h"
#include "proposal.h"
#include "ike_pld.h"

/* IKE SA states; the transition tables use IKES_BIT() masks. */
enum ike_state {
	IKES_NEW = 0,          /* created; nothing sent or processed yet */
	IKES_I_SA_INIT,        /* initiator: IKE_SA_INIT request sent */
	IKES_R_SA_INIT,        /* responder: IKE_SA_INIT answered, waiting for IKE_AUTH */
	IKES_I_AUTH,           /* initiator: IKE_AUTH request sent */
	IKES_ESTABLISHED,      /* authenticated both ways */
	IKES_DELETING,         /* our Delete(IKE) is out, waiting for its answer */
	IKES_DEAD,             /* finished; the dispatcher frees it */
	IKES__COUNT
};
#define IKES_BIT(s) (UINT32_C(1) << (s))
const char *ike_state_name(enum ike_state s);

/* The settings an SA was created with (a snapshot: a reload does not change a running
 * negotiation). */
struct sa_conf {
	char group[IKE_GROUP_MAX];    /* group conn name */
	struct prefix entry;          /* the group entry's prefix */
	uint8_t proto;                /* the entry's protocol and ports (0 = any) */
	uint16_t lport, rport;
	unsigned instance;            /* [N] within the group */
	unsigned authby;              /* AUTHBY_* bits */
	bool transport;               /* type=transport */
	uint32_t retransmit_timeout_ms, retransmit_interval_ms;
	uint32_t ikelifetime_s, salifetime_s, rekeymargin_s;
	uint32_t replay_window;
	bool fragmentation;           /* fragmentation= (RFC 7383) */
	uint32_t dpddelay_ms, dpdtimeout_ms;   /* liveness (ike_live.c); 0 = off */
	/* ike= and esp= parsed (esp without its KE groups): shared by every SA made from the
	 * same strings, owned by the engine (ike.c) until it is freed, never changed — a
	 * copy of each per SA was 9.6 KB of its 12 KB */
	const struct proposals *ike, *esp;
	/* rekeying (ike_rekey.c, x_create.c) */
	bool rekey;                   /* rekey=: false = let SAs expire */
	bool pfs;                     /* pfs=: a KE in Child SA rekeys */
	uint32_t rekeyfuzz_pct;
	uint16_t esp_dh[4];           /* KE groups esp= names for PFS (stripped from esp);
	                               * none: the IKE SA's group (libreswan-oe.md §5.6) */
	uint8_t n_esp_dh;
};

/* A link of one of the table's hash indexes (sa.c; nobody else touches it). */
struct sa_link {
	void *next;                   /* next in the bucket, in serial order */
	uint32_t hash;                /* the key's hash when it was linked */
	bool in;                      /* linked */
};

struct ike_sa {
	uint32_t serial;              /* first member: the indexes sort chains by it */
	enum ike_state state;         /* changed by exchange.c only */
	bool initiator;               /* original initiator */
	bool oe;                      /* started by an ACQUIRE: failure -> oe_failed */
	uint64_t spi_i, spi_r;
	struct addr local, peer;
	uint16_t lport, rport;        /* UDP: ours, the peer's */
	struct sa_conf conf;

	/* IKE_SA_INIT */
	uint16_t dh_group;
	struct crypto_dh *dh;         /* (owned) freed once the keys exist */
	struct buf ni, nr;            /* nonces (owned) */
	struct buf cookie;            /* COOKIE to echo (initiator) */
	struct buf msg_i, msg_r;      /* the IKE_SA_INIT request / response as sent: AUTH */
	unsigned invalid_ke;          /* INVALID_KE_PAYLOAD retries done */
	bool nat_local, nat_peer;     /* NAT detected in front of us / the peer */
	bool frag;                    /* both sides sent IKEV2_FRAGMENTATION_SUPPORTED */
	struct ike_frag *fr;          /* (owned) fragments sent / being reassembled, NULL
	                               * until needed (ike_frag.c) */
	uint64_t keepalive_timer;     /* NAT-keepalive (ike_natt.c), 0 = none */
	struct suite suite;           /* negotiated IKE suite */
	struct crypto_ike_keys keys;
	struct crypto_sk *sk_out, *sk_in;   /* (owned) protection of what we send / receive */

	/* message layer (ike_msg.c) */
	uint32_t msgid_next;          /* ID of our next request */
	uint32_t msgid_peer;          /* ID we expect in the peer's next request */
	struct buf req;               /* our outstanding request, for retransmits */
	bool req_out;                 /* a request is outstanding */
	uint32_t req_seq;             /* bumped by every msg_send_request */
	uint8_t req_xchg;
	uint64_t req_first_ms;        /* when it was first sent */
	uint32_t rtx_interval_ms;     /* current interval (doubles) */
	unsigned retransmits;         /* for the outstanding request */
	uint64_t rtx_timer;           /* loop timer id, 0 = none */
	struct buf last_req_in;       /* SHA-256 of the peer's last request (or of its
	                               * fragment 1): duplicate detection (ike_msg.c) */
	struct buf resp;              /* our answer to it (resent for a duplicate) */
	bool have_resp;

	/* authentication */
	uint8_t peer_id_type;
	char peer_id[IKE_PEER_ID_MAX];
	const char *auth_name;        /* "NULL", "RSA", "ECDSA" */

	uint32_t child;               /* serial of the Child SA being / made with IKE_AUTH */
	bool child_up;                /* a Child SA was installed: not a failed attempt */
	uint32_t child_spi_in;        /* initiator: SPI reserved before IKE_AUTH */
	uint32_t child_reqid;
	char reason[160];             /* why it failed (reported once) */
	time_t established_wall;
	uint64_t expire_timer;        /* IKE SA lifetime (loop timer id) */

	/* rekeying (ike_rekey.c, x_create.c) */
	uint64_t rekey_timer, sample_timer;   /* loop timer ids, 0 = none */
	struct ike_rekey *rk;         /* (owned) our CREATE_CHILD_SA under way, NULL = none */
	uint32_t rekey_of;            /* made by rekeying this IKE SA, 0 = by IKE_AUTH */
	uint32_t replaced_by;         /* rekeyed into this IKE SA, 0 = still current */
	uint32_t del_seq;             /* req_seq of our Delete(ESP) under way, 0 = none */

	/* liveness and replacement (ike_live.c) */
	uint32_t up_serial;           /* the table's next serial when it was established: an
	                               * SA with a lower serial was begun before this one was
	                               * up; 0 = not established */
	uint64_t last_rx_ms;          /* last authentic message from the peer, or last rise of
	                               * its Child SAs' inbound bytes */
	uint64_t esp_in_bytes;        /* inbound ESP bytes seen at the last liveness check */
	uint64_t dpd_timer;           /* loop timer id, 0 = none */
	uint32_t dpd_seq;             /* req_seq of the outstanding liveness probe, 0 = none */
	/* crossing streams (ike_live.c): on a loser that waits for the peer's ESP to show
	 * which IKE SA it kept, the winner's serial (0 = none) */
	uint32_t cross_with;
	uint64_t cross_timer;         /* loop timer id, 0 = none */
	uint64_t cross_from_ms;       /* when the watch began */
	uint64_t cross_in_win, cross_in_lose;   /* inbound ESP bytes at the first look */
	bool cross_sampled;
	uint32_t acq_seq;             /* the kernel ACQUIRE that started it (0 = none): its
	                               * first outbound SA carries it (ike_child.c) */

	/* the table's indexes (sa.c only): by initiator SPI and by peer address */
	struct sa_link ix_spi, ix_peer;
};

struct child_sa {
	uint32_t serial, ike_serial;  /* serial first: the indexes sort chains by it */
	struct addr local, peer;
	uint32_t spi_in, spi_out;     /* host order */
	uint32_t reqid;
	bool tunnel;
	bool sa_in, sa_out, pol_in, pol_out, pol_fwd;   /* what is in the kernel */
	struct ksel sel;              /* local/32 -> peer/32 with protocol and ports */
	struct suite esp;
	char group[IKE_GROUP_MAX];
	struct prefix entry;
	unsigned instance;
	time_t add_time;
	char algs[IKE_ALGS_MAX];

	/* rekeying and expiry (ike_rekey.c, x_create.c) */
	bool initiator;               /* we initiated the exchange that made it */
	bool deleting;                /* our Delete for it is out */
	uint32_t replaces;            /* the Child SA it rekeyed, 0 = made in IKE_AUTH */
	uint32_t replaced_by;         /* its successor once rekeyed, 0 = current */
	uint64_t installed_ms;        /* engine clock when its SAs went in */
	uint64_t rekey_after_ms;      /* rekey this long after installed_ms, 0 = never */
	uint64_t rekey_timer, expire_timer, sample_timer;   /* loop timer ids, 0 = none */
	uint64_t idle_bytes;          /* inbound bytes at the last look ... */
	uint64_t idle_since_ms;       /* ... first seen then (idle rule) */
	struct ksa *out_pending;      /* (owned) rekey responder: the outbound SA, added only
	                               * when the initiator deletes the old Child SA */

	struct sa_link ix_peer;       /* the table's index by peer address (sa.c only) */
};

struct sa_table;
struct ike_frag;
struct ike_rekey;

/* x_create.c: free what an outstanding CREATE_CHILD_SA keeps (secrets wiped). NULL ok. */
void ike_rekey_free(struct ike_rekey *rk);

struct sa_table *sa_table_new(void);
/* Frees every SA object (not their kernel state: see ike_child_remove). Accepts NULL. */
void sa_table_free(struct sa_table *t);

/* A new IKE SA with the next serial, state IKES_NEW, zeroed otherwise. NULL on ENOMEM. */
struct ike_sa *sa_ike_new(struct sa_table *t);
void sa_ike_free(struct sa_table *t, struct ike_sa *sa);
struct child_sa *sa_child_new(struct sa_table *t, uint32_t ike_serial);
void sa_child_free(struct sa_table *t, struct child_sa *c);

/* The fields the table indexes are set through these (never directly), so that the
 * lookups below stay O(1) with many peers: the initiator SPI, and the host pair. */
void sa_ike_set_spi_i(struct sa_table *t, struct ike_sa *sa, uint64_t spi_i);
void sa_ike_set_addrs(struct sa_table *t, struct ike_sa *sa, const struct addr *local,
		      const struct addr *peer);
void sa_child_set_addrs(struct sa_table *t, struct child_sa *c, const struct addr *local,
			const struct addr *peer);
/* State changes go through here (exchange.c), which keeps the half-open count. */
void sa_ike_set_state(struct sa_table *t, struct ike_sa *sa, enum ike_state to);
/* Responder IKE SAs in IKES_R_SA_INIT (answered IKE_SA_INIT, waiting for IKE_AUTH). */
size_t sa_ike_half_open_count(const struct sa_table *t);

/* IKE / Child SAs whose peer address is peer, in serial order: pass after = 0 for the
 * first, then the serial of the last one returned. Safe when SAs are freed between
 * calls (it restarts from the serial). */
struct ike_sa *sa_ike_peer_next(const struct sa_table *t, const struct addr *peer,
				uint32_t after);
struct child_sa *sa_child_peer_next(const struct sa_table *t, const struct addr *peer,
				    uint32_t after);

struct ike_sa *sa_ike_by_serial(const struct sa_table *t, uint32_t serial);
struct child_sa *sa_child_by_serial(const struct sa_table *t, uint32_t serial);
/* The SA a message belongs to. we_initiated: the message lacks the I flag, so we are the
 * original initiator. A responder SA matches on both SPIs; an initiator SA whose spi_r
 * is still 0 matches any spi_r (the IKE_SA_INIT response). */
struct ike_sa *sa_ike_by_spi(const struct sa_table *t, uint64_t spi_i, uint64_t spi_r,
			     bool we_initiated);
/* The responder SA a (retransmitted) IKE_SA_INIT request from peer with spi_i belongs to. */
struct ike_sa *sa_ike_half_open(const struct sa_table *t, uint64_t spi_i,
				const struct addr *peer);
/* Any IKE SA (not dead) between local and peer; NULL if none. */
struct ike_sa *sa_ike_by_pair(const struct sa_table *t, const struct addr *local,
			      const struct addr *peer);
/* Iteration in serial order: i from 0 while the result is not NULL. */
struct ike_sa *sa_ike_at(const struct sa_table *t, size_t i);
struct child_sa *sa_child_at(const struct sa_table *t, size_t i);
size_t sa_ike_count(const struct sa_table *t);
size_t sa_child_count(const struct sa_table *t);
/* The serial the next new SA will get (not taken). */
uint32_t sa_next_serial(const struct sa_table *t);
/* The next instance number for a group (1, 2, ...). */
unsigned sa_next_instance(struct sa_table *t);

#endif
