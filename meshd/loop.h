/* loop.h — the event loop: epoll for file descriptors, a min-heap of timers.
 *
 * Single-threaded. Timers are identified by an id that is never valid again once the
 * timer fired or was cancelled, so a handler can cancel a timer it no longer owns the
 * memory of without use-after-free. Tests can replace the
 * clock (loop_set_clock) to drive timers virtually. */
#ifndef MESHD_LOOP_H
#define MESHD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(void *arg);
typedef uint64_t (*loop_clock_fn)(void *arg);   /* monotonic milliseconds */

struct loop *loop_new(void);
void loop_free(struct loop *l);                 /* accepts NULL */

/* Watch fd for EPOLLIN (and the given extra events). Returns 0 or -errno. */
int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *arg)
	__attribute__((warn_unused_result));
void loop_del_fd(struct loop *l, int fd);

/* Call fn(arg) once, after_ms from now. Returns a timer id (> 0) or 0 on ENOMEM. */
uint64_t loop_timer_add(struct loop *l, uint64_t after_ms, loop_timer_fn fn, void *arg);
void loop_timer_cancel(struct loop *l, uint64_t id);   /* stale or unknown ids are ignored */
/* The arg of a timer that is still armed, or NULL. Both are O(1) / O(log n). */
void *loop_timer_arg(const struct loop *l, uint64_t id);

uint64_t loop_now_ms(const struct loop *l);
void loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg);

/* Run due timers and wait at most max_wait_ms (-1: until the next timer or an fd event)
 * for fd events; dispatch them. Returns 0 or -errno (EINTR is not an error). */
int loop_once(struct loop *l, int max_wait_ms);
/* Run timers that are due now without waiting for fds (virtual-clock tests). */
void loop_run_timers(struct loop *l);
/* loop_once until loop_stop is called. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
bool loop_stopping(const struct loop *l);

#endif
