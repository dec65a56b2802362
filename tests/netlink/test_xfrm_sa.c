/* test_xfrm_sa.c — the ESP SA operations of kernel_xfrm (kernel_xfrm_sa.c) against a live
 * kernel, each test in its own network namespace (a checked fixture unshares CLONE_NEWNET
 * inside Check's fork).
 *
 * Two tiers, chosen by probing once whether the kernel can hold an ESP SA:
 *   - everywhere: SPI allocation, delete of unknown SAs, argument checks, the EXPIRE
 *     parser on hand-built messages and an EXPIRE injected on the multicast group, and,
 *     on a kernel without ESP (the development machines), the exact error sa_add gets;
 *   - with ESP (e.g. `tests/vm/run -- tests/netlink/test_xfrm_sa` from the build tree):
 *     the full round trip between two namespaces over veth — AEAD and CBC+HMAC SAs,
 *     transport and tunnel, ESN, UDP encapsulation, matching KACT_IPSEC policies, real
 *     traffic growing the counters, a soft and a hard time EXPIRE, delete.
 *
 * Needs root; exits 77 (SKIP) otherwise. With XFRM_CORPUS_DIR set, the parser test writes
 * its hand-built EXPIRE messages there (the seeds of tests/fuzz/corpus/xfrm_expire). */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "kernel_mock.h"
#include "kernel_xfrm.h"
#include "unit.h"

#define REQID 4711

static struct kernel K;         /* the fixture's namespace ("left" in the pair tests) */
static bool have_esp;           /* probed once by the suite */

static void sh(const char *cmd)
{
	int r = system(cmd);
	ck_assert_msg(r == 0, "'%s' failed (%d)", cmd, r);
}

static void netns_setup(void)
{
	memset(&K, 0, sizeof(K));
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	ck_assert_int_eq(xfrm_open(&K), 0);
}

static void netns_teardown(void)
{
	if (K.ops)
		K.ops->close(&K);
	memset(&K, 0, sizeof(K));
}

