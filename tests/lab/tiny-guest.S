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
 * and the DMA calls of include/lguest/dma.h.  Each of these breaks one rule,
 * and lg.ko must kill it (if the call ever returns, it says so):
 *
 *   DMA_BAD_KEY_OUTSIDE   binds at a key outside its memory (1 GiB)
 *   DMA_BAD_KEY_UNALIGNED binds at a key that is not 4-byte aligned
 *   DMA_BAD_BUFS_OUTSIDE  binds buffers that lie outside its memory
 *   DMA_TOO_MANY_BUFS     binds 65 buffers (64 at most)
 *   DMA_BAD_SECTION       sends a buffer whose section is outside its memory
 *   DMA_BIND_1000         binds 1000 different keys (64 at most)
 *   DMA_UNMAPPED_KEY      binds at HOLE, where dma-launcher --unmap=HOLE left
 *                         nothing mapped in its launcher
 *   DMA_BAD_RXBUF         binds, at SHARE + 8, a receive buffer whose section
 *                         is outside its memory, then waits (HLT) for it
 *
 * and these keep the rules:
 *
 *   DMA_REBIND_1000   binds one key 1000 times (each replaces the last), then
 *                     unbinds it; every call must return 0; powers off
 *   DMA_TO_LAUNCHER   binds a receive buffer at a key and sends "ping from
 *                     the tiny guest" to the same key: its own buffers do not
 *                     count, so the send goes to the launcher.  It prints what
 *                     the call returned, the used_len the launcher wrote and
 *                     the reply the launcher put in its buffer; powers off
 *   DMA_ECHO          binds a receive buffer at SHARE + 8 with IRQ 5 (routed
 *                     through the IOAPIC to its own handler), sends "hello
 *                     from the tiny guest" to SHARE + 16, HLTs until the
 *                     interrupt says a frame came, and sends that frame back
 *                     to SHARE + 16; prints each used_len; powers off
 *
 * and one for the hypervisor's interrupt handling:
 *
 *   INTERRUPT_WINDOW  with interrupts disabled, arms its local APIC timer for
 *                     the next moment and makes SPINS rounds of a CPUID and a
 *                     CR8 write while that interrupt waits, each re-entry
 *                     asking for an interrupt window; then sets the task
 *                     priority (CR8) to 15 and enables interrupts: the
 *                     interrupt must wait; then CR8 0: it must come.  Says
 *                     what happened, powers off
 *
 * SHARE is guest-physical 16 MiB, where tests/lab/dma-launcher --share=FILE
 * maps a file, so that an endpoint that maps the same file meets it there.
 *
 * Power-off is what lguest defines it as: HLT with interrupts disabled.
 */
#define SHARE		0x1000000
#define HOLE		0x1800000
#define OUTSIDE		0x40000000	/* beyond any tiny guest's memory */
#define LHCALL_BIND_DMA	12
#define LHCALL_SEND_DMA	13
/* struct lguest_dma: used_len, reserved, addr[16], len[16]; 168 bytes */
#define DMA_USED	0
#define DMA_ADDR	8
#define DMA_LEN		136
#define RXBUF_SIZE	2048
#define IRQ		5
#define VECTOR		0x35
#define IOAPIC		0xfec00000
#define LAPIC		0xfee00000
#define TIMER_VECTOR	0x40
#ifndef SPINS
#define SPINS		1000000
#endif
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
#elif defined(DMA_BAD_KEY_OUTSIDE)
	mov	$OUTSIDE, %rbx
	call	bind_rx
	jmp	came_back
#elif defined(DMA_BAD_KEY_UNALIGNED)
	lea	keys+2(%rip), %rbx
	call	bind_rx
	jmp	came_back
#elif defined(DMA_BAD_BUFS_OUTSIDE)
	mov	$LHCALL_BIND_DMA, %eax
	lea	keys(%rip), %rbx
	mov	$OUTSIDE, %rcx
	mov	$(1 << 8 | IRQ), %edx
	vmmcall
	jmp	came_back
