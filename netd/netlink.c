/*
 * netlink.c: links, addresses and routes, made and read with rtnetlink.
 *
 * lguest-netd builds a lab's host side out of a few kinds of link: taps
 * (the host's end of a guest's network card, which the switch or the
 * launcher opens later), bridges (to join taps to one another or to the
 * host), and veth pairs (two interfaces joined by a wire, for the
 * benchmarks and for labs that reach into another network namespace).  It
 * gives them addresses and routes, and takes it all away again.
 *
 * Everything is one rtnetlink request and its answer (nlsock.c carries the
 * conversation and checks the framing), built and parsed with libmnl, the
 * way "ip" does it.  All but one thing: netlink cannot make a tap (the tun
 * driver refuses RTM_NEWLINK), so nl_tap_create() asks /dev/net/tun for one
 * with TUNSETIFF, makes it outlive its file descriptor with TUNSETPERSIST,
 * and closes the descriptor; IFF_TUN_EXCL makes TUNSETIFF fail if the name
 * is taken, where it would otherwise attach us to an existing tap.
 *
 * Reading the kernel's answers, every attribute we use is validated
 * (mnl_attr_validate: its length fits its type, a string ends inside its
 * attribute) and every address has exactly its family's length; a message
 * too short for its fixed header is EPROTO.  Names and addresses are checked
 * before anything is sent, so that a mistake is reported as the caller's
 * and not as the kernel's puzzled EINVAL.
 *
 * Ownership: the arrays returned by the dumps are the caller's to free();
 * nothing else is allocated here outside a call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>		/* after net/if.h: IFF_LOWER_UP */
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink.h"
#include "tun.h"

#define NL_REQUEST_MAX	2048	/* our largest request: a name, a 255-byte alias, headers */
#define NL_DUMP_TRIES	5	/* a dump the kernel says changed under it is asked again */

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)	/* Linux 5.7; older kernels ignore it */
#endif

int nl_open(struct nl *nl, char *err, size_t errlen)
{
	return nlsock_open(&nl->sock, NETLINK_ROUTE, err, errlen);
}

void nl_close(struct nl *nl)
{
	nlsock_close(&nl->sock);
}

/* --- names, addresses and their text --------------------------------------------- */

