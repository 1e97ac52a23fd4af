/*
 * node.c: one node of a lab, from its launcher's start to its end.
 *
 * A node is a launcher (lguest) running one guest.  Its life, as the daemon
 * follows it (enum node_state):
 *
 *   WAITING   until every node in its `after:` list is ready (lab.c decides);
 *   STARTING  the launcher runs, with the guest's serial console on a pty
 *             whose other side we hold, and its stderr on a pipe; we wait for
 *             its channel socket to appear;
 *   BOOTING   connected to the channel: we wait for the guest's agent to
 *             answer (the kernel has booted and the image's init started it);
 *   PROBING   the agent answers: we ask it, every PROBE_MS, whether the
 *             configuration and startup script are done (/run/lab/startup.done),
 *             then run the node's ready: command until it exits 0;
 *   READY     or FAILED (not ready in time: why says what the last probe
 *             said), or DEAD (the launcher ended: why says how, with its
 *             last words on stderr, such as "guest killed: ...").
 *
 * The console is always read, whoever is attached, and written to the
 * node's console log in the lab directory: a guest never waits for a slow
 * reader (an attached client that falls behind misses output instead).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "argv.h"
#include "netd.h"

#define POLL_MS 100		/* looking for the channel socket */
#define PROBE_MS 300		/* between readiness probes */
#define CONSOLE_BACKLOG (256u << 10)	/* an attached client may lag this much */
#define CONSOLE_LOG_MAX (64u << 20)	/* a guest may not fill the disk */

static const char *const state_names[] = {
	[NODE_WAITING] = "waiting", [NODE_STARTING] = "starting", [NODE_BOOTING] = "booting",
	[NODE_PROBING] = "probing", [NODE_READY] = "ready", [NODE_FAILED] = "failed",
	[NODE_DEAD] = "dead",
};

const char *node_state_name(enum node_state s)
{
	return state_names[s];
}

static void node_set(struct node *n, enum node_state s)
{
	n->state = s;
	lab_poke(n->lab);
}

static void node_fail(struct node *n, enum node_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void node_fail(struct node *n, enum node_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->why, sizeof(n->why), fmt, ap);
	va_end(ap);
	timer_cancel(&n->lab->d->loop, &n->timer);
	timer_cancel(&n->lab->d->loop, &n->deadline);
	if (n->probe) {
		session_abandon(n->probe);
		n->probe = NULL;
	}
	lab_event(n->lab, "node %s %s: %s", n->t->name, state_names[s], n->why);
	node_set(n, s);
}

/* --- the console ------------------------------------------------------------------- */
static void console_event(struct watch *w, uint32_t events)
{
	struct node *n = (struct node *)((char *)w - offsetof(struct node, console));
	uint8_t buf[16384];
	ssize_t got = read(w->fd, buf, sizeof(buf));

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		/* EIO: the launcher closed its side (it ended): so do its consoles. */
		loop_close(&n->lab->d->loop, w);
		for (struct client *c = n->consoles, *next; c; c = next) {
			next = c->next_of_target;
			client_end(c);
		}
		n->consoles = NULL;
		return;
	}
	if (n->console_log >= 0 && n->console_logged + (uint64_t)got > CONSOLE_LOG_MAX) {
		lab_event(n->lab, "node %s: its console log reached %u MiB: no more is kept",
			  n->t->name, CONSOLE_LOG_MAX >> 20);
		close(n->console_log);
		n->console_log = -1;
	}
	if (n->console_log >= 0 && write(n->console_log, buf, (size_t)got) < 0)
		lab_event(n->lab, "node %s: console log: %s", n->t->name, strerror(errno));
	n->console_logged += (uint64_t)got;
	for (struct client *c = n->consoles; c; c = c->next_of_target)
		if (client_backlog(c) < CONSOLE_BACKLOG)
			client_frame(c, PF_STDOUT, buf, (uint32_t)got);
	(void)events;
}

void node_console_input(struct node *n, const uint8_t *data, uint32_t len)
{
	if (n->console.fd >= 0 && write(n->console.fd, data, len) < 0 && errno != EAGAIN)
		lab_event(n->lab, "node %s: console input: %s", n->t->name, strerror(errno));
}

void node_console_resize(struct node *n, unsigned int rows, unsigned int cols)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };

	if (n->console.fd >= 0 && rows && cols && rows < 10000 && cols < 10000)
		ioctl(n->console.fd, TIOCSWINSZ, &ws);
}

/* The launcher's stderr: into the lab's log; its last line kept for why. */
static void errors_event(struct watch *w, uint32_t events)
{
	struct node *n = (struct node *)((char *)w - offsetof(struct node, errors));
	char who[64];

	(void)events;
	snprintf(who, sizeof(who), "node %s", n->t->name);
	lab_read_lines(n->lab, w, who, n->last_error, sizeof(n->last_error));
}

/* --- readiness ---------------------------------------------------------------------- */
static void probe_again(struct timer *t);

