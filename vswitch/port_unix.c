/*
 * port_unix.c: peers on unix sockets, in QEMU's two framings.
 *
 * stream:PATH listens on PATH.  Every peer that connects (QEMU with
 * "-netdev stream,server=off,addr.type=unix,addr.path=PATH", or any
 * program) becomes a port of its own, named LISTENER.N, with the
 * listener's options.  On the stream, each frame is a 4-byte big-endian
 * length and then that many bytes.  A peer is trusted with nothing: a
 * length of zero or one no frame can have (over 64 KiB) means the stream
 * is garbage and the peer is dropped; a frame longer than the port's MTU
 * allows is skipped and counted; a peer that closes in the middle of a
 * frame is gone, and so is the half frame.  Only that peer's port goes
 * down.  Reads fill a 64 KiB buffer and every whole frame in it is
 * forwarded, so a busy peer is read in batches.
 *
 * dgram:PATH binds a datagram socket to PATH: one datagram, one frame
 * (QEMU's "-netdev dgram,local.type=unix,local.path=QEMU,remote.type=unix,
 * remote.path=PATH").  Frames go to remote=PATH if given, else to whoever
 * sent the last datagram.  recvmmsg() reads up to VSW_BATCH at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vswitch.h"

#define DGRAM_BUF 16384	/* more than any legal frame: longer is oversize */

/*
 * A socket file left at PATH by an earlier run is in the way: remove it.
 * But only a socket, and only a dead one: if something still answers there
 * (another switch), PATH is in use.
 */
int unix_claim_path(const char *path, int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;	/* nothing there, or not ours to remove: bind says */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : errno;
	close(fd);
	if (r != ECONNREFUSED)
		return -EADDRINUSE;	/* it answered (or is busy, or of another kind) */
	unlink(path);
	return 0;
}

static int bind_unix(struct port *p, int type, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "port %s: socket: %s", p->conf.name, strerror(-r));
		return r;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->conf.arg);
	r = unix_claim_path(p->conf.arg, type);
	if (r < 0) {
		snprintf(err, errlen, "port %s: %s: %s", p->conf.name, p->conf.arg,
			 r == -EADDRINUSE ? "in use (another switch answers there)" : strerror(-r));
		close(fd);
		return r;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		r = -errno;
		snprintf(err, errlen, "port %s: %s: %s", p->conf.name, p->conf.arg, strerror(-r));
		close(fd);
		return r;
	}
	p->watch.fd = fd;
	return 0;
}

int stream_listen(struct port *p, char *err, size_t errlen)
{
	int r = bind_unix(p, SOCK_STREAM, err, errlen);

	p->watch.fn = stream_listen_event;
	return r;
}

void stream_listen_event(struct watch *w, uint32_t events)
{
	struct port *l = container_of(w, struct port, watch);
	int fd;

	(void)events;
	while (!l->dead) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				vsw_log(l->sw, "port %s: accept: %s", l->conf.name, strerror(errno));
			return;
		}
		port_add_connection(l, fd);
	}
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Forward every whole frame in the buffer; false if the peer was dropped. */
static bool stream_parse(struct port *p)
{
	size_t pos = 0, k, limit = p->conf.mtu + ETH_HLEN_ + VLAN_HLEN_;
	uint32_t len;
	char why[128];

	for (;;) {
		if (p->skip) {
			k = p->in_len - pos < p->skip ? p->in_len - pos : p->skip;
			pos += k;
			p->skip -= k;
			if (p->skip)
				break;
			continue;
		}
		if (p->in_len - pos < 4)
			break;
		len = be32(p->in + pos);
		if (len == 0 || len > VSW_READ_MAX - 4) {
			p->c.rx_garbage++;
			snprintf(why, sizeof(why), "garbage on the stream (a frame length of %u)", len);
			port_remove(p, why);
			return false;
		}
		if (len > limit) {
			p->c.rx_frames++;
			p->c.rx_bytes += len;
			p->c.rx_oversize++;
			p->skip = len;
			pos += 4;
			continue;
		}
		if (p->in_len - pos - 4 < len)
			break;
		forward_frame(p->sw, p, p->in + pos + 4, len);
		pos += 4 + len;
	}
	memmove(p->in, p->in + pos, p->in_len - pos);
	p->in_len -= pos;
	return true;
}

void stream_event(struct watch *w, uint32_t events)
{
	struct port *p = container_of(w, struct port, watch);
	char why[128];
	ssize_t n;

	if (p->dead)
		return;
	if (events & EPOLLOUT) {
		port_flush_queue(p);
		if (p->dead)
			return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = read(w->fd, p->in + p->in_len, VSW_READ_MAX - p->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			snprintf(why, sizeof(why), "%s", strerror(errno));
		else if (p->in_len || p->skip) {
			p->c.rx_garbage++;
			snprintf(why, sizeof(why), "the peer closed in the middle of a frame");
		} else
			snprintf(why, sizeof(why), "the peer closed the connection");
		port_remove(p, why);
		return;
	}
	p->in_len += (size_t)n;
	stream_parse(p);
}

int dgram_open(struct port *p, char *err, size_t errlen)
{
	int r = bind_unix(p, SOCK_DGRAM, err, errlen);

	p->watch.fn = dgram_event;
	if (p->conf.remote[0]) {
		p->peer.sun_family = AF_UNIX;
		snprintf(p->peer.sun_path, sizeof(p->peer.sun_path), "%s", p->conf.remote);
		p->peer_len = sizeof(p->peer);
	}
	return r;
}

int dgram_write(struct port *p, const uint8_t *frame, size_t len)
{
	if (!p->peer_len) {
		errno = ENOTCONN;
		return -1;
	}
	return sendto(p->watch.fd, frame, len, 0, (struct sockaddr *)&p->peer, p->peer_len) < 0
		? -1 : 0;
}

void dgram_event(struct watch *w, uint32_t events)
{
	struct port *p = container_of(w, struct port, watch);
	struct vswitch *sw = p->sw;
	struct mmsghdr msgs[VSW_BATCH];
	struct iovec iov[VSW_BATCH];
	struct sockaddr_un from[VSW_BATCH];
	int n, i;

	if (p->dead || !(events & EPOLLIN))
		return;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < VSW_BATCH; i++) {
		iov[i].iov_base = sw->rx_batch + (size_t)i * DGRAM_BUF;
		iov[i].iov_len = DGRAM_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(w->fd, msgs, VSW_BATCH, MSG_DONTWAIT, NULL);
	for (i = 0; i < n && !p->dead; i++) {
		size_t len = msgs[i].msg_len;

		if (!p->conf.remote[0] && msgs[i].msg_hdr.msg_namelen > sizeof(sa_family_t)) {
			memcpy(&p->peer, &from[i], msgs[i].msg_hdr.msg_namelen);
			p->peer_len = msgs[i].msg_hdr.msg_namelen;
		}
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			p->c.rx_frames++;
			p->c.rx_bytes += len;
			p->c.rx_oversize++;
			continue;
		}
		forward_frame(sw, p, iov[i].iov_base, len);
	}
}
