/*
 * agent_client.c: running commands in a guest through its agent
 * (agent_client.h), for the test tools and as lguest-netd's example.
 *
 * A client is one connection to a launcher's channel socket, a reader for
 * the frames that come in and a queue for those that go out.  The socket is
 * non-blocking, and each call waits in poll() for what it needs:
 *
 *   hello  queues HELLO and reads frames until the agent's HELLO comes back
 *          (anything before it belongs to sessions the agent has just
 *          killed, and is skipped);
 *   run    queues one EXEC per command, then loops: feed each command's
 *          stdin within its window (STDIN_ACK opens it again), hand each
 *          STDOUT and STDERR to its descriptor or buffer and acknowledge it
 *          (OUTPUT_ACK) once a quarter of the window is consumed, forward
 *          the signals read from signal_fd, and stop when every command has
 *          its EXIT (or an ERROR about its EXEC: it never ran).
 *
 * Stdin is read only while the command's window is open and the queue is
 * short, so a command that reads nothing holds up nothing else.  The socket
 * is written with MSG_NOSIGNAL: a launcher that goes away is an error to
 * report, not a SIGPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_frame.h"

#define QUEUE_MAX (256 * 1024)	/* stop reading stdin while this much waits */

struct agent_client {
	int fd;
	struct agent_reader in;
	struct agent_queue out;
	struct agent_hello_info hello;
	bool said_hello;
	bool got_bytes;		/* has the launcher ever sent us a byte? */
	uint32_t next_session;
	char agent_error[256];	/* the agent's last ERROR about the stream */
	char error[512];
};

/* One command while it runs. */
struct running {
	struct agent_command *cmd;
	uint32_t session;
	bool done;
	bool stdin_open;	/* more stdin to send */
	size_t data_sent;	/* of cmd->stdin_data */
	uint32_t credit;	/* STDIN bytes the window still takes */
	uint32_t unacked;	/* output bytes consumed, not yet acknowledged */
	bool out_broken, err_broken;	/* their descriptor failed: output dropped */
	struct agent_queue out, err;	/* collected output */
	uint64_t started;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__attribute__((format(printf, 2, 3)))
static int fail(struct agent_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *agent_client_error(const struct agent_client *c)
{
	return c->error;
}

int agent_client_fd(const struct agent_client *c)
{
	return c->fd;
}

struct agent_client *agent_client_connect(const char *path, char *err, size_t errsize)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct agent_client *c;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errsize, "%s: too long for a unix socket's path", path);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errsize, "%s: no such socket (is the guest's lguest running with --channel=%s?)",
				 path, path);
		else if (e == ECONNREFUSED)
			snprintf(err, errsize, "%s: nobody listens there (its lguest has exited)", path);
		else
			snprintf(err, errsize, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || agent_reader_init(&c->in) < 0) {
		snprintf(err, errsize, "out of memory");
		free(c);
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->fd = fd;
	c->next_session = 1;
	agent_queue_init(&c->out);
	return c;
}

void agent_client_close(struct agent_client *c)
{
	if (!c)
		return;
	close(c->fd);
	agent_reader_free(&c->in);
	agent_queue_free(&c->out);
	free(c);
}

/* --- the socket ---------------------------------------------------------- */

/* The connection ended: why, as far as we can tell. */
static int closed(struct agent_client *c)
{
	if (c->agent_error[0])
		return fail(c, "the guest's agent reset the channel: %s", c->agent_error);
	if (!c->got_bytes)
		return fail(c, "the launcher closed the connection before a byte came: another client holds the channel, or the guest's agent reset it");
	return fail(c, "the channel closed: the guest's agent reset it, or its launcher exited");
}

static int client_flush(struct agent_client *c)
{
	while (c->out.len) {
		size_t len;
		const uint8_t *p = agent_queue_peek(&c->out, &len);
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return closed(c);
		if (n < 0)
			return fail(c, "writing to the channel: %s", strerror(errno));
		agent_queue_drop(&c->out, n);
	}
	return 0;
}

static int client_fill(struct agent_client *c)
{
	ssize_t n = agent_reader_fill(&c->in, c->fd);

	if (n > 0) {
		c->got_bytes = true;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 && errno != ECONNRESET)	/* (closed with our bytes unread) */
		return fail(c, "reading from the channel: %s", strerror(errno));
	return closed(c);
}

/* The next whole frame: 1, 0 for none yet, -1 for a garbled stream. */
static int client_next(struct agent_client *c, struct agent_frame *f)
{
	const char *why;
	int r = agent_reader_next(&c->in, f, &why);

	if (r < 0)
		return fail(c, "garbled frame from the guest's agent: %s", why);
	return r;
}

