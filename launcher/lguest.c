/*
 * lguest.c: "Simple program to create new guests."
 *
 *	lguest [--verbose] [--initrd=FILE] [--block=FILE]
 *	       [--tunnet=IPADDR|bridge:NAME] [--sharenet=FILE] [--channel=PATH]
 *	       MEM KERNEL [kernel args...]
 *
 * The launcher is the guest's whole world outside lg.ko.  It maps MEM bytes
 * of its own memory, which become the guest's physical memory, loads the
 * kernel into it (boot.c), hands it to lg.ko through /dev/lguest, and then
 * does little but call read(): each read() runs the guest until it touches a
 * port or device address that only we understand (the console, platform.c),
 * sends to one of its devices' DMA keys (devices.c), powers off, or is
 * killed.  The exit status says which (lguest.h).
 *
 * Everything the user can get wrong is checked before the guest is built:
 * the memory size, the device options (files opened, addresses parsed,
 * bridges looked for), the kernel, and only then /dev/lguest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "lguest.h"
#include "size.h"

/* Arguments every guest gets first; the user's come after and win. */
#define PLATFORM_ARGS "console=ttyS0 acpi=off reboot=p pci=conf1,noearly no_timer_check"
#define MEM_MIN (32ULL << 20)

static const char *program = "lguest";

_Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	console_restore();
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(STATUS_ERROR);
}

void verbose(const struct guest *g, const char *fmt, ...)
{
	va_list ap;

	if (!g->verbose)
		return;
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void raise_irq(struct guest *g, unsigned int irq)
{
	struct lguest_irq req = { .request = LHREQ_IRQ, .irq = irq };

	if (write(g->fd, &req, sizeof(req)) != sizeof(req))
		die("cannot raise IRQ %u: %s", irq, strerror(errno));
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--verbose] [--initrd=FILE] MEM KERNEL [kernel args...]\n"
		"\n"
		"Run the Linux kernel KERNEL (a bzImage or an ELF vmlinux) as a guest\n"
		"with MEM of memory (like 64m or 1g), its console on this terminal.\n"
		"\n"
		"  -v, --verbose          say what is loaded where, the devices, how the\n"
		"                         guest ends and what the devices did\n"
		"      --initrd=FILE      an initial RAM disk for the guest; several are\n"
		"                         loaded one after the other (without one,\n"
		"                         lguest-initramfs makes one with the guest\n"
		"                         drivers; --initrd=none: no initramfs at all)\n"
		"      --block=FILE       a file or block device: /dev/lgba, then lgbb...\n"
		"      --tunnet=IPADDR    a network to a new tap on this host, which gets\n"
		"                         IPADDR/24 (give the guest another address in it)\n"
		"      --tunnet=bridge:NAME  ... a tap added to the existing bridge NAME\n"
		"      --sharenet=FILE    a network of every guest using FILE (created\n"
		"                         if missing)\n"
		"      --channel=PATH     a byte stream to the guest's /dev/lgchan0 (then\n"
		"                         lgchan1...) from a unix socket listening at PATH\n"
		"                         (one client at a time; the guest agent's way in)\n"
		"  -h, --help             this help\n"
		"\n"
		"Device options can be repeated (%d devices at most); the guest finds its\n"
		"devices in the order given.  The guest's command line starts with\n"
		"\"%s\";\n"
		"kernel args given here come after and override it.  Ctrl-A x stops the\n"
		"guest.  Exit status: 0 power-off, 1 error, 2 reboot, 3 killed by lg.ko.\n"
		"Example: %s 64m vmlinux --tunnet=192.168.19.1 --block=rootfile root=/dev/lgba\n",
		program, LGUEST_MAX_DEVICES, PLATFORM_ARGS, program);
}

static uint64_t parse_mem(const char *arg)
{
	struct sysinfo si;
	uint64_t bytes, host;
	const char *err = size_parse(arg, &bytes);

	if (err)
		die("memory size '%s': %s", arg, err);
	bytes &= ~0xfffULL;
	if (bytes < MEM_MIN)
		die("memory size '%s': too small (at least %llum)", arg, MEM_MIN >> 20);
	if (bytes > LGUEST_MEM_MAX)
		die("memory size '%s': lg.ko gives a guest at most %llum",
		    arg, LGUEST_MEM_MAX >> 20);
	if (sysinfo(&si) == 0) {
		host = (uint64_t)si.totalram * si.mem_unit;
		if (bytes > host)
			die("memory size '%s': more than this host has (%llum)",
			    arg, (unsigned long long)(host >> 20));
	}
	return bytes;
}

/*
 * Guest memory: anonymous, committed only as the guest touches it, aligned
 * to 2 MiB and backed by huge pages where the kernel can (its RAM, the first
 * ram bytes), so that lg.ko maps it 2 MiB at a time.  The device area after
 * RAM is ordinary pages: devices.c maps files over some of them.
 */
static uint8_t *map_guest_memory(uint64_t size, uint64_t ram)
{
	const uint64_t huge = 2ULL << 20;
	uint8_t *mem, *aligned;

	mem = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("cannot map %llu MiB of guest memory: %s",
		    (unsigned long long)(size >> 20), strerror(errno));
	aligned = (uint8_t *)(((uintptr_t)mem + huge - 1) & ~(uintptr_t)(huge - 1));
	if (aligned > mem)
		munmap(mem, aligned - mem);
	munmap(aligned + size, mem + huge - aligned);
	madvise(aligned, ram, MADV_HUGEPAGE);	/* a hint: no error if refused */
	return aligned;
}

static bool cpu_has_svm(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool svm = false;

	if (!f)
		return true;	/* cannot tell: assume so */
	while (!svm && fgets(line, sizeof(line), f))
		svm = !strncmp(line, "flags", 5) && strstr(line, " svm");
	fclose(f);
	return svm;
}

