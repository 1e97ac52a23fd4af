/*
 * lguest-agent: runs commands in an lguest guest for the host.
 *
 *	lguest-agent [--verbose] [DEVICE]
 *
 * The host cannot count on the guest's network (in a lab it is the thing
 * people break), so the agent listens on a channel instead: DEVICE,
 * /dev/lgchan0 by default, whose other end is the launcher's unix socket
 * (lguest --channel=PATH).  Whoever connects there (lguest-netd, or
 * tests/lab/agent-exec) speaks the protocol of include/lguest/agent.h: HELLO,
 * then EXEC, STDIN, SIGNAL for any number of sessions at once, and the agent
 * answers with each command's STDOUT, STDERR and EXIT.
 *
 * One thread, one poll() loop, each turn in this order:
 *   1. session_tick(): commands that exited have their pipes drained, and
 *      their EXIT sent once drained; written stdin is acknowledged.
 *   2. the frames waiting for the channel are written, as far as it takes
 *      them (the device is non-blocking).
 *   3. poll(): the channel (readable; writable while frames wait), the
 *      signalfd (SIGCHLD; SIGTERM, SIGINT or SIGHUP end the agent), and the
 *      sessions' pipes (session.c says when each is watched).
 *   4. what came: children reaped; pipes read and written; then the
 *      channel's frames, each dispatched by its type through one table that
 *      also says the payload size a type must have.
 * Nothing grows without bound: stdin is held to its window, output to the
 * host's window and to AGENT_QUEUE_MAX bytes of frames not yet taken by the
 * channel, after which the pipes are not read; and the channel is not read
 * while twice that waits (a host that sends and never reads gets no
 * further).
 *
 * Resets.  A read() of the channel that fails with ECONNRESET means the
 * host's connection ended: every session is killed and the agent starts
 * clean, as for HELLO.  A header the agent cannot follow (bad magic or
 * version, a length over 64 KiB) leaves no way to find the next frame: it
 * answers ERROR, gives the channel a moment to take it, then closes the
 * device and opens it again, which makes the launcher end the connection.
 * Errors about a single frame are an ERROR for that frame, and the stream
 * goes on.
 *
 * Errors and, with --verbose, each command go to stderr (the initramfs's
 * start script sends it to /tmp/lguest-agent.log).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "probe.h"

#define DEFAULT_DEVICE	"/dev/lgchan0"
#define HANGUP_GRACE_MS	1000	/* for an ERROR to leave before we hang up */

static const char *program = "lguest-agent";

void agent_log(const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->verbose)
		return;
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- frames out -------------------------------------------------------------- */

void agent_send(struct agent *a, uint8_t type, uint32_t session, const void *payload,
		uint32_t length)
{
	if (agent_queue_frame(&a->out, type, session, payload, length) < 0)
		die("out of memory for a %s frame", agent_type_name(type));
}

/* ERROR about a frame of this type (0: a header) and session. */
void agent_send_error(struct agent *a, uint8_t type, uint32_t session, const char *fmt, ...)
{
	uint8_t msg[sizeof(struct lguest_agent_error) + 256] = { type };
	const size_t off = sizeof(struct lguest_agent_error);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)msg + off, sizeof(msg) - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg) - off)
		n = sizeof(msg) - off - 1;
	agent_send(a, LGUEST_AGENT_ERROR, session, msg, off + n);
	fprintf(stderr, "%s: error: %s %u: %s\n", program, type ? agent_type_name(type) : "header",
		session, (char *)msg + off);
}

/* --- frames in ----------------------------------------------------------------- */

/* Every session goes, and what was half read or half written: a fresh start. */
static void agent_start_clean(struct agent *a, const char *why)
{
	agent_log(a, "%s: starting clean", why);
	session_kill_all(a);
	agent_reader_clear(&a->in);
	agent_queue_clear(&a->out);
}

static void on_hello(struct agent *a, const struct agent_frame *f)
{
	uint8_t reply[sizeof(struct lguest_agent_hello) + 256] = { 0 };
	const size_t off = sizeof(struct lguest_agent_hello);
	char host[256] = "";

	(void)f;
	session_kill_all(a);
	gethostname(host, sizeof(host) - 1);
	agent_put_le32(reply, AGENT_MAX_SESSIONS);
	agent_put_le32(reply + 4, AGENT_STDIN_WINDOW);
	agent_put_le32(reply + 8, AGENT_OUTPUT_WINDOW);
	memcpy(reply + off, host, strlen(host));
	agent_send(a, LGUEST_AGENT_HELLO, 0, reply, off + strlen(host));
	agent_log(a, "HELLO");
}

