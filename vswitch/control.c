/*
 * control.c: the control socket, the switch's own command line at run time.
 *
 * --control=PATH makes the switch listen on a unix stream socket.  A client
 * (lguest-vswitch ctl, see ctl.c, or anything that can write a line)
 * connects, writes one command on one line, reads the answer and sees the
 * connection close.  The answer's first line is "ok" or "error: WHY"; what
 * follows is the command's output, as text or, when the command has the
 * word --json, as one JSON document.  The commands:
 *
 *   show ports | show counters | show fdb      [--json]
 *   port add SPEC          (the same SPEC as --port)
 *   port del NAME
 *   capture start PORT FILE [size=SIZE] [count=N]
 *   capture stop PORT
 *   impair PORT in|out [delay=T] [jitter=T] [loss=P] [rate=R] [dup=P]
 *                          (replaces that direction's impairments; none: off)
 *   stop                   (as SIGTERM)
 *
 * Control connections are handled in the same loop as the ports, without
 * blocking: a client that does not read its answer only keeps its own
 * connection open.  This is not the fast path: it may allocate.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "size.h"
#include "vswitch.h"

#define CTL_LINE_MAX 8192
#define CTL_WORDS 16

struct control {
	struct watch watch;
	struct vswitch *sw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct ctl_conn {
	struct watch watch;
	struct vswitch *sw;
	bool dead, replied;
	char in[CTL_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_pos, out_cap;
};

static void out_printf(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct ctl_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(c->out + c->out_len, c->out_cap - c->out_len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (c->out_len + (size_t)n < c->out_cap) {
			c->out_len += (size_t)n;
			return;
		}
		char *bigger = realloc(c->out, c->out_cap * 2 + (size_t)n);

		if (!bigger)
			return;
		c->out = bigger;
		c->out_cap = c->out_cap * 2 + (size_t)n;
	}
}

/* A JSON string (names and paths may hold anything a file name may). */
static void out_json_string(struct ctl_conn *c, const char *s)
{
	out_printf(c, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			out_printf(c, "\\%c", ch);
		else if (ch < 0x20)
			out_printf(c, "\\u%04x", ch);
		else
			out_printf(c, "%c", ch);
	}
	out_printf(c, "\"");
}

#define COUNTERS(X) X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(rx_runt) \
	X(rx_oversize) X(rx_garbage) X(rx_vlan_drop) X(tx_queue_drop) X(tx_oversize) \
	X(tx_error) X(capture_drop) X(impair_loss) X(impair_dup) X(impair_qdrop)

