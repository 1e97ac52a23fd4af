// SPDX-License-Identifier: GPL-2.0
/*
 * net.c: lguest_net, an Ethernet interface on a sharenet segment.
 *
 * A sharenet segment is nothing but a page of MAC slots (devices.h).  Every
 * guest on the segment owns one slot; the address of that slot is also its
 * DMA key.  To receive, we bind a ring of buffers at our slot's key and
 * write our MAC into the slot, saying "I am here, and this is my address".
 * To transmit, we look through the page ourselves and send the frame to the
 * key of every slot that should have it: the slot whose MAC is the frame's
 * destination, every slot that asked for everything (bit 0 of its first MAC
 * byte, which no unicast address has: the virtual switch, the launcher's
 * tap), and for broadcast and multicast every slot in use.  lg.ko copies the
 * frame straight into the other guest's buffer and raises its interrupt;
 * there is no switch in the middle and no trip to any launcher.  (A tunnet
 * is the same thing, with a page private to our launcher, which reads the
 * frames for its tap from slot 1.)
 *
 * Receiving is NAPI: the interrupt only schedules a poll, which takes the
 * filled buffers, hands their sk_buffs up the stack and puts fresh ones in
 * their place.  A buffer is ours while its used_len is nonzero; writing 0
 * back gives it to lg.ko again, so that store comes last, after a barrier.
 *
 * Transmission is synchronous: when LHCALL_SEND_DMA returns, the bytes are
 * in the receiver's buffer (its used_len says how many, or 0 if it had no
 * free buffer), so the sk_buff is freed at once and the queue never stops.
 * Frames travel whole, without offloads: nothing on the segment could
 * finish a checksum for us.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/u64_stats_sync.h>

#include "lguest_bus.h"

static unsigned int rx_buffers = 64;
module_param(rx_buffers, uint, 0444);
MODULE_PARM_DESC(rx_buffers, "receive buffers per interface (1-64, default 64)");

struct lgnet_counters {
	u64 packets;
	u64 bytes;
	u64 dropped;
	u64 errors;
	struct u64_stats_sync syncp;
};

struct lgnet {
	struct net_device *dev;
	struct lguest_device *ldev;

	/* The segment's page of slots, shared with every guest on it. */
	struct lguest_net_slot *slots;
	phys_addr_t page;	/* its guest-physical address */
	unsigned int slot;	/* ours */
	u8 irq;

	/* Receiving: num_rx buffers bound at our slot's key. */
	struct napi_struct napi;
	struct lguest_dma *rx_dma;
	struct sk_buff **rx_skb;
	unsigned int num_rx;
	unsigned int rx_len;	/* bytes each buffer takes */
	unsigned int rx_next;	/* where the next poll starts looking */
	bool bound;

	/* Transmitting: one descriptor, as ndo_start_xmit is serialised. */
	struct lguest_dma *tx_dma;

	struct lgnet_counters rx_stats, tx_stats;
};

static phys_addr_t lgnet_key(struct lgnet *ln, unsigned int slot)
{
	return ln->page + slot * sizeof(struct lguest_net_slot);
}

/*
 * The MAC in a slot, read in one go (another guest may be writing it).
 * False for a free slot.
 */
static bool lgnet_read_slot(struct lgnet *ln, unsigned int slot, u8 *mac)
{
	__le64 raw = READ_ONCE(*(__le64 *)&ln->slots[slot]);

	memcpy(mac, &raw, ETH_ALEN);
	return !is_zero_ether_addr(mac);
}

/* Our slot says who we are (and whether we want every frame). */
static void lgnet_publish(struct lgnet *ln)
{
	u8 mac[ETH_ALEN] __aligned(2);

	ether_addr_copy(mac, ln->dev->dev_addr);
	if (ln->dev->flags & IFF_PROMISC)
		mac[0] |= LGUEST_NET_PROMISC;
	memcpy(ln->slots[ln->slot].mac, mac, ETH_ALEN);
}

static void lgnet_unpublish(struct lgnet *ln)
{
	memset(ln->slots[ln->slot].mac, 0, ETH_ALEN);
}

/* Should the guest in a slot with this MAC get a frame for dest? */
static bool lgnet_slot_wants(const u8 *slot_mac, const u8 *dest)
{
	return is_multicast_ether_addr(dest) ||
	       (slot_mac[0] & LGUEST_NET_PROMISC) ||
	       ether_addr_equal(slot_mac, dest);
}