#elif defined(DMA_TOO_MANY_BUFS)
	mov	$LHCALL_BIND_DMA, %eax
	lea	keys(%rip), %rbx
	lea	rxdesc(%rip), %rcx
	mov	$(65 << 8 | IRQ), %edx
	vmmcall
	jmp	came_back
#elif defined(DMA_BAD_SECTION)
	movq	$OUTSIDE, txdesc+DMA_ADDR(%rip)
	movw	$100, txdesc+DMA_LEN(%rip)
	lea	keys(%rip), %rbx
	call	send_tx
	jmp	came_back
#elif defined(DMA_BIND_1000)
	lea	keys(%rip), %rbx
	mov	$1000, %r12d
1:	call	bind_rx
	add	$4, %rbx
	dec	%r12d
	jnz	1b
	jmp	came_back
#elif defined(DMA_UNMAPPED_KEY)
	mov	$HOLE, %rbx
	call	bind_rx
	jmp	came_back
#elif defined(DMA_BAD_RXBUF)
	movq	$OUTSIDE, rxdesc+DMA_ADDR(%rip)
	movw	$100, rxdesc+DMA_LEN(%rip)
	mov	$LHCALL_BIND_DMA, %eax
	mov	$(SHARE + 8), %rbx
	lea	rxdesc(%rip), %rcx
	mov	$(1 << 8 | IRQ), %edx
	vmmcall
	lea	waiting(%rip), %rsi
	call	puts
1:	sti			/* no interrupt is unmasked: only death wakes us */
	hlt
	jmp	1b
#elif defined(DMA_REBIND_1000)
	call	setup_rx
	lea	keys(%rip), %rbx
	mov	$1000, %r12d
1:	call	bind_rx
	test	%rax, %rax
	jnz	refused
	dec	%r12d
	jnz	1b
	mov	$LHCALL_BIND_DMA, %eax	/* irq 0: unbind */
	xor	%ecx, %ecx
	xor	%edx, %edx
	vmmcall
	test	%rax, %rax
	jnz	refused
	lea	rebound(%rip), %rsi
	call	puts
	jmp	poweroff
refused:
	lea	not_zero(%rip), %rsi
	call	puts
	jmp	poweroff
#elif defined(DMA_TO_LAUNCHER)
	call	setup_rx
	lea	keys(%rip), %rbx
	call	bind_rx
	lea	ping(%rip), %rax
	mov	%rax, txdesc+DMA_ADDR(%rip)
	movw	$(ping_end - ping), txdesc+DMA_LEN(%rip)
	lea	keys(%rip), %rbx
	call	send_tx
	mov	%rax, %r12
	lea	send_returned(%rip), %rsi
	call	puts
	mov	%r12, %rax
	call	putdec
	lea	comma_used_len(%rip), %rsi
	call	puts
	mov	txdesc+DMA_USED(%rip), %eax
	call	putdec
	lea	newline(%rip), %rsi
	call	puts
	lea	received(%rip), %rsi
	call	puts
	mov	rxdesc+DMA_USED(%rip), %eax
	call	putdec
	lea	bytes_colon(%rip), %rsi
	call	puts
	lea	rxbuf(%rip), %rsi
	mov	rxdesc+DMA_USED(%rip), %ecx
	call	putn
	lea	newline(%rip), %rsi
	call	puts
	jmp	poweroff
#elif defined(DMA_ECHO)
	call	setup_irq
	call	setup_rx
	mov	$(SHARE + 8), %rbx
	call	bind_rx
	lea	hello(%rip), %rax
	mov	%rax, txdesc+DMA_ADDR(%rip)
	movw	$(hello_end - hello), txdesc+DMA_LEN(%rip)
	mov	$(SHARE + 16), %rbx
	call	send_tx
	lea	hello_used_len(%rip), %rsi
	call	puts
	mov	txdesc+DMA_USED(%rip), %eax
	call	putdec
	lea	newline(%rip), %rsi
	call	puts
1:	cli			/* sleep until the interrupt handler has run */
	cmpl	$0, irq_seen(%rip)
	jne	2f
	sti
	hlt
	jmp	1b
