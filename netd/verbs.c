/*
 * verbs.c: what a client can ask the daemon, in one table.
 *
 * Each request names its verb; the verb's function checks the request's
 * fields (a client is root, but its request is still checked like any
 * input), finds the lab and the node or link it is about, and either
 * answers at once (status, link set, down of a lab nobody holds) or hands
 * the connection to whatever will answer later (up, down, test) or turn it
 * into a stream (exec, console, capture).
 *
 * Most verbs take an optional "lab": without it, the one lab that is up is
 * meant, and with none or several up the client is told which exist.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"

#define EXEC_ARGS_MAX 256

/* --- finding what a request is about ---------------------------------------------- */
static const char *str_field(json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct lab *verb_pick_lab(struct client *c, json_t *req)
{
	const char *name = str_field(req, "lab");
	struct netd *d = c->d;
	char names[1024] = "";
	unsigned int n = 0;

	if (name) {
		struct lab *lab = lab_find(d, name);

		if (!lab)
			client_error(c, "no lab %s is up", name);
		return lab;
	}
	for (struct lab *l = d->labs; l; l = l->next, n++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 n ? ", " : "", l->topo->lab);
	if (n == 1)
		return d->labs;
	if (n == 0)
		client_error(c, "no lab is up");
	else
		client_error(c, "which lab? (--lab NAME; up: %s)", names);
	return NULL;
}

struct node *verb_pick_node(struct client *c, struct lab *lab, json_t *req, bool need_agent)
{
	const char *name = str_field(req, "node");
	struct node *n;

	if (!name) {
		client_error(c, "which node?");
		return NULL;
	}
	n = lab_node(lab, name);
	if (!n) {
		client_error(c, "lab %s has no node %s", lab->topo->lab, name);
		return NULL;
	}
	if (need_agent && (!n->agent || !agent_ready(n->agent))) {
		client_error(c, "node %s is %s%s%s: its agent does not answer", name,
			     node_state_name(n->state), n->why[0] ? ": " : "", n->why);
		return NULL;
	}
	return n;
}

/* --- up, down, status, topology ------------------------------------------------------- */
static void verb_up(struct client *c, json_t *req)
{
	if (c->d->stopping) {
		client_error(c, "lguest-netd is stopping: no new lab");
		return;
	}
	const char *file = str_field(req, "file"), *text = str_field(req, "text");
	struct topo_errors errs = { 0 };
	struct topo *topo;

	if (!file || !text) {
		client_error(c, "up: the request needs \"file\" and \"text\"");
		return;
	}
	topo = topo_parse(file, text, strlen(text), &errs);
	if (!topo) {
		char *msg = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&msg, &len);

		if (f) {
			topo_errors_print(&errs, f);
			fclose(f);
		}
		client_error(c, "%s", msg ? msg : "the topology has errors");
		free(msg);
		return;
	}
	lab_up(c->d, topo, text, c,
	       json_is_true(json_object_get(req, "dry_run")) ? UP_DRY_RUN
	       : json_is_true(json_object_get(req, "plumb_only")) ? UP_PLUMB_ONLY : UP_WHOLE);
}

static void verb_down(struct client *c, json_t *req)
{
	const char *name = str_field(req, "lab");
	char err[ERR_MAX];
	struct lab *lab;

	if (!name) {
		client_error(c, "down: which lab?");
		return;
	}
	lab = lab_find(c->d, name);
	if (lab) {
		lab_down(lab, c);
		return;
	}
	if (lab_down_orphan(c->d, name, err, sizeof(err)) < 0)
		client_error(c, "%s", err);
	else
		client_ok(c, json_pack("{s:s,s:b}", "lab", name, "orphan", 1));
}

/* Labs in the run directory that no lab of ours holds: a daemon died. */
static json_t *orphans(struct netd *d)
{
	json_t *list = json_array();
	DIR *dir = opendir(d->run_root);
	struct dirent *e;
	char path[PATH_MAX];

	while (dir && (e = readdir(dir))) {
		bprintf(path, sizeof(path), "%s/%s/journal", d->run_root, e->d_name);
		if (e->d_name[0] != '.' && !lab_find(d, e->d_name) && access(path, F_OK) == 0)
			json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "name", e->d_name,
							      "state", "orphaned", "why",
							      "its daemon died: lguest-net down cleans it up"));
	}
	if (dir)
		closedir(dir);
	return list;
}

static void verb_status(struct client *c, json_t *req)
{
	const char *name = str_field(req, "lab");
	json_t *labs = json_array();

	for (struct lab *l = c->d->labs; l; l = l->next)
		if (!name || !strcmp(name, l->topo->lab))
			json_array_append_new(labs, lab_status(l));
	if (!name)
		json_array_extend(labs, orphans(c->d));
	else if (!json_array_size(labs)) {
		json_decref(labs);
		client_error(c, "no lab %s is up", name);
		return;
	}
	client_ok(c, json_pack("{s:o}", "labs", labs));
}