static netdev_tx_t lgnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct lgnet *ln = netdev_priv(dev);
	struct lguest_dma *dma = ln->tx_dma;
	unsigned int slot, wanted = 0, delivered = 0;
	unsigned int len = skb->len;
	u8 mac[ETH_ALEN] __aligned(2);

	if (skb_linearize(skb) || len < ETH_HLEN || len > U16_MAX)
		goto drop;

	dma->addr[0] = virt_to_phys(skb->data);
	dma->len[0] = len;
	dma->len[1] = 0;
	for (slot = 0; slot < LGUEST_NET_SLOTS; slot++) {
		if (slot == ln->slot || !lgnet_read_slot(ln, slot, mac) ||
		    !lgnet_slot_wants(mac, skb->data))
			continue;
		wanted++;
		WRITE_ONCE(dma->used_len, 0);
		if (lguest_send_dma(lgnet_key(ln, slot), virt_to_phys(dma)))
			continue;
		if (READ_ONCE(dma->used_len))
			delivered++;
	}
	/*
	 * A frame nobody on the segment wanted went out on the wire as far as
	 * we can tell; one that every receiver had to drop did not.
	 */
	if (wanted && !delivered)
		goto drop;

	u64_stats_update_begin(&ln->tx_stats.syncp);
	ln->tx_stats.packets++;
	ln->tx_stats.bytes += len;
	u64_stats_update_end(&ln->tx_stats.syncp);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;

drop:
	u64_stats_update_begin(&ln->tx_stats.syncp);
	ln->tx_stats.dropped++;
	u64_stats_update_end(&ln->tx_stats.syncp);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Give buffer i, with its sk_buff, back to lg.ko. */
static void lgnet_arm(struct lgnet *ln, unsigned int i)
{
	struct lguest_dma *dma = &ln->rx_dma[i];

	dma->addr[0] = virt_to_phys(ln->rx_skb[i]->data);
	dma->len[0] = ln->rx_len;
	dma->len[1] = 0;
	wmb();	/* the descriptor is complete before lg.ko may use it */
	WRITE_ONCE(dma->used_len, 0);
}

/* Buffer i holds a frame of len bytes: pass it up and re-arm the buffer. */
static void lgnet_receive(struct lgnet *ln, unsigned int i, unsigned int len)
{
	struct sk_buff *skb = ln->rx_skb[i], *fresh;

	if (len < ETH_HLEN || len > ln->rx_len) {
		u64_stats_update_begin(&ln->rx_stats.syncp);
		ln->rx_stats.errors++;
		u64_stats_update_end(&ln->rx_stats.syncp);
		goto rearm;
	}
	fresh = napi_alloc_skb(&ln->napi, ln->rx_len);
	if (!fresh) {
		/* Keep the old sk_buff in the ring; this frame is lost. */
		u64_stats_update_begin(&ln->rx_stats.syncp);
		ln->rx_stats.dropped++;
		u64_stats_update_end(&ln->rx_stats.syncp);
		goto rearm;
	}
	ln->rx_skb[i] = fresh;

	skb_put(skb, len);
	skb->protocol = eth_type_trans(skb, ln->dev);
	u64_stats_update_begin(&ln->rx_stats.syncp);
	ln->rx_stats.packets++;
	ln->rx_stats.bytes += len;
	u64_stats_update_end(&ln->rx_stats.syncp);
	napi_gro_receive(&ln->napi, skb);
rearm:
	lgnet_arm(ln, i);
}

/*
 * Look at every buffer, starting after the last one taken: lg.ko fills them
 * in turn, so this keeps the frames in order, and whatever order it uses,
 * a full look misses none.
 */
