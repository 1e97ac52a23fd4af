/*
 * netlink.h: the host's links, addresses and routes, as lguest-netd makes,
 * marks, inspects and removes them (rtnetlink over libmnl; netlink.c).
 *
 * Open a struct nl in the network namespace to work in; every call acts
 * there.  One handle per thread: a call is one conversation on its socket.
 * Every call returns 0 (or the documented positive result) or a negative
 * errno, and then fills ERR (ERRLEN bytes; may be NULL) with a
 * message that names the link, address or route and says why, errno's text
 * and the kernel's own words included ("tap0: set MTU 70000: Invalid
 * argument (MTU greater than device maximum)").  Changes need
 * CAP_NET_ADMIN in that namespace; lookups and dumps do not.
 *
 * Link names are checked as the kernel checks them (1 to 15 characters,
 * none of them '/', ':' or white space, not "." or ".."): a bad name is
 * EINVAL with a message, never a silent "no such link".
 */
#ifndef LGUEST_NETD_NETLINK_H
#define LGUEST_NETD_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nlsock.h"

#define NL_KIND_MAX	32	/* "tun", "bridge", "veth", "openvswitch"... */
#define NL_ALIAS_MAX	256	/* IFALIASZ: 255 characters and the NUL */
#define NL_IP_TEXT_MAX	46	/* INET6_ADDRSTRLEN */

/* nl_link_delete()'s outcomes other than 0 (deleted). */
#define NL_ABSENT	1	/* there was no such link: nothing done */
#define NL_NOT_OURS	2	/* it is there, but its alias is not the mark: left alone */

struct nl {
	struct nlsock sock;
};

/* One link, as nl_link_get() and nl_link_dump() see it. */
struct nl_link {
	unsigned int index;
	char name[IFNAMSIZ];
	char kind[NL_KIND_MAX];		/* IFLA_INFO_KIND; "" for a NIC, lo... */
	char alias[NL_ALIAS_MAX];	/* IFLA_IFALIAS; "" if none */
	bool up;			/* administratively (IFF_UP) */
	bool carrier;			/* IFF_LOWER_UP */
	unsigned int mtu;
	unsigned int master;		/* the bridge it is a port of (ifindex); 0 if none */
};

/* An IPv4 or IPv6 address, in network order (IPv4 in the first 4 bytes). */
struct nl_ip {
	int family;			/* AF_INET or AF_INET6; 0: none */
	uint8_t bytes[16];
};

/* One address on one link. */
struct nl_addr {
	struct nl_ip ip;
	unsigned int prefix;
	unsigned int index;		/* its link */
	char dev[IFNAMSIZ];		/* its link's name */
};

/* One route of the main table. */
struct nl_route {
	struct nl_ip dst;		/* dst.family is the route's family */
	unsigned int prefix;		/* 0 with dst all zeros: the default route */
	struct nl_ip gateway;		/* family 0: none (on-link, or a multipath route) */
	unsigned int index;		/* the output link; 0: none given */
	char dev[IFNAMSIZ];		/* its name, or "" */
	uint32_t metric;		/* RTA_PRIORITY */
	uint8_t protocol;		/* RTPROT_KERNEL, RTPROT_STATIC (ours)... */
	uint8_t type;			/* RTN_UNICAST, RTN_BLACKHOLE... */
};

/* Open (and close) the handle, in the calling thread's network namespace. */
int nl_open(struct nl *nl, char *err, size_t errlen);
void nl_close(struct nl *nl);

/* --- links: lookups ------------------------------------------------------------ */

/* The ifindex of the link called NAME: > 0, or 0 if there is none. */
int nl_link_index(struct nl *nl, const char *name, char *err, size_t errlen);

/* Everything about the link called NAME into *LINK; -ENODEV if there is none. */
int nl_link_get(struct nl *nl, const char *name, struct nl_link *link,
		char *err, size_t errlen);

/* Every link: *LINKS (*N of them, in ifindex order) is the caller's to free(). */
int nl_link_dump(struct nl *nl, struct nl_link **links, size_t *n, char *err, size_t errlen);

/* --- links: making and removing ----------------------------------------------- */

/*
 * A persistent tap (IFF_TAP | IFF_NO_PI, one queue) called NAME, down.  It
 * outlives this process; whoever attaches to it later (the switch, the
 * launcher) opens /dev/net/tun with the same name.  -EEXIST if NAME is
 * taken (by any link: an existing tap is never taken over).
 */
