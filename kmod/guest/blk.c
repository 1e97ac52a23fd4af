// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c: lguest_blk, the disks /dev/lgba, /dev/lgbb, ...
 *
 * The launcher serves a block device (a file on the host, given with
 * --block) at one DMA key, the guest-physical address desc->mem.  A request
 * is a single LHCALL_SEND_DMA to that key: section 0 of the buffer is a
 * struct lguest_block_req (operation, flags, first sector, status), the
 * other fifteen sections are the data, straight from the pages the block
 * layer gave us.  Nobody else binds the key, so every send exits to our own
 * launcher, which takes the request (the send's used_len becomes nonzero)
 * and lets the guest run on while it does the I/O in a thread of its own.
 * When it is done it writes the request's status, then raises the device's
 * interrupt.  So many requests can be in flight at once: one per tag of the
 * blk-mq queue, each with its own request header and DMA descriptor in a
 * per-tag slot, which must stay put until the launcher has written status.
 *
 * The interrupt does not say which request finished, so the handler looks
 * at the status of every request in flight.  A send whose used_len is 0 was
 * refused by the launcher (a bad request, or a write to a read-only file):
 * that request fails at once.
 *
 * The host file sits behind the host's page cache, so we say we have a
 * volatile write cache with FUA: the block layer then sends REQ_OP_FLUSH
 * (LGUEST_BLOCK_FLUSH, an fsync on the host) and FUA writes when a file
 * system needs its data to be durable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "lguest_bus.h"

#define LGBLK_MINORS		16	/* per disk: the disk and 15 partitions */
#define LGBLK_SEGMENTS		(LGUEST_DMA_SECTIONS - 1) /* section 0: header */
#define LGBLK_SEGMENT_SIZE	SZ_32K	/* a section's length is a u16 */
#define LGBLK_MAX_DEPTH		BITS_PER_LONG

static unsigned int queue_depth = 32;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "requests in flight per disk (1-64, default 32)");

static int lgblk_major;

/* What one request in flight needs; the launcher reads dma and req. */
struct lgblk_slot {
	struct lguest_dma dma;
	struct lguest_block_req req;
	struct request *rq;
	struct scatterlist sg[LGBLK_SEGMENTS];
};

struct lgblk {
	struct lguest_device *ldev;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	phys_addr_t key;
	u8 irq;
	unsigned int depth;
	struct lgblk_slot *slots;	/* one per tag */
	spinlock_t lock;		/* protects inflight */
	unsigned long inflight;		/* a bit per tag the launcher holds */
};

/* The request's own data: how it ended. */
struct lgblk_cmd {
	blk_status_t status;
};

static blk_status_t lgblk_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct lgblk *lb = hctx->queue->queuedata;
	struct lgblk_slot *slot = &lb->slots[rq->tag];
	struct scatterlist *sg;
	unsigned long flags;
	int i, nsegs = 0;
	bool taken;
	u32 op;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		op = LGUEST_BLOCK_READ;
		break;
	case REQ_OP_WRITE:
		op = LGUEST_BLOCK_WRITE;
		break;
	case REQ_OP_FLUSH:
		op = LGUEST_BLOCK_FLUSH;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	blk_mq_start_request(rq);
	memset(&slot->dma, 0, sizeof(slot->dma));
	slot->req = (struct lguest_block_req) {
		.op = op,
		.flags = rq->cmd_flags & REQ_FUA ? LGUEST_BLOCK_FUA : 0,
		.sector = blk_rq_pos(rq),
		.status = LGUEST_BLOCK_PENDING,
	};
	slot->dma.addr[0] = virt_to_phys(&slot->req);
	slot->dma.len[0] = sizeof(slot->req);
	if (op != LGUEST_BLOCK_FLUSH) {
		sg_init_table(slot->sg, LGBLK_SEGMENTS);
		nsegs = blk_rq_map_sg(hctx->queue, rq, slot->sg);
		for_each_sg(slot->sg, sg, nsegs, i) {
			slot->dma.addr[i + 1] = sg_phys(sg);
			slot->dma.len[i + 1] = sg->length;
		}
	}
	slot->rq = rq;

	/*
	 * The completion may come as soon as the launcher has the request:
	 * keep the interrupt handler out until we know whether it took it.
	 */
	spin_lock_irqsave(&lb->lock, flags);
	__set_bit(rq->tag, &lb->inflight);
	lguest_send_dma(lb->key, virt_to_phys(&slot->dma));
	taken = READ_ONCE(slot->dma.used_len) != 0;
	if (!taken)
		__clear_bit(rq->tag, &lb->inflight);
	spin_unlock_irqrestore(&lb->lock, flags);

	if (!taken) {
		dev_err_ratelimited(disk_to_dev(lb->disk),
				    "launcher refused request: op %u, sector %llu, %d segments\n",
				    op, (unsigned long long)blk_rq_pos(rq), nsegs);
		return BLK_STS_IOERR;
	}
	return BLK_STS_OK;
}

