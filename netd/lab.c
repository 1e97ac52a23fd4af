/*
 * lab.c: a lab's life in the daemon.
 *
 * `up` is a few steps, the first synchronous, the rest driven by events:
 *
 *   1. check: the lab's name is free (no lab of that name, no run directory
 *      left by a daemon that died), the plan can be made, and nothing in it
 *      collides with the host or another lab (host_check).  Nothing has been
 *      touched yet: an error here leaves the host as it was.
 *   2. make: the run directory and the journal, the lab directory, then the
 *      host changes (host_apply: taps, addresses, nftables, sysctls, OVS),
 *      each journaled before it is made.
 *   3. start: the base images (image.c, in the background) and every switch
 *      process (sw.c); wait until the images are made and each switch's
 *      control socket answers.
 *      (`up --plumb-only` stops here: the lab is up without its nodes.)
 *   4. boot: start the nodes (node.c) as their `after:` nodes become ready,
 *      at most `parallel` booting at once; the lab is up when every node is
 *      ready, and the client that asked gets the table of nodes.
 *
 * Any failure on the way (a node not ready in time, a launcher or switch
 * that died, a client that went away) takes the lab down again, and the
 * client gets the reason and the failing node's last console lines.  `down`
 * asks every process to end (SIGTERM: switches close their captures), waits
 * for them (SIGKILL after STOP_GRACE_MS), then undoes the journal (undo.c),
 * which removes exactly what was made, and the run directory last.
 *
 * lab_poke() is the one place that moves a lab from step to step: nodes,
 * switches and image builders call it whenever something changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"

#define STEP_MS 50
#define SWITCH_TIMEOUT_NS (20ull * 1000000000ull)
#define STOP_GRACE_MS 5000
#define CONSOLE_TAIL 2048

enum step {
	STEP_START,		/* images and switches on their way */
	STEP_BOOT,		/* nodes starting */
	STEP_UP,
	STEP_STOPPING,
};

static void lab_step(struct timer *t);
static void lab_is_up(struct lab *lab);

struct lab *lab_find(struct netd *d, const char *name)
{
	for (struct lab *l = d->labs; l; l = l->next)
		if (!strcmp(l->topo->lab, name))
			return l;
	return NULL;
}

struct node *lab_node(struct lab *lab, const char *name)
{
	for (unsigned int i = 0; i < lab->nnodes; i++)
		if (!strcmp(lab->nodes[i].t->name, name))
			return &lab->nodes[i];
	return NULL;
}

void lab_event(struct lab *lab, const char *fmt, ...)
{
	char msg[1024], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	if (lab->log >= 0)
		dprintf(lab->log, "%s.%03ld %s\n", stamp, ts.tv_nsec / 1000000, msg);
	if (lab->d->verbose)
		netd_log(lab->d, "lab %s: %s", lab->topo->lab, msg);
	if (lab->waiter)
		client_progress(lab->waiter, json_pack("{s:s}", "message", msg));
}

/*
 * What a lab's process says on stderr (a launcher, a switch), read from W:
 * each line into the lab's log as WHO's, the last one kept in LAST (the why
 * of its end, should it end).  At the end of the pipe, W is closed.
 */
void lab_read_lines(struct lab *lab, struct watch *w, const char *who, char *last, size_t size)
{
	char buf[4096];
	ssize_t got = read(w->fd, buf, sizeof(buf) - 1);

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		loop_close(&lab->d->loop, w);
		return;
	}
	buf[got] = '\0';
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		snprintf(last, size, "%s", line);
		lab_event(lab, "%s: %s", who, line);
	}
}

void lab_poke(struct lab *lab)
{
	if (!lab->timer.armed)
		timer_arm(&lab->d->loop, &lab->timer, 0, lab_step);
}

/* --- status ------------------------------------------------------------------------ */
static json_t *iface_status(const struct topo_iface *i)
{
	json_t *addrs = json_array();
	char mac[18];

	for (unsigned int k = 0; k < i->naddrs; k++)
		json_array_append_new(addrs, json_string(i->addrs[k].text));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", i->mac[0], i->mac[1],
		 i->mac[2], i->mac[3], i->mac[4], i->mac[5]);
	return json_pack("{s:s,s:s,s:o,s:i,s:s}", "name", i->name, "mac", mac, "addresses", addrs,
			 "mtu", i->mtu ? (int)i->mtu : 1500, "link", i->link ? i->link->name : "");
}

