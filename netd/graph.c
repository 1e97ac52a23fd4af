/*
 * graph.c: `lguest-net graph`: the lab as a picture.
 *
 * The picture is made from the topology alone, so it works for a file
 * before the lab is up and for a lab that is up (its topology comes from
 * the daemon).  It is DOT, for graphviz: nodes are boxes labelled with their
 * interfaces and addresses, switches ellipses (an Open vSwitch one
 * doubled), the host and host bridges houses; each link is an edge labelled
 * with the interface names at its ends, its VLANs, MTU and impairments; a
 * captured switch or link is drawn bold and red, with its file's name.
 * `-o FILE.svg` (or .png, .pdf) runs dot(1) to draw it; `-o FILE.dot`, or no
 * -o, gives the DOT itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "topo.h"

/* S inside a DOT "string": quotes and backslashes escaped. */
static void dot_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void node_shape(FILE *f, const struct topo_node *n)
{
	fprintf(f, "  \"n:");
	dot_str(f, n->name);
	fprintf(f, "\" [shape=box, style=rounded, label=\"");
	dot_str(f, n->name);
	if (n->forward || n->forward6)
		fputs(" (router)", f);
	for (unsigned int i = 0; i < n->nifaces; i++) {
		fputs("\\n", f);
		dot_str(f, n->ifaces[i].name);
		for (unsigned int k = 0; k < n->ifaces[i].naddrs; k++) {
			fputc(' ', f);
			dot_str(f, n->ifaces[i].addrs[k].text);
		}
	}
	fprintf(f, "\"];\n");
}

static void capture_style(FILE *f, const struct topo_capture *c)
{
	if (!c->on)
		return;
	fprintf(f, ", color=red, penwidth=2, fontcolor=red, xlabel=\"pcap: ");
	dot_str(f, strrchr(c->file, '/') ? strrchr(c->file, '/') + 1 : c->file);
	fputc('"', f);
}

static void switch_shape(FILE *f, const struct topo_switch *s)
{
	fprintf(f, "  \"s:");
	dot_str(f, s->name);
	fprintf(f, "\" [shape=%s, label=\"", s->kind == TOPO_SWITCH_OVS ? "doublecircle" : "ellipse");
	dot_str(f, s->name);
	fprintf(f, "%s\"", s->kind == TOPO_SWITCH_OVS ? "\\n(Open vSwitch)" : s->hub ? "\\n(hub)" : "");
	capture_style(f, &s->capture);
	fprintf(f, "];\n");
}

/* The graph node an end is drawn as; host ends are one "host" per link. */
static void end_id(FILE *f, const struct topo_link *l, int e)
{
	const struct topo_end *end = &l->ends[e];

	switch (end->kind) {
	case TOPO_END_NODE:
		fputs("\"n:", f);
		dot_str(f, end->node->name);
		break;
	case TOPO_END_SWITCH:
		fputs("\"s:", f);
		dot_str(f, end->sw->name);
		break;
	case TOPO_END_HOST:
		fputs("\"host", f);
		break;
	case TOPO_END_BRIDGE:
		fputs("\"b:", f);
		dot_str(f, end->bridge);
		break;
	}
	fputc('"', f);
}

static void impair_text(FILE *f, const char *dir, const struct topo_impair *i)
{
	if (!i->delay_ns && !i->jitter_ns && !i->loss_ppm && !i->rate_bps)
		return;
	fprintf(f, "\\n%s", dir);
	if (i->delay_ns)
		fprintf(f, " delay %gms", (double)i->delay_ns / 1e6);
	if (i->jitter_ns)
		fprintf(f, " jitter %gms", (double)i->jitter_ns / 1e6);
	if (i->loss_ppm)
		fprintf(f, " loss %g%%", (double)i->loss_ppm / 1e4);
	if (i->rate_bps)
		fprintf(f, " rate %gkbit", (double)i->rate_bps / 1e3);
}

static void link_edge(FILE *f, const struct topo_link *l)
{
	fputs("  ", f);
	end_id(f, l, 0);
	fputs(" -- ", f);
	end_id(f, l, 1);
	fputs(" [label=\"", f);
	for (unsigned int k = 0; k < l->nhost_addrs; k++) {
		fputs(k ? " " : "host ", f);
		dot_str(f, l->host_addrs[k].text);
	}
	if (l->nat)
		fputs(" (nat)", f);
	if (l->vlan)
		fprintf(f, "\\nvlan %u", l->vlan);
	if (l->trunk) {
		fputs("\\ntrunk ", f);
		dot_str(f, l->trunk);
	}
	if (l->mtu)
		fprintf(f, "\\nmtu %u", l->mtu);
	impair_text(f, "egress", &l->impair[TOPO_EGRESS]);
	impair_text(f, "ingress", &l->impair[TOPO_INGRESS]);
	fputc('"', f);
	for (int e = 0; e < 2; e++)
		if (l->ends[e].kind == TOPO_END_NODE) {
			fprintf(f, ", %slabel=\"", e ? "head" : "tail");
			dot_str(f, l->ends[e].iface->name);
			fputc('"', f);
		}
	capture_style(f, &l->capture);
	fputs("];\n", f);
}