/* A link name the kernel would take (dev_valid_name()), or -EINVAL saying why not. */
static int nl_name_check(const char *name, const char *what, char *err, size_t errlen)
{
	const char *p;

	if (!name || !name[0])
		return nlsock_error(-EINVAL, err, errlen, "%s: no name given", what);
	if (strlen(name) >= IFNAMSIZ)
		return nlsock_error(-EINVAL, err, errlen, "%s '%s': longer than %d characters",
				    what, name, IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return nlsock_error(-EINVAL, err, errlen, "%s '%s': not a name", what, name);
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return nlsock_error(-EINVAL, err, errlen,
					    "%s '%s': a name cannot hold '/', ':' or white space",
					    what, name);
	return 0;
}

static size_t nl_ip_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

const char *nl_ip_text(const struct nl_ip *ip, char buf[NL_IP_TEXT_MAX])
{
	if (!nl_ip_len(ip->family) || !inet_ntop(ip->family, ip->bytes, buf, NL_IP_TEXT_MAX))
		snprintf(buf, NL_IP_TEXT_MAX, "(no address)");
	return buf;
}

/* IP/PREFIX must be an address of its family with a prefix that fits it. */
static int nl_ip_check(const struct nl_ip *ip, unsigned int prefix, const char *what,
		       char *err, size_t errlen)
{
	char text[NL_IP_TEXT_MAX];

	if (!nl_ip_len(ip->family))
		return nlsock_error(-EAFNOSUPPORT, err, errlen,
				    "%s: not an IPv4 or IPv6 address (family %d)", what, ip->family);
	if (prefix > nl_ip_len(ip->family) * 8)
		return nlsock_error(-EINVAL, err, errlen, "%s %s/%u: the prefix is longer than %zu",
				    what, nl_ip_text(ip, text), prefix, nl_ip_len(ip->family) * 8);
	return 0;
}

/* --- requests -------------------------------------------------------------------- */

static struct nlmsghdr *nl_request(struct nl *nl, char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = nlsock_next_seq(&nl->sock);
	return nlh;
}

/* A link request (RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK) about the link INDEX. */
static struct nlmsghdr *nl_link_request(struct nl *nl, char *buf, uint16_t type,
					uint16_t flags, unsigned int index)
{
	struct nlmsghdr *nlh = nl_request(nl, buf, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return nlh;
}

/* Send one request and read its answers (to CB); 0 or a negative errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, nlsock_cb cb, void *data)
{
	return nlsock_talk(&nl->sock, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, nlh->nlmsg_seq,
			   cb, data, NULL);
}

/* A growing array of dump results (links, addresses, routes). */
struct nl_array {
	void *items;
	size_t n, cap, size;
};

/* Room for one more item, zeroed; NULL if there is no memory. */
static void *nl_array_add(struct nl_array *a)
{
	void *item;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void *items = realloc(a->items, cap * a->size);

		if (!items)
			return NULL;
		a->items = items;
		a->cap = cap;
	}
	item = (char *)a->items + a->n++ * a->size;
	memset(item, 0, a->size);
	return item;
}

/*
 * A dump, asked again while the kernel says it changed under it (EINTR);
 * CB appends each answer to A, whose items from before are kept.
 */
static int nl_dump(struct nl *nl, struct nlmsghdr *nlh, nlsock_cb cb, struct nl_array *a)
{
	size_t before = a->n;
	int error, tries = 0;

	do {
		a->n = before;
		nlh->nlmsg_seq = nlsock_next_seq(&nl->sock);
		error = nl_talk(nl, nlh, cb, a);
	} while (error == -EINTR && ++tries < NL_DUMP_TRIES);
	return error;
}

/* --- links: reading them ------------------------------------------------------------- */

/* A string attribute (NUL-terminated inside it) into BUF, cut to SIZE. */
static int nl_attr_str(const struct nlattr *attr, char *buf, size_t size)
{
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	snprintf(buf, size, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int nl_attr_u32(const struct nlattr *attr, unsigned int *value)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	*value = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int nl_linkinfo_attr(const struct nlattr *attr, void *data)
{
	struct nl_link *link = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
		return nl_attr_str(attr, link->kind, sizeof(link->kind));
	return MNL_CB_OK;
}

static int nl_link_attr(const struct nlattr *attr, void *data)
{
	struct nl_link *link = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		return nl_attr_str(attr, link->name, sizeof(link->name));
	case IFLA_IFALIAS:
		return nl_attr_str(attr, link->alias, sizeof(link->alias));
	case IFLA_MTU:
		return nl_attr_u32(attr, &link->mtu);
	case IFLA_MASTER:
		return nl_attr_u32(attr, &link->master);
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(attr, nl_linkinfo_attr, link);
	}
	return MNL_CB_OK;
}

/* An RTM_NEWLINK message into *LINK. */
static int nl_link_parse(const struct nlmsghdr *nlh, struct nl_link *link)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EPROTO;
	memset(link, 0, sizeof(*link));
	link->index = ifi->ifi_index;
	link->up = ifi->ifi_flags & IFF_UP;
	link->carrier = ifi->ifi_flags & IFF_LOWER_UP;
	if (mnl_attr_parse(nlh, sizeof(*ifi), nl_link_attr, link) < 0 || !link->name[0])
		return -EPROTO;
	return 0;
}

static int nl_link_one(const struct nlmsghdr *nlh, void *data)
{
	return nl_link_parse(nlh, data);
}

/* The link called NAME (already checked) into *LINK: 0, -ENODEV, or an error. */
static int nl_link_query(struct nl *nl, const char *name, struct nl_link *link)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh = nl_link_request(nl, buf, RTM_GETLINK, NLM_F_ACK, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	memset(link, 0, sizeof(*link));
	return nl_talk(nl, nlh, nl_link_one, link);
}

int nl_link_get(struct nl *nl, const char *name, struct nl_link *link, char *err, size_t errlen)
{
	int error = nl_name_check(name, "link", err, errlen);

	if (error)
		return error;
	error = nl_link_query(nl, name, link);
	if (error == -ENODEV)
		return nlsock_error(error, err, errlen, "%s: no such link", name);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: look up", name);
	return 0;
}

int nl_link_index(struct nl *nl, const char *name, char *err, size_t errlen)
{
	struct nl_link link;
	int error = nl_link_get(nl, name, &link, err, errlen);

	if (error == -ENODEV)
		return 0;
	return error ? error : (int)link.index;
}

static int nl_link_dump_one(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link *link = nl_array_add(data);

	return link ? nl_link_parse(nlh, link) : -ENOMEM;
}

static int nl_link_by_index(const void *a, const void *b)
{
	const struct nl_link *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int nl_link_dump(struct nl *nl, struct nl_link **links, size_t *n, char *err, size_t errlen)
{
	struct nl_array a = { .size = sizeof(**links) };
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh = nl_link_request(nl, buf, RTM_GETLINK, NLM_F_DUMP, 0);
	int error;

	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	error = nl_dump(nl, nlh, nl_link_dump_one, &a);
	if (error) {
		free(a.items);
		return nlsock_fail(&nl->sock, error, err, errlen, "list links");
	}
	qsort(a.items, a.n, a.size, nl_link_by_index);
	*links = a.items;
	*n = a.n;
	return 0;
}

/* The name of link INDEX in LINKS (sorted by index), or "". */
static const char *nl_link_name(const struct nl_link *links, size_t n, unsigned int index)
{
	struct nl_link key = { .index = index };
	const struct nl_link *found = bsearch(&key, links, n, sizeof(key), nl_link_by_index);

	return found ? found->name : "";
}

/* --- links: making and removing them -------------------------------------------- */

/* What a link of KIND is, for messages: "a tun", "a device of no kind, such as a NIC or lo". */
static const char *nl_kind_text(const char *kind, char *buf, size_t size)
{
	if (kind[0])
		snprintf(buf, size, "a %s", kind);
	else
		snprintf(buf, size, "a device of no kind, such as a NIC or lo");
	return buf;
}

/* NAME was taken when WHAT wanted it: say by what, and return -EEXIST. */
static int nl_name_taken(struct nl *nl, const char *what, const char *name,
			 char *err, size_t errlen)
{
	char kind[NL_KIND_MAX + 40];
	struct nl_link link;

	if (nl_link_query(nl, name, &link) == 0)
		return nlsock_error(-EEXIST, err, errlen, "%s %s: a link called %s exists (%s)",
				    what, name, name, nl_kind_text(link.kind, kind, sizeof(kind)));
	return nlsock_error(-EEXIST, err, errlen, "%s %s: a link called %s exists", what,
			    name, name);
}

int nl_tap_create(struct nl *nl, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL };
	int fd, error = nl_name_check(name, "tap", err, errlen);

	if (error)
		return error;
	fd = tun_open(O_CLOEXEC);	/* makes the node where there is none */
	if (fd < 0)
		return nlsock_error(-errno, err, errlen, "tap %s: /dev/net/tun: %s", name,
				    strerror(errno));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		error = -errno;
		close(fd);
		if (error == -EBUSY)
			return nl_name_taken(nl, "tap", name, err, errlen);
		return nlsock_error(error, err, errlen, "tap %s: TUNSETIFF: %s", name,
				    strerror(-error));
	}
	if (ioctl(fd, TUNSETPERSIST, 1L) < 0) {
		error = -errno;
		close(fd);	/* not persistent: the tap goes with the descriptor */
		return nlsock_error(error, err, errlen, "tap %s: TUNSETPERSIST: %s", name,
				    strerror(-error));
	}
	close(fd);
	return 0;
}