static int open_lguest(void)
{
	int fd = open(LGUEST_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && !cpu_has_svm())
		die("%s: not found, and this processor has no AMD SVM (AMD-V): lguest cannot run guests here",
		    LGUEST_DEVICE);
	if (errno == ENOENT)
		die("%s: not found: load the lguest module first (insmod lg.ko, or modprobe lg)",
		    LGUEST_DEVICE);
	if (errno == EACCES || errno == EPERM)
		die("%s: %s (run lguest as root)", LGUEST_DEVICE, strerror(errno));
	die("%s: %s", LGUEST_DEVICE, strerror(errno));
}

static char *join_cmdline(int argc, char **argv)
{
	size_t len = strlen(PLATFORM_ARGS) + 1;
	char *cmd;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	cmd = malloc(len);
	if (!cmd)
		die("out of memory");
	strcpy(cmd, PLATFORM_ARGS);
	for (i = 0; i < argc; i++) {
		strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	return cmd;
}

static int run(struct guest *g)
{
	struct lguest_exit exit_info = { 0 };

	for (;;) {
		ssize_t n = read(g->fd, &exit_info, sizeof(exit_info));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("running the guest: %s", strerror(errno));
		if (n != sizeof(exit_info))
			die("running the guest: short read from %s", LGUEST_DEVICE);

		switch (exit_info.reason) {
		case LGUEST_EXIT_IO:
			exit_info.data = platform_io(g, exit_info.addr, exit_info.size,
						     exit_info.is_write, exit_info.data);
			if (g->reboot_requested) {
				console_restore();
				verbose(g, "the guest rebooted");
				return STATUS_REBOOT;
			}
			break;
		case LGUEST_EXIT_MMIO:
			/* No devices in memory space yet: reads find nothing. */
			exit_info.data = ~0ULL;
			break;
		case LGUEST_EXIT_DMA:
			devices_dma(g, exit_info.addr, exit_info.data);
			break;
		case LGUEST_EXIT_POWEROFF:
			console_restore();
			verbose(g, "the guest powered off");
			return STATUS_POWEROFF;
		case LGUEST_EXIT_DEAD:
			console_restore();
			exit_info.message[sizeof(exit_info.message) - 1] = '\0';
			fprintf(stderr, "%s: guest killed: %s\n", program, exit_info.message);
			return STATUS_KILLED;
		default:
			die("unknown exit reason %u from %s", exit_info.reason, LGUEST_DEVICE);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "block", required_argument, NULL, 'b' },
		{ "tunnet", required_argument, NULL, 't' },
		{ "sharenet", required_argument, NULL, 's' },
		{ "channel", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	/* Static: device threads still use it while exit() runs. */
	static struct guest g = { .fd = -1 };
	const char *initrds[BOOT_INITRDS_MAX];
	unsigned int ninitrds = 0;
	struct boot_info boot;
	struct lguest_init init;
	char *cmdline;
	int c, status;

	program = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			g.verbose = true;
			break;
		case 'i':
			if (ninitrds == BOOT_INITRDS_MAX)
				die("--initrd=%s: at most %d initrds", optarg, BOOT_INITRDS_MAX);
			initrds[ninitrds++] = optarg;
			break;
		case 'b':
			devices_add(&g, &block_ops, optarg);
			break;
		case 't':
			devices_add(&g, &tunnet_ops, optarg);
			break;
		case 's':
			devices_add(&g, &sharenet_ops, optarg);
			break;
		case 'c':
			devices_add(&g, &channel_ops, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return STATUS_ERROR;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return STATUS_ERROR;
	}

	g.mem_size = parse_mem(argv[optind]);
	devices_open(&g);
	if (devices_layout(&g) > LGUEST_MEM_MAX)
		die("memory size '%s': at most %llum with devices (their pages come after the guest's memory, which must end by %llum)",
		    argv[optind], ((LGUEST_MEM_MAX - g.num_devices * 4096ULL) & ~((2ULL << 20) - 1)) >> 20,
		    LGUEST_MEM_MAX >> 20);
	g.mem = map_guest_memory(g.phys_size, g.mem_size);
	devices_map(&g);
	pthread_mutex_init(&g.lock, NULL);
	serial_init(&g.uart, STDOUT_FILENO);

	cmdline = join_cmdline(argc - optind - 2, argv + optind + 2);
	if (!ninitrds) {
		char *made = initramfs_make(argv[optind + 1]);
		const char *one[1] = { made };

		boot_load(&g, argv[optind + 1], one, made ? 1 : 0, cmdline, &boot);
		if (made)
			unlink(made);
		free(made);
	} else {
		bool none = ninitrds == 1 && !strcmp(initrds[0], "none");

		boot_load(&g, argv[optind + 1], initrds, none ? 0 : ninitrds, cmdline, &boot);
	}
	verbose(&g, "%llu MiB, command line: %s",
		(unsigned long long)(g.mem_size >> 20), cmdline);

	g.fd = open_lguest();
	devices_connect(&g);
	devices_report(&g, false);

	init = (struct lguest_init){
		.request = LHREQ_INITIALIZE,
		.mem_base = (uintptr_t)g.mem,
		.mem_size = g.phys_size,
		.rip = boot.entry,
		.rsi = boot.boot_params,
		.cr3 = boot.cr3,
		.gdt_base = boot.gdt_base,
		.gdt_limit = boot.gdt_limit,
	};
	if (write(g.fd, &init, sizeof(init)) != sizeof(init)) {
		die("%s: cannot create the guest: %s", LGUEST_DEVICE, strerror(errno));
	}

	devices_start(&g);
	console_start(&g);
	status = run(&g);
	devices_stop(&g);
	devices_report(&g, true);
	return status;
}