static double secs(uint64_t from, uint64_t to)
{
	return from && to >= from ? (double)(to - from) / 1e9 : -1;
}

static json_t *node_status(const struct node *n)
{
	json_t *ifaces = json_array();

	for (unsigned int k = 0; k < n->t->nifaces; k++)
		json_array_append_new(ifaces, iface_status(&n->t->ifaces[k]));
	return json_pack("{s:s,s:s,s:s,s:i,s:f,s:f,s:o,s:s,s:I}",
			 "name", n->t->name, "state", node_state_name(n->state), "why", n->why,
			 "pid", n->proc.running ? (int)n->proc.pid : 0,
			 "boot_seconds", secs(n->t_start, n->t_booted),
			 "ready_seconds", secs(n->t_start, n->t_ready),
			 "interfaces", ifaces, "console", n->pn->console,
			 "memory", (json_int_t)n->t->memory);
}

static json_t *switch_status(const struct swproc *s)
{
	const struct plan_switch *ps = s->ps;
	json_t *ports = json_array();

	for (unsigned int k = 0; k < ps->nports; k++)
		json_array_append_new(ports, json_pack("{s:s,s:s}", "name", ps->ports[k].name,
						       "link", ps->ports[k].link->name));
	return json_pack("{s:s,s:b,s:s,s:i,s:s,s:s,s:o,s:s?}", "name", ps->name, "wire", !ps->sw,
			 "state", s->proc.running ? (s->ready ? "running" : "starting") : "dead",
			 "pid", s->proc.running ? (int)s->proc.pid : 0, "why", s->why, "control", ps->ctl,
			 "ports", ports, "capture", ps->capture.on ? ps->capture.file : NULL);
}

static json_t *link_status(const struct lab *lab, const struct topo_link *l)
{
	const struct plan_switch *ps;
	const struct plan_port *pp;
	json_t *ends = json_array(), *host = json_array();

	for (int e = 0; e < 2; e++) {
		const struct topo_end *end = &l->ends[e];
		char text[64];

		switch (end->kind) {
		case TOPO_END_NODE:
			snprintf(text, sizeof(text), "%s:%s", end->node->name, end->iface->name);
			break;
		case TOPO_END_SWITCH:
			snprintf(text, sizeof(text), "%s", end->sw->name);
			break;
		case TOPO_END_HOST:
			snprintf(text, sizeof(text), "host");
			break;
		case TOPO_END_BRIDGE:
			snprintf(text, sizeof(text), "bridge:%s", end->bridge);
			break;
		}
		json_array_append_new(ends, json_string(text));
	}
	for (unsigned int k = 0; k < l->nhost_addrs; k++)
		json_array_append_new(host, json_string(l->host_addrs[k].text));
	if (!plan_link_port(lab->plan, l, &ps, &pp))
		ps = NULL, pp = NULL;
	return json_pack("{s:s,s:o,s:o,s:b,s:s?,s:s?,s:s?}", "name", l->name, "ends", ends,
			 "host", host, "nat", l->nat, "capture", l->capture.on ? l->capture.file : NULL,
			 "switch", ps ? ps->name : NULL, "port", pp ? pp->name : NULL);
}

static const char *const lab_state_names[] = {
	[LAB_STARTING] = "starting", [LAB_UP] = "up", [LAB_FAILED] = "failed",
	[LAB_STOPPING] = "stopping",
};