/* An ERROR about the stream: kept, to explain the end of it. */
static void stream_error(struct agent_client *c, const struct agent_frame *f)
{
	size_t off = sizeof(struct lguest_agent_error);
	int n = f->length > off ? (int)(f->length - off) : 0;

	snprintf(c->agent_error, sizeof(c->agent_error), "%.*s", n,
		 n ? (const char *)f->payload + off : "");
}

/* --- HELLO ------------------------------------------------------------------- */

static void hello_parse(struct agent_client *c, const struct agent_frame *f)
{
	const size_t fixed = sizeof(struct lguest_agent_hello);
	size_t n = f->length - fixed;

	c->hello.max_sessions = agent_get_le32(f->payload);
	c->hello.stdin_window = agent_get_le32(f->payload + 4);
	c->hello.output_window = agent_get_le32(f->payload + 8);
	if (n >= sizeof(c->hello.hostname))
		n = sizeof(c->hello.hostname) - 1;
	memcpy(c->hello.hostname, f->payload + fixed, n);
	c->hello.hostname[n] = '\0';
	c->said_hello = true;
}

int agent_client_hello(struct agent_client *c, int timeout_ms, struct agent_hello_info *info)
{
	uint64_t deadline = now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	struct agent_frame f;
	int r;

	if (agent_queue_frame(&c->out, LGUEST_AGENT_HELLO, 0, NULL, 0) < 0)
		return fail(c, "out of memory");
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int wait = -1;

		if (client_flush(c) < 0)
			return -1;
		if (c->out.len)
			p.events |= POLLOUT;
		if (timeout_ms >= 0) {
			uint64_t now = now_ns();

			if (now >= deadline)
				return fail(c, "no HELLO from the guest's agent in %d ms (is it running? lguest-initramfs --agent)",
					    timeout_ms);
			wait = (deadline - now) / 1000000 + 1;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return fail(c, "poll: %s", strerror(errno));
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && client_fill(c) < 0)
			return -1;
		while ((r = client_next(c, &f)) > 0) {
			if (f.type == LGUEST_AGENT_ERROR && !f.session)
				stream_error(c, &f);
			if (f.type != LGUEST_AGENT_HELLO || f.length < sizeof(struct lguest_agent_hello))
				continue;	/* what came before it */
			hello_parse(c, &f);
			if (info)
				*info = c->hello;
			return 0;
		}
		if (r < 0)
			return -1;
	}
}

/* --- running commands ------------------------------------------------------------ */

static struct running *find(struct running *r, size_t n, uint32_t session)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].session == session && !r[i].done)
			return &r[i];
	return NULL;
}

/* Queue the EXEC of one command; one whose EXEC cannot be made never runs. */
static int start_command(struct agent_client *c, struct running *r)
{
	struct agent_command *cmd = r->cmd;
	struct agent_exec e = {
		.argv = (const char **)cmd->argv,
		.env = (const char **)cmd->env,
		.cwd = cmd->cwd,
	};
	uint8_t *p;
	ssize_t len;

	cmd->code = -1;
	cmd->signal = 0;
	cmd->out = cmd->err = cmd->error = NULL;
	cmd->out_len = cmd->err_len = 0;
	cmd->elapsed_ns = 0;
	agent_queue_init(&r->out);
	agent_queue_init(&r->err);
	r->stdin_open = cmd->stdin_fd >= 0 || cmd->stdin_data;
	if (r->stdin_open)
		e.flags |= LGUEST_AGENT_EXEC_STDIN;
	r->credit = c->hello.stdin_window;
	r->session = c->next_session++;
	if (!c->next_session)
		c->next_session = 1;

	p = agent_queue_begin(&c->out, LGUEST_AGENT_MAX_PAYLOAD);
	if (!p)
		return fail(c, "out of memory");
	len = agent_exec_encode(&e, p, LGUEST_AGENT_MAX_PAYLOAD);
	if (len < 0) {
		cmd->error = strdup("no argv, or argv, environment and directory longer than 64 KiB");
		r->done = true;
		return 0;
	}
	agent_queue_commit(&c->out, LGUEST_AGENT_EXEC, r->session, len);
	r->started = now_ns();
	return 0;
}

