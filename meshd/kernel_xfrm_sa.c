/* kernel_xfrm_sa.c — the ESP SA half of the XFRM kernel_ops: SPI allocation, install,
 * delete, counters, and the EXPIRE parser. Requests go through xfrm_talk()
 * (the private part of kernel_xfrm.h), one at a time, each with NLM_F_ACK.
 *
 * What the SAs look like follows Libreswan (libreswan-oe.md §2.6): ESP, ESN with a
 * 128-packet replay window, rfc4106(gcm(aes)) or cipher + truncated HMAC, tunnel or
 * transport, RFC 3948 UDP encapsulation when NAT was detected. With encapsulation the
 * inbound ESP-in-UDP packets are taken in by the UDP socket on 4500 (UDP_ENCAP_ESPINUDP),
 * and UDP checks the inbound policy on the outer packet first: that socket needs
 * socket_bypass(), or every packet is dropped as XfrmInTmplMismatch.
 *
 * Life of an inbound SA: sa_get_spi (XFRM_MSG_ALLOCSPI) leaves a larval state holding the
 * SPI, which the kernel drops after net.core.xfrm_acq_expires (30 s) if nothing replaces
 * it. sa_add then sends NEWSA; the larval state makes that fail with EEXIST, and after a
 * GETSA shows the existing state has no algorithms (larval, not an installed SA that
 * must not be touched) the same message goes out again as UPDSA, which replaces it.
 * Outbound SAs (the peer's SPI) are plain NEWSAs.
 *
 * Errors a kernel without ESP gives (measured on 6.18 with CONFIG_INET_ESP unset, where
 * `ip xfrm state add ... proto esp` prints "Requested type not found"):
 *   -EPROTONOSUPPORT, ext-ack "Requested type not found": the algorithms exist but the
 *                     ESP type (esp4/esp6) does not;
 *   -ENOSYS, ext-ack "Requested AEAD algorithm not found" (or "...encryption/
 *                     authentication..."): an algorithm is missing; the algorithms are
 *                     looked up first, so a kernel without gcm reports this even when it
 *                     also lacks ESP.
 * ALLOCSPI, DELSA and GETSA work without ESP (the larval state needs no type). Both errors
 * are passed up unchanged and logged once here with a plain reason. */
#include "config.h"

#define MESHD_KERNEL_XFRM_INTERNAL
#include "kernel_xfrm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/udp.h>          /* UDP_ENCAP_ESPINUDP */

#include "log.h"

#define SA_MSG_BYTES 2048           /* NEWSA: info + 3 algorithms + replay bitmap + encap */
#define SPI_MIN 0x100               /* 1..255 are reserved (RFC 4303 §2.1) */
#define SPI_MAX 0xffffffffu
#define REPLAY_MAX 4096             /* the kernel's XFRMA_REPLAY_ESN_MAX bitmap, in packets */
#define REPLAY_LEGACY_MAX 32        /* the u32 bitmap of the legacy replay_window field */
#define ESN_MIN_WINDOW 32           /* ESN needs a window > 0, even outbound */

/* A netlink request buffer aligned for the u64s of xfrm_usersa_info. */
union sa_msg {
	struct nlmsghdr nlh;
	uint64_t align;
	char b[SA_MSG_BYTES];
};

static const char *sa_str(const struct addr *src, const struct addr *dst, uint32_t spi,
			  char *buf, size_t len)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];

	snprintf(buf, len, "%s -> %s spi 0x%08x", src ? addr_str(src, s) : "*",
		 addr_str(dst, d), spi);
	return buf;
}

/* A plain reason for the errors sa_add can meet on a kernel short of ESP support. */
static const char *sa_add_reason(int err)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		return "the kernel has no ESP support (esp4/esp6 not built or not loadable)";
	case -ENOSYS:
		return "the kernel lacks a requested algorithm";
	case -EEXIST:
		return "an SA with this SPI is already installed";
	default:
		return strerror(-err);
	}
}

/* Room for an attribute of len payload bytes at the message's tail, zeroed (padding
 * included); NULL when buf (cap bytes) is too small. */
