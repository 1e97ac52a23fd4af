/*
 * channel.c: --channel=PATH, a byte stream between the guest and a unix
 * socket on this host.
 *
 * A network can be broken on purpose; a channel cannot.  It is the guest
 * agent's way in (include/lguest/agent.h): a reliable, ordered stream of
 * bytes each way between the guest (/dev/lgchanN, kmod/guest/chan.c) and
 * whoever connects to the socket we listen on at PATH.  The device's page is
 * a struct lguest_channel_page (include/lguest/devices.h says the protocol);
 * here is our half of it.
 *
 * Two threads share the work.  The vCPU thread (lguest.c's run loop) calls
 * our dma hook with the guest stopped, so the hook never waits for anything:
 *   1. a send to to_host: we take the guest's bytes into "out", a ring of
 *      CHANNEL_HOLD bytes (when out is empty and a client is connected, the
 *      socket takes what it can at once, without waiting, and the ring the
 *      rest).  used_len says how many we took; having taken fewer than
 *      offered, we remember that the guest's writer waits for room.
 *   2. a send to control: KICK (the guest freed receive buffers) wakes the
 *      I/O thread; HANGUP (the guest's reader closed) resets the connection.
 * The I/O thread sleeps in poll() on the listening socket, the client, and
 * an eventfd through which the hook wakes it:
 *   3. it writes out to the client as the client reads, and once out is at
 *      most half full, tells a waiting writer so (room, and the irq);
 *   4. it reads the client's bytes straight into the guest's free receive
 *      buffers (LHREQ_GETDMA), tags each with the connection's generation,
 *      and raises the irq once per batch.  With no free buffer it sets the
 *      page's want_kick, looks once more, and stops reading the client until
 *      the guest kicks: the client's bytes wait in its socket, and a client
 *      that sends too much blocks, as on any socket.  Nothing is polled
 *      while idle.
 *   5. it accepts one client at a time.  A second one, while the first is
 *      connected, is accepted and closed at once: it reads end-of-file
 *      before any byte (a client should say "another client holds the
 *      channel").  With no client, the guest's bytes are held in out, up to
 *      CHANNEL_HOLD; beyond that its writer blocks.
 *   6. when the client goes away (end-of-file, an error) the connection is
 *      reset: the generation is bumped in the page, out is emptied, and the
 *      irq raised.  The guest drops its buffers of the old generation, its
 *      reader learns of the reset, and we take nothing from a send of the
 *      old generation: no byte crosses from one client's connection into
 *      the next.  A HANGUP from the guest resets the same way; the old client
 *      first gets what of out its socket takes without waiting, then is
 *      closed.
 * Every buffer the guest gives us is checked against its memory before we
 * touch it, through a copy of its descriptor (the guest runs on meanwhile).
 * A buffer we found but cannot fill is filled with nothing (a header and no
 * bytes): the guest then empties it in turn, and the ring order holds.
 *
 * The socket is created mode 0600.  A socket file left by a dead launcher is
 * replaced; a live one (something answers connect()) is an error.  We remove
 * it when we exit, if it is still ours (a launcher killed by a signal leaves
 * it behind, for the next one to replace).
 */
#define _GNU_SOURCE		/* accept4, on_exit */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lguest.h"

#define CHANNEL_HOLD	(256 * 1024)	/* guest bytes we keep for the client */
#define CHANNEL_ROOM_AT	(CHANNEL_HOLD / 2)	/* free bytes that wake a writer */
#define CHANNEL_BACKLOG	4

/* The guest's bytes on their way to the client: a ring of CHANNEL_HOLD. */
struct ring {
	uint8_t *buf;
	size_t head;		/* the oldest byte */
	size_t len;
};

struct channel {
	struct guest *g;
	struct device *dev;
	struct lguest_channel_page *page;	/* shared with the guest */
	int listen_fd;
	dev_t sock_dev;		/* the socket file we made, to remove it */
	ino_t sock_ino;
	int wake_fd;		/* eventfd: the hook wakes the I/O thread */
	pthread_t thread;
	bool started;

