/*
 * topo.c: a topology file in, a checked struct topo out (topo.h says what
 * it holds; topo_parse.h how the parser's files share the work).
 *
 * topo_parse() runs the phases in a fixed order, whatever order the file
 * writes its keys in: lab: and dir:, defaults: and groups:, nodes:,
 * switches:, links:, tests:, then the checks that need the whole lab.  Each
 * phase reports what it finds and carries on, so the author sees every
 * mistake at once; a topology is returned only when there was none.
 *
 * Memory.  Everything in a struct topo, and everything the parse
 * allocates on the way, comes from one arena that belongs to the topology:
 * topo_free() frees it in one go, and a parse that fails frees it the same
 * way.  The arena is bounded (TP_MAX_MEMORY): a file that would need more is
 * an attack or a mistake, and tp_alloc() stops the parse there (tp_abort(),
 * a longjmp back to topo_parse()).  Between the setjmp and that longjmp only
 * the arena and the YAML document hold memory, and both are freed after.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "topo_parse.h"

#define CHUNK_SIZE (64u << 10)

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct tp_mem {
	struct chunk *chunks;
	size_t total;
};

/* The topology and its arena, freed together. */
struct topo_owned {
	struct topo t;
	struct tp_mem mem;
};

static struct topo_owned *owned(struct topo *t)
{
	return (struct topo_owned *)((char *)t - offsetof(struct topo_owned, t));
}

_Noreturn void tp_abort(struct tp *p, const tnode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p->pathlen = 0;
	p->path[0] = '\0';
	p->aborting = true;
	tp_verror(p, n ? ty_pos(n) : (struct topo_pos){ 0, 0 }, fmt, ap);
	va_end(ap);
	longjmp(p->abort, 1);
}

void *tp_alloc(struct tp *p, size_t size)
{
	struct tp_mem *m = p->mem;
	struct chunk *c = m->chunks;
	size_t need = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	void *r;

	if (!need)
		need = sizeof(max_align_t);
	if (!c || c->size - c->used < need) {
		size_t csize = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;

		if (csize > TP_MAX_MEMORY || m->total + csize > TP_MAX_MEMORY)
			tp_abort(p, p->last, "the topology would take more than %u MiB of memory "
				 "(YAML aliases?): not a real lab", TP_MAX_MEMORY >> 20);
		c = calloc(1, sizeof(*c) + csize);
		if (!c)
			tp_abort(p, p->last, "out of memory");
		c->size = csize;
		m->total += csize;
		/* A chunk of its own for a large block: keep filling the current one. */
		if (csize == need && m->chunks) {
			c->next = m->chunks->next;
			m->chunks->next = c;
		} else {
			c->next = m->chunks;
			m->chunks = c;
		}
	}
	r = (char *)c->data + c->used;
	c->used += need;
	return r;
}

char *tp_strdup(struct tp *p, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(tp_alloc(p, n), s, n);
}