static struct addr A(const char *s)
{
	struct addr a;
	ck_assert_msg(addr_parse(s, &a), "bad address %s", s);
	return a;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `ip -o xfrm state` of the current namespace, into buf. */
static const char *state_dump(char *buf, size_t cap)
{
	FILE *f = popen("ip -o xfrm state 2>&1", "r");
	size_t n;
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* 32 bytes of AES-256 key + 4 of salt (RFC 4106), or a CBC key + an HMAC key. */
static struct ksa mksa(const char *src, const char *dst, uint32_t spi, bool aead, bool tunnel)
{
	struct ksa sa;
	memset(&sa, 0, sizeof(sa));
	sa.src = A(src);
	sa.dst = A(dst);
	sa.spi = spi;
	sa.reqid = REQID;
	sa.tunnel = tunnel;
	if (aead) {
		snprintf(sa.aead_name, sizeof(sa.aead_name), "rfc4106(gcm(aes))");
		sa.aead_icv_bits = 128;
		sa.enc_key_len = 36;
	} else {
		snprintf(sa.enc_name, sizeof(sa.enc_name), "cbc(aes)");
		snprintf(sa.auth_name, sizeof(sa.auth_name), "hmac(sha256)");
		sa.auth_trunc_bits = 128;
		sa.enc_key_len = 32;
		sa.auth_key_len = 32;
		for (int i = 0; i < 32; i++)
			sa.auth_key[i] = (uint8_t)(0xa0 + i);
	}
	for (int i = 0; i < sa.enc_key_len; i++)
		sa.enc_key[i] = (uint8_t)(i + 1);
	return sa;
}

/* ---- EXPIRE messages, built by hand ------------------------------------------------ */

struct msgbuf {
	union {
		struct nlmsghdr h;
		uint64_t align;
		uint8_t b[1024];
	} u;
	size_t len;
};

/* An EXPIRE as the kernel builds it (build_expire in xfrm_user.c): struct
 * xfrm_user_expire, then optionally XFRMA_MARK. */
static void build_expire(struct msgbuf *m, int family, const char *dst, uint32_t spi,
			 uint32_t reqid, bool hard, bool mark)
{
	struct xfrm_user_expire ue;
	struct nlmsghdr h;

	memset(m, 0, sizeof(*m));
	memset(&ue, 0, sizeof(ue));
	ue.state.family = (uint16_t)family;
	ck_assert_int_eq(inet_pton(family, dst, &ue.state.id.daddr), 1);
	ck_assert_int_eq(inet_pton(family, family == AF_INET ? "10.9.0.1" : "2001:db8:9::1",
				   &ue.state.saddr), 1);
	ue.state.id.spi = htonl(spi);
	ue.state.id.proto = IPPROTO_ESP;
	ue.state.reqid = reqid;
	ue.state.mode = XFRM_MODE_TUNNEL;
	ue.state.lft.soft_add_expires_seconds = 1;
	ue.state.curlft.add_time = 1700000000;
	ue.hard = hard;
	memset(&h, 0, sizeof(h));
	h.nlmsg_type = XFRM_MSG_EXPIRE;
	h.nlmsg_len = NLMSG_LENGTH(sizeof(ue));
	memcpy(m->u.b + NLMSG_HDRLEN, &ue, sizeof(ue));
	if (mark) {
		struct nlattr a = { .nla_len = NLA_HDRLEN + sizeof(struct xfrm_mark),
				    .nla_type = XFRMA_MARK };
		struct xfrm_mark xm = { .v = 5, .m = 0xff };
		memcpy(m->u.b + h.nlmsg_len, &a, sizeof(a));
		memcpy(m->u.b + h.nlmsg_len + NLA_HDRLEN, &xm, sizeof(xm));
		h.nlmsg_len += NLA_ALIGN(a.nla_len);
	}
	memcpy(m->u.b, &h, sizeof(h));
	m->len = h.nlmsg_len;
}

static void write_seed(const char *name, const void *buf, size_t len)
{
	const char *dir = getenv("XFRM_CORPUS_DIR");
	char path[512];
	FILE *f;
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Parse a copy of exactly len bytes (so ASan sees any overread). */
static int parse_copy(const void *buf, size_t len, struct kexpire *e)
{
	void *c = malloc(len ? len : 1);
	int r;
	ck_assert_ptr_nonnull(c);
	memcpy(c, buf, len);
	r = xfrm_parse_expire(c, len, e);
	free(c);
	return r;
}

START_TEST(parse_built)
{
	struct msgbuf m, m2;
	struct kexpire e;
	struct addr d6 = A("2001:db8:9::2");

	/* soft, IPv4, bare */
	build_expire(&m, AF_INET, "10.9.0.2", 0x12345678, 77, false, false);
	write_seed("expire_v4_soft.bin", m.u.b, m.len);
	ck_assert_int_eq(parse_copy(m.u.b, m.len, &e), 0);
	ck_assert_str_eq(addr_str(&e.dst, (char[ADDR_STRLEN]){ 0 }), "10.9.0.2");
	ck_assert_uint_eq(e.spi, 0x12345678);
	ck_assert_uint_eq(e.proto, IPPROTO_ESP);
	ck_assert_uint_eq(e.reqid, 77);
	ck_assert(!e.hard);
	/* every truncation is refused, never overread */
	for (size_t cut = 0; cut < m.len; cut++)
		ck_assert_int_lt(parse_copy(m.u.b, cut, &e), 0);
	write_seed("bad_v4_truncated.bin", m.u.b, m.len - 8);
	write_seed("header_only.bin", m.u.b, NLMSG_HDRLEN);

	/* hard, IPv6, with the XFRMA_MARK the kernel appends */
	build_expire(&m, AF_INET6, "2001:db8:9::2", 0x100, 4711, true, true);
	write_seed("expire_v6_hard_mark.bin", m.u.b, m.len);
	ck_assert_int_eq(parse_copy(m.u.b, m.len, &e), 0);
	ck_assert(addr_eq(&e.dst, &d6));
	ck_assert_uint_eq(e.spi, 0x100);
	ck_assert_uint_eq(e.reqid, 4711);
	ck_assert(e.hard);
	for (size_t cut = 0; cut < m.len; cut++)
		ck_assert_int_lt(parse_copy(m.u.b, cut, &e), 0);

	/* an attribute whose length runs past the message */
	m2 = m;
	m2.u.b[NLMSG_HDRLEN + sizeof(struct xfrm_user_expire)] = 0xf0;
	write_seed("bad_v6_attr_overlong.bin", m2.u.b, m2.len);
	ck_assert_int_eq(parse_copy(m2.u.b, m2.len, &e), -EBADMSG);
	/* an attribute shorter than its own header */
	m2.u.b[NLMSG_HDRLEN + sizeof(struct xfrm_user_expire)] = 2;
	write_seed("bad_v6_attr_short.bin", m2.u.b, m2.len);
	ck_assert_int_eq(parse_copy(m2.u.b, m2.len, &e), -EBADMSG);
	/* nlmsg_len one byte longer than the buffer */
	write_seed("bad_v6_short_by_one.bin", m.u.b, m.len - 1);
	ck_assert_int_eq(parse_copy(m.u.b, m.len - 1, &e), -EBADMSG);

	/* another family */
	build_expire(&m, AF_INET, "10.9.0.2", 0x200, 1, true, false);
	m.u.b[NLMSG_HDRLEN + offsetof(struct xfrm_usersa_info, family)] = 99;
	write_seed("bad_v4_family.bin", m.u.b, m.len);
	ck_assert_int_eq(parse_copy(m.u.b, m.len, &e), -EPROTONOSUPPORT);

	/* another message type: -ENOMSG, and an ACQUIRE parser refuses an EXPIRE */
	build_expire(&m, AF_INET, "10.9.0.2", 0x200, 1, false, false);
	((struct nlmsghdr *)m.u.b)->nlmsg_type = XFRM_MSG_ACQUIRE;
	write_seed("bad_v4_type_acquire.bin", m.u.b, m.len);
	ck_assert_int_eq(parse_copy(m.u.b, m.len, &e), -ENOMSG);
	build_expire(&m, AF_INET, "10.9.0.2", 0x200, 1, false, false);
	struct kacquire acq;
	ck_assert_int_lt(xfrm_parse_acquire(m.u.b, m.len, &acq), 0);

	/* two messages in one buffer: the first is parsed */
	build_expire(&m2, AF_INET, "10.9.0.3", 0x300, 3, true, true);
	memcpy(m.u.b + m.len, m2.u.b, m2.len);
	write_seed("two_messages.bin", m.u.b, m.len + m2.len);
	ck_assert_int_eq(parse_copy(m.u.b, m.len + m2.len, &e), 0);
	ck_assert_uint_eq(e.spi, 0x200);

	ck_assert_int_eq(xfrm_parse_expire(NULL, 0, &e), -EBADMSG);
}
END_TEST

/* The committed corpus: expire_* parse, bad_* and header_only do not. */
START_TEST(parse_corpus)
{
	const char *top = getenv("top_srcdir");
	char dir[512], path[1024];
	uint8_t buf[4096];
	struct dirent *de;
	struct kexpire e;
	size_t n_files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/xfrm_expire", top ? top : SRCDIR);
	d = opendir(dir);
	ck_assert_msg(d, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		int r = parse_copy(buf, n, &e);
		if (strncmp(de->d_name, "expire_", 7) == 0 || strcmp(de->d_name, "two_messages.bin") == 0)
			ck_assert_msg(r == 0, "%s: %d", de->d_name, r);
		else
			ck_assert_msg(r < 0, "%s parsed", de->d_name);
		n_files++;
	}
	closedir(d);
	ck_assert_uint_ge(n_files, 8);
}
END_TEST

/* ---- everywhere: SPIs, deletes, argument checks, injected EXPIRE --------------------- */

START_TEST(spi_alloc)
{
	struct addr l4 = A("10.9.0.1"), r4 = A("10.9.0.2");
	struct addr l6 = A("2001:db8:9::1"), r6 = A("2001:db8:9::2");
	uint32_t s1 = 0, s2 = 0, s6 = 0;
	struct ksa_stats st;
	char dump[8192];

	ck_assert_int_eq(K.ops->sa_get_spi(&K, &r4, &l4, REQID, &s1), 0);
	ck_assert_int_eq(K.ops->sa_get_spi(&K, &r4, &l4, REQID, &s2), 0);
	ck_assert_int_eq(K.ops->sa_get_spi(&K, &r6, &l6, REQID, &s6), 0);
	ck_assert_uint_ge(s1, 0x100);
	ck_assert_uint_ge(s2, 0x100);
	ck_assert_uint_ge(s6, 0x100);
	ck_assert_uint_ne(s1, s2);
	/* the larval states hold the SPIs */
	state_dump(dump, sizeof(dump));
	ck_assert_uint_eq(count_lines(dump), 3);
	char want[64];
	snprintf(want, sizeof(want), "spi 0x%08x reqid %u", s1, REQID);
	ck_assert_msg(strstr(dump, want), "no '%s' in:\n%s", want, dump);
	/* GETSA works on them: nothing counted yet */
	ck_assert_int_eq(K.ops->sa_stats(&K, &l4, s1, &st), 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.packets, 0);
	/* sa_del frees an unused SPI */
	ck_assert_int_eq(K.ops->sa_del(&K, &l4, s1), 0);
	ck_assert_int_eq(K.ops->sa_stats(&K, &l4, s1, &st), -ENOENT);
	ck_assert_uint_eq(count_lines(state_dump(dump, sizeof(dump))), 2);
	ck_assert_int_eq(K.ops->sa_del(&K, &l6, s6), 0);
	ck_assert_int_eq(K.ops->sa_del(&K, &l4, s2), 0);
	ck_assert_uint_eq(count_lines(state_dump(dump, sizeof(dump))), 0);
	/* mixed families */
	ck_assert_int_eq(K.ops->sa_get_spi(&K, &r6, &l4, REQID, &s1), -EAFNOSUPPORT);
}
END_TEST

START_TEST(del_unknown)
{
	struct addr d4 = A("10.9.0.2"), d6 = A("2001:db8:9::2");
	struct ksa_stats st;
	double t0 = now_s();

	ck_assert_int_eq(K.ops->sa_del(&K, &d4, 0xdeadbeef), 0);
	ck_assert_int_eq(K.ops->sa_del(&K, &d6, 0x1000), 0);
	ck_assert_int_eq(K.ops->sa_stats(&K, &d4, 0xdeadbeef, &st), -ENOENT);
	/* the kernel's -ESRCH answer is taken as the answer, not as a stray reply */
	ck_assert_msg(now_s() - t0 < 2.0, "took %.1f s", now_s() - t0);
}
END_TEST

START_TEST(bad_args)
{
	struct ksa sa = mksa("10.9.0.1", "10.9.0.2", 0x1000, true, false);
	struct ksa b;

	b = sa;
	b.spi = 0;
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	b.src = A("2001:db8::1");
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EAFNOSUPPORT);
	b = sa;
	b.aead_name[0] = '\0';        /* no algorithm at all */
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	snprintf(b.enc_name, sizeof(b.enc_name), "cbc(aes)");   /* AEAD and a cipher */
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	b.enc_key_len = 65;
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	memset(b.aead_name, 'x', sizeof(b.aead_name));          /* not terminated */
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = mksa("10.9.0.1", "10.9.0.2", 0x1000, false, false);
	b.auth_trunc_bits = 0;
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	b.encap_sport = 4500;         /* one port only */
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
	b = sa;
	b.replay_window = 100000;
	ck_assert_int_eq(K.ops->sa_add(&K, &b), -EINVAL);
}
END_TEST

/* What a kernel without ESP answers (the development machines). */
START_TEST(no_esp_errors)
{
	struct ksa cbc = mksa("10.9.0.1", "10.9.0.2", 0x1000, false, false);
	struct ksa gcm = mksa("10.9.0.1", "10.9.0.2", 0x1001, true, true);
	struct addr l4 = A("10.9.0.1"), r4 = A("10.9.0.2");
	char dump[4096];
	uint32_t spi;
	int r;

	/* the ESP type is missing: -EPROTONOSUPPORT ("Requested type not found") */
	ck_assert_int_eq(K.ops->sa_add(&K, &cbc), -EPROTONOSUPPORT);
	/* gcm is looked up before the type: -ENOSYS when it is missing too */
	gcm.esn = true;
	gcm.replay_window = 128;
	r = K.ops->sa_add(&K, &gcm);
	ck_assert_msg(r == -ENOSYS || r == -EPROTONOSUPPORT, "AEAD SA: %d", r);
	/* the same on the larval path (UPDSA is never reached: the state is refused first) */
	ck_assert_int_eq(K.ops->sa_get_spi(&K, &l4, &r4, REQID, &spi), 0);
	cbc.spi = spi;
	cbc.replay_window = 128;
	cbc.esn = true;
	ck_assert_int_eq(K.ops->sa_add(&K, &cbc), -EPROTONOSUPPORT);
	/* nothing but the larval state */
	ck_assert_uint_eq(count_lines(state_dump(dump, sizeof(dump))), 1);
	ck_assert_int_eq(K.ops->sa_del(&K, &r4, spi), 0);
}
END_TEST

struct expires {
	size_t n;
	struct kexpire e[8];
};

static void on_expire(const struct kexpire *e, void *arg)
{
	struct expires *x = arg;
	if (x->n < 8)
		x->e[x->n] = *e;
	x->n++;
}

static void on_acquire(const struct kacquire *a, void *arg)
{
}

/* Read events from k for up to ms, until want expires arrived. */
static void pump(struct kernel *k, struct expires *x, size_t want, int ms)
{
	struct kernel_events ev = { .acquire = on_acquire, .expire = on_expire, .arg = x };
	struct pollfd p = { .fd = k->ops->event_fd(k), .events = POLLIN };
	double end = now_s() + ms / 1000.0;

	while (x->n < want && now_s() < end) {
		int left = (int)((end - now_s()) * 1000) + 1;
		if (poll(&p, 1, left) > 0)
			ck_assert_int_eq(k->ops->event_read(k, &ev), 0);
	}
}

/* An EXPIRE multicast by a privileged process on XFRMNLGRP_EXPIRE reaches event_read
 * like the kernel's own; a malformed one is counted and dropped. (The kernel also takes
 * the message as a request to expire that SA, which does not exist: harmless.) */
START_TEST(expire_injected)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (XFRMNLGRP_EXPIRE - 1) };
	struct xfrm_counters c0, c1;
	struct expires x = { 0 };
	struct msgbuf m;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);

	ck_assert_int_ge(fd, 0);
	xfrm_get_counters(&K, &c0);
	build_expire(&m, AF_INET, "10.9.0.2", 0xabcdef01, 99, false, true);
	if (sendto(fd, m.u.b, m.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		printf("note: cannot multicast on NETLINK_XFRM (%s): injection not tested\n",
		       strerror(errno));
		close(fd);
		return;
	}
	pump(&K, &x, 1, 2000);
	ck_assert_uint_eq(x.n, 1);
	ck_assert_uint_eq(x.e[0].spi, 0xabcdef01);
	ck_assert_uint_eq(x.e[0].reqid, 99);
	ck_assert(!x.e[0].hard);
	ck_assert_str_eq(addr_str(&x.e[0].dst, (char[ADDR_STRLEN]){ 0 }), "10.9.0.2");
	/* a truncated one: counted, not dispatched */
	struct nlmsghdr *h = &m.u.h;
	h->nlmsg_len = NLMSG_LENGTH(100);
	ck_assert_int_ge(sendto(fd, m.u.b, h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	double end = now_s() + 2;
	do {
		pump(&K, &x, 2, 100);
		xfrm_get_counters(&K, &c1);
	} while (c1.malformed == c0.malformed && now_s() < end);
	ck_assert_uint_eq(x.n, 1);
	ck_assert_uint_eq(c1.malformed, c0.malformed + 1);
	ck_assert_uint_eq(c1.expires, c0.expires + 1);
	close(fd);
}
END_TEST

/* ---- with ESP: two namespaces over veth ------------------------------------------- */

static struct kernel R;          /* the right namespace's handle */
static int ns_left = -1, ns_right = -1;

static void enter(int nsfd)
{
	ck_assert_msg(setns(nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
}

/* left (fixture's namespace, K) vl 10.9.0.1 / 2001:db8:9::1 <-> vr .2 / ::2 (right, R) */
static void pair_setup(void)
{
	char cmd[256];

	ns_left = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ns_left, 0);
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ns_right = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ns_right, 0);
	memset(&R, 0, sizeof(R));
	ck_assert_int_eq(xfrm_open(&R), 0);
	sh("ip link set lo up");
	enter(ns_left);
	sh("ip link set lo up");
	snprintf(cmd, sizeof(cmd), "ip link add vl address 02:00:00:00:00:01 type veth peer "
		 "name vr address 02:00:00:00:00:02 netns /proc/%d/fd/%d", (int)getpid(),
		 ns_right);
	sh(cmd);
	/* static neighbours: ARP/ND never meet the IPsec policies */
	sh("ip addr add 10.9.0.1/24 dev vl && ip -6 addr add 2001:db8:9::1/64 dev vl nodad && "
	   "ip link set vl up && "
	   "ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev vl nud permanent && "
	   "ip -6 neigh add 2001:db8:9::2 lladdr 02:00:00:00:00:02 dev vl nud permanent");
	enter(ns_right);
	sh("ip addr add 10.9.0.2/24 dev vr && ip -6 addr add 2001:db8:9::2/64 dev vr nodad && "
	   "ip link set vr up && "
	   "ip neigh add 10.9.0.1 lladdr 02:00:00:00:00:01 dev vr nud permanent && "
	   "ip -6 neigh add 2001:db8:9::1 lladdr 02:00:00:00:00:01 dev vr nud permanent");
	enter(ns_left);
}

static void pair_teardown(void)
{
	if (R.ops)
		R.ops->close(&R);
	memset(&R, 0, sizeof(R));
	if (ns_right >= 0)
		close(ns_right);
	if (ns_left >= 0)
		close(ns_left);
	ns_left = ns_right = -1;
}

/* A UDP socket in namespace nsfd (we return to the left one), bound to addr:port. */
static int udp_in(int nsfd, int family, const char *addr, uint16_t port, bool encap)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	enter(nsfd);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		sl = sizeof(*s6);
	}
	ck_assert_msg(bind(fd, (struct sockaddr *)&ss, sl) == 0, "bind %s:%u: %s", addr, port,
		      strerror(errno));
	if (encap) {
		/* as the daemon's IKE socket on 4500: ESP-in-UDP is taken in by the socket, and
		 * UDP checks the inbound policy before it decapsulates, so the outer packet
		 * needs the socket's bypass (else XfrmInTmplMismatch) */
		int t = UDP_ENCAP_ESPINUDP;
		ck_assert_int_eq(setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &t, sizeof(t)), 0);
		ck_assert_int_eq(K.ops->socket_bypass(&K, fd, family), 0);
	}
	enter(ns_left);
	return fd;
}

