// SPDX-License-Identifier: GPL-2.0
/*
 * msr.c: RDMSR and WRMSR.
 *
 * The MSRs the VMCB holds (FS and GS bases, the syscall MSRs) the guest uses
 * directly: vmcb.c leaves them out of the permission map.  Every other MSR
 * access exits to here.  The x2APIC's registers go to lapic.c and kvm-clock's
 * to pvclock.c; EFER, PAT, the TSC and the APIC base we keep; a few that a
 * booting kernel reads on any AMD processor read as zero.  The rest raise #GP,
 * as on a processor that lacks them, and the guest's kernel copes ("unchecked
 * MSR access" warnings tell a developer which one).
 */
#include <linux/ratelimit.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/traps.h>

#include "lg.h"

/* Read as zero, writes ignored: harmless questions a kernel asks. */
static bool lg_msr_is_zero(u32 msr)
{
	switch (msr) {
	case MSR_IA32_UCODE_REV:	/* 0x8b, "microcode revision" */
	case MSR_IA32_MISC_ENABLE:
	case MSR_K7_HWCR:
	case MSR_K8_INT_PENDING_MSG:	/* the AMD E400 idle check */
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_PERF_STATUS:
	case MSR_IA32_PERF_CTL:
		return true;
	}
	return false;
}

/* Each PAT entry must be a memory type that exists: 0, 1, 4, 5, 6 or 7. */
static bool lg_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = (pat >> (8 * i)) & 0xff;

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

#define LG_EFER_ALLOWED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_FFXSR)

static bool lg_msr(struct lguest *lg, u32 msr, bool write, u64 *val)
{
	struct vmcb_save_area *save = &lg->vmcb->save;

	if (lg_lapic_msr(lg, msr, write, val) || lg_pvclock_msr(lg, msr, write, val))
		return true;
	if (lg_msr_is_zero(msr)) {
		if (!write)
			*val = 0;
		return true;
	}
	switch (msr) {
	case MSR_EFER:
		if (!write) {
			*val = save->efer & ~EFER_SVME;
			return true;
		}
		/* Long mode must stay on: we never leave it. */
		if ((*val & ~LG_EFER_ALLOWED) || !(*val & EFER_LME))
			return false;
		save->efer = *val | EFER_SVME | EFER_LMA;
		return true;
	case MSR_IA32_CR_PAT:
		if (!write)
			*val = save->g_pat;
		else if (lg_pat_valid(*val))
			save->g_pat = *val;
		else
			return false;
		return true;
	case MSR_IA32_TSC:
		if (!write)
			*val = rdtsc() + lg->vmcb->control.tsc_offset;
		return true;	/* writes ignored: the TSC is the host's */
	case MSR_IA32_APICBASE:
		if (!write) {
			*val = lg_lapic_base(lg);
			return true;
		}
		return lg_lapic_set_base(lg, *val);
	}
	return false;
}

int lg_handle_msr(struct lguest *lg)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 10);
	bool write = lg->vmcb->control.exit_info_1 == 1;
	u32 msr = lg->regs.rcx;
	u64 val = 0;

	if (write)
		val = (lg->regs.rdx << 32) | (u32)lg->vmcb->save.rax;
	if (!lg_msr(lg, msr, write, &val)) {
		if (__ratelimit(&rs))
			pr_info("lguest: guest %s of MSR %#x refused (#GP)\n",
				write ? "write" : "read", msr);
		lg_inject_exception(lg, X86_TRAP_GP, true, 0);
		return 0;
	}
	if (!write) {
		lg->vmcb->save.rax = (u32)val;
		lg->regs.rdx = val >> 32;
	}
	lg_skip_insn(lg, 2);
	return 0;
}
