/*
 * framegen.c: offer a switch as many Ethernet frames as one core can write,
 * and count how many come out on the other side.
 *
 * bench/vswitch-forwarding builds this and runs it once per measurement.
 * Two tap interfaces, A and B, hang on the switch under test.  A thread
 * writes frames into A, another counts those that arrive on B, and main()
 * reads the count at the start and at the end of the measured window: the
 * difference over the time is what the switch forwarded.
 *
 * A tap has two ends, and which one we use depends on who holds the file
 * descriptor:
 *
 *   --mode=packet  a userspace switch (lguest-vswitch, vde_switch, Open
 *                  vSwitch's netdev datapath) holds both taps' descriptors.
 *                  We stand at the interfaces' kernel end: frames sent on a
 *                  packet socket bound to A are what the switch read()s
 *                  from A's descriptor; what the switch write()s to B's
 *                  descriptor arrives at B like frames off a cable, where a
 *                  packet socket with a receive ring catches them.
 *   --mode=fd      the Linux bridge holds the interfaces' kernel ends, so we
 *                  hold the descriptors: write() into A, read() from B.
 *
 * Before the flood, one frame goes the other way (into B, from the MAC
 * address the flood is sent to), so that every learning switch knows that
 * address is behind B and forwards the flood to B alone, as unicast.  The
 * flood uses its own EtherType (the IEEE's "local experimental" 0x88b5) and
 * the learning frame another (0x88b6), so the counter counts the flood and
 * nothing else the interfaces may carry.
 *
 * The output is one line of "key=value" words for the script to parse.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM		"framegen"
#define FLOOD_TYPE	0x88b5
#define LEARN_TYPE	0x88b6
#define SEND_BATCH	64
#define FRAME_MAX	1514
#define FULL_QUEUE_NAP	200e-6	/* seconds */

/* The ring the kernel fills with frames arriving at B (TPACKET_V3). */
#define RING_BLOCK	(1u << 20)
#define RING_BLOCKS	64
#define RING_FRAME	256	/* a slot; the filter below cuts frames to 64 bytes */

enum mode { MODE_PACKET, MODE_FD };

struct bench {
	enum mode mode;
	const char *tx_name, *rx_name;
	size_t frame_len;
	double seconds, warmup;
	bool spin;			/* retry a full queue at once */
	uint8_t src[ETH_ALEN], dst[ETH_ALEN];

	int tx_fd, rx_fd;		/* a packet socket or a tap descriptor each */
	int rx_ifindex;
	uint8_t *ring;			/* --mode=packet: B's receive ring */