static void show_ports(struct ctl_conn *c, bool json, bool counters)
{
	struct vswitch *sw = c->sw;
	bool first = true;
	char vlan[256];
	int i;

	if (json)
		out_printf(c, "{\"hub\": %s, \"ports\": [", sw->hub ? "true" : "false");
	else if (counters)
		out_printf(c, "%-16s %10s %12s %10s %12s %6s %8s %8s %6s %8s %8s %8s %8s %8s %8s %8s\n",
			   "PORT", "RX_FRAMES", "RX_BYTES", "TX_FRAMES", "TX_BYTES", "RUNT",
			   "OVERSIZE", "GARBAGE", "VLAN", "QDROP", "TX_BIG", "TX_ERR", "CAPDROP",
			   "LOST", "DUPED", "IMPQDROP");
	else
		out_printf(c, "%-16s %-13s %-28s %-16s %5s %-20s %s\n", "PORT", "KIND", "WHERE",
			   "VLAN", "MTU", "CAPTURE", "IMPAIRMENTS");
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		struct port *p = sw->ports[i];
		char imp_in[160], imp_out[160], imp[340];
		const char *capture;

		if (!p)
			continue;
		impair_format(&p->imp[IMPAIR_IN].conf, imp_in, sizeof(imp_in));
		impair_format(&p->imp[IMPAIR_OUT].conf, imp_out, sizeof(imp_out));
		snprintf(imp, sizeof(imp), "%s%s%s%s%s", imp_in[0] ? "in:" : "", imp_in,
			 imp_in[0] && imp_out[0] ? " " : "", imp_out[0] ? "out:" : "", imp_out);
		vlan_format(&p->conf.vlan, vlan, sizeof(vlan));
		capture = p->capture >= 0 ? capture_file(sw->cap, p->capture) : "";
		if (json) {
			out_printf(c, "%s\n  {\"name\": ", first ? "" : ",");
			out_json_string(c, p->conf.name);
			out_printf(c, ", \"kind\": \"%s\", \"where\": ", port_kind_name(p->conf.kind));
			out_json_string(c, p->conf.arg);
			out_printf(c, ", \"vlan\": \"%s\", \"mtu\": %u, \"capture\": ", vlan, p->conf.mtu);
			out_json_string(c, capture);
			out_printf(c, ", \"impair_in\": \"%s\", \"impair_out\": \"%s\"", imp_in, imp_out);
#define JSON_COUNTER(name) out_printf(c, ", \"" #name "\": %" PRIu64, p->c.name);
			COUNTERS(JSON_COUNTER)
			out_printf(c, "}");
			first = false;
		} else if (counters) {
			if (p->conf.kind == PORT_STREAM_LISTEN)
				continue;
			out_printf(c, "%-16s %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
				   " %6" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %8" PRIu64
				   " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
				   " %8" PRIu64 "\n", p->conf.name,
				   p->c.rx_frames, p->c.rx_bytes, p->c.tx_frames, p->c.tx_bytes,
				   p->c.rx_runt, p->c.rx_oversize, p->c.rx_garbage, p->c.rx_vlan_drop,
				   p->c.tx_queue_drop, p->c.tx_oversize, p->c.tx_error,
				   p->c.capture_drop, p->c.impair_loss, p->c.impair_dup,
				   p->c.impair_qdrop);
		} else {
			out_printf(c, "%-16s %-13s %-28s %-16s %5u %-20s %s\n", p->conf.name,
				   port_kind_name(p->conf.kind), p->conf.arg, vlan, p->conf.mtu,
				   capture[0] ? capture : "-", imp[0] ? imp : "-");
		}
	}
	if (json)
		out_printf(c, "\n]}\n");
}

struct fdb_show {
	struct ctl_conn *c;
	bool json, first;
};

static void show_fdb_entry(const struct fdb_entry *e, uint64_t age_ns, void *arg)
{
	struct fdb_show *s = arg;
	struct port *p = s->c->sw->ports[e->port];
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
		 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	if (!p)
		return;
	if (s->json) {
		out_printf(s->c, "%s\n  {\"vlan\": %u, \"mac\": \"%s\", \"port\": ",
			   s->first ? "" : ",", e->vid, mac);
		out_json_string(s->c, p->conf.name);
		out_printf(s->c, ", \"age\": %.3f}", (double)age_ns / 1e9);
	} else {
		out_printf(s->c, "%4u  %s  %-16s %8.1f\n", e->vid, mac, p->conf.name,
			   (double)age_ns / 1e9);
	}
	s->first = false;
}

static void show_fdb(struct ctl_conn *c, bool json)
{
	struct fdb_show s = { c, json, true };

	if (json)
		out_printf(c, "{\"ageing\": %" PRIu64 ", \"entries\": [",
			   (uint64_t)(c->sw->fdb.ageing_ns / 1000000000u));
	else
		out_printf(c, "VLAN  MAC                PORT             AGE(s)\n");
	fdb_each(&c->sw->fdb, c->sw->loop.now_ns, show_fdb_entry, &s);
	if (json)
		out_printf(c, "\n]}\n");
}

