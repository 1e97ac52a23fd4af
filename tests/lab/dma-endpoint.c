/*
 * dma-endpoint.c: a DMA endpoint for the lab tests, and a prober of its rules.
 *
 * A process that opens /dev/lguest and never creates a guest is an endpoint
 * (include/lguest/dma.h): it binds receive buffers in its own memory at keys
 * in a file it maps MAP_SHARED, and sends to keys.  This tool is one, in one
 * of three ways:
 *
 *   recv    binds buffers at one key and reports every frame that arrives:
 *           its length, a checksum of exactly the bytes received, and whether
 *           the poison around them was left alone;
 *   send    sends frames of a known pattern to one key and reports, for each,
 *           the used_len lg.ko wrote back and the checksum of what it sent;
 *   errors  makes one bad request after another and prints what each got.
 *
 * Both recv and send end by printing their counters twice, as LHREQ_DMA_STATS
 * gives them ("stat NAME VALUE") and as debugfs shows them ("debugfs NAME
 * VALUE"), so that a test can check that they agree.  Output is one fact a
 * line, for tests/lab/dma-endpoint.vm to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lguest/dma.h>
#include <lguest/launcher.h>

#define POISON 0xa5
#define GUARD 16	/* poisoned bytes between and around sections */
#define FILE_SIZE 4096

struct options {
	uint64_t key;		/* offset of the key in the file */
	unsigned int bufs, irq, size, sections, count, timeout;
	uint64_t seed;
	uintptr_t map_at;
	bool hold, linger, nonblock, retry, show;
};

#define PROGRAM "dma-endpoint"
#include "tool.h"

static volatile sig_atomic_t stop;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [options] recv|send|errors FILE\n"
		"\n"
		"A DMA endpoint on /dev/lguest for the lab tests.  FILE is mapped\n"
		"MAP_SHARED (created, 4096 bytes, if it is shorter); the key is at\n"
		"--key bytes into it.\n"
		"\n"
		"  recv     bind --bufs buffers of --size bytes (in --sections pieces)\n"
		"           with --irq, print each frame received, stop after --count\n"
		"  send     send --count frames of --size bytes (in --sections pieces),\n"
		"           print each used_len\n"
		"  errors   make bad requests, print the error each one got\n"
		"\n"
		"  --key=OFFSET     the key's offset in FILE (default 0)\n"
		"  --bufs=N         recv: buffers bound (default 4)\n"
		"  --irq=N          recv: the binding's irq, 1..63 (default 1)\n"
		"  --size=BYTES     frame or buffer size (default 1500)\n"
		"  --sections=N     pieces per frame or buffer, 1..16 (default 1)\n"
		"  --count=N        frames to send or to wait for (default 1)\n"
		"  --seed=N         send: the pattern's seed (default 1)\n"
		"  --map-at=ADDR    map FILE at this address\n"
		"  --timeout=SEC    recv: give up after SEC s without a frame (default 30)\n"
		"  --hold           recv: never free a filled buffer\n"
		"  --linger         recv: after --count frames, stay bound until SIGTERM\n"
		"  --nonblock       recv: O_NONBLOCK reads, and poll() to wait\n"
		"  --retry          send: resend a frame nobody took (used_len 0)\n"
		"  --show           recv: print printable frames as text too\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 done, 1 error, 2 recv timed out.\n", PROGRAM);
}

static unsigned long parse_num(const char *opt, const char *arg, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || *end || end == arg || v > max)
		die("--%s=%s: not a number up to %lu", opt, arg, max);
	return v;
}

