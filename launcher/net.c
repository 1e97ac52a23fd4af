/*
 * net.c: --sharenet and --tunnet, the guest's side of a network.
 *
 * Every lguest network is a sharenet segment: one page of 512 MAC slots
 * (include/lguest/devices.h).  A guest owns one slot; the key of slot n is
 * the address of that slot, page + 8 * n, and the guest binds its receive
 * buffers there.  To transmit it sends the frame to the slots of the MACs it
 * is for, and to the slots marked "send me everything".  lg.ko does the
 * copying, and the launcher only hears of a send that found nobody bound.
 *
 * --sharenet=FILE: the page is FILE (created 0600, one page long), mapped
 * shared into every guest that names it, so all of them are on one network
 * and lg.ko copies their frames from guest to guest without us.  A launcher
 * claims its guest's slot with a lock on the slot's eight bytes of the file:
 * an "open file description" lock, which no other launcher (nor another
 * --sharenet of ours on the same file) can take while we live, and which the
 * kernel drops when we die, however we die.  The first slot nobody holds is
 * ours; whatever a dead guest left in it is wiped.  A send that comes back
 * to us is to a slot nobody serves (its guest is gone): 0 bytes.
 *
 * --tunnet: the page is private to the guest (plain guest memory).  The
 * guest has slot 0, and the host's tap (tap.c) sits at slot 1 with a MAC
 * marked "send me everything", so the guest sends every frame there.  Nobody
 * binds slot 1: each of those sends comes back to us, and we write the frame
 * to the tap.  The other way, a thread reads frames from the tap and puts
 * each into a free buffer the guest bound at slot 0, which lg.ko finds for us
 * (LHREQ_GETDMA), then raises the guest's interrupt.  When the guest has no
 * free buffer (or has not bound any yet) the frame is dropped, as a full
 * network card drops it, and counted.
 */
#define _GNU_SOURCE		/* F_OFD_SETLK */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lguest.h"
#include "sharenet.h"

#define NET_PAGE	SHARENET_PAGE
#define NET_MTU		1500
#define TUNNET_PREFIX	24		/* the tap's address is IPADDR/24 */
#define FRAME_MAX	65536		/* the most a tap gives in one read() */

struct net {
	struct guest *g;
	uint32_t slot;			/* the guest's */
	uint8_t mac[6];			/* the guest's */

	int file_fd;			/* --sharenet: the file, and our lock */

	const char *bridge;		/* --tunnet=bridge:NAME */
	struct in_addr addr;		/* --tunnet=IPADDR */
	char tap[TAP_NAME_MAX];
	int tap_fd;

	/* counters */
	uint64_t unbound;		/* sends to a slot nobody serves */
	uint64_t tx_frames, tx_bytes, tx_errors;	/* guest -> tap */
	uint64_t rx_frames, rx_bytes;			/* tap -> guest */
	uint64_t rx_no_buffer, rx_too_big, rx_bad;
};

static struct net *net_new(struct guest *g, struct device *dev)
{
	struct net *net = calloc(1, sizeof(*net));

	if (!net)
		die("out of memory");
	net->g = g;
	net->file_fd = -1;
	net->tap_fd = -1;
	dev->state = net;
	return net;
}

static void describe(struct device *dev, const struct net *net, uint16_t features)
{
	dev->desc->type = LGUEST_DEVICE_NET;
	dev->desc->features = features;
	dev->desc->config.net.slot = net->slot;
	dev->desc->config.net.mtu = NET_MTU;
	memcpy(dev->desc->config.net.mac, net->mac, 6);
}

static uint8_t *slot_of(const struct device *dev, uint32_t slot)
{
	return dev->page + slot * sizeof(struct lguest_net_slot);
}

