/*
 * host.c: what a lab changes on the host, each change journaled first.
 *
 * host_check() looks before anything is touched: every tap and bridge name
 * the plan will make must be free, every bridge a link joins must exist,
 * the lab's nftables table must not, and no subnet the lab puts on the host
 * may overlap an address or route the host has (another lab's included:
 * its taps are the host's).  It says what collides with what.
 *
 * host_apply() then makes the changes, in this order, each written to the
 * journal before it is made (so undo.c finds it whatever happens next):
 *
 *	link NAME tap          a persistent tap (netlink.c), marked with the
 *	                       alias "lguest:LAB" so that undo deletes nothing
 *	                       that is not the lab's
 *	addr NAME ADDR         the host's address on a host end's tap
 *	master NAME BRIDGE     a bridge end's tap joins the bridge
 *	(ovs.c)                the lab's own Open vSwitch, for OVS switches
 *	nft TABLE              the lab's masquerade and forward rules (nft.c),
 *	                       marked with the comment "lguest:LAB"
 *	sysctl NAME ORIGINAL   net.ipv4.ip_forward = 1 for NAT
 *
 * A sysctl is shared by every lab that needs it: the journal of each holds
 * the value the host had before the first of them, and only the last lab
 * down restores it (undo.c, host_journal_find()).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"
#include "netlink.h"
#include "nft.h"
#include "sysctl.h"

#define FORWARD_SYSCTL "net.ipv4.ip_forward"

void host_mark(const char *lab, char *mark, size_t size)
{
	snprintf(mark, size, "lguest:%s", lab);
}

/* --- looking before touching ---------------------------------------------------- */
static bool name_taken(const struct nl_link *links, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(links[i].name, name))
			return true;
	return false;
}

static const struct nl_link *link_named(const struct nl_link *links, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(links[i].name, name))
			return &links[i];
	return NULL;
}

static int check_names(const struct plan *p, const struct nl_link *links, size_t n,
		       char *err, size_t errlen)
{
	for (unsigned int i = 0; i < p->ntaps; i++) {
		const struct plan_tap *t = &p->taps[i];
		const struct nl_link *br;

		if (name_taken(links, n, t->name)) {
			snprintf(err, errlen, "link %s: the host already has an interface %s (another lab?)",
				 t->link->name, t->name);
			return -1;
		}
		if (t->kind != PLAN_TAP_BRIDGE)
			continue;
		br = link_named(links, n, t->master);
		if (!br || strcmp(br->kind, "bridge")) {
			snprintf(err, errlen, "link %s: %s is not a bridge on this host%s", t->link->name,
				 t->master, br ? "" : " (there is no such interface)");
			return -1;
		}
	}
	for (unsigned int i = 0; i < p->novs; i++)
		if (name_taken(links, n, p->ovs[i].bridge)) {
			snprintf(err, errlen, "switch %s: the host already has an interface %s",
				 p->ovs[i].sw->name, p->ovs[i].bridge);
			return -1;
		}
	return 0;
}

static void to_topo(int family, const uint8_t *bytes, unsigned int prefix, struct topo_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, bytes, family == AF_INET ? 4 : 16);
	a->prefix = prefix;
}

