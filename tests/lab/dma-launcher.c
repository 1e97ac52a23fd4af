/*
 * dma-launcher.c: the smallest launcher that serves a guest's DMA, for tests.
 *
 *	dma-launcher [--share=FILE] [--unmap=GPA] MEM TINY.elf
 *
 * The lguest launcher (launcher/) serves real devices; the lab tests of lg.ko's
 * DMA engine want a launcher whose every answer they know.  This one runs a
 * tiny guest (tests/lab/tiny-guest.S): it loads the ELF, identity-maps the
 * first 4 GiB with 2 MiB pages as the 64-bit boot protocol wants, writes the
 * GDT, and calls read() until the guest powers off or dies.  The guest's
 * serial port (0x3f8) goes to stdout.
 *
 * When the guest sends to a key that no one else bound, read() returns
 * LGUEST_EXIT_DMA, and this launcher answers as a device would: it prints
 * what the guest sent, finds with LHREQ_GETDMA a receive buffer the guest
 * bound at that same key, writes "pong from the launcher" into it with its
 * used_len, raises the buffer's irq, and writes into the guest's send
 * descriptor the number of bytes it took.  It also tries GETDMA where it
 * must fail (the buffer just filled, a key nobody bound, one outside
 * memory) and prints what each got.  At power-off it prints the guest's
 * DMA counters ("stat NAME VALUE").
 *
 * With --share=FILE, FILE (4096 bytes, created if missing) is mapped
 * MAP_SHARED at guest-physical 16 MiB, where a DMA endpoint that maps the same
 * file meets the guest's keys.  With --unmap=GPA, the page of guest memory
 * at GPA is unmapped in this launcher: a key there has nothing behind it.
 *
 * Exit status: 0 power-off, 1 error, 3 guest killed (as lguest's).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lguest/dma.h>
#include <lguest/launcher.h>

#define GDT_ADDR	0x1000
#define BOOT_PARAMS	0x7000
#define PML4_ADDR	0x9000
#define SHARE_ADDR	0x1000000
#define SHARE_SIZE	4096

#define PROGRAM "dma-launcher"
#include "tool.h"


static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--share=FILE] [--unmap=GPA] MEM TINY.elf\n"
		"\n"
		"Run a tiny test guest (tests/lab/tiny-guest.S) with MEM MiB of memory\n"
		"(like 32m), answering its sends to unbound keys as a device would.\n"
		"\n"
		"  --share=FILE   map FILE MAP_SHARED at guest-physical 16 MiB\n"
		"  --unmap=GPA    leave the page at guest-physical GPA unmapped\n"
		"  -h, --help     this help\n"
		"\n"
		"Exit status: 0 power-off, 1 error, 3 guest killed by lg.ko.\n", PROGRAM);
}

static uint8_t *mem;
static uint64_t mem_size;

static void *guest(uint64_t gpa, uint64_t len)
{
	if (gpa >= mem_size || len > mem_size - gpa)
		die("guest address %#" PRIx64 " (+%" PRIu64 ") outside its memory", gpa, len);
	return mem + gpa;
}

static uint64_t load_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	Elf64_Ehdr *eh;
	uint8_t *img;
	int i;

	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die("%s: %s", path, strerror(errno));
	close(fd);
	eh = (Elf64_Ehdr *)img;
	if ((size_t)st.st_size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size)
		die("%s: not a 64-bit ELF executable", path);
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset + ph->p_filesz > (uint64_t)st.st_size)
			die("%s: a segment beyond the file's end", path);
		memcpy(guest(ph->p_paddr, ph->p_memsz), img + ph->p_offset, ph->p_filesz);
	}
	return eh->e_entry;
}

static void write_platform(void)
{
	uint64_t *pml4 = guest(PML4_ADDR, 6 * 4096), *pdpt = pml4 + 512, *pd = pdpt + 512;
	const uint64_t gdt[4] = {
		0, 0,
		0x00af9a000000ffffULL,	/* 0x10: 64-bit code */
		0x00cf92000000ffffULL,	/* 0x18: data */
	};
	int i;

	pml4[0] = (PML4_ADDR + 0x1000) | 3;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PML4_ADDR + 0x2000 + 0x1000 * i) | 3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB */
	memcpy(guest(GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
}

static void map_share(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;

	if (mem_size < SHARE_ADDR + SHARE_SIZE)
		die("--share needs more than 16 MiB of guest memory");
	if (fd < 0 || fstat(fd, &st) ||
	    (st.st_size < SHARE_SIZE && ftruncate(fd, SHARE_SIZE)))
		die("%s: %s", path, strerror(errno));
	if (mmap(mem + SHARE_ADDR, SHARE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		die("mapping %s: %s", path, strerror(errno));
	close(fd);
}

static const char *errname(int err)
{
	return err == 0 ? "ok" : err == ENOENT ? "ENOENT" : err == EINVAL ? "EINVAL" :
	       strerror(err);
}

static int getdma(int fd, uint64_t key, struct lguest_getdma *req)
{
	*req = (struct lguest_getdma){ .request = LHREQ_GETDMA, .key = key };
	return write(fd, req, sizeof(*req)) == sizeof(*req) ? 0 : errno;
}

/* The guest sent the descriptor at dma to key, and nobody else bound it. */
static void serve_dma(int fd, uint64_t key, uint64_t dma)
{
	static const char reply[] = "pong from the launcher";
	struct lguest_dma *d = guest(dma, sizeof(*d)), *r;
	struct lguest_getdma req;
	uint32_t total = 0, copied = 0;
	int i, err;

	printf("launcher: DMA to key %#" PRIx64 ", descriptor %#" PRIx64 "\n", key, dma);
	for (i = 0; i < LGUEST_DMA_SECTIONS && d->len[i]; i++) {
		printf("launcher: section %d: %.*s\n", i, d->len[i],
		       (char *)guest(d->addr[i], d->len[i]));
		total += d->len[i];
	}

	err = getdma(fd, key, &req);
	printf("launcher: GETDMA at the key: %s\n", errname(err));
	if (!err) {
		r = guest(req.dma, sizeof(*r));
		for (i = 0; i < LGUEST_DMA_SECTIONS && r->len[i] && copied < sizeof(reply) - 1; i++) {
			uint32_t n = sizeof(reply) - 1 - copied;

			if (n > r->len[i])
				n = r->len[i];
			memcpy(guest(r->addr[i], n), reply + copied, n);
			copied += n;
		}
		__atomic_store_n(&r->used_len, copied, __ATOMIC_RELEASE);
		printf("launcher: replied %u bytes into the buffer at %#" PRIx64 ", irq %u\n",
		       copied, (uint64_t)req.dma, req.irq);
		struct lguest_irq irq = { .request = LHREQ_IRQ, .irq = req.irq };

		if (write(fd, &irq, sizeof(irq)) != sizeof(irq))
			die("LHREQ_IRQ: %s", strerror(errno));
	}
	printf("launcher: GETDMA at the key again: %s\n", errname(getdma(fd, key, &req)));
	printf("launcher: GETDMA at a key nobody bound: %s\n",
	       errname(getdma(fd, key + 4, &req)));
	printf("launcher: GETDMA at a key outside memory: %s\n",
	       errname(getdma(fd, mem_size, &req)));
	d->used_len = total;
}

static void print_stats(int fd)
{
	struct lguest_dma_stats st = { .request = LHREQ_DMA_STATS };

	if (write(fd, &st, sizeof(st)) != sizeof(st))
		die("LHREQ_DMA_STATS: %s", strerror(errno));
	printf("stat sends %llu\nstat sent_in_kernel %llu\nstat sent_to_launcher %llu\n"
	       "stat sent_unbound %llu\nstat send_drops %llu\nstat bytes_sent %llu\n"
	       "stat receives %llu\nstat bytes_received %llu\nstat binds %llu\n",
	       st.sends, st.sent_in_kernel, st.sent_to_launcher, st.sent_unbound,
	       st.send_drops, st.bytes_sent, st.receives, st.bytes_received, st.binds);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "share", required_argument, NULL, 's' },
		{ "unmap", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *share = NULL;
	uint64_t unmap = 0;
	struct lguest_init init = { .request = LHREQ_INITIALIZE };
	struct lguest_exit ex = { 0 };
	char *end;
	int c, fd;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': share = optarg; break;
		case 'u':
			unmap = strtoull(optarg, &end, 0);
			if (*end || !unmap || unmap % 4096)
				die("--unmap=%s: not a page address", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 1;
	}
	mem_size = strtoull(argv[optind], &end, 0) << 20;
	if (strcmp(end, "m") || mem_size < (4 << 20) || mem_size > (1ULL << 30))
		die("memory '%s': say 4m to 1024m", argv[optind]);
	setvbuf(stdout, NULL, _IONBF, 0);

	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("guest memory: %s", strerror(errno));
	if (share)
		map_share(share);
	init.rip = load_elf(argv[optind + 1]);
	write_platform();
	if (unmap && munmap(guest(unmap, 4096), 4096))
		die("--unmap: %s", strerror(errno));
	init.mem_base = (uintptr_t)mem;
	init.mem_size = mem_size;
	init.rsi = BOOT_PARAMS;
	init.cr3 = PML4_ADDR;
	init.gdt_base = GDT_ADDR;
	init.gdt_limit = 31;

	fd = open(LGUEST_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", LGUEST_DEVICE, strerror(errno));
	if (write(fd, &init, sizeof(init)) != sizeof(init))
		die("LHREQ_INITIALIZE: %s", strerror(errno));

	for (;;) {
		if (read(fd, &ex, sizeof(ex)) != sizeof(ex)) {
			if (errno == EINTR)
				continue;
			die("read: %s", strerror(errno));
		}
		switch (ex.reason) {
		case LGUEST_EXIT_IO:
			if (ex.is_write && ex.addr == 0x3f8)
				putchar((int)ex.data);
			ex.data = ~0ULL;	/* reads find nothing */
			break;
		case LGUEST_EXIT_MMIO:
			ex.data = ~0ULL;
			break;
		case LGUEST_EXIT_DMA:
			serve_dma(fd, ex.addr, ex.data);
			break;
		case LGUEST_EXIT_POWEROFF:
			print_stats(fd);
			return 0;
		case LGUEST_EXIT_DEAD:
			ex.message[sizeof(ex.message) - 1] = '\0';
			fprintf(stderr, "%s: guest killed: %s\n", PROGRAM, ex.message);
			return 3;
		default:
			die("unknown exit reason %u", ex.reason);
		}
	}
}
