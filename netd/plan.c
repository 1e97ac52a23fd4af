/*
 * plan.c: from a topology to the names and processes that will hold it on
 * the host (see plan.h for the rule that every link has a switch port).
 *
 * Names on the host start with the lab's name, so that two labs never meet
 * and `ip link` shows whose each tap is: taps are LAB-hN (a host end),
 * LAB-bN (a bridge end) and LAB-oN (a port of an OVS switch), OVS bridges
 * LAB-sN, and the nftables table lguest-LAB.  The lab name has at most ten
 * characters, so each fits in an interface name's fifteen.  Files live under
 * the run directory, RUN = /run/lguest/LAB:
 *
 *	RUN/journal           what was changed (journal.h)
 *	RUN/net/NODE.IFACE    a guest interface's sharenet segment
 *	RUN/sw/NAME.ctl       a switch process's control socket
 *	RUN/sw/LINK.a, .b     the two ends of a switch-to-switch link
 *	RUN/chan/NODE         a node's agent channel
 *	RUN/image/...         guest images (image.c)
 *
 * and what the user keeps, in the lab directory: console/NODE.log, the
 * captures, test results.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "bprintf.h"
#include "plan.h"

struct plan_ctx {
	struct plan *p;
	char *err;
	size_t errlen;
	unsigned int ntap[3];	/* taps made so far, per kind */
};

static bool fail(struct plan_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct plan_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return false;
}

static void *grow(void *array, unsigned int n, size_t size)
{
	char *a = realloc(array, (n + 1) * size);

	if (a)
		memset(a + n * size, 0, size);
	return a;
}

/* A port name the switch takes: [A-Za-z0-9._+@-], at most 31 characters. */
static void port_name(char out[32], const char *a, const char *b)
{
	snprintf(out, 32, "%s%s%s", a, b ? "." : "", b ? b : "");
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._+@-", *p)))
			*p = '_';
}

static struct plan_switch *add_switch(struct plan_ctx *c, const char *name)
{
	struct plan *p = c->p;
	struct plan_switch *s = grow(p->switches, p->nswitches, sizeof(*s));

	if (!s)
		return NULL;
	p->switches = s;
	s += p->nswitches++;
	snprintf(s->name, sizeof(s->name), "%s", name);
	bprintf(s->ctl, sizeof(s->ctl), "%s/sw/%s.ctl", p->run, name);
	return s;
}

static struct plan_switch *switch_of(struct plan *p, const struct topo_switch *sw)
{
	for (unsigned int i = 0; i < p->nswitches; i++)
		if (p->switches[i].sw == sw)
			return &p->switches[i];
	return NULL;
}

static struct plan_ovs *ovs_of(struct plan *p, const struct topo_switch *sw)
{
	for (unsigned int i = 0; i < p->novs; i++)
		if (p->ovs[i].sw == sw)
			return &p->ovs[i];
	return NULL;
}

/* The options every kind of port may carry, from its link. */
static bool add_capture_opts(char **spec, const struct topo_capture *cap)
{
	if (!cap->on)
		return true;
	if (!astrcatf(spec, ",capture=%s", cap->file))
		return false;
	if (cap->rotate_size &&
	    !astrcatf(spec, ",capture-size=%llu,capture-count=%u",
		     (unsigned long long)cap->rotate_size, cap->rotate_count ? cap->rotate_count : 2))
		return false;
	return true;
}

static bool add_impair_opts(char **spec, const struct topo_impair *imp, const char *dir)
{
	bool ok = true;

	if (imp->delay_ns)
		ok = ok && astrcatf(spec, ",%s-delay=%lluus", dir,
				   (unsigned long long)(imp->delay_ns / 1000));
	if (imp->jitter_ns)
		ok = ok && astrcatf(spec, ",%s-jitter=%lluus", dir,
				   (unsigned long long)(imp->jitter_ns / 1000));
	if (imp->loss_ppm)
		ok = ok && astrcatf(spec, ",%s-loss=%u.%04u%%", dir, imp->loss_ppm / 10000,
				   imp->loss_ppm % 10000);
	if (imp->rate_bps)
		ok = ok && astrcatf(spec, ",%s-rate=%llu", dir, (unsigned long long)imp->rate_bps);
	return ok;
}

/* WHERE is KIND:PATH[,remote=PATH]: each path must be free of ',' (the spec's separator). */
static bool where_ok(const char *where)
{
	const char *remote = strstr(where, ",remote=");

	return !strchr(remote ? remote + 8 : where, ',') &&
	       (!remote || !memchr(where, ',', (size_t)(remote - where)));
}

