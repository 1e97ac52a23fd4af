/*
 * image.c: the guests' images.
 *
 * A node boots from two initramfs archives, one after the other (the kernel
 * unpacks each on top of the last, so the second adds to the first):
 *
 *   the base   made by lguest-initramfs for the node's kernel: busybox, bash,
 *              the guest drivers, the agent, ip/nft/tcpdump, and every
 *              program and module any node with that kernel asked for.  It
 *              is the same for every such node, takes seconds to make, and
 *              is kept in the cache (--cache-dir, CACHE/images) under a name
 *              made from everything that went into it, so the next `up`
 *              finds it.  It is a plain cpio archive: the guest need not
 *              inflate it (seconds, under emulation).
 *   the node's a small uncompressed cpio archive, written here: the node's
 *              configuration script (/etc/rc.d/20-lab: name, interfaces,
 *              MACs, MTUs, addresses, routes, forwarding, then the startup
 *              script), its startup script and its files.
 *
 * The configuration script is shell, made from the topology: every value in
 * it is quoted (quote()), whatever the topology file held.  It runs after
 * the agent has started (00-lguest-agent), so a node whose startup hangs can still
 * be reached with `lguest-net exec`, and it writes /run/lab/startup.done
 * with the startup script's exit status when it is done: node.c waits for
 * that file, then for the node's ready: probe.
 *
 * Guest interfaces: the launcher is given one --sharenet per interface in
 * the topology's order, so the kernel names them eth0, eth1...; the script
 * renames them (through temporary names, so eth1 may become eth0) to what
 * the topology calls them, and sets their MACs before they go up, so no
 * frame ever leaves with another address.  An interface with no IPv6
 * address has IPv6 off: captures then hold what the lab sends, without
 * router solicitations and MLD reports.
 *
 * A node's shell is bash (in the image, and lguest.shell=bash for its
 * console): the startup script, ready: probes and exec: tests run in it.
 * Busybox's sh would run its own applets before the image's programs of
 * the same name, so "ip -br link" would be busybox's ip, not iproute2's.
 * /etc/profile gives the console a prompt with the node's name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bprintf.h"
#include "argv.h"
#include "netd.h"

#define PROFILE "PS1='\\h:\\w\\$ '\nexport PS1\n"

/* --- a cpio archive (the "newc" format the kernel unpacks) ---------------- */
struct cpio {
	FILE *f;
	unsigned int ino;
	bool failed;
};

static void cpio_pad(struct cpio *c)
{
	long pos = ftell(c->f);

	while (pos > 0 && pos % 4) {
		fputc(0, c->f);
		pos++;
	}
}

static void cpio_entry(struct cpio *c, const char *name, unsigned int mode,
		       const void *data, size_t size)
{
	size_t namesize = strlen(name) + 1;

	if (fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		    ++c->ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0) < 0)
		c->failed = true;
	fwrite(name, 1, namesize, c->f);
	cpio_pad(c);
	if (size && fwrite(data, 1, size, c->f) != size)
		c->failed = true;
	cpio_pad(c);
}

/* Directories for every parent of PATH (the kernel makes none by itself). */
static void cpio_parents(struct cpio *c, const char *path)
{
	char dir[PATH_MAX];

	for (const char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		bprintf(dir, sizeof(dir), "%.*s", (int)(s - path - 1), path + 1);
		cpio_entry(c, dir, S_IFDIR | 0755, NULL, 0);
	}
}

static void cpio_file(struct cpio *c, const char *path, unsigned int mode,
		      const void *data, size_t size)
{
	cpio_parents(c, path);
	cpio_entry(c, path + 1, S_IFREG | (mode & 07777), data, size);
}

/* --- the configuration script ------------------------------------------------ */
struct text {
	char *s;
	bool failed;		/* memory ran out: the script is not whole */
};

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!vastrcatf(&t->s, fmt, ap))
		t->failed = true;
	va_end(ap);
}