json_t *lab_status(const struct lab *lab)
{
	json_t *nodes = json_array(), *sws = json_array(), *links = json_array(), *taps = json_array();

	for (unsigned int i = 0; i < lab->nnodes; i++)
		json_array_append_new(nodes, node_status(&lab->nodes[i]));
	for (unsigned int i = 0; i < lab->nsws; i++)
		json_array_append_new(sws, switch_status(&lab->sws[i]));
	for (unsigned int i = 0; i < lab->topo->nlinks; i++)
		json_array_append_new(links, link_status(lab, &lab->topo->links[i]));
	for (unsigned int i = 0; i < lab->plan->ntaps; i++)
		json_array_append_new(taps, json_pack("{s:s,s:s}", "name", lab->plan->taps[i].name,
						      "link", lab->plan->taps[i].link->name));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:o,s:o,s:o,s:o}",
			 "name", lab->topo->lab, "state", lab_state_names[lab->state],
			 "why", lab->why, "file", lab->topo->file, "dir", lab->topo->dir,
			 "run", lab->plan->run, "up_seconds", secs(lab->t_start, lab->t_up),
			 "nodes", nodes, "switches", sws, "links", links, "taps", taps);
}

/* --- taking a lab down ------------------------------------------------------------- */
static void lab_free(void *p)
{
	struct lab *lab = p;

	capview_end_all(lab);
	for (unsigned int i = 0; i < lab->nnodes; i++)
		node_free(&lab->nodes[i]);
	for (unsigned int i = 0; i < lab->nsws; i++) {
		loop_close(&lab->d->loop, &lab->sws[i].errors);
		proc_forget(&lab->d->loop, &lab->sws[i].proc);
	}
	proc_forget(&lab->d->loop, &lab->ovs[0]);
	proc_forget(&lab->d->loop, &lab->ovs[1]);
	image_stop(lab);
	free(lab->nodes);
	free(lab->sws);
	journal_close(&lab->journal);
	if (lab->log >= 0)
		close(lab->log);
	plan_free(lab->plan);
	topo_free(lab->topo);
	free(lab->text);
	free(lab);
}

static void lab_unlink(struct lab *lab)
{
	for (struct lab **pp = &lab->d->labs; *pp; pp = &(*pp)->next)
		if (*pp == lab) {
			*pp = lab->next;
			return;
		}
}

static bool anything_running(const struct lab *lab)
{
	for (unsigned int i = 0; i < lab->nnodes; i++)
		if (lab->nodes[i].proc.running)
			return true;
	for (unsigned int i = 0; i < lab->nsws; i++)
		if (lab->sws[i].proc.running)
			return true;
	return lab->ovs[0].running || lab->ovs[1].running;
}

static void kill_all(struct lab *lab, int sig)
{
	for (unsigned int i = 0; i < lab->nnodes; i++)
		proc_signal(&lab->nodes[i].proc, sig);
	for (unsigned int i = 0; i < lab->nsws; i++)
		proc_signal(&lab->sws[i].proc, sig);
	proc_signal(&lab->ovs[0], sig);
	proc_signal(&lab->ovs[1], sig);
}

/* Every process has ended: undo the journal, answer, forget the lab. */
static void lab_finish_stop(struct lab *lab)
{
	char err[ERR_MAX] = "";
	struct client *c = lab->waiter;
	int rc;

	timer_cancel(&lab->d->loop, &lab->timer);
	journal_close(&lab->journal);
	rc = undo_journal(lab->d, lab->plan->run, err, sizeof(err));
	lab_event(lab, rc ? "down, but: %s" : "down%s", err);
	lab->waiter = NULL;
	if (c && lab->state == LAB_FAILED)
		client_error(c, "%s", lab->why);
	else if (c && rc)
		client_error(c, "lab %s: %s", lab->topo->lab, err);
	else if (c)
		client_ok(c, json_pack("{s:s}", "lab", lab->topo->lab));
	lab_unlink(lab);
	loop_defer_free(&lab->d->loop, lab, lab_free);
	netd_maybe_idle(lab->d);
}

static void lab_begin_stop(struct lab *lab)
{
	lab->step = STEP_STOPPING;
	lab->t_stop = now_ns();
	labtest_abort(lab);
	image_stop(lab);
	for (unsigned int i = 0; i < lab->nnodes; i++)
		node_stop(&lab->nodes[i]);
	for (unsigned int i = 0; i < lab->nsws; i++)
		sw_stop(&lab->sws[i]);
	proc_signal(&lab->ovs[1], SIGTERM);
	proc_signal(&lab->ovs[0], SIGTERM);
	lab_poke(lab);
}

