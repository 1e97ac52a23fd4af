/*
 * session.c: the agent's commands, one session each.
 *
 * EXEC starts a command: pipes for its stdout and stderr (and its stdin when
 * asked; /dev/null otherwise), then fork().  The child makes itself a session
 * and process group of its own (setsid: SIGNAL goes to the whole group, and
 * a reset kills it), puts every signal back to its default and unblocks it
 * (the agent blocks some, ignores SIGPIPE, and may have been started with
 * SIGINT ignored), adds the environment, changes directory, and execvp()s; if that
 * fails it says why on its stderr and exits 127 (not found) or 126, as a
 * shell does.  The agent keeps the other ends of the pipes, non-blocking,
 * and its event loop (lguest-agent.c) polls them:
 *
 *   stdout, stderr  read while the session has output credit (the host's
 *      window, include/lguest/agent.h) and the frames waiting for the
 *      channel are fewer than AGENT_QUEUE_MAX bytes: each read becomes one
 *      STDOUT or STDERR frame, built in place in the queue.  Otherwise the
 *      pipe is left alone, fills up, and the command blocks.
 *   stdin  STDIN frames are queued (within the host's window) and written as
 *      the pipe takes them; written bytes are acknowledged (STDIN_ACK) a
 *      quarter window at a time, or all when the queue is empty.  A command
 *      that closed its stdin makes our writes fail (EPIPE): what is left is
 *      dropped, and acknowledged all the same.
 *
 * SIGCHLD comes through the agent's signalfd; session_reap() collects every
 * child that ended.  A command that has exited is "draining": what its pipes
 * hold at that moment is all it wrote (a write to a pipe is done when it
 * returns), so we note how much that is (FIONREAD), send exactly that, and
 * close them, without waiting for end-of-file: a daemon it started may hold
 * them for ever, and one that writes on must not keep the session alive.
 * Then its EXIT goes out, after all its output, and its slot is free.  A reset, HELLO or the agent's own end kills every
 * session's process group with SIGKILL (those not yet reaped: a reaped
 * one's group id may already be someone else's) and frees the slots; the
 * zombies are reaped as they come.
 */
#define _GNU_SOURCE		/* pipe2, execvpe */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

struct session *session_find(struct agent *a, uint32_t id)
{
	for (unsigned int i = 0; id && i < AGENT_MAX_SESSIONS; i++)
		if (a->sessions[i].id == id)
			return &a->sessions[i];
	return NULL;
}

unsigned int session_count(const struct agent *a)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++)
		n += a->sessions[i].id != 0;
	return n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void session_free(struct session *s)
{
	close_fd(&s->in_fd);
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	agent_queue_free(&s->stdin_q);
	memset(s, 0, sizeof(*s));
	s->in_fd = s->out_fd = s->err_fd = -1;
}

/* --- starting -------------------------------------------------------------- */

/* A command that cannot even be tried: a message on its STDERR, then EXIT. */
__attribute__((format(printf, 4, 5)))
static void session_refuse(struct agent *a, uint32_t id, int code, const char *fmt, ...)
{
	uint8_t exit[sizeof(struct lguest_agent_exit)];
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "lguest-agent: ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	agent_send(a, LGUEST_AGENT_STDERR, id, msg, n);
	agent_put_le32(exit, code);
	agent_put_le32(exit + 4, 0);
	agent_send(a, LGUEST_AGENT_EXIT, id, exit, sizeof(exit));
	agent_log(a, "session %u: %.*s", id, n - 1, msg + 14);
}

/* In the child: become the command, or say why not and exit as a shell would. */
__attribute__((noreturn))
static void child(const struct agent_exec *e, int in, int out, int err)
{
	sigset_t none;
	int why;

	/* Signals as a command expects them, not as we were started with
	 * (a shell starts a background job with SIGINT and SIGQUIT ignored). */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (in < 0)
		in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(125);
	for (unsigned int i = 0; e->env[i]; i++)
		putenv((char *)e->env[i]);
	if (e->cwd && chdir(e->cwd) < 0) {
		dprintf(2, "lguest-agent: cannot change to directory %s: %s\n", e->cwd,
			strerror(errno));
		_exit(125);
	}
	execvp(e->argv[0], (char *const *)e->argv);
	why = errno;
	dprintf(2, "lguest-agent: %s: %s\n", e->argv[0], strerror(why));
	_exit(why == ENOENT ? 127 : 126);
}

