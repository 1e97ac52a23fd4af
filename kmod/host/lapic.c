// SPDX-License-Identifier: GPL-2.0
/*
 * lapic.c: the guest's local APIC, its timer, and getting interrupts in.
 *
 * The guest's processor has an x2APIC.  It boots in xAPIC mode, where the
 * registers are memory at 0xfee00000 (io.c decodes those accesses and calls
 * lg_lapic_mmio()), and Linux soon switches it to x2APIC mode, where every
 * register is an MSR (0x800 + offset/16, lg_lapic_msr()).  Both land in
 * lg_lapic_reg().  (We would rather start in x2APIC mode, as the design first
 * said, but Linux 6.1 reads the APIC ID through its xAPIC mapping while it
 * parses the MP table, before it looks at the mode, and faults.)  We keep
 * what a single CPU needs: the request and in-service registers, the task priority, the
 * local vector table, EOI and self-IPIs, and the timer, in its three modes.
 * The guest is told (cpuid.c) that it has the TSC-deadline mode, and Linux
 * uses it: the guest writes the TSC value at which it wants an interrupt, we
 * start an hrtimer for the same moment, and when it fires we mark the timer
 * vector requested and kick the guest out of whatever it is doing.
 *
 * Requests (IRR) arrive from anywhere: the hrtimer, a launcher thread raising
 * an IOAPIC line, the guest's own self-IPIs.  They are atomic bit operations.
 * Everything else belongs to the thread running the guest.
 *
 * Getting an interrupt in is lg_inject_interrupts(), before every VMRUN: the
 * highest requested vector above the priority in service goes in through the
 * VMCB's EVENTINJ when the guest can take it (IF set, no interrupt shadow).
 * When it cannot, we ask the processor for a "virtual interrupt" with the
 * VINTR intercept on: it exits the moment the guest could take one, and we
 * try again.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/rcupdate.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>

#include "lg.h"

#define APIC_LVT_CMCI		0x2f0
#define LVT_MASKED		(1U << 16)
#define LVT_TIMER_MODE(lvt)	(((lvt) >> 17) & 3)
#define TIMER_ONESHOT		0
#define TIMER_PERIODIC		1
#define TIMER_TSC_DEADLINE	2
/* The "bus clock" the one-shot and periodic modes count: 1 GHz. */
#define LG_APIC_BUS_HZ		1000000000ULL

static u64 lg_tsc_to_ns(u64 ticks)
{
	return mul_u64_u32_div(ticks, 1000000, tsc_khz);
}

void lg_kick(struct lguest *lg)
{
	struct task_struct *runner;

	wake_up_interruptible(&lg->halt_wq);
	rcu_read_lock();
	runner = READ_ONCE(lg->runner);
	if (runner)
		kick_process(runner);	/* an IPI makes a running guest exit */
	rcu_read_unlock();
}

void lg_lapic_set_irq(struct lguest *lg, u8 vector)
{
	if (vector < 16)
		return;		/* illegal vectors are never delivered */
	set_bit(vector, lg->lapic.irr);
	lg_kick(lg);
}

static enum hrtimer_restart lg_timer_fn(struct hrtimer *timer)
{
	struct lguest *lg = container_of(timer, struct lguest, lapic.timer);
	struct lg_lapic *apic = &lg->lapic;

