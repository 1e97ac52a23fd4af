/*
 * boot.c: putting a Linux kernel into guest memory, ready to run.
 *
 * We use the x86-64 64-bit boot protocol (Documentation/x86/boot.rst): the
 * kernel is entered in long mode, with paging on and an identity mapping,
 * interrupts off, flat segments 0x10 (code) and 0x18 (data), and RSI
 * pointing at "boot_params", the zero page that tells it everything a BIOS
 * and a bootloader would: the memory map (e820), the command line, the initrd.
 *
 * Two kinds of kernel image are accepted, as lguest always did:
 *  - a bzImage (what distributions ship): its setup header, at 0x1f1, is
 *    copied into boot_params; its protected-mode part goes at the address it
 *    prefers (pref_address) and is entered at +0x200, the 64-bit entry; it
 *    then decompresses itself.
 *  - an ELF vmlinux (what a kernel build leaves at the top of its tree): its
 *    loadable segments go at their physical addresses and its entry point is
 *    the physical address of startup_64; we write a setup header for it.
 *
 * The guest's physical memory, from the bottom:
 *	0x01000		GDT
 *	0x07000		boot_params
 *	0x09000		page tables: PML4, PDPT, four page directories (2 MiB
 *			pages identity-mapping the first 4 GiB)
 *	0x20000		kernel command line
 *	0x9fc00-0xfffff	reserved (EBDA, BIOS area): the device page at
 *			0xe0000 (devices.c), the MP table at 0xf0000
 *	0x100000-	RAM; the kernel at its preferred address (16 MiB for
 *			Debian's); the initrd at the top of memory
 *
 * Above RAM, from the next 2 MiB boundary, the devices' pages (devices.c):
 * guest memory too, but the e820 map leaves it out, so that the kernel never
 * takes it for RAM.  Everything here is about RAM, g->mem_size bytes.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lguest.h"

#define GDT_ADDR	0x1000
#define BOOT_PARAMS	0x7000
#define PML4_ADDR	0x9000
#define CMDLINE_ADDR	0x20000
#define CMDLINE_MAX	0x10000
#define EBDA_START	0x9fc00
#define MPTABLE_ADDR	0xf0000
#define HIGH_MEM	0x100000

/* boot_params and setup header offsets (Documentation/x86/zero-page.rst). */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_HEADER		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0

#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define E820_RAM		1
#define E820_RESERVED		2

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

struct image {
	const char *path;
	uint8_t *data;
	size_t size;
};

static void read_image(const char *path, const char *what, struct image *img)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s %s: not a regular file", what, path);
	img->path = path;
	img->size = st.st_size;
	img->data = malloc(img->size ? img->size : 1);
	if (!img->data)
		die("%s %s: out of memory", what, path);
	for (size_t done = 0; done < img->size;) {
		ssize_t n = read(fd, img->data + done, img->size - done);

		if (n <= 0)
			die("%s %s: %s", what, path, n ? strerror(errno) : "file shrank");
		done += n;
	}
	close(fd);
}

/* Copy into guest memory, or say clearly why it does not fit. */
static void place(struct guest *g, uint64_t gpa, const void *src, size_t len,
		  const char *what)
{
	if (gpa > g->mem_size || len > g->mem_size - gpa)
		die("memory too small: %s needs %#llx-%#llx but the guest has %llu MiB",
		    what, (unsigned long long)gpa, (unsigned long long)(gpa + len),
		    (unsigned long long)(g->mem_size >> 20));
	memcpy(g->mem + gpa, src, len);
}

