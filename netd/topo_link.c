/*
 * topo_link.c: the cables of the lab.
 *
 *   links:
 *     - [r1:eth0, lan1]                 a node's interface to a switch
 *     - [h1:eth1, h2:eth1]              two guests, point to point
 *     - [lan1, lan2]                    switch to switch (a trunk, say)
 *     - ["h[1..8]:eth0", lan1]          eight links (quoted: [ ] inside [ ])
 *     - ends: [r1:eth2, host]           a tap on the host with the host's
 *       host: 192.168.50.1/24           address, masqueraded out of its
 *       nat: true                       uplink
 *     - ends: [r1:eth3, bridge:br0]     an existing bridge on the host
 *       name: uplink                    (names a link for capture/link set)
 *       impair: {delay: 50ms, loss: 1%}
 *
 * Each link is read in steps, whatever order its keys are written in:
 *
 *   1. its ends, each NODE:IFACE, SWITCH, host or bridge:NAME.  A range in
 *      an end makes one link per name; two ranges in one link must have
 *      the same length and go in step, and {i} is the first range's index.
 *      An interface a link names but the node does not declare is added to
 *      the node, with no address, after those it declares;
 *   2. the rules of ends: every interface on one link at most; a node or a
 *      switch at one end at least; host and bridge ends only facing a node;
 *      no switch linked to itself;
 *   3. its name: given, else NODE:IFACE of its first node end, else SW1-SW2;
 *      names are unique, and not a switch's;
 *   4. what the ends allow: host: (the host end's addresses) and nat: with a
 *      host end only, vlan: or trunk: (not both) with a switch end only;
 *   5. the rest: mtu, impairments (the same both ways, or egress:, from the
 *      first end to the second, and ingress:), capture (default file
 *      LABDIR/capture/NAME.pcap, ':' made '-').
 */
#include <stdio.h>
#include <string.h>

#include "topo_parse.h"

struct link_read {
	tnode *ends, *name, *host, *nat, *capture, *impair, *mtu, *vlan, *trunk;
};

TP_KEEP(struct link_read, ends)
TP_KEEP(struct link_read, name)
TP_KEEP(struct link_read, host)
TP_KEEP(struct link_read, nat)
TP_KEEP(struct link_read, capture)
TP_KEEP(struct link_read, impair)
TP_KEEP(struct link_read, mtu)
TP_KEEP(struct link_read, vlan)
TP_KEEP(struct link_read, trunk)

static const struct tp_key link_keys[] = {
	{ "ends", keep_ends, 0, true },
	{ "name", keep_name, 0, false },
	{ "host", keep_host, 0, false },
	{ "nat", keep_nat, 0, false },
	{ "capture", keep_capture, 0, false },
	{ "impair", keep_impair, 0, false },
	{ "mtu", keep_mtu, 0, false },
	{ "vlan", keep_vlan, 0, false },
	{ "trunk", keep_trunk, 0, false },
};

/* An end as written: its kind, and for NODE:IFACE or SWITCH the range of names. */
struct end_text {
	tnode *n;
	const char *text;
	enum topo_end_kind kind;
	struct tp_range range;
	const char *ifname;	/* after the ':' of NODE:IFACE, or of bridge:NAME */
	char cur_ifname[TOPO_IFNAME_MAX + 1];	/* NODE:IFACE's in this link of the range */
};

static bool split_end(struct tp *p, tnode *n, struct end_text *e)
{
	const char *colon, *why;
	char head[TOPO_NAME_MAX + 16];
	size_t len;

	e->n = n;
	e->text = ty_scalar(n) && !ty_null(n) ? (const char *)n->data.scalar.value : NULL;
	if (!e->text || strlen(e->text) != n->data.scalar.length) {
		tp_error(p, n, "expected an end: NODE:IFACE, SWITCH, host or bridge:NAME, got %s",
			 ty_kind(n));
		return false;
	}
	colon = strchr(e->text, ':');
	if (!strcmp(e->text, "host")) {
		e->kind = TOPO_END_HOST;
		return true;
	}
	len = colon ? (size_t)(colon - e->text) : strlen(e->text);
	if (len >= sizeof(head))
		return tv_check(p, n, "expected an end: NODE:IFACE, SWITCH, host or bridge:NAME",
				e->text);
	memcpy(head, e->text, len);
	head[len] = '\0';
	e->ifname = colon ? colon + 1 : NULL;
	e->kind = !colon ? TOPO_END_SWITCH : strcmp(head, "bridge") ? TOPO_END_NODE
								     : TOPO_END_BRIDGE;
	if (e->kind == TOPO_END_BRIDGE)
		return true;
	why = tp_range_parse(head, &e->range);
	return tv_check(p, n, why, e->text);
}