	/* Shared by the hook and the I/O thread. */
	pthread_mutex_t lock;
	int client_fd;		/* -1: none; only the I/O thread opens or closes it */
	uint32_t gen;		/* the page's gen */
	uint32_t client_gen;	/* the generation of client_fd's connection */
	bool hung_up;		/* the guest ended client_gen: close client_fd */
	struct ring out;
	bool writer_waits;	/* a send was short: tell the guest of room */

	/* The I/O thread's own. */
	bool waits_buffers;	/* the guest had no free buffer: wait for KICK */

	/* counters (count_add: both threads bump them) */
	uint64_t clients, refused, resets, hangups;
	uint64_t to_guest_bytes, to_guest_buffers, buffer_waits, kicks, bad_buffers;
	uint64_t from_guest_bytes, short_sends, stale_sends, bad_sends, dropped_bytes;
	size_t most_held;
};

/* --- the ring ------------------------------------------------------------ */

/* Copy the bytes of iov after the first skip into the ring, as many as fit. */
static size_t ring_put(struct ring *r, const struct iovec *iov, int n, size_t skip)
{
	size_t took = 0;

	for (int i = 0; i < n && r->len < CHANNEL_HOLD; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		if (skip >= left) {
			skip -= left;
			continue;
		}
		p += skip;
		left -= skip;
		skip = 0;
		while (left && r->len < CHANNEL_HOLD) {
			size_t tail = (r->head + r->len) % CHANNEL_HOLD;
			size_t part = CHANNEL_HOLD - tail;

			if (part > CHANNEL_HOLD - r->len)
				part = CHANNEL_HOLD - r->len;
			if (part > left)
				part = left;
			memcpy(r->buf + tail, p, part);
			r->len += part;
			p += part;
			left -= part;
			took += part;
		}
	}
	return took;
}

/* The oldest bytes that lie in one piece. */
static size_t ring_peek(const struct ring *r, const uint8_t **p)
{
	size_t part = CHANNEL_HOLD - r->head;

	*p = r->buf + r->head;
	return part < r->len ? part : r->len;
}

static void ring_drop(struct ring *r, size_t n)
{
	r->head = (r->head + n) % CHANNEL_HOLD;
	r->len -= n;
	if (!r->len)
		r->head = 0;
}

/* --- the socket ------------------------------------------------------------ */

/* Does something accept connections at addr?  (A dead socket refuses them.) */
static bool socket_is_live(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno == EAGAIN;	/* its backlog is full: alive */
	close(fd);
	return live;
}

