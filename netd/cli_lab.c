/*
 * cli_lab.c: lguest-net's commands for whole labs: validate, up, down,
 * status and test.
 *
 * validate reads the files itself (it needs no daemon); the others send the
 * daemon a request and print its answer: as tables for people, or as the
 * daemon's JSON with -j.  `up` prints the daemon's progress as it comes (one
 * line per event: a switch ready, a node booted in N s, ready in N s), then
 * the table of nodes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "topo.h"

/* --- validate ------------------------------------------------------------------------ */
int cmd_validate(struct cli *cli)
{
	json_t *all = json_array();
	int bad = 0;

	if (!cli->argc)
		cli_die("validate: which file?");
	for (int i = 0; i < cli->argc; i++) {
		struct topo_errors errs = { 0 };
		struct topo *t = topo_load(cli->argv[i], &errs);

		if (!t) {
			bad++;
			if (!cli->json)
				topo_errors_print(&errs, stderr);
			json_t *list = json_array();

			for (unsigned int k = 0; k < errs.n; k++)
				json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "file",
								      errs.e[k].file, "line", errs.e[k].line,
								      "column", errs.e[k].col, "message",
								      errs.e[k].msg));
			json_array_append_new(all, json_pack("{s:s,s:b,s:o}", "file", cli->argv[i],
							     "ok", 0, "errors", list));
			continue;
		}
		if (!cli->json)
			printf("%s: lab %s is valid: %u node%s, %u switch%s, %u link%s, %u test%s\n",
			       cli->argv[i], t->lab, t->nnodes, t->nnodes == 1 ? "" : "s", t->nswitches,
			       t->nswitches == 1 ? "" : "es", t->nlinks, t->nlinks == 1 ? "" : "s",
			       t->ntests, t->ntests == 1 ? "" : "s");
		json_array_append_new(all, json_pack("{s:s,s:b,s:s}", "file", cli->argv[i], "ok", 1,
						     "lab", t->lab));
		topo_free(t);
	}
	if (cli->json)
		cli_print_json(all);
	json_decref(all);
	return bad ? 1 : 0;
}

/* --- tables ------------------------------------------------------------------------ */
static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void seconds(char *buf, size_t size, json_t *o, const char *key)
{
	double s = json_real_value(json_object_get(o, key));

	if (s >= 0 && json_object_get(o, key))
		snprintf(buf, size, "%.1f s", s);
	else
		snprintf(buf, size, "-");
}

static void print_interfaces(json_t *node)
{
	json_t *ifaces = json_object_get(node, "interfaces"), *i;
	size_t k;

	json_array_foreach(ifaces, k, i) {
		json_t *addrs = json_object_get(i, "addresses"), *a;
		size_t j;

		printf("%s%s", k ? ", " : "", str(i, "name"));
		json_array_foreach(addrs, j, a)
			printf(" %s", json_string_value(a));
		if (!json_array_size(addrs))
			printf(" (%s)", str(i, "link"));
	}
}

static void print_nodes(json_t *lab)
{
	json_t *nodes = json_object_get(lab, "nodes"), *n;
	size_t i;

	printf("%-12s %-8s %-8s %-8s %s\n", "NODE", "STATE", "BOOTED", "READY", "INTERFACES");
	json_array_foreach(nodes, i, n) {
		char boot[32], ready[32];

		seconds(boot, sizeof(boot), n, "boot_seconds");
		seconds(ready, sizeof(ready), n, "ready_seconds");
		printf("%-12s %-8s %-8s %-8s ", str(n, "name"), str(n, "state"), boot, ready);
		print_interfaces(n);
		putchar('\n');
		if (*str(n, "why") && strcmp(str(n, "state"), "ready"))
			printf("%12s %s\n", "", str(n, "why"));
	}
}