/* Does a host end's subnet overlap anything the host has? */
static int check_subnets(const struct plan *p, struct nl *nl, char *err, size_t errlen)
{
	struct nl_addr *addrs = NULL;
	struct nl_route *routes = NULL;
	size_t na = 0, nr = 0;
	char text[NL_IP_TEXT_MAX];
	int rc = 0;

	if (nl_addr_dump(nl, &addrs, &na, err, errlen) || nl_route_dump(nl, &routes, &nr, err, errlen)) {
		free(addrs);
		return -1;
	}
	for (unsigned int i = 0; !rc && i < p->ntaps; i++) {
		const struct topo_link *l = p->taps[i].link;

		for (unsigned int k = 0; !rc && k < l->nhost_addrs; k++) {
			const struct topo_addr *mine = &l->host_addrs[k];
			struct topo_addr theirs;

			for (size_t a = 0; !rc && a < na; a++) {
				to_topo(addrs[a].ip.family, addrs[a].ip.bytes, addrs[a].prefix, &theirs);
				if (theirs.family == mine->family && topo_addr_overlap(mine, &theirs)) {
					snprintf(err, errlen, "link %s: host address %s overlaps %s/%u on %s",
						 l->name, mine->text, nl_ip_text(&addrs[a].ip, text),
						 addrs[a].prefix, addrs[a].dev);
					rc = -1;
				}
			}
			for (size_t r = 0; !rc && r < nr; r++) {
				if (!routes[r].prefix)
					continue;	/* the default route overlaps everything */
				to_topo(routes[r].dst.family, routes[r].dst.bytes, routes[r].prefix, &theirs);
				if (theirs.family == mine->family && topo_addr_overlap(mine, &theirs)) {
					snprintf(err, errlen, "link %s: host address %s overlaps the host's route to %s/%u%s%s",
						 l->name, mine->text, nl_ip_text(&routes[r].dst, text),
						 routes[r].prefix, routes[r].dev[0] ? " via " : "", routes[r].dev);
					rc = -1;
				}
			}
		}
	}
	free(addrs);
	free(routes);
	return rc;
}

static int check_table(const struct plan *p, char *err, size_t errlen)
{
	struct nft nft;
	int rc;

	if (!p->table[0])
		return 0;
	if (nft_open(&nft, err, errlen))
		return -1;
	rc = nft_table_exists(&nft, p->table, err, errlen);
	nft_close(&nft);
	if (rc > 0)
		snprintf(err, errlen, "nftables already has a table ip %s (another lab of this name?)",
			 p->table);
	return rc ? -1 : 0;
}

int host_check(struct netd *d, const struct plan *p, char *err, size_t errlen)
{
	struct nl_link *links = NULL;
	size_t n = 0;
	struct nl nl;
	int rc;

	(void)d;
	if (!p->ntaps && !p->novs && !p->table[0])
		return 0;
	if (nl_open(&nl, err, errlen))
		return -1;
	rc = nl_link_dump(&nl, &links, &n, err, errlen);
	if (!rc)
		rc = check_names(p, links, n, err, errlen);
	if (!rc)
		rc = check_subnets(p, &nl, err, errlen);
	free(links);
	nl_close(&nl);
	if (!rc)
		rc = check_table(p, err, errlen);
	if (!rc && p->novs && access("/usr/sbin/ovs-vswitchd", X_OK) != 0) {
		snprintf(err, errlen, "switch %s is an Open vSwitch switch, but Open vSwitch is not installed (apt-get install openvswitch-switch)",
			 p->ovs[0].sw->name);
		rc = -1;
	}
	return rc;
}

/* --- making the changes ---------------------------------------------------------- */
static int journal(struct lab *lab, char *err, size_t errlen, const char *kind,
		   const char *a, const char *b)
{
	int rc = journal_add(&lab->journal, kind, a, b, (char *)NULL);

	if (rc)
		snprintf(err, errlen, "the lab's journal: %s", strerror(-rc));
	return rc;
}

static int make_tap(struct lab *lab, struct nl *nl, const struct plan_tap *t,
		    char *err, size_t errlen)
{
	const struct topo_link *l = t->link;
	char mark[64];

	host_mark(lab->topo->lab, mark, sizeof(mark));
	if (journal(lab, err, errlen, "link", t->name, "tap") ||
	    nl_tap_create(nl, t->name, err, errlen) ||
	    nl_link_set_alias(nl, t->name, mark, err, errlen))
		return -1;
	if (l->mtu && nl_link_set_mtu(nl, t->name, l->mtu, err, errlen))
		return -1;
	for (unsigned int k = 0; t->kind == PLAN_TAP_HOST && k < l->nhost_addrs; k++) {
		struct nl_ip ip = { .family = l->host_addrs[k].family };

		memcpy(ip.bytes, l->host_addrs[k].bytes, sizeof(ip.bytes));
		if (journal(lab, err, errlen, "addr", t->name, l->host_addrs[k].text) ||
		    nl_addr_add(nl, t->name, &ip, l->host_addrs[k].prefix, err, errlen))
			return -1;
	}
	if (t->kind == PLAN_TAP_BRIDGE &&
	    (journal(lab, err, errlen, "master", t->name, t->master) ||
	     nl_link_set_master(nl, t->name, t->master, err, errlen)))
		return -1;
	return nl_link_set_up(nl, t->name, true, err, errlen);
}

