// SPDX-License-Identifier: GPL-2.0
/*
 * dma.c: the two hypercalls of lguest's I/O model, for the device drivers.
 *
 * A guest asks lg.ko for things with VMMCALL (VMCALL on Intel), KVM's way:
 * call number in RAX, arguments in RBX, RCX, RDX, result in RAX; so the
 * kernel's own kvm_hypercall3() does it, and patches in the right
 * instruction for the processor.  There are only two calls (dma.h):
 *
 *   LHCALL_BIND_DMA(key, dmas, num << 8 | irq): "when someone sends to key,
 *	put it in one of these num buffers and raise irq"; irq 0 unbinds.
 *   LHCALL_SEND_DMA(key, dma): "copy this buffer to whoever bound key";
 *	lg.ko writes the bytes it delivered into dma's used_len.
 *
 * lg.ko kills a guest that gives it a misaligned key or descriptor; we check
 * alignment here, so that a driver's bug is an error code and not a dead
 * guest.  (Whether an address is inside guest memory only lg.ko knows.)
 */
#include <linux/errno.h>
#include <linux/kvm_para.h>
#include <linux/module.h>

#include "lguest_bus.h"

static long lguest_hcall_result(long ret)
{
	if (ret == -KVM_ENOSYS)
		return -ENOSYS;	/* not lg.ko, or one without the I/O model */
	return ret < 0 ? -EINVAL : 0;
}

long lguest_bind_dma(phys_addr_t key, phys_addr_t dmas, unsigned int num,
		     u8 irq)
{
	if (!IS_ALIGNED(key, 4) || !IS_ALIGNED(dmas, 8) ||
	    num < 1 || num > LGUEST_DMA_MAX_BUFS || irq < 1 || irq > 15)
		return -EINVAL;
	return lguest_hcall_result(kvm_hypercall3(LHCALL_BIND_DMA, key, dmas,
						  num << 8 | irq));
}
EXPORT_SYMBOL_GPL(lguest_bind_dma);

long lguest_unbind_dma(phys_addr_t key)
{
	if (!IS_ALIGNED(key, 4))
		return -EINVAL;
	return lguest_hcall_result(kvm_hypercall3(LHCALL_BIND_DMA, key, 0, 0));
}
EXPORT_SYMBOL_GPL(lguest_unbind_dma);

long lguest_send_dma(phys_addr_t key, phys_addr_t dma)
{
	if (!IS_ALIGNED(key, 4) || !IS_ALIGNED(dma, 8))
		return -EINVAL;
	return lguest_hcall_result(kvm_hypercall3(LHCALL_SEND_DMA, key, dma, 0));
}
EXPORT_SYMBOL_GPL(lguest_send_dma);
