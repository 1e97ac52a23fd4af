// SPDX-License-Identifier: GPL-2.0
/*
 * core.c: lg.ko comes to life.
 *
 * "Lguest is designed to be a minimal hypervisor for the Linux kernel."  This
 * one runs its guests with AMD's SVM, so the first thing it does on load is
 * ask the processor whether it can (svm.c), and refuse, saying why, when it
 * cannot.  Then it prepares what every guest shares (the I/O and MSR
 * permission maps, each CPU's host save areas) and offers /dev/lguest, the
 * one door through which a launcher creates and runs a guest
 * (lguest_user.c).  The device belongs to this module, so while any process
 * holds /dev/lguest open the module cannot be unloaded: guests never outlive
 * their hypervisor.  Each guest and DMA endpoint also shows its I/O counters
 * under debugfs, in lguest/<pid>-<n>/dma (dma.c).
 */
#include <linux/debugfs.h>
#include <linux/module.h>

#include "lg.h"

struct lg_svm_caps lg_caps;
atomic_long_t lg_stat_guests = ATOMIC_LONG_INIT(0);
atomic_long_t lg_stat_pinned = ATOMIC_LONG_INIT(0);
atomic_long_t lg_stat_tables = ATOMIC_LONG_INIT(0);
atomic_long_t lg_stat_endpoints = ATOMIC_LONG_INIT(0);
atomic_long_t lg_stat_dma_bindings = ATOMIC_LONG_INIT(0);
struct dentry *lg_debugfs_root;

static int __init lg_init(void)
{
	int err;

	err = lg_svm_probe(&lg_caps);
	if (err)
		return err;
	err = lg_vmcb_setup_maps();
	if (err)
		return err;
	err = lg_svm_percpu_init();
	if (err)
		goto free_maps;
	/* Without debugfs the counters are still there, through write(). */
	lg_debugfs_root = debugfs_create_dir("lguest", NULL);
	err = lg_user_init();
	if (err) {
		pr_err("lguest: cannot register /dev/lguest: error %d\n", err);
		goto free_percpu;
	}
	pr_info("lguest: /dev/lguest ready\n");
	return 0;

free_percpu:
	debugfs_remove(lg_debugfs_root);
	lg_svm_percpu_free();
free_maps:
	lg_vmcb_free_maps();
	return err;
}

static void __exit lg_exit(void)
{
	lg_user_exit();
	debugfs_remove(lg_debugfs_root);
	lg_svm_percpu_free();
	lg_vmcb_free_maps();
	pr_info("lguest: unloaded, %ld guests, %ld pinned pages and %ld page-table pages left; %ld DMA endpoints and %ld DMA bindings left\n",
		atomic_long_read(&lg_stat_guests), atomic_long_read(&lg_stat_pinned),
		atomic_long_read(&lg_stat_tables), atomic_long_read(&lg_stat_endpoints),
		atomic_long_read(&lg_stat_dma_bindings));
}

module_init(lg_init);
module_exit(lg_exit);
MODULE_DESCRIPTION("lguest: a minimal hypervisor for Linux (AMD SVM)");
MODULE_AUTHOR("The lguest developers");
MODULE_LICENSE("GPL");
