/*
 * capture.c: recording ports to pcap files, without slowing the switch.
 *
 * Writing a file can block (a slow disk, a full page cache), and the
 * forwarding thread must never block.  So the forwarding thread only copies
 * each frame it sends or receives on a captured port, with the time, into
 * a ring in memory; a writer thread of its own takes the frames out of the
 * ring and hands them to libpcap's dump API.  The ring has one producer and
 * one consumer, which need no lock: two positions that only grow, each
 * written by one side and read by the other.  When the ring is full the
 * frame is not recorded, and the port's capture_drop counter says so: a
 * capture may miss frames under overload, the switch never stalls for it.
 *
 * Frames are recorded at points (capture.h): each port's wire, and the
 * switch's input.  A point has up to CAPTURE_PER_POINT captures ("sinks",
 * each a file of its own), and a frame is one record in the ring however
 * many sinks want it: the record names the port whose wire it was on and
 * says whether it was entering the switch, and the writer writes it to every
 * sink of those points.  So a frame entering a captured port of a captured
 * switch is copied into the ring once, not once per file.
 *
 * Opening and closing a capture travel through the same ring as the frames,
 * so they happen in order: a capture started before a port's first frame
 * holds that frame, one started later holds only the frames after it, and a
 * file closed holds everything sent before the close.  That is also why a
 * record need not list its sinks: at every record, the writer's idea of a
 * point's sinks is the forwarding thread's when it wrote the record.  The
 * forwarding thread opens the file itself (fopen), so that a bad path is an
 * error for whoever asked, at once; libpcap writes the header in the writer
 * thread.
 *
 * The writer is woken only when it is worth it.  Woken for every turn of the
 * event loop, it would take the CPU from the forwarding thread tens of
 * thousands of times a second, for a few frames each time.  So after
 * finding frames it naps (NAP_MS) and takes what came meanwhile in one
 * go; the forwarding thread wakes a napping writer only if the ring fills
 * past a quarter, and wakes an idle one (it found nothing last time) at
 * once, so a lone frame reaches a live view without delay.
 *
 * Files are pcap with nanosecond timestamps (pcap_open_dead_with_tstamp_
 * precision), full frames.  The writer flushes them when traffic pauses
 * (200 ms) and at least every second under load, so after a crash a file is
 * valid up to its last flush; a clean stop closes them.  A capture with a
 * size limit rotates: FILE grows to the limit, then is renamed FILE.1 (the
 * older FILE.1 to FILE.2...), keeping COUNT files in all.  SIGHUP reopens
 * every file (for logrotate and friends).  A FIFO gives a live view
 * (wireshark -k -i FIFO): it must have its reader before the capture starts;
 * so does tcp@ADDR:PORT, a listener whose one client gets the live stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "vswitch.h"

/* Sink K of point P is slot P * CAPTURE_PER_POINT + K. */
#define CAP_SLOTS (CAPTURE_POINTS * CAPTURE_PER_POINT)
#define NO_PORT 0xffff
#define FLUSH_IDLE_MS 200
#define NAP_MS 10
#define STUCK_MS 2000
#define FLUSH_BUSY_NS 1000000000ull

enum rec_type { REC_FRAME, REC_OPEN, REC_CLOSE, REC_REOPEN, REC_STOP, REC_WRAP };

struct rec {
	uint32_t type, len;
	uint16_t port;		/* REC_FRAME: on this port's wire, or NO_PORT */
	uint8_t switch_in;	/* REC_FRAME: and entering the switch */
	uint8_t pad;
	uint32_t slot;		/* REC_OPEN, REC_CLOSE: the sink */
	uint64_t ts_ns;		/* CLOCK_REALTIME */
	/* then len bytes */
};

struct open_args {
	FILE *fp;		/* a file or FIFO, or NULL when... */
	int listen_fd;		/* ...it is a tcp@ listener: the writer accepts */
	uint64_t rotate_size;
	uint32_t rotate_count;
	char path[];
};

/* The forwarding thread's side of a capture. */
struct sink {
	char *path;		/* NULL: a free slot */
	uint64_t seq;		/* when it started, for listing oldest first */
	uint64_t rotate_size;
	unsigned int rotate_count;
};