/* RTM_NEWLINK for a new link NAME of KIND, with its IFLA_INFO_DATA nest left open. */
static struct nlmsghdr *nl_new_link(struct nl *nl, char *buf, const char *name,
				    const char *kind, struct nlattr **linkinfo)
{
	struct nlmsghdr *nlh = nl_link_request(nl, buf, RTM_NEWLINK,
					       NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	*linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	return nlh;
}

int nl_bridge_create(struct nl *nl, const char *name, char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlattr *linkinfo;
	struct nlmsghdr *nlh;
	int error = nl_name_check(name, "bridge", err, errlen);

	if (error)
		return error;
	nlh = nl_new_link(nl, buf, name, "bridge", &linkinfo);
	mnl_attr_nest_end(nlh, linkinfo);
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error == -EEXIST)
		return nl_name_taken(nl, "bridge", name, err, errlen);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "bridge %s: create", name);
	return 0;
}

int nl_veth_create(struct nl *nl, const char *name, const char *peer, char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlattr *linkinfo, *data, *peerinfo;
	struct nlmsghdr *nlh;
	int error = nl_name_check(name, "veth", err, errlen);

	if (!error)
		error = nl_name_check(peer, "veth peer", err, errlen);
	if (error)
		return error;
	if (!strcmp(name, peer))
		return nlsock_error(-EINVAL, err, errlen, "veth %s: its peer needs another name",
				    name);
	nlh = nl_new_link(nl, buf, name, "veth", &linkinfo);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));	/* the peer's, zeroed */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error == -EEXIST) {
		struct nl_link link;

		if (nl_link_query(nl, name, &link) == 0)
			return nl_name_taken(nl, "veth", name, err, errlen);
		return nl_name_taken(nl, "veth peer", peer, err, errlen);
	}
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "veth %s (peer %s): create",
				   name, peer);
	return 0;
}