static void udp_send(int fd, int family, const char *addr, uint16_t port, size_t len)
{
	struct sockaddr_storage ss;
	char payload[1500];
	socklen_t sl;

	memset(payload, 'p', sizeof(payload));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		sl = sizeof(*s6);
	}
	ck_assert_int_eq(sendto(fd, payload, len, 0, (struct sockaddr *)&ss, sl), (ssize_t)len);
}

static size_t udp_recv(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[2048];
	if (poll(&p, 1, ms) <= 0)
		return 0;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	return n > 0 ? (size_t)n : 0;
}

static struct kpolicy ipsec_pol(enum kdir dir, const char *src, const char *dst,
				const char *tsrc, const char *tdst, bool tunnel, bool v6)
{
	struct kpolicy p;
	char s[64], d[64];
	memset(&p, 0, sizeof(p));
	snprintf(s, sizeof(s), "%s/%d", src, v6 ? 128 : 32);
	snprintf(d, sizeof(d), "%s/%d", dst, v6 ? 128 : 32);
	ck_assert(prefix_parse(s, &p.sel.src, false, NULL));
	ck_assert(prefix_parse(d, &p.sel.dst, false, NULL));
	p.dir = dir;
	p.act = KACT_IPSEC;
	p.priority = 100;
	p.reqid = REQID;
	p.tmpl_src = A(tsrc);
	p.tmpl_dst = A(tdst);
	p.tunnel = tunnel;
	return p;
}

