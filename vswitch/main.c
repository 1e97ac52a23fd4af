/*
 * main.c: lguest-vswitch's command line, its start, its loop and its stop.
 *
 * main() is the table of contents: the switch is configured by its options
 * (ports, ageing, queues, a control socket, a switch-wide capture; every
 * port spec is checked before anything opens), starts (buffers, tables, the
 * capture ring, signals, io_uring), opens the switch-wide capture, every
 * port it was given (any that fails is an error naming the port and the
 * cause, and nothing runs) and the control socket last (so that the
 * socket's existence says "ready"), then runs until SIGTERM, SIGINT or the
 * control command "stop", and finishes.  SIGHUP reopens the capture files.
 * Signals arrive through a signalfd, as events of the loop like any other:
 * no handler runs in the middle of a frame.
 *
 * On the way out every port is closed (taps the switch made vanish, socket
 * files go), and the capture thread writes what it still holds and closes
 * its files, so that they are complete.
 *
 * "lguest-vswitch ctl SOCKET COMMAND..." is the client, in ctl.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "size.h"
#include "vswitch.h"


static void usage(FILE *out)
{
	fprintf(out,
"usage: " PROGRAM " [OPTIONS] --port=SPEC...\n"
"       " PROGRAM " ctl SOCKET COMMAND...\n"
"\n"
"A virtual Ethernet switch: MAC learning, 802.1Q VLANs, pcap capture.\n"
"\n"
"Options:\n"
"  -p, --port=SPEC          add a port (repeat for more), SPEC is KIND:WHERE[,OPT=VAL]...\n"
"                             tap:NAME      a tap interface (made if missing)\n"
"                             stream:PATH   listen on a unix socket, QEMU -netdev stream\n"
"                                           framing; each connection is a port\n"
"                             dgram:PATH    a unix datagram socket, QEMU -netdev dgram\n"
"                             sharenet:FILE lguest guests on a sharenet file (through\n"
"                                           /dev/lguest: lg.ko must be loaded)\n"
"                           OPTs: name=NAME  vlan=VID (access)  trunk=VID[:VID|:LO-HI]...\n"
"                                 mtu=68..9000 (1500)  capture=FILE|FIFO|tcp@ADDR:PORT\n"
"                                 capture-size=SIZE (rotate)  capture-count=N (files kept)\n"
"                                 remote=PATH (dgram: where to send)\n"
"                                 down (no value: the port starts cut, see port set)\n"
"                                 impairments, DIR in or out (into or out of the switch):\n"
"                                 DIR-delay=T  DIR-jitter=T  DIR-loss=P%%  DIR-rate=R  DIR-dup=P%%\n"
"                                 (T: 50ms, 1.5s, 200us; R: 8mbit, 100kbit, 1gbit)\n"
"  -c, --control=PATH       a control socket for " PROGRAM " ctl\n"
"      --capture=FILE       record every frame entering the switch, once (from the\n"
"                           first), to FILE|FIFO|tcp@ADDR:PORT\n"
"      --capture-size=SIZE  ... rotating at SIZE  --capture-count=N  keeping N files (2)\n"
"      --hub                flood every frame (no learning)\n"
"      --ageing=SECONDS     forget an address unseen this long (default 300)\n"
"      --fdb-size=N         learn at most N addresses (default 8192)\n"
"      --queue=SIZE         bytes waiting per port before frames drop (default 256k)\n"
"      --capture-buffer=SIZE  the capture ring, for all captures (default 8m)\n"
"      --seed=N             seed for impairments' random numbers (loss, dup, jitter)\n"
"      --no-io-uring        taps use read() and write(), not io_uring\n"
"  -v, --verbose            say when ports come and go\n"
"  -h, --help               this help\n"
"\n"
"Control commands (ctl SOCKET ...; add --json for JSON; PORT may be --switch\n"
"for the switch-wide captures):\n");
	control_usage(out);
	fprintf(out,
"\n"
"Signals: SIGTERM and SIGINT stop cleanly, SIGHUP reopens capture files.\n"
"See lguest-vswitch(8).\n");
}

static void die(const char *fmt, const char *arg, const char *why)
{
	fprintf(stderr, PROGRAM ": ");
	fprintf(stderr, fmt, arg, why);
	fputc('\n', stderr);
	exit(1);
}

struct signals {
	struct watch watch;
	struct vswitch *sw;
};

static void signal_event(struct watch *w, uint32_t events)
{
	struct signals *s = container_of(w, struct signals, watch);
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (s->sw->verbose)
				vsw_log(s->sw, "SIGHUP: reopening capture files");
			capture_reopen_all(s->sw->cap);
		} else {
			s->sw->stopping = true;
		}
	}
}

static uint64_t size_option(const char *opt, const char *val, uint64_t lo, uint64_t hi)
{
	uint64_t v;
	const char *why = size_parse(val, &v);
	char range[64];

	if (why)
		die("%s: %s", opt, why);
	if (v < lo || v > hi) {
		snprintf(range, sizeof(range), "must be from %llu to %llu bytes",
			 (unsigned long long)lo, (unsigned long long)hi);
		die("%s: %s", opt, range);
	}
	return v;
}

static unsigned long number_option(const char *opt, const char *val, unsigned long lo,
				   unsigned long hi)
{
	char *end, range[64];
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (*val < '0' || *val > '9' || *end || errno || v < lo || v > hi) {
		snprintf(range, sizeof(range), "must be a number from %lu to %lu", lo, hi);
		die("%s: %s", opt, range);
	}
	return v;
}

/* What the command line asked for, beyond what goes straight into the switch. */
struct options {
	char **specs;
	int nspecs;
	const char *control_path;
	unsigned long ageing, fdb_size;
	size_t capture_bytes;
	const char *capture;		/* --capture: the switch-wide one */
	uint64_t capture_size;
	unsigned int capture_count;
	bool seeded, no_uring;
};

