/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lg.h: what the parts of lg.ko tell each other.
 *
 * lg.ko is meant to be read in an afternoon, and this header is the map.  A
 * guest is a struct lguest: one virtual CPU (a VMCB and the registers SVM does
 * not keep in it), the launcher's memory seen through nested page tables, a
 * virtual x2APIC with its timer, an IOAPIC for the legacy interrupt lines, and
 * the little state needed to finish an instruction the launcher helped with.
 *
 * The parts, in the order a guest meets them:
 *   core.c        module load: the processor check, /dev/lguest
 *   lguest_user.c /dev/lguest: create a guest, run it, raise interrupts
 *   vmcb.c        a new guest's VMCB: what we intercept, where it starts
 *   svm.c         the processor's SVM: probe, per-CPU areas, one VMRUN
 *   vmrun.S       the instructions around VMRUN itself
 *   run.c         the run loop and the dispatch of every #VMEXIT
 *   npt.c         nested page tables over the launcher's memory
 *   guest_mem.c   reading guest memory and walking the guest's page tables
 *   decode.c      the few instructions we must decode (MMIO, MOV CR/DR)
 *   io.c          port I/O and MMIO exits
 *   msr.c         RDMSR/WRMSR; cpuid.c: the CPU the guest is shown
 *   lapic.c       the virtual x2APIC, TSC-deadline timer, interrupt injection
 *   ioapic.c      the IOAPIC: ISA interrupt lines to vectors
 *   pvclock.c     kvm-clock, so a stock kernel needs no PIT, HPET or RTC
 *   dma.c         the I/O model: DMA keys, bindings, sends, endpoints
 */
#ifndef _LG_H
#define _LG_H

#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <asm/svm.h>

#include <lguest/dma.h>
#include <lguest/launcher.h>

/* What the processor's SVM can do, read once at load time (svm.c). */
struct lg_svm_caps {
	u8 revision;		/* SVM revision (CPUID 0x8000000A EAX[7:0]) */
	u32 nr_asids;		/* address space IDs, ASID 0 being the host's */
	bool nested_paging;	/* NP: the CPU walks nested page tables */
	bool nrip_save;		/* the VMCB gets the next RIP on intercepts */
	bool vmcb_clean;	/* VMCB clean bits */
	bool flush_by_asid;	/* TLB_CONTROL can flush one ASID */
	bool decode_assists;	/* the VMCB holds the decoded instruction */
};
extern struct lg_svm_caps lg_caps;

/*
 * The guest registers VMRUN does not save for us (RAX, RSP, RIP and RFLAGS
 * live in the VMCB).  vmrun.S knows this layout: keep them in step.
 */
struct lg_regs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/* x86 register numbers, as ModRM encodes them. */
enum { LG_RAX, LG_RCX, LG_RDX, LG_RBX, LG_RSP, LG_RBP, LG_RSI, LG_RDI };

#define LG_IOAPIC_BASE	((u64)LGUEST_IOAPIC_ADDR)
#define LG_IOAPIC_PINS	24
#define LG_LAPIC_BASE	((u64)LGUEST_LAPIC_ADDR)

struct lg_lapic {
	/* Requested vectors: set from any context (timer, other threads). */
	unsigned long irr[256 / BITS_PER_LONG];
	/* In service: the vCPU thread's alone. */
	unsigned long isr[256 / BITS_PER_LONG];
	bool x2apic;		/* x2APIC mode (MSRs), else xAPIC (MMIO) */
	u32 tpr, svr, esr;
	u32 icr_high, ldr, dfr;	/* xAPIC mode only */
	u32 lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error,
	    lvt_cmci;
	u32 timer_divide, timer_initial;
	u64 timer_start_ns;	/* one-shot/periodic: when the count began */
	u64 tsc_deadline;	/* TSC-deadline mode: 0 is disarmed */
	struct hrtimer timer;
	atomic_t timer_fired;	/* set by the hrtimer, consumed by the vCPU */
};

struct lg_ioapic {
	spinlock_t lock;	/* the vCPU writes, launcher threads raise */
	u32 ioregsel;
	u64 redir[LG_IOAPIC_PINS];
};

/* An I/O or MMIO read the launcher is answering (see launcher.h). */
struct lg_pending_read {
	bool active;
	u8 size;		/* bytes read */
	u8 dest_size;		/* MMIO: bytes of the destination register */
	s8 reg;			/* MMIO: destination GPR; IO: RAX */
	bool high_byte;		/* MMIO: AH, CH, DH or BH */
};

/* Kinds of #VMEXIT we count, to know where a guest's time goes. */
enum { LG_EXIT_IO, LG_EXIT_MMIO, LG_EXIT_NPF, LG_EXIT_MSR, LG_EXIT_HLT,
       LG_EXIT_INTR, LG_EXIT_VINTR, LG_EXIT_OTHER, LG_EXIT_KINDS };

