/*
 * topo_range.c: many alike from one, "h[1..8]" and "{i}".
 *
 * A node, a switch or a link end named PREFIX[LO..HI]SUFFIX stands for the
 * names PREFIX<LO>SUFFIX to PREFIX<HI>SUFFIX: h[1..8] is h1 to h8.  LO and
 * HI are small decimal numbers (0 to 9999, HI >= LO), and a range makes at
 * most TOPO_MAX_NODES names.
 *
 * tp_range_each() makes the names one by one, for nodes and switches alike.
 *
 * Text written under something a range made (a range node's settings, a
 * link with a range end) may say which one it is: {i} is the index,
 * {i+N} and {i-N} the index moved by N ("10.1.0.{i+10}/24").  Only those
 * exact forms are replaced, so that shell and awk braces pass untouched
 * ("awk '{print $1}'", "${i}": a brace right after '$' is the shell's).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "topo_parse.h"

#define RANGE_NUM_MAX 9999

/* Up to 4 digits at *S: the number, with *S moved past them; -1 if none. */
static long small_number(const char **s)
{
	long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**s) && digits < 5) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits == 0 || digits > 4 ? -1 : v;
}

const char *tp_range_parse(const char *name, struct tp_range *r)
{
	const char *open = strchr(name, '['), *s, *close;
	size_t plen;

	memset(r, 0, sizeof(*r));
	if (!open) {
		if (strlen(name) > TOPO_NAME_MAX)
			return "expected a name of at most 31 characters";
		strcpy(r->prefix, name);
		r->lo = r->hi = 0;
		return NULL;
	}
	r->is_range = true;
	plen = (size_t)(open - name);
	s = open + 1;
	r->lo = small_number(&s);
	if (r->lo < 0 || strncmp(s, "..", 2))
		return "expected a range like h[1..8] (numbers up to 9999)";
	s += 2;
	r->hi = small_number(&s);
	close = s;
	if (r->hi < 0 || *close != ']')
		return "expected a range like h[1..8] (numbers up to 9999)";
	if (r->hi < r->lo)
		return "expected a range that goes up, like h[1..8]";
	if (r->hi - r->lo >= TOPO_MAX_NODES)
		return "expected a range of at most 256 names";
	if (plen > TOPO_NAME_MAX || strlen(close + 1) > TOPO_NAME_MAX || strchr(close + 1, '['))
		return "expected a name with one range, like h[1..8]";
	memcpy(r->prefix, name, plen);
	r->prefix[plen] = '\0';
	strcpy(r->suffix, close + 1);
	return NULL;
}

unsigned int tp_range_len(const struct tp_range *r)
{
	return r->is_range ? (unsigned int)(r->hi - r->lo + 1) : 1;
}

long tp_range_index(const struct tp_range *r, unsigned int k)
{
	return r->lo + (long)k;
}

bool tp_range_name(const struct tp_range *r, unsigned int k, char *buf, size_t size)
{
	int n;

	if (r->is_range)
		n = snprintf(buf, size, "%s%ld%s", r->prefix, tp_range_index(r, k), r->suffix);
	else
		n = snprintf(buf, size, "%s", r->prefix);
	return n >= 0 && (size_t)n < size;
}

void tp_range_each(struct tp *p, const char *section, const char *key, tnode *k, tnode *v,
		   tp_make_fn *make)
{
	char name[TOPO_NAME_MAX + 8];
	struct tp_range r;
	unsigned int i;
	bool more = true;

	if (!tv_check(p, k, tp_range_parse(key, &r), key))
		return;
	for (i = 0; more && i < tp_range_len(&r) && tp_range_name(&r, i, name, sizeof(name)); i++) {
		tp_path_set(p, "%s.%s", section, name);
		if (!tv_check(p, k, tv_name(name, NULL), name))
			break;
		p->in_range = r.is_range;
		p->index = tp_range_index(&r, i);
		more = make(p, name, k, v);
		p->in_range = false;
	}
	tp_path_set(p, "%s", section);
}

/*
 * A placeholder at S ("{i}", "{i+12}", "{i-1}")?  Its length, with the
 * offset in *OFF; 0 when S is any other brace.
 */
static size_t placeholder(const char *s, long *off)
{
	const char *q = s + 3;
	long sign, v;

	if (strncmp(s, "{i", 2))
		return 0;
	*off = 0;
	if (s[2] == '}')
		return 3;
	if (s[2] != '+' && s[2] != '-')
		return 0;
	sign = s[2] == '+' ? 1 : -1;
	v = small_number(&q);
	if (v < 0 || *q != '}')
		return 0;
	*off = sign * v;
	return (size_t)(q + 1 - s);
}

char *tp_subst(struct tp *p, const char *text, long index, const char **why)
{
	size_t len = strlen(text), out = 0, i, n;
	char *r = tp_alloc(p, len * 2 + 1);	/* "{i}" (3) becomes at most 5 digits */
	long off;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (text[i] == '{' && (i == 0 || text[i - 1] != '$') &&
		    (n = placeholder(text + i, &off)) > 0) {
			if (index + off < 0) {
				*why = "{i-N} would be below 0";
				return NULL;
			}
			out += (size_t)sprintf(r + out, "%ld", index + off);
			continue;
		}
		n = 1;
		r[out++] = text[i];
	}
	r[out] = '\0';
	return r;
}
