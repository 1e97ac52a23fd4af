// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid.c: the processor the guest is shown.
 *
 * The guest asks CPUID what it is running on, and we answer with the host's
 * processor, less what we do not virtualize and plus what we emulate:
 *
 *  - one CPU with an x2APIC (already enabled, so the guest never touches the
 *    xAPIC's memory), a TSC-deadline timer, and an APIC timer that keeps
 *    running in deep sleep (ARAT): with these Linux needs no PIT;
 *  - no SVM or VMX, no XSAVE/AVX (the guest's FPU state is what FXSAVE
 *    holds), no PCID, no RDTSCP/RDPID (TSC_AUX is the host's), no
 *    performance counters, machine checks, MTRRs, MONITOR/MWAIT, protection
 *    keys, 5-level paging, or speculation-control MSRs;
 *  - the hypervisor bit, and KVM's signature at 0x40000000 with only
 *    kvm-clock (and "no I/O delay needed"), so a stock kernel uses kvm-clock
 *    (pvclock.c) and treats the TSC as stable.
 */
#include <linux/string.h>
#include <asm/processor.h>

#include "lg.h"

#define BIT32(n) (1U << (n))

/* Leaf 1 */
#define L1_ECX_KEEP (BIT32(0) /* SSE3 */ | BIT32(1) /* PCLMULQDQ */ | \
		     BIT32(9) /* SSSE3 */ | BIT32(13) /* CX16 */ | \
		     BIT32(19) /* SSE4.1 */ | BIT32(20) /* SSE4.2 */ | \
		     BIT32(22) /* MOVBE */ | BIT32(23) /* POPCNT */ | \
		     BIT32(25) /* AES */ | BIT32(30) /* RDRAND */)
#define L1_ECX_ADD  (BIT32(21) /* x2APIC */ | BIT32(24) /* TSC deadline */ | \
		     BIT32(31) /* hypervisor */)
#define L1_EDX_KEEP (BIT32(0) /* FPU */ | BIT32(1) /* VME */ | BIT32(2) /* DE */ | \
		     BIT32(3) /* PSE */ | BIT32(4) /* TSC */ | BIT32(5) /* MSR */ | \
		     BIT32(6) /* PAE */ | BIT32(8) /* CX8 */ | BIT32(9) /* APIC */ | \
		     BIT32(11) /* SEP */ | BIT32(13) /* PGE */ | BIT32(15) /* CMOV */ | \
		     BIT32(16) /* PAT */ | BIT32(17) /* PSE36 */ | \
		     BIT32(19) /* CLFSH */ | BIT32(23) /* MMX */ | \
		     BIT32(24) /* FXSR */ | BIT32(25) /* SSE */ | BIT32(26) /* SSE2 */)
/* Leaf 7.0 EBX */
#define L7_EBX_KEEP (BIT32(0) /* FSGSBASE */ | BIT32(3) /* BMI1 */ | \
		     BIT32(7) /* SMEP */ | BIT32(8) /* BMI2 */ | BIT32(9) /* ERMS */ | \
		     BIT32(18) /* RDSEED */ | BIT32(19) /* ADX */ | BIT32(20) /* SMAP */ | \
		     BIT32(23) /* CLFLUSHOPT */ | BIT32(24) /* CLWB */ | BIT32(29) /* SHA */)
#define L7_ECX_KEEP (BIT32(2) /* UMIP */)
/* Leaf 0x80000001 */
#define E1_ECX_KEEP (BIT32(0) /* LAHF */ | BIT32(5) /* ABM */ | BIT32(6) /* SSE4A */ | \
		     BIT32(7) /* misaligned SSE */ | BIT32(8) /* 3DNow! prefetch */)
#define E1_EDX_KEEP (L1_EDX_KEEP | BIT32(11) /* SYSCALL */ | BIT32(20) /* NX */ | \
		     BIT32(22) /* MMXEXT */ | BIT32(26) /* 1 GiB pages */ | \
		     BIT32(29) /* long mode */)
#define E7_EDX_KEEP (BIT32(8) /* invariant TSC */)

/* KVM's paravirtual interface, as much of it as we implement. */
#define KVM_SIGNATURE_LEAF	0x40000000
#define KVM_FEATURES_LEAF	0x40000001
#define KVM_FEATURE_NOP_IO_DELAY	BIT32(1)
#define KVM_FEATURE_CLOCKSOURCE2	BIT32(3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE	BIT32(24)

static void lg_cpuid_filter(u32 leaf, u32 subleaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	u32 max_basic = 7, max_ext = min_t(u32, cpuid_eax(0x80000000), 0x80000008);

	if (leaf == KVM_SIGNATURE_LEAF) {
		*a = KVM_FEATURES_LEAF;
		memcpy(b, "KVMK", 4);
		memcpy(c, "VMKV", 4);
		memcpy(d, "M\0\0\0", 4);
		return;
	}
	if (leaf == KVM_FEATURES_LEAF) {
		*a = KVM_FEATURE_NOP_IO_DELAY | KVM_FEATURE_CLOCKSOURCE2 |
		     KVM_FEATURE_CLOCKSOURCE_STABLE;
		*b = *c = *d = 0;
		return;
	}
	if ((leaf < 0x80000000 && leaf > max_basic) ||
	    (leaf >= 0x80000000 && leaf > max_ext) ||
	    (leaf > KVM_FEATURES_LEAF && leaf < 0x80000000)) {
		*a = *b = *c = *d = 0;
		return;
	}

	cpuid_count(leaf, subleaf, a, b, c, d);
	switch (leaf) {
	case 0:
		*a = max_basic;
		break;
	case 1:
		/* APIC ID 0, one logical processor, CLFLUSH line size kept. */
		*b &= 0x0000ffff;
		*b |= 1 << 16;
		*c = (*c & L1_ECX_KEEP) | L1_ECX_ADD;
		*d &= L1_EDX_KEEP;
		break;
	case 2: case 3: case 4: case 5:
		if (leaf == 4)
			*a &= 0x3ff;	/* caches are not shared with other cores */
		if (leaf != 2 && leaf != 4)
			*a = *b = *c = *d = 0;
		break;
	case 6:
		*a = BIT32(2);	/* ARAT: the APIC timer never stops */
		*b = *c = *d = 0;
		break;
	case 7:
		if (subleaf == 0) {
			*a = 0;
			*b &= L7_EBX_KEEP;
			*c &= L7_ECX_KEEP;
			*d = 0;
		} else {
			*a = *b = *c = *d = 0;
		}
		break;
	case 0x80000000:
		*a = max_ext;
		break;
	case 0x80000001:
		*c &= E1_ECX_KEEP;
		*d &= E1_EDX_KEEP;
		break;
	case 0x80000007:
		*a = *b = *c = 0;
		*d &= E7_EDX_KEEP;
		break;
	case 0x80000008:
		*b = 0;		/* no IBPB, no speculation controls */
		*c = 0;		/* one core */
		*d = 0;
		break;
	}
}

void lg_handle_cpuid(struct lguest *lg)
{
	u32 a, b, c, d;

	lg_cpuid_filter((u32)lg->vmcb->save.rax, (u32)lg->regs.rcx, &a, &b, &c, &d);
	lg->vmcb->save.rax = a;
	lg->regs.rbx = b;
	lg->regs.rcx = c;
	lg->regs.rdx = d;
}