/* Outbound src->dst and inbound dst->src (plus fwd for a tunnel) in one namespace. */
static void put_policies(struct kernel *k, const char *me, const char *peer, bool tunnel,
			 bool v6)
{
	struct kpolicy p[3];
	size_t n = 0;
	p[n++] = ipsec_pol(KDIR_OUT, me, peer, me, peer, tunnel, v6);
	p[n++] = ipsec_pol(KDIR_IN, peer, me, peer, me, tunnel, v6);
	if (tunnel)
		p[n++] = ipsec_pol(KDIR_FWD, peer, me, peer, me, tunnel, v6);
	ck_assert_int_eq(k->ops->policy_put(k, p, n, NULL, NULL), 0);
}

static const struct variant {
	const char *name;
	bool v6, aead, tunnel, esn, encap;
} variants[] = {
	{ "v4 AEAD transport ESN", false, true, false, true, false },
	{ "v4 AEAD tunnel ESN UDP-encap", false, true, true, true, true },
	{ "v4 CBC+HMAC transport UDP-encap", false, false, false, false, true },
	{ "v4 CBC+HMAC tunnel ESN", false, false, true, true, false },
	{ "v6 AEAD tunnel ESN", true, true, true, true, false },
};

static void assert_bytes(struct kernel *k, const char *dst, uint32_t spi, uint64_t min,
			 const char *what)
{
	struct addr d = A(dst);
	struct ksa_stats st;
	ck_assert_int_eq(k->ops->sa_stats(k, &d, spi, &st), 0);
	ck_assert_msg(st.bytes >= min && st.packets >= 5, "%s: %llu bytes %llu packets", what,
		      (unsigned long long)st.bytes, (unsigned long long)st.packets);
	ck_assert_msg(st.add_time > 0 && st.use_time >= st.add_time, "%s: add %llu use %llu",
		      what, (unsigned long long)st.add_time, (unsigned long long)st.use_time);
}

