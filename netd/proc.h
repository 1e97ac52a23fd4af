/*
 * proc.h: the processes lguest-netd starts for a lab, and watches.
 *
 * Switches and launchers are children of the daemon.  Each is journaled
 * before it runs (its pid and its start time, which together name one
 * process for ever, unlike a pid alone), watched through a pidfd (readable
 * when it ends), and killed by that pidfd, so a recycled pid can never be
 * signalled by mistake.  A child dies with the daemon (PR_SET_PDEATHSIG):
 * a lab lives no longer than the daemon that supervises it, and what a
 * dead daemon leaves on the host is in the journal for `down`.
 */
#ifndef LGUEST_NETD_PROC_H
#define LGUEST_NETD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "journal.h"
#include "loop.h"

struct proc;
typedef void proc_exit_fn(struct proc *p);

struct proc {
	pid_t pid;		/* 0: never started */
	unsigned long long start;	/* its start time, from /proc/PID/stat */
	struct watch w;		/* the pidfd */
	struct loop *loop;
	bool running;
	int status;		/* as waitpid's, once it ended */
	proc_exit_fn *on_exit;
	void *ctx;		/* for on_exit, when the proc is not embedded in its owner */
	const char *role;	/* "switch", "node", "image": for the journal */
	char name[64];
};

struct proc_spec {
	char *const *argv;	/* argv[0] is a path */
	int in, out, err;	/* descriptors for 0, 1, 2; -1: /dev/null */
	bool controlling_tty;	/* IN is a terminal: make it the child's */
};

/* Start S's program; 0, or -1 with ERR saying why.  J may be NULL (a
 * helper that changes nothing on the host: the image builder). */
int proc_start(struct loop *l, struct journal *j, struct proc *p, const struct proc_spec *s,
	       char *err, size_t errlen);
/* Send SIG (nothing if it already ended). */
void proc_signal(struct proc *p, int sig);
/* Stop watching (the process may go on: it dies with us). */
void proc_forget(struct loop *l, struct proc *p);
/* Kill it and its process group, reap it, forget it (on_exit not called). */
void proc_abandon(struct loop *l, struct proc *p);
/* "exit status 3", "killed by signal 9": into BUF. */
const char *proc_describe(int status, char *buf, size_t len);

/* Run ARGV to its end (a short helper): its status, or -1; output in OUT. */
int proc_run(char *const argv[], char *out, size_t size);

/* /proc/PID/stat's start time; 0 if PID is gone. */
unsigned long long proc_start_time(pid_t pid);
/* Is PID, started at START, still alive?  (undo: it may be killed) */
bool proc_same(pid_t pid, unsigned long long start);

#endif
