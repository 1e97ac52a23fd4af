/*
 * agent.c: the daemon's end of a node's agent channel (include/lguest/agent.h).
 *
 * Each node's launcher serves a channel socket (lguest --channel=PATH) whose
 * other end is the agent in the guest.  The daemon holds one connection per
 * node and runs every command for that node over it, each a session: a
 * readiness probe, a test's ping, a user's `lguest-net exec`.  The frames
 * come and go through lib/agent_frame.h's reader and queue; this file adds
 * what a daemon needs: no call ever blocks, sessions are found by id, and
 * each session's output goes to whoever asked (struct session_ops).
 *
 * Flow control is the protocol's: a session's stdin is sent within the
 * window the agent announced and the rest waits here until the agent
 * acknowledges (STDIN_ACK); its output is acknowledged (OUTPUT_ACK) when
 * its consumer has room (session_ops.backlog), else a little later, so a
 * client that does not read its output stops that command in the guest and
 * nothing else.  The windows bind the guest too: an agent that sends more
 * output than its window allows is dropped (its channel is reconnected, its
 * sessions end), so a guest cannot make the daemon buffer without bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_frame.h"
#include "netd.h"

#define ACK_RETRY_MS 50
#define STDIN_PENDING_MAX (64u << 20)	/* a client may be this far ahead of its command */
#define OUT_BACKLOG_OK (1u << 20)	/* acknowledge output while the consumer lags less */
#define AGENT_ERRORS_LOGGED 20	/* a guest may not fill the lab's log */

struct agent {
	struct watch w;
	struct node *node;
	struct agent_reader in;
	struct agent_queue out;
	bool hello;
	uint32_t stdin_window, output_window, max_sessions;
	uint32_t next_id;
	struct session *sessions;
	unsigned int nsessions;
	struct timer acks;	/* output acknowledgements held back */
	unsigned int errors;	/* ERROR frames about no session: logged up to a limit */
};

/* What the agent.c side keeps of a session, around the public part. */
struct session_priv {
	struct session s;
	struct proto_buf stdin_pending;	/* not yet sent: beyond the window */
	bool stdin_eof;			/* EOF asked for, sent after the pending bytes */
	uint32_t stdin_unacked;
	uint32_t out_unacked;		/* output received, not acknowledged */
	bool abandoned;
};

static struct session_priv *priv(struct session *s)
{
	return (struct session_priv *)s;
}

static void agent_event(struct watch *w, uint32_t events);

static void want_out(struct agent *a)
{
	loop_mod(&a->node->lab->d->loop, &a->w, EPOLLIN | (a->out.len ? EPOLLOUT : 0));
}

static void queue_frame(struct agent *a, uint8_t type, uint32_t session, const void *p, uint32_t len)
{
	if (agent_queue_frame(&a->out, type, session, p, len) == 0)
		want_out(a);
}

struct agent *agent_connect(struct node *n, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct agent *a = calloc(1, sizeof(*a));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", n->pn->chan);
	if (!a || fd < 0 || agent_reader_init(&a->in) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "%s: %s", n->pn->chan, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (a)
			agent_reader_free(&a->in);
		free(a);
		return NULL;
	}
	a->node = n;
	a->next_id = 1;
	agent_queue_init(&a->out);
	loop_add(&n->lab->d->loop, &a->w, fd, EPOLLIN, agent_event);
	queue_frame(a, LGUEST_AGENT_HELLO, 0, NULL, 0);
	return a;
}

bool agent_ready(const struct agent *a)
{
	return a && a->hello;
}

size_t agent_backlog(const struct agent *a)
{
	return a->out.len;
}

