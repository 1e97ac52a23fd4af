/*
 * ctl.c: lguest-vswitch ctl SOCKET COMMAND..., the control socket's client.
 *
 * It joins its words into one line, sends it to a running switch's control
 * socket (see control.c for the commands), and prints the answer: the
 * output on stdout, an error on stderr.  Its exit status is 0 when the
 * switch said "ok", 1 when it said why not or could not be reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vswitch.h"

int ctl_main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[8192], *answer = NULL, *nl;
	size_t len = 0, cap = 0;
	const char *sock;
	ssize_t n;
	int fd, i;

	if (argc < 3) {
		fprintf(stderr, "usage: " PROGRAM " ctl SOCKET COMMAND... (try: ctl SOCKET show ports)\n");
		return 1;
	}
	sock = argv[1];
	line[0] = '\0';
	for (i = 2; i < argc; i++) {
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n")) {
			fprintf(stderr, PROGRAM ": ctl: '%s': words may not be empty or hold spaces\n",
				argv[i]);
			return 1;
		}
		if (strlen(line) + strlen(argv[i]) + 2 >= sizeof(line)) {
			fprintf(stderr, PROGRAM ": ctl: command too long\n");
			return 1;
		}
		if (i > 2)
			strcat(line, " ");
		strcat(line, argv[i]);
	}
	strcat(line, "\n");

	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, PROGRAM ": ctl %s: socket path too long\n", sock);
		return 1;
	}
	strcpy(sun.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, PROGRAM ": ctl %s: %s\n", sock, strerror(errno));
		return 1;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, PROGRAM ": ctl %s: %s\n", sock, strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		if (len + 4096 > cap) {
			char *bigger = realloc(answer, cap = cap * 2 + 8192);

			if (!bigger) {
				fprintf(stderr, PROGRAM ": ctl: %s\n", strerror(ENOMEM));
				return 1;
			}
			answer = bigger;
		}
		n = read(fd, answer + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!answer || !len) {
		fprintf(stderr, PROGRAM ": ctl %s: the switch closed without answering\n", sock);
		return 1;
	}
	answer[len] = '\0';
	nl = strchr(answer, '\n');
	if (nl)
		*nl++ = '\0';
	if (strcmp(answer, "ok") != 0) {
		fprintf(stderr, PROGRAM ": %s\n",
			strncmp(answer, "error: ", 7) ? answer : answer + 7);
		free(answer);
		return 1;
	}
	if (nl)
		fputs(nl, stdout);
	free(answer);
	return 0;
}
