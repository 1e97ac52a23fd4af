/*
 * nlsock.c: talking to the kernel over netlink, and checking what it says.
 *
 * A netlink conversation, as rtnetlink and nf_tables both have it:
 *
 *  1. we send one datagram holding one message (a request) or several (an
 *     nf_tables batch: begin, the messages, end), each with a sequence
 *     number of its own and NLM_F_ACK, or NLM_F_DUMP for a dump;
 *  2. the kernel answers with datagrams of messages carrying the number of
 *     the message they answer: first the data we asked for (a link, an
 *     address...), then one final message per request: NLMSG_ERROR, whose
 *     error is 0 for an acknowledgement or a negative errno, or NLMSG_DONE
 *     at the end of a dump;
 *  3. we read until every request has had its final message.  An error
 *     for a message we did not count on (the begin or end of a batch: the
 *     kernel refused the whole batch) is final for all of them.
 *
 * The kernel is trusted, but the parser still reads nothing it has not
 * checked: each message must lie wholly inside what recv() returned (else
 * EPROTO, "truncated"), an error message must hold its struct nlmsgerr, a
 * datagram larger than our buffer is an error (libmnl reports MSG_TRUNC as
 * ENOSPC) rather than a silent cut, and the extended acknowledgement's
 * attributes (the kernel's own words: "MTU greater than device maximum")
 * are validated before they are copied into s->ext.  Messages for other
 * sequence numbers are skipped.  A dump that the kernel marks inconsistent
 * (NLM_F_DUMP_INTR: the table changed under it) is read to its end and
 * reported as EINTR, for the caller to ask again.
 *
 * Nothing waits for ever: five seconds without a datagram is ETIMEDOUT.  A
 * conversation that ended that way, or with a receive error, may have left
 * answers on the way, so the socket is closed and a fresh one opened: the
 * next conversation starts clean.  After every other outcome every answer
 * has been read (a failing callback does not stop the reading), which also
 * leaves no dump half-done on the socket (the kernel would refuse the next).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "nlsock.h"

#define NLSOCK_BUF		32768	/* the kernel fills dump datagrams up to 32 KiB */
#define NLSOCK_TIMEOUT_MS	5000

/* Where a conversation stands (nlsock_talk's steps 2 and 3). */
struct talk {
	uint32_t first, last;	/* the requests that will each get a final answer */
	uint32_t answered;	/* how many of them have */
	bool done;
	bool interrupted;	/* a dump said NLM_F_DUMP_INTR */
	int error;		/* the first error, or 0 */
	uint32_t failed;	/* its sequence number */
	nlsock_cb cb;
	void *data;
};

static int nlsock_socket(struct nlsock *s)
{
	int one = 1;

	s->mnl = mnl_socket_open2(s->bus, SOCK_CLOEXEC);
	if (!s->mnl)
		return -errno;
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int error = -errno;

		mnl_socket_close(s->mnl);
		s->mnl = NULL;
		return error;
	}
	/* The kernel's words with its errors; our request not echoed back. */
	mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->mnl);
	return 0;
}

int nlsock_open(struct nlsock *s, int bus, char *err, size_t errlen)
{
	int error;

	memset(s, 0, sizeof(*s));
	s->bus = bus;
	s->buf = malloc(NLSOCK_BUF);
	if (!s->buf)
		return nlsock_error(-ENOMEM, err, errlen, "netlink: no memory for a buffer");
	error = nlsock_socket(s);
	if (error < 0) {
		free(s->buf);
		s->buf = NULL;
		return nlsock_error(error, err, errlen, "netlink socket (bus %d): %s", bus,
				    strerror(-error));
	}
	return 0;
}

void nlsock_close(struct nlsock *s)
{
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s->buf);
	s->mnl = NULL;
	s->buf = NULL;
}

uint32_t nlsock_next_seq(struct nlsock *s)
{
	if (++s->seq == 0)	/* 0 means "any" to some readers: never use it */
		s->seq = 1;
	return s->seq;
}

/* The extended acknowledgement's message, if it has one, into s->ext. */
static int nlsock_ext_attr(const struct nlattr *attr, void *data)
{
	struct nlsock *s = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(s->ext, sizeof(s->ext), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static void nlsock_ext(struct nlsock *s, const struct nlmsghdr *nlh, const struct nlmsgerr *e)
{
	size_t offset = sizeof(*e);	/* NLM_F_CAPPED: our request's header only */

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(e->msg))
			return;
		offset = sizeof(e->error) + e->msg.nlmsg_len;
	}
	if (offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, nlsock_ext_attr, s);
}