2:	lea	got_irq(%rip), %rsi
	call	puts
	mov	rxdesc+DMA_USED(%rip), %eax
	call	putdec
	lea	newline(%rip), %rsi
	call	puts
	lea	rxbuf(%rip), %rax	/* send the frame back as it came */
	mov	%rax, txdesc+DMA_ADDR(%rip)
	mov	rxdesc+DMA_USED(%rip), %eax
	mov	%ax, txdesc+DMA_LEN(%rip)
	movl	$0, txdesc+DMA_USED(%rip)
	mov	$(SHARE + 16), %rbx
	call	send_tx
	lea	echo_used_len(%rip), %rsi
	call	puts
	mov	txdesc+DMA_USED(%rip), %eax
	call	putdec
	lea	newline(%rip), %rsi
	call	puts
	jmp	poweroff
#elif defined(INTERRUPT_WINDOW)
	cli
	mov	$TIMER_VECTOR, %eax
	lea	timer_handler(%rip), %rdx
	call	set_gate
	lidt	idtr(%rip)
	mov	$LAPIC, %esi
	mov	$0x1ff, %eax
	mov	%eax, 0xf0(%rsi)	/* the APIC on (spurious vector 0xff) */
	mov	$TIMER_VECTOR, %eax
	mov	%eax, 0x320(%rsi)	/* LVT timer: one-shot, our vector */
	mov	$1, %eax
	mov	%eax, 0x380(%rsi)	/* initial count: fire at once */
	mov	$SPINS, %r12d
1:	xor	%eax, %eax
	cpuid
	xor	%eax, %eax
	mov	%rax, %cr8	/* the task priority, unchanged */
	dec	%r12d
	jnz	1b
	lea	spun(%rip), %rsi
	call	puts
	mov	$15, %eax	/* now hold back every vector below 0xf0 */
	mov	%rax, %cr8
	mov	%cr8, %rax
	lea	cr8_differs(%rip), %rsi
	cmp	$15, %rax
	jne	2f
	sti
	nop			/* an interrupt comes after STI's shadow */
	cli
	lea	not_held(%rip), %rsi
	cmpl	$0, irq_seen(%rip)
	jne	2f
	lea	held(%rip), %rsi
	call	puts
	xor	%eax, %eax
	mov	%rax, %cr8
	sti
	nop
	cli
	lea	no_timer(%rip), %rsi
	cmpl	$0, irq_seen(%rip)
	je	2f
	lea	timer_came(%rip), %rsi
2:	call	puts
	jmp	poweroff
#else /* POWEROFF */
	lea	bye(%rip), %rsi
	call	puts
	jmp	poweroff
#endif

/* One free receive buffer: rxdesc describes the 2048 bytes of rxbuf. */
setup_rx:
	lea	rxbuf(%rip), %rax
	mov	%rax, rxdesc+DMA_ADDR(%rip)
	movw	$RXBUF_SIZE, rxdesc+DMA_LEN(%rip)
	movl	$0, rxdesc+DMA_USED(%rip)
	ret

/* LHCALL_BIND_DMA(rbx, rxdesc, 1 << 8 | IRQ); rax = the result. */
bind_rx:
	mov	$LHCALL_BIND_DMA, %eax
	lea	rxdesc(%rip), %rcx
	mov	$(1 << 8 | IRQ), %edx
	vmmcall
	ret

/* LHCALL_SEND_DMA(rbx, txdesc); rax = the result. */
send_tx:
	mov	$LHCALL_SEND_DMA, %eax
	lea	txdesc(%rip), %rcx
	vmmcall
	ret

/*
 * IRQ 5 to our handler: an IDT whose vector VECTOR is irq_handler, and the
 * IOAPIC's pin 5 set to that vector (fixed, edge, unmasked, to APIC 0).  The
 * stores to the IOAPIC go through a register: lg.ko decodes MOV r/m, r.
 */
