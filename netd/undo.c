/*
 * undo.c: taking back what a lab's journal says was made, newest first.
 *
 * Each kind of entry has its undo, in a table.  Every undo looks before it
 * acts: a process is killed only if the pid still names the process that
 * was started (same start time); a link or table is removed only if it
 * still carries the lab's mark (a tap made just before a crash, before its
 * mark, is recognised as a tap with no alias at all); a sysctl is restored
 * only if no other lab still needs it; a thing already gone is fine.  An
 * undo that fails is reported and the others still run, so one stubborn
 * entry never leaves the rest behind.  The run directory goes last, with
 * the journal in it, and only when every undo worked: a lab is gone when
 * its journal is, and one that could not be undone whole stays listed (as
 * orphaned) for `down` to try again; every undo can be done twice.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"
#include "netlink.h"
#include "nft.h"
#include "sysctl.h"

#define KILL_WAIT_MS 3000

struct undo {
	struct netd *d;
	const char *lab;
	char mark[64];
	struct nl nl;
	bool nl_open;
	char err[ERR_MAX];	/* the first failure */
};

static void failed(struct undo *u, const char *what)
{
	if (!u->err[0])
		snprintf(u->err, sizeof(u->err), "%s", what);
}

static void undo_proc(struct undo *u, const struct journal_entry *e)
{
	pid_t pid = (pid_t)atoi(e->word[1]);
	unsigned long long start = strtoull(e->word[2], NULL, 10);
	struct timespec nap = { 0, 20 * 1000000 };

	if (!proc_same(pid, start))
		return;
	kill(pid, SIGKILL);
	for (int i = 0; i < KILL_WAIT_MS / 20 && proc_same(pid, start); i++) {
		waitpid(pid, NULL, WNOHANG);	/* ours, if this daemon started it */
		nanosleep(&nap, NULL);
	}
	if (proc_same(pid, start)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%s %s (pid %d) survives SIGKILL", e->word[3], e->word[4], pid);
		failed(u, msg);
	}
}

static bool open_nl(struct undo *u)
{
	char err[ERR_MAX];

	if (!u->nl_open && nl_open(&u->nl, err, sizeof(err)) == 0)
		u->nl_open = true;
	if (!u->nl_open)
		failed(u, err);
	return u->nl_open;
}

static void undo_link(struct undo *u, const struct journal_entry *e)
{
	struct nl_link link;
	char err[ERR_MAX];
	int rc;

	if (!open_nl(u) || nl_link_get(&u->nl, e->word[1], &link, err, sizeof(err)) < 0)
		return;		/* gone already */
	if (host_journal_find(u->d, u->lab, "link", e->word[1], NULL, 0))
		return;		/* another lab needs it too (ovs-netdev): the last one removes it */
	/* Ours: it has our mark, or it is a tap with no alias (made, not yet marked). */
	if (!strcmp(link.alias, u->mark) || (!link.alias[0] && !strcmp(link.kind, "tun")))
		rc = nl_link_delete(&u->nl, e->word[1], link.alias[0] ? u->mark : NULL, err, sizeof(err));
	else
		rc = 0;		/* someone else's now: left alone */
	if (rc < 0)
		failed(u, err);
}

static void undo_addr(struct undo *u, const struct journal_entry *e)
{
	struct topo_addr a;
	struct nl_ip ip;
	char err[ERR_MAX];
	struct nl_link link;

	if (!open_nl(u) || topo_addr_parse(e->word[2], &a) ||
	    nl_link_get(&u->nl, e->word[1], &link, err, sizeof(err)) < 0 || strcmp(link.alias, u->mark))
		return;		/* the tap went, and its addresses with it */
	ip.family = a.family;
	memcpy(ip.bytes, a.bytes, sizeof(ip.bytes));
	nl_addr_del(&u->nl, e->word[1], &ip, a.prefix, err, sizeof(err));
}

static void undo_nft(struct undo *u, const struct journal_entry *e)
{
	char err[ERR_MAX];
	struct nft nft;

	if (nft_open(&nft, err, sizeof(err))) {
		failed(u, err);
		return;
	}
	if (nft_table_delete(&nft, e->word[1], u->mark, err, sizeof(err)) < 0)
		failed(u, err);
	nft_close(&nft);
}

static void undo_sysctl(struct undo *u, const struct journal_entry *e)
{
	char err[ERR_MAX];

	if (e->nwords < 3 || host_journal_find(u->d, u->lab, "sysctl", e->word[1], NULL, 0))
		return;		/* another lab still needs it */
	if (sysctl_set(e->word[1], e->word[2], err, sizeof(err)))
		failed(u, err);
}

static void undo_nothing(struct undo *u, const struct journal_entry *e)
{
	(void)u;
	(void)e;	/* "lab", "master": nothing of their own to undo */
}

static const struct {
	const char *kind;
	unsigned int words;	/* at least */
	void (*undo)(struct undo *u, const struct journal_entry *e);
} undos[] = {
	{ "lab", 1, undo_nothing },
	{ "proc", 5, undo_proc },
	{ "link", 2, undo_link },
	{ "addr", 3, undo_addr },
	{ "master", 3, undo_nothing },
	{ "nft", 2, undo_nft },
	{ "sysctl", 3, undo_sysctl },
};

static void undo_entry(struct undo *u, const struct journal_entry *e)
{
	char msg[256];

	for (size_t i = 0; i < sizeof(undos) / sizeof(undos[0]); i++)
		if (!strcmp(undos[i].kind, e->word[0])) {
			if (e->nwords >= undos[i].words)
				undos[i].undo(u, e);
			return;
		}
	snprintf(msg, sizeof(msg), "the journal has an entry of an unknown kind: %s", e->word[0]);
	failed(u, msg);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int undo_journal(struct netd *d, const char *run, char *err, size_t errlen)
{
	struct undo u = { .d = d };
	struct journal_entry *es = NULL;
	char path[PATH_MAX + 16];
	size_t n = 0;
	int rc;

	u.lab = strrchr(run, '/') ? strrchr(run, '/') + 1 : run;
	host_mark(u.lab, u.mark, sizeof(u.mark));
	snprintf(path, sizeof(path), "%s/journal", run);
	rc = journal_read(path, &es, &n);
	if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s: nothing undone", path, strerror(-rc));
		return -1;
	}
	for (size_t i = n; i-- > 0;)
		undo_entry(&u, &es[i]);
	journal_free(es, n);
	if (u.nl_open)
		nl_close(&u.nl);
	/* Something could not be undone: the journal stays (the lab stays
	 * listed, orphaned), so that a later down tries again. */
	if (rc == 0 && !u.err[0] && nftw(run, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		failed(&u, "cannot remove the run directory");
	if (u.err[0]) {
		snprintf(err, errlen, "%s", u.err);
		return -1;
	}
	return 0;
}

/* A name from a client: a lab's name, nothing else (no '/', no '..'). */
static bool lab_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > TOPO_LAB_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

int lab_down_orphan(struct netd *d, const char *name, char *err, size_t errlen)
{
	char run[PATH_MAX];

	bprintf(run, sizeof(run), "%s/%s", d->run_root, name);
	if (!lab_name_ok(name) || access(run, F_OK) != 0) {
		snprintf(err, errlen, "no lab %s is up", name);
		return -1;
	}
	netd_log(d, "lab %s: undoing what its dead daemon left", name);
	return undo_journal(d, run, err, errlen);
}
