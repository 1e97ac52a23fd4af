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
 * launcher's page behind that address (so it can neither move nor vanish
 * while the guest uses it) and map it.  Nothing is ever unmapped while the
 * guest lives; lg_npt_free() unpins everything when it dies.
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
	return lg->npt_root ? 0 : -ENOMEM;
}

/* Map guest-physical gpa (inside guest memory) to the launcher's page. */
int lg_npt_map(struct lguest *lg, u64 gpa)
{
	u64 *table = lg->npt_root;
	struct page *page;
	int level, ret;

	for (level = npt_top(); level > 0; level--) {
		u64 *entry = &table[npt_index(gpa, level)];

		if (!(*entry & NPT_P)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next)
				return -ENOMEM;
			*entry = virt_to_phys(next) | NPT_TABLE;
		}
		table = phys_to_virt(*entry & NPT_ADDR);
	}
	/* Mapped already, yet it faulted: something we do not understand. */
	if (table[npt_index(gpa, 0)] & NPT_P)
		return -EEXIST;

	ret = pin_user_pages_fast(lg->mem_base + (gpa & PAGE_MASK), 1,
				  FOLL_WRITE | FOLL_LONGTERM, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	table[npt_index(gpa, 0)] = page_to_phys(page) | NPT_LEAF;
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
		if (level == 0) {
			unpin_user_page(pfn_to_page(entry >> PAGE_SHIFT));
			atomic_long_dec(&lg_stat_pinned);
		}
		else
			lg_npt_free_level(phys_to_virt(entry & NPT_ADDR), level - 1);
	}
	free_page((unsigned long)table);
}

void lg_npt_free(struct lguest *lg)
{
	if (lg->npt_root)
		lg_npt_free_level(lg->npt_root, npt_top());
	lg->npt_root = NULL;
}
