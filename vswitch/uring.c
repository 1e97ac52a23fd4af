/*
 * uring.c: tap ports' frames in and out through one io_uring.
 *
 * A tap gives one frame per read() and takes one per write(), so a switch
 * that forwards small frames spends most of its time entering and leaving
 * the kernel: two system calls per frame, and an epoll_wait per batch.
 * Here each tap port instead keeps reads posted in a ring that the kernel
 * completes as frames arrive (a few under light traffic, up to RX_BUFS
 * under a flood: see adapt_and_repost()), and a frame for a tap becomes a write
 * queued in the same ring.  Once per turn of the event loop, uring_submit()
 * hands the kernel every write and every re-posted read at once; the writes
 * (a tap never makes a writer wait) and the reads that find a frame waiting
 * complete right there.  The ring's descriptor sits in the epoll set like
 * any other: it is readable when completions wait.
 *
 * The descriptor stays non-blocking: to io_uring that says the file can be
 * tried without waiting, so a read with no frame waiting is parked on the
 * tap's poll queue and done when one comes.  (A blocking tap descriptor
 * would make io_uring hand every read and write to a worker thread.)
 *
 * Each port's buffers live in a "tap_io" that outlives the port: when the
 * port goes, its requests are cancelled, and the buffers are freed only
 * when the last of them has come back, since until then the kernel may
 * still write into them.  The tap_io has its own duplicate of the tap's
 * descriptor, closed with it: requests name descriptors by number, and a
 * number closed too early could be reused by the next port.
 *
 * Without io_uring (a kernel that lacks it, a sandbox that forbids it, or
 * --no-io-uring), uring_new() returns NULL and taps use read() and write().
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vswitch.h"

#define RING_ENTRIES	1024
#define RX_BUFS		32	/* reads posted per tap, at most */
#define RX_START	4	/* ... at first */
#define TX_BUFS		256	/* writes in flight per tap */
#define CQE_BATCH	64	/* completions taken from the ring at a time */
#define CQE_BUDGET	1024	/* ... and at most this many per wakeup */

enum { OP_READ = 1, OP_WRITE, OP_CANCEL };

struct tap_io;
/* What a completion's user_data points to: one buffer of one port. */
struct io_slot {
	struct tap_io *io;
	uint16_t index;
	uint8_t op;
};

struct tap_io {
	struct uring *u;
	struct port *p;		/* NULL once the port is gone */
	int fd;
	unsigned int inflight;	/* requests the kernel has not returned */
	size_t buf_size;
	uint8_t *rx, *tx;	/* RX_BUFS and TX_BUFS buffers of buf_size */
	struct io_slot rx_slot[RX_BUFS], tx_slot[TX_BUFS];
	uint16_t tx_free[TX_BUFS], rx_free[RX_BUFS];
	unsigned int ntx_free, nrx_free;
	unsigned int reads;	/* reads posted */
	unsigned int target;	/* reads to keep posted, following the load */
	unsigned int done;	/* frames read in this wakeup */
	struct tap_io *next_touched;	/* in the wakeup's list, if touched */
	bool touched;
	bool released;		/* on its way to the loop's graveyard */
};

struct uring {
	struct io_uring ring;
	struct watch watch;
	struct vswitch *sw;
	unsigned int pending;	/* SQEs not yet submitted */
	unsigned int live;	/* tap_io structs, with ports or still draining */
	struct io_slot cancel_slot;
	struct tap_io *touched;	/* taps whose reads came back in this wakeup */
};

static void tap_io_free(void *arg)
{
	struct tap_io *io = arg;

	if (io->fd >= 0)
		close(io->fd);
	free(io->rx);
	free(io->tx);
	free(io);
}

/*
 * Free IO once its port is gone and the kernel gave back every buffer; not
 * at once, but after the loop's batch (a completion being handled may be
 * one of IO's).
 */
static void tap_io_release(struct tap_io *io)
{
	if (io->p || io->inflight || io->released)
		return;
	io->released = true;
	io->u->live--;
	loop_defer_free(&io->u->sw->loop, io, tap_io_free);
}

/* An SQE to fill; when the ring is full, what it holds goes in first. */
static struct io_uring_sqe *next_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		uring_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (sqe)
		u->pending++;
	return sqe;
}

