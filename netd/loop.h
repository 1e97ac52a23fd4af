/*
 * loop.h: lguest-netd's event loop.
 *
 * The daemon is one thread that waits in epoll for something to happen:
 * a client connecting or writing, a console or an agent talking, a child
 * process ending (each child has a pidfd, readable when it exits), or a
 * timer expiring (a readiness probe to repeat, a boot that takes too long).
 * Every object that waits for something embeds a struct watch (for a file
 * descriptor) or a struct timer, whose function is called when it fires.
 *
 * Objects are freed while events for them may still be queued in the same
 * epoll_wait batch; loop_defer_free() frees them after the batch, and a
 * watch whose fd is -1 (removed) is skipped, so no callback ever runs on
 * freed memory.
 */
#ifndef LGUEST_NETD_LOOP_H
#define LGUEST_NETD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct watch;
typedef void watch_fn(struct watch *w, uint32_t events);
struct watch {
	int fd;			/* -1: not watched */
	watch_fn *fn;
};

struct timer;
typedef void timer_fn(struct timer *t);
struct timer {
	uint64_t due_ns;	/* CLOCK_MONOTONIC */
	timer_fn *fn;
	struct timer *next;	/* in the loop's list, soonest first */
	bool armed;
};

struct loop {
	int epfd;
	struct timer *timers;
	struct deferred *deferred;
	bool stop;
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
/* Watch W->fd for EVENTS (EPOLLIN...); 0 or -errno. */
int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events, watch_fn *fn);
int loop_mod(struct loop *l, struct watch *w, uint32_t events);
/* Stop watching and close the descriptor. */
void loop_close(struct loop *l, struct watch *w);
/* Call FN in MS milliseconds (re-arming an armed timer moves it). */
void timer_arm(struct loop *l, struct timer *t, uint64_t ms, timer_fn *fn);
void timer_cancel(struct loop *l, struct timer *t);
/* Free P with FN once the current batch of events is handled. */
void loop_defer_free(struct loop *l, void *p, void (*fn)(void *));
/* Wait for and handle one batch of events and the timers due. */
void loop_run_once(struct loop *l);
uint64_t now_ns(void);

#endif
