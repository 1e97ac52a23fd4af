// SPDX-License-Identifier: GPL-2.0
/*
 * io.c: the guest touches a device.
 *
 * Two ways out of a guest lead to a device.  An IN or OUT instruction exits
 * with the port, size and direction in EXITINFO1 and the next RIP in
 * EXITINFO2: everything we need, no decoding.  A load or store to a
 * guest-physical address with nothing behind it in our nested page tables
 * exits as a nested page fault; when the address is inside guest memory that
 * only means "first touch" (npt.c maps the page), otherwise it is device
 * memory (MMIO) and we decode the instruction to learn the size, the direction
 * and the register.
 *
 * The IOAPIC and the local APIC are ours to emulate (ioapic.c, lapic.c).  Every other port and device
 * address belongs to the launcher: read() returns to it, and for a read the
 * launcher's answer arrives with its next read() (lg_complete_read()).
 */
#include "lg.h"

static void lg_write_sized(struct lguest *lg, int reg, bool high_byte,
			   unsigned int size, u64 data)
{
	u64 old = lg_get_reg(lg, reg);

	switch (size) {
	case 1:
		if (high_byte)
			lg_set_reg(lg, reg, (old & ~0xff00ULL) | ((data & 0xff) << 8));
		else
			lg_set_reg(lg, reg, (old & ~0xffULL) | (data & 0xff));
		break;
	case 2:
		lg_set_reg(lg, reg, (old & ~0xffffULL) | (data & 0xffff));
		break;
	case 4:
		lg_set_reg(lg, reg, (u32)data);	/* 32-bit writes zero-extend */
		break;
	default:
		lg_set_reg(lg, reg, data);
	}
}

/* Finish the IN or MMIO load the launcher has just answered. */
void lg_complete_read(struct lguest *lg, u64 data)
{
	struct lg_pending_read *p = &lg->pending;

	if (!p->active)
		return;
	p->active = false;
	if (p->size < 8)
		data &= (1ULL << (8 * p->size)) - 1;	/* MOVZX zero-extends */
	lg_write_sized(lg, p->reg, p->high_byte, p->dest_size, data);
}

#define IOIO_IN		(1 << 0)
#define IOIO_STR	(1 << 2)

int lg_handle_ioio(struct lguest *lg, struct lguest_exit *exit)
{
	u64 info = lg->vmcb->control.exit_info_1;
	unsigned int size = (info >> 4) & 7;	/* one-hot: 1, 2 or 4 */
	bool in = info & IOIO_IN;

	if (info & IOIO_STR) {
		lg_kill(lg, "string I/O (INS/OUTS) to port %#llx is not supported",
			info >> 16);
		return 0;
	}
	if (size != 1 && size != 2 && size != 4) {
		lg_kill(lg, "bad I/O size in exit info %#llx", info);
		return 0;
	}
	lg->vmcb->save.rip = lg->vmcb->control.exit_info_2;
	lg->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;

	*exit = (struct lguest_exit){
		.reason = LGUEST_EXIT_IO,
		.size = size,
		.is_write = !in,
		.addr = info >> 16,
	};
	if (in)
		lg->pending = (struct lg_pending_read){
			.active = true, .size = size, .dest_size = size,
			.reg = LG_RAX,
		};
	else
		exit->data = lg->vmcb->save.rax & ((1ULL << (8 * size)) - 1);
	return 1;
}

static int lg_mmio(struct lguest *lg, u64 gpa, struct lguest_exit *exit)
{
	struct lg_insn insn;
	u8 bytes[15];
	unsigned int len;
	u64 data = 0;

	if (lg_fetch_insn(lg, bytes, &len) || lg_decode(bytes, len, &insn) ||
	    insn.kind != LG_INSN_MOV_MEM) {
		lg_kill(lg, "device access at %#llx by an instruction we cannot emulate at RIP %#llx (%*ph)",
			gpa, lg->vmcb->save.rip, len > 8 ? 8 : len, bytes);
		return 0;
	}
	if (insn.is_write)
		data = insn.has_imm ? insn.imm : lg_get_reg(lg, insn.reg) >>
						   (insn.high_byte ? 8 : 0);
	if (insn.size < 8)
		data &= (1ULL << (8 * insn.size)) - 1;
	lg_skip_insn(lg, insn.len);

	/* The IOAPIC's and the local APIC's registers live in the kernel. */
	if ((gpa >= LG_IOAPIC_BASE && gpa < LG_IOAPIC_BASE + PAGE_SIZE) ||
	    (gpa >= LG_LAPIC_BASE && gpa < LG_LAPIC_BASE + PAGE_SIZE)) {
		u32 val = data;

		if (insn.size != 4) {
			lg_kill(lg, "%u-byte APIC access at %#llx", insn.size, gpa);
			return 0;
		}
		if (gpa >= LG_LAPIC_BASE)
			lg_lapic_mmio(lg, gpa - LG_LAPIC_BASE, insn.is_write, &val);
		else
			lg_ioapic_mmio(lg, gpa - LG_IOAPIC_BASE, insn.is_write, &val);
		if (!insn.is_write)
			lg_write_sized(lg, insn.reg, false, insn.dest_size, val);
		return 0;
	}

	*exit = (struct lguest_exit){
		.reason = LGUEST_EXIT_MMIO,
		.size = insn.size,
		.is_write = insn.is_write,
		.addr = gpa,
		.data = data,
	};
	if (!insn.is_write)
		lg->pending = (struct lg_pending_read){
			.active = true, .size = insn.size,
			.dest_size = insn.dest_size, .reg = insn.reg,
			.high_byte = insn.high_byte,
		};
	return 1;
}

int lg_handle_npf(struct lguest *lg, struct lguest_exit *exit)
{
	u64 gpa = lg->vmcb->control.exit_info_2;
	int err;

	if (gpa >= lg->mem_size)
		return lg_mmio(lg, gpa, exit);

	err = lg_npt_map(lg, gpa);
	if (err == -EEXIST)
		lg_kill(lg, "nested page fault on mapped memory at %#llx (error code %#llx)",
			gpa, lg->vmcb->control.exit_info_1);
	else if (err)
		lg_kill(lg, "cannot map guest memory at %#llx: the launcher's memory is gone (error %d)",
			gpa, err);
	return 0;
}