static int lgnet_poll(struct napi_struct *napi, int budget)
{
	struct lgnet *ln = container_of(napi, struct lgnet, napi);
	unsigned int n, i = ln->rx_next, len;
	int done = 0;

	for (n = 0; n < ln->num_rx && done < budget; n++) {
		len = READ_ONCE(ln->rx_dma[i].used_len);
		if (len) {
			rmb();	/* used_len before the frame it announces */
			lgnet_receive(ln, i, len);
			done++;
			ln->rx_next = (i + 1) % ln->num_rx;
		}
		i = (i + 1) % ln->num_rx;
	}
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

static irqreturn_t lgnet_interrupt(int irq, void *data)
{
	struct lgnet *ln = data;

	napi_schedule(&ln->napi);
	return IRQ_HANDLED;
}

static void lgnet_free_rx(struct lgnet *ln)
{
	unsigned int i;

	for (i = 0; i < ln->num_rx; i++) {
		dev_kfree_skb(ln->rx_skb[i]);
		ln->rx_skb[i] = NULL;
	}
	memset(ln->rx_dma, 0, ln->num_rx * sizeof(*ln->rx_dma));
}

static int lgnet_open(struct net_device *dev)
{
	struct lgnet *ln = netdev_priv(dev);
	unsigned int i;
	long err;

	for (i = 0; i < ln->num_rx; i++) {
		ln->rx_skb[i] = netdev_alloc_skb(dev, ln->rx_len);
		if (!ln->rx_skb[i]) {
			err = -ENOMEM;
			goto free_rx;
		}
		lgnet_arm(ln, i);
	}
	ln->rx_next = 0;

	err = request_irq(ln->irq, lgnet_interrupt, 0, dev->name, ln);
	if (err)
		goto free_rx;
	napi_enable(&ln->napi);

	err = lguest_bind_dma(lgnet_key(ln, ln->slot), virt_to_phys(ln->rx_dma),
			      ln->num_rx, ln->irq);
	if (err) {
		netdev_err(dev, "cannot bind receive buffers: %ld\n", err);
		goto disable;
	}
	ln->bound = true;

	/* Buffers first, then the address: a sender finds us ready. */
	lgnet_publish(ln);
	netif_carrier_on(dev);
	netif_start_queue(dev);
	return 0;

disable:
	napi_disable(&ln->napi);
	free_irq(ln->irq, ln);
free_rx:
	lgnet_free_rx(ln);
	return err;
}

static int lgnet_stop(struct net_device *dev)
{
	struct lgnet *ln = netdev_priv(dev);

	netif_stop_queue(dev);
	netif_carrier_off(dev);
	lgnet_unpublish(ln);
	if (ln->bound) {
		lguest_unbind_dma(lgnet_key(ln, ln->slot));
		ln->bound = false;
	}
	napi_disable(&ln->napi);
	free_irq(ln->irq, ln);
	lgnet_free_rx(ln);
	return 0;
}

static int lgnet_set_mac_address(struct net_device *dev, void *addr)
{
	struct lgnet *ln = netdev_priv(dev);
	int err;

	err = eth_prepare_mac_addr_change(dev, addr);
	if (err)
		return err;
	eth_commit_mac_addr_change(dev, addr);
	if (netif_running(dev))
		lgnet_publish(ln);
	return 0;
}

/* Promiscuous mode is a bit in our slot: senders then give us everything. */
static void lgnet_set_rx_mode(struct net_device *dev)
{
	if (netif_running(dev))
		lgnet_publish(netdev_priv(dev));
}

static void lgnet_get_stats64(struct net_device *dev,
			      struct rtnl_link_stats64 *stats)
{
	struct lgnet *ln = netdev_priv(dev);
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&ln->rx_stats.syncp);
		stats->rx_packets = ln->rx_stats.packets;
		stats->rx_bytes = ln->rx_stats.bytes;
		stats->rx_dropped = ln->rx_stats.dropped;
		stats->rx_errors = ln->rx_stats.errors;
		stats->rx_length_errors = ln->rx_stats.errors;
	} while (u64_stats_fetch_retry(&ln->rx_stats.syncp, start));
	do {
		start = u64_stats_fetch_begin(&ln->tx_stats.syncp);
		stats->tx_packets = ln->tx_stats.packets;
		stats->tx_bytes = ln->tx_stats.bytes;
		stats->tx_dropped = ln->tx_stats.dropped;
	} while (u64_stats_fetch_retry(&ln->tx_stats.syncp, start));
}

static const struct net_device_ops lgnet_netdev_ops = {
	.ndo_open = lgnet_open,
	.ndo_stop = lgnet_stop,
	.ndo_start_xmit = lgnet_start_xmit,
	.ndo_set_mac_address = lgnet_set_mac_address,
	.ndo_set_rx_mode = lgnet_set_rx_mode,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_get_stats64 = lgnet_get_stats64,
};

static void lgnet_get_drvinfo(struct net_device *dev,
			      struct ethtool_drvinfo *info)
{
	struct lgnet *ln = netdev_priv(dev);

	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, dev_name(&ln->ldev->dev), sizeof(info->bus_info));
}

static const struct ethtool_ops lgnet_ethtool_ops = {
	.get_drvinfo = lgnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
};

