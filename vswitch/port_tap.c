/*
 * port_tap.c: a port that is a Linux network interface.
 *
 * A tap is an interface whose wire is a file descriptor: what the kernel
 * sends out of it we read(), what we write() arrives as if off a cable.
 * tap:NAME opens /dev/net/tun and asks for the tap NAME: the kernel makes
 * it if there is none (then it is ours, brought up here, and it vanishes
 * when we close it), or attaches us to an existing one (one made with
 * "ip tuntap add", say, which we leave as we found it).
 *
 * A tap gives one frame per read(), so a wakeup reads up to VSW_BATCH of
 * them in a row; with io_uring (uring.c), reads and writes are instead
 * posted in a ring and the descriptor is watched only for errors.  If the
 * interface is deleted under us, the descriptor reports an error: that port
 * goes down, and only that one.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "vswitch.h"


/* Bring the interface up, with the port's MTU. */
static int tap_configure(struct port *p)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", p->conf.arg);
	ifr.ifr_mtu = (int)p->conf.mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		r = -errno;
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

int tap_open(struct port *p, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	bool existed = if_nametoindex(p->conf.arg) != 0;
	int fd, r;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "port %s: /dev/net/tun: %s", p->conf.name, strerror(-r));
		return r;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", p->conf.arg);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		if (existed && (r == -EINVAL || r == -EPERM))
			snprintf(err, errlen, "port %s: %s exists and is not a tap we may attach to (%s)",
				 p->conf.name, p->conf.arg, strerror(-r));
		else if (existed && r == -EBUSY)
			snprintf(err, errlen, "port %s: tap %s is in use by another process",
				 p->conf.name, p->conf.arg);
		else
			snprintf(err, errlen, "port %s: tap %s: %s", p->conf.name, p->conf.arg,
				 strerror(-r));
		close(fd);
		return r;
	}
	p->tap_created = !existed;
	p->watch.fd = fd;
	p->watch.fn = tap_event;
	if (p->tap_created && (r = tap_configure(p)) < 0) {
		snprintf(err, errlen, "port %s: bringing %s up with MTU %u: %s", p->conf.name,
			 p->conf.arg, p->conf.mtu, strerror(-r));
		close(fd);
		p->watch.fd = -1;
		return r;
	}
	if (p->sw->uring && (r = uring_tap_start(p->sw->uring, p)) < 0) {
		snprintf(err, errlen, "port %s: io_uring: %s", p->conf.name, strerror(-r));
		close(fd);
		p->watch.fd = -1;
		return r;
	}
	return 0;
}

int tap_write(struct port *p, const uint8_t *frame, size_t len)
{
	ssize_t n = write(p->watch.fd, frame, len);

	return n < 0 ? -1 : 0;
}

void tap_event(struct watch *w, uint32_t events)
{
	struct port *p = container_of(w, struct port, watch);
	struct vswitch *sw = p->sw;
	char why[128];
	ssize_t n;
	int i;

	if (p->dead)
		return;
	if (events & EPOLLOUT) {
		port_flush_queue(p);
		if (p->dead)
			return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		port_remove(p, "the interface went away");
		return;
	}
	if (p->io)
		return;		/* its frames come through the io_uring */
	for (i = 0; i < VSW_BATCH && !p->dead; i++) {
		n = read(w->fd, sw->rx, VSW_READ_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			snprintf(why, sizeof(why), "the interface went away (read: %s)",
				 strerror(errno));
			port_remove(p, why);
			return;
		}
		forward_frame(sw, p, sw->rx, (size_t)n);
	}
}