/* The writer's side of a capture. */
struct writer_slot {
	pcap_dumper_t *dumper;
	int listen_fd;		/* tcp@: -1 for files */
	char *path;
	uint64_t rotate_size, written;
	unsigned int rotate_count;
	bool dirty, failed;
};

/* What the writer is doing, for the forwarding thread to know when to wake it. */
enum writer_state { WRITER_AWAKE, WRITER_NAPPING, WRITER_IDLE };

struct capture {
	uint8_t *ring;
	size_t size;
	_Atomic size_t head;	/* written by the forwarding thread */
	_Atomic size_t tail;	/* written by the writer thread */
	_Atomic int state;	/* enum writer_state, written by both */
	int efd;
	bool kick_pending;	/* frames were committed since the last kick */
	size_t stuck_at;	/* the writer was found stuck with tail here (+1), or 0 */
	bool started;		/* the writer runs (from the first capture on) */
	pthread_t thread;
	pcap_t *dead;
	/* the forwarding thread's side */
	struct sink sink[CAP_SLOTS];
	uint64_t seq;
	/* the writer's side */
	struct writer_slot w[CAP_SLOTS];
};

static size_t rec_size(size_t len)
{
	return (sizeof(struct rec) + len + 7) & ~(size_t)7;
}

/* Room for a record of LEN data bytes, or NULL; ring_commit() publishes it. */
static struct rec *ring_reserve(struct capture *cap, size_t len)
{
	size_t n = rec_size(len);
	size_t head = atomic_load_explicit(&cap->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&cap->tail, memory_order_acquire);
	size_t idx = head % cap->size, contiguous = cap->size - idx;
	size_t need = n + (contiguous < n ? contiguous : 0);

	if (head - tail + need > cap->size)
		return NULL;
	if (contiguous < n) {
		if (contiguous >= sizeof(struct rec))
			((struct rec *)(cap->ring + idx))->type = REC_WRAP;
		atomic_store_explicit(&cap->head, head + contiguous, memory_order_release);
		idx = 0;
	}
	return (struct rec *)(cap->ring + idx);
}

static void ring_commit(struct capture *cap, struct rec *r)
{
	size_t head = atomic_load_explicit(&cap->head, memory_order_relaxed);

	atomic_store_explicit(&cap->head, head + rec_size(r->len), memory_order_release);
	cap->kick_pending = true;
}

