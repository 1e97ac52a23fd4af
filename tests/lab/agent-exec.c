/*
 * agent-exec.c: run a command in a guest through its agent, for the lab
 * tests (and by hand): the smallest user of lib/agent_client.h.
 *
 *	agent-exec SOCKET [--stdin] [--env=NAME=VALUE]... [--cwd=DIR] -- CMD [ARGS...]
 *
 * connects to the guest's channel socket (lguest --channel=SOCKET), says
 * HELLO (waiting for the agent to come up, if the guest is still booting),
 * runs CMD there with our stdin (with --stdin; /dev/null otherwise), stdout
 * and stderr relayed, and exits as it did: its exit code, 128 + the signal
 * that killed it, or 255 when agent-exec itself failed (it says why on
 * stderr).  SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the
 * command.  Three more ways, for tests and measurements:
 *
 *   --repeat=N   run CMD N times over the one connection, and say on stderr
 *                how long each took (from EXEC to EXIT): a latency figure
 *   --parallel   each argument after -- is a shell command (sh -c), all run
 *                at once, each in its own session; then one line each:
 *                "command I: exit C after S s, stdout: TEXT"
 *   --hello      say HELLO and print what the agent answered
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent_client.h"

#define PROGRAM "agent-exec"
#define FAILED 255

#define MAX_ENV 64

struct options {
	const char *socket;
	bool stdin_wanted, parallel, hello;
	unsigned long repeat;
	int timeout;			/* seconds, for HELLO */
	const char *env[MAX_ENV + 1];
	unsigned int nenv;
	const char *cwd;
	char **argv;			/* after -- */
	int argc;
};

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROGRAM);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(FAILED);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s SOCKET [options] -- CMD [ARGS...]\n"
		"       %s SOCKET --parallel [options] -- 'SHELL COMMAND'...\n"
		"       %s SOCKET --hello\n"
		"\n"
		"Run CMD in the guest whose lguest has --channel=SOCKET, through its agent\n"
		"(lguest-initramfs --agent), and exit with its exit status (128 + signal\n"
		"if a signal killed it; 255 if %s itself failed).\n"
		"\n"
		"  --stdin            relay our stdin to it (default: /dev/null)\n"
		"  --env=NAME=VALUE   add to its environment (repeatable)\n"
		"  --cwd=DIR          run it in DIR\n"
		"  --timeout=SEC      wait this long for the agent's HELLO (default 60)\n"
		"  --repeat=N         run it N times; say how long each took, on stderr\n"
		"  --parallel         run each argument as sh -c ARG, all at once, and\n"
		"                     print how each ended\n"
		"  --hello            say HELLO, print the answer\n"
		"  -h, --help         this help\n",
		PROGRAM, PROGRAM, PROGRAM, PROGRAM);
}

static unsigned long number(const char *opt, const char *arg, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > max)
		fail("--%s=%s: not a number from 1 to %lu", opt, arg, max);
	return v;
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option long_options[] = {
		{ "stdin", no_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "parallel", no_argument, NULL, 'p' },
		{ "hello", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	o->timeout = 60;
	/* GNU getopt: options may come before or after SOCKET, up to "--". */
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 's': o->stdin_wanted = true; break;
		case 'e':
			if (!strchr(optarg, '=') || o->nenv == MAX_ENV)
				fail("--env=%s: not NAME=VALUE, or more than %d of them", optarg, MAX_ENV);
			o->env[o->nenv++] = optarg;
			break;
		case 'c': o->cwd = optarg; break;
		case 't': o->timeout = number("timeout", optarg, 3600); break;
		case 'r': o->repeat = number("repeat", optarg, 1000000); break;
		case 'p': o->parallel = true; break;
		case 'H': o->hello = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(FAILED);
		}
	}
	if (optind < argc)
		o->socket = argv[optind++];
	o->argv = argv + optind;
	o->argc = argc - optind;
	if (!o->socket || (!o->hello && !o->argc)) {
		usage(stderr);
		exit(FAILED);
	}
	if (o->repeat && (o->stdin_wanted || o->parallel))
		fail("--repeat runs one command with no stdin");
}

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT: for the command, through a signalfd. */
static int forwarded_signals(void)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigset_t set;
	int fd;

	/* (A shell starts background jobs with SIGINT ignored: not ours.) */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		signal(forwarded[i], SIG_DFL);
		sigaddset(&set, forwarded[i]);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fail("signalfd: %s", strerror(errno));
	return fd;
}

