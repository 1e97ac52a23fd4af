// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c: lguest_chan, the channel devices /dev/lgchan0, /dev/lgchan1, ...
 *
 * A channel is a reliable, ordered byte stream each way between this guest
 * and its launcher, whose other end is a unix socket on the host (lguest
 * --channel=PATH).  It is how the host reaches the guest agent when the
 * guest's network is down, broken, or the very thing under study.  The
 * protocol is in include/lguest/devices.h; this is the guest's half, a
 * character device with one opener at a time.
 *
 * Reading: we bind a ring of receive buffers at the page's to_guest key.
 * Section 0 of each is a header, which the launcher fills with the
 * generation of the connection the bytes came from; section 1 holds the
 * bytes.  The launcher fills the buffers in ring order, and read() empties
 * them in the same order, starting at rx_next (a buffer can be read in
 * several pieces: rx_off is how far).  A buffer is ours while its used_len
 * is nonzero; writing 0 back gives it to the launcher again, so that store
 * comes last.  If the launcher said it waits for a free buffer (want_kick),
 * we clear the word and send it a KICK, once half the ring is free or when
 * nothing is left to read, whichever comes first.
 *
 * Writing: write() copies up to 64 KiB at a time into our transmit buffer
 * and sends it to the page's to_host key, which nobody binds, so it goes to
 * the launcher; used_len says how much it took.  All of it: on to the next
 * piece.  Less: the launcher is full, and will bump the page's room (and
 * raise our irq) when it has room again; we wait for that.  A write
 * returns once every byte is taken, or with what was taken when a signal
 * comes (or at once with O_NONBLOCK: what was taken, or -EAGAIN).
 *
 * Resets: the launcher's client went away, or our own reader closed the
 * device (release() sends HANGUP, so the next opener starts a new
 * connection).  The launcher bumps the page's gen.  Our reader keeps the
 * generation it has seen (gen); while the page's differs, read() fails once
 * with -ECONNRESET and takes the new one, dropping what was left of the
 * old, and write() fails with -ECONNRESET without taking it: the reader
 * hears of a reset first.  Every send carries our gen, and the launcher
 * takes nothing from an old one; every buffer carries the launcher's, and we
 * drop those of an old one.  So no byte crosses from one connection into
 * the next.  open() takes the page's generation as it is: bytes a client
 * sent before anyone opened the device are read by the first opener.
 *
 * The launcher is not trusted further than it must be: a used_len that does
 * not fit the buffer drops the buffer, and one larger than what we sent is an
 * error.  Our descriptors are rewritten before each use, so a launcher that
 * scribbles on them gains nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "lguest_bus.h"

static unsigned int rx_buffers = 16;
module_param(rx_buffers, uint, 0444);
MODULE_PARM_DESC(rx_buffers, "receive buffers per channel (1-64, default 16)");

#define LGCHAN_RX_SIZE	SZ_16K	/* a receive buffer's bytes: one section */
#define LGCHAN_TX_SIZE	SZ_64K	/* the most one send carries */
#define LGCHAN_SECTION	SZ_32K	/* a section's length is a u16 */
#define LGCHAN_HDR	sizeof(struct lguest_channel_hdr)

/* What the launcher reads and writes, in one allocation in our RAM. */
struct lgchan_shared {
	struct lguest_dma rx_dma[LGUEST_DMA_MAX_BUFS];	/* bound at to_guest */
	struct lguest_channel_hdr rx_hdr[LGUEST_DMA_MAX_BUFS];
	struct lguest_dma tx_dma;
	struct lguest_channel_hdr tx_hdr;
	struct lguest_dma ctl_dma;
	struct lguest_channel_control ctl;
};

struct lgchan {
	struct lguest_device *ldev;
	struct lguest_channel_page *page;	/* the device's, shared */
	phys_addr_t mem;			/* its guest-physical address */
	u8 irq;
	struct miscdevice misc;
	char name[16];
	atomic_t opened;
	wait_queue_head_t wq;	/* readers, writers and poll: the irq wakes all */
	struct lgchan_shared *sh;

