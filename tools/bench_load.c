/* bench_load — time to load N group entries (parse + trie + kernel) and to reload one
 * changed line among them, next to the raw batched-netlink floor for the same policies.
 * Runs in fresh private network namespaces (root). Usage: bench_load [N] (default 100000). */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "kernel.h"
#include "kernel_apply.h"
#include "log.h"
#include "policy.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_groups(const char *dir, size_t n, int variant)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/private", dir);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	/* half /24 networks, half /32 hosts, spread over 10.0.0.0/8 and 100.64.0.0/10 */
	for (size_t i = 0; i < n; i++) {
		if (i % 2)
			fprintf(f, "10.%zu.%zu.0/24\n", (i / 2) / 256 % 256, (i / 2) % 256);
		else
			fprintf(f, "100.%zu.%zu.%zu\n", 64 + (i / 2) / 65536 % 64, (i / 2) / 256 % 256,
				(i / 2) % 256);
	}
	if (variant)
		fprintf(f, "192.0.2.%d\n", variant);
	fclose(f);
	snprintf(p, sizeof(p), "%s/clear", dir);
	f = fopen(p, "w");
	fprintf(f, "10.0.0.1\n");
	fclose(f);
}

static struct conf *make_conf(void)
{
	struct conf *c = conf_new_default();
	c->conns = calloc(2, sizeof(*c->conns));
	c->n_conns = 2;
	conf_conn_init(&c->conns[0]);
	c->conns[0].name = strdup("private");
	c->conns[0].right_kind = RIGHT_OPPGROUP;
	c->conns[0].autostart = AUTO_ONDEMAND;
	c->conns[0].failureshunt = SHUNT_DROP;
	conf_conn_init(&c->conns[1]);
	c->conns[1].name = strdup("clear");
	c->conns[1].right_kind = RIGHT_GROUP;
	c->conns[1].type = TYPE_PASSTHROUGH;
	c->conns[1].autostart = AUTO_ONDEMAND;
	return c;
}

static void fresh_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "bench_load: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		exit(77);
	}
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	char dir[] = "/tmp/meshd-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	write_groups(dir, n, 0);
	struct log log;
	log_init(&log, LOG_SINK_STDERR, false, "bench");
	struct diag d = { .fn = diag_to_log, .arg = &log };
	struct host_addrs host = { 0 };
	struct conf *c = make_conf();
	uint32_t next = 1;

	/* 1. parse + sort + trie */
	double t0 = now_s();
	struct policy_set *s = policy_load(c, dir, &host, false, &d);
	policy_assign_reqids(s, NULL, &next);
	double t_parse = now_s() - t0;

	/* 2. kernel install through meshd's path, in a fresh namespace */
	fresh_netns();
	struct kernel k = { 0 };
	int r = xfrm_open(&k);
	if (r < 0) {
		fprintf(stderr, "bench_load: xfrm_open: %s\n", strerror(-r));
		return 1;
	}
	struct kernel_apply_result res;
	t0 = now_s();
	r = kernel_install_set(&k, s, &log, &res);
	double t_kernel = now_s() - t0;
	if (r < 0)
		fprintf(stderr, "bench_load: install: %s (%zu refused)\n", strerror(-r), res.failed);
	size_t n_pol = res.added;

	/* 3. reload with one changed line: parse again + diff + apply. The first reload
	 * of a process touches fresh memory; later ones reuse what the previous set freed,
	 * which is the steady state of a daemon reloaded by cron or configuration
	 * management. Both are reported. */
	double t_reparse[2], t_diff[2], t_reload[2];
	size_t changed = 0;
	for (int round = 0; round < 2; round++) {
		write_groups(dir, n, 7 + round);
		t0 = now_s();
		struct policy_set *s2 = policy_load(c, dir, &host, false, &d);
		policy_assign_reqids(s2, s, &next);
		t_reparse[round] = now_s() - t0;
		double t1 = now_s();
		kernel_apply_diff(&k, s, s2, &log, &res);
		t_diff[round] = now_s() - t1;
		t_reload[round] = now_s() - t0;
		changed = res.added + res.removed + res.changed;
		if (round == 0) {
			/* keep the original set for the floor below; drop the first reload's */
			struct policy_set *tmp = s2;
			kernel_apply_diff(&k, tmp, s, &log, &res);
			policy_free(tmp);
		} else {
			policy_free(s2);
		}
	}
	k.ops->close(&k);

	/* 4. the floor: the same policies, prebuilt, one batched put in a fresh namespace */
	struct kpolicy *all = calloc(n_pol + 8, sizeof(*all));
	size_t m = 0;
	for (size_t i = 0; i < s->n_entries; i++)
		m += kernel_entry_policies(s, &s->entries[i], all + m);
	fresh_netns();
	struct kernel k2 = { 0 };
	if (xfrm_open(&k2) < 0)
		return 1;
	t0 = now_s();
	k2.ops->policy_put(&k2, all, m, NULL, NULL);
	double t_floor = now_s() - t0;
	k2.ops->close(&k2);

	printf("entries                 %zu (+1 clear); kernel policies %zu\n", n, n_pol);
	printf("load: parse+trie        %.3f s\n", t_parse);
	printf("load: kernel install    %.3f s\n", t_kernel);
	printf("load: total             %.3f s\n", t_parse + t_kernel);
	printf("floor: raw batched put  %.3f s (%zu policies prebuilt)\n", t_floor, m);
	for (int round = 0; round < 2; round++) {
		const char *what = round ? "steady" : "first ";
		printf("reload 1 line (%s): parse+trie %.3f s, diff+kernel %.4f s (%zu changed), "
		       "total %.3f s\n", what, t_reparse[round], t_diff[round], changed,
		       t_reload[round]);
	}
	policy_free(s);
	conf_free(c);
	free(all);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