static void write_dot(FILE *f, const struct topo *t)
{
	bool host = false;

	fprintf(f, "graph \"");
	dot_str(f, t->lab);
	fprintf(f, "\" {\n  label=\"lab ");
	dot_str(f, t->lab);
	fprintf(f, "\";\n  labelloc=t;\n  fontname=\"Helvetica\";\n"
		"  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
	for (unsigned int i = 0; i < t->nnodes; i++)
		node_shape(f, &t->nodes[i]);
	for (unsigned int i = 0; i < t->nswitches; i++)
		switch_shape(f, &t->switches[i]);
	for (unsigned int i = 0; i < t->nlinks; i++)
		for (int e = 0; e < 2; e++) {
			const struct topo_end *end = &t->links[i].ends[e];

			if (end->kind == TOPO_END_HOST && !host) {
				fprintf(f, "  \"host\" [shape=house, label=\"this host\"];\n");
				host = true;
			} else if (end->kind == TOPO_END_BRIDGE) {
				fputs("  \"b:", f);
				dot_str(f, end->bridge);
				fputs("\" [shape=house, label=\"bridge ", f);
				dot_str(f, end->bridge);
				fputs("\"];\n", f);
			}
		}
	for (unsigned int i = 0; i < t->nlinks; i++)
		link_edge(f, &t->links[i]);
	fprintf(f, "}\n");
}

/* Pipe the DOT through dot(1) -TEXT into OUT. */
static void draw_with_dot(const struct topo *t, const char *out, const char *ext)
{
	char format[16];
	int pipefd[2], status;
	pid_t pid;
	FILE *f;

	if (!ext || strlen(ext) > 8)
		cli_die("-o %s: name it .svg, .png, .pdf or .dot", out);
	snprintf(format, sizeof(format), "-T%s", ext + 1);
	if (pipe(pipefd) < 0)
		cli_die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[0], 0);
		close(pipefd[1]);
		execlp("dot", "dot", format, "-o", out, (char *)NULL);
		fprintf(stderr, "%s: dot: %s (apt-get install graphviz)\n", CLI_PROGRAM, strerror(errno));
		_exit(127);
	}
	close(pipefd[0]);
	f = fdopen(pipefd[1], "w");
	if (pid < 0 || !f)
		cli_die("dot: %s", strerror(errno));
	write_dot(f, t);
	fclose(f);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		cli_die("dot could not draw %s", out);
}

/* The topology of a file, or of a lab that is up (from the daemon). */
static struct topo *graph_topology(struct cli *cli, const char *arg)
{
	struct topo_errors errs = { 0 };
	struct stat st;
	struct topo *t;
	json_t *req, *r;
	const char *text, *file;

	if (arg && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		t = topo_load(arg, &errs);
	} else {
		req = json_pack("{s:s}", "verb", "topology");
		if (arg)
			json_object_set_new(req, "lab", json_string(arg));
		r = cli_call(cli_with_lab(cli, req));
		if (!r)
			exit(1);
		text = json_string_value(json_object_get(r, "text"));
		file = json_string_value(json_object_get(r, "file"));
		t = text && file ? topo_parse(file, text, strlen(text), &errs) : NULL;
		json_decref(r);
	}
	if (!t) {
		topo_errors_print(&errs, stderr);
		exit(1);
	}
	return t;
}

int cmd_graph(struct cli *cli)
{
	const char *arg = NULL, *out = NULL, *ext;
	struct topo *t;
	FILE *f;

	for (int i = 0; i < cli->argc; i++) {
		if (!strcmp(cli->argv[i], "-o") && i + 1 < cli->argc)
			out = cli->argv[++i];
		else if (!arg)
			arg = cli->argv[i];
		else
			cli_die("graph: one lab at a time");
	}
	t = graph_topology(cli, arg);
	ext = out ? strrchr(out, '.') : NULL;
	if (!out || (ext && !strcmp(ext, ".dot"))) {
		f = out ? fopen(out, "we") : stdout;
		if (!f)
			cli_die("-o %s: %s", out, strerror(errno));
		write_dot(f, t);
		if (out && fclose(f))
			cli_die("-o %s: %s", out, strerror(errno));
	} else {
		draw_with_dot(t, out, ext);
	}
	topo_free(t);
	return 0;
}
