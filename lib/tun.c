/*
 * tun.c: opening /dev/net/tun, even where it is missing (tun.h says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "tun.h"

int tun_open(int flags)
{
	int fd = open(TUN_PATH, O_RDWR | flags);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdir("/dev/net", 0755) < 0 && errno != EEXIST)
		return -1;
	if (mknod(TUN_PATH, S_IFCHR | 0666, makedev(10, 200)) < 0 && errno != EEXIST)
		return -1;
	return open(TUN_PATH, O_RDWR | flags);
}