/* Run one command; its answer goes to c->out. */
static void run_command(struct ctl_conn *c, int argc, char **argv)
{
	struct vswitch *sw = c->sw;
	char err[512] = "";
	bool json = false;
	struct port_conf conf;
	struct port *p;
	int i, j;

	for (i = j = 0; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			argv[j++] = argv[i];
	argc = j;

	if (argc == 2 && !strcmp(argv[0], "show") && !strcmp(argv[1], "ports")) {
		out_printf(c, "ok\n");
		show_ports(c, json, false);
	} else if (argc == 2 && !strcmp(argv[0], "show") && !strcmp(argv[1], "counters")) {
		out_printf(c, "ok\n");
		show_ports(c, json, true);
	} else if (argc == 2 && !strcmp(argv[0], "show") && !strcmp(argv[1], "fdb")) {
		out_printf(c, "ok\n");
		show_fdb(c, json);
	} else if (argc == 3 && !strcmp(argv[0], "port") && !strcmp(argv[1], "add")) {
		if (!port_parse_spec(argv[2], &conf, err, sizeof(err)) &&
		    (p = port_add(sw, &conf, err, sizeof(err))))
			out_printf(c, "ok\n");
	} else if (argc == 3 && !strcmp(argv[0], "port") && !strcmp(argv[1], "del")) {
		p = port_find(sw, argv[2]);
		if (!p)
			snprintf(err, sizeof(err), "port %s: no such port", argv[2]);
		else {
			port_remove(p, NULL);
			out_printf(c, "ok\n");
		}
	} else if (argc >= 4 && argc <= 6 && !strcmp(argv[0], "capture") &&
		   !strcmp(argv[1], "start")) {
		uint64_t size = 0;
		unsigned long count = 0;
		const char *why;

		p = port_find(sw, argv[2]);
		for (i = 4; i < argc && !err[0]; i++) {
			if (!strncmp(argv[i], "size=", 5) && !(why = size_parse(argv[i] + 5, &size)))
				continue;
			if (!strncmp(argv[i], "count=", 6) && (count = strtoul(argv[i] + 6, NULL, 10)) &&
			    count <= 10000)
				continue;
			snprintf(err, sizeof(err), "capture start: bad option '%s' (size=SIZE, count=1..10000)",
				 argv[i]);
		}
		if (!err[0] && !p)
			snprintf(err, sizeof(err), "port %s: no such port", argv[2]);
		else if (!err[0] && p->conf.kind == PORT_STREAM_LISTEN)
			snprintf(err, sizeof(err), "port %s: a listener carries no frames (capture its connections, or give it capture=)",
				 argv[2]);
		else if (!err[0] && !port_start_capture(p, argv[3], size,
							 size && !count ? 2 : (unsigned int)count,
							 err, sizeof(err)))
			out_printf(c, "ok\n");
	} else if (argc == 3 && !strcmp(argv[0], "capture") && !strcmp(argv[1], "stop")) {
		p = port_find(sw, argv[2]);
		if (!p)
			snprintf(err, sizeof(err), "port %s: no such port", argv[2]);
		else if (p->capture < 0)
			snprintf(err, sizeof(err), "port %s: not being captured", argv[2]);
		else {
			port_stop_capture(p);
			out_printf(c, "ok\n");
		}
	} else if (argc >= 3 && !strcmp(argv[0], "impair") &&
		   (!strcmp(argv[2], "in") || !strcmp(argv[2], "out"))) {
		struct impair_conf ic = { 0 };
		const char *why = NULL;

		p = port_find(sw, argv[1]);
		for (i = 3; i < argc && !why; i++) {
			char *eq = strchr(argv[i], '=');

			if (!eq) {
				why = "impairments are KEY=VALUE (delay, jitter, loss, rate, dup)";
				break;
			}
			*eq = '\0';
			why = impair_parse(argv[i], eq + 1, &ic);
			if (why)
				snprintf(err, sizeof(err), "port %s: %s=%s: %s", argv[1], argv[i],
					 eq + 1, why);
		}
		if (why && !err[0])
			snprintf(err, sizeof(err), "port %s: %s", argv[1], why);
		else if (!err[0] && !p)
			snprintf(err, sizeof(err), "port %s: no such port", argv[1]);
		else if (!err[0] && p->conf.kind == PORT_STREAM_LISTEN)
			snprintf(err, sizeof(err), "port %s: a listener carries no frames (impair its connections, or give it in-/out- options)",
				 argv[1]);
		else if (!err[0] && impair_set(p, argv[2][0] == 'o' ? IMPAIR_OUT : IMPAIR_IN, &ic))
			snprintf(err, sizeof(err), "port %s: impairments: %s", argv[1], strerror(ENOMEM));
		else if (!err[0])
			out_printf(c, "ok\n");
	} else if (argc == 1 && !strcmp(argv[0], "stop")) {
		out_printf(c, "ok\n");
		sw->stopping = true;
	} else {
		snprintf(err, sizeof(err), "unknown command '%s' (show ports|counters|fdb, port add|del, capture start|stop, impair, stop)",
			 argc ? argv[0] : "");
	}
	if (err[0])
		out_printf(c, "error: %s\n", err);
}

static void conn_free(void *arg)
{
	struct ctl_conn *c = arg;

	free(c->out);
	free(c);
}

static void conn_close(struct ctl_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_del(&c->sw->loop, &c->watch);
	close(c->watch.fd);
	loop_defer_free(&c->sw->loop, c, conn_free);
}

/* Write the answer as far as the client takes it; close when all is out. */
static void conn_write(struct ctl_conn *c)
{
	while (c->out_pos < c->out_len) {
		ssize_t n = send(c->watch.fd, c->out + c->out_pos, c->out_len - c->out_pos,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			loop_mod(&c->sw->loop, &c->watch, EPOLLOUT);
			return;
		}
		if (n < 0)
			break;
		c->out_pos += (size_t)n;
	}
	conn_close(c);
}

static void conn_event(struct watch *w, uint32_t events)
{
	struct ctl_conn *c = container_of(w, struct ctl_conn, watch);
	char *argv[CTL_WORDS], *nl, *save = NULL, *word;
	int argc = 0;
	ssize_t n;

	if (c->dead)
		return;
	if (c->replied) {
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			conn_write(c);
		return;
	}
	n = read(w->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0 && !c->in_len) {
		conn_close(c);
		return;
	}
	if (n > 0)
		c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	nl = strchr(c->in, '\n');
	if (!nl && n > 0 && c->in_len < sizeof(c->in) - 1)
		return;		/* wait for the rest of the line */
	c->replied = true;
	if (!nl && c->in_len >= sizeof(c->in) - 1) {
		out_printf(c, "error: command too long\n");
	} else {
		if (nl)
			*nl = '\0';
		for (word = strtok_r(c->in, " \t\r", &save); word && argc < CTL_WORDS;
		     word = strtok_r(NULL, " \t\r", &save))
			argv[argc++] = word;
		if (word)
			out_printf(c, "error: too many words\n");
		else
			run_command(c, argc, argv);
	}
	conn_write(c);
}

static void control_event(struct watch *w, uint32_t events)
{
	struct control *ctl = container_of(w, struct control, watch);
	struct ctl_conn *c;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (c)
			c->out = malloc(c->out_cap = 4096);
		if (!c || !c->out) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->sw = ctl->sw;
		c->watch.fd = fd;
		c->watch.fn = conn_event;
		if (loop_add(&ctl->sw->loop, &c->watch, EPOLLIN) < 0) {
			close(fd);
			conn_free(c);
		}
	}
}

struct control *control_open(struct vswitch *sw, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "--control=%s: socket path too long (at most 107 bytes)", path);
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "--control=%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	strcpy(sun.sun_path, path);
	strcpy(ctl->path, path);
	ctl->sw = sw;
	if (unix_claim_path(path, SOCK_STREAM) == -EADDRINUSE) {
		snprintf(err, errlen, "--control=%s: in use (another switch answers there)", path);
		free(ctl);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "--control=%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(ctl);
		return NULL;
	}
	ctl->watch.fd = fd;
	ctl->watch.fn = control_event;
	loop_add(&sw->loop, &ctl->watch, EPOLLIN);
	return ctl;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	loop_del(&ctl->sw->loop, &ctl->watch);
	close(ctl->watch.fd);
	unlink(ctl->path);
	free(ctl);
}
