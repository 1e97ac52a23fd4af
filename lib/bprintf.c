/*
 * bprintf.c: snprintf that says whether everything fit, and a string that
 * grows (bprintf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool vastrcatf(char **s, const char *fmt, va_list ap)
{
	size_t old = *s ? strlen(*s) : 0;
	va_list again;
	char *bigger;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0 || !(bigger = realloc(*s, old + (size_t)n + 1)))
		return false;
	vsnprintf(bigger + old, (size_t)n + 1, fmt, ap);
	*s = bigger;
	return true;
}

bool astrcatf(char **s, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = vastrcatf(s, fmt, ap);
	va_end(ap);
	return ok;
}
