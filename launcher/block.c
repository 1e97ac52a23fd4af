/*
 * block.c: --block=FILE, a file or block device that the guest sees as a
 * disk (/dev/lgba for the first, /dev/lgbb for the next...).
 *
 * The guest asks for I/O by sending to the device's key (the address of its
 * page): section 0 of what it sends is a struct lguest_block_req (operation,
 * flags, first sector, status), the other sections are the data, to be read
 * into or written from.  lg.ko finds nobody bound there and hands the send to
 * us (LGUEST_EXIT_DMA) with the guest stopped.  We check the request and copy
 * what we need out of it, answer "taken" (a nonzero used_len) and let the
 * guest run on at once: the I/O itself is done by a few threads of ours,
 * straight between the file and guest memory (preadv, pwritev).  When one
 * finishes it writes the request's status (after the data, with a barrier
 * between) and raises the device's interrupt.  So a guest can have many
 * requests in flight, and a slow disk never stops its processor.
 *
 * A request we cannot do (beyond the end of the disk, a write to a read-only
 * file, a section outside the guest's RAM...) is completed at once with
 * LGUEST_BLOCK_ERROR, the same way: used_len nonzero, status, interrupt.  Only
 * a request whose status we cannot even find (section 0 missing, too short or
 * outside RAM) is refused with used_len 0, and no interrupt.
 *
 * Durability: a FLUSH makes every completed write durable (fdatasync); a
 * write with LGUEST_BLOCK_FUA is durable before it completes.  When the guest
 * is gone we wait for whatever is in flight and flush once more.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lguest.h"

#define SECTOR		512
#define IO_THREADS	4
#define QUEUE_MAX	128	/* requests waiting; beyond, the guest waits */

struct block_request {
	struct block_request *next;
	uint32_t op, flags;
	uint64_t sector;
	uint8_t *status;	/* in the guest's struct lguest_block_req */
	int niov;
	struct iovec iov[LGUEST_DMA_SECTIONS - 1];
	uint64_t bytes;
};

struct block {
	struct guest *g;
	struct device *dev;
	int fd;
	bool read_only;
	uint64_t capacity;	/* sectors */

	pthread_mutex_t lock;
	pthread_cond_t work;	/* a request is queued */
	pthread_cond_t room;	/* the queue has room again */
	pthread_cond_t idle;	/* nothing in flight */
	struct block_request *head, *tail;
	unsigned int queued;	/* waiting for a thread */
	unsigned int in_flight;	/* queued or being done */
	unsigned int most_in_flight;

	/* counters */
	uint64_t reads, writes, flushes, errors, bytes_read, bytes_written;
};

static bool refused_for_writing(int err)
{
	return err == EACCES || err == EPERM || err == EROFS;
}

static void block_open(struct guest *g, struct device *dev)
{
	struct block *b = calloc(1, sizeof(*b));
	struct stat st;
	uint64_t size;

	if (!b)
		die("out of memory");
	b->g = g;
	b->dev = dev;
	dev->state = b;

	b->fd = open(dev->arg, O_RDWR | O_CLOEXEC);
	if (b->fd < 0 && refused_for_writing(errno)) {
		int why = errno;

		b->fd = open(dev->arg, O_RDONLY | O_CLOEXEC);
		if (b->fd >= 0) {
			b->read_only = true;
			device_note(dev, "read-only (%s): the guest's writes to it will fail",
				    strerror(why));
		}
	}
	if (b->fd < 0)
		device_die(dev, "%s", strerror(errno));
	if (fstat(b->fd, &st) < 0)
		device_die(dev, "%s", strerror(errno));
	if (S_ISREG(st.st_mode))
		size = st.st_size;
	else if (!S_ISBLK(st.st_mode))
		device_die(dev, "not a file or a block device");
	else if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
		device_die(dev, "cannot find its size: %s", strerror(errno));
	b->capacity = size / SECTOR;
	if (!b->capacity)
		device_die(dev, "empty: a disk needs at least one %d-byte sector", SECTOR);
	if (size % SECTOR)
		device_note(dev, "its last %llu bytes are not a whole sector: the guest will not see them",
			    (unsigned long long)(size % SECTOR));

	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->room, NULL);
	pthread_cond_init(&b->idle, NULL);
}