struct lguest {
	struct mutex lock;	/* one runner at a time; serialises requests */
	struct lg_dma_owner *owner;	/* its open file, in the I/O model */
	pid_t pid;		/* the launcher's, for the log */
	struct vmcb *vmcb;
	u64 vmcb_pa;
	struct lg_regs regs;
	u8 fpu[512] __aligned(16);	/* FXSAVE image of the guest's FPU */

	u64 mem_base;		/* launcher address of guest-physical 0 */
	u64 mem_size;
	u64 *npt_root;		/* nested page tables (npt.c) */
	unsigned long npt_pages;	/* pinned guest pages, for the log */
	unsigned long npt_huge;		/* ... mapped by 2 MiB nested pages */

	int asid;		/* may be shared with other guests (lguest_user.c) */
	bool asid_was_shared;	/* flush once more after it stops being */
	int last_cpu;		/* where the guest last ran, -1 at first */
	u64 boot_ns;		/* guest's time 0 (pvclock.c) */

	struct lg_lapic lapic;
	struct lg_ioapic ioapic;
	u64 dr[4];		/* DR0-3: kept, never loaded (guest debug off) */

	struct task_struct *runner;	/* the thread inside read(), if any */
	wait_queue_head_t halt_wq;	/* it sleeps here when the guest HLTs */

	struct lg_pending_read pending;
	unsigned long killing;	/* bit 0: lg_kill() is writing dead_msg */
	bool dead;		/* dead_msg is written (store-release) */
	char dead_msg[256];
	unsigned long exits;	/* #VMEXITs so far, for the log */
	struct lg_exit_record {	/* the last few, for a dead guest's log */
		u32 code;
		u64 rip, info1, info2;
	} recent[8];
	unsigned long exits_by[LG_EXIT_KINDS];	/* ... by kind (run.c) */
};

/*
 * Every open /dev/lguest takes part in the I/O model (dma.c) as one owner of
 * DMA bindings: a guest, once LHREQ_INITIALIZE made one, or an endpoint, once
 * it bound or sent.  The file holds a reference and so does each binding, so
 * a sender in the middle of a copy keeps its receiver's owner alive even if
 * the receiver's file is closed under it.
 */
enum lg_owner_kind { LG_OWNER_NEW, LG_OWNER_GUEST, LG_OWNER_ENDPOINT };

/* The counters of struct lguest_dma_stats, in its order. */
enum lg_dma_stat {
	LG_DMA_SENDS, LG_DMA_SENT_IN_KERNEL, LG_DMA_SENT_TO_LAUNCHER,
	LG_DMA_SENT_UNBOUND, LG_DMA_SEND_DROPS, LG_DMA_BYTES_SENT,
	LG_DMA_RECEIVES, LG_DMA_BYTES_RECEIVED, LG_DMA_BINDS, LG_DMA_NSTATS
};

struct lg_dma_owner {
	struct kref ref;
	struct mutex lock;	/* kind and the bindings: one binder at a time */
	int kind;		/* enum lg_owner_kind, set once under lock */
	struct mm_struct *mm;	/* whose addresses these are (mmgrab()bed) */
	u64 mem_base, mem_size;	/* guests: guest-physical to launcher address */
	pid_t pid;
	spinlock_t guest_lock;	/* guest: cleared under it before lg_destroy() */
	struct lguest *guest;
	struct list_head bindings;	/* struct lg_dma_binding, under lock */
	unsigned int nr_bindings;
	atomic64_t irqs;	/* endpoints: bindings filled since last read() */
	wait_queue_head_t wq;	/* endpoints: read() and poll() wait here */
	atomic64_t stats[LG_DMA_NSTATS];
	struct dentry *debugfs;
};

/* core.c: what is alive, told at unload so that a leak shows. */
extern atomic_long_t lg_stat_guests, lg_stat_pinned, lg_stat_tables;
extern atomic_long_t lg_stat_endpoints, lg_stat_dma_bindings;
extern struct dentry *lg_debugfs_root;

/* svm.c */
int lg_svm_probe(struct lg_svm_caps *caps);
int lg_svm_percpu_init(void);
void lg_svm_percpu_free(void);
void lg_svm_run(struct lguest *lg);
/* vmrun.S */
void lg_vmrun(struct lg_regs *regs, u64 vmcb_pa, u64 host_save_pa);

/* vmcb.c */
int lg_vmcb_setup_maps(void);
void lg_vmcb_free_maps(void);
void lg_vmcb_init(struct lguest *lg, const struct lguest_init *init);
void lg_set_intercept(struct lguest *lg, int bit, bool on);