START_TEST(roundtrip)
{
	const struct variant *v = &variants[_i];
	const char *l = v->v6 ? "2001:db8:9::1" : "10.9.0.1";
	const char *r = v->v6 ? "2001:db8:9::2" : "10.9.0.2";
	int family = v->v6 ? AF_INET6 : AF_INET;
	struct addr la = A(l), ra = A(r);
	uint32_t spi_lr, spi_rl;
	char dump[8192], want[128];
	struct ksa sa, dup;

	pair_setup();
	/* each side allocates the SPI of its inbound SA */
	enter(ns_right);
	ck_assert_int_eq(R.ops->sa_get_spi(&R, &la, &ra, REQID, &spi_lr), 0);
	enter(ns_left);
	ck_assert_int_eq(K.ops->sa_get_spi(&K, &ra, &la, REQID, &spi_rl), 0);

	/* left: out l->r (NEWSA), in r->l (replaces the larval state) */
	sa = mksa(l, r, spi_lr, v->aead, v->tunnel);
	sa.esn = v->esn;
	sa.replay_window = 0;             /* outbound */
	if (v->encap)
		sa.encap_sport = sa.encap_dport = 4500;
	ck_assert_int_eq(K.ops->sa_add(&K, &sa), 0);
	/* the same SPI again is an error, not a silent update of an installed SA */
	dup = sa;
	ck_assert_int_eq(K.ops->sa_add(&K, &dup), -EEXIST);
	enter(ns_right);
	sa.replay_window = 128;           /* inbound: replaces the larval state */
	ck_assert_int_eq(R.ops->sa_add(&R, &sa), 0);

	sa = mksa(r, l, spi_rl, v->aead, v->tunnel);
	sa.esn = v->esn;
	if (v->encap)
		sa.encap_sport = sa.encap_dport = 4500;
	ck_assert_int_eq(R.ops->sa_add(&R, &sa), 0);      /* out */
	enter(ns_left);
	sa.replay_window = 128;
	ck_assert_int_eq(K.ops->sa_add(&K, &sa), 0);      /* in */

	/* what the kernel holds */
	state_dump(dump, sizeof(dump));
	ck_assert_msg(count_lines(dump) == 2, "%s", dump);
	snprintf(want, sizeof(want), "spi 0x%08x reqid %u mode %s", spi_lr, REQID,
		 v->tunnel ? "tunnel" : "transport");
	ck_assert_msg(strstr(dump, want), "no '%s' in:\n%s", want, dump);
	snprintf(want, sizeof(want), "spi 0x%08x reqid %u mode %s", spi_rl, REQID,
		 v->tunnel ? "tunnel" : "transport");
	ck_assert_msg(strstr(dump, want), "no '%s' in:\n%s", want, dump);
	if (v->aead)
		ck_assert_msg(strstr(dump, "aead rfc4106(gcm(aes)) 0x") && strstr(dump, "2324 128"),
			      "%s", dump);
	else
		ck_assert_msg(strstr(dump, "auth-trunc hmac(sha256) 0x") &&
			      strstr(dump, "enc cbc(aes) 0x"), "%s", dump);
	if (v->esn)
		ck_assert_msg(strstr(dump, "esn") && strstr(dump, "replay_window 128"), "%s", dump);
	if (v->encap)
		ck_assert_msg(strstr(dump, "encap type espinudp sport 4500 dport 4500"), "%s", dump);

	/* policies both sides, and the encap sockets that take ESP-in-UDP in */
	put_policies(&K, l, r, v->tunnel, v->v6);
	enter(ns_right);
	put_policies(&R, r, l, v->tunnel, v->v6);
	enter(ns_left);
	int el = -1, er = -1;
	if (v->encap) {
		el = udp_in(ns_left, family, l, 4500, true);
		er = udp_in(ns_right, family, r, 4500, true);
	}
	int ul = udp_in(ns_left, family, l, 7000, false);
	int ur = udp_in(ns_right, family, r, 7000, false);

	/* traffic both ways: 5 datagrams of 200 bytes each */
	size_t got_r = 0, got_l = 0;
	for (int i = 0; i < 5; i++) {
		udp_send(ul, family, r, 7000, 200);
		got_r += udp_recv(ur, 3000);
		udp_send(ur, family, l, 7000, 200);
		got_l += udp_recv(ul, 3000);
	}
	if (got_r != 1000 || got_l != 1000) {
		/* say where the packets died before failing */
		printf("%s: got %zu/%zu bytes; left, then right:\n", v->name, got_r, got_l);
		fflush(stdout);
		(void)system("grep -v ' 0$' /proc/net/xfrm_stat; ip -s xfrm state | grep -i "
			     "'spi\\|bytes\\|errors'; grep Udp: /proc/net/snmp");
		enter(ns_right);
		(void)system("grep -v ' 0$' /proc/net/xfrm_stat; ip -s xfrm state | grep -i "
			     "'spi\\|bytes\\|errors'; grep Udp: /proc/net/snmp");
		enter(ns_left);
	}
	ck_assert_uint_eq(got_r, 1000);
	ck_assert_uint_eq(got_l, 1000);
	assert_bytes(&K, r, spi_lr, 1000, "left out");
	assert_bytes(&K, l, spi_rl, 1000, "left in");
	enter(ns_right);
	assert_bytes(&R, r, spi_lr, 1000, "right in");
	assert_bytes(&R, l, spi_rl, 1000, "right out");

	/* delete: gone from the kernel, and a second delete is fine */
	struct ksa_stats st;
	ck_assert_int_eq(R.ops->sa_del(&R, &ra, spi_lr), 0);
	ck_assert_int_eq(R.ops->sa_del(&R, &la, spi_rl), 0);
	ck_assert_int_eq(R.ops->sa_del(&R, &la, spi_rl), 0);
	ck_assert_int_eq(R.ops->sa_stats(&R, &la, spi_rl, &st), -ENOENT);
	ck_assert_uint_eq(count_lines(state_dump(dump, sizeof(dump))), 0);
	enter(ns_left);
	ck_assert_int_eq(K.ops->sa_del(&K, &ra, spi_lr), 0);
	ck_assert_int_eq(K.ops->sa_del(&K, &la, spi_rl), 0);
	ck_assert_uint_eq(count_lines(state_dump(dump, sizeof(dump))), 0);
	/* without SAs, the IPsec policies hold the traffic back */
	udp_send(ul, family, r, 7000, 200);
	ck_assert_uint_eq(udp_recv(ur, 500), 0);
	close(ul);
	close(ur);
	if (el >= 0)
		close(el);
	if (er >= 0)
		close(er);
	pair_teardown();
}
END_TEST

