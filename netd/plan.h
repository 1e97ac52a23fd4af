/*
 * plan.h: what a lab will be on the host, before anything is made.
 *
 * The topology says what the user wants; the plan says how the host will
 * hold it: which taps, which switch processes with which ports, which
 * sharenet files, sockets and capture files, which nftables table.  It is
 * a pure function of the topology and the run directory, so that
 * `lguest-net up --dry-run` can show it, the collision check can look at
 * every name before one is made, and `down` never needs it (the journal
 * says what was made).
 *
 * One rule shapes it: every link passes through a port of an lguest-vswitch,
 * and a guest's interface is a sharenet segment of its own with exactly two
 * members, the guest and that port.  So every link can be captured from its
 * first frame and impaired, cut and mended at run time, whatever its ends:
 *
 *	node - switch     the switch's process has a sharenet port for the node
 *	node - node       a "wire": a switch process of two sharenet ports
 *	node - host       a wire: the node's sharenet and a tap netd made, with
 *	                  the host's address (and masquerade with nat: true)
 *	node - bridge:B   a wire: the node's sharenet and a tap netd made, in B
 *	node - ovs switch a wire: the node's sharenet and a tap in the OVS bridge
 *	switch - switch   a unix datagram socket pair, one port on each switch
 *
 * A link's impairments and its capture sit on one port: the one on the side
 * of the link's first end (plan_link_port()).
 */
#ifndef LGUEST_NETD_PLAN_H
#define LGUEST_NETD_PLAN_H

#include <limits.h>
#include <stdbool.h>

#include "topo.h"

#define PLAN_IFNAME 16
#define PLAN_PATH 108		/* sun_path: every socket path fits */

enum plan_tap_kind {
	PLAN_TAP_HOST,		/* has the link's host addresses */
	PLAN_TAP_BRIDGE,	/* a port of an existing bridge */
	PLAN_TAP_OVS,		/* a port of the lab's OVS bridge */
};

struct plan_tap {
	char name[PLAN_IFNAME];
	enum plan_tap_kind kind;
	const struct topo_link *link;
	char master[PLAN_IFNAME];	/* BRIDGE, OVS: the bridge */
	unsigned int vlan;		/* OVS: the port's tag */
	const char *trunk;		/* OVS: trunks */
};

struct plan_port {
	char name[32];			/* the switch's port name ("h1.eth0") */
	char *spec;			/* its --port SPEC */
	const struct topo_link *link;
	bool link_port;			/* the link's impairments and capture are here */
	bool egress_is_in;		/* the link's egress is this port's "in" direction */
};

struct plan_switch {
	char name[TOPO_LINK_NAME_MAX + 1];	/* the lab's switch, or the link it wires */
	const struct topo_switch *sw;	/* a lab switch, or NULL for a wire */
	const struct topo_link *link;	/* a wire's link */
	char ctl[PLAN_PATH];		/* its control socket */
	struct plan_port *ports;
	unsigned int nports;
	bool hub;
	struct topo_capture capture;	/* the switch-wide capture */
};

struct plan_node {
	const struct topo_node *t;
	char chan[PLAN_PATH];		/* the agent's channel socket */
	char (*nets)[PATH_MAX];		/* per interface: its sharenet file */
	char console[PATH_MAX];		/* LABDIR/console/NODE.log */
};

struct plan_nat {
	struct topo_addr subnet;
	char tap[PLAN_IFNAME];
};

struct plan_ovs {
	char bridge[PLAN_IFNAME];
	const struct topo_switch *sw;
};

struct plan {
	const struct topo *topo;
	char run[PATH_MAX];		/* /run/lguest/LAB */
	char table[32];			/* nftables: "lguest-LAB" when there is NAT */
	struct plan_tap *taps;
	unsigned int ntaps;
	struct plan_switch *switches;
	unsigned int nswitches;
	struct plan_node *nodes;	/* in the topology's order */
	unsigned int nnodes;
	struct plan_nat *nats;
	unsigned int nnats;
	struct plan_ovs *ovs;
	unsigned int novs;
};

/* Make the plan for T under RUN_ROOT (/run/lguest); NULL with ERR set. */
struct plan *plan_make(const struct topo *t, const char *run_root, char *err, size_t errlen);
void plan_free(struct plan *p);

/* The switch process and port that carry LINK's impairments and capture. */
bool plan_link_port(const struct plan *p, const struct topo_link *link,
		    const struct plan_switch **sw, const struct plan_port **port);
/* A lab switch or wire by its name (a link's name for a wire). */
const struct plan_switch *plan_switch_named(const struct plan *p, const char *name);

/* Print the plan for humans (lguest-net up --dry-run). */
void plan_print(const struct plan *p, FILE *f);

#endif
