/* test_nft.c — nft.c against this kernel's nf_tables. Each test runs in its own network
 * namespace (a checked fixture unshares CLONE_NEWNET inside Check's fork), so the host's
 * ruleset is never touched. The packet test adds a peer namespace over a veth pair:
 *
 *   [ test netns: "host", table inet meshd ]  h0 10.9.0.1/24, fd00:9::1/64
 *                      |  veth
 *   [ peer netns ]  p0 10.9.0.2 (private), 10.9.0.3 (private-or-clear),
 *                      10.9.0.4 (clear), fd00:9::2 (private)
 *
 * Needs root, nf_tables, iproute2 (ip) and nft (to look at the table as an operator
 * would); exits 77 (SKIP) with the reason otherwise. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nft.h"
#include "unit.h"

static struct nft *N;
static struct log L;
static char peer_ns[64];

static void sh(const char *cmd)
{
	int r = system(cmd);
	ck_assert_msg(r == 0, "'%s' failed (%d)", cmd, r);
}

/* Output of a shell command (in the test's namespace), NUL-terminated, malloc'd. */
static char *run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len < 1024)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	int st = pclose(f);
	if (status)
		*status = st;
	return buf;
}

static void netns_setup(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	sh("ip link set lo up");
	log_init(&L, LOG_SINK_STDERR, true, "test_nft");
	ck_assert_int_eq(nft_open(&N, &L, NULL), 0);
	peer_ns[0] = 0;
}

static void netns_teardown(void)
{
	(void)nft_close(N, false);
	N = NULL;
	if (peer_ns[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "ip netns del %s", peer_ns);
		(void)system(cmd);
	}
}

struct grp {
	const char *name;
	enum group_class cls;
	const char *text;
};

static struct policy_set *build(const struct grp *g, size_t n)
{
	struct policy_set *s = policy_new();
	struct addr ha[2];
	ck_assert(addr_parse("10.9.0.1", &ha[0]) && addr_parse("fd00:9::1", &ha[1]));
	struct host_addrs h = { ha, 2 };
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(policy_add_group(s, g[i].name, g[i].name, g[i].cls, (int)i), (int)i);
		policy_parse_buf(s, (unsigned)i, g[i].name, g[i].text, strlen(g[i].text), NULL);
	}
	ck_assert_int_eq(policy_finish(s, &h, false, NULL), 0);
	return s;
}

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const struct grp base[] = {
	{ "private", GC_OE_DROP, "10.9.0.0/24\nfd00:9::/64\n10.8.0.0/16\n" },
	{ "private-or-clear", GC_OE_PASS, "10.9.0.3\n" },
	{ "clear", GC_CLEAR, "10.9.0.4\n10.8.1.0/24\n" },
};

static void sync_groups(const struct grp *g, size_t n)
{
	struct policy_set *s = build(g, n);
	ck_assert_int_eq(nft_sync(N, s), 0);
	policy_free(s);
}

static void assert_has(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want) != NULL, "missing \"%s\" in:\n%s", want, text);
}

START_TEST(table_as_operator_sees_it)
{
	sync_groups(base, N_(base));
	int st;
	char *t = run("nft list table inet meshd", &st);
	ck_assert_int_eq(st, 0);
	fprintf(stderr, "%s", t);
	assert_has(t, "table inet meshd {");
	assert_has(t, "counter private_dropped {");
	assert_has(t, "set private4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = "
		   "{ 10.8.0.0/24, 10.8.2.0-10.9.0.0,\n\t\t\t     10.9.0.2, 10.9.0.5-10.9.0.255 }");
	assert_has(t, "set private6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = "
		   "{ fd00:9::,\n\t\t\t     fd00:9::2-fd00:9::ffff:ffff:ffff:ffff }");
	assert_has(t, "set private_or_clear4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\t"
		   "elements = { 10.9.0.3 }");
	assert_has(t, "type filter hook input priority filter - 10; policy accept;\n"
		   "\t\tmeta ipsec exists counter name \"ipsec_accepted\" accept\n"
		   "\t\tmeta l4proto esp counter name \"esp_accepted\" accept\n"
		   "\t\tudp dport 500 counter name \"ike_accepted\" accept\n"
		   "\t\tudp dport 4500 counter name \"ike_accepted\" accept\n"
		   "\t\ticmp type destination-unreachable accept\n"
		   "\t\ticmpv6 type 1-4 accept\n"
		   "\t\ticmpv6 type 133-137 accept\n"
		   "\t\tip saddr @private4 counter name \"private_dropped\" drop\n"
		   "\t\tip6 saddr @private6 counter name \"private_dropped\" drop\n"
		   "\t\tip saddr @private_or_clear4 counter name \"private_or_clear_accepted\" accept\n"
		   "\t\tip6 saddr @private_or_clear6 counter name \"private_or_clear_accepted\" accept\n");
	free(t);
}
END_TEST

