/*
 * sharenet.c: opening a sharenet file and taking a slot in it (sharenet.h).
 */
#define _GNU_SOURCE		/* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lguest/devices.h>

#include "sharenet.h"

int sharenet_file_open(const char *path, const char **why)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || fstat(fd, &st) < 0) {
		*why = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto fail;
	}
	if (st.st_size < SHARENET_PAGE && ftruncate(fd, SHARENET_PAGE) < 0) {
		*why = strerror(errno);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A write lock on the slot's eight bytes: ours until we close or die. */
static int lock_slot(int fd, uint32_t slot)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = slot * sizeof(struct lguest_net_slot),
		.l_len = sizeof(struct lguest_net_slot),
	};

	return fcntl(fd, F_OFD_SETLK, &fl);
}

int sharenet_take_slot(int fd)
{
	uint32_t slot;

	for (slot = 0; slot < LGUEST_NET_SLOTS; slot++) {
		if (lock_slot(fd, slot) == 0)
			return slot;
		if (errno != EAGAIN && errno != EACCES)
			return -1;
	}
	errno = ENOSPC;
	return -1;
}

void sharenet_make_mac(uint8_t mac[6], uint32_t slot)
{
	uint8_t r[5] = { 0 };
	uint32_t pid = getpid();

	/* No entropy yet (early boot): the pid and the slot alone. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		memset(r, 0, sizeof(r));
	mac[0] = 0x02;
	mac[1] = r[0];
	mac[2] = r[1] ^ (uint8_t)(pid >> 16);
	mac[3] = r[2] ^ (uint8_t)(pid >> 8);
	mac[4] = r[3] ^ (uint8_t)pid;
	mac[5] = r[4] ^ (uint8_t)slot;
}
