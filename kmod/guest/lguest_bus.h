/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lguest_bus.h: what the lguest bus offers the drivers of its devices.
 *
 * The launcher describes a guest's devices in one page (devices.h); the
 * lguest_bus module reads it and makes a struct lguest_device for each
 * descriptor, on a bus called "lguest".  A driver (lguest_net, lguest_blk)
 * registers a struct lguest_driver naming the device type it handles, and
 * the driver core calls its probe() for every such device, in the order of
 * the page (which is the order of the launcher's command line).
 *
 * Everything a driver then does with its device goes through three
 * hypercalls' worth of helpers: bind receive buffers at a key, unbind them,
 * send a buffer to a key (dma.h explains the model).  Addresses given to
 * them are guest-physical, which in an lguest guest are simply physical
 * addresses: virt_to_phys() of kmalloc()ed memory, page_to_phys() of a page.
 */
#ifndef _LGUEST_BUS_H
#define _LGUEST_BUS_H

#include <linux/device.h>
#include <linux/types.h>
#include <lguest/devices.h>
#include <lguest/dma.h>

struct lguest_device {
	struct device dev;
	/* The descriptor, in the launcher's page: read it, never cache it. */
	struct lguest_device_desc *desc;
	/* Position of the descriptor in the page. */
	unsigned int index;
	/* Position among the devices of the same type (lgba is 0, lgbb 1...) */
	unsigned int type_index;
};

#define to_lguest_device(d) container_of(d, struct lguest_device, dev)

struct lguest_driver {
	u16 type;			/* enum lguest_device_type */
	int (*probe)(struct lguest_device *ldev);
	void (*remove)(struct lguest_device *ldev);
	struct device_driver driver;	/* set .name and .owner */
};

int lguest_register_driver(struct lguest_driver *drv);
void lguest_unregister_driver(struct lguest_driver *drv);

/* LGUEST_DEVICE_S_DRIVER or LGUEST_DEVICE_S_FAILED, for the launcher to see. */
void lguest_set_status(struct lguest_device *ldev, u16 status);

/* The device's memory (num_pages at desc->mem), mapped write-back. */
void *lguest_map_device_memory(struct lguest_device *ldev);
void lguest_unmap_device_memory(void *addr);

/*
 * The hypercalls.  key, dmas and dma are guest-physical.  A send's result
 * is in the struct lguest_dma's used_len (0: nobody took it).
 */
long lguest_bind_dma(phys_addr_t key, phys_addr_t dmas, unsigned int num,
		     u8 irq);
long lguest_unbind_dma(phys_addr_t key);
long lguest_send_dma(phys_addr_t key, phys_addr_t dma);

#endif /* _LGUEST_BUS_H */
