/*
 * plumb-tool: lguest-netd's plumbing (netd/netlink.c, nft.c, sysctl.c), one
 * call per command, for the tests in tests/netd/ (built by make check, not
 * installed).
 *
 *	plumb-tool [--mark=TEXT] COMMAND ARGS...
 *
 * Each command calls one function and prints what it returns, one line per
 * item, fields separated by single spaces, "-" for an empty field (the
 * alias, which may hold spaces, comes last).  An error goes to stderr,
 * prefixed "plumb-tool: ", with exit status 1.  A delete that found nothing
 * to delete exits 2, one that found something not bearing --mark exits 3,
 * each with its message on stderr.  "plumb-tool help" lists the commands.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "netlink.h"
#include "nft.h"
#include "sysctl.h"

#define PROGRAM "plumb-tool"
#include "../lab/tool.h"

#define ERRLEN 512
#define EXIT_ABSENT 2
#define EXIT_NOT_OURS 3

/* What every command gets: its arguments, the mark, and the handles, opened on demand. */
struct tool {
	char **argv;
	int argc;
	const char *mark;
	struct nl nl;
	bool nl_open;
	struct nft nft;
	bool nft_open;
	char err[ERRLEN];
};

static struct nl *tool_nl(struct tool *t)
{
	if (!t->nl_open && nl_open(&t->nl, t->err, sizeof(t->err)) < 0)
		die("%s", t->err);
	t->nl_open = true;
	return &t->nl;
}

static struct nft *tool_nft(struct tool *t)
{
	if (!t->nft_open && nft_open(&t->nft, t->err, sizeof(t->err)) < 0)
		die("%s", t->err);
	t->nft_open = true;
	return &t->nft;
}

/* A call's result: 0 is fine, a negative errno dies with the message. */
static void ok(struct tool *t, int error)
{
	if (error < 0)
		die("%s", t->err);
}

/* A delete's result: 0, or the exit status that says "absent" or "not ours". */
static int deleted(struct tool *t, int result, int absent, int not_ours)
{
	ok(t, result);
	if (result == absent || result == not_ours) {
		fprintf(stderr, "%s: %s\n", PROGRAM, t->err);
		return result == absent ? EXIT_ABSENT : EXIT_NOT_OURS;
	}
	return 0;
}

/* "10.1.0.1/24", "fd00::1/64", or an address alone (a host: /32, /128). */
static void parse_prefix(const char *text, struct nl_ip *ip, unsigned int *prefix)
{
	char addr[NL_IP_TEXT_MAX], *end;
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long n;

	if (len >= sizeof(addr))
		die("%s: not an address", text);
	memcpy(addr, text, len);
	addr[len] = '\0';
	memset(ip, 0, sizeof(*ip));
	ip->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(ip->family, addr, ip->bytes) != 1)
		die("%s: not an IPv4 or IPv6 address", text);
	*prefix = ip->family == AF_INET ? 32 : 128;
	if (!slash)
		return;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n > *prefix)
		die("%s: bad prefix length", text);
	*prefix = n;
}

static unsigned int parse_uint(const char *text, const char *what)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno || end == text || *end || n > 0xffffffffUL)
		die("%s: %s is not a number", what, text);
	return n;
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

/* --- links ------------------------------------------------------------------------- */

static int cmd_tap_add(struct tool *t)
{
	ok(t, nl_tap_create(tool_nl(t), t->argv[1], t->err, ERRLEN));
	return 0;
}

static int cmd_bridge_add(struct tool *t)
{
	ok(t, nl_bridge_create(tool_nl(t), t->argv[1], t->err, ERRLEN));
	return 0;
}

static int cmd_veth_add(struct tool *t)
{
	ok(t, nl_veth_create(tool_nl(t), t->argv[1], t->argv[2], t->err, ERRLEN));
	return 0;
}

static int cmd_link_del(struct tool *t)
{
	return deleted(t, nl_link_delete(tool_nl(t), t->argv[1], t->mark, t->err, ERRLEN),
		       NL_ABSENT, NL_NOT_OURS);
}

static int cmd_link_up(struct tool *t)
{
	ok(t, nl_link_set_up(tool_nl(t), t->argv[1], true, t->err, ERRLEN));
	return 0;
}

