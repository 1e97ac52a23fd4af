/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * include/lguest/dma.h: the I/O model, in one page.
 *
 * lguest has no virtual hardware for I/O, only one idea borrowed from DMA: a
 * guest *binds* receive buffers at a key, and anyone may *send* to that key.
 * A key is a guest-physical address, but keys are matched by the memory
 * behind them, not by number: two launchers that map the same file see the
 * same key at the same file offset, wherever the file sits in each guest.
 * That is how guests on one sharenet file reach each other, with lg.ko
 * copying the bytes and no launcher involved.  A send to a key that no other
 * guest bound goes to the sender's own launcher, which serves its devices.
 *
 * The guest side (a hypercall is VMMCALL with RAX = call number, arguments in
 * RBX, RCX, RDX, result in RAX: KVM's convention, so kvm_hypercall3() works):
 *
 *   LHCALL_BIND_DMA(key, dmabufs, num << 8 | irq)
 *	Bind num (1..LGUEST_DMA_MAX_BUFS) struct lguest_dma at guest-physical
 *	dmabufs as receive buffers for key.  A buffer whose used_len is 0 is
 *	free; when a transfer fills it, lg.ko writes the length into used_len
 *	and raises the guest's ISA interrupt irq.  The guest empties it by
 *	writing 0 back (after it has set addr[]/len[] for the next frame).
 *	Binding a key again replaces the old binding; irq 0 unbinds the key
 *	(dmabufs and num are then ignored).  Returns 0.
 *
 *   LHCALL_SEND_DMA(key, dma)
 *	Deliver the bytes described by the struct lguest_dma at guest-physical
 *	dma into one free buffer that another guest (or endpoint) bound at key.
 *	The length transferred is written into the sender's used_len, and into
 *	the receiver's: 0 when nobody else bound the key, when every bound
 *	buffer was full (the frame is dropped and counted), or when the
 *	launcher that served the send said so.  Buffers the sender bound itself
 *	are ignored.  Returns 0.
 *
 * Every descriptor is checked: keys must be 4-byte aligned and inside guest
 * memory, dmabufs and dma 8-byte aligned and inside it, each section
 * (addr[i], len[i]) inside it, irq 1..15.  A guest that breaks a rule is
 * killed with a reason, as the old lguest did ("bad DMA key" and friends).
 *
 * Processes that are not guests (the virtual switch, test tools) take part
 * as *endpoints*: see LHREQ_BIND_DMA and LHREQ_SEND_DMA below.  For them
 * every address (key, dma, addr[]) is a virtual address in their own memory.
 */
#ifndef _LGUEST_DMA_H
#define _LGUEST_DMA_H

#include <linux/types.h>

#define LHCALL_BIND_DMA		12
#define LHCALL_SEND_DMA		13

#define LGUEST_DMA_SECTIONS	16	/* address/length pairs per buffer */
#define LGUEST_DMA_MAX_BUFS	64	/* buffers in one binding */
#define LGUEST_DMA_MAX_BINDINGS	64	/* keys one guest or endpoint binds */

/*
 * One buffer: up to 16 sections, a zero len[] ends the list early.  168
 * bytes, with the padding said out loud so that 32- and 64-bit code agree.
 */
struct lguest_dma {
	__u32 used_len;		/* bytes transferred; 0: free (receive) */
	__u32 reserved;		/* 0 */
	__u64 addr[LGUEST_DMA_SECTIONS];
	__u16 len[LGUEST_DMA_SECTIONS];
};

/*
 * Endpoints.  A process that opened /dev/lguest and did not create a guest
 * is an endpoint: it can bind buffers in its own memory at keys in a file it
 * mapped MAP_SHARED (a sharenet file), and send to keys.  Its "interrupts"
 * are read(): a read() blocks (unless O_NONBLOCK) until one of its buffers was
 * filled since the last read(), and returns a struct lguest_exit with reason
 * LGUEST_EXIT_IRQ and data = the bitmask (1 << irq) of the bindings that
 * received.  poll() says POLLIN at the same moment.
 */
struct lguest_bind {
	__u64 request;		/* LHREQ_BIND_DMA */
	__u64 key;		/* a virtual address, 4-byte aligned */
	__u64 dmas;		/* array of num struct lguest_dma */
	__u32 num;		/* 1..LGUEST_DMA_MAX_BUFS */
	__u32 irq;		/* 1..63 names the binding in read(); 0 unbinds */
};

/* write() returns its size; the bytes sent are in dma's used_len. */
struct lguest_send {
	__u64 request;		/* LHREQ_SEND_DMA */
	__u64 key;
	__u64 dma;		/* struct lguest_dma in the endpoint's memory */
};

/*
 * What lg.ko counts for each guest or endpoint.  LHREQ_DMA_STATS fills it
 * (write() copies the answer back into the caller's structure), and debugfs
 * shows the same numbers in lguest/<pid>-<n>/dma.
 */
struct lguest_dma_stats {
	__u64 request;		/* LHREQ_DMA_STATS */
	__u64 sends;		/* SEND_DMA calls */
	__u64 sent_in_kernel;	/* ... delivered by lg.ko to another guest */
	__u64 sent_to_launcher;	/* ... handed to the sender's launcher */
	__u64 sent_unbound;	/* ... to a key nobody bound (endpoints) */
	__u64 send_drops;	/* ... bound, but every buffer was full */
	__u64 bytes_sent;	/* bytes delivered in kernel */
	__u64 receives;		/* buffers of ours lg.ko filled */
	__u64 bytes_received;
	__u64 binds;		/* BIND_DMA calls (unbinds included) */
};

#endif /* _LGUEST_DMA_H */
