/*
 * topo_errors.c: what is wrong with a topology file, said so that its author
 * can find it and mend it.
 *
 * Every error carries the file, the line and column of the YAML node it is
 * about (libyaml counts from 0; people, and editors, from 1) and a message
 * that starts with the path to that node ("nodes.r1.memory: expected a size
 * like 128m, got 'lots'").  The whole file is checked before the parser
 * gives up, so one run shows every mistake, up to TOPO_MAX_ERRORS of them;
 * the rest are counted.
 *
 * One error per place: a range (h[1..8]) reads the same YAML once per node
 * it makes, and a mistake there is one mistake, told once.  Text quoted
 * from the file is cut short and escaped, because the file may be anything
 * (terminal escapes, NUL bytes, a megabyte on one line).
 */
#include <stdio.h>
#include <string.h>

#include "topo_parse.h"

static bool seen_here(const struct topo_errors *errs, struct topo_pos pos)
{
	unsigned int i;

	if (!pos.line)
		return false;
	for (i = 0; i < errs->n; i++)
		if (errs->e[i].line == pos.line && errs->e[i].col == pos.col)
			return true;
	return false;
}

void tp_verror(struct tp *p, struct topo_pos pos, const char *fmt, va_list ap)
{
	struct topo_errors *errs = p->errs;
	struct topo_error *e;
	size_t n = 0;

	p->nerrors++;
	if (p->aborting && errs->n == TOPO_MAX_ERRORS) {
		errs->n--;	/* why the parse stopped matters more than one more error */
		errs->more++;
	}
	if (seen_here(errs, pos) && !p->aborting)
		return;
	if (errs->n == TOPO_MAX_ERRORS) {
		errs->more++;
		return;
	}
	e = &errs->e[errs->n++];
	snprintf(e->file, sizeof(e->file), "%s", p->file);
	e->line = pos.line;
	e->col = pos.col;
	if (p->pathlen)
		n = (size_t)snprintf(e->msg, sizeof(e->msg), "%s: ", p->path);
	if (n < sizeof(e->msg))
		vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
}

void tp_error_pos(struct tp *p, struct topo_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_verror(p, pos, fmt, ap);
	va_end(ap);
}

void tp_error(struct tp *p, const tnode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_verror(p, n ? ty_pos(n) : (struct topo_pos){ 0, 0 }, fmt, ap);
	va_end(ap);
}

const char *tp_quote(const char *text, char buf[64])
{
	size_t n = 0;
	const unsigned char *s = (const unsigned char *)text;

	buf[n++] = '\'';
	for (; *s && n < 52; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\') {
			buf[n++] = (char)*s;
		} else if (*s >= 0x80) {
			buf[n++] = (char)*s;	/* UTF-8: libyaml checked it */
		} else {
			n += (size_t)snprintf(buf + n, 64 - n, "\\x%02x", *s);
		}
	}
	/* Never end inside a UTF-8 sequence. */
	if (*s)
		while (n > 1 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
			n--;
	if (*s && n > 1 && ((unsigned char)buf[n - 1] & 0xc0) == 0xc0)
		n--;
	buf[n++] = '\'';
	if (*s) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

void tp_path_set(struct tp *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->path, sizeof(p->path), fmt, ap);
	va_end(ap);
	p->pathlen = n < 0 ? 0 : (size_t)n < sizeof(p->path) ? (size_t)n : sizeof(p->path) - 1;
	p->path[p->pathlen] = '\0';
	p->rootlen = p->pathlen;
}

/*
 * A mapping's keys join with dots ("nodes.r1.memory"); an item of a list is
 * a root of its own ("link 3"), and its keys follow a colon ("link 3:
 * impair.delay").
 */
size_t tp_path_push(struct tp *p, const char *key)
{
	size_t old = p->pathlen;
	const char *sep = !old ? "" : old == p->rootlen && strchr(p->path, ' ') ? ": " : ".";
	char q[64];
	int n;

	/* Keys are the file's text too: quote them when they are odd. */
	if (strlen(key) > 40 || strpbrk(key, "\\'\n\t\r\x1b"))
		key = tp_quote(key, q);
	n = snprintf(p->path + old, sizeof(p->path) - old, "%s%s", sep, key);
	if (n > 0)
		p->pathlen = old + (size_t)n < sizeof(p->path) ? old + (size_t)n : sizeof(p->path) - 1;
	return old;
}

void tp_path_pop(struct tp *p, size_t len)
{
	p->pathlen = len;
	p->path[len] = '\0';
}

/* In the file's order (whole-file errors first), as a compiler lists them. */
void tp_errors_sort(struct topo_errors *errs)
{
	struct topo_error e;
	unsigned int i, j;

	for (i = 1; i < errs->n; i++) {
		e = errs->e[i];
		for (j = i; j > 0 && (errs->e[j - 1].line > e.line ||
				      (errs->e[j - 1].line == e.line && errs->e[j - 1].col > e.col));
		     j--)
			errs->e[j] = errs->e[j - 1];
		errs->e[j] = e;
	}
}

void topo_errors_print(const struct topo_errors *errs, FILE *f)
{
	unsigned int i;

	for (i = 0; i < errs->n; i++) {
		const struct topo_error *e = &errs->e[i];

		if (e->line)
			fprintf(f, "%s:%u:%u: %s\n", e->file, e->line, e->col, e->msg);
		else
			fprintf(f, "%s: %s\n", e->file, e->msg);
	}
	if (errs->more)
		fprintf(f, "... and %u more\n", errs->more);
}
