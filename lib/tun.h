/*
 * tun.h: opening /dev/net/tun, even where it is missing.
 *
 * A system whose /dev was not given kmod's "static nodes" at boot (a bare
 * initramfs, the lab-host VM) has no /dev/net/tun until the tun module is
 * loaded, and the module is only loaded when the node is opened.  So
 * tun_open() makes the node (character device 10:200, as the kernel names
 * it) when it is missing, and opens it: the kernel loads the module then.
 * The launcher, the switch and lguest-netd all make taps this way.
 */
#ifndef LGUEST_TUN_H
#define LGUEST_TUN_H

#define TUN_PATH "/dev/net/tun"

/* open(TUN_PATH, O_RDWR | FLAGS), making the node first if need be; -1 (errno). */
int tun_open(int flags);

#endif