int nl_link_delete(struct nl *nl, const char *name, const char *mark, char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nl_link link;
	struct nlmsghdr *nlh;
	int error = nl_link_get(nl, name, &link, err, errlen);

	if (error == -ENODEV)
		return NL_ABSENT;	/* ERR says "no such link" */
	if (error)
		return error;
	if (mark && strcmp(link.alias, mark)) {
		nlsock_error(0, err, errlen, "%s: not ours: %s%s%s, not '%s'", name,
			     link.alias[0] ? "its alias is '" : "it has no alias", link.alias,
			     link.alias[0] ? "'" : "", mark);
		return NL_NOT_OURS;
	}
	nlh = nl_link_request(nl, buf, RTM_DELLINK, NLM_F_ACK, link.index);
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error == -ENODEV) {
		nlsock_error(error, err, errlen, "%s: no such link", name);
		return NL_ABSENT;	/* someone was quicker */
	}
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: delete", name);
	return 0;
}

/* --- links: settings ------------------------------------------------------------- */

/* RTM_NEWLINK about the existing link NAME, for a setting to be added; NULL if none. */
static struct nlmsghdr *nl_link_change(struct nl *nl, char *buf, const char *name,
				       char *err, size_t errlen, int *error)
{
	int index = nl_link_index(nl, name, err, errlen);

	if (index == 0)
		*error = nlsock_error(-ENODEV, err, errlen, "%s: no such link", name);
	else
		*error = index < 0 ? index : 0;
	return *error ? NULL : nl_link_request(nl, buf, RTM_NEWLINK, NLM_F_ACK, index);
}

int nl_link_set_up(struct nl *nl, const char *name, bool up, char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int error;

	nlh = nl_link_change(nl, buf, name, err, errlen, &error);
	if (!nlh)
		return error;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: set %s", name,
				   up ? "up" : "down");
	return 0;
}

/* Set one 32-bit attribute of the link NAME; WHAT says what, in an error. */
static int link_set_u32(struct nl *nl, const char *name, uint16_t attr, uint32_t value,
			const char *what, char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh;
	int error;

	nlh = nl_link_change(nl, buf, name, err, errlen, &error);
	if (!nlh)
		return error;
	mnl_attr_put_u32(nlh, attr, value);
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: %s", name, what);
	return 0;
}

int nl_link_set_mtu(struct nl *nl, const char *name, unsigned int mtu, char *err, size_t errlen)
{
	char what[32];

	snprintf(what, sizeof(what), "set MTU %u", mtu);
	return link_set_u32(nl, name, IFLA_MTU, mtu, what, err, errlen);
}

/* The ifindex of the bridge called BRIDGE, for NAME: > 0, or a negative errno. */
static int nl_bridge_index(struct nl *nl, const char *name, const char *bridge,
			   char *err, size_t errlen)
{
	char kind[NL_KIND_MAX + 40];
	struct nl_link link;
	int error = nl_name_check(bridge, "bridge", err, errlen);

	if (error)
		return error;
	error = nl_link_query(nl, bridge, &link);
	if (error == -ENODEV)
		return nlsock_error(error, err, errlen, "%s: set master %s: no such bridge",
				    name, bridge);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: set master %s: look up",
				   name, bridge);
	if (strcmp(link.kind, "bridge"))
		return nlsock_error(-EINVAL, err, errlen,
				    "%s: set master %s: %s is not a bridge (%s)", name, bridge,
				    bridge, nl_kind_text(link.kind, kind, sizeof(kind)));
	return link.index;
}

int nl_link_set_master(struct nl *nl, const char *name, const char *bridge,
		       char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh;
	int master = 0, error;

	nlh = nl_link_change(nl, buf, name, err, errlen, &error);
	if (!nlh)
		return error;
	if (bridge) {
		master = nl_bridge_index(nl, name, bridge, err, errlen);
		if (master < 0)
			return master;
	}
	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error && bridge)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: set master %s", name, bridge);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: set nomaster", name);
	return 0;
}