static const char *mac_string(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

/* --- sharenet ------------------------------------------------------------ */

static void sharenet_open(struct guest *g, struct device *dev)
{
	struct net *net = net_new(g, dev);
	const char *why;
	int slot;

	net->file_fd = sharenet_file_open(dev->arg, &why);
	if (net->file_fd < 0)
		device_die(dev, "%s", why);
	slot = sharenet_take_slot(net->file_fd);
	if (slot < 0 && errno == ENOSPC)
		device_die(dev, "all %zu slots are taken", LGUEST_NET_SLOTS);
	if (slot < 0)
		device_die(dev, "cannot lock a slot: %s", strerror(errno));
	net->slot = slot;
	sharenet_make_mac(net->mac, slot);
}

/* The file's page replaces the anonymous one, at the same guest address. */
static void sharenet_map(struct guest *g, struct device *dev)
{
	struct net *net = dev->state;

	(void)g;
	if (mmap(dev->page, NET_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 net->file_fd, 0) == MAP_FAILED)
		device_die(dev, "cannot map it: %s", strerror(errno));
	memset(slot_of(dev, net->slot), 0, sizeof(struct lguest_net_slot));
	describe(dev, net, 0);
}

/* A send to a slot that nobody bound: a guest that went away. */
static void net_unbound(struct net *net, struct lguest_dma *dma)
{
	count_add(&net->unbound, 1);
	store_release_u32(&dma->used_len, 0);
}

static void sharenet_dma(struct guest *g, struct device *dev, uint64_t key,
			 struct lguest_dma *dma)
{
	(void)g;
	(void)key;
	net_unbound(dev->state, dma);
}

/* Our guest is gone: free its slot, so that nobody sends to it any more. */
static void sharenet_stop(struct guest *g, struct device *dev)
{
	struct net *net = dev->state;

	(void)g;
	memset(slot_of(dev, net->slot), 0, sizeof(struct lguest_net_slot));
}

static void sharenet_report(const struct guest *g, const struct device *dev,
			    bool at_exit)
{
	const struct net *net = dev->state;
	char mac[18];

	if (at_exit)
		verbose(g, "--sharenet=%s: %llu sends to slots nobody served",
			dev->arg, (unsigned long long)net->unbound);
	else
		verbose(g, "  %u: net, sharenet %s, slot %u, MAC %s, irq %u, page %#llx",
			dev->index, dev->arg, net->slot, mac_string(net->mac, mac),
			dev->irq, (unsigned long long)dev->mem);
}

const struct device_ops sharenet_ops = {
	.option = "sharenet",
	.open = sharenet_open,
	.map = sharenet_map,
	.dma = sharenet_dma,
	.stop = sharenet_stop,
	.report = sharenet_report,
};

/* --- tunnet ---------------------------------------------------------------- */

/* An address for the host's end: one a /24 can give to a host. */
static const char *bad_ipv4(struct in_addr addr)
{
	uint32_t a = ntohl(addr.s_addr);

	if (a == 0)
		return "not an address a host can have";
	if ((a >> 24) == 127)
		return "a loopback address";
	if ((a >> 28) == 14)
		return "a multicast address";
	if ((a >> 28) == 15)
		return "a reserved address";
	if ((a & 0xff) == 0)
		return "the network address of its /24";
	if ((a & 0xff) == 0xff)
		return "the broadcast address of its /24";
	return NULL;
}

static void tunnet_open(struct guest *g, struct device *dev)
{
	struct net *net = net_new(g, dev);
	char kind[TAP_NAME_MAX];
	const char *why;
	int err;

	if (!strncmp(dev->arg, "bridge:", 7)) {
		net->bridge = dev->arg + 7;
		if (!net->bridge[0])
			device_die(dev, "no bridge name after \"bridge:\"");
		err = link_kind(net->bridge, kind);
		if (err == -ENODEV)
			device_die(dev, "no bridge %s", net->bridge);
		if (err)
			device_die(dev, "cannot look for bridge %s: %s", net->bridge,
				   strerror(-err));
		if (strcmp(kind, "bridge"))
			device_die(dev, "no bridge %s (%s is %s%s interface, not a bridge)",
				   net->bridge, net->bridge, kind[0] ? "a " : "an", kind);
	} else {
		if (inet_pton(AF_INET, dev->arg, &net->addr) != 1)
			device_die(dev, "not an IPv4 address (nor bridge:NAME)");
		why = bad_ipv4(net->addr);
		if (why)
			device_die(dev, "%s, not one for the host's end of a tap", why);
	}
	net->slot = 0;
	sharenet_make_mac(net->mac, net->slot);
}

static void tunnet_map(struct guest *g, struct device *dev)
{
	(void)g;
	describe(dev, dev->state, LGUEST_NET_F_TUNNET);
}

/* The tap: made, addressed or bridged, up, and put in slot 1. */
static void tunnet_connect(struct guest *g, struct device *dev)
{
	struct net *net = dev->state;
	uint8_t *tap_slot = slot_of(dev, LGUEST_NET_TAP_SLOT);
	uint8_t mac[6];
	int err;

	(void)g;
	net->tap_fd = tap_create(net->tap);
	if (net->tap_fd == -ENOENT || net->tap_fd == -ENODEV || net->tap_fd == -ENXIO)
		device_die(dev, "cannot create a tap: /dev/net/tun: %s (this kernel needs the tun module)",
			   strerror(-net->tap_fd));
	if (net->tap_fd == -EPERM || net->tap_fd == -EACCES)
		device_die(dev, "cannot create a tap: %s (run lguest as root)",
			   strerror(-net->tap_fd));
	if (net->tap_fd < 0)
		device_die(dev, "cannot create a tap: %s", strerror(-net->tap_fd));

	if (net->bridge) {
		err = bridge_add_port(net->bridge, net->tap);
		if (err == -ENODEV)
			device_die(dev, "no bridge %s", net->bridge);
		if (err)
			device_die(dev, "cannot add tap %s to bridge %s: %s", net->tap,
				   net->bridge, strerror(-err));
	} else {
		err = tap_set_ipv4(net->tap, &net->addr, TUNNET_PREFIX);
		if (err)
			device_die(dev, "cannot give tap %s the address %s/%d: %s", net->tap,
				   dev->arg, TUNNET_PREFIX, strerror(-err));
	}
	err = tap_set_up(net->tap);
	if (err)
		device_die(dev, "cannot bring tap %s up: %s", net->tap, strerror(-err));

	if (tap_mac(net->tap, mac) < 0)
		memset(mac, 0, sizeof(mac));
	mac[0] |= LGUEST_NET_PROMISC;	/* "send me everything" */
	memcpy(tap_slot, mac, 6);
}

/* One frame from the tap into a free buffer of the guest's, if it has one. */
static void tunnet_deliver(struct guest *g, struct device *dev, struct net *net,
			   const uint8_t *frame, size_t len)
{
	struct lguest_getdma req = {
		.request = LHREQ_GETDMA,
		.key = dev->mem + net->slot * sizeof(struct lguest_net_slot),
	};
	struct iovec iov[LGUEST_DMA_SECTIONS];
	struct lguest_dma *buf, copy;
	uint64_t room;
	size_t done = 0;
	int n;

	if (write(g->fd, &req, sizeof(req)) != sizeof(req)) {
		count_add(errno == ENOENT ? &net->rx_no_buffer : &net->rx_bad, 1);
		return;
	}
	buf = guest_ram(g, req.dma, sizeof(*buf));
	if (!buf || (req.dma & 7)) {
		count_add(&net->rx_bad, 1);
		return;
	}
	memcpy(&copy, buf, sizeof(copy));	/* the guest runs on: check a copy */
	n = dma_sections(g, &copy, 0, iov, &room);
	if (n <= 0) {
		count_add(&net->rx_bad, 1);
		return;
	}
	if (len > room) {
		count_add(&net->rx_too_big, 1);
		return;
	}
	for (int i = 0; i < n && done < len; i++) {
		size_t part = len - done < iov[i].iov_len ? len - done : iov[i].iov_len;

		memcpy(iov[i].iov_base, frame + done, part);
		done += part;
	}
	store_release_u32(&buf->used_len, len);
	count_add(&net->rx_frames, 1);
	count_add(&net->rx_bytes, len);
	device_irq(g, req.irq);
}

static void *tunnet_receive(void *arg)
{
	struct device *dev = arg;
	struct net *net = dev->state;
	uint8_t *frame = malloc(FRAME_MAX);

	if (!frame)
		return NULL;
	for (;;) {
		ssize_t n = read(net->tap_fd, frame, FRAME_MAX);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || __atomic_load_n(&net->g->stopping, __ATOMIC_ACQUIRE))
			break;
		tunnet_deliver(net->g, dev, net, frame, n);
	}
	free(frame);
	return NULL;
}