char *tp_printf(struct tp *p, const char *fmt, ...)
{
	va_list ap;
	char *r;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	r = tp_alloc(p, (size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(r, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	return r;
}

char *tp_abspath(struct tp *p, const char *base, const char *path)
{
	if (path[0] == '/')
		return tp_strdup(p, path);
	return tp_printf(p, "%s/%s", base, path);
}

void topo_free(struct topo *t)
{
	struct chunk *c, *next;
	struct topo_owned *o;

	if (!t)
		return;
	o = owned(t);
	for (c = o->mem.chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(o);
}

/* ---- the top level ---- */

TP_KEEP(struct tp_top, lab)
TP_KEEP(struct tp_top, dir)
TP_KEEP(struct tp_top, defaults)
TP_KEEP(struct tp_top, groups)
TP_KEEP(struct tp_top, nodes)
TP_KEEP(struct tp_top, switches)
TP_KEEP(struct tp_top, links)
TP_KEEP(struct tp_top, tests)

static const struct tp_key top_keys[] = {
	{ "lab", keep_lab, 0, true },
	{ "dir", keep_dir, 0, false },
	{ "defaults", keep_defaults, 0, false },
	{ "groups", keep_groups, 0, false },
	{ "nodes", keep_nodes, 0, true },
	{ "switches", keep_switches, 0, false },
	{ "links", keep_links, 0, false },
	{ "tests", keep_tests, 0, false },
};

static void read_lab_and_dir(struct tp *p)
{
	const char *s;

	tp_path_set(p, "lab");
	if (p->top.lab) {
		s = tv_read(p, p->top.lab, tv_lab_name, NULL);
		if (s)
			strcpy(p->t->lab, s);
	}
	tp_path_set(p, "dir");
	s = p->top.dir ? ty_str(p, p->top.dir, "a directory") : NULL;
	if (s && (!*s || strlen(s) > TP_MAX_PATH))
		s = (tv_check(p, p->top.dir, "expected a directory", s), NULL);
	if (s)
		p->t->dir = tp_abspath(p, p->filedir, s);
	else
		p->t->dir = tp_printf(p, "%s/%s", p->filedir, p->t->lab);
	tp_path_set(p, "%s", "");
}

/* The file's absolute name and directory, even when it does not exist (a
 * text given to topo_parse() directly). */
static void locate(struct tp *p, const char *path)
{
	char *real = realpath(path, NULL), cwd[PATH_MAX], *slash;

	if (real) {
		p->t->file = tp_strdup(p, real);
		free(real);
	} else if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
		p->t->file = tp_strdup(p, path);
	} else {
		p->t->file = tp_printf(p, "%s/%s", cwd, path);
	}
	p->filedir = tp_strdup(p, p->t->file);
	slash = strrchr(p->filedir, '/');
	if (slash && slash != p->filedir)
		*slash = '\0';
	else
		strcpy(p->filedir, slash ? "/" : ".");
}

static void find_default_kernel(struct tp *p)
{
	const char *env = getenv("LGUEST_NET_KERNEL");
	struct utsname u;

	if (env && *env)
		p->default_kernel = tp_strdup(p, env);
	else if (!uname(&u))
		p->default_kernel = tp_printf(p, "/boot/vmlinuz-%s", u.release);
	else
		p->default_kernel = tp_strdup(p, "/boot/vmlinuz");
}

static void parse_phases(struct tp *p, const char *text, size_t len)
{
	locate(p, p->file);
	find_default_kernel(p);
	if (!ty_load(p, text, len))
		return;
	ty_read_map(p, ty_root(p), TP_KEYS(top_keys), 0, "the topology", &p->top);
	read_lab_and_dir(p);
	tp_read_defaults_and_groups(p);
	tp_read_nodes(p);
	tp_read_switches(p);
	tp_read_links(p);
	tp_read_tests(p);
	tp_check(p);
}

/* The phases, or as far as they got before tp_abort(). */
static void parse(struct tp *p, const char *text, size_t len)
{
	if (!setjmp(p->abort))
		parse_phases(p, text, len);
	ty_free(p);
}

struct topo *topo_parse(const char *path, const char *text, size_t len,
			struct topo_errors *errs)
{
	struct topo_owned *o = calloc(1, sizeof(*o));
	struct tp *p = calloc(1, sizeof(*p));
	struct topo *t = o ? &o->t : NULL;

	memset(errs, 0, sizeof(*errs));
	if (!o || !p) {
		free(o);
		free(p);
		snprintf(errs->e[0].file, sizeof(errs->e[0].file), "%s", path);
		snprintf(errs->e[0].msg, sizeof(errs->e[0].msg), "out of memory");
		errs->n = 1;
		return NULL;
	}
	p->t = t;
	p->mem = &o->mem;
	p->errs = errs;
	p->file = path;
	parse(p, text, len);
	free(p);
	tp_errors_sort(errs);
	if (errs->n || errs->more) {
		topo_free(t);
		return NULL;
	}
	return t;
}

static void file_error(struct topo_errors *errs, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void file_error(struct topo_errors *errs, const char *path, const char *fmt, ...)
{
	va_list ap;

	memset(errs, 0, sizeof(*errs));
	snprintf(errs->e[0].file, sizeof(errs->e[0].file), "%s", path);
	va_start(ap, fmt);
	vsnprintf(errs->e[0].msg, sizeof(errs->e[0].msg), fmt, ap);
	va_end(ap);
	errs->n = 1;
}

struct topo *topo_load(const char *path, struct topo_errors *errs)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct topo *t = NULL;
	struct stat st;
	char *text;
	ssize_t n;

	if (fd < 0) {
		file_error(errs, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		file_error(errs, path, "not a regular file");
	} else if (st.st_size > TP_MAX_FILE) {
		file_error(errs, path, "larger than 1 MiB (%lld bytes): not a topology",
			   (long long)st.st_size);
	} else if (!(text = malloc(TP_MAX_FILE + 1))) {
		file_error(errs, path, "out of memory");
	} else {
		n = read(fd, text, TP_MAX_FILE + 1);
		if (n < 0)
			file_error(errs, path, "cannot read: %s", strerror(errno));
		else
			t = topo_parse(path, text, (size_t)n, errs);
		free(text);
	}
	close(fd);
	return t;
}

/* ---- lookups ---- */

struct topo_node *topo_node(const struct topo *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->nnodes; i++)
		if (!strcmp(t->nodes[i].name, name))
			return &t->nodes[i];
	return NULL;
}

struct topo_switch *topo_switch(const struct topo *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->nswitches; i++)
		if (!strcmp(t->switches[i].name, name))
			return &t->switches[i];
	return NULL;
}

static bool end_is(const struct topo_end *e, const char *name)
{
	const char *colon = strrchr(name, ':');

	return e->kind == TOPO_END_NODE && colon && !strcmp(e->iface->name, colon + 1) &&
	       strlen(e->node->name) == (size_t)(colon - name) &&
	       !strncmp(e->node->name, name, (size_t)(colon - name));
}

struct topo_link *topo_link(const struct topo *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->nlinks; i++)
		if (!strcmp(t->links[i].name, name))
			return &t->links[i];
	for (i = 0; i < t->nlinks; i++)
		if (end_is(&t->links[i].ends[0], name) || end_is(&t->links[i].ends[1], name))
			return &t->links[i];
	return NULL;
}