/* Pipes for the command: ours are [0] of out and err, [1] of in. */
static int make_pipes(int in[2], int out[2], int err[2], bool want_stdin)
{
	in[0] = in[1] = out[0] = out[1] = err[0] = err[1] = -1;
	if ((want_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;

		for (int i = 0; i < 2; i++) {
			close_fd(&in[i]);
			close_fd(&out[i]);
			close_fd(&err[i]);
		}
		errno = e;
		return -1;
	}
	return 0;
}

static struct session *free_slot(struct agent *a)
{
	for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (!a->sessions[i].id)
			return &a->sessions[i];
	return NULL;
}

void session_start(struct agent *a, uint32_t id, const struct agent_exec *e)
{
	bool want_stdin = e->flags & LGUEST_AGENT_EXEC_STDIN;
	struct session *s = free_slot(a);
	int in[2], out[2], err[2];
	pid_t pid;

	if (!s) {
		session_refuse(a, id, 125, "too many sessions: %d are running", AGENT_MAX_SESSIONS);
		return;
	}
	if (make_pipes(in, out, err, want_stdin) < 0) {
		session_refuse(a, id, 125, "cannot make pipes: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0)
		child(e, in[0], out[1], err[1]);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	if (pid < 0) {
		int why = errno;

		close_fd(&in[1]);
		close_fd(&out[0]);
		close_fd(&err[0]);
		session_refuse(a, id, 125, "cannot start %s: %s", e->argv[0], strerror(why));
		return;
	}
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->pid = pid;
	s->in_fd = in[1];
	s->out_fd = out[0];
	s->err_fd = err[0];
	s->has_stdin = want_stdin;
	s->credit = AGENT_OUTPUT_WINDOW;
	agent_queue_init(&s->stdin_q);
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? s->in_fd : i == 1 ? s->out_fd : s->err_fd;

		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	agent_log(a, "session %u: %s (pid %d)", id, e->argv[0], (int)pid);
}

/* --- stdin --------------------------------------------------------------------- */

/* Acknowledge written stdin: a quarter window at a time, or all when idle. */
static void stdin_ack(struct agent *a, struct session *s)
{
	uint8_t ack[sizeof(struct lguest_agent_ack)];

	if (!s->stdin_done || (s->stdin_done < AGENT_STDIN_WINDOW / 4 && s->stdin_q.len))
		return;
	agent_put_le32(ack, s->stdin_done);
	agent_send(a, LGUEST_AGENT_STDIN_ACK, s->id, ack, sizeof(ack));
	s->stdin_held -= s->stdin_done;
	s->stdin_done = 0;
}

/* The command will read no more: what waits is dropped (and acknowledged). */
static void stdin_gone(struct session *s)
{
	s->stdin_done += s->stdin_q.len;
	agent_queue_clear(&s->stdin_q);
	close_fd(&s->in_fd);
}

void session_stdin(struct agent *a, struct session *s, const uint8_t *bytes, uint32_t n)
{
	if (!s->has_stdin || s->stdin_eof) {
		agent_send_error(a, LGUEST_AGENT_STDIN, s->id, s->has_stdin ?
				 "STDIN after the end of stdin" : "STDIN for a session without stdin");
		return;
	}
	if (!n) {
		s->stdin_eof = true;
		if (!s->stdin_q.len)
			close_fd(&s->in_fd);
		return;
	}
	if (n > AGENT_STDIN_WINDOW - s->stdin_held) {
		agent_send_error(a, LGUEST_AGENT_STDIN, s->id,
				 "STDIN beyond the window (%u bytes unacknowledged, then %u more): dropped",
				 s->stdin_held, n);
		return;
	}
	s->stdin_held += n;
	if (s->in_fd < 0 || agent_queue_put(&s->stdin_q, bytes, n) < 0)
		s->stdin_done += n;	/* nobody to take it (or no memory): dropped */
}

static void stdin_write(struct session *s)
{
	ssize_t n = agent_queue_flush(&s->stdin_q, s->in_fd);

	if (n > 0)
		s->stdin_done += n;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		stdin_gone(s);	/* EPIPE: it closed its stdin, or exited */
	else if (!s->stdin_q.len && s->stdin_eof)
		close_fd(&s->in_fd);
}

/* --- output -------------------------------------------------------------------- */

/*
 * One read of stdout (which 1) or stderr (2) into a frame.  Once the command
 * has exited, at most what is left of what the pipe held then (*left), and
 * the pipe is closed when that is sent.
 */
static void output_read(struct agent *a, struct session *s, int which)
{
	int *fd = which == 1 ? &s->out_fd : &s->err_fd;
	uint32_t *left = which == 1 ? &s->out_left : &s->err_left;
	uint32_t max = s->credit < LGUEST_AGENT_MAX_PAYLOAD ? s->credit : LGUEST_AGENT_MAX_PAYLOAD;
	uint8_t *p;
	ssize_t n;

	if (s->exited && *left < max)
		max = *left;
	if (s->exited && !max) {
		close_fd(fd);
		return;
	}
	p = agent_queue_begin(&a->out, max);
	if (!p)
		return;		/* no memory now: the pipe waits */
	n = read(*fd, p, max);
	if (n > 0) {
		agent_queue_commit(&a->out, which == 1 ? LGUEST_AGENT_STDOUT : LGUEST_AGENT_STDERR,
				   s->id, n);
		s->credit -= n;
		if (s->exited && !(*left -= n))
			close_fd(fd);
		return;
	}
	if (n == 0 || s->exited || (errno != EAGAIN && errno != EINTR))
		close_fd(fd);
}

/* The bytes a pipe holds now. */
static uint32_t pipe_holds(int fd)
{
	int n = 0;

	return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? n : 0;
}

static bool may_read_output(const struct agent *a, const struct session *s)
{
	return s->credit && a->out.len < AGENT_QUEUE_MAX;
}

/* --- ends ---------------------------------------------------------------------- */

void session_reap(struct agent *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++) {
			struct session *s = &a->sessions[i];

			if (!s->id || s->pid != pid)
				continue;
			s->pid = 0;
			s->exited = true;
			s->out_left = pipe_holds(s->out_fd);
			s->err_left = pipe_holds(s->err_fd);
			if (WIFSIGNALED(status)) {
				s->signal = WTERMSIG(status);
				s->code = 128 + s->signal;
			} else {
				s->code = WEXITSTATUS(status);
			}
		}
	}
}

static void session_end(struct agent *a, struct session *s)
{
	uint8_t exit[sizeof(struct lguest_agent_exit)];

	agent_put_le32(exit, s->code);
	agent_put_le32(exit + 4, s->signal);
	agent_send(a, LGUEST_AGENT_EXIT, s->id, exit, sizeof(exit));
	agent_log(a, "session %u: exit %d%s", s->id, s->code, s->signal ? " (a signal)" : "");
	session_free(s);
}

void session_kill_all(struct agent *a)
{
	unsigned int killed = 0;

	for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++) {
		struct session *s = &a->sessions[i];

		if (!s->id)
			continue;
		if (s->pid > 0)
			kill(-s->pid, SIGKILL);
		session_free(s);
		killed++;
	}
	if (killed)
		agent_log(a, "%u session%s killed", killed, killed == 1 ? "" : "s");
}

