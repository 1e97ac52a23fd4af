/*
 * test_parse.c: the plumbing's readers of kernel answers, fed answers no
 * kernel sends: a message that runs past its datagram, an error too short
 * for its struct nlmsgerr or with a positive errno, an extended ack whose
 * attribute runs past its message or has no NUL, a link name with no NUL, a
 * 2-byte MTU, an IPv4 address of 5 bytes, an IPv6 gateway of 4, a /33, a
 * table comment whose length runs past its user data.  Each is refused
 * (EPROTO) or ignored, and nothing is read out of bounds: each answer is
 * read from a heap buffer of exactly its size, so that AddressSanitizer
 * would catch a byte too far.  Well-formed answers are read whole.
 *
 * The readers are static: this file includes the modules' sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../netd/nlsock.c"
#include "../../netd/netlink.c"
#include "../../netd/nft.c"

/* The datagram being built, and the socket that "received" it. */
static char dgram[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

static struct nlmsghdr *put_msg(size_t at, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(dgram + at);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

/* An attribute whose length field then says LEN_FIELD, whatever it holds. */
static void put_bad_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len,
			 uint16_t len_field)
{
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put(nlh, type, len, data);
	attr->nla_len = len_field;
}

/*
 * A copy of N bytes at P in a buffer of exactly that size (freed at the
 * next call): under AddressSanitizer, reading past its end is caught.
 */
static void *exact(const void *p, size_t n)
{
	static void *copy;

	free(copy);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, p, n);
	return copy;
}

/* The first N bytes of dgram, as received by S. */
static int feed(struct nlsock *s, struct talk *t, size_t n)
{
	s->buf = exact(dgram, n);
	return talk_datagram(s, t, n);
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return 0;
}

static void talk_init(struct talk *t, struct nlsock *s, uint32_t first, uint32_t last, int *count)
{
	memset(s, 0, sizeof(*s));
	memset(t, 0, sizeof(*t));
	t->first = first;
	t->last = last;
	t->cb = count_cb;
	t->data = count;
}

/* An error message (capped) for SEQ carrying ERROR, at AT; its nlmsgerr returned. */
static struct nlmsghdr *put_error(size_t at, uint32_t seq, int error, uint16_t flags)
{
	struct nlmsghdr *nlh = put_msg(at, NLMSG_ERROR, NLM_F_CAPPED | flags, seq);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg);
	e->msg.nlmsg_seq = seq;
	return nlh;
}

static void datagram_framing(void **state)
{
	struct nlsock s;
	struct talk t;
	struct nlmsghdr *nlh;
	int count = 0;

	(void)state;
	talk_init(&t, &s, 5, 5, &count);
	nlh = put_msg(0, RTM_NEWLINK, 0, 5);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	nlh->nlmsg_len += 100;	/* runs past the datagram */
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len - 100), -EPROTO);
	assert_int_equal(count, 0);

	assert_int_equal(feed(&s, &t, 10), -EPROTO);	/* not even a header */

	nlh = put_msg(0, RTM_NEWLINK, 0, 99);	/* another request's: skipped */
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(count, 0);
	nlh->nlmsg_seq = 5;
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(count, 1);
	assert_false(t.done);
}

static void error_messages(void **state)
{
	struct nlsock s;
	struct talk t;
	struct nlmsghdr *nlh;
	int count = 0;

	(void)state;
	talk_init(&t, &s, 5, 5, &count);
	nlh = put_msg(0, NLMSG_ERROR, 0, 5);
	mnl_nlmsg_put_extra_header(nlh, 2);	/* too short for struct nlmsgerr */
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_true(t.done);
	assert_int_equal(t.error, -EPROTO);

	talk_init(&t, &s, 5, 5, &count);
	nlh = put_error(0, 5, 5, 0);		/* a positive errno */
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(t.error, -EPROTO);

	talk_init(&t, &s, 5, 5, &count);
	nlh = put_error(0, 5, -EINVAL, NLM_F_ACK_TLVS);
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "MTU too big");
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(t.error, -EINVAL);
	assert_int_equal(t.failed, 5);
	assert_string_equal(s.ext, "MTU too big");

	talk_init(&t, &s, 5, 5, &count);
	nlh = put_error(0, 5, -EINVAL, NLM_F_ACK_TLVS);
	mnl_attr_put(nlh, NLMSGERR_ATTR_MSG, 4, "abcd");	/* no NUL */
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_string_equal(s.ext, "");

	talk_init(&t, &s, 5, 5, &count);
	nlh = put_error(0, 5, -EINVAL, NLM_F_ACK_TLVS);
	put_bad_attr(nlh, NLMSGERR_ATTR_MSG, "abc", 4, 200);	/* runs past the message */
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(t.error, -EINVAL);
	assert_string_equal(s.ext, "");

	talk_init(&t, &s, 5, 5, &count);
	nlh = put_error(0, 5, -EINVAL, NLM_F_ACK_TLVS);
	nlh->nlmsg_flags &= ~NLM_F_CAPPED;	/* says our request follows, in full */
	((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 60000;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "unseen");
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_string_equal(s.ext, "");
}

