/*
 * bprintf.h: snprintf that says whether everything fit.
 *
 * A path cut short is a different path: where a cut would be a bug, the
 * caller checks bprintf()'s answer and says so.  Where a cut is harmless (a
 * message), the answer may be ignored, and the compiler does not warn.
 */
#ifndef LGUEST_BPRINTF_H
#define LGUEST_BPRINTF_H

#include <stdbool.h>
#include <stddef.h>

/* Format into BUF (SIZE bytes, always terminated): true if nothing was cut. */
bool bprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
