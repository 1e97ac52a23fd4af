// SPDX-License-Identifier: GPL-2.0
/*
 * npt.c: the guest's memory, through nested page tables.
 *
 * The original lguest gave a guest its launcher's memory by starting the guest
 * at the launcher's address: guest-physical 0 is the launcher's mem_base.  We
 * keep that picture, and let the processor do the translating: nested paging
 * walks a second set of page tables, ours, from guest-physical to
 * host-physical addresses.  They start empty.  The first time the guest
 * touches a page the processor stops with a nested page fault, we pin the
 * launcher's pages behind that address (so they can neither move nor vanish
 * while the guest uses them) and map them.  Nothing is ever unmapped while
 * the guest lives; lg_npt_free() unpins everything when it dies.
 *
 * We map 2 MiB at a time where we can: the whole 2 MiB around the fault is
 * pinned at once (the launcher aligns its memory and asks for transparent
 * huge pages), and when the kernel gave it one physically contiguous huge
 * page, one large nested entry maps it all; otherwise a table of 512 small
 * entries does.  Either way a booting Linux takes some sixty nested page
 * faults instead of twenty thousand.
 *
 * The tables have the host's own shape: 512 eight-byte entries a page, four
 * levels, or five when the host runs with 5-level paging (CR4.LA57), since
 * the processor walks nested tables in the host's paging mode.  Every entry
 * must have the User bit: the processor makes its nested walks as user
 * accesses.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/pgtable.h>

#include "lg.h"

#define NPT_P		(1ULL << 0)
#define NPT_RW		(1ULL << 1)
#define NPT_US		(1ULL << 2)
#define NPT_A		(1ULL << 5)
#define NPT_D		(1ULL << 6)
#define NPT_PS		(1ULL << 7)	/* a 2 MiB page, at level 1 */
#define NPT_HUGE	(1ULL << 21)
#define NPT_PER_TABLE	512
#define NPT_ADDR	0x000ffffffffff000ULL
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_LEAF	(NPT_P | NPT_RW | NPT_US | NPT_A | NPT_D)

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & 511;
}

/* The top level's number: 3 for four-level tables, 4 for five. */
static int npt_top(void)
{
	return pgtable_l5_enabled() ? 4 : 3;
}

int lg_npt_init(struct lguest *lg)
{
	lg->npt_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!lg->npt_root)
		return -ENOMEM;
	atomic_long_inc(&lg_stat_tables);
	return 0;
}

static u64 *npt_new_table(u64 *entry)
{
	u64 *table = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (table) {
		*entry = virt_to_phys(table) | NPT_TABLE;
		atomic_long_inc(&lg_stat_tables);
	}
	return table;
}

static void npt_unpin(struct page *page, unsigned long npages)
{
	unpin_user_page_range_dirty_lock(page, npages, true);
	atomic_long_sub(npages, &lg_stat_pinned);
}

/*
 * Fill the level-1 entry for the 2 MiB at base: one large page if the
 * launcher's memory there is one huge page, else a table of small ones.
 * Returns 1 when the pages could not all be pinned: the caller maps just one.
 */
static int lg_npt_map_2m(struct lguest *lg, u64 *entry, u64 base)
{
	struct page **pages;
	bool contiguous;
	u64 *table;
	int i, ret;

	pages = kmalloc_array(NPT_PER_TABLE, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = pin_user_pages_fast(lg->mem_base + base, NPT_PER_TABLE,
				  FOLL_WRITE | FOLL_LONGTERM, pages);
	if (ret != NPT_PER_TABLE) {
		if (ret > 0)
			unpin_user_pages(pages, ret);
		kfree(pages);
		return 1;
	}
	atomic_long_add(NPT_PER_TABLE, &lg_stat_pinned);
	lg->npt_pages += NPT_PER_TABLE;

	contiguous = IS_ALIGNED(page_to_pfn(pages[0]), NPT_PER_TABLE);
	for (i = 1; contiguous && i < NPT_PER_TABLE; i++)
		contiguous = page_to_pfn(pages[i]) == page_to_pfn(pages[0]) + i;

	if (contiguous) {
		*entry = page_to_phys(pages[0]) | NPT_LEAF | NPT_PS;
		lg->npt_huge++;
	} else {
		table = npt_new_table(entry);
		if (!table) {
			unpin_user_pages(pages, NPT_PER_TABLE);
			atomic_long_sub(NPT_PER_TABLE, &lg_stat_pinned);
			lg->npt_pages -= NPT_PER_TABLE;
			kfree(pages);
			return -ENOMEM;
		}
		for (i = 0; i < NPT_PER_TABLE; i++)
			table[i] = page_to_phys(pages[i]) | NPT_LEAF;
	}
	kfree(pages);
	return 0;
}

/* Map guest-physical gpa (inside guest memory) to the launcher's pages. */
int lg_npt_map(struct lguest *lg, u64 gpa)
{
	u64 *table = lg->npt_root, *entry, base = gpa & ~(NPT_HUGE - 1);
	struct page *page;
	int level, ret;

	for (level = npt_top(); level > 1; level--) {
		entry = &table[npt_index(gpa, level)];
		if (!(*entry & NPT_P) && !npt_new_table(entry))
			return -ENOMEM;
		table = phys_to_virt(*entry & NPT_ADDR);
	}

	entry = &table[npt_index(gpa, 1)];
	if (!(*entry & NPT_P)) {
		if (IS_ALIGNED(lg->mem_base, NPT_HUGE) && base + NPT_HUGE <= lg->mem_size) {
			ret = lg_npt_map_2m(lg, entry, base);
			if (ret <= 0)
				return ret;
		}
		if (!(*entry & NPT_P) && !npt_new_table(entry))
			return -ENOMEM;
	}
	/* Mapped already, yet it faulted: something we do not understand. */
	if (*entry & NPT_PS)
		return -EEXIST;
	table = phys_to_virt(*entry & NPT_ADDR);
	entry = &table[npt_index(gpa, 0)];
	if (*entry & NPT_P)
		return -EEXIST;

	ret = pin_user_pages_fast(lg->mem_base + (gpa & PAGE_MASK), 1,
				  FOLL_WRITE | FOLL_LONGTERM, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	*entry = page_to_phys(page) | NPT_LEAF;
	lg->npt_pages++;
	atomic_long_inc(&lg_stat_pinned);
	return 0;
}

static void lg_npt_free_level(u64 *table, int level)
{
	int i;

	for (i = 0; i < 512; i++) {
		u64 entry = table[i];

		if (!(entry & NPT_P))
			continue;
		if (level == 0)
			npt_unpin(pfn_to_page(entry >> PAGE_SHIFT), 1);
		else if (level == 1 && (entry & NPT_PS))
			npt_unpin(pfn_to_page((entry & NPT_ADDR) >> PAGE_SHIFT),
				  NPT_PER_TABLE);
		else
			lg_npt_free_level(phys_to_virt(entry & NPT_ADDR), level - 1);
	}
	free_page((unsigned long)table);
	atomic_long_dec(&lg_stat_tables);
}

void lg_npt_free(struct lguest *lg)
{
	if (lg->npt_root)
		lg_npt_free_level(lg->npt_root, npt_top());
	lg->npt_root = NULL;
}