/* PATH is free for our socket: nothing there, or a dead socket, removed. */
static void channel_clear_path(struct device *dev, const struct sockaddr_un *addr)
{
	struct stat st;

	if (lstat(addr->sun_path, &st) < 0) {
		if (errno != ENOENT)
			device_die(dev, "%s", strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		device_die(dev, "exists and is not a socket (remove it, or choose another path)");
	if (socket_is_live(addr))
		device_die(dev, "a live socket: something (another lguest?) is listening there");
	if (unlink(addr->sun_path) < 0)
		device_die(dev, "cannot remove the old socket there: %s", strerror(errno));
}

/* At exit: remove the socket file, unless someone else's replaced it. */
static void channel_remove_socket(int status, void *arg)
{
	struct channel *ch = arg;
	struct stat st;

	(void)status;
	if (ch->listen_fd < 0)
		return;
	if (stat(ch->dev->arg, &st) == 0 && st.st_dev == ch->sock_dev &&
	    st.st_ino == ch->sock_ino)
		unlink(ch->dev->arg);
}

static void channel_listen(struct device *dev, struct channel *ch)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t mask;
	int fd, err;

	if (!dev->arg[0])
		device_die(dev, "no path for the socket");
	if (strlen(dev->arg) >= sizeof(addr.sun_path))
		device_die(dev, "too long for a unix socket's path (%zu bytes at most)",
			   sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, dev->arg);
	channel_clear_path(dev, &addr);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		device_die(dev, "cannot make a socket: %s", strerror(errno));
	mask = umask(0177);	/* the socket file is born 0600 */
	err = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? errno : 0;
	umask(mask);
	if (err)
		device_die(dev, "%s", strerror(err));
	if (stat(dev->arg, &st) < 0 || listen(fd, CHANNEL_BACKLOG) < 0) {
		err = errno;
		unlink(dev->arg);
		device_die(dev, "%s", strerror(err));
	}
	ch->listen_fd = fd;
	ch->sock_dev = st.st_dev;
	ch->sock_ino = st.st_ino;
	on_exit(channel_remove_socket, ch);
}

/* --- both threads ------------------------------------------------------------ */

static void channel_wake(struct channel *ch)
{
	uint64_t one = 1;

	if (write(ch->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the thread is awake anyway */
	}
}

/*
 * A new generation (under the lock): every byte in flight is dropped, and
 * the page says so.  The caller raises the irq once unlocked.
 */
static void channel_reset(struct channel *ch)
{
	ch->gen = ch->gen + 1 ? ch->gen + 1 : 1;
	__atomic_store_n(&ch->page->gen, ch->gen, __ATOMIC_SEQ_CST);
	count_add(&ch->dropped_bytes, ch->out.len);
	ch->out.head = ch->out.len = 0;
	ch->writer_waits = false;	/* the writer sees the new gen instead */
	count_add(&ch->resets, 1);
}

/*
 * Write out to the client until its socket is full (under the lock).  True
 * when a waiting writer should now be told of room.
 */
static bool channel_flush(struct channel *ch)
{
	const uint8_t *p;

	while (ch->out.len) {
		size_t part = ring_peek(&ch->out, &p);
		ssize_t n = send(ch->client_fd, p, part, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* full; an error shows as POLLERR or POLLHUP */
		ring_drop(&ch->out, n);
	}
	if (ch->writer_waits && CHANNEL_HOLD - ch->out.len >= CHANNEL_ROOM_AT) {
		ch->writer_waits = false;
		__atomic_add_fetch(&ch->page->room, 1, __ATOMIC_SEQ_CST);
		return true;
	}
	return false;
}

/* --- the hook: the guest's sends (vCPU thread, guest stopped) ------------------ */

/*
 * Take the bytes of iov (len in all) from the guest (under the lock): to the
 * client at once if nothing waits before them, the rest into out.
 */
static size_t channel_take(struct channel *ch, struct iovec *iov, int n, uint64_t len)
{
	bool was_empty = !ch->out.len;
	size_t took = 0;

	if (was_empty && ch->client_fd >= 0 && !ch->hung_up) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t sent = sendmsg(ch->client_fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (sent > 0)
			took = sent;
	}
	took += ring_put(&ch->out, iov, n, took);
	if (ch->out.len > ch->most_held)
		ch->most_held = ch->out.len;
	if (took < len) {
		ch->writer_waits = true;
		count_add(&ch->short_sends, 1);
	}
	if (was_empty && ch->out.len)
		channel_wake(ch);	/* the I/O thread now waits for POLLOUT */
	return took;
}

/* The guest's section 0 (a header or a control), copied out, or false. */
static bool section0(const struct guest *g, const struct lguest_dma *dma,
		     void *out, size_t size)
{
	const void *p;

	if (dma->len[0] < size || !(p = guest_ram(g, dma->addr[0], size)))
		return false;
	memcpy(out, p, size);
	return true;
}

static void channel_from_guest(struct guest *g, struct channel *ch, struct lguest_dma *dma)
{
	struct iovec iov[LGUEST_DMA_SECTIONS];
	struct lguest_channel_hdr hdr;
	uint64_t len;
	size_t took = 0;
	int n;

	if (!section0(g, dma, &hdr, sizeof(hdr)) ||
	    (n = dma_sections(g, dma, 1, iov, &len)) < 0) {
		count_add(&ch->bad_sends, 1);
		store_release_u32(&dma->used_len, 0);
		return;
	}
	pthread_mutex_lock(&ch->lock);
	if (hdr.gen != ch->gen)
		count_add(&ch->stale_sends, 1);	/* the guest sees gen, and stops */
	else if (n > 0)
		took = channel_take(ch, iov, n, len);
	pthread_mutex_unlock(&ch->lock);
	count_add(&ch->from_guest_bytes, took);
	store_release_u32(&dma->used_len, took);
}

static void channel_kick(struct guest *g, struct channel *ch, uint32_t gen)
{
	(void)g;
	(void)gen;
	count_add(&ch->kicks, 1);
	channel_wake(ch);
}

/* The guest's reader closed: connection gen is over, if it is the current one. */
static void channel_hangup(struct guest *g, struct channel *ch, uint32_t gen)
{
	bool reset = false;

	pthread_mutex_lock(&ch->lock);
	if (gen == ch->gen) {
		if (ch->client_fd >= 0 && !ch->hung_up) {
			channel_flush(ch);	/* what the socket takes now */
			/* the I/O thread closes it */
			__atomic_store_n(&ch->hung_up, true, __ATOMIC_RELEASE);
		}
		channel_reset(ch);
		count_add(&ch->hangups, 1);
		reset = true;
	}
	pthread_mutex_unlock(&ch->lock);
	if (reset) {
		channel_wake(ch);
		device_irq(g, ch->dev->irq);
	}
}

static void (*const control_ops[])(struct guest *, struct channel *, uint32_t) = {
	[LGUEST_CHANNEL_KICK] = channel_kick,
	[LGUEST_CHANNEL_HANGUP] = channel_hangup,
};

static void channel_control(struct guest *g, struct channel *ch, struct lguest_dma *dma)
{
	struct lguest_channel_control ctl;
	size_t nops = sizeof(control_ops) / sizeof(control_ops[0]);

	if (!section0(g, dma, &ctl, sizeof(ctl)) || ctl.op >= nops || !control_ops[ctl.op]) {
		count_add(&ch->bad_sends, 1);
		store_release_u32(&dma->used_len, 0);
		return;
	}
	control_ops[ctl.op](g, ch, ctl.gen);
	store_release_u32(&dma->used_len, sizeof(ctl));
}

/* Which of the page's keys the guest sent to, and who serves it. */
static const struct {
	size_t offset;
	void (*serve)(struct guest *g, struct channel *ch, struct lguest_dma *dma);
} channel_keys[] = {
	{ offsetof(struct lguest_channel_page, to_host), channel_from_guest },
	{ offsetof(struct lguest_channel_page, control), channel_control },
};

static void channel_dma(struct guest *g, struct device *dev, uint64_t key,
			struct lguest_dma *dma)
{
	for (size_t i = 0; i < sizeof(channel_keys) / sizeof(channel_keys[0]); i++) {
		if (key == dev->mem + channel_keys[i].offset) {
			channel_keys[i].serve(g, dev->state, dma);
			return;
		}
	}
	count_add(&((struct channel *)dev->state)->bad_sends, 1);
	store_release_u32(&dma->used_len, 0);
}

/* --- the I/O thread: the client's bytes into the guest's buffers ---------------- */

enum fill {
	FILLED,			/* a buffer got bytes */
	NO_BUFFER,		/* wait for a kick */
	CLIENT_GONE,		/* end-of-file or an error: reset */
};

/* A free buffer of the guest's at to_guest: its address, or 0 (with want_kick set). */
static uint64_t channel_free_buffer(struct channel *ch, unsigned int *irq)
{
	struct lguest_getdma req = {
		.request = LHREQ_GETDMA,
		.key = ch->dev->mem + offsetof(struct lguest_channel_page, to_guest),
	};

	if (write(ch->g->fd, &req, sizeof(req)) != sizeof(req)) {
		/* None: ask for a kick, then look once more (devices.h). */
		__atomic_store_n(&ch->page->want_kick, 1, __ATOMIC_SEQ_CST);
		if (write(ch->g->fd, &req, sizeof(req)) != sizeof(req))
			return 0;
		__atomic_store_n(&ch->page->want_kick, 0, __ATOMIC_SEQ_CST);
	}
	*irq = req.irq;
	return req.dma;
}

/*
 * Fill one free buffer with what the client sent (some bytes wait in its
 * socket), tagged with gen; *irq is the one the guest bound it with.  A
 * buffer found is always filled, if only with a header: the guest empties
 * its buffers in ring order, and skips none.
 */
static enum fill channel_fill(struct channel *ch, int fd, uint32_t gen, unsigned int *irq)
{
	struct iovec iov[LGUEST_DMA_SECTIONS];
	struct lguest_channel_hdr hdr = { .gen = gen };
	struct lguest_dma *buf, copy;
	struct msghdr m = { .msg_iov = iov };
	uint64_t addr, room;
	ssize_t got = 0;
	void *hdr_at;
	int n;

	addr = channel_free_buffer(ch, irq);
	if (!addr)
		return NO_BUFFER;
	buf = guest_ram(ch->g, addr, sizeof(*buf));
	if (!buf || (addr & 7))
		goto bad;
	memcpy(&copy, buf, sizeof(copy));	/* the guest runs on: use a copy */
	if (copy.len[0] < sizeof(hdr) || !(hdr_at = guest_ram(ch->g, copy.addr[0], sizeof(hdr))))
		goto bad;
	n = dma_sections(ch->g, &copy, 1, iov, &room);
	if (n < 0)
		goto bad;
	if (n > 0) {
		m.msg_iovlen = n;
		got = recvmsg(fd, &m, MSG_DONTWAIT);
	}
	memcpy(hdr_at, &hdr, sizeof(hdr));
	store_release_u32(&buf->used_len, sizeof(hdr) + (got > 0 ? got : 0));
	if (got == 0 && n > 0)
		return CLIENT_GONE;
	if (got < 0 && errno != EAGAIN && errno != EINTR)
		return CLIENT_GONE;
	count_add(&ch->to_guest_buffers, 1);
	count_add(&ch->to_guest_bytes, got > 0 ? got : 0);
	return FILLED;
bad:
	/* A buffer we cannot even tag: stop until the guest kicks. */
	count_add(&ch->bad_buffers, 1);
	return NO_BUFFER;
}

/* Bytes waiting in the client's socket: > 0, 0 at end-of-file, -1 for none yet. */
static int client_pending(int fd)
{
	int avail = 0;
	char c;
	ssize_t n;

	if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0)
		return avail;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return 1;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		return 0;
	return -1;
}

/* Whatever the client sent, into the guest's buffers; false: the client is gone. */
static bool channel_to_guest(struct channel *ch)
{
	unsigned int filled = 0, irq = 0;
	bool alive = true;
	uint32_t gen;
	int fd, pending;

	pthread_mutex_lock(&ch->lock);
	fd = ch->hung_up ? -1 : ch->client_fd;
	gen = ch->client_gen;
	pthread_mutex_unlock(&ch->lock);
	if (fd < 0)
		return true;
	while ((pending = client_pending(fd)) != -1) {
		enum fill f = pending ? channel_fill(ch, fd, gen, &irq) : CLIENT_GONE;

		if (f == NO_BUFFER) {
			ch->waits_buffers = true;
			count_add(&ch->buffer_waits, 1);
			break;
		}
		if (f == CLIENT_GONE) {
			alive = false;
			break;
		}
		filled++;
		if (__atomic_load_n(&ch->hung_up, __ATOMIC_ACQUIRE))
			break;
	}
	if (filled)
		device_irq(ch->g, irq);
	return alive;
}

/* --- the I/O thread: clients come and go ------------------------------------- */

/* Close the client (the lock held); reset unless the guest's hangup did. */
static void channel_drop_client(struct channel *ch)
{
	close(ch->client_fd);
	ch->client_fd = -1;
	if (!ch->hung_up)
		channel_reset(ch);
	ch->hung_up = false;
	ch->waits_buffers = false;
}

static void channel_accept(struct channel *ch)
{
	int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	bool busy;

	if (fd < 0)
		return;
	pthread_mutex_lock(&ch->lock);
	busy = ch->client_fd >= 0;
	if (!busy) {
		ch->client_fd = fd;
		ch->client_gen = ch->gen;
	}
	pthread_mutex_unlock(&ch->lock);
	if (busy) {
		close(fd);	/* one client at a time: it reads end-of-file */
		count_add(&ch->refused, 1);
		return;
	}
	count_add(&ch->clients, 1);
	verbose(ch->g, "--channel=%s: a client connected (generation %u)",
		ch->dev->arg, ch->client_gen);
}

enum { POLL_WAKE, POLL_LISTEN, POLL_CLIENT, POLL_FDS };

/* What to wait for: the client's bytes only while the guest has buffers. */
static void channel_poll_set(struct channel *ch, struct pollfd *p)
{
	p[POLL_WAKE] = (struct pollfd){ .fd = ch->wake_fd, .events = POLLIN };
	p[POLL_LISTEN] = (struct pollfd){ .fd = ch->listen_fd, .events = POLLIN };
	pthread_mutex_lock(&ch->lock);
	p[POLL_CLIENT] = (struct pollfd){ .fd = ch->client_fd };
	if (ch->client_fd >= 0 && !ch->hung_up) {
		p[POLL_CLIENT].events = (ch->waits_buffers ? 0 : POLLIN) |
					(ch->out.len ? POLLOUT : 0);
	}
	pthread_mutex_unlock(&ch->lock);
}

/* One turn after poll(): steps 3 to 6 of the story. */
static void channel_turn(struct channel *ch, const struct pollfd *p)
{
	short ev = p[POLL_CLIENT].revents;
	bool room = false, gone = false, reset = false;
	uint64_t count;

	if (p[POLL_WAKE].revents && read(ch->wake_fd, &count, sizeof(count)) > 0)
		ch->waits_buffers = false;	/* a kick, perhaps: look again */

	pthread_mutex_lock(&ch->lock);
	if (ch->client_fd >= 0 && ch->hung_up)
		channel_drop_client(ch);	/* reset already, by the hangup */
	else if (ch->client_fd >= 0 && ch->out.len)
		room = channel_flush(ch);
	pthread_mutex_unlock(&ch->lock);

	if (ch->client_fd >= 0 && !ch->waits_buffers &&
	    ((ev & POLLIN) || p[POLL_WAKE].revents))
		gone = !channel_to_guest(ch);
	if (ch->client_fd >= 0 && p[POLL_CLIENT].fd == ch->client_fd &&
	    (gone || (ev & (POLLERR | POLLHUP)))) {
		pthread_mutex_lock(&ch->lock);
		reset = !ch->hung_up;
		channel_drop_client(ch);
		pthread_mutex_unlock(&ch->lock);
		verbose(ch->g, "--channel=%s: the client went away", ch->dev->arg);
	}
	if (room || reset)
		device_irq(ch->g, ch->dev->irq);
	if (p[POLL_LISTEN].revents & POLLIN)
		channel_accept(ch);	/* after the old client's end, not before */
}

static void *channel_thread(void *arg)
{
	struct channel *ch = arg;
	struct pollfd p[POLL_FDS];

	for (;;) {
		channel_poll_set(ch, p);
		if (poll(p, POLL_FDS, -1) < 0 && errno != EINTR)
			break;
		if (__atomic_load_n(&ch->g->stopping, __ATOMIC_ACQUIRE))
			break;
		channel_turn(ch, p);
	}
	return NULL;
}

/* --- the device's life ------------------------------------------------------- */

static void channel_open(struct guest *g, struct device *dev)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (!ch || !(ch->out.buf = malloc(CHANNEL_HOLD)))
		die("out of memory");
	ch->g = g;
	ch->dev = dev;
	ch->listen_fd = -1;
	ch->client_fd = -1;
	ch->gen = 1;
	pthread_mutex_init(&ch->lock, NULL);
	dev->state = ch;
	ch->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch->wake_fd < 0)
		device_die(dev, "cannot make an eventfd: %s", strerror(errno));
	channel_listen(dev, ch);
}

