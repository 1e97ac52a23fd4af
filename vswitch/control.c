/*
 * control.c: the control socket, the switch's own command line at run time.
 *
 * --control=PATH makes the switch listen on a unix stream socket.  A client
 * (lguest-vswitch ctl, see ctl.c, or anything that can write a line)
 * connects, writes one command on one line, reads the answer and sees the
 * connection close.  The answer's first line is "ok" or "error: WHY"; what
 * follows is the command's output, as text or, when the command has the
 * word --json, as one JSON document (show.c).  The commands are the table
 * below, each with the words that name it, how many words follow, and its
 * help; "help" lists them, and so does --help.  A wrong command gets its
 * usage back; an error names the port or word that was wrong.
 *
 * PORT in a command is a port's name; "--switch" instead of a PORT means
 * the switch-wide captures (no port's name starts with '-', see port.c).
 *
 * Control connections are handled in the same loop as the ports, without
 * blocking: a client that does not read its answer only keeps its own
 * connection open.  This is not the fast path: it may allocate.
 */
#include <errno.h>
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
#define SWITCH_WORD "--switch"

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
	char *out;		/* the answer, all of it */
	size_t out_len, out_pos;
};

/* One command being run: what it says goes to OUT, or why not to ERR. */
struct request {
	struct vswitch *sw;
	FILE *out;
	bool json;
	char err[512];
};

static void fail(struct request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct request *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* The port named NAME, or NULL having said so. */
static struct port *find_port(struct request *r, const char *name)
{
	struct port *p = port_find(r->sw, name);

	if (!p)
		fail(r, "port %s: no such port", name);
	return p;
}

/* The port named NAME that carries frames (not a stream listener), or NULL. */
static struct port *find_wire(struct request *r, const char *name, const char *how)
{
	struct port *p = find_port(r, name);

	if (p && p->conf.kind == PORT_STREAM_LISTEN) {
		fail(r, "port %s: a listener carries no frames (%s)", name, how);
		return NULL;
	}
	return p;
}

/* --- the commands ------------------------------------------------------ */

static void show_result(struct request *r, int rc)
{
	if (rc)
		fail(r, "show: %s", strerror(-rc));
}

static void cmd_show_ports(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	show_result(r, show_ports(r->sw, r->out, r->json));
}

static void cmd_show_counters(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	show_result(r, show_counters(r->sw, r->out, r->json));
}

static void cmd_show_fdb(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	show_result(r, show_fdb(r->sw, r->out, r->json));
}

static void cmd_show_captures(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	show_result(r, show_captures(r->sw, r->out, r->json));
}

static void cmd_port_add(struct request *r, int argc, char **argv)
{
	struct port_conf conf;

	(void)argc;
	if (!port_parse_spec(argv[0], &conf, r->err, sizeof(r->err)))
		port_add(r->sw, &conf, r->err, sizeof(r->err));
}

static void cmd_port_del(struct request *r, int argc, char **argv)
{
	struct port *p = find_port(r, argv[0]);

	(void)argc;
	if (p)
		port_remove(p, NULL);
}

static void cmd_port_set(struct request *r, int argc, char **argv)
{
	bool down = !strcmp(argv[1], "down");
	struct port *p;

	(void)argc;
	if (!down && strcmp(argv[1], "up")) {
		fail(r, "port set %s: '%s': a port is set up or down", argv[0], argv[1]);
		return;
	}
	p = find_port(r, argv[0]);
	if (p)
		port_set_down(p, down);
}

/* Where a capture command records: a port's wire, or the switch's input. */
static struct capture_point *find_point(struct request *r, const char *name)
{
	struct port *p;

	if (!strcmp(name, SWITCH_WORD))
		return &r->sw->ingress;
	p = find_wire(r, name, "capture its connections, or give it capture=");
	return p ? &p->capture : NULL;
}

/* size=SIZE and count=N; false having said why not. */
static bool rotation(struct request *r, int argc, char **argv, uint64_t *size,
		     unsigned int *count)
{
	unsigned long n;
	char *end;
	int i;

	*size = *count = 0;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "size=", 5) && !size_parse(argv[i] + 5, size) && *size)
			continue;
		if (!strncmp(argv[i], "count=", 6) && argv[i][6] >= '0' && argv[i][6] <= '9' &&
		    (n = strtoul(argv[i] + 6, &end, 10)) >= 1 && n <= 10000 && !*end) {
			*count = (unsigned int)n;
			continue;
		}
		fail(r, "capture start: bad option '%s' (size=SIZE, count=1..10000)", argv[i]);
		return false;
	}
	if (*size && !*count)
		*count = 2;
	return true;
}

