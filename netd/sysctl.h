/*
 * sysctl.h: reading and writing a kernel setting by its dotted name
 * ("net.ipv4.ip_forward"), as sysctl(8) names it (sysctl.c).
 *
 * The network settings (net.*) are those of the calling thread's network
 * namespace.  Writing needs root (CAP_NET_ADMIN for a namespace's own
 * net.* settings).  Both return 0 or a negative errno, and then fill ERR
 * (ERRLEN bytes; may be NULL) with a message naming the setting.
 */
#ifndef LGUEST_NETD_SYSCTL_H
#define LGUEST_NETD_SYSCTL_H

#include <stddef.h>

#define SYSCTL_NAME_MAX 255	/* longer names are refused */

/*
 * The value of NAME into VALUE (SIZE bytes), without its final newline.
 * -EINVAL for a bad name (only a-z, 0-9, '_', '-' and dots between
 * non-empty parts), -ENOENT if there is no such setting, -EOVERFLOW if the
 * value does not fit.
 */
int sysctl_get(const char *name, char *value, size_t size, char *err, size_t errlen);

/* Set NAME to VALUE (one line, no newline in it). */
int sysctl_set(const char *name, const char *value, char *err, size_t errlen);

#endif
