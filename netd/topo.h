/*
 * topo.h: a lab, as its topology file says it, parsed and checked.
 *
 * A topology file (lab.topo, YAML; lguest-net.topo(5) is the user's guide)
 * names the lab and describes its nodes (lguest guests), its switches, the
 * links between them and the tests the lab must pass.  topo_load() reads
 * one and returns a struct topo in which every reference is resolved (a
 * link end points at its node, interface or switch), every default is
 * applied (defaults, then the node's group, then the node), every range is
 * expanded (h[1..4] is four nodes), and every value is checked.  So the
 * rest of lguest-net and lguest-netd never meet a name that leads nowhere
 * or a number out of range.
 *
 * Nothing here touches the host: the parser only reads the file and the
 * files it names (to check that they are there).  Which host names the lab
 * will use (taps, bridges, nftables tables) is the daemon's plan, not the
 * file's (netd/plan.c).
 *
 * Every element keeps its place in the file (struct topo_pos), so that a
 * later error (a subnet that collides with the host's) can still point at
 * the line that asked for it.
 */
#ifndef LGUEST_TOPO_H
#define LGUEST_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Limits: a lab bigger than this is a mistake, or an attack on the parser. */
#define TOPO_MAX_NODES		256
#define TOPO_MAX_SWITCHES	256
#define TOPO_MAX_LINKS		1024
#define TOPO_MAX_TESTS		1024
#define TOPO_MAX_IFACES		8	/* per node */
#define TOPO_MAX_DEVICES	10	/* per node, interfaces and disks: the launcher's */
#define TOPO_MAX_ERRORS		20	/* reported; the rest are counted */
#define TOPO_LAB_NAME_MAX	10	/* host names are LAB-xNNN: 15 characters */
#define TOPO_NAME_MAX		31	/* nodes, switches, groups */
#define TOPO_LINK_NAME_MAX	63	/* "node:iface" or "sw1-sw2" of the longest names */
#define TOPO_IFNAME_MAX		15	/* IFNAMSIZ - 1 */

/* Where something is in the file: 1-based line and column. */
struct topo_pos {
	unsigned int line, col;
};

/* An IPv4 or IPv6 address with its prefix length ("10.1.0.1/24"). */
struct topo_addr {
	int family;		/* AF_INET or AF_INET6; 0: none */
	uint8_t bytes[16];	/* network order; IPv4 in the first 4 */
	unsigned int prefix;	/* for a host address without "/N": 32 or 128 */
	char text[64];		/* as normalized: "10.1.0.1/24", "fd00::1/64" */
};

/* One direction's impairments; all zero: none. */
struct topo_impair {
	uint64_t delay_ns, jitter_ns;
	uint64_t rate_bps;	/* 0: no limit */
	uint32_t loss_ppm;	/* parts per million: 1% = 10000 */
};
enum topo_dir {
	TOPO_EGRESS = 0,	/* from the link's first end to its second */
	TOPO_INGRESS = 1,	/* from the second end to the first */
};

/* A capture: of a switch (each frame once, as it enters) or of a link. */
struct topo_capture {
	bool on;
	char *file;		/* absolute; default LABDIR/capture/NAME.pcap */
	uint64_t rotate_size;	/* bytes; 0: no rotation */
	unsigned int rotate_count;	/* files kept when rotating (default 2) */
};

struct topo_link;
struct topo_node;

struct topo_iface {
	char name[TOPO_IFNAME_MAX + 1];	/* in the guest: "eth0" */
	struct topo_pos pos;
	struct topo_addr *addrs;	/* may be none (a bridge port, a sniffer) */
	unsigned int naddrs;
	uint8_t mac[6];		/* as given, else derived from lab/node/iface */
	bool mac_given;
	unsigned int mtu;	/* 68..9000: given, else its link's mtu, else 1500 */
	struct topo_node *node;
	struct topo_link *link;	/* every interface is on exactly one link */
};