/* Some request ended: find which, and complete them outside the lock. */
static irqreturn_t lgblk_interrupt(int irq, void *data)
{
	struct lgblk *lb = data;
	unsigned long flags, finished = 0;
	unsigned int tag;

	spin_lock_irqsave(&lb->lock, flags);
	for_each_set_bit(tag, &lb->inflight, lb->depth) {
		struct lgblk_slot *slot = &lb->slots[tag];
		u32 status = READ_ONCE(slot->req.status);
		struct lgblk_cmd *cmd;

		if (status == LGUEST_BLOCK_PENDING)
			continue;
		rmb();	/* the status before the data it vouches for */
		cmd = blk_mq_rq_to_pdu(slot->rq);
		cmd->status = status == LGUEST_BLOCK_DONE ? BLK_STS_OK
							  : BLK_STS_IOERR;
		__set_bit(tag, &finished);
	}
	lb->inflight &= ~finished;
	spin_unlock_irqrestore(&lb->lock, flags);

	for_each_set_bit(tag, &finished, lb->depth)
		blk_mq_complete_request(lb->slots[tag].rq);
	/* An interrupt that finds nothing new is harmless: never "unhandled". */
	return IRQ_HANDLED;
}

static void lgblk_complete(struct request *rq)
{
	struct lgblk_cmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

/*
 * The launcher has the request's buffers: we cannot take them back, only
 * wait for it.  Say so now and then, in case it never answers.
 */
static enum blk_eh_timer_return lgblk_timeout(struct request *rq)
{
	dev_warn_ratelimited(disk_to_dev(rq->q->disk),
			     "request at sector %llu still pending, waiting\n",
			     (unsigned long long)blk_rq_pos(rq));
	return BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops lgblk_mq_ops = {
	.queue_rq = lgblk_queue_rq,
	.complete = lgblk_complete,
	.timeout = lgblk_timeout,
};

static const struct block_device_operations lgblk_fops = {
	.owner = THIS_MODULE,
};

static int lgblk_probe(struct lguest_device *ldev)
{
	struct lguest_device_desc *desc = ldev->desc;
	struct request_queue *q;
	struct lgblk *lb;
	int err;

	if (ldev->type_index >= 26) {
		dev_err(&ldev->dev, "too many block devices\n");
		return -ENODEV;
	}

	lb = kzalloc(sizeof(*lb), GFP_KERNEL);
	if (!lb)
		return -ENOMEM;
	lb->ldev = ldev;
	lb->key = desc->mem;
	lb->irq = desc->irq;
	lb->depth = clamp_t(unsigned int, queue_depth, 1, LGBLK_MAX_DEPTH);
	spin_lock_init(&lb->lock);
	err = -ENOMEM;
	lb->slots = kcalloc(lb->depth, sizeof(*lb->slots), GFP_KERNEL);
	if (!lb->slots)
		goto free_lb;

	lb->tag_set.ops = &lgblk_mq_ops;
	lb->tag_set.nr_hw_queues = 1;
	lb->tag_set.queue_depth = lb->depth;
	lb->tag_set.numa_node = NUMA_NO_NODE;
	lb->tag_set.cmd_size = sizeof(struct lgblk_cmd);
	lb->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
	lb->tag_set.driver_data = lb;
	err = blk_mq_alloc_tag_set(&lb->tag_set);
	if (err)
		goto free_slots;

	lb->disk = blk_mq_alloc_disk(&lb->tag_set, lb);
	if (IS_ERR(lb->disk)) {
		err = PTR_ERR(lb->disk);
		goto free_tag_set;
	}
	q = lb->disk->queue;
	blk_queue_max_segments(q, LGBLK_SEGMENTS);
	blk_queue_max_segment_size(q, LGBLK_SEGMENT_SIZE);
	blk_queue_max_hw_sectors(q, LGBLK_SEGMENTS * LGBLK_SEGMENT_SIZE >> SECTOR_SHIFT);
	blk_queue_write_cache(q, true, true);

	lb->disk->major = lgblk_major;
	lb->disk->first_minor = ldev->type_index * LGBLK_MINORS;
	lb->disk->minors = LGBLK_MINORS;
	lb->disk->fops = &lgblk_fops;
	lb->disk->private_data = lb;
	snprintf(lb->disk->disk_name, DISK_NAME_LEN, "lgb%c",
		 'a' + ldev->type_index);
	set_capacity(lb->disk, desc->config.block.capacity);
	set_disk_ro(lb->disk, desc->features & LGUEST_BLOCK_F_RO);

	err = request_irq(lb->irq, lgblk_interrupt, 0, lb->disk->disk_name, lb);
	if (err)
		goto put_disk;

	dev_set_drvdata(&ldev->dev, lb);
	err = device_add_disk(&ldev->dev, lb->disk, NULL);
	if (err)
		goto free_irq;
	dev_info(&ldev->dev, "%s: %llu sectors%s, irq %u\n", lb->disk->disk_name,
		 (unsigned long long)desc->config.block.capacity,
		 desc->features & LGUEST_BLOCK_F_RO ? ", read-only" : "", lb->irq);
	return 0;

free_irq:
	free_irq(lb->irq, lb);
put_disk:
	put_disk(lb->disk);
free_tag_set:
	blk_mq_free_tag_set(&lb->tag_set);
free_slots:
	kfree(lb->slots);
free_lb:
	kfree(lb);
	return err;
}

static void lgblk_remove(struct lguest_device *ldev)
{
	struct lgblk *lb = dev_get_drvdata(&ldev->dev);

	del_gendisk(lb->disk);	/* waits for the requests in flight */
	free_irq(lb->irq, lb);
	put_disk(lb->disk);
	blk_mq_free_tag_set(&lb->tag_set);
	kfree(lb->slots);
	kfree(lb);
}

static struct lguest_driver lgblk_driver = {
	.type = LGUEST_DEVICE_BLOCK,
	.probe = lgblk_probe,
	.remove = lgblk_remove,
	.driver = {
		.name = "lguest_blk",
		.owner = THIS_MODULE,
	},
};

static int __init lgblk_init(void)
{
	int err;

	lgblk_major = register_blkdev(0, "lgb");
	if (lgblk_major < 0)
		return lgblk_major;
	err = lguest_register_driver(&lgblk_driver);
	if (err)
		unregister_blkdev(lgblk_major, "lgb");
	return err;
}

static void __exit lgblk_exit(void)
{
	lguest_unregister_driver(&lgblk_driver);
	unregister_blkdev(lgblk_major, "lgb");
}

module_init(lgblk_init);
module_exit(lgblk_exit);

MODULE_DESCRIPTION("lguest guest: block devices /dev/lgba, /dev/lgbb, ...");
MODULE_ALIAS("lguest:t2");
MODULE_LICENSE("GPL");
