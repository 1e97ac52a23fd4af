/*
 * netd.h: lguest-netd, the daemon that owns the running labs.
 *
 * `lguest-net up lab.topo` hands the daemon a topology; the daemon makes it
 * real and keeps it so: it plans the lab (plan.c), writes every host change
 * to the lab's journal before making it (journal.c, host.c), builds the
 * guests' images (image.c), starts one lguest-vswitch per switch and per
 * wire (sw.c) and one launcher per node (node.c), holds each node's console
 * and talks to the agent inside each guest over its own channel (agent.c),
 * and answers clients: status, exec, console, capture, link set, test
 * (client.c and the verbs in verbs.c).  `down` undoes the journal (undo.c).
 * Everything happens in one thread, in one event loop (loop.c): the daemon
 * never blocks for long, so a slow client or a stuck guest holds up no one
 * else.
 *
 * The parts:
 *
 *   netd.c     the daemon's main(): its socket, the loop, going away when idle
 *   client.c   a client's connection: its request, answers, streams
 *   verbs.c    the requests, in a table: up, down, status, exec, ...
 *   lab.c      a lab's life: up step by step, failure, down
 *   plan.c     the topology as names and processes on the host
 *   host.c     the host changes, each journaled first
 *   ovs.c      an Open vSwitch of the lab's own, for its OVS switches
 *   undo.c     undoing a journal, entry by entry
 *   image.c    the guests' initramfs images
 *   kernel.c   the guests' kernels, out of their bzImages once
 *   sw.c       the switch processes and their control sockets
 *   node.c     a node: its launcher, console, agent and readiness
 *   agent.c    the agent protocol, as the daemon speaks it
 *   labtest.c  the lab's tests (the topology's tests:), JUnit and JSON
 *   proc.c     children: journaled, watched through pidfds
 *   journal.c  the journal's file format
 */
#ifndef LGUEST_NETD_H
#define LGUEST_NETD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "journal.h"
#include "loop.h"
#include "plan.h"
#include "proc.h"
#include "proto.h"
#include "topo.h"

#define PROGRAM "lguest-netd"
#define ERR_MAX 512
#define PROBE_OUTPUT_MAX 2048

struct netd;
struct lab;
struct node;
struct client;

/* --- the programs the daemon runs ---------------------------------------- */
struct programs {
	char lguest[4096];		/* the launcher */
	char vswitch[4096];
	char initramfs[4096];		/* lguest-initramfs */
	char init[4096];		/* lguest-init, its guests' /init */
	char agent[4096];		/* lguest-agent (for the guests' images) */
	char drivers[4096];		/* the guest drivers' directory (kmod/guest) */
};

/* --- clients (client.c) ---------------------------------------------------- */
enum client_state {
	CLIENT_REQUEST,		/* reading the request line */
	CLIENT_BUSY,		/* the verb works; answers may follow */
	CLIENT_STREAM,		/* frames both ways (exec, console, capture) */
	CLIENT_CLOSING,		/* sending what is left, then closing */
};

struct client;
/* What a client's stream is attached to: told when the client goes. */
struct client_stream_ops {
	void (*input)(struct client *c, uint32_t type, const uint8_t *data, uint32_t len);
	void (*gone)(struct client *c);
};

struct client {
	struct watch w;
	struct netd *d;
	struct client *next;
	enum client_state state;
	struct proto_buf in, out;
	bool dead;
	/* while BUSY or STREAM: who to tell if the client goes */
	const struct client_stream_ops *stream;
	void *stream_ctx;
	struct client *next_of_target;	/* in a node's console list, a lab's waiters */
};

