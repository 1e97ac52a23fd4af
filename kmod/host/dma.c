// SPDX-License-Identifier: GPL-2.0
/*
 * dma.c: the I/O model, DMA keys.
 *
 * lguest has no virtual network card and no virtual disk controller.  It has
 * one idea instead (include/lguest/dma.h): a guest *binds* receive buffers at
 * a key, and anyone may *send* to that key.  This file is that idea.
 *
 * A key is an address, but keys are matched by the memory behind the address,
 * as futexes are: a key in a file mapped MAP_SHARED is (inode, offset in the
 * file), so two launchers that map one sharenet file meet at the same keys
 * wherever the file sits in each of them; any other key is (mm, address),
 * private to its process.  A guest's key is guest-physical and lives at
 * mem_base + key in its launcher; an endpoint's key is its own address.
 *
 * Every binding sits in one hash table, keyed that way, under a spinlock that
 * is held only to look up, add and remove: never across a fault or a copy.
 * A binding pins the pages of its struct lguest_dma array and maps them into
 * the kernel when it is made, so that a sender can read and write the
 * receiver's used_len fields from anywhere, without faulting, while it holds
 * that lock.  That is how a sender picks a buffer: under the lock it finds a
 * binding of the key that belongs to someone else, claims one of its free
 * buffers (used_len 0) in the binding's "claimed" bitmap, so that two
 * senders never fill the same buffer, and takes a reference on the binding.
 * Then, with no lock held, it pins the receiver's pages a few at a time and
 * copies its own sections straight into them with copy_from_user(): one copy,
 * no trip to userspace, and a receiver that unbinds or dies meanwhile only
 * leaves us holding references that the last of us drops.  Last it writes
 * the length into the receiver's used_len (after the data), then into its
 * own, and raises the receiver's interrupt: an IOAPIC line for a guest, a bit
 * for an endpoint's next read().  Buffers are filled in ring order: the
 * search starts after the last one filled.
 *
 * A send to a key that no one else bound belongs to the sender's launcher,
 * which serves its own devices: read() returns LGUEST_EXIT_DMA and the
 * launcher answers by writing used_len itself (it finds its guest's receive
 * buffers with LHREQ_GETDMA).
 *
 * Every address a guest gives is checked against its memory before use, and
 * a guest that breaks a rule of dma.h is killed with the rule in the reason.
 * A receiving guest whose free buffer points outside its memory is killed
 * too, from the sender's thread; the frame is dropped.  Endpoints get an
 * errno instead of death.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>

#include "lg.h"

/*
 * What a key is, once we have looked behind it: an inode (held by bindings)
 * and an offset in its file, or an mm and an address.
 */
struct lg_dma_key {
	void *object;		/* struct inode * or struct mm_struct * */
	u64 offset;
	struct inode *inode;	/* bindings hold the inode: object, or NULL */
};

/* The most pages a binding's array can touch: 64 x 168 bytes, unaligned. */
#define LG_DMA_ARRAY_PAGES \
	DIV_ROUND_UP(PAGE_SIZE - 8 + LGUEST_DMA_MAX_BUFS * sizeof(struct lguest_dma), \
		     PAGE_SIZE)

struct lg_dma_binding {
	struct hlist_node node;		/* in lg_dma_table, under lg_dma_lock */
	struct list_head link;		/* in its owner's list, under owner->lock */
	struct kref ref;		/* the table's, and each sender's */
	struct lg_dma_key key;
	struct lg_dma_owner *owner;	/* referenced */
	u64 dmas;			/* the array, in the owner's addresses */
	unsigned int num, irq;
	unsigned int next;		/* where the search for a free one starts */
	DECLARE_BITMAP(claimed, LGUEST_DMA_MAX_BUFS);	/* a sender fills it */
	struct lguest_dma *desc;	/* the pinned array, mapped */
	void *vaddr;
	unsigned int npages;
	struct page *pages[LG_DMA_ARRAY_PAGES];
};

#define LG_DMA_HASH_BITS 8
static DEFINE_HASHTABLE(lg_dma_table, LG_DMA_HASH_BITS);
static DEFINE_SPINLOCK(lg_dma_lock);
static atomic_long_t lg_dma_owner_seq = ATOMIC_LONG_INIT(0);

/* Receiver's buffers are pinned this many pages at a time while we copy. */
#define LG_DMA_PIN_BATCH 16

