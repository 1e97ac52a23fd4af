/*
 * topo_check.c: what can only be checked once the whole lab is read.
 *
 *   1. boot order: after: names resolved, and no cycle (topo_node.c);
 *   2. every interface a node declares is on a link (one that is on none is
 *      a cable someone forgot), and a node's interfaces and disks fit the
 *      launcher's TOPO_MAX_DEVICES;
 *   3. MTUs: an interface that gives none takes its link's, else 1500;
 *   4. MACs: each interface without one gets a MAC derived from
 *      "LAB/NODE/IFACE" (FNV-1a, 64 bits), locally administered and
 *      unicast, so a lab's MACs are the same every time it comes up and
 *      differ between labs; two interfaces with one MAC is an error,
 *      whether given or derived;
 *   5. routes: dev: is one of the node's interfaces, and a gateway is on
 *      one of the subnets of the node's addresses (of dev's, when given)
 *      and not the node's own address, as Linux will want it ("Nexthop has
 *      invalid gateway");
 *   6. names and files: a link's given name is not another link's
 *      NODE:IFACE, and no two captures write one file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "topo_parse.h"

#define DEFAULT_MTU 1500

static void check_ifaces(struct tp *p, struct topo_node *n)
{
	unsigned int i;

	tp_path_set(p, "nodes.%s", n->name);
	if (n->nifaces + n->ndisks > TOPO_MAX_DEVICES)
		tp_error_pos(p, n->pos, "%u interfaces and %u disks: a guest has at most %u "
			     "devices", n->nifaces, n->ndisks, TOPO_MAX_DEVICES);
	for (i = 0; i < n->nifaces; i++) {
		struct topo_iface *f = &n->ifaces[i];

		if (!f->link)
			tp_error_pos(p, f->pos, "interface %s:%s is declared but on no link",
				     n->name, f->name);
		if (!f->mtu)
			f->mtu = f->link && f->link->mtu ? f->link->mtu : DEFAULT_MTU;
	}
}

static void derive_mac(const char *lab, const struct topo_iface *f, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a 64 */
	char key[TOPO_LAB_NAME_MAX + TOPO_NAME_MAX + TOPO_IFNAME_MAX + 3];
	const char *c;
	int i;

	snprintf(key, sizeof(key), "%s/%s/%s", lab, f->node->name, f->name);
	for (c = key; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 0x100000001b3ull;
	}
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);	/* local, unicast */
}

static void check_macs(struct tp *p)
{
	struct topo *t = p->t;
	struct topo_iface **all = tp_alloc(p, TOPO_MAX_NODES * TOPO_MAX_IFACES * sizeof(*all));
	struct topo_iface *f, *g;
	unsigned int i, j, n = 0;

	for (i = 0; i < t->nnodes; i++) {
		for (j = 0; j < t->nodes[i].nifaces; j++) {
			f = all[n++] = &t->nodes[i].ifaces[j];
			if (!f->mac_given)
				derive_mac(t->lab, f, f->mac);
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0, f = all[i]; j < i && memcmp(f->mac, all[j]->mac, 6); j++)
			;
		if (j == i)
			continue;
		g = all[j];
		tp_path_set(p, "nodes.%s", f->node->name);
		tp_error_pos(p, f->pos, "interface %s:%s has the MAC of %s:%s "
			     "(%02x:%02x:%02x:%02x:%02x:%02x): give one of them another mac:",
			     f->node->name, f->name, g->node->name, g->name, f->mac[0], f->mac[1],
			     f->mac[2], f->mac[3], f->mac[4], f->mac[5]);
	}
}

/* Is the gateway one of N's own addresses (a route Linux refuses)? */
static bool gateway_is_own(const struct topo_node *n, const struct topo_route *r)
{
	unsigned int i, j;

	for (i = 0; i < n->nifaces; i++)
		for (j = 0; j < n->ifaces[i].naddrs; j++)
			if (n->ifaces[i].addrs[j].family == r->via.family &&
			    !memcmp(n->ifaces[i].addrs[j].bytes, r->via.bytes, sizeof(r->via.bytes)))
				return true;
	return false;
}

