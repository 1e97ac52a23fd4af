/*
 * capview.c: `lguest-net capture`: a live pcap stream of a switch or a link.
 *
 * A view asks the switch process that holds the target for one more
 * capture, into a FIFO in the run directory whose reader (us) is there
 * before the switch opens it.  The switch writes pcap into the FIFO; we
 * pass it on to the client as stream output (PF_STDOUT frames), which
 * lguest-net writes to its -w file or to its standard output for
 * `wireshark -k -i -`.  A switch capture records each frame once, as it
 * enters the switch; a link's records both directions at the link's port.
 *
 * The switch has one capture thread for all its captures, so a view must
 * never stop reading its FIFO: that would hold the lab's file captures too.
 * When the client falls behind, we drop whole pcap records (we follow the
 * record headers), never parts of one, so the stream stays valid pcap; the
 * client hears how many were dropped at the end.  When the client goes,
 * the capture is stopped; when the switch ends (the lab goes down), the
 * FIFO ends and so does the stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"

#define VIEW_BACKLOG (4u << 20)	/* the client may lag this much, then we drop */
#define PCAP_HEADER 24
#define PCAP_RECORD 16
#define PCAP_SNAP_MAX (256u << 10)

struct capview {
	struct watch w;		/* the FIFO */
	struct lab *lab;
	struct client *c;
	const struct plan_switch *ps;
	char target[64];	/* "--switch" or the port's name */
	char fifo[PATH_MAX];
	struct proto_buf pending;	/* bytes of a record not yet whole */
	bool header_sent;
	uint64_t dropped;
	struct capview *next;	/* in the lab's list */
};

static unsigned int view_seq;

static void view_stop_switch(struct capview *v)
{
	char cmd[PATH_MAX + 128], err[ERR_MAX], *out = NULL;

	snprintf(cmd, sizeof(cmd), "capture stop %s %s", v->target, v->fifo);
	if (sw_ctl(v->ps, cmd, &out, err, sizeof(err)) == 0)
		free(out);
}

static void view_free(void *p)
{
	struct capview *v = p;

	buf_free(&v->pending);
	free(v);
}

/* End the view: from the client's going (c NULL then) or the FIFO's end. */
static void view_end(struct capview *v, bool stop_switch)
{
	for (struct capview **pp = &v->lab->views; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	if (stop_switch && v->ps)
		view_stop_switch(v);
	loop_close(&v->lab->d->loop, &v->w);
	unlink(v->fifo);
	if (v->c) {
		struct client *c = v->c;

		v->c = NULL;
		if (v->dropped) {
			char msg[128];
			int n = snprintf(msg, sizeof(msg),
					 "lguest-netd: %llu frames were dropped: the reader was too slow\n",
					 (unsigned long long)v->dropped);

			client_frame(c, PF_STDERR, msg, (uint32_t)n);
		}
		client_end(c);
	}
	loop_defer_free(&v->lab->d->loop, v, view_free);
}

/* Pass whole records on; drop them while the client is behind. */
static void view_forward(struct capview *v)
{
	struct proto_buf *b = &v->pending;
	size_t used = 0;

	if (!v->header_sent) {
		if (b->len < PCAP_HEADER)
			return;
		client_frame(v->c, PF_STDOUT, b->data, PCAP_HEADER);
		v->header_sent = true;
		used = PCAP_HEADER;
	}
	while (b->len - used >= PCAP_RECORD) {
		uint32_t caplen;
		size_t whole;

		memcpy(&caplen, b->data + used + 8, sizeof(caplen));	/* host order: the switch's */
		if (caplen > PCAP_SNAP_MAX) {
			view_end(v, true);	/* not pcap as we know it */
			return;
		}
		whole = PCAP_RECORD + caplen;
		if (b->len - used < whole)
			break;
		if (client_backlog(v->c) < VIEW_BACKLOG)
			client_frame(v->c, PF_STDOUT, b->data + used, (uint32_t)whole);
		else
			v->dropped++;
		used += whole;
	}
	buf_consume(b, used);
}

static void view_event(struct watch *w, uint32_t events)
{
	struct capview *v = (struct capview *)w;
	char chunk[65536];
	ssize_t n = read(w->fd, chunk, sizeof(chunk));

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || buf_append(&v->pending, chunk, (size_t)n)) {
		view_end(v, false);
		return;
	}
	if (v->c)
		view_forward(v);
}

static void view_gone(struct client *c)
{
	struct capview *v = c->stream_ctx;

	v->c = NULL;
	view_end(v, true);
}

static const struct client_stream_ops view_ops = { NULL, view_gone };

/* The switch process and the capture target (a port, or the whole switch). */
static int view_target(struct lab *lab, const char *name, struct capview *v)
{
	const struct plan_switch *ps = plan_switch_named(lab->plan, name);
	const struct topo_link *l = topo_link(lab->topo, name);
	const struct plan_port *pp;

	if (ps && ps->sw) {
		v->ps = ps;
		snprintf(v->target, sizeof(v->target), "--switch");
		return 0;
	}
	if (l && plan_link_port(lab->plan, l, &ps, &pp)) {
		v->ps = ps;
		snprintf(v->target, sizeof(v->target), "%s", pp->name);
		return 0;
	}
	return -1;
}

void verb_capture(struct client *c, json_t *req)
{
	json_t *t = json_object_get(req, "target");
	const char *name = json_is_string(t) ? json_string_value(t) : NULL;
	char cmd[PATH_MAX + 128], err[ERR_MAX], *out = NULL;
	struct lab *lab = verb_pick_lab(c, req);
	struct capview *v;
	int fd;

	if (!lab)
		return;
	if (!name) {
		client_error(c, "capture: which switch or link?");
		return;
	}
	v = calloc(1, sizeof(*v));
	if (!v || view_target(lab, name, v) < 0) {
		client_error(c, "lab %s has no switch or link %s", lab->topo->lab, name);
		free(v);
		return;
	}
	v->lab = lab;
	bprintf(v->fifo, sizeof(v->fifo), "%s/image/live-%u.pcap", lab->plan->run, ++view_seq);
	if (mkfifo(v->fifo, 0600) < 0 ||
	    (fd = open(v->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		client_error(c, "capture: %s: %s", v->fifo, strerror(errno));
		unlink(v->fifo);
		free(v);
		return;
	}
	snprintf(cmd, sizeof(cmd), "capture start %s %s", v->target, v->fifo);
	if (sw_ctl(v->ps, cmd, &out, err, sizeof(err)) < 0) {
		close(fd);
		unlink(v->fifo);
		free(v);
		client_error(c, "capture of %s: %s", name, err);
		return;
	}
	free(out);
	loop_add(&lab->d->loop, &v->w, fd, EPOLLIN, view_event);
	v->c = c;
	v->next = lab->views;
	lab->views = v;
	client_start_stream(c, &view_ops, v);
}

/* The lab is going away: end its views (their switches are gone already). */
void capview_end_all(struct lab *lab)
{
	while (lab->views)
		view_end(lab->views, false);
}
