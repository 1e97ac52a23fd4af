/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lg.h: what the parts of lg.ko tell each other.
 *
 * lg.ko is small enough to read in an afternoon, and this header is the map:
 * each part of the module declares here the little it offers the others.
 */
#ifndef _LG_H
#define _LG_H

#include <linux/types.h>

/* What the processor's SVM can do, read once at load time (svm.c). */
struct lg_svm_caps {
	u8 revision;		/* SVM revision (CPUID 0x8000000A EAX[7:0]) */
	u32 nr_asids;		/* address space IDs, ASID 0 being the host's */
	bool nested_paging;	/* NP: the CPU walks nested page tables */
	bool nrip_save;		/* the VMCB gets the next RIP on intercepts */
	bool vmcb_clean;	/* VMCB clean bits */
	bool flush_by_asid;	/* TLB_CONTROL can flush one ASID */
	bool decode_assists;	/* the VMCB holds the decoded instruction */
};

int lg_svm_probe(struct lg_svm_caps *caps);

#endif /* _LG_H */