int nl_link_set_alias(struct nl *nl, const char *name, const char *alias,
		      char *err, size_t errlen)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh;
	int error;

	if (strlen(alias) >= NL_ALIAS_MAX)
		return nlsock_error(-EINVAL, err, errlen, "%s: alias '%.20s...': longer than %d",
				    name, alias, NL_ALIAS_MAX - 1);
	nlh = nl_link_change(nl, buf, name, err, errlen, &error);
	if (!nlh)
		return error;
	mnl_attr_put(nlh, IFLA_IFALIAS, strlen(alias), alias);	/* no NUL: "" removes it */
	error = nl_talk(nl, nlh, NULL, NULL);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: set alias '%s'", name,
				   alias);
	return 0;
}

int nl_link_set_netns(struct nl *nl, const char *name, int netns_fd, char *err, size_t errlen)
{
	char what[48];

	snprintf(what, sizeof(what), "move to namespace (fd %d)", netns_fd);
	return link_set_u32(nl, name, IFLA_NET_NS_FD, (uint32_t)netns_fd, what, err, errlen);
}

/* --- addresses ------------------------------------------------------------------- */

static int nl_addr_change(struct nl *nl, uint16_t type, uint16_t flags, const char *dev,
			  const struct nl_ip *ip, unsigned int prefix)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh = nl_request(nl, buf, type, NLM_F_ACK | flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t len = nl_ip_len(ip->family);
	int index = nl_link_index(nl, dev, NULL, 0);

	if (index <= 0)
		return index ? index : -ENODEV;
	ifa->ifa_family = ip->family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	if (ip->family == AF_INET6 && type == RTM_NEWADDR) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	mnl_attr_put(nlh, IFA_LOCAL, len, ip->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, len, ip->bytes);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, const char *dev, const struct nl_ip *ip, unsigned int prefix,
		char *err, size_t errlen)
{
	char text[NL_IP_TEXT_MAX];
	int error = nl_name_check(dev, "link", err, errlen);

	if (!error)
		error = nl_ip_check(ip, prefix, "address", err, errlen);
	if (error)
		return error;
	error = nl_addr_change(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, dev, ip, prefix);
	if (error == -ENODEV)
		return nlsock_error(error, err, errlen, "%s: no such link", dev);
	if (error == -EEXIST)
		return nlsock_error(error, err, errlen, "%s: add address %s/%u: it has it already",
				    dev, nl_ip_text(ip, text), prefix);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: add address %s/%u", dev,
				   nl_ip_text(ip, text), prefix);
	return 0;
}

int nl_addr_del(struct nl *nl, const char *dev, const struct nl_ip *ip, unsigned int prefix,
		char *err, size_t errlen)
{
	char text[NL_IP_TEXT_MAX];
	int error = nl_name_check(dev, "link", err, errlen);

	if (!error)
		error = nl_ip_check(ip, prefix, "address", err, errlen);
	if (error)
		return error;
	error = nl_addr_change(nl, RTM_DELADDR, 0, dev, ip, prefix);
	if (error == -ENODEV)
		return nlsock_error(error, err, errlen, "%s: no such link", dev);
	if (error == -EADDRNOTAVAIL)
		return nlsock_error(error, err, errlen,
				    "%s: delete address %s/%u: it has no such address",
				    dev, nl_ip_text(ip, text), prefix);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s: delete address %s/%u", dev,
				   nl_ip_text(ip, text), prefix);
	return 0;
}

/* An address attribute of exactly its family's length into IP. */
static int nl_attr_ip(const struct nlattr *attr, int family, struct nl_ip *ip)
{
	size_t len = nl_ip_len(family);

	if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, len) < 0)
		return MNL_CB_ERROR;
	ip->family = family;
	memcpy(ip->bytes, mnl_attr_get_payload(attr), len);
	return MNL_CB_OK;
}

/* An address message's attributes: IFA_LOCAL wins over IFA_ADDRESS (a peer's). */
struct nl_addr_attrs {
	int family;
	struct nl_ip local, address;
};

static int nl_addr_attr(const struct nlattr *attr, void *data)
{
	struct nl_addr_attrs *a = data;

	switch (mnl_attr_get_type(attr)) {
	case IFA_LOCAL:
		return nl_attr_ip(attr, a->family, &a->local);
	case IFA_ADDRESS:
		return nl_attr_ip(attr, a->family, &a->address);
	}
	return MNL_CB_OK;
}

