/*
 * port.c: what every port has, whatever its kind.
 *
 * A port is born from a spec, the same text on the command line
 * (--port tap:tap0,vlan=10) and on the control socket (port add ...):
 *
 *   KIND:WHERE[,OPTION=VALUE]...
 *   tap:NAME      a tap interface, made if missing, attached if it exists
 *   stream:PATH   a unix stream socket the switch listens on; every peer
 *                 that connects (QEMU's -netdev stream) is a port of its own
 *   dgram:PATH    a unix datagram socket (QEMU's -netdev dgram)
 *   sharenet:FILE a sharenet file: every lguest guest on it (a DMA endpoint
 *                 through /dev/lguest, with a promiscuous slot)
 *   options: name=, vlan=, trunk=, mtu=, capture=, capture-size=,
 *            capture-count=, remote= (dgram), down (no value), and
 *            impairments in-delay=, out-loss=... (impair.c)
 *
 * Here a port is opened (by its kind's file), registered with the loop and
 * the port table, closed again, and sent to.  Sending never blocks: a frame
 * a port cannot take now waits in the port's bounded queue, or, when that is
 * full, is dropped and counted.  A port's capture starts before its
 * descriptor is watched, so it records from the port's first frame.
 *
 * A port may be down: its cable cut in the switch, not at the peer (a tap
 * or a guest's interface keeps its carrier).  Nothing crosses it: frames
 * it receives are dropped as they arrive (forward.c), frames for it as they
 * would leave, both counted as admin_drop and neither captured; what the
 * switch learned about it is forgotten when it goes down.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <net/if.h>

#include "size.h"
#include "vswitch.h"

void vsw_log(struct vswitch *sw, const char *fmt, ...)
{
	va_list ap;

	(void)sw;
	va_start(ap, fmt);
	fprintf(stderr, PROGRAM ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *port_kind_name(enum port_kind kind)
{
	switch (kind) {
	case PORT_TAP: return "tap";
	case PORT_STREAM_LISTEN: return "stream-listen";
	case PORT_STREAM: return "stream";
	case PORT_DGRAM: return "dgram";
	case PORT_SHARENET: return "sharenet";
	}
	return "?";
}

/* Letters, digits and ._-+@, not starting with '-' (that is an option:
 * the control command "capture start --switch"). */