/* S as one shell word: in single quotes, each ' as '\''. */
static const char *quote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	buf[n++] = '\'';
	for (; *s && n + 5 < size; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

static bool has_v6(const struct topo_iface *i)
{
	for (unsigned int k = 0; k < i->naddrs; k++)
		if (i->addrs[k].family == AF_INET6)
			return true;
	return false;
}

static void script_interfaces(struct text *t, const struct topo_node *n)
{
	char q[2][64];

	say(t, "# interfaces: the kernel named them eth0... in the topology's order\n");
	for (unsigned int k = 0; k < n->nifaces; k++)
		say(t, "ip link set dev eth%u name lgtmp%u\n", k, k);
	for (unsigned int k = 0; k < n->nifaces; k++) {
		const struct topo_iface *i = &n->ifaces[k];
		const uint8_t *m = i->mac;

		quote(i->name, q[0], sizeof(q[0]));
		say(t, "ip link set dev lgtmp%u name %s\n", k, q[0]);
		say(t, "ip link set dev %s address %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", q[0],
		    m[0], m[1], m[2], m[3], m[4], m[5], i->mtu ? i->mtu : 1500);
		say(t, "echo %d > /proc/sys/net/ipv6/conf/%s/disable_ipv6\n", has_v6(i) ? 0 : 1,
		    q[0]);
		for (unsigned int a = 0; a < i->naddrs; a++)
			say(t, "ip addr add %s dev %s%s\n", quote(i->addrs[a].text, q[1], sizeof(q[1])),
			    q[0], i->addrs[a].family == AF_INET6 ? " nodad" : "");
		say(t, "ip link set dev %s up\n", q[0]);
	}
}

static void script_routes(struct text *t, const struct topo_node *n)
{
	char q[3][64];

	for (unsigned int k = 0; k < n->nroutes; k++) {
		const struct topo_route *r = &n->routes[k];

		say(t, "ip %s route add %s", r->dst.family == AF_INET6 ? "-6" : "-4",
		    quote(r->dst.text, q[0], sizeof(q[0])));
		if (r->via.family) {
			/* the gateway without its /prefix */
			char gw[64];

			snprintf(gw, sizeof(gw), "%s", r->via.text);
			if (strchr(gw, '/'))
				*strchr(gw, '/') = '\0';
			say(t, " via %s", quote(gw, q[1], sizeof(q[1])));
		}
		if (r->dev[0])
			say(t, " dev %s", quote(r->dev, q[2], sizeof(q[2])));
		say(t, " || echo 'lab: route %d failed' >&2\n", (int)k + 1);
	}
}

static char *config_script(const struct topo *topo, const struct topo_node *n)
{
	struct text t = { 0 };
	char q[2][128];

	say(&t, "#!/bin/sh\n# Node %s of lab %s, as its topology says (written by lguest-netd).\n",
	    n->name, topo->lab);
	say(&t, "mkdir -p /run/lab\nhostname %s\necho %s > /etc/hostname\n",
	    quote(n->name, q[0], sizeof(q[0])), q[0]);
	say(&t, "ip link set lo up\n");
	script_interfaces(&t, n);
	script_routes(&t, n);
	say(&t, "echo %d > /proc/sys/net/ipv4/ip_forward\n", n->forward ? 1 : 0);
	if (n->forward6)
		say(&t, "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding\n");
	say(&t, "echo configured > /run/lab/state\n");
	if (n->startup)
		say(&t, "bash /etc/lab/startup\necho $? > /run/lab/startup.done\n");
	else
		say(&t, "echo 0 > /run/lab/startup.done\n");
	(void)q[1];
	if (t.failed) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* --- the node's archive ------------------------------------------------------- */
static int read_file(const char *path, char **data, size_t *size)
{
	FILE *f = fopen(path, "re");
	long len;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(*data = malloc((size_t)len + 1)) || fread(*data, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*size = (size_t)len;
	return 0;
}

static int add_user_files(struct cpio *c, const struct topo_node *n, char *err, size_t errlen)
{
	for (unsigned int k = 0; k < n->nfiles; k++) {
		const struct topo_file *tf = &n->files[k];
		char *data = NULL;
		size_t size = 0;
		int rc;

		if (tf->content) {
			cpio_file(c, tf->guest_path, tf->mode, tf->content, strlen(tf->content));
			continue;
		}
		rc = read_file(tf->host_path, &data, &size);
		if (rc) {
			snprintf(err, errlen, "node %s: file %s: %s", n->name, tf->host_path,
				 strerror(-rc));
			return -1;
		}
		cpio_file(c, tf->guest_path, tf->mode, data, size);
		free(data);
	}
	return 0;
}

int image_node(struct lab *lab, struct node *n, char *err, size_t errlen)
{
	char path[PATH_MAX], *script;
	struct cpio c = { 0 };

	bprintf(path, sizeof(path), "%s/image/%s.cpio", lab->plan->run, n->t->name);
	script = config_script(lab->topo, n->t);
	c.f = fopen(path, "wxe");
	if (!script || !c.f) {
		snprintf(err, errlen, "node %s: writing its image %s: %s", n->t->name, path,
			 script ? strerror(errno) : "out of memory");
		free(script);
		if (c.f)
			fclose(c.f);
		return -1;
	}
	cpio_file(&c, "/etc/rc.d/20-lab", 0755, script, strlen(script));
	cpio_file(&c, "/etc/profile", 0644, PROFILE, strlen(PROFILE));
	free(script);
	if (n->t->startup)
		cpio_file(&c, "/etc/lab/startup", 0755, n->t->startup, strlen(n->t->startup));
	if (add_user_files(&c, n->t, err, errlen)) {
		fclose(c.f);
		return -1;
	}
	cpio_entry(&c, "TRAILER!!!", 0, NULL, 0);
	if (fclose(c.f) || c.failed) {
		snprintf(err, errlen, "node %s: writing %s failed", n->t->name, path);
		return -1;
	}
	free(n->initrd);
	n->initrd = strdup(path);
	return n->initrd ? 0 : -1;
}

/* --- the base images ------------------------------------------------------------- */

/*
 * The cache's keys: FNV-1a over everything that goes into an entry (texts,
 * and files by their path, time and size).  Start from CACHE_HASH_START.
 */
void cache_hash_str(uint64_t *h, const char *s)
{
	for (; *s; s++)
		*h = (*h ^ (unsigned char)*s) * 0x100000001b3ull;
	*h = (*h ^ 0xff) * 0x100000001b3ull;
}

void cache_hash_file(uint64_t *h, const char *path)
{
	struct stat st;
	char buf[64];

	cache_hash_str(h, path);
	if (stat(path, &st) == 0) {
		snprintf(buf, sizeof(buf), "%lld.%ld/%lld", (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec, (long long)st.st_size);
		cache_hash_str(h, buf);
	}
}

/* One more argument for lguest-initramfs, which goes into the cache key too. */
static void arg(struct argv *a, uint64_t *hash, const char *s)
{
	argv_add(a, "%s", s);
	cache_hash_str(hash, s);
}

/*
 * lguest-initramfs's arguments for the base image of the nodes with KERNEL,
 * and the cache key: the arguments, and the size and time of every file
 * that goes in (the tool, the agent, the guest drivers, the kernel, the
 * programs).  The output path (-o) is added by the caller, from the key.
 */
static void base_args(struct lab *lab, const char *kernel, struct argv *a, uint64_t *hash)
{
	const struct topo *t = lab->topo;
	const struct programs *pr = &lab->d->prog;
	char path[PATH_MAX];
	static const char *const drivers[] = { "lguest_bus.ko", "lguest_net.ko",
					       "lguest_blk.ko", "lguest_chan.ko" };

	*hash = CACHE_HASH_START;
	arg(a, hash, pr->initramfs);
	cache_hash_file(hash, pr->initramfs);
	cache_hash_file(hash, pr->init);
	cache_hash_file(hash, pr->agent);
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		bprintf(path, sizeof(path), "%s/%s", pr->drivers, drivers[i]);
		cache_hash_file(hash, path);
	}
	cache_hash_file(hash, kernel);
	arg(a, hash, "--kernel");
	arg(a, hash, kernel);
	arg(a, hash, "--net-tools");
	arg(a, hash, "--binary");	/* the nodes' shell: see the story above */
	arg(a, hash, "bash");
	arg(a, hash, "--agent");
	arg(a, hash, "--no-compress");
	for (unsigned int i = 0; i < t->nnodes; i++) {
		if (strcmp(t->nodes[i].kernel, kernel))
			continue;
		for (unsigned int k = 0; k < t->nodes[i].nprograms; k++) {
			arg(a, hash, "--binary");
			arg(a, hash, t->nodes[i].programs[k]);	/* absolute: the parser found it */
			cache_hash_file(hash, t->nodes[i].programs[k]);
		}
		for (unsigned int k = 0; k < t->nodes[i].nmodules; k++) {
			arg(a, hash, "--module");
			arg(a, hash, t->nodes[i].modules[k]);
		}
	}
}

/*
 * A name to make PATH under, then rename() into place: one of its own for
 * each maker, so that two labs making the same image at once (same name)
 * never write into one file; the last rename wins, with a whole file.
 */
void cache_tmp(const char *path, char *tmp, size_t size)
{
	static unsigned int seq;

	bprintf(tmp, size, "%s.%d-%u.tmp", path, (int)getpid(), ++seq);
}

static void base_built(struct proc *p)
{
	struct base *b = (struct base *)((char *)p - offsetof(struct base, proc));
	char why[64];
	const char *tmp = b->tmp;

	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0 && rename(tmp, b->path) == 0) {
		b->state = BASE_READY;
	} else {
		unlink(tmp);
		b->state = BASE_FAILED;
		bprintf(b->why, sizeof(b->why), "lguest-initramfs for %s: %s (its messages are in %s)",
			 b->kernel, proc_describe(p->status, why, sizeof(why)), b->log);
	}
	lab_poke(b->lab);
}

static int base_start(struct lab *lab, struct base *b, char *err, size_t errlen)
{
	struct argv a = { 0 };
	uint64_t hash;
	struct proc_spec spec = { .in = -1, .out = -1 };
	int log;

	base_args(lab, b->kernel, &a, &hash);
	bprintf(b->path, sizeof(b->path), "%s/images/base-%016llx.cpio", lab->d->cache,
		 (unsigned long long)hash);
	bprintf(b->log, sizeof(b->log), "%s/image-%016llx.log", lab->topo->dir,
		 (unsigned long long)hash);
	if (access(b->path, R_OK) == 0) {
		b->state = BASE_READY;
		argv_free(&a);
		return 0;
	}
	cache_tmp(b->path, b->tmp, sizeof(b->tmp));
	argv_add(&a, "-o");
	argv_add(&a, "%s", b->tmp);
	log = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (a.failed || log < 0) {
		snprintf(err, errlen, "making the image for %s: %s", b->kernel,
			 a.failed ? "out of memory" : strerror(errno));
		argv_free(&a);
		return -1;
	}
	spec.argv = a.v;
	spec.out = spec.err = log;
	b->lab = lab;
	b->proc.role = "image";
	snprintf(b->proc.name, sizeof(b->proc.name), "base-%016llx", (unsigned long long)hash);
	b->proc.on_exit = base_built;
	b->state = BASE_BUILDING;
	if (proc_start(&lab->d->loop, NULL, &b->proc, &spec, err, errlen) < 0)
		b->state = BASE_FAILED;
	close(log);
	argv_free(&a);
	return b->state == BASE_FAILED ? -1 : 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* The cache's directory SUB (images, kernels), made if need be, into DIR: 0 or -1. */
int cache_subdir(const struct lab *lab, const char *sub, char *dir, size_t size)
{
	if (!bprintf(dir, size, "%s/%s", lab->d->cache, sub)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdir_p(dir, 0755);
}

/* Start making a base image for each kernel the lab's nodes boot. */
int image_prepare(struct lab *lab, char *err, size_t errlen)
{
	const struct topo *t = lab->topo;

	char dir[PATH_MAX];

	if (cache_subdir(lab, "images", dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	lab->bases = calloc(t->nnodes ? t->nnodes : 1, sizeof(*lab->bases));
	if (!lab->bases)
		return -1;
	for (unsigned int i = 0; i < t->nnodes; i++) {
		unsigned int k;

		for (k = 0; k < lab->nbases; k++)
			if (!strcmp(lab->bases[k].kernel, t->nodes[i].kernel))
				break;
		if (k < lab->nbases)
			continue;
		lab->bases[k].kernel = t->nodes[i].kernel;
		lab->nbases++;
		kernel_prepare(lab, &lab->bases[k]);
		if (base_start(lab, &lab->bases[k], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Are the base images made?  1 yes, 0 not yet, -1 one failed (ERR says). */
int image_bases_done(struct lab *lab, char *err, size_t errlen)
{
	int done = 1;

	for (unsigned int k = 0; k < lab->nbases; k++) {
		if (lab->bases[k].state == BASE_FAILED) {
			snprintf(err, errlen, "%s", lab->bases[k].why);
			return -1;
		}
		if (lab->bases[k].state != BASE_READY || lab->bases[k].kstate != BASE_READY)
			done = 0;
	}
	return done;
}

const char *image_base_of(const struct lab *lab, const struct topo_node *n)
{
	for (unsigned int k = 0; k < lab->nbases; k++)
		if (!strcmp(lab->bases[k].kernel, n->kernel))
			return lab->bases[k].path;
	return NULL;
}

void image_stop(struct lab *lab)
{
	for (unsigned int k = 0; k < lab->nbases; k++) {
		struct proc *jobs[] = { &lab->bases[k].proc, &lab->bases[k].kproc };

		for (size_t j = 0; j < 2; j++)
			proc_abandon(&lab->d->loop, jobs[j]);
		if (lab->bases[k].state == BASE_BUILDING)	/* what it left half made */
			unlink(lab->bases[k].tmp);
		if (lab->bases[k].kstate == BASE_BUILDING)
			unlink(lab->bases[k].ktmp);
	}
	loop_defer_free(&lab->d->loop, lab->bases, free);	/* holds watches */
	lab->bases = NULL;
	lab->nbases = 0;
}