static struct agent_command command(const struct options *o, const char *const *argv)
{
	return (struct agent_command){
		.argv = argv,
		.env = o->env,
		.cwd = o->cwd,
		.stdin_fd = o->stdin_wanted ? STDIN_FILENO : -1,
		.stdout_fd = STDOUT_FILENO,
		.stderr_fd = STDERR_FILENO,
	};
}

/* How a command ended, as our exit status; an error it never ran with is said. */
static int status_of(struct agent_command *cmd)
{
	if (cmd->error)
		fprintf(stderr, "%s: %s\n", PROGRAM, cmd->error);
	return cmd->code < 0 ? FAILED : cmd->code;
}

static int run_once(struct agent_client *c, const struct options *o, int sigfd)
{
	struct agent_command cmd = command(o, (const char *const *)o->argv);
	int status;

	if (agent_client_run(c, &cmd, 1, sigfd) < 0)
		fail("%s", agent_client_error(c));
	status = status_of(&cmd);
	agent_command_free(&cmd);
	return status;
}

static int run_repeated(struct agent_client *c, const struct options *o, int sigfd)
{
	double sum = 0, min = 0, max = 0;
	int status = 0;

	for (unsigned long i = 0; i < o->repeat; i++) {
		struct agent_command cmd = command(o, (const char *const *)o->argv);
		double ms;

		if (agent_client_run(c, &cmd, 1, sigfd) < 0)
			fail("run %lu: %s", i + 1, agent_client_error(c));
		status = status_of(&cmd);
		ms = cmd.elapsed_ns / 1e6;
		sum += ms;
		min = !i || ms < min ? ms : min;
		max = ms > max ? ms : max;
		agent_command_free(&cmd);
	}
	fprintf(stderr, "%s: %lu runs of %s: mean %.2f ms, min %.2f ms, max %.2f ms\n",
		PROGRAM, o->repeat, o->argv[0], sum / o->repeat, min, max);
	return status;
}

static int run_parallel(struct agent_client *c, const struct options *o, int sigfd)
{
	struct agent_command *cmds = calloc(o->argc, sizeof(*cmds));
	const char *(*argvs)[4] = calloc(o->argc, sizeof(*argvs));
	int status = 0;

	if (!cmds || !argvs)
		fail("out of memory");
	for (int i = 0; i < o->argc; i++) {
		argvs[i][0] = "sh";
		argvs[i][1] = "-c";
		argvs[i][2] = o->argv[i];
		cmds[i] = command(o, argvs[i]);
		cmds[i].stdin_fd = -1;
		cmds[i].stdout_fd = cmds[i].stderr_fd = -1;	/* collected */
	}
	if (agent_client_run(c, cmds, o->argc, sigfd) < 0)
		fail("%s", agent_client_error(c));
	for (int i = 0; i < o->argc; i++) {
		struct agent_command *cmd = &cmds[i];
		size_t n = cmd->out_len;

		while (n && cmd->out[n - 1] == '\n')
			n--;
		printf("command %d: exit %d after %.3f s, stdout: %.*s\n", i + 1, cmd->code,
		       cmd->elapsed_ns / 1e9, (int)n, cmd->out ? cmd->out : "");
		if (cmd->err_len)
			fprintf(stderr, "command %d stderr: %s", i + 1, cmd->err);
		if (cmd->code && !status)
			status = status_of(cmd);
		agent_command_free(cmd);
	}
	free(argvs);
	free(cmds);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct agent_hello_info hello;
	struct agent_client *c;
	char err[512];
	int sigfd, status;

	parse(argc, argv, &o);
	sigfd = forwarded_signals();
	c = agent_client_connect(o.socket, err, sizeof(err));
	if (!c)
		fail("%s", err);
	if (agent_client_hello(c, o.timeout * 1000, &hello) < 0)
		fail("%s", agent_client_error(c));
	if (o.hello) {
		printf("hostname %s, %u sessions at most, windows %u (stdin) and %u (output) bytes\n",
		       hello.hostname, hello.max_sessions, hello.stdin_window, hello.output_window);
		status = 0;
	} else if (o.parallel) {
		status = run_parallel(c, &o, sigfd);
	} else if (o.repeat) {
		status = run_repeated(c, &o, sigfd);
	} else {
		status = run_once(c, &o, sigfd);
	}
	agent_client_close(c);
	return status;
}
