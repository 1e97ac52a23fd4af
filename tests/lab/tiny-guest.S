/*
 * tiny-guest.S: guests that are not Linux, for the lab tests.
 *
 * lguest loads any x86-64 ELF executable as it loads a vmlinux, and enters
 * it in long mode at _start.  Built once per behaviour (-D...):
 *
 *   POWEROFF          says "tiny guest: bye" on the serial port, powers off
 *   TRIPLE_FAULT      loads an empty IDT and raises #BP: with no handler for
 *                     it, nor for #GP or #DF, the processor shuts down
 *   RANDOM_HYPERCALLS makes 100000 VMMCALLs with pseudo-random numbers and
 *                     arguments; every one must come back -1000 (KVM's
 *                     "no such call"), else it says so; then powers off
 *
 * Power-off is what lguest defines it as: HLT with interrupts disabled.
 */
	.code64
	.text
	.globl	_start
_start:
	lea	stack_top(%rip), %rsp	/* the boot protocol gives no stack */
#if defined(TRIPLE_FAULT)
	lidt	empty_idt(%rip)
	int3
	jmp	.
#elif defined(RANDOM_HYPERCALLS)
	mov	$100000, %r12d
	movabs	$0x9e3779b97f4a7c15, %r13	/* xorshift64 state */
	rdtsc
	xor	%rax, %r13
1:	call	xorshift
	mov	%r13, %rbx
	call	xorshift
	mov	%r13, %rcx
	call	xorshift
	mov	%r13, %rdx
	call	xorshift
	mov	%r13, %rsi
	call	xorshift
	mov	%r13, %rax
	vmmcall
	cmp	$-1000, %rax
	jne	bad
	dec	%r12d
	jnz	1b
	lea	survived(%rip), %rsi
	call	puts
	jmp	poweroff
bad:	lea	unexpected(%rip), %rsi
	call	puts
	jmp	poweroff

/* r13 = the next xorshift64 value */
xorshift:
	mov	%r13, %r14
	shl	$13, %r14
	xor	%r14, %r13
	mov	%r13, %r14
	shr	$7, %r14
	xor	%r14, %r13
	mov	%r13, %r14
	shl	$17, %r14
	xor	%r14, %r13
	ret
#else /* POWEROFF */
	lea	bye(%rip), %rsi
	call	puts
	jmp	poweroff
#endif

/* Write the NUL-terminated string at rsi to the serial port. */
puts:	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	ret

poweroff:
	cli
	hlt
	jmp	poweroff

	.data
empty_idt:
	.word	0
	.quad	0
bye:	.asciz	"tiny guest: bye\n"
survived:
	.asciz	"tiny guest: 100000 random hypercalls all refused with -1000\n"
unexpected:
	.asciz	"tiny guest: a random hypercall did not return -1000\n"
	.bss
	.balign	16
	.skip	4096
stack_top:
	.section .note.GNU-stack,"",@progbits
