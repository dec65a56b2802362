/* loop.c — epoll + timer heap. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct fd_watch {
	int fd;
	loop_fd_fn fn;
	void *arg;
};

struct timer {
	uint64_t due;
	uint64_t id;
	loop_timer_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	struct fd_watch *fds;        /* small array; a daemon watches a handful of fds */
	size_t n_fds, cap_fds;
	struct timer *heap;          /* binary min-heap by (due, id) */
	size_t n_timers, cap_timers;
	uint64_t next_id;
	loop_clock_fn clock;
	void *clock_arg;
	bool stop;
};

static uint64_t mono_ms(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->clock = mono_ms;
	l->next_id = 1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

uint64_t loop_now_ms(const struct loop *l)
{
	return l->clock(l->clock_arg);
}

void loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg)
{
	l->clock = fn ? fn : mono_ms;
	l->clock_arg = arg;
}

int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *arg)
{
	if (l->n_fds == l->cap_fds) {
		size_t cap = l->cap_fds ? l->cap_fds * 2 : 8;
		struct fd_watch *n = realloc(l->fds, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->fds = n;
		l->cap_fds = cap;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->fds[l->n_fds++] = (struct fd_watch){ fd, fn, arg };
	return 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->n_fds; i++) {
		if (l->fds[i].fd != fd)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		l->fds[i] = l->fds[--l->n_fds];
		return;
	}
}

static bool before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void sift_up(struct timer *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&h[i], &h[p]))
			break;
		struct timer t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static void sift_down(struct timer *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(&h[l], &h[m]))
			m = l;
		if (r < n && before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct timer t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

uint64_t loop_timer_add(struct loop *l, uint64_t after_ms, loop_timer_fn fn, void *arg)
{
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 16;
		struct timer *n = realloc(l->heap, cap * sizeof(*n));
		if (!n)
			return 0;
		l->heap = n;
		l->cap_timers = cap;
	}
	uint64_t id = l->next_id++;
	l->heap[l->n_timers] = (struct timer){ loop_now_ms(l) + after_ms, id, fn, arg };
	sift_up(l->heap, l->n_timers++);
	return id;
}

void loop_timer_cancel(struct loop *l, uint64_t id)
{
	/* Linear search: the heap holds a few timers per peer at most, and cancels are rare
	 * next to fires. Replace with an id index if profiles ever say so. */
	for (size_t i = 0; i < l->n_timers; i++) {
		if (l->heap[i].id != id)
			continue;
		l->heap[i] = l->heap[--l->n_timers];
		if (i < l->n_timers) {
			sift_down(l->heap, l->n_timers, i);
			sift_up(l->heap, i);
		}
		return;
	}
}

void loop_run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms(l);
	/* Timers added by a handler with after_ms=0 run in the next round, not this one,
	 * so a handler that re-arms itself cannot starve fds. */
	uint64_t limit = l->next_id;
	while (l->n_timers && l->heap[0].due <= now && l->heap[0].id < limit) {
		struct timer t = l->heap[0];
		l->heap[0] = l->heap[--l->n_timers];
		sift_down(l->heap, l->n_timers, 0);
		t.fn(t.arg);
	}
}

int loop_once(struct loop *l, int max_wait_ms)
{
	loop_run_timers(l);
	int wait = max_wait_ms;
	if (l->n_timers) {
		uint64_t now = loop_now_ms(l), due = l->heap[0].due;
		int t = due <= now ? 0 : (due - now > 60000 ? 60000 : (int)(due - now));
		if (wait < 0 || t < wait)
			wait = t;
	}
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, wait);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		/* look the watch up again: an earlier handler may have removed it */
		for (size_t j = 0; j < l->n_fds; j++) {
			if (l->fds[j].fd == fd) {
				struct fd_watch w = l->fds[j];
				w.fn(fd, evs[i].events, w.arg);
				break;
			}
		}
	}
	loop_run_timers(l);
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int r = loop_once(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

bool loop_stopping(const struct loop *l)
{
	return l->stop;
}
