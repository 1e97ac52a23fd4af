/*
 * mptable.c: telling the guest where its interrupts come from.
 *
 * With ACPI off, Linux learns its interrupt hardware from Intel's
 * MultiProcessor Specification table, which it looks for in the BIOS area
 * (0xf0000-0xfffff).  Ours says: one processor, the bootstrap one, whose
 * local APIC is at 0xfee00000; one ISA bus; one IOAPIC (ID 1) at
 * 0xfec00000; and ISA IRQ n wired to IOAPIC pin n for n = 1..15, edge and
 * active-high as ISA is ("conforms to the bus").  IRQ 0, the PIT, is absent:
 * there is no PIT.  lg.ko emulates the two APICs; IRQ 4 is the serial port.
 * (MultiProcessor Specification 1.4, chapter 4.)
 */
#include <cpuid.h>
#include <string.h>

#include "lguest.h"

struct mpf_intel {		/* the floating pointer: "_MP_" */
	char signature[4];
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {		/* the configuration table header: "PCMP" */
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;	/* number of entries */
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;		/* 0 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;		/* 1 */
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;		/* 2 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;		/* 3 */
	uint8_t irqtype;	/* 0: vectored interrupt */
	uint16_t irqflag;	/* 0: conforms to the bus */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

#define CPU_ENABLED	1
#define CPU_BOOTPROCESSOR 2
#define IOAPIC_ID	1
#define ISA_BUS		0

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

void mptable_write(struct guest *g, uint64_t addr)
{
	struct mpf_intel *mpf = (void *)(g->mem + addr);
	struct mpc_table *mpc = (void *)(mpf + 1);
	uint8_t *entry = (uint8_t *)(mpc + 1);
	unsigned int eax = 0, ebx, ecx, edx = 0, irq;
	struct mpc_cpu *cpu;
	struct mpc_bus *bus;
	struct mpc_ioapic *ioapic;

	memset(mpf, 0, sizeof(*mpf));
	memset(mpc, 0, sizeof(*mpc));
	__get_cpuid(1, &eax, &ebx, &ecx, &edx);

	cpu = (void *)entry;
	*cpu = (struct mpc_cpu){ .type = 0, .apicid = 0, .apicver = 0x14,
				 .cpuflag = CPU_ENABLED | CPU_BOOTPROCESSOR,
				 .cpufeature = eax, .featureflag = edx };
	entry += sizeof(*cpu);

	bus = (void *)entry;
	*bus = (struct mpc_bus){ .type = 1, .busid = ISA_BUS };
	memcpy(bus->bustype, "ISA   ", 6);
	entry += sizeof(*bus);

	ioapic = (void *)entry;
	*ioapic = (struct mpc_ioapic){ .type = 2, .apicid = IOAPIC_ID,
				       .apicver = 0x11, .flags = 1,
				       .apicaddr = LGUEST_IOAPIC_ADDR };
	entry += sizeof(*ioapic);

	for (irq = 1; irq < 16; irq++) {
		struct mpc_intsrc *src = (void *)entry;

		*src = (struct mpc_intsrc){ .type = 3, .irqtype = 0, .irqflag = 0,
					    .srcbus = ISA_BUS, .srcbusirq = irq,
					    .dstapic = IOAPIC_ID, .dstirq = irq };
		entry += sizeof(*src);
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = entry - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "LGUEST  ", 8);
	memcpy(mpc->productid, "LGUEST 64   ", 12);
	mpc->oemcount = 3 + 15;
	mpc->lapic = LGUEST_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = addr + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
}