setup_irq:
	mov	$VECTOR, %eax
	lea	irq_handler(%rip), %rdx
	call	set_gate
	lidt	idtr(%rip)
	mov	$IOAPIC, %edi
	mov	$(0x10 + 2 * IRQ + 1), %eax	/* redirection entry, high half */
	mov	%eax, (%rdi)
	xor	%eax, %eax
	mov	%eax, 0x10(%rdi)
	mov	$(0x10 + 2 * IRQ), %eax		/* ... low half */
	mov	%eax, (%rdi)
	mov	$VECTOR, %eax
	mov	%eax, 0x10(%rdi)
	ret

/* IDT entry eax: an interrupt gate to rdx. */
set_gate:
	shl	$4, %eax
	lea	idt(%rip), %rdi
	add	%rax, %rdi
	mov	%dx, (%rdi)
	movw	$0x10, 2(%rdi)		/* the launcher's 64-bit code segment */
	movw	$0x8e00, 4(%rdi)	/* present, DPL 0, interrupt gate */
	shr	$16, %rdx
	mov	%dx, 6(%rdi)
	shr	$16, %rdx
	mov	%edx, 8(%rdi)
	movl	$0, 12(%rdi)
	ret

timer_handler:
irq_handler:
	push	%rax
	push	%rsi
	movl	$1, irq_seen(%rip)
	mov	$LAPIC, %esi
	xor	%eax, %eax
	mov	%eax, 0xb0(%rsi)	/* EOI */
	pop	%rsi
	pop	%rax
	iretq

/* A DMA call returned when it should have killed us. */
came_back:
	lea	survived_dma(%rip), %rsi
	call	puts
	jmp	poweroff

/* Write rax in decimal to the serial port. */
putdec:
	lea	decbuf_end(%rip), %rsi
	movb	$0, (%rsi)
	mov	$10, %ecx
1:	xor	%edx, %edx
	div	%rcx
	add	$'0', %dl
	dec	%rsi
	mov	%dl, (%rsi)
	test	%rax, %rax
	jnz	1b
	jmp	puts

/* Write the ecx bytes at rsi to the serial port. */
putn:	mov	$0x3f8, %dx
	test	%ecx, %ecx
	jz	2f
1:	lodsb
	outb	%al, %dx
	dec	%ecx
	jnz	1b
2:	ret

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
survived_dma:
	.asciz	"tiny guest: a bad DMA call came back\n"
waiting:
	.asciz	"tiny guest: bound a bad receive buffer, waiting\n"
rebound:
	.asciz	"tiny guest: bound one key 1000 times, then unbound it\n"
not_zero:
	.asciz	"tiny guest: a DMA call did not return 0\n"
ping:	.ascii	"ping from the tiny guest"
ping_end:
hello:	.ascii	"hello from the tiny guest"
hello_end:
send_returned:
	.asciz	"tiny guest: send returned "
comma_used_len:
	.asciz	", used_len "
received:
	.asciz	"tiny guest: received "
bytes_colon:
	.asciz	" bytes: "
hello_used_len:
	.asciz	"tiny guest: hello sent, used_len "
got_irq:
	.asciz	"tiny guest: interrupt, received "
echo_used_len:
	.asciz	"tiny guest: echoed it, used_len "
spun:	.asciz	"tiny guest: spun with interrupts off and the timer pending\n"
cr8_differs:
	.asciz	"tiny guest: CR8 does not read back what was written\n"
held:	.asciz	"tiny guest: with CR8 = 15 the timer interrupt waited\n"
not_held:
	.asciz	"tiny guest: the timer interrupt came through CR8 = 15\n"
timer_came:
	.asciz	"tiny guest: then the timer interrupt came\n"
no_timer:
	.asciz	"tiny guest: then no timer interrupt came\n"
newline:
	.asciz	"\n"
	.balign	8
idtr:	.word	256 * 16 - 1
	.quad	idt
	.bss
	.balign	16
	.skip	4096
stack_top:
	.balign	8
rxdesc:	.skip	168
txdesc:	.skip	168
irq_seen:
	.skip	4
decbuf:	.skip	24
decbuf_end:
	.skip	1
	.balign	4096
keys:	.skip	4096		/* 1000 keys, 4 bytes apart */
idt:	.skip	256 * 16
rxbuf:	.skip	RXBUF_SIZE
	.section .note.GNU-stack,"",@progbits
