/* bench_xfrm_floor.c — how fast kernel_xfrm.c can load the SPD (performance.md §6.1).
 *
 *   bench_xfrm_floor [N]      (root; runs in a private network namespace)
 *
 * For N policies (default 100000) of each kind — host /32 traps and /24 traps, both with
 * the local side wildcard as meshd installs them — it times one batched policy_put, the
 * cost of deleting a single policy among N with the kernel's default hash thresholds and
 * after tune() (hthresh4 0 24), and a batched delete of everything. It goes through
 * struct kernel_ops, so the figures are meshd's floor, acks and seq checks included. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "kernel_xfrm.h"

#define SAMPLES 50

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct kpolicy *v, size_t n, unsigned len)
{
	memset(v, 0, n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		/* /32: 10.a.b.c; /24: (10+a).b.c.0 — distinct for up to 2^24 / 2^20 */
		uint32_t a = len == 32 ? (10u << 24) | (uint32_t)i : (10u << 24) + ((uint32_t)i << 8);
		v[i].sel.src.a.family = AF_INET;
		v[i].sel.dst.a.family = AF_INET;
		v[i].sel.dst.a.b[0] = (uint8_t)(a >> 24);
		v[i].sel.dst.a.b[1] = (uint8_t)(a >> 16);
		v[i].sel.dst.a.b[2] = (uint8_t)(a >> 8);
		v[i].sel.dst.a.b[3] = (uint8_t)a;
		v[i].sel.dst.len = (uint8_t)len;
		v[i].dir = KDIR_OUT;
		v[i].act = KACT_TRAP;
		v[i].priority = 100;
		v[i].reqid = 1;
	}
}

/* Mean µs to delete one policy, one call each, SAMPLES policies spread over v[from..). */
static double del_one_us(struct kernel *k, const struct kpolicy *v, size_t n, size_t from)
{
	double t0 = now_s();

	for (size_t i = 0; i < SAMPLES; i++)
		if (k->ops->policy_del(k, &v[(from + i * 2) * (n / (4 * SAMPLES))], 1, NULL, NULL))
			return -1;
	return (now_s() - t0) * 1e6 / SAMPLES;
}

static int run(struct kernel *k, struct kpolicy *v, size_t n, unsigned len)
{
	struct xfrm_hthresh dflt = { 32, 32, 128, 128 };
	double t0, t1, t2, t3, d_inexact, d_hashed;

	fill(v, n, len);
	if (xfrm_set_hthresh(k, &dflt, true, false) < 0)
		return 1;
	t0 = now_s();
	if (k->ops->policy_put(k, v, n, NULL, NULL) != 0)
		return 1;
	t1 = now_s();
	d_inexact = del_one_us(k, v, n, 0);
	if (k->ops->tune(k, n, 0) != 0)
		return 1;
	usleep(300000);        /* the kernel rehashes in a work item */
	d_hashed = del_one_us(k, v, n, 1);
	t2 = now_s();
	if (k->ops->policy_del(k, v, n, NULL, NULL) != 0)
		return 1;
	t3 = now_s();
	printf("%8zu  0/0->/%-2u  put %7.1f ms (%5.2f us each)  del-one %8.1f us default, "
	       "%6.1f us hthresh 0/24  del-all %7.1f ms (%5.2f us each)\n",
	       n, len, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / (double)n, d_inexact, d_hashed,
	       (t3 - t2) * 1e3, (t3 - t2) * 1e6 / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	struct kernel k = { 0 };
	struct kpolicy *v;
	int r;

	if (n < 4 * SAMPLES || n > (1u << 20)) {
		fprintf(stderr, "usage: %s [N]  (%d <= N <= %u)\n", argv[0], 4 * SAMPLES, 1u << 20);
		return 2;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
		return 77;
	}
	if ((r = xfrm_open(&k)) < 0) {
		fprintf(stderr, "xfrm_open: %s\n", strerror(-r));
		return 1;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		return 1;
	r = run(&k, v, n, 32) || run(&k, v, n, 24);
	free(v);
	k.ops->close(&k);
	if (r)
		fprintf(stderr, "a kernel call failed\n");
	return r;
}