/* Up to credit bytes of stdin_data, then its end. */
static int feed_data(struct agent_client *c, struct running *r)
{
	struct agent_command *cmd = r->cmd;
	size_t n = cmd->stdin_len - r->data_sent;

	if (n > r->credit)
		n = r->credit;
	if (n > LGUEST_AGENT_MAX_PAYLOAD)
		n = LGUEST_AGENT_MAX_PAYLOAD;
	if (n && agent_queue_frame(&c->out, LGUEST_AGENT_STDIN, r->session,
				   (const uint8_t *)cmd->stdin_data + r->data_sent, n) < 0)
		return fail(c, "out of memory");
	r->data_sent += n;
	r->credit -= n;
	if (r->data_sent == cmd->stdin_len) {
		if (agent_queue_frame(&c->out, LGUEST_AGENT_STDIN, r->session, NULL, 0) < 0)
			return fail(c, "out of memory");
		r->stdin_open = false;
	}
	return 0;
}

/* What stdin_fd has, up to credit bytes; its end (or an error) ends stdin. */
static int feed_fd(struct agent_client *c, struct running *r)
{
	uint32_t max = r->credit < LGUEST_AGENT_MAX_PAYLOAD ? r->credit : LGUEST_AGENT_MAX_PAYLOAD;
	uint8_t *p = agent_queue_begin(&c->out, max);
	ssize_t n;

	if (!p)
		return fail(c, "out of memory");
	n = read(r->cmd->stdin_fd, p, max);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		agent_queue_commit(&c->out, LGUEST_AGENT_STDIN, r->session, n);
		r->credit -= n;
		return 0;
	}
	agent_queue_commit(&c->out, LGUEST_AGENT_STDIN, r->session, 0);
	r->stdin_open = false;
	return 0;
}

/* Write all of it, waiting for a slow descriptor: -1 when it fails. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			poll(&pf, 1, -1);
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* STDOUT or STDERR: to its descriptor or buffer, then acknowledged. */
static int on_output(struct agent_client *c, struct running *r, const struct agent_frame *f)
{
	bool is_out = f->type == LGUEST_AGENT_STDOUT;
	int fd = is_out ? r->cmd->stdout_fd : r->cmd->stderr_fd;
	bool *broken = is_out ? &r->out_broken : &r->err_broken;
	uint8_t ack[4];

	if (fd < 0) {
		if (agent_queue_put(is_out ? &r->out : &r->err, f->payload, f->length) < 0)
			return fail(c, "out of memory");
	} else if (!*broken && write_all(fd, f->payload, f->length) < 0) {
		*broken = true;	/* the rest of that stream is dropped */
	}
	r->unacked += f->length;
	if (r->unacked >= c->hello.output_window / 4) {
		agent_put_le32(ack, r->unacked);
		if (agent_queue_frame(&c->out, LGUEST_AGENT_OUTPUT_ACK, r->session, ack, 4) < 0)
			return fail(c, "out of memory");
		r->unacked = 0;
	}
	return 0;
}

static int on_exit_frame(struct agent_client *c, struct running *r, const struct agent_frame *f)
{
	(void)c;
	if (f->length < sizeof(struct lguest_agent_exit))
		return 0;
	r->cmd->code = agent_get_le32(f->payload);
	r->cmd->signal = agent_get_le32(f->payload + 4);
	r->cmd->elapsed_ns = now_ns() - r->started;
	r->done = true;
	return 0;
}

static int on_error(struct agent_client *c, struct running *r, const struct agent_frame *f)
{
	size_t off = sizeof(struct lguest_agent_error);

	(void)c;
	if (f->length < off)
		return 0;
	free(r->cmd->error);
	r->cmd->error = strndup((const char *)f->payload + off, f->length - off);
	if (f->payload[0] == LGUEST_AGENT_EXEC)
		r->done = true;	/* refused: it never ran */
	return 0;
}

static int on_stdin_ack(struct agent_client *c, struct running *r, const struct agent_frame *f)
{
	uint64_t credit;

	if (f->length < 4)
		return 0;
	credit = (uint64_t)r->credit + agent_get_le32(f->payload);
	r->credit = credit > c->hello.stdin_window ? c->hello.stdin_window : credit;
	return 0;
}

static int (*const handlers[])(struct agent_client *, struct running *,
			       const struct agent_frame *) = {
	[LGUEST_AGENT_STDOUT] = on_output,
	[LGUEST_AGENT_STDERR] = on_output,
	[LGUEST_AGENT_EXIT] = on_exit_frame,
	[LGUEST_AGENT_ERROR] = on_error,
	[LGUEST_AGENT_STDIN_ACK] = on_stdin_ack,
};

