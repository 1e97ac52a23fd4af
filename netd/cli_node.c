/*
 * cli_node.c: lguest-net's commands for one node or link: exec, console,
 * capture and link set.
 *
 * exec, console and capture are streams (proto.h): after the daemon's
 * first answer, frames go both ways until the command ends.  One loop,
 * stream_run(), serves all three: it polls the connection, our standard
 * input (when the stream takes input) and a signalfd, and hands each frame
 * that comes to the command's own function.  Signals: exec passes SIGINT,
 * SIGTERM and SIGHUP on to the command in the guest (a second SIGINT gives
 * up and closes, which kills it); console ignores them (they are keys for
 * the guest: Ctrl-] leaves) and passes window changes on; capture stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

#define CONSOLE_ESCAPE 0x1d	/* Ctrl-] */

struct stream {
	int fd;			/* the connection */
	int linger_ms;		/* after our input ended: leave after this much silence (-1: never) */
	struct proto_buf buf;
	bool input;		/* our stdin goes to the stream */
	bool input_eof;
	int sigfd;
	int out;		/* where STDOUT frames go */
	int exit_status;	/* -1 until EXIT */
	unsigned int interrupts;
	void (*on_signal)(struct stream *s, int sig);
	void (*on_input)(struct stream *s, const uint8_t *data, size_t len);
};

static void write_all_or_die(int fd, const void *data, size_t len)
{
	if (proto_write_all(fd, data, len) < 0 && errno != EPIPE)
		cli_die("writing: %s", strerror(errno));
}

static int stream_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* A frame from the daemon: false when the stream is over. */
static bool take_frame(struct stream *s, const struct proto_frame *h, const uint8_t *p)
{
	int32_t status[2];

	switch (h->type) {
	case PF_STDOUT:
		write_all_or_die(s->out, p, h->len);
		return true;
	case PF_STDERR:
		write_all_or_die(2, p, h->len);
		return true;
	case PF_EXIT:
		if (h->len == sizeof(status)) {
			memcpy(status, p, sizeof(status));
			s->exit_status = status[1] ? 128 + status[1] : status[0] & 0xff;
		}
		return false;
	}
	return true;		/* unknown: ignored */
}

/* Frames already in the buffer (read with the JSON answer, or since). */
static bool drain(struct stream *s)
{
	static uint8_t payload[NETD_FRAME_MAX];
	struct proto_frame h;

	while (s->buf.len >= sizeof(h)) {
		memcpy(&h, s->buf.data, sizeof(h));
		if (h.len > NETD_FRAME_MAX)
			cli_die("lguest-netd sent a frame of %u bytes", h.len);
		if (s->buf.len < sizeof(h) + h.len)
			break;
		memcpy(payload, s->buf.data + sizeof(h), h.len);
		buf_consume(&s->buf, sizeof(h) + h.len);
		if (!take_frame(s, &h, payload))
			return false;
	}
	return true;
}

/*
 * Frames until the stream ends.  When our input ends, an exec's stream goes
 * on (the command may still answer); a console's lingers for linger_ms of
 * silence, so that `printf 'ip a\n' | lguest-net console r1` prints what
 * the guest said, then leaves.
 */
static void stream_run(struct stream *s)
{
	struct pollfd pf[3] = { { s->fd, POLLIN, 0 }, { s->sigfd, POLLIN, 0 }, { 0, POLLIN, 0 } };
	uint8_t chunk[65536];

	if (!drain(s))
		return;
	for (;;) {
		int n = s->input && !s->input_eof ? 3 : 2, ready;
		ssize_t got;

		ready = poll(pf, (nfds_t)n, s->input_eof ? s->linger_ms : -1);
		if (ready < 0 && errno != EINTR)
			cli_die("poll: %s", strerror(errno));
		if (ready == 0)
			return;		/* input over, and the other side quiet since */
		if (pf[1].revents) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) == sizeof(si) && s->on_signal)
				s->on_signal(s, (int)si.ssi_signo);
			if (s->fd < 0)
				return;
		}
		if (n == 3 && pf[2].revents) {
			got = read(0, chunk, sizeof(chunk));
			if (got <= 0) {
				s->input_eof = true;
				proto_send_frame(s->fd, PF_INPUT_EOF, NULL, 0);
			} else {
				s->on_input(s, chunk, (size_t)got);
			}
			if (s->fd < 0)
				return;
		}
		if (pf[0].revents) {
			got = read(s->fd, chunk, sizeof(chunk));
			if (got <= 0)
				return;
			if (buf_append(&s->buf, chunk, (size_t)got) || !drain(s))
				return;
		}
	}
}