	atomic_set(&apic->timer_fired, 1);
	lg_kick(lg);
	if (LVT_TIMER_MODE(apic->lvt_timer) == TIMER_PERIODIC && apic->timer_initial) {
		u64 period = (u64)apic->timer_initial * apic->timer_divide;

		hrtimer_forward_now(timer, ns_to_ktime(max_t(u64, period, 10000)));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

void lg_lapic_init(struct lguest *lg)
{
	struct lg_lapic *apic = &lg->lapic;

	apic->svr = 0xff;
	apic->dfr = 0xffffffff;
	apic->lvt_timer = apic->lvt_thermal = apic->lvt_perf = LVT_MASKED;
	apic->lvt_lint0 = apic->lvt_lint1 = apic->lvt_error = LVT_MASKED;
	apic->lvt_cmci = LVT_MASKED;
	apic->timer_divide = 2;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lg_timer_fn;
}

void lg_lapic_destroy(struct lguest *lg)
{
	hrtimer_cancel(&lg->lapic.timer);
}

static void lg_timer_arm_deadline(struct lguest *lg, u64 deadline)
{
	struct lg_lapic *apic = &lg->lapic;
	u64 now = rdtsc() + lg->vmcb->control.tsc_offset;

	hrtimer_cancel(&apic->timer);
	apic->tsc_deadline = deadline;
	if (!deadline)
		return;
	if ((s64)(deadline - now) <= 0) {
		atomic_set(&apic->timer_fired, 1);
		return;
	}
	hrtimer_start(&apic->timer,
		      ktime_add_ns(ktime_get(), lg_tsc_to_ns(deadline - now)),
		      HRTIMER_MODE_ABS_HARD);
}

static void lg_timer_arm_count(struct lguest *lg, u32 count)
{
	struct lg_lapic *apic = &lg->lapic;
	u64 ns = (u64)count * apic->timer_divide * (NSEC_PER_SEC / LG_APIC_BUS_HZ);

	hrtimer_cancel(&apic->timer);
	apic->timer_initial = count;
	apic->timer_start_ns = ktime_get_ns();
	if (count)
		hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
			      HRTIMER_MODE_ABS_HARD);
}

static u32 lg_timer_current(struct lguest *lg)
{
	struct lg_lapic *apic = &lg->lapic;
	u64 period = (u64)apic->timer_initial * apic->timer_divide;
	u64 elapsed = ktime_get_ns() - apic->timer_start_ns;

	if (!period || LVT_TIMER_MODE(apic->lvt_timer) == TIMER_TSC_DEADLINE)
		return 0;
	if (LVT_TIMER_MODE(apic->lvt_timer) == TIMER_PERIODIC)
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	return (period - elapsed) / apic->timer_divide;
}

static int lg_highest(const unsigned long *bits)
{
	int vec = find_last_bit(bits, 256);

	return vec < 256 ? vec : -1;
}

/* Processor priority: the higher of the task priority and what is in service. */
static u32 lg_ppr(struct lguest *lg)
{
	int isr = lg_highest(lg->lapic.isr);
	u32 isr_class = isr < 0 ? 0 : isr & 0xf0;

	return max(lg->lapic.tpr & 0xf0, isr_class);
}

static int lg_deliverable(struct lguest *lg)
{
	int vec = lg_highest(lg->lapic.irr);

	if (vec < 0 || (vec & 0xf0) <= lg_ppr(lg))
		return -1;
	return vec;
}

/* The hrtimer's news becomes a request for the timer's vector. */
static void lg_timer_deliver(struct lguest *lg)
{
	struct lg_lapic *apic = &lg->lapic;

	if (!atomic_xchg(&apic->timer_fired, 0))
		return;
	if (LVT_TIMER_MODE(apic->lvt_timer) == TIMER_TSC_DEADLINE)
		apic->tsc_deadline = 0;
	if (!(apic->lvt_timer & LVT_MASKED))
		set_bit(apic->lvt_timer & 0xff, apic->irr);
}

bool lg_lapic_has_pending(struct lguest *lg)
{
	lg_timer_deliver(lg);
	return lg_deliverable(lg) >= 0;
}

static void lg_window_off(struct lguest *lg)
{
	lg->vmcb->control.int_ctl &= ~(V_IRQ_MASK | V_IGN_TPR_MASK | V_INTR_PRIO_MASK);
	lg_set_intercept(lg, INTERCEPT_VINTR, false);
}

void lg_interrupt_window_open(struct lguest *lg)
{
	lg_window_off(lg);
}

void lg_inject_interrupts(struct lguest *lg)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;
	int vec;

	lg_timer_deliver(lg);
	vec = lg_deliverable(lg);
	if (vec < 0) {
		lg_window_off(lg);
		return;
	}
	if (!(ctl->event_inj & SVM_EVTINJ_VALID) &&
	    (lg->vmcb->save.rflags & X86_EFLAGS_IF) &&
	    !(ctl->int_state & SVM_INTERRUPT_SHADOW_MASK)) {
		clear_bit(vec, lg->lapic.irr);
		__set_bit(vec, lg->lapic.isr);
		ctl->event_inj = vec | SVM_EVTINJ_TYPE_INTR | SVM_EVTINJ_VALID;
		lg_window_off(lg);
		return;
	}
	/* Not now: ask to be told when the guest can take an interrupt. */
	ctl->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK | (0xf << V_INTR_PRIO_SHIFT);
	lg_set_intercept(lg, INTERCEPT_VINTR, true);
}

