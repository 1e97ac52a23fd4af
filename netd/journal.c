/*
 * journal.c: the lab's journal of host changes (see journal.h).
 *
 * An entry is written with one write() of the whole line on an O_APPEND
 * descriptor, then fdatasync(): either the line is there whole, or (power
 * cut, not a crash of ours: the page cache survives those) it is cut short,
 * and a line without its newline is not read back.  The journal lives in
 * /run, a tmpfs, like everything it describes: after a reboot there is
 * nothing left to undo, and no journal either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

int journal_create(struct journal *j, const char *path)
{
	j->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	return j->fd < 0 ? -errno : 0;
}

int journal_open(struct journal *j, const char *path)
{
	j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	return j->fd < 0 ? -errno : 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static bool needs_escape(unsigned char c)
{
	return c <= ' ' || c == '%' || c == 0x7f;
}

/* Append WORD to LINE at *LEN, escaped; false if it does not fit. */
static bool put_word(char *line, size_t *len, const char *word)
{
	static const char hex[] = "0123456789abcdef";

	if (*len && *len + 1 < JOURNAL_MAX_LINE)
		line[(*len)++] = ' ';
	if (!*word) {		/* an empty word is written "%-" */
		if (*len + 1 >= JOURNAL_MAX_LINE)
			return false;
		line[(*len)++] = '%';
		line[(*len)++] = '-';
		return true;
	}
	for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
		if (*len + 4 >= JOURNAL_MAX_LINE)
			return false;
		if (needs_escape(*p)) {
			line[(*len)++] = '%';
			line[(*len)++] = hex[*p >> 4];
			line[(*len)++] = hex[*p & 15];
		} else {
			line[(*len)++] = (char)*p;
		}
	}
	return true;
}

int journal_add(struct journal *j, const char *kind, ...)
{
	char line[JOURNAL_MAX_LINE];
	size_t len = 0;
	const char *w;
	unsigned int n = 1;
	va_list ap;
	bool ok = put_word(line, &len, kind);

	va_start(ap, kind);
	while (ok && (w = va_arg(ap, const char *)) && n++ < JOURNAL_MAX_WORDS)
		ok = put_word(line, &len, w);
	va_end(ap);
	if (!ok || n > JOURNAL_MAX_WORDS)
		return -E2BIG;
	line[len++] = '\n';
	if (write(j->fd, line, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return fdatasync(j->fd) < 0 ? -errno : 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undo put_word in place; false for a malformed escape. */
static bool unescape(char *w)
{
	char *out = w;

	if (!strcmp(w, "%-")) {
		*w = '\0';
		return true;
	}
	for (char *p = w; *p; p++) {
		if (*p == '%') {
			int hi = unhex(p[1]), lo = hi < 0 ? -1 : unhex(p[2]);

			if (lo < 0)
				return false;
			*out++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*out++ = *p;
		}
	}
	*out = '\0';
	return true;
}

static int parse_line(char *line, struct journal_entry *e)
{
	char *save = NULL, *w;

	e->nwords = 0;
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (e->nwords == JOURNAL_MAX_WORDS || !unescape(w))
			return -EBADMSG;
		e->word[e->nwords] = strdup(w);
		if (!e->word[e->nwords])
			return -ENOMEM;
		e->nwords++;
	}
	return e->nwords ? 0 : -EBADMSG;
}

void journal_free(struct journal_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned int k = 0; k < entries[i].nwords; k++)
			free(entries[i].word[k]);
	free(entries);
}

int journal_read(const char *path, struct journal_entry **out, size_t *nout)
{
	FILE *f = fopen(path, "re");
	struct journal_entry *es = NULL;
	size_t n = 0, cap = 0;
	char line[JOURNAL_MAX_LINE + 2];
	int rc = 0;

	if (!f)
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (!len || line[len - 1] != '\n')
			break;		/* cut short: the last write never finished */
		line[len - 1] = '\0';
		if (n == cap) {
			struct journal_entry *bigger = realloc(es, (cap = cap ? cap * 2 : 32) * sizeof(*es));

			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			es = bigger;
		}
		rc = parse_line(line, &es[n]);
		if (!rc || es[n].nwords)
			n++;
	}
	fclose(f);
	if (rc) {
		journal_free(es, n);
		return rc;
	}
	*out = es;
	*nout = n;
	return 0;
}
