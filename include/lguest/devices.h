/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * include/lguest/devices.h: the lguest devices as the guest finds them.
 *
 * The launcher writes one page of device descriptors at guest-physical
 * LGUEST_DEVICES_ADDR, inside the BIOS area that the e820 map reserves, so a
 * stock kernel leaves it alone and the lguest_bus module can memremap() it
 * and check the magic.  Devices appear in the order of the launcher's
 * command line: the first --block is /dev/lgba, the first net device eth0
 * (if the guest has no other NIC).  Each one has an ISA interrupt line of its
 * own (the MP table wires ISA IRQs 1..15 to the IOAPIC; 4 is the serial port).
 *
 * Network devices (--sharenet, --tunnet) are sharenet segments: a page of
 * MAC slots (struct lguest_net_slot), mapped into guest memory at `mem`.  The
 * guest owns slot `config.net.slot`: it binds its receive buffers at the key
 * of that slot (mem + 8 * slot), writes its MAC into the slot when the
 * interface goes up and zeroes it when it goes down.  To transmit, it sends
 * the frame to every other slot whose MAC is the destination, or whose MAC
 * has bit 0 of byte 0 set ("send me everything": the virtual switch, the tap
 * of a tunnet), and broadcast and multicast frames to every other slot in
 * use.  For --sharenet the page is the file, shared with every guest on it;
 * for --tunnet it is private to the guest and the launcher's tap has slot 1.
 *
 * Block devices (--block) take requests at the key `mem` (the address of
 * their own request page): section 0 of the sent struct lguest_dma is a
 * struct lguest_block_req, the other sections the data.  The launcher takes
 * the request (the send's used_len becomes nonzero), does the I/O while the
 * guest runs on, then writes the request's status and raises the irq.  So
 * many requests can be in flight at once.
 */
#ifndef _LGUEST_DEVICES_H
#define _LGUEST_DEVICES_H

#include <linux/types.h>

#define LGUEST_DEVICES_ADDR	0xe0000ULL	/* guest-physical, one page */
#define LGUEST_DEVICES_MAGIC	0x5345434956454447ULL	/* "GDEVICES" */
#define LGUEST_DEVICES_VERSION	1
#define LGUEST_MAX_DEVICES	10	/* ISA lines: 3 5 6 7 9 10 11 12 14 15 */

enum lguest_device_type {
	LGUEST_DEVICE_NET = 1,
	LGUEST_DEVICE_BLOCK = 2,
};

/* status, written by the guest's driver (the launcher may print it). */
#define LGUEST_DEVICE_S_DRIVER	1	/* a driver took the device */
#define LGUEST_DEVICE_S_FAILED	2	/* ... and could not set it up */

/* features of a net device */
#define LGUEST_NET_F_TUNNET	1	/* the other end is the host's tap */

/* features of a block device */
#define LGUEST_BLOCK_F_RO	1	/* writes fail: the file is read-only */

struct lguest_net_config {
	__u32 slot;		/* the guest's slot in the page at mem */
	__u16 mtu;		/* largest frame payload the segment takes */
	__u8 mac[6];		/* the guest's MAC address */
};

struct lguest_block_config {
	__u64 capacity;		/* in 512-byte sectors */
};

struct lguest_device_desc {
	__u16 type;		/* enum lguest_device_type; 0: no device */
	__u16 features;
	__u16 status;		/* LGUEST_DEVICE_S_* (the guest writes) */
	__u8 irq;		/* ISA interrupt line */
	__u8 reserved;
	__u32 num_pages;	/* device memory: pages at mem */
	__u32 reserved2;
	__u64 mem;		/* guest-physical, page aligned */
	union {
		struct lguest_net_config net;
		struct lguest_block_config block;
		__u8 raw[40];
	} config;
};				/* 64 bytes */

struct lguest_devices_page {
	__u64 magic;		/* LGUEST_DEVICES_MAGIC */
	__u32 version;		/* LGUEST_DEVICES_VERSION */
	__u32 count;		/* descriptors that follow */
	struct lguest_device_desc desc[LGUEST_MAX_DEVICES];
};

/* A sharenet page: 512 slots of 8 bytes.  An all-zero MAC is a free slot. */
struct lguest_net_slot {
	__u8 mac[6];
	__u16 reserved;
};
#define LGUEST_NET_SLOTS	(4096 / sizeof(struct lguest_net_slot))
#define LGUEST_NET_PROMISC	0x01	/* in mac[0]: send me everything */
#define LGUEST_NET_TAP_SLOT	1	/* a tunnet's tap */

/* Block requests: section 0 of a send to a block device's key. */
enum lguest_block_op {
	LGUEST_BLOCK_READ = 0,
	LGUEST_BLOCK_WRITE = 1,
	LGUEST_BLOCK_FLUSH = 2,	/* make every completed write durable */
};
#define LGUEST_BLOCK_FUA	1	/* flags: durable before completion */

enum lguest_block_status {
	LGUEST_BLOCK_PENDING = 0,
	LGUEST_BLOCK_DONE = 1,
	LGUEST_BLOCK_ERROR = 2,
};

struct lguest_block_req {
	__u32 op;		/* enum lguest_block_op */
	__u32 flags;
	__u64 sector;		/* 512-byte units */
	__u32 status;		/* the launcher writes it, then the irq */
	__u32 reserved;
};

#endif /* _LGUEST_DEVICES_H */
