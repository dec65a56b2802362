/* nft_log.c — bind the trigger rules' NFLOG group and parse what it delivers (nft_log.h).
 *
 * nfnetlink_log: a NFULNL_MSG_CONFIG message per setting, addressed to the group by
 * nfgenmsg.res_id; the kernel then sends one NFULNL_MSG_PACKET per logged packet (several
 * in one datagram, NLM_F_MULTI, when it queues more than one) with NFULA_PACKET_HDR and
 * NFULA_PAYLOAD, the packet from its network header, cut at the copy range. */
#include "config.h"

#define MESHD_NFT_INTERNAL
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nft_log.h"
#include "rd.h"

#define RX_BUF (64 * 1024)

struct nft_log {
	struct log *log;                  /* borrowed */
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint16_t group;
	struct nft_log_stats st;
	uint8_t *buf;                     /* RX_BUF */
};

/* ---- the parser ----------------------------------------------------------------- */

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP;
}

/* The ports at the start of a transport header, if the copy holds them. */
static void read_ports(struct rd *r, struct nft_log_pkt *p)
{
	uint16_t sp, dp;
	if (!has_ports(p->proto) || rd_be16(r, &sp) || rd_be16(r, &dp))
		return;
	p->sport = sp;
	p->dport = dp;
	p->ports = true;
}

static bool parse_ip4(struct rd *r, struct nft_log_pkt *p)
{
	uint8_t vihl, tos, ttl, proto;
	uint16_t tot, id, frag, csum;
	const uint8_t *src, *dst;
	rd_u8(r, &vihl);
	rd_u8(r, &tos);
	rd_be16(r, &tot);
	rd_be16(r, &id);
	rd_be16(r, &frag);
	rd_u8(r, &ttl);
	rd_u8(r, &proto);
	rd_be16(r, &csum);
	rd_bytes(r, 4, &src);
	rd_bytes(r, 4, &dst);
	if (!rd_ok(r) || (vihl >> 4) != 4 || (vihl & 15) < 5)
		return false;
	p->src.family = p->dst.family = AF_INET;
	memcpy(p->src.b, src, 4);
	memcpy(p->dst.b, dst, 4);
	p->proto = proto;
	/* options (cut by the copy range: then no ports), and no ports in a later fragment */
	if (rd_skip(r, (size_t)((vihl & 15) - 5) * 4) == 0 && (frag & 0x1fff) == 0)
		read_ports(r, p);
	return true;
}

static bool parse_ip6(struct rd *r, struct nft_log_pkt *p)
{
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh, hlim;
	const uint8_t *src, *dst;
	rd_be32(r, &vtcfl);
	rd_be16(r, &plen);
	rd_u8(r, &nh);
	rd_u8(r, &hlim);
	rd_bytes(r, 16, &src);
	rd_bytes(r, 16, &dst);
	if (!rd_ok(r) || (vtcfl >> 28) != 6)
		return false;
	p->src.family = p->dst.family = AF_INET6;
	memcpy(p->src.b, src, 16);
	memcpy(p->dst.b, dst, 16);
	p->proto = nh;            /* an extension header: no ports (has_ports says no) */
	read_ports(r, p);
	return true;
}

/* The IP header of payload, which must agree with the message's family. */
static bool parse_payload(const uint8_t *b, size_t n, uint8_t family, struct nft_log_pkt *p)
{
	struct rd r;
	rd_init(&r, b, n);
	memset(p, 0, sizeof(*p));
	if (family == NFPROTO_IPV4)
		return parse_ip4(&r, p);
	if (family == NFPROTO_IPV6)
		return parse_ip6(&r, p);
	return false;
}

struct attrs {
	const struct nlattr *hdr, *payload;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	switch (mnl_attr_get_type(a)) {
	case NFULA_PACKET_HDR:
		if (mnl_attr_validate2(a, MNL_TYPE_UNSPEC, sizeof(struct nfulnl_msg_packet_hdr)) < 0)
			return MNL_CB_ERROR;
		t->hdr = a;
		break;
	case NFULA_PAYLOAD:
		if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		t->payload = a;
		break;
	default:
		break;                    /* timestamps, interfaces, ...: not needed */
	}
	return MNL_CB_OK;
}

/* One NFULNL_MSG_PACKET. */
static bool parse_packet(const struct nlmsghdr *nlh, struct nft_log_pkt *p)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return false;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct attrs t = { 0 };
	if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, &t) < 0 || !t.hdr || !t.payload)
		return false;
	const struct nfulnl_msg_packet_hdr *h = mnl_attr_get_payload(t.hdr);
	uint16_t hw = ntohs(h->hw_protocol);
	/* hw_protocol is the skb's protocol; 0 for some paths: then the family decides */
	if (hw && hw != (g->nfgen_family == NFPROTO_IPV6 ? ETH_P_IPV6 : ETH_P_IP))
		return false;
	return parse_payload(mnl_attr_get_payload(t.payload),
			     mnl_attr_get_payload_len(t.payload), g->nfgen_family, p);
}