	/* Reading, under rx_lock.  gen is also read by writers and poll. */
	struct mutex rx_lock;
	u32 gen;		/* the generation our reader has seen */
	unsigned int num_rx;
	unsigned int rx_next;	/* the buffer read next */
	unsigned int rx_off;	/* bytes of it already read */
	unsigned int rx_freed;	/* freed while the launcher waited, not yet told */
	void *rx_data[LGUEST_DMA_MAX_BUFS];

	/* Writing, under tx_lock. */
	struct mutex tx_lock;
	void *tx_buf;
	bool tx_short;		/* the last send was short, when room was tx_room */
	u32 tx_room;

	struct mutex ctl_lock;	/* the control descriptor */
};

static phys_addr_t lgchan_key(struct lgchan *ch, size_t offset)
{
	return ch->mem + offset;
}

/* One control operation for the launcher: KICK or HANGUP. */
static void lgchan_control(struct lgchan *ch, u32 op, u32 gen)
{
	struct lguest_dma *dma = &ch->sh->ctl_dma;

	mutex_lock(&ch->ctl_lock);
	ch->sh->ctl.op = op;
	ch->sh->ctl.gen = gen;
	dma->addr[0] = virt_to_phys(&ch->sh->ctl);
	dma->len[0] = sizeof(ch->sh->ctl);
	dma->len[1] = 0;
	dma->used_len = 0;
	lguest_send_dma(lgchan_key(ch, offsetof(struct lguest_channel_page, control)),
			virt_to_phys(dma));
	mutex_unlock(&ch->ctl_lock);
}

/*
 * We freed n buffers: if the launcher waits for one (devices.h), tell it,
 * once half the ring is free or when we have nothing left to read (so that
 * it never waits on a reader about to sleep).  A KICK for every buffer
 * would cost an exit each when the reader is the slower side.  Under rx_lock.
 */
static void lgchan_kick(struct lgchan *ch, unsigned int n)
{
	smp_mb();	/* our used_len stores before we look at want_kick */
	if (!READ_ONCE(ch->page->want_kick)) {
		ch->rx_freed = 0;	/* it was not waiting for those */
		return;
	}
	ch->rx_freed += n;
	if (ch->rx_freed < ch->num_rx / 2 &&
	    READ_ONCE(ch->sh->rx_dma[ch->rx_next].used_len))
		return;
	ch->rx_freed = 0;
	if (xchg(&ch->page->want_kick, 0))
		lgchan_control(ch, LGUEST_CHANNEL_KICK, 0);
}

/* Give receive buffer i to the launcher. */
static void lgchan_arm(struct lgchan *ch, unsigned int i)
{
	struct lguest_dma *dma = &ch->sh->rx_dma[i];

	dma->addr[0] = virt_to_phys(&ch->sh->rx_hdr[i]);
	dma->len[0] = LGCHAN_HDR;
	dma->addr[1] = virt_to_phys(ch->rx_data[i]);
	dma->len[1] = LGCHAN_RX_SIZE;
	dma->len[2] = 0;
	wmb();	/* the descriptor is whole before the launcher may fill it */
	WRITE_ONCE(dma->used_len, 0);
}

/* The buffer at rx_next is done with (read, or dropped): the next one. */
static void lgchan_next(struct lgchan *ch)
{
	lgchan_arm(ch, ch->rx_next);
	ch->rx_next = (ch->rx_next + 1) % ch->num_rx;
	ch->rx_off = 0;
}

/*
 * The buffer at rx_next: its byte count (after the header) and generation,
 * or false if it is not filled.  A length that does not fit is the
 * launcher's error: the buffer is dropped, and we look again.
 */
static bool lgchan_peek(struct lgchan *ch, u32 *len, u32 *gen, unsigned int *freed)
{
	for (;;) {
		unsigned int i = ch->rx_next;
		u32 used = READ_ONCE(ch->sh->rx_dma[i].used_len);

		if (!used)
			return false;
		rmb();	/* used_len before the header and bytes it announces */
		*gen = READ_ONCE(ch->sh->rx_hdr[i].gen);
		if (used >= LGCHAN_HDR && used - LGCHAN_HDR <= LGCHAN_RX_SIZE &&
		    ch->rx_off <= used - LGCHAN_HDR) {
			*len = used - LGCHAN_HDR;
			return true;
		}
		dev_warn_ratelimited(&ch->ldev->dev, "launcher filled buffer %u with %u bytes: dropped\n",
				     i, used);
		lgchan_next(ch);
		(*freed)++;
	}
}

