// SPDX-License-Identifier: GPL-2.0
/*
 * run.c: the run loop, and what we do at each #VMEXIT.
 *
 * A launcher's read() lands in lg_run().  It goes round: deliver whatever
 * interrupt is due, enter the guest, and when the processor brings us back,
 * look at why.  Most reasons we deal with here and go round again (a CPUID, an
 * MSR, a page of memory touched for the first time, a timer); a port or an
 * address we do not serve, or the guest's death, is the launcher's business,
 * and read() returns to it with a struct lguest_exit that says what happened.
 *
 * A guest that does what no real machine allows is not our problem to solve:
 * it gets the exception real hardware would give it (#UD for the SVM
 * instructions, #GP for a bad MSR).  A guest that leaves us nothing sensible
 * to do (a triple fault, a VMCB the processor refuses) is killed, with a
 * reason the launcher prints.  Either way the host carries on.
 */
#include <linux/kernel.h>
#include <linux/sched/signal.h>
#include <asm/fpu/api.h>
#include <asm/processor-flags.h>
#include <asm/traps.h>

#include "lg.h"

/* KVM's hypercall errors, which guests already know. */
#define LG_ENOSYS 1000	/* no such call */
#define LG_EPERM 1	/* called from user mode */

/*
 * The guest dies, for the reason given; the first reason stands.  Usually its
 * own thread kills it, but a sender it receives from may too (dma.c): that
 * one kicks it out of the guest or out of HLT, to find itself dead.
 */
void lg_kill(struct lguest *lg, const char *fmt, ...)
{
	va_list args;

	if (test_and_set_bit(0, &lg->killing))
		return;
	va_start(args, fmt);
	vscnprintf(lg->dead_msg, sizeof(lg->dead_msg), fmt, args);
	va_end(args);
	smp_store_release(&lg->dead, true);
	pr_info("lguest: guest of pid %d killed: %s\n", lg->pid, lg->dead_msg);
	lg_kick(lg);
}

static u64 *lg_reg_ptr(struct lguest *lg, int reg)
{
	switch (reg) {
	case LG_RAX: return &lg->vmcb->save.rax;
	case LG_RCX: return &lg->regs.rcx;
	case LG_RDX: return &lg->regs.rdx;
	case LG_RBX: return &lg->regs.rbx;
	case LG_RSP: return &lg->vmcb->save.rsp;
	case LG_RBP: return &lg->regs.rbp;
	case LG_RSI: return &lg->regs.rsi;
	case LG_RDI: return &lg->regs.rdi;
	default:     return &lg->regs.r8 + (reg - 8);
	}
}

u64 lg_get_reg(struct lguest *lg, int reg)
{
	return *lg_reg_ptr(lg, reg & 15);
}

void lg_set_reg(struct lguest *lg, int reg, u64 val)
{
	*lg_reg_ptr(lg, reg & 15) = val;
}

/*
 * Step over an instruction we emulated.  The processor tells us where the
 * next one starts only when it has next-RIP saving (QEMU's emulated SVM does
 * not), so callers pass the length they know.  The instruction is done, so
 * an interrupt shadow it began (after MOV SS or STI) is over.
 */
void lg_skip_insn(struct lguest *lg, unsigned int len)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;

	if (lg_caps.nrip_save && ctl->next_rip)
		lg->vmcb->save.rip = ctl->next_rip;
	else
		lg->vmcb->save.rip += len;
	ctl->int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

void lg_inject_exception(struct lguest *lg, int vector, bool has_err, u32 err)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;

	ctl->event_inj = vector | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID |
			 (has_err ? SVM_EVTINJ_VALID_ERR : 0);
	ctl->event_inj_err = err;
}

/*
 * Enter the guest once.  Its FPU state goes into the real registers inside a
 * kernel_fpu_begin() section (which also keeps us on this CPU); the guest
 * cannot turn on XSAVE (cpuid.c hides it, CR4 writes are checked), so FXSAVE
 * covers all of its state.  A guest that moved CPU flushes the TLB: its ASID's
 * entries elsewhere may be stale; so does a guest whose ASID is shared.
 *
 * Interrupts for the guest are chosen with the host's interrupts off: a timer
 * or a sender that raised one a moment earlier on this CPU has nobody to kick
 * out of the guest (we are not in it yet), so it must be seen now, not at the
 * next host tick.  One raised from now on finds us in the guest, or its IPI
 * waits for the VMRUN and makes the guest exit at once.
 */
