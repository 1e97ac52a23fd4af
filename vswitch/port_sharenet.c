/*
 * port_sharenet.c: a port that is a whole sharenet segment.
 *
 * Guests started with --sharenet=FILE are on one Ethernet segment: lg.ko
 * copies each frame from the sender's memory into the receivers' (see
 * include/lguest/devices.h for the slot page and its rules).  This port joins
 * such a segment the way a guest does, but as a DMA endpoint: we open
 * /dev/lguest without creating a guest, map FILE, take a free slot with the
 * same lock a launcher takes (lib/sharenet.c), bind receive buffers in our
 * own memory at our slot's key, and publish a MAC with the "send me
 * everything" bit.  Every guest then sends us every frame it sends, lg.ko
 * puts them straight into our buffers, and read() on /dev/lguest says when.
 *
 * Out of the port, a frame goes to each slot that would take it from a guest:
 * the slot whose MAC is the destination, every slot in use for broadcast and
 * multicast, and every promiscuous slot (another switch).  One LHREQ_SEND_DMA
 * per receiver; lg.ko copies it from our memory into the guest's, or drops
 * it (and counts) when that guest's ring is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lguest/devices.h>
#include <lguest/dma.h>
#include <lguest/launcher.h>

#include "sharenet.h"
#include "vswitch.h"

#define SHARENET_BUFS	LGUEST_DMA_MAX_BUFS

struct sharenet_port {
	int file_fd;		/* the sharenet file: holds our slot's lock */
	int slot;
	uint8_t *page;		/* the file's page, MAP_SHARED */
	uint8_t mac[6];
	unsigned int next;	/* lg.ko fills buffers in ring order: so do we read */
	struct lguest_dma bufs[SHARENET_BUFS];
	uint8_t frames[SHARENET_BUFS][VSW_FRAME_MAX];
};

static uint8_t *slot_mac(const struct sharenet_port *sn, unsigned int slot)
{
	return sn->page + slot * sizeof(struct lguest_net_slot);
}

int sharenet_port_open(struct port *p, char *err, size_t errlen)
{
	struct sharenet_port *sn = calloc(1, sizeof(*sn));
	struct lguest_bind bind = { .request = LHREQ_BIND_DMA, .num = SHARENET_BUFS, .irq = 1 };
	const char *why = NULL;
	int i, fd = -1;

	if (!sn) {
		snprintf(err, errlen, "port %s: out of memory", p->conf.name);
		return -ENOMEM;
	}
	sn->page = MAP_FAILED;
	sn->file_fd = sharenet_file_open(p->conf.arg, &why);
	if (sn->file_fd < 0)
		goto fail;
	sn->page = mmap(NULL, SHARENET_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			sn->file_fd, 0);
	if (sn->page == MAP_FAILED) {
		why = strerror(errno);
		goto fail;
	}
	sn->slot = sharenet_take_slot(sn->file_fd);
	if (sn->slot < 0) {
		why = errno == ENOSPC ? "every slot is taken" : strerror(errno);
		goto fail;
	}
	fd = open(LGUEST_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "port %s: %s: %s%s", p->conf.name, LGUEST_DEVICE,
			 strerror(errno), errno == ENOENT ? " (is lg.ko loaded?)" : "");
		goto fail_quiet;
	}
	for (i = 0; i < SHARENET_BUFS; i++) {
		sn->bufs[i].addr[0] = (uintptr_t)sn->frames[i];
		sn->bufs[i].len[0] = VSW_FRAME_MAX;
	}
	bind.key = (uintptr_t)slot_mac(sn, sn->slot);
	bind.dmas = (uintptr_t)sn->bufs;
	if (write(fd, &bind, sizeof(bind)) != sizeof(bind)) {
		snprintf(err, errlen, "port %s: binding our slot's key in lg.ko: %s",
			 p->conf.name, strerror(errno));
		goto fail_quiet;
	}
	/* Bound first, published second: nobody sends to a slot with no MAC. */
	sharenet_make_mac(sn->mac, sn->slot);
	sn->mac[0] |= LGUEST_NET_PROMISC;
	memcpy(slot_mac(sn, sn->slot), sn->mac, 6);

	p->sharenet = sn;
	p->watch.fd = fd;
	p->watch.fn = sharenet_port_event;
	return 0;

fail:
	snprintf(err, errlen, "port %s: sharenet %s: %s", p->conf.name, p->conf.arg, why);
fail_quiet:
	if (fd >= 0)
		close(fd);
	if (sn->page != MAP_FAILED)
		munmap(sn->page, SHARENET_PAGE);
	if (sn->file_fd >= 0)
		close(sn->file_fd);
	free(sn);
	return -EINVAL;
}

/* Leave the segment: our MAC first, so that guests stop sending to us. */
void sharenet_port_close(struct port *p)
{
	struct sharenet_port *sn = p->sharenet;

	if (!sn)
		return;
	memset(slot_mac(sn, sn->slot), 0, 6);
	munmap(sn->page, SHARENET_PAGE);
	close(sn->file_fd);
	free(sn);
	p->sharenet = NULL;
}

int sharenet_port_write(struct port *p, const uint8_t *frame, size_t len)
{
	struct sharenet_port *sn = p->sharenet;
	struct lguest_dma dma = { .addr = { (uintptr_t)frame }, .len = { (uint16_t)len } };
	struct lguest_send send = { .request = LHREQ_SEND_DMA, .dma = (uintptr_t)&dma };
	bool group = frame[0] & 1;
	unsigned int slot;
	int r = 0;

	for (slot = 0; slot < LGUEST_NET_SLOTS; slot++) {
		const uint8_t *mac = slot_mac(sn, slot);

		if ((int)slot == sn->slot || !memcmp(mac, "\0\0\0\0\0", 6))
			continue;
		if (!group && !(mac[0] & LGUEST_NET_PROMISC) && memcmp(mac, frame, 6))
			continue;
		send.key = (uintptr_t)mac;
		dma.used_len = 0;
		if (write(p->watch.fd, &send, sizeof(send)) != sizeof(send))
			r = -1;
	}
	return r;
}

void sharenet_port_event(struct watch *w, uint32_t events)
{
	struct port *p = container_of(w, struct port, watch);
	struct sharenet_port *sn = p->sharenet;
	struct lguest_exit ev;
	unsigned int n, i;
	uint32_t len;

	if (p->dead)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		port_remove(p, "/dev/lguest went away");
		return;
	}
	/* Which binding got frames: we have one; the read re-arms the next. */
	if (read(w->fd, &ev, sizeof(ev)) < 0 && errno != EAGAIN) {
		port_remove(p, "reading /dev/lguest failed");
		return;
	}
	for (n = 0; n < SHARENET_BUFS && !p->dead; n++) {
		i = (sn->next + n) % SHARENET_BUFS;
		len = __atomic_load_n(&sn->bufs[i].used_len, __ATOMIC_ACQUIRE);
		if (!len)
			continue;
		/* Free the buffer before forwarding: lg.ko may fill it again at once. */
		memcpy(p->sw->rx, sn->frames[i], len);
		__atomic_store_n(&sn->bufs[i].used_len, 0, __ATOMIC_RELEASE);
		sn->next = (i + 1) % SHARENET_BUFS;
		forward_frame(p->sw, p, p->sw->rx, len);
	}
}
