// SPDX-License-Identifier: GPL-2.0
/*
 * core.c: lg.ko comes to life.
 *
 * "Lguest is designed to be a minimal hypervisor for the Linux kernel."  This
 * one runs its guests with AMD's SVM, so the first thing it does on load is
 * ask the processor whether it can (svm.c), and refuse, saying why, when it
 * cannot.  Then it offers /dev/lguest, the one door through which a launcher
 * will create and run a guest.  The misc device belongs to this module
 * (.owner), so while any process holds /dev/lguest open the module cannot be
 * unloaded: guests never outlive their hypervisor.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "lg.h"

static struct lg_svm_caps lg_caps;

static int lg_open(struct inode *inode, struct file *file)
{
	return nonseekable_open(inode, file);
}

static const struct file_operations lg_fops = {
	.owner = THIS_MODULE,
	.open = lg_open,
	.llseek = no_llseek,
};

/* Only root runs guests: the device is created mode 0600. */
static struct miscdevice lg_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "lguest",
	.fops = &lg_fops,
	.mode = 0600,
};

static int __init lg_init(void)
{
	int err;

	err = lg_svm_probe(&lg_caps);
	if (err)
		return err;

	err = misc_register(&lg_dev);
	if (err) {
		pr_err("lguest: cannot register /dev/lguest: error %d\n", err);
		return err;
	}
	pr_info("lguest: /dev/lguest ready\n");
	return 0;
}

static void __exit lg_exit(void)
{
	misc_deregister(&lg_dev);
	pr_info("lguest: unloaded\n");
}

module_init(lg_init);
module_exit(lg_exit);
MODULE_DESCRIPTION("lguest: a minimal hypervisor for Linux (AMD SVM)");
MODULE_AUTHOR("The lguest developers");
MODULE_LICENSE("GPL");