/* Soft time limit 1 s, hard 3 s: a soft EXPIRE, then a hard one, and the SA is gone. */
START_TEST(time_expire)
{
	struct ksa sa = mksa("10.9.0.1", "10.9.0.2", 0x4242, true, false);
	struct expires x = { 0 };
	struct ksa_stats st;
	double t0;

	sa.esn = true;
	sa.replay_window = 128;
	sa.soft_add_s = 1;
	sa.hard_add_s = 3;
	ck_assert_int_eq(K.ops->sa_add(&K, &sa), 0);
	t0 = now_s();
	pump(&K, &x, 1, 15000);
	ck_assert_msg(x.n >= 1, "no soft EXPIRE after %.1f s", now_s() - t0);
	ck_assert(!x.e[0].hard);
	ck_assert_uint_eq(x.e[0].spi, 0x4242);
	ck_assert_uint_eq(x.e[0].proto, IPPROTO_ESP);
	ck_assert_uint_eq(x.e[0].reqid, REQID);
	ck_assert(addr_eq(&x.e[0].dst, &sa.dst));
	printf("soft EXPIRE after %.1f s\n", now_s() - t0);
	/* the SA is still there until the hard limit */
	ck_assert_int_eq(K.ops->sa_stats(&K, &sa.dst, sa.spi, &st), 0);
	pump(&K, &x, 2, 15000);
	ck_assert_msg(x.n >= 2, "no hard EXPIRE after %.1f s", now_s() - t0);
	ck_assert(x.e[1].hard);
	ck_assert_uint_eq(x.e[1].spi, 0x4242);
	printf("hard EXPIRE after %.1f s\n", now_s() - t0);
	ck_assert_int_eq(K.ops->sa_stats(&K, &sa.dst, sa.spi, &st), -ENOENT);
	ck_assert_int_eq(K.ops->sa_del(&K, &sa.dst, sa.spi), 0);
}
END_TEST

