/*
 * nft.h: a lab's nftables table, which lets its guests reach the world
 * through the host (masquerade) and forwards their traffic (nft.c).
 *
 * For a lab whose uplinks are (SUBNET, TAP) pairs, nft_table_create() makes,
 * in one atomic batch (all of it, or nothing):
 *
 *	table ip NAME {
 *		comment "MARK"
 *		chain postrouting {
 *			type nat hook postrouting priority srcnat; policy accept;
 *			ip saddr SUBNET oifname != "TAP" masquerade	(each uplink)
 *		}
 *		chain forward {
 *			type filter hook forward priority filter; policy accept;
 *			iifname "TAP" accept				(each uplink)
 *			oifname "TAP" ct state established,related accept
 *		}
 *	}
 *
 * Packets still need forwarding on (sysctl net.ipv4.ip_forward = 1, which
 * is not this module's business: see sysctl.h).
 *
 * Open a struct nft in the network namespace to work in.  Every call needs
 * CAP_NET_ADMIN there (reading nf_tables too), returns 0 (or a documented
 * positive result) or a negative errno, and fills ERR (ERRLEN bytes; may be
 * NULL) with a message naming the table and, for a refused batch, the chain
 * or rule the kernel refused, with errno's text and the kernel's words.
 */
#ifndef LGUEST_NETD_NFT_H
#define LGUEST_NETD_NFT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "nlsock.h"

#define NFT_NAME_MAX	64	/* a table name: [A-Za-z_][A-Za-z0-9_.-]*, 63 at most */
#define NFT_COMMENT_MAX	128	/* a comment (the mark): up to 127 characters */
#define NFT_UPLINKS_MAX	64	/* uplinks in one table */

#define NFT_CHAIN_NAT		"postrouting"
#define NFT_CHAIN_FORWARD	"forward"

/* nft_table_delete()'s outcomes other than 0 (deleted). */
#define NFT_ABSENT	1	/* there was no such table: nothing done */
#define NFT_NOT_OURS	2	/* it is there, but its comment is not the mark: left alone */

struct nft {
	struct nlsock sock;
};

/* One NAT uplink: traffic from SUBNET/PREFIX leaving by any link but TAP is masqueraded. */
struct nft_uplink {
	struct in_addr subnet;		/* host bits ignored: 10.1.0.1/24 is 10.1.0.0/24 */
	unsigned int prefix;		/* 0..32; 0 masquerades every source */
	char tap[IFNAMSIZ];
};

/* One table, as nft_table_list() sees it. */
struct nft_table {
	int family;			/* NFPROTO_IPV4, NFPROTO_INET...: nft_family_name() */
	char name[256];			/* the kernel allows longer names than we make */
	char comment[NFT_COMMENT_MAX];	/* "" if none */
	uint64_t handle;
};

int nft_open(struct nft *nft, char *err, size_t errlen);
void nft_close(struct nft *nft);

/*
 * Make table ip NAME for the N uplinks UP (see above), with the comment MARK
 * (NULL or "": none).  -EEXIST if a table ip NAME exists: it is refused,
 * never replaced or added to, and the existing table is left as it was.
 */
int nft_table_create(struct nft *nft, const char *name, const char *mark,
		     const struct nft_uplink *up, size_t n, char *err, size_t errlen);

/* Whether table ip NAME exists: 1 or 0, or a negative errno. */
int nft_table_exists(struct nft *nft, const char *name, char *err, size_t errlen);

/*
 * Delete table ip NAME with everything in it: 0, or NFT_ABSENT if there is
 * none.  With a MARK (not NULL), only if its comment is exactly MARK:
 * otherwise NFT_NOT_OURS, nothing done, and ERR says what the comment is.
 * (The comment is checked and the table deleted by its handle, which no
 * other table can have meanwhile.)
 */
int nft_table_delete(struct nft *nft, const char *name, const char *mark,
		     char *err, size_t errlen);

/* Every table of every family: *TABLES (*N) is the caller's to free(). */
int nft_table_list(struct nft *nft, struct nft_table **tables, size_t *n,
		   char *err, size_t errlen);

/* "ip", "ip6", "inet", "arp", "bridge", "netdev", or "unknown". */
const char *nft_family_name(int family);

#endif
