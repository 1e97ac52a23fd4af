/*
 * kernel.c: each guest kernel, out of its bzImage once, not at every boot.
 *
 * A distribution's kernel is a bzImage: a little program that inflates the
 * real kernel (an ELF file, compressed with xz for Debian) and jumps to it.
 * Under the lab-host VM's emulation that inflating is seconds of every
 * guest's boot, the same seconds for every guest of a lab.  The launcher
 * boots an ELF vmlinux just as well, so the daemon takes the kernel out of
 * the bzImage once, with the host's own decompressor (xz, gzip, zstd...,
 * as the payload's first bytes say), and keeps it in CACHE/kernels (--cache-dir) under a
 * name made from the bzImage's path, size and time.  The next lab finds it
 * there.  Should anything go wrong (an unknown compression, a missing
 * tool, a payload that is not ELF), the node boots the bzImage as it is:
 * slower, never broken.
 *
 * The payload is where the boot protocol says (2.08 and later): setup
 * sectors plus one, times 512, plus payload_offset, for payload_length
 * bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"


static const struct {
	const char *magic;
	size_t len;
	const char *tool;
} compressions[] = {
	{ "\xfd" "7zXZ\0", 6, "xz" },
	{ "\x1f\x8b", 2, "gzip" },
	{ "\x28\xb5\x2f\xfd", 4, "zstd" },
	{ "\x02\x21\x4c\x18", 4, "lz4" },
	{ "BZh", 3, "bzip2" },
	{ "\x5d\x00\x00", 3, "lzma" },
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Where PATH's payload is and which tool inflates it: 0, or -1 if PATH is
 * not a bzImage we can take apart (then it is booted as it is).
 */
static int payload_of(const char *path, off_t *off, uint32_t *len, const char **tool)
{
	uint8_t hdr[0x260], magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, hdr, sizeof(hdr), 0);
	unsigned int setup_sects;

	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr + 0x202, "HdrS", 4) ||
	    (hdr[0x206] | hdr[0x207] << 8) < 0x208)
		goto no;
	setup_sects = hdr[0x1f1] ? hdr[0x1f1] : 4;
	*off = (off_t)(setup_sects + 1) * 512 + le32(hdr + 0x248);
	*len = le32(hdr + 0x24c);
	if (pread(fd, magic, sizeof(magic), *off) != (ssize_t)sizeof(magic))
		goto no;
	close(fd);
	for (size_t i = 0; i < sizeof(compressions) / sizeof(compressions[0]); i++)
		if (!memcmp(magic, compressions[i].magic, compressions[i].len)) {
			*tool = compressions[i].tool;
			return 0;
		}
	return -1;
no:
	if (fd >= 0)
		close(fd);
	return -1;
}

static bool is_elf(const char *path)
{
	char head[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf = fd >= 0 && read(fd, head, 4) == 4 && !memcmp(head, "\177ELF", 4);

	if (fd >= 0)
		close(fd);
	return elf;
}

static void extracted(struct proc *p)
{
	struct base *b = (struct base *)((char *)p - offsetof(struct base, kproc));
	const char *tmp = b->ktmp;

	if (WIFEXITED(p->status) && !WEXITSTATUS(p->status) && is_elf(tmp) && !rename(tmp, b->elf)) {
		lab_event(b->lab, "kernel %s taken out of its bzImage, for every boot: %s",
			  b->kernel, b->elf);
	} else {
		unlink(tmp);
		lab_event(b->lab, "kernel %s: could not take it out of its bzImage; booting it as it is",
			  b->kernel);
		b->elf[0] = '\0';
	}
	b->kstate = BASE_READY;
	lab_poke(b->lab);
}

/* Start taking B's kernel out of its bzImage (or find it done already). */
void kernel_prepare(struct lab *lab, struct base *b)
{
	char off_text[32], len_text[32], err[ERR_MAX], dir[PATH_MAX];
	const char *tool;
	uint32_t len;
	off_t off;
	uint64_t h = CACHE_HASH_START;
	char *argv[] = { "/bin/sh", "-c", "tail -c +\"$1\" \"$2\" | head -c \"$3\" | \"$4\" -dc > \"$5\"",
			 "sh", off_text, (char *)b->kernel, len_text, NULL, b->ktmp, NULL };
	struct proc_spec spec = { .argv = argv, .in = -1, .out = -1, .err = -1 };

	b->elf[0] = '\0';
	b->kstate = BASE_READY;
	if (payload_of(b->kernel, &off, &len, &tool) || len < 5 ||
	    cache_subdir(lab, "kernels", dir, sizeof(dir)) < 0)
		return;		/* an ELF kernel, or one we cannot take apart: as it is */
	cache_hash_file(&h, b->kernel);
	if (!bprintf(b->elf, sizeof(b->elf), "%s/vmlinux-%016llx", dir,
		     (unsigned long long)h))
		goto none;
	if (is_elf(b->elf))
		return;
	snprintf(off_text, sizeof(off_text), "%lld", (long long)off + 1);
	snprintf(len_text, sizeof(len_text), "%u", len - 4);	/* less its size, at the end */
	cache_tmp(b->elf, b->ktmp, sizeof(b->ktmp));
	argv[7] = (char *)tool;
	b->lab = lab;
	b->kproc.role = "kernel";
	snprintf(b->kproc.name, sizeof(b->kproc.name), "%s", tool);
	b->kproc.on_exit = extracted;
	b->kstate = BASE_BUILDING;
	if (proc_start(&lab->d->loop, NULL, &b->kproc, &spec, err, sizeof(err)) == 0)
		return;
	b->kstate = BASE_READY;
none:
	b->elf[0] = '\0';
}

/* What a node boots: the ELF kernel taken out, or the file it named. */
const char *kernel_of(const struct lab *lab, const struct topo_node *n)
{
	for (unsigned int k = 0; k < lab->nbases; k++)
		if (!strcmp(lab->bases[k].kernel, n->kernel))
			return lab->bases[k].elf[0] ? lab->bases[k].elf : n->kernel;
	return n->kernel;
}
