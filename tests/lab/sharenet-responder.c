/*
 * sharenet-responder.c: a DMA endpoint that answers pings on a sharenet.
 *
 * This is the smallest member a sharenet can have that is not a guest: a
 * process that opens /dev/lguest as an endpoint (include/lguest/dma.h), maps
 * the sharenet file, takes a slot like a launcher does (lib/sharenet.c),
 * publishes a MAC in it, and binds receive buffers at its slot's key.  Guests
 * then send it frames exactly as they send them to each other, and lg.ko
 * copies them straight into our buffers.  We answer ARP requests for our
 * address and ICMP echo requests to it, sending the reply to the key of the
 * slot whose MAC the reply is for, as lguest_net does.
 *
 *   sharenet-responder FILE IPV4 [COUNT]
 *
 * prints one line per frame received and per reply sent, and exits 0 after
 * COUNT echo replies (default 3), or 2 if 60 s pass without a frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lguest/devices.h>
#include <lguest/dma.h>
#include <lguest/launcher.h>

#include "sharenet.h"

#define BUFS 8
#define FRAME 1600

static int lg;
static uint8_t *page;
static int me;

static void die(const char *what)
{
	fprintf(stderr, "sharenet-responder: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint16_t checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum);
}

/* Send frame to the slot whose MAC is its destination. */
static void send_frame(uint8_t *frame, size_t len)
{
	struct lguest_dma dma = { .addr = { (uintptr_t)frame }, .len = { len } };
	struct lguest_send req = { .request = LHREQ_SEND_DMA, .dma = (uintptr_t)&dma };
	unsigned int slot;

	for (slot = 0; slot < LGUEST_NET_SLOTS; slot++) {
		if ((int)slot == me || memcmp(page + 8 * slot, frame, 6))
			continue;
		req.key = (uintptr_t)(page + 8 * slot);
		dma.used_len = 0;
		if (write(lg, &req, sizeof(req)) != sizeof(req))
			die("LHREQ_SEND_DMA");
		printf("sent %zu bytes to slot %u: %u delivered\n", len, slot, dma.used_len);
	}
}

/* Answer frame if it is an ARP request or an echo request for ip. */
static int answer(uint8_t *f, size_t len, const uint8_t mac[6], uint32_t ip)
{
	uint16_t type = f[12] << 8 | f[13];

	if (type == 0x0806 && len >= 42 && f[21] == 1 && !memcmp(f + 38, &ip, 4)) {
		memcpy(f, f + 6, 6);			/* to the asker */
		memcpy(f + 6, mac, 6);
		f[21] = 2;				/* reply */
		memcpy(f + 32, f + 22, 10);		/* target = sender */
		memcpy(f + 22, mac, 6);
		memcpy(f + 28, &ip, 4);
		printf("ARP request for us: replying\n");
		send_frame(f, 42);
		return 0;
	}
	if (type == 0x0800 && len >= 42 && f[23] == 1 && !memcmp(f + 30, &ip, 4) &&
	    f[34] == 8) {
		size_t ihl = (f[14] & 0xf) * 4, iplen = f[16] << 8 | f[17];

		if (iplen + 14 > len || ihl < 20)
			return 0;
		memcpy(f, f + 6, 6);
		memcpy(f + 6, mac, 6);
		memcpy(f + 30, f + 26, 4);		/* back to the sender */
		memcpy(f + 26, &ip, 4);
		f[24] = f[25] = 0;
		memcpy(f + 24, (uint16_t[]){ checksum(f + 14, ihl) }, 2);
		f[14 + ihl] = 0;			/* echo reply */
		f[16 + ihl] = f[17 + ihl] = 0;
		memcpy(f + 16 + ihl, (uint16_t[]){ checksum(f + 14 + ihl, iplen - ihl) }, 2);
		printf("echo request for us: replying\n");
		send_frame(f, 14 + iplen);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BUFS][FRAME];
	static struct lguest_dma bufs[BUFS];
	struct lguest_bind bind = { .request = LHREQ_BIND_DMA, .num = BUFS, .irq = 1 };
	struct lguest_exit ev;
	struct in_addr ip;
	const char *why;
	uint8_t mac[6];
	int fd, i, replies = 0, want = argc > 3 ? atoi(argv[3]) : 3;

	if (argc < 3 || !inet_aton(argv[2], &ip)) {
		fprintf(stderr, "usage: sharenet-responder FILE IPV4 [COUNT]\n");
		return 1;
	}
	fd = sharenet_file_open(argv[1], &why);
	if (fd < 0) {
		fprintf(stderr, "sharenet-responder: %s: %s\n", argv[1], why);
		return 1;
	}
	page = mmap(NULL, SHARENET_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		die(argv[1]);
	me = sharenet_take_slot(fd);
	if (me < 0)
		die("taking a slot");
	lg = open(LGUEST_DEVICE, O_RDWR);
	if (lg < 0)
		die(LGUEST_DEVICE);

	for (i = 0; i < BUFS; i++) {
		bufs[i].addr[0] = (uintptr_t)frames[i];
		bufs[i].len[0] = FRAME;
	}
	bind.key = (uintptr_t)(page + 8 * me);
	bind.dmas = (uintptr_t)bufs;
	if (write(lg, &bind, sizeof(bind)) != sizeof(bind))
		die("LHREQ_BIND_DMA");
	sharenet_make_mac(mac, me);
	memcpy(page + 8 * me, mac, 6);		/* now guests send to us */
	printf("slot %d, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s\n", me,
	       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], argv[2]);
	fflush(stdout);

	while (replies < want) {
		struct pollfd p = { .fd = lg, .events = POLLIN };

		if (poll(&p, 1, 60000) == 0) {
			fprintf(stderr, "sharenet-responder: no frame for 60 s\n");
			return 2;
		}
		if (read(lg, &ev, sizeof(ev)) < 0)
			die("read");
		for (i = 0; i < BUFS; i++) {
			uint32_t len = __atomic_load_n(&bufs[i].used_len, __ATOMIC_ACQUIRE);

			if (!len)
				continue;
			printf("received %u bytes, ethertype %02x%02x\n", len,
			       frames[i][12], frames[i][13]);
			replies += answer(frames[i], len, mac, ip.s_addr);
			__atomic_store_n(&bufs[i].used_len, 0, __ATOMIC_RELEASE);
		}
		fflush(stdout);
	}
	memset(page + 8 * me, 0, 6);
	return 0;
}
