/*
 * cli.h: lguest-net, the user's command, in parts.
 *
 *   cli.c       main(): global options, the table of commands, the daemon
 *               (started when it is needed), requests and their answers
 *   cli_lab.c   validate, up, down, status, test: labs as a whole
 *   cli_node.c  exec, console, capture, link set: one node or link
 *   graph.c     graph: the lab as a picture (DOT, and SVG through dot)
 *
 * Every command talks to lguest-netd through one connection per request
 * (proto.h): the same commands work unchanged when the daemon runs in
 * a lab-host VM and its socket is forwarded here.
 */
#ifndef LGUEST_NETD_CLI_H
#define LGUEST_NETD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "proto.h"

#define CLI_PROGRAM "lguest-net"

struct cli {
	bool json;		/* -j, --json: answers as JSON */
	const char *lab;	/* --lab LAB */
	int argc;		/* the command's own arguments */
	char **argv;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli);
	const char *usage;	/* its arguments */
	const char *help;	/* one line */
};

_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connect to the daemon (starting it if no one answers): the socket. */
int cli_connect(void);
/* Send REQUEST (stolen) on a new connection: the descriptor, and BUF for answers. */
int cli_request(json_t *request, struct proto_buf *buf);
/*
 * Wait for the final answer, handing each progress object to PROGRESS (may be
 * NULL).  Returns the answer's "result" (new reference) on ok; on an error
 * prints it and returns NULL.
 */
json_t *cli_answer(int fd, struct proto_buf *buf, void (*progress)(json_t *p, void *ctx),
		   void *ctx);
/* request + answer, no progress */
json_t *cli_call(json_t *request);
/* Add "lab" to REQUEST if --lab was given. */
json_t *cli_with_lab(const struct cli *cli, json_t *request);
/* Print a JSON value on stdout, indented. */
void cli_print_json(json_t *v);

/* a topology file's text, and its lab's name (for down FILE, test FILE) */
char *cli_read_file(const char *path, size_t *len);
/* Is ARG a file (then its lab's name into LAB), or a lab's name? */
bool cli_lab_of(const char *arg, char *lab, size_t size);

int cmd_validate(struct cli *cli);
int cmd_up(struct cli *cli);
int cmd_down(struct cli *cli);
int cmd_status(struct cli *cli);
int cmd_test(struct cli *cli);
int cmd_exec(struct cli *cli);
int cmd_console(struct cli *cli);
int cmd_capture(struct cli *cli);
int cmd_link(struct cli *cli);
int cmd_graph(struct cli *cli);

#endif
