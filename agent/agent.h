/*
 * agent.h: lguest-agent's parts, and the state they share.
 *
 *   lguest-agent.c  main, the event loop, the channel (/dev/lgchan0): frames
 *                   in, dispatched by type; frames out; resets
 *   session.c       the commands: started in sessions of their own, their
 *                   pipes read and written within the windows, reaped,
 *                   ended with EXIT, killed on a reset
 *
 * The protocol is include/lguest/agent.h; the frames, agent_frame.h.
 */
#ifndef LGUEST_AGENT_AGENT_H
#define LGUEST_AGENT_AGENT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_frame.h"

/*
 * The windows (include/lguest/agent.h).  An acknowledgement takes about 10 ms
 * to come back in a lab VM under TCG, so a window of W bytes carries at most
 * W per 10 ms: 128 KiB held a session to about 12 MB/s, 512 KiB doubled that.
 * Output costs the agent nothing for its window (what it reads waits in the
 * queue, bounded by AGENT_QUEUE_MAX); stdin is held in the agent, up to the
 * window for every session, so that one is smaller.
 */
#define AGENT_MAX_SESSIONS	64
#define AGENT_STDIN_WINDOW	(256 * 1024)
#define AGENT_OUTPUT_WINDOW	(512 * 1024)
#define AGENT_QUEUE_MAX		(256 * 1024)	/* frames for the host: then pipes wait */

struct session {
	uint32_t id;			/* 0: a free slot */
	pid_t pid;			/* the command, until it is reaped (then 0) */
	int in_fd, out_fd, err_fd;	/* our ends of its pipes; -1: closed */
	bool has_stdin;			/* EXEC asked for a stdin pipe */
	bool stdin_eof;			/* STDIN of length 0 came */
	struct agent_queue stdin_q;	/* STDIN bytes not yet written to in_fd */
	uint32_t stdin_held;		/* received and not acknowledged: <= window */
	uint32_t stdin_done;		/* of those, written (or dropped) */
	uint32_t credit;		/* output bytes we may still send */
	bool exited;
	int code, signal;
	uint32_t out_left, err_left;	/* exited: what its pipes held then, unsent */
};

struct agent {
	const char *device;		/* the channel: /dev/lgchan0 */
	int chan;
	int sig;			/* signalfd: SIGCHLD, SIGTERM, SIGINT, SIGHUP */
	bool verbose;
	bool quit;
	struct agent_reader in;		/* frames from the host */
	struct agent_queue out;		/* frames for the host */
	struct session sessions[AGENT_MAX_SESSIONS];
};

/* lguest-agent.c */
void agent_log(const struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void agent_send(struct agent *a, uint8_t type, uint32_t session, const void *payload,
		uint32_t length);
void agent_send_error(struct agent *a, uint8_t type, uint32_t session, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* session.c */
struct session *session_find(struct agent *a, uint32_t id);
void session_start(struct agent *a, uint32_t id, const struct agent_exec *e);
void session_stdin(struct agent *a, struct session *s, const uint8_t *bytes, uint32_t n);
void session_kill_all(struct agent *a);
void session_reap(struct agent *a);
void session_tick(struct agent *a);
unsigned int session_count(const struct agent *a);

/* Polling the sessions' pipes: what to wait for, and what came. */
struct session_fd {
	struct session *s;
	int which;			/* 0 stdin, 1 stdout, 2 stderr */
};
unsigned int session_poll_set(struct agent *a, struct pollfd *p, struct session_fd *ref);
void session_poll_done(struct agent *a, const struct pollfd *p, const struct session_fd *ref,
		       unsigned int n);

#endif
