/*
 * console.c: the terminal the guest's console is on.
 *
 * While the guest runs, our standard input feeds its serial port and our
 * standard output shows what it writes.  When standard input is a terminal
 * we put it in raw mode, so that every key (Ctrl-C included) reaches the
 * guest, and put it back however we exit (a kill included).  To leave a guest that will not
 * power off, type Ctrl-A then x, as in QEMU.
 *
 * Input has its own thread: the main thread spends its life inside read() on
 * /dev/lguest, running the guest.  The input thread sleeps in poll() on
 * standard input and hands what arrives to the UART (serial.c), which raises
 * the guest's interrupt through lg.ko; lg.ko kicks the guest out of HLT or
 * out of guest mode to take it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lguest.h"

#define CTRL_A 0x01

static struct termios saved;
static bool restored = true;

void console_restore(void)
{
	if (!restored) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		restored = true;
	}
}

/* Killed from elsewhere: give the terminal back, then die of the signal. */
static void restore_and_die(int sig)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);	/* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *input_thread(void *arg)
{
	struct guest *g = arg;
	bool escape = false, tty = isatty(STDIN_FILENO);
	uint8_t buf[256];

	for (;;) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* end of input: the guest just gets no more */
		if (tty) {
			for (ssize_t i = 0; i < n; i++) {
				if (escape && buf[i] == 'x') {
					console_restore();
					fprintf(stderr, "\r\nlguest: Ctrl-A x: guest stopped\n");
					exit(STATUS_KILLED);
				}
				escape = buf[i] == CTRL_A;
			}
		}
		serial_input(g, buf, n);
	}
	return NULL;
}

void console_start(struct guest *g)
{
	pthread_t thread;
	sigset_t all, old;

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios raw = saved;

		cfmakeraw(&raw);
		restored = false;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		atexit(console_restore);
		signal(SIGTERM, restore_and_die);
		signal(SIGHUP, restore_and_die);
		signal(SIGQUIT, restore_and_die);
	}
	/* Signals are for the main thread, whose read() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&thread, NULL, input_thread, g) != 0)
		die("cannot start the console input thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(thread);
}
