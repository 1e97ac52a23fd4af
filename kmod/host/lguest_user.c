// SPDX-License-Identifier: GPL-2.0
/*
 * lguest_user.c: /dev/lguest, where launchers and endpoints come in.
 *
 * The conversation is in include/lguest/launcher.h and dma.h.  Each open file
 * is one owner in the I/O model (dma.c), and becomes at most one thing: a
 * guest, which LHREQ_INITIALIZE creates, read() runs, LHREQ_IRQ interrupts and
 * LHREQ_GETDMA helps serve; or a DMA endpoint, at its first LHREQ_BIND_DMA or
 * LHREQ_SEND_DMA, whose read() and poll() wait for its buffers to fill.  The
 * last close() destroys either.  Everything a process hands us is checked
 * here, or in dma.c, before it reaches code that trusts it.
 */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "lg.h"

/*
 * ASIDs.  ASID 0 is the host's; each guest gets one of its own while there
 * are any free.  A processor has few (QEMU's emulated SVM: 16, so 15
 * guests), and a lab may want more guests than that, so when none is free
 * a guest shares the ASID with the fewest users.  A shared ASID is correct
 * but slower: its TLB entries may be another guest's, so a guest whose ASID
 * is shared flushes the TLB at every entry (lg_enter_guest), and once more
 * after it stops being shared.
 */
#define LG_ASIDS_MAX 4096
static DEFINE_SPINLOCK(lg_asid_lock);
static u16 lg_asid_users[LG_ASIDS_MAX];

static int lg_asid_alloc(void)
{
	unsigned int max = min_t(u32, lg_caps.nr_asids, LG_ASIDS_MAX), asid, best = 1;

	spin_lock(&lg_asid_lock);
	for (asid = 1; asid < max; asid++) {
		if (lg_asid_users[asid] < lg_asid_users[best])
			best = asid;
		if (!lg_asid_users[best])
			break;
	}
	if (lg_asid_users[best] == U16_MAX) {
		spin_unlock(&lg_asid_lock);
		return -EBUSY;
	}
	lg_asid_users[best]++;
	spin_unlock(&lg_asid_lock);
	return best;
}

static void lg_asid_free(int asid)
{
	spin_lock(&lg_asid_lock);
	lg_asid_users[asid]--;
	spin_unlock(&lg_asid_lock);
}

/* Is ASID used by more than one guest right now?  (A racy read is fine: a
 * guest that starts sharing takes its first entry with a flush anyway.) */
bool lg_asid_shared(int asid)
{
	return READ_ONCE(lg_asid_users[asid]) > 1;
}

static void lg_destroy(struct lguest *lg)
{
	lg_lapic_destroy(lg);
	pr_info("lguest: guest of pid %d destroyed after %lu exits (io %lu, mmio %lu, npf %lu, msr %lu, hlt %lu, intr %lu, vintr %lu, other %lu), %lu pages pinned (%lu 2 MiB pages)\n",
		task_tgid_nr(current), lg->exits, lg->exits_by[LG_EXIT_IO],
		lg->exits_by[LG_EXIT_MMIO], lg->exits_by[LG_EXIT_NPF],
		lg->exits_by[LG_EXIT_MSR], lg->exits_by[LG_EXIT_HLT],
		lg->exits_by[LG_EXIT_INTR], lg->exits_by[LG_EXIT_VINTR],
		lg->exits_by[LG_EXIT_OTHER], lg->npt_pages, lg->npt_huge);
	lg_npt_free(lg);
	if (lg->vmcb)
		free_page((unsigned long)lg->vmcb);
	if (lg->asid > 0)
		lg_asid_free(lg->asid);
	free_pages((unsigned long)lg, get_order(sizeof(*lg)));
	atomic_long_dec(&lg_stat_guests);
}

static bool lg_in_mem(const struct lguest_init *in, u64 gpa, u64 len)
{
	return gpa < in->mem_size && len <= in->mem_size - gpa;
}

static int lg_check_init(const struct lguest_init *in)
{
	if (!PAGE_ALIGNED(in->mem_base) || !PAGE_ALIGNED(in->mem_size) ||
	    !in->mem_size || in->mem_size > LGUEST_MEM_MAX ||
	    in->mem_base + in->mem_size < in->mem_base ||
	    !access_ok((void __user *)in->mem_base, in->mem_size))
		return -EINVAL;
	if (!lg_in_mem(in, in->rip, 1) || !lg_in_mem(in, in->rsi, PAGE_SIZE) ||
	    !PAGE_ALIGNED(in->cr3) || !lg_in_mem(in, in->cr3, PAGE_SIZE) ||
	    in->gdt_limit > 0xffff || !lg_in_mem(in, in->gdt_base, in->gdt_limit + 1))
		return -EINVAL;
	return 0;
}

