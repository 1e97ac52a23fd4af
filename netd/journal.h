/*
 * journal.h: every change a lab makes to the host, written down first.
 *
 * Before lguest-netd creates a tap, adds a table to nftables, sets a sysctl
 * or starts a process for a lab, it appends a line saying so to the lab's
 * journal (RUN/LAB/journal) and waits for the line to reach the file.  So
 * whatever dies, and whenever (netd, a switch, a launcher, with SIGKILL,
 * half way through `up`), the journal lists everything the lab may have
 * changed, and `down` (lab.c, undo.c) undoes exactly that, newest first,
 * each undo checking that the thing is still the lab's before it touches
 * it.  A line whose change never happened is harmless: its undo finds
 * nothing to do.
 *
 * The file is text, one entry per line, words separated by spaces with
 * '%', ' ' and control characters escaped as %XX, so an entry can be read
 * back exactly and a human can read the file too:
 *
 *	lab twolans /home/me/labs/twolans.topo /home/me/labs/twolans
 *	link twolans-h0 tap
 *	nft lguest-twolans
 *	sysctl net.ipv4.ip_forward 0
 *	proc 4242 1234567 switch lan1
 */
#ifndef LGUEST_NETD_JOURNAL_H
#define LGUEST_NETD_JOURNAL_H

#include <stddef.h>

#define JOURNAL_MAX_WORDS 8
#define JOURNAL_MAX_LINE 4096

struct journal {
	int fd;
};

struct journal_entry {
	unsigned int nwords;
	char *word[JOURNAL_MAX_WORDS];	/* word[0] is the kind */
};

/* Create PATH (it must not exist); 0 or -errno. */
int journal_create(struct journal *j, const char *path);
/* Open an existing PATH to append to it; 0 or -errno. */
int journal_open(struct journal *j, const char *path);
void journal_close(struct journal *j);
/* Append one entry of the words (NULL-terminated), durably; 0 or -errno. */
int journal_add(struct journal *j, const char *kind, ...) __attribute__((sentinel));
/* Read PATH's entries (free with journal_free); 0 or -errno.  A last line
 * cut short by a crash is ignored. */
int journal_read(const char *path, struct journal_entry **entries, size_t *n);
void journal_free(struct journal_entry *entries, size_t n);

#endif
