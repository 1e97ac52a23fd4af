// SPDX-License-Identifier: GPL-2.0
/*
 * guest_mem.c: reading and writing the guest's memory, and its page tables.
 *
 * Guest memory is the launcher's memory, and we only ever look at it from the
 * launcher's own read() or write(), so copy_from_user() at mem_base + gpa is
 * all it takes; every address is checked against the guest's size first.
 *
 * To emulate an instruction we must read it, which means translating its
 * virtual address the way the guest's processor would: a walk of the guest's
 * own four-level page tables from its CR3 (with 2 MiB and 1 GiB pages).
 */
#include <linux/uaccess.h>
#include <asm/processor-flags.h>

#include "lg.h"

static bool lg_gpa_ok(struct lguest *lg, u64 gpa, size_t len)
{
	return gpa < lg->mem_size && len <= lg->mem_size - gpa;
}

int lg_read_guest(struct lguest *lg, u64 gpa, void *buf, size_t len)
{
	if (!lg_gpa_ok(lg, gpa, len) ||
	    copy_from_user(buf, (void __user *)(lg->mem_base + gpa), len))
		return -EFAULT;
	return 0;
}

int lg_write_guest(struct lguest *lg, u64 gpa, const void *buf, size_t len)
{
	if (!lg_gpa_ok(lg, gpa, len) ||
	    copy_to_user((void __user *)(lg->mem_base + gpa), buf, len))
		return -EFAULT;
	return 0;
}

#define PTE_P		(1ULL << 0)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL

int lg_gva_to_gpa(struct lguest *lg, u64 gva, u64 *gpa)
{
	u64 table = lg->vmcb->save.cr3 & PTE_ADDR;
	int level;

	if (!(lg->vmcb->save.cr0 & X86_CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	for (level = 3; level >= 0; level--) {
		unsigned int shift = 12 + 9 * level;
		u64 entry;

		if (lg_read_guest(lg, table + ((gva >> shift) & 511) * 8,
				  &entry, sizeof(entry)))
			return -EFAULT;
		if (!(entry & PTE_P))
			return -EFAULT;
		if (level == 0 || ((level == 1 || level == 2) && (entry & PTE_PS))) {
			u64 mask = (1ULL << shift) - 1;

			*gpa = (entry & PTE_ADDR & ~mask) | (gva & mask);
			return 0;
		}
		table = entry & PTE_ADDR;
	}
	return -EFAULT;
}

/* Up to 15 bytes at the guest's RIP; *len says how many could be read. */
int lg_fetch_insn(struct lguest *lg, u8 *bytes, unsigned int *len)
{
	u64 rip = lg->vmcb->save.cs.base + lg->vmcb->save.rip;
	unsigned int got = 0;

	while (got < 15) {
		unsigned int chunk = min_t(unsigned int, 15 - got,
					   PAGE_SIZE - ((rip + got) & ~PAGE_MASK));
		u64 gpa;

		if (lg_gva_to_gpa(lg, rip + got, &gpa) ||
		    lg_read_guest(lg, gpa, bytes + got, chunk))
			break;
		got += chunk;
	}
	*len = got;
	return got ? 0 : -EFAULT;
}