int nl_tap_create(struct nl *nl, const char *name, char *err, size_t errlen);

/* A bridge called NAME, down.  -EEXIST if NAME is taken. */
int nl_bridge_create(struct nl *nl, const char *name, char *err, size_t errlen);

/* A veth pair NAME <-> PEER, both down.  -EEXIST if either name is taken. */
int nl_veth_create(struct nl *nl, const char *name, const char *peer,
		   char *err, size_t errlen);

/*
 * Delete the link called NAME: 0, or NL_ABSENT if there is none.  With a
 * MARK (not NULL), only if its alias is exactly MARK: otherwise NL_NOT_OURS,
 * nothing done, and ERR says whose it seems to be.  (The alias is checked
 * and the link deleted by its ifindex, which the kernel does not reuse for
 * another link in between.)  Deleting one end of a veth deletes both.
 */
int nl_link_delete(struct nl *nl, const char *name, const char *mark,
		   char *err, size_t errlen);

/* Move the link NAME into the network namespace open at NETNS_FD. */
int nl_link_set_netns(struct nl *nl, const char *name, int netns_fd,
		      char *err, size_t errlen);

/* --- links: settings ------------------------------------------------------------ */

/* Bring NAME up (UP true) or down. */
int nl_link_set_up(struct nl *nl, const char *name, bool up, char *err, size_t errlen);

/* Set NAME's MTU. */
int nl_link_set_mtu(struct nl *nl, const char *name, unsigned int mtu,
		    char *err, size_t errlen);

/*
 * Make NAME a port of the bridge BRIDGE, or of none when BRIDGE is NULL.
 * BRIDGE must be a link of kind "bridge" (-EINVAL otherwise, saying what it is).
 */
int nl_link_set_master(struct nl *nl, const char *name, const char *bridge,
		       char *err, size_t errlen);

/*
 * Set NAME's alias (up to 255 characters; "" removes it).  lguest-netd
 * marks what it creates with one ("lguest:LAB") and deletes only what
 * carries its mark (nl_link_delete's MARK).
 */
int nl_link_set_alias(struct nl *nl, const char *name, const char *alias,
		      char *err, size_t errlen);

/* --- addresses ----------------------------------------------------------------- */

/*
 * Add IP/PREFIX to the link DEV (-EEXIST if it has it), or delete it
 * (-EADDRNOTAVAIL if it has not).  IPv6 addresses are added "nodad": the
 * links are new and ours, and a tentative address could not be used yet.
 */
int nl_addr_add(struct nl *nl, const char *dev, const struct nl_ip *ip, unsigned int prefix,
		char *err, size_t errlen);
int nl_addr_del(struct nl *nl, const char *dev, const struct nl_ip *ip, unsigned int prefix,
		char *err, size_t errlen);

/* Every address of both families: *ADDRS (*N) is the caller's to free(). */
int nl_addr_dump(struct nl *nl, struct nl_addr **addrs, size_t *n, char *err, size_t errlen);

/* --- routes (the main table) ----------------------------------------------- */

/*
 * Add the route DST/PREFIX via GATEWAY (NULL: none) out of DEV (NULL:
 * wherever the gateway is), in the main table, protocol "static"; at least
 * one of GATEWAY and DEV is needed, and GATEWAY's family must be DST's.
 * -EEXIST if the table has that route.  Delete it: -ESRCH if there is no
 * such route (the same DST/PREFIX, and GATEWAY and DEV where given).
 */
int nl_route_add(struct nl *nl, const struct nl_ip *dst, unsigned int prefix,
		 const struct nl_ip *gateway, const char *dev, char *err, size_t errlen);
int nl_route_del(struct nl *nl, const struct nl_ip *dst, unsigned int prefix,
		 const struct nl_ip *gateway, const char *dev, char *err, size_t errlen);

/* Every route of the main table, both families: *ROUTES (*N) is the caller's to free(). */
int nl_route_dump(struct nl *nl, struct nl_route **routes, size_t *n, char *err, size_t errlen);

/* --- text ----------------------------------------------------------------------- */

/* IP as text ("10.1.0.1", "fd00::1") in BUF; returns BUF. */
const char *nl_ip_text(const struct nl_ip *ip, char buf[NL_IP_TEXT_MAX]);

#endif