/* Send REQUEST; once the daemon answers {"ok", "stream"}, S is ready to run. */
static void stream_open(struct stream *s, json_t *request)
{
	const char *why;
	json_t *msg;

	s->exit_status = -1;
	s->fd = cli_request(request, &s->buf);
	msg = proto_read_json(s->fd, &s->buf, NETD_REQUEST_MAX, &why);
	if (!msg)
		cli_die("lguest-netd: %s", why);
	if (!json_is_true(json_object_get(msg, "ok"))) {
		const char *err = json_string_value(json_object_get(msg, "error"));

		cli_note("%s", err ? err : "refused");
		exit(1);
	}
	json_decref(msg);
	s->sigfd = stream_signals();
}

/* Everything after "--" (or after NODE if there is none) is the command. */
static json_t *command_argv(struct cli *cli, int from)
{
	json_t *argv = json_array();

	if (from < cli->argc && !strcmp(cli->argv[from], "--"))
		from++;
	for (int i = from; i < cli->argc; i++)
		json_array_append_new(argv, json_string(cli->argv[i]));
	return argv;
}

/* --- exec ------------------------------------------------------------------------------ */
static void exec_signal(struct stream *s, int sig)
{
	uint32_t signo = (uint32_t)sig;

	if (sig == SIGWINCH)
		return;
	if (sig == SIGINT && ++s->interrupts > 1) {
		close(s->fd);	/* the daemon kills the command */
		s->fd = -1;
		s->exit_status = 130;
		return;
	}
	proto_send_frame(s->fd, PF_SIGNAL, &signo, sizeof(signo));
}

static void exec_input(struct stream *s, const uint8_t *data, size_t len)
{
	while (len) {
		uint32_t n = len > NETD_FRAME_MAX ? NETD_FRAME_MAX : (uint32_t)len;

		if (proto_send_frame(s->fd, PF_INPUT, data, n) < 0)
			return;
		data += n;
		len -= n;
	}
}

int cmd_exec(struct cli *cli)
{
	struct stream s = { .out = 1, .linger_ms = -1, .on_signal = exec_signal,
			    .on_input = exec_input };
	json_t *argv;

	if (cli->argc < 2)
		cli_die("exec: NODE -- COMMAND [ARGS...]");
	argv = command_argv(cli, 1);
	if (!json_array_size(argv))
		cli_die("exec: which command?");
	s.input = !isatty(0);	/* a terminal's input is for us; a pipe's for the command */
	stream_open(&s, cli_with_lab(cli, json_pack("{s:s,s:s,s:o,s:b}", "verb", "exec", "node",
						     cli->argv[0], "argv", argv, "stdin", s.input)));
	if (!s.input)
		proto_send_frame(s.fd, PF_INPUT_EOF, NULL, 0);
	stream_run(&s);
	if (s.exit_status < 0)
		cli_die("the connection to lguest-netd ended before the command did");
	return s.exit_status;
}

/* --- console ---------------------------------------------------------------------------- */
static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(0, TCSAFLUSH, &saved_tty);
	tty_raw = false;
}

static void send_size(struct stream *s)
{
	struct winsize ws;
	uint16_t rc[2];

	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return;
	rc[0] = ws.ws_row;
	rc[1] = ws.ws_col;
	proto_send_frame(s->fd, PF_RESIZE, rc, sizeof(rc));
}

static void console_signal(struct stream *s, int sig)
{
	if (sig == SIGWINCH) {
		send_size(s);
	} else if (sig == SIGTERM || sig == SIGHUP) {
		close(s->fd);
		s->fd = -1;
	}
}

static void console_input(struct stream *s, const uint8_t *data, size_t len)
{
	const uint8_t *esc = memchr(data, CONSOLE_ESCAPE, len);

	if (esc)
		len = (size_t)(esc - data);
	if (len)
		proto_send_frame(s->fd, PF_INPUT, data, (uint32_t)len);
	if (esc) {
		close(s->fd);
		s->fd = -1;
	}
}

