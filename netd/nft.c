/*
 * nft.c: a lab's nftables table, made in one batch and removed in one.
 *
 * A guest reaches the world through its lab's uplink: a tap (or bridge) on
 * the host with an address in the lab's subnet.  The host forwards its
 * packets, and rewrites their source to the address of the link they leave
 * by (masquerade), so that the answers find their way back.  The table
 * that does it (drawn in nft.h) belongs to the lab alone: its name is the
 * lab's, and deleting it undoes everything without touching anyone else's
 * rules.
 *
 * The rules are built the way nft(8) builds them (libnftnl expressions;
 * "nft --debug=netlink" shows the same), so that "nft list table" prints
 * them back as the text in nft.h:
 *
 *	ip saddr 10.1.0.0/24		payload load 3 bytes at network header + 12, cmp eq
 *	ip saddr 10.1.16.0/20		payload load 4 bytes, bitwise and the mask, cmp eq
 *	oifname != "tap0"		meta load oifname, cmp neq with 16 bytes (IFNAMSIZ)
 *	ct state established,related	ct load state, bitwise and 0x6, cmp neq 0
 *	accept, masquerade		immediate verdict accept, masq
 *
 * The table, its chains and its rules go to the kernel in one nf_tables
 * batch (begin, messages, end), which the kernel applies whole or not at
 * all.  The table is asked for with NLM_F_EXCL: if a table of that name is
 * there, the batch fails with EEXIST and nothing changes.  Every message
 * asks for an acknowledgement, so a refusal names the message that caused
 * it (nlsock_talk returns its sequence number, and the batch remembers what
 * each number was).
 *
 * A table carries a comment, the lab's mark ("lguest:LAB"), in its user
 * data, the way nft(8) stores "comment": lguest-netd deletes only the
 * tables that bear its mark, and deletes them by handle, so that the table
 * checked is the table deleted.  The comment of a table made by someone
 * else is read with bounds checked by hand: it is whatever they wrote.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft.h"

#define NFT_MSG_ROOM	1024	/* the most one of our messages takes (a rule: ~400) */
#define NFT_WHAT_MAX	160	/* a message's description, for errors */
#define NFT_PRIO_SRCNAT	100	/* NF_IP_PRI_NAT_SRC: nft's "srcnat" */
#define NFT_PRIO_FILTER	0	/* NF_IP_PRI_FILTER: nft's "filter" */
#define NFT_IP_SADDR	12	/* offsetof(struct iphdr, saddr) */

int nft_open(struct nft *nft, char *err, size_t errlen)
{
	return nlsock_open(&nft->sock, NETLINK_NETFILTER, err, errlen);
}

void nft_close(struct nft *nft)
{
	nlsock_close(&nft->sock);
}

const char *nft_family_name(int family)
{
	switch (family) {
	case NFPROTO_IPV4:	return "ip";
	case NFPROTO_IPV6:	return "ip6";
	case NFPROTO_INET:	return "inet";
	case NFPROTO_ARP:	return "arp";
	case NFPROTO_BRIDGE:	return "bridge";
	case NFPROTO_NETDEV:	return "netdev";
	}
	return "unknown";
}

/* A table name nft(8) can also read back without quotes: [A-Za-z_][A-Za-z0-9_.-]*. */
static int nft_name_check(const char *name, char *err, size_t errlen)
{
	const char *p;

	if (!name || !name[0])
		return nlsock_error(-EINVAL, err, errlen, "table: no name given");
	if (strlen(name) >= NFT_NAME_MAX)
		return nlsock_error(-EINVAL, err, errlen,
				    "table '%.20s...': longer than %d characters",
				    name, NFT_NAME_MAX - 1);
	for (p = name; *p; p++) {
		bool letter = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
		bool other = (*p >= '0' && *p <= '9') || *p == '.' || *p == '-';

		if (!letter && (p == name || !other))
			return nlsock_error(-EINVAL, err, errlen,
					    "table '%s': a name is a letter or '_', then letters, "
					    "digits, '_', '.' or '-'", name);
	}
	return 0;
}

/* --- the batch --------------------------------------------------------------------- */

/* A batch being built: its messages, and what each one is, for errors. */
struct batch {
	struct mnl_nlmsg_batch *mnl;
	char *buf;
	uint32_t begin;			/* the sequence number of the batch's begin */
	size_t n, max;			/* messages in it, and room for */
	char (*what)[NFT_WHAT_MAX];	/* what[i] describes message begin + 1 + i */
	bool full;
};