/* The ends of a link item, as written: false after an error. */
static bool read_ends(struct tp *p, tnode *ends, struct end_text e[2])
{
	if (!ty_seq(ends) || ty_len(ends) != 2) {
		tp_error(p, ends, "expected two ends, like [r1:eth0, lan1], got %s",
			 ty_seq(ends) ? "another number of them" : ty_kind(ends));
		return false;
	}
	return split_end(p, ty_item(p, ends, 0), &e[0]) & split_end(p, ty_item(p, ends, 1), &e[1]);
}

/* How many links the item makes: 0 after an error. */
static unsigned int multiplicity(struct tp *p, const struct end_text e[2])
{
	bool r0 = e[0].range.is_range && e[0].kind != TOPO_END_BRIDGE;
	bool r1 = e[1].range.is_range && e[1].kind != TOPO_END_BRIDGE;
	unsigned int n0 = tp_range_len(&e[0].range), n1 = tp_range_len(&e[1].range);

	if (r0 && r1 && n0 != n1) {
		tp_error(p, e[1].n, "the ranges of a link go in step, and these make %u and %u "
			 "names", n0, n1);
		return 0;
	}
	return r0 ? n0 : r1 ? n1 : 1;
}

static unsigned int link_number(struct tp *p, const struct topo_link *l)
{
	return p->link_item[l - p->t->links];
}

static bool resolve_node_end(struct tp *p, struct end_text *e, const char *name,
			     struct topo_end *end)
{
	const char *ifname = e->ifname, *why = NULL;
	char q[64];

	if (p->in_range && strchr(ifname, '{'))
		ifname = tp_subst(p, ifname, p->index, &why);
	if (!ifname)
		return tv_check(p, e->n, why, e->text);
	if (!tv_check(p, e->n, tv_ifname(ifname, NULL), ifname))
		return false;
	end->node = topo_node(p->t, name);
	if (!end->node) {
		tp_error(p, e->n, "unknown node %s%s", tp_quote(name, q),
			 topo_switch(p->t, name) ? " (a switch has no interfaces: write just its name)"
						 : "");
		return false;
	}
	strcpy(e->cur_ifname, ifname);
	return true;
}

/*
 * The interfaces of the node ends, once the link is known to be good: an
 * interface the node does not declare is added to it now (and not for a
 * link with a mistake, which would leave it on no link).
 */
static bool attach(struct tp *p, struct topo_link *l, struct end_text e[2])
{
	unsigned int before = l->ends[0].kind == TOPO_END_NODE ? l->ends[0].node->nifaces : 0;
	struct topo_end *end;
	int i;

	for (i = 0; i < 2; i++) {
		end = &l->ends[i];
		if (end->kind != TOPO_END_NODE)
			continue;
		end->iface = tp_iface_get(p, end->node, e[i].cur_ifname, true, e[i].n);
		if (end->iface && end->iface->link == l) {
			tp_error(p, e[i].n, "a link from %s:%s to itself", end->node->name,
				 end->iface->name);
		} else if (end->iface && end->iface->link) {
			tp_error(p, e[i].n, "interface %s:%s is already on link %u (line %u)",
				 end->node->name, end->iface->name, link_number(p, end->iface->link),
				 end->iface->link->pos.line);
		} else if (end->iface) {
			end->iface->link = l;
			continue;
		}
		/* Undo the first end: an interface it added goes with the link. */
		if (i == 1 && l->ends[0].kind == TOPO_END_NODE && l->ends[0].iface->link == l) {
			l->ends[0].iface->link = NULL;
			l->ends[0].node->nifaces = before;
		}
		return false;
	}
	return true;
}