static void block_map(struct guest *g, struct device *dev)
{
	struct block *b = dev->state;

	(void)g;
	dev->desc->type = LGUEST_DEVICE_BLOCK;
	dev->desc->features = b->read_only ? LGUEST_BLOCK_F_RO : 0;
	dev->desc->config.block.capacity = b->capacity;
}

/* preadv or pwritev until all of it is done (they may do less). */
static bool transfer_all(int fd, bool write, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false;	/* an error, or the file shrank under us */
		off += done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return true;
}

static uint32_t block_do(struct block *b, struct block_request *r)
{
	off_t off = r->sector * SECTOR;

	switch (r->op) {
	case LGUEST_BLOCK_READ:
		if (!transfer_all(b->fd, false, r->iov, r->niov, off))
			return LGUEST_BLOCK_ERROR;
		count_add(&b->reads, 1);
		count_add(&b->bytes_read, r->bytes);
		return LGUEST_BLOCK_DONE;
	case LGUEST_BLOCK_WRITE:
		if (!transfer_all(b->fd, true, r->iov, r->niov, off))
			return LGUEST_BLOCK_ERROR;
		if ((r->flags & LGUEST_BLOCK_FUA) && fdatasync(b->fd) < 0)
			return LGUEST_BLOCK_ERROR;
		count_add(&b->writes, 1);
		count_add(&b->bytes_written, r->bytes);
		return LGUEST_BLOCK_DONE;
	case LGUEST_BLOCK_FLUSH:
		if (!b->read_only && fdatasync(b->fd) < 0)
			return LGUEST_BLOCK_ERROR;
		count_add(&b->flushes, 1);
		return LGUEST_BLOCK_DONE;
	}
	return LGUEST_BLOCK_ERROR;	/* block_dma lets no other op through */
}

/* The status, then the interrupt: the guest may look as soon as it sees it. */
static void complete(struct block *b, uint8_t *status, uint32_t value)
{
	if (value != LGUEST_BLOCK_DONE)
		count_add(&b->errors, 1);
	store_release_u32(status, value);
	device_irq(b->g, b->dev->irq);
}