static void lg_enter_guest(struct lguest *lg)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;
	int cpu;

	kernel_fpu_begin();
	asm volatile("fxrstor64 %0" : : "m"(lg->fpu));
	local_irq_disable();
	lg_inject_interrupts(lg);
	cpu = smp_processor_id();
	if (cpu != lg->last_cpu) {
		ctl->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		lg->last_cpu = cpu;
	}
	/* A shared ASID's entries may be another guest's (lguest_user.c). */
	if (lg_asid_shared(lg->asid) || lg->asid_was_shared) {
		ctl->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		lg->asid_was_shared = lg_asid_shared(lg->asid);
	}
	lg_svm_run(lg);
	ctl->tlb_ctl = TLB_CONTROL_DO_NOTHING;
	local_irq_enable();
	asm volatile("fxsave64 %0" : "=m"(lg->fpu));
	kernel_fpu_end();
}

/* The guest halts: sleep until an interrupt is due, or power off. */
static int lg_halt(struct lguest *lg, struct lguest_exit *exit)
{
	lg_skip_insn(lg, 1);
	if (!(lg->vmcb->save.rflags & X86_EFLAGS_IF)) {
		exit->reason = LGUEST_EXIT_POWEROFF;
		return 1;
	}
	if (wait_event_interruptible(lg->halt_wq, lg_lapic_has_pending(lg) ||
				     READ_ONCE(lg->dead)))
		return -EINTR;
	return 0;
}

/* MOV to CR4: only the features the guest was shown (cpuid.c). */
#define LG_CR4_ALLOWED (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
			X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCE | \
			X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_UMIP | \
			X86_CR4_FSGSBASE | X86_CR4_SMEP | X86_CR4_SMAP)

static int lg_decode_at_rip(struct lguest *lg, struct lg_insn *insn)
{
	u8 bytes[15];
	unsigned int len;

	if (lg_fetch_insn(lg, bytes, &len) || lg_decode(bytes, len, insn)) {
		lg_kill(lg, "cannot decode the instruction at RIP %#llx (%*ph)",
			lg->vmcb->save.rip, len > 8 ? 8 : len, bytes);
		return -1;
	}
	return 0;
}

/*
 * The exit says "write to CR<cr>": the instruction at RIP must be a MOV to
 * that register.  Its value goes in *val; false (the guest killed) if not.
 */
static bool lg_decode_cr_write(struct lguest *lg, int cr, struct lg_insn *insn, u64 *val)
{
	if (lg_decode_at_rip(lg, insn))
		return false;
	if (insn->kind != LG_INSN_MOV_CR || insn->num != cr || !insn->is_write) {
		lg_kill(lg, "CR%d write by an instruction we do not know at RIP %#llx",
			cr, lg->vmcb->save.rip);
		return false;
	}
	*val = lg_get_reg(lg, insn->reg);
	return true;
}

static void lg_write_cr4(struct lguest *lg)
{
	struct lg_insn insn;
	u64 val;

	if (!lg_decode_cr_write(lg, 4, &insn, &val))
		return;
	if ((val & ~(u64)LG_CR4_ALLOWED) || !(val & X86_CR4_PAE)) {
		lg_inject_exception(lg, X86_TRAP_GP, true, 0);
		return;
	}
	lg->vmcb->save.cr4 = val;
	/* Toggling PGE is how Linux flushes global pages: flush. */
	lg->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	lg_skip_insn(lg, insn.len);
}

/*
 * MOV to CR8 sets the task priority (lapic.c keeps the APIC's TPR and V_TPR
 * in step).  We take the write rather than let the processor keep it in
 * V_TPR: our APIC must see it, and QEMU 7.2's emulated SVM would abort on a
 * guest's CR8 write while it waits for an interrupt window (svm.c).
 */