static bool name_ok(const char *name)
{
	const char *s;

	if (!*name || *name == '-')
		return false;
	for (s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-+@", *s)))
			return false;
	return true;
}

static const char *parse_uint(const char *v, unsigned long lo, unsigned long hi,
			      unsigned long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return "not a number";
	*out = strtoul(v, &end, 10);
	if (*end || *out < lo || *out > hi)
		return "out of range";
	return NULL;
}

static const char *parse_spec(const char *spec, struct port_conf *conf, char *why, size_t whylen)
{
	char buf[8192], *s, *opt, *save = NULL;
	const char *colon = strchr(spec, ':'), *e;
	unsigned long v = 0;
	uint64_t size = 0;
	bool named = false;

	memset(conf, 0, sizeof(*conf));
	conf->mtu = VSW_MTU_DEFAULT;
	conf->vlan.mode = VLAN_ACCESS;
	conf->vlan.vid = 1;
	if (!colon)
		return "a port is KIND:WHERE (tap:NAME, stream:PATH, dgram:PATH or sharenet:FILE)";
	if (!strncmp(spec, "tap:", 4))
		conf->kind = PORT_TAP;
	else if (!strncmp(spec, "stream:", 7))
		conf->kind = PORT_STREAM_LISTEN;
	else if (!strncmp(spec, "dgram:", 6))
		conf->kind = PORT_DGRAM;
	else if (!strncmp(spec, "sharenet:", 9))
		conf->kind = PORT_SHARENET;
	else
		return "unknown port kind (tap, stream, dgram or sharenet)";
	if (strlen(colon + 1) >= sizeof(buf))
		return "too long";
	strcpy(buf, colon + 1);

	s = strtok_r(buf, ",", &save);
	if (!s)
		return conf->kind == PORT_TAP ? "no interface name" :
		       conf->kind == PORT_SHARENET ? "no sharenet file" : "no socket path";
	if (conf->kind == PORT_TAP) {
		if (strlen(s) >= IFNAMSIZ)
			return "interface names have at most 15 characters";
		if (!name_ok(s))
			return "an interface name is letters, digits and ._-+@ (not starting with -)";
	} else if (strlen(s) >= sizeof(conf->arg)) {
		return "path too long (at most 107 bytes)";
	}
	strcpy(conf->arg, s);

	while ((opt = strtok_r(NULL, ",", &save))) {
		char *val = strchr(opt, '=');

		if (!strcmp(opt, "down")) {
			conf->down = true;
			continue;
		}
		if (!val) {
			snprintf(why, whylen, "option '%s' needs a value (%s=...)", opt, opt);
			return why;
		}
		*val++ = '\0';
		e = NULL;
		if (!strcmp(opt, "name")) {
			if (strlen(val) >= sizeof(conf->name) || !name_ok(val))
				e = "a name is at most 31 letters, digits and ._-+@, not starting with -";
			else
				strcpy(conf->name, val), named = true;
		} else if (!strcmp(opt, "vlan")) {
			e = parse_uint(val, 1, 4094, &v);
			if (e)
				e = "vlan= takes a VLAN id from 1 to 4094";
			conf->vlan.mode = VLAN_ACCESS;
			conf->vlan.vid = (uint16_t)v;
		} else if (!strcmp(opt, "trunk")) {
			e = vlan_parse_trunk(val, &conf->vlan);
		} else if (!strcmp(opt, "mtu")) {
			if (parse_uint(val, 68, VSW_MTU_MAX, &v))
				e = "mtu= takes a number from 68 to 9000";
			conf->mtu = (unsigned int)v;
		} else if (!strcmp(opt, "capture")) {
			if (strlen(val) >= sizeof(conf->capture) || !*val)
				e = "capture= takes a file name";
			else
				strcpy(conf->capture, val);
		} else if (!strcmp(opt, "capture-size")) {
			e = size_parse(val, &size);
			conf->capture_size = size;
		} else if (!strcmp(opt, "capture-count")) {
			if (parse_uint(val, 1, 10000, &v))
				e = "capture-count= takes a number from 1 to 10000";
			conf->capture_count = (unsigned int)v;
		} else if (!strncmp(opt, "in-", 3) || !strncmp(opt, "out-", 4)) {
			bool out = opt[0] == 'o';

			e = impair_parse(opt + (out ? 4 : 3), val, &conf->impair[out]);
		} else if (!strcmp(opt, "remote") && conf->kind == PORT_DGRAM) {
			if (strlen(val) >= sizeof(conf->remote) || !*val)
				e = "remote= takes a socket path of at most 107 bytes";
			else
				strcpy(conf->remote, val);
		} else {
			snprintf(why, whylen, "unknown option '%s'", opt);
			return why;
		}
		if (e) {
			snprintf(why, whylen, "%s=%s: %s", opt, val, e);
			return why;
		}
	}
	if (!named) {
		const char *base = strrchr(conf->arg, '/');

		base = base ? base + 1 : conf->arg;
		snprintf(conf->name, sizeof(conf->name), "%s", base);
		if (!name_ok(conf->name))
			return "give the port a name= (its path does not make one)";
	}
	if (conf->capture_size && !conf->capture_count)
		conf->capture_count = 2;
	return NULL;
}

int port_parse_spec(const char *spec, struct port_conf *conf, char *err, size_t errlen)
{
	char why[200];
	const char *e = parse_spec(spec, conf, why, sizeof(why));

	if (!e)
		return 0;
	snprintf(err, errlen, "port %s: %s", spec, e);
	return -EINVAL;
}

struct port *port_find(struct vswitch *sw, const char *name)
{
	int i;

	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] && !strcmp(sw->ports[i]->conf.name, name))
			return sw->ports[i];
	return NULL;
}

void port_set_down(struct port *p, bool down)
{
	struct vswitch *sw = p->sw;
	int i;

	if (p->conf.kind == PORT_STREAM_LISTEN)	/* and every connection it made */
		for (i = 0; i < VSW_MAX_PORTS; i++)
			if (sw->ports[i] && sw->ports[i]->listener == p->index)
				port_set_down(sw->ports[i], down);
	if (p->conf.down == down)
		return;
	p->conf.down = down;
	if (down)
		fdb_flush_port(&sw->fdb, p->index);
	if (sw->verbose)
		vsw_log(sw, "port %s: set %s", p->conf.name, down ? "down" : "up");
}

static void port_free(void *arg)
{
	struct port *p = arg;

	queue_free(&p->q);
	impair_free(p);
	free(p->in);
	free(p);
}

