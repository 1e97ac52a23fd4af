/*
 * serial.c: the guest's console, an 8250 UART on port 0x3f8, IRQ 4.
 *
 * Every stock kernel can drive this chip, from the first line it prints
 * (earlyprintk, the boot console) to a login shell on ttyS0, so it is all the
 * console lguest needs.  We are the whole chip: a byte written to the
 * transmit register goes straight to our output, and is gone the moment it
 * is written, so the transmitter is always empty; bytes from the input thread
 * (console.c) wait in a receive buffer.  The chip raises its interrupt for
 * "data received" and "transmitter empty", when the guest enabled them; we
 * pass that line's rising edges to lg.ko's IOAPIC.  Enough of the rest
 * (divisor latch, scratch, modem control with loopback) is here for Linux's
 * probe to recognise a 16550A.
 */
#include <string.h>
#include <unistd.h>

#include "lguest.h"

enum {
	RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7,
};
#define IER_RDI		0x01	/* interrupt when data received */
#define IER_THRI	0x02	/* interrupt when transmitter empty */
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial_init(struct uart *u, int out_fd)
{
	memset(u, 0, sizeof(*u));
	u->out_fd = out_fd;
	u->mcr = 0x08;	/* OUT2 */
}

static unsigned int rx_count(const struct uart *u)
{
	return u->rx_tail - u->rx_head;
}

static void rx_push(struct uart *u, uint8_t byte)
{
	if (rx_count(u) < sizeof(u->rx))
		u->rx[u->rx_tail++ % sizeof(u->rx)] = byte;
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && rx_count(u))
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Returns true when the interrupt line just rose: the caller raises IRQ 4. */
static bool update_irq(struct uart *u)
{
	bool high = !(iir(u) & IIR_NONE);
	bool rose = high && !u->irq_high;

	u->irq_high = high;
	return rose;
}

static void transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, byte);
	} else {
		/* The console may be a pipe that went away: never stop for it. */
		if (write(u->out_fd, &byte, 1) < 0) {
			/* nothing to do */
		}
	}
	u->thre_pending = true;
}

static uint8_t modem_status(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: the outputs come back as the inputs. */
	return ((m & 0x02) ? MSR_CTS : 0) | ((m & 0x01) ? MSR_DSR : 0) |
	       ((m & 0x04) ? MSR_RI : 0) | ((m & 0x08) ? MSR_DCD : 0);
}

static uint8_t uart_read(struct uart *u, unsigned int reg)
{
	uint8_t val;

	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!rx_count(u))
			return 0;
		return u->rx[u->rx_head++ % sizeof(u->rx)];
	case IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR_FCR:
		val = iir(u);
		if ((val & 0x0f) == IIR_THRI)
			u->thre_pending = false;	/* reading IIR acknowledges it */
		return val;
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (rx_count(u) ? LSR_DR : 0);
	case MSR:
		return modem_status(u);
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned int reg, uint8_t val)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = val;
		else
			transmit(u, val);
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* Enabling the THR interrupt with THR empty raises it. */
			if ((val & IER_THRI) && !(u->ier & IER_THRI))
				u->thre_pending = true;
			u->ier = val & 0x0f;
		}
		break;
	case IIR_FCR:
		u->fcr = val & 0xc9;
		if (val & FCR_CLEAR_RX)
			u->rx_head = u->rx_tail;
		break;
	case LCR:
		u->lcr = val;
		break;
	case MCR:
		u->mcr = val & 0x1f;
		break;
	case SCR:
		u->scr = val;
		break;
	}
}

uint8_t serial_io(struct guest *g, unsigned int offset, bool write, uint8_t val)
{
	bool rose;

	pthread_mutex_lock(&g->lock);
	if (write)
		uart_write(&g->uart, offset, val);
	else
		val = uart_read(&g->uart, offset);
	rose = update_irq(&g->uart);
	pthread_mutex_unlock(&g->lock);
	if (rose)
		raise_irq(g, SERIAL_IRQ);
	return val;
}

void serial_input(struct guest *g, const uint8_t *bytes, size_t len)
{
	bool rose;
	size_t i;

	pthread_mutex_lock(&g->lock);
	for (i = 0; i < len; i++)
		rx_push(&g->uart, bytes[i]);
	rose = update_irq(&g->uart);
	pthread_mutex_unlock(&g->lock);
	if (rose)
		raise_irq(g, SERIAL_IRQ);
}
