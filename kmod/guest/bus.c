// SPDX-License-Identifier: GPL-2.0
/*
 * bus.c: finding the lguest devices, and the bus their drivers bind on.
 *
 * An lguest guest has no PCI devices to probe.  Instead, before the guest
 * starts, the launcher writes a page of device descriptors at guest-physical
 * LGUEST_DEVICES_ADDR (0xe0000, in the BIOS area that the e820 map keeps
 * away from the kernel's allocator).  This module maps that page, checks its
 * magic and version, and turns every descriptor into a struct device on the
 * "lguest" bus.  Drivers then bind by device type, exactly as PCI drivers
 * bind by vendor and device ID; a uevent with MODALIAS=lguest:tN lets
 * udev or mdev load them.
 *
 * On a machine that is not an lguest guest, the page holds whatever the
 * BIOS put there; without the magic we quietly say -ENODEV and go away.
 *
 * Each descriptor has a status word that the guest writes and the launcher
 * may print: we set LGUEST_DEVICE_S_DRIVER when a driver takes a device,
 * add LGUEST_DEVICE_S_FAILED if its probe fails, and clear both when the
 * driver lets go.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "lguest_bus.h"

static struct lguest_devices_page *devices_page;
static struct device *lguest_root;
static struct lguest_device *lguest_devices[LGUEST_MAX_DEVICES];

#define to_lguest_driver(d) container_of(d, struct lguest_driver, driver)

static int lguest_bus_match(struct device *dev, struct device_driver *drv)
{
	return to_lguest_device(dev)->desc->type == to_lguest_driver(drv)->type;
}

static int lguest_bus_uevent(struct device *dev, struct kobj_uevent_env *env)
{
	return add_uevent_var(env, "MODALIAS=lguest:t%u",
			      to_lguest_device(dev)->desc->type);
}

void lguest_set_status(struct lguest_device *ldev, u16 status)
{
	WRITE_ONCE(ldev->desc->status, status);
}
EXPORT_SYMBOL_GPL(lguest_set_status);

static int lguest_bus_probe(struct device *dev)
{
	struct lguest_device *ldev = to_lguest_device(dev);
	struct lguest_driver *drv = to_lguest_driver(dev->driver);
	int err;

	lguest_set_status(ldev, LGUEST_DEVICE_S_DRIVER);
	err = drv->probe(ldev);
	if (err)
		lguest_set_status(ldev, LGUEST_DEVICE_S_DRIVER |
					LGUEST_DEVICE_S_FAILED);
	return err;
}

static void lguest_bus_remove(struct device *dev)
{
	struct lguest_device *ldev = to_lguest_device(dev);
	struct lguest_driver *drv = to_lguest_driver(dev->driver);

	if (drv->remove)
		drv->remove(ldev);
	lguest_set_status(ldev, 0);
}

/* What /sys/bus/lguest/devices/lguestN/ shows of the descriptor. */
#define DESC_ATTR(field, format)					\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, format "\n",				\
			  to_lguest_device(dev)->desc->field);		\
}									\
static DEVICE_ATTR_RO(field)

DESC_ATTR(type, "%u");
DESC_ATTR(features, "0x%x");
DESC_ATTR(status, "0x%x");
DESC_ATTR(irq, "%u");

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "lguest:t%u\n", to_lguest_device(dev)->desc->type);
}
static DEVICE_ATTR_RO(modalias);

static struct attribute *lguest_dev_attrs[] = {
	&dev_attr_type.attr,
	&dev_attr_features.attr,
	&dev_attr_status.attr,
	&dev_attr_irq.attr,
	&dev_attr_modalias.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lguest_dev);

static struct bus_type lguest_bus = {
	.name = "lguest",
	.match = lguest_bus_match,
	.uevent = lguest_bus_uevent,
	.probe = lguest_bus_probe,
	.remove = lguest_bus_remove,
	.dev_groups = lguest_dev_groups,
};

int lguest_register_driver(struct lguest_driver *drv)
{
	drv->driver.bus = &lguest_bus;
	return driver_register(&drv->driver);
}
EXPORT_SYMBOL_GPL(lguest_register_driver);

