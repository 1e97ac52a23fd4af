// SPDX-License-Identifier: GPL-2.0
/*
 * svm.c: can this processor run our guests?
 *
 * Before lg.ko offers /dev/lguest it asks the processor.  AMD's Secure
 * Virtual Machine extension (AMD-V) is announced by CPUID 0x80000001 ECX bit
 * 2.  The firmware can still switch it off, and lock it off, by setting
 * VM_CR.SVMDIS; a BIOS that does so on one CPU usually does on all, but we ask
 * every CPU, since a guest may run on any of them.  Then CPUID 0x8000000A
 * tells what this SVM can do: its revision, how many address space IDs (ASIDs)
 * it has, and whether it walks nested page tables for us.  We insist on nested
 * paging: it is how a guest's "physical" memory becomes the launcher's memory,
 * and without it we would need the shadow page tables that made the original
 * lguest so long.  (AMD64 Architecture Programmer's Manual, Volume 2, §15.4
 * "Enabling SVM" and Volume 3, CPUID Fn8000_000A.)
 *
 * Then, at the bottom of this file, the one place where a guest actually runs:
 * lg_svm_run().  SVM must be switched on (EFER.SVME) and told where to save
 * the host's state (VM_HSAVE_PA) on the CPU we are on.  kvm_amd may own both
 * on this CPU, so we save what we find, set ours, run, and put theirs back,
 * all with interrupts off: the other hypervisor never sees a difference.
 */
#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/string_helpers.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "lg.h"

#define CPUID_EXT_FEATURES	0x80000001
#define  CPUID_EXT_ECX_SVM	(1U << 2)
#define CPUID_SVM_FEATURES	0x8000000a
#define  SVM_EDX_NP		(1U << 0)
#define  SVM_EDX_NRIPS		(1U << 3)
#define  SVM_EDX_VMCB_CLEAN	(1U << 5)
#define  SVM_EDX_FLUSH_BY_ASID	(1U << 6)
#define  SVM_EDX_DECODE_ASSISTS	(1U << 7)

#define LG_MSR_VM_CR		0xc0010114
#define  VM_CR_SVMDIS		(1ULL << 4)

/* Has the firmware disabled SVM on any CPU?  Returns that CPU, or -1. */
static int lg_svm_disabled_cpu(void)
{
	int cpu, found = -1;
	u64 vm_cr;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (rdmsrl_safe_on_cpu(cpu, LG_MSR_VM_CR, &vm_cr) ||
		    (vm_cr & VM_CR_SVMDIS)) {
			found = cpu;
			break;
		}
	}
	cpus_read_unlock();
	return found;
}

int lg_svm_probe(struct lg_svm_caps *caps)
{
	u32 eax, ebx, ecx, edx;
	int cpu;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_err("lguest: this is not an AMD processor; lg.ko needs AMD SVM (Intel VT-x is not supported yet)\n");
		return -ENODEV;
	}
	if (cpuid_eax(0x80000000) < CPUID_SVM_FEATURES ||
	    !(cpuid_ecx(CPUID_EXT_FEATURES) & CPUID_EXT_ECX_SVM)) {
		pr_err("lguest: this processor has no AMD SVM (AMD-V); lg.ko cannot run guests\n");
		return -ENODEV;
	}
	cpu = lg_svm_disabled_cpu();
	if (cpu >= 0) {
		pr_err("lguest: SVM is disabled by the firmware on CPU %d (VM_CR.SVMDIS); enable AMD-V/SVM in the BIOS setup\n",
		       cpu);
		return -EPERM;
	}

	cpuid(CPUID_SVM_FEATURES, &eax, &ebx, &ecx, &edx);
	caps->revision = eax & 0xff;
	caps->nr_asids = ebx;
	caps->nested_paging = edx & SVM_EDX_NP;
	caps->nrip_save = edx & SVM_EDX_NRIPS;
	caps->vmcb_clean = edx & SVM_EDX_VMCB_CLEAN;
	caps->flush_by_asid = edx & SVM_EDX_FLUSH_BY_ASID;
	caps->decode_assists = edx & SVM_EDX_DECODE_ASSISTS;

	pr_info("lguest: AMD SVM revision %u, nested paging %s, %u ASIDs, next-RIP save %s, VMCB clean bits %s, flush by ASID %s, decode assists %s\n",
		caps->revision, str_yes_no(caps->nested_paging),
		caps->nr_asids, str_yes_no(caps->nrip_save),
		str_yes_no(caps->vmcb_clean), str_yes_no(caps->flush_by_asid),
		str_yes_no(caps->decode_assists));

	if (!caps->nested_paging) {
		pr_err("lguest: this SVM has no nested paging; lg.ko needs it\n");
		return -ENODEV;
	}
	if (caps->nr_asids < 2) {
		pr_err("lguest: this SVM has no ASID for a guest\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * Each CPU needs two pages of its own: the host save area VMRUN writes to
 * (VM_HSAVE_PA) and a page where VMSAVE keeps the host's FS, GS, TR, LDTR
 * and syscall MSRs while the guest's are loaded (VMRUN does not switch them).
 */
struct lg_percpu {
	struct page *hsave;
	struct page *host_vmcb;
};
static DEFINE_PER_CPU(struct lg_percpu, lg_percpu);

void lg_svm_percpu_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct lg_percpu *pc = per_cpu_ptr(&lg_percpu, cpu);

		if (pc->hsave)
			__free_page(pc->hsave);
		if (pc->host_vmcb)
			__free_page(pc->host_vmcb);
		pc->hsave = pc->host_vmcb = NULL;
	}
}

