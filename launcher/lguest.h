/*
 * lguest.h: the launcher's parts, and the guest they share.
 *
 *   lguest.c   the command line, /dev/lguest, the run loop, the exit status
 *   boot.c     putting a Linux kernel into guest memory: bzImage or ELF
 *              vmlinux, boot_params, e820, command line, initrd, page tables
 *   mptable.c  the MP table: one CPU, one IOAPIC, the ISA interrupt lines
 *   serial.c   the 8250 UART on 0x3f8: the console, both ways
 *   platform.c every other port a booting kernel touches
 *   console.c  the terminal: raw while the guest runs, and its input thread
 *   initramfs.c an initramfs with the guest drivers when none is given
 *   devices.c  the lguest devices: the device page, the device memory area,
 *              and the DMA sends that come back to us
 *   block.c    --block: a file or block device, served by I/O threads
 *   net.c      --sharenet and --tunnet: the guest's side of a network
 *   tap.c      the host's side of a --tunnet: a tap, its address, its bridge
 *   channel.c  --channel: a byte stream between the guest and a unix socket
 */
#ifndef LGUEST_LAUNCHER_H
#define LGUEST_LAUNCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <lguest/devices.h>
#include <lguest/dma.h>
#include <lguest/launcher.h>

/* How a launcher run ends (documented in lguest(8)). */
enum lguest_status {
	STATUS_POWEROFF = 0,	/* the guest powered off */
	STATUS_ERROR = 1,	/* the launcher could not start or run it */
	STATUS_REBOOT = 2,	/* the guest asked for a reboot */
	STATUS_KILLED = 3,	/* lg.ko killed the guest: reason on stderr */
};

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;	/* the "transmitter empty" interrupt */
	bool irq_high;		/* what we last told the IOAPIC */
	uint8_t rx[4096];
	unsigned int rx_head, rx_tail;
	int out_fd;
};

struct guest;
struct device;

/*
 * What each kind of device does, at each step of the launcher's life (every
 * hook may be NULL).  They run in this order:
 *   open     check the option and open what it names, before anything else
 *            (so a bad option is an error before the guest is built)
 *   map      guest memory exists: fill in the device's page and descriptor
 *   connect  /dev/lguest is open: plumb the host side (a tap)
 *   start    the guest exists: start the device's threads
 *   dma      the guest sent to a key in the device's page that no other
 *            guest bound (LGUEST_EXIT_DMA; dma points into guest RAM and
 *            the guest waits: the hook writes dma->used_len)
 *   stop     the guest is gone: finish what is in flight, flush
 *   report   --verbose: what the device is (at start), what it did (at exit)
 */
struct device_ops {
	const char *option;	/* "block", "tunnet", "sharenet", "channel" */
	void (*open)(struct guest *g, struct device *dev);
	void (*map)(struct guest *g, struct device *dev);
	void (*connect)(struct guest *g, struct device *dev);
	void (*start)(struct guest *g, struct device *dev);
	void (*dma)(struct guest *g, struct device *dev, uint64_t key,
		    struct lguest_dma *dma);
	void (*stop)(struct guest *g, struct device *dev);
	void (*report)(const struct guest *g, const struct device *dev, bool at_exit);
};

struct device {
	const struct device_ops *ops;
	const char *arg;	/* the option's value, as the user wrote it */
	unsigned int index;	/* in the device page */
	unsigned int irq;	/* ISA line */
	uint64_t mem;		/* guest-physical: the device's page */
	uint8_t *page;		/* ... and where we see it */
	struct lguest_device_desc *desc;	/* in the device page */
	void *state;		/* the kind's own (struct block, struct net) */
};

struct guest {
	int fd;			/* /dev/lguest */
	uint8_t *mem;		/* guest-physical 0 */
	uint64_t mem_size;	/* RAM: [0, mem_size), all in the e820 map */
	uint64_t phys_size;	/* RAM and the device area: what lg.ko maps */
	uint64_t device_area;	/* guest-physical: the devices' pages */
	struct device devices[LGUEST_MAX_DEVICES];
	unsigned int num_devices;
	bool stopping;		/* the guest is gone: device threads, be quiet */
	bool verbose;
	pthread_mutex_t lock;	/* the devices, shared with the input thread */
	struct uart uart;
	uint32_t pci_address;	/* the last value written to port 0xcf8 */
	uint8_t rtc_index;	/* the CMOS register selected at port 0x70 */
	int reboot_requested;
};

struct boot_info {
	uint64_t entry;		/* 64-bit entry point */
	uint64_t boot_params;	/* guest-physical "zero page" */
	uint64_t cr3, gdt_base, gdt_limit;
};

/* lguest.c */
void verbose(const struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void raise_irq(struct guest *g, unsigned int irq);

/* boot.c */
#define BOOT_INITRDS_MAX 8
/* INITRDS (N of them) go one after another, each 4-byte aligned: the kernel
 * unpacks each archive over the ones before. */
void boot_load(struct guest *g, const char *kernel, const char *const *initrds, unsigned int n,
	       const char *cmdline, struct boot_info *info);

/* mptable.c */
void mptable_write(struct guest *g, uint64_t addr);

/* serial.c */
#define SERIAL_PORT 0x3f8
#define SERIAL_IRQ  4
void serial_init(struct uart *u, int out_fd);
uint8_t serial_io(struct guest *g, unsigned int offset, bool write, uint8_t val);
void serial_input(struct guest *g, const uint8_t *bytes, size_t len);

/* platform.c */
uint32_t platform_io(struct guest *g, uint16_t port, unsigned int size,
		     bool write, uint32_t val);

/* devices.c */
void devices_add(struct guest *g, const struct device_ops *ops, const char *arg);
void devices_open(struct guest *g);
uint64_t devices_layout(struct guest *g);
void devices_map(struct guest *g);
void devices_connect(struct guest *g);
void devices_start(struct guest *g);
void devices_dma(struct guest *g, uint64_t key, uint64_t dma);
void devices_stop(struct guest *g);
void devices_report(const struct guest *g, bool at_exit);
void *guest_ram(const struct guest *g, uint64_t addr, uint64_t len);
int dma_sections(const struct guest *g, const struct lguest_dma *dma,
		 unsigned int first, struct iovec *iov, uint64_t *total);
void store_release_u32(void *guest_word, uint32_t value);
bool device_irq(struct guest *g, unsigned int irq);
void device_note(const struct device *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void device_die(const struct device *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t count_add(uint64_t *counter, uint64_t n);

/* block.c */
extern const struct device_ops block_ops;

/* net.c */
extern const struct device_ops sharenet_ops, tunnet_ops;

/* channel.c */
extern const struct device_ops channel_ops;

/* tap.c: each returns 0 (tap_create: the tap's descriptor) or a negative errno */
#define TAP_NAME_MAX 16		/* IFNAMSIZ */
int tap_create(char name[TAP_NAME_MAX]);
int tap_set_ipv4(const char *name, const void *addr, unsigned int prefix_len);
int tap_set_up(const char *name);
int tap_mac(const char *name, uint8_t mac[6]);
int link_kind(const char *name, char kind[TAP_NAME_MAX]);
int bridge_add_port(const char *bridge, const char *port);

/* initramfs.c */
char *initramfs_make(const char *kernel);

/* console.c */
void console_start(struct guest *g);
void console_restore(void);

#endif
