/*
 * topo_node.c: the nodes, and what each inherits.
 *
 * A node's settings can be written at three levels: defaults: (every
 * node), a group under groups: (the nodes that say group: NAME), and the
 * node itself.  Each level is read on its own into a struct tp_level (the
 * same key table for all three; a few keys belong to fewer levels: a node's
 * interfaces, disks and group are its own, and after: makes no sense for
 * every node at once).  Then a node is built by laying the levels over
 * each other, defaults first:
 *
 *   - a scalar (kernel, memory, cmdline, forward, forward6, startup, ready,
 *     after) is taken from the last level that sets it;
 *   - the lists add up: files (a later level's file at the same guest path
 *     replaces the earlier one), programs and modules (each once), routes
 *     (a later level's route to the same destination replaces the earlier
 *     one).
 *
 * A node named with a range (h[1..8]) is built once per name, with {i} in
 * its text replaced by the index: the YAML is read again each time.
 * Groups and defaults are read once, and their text is taken as it is.
 *
 * Boot order (after:) names other nodes, so it is resolved once all the
 * nodes exist (tp_resolve_after, called by topo_check.c), and a cycle is an
 * error that names every node on it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "topo_parse.h"

#define TP_MAX_GROUPS 64
#define CMDLINE_MAX 1024
#define DEFAULT_MEMORY (128ull << 20)
#define DEFAULT_READY_TIMEOUT_NS (180ull * 1000000000)

static void read_memory(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (tv_read(p, v, tv_memory, &l->n.memory))
		l->set |= TL_MEMORY;
}

static void read_cmdline(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	l->n.cmdline = tv_read_text(p, v, CMDLINE_MAX);
	if (l->n.cmdline)
		l->set |= TL_CMDLINE;
}

static void read_forward(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (tv_read(p, v, tv_bool, &l->n.forward))
		l->set |= TL_FORWARD;
}

static void read_forward6(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (tv_read(p, v, tv_bool, &l->n.forward6))
		l->set |= TL_FORWARD6;
}

static void read_startup(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	l->n.startup = tv_read_text(p, v, TP_MAX_STRING);
	if (l->n.startup)
		l->set |= TL_STARTUP;
}

static void read_ready_exec(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	l->n.ready = tv_read_text(p, v, TP_MAX_STRING);
}

static void read_ready_timeout(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;
	const char *s = tv_read(p, v, tv_time, &l->n.ready_timeout_ns);

	if (s && !l->n.ready_timeout_ns)
		tv_check(p, v, "expected a time above 0", s);
}

/* ready: CMD, or {exec: CMD, timeout: 60s} */
static void read_ready(struct tp *p, tnode *v, void *obj)
{
	static const struct tp_key keys[] = {
		{ "exec", read_ready_exec, 0, true },
		{ "timeout", read_ready_timeout, 0, false },
	};
	struct tp_level *l = obj;

	l->n.ready_timeout_ns = DEFAULT_READY_TIMEOUT_NS;
	if (ty_map(v))
		ty_read_map(p, v, TP_KEYS(keys), 0, "ready", l);
	else
		read_ready_exec(p, v, l);
	if (l->n.ready)
		l->set |= TL_READY;
}

static void read_after(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	(void)p;
	l->after = v;
	l->set |= TL_AFTER;
}

static void read_group(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	(void)p;
	l->group = v;
}

static const struct tp_key node_keys[] = {
	{ "group", read_group, TP_IN_NODE, false },
	{ "kernel", tf_read_kernel, 0, false },
	{ "memory", read_memory, 0, false },
	{ "cmdline", read_cmdline, 0, false },
	{ "disks", tf_read_disks, TP_IN_NODE, false },
	{ "files", tf_read_files, 0, false },
	{ "programs", tf_read_programs, 0, false },
	{ "modules", tf_read_modules, 0, false },
	{ "interfaces", ti_read_interfaces, TP_IN_NODE, false },
	{ "routes", ti_read_routes, 0, false },
	{ "forward", read_forward, 0, false },
	{ "forward6", read_forward6, 0, false },
	{ "startup", read_startup, 0, false },
	{ "ready", read_ready, 0, false },
	{ "after", read_after, TP_IN_GROUP | TP_IN_NODE, false },
};

