/* ike_natt.c — NAT traversal after detection (RFC 7296 §2.23, RFC 3948): the UDP
 * encapsulation ports of a Child SA and the NAT-keepalives.
 *
 * Detection (NAT_DETECTION_* in IKE_SA_INIT) and the move of the IKE SA to the NAT-T port
 * are in x_sa_init.c; following the peer's port is msg_authentic (ike_msg.c).
 *
 * Keepalives (RFC 3948 §2.3, §4): the host behind the NAT sends a single 0xff byte from
 * its NAT-T port to the peer every IKE_NATT_KEEPALIVE_MS while the IKE SA has Child SAs,
 * so that the NAT keeps the mapping ESP-in-UDP arrives through. One timer per IKE SA
 * (T_NAT_KEEPALIVE, by serial); it stops when the SA is gone. */
#include "config.h"

#include "ctx.h"
#include "exchange.h"

#define IKE_NATT_KEEPALIVE_MS 20000

static uint16_t nat_port(const struct ike *ike)
{
	uint16_t p = ike->ctx->conf ? ike->ctx->conf->setup.nat_ike_port : 0;
	return p ? p : 4500;
}

bool ike_natt_encap(const struct ike *ike, const struct ike_sa *sa, uint16_t *lport,
		    uint16_t *rport)
{
	*lport = *rport = 0;
	if (!(sa->nat_local || sa->nat_peer) || sa->lport != nat_port(ike))
		return false;
	*lport = sa->lport;
	*rport = sa->rport;
	return true;
}

void ike_natt_arm(struct ike *ike, struct ike_sa *sa)
{
	if (!sa->nat_local || sa->keepalive_timer || sa->lport != nat_port(ike))
		return;
	sa->keepalive_timer = ike_timer_arm(ike, sa->serial, T_NAT_KEEPALIVE,
					    IKE_NATT_KEEPALIVE_MS);
}

void ike_natt_keepalive(struct ike *ike, struct ike_sa *sa)
{
	static const uint8_t ka = 0xff;
	sa->keepalive_timer = 0;
	if (sa->state != IKES_ESTABLISHED || !sa->child_up)
		return;
	ike->st.nat_keepalives++;
	(void)msg_send_raw(ike, &sa->local, sa->lport, &sa->peer, sa->rport, &ka, 1);
	/* msg_send_raw counts a datagram; a keepalive is not an IKE message */
	ike->st.tx--;
	ike_natt_arm(ike, sa);
}
