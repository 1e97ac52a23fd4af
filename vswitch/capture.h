/*
 * capture.h: capture.c's interface: pcap files written by their own thread.
 *
 * Frames are recorded at points: each port's wire (both directions) and the
 * switch's input (every frame entering, once).  A point has up to
 * CAPTURE_PER_POINT captures at a time, each a file, FIFO or tcp@ stream of
 * its own; a frame is one record in the ring however many of them want it.
 */
#ifndef LGUEST_VSWITCH_CAPTURE_H
#define LGUEST_VSWITCH_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_PER_POINT	4
#define CAPTURE_SWITCH		256	/* the switch's input; ports are 0..255 */
#define CAPTURE_POINTS		(CAPTURE_SWITCH + 1)

/* A place frames are recorded: embedded in a port, and once in the switch. */
struct capture_point {
	int id;			/* the port's index, or CAPTURE_SWITCH */
	unsigned int n;		/* captures running: the forwarding thread tests this */
	char label[40];		/* for messages: "port NAME" or "switch" */
};

/* One capture of a point, as show lists it. */
struct capture_info {
	const char *file;
	uint64_t rotate_size;		/* 0: no rotation */
	unsigned int rotate_count;
};

struct capture;
struct capture *capture_new(size_t ring_bytes);
/*
 * Start recording PT to FILE (rotating at ROTATE_SIZE bytes, keeping
 * ROTATE_COUNT files): 0, or -errno with "LABEL: capture FILE: why" in ERR.
 * Refused: a fifth capture of PT, a FILE this switch already records to.
 */
int capture_open(struct capture *cap, struct capture_point *pt, const char *file,
		 uint64_t rotate_size, unsigned int rotate_count, char *err, size_t errlen);
/* Stop PT's capture to FILE, or all of PT's (FILE NULL); how many stopped.
 * Each file is complete when this returns. */
unsigned int capture_close(struct capture *cap, struct capture_point *pt, const char *file);
/* PT's captures, oldest first; how many. */
unsigned int capture_list(const struct capture *cap, const struct capture_point *pt,
			  struct capture_info info[CAPTURE_PER_POINT]);
/*
 * Record a frame seen now on the wire of port POINT (-1: none), and, if
 * SWITCH_IN, as entering the switch: one record for every capture of both;
 * false if the ring was full (dropped).
 */
bool capture_frame(struct capture *cap, int point, bool switch_in, const void *frame, size_t len);
/* Wake the writer if anything was recorded since the last kick. */
void capture_kick(struct capture *cap);
void capture_reopen_all(struct capture *cap);
/* Stop the writer; false if it was stuck and left behind (see main()). */
bool capture_stop_thread(struct capture *cap);

#endif
