/*
 * fdb.c: the forwarding database, where the switch learns who lives where.
 *
 * Every frame that comes in says, by its source address, that this MAC
 * lives behind that port (on that VLAN): the switch writes it down with the
 * time.  A frame to an address written down goes out of that port only;
 * one to an address not (or no longer) known is flooded.  Entries age: one
 * not refreshed for the ageing time (300 s unless told) is forgotten, so a
 * machine that moves is found again.  A port that goes away takes its
 * entries with it.
 *
 * The table is a hash of chains over a pool allocated once: it never grows,
 * and when it is full new addresses are simply not learned (and counted);
 * their frames are flooded, which is slower but still right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch.h"

static unsigned int fdb_hash(const struct fdb *fdb, uint16_t vid, const uint8_t *mac)
{
	uint32_t h = vid * 0x9e3779b1u;
	int i;

	for (i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 0x01000193u;
	return h & (fdb->nbuckets - 1);
}

int fdb_init(struct fdb *fdb, unsigned int capacity, uint64_t ageing_ns)
{
	unsigned int i;

	memset(fdb, 0, sizeof(*fdb));
	fdb->nbuckets = 1;
	while (fdb->nbuckets < capacity)
		fdb->nbuckets <<= 1;
	fdb->buckets = calloc(fdb->nbuckets, sizeof(*fdb->buckets));
	fdb->pool = calloc(capacity, sizeof(*fdb->pool));
	if (!fdb->buckets || !fdb->pool)
		return -ENOMEM;
	fdb->capacity = capacity;
	fdb->ageing_ns = ageing_ns;
	for (i = 0; i < capacity; i++) {
		fdb->pool[i].next = fdb->free;
		fdb->free = &fdb->pool[i];
	}
	return 0;
}

void fdb_free(struct fdb *fdb)
{
	free(fdb->buckets);
	free(fdb->pool);
	fdb->buckets = NULL;
	fdb->pool = fdb->free = NULL;
}

static struct fdb_entry **fdb_find(struct fdb *fdb, uint16_t vid, const uint8_t *mac)
{
	struct fdb_entry **pp = &fdb->buckets[fdb_hash(fdb, vid, mac)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->vid == vid && memcmp((*pp)->mac, mac, 6) == 0)
			return pp;
	return pp;
}

static void fdb_unlink(struct fdb *fdb, struct fdb_entry **pp)
{
	struct fdb_entry *e = *pp;

	*pp = e->next;
	e->next = fdb->free;
	fdb->free = e;
	fdb->used--;
}

void fdb_learn(struct fdb *fdb, uint16_t vid, const uint8_t *mac, int port, uint64_t now)
{
	struct fdb_entry **pp = fdb_find(fdb, vid, mac), *e = *pp;

	if (!e) {
		if (!fdb->free) {
			fdb->full_drops++;
			return;
		}
		e = fdb->free;
		fdb->free = e->next;
		memcpy(e->mac, mac, 6);
		e->vid = vid;
		e->next = NULL;
		*pp = e;
		fdb->used++;
	}
	e->port = port;
	e->seen_ns = now;
}

int fdb_lookup(struct fdb *fdb, uint16_t vid, const uint8_t *mac, uint64_t now)
{
	struct fdb_entry **pp = fdb_find(fdb, vid, mac);

	if (!*pp)
		return -1;
	if (now - (*pp)->seen_ns > fdb->ageing_ns) {
		fdb_unlink(fdb, pp);
		return -1;
	}
	return (*pp)->port;
}

/* Drop every entry for which EXPIRED says so. */
static void fdb_sweep(struct fdb *fdb,
		      bool (*expired)(const struct fdb_entry *, uint64_t now, uint64_t arg),
		      uint64_t now, uint64_t arg)
{
	unsigned int b;

	for (b = 0; b < fdb->nbuckets; b++) {
		struct fdb_entry **pp = &fdb->buckets[b];

		while (*pp) {
			if (expired(*pp, now, arg))
				fdb_unlink(fdb, pp);
			else
				pp = &(*pp)->next;
		}
	}
}

static bool too_old(const struct fdb_entry *e, uint64_t now, uint64_t ageing_ns)
{
	return now - e->seen_ns > ageing_ns;
}

static bool on_port(const struct fdb_entry *e, uint64_t now, uint64_t port)
{
	(void)now;
	return e->port == port;
}

void fdb_age(struct fdb *fdb, uint64_t now)
{
	fdb_sweep(fdb, too_old, now, fdb->ageing_ns);
}

void fdb_flush_port(struct fdb *fdb, int port)
{
	fdb_sweep(fdb, on_port, 0, (uint64_t)port);
}

void fdb_each(struct fdb *fdb, uint64_t now,
	      void (*fn)(const struct fdb_entry *e, uint64_t age_ns, void *arg), void *arg)
{
	unsigned int b;
	struct fdb_entry *e;

	for (b = 0; b < fdb->nbuckets; b++)
		for (e = fdb->buckets[b]; e; e = e->next)
			if (now - e->seen_ns <= fdb->ageing_ns)
				fn(e, now - e->seen_ns, arg);
}
