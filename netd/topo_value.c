/*
 * topo_value.c: the values of a topology, each read exactly.
 *
 * libyaml gives every scalar as text, untyped, and the parser decides what
 * it must be.  Numbers are decimal digits, at most one point and a unit:
 * no sign, no hex, no exponent, no "nan" or "inf" (what strtod would take
 * and a person would not mean).  Fractions are read as integers of a small
 * unit (nanoseconds, parts per million, bits), never as floating point, so
 * 1.5s is 1500000000 ns on every machine and a value too fine for its unit
 * is an error.  The units are those lguest-vswitch already takes
 * (vswitch/impair.c): times 50ms, 1.5s, 200us (a bare number is
 * milliseconds); percentages 30% or 0.5%; rates 8mbit, 100kbit, 1gbit (k, m
 * and g in either case, "bit" or "bps"; a bare number is bits per second).
 * Sizes are size_parse()'s (lib/size.c): 128m, 1g.
 *
 * Every parser returns NULL, or a phrase that says what it expected, for
 * "EXPECTATION, got 'TEXT'"; given "" it fails with that phrase, which is
 * how tv_read() says what it wanted when it got a list or a mapping.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "size.h"
#include "topo_parse.h"

#define NS_PER_S 1000000000ull
#define FRACTION_DIGITS 9

/*
 * DIGITS[.DIGITS] at *S: the whole part (at most 10^12) and the fraction in
 * billionths; *S is moved past them.  False if that is not what is there.
 */
static bool fixed_point(const char **s, uint64_t *whole, uint64_t *billionths)
{
	const char *q = *s;
	unsigned int digits = 0;
	uint64_t scale = NS_PER_S / 10;

	*whole = 0;
	*billionths = 0;
	for (; isdigit((unsigned char)*q); q++, digits++) {
		if (digits >= 12)
			return false;
		*whole = *whole * 10 + (uint64_t)(*q - '0');
	}
	if (!digits)
		return false;
	if (*q == '.') {
		q++;
		if (!isdigit((unsigned char)*q))
			return false;
		for (digits = 0; isdigit((unsigned char)*q); q++, digits++, scale /= 10) {
			if (digits >= FRACTION_DIGITS)
				return false;
			*billionths += (uint64_t)(*q - '0') * scale;
		}
	}
	*s = q;
	return true;
}

/* WHOLE.BILLIONTHS times UNIT, exactly: false if it is not whole or too large. */
static bool scaled(uint64_t whole, uint64_t billionths, uint64_t unit, uint64_t *out)
{
	if (whole > UINT64_MAX / unit / 2)
		return false;
	if ((billionths * unit) % NS_PER_S)
		return false;	/* billionths < 10^9 and unit <= 10^9: no overflow */
	*out = whole * unit + billionths * unit / NS_PER_S;
	return true;
}

struct unit {
	const char *name;
	uint64_t scale;
};

static const struct unit *find_unit(const struct unit *units, const char *name)
{
	for (; units->name; units++)
		if (!strcmp(units->name, name))
			return units;
	return NULL;
}

static const char *number_with_unit(const char *s, const struct unit *units, uint64_t lo,
				    uint64_t hi, uint64_t *out)
{
	uint64_t whole, billionths, v;
	const struct unit *u;

	if (!fixed_point(&s, &whole, &billionths))
		return "";
	u = find_unit(units, s);
	if (!u || !scaled(whole, billionths, u->scale, &v) || v < lo || v > hi)
		return "";
	*out = v;
	return NULL;
}

const char *tv_time(const char *s, void *out)
{
	static const struct unit units[] = {
		{ "s", NS_PER_S }, { "ms", 1000000 }, { "us", 1000 }, { "", 1000000 }, { NULL, 0 }
	};

	return number_with_unit(s, units, 0, 3600 * NS_PER_S, out)
		       ? "expected a time like 50ms, 1.5s or 200us (at most an hour)"
		       : NULL;
}

const char *tv_percent(const char *s, void *out)
{
	static const struct unit units[] = { { "%", 10000 }, { "", 10000 }, { NULL, 0 } };
	uint64_t ppm;

	if (number_with_unit(s, units, 0, 1000000, &ppm))
		return "expected a percentage from 0 to 100, like 30% or 0.5%";
	*(uint32_t *)out = (uint32_t)ppm;
	return NULL;
}

