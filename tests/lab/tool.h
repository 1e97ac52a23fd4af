/*
 * tests/lab/tool.h: what the lab's small test tools share.
 *
 * Each tool defines PROGRAM (its name, for messages) before including this.
 * die() says what went wrong, prefixed with the tool's name, and exits 1:
 * the test script that ran the tool sees the status and shows the message.
 */
#ifndef LAB_TOOL_H
#define LAB_TOOL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROGRAM);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#endif