static struct plan_port *add_port(struct plan_ctx *c, struct plan_switch *s,
				  const struct topo_link *l, const char *name, const char *where)
{
	struct plan_port *pp = grow(s->ports, s->nports, sizeof(*pp));

	if (!pp)
		return NULL;
	s->ports = pp;
	pp += s->nports++;
	snprintf(pp->name, sizeof(pp->name), "%s", name);
	for (unsigned int i = 0; i + 1 < s->nports; i++)
		if (!strcmp(s->ports[i].name, pp->name))	/* made unique */
			bprintf(pp->name, sizeof(pp->name), "%.24s.%u", name, s->nports);
	pp->link = l;
	if (!where_ok(where)) {
		fail(c, "%s: ',' in a path the switch is given: %s", l->name, where);
		return NULL;
	}
	if (!astrcatf(&pp->spec, "%s,name=%s", where, pp->name))
		return NULL;
	if (l->mtu && !astrcatf(&pp->spec, ",mtu=%u", l->mtu))
		return NULL;
	return pp;
}

/* The port of LINK that carries its impairments and capture. */
static bool make_link_port(struct plan_ctx *c, struct plan_port *pp, bool egress_is_in)
{
	const struct topo_link *l = pp->link;

	pp->link_port = true;
	pp->egress_is_in = egress_is_in;
	if (l->capture.on && strchr(l->capture.file, ','))
		return fail(c, "link %s: ',' in its capture file's path", l->name);
	return add_capture_opts(&pp->spec, &l->capture) &&
	       add_impair_opts(&pp->spec, &l->impair[TOPO_EGRESS], egress_is_in ? "in" : "out") &&
	       add_impair_opts(&pp->spec, &l->impair[TOPO_INGRESS], egress_is_in ? "out" : "in");
}

static bool add_vlan_opts(struct plan_port *pp, const struct topo_link *l)
{
	if (l->vlan)
		return astrcatf(&pp->spec, ",vlan=%u", l->vlan);
	if (l->trunk)
		return astrcatf(&pp->spec, ",trunk=%s", l->trunk);
	return true;
}

/* A node end's sharenet file, named when the node was planned. */
static const char *net_of(const struct plan *p, const struct topo_end *e)
{
	for (unsigned int i = 0; i < p->nnodes; i++)
		if (p->nodes[i].t == e->node)
			return p->nodes[i].nets[e->iface - e->node->ifaces];
	return NULL;
}

static struct plan_port *add_node_port(struct plan_ctx *c, struct plan_switch *s,
				       const struct topo_link *l, const struct topo_end *e)
{
	char name[32], where[PATH_MAX + 16];

	port_name(name, e->node->name, e->iface->name);
	snprintf(where, sizeof(where), "sharenet:%s", net_of(c->p, e));
	return add_port(c, s, l, name, where);
}

static struct plan_tap *add_tap(struct plan_ctx *c, const struct topo_link *l,
				enum plan_tap_kind kind)
{
	static const char letter[] = { [PLAN_TAP_HOST] = 'h', [PLAN_TAP_BRIDGE] = 'b',
				       [PLAN_TAP_OVS] = 'o' };
	struct plan *p = c->p;
	struct plan_tap *t = grow(p->taps, p->ntaps, sizeof(*t));

	if (!t)
		return NULL;
	p->taps = t;
	t += p->ntaps++;
	snprintf(t->name, sizeof(t->name), "%s-%c%u", p->topo->lab, letter[kind], c->ntap[kind]++);
	t->kind = kind;
	t->link = l;
	return t;
}

/* A wire: a two-port switch process for LINK, whose node end is NODE_END. */
static bool plan_wire(struct plan_ctx *c, const struct topo_link *l, int node_end,
		      const char *other_spec, const char *other_name)
{
	struct plan_switch *s = add_switch(c, l->name);
	struct plan_port *a, *b;

	if (!s || !(a = add_node_port(c, s, l, &l->ends[node_end])))
		return false;
	s->link = l;
	if (!make_link_port(c, a, node_end == 0))
		return false;
	b = add_port(c, s, l, other_name, other_spec);
	return b != NULL;
}

static bool plan_node_switch(struct plan_ctx *c, const struct topo_link *l, int node_end)
{
	const struct topo_switch *tsw = l->ends[!node_end].sw;
	struct plan_switch *s;
	struct plan_port *pp;
	struct plan_tap *t;
	struct plan_ovs *o;
	char where[32];

	if (tsw->kind == TOPO_SWITCH_LGUEST) {
		s = switch_of(c->p, tsw);
		pp = add_node_port(c, s, l, &l->ends[node_end]);
		return pp && add_vlan_opts(pp, l) && make_link_port(c, pp, node_end == 0);
	}
	/* An OVS switch: a wire from the node to a tap in the OVS bridge. */
	o = ovs_of(c->p, tsw);
	if (!(t = add_tap(c, l, PLAN_TAP_OVS)))
		return false;
	snprintf(t->master, sizeof(t->master), "%s", o->bridge);
	t->vlan = l->vlan;
	t->trunk = l->trunk;
	snprintf(where, sizeof(where), "tap:%s", t->name);
	return plan_wire(c, l, node_end, where, t->name);
}

