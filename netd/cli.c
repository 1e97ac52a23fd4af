/*
 * cli.c: lguest-net's main(), its table of commands, and its side of the
 * conversation with lguest-netd.
 *
 *	lguest-net [-j] [--lab LAB] COMMAND [ARGS...]
 *
 * Commands are found in a table (unique prefixes work: `lguest-net st`), each
 * with its usage and one line of help, which --help prints.  Errors go to
 * stderr as "lguest-net: what went wrong" and the exit status is 1; a lab
 * test that fails exits 1 too, so that CI notices.
 *
 * The daemon is started when no one answers at its socket: lguest-net runs
 * `lguest-netd --on-demand` (beside itself), detached, logging to
 * /run/lguest/netd.log, and waits until it answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "topo.h"

#define START_WAIT_MS 10000

static const struct cli_command commands[] = {
	{ "validate", cmd_validate, "FILE...", "check topology files, change nothing" },
	{ "up", cmd_up, "FILE [--dry-run|--plumb-only]", "bring the lab up; a table of its nodes when ready" },
	{ "down", cmd_down, "FILE|LAB", "take the lab down, undoing exactly what up did" },
	{ "status", cmd_status, "[LAB]", "the labs that are up: nodes, switches, links" },
	{ "exec", cmd_exec, "NODE -- COMMAND [ARGS...]", "run a command in a node; its output and exit status" },
	{ "console", cmd_console, "NODE", "the node's serial console (Ctrl-] leaves)" },
	{ "capture", cmd_capture, "SWITCH|LINK [-w FILE]", "live pcap: to FILE, or to stdout for wireshark -k -i -" },
	{ "link", cmd_link, "set LINK [egress|ingress] [delay=T] [jitter=T] [loss=P] [rate=R] [up|down]",
	  "change a link's impairments or state" },
	{ "graph", cmd_graph, "[LAB|FILE] [-o FILE.svg|FILE.dot]", "the lab as a picture" },
	{ "test", cmd_test, "FILE|LAB [--keep]", "run the lab's tests: (FILE: up, test, down)" },
};

static void vnote(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", CLI_PROGRAM);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

_Noreturn void cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
	exit(1);
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-j|--json] [--lab LAB] COMMAND [ARGS...]\n\n"
		"Virtual network labs of lguest guests, from topology files (lguest-net.topo(5)).\n\n"
		"Commands:\n", CLI_PROGRAM);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n  %9s   %s\n", commands[i].name, commands[i].usage, "",
			commands[i].help);
	fprintf(f, "\nOptions:\n"
		"  -j, --json     answers as JSON (status, up, test, validate)\n"
		"  --lab LAB      the lab meant, when more than one is up\n"
		"  -h, --help     this help; COMMAND --help: the command's\n\n"
		"The labs are run by lguest-netd(8), started when needed.  See lguest-net(8).\n");
}

/* --- the daemon -------------------------------------------------------------------- */
static int try_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		cli_die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", proto_socket_path());
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	close(fd);
	if (errno == EACCES || errno == EPERM)
		cli_die("%s: permission denied (lguest-net needs root)", proto_socket_path());
	return -1;
}

