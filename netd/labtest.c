/*
 * labtest.c: `lguest-net test`: the checks of the topology's tests:, run
 * against the lab as it is now.
 *
 * The checks run one after another, each through the nodes' agents (so
 * they work whatever the lab's network does, which is what they test) or,
 * for a capture, through tshark on the capture file.  Each kind is a
 * start function that launches what it needs and a way to judge what came
 * back; every check has a deadline, after which it fails with what it saw.
 *
 *   ping      ping -c COUNT from a node: ok when a reply came back
 *   route     ip route get TO on a node: the next hop and interface
 *   source    a UDP datagram from a node to TO, where TO is another node's
 *             address (its agent listens) or a host end's (we listen): the
 *             source address it arrived with (what NAT made of it)
 *   connect   a TCP connection from a node to TO:PORT
 *   capture   tshark -Y FILTER over the capture file: at least COUNT frames
 *   exec      a shell command on a node: its exit status, and its output
 *             against a regular expression
 *
 * Each result goes to the client as it comes (one line per check in
 * lguest-net's output), and at the end to LABDIR/test-results.json and
 * LABDIR/junit.xml (for CI), and the answer says how many passed and failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"

#define OUT_MAX 8192
#define CAPTURE_SETTLE_MS 1500	/* the switch flushes a capture at most this late */
#define CAPTURE_RETRY_MS 300
#define AGENT "/sbin/lguest-agent"

struct labtest {
	struct lab *lab;
	struct client *c;
	unsigned int next;	/* the check to run next */
	const struct topo_test *t;	/* the one running */
	json_t *results;
	unsigned int passed, failed;
	uint64_t t0, check_t0;
	struct timer deadline, later;
	struct session *s[2];	/* a check's sessions (source: listener, sender) */
	char out[2][OUT_MAX];	/* their output */
	size_t outlen[2];
	int code[2];		/* exit codes; -1 while running */
	struct proc tshark;
	char tshark_out[4096];
	struct watch udp;	/* source: our listener for a host end */
	char seen[64];
	unsigned int attempts;
};

static void check_next(struct labtest *lt);

static void next_check(struct timer *t)
{
	check_next((struct labtest *)((char *)t - offsetof(struct labtest, later)));
}

/* --- results --------------------------------------------------------------------- */
static void stop_sessions(struct labtest *lt)
{
	for (int i = 0; i < 2; i++) {
		if (lt->s[i])
			session_abandon(lt->s[i]);
		lt->s[i] = NULL;
	}
	proc_abandon(&lt->lab->d->loop, &lt->tshark);
	loop_close(&lt->lab->d->loop, &lt->udp);
	timer_cancel(&lt->lab->d->loop, &lt->deadline);
	timer_cancel(&lt->lab->d->loop, &lt->later);
}

static void check_done(struct labtest *lt, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_done(struct labtest *lt, bool ok, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	stop_sessions(lt);
	ok ? lt->passed++ : lt->failed++;
	r = json_pack("{s:i,s:s,s:b,s:s,s:f,s:i}", "number", (int)lt->next, "name", lt->t->name,
		      "ok", ok, "detail", detail,
		      "seconds", (double)(now_ns() - lt->check_t0) / 1e9, "line", (int)lt->t->pos.line);
	json_array_append(lt->results, r);
	if (lt->c)
		client_progress(lt->c, json_pack("{s:o}", "check", r));
	else
		json_decref(r);
	lab_event(lt->lab, "test %u %s: %s (%s)", lt->next, ok ? "ok" : "FAILED", lt->t->name, detail);
	lt->t = NULL;
	timer_arm(&lt->lab->d->loop, &lt->later, 0, next_check);
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
		}
	}
}

static void write_junit(struct labtest *lt, const char *path, double total)
{
	FILE *f = fopen(path, "we");
	size_t i;
	json_t *r;

	if (!f)
		return;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"");
	xml_text(f, lt->lab->topo->lab);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" time=\"%.3f\">\n",
		lt->passed + lt->failed, lt->failed, total);
	json_array_foreach(lt->results, i, r) {
		fprintf(f, "  <testcase classname=\"");
		xml_text(f, lt->lab->topo->lab);
		fprintf(f, "\" name=\"");
		xml_text(f, json_string_value(json_object_get(r, "name")));
		fprintf(f, "\" time=\"%.3f\"", json_real_value(json_object_get(r, "seconds")));
		if (json_is_true(json_object_get(r, "ok"))) {
			fprintf(f, "/>\n");
			continue;
		}
		fprintf(f, ">\n    <failure message=\"");
		xml_text(f, json_string_value(json_object_get(r, "detail")));
		fprintf(f, "\"/>\n  </testcase>\n");
	}
	fprintf(f, "</testsuite>\n");
	fclose(f);
}