struct topo_route {
	struct topo_pos pos;
	struct topo_addr dst;	/* "default": 0.0.0.0/0 (or ::/0 by the gateway) */
	struct topo_addr via;	/* family 0: no gateway (on-link, dev given) */
	char dev[TOPO_IFNAME_MAX + 1];	/* "" unless given; must be the node's */
};

/* A file put into the guest's image. */
struct topo_file {
	struct topo_pos pos;
	char *guest_path;	/* absolute, in the guest */
	char *host_path;	/* absolute, on the host; NULL when content is set */
	char *content;		/* inline text ("content:" key) */
	unsigned int mode;	/* default 0644, or the host file's; 0755 for programs */
};

struct topo_node {
	char name[TOPO_NAME_MAX + 1];
	struct topo_pos pos;
	char *group;		/* the group it took settings from, or NULL */
	char *kernel;		/* absolute; default /boot/vmlinuz-$(uname -r) */
	uint64_t memory;	/* bytes; default 128 MiB */
	unsigned int cpus;	/* 1 (lg.ko runs one vCPU per guest today) */
	char *cmdline;		/* extra kernel arguments, or NULL */
	char **disks;		/* absolute paths: /dev/lgba, /dev/lgbb... */
	unsigned int ndisks;
	struct topo_file *files;
	unsigned int nfiles;
	char **programs;	/* host programs copied in, with their libraries */
	unsigned int nprograms;
	char **modules;		/* kernel modules put in the image and loaded */
	unsigned int nmodules;
	struct topo_iface *ifaces;	/* in the order the guest finds them */
	unsigned int nifaces;
	struct topo_route *routes;
	unsigned int nroutes;
	bool forward;		/* net.ipv4.ip_forward = 1 */
	bool forward6;		/* net.ipv6.conf.all.forwarding = 1 */
	char *startup;		/* shell (busybox sh) run at boot, or NULL */
	struct topo_node **after;	/* started once these are ready */
	unsigned int nafter;
	char *ready;		/* shell command: ready when it exits 0; NULL: when up */
	uint64_t ready_timeout_ns;	/* from start to ready (default 180 s) */
};

enum topo_switch_kind {
	TOPO_SWITCH_LGUEST,	/* lguest-vswitch */
	TOPO_SWITCH_OVS,	/* an Open vSwitch bridge (userspace datapath) */
};

struct topo_switch {
	char name[TOPO_NAME_MAX + 1];
	struct topo_pos pos;
	enum topo_switch_kind kind;
	bool hub;		/* flood everything, learn nothing */
	struct topo_capture capture;
};

enum topo_end_kind {
	TOPO_END_NODE,		/* node:iface */
	TOPO_END_SWITCH,	/* a switch of this lab */
	TOPO_END_HOST,		/* "host": a tap on the host with link->host_addrs */
	TOPO_END_BRIDGE,	/* "bridge:NAME": an existing bridge on the host */
};

struct topo_end {
	enum topo_end_kind kind;
	struct topo_pos pos;
	struct topo_node *node;		/* NODE */
	struct topo_iface *iface;	/* NODE */
	struct topo_switch *sw;		/* SWITCH */
	char bridge[TOPO_IFNAME_MAX + 1];	/* BRIDGE */
};

struct topo_link {
	char name[TOPO_LINK_NAME_MAX + 1];	/* given, else "node:iface" of its first node end,
					 * else "sw1-sw2" */
	struct topo_pos pos;
	struct topo_end ends[2];	/* at least one is a node or a switch */
	struct topo_addr *host_addrs;	/* a "host" end's addresses on the host's tap */
	unsigned int nhost_addrs;
	bool nat;		/* masquerade what comes from the host end's subnets */
	struct topo_impair impair[2];	/* [TOPO_EGRESS], [TOPO_INGRESS] */
	struct topo_capture capture;
	unsigned int mtu;	/* 0: the interfaces' */
	unsigned int vlan;	/* access VLAN at the switch end (1..4094), 0: none */
	char *trunk;		/* "10:20:100-199" (lguest-vswitch's form), or NULL */
};