/* Make a port from CONF; FD >= 0 is an accepted stream connection. */
static struct port *port_create(struct vswitch *sw, const struct port_conf *conf, int fd,
				char *err, size_t errlen)
{
	struct port *p;
	int i, index = -1, r;

	if (port_find(sw, conf->name)) {
		snprintf(err, errlen, "port %s: a port of that name exists", conf->name);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (i = 0; i < VSW_MAX_PORTS && index < 0; i++)
		if (!sw->ports[i])
			index = i;
	p = index < 0 ? NULL : calloc(1, sizeof(*p));
	if (p && conf->kind != PORT_STREAM_LISTEN && queue_init(&p->q, sw->queue_bytes))
		free(p), p = NULL;
	if (p && conf->kind == PORT_STREAM && !(p->in = malloc(VSW_READ_MAX)))
		port_free(p), p = NULL;
	if (!p) {
		snprintf(err, errlen, "port %s: %s", conf->name,
			 index < 0 ? "the switch has 256 ports already" : strerror(ENOMEM));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p->sw = sw;
	p->conf = *conf;
	p->index = index;
	p->capture.id = index;
	snprintf(p->capture.label, sizeof(p->capture.label), "port %s", conf->name);
	p->listener = -1;
	p->watch.fd = -1;

	/* The capture first, so that it sees the first frame. */
	if (conf->capture[0] && conf->kind != PORT_STREAM_LISTEN &&
	    capture_open(sw->cap, &p->capture, conf->capture, conf->capture_size,
			 conf->capture_count, err, errlen)) {
		if (fd >= 0)
			close(fd);
		port_free(p);
		return NULL;
	}

	switch (conf->kind) {
	case PORT_TAP:
		r = tap_open(p, err, errlen);
		break;
	case PORT_STREAM_LISTEN:
		r = stream_listen(p, err, errlen);
		break;
	case PORT_STREAM:
		p->watch.fd = fd;
		p->watch.fn = stream_event;
		r = 0;
		break;
	case PORT_DGRAM:
		r = dgram_open(p, err, errlen);
		break;
	case PORT_SHARENET:
		r = sharenet_port_open(p, err, errlen);
		break;
	default:
		r = -EINVAL;
	}
	if (!r && conf->kind != PORT_STREAM_LISTEN &&
	    (impair_set(p, IMPAIR_IN, &conf->impair[IMPAIR_IN]) ||
	     impair_set(p, IMPAIR_OUT, &conf->impair[IMPAIR_OUT]))) {
		snprintf(err, errlen, "port %s: impairments: %s", conf->name, strerror(ENOMEM));
		r = -ENOMEM;
	}
	/* (A tap whose frames come through io_uring is watched for errors.) */
	if (!r && (r = loop_add(&sw->loop, &p->watch, p->io ? 0 : EPOLLIN)) < 0)
		snprintf(err, errlen, "port %s: epoll: %s", conf->name, strerror(-r));
	if (r) {
		capture_close(sw->cap, &p->capture, NULL);
		sharenet_port_close(p);
		uring_tap_stop(p);
		if (p->watch.fd >= 0) {
			close(p->watch.fd);
			if (conf->kind == PORT_STREAM_LISTEN || conf->kind == PORT_DGRAM)
				unlink(conf->arg);	/* we bound it */
		}
		port_free(p);
		return NULL;
	}
	sw->ports[index] = p;
	if (sw->port_limit <= index)
		sw->port_limit = index + 1;
	if (sw->verbose)
		vsw_log(sw, "port %s: up (%s %s)", p->conf.name, port_kind_name(conf->kind),
			conf->arg);
	return p;
}

struct port *port_add(struct vswitch *sw, const struct port_conf *conf, char *err, size_t errlen)
{
	return port_create(sw, conf, -1, err, errlen);
}

struct port *port_add_connection(struct port *listener, int fd)
{
	struct vswitch *sw = listener->sw;
	struct port_conf conf = listener->conf;
	char err[256];
	struct port *p;
	size_t n;

	conf.kind = PORT_STREAM;
	listener->conn_seq++;
	snprintf(conf.name, sizeof(conf.name), "%.20s.%u", listener->conf.name, listener->conn_seq);
	if (listener->conf.capture[0]) {
		/* cap.pcap -> cap-1.pcap, one file per connection */
		n = strlen(listener->conf.capture);
		if (n > 5 && !strcmp(listener->conf.capture + n - 5, ".pcap"))
			n -= 5;
		snprintf(conf.capture, sizeof(conf.capture), "%.*s-%u%s", (int)n,
			 listener->conf.capture, listener->conn_seq,
			 listener->conf.capture + n);
	}
	p = port_create(sw, &conf, fd, err, sizeof(err));
	if (!p) {
		vsw_log(sw, "%s", err);
		return NULL;
	}
	p->listener = listener->index;
	return p;
}

void port_remove(struct port *p, const char *why)
{
	struct vswitch *sw = p->sw;
	int i;

	if (p->dead)
		return;
	if (why)
		vsw_log(sw, "port %s: down: %s", p->conf.name, why);
	p->dead = true;
	sw->ports[p->index] = NULL;
	loop_del(&sw->loop, &p->watch);
	sharenet_port_close(p);
	uring_tap_stop(p);
	close(p->watch.fd);
	if (p->conf.kind == PORT_STREAM_LISTEN || p->conf.kind == PORT_DGRAM)
		unlink(p->conf.arg);
	if (p->conf.kind == PORT_STREAM_LISTEN)
		for (i = 0; i < VSW_MAX_PORTS; i++)
			if (sw->ports[i] && sw->ports[i]->listener == p->index)
				port_remove(sw->ports[i], NULL);
	fdb_flush_port(&sw->fdb, p->index);
	capture_close(sw->cap, &p->capture, NULL);
	loop_defer_free(&sw->loop, p, port_free);
}

int port_watch_out(struct port *p, bool on)
{
	if (p->out_armed == on)
		return 0;
	p->out_armed = on;
	return loop_mod(&p->sw->loop, &p->watch, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Write what waits in a port's queue, as far as the port takes it now. */
void port_flush_queue(struct port *p)
{
	struct iovec iov[2];
	uint8_t hdr[4];
	ssize_t n;
	size_t len;
	int spans;

	while (!queue_empty(&p->q)) {
		if (p->conf.kind == PORT_STREAM) {
			spans = queue_spans(&p->q, iov);
			n = writev(p->watch.fd, iov, spans);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0) {
				port_remove(p, strerror(errno));
				return;
			}
			queue_drop(&p->q, (size_t)n);
			continue;
		}
		queue_copy_out(&p->q, hdr, 4);
		len = (size_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
		queue_drop(&p->q, 4);
		queue_copy_out(&p->q, p->sw->txbuf, len);
		queue_drop(&p->q, len);
		if (tap_write(p, p->sw->txbuf, len) < 0 && errno == EAGAIN) {
			p->c.tx_queue_drop++;	/* rare: a tap full again; don't spin */
			break;
		}
	}
	port_watch_out(p, !queue_empty(&p->q));
}

void port_send(struct port *p, const uint8_t *frame, size_t len)
{
	/* (A down port's frames are dropped in port_send_now(), not delayed.) */
	if (p->imp[IMPAIR_OUT].active && !p->conf.down && impair_take(p, IMPAIR_OUT, frame, len))
		return;		/* it comes back through port_send_now() */
	port_send_now(p, frame, len);
}

void port_send_now(struct port *p, const uint8_t *frame, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len };
	struct iovec iov[2] = { { hdr, 4 }, { (void *)frame, len } };
	ssize_t n = 0;

	if (p->conf.down) {
		p->c.admin_drop++;
		return;
	}
	if (!queue_empty(&p->q)) {
		if (queue_space(&p->q) < 4 + len) {
			p->c.tx_queue_drop++;
			return;
		}
		queue_put(&p->q, hdr, 4);
		queue_put(&p->q, frame, len);
		goto sent;
	}

	switch (p->conf.kind) {
	case PORT_STREAM:
		n = writev(p->watch.fd, iov, 2);
		if (n < 0 && errno != EAGAIN) {
			port_remove(p, strerror(errno));
			return;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n < 4) {	/* queue what the socket did not take */
			queue_put(&p->q, hdr + n, 4 - (size_t)n);
			queue_put(&p->q, frame, len);
		} else if ((size_t)n < 4 + len) {
			queue_put(&p->q, frame + (n - 4), len - (size_t)(n - 4));
		}
		break;
	case PORT_TAP:
		if (p->io) {
			if (!uring_tap_send(p, frame, len))
				p->c.tx_queue_drop++;
			return;		/* counted and captured once written (uring.c) */
		}
		if (tap_write(p, frame, len) < 0) {
			if (errno != EAGAIN) {
				p->c.tx_error++;
				return;
			}
			queue_put(&p->q, hdr, 4);
			queue_put(&p->q, frame, len);
		}
		break;
	case PORT_DGRAM:
		/* A datagram socket has no queue: a peer that is not there or
		 * cannot take more is a wire that drops. */
		if (dgram_write(p, frame, len) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				p->c.tx_queue_drop++;
			else
				p->c.tx_error++;
			return;
		}
		break;
	case PORT_SHARENET:
		/* lg.ko copies into each guest now, or drops (full ring). */
		if (sharenet_port_write(p, frame, len) < 0) {
			p->c.tx_error++;
			return;
		}
		break;
	default:
		return;
	}
sent:
	p->c.tx_frames++;
	p->c.tx_bytes += len;
	if (p->capture.n && !capture_frame(p->sw->cap, p->index, false, frame, len))
		p->c.capture_drop++;
	if (!queue_empty(&p->q) && !p->out_armed)
		port_watch_out(p, true);
}
