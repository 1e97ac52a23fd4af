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
 */
#ifndef LGUEST_LAUNCHER_H
#define LGUEST_LAUNCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct guest {
	int fd;			/* /dev/lguest */
	uint8_t *mem;		/* guest-physical 0 */
	uint64_t mem_size;
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
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void raise_irq(struct guest *g, unsigned int irq);

/* boot.c */
void boot_load(struct guest *g, const char *kernel, const char *initrd,
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

/* console.c */
void console_start(struct guest *g);
void console_restore(void);

#endif