/* Drop the buffers of generations before ours, in ring order: how many. */
static unsigned int lgchan_drop_old(struct lgchan *ch)
{
	unsigned int freed = 0;
	u32 len, gen;

	while (lgchan_peek(ch, &len, &gen, &freed) && gen != ch->gen) {
		lgchan_next(ch);
		freed++;
	}
	return freed;
}

/* Our reader takes the page's generation: what is left of the old goes. */
static unsigned int lgchan_see_gen(struct lgchan *ch)
{
	WRITE_ONCE(ch->gen, READ_ONCE(ch->page->gen));
	return lgchan_drop_old(ch);
}

/*
 * Copy up to count bytes of our generation to the user, in ring order,
 * dropping buffers of older ones.  The bytes copied; 0 when there are none
 * yet; -ECONNRESET once for each reset; -EFAULT.  Under rx_lock.
 */
static ssize_t lgchan_take(struct lgchan *ch, char __user *buf, size_t count)
{
	unsigned int freed = 0;
	size_t done = 0;
	ssize_t err = 0;
	u32 len, gen, n;

	if (READ_ONCE(ch->page->gen) != ch->gen) {
		freed = lgchan_see_gen(ch);
		err = -ECONNRESET;
		goto out;
	}
	while (done < count && lgchan_peek(ch, &len, &gen, &freed)) {
		if (gen != ch->gen) {
			if (READ_ONCE(ch->page->gen) != ch->gen) {
				/* A newer one: the reset is told first. */
				if (!done) {
					freed += lgchan_see_gen(ch);
					err = -ECONNRESET;
				}
				break;
			}
			lgchan_next(ch);	/* an older one */
			freed++;
			continue;
		}
		n = min_t(size_t, len - ch->rx_off, count - done);
		if (copy_to_user(buf + done, ch->rx_data[ch->rx_next] + ch->rx_off, n)) {
			err = -EFAULT;
			break;
		}
		done += n;
		ch->rx_off += n;
		if (ch->rx_off == len) {
			lgchan_next(ch);
			freed++;
		}
	}
out:
	if (freed)
		lgchan_kick(ch, freed);
	return done ? done : err;
}

/* Is there something for read(): bytes, or a reset to tell? */
static bool lgchan_readable(struct lgchan *ch)
{
	return READ_ONCE(ch->page->gen) != READ_ONCE(ch->gen) ||
	       READ_ONCE(ch->sh->rx_dma[READ_ONCE(ch->rx_next)].used_len);
}

static ssize_t lgchan_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct lgchan *ch = file->private_data;
	ssize_t ret;

	if (!count)
		return 0;
	for (;;) {
		if (mutex_lock_interruptible(&ch->rx_lock))
			return -ERESTARTSYS;
		ret = lgchan_take(ch, buf, count);
		mutex_unlock(&ch->rx_lock);
		if (ret)
			return ret;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(ch->wq, lgchan_readable(ch)))
			return -ERESTARTSYS;
	}
}

/*
 * Send the first n bytes of tx_buf, for generation gen: what the launcher
 * took, or a negative errno.
 */
static long lgchan_send(struct lgchan *ch, u32 gen, size_t n)
{
	struct lguest_dma *dma = &ch->sh->tx_dma;
	unsigned int i = 1;
	size_t off;
	long err;
	u32 took;

	ch->sh->tx_hdr.gen = gen;
	ch->sh->tx_hdr.reserved = 0;
	dma->addr[0] = virt_to_phys(&ch->sh->tx_hdr);
	dma->len[0] = LGCHAN_HDR;
	for (off = 0; off < n; off += LGCHAN_SECTION, i++) {
		dma->addr[i] = virt_to_phys(ch->tx_buf + off);
		dma->len[i] = min_t(size_t, n - off, LGCHAN_SECTION);
	}
	dma->len[i] = 0;	/* LGCHAN_TX_SIZE is 2 sections: i < 16 */
	dma->used_len = 0;
	err = lguest_send_dma(lgchan_key(ch, offsetof(struct lguest_channel_page, to_host)),
			      virt_to_phys(dma));
	if (err)
		return err;
	took = READ_ONCE(dma->used_len);
	if (took > n) {
		dev_warn_ratelimited(&ch->ldev->dev, "launcher took %u of %zu bytes\n",
				     took, n);
		return -EIO;
	}
	return took;
}