static void on_exec(struct agent *a, const struct agent_frame *f)
{
	struct agent_exec e;
	const char *why;

	if (!f->session) {
		agent_send_error(a, f->type, 0, "EXEC for session 0");
		return;
	}
	if (session_find(a, f->session)) {
		agent_send_error(a, f->type, f->session, "EXEC for session %u, which is running",
				 f->session);
		return;
	}
	if (agent_exec_decode(f->payload, f->length, &e, &why) < 0) {
		agent_send_error(a, f->type, f->session, "%s", why);
		return;
	}
	session_start(a, f->session, &e);
	agent_exec_free(&e);
}

static void on_stdin(struct agent *a, const struct agent_frame *f)
{
	struct session *s = session_find(a, f->session);

	if (s)
		session_stdin(a, s, f->payload, f->length);
}

static void on_signal(struct agent *a, const struct agent_frame *f)
{
	struct session *s = session_find(a, f->session);
	uint32_t sig = agent_get_le32(f->payload);

	if (sig < 1 || sig > 64) {
		agent_send_error(a, f->type, f->session, "signal %u is not 1..64", sig);
		return;
	}
	if (s && s->pid > 0 && kill(-s->pid, sig) < 0)
		agent_send_error(a, f->type, f->session, "signal %u: %s", sig, strerror(errno));
}

static void on_output_ack(struct agent *a, const struct agent_frame *f)
{
	struct session *s = session_find(a, f->session);
	uint32_t bytes = agent_get_le32(f->payload);

	if (!s)
		return;
	if (bytes > AGENT_OUTPUT_WINDOW - s->credit) {
		agent_send_error(a, f->type, f->session,
				 "OUTPUT_ACK of %u bytes, more than were sent", bytes);
		bytes = AGENT_OUTPUT_WINDOW - s->credit;
	}
	s->credit += bytes;
}

/* What each type of frame from the host is, and the payload it must have. */
static const struct {
	void (*handle)(struct agent *a, const struct agent_frame *f);
	int size;			/* payload bytes; -1: any */
} frame_types[] = {
	[LGUEST_AGENT_HELLO] = { on_hello, 0 },
	[LGUEST_AGENT_EXEC] = { on_exec, -1 },
	[LGUEST_AGENT_STDIN] = { on_stdin, -1 },
	[LGUEST_AGENT_SIGNAL] = { on_signal, sizeof(struct lguest_agent_signal) },
	[LGUEST_AGENT_OUTPUT_ACK] = { on_output_ack, sizeof(struct lguest_agent_ack) },
};

static void dispatch(struct agent *a, const struct agent_frame *f)
{
	if (f->type >= sizeof(frame_types) / sizeof(frame_types[0]) ||
	    !frame_types[f->type].handle) {
		agent_send_error(a, f->type, f->session, "unknown frame type %u", f->type);
		return;
	}
	if (frame_types[f->type].size >= 0 && f->length != (uint32_t)frame_types[f->type].size) {
		agent_send_error(a, f->type, f->session, "%s with %u bytes of payload, not %d",
				 agent_type_name(f->type), f->length, frame_types[f->type].size);
		return;
	}
	frame_types[f->type].handle(a, f);
}

/* --- the channel ---------------------------------------------------------------- */

static int open_channel(const char *device)
{
	int fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && errno == EBUSY)
		die("%s: %s (another lguest-agent has it open?)", device, strerror(errno));
	if (fd < 0 && errno == ENOENT)
		die("%s: %s (no --channel for this guest, or the lguest_chan module is not loaded)",
		    device, strerror(errno));
	if (fd < 0)
		die("%s: %s", device, strerror(errno));
	return fd;
}

/*
 * A stream we cannot follow: say so, give the channel a moment to take it,
 * then close and reopen the device, which ends the host's connection.
 */
