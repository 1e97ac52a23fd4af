/*
 * topo_iface.c: a node's interfaces and routes, as its settings declare them.
 *
 *   interfaces:
 *     eth0: 10.1.0.1/24                     one address
 *     eth1: [10.2.0.1/24, fd00:2::1/64]     several
 *     eth2:                                 none (a bridge port, a sniffer)
 *     eth3: {address: 10.3.0.1/24, mac: 02:00:00:00:03:01, mtu: 9000}
 *
 * The guest finds its interfaces in the order they are declared here, then
 * those that only links name, in the order of the links (topo_link.c adds
 * them).  MACs not given are derived once the whole lab is known, and the
 * MTU of an interface that does not give one is its link's, else 1500
 * (topo_check.c).
 *
 *   routes:
 *     default: 10.1.0.1                     via a gateway
 *     10.9.0.0/16: {via: 10.1.0.2, dev: eth0}
 *     fd00:9::/64: {dev: eth1}              on-link
 *
 * "default" is 0.0.0.0/0, or ::/0 when the gateway is IPv6.  A destination
 * with host bits set (10.9.0.1/16) is refused as ip(8) would refuse it.
 * Whether dev is one of the node's interfaces, and whether the gateway is
 * on one of its subnets, is checked when the links have added theirs.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "topo_parse.h"

#define TP_MAX_ROUTES 256

static void read_iface_address(struct tp *p, tnode *v, void *obj)
{
	struct topo_iface *f = obj;

	ta_read_list(p, v, &f->addrs, &f->naddrs);
}

static void read_iface_mac(struct tp *p, tnode *v, void *obj)
{
	struct topo_iface *f = obj;

	if (tv_read(p, v, tv_mac, f->mac))
		f->mac_given = true;
}

static void read_iface_mtu(struct tp *p, tnode *v, void *obj)
{
	struct topo_iface *f = obj;

	tv_read(p, v, tv_mtu, &f->mtu);
}

static const struct tp_key iface_keys[] = {
	{ "address", read_iface_address, 0, false },
	{ "mac", read_iface_mac, 0, false },
	{ "mtu", read_iface_mtu, 0, false },
};

static void read_iface(struct tp *p, const char *name, tnode *k, tnode *v, void *obj)
{
	struct tp_level *l = obj;
	struct topo_iface *f;
	unsigned int i;
	char what[48];

	if (!tv_check(p, k, tv_ifname(name, NULL), name))
		return;
	for (i = 0; i < l->n.nifaces; i++) {
		if (!strcmp(l->n.ifaces[i].name, name)) {
			tp_error(p, k, "interface %s is declared twice (first at line %u)", name,
				 l->n.ifaces[i].pos.line);
			return;
		}
	}
	f = &l->n.ifaces[l->n.nifaces++];
	strcpy(f->name, name);
	f->pos = ty_pos(k);
	if (ty_map(v)) {
		snprintf(what, sizeof(what), "interface %s", name);
		ty_read_map(p, v, TP_KEYS(iface_keys), 0, what, f);
	} else {
		ta_read_list(p, v, &f->addrs, &f->naddrs);
	}
}

void ti_read_interfaces(struct tp *p, tnode *v, void *obj)
{
	if (ty_len(v) > TOPO_MAX_IFACES) {
		tp_error(p, v, "more than %u interfaces", TOPO_MAX_IFACES);
		return;
	}
	ty_each_pair(p, v, "interfaces", read_iface, obj);
}

/* ---- routes ---- */

static void read_route_via(struct tp *p, tnode *v, void *obj)
{
	struct topo_route *r = obj;

	ta_read(p, v, &r->via, true);
}

static void read_route_dev(struct tp *p, tnode *v, void *obj)
{
	struct topo_route *r = obj;
	const char *s = tv_read(p, v, tv_ifname, NULL);

	if (s)
		strcpy(r->dev, s);
}

static const struct tp_key route_keys[] = {
	{ "via", read_route_via, 0, false },
	{ "dev", read_route_dev, 0, false },
};

/* "default", or a prefix without host bits: false after an error. */
static bool read_dst(struct tp *p, const char *dst, tnode *k, struct topo_route *r)
{
	struct topo_addr net;
	char host[64];
	unsigned int i;

	if (!strcmp(dst, "default"))
		return true;
	if (topo_addr_parse(dst, &r->dst))
		return tv_check(p, k, "expected a destination like 10.9.0.0/16, fd00:9::/64 or "
			       "default", dst);
	if (!ta_host_bits(&r->dst))
		return true;
	net = r->dst;
	for (i = net.prefix; i < 128; i++)
		net.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	tp_error(p, k, "destination %s has host bits set: did you mean %s/%u?", dst,
		 ta_host(&net, host), net.prefix);
	return false;
}

static void read_route(struct tp *p, const char *dst, tnode *k, tnode *v, void *obj)
{
	struct tp_level *l = obj;
	struct topo_route r = { .pos = ty_pos(k) };
	bool is_default = !strcmp(dst, "default");
	unsigned long errors = p->nerrors;
	unsigned int i;
	char host[64];

	if (!read_dst(p, dst, k, &r))
		return;
	if (ty_map(v))
		ty_read_map(p, v, TP_KEYS(route_keys), 0, "a route", &r);
	else
		read_route_via(p, v, &r);
	if (p->nerrors != errors)
		return;
	if (!r.via.family && !r.dev[0]) {
		tp_error(p, v, "a route needs via: (a gateway) or dev: (an interface)");
		return;
	}
	if (is_default)
		topo_addr_parse(r.via.family == AF_INET6 ? "::/0" : "0.0.0.0/0", &r.dst);
	if (r.via.family && r.via.family != r.dst.family) {
		tp_error(p, v, "gateway %s is IPv%c but the destination %s is IPv%c",
			 ta_host(&r.via, host), r.via.family == AF_INET ? '4' : '6',
			 dst, r.dst.family == AF_INET ? '4' : '6');
		return;
	}
	for (i = 0; i < l->n.nroutes; i++) {
		if (!strcmp(l->n.routes[i].dst.text, r.dst.text)) {
			tp_error(p, k, "a second route to %s (first at line %u)", r.dst.text,
				 l->n.routes[i].pos.line);
			return;
		}
	}
	l->n.routes[l->n.nroutes++] = r;
}

void ti_read_routes(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (ty_len(v) > TP_MAX_ROUTES) {
		tp_error(p, v, "more than %u routes", TP_MAX_ROUTES);
		return;
	}
	l->n.routes = tp_alloc(p, (ty_len(v) + 1) * sizeof(*l->n.routes));
	ty_each_pair(p, v, "routes", read_route, l);
}
