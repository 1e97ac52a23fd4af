/*
 * size.c: read a size the way a person writes it.
 *
 * The launcher takes its memory as "64m", like the original lguest, and the
 * topology files write "memory: 256m"; both come here.  Units are binary
 * (1k = 1024) because memory is.  Anything that is not exactly a number and a
 * unit is refused with a reason: "64x", "-1", "", "1e3" and sizes beyond 64
 * bits are mistakes, not zero.
 */
#include "size.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int unit_shift(const char *unit)
{
	static const char units[] = "kmgt";
	const char *u;

	if (*unit == '\0')
		return 0;
	u = strchr(units, tolower((unsigned char)*unit));
	if (!u)
		return -1;
	unit++;
	if (*unit != '\0' && strcasecmp(unit, "b") != 0 && strcasecmp(unit, "ib") != 0)
		return -1;
	return 10 * (int)(u - units + 1);
}

const char *size_parse(const char *text, uint64_t *bytes)
{
	uint64_t value = 0;
	const char *p = text;
	int shift;

	if (!isdigit((unsigned char)*p))
		return *p ? "not a size (expected a number like 64m or 1g)" : "empty size";
	for (; isdigit((unsigned char)*p); p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (value > (UINT64_MAX - digit) / 10)
			return "too large";
		value = value * 10 + digit;
	}
	shift = unit_shift(p);
	if (shift < 0)
		return "unknown unit (use k, m, g or t)";
	if (shift && value > (UINT64_MAX >> shift))
		return "too large";
	*bytes = value << shift;
	return NULL;
}
