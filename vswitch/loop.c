/*
 * loop.c: the switch's one event loop.
 *
 * Everything the switch does starts here: a port became readable or
 * writable, a control client spoke, a signal arrived, the ageing timer
 * fired.  Each descriptor is registered with a "watch", a small struct that
 * says which function handles it; the struct is embedded in the thing it
 * watches, so the handler finds its port with container_of.
 *
 * A handler may close a port whose events are still waiting further down
 * the same epoll batch.  So nothing is freed while a batch is handled: a
 * closed thing goes to the graveyard (its "dead" flag set, its descriptor
 * closed), and the graveyard is emptied once the batch is done.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "vswitch.h"

struct graveyard_entry {
	void *p;
	void (*free_fn)(void *);
	struct graveyard_entry *next;
};

uint64_t clock_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int loop_init(struct loop *loop)
{
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->graveyard = NULL;
	loop->now_ns = clock_ns(CLOCK_MONOTONIC);
	return loop->epfd < 0 ? -errno : 0;
}

int loop_add(struct loop *loop, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int loop_mod(struct loop *loop, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void loop_del(struct loop *loop, struct watch *w)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void loop_defer_free(struct loop *loop, void *p, void (*free_fn)(void *))
{
	struct graveyard_entry *g = malloc(sizeof(*g));

	if (!g) {	/* leak rather than free under someone's feet */
		return;
	}
	g->p = p;
	g->free_fn = free_fn;
	g->next = loop->graveyard;
	loop->graveyard = g;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event events[64];
	int n, i;

	n = epoll_wait(loop->epfd, events, 64, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->now_ns = clock_ns(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		struct watch *w = events[i].data.ptr;

		w->fn(w, events[i].events);
	}
	while (loop->graveyard) {
		struct graveyard_entry *g = loop->graveyard;

		loop->graveyard = g->next;
		g->free_fn(g->p);
		free(g);
	}
	return n;
}