/* From 8kbit, as lguest-vswitch takes, to 100gbit. */
const char *tv_rate(const char *s, void *out)
{
	static const struct unit units[] = {
		{ "", 1 }, { "bit", 1 }, { "bps", 1 },
		{ "k", 1000 }, { "kbit", 1000 }, { "kbps", 1000 },
		{ "K", 1000 }, { "Kbit", 1000 }, { "Kbps", 1000 },
		{ "m", 1000000 }, { "mbit", 1000000 }, { "mbps", 1000000 },
		{ "M", 1000000 }, { "Mbit", 1000000 }, { "Mbps", 1000000 },
		{ "g", NS_PER_S }, { "gbit", NS_PER_S }, { "gbps", NS_PER_S },
		{ "G", NS_PER_S }, { "Gbit", NS_PER_S }, { "Gbps", NS_PER_S },
		{ NULL, 0 }
	};

	return number_with_unit(s, units, 8000, 100 * NS_PER_S, out)
		       ? "expected a rate from 8kbit to 100gbit, like 8mbit"
		       : NULL;
}

/* Decimal digits, nothing else, from LO to HI. */
static bool plain_uint(const char *s, unsigned long lo, unsigned long hi, unsigned int *v)
{
	unsigned long x = 0;
	const char *q;

	for (q = s; isdigit((unsigned char)*q); q++) {
		if (q - s >= 9)
			return false;
		x = x * 10 + (unsigned long)(*q - '0');
	}
	if (q == s || *q || x < lo || x > hi)
		return false;
	*v = (unsigned int)x;
	return true;
}

const char *tv_mtu(const char *s, void *out)
{
	return plain_uint(s, 68, 9000, out) ? NULL : "expected an MTU from 68 to 9000";
}

const char *tv_vlan(const char *s, void *out)
{
	return plain_uint(s, 1, 4094, out) ? NULL : "expected a VLAN id from 1 to 4094";
}

const char *tv_port(const char *s, void *out)
{
	return plain_uint(s, 1, 65535, out) ? NULL : "expected a port from 1 to 65535";
}

const char *tv_count(const char *s, void *out)
{
	return plain_uint(s, 1, 1000, out) ? NULL : "expected a count from 1 to 1000";
}

/* 0644, 755: octal, at most 07777. */
const char *tv_mode(const char *s, void *out)
{
	unsigned int v = 0;
	const char *q;

	for (q = s; *q >= '0' && *q <= '7' && q - s < 5; q++)
		v = v * 8 + (unsigned int)(*q - '0');
	if (q == s || *q || v > 07777)
		return "expected an octal mode like 0644 or 0755";
	*(unsigned int *)out = v;
	return NULL;
}

/* YAML 1.1's booleans, in the cases it knows. */
const char *tv_bool(const char *s, void *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off", "Off", "OFF", "n", "N" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*(bool *)out = !strcmp(s, yes[i]);
			return NULL;
		}
	}
	return "expected true or false";
}

const char *tv_memory(const char *s, void *out)
{
	uint64_t v;

	if (size_parse(s, &v) || v < (32ull << 20) || v > (3ull << 30))
		return "expected a size from 32m to 3g, like 128m";
	*(uint64_t *)out = v;
	return NULL;
}