static bool plan_node_host(struct plan_ctx *c, const struct topo_link *l, int node_end)
{
	const struct topo_end *other = &l->ends[!node_end];
	struct plan_tap *t = add_tap(c, l, other->kind == TOPO_END_HOST ? PLAN_TAP_HOST
								       : PLAN_TAP_BRIDGE);
	char where[32];

	if (!t)
		return false;
	if (other->kind == TOPO_END_BRIDGE)
		snprintf(t->master, sizeof(t->master), "%s", other->bridge);
	for (unsigned int i = 0; l->nat && i < l->nhost_addrs; i++) {
		struct plan *p = c->p;
		struct plan_nat *n = grow(p->nats, p->nnats, sizeof(*n));

		if (!n)
			return false;
		p->nats = n;
		n += p->nnats++;
		n->subnet = l->host_addrs[i];
		snprintf(n->tap, sizeof(n->tap), "%s", t->name);
	}
	snprintf(where, sizeof(where), "tap:%s", t->name);
	return plan_wire(c, l, node_end, where, t->name);
}

static bool plan_node_node(struct plan_ctx *c, const struct topo_link *l)
{
	char where[PATH_MAX + 16], name[32];

	port_name(name, l->ends[1].node->name, l->ends[1].iface->name);
	snprintf(where, sizeof(where), "sharenet:%s", net_of(c->p, &l->ends[1]));
	return plan_wire(c, l, 0, where, name);
}

/* Two lab switches joined by a pair of datagram sockets. */
static bool plan_switch_switch(struct plan_ctx *c, const struct topo_link *l)
{
	struct plan_switch *s[2];
	char sock[2][PATH_MAX], where[2 * PATH_MAX + 32], name[32];

	for (int i = 0; i < 2; i++) {
		if (l->ends[i].sw->kind != TOPO_SWITCH_LGUEST)
			return fail(c, "link %s: an Open vSwitch switch can only be linked to nodes",
				    l->name);
		s[i] = switch_of(c->p, l->ends[i].sw);
		bprintf(sock[i], sizeof(sock[i]), "%s/sw/%u.%c", c->p->run,
			 (unsigned int)(l - c->p->topo->links), "ab"[i]);
	}
	for (int i = 0; i < 2; i++) {
		struct plan_port *pp;

		snprintf(where, sizeof(where), "dgram:%s,remote=%s", sock[i], sock[!i]);
		port_name(name, "to", s[!i]->name);
		pp = add_port(c, s[i], l, name, where);
		if (!pp || !add_vlan_opts(pp, l))
			return false;
		if (i == 0 && !make_link_port(c, pp, false))
			return false;
	}
	return true;
}

static bool plan_link(struct plan_ctx *c, const struct topo_link *l)
{
	enum topo_end_kind a = l->ends[0].kind, b = l->ends[1].kind;
	int node_end = a == TOPO_END_NODE ? 0 : 1;

	if (a == TOPO_END_NODE && b == TOPO_END_NODE)
		return plan_node_node(c, l);
	if (a == TOPO_END_SWITCH && b == TOPO_END_SWITCH)
		return plan_switch_switch(c, l);
	if (l->ends[node_end].kind != TOPO_END_NODE)
		return fail(c, "link %s: it needs a node at one end", l->name);
	if (l->ends[!node_end].kind == TOPO_END_SWITCH)
		return plan_node_switch(c, l, node_end);
	return plan_node_host(c, l, node_end);
}

static bool plan_nodes(struct plan_ctx *c)
{
	struct plan *p = c->p;
	const struct topo *t = p->topo;

	p->nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*p->nodes));
	if (!p->nodes)
		return false;
	for (unsigned int i = 0; i < t->nnodes; i++) {
		struct plan_node *n = &p->nodes[p->nnodes++];
		const struct topo_node *tn = &t->nodes[i];

		n->t = tn;
		bprintf(n->chan, sizeof(n->chan), "%s/chan/%s", p->run, tn->name);
		snprintf(n->console, sizeof(n->console), "%s/console/%s.log", t->dir, tn->name);
		n->nets = calloc(tn->nifaces ? tn->nifaces : 1, sizeof(*n->nets));
		if (!n->nets)
			return false;
		for (unsigned int k = 0; k < tn->nifaces; k++)
			bprintf(n->nets[k], sizeof(n->nets[k]), "%s/net/%s.%s", p->run, tn->name,
				 tn->ifaces[k].name);
	}
	return true;
}

