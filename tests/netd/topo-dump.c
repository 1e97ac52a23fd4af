/*
 * topo-dump FILE: what the parser made of a topology file, for the tests
 * (tests/netd/topo.test compares it with a .dump file written by hand).
 *
 * Every field of struct topo is printed, defaults included, one element a
 * line with its "@LINE:COL", numbers in their own units (bytes, ns, ppm,
 * bit/s) so that no rounding hides a mistake, and text escaped C-style.
 * Errors go to stderr, as topo_errors_print() writes them, and the exit
 * status is then 1.
 */
#include <stdio.h>
#include <string.h>

#include "topo.h"

static void text(const char *s)
{
	if (!s) {
		fputs("-", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void pos(struct topo_pos p)
{
	printf(" @%u:%u", p.line, p.col);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void capture(const char *indent, const struct topo_capture *c)
{
	if (!c->on)
		return;
	printf("%scapture %s rotate %llu x %u\n", indent, c->file,
	       (unsigned long long)c->rotate_size, c->rotate_count);
}

static void node(const struct topo_node *n)
{
	unsigned int i, j;

	printf("node %s", n->name);
	pos(n->pos);
	printf("\n  group %s\n  kernel %s\n  memory %llu cpus %u\n  cmdline ",
	       n->group ? n->group : "-", n->kernel, (unsigned long long)n->memory, n->cpus);
	text(n->cmdline);
	printf("\n  forward %s forward6 %s\n  startup ", yes(n->forward), yes(n->forward6));
	text(n->startup);
	printf("\n  ready ");
	text(n->ready);
	printf(" timeout %lluns\n", (unsigned long long)n->ready_timeout_ns);
	for (i = 0; i < n->nafter; i++)
		printf("  after %s\n", n->after[i]->name);
	for (i = 0; i < n->ndisks; i++)
		printf("  disk %s\n", n->disks[i]);
	for (i = 0; i < n->nfiles; i++) {
		printf("  file %s", n->files[i].guest_path);
		pos(n->files[i].pos);
		printf(" mode %04o ", n->files[i].mode);
		if (n->files[i].content)
			text(n->files[i].content);
		else
			printf("from %s", n->files[i].host_path);
		putchar('\n');
	}
	for (i = 0; i < n->nprograms; i++)
		printf("  program %s\n", n->programs[i]);
	for (i = 0; i < n->nmodules; i++)
		printf("  module %s\n", n->modules[i]);
	for (i = 0; i < n->nifaces; i++) {
		const struct topo_iface *f = &n->ifaces[i];

		printf("  iface %s", f->name);
		pos(f->pos);
		printf(" mac %02x:%02x:%02x:%02x:%02x:%02x%s mtu %u link %s\n", f->mac[0],
		       f->mac[1], f->mac[2], f->mac[3], f->mac[4], f->mac[5],
		       f->mac_given ? " (given)" : "", f->mtu, f->link ? f->link->name : "-");
		for (j = 0; j < f->naddrs; j++)
			printf("    addr %s\n", f->addrs[j].text);
	}
	for (i = 0; i < n->nroutes; i++) {
		const struct topo_route *r = &n->routes[i];

		printf("  route %s via %s dev %s", r->dst.text, r->via.family ? r->via.text : "-",
		       r->dev[0] ? r->dev : "-");
		pos(r->pos);
		putchar('\n');
	}
}

static void end(const struct topo_end *e)
{
	switch (e->kind) {
	case TOPO_END_NODE:
		printf("%s:%s", e->node->name, e->iface->name);
		break;
	case TOPO_END_SWITCH:
		printf("switch %s", e->sw->name);
		break;
	case TOPO_END_HOST:
		printf("host");
		break;
	case TOPO_END_BRIDGE:
		printf("bridge %s", e->bridge);
		break;
	}
}

static void impair(const char *dir, const struct topo_impair *im)
{
	if (!im->delay_ns && !im->jitter_ns && !im->loss_ppm && !im->rate_bps)
		return;
	printf("  %s delay %lluns jitter %lluns loss %uppm rate %llubps\n", dir,
	       (unsigned long long)im->delay_ns, (unsigned long long)im->jitter_ns, im->loss_ppm,
	       (unsigned long long)im->rate_bps);
}

static void link(const struct topo_link *l)
{
	unsigned int i;

	printf("link %s", l->name);
	pos(l->pos);
	printf(": ");
	end(&l->ends[0]);
	printf(" -- ");
	end(&l->ends[1]);
	printf("\n  mtu %u vlan %u trunk %s nat %s\n", l->mtu, l->vlan, l->trunk ? l->trunk : "-",
	       yes(l->nat));
	for (i = 0; i < l->nhost_addrs; i++)
		printf("  host %s\n", l->host_addrs[i].text);
	impair("egress", &l->impair[TOPO_EGRESS]);
	impair("ingress", &l->impair[TOPO_INGRESS]);
	capture("  ", &l->capture);
}

static const char *const kinds[] = { "ping", "route", "source", "connect", "capture", "exec" };

static void test(const struct topo_test *t)
{
	printf("test %s", kinds[t->kind]);
	pos(t->pos);
	printf(" ");
	text(t->name);
	printf("\n  from %s to %s (%s) expect %s count %u timeout %lluns\n",
	       t->from ? t->from->name : "-", t->to ? t->to : "-",
	       t->to_addr.family ? t->to_addr.text : "-", t->expect_ok ? "ok" : "fail", t->count,
	       (unsigned long long)t->timeout_ns);
	if (t->kind == TOPO_TEST_ROUTE)
		printf("  via %s dev %s\n", t->via.family ? t->via.text : "direct",
		       t->dev[0] ? t->dev : "-");
	if (t->kind == TOPO_TEST_SOURCE || t->kind == TOPO_TEST_CONNECT)
		printf("  port %u seen %s\n", t->port, t->seen.family ? t->seen.text : "-");
	if (t->kind == TOPO_TEST_CAPTURE) {
		printf("  on %s %s filter ", t->capture_switch ? "switch" : "link",
		       t->capture_switch ? t->capture_switch->name : t->capture_link->name);
		text(t->filter);
		putchar('\n');
	}
	if (t->kind == TOPO_TEST_EXEC) {
		printf("  run ");
		text(t->run);
		printf(" output ");
		text(t->output);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	struct topo_errors errs;
	struct topo *t;
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "usage: topo-dump FILE.topo\n");
		return 2;
	}
	t = topo_load(argv[1], &errs);
	if (!t) {
		topo_errors_print(&errs, stderr);
		return 1;
	}
	printf("lab %s\ndir %s\n", t->lab, t->dir);
	for (i = 0; i < t->nnodes; i++)
		node(&t->nodes[i]);
	for (i = 0; i < t->nswitches; i++) {
		const struct topo_switch *sw = &t->switches[i];

		printf("switch %s", sw->name);
		pos(sw->pos);
		printf(": %s hub %s\n", sw->kind == TOPO_SWITCH_OVS ? "ovs" : "lguest", yes(sw->hub));
		capture("  ", &sw->capture);
	}
	for (i = 0; i < t->nlinks; i++)
		link(&t->links[i]);
	for (i = 0; i < t->ntests; i++)
		test(&t->tests[i]);
	topo_free(t);
	return 0;
}
