// SPDX-License-Identifier: GPL-2.0
/*
 * ioapic.c: the I/O APIC, where the legacy interrupt lines come in.
 *
 * A stock kernel finds its serial port on ISA IRQ 4, and the MP table the
 * launcher writes says that ISA IRQ n arrives on pin n of one IOAPIC at
 * 0xfec00000.  The guest programs each pin's redirection entry (vector,
 * mask) through the IOAPIC's two registers, IOREGSEL and IOWIN; when the
 * launcher raises a line (LHREQ_IRQ) we look the pin up and request its vector
 * from the local APIC.  Lines are edge-triggered, as ISA's are, so there is
 * no remote-IRR and no EOI to wait for.  The redirection table is shared by
 * the guest's thread and the launcher's, hence the lock.
 */
#include <linux/spinlock.h>

#include "lg.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_ID	0x00
#define IOAPIC_VER	0x01
#define IOAPIC_ARB	0x02
#define IOAPIC_REDTBL	0x10
#define REDIR_MASKED	(1ULL << 16)
/* What the guest may set: vector, delivery and destination mode, polarity,
 * trigger mode, mask, destination. */
#define REDIR_WRITABLE	(0xffULL | (7ULL << 8) | (1ULL << 11) | (1ULL << 13) | \
			 (1ULL << 15) | REDIR_MASKED | (0xffULL << 56))

void lg_ioapic_init(struct lguest *lg)
{
	int pin;

	spin_lock_init(&lg->ioapic.lock);
	for (pin = 0; pin < LG_IOAPIC_PINS; pin++)
		lg->ioapic.redir[pin] = REDIR_MASKED;
}

void lg_ioapic_raise(struct lguest *lg, unsigned int pin)
{
	u64 entry;

	if (pin >= LG_IOAPIC_PINS)
		return;
	spin_lock(&lg->ioapic.lock);
	entry = lg->ioapic.redir[pin];
	spin_unlock(&lg->ioapic.lock);
	/* Fixed or lowest-priority delivery to our one CPU; masked is lost,
	 * as an edge on a masked pin is. */
	if (!(entry & REDIR_MASKED) && ((entry >> 8) & 7) <= 1)
		lg_lapic_set_irq(lg, entry & 0xff);
}

static u32 lg_ioapic_read(struct lguest *lg, u32 index)
{
	switch (index) {
	case IOAPIC_ID:
		return 1 << 24;		/* IOAPIC ID 1, as in the MP table */
	case IOAPIC_VER:
		return ((LG_IOAPIC_PINS - 1) << 16) | 0x11;
	case IOAPIC_ARB:
		return 1 << 24;
	}
	if (index >= IOAPIC_REDTBL && index < IOAPIC_REDTBL + 2 * LG_IOAPIC_PINS) {
		u64 entry = lg->ioapic.redir[(index - IOAPIC_REDTBL) / 2];

		return index & 1 ? entry >> 32 : (u32)entry;
	}
	return 0;
}

static void lg_ioapic_write(struct lguest *lg, u32 index, u32 val)
{
	u64 *entry;

	if (index < IOAPIC_REDTBL || index >= IOAPIC_REDTBL + 2 * LG_IOAPIC_PINS)
		return;		/* the ID and the rest are read-only here */
	entry = &lg->ioapic.redir[(index - IOAPIC_REDTBL) / 2];
	if (index & 1)
		*entry = (*entry & 0xffffffffULL) | ((u64)val << 32);
	else
		*entry = (*entry & ~0xffffffffULL) | val;
	*entry &= REDIR_WRITABLE;
}

void lg_ioapic_mmio(struct lguest *lg, u64 offset, bool write, u32 *val)
{
	spin_lock(&lg->ioapic.lock);
	if (offset == IOREGSEL) {
		if (write)
			lg->ioapic.ioregsel = *val & 0xff;
		else
			*val = lg->ioapic.ioregsel;
	} else if (offset == IOWIN) {
		if (write)
			lg_ioapic_write(lg, lg->ioapic.ioregsel, *val);
		else
			*val = lg_ioapic_read(lg, lg->ioapic.ioregsel);
	} else if (!write) {
		*val = 0xffffffff;
	}
	spin_unlock(&lg->ioapic.lock);
}