static void tunnet_start(struct guest *g, struct device *dev)
{
	pthread_t thread;
	sigset_t all, old;

	/* Signals are for the main thread, whose read() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&thread, NULL, tunnet_receive, dev) != 0)
		device_die(dev, "cannot start the tap's thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(thread);
	(void)g;
}

/* The guest sent a frame: slot 1's is for the tap, any other has nobody. */
static void tunnet_dma(struct guest *g, struct device *dev, uint64_t key,
		       struct lguest_dma *dma)
{
	struct net *net = dev->state;
	struct iovec iov[LGUEST_DMA_SECTIONS];
	uint64_t len;
	ssize_t sent;
	int n;

	if (key != dev->mem + LGUEST_NET_TAP_SLOT * sizeof(struct lguest_net_slot)) {
		net_unbound(net, dma);
		return;
	}
	n = dma_sections(g, dma, 0, iov, &len);
	sent = n > 0 ? writev(net->tap_fd, iov, n) : -1;
	if (sent < 0) {
		count_add(&net->tx_errors, 1);
		store_release_u32(&dma->used_len, 0);
		return;
	}
	count_add(&net->tx_frames, 1);
	count_add(&net->tx_bytes, sent);
	store_release_u32(&dma->used_len, sent);
}

static void tunnet_report(const struct guest *g, const struct device *dev,
			  bool at_exit)
{
	const struct net *net = dev->state;
	char mac[18];

	if (!at_exit) {
		verbose(g, "  %u: net, tunnet to tap %s (%s%s%s), guest MAC %s, irq %u, page %#llx",
			dev->index, net->tap, net->bridge ? "in bridge " : "",
			net->bridge ? net->bridge : dev->arg, net->bridge ? "" : "/24",
			mac_string(net->mac, mac), dev->irq, (unsigned long long)dev->mem);
		return;
	}
	verbose(g, "--tunnet=%s: tap %s: %llu frames (%llu bytes) to the tap, %llu failed; %llu frames (%llu bytes) to the guest, %llu dropped with no free buffer, %llu too big, %llu bad buffers; %llu sends to other slots",
		dev->arg, net->tap,
		(unsigned long long)net->tx_frames, (unsigned long long)net->tx_bytes,
		(unsigned long long)net->tx_errors,
		(unsigned long long)net->rx_frames, (unsigned long long)net->rx_bytes,
		(unsigned long long)net->rx_no_buffer, (unsigned long long)net->rx_too_big,
		(unsigned long long)net->rx_bad, (unsigned long long)net->unbound);
}

const struct device_ops tunnet_ops = {
	.option = "tunnet",
	.open = tunnet_open,
	.map = tunnet_map,
	.connect = tunnet_connect,
	.start = tunnet_start,
	.dma = tunnet_dma,
	.report = tunnet_report,
};
