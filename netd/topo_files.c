/*
 * topo_files.c: what a node takes from the host: its kernel, its disks,
 * and the files, programs and kernel modules put into its image.
 *
 * A host path in a topology is relative to the topology file's directory,
 * so a lab directory can be moved whole.  Each one is checked now, with
 * stat() and access(): a lab that would fail at "up" because of a typo in
 * a file name fails at "validate" instead, at the line of the typo.  (The
 * file can of course change between the two; "up" still copes.)
 *
 *   kernel: bzImage                       a readable regular file
 *   disks: [root.img]                     files or block devices: /dev/lgba...
 *   files:
 *     /etc/motd: motd.txt                 a host file or directory (cp -a)
 *     /etc/hosts: {content: "..."}        inline text, mode 0644 by default
 *     /bin/probe: {source: probe.sh, mode: 0755}
 *   programs: [tcpdump, ./tools/gen]      with their libraries: a bare name
 *                                         is looked up like lguest-initramfs
 *                                         does (PATH, then /sbin, /usr/sbin)
 *   modules: [8021q]                      loaded at boot, from the guest kernel's
 *
 * Whether a module exists depends on the guest's kernel and is checked
 * when the image is made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo_parse.h"

#define TP_MAX_LIST 256
#define PROGRAM_PATH_EXTRA ":/sbin:/usr/sbin"

const char *tf_check_host_file(const char *path, unsigned int how)
{
	static char why[128];
	struct stat st;

	if (stat(path, &st)) {
		snprintf(why, sizeof(why), "cannot be read (%s)", strerror(errno));
		return why;
	}
	if (S_ISDIR(st.st_mode) && !(how & TF_DIR))
		return "is a directory";
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !(S_ISBLK(st.st_mode) && (how & TF_BLOCK)))
		return "is not a regular file";
	if ((how & TF_EXEC) && (!S_ISREG(st.st_mode) || access(path, X_OK)))
		return "is not an executable file";
	if (access(path, R_OK)) {
		snprintf(why, sizeof(why), "cannot be read (%s)", strerror(errno));
		return why;
	}
	return NULL;
}

char *tf_read_host_path(struct tp *p, tnode *n, const char *base, unsigned int how)
{
	const char *s = ty_str(p, n, "a file name"), *why;
	char *path, q[64];

	if (!s)
		return NULL;
	if (!*s || strlen(s) > TP_MAX_PATH)
		return tv_check(p, n, "expected a file name", s), NULL;
	path = tp_abspath(p, base, s);
	why = tf_check_host_file(path, how);
	if (why) {
		tp_error(p, n, "%s %s", tp_quote(s, q), why);
		return NULL;
	}
	return path;
}

void tf_read_kernel(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	l->n.kernel = tf_read_host_path(p, v, p->filedir, 0);
	if (l->n.kernel)
		l->set |= TL_KERNEL;
}

static void read_disk(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct topo_node *n = obj;
	char *path = tf_read_host_path(p, item, p->filedir, TF_BLOCK);

	(void)i;
	if (path)
		n->disks[n->ndisks++] = path;
}

void tf_read_disks(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (ty_len(v) > TOPO_MAX_DEVICES) {
		tp_error(p, v, "more than %u disks", TOPO_MAX_DEVICES);
		return;
	}
	l->n.disks = tp_alloc(p, (ty_len(v) + 1) * sizeof(*l->n.disks));
	ty_each_item(p, v, true, "disk files", read_disk, &l->n);
}

/* ---- files ---- */

struct file_read {
	struct topo_file *f;
	tnode *mode;		/* where mode: was given */
	bool has_source;
};

static void read_file_content(struct tp *p, tnode *v, void *obj)
{
	struct file_read *r = obj;

	r->f->content = tv_read_text(p, v, TP_MAX_STRING);
}

static void read_file_source(struct tp *p, tnode *v, void *obj)
{
	struct file_read *r = obj;

	r->has_source = true;
	r->f->host_path = tf_read_host_path(p, v, p->filedir, TF_DIR);
}

static void read_file_mode(struct tp *p, tnode *v, void *obj)
{
	struct file_read *r = obj;

	if (tv_read(p, v, tv_mode, &r->f->mode))
		r->mode = v;
}

static const struct tp_key file_keys[] = {
	{ "content", read_file_content, 0, false },
	{ "source", read_file_source, 0, false },
	{ "mode", read_file_mode, 0, false },
};

