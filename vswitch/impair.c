/*
 * impair.c: a bad cable, on purpose: delay, jitter, loss, rate, duplication.
 *
 * Labs are for seeing what networks do when links are slow, far or lossy.
 * This host's kernel has no netem, so the switch impairs links itself, per
 * port and per direction: "in" is what the port's peer sends into the
 * switch, "out" what the switch sends to the peer.  Each direction with an
 * impairment has a delay line: a bounded ring of frames, each stamped with
 * the time it may leave.  A frame entering it
 *
 *   - is lost with probability LOSS, or duplicated with probability DUP
 *     (both drawn from the port's own random stream, seeded from --seed, so
 *     that a given seed loses the same frames of the same traffic);
 *   - waits for the wire, at RATE bits per second: each frame leaves no
 *     sooner than the previous one plus its own length's time;
 *   - then waits DELAY, give or take a uniform JITTER (never reordering:
 *     a frame never leaves before the one ahead of it).
 *
 * A full delay line drops (and counts) what does not fit, as a router's
 * buffer would.  One timerfd, armed for the earliest frame due on any
 * port, wakes the loop to release frames: "in" frames continue into the
 * switch (forward.c), "out" frames are sent out of the port (port.c).
 * Ports without impairments never come here beyond one test of a flag.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vswitch.h"

#define LINE_BYTES_MIN (1u << 20)

struct line_rec {
	uint64_t release_ns;
	uint32_t len;
	uint32_t pad;
};

/* xorshift64*: small, fast, and the same everywhere for the same seed. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static bool chance(uint64_t *rng, uint32_t ppb)
{
	return ppb && rng_next(rng) % 1000000000u < ppb;
}

/* "50ms", "1.5s", "200us", "50" (milliseconds) */
static const char *parse_time(const char *v, uint64_t *ns)
{
	char *end;
	double x = strtod(v, &end), unit = 1e6;

	if (end == v || x < 0 || x > 3600e3)
		return "a time like 50ms, 1.5s or 200us (at most an hour)";
	if (!strcmp(end, "s"))
		unit = 1e9;
	else if (!strcmp(end, "us"))
		unit = 1e3;
	else if (strcmp(end, "ms") && *end)
		return "a time like 50ms, 1.5s or 200us";
	*ns = (uint64_t)llround(x * unit);
	return NULL;
}

/* "30%", "30", "0.5%" */
static const char *parse_percent(const char *v, uint32_t *ppb)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || (*end && strcmp(end, "%")) || x < 0 || x > 100)
		return "a percentage from 0 to 100, like 30%";
	*ppb = (uint32_t)llround(x * 1e7);
	return NULL;
}

/* "8mbit", "100kbit", "1gbit", "500000" (bits per second) */
static const char *parse_rate(const char *v, uint64_t *bps)
{
	char *end;
	double x = strtod(v, &end), unit = 1;

	if (end == v || x <= 0)
		return "a rate like 8mbit, 100kbit or 1gbit";
	if (*end == 'k' || *end == 'K')
		unit = 1e3, end++;
	else if (*end == 'm' || *end == 'M')
		unit = 1e6, end++;
	else if (*end == 'g' || *end == 'G')
		unit = 1e9, end++;
	if (*end && strcmp(end, "bit") && strcmp(end, "bps"))
		return "a rate like 8mbit, 100kbit or 1gbit";
	if (x * unit < 8000 || x * unit > 100e9)
		return "a rate from 8kbit to 100gbit";
	*bps = (uint64_t)llround(x * unit);
	return NULL;
}

const char *impair_parse(const char *key, const char *val, struct impair_conf *c)
{
	if (!strcmp(key, "delay"))
		return parse_time(val, &c->delay_ns);
	if (!strcmp(key, "jitter"))
		return parse_time(val, &c->jitter_ns);
	if (!strcmp(key, "loss"))
		return parse_percent(val, &c->loss_ppb);
	if (!strcmp(key, "dup"))
		return parse_percent(val, &c->dup_ppb);
	if (!strcmp(key, "rate"))
		return parse_rate(val, &c->rate_bps);
	return "not an impairment (delay, jitter, loss, rate, dup)";
}

static bool conf_empty(const struct impair_conf *c)
{
	return !c->delay_ns && !c->jitter_ns && !c->loss_ppb && !c->dup_ppb && !c->rate_bps;
}

void impair_format(const struct impair_conf *c, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__)
	if (c->delay_ns)
		ADD("%sdelay=%gms", n ? "," : "", (double)c->delay_ns / 1e6);
	if (c->jitter_ns)
		ADD("%sjitter=%gms", n ? "," : "", (double)c->jitter_ns / 1e6);
	if (c->loss_ppb)
		ADD("%sloss=%g%%", n ? "," : "", (double)c->loss_ppb / 1e7);
	if (c->dup_ppb)
		ADD("%sdup=%g%%", n ? "," : "", (double)c->dup_ppb / 1e7);
	if (c->rate_bps)
		ADD("%srate=%gkbit", n ? "," : "", (double)c->rate_bps / 1e3);
#undef ADD
}