static struct session *find(struct agent *a, uint32_t id)
{
	for (struct session *s = a->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void session_free(struct agent *a, struct session *s)
{
	for (struct session **pp = &a->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	a->nsessions--;
	buf_free(&priv(s)->stdin_pending);
	free(priv(s));
}

/* The session ended (EXIT, or it never started, or the channel broke). */
static void session_end(struct agent *a, struct session *s, int code, int sig)
{
	if (!priv(s)->abandoned && s->ops->exit)
		s->ops->exit(s, code, sig);
	session_free(a, s);
}

static void agent_release(void *p)
{
	struct agent *a = p;

	agent_reader_free(&a->in);
	agent_queue_free(&a->out);
	free(a);
}

void agent_free(struct agent *a)
{
	struct loop *l = &a->node->lab->d->loop;

	while (a->sessions) {
		struct session *s = a->sessions;
		static const char msg[] = "lguest-netd: the channel to the guest's agent broke\n";

		if (!priv(s)->abandoned && s->ops->output)
			s->ops->output(s, true, (const uint8_t *)msg, sizeof(msg) - 1);
		session_end(a, s, 255, 0);
	}
	timer_cancel(l, &a->acks);
	loop_close(l, &a->w);
	loop_defer_free(l, a, agent_release);	/* events for it may still be queued */
}

/* --- stdin: within the window ----------------------------------------------------- */
static void stdin_push(struct agent *a, struct session *s)
{
	struct session_priv *p = priv(s);

	while (p->stdin_pending.len && p->stdin_unacked < a->stdin_window) {
		uint32_t n = a->stdin_window - p->stdin_unacked;

		if (n > p->stdin_pending.len)
			n = (uint32_t)p->stdin_pending.len;
		if (n > LGUEST_AGENT_MAX_PAYLOAD)
			n = LGUEST_AGENT_MAX_PAYLOAD;
		queue_frame(a, LGUEST_AGENT_STDIN, s->id, p->stdin_pending.data, n);
		buf_consume(&p->stdin_pending, n);
		p->stdin_unacked += n;
	}
	if (p->stdin_eof && !p->stdin_pending.len) {
		queue_frame(a, LGUEST_AGENT_STDIN, s->id, NULL, 0);
		p->stdin_eof = false;
	}
}

void session_input(struct session *s, const uint8_t *data, uint32_t len)
{
	struct session_priv *p = priv(s);

	if (!len) {
		p->stdin_eof = true;
	} else if (p->stdin_pending.len + len > STDIN_PENDING_MAX ||
		   buf_append(&p->stdin_pending, data, len)) {
		session_signal(s, SIGKILL);	/* cannot keep up: better dead than wrong */
		return;
	}
	stdin_push(s->agent, s);
}

void session_signal(struct session *s, int sig)
{
	uint8_t p[4];

	agent_put_le32(p, (uint32_t)sig);
	queue_frame(s->agent, LGUEST_AGENT_SIGNAL, s->id, p, sizeof(p));
}

void session_abandon(struct session *s)
{
	if (!s)
		return;
	priv(s)->abandoned = true;
	session_signal(s, SIGKILL);	/* its EXIT frees it */
}

struct session *agent_exec(struct agent *a, int argc, char *const argv[], bool stdin_wanted,
			   const struct session_ops *ops, void *ctx)
{
	static uint8_t payload[LGUEST_AGENT_MAX_PAYLOAD];
	const char **args = calloc((size_t)argc + 1, sizeof(*args));
	struct agent_exec e = { .flags = stdin_wanted ? LGUEST_AGENT_EXEC_STDIN : 0 };
	struct session_priv *p;
	ssize_t len;

	if (!args || !a->hello || a->nsessions >= a->max_sessions) {
		free(args);
		return NULL;
	}
	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	e.argv = args;
	len = agent_exec_encode(&e, payload, sizeof(payload));
	free(args);
	p = len < 0 ? NULL : calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	do	/* ids are never 0, and never one in use */
		p->s.id = a->next_id++;
	while (!p->s.id || find(a, p->s.id));
	p->s.agent = a;
	p->s.ops = ops;
	p->s.ctx = ctx;
	p->s.next = a->sessions;
	a->sessions = &p->s;
	a->nsessions++;
	queue_frame(a, LGUEST_AGENT_EXEC, p->s.id, payload, (uint32_t)len);
	return &p->s;
}

/* --- output: acknowledged when the consumer has room --------------------------------- */
static bool ack_output(struct agent *a, struct session *s)
{
	struct session_priv *p = priv(s);
	uint8_t n[4];

	if (!p->out_unacked)
		return true;
	if (!p->abandoned && s->ops->backlog && s->ops->backlog(s) > OUT_BACKLOG_OK)
		return false;
	agent_put_le32(n, p->out_unacked);
	queue_frame(a, LGUEST_AGENT_OUTPUT_ACK, s->id, n, sizeof(n));
	p->out_unacked = 0;
	return true;
}

static void acks_retry(struct timer *t)
{
	struct agent *a = (struct agent *)((char *)t - offsetof(struct agent, acks));
	bool all = true;

	for (struct session *s = a->sessions; s; s = s->next)
		all = ack_output(a, s) && all;
	if (!all)
		timer_arm(&a->node->lab->d->loop, &a->acks, ACK_RETRY_MS, acks_retry);
}

/* --- frames from the agent ----------------------------------------------------------- */
static void on_hello(struct agent *a, const struct agent_frame *f)
{
	if (f->length < sizeof(struct lguest_agent_hello))
		return;
	a->max_sessions = agent_get_le32(f->payload);
	a->stdin_window = agent_get_le32(f->payload + 4);
	a->output_window = agent_get_le32(f->payload + 8);
	if (!a->hello) {
		a->hello = true;
		node_agent_hello(a->node);
	}
}

/* false: the agent broke the protocol (more output than its window). */
static bool on_output(struct agent *a, struct session *s, const struct agent_frame *f)
{
	if (priv(s)->out_unacked + (uint64_t)f->length > a->output_window)
		return false;
	priv(s)->out_unacked += f->length;
	if (!priv(s)->abandoned && s->ops->output)
		s->ops->output(s, f->type == LGUEST_AGENT_STDERR, f->payload, f->length);
	if (!ack_output(a, s) && !a->acks.armed)
		timer_arm(&a->node->lab->d->loop, &a->acks, ACK_RETRY_MS, acks_retry);
	return true;
}

/* One frame from the agent: NULL, or why the channel must be dropped. */
static const char *on_frame(struct agent *a, const struct agent_frame *f)
{
	struct session *s = f->session ? find(a, f->session) : NULL;

	switch (f->type) {
	case LGUEST_AGENT_HELLO:
		on_hello(a, f);
		break;
	case LGUEST_AGENT_STDOUT:
	case LGUEST_AGENT_STDERR:
		if (s && !on_output(a, s, f))
			return "the agent sent more output than its window";
		break;
	case LGUEST_AGENT_STDIN_ACK:
		if (s && f->length == 4) {
			uint32_t n = agent_get_le32(f->payload);

			priv(s)->stdin_unacked -= n < priv(s)->stdin_unacked ? n : priv(s)->stdin_unacked;
			stdin_push(a, s);
		}
		break;
	case LGUEST_AGENT_EXIT:
		if (s && f->length == 8) {
			uint32_t sig = agent_get_le32(f->payload + 4);

			session_end(a, s, (int)agent_get_le32(f->payload), (int)sig);
		}
		break;
	case LGUEST_AGENT_ERROR:
		if (f->length >= 4 && s && f->payload[0] == LGUEST_AGENT_EXEC) {
			if (!priv(s)->abandoned && s->ops->output)
				s->ops->output(s, true, f->payload + 4, f->length - 4);
			session_end(a, s, 125, 0);	/* it never started */
		} else if (f->length >= 4 && a->errors++ < AGENT_ERRORS_LOGGED) {
			lab_event(a->node->lab, "node %s: its agent says: %.*s", a->node->t->name,
				  (int)(f->length - 4 > 200 ? 200 : f->length - 4),
				  (const char *)f->payload + 4);
		}
		break;
	}
	return NULL;
}

static void agent_event(struct watch *w, uint32_t events)
{
	struct agent *a = (struct agent *)w;
	struct agent_frame f;
	const char *why = NULL;
	ssize_t n;
	int rc;

	if (events & EPOLLOUT) {
		if (agent_queue_flush(&a->out, w->fd) < 0 && errno != EAGAIN) {
			node_agent_lost(a->node, strerror(errno));
			return;
		}
		want_out(a);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = agent_reader_fill(&a->in, w->fd);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		node_agent_lost(a->node, n ? strerror(errno) : "the launcher closed it");
		return;
	}
	while ((rc = agent_reader_next(&a->in, &f, &why)) == 1)
		if ((why = on_frame(a, &f))) {
			node_agent_lost(a->node, why);	/* frees a */
			return;
		}
	if (rc < 0)
		node_agent_lost(a->node, why);
}
