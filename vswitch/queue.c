/*
 * queue.c: what a port could not write yet, in a ring of fixed size.
 *
 * A socket peer that reads slowly must not make the switch wait, nor make
 * it buffer without end.  Each port has one of these rings: when a write
 * would block, the frame goes here (a stream port keeps the exact bytes of
 * its stream, a packet port keeps a 4-byte length before each frame), and
 * when the ring is full the frame is dropped and counted.  The memory is
 * allocated once, when the port is made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "vswitch.h"

int queue_init(struct queue *q, size_t size)
{
	q->buf = malloc(size);
	q->size = size;
	q->head = q->tail = q->used = 0;
	return q->buf ? 0 : -ENOMEM;
}

void queue_free(struct queue *q)
{
	free(q->buf);
	q->buf = NULL;
}

void queue_put(struct queue *q, const void *data, size_t n)
{
	size_t first = q->size - q->head;

	if (first > n)
		first = n;
	memcpy(q->buf + q->head, data, first);
	memcpy(q->buf, (const uint8_t *)data + first, n - first);
	q->head = (q->head + n) % q->size;
	q->used += n;
}

int queue_spans(const struct queue *q, struct iovec iov[2])
{
	size_t first;

	if (!q->used)
		return 0;
	first = q->size - q->tail;
	if (first >= q->used) {
		iov[0].iov_base = q->buf + q->tail;
		iov[0].iov_len = q->used;
		return 1;
	}
	iov[0].iov_base = q->buf + q->tail;
	iov[0].iov_len = first;
	iov[1].iov_base = q->buf;
	iov[1].iov_len = q->used - first;
	return 2;
}

void queue_copy_out(const struct queue *q, void *dst, size_t n)
{
	size_t first = q->size - q->tail;

	if (first > n)
		first = n;
	memcpy(dst, q->buf + q->tail, first);
	memcpy((uint8_t *)dst + first, q->buf, n - first);
}

void queue_drop(struct queue *q, size_t n)
{
	q->tail = (q->tail + n) % q->size;
	q->used -= n;
	if (!q->used)
		q->head = q->tail = 0;
}
