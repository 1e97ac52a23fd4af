/*
 * agent_client.h: running commands in a guest through its agent, from the
 * host: connect to the channel socket of the guest's launcher (lguest
 * --channel=PATH), say HELLO, run commands (any number at once, over the
 * one connection), and collect their output and how they ended.  The
 * protocol is include/lguest/agent.h; its frames are agent_frame.h.
 *
 *	struct agent_client *c = agent_client_connect("/run/lab/r1.sock", err, sizeof(err));
 *	const char *argv[] = { "ip", "-br", "addr", NULL };
 *	struct agent_command cmd = { .argv = argv, .stdin_fd = -1,
 *				     .stdout_fd = -1, .stderr_fd = -1 };
 *
 *	if (!c || agent_client_hello(c, 30000, NULL) < 0 ||
 *	    agent_client_run(c, &cmd, 1, -1) < 0)
 *		...;			// err, or agent_client_error(c)
 *	printf("%d: %.*s", cmd.code, (int)cmd.out_len, cmd.out);
 *	agent_command_free(&cmd);
 *	agent_client_close(c);
 *
 * The calls block (poll() inside); a client serves one thread.  A program
 * that must serve many things at once (lguest-netd) drives the frames
 * itself with agent_frame.h and takes this file as the example.
 */
#ifndef LGUEST_AGENT_CLIENT_H
#define LGUEST_AGENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct agent_client;

/* What the agent said in its HELLO. */
struct agent_hello_info {
	uint32_t max_sessions, stdin_window, output_window;
	char hostname[256];
};

/*
 * One command.  The caller fills in the first part; agent_client_run()
 * fills in the second (free it with agent_command_free()).
 */
struct agent_command {
	const char *const *argv;	/* NULL-terminated; argv[0] is looked for in PATH */
	const char *const *env;		/* "NAME=VALUE" to add, NULL-terminated; or NULL */
	const char *cwd;		/* the working directory, or NULL */
	/*
	 * stdin: relayed from stdin_fd until its end when stdin_fd >= 0; else
	 * the stdin_len bytes at stdin_data when that is not NULL; else
	 * /dev/null.
	 */
	int stdin_fd;
	const void *stdin_data;
	size_t stdin_len;
	/* Output: written to these descriptors when >= 0, else collected. */
	int stdout_fd, stderr_fd;

	/* How it ended. */
	int code;		/* exit code; 128 + signal if killed; -1: never ran */
	int signal;		/* the signal that killed it, or 0 */
	char *out, *err;	/* collected output (NUL-terminated), or NULL */
	size_t out_len, err_len;
	char *error;		/* why it never ran, or the agent's ERROR about it */
	uint64_t elapsed_ns;	/* from EXEC sent to EXIT received */
};

/*
 * Connect to the channel socket at path: the client, or NULL with the reason
 * in err (errsize bytes).
 */
struct agent_client *agent_client_connect(const char *path, char *err, size_t errsize);

/*
 * Say HELLO and wait up to timeout_ms (-1: for ever) for the answer (the
 * agent may still be starting).  0, with info filled in if not NULL; or -1.
 */
int agent_client_hello(struct agent_client *c, int timeout_ms, struct agent_hello_info *info);

/*
 * Run the n commands at once and wait until every one has ended.  Signals
 * read from signal_fd (a signalfd, or -1 for none) are sent to every
 * command still running.  0 when every command ended (each says how in
 * code, signal, error); -1 when the connection failed (the commands still
 * running are lost: the agent kills them).
 */
int agent_client_run(struct agent_client *c, struct agent_command *cmds, size_t n,
		     int signal_fd);

void agent_command_free(struct agent_command *cmd);

/* Why the last call failed. */
const char *agent_client_error(const struct agent_client *c);

/* The connection's descriptor (to poll it, or to write garbage in tests). */
int agent_client_fd(const struct agent_client *c);

void agent_client_close(struct agent_client *c);

#endif