static void lg_dma_count(struct lg_dma_owner *o, enum lg_dma_stat stat, u64 n)
{
	atomic64_add(n, &o->stats[stat]);
}

/* ---- addresses ---------------------------------------------------------- */

/*
 * An owner's address range [addr, addr + len) as an address in its process,
 * or false when it is outside the owner's memory: a guest's memory, or the
 * user half of an endpoint's address space.
 */
static bool lg_dma_range(const struct lg_dma_owner *o, u64 addr, u64 len,
			 unsigned long *uaddr)
{
	u64 limit = o->kind == LG_OWNER_GUEST ? o->mem_size : TASK_SIZE_MAX;

	if (addr >= limit || len > limit - addr)
		return false;
	*uaddr = (o->kind == LG_OWNER_GUEST ? o->mem_base : 0) + addr;
	return true;
}

/* One section of a struct lguest_dma, as an address in its process. */
struct lg_dma_section {
	unsigned long uaddr;
	u32 len;
};

/*
 * The sections of a descriptor, up to the first zero length: their number,
 * or -(i + 1) when section i is outside the owner's memory.
 */
static int lg_dma_sections(const struct lg_dma_owner *o,
			   const struct lguest_dma *d, struct lg_dma_section *out)
{
	int i;

	for (i = 0; i < LGUEST_DMA_SECTIONS && d->len[i]; i++) {
		if (!lg_dma_range(o, d->addr[i], d->len[i], &out[i].uaddr))
			return -(i + 1);
		out[i].len = d->len[i];
	}
	return i;
}

/*
 * What is behind the key at uaddr in mm (the caller's own): a MAP_SHARED
 * file mapping gives (inode, offset), anything else (mm, address).  With
 * hold, a binding's inode reference is taken.  -EFAULT: nothing is mapped.
 */
static int lg_dma_key_of(struct mm_struct *mm, unsigned long uaddr,
			 struct lg_dma_key *key, bool hold)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, uaddr);
	if (!vma) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	if (vma->vm_file && (vma->vm_flags & VM_SHARED)) {
		struct inode *inode = file_inode(vma->vm_file);

		key->object = inode;
		key->offset = ((u64)vma->vm_pgoff << PAGE_SHIFT) +
			      (uaddr - vma->vm_start);
		key->inode = NULL;
		if (hold) {
			ihold(inode);
			key->inode = inode;
		}
	} else {
		key->object = mm;
		key->offset = uaddr;
		key->inode = NULL;
	}
	mmap_read_unlock(mm);
	return 0;
}

static bool lg_dma_key_eq(const struct lg_dma_key *a, const struct lg_dma_key *b)
{
	return a->object == b->object && a->offset == b->offset;
}

static u32 lg_dma_key_hash(const struct lg_dma_key *key)
{
	return hash_64((u64)(unsigned long)key->object ^ hash_64(key->offset, 64),
		       LG_DMA_HASH_BITS);
}

/*
 * A rule of dma.h was broken.  A guest dies of it, with the reason; an
 * endpoint gets err back.
 */
static __printf(3, 4) int lg_dma_refuse(struct lg_dma_owner *o, int err,
					const char *fmt, ...)
{
	char why[200];
	va_list args;

	if (o->kind != LG_OWNER_GUEST)
		return err;
	va_start(args, fmt);
	vscnprintf(why, sizeof(why), fmt, args);
	va_end(args);
	lg_kill(o->guest, "%s", why);
	return err;
}

/* ---- owners ------------------------------------------------------------- */

struct lg_dma_owner *lg_dma_owner_new(void)
{
	struct lg_dma_owner *o = kzalloc(sizeof(*o), GFP_KERNEL_ACCOUNT);
	int i;

	if (!o)
		return NULL;
	kref_init(&o->ref);
	mutex_init(&o->lock);
	spin_lock_init(&o->guest_lock);
	INIT_LIST_HEAD(&o->bindings);
	init_waitqueue_head(&o->wq);
	atomic64_set(&o->irqs, 0);
	for (i = 0; i < LG_DMA_NSTATS; i++)
		atomic64_set(&o->stats[i], 0);
	return o;
}

static void lg_dma_owner_free(struct kref *ref)
{
	struct lg_dma_owner *o = container_of(ref, struct lg_dma_owner, ref);

	if (o->mm)
		mmdrop(o->mm);
	kfree(o);
}

void lg_dma_owner_put(struct lg_dma_owner *o)
{
	kref_put(&o->ref, lg_dma_owner_free);
}