/* Post reads until TARGET are posted; false if the ring had no room. */
static bool post_reads(struct tap_io *io)
{
	while (io->reads < io->target && io->nrx_free) {
		struct io_uring_sqe *sqe = next_sqe(io->u);
		unsigned int i;

		if (!sqe)
			return false;
		i = io->rx_free[--io->nrx_free];
		io_uring_prep_read(sqe, io->fd, io->rx + i * io->buf_size,
				   (unsigned int)io->buf_size, 0);
		io_uring_sqe_set_data(sqe, &io->rx_slot[i]);
		io->inflight++;
		io->reads++;
	}
	return true;
}

/*
 * How many reads to keep posted.  Every posted read waits on the tap's
 * poll queue, and a frame wakes them all; so under light traffic a few
 * (one frame at a time costs little), under a flood many (a wakeup then
 * takes up to RX_BUFS frames in one go).  A wakeup that used every read
 * doubles them, one that used under a quarter halves them.
 */
static void adapt_and_repost(struct tap_io *io)
{
	if (io->done >= io->target && io->target < RX_BUFS)
		io->target = io->target * 2 > RX_BUFS ? RX_BUFS : io->target * 2;
	else if (io->done * 4 < io->target && io->target > 1)
		io->target /= 2;
	io->done = 0;
	if (io->p && !post_reads(io))
		port_remove(io->p, "no room in the io_uring to read");
}

static void read_done(struct tap_io *io, unsigned int i, int res)
{
	struct port *p = io->p;
	char why[128];

	io->reads--;
	io->rx_free[io->nrx_free++] = (uint16_t)i;
	if (!p)
		return;
	if (!io->touched) {	/* its reads are posted again after the wakeup */
		io->touched = true;
		io->next_touched = io->u->touched;
		io->u->touched = io;
	}
	if (res > (int)io->buf_size) {	/* the tap's MTU was raised under us */
		p->c.rx_frames++;
		p->c.rx_bytes += (uint64_t)res;
		p->c.rx_oversize++;
	} else if (res > 0) {
		io->done++;
		forward_frame(p->sw, p, io->rx + i * io->buf_size, (size_t)res);
	} else if (res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
		snprintf(why, sizeof(why), "the interface went away (read: %s)",
			 res ? strerror(-res) : "end of file");
		port_remove(p, why);
	}
}

/* A frame left (or failed to): count it, and record it if captured. */
static void write_done(struct tap_io *io, unsigned int i, int res)
{
	struct port *p = io->p;

	io->tx_free[io->ntx_free++] = (uint16_t)i;
	if (!p)
		return;
	if (res < 0) {
		p->c.tx_error++;
		return;
	}
	p->c.tx_frames++;
	p->c.tx_bytes += (uint64_t)res;
	if (p->capture.n &&
	    !capture_frame(p->sw->cap, p->index, false, io->tx + i * io->buf_size, (size_t)res))
		p->c.capture_drop++;
}

static void handle_cqes(struct io_uring_cqe **cqes, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct io_slot *s = io_uring_cqe_get_data(cqes[i]);
		int res = cqes[i]->res;
		struct tap_io *io = s->io;

		if (s->op == OP_CANCEL)
			continue;
		io->inflight--;
		if (s->op == OP_READ)
			read_done(io, s->index, res);
		else
			write_done(io, s->index, res);
		tap_io_release(io);
	}
}

static void uring_event(struct watch *w, uint32_t events)
{
	struct uring *u = container_of(w, struct uring, watch);
	struct io_uring_cqe *cqes[CQE_BATCH];
	unsigned int n;
	int budget;

	(void)events;
	/* All that is there (a write's slot is free only once reaped), within
	 * a budget so that other descriptors get their turn. */
	for (budget = CQE_BUDGET; budget > 0; budget -= (int)n) {
		n = io_uring_peek_batch_cqe(&u->ring, cqes, CQE_BATCH);
		if (!n)
			break;
		handle_cqes(cqes, n);
		io_uring_cq_advance(&u->ring, n);
	}
	/* (A touched tap_io is not freed before the loop's batch ends.) */
	while (u->touched) {
		struct tap_io *io = u->touched;

		u->touched = io->next_touched;
		io->touched = false;
		adapt_and_repost(io);
	}
}

struct uring *uring_new(struct vswitch *sw, char *err, size_t errlen)
{
	struct uring *u = calloc(1, sizeof(*u));
	struct io_uring_params params = { .flags = IORING_SETUP_CQSIZE,
					  .cq_entries = 4 * RING_ENTRIES };
	int r;