/* A probe's output, kept in the node (the last PROBE_OUTPUT_MAX bytes' start). */
static void probe_output(struct session *s, bool is_stderr, const uint8_t *data, uint32_t len)
{
	struct node *n = s->ctx;
	size_t room = sizeof(n->probe_out) - 1 - n->probe_len;

	(void)is_stderr;
	if (len > room)
		len = (uint32_t)room;
	memcpy(n->probe_out + n->probe_len, data, len);
	n->probe_len += len;
	n->probe_out[n->probe_len] = '\0';
}

static void probe_exit(struct session *s, int code, int sig)
{
	struct node *n = s->ctx;
	bool startup = !n->startup_seen;

	n->probe = NULL;
	n->probes++;
	if (code == 0 && !sig && startup) {
		int status = atoi(n->probe_out);

		if (status)
			lab_event(n->lab, "node %s: its startup script exited %d", n->t->name, status);
		n->startup_seen = true;
		if (n->t->ready) {	/* now the user's probe */
			timer_arm(&n->lab->d->loop, &n->timer, 0, probe_again);
			return;
		}
	}
	if (code == 0 && !sig) {
		n->t_ready = now_ns();
		timer_cancel(&n->lab->d->loop, &n->deadline);
		lab_event(n->lab, "node %s ready in %.1f s", n->t->name,
			  (double)(n->t_ready - n->t_start) / 1e9);
		node_set(n, NODE_READY);
		return;
	}
	if (!startup)
		snprintf(n->why, sizeof(n->why), "its ready probe said: %.400s", n->probe_out);
	timer_arm(&n->lab->d->loop, &n->timer, PROBE_MS, probe_again);
}

static const struct session_ops probe_ops = { probe_output, probe_exit, NULL };

static void probe_start(struct node *n)
{
	char *startup[] = { "cat", "/run/lab/startup.done", NULL };
	char *ready[] = { "bash", "-c", n->t->ready, NULL };

	if (!n->agent)
		return;		/* its channel broke: look_for_channel() is at work */
	n->probe_len = 0;
	n->probe_out[0] = '\0';
	n->probe = !n->startup_seen ? agent_exec(n->agent, 2, startup, false, &probe_ops, n)
				    : agent_exec(n->agent, 3, ready, false, &probe_ops, n);
}

static void probe_again(struct timer *t)
{
	struct node *n = (struct node *)((char *)t - offsetof(struct node, timer));

	if (n->state != NODE_PROBING)
		return;
	if (!n->probe)
		probe_start(n);
	if (!n->probe)
		timer_arm(&n->lab->d->loop, &n->timer, PROBE_MS, probe_again);
}

/* Not ready in its time, wherever it is (booting, or a probe that hangs). */
static void deadline(struct timer *t)
{
	struct node *n = (struct node *)((char *)t - offsetof(struct node, deadline));

	if (n->state != NODE_STARTING && n->state != NODE_BOOTING && n->state != NODE_PROBING)
		return;
	node_fail(n, NODE_FAILED, "not ready after %.0f s: %s%s%s",
		  (double)n->t->ready_timeout_ns / 1e9,
		  n->state == NODE_PROBING ? "its agent answers" : "its agent did not answer",
		  n->why[0] ? "; " : "", n->why);
}

void node_agent_hello(struct node *n)
{
	if (n->state != NODE_BOOTING)
		return;
	n->t_booted = now_ns();
	lab_event(n->lab, "node %s booted in %.1f s", n->t->name,
		  (double)(n->t_booted - n->t_start) / 1e9);
	n->why[0] = '\0';
	node_set(n, NODE_PROBING);
	probe_again(&n->timer);
}

static void look_for_channel(struct timer *t);

void node_agent_lost(struct node *n, const char *why)
{
	if (n->agent) {
		agent_free(n->agent);
		n->agent = NULL;
	}
	n->probe = NULL;
	if (n->state == NODE_DEAD || n->state == NODE_FAILED)
		return;
	lab_event(n->lab, "node %s: its agent's channel: %s; connecting again", n->t->name, why);
	if (n->state != NODE_READY)
		n->state = NODE_STARTING;
	timer_arm(&n->lab->d->loop, &n->timer, POLL_MS, look_for_channel);
}

static void look_for_channel(struct timer *t)
{
	struct node *n = (struct node *)((char *)t - offsetof(struct node, timer));
	char err[ERR_MAX];

	if (n->state == NODE_DEAD || n->state == NODE_FAILED || n->agent)
		return;
	if (access(n->pn->chan, F_OK) == 0) {
		n->agent = agent_connect(n, err, sizeof(err));
		if (n->agent) {
			if (n->state == NODE_STARTING)
				node_set(n, NODE_BOOTING);
			timer_arm(&n->lab->d->loop, &n->timer, 1000, look_for_channel);
			return;
		}
	}
	timer_arm(&n->lab->d->loop, &n->timer, POLL_MS, look_for_channel);
}

