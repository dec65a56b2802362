/* ike_sock.h — the IKE sockets: UDP 500 and 4500 (NAT-T), IPv4 and IPv6, each with a
 * per-socket XFRM bypass so IKE never hits a trap, shunt or block policy. */
#ifndef MESHD_IKE_SOCK_H
#define MESHD_IKE_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct meshd_ctx;

int ike_sock_open(struct meshd_ctx *ctx);
void ike_sock_close(struct meshd_ctx *ctx);
/* Send an IKE message from (from, sport) to (to, dport) through the matching socket
 * (family; 4500 gets the non-ESP marker). 0 or -errno (-ENOTCONN: socket not open). The
 * engine's default send hook. */
int ike_sock_send(struct meshd_ctx *ctx, const uint8_t *p, size_t n, const struct addr *from,
		  uint16_t sport, const struct addr *to, uint16_t dport);

#endif
