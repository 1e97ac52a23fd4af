/*
 * devices.c: the lguest devices, where the guest finds them and how we serve
 * them.
 *
 * A guest learns what devices it has from one page that we write into its
 * BIOS area, at LGUEST_DEVICES_ADDR (include/lguest/devices.h): a magic
 * number, then one descriptor per device in the order of our command line,
 * each with its type, features, ISA interrupt line, and its memory: the
 * page where its DMA keys live.  Those pages are the "device area", which
 * starts at the first 2 MiB boundary at or above the end of RAM:
 *
 *	0 ............ MEM		RAM, all of it in the e820 map
 *	round_up(MEM, 2 MiB)		device 0's page
 *	  + 4096			device 1's page ...
 *
 * The e820 map does not show the device area, so the guest's kernel never
 * uses it as memory; only the drivers touch it, through the descriptors.
 * lg.ko is given RAM and the device area (LHREQ_INITIALIZE's mem_size), so
 * keys in it are valid guest-physical addresses.  A network device's page is
 * its segment's page of MAC slots: for --sharenet, the file itself, mapped
 * over the anonymous memory so that every guest on the file shares it (and
 * lg.ko sees the same key in each); for --tunnet, a private page.  A block
 * device's page holds nothing: its address is the key requests are sent to.
 * A channel's page holds its three keys and the words its two sides share
 * (struct lguest_channel_page).
 *
 * Interrupt lines are handed out in the order 5 6 7 9 10 11 12 14 15 3: the
 * ISA lines that nothing else in our machine uses (4 is the serial port),
 * 3 last as it is the second serial port's on a PC.
 *
 * When the guest sends to a key that no other guest bound, lg.ko stops it
 * and read() returns LGUEST_EXIT_DMA: the key says which device (whose page
 * holds it), and that device's dma hook serves the send (net.c, block.c).
 * The helpers here let them look at guest memory safely: every address a
 * guest gives us is checked against its RAM before we touch it, and what we
 * write for the guest to read (a length, a status) is written after the data
 * it describes, with a barrier between.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lguest.h"

#define DEVICE_AREA_ALIGN	(2ULL << 20)
#define PAGE_SIZE		4096ULL

static const unsigned int device_irqs[LGUEST_MAX_DEVICES] = {
	5, 6, 7, 9, 10, 11, 12, 14, 15, 3
};

static void vdevice_message(const struct device *dev, const char *fmt, va_list ap,
			    char *buf, size_t size)
{
	int n = snprintf(buf, size, "--%s=%s: ", dev->ops->option, dev->arg);

	if (n < 0 || (size_t)n >= size)
		n = 0;
	vsnprintf(buf + n, size - n, fmt, ap);
}

void device_note(const struct device *dev, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vdevice_message(dev, fmt, ap, buf, sizeof(buf));
	va_end(ap);
	note("%s", buf);
}

_Noreturn void device_die(const struct device *dev, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vdevice_message(dev, fmt, ap, buf, sizeof(buf));
	va_end(ap);
	die("%s", buf);
}

/* Counters are bumped by the run loop and device threads alike. */
uint64_t count_add(uint64_t *counter, uint64_t n)
{
	return __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

void devices_add(struct guest *g, const struct device_ops *ops, const char *arg)
{
	struct device *dev;

	if (g->num_devices == LGUEST_MAX_DEVICES)
		die("--%s=%s: too many devices: a guest has at most %d (--block, --tunnet, --sharenet and --channel together)",
		    ops->option, arg, LGUEST_MAX_DEVICES);
	dev = &g->devices[g->num_devices];
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->arg = arg;
	dev->index = g->num_devices;
	dev->irq = device_irqs[g->num_devices];
	g->num_devices++;
}

void devices_open(struct guest *g)
{
	for (unsigned int i = 0; i < g->num_devices; i++)
		if (g->devices[i].ops->open)
			g->devices[i].ops->open(g, &g->devices[i]);
}

/* Where each device's page goes; returns the end of the guest's memory. */
uint64_t devices_layout(struct guest *g)
{
	g->device_area = (g->mem_size + DEVICE_AREA_ALIGN - 1) & ~(DEVICE_AREA_ALIGN - 1);
	for (unsigned int i = 0; i < g->num_devices; i++)
		g->devices[i].mem = g->device_area + i * PAGE_SIZE;
	g->phys_size = g->num_devices ? g->device_area + g->num_devices * PAGE_SIZE
				      : g->mem_size;
	return g->phys_size;
}

/* Guest memory exists: write the device page and fill in each device's own. */
void devices_map(struct guest *g)
{
	struct lguest_devices_page *page = (void *)(g->mem + LGUEST_DEVICES_ADDR);

	memset(page, 0, PAGE_SIZE);
	page->magic = LGUEST_DEVICES_MAGIC;
	page->version = LGUEST_DEVICES_VERSION;
	page->count = g->num_devices;
	for (unsigned int i = 0; i < g->num_devices; i++) {
		struct device *dev = &g->devices[i];

		dev->page = g->mem + dev->mem;
		dev->desc = &page->desc[i];
		dev->desc->irq = dev->irq;
		dev->desc->num_pages = 1;
		dev->desc->mem = dev->mem;
		if (dev->ops->map)
			dev->ops->map(g, dev);
	}
}

void devices_connect(struct guest *g)
{
	for (unsigned int i = 0; i < g->num_devices; i++)
		if (g->devices[i].ops->connect)
			g->devices[i].ops->connect(g, &g->devices[i]);
}

void devices_start(struct guest *g)
{
	for (unsigned int i = 0; i < g->num_devices; i++)
		if (g->devices[i].ops->start)
			g->devices[i].ops->start(g, &g->devices[i]);
}

/*
 * LGUEST_EXIT_DMA: the guest sent the struct lguest_dma at guest-physical
 * dma to key, and no other guest had bound it.  lg.ko checked both are in
 * guest memory; we want the descriptor in RAM, where we can write its
 * used_len.  A key outside every device's page has nobody behind it: the
 * answer is 0 bytes, as the seed's model says.
 */
void devices_dma(struct guest *g, uint64_t key, uint64_t dma_addr)
{
	struct lguest_dma *dma = guest_ram(g, dma_addr, sizeof(*dma));

	if (!dma || (dma_addr & 7)) {
		verbose(g, "the guest sent to key %#llx with a descriptor at %#llx, outside its RAM: ignored",
			(unsigned long long)key, (unsigned long long)dma_addr);
		return;
	}
	for (unsigned int i = 0; i < g->num_devices; i++) {
		struct device *dev = &g->devices[i];

		if (key >= dev->mem && key < dev->mem + PAGE_SIZE && dev->ops->dma) {
			dev->ops->dma(g, dev, key, dma);
			return;
		}
	}
	store_release_u32(&dma->used_len, 0);
}

/* The guest is gone: let every device finish, then say what they did. */
void devices_stop(struct guest *g)
{
	__atomic_store_n(&g->stopping, true, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < g->num_devices; i++)
		if (g->devices[i].ops->stop)
			g->devices[i].ops->stop(g, &g->devices[i]);
}

/* What lg.ko counted, when it can tell us (--verbose, at exit). */
static void report_dma_stats(const struct guest *g)
{
	struct lguest_dma_stats st = { .request = LHREQ_DMA_STATS };

	if (g->fd < 0 || write(g->fd, &st, sizeof(st)) != sizeof(st))
		return;
	verbose(g, "lg.ko: %llu sends (%llu delivered in the module, %llu to the launcher, %llu to unbound keys, %llu dropped), %llu bytes; %llu receives, %llu bytes; %llu binds",
		(unsigned long long)st.sends, (unsigned long long)st.sent_in_kernel,
		(unsigned long long)st.sent_to_launcher, (unsigned long long)st.sent_unbound,
		(unsigned long long)st.send_drops, (unsigned long long)st.bytes_sent,
		(unsigned long long)st.receives, (unsigned long long)st.bytes_received,
		(unsigned long long)st.binds);
}

void devices_report(const struct guest *g, bool at_exit)
{
	if (!g->verbose)
		return;
	if (!at_exit && g->num_devices)
		verbose(g, "%u device%s, page at %#llx, device memory from %#llx:",
			g->num_devices, g->num_devices == 1 ? "" : "s",
			LGUEST_DEVICES_ADDR, (unsigned long long)g->device_area);
	for (unsigned int i = 0; i < g->num_devices; i++) {
		const struct device *dev = &g->devices[i];
		uint16_t status = dev->desc->status;	/* the guest's word */

		if (dev->ops->report)
			dev->ops->report(g, dev, at_exit);
		if (at_exit && (status & LGUEST_DEVICE_S_FAILED))
			verbose(g, "--%s=%s: the guest's driver could not set it up",
				dev->ops->option, dev->arg);
		else if (at_exit && !(status & LGUEST_DEVICE_S_DRIVER))
			verbose(g, "--%s=%s: no driver in the guest took it",
				dev->ops->option, dev->arg);
	}
	if (at_exit && g->num_devices)
		report_dma_stats(g);
}

/* len bytes of guest RAM at guest-physical addr, or NULL if not all RAM. */
void *guest_ram(const struct guest *g, uint64_t addr, uint64_t len)
{
	if (addr > g->mem_size || len > g->mem_size - addr)
		return NULL;
	return g->mem + addr;
}

/*
 * Turn the sections of a struct lguest_dma, from section first on, into
 * iovecs over guest RAM: at most LGUEST_DMA_SECTIONS - first of them, as a
 * zero length ends the list.  Returns how many, with their total length in
 * *total, or -1 if a section is not in RAM.  When the guest may be running,
 * pass a copy of its descriptor, so that what we check is what we use.
 */
int dma_sections(const struct guest *g, const struct lguest_dma *dma,
		 unsigned int first, struct iovec *iov, uint64_t *total)
{
	int n = 0;

	*total = 0;
	for (unsigned int i = first; i < LGUEST_DMA_SECTIONS && dma->len[i]; i++) {
		void *p = guest_ram(g, dma->addr[i], dma->len[i]);

		if (!p)
			return -1;
		iov[n].iov_base = p;
		iov[n].iov_len = dma->len[i];
		*total += dma->len[i];
		n++;
	}
	return n;
}

/*
 * Write a word the guest waits for (a used_len, a request's status): only
 * after everything written before it, so a guest that sees the word sees
 * the data too.  The guest may put it at any alignment, hence memcpy.
 */
void store_release_u32(void *guest_word, uint32_t value)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(guest_word, &value, sizeof(value));
}

/*
 * Raise a device's interrupt, from any thread.  Unlike raise_irq() this
 * never dies: when the guest has just gone, a device thread's late
 * interrupt must not turn a clean power-off into an error.
 */
bool device_irq(struct guest *g, unsigned int irq)
{
	struct lguest_irq req = { .request = LHREQ_IRQ, .irq = irq };

	if (__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE))
		return false;
	return write(g->fd, &req, sizeof(req)) == sizeof(req);
}