static void *attr_reserve(struct nlmsghdr *nlh, size_t cap, uint16_t type, size_t len)
{
	struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);
	size_t total = MNL_ATTR_HDRLEN + len;

	if (total > UINT16_MAX || nlh->nlmsg_len + MNL_ALIGN(total) > cap)
		return NULL;
	memset(a, 0, MNL_ALIGN(total));
	a->nla_type = type;
	a->nla_len = (uint16_t)total;
	nlh->nlmsg_len += MNL_ALIGN(total);
	return mnl_attr_get_payload(a);
}

static bool alg_name_ok(const char *name, size_t size)
{
	return name[0] && memchr(name, '\0', size) != NULL;
}

/* ---- ALLOCSPI -------------------------------------------------------------------- */

/* The reply to ALLOCSPI and GETSA: the state as an XFRM_MSG_NEWSA. */
static int sa_info_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct xfrm_usersa_info)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	memcpy(data, mnl_nlmsg_get_payload(nlh), sizeof(struct xfrm_usersa_info));
	return MNL_CB_OK;
}

int xfrm_sa_get_spi(struct kernel *k, const struct addr *src, const struct addr *dst,
		    uint32_t reqid, uint32_t *spi)
{
	struct xfrm *x = k->priv;
	union sa_msg m;
	struct xfrm_userspi_info u;
	struct xfrm_usersa_info got;
	char desc[128];
	int r;

	if (!xfrm_family_ok(dst->family) || src->family != dst->family)
		return -EAFNOSUPPORT;
	memset(&u, 0, sizeof(u));
	xfrm_addr_put(&u.info.id.daddr, dst);
	xfrm_addr_put(&u.info.saddr, src);
	u.info.id.proto = IPPROTO_ESP;
	u.info.family = dst->family;
	u.info.mode = XFRM_MODE_TRANSPORT;   /* the SA that replaces it sets its own */
	u.info.reqid = reqid;
	u.min = SPI_MIN;
	u.max = SPI_MAX;
	xfrm_req_header(m.b, XFRM_MSG_ALLOCSPI, NLM_F_ACK, 0);
	memcpy(mnl_nlmsg_put_extra_header(&m.nlh, sizeof(u)), &u, sizeof(u));
	memset(&got, 0, sizeof(got));
	r = xfrm_talk(k, &m.nlh, sa_info_cb, &got);
	if (r == 0 && (got.id.proto != IPPROTO_ESP || got.id.spi == 0))
		r = -EPROTO;             /* an ack without the state */
	if (r < 0) {
		log_warn(k->log, "xfrm: allocating an SPI for %s: %s%s%s",
			 sa_str(src, dst, 0, desc, sizeof(desc)), strerror(-r),
			 x->ext_ack[0] ? ": " : "", x->ext_ack);
		return r;
	}
	*spi = ntohl(got.id.spi);
	return 0;
}

/* ---- NEWSA / UPDSA --------------------------------------------------------------- */

static int put_algs(struct nlmsghdr *nlh, const struct ksa *sa)
{
	if (sa->aead_name[0]) {
		struct xfrm_algo_aead h;
		uint8_t *p;

		if (!alg_name_ok(sa->aead_name, sizeof(sa->aead_name)) || sa->enc_name[0] ||
		    sa->auth_name[0] || !sa->aead_icv_bits || !sa->enc_key_len ||
		    sa->enc_key_len > sizeof(sa->enc_key))
			return -EINVAL;
		memset(&h, 0, sizeof(h));
		memcpy(h.alg_name, sa->aead_name, sizeof(h.alg_name));
		h.alg_key_len = sa->enc_key_len * 8u;   /* RFC 4106: the salt is included */
		h.alg_icv_len = sa->aead_icv_bits;
		p = attr_reserve(nlh, SA_MSG_BYTES, XFRMA_ALG_AEAD, sizeof(h) + sa->enc_key_len);
		if (!p)
			return -EMSGSIZE;
		memcpy(p, &h, sizeof(h));
		memcpy(p + sizeof(h), sa->enc_key, sa->enc_key_len);
		return 0;
	}
	/* cipher + integrity: both, always (ENCR_NULL is "ecb(cipher_null)") */
	if (!alg_name_ok(sa->enc_name, sizeof(sa->enc_name)) ||
	    !alg_name_ok(sa->auth_name, sizeof(sa->auth_name)) || !sa->auth_trunc_bits ||
	    sa->enc_key_len > sizeof(sa->enc_key) || sa->auth_key_len > sizeof(sa->auth_key) ||
	    !sa->auth_key_len)
		return -EINVAL;
	struct xfrm_algo c;
	struct xfrm_algo_auth a;
	uint8_t *p;

	memset(&c, 0, sizeof(c));
	memcpy(c.alg_name, sa->enc_name, sizeof(c.alg_name));
	c.alg_key_len = sa->enc_key_len * 8u;
	p = attr_reserve(nlh, SA_MSG_BYTES, XFRMA_ALG_CRYPT, sizeof(c) + sa->enc_key_len);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, &c, sizeof(c));
	memcpy(p + sizeof(c), sa->enc_key, sa->enc_key_len);

	memset(&a, 0, sizeof(a));
	memcpy(a.alg_name, sa->auth_name, sizeof(a.alg_name));
	a.alg_key_len = sa->auth_key_len * 8u;
	a.alg_trunc_len = sa->auth_trunc_bits;   /* RFC 4868: 128 for hmac(sha256) */
	p = attr_reserve(nlh, SA_MSG_BYTES, XFRMA_ALG_AUTH_TRUNC, sizeof(a) + sa->auth_key_len);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), sa->auth_key, sa->auth_key_len);
	return 0;
}