/* --- the launcher ---------------------------------------------------------------- */
static void launcher_ended(struct proc *p)
{
	struct node *n = (struct node *)((char *)p - offsetof(struct node, proc));
	char how[128];

	if (n->agent) {
		agent_free(n->agent);
		n->agent = NULL;
		n->probe = NULL;
	}
	proc_describe(p->status, how, sizeof(how));
	if (n->lab->state == LAB_STOPPING || n->lab->state == LAB_FAILED) {
		/* asked to: going down */
		snprintf(n->why, sizeof(n->why), "stopped (%s)", how);
		lab_event(n->lab, "node %s stopped", n->t->name);
		node_set(n, NODE_DEAD);
		return;
	}
	if (n->last_error[0])
		node_fail(n, NODE_DEAD, "its launcher ended (%s): %s", how, n->last_error);
	else
		node_fail(n, NODE_DEAD, "its launcher ended (%s)", how);
}

static int open_pty(int *master, int *slave)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
		return -1;
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return -1;
	ioctl(*master, TIOCSWINSZ, &ws);
	return fcntl(*master, F_SETFL, O_NONBLOCK);
}

/* The launcher's command line: memory, kernel, images, devices, kernel args. */
static void launcher_argv(struct node *n, struct argv *a)
{
	const struct topo_node *t = n->t;

	argv_add(a, "%s", n->lab->d->prog.lguest);
	argv_add(a, "%llum", (unsigned long long)(t->memory >> 20));
	argv_add(a, "%s", kernel_of(n->lab, t));
	argv_add(a, "--initrd=%s", image_base_of(n->lab, t));
	argv_add(a, "--initrd=%s", n->initrd);
	for (unsigned int i = 0; i < t->nifaces; i++)
		argv_add(a, "--sharenet=%s", n->pn->nets[i]);
	argv_add(a, "--channel=%s", n->pn->chan);
	for (unsigned int i = 0; i < t->ndisks; i++)
		argv_add(a, "--block=%s", t->disks[i]);
	argv_add(a, "quiet");	/* each console byte is an exit: boot messages cost seconds */
	argv_add(a, "lguest.shell=bash");
	if (t->cmdline)
		argv_add(a, "%s", t->cmdline);
}

static int spawn_launcher(struct node *n, char *err, size_t errlen)
{
	struct loop *l = &n->lab->d->loop;
	int master = -1, slave = -1, pipefd[2] = { -1, -1 }, rc = -1;
	struct argv argv = { 0 };
	struct proc_spec spec = { .controlling_tty = true };

	launcher_argv(n, &argv);
	if (argv.failed || open_pty(&master, &slave) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "node %s: %s", n->t->name,
			 argv.failed ? "out of memory" : strerror(errno));
		goto out;
	}
	spec.argv = argv.v;
	spec.in = spec.out = slave;
	spec.err = pipefd[1];
	n->proc.role = "node";
	snprintf(n->proc.name, sizeof(n->proc.name), "%s", n->t->name);
	n->proc.on_exit = launcher_ended;
	if (proc_start(l, &n->lab->journal, &n->proc, &spec, err, errlen) < 0)
		goto out;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	loop_add(l, &n->console, master, EPOLLIN, console_event);
	loop_add(l, &n->errors, pipefd[0], EPOLLIN, errors_event);
	master = pipefd[0] = -1;
	rc = 0;
out:
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	argv_free(&argv);
	return rc;
}

void node_start(struct node *n)
{
	char err[ERR_MAX];

	n->t_start = now_ns();
	n->console_log = open(n->pn->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n->console_log < 0)
		lab_event(n->lab, "node %s: console log %s: %s", n->t->name, n->pn->console,
			  strerror(errno));
	if (image_node(n->lab, n, err, sizeof(err)) < 0 || spawn_launcher(n, err, sizeof(err)) < 0) {
		node_fail(n, NODE_FAILED, "%s", err);
		return;
	}
	lab_event(n->lab, "node %s starting (pid %d)", n->t->name, (int)n->proc.pid);
	n->state = NODE_STARTING;
	timer_arm(&n->lab->d->loop, &n->deadline, n->t->ready_timeout_ns / 1000000ull, deadline);
	timer_arm(&n->lab->d->loop, &n->timer, POLL_MS, look_for_channel);
}

/* Ask the launcher to end (SIGTERM); lab.c waits for it, then insists. */
void node_stop(struct node *n)
{
	timer_cancel(&n->lab->d->loop, &n->timer);
	timer_cancel(&n->lab->d->loop, &n->deadline);
	if (n->probe) {
		session_abandon(n->probe);
		n->probe = NULL;
	}
	if (n->agent) {
		agent_free(n->agent);
		n->agent = NULL;
	}
	proc_signal(&n->proc, SIGTERM);
}

void node_free(struct node *n)
{
	struct loop *l = &n->lab->d->loop;

	node_stop(n);
	while (n->consoles)
		client_close(n->consoles);	/* their gone() unlinks them */
	loop_close(l, &n->console);
	loop_close(l, &n->errors);
	proc_forget(l, &n->proc);
	if (n->console_log >= 0)
		close(n->console_log);
	n->console_log = -1;
	free(n->initrd);
	n->initrd = NULL;
}