/* A bzImage: returns the 64-bit entry point and fills the setup header. */
static uint64_t load_bzimage(struct guest *g, const struct image *k, uint8_t *bp,
			     uint64_t *kernel_end)
{
	unsigned int setup_sects = k->data[HDR_SETUP_SECTS] ? k->data[HDR_SETUP_SECTS] : 4;
	size_t setup_size = (setup_sects + 1) * 512;
	size_t hdr_end = 0x202 + k->data[0x201];
	uint16_t version = get16(k->data + HDR_VERSION);
	uint64_t load, init_size;

	if (version < 0x20c || !(get16(k->data + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		die("kernel %s: boot protocol %x.%02x has no 64-bit entry point (need 2.12 and a 64-bit kernel)",
		    k->path, version >> 8, version & 0xff);
	if (setup_size >= k->size || hdr_end > setup_size)
		die("kernel %s: truncated bzImage", k->path);

	memcpy(bp + BP_HDR, k->data + BP_HDR, hdr_end - BP_HDR);
	load = get64(k->data + HDR_PREF_ADDRESS);
	init_size = get32(k->data + HDR_INIT_SIZE);
	if (load < HIGH_MEM)
		load = HIGH_MEM;
	if (load + init_size > g->mem_size)
		die("memory too small: kernel %s needs %llu MiB (it decompresses to %#llx-%#llx)",
		    k->path, (unsigned long long)((load + init_size + (4 << 20)) >> 20),
		    (unsigned long long)load, (unsigned long long)(load + init_size));
	place(g, load, k->data + setup_size, k->size - setup_size, "the kernel");
	*kernel_end = load + init_size;
	return load + 0x200;
}

/* An ELF vmlinux: segments at their physical addresses. */
static uint64_t load_elf(struct guest *g, const struct image *k, uint8_t *bp,
			 uint64_t *kernel_end)
{
	const Elf64_Ehdr *eh = (const void *)k->data;
	int i;

	if (k->size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		die("kernel %s: not an x86-64 ELF executable", k->path);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > k->size || eh->e_phnum > (k->size - eh->e_phoff) / sizeof(Elf64_Phdr))
		die("kernel %s: bad ELF program headers", k->path);

	*kernel_end = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(k->data + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset > k->size || ph->p_filesz > k->size - ph->p_offset ||
		    ph->p_filesz > ph->p_memsz)
			die("kernel %s: bad ELF segment %d", k->path, i);
		place(g, ph->p_paddr, k->data + ph->p_offset, ph->p_filesz, "the kernel");
		if (ph->p_paddr + ph->p_memsz > g->mem_size)
			die("memory too small for kernel %s", k->path);
		memset(g->mem + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr + ph->p_memsz > *kernel_end)
			*kernel_end = ph->p_paddr + ph->p_memsz;
	}
	if (!*kernel_end)
		die("kernel %s: no loadable segments", k->path);

	/* A setup header of our own: the 2.15 protocol, loaded high. */
	put16(bp + HDR_BOOT_FLAG, 0xaa55);
	memcpy(bp + HDR_HEADER, "HdrS", 4);
	put16(bp + HDR_VERSION, 0x020f);
	bp[HDR_LOADFLAGS] = LOADED_HIGH;
	put32(bp + HDR_INITRD_ADDR_MAX, 0x7fffffff);
	put32(bp + HDR_KERNEL_ALIGNMENT, 0x200000);
	put32(bp + HDR_CMDLINE_SIZE, CMDLINE_MAX - 1);
	return eh->e_entry;
}

static void add_e820(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = bp + BP_E820_TABLE + 20 * bp[BP_E820_ENTRIES]++;

	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
}

/* Identity-map the first 4 GiB with 2 MiB pages, for the 64-bit entry. */
static void write_page_tables(struct guest *g)
{
	uint64_t *pml4 = (void *)(g->mem + PML4_ADDR);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pdpt + 512;
	const uint64_t present_rw = 0x3, huge = 0x80;
	int i;

	memset(pml4, 0, 6 * 4096);
	pml4[0] = (PML4_ADDR + 0x1000) | present_rw;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PML4_ADDR + 0x2000 + 0x1000 * i) | present_rw;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | present_rw | huge;
}

static void write_gdt(struct guest *g)
{
	uint64_t gdt[4] = {
		0, 0,
		0x00af9a000000ffffULL,	/* 0x10: 64-bit code */
		0x00cf92000000ffffULL,	/* 0x18: data */
	};

	memcpy(g->mem + GDT_ADDR, gdt, sizeof(gdt));
}

/*
 * The initrds, at the top of memory the kernel says it can reach, one after
 * another as one initrd (each starting 4-byte aligned, as the kernel's
 * unpacker wants the next archive): lguest-netd gives a node a base image
 * and a small archive of its own this way.
 */
static void load_initrds(struct guest *g, uint8_t *bp, const char *const *initrds,
			 unsigned int n, uint64_t kernel_end)
{
	struct image rd[BOOT_INITRDS_MAX];
	uint64_t max = g->mem_size, at, total = 0, off, end = 0;

	for (unsigned int i = 0; i < n; i++) {
		read_image(initrds[i], "initrd", &rd[i]);
		total = ((total + 3) & ~3ULL) + rd[i].size;
		if (total > g->mem_size)
			die("memory too small: initrd %s (%zu KiB) does not fit", initrds[i],
			    rd[i].size >> 10);
	}
	if (!(get16(bp + HDR_XLOADFLAGS) & XLF_CAN_BE_LOADED_ABOVE_4G) &&
	    get32(bp + HDR_INITRD_ADDR_MAX) &&
	    max > (uint64_t)get32(bp + HDR_INITRD_ADDR_MAX) + 1)
		max = (uint64_t)get32(bp + HDR_INITRD_ADDR_MAX) + 1;
	at = (max - total) & ~0xfffULL;
	if (total > max || at < kernel_end)
		die("memory too small: the initrd%s (%llu KiB) do%s not fit above the kernel",
		    n > 1 ? "s" : "", (unsigned long long)(total >> 10), n > 1 ? "" : "es");
	for (unsigned int i = 0; i < n; i++) {
		off = (end + 3) & ~3ULL;
		memset(g->mem + at + end, 0, off - end);	/* the padding between */
		place(g, at + off, rd[i].data, rd[i].size, "the initrd");
		verbose(g, "initrd %s: %zu KiB at %#llx", initrds[i], rd[i].size >> 10,
			(unsigned long long)(at + off));
		end = off + rd[i].size;
		free(rd[i].data);
	}
	put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
	put32(bp + HDR_RAMDISK_SIZE, (uint32_t)total);
	put32(bp + BP_EXT_RAMDISK_IMAGE, at >> 32);
	put32(bp + BP_EXT_RAMDISK_SIZE, total >> 32);
}

void boot_load(struct guest *g, const char *kernel, const char *const *initrds, unsigned int n,
	       const char *cmdline, struct boot_info *info)
{
	uint8_t *bp = g->mem + BOOT_PARAMS;
	uint64_t kernel_end;
	struct image k;
	size_t cmdlen = strlen(cmdline);

	read_image(kernel, "kernel", &k);
	memset(bp, 0, 4096);
	if (k.size >= 4 && !memcmp(k.data, ELFMAG, SELFMAG)) {
		info->entry = load_elf(g, &k, bp, &kernel_end);
		verbose(g, "kernel %s: ELF vmlinux, entry %#llx", kernel,
			(unsigned long long)info->entry);
	} else if (k.size > 0x270 && !memcmp(k.data + HDR_HEADER, "HdrS", 4)) {
		info->entry = load_bzimage(g, &k, bp, &kernel_end);
		verbose(g, "kernel %s: bzImage protocol %x.%02x, entry %#llx, needs up to %#llx",
			kernel, get16(k.data + HDR_VERSION) >> 8,
			get16(k.data + HDR_VERSION) & 0xff,
			(unsigned long long)info->entry, (unsigned long long)kernel_end);
	} else {
		die("kernel %s: not a Linux kernel (neither a bzImage nor an ELF vmlinux)",
		    kernel);
	}
	free(k.data);
	bp[HDR_TYPE_OF_LOADER] = 0xff;

	if (cmdlen >= CMDLINE_MAX ||
	    (get32(bp + HDR_CMDLINE_SIZE) && cmdlen > get32(bp + HDR_CMDLINE_SIZE)))
		die("kernel command line too long (%zu bytes; this kernel takes %u)",
		    cmdlen, get32(bp + HDR_CMDLINE_SIZE));
	place(g, CMDLINE_ADDR, cmdline, cmdlen + 1, "the command line");
	put32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDR);

	if (n)
		load_initrds(g, bp, initrds, n, kernel_end);

	add_e820(bp, 0, EBDA_START, E820_RAM);
	add_e820(bp, EBDA_START, HIGH_MEM - EBDA_START, E820_RESERVED);
	add_e820(bp, HIGH_MEM, g->mem_size - HIGH_MEM, E820_RAM);

	mptable_write(g, MPTABLE_ADDR);
	write_page_tables(g);
	write_gdt(g);

	info->boot_params = BOOT_PARAMS;
	info->cr3 = PML4_ADDR;
	info->gdt_base = GDT_ADDR;
	info->gdt_limit = 4 * 8 - 1;
}