static void *io_thread(void *arg)
{
	struct block *b = arg;

	for (;;) {
		struct block_request *r;

		pthread_mutex_lock(&b->lock);
		while (!b->head)
			pthread_cond_wait(&b->work, &b->lock);
		r = b->head;
		b->head = r->next;
		if (!b->head)
			b->tail = NULL;
		b->queued--;
		pthread_cond_signal(&b->room);
		pthread_mutex_unlock(&b->lock);

		complete(b, r->status, block_do(b, r));
		free(r);

		pthread_mutex_lock(&b->lock);
		if (--b->in_flight == 0)
			pthread_cond_broadcast(&b->idle);
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

static void block_start(struct guest *g, struct device *dev)
{
	struct block *b = dev->state;
	pthread_t thread;
	sigset_t all, old;

	(void)g;
	/* Signals are for the main thread, whose read() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < IO_THREADS; i++) {
		if (pthread_create(&thread, NULL, io_thread, b) != 0)
			device_die(dev, "cannot start its I/O threads");
		pthread_detach(thread);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Hand a request to the I/O threads; a full queue makes the guest wait. */
static void enqueue(struct block *b, struct block_request *r)
{
	pthread_mutex_lock(&b->lock);
	while (b->queued >= QUEUE_MAX)
		pthread_cond_wait(&b->room, &b->lock);
	r->next = NULL;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	b->queued++;
	if (++b->in_flight > b->most_in_flight)
		b->most_in_flight = b->in_flight;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->lock);
}

/* Is this request one we can do?  The reason if not, for --verbose. */
static const char *check_request(const struct block *b, const struct block_request *r)
{
	switch (r->op) {
	case LGUEST_BLOCK_FLUSH:
		return NULL;
	case LGUEST_BLOCK_READ:
	case LGUEST_BLOCK_WRITE:
		if (r->op == LGUEST_BLOCK_WRITE && b->read_only)
			return "a write to a read-only disk";
		if (!r->bytes || r->bytes % SECTOR)
			return "a length that is not a whole number of sectors";
		if (r->sector > b->capacity || r->bytes / SECTOR > b->capacity - r->sector)
			return "beyond the end of the disk";
		return NULL;
	}
	return "an unknown operation";
}

static void block_dma(struct guest *g, struct device *dev, uint64_t key,
		      struct lguest_dma *dma)
{
	struct block *b = dev->state;
	struct lguest_block_req hdr;
	struct block_request *r;
	const char *why;
	uint8_t *req;

	if (key != dev->mem || dma->len[0] < sizeof(hdr) ||
	    !(req = guest_ram(g, dma->addr[0], dma->len[0]))) {
		verbose(g, "--block=%s: %s: refused", dev->arg, key != dev->mem ?
			"a send beside the device's key" : "a request with no header");
		count_add(&b->errors, 1);
		store_release_u32(&dma->used_len, 0);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		die("out of memory");
	memcpy(&hdr, req, sizeof(hdr));
	r->op = hdr.op;
	r->flags = hdr.flags;
	r->sector = hdr.sector;
	r->status = req + offsetof(struct lguest_block_req, status);
	r->niov = dma_sections(g, dma, 1, r->iov, &r->bytes);

	store_release_u32(&dma->used_len, dma->len[0] + (r->niov > 0 ? r->bytes : 0));
	why = r->niov < 0 ? "a data section outside the guest's RAM" : check_request(b, r);
	if (why) {
		verbose(g, "--block=%s: request %u for sector %llu: %s", dev->arg, r->op,
			(unsigned long long)r->sector, why);
		complete(b, r->status, LGUEST_BLOCK_ERROR);
		free(r);
		return;
	}
	enqueue(b, r);
}

/* The guest is gone: let the threads finish, and make it all durable. */
static void block_stop(struct guest *g, struct device *dev)
{
	struct block *b = dev->state;

	(void)g;
	pthread_mutex_lock(&b->lock);
	while (b->in_flight)
		pthread_cond_wait(&b->idle, &b->lock);
	pthread_mutex_unlock(&b->lock);
	if (!b->read_only && fdatasync(b->fd) < 0)
		device_note(dev, "cannot flush it: %s", strerror(errno));
}

static void block_report(const struct guest *g, const struct device *dev,
			 bool at_exit)
{
	const struct block *b = dev->state;
	unsigned int letter = 0;

	for (unsigned int i = 0; i < dev->index; i++)
		letter += g->devices[i].ops == &block_ops;
	if (at_exit) {
		verbose(g, "lgb%c: %s: %llu reads (%llu bytes), %llu writes (%llu bytes), %llu flushes, %llu errors, max %u in flight",
			'a' + letter, dev->arg, (unsigned long long)b->reads,
			(unsigned long long)b->bytes_read, (unsigned long long)b->writes,
			(unsigned long long)b->bytes_written, (unsigned long long)b->flushes,
			(unsigned long long)b->errors, b->most_in_flight);
		return;
	}
	verbose(g, "  %u: block, /dev/lgb%c is %s, %llu sectors (%llu MiB)%s, irq %u, key %#llx",
		dev->index, 'a' + letter, dev->arg, (unsigned long long)b->capacity,
		(unsigned long long)(b->capacity * SECTOR >> 20),
		b->read_only ? ", read-only" : "", dev->irq,
		(unsigned long long)dev->mem);
}

const struct device_ops block_ops = {
	.option = "block",
	.open = block_open,
	.map = block_map,
	.start = block_start,
	.dma = block_dma,
	.stop = block_stop,
	.report = block_report,
};