/* ---- packets ---------------------------------------------------------------------- */

static void peer_setup(void)
{
	snprintf(peer_ns, sizeof(peer_ns), "meshd-nft-%d", (int)getpid());
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "ip netns add %1$s && ip link add h0 type veth peer name p0 netns %1$s && "
		 "ip link set h0 up && ip addr add 10.9.0.1/24 dev h0 && "
		 "ip -6 addr add fd00:9::1/64 dev h0 nodad && "
		 "ip -n %1$s link set lo up && ip -n %1$s link set p0 up && "
		 "ip -n %1$s addr add 10.9.0.2/24 dev p0 && ip -n %1$s addr add 10.9.0.3/24 dev p0 && "
		 "ip -n %1$s addr add 10.9.0.4/24 dev p0 && "
		 "ip -n %1$s -6 addr add fd00:9::2/64 dev p0 nodad", peer_ns);
	sh(cmd);
}

/* From the peer namespace, send count UDP datagrams src -> dst:port (a forked child
 * enters the namespace, so the test process stays where it is). */
static void send_from_peer(const char *src, const char *dst, uint16_t sport, uint16_t port,
			   int count)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", peer_ns);
		int fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(2);
		struct addr s, d;
		struct sockaddr_storage ss, ds;
		if (!addr_parse(src, &s) || !addr_parse(dst, &d))
			_exit(3);
		socklen_t sl = addr_to_sockaddr(&s, sport, &ss), dl = addr_to_sockaddr(&d, port, &ds);
		int sk = socket(s.family, SOCK_DGRAM, 0);
		int one = 1;
		setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (sk < 0 || bind(sk, (struct sockaddr *)&ss, sl) < 0)
			_exit(4);
		for (int i = 0; i < count; i++)
			if (sendto(sk, "meshd", 5, 0, (struct sockaddr *)&ds, dl) != 5)
				_exit(5);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sender failed (%d)", st);
}

