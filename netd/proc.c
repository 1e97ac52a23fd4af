/*
 * proc.c: starting, watching and stopping a lab's processes (see proc.h).
 *
 * Starting is a small handshake, so that the journal names the process
 * before it does anything:
 *
 *   1. fork.  The child asks to die with us (PR_SET_PDEATHSIG; if we died
 *      already, it leaves), puts its descriptors in place and waits on the
 *      "gate" pipe;
 *   2. we read its start time and journal "proc PID START ROLE NAME";
 *   3. we open the gate with one byte; the child execs.  If the gate closes
 *      without the byte (we could not journal), the child leaves;
 *   4. an exec that fails writes errno into a close-on-exec pipe, which we
 *      read: nothing means the program is running.
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command's ")" (it may hold anything): field 3 is the state,
	 * field 22 the start time. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

bool proc_same(pid_t pid, unsigned long long start)
{
	return pid > 0 && start && proc_start_time(pid) == start;
}

static int dup_or_null(int fd, int target)
{
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	if (fd != target && dup2(fd, target) < 0)
		return -1;
	return 0;
}

static _Noreturn void child(const struct proc_spec *s, pid_t parent, int gate, int report)
{
	char go;
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(126);
	setsid();
	/* Descriptors move up first, so that dup2 never overwrites one we need. */
	int in = s->in >= 0 ? fcntl(s->in, F_DUPFD, 10) : -1;
	int out = s->out >= 0 ? fcntl(s->out, F_DUPFD, 10) : -1;
	int err = s->err >= 0 ? fcntl(s->err, F_DUPFD, 10) : -1;

	if (dup_or_null(in, 0) || dup_or_null(out, 1) || dup_or_null(err, 2))
		_exit(126);
	if (s->controlling_tty)
		ioctl(0, TIOCSCTTY, 0);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (read(gate, &go, 1) != 1)
		_exit(126);
	/* Nothing of ours but the exec report (close-on-exec) goes with it. */
	if (report > 3)
		close_range(3, (unsigned int)report - 1, 0);
	close_range((unsigned int)report + 1, ~0U, 0);
	execv(s->argv[0], s->argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void proc_event(struct watch *w, uint32_t events);

int proc_start(struct loop *l, struct journal *j, struct proc *p, const struct proc_spec *s,
	       char *err, size_t errlen)
{
	int gate[2], report[2], e = 0, fd;
	char pidtext[16], starttext[32];
	ssize_t n;
	pid_t parent = getpid();

	if (pipe2(gate, O_CLOEXEC) < 0)
		goto fail_errno;
	if (pipe2(report, O_CLOEXEC) < 0) {
		close(gate[0]);
		close(gate[1]);
		goto fail_errno;
	}
	p->pid = fork();
	if (p->pid == 0) {
		close(gate[1]);
		close(report[0]);
		child(s, parent, gate[0], report[1]);
	}
	close(gate[0]);
	close(report[1]);
	if (p->pid < 0) {
		close(gate[1]);
		close(report[0]);
		p->pid = 0;
		goto fail_errno;
	}
	p->start = proc_start_time(p->pid);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)p->pid);
	snprintf(starttext, sizeof(starttext), "%llu", p->start);
	if (j && journal_add(j, "proc", pidtext, starttext, p->role, p->name, (char *)NULL)) {
		close(gate[1]);		/* the child leaves */
		close(report[0]);
		waitpid(p->pid, NULL, 0);
		snprintf(err, errlen, "cannot write the lab's journal: %s", strerror(errno));
		return -1;
	}
	if (write(gate[1], "g", 1) != 1)
		e = errno;
	close(gate[1]);
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == sizeof(e)) {
		waitpid(p->pid, NULL, 0);
		snprintf(err, errlen, "%s: %s", s->argv[0], strerror(e));
		return -1;
	}
	fd = pidfd_open_(p->pid);
	if (fd < 0 || loop_add(l, &p->w, fd, EPOLLIN, proc_event) < 0) {
		e = errno;
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		snprintf(err, errlen, "watching %s: %s", s->argv[0], strerror(e));
		return -1;
	}
	p->loop = l;
	p->running = true;
	return 0;

fail_errno:
	snprintf(err, errlen, "starting %s: %s", s->argv[0], strerror(errno));
	return -1;
}

static void proc_event(struct watch *w, uint32_t events)
{
	struct proc *p = (struct proc *)((char *)w - offsetof(struct proc, w));
	siginfo_t info = { 0 };

	(void)events;
	if (waitid(P_PIDFD, (id_t)w->fd, &info, WEXITED | WNOHANG) < 0 || !info.si_pid)
		return;
	if (info.si_code == CLD_EXITED)
		p->status = (info.si_status & 0xff) << 8;
	else
		p->status = info.si_status & 0x7f;	/* the signal, as WTERMSIG finds it */
	p->running = false;
	loop_close(p->loop, &p->w);	/* a pidfd stays readable: stop watching it */
	if (p->on_exit)
		p->on_exit(p);
}

void proc_signal(struct proc *p, int sig)
{
	if (p->running && p->w.fd >= 0)
		pidfd_signal(p->w.fd, sig);
}

void proc_forget(struct loop *l, struct proc *p)
{
	loop_close(l, &p->w);
}

/*
 * Kill a helper that is no longer wanted (an image builder, tshark) and its
 * children with it (it leads its own process group: child() made it a
 * session), and reap it now: SIGKILL'd, it is gone in moments.  Its on_exit
 * is not called.
 */
void proc_abandon(struct loop *l, struct proc *p)
{
	siginfo_t info;

	if (!p->running)
		return;
	p->on_exit = NULL;
	kill(-p->pid, SIGKILL);
	proc_signal(p, SIGKILL);
	if (p->w.fd >= 0)
		waitid(P_PIDFD, (id_t)p->w.fd, &info, WEXITED);
	p->running = false;
	loop_close(l, &p->w);
}

const char *proc_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status %#x)", status);
	return buf;
}

/*
 * Run ARGV to its end, now (for short helpers: ovs-vsctl, ovs-ctl): its exit
 * status as waitpid's, or -1.  Its stdout and stderr go into OUT (SIZE bytes,
 * the first of them, NUL-terminated, a last newline dropped) if OUT is not
 * NULL, else to /dev/null.  Not for anything that may take long: the daemon
 * waits.
 */
int proc_run(char *const argv[], char *out, size_t size)
{
	int pipefd[2], status, null;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);	/* not the daemon's */
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(out ? pipefd[1] : null, 1);
		dup2(out ? pipefd[1] : null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (pid > 0 && out && got + 1 < size &&
	       ((n = read(pipefd[0], out + got, size - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	close(pipefd[0]);
	if (out) {
		out[got] = '\0';
		if (got && out[got - 1] == '\n')
			out[got - 1] = '\0';
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}