static void lg_write_cr8(struct lguest *lg)
{
	struct lg_insn insn;
	u64 val;

	if (!lg_decode_cr_write(lg, 8, &insn, &val))
		return;
	if (val & ~0xfULL) {
		lg_inject_exception(lg, X86_TRAP_GP, true, 0);
		return;
	}
	lg_lapic_set_tpr(lg, val << 4);
	lg_skip_insn(lg, insn.len);
}

/* DR0-3 are the host's: the guest gets a private, powerless copy. */
static void lg_access_dr(struct lguest *lg)
{
	struct lg_insn insn;

	if (lg_decode_at_rip(lg, &insn))
		return;
	if (insn.kind != LG_INSN_MOV_DR || insn.num > 3) {
		lg_kill(lg, "debug register access we do not know at RIP %#llx",
			lg->vmcb->save.rip);
		return;
	}
	if (insn.is_write)
		lg->dr[insn.num] = lg_get_reg(lg, insn.reg);
	else
		lg_set_reg(lg, insn.reg, lg->dr[insn.num]);
	lg_skip_insn(lg, insn.len);
}

static void lg_count_exit(struct lguest *lg)
{
	u32 code = lg->vmcb->control.exit_code;
	int kind;

	switch (code) {
	case SVM_EXIT_IOIO:  kind = LG_EXIT_IO; break;
	case SVM_EXIT_MSR:   kind = LG_EXIT_MSR; break;
	case SVM_EXIT_HLT:   kind = LG_EXIT_HLT; break;
	case SVM_EXIT_INTR:  kind = LG_EXIT_INTR; break;
	case SVM_EXIT_VINTR: kind = LG_EXIT_VINTR; break;
	case SVM_EXIT_NPF:
		kind = lg->vmcb->control.exit_info_2 < lg->mem_size ?
		       LG_EXIT_NPF : LG_EXIT_MMIO;
		break;
	default:	     kind = LG_EXIT_OTHER;
	}
	lg->recent[lg->exits % ARRAY_SIZE(lg->recent)] = (struct lg_exit_record){
		.code = code, .rip = lg->vmcb->save.rip,
		.info1 = lg->vmcb->control.exit_info_1,
		.info2 = lg->vmcb->control.exit_info_2,
	};
	lg->exits++;
	lg->exits_by[kind]++;
}

/* What a developer needs to see of a guest that died. */
static void lg_dump(struct lguest *lg)
{
	struct vmcb_save_area *save = &lg->vmcb->save;
	unsigned long i, n = min_t(unsigned long, lg->exits, ARRAY_SIZE(lg->recent));

	pr_info("lguest: RIP %#llx RSP %#llx RFLAGS %#llx CPL %u CS %#x EFER %#llx CR0 %#llx CR3 %#llx CR4 %#llx CR2 %#llx\n",
		save->rip, save->rsp, save->rflags, save->cpl, save->cs.selector,
		save->efer, save->cr0, save->cr3, save->cr4, save->cr2);
	pr_info("lguest: IDT %#llx/%#x GDT %#llx/%#x TR %#x exit_int_info %#x event_inj %#x\n",
		save->idtr.base, save->idtr.limit, save->gdtr.base, save->gdtr.limit,
		save->tr.selector, lg->vmcb->control.exit_int_info,
		lg->vmcb->control.event_inj);
	for (i = lg->exits - n; i < lg->exits; i++) {
		struct lg_exit_record *r = &lg->recent[i % ARRAY_SIZE(lg->recent)];

		pr_info("lguest: exit %lu: code %#x RIP %#llx info %#llx %#llx\n",
			i, r->code, r->rip, r->info1, r->info2);
	}
}

/*
 * VMMCALL: a hypercall, KVM's way (RAX = the call, RBX, RCX, RDX = its
 * arguments, the result in RAX).  Only the guest's kernel may call.  The I/O
 * model's two calls are dma.c's; a send to a key nobody else bound is the
 * launcher's to answer (returns 1, exit filled), with RAX already 0.
 */