static int batch_start(struct batch *b, struct nlsock *s, size_t max)
{
	size_t limit = (max + 2) * NFT_MSG_ROOM;

	memset(b, 0, sizeof(*b));
	b->max = max;
	b->buf = malloc(2 * limit);	/* libmnl lets the last message run over the limit */
	b->what = calloc(max, sizeof(*b->what));
	if (!b->buf || !b->what)
		return -ENOMEM;
	b->mnl = mnl_nlmsg_batch_start(b->buf, limit);
	if (!b->mnl)
		return -ENOMEM;
	b->begin = nlsock_next_seq(s);
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->mnl), b->begin);
	mnl_nlmsg_batch_next(b->mnl);
	return 0;
}

static void batch_free(struct batch *b)
{
	if (b->mnl)
		mnl_nlmsg_batch_stop(b->mnl);
	free(b->buf);
	free(b->what);
}

/* The header of the batch's next message (type CMD), which WHAT (printf) describes. */
__attribute__((format(printf, 6, 7)))
static struct nlmsghdr *batch_msg(struct batch *b, struct nlsock *s, uint16_t cmd,
				  uint16_t flags, uint16_t family, const char *what, ...)
{
	va_list ap;

	if (b->n == b->max) {
		b->full = true;
		return NULL;
	}
	va_start(ap, what);
	vsnprintf(b->what[b->n++], NFT_WHAT_MAX, what, ap);
	va_end(ap);
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b->mnl), cmd, family,
				     flags | NLM_F_ACK, nlsock_next_seq(s));
}

/* The message just built is complete: make room for the next. */
static void batch_next(struct batch *b)
{
	if (!mnl_nlmsg_batch_next(b->mnl))
		b->full = true;
}

/*
 * End the batch, send it and read every acknowledgement: 0, or the first
 * error, with ERR naming the message it was for.  CONTEXT names the whole.
 */
static int batch_send(struct batch *b, struct nlsock *s, const char *context,
		      char *err, size_t errlen)
{
	uint32_t failed;
	int error;

	if (b->full)
		return nlsock_error(-EMSGSIZE, err, errlen, "%s: more than the batch can hold",
				    context);
	nftnl_batch_end(mnl_nlmsg_batch_current(b->mnl), nlsock_next_seq(s));
	mnl_nlmsg_batch_next(b->mnl);
	error = nlsock_talk(s, mnl_nlmsg_batch_head(b->mnl), mnl_nlmsg_batch_size(b->mnl),
			    b->begin + 1, b->begin + b->n, NULL, NULL, &failed);
	if (!error)
		return 0;
	if (failed > b->begin && failed <= b->begin + b->n)
		return nlsock_fail(s, error, err, errlen, "%s: %s", context,
				   b->what[failed - b->begin - 1]);
	return nlsock_fail(s, error, err, errlen, "%s", context);
}

/* --- rules ------------------------------------------------------------------------ */