/* Between two polls: drain what ended, end what is drained, acknowledge stdin. */
void session_tick(struct agent *a)
{
	for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++) {
		struct session *s = &a->sessions[i];

		if (!s->id)
			continue;
		if (s->exited && s->out_fd >= 0 && may_read_output(a, s))
			output_read(a, s, 1);
		if (s->exited && s->err_fd >= 0 && may_read_output(a, s))
			output_read(a, s, 2);
		stdin_ack(a, s);
		if (s->exited && s->out_fd < 0 && s->err_fd < 0)
			session_end(a, s);
	}
}

/* --- polling ---------------------------------------------------------------------- */

unsigned int session_poll_set(struct agent *a, struct pollfd *p, struct session_fd *ref)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < AGENT_MAX_SESSIONS; i++) {
		struct session *s = &a->sessions[i];
		bool out = may_read_output(a, s);

		if (!s->id)
			continue;
		if (s->in_fd >= 0 && s->stdin_q.len) {
			ref[n] = (struct session_fd){ s, 0 };
			p[n++] = (struct pollfd){ .fd = s->in_fd, .events = POLLOUT };
		}
		if (s->out_fd >= 0 && out) {
			ref[n] = (struct session_fd){ s, 1 };
			p[n++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
		}
		if (s->err_fd >= 0 && out) {
			ref[n] = (struct session_fd){ s, 2 };
			p[n++] = (struct pollfd){ .fd = s->err_fd, .events = POLLIN };
		}
	}
	return n;
}

void session_poll_done(struct agent *a, const struct pollfd *p, const struct session_fd *ref,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct session *s = ref[i].s;

		if (!p[i].revents || !s->id)
			continue;	/* (a reset in this turn freed it) */
		if (ref[i].which == 0 && s->in_fd >= 0)
			stdin_write(s);
		else if (ref[i].which == 1 && s->out_fd >= 0 && may_read_output(a, s))
			output_read(a, s, 1);
		else if (ref[i].which == 2 && s->err_fd >= 0 && may_read_output(a, s))
			output_read(a, s, 2);
	}
}