int lg_svm_percpu_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct lg_percpu *pc = per_cpu_ptr(&lg_percpu, cpu);
		int node = cpu_to_node(cpu);

		pc->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		pc->host_vmcb = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!pc->hsave || !pc->host_vmcb) {
			lg_svm_percpu_free();
			return -ENOMEM;
		}
	}
	return 0;
}

static inline void lg_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void lg_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/*
 * QEMU's emulated SVM (7.2, as Debian 12 ships it; fixed upstream in 2025)
 * marks a virtual interrupt pending at VMRUN without the lock that guards
 * its CPU's interrupt requests.  A host timer interrupt raised by QEMU's
 * other thread at that moment is lost: it stays in the host's local APIC,
 * unannounced, and a host whose clock is its one-shot APIC timer stops
 * keeping time.  Rewriting the task priority (CR8) makes QEMU look at the
 * local APIC again and deliver what waits there.  On real processors it
 * changes nothing, and we do it only after a VMRUN that asked for an
 * interrupt window (V_IRQ), which is the racy case.
 */
static void lg_host_apic_recheck(void)
{
	unsigned long tpr;

	asm volatile("mov %%cr8, %0" : "=r"(tpr));
	asm volatile("mov %0, %%cr8" : : "r"(tpr) : "memory");
}

/*
 * Run the guest once, until its next #VMEXIT.  Called with interrupts and
 * preemption disabled and the guest's FPU state loaded.  GIF stays clear from
 * before VMRUN until after we have restored the host's state, so no interrupt
 * (not even an NMI) can see a half-switched CPU; vmrun.S sets IF just before
 * VMRUN so that a host interrupt during the guest makes it exit, and the
 * interrupt is taken once we set GIF again.
 */
void lg_svm_run(struct lguest *lg)
{
	struct lg_percpu *pc = this_cpu_ptr(&lg_percpu);
	bool window = lg->vmcb->control.int_ctl & V_IRQ_MASK;
	u64 efer, hsave;

	rdmsrl(MSR_EFER, efer);
	rdmsrl(MSR_VM_HSAVE_PA, hsave);
	if (!(efer & EFER_SVME))
		wrmsrl(MSR_EFER, efer | EFER_SVME);
	lg_clgi();
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(pc->hsave));

	lg_vmrun(&lg->regs, lg->vmcb_pa, page_to_phys(pc->host_vmcb));

	if (window)
		lg_host_apic_recheck();
	wrmsrl(MSR_VM_HSAVE_PA, hsave);
	/* #VMEXIT disables the host's hardware breakpoints. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	lg_stgi();
	if (!(efer & EFER_SVME))
		wrmsrl(MSR_EFER, efer);
}