static int lg_initialize(struct lg_dma_owner *o, const char __user *buf,
			 size_t len)
{
	struct lguest_init in;
	struct lguest *lg;
	int err;

	if (len != sizeof(in))
		return -EINVAL;
	if (copy_from_user(&in, buf, sizeof(in)))
		return -EFAULT;
	err = lg_check_init(&in);
	if (err)
		return err;

	lg = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO,
				      get_order(sizeof(*lg)));
	if (!lg)
		return -ENOMEM;
	atomic_long_inc(&lg_stat_guests);
	mutex_init(&lg->lock);
	init_waitqueue_head(&lg->halt_wq);
	lg->pid = task_tgid_nr(current);
	lg->mem_base = in.mem_base;
	lg->mem_size = in.mem_size;
	lg->last_cpu = -1;
	/* The FPU as after FNINIT, with SSE exceptions masked. */
	*(u16 *)&lg->fpu[0] = 0x37f;
	*(u32 *)&lg->fpu[24] = 0x1f80;
	lg_lapic_init(lg);
	lg_ioapic_init(lg);
	lg_pvclock_init(lg);

	lg->asid = lg_asid_alloc();
	lg->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	err = lg->asid < 0 ? lg->asid : !lg->vmcb ? -ENOMEM : lg_npt_init(lg);
	if (err) {
		lg_destroy(lg);
		return err;
	}
	lg->vmcb_pa = virt_to_phys(lg->vmcb);
	lg_vmcb_init(lg, &in);

	/* One guest per open file, and not on an endpoint's. */
	mutex_lock(&o->lock);
	if (o->kind != LG_OWNER_NEW) {
		mutex_unlock(&o->lock);
		lg_destroy(lg);
		return -EBUSY;
	}
	lg_dma_owner_set_guest(o, lg);
	mutex_unlock(&o->lock);
	pr_info("lguest: guest of pid %d created: %llu MiB, ASID %d%s\n",
		task_tgid_nr(current), in.mem_size >> 20, lg->asid,
		lg_asid_shared(lg->asid) ? " (shared: the TLB is flushed at each entry)" : "");
	return 0;
}

/*
 * A request's structure, whole: exactly its size, copied in.  The answers of
 * GETDMA and DMA_STATS go back into the caller's copy.
 */
static int lg_request_in(void *req, size_t size, const char __user *buf,
			 size_t len)
{
	if (len != size)
		return -EINVAL;
	if (copy_from_user(req, buf, size))
		return -EFAULT;
	return 0;
}

/* The guest's launcher finds a free receive buffer its guest bound. */
static int lg_getdma(struct lg_dma_owner *o, char __user *buf, size_t len)
{
	struct lguest_getdma req;
	int err;

	err = lg_request_in(&req, sizeof(req), buf, len);
	if (err)
		return err;
	if (current->mm != o->mm)
		return -EPERM;
	err = lg_dma_getdma(o, &req);
	if (err)
		return err;
	return copy_to_user(buf, &req, sizeof(req)) ? -EFAULT : 0;
}

static int lg_endpoint_bind(struct lg_dma_owner *o, const char __user *buf,
			    size_t len)
{
	struct lguest_bind req;
	int err = lg_request_in(&req, sizeof(req), buf, len);

	return err ? err : lg_dma_endpoint_bind(o, &req);
}

static int lg_endpoint_send(struct lg_dma_owner *o, const char __user *buf,
			    size_t len)
{
	struct lguest_send req;
	int err = lg_request_in(&req, sizeof(req), buf, len);

	return err ? err : lg_dma_endpoint_send(o, &req);
}

static int lg_stats_request(struct lg_dma_owner *o, char __user *buf,
			    size_t len)
{
	struct lguest_dma_stats stats;
	int err = lg_request_in(&stats, sizeof(stats), buf, len);

	if (err)
		return err;
	if (READ_ONCE(o->kind) == LG_OWNER_NEW)
		return -ENOENT;
	lg_dma_get_stats(o, &stats);
	return copy_to_user(buf, &stats, sizeof(stats)) ? -EFAULT : 0;
}