static void hang_up(struct agent *a, const char *why)
{
	struct timespec start, now;

	agent_send_error(a, 0, 0, "%s: closing the connection", why);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (a->out.len) {
		struct pollfd p = { .fd = a->chan, .events = POLLOUT };
		long spent;

		if (agent_queue_flush(&a->out, a->chan) < 0 && errno != EAGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (!a->out.len || spent >= HANGUP_GRACE_MS)
			break;
		poll(&p, 1, HANGUP_GRACE_MS - spent);
	}
	close(a->chan);
	a->chan = open_channel(a->device);
	agent_start_clean(a, "hung up");
}

/* The channel has bytes (or news of a reset): take every whole frame. */
static void channel_read(struct agent *a)
{
	struct agent_frame f;
	const char *why;
	ssize_t n = agent_reader_fill(&a->in, a->chan);
	int got;

	if (n < 0 && errno == ECONNRESET) {
		agent_start_clean(a, "the host's connection was reset");
		return;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		fprintf(stderr, "%s: reading %s: %s\n", program, a->device, strerror(errno));
		hang_up(a, "a read error");
		return;
	}
	while ((got = agent_reader_next(&a->in, &f, &why)) > 0)
		dispatch(a, &f);
	if (got < 0)
		hang_up(a, why);
}

static void channel_write(struct agent *a)
{
	if (agent_queue_flush(&a->out, a->chan) >= 0 || errno == EAGAIN || errno == EINTR)
		return;
	if (errno == ECONNRESET) {
		channel_read(a);	/* which fails so too: start clean */
		return;
	}
	fprintf(stderr, "%s: writing %s: %s\n", program, a->device, strerror(errno));
	hang_up(a, "a write error");
}

/* --- signals ------------------------------------------------------------------ */

static int signals_open(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);	/* a closed stdin pipe is EPIPE */
	return fd;
}

static void signals_read(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sig, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			fprintf(stderr, "%s: %s: killing every session and exiting\n", program,
				strsignal(si.ssi_signo));
			a->quit = true;
		}
	}
	session_reap(a);
}

/* --- the loop -------------------------------------------------------------------- */

enum { POLL_CHAN, POLL_SIG, POLL_SESSIONS };

static void agent_turn(struct agent *a)
{
	struct pollfd p[POLL_SESSIONS + 3 * AGENT_MAX_SESSIONS];
	struct session_fd ref[3 * AGENT_MAX_SESSIONS];
	unsigned int n;

	session_tick(a);
	if (a->out.len)
		channel_write(a);
	p[POLL_CHAN] = (struct pollfd){
		.fd = a->chan,
		.events = (a->out.len < 2 * AGENT_QUEUE_MAX ? POLLIN : 0) |
			  (a->out.len ? POLLOUT : 0),
	};
	p[POLL_SIG] = (struct pollfd){ .fd = a->sig, .events = POLLIN };
	n = session_poll_set(a, p + POLL_SESSIONS, ref);
	if (poll(p, POLL_SESSIONS + n, -1) < 0) {
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
		return;
	}
	if (p[POLL_SIG].revents)
		signals_read(a);
	session_poll_done(a, p + POLL_SESSIONS, ref, n);
	if (p[POLL_CHAN].revents & POLLOUT)
		channel_write(a);
	if (p[POLL_CHAN].revents & (POLLIN | POLLERR | POLLHUP))
		channel_read(a);
}

/* Descriptors 0, 1 and 2 open, so that no pipe of ours is given one of them. */
static void std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--verbose] [DEVICE]\n"
		"\n"
		"Run commands in this guest for the host, over the lguest channel DEVICE\n"
		"(default %s), whose other end is the socket of the guest's launcher\n"
		"(lguest --channel=PATH).  The protocol: include/lguest/agent.h.\n"
		"\n"
		"  -v, --verbose  log each command and each reset on stderr\n"
		"  -h, --help     this help\n"
		"\n"
		"It runs until SIGTERM, SIGINT or SIGHUP, which kill every command it runs.\n"
		"\n"
		"%s probe udp-recv|udp-send|tcp-connect|tcp-listen ARGS...: the network tools\n"
		"of lguest-net's tests (agent/probe.c says what each does).\n",
		program, DEFAULT_DEVICE, program);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct agent a;	/* sessions and all: too big for a stack */
	int c;

	if (argc > 1 && !strcmp(argv[1], "probe"))	/* a lab test's tool (probe.c) */
		return probe_main(argc - 2, argv + 2);
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			a.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	a.device = optind < argc ? argv[optind] : DEFAULT_DEVICE;
	std_fds();
	if (agent_reader_init(&a.in) < 0)
		die("out of memory");
	agent_queue_init(&a.out);
	a.sig = signals_open();
	a.chan = open_channel(a.device);
	agent_log(&a, "listening on %s", a.device);
	while (!a.quit)
		agent_turn(&a);
	session_kill_all(&a);
	return 0;
}