static int lgnet_probe(struct lguest_device *ldev)
{
	struct lguest_net_config *config = &ldev->desc->config.net;
	struct net_device *dev;
	struct lgnet *ln;
	unsigned int mtu;
	int err;

	if (config->slot >= LGUEST_NET_SLOTS) {
		dev_err(&ldev->dev, "slot %u is outside the page\n", config->slot);
		return -EINVAL;
	}
	mtu = config->mtu ? config->mtu : ETH_DATA_LEN;
	if (mtu < ETH_MIN_MTU) {
		dev_err(&ldev->dev, "MTU %u is too small\n", mtu);
		return -EINVAL;
	}
	/* A receive buffer's length must fit a section's u16. */
	mtu = min_t(unsigned int, mtu, U16_MAX - ETH_HLEN - VLAN_HLEN);

	dev = alloc_etherdev(sizeof(*ln));
	if (!dev)
		return -ENOMEM;
	SET_NETDEV_DEV(dev, &ldev->dev);
	ln = netdev_priv(dev);
	ln->dev = dev;
	ln->ldev = ldev;
	ln->page = ldev->desc->mem;
	ln->slot = config->slot;
	ln->irq = ldev->desc->irq;
	ln->num_rx = clamp_t(unsigned int, rx_buffers, 1, LGUEST_DMA_MAX_BUFS);
	ln->rx_len = mtu + ETH_HLEN + VLAN_HLEN;
	u64_stats_init(&ln->rx_stats.syncp);
	u64_stats_init(&ln->tx_stats.syncp);

	err = -ENOMEM;
	ln->slots = lguest_map_device_memory(ldev);
	if (!ln->slots) {
		dev_err(&ldev->dev, "cannot map the sharenet page at %#llx\n",
			ldev->desc->mem);
		goto free_netdev;
	}
	ln->rx_dma = kcalloc(ln->num_rx, sizeof(*ln->rx_dma), GFP_KERNEL);
	ln->rx_skb = kcalloc(ln->num_rx, sizeof(*ln->rx_skb), GFP_KERNEL);
	ln->tx_dma = kzalloc(sizeof(*ln->tx_dma), GFP_KERNEL);
	if (!ln->rx_dma || !ln->rx_skb || !ln->tx_dma)
		goto free;

	if (is_valid_ether_addr(config->mac)) {
		eth_hw_addr_set(dev, config->mac);
	} else {
		dev_warn(&ldev->dev, "launcher's MAC %pM is not usable, using a random one\n",
			 config->mac);
		eth_hw_addr_random(dev);
	}
	dev->mtu = mtu;
	dev->max_mtu = mtu;
	dev->min_mtu = ETH_MIN_MTU;
	dev->netdev_ops = &lgnet_netdev_ops;
	dev->ethtool_ops = &lgnet_ethtool_ops;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	netif_napi_add(dev, &ln->napi, lgnet_poll);
	netif_carrier_off(dev);

	err = register_netdev(dev);
	if (err)
		goto del_napi;
	dev_set_drvdata(&ldev->dev, ln);
	netdev_info(dev, "%s, MAC %pM, slot %u at %#llx, irq %u, MTU %u\n",
		    ldev->desc->features & LGUEST_NET_F_TUNNET ? "tunnet" : "sharenet",
		    dev->dev_addr, ln->slot, ldev->desc->mem, ln->irq, mtu);
	return 0;

del_napi:
	netif_napi_del(&ln->napi);
free:
	kfree(ln->tx_dma);
	kfree(ln->rx_skb);
	kfree(ln->rx_dma);
	lguest_unmap_device_memory(ln->slots);
free_netdev:
	free_netdev(dev);
	return err;
}

static void lgnet_remove(struct lguest_device *ldev)
{
	struct lgnet *ln = dev_get_drvdata(&ldev->dev);
	struct net_device *dev = ln->dev;

	unregister_netdev(dev);	/* stops it first: unbinds, unpublishes */
	netif_napi_del(&ln->napi);
	kfree(ln->tx_dma);
	kfree(ln->rx_skb);
	kfree(ln->rx_dma);
	lguest_unmap_device_memory(ln->slots);
	free_netdev(dev);
}

static struct lguest_driver lgnet_driver = {
	.type = LGUEST_DEVICE_NET,
	.probe = lgnet_probe,
	.remove = lgnet_remove,
	.driver = {
		.name = "lguest_net",
		.owner = THIS_MODULE,
	},
};

static int __init lgnet_init(void)
{
	return lguest_register_driver(&lgnet_driver);
}

static void __exit lgnet_exit(void)
{
	lguest_unregister_driver(&lgnet_driver);
}

module_init(lgnet_init);
module_exit(lgnet_exit);

MODULE_DESCRIPTION("lguest guest: Ethernet over sharenet and tunnet DMA keys");
MODULE_ALIAS("lguest:t1");
MODULE_LICENSE("GPL");