size_t nft_log_parse(const void *buf, size_t len, nft_log_fn *fn, void *arg,
		     size_t *malformed)
{
	size_t n = 0, bad = 0, off = 0;
	const uint8_t *b = buf;
	/* walked by hand: mnl_nlmsg_ok compares nlmsg_len as an int, so a length above
	 * INT_MAX would pass it; and libmnl's attribute walk runs to the aligned end, so an
	 * unaligned last message (never from the kernel) counts as truncated */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)(b + off);
		size_t mlen = nlh->nlmsg_len;
		size_t alen = (mlen + 3) & ~(size_t)3;   /* NLMSG_ALIGN wraps at 2^32 */
		if (mlen < sizeof(*nlh) || alen > len - off)
			break;
		off += alen;
		if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
			continue;         /* NLMSG_DONE after a multi-part batch, errors, ... */
		struct nft_log_pkt p;
		if (!parse_packet(nlh, &p)) {
			bad++;
			continue;
		}
		n++;
		if (fn)
			fn(&p, arg);
	}
	if (off < len)
		bad++;                    /* a truncated message at the end */
	if (malformed)
		*malformed = bad;
	return n;
}

/* ---- the socket ----------------------------------------------------------------- */

/* One config message for the group, with NLM_F_ACK; waits for the answer. */
static int config(struct nft_log *l, uint8_t cmd, bool mode)
{
	uint8_t *buf = l->buf;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++l->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(l->group);
	if (cmd != NFULNL_CFG_CMD_NONE) {
		struct nfulnl_msg_config_cmd c = { .command = cmd };
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	}
	if (mode) {
		struct nfulnl_msg_config_mode m = { .copy_range = htonl(NFT_LOG_SNAPLEN),
						    .copy_mode = NFULNL_COPY_PACKET };
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));   /* deliver at once */
	}
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* the kernel answers inside sendmsg; logged packets may be queued before the ack */
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(l->nl), buf, RX_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		int left = (int)n;
		for (const struct nlmsghdr *m = (const void *)buf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != l->seq ||
			    mnl_nlmsg_get_payload_len(m) < sizeof(struct nlmsgerr))
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			return e->error;
		}
	}
}

int nft_log_open(struct nft_log **out, struct log *log, uint16_t group)
{
	*out = NULL;
	if (!group)
		return -EINVAL;
	struct nft_log *l = calloc(1, sizeof(*l));
	if (!l || !(l->buf = malloc(RX_BUF))) {
		free(l);
		return -ENOMEM;
	}
	l->log = log;
	l->group = group;
	l->seq = (uint32_t)time(NULL);
	int r = 0;
	l->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!l->nl || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	if (r == 0) {
		l->portid = mnl_socket_get_portid(l->nl);
		r = config(l, NFULNL_CFG_CMD_BIND, false);
	}
	if (r == 0)
		r = config(l, NFULNL_CFG_CMD_NONE, true);
	if (r == 0) {
		int fd = mnl_socket_get_fd(l->nl);
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			r = -errno;
	}
	if (r < 0) {
		nft_log_close(l);
		return r;
	}
	*out = l;
	return 0;
}

int nft_log_fd(const struct nft_log *l)
{
	return mnl_socket_get_fd(l->nl);
}

uint16_t nft_log_group_of(const struct nft_log *l)
{
	return l->group;
}

const struct nft_log_stats *nft_log_stats(const struct nft_log *l)
{
	return &l->st;
}

int nft_log_read(struct nft_log *l, nft_log_fn *fn, void *arg)
{
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(l->nl), l->buf, RX_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			/* the listener fell behind: those packets were dropped all the same,
			 * and their peers send again */
			l->st.overruns++;
			continue;
		}
		if (n < 0)
			return -errno;
		size_t bad = 0;
		l->st.packets += nft_log_parse(l->buf, (size_t)n, fn, arg, &bad);
		if (bad && !l->st.malformed)
			log_warn(l->log, "nflog group %u: a message that does not parse (%zd "
				 "bytes); dropping such messages", l->group, n);
		l->st.malformed += bad;
	}
}

void nft_log_close(struct nft_log *l)
{
	if (!l)
		return;
	if (l->nl) {
		if (l->portid)
			(void)config(l, NFULNL_CFG_CMD_UNBIND, false);
		mnl_socket_close(l->nl);
	}
	free(l->buf);
	free(l);
}
