/* ike_sock.c — bind the IKE ports and receive datagrams.
 *
 * The NAT-T sockets (4500) carry UDP_ENCAP_ESPINUDP (RFC 3948): the kernel takes the
 * ESP-in-UDP packets of encapsulated SAs off them, eats NAT-keepalives, and passes IKE
 * (behind its zero non-ESP marker) on to us. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "ike.h"
#include "ike_sock.h"

/* The local address a datagram was sent to (IP_PKTINFO / IPV6_PKTINFO). */
static bool pktinfo_dst(struct msghdr *mh, int family, struct addr *to)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(to, 0, sizeof(*to));
			to->family = AF_INET;
			memcpy(to->b, &pi.ipi_addr, 4);
			return true;
		}
		if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(to, 0, sizeof(*to));
			to->family = AF_INET6;
			memcpy(to->b, &pi.ipi6_addr, 16);
			return true;
		}
	}
	return false;
}

static void on_ike_readable(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	uint8_t buf[65536];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct sockaddr_storage from;
	int sock = -1;
	for (int i = 0; i < 4; i++)
		if (ctx->ike_fd[i] == fd)
			sock = i;
	bool natt = sock == 1 || sock == 3;
	int family = sock >= 2 ? AF_INET6 : AF_INET;
	uint16_t dport = natt ? ctx->conf->setup.nat_ike_port : ctx->conf->setup.ike_port;
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			.msg_iovlen = 1, .msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		struct addr a, to;
		uint16_t sport;
		addr_from_sockaddr((struct sockaddr *)&from, &a, &sport);
		const uint8_t *p = buf;
		size_t len = (size_t)n;
		/* RFC 3948 §2.2: on 4500, IKE starts with a zero non-ESP marker; a lone 0xff
		 * byte is a NAT-keepalive */
		if (natt) {
			if (len < 4 || memcmp(p, "\0\0\0\0", 4) != 0) {
				ctx->stats.ike_dropped++;
				continue;
			}
			p += 4;
			len -= 4;
		}
		if (!ctx->ike || !pktinfo_dst(&mh, family, &to)) {
			ctx->stats.ike_dropped++;
			continue;
		}
		ike_input(ctx->ike, p, len, &a, sport, &to, dport, sock);
	}
}

int ike_sock_send(struct meshd_ctx *ctx, const uint8_t *p, size_t n, const struct addr *from,
		  uint16_t sport, const struct addr *to, uint16_t dport)
{
	bool natt = sport == ctx->conf->setup.nat_ike_port;
	int fd = ctx->ike_fd[(to->family == AF_INET6 ? 2 : 0) + (natt ? 1 : 0)];
	if (fd < 0)
		return -ENOTCONN;
	/* a NAT-keepalive (RFC 3948 §2.3) is the byte 0xff alone, without the marker */
	bool keepalive = n == 1 && p[0] == 0xff;
	if (keepalive)
		natt = false;
	uint8_t marker[4] = { 0 };
	struct iovec iov[2] = { { marker, 4 }, { (void *)p, n } };
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(to, dport, &ss);
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	memset(&cbuf, 0, sizeof(cbuf));
	struct msghdr mh = {
		.msg_name = &ss, .msg_namelen = sl, .msg_iov = natt ? iov : iov + 1,
		.msg_iovlen = natt ? 2 : 1, .msg_control = cbuf.b,
		.msg_controllen = sizeof(cbuf.b),   /* CMSG_FIRSTHDR needs room to point at */
	};
	/* send from the address the exchange is bound to */
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (to->family == AF_INET6) {
		struct in6_pktinfo pi = { 0 };
		memcpy(&pi.ipi6_addr, from->b, 16);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in_pktinfo pi = { 0 };
		memcpy(&pi.ipi_spec_dst, from->b, 4);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int open_one(struct meshd_ctx *ctx, int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	struct sockaddr_storage ss;
	struct addr any = { .family = (uint8_t)family };
	socklen_t sl = addr_to_sockaddr(&any, port, &ss);
	int r = 0;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		log_err(&ctx->log, "cannot bind UDP port %u (%s): %s", port,
			family == AF_INET6 ? "IPv6" : "IPv4", strerror(errno));
		goto fail;
	}
	/* ESP in UDP on the NAT-T port; a kernel without it (IPv6 before Linux 5.8, no
	 * esp4/esp6) still does IKE there, just no encapsulated ESP */
	int encap = UDP_ENCAP_ESPINUDP;
	if (port == ctx->conf->setup.nat_ike_port &&
	    setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof(encap)) < 0)
		log_warn(&ctx->log, "UDP %u (%s): no ESP-in-UDP decapsulation: %s", port,
			 family == AF_INET6 ? "IPv6" : "IPv4", strerror(errno));
	if ((r = ctx->kern.ops->socket_bypass(&ctx->kern, fd, family)) < 0) {
		log_err(&ctx->log, "cannot give the IKE socket (UDP %u) its bypass policy: %s",
			port, strerror(-r));
		goto fail;
	}
	if ((r = loop_add_fd(ctx->loop, fd, on_ike_readable, ctx)) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

int ike_sock_open(struct meshd_ctx *ctx)
{
	const uint16_t ports[2] = { ctx->conf->setup.ike_port, ctx->conf->setup.nat_ike_port };
	const int fams[2] = { AF_INET, AF_INET6 };
	for (int f = 0; f < 2; f++) {
		for (int p = 0; p < 2; p++) {
			int fd = open_one(ctx, fams[f], ports[p]);
			if (fd == -EAFNOSUPPORT && fams[f] == AF_INET6) {
				log_warn(&ctx->log, "IPv6 is not available; IKE over IPv6 is off");
				break;
			}
			if (fd < 0)
				return fd;
			ctx->ike_fd[f * 2 + p] = fd;
		}
	}
	return 0;
}

void ike_sock_close(struct meshd_ctx *ctx)
{
	for (int i = 0; i < 4; i++) {
		if (ctx->ike_fd[i] < 0)
			continue;
		if (ctx->loop)
			loop_del_fd(ctx->loop, ctx->ike_fd[i]);
		close(ctx->ike_fd[i]);
		ctx->ike_fd[i] = -1;
	}
}