static void labtest_finish(struct labtest *lt)
{
	char path[PATH_MAX];
	double total = (double)(now_ns() - lt->t0) / 1e9;
	json_t *summary = json_pack("{s:s,s:i,s:i,s:f,s:O}", "lab", lt->lab->topo->lab,
				    "passed", (int)lt->passed, "failed", (int)lt->failed,
				    "seconds", total, "checks", lt->results);

	snprintf(path, sizeof(path), "%s/test-results.json", lt->lab->topo->dir);
	json_dump_file(summary, path, JSON_INDENT(2));
	snprintf(path, sizeof(path), "%s/junit.xml", lt->lab->topo->dir);
	write_junit(lt, path, total);
	json_object_set_new(summary, "junit", json_string(path));
	lt->lab->test = NULL;
	if (lt->c) {
		lt->c->stream = NULL;
		client_ok(lt->c, summary);
	} else {
		json_decref(summary);
	}
	json_decref(lt->results);
	loop_defer_free(&lt->lab->d->loop, lt, free);	/* holds watches */
}

/* --- running commands in nodes ----------------------------------------------------- */
static void judge(struct labtest *lt);

static void collect(struct session *s, bool is_stderr, const uint8_t *data, uint32_t len)
{
	struct labtest *lt = s->ctx;
	int i = s == lt->s[0] ? 0 : 1;
	size_t room = OUT_MAX - 1 - lt->outlen[i];

	(void)is_stderr;
	if (len > room)
		len = (uint32_t)room;
	memcpy(lt->out[i] + lt->outlen[i], data, len);
	lt->outlen[i] += len;
	lt->out[i][lt->outlen[i]] = '\0';
	if (lt->t && lt->t->kind == TOPO_TEST_SOURCE)
		judge(lt);	/* the listener may have said "listening" */
}

static void finished(struct session *s, int code, int sig)
{
	struct labtest *lt = s->ctx;
	int i = s == lt->s[0] ? 0 : 1;

	lt->code[i] = sig ? 128 + sig : code;
	lt->s[i] = NULL;
	judge(lt);
}

static const struct session_ops collect_ops = { collect, finished, NULL };

/* Run ARGV on node N as command I of this check; false (and the check failed) if not. */
static bool run_on(struct labtest *lt, int i, const struct topo_node *tn, char *const argv[])
{
	struct node *n = lab_node(lt->lab, tn->name);
	int argc = 0;

	while (argv[argc])
		argc++;
	lt->outlen[i] = 0;
	lt->out[i][0] = '\0';
	lt->code[i] = -1;
	if (!n || !n->agent || !agent_ready(n->agent)) {
		check_done(lt, false, "node %s does not answer (%s)", tn->name,
			   n ? node_state_name(n->state) : "no such node");
		return false;
	}
	lt->s[i] = agent_exec(n->agent, argc, argv, false, &collect_ops, lt);
	if (!lt->s[i]) {
		check_done(lt, false, "node %s: cannot run %s", tn->name, argv[0]);
		return false;
	}
	return true;
}

/* "10.1.0.1/24" -> "10.1.0.1" */
static const char *bare(const char *text, char *buf, size_t size)
{
	snprintf(buf, size, "%s", text);
	if (strchr(buf, '/'))
		*strchr(buf, '/') = '\0';
	return buf;
}

/* --- the kinds ---------------------------------------------------------------------- */
static void ping_start(struct labtest *lt)
{
	char count[16], wait[16], to[64];
	char *argv[] = { "ping", "-c", count, "-w", wait, (char *)bare(lt->t->to, to, sizeof(to)), NULL };

	snprintf(count, sizeof(count), "%u", lt->t->count ? lt->t->count : 3);
	snprintf(wait, sizeof(wait), "%llu", (unsigned long long)(lt->t->timeout_ns / 1000000000ull));
	run_on(lt, 0, lt->t->from, argv);
}

static void ping_judge(struct labtest *lt)
{
	unsigned int sent = 0, got = 0;
	const char *stats = strstr(lt->out[0], "packets transmitted");
	const char *rtt = strstr(lt->out[0], "round-trip");
	bool ok;

	if (stats) {
		while (stats > lt->out[0] && stats[-1] != '\n')
			stats--;
		sscanf(stats, "%u packets transmitted, %u packets received", &sent, &got);
	}
	ok = (got > 0) == lt->t->expect_ok;
	check_done(lt, ok, "%u/%u replies%s%.*s", got, sent, rtt ? ", " : "",
		   rtt ? (int)strcspn(rtt, "\n") : 0, rtt ? rtt : "");
}