static int cmd_link_down(struct tool *t)
{
	ok(t, nl_link_set_up(tool_nl(t), t->argv[1], false, t->err, ERRLEN));
	return 0;
}

static int cmd_mtu(struct tool *t)
{
	ok(t, nl_link_set_mtu(tool_nl(t), t->argv[1], parse_uint(t->argv[2], "mtu"), t->err,
			      ERRLEN));
	return 0;
}

static int cmd_master(struct tool *t)
{
	ok(t, nl_link_set_master(tool_nl(t), t->argv[1], t->argv[2], t->err, ERRLEN));
	return 0;
}

static int cmd_nomaster(struct tool *t)
{
	ok(t, nl_link_set_master(tool_nl(t), t->argv[1], NULL, t->err, ERRLEN));
	return 0;
}

static int cmd_alias(struct tool *t)
{
	ok(t, nl_link_set_alias(tool_nl(t), t->argv[1], t->argv[2], t->err, ERRLEN));
	return 0;
}

/* NS: a name made by "ip netns add" (/run/netns/NS), or a path. */
static int cmd_netns(struct tool *t)
{
	const char *ns = t->argv[2];
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s%s", strchr(ns, '/') ? "" : "/run/netns/", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("namespace %s: %s: %s", ns, path, strerror(errno));
	ok(t, nl_link_set_netns(tool_nl(t), t->argv[1], fd, t->err, ERRLEN));
	close(fd);
	return 0;
}

/* INDEX NAME KIND up|down MTU MASTER ALIAS */
static void print_link(const struct nl_link *link, const struct nl_link *all, size_t n)
{
	const char *master = "-";
	size_t i;

	for (i = 0; i < n && link->master; i++)
		if (all[i].index == link->master)
			master = all[i].name;
	printf("%u %s %s %s %u %s %s\n", link->index, link->name, or_dash(link->kind),
	       link->up ? "up" : "down", link->mtu, master, or_dash(link->alias));
}

static int cmd_link_show(struct tool *t)
{
	struct nl_link link, *all;
	size_t n;

	ok(t, nl_link_get(tool_nl(t), t->argv[1], &link, t->err, ERRLEN));
	ok(t, nl_link_dump(tool_nl(t), &all, &n, t->err, ERRLEN));
	print_link(&link, all, n);
	free(all);
	return 0;
}

static int cmd_link_index(struct tool *t)
{
	int index = nl_link_index(tool_nl(t), t->argv[1], t->err, ERRLEN);

	ok(t, index);
	printf("%d\n", index);
	return 0;
}

static int cmd_dump_links(struct tool *t)
{
	struct nl_link *links;
	size_t n, i;

	ok(t, nl_link_dump(tool_nl(t), &links, &n, t->err, ERRLEN));
	for (i = 0; i < n; i++)
		print_link(&links[i], links, n);
	free(links);
	return 0;
}

/* --- addresses and routes ------------------------------------------------------------ */

static int cmd_addr_add(struct tool *t)
{
	struct nl_ip ip;
	unsigned int prefix;

	parse_prefix(t->argv[2], &ip, &prefix);
	ok(t, nl_addr_add(tool_nl(t), t->argv[1], &ip, prefix, t->err, ERRLEN));
	return 0;
}