static int nl_addr_dump_one(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nl_addr_attrs attrs = { 0 };
	struct nl_addr *addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EPROTO;
	if (!nl_ip_len(ifa->ifa_family))
		return 0;
	attrs.family = ifa->ifa_family;
	if (mnl_attr_parse(nlh, sizeof(*ifa), nl_addr_attr, &attrs) < 0)
		return -EPROTO;
	if (!attrs.local.family && !attrs.address.family)
		return -EPROTO;
	addr = nl_array_add(data);
	if (!addr)
		return -ENOMEM;
	addr->ip = attrs.local.family ? attrs.local : attrs.address;
	addr->prefix = ifa->ifa_prefixlen;
	addr->index = ifa->ifa_index;
	return 0;
}

int nl_addr_dump(struct nl *nl, struct nl_addr **addrs, size_t *n, char *err, size_t errlen)
{
	struct nl_array a = { .size = sizeof(**addrs) };
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh = nl_request(nl, buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct nl_link *links;
	size_t nlinks, i;
	int error;

	ifa->ifa_family = AF_UNSPEC;
	error = nl_link_dump(nl, &links, &nlinks, err, errlen);
	if (error)
		return error;
	error = nl_dump(nl, nlh, nl_addr_dump_one, &a);
	if (error) {
		free(links);
		free(a.items);
		return nlsock_fail(&nl->sock, error, err, errlen, "list addresses");
	}
	*addrs = a.items;
	*n = a.n;
	for (i = 0; i < a.n; i++)
		snprintf((*addrs)[i].dev, IFNAMSIZ, "%s",
			 nl_link_name(links, nlinks, (*addrs)[i].index));
	free(links);
	return 0;
}

/* --- routes ---------------------------------------------------------------------- */

/* "10.9.0.0/24 via 10.1.0.2 dev tap0", for messages. */
static const char *nl_route_text(const struct nl_ip *dst, unsigned int prefix,
				 const struct nl_ip *gateway, const char *dev,
				 char *buf, size_t size)
{
	char d[NL_IP_TEXT_MAX], g[NL_IP_TEXT_MAX];

	snprintf(buf, size, "route %s/%u%s%s%s%s", nl_ip_text(dst, d), prefix,
		 gateway ? " via " : "", gateway ? nl_ip_text(gateway, g) : "",
		 dev ? " dev " : "", dev ? dev : "");
	return buf;
}

static int nl_route_check(const struct nl_ip *dst, unsigned int prefix,
			  const struct nl_ip *gateway, const char *dev, const char *what,
			  char *err, size_t errlen)
{
	int error = nl_ip_check(dst, prefix, what, err, errlen);

	if (error)
		return error;
	if (dev && (error = nl_name_check(dev, what, err, errlen)))
		return error;
	if (gateway && gateway->family != dst->family)
		return nlsock_error(-EINVAL, err, errlen,
				    "%s: the gateway is not of the destination's family", what);
	if (!gateway && !dev)
		return nlsock_error(-EINVAL, err, errlen, "%s: neither a gateway nor a device",
				    what);
	return 0;
}

static int nl_route_change(struct nl *nl, uint16_t type, uint16_t flags,
			   const struct nl_ip *dst, unsigned int prefix,
			   const struct nl_ip *gateway, const char *dev)
{
	char buf[NL_REQUEST_MAX];
	struct nlmsghdr *nlh = nl_request(nl, buf, type, NLM_F_ACK | flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t len = nl_ip_len(dst->family);
	int index = 0;

	if (dev && (index = nl_link_index(nl, dev, NULL, 0)) <= 0)
		return index ? index : -ENODEV;
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_type = RTN_UNICAST;
		rtm->rtm_scope = gateway || dst->family == AF_INET6 ? RT_SCOPE_UNIVERSE
								     : RT_SCOPE_LINK;
	} else {
		rtm->rtm_scope = RT_SCOPE_NOWHERE;	/* with protocol and type 0: any */
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_DST, len, dst->bytes);
	if (gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, len, gateway->bytes);
	if (index)
		mnl_attr_put_u32(nlh, RTA_OIF, index);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_route_add(struct nl *nl, const struct nl_ip *dst, unsigned int prefix,
		 const struct nl_ip *gateway, const char *dev, char *err, size_t errlen)
{
	char what[128];
	int error;

	nl_route_text(dst, prefix, gateway, dev, what, sizeof(what));
	error = nl_route_check(dst, prefix, gateway, dev, what, err, errlen);
	if (error)
		return error;
	error = nl_route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst, prefix,
				gateway, dev);
	if (error == -ENODEV && dev)
		return nlsock_error(error, err, errlen, "%s: %s: no such link", what, dev);
	if (error == -EEXIST)
		return nlsock_error(error, err, errlen, "%s: the main table has it already", what);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "%s", what);
	return 0;
}