static void cmd_capture_start(struct request *r, int argc, char **argv)
{
	struct capture_point *pt;
	unsigned int count;
	uint64_t size;

	if (!rotation(r, argc - 2, argv + 2, &size, &count))
		return;
	pt = find_point(r, argv[0]);
	if (pt)
		capture_open(r->sw->cap, pt, argv[1], size, count, r->err, sizeof(r->err));
}

static void cmd_capture_stop(struct request *r, int argc, char **argv)
{
	struct capture_point *pt = find_point(r, argv[0]);
	const char *file = argc > 1 ? argv[1] : NULL;

	if (!pt)
		return;
	if (!pt->n)
		fail(r, "%s: not being captured", pt->label);
	else if (!capture_close(r->sw->cap, pt, file))
		fail(r, "%s: not captured to %s", pt->label, file);
}

static void cmd_impair(struct request *r, int argc, char **argv)
{
	struct impair_conf ic = { 0 };
	const char *why;
	struct port *p;
	int i;

	if (strcmp(argv[1], "in") && strcmp(argv[1], "out")) {
		fail(r, "port %s: '%s': the direction is in or out", argv[0], argv[1]);
		return;
	}
	for (i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fail(r, "port %s: impairments are KEY=VALUE (delay, jitter, loss, rate, dup)",
			     argv[0]);
			return;
		}
		*eq = '\0';
		why = impair_parse(argv[i], eq + 1, &ic);
		if (why) {
			fail(r, "port %s: %s=%s: %s", argv[0], argv[i], eq + 1, why);
			return;
		}
	}
	p = find_wire(r, argv[0], "impair its connections, or give it in-/out- options");
	if (p && impair_set(p, argv[1][0] == 'o' ? IMPAIR_OUT : IMPAIR_IN, &ic))
		fail(r, "port %s: impairments: %s", argv[0], strerror(ENOMEM));
}

static void cmd_stop(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	r->sw->stopping = true;
}

static void cmd_help(struct request *r, int argc, char **argv);

static const struct command {
	const char *name;	/* the words that name it */
	const char *args;	/* what follows, for usage and help */
	int min, max;		/* how many words follow */
	void (*run)(struct request *r, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "show ports", "", 0, 0, cmd_show_ports,
	  "every port: where, VLANs, MTU, state, captures..." },
	{ "show counters", "", 0, 0, cmd_show_counters, "every port's counters" },
	{ "show fdb", "", 0, 0, cmd_show_fdb, "the MAC table" },
	{ "show captures", "", 0, 0, cmd_show_captures,
	  "every capture: the port (or " SWITCH_WORD "), file, rotation" },
	{ "port add", "SPEC", 1, 1, cmd_port_add, "add a port, as --port=SPEC" },
	{ "port del", "NAME", 1, 1, cmd_port_del, "close a port" },
	{ "port set", "NAME up|down", 2, 2, cmd_port_set,
	  "cut a port's link in the switch, or mend it" },
	{ "capture start", "PORT|" SWITCH_WORD " FILE [size=SIZE] [count=N]", 2, 4,
	  cmd_capture_start, "record to FILE (up to 4 at once each)" },
	{ "capture stop", "PORT|" SWITCH_WORD " [FILE]", 1, 2, cmd_capture_stop,
	  "stop that capture, or all of them" },
	{ "impair", "PORT in|out [delay=T] [jitter=T] [loss=P%] [rate=R] [dup=P%]", 2, 7,
	  cmd_impair, "set one direction's impairments (none: clear)" },
	{ "stop", "", 0, 0, cmd_stop, "stop the switch, as SIGTERM" },
	{ "help", "", 0, 0, cmd_help, "this list" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* "  USAGE  HELP", HELP on a line of its own if USAGE is long. */
static void usage_line(FILE *out, const struct command *cmd)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s%s%s", cmd->name, cmd->args[0] ? " " : "",
			 cmd->args);

	if (n < 25)
		fprintf(out, "  %-25s %s\n", line, cmd->help);
	else
		fprintf(out, "  %s\n  %-25s %s\n", line, "", cmd->help);
}