/* Is GW on a subnet of one of N's interfaces (DEV's only, when given)? */
static bool gateway_on_link(const struct topo_node *n, const struct topo_route *r)
{
	unsigned int i, j;

	if (r->via.family == AF_INET6 && r->via.bytes[0] == 0xfe && (r->via.bytes[1] & 0xc0) == 0x80)
		return r->dev[0] != '\0';	/* link-local: needs its interface */
	for (i = 0; i < n->nifaces; i++) {
		if (r->dev[0] && strcmp(n->ifaces[i].name, r->dev))
			continue;
		for (j = 0; j < n->ifaces[i].naddrs; j++)
			if (ta_contains(&n->ifaces[i].addrs[j], &r->via))
				return true;
	}
	return false;
}

static void check_routes(struct tp *p, struct topo_node *n)
{
	unsigned int i, j;
	char host[64];

	tp_path_set(p, "nodes.%s.routes", n->name);
	for (i = 0; i < n->nroutes; i++) {
		const struct topo_route *r = &n->routes[i];

		for (j = 0; r->dev[0] && j < n->nifaces && strcmp(n->ifaces[j].name, r->dev); j++)
			;
		if (r->dev[0] && j == n->nifaces)
			tp_error_pos(p, r->pos, "route to %s: node %s has no interface %s",
				     r->dst.text, n->name, r->dev);
		else if (r->via.family && gateway_is_own(n, r))
			tp_error_pos(p, r->pos, "route to %s: gateway %s is %s's own address",
				     r->dst.text, ta_host(&r->via, host), n->name);
		else if (r->via.family && !gateway_on_link(n, r))
			tp_error_pos(p, r->pos, "route to %s: gateway %s is on none of %s's subnets%s",
				     r->dst.text, ta_host(&r->via, host), n->name,
				     r->dev[0] ? " on that interface" : "");
	}
}

static bool is_end_name(const struct topo_end *e, const char *name)
{
	char s[TOPO_LINK_NAME_MAX + 1];

	if (e->kind != TOPO_END_NODE)
		return false;
	snprintf(s, sizeof(s), "%s:%s", e->node->name, e->iface->name);
	return !strcmp(s, name);
}

static void check_link_names(struct tp *p)
{
	struct topo *t = p->t;
	unsigned int i, j;

	for (i = 0; i < t->nlinks; i++) {
		for (j = 0; j < t->nlinks; j++) {
			if (j == i || (!is_end_name(&t->links[j].ends[0], t->links[i].name) &&
				       !is_end_name(&t->links[j].ends[1], t->links[i].name)))
				continue;
			tp_path_set(p, "link %u", p->link_item[i]);
			tp_error_pos(p, t->links[i].pos, "its name %s is an end of link %u (line %u)",
				     t->links[i].name, p->link_item[j], t->links[j].pos.line);
		}
	}
}

struct capture_seen {
	const struct topo_capture *c;
	const char *owner;	/* "switch lan1", "link r1:eth0" */
	struct topo_pos pos;
};

static void check_one_capture(struct tp *p, struct capture_seen *now, struct capture_seen *seen,
			      unsigned int *n)
{
	unsigned int i;

	if (!now->c->on)
		return;
	for (i = 0; i < *n; i++) {
		if (!strcmp(seen[i].c->file, now->c->file)) {
			tp_error_pos(p, now->pos, "captures to the file of %s (line %u)",
				     seen[i].owner, seen[i].pos.line);
			return;
		}
	}
	seen[(*n)++] = *now;
}

static void check_captures(struct tp *p)
{
	struct topo *t = p->t;
	struct capture_seen *seen = tp_alloc(p, (t->nswitches + t->nlinks + 1) * sizeof(*seen));
	struct capture_seen now;
	unsigned int i, n = 0;

	for (i = 0; i < t->nswitches; i++) {
		tp_path_set(p, "switches.%s", t->switches[i].name);
		now = (struct capture_seen){ &t->switches[i].capture,
					     tp_printf(p, "switch %s", t->switches[i].name),
					     t->switches[i].pos };
		check_one_capture(p, &now, seen, &n);
	}
	for (i = 0; i < t->nlinks; i++) {
		tp_path_set(p, "link %u", p->link_item[i]);
		now = (struct capture_seen){ &t->links[i].capture,
					     tp_printf(p, "link %s", t->links[i].name), t->links[i].pos };
		check_one_capture(p, &now, seen, &n);
	}
}

void tp_check(struct tp *p)
{
	unsigned int i;

	tp_resolve_after(p);
	for (i = 0; i < p->t->nnodes; i++) {
		check_ifaces(p, &p->t->nodes[i]);
		check_routes(p, &p->t->nodes[i]);
	}
	check_macs(p);
	check_link_names(p);
	check_captures(p);
	tp_path_set(p, "%s", "");
}