int cmd_console(struct cli *cli)
{
	struct stream s = { .out = 1, .input = true, .linger_ms = 1000, .on_signal = console_signal,
			    .on_input = console_input };
	struct winsize ws = { 0 };

	if (cli->argc != 1)
		cli_die("console: which node?");
	if (isatty(0))
		ioctl(0, TIOCGWINSZ, &ws);
	stream_open(&s, cli_with_lab(cli, json_pack("{s:s,s:s,s:i,s:i}", "verb", "console", "node",
						    cli->argv[0], "rows", ws.ws_row, "cols", ws.ws_col)));
	if (isatty(0)) {
		struct termios raw;

		tcgetattr(0, &saved_tty);
		raw = saved_tty;
		cfmakeraw(&raw);
		tcsetattr(0, TCSAFLUSH, &raw);
		tty_raw = true;
		atexit(restore_tty);
		fprintf(stderr, "%s: the console of %s (Ctrl-] leaves)\r\n", CLI_PROGRAM, cli->argv[0]);
	}
	stream_run(&s);
	restore_tty();
	if (isatty(0))
		fprintf(stderr, "\n%s: left the console of %s\n", CLI_PROGRAM, cli->argv[0]);
	return 0;
}

/* --- capture ---------------------------------------------------------------------------- */
static void capture_signal(struct stream *s, int sig)
{
	if (sig == SIGWINCH)
		return;
	close(s->fd);
	s->fd = -1;
}

int cmd_capture(struct cli *cli)
{
	struct stream s = { .linger_ms = -1, .on_signal = capture_signal };
	const char *target = NULL, *file = NULL;

	for (int i = 0; i < cli->argc; i++) {
		if (!strcmp(cli->argv[i], "-w") && i + 1 < cli->argc)
			file = cli->argv[++i];
		else if (!strncmp(cli->argv[i], "-w", 2) && cli->argv[i][2])
			file = cli->argv[i] + 2;
		else if (!target)
			target = cli->argv[i];
		else
			cli_die("capture: one switch or link at a time");
	}
	if (!target)
		cli_die("capture: which switch or link?");
	if (!file && isatty(1))
		cli_die("capture: standard output is a terminal: give -w FILE, or pipe it (| wireshark -k -i -)");
	s.out = file && strcmp(file, "-") ? open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
	if (s.out < 0)
		cli_die("-w %s: %s", file, strerror(errno));
	stream_open(&s, cli_with_lab(cli, json_pack("{s:s,s:s}", "verb", "capture", "target", target)));
	if (s.out != 1)
		cli_note("capturing %s into %s (Ctrl-C stops)", target, file);
	stream_run(&s);
	if (s.out != 1 && close(s.out) < 0)
		cli_die("-w %s: %s", file, strerror(errno));
	return 0;
}

/* --- link set ---------------------------------------------------------------------------- */
int cmd_link(struct cli *cli)
{
	static const char *const keys[] = { "delay", "jitter", "loss", "rate", NULL };
	json_t *settings = json_object(), *req;
	const char *direction = "both", *state = NULL;
	json_t *r;

	if (cli->argc < 3 || strcmp(cli->argv[0], "set"))
		cli_die("link: set LINK [egress|ingress] [delay=T] [jitter=T] [loss=P] [rate=R] [up|down]");
	for (int i = 2; i < cli->argc; i++) {
		const char *a = cli->argv[i], *eq = strchr(a, '=');
		size_t k;

		if (!strcmp(a, "egress") || !strcmp(a, "ingress") || !strcmp(a, "both")) {
			direction = a;
			continue;
		}
		if (!strcmp(a, "up") || !strcmp(a, "down")) {
			state = a;
			continue;
		}
		for (k = 0; keys[k] && (!eq || strncmp(keys[k], a, (size_t)(eq - a)) ||
					 strlen(keys[k]) != (size_t)(eq - a)); k++)
			;
		if (!keys[k])
			cli_die("link set: '%s' is not delay=, jitter=, loss=, rate=, egress, ingress, up or down", a);
		json_object_set_new(settings, keys[k], json_string(eq + 1));
	}
	req = json_pack("{s:s,s:s,s:s}", "verb", "link-set", "link", cli->argv[1], "direction", direction);
	if (json_object_size(settings))
		json_object_set(req, "settings", settings);
	json_decref(settings);
	if (state)
		json_object_set_new(req, "state", json_string(state));
	r = cli_call(cli_with_lab(cli, req));
	if (!r)
		return 1;
	json_decref(r);
	return 0;
}
