// SPDX-License-Identifier: GPL-2.0
/*
 * decode.c: the few x86 instructions we have to understand.
 *
 * With decode assists the processor would tell us which register a trapped
 * MOV used; QEMU's emulated SVM (what this project's tests run on) has none,
 * so we read the instruction ourselves.  Happily a guest kernel reaches us
 * with very few kinds:
 *
 *   MOV to or from memory (88, 89, 8A, 8B, C6, C7) and MOVZX (0F B6, 0F B7):
 *     loads and stores to device memory such as the IOAPIC (readl/writel);
 *   MOV to or from a control register (0F 20, 0F 22) and a debug register
 *     (0F 21, 0F 23): the CR4 and DR0-3 accesses we intercept.
 *
 * with the legacy prefixes (operand size 66, address size 67, LOCK, segment
 * overrides) and a REX prefix.  Anything else is refused, and the caller kills
 * the guest that used it rather than guess.  The memory operand's address is
 * of no interest (the #VMEXIT gives us the guest-physical address): we only
 * need its length to find the end of the instruction.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "lg.h"

struct lg_cursor {
	const u8 *bytes;
	unsigned int avail, pos;
	bool bad;
};

static u8 next_byte(struct lg_cursor *c)
{
	if (c->pos >= c->avail) {
		c->bad = true;
		return 0;
	}
	return c->bytes[c->pos++];
}

static u64 next_imm(struct lg_cursor *c, unsigned int size)
{
	u64 val = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		val |= (u64)next_byte(c) << (8 * i);
	return val;
}

/* Skip the SIB byte and displacement that follow a ModRM byte. */
static void skip_modrm_operand(struct lg_cursor *c, u8 modrm)
{
	u8 mod = modrm >> 6, rm = modrm & 7;

	if (mod == 3)
		return;
	if (rm == 4) {
		u8 sib = next_byte(c);

		if (mod == 0 && (sib & 7) == 5)
			c->pos += 4;
	} else if (mod == 0 && rm == 5) {
		c->pos += 4;	/* RIP-relative disp32 */
	}
	if (mod == 1)
		c->pos += 1;
	else if (mod == 2)
		c->pos += 4;
	if (c->pos > c->avail)
		c->bad = true;
}

int lg_decode(const u8 *bytes, unsigned int avail, struct lg_insn *insn)
{
	struct lg_cursor c = { .bytes = bytes, .avail = avail };
	bool opsize16 = false, rex_w = false, has_rex = false;
	u8 rex = 0, op, modrm, reg;
	unsigned int opsize;

	*insn = (struct lg_insn){ .reg = -1 };

	/* Legacy prefixes, then at most one REX right before the opcode. */
	for (;;) {
		op = next_byte(&c);
		if (op == 0x66)
			opsize16 = true;
		else if (op == 0x67 || op == 0xf0 || op == 0x26 || op == 0x2e ||
			 op == 0x36 || op == 0x3e || op == 0x64 || op == 0x65)
			continue;
		else
			break;
		if (c.bad)
			return -EINVAL;
	}
	if ((op & 0xf0) == 0x40) {
		rex = op;
		has_rex = true;
		rex_w = rex & 8;
		op = next_byte(&c);
	}
	opsize = rex_w ? 8 : opsize16 ? 2 : 4;

	if (op == 0x0f) {
		op = next_byte(&c);
		modrm = next_byte(&c);
		reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
		switch (op) {
		case 0x20: case 0x22:	/* MOV r64, CRn / MOV CRn, r64 */
		case 0x21: case 0x23:	/* MOV r64, DRn / MOV DRn, r64 */
			insn->kind = (op & 1) ? LG_INSN_MOV_DR : LG_INSN_MOV_CR;
			insn->is_write = op & 2;
			insn->num = reg;
			insn->reg = (modrm & 7) | (rex & 1 ? 8 : 0);
			break;
		case 0xb6: case 0xb7:	/* MOVZX r, r/m8 or r/m16 */
			if ((modrm >> 6) == 3)
				return -EINVAL;
			insn->kind = LG_INSN_MOV_MEM;
			insn->size = op == 0xb6 ? 1 : 2;
			insn->dest_size = opsize;
			insn->reg = reg;
			skip_modrm_operand(&c, modrm);
			break;
		default:
			return -EINVAL;
		}
	} else {
		switch (op) {
		case 0x88: case 0x89:	/* MOV r/m, r */
		case 0x8a: case 0x8b:	/* MOV r, r/m */
		case 0xc6: case 0xc7:	/* MOV r/m, imm */
			break;
		default:
			return -EINVAL;
		}
		modrm = next_byte(&c);
		if ((modrm >> 6) == 3)
			return -EINVAL;	/* register to register: no memory */
		insn->kind = LG_INSN_MOV_MEM;
		insn->size = (op & 1) ? opsize : 1;
		insn->dest_size = insn->size;
		insn->is_write = op != 0x8a && op != 0x8b;
		skip_modrm_operand(&c, modrm);
		if (op >= 0xc6) {
			if ((modrm >> 3) & 7)
				return -EINVAL;
			insn->has_imm = true;
			/* imm16 with 66, else imm32 (sign-extended for REX.W) */
			insn->imm = next_imm(&c, insn->size == 2 ? 2 : insn->size == 1 ? 1 : 4);
			if (insn->size == 8)
				insn->imm = (u64)(s64)(s32)insn->imm;
		} else {
			reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
			/* Byte registers 4-7 are AH..BH unless there is a REX. */
			if (insn->size == 1 && !has_rex && reg >= 4 && reg < 8) {
				insn->high_byte = true;
				reg -= 4;
			}
			insn->reg = reg;
		}
	}
	if (c.bad)
		return -EINVAL;
	insn->len = c.pos;
	return 0;
}
