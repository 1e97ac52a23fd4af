/*
 * netd.c: lguest-netd's main(): the socket, the loop, and when to leave.
 *
 * The daemon is started on demand: the first `lguest-net up` finds no one
 * at the socket and starts `lguest-netd --on-demand`, which leaves again a
 * few seconds after its last lab went down and its last client left.  It
 * can also run in the foreground for good (a service manager's way), and
 * that is the whole difference.  Why on demand: a lab's processes are the
 * daemon's children and its consoles are the daemon's ptys, so the daemon
 * must live as long as any lab; but a machine without labs needs no daemon.
 *
 * SIGTERM and SIGINT take every lab down (as `down` would), then the daemon
 * leaves.  A daemon that is killed takes its labs' processes with it (they
 * die with their parent) and leaves their journals: the next daemon lists
 * those labs as orphaned, and `lguest-net down LAB` undoes what they made.
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
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bprintf.h"
#include "bprintf.h"
#include "netd.h"

#define IDLE_MS 3000

static struct watch signals;
static bool stop_asked;	/* a signal came */

void netd_log(struct netd *d, const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	(void)d;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%F %T", &tm);
	fprintf(stderr, "%s %s: ", stamp, PROGRAM);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROGRAM);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void idle_check(struct timer *t)
{
	struct netd *d = (struct netd *)((char *)t - offsetof(struct netd, idle));

	if (!d->labs && !d->clients) {
		if (d->verbose)
			netd_log(d, "nothing to do: leaving");
		d->loop.stop = true;
	}
}

void netd_maybe_idle(struct netd *d)
{
	if (d->stopping && !d->labs)
		d->loop.stop = true;
	if (d->on_demand && !d->labs && !d->clients)
		timer_arm(&d->loop, &d->idle, IDLE_MS, idle_check);
}

static void listen_event(struct watch *w, uint32_t events)
{
	struct netd *d = (struct netd *)((char *)w - offsetof(struct netd, listen));
	int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd >= 0) {
		timer_cancel(&d->loop, &d->idle);
		client_accept(d, fd);
	}
}

static void signal_event(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == sizeof(si))
		stop_asked = true;
}

/* Take every lab down, once; the loop ends when the last is down. */
static void stop_everything(struct netd *d)
{
	stop_asked = false;
	if (d->stopping)
		return;
	d->stopping = true;
	netd_log(d, "asked to stop: taking every lab down");
	client_closed_all(d);
	for (struct lab *l = d->labs, *next; l; l = next) {
		next = l->next;
		lab_down(l, NULL);
	}
	netd_maybe_idle(d);
}

/*
 * One daemon per run directory, for its whole life: two would each take the
 * other's labs for orphans (and undo them).  The lock goes with the process.
 */
static void lock_run_dir(struct netd *d)
{
	char path[4096 + 16];
	int fd;

	bprintf(path, sizeof(path), "%s/netd.lock", d->run_root);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		die("another lguest-netd runs with %s", d->run_root);
}

/* Another daemon answering at PATH?  Else make the socket (0600). */
static int open_socket(struct netd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (strlen(d->socket) >= sizeof(sa.sun_path))
		die("--socket=%s: too long for a unix socket", d->socket);
	strcpy(sa.sun_path, d->socket);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN)
		die("another lguest-netd answers at %s", d->socket);
	unlink(d->socket);
	old = umask(0177);	/* the socket is 0600: root only */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("%s: %s", d->socket, strerror(errno));
	umask(old);
	if (listen(fd, 64) < 0)
		die("listen on %s: %s", d->socket, strerror(errno));
	return fd;
}

/* PROG beside our own executable, or in the build tree's DIR beside it. */
static void find_program(char *out, size_t size, const char *dir, const char *prog)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		dirname(self);
		bprintf(out, size, "%s/%s", self, prog);
		if (access(out, X_OK) == 0)
			return;
		bprintf(out, size, "%s/../%s/%s", self, dir, prog);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, size, "/usr/sbin/%s", prog);
}