void client_accept(struct netd *d, int fd);
/* Send one JSON line (MSG is stolen). */
void client_send(struct client *c, json_t *msg);
void client_progress(struct client *c, json_t *progress);
/* The final answer, then close: ok with RESULT (stolen, may be NULL). */
void client_ok(struct client *c, json_t *result);
void client_error(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Turn the connection into a stream (after {"ok": true, "stream": true}). */
void client_start_stream(struct client *c, const struct client_stream_ops *ops, void *ctx);
void client_frame(struct client *c, uint32_t type, const void *data, uint32_t len);
/* The stream is over: send what is queued, then close. */
void client_end(struct client *c);
/* Bytes waiting to be sent: streams stop reading their source above a limit. */
size_t client_backlog(const struct client *c);
void client_close(struct client *c);
void client_closed_all(struct netd *d);

/* --- the agent in each guest (agent.c) --------------------------------------- */
struct agent;
struct session;
struct session_ops {
	void (*output)(struct session *s, bool is_stderr, const uint8_t *data, uint32_t len);
	void (*exit)(struct session *s, int code, int sig);	/* the session is freed after */
	size_t (*backlog)(struct session *s);	/* output not yet passed on (may be NULL) */
};
struct session {
	struct agent *agent;
	uint32_t id;
	const struct session_ops *ops;
	void *ctx;
	struct session *next;
};

struct agent *agent_connect(struct node *n, char *err, size_t errlen);
void agent_free(struct agent *a);
bool agent_ready(const struct agent *a);	/* HELLO answered */
/* Run ARGV (ARGC strings) in the guest; STDIN: the session will get input. */
struct session *agent_exec(struct agent *a, int argc, char *const argv[], bool stdin_wanted,
			   const struct session_ops *ops, void *ctx);
void session_input(struct session *s, const uint8_t *data, uint32_t len);	/* len 0: EOF */
void session_signal(struct session *s, int sig);
/* Forget the session (its command is killed); its ops are not called again. */
void session_abandon(struct session *s);
/* Bytes for the channel still queued: exec input is held above a limit. */
size_t agent_backlog(const struct agent *a);

/* --- nodes (node.c) ------------------------------------------------------------ */
enum node_state {
	NODE_WAITING,		/* for the nodes it comes after */
	NODE_STARTING,		/* launcher started, its channel not yet there */
	NODE_BOOTING,		/* connected to the channel: waiting for the agent */
	NODE_PROBING,		/* the agent answers: startup, then ready probe */
	NODE_READY,
	NODE_FAILED,		/* did not become ready (why says why) */
	NODE_DEAD,		/* its launcher ended */
};

struct node {
	struct lab *lab;
	const struct topo_node *t;
	const struct plan_node *pn;
	enum node_state state;
	char why[ERR_MAX];
	struct proc proc;
	struct watch console;	/* the pty's master: the guest's serial console */
	struct watch errors;	/* the launcher's stderr */
	int console_log;	/* LABDIR/console/NODE.log */
	char *initrd;		/* this node's part of the image */
	struct client *consoles;	/* attached: they see the output, their input goes in */
	struct agent *agent;
	struct timer timer;
	uint64_t t_start, t_booted, t_ready;	/* now_ns() */
	unsigned int probes;
	bool startup_seen;	/* its startup script is done: now ready: */
	char probe_out[PROBE_OUTPUT_MAX];	/* what the probe running said */
	size_t probe_len;
	struct timer deadline;	/* ready_timeout from its start */
	uint64_t console_logged;	/* bytes of its console so far */
	struct session *probe;
	char last_error[ERR_MAX];	/* the launcher's last line on stderr */
};

void node_start(struct node *n);
void node_stop(struct node *n);
void node_free(struct node *n);
/* Input for the console (from an attached client). */
void node_console_input(struct node *n, const uint8_t *data, uint32_t len);
void node_console_resize(struct node *n, unsigned int rows, unsigned int cols);
const char *node_state_name(enum node_state s);
/* Called by agent.c when the agent answered HELLO, or the channel broke. */
void node_agent_hello(struct node *n);
void node_agent_lost(struct node *n, const char *why);

/* --- switch processes (sw.c) --------------------------------------------------------- */
struct swproc {
	struct lab *lab;
	const struct plan_switch *ps;
	struct proc proc;
	bool ready;		/* its control socket answers */
	char why[ERR_MAX];
	struct watch errors;	/* its stderr, kept for the lab's log */
};

int sw_start(struct swproc *s, char *err, size_t errlen);
bool sw_ready(struct swproc *s);
void sw_stop(struct swproc *s);
/* One control command; the answer (without its "ok" line) in OUT (malloc'd). */
int sw_ctl(const struct plan_switch *ps, const char *cmd, char **out, char *err, size_t errlen);

/* --- labs (lab.c) ------------------------------------------------------------- */
enum lab_state {
	LAB_STARTING,
	LAB_UP,
	LAB_FAILED,		/* up failed: being taken down */
	LAB_STOPPING,
};

struct lab {
	struct netd *d;
	struct lab *next;
	struct topo *topo;
	struct plan *plan;
	struct journal journal;
	enum lab_state state;
	char why[ERR_MAX];
	struct node *nodes;	/* in the topology's order */
	unsigned int nnodes;
	struct swproc *sws;	/* in the plan's order */
	unsigned int nsws;
	struct client *waiter;	/* the `up` that waits for the lab */
	struct base *bases;	/* the guests' base images, one per kernel */
	unsigned int nbases;
	struct timer timer;	/* the step machine's */
	unsigned int step;
	uint64_t t_start, t_up, t_stop;
	bool killed;		/* SIGKILL was sent, stopping */
	bool plumb_only;	/* up --plumb-only */
	char *text;		/* the topology file as it was given */
	int log;		/* LABDIR/netd.log: what happened to the lab */
	struct labtest *test;	/* a test run in progress */
	struct capview *views;	/* live captures */
	struct proc ovs[2];	/* its own ovsdb-server and ovs-vswitchd (ovs.c) */
};

/* Start bringing TOPO up for C (which gets progress and the answer). */
enum up_mode {
	UP_WHOLE,
	UP_DRY_RUN,		/* the plan, and nothing made */
	UP_PLUMB_ONLY,		/* the host's side and the switches, no node */
};
void lab_up(struct netd *d, struct topo *topo, const char *text, struct client *c,
	    enum up_mode mode);
/* Take a lab down: the answer goes to C (may be NULL). */
void lab_down(struct lab *lab, struct client *c);
/* Undo a lab's journal that no daemon holds (after a crash); 0 or -1. */
int lab_down_orphan(struct netd *d, const char *name, char *err, size_t errlen);
struct lab *lab_find(struct netd *d, const char *name);
void lab_event(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lab_read_lines(struct lab *lab, struct watch *w, const char *who, char *last, size_t size);
/* A node or switch changed state: see whether the lab moves on. */
void lab_poke(struct lab *lab);
json_t *lab_status(const struct lab *lab);
struct node *lab_node(struct lab *lab, const char *name);

/* --- the daemon ---------------------------------------------------------------- */
struct netd {
	struct loop loop;
	struct watch listen;
	char socket[108];
	char run_root[4096];	/* /run/lguest */
	char cache[4096];	/* /var/cache/lguest: guests' kernels and base images */
	struct programs prog;
	struct lab *labs;
	struct client *clients;
	bool on_demand;		/* leave when no lab and no client remain */
	bool verbose;
	unsigned int parallel;	/* nodes booting at once */
	bool stopping;		/* SIGTERM: every lab going down, no new one */
	struct timer idle;
};

void netd_log(struct netd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Check whether the daemon may leave (on demand, nothing to do). */
void netd_maybe_idle(struct netd *d);

/* verbs.c, and the verbs that have files of their own */
void verb_dispatch(struct client *c, json_t *request);
/* The lab a request names, or the only one up; else an error to C, NULL. */
struct lab *verb_pick_lab(struct client *c, json_t *request);
/* The node it names; NEED_AGENT: its agent must answer.  Else an error, NULL. */
struct node *verb_pick_node(struct client *c, struct lab *lab, json_t *request, bool need_agent);
void verb_capture(struct client *c, json_t *request);	/* capview.c */
void capview_end_all(struct lab *lab);
void verb_test(struct client *c, json_t *request);	/* labtest.c */
void labtest_abort(struct lab *lab);

/* host.c: each journaled first; 0 or -1 with ERR */
int host_apply(struct lab *lab, char *err, size_t errlen);
int host_check(struct netd *d, const struct plan *p, char *err, size_t errlen);
/* "lguest:LAB": the alias of the lab's links and the comment of its table */
void host_mark(const char *lab, char *mark, size_t size);
/* Does a lab other than EXCEPT_LAB hold "KIND WORD1 NEXT..." in its journal? */
bool host_journal_find(struct netd *d, const char *except_lab, const char *kind,
		       const char *word1, char *next, size_t size);

/* undo.c */
int undo_journal(struct netd *d, const char *run, char *err, size_t errlen);

/* ovs.c: an Open vSwitch of the lab's own */
int ovs_start(struct lab *lab, char *err, size_t errlen);
int ovs_vsctl(struct lab *lab, char *err, size_t errlen, const char *const *args);

/* image.c: a base image per kernel, made (or found in the cache) while the
 * lab's switches start, then each node's own part */
enum base_state { BASE_BUILDING, BASE_READY, BASE_FAILED };
struct base {
	struct lab *lab;
	const char *kernel;	/* as the topology names it */
	char path[4096];	/* the base image */
	char tmp[4096];		/* ... while it is made */
	char log[4096];
	enum base_state state;
	char why[ERR_MAX];
	struct proc proc;
	char elf[4096];		/* the kernel out of its bzImage (kernel.c), or "" */
	char ktmp[4096];	/* ... while it is taken out */
	enum base_state kstate;
	struct proc kproc;
};
int image_prepare(struct lab *lab, char *err, size_t errlen);
int image_bases_done(struct lab *lab, char *err, size_t errlen);
const char *image_base_of(const struct lab *lab, const struct topo_node *n);
void image_stop(struct lab *lab);
void kernel_prepare(struct lab *lab, struct base *b);	/* kernel.c */
const char *kernel_of(const struct lab *lab, const struct topo_node *n);
int image_node(struct lab *lab, struct node *n, char *err, size_t errlen);
void cache_tmp(const char *path, char *tmp, size_t size);
int cache_subdir(const struct lab *lab, const char *sub, char *dir, size_t size);
#define CACHE_HASH_START 0xcbf29ce484222325ull
void cache_hash_str(uint64_t *h, const char *s);
void cache_hash_file(uint64_t *h, const char *path);

#endif
