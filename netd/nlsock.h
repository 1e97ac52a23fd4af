/*
 * nlsock.h: a conversation with the kernel over one netlink socket, shared
 * by rtnetlink (netlink.c: links, addresses, routes) and nf_tables (nft.c).
 *
 * The caller builds its messages (with libmnl or libnftnl), each with its
 * own sequence number and NLM_F_ACK (or NLM_F_DUMP), and nlsock_talk()
 * sends them and reads until every one has had its final answer.  See
 * nlsock.c for what the kernel sends back and what is checked.
 */
#ifndef LGUEST_NETD_NLSOCK_H
#define LGUEST_NETD_NLSOCK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#define NLSOCK_EXT_MAX 256	/* the kernel's words about an error (extended ack) */

struct mnl_socket;

/* One socket, opened in the network namespace of the thread that opens it. */
struct nlsock {
	struct mnl_socket *mnl;
	int bus;			/* NETLINK_ROUTE, NETLINK_NETFILTER */
	uint32_t portid;
	uint32_t seq;			/* the last sequence number handed out */
	char *buf;			/* replies are read here (NLSOCK_BUF bytes) */
	char ext[NLSOCK_EXT_MAX];	/* why the last request failed, in the kernel's words */
};

/*
 * Called for each data message (not an error, ack or end of dump) that
 * answers the request.  Returns 0 to go on, or a negative errno: the
 * conversation is still read to its end, the rest of the messages are not
 * given to the callback, and nlsock_talk() returns that errno.  The
 * message is whole (its length checked against what was received); its
 * payload is not: the callback checks it.
 */
typedef int (*nlsock_cb)(const struct nlmsghdr *nlh, void *data);

/* Open a netlink socket on BUS.  0, or a negative errno with ERR filled. */
int nlsock_open(struct nlsock *s, int bus, char *err, size_t errlen);
void nlsock_close(struct nlsock *s);

/* The next sequence number, for the next message to be built. */
uint32_t nlsock_next_seq(struct nlsock *s);

/*
 * Send LEN bytes of messages at MSG and read the answers, until each
 * message numbered FIRST..LAST has had its final answer (an ack, an error,
 * or the end of a dump), or an error for a message outside that range (the
 * begin or end of an nf_tables batch) says that nothing more will come.
 * Data messages go to CB (may be NULL).  Returns 0 or the first error, a
 * negative errno; *FAILED (if not NULL) is then the sequence number of the
 * message that failed (0 if it was no message's: a send or receive error).
 * s->ext holds the kernel's explanation, if it gave one.
 */
int nlsock_talk(struct nlsock *s, const void *msg, size_t len, uint32_t first,
		uint32_t last, nlsock_cb cb, void *data, uint32_t *failed);

/*
 * Fill ERR with "WHAT: ERRNO'S TEXT (the kernel's words)" where WHAT is
 * made from FMT, and return ERROR (a negative errno) for the caller to
 * return.  ERR may be NULL.
 */
__attribute__((format(printf, 5, 6)))
int nlsock_fail(const struct nlsock *s, int error, char *err, size_t errlen,
		const char *fmt, ...);

/* Fill ERR with the message made from FMT alone, and return ERROR. */
__attribute__((format(printf, 4, 5)))
int nlsock_error(int error, char *err, size_t errlen, const char *fmt, ...);

#endif