/* FNV-1a, 64 bits: the checksum of a frame. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}
#define FNV_START 0xcbf29ce484222325ULL

static uint8_t *map_file(const char *path, uintptr_t at)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	uint8_t *p;

	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || (st.st_size < FILE_SIZE && ftruncate(fd, FILE_SIZE)))
		die("%s: %s", path, strerror(errno));
	p = mmap((void *)at, FILE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0), fd, 0);
	if (p == MAP_FAILED)
		die("mapping %s: %s", path, strerror(errno));
	close(fd);
	printf("map %s at %p\n", path, (void *)p);
	return p;
}

static int open_lguest(void)
{
	int fd = open(LGUEST_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("%s: %s", LGUEST_DEVICE, strerror(errno));
	return fd;
}

/* One write() request: 0, or the errno it failed with. */
static int request(int fd, void *req, size_t size)
{
	ssize_t n = write(fd, req, size);

	if (n == (ssize_t)size)
		return 0;
	return n < 0 ? errno : EIO;
}

/*
 * A buffer of size bytes in sections pieces of uneven sizes, each between
 * poisoned guards, in memory that starts mid-page so sections cross pages.
 */
struct buffer {
	struct lguest_dma *dma;
	uint8_t *mem;		/* the area, guards included */
	size_t mem_size;
};

static void buffer_layout(struct lguest_dma *dma, uint8_t *mem, unsigned int size,
			  unsigned int sections)
{
	unsigned int i, left = size;
	uint8_t *p = mem + GUARD;

	memset(dma, 0, sizeof(*dma));
	for (i = 0; i < sections; i++) {
		/* Uneven pieces; the last takes the rest. */
		unsigned int len = i + 1 == sections ? left : left / (sections - i);

		if (i + 1 < sections && len > 32)
			len -= 7 * (i % 3);
		if (len > 65535)
			die("a section of %u bytes: 65535 at most", len);

		dma->addr[i] = (uintptr_t)p;
		dma->len[i] = len;
		p += len + GUARD;
		left -= len;
	}
}

static size_t buffer_area(unsigned int size, unsigned int sections)
{
	return size + GUARD * (sections + 1);
}

static void fill_pattern(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	while (n--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*p++ = x;
	}
}

