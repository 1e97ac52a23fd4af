/*
 * platform.c: every port a booting kernel touches that is not the console.
 *
 * Our guest machine is nearly empty, and says so the way real hardware does:
 * a port with nothing behind it reads as all ones and ignores writes.  That
 * answer alone makes Linux's probes give up quickly: no PS/2 controller (its
 * status port reads 0xff), no second serial port, no RTC worth using, no
 * legacy PIC worth programming.  A few ports mean more:
 *
 *   0xcf8/0xcfc  PCI configuration mechanism #1, so that "pci=conf1" finds
 *                a working mechanism and a bus with no devices on it;
 *   0xcf9        the reset control register: "reboot=p" writes a reset
 *                here, and the guest's reboot ends the launcher;
 *   0x92         "fast A20 and init": bit 0 resets the machine too.
 *
 *   0x70/0x71    the CMOS real-time clock: it reads the host's time (UTC),
 *                so Linux's rtc_cmos driver finds a working clock at once
 *                instead of timing out on one that is "broken".
 *
 * Port 0x80 (I/O delay) is never used: kvm-clock's guests are told they
 * need no delay.
 */
#include <time.h>

#include "lguest.h"

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define RESET_CONTROL		0xcf9
#define SYSTEM_CONTROL_A	0x92

#define RTC_INDEX		0x70
#define RTC_DATA		0x71

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* An MC146818 that is never updating, in BCD and 24-hour mode. */
static uint8_t rtc_read(uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(19 + tm.tm_year / 100);	/* century */
	case 0x0a: return 0x26;		/* divider on, no update in progress */
	case 0x0b: return 0x02;		/* 24-hour, BCD, no interrupts */
	case 0x0d: return 0x80;		/* the battery is fine */
	default:   return 0;
	}
}

static uint32_t all_ones(unsigned int size)
{
	return size == 4 ? 0xffffffff : (1U << (8 * size)) - 1;
}

uint32_t platform_io(struct guest *g, uint16_t port, unsigned int size,
		     bool write, uint32_t val)
{
	if (port >= SERIAL_PORT && port < SERIAL_PORT + 8 && size == 1)
		return serial_io(g, port - SERIAL_PORT, write, val);

	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		if (write)
			g->pci_address = val;
		return g->pci_address;
	}
	if (port >= PCI_CONFIG_DATA && port < PCI_CONFIG_DATA + 4)
		return all_ones(size);	/* no device at any address */

	if (port == RTC_INDEX && size == 1) {
		if (write)
			g->rtc_index = val & 0x7f;
		return write ? 0 : g->rtc_index;
	}
	if (port == RTC_DATA && size == 1)
		return write ? 0 : rtc_read(g->rtc_index);

	if (write && port == RESET_CONTROL && size == 1 && (val & 0x04))
		g->reboot_requested = 1;
	if (write && port == SYSTEM_CONTROL_A && size == 1 && (val & 0x01))
		g->reboot_requested = 1;

	return write ? 0 : all_ones(size);
}