int impair_set(struct port *p, enum impair_dir dir, const struct impair_conf *c)
{
	struct impair_line *l = &p->imp[dir];
	size_t bytes = p->sw->queue_bytes * 4;

	if (!l->q.buf && !conf_empty(c)) {
		if (queue_init(&l->q, bytes < LINE_BYTES_MIN ? LINE_BYTES_MIN : bytes))
			return -ENOMEM;
		/* Each port and direction draws its own numbers from the seed. */
		l->rng = p->sw->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(2 * p->index + dir + 1));
		if (!l->rng)
			l->rng = 1;
	}
	l->conf = *c;
	l->active = !conf_empty(c) || (l->q.buf && !queue_empty(&l->q));
	if (l->active)
		p->sw->any_impair = true;
	return 0;
}

void impair_free(struct port *p)
{
	queue_free(&p->imp[IMPAIR_IN].q);
	queue_free(&p->imp[IMPAIR_OUT].q);
}

static void line_put(struct port *p, struct impair_line *l, const uint8_t *frame, size_t len,
		     uint64_t now)
{
	struct line_rec r = { .len = (uint32_t)len };
	uint64_t t = now, jitter = 0;

	if (queue_space(&l->q) < sizeof(r) + len) {
		p->c.impair_qdrop++;
		return;
	}
	if (l->conf.rate_bps) {
		uint64_t wire_ns = (uint64_t)len * 8 * 1000000000ull / l->conf.rate_bps;

		t = (l->rate_free_ns > now ? l->rate_free_ns : now) + wire_ns;
		l->rate_free_ns = t;
	}
	if (l->conf.jitter_ns)
		jitter = rng_next(&l->rng) % (2 * l->conf.jitter_ns + 1);
	t += l->conf.delay_ns + jitter;
	t = t > l->conf.jitter_ns ? t - l->conf.jitter_ns : 0;
	if (t < l->last_release_ns)
		t = l->last_release_ns;		/* no reordering */
	l->last_release_ns = t;
	r.release_ns = t;
	queue_put(&l->q, &r, sizeof(r));
	queue_put(&l->q, frame, len);
}

bool impair_take(struct port *p, enum impair_dir dir, const uint8_t *frame, size_t len)
{
	struct impair_line *l = &p->imp[dir];
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if (!l->active)
		return false;
	if (!conf_empty(&l->conf)) {
		if (chance(&l->rng, l->conf.loss_ppb)) {
			p->c.impair_loss++;
			return true;
		}
		line_put(p, l, frame, len, now);
		if (chance(&l->rng, l->conf.dup_ppb)) {
			p->c.impair_dup++;
			line_put(p, l, frame, len, now);
		}
	} else {
		line_put(p, l, frame, len, now);	/* draining: keep the order */
	}
	return true;
}

/* Release what is due on every port; returns the next time anything is due. */
static uint64_t release_due(struct vswitch *sw, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	struct line_rec r;
	int i, dir;

	for (i = 0; i < VSW_MAX_PORTS; i++) {
		for (dir = 0; dir < 2; dir++) {
			struct port *p = sw->ports[i];
			struct impair_line *l;

			if (!p)
				break;
			l = &p->imp[dir];
			if (!l->q.buf)
				continue;
			while (!queue_empty(&l->q)) {
				queue_copy_out(&l->q, &r, sizeof(r));
				if (r.release_ns > now) {
					if (r.release_ns < next)
						next = r.release_ns;
					break;
				}
				queue_drop(&l->q, sizeof(r));
				queue_copy_out(&l->q, sw->impairbuf, r.len);
				queue_drop(&l->q, r.len);
				if (dir == IMPAIR_OUT)
					port_send_now(p, sw->impairbuf, r.len);
				else if (p->conf.down)	/* it went down meanwhile */
					p->c.admin_drop++;
				else
					forward_checked(sw, p, sw->impairbuf, r.len);
				if (p->dead)
					break;
			}
			if (!p->dead && queue_empty(&l->q) && conf_empty(&l->conf))
				l->active = false;
		}
	}
	return next;
}

static void timer_event(struct watch *w, uint32_t events)
{
	struct vswitch *sw = container_of(w, struct vswitch, impair_timer);
	uint64_t expirations;

	(void)events;
	sw->impair_armed_ns = 0;	/* it fired: impair_run() arms it again */
	if (read(w->fd, &expirations, sizeof(expirations)) < 0) {
		/* spurious: the loop releases what is due anyway */
	}
}

int impair_init(struct vswitch *sw)
{
	sw->impair_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sw->impair_timer.fn = timer_event;
	if (sw->impair_timer.fd < 0)
		return -errno;
	return loop_add(&sw->loop, &sw->impair_timer, EPOLLIN);
}

void impair_run(struct vswitch *sw)
{
	struct itimerspec its = { 0 };
	uint64_t next;

	if (!sw->any_impair)
		return;
	next = release_due(sw, clock_ns(CLOCK_MONOTONIC));
	if (next == sw->impair_armed_ns)
		return;
	sw->impair_armed_ns = next;
	if (next != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
	}
	timerfd_settime(sw->impair_timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}