/* The K-th link's end E: false after an error. */
static bool resolve_end(struct tp *p, struct end_text *e, unsigned int k, struct topo_end *end)
{
	char name[TOPO_NAME_MAX + 16], q[64];
	unsigned int kk = e->range.is_range ? k : 0;

	end->kind = e->kind;
	end->pos = ty_pos(e->n);
	if (e->kind == TOPO_END_HOST)
		return true;
	if (e->kind == TOPO_END_BRIDGE) {
		if (!tv_check(p, e->n, tv_ifname(e->ifname, NULL), e->text))
			return false;
		strcpy(end->bridge, e->ifname);
		return true;
	}
	if (!tp_range_name(&e->range, kk, name, sizeof(name)) ||
	    !tv_check(p, e->n, tv_name(name, NULL), name))
		return false;
	if (e->kind == TOPO_END_NODE)
		return resolve_node_end(p, e, name, end);
	end->sw = topo_switch(p->t, name);
	if (!end->sw)
		tp_error(p, e->n, "unknown switch %s%s", tp_quote(name, q),
			 topo_node(p->t, name) ? " (a node's end is NODE:IFACE)" : "");
	return end->sw != NULL;
}

static bool is_dev(const struct topo_end *e)
{
	return e->kind == TOPO_END_NODE || e->kind == TOPO_END_SWITCH;
}

/* Step 2: what the two ends allow. */
static bool ends_allowed(struct tp *p, tnode *where, const struct topo_end *e)
{
	unsigned int i;

	if (!is_dev(&e[0]) && !is_dev(&e[1])) {
		tp_error(p, where, "a link needs a node or a switch at one end at least");
		return false;
	}
	for (i = 0; i < 2; i++) {
		if (is_dev(&e[i]) || e[1 - i].kind == TOPO_END_NODE)
			continue;
		tp_error(p, where, "a %s end needs a node at the other end (NODE:IFACE)",
			 e[i].kind == TOPO_END_HOST ? "host" : "bridge:");
		return false;
	}
	if (e[0].kind == TOPO_END_SWITCH && e[0].sw == e[1].sw) {
		tp_error(p, where, "switch %s is linked to itself", e[0].sw->name);
		return false;
	}
	return true;
}

/* Step 3. */
static void name_link(struct tp *p, struct topo_link *l, tnode *given, tnode *item)
{
	const struct topo_end *e = l->ends[0].kind == TOPO_END_NODE ? &l->ends[0] : &l->ends[1];
	const char *s;
	unsigned int i;

	if (given) {
		s = tv_read(p, given, tv_link_name, NULL);
		if (s)
			strcpy(l->name, s);
	} else if (e->kind == TOPO_END_NODE) {
		snprintf(l->name, sizeof(l->name), "%s:%s", e->node->name, e->iface->name);
	} else {
		snprintf(l->name, sizeof(l->name), "%s-%s", l->ends[0].sw->name, l->ends[1].sw->name);
	}
	if (!l->name[0])
		return;
	for (i = 0; &p->t->links[i] < l; i++) {
		if (!strcmp(p->t->links[i].name, l->name)) {
			tp_error(p, given ? given : item, "link name %s is already link %u's (line %u)", l->name,
				 link_number(p, &p->t->links[i]), p->t->links[i].pos.line);
			return;
		}
	}
	if (topo_switch(p->t, l->name))
		tp_error(p, given ? given : item, "link name %s is a switch's name", l->name);
}

/* ---- step 5: impairments ---- */

static void read_delay(struct tp *p, tnode *v, void *obj)
{
	tv_read(p, v, tv_time, &((struct topo_impair *)obj)->delay_ns);
}

static void read_jitter(struct tp *p, tnode *v, void *obj)
{
	tv_read(p, v, tv_time, &((struct topo_impair *)obj)->jitter_ns);
}

static void read_loss(struct tp *p, tnode *v, void *obj)
{
	tv_read(p, v, tv_percent, &((struct topo_impair *)obj)->loss_ppm);
}

static void read_rate(struct tp *p, tnode *v, void *obj)
{
	tv_read(p, v, tv_rate, &((struct topo_impair *)obj)->rate_bps);
}