static int cmd_addr_del(struct tool *t)
{
	struct nl_ip ip;
	unsigned int prefix;

	parse_prefix(t->argv[2], &ip, &prefix);
	ok(t, nl_addr_del(tool_nl(t), t->argv[1], &ip, prefix, t->err, ERRLEN));
	return 0;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

/* DEV inet|inet6 ADDR/PREFIX */
static int cmd_dump_addrs(struct tool *t)
{
	char text[NL_IP_TEXT_MAX];
	struct nl_addr *addrs;
	size_t n, i;

	ok(t, nl_addr_dump(tool_nl(t), &addrs, &n, t->err, ERRLEN));
	for (i = 0; i < n; i++)
		printf("%s %s %s/%u\n", or_dash(addrs[i].dev), family_name(addrs[i].ip.family),
		       nl_ip_text(&addrs[i].ip, text), addrs[i].prefix);
	free(addrs);
	return 0;
}

/* route-add|route-del DST [via GW] [dev DEV] */
static int route_change(struct tool *t, bool add)
{
	struct nl_ip dst, gw;
	unsigned int prefix, gw_prefix;
	const char *dev = NULL;
	bool via = false;
	int i, error;

	parse_prefix(t->argv[1], &dst, &prefix);
	for (i = 2; i + 1 < t->argc; i += 2) {
		if (!strcmp(t->argv[i], "via")) {
			parse_prefix(t->argv[i + 1], &gw, &gw_prefix);
			via = true;
		} else if (!strcmp(t->argv[i], "dev")) {
			dev = t->argv[i + 1];
		} else {
			die("%s: expected via GATEWAY or dev DEVICE", t->argv[i]);
		}
	}
	if (i != t->argc)
		die("%s: expected via GATEWAY or dev DEVICE", t->argv[i]);
	if (add)
		error = nl_route_add(tool_nl(t), &dst, prefix, via ? &gw : NULL, dev, t->err, ERRLEN);
	else
		error = nl_route_del(tool_nl(t), &dst, prefix, via ? &gw : NULL, dev, t->err, ERRLEN);
	ok(t, error);
	return 0;
}

static int cmd_route_add(struct tool *t)
{
	return route_change(t, true);
}

static int cmd_route_del(struct tool *t)
{
	return route_change(t, false);
}

/* inet|inet6 DST/PREFIX [via GW] [dev DEV] */
static int cmd_dump_routes(struct tool *t)
{
	char dst[NL_IP_TEXT_MAX], gw[NL_IP_TEXT_MAX];
	struct nl_route *routes;
	size_t n, i;

	ok(t, nl_route_dump(tool_nl(t), &routes, &n, t->err, ERRLEN));
	for (i = 0; i < n; i++) {
		const struct nl_route *r = &routes[i];

		printf("%s %s/%u", family_name(r->dst.family), nl_ip_text(&r->dst, dst), r->prefix);
		if (r->gateway.family)
			printf(" via %s", nl_ip_text(&r->gateway, gw));
		if (r->dev[0])
			printf(" dev %s", r->dev);
		printf("\n");
	}
	free(routes);
	return 0;
}

/* --- nftables -------------------------------------------------------------------- */

/* nat-add TABLE SUBNET TAP [SUBNET TAP...] */
static int cmd_nat_add(struct tool *t)
{
	struct nft_uplink up[NFT_UPLINKS_MAX + 1];
	size_t n = 0;
	int i;

	if (t->argc % 2)
		die("nat-add: a SUBNET without its TAP");
	for (i = 2; i + 1 < t->argc && n < NFT_UPLINKS_MAX + 1; i += 2, n++) {
		struct nl_ip ip;

		parse_prefix(t->argv[i], &ip, &up[n].prefix);
		if (ip.family != AF_INET)
			die("%s: not an IPv4 subnet", t->argv[i]);
		memcpy(&up[n].subnet, ip.bytes, 4);
		if (strlen(t->argv[i + 1]) >= IFNAMSIZ)
			die("%s: longer than %d characters", t->argv[i + 1], IFNAMSIZ - 1);
		snprintf(up[n].tap, IFNAMSIZ, "%s", t->argv[i + 1]);
	}
	ok(t, nft_table_create(tool_nft(t), t->argv[1], t->mark, up, n, t->err, ERRLEN));
	return 0;
}

static int cmd_table_del(struct tool *t)
{
	return deleted(t, nft_table_delete(tool_nft(t), t->argv[1], t->mark, t->err, ERRLEN),
		       NFT_ABSENT, NFT_NOT_OURS);
}

static int cmd_table_exists(struct tool *t)
{
	int r = nft_table_exists(tool_nft(t), t->argv[1], t->err, ERRLEN);

	ok(t, r);
	printf("%s\n", r ? "yes" : "no");
	return 0;
}

/* FAMILY NAME COMMENT */
static int cmd_table_list(struct tool *t)
{
	struct nft_table *tables;
	size_t n, i;

	ok(t, nft_table_list(tool_nft(t), &tables, &n, t->err, ERRLEN));
	for (i = 0; i < n; i++)
		printf("%s %s %s\n", nft_family_name(tables[i].family), tables[i].name,
		       or_dash(tables[i].comment));
	free(tables);
	return 0;
}

/* --- sysctl -------------------------------------------------------------------- */

static int cmd_sysctl_get(struct tool *t)
{
	char value[4096];

	ok(t, sysctl_get(t->argv[1], value, sizeof(value), t->err, ERRLEN));
	printf("%s\n", value);
	return 0;
}

static int cmd_sysctl_set(struct tool *t)
{
	ok(t, sysctl_set(t->argv[1], t->argv[2], t->err, ERRLEN));
	return 0;
}

/* --- the table of commands -------------------------------------------------------- */

static int cmd_help(struct tool *t);

static const struct command {
	const char *name;
	int min, max;		/* arguments after the command's name */
	const char *args;
	int (*run)(struct tool *t);
} commands[] = {
	{ "tap-add", 1, 1, "NAME", cmd_tap_add },
	{ "bridge-add", 1, 1, "NAME", cmd_bridge_add },
	{ "veth-add", 2, 2, "NAME PEER", cmd_veth_add },
	{ "link-del", 1, 1, "NAME (only if its alias is --mark, if given)", cmd_link_del },
	{ "link-up", 1, 1, "NAME", cmd_link_up },
	{ "link-down", 1, 1, "NAME", cmd_link_down },
	{ "mtu", 2, 2, "NAME MTU", cmd_mtu },
	{ "master", 2, 2, "NAME BRIDGE", cmd_master },
	{ "nomaster", 1, 1, "NAME", cmd_nomaster },
	{ "alias", 2, 2, "NAME ALIAS", cmd_alias },
	{ "netns", 2, 2, "NAME NETNS (a name in /run/netns, or a path)", cmd_netns },
	{ "link-show", 1, 1, "NAME", cmd_link_show },
	{ "link-index", 1, 1, "NAME", cmd_link_index },
	{ "dump-links", 0, 0, "", cmd_dump_links },
	{ "addr-add", 2, 2, "DEV ADDR/PREFIX", cmd_addr_add },
	{ "addr-del", 2, 2, "DEV ADDR/PREFIX", cmd_addr_del },
	{ "dump-addrs", 0, 0, "", cmd_dump_addrs },
	{ "route-add", 1, 5, "DST/PREFIX [via GATEWAY] [dev DEV]", cmd_route_add },
	{ "route-del", 1, 5, "DST/PREFIX [via GATEWAY] [dev DEV]", cmd_route_del },
	{ "dump-routes", 0, 0, "", cmd_dump_routes },
	{ "nat-add", 3, 2 * NFT_UPLINKS_MAX + 1, "TABLE SUBNET TAP [SUBNET TAP...] (comment: --mark)",
	  cmd_nat_add },
	{ "table-del", 1, 1, "TABLE (only if its comment is --mark, if given)", cmd_table_del },
	{ "table-exists", 1, 1, "TABLE", cmd_table_exists },
	{ "table-list", 0, 0, "", cmd_table_list },
	{ "sysctl-get", 1, 1, "NAME", cmd_sysctl_get },
	{ "sysctl-set", 2, 2, "NAME VALUE", cmd_sysctl_set },
	{ "help", 0, 0, "", cmd_help },
};

static int cmd_help(struct tool *t)
{
	size_t i;

	(void)t;
	printf("usage: %s [--mark=TEXT] COMMAND ARGS...\n", PROGRAM);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %s %s\n", commands[i].name, commands[i].args);
	return 0;
}

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	die("%s: no such command (try \"%s help\")", name, PROGRAM);
}

int main(int argc, char **argv)
{
	struct tool t = { 0 };
	const struct command *c;
	int status;

	argv++, argc--;
	if (argc && !strncmp(argv[0], "--mark=", 7)) {
		t.mark = argv[0] + 7;
		argv++, argc--;
	}
	if (!argc)
		die("no command (try \"%s help\")", PROGRAM);
	c = command_find(argv[0]);
	if (argc - 1 < c->min || argc - 1 > c->max)
		die("usage: %s %s %s", PROGRAM, c->name, c->args);
	t.argv = argv;
	t.argc = argc;
	status = c->run(&t);
	if (t.nl_open)
		nl_close(&t.nl);
	if (t.nft_open)
		nft_close(&t.nft);
	return status;
}