	if (!u) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	r = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &params);
	if (r < 0) {
		snprintf(err, errlen, "%s", strerror(-r));
		free(u);
		return NULL;
	}
	u->sw = sw;
	u->cancel_slot.op = OP_CANCEL;
	u->watch.fd = u->ring.ring_fd;
	u->watch.fn = uring_event;
	r = loop_add(&sw->loop, &u->watch, EPOLLIN);
	if (r < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-r));
		io_uring_queue_exit(&u->ring);
		free(u);
		return NULL;
	}
	return u;
}

void uring_free(struct uring *u)
{
	if (!u)
		return;
	/* Let the cancelled requests of removed ports come back, to free all. */
	while (u->live) {
		struct __kernel_timespec ts = { .tv_nsec = 100000000 };
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) < 0)
			break;
		uring_event(&u->watch, EPOLLIN);
	}
	loop_del(&u->sw->loop, &u->watch);
	io_uring_queue_exit(&u->ring);	/* what is still in flight is left (we are exiting) */
	free(u);
}

void uring_submit(struct uring *u)
{
	int r;

	/* What the kernel did not take (EBUSY, say) stays queued for next time. */
	if (u && u->pending) {
		r = io_uring_submit(&u->ring);
		if (r > 0)
			u->pending = (unsigned int)r >= u->pending ? 0 : u->pending - (unsigned int)r;
	}
}

/* Cancel everything IO has in flight; it is freed when all came back. */
static void uring_tap_stop_io(struct tap_io *io)
{
	struct uring *u = io->u;
	struct io_uring_sqe *sqe;

	io->p = NULL;
	/* What is still queued goes in first, for the cancel to find it. */
	uring_submit(u);
	if (!io->inflight) {
		tap_io_release(io);
		return;
	}
	sqe = next_sqe(u);
	if (sqe) {
		io_uring_prep_cancel_fd(sqe, io->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data(sqe, &u->cancel_slot);
	}
	uring_submit(u);
}

int uring_tap_start(struct uring *u, struct port *p)
{
	struct tap_io *io = calloc(1, sizeof(*io));
	unsigned int i;
	int r;

	if (!io)
		return -ENOMEM;
	io->fd = -1;
	io->u = u;
	u->live++;
	/* The largest frame the tap can give: its MTU, a header, a VLAN tag. */
	io->buf_size = p->conf.mtu + ETH_HLEN_ + VLAN_HLEN_;
	io->rx = malloc(RX_BUFS * io->buf_size);
	io->tx = malloc(TX_BUFS * io->buf_size);
	if (!io->rx || !io->tx) {
		u->live--;
		tap_io_free(io);
		return -ENOMEM;
	}
	io->p = p;
	io->fd = fcntl(p->watch.fd, F_DUPFD_CLOEXEC, 0);
	if (io->fd < 0) {
		r = -errno;
		u->live--;
		tap_io_free(io);
		return r;
	}
	for (i = 0; i < RX_BUFS; i++) {
		io->rx_slot[i] = (struct io_slot){ io, (uint16_t)i, OP_READ };
		io->rx_free[i] = (uint16_t)(RX_BUFS - 1 - i);
	}
	io->nrx_free = RX_BUFS;
	io->target = RX_START;
	for (i = 0; i < TX_BUFS; i++) {
		io->tx_slot[i] = (struct io_slot){ io, (uint16_t)i, OP_WRITE };
		io->tx_free[i] = (uint16_t)(TX_BUFS - 1 - i);
	}
	io->ntx_free = TX_BUFS;
	if (!post_reads(io)) {
		/* Those posted come back cancelled and free io. */
		uring_tap_stop_io(io);
		return -ENOSPC;
	}
	p->io = io;
	uring_submit(u);
	return 0;
}

void uring_tap_stop(struct port *p)
{
	if (p->io) {
		uring_tap_stop_io(p->io);
		p->io = NULL;
	}
}

bool uring_tap_send(struct port *p, const uint8_t *frame, size_t len)
{
	struct tap_io *io = p->io;
	struct io_uring_sqe *sqe;
	uint8_t *buf;
	uint16_t i;

	if (!io->ntx_free || len > io->buf_size)
		return false;
	sqe = next_sqe(io->u);
	if (!sqe)
		return false;
	i = io->tx_free[--io->ntx_free];
	buf = io->tx + i * io->buf_size;
	memcpy(buf, frame, len);
	io_uring_prep_write(sqe, io->fd, buf, (unsigned int)len, 0);
	io_uring_sqe_set_data(sqe, &io->tx_slot[i]);
	io->inflight++;
	return true;
}