static void parse_options(int argc, char **argv, struct vswitch *sw, struct options *o)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "control", required_argument, NULL, 'c' },
		{ "capture", required_argument, NULL, 'C' },
		{ "capture-size", required_argument, NULL, 'S' },
		{ "capture-count", required_argument, NULL, 'N' },
		{ "hub", no_argument, NULL, 'H' },
		{ "ageing", required_argument, NULL, 'a' },
		{ "fdb-size", required_argument, NULL, 'f' },
		{ "queue", required_argument, NULL, 'q' },
		{ "capture-buffer", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-io-uring", no_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct port_conf conf;
	char err[512];
	int opt, i;

	o->specs = calloc((size_t)argc, sizeof(*o->specs));
	if (!o->specs)
		die("%s%s", "", strerror(ENOMEM));
	while ((opt = getopt_long(argc, argv, "p:c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o->specs[o->nspecs++] = optarg;
			break;
		case 'c':
			o->control_path = optarg;
			break;
		case 'C':
			if (!*optarg)
				die("%s: %s", "--capture", "takes a file name");
			o->capture = optarg;
			break;
		case 'S':
			o->capture_size = size_option("--capture-size", optarg, 1, UINT64_MAX);
			break;
		case 'N':
			o->capture_count = (unsigned int)number_option("--capture-count", optarg,
									1, 10000);
			break;
		case 'H':
			sw->hub = true;
			break;
		case 'a':
			o->ageing = number_option("--ageing", optarg, 1, 1000000);
			break;
		case 'f':
			o->fdb_size = number_option("--fdb-size", optarg, 16, 1 << 20);
			break;
		case 'q':
			sw->queue_bytes = size_option("--queue", optarg, 64 << 10, 256 << 20);
			break;
		case 'b':
			o->capture_bytes = size_option("--capture-buffer", optarg, 1 << 20,
						       1ull << 32);
			break;
		case 's':
			sw->seed = number_option("--seed", optarg, 0, ULONG_MAX);
			o->seeded = true;
			break;
		case 'U':
			o->no_uring = true;
			break;
		case 'v':
			sw->verbose = true;
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
		die("%s: %s", argv[optind], "unexpected argument (ports are given with --port)");
	if (!o->nspecs && !o->control_path)
		die("%s%s", "", "no ports and no --control: nothing to switch (see --help)");
	if ((o->capture_size || o->capture_count) && !o->capture)
		die("%s%s", "--capture-size and --capture-count: ", "they go with --capture=FILE");
	if (o->capture_size && !o->capture_count)
		o->capture_count = 2;
	/* Check every spec before opening anything. */
	for (i = 0; i < o->nspecs; i++)
		if (port_parse_spec(o->specs[i], &conf, err, sizeof(err)))
			die("%s%s", err, "");
}

/* The switch's buffers, tables, capture ring, signals and io_uring. */
static void start(struct vswitch *sw, const struct options *o, struct signals *sigs)
{
	sigset_t mask;
	char err[512];

	if (!o->seeded)
		sw->seed = clock_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);	/* before the capture thread: it inherits */

	sw->rx = malloc(VSW_READ_MAX);
	sw->rx_batch = malloc((size_t)VSW_BATCH * 16384);
	sw->scratch = malloc(VSW_FRAME_MAX + VLAN_HLEN_);
	sw->txbuf = malloc(VSW_READ_MAX);
	sw->impairbuf = malloc(VSW_READ_MAX);
	if (!sw->rx || !sw->rx_batch || !sw->scratch || !sw->txbuf || !sw->impairbuf ||
	    loop_init(&sw->loop) || impair_init(sw) ||
	    fdb_init(&sw->fdb, (unsigned int)o->fdb_size, o->ageing * 1000000000ull))
		die("%s%s", "starting: ", strerror(ENOMEM));
	sw->cap = capture_new(o->capture_bytes);
	if (!sw->cap)
		die("%s%s", "starting the capture thread: ", strerror(errno ? errno : ENOMEM));
	sw->ingress.id = CAPTURE_SWITCH;
	snprintf(sw->ingress.label, sizeof(sw->ingress.label), "switch");
	sigs->sw = sw;
	sigs->watch.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sigs->watch.fn = signal_event;
	if (sigs->watch.fd < 0 || loop_add(&sw->loop, &sigs->watch, EPOLLIN))
		die("%s%s", "signalfd: ", strerror(errno));
	if (!o->no_uring) {
		sw->uring = uring_new(sw, err, sizeof(err));
		if (!sw->uring)
			vsw_log(sw, "io_uring unavailable (%s): taps use read() and write()", err);
	}
}

/*
 * The switch-wide capture first (it records from the first frame), then the
 * ports, then the control socket (its existence says "ready"); false if
 * any of them failed, having said why.
 */
static bool open_all(struct vswitch *sw, const struct options *o)
{
	struct port_conf conf;
	char err[512];
	int i;

	if (o->capture && capture_open(sw->cap, &sw->ingress, o->capture, o->capture_size,
				       o->capture_count, err, sizeof(err))) {
		fprintf(stderr, PROGRAM ": --capture: %s\n", err);
		return false;
	}
	for (i = 0; i < o->nspecs; i++) {
		port_parse_spec(o->specs[i], &conf, err, sizeof(err));
		if (!port_add(sw, &conf, err, sizeof(err))) {
			fprintf(stderr, PROGRAM ": %s\n", err);
			return false;
		}
	}
	if (o->control_path) {
		sw->control = control_open(sw, o->control_path, err, sizeof(err));
		if (!sw->control) {
			fprintf(stderr, PROGRAM ": %s\n", err);
			return false;
		}
	}
	if (sw->verbose)
		vsw_log(sw, "running");
	return true;
}

/* Until told to stop: the exit status. */
static int run(struct vswitch *sw)
{
	uint64_t last_age = sw->loop.now_ns;

	while (!sw->stopping) {
		int r = loop_run_once(&sw->loop, 1000);

		if (r < 0) {
			vsw_log(sw, "epoll: %s", strerror(-r));
			return 1;
		}
		impair_run(sw);
		uring_submit(sw->uring);
		capture_kick(sw->cap);
		if (sw->loop.now_ns - last_age >= 1000000000ull) {
			fdb_age(&sw->fdb, sw->loop.now_ns);
			last_age = sw->loop.now_ns;
		}
	}
	return 0;
}

/* Close everything, write out the captures, free what is left: STATUS. */
static int finish(struct vswitch *sw, int status)
{
	bool stuck;
	int i;

	control_close(sw->control);
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i])
			port_remove(sw->ports[i], NULL);
	capture_close(sw->cap, &sw->ingress, NULL);
	uring_free(sw->uring);		/* lets the removed taps' requests drain */
	loop_run_once(&sw->loop, 0);	/* frees what was removed */
	stuck = !capture_stop_thread(sw->cap);
	fdb_free(&sw->fdb);
	free(sw->rx);
	free(sw->rx_batch);
	free(sw->scratch);
	free(sw->txbuf);
	free(sw->impairbuf);
	if (sw->verbose)
		vsw_log(sw, "stopped");
	if (stuck) {
		/* exit() would flush the stuck stream, under the lock its writer
		 * holds: leave without. */
		fflush(stdout);
		_exit(status);
	}
	return status;
}

int main(int argc, char **argv)
{
	struct vswitch sw = { .queue_bytes = 256 * 1024 };
	struct options o = { .ageing = 300, .fdb_size = 8192, .capture_bytes = 8 << 20 };
	struct signals sigs;
	int status;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	parse_options(argc, argv, &sw, &o);
	start(&sw, &o, &sigs);
	status = open_all(&sw, &o) ? run(&sw) : 1;
	status = finish(&sw, status);
	free(o.specs);
	return status;
}