/* impair: {delay, jitter, loss, rate}, or {egress: {...}, ingress: {...}} */
struct impair_read {
	struct topo_impair both;	/* first: the four readers take it as their object */
	struct topo_impair dir[2];
};

static void read_egress(struct tp *p, tnode *v, void *obj);
static void read_ingress(struct tp *p, tnode *v, void *obj);

static const struct tp_key impair_keys[] = {
	{ "delay", read_delay, 0, false },
	{ "jitter", read_jitter, 0, false },
	{ "loss", read_loss, 0, false },
	{ "rate", read_rate, 0, false },
	{ "egress", read_egress, 0, false },
	{ "ingress", read_ingress, 0, false },
};
#define IMPAIR_ONE_WAY_KEYS 4
#define BOTH_WAYS_SEEN 0x0f

static void read_egress(struct tp *p, tnode *v, void *obj)
{
	struct impair_read *r = obj;

	ty_read_map(p, v, impair_keys, IMPAIR_ONE_WAY_KEYS, 0, "egress", &r->dir[TOPO_EGRESS]);
}

static void read_ingress(struct tp *p, tnode *v, void *obj)
{
	struct impair_read *r = obj;

	ty_read_map(p, v, impair_keys, IMPAIR_ONE_WAY_KEYS, 0, "ingress", &r->dir[TOPO_INGRESS]);
}

static void read_impair(struct tp *p, tnode *v, struct topo_link *l)
{
	struct impair_read r = { 0 };
	uint64_t seen = ty_read_map(p, v, TP_KEYS(impair_keys), 0, "impair", &r);
	unsigned int d;

	if ((seen & BOTH_WAYS_SEEN) && (seen & ~(uint64_t)BOTH_WAYS_SEEN)) {
		tp_error(p, v, "give delay/jitter/loss/rate (for both directions) or egress: "
			 "and ingress:, not both");
		return;
	}
	for (d = 0; d < 2; d++) {
		l->impair[d] = seen & BOTH_WAYS_SEEN ? r.both : r.dir[d];
		if (l->impair[d].jitter_ns && !l->impair[d].delay_ns) {
			tp_error(p, v, "jitter: varies a delay: give delay: too");
			return;
		}
	}
}

/* ---- step 4 and 5: the other keys ---- */

static void trunk_item(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	char **text = obj;
	const char *s = ty_str(p, item, "a VLAN id or range");

	if (s)
		*text = tp_printf(p, "%s%s%s", *text, i ? ":" : "", s);
}

/* trunk: "10:20:100-199" or [10, 20, "100-199"], kept in the first form. */
static void read_trunk(struct tp *p, tnode *v, struct topo_link *l)
{
	char *text = "";

	if (ty_len(v) > 4094) {
		tp_error(p, v, "more than 4094 VLANs");
		return;
	}
	ty_each_item(p, v, true, "VLAN ids and ranges", trunk_item, &text);
	if (*text && tv_check(p, v, tv_trunk(text, NULL), text))
		l->trunk = text;
}

static void read_host(struct tp *p, const struct link_read *r, struct topo_link *l)
{
	bool host_end = l->ends[0].kind == TOPO_END_HOST || l->ends[1].kind == TOPO_END_HOST;
	bool nat = false;
	size_t saved;

	if (host_end && !r->host)
		tp_error(p, r->ends, "a host end needs host: (the host's addresses on it, like "
			 "192.168.50.1/24)");
	if (!host_end && r->host)
		tp_error(p, r->host, "host: is the address of a host end, and this link has none");
	if (host_end && r->host) {
		saved = tp_path_push(p, "host");
		ta_read_list(p, r->host, &l->host_addrs, &l->nhost_addrs);
		if (!l->nhost_addrs && ty_null(r->host))
			tp_error(p, r->host, "expected the host's address, like 192.168.50.1/24");
		tp_path_pop(p, saved);
	}
	saved = tp_path_push(p, "nat");
	if (r->nat && tv_read(p, r->nat, tv_bool, &nat) && nat && !host_end)
		tp_error(p, r->nat, "masquerades what comes from a host end, and this link has none");
	tp_path_pop(p, saved);
	l->nat = nat && host_end;
}

