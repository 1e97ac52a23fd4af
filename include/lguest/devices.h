/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * include/lguest/devices.h: the lguest devices as the guest finds them.
 *
 * The launcher writes one page of device descriptors at guest-physical
 * LGUEST_DEVICES_ADDR, inside the BIOS area that the e820 map reserves, so a
 * stock kernel leaves it alone and the lguest_bus module can memremap() it
 * and check the magic.  Devices appear in the order of the launcher's
 * command line: the first --block is /dev/lgba, the first net device eth0
 * (if the guest has no other NIC), the first --channel /dev/lgchan0.  Each one has an ISA interrupt line of its
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
 *
 * Channel devices (--channel) are a reliable, ordered byte stream each way
 * between the guest and its launcher, whose other end is a unix socket on
 * the host (the guest agent's way in: agent.h).  The device's page is a
 * struct lguest_channel_page: three keys, and a few words the launcher and
 * the guest share.
 *   To the guest: the guest binds receive buffers at the key to_guest.
 *	Section 0 of each is a struct lguest_channel_hdr; the launcher fills
 *	the other sections with bytes from the socket, writes the header, then
 *	used_len (header included), and raises the irq.  It fills the buffers
 *	in ring order, and the guest empties them in the same order.  When it
 *	finds no free buffer it sets want_kick and stops reading the socket;
 *	a guest that frees buffers and finds want_kick set clears it and sends
 *	LGUEST_CHANNEL_KICK to the key control (it may free a few more first,
 *	but not wait for bytes while the launcher waits for it).  (Each side
 *	writes its word, then reads the other's, with a full barrier between:
 *	one of them sees.)
 *   To the host: the guest sends to the key to_host, which nobody binds:
 *	section 0 is a struct lguest_channel_hdr, the rest the bytes.  The
 *	launcher takes what fits in its buffer (bounded) and writes into
 *	used_len how many of the bytes it took, header not counted: all, some,
 *	or none.  Having taken fewer than offered, it bumps room once it has
 *	room again, and raises the irq; a writer waits for room to change.
 *   Resets: the launcher's client (the peer on the socket) went away, or
 *	the guest sent LGUEST_CHANNEL_HANGUP (its reader closed the device).
 *	Every byte in flight either way is dropped, gen is bumped and the irq
 *	raised.  Every buffer and every send carries the gen it belongs to: the
 *	launcher takes nothing (used_len 0) from a send of an older gen, and the
 *	guest drops buffers of one; a guest whose reader has not yet seen the
 *	new gen reports the reset first (read() fails once with ECONNRESET).
 *	So a new client never sees a byte meant for, or sent by, the old one.
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
	LGUEST_DEVICE_CHANNEL = 3,
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

/*
 * A channel's page (the device's memory).  The keys are the addresses of the
 * first three words (what they hold does not matter); gen and room are the
 * launcher's to write, want_kick both sides'.
 */
struct lguest_channel_page {
	__u32 to_host;		/* key: the guest's bytes for the host */
	__u32 to_guest;		/* key: the guest's receive buffers */
	__u32 control;		/* key: a struct lguest_channel_control */
	__u32 reserved;
	__u32 gen;		/* the connection's generation, from 1 */
	__u32 room;		/* bumped when a short send may be retried */
	__u32 want_kick;	/* 1: the launcher waits for a free buffer */
	__u32 reserved2;
};

/* Section 0 of every buffer either way: the generation it belongs to. */
struct lguest_channel_hdr {
	__u32 gen;
	__u32 reserved;		/* 0 */
};

enum lguest_channel_op {
	LGUEST_CHANNEL_KICK = 1,	/* receive buffers were freed */
	LGUEST_CHANNEL_HANGUP = 2,	/* the guest's reader closed: end gen */
};

/* Section 0 of a send to the key control; used_len 8 when understood. */
struct lguest_channel_control {
	__u32 op;		/* enum lguest_channel_op */
	__u32 gen;		/* HANGUP: the generation to end (if current) */
};

#endif /* _LGUEST_DEVICES_H */