static struct tp_level *read_level(struct tp *p, tnode *v, unsigned int where, const char *what)
{
	struct tp_level *l = tp_alloc(p, sizeof(*l));

	l->where = where;
	if (where == TP_IN_NODE)
		l->n.ifaces = tp_alloc(p, TOPO_MAX_IFACES * sizeof(*l->n.ifaces));
	ty_read_map(p, v, TP_KEYS(node_keys), where, what, l);
	return l;
}

/* ---- defaults: and groups: ---- */

static struct tp_level *group_named(struct tp *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->ngroups; i++)
		if (!strcmp(p->groups[i]->n.name, name))
			return p->groups[i];
	return NULL;
}

static void read_group_entry(struct tp *p, const char *name, tnode *k, tnode *v, void *obj)
{
	struct tp_level *g;
	char what[64];

	(void)obj;
	if (!tv_check(p, k, tv_name(name, NULL), name))
		return;
	g = group_named(p, name);
	if (g) {
		tp_error(p, k, "group %s is defined twice (first at line %u)", name, g->n.pos.line);
		return;
	}
	snprintf(what, sizeof(what), "group %s", name);
	g = read_level(p, v, TP_IN_GROUP, what);
	strcpy(g->n.name, name);
	g->n.pos = ty_pos(k);
	p->groups[p->ngroups++] = g;
}

void tp_read_defaults_and_groups(struct tp *p)
{
	tp_path_set(p, "defaults");
	p->defaults = read_level(p, p->top.defaults, TP_IN_DEFAULTS, "defaults");
	tp_path_set(p, "groups");
	if (ty_len(p->top.groups) > TP_MAX_GROUPS) {
		tp_error(p, p->top.groups, "more than %u groups", TP_MAX_GROUPS);
		return;
	}
	p->groups = tp_alloc(p, TP_MAX_GROUPS * sizeof(*p->groups));
	ty_each_pair(p, p->top.groups, "groups", read_group_entry, NULL);
}

/* ---- building a node ---- */

/* Each field of struct topo_node that a level sets with the bit. */
#define FIELD(bit, member) \
	{ bit, offsetof(struct topo_node, member), sizeof(((struct topo_node *)0)->member) }
static const struct field {
	unsigned int bit;
	size_t off, size;
} scalar_fields[] = {
	FIELD(TL_KERNEL, kernel), FIELD(TL_MEMORY, memory), FIELD(TL_CMDLINE, cmdline),
	FIELD(TL_FORWARD, forward), FIELD(TL_FORWARD6, forward6), FIELD(TL_STARTUP, startup),
	FIELD(TL_READY, ready), FIELD(TL_READY, ready_timeout_ns),
};

/*
 * TO's elements, then FROM's, each replacing the element of TO that SAME says
 * it is (a file at the same guest path, a route to the same destination, the
 * same program): the new array, and its length in *NTO.
 */
static void *merge(struct tp *p, void *to, unsigned int *nto, const void *from,
		   unsigned int nfrom, size_t size, bool (*same)(const void *, const void *))
{
	unsigned int i, j, n = *nto;
	char *v;

	if (!nfrom)
		return to;
	v = tp_alloc(p, (n + nfrom) * size);
	if (n)
		memcpy(v, to, n * size);
	for (i = 0; i < nfrom; i++) {
		const char *f = (const char *)from + i * size;

		for (j = 0; j < n && !same(v + j * size, f); j++)
			;
		memcpy(v + j * size, f, size);
		n += j == n;
	}
	*nto = n;
	return v;
}

static bool same_string(const void *a, const void *b)
{
	return !strcmp(*(char *const *)a, *(char *const *)b);
}

static bool same_file(const void *a, const void *b)
{
	return !strcmp(((const struct topo_file *)a)->guest_path,
		       ((const struct topo_file *)b)->guest_path);
}