/* The replay window. The legacy u8 field has a 32-packet bitmap; beyond that, and always
 * with ESN, the window goes in XFRMA_REPLAY_ESN_VAL (bmp_len in u32 words) and the legacy
 * field must be 0, or the kernel refuses the SA. The kernel also refuses ESN with a
 * window of 0, so an ESN SA without one (outbound) gets the smallest bitmap. */
static int put_replay(struct nlmsghdr *nlh, const struct ksa *sa, struct xfrm_usersa_info *info)
{
	uint32_t w = sa->replay_window;
	struct xfrm_replay_state_esn rs;
	uint8_t *p;

	if (w > REPLAY_MAX)
		return -EINVAL;
	if (!sa->esn && w <= REPLAY_LEGACY_MAX) {
		info->replay_window = (uint8_t)w;
		return 0;
	}
	if (sa->esn && w == 0)
		w = ESN_MIN_WINDOW;
	memset(&rs, 0, sizeof(rs));
	rs.bmp_len = (w + 31) / 32;
	rs.replay_window = w;
	info->replay_window = 0;
	p = attr_reserve(nlh, SA_MSG_BYTES, XFRMA_REPLAY_ESN_VAL,
			 sizeof(rs) + rs.bmp_len * sizeof(uint32_t));
	if (!p)
		return -EMSGSIZE;
	memcpy(p, &rs, sizeof(rs));   /* the bitmap stays zero */
	return 0;
}

static int build_sa(union sa_msg *m, const struct ksa *sa)
{
	struct xfrm_usersa_info info;
	struct nlmsghdr *nlh;
	int family = sa->dst.family;
	int r;

	if (!xfrm_family_ok(family) || sa->src.family != family)
		return -EAFNOSUPPORT;
	if (sa->spi == 0 || (!sa->encap_sport) != (!sa->encap_dport))
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	if (xfrm_family_ok(sa->sel.src.a.family)) {
		r = xfrm_sel_put(&sa->sel, &info.sel);
		if (r < 0)
			return r;
	} else if (!sa->tunnel) {
		/* transport mode: the SA carries exactly its endpoints' traffic */
		struct ksel host = { 0 };
		host.src.a = sa->src;
		host.src.len = (uint8_t)addr_bits(family);
		host.dst.a = sa->dst;
		host.dst.len = host.src.len;
		r = xfrm_sel_put(&host, &info.sel);
		if (r < 0)
			return r;
	}   /* else tunnel without inner selector: any (the kernel fills in the family) */
	xfrm_addr_put(&info.id.daddr, &sa->dst);
	info.id.spi = htonl(sa->spi);
	info.id.proto = IPPROTO_ESP;
	xfrm_addr_put(&info.saddr, &sa->src);
	xfrm_lft_infinite(&info.lft);
	if (sa->soft_bytes)
		info.lft.soft_byte_limit = sa->soft_bytes;
	if (sa->hard_bytes)
		info.lft.hard_byte_limit = sa->hard_bytes;
	info.lft.soft_add_expires_seconds = sa->soft_add_s;
	info.lft.hard_add_expires_seconds = sa->hard_add_s;
	info.reqid = sa->reqid;
	info.seq = sa->acq_seq;       /* xfrm_state_add deletes the ACQUIRE's larval state */
	info.family = (uint16_t)family;
	info.mode = sa->tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
	if (sa->esn)
		info.flags |= XFRM_STATE_ESN;

	nlh = xfrm_req_header(m->b, XFRM_MSG_NEWSA, NLM_F_ACK, 0);
	mnl_nlmsg_put_extra_header(nlh, sizeof(info));
	r = put_replay(nlh, sa, &info);      /* may clear info.replay_window */
	if (r < 0)
		return r;
	memcpy(mnl_nlmsg_get_payload(nlh), &info, sizeof(info));
	r = put_algs(nlh, sa);
	if (r < 0)
		return r;
	if (sa->encap_sport) {
		struct xfrm_encap_tmpl e;
		void *p = attr_reserve(nlh, SA_MSG_BYTES, XFRMA_ENCAP, sizeof(e));
		if (!p)
			return -EMSGSIZE;
		memset(&e, 0, sizeof(e));
		e.encap_type = UDP_ENCAP_ESPINUDP;   /* RFC 3948, non-IKE marker-less */
		e.encap_sport = htons(sa->encap_sport);
		e.encap_dport = htons(sa->encap_dport);
		memcpy(p, &e, sizeof(e));
	}
	return 0;
}