static int lg_hypercall(struct lguest *lg, struct lguest_exit *exit)
{
	struct vmcb_save_area *save = &lg->vmcb->save;
	u64 call = save->rax;

	lg_skip_insn(lg, 3);
	if (save->cpl) {
		save->rax = (u64)-LG_EPERM;
		return 0;
	}
	switch (call) {
	case LHCALL_BIND_DMA:
		save->rax = 0;
		lg_dma_bind_hypercall(lg, lg->regs.rbx, lg->regs.rcx, lg->regs.rdx);
		return 0;
	case LHCALL_SEND_DMA:
		save->rax = 0;
		return lg_dma_send_hypercall(lg, lg->regs.rbx, lg->regs.rcx, exit);
	}
	save->rax = (u64)-LG_ENOSYS;
	return 0;
}

/* Returns 0 to run on, 1 when exit is filled for the launcher, or -errno. */
static int lg_handle_exit(struct lguest *lg, struct lguest_exit *exit)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;
	u32 code = ctl->exit_code;

	/* An event cut short by this exit is delivered again. */
	if (ctl->exit_int_info & SVM_EXITINTINFO_VALID) {
		ctl->event_inj = ctl->exit_int_info;
		ctl->event_inj_err = ctl->exit_int_info_err;
	}

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		return 0;	/* the host's: taken as soon as we STGI */
	case SVM_EXIT_VINTR:
		lg_interrupt_window_open(lg);
		return 0;
	case SVM_EXIT_CPUID:
		lg_handle_cpuid(lg);
		lg_skip_insn(lg, 2);
		return 0;
	case SVM_EXIT_HLT:
		return lg_halt(lg, exit);
	case SVM_EXIT_IOIO:
		return lg_handle_ioio(lg, exit);
	case SVM_EXIT_MSR:
		return lg_handle_msr(lg);
	case SVM_EXIT_NPF:
		return lg_handle_npf(lg, exit);
	case SVM_EXIT_VMMCALL:
		return lg_hypercall(lg, exit);
	case SVM_EXIT_WRITE_CR4:
		lg_write_cr4(lg);
		return 0;
	case SVM_EXIT_WRITE_CR8:
		lg_write_cr8(lg);
		return 0;
	case SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR3:
	case SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR3:
		lg_access_dr(lg);
		return 0;
	case SVM_EXIT_EXCP_BASE + X86_TRAP_AC:
		lg_inject_exception(lg, X86_TRAP_AC, true, 0);
		return 0;
	case SVM_EXIT_EXCP_BASE + X86_TRAP_DB:
		lg_inject_exception(lg, X86_TRAP_DB, false, 0);
		return 0;
	case SVM_EXIT_INVD:
		lg_skip_insn(lg, 2);	/* our caches need no invalidating */
		return 0;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_RDPRU:
	case SVM_EXIT_RSM:
		/* Instructions of features this CPU does not have for it. */
		lg_inject_exception(lg, X86_TRAP_UD, false, 0);
		return 0;
	case SVM_EXIT_ICEBP:
		/* INT1: the debug trap it is, after the instruction. */
		lg_skip_insn(lg, 1);
		lg_inject_exception(lg, X86_TRAP_DB, false, 0);
		return 0;
	case SVM_EXIT_SHUTDOWN:
		lg_kill(lg, "the guest triple-faulted (shutdown) at RIP %#llx",
			lg->vmcb->save.rip);
		lg_dump(lg);
		return 0;
	case SVM_EXIT_ERR:
		lg_kill(lg, "the processor refused the guest's state (VMRUN failed)");
		return 0;
	default:
		lg_kill(lg, "unhandled #VMEXIT %#x at RIP %#llx (info %#llx %#llx)",
			code, lg->vmcb->save.rip, ctl->exit_info_1, ctl->exit_info_2);
		return 0;
	}
}

int lg_run(struct lguest *lg, struct lguest_exit *exit)
{
	int ret;

	for (;;) {
		if (smp_load_acquire(&lg->dead)) {
			exit->reason = LGUEST_EXIT_DEAD;
			strscpy(exit->message, lg->dead_msg, sizeof(exit->message));
			return 1;
		}
		if (signal_pending(current))
			return -EINTR;
		cond_resched();

		lg_enter_guest(lg);
		lg_count_exit(lg);

		ret = lg_handle_exit(lg, exit);
		if (ret)
			return ret;
	}
}
