// SPDX-License-Identifier: GPL-2.0
/*
 * vmcb.c: a new guest's Virtual Machine Control Block.
 *
 * The VMCB is the contract between us and the processor for one guest: its
 * control area says which of the guest's actions make the processor stop and
 * come back to us (a #VMEXIT), its save area holds the guest's registers while
 * it is not running.  (AMD64 APM Volume 2, §15.5 and Appendix B.)
 *
 * What we intercept, and why:
 *  - physical interrupts, NMIs and SMIs: the host's, never the guest's;
 *  - CPUID: the guest sees a filtered CPU (cpuid.c);
 *  - HLT: a halted guest sleeps in the host (run.c);
 *  - every port (the I/O permission map is all ones) and every MSR except
 *    those the VMCB itself holds and VMLOAD/VMSAVE switch (msr.c);
 *  - the SVM instructions, which a guest may not use: VMRUN (the processor
 *    insists on this one), VMLOAD, VMSAVE, STGI, CLGI, SKINIT; VMMCALL is the
 *    hypercall;
 *  - CR4 writes (the guest may not turn on what its CPUID hides) and the
 *    debug registers (DR0-3 are not switched, so the guest never touches them);
 *  - instructions whose features the guest does not have (RDTSCP, MONITOR,
 *    MWAIT, XSETBV, INVD, RDPRU...), and shutdown (a triple fault);
 *  - the #AC and #DB exceptions: a guest can otherwise make the processor
 *    deliver them forever without ever leaving the guest.
 * Nested paging is on: every guest-physical address goes through npt.c.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/svm.h>
#include <asm/traps.h>

#include "lg.h"

#define IOPM_SIZE	(3 * PAGE_SIZE)
#define MSRPM_SIZE	(2 * PAGE_SIZE)

/* The permission maps are policy, the same for every guest: made once. */
static void *lg_iopm, *lg_msrpm;

/* The MSRs the VMCB holds, that VMLOAD/VMSAVE switch: the guest owns them. */
static const u32 lg_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* Two bits per MSR, read then write, in three 2 KiB ranges (APM §15.11). */
static void lg_msrpm_allow(u32 msr)
{
	static const u32 range_base[] = { 0, 0xc0000000, 0xc0010000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(range_base); i++) {
		if (msr >= range_base[i] && msr < range_base[i] + 0x2000) {
			unsigned long bit = i * 0x800 * 8 + (msr - range_base[i]) * 2;

			__clear_bit(bit, lg_msrpm);
			__clear_bit(bit + 1, lg_msrpm);
			return;
		}
	}
}

int lg_vmcb_setup_maps(void)
{
	int i;

	lg_iopm = alloc_pages_exact(IOPM_SIZE, GFP_KERNEL);
	lg_msrpm = alloc_pages_exact(MSRPM_SIZE, GFP_KERNEL);
	if (!lg_iopm || !lg_msrpm) {
		lg_vmcb_free_maps();
		return -ENOMEM;
	}
	memset(lg_iopm, 0xff, IOPM_SIZE);
	memset(lg_msrpm, 0xff, MSRPM_SIZE);
	for (i = 0; i < ARRAY_SIZE(lg_passthrough_msrs); i++)
		lg_msrpm_allow(lg_passthrough_msrs[i]);
	return 0;
}

void lg_vmcb_free_maps(void)
{
	if (lg_iopm)
		free_pages_exact(lg_iopm, IOPM_SIZE);
	if (lg_msrpm)
		free_pages_exact(lg_msrpm, MSRPM_SIZE);
	lg_iopm = lg_msrpm = NULL;
}

void lg_set_intercept(struct lguest *lg, int bit, bool on)
{
	u32 *word = &lg->vmcb->control.intercepts[bit / 32];

	if (on)
		*word |= 1U << (bit % 32);
	else
		*word &= ~(1U << (bit % 32));
}

static void lg_seg(struct vmcb_seg *seg, u16 sel, u16 attrib, u32 limit, u64 base)
{
	seg->selector = sel;
	seg->attrib = attrib;
	seg->limit = limit;
	seg->base = base;
}

/* VMCB segment attributes: the descriptor's type/S/DPL/P, AVL/L/D/G bits. */
#define SEG_CODE64	0x029b	/* present, DPL 0, code exec/read, accessed, L */
#define SEG_DATA	0x0c93	/* present, DPL 0, data read/write, accessed, D, G */
#define SEG_TSS64	0x008b	/* present, 64-bit TSS busy */
#define SEG_LDT		0x0082	/* present, LDT */

void lg_vmcb_init(struct lguest *lg, const struct lguest_init *init)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;
	struct vmcb_save_area *save = &lg->vmcb->save;
	static const int intercepts[] = {
		INTERCEPT_CR4_WRITE, INTERCEPT_CR8_WRITE,
		INTERCEPT_DR0_READ, INTERCEPT_DR1_READ, INTERCEPT_DR2_READ,
		INTERCEPT_DR3_READ, INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE,
		INTERCEPT_DR2_WRITE, INTERCEPT_DR3_WRITE,
		INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_AC,
		INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_DB,
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI,
		INTERCEPT_CPUID, INTERCEPT_INVD, INTERCEPT_HLT,
		INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_SHUTDOWN, INTERCEPT_RSM, INTERCEPT_TASK_SWITCH,
		INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
		INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
		INTERCEPT_SKINIT, INTERCEPT_RDTSCP, INTERCEPT_ICEBP,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_MWAIT_COND,
		INTERCEPT_XSETBV, INTERCEPT_RDPRU,
	};
	int i;

	memset(lg->vmcb, 0, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		lg_set_intercept(lg, intercepts[i], true);

	ctl->iopm_base_pa = virt_to_phys(lg_iopm);
	ctl->msrpm_base_pa = virt_to_phys(lg_msrpm);
	ctl->asid = lg->asid;
	ctl->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	/* The guest's IF masks only virtual interrupts; ours stay ours. */
	ctl->int_ctl = V_INTR_MASKING_MASK;
	ctl->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	ctl->nested_cr3 = virt_to_phys(lg->npt_root);

	/* The 64-bit boot protocol: long mode, paging, flat segments. */
	lg_seg(&save->cs, 0x10, SEG_CODE64, 0xffffffff, 0);
	lg_seg(&save->ds, 0x18, SEG_DATA, 0xffffffff, 0);
	lg_seg(&save->es, 0x18, SEG_DATA, 0xffffffff, 0);
	lg_seg(&save->ss, 0x18, SEG_DATA, 0xffffffff, 0);
	lg_seg(&save->fs, 0x18, SEG_DATA, 0xffffffff, 0);
	lg_seg(&save->gs, 0x18, SEG_DATA, 0xffffffff, 0);
	lg_seg(&save->gdtr, 0, 0, init->gdt_limit, init->gdt_base);
	lg_seg(&save->idtr, 0, 0, 0, 0);
	lg_seg(&save->ldtr, 0, SEG_LDT, 0xffff, 0);
	lg_seg(&save->tr, 0, SEG_TSS64, 0xffff, 0);
	save->cpl = 0;
	save->efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NX | EFER_SCE;
	save->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	save->cr3 = init->cr3;
	save->cr4 = X86_CR4_PAE;
	save->dr6 = 0xffff0ff0;
	save->dr7 = 0x400;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = init->rip;
	save->rsp = 0;
	save->rax = 0;
	/* The power-on PAT: WB, WT, UC-, UC, repeated. */
	save->g_pat = 0x0007040600070406ULL;
	lg->regs = (struct lg_regs){ .rsi = init->rsi };
}