static void lg_eoi(struct lguest *lg)
{
	int vec = lg_highest(lg->lapic.isr);

	if (vec >= 0)
		__clear_bit(vec, lg->lapic.isr);
}

#define ICR_DELIVERY(icr)	(((icr) >> 8) & 7)
#define ICR_SHORTHAND(icr)	(((icr) >> 18) & 3)
#define ICR_DEST(icr)		((icr) >> 32)

/* One CPU: an IPI reaches us or no one.  Fixed interrupts only. */
static void lg_send_ipi(struct lguest *lg, u64 icr)
{
	bool to_self = ICR_SHORTHAND(icr) == 1 || ICR_SHORTHAND(icr) == 2 ||
		       (ICR_SHORTHAND(icr) == 0 && ICR_DEST(icr) == 0);

	if (to_self && ICR_DELIVERY(icr) == 0)
		lg_lapic_set_irq(lg, icr & 0xff);
}

/* Word "word" (32 vectors) of a 256-bit register. */
static u32 lg_reg_bits(const unsigned long *bits, unsigned int word)
{
	return bits[word * 32 / BITS_PER_LONG] >> ((word * 32) % BITS_PER_LONG);
}

/*
 * The task priority: the APIC's register, and CR8, which is its upper four
 * bits.  The guest reads CR8 from the VMCB's V_TPR without an exit, so the
 * two are kept the same whichever the guest writes.
 */
void lg_lapic_set_tpr(struct lguest *lg, u32 tpr)
{
	struct vmcb_control_area *ctl = &lg->vmcb->control;

	lg->lapic.tpr = tpr & 0xff;
	ctl->int_ctl = (ctl->int_ctl & ~V_TPR_MASK) | ((tpr >> 4) & V_TPR_MASK);
}

/* One APIC register, by its xAPIC offset; false for "no such register". */
static bool lg_lapic_reg(struct lguest *lg, u32 reg, bool write, u64 *val)
{
	struct lg_lapic *apic = &lg->lapic;
	u32 v = *val;

	if (write) {
		switch (reg) {
		case APIC_TASKPRI:
			lg_lapic_set_tpr(lg, v);
			return true;
		case APIC_EOI:
			lg_eoi(lg);
			return true;
		case APIC_SPIV:
			apic->svr = v & 0x13ff;
			return true;
		case APIC_ESR:
			apic->esr = 0;
			return true;
		case APIC_ICR:
			lg_send_ipi(lg, *val);
			return true;
		case APIC_SELF_IPI:
			lg_lapic_set_irq(lg, v & 0xff);
			return true;
		case APIC_LVTT: {
			u32 old_mode = LVT_TIMER_MODE(apic->lvt_timer);

			apic->lvt_timer = v & (0xff | LVT_MASKED | (3 << 17));
			if (LVT_TIMER_MODE(apic->lvt_timer) != old_mode) {
				hrtimer_cancel(&apic->timer);
				apic->tsc_deadline = 0;
				apic->timer_initial = 0;
			}
			return true;
		}
		case APIC_LVTTHMR: apic->lvt_thermal = v; return true;
		case APIC_LVTPC:   apic->lvt_perf = v; return true;
		case APIC_LVT0:    apic->lvt_lint0 = v; return true;
		case APIC_LVT1:    apic->lvt_lint1 = v; return true;
		case APIC_LVTERR:  apic->lvt_error = v; return true;
		case APIC_LVT_CMCI: apic->lvt_cmci = v; return true;
		case APIC_TMICT:
			if (LVT_TIMER_MODE(apic->lvt_timer) != TIMER_TSC_DEADLINE)
				lg_timer_arm_count(lg, v);
			return true;
		case APIC_TDCR: {
			u32 code = (v & 3) | ((v >> 1) & 4);

			apic->timer_divide = code == 7 ? 1 : 2 << code;
			return true;
		}
		}
		return false;	/* read-only or reserved: #GP, as in x2APIC mode */
	}

	switch (reg) {
	case APIC_ID:
		*val = 0;
		return true;
	case APIC_LVR:
		*val = 0x00050014;	/* version 0x14, six LVT entries */
		return true;
	case APIC_TASKPRI:
		*val = apic->tpr;
		return true;
	case APIC_PROCPRI:
		*val = lg_ppr(lg);
		return true;
	case APIC_LDR:
		/* x2APIC: cluster 0, bit 0.  xAPIC: what the guest set. */
		*val = apic->x2apic ? 1 : apic->ldr;
		return true;
	case APIC_SPIV:
		*val = apic->svr;
		return true;
	case APIC_ISR ... APIC_ISR + 0x70:
		*val = lg_reg_bits(apic->isr, (reg - APIC_ISR) >> 4);
		return true;
	case APIC_TMR ... APIC_TMR + 0x70:
		*val = 0;	/* every interrupt we deliver is edge-triggered */
		return true;
	case APIC_IRR ... APIC_IRR + 0x70:
		*val = lg_reg_bits(apic->irr, (reg - APIC_IRR) >> 4);
		return true;
	case APIC_ESR:
		*val = 0;
		return true;
	case APIC_ICR:
		*val = 0;
		return true;
	case APIC_LVTT:    *val = apic->lvt_timer; return true;
	case APIC_LVTTHMR: *val = apic->lvt_thermal; return true;
	case APIC_LVTPC:   *val = apic->lvt_perf; return true;
	case APIC_LVT0:    *val = apic->lvt_lint0; return true;
	case APIC_LVT1:    *val = apic->lvt_lint1; return true;
	case APIC_LVTERR:  *val = apic->lvt_error; return true;
	case APIC_LVT_CMCI: *val = apic->lvt_cmci; return true;
	case APIC_TMICT:   *val = apic->timer_initial; return true;
	case APIC_TMCCT:   *val = lg_timer_current(lg); return true;
	case APIC_TDCR: {
		u32 d = apic->timer_divide, code = d == 1 ? 7 : ilog2(d) - 1;

		*val = (code & 3) | ((code & 4) << 1);
		return true;
	}
	}
	return false;
}