static void channel_map(struct guest *g, struct device *dev)
{
	struct channel *ch = dev->state;

	(void)g;
	ch->page = (struct lguest_channel_page *)dev->page;
	memset(ch->page, 0, sizeof(*ch->page));
	ch->page->gen = ch->gen;
	dev->desc->type = LGUEST_DEVICE_CHANNEL;
}

static void channel_start(struct guest *g, struct device *dev)
{
	struct channel *ch = dev->state;
	sigset_t all, old;

	(void)g;
	/* Signals are for the main thread, whose read() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&ch->thread, NULL, channel_thread, ch) != 0)
		device_die(dev, "cannot start its thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ch->started = true;
}

/* The guest is gone: stop the thread, close the client, remove the socket. */
static void channel_stop(struct guest *g, struct device *dev)
{
	struct channel *ch = dev->state;

	(void)g;
	if (ch->started) {
		channel_wake(ch);	/* it sees g->stopping */
		pthread_join(ch->thread, NULL);
		ch->started = false;
	}
	if (ch->client_fd >= 0)
		close(ch->client_fd);
	ch->client_fd = -1;
	channel_remove_socket(0, ch);
	close(ch->listen_fd);
	ch->listen_fd = -1;
}

static void channel_report(const struct guest *g, const struct device *dev, bool at_exit)
{
	const struct channel *ch = dev->state;
	unsigned int n = 0;

	for (unsigned int i = 0; i < dev->index; i++)
		n += g->devices[i].ops == dev->ops;
	if (!at_exit) {
		verbose(g, "  %u: channel, /dev/lgchan%u, socket %s, irq %u, page %#llx",
			dev->index, n, dev->arg, dev->irq, (unsigned long long)dev->mem);
		return;
	}
	verbose(g, "--channel=%s: %llu clients (%llu refused: another was connected), %llu resets (%llu by the guest); to the guest %llu bytes in %llu buffers, %llu waits for a free buffer, %llu bad buffers; from the guest %llu bytes, %llu short sends, at most %zu bytes held, %llu dropped by resets, %llu sends of an old generation, %llu bad sends",
		dev->arg, (unsigned long long)ch->clients, (unsigned long long)ch->refused,
		(unsigned long long)ch->resets, (unsigned long long)ch->hangups,
		(unsigned long long)ch->to_guest_bytes, (unsigned long long)ch->to_guest_buffers,
		(unsigned long long)ch->buffer_waits, (unsigned long long)ch->bad_buffers,
		(unsigned long long)ch->from_guest_bytes, (unsigned long long)ch->short_sends,
		ch->most_held, (unsigned long long)ch->dropped_bytes,
		(unsigned long long)ch->stale_sends, (unsigned long long)ch->bad_sends);
}

const struct device_ops channel_ops = {
	.option = "channel",
	.open = channel_open,
	.map = channel_map,
	.start = channel_start,
	.dma = channel_dma,
	.stop = channel_stop,
	.report = channel_report,
};