static int listener(int family, uint16_t port)
{
	int sk = socket(family, SOCK_DGRAM, 0);
	ck_assert_int_ge(sk, 0);
	struct addr any = { .family = (uint8_t)family };
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(&any, port, &ss);
	if (family == AF_INET6) {
		int one = 1;
		setsockopt(sk, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	ck_assert_int_eq(bind(sk, (struct sockaddr *)&ss, sl), 0);
	return sk;
}

/* Datagrams waiting on sk (after a short settle). */
static int drain(int sk)
{
	int n = 0;
	char buf[64];
	struct pollfd p = { sk, POLLIN, 0 };
	while (poll(&p, 1, 200) > 0 && recv(sk, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

START_TEST(packets_dropped_and_counted)
{
	peer_setup();
	int l4 = listener(AF_INET, 7777), l6 = listener(AF_INET6, 7777);
	int ike = listener(AF_INET, 500);
	/* no table yet: everything arrives */
	send_from_peer("10.9.0.2", "10.9.0.1", 40000, 7777, 3);
	ck_assert_int_eq(drain(l4), 3);

	sync_groups(base, N_(base));
	struct nft_counters c0, c;
	ck_assert_int_eq(nft_counters(N, &c0), 0);
	ck_assert_uint_eq(c0.private_dropped.packets, 0);

	send_from_peer("10.9.0.2", "10.9.0.1", 40000, 7777, 5);      /* private: dropped */
	ck_assert_int_eq(drain(l4), 0);
	send_from_peer("fd00:9::2", "fd00:9::1", 40000, 7777, 4);    /* private v6: dropped */
	ck_assert_int_eq(drain(l6), 0);
	send_from_peer("10.9.0.3", "10.9.0.1", 40000, 7777, 6);      /* poc: accepted */
	ck_assert_int_eq(drain(l4), 6);
	send_from_peer("10.9.0.4", "10.9.0.1", 40000, 7777, 2);      /* clear hole: accepted */
	ck_assert_int_eq(drain(l4), 2);
	send_from_peer("10.9.0.2", "10.9.0.1", 500, 500, 7);         /* IKE from private */
	ck_assert_int_eq(drain(ike), 7);

	ck_assert_int_eq(nft_counters(N, &c), 0);
	ck_assert_uint_eq(c.private_dropped.packets, 9);
	ck_assert_uint_eq(c.private_dropped.bytes, 5 * (20 + 8 + 5) + 4 * (40 + 8 + 5));
	ck_assert_uint_eq(c.poc_accepted.packets, 6);
	ck_assert_uint_eq(c.ike_accepted.packets, 7);
	ck_assert_uint_eq(c.esp_accepted.packets, 0);
	close(l4);
	close(l6);
	close(ike);
}
END_TEST

/* ---- reload, stop, leftovers ------------------------------------------------------ */

START_TEST(reload_sends_only_changes)
{
	sync_groups(base, N_(base));
	/* watch what the kernel reports while we reload */
	/* (nft monitor gives no sign when it has subscribed: give it time on a loaded machine) */
	const char *cmd = "timeout 7 nft monitor elements >/tmp/meshd-nft-monitor.$PPID 2>&1 & sleep 2";
	sh(cmd);
	static const struct grp changed[] = {
		{ "private", GC_OE_DROP, "10.9.0.0/24\nfd00:9::/64\n10.8.0.0/16\n10.5.0.0/16\n" },
		{ "private-or-clear", GC_OE_PASS, "10.9.0.3\n" },
		{ "clear", GC_CLEAR, "10.9.0.4\n" },
	};
	sync_groups(changed, N_(changed));
	sync_groups(changed, N_(changed));        /* unchanged: sends nothing */
	ck_assert_uint_eq(nft_installed(N, NFT_SET_PRIVATE4), 4);
	sleep(5);
	char path[64];
	snprintf(path, sizeof(path), "cat /tmp/meshd-nft-monitor.%d; rm -f /tmp/meshd-nft-monitor.%d",
		 (int)getpid(), (int)getpid());
	char *m = run(path, NULL);
	fprintf(stderr, "monitor:\n%s", m);
	/* the clear /24 hole in 10.8.0.0/16 is gone (two ranges out, one in), 10.5.0.0/16 is
	 * new; the ranges that stayed (10.9.0.2, 10.9.0.5-..., fd00:9::...) are not touched */
	assert_has(m, "delete element inet meshd private4 { 10.8.0.0/24 }");
	assert_has(m, "delete element inet meshd private4 { 10.8.2.0-10.9.0.0 }");
	assert_has(m, "create element inet meshd private4 { 10.5.0.0/16 }");   /* EXCL */
	assert_has(m, "create element inet meshd private4 { 10.8.0.0-10.9.0.0 }");
	ck_assert_ptr_null(strstr(m, "10.9.0.2"));
	ck_assert_ptr_null(strstr(m, "10.9.0.5"));
	ck_assert_ptr_null(strstr(m, "fd00"));
	free(m);
	char *t = run("nft list set inet meshd private4", NULL);
	assert_has(t, "elements = { 10.5.0.0/16, 10.8.0.0-10.9.0.0,\n\t\t\t     10.9.0.2,");
	assert_has(t, "10.9.0.5-10.9.0.255 }");
	free(t);
}
END_TEST

START_TEST(stop_removes_table_and_leaves_others)
{
	sh("nft add table inet operator && nft add chain inet operator in "
	   "'{ type filter hook input priority 0; policy accept; }' && "
	   "nft add rule inet operator in tcp dport 22 accept");
	char *before = run("nft list table inet operator", NULL);
	sync_groups(base, N_(base));
	ck_assert_int_eq(nft_close(N, true), 0);
	N = NULL;
	int st;
	char *t = run("nft list table inet meshd 2>&1", &st);
	ck_assert_int_ne(st, 0);
	free(t);
	char *after = run("nft list table inet operator", NULL);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	/* stopping twice (or with no table) is fine */
	ck_assert_int_eq(nft_open(&N, &L, NULL), 0);
	ck_assert_int_eq(nft_close(N, true), 0);
	N = NULL;
}
END_TEST

START_TEST(crash_leftover_replaced)
{
	/* what a crashed meshd (or an older version) may have left */
	sh("nft add table inet meshd && nft add set inet meshd junk '{ type ipv4_addr; }' && "
	   "nft add chain inet meshd input '{ type filter hook input priority 0; policy drop; }' && "
	   "nft add counter inet meshd private_dropped");
	sync_groups(base, N_(base));
	char *t = run("nft list table inet meshd", NULL);
	ck_assert_ptr_null(strstr(t, "junk"));
	ck_assert_ptr_null(strstr(t, "policy drop"));
	assert_has(t, "set private4");
	free(t);
	/* someone deleted the table behind our back: the next change recreates it */
	sh("nft delete table inet meshd");
	static const struct grp more[] = {
		{ "private", GC_OE_DROP, "10.9.0.0/24\n10.6.0.0/16\n" },
	};
	sync_groups(more, N_(more));
	t = run("nft list set inet meshd private4", NULL);
	assert_has(t, "10.6.0.0/16");
	free(t);
	/* an element someone added by hand: our add gets EEXIST, named, and we recover */
	sh("nft add element inet meshd private4 '{ 10.3.0.0/16 }'");
	static const struct grp more2[] = {
		{ "private", GC_OE_DROP, "10.9.0.0/24\n10.6.0.0/16\n10.3.0.0/16\n" },
	};
	char *logbuf = NULL;
	size_t loglen = 0;
	L.fp = open_memstream(&logbuf, &loglen);
	sync_groups(more2, N_(more2));
	fclose(L.fp);
	L.fp = stderr;
	fprintf(stderr, "%s", logbuf);
	assert_has(logbuf, "add elements to private4: 10.3.0.0/16 failed: File exists");
	free(logbuf);
	t = run("nft list set inet meshd private4", NULL);
	assert_has(t, "10.3.0.0/16, 10.6.0.0/16");
	free(t);
}
END_TEST

static Suite *nft_live_suite(void)
{
	Suite *s = suite_create("nft_live");
	TCase *tc = tcase_create("live");
	tcase_add_checked_fixture(tc, netns_setup, netns_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, table_as_operator_sees_it);
	tcase_add_test(tc, packets_dropped_and_counted);
	tcase_add_test(tc, reload_sends_only_changes);
	tcase_add_test(tc, stop_removes_table_and_leaves_others);
	tcase_add_test(tc, crash_leftover_replaced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root (network namespaces, nf_tables)\n");
		return 77;
	}
	if (system("command -v ip >/dev/null 2>&1") != 0) {
		printf("SKIP: iproute2 (ip) is not installed\n");
		return 77;
	}
	if (system("command -v nft >/dev/null 2>&1") != 0) {
		printf("SKIP: nft is not installed (needed to inspect the table)\n");
		return 77;
	}
	if (system("unshare -n nft list tables >/dev/null 2>&1") != 0) {
		printf("SKIP: nf_tables is not usable in a new network namespace here\n");
		return 77;
	}
	SRunner *sr = srunner_create(nft_live_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