/* Wake the writer if it sleeps (and, unless FORCE, if it is worth it). */
static void kick(struct capture *cap, bool force)
{
	uint64_t one = 1;
	int state;

	/* Our records are published before we look (see writer_sleep()). */
	atomic_thread_fence(memory_order_seq_cst);
	state = atomic_load_explicit(&cap->state, memory_order_relaxed);
	if (state == WRITER_AWAKE) {
		cap->kick_pending = false;	/* it will see them */
		return;
	}
	if (state == WRITER_NAPPING && !force &&
	    atomic_load_explicit(&cap->head, memory_order_relaxed) -
	    atomic_load_explicit(&cap->tail, memory_order_relaxed) < cap->size / 4)
		return;		/* it comes back soon; ask again next turn */
	cap->kick_pending = false;
	if (atomic_exchange(&cap->state, WRITER_AWAKE) != WRITER_AWAKE &&
	    write(cap->efd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the writer has plenty to wake for */
	}
}

void capture_kick(struct capture *cap)
{
	if (cap->kick_pending)
		kick(cap, false);
}

/*
 * Control records wait for room (never on the fast path), but not forever:
 * a writer stuck on a live view whose reader does not read would hold the
 * switch too.  NULL after STUCK_MS, and at once while it stays stuck.
 */
static struct rec *ring_reserve_wait(struct capture *cap, size_t len)
{
	size_t tail = atomic_load_explicit(&cap->tail, memory_order_acquire);
	/* Found stuck before, and not moved since: don't wait again. */
	int limit = cap->stuck_at == tail + 1 ? 0 : STUCK_MS, waited;
	struct rec *r;

	for (waited = 0; !(r = ring_reserve(cap, len)); waited++) {
		if (waited == limit) {
			if (limit) {
				cap->stuck_at = atomic_load_explicit(&cap->tail,
								     memory_order_acquire) + 1;
				fprintf(stderr, PROGRAM ": capture: the writer has been stuck for "
					"%d ms (a live view whose reader does not read?); going on "
					"without it\n", STUCK_MS);
			}
			return NULL;
		}
		kick(cap, true);
		usleep(1000);
	}
	return r;
}

static bool push_control(struct capture *cap, enum rec_type type, int slot,
			 const void *data, size_t len)
{
	struct rec *r;

	if (!cap->started)	/* no writer, so nothing open to control */
		return false;
	r = ring_reserve_wait(cap, len);
	if (!r)
		return false;
	r->type = type;
	r->slot = (uint32_t)slot;
	r->len = (uint32_t)len;
	if (len)
		memcpy(r + 1, data, len);
	ring_commit(cap, r);
	kick(cap, true);
	return true;
}

bool capture_frame(struct capture *cap, int point, bool switch_in, const void *frame, size_t len)
{
	struct rec *r = ring_reserve(cap, len);

	if (!r)
		return false;
	r->type = REC_FRAME;
	r->port = point < 0 ? NO_PORT : (uint16_t)point;
	r->switch_in = switch_in;
	r->len = (uint32_t)len;
	r->ts_ns = clock_ns(CLOCK_REALTIME);
	memcpy(r + 1, frame, len);
	ring_commit(cap, r);
	return true;
}

/*
 * Open FILE for a capture, without ever blocking the forwarding thread: a
 * FIFO (for a live view: "wireshark -k -i FIFO") must already have its
 * reader, else opening it would wait for one.  The writer thread then
 * writes to it blocking, which only it feels.  A FIFO cannot rotate.
 */
static FILE *open_capture_file(const char *file, uint64_t rotate_size, const char **why)
{
	struct stat st;
	FILE *fp;
	int fd;

	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		*why = errno == ENXIO ? "a FIFO with no reader (start the reader first)"
				      : strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && rotate_size) {
		*why = "a FIFO cannot rotate (no size=)";
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	fp = fdopen(fd, "wb");
	if (!fp) {
		*why = strerror(errno);
		close(fd);
		return NULL;
	}
	/* One write(2) per megabyte, not per few frames (flushes still come
	 * when traffic pauses, and every second). */
	setvbuf(fp, NULL, _IOFBF, 1 << 20);
	return fp;
}

/*
 * tcp@ADDR:PORT: a live stream for one client at a time, which gets a pcap
 * header and then every frame from its connection on ("nc ADDR PORT |
 * wireshark -k -i -").  Frames while no client is connected are not kept.
 */
static int listen_tcp(const char *where, uint64_t rotate_size, const char **why)
{
	char host[256];
	const char *colon = strrchr(where, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai;
	int fd, one = 1, r;

	if (rotate_size) {
		*why = "a tcp@ stream cannot rotate (no size=)";
		return -1;
	}
	if (!colon || colon == where || (size_t)(colon - where) >= sizeof(host) || !colon[1]) {
		*why = "a live stream is tcp@ADDRESS:PORT";
		return -1;
	}
	memcpy(host, where, (size_t)(colon - where));
	host[colon - where] = '\0';
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r) {
		*why = gai_strerror(r);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
		*why = strerror(errno);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void *writer_thread(void *arg);

/*
 * The writer thread starts with the first capture: until then the switch is
 * one thread, and the kernel's descriptor lookups on every tap read and write
 * stay the cheap, single-threaded kind.
 */
static int capture_start(struct capture *cap)
{
	if (cap->started)
		return 0;
	if (pthread_create(&cap->thread, NULL, writer_thread, cap))
		return -1;
	cap->started = true;
	return 0;
}

/* A free slot for PT's next capture to FILE, or -1 with *why. */
static int new_slot(struct capture *cap, const struct capture_point *pt, const char *file,
		    char *why, size_t whylen)
{
	int i, free_slot = -1, first = pt->id * CAPTURE_PER_POINT;

	for (i = 0; i < CAP_SLOTS; i++) {
		struct sink *k = &cap->sink[i];

		if (!k->path) {
			if (free_slot < 0 && i >= first && i < first + CAPTURE_PER_POINT)
				free_slot = i;
		} else if (!strcmp(k->path, file)) {
			snprintf(why, whylen, "%s already (stop it first)",
				 i / CAPTURE_PER_POINT == pt->id ? "captured to that file"
				 : i / CAPTURE_PER_POINT == CAPTURE_SWITCH
				 ? "the switch-wide capture writes that file"
				 : "another port is captured to that file");
			return -1;
		}
	}
	if (free_slot < 0)
		snprintf(why, whylen, "%s has %d captures already (at most %d: stop one first)",
			 pt->label, CAPTURE_PER_POINT, CAPTURE_PER_POINT);
	return free_slot;
}

/* Open FILE (a file, FIFO or tcp@ listener) as the writer will want it. */
static struct open_args *open_sink(const char *file, uint64_t rotate_size,
				   unsigned int rotate_count, const char **why)
{
	size_t plen = strlen(file) + 1;
	struct open_args *a = malloc(sizeof(*a) + plen);

	if (!a) {
		*why = strerror(ENOMEM);
		return NULL;
	}
	a->listen_fd = -1;
	a->fp = NULL;
	if (!strncmp(file, "tcp@", 4))
		a->listen_fd = listen_tcp(file + 4, rotate_size, why);
	else
		a->fp = open_capture_file(file, rotate_size, why);
	if (!a->fp && a->listen_fd < 0) {
		free(a);
		return NULL;
	}
	a->rotate_size = rotate_size;
	a->rotate_count = rotate_count;
	memcpy(a->path, file, plen);
	return a;
}

static void close_sink(struct open_args *a)
{
	if (a->fp)
		fclose(a->fp);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	free(a);
}

int capture_open(struct capture *cap, struct capture_point *pt, const char *file,
		 uint64_t rotate_size, unsigned int rotate_count, char *err, size_t errlen)
{
	struct open_args *a = NULL;
	const char *why = NULL;
	char whybuf[160];
	char *path = NULL;
	int slot = new_slot(cap, pt, file, whybuf, sizeof(whybuf));

	if (slot < 0)
		why = whybuf;
	else if (capture_start(cap) < 0)
		why = "cannot start the capture writer thread";
	else if (!(path = strdup(file)))
		why = strerror(ENOMEM);
	else if (!(a = open_sink(file, rotate_size, rotate_count, &why)))
		;
	else if (!push_control(cap, REC_OPEN, slot, a, sizeof(*a) + strlen(file) + 1)) {
		close_sink(a);
		why = "the capture writer is stuck (a live view whose reader does not read?)";
	} else {
		free(a);
		cap->sink[slot] = (struct sink){ path, ++cap->seq, rotate_size, rotate_count };
		pt->n++;
		return 0;
	}
	free(path);
	snprintf(err, errlen, "%s: capture %s: %s", pt->label, file, why);
	return slot < 0 ? -EBUSY : -EIO;
}

unsigned int capture_list(const struct capture *cap, const struct capture_point *pt,
			  struct capture_info info[CAPTURE_PER_POINT])
{
	const struct sink *k = &cap->sink[pt->id * CAPTURE_PER_POINT];
	uint64_t seq[CAPTURE_PER_POINT];
	unsigned int n = 0, i, j;

	for (i = 0; i < CAPTURE_PER_POINT; i++) {
		if (!k[i].path)
			continue;
		for (j = n++; j > 0 && seq[j - 1] > k[i].seq; j--) {	/* oldest first */
			seq[j] = seq[j - 1];
			info[j] = info[j - 1];
		}
		seq[j] = k[i].seq;
		info[j] = (struct capture_info){ k[i].path, k[i].rotate_size, k[i].rotate_count };
	}
	return n;
}

/*
 * Stop PT's capture to FILE, or all of them, and wait (two seconds at most)
 * until the writer has closed the files: whoever asked may read them as
 * soon as we answer.
 */
unsigned int capture_close(struct capture *cap, struct capture_point *pt, const char *file)
{
	struct sink *k = &cap->sink[pt->id * CAPTURE_PER_POINT];
	unsigned int closed = 0, i;
	bool pushed = false;
	size_t done;

	for (i = 0; i < CAPTURE_PER_POINT; i++) {
		if (!k[i].path || (file && strcmp(k[i].path, file)))
			continue;
		free(k[i].path);
		k[i].path = NULL;
		closed++;
		pushed |= push_control(cap, REC_CLOSE, pt->id * CAPTURE_PER_POINT + (int)i, NULL, 0);
	}
	pt->n -= closed;
	if (!pushed)
		return closed;
	done = atomic_load_explicit(&cap->head, memory_order_relaxed);
	for (i = 0; i < STUCK_MS; i++) {
		if (atomic_load_explicit(&cap->tail, memory_order_acquire) - done < (size_t)1 << 62)
			break;
		usleep(1000);
	}
	return closed;
}

void capture_reopen_all(struct capture *cap)
{
	push_control(cap, REC_REOPEN, 0, NULL, 0);
}

/* --- the writer thread --------------------------------------------------- */

/* Flush; false (said once) if the file could not take what was written. */
static bool slot_flush(struct writer_slot *s)
{
	if (pcap_dump_flush(s->dumper) == 0 && !ferror(pcap_dump_file(s->dumper)))
		return true;
	if (s->listen_fd < 0 && !s->failed) {
		s->failed = true;
		fprintf(stderr, PROGRAM ": capture %s: write failed: %s\n", s->path,
			strerror(errno));
	}
	return false;
}

static void slot_close(struct writer_slot *s)
{
	if (s->dumper && s->listen_fd < 0)
		slot_flush(s);
	if (s->dumper)
		pcap_dump_close(s->dumper);
	s->dumper = NULL;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	free(s->path);
	s->path = NULL;
}

static bool slot_reopen(struct capture *cap, struct writer_slot *s)
{
	struct stat st;

	/* A FIFO stays as it is: reopening it would wait for a new reader. */
	if (s->listen_fd >= 0 || (s->dumper && stat(s->path, &st) == 0 && S_ISFIFO(st.st_mode)))
		return true;
	if (s->dumper)
		pcap_dump_close(s->dumper);
	s->dumper = pcap_dump_open(cap->dead, s->path);
	s->written = 24;
	if (!s->dumper)
		fprintf(stderr, PROGRAM ": capture %s: %s\n", s->path, pcap_geterr(cap->dead));
	return s->dumper != NULL;
}

/* FILE -> FILE.1 -> FILE.2 ..., keeping rotate_count files, then a new FILE. */
static void slot_rotate(struct capture *cap, struct writer_slot *s)
{
	size_t n = strlen(s->path) + 16;
	char from[n], to[n];
	unsigned int i;

	pcap_dump_close(s->dumper);
	s->dumper = NULL;
	for (i = s->rotate_count - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, n, "%s", s->path);
		else
			snprintf(from, n, "%s.%u", s->path, i - 1);
		snprintf(to, n, "%s.%u", s->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			fprintf(stderr, PROGRAM ": capture %s: rotating to %s: %s\n", s->path, to,
				strerror(errno));
	}
	slot_reopen(cap, s);
}

static void write_frame(struct capture *cap, struct writer_slot *s, const struct rec *r)
{
	struct pcap_pkthdr h;

	if (!s->dumper)
		return;
	h.ts.tv_sec = (time_t)(r->ts_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(r->ts_ns % 1000000000ull);	/* nanoseconds: see above */
	h.caplen = h.len = r->len;
	pcap_dump((u_char *)s->dumper, &h, (const u_char *)(r + 1));
	s->dirty = true;
	s->written += 16 + r->len;
	if (s->rotate_size && s->written >= s->rotate_size)
		slot_rotate(cap, s);
}

static void flush_all(struct capture *cap)
{
	int i;

	for (i = 0; i < CAP_SLOTS; i++) {
		struct writer_slot *s = &cap->w[i];

		if (!s->dumper || !s->dirty)
			continue;
		s->dirty = false;
		if (!slot_flush(s) && s->listen_fd >= 0) {
			pcap_dump_close(s->dumper);	/* the client left: wait for another */
			s->dumper = NULL;
		}
	}
}

/* Every capture of POINT gets the frame. */
static void write_point(struct capture *cap, unsigned int point, const struct rec *r)
{
	struct writer_slot *s = &cap->w[point * CAPTURE_PER_POINT];
	int k;

	for (k = 0; k < CAPTURE_PER_POINT; k++)
		write_frame(cap, &s[k], r);
}

static void slot_open(struct capture *cap, struct writer_slot *s, const struct open_args *a)
{
	slot_close(s);
	s->path = strdup(a->path);
	s->rotate_size = a->rotate_size;
	s->rotate_count = a->rotate_count;
	s->failed = false;
	s->written = 24;
	s->listen_fd = a->listen_fd;
	if (s->listen_fd >= 0)
		return;		/* the dumper comes with a client */
	s->dumper = pcap_dump_fopen(cap->dead, a->fp);
	if (!s->dumper) {
		fprintf(stderr, PROGRAM ": capture %s: %s\n", a->path, pcap_geterr(cap->dead));
		fclose(a->fp);
	}
}

/* Handle one record; false when told to stop. */
static bool handle(struct capture *cap, const struct rec *r)
{
	int i;

	switch (r->type) {
	case REC_FRAME:
		if (r->port != NO_PORT)
			write_point(cap, r->port, r);
		if (r->switch_in)
			write_point(cap, CAPTURE_SWITCH, r);
		break;
	case REC_OPEN:
		slot_open(cap, &cap->w[r->slot], (const struct open_args *)(r + 1));
		break;
	case REC_CLOSE:
		slot_close(&cap->w[r->slot]);
		break;
	case REC_REOPEN:
		for (i = 0; i < CAP_SLOTS; i++)
			if (cap->w[i].path)
				slot_reopen(cap, &cap->w[i]);
		break;
	case REC_STOP:
		return false;
	}
	return true;
}

/* Handle every record in the ring; false when told to stop. */
static bool drain(struct capture *cap)
{
	size_t tail = atomic_load_explicit(&cap->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&cap->head, memory_order_acquire);
	bool running = true;

	while (tail != head) {
		size_t idx = tail % cap->size, contiguous = cap->size - idx;
		struct rec *r = (struct rec *)(cap->ring + idx);

		if (contiguous < sizeof(struct rec) || r->type == REC_WRAP) {
			tail += contiguous;
			continue;
		}
		running &= handle(cap, r);
		tail += rec_size(r->len);
		atomic_store_explicit(&cap->tail, tail, memory_order_release);
	}
	atomic_store_explicit(&cap->tail, tail, memory_order_release);
	return running;
}

/* A tcp@ listener has a client: give it the pcap stream (one at a time). */
static void accept_client(struct capture *cap, struct writer_slot *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	FILE *fp;

	if (fd < 0)
		return;
	if (s->dumper) {
		close(fd);	/* one client at a time */
		return;
	}
	fp = fdopen(fd, "wb");
	if (!fp) {
		close(fd);
		return;
	}
	s->dumper = pcap_dump_fopen(cap->dead, fp);
	if (!s->dumper) {
		fclose(fp);
		return;
	}
	s->dirty = true;	/* the header, at once */
}

/*
 * Sleep until kicked or TIMEOUT_MS, saying how (NAPPING or IDLE); returns
 * what poll() did, or 0 at once if frames came in as we lay down idle.
 */
static int writer_sleep(struct capture *cap, struct pollfd *pfd, nfds_t nfds,
			enum writer_state how, int timeout_ms)
{
	uint64_t count;
	int n;

	atomic_store(&cap->state, how);
	/* Pairs with kick(): either it sees us asleep, or we see its frames. */
	atomic_thread_fence(memory_order_seq_cst);
	if (how == WRITER_IDLE && atomic_load_explicit(&cap->head, memory_order_acquire) !=
				   atomic_load_explicit(&cap->tail, memory_order_relaxed)) {
		atomic_store(&cap->state, WRITER_AWAKE);
		return 0;
	}
	n = poll(pfd, nfds, timeout_ms);
	atomic_store(&cap->state, WRITER_AWAKE);
	if (n > 0 && (pfd[0].revents & POLLIN) &&
	    read(cap->efd, &count, sizeof(count)) < 0) {
		/* nothing: the eventfd only wakes us */
	}
	return n;
}

static void *writer_thread(void *arg)
{
	struct capture *cap = arg;
	struct pollfd pfd[1 + CAP_SLOTS];
	int slot_of[1 + CAP_SLOTS];
	uint64_t last_flush = clock_ns(CLOCK_MONOTONIC), last_frames = last_flush, now;
	bool had_frames = true;
	int i, nfds;

	for (;;) {
		size_t before;
		int n;

		pfd[0].fd = cap->efd;
		pfd[0].events = POLLIN;
		for (i = 0, nfds = 1; i < CAP_SLOTS; i++) {
			if (cap->w[i].listen_fd < 0)
				continue;
			pfd[nfds].fd = cap->w[i].listen_fd;
			pfd[nfds].events = POLLIN;
			slot_of[nfds++] = i;
		}
		/* After frames, a nap; after nothing, sleep until kicked. */
		n = writer_sleep(cap, pfd, (nfds_t)nfds,
				 had_frames ? WRITER_NAPPING : WRITER_IDLE,
				 had_frames ? NAP_MS : FLUSH_IDLE_MS);
		for (i = 1; n > 0 && i < nfds; i++)
			if (pfd[i].revents & POLLIN)
				accept_client(cap, &cap->w[slot_of[i]]);
		before = atomic_load_explicit(&cap->tail, memory_order_relaxed);
		if (!drain(cap))
			break;
		now = clock_ns(CLOCK_MONOTONIC);
		had_frames = atomic_load_explicit(&cap->tail, memory_order_relaxed) != before;
		if (had_frames)
			last_frames = now;
		/* Flush when traffic paused, and at least every second. */
		if (now - last_frames >= FLUSH_IDLE_MS * 1000000ull ||
		    now - last_flush >= FLUSH_BUSY_NS) {
			flush_all(cap);
			last_flush = now;
		}
	}
	for (i = 0; i < CAP_SLOTS; i++)
		slot_close(&cap->w[i]);
	return NULL;
}

struct capture *capture_new(size_t ring_bytes)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	int i;

	if (!cap)
		return NULL;
	cap->size = (ring_bytes + 7) & ~(size_t)7;
	cap->ring = malloc(cap->size);
	cap->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cap->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
							 PCAP_TSTAMP_PRECISION_NANO);
	for (i = 0; i < CAP_SLOTS; i++)
		cap->w[i].listen_fd = -1;
	if (!cap->ring || cap->efd < 0 || !cap->dead) {
		if (cap->efd >= 0)
			close(cap->efd);
		if (cap->dead)
			pcap_close(cap->dead);
		free(cap->ring);
		free(cap);
		return NULL;
	}
	return cap;
}

bool capture_stop_thread(struct capture *cap)
{
	int i;

	if (cap->started) {
		struct timespec deadline;

		/* The writer closes every file; one stuck on a live view that is
		 * not read is left behind (and the rest with it) after a while. */
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += STUCK_MS / 1000 + 1;
		if (!push_control(cap, REC_STOP, 0, NULL, 0) ||
		    pthread_timedjoin_np(cap->thread, NULL, &deadline)) {
			fprintf(stderr, PROGRAM ": capture: the writer is stuck (a live view "
				"whose reader does not read?); not waiting for it: frames not yet "
				"written are lost\n");
			return false;	/* the process is ending; what the thread uses stays */
		}
	}
	for (i = 0; i < CAP_SLOTS; i++)
		free(cap->sink[i].path);
	pcap_close(cap->dead);
	close(cap->efd);
	free(cap->ring);
	free(cap);
	return true;
}