bool lg_lapic_msr(struct lguest *lg, u32 msr, bool write, u64 *val)
{
	struct lg_lapic *apic = &lg->lapic;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!write)
			*val = apic->tsc_deadline;
		else if (LVT_TIMER_MODE(apic->lvt_timer) == TIMER_TSC_DEADLINE)
			lg_timer_arm_deadline(lg, *val);
		return true;
	}
	if (msr < APIC_BASE_MSR || msr > APIC_BASE_MSR + 0xff)
		return false;
	if (!apic->x2apic)
		return false;	/* x2APIC registers need x2APIC mode */
	return lg_lapic_reg(lg, (msr - APIC_BASE_MSR) << 4, write, val);
}

/*
 * The xAPIC's memory-mapped registers, 32 bits wide.  Where xAPIC mode
 * differs from x2APIC mode: the interrupt command register is two halves
 * (the destination in the high one, sent when the low one is written), and
 * the logical destination and destination format registers are writable.
 * Reserved registers read as zero and ignore writes.
 */
void lg_lapic_mmio(struct lguest *lg, u64 offset, bool write, u32 *val)
{
	struct lg_lapic *apic = &lg->lapic;
	u64 v = *val;

	switch (offset) {
	case APIC_ICR2:
		if (write)
			apic->icr_high = *val;
		else
			*val = apic->icr_high;
		return;
	case APIC_ICR:
		if (write)
			lg_send_ipi(lg, ((u64)(apic->icr_high >> 24) << 32) | *val);
		else
			*val = 0;
		return;
	case APIC_DFR:
		if (write)
			apic->dfr = *val;
		else
			*val = apic->dfr;
		return;
	case APIC_LDR:
		if (write) {
			apic->ldr = *val;
			return;
		}
		break;
	}
	if (offset >= PAGE_SIZE || !lg_lapic_reg(lg, offset, write, &v)) {
		if (!write)
			*val = 0;
		return;
	}
	if (!write)
		*val = v;
}

/* IA32_APIC_BASE: where it is and which mode; only xAPIC to x2APIC moves. */
u64 lg_lapic_base(struct lguest *lg)
{
	return LG_LAPIC_BASE | MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_BSP |
	       (lg->lapic.x2apic ? X2APIC_ENABLE : 0);
}

bool lg_lapic_set_base(struct lguest *lg, u64 val)
{
	if ((val & ~X2APIC_ENABLE) != (lg_lapic_base(lg) & ~X2APIC_ENABLE))
		return false;
	if (lg->lapic.x2apic && !(val & X2APIC_ENABLE))
		return false;	/* leaving x2APIC mode takes a reset */
	lg->lapic.x2apic = val & X2APIC_ENABLE;
	return true;
}
