// SPDX-License-Identifier: GPL-2.0
/*
 * pvclock.c: kvm-clock, the guest's sense of time.
 *
 * A stock kernel that finds KVM's signature in CPUID (cpuid.c) asks for
 * kvm-clock: it writes to two MSRs the guest-physical address of a little
 * structure, and trusts what the hypervisor puts there.  The wall clock is
 * the real time at the guest's time 0.  The system-time structure says how
 * to turn the TSC into nanoseconds of guest time:
 *
 *	time = system_time + ((tsc - tsc_timestamp) << shift) * mul / 2^32
 *
 * (a right shift when shift is negative).  The guest's TSC is the host's,
 * which the host kernel trusts to be stable, so we fill the structure once
 * and mark it stable: the guest then reads time without ever exiting.  From
 * the same numbers the guest learns its TSC frequency, so it never needs to
 * calibrate against a PIT we do not have.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "lg.h"

#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

void lg_pvclock_init(struct lguest *lg)
{
	lg->boot_ns = ktime_get_ns();
}

/* shift and mul such that ns = ((ticks << shift) * mul) >> 32, mul < 2^32. */
static void lg_tsc_scale(u64 tsc_hz, s8 *shift, u32 *mul)
{
	u64 num = NSEC_PER_SEC, den = tsc_hz;
	int s = 0;

	while (num >= den) {
		den <<= 1;
		s++;
	}
	while ((num << 1) < den) {
		num <<= 1;
		s--;
	}
	*shift = s;
	*mul = mul_u64_u64_div_u64(num, 1ULL << 32, den);
}

static int lg_write_system_time(struct lguest *lg, u64 gpa)
{
	struct pvclock_vcpu_time_info t = { .version = 2 };

	if ((gpa & ~PAGE_MASK) > PAGE_SIZE - sizeof(t))
		return -EINVAL;
	lg_tsc_scale((u64)tsc_khz * 1000, &t.tsc_shift, &t.tsc_to_system_mul);
	t.tsc_timestamp = rdtsc() + lg->vmcb->control.tsc_offset;
	t.system_time = ktime_get_ns() - lg->boot_ns;
	t.flags = PVCLOCK_TSC_STABLE_BIT;
	return lg_write_guest(lg, gpa, &t, sizeof(t));
}

static int lg_write_wall_clock(struct lguest *lg, u64 gpa)
{
	struct pvclock_wall_clock w = { .version = 2 };
	u64 boot_real = ktime_get_real_ns() - (ktime_get_ns() - lg->boot_ns);
	u32 rem;

	w.sec = div_u64_rem(boot_real, NSEC_PER_SEC, &rem);
	w.nsec = rem;
	return lg_write_guest(lg, gpa, &w, sizeof(w));
}

bool lg_pvclock_msr(struct lguest *lg, u32 msr, bool write, u64 *val)
{
	if (msr != MSR_KVM_WALL_CLOCK_NEW && msr != MSR_KVM_SYSTEM_TIME_NEW)
		return false;
	if (!write) {
		*val = 0;
		return true;
	}
	if (msr == MSR_KVM_WALL_CLOCK_NEW)
		return lg_write_wall_clock(lg, *val) == 0;
	if (!(*val & 1))
		return true;	/* disabled */
	return lg_write_system_time(lg, *val & ~1ULL) == 0;
}