/* The stats, both ways: LHREQ_DMA_STATS and debugfs. */
static void print_stats(int fd)
{
	static const char *const names[] = {
		"sends", "sent_in_kernel", "sent_to_launcher", "sent_unbound",
		"send_drops", "bytes_sent", "receives", "bytes_received", "binds",
	};
	struct lguest_dma_stats st = { .request = LHREQ_DMA_STATS };
	char pattern[64], line[128];
	glob_t g;
	size_t i;
	int err;

	err = request(fd, &st, sizeof(st));
	if (err)
		die("LHREQ_DMA_STATS: %s", strerror(err));
	const uint64_t v[] = {
		st.sends, st.sent_in_kernel, st.sent_to_launcher, st.sent_unbound,
		st.send_drops, st.bytes_sent, st.receives, st.bytes_received, st.binds,
	};
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf("stat %s %" PRIu64 "\n", names[i], v[i]);

	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/lguest/%d-*/dma", getpid());
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != 1) {
		printf("debugfs none\n");
		return;
	}
	printf("debugfs-file %s\n", g.gl_pathv[0]);
	FILE *f = fopen(g.gl_pathv[0], "r");

	if (!f)
		die("%s: %s", g.gl_pathv[0], strerror(errno));
	while (fgets(line, sizeof(line), f))
		printf("debugfs %s", line);
	fclose(f);
	globfree(&g);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int do_recv(const struct options *o, uint8_t *share)
{
	struct lguest_dma *dmas;
	struct buffer *bufs;
	bool seen[64] = { false };
	size_t area = buffer_area(o->size, o->sections);
	unsigned int i, got = 0;
	int fd = open_lguest();
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	/* The array itself straddles a page boundary. */
	dmas = mmap(NULL, 4 * 4096 + o->bufs * sizeof(*dmas), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bufs = calloc(o->bufs, sizeof(*bufs));
	if (dmas == MAP_FAILED || !bufs)
		die("out of memory");
	dmas = (struct lguest_dma *)((uint8_t *)dmas + 4096 - 96);
	for (i = 0; i < o->bufs; i++) {
		uint8_t *m = malloc(area + 4096);

		if (!m)
			die("out of memory");
		bufs[i].mem = m + 4096 - 200;	/* mid-page */
		bufs[i].mem_size = area;
		bufs[i].dma = &dmas[i];
		memset(bufs[i].mem, POISON, area);
		buffer_layout(&dmas[i], bufs[i].mem, o->size, o->sections);
	}

	struct lguest_bind b = {
		.request = LHREQ_BIND_DMA, .key = (uintptr_t)share + o->key,
		.dmas = (uintptr_t)dmas, .num = o->bufs, .irq = o->irq,
	};
	err = request(fd, &b, sizeof(b));
	if (err)
		die("LHREQ_BIND_DMA: %s", strerror(err));
	if (o->nonblock) {
		struct lguest_exit ex;

		if (fcntl(fd, F_SETFL, O_NONBLOCK))
			die("O_NONBLOCK: %s", strerror(errno));
		if (read(fd, &ex, sizeof(ex)) < 0)
			printf("nonblocking read before any frame: %s\n",
			       errno == EAGAIN ? "EAGAIN" : strerror(errno));
		else
			printf("nonblocking read before any frame: returned\n");
	}
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: read() stops */
	sigaction(SIGTERM, &sa, NULL);
	printf("ready pid %d\n", getpid());
	fflush(stdout);

	while (got < o->count) {
		struct lguest_exit ex;
		ssize_t n;

		if (o->nonblock) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, o->timeout * 1000) == 0) {
				printf("timeout: %u frames in, no more in %u s\n", got, o->timeout);
				return 2;
			}
		} else {
			alarm(o->timeout);
		}
		n = read(fd, &ex, sizeof(ex));
		alarm(0);
		if (n < 0 && errno == EINTR) {
			printf("timeout: %u frames in, no more in %u s\n", got, o->timeout);
			return 2;
		}
		if (n != sizeof(ex))
			die("read: %s", n < 0 ? strerror(errno) : "short");
		printf("read reason %u mask %#" PRIx64 "\n", ex.reason, (uint64_t)ex.data);
		for (i = 0; i < o->bufs; i++) {
			struct lguest_dma *d = bufs[i].dma;
			uint32_t used = __atomic_load_n(&d->used_len, __ATOMIC_ACQUIRE);
			uint64_t sum = FNV_START;
			uint32_t left = used;
			bool intact = true, printable = true;
			unsigned int s;
			size_t k;

			if (!used || seen[i])
				continue;
			for (s = 0; s < 16 && d->len[s] && left; s++) {
				uint32_t part = left < d->len[s] ? left : d->len[s];
				const uint8_t *p = (const uint8_t *)(uintptr_t)d->addr[s];

				sum = fnv(sum, p, part);
				for (k = 0; k < part; k++)
					printable &= p[k] >= 32 && p[k] < 127;
				left -= part;
			}
			/* Untouched: the rest of each section and every guard. */
			for (k = 0; k < bufs[i].mem_size; k++) {
				uintptr_t a = (uintptr_t)(bufs[i].mem + k);
				uint32_t before = 0;
				bool data = false;

				for (s = 0; s < 16 && d->len[s]; s++) {
					if (a >= d->addr[s] && a < d->addr[s] + d->len[s]) {
						data = a - d->addr[s] + before < used;
						break;
					}
					before += d->len[s];
				}
				if (!data && bufs[i].mem[k] != POISON)
					intact = false;
			}
			got++;
			printf("received buf %u used_len %u sum %016" PRIx64 " poison %s\n",
			       i, used, sum, intact ? "intact" : "overwritten");
			if (o->show && printable && d->len[0] >= used)
				printf("text %.*s\n", (int)used,
				       (const char *)(uintptr_t)d->addr[0]);
			if (o->hold) {
				seen[i] = true;		/* and it stays full */
				continue;
			}
			memset(bufs[i].mem, POISON, bufs[i].mem_size);
			__atomic_store_n(&d->used_len, 0, __ATOMIC_RELEASE);
		}
	}
	printf("done %u frames\n", got);
	print_stats(fd);
	fflush(stdout);
	if (o->linger)
		while (!stop)
			pause();
	close(fd);
	return 0;
}