/* A rule being built; a failed allocation is remembered and reported once. */
struct rule {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *rule_expr(struct rule *rule, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		rule->oom = true;
	else
		nftnl_rule_add_expr(rule->r, e);
	return e;
}

static void rule_cmp(struct rule *rule, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rule_expr(rule, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

/* reg 1 &= MASK (LEN bytes) */
static void rule_and(struct rule *rule, const void *mask, uint32_t len)
{
	static const uint8_t zero[4];
	struct nftnl_expr *e = rule_expr(rule, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

/* ip saddr SUBNET/PREFIX (nothing for /0, which every source matches) */
static void rule_saddr(struct rule *rule, struct in_addr subnet, unsigned int prefix)
{
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	uint32_t net = subnet.s_addr & mask;
	uint32_t len = prefix % 8 ? 4 : prefix / 8;
	struct nftnl_expr *e;

	if (!prefix)
		return;
	e = rule_expr(rule, "payload");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, NFT_IP_SADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	if (prefix % 8)
		rule_and(rule, &mask, len);
	rule_cmp(rule, NFT_CMP_EQ, &net, len);
}

/* iifname/oifname (KEY) OP "NAME" */
static void rule_ifname(struct rule *rule, uint32_t key, uint32_t op, const char *name)
{
	char padded[IFNAMSIZ] = { 0 };
	struct nftnl_expr *e = rule_expr(rule, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	snprintf(padded, sizeof(padded), "%s", name);
	rule_cmp(rule, op, padded, sizeof(padded));
}

/* ct state established,related */
static void rule_ct_established(struct rule *rule)
{
	uint32_t states = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t none = 0;
	struct nftnl_expr *e = rule_expr(rule, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	rule_and(rule, &states, sizeof(states));
	rule_cmp(rule, NFT_CMP_NEQ, &none, sizeof(none));
}

static void rule_accept(struct rule *rule)
{
	struct nftnl_expr *e = rule_expr(rule, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
}

/* An uplink's three rules: masquerade its subnet, let it out, let the answers in. */
enum uplink_rule { RULE_MASQUERADE, RULE_OUT, RULE_BACK, RULES_PER_UPLINK };

static void uplink_rule_fill(struct rule *rule, enum uplink_rule which,
			     const struct nft_uplink *up)
{
	switch (which) {
	case RULE_MASQUERADE:	/* ip saddr SUBNET oifname != "TAP" masquerade */
		rule_saddr(rule, up->subnet, up->prefix);
		rule_ifname(rule, NFT_META_OIFNAME, NFT_CMP_NEQ, up->tap);
		rule_expr(rule, "masq");
		break;
	case RULE_OUT:		/* iifname "TAP" accept */
		rule_ifname(rule, NFT_META_IIFNAME, NFT_CMP_EQ, up->tap);
		rule_accept(rule);
		break;
	case RULE_BACK:		/* oifname "TAP" ct state established,related accept */
		rule_ifname(rule, NFT_META_OIFNAME, NFT_CMP_EQ, up->tap);
		rule_ct_established(rule);
		rule_accept(rule);
		break;
	default:
		break;
	}
}

/* The rule in nft's words, for errors. */
static void uplink_rule_what(enum uplink_rule which, const struct nft_uplink *up,
			     char *buf, size_t size)
{
	char net[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &up->subnet, net, sizeof(net));
	if (which == RULE_MASQUERADE)
		snprintf(buf, size, "rule 'ip saddr %s/%u oifname != \"%s\" masquerade' in chain %s",
			 net, up->prefix, up->tap, NFT_CHAIN_NAT);
	else if (which == RULE_OUT)
		snprintf(buf, size, "rule 'iifname \"%s\" accept' in chain %s", up->tap,
			 NFT_CHAIN_FORWARD);
	else
		snprintf(buf, size, "rule 'oifname \"%s\" ct state established,related accept' "
			 "in chain %s", up->tap, NFT_CHAIN_FORWARD);
}

/* One of an uplink's rules, appended to the batch. */
static int uplink_rule(struct batch *b, struct nlsock *s, const char *table,
		       const struct nft_uplink *up, enum uplink_rule which)
{
	struct rule rule = { .r = nftnl_rule_alloc() };
	char what[NFT_WHAT_MAX];
	struct nlmsghdr *nlh;

	if (!rule.r)
		return -ENOMEM;
	nftnl_rule_set_str(rule.r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(rule.r, NFTNL_RULE_CHAIN,
			   which == RULE_MASQUERADE ? NFT_CHAIN_NAT : NFT_CHAIN_FORWARD);
	nftnl_rule_set_u32(rule.r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	uplink_rule_fill(&rule, which, up);
	if (rule.oom) {
		nftnl_rule_free(rule.r);
		return -ENOMEM;
	}
	uplink_rule_what(which, up, what, sizeof(what));
	nlh = batch_msg(b, s, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFPROTO_IPV4,
			"%s", what);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rule.r);
		batch_next(b);
	}
	nftnl_rule_free(rule.r);
	return 0;
}

/* --- tables and chains ---------------------------------------------------------- */

/* A table object called NAME (family ip), with comment MARK if any; NULL: no memory. */
static struct nftnl_table *table_object(const char *name, const char *mark)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *udata;

	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (!mark || !mark[0])
		return t;
	udata = nftnl_udata_buf_alloc(NFT_COMMENT_MAX + 2);
	if (!udata || !nftnl_udata_put_strz(udata, NFTNL_UDATA_TABLE_COMMENT, mark) ||
	    nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(udata),
				 nftnl_udata_buf_len(udata)) < 0) {
		nftnl_table_free(t);
		t = NULL;
	}
	if (udata)
		nftnl_udata_buf_free(udata);
	return t;
}

static int table_msg(struct batch *b, struct nlsock *s, const char *name, const char *mark)
{
	struct nftnl_table *t = table_object(name, mark);
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nlh = batch_msg(b, s, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, NFPROTO_IPV4,
			"table ip %s", name);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_next(b);
	}
	nftnl_table_free(t);
	return 0;
}

/* A base chain NAME of TYPE ("nat", "filter") on HOOK at PRIO, policy accept. */
static int chain_msg(struct batch *b, struct nlsock *s, const char *table, const char *name,
		     const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = batch_msg(b, s, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, NFPROTO_IPV4,
			"chain %s", name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		batch_next(b);
	}
	nftnl_chain_free(c);
	return 0;
}

static int uplinks_check(const char *table, const struct nft_uplink *up, size_t n,
			 char *err, size_t errlen)
{
	size_t i;

	if (n > NFT_UPLINKS_MAX)
		return nlsock_error(-EINVAL, err, errlen, "table ip %s: %zu uplinks, more than %d",
				    table, n, NFT_UPLINKS_MAX);
	for (i = 0; i < n; i++) {
		size_t len = strnlen(up[i].tap, IFNAMSIZ);

		if (len == 0 || len == IFNAMSIZ)
			return nlsock_error(-EINVAL, err, errlen,
					    "table ip %s: uplink %zu: no tap name, or one "
					    "longer than %d",
					    table, i + 1, IFNAMSIZ - 1);
		if (up[i].prefix > 32)
			return nlsock_error(-EINVAL, err, errlen,
					    "table ip %s: uplink %s: prefix /%u is longer than 32",
					    table, up[i].tap, up[i].prefix);
	}
	return 0;
}

int nft_table_create(struct nft *nft, const char *name, const char *mark,
		     const struct nft_uplink *up, size_t n, char *err, size_t errlen)
{
	struct nlsock *s = &nft->sock;
	char context[NFT_NAME_MAX + 32];
	struct batch b;
	size_t i;
	int error = nft_name_check(name, err, errlen);

	if (!error)
		error = uplinks_check(name, up, n, err, errlen);
	if (!error && mark && strlen(mark) >= NFT_COMMENT_MAX)
		error = nlsock_error(-EINVAL, err, errlen, "table ip %s: comment longer than %d",
				     name, NFT_COMMENT_MAX - 1);
	if (error)
		return error;
	snprintf(context, sizeof(context), "create table ip %s", name);
	error = batch_start(&b, s, 3 + RULES_PER_UPLINK * n);
	if (!error)
		error = table_msg(&b, s, name, mark);
	if (!error)
		error = chain_msg(&b, s, name, NFT_CHAIN_NAT, "nat", NF_INET_POST_ROUTING,
				  NFT_PRIO_SRCNAT);
	if (!error)
		error = chain_msg(&b, s, name, NFT_CHAIN_FORWARD, "filter", NF_INET_FORWARD,
				  NFT_PRIO_FILTER);
	for (i = 0; i < n; i++) {
		enum uplink_rule which;

		for (which = 0; which < RULES_PER_UPLINK && !error; which++)
			error = uplink_rule(&b, s, name, &up[i], which);
	}
	if (error) {
		batch_free(&b);
		return nlsock_error(error, err, errlen, "%s: %s", context, strerror(-error));
	}
	error = batch_send(&b, s, context, err, errlen);
	batch_free(&b);
	if (error == -EEXIST)
		return nlsock_error(error, err, errlen, "%s: a table ip %s exists (left as it is)",
				    context, name);
	return error;
}

/* --- reading tables ------------------------------------------------------------ */

/* The comment in a table's user data (type-length-value, one byte each). */
static void table_comment(const uint8_t *data, uint32_t len, char *comment, size_t size)
{
	uint32_t off = 0;

	comment[0] = '\0';
	while (off + 2 <= len) {
		uint8_t type = data[off], vlen = data[off + 1];

		if (off + 2 + vlen > len)
			return;		/* runs past the end: no comment */
		if (type == NFTNL_UDATA_TABLE_COMMENT && vlen > 0 &&
		    data[off + 2 + vlen - 1] == '\0') {
			snprintf(comment, size, "%s", (const char *)data + off + 2);
			return;
		}
		off += 2 + vlen;
	}
}

/* An NFT_MSG_NEWTABLE message into *TABLE. */
static int table_parse(const struct nlmsghdr *nlh, struct nft_table *table)
{
	struct nftnl_table *t;
	const void *udata;
	uint32_t len = 0;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE))
		return -EPROTO;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0 || !nftnl_table_is_set(t, NFTNL_TABLE_NAME)) {
		nftnl_table_free(t);
		return -EPROTO;
	}
	memset(table, 0, sizeof(*table));
	table->family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	snprintf(table->name, sizeof(table->name), "%s", nftnl_table_get_str(t, NFTNL_TABLE_NAME));
	table->handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	udata = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (udata)
		table_comment(udata, len, table->comment, sizeof(table->comment));
	nftnl_table_free(t);
	return 0;
}

static int table_one(const struct nlmsghdr *nlh, void *data)
{
	return table_parse(nlh, data);
}

/* Table ip NAME into *TABLE: 0, -ENOENT, or another error. */
static int table_get(struct nft *nft, const char *name, struct nft_table *table)
{
	char buf[NFT_MSG_ROOM];
	struct nftnl_table *t = table_object(name, NULL);
	struct nlmsghdr *nlh;
	uint32_t seq = nlsock_next_seq(&nft->sock);

	if (!t)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	memset(table, 0, sizeof(*table));
	return nlsock_talk(&nft->sock, nlh, nlh->nlmsg_len, seq, seq, table_one, table, NULL);
}

int nft_table_exists(struct nft *nft, const char *name, char *err, size_t errlen)
{
	struct nft_table table;
	int error = nft_name_check(name, err, errlen);

	if (error)
		return error;
	error = table_get(nft, name, &table);
	if (error == -ENOENT)
		return 0;
	if (error)
		return nlsock_fail(&nft->sock, error, err, errlen, "table ip %s: look up", name);
	return 1;
}

/* Delete table ip NAME by its HANDLE, in a batch of one. */
static int table_delete(struct nft *nft, const char *name, uint64_t handle,
			char *err, size_t errlen)
{
	struct nlsock *s = &nft->sock;
	struct nftnl_table *t = nftnl_table_alloc();
	char context[NFT_NAME_MAX + 32];
	struct nlmsghdr *nlh;
	struct batch b;
	int error;

	snprintf(context, sizeof(context), "delete table ip %s", name);
	if (!t)
		return nlsock_error(-ENOMEM, err, errlen, "%s: no memory", context);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_u64(t, NFTNL_TABLE_HANDLE, handle);
	error = batch_start(&b, s, 1);
	if (!error && (nlh = batch_msg(&b, s, NFT_MSG_DELTABLE, 0, NFPROTO_IPV4, "table ip %s",
				       name))) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_next(&b);
	}
	nftnl_table_free(t);
	if (error) {
		batch_free(&b);
		return nlsock_error(error, err, errlen, "%s: %s", context, strerror(-error));
	}
	error = batch_send(&b, s, context, err, errlen);
	batch_free(&b);
	return error;
}

int nft_table_delete(struct nft *nft, const char *name, const char *mark,
		     char *err, size_t errlen)
{
	struct nft_table table;
	int error = nft_name_check(name, err, errlen);

	if (error)
		return error;
	error = table_get(nft, name, &table);
	if (error == -ENOENT) {
		nlsock_error(error, err, errlen, "table ip %s: no such table", name);
		return NFT_ABSENT;
	}
	if (error)
		return nlsock_fail(&nft->sock, error, err, errlen, "table ip %s: look up", name);
	if (mark && strcmp(table.comment, mark)) {
		nlsock_error(0, err, errlen, "table ip %s: not ours: %s%s%s, not '%s'", name,
			     table.comment[0] ? "its comment is '" : "it has no comment",
			     table.comment, table.comment[0] ? "'" : "", mark);
		return NFT_NOT_OURS;
	}
	error = table_delete(nft, name, table.handle, err, errlen);
	if (error == -ENOENT) {
		nlsock_error(error, err, errlen, "table ip %s: no such table", name);
		return NFT_ABSENT;	/* someone was quicker */
	}
	return error;
}

/* The tables listed so far. */
struct table_array {
	struct nft_table *items;
	size_t n, cap;
};

static int table_list_one(const struct nlmsghdr *nlh, void *data)
{
	struct table_array *a = data;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		struct nft_table *items = realloc(a->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		a->items = items;
		a->cap = cap;
	}
	return table_parse(nlh, &a->items[a->n++]);
}

int nft_table_list(struct nft *nft, struct nft_table **tables, size_t *n,
		   char *err, size_t errlen)
{
	struct table_array a = { 0 };
	char buf[NFT_MSG_ROOM];
	struct nlmsghdr *nlh;
	uint32_t seq;
	int error, tries = 0;

	do {
		a.n = 0;
		seq = nlsock_next_seq(&nft->sock);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
		error = nlsock_talk(&nft->sock, nlh, nlh->nlmsg_len, seq, seq, table_list_one, &a,
				    NULL);
	} while (error == -EINTR && ++tries < 5);
	if (error) {
		free(a.items);
		return nlsock_fail(&nft->sock, error, err, errlen, "list nftables tables");
	}
	*tables = a.items;
	*n = a.n;
	return 0;
}