static void print_switches(json_t *lab)
{
	json_t *sws = json_object_get(lab, "switches"), *s, *links = json_object_get(lab, "links"), *l;
	size_t i;

	printf("%-16s %-8s %s\n", "SWITCH", "STATE", "PORTS");
	json_array_foreach(sws, i, s) {
		json_t *ports = json_object_get(s, "ports"), *p;
		size_t k;

		if (json_is_true(json_object_get(s, "wire")))
			continue;
		printf("%-16s %-8s", str(s, "name"), str(s, "state"));
		json_array_foreach(ports, k, p)
			printf(" %s", str(p, "name"));
		if (*str(s, "capture"))
			printf("  (captured: %s)", str(s, "capture"));
		putchar('\n');
	}
	printf("%-16s %s\n", "LINK", "ENDS");
	json_array_foreach(links, i, l) {
		json_t *ends = json_object_get(l, "ends");

		printf("%-16s %s - %s", str(l, "name"), json_string_value(json_array_get(ends, 0)),
		       json_string_value(json_array_get(ends, 1)));
		if (json_array_size(json_object_get(l, "host")))
			printf(" (host %s%s)", json_string_value(json_array_get(json_object_get(l, "host"), 0)),
			       json_is_true(json_object_get(l, "nat")) ? ", nat" : "");
		if (*str(l, "capture"))
			printf("  (captured: %s)", str(l, "capture"));
		putchar('\n');
	}
}

static void print_lab(json_t *lab, bool details)
{
	double up = json_real_value(json_object_get(lab, "up_seconds"));

	printf("lab %s: %s", str(lab, "name"), str(lab, "state"));
	if (up > 0)
		printf(" (up in %.1f s)", up);
	if (*str(lab, "dir"))
		printf(", directory %s", str(lab, "dir"));
	putchar('\n');
	if (*str(lab, "why"))
		printf("  %s\n", str(lab, "why"));
	if (!json_object_get(lab, "nodes"))
		return;
	print_nodes(lab);
	if (details)
		print_switches(lab);
}

/* --- up -------------------------------------------------------------------------------- */
static void show_progress(json_t *p, void *ctx)
{
	const char *lab = ctx;

	if (json_is_string(json_object_get(p, "message")))
		fprintf(stderr, "%s: %s\n", lab, json_string_value(json_object_get(p, "message")));
}

/* Up FILE; its result (the lab's status), or NULL after printing the error. */
static json_t *bring_up(const char *file, bool dry_run, bool plumb_only)
{
	char path[PATH_MAX], lab[64];
	struct proto_buf buf;
	size_t len;
	char *text;
	json_t *r;
	int fd;

	if (!realpath(file, path))
		cli_die("%s: %s", file, strerror(errno));
	cli_lab_of(path, lab, sizeof(lab));
	text = cli_read_file(path, &len);
	if (strlen(text) != len)
		cli_die("%s: not a text file (it holds a NUL byte)", file);
	fd = cli_request(json_pack("{s:s,s:s,s:s,s:b,s:b}", "verb", "up", "file", path, "text", text,
				   "dry_run", dry_run, "plumb_only", plumb_only), &buf);
	free(text);
	r = cli_answer(fd, &buf, show_progress, lab);
	close(fd);
	buf_free(&buf);
	return r;
}

int cmd_up(struct cli *cli)
{
	const char *file = NULL;
	bool dry_run = false, plumb_only = false;
	json_t *r;

	for (int i = 0; i < cli->argc; i++) {
		if (!strcmp(cli->argv[i], "--dry-run") || !strcmp(cli->argv[i], "-n"))
			dry_run = true;
		else if (!strcmp(cli->argv[i], "--plumb-only"))
			plumb_only = true;
		else if (!file)
			file = cli->argv[i];
		else
			cli_die("up: one topology file at a time ('%s' is one too many)", cli->argv[i]);
	}
	if (!file)
		cli_die("up: which topology file?");
	r = bring_up(file, dry_run, plumb_only);
	if (!r)
		return 1;
	if (cli->json)
		cli_print_json(r);
	else if (dry_run)
		fputs(json_string_value(json_object_get(r, "plan")), stdout);
	else
		print_lab(r, false);
	json_decref(r);
	return 0;
}