/* ---- the mock kernel's SA table (what the exchange tests rely on) ----------------- */

START_TEST(mock_sa)
{
	struct kernel m = { 0 };
	struct addr l = A("10.9.0.1"), r = A("10.9.0.2");
	struct ksa_stats st = { .bytes = 1234, .packets = 5, .add_time = 10, .use_time = 11 };
	struct ksa_stats got;
	struct expires x = { 0 };
	struct kernel_events ev = { .acquire = on_acquire, .expire = on_expire, .arg = &x };
	uint32_t s1, s2;

	ck_assert_int_eq(kmock_open(&m), 0);
	ck_assert_int_eq(m.ops->sa_get_spi(&m, &r, &l, REQID, &s1), 0);
	ck_assert_int_eq(m.ops->sa_get_spi(&m, &r, &l, REQID, &s2), 0);
	ck_assert_uint_ge(s1, 0x100);
	ck_assert_uint_ne(s1, s2);
	ck_assert(kmock_spi_reserved(&m, &l, s1));
	ck_assert_uint_eq(kmock_sa_count(&m), 0);
	/* inbound on a reserved SPI replaces it; outbound is new; a duplicate is refused */
	struct ksa in = mksa("10.9.0.2", "10.9.0.1", s1, true, false);
	struct ksa out = mksa("10.9.0.1", "10.9.0.2", 0x5000, false, true);
	ck_assert_int_eq(m.ops->sa_add(&m, &in), 0);
	ck_assert_int_eq(m.ops->sa_add(&m, &out), 0);
	ck_assert_int_eq(m.ops->sa_add(&m, &out), -EEXIST);
	ck_assert_uint_eq(kmock_sa_count(&m), 2);
	ck_assert(!kmock_spi_reserved(&m, &l, s1));
	const struct ksa *f = kmock_sa_find(&m, &l, s1);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->aead_name, "rfc4106(gcm(aes))");
	ck_assert_ptr_null(kmock_sa_find(&m, &l, s2));          /* reserved, not installed */
	/* counters */
	ck_assert_int_eq(m.ops->sa_stats(&m, &l, s1, &got), 0);
	ck_assert_uint_eq(got.bytes, 0);
	ck_assert_int_eq(kmock_sa_set_stats(&m, &l, s1, &st), 0);
	ck_assert_int_eq(m.ops->sa_stats(&m, &l, s1, &got), 0);
	ck_assert_uint_eq(got.bytes, 1234);
	ck_assert_uint_eq(got.use_time, 11);
	ck_assert_int_eq(m.ops->sa_stats(&m, &l, 0x999, &got), -ENOENT);
	ck_assert_int_eq(kmock_sa_set_stats(&m, &l, 0x999, &st), -ENOENT);
	/* "no ESP" */
	kmock_sa_fail_add(&m, EPROTONOSUPPORT);
	struct ksa more = mksa("10.9.0.1", "10.9.0.2", 0x5001, true, false);
	ck_assert_int_eq(m.ops->sa_add(&m, &more), -EPROTONOSUPPORT);
	kmock_sa_fail_add(&m, 0);
	ck_assert_int_eq(m.ops->sa_add(&m, &more), 0);
	/* EXPIREs: soft keeps the SA, hard removes it on delivery */
	struct kexpire soft = { .dst = r, .spi = 0x5000, .proto = IPPROTO_ESP, .reqid = REQID };
	struct kexpire hard = soft;
	hard.hard = true;
	ck_assert_int_eq(kmock_queue_expire(&m, &soft), 0);
	ck_assert_int_eq(kmock_queue_expire(&m, &hard), 0);
	ck_assert_ptr_nonnull(kmock_sa_find(&m, &r, 0x5000));
	ck_assert_int_eq(m.ops->event_read(&m, &ev), 0);
	ck_assert_uint_eq(x.n, 2);
	ck_assert(!x.e[0].hard && x.e[1].hard);
	ck_assert_ptr_null(kmock_sa_find(&m, &r, 0x5000));
	/* delete: installed, reserved, unknown */
	ck_assert_int_eq(m.ops->sa_del(&m, &l, s1), 0);
	ck_assert_int_eq(m.ops->sa_del(&m, &l, s2), 0);
	ck_assert_int_eq(m.ops->sa_del(&m, &l, 0x777), 0);
	ck_assert(!kmock_spi_reserved(&m, &l, s2));
	ck_assert_uint_eq(kmock_sa_count(&m), 1);             /* "more" */
	ck_assert_uint_eq(kmock_stats(&m)->spi_calls, 2);
	ck_assert_uint_eq(kmock_stats(&m)->sa_add_calls, 5);
	ck_assert_uint_eq(kmock_stats(&m)->sa_del_calls, 3);
	m.ops->close(&m);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------- */