/* The errno an NLMSG_ERROR carries: 0 for an acknowledgement. */
static int nlsock_error_of(struct nlsock *s, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return -EPROTO;
	if (e->error > 0 || e->error < -4095)
		return -EPROTO;
	if (e->error)
		nlsock_ext(s, nlh, e);
	return e->error;
}

/* The errno an NLMSG_DONE carries (a dump that failed half-way), or 0. */
static int nlsock_done_error(const struct nlmsghdr *nlh)
{
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return 0;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	return error < 0 && error >= -4095 ? error : 0;
}

static void talk_fail(struct talk *t, int error, uint32_t seq)
{
	if (error < 0 && !t->error) {
		t->error = error;
		t->failed = seq;
	}
}

/* A final answer: an ack, an error or the end of a dump. */
static void talk_final(struct talk *t, uint32_t seq, int error)
{
	talk_fail(t, error, seq);
	if (seq < t->first || seq > t->last) {
		t->done = true;		/* the batch as a whole was refused */
		return;
	}
	if (++t->answered == t->last - t->first + 1)
		t->done = true;
}

static void talk_message(struct nlsock *s, struct talk *t, const struct nlmsghdr *nlh)
{
	uint32_t seq = nlh->nlmsg_seq;

	if (seq + 1 < t->first || seq > t->last + 1)
		return;		/* an answer to something else */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->interrupted = true;
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		talk_final(t, seq, nlsock_error_of(s, nlh));
		return;
	case NLMSG_DONE:
		talk_final(t, seq, nlsock_done_error(nlh));
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !t->cb || t->error)
		return;		/* NLMSG_NOOP, NLMSG_OVERRUN; or no one wants it */
	if (seq < t->first || seq > t->last)
		return;
	talk_fail(t, t->cb(nlh, t->data), seq);
}

/* Every message of one datagram of N bytes: each must lie wholly inside it. */
static int talk_datagram(struct nlsock *s, struct talk *t, int n)
{
	const struct nlmsghdr *nlh = (const void *)s->buf;
	int len = n;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		talk_message(s, t, nlh);
	return len > 0 ? -EPROTO : 0;
}

static int nlsock_receive(struct nlsock *s)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(s->mnl), .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, NLSOCK_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	do {
		n = mnl_socket_recvfrom(s->mnl, s->buf, NLSOCK_BUF);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* A conversation cut short: its late answers must not reach the next. */
static void nlsock_reset(struct nlsock *s)
{
	mnl_socket_close(s->mnl);
	s->mnl = NULL;
	nlsock_socket(s);
}

int nlsock_talk(struct nlsock *s, const void *msg, size_t len, uint32_t first,
		uint32_t last, nlsock_cb cb, void *data, uint32_t *failed)
{
	struct talk t = { .first = first, .last = last, .cb = cb, .data = data };
	int n, error = 0;

	s->ext[0] = '\0';
	if (failed)
		*failed = 0;
	if (!s->mnl && nlsock_socket(s) < 0)
		return -EBADF;
	if (mnl_socket_sendto(s->mnl, msg, len) < 0)
		return -errno;
	while (!t.done && !error) {
		n = nlsock_receive(s);
		if (n < 0)
			error = n;
		else
			error = talk_datagram(s, &t, n);
	}
	if (error) {
		nlsock_reset(s);
		return error;
	}
	if (!t.error && t.interrupted)
		t.error = -EINTR;
	if (failed)
		*failed = t.failed;
	return t.error;
}

static int nlsock_vformat(int error, char *err, size_t errlen, const char *ext,
			  bool with_errno, const char *fmt, va_list ap)
{
	int n;

	if (!err || !errlen)
		return error;
	n = vsnprintf(err, errlen, fmt, ap);
	if (n < 0 || (size_t)n >= errlen || !with_errno)
		return error;
	if (error == -EPROTO)
		snprintf(err + n, errlen - n, ": a malformed or truncated answer from the kernel");
	else if (error == -ETIMEDOUT)
		snprintf(err + n, errlen - n, ": no answer from the kernel in %d s",
			 NLSOCK_TIMEOUT_MS / 1000);
	else if (ext && ext[0])
		snprintf(err + n, errlen - n, ": %s (%s)", strerror(-error), ext);
	else
		snprintf(err + n, errlen - n, ": %s", strerror(-error));
	return error;
}

int nlsock_fail(const struct nlsock *s, int error, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nlsock_vformat(error, err, errlen, s->ext, true, fmt, ap);
	va_end(ap);
	return error;
}

int nlsock_error(int error, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nlsock_vformat(error, err, errlen, NULL, false, fmt, ap);
	va_end(ap);
	return error;
}
