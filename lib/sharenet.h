/*
 * sharenet.h: joining a sharenet file, for every program that does.
 *
 * A sharenet file is one page of MAC slots (include/lguest/devices.h).  A
 * guest's launcher, a DMA endpoint and the virtual switch all join one the
 * same way: open (or create, 0600) the file, make it a page long, take the
 * first slot that no one holds with an open-file-description lock on its
 * eight bytes (released by the kernel when the holder dies), and choose a MAC.
 */
#ifndef LGUEST_SHARENET_H
#define LGUEST_SHARENET_H

#include <stdint.h>

#define SHARENET_PAGE 4096

/*
 * Open PATH read-write, creating it 0600, at least a page long.  Returns the
 * file descriptor (close-on-exec), or -1 with *why saying what went wrong
 * (errno's text, or "not a regular file").
 */
int sharenet_file_open(const char *path, const char **why);

/* Lock the first free slot of the file open at FD: its number, or -1 (errno). */
int sharenet_take_slot(int fd);

/*
 * A MAC for a new member: locally administered, unicast (02 first), the rest
 * random mixed with the pid and the slot, so that two members started at one
 * instant still differ.
 */
void sharenet_make_mac(uint8_t mac[6], uint32_t slot);

#endif