static void read_vlans(struct tp *p, const struct link_read *r, struct topo_link *l)
{
	bool switch_end = l->ends[0].kind == TOPO_END_SWITCH || l->ends[1].kind == TOPO_END_SWITCH;
	size_t saved;

	if ((r->vlan || r->trunk) && !switch_end) {
		tp_error(p, r->vlan ? r->vlan : r->trunk, "%s: is for a switch's port, and this "
			 "link has no switch end", r->vlan ? "vlan" : "trunk");
		return;
	}
	if (r->vlan && r->trunk) {
		tp_error(p, r->trunk, "a port is in one VLAN (vlan:) or carries several (trunk:), "
			 "not both");
		return;
	}
	saved = tp_path_push(p, r->vlan ? "vlan" : "trunk");
	if (r->vlan)
		tv_read(p, r->vlan, tv_vlan, &l->vlan);
	if (r->trunk)
		read_trunk(p, r->trunk, l);
	tp_path_pop(p, saved);
}

static void read_rest(struct tp *p, const struct link_read *r, struct topo_link *l)
{
	char file[TOPO_LINK_NAME_MAX + 1], *c;
	size_t saved;

	read_host(p, r, l);
	read_vlans(p, r, l);
	if (r->mtu) {
		saved = tp_path_push(p, "mtu");
		tv_read(p, r->mtu, tv_mtu, &l->mtu);
		tp_path_pop(p, saved);
	}
	if (r->impair) {
		saved = tp_path_push(p, "impair");
		read_impair(p, r->impair, l);
		tp_path_pop(p, saved);
	}
	if (r->capture) {
		strcpy(file, l->name);
		for (c = file; *c; c++)
			if (*c == ':')
				*c = '-';
		saved = tp_path_push(p, "capture");
		tp_read_capture(p, r->capture, &l->capture, file);
		tp_path_pop(p, saved);
	}
}

/* ---- the links ---- */

static void make_link(struct tp *p, unsigned int number, tnode *item, struct end_text e[2],
		      const struct link_read *r, unsigned int nth)
{
	struct topo_link *l = &p->t->links[p->t->nlinks];
	bool ok;

	memset(l, 0, sizeof(*l));
	l->pos = ty_pos(item);
	p->in_range = e[0].range.is_range || e[1].range.is_range;
	p->index = tp_range_index(e[0].range.is_range ? &e[0].range : &e[1].range, nth);
	ok = resolve_end(p, &e[0], nth, &l->ends[0]) & resolve_end(p, &e[1], nth, &l->ends[1]);
	if (ok && ends_allowed(p, item, l->ends) && attach(p, l, e)) {
		p->link_item[p->t->nlinks++] = number;
		name_link(p, l, r->name, item);
		read_rest(p, r, l);
	}
	p->in_range = false;
}

static void read_link_item(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct link_read r = { 0 };
	struct end_text e[2];
	unsigned int k, n;

	(void)obj;
	memset(e, 0, sizeof(e));
	tp_path_set(p, "link %u", i + 1);
	if (ty_seq(item))
		r.ends = item;
	else if (ty_map(item))
		ty_read_map(p, item, TP_KEYS(link_keys), 0, "a link", &r);
	else
		tp_error(p, item, "expected a link, [END, END] or {ends: [END, END], ...}, got %s",
			 ty_kind(item));
	if (!r.ends || !read_ends(p, r.ends, e))
		return;
	n = multiplicity(p, e);
	for (k = 0; k < n; k++) {
		if (p->t->nlinks == TOPO_MAX_LINKS) {
			tp_error(p, item, "more than %u links", TOPO_MAX_LINKS);
			return;
		}
		make_link(p, i + 1, item, e, &r, k);
	}
}

void tp_read_links(struct tp *p)
{
	p->t->links = tp_alloc(p, TOPO_MAX_LINKS * sizeof(*p->t->links));
	p->link_item = tp_alloc(p, TOPO_MAX_LINKS * sizeof(*p->link_item));
	tp_path_set(p, "links");
	if (ty_len(p->top.links) > TOPO_MAX_LINKS)
		tp_error(p, p->top.links, "more than %u links", TOPO_MAX_LINKS);
	else
		ty_each_item(p, p->top.links, false, "links", read_link_item, NULL);
	tp_path_set(p, "%s", "");
}
