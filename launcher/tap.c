/*
 * tap.c: the host's end of a --tunnet: a tap device, its address, its bridge.
 *
 * A tap is a network interface whose "wire" is a file descriptor: every
 * frame the host sends out of it can be read() from the descriptor, and
 * every frame write()n to the descriptor arrives on the host as if it came
 * off a cable.  The launcher makes one for each --tunnet (opening
 * /dev/net/tun, made first if this system has none, and naming the
 * interface "lguest%d", which the kernel turns into lguest0, lguest1...),
 * and net.c joins its descriptor to the guest.
 * The tap goes away by itself when the launcher's descriptor is closed,
 * which is to say when the launcher exits, however it exits.
 *
 * The rest is plumbing, done the way "ip" does it, with rtnetlink messages
 * (no shelling out): --tunnet=IPADDR gives the tap IPADDR/24, so the host
 * routes that /24 to the guest; --tunnet=bridge:NAME makes the tap a port of
 * the existing bridge NAME instead.  Either way the tap is then brought up.
 *
 * Every function returns 0 (or a descriptor) on success and a negative errno
 * on failure: the caller knows what the user asked for and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lguest.h"
#include "tun.h"

int tap_create(char name[TAP_NAME_MAX])
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd, err;

	fd = tun_open(O_CLOEXEC);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, "lguest%d", sizeof(ifr.ifr_name) - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(name, ifr.ifr_name, TAP_NAME_MAX);
	name[TAP_NAME_MAX - 1] = '\0';
	return fd;
}

/*
 * An rtnetlink request: a header, the fixed part of the message (ifinfomsg
 * for links, ifaddrmsg for addresses) and room for a few attributes.
 */
struct rtnl_request {
	struct nlmsghdr hdr;
	union {
		struct ifinfomsg link;
		struct ifaddrmsg addr;
	};
	char attrs[128];
};

static void rtnl_init(struct rtnl_request *req, uint16_t type, uint16_t flags,
		      size_t fixed)
{
	memset(req, 0, sizeof(*req));
	req->hdr.nlmsg_len = NLMSG_LENGTH(fixed);
	req->hdr.nlmsg_type = type;
	req->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
	req->hdr.nlmsg_seq = 1;
}

static void rtnl_attr(struct rtnl_request *req, uint16_t type, const void *data,
		      size_t len)
{
	struct rtattr *rta = (void *)((char *)req + NLMSG_ALIGN(req->hdr.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->hdr.nlmsg_len = NLMSG_ALIGN(req->hdr.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * Send req and wait for the kernel's answer.  With NLM_F_ACK the answer is
 * an error message whose error is 0 on success; a query's answer is copied
 * into reply (reply_size bytes at most).  Returns 0 or a negative errno.
 */
static int rtnl_talk(struct rtnl_request *req, void *reply, size_t reply_size)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	int fd, n, err = -EPROTO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, req, req->hdr.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	do {
		n = recv(fd, buf, sizeof(buf), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_seq != req->hdr.nlmsg_seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EPROTO;
			break;
		}
		if (reply) {
			memcpy(reply, h, h->nlmsg_len < reply_size ? h->nlmsg_len : reply_size);
			err = 0;
			break;
		}
	}
out:
	close(fd);
	return err;
}

static int ifindex(const char *name)
{
	unsigned int index = if_nametoindex(name);

	return index ? (int)index : -ENODEV;
}

int tap_set_ipv4(const char *name, const void *addr, unsigned int prefix_len)
{
	struct rtnl_request req;
	int index = ifindex(name);

	if (index < 0)
		return index;
	rtnl_init(&req, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		  sizeof(req.addr));
	req.addr.ifa_family = AF_INET;
	req.addr.ifa_prefixlen = prefix_len;
	req.addr.ifa_scope = RT_SCOPE_UNIVERSE;
	req.addr.ifa_index = index;
	rtnl_attr(&req, IFA_LOCAL, addr, 4);
	rtnl_attr(&req, IFA_ADDRESS, addr, 4);
	return rtnl_talk(&req, NULL, 0);
}

/* Change a link: bring it up, or give it a master (a bridge). */
static int link_set(const char *name, unsigned int up, int master)
{
	struct rtnl_request req;
	int index = ifindex(name);

	if (index < 0)
		return index;
	rtnl_init(&req, RTM_NEWLINK, NLM_F_ACK, sizeof(req.link));
	req.link.ifi_family = AF_UNSPEC;
	req.link.ifi_index = index;
	req.link.ifi_flags = up;
	req.link.ifi_change = up;
	if (master > 0) {
		uint32_t m = master;

		rtnl_attr(&req, IFLA_MASTER, &m, sizeof(m));
	}
	return rtnl_talk(&req, NULL, 0);
}

int tap_set_up(const char *name)
{
	return link_set(name, IFF_UP, 0);
}

int bridge_add_port(const char *bridge, const char *port)
{
	int master = ifindex(bridge);

	return master < 0 ? master : link_set(port, 0, master);
}

/*
 * Ask the kernel about the link called name: its kind ("bridge", "tun",
 * "veth"..., "" for a plain device such as lo or a NIC) and its MAC address.
 */
static int link_query(const char *name, char kind[TAP_NAME_MAX], uint8_t mac[6])
{
	char reply[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (void *)reply;
	struct rtnl_request req;
	struct rtattr *rta, *info;
	int len, ilen, err;

	if (strlen(name) >= TAP_NAME_MAX)
		return -ENODEV;
	rtnl_init(&req, RTM_GETLINK, 0, sizeof(req.link));
	req.link.ifi_family = AF_UNSPEC;
	rtnl_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
	memset(reply, 0, sizeof(reply));
	err = rtnl_talk(&req, reply, sizeof(reply));
	if (err)
		return err;
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len > sizeof(reply))
		return -EPROTO;

	if (kind)
		kind[0] = '\0';
	len = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (rta = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_ADDRESS && mac && RTA_PAYLOAD(rta) == 6)
			memcpy(mac, RTA_DATA(rta), 6);
		if (rta->rta_type != IFLA_LINKINFO || !kind)
			continue;
		ilen = RTA_PAYLOAD(rta);
		for (info = RTA_DATA(rta); RTA_OK(info, ilen); info = RTA_NEXT(info, ilen)) {
			size_t n = RTA_PAYLOAD(info);

			if (info->rta_type != IFLA_INFO_KIND)
				continue;
			if (n >= TAP_NAME_MAX)
				n = TAP_NAME_MAX - 1;
			memcpy(kind, RTA_DATA(info), n);
			kind[n] = '\0';
		}
	}
	return 0;
}

int link_kind(const char *name, char kind[TAP_NAME_MAX])
{
	return link_query(name, kind, NULL);
}

int tap_mac(const char *name, uint8_t mac[6])
{
	memset(mac, 0, 6);
	return link_query(name, NULL, mac);
}