static void find_programs(struct programs *p)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	find_program(p->lguest, sizeof(p->lguest), "launcher", "lguest");
	find_program(p->vswitch, sizeof(p->vswitch), "vswitch", "lguest-vswitch");
	find_program(p->initramfs, sizeof(p->initramfs), "launcher", "lguest-initramfs");
	bprintf(p->init, sizeof(p->init), "%s", p->initramfs);	/* lguest-init is beside it */
	if (strrchr(p->init, '/'))
		strcpy(strrchr(p->init, '/') + 1, "lguest-init");
	find_program(p->agent, sizeof(p->agent), "agent", "lguest-agent");
	self[n > 0 ? n : 0] = '\0';
	snprintf(p->drivers, sizeof(p->drivers), "%s/../kmod/guest", n > 0 ? dirname(self) : ".");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--on-demand] [--socket=PATH] [--run-dir=DIR] [--cache-dir=DIR]\n"
		"       [--parallel=N] [--verbose]\n"
		"\n"
		"The daemon that owns the running labs of lguest-net(8): it does their host\n"
		"plumbing (journaled, so that down undoes exactly what up made), starts and\n"
		"watches their switches and guests, and answers lguest-net.  lguest-net starts\n"
		"it when it is needed; run it by hand to keep it in the foreground.\n"
		"\n"
		"  --on-demand      leave a few seconds after the last lab and client are gone\n"
		"  --socket=PATH    listen here (default %s, or $LGUEST_NETD_SOCKET)\n"
		"  --run-dir=DIR    labs' run directories (default %s, or $LGUEST_RUN_DIR)\n"
		"  --cache-dir=DIR  guests' kernels and base images, made once (default %s,\n"
		"                   or $LGUEST_CACHE_DIR)\n"
		"  --parallel=N     guests booting at once (default: the number of CPUs)\n"
		"  -v, --verbose    log what happens to each lab on stderr too\n"
		"  -h, --help       this help\n",
		PROGRAM, NETD_SOCKET_DEFAULT, NETD_RUN_DIR, NETD_CACHE_DIR);
}

static void parse_args(struct netd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "on-demand", no_argument, NULL, 'o' },
		{ "socket", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			d->on_demand = true;
			break;
		case 's':
			snprintf(d->socket, sizeof(d->socket), "%s", optarg);
			break;
		case 'r':
			snprintf(d->run_root, sizeof(d->run_root), "%s", optarg);
			break;
		case 'c':
			snprintf(d->cache, sizeof(d->cache), "%s", optarg);
			break;
		case 'p':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 256)
				die("--parallel=%s: a number from 1 to 256", optarg);
			d->parallel = (unsigned int)n;
			break;
		case 'v':
			d->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
}

int main(int argc, char **argv)
{
	static struct netd d;
	sigset_t mask;
	int fd;

	snprintf(d.socket, sizeof(d.socket), "%s", proto_socket_path());
	snprintf(d.run_root, sizeof(d.run_root), "%s",
		 getenv("LGUEST_RUN_DIR") ? getenv("LGUEST_RUN_DIR") : NETD_RUN_DIR);
	snprintf(d.cache, sizeof(d.cache), "%s",
		 getenv("LGUEST_CACHE_DIR") ? getenv("LGUEST_CACHE_DIR") : NETD_CACHE_DIR);
	d.parallel = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	parse_args(&d, argc, argv);
	if (geteuid() != 0)
		die("it must run as root (it makes taps, nftables tables and guests)");
	if (mkdir(d.run_root, 0755) < 0 && errno != EEXIST)
		die("%s: %s", d.run_root, strerror(errno));
	lock_run_dir(&d);
	find_programs(&d.prog);
	if (loop_init(&d.loop) < 0)
		die("epoll: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0 || loop_add(&d.loop, &signals, fd, EPOLLIN, signal_event) < 0)
		die("signalfd: %s", strerror(errno));
	fd = open_socket(&d);
	loop_add(&d.loop, &d.listen, fd, EPOLLIN, listen_event);
	netd_log(&d, "listening on %s", d.socket);
	netd_maybe_idle(&d);
	while (!d.loop.stop) {
		loop_run_once(&d.loop);
		if (stop_asked)
			stop_everything(&d);
	}
	loop_close(&d.loop, &d.listen);
	unlink(d.socket);
	netd_log(&d, "stopped");
	return 0;
}