static void route_start(struct labtest *lt)
{
	char to[64];
	char *argv[] = { "ip", "route", "get", (char *)bare(lt->t->to, to, sizeof(to)), NULL };

	run_on(lt, 0, lt->t->from, argv);
}

static void route_judge(struct labtest *lt)
{
	char via[64] = "", dev[32] = "", want[64] = "";
	const char *p;
	bool ok;

	if (lt->code[0]) {
		check_done(lt, !lt->t->expect_ok, "no route: %.200s", lt->out[0]);
		return;
	}
	if ((p = strstr(lt->out[0], " via ")))
		sscanf(p, " via %63s", via);
	if ((p = strstr(lt->out[0], " dev ")))
		sscanf(p, " dev %31s", dev);
	if (lt->t->via.family)
		bare(lt->t->via.text, want, sizeof(want));
	ok = !strcmp(via, want) && (!lt->t->dev[0] || !strcmp(dev, lt->t->dev));
	check_done(lt, ok == lt->t->expect_ok, "via %s dev %s", via[0] ? via : "(direct)", dev);
}

/* Which node has address A on one of its interfaces? */
static const struct topo_node *owner(const struct topo *t, const struct topo_addr *a)
{
	for (unsigned int i = 0; i < t->nnodes; i++)
		for (unsigned int k = 0; k < t->nodes[i].nifaces; k++)
			for (unsigned int j = 0; j < t->nodes[i].ifaces[k].naddrs; j++) {
				const struct topo_addr *x = &t->nodes[i].ifaces[k].addrs[j];

				if (x->family == a->family &&
				    !memcmp(x->bytes, a->bytes, a->family == AF_INET ? 4 : 16))
					return &t->nodes[i];
			}
	return NULL;
}

static void udp_event(struct watch *w, uint32_t events)
{
	struct labtest *lt = (struct labtest *)((char *)w - offsetof(struct labtest, udp));
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[64];

	(void)events;
	if (recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len) < 0)
		return;
	if (from.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, lt->seen, sizeof(lt->seen));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, lt->seen, sizeof(lt->seen));
	judge(lt);
}

/* A host end's address: we listen there ourselves. */
static bool listen_on_host(struct labtest *lt)
{
	const struct topo_addr *a = &lt->t->to_addr;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)lt->t->port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)lt->t->port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		len = sizeof(*sin6);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    loop_add(&lt->lab->d->loop, &lt->udp, fd, EPOLLIN, udp_event) < 0) {
		if (fd >= 0)
			close(fd);
		check_done(lt, false, "cannot listen on the host at %s port %u: %s", lt->t->to,
			   lt->t->port, strerror(errno));
		return false;
	}
	return true;
}

static void source_send(struct labtest *lt)
{
	char to[64], port[16];
	char *argv[] = { AGENT, "probe", "udp-send", (char *)bare(lt->t->to, to, sizeof(to)), port,
			 "20", NULL };

	snprintf(port, sizeof(port), "%u", lt->t->port);
	run_on(lt, 1, lt->t->from, argv);
}

static void source_start(struct labtest *lt)
{
	const struct topo_node *dest = owner(lt->lab->topo, &lt->t->to_addr);
	char port[16], secs[16];
	char *argv[] = { AGENT, "probe", "udp-recv", port, secs, NULL };

	lt->seen[0] = '\0';
	snprintf(port, sizeof(port), "%u", lt->t->port);
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(lt->t->timeout_ns / 1000000000ull));
	if (!dest) {
		if (listen_on_host(lt))
			source_send(lt);
		return;
	}
	/* The listener says "listening" once bound; the sender starts then (judge). */
	run_on(lt, 0, dest, argv);
}

static void source_judge(struct labtest *lt)
{
	char want[64];

	if (lt->udp.fd >= 0 && !lt->seen[0])
		return;		/* our listener on the host has heard nothing yet */
	if (lt->udp.fd < 0) {
		if (!lt->attempts && strstr(lt->out[0], "listening")) {
			lt->attempts = 1;
			source_send(lt);	/* the node's listener is ready */
			return;
		}
		if (lt->s[0])
			return;		/* it listens on */
		if (strstr(lt->out[0], "from "))
			sscanf(strstr(lt->out[0], "from "), "from %63s", lt->seen);
	}
	if (!lt->seen[0]) {
		check_done(lt, false, "nothing arrived at %s: %.200s%.200s", lt->t->to, lt->out[0],
			   lt->out[1]);
		return;
	}
	bare(lt->t->seen.text, want, sizeof(want));
	check_done(lt, !strcmp(want, lt->seen), "arrived from %s", lt->seen);
}