static int do_send(const struct options *o, uint8_t *share)
{
	size_t area = buffer_area(o->size, o->sections);
	uint8_t *mem = malloc(area + 4096);
	struct lguest_dma *d = malloc(sizeof(*d));
	unsigned int i, s;
	int fd = open_lguest(), err;

	if (!mem || !d)
		die("out of memory");
	mem += 4096 - 300;
	for (i = 1; i <= o->count; i++) {
		struct lguest_send req = {
			.request = LHREQ_SEND_DMA, .key = (uintptr_t)share + o->key,
			.dma = (uintptr_t)d,
		};
		uint64_t sum = FNV_START;
		unsigned int tries = 0;

		buffer_layout(d, mem, o->size, o->sections);
		for (s = 0; s < 16 && d->len[s]; s++) {
			uint8_t *p = (uint8_t *)(uintptr_t)d->addr[s];

			fill_pattern(p, d->len[s], o->seed * 1000003 + i * 131 + s);
			sum = fnv(sum, p, d->len[s]);
		}
		do {
			d->used_len = 0xdeadbeef;	/* lg.ko must write it */
			err = request(fd, &req, sizeof(req));
			if (err)
				die("LHREQ_SEND_DMA: %s", strerror(err));
			if (d->used_len || !o->retry)
				break;
			usleep(1000);
		} while (++tries < 20000);
		printf("sent frame %u len %u used_len %u sum %016" PRIx64 "\n",
		       i, o->size, d->used_len, sum);
	}
	print_stats(fd);
	close(fd);
	return 0;
}

/* ---- errors: each bad request, and what it got --------------------------- */

static const char *errname(int err)
{
	switch (err) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENOENT: return "ENOENT";
	case ENOSPC: return "ENOSPC";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	default: return strerror(err);
	}
}

static void say(const char *what, int err)
{
	printf("%s: %s\n", what, errname(err));
}

static int bind_req(int fd, uint64_t key, uint64_t dmas, uint32_t num, uint32_t irq)
{
	struct lguest_bind b = {
		.request = LHREQ_BIND_DMA, .key = key, .dmas = dmas, .num = num, .irq = irq,
	};

	return request(fd, &b, sizeof(b));
}

static int send_req(int fd, uint64_t key, uint64_t dma)
{
	struct lguest_send s = { .request = LHREQ_SEND_DMA, .key = key, .dma = dma };

	return request(fd, &s, sizeof(s));
}

/* A guest that is created and never run: enough to ask its file things. */
static int make_guest(void)
{
	const size_t size = 4 << 20;
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct lguest_init in = {
		.request = LHREQ_INITIALIZE, .mem_base = (uintptr_t)mem,
		.mem_size = size, .rip = 0x1000, .rsi = 0x2000, .cr3 = 0x3000,
		.gdt_base = 0x4000, .gdt_limit = 31,
	};
	int fd = open_lguest(), err;

	if (mem == MAP_FAILED)
		die("out of memory");
	err = request(fd, &in, sizeof(in));
	if (err)
		die("LHREQ_INITIALIZE: %s", strerror(err));
	return fd;
}

