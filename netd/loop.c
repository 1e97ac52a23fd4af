/*
 * loop.c: lguest-netd's event loop (see loop.h for the story).
 *
 * Timers are few (one per node at most, and one per probe), so they live
 * in a list kept soonest first, and epoll_wait's timeout is the time to the
 * first.  That is the whole scheduler.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define BATCH 64

struct deferred {
	void *p;
	void (*fn)(void *);
	struct deferred *next;
};

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->timers = NULL;
	l->deferred = NULL;
	l->stop = false;
	return l->epfd < 0 ? -errno : 0;
}

void loop_fini(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events, watch_fn *fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->fn = fn;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		w->fd = -1;
		return -errno;
	}
	return 0;
}

int loop_mod(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void loop_close(struct loop *l, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
}

void timer_cancel(struct loop *l, struct timer *t)
{
	struct timer **pp;

	if (!t->armed)
		return;
	for (pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
}

void timer_arm(struct loop *l, struct timer *t, uint64_t ms, timer_fn *fn)
{
	struct timer **pp;

	timer_cancel(l, t);
	t->due_ns = now_ns() + ms * 1000000ull;
	t->fn = fn;
	for (pp = &l->timers; *pp && (*pp)->due_ns <= t->due_ns; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void loop_defer_free(struct loop *l, void *p, void (*fn)(void *))
{
	struct deferred *d = malloc(sizeof(*d));

	if (!d) {		/* cannot defer: leak rather than free under a callback */
		return;
	}
	d->p = p;
	d->fn = fn;
	d->next = l->deferred;
	l->deferred = d;
}

static int next_timeout_ms(const struct loop *l)
{
	uint64_t now;

	if (!l->timers)
		return -1;
	now = now_ns();
	if (l->timers->due_ns <= now)
		return 0;
	return (int)((l->timers->due_ns - now + 999999) / 1000000);
}

static void run_timers(struct loop *l)
{
	uint64_t now = now_ns();

	while (l->timers && l->timers->due_ns <= now) {
		struct timer *t = l->timers;

		l->timers = t->next;
		t->armed = false;
		t->fn(t);
	}
}

static void free_deferred(struct loop *l)
{
	while (l->deferred) {
		struct deferred *d = l->deferred;

		l->deferred = d->next;
		d->fn(d->p);
		free(d);
	}
}

void loop_run_once(struct loop *l)
{
	struct epoll_event ev[BATCH];
	int n = epoll_wait(l->epfd, ev, BATCH, next_timeout_ms(l));

	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		if (w->fd >= 0)
			w->fn(w, ev[i].events);
	}
	run_timers(l);
	free_deferred(l);
}
