/*
 * size.h: sizes as people write them ("64m", "1g", "512k").
 */
#ifndef LGUEST_SIZE_H
#define LGUEST_SIZE_H

#include <stdint.h>

/*
 * Parse TEXT, a decimal number with an optional binary unit (k, m, g, t: 2^10
 * to 2^40, either case, optionally followed by "b" or "ib"; none means
 * bytes), into *BYTES.  Returns NULL on success, else a phrase that says what
 * is wrong with TEXT, for an error message; *BYTES is then untouched.
 */
const char *size_parse(const char *text, uint64_t *bytes);

#endif