static int do_errors(uint8_t *share)
{
	const uint64_t kernel = 0xffff888000000000ULL;
	uint8_t *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct lguest_dma *d = aligned_alloc(4096, 4096 * 4);
	struct lguest_dma *rx = aligned_alloc(4096, 4096);
	uint64_t key = (uintptr_t)share;
	struct lguest_exit ex;
	int fd, rfd, gfd, err;
	unsigned int i;
	char byte[8];

	if (hole == MAP_FAILED || !d || !rx)
		die("out of memory");
	munmap(hole, 4096);	/* an address with nothing behind it */
	memset(d, 0, 4096 * 4);
	memset(rx, 0, 4096);
	fd = open_lguest();

	say("stats on a fresh file",
	    request(fd, &(struct lguest_dma_stats){ .request = LHREQ_DMA_STATS },
		    sizeof(struct lguest_dma_stats)));
	say("read on a fresh file", read(fd, &ex, sizeof(ex)) < 0 ? errno : 0);

	say("bind, key not 4-byte aligned", bind_req(fd, key + 2, (uintptr_t)d, 1, 1));
	say("bind, key in no mapping", bind_req(fd, (uintptr_t)hole, (uintptr_t)d, 1, 1));
	say("bind, key in kernel space", bind_req(fd, kernel, (uintptr_t)d, 1, 1));
	say("bind, 0 buffers", bind_req(fd, key, (uintptr_t)d, 0, 1));
	say("bind, 65 buffers", bind_req(fd, key, (uintptr_t)d, 65, 1));
	say("bind, irq 64", bind_req(fd, key, (uintptr_t)d, 1, 64));
	say("bind, buffers not 8-byte aligned", bind_req(fd, key, (uintptr_t)d + 4, 1, 1));
	say("bind, buffers in no mapping", bind_req(fd, key, (uintptr_t)hole, 1, 1));
	say("bind, buffers in kernel space", bind_req(fd, key, kernel, 1, 1));
	say("bind, request of the wrong size",
	    request(fd, &(struct lguest_bind){ .request = LHREQ_BIND_DMA, .key = key,
					       .dmas = (uintptr_t)d, .num = 1, .irq = 1 },
		    sizeof(struct lguest_bind) - 4));
	say("send, key not 4-byte aligned", send_req(fd, key + 1, (uintptr_t)d));
	say("send, key in no mapping", send_req(fd, (uintptr_t)hole, (uintptr_t)d));
	say("send, descriptor not 8-byte aligned", send_req(fd, key, (uintptr_t)d + 4));
	say("send, descriptor in no mapping", send_req(fd, key, (uintptr_t)hole));
	d->addr[0] = kernel;
	d->len[0] = 100;
	say("send, section in kernel space", send_req(fd, key, (uintptr_t)d));

	/* A receiver at key, on another file: now sends are copied. */
	rfd = open_lguest();
	rx->addr[0] = (uintptr_t)rx + 1024;
	rx->len[0] = 1000;
	say("bind a receiver on a second file", bind_req(rfd, key, (uintptr_t)rx, 1, 9));
	d->addr[0] = (uintptr_t)hole;
	say("send, section in no mapping, to a receiver", send_req(fd, key, (uintptr_t)d));
	say("... and the receiver's buffer is still free", rx->used_len ? EBUSY : 0);
	say("... and the receiver was not told",
	    (fcntl(rfd, F_SETFL, O_NONBLOCK), read(rfd, &ex, sizeof(ex)) < 0 ? errno : 0));
	d->addr[0] = (uintptr_t)byte;
	d->len[0] = sizeof(byte);
	memcpy(byte, "8 bytes!", 8);
	err = send_req(fd, key, (uintptr_t)d);
	printf("send 8 bytes to the receiver: %s, used_len %u, receiver used_len %u\n",
	       errname(err), d->used_len, rx->used_len);
	say("send again, the one buffer is full", send_req(fd, key, (uintptr_t)d));
	printf("... used_len %u\n", d->used_len);
	say("the receiver's read", read(rfd, &ex, sizeof(ex)) == sizeof(ex) &&
	    ex.reason == LGUEST_EXIT_IRQ && ex.data == 1ULL << 9 ? 0 : EIO);
	say("the receiver's second read", read(rfd, &ex, sizeof(ex)) < 0 ? errno : 0);
	say("unbind the receiver", bind_req(rfd, key, 0, 0, 0));
	d->used_len = 0xdeadbeef;
	say("send to the unbound key", send_req(fd, key, (uintptr_t)d));
	printf("... used_len %u\n", d->used_len);
	close(rfd);

	/* Bindings: replacing is free, the 65th key is refused. */
	for (i = 0, err = 0; i < 100 && !err; i++)
		err = bind_req(fd, key + 4, (uintptr_t)d, 2, 1);
	say("rebind one key 100 times", err);
	for (i = 1, err = 0; i < 64 && !err; i++)
		err = bind_req(fd, key + 4 + 4 * i, (uintptr_t)d, 1, 2);
	say("bind 63 more keys", err);
	say("bind a 65th key", bind_req(fd, key + 4 + 4 * 64, (uintptr_t)d, 1, 2));
	say("unbind a key that is not bound", bind_req(fd, key + 4 + 4 * 65, 0, 0, 0));

	say("getdma on an endpoint",
	    request(fd, &(struct lguest_getdma){ .request = LHREQ_GETDMA, .key = key + 4 },
		    sizeof(struct lguest_getdma)));
	say("irq on an endpoint",
	    request(fd, &(struct lguest_irq){ .request = LHREQ_IRQ, .irq = 4 },
		    sizeof(struct lguest_irq)));
	say("initialize on an endpoint",
	    request(fd, &(struct lguest_init){ .request = LHREQ_INITIALIZE },
		    sizeof(struct lguest_init)));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	say("nonblocking read, nothing filled", read(fd, &ex, sizeof(ex)) < 0 ? errno : 0);
	print_stats(fd);

	gfd = make_guest();
	say("bind on a guest's file", bind_req(gfd, key, (uintptr_t)d, 1, 1));
	say("send on a guest's file", send_req(gfd, key, (uintptr_t)d));
	say("getdma on a guest's file, key not bound",
	    request(gfd, &(struct lguest_getdma){ .request = LHREQ_GETDMA, .key = 0x1000 },
		    sizeof(struct lguest_getdma)));
	say("getdma on a guest's file, key outside its memory",
	    request(gfd, &(struct lguest_getdma){ .request = LHREQ_GETDMA, .key = 4 << 20 },
		    sizeof(struct lguest_getdma)));
	say("getdma on a guest's file, key not aligned",
	    request(gfd, &(struct lguest_getdma){ .request = LHREQ_GETDMA, .key = 0x1001 },
		    sizeof(struct lguest_getdma)));
	close(gfd);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "bufs", required_argument, NULL, 'b' },
		{ "irq", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "sections", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'r' },
		{ "map-at", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "hold", no_argument, NULL, 'H' },
		{ "linger", no_argument, NULL, 'l' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "retry", no_argument, NULL, 'R' },
		{ "show", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct options o = {
		.bufs = 4, .irq = 1, .size = 1500, .sections = 1, .count = 1,
		.timeout = 30, .seed = 1,
	};
	uint8_t *share;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.key = parse_num("key", optarg, FILE_SIZE - 4); break;
		case 'b': o.bufs = parse_num("bufs", optarg, 64); break;
		case 'i': o.irq = parse_num("irq", optarg, 63); break;
		case 's': o.size = parse_num("size", optarg, 16 * 65535); break;
		case 'S': o.sections = parse_num("sections", optarg, 16); break;
		case 'c': o.count = parse_num("count", optarg, 1000000); break;
		case 'r': o.seed = parse_num("seed", optarg, ~0UL); break;
		case 'm': o.map_at = parse_num("map-at", optarg, ~0UL); break;
		case 't': o.timeout = parse_num("timeout", optarg, 3600); break;
		case 'H': o.hold = true; break;
		case 'l': o.linger = true; break;
		case 'n': o.nonblock = true; break;
		case 'R': o.retry = true; break;
		case 'w': o.show = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 1;
	}
	if (!o.sections || o.size < o.sections || o.size > 65535U * o.sections)
		die("--size=%u in --sections=%u: each section holds 1..65535 bytes",
		    o.size, o.sections);
	setvbuf(stdout, NULL, _IOLBF, 0);
	share = map_file(argv[optind + 1], o.map_at);
	if (!strcmp(argv[optind], "recv"))
		return do_recv(&o, share);
	if (!strcmp(argv[optind], "send"))
		return do_send(&o, share);
	if (!strcmp(argv[optind], "errors"))
		return do_errors(share);
	usage(stderr);
	return 1;
}