/* Can a write() take bytes now: not refused since room last changed? */
static bool lgchan_writable(struct lgchan *ch)
{
	return !READ_ONCE(ch->tx_short) ||
	       READ_ONCE(ch->page->room) != READ_ONCE(ch->tx_room) ||
	       READ_ONCE(ch->page->gen) != READ_ONCE(ch->gen);
}

static ssize_t lgchan_write(struct file *file, const char __user *buf, size_t count,
			    loff_t *ppos)
{
	struct lgchan *ch = file->private_data;
	size_t done = 0;
	ssize_t err = 0;

	if (mutex_lock_interruptible(&ch->tx_lock))
		return -ERESTARTSYS;
	while (done < count) {
		u32 gen = READ_ONCE(ch->gen), room = READ_ONCE(ch->page->room);
		size_t n = min_t(size_t, count - done, LGCHAN_TX_SIZE);
		long took;

		if (READ_ONCE(ch->page->gen) != gen) {
			err = -ECONNRESET;	/* until the reader has seen it */
			break;
		}
		if (copy_from_user(ch->tx_buf, buf + done, n)) {
			err = -EFAULT;
			break;
		}
		took = lgchan_send(ch, gen, n);
		if (took < 0) {
			err = took;
			break;
		}
		done += took;
		if (took < n)
			WRITE_ONCE(ch->tx_room, room);
		WRITE_ONCE(ch->tx_short, took < n);
		if (took == n || READ_ONCE(ch->page->gen) != gen)
			continue;
		if (file->f_flags & O_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		err = wait_event_interruptible(ch->wq, READ_ONCE(ch->page->room) != room ||
						       READ_ONCE(ch->page->gen) != gen);
		if (err)
			break;
	}
	mutex_unlock(&ch->tx_lock);
	return done ? done : err;
}

static __poll_t lgchan_poll(struct file *file, poll_table *wait)
{
	struct lgchan *ch = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &ch->wq, wait);
	if (lgchan_readable(ch))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (lgchan_writable(ch))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int lgchan_open(struct inode *inode, struct file *file)
{
	struct lgchan *ch = container_of(file->private_data, struct lgchan, misc);
	unsigned int freed;

	if (atomic_cmpxchg(&ch->opened, 0, 1))
		return -EBUSY;
	file->private_data = ch;
	mutex_lock(&ch->rx_lock);
	freed = lgchan_see_gen(ch);
	if (freed)
		lgchan_kick(ch, freed);
	mutex_unlock(&ch->rx_lock);
	WRITE_ONCE(ch->tx_short, false);
	return stream_open(inode, file);
}

/* Our side is closing: the launcher ends the connection (devices.h). */
static int lgchan_release(struct inode *inode, struct file *file)
{
	struct lgchan *ch = file->private_data;

	lgchan_control(ch, LGUEST_CHANNEL_HANGUP, READ_ONCE(ch->gen));
	atomic_set(&ch->opened, 0);
	return 0;
}

static const struct file_operations lgchan_fops = {
	.owner = THIS_MODULE,
	.open = lgchan_open,
	.release = lgchan_release,
	.read = lgchan_read,
	.write = lgchan_write,
	.poll = lgchan_poll,
	.llseek = no_llseek,
};

static irqreturn_t lgchan_interrupt(int irq, void *data)
{
	struct lgchan *ch = data;

	wake_up_interruptible_all(&ch->wq);
	return IRQ_HANDLED;
}

static void lgchan_free(struct lgchan *ch)
{
	unsigned int i;

	for (i = 0; i < ch->num_rx; i++)
		kfree(ch->rx_data[i]);
	kfree(ch->tx_buf);
	kfree(ch->sh);
	if (ch->page)
		lguest_unmap_device_memory(ch->page);
	kfree(ch);
}

static int lgchan_alloc(struct lgchan *ch)
{
	unsigned int i;

	ch->sh = kzalloc(sizeof(*ch->sh), GFP_KERNEL);
	ch->tx_buf = kmalloc(LGCHAN_TX_SIZE, GFP_KERNEL);
	if (!ch->sh || !ch->tx_buf)
		return -ENOMEM;
	for (i = 0; i < ch->num_rx; i++) {
		ch->rx_data[i] = kmalloc(LGCHAN_RX_SIZE, GFP_KERNEL);
		if (!ch->rx_data[i])
			return -ENOMEM;
		lgchan_arm(ch, i);
	}
	return 0;
}

static int lgchan_probe(struct lguest_device *ldev)
{
	struct lgchan *ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	int err;

	if (!ch)
		return -ENOMEM;
	ch->ldev = ldev;
	ch->mem = ldev->desc->mem;
	ch->irq = ldev->desc->irq;
	ch->num_rx = clamp_t(unsigned int, rx_buffers, 1, LGUEST_DMA_MAX_BUFS);
	atomic_set(&ch->opened, 0);
	init_waitqueue_head(&ch->wq);
	mutex_init(&ch->rx_lock);
	mutex_init(&ch->tx_lock);
	mutex_init(&ch->ctl_lock);
	snprintf(ch->name, sizeof(ch->name), "lgchan%u", ldev->type_index);

	err = lgchan_alloc(ch);
	if (err)
		goto free;
	err = -ENOMEM;
	ch->page = lguest_map_device_memory(ldev);
	if (!ch->page) {
		dev_err(&ldev->dev, "cannot map the channel page at %#llx\n", ldev->desc->mem);
		goto free;
	}
	ch->gen = READ_ONCE(ch->page->gen);

	err = request_irq(ch->irq, lgchan_interrupt, 0, ch->name, ch);
	if (err)
		goto free;
	err = lguest_bind_dma(lgchan_key(ch, offsetof(struct lguest_channel_page, to_guest)),
			      virt_to_phys(ch->sh->rx_dma), ch->num_rx, ch->irq);
	if (err) {
		dev_err(&ldev->dev, "cannot bind receive buffers: %d\n", err);
		goto free_irq;
	}
	lgchan_kick(ch, ch->num_rx);	/* the launcher may be waiting already */

	ch->misc.minor = MISC_DYNAMIC_MINOR;
	ch->misc.name = ch->name;
	ch->misc.fops = &lgchan_fops;
	ch->misc.parent = &ldev->dev;
	ch->misc.mode = 0600;
	err = misc_register(&ch->misc);
	if (err)
		goto unbind;
	dev_set_drvdata(&ldev->dev, ch);
	dev_info(&ldev->dev, "/dev/%s, irq %u, %u receive buffers of %u bytes\n",
		 ch->name, ch->irq, ch->num_rx, LGCHAN_RX_SIZE);
	return 0;

unbind:
	lguest_unbind_dma(lgchan_key(ch, offsetof(struct lguest_channel_page, to_guest)));
free_irq:
	free_irq(ch->irq, ch);
free:
	lgchan_free(ch);
	return err;
}

static void lgchan_remove(struct lguest_device *ldev)
{
	struct lgchan *ch = dev_get_drvdata(&ldev->dev);

	misc_deregister(&ch->misc);	/* nobody has it open: we are unloading */
	lguest_unbind_dma(lgchan_key(ch, offsetof(struct lguest_channel_page, to_guest)));
	free_irq(ch->irq, ch);
	lgchan_free(ch);
}

static struct lguest_driver lgchan_driver = {
	.type = LGUEST_DEVICE_CHANNEL,
	.probe = lgchan_probe,
	.remove = lgchan_remove,
	.driver = {
		.name = "lguest_chan",
		.owner = THIS_MODULE,
	},
};

static int __init lgchan_init(void)
{
	return lguest_register_driver(&lgchan_driver);
}

static void __exit lgchan_exit(void)
{
	lguest_unregister_driver(&lgchan_driver);
}

module_init(lgchan_init);
module_exit(lgchan_exit);

MODULE_DESCRIPTION("lguest guest: byte-stream channels to the launcher (/dev/lgchanN)");
MODULE_ALIAS("lguest:t3");
MODULE_LICENSE("GPL");