/* The last lines of a node's console, for an error message. */
static void console_tail(const struct node *n, char *out, size_t size)
{
	char buf[CONSOLE_TAIL + 1];
	int fd = open(n->pn->console, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t got;

	out[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	got = pread(fd, buf, CONSOLE_TAIL, end > CONSOLE_TAIL ? end - CONSOLE_TAIL : 0);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\r')
			*p = ' ';
	bprintf(out, size, "\n--- the last of its console (%s) ---\n%s", n->pn->console,
		 strchr(buf, '\n') && end > CONSOLE_TAIL ? strchr(buf, '\n') + 1 : buf);
}

static void lab_fail(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lab_fail(struct lab *lab, const char *fmt, ...)
{
	va_list ap;

	if (lab->state == LAB_FAILED || lab->state == LAB_STOPPING)
		return;
	va_start(ap, fmt);
	vsnprintf(lab->why, sizeof(lab->why), fmt, ap);
	va_end(ap);
	lab_event(lab, "cannot come up: %s; taking it down", lab->why);
	lab->state = LAB_FAILED;
	lab_begin_stop(lab);
}

static const struct client_stream_ops waiter_ops;

/* C waits for the lab (up, or down): if C goes, the lab forgets it. */
static void lab_set_waiter(struct lab *lab, struct client *c)
{
	lab->waiter = c;
	if (c) {
		c->stream = &waiter_ops;
		c->stream_ctx = lab;
	}
}

void lab_down(struct lab *lab, struct client *c)
{
	if (lab->state == LAB_STOPPING || lab->state == LAB_FAILED) {
		if (c)
			client_error(c, "lab %s is already going down", lab->topo->lab);
		return;
	}
	if (lab->waiter)
		client_error(lab->waiter, "lab %s was taken down", lab->topo->lab);
	lab_set_waiter(lab, c);
	lab_event(lab, "going down");
	lab->state = LAB_STOPPING;
	lab_begin_stop(lab);
}

/* --- the steps ------------------------------------------------------------------- */
static void step_stopping(struct lab *lab)
{
	if (anything_running(lab)) {
		if (now_ns() - lab->t_stop > STOP_GRACE_MS * 1000000ull && !lab->killed) {
			lab_event(lab, "still running %d s after SIGTERM: SIGKILL", STOP_GRACE_MS / 1000);
			kill_all(lab, SIGKILL);
			lab->killed = true;
		}
		timer_arm(&lab->d->loop, &lab->timer, STEP_MS, lab_step);
		return;
	}
	lab_finish_stop(lab);
}

static bool switches_ready(struct lab *lab)
{
	bool all = true;

	for (unsigned int i = 0; i < lab->nsws; i++) {
		struct swproc *s = &lab->sws[i];

		if (!s->proc.running) {
			lab_fail(lab, "switch %s: %s", s->ps->name, s->why[0] ? s->why : "it did not start");
			return false;
		}
		if (!sw_ready(s))
			all = false;
	}
	if (!all && now_ns() - lab->t_start > SWITCH_TIMEOUT_NS) {
		lab_fail(lab, "a switch did not open its control socket in %llu s",
			 SWITCH_TIMEOUT_NS / 1000000000ull);
		return false;
	}
	return all;
}

static void step_start(struct lab *lab)
{
	char err[ERR_MAX];
	int images = image_bases_done(lab, err, sizeof(err));

	if (images < 0) {
		lab_fail(lab, "%s", err);
		return;
	}
	if (!switches_ready(lab) || lab->state != LAB_STARTING)
		goto later;
	if (!images)
		goto later;
	lab_event(lab, "images made, %u switch%s ready", lab->nsws, lab->nsws == 1 ? "" : "es");
	lab->step = lab->plumb_only ? STEP_UP : STEP_BOOT;
	if (lab->plumb_only)
		lab_is_up(lab);
	else
		lab_poke(lab);
	return;
later:
	if (lab->state == LAB_STARTING)
		timer_arm(&lab->d->loop, &lab->timer, STEP_MS, lab_step);
}

static void lab_is_up(struct lab *lab)
{
	struct client *c = lab->waiter;

	lab->state = LAB_UP;
	lab->step = STEP_UP;
	lab->t_up = now_ns();
	lab_event(lab, "up in %.1f s%s", secs(lab->t_start, lab->t_up),
		  lab->plumb_only ? " (its plumbing only: no node was started)" : "");
	lab->waiter = NULL;
	if (c)
		client_ok(c, lab_status(lab));
}

static bool deps_ready(const struct lab *lab, const struct node *n)
{
	for (unsigned int k = 0; k < n->t->nafter; k++) {
		const struct node *dep = &lab->nodes[n->t->after[k] - lab->topo->nodes];

		if (dep->state != NODE_READY)
			return false;
	}
	return true;
}

static void step_boot(struct lab *lab)
{
	unsigned int booting = 0, ready = 0;

	for (unsigned int i = 0; i < lab->nsws; i++)
		if (!lab->sws[i].proc.running) {
			lab_fail(lab, "switch %s: %s", lab->sws[i].ps->name, lab->sws[i].why);
			return;
		}

	for (unsigned int i = 0; i < lab->nnodes; i++) {
		struct node *n = &lab->nodes[i];

		if (n->state == NODE_FAILED || n->state == NODE_DEAD) {
			char tail[CONSOLE_TAIL + 128];

			console_tail(n, tail, sizeof(tail));
			lab_fail(lab, "node %s: %s%s", n->t->name, n->why, tail);
			return;
		}
		if (n->state == NODE_READY)
			ready++;
		else if (n->state != NODE_WAITING)
			booting++;
	}
	for (unsigned int i = 0; i < lab->nnodes && booting < lab->d->parallel; i++) {
		struct node *n = &lab->nodes[i];

		if (n->state == NODE_WAITING && deps_ready(lab, n)) {
			node_start(n);
			booting++;
		}
	}
	if (lab->state != LAB_STARTING)
		return;
	if (ready == lab->nnodes)
		lab_is_up(lab);
}

static void step_up(struct lab *lab)
{
	(void)lab;	/* a node or switch that dies is in status and the lab's log */
}

static void (*const steps[])(struct lab *) = {
	[STEP_START] = step_start,
	[STEP_BOOT] = step_boot,
	[STEP_UP] = step_up,
	[STEP_STOPPING] = step_stopping,
};

static void lab_step(struct timer *t)
{
	struct lab *lab = (struct lab *)((char *)t - offsetof(struct lab, timer));

	steps[lab->step](lab);
}

/* --- bringing a lab up -------------------------------------------------------------- */
static void waiter_gone(struct client *c)
{
	struct lab *lab = c->stream_ctx;

	if (lab->waiter != c)
		return;
	lab->waiter = NULL;
	if (lab->state == LAB_STARTING)
		lab_fail(lab, "the client that asked for it went away");
}

static const struct client_stream_ops waiter_ops = { NULL, waiter_gone };	/* (declared above) */

static int mkdirs(struct lab *lab, char *err, size_t errlen)
{
	static const char *const run_subdirs[] = { "net", "sw", "chan", "image" };
	static const char *const lab_subdirs[] = { "console", "capture" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(run_subdirs) / sizeof(run_subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lab->plan->run, run_subdirs[i]);
		if (mkdir(path, 0700) < 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s", lab->topo->dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		goto fail;
	for (size_t i = 0; i < sizeof(lab_subdirs) / sizeof(lab_subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lab->topo->dir, lab_subdirs[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/netd.log", lab->topo->dir);
	lab->log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lab->log < 0)
		goto fail;
	return 0;
fail:
	bprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Step 2: the run directory and journal, the lab directory, the host changes. */
static int lab_make(struct lab *lab, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	int rc;

	if (mkdir(lab->plan->run, 0700) < 0) {
		bprintf(err, errlen, "%s: %s", lab->plan->run, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/journal", lab->plan->run);
	rc = journal_create(&lab->journal, path);
	if (!rc)
		rc = journal_add(&lab->journal, "lab", lab->topo->lab, lab->topo->file,
				 lab->topo->dir, (char *)NULL);
	if (rc) {
		bprintf(err, errlen, "%s: %s", path, strerror(-rc));
		rmdir(lab->plan->run);
		return -1;
	}
	if (mkdirs(lab, err, errlen) || host_apply(lab, err, errlen))
		return -1;
	return 0;
}

static struct lab *lab_new(struct netd *d, struct topo *topo, struct plan *plan)
{
	struct lab *lab = calloc(1, sizeof(*lab));

	if (!lab)
		return NULL;
	lab->d = d;
	lab->topo = topo;
	lab->plan = plan;
	lab->journal.fd = -1;
	lab->log = -1;
	lab->ovs[0].w.fd = lab->ovs[1].w.fd = -1;
	lab->nodes = calloc(plan->nnodes ? plan->nnodes : 1, sizeof(*lab->nodes));
	lab->sws = calloc(plan->nswitches ? plan->nswitches : 1, sizeof(*lab->sws));
	if (!lab->nodes || !lab->sws) {
		free(lab->nodes);
		free(lab->sws);
		free(lab);
		return NULL;
	}
	for (unsigned int i = 0; i < plan->nnodes; i++) {
		struct node *n = &lab->nodes[lab->nnodes++];

		n->lab = lab;
		n->t = plan->nodes[i].t;
		n->pn = &plan->nodes[i];
		n->console.fd = n->errors.fd = n->proc.w.fd = -1;
		n->console_log = -1;
	}
	for (unsigned int i = 0; i < plan->nswitches; i++) {
		struct swproc *s = &lab->sws[lab->nsws++];

		s->lab = lab;
		s->ps = &plan->switches[i];
		s->errors.fd = s->proc.w.fd = -1;
	}
	return lab;
}

void lab_up(struct netd *d, struct topo *topo, const char *text, struct client *c,
	    enum up_mode mode)
{
	char err[ERR_MAX], run[PATH_MAX + 32];
	struct plan *plan;
	struct lab *lab;

	snprintf(run, sizeof(run), "%s/%s", d->run_root, topo->lab);
	if (lab_find(d, topo->lab) || access(run, F_OK) == 0) {
		client_error(c, lab_find(d, topo->lab)
			     ? "lab %s is already up (lguest-net down %s first)"
			     : "lab %s was left behind by a daemon that died: lguest-net down %s cleans it up",
			     topo->lab, topo->lab);
		goto out;
	}
	plan = plan_make(topo, d->run_root, err, sizeof(err));
	if (!plan) {
		client_error(c, "%s", err);
		goto out;
	}
	if (host_check(d, plan, err, sizeof(err))) {
		client_error(c, "%s", err);
		plan_free(plan);
		goto out;
	}
	if (mode == UP_DRY_RUN) {
		char *shown = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&shown, &len);

		if (f) {
			plan_print(plan, f);
			fclose(f);
		}
		client_ok(c, json_pack("{s:s}", "plan", shown ? shown : ""));
		free(shown);
		plan_free(plan);
		goto out;
	}
	lab = lab_new(d, topo, plan);
	if (!lab) {
		client_error(c, "out of memory");
		plan_free(plan);
		goto out;
	}
	lab->next = d->labs;
	d->labs = lab;
	lab->state = LAB_STARTING;
	lab->t_start = now_ns();
	lab->text = strdup(text);
	lab->plumb_only = mode == UP_PLUMB_ONLY;
	lab_set_waiter(lab, c);
	if (lab_make(lab, err, sizeof(err)) || image_prepare(lab, err, sizeof(err))) {
		lab_fail(lab, "%s", err);
		return;
	}
	lab_event(lab, "coming up: %u node%s, %u switch process%s", lab->nnodes,
		  lab->nnodes == 1 ? "" : "s", lab->nsws, lab->nsws == 1 ? "" : "es");
	for (unsigned int i = 0; i < lab->nsws; i++)
		if (sw_start(&lab->sws[i], err, sizeof(err))) {
			lab_fail(lab, "%s", err);
			return;
		}
	lab->step = STEP_START;
	lab_poke(lab);
	return;
out:
	topo_free(topo);
}