static void verb_topology(struct client *c, json_t *req)
{
	struct lab *lab = verb_pick_lab(c, req);

	if (lab)
		client_ok(c, json_pack("{s:s,s:s}", "file", lab->topo->file, "text",
				       lab->text ? lab->text : ""));
}

/* --- exec: a command in a guest, its output to the client ------------------------------ */
static void exec_output(struct session *s, bool is_stderr, const uint8_t *data, uint32_t len)
{
	struct client *c = s->ctx;

	client_frame(c, is_stderr ? PF_STDERR : PF_STDOUT, data, len);
}

static void exec_exit(struct session *s, int code, int sig)
{
	struct client *c = s->ctx;
	int32_t status[2] = { code, sig };

	c->stream = NULL;	/* the session is over: the client's going is no news */
	client_frame(c, PF_EXIT, status, sizeof(status));
	client_end(c);
}

static size_t exec_backlog(struct session *s)
{
	return client_backlog(s->ctx);
}

static const struct session_ops exec_session_ops = { exec_output, exec_exit, exec_backlog };

static void exec_input(struct client *c, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct session *s = c->stream_ctx;
	uint32_t sig;

	switch (type) {
	case PF_INPUT:
		if (len)
			session_input(s, data, len);
		break;
	case PF_INPUT_EOF:
		session_input(s, NULL, 0);
		break;
	case PF_SIGNAL:
		if (len == sizeof(sig)) {
			memcpy(&sig, data, sizeof(sig));
			if (sig > 0 && sig < 65)
				session_signal(s, (int)sig);
		}
		break;
	}
}

static void exec_gone(struct client *c)
{
	session_abandon(c->stream_ctx);
}

static const struct client_stream_ops exec_stream_ops = { exec_input, exec_gone };

static void verb_exec(struct client *c, json_t *req)
{
	json_t *args = json_object_get(req, "argv");
	char *argv[EXEC_ARGS_MAX + 1];
	struct session *s;
	struct node *n;
	struct lab *lab;
	size_t i, argc = json_array_size(args);

	if (!json_is_array(args) || !argc || argc > EXEC_ARGS_MAX) {
		client_error(c, "exec: \"argv\" must be 1 to %d strings", EXEC_ARGS_MAX);
		return;
	}
	for (i = 0; i < argc; i++) {
		json_t *a = json_array_get(args, i);

		if (!json_is_string(a)) {
			client_error(c, "exec: argument %zu is not a string", i + 1);
			return;
		}
		argv[i] = (char *)json_string_value(a);
	}
	argv[argc] = NULL;
	if (!(lab = verb_pick_lab(c, req)) || !(n = verb_pick_node(c, lab, req, true)))
		return;
	s = agent_exec(n->agent, (int)argc, argv, json_is_true(json_object_get(req, "stdin")),
		       &exec_session_ops, c);
	if (!s) {
		client_error(c, "node %s: cannot start a command (too many at once?)", n->t->name);
		return;
	}
	client_start_stream(c, &exec_stream_ops, s);
}

/* --- console: the guest's serial console, both ways ----------------------------------- */
static void console_input(struct client *c, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct node *n = c->stream_ctx;
	uint16_t rc[2];

	if (type == PF_INPUT)
		node_console_input(n, data, len);
	else if (type == PF_RESIZE && len == sizeof(rc)) {
		memcpy(rc, data, sizeof(rc));
		node_console_resize(n, rc[0], rc[1]);
	}
}

static void console_gone(struct client *c)
{
	struct node *n = c->stream_ctx;

	for (struct client **pp = &n->consoles; *pp; pp = &(*pp)->next_of_target)
		if (*pp == c) {
			*pp = c->next_of_target;
			break;
		}
}

static const struct client_stream_ops console_ops = { console_input, console_gone };

static void verb_console(struct client *c, json_t *req)
{
	struct lab *lab = verb_pick_lab(c, req);
	struct node *n = lab ? verb_pick_node(c, lab, req, false) : NULL;
	json_int_t rows = json_integer_value(json_object_get(req, "rows"));
	json_int_t cols = json_integer_value(json_object_get(req, "cols"));

	if (!n)
		return;
	if (n->console.fd < 0) {
		client_error(c, "node %s has no console: it is %s", n->t->name,
			     node_state_name(n->state));
		return;
	}
	/* In the node's list first: if the client is gone at once, its gone()
	 * takes it out again. */
	c->next_of_target = n->consoles;
	n->consoles = c;
	client_start_stream(c, &console_ops, n);
	if (c->dead)
		return;
	if (rows > 0 && cols > 0)
		node_console_resize(n, (unsigned int)rows, (unsigned int)cols);
}