static void connect_start(struct labtest *lt)
{
	char to[64], port[16], secs[16];
	char *argv[] = { AGENT, "probe", "tcp-connect", (char *)bare(lt->t->to, to, sizeof(to)), port,
			 secs, NULL };

	snprintf(port, sizeof(port), "%u", lt->t->port);
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(lt->t->timeout_ns / 1000000000ull));
	run_on(lt, 0, lt->t->from, argv);
}

static void connect_judge(struct labtest *lt)
{
	char *nl = strchr(lt->out[0], '\n');

	if (nl)
		*nl = '\0';
	check_done(lt, (lt->code[0] == 0) == lt->t->expect_ok, "%s",
		   lt->out[0][0] ? lt->out[0] : (lt->code[0] ? "failed" : "connected"));
}

static void exec_start(struct labtest *lt)
{
	char *argv[] = { "bash", "-c", lt->t->run, NULL };

	run_on(lt, 0, lt->t->from, argv);
}

static void exec_judge(struct labtest *lt)
{
	bool matched = true;
	regex_t re;

	if (lt->t->output) {
		matched = false;
		if (regcomp(&re, lt->t->output, REG_EXTENDED | REG_NOSUB) == 0) {
			matched = regexec(&re, lt->out[0], 0, NULL, 0) == 0;
			regfree(&re);
		}
	}
	bool ok = (lt->code[0] == 0 && matched) == lt->t->expect_ok;

	/* A failure shows what the command said (its first line). */
	check_done(lt, ok, "exit %d%s%s%s%.*s", lt->code[0],
		   lt->t->output && !matched ? ", output did not match " : "",
		   lt->t->output && !matched ? lt->t->output : "", ok ? "" : ": ",
		   ok ? 0 : (int)strcspn(lt->out[0], "\n"), lt->out[0]);
}

/* capture: tshark over the file, again until it shows the frames or the deadline */
static const char *capture_file(const struct labtest *lt)
{
	return lt->t->capture_switch ? lt->t->capture_switch->capture.file
				     : lt->t->capture_link->capture.file;
}

static void tshark_done(struct proc *p);

static void tshark_run(struct timer *t)
{
	struct labtest *lt = (struct labtest *)((char *)t - offsetof(struct labtest, later));
	char out[PATH_MAX];
	char *argv[] = { "/usr/bin/tshark", "-n", "-r", (char *)capture_file(lt), "-Y", lt->t->filter,
			 "-T", "fields", "-e", "frame.number", NULL };
	struct proc_spec spec = { .argv = argv, .in = -1 };
	char err[ERR_MAX];
	int fd;

	bprintf(out, sizeof(out), "%s/image/tshark.out", lt->lab->plan->run);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	spec.out = spec.err = fd;
	lt->tshark.role = "tshark";
	snprintf(lt->tshark.name, sizeof(lt->tshark.name), "test %u", lt->next);
	lt->tshark.on_exit = tshark_done;
	if (fd < 0 || proc_start(&lt->lab->d->loop, NULL, &lt->tshark, &spec, err, sizeof(err)) < 0)
		check_done(lt, false, "tshark: %s", fd < 0 ? strerror(errno) : err);
	if (fd >= 0)
		close(fd);
}

static void tshark_done(struct proc *p)
{
	struct labtest *lt = (struct labtest *)((char *)p - offsetof(struct labtest, tshark));
	char path[PATH_MAX];
	unsigned int frames = 0, want = lt->t->count ? lt->t->count : 1;
	FILE *f;
	char line[512];

	bprintf(path, sizeof(path), "%s/image/tshark.out", lt->lab->plan->run);
	f = fopen(path, "re");
	lt->tshark_out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] >= '0' && line[0] <= '9')
			frames++;
		else if (!lt->tshark_out[0])
			snprintf(lt->tshark_out, sizeof(lt->tshark_out), "%s", line);
	}
	if (f)
		fclose(f);
	/* 2: the file ends in the middle of a record (the switch is writing it):
	 * tshark still read what came before. */
	if (!WIFEXITED(p->status) || (WEXITSTATUS(p->status) && WEXITSTATUS(p->status) != 2)) {
		check_done(lt, false, "tshark failed: %.300s", lt->tshark_out);
		return;
	}
	if (lt->t->expect_ok && frames < want) {
		timer_arm(&lt->lab->d->loop, &lt->later, CAPTURE_RETRY_MS, tshark_run);
		snprintf(lt->seen, sizeof(lt->seen), "%u", frames);
		return;
	}
	check_done(lt, (frames >= want) == lt->t->expect_ok, "%u matching frame%s", frames,
		   frames == 1 ? "" : "s");
}