enum topo_test_kind {
	TOPO_TEST_PING,		/* from, to, count, expect */
	TOPO_TEST_ROUTE,	/* from (the node asked), to, via, dev */
	TOPO_TEST_SOURCE,	/* from, to, port, seen: the source address at `to` */
	TOPO_TEST_CONNECT,	/* from, to, port, expect: a TCP connection */
	TOPO_TEST_CAPTURE,	/* capture (switch or link), filter, count, expect */
	TOPO_TEST_EXEC,		/* from (the node it runs on), run, output, expect */
};

struct topo_test {
	enum topo_test_kind kind;
	struct topo_pos pos;
	char *name;		/* given, or a description made from the fields */
	struct topo_node *from;
	char *to;		/* an address as written, or resolved from "node" */
	struct topo_addr to_addr;
	unsigned int count;	/* ping: echo requests (default 3); capture: at least */
	bool expect_ok;		/* expect: ok (default) | fail */
	struct topo_addr via;	/* route: the expected next hop (family 0: on-link) */
	char dev[TOPO_IFNAME_MAX + 1];	/* route: the expected interface, or "" */
	struct topo_addr seen;	/* source */
	unsigned int port;	/* source (default 5000, UDP), connect */
	struct topo_switch *capture_switch;	/* capture: one of these two */
	struct topo_link *capture_link;
	char *filter;		/* capture: a tshark display filter */
	char *run;		/* exec: shell command */
	char *output;		/* exec: an extended regex its output must match, or NULL */
	uint64_t timeout_ns;	/* for the whole check (default 10 s) */
};

struct topo {
	char *file;		/* absolute path of the topology file */
	char lab[TOPO_LAB_NAME_MAX + 1];
	char *dir;		/* the lab directory (absolute): "dir:", else FILEDIR/LAB */
	struct topo_node *nodes;
	unsigned int nnodes;
	struct topo_switch *switches;
	unsigned int nswitches;
	struct topo_link *links;
	unsigned int nlinks;
	struct topo_test *tests;
	unsigned int ntests;
};

/* What was wrong, and where. */
struct topo_error {
	char file[256];
	unsigned int line, col;	/* 0 when the error is about the whole file */
	char msg[256];
};

struct topo_errors {
	struct topo_error e[TOPO_MAX_ERRORS];
	unsigned int n;		/* kept in e[] */
	unsigned int more;	/* found beyond TOPO_MAX_ERRORS */
};

/*
 * Parse TEXT (LEN bytes), the contents of the topology file PATH (used for
 * error messages and to resolve relative paths: the file's directory).  On
 * success returns the topology; else NULL with ERRS filled (never empty),
 * in the file's order.  TEXT may be anything at all: a file someone else
 * wrote.  A node without kernel: gets $LGUEST_NET_KERNEL, else the host's
 * /boot/vmlinuz-$(uname -r); programs: are looked up in $PATH.
 */
struct topo *topo_parse(const char *path, const char *text, size_t len,
			struct topo_errors *errs);
/* Read PATH (a regular file of at most 1 MiB) and parse it; a file that
 * cannot be read is an error in ERRS. */
struct topo *topo_load(const char *path, struct topo_errors *errs);
/* Everything a struct topo points to belongs to it (one arena): free it all
 * here, never a part of it.  NULL is taken. */
void topo_free(struct topo *t);

/* "FILE:LINE:COL: MSG", one error per line, to F; then "... and N more". */
void topo_errors_print(const struct topo_errors *errs, FILE *f);

/* Lookups by name: NULL if there is none. */
struct topo_node *topo_node(const struct topo *t, const char *name);
struct topo_switch *topo_switch(const struct topo *t, const char *name);
/* A link by its name, or by either of its node ends ("h1:eth0"). */
struct topo_link *topo_link(const struct topo *t, const char *name);

/* "10.1.0.1/24" or "fd00::1/64" (a bare address gets /32 or /128): 0 or -1. */
int topo_addr_parse(const char *text, struct topo_addr *a);
/* Do the two subnets overlap (each taken with its own prefix)? */
bool topo_addr_overlap(const struct topo_addr *a, const struct topo_addr *b);

#endif
