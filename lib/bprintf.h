/*
 * bprintf.h: snprintf that says whether everything fit, and printf onto the
 * end of a string that grows.
 *
 * A path cut short is a different path: where a cut would be a bug, the
 * caller checks bprintf()'s answer and says so.  Where a cut is harmless (a
 * message), the answer may be ignored, and the compiler does not warn.
 */
#ifndef LGUEST_BPRINTF_H
#define LGUEST_BPRINTF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Format into BUF (SIZE bytes, always terminated): true if nothing was cut. */
bool bprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append to *S, a malloc'd string (or NULL): false if memory ran out (*S
 * is then as it was). */
bool astrcatf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool vastrcatf(char **s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