static int make_nat(struct lab *lab, char *err, size_t errlen)
{
	const struct plan *p = lab->plan;
	struct nft_uplink up[NFT_UPLINKS_MAX];
	char mark[64], before[64];
	struct nft nft;
	size_t n = 0;
	int rc;

	if (!p->table[0])
		return 0;
	for (unsigned int i = 0; i < p->nnats && n < NFT_UPLINKS_MAX; i++) {
		if (p->nats[i].subnet.family != AF_INET)
			continue;	/* IPv4 masquerade only */
		memcpy(&up[n].subnet, p->nats[i].subnet.bytes, 4);
		up[n].prefix = p->nats[i].subnet.prefix;
		snprintf(up[n].tap, sizeof(up[n].tap), "%s", p->nats[i].tap);
		n++;
	}
	host_mark(lab->topo->lab, mark, sizeof(mark));
	if (journal(lab, err, errlen, "nft", p->table, NULL) || nft_open(&nft, err, errlen))
		return -1;
	rc = nft_table_create(&nft, p->table, mark, up, n, err, errlen);
	nft_close(&nft);
	if (rc)
		return -1;
	if (!host_journal_find(lab->d, lab->topo->lab, "sysctl", FORWARD_SYSCTL, before, sizeof(before)) &&
	    sysctl_get(FORWARD_SYSCTL, before, sizeof(before), err, errlen))
		return -1;
	return journal(lab, err, errlen, "sysctl", FORWARD_SYSCTL, before) ||
	       sysctl_set(FORWARD_SYSCTL, "1", err, errlen) ? -1 : 0;
}

int host_apply(struct lab *lab, char *err, size_t errlen)
{
	const struct plan *p = lab->plan;
	struct nl nl;
	int rc = 0;

	if (p->ntaps && nl_open(&nl, err, errlen))
		return -1;
	for (unsigned int i = 0; !rc && i < p->ntaps; i++)
		rc = make_tap(lab, &nl, &p->taps[i], err, errlen);
	if (p->ntaps)
		nl_close(&nl);
	if (!rc)
		rc = ovs_start(lab, err, errlen);
	if (!rc)
		rc = make_nat(lab, err, errlen);
	return rc;
}

/*
 * Does the journal of a lab other than EXCEPT_LAB (running, or left by a
 * daemon that died) hold an entry "KIND WORD1 ..."?  Then its next word goes
 * into NEXT (if not NULL).  Shared things (a sysctl, Open vSwitch) are
 * looked up this way: the first lab that changed one recorded the host's
 * own value, and only the last lab down restores it.
 */
bool host_journal_find(struct netd *d, const char *except_lab, const char *kind,
		       const char *word1, char *next, size_t size)
{
	DIR *dir = opendir(d->run_root);
	struct dirent *e;
	bool found = false;

	while (dir && !found && (e = readdir(dir))) {
		struct journal_entry *es;
		char path[PATH_MAX];
		size_t n;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, except_lab))
			continue;
		bprintf(path, sizeof(path), "%s/%s/journal", d->run_root, e->d_name);
		if (journal_read(path, &es, &n))
			continue;
		for (size_t i = 0; !found && i < n; i++)
			if (es[i].nwords >= 2 && !strcmp(es[i].word[0], kind) &&
			    !strcmp(es[i].word[1], word1)) {
				if (next)
					snprintf(next, size, "%s", es[i].nwords > 2 ? es[i].word[2] : "");
				found = true;
			}
		journal_free(es, n);
	}
	if (dir)
		closedir(dir);
	return found;
}
