/* ike_sock.h — the IKE sockets: UDP 500 and 4500 (NAT-T), IPv4 and IPv6, each with a
 * per-socket XFRM bypass so IKE never hits a trap, shunt or block policy. */
#ifndef MESHD_IKE_SOCK_H
#define MESHD_IKE_SOCK_H

struct meshd_ctx;

int ike_sock_open(struct meshd_ctx *ctx);
void ike_sock_close(struct meshd_ctx *ctx);

#endif