static ssize_t lg_write(struct file *file, const char __user *buf, size_t len,
			loff_t *off)
{
	struct lg_dma_owner *o = file->private_data;
	struct lguest *lg = smp_load_acquire(&o->guest);
	int kind = READ_ONCE(o->kind);
	struct lguest_irq irq;
	u64 request;
	int err;

	if (len < sizeof(request))
		return -EINVAL;
	if (get_user(request, (const u64 __user *)buf))
		return -EFAULT;

	switch (request) {
	case LHREQ_INITIALIZE:
		if (kind != LG_OWNER_NEW)
			return -EBUSY;
		err = lg_initialize(o, buf, len);
		break;
	case LHREQ_IRQ:
		if (kind == LG_OWNER_ENDPOINT)
			return -EINVAL;
		if (!lg)
			return -ENOENT;
		if (len != sizeof(irq) || copy_from_user(&irq, buf, sizeof(irq)))
			return -EINVAL;
		if (irq.irq < 1 || irq.irq >= LG_IOAPIC_PINS)
			return -EINVAL;
		lg_ioapic_raise(lg, irq.irq);
		return len;
	case LHREQ_GETDMA:
		if (kind == LG_OWNER_ENDPOINT)
			return -EINVAL;
		if (!lg)
			return -ENOENT;
		/* write() that answers, as launcher.h says: into buf. */
		err = lg_getdma(o, (char __user *)buf, len);
		break;
	case LHREQ_BIND_DMA:
		err = lg_endpoint_bind(o, buf, len);
		break;
	case LHREQ_SEND_DMA:
		err = lg_endpoint_send(o, buf, len);
		break;
	case LHREQ_DMA_STATS:
		err = lg_stats_request(o, (char __user *)buf, len);
		break;
	default:
		return -EINVAL;
	}
	return err ? err : len;
}

static ssize_t lg_read(struct file *file, char __user *buf, size_t len,
		       loff_t *off)
{
	struct lg_dma_owner *o = file->private_data;
	struct lguest *lg = smp_load_acquire(&o->guest);
	struct lguest_exit exit;
	int ret;

	if (!lg) {
		if (READ_ONCE(o->kind) == LG_OWNER_ENDPOINT)
			return lg_dma_endpoint_read(o, buf, len,
						    file->f_flags & O_NONBLOCK);
		return -ENOENT;
	}
	if (len < sizeof(exit))
		return -EINVAL;
	/* The guest's memory, and its DMA keys, are its launcher's addresses. */
	if (current->mm != o->mm)
		return -EPERM;
	if (mutex_lock_interruptible(&lg->lock))
		return -EINTR;

	/* The launcher's answer to the read it was asked to do last time. */
	if (lg->pending.active) {
		u64 data;

		if (copy_from_user(&data, buf + offsetof(struct lguest_exit, data),
				   sizeof(data))) {
			mutex_unlock(&lg->lock);
			return -EFAULT;
		}
		lg_complete_read(lg, data);
	}

	memset(&exit, 0, sizeof(exit));
	WRITE_ONCE(lg->runner, current);
	ret = lg_run(lg, &exit);
	WRITE_ONCE(lg->runner, NULL);
	mutex_unlock(&lg->lock);

	if (ret < 0)
		return ret;
	if (copy_to_user(buf, &exit, sizeof(exit)))
		return -EFAULT;
	return sizeof(exit);
}

/*
 * An endpoint is readable when some of its buffers filled since its last
 * read(); a guest's file, as before poll() was ours, is always ready.
 */
static __poll_t lg_poll(struct file *file, poll_table *wait)
{
	struct lg_dma_owner *o = file->private_data;

	if (READ_ONCE(o->kind) == LG_OWNER_GUEST)
		return DEFAULT_POLLMASK;
	poll_wait(file, &o->wq, wait);
	return EPOLLOUT | EPOLLWRNORM |
	       (atomic64_read(&o->irqs) ? EPOLLIN | EPOLLRDNORM : 0);
}

static int lg_release(struct inode *inode, struct file *file)
{
	struct lg_dma_owner *o = file->private_data;
	struct lguest *lg = o->guest;

	/* Its bindings go first: then no sender can reach the guest. */
	lg_dma_owner_close(o);
	if (lg)
		lg_destroy(lg);
	lg_dma_owner_put(o);
	return 0;
}

/* misc_open() left the miscdevice in private_data: ours is the owner. */
static int lg_open(struct inode *inode, struct file *file)
{
	file->private_data = lg_dma_owner_new();
	if (!file->private_data)
		return -ENOMEM;
	return nonseekable_open(inode, file);
}

static const struct file_operations lg_fops = {
	.owner = THIS_MODULE,
	.open = lg_open,
	.read = lg_read,
	.write = lg_write,
	.poll = lg_poll,
	.release = lg_release,
	.llseek = no_llseek,
};

/* Only root runs guests: the device is created mode 0600. */
static struct miscdevice lg_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "lguest",
	.fops = &lg_fops,
	.mode = 0600,
};

int lg_user_init(void)
{
	return misc_register(&lg_dev);
}

void lg_user_exit(void)
{
	misc_deregister(&lg_dev);
}