static void capture_start(struct labtest *lt)
{
	/* A frame the check waits for may still be in the switch's ring; "none"
	 * is only known once the switch has flushed. */
	timer_arm(&lt->lab->d->loop, &lt->later, lt->t->expect_ok ? 0 : CAPTURE_SETTLE_MS, tshark_run);
}

static void capture_judge(struct labtest *lt)
{
	(void)lt;	/* tshark_done judges */
}

static const struct {
	void (*start)(struct labtest *lt);
	void (*judge)(struct labtest *lt);
} kinds[] = {
	[TOPO_TEST_PING] = { ping_start, ping_judge },
	[TOPO_TEST_ROUTE] = { route_start, route_judge },
	[TOPO_TEST_SOURCE] = { source_start, source_judge },
	[TOPO_TEST_CONNECT] = { connect_start, connect_judge },
	[TOPO_TEST_CAPTURE] = { capture_start, capture_judge },
	[TOPO_TEST_EXEC] = { exec_start, exec_judge },
};

/* Something came back: is the check decided?  (Sessions still running: no.) */
static void judge(struct labtest *lt)
{
	if (!lt->t)
		return;
	if (lt->t->kind == TOPO_TEST_SOURCE) {
		source_judge(lt);
		return;
	}
	if (lt->s[0] || lt->s[1])
		return;
	kinds[lt->t->kind].judge(lt);
}

static void deadline(struct timer *t)
{
	struct labtest *lt = (struct labtest *)((char *)t - offsetof(struct labtest, deadline));

	if (lt->t->kind == TOPO_TEST_CAPTURE && lt->t->expect_ok)
		check_done(lt, false, "only %s matching frames after %.0f s", lt->seen[0] ? lt->seen : "0",
			   (double)lt->t->timeout_ns / 1e9);
	else
		check_done(lt, !lt->t->expect_ok && lt->t->kind != TOPO_TEST_EXEC,
			   "no answer in %.0f s", (double)lt->t->timeout_ns / 1e9);
}

static void check_next(struct labtest *lt)
{
	if (lt->next >= lt->lab->topo->ntests || !lt->lab->test) {
		labtest_finish(lt);
		return;
	}
	lt->t = &lt->lab->topo->tests[lt->next++];
	lt->check_t0 = now_ns();
	lt->attempts = 0;
	lt->seen[0] = '\0';
	lt->code[0] = lt->code[1] = -1;
	lt->udp.fd = -1;
	/* The deadline: the check's timeout, and a little for the commands' start. */
	timer_arm(&lt->lab->d->loop, &lt->deadline, lt->t->timeout_ns / 1000000ull + 2000, deadline);
	kinds[lt->t->kind].start(lt);
}

static void test_client_gone(struct client *c)
{
	struct labtest *lt = c->stream_ctx;

	lt->c = NULL;	/* the checks go on; the results still go to the lab directory */
}

static const struct client_stream_ops test_client_ops = { NULL, test_client_gone };

void verb_test(struct client *c, json_t *req)
{
	struct lab *lab = verb_pick_lab(c, req);
	struct labtest *lt;

	if (!lab)
		return;
	if (lab->state != LAB_UP) {
		client_error(c, "lab %s is not up (it is %s)", lab->topo->lab,
			     lab->state == LAB_STARTING ? "starting" : "going down");
		return;
	}
	if (lab->test) {
		client_error(c, "lab %s is being tested already", lab->topo->lab);
		return;
	}
	lt = calloc(1, sizeof(*lt));
	if (!lt || !(lt->results = json_array())) {
		free(lt);
		client_error(c, "out of memory");
		return;
	}
	lt->lab = lab;
	lt->c = c;
	lt->t0 = now_ns();
	lt->udp.fd = -1;
	lt->tshark.w.fd = -1;
	lab->test = lt;
	c->stream = &test_client_ops;
	c->stream_ctx = lt;
	lab_event(lab, "testing: %u check%s", lab->topo->ntests, lab->topo->ntests == 1 ? "" : "s");
	check_next(lt);
}

/* The lab goes down: a test in progress ends, its client told so. */
void labtest_abort(struct lab *lab)
{
	struct labtest *lt = lab->test;

	if (!lt)
		return;
	stop_sessions(lt);
	lab->test = NULL;
	if (lt->c) {
		lt->c->stream = NULL;
		client_error(lt->c, "lab %s went down during the tests", lab->topo->lab);
	}
	json_decref(lt->results);
	loop_defer_free(&lab->d->loop, lt, free);	/* holds watches */
}
