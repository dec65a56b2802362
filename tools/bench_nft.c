/* bench_nft.c — table inet meshd at scale (root; runs in private network namespaces).
 *
 *   tools/bench_nft [N] [PACKETS]      (defaults 100000 and 200000)
 *
 * 1. plan: interval arithmetic for N `private` /32s (non-adjacent);
 * 2. load: the first nft_sync (one batch: table, sets, N ranges, chain, rules);
 * 3. reload: 1% of the entries replaced (one diff batch), and an unchanged reload;
 * 4. per packet: PACKETS UDP datagrams sent from a peer namespace over a veth to the host
 *    namespace from a source in no set (every rule is evaluated), with no table, with the
 *    table and 0 entries, and with N entries; the send loop's time per packet includes
 *    the receive path (veth delivers in the sender's softirq). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nft.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *cmd)
{
	int r = system(cmd);
	if (r != 0)
		fprintf(stderr, "'%s' failed (%d)\n", cmd, r);
	return r;
}

/* N private /32s at 10.64.0.0 + 4i (never adjacent, so N ranges), shifted by `shift`
 * entries for the reload (shift removed at the start, shift added at the end). */
static struct policy_set *make_set(unsigned n, unsigned shift)
{
	struct policy_set *s = policy_new();
	if (!s || policy_add_group(s, "private", "private", GC_OE_DROP, 0) != 0 ||
	    policy_add_group(s, "clear", "clear", GC_CLEAR, 1) != 1)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		struct pol_entry *e = policy_entry_append(s);
		if (!e)
			return NULL;
		uint32_t a = htonl(0x0a400000u + 4 * (i + shift));
		e->pfx.a.family = AF_INET;
		memcpy(e->pfx.a.b, &a, 4);
		e->pfx.len = 32;
		e->group = 0;
		e->file = s->groups[0].file;
	}
	if (policy_finish(s, NULL, false, NULL) != 0)
		return NULL;
	return s;
}

static double send_loop(const char *ns, unsigned packets)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		int fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(2);
		int sk = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(40000) };
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
		inet_pton(AF_INET, "10.9.0.2", &src.sin_addr);
		inet_pton(AF_INET, "10.9.0.1", &dst.sin_addr);
		if (bind(sk, (struct sockaddr *)&src, sizeof(src)) < 0 ||
		    connect(sk, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			_exit(3);
		for (unsigned i = 0; i < packets / 10; i++)      /* warm up */
			(void)send(sk, "x", 1, 0);
		double t0 = now();
		for (unsigned i = 0; i < packets; i++)
			(void)send(sk, "x", 1, 0);
		double dt = now() - t0;
		if (write(pfd[1], &dt, sizeof(dt)) != sizeof(dt))
			_exit(4);
		_exit(0);
	}
	double dt = -1;
	close(pfd[1]);
	if (read(pfd[0], &dt, sizeof(dt)) != sizeof(dt))
		dt = -1;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	return dt;
}

static void per_packet(const char *label, const char *ns, unsigned packets)
{
	double best = 1e9;
	for (int r = 0; r < 5; r++) {
		double dt = send_loop(ns, packets);
		if (dt > 0 && dt < best)
			best = dt;
	}
	printf("  %-28s %8.0f ns/packet (best of 5 x %u)\n", label, best * 1e9 / packets, packets);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 100000;
	unsigned packets = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 200000;
	if (geteuid() != 0) {
		printf("SKIP: needs root (network namespaces, nf_tables)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare");
		return 1;
	}
	struct log log;
	log_init(&log, LOG_SINK_STDERR, false, "bench_nft");
	log.max = LOG_LVL_WARN;
	char ns[64], cmd[1024];
	snprintf(ns, sizeof(ns), "meshd-bench-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip netns add %1$s && "
		 "ip link add h0 type veth peer name p0 netns %1$s && ip link set h0 up && "
		 "ip addr add 10.9.0.1/24 dev h0 && ip -n %1$s link set p0 up && "
		 "ip -n %1$s addr add 10.9.0.2/24 dev p0", ns);
	if (sh(cmd))
		return 1;

	printf("bench_nft: %u private entries, %u packets per run\n", n, packets);
	struct policy_set *s = make_set(n, 0), *s2 = make_set(n, n / 100);
	if (!s || !s2)
		return 1;
	struct nft_plan p;
	double t0 = now();
	if (nft_plan_build(s, &p))
		return 1;
	printf("  plan (interval arithmetic)   %8.1f ms  (%zu ranges)\n", (now() - t0) * 1e3,
	       p.set[NFT_SET_PRIVATE4].n);
	nft_plan_fini(&p);

	per_packet("no table", ns, packets);
	struct nft *nft;
	struct policy_set *empty = make_set(0, 0);
	if (nft_open(&nft, &log, NULL) || nft_sync(nft, empty))
		return 1;
	per_packet("table, 0 entries", ns, packets);
	if (nft_close(nft, true) || nft_open(&nft, &log, NULL))
		return 1;

	t0 = now();
	int rc = nft_sync(nft, s);
	printf("  load (first sync, 1 batch)   %8.1f ms  rc=%d\n", (now() - t0) * 1e3, rc);
	t0 = now();
	rc = nft_sync(nft, s2);
	printf("  reload, 1%% changed (diff)    %8.1f ms  rc=%d\n", (now() - t0) * 1e3, rc);
	t0 = now();
	rc = nft_sync(nft, s2);
	printf("  reload, unchanged            %8.1f ms  rc=%d\n", (now() - t0) * 1e3, rc);
	per_packet("table, N entries", ns, packets);
	struct nft_counters c;
	if (nft_counters(nft, &c) == 0)
		printf("  (private_dropped %llu packets: the source is in no set)\n",
		       (unsigned long long)c.private_dropped.packets);

	struct nft_plan full;
	if (nft_plan_build(s2, &full))
		return 1;
	struct nft_batch *b;
	t0 = now();
	if (nft_batch_build(nft, &full, true, &b) == 0 && b) {
		double tb = now() - t0;
		size_t len;
		(void)nft_batch_data(b, &len);
		t0 = now();
		rc = nft_batch_send(nft, b);
		printf("  full replace: build %.1f ms, send+commit %.1f ms, %.1f MiB, rc=%d\n",
		       tb * 1e3, (now() - t0) * 1e3, (double)len / (1 << 20), rc);
	}
	(void)nft_close(nft, true);
	policy_free(s);
	policy_free(s2);
	policy_free(empty);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
	(void)sh(cmd);
	return 0;
}