/* --- link set: impairments and state, at run time ------------------------------------ */
static const char *const impair_keys[] = { "delay", "jitter", "loss", "rate", NULL };

/* A value the switch will parse: digits, letters, '.' and '%' only (no word
 * separators: a value cannot smuggle in another word). */
static bool value_ok(const char *v)
{
	if (!*v || strlen(v) > 32)
		return false;
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') ||
		      (*v >= 'A' && *v <= 'Z') || *v == '.' || *v == '%'))
			return false;
	return true;
}

/* "delay=50ms loss=1%" from the request's settings, each checked. */
static int impair_words(struct client *c, json_t *settings, char *out, size_t size)
{
	const char *key;
	json_t *v;

	out[0] = '\0';
	json_object_foreach(settings, key, v) {
		size_t k;

		for (k = 0; impair_keys[k] && strcmp(impair_keys[k], key); k++)
			;
		if (!impair_keys[k] || !json_is_string(v) || !value_ok(json_string_value(v))) {
			client_error(c, impair_keys[k] ? "link set: %s: a value like 50ms, 1%%, 8mbit"
					 : "link set: %s is not an impairment (delay, jitter, loss, rate)", key);
			return -1;
		}
		snprintf(out + strlen(out), size - strlen(out), " %s=%s", key, json_string_value(v));
	}
	return 0;
}

static void verb_link_set(struct client *c, json_t *req)
{
	struct lab *lab = verb_pick_lab(c, req);
	const char *name = str_field(req, "link"), *dir = str_field(req, "direction");
	const char *state = str_field(req, "state");
	json_t *settings = json_object_get(req, "settings");
	const struct plan_switch *ps;
	const struct plan_port *pp;
	const struct topo_link *l;
	char words[512], cmd[1024], err[ERR_MAX], *out = NULL;
	bool egress, ingress;

	if (!lab)
		return;
	if (!name || !(l = topo_link(lab->topo, name)) || !plan_link_port(lab->plan, l, &ps, &pp)) {
		client_error(c, "lab %s has no link %s", lab->topo->lab, name ? name : "(none given)");
		return;
	}
	dir = dir ? dir : "both";
	egress = !strcmp(dir, "both") || !strcmp(dir, "egress");
	ingress = !strcmp(dir, "both") || !strcmp(dir, "ingress");
	if (!egress && !ingress) {
		client_error(c, "link set: direction %s: egress, ingress or both", dir);
		return;
	}
	if (settings && (!json_is_object(settings) || impair_words(c, settings, words, sizeof(words))))
		return;
	if (state && strcmp(state, "up") && strcmp(state, "down")) {
		client_error(c, "link set: state %s: up or down", state);
		return;
	}
	for (int pass = 0; settings && pass < 2; pass++) {
		bool this_egress = pass == 0;

		if (this_egress ? !egress : !ingress)
			continue;
		snprintf(cmd, sizeof(cmd), "impair %s %s%s", pp->name,
			 this_egress == pp->egress_is_in ? "in" : "out", words);
		if (sw_ctl(ps, cmd, &out, err, sizeof(err)) < 0) {
			client_error(c, "link %s: %s", l->name, err);
			return;
		}
		free(out);
	}
	if (state) {
		snprintf(cmd, sizeof(cmd), "port set %s %s", pp->name, state);
		if (sw_ctl(ps, cmd, &out, err, sizeof(err)) < 0) {
			client_error(c, "link %s: %s", l->name, err);
			return;
		}
		free(out);
	}
	lab_event(lab, "link %s set:%s%s%s (%s)", l->name, settings ? words : "",
		  state ? " " : "", state ? state : "", dir);
	client_ok(c, json_pack("{s:s}", "link", l->name));
}

/* --- the table ------------------------------------------------------------------------ */
struct verb {
	const char *name;
	void (*fn)(struct client *c, json_t *req);
};

static const struct verb verbs[] = {
	{ "up", verb_up },
	{ "down", verb_down },
	{ "status", verb_status },
	{ "topology", verb_topology },
	{ "exec", verb_exec },
	{ "console", verb_console },
	{ "capture", verb_capture },
	{ "link-set", verb_link_set },
	{ "test", verb_test },
};

void verb_dispatch(struct client *c, json_t *req)
{
	const char *name = str_field(req, "verb");

	for (size_t i = 0; name && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name)) {
			verbs[i].fn(c, req);
			return;
		}
	client_error(c, "unknown verb %s", name ? name : "(none)");
}
