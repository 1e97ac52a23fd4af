/*
 * agent_frame.h: the guest agent's frames (include/lguest/agent.h), for both
 * ends of a channel: lguest-agent in the guest, and the host's clients
 * (agent_client.h, lguest-netd).
 *
 *   agent_header_*  a frame's 12-byte header, to and from bytes
 *   agent_reader    frames out of a byte stream, as they become whole
 *   agent_queue     bytes (frames) waiting for a descriptor to take them
 *   agent_exec_*    the EXEC payload: flags, argv, environment, directory
 *
 * Nothing here blocks: the readers and writers of the descriptors decide
 * when to wait.  Every length that comes from the other end is checked.
 */
#ifndef LGUEST_AGENT_FRAME_H
#define LGUEST_AGENT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lguest/agent.h>

#define AGENT_FRAME_MAX (LGUEST_AGENT_HEADER_SIZE + LGUEST_AGENT_MAX_PAYLOAD)

/* A frame as received: the payload lies in the reader's buffer. */
struct agent_frame {
	uint8_t type;
	uint32_t session;
	uint32_t length;
	const uint8_t *payload;
};

void agent_header_encode(uint8_t out[LGUEST_AGENT_HEADER_SIZE], uint8_t type,
			 uint32_t session, uint32_t length);
/* NULL, with type, session and length filled in; or what is wrong with it. */
const char *agent_header_decode(const uint8_t in[LGUEST_AGENT_HEADER_SIZE],
				struct agent_frame *f);

/* The name of a frame type ("EXEC"), or "unknown". */
const char *agent_type_name(uint8_t type);

/* Little-endian words in payloads. */
void agent_put_le32(uint8_t *p, uint32_t v);
uint32_t agent_get_le32(const uint8_t *p);

/*
 * Frames out of a stream.  agent_reader_fill() read()s what the descriptor
 * has (bytes read; 0 at end of file; -1 with errno, EAGAIN included), and
 * agent_reader_next() gives the next whole frame: 1 (f is valid until the
 * next call), 0 (more bytes are needed), -1 (a bad header: *why; the stream
 * cannot be followed any more).
 */
struct agent_reader {
	uint8_t *buf;		/* AGENT_FRAME_MAX bytes */
	size_t start, len;	/* the unread bytes: buf[start .. start + len) */
	size_t taken;		/* the last frame given: dropped at the next call */
};

int agent_reader_init(struct agent_reader *r);
void agent_reader_free(struct agent_reader *r);
void agent_reader_clear(struct agent_reader *r);
ssize_t agent_reader_fill(struct agent_reader *r, int fd);
int agent_reader_next(struct agent_reader *r, struct agent_frame *f, const char **why);

/*
 * Bytes on their way out, first in first out; it grows as needed (its user
 * bounds it).  A frame is queued whole with agent_queue_frame(), or built
 * in place: agent_queue_begin() gives room for up to max payload bytes (read
 * into it), agent_queue_commit() queues the frame with the length used.
 * The queue functions return 0, or -1 when memory runs out.
 */
struct agent_queue {
	uint8_t *buf;
	size_t start, len, size;
};

void agent_queue_init(struct agent_queue *q);
void agent_queue_free(struct agent_queue *q);
void agent_queue_clear(struct agent_queue *q);
int agent_queue_put(struct agent_queue *q, const void *bytes, size_t n);
int agent_queue_frame(struct agent_queue *q, uint8_t type, uint32_t session,
		      const void *payload, uint32_t length);
uint8_t *agent_queue_begin(struct agent_queue *q, uint32_t max);
void agent_queue_commit(struct agent_queue *q, uint8_t type, uint32_t session,
			uint32_t length);
/* The oldest bytes (all of them: the queue is one piece of memory). */
const uint8_t *agent_queue_peek(const struct agent_queue *q, size_t *n);
void agent_queue_drop(struct agent_queue *q, size_t n);
/* write() what the descriptor takes: bytes written (0 if none wait), or -1 (errno). */
ssize_t agent_queue_flush(struct agent_queue *q, int fd);

/*
 * The EXEC payload.  argv and env are NULL-terminated arrays (env may be
 * NULL, cwd too).  agent_exec_encode() writes the payload into out (size
 * bytes): its length, or -1 when it does not fit (or argv is empty or has
 * more than 65535 strings).  agent_exec_decode() checks a payload and points
 * into it: 0, or -1 with *why; agent_exec_free() frees what it allocated.
 */
struct agent_exec {
	uint32_t flags;		/* LGUEST_AGENT_EXEC_STDIN...; CWD: set from cwd */
	const char **argv;
	const char **env;
	const char *cwd;
};

ssize_t agent_exec_encode(const struct agent_exec *e, uint8_t *out, size_t size);
int agent_exec_decode(const uint8_t *payload, uint32_t length, struct agent_exec *e,
		      const char **why);
void agent_exec_free(struct agent_exec *e);

#endif
