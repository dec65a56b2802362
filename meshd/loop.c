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

/* A timer lives in a slot (stable while armed); the heap orders slot numbers by
 * (due, seq). A timer id is (generation << 32 | slot + 1), so cancelling finds the slot at
 * once and an id whose timer already fired or was cancelled is recognised as stale. */
struct timer {
	uint64_t due;
	uint64_t seq;                /* insertion order: ties fire first-armed first */
	loop_timer_fn fn;
	void *arg;
	uint32_t gen;
	uint32_t heap_pos;           /* UINT32_MAX when the slot is free */
};

struct loop {
	int epfd;
	struct fd_watch *fds;        /* small array; a daemon watches a handful of fds */
	size_t n_fds, cap_fds;
	struct timer *slots;
	uint32_t n_slots, cap_slots;
	uint32_t *free_slots;        /* stack of free slot numbers */
	uint32_t n_free;
	uint32_t *heap;              /* binary min-heap of slot numbers */
	uint32_t n_timers;
	uint64_t next_seq;
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
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->slots);
	free(l->free_slots);
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

static bool before(const struct loop *l, uint32_t a, uint32_t b)
{
	const struct timer *x = &l->slots[a], *y = &l->slots[b];
	return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

static void heap_set(struct loop *l, uint32_t pos, uint32_t slot)
{
	l->heap[pos] = slot;
	l->slots[slot].heap_pos = pos;
}

static void sift_up(struct loop *l, uint32_t i)
{
	uint32_t slot = l->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(l, slot, l->heap[p]))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, slot);
}

static void sift_down(struct loop *l, uint32_t i)
{
	uint32_t n = l->n_timers, slot = l->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l, l->heap[c], slot))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, slot);
}

/* Take slot out of the heap and free it. */
static void timer_remove(struct loop *l, uint32_t slot)
{
	uint32_t pos = l->slots[slot].heap_pos, last = l->heap[--l->n_timers];
	l->slots[slot].heap_pos = UINT32_MAX;
	l->slots[slot].gen++;
	l->free_slots[l->n_free++] = slot;
	if (pos == l->n_timers)
		return;
	heap_set(l, pos, last);
	sift_down(l, pos);
	sift_up(l, l->slots[last].heap_pos);
}

uint64_t loop_timer_add(struct loop *l, uint64_t after_ms, loop_timer_fn fn, void *arg)
{
	if (!l->n_free) {
		if (l->n_slots == l->cap_slots) {
			uint32_t cap = l->cap_slots ? l->cap_slots * 2 : 16;
			struct timer *ns = realloc(l->slots, cap * sizeof(*ns));
			if (!ns)
				return 0;
			l->slots = ns;
			uint32_t *nf = realloc(l->free_slots, cap * sizeof(*nf));
			if (!nf)
				return 0;
			l->free_slots = nf;
			uint32_t *nh = realloc(l->heap, cap * sizeof(*nh));
			if (!nh)
				return 0;
			l->heap = nh;
			l->cap_slots = cap;
		}
		l->slots[l->n_slots] = (struct timer){ .heap_pos = UINT32_MAX };
		l->free_slots[l->n_free++] = l->n_slots++;
	}
	uint32_t slot = l->free_slots[--l->n_free];
	struct timer *t = &l->slots[slot];
	t->due = loop_now_ms(l) + after_ms;
	t->seq = l->next_seq++;
	t->fn = fn;
	t->arg = arg;
	l->heap[l->n_timers] = slot;
	t->heap_pos = l->n_timers++;
	sift_up(l, t->heap_pos);
	return (uint64_t)t->gen << 32 | (slot + 1);
}

/* The slot of a live timer id, or UINT32_MAX. */
static uint32_t id_slot(const struct loop *l, uint64_t id)
{
	uint32_t slot = (uint32_t)(id & 0xffffffffu) - 1, gen = (uint32_t)(id >> 32);
	if (!id || slot >= l->n_slots || l->slots[slot].gen != gen ||
	    l->slots[slot].heap_pos == UINT32_MAX)
		return UINT32_MAX;
	return slot;
}

void loop_timer_cancel(struct loop *l, uint64_t id)
{
	uint32_t slot = id_slot(l, id);
	if (slot != UINT32_MAX)
		timer_remove(l, slot);
}

void *loop_timer_arg(const struct loop *l, uint64_t id)
{
	uint32_t slot = id_slot(l, id);
	return slot == UINT32_MAX ? NULL : l->slots[slot].arg;
}

void loop_run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms(l);
	/* Timers armed by a handler with after_ms=0 run in the next round, not this one,
	 * so a handler that re-arms itself cannot starve fds. */
	uint64_t limit = l->next_seq;
	while (l->n_timers) {
		uint32_t slot = l->heap[0];
		struct timer *t = &l->slots[slot];
		if (t->due > now || t->seq >= limit)
			break;
		loop_timer_fn fn = t->fn;
		void *arg = t->arg;
		timer_remove(l, slot);
		fn(arg);
	}
}

int loop_once(struct loop *l, int max_wait_ms)
{
	loop_run_timers(l);
	int wait = max_wait_ms;
	if (l->n_timers) {
		uint64_t now = loop_now_ms(l), due = l->slots[l->heap[0]].due;
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
