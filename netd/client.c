/*
 * client.c: one client's connection to the daemon (proto.h has the protocol).
 *
 * A connection is read until its request line is whole (at most
 * NETD_REQUEST_MAX bytes: the topology travels in it), then the request goes
 * to its verb (verbs.c) and the connection waits for the verb's answers.
 * Answers are queued in the connection's output buffer and written as the
 * socket takes them, so a client that does not read holds up no one but
 * itself.  A stream (exec, console, capture) reads frames from the client and
 * hands them to whatever the stream is attached to; that side checks
 * client_backlog() and stops reading its own source while the client is
 * behind, so no buffer grows without bound.
 *
 * A client that goes away, at any moment, is told to the verb's side
 * (stream ops' gone()): a command is killed, a capture view stops, an `up`
 * is abandoned.  Only root may connect: the socket is 0600, and each peer's
 * credentials are checked too.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netd.h"

static void client_event(struct watch *w, uint32_t events);

static struct client *client_of(struct watch *w)
{
	return (struct client *)((char *)w - offsetof(struct client, w));
}

static void client_free(void *p)
{
	struct client *c = p;

	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void client_unlink(struct client *c)
{
	for (struct client **pp = &c->d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* The connection is gone or finished: tell its stream, free it later. */
void client_close(struct client *c)
{
	const struct client_stream_ops *ops = c->stream;

	if (c->dead)
		return;
	c->dead = true;
	c->stream = NULL;
	if (ops && ops->gone)
		ops->gone(c);
	loop_close(&c->d->loop, &c->w);
	client_unlink(c);
	loop_defer_free(&c->d->loop, c, client_free);
	netd_maybe_idle(c->d);
}

void client_closed_all(struct netd *d)
{
	while (d->clients)
		client_close(d->clients);
}

static bool peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.uid == 0;
}

void client_accept(struct netd *d, int fd)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->d = d;
	c->state = CLIENT_REQUEST;
	if (loop_add(&d->loop, &c->w, fd, EPOLLIN, client_event) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = d->clients;
	d->clients = c;
	if (!peer_is_root(fd))
		client_error(c, "permission denied: only root may use lguest-netd");
}

/* Write what the socket takes now; watch for room if some is left. */
static void flush_out(struct client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->w.fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (!c->out.len && c->state == CLIENT_CLOSING) {
		client_close(c);
		return;
	}
	loop_mod(&c->d->loop, &c->w,
		 (c->state == CLIENT_CLOSING ? 0 : EPOLLIN) | (c->out.len ? EPOLLOUT : 0));
}

static void queue(struct client *c, const void *data, size_t len)
{
	if (c->dead)
		return;
	if (buf_append(&c->out, data, len)) {
		client_close(c);
		return;
	}
	flush_out(c);
}

void client_send(struct client *c, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (!text) {
		client_close(c);
		return;
	}
	/* One piece, newline included: a closing connection closes when empty. */
	size_t len = strlen(text);
	char *line = realloc(text, len + 2);

	if (!line) {
		free(text);
		client_close(c);
		return;
	}
	line[len] = '\n';
	queue(c, line, len + 1);
	free(line);
}

void client_progress(struct client *c, json_t *progress)
{
	if (!c || c->dead) {
		json_decref(progress);
		return;
	}
	client_send(c, json_pack("{s:o}", "progress", progress));
}

static void finish(struct client *c, json_t *msg)
{
	if (c->dead) {
		json_decref(msg);
		return;
	}
	c->stream = NULL;	/* answered: the verb's side is done with us */
	c->state = CLIENT_CLOSING;
	client_send(c, msg);
	if (!c->dead)
		flush_out(c);
}

void client_ok(struct client *c, json_t *result)
{
	finish(c, json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_null()));
}

void client_error(struct client *c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(c, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

void client_start_stream(struct client *c, const struct client_stream_ops *ops, void *ctx)
{
	c->state = CLIENT_STREAM;
	c->stream = ops;
	c->stream_ctx = ctx;
	client_send(c, json_pack("{s:b,s:b}", "ok", 1, "stream", 1));
}

void client_frame(struct client *c, uint32_t type, const void *data, uint32_t len)
{
	struct proto_frame hdr = { htole32(type), htole32(len) };

	if (c->dead)
		return;
	/* Header and payload in one piece, as for lines. */
	if (buf_append(&c->out, &hdr, sizeof(hdr)) || (len && buf_append(&c->out, data, len))) {
		client_close(c);
		return;
	}
	flush_out(c);
}

void client_end(struct client *c)
{
	if (c->dead)
		return;
	c->stream = NULL;
	c->state = CLIENT_CLOSING;
	flush_out(c);
}

size_t client_backlog(const struct client *c)
{
	return c->dead ? 0 : c->out.len;
}

static void take_request(struct client *c)
{
	char *nl = memchr(c->in.data, '\n', c->in.len);
	json_error_t jerr;
	json_t *req;

	if (!nl) {
		if (c->in.len > NETD_REQUEST_MAX)
			client_error(c, "request longer than %u bytes", NETD_REQUEST_MAX);
		return;
	}
	req = json_loadb(c->in.data, (size_t)(nl - c->in.data), 0, &jerr);
	buf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
	if (!req || !json_is_object(req)) {
		json_decref(req);
		client_error(c, "the request is not a JSON object: %s", jerr.text);
		return;
	}
	c->state = CLIENT_BUSY;
	verb_dispatch(c, req);
	json_decref(req);
}

/* Stream frames from the client, to whatever the stream is attached to. */
static void take_frames(struct client *c)
{
	struct proto_frame hdr;

	while (!c->dead && c->state == CLIENT_STREAM && c->in.len >= sizeof(hdr)) {
		memcpy(&hdr, c->in.data, sizeof(hdr));
		hdr.type = le32toh(hdr.type);
		hdr.len = le32toh(hdr.len);
		if (hdr.len > NETD_FRAME_MAX) {
			client_close(c);
			return;
		}
		if (c->in.len < sizeof(hdr) + hdr.len)
			return;
		if (c->stream && c->stream->input)
			c->stream->input(c, hdr.type, (uint8_t *)c->in.data + sizeof(hdr), hdr.len);
		buf_consume(&c->in, sizeof(hdr) + hdr.len);
	}
}

static void read_in(struct client *c)
{
	char chunk[65536];
	ssize_t n = recv(c->w.fd, chunk, sizeof(chunk), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	if (c->state == CLIENT_BUSY || c->state == CLIENT_CLOSING)
		return;		/* nothing is expected now: ignored */
	if (buf_append(&c->in, chunk, (size_t)n)) {
		client_close(c);
		return;
	}
	if (c->state == CLIENT_REQUEST)
		take_request(c);
	if (!c->dead && c->state == CLIENT_STREAM)
		take_frames(c);
}

static void client_event(struct watch *w, uint32_t events)
{
	struct client *c = client_of(w);

	if (events & (EPOLLERR | EPOLLHUP)) {
		client_close(c);
		return;
	}
	if (events & EPOLLOUT)
		flush_out(c);
	if (!c->dead && (events & EPOLLIN))
		read_in(c);
}