/* lguest_user.c */
bool lg_asid_shared(int asid);
int lg_user_init(void);
void lg_user_exit(void);

/* run.c */
int lg_run(struct lguest *lg, struct lguest_exit *exit);
__printf(2, 3) void lg_kill(struct lguest *lg, const char *fmt, ...);
u64 lg_get_reg(struct lguest *lg, int reg);
void lg_set_reg(struct lguest *lg, int reg, u64 val);
void lg_skip_insn(struct lguest *lg, unsigned int len);
void lg_inject_exception(struct lguest *lg, int vector, bool has_err, u32 err);

/* npt.c */
int lg_npt_init(struct lguest *lg);
void lg_npt_free(struct lguest *lg);
int lg_npt_map(struct lguest *lg, u64 gpa);

/* guest_mem.c */
int lg_read_guest(struct lguest *lg, u64 gpa, void *buf, size_t len);
int lg_write_guest(struct lguest *lg, u64 gpa, const void *buf, size_t len);
int lg_gva_to_gpa(struct lguest *lg, u64 gva, u64 *gpa);
int lg_fetch_insn(struct lguest *lg, u8 *bytes, unsigned int *len);

/* decode.c */
enum lg_insn_kind { LG_INSN_MOV_MEM, LG_INSN_MOV_CR, LG_INSN_MOV_DR };
struct lg_insn {
	enum lg_insn_kind kind;
	u8 len;			/* bytes, prefixes included */
	u8 size;		/* MOV_MEM: bytes of memory accessed */
	u8 dest_size;		/* MOV_MEM load: bytes of the register written */
	bool is_write;		/* MOV_MEM: store; MOV_CR/DR: to CR/DR */
	bool has_imm;		/* MOV_MEM store of an immediate */
	bool high_byte;		/* the register is AH, CH, DH or BH */
	s8 reg;			/* the general register */
	u8 num;			/* MOV_CR/DR: which CR or DR */
	u64 imm;
};
int lg_decode(const u8 *bytes, unsigned int avail, struct lg_insn *insn);

/* io.c */
int lg_handle_ioio(struct lguest *lg, struct lguest_exit *exit);
int lg_handle_npf(struct lguest *lg, struct lguest_exit *exit);
void lg_complete_read(struct lguest *lg, u64 data);

/* msr.c, cpuid.c */
int lg_handle_msr(struct lguest *lg);
void lg_handle_cpuid(struct lguest *lg);

/* lapic.c */
void lg_lapic_init(struct lguest *lg);
void lg_lapic_destroy(struct lguest *lg);
bool lg_lapic_msr(struct lguest *lg, u32 msr, bool write, u64 *val);
void lg_lapic_mmio(struct lguest *lg, u64 offset, bool write, u32 *val);
u64 lg_lapic_base(struct lguest *lg);
bool lg_lapic_set_base(struct lguest *lg, u64 val);
void lg_lapic_set_irq(struct lguest *lg, u8 vector);
void lg_lapic_set_tpr(struct lguest *lg, u32 tpr);
bool lg_lapic_has_pending(struct lguest *lg);
void lg_inject_interrupts(struct lguest *lg);
void lg_interrupt_window_open(struct lguest *lg);
void lg_kick(struct lguest *lg);

/* ioapic.c */
void lg_ioapic_init(struct lguest *lg);
void lg_ioapic_raise(struct lguest *lg, unsigned int pin);
void lg_ioapic_mmio(struct lguest *lg, u64 offset, bool write, u32 *val);

/* pvclock.c */
void lg_pvclock_init(struct lguest *lg);
bool lg_pvclock_msr(struct lguest *lg, u32 msr, bool write, u64 *val);

/* dma.c */
struct lg_dma_owner *lg_dma_owner_new(void);
void lg_dma_owner_set_guest(struct lg_dma_owner *o, struct lguest *lg);
void lg_dma_owner_close(struct lg_dma_owner *o);
void lg_dma_owner_put(struct lg_dma_owner *o);
void lg_dma_bind_hypercall(struct lguest *lg, u64 key, u64 dmas, u64 num_irq);
int lg_dma_send_hypercall(struct lguest *lg, u64 key, u64 dma,
			  struct lguest_exit *exit);
int lg_dma_getdma(struct lg_dma_owner *o, struct lguest_getdma *req);
int lg_dma_endpoint_bind(struct lg_dma_owner *o, const struct lguest_bind *req);
int lg_dma_endpoint_send(struct lg_dma_owner *o, const struct lguest_send *req);
ssize_t lg_dma_endpoint_read(struct lg_dma_owner *o, char __user *buf,
			     size_t len, bool nonblock);
void lg_dma_get_stats(struct lg_dma_owner *o, struct lguest_dma_stats *stats);

#endif /* _LG_H */