static void final_answers(void **state)
{
	struct nlsock s;
	struct talk t;
	struct nlmsghdr *nlh;
	size_t len;
	int count = 0, error = -ENOBUFS;

	(void)state;
	/* A batch 10..12 (begin 9): acks for 10 and 12, an error for 11. */
	talk_init(&t, &s, 10, 12, &count);
	len = put_error(0, 10, 0, 0)->nlmsg_len;
	len += put_error(len, 11, -EEXIST, 0)->nlmsg_len;
	assert_int_equal(feed(&s, &t, len), 0);
	assert_false(t.done);
	nlh = put_error(0, 12, 0, 0);
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_true(t.done);
	assert_int_equal(t.error, -EEXIST);
	assert_int_equal(t.failed, 11);

	/* The whole batch refused: one error, for its begin. */
	talk_init(&t, &s, 10, 12, &count);
	nlh = put_error(0, 9, -EPERM, 0);
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_true(t.done);
	assert_int_equal(t.error, -EPERM);

	/* The end of a dump: a short one, one with an error, one interrupted. */
	talk_init(&t, &s, 7, 7, &count);
	nlh = put_msg(0, NLMSG_DONE, NLM_F_MULTI, 7);
	mnl_nlmsg_put_extra_header(nlh, 2);
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_true(t.done);
	assert_int_equal(t.error, 0);
	talk_init(&t, &s, 7, 7, &count);
	nlh = put_msg(0, NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 7);
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(error)), &error, sizeof(error));
	assert_int_equal(feed(&s, &t, nlh->nlmsg_len), 0);
	assert_int_equal(t.error, -ENOBUFS);
	assert_true(t.interrupted);
}

/* An RTM_NEWLINK: index 7, up; the caller adds attributes. */
static struct nlmsghdr *put_link(void)
{
	struct nlmsghdr *nlh = put_msg(0, RTM_NEWLINK, 0, 1);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = 7;
	ifi->ifi_flags = IFF_UP;
	return nlh;
}

static void links(void **state)
{
	struct nl_link link;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char long_kind[100];

	(void)state;
	nlh = put_link();
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tap0");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1400);
	mnl_attr_put_u32(nlh, IFLA_MASTER, 3);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, "lguest:lab");
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "tun");
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), 0);
	assert_int_equal(link.index, 7);
	assert_true(link.up);
	assert_string_equal(link.name, "tap0");
	assert_int_equal(link.mtu, 1400);
	assert_int_equal(link.master, 3);
	assert_string_equal(link.alias, "lguest:lab");
	assert_string_equal(link.kind, "tun");

	nlh = put_msg(0, RTM_NEWLINK, 0, 1);
	mnl_nlmsg_put_extra_header(nlh, 8);	/* half a struct ifinfomsg */
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), -EPROTO);

	nlh = put_link();
	mnl_attr_put(nlh, IFLA_IFNAME, 4, "tap0");	/* no NUL */
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), -EPROTO);

	nlh = put_link();
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tap0");
	mnl_attr_put_u16(nlh, IFLA_MTU, 1400);		/* an MTU of 2 bytes */
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), -EPROTO);

	nlh = put_link();
	mnl_attr_put_u32(nlh, IFLA_MTU, 1400);		/* no name */
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), -EPROTO);

	nlh = put_link();
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tap0");
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	put_bad_attr(nlh, IFLA_INFO_KIND, "tun", 4, 64);	/* runs past its nest */
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), 0);
	assert_string_equal(link.kind, "");

	nlh = put_link();
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tap0");
	memset(long_kind, 'k', sizeof(long_kind) - 1);
	long_kind[sizeof(long_kind) - 1] = '\0';
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, long_kind);	/* cut to fit */
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), 0);
	assert_int_equal(strlen(link.kind), NL_KIND_MAX - 1);

	nlh = put_link();
	nlh->nlmsg_type = RTM_NEWADDR;			/* not a link at all */
	assert_int_equal(nl_link_parse(exact(nlh, nlh->nlmsg_len), &link), -EPROTO);
}