	atomic_bool stop;
	atomic_uint_fast64_t offered, sent, received, received_bytes;
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, PROGRAM ": %s: %s\n", what, why);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double seconds)
{
	struct timespec ts = { (time_t)seconds,
			       (long)((seconds - (double)(time_t)seconds) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		die(s, "not a MAC address (like 02:00:00:00:00:0a)");
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
}

/* A frame: destination, source, EtherType, then a counting pattern. */
static void build_frame(uint8_t *f, size_t len, const uint8_t dst[ETH_ALEN],
			const uint8_t src[ETH_ALEN], uint16_t type)
{
	size_t i;

	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	for (i = ETH_HLEN; i < len; i++)
		f[i] = (uint8_t)i;
}

static int open_tap(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die(name, strerror(errno));
	return fd;
}

/* A packet socket on one interface; protocol 0 receives nothing. */
static int open_packet(const char *name, uint16_t protocol, int *ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(protocol) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(protocol));

	if (fd < 0)
		die("packet socket", strerror(errno));
	sll.sll_ifindex = (int)if_nametoindex(name);
	if (!sll.sll_ifindex)
		die(name, "no such interface");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die(name, strerror(errno));
	*ifindex = sll.sll_ifindex;
	return fd;
}

/*
 * B's receive ring: the kernel puts frames in 1 MB blocks and wakes us
 * once a block is full (or 10 ms have passed), so counting costs almost
 * nothing.  A filter keeps only the first 64 bytes of each frame (the
 * frame's full length is still reported).
 */
static void setup_rx_ring(struct bench *b)
{
	static struct sock_filter keep64[] = { { BPF_RET | BPF_K, 0, 0, 64 } };
	struct sock_fprog prog = { 1, keep64 };
	struct tpacket_req3 req = {
		.tp_block_size = RING_BLOCK,
		.tp_block_nr = RING_BLOCKS,
		.tp_frame_size = RING_FRAME,
		.tp_frame_nr = RING_BLOCK / RING_FRAME * RING_BLOCKS,
		.tp_retire_blk_tov = 10,
	};
	int v3 = TPACKET_V3;

	if (setsockopt(b->rx_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		die("SO_ATTACH_FILTER", strerror(errno));
	if (setsockopt(b->rx_fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0)
		die("PACKET_VERSION", strerror(errno));
	if (setsockopt(b->rx_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		die("PACKET_RX_RING", strerror(errno));
	b->ring = mmap(NULL, (size_t)RING_BLOCK * RING_BLOCKS, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_LOCKED, b->rx_fd, 0);
	if (b->ring == MAP_FAILED)
		die("mmap of the receive ring", strerror(errno));
}

static void count(struct bench *b, const uint8_t *frame, size_t caplen, size_t len)
{
	if (caplen >= ETH_HLEN && frame[12] == FLOOD_TYPE >> 8 &&
	    frame[13] == (FLOOD_TYPE & 0xff) && len == b->frame_len) {
		atomic_fetch_add_explicit(&b->received, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&b->received_bytes, len, memory_order_relaxed);
	}
}

static void *receiver_packet(void *arg)
{
	struct bench *b = arg;
	unsigned int block = 0;

	while (!atomic_load(&b->stop)) {
		struct tpacket_block_desc *bd =
			(void *)(b->ring + (size_t)block * RING_BLOCK);
		struct tpacket3_hdr *h;
		uint32_t i;

		/* The kernel hands a block over with its status word. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			struct pollfd p = { .fd = b->rx_fd, .events = POLLIN | POLLERR };

			poll(&p, 1, 50);
			continue;
		}
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			count(b, (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len);
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		block = (block + 1) % RING_BLOCKS;
	}
	return NULL;
}

static void *receiver_fd(void *arg)
{
	struct bench *b = arg;
	uint8_t frame[65536];

	while (!atomic_load(&b->stop)) {
		ssize_t n = read(b->rx_fd, frame, sizeof(frame));

		if (n > 0)
			count(b, frame, (size_t)n, (size_t)n);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			die(b->rx_name, strerror(errno));
		else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = b->rx_fd, .events = POLLIN };

			poll(&p, 1, 50);
		}
	}
	return NULL;
}

/* Write the flood into A as fast as the kernel takes it. */
static void *generator(void *arg)
{
	struct bench *b = arg;
	uint8_t frame[FRAME_MAX];
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov = { frame, b->frame_len };
	int i, n;

	build_frame(frame, b->frame_len, b->dst, b->src, FLOOD_TYPE);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < SEND_BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		int err = 0;

		if (b->mode == MODE_PACKET) {
			n = sendmmsg(b->tx_fd, msgs, SEND_BATCH, 0);
			if (n < 0) {
				err = errno;
				n = 0;
			}
		} else {
			for (n = 0; n < SEND_BATCH; n++)
				if (write(b->tx_fd, frame, b->frame_len) < 0) {
					err = errno;
					break;
				}
		}
		/*
		 * When A's queue has no room for a frame, the frame fails
		 * (ENOBUFS) and ends the batch: the switch did not keep up.
		 * It counts as offered, not as sent.
		 */
		if (err && err != ENOBUFS && err != EAGAIN && err != EINTR)
			die(b->tx_name, strerror(err));
		atomic_fetch_add_explicit(&b->sent, (uint64_t)n, memory_order_relaxed);
		atomic_fetch_add_explicit(&b->offered, (uint64_t)(n < SEND_BATCH ? n + 1 : n),
					  memory_order_relaxed);
		/*
		 * The queue is full: it holds a thousand frames, milliseconds
		 * of the switch's work, so a nap keeps it full all the same and
		 * leaves this core to the switch (its threads, the kernel's
		 * share of its writes) instead of spinning on refusals.
		 */
		if (err == ENOBUFS && !b->spin)
			sleep_for(FULL_QUEUE_NAP);
	}
	return NULL;
}

/* One frame from the flood's destination address, entering at B. */
static void send_learning_frame(struct bench *b)
{
	uint8_t frame[60];
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int fd = b->rx_fd, ifindex;
	ssize_t n;

	build_frame(frame, sizeof(frame), broadcast, b->dst, LEARN_TYPE);
	if (b->mode == MODE_PACKET)
		fd = open_packet(b->rx_name, 0, &ifindex);
	n = write(fd, frame, sizeof(frame));
	if (n != (ssize_t)sizeof(frame))
		die(b->rx_name, n < 0 ? strerror(errno) : "short write of the learning frame");
	if (b->mode == MODE_PACKET)
		close(fd);
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: " PROGRAM " --mode=packet|fd --tx=TAP_A --rx=TAP_B [OPTIONS]\n"
"\n"
"Writes frames into TAP_A as fast as possible and counts those arriving at\n"
"TAP_B.  Prints, for the measured window: offered= (frames written, taken\n"
"or not), sent= (taken by TAP_A), received=, bytes= (at TAP_B), seconds=,\n"
"offered_fps=, fps= and gbps= (received frames and bits per second).\n"
"\n"
"  --mode=packet      a switch holds the taps' descriptors: use packet sockets\n"
"  --mode=fd          a bridge holds the interfaces: use the taps' descriptors\n"
"  --size=BYTES       frame length without FCS, 60..1514 (default 60)\n"
"  --seconds=S        measured window (default 5)\n"
"  --warmup=S         run this long before measuring (default 0.5)\n"
"  --src=MAC --dst=MAC  the flood's addresses (02:00:00:00:00:0a, :0b)\n"
"  --spin             when A's queue is full, retry at once (default: nap\n"
"                     0.2 ms, the queue stays full and the core is free)\n");
}

/* The counters at one moment: a measurement is the difference of two. */
struct counts {
	double t;
	uint64_t offered, sent, received, bytes;
};

static struct counts take_counts(struct bench *b)
{
	return (struct counts){
		.t = now(),
		.offered = atomic_load(&b->offered),
		.sent = atomic_load(&b->sent),
		.received = atomic_load(&b->received),
		.bytes = atomic_load(&b->received_bytes),
	};
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "tx", required_argument, NULL, 't' },
		{ "rx", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'z' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ "spin", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench *b = calloc(1, sizeof(*b));
	pthread_t gen, rx;
	struct counts c0, c1;
	int opt, one = 1, ifindex;

	if (!b)
		die("memory", strerror(ENOMEM));
	b->frame_len = 60;
	b->seconds = 5;
	b->warmup = 0.5;
	parse_mac("02:00:00:00:00:0a", b->src);
	parse_mac("02:00:00:00:00:0b", b->dst);
	b->mode = -1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (!strcmp(optarg, "packet"))
				b->mode = MODE_PACKET;
			else if (!strcmp(optarg, "fd"))
				b->mode = MODE_FD;
			else
				die(optarg, "--mode is packet or fd");
			break;
		case 't': b->tx_name = optarg; break;
		case 'r': b->rx_name = optarg; break;
		case 'z':
			b->frame_len = strtoul(optarg, NULL, 10);
			if (b->frame_len < 60 || b->frame_len > FRAME_MAX)
				die("--size", "must be from 60 to 1514");
			break;
		case 's': b->seconds = atof(optarg); break;
		case 'w': b->warmup = atof(optarg); break;
		case 'S': parse_mac(optarg, b->src); break;
		case 'D': parse_mac(optarg, b->dst); break;
		case 'P': b->spin = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((int)b->mode < 0 || !b->tx_name || !b->rx_name || b->seconds <= 0 ||
	    b->warmup < 0 || optind < argc) {
		usage(stderr);
		return 2;
	}

	if (b->mode == MODE_PACKET) {
		/* Straight to A's transmit routine, past the qdisc. */
		b->tx_fd = open_packet(b->tx_name, 0, &ifindex);
		if (setsockopt(b->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
			die("PACKET_QDISC_BYPASS", strerror(errno));
		b->rx_fd = open_packet(b->rx_name, FLOOD_TYPE, &b->rx_ifindex);
		setup_rx_ring(b);
	} else {
		b->tx_fd = open_tap(b->tx_name);
		b->rx_fd = open_tap(b->rx_name);
		fcntl(b->rx_fd, F_SETFL, O_NONBLOCK);
	}

	if (pthread_create(&rx, NULL, b->mode == MODE_PACKET ? receiver_packet : receiver_fd, b))
		die("receiver thread", strerror(errno));
	send_learning_frame(b);
	sleep_for(0.1);
	prctl(PR_SET_TIMERSLACK, 1000UL);	/* naps of 0.2 ms, not 0.25 */
	if (pthread_create(&gen, NULL, generator, b))
		die("generator thread", strerror(errno));

	sleep_for(b->warmup);
	c0 = take_counts(b);
	sleep_for(b->seconds);
	c1 = take_counts(b);
	atomic_store(&b->stop, true);
	pthread_join(gen, NULL);
	pthread_join(rx, NULL);
	if (b->mode == MODE_PACKET) {
		struct tpacket_stats_v3 st;
		socklen_t len = sizeof(st);

		/* A receiver that lost frames would make the switch look slow. */
		if (getsockopt(b->rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 &&
		    st.tp_drops)
			fprintf(stderr, PROGRAM ": warning: the receive ring on %s lost %u frames\n",
				b->rx_name, st.tp_drops);
	}

	printf("offered=%llu sent=%llu received=%llu bytes=%llu seconds=%.3f "
	       "offered_fps=%.0f fps=%.0f gbps=%.4f\n",
	       (unsigned long long)(c1.offered - c0.offered),
	       (unsigned long long)(c1.sent - c0.sent),
	       (unsigned long long)(c1.received - c0.received),
	       (unsigned long long)(c1.bytes - c0.bytes), c1.t - c0.t,
	       (double)(c1.offered - c0.offered) / (c1.t - c0.t),
	       (double)(c1.received - c0.received) / (c1.t - c0.t),
	       (double)(c1.bytes - c0.bytes) * 8 / (c1.t - c0.t) / 1e9);
	return 0;
}