int nl_route_del(struct nl *nl, const struct nl_ip *dst, unsigned int prefix,
		 const struct nl_ip *gateway, const char *dev, char *err, size_t errlen)
{
	char what[128];
	int error;

	nl_route_text(dst, prefix, gateway, dev, what, sizeof(what));
	if (!gateway && !dev) {	/* a route is deleted by its destination alone */
		error = nl_ip_check(dst, prefix, "route", err, errlen);
	} else {
		error = nl_route_check(dst, prefix, gateway, dev, what, err, errlen);
	}
	if (error)
		return error;
	error = nl_route_change(nl, RTM_DELROUTE, 0, dst, prefix, gateway, dev);
	if (error == -ENODEV && dev)
		return nlsock_error(error, err, errlen, "%s: %s: no such link", what, dev);
	if (error == -ESRCH)
		return nlsock_error(error, err, errlen, "%s: no such route in the main table",
				    what);
	if (error)
		return nlsock_fail(&nl->sock, error, err, errlen, "delete %s", what);
	return 0;
}

struct nl_route_attrs {
	struct nl_route *route;
	unsigned int table;
};

static int nl_route_attr(const struct nlattr *attr, void *data)
{
	struct nl_route_attrs *a = data;
	struct nl_route *r = a->route;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		return nl_attr_ip(attr, r->dst.family, &r->dst);
	case RTA_GATEWAY:
		return nl_attr_ip(attr, r->dst.family, &r->gateway);
	case RTA_OIF:
		return nl_attr_u32(attr, &r->index);
	case RTA_PRIORITY:
		return nl_attr_u32(attr, &r->metric);
	case RTA_TABLE:
		return nl_attr_u32(attr, &a->table);
	}
	return MNL_CB_OK;
}

/* One route message; only the main table's routes are kept. */
static int nl_route_dump_one(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route route = { 0 };
	struct nl_route_attrs attrs = { .route = &route };
	struct nl_route *r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EPROTO;
	if (!nl_ip_len(rtm->rtm_family) || rtm->rtm_flags & RTM_F_CLONED)
		return 0;
	if (rtm->rtm_dst_len > nl_ip_len(rtm->rtm_family) * 8)
		return -EPROTO;
	route.dst.family = rtm->rtm_family;
	route.prefix = rtm->rtm_dst_len;
	route.protocol = rtm->rtm_protocol;
	route.type = rtm->rtm_type;
	attrs.table = rtm->rtm_table;
	if (mnl_attr_parse(nlh, sizeof(*rtm), nl_route_attr, &attrs) < 0)
		return -EPROTO;
	if (attrs.table != RT_TABLE_MAIN)
		return 0;
	r = nl_array_add(data);
	if (!r)
		return -ENOMEM;
	*r = route;
	return 0;
}

int nl_route_dump(struct nl *nl, struct nl_route **routes, size_t *n, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct nl_array a = { .size = sizeof(**routes) };
	struct nl_link *links;
	size_t nlinks, i;
	int error;

	error = nl_link_dump(nl, &links, &nlinks, err, errlen);
	for (i = 0; i < 2 && !error; i++) {
		char buf[NL_REQUEST_MAX];
		struct nlmsghdr *nlh = nl_request(nl, buf, RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = families[i];
		error = nl_dump(nl, nlh, nl_route_dump_one, &a);
		if (error) {
			free(links);
			free(a.items);
			return nlsock_fail(&nl->sock, error, err, errlen, "list routes");
		}
	}
	if (error)
		return error;
	*routes = a.items;
	*n = a.n;
	for (i = 0; i < a.n; i++)
		snprintf((*routes)[i].dev, IFNAMSIZ, "%s",
			 nl_link_name(links, nlinks, (*routes)[i].index));
	free(links);
	return 0;
}