/* An absolute path in the guest, without "." or ".." in it. */
static const char *guest_path_ok(const char *s)
{
	const char *c;

	for (c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "expected a guest file name without control characters";
	if (s[0] != '/' || !s[1] || strlen(s) > TP_MAX_PATH || s[strlen(s) - 1] == '/')
		return "expected an absolute file name in the guest, like /etc/motd";
	for (c = s; c; c = strchr(c + 1, '/'))
		if (!strncmp(c, "/./", 3) || !strncmp(c, "/../", 4) || !strcmp(c, "/.") ||
		    !strcmp(c, "/..") || !strncmp(c, "//", 2))
			return "expected a guest file name without '.', '..' or '//' in it";
	return NULL;
}

/* The mode a file gets when none is given: its host file's, or 0644. */
static void default_mode(struct topo_file *f)
{
	struct stat st;

	f->mode = 0644;
	if (f->host_path && !stat(f->host_path, &st))
		f->mode = st.st_mode & 07777;
}

static void read_file(struct tp *p, const char *guest, tnode *k, tnode *v, void *obj)
{
	struct tp_level *l = obj;
	struct topo_file *f = &l->n.files[l->n.nfiles];
	struct file_read r = { .f = f };
	unsigned int i;
	char q[64];

	if (!tv_check(p, k, guest_path_ok(guest), guest))
		return;
	for (i = 0; i < l->n.nfiles; i++) {
		if (!strcmp(l->n.files[i].guest_path, guest)) {
			tp_error(p, k, "file %s is given twice", tp_quote(guest, q));
			return;
		}
	}
	memset(f, 0, sizeof(*f));
	f->pos = ty_pos(k);
	f->guest_path = tp_strdup(p, guest);
	if (!ty_map(v)) {
		f->host_path = tf_read_host_path(p, v, p->filedir, TF_DIR);
	} else {
		unsigned long errors = p->nerrors;

		ty_read_map(p, v, TP_KEYS(file_keys), 0, "a file", &r);
		if (p->nerrors == errors && !f->content == !r.has_source)
			tp_error(p, v, "a file needs one of content: (its text) or source: "
				 "(a host file)");
	}
	if (!f->content && !f->host_path)
		return;
	if (!r.mode)
		default_mode(f);
	else if (f->host_path && tf_check_host_file(f->host_path, 0))
		tp_error(p, r.mode, "mode: is for a file, and the source is a directory");
	l->n.nfiles++;
}

void tf_read_files(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (ty_len(v) > TP_MAX_LIST) {
		tp_error(p, v, "more than %u files", TP_MAX_LIST);
		return;
	}
	l->n.files = tp_alloc(p, (ty_len(v) + 1) * sizeof(*l->n.files));
	ty_each_pair(p, v, "files", read_file, l);
}

/* ---- programs and modules ---- */

/* NAME in $PATH, /sbin or /usr/sbin (as lguest-initramfs looks), or NULL. */
static char *find_program(struct tp *p, const char *name)
{
	const char *env = getenv("PATH");
	char path[TP_MAX_PATH + 1], full[TP_MAX_PATH + 1];
	char *dir, *save = NULL;
	int n;

	snprintf(path, sizeof(path), "%s%s", env && *env ? env : "/usr/bin:/bin",
		 PROGRAM_PATH_EXTRA);
	for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (dir[0] != '/')
			continue;	/* never the current directory */
		n = snprintf(full, sizeof(full), "%s/%s", dir, name);
		if (n > 0 && (size_t)n < sizeof(full) && !tf_check_host_file(full, TF_EXEC))
			return tp_strdup(p, full);
	}
	return NULL;
}

static void read_program(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct topo_node *n = obj;
	const char *s = ty_str(p, item, "a program's name or path");
	char *path;
	char q[64];

	(void)i;
	if (!s)
		return;
	if (strchr(s, '/')) {
		path = tf_read_host_path(p, item, p->filedir, TF_EXEC);
	} else if (!*s || strlen(s) > 255 || !strcmp(s, ".") || !strcmp(s, "..")) {
		tv_check(p, item, "expected a program's name or path", s);
		return;
	} else {
		path = find_program(p, s);
		if (!path)
			tp_error(p, item, "program %s is not on this host (looked in PATH, /sbin "
				 "and /usr/sbin)", tp_quote(s, q));
	}
	if (path)
		n->programs[n->nprograms++] = path;
}

void tf_read_programs(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (ty_len(v) > TP_MAX_LIST) {
		tp_error(p, v, "more than %u programs", TP_MAX_LIST);
		return;
	}
	l->n.programs = tp_alloc(p, (ty_len(v) + 1) * sizeof(*l->n.programs));
	ty_each_item(p, v, true, "programs", read_program, &l->n);
}

static void read_module(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct topo_node *n = obj;
	const char *s = tv_read(p, item, tv_module, NULL);

	(void)i;
	if (s)
		n->modules[n->nmodules++] = tp_strdup(p, s);
}

void tf_read_modules(struct tp *p, tnode *v, void *obj)
{
	struct tp_level *l = obj;

	if (ty_len(v) > TP_MAX_LIST) {
		tp_error(p, v, "more than %u modules", TP_MAX_LIST);
		return;
	}
	l->n.modules = tp_alloc(p, (ty_len(v) + 1) * sizeof(*l->n.modules));
	ty_each_item(p, v, true, "kernel modules", read_module, &l->n);
}