static struct nlmsghdr *put_addr(int family, unsigned int prefix)
{
	struct nlmsghdr *nlh = put_msg(0, RTM_NEWADDR, 0, 1);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = 2;
	return nlh;
}

static void addresses(void **state)
{
	static const uint8_t v6[16] = { 0xfd, 0, [15] = 1 };
	struct nl_array a = { .size = sizeof(struct nl_addr) };
	struct nl_addr *addr;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = put_addr(AF_INET6, 64);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6);
	assert_int_equal(nl_addr_dump_one(exact(nlh, nlh->nlmsg_len), &a), 0);
	assert_int_equal(a.n, 1);
	addr = a.items;
	assert_int_equal(addr->ip.family, AF_INET6);
	assert_memory_equal(addr->ip.bytes, v6, 16);
	assert_int_equal(addr->prefix, 64);
	assert_int_equal(addr->index, 2);

	nlh = put_addr(AF_INET, 24);
	mnl_attr_put(nlh, IFA_LOCAL, 5, "\x0a\x01\x00\x01\x00");	/* 5 bytes of IPv4 */
	assert_int_equal(nl_addr_dump_one(exact(nlh, nlh->nlmsg_len), &a), -EPROTO);

	nlh = put_addr(AF_INET, 24);				/* no address at all */
	assert_int_equal(nl_addr_dump_one(exact(nlh, nlh->nlmsg_len), &a), -EPROTO);

	nlh = put_addr(AF_PACKET, 0);				/* not ours to list */
	assert_int_equal(nl_addr_dump_one(exact(nlh, nlh->nlmsg_len), &a), 0);
	assert_int_equal(a.n, 1);
	free(a.items);
}

static struct nlmsghdr *put_route(int family, unsigned int prefix, unsigned int table)
{
	struct nlmsghdr *nlh = put_msg(0, RTM_NEWROUTE, 0, 1);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = family;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = table;
	return nlh;
}

static void routes(void **state)
{
	struct nl_array a = { .size = sizeof(struct nl_route) };
	struct nl_route *r;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = put_route(AF_INET, 24, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_DST, 4, "\x0a\x09\x00\x00");
	mnl_attr_put(nlh, RTA_GATEWAY, 4, "\x0a\x01\x00\x02");
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	assert_int_equal(nl_route_dump_one(exact(nlh, nlh->nlmsg_len), &a), 0);
	assert_int_equal(a.n, 1);
	r = a.items;
	assert_int_equal(r->prefix, 24);
	assert_memory_equal(r->dst.bytes, "\x0a\x09\x00\x00", 4);
	assert_int_equal(r->gateway.family, AF_INET);
	assert_int_equal(r->index, 3);

	nlh = put_route(AF_INET, 33, RT_TABLE_MAIN);		/* a /33 */
	assert_int_equal(nl_route_dump_one(exact(nlh, nlh->nlmsg_len), &a), -EPROTO);

	nlh = put_route(AF_INET6, 64, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, "\x0a\x01\x00\x02");	/* an IPv6 gateway of 4 bytes */
	assert_int_equal(nl_route_dump_one(exact(nlh, nlh->nlmsg_len), &a), -EPROTO);

	nlh = put_route(AF_INET, 8, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_LOCAL);	/* RTA_TABLE wins: not main */
	assert_int_equal(nl_route_dump_one(exact(nlh, nlh->nlmsg_len), &a), 0);
	assert_int_equal(a.n, 1);
	free(a.items);
}

static void table_comments(void **state)
{
	char comment[NFT_COMMENT_MAX];
	uint8_t udata[64];

	(void)state;
	/* Another TLV first (type 5, 2 bytes), then the comment. */
	memcpy(udata, "\x05\x02xy\x00\x05lab1", 11);		/* with the string's NUL */
	table_comment(exact(udata, 11), 11, comment, sizeof(comment));
	assert_string_equal(comment, "lab1");

	table_comment(exact(udata, 10), 10, comment, sizeof(comment));	/* runs past the end */
	assert_string_equal(comment, "");

	memcpy(udata, "\x00\x04lab1", 6);			/* no NUL */
	table_comment(exact(udata, 6), 6, comment, sizeof(comment));
	assert_string_equal(comment, "");

	table_comment(exact(udata, 1), 1, comment, sizeof(comment));	/* half a header */
	assert_string_equal(comment, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(datagram_framing),
		cmocka_unit_test(error_messages),
		cmocka_unit_test(final_answers),
		cmocka_unit_test(links),
		cmocka_unit_test(addresses),
		cmocka_unit_test(routes),
		cmocka_unit_test(table_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