static bool plan_switches(struct plan_ctx *c)
{
	struct plan *p = c->p;
	const struct topo *t = p->topo;

	for (unsigned int i = 0; i < t->nswitches; i++) {
		const struct topo_switch *sw = &t->switches[i];

		if (sw->kind == TOPO_SWITCH_OVS) {
			struct plan_ovs *o = grow(p->ovs, p->novs, sizeof(*o));

			if (!o)
				return false;
			p->ovs = o;
			o += p->novs++;
			bprintf(o->bridge, sizeof(o->bridge), "%s-s%u", t->lab, i);
			o->sw = sw;
			continue;
		}
		struct plan_switch *s = add_switch(c, sw->name);

		if (!s)
			return false;
		s->sw = sw;
		s->hub = sw->hub;
		s->capture = sw->capture;
		if (sw->capture.on && strchr(sw->capture.file, ','))
			return fail(c, "switch %s: ',' in its capture file's path", sw->name);
	}
	return true;
}

struct plan *plan_make(const struct topo *t, const char *run_root, char *err, size_t errlen)
{
	struct plan *p = calloc(1, sizeof(*p));
	struct plan_ctx c = { .p = p, .err = err, .errlen = errlen };
	bool ok;

	if (!p)
		return NULL;
	p->topo = t;
	/* Socket paths are RUN/sw/LINKNAME.ctl: they must fit in a sun_path. */
	if (strlen(run_root) + 1 + TOPO_LAB_NAME_MAX + 5 + TOPO_LINK_NAME_MAX + 4 >= PLAN_PATH) {
		snprintf(err, errlen, "run directory %s: too long for the lab's sockets", run_root);
		free(p);
		return NULL;
	}
	snprintf(p->run, sizeof(p->run), "%s/%s", run_root, t->lab);
	ok = plan_nodes(&c) && plan_switches(&c);
	for (unsigned int i = 0; ok && i < t->nlinks; i++)
		ok = plan_link(&c, &t->links[i]);
	if (ok && p->nnats)
		snprintf(p->table, sizeof(p->table), "lguest-%s", t->lab);
	if (!ok) {
		if (!*err)
			snprintf(err, errlen, "out of memory");
		plan_free(p);
		return NULL;
	}
	return p;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->nswitches; i++) {
		for (unsigned int k = 0; k < p->switches[i].nports; k++)
			free(p->switches[i].ports[k].spec);
		free(p->switches[i].ports);
	}
	for (unsigned int i = 0; i < p->nnodes; i++)
		free(p->nodes[i].nets);
	free(p->switches);
	free(p->nodes);
	free(p->taps);
	free(p->nats);
	free(p->ovs);
	free(p);
}

bool plan_link_port(const struct plan *p, const struct topo_link *link,
		    const struct plan_switch **sw, const struct plan_port **port)
{
	for (unsigned int i = 0; i < p->nswitches; i++)
		for (unsigned int k = 0; k < p->switches[i].nports; k++)
			if (p->switches[i].ports[k].link == link && p->switches[i].ports[k].link_port) {
				*sw = &p->switches[i];
				*port = &p->switches[i].ports[k];
				return true;
			}
	return false;
}

const struct plan_switch *plan_switch_named(const struct plan *p, const char *name)
{
	for (unsigned int i = 0; i < p->nswitches; i++)
		if (!strcmp(p->switches[i].name, name))
			return &p->switches[i];
	return NULL;
}

void plan_print(const struct plan *p, FILE *f)
{
	static const char *kind[] = { "host", "bridge", "ovs" };

	fprintf(f, "run directory %s\n", p->run);
	for (unsigned int i = 0; i < p->ntaps; i++)
		fprintf(f, "tap %s (%s%s%s) for link %s\n", p->taps[i].name, kind[p->taps[i].kind],
			p->taps[i].master[0] ? " in " : "", p->taps[i].master, p->taps[i].link->name);
	for (unsigned int i = 0; i < p->novs; i++)
		fprintf(f, "ovs bridge %s for switch %s\n", p->ovs[i].bridge, p->ovs[i].sw->name);
	for (unsigned int i = 0; i < p->nnats; i++)
		fprintf(f, "masquerade %s from %s in nftables table ip %s\n", p->nats[i].subnet.text,
			p->nats[i].tap, p->table);
	for (unsigned int i = 0; i < p->nswitches; i++) {
		const struct plan_switch *s = &p->switches[i];

		fprintf(f, "switch %s%s%s%s\n", s->name, s->sw ? "" : " (wire)", s->hub ? " hub" : "",
			s->capture.on ? ", captured" : "");
		for (unsigned int k = 0; k < s->nports; k++)
			fprintf(f, "  port %s\n", s->ports[k].spec);
	}
	for (unsigned int i = 0; i < p->nnodes; i++)
		fprintf(f, "node %s: %u interface%s, console %s\n", p->nodes[i].t->name,
			p->nodes[i].t->nifaces, p->nodes[i].t->nifaces == 1 ? "" : "s",
			p->nodes[i].console);
}