void control_usage(FILE *out)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		usage_line(out, &commands[i]);
}

static void cmd_help(struct request *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	control_usage(r->out);
	fprintf(r->out, "  (add --json to any command for JSON)\n");
}

/* How many of ARGV's first words NAME is ("show ports": 2), or 0. */
static int name_matches(const char *name, int argc, char **argv)
{
	size_t n = strcspn(name, " ");

	if (argc < 1 || strlen(argv[0]) != n || strncmp(argv[0], name, n))
		return 0;
	if (!name[n])
		return 1;
	return argc >= 2 && !strcmp(argv[1], name + n + 1) ? 2 : 0;
}

/* Why ARGV is no command: the words that may follow its first, if it has some. */
static void unknown(struct request *r, int argc, char **argv)
{
	char known[256] = "";
	size_t i, n, len;

	for (i = 0; i < NCOMMANDS && argc; i++) {
		n = strcspn(commands[i].name, " ");
		len = strlen(known);
		if (commands[i].name[n] && strlen(argv[0]) == n &&
		    !strncmp(argv[0], commands[i].name, n))
			snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "",
				 commands[i].name + n + 1);
	}
	if (known[0] && argc > 1)
		fail(r, "%s: '%s' is not one of: %s", argv[0], argv[1], known);
	else if (known[0])
		fail(r, "%s: what? (%s)", argv[0], known);
	else
		fail(r, "unknown command '%s' (try: help)", argc ? argv[0] : "");
}

/* TEXT is the whole answer (a client gets no answer if there is no memory). */
static void answer(struct ctl_conn *c, const char *text)
{
	c->out = strdup(text);
	c->out_len = c->out ? strlen(text) : 0;
}

/* The command ARGV's first WORDS name, or NULL. */
static const struct command *lookup(int argc, char **argv, int *words)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if ((*words = name_matches(commands[i].name, argc, argv)))
			return &commands[i];
	return NULL;
}

/* Run one command: ok and its output, or why not, into c->out. */
static void run_command(struct ctl_conn *c, int argc, char **argv)
{
	struct request r = { .sw = c->sw };
	const struct command *cmd;
	char *output = NULL;
	size_t output_len = 0;
	int j, k, n, words;

	for (j = k = 0; j < argc; j++)
		if (!strcmp(argv[j], "--json"))
			r.json = true;
		else
			argv[k++] = argv[j];
	argc = k;
	cmd = lookup(argc, argv, &words);
	r.out = open_memstream(&output, &output_len);
	if (!r.out)
		fail(&r, "%s", strerror(ENOMEM));
	else if (!cmd)
		unknown(&r, argc, argv);
	else if (argc - words < cmd->min || argc - words > cmd->max)
		fail(&r, "usage: %s%s%s", cmd->name, cmd->args[0] ? " " : "", cmd->args);
	else
		cmd->run(&r, argc - words, argv + words);
	if (r.out && fclose(r.out))
		fail(&r, "%s", strerror(ENOMEM));
	if (r.err[0])
		n = asprintf(&c->out, "error: %s\n", r.err);
	else
		n = asprintf(&c->out, "ok\n%s", output ? output : "");
	if (n < 0)
		c->out = NULL;		/* the client sees the connection close */
	c->out_len = n < 0 ? 0 : (size_t)n;
	free(output);
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
		answer(c, "error: command too long\n");
	} else {
		if (nl)
			*nl = '\0';
		for (word = strtok_r(c->in, " \t\r", &save); word && argc < CTL_WORDS;
		     word = strtok_r(NULL, " \t\r", &save))
			argv[argc++] = word;
		if (word)
			answer(c, "error: too many words\n");
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
		if (!c) {
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