struct larval {
	struct xfrm_usersa_info info;
	bool has_alg;
};

static int larval_attr_cb(const struct nlattr *attr, void *data)
{
	switch (mnl_attr_get_type(attr)) {
	case XFRMA_ALG_AEAD:
	case XFRMA_ALG_CRYPT:
	case XFRMA_ALG_AUTH:
	case XFRMA_ALG_AUTH_TRUNC:
	case XFRMA_ALG_COMP:
		((struct larval *)data)->has_alg = true;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int larval_cb(const struct nlmsghdr *nlh, void *data)
{
	int r = sa_info_cb(nlh, &((struct larval *)data)->info);

	if (r != MNL_CB_OK)
		return r;
	return mnl_attr_parse(nlh, sizeof(struct xfrm_usersa_info), larval_attr_cb, data);
}

static void sa_id_put(struct xfrm_usersa_id *id, const struct addr *dst, uint32_t spi)
{
	memset(id, 0, sizeof(*id));
	xfrm_addr_put(&id->daddr, dst);
	id->spi = htonl(spi);
	id->family = dst->family;
	id->proto = IPPROTO_ESP;
}

/* Whether the state holding (dst, spi) is a larval one from ALLOCSPI (no algorithms). */
static bool sa_is_larval(struct kernel *k, const struct addr *dst, uint32_t spi)
{
	char buf[REQ_BYTES];
	struct nlmsghdr *nlh = xfrm_req_header(buf, XFRM_MSG_GETSA, NLM_F_ACK, 0);
	struct xfrm_usersa_id id;
	struct larval l;

	sa_id_put(&id, dst, spi);
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(id)), &id, sizeof(id));
	memset(&l, 0, sizeof(l));
	return xfrm_talk(k, nlh, larval_cb, &l) == 0 && l.info.id.proto == IPPROTO_ESP &&
	       !l.has_alg;
}

int xfrm_sa_add(struct kernel *k, const struct ksa *sa)
{
	struct xfrm *x = k->priv;
	union sa_msg m;
	char desc[128];
	int r = build_sa(&m, sa);

	if (r == 0) {
		r = xfrm_talk(k, &m.nlh, NULL, NULL);
		if (r == -EEXIST && sa_is_larval(k, &sa->dst, sa->spi)) {
			/* our own SPI from sa_get_spi: replace the larval state */
			m.nlh.nlmsg_type = XFRM_MSG_UPDSA;
			r = xfrm_talk(k, &m.nlh, NULL, NULL);
		}
	}
	/* The keys: out of our stack, and out of the receive buffer in case an error ack
	 * echoed the request (when NETLINK_CAP_ACK could not be set). */
	explicit_bzero(&m, sizeof(m));
	explicit_bzero(x->rbuf, SA_MSG_BYTES + 256);
	if (r < 0)
		log_warn(k->log, "xfrm: adding ESP SA %s (%s %s): %s%s%s",
			 sa_str(&sa->src, &sa->dst, sa->spi, desc, sizeof(desc)),
			 sa->aead_name[0] ? sa->aead_name : sa->enc_name,
			 sa->tunnel ? "tunnel" : "transport", sa_add_reason(r),
			 x->ext_ack[0] ? ": " : "", x->ext_ack);
	return r;
}

