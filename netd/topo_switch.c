/*
 * topo_switch.c: the lab's switches, and the captures switches and links
 * share.
 *
 *   switches:
 *     lan1: {capture: true}     lguest-vswitch, recording LABDIR/capture/lan1.pcap
 *     lan2:                     lguest-vswitch, learning, not recording
 *     core: {kind: ovs}         an Open vSwitch bridge (userspace datapath)
 *     s[1..4]: {hub: true}      a range makes several alike
 *
 * lguest-vswitch can flood like a hub and record every frame; an OVS
 * bridge here is plain, and asking it for either is an error that says to
 * use lguest-vswitch.  Switch names and node names are one namespace: a
 * link end "lan1" and a command "lguest-net console lan1" must each mean
 * one thing.
 *
 * A capture is written
 *
 *   capture: true                           to its default file
 *   capture: lan1.pcap                      a file, relative to the lab directory
 *   capture: {file: F, size: 10m, count: 3} rotating: 3 files of 10 MiB at most
 *
 * and its default file is LABDIR/capture/NAME.pcap.  A quoted "true" is a
 * file name; a plain one is YAML's boolean; nothing (capture: ~) is false.
 */
#include <stdio.h>
#include <string.h>

#include "topo_parse.h"

#define DEFAULT_ROTATE_COUNT 2

struct capture_read {
	struct topo_capture *c;
	tnode *count;
	bool size_given;
};

static void read_capture_file(struct tp *p, tnode *v, void *obj)
{
	struct capture_read *r = obj;
	const char *s = ty_str(p, v, "a file name");

	if (s && (!*s || strlen(s) > TP_MAX_PATH || s[strlen(s) - 1] == '/'))
		s = (tv_check(p, v, "expected a file name", s), NULL);
	if (s)
		r->c->file = tp_abspath(p, p->t->dir, s);
}

static void read_capture_size(struct tp *p, tnode *v, void *obj)
{
	struct capture_read *r = obj;
	const char *s = tv_read(p, v, tv_bytes, &r->c->rotate_size);

	if (s && r->c->rotate_size < 4096)
		tv_check(p, v, "expected a size of at least 4k", s);
	r->size_given = true;
}

static void read_capture_count(struct tp *p, tnode *v, void *obj)
{
	struct capture_read *r = obj;
	tv_read(p, v, tv_count, &r->c->rotate_count);
	r->count = v;
}

static const struct tp_key capture_keys[] = {
	{ "file", read_capture_file, 0, false },
	{ "size", read_capture_size, 0, false },
	{ "count", read_capture_count, 0, false },
};

void tp_read_capture(struct tp *p, tnode *v, struct topo_capture *c, const char *default_name)
{
	struct capture_read r = { .c = c };
	bool on;

	memset(c, 0, sizeof(*c));
	if (ty_map(v)) {
		c->on = true;
		ty_read_map(p, v, TP_KEYS(capture_keys), 0, "capture", &r);
		if (r.count && !r.size_given)
			tp_error(p, r.count, "count: is the number of files kept when rotating: "
				 "it needs size:");
		if (r.size_given && !c->rotate_count)
			c->rotate_count = DEFAULT_ROTATE_COUNT;
	} else if (ty_null(v)) {
		c->on = false;
	} else if (ty_scalar(v) && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !tv_bool((const char *)v->data.scalar.value, &on)) {
		c->on = on;
	} else {
		c->on = true;
		read_capture_file(p, v, &r);
	}
	if (c->on && !c->file)
		c->file = tp_printf(p, "%s/capture/%s.pcap", p->t->dir, default_name);
}

/* ---- switches ---- */

struct switch_read {
	struct topo_switch *sw;
	tnode *hub, *capture;	/* where they were asked for */
};

static void read_switch_kind(struct tp *p, tnode *v, void *obj)
{
	struct switch_read *r = obj;
	const char *s = ty_str(p, v, "lguest or ovs");

	if (s && !strcmp(s, "ovs"))
		r->sw->kind = TOPO_SWITCH_OVS;
	else if (s && strcmp(s, "lguest"))
		tv_check(p, v, "expected lguest (lguest-vswitch) or ovs (Open vSwitch)", s);
}

static void read_switch_hub(struct tp *p, tnode *v, void *obj)
{
	struct switch_read *r = obj;

	if (tv_read(p, v, tv_bool, &r->sw->hub) && r->sw->hub)
		r->hub = v;
}

static void read_switch_capture(struct tp *p, tnode *v, void *obj)
{
	struct switch_read *r = obj;

	tp_read_capture(p, v, &r->sw->capture, r->sw->name);
	if (r->sw->capture.on)
		r->capture = v;
}

static const struct tp_key switch_keys[] = {
	{ "kind", read_switch_kind, 0, false },
	{ "hub", read_switch_hub, 0, false },
	{ "capture", read_switch_capture, 0, false },
};

static bool name_free(struct tp *p, const tnode *k, const char *name)
{
	const struct topo_switch *sw = topo_switch(p->t, name);
	const struct topo_node *n = topo_node(p->t, name);

	if (sw)
		tp_error(p, k, "switch %s is defined twice (first at line %u)", name, sw->pos.line);
	else if (n)
		tp_error(p, k, "%s is already a node's name (line %u): nodes and switches need "
			 "different names", name, n->pos.line);
	return !sw && !n;
}

static void make_switch(struct tp *p, const char *name, tnode *k, tnode *v)
{
	struct topo_switch *sw = &p->t->switches[p->t->nswitches++];
	struct switch_read r = { .sw = sw };
	char what[48];

	strcpy(sw->name, name);
	sw->pos = ty_pos(k);
	snprintf(what, sizeof(what), "switch %s", name);
	ty_read_map(p, v, TP_KEYS(switch_keys), 0, what, &r);
	if (sw->kind != TOPO_SWITCH_OVS)
		return;
	if (r.hub)
		tp_error(p, r.hub, "an OVS switch cannot be a hub: use kind: lguest "
			 "(lguest-vswitch) for that");
	if (r.capture)
		tp_error(p, r.capture, "an OVS switch does not capture: use kind: lguest "
			 "(lguest-vswitch), or capture a link");
}

static bool switch_named(struct tp *p, const char *name, tnode *k, tnode *v)
{
	if (!name_free(p, k, name))
		return true;
	if (p->t->nswitches == TOPO_MAX_SWITCHES) {
		tp_error(p, k, "more than %u switches", TOPO_MAX_SWITCHES);
		return false;
	}
	make_switch(p, name, k, v);
	return true;
}

static void read_switch_entry(struct tp *p, const char *key, tnode *k, tnode *v, void *obj)
{
	(void)obj;
	tp_range_each(p, "switches", key, k, v, switch_named);
}

void tp_read_switches(struct tp *p)
{
	p->t->switches = tp_alloc(p, TOPO_MAX_SWITCHES * sizeof(*p->t->switches));
	tp_path_set(p, "switches");
	ty_each_pair(p, p->top.switches, "switches", read_switch_entry, NULL);
}