const char *tv_bytes(const char *s, void *out)
{
	return size_parse(s, out) ? "expected a size like 10m or 1g" : NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 02:00:00:00:00:01, unicast and not all zero. */
const char *tv_mac(const char *s, void *out)
{
	uint8_t mac[6];
	int i, hi, lo;

	for (i = 0; i < 6; i++, s += 3) {
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return "expected a MAC address like 02:00:00:00:00:01";
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return "expected a unicast MAC address (its first byte even), like 02:00:00:00:00:01";
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return "expected a MAC address that is not all zero";
	memcpy(out, mac, 6);
	return NULL;
}

/* 10:20:100-199, as lguest-vswitch's trunk= takes it (vswitch/vlan.c). */
const char *tv_trunk(const char *s, void *out)
{
	const char *why = "expected trunk VLANs like 10:20:100-199 (each 1 to 4094)";
	unsigned int lo, hi;
	char part[16];
	size_t n;

	(void)out;
	for (;;) {
		n = strcspn(s, ":");
		if (n == 0 || n >= sizeof(part))
			return why;
		memcpy(part, s, n);
		part[n] = '\0';
		if (strchr(part, '-')) {
			char *dash = strchr(part, '-');

			*dash = '\0';
			if (!plain_uint(part, 1, 4094, &lo) || !plain_uint(dash + 1, 1, 4094, &hi))
				return why;
			if (hi < lo)
				return "expected VLAN ranges that go up (100-199, not 199-100)";
		} else if (!plain_uint(part, 1, 4094, &lo)) {
			return why;
		}
		if (!s[n])
			return NULL;
		s += n + 1;
	}
}

static bool all_in(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

const char *tv_lab_name(const char *s, void *out)
{
	size_t n = strlen(s);

	(void)out;
	if (n < 1 || n > TOPO_LAB_NAME_MAX || !islower((unsigned char)s[0]) ||
	    !all_in(s, LOWER DIGIT "-") || s[n - 1] == '-')
		return "expected a lab name of 1 to 10 characters: a-z, 0-9 and '-', "
		       "starting with a letter, not ending with '-'";
	return NULL;
}

/* Nodes, switches and groups; "host" and "bridge" are link ends' words. */
const char *tv_name(const char *s, void *out)
{
	size_t n = strlen(s);

	(void)out;
	if (n < 1 || n > TOPO_NAME_MAX || !isalpha((unsigned char)s[0]) ||
	    !all_in(s, LOWER UPPER DIGIT "_-"))
		return "expected a name of 1 to 31 characters: letters, digits, '_' and '-', "
		       "starting with a letter";
	if (!strcmp(s, "host") || !strcmp(s, "bridge"))
		return "expected a name other than 'host' and 'bridge' (words of links)";
	return NULL;
}

/* What Linux takes (dev_valid_name()), in printable ASCII. */
const char *tv_ifname(const char *s, void *out)
{
	size_t n = strlen(s), i;

	(void)out;
	if (n < 1 || n > TOPO_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return "expected an interface name of 1 to 15 characters, like eth0";
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '/' || s[i] == ':')
			return "expected an interface name (no '/', ':' or spaces), like eth0";
	return NULL;
}

/* Given link names also name capture files: no '/'. */
const char *tv_link_name(const char *s, void *out)
{
	size_t n = strlen(s);

	(void)out;
	if (n < 1 || n > TOPO_LINK_NAME_MAX || !isalnum((unsigned char)s[0]) ||
	    !all_in(s, LOWER UPPER DIGIT "_-.:"))
		return "expected a link name of 1 to 63 characters: letters, digits, '_', '-', "
		       "'.' and ':'";
	return NULL;
}

const char *tv_module(const char *s, void *out)
{
	size_t n = strlen(s);

	(void)out;
	if (n < 1 || n > 55 || !all_in(s, LOWER UPPER DIGIT "_-"))
		return "expected a kernel module name, like 8021q";
	return NULL;
}

bool tv_check(struct tp *p, const tnode *n, const char *why, const char *s)
{
	char q[64];

	if (!why)
		return true;
	tp_error(p, n, "%s, got %s", why, tp_quote(s, q));
	return false;
}

const char *tv_read(struct tp *p, tnode *n, tv_parse_fn *parse, void *out)
{
	uint8_t scratch[16];
	const char *s = ty_str(p, n, parse("", scratch) + strlen("expected "));

	if (!s || !tv_check(p, n, parse(s, out), s))
		return NULL;
	return s;
}

char *tv_read_text(struct tp *p, tnode *n, size_t max)
{
	const char *s = ty_str(p, n, "text");

	if (!s)
		return NULL;
	if (strlen(s) > max) {
		tp_error(p, n, "expected text of at most %zu bytes, got %zu", max, strlen(s));
		return NULL;
	}
	return tp_strdup(p, s);
}
