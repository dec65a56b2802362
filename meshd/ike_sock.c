/* ike_sock.c — bind the IKE ports and receive datagrams. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "ike_sock.h"

static void on_ike_readable(int fd, uint32_t events, void *arg)
{
	struct meshd_ctx *ctx = arg;
	uint8_t buf[65536];
	struct sockaddr_storage from;
	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		/* The IKEv2 engine (its own issue) takes these over; until then they are
		 * counted, and logged once. */
		if (ctx->stats.ike_dropped++ == 0) {
			struct addr a;
			uint16_t port;
			char s[ADDR_STRLEN];
			addr_from_sockaddr((struct sockaddr *)&from, &a, &port);
			log_info(&ctx->log, "IKE datagram from %s:%u dropped: IKE engine not built yet",
				 addr_str(&a, s), port);
		}
	}
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