void lguest_unregister_driver(struct lguest_driver *drv)
{
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL_GPL(lguest_unregister_driver);

void *lguest_map_device_memory(struct lguest_device *ldev)
{
	size_t size = (size_t)ldev->desc->num_pages << PAGE_SHIFT;

	if (!size || !PAGE_ALIGNED(ldev->desc->mem))
		return NULL;
	return memremap(ldev->desc->mem, size, MEMREMAP_WB);
}
EXPORT_SYMBOL_GPL(lguest_map_device_memory);

void lguest_unmap_device_memory(void *addr)
{
	memunmap(addr);
}
EXPORT_SYMBOL_GPL(lguest_unmap_device_memory);

static void lguest_device_release(struct device *dev)
{
	kfree(to_lguest_device(dev));
}

/* One descriptor becomes one device; a driver may bind to it at once. */
static int lguest_add_device(unsigned int index, unsigned int type_index)
{
	struct lguest_device_desc *desc = &devices_page->desc[index];
	struct lguest_device *ldev;
	int err;

	if (desc->irq < 1 || desc->irq > 15) {
		pr_warn("device %u (type %u): irq %u is not an ISA line, ignored\n",
			index, desc->type, desc->irq);
		return 0;
	}

	ldev = kzalloc(sizeof(*ldev), GFP_KERNEL);
	if (!ldev)
		return -ENOMEM;
	ldev->desc = desc;
	ldev->index = index;
	ldev->type_index = type_index;
	ldev->dev.parent = lguest_root;
	ldev->dev.bus = &lguest_bus;
	ldev->dev.release = lguest_device_release;
	dev_set_name(&ldev->dev, "lguest%u", index);

	err = device_register(&ldev->dev);
	if (err) {
		put_device(&ldev->dev);
		return err;
	}
	lguest_devices[index] = ldev;
	return 0;
}

static void lguest_remove_devices(void)
{
	int i;

	for (i = LGUEST_MAX_DEVICES - 1; i >= 0; i--) {
		if (lguest_devices[i]) {
			device_unregister(&lguest_devices[i]->dev);
			lguest_devices[i] = NULL;
		}
	}
}

static int __init lguest_bus_init(void)
{
	unsigned int count, found = 0, i, j, type_index;
	int err;

	devices_page = memremap(LGUEST_DEVICES_ADDR, PAGE_SIZE, MEMREMAP_WB);
	if (!devices_page)
		return -ENODEV;
	if (devices_page->magic != LGUEST_DEVICES_MAGIC) {
		/* Not an lguest guest: nothing to say. */
		err = -ENODEV;
		goto unmap;
	}
	if (devices_page->version != LGUEST_DEVICES_VERSION) {
		pr_err("device page version %u, this driver knows %u\n",
		       devices_page->version, LGUEST_DEVICES_VERSION);
		err = -ENODEV;
		goto unmap;
	}
	count = devices_page->count;
	if (count > LGUEST_MAX_DEVICES) {
		pr_warn("device page lists %u devices, only %u fit\n",
			count, LGUEST_MAX_DEVICES);
		count = LGUEST_MAX_DEVICES;
	}

	err = bus_register(&lguest_bus);
	if (err)
		goto unmap;
	lguest_root = root_device_register("lguest");
	if (IS_ERR(lguest_root)) {
		err = PTR_ERR(lguest_root);
		goto unregister_bus;
	}

	for (i = 0; i < count; i++) {
		u16 type = devices_page->desc[i].type;

		if (!type)
			continue;
		type_index = 0;
		for (j = 0; j < i; j++)
			if (devices_page->desc[j].type == type)
				type_index++;
		err = lguest_add_device(i, type_index);
		if (err)
			goto remove_devices;
		found += lguest_devices[i] != NULL;
	}
	pr_info("%u device%s\n", found, found == 1 ? "" : "s");
	return 0;

remove_devices:
	lguest_remove_devices();
	root_device_unregister(lguest_root);
unregister_bus:
	bus_unregister(&lguest_bus);
unmap:
	memunmap(devices_page);
	return err;
}

static void __exit lguest_bus_exit(void)
{
	lguest_remove_devices();
	root_device_unregister(lguest_root);
	bus_unregister(&lguest_bus);
	memunmap(devices_page);
}

module_init(lguest_bus_init);
module_exit(lguest_bus_exit);

MODULE_DESCRIPTION("lguest guest: the device page, the lguest bus and the DMA hypercalls");
MODULE_LICENSE("GPL");