static bool same_route(const void *a, const void *b)
{
	const struct topo_addr *x = &((const struct topo_route *)a)->dst;
	const struct topo_addr *y = &((const struct topo_route *)b)->dst;

	return x->family == y->family && x->prefix == y->prefix &&
	       !memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

static void inherit(struct tp *p, struct topo_node *n, struct tp_node_extra *x,
		    const struct tp_level *l)
{
	const struct field *f;

	for (f = scalar_fields; f < scalar_fields + sizeof(scalar_fields) / sizeof(*f); f++)
		if (l->set & f->bit)
			memcpy((char *)n + f->off, (const char *)&l->n + f->off, f->size);
	if (l->set & TL_AFTER)
		x->after = l->after;
	n->files = merge(p, n->files, &n->nfiles, l->n.files, l->n.nfiles, sizeof(*n->files),
			 same_file);
	n->programs = merge(p, n->programs, &n->nprograms, l->n.programs, l->n.nprograms,
			    sizeof(*n->programs), same_string);
	n->modules = merge(p, n->modules, &n->nmodules, l->n.modules, l->n.nmodules,
			   sizeof(*n->modules), same_string);
	n->routes = merge(p, n->routes, &n->nroutes, l->n.routes, l->n.nroutes,
			  sizeof(*n->routes), same_route);
}

static struct tp_level *node_group(struct tp *p, const struct tp_level *own)
{
	const char *name;
	struct tp_level *g;
	char q[64];

	if (!own->group)
		return NULL;
	tp_path_push(p, "group");
	name = ty_str(p, own->group, "a group's name");
	g = name ? group_named(p, name) : NULL;
	if (name && !g)
		tp_error(p, own->group, "unknown group %s", tp_quote(name, q));
	return g;
}

/* The host's kernel, when no level names one: checked once. */
static void default_kernel(struct tp *p, struct topo_node *n)
{
	const char *why = tf_check_host_file(p->default_kernel, 0);

	n->kernel = p->default_kernel;
	if (why && !p->kernel_checked)
		tp_error_pos(p, n->pos, "no kernel given, and the host's %s %s: set kernel: "
			     "(in defaults: for every node) or LGUEST_NET_KERNEL", p->default_kernel,
			     why);
	p->kernel_checked = true;
}

static void make_node(struct tp *p, const char *name, tnode *k, tnode *v)
{
	struct topo_node *n = &p->t->nodes[p->t->nnodes];
	struct tp_node_extra *x = &p->extra[p->t->nnodes++];
	struct tp_level *own, *group;
	char what[48];
	unsigned int i;

	strcpy(n->name, name);
	n->pos = ty_pos(k);
	x->in_range = p->in_range;
	x->index = p->index;
	snprintf(what, sizeof(what), "node %s", name);
	own = read_level(p, v, TP_IN_NODE, what);
	group = node_group(p, own);
	p->in_range = false;
	tp_path_set(p, "nodes.%s", name);

	n->memory = DEFAULT_MEMORY;
	n->cpus = 1;
	n->ready_timeout_ns = DEFAULT_READY_TIMEOUT_NS;
	inherit(p, n, x, p->defaults);
	if (group) {
		n->group = group->n.name;
		inherit(p, n, x, group);
	}
	inherit(p, n, x, own);
	if (!n->kernel)
		default_kernel(p, n);
	n->disks = own->n.disks;
	n->ndisks = own->n.ndisks;
	n->ifaces = own->n.ifaces;
	n->nifaces = own->n.nifaces;
	for (i = 0; i < n->nifaces; i++)
		n->ifaces[i].node = n;
}

static bool node_named(struct tp *p, const char *name, tnode *k, tnode *v)
{
	struct topo_node *old = topo_node(p->t, name);

	if (old) {
		tp_error(p, k, "node %s is defined twice (first at line %u)", name, old->pos.line);
		return true;
	}
	if (p->t->nnodes == TOPO_MAX_NODES) {
		tp_error(p, k, "more than %u nodes", TOPO_MAX_NODES);
		return false;
	}
	make_node(p, name, k, v);
	return true;
}

static void read_node_entry(struct tp *p, const char *key, tnode *k, tnode *v, void *obj)
{
	(void)obj;
	tp_range_each(p, "nodes", key, k, v, node_named);
}

void tp_read_nodes(struct tp *p)
{
	p->t->nodes = tp_alloc(p, TOPO_MAX_NODES * sizeof(*p->t->nodes));
	p->extra = tp_alloc(p, TOPO_MAX_NODES * sizeof(*p->extra));
	tp_path_set(p, "nodes");
	ty_each_pair(p, p->top.nodes, "nodes", read_node_entry, NULL);
	if (p->top.nodes && !ty_len(p->top.nodes) && (ty_map(p->top.nodes) || ty_null(p->top.nodes)))
		tp_error(p, p->top.nodes, "a lab needs at least one node");
}

struct topo_iface *tp_iface_get(struct tp *p, struct topo_node *node, const char *ifname,
				bool add, const tnode *where)
{
	struct topo_iface *f;
	unsigned int i;

	for (i = 0; i < node->nifaces; i++)
		if (!strcmp(node->ifaces[i].name, ifname))
			return &node->ifaces[i];
	if (!add)
		return NULL;
	if (node->nifaces == TOPO_MAX_IFACES) {
		tp_error(p, where, "node %s would have more than %u interfaces", node->name,
			 TOPO_MAX_IFACES);
		return NULL;
	}
	f = &node->ifaces[node->nifaces++];
	strcpy(f->name, ifname);
	f->pos = ty_pos(where);
	f->node = node;
	return f;
}

/* ---- boot order ---- */

static void add_after(struct tp *p, struct topo_node *n, struct topo_node *dep)
{
	unsigned int i;

	(void)p;
	for (i = 0; i < n->nafter; i++)
		if (n->after[i] == dep)
			return;
	n->after[n->nafter++] = dep;
}

static void read_after_name(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct topo_node *n = obj, *dep;
	const char *s = ty_str(p, item, "a node's name");
	char name[TOPO_NAME_MAX + 8], q[64];
	struct tp_range r;
	unsigned int k;

	(void)i;
	if (!s || !tv_check(p, item, tp_range_parse(s, &r), s))
		return;
	for (k = 0; k < tp_range_len(&r); k++) {
		dep = tp_range_name(&r, k, name, sizeof(name)) ? topo_node(p->t, name) : NULL;
		if (!dep) {
			tp_error(p, item, "unknown node %s", tp_quote(name, q));
			return;
		}
		add_after(p, n, dep);
	}
}

/* Depth first: 1 on the path, 2 done.  Reports the first cycle it meets. */
static bool find_cycle(struct tp *p, unsigned int i, unsigned char *state, unsigned int *path,
		       unsigned int depth)
{
	struct topo_node *nodes = p->t->nodes;
	unsigned int j, k, at;
	char cycle[200];
	size_t len = 0;

	state[i] = 1;
	path[depth] = i;
	for (j = 0; j < nodes[i].nafter; j++) {
		at = (unsigned int)(nodes[i].after[j] - nodes);
		if (state[at] == 1) {
			for (k = 0; k <= depth && path[k] != at; k++)
				;
			for (; k <= depth; k++)
				len += (size_t)snprintf(cycle + len, len < sizeof(cycle) ?
						sizeof(cycle) - len : 0, "%s -> ", nodes[path[k]].name);
			snprintf(cycle + (len < sizeof(cycle) ? len : sizeof(cycle) - 1),
				 len < sizeof(cycle) ? sizeof(cycle) - len : 1, "%s", nodes[at].name);
			tp_path_set(p, "nodes.%s.after", nodes[at].name);
			tp_error(p, p->extra[at].after, "boot order has a cycle: %s", cycle);
			return true;
		}
		if (!state[at] && find_cycle(p, at, state, path, depth + 1))
			return true;
	}
	state[i] = 2;
	return false;
}

void tp_resolve_after(struct tp *p)
{
	unsigned char state[TOPO_MAX_NODES] = { 0 };
	unsigned int path[TOPO_MAX_NODES];
	unsigned int i;

	for (i = 0; i < p->t->nnodes; i++) {
		struct topo_node *n = &p->t->nodes[i];
		struct tp_node_extra *x = &p->extra[i];

		if (!x->after)
			continue;
		n->after = tp_alloc(p, p->t->nnodes * sizeof(*n->after));
		tp_path_set(p, "nodes.%s.after", n->name);
		p->in_range = x->in_range;
		p->index = x->index;
		ty_each_item(p, x->after, true, "node names", read_after_name, n);
		p->in_range = false;
	}
	for (i = 0; i < p->t->nnodes; i++)
		if (!state[i] && find_cycle(p, i, state, path, 0))
			return;
}