/* In a throw-away namespace: can this kernel hold an ESP SA? 0 yes, 1 no ESP, 2 other. */
static int probe_esp(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct kernel k = { 0 };
		struct ksa sa;
		if (unshare(CLONE_NEWNET) != 0 || xfrm_open(&k) != 0)
			_exit(2);
		/* built by hand: ck_assert is not available outside a test */
		memset(&sa, 0, sizeof(sa));
		if (!addr_parse("10.254.0.1", &sa.src) || !addr_parse("10.254.0.2", &sa.dst))
			_exit(2);
		sa.spi = 0x1234;
		snprintf(sa.enc_name, sizeof(sa.enc_name), "cbc(aes)");
		snprintf(sa.auth_name, sizeof(sa.auth_name), "hmac(sha256)");
		sa.auth_trunc_bits = 128;
		sa.enc_key_len = sa.auth_key_len = 32;
		int r = k.ops->sa_add(&k, &sa);
		_exit(r == 0 ? 0 : r == -EPROTONOSUPPORT || r == -ENOSYS ? 1 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

static Suite *xfrm_sa_suite(void)
{
	Suite *s = suite_create("xfrm_sa");
	TCase *tc;
	int esp;

	if (geteuid() != 0) {
		printf("SKIP: test_xfrm_sa needs root (private netns + XFRM netlink)\n");
		exit(77);
	}
	esp = probe_esp();
	if (esp == 2) {
		printf("SKIP: cannot create a network namespace with XFRM netlink\n");
		exit(77);
	}
	have_esp = esp == 0;

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_built);
	tcase_add_test(tc, parse_corpus);
	tcase_add_test(tc, mock_sa);
	suite_add_tcase(s, tc);

	tc = tcase_create("live");
	tcase_add_checked_fixture(tc, netns_setup, netns_teardown);
	tcase_add_test(tc, spi_alloc);
	tcase_add_test(tc, del_unknown);
	tcase_add_test(tc, bad_args);
	tcase_add_test(tc, expire_injected);
	if (!have_esp)
		tcase_add_test(tc, no_esp_errors);
	suite_add_tcase(s, tc);

	if (!have_esp) {
		printf("SKIP: kernel has no ESP (run through tests/vm): SA round trip, traffic "
		       "and EXPIRE timing not tested\n");
		return s;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf("SKIP: no iproute2 'ip': SA round trip not tested\n");
		return s;
	}
	printf("note: kernel has ESP: running the SA round trip\n");
	tc = tcase_create("esp");
	tcase_add_checked_fixture(tc, netns_setup, netns_teardown);
	tcase_set_timeout(tc, 600);       /* TCG guests are ~15x slower */
	tcase_add_loop_test(tc, roundtrip, 0, (int)(sizeof(variants) / sizeof(variants[0])));
	tcase_add_test(tc, time_expire);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(xfrm_sa_suite)
