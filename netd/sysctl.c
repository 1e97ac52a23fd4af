/*
 * sysctl.c: kernel settings by name, through /proc/sys.
 *
 * "net.ipv4.ip_forward" is the file /proc/sys/net/ipv4/ip_forward: the dots
 * become slashes.  A name comes from our own code or from a topology file,
 * so it is checked before it becomes a path: only lower-case letters,
 * digits, '_' and '-', in non-empty parts between dots.  With no '/' and no
 * empty part ("..") it cannot climb out of /proc/sys or name anything but
 * a setting.  (sysctl(8) also writes an interface called "eth0.100" as
 * "eth0/100"; such names are refused here.)
 *
 * A value is read whole (settings are short: a value that does not fit is
 * an error, never cut silently) and written in one write(), which is how
 * the kernel wants a setting: it parses each write() as the whole value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysctl.h"

#define SYSCTL_ROOT "/proc/sys/"

__attribute__((format(printf, 4, 5)))
static int sysctl_error(int error, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return error;
}

static bool sysctl_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* NAME checked, and made into its path in PATH (SIZE bytes); 0 or -EINVAL. */
static int sysctl_path(const char *name, char *path, size_t size, char *err, size_t errlen)
{
	size_t i, len = strlen(name), root = strlen(SYSCTL_ROOT);

	if (len == 0)
		return sysctl_error(-EINVAL, err, errlen, "sysctl: no name given");
	if (len > SYSCTL_NAME_MAX || root + len >= size)
		return sysctl_error(-EINVAL, err, errlen, "sysctl '%.40s...': name too long", name);
	for (i = 0; i < len; i++) {
		bool dot = name[i] == '.';

		if (dot && (i == 0 || i == len - 1 || name[i + 1] == '.'))
			return sysctl_error(-EINVAL, err, errlen,
					    "sysctl '%s': an empty part between dots", name);
		if (!dot && !sysctl_char_ok(name[i]))
			return sysctl_error(-EINVAL, err, errlen,
					    "sysctl '%s': '%c' is not allowed in a name "
					    "(only a-z, 0-9, '_', '-' and '.')", name, name[i]);
	}
	memcpy(path, SYSCTL_ROOT, root);
	for (i = 0; i <= len; i++)
		path[root + i] = name[i] == '.' ? '/' : name[i];
	return 0;
}

static int sysctl_open(const char *name, int flags, char *err, size_t errlen)
{
	char path[sizeof(SYSCTL_ROOT) + SYSCTL_NAME_MAX];
	struct stat st;
	int fd, error = sysctl_path(name, path, sizeof(path), err, errlen);

	if (error)
		return error;
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EISDIR;		/* read() would say so, later */
	}
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return sysctl_error(-ENOENT, err, errlen, "sysctl %s: no such setting (%s)",
				    name, path);
	if (errno == EISDIR)
		return sysctl_error(-EISDIR, err, errlen, "sysctl %s: a group of settings, not one",
				    name);
	return sysctl_error(-errno, err, errlen, "sysctl %s: %s: %s", name, path,
			    strerror(errno));
}

int sysctl_get(const char *name, char *value, size_t size, char *err, size_t errlen)
{
	int fd = sysctl_open(name, O_RDONLY, err, errlen);
	size_t have = 0;
	ssize_t n = 1;

	if (fd < 0)
		return fd;
	if (size == 0) {
		close(fd);
		return sysctl_error(-EOVERFLOW, err, errlen, "sysctl %s: no room for a value", name);
	}
	while (n > 0 && have < size) {
		n = read(fd, value + have, size - have);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			have += n;
	}
	close(fd);
	if (n < 0)
		return sysctl_error(-errno, err, errlen, "sysctl %s: read: %s", name,
				    strerror(errno));
	if (have == size)	/* no room left for the NUL: the value may go on */
		return sysctl_error(-EOVERFLOW, err, errlen,
				    "sysctl %s: the value is longer than %zu bytes", name, size - 1);
	if (have && value[have - 1] == '\n')
		have--;
	value[have] = '\0';
	return 0;
}

int sysctl_set(const char *name, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	if (strchr(value, '\n'))
		return sysctl_error(-EINVAL, err, errlen, "sysctl %s: the value has a newline in it",
				    name);
	fd = sysctl_open(name, O_WRONLY, err, errlen);
	if (fd < 0)
		return fd;
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int error = -errno;

		close(fd);
		return sysctl_error(error, err, errlen, "sysctl %s = %s: %s", name, value,
				    strerror(-error));
	}
	close(fd);
	if ((size_t)n != len)
		return sysctl_error(-EIO, err, errlen, "sysctl %s = %s: only %zd of %zu bytes taken",
				    name, value, n, len);
	return 0;
}
