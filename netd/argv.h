/*
 * argv.h: a command line being built, for the programs the daemon starts
 * (a launcher, a switch, lguest-initramfs): it grows as needed, stays NULL
 * terminated, and remembers if memory ran out (then the caller gives up).
 */
#ifndef LGUEST_NETD_ARGV_H
#define LGUEST_NETD_ARGV_H

#include <stdbool.h>
#include <stddef.h>

struct argv {
	char **v;		/* NULL-terminated once anything was added */
	size_t n, cap;
	bool failed;		/* out of memory: v holds what came before */
};

/* One more argument, printf-style. */
void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void argv_free(struct argv *a);

#endif
