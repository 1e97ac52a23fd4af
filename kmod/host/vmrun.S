/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmrun.S: the few instructions around VMRUN.
 *
 *   lg_vmrun(struct lg_regs *regs, u64 vmcb_pa, u64 host_save_pa)
 *
 * VMRUN switches RAX, RSP, RIP, RFLAGS, the control registers and the
 * segment registers' visible state; VMSAVE and VMLOAD switch the rest of the
 * segment state (FS, GS, TR, LDTR with their hidden bases) and the syscall
 * MSRs.  The general registers are ours to switch, here.  After #VMEXIT the
 * processor has restored our RSP and RAX (the VMCB address), every other
 * general register still holds the guest's value.
 *
 * Called with GIF clear (svm.c), so the STI below lets host interrupts make
 * the guest exit without letting one in here.
 */
#include <linux/linkage.h>
#include <asm/nospec-branch.h>

/* Offsets in struct lg_regs (lg.h). */
#define R_RBX	0
#define R_RCX	8
#define R_RDX	16
#define R_RSI	24
#define R_RDI	32
#define R_RBP	40
#define R_R8	48
#define R_R9	56
#define R_R10	64
#define R_R11	72
#define R_R12	80
#define R_R13	88
#define R_R14	96
#define R_R15	104

SYM_FUNC_START(lg_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi		/* regs */
	push	%rdx		/* host save area */

	/* The host's FS, GS, TR... go to the per-CPU page. */
	mov	%rdx, %rax
	vmsave	%rax

	/* The guest's general registers, RDI last: it points at them. */
	mov	%rsi, %rax	/* the guest's VMCB */
	mov	R_RBX(%rdi), %rbx
	mov	R_RCX(%rdi), %rcx
	mov	R_RDX(%rdi), %rdx
	mov	R_RSI(%rdi), %rsi
	mov	R_RBP(%rdi), %rbp
	mov	R_R8(%rdi), %r8
	mov	R_R9(%rdi), %r9
	mov	R_R10(%rdi), %r10
	mov	R_R11(%rdi), %r11
	mov	R_R12(%rdi), %r12
	mov	R_R13(%rdi), %r13
	mov	R_R14(%rdi), %r14
	mov	R_R15(%rdi), %r15
	mov	R_RDI(%rdi), %rdi

	vmload	%rax
	sti
	vmrun	%rax
	cli
	vmsave	%rax

	/* Back in the host, with the guest's registers in hand. */
	push	%rdi
	mov	16(%rsp), %rdi	/* regs */
	mov	%rbx, R_RBX(%rdi)
	mov	%rcx, R_RCX(%rdi)
	mov	%rdx, R_RDX(%rdi)
	mov	%rsi, R_RSI(%rdi)
	mov	%rbp, R_RBP(%rdi)
	mov	%r8, R_R8(%rdi)
	mov	%r9, R_R9(%rdi)
	mov	%r10, R_R10(%rdi)
	mov	%r11, R_R11(%rdi)
	mov	%r12, R_R12(%rdi)
	mov	%r13, R_R13(%rdi)
	mov	%r14, R_R14(%rdi)
	mov	%r15, R_R15(%rdi)
	pop	R_RDI(%rdi)

	/* And the host's FS, GS, TR... back. */
	pop	%rax
	vmload	%rax

	/* The guest must not steer our returns: refill the return stack. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* No guest value may linger in a register the compiler might read. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rdi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(lg_vmrun)