/* --- down, status ---------------------------------------------------------------------- */
static int take_down(const char *lab, bool quiet)
{
	json_t *r = cli_call(json_pack("{s:s,s:s}", "verb", "down", "lab", lab));

	if (!r)
		return 1;
	if (!quiet)
		printf("lab %s is down%s\n", lab,
		       json_is_true(json_object_get(r, "orphan")) ? " (what its dead daemon left is undone)" : "");
	json_decref(r);
	return 0;
}

int cmd_down(struct cli *cli)
{
	char lab[64];

	if (cli->argc != 1)
		cli_die("down: one lab, by its topology file or its name");
	cli_lab_of(cli->argv[0], lab, sizeof(lab));
	return take_down(lab, cli->json);
}

int cmd_status(struct cli *cli)
{
	json_t *req = json_pack("{s:s}", "verb", "status"), *r, *labs, *lab;
	size_t i;

	if (cli->argc > 1)
		cli_die("status: at most one lab");
	if (cli->argc)
		json_object_set_new(req, "lab", json_string(cli->argv[0]));
	r = cli_call(req);
	if (!r)
		return 1;
	labs = json_object_get(r, "labs");
	if (cli->json)
		cli_print_json(labs);
	else if (!json_array_size(labs))
		printf("no lab is up\n");
	json_array_foreach(labs, i, lab)
		if (!cli->json) {
			if (i)
				putchar('\n');
			print_lab(lab, true);
		}
	json_decref(r);
	return 0;
}

/* --- test ------------------------------------------------------------------------------ */
struct test_ctx {
	bool json;
};

static void show_check(json_t *p, void *ctx)
{
	json_t *c = json_object_get(p, "check");
	struct test_ctx *t = ctx;

	if (!c) {
		if (!t->json && json_is_string(json_object_get(p, "message")))
			fprintf(stderr, "%s\n", json_string_value(json_object_get(p, "message")));
		return;
	}
	if (t->json)
		return;
	printf("%s %d - %s: %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "not ok",
	       (int)json_integer_value(json_object_get(c, "number")), str(c, "name"), str(c, "detail"));
	fflush(stdout);
}

static int run_tests(struct cli *cli, const char *lab)
{
	struct test_ctx ctx = { cli->json };
	struct proto_buf buf;
	json_t *r;
	int fd, failed;

	fd = cli_request(json_pack("{s:s,s:s}", "verb", "test", "lab", lab), &buf);
	r = cli_answer(fd, &buf, show_check, &ctx);
	close(fd);
	buf_free(&buf);
	if (!r)
		return 1;
	failed = (int)json_integer_value(json_object_get(r, "failed"));
	if (cli->json)
		cli_print_json(r);
	else
		printf("%s: %d passed, %d failed (%s)\n", lab,
		       (int)json_integer_value(json_object_get(r, "passed")), failed, str(r, "junit"));
	json_decref(r);
	return failed ? 1 : 0;
}

static bool lab_is_up(const char *lab)
{
	json_t *r, *labs;
	bool up = false;
	size_t i;
	json_t *l;

	r = cli_call(json_pack("{s:s}", "verb", "status"));
	labs = r ? json_object_get(r, "labs") : NULL;
	json_array_foreach(labs, i, l)
		if (!strcmp(str(l, "name"), lab) && !strcmp(str(l, "state"), "up"))
			up = true;
	json_decref(r);
	return up;
}

int cmd_test(struct cli *cli)
{
	const char *arg = NULL;
	bool keep = false, file;
	char lab[64];
	json_t *r;
	int rc;

	for (int i = 0; i < cli->argc; i++) {
		if (!strcmp(cli->argv[i], "--keep"))
			keep = true;
		else if (!arg)
			arg = cli->argv[i];
		else
			cli_die("test: one lab at a time");
	}
	if (!arg)
		cli_die("test: which lab (its topology file or its name)?");
	file = cli_lab_of(arg, lab, sizeof(lab));
	if (!file || lab_is_up(lab))
		return run_tests(cli, lab);
	/* A file whose lab is not up: up, test, down (unless --keep). */
	r = bring_up(arg, false, false);
	if (!r)
		return 1;
	json_decref(r);
	rc = run_tests(cli, lab);
	if (!keep && take_down(lab, true))
		rc = 1;
	return rc;
}
