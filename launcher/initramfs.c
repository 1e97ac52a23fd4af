/*
 * initramfs.c: an initramfs for a guest that was given none.
 *
 * The seed's example boots a kernel with `--block=rootfile root=/dev/lgba`
 * and no initrd: the old lguest's guests had their drivers built in.  A stock
 * distribution kernel has them as modules (ours, lguest_bus, lguest_net and
 * lguest_blk, are not even in its tree), so without an initramfs nobody
 * could load them and root=/dev/lgba would never appear.  So when no
 * --initrd is given, we ask the guest image tool, lguest-initramfs (beside
 * us), for one made for this kernel: busybox, the guest drivers, ext4 and an
 * init that honours root=.  It takes about a second.  --initrd=none boots
 * with no initramfs at all, and so does a kernel the tool cannot serve (its
 * modules are not on this host), with a warning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lguest.h"

/* lguest-initramfs: beside our own executable, else on PATH. */
static void find_tool(char *path, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", path, size - 1);
	char *slash;

	if (n > 0) {
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash && (size_t)(slash - path) + sizeof("/lguest-initramfs") <= size) {
			strcpy(slash, "/lguest-initramfs");
			if (access(path, X_OK) == 0)
				return;
		}
	}
	snprintf(path, size, "lguest-initramfs");
}

/* A bzImage ("HdrS" at 0x202) or an ELF file: else boot.c will say what is wrong. */
static int looks_like_a_kernel(const char *kernel)
{
	unsigned char head[0x206];
	int fd = open(kernel, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, head, sizeof(head));

	if (fd >= 0)
		close(fd);
	return (n >= 4 && !memcmp(head, "\177ELF", 4)) ||
	       (n == (ssize_t)sizeof(head) && !memcmp(head + 0x202, "HdrS", 4));
}

char *initramfs_make(const char *kernel)
{
	char tool[PATH_MAX], *out;
	const char *tmpdir = getenv("TMPDIR");
	int fd, status;
	pid_t pid;

	if (!looks_like_a_kernel(kernel))
		return NULL;
	if (asprintf(&out, "%s/lguest-initrd.XXXXXX", tmpdir ? tmpdir : "/tmp") < 0)
		die("out of memory");
	fd = mkstemp(out);
	if (fd < 0)
		die("cannot make a temporary file %s: %s", out, strerror(errno));
	close(fd);
	find_tool(tool, sizeof(tool));
	fprintf(stderr, "lguest: no --initrd: making an initramfs with the lguest drivers for %s (%s --kernel)\n",
		kernel, tool);

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execlp(tool, tool, "-o", out, "--kernel", kernel, (char *)NULL);
		fprintf(stderr, "lguest: cannot run %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "lguest: warning: no initramfs for %s: the guest boots without one (give one with --initrd=FILE)\n",
			kernel);
		unlink(out);
		free(out);
		return NULL;
	}
	return out;
}