/* ---- DELSA / GETSA --------------------------------------------------------------- */

int xfrm_sa_del(struct kernel *k, const struct addr *dst, uint32_t spi)
{
	char buf[REQ_BYTES], desc[128];
	struct nlmsghdr *nlh;
	struct xfrm_usersa_id id;
	int r;

	if (!xfrm_family_ok(dst->family))
		return -EAFNOSUPPORT;
	nlh = xfrm_req_header(buf, XFRM_MSG_DELSA, NLM_F_ACK, 0);
	sa_id_put(&id, dst, spi);
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(id)), &id, sizeof(id));
	r = xfrm_talk(k, nlh, NULL, NULL);
	if (r == -ESRCH || r == -ENOENT)
		return 0;                /* already gone (expired, or never added) */
	if (r < 0)
		log_warn(k->log, "xfrm: deleting ESP SA %s: %s",
			 sa_str(NULL, dst, spi, desc, sizeof(desc)), strerror(-r));
	return r;
}

int xfrm_sa_stats(struct kernel *k, const struct addr *dst, uint32_t spi,
		  struct ksa_stats *out)
{
	char buf[REQ_BYTES];
	struct nlmsghdr *nlh;
	struct xfrm_usersa_id id;
	struct xfrm_usersa_info info;
	int r;

	if (!xfrm_family_ok(dst->family))
		return -EAFNOSUPPORT;
	nlh = xfrm_req_header(buf, XFRM_MSG_GETSA, NLM_F_ACK, 0);
	sa_id_put(&id, dst, spi);
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(id)), &id, sizeof(id));
	memset(&info, 0, sizeof(info));
	r = xfrm_talk(k, nlh, sa_info_cb, &info);
	if (r == -ESRCH)
		return -ENOENT;
	if (r == 0 && info.id.proto != IPPROTO_ESP)
		r = -EPROTO;
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->bytes = info.curlft.bytes;
	out->packets = info.curlft.packets;
	out->add_time = info.curlft.add_time;
	out->use_time = info.curlft.use_time;
	return 0;
}

/* ---- EXPIRE ---------------------------------------------------------------------- */

int xfrm_parse_expire(const void *buf, size_t len, struct kexpire *out)
{
	const struct nlmsghdr *nlh = buf;
	struct xfrm_user_expire ue;
	const struct nlattr *a;
	size_t off;
	int rem;

	if (!buf || len < sizeof(*nlh) || len > INT_MAX || !mnl_nlmsg_ok(nlh, (int)len))
		return -EBADMSG;
	if (nlh->nlmsg_type != XFRM_MSG_EXPIRE)
		return -ENOMSG;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ue))
		return -EBADMSG;
	memcpy(&ue, mnl_nlmsg_get_payload(nlh), sizeof(ue));   /* buf may be unaligned */
	/* The attributes (XFRMA_MARK, XFRMA_IF_ID, ...) are not used, but must tile the rest
	 * of the message exactly: a length lie anywhere makes the whole message suspect. */
	off = MNL_ALIGN(sizeof(ue));
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return -EBADMSG;
	a = (const struct nlattr *)((const char *)mnl_nlmsg_get_payload(nlh) + off);
	rem = (int)(mnl_nlmsg_get_payload_len(nlh) - off);
	while (rem > 0) {
		if (!mnl_attr_ok(a, rem))
			return -EBADMSG;
		int step = (int)MNL_ALIGN(a->nla_len);
		if (step >= rem)
			break;
		rem -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	if (!xfrm_family_ok(ue.state.family))
		return -EPROTONOSUPPORT;
	memset(out, 0, sizeof(*out));
	xfrm_addr_get(&out->dst, &ue.state.id.daddr, ue.state.family);
	out->spi = ntohl(ue.state.id.spi);
	out->proto = ue.state.id.proto;
	out->reqid = ue.state.reqid;
	out->hard = ue.hard != 0;
	return 0;
}