/* The counters, by name, where struct lguest_dma_stats keeps them. */
#define LG_DMA_STAT(e, field) \
	[e] = { #field, offsetof(struct lguest_dma_stats, field) }
static const struct {
	const char *name;
	size_t offset;
} lg_dma_stat_fields[LG_DMA_NSTATS] = {
	LG_DMA_STAT(LG_DMA_SENDS, sends),
	LG_DMA_STAT(LG_DMA_SENT_IN_KERNEL, sent_in_kernel),
	LG_DMA_STAT(LG_DMA_SENT_TO_LAUNCHER, sent_to_launcher),
	LG_DMA_STAT(LG_DMA_SENT_UNBOUND, sent_unbound),
	LG_DMA_STAT(LG_DMA_SEND_DROPS, send_drops),
	LG_DMA_STAT(LG_DMA_BYTES_SENT, bytes_sent),
	LG_DMA_STAT(LG_DMA_RECEIVES, receives),
	LG_DMA_STAT(LG_DMA_BYTES_RECEIVED, bytes_received),
	LG_DMA_STAT(LG_DMA_BINDS, binds),
};

void lg_dma_get_stats(struct lg_dma_owner *o, struct lguest_dma_stats *stats)
{
	int i;

	for (i = 0; i < LG_DMA_NSTATS; i++)
		*(__u64 *)((char *)stats + lg_dma_stat_fields[i].offset) =
			atomic64_read(&o->stats[i]);
}

/* debugfs: lguest/<pid>-<n>/dma, one "name value" line per counter. */
static int lg_dma_stats_show(struct seq_file *m, void *unused)
{
	struct lg_dma_owner *o = m->private;
	int i;

	for (i = 0; i < LG_DMA_NSTATS; i++)
		seq_printf(m, "%s %lld\n", lg_dma_stat_fields[i].name,
			   (long long)atomic64_read(&o->stats[i]));
	seq_printf(m, "bindings %u\n", READ_ONCE(o->nr_bindings));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lg_dma_stats);

/* The owner becomes a guest or an endpoint: under o->lock, once. */
static void lg_dma_owner_start(struct lg_dma_owner *o, int kind)
{
	char name[32];

	o->mm = current->mm;
	mmgrab(o->mm);
	o->pid = task_tgid_nr(current);
	snprintf(name, sizeof(name), "%d-%ld", o->pid,
		 atomic_long_inc_return(&lg_dma_owner_seq));
	o->debugfs = debugfs_create_dir(name, lg_debugfs_root);
	debugfs_create_file("dma", 0400, o->debugfs, o, &lg_dma_stats_fops);
	WRITE_ONCE(o->kind, kind);
}

/* LHREQ_INITIALIZE made a guest: the caller holds o->lock. */
void lg_dma_owner_set_guest(struct lg_dma_owner *o, struct lguest *lg)
{
	o->mem_base = lg->mem_base;
	o->mem_size = lg->mem_size;
	lg->owner = o;
	lg_dma_owner_start(o, LG_OWNER_GUEST);
	spin_lock(&o->guest_lock);
	smp_store_release(&o->guest, lg);
	spin_unlock(&o->guest_lock);
}

/* The first endpoint request on a file makes it an endpoint. */
static int lg_dma_become_endpoint(struct lg_dma_owner *o)
{
	int err = 0;

	mutex_lock(&o->lock);
	if (o->kind == LG_OWNER_NEW) {
		lg_dma_owner_start(o, LG_OWNER_ENDPOINT);
		atomic_long_inc(&lg_stat_endpoints);
	} else if (o->kind != LG_OWNER_ENDPOINT) {
		err = -EINVAL;		/* a guest's file */
	} else if (o->mm != current->mm) {
		err = -EPERM;		/* addresses are the first process's */
	}
	mutex_unlock(&o->lock);
	return err;
}

/* ---- bindings ----------------------------------------------------------- */

static void lg_dma_binding_free(struct kref *ref)
{
	struct lg_dma_binding *b = container_of(ref, struct lg_dma_binding, ref);

	vunmap(b->vaddr);
	unpin_user_pages_dirty_lock(b->pages, b->npages, true);
	atomic_long_sub(b->npages, &lg_stat_pinned);
	atomic_long_dec(&lg_stat_dma_bindings);
	if (b->key.inode)
		iput(b->key.inode);
	lg_dma_owner_put(b->owner);
	kfree(b);
}

/* Never under a spinlock: the last reference unpins and may sleep. */
static void lg_dma_binding_put(struct lg_dma_binding *b)
{
	kref_put(&b->ref, lg_dma_binding_free);
}

/* Pin and map num descriptors at the owner's address udmas (current's). */
static struct lg_dma_binding *lg_dma_binding_new(struct lg_dma_owner *o,
						 const struct lg_dma_key *key,
						 u64 dmas, unsigned long udmas,
						 unsigned int num, unsigned int irq)
{
	struct lg_dma_binding *b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	int got;

	if (!b)
		return ERR_PTR(-ENOMEM);
	b->npages = DIV_ROUND_UP(offset_in_page(udmas) +
				 num * sizeof(struct lguest_dma), PAGE_SIZE);
	got = pin_user_pages_fast(udmas & PAGE_MASK, b->npages,
				  FOLL_WRITE | FOLL_LONGTERM, b->pages);
	if (got != b->npages) {
		if (got > 0)
			unpin_user_pages(b->pages, got);
		kfree(b);
		return ERR_PTR(got < 0 ? got : -EFAULT);
	}
	b->vaddr = vmap(b->pages, b->npages, VM_MAP, PAGE_KERNEL);
	if (!b->vaddr) {
		unpin_user_pages(b->pages, b->npages);
		kfree(b);
		return ERR_PTR(-ENOMEM);
	}
	atomic_long_add(b->npages, &lg_stat_pinned);
	atomic_long_inc(&lg_stat_dma_bindings);
	b->desc = b->vaddr + offset_in_page(udmas);
	kref_init(&b->ref);
	b->key = *key;
	kref_get(&o->ref);
	b->owner = o;
	b->dmas = dmas;
	b->num = num;
	b->irq = irq;
	return b;
}

/* The owner's binding at key, or NULL: under o->lock. */
static struct lg_dma_binding *lg_dma_find_own(struct lg_dma_owner *o,
					      const struct lg_dma_key *key)
{
	struct lg_dma_binding *b;

	list_for_each_entry(b, &o->bindings, link)
		if (lg_dma_key_eq(&b->key, key))
			return b;
	return NULL;
}

/*
 * BIND_DMA, for guests and endpoints alike: key, dmas and the sections are in
 * the owner's addresses; irq 0 unbinds.  The caller runs in o->mm.
 */
/* A key must be 4-byte aligned and inside the owner's memory. */
static int lg_dma_check_key(struct lg_dma_owner *o, u64 key, unsigned long *ukey,
			    const char *mem)
{
	if (!IS_ALIGNED(key, 4))
		return lg_dma_refuse(o, -EINVAL, "bad DMA key %#llx: not 4-byte aligned",
				     key);
	if (!lg_dma_range(o, key, 4, ukey))
		return lg_dma_refuse(o, -EINVAL, "bad DMA key %#llx: outside %s",
				     key, mem);
	return 0;
}

static int lg_dma_bind(struct lg_dma_owner *o, u64 key, u64 dmas, u64 num,
		       unsigned int irq, unsigned int max_irq)
{
	const char *mem = o->kind == LG_OWNER_GUEST ? "guest memory" : "user space";
	struct lg_dma_binding *b = NULL, *old;
	unsigned long ukey, udmas = 0;
	struct lg_dma_key k;
	int err;

	err = lg_dma_check_key(o, key, &ukey, mem);
	if (err)
		return err;
	if (irq > max_irq)
		return lg_dma_refuse(o, -EINVAL, "bad DMA irq %u (1..%u, or 0 to unbind)",
				     irq, max_irq);
	if (irq) {
		if (num < 1 || num > LGUEST_DMA_MAX_BUFS)
			return lg_dma_refuse(o, -EINVAL, "bad DMA buffer count %llu (1..%u) at key %#llx",
					     num, LGUEST_DMA_MAX_BUFS, key);
		if (!IS_ALIGNED(dmas, 8))
			return lg_dma_refuse(o, -EINVAL, "bad DMA buffers at %#llx: not 8-byte aligned",
					     dmas);
		if (!lg_dma_range(o, dmas, num * sizeof(struct lguest_dma), &udmas))
			return lg_dma_refuse(o, -EINVAL, "bad DMA buffers at %#llx (%llu of them): outside %s",
					     dmas, num, mem);
	}
	if (lg_dma_key_of(o->mm, ukey, &k, irq != 0))
		return lg_dma_refuse(o, -EFAULT, "unmapped DMA key %#llx", key);
	if (irq) {
		b = lg_dma_binding_new(o, &k, dmas, udmas, num, irq);
		if (IS_ERR(b)) {
			if (k.inode)
				iput(k.inode);
			return lg_dma_refuse(o, PTR_ERR(b), "cannot pin the DMA buffers at %#llx (error %ld)",
					     dmas, PTR_ERR(b));
		}
	}

	mutex_lock(&o->lock);
	old = lg_dma_find_own(o, &k);
	if (!old && b && o->nr_bindings >= LGUEST_DMA_MAX_BINDINGS) {
		mutex_unlock(&o->lock);
		lg_dma_binding_put(b);
		return lg_dma_refuse(o, -ENOSPC, "too many DMA bindings: %u keys bound, and then key %#llx",
				     LGUEST_DMA_MAX_BINDINGS, key);
	}
	spin_lock(&lg_dma_lock);
	if (old)
		hash_del(&old->node);
	if (b)
		hash_add(lg_dma_table, &b->node, lg_dma_key_hash(&k));
	spin_unlock(&lg_dma_lock);
	if (old)
		list_del(&old->link);
	if (b)
		list_add_tail(&b->link, &o->bindings);
	WRITE_ONCE(o->nr_bindings, o->nr_bindings + !!b - !!old);
	mutex_unlock(&o->lock);

	if (old) {
		/*
		 * A sender that claimed one of the old buffers before we took
		 * the binding away may still be copying into it.  The guest
		 * may free those buffers as soon as we return, so wait for
		 * such copies to end (they hold no lock and never wait for us).
		 */
		wait_var_event_killable(old, bitmap_empty(old->claimed, old->num));
		lg_dma_binding_put(old);
	}
	lg_dma_count(o, LG_DMA_BINDS, 1);
	return 0;
}

/* The file is closing: every binding goes, and the guest is forgotten. */
void lg_dma_owner_close(struct lg_dma_owner *o)
{
	struct lg_dma_binding *b, *next;
	LIST_HEAD(gone);

	mutex_lock(&o->lock);
	spin_lock(&lg_dma_lock);
	list_for_each_entry(b, &o->bindings, link)
		hash_del(&b->node);
	spin_unlock(&lg_dma_lock);
	list_splice_init(&o->bindings, &gone);
	WRITE_ONCE(o->nr_bindings, 0);
	mutex_unlock(&o->lock);

	list_for_each_entry_safe(b, next, &gone, link) {
		list_del(&b->link);
		lg_dma_binding_put(b);
	}
	/* Senders still copying find no guest to interrupt or kill. */
	spin_lock(&o->guest_lock);
	o->guest = NULL;
	spin_unlock(&o->guest_lock);
	debugfs_remove(o->debugfs);	/* waits for readers of "dma" */
	o->debugfs = NULL;
	if (o->kind == LG_OWNER_ENDPOINT)
		atomic_long_dec(&lg_stat_endpoints);
}

/* ---- sending ------------------------------------------------------------ */

/*
 * Claim a free buffer of b: under lg_dma_lock, and b's array is pinned and
 * mapped, so nothing here faults.  The claim comes first, then the check that
 * the buffer is free: a buffer that another sender filled and released just
 * now has its used_len set by then.
 */
static int lg_dma_claim(struct lg_dma_binding *b)
{
	unsigned int j, i, start = READ_ONCE(b->next);

	for (j = 0; j < b->num; j++) {
		i = (start + j) % b->num;
		if (READ_ONCE(b->desc[i].used_len))
			continue;
		if (test_and_set_bit_lock(i, b->claimed))
			continue;
		if (READ_ONCE(b->desc[i].used_len)) {
			clear_bit_unlock(i, b->claimed);
			continue;
		}
		WRITE_ONCE(b->next, (i + 1) % b->num);
		return i;
	}
	return -1;
}

/*
 * Copy the sender's sections (in current's memory) into the receiver's (in
 * mm), pinning the receiver's pages a batch at a time.  No lock is held: both
 * sides may fault.  -EFAULT: the sender's memory failed us; -ENXIO: the
 * receiver's did.  *copied: the bytes that made it.
 */
static int lg_dma_copy(struct mm_struct *mm, const struct lg_dma_section *dst,
		       int ndst, const struct lg_dma_section *src, int nsrc,
		       u32 *copied)
{
	struct page *pages[LG_DMA_PIN_BATCH];
	int d, s = 0, err = 0;
	u32 soff = 0;

	*copied = 0;
	for (d = 0; d < ndst && s < nsrc && !err; d++) {
		unsigned long addr = dst[d].uaddr;
		u32 left = dst[d].len;

		while (left && s < nsrc && !err) {
			long want = min_t(long, LG_DMA_PIN_BATCH,
					  DIV_ROUND_UP(offset_in_page(addr) + left, PAGE_SIZE));
			long got, p;

			mmap_read_lock(mm);
			got = pin_user_pages_remote(mm, addr & PAGE_MASK, want,
						    FOLL_WRITE, pages, NULL, NULL);
			mmap_read_unlock(mm);
			if (got <= 0)
				return -ENXIO;

			for (p = 0; p < got && left && s < nsrc && !err; p++) {
				u8 *kaddr = kmap_local_page(pages[p]);
				u32 poff = offset_in_page(addr);
				u32 room = min_t(u32, PAGE_SIZE - poff, left);

				while (room && s < nsrc) {
					u32 n = min(room, src[s].len - soff);

					if (copy_from_user(kaddr + poff,
							   (void __user *)(src[s].uaddr + soff), n)) {
						err = -EFAULT;
						break;
					}
					poff += n;
					room -= n;
					left -= n;
					addr += n;
					soff += n;
					*copied += n;
					if (soff == src[s].len) {
						s++;
						soff = 0;
					}
				}
				kunmap_local(kaddr);
			}
			unpin_user_pages_dirty_lock(pages, got, true);
		}
	}
	return err;
}

/* A receiving guest broke the rules: kill it, if it is still there. */
static __printf(2, 3) void lg_dma_kill_receiver(struct lg_dma_owner *o,
						const char *fmt, ...)
{
	char why[200];
	va_list args;

	va_start(args, fmt);
	vscnprintf(why, sizeof(why), fmt, args);
	va_end(args);
	spin_lock(&o->guest_lock);
	if (o->guest)
		lg_kill(o->guest, "%s", why);
	spin_unlock(&o->guest_lock);
}

/* A buffer of b was filled: the receiver hears of it. */
static void lg_dma_notify(struct lg_dma_binding *b)
{
	struct lg_dma_owner *o = b->owner;

	if (o->kind == LG_OWNER_GUEST) {
		spin_lock(&o->guest_lock);
		if (o->guest)
			lg_ioapic_raise(o->guest, b->irq);
		spin_unlock(&o->guest_lock);
	} else {
		atomic64_or(1ULL << b->irq, &o->irqs);
		wake_up_interruptible(&o->wq);
	}
}

enum lg_dma_outcome {
	LG_DMA_DELIVERED,	/* *copied bytes are in another's buffer */
	LG_DMA_NOBODY,		/* nobody else bound the key */
	LG_DMA_DROPPED,		/* bound, but no free buffer took anything */
	LG_DMA_SENDER_FAULT,	/* the sender's own sections faulted */
};

/* Release our claim on buffer slot of b: an unbind may be waiting for it. */
static void lg_dma_release(struct lg_dma_binding *b, unsigned int slot)
{
	clear_bit_unlock(slot, b->claimed);
	smp_mb__after_atomic();
	wake_up_var(b);
}

/* Fill buffer slot of b (claimed by us) from src; release the claim. */
static enum lg_dma_outcome lg_dma_fill(struct lg_dma_binding *b, unsigned int slot,
				       const struct lg_dma_section *src, int nsrc,
				       u32 *copied)
{
	struct lguest_dma *rd = &b->desc[slot];
	struct lg_dma_section dst[LGUEST_DMA_SECTIONS];
	struct lg_dma_owner *to = b->owner;
	struct lguest_dma snap;
	int i, ndst, err;

	/* The receiver set addr[] and len[] before it freed used_len. */
	smp_rmb();
	for (i = 0; i < LGUEST_DMA_SECTIONS; i++) {
		snap.addr[i] = READ_ONCE(rd->addr[i]);
		snap.len[i] = READ_ONCE(rd->len[i]);
	}
	ndst = lg_dma_sections(to, &snap, dst);
	if (ndst < 0) {
		lg_dma_release(b, slot);
		lg_dma_kill_receiver(to, "DMA section outside guest memory: section %d (%#llx, %u bytes) of the receive buffer at %#llx",
				     -ndst - 1, snap.addr[-ndst - 1], snap.len[-ndst - 1],
				     b->dmas + slot * sizeof(struct lguest_dma));
		return LG_DMA_DROPPED;
	}
	err = -ENXIO;
	if (mmget_not_zero(to->mm)) {
		err = lg_dma_copy(to->mm, dst, ndst, src, nsrc, copied);
		mmput(to->mm);
	}
	if (err || !*copied) {
		lg_dma_release(b, slot);
		return err == -EFAULT ? LG_DMA_SENDER_FAULT : LG_DMA_DROPPED;
	}
	/* The data before the length that says it is there. */
	smp_wmb();
	WRITE_ONCE(rd->used_len, *copied);
	lg_dma_release(b, slot);
	lg_dma_count(to, LG_DMA_RECEIVES, 1);
	lg_dma_count(to, LG_DMA_BYTES_RECEIVED, *copied);
	lg_dma_notify(b);
	return LG_DMA_DELIVERED;
}

/* Deliver src to a free buffer that someone other than from bound at key. */
static enum lg_dma_outcome lg_dma_deliver(struct lg_dma_owner *from,
					  const struct lg_dma_key *key,
					  const struct lg_dma_section *src, int nsrc,
					  u32 *copied)
{
	struct lg_dma_binding *b, *found = NULL;
	bool bound = false;
	enum lg_dma_outcome out;
	int slot = -1;

	*copied = 0;
	spin_lock(&lg_dma_lock);
	hash_for_each_possible(lg_dma_table, b, node, lg_dma_key_hash(key)) {
		if (!lg_dma_key_eq(&b->key, key) || b->owner == from)
			continue;
		bound = true;
		slot = lg_dma_claim(b);
		if (slot >= 0) {
			found = b;
			kref_get(&found->ref);
			break;
		}
	}
	spin_unlock(&lg_dma_lock);
	if (!found)
		return bound ? LG_DMA_DROPPED : LG_DMA_NOBODY;

	out = lg_dma_fill(found, slot, src, nsrc, copied);
	lg_dma_binding_put(found);
	return out;
}

/*
 * SEND_DMA, for guests and endpoints.  0: done, used_len written; 1: the
 * launcher's (exit is filled); -errno: refused (a guest is dead of it).
 */
static int lg_dma_send(struct lg_dma_owner *o, u64 key, u64 dma,
		       struct lguest_exit *exit)
{
	const char *mem = o->kind == LG_OWNER_GUEST ? "guest memory" : "user space";
	struct lg_dma_section src[LGUEST_DMA_SECTIONS];
	unsigned long ukey, udma;
	enum lg_dma_outcome out;
	struct lguest_dma d;
	struct lg_dma_key k;
	u32 copied;
	int nsrc, err;

	err = lg_dma_check_key(o, key, &ukey, mem);
	if (err)
		return err;
	if (!IS_ALIGNED(dma, 8) || !lg_dma_range(o, dma, sizeof(d), &udma))
		return lg_dma_refuse(o, -EINVAL, "bad DMA descriptor at %#llx: %s",
				     dma, IS_ALIGNED(dma, 8) ? mem : "not 8-byte aligned");
	if (copy_from_user(&d, (void __user *)udma, sizeof(d)))
		return lg_dma_refuse(o, -EFAULT, "cannot read the DMA descriptor at %#llx",
				     dma);
	nsrc = lg_dma_sections(o, &d, src);
	if (nsrc < 0)
		return lg_dma_refuse(o, -EINVAL, "DMA section outside %s: section %d (%#llx, %u bytes) of the descriptor at %#llx",
				     mem, -nsrc - 1, d.addr[-nsrc - 1], d.len[-nsrc - 1], dma);
	if (lg_dma_key_of(o->mm, ukey, &k, false))
		return lg_dma_refuse(o, -EFAULT, "unmapped DMA key %#llx", key);

	out = lg_dma_deliver(o, &k, src, nsrc, &copied);
	if (out == LG_DMA_SENDER_FAULT)
		return lg_dma_refuse(o, -EFAULT, "cannot read the DMA sections of the descriptor at %#llx",
				     dma);
	/* Every send that was not refused is counted once more, by outcome. */
	lg_dma_count(o, LG_DMA_SENDS, 1);
	switch (out) {
	case LG_DMA_NOBODY:
		if (o->kind == LG_OWNER_GUEST) {
			lg_dma_count(o, LG_DMA_SENT_TO_LAUNCHER, 1);
			exit->reason = LGUEST_EXIT_DMA;
			exit->addr = key;
			exit->data = dma;
			return 1;
		}
		lg_dma_count(o, LG_DMA_SENT_UNBOUND, 1);
		break;
	case LG_DMA_DROPPED:
		lg_dma_count(o, LG_DMA_SEND_DROPS, 1);
		break;
	case LG_DMA_SENDER_FAULT:	/* refused above */
	case LG_DMA_DELIVERED:
		lg_dma_count(o, LG_DMA_SENT_IN_KERNEL, 1);
		lg_dma_count(o, LG_DMA_BYTES_SENT, copied);
		break;
	}
	if (put_user(copied, (u32 __user *)udma))
		return lg_dma_refuse(o, -EFAULT, "cannot write used_len at %#llx", dma);
	return 0;
}

/* ---- the ways in -------------------------------------------------------- */

/* LHCALL_BIND_DMA(key, dmas, num << 8 | irq), from the guest's kernel. */
void lg_dma_bind_hypercall(struct lguest *lg, u64 key, u64 dmas, u64 num_irq)
{
	lg_dma_bind(lg->owner, key, dmas, num_irq >> 8, num_irq & 0xff, 15);
}

/* LHCALL_SEND_DMA(key, dma): 1 when read() returns to the launcher. */
int lg_dma_send_hypercall(struct lguest *lg, u64 key, u64 dma,
			  struct lguest_exit *exit)
{
	return lg_dma_send(lg->owner, key, dma, exit) == 1;
}

int lg_dma_endpoint_bind(struct lg_dma_owner *o, const struct lguest_bind *req)
{
	int err = lg_dma_become_endpoint(o);

	if (err)
		return err;
	return lg_dma_bind(o, req->key, req->dmas, req->num, req->irq, 63);
}

int lg_dma_endpoint_send(struct lg_dma_owner *o, const struct lguest_send *req)
{
	int err = lg_dma_become_endpoint(o);

	if (err)
		return err;
	return lg_dma_send(o, req->key, req->dma, NULL);
}

/*
 * LHREQ_GETDMA: a free buffer the guest bound at key, for its launcher to
 * fill.  Found, not claimed: keys a launcher serves are its guest's alone.
 * The search goes in ring order, as lg.ko's own deliveries do, so that a
 * guest that takes its frames in ring order sees them in the order sent.
 */
int lg_dma_getdma(struct lg_dma_owner *o, struct lguest_getdma *req)
{
	struct lg_dma_binding *b;
	struct lg_dma_key k;
	unsigned long ukey;
	unsigned int n, i;
	int err = -ENOENT;

	if (!IS_ALIGNED(req->key, 4) || !lg_dma_range(o, req->key, 4, &ukey))
		return -EINVAL;
	if (lg_dma_key_of(o->mm, ukey, &k, false))
		return -EFAULT;
	mutex_lock(&o->lock);
	b = lg_dma_find_own(o, &k);
	for (n = 0; b && n < b->num; n++) {
		i = (READ_ONCE(b->next) + n) % b->num;
		if (!READ_ONCE(b->desc[i].used_len) && !test_bit(i, b->claimed)) {
			req->dma = b->dmas + i * sizeof(struct lguest_dma);
			req->irq = b->irq;
			WRITE_ONCE(b->next, (i + 1) % b->num);
			err = 0;
			break;
		}
	}
	mutex_unlock(&o->lock);
	return err;
}

/* read() on an endpoint: which bindings were filled since the last one. */
ssize_t lg_dma_endpoint_read(struct lg_dma_owner *o, char __user *buf,
			     size_t len, bool nonblock)
{
	struct lguest_exit exit = { .reason = LGUEST_EXIT_IRQ };
	u64 irqs;
	int err;

	if (len < sizeof(exit))
		return -EINVAL;
	while (!(irqs = atomic64_xchg(&o->irqs, 0))) {
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(o->wq, atomic64_read(&o->irqs));
		if (err)
			return err;
	}
	exit.data = irqs;
	if (copy_to_user(buf, &exit, sizeof(exit))) {
		atomic64_or(irqs, &o->irqs);	/* not lost: the next read */
		return -EFAULT;
	}
	return sizeof(exit);
}
