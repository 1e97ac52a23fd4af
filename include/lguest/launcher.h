/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * include/lguest/launcher.h: how a launcher talks to lg.ko through /dev/lguest.
 *
 * This is the whole conversation.  A launcher opens /dev/lguest, maps the
 * memory that will be its guest's "physical" memory (guest-physical 0 is the
 * launcher's address mem_base), puts a kernel in it, and write()s one
 * LHREQ_INITIALIZE.  Then it calls read() in a loop: each read() runs the
 * guest until something needs the launcher, and fills a struct lguest_exit
 * that says what.  Interrupts for the guest (a key pressed on the console)
 * are raised with LHREQ_IRQ, from any thread, even while another thread is
 * inside read().  close() destroys the guest.
 *
 * Every write() starts with a __u64 request number; its size must be exactly
 * that of the request's structure.  lg.ko checks every value it is given.
 * Requests that answer (LHREQ_GETDMA, LHREQ_DMA_STATS) copy the answer back
 * into the caller's structure.
 *
 * The I/O model (DMA keys) and the endpoint requests are in dma.h; the device
 * page the launcher builds for its guest is in devices.h.
 */
#ifndef _LGUEST_LAUNCHER_H
#define _LGUEST_LAUNCHER_H

#include <linux/types.h>

#define LGUEST_DEVICE "/dev/lguest"

/* Where lg.ko's emulated APICs live in every guest's physical address space. */
#define LGUEST_IOAPIC_ADDR	0xfec00000
#define LGUEST_LAPIC_ADDR	0xfee00000
/* Guest memory must end below them (a 3 GiB maximum, for now). */
#define LGUEST_MEM_MAX		(3ULL << 30)

enum lguest_request {
	LHREQ_INITIALIZE = 1,	/* struct lguest_init: create the guest */
	LHREQ_IRQ = 2,		/* struct lguest_irq: raise an ISA interrupt */
	LHREQ_GETDMA = 3,	/* struct lguest_getdma: a free bound buffer */
	LHREQ_BIND_DMA = 4,	/* endpoints: struct lguest_bind (dma.h) */
	LHREQ_SEND_DMA = 5,	/* endpoints: struct lguest_send (dma.h) */
	LHREQ_DMA_STATS = 6,	/* struct lguest_dma_stats (dma.h) */
};

/*
 * The guest starts as the x86-64 64-bit boot protocol wants it: in long mode
 * with paging on, interrupts off, CS = 0x10 and DS/ES/SS = 0x18 in the GDT
 * at gdt_base (the launcher writes that GDT and the identity page tables at
 * cr3 into guest memory), RIP = the kernel's 64-bit entry and RSI = the
 * boot_params ("zero page").
 */
struct lguest_init {
	__u64 request;		/* LHREQ_INITIALIZE */
	__u64 mem_base;		/* launcher address of guest-physical 0 */
	__u64 mem_size;		/* bytes of guest memory (a page multiple) */
	__u64 rip;		/* entry point (guest-physical = virtual) */
	__u64 rsi;		/* boot_params */
	__u64 cr3;		/* initial page tables */
	__u64 gdt_base;		/* initial GDT */
	__u64 gdt_limit;
};

struct lguest_irq {
	__u64 request;		/* LHREQ_IRQ */
	__u64 irq;		/* ISA IRQ line, 1..23: an edge on that IOAPIC pin */
};

/*
 * A launcher serving a device finds where to put what it received: a buffer
 * its guest bound at key (guest-physical) that is free (used_len == 0).  On
 * success write() returns the structure's size and fills in dma (the
 * buffer's guest-physical address) and irq (the line the guest bound with);
 * the launcher writes the data and used_len into guest memory, then raises
 * irq with LHREQ_IRQ.  -ENOENT: the key is not bound, or every buffer is in
 * use (old lguest's GETDMA could not say so).  The buffer is found, not
 * reserved: keys a launcher serves are private to its guest.
 */
struct lguest_getdma {
	__u64 request;		/* LHREQ_GETDMA */
	__u64 key;		/* in: guest-physical */
	__u64 dma;		/* out: guest-physical struct lguest_dma */
	__u32 irq;		/* out */
	__u32 reserved;
};

/* Why read() returned. */
enum lguest_exit_reason {
	LGUEST_EXIT_IO = 1,	/* an IN or OUT to a port lg.ko does not serve */
	LGUEST_EXIT_MMIO = 2,	/* a load or store outside guest memory */
	LGUEST_EXIT_POWEROFF = 3, /* HLT with interrupts disabled */
	LGUEST_EXIT_DEAD = 4,	/* lg.ko killed the guest: see message */
	LGUEST_EXIT_DMA = 5,	/* SEND_DMA to a key no other guest bound:
				 * addr = key, data = the struct lguest_dma
				 * (both guest-physical, already checked).
				 * The launcher writes used_len into it; the
				 * next read() resumes the guest. */
	LGUEST_EXIT_IRQ = 6,	/* endpoints only: data = bitmask of irqs */
};

/*
 * What read() fills in.  For an IO or MMIO read (is_write == 0) the launcher
 * answers by putting the value in data and passing the same structure to the
 * next read(): lg.ko completes the guest's instruction with it before running
 * on.  (One system call per port read, not two.)
 */
struct lguest_exit {
	__u32 reason;		/* enum lguest_exit_reason */
	__u32 size;		/* IO, MMIO: access size in bytes, 1, 2, 4 or 8 */
	__u32 is_write;		/* IO, MMIO: 1 for OUT or a store */
	__u32 reserved;
	__u64 addr;		/* IO: the port; MMIO: the guest-physical address */
	__u64 data;		/* the value written, or (for reads) to be read */
	char message[256];	/* DEAD: why, NUL-terminated */
};

#endif /* _LGUEST_LAUNCHER_H */
