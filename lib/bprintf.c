/*
 * bprintf.c: snprintf that says whether everything fit (bprintf.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "bprintf.h"

bool bprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}