static void start_daemon(void)
{
	char self[PATH_MAX], netd[PATH_MAX + 16], log[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	if (geteuid() != 0)
		cli_die("lguest-netd is not running, and only root may start it");
	self[n > 0 ? n : 0] = '\0';
	snprintf(netd, sizeof(netd), "%s/lguest-netd", n > 0 ? dirname(self) : "/usr/sbin");
	snprintf(log, sizeof(log), "%s", getenv("LGUEST_NETD_LOG") ? getenv("LGUEST_NETD_LOG")
				   : NETD_RUN_DIR "/netd.log");
	mkdir(NETD_RUN_DIR, 0755);
	pid = fork();
	if (pid < 0)
		cli_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		setsid();
		if (fork() > 0)	/* the daemon's parent is init, not us */
			_exit(0);
		dup2(null, 0);
		dup2(out >= 0 ? out : null, 1);
		dup2(out >= 0 ? out : null, 2);
		close_range(3, ~0U, 0);	/* none of our caller's descriptors */
		execl(netd, "lguest-netd", "--on-demand", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

int cli_connect(void)
{
	struct timespec nap = { 0, 20 * 1000000 };
	int fd = try_connect();

	if (fd >= 0)
		return fd;
	start_daemon();
	for (int waited = 0; waited < START_WAIT_MS; waited += 20) {
		nanosleep(&nap, NULL);
		fd = try_connect();
		if (fd >= 0)
			return fd;
	}
	cli_die("lguest-netd did not start (see %s)", NETD_RUN_DIR "/netd.log");
}

int cli_request(json_t *request, struct proto_buf *buf)
{
	int fd = cli_connect();

	memset(buf, 0, sizeof(*buf));
	if (proto_send_json(fd, request))
		cli_die("sending to lguest-netd: %s", strerror(errno));
	json_decref(request);
	return fd;
}

json_t *cli_answer(int fd, struct proto_buf *buf, void (*progress)(json_t *p, void *ctx), void *ctx)
{
	const char *why;
	json_t *msg, *result;

	for (;;) {
		msg = proto_read_json(fd, buf, NETD_REQUEST_MAX, &why);
		if (!msg)
			cli_die("lguest-netd: %s", why);
		if (json_object_get(msg, "progress")) {
			if (progress)
				progress(json_object_get(msg, "progress"), ctx);
			json_decref(msg);
			continue;
		}
		break;
	}
	if (!json_is_true(json_object_get(msg, "ok"))) {
		const char *err = json_string_value(json_object_get(msg, "error"));

		cli_note("%s", err ? err : "the daemon said no, without a reason");
		json_decref(msg);
		return NULL;
	}
	result = json_incref(json_object_get(msg, "result"));
	json_decref(msg);
	return result ? result : json_null();
}

json_t *cli_call(json_t *request)
{
	struct proto_buf buf;
	int fd = cli_request(request, &buf);
	json_t *r = cli_answer(fd, &buf, NULL, NULL);

	close(fd);
	buf_free(&buf);
	return r;
}

json_t *cli_with_lab(const struct cli *cli, json_t *request)
{
	if (cli->lab)
		json_object_set_new(request, "lab", json_string(cli->lab));
	return request;
}

void cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	putchar('\n');
}

char *cli_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *text;
	long n;

	if (!f)
		cli_die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		cli_die("%s: cannot read it", path);
	if (n > (long)NETD_REQUEST_MAX / 2)
		cli_die("%s: too big for a topology (%ld bytes)", path, n);
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
		cli_die("%s: cannot read it", path);
	fclose(f);
	text[n] = '\0';
	*len = (size_t)n;
	return text;
}

bool cli_lab_of(const char *arg, char *lab, size_t size)
{
	struct topo_errors errs = { 0 };
	struct stat st;
	struct topo *t;

	if (stat(arg, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(lab, size, "%s", arg);
		return false;
	}
	t = topo_load(arg, &errs);
	if (!t) {
		topo_errors_print(&errs, stderr);
		cli_die("%s: cannot tell its lab's name", arg);
	}
	snprintf(lab, size, "%s", t->lab);
	topo_free(t);
	return true;
}

static const struct cli_command *find_command(const char *name)
{
	const struct cli_command *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (!strncmp(commands[i].name, name, len)) {
			if (found)
				cli_die("'%s' could be %s or %s", name, found->name, commands[i].name);
			found = &commands[i];
		}
	}
	if (!found)
		cli_die("no command '%s' (see --help)", name);
	return found;
}

/* -j and --lab may also come after the command (before any "--"). */
static void take_common_options(struct cli *cli)
{
	int out = 0, i;

	for (i = 0; i < cli->argc && strcmp(cli->argv[i], "--"); i++) {
		const char *a = cli->argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			cli->json = true;
		} else if (!strcmp(a, "--lab") && i + 1 < cli->argc) {
			cli->lab = cli->argv[++i];
		} else if (!strncmp(a, "--lab=", 6)) {
			cli->lab = a + 6;
		} else {
			cli->argv[out++] = cli->argv[i];
		}
	}
	for (; i < cli->argc; i++)
		cli->argv[out++] = cli->argv[i];
	cli->argc = out;
	cli->argv[out] = NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "lab", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cli cli = { 0 };
	const struct cli_command *cmd;
	int c;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli.json = true;
			break;
		case 'l':
			cli.lab = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	cmd = find_command(argv[optind]);
	cli.argc = argc - optind - 1;
	cli.argv = argv + optind + 1;
	take_common_options(&cli);
	for (int i = 0; i < cli.argc && strcmp(cli.argv[i], "--"); i++)
		if (!strcmp(cli.argv[i], "--help") || !strcmp(cli.argv[i], "-h")) {
			printf("usage: %s %s %s\n%s\n", CLI_PROGRAM, cmd->name, cmd->usage, cmd->help);
			return 0;
		}
	return cmd->run(&cli);
}
