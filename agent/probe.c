/*
 * probe.c: `lguest-agent probe ...`: the small network tools a lab's tests
 * run inside a guest, where busybox has none that say exactly what
 * happened (its nc has no UDP, and no "refused" apart from "timed out").
 *
 *   probe udp-recv PORT SECONDS     bind UDP PORT, print "listening", then
 *                                   "from ADDRESS" for the first datagram
 *                                   (exit 0), or exit 1 after SECONDS
 *   probe udp-send ADDRESS PORT N   send N datagrams, 100 ms apart
 *   probe tcp-connect ADDRESS PORT SECONDS
 *                                   "connected" (exit 0), or "refused",
 *                                   "unreachable", "timed out" (exit 1)
 *   probe tcp-listen PORT           accept connections for ever, answering
 *                                   each with a line and closing it (a
 *                                   server for connect tests)
 *
 * ADDRESS is IPv4 or IPv6.  Every result is one line on stdout, so the
 * daemon (netd/labtest.c) reads it without parsing anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static int number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "lguest-agent probe: %s: '%s' is not a number from %ld to %ld\n",
			what, s, lo, hi);
		exit(2);
	}
	return (int)v;
}

/* ADDRESS and PORT as a socket address; false if ADDRESS is neither family. */
static bool sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return true;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return true;
	}
	fprintf(stderr, "lguest-agent probe: '%s' is not an IPv4 or IPv6 address\n", addr);
	exit(2);
}

static const char *text_of(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)size);
	/* an IPv4 datagram on an IPv6 socket: ::ffff:a.b.c.d */
	if (!strncmp(buf, "::ffff:", 7) && strchr(buf, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
	return buf;
}

/* A socket on both families (IPv4 mapped), bound to PORT. */
static int bind_any(int type, int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), off = 0, on = 1;

	if (fd < 0) {	/* IPv6 off in this guest: IPv4 only */
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

		fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return -1;
		return fd;
	}
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int udp_recv(int argc, char **argv)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[64], text[INET6_ADDRSTRLEN];
	struct pollfd pf;
	int fd;

	if (argc != 2)
		return fprintf(stderr, "usage: lguest-agent probe udp-recv PORT SECONDS\n"), 2;
	fd = bind_any(SOCK_DGRAM, number(argv[0], 1, 65535, "port"));
	if (fd < 0) {
		printf("cannot listen: %s\n", strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	pf = (struct pollfd){ fd, POLLIN, 0 };
	if (poll(&pf, 1, number(argv[1], 1, 3600, "seconds") * 1000) != 1 ||
	    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) < 0) {
		printf("nothing arrived\n");
		return 1;
	}
	printf("from %s\n", text_of(&from, text, sizeof(text)));
	return 0;
}

static int udp_send(int argc, char **argv)
{
	struct sockaddr_storage to;
	struct timespec gap = { 0, 100 * 1000000 };
	socklen_t len;
	int fd, n, sent = 0;

	if (argc != 3)
		return fprintf(stderr, "usage: lguest-agent probe udp-send ADDRESS PORT COUNT\n"), 2;
	sockaddr_of(argv[0], number(argv[1], 1, 65535, "port"), &to, &len);
	n = number(argv[2], 1, 100000, "count");
	fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; fd >= 0 && i < n; i++) {
		if (sendto(fd, "lguest probe\n", 13, 0, (struct sockaddr *)&to, len) == 13)
			sent++;
		if (i + 1 < n)
			nanosleep(&gap, NULL);
	}
	printf("sent %d\n", sent);
	return sent ? 0 : 1;
}

static int tcp_connect(int argc, char **argv)
{
	struct sockaddr_storage to;
	socklen_t len;
	struct pollfd pf;
	int fd, err = 0;
	socklen_t errlen = sizeof(err);

	if (argc != 3)
		return fprintf(stderr, "usage: lguest-agent probe tcp-connect ADDRESS PORT SECONDS\n"), 2;
	sockaddr_of(argv[0], number(argv[1], 1, 65535, "port"), &to, &len);
	fd = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&to, len) < 0 && errno != EINPROGRESS)) {
		err = errno;
	} else {
		pf = (struct pollfd){ fd, POLLOUT, 0 };
		if (poll(&pf, 1, number(argv[2], 1, 3600, "seconds") * 1000) != 1)
			err = ETIMEDOUT;
		else
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
	}
	switch (err) {
	case 0:
		printf("connected\n");
		return 0;
	case ECONNREFUSED:
		printf("refused\n");
		return 1;
	case ETIMEDOUT:
		printf("timed out\n");
		return 1;
	case ENETUNREACH:
	case EHOSTUNREACH:
		printf("unreachable\n");
		return 1;
	default:
		printf("failed: %s\n", strerror(err));
		return 1;
	}
}

static int tcp_listen(int argc, char **argv)
{
	int fd, c;

	if (argc != 1)
		return fprintf(stderr, "usage: lguest-agent probe tcp-listen PORT\n"), 2;
	fd = bind_any(SOCK_STREAM, number(argv[0], 1, 65535, "port"));
	if (fd < 0 || listen(fd, 16) < 0) {
		printf("cannot listen: %s\n", strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		/* A greeting; a client that left already does not need it. */
		(void)!write(c, "lguest probe\n", 13);
		close(c);
	}
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} probes[] = {
	{ "udp-recv", udp_recv },
	{ "udp-send", udp_send },
	{ "tcp-connect", tcp_connect },
	{ "tcp-listen", tcp_listen },
};

int probe_main(int argc, char **argv)
{
	for (size_t i = 0; argc > 0 && i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!strcmp(argv[0], probes[i].name))
			return probes[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: lguest-agent probe udp-recv|udp-send|tcp-connect|tcp-listen ...\n");
	return 2;
}