/* Every whole frame that came in, to its command. */
static int dispatch(struct agent_client *c, struct running *r, size_t n)
{
	struct agent_frame f;
	int got;

	while ((got = client_next(c, &f)) > 0) {
		struct running *to = find(r, n, f.session);

		if (f.type == LGUEST_AGENT_ERROR && !f.session)
			stream_error(c, &f);
		if (!to || f.type >= sizeof(handlers) / sizeof(handlers[0]) || !handlers[f.type])
			continue;
		if (handlers[f.type](c, to, &f) < 0)
			return -1;
	}
	return got;
}

/* A signal from signal_fd goes to every command still running. */
static int forward_signals(struct agent_client *c, int signal_fd, struct running *r, size_t n)
{
	struct signalfd_siginfo si;
	uint8_t sig[4];

	while (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
		agent_put_le32(sig, si.ssi_signo);
		for (size_t i = 0; i < n; i++)
			if (!r[i].done && agent_queue_frame(&c->out, LGUEST_AGENT_SIGNAL,
							    r[i].session, sig, 4) < 0)
				return fail(c, "out of memory");
	}
	return 0;
}

static bool wants_stdin(const struct agent_client *c, const struct running *r)
{
	return !r->done && r->stdin_open && r->credit && c->out.len < QUEUE_MAX;
}

/* One turn: queue what can go, wait, and take what came. */
static int run_turn(struct agent_client *c, struct running *r, size_t n, int signal_fd,
		    struct pollfd *p, size_t *who)
{
	size_t np = 0;

	for (size_t i = 0; i < n; i++)
		if (wants_stdin(c, &r[i]) && r[i].cmd->stdin_fd < 0 && feed_data(c, &r[i]) < 0)
			return -1;
	if (client_flush(c) < 0)
		return -1;
	p[np++] = (struct pollfd){ .fd = c->fd, .events = POLLIN | (c->out.len ? POLLOUT : 0) };
	p[np++] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
	for (size_t i = 0; i < n; i++) {
		if (wants_stdin(c, &r[i]) && r[i].cmd->stdin_fd >= 0) {
			who[np] = i;
			p[np++] = (struct pollfd){ .fd = r[i].cmd->stdin_fd, .events = POLLIN };
		}
	}
	if (poll(p, np, -1) < 0 && errno != EINTR)
		return fail(c, "poll: %s", strerror(errno));
	if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
		if (client_fill(c) < 0 || dispatch(c, r, n) < 0)
			return -1;
	}
	if ((p[1].revents & POLLIN) && forward_signals(c, signal_fd, r, n) < 0)
		return -1;
	for (size_t k = 2; k < np; k++)
		if (p[k].revents && !r[who[k]].done && feed_fd(c, &r[who[k]]) < 0)
			return -1;
	return 0;
}

/* Collected output into the command, NUL-terminated. */
static void finish(struct running *r)
{
	struct agent_command *cmd = r->cmd;

	if (r->out.len || cmd->stdout_fd < 0) {
		cmd->out = calloc(1, r->out.len + 1);
		if (cmd->out && r->out.len)
			memcpy(cmd->out, r->out.buf + r->out.start, r->out.len);
		cmd->out_len = cmd->out ? r->out.len : 0;
	}
	if (r->err.len || cmd->stderr_fd < 0) {
		cmd->err = calloc(1, r->err.len + 1);
		if (cmd->err && r->err.len)
			memcpy(cmd->err, r->err.buf + r->err.start, r->err.len);
		cmd->err_len = cmd->err ? r->err.len : 0;
	}
	if (!r->done && !cmd->error)
		cmd->error = strdup("the connection ended before it did");
	agent_queue_free(&r->out);
	agent_queue_free(&r->err);
}

int agent_client_run(struct agent_client *c, struct agent_command *cmds, size_t n,
		     int signal_fd)
{
	struct running *r = calloc(n ? n : 1, sizeof(*r));
	struct pollfd *p = calloc(n + 2, sizeof(*p));
	size_t *who = calloc(n + 2, sizeof(*who));
	int err = 0;

	if (!r || !p || !who) {
		err = fail(c, "out of memory");
		goto out;
	}
	if (!c->said_hello) {
		err = fail(c, "HELLO first: agent_client_hello()");
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		r[i].cmd = &cmds[i];
		err = start_command(c, &r[i]);
	}
	for (;;) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++)
			left += !r[i].done;
		if (err || !left)
			break;
		err = run_turn(c, r, n, signal_fd, p, who);
	}
	for (size_t i = 0; i < n && r[i].cmd; i++)
		finish(&r[i]);
out:
	free(who);
	free(p);
	free(r);
	return err;
}

void agent_command_free(struct agent_command *cmd)
{
	free(cmd->out);
	free(cmd->err);
	free(cmd->error);
	cmd->out = cmd->err = cmd->error = NULL;
}
