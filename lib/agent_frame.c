/*
 * agent_frame.c: the guest agent's frames, both ends (agent_frame.h).
 *
 * The reader keeps one frame's worth of bytes (AGENT_FRAME_MAX) and hands
 * out whole frames in place; the bytes of a frame it gave are dropped when
 * the next is asked for, and what remains is moved to the front only when
 * the buffer needs the room.  The queue is one growing piece of memory in
 * the same way.  Header and EXEC payloads are checked field by field: a
 * frame comes from the other side of a machine boundary.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_frame.h"

void agent_put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

uint32_t agent_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

/* --- headers ------------------------------------------------------------- */

void agent_header_encode(uint8_t out[LGUEST_AGENT_HEADER_SIZE], uint8_t type,
			 uint32_t session, uint32_t length)
{
	put_le16(out, LGUEST_AGENT_MAGIC);
	out[2] = LGUEST_AGENT_VERSION;
	out[3] = type;
	agent_put_le32(out + 4, session);
	agent_put_le32(out + 8, length);
}

const char *agent_header_decode(const uint8_t in[LGUEST_AGENT_HEADER_SIZE],
				struct agent_frame *f)
{
	if (get_le16(in) != LGUEST_AGENT_MAGIC)
		return "bad magic: not an agent frame";
	if (in[2] != LGUEST_AGENT_VERSION)
		return "protocol version not 1";
	f->type = in[3];
	f->session = agent_get_le32(in + 4);
	f->length = agent_get_le32(in + 8);
	if (f->length > LGUEST_AGENT_MAX_PAYLOAD)
		return "payload longer than 64 KiB";
	f->payload = NULL;
	return NULL;
}

static const char *const type_names[] = {
	[LGUEST_AGENT_HELLO] = "HELLO",
	[LGUEST_AGENT_EXEC] = "EXEC",
	[LGUEST_AGENT_STDIN] = "STDIN",
	[LGUEST_AGENT_SIGNAL] = "SIGNAL",
	[LGUEST_AGENT_OUTPUT_ACK] = "OUTPUT_ACK",
	[LGUEST_AGENT_STDOUT] = "STDOUT",
	[LGUEST_AGENT_STDERR] = "STDERR",
	[LGUEST_AGENT_EXIT] = "EXIT",
	[LGUEST_AGENT_ERROR] = "ERROR",
	[LGUEST_AGENT_STDIN_ACK] = "STDIN_ACK",
};

const char *agent_type_name(uint8_t type)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]) && type_names[type])
		return type_names[type];
	return "unknown";
}

/* --- the reader ------------------------------------------------------------ */

int agent_reader_init(struct agent_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(AGENT_FRAME_MAX);
	return r->buf ? 0 : -1;
}

void agent_reader_free(struct agent_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

void agent_reader_clear(struct agent_reader *r)
{
	r->start = r->len = r->taken = 0;
}

/* Forget the frame given last. */
static void reader_drop_taken(struct agent_reader *r)
{
	r->start += r->taken;
	r->len -= r->taken;
	r->taken = 0;
	if (!r->len)
		r->start = 0;
}

/* The bytes the frame at start needs in all (as far as we can tell yet). */
static size_t reader_need(const struct agent_reader *r)
{
	struct agent_frame f;

	if (r->len < LGUEST_AGENT_HEADER_SIZE || agent_header_decode(r->buf + r->start, &f))
		return LGUEST_AGENT_HEADER_SIZE;
	return LGUEST_AGENT_HEADER_SIZE + f.length;
}

ssize_t agent_reader_fill(struct agent_reader *r, int fd)
{
	ssize_t n;

	reader_drop_taken(r);
	if (r->start && (r->start + reader_need(r) > AGENT_FRAME_MAX ||
			 r->start + r->len == AGENT_FRAME_MAX)) {
		memmove(r->buf, r->buf + r->start, r->len);	/* room for the whole frame */
		r->start = 0;
	}
	if (r->len == AGENT_FRAME_MAX) {
		errno = EAGAIN;		/* a whole frame waits: take it first */
		return -1;
	}
	n = read(fd, r->buf + r->start + r->len, AGENT_FRAME_MAX - r->start - r->len);
	if (n > 0)
		r->len += n;
	return n;
}

int agent_reader_next(struct agent_reader *r, struct agent_frame *f, const char **why)
{
	reader_drop_taken(r);
	if (r->len < LGUEST_AGENT_HEADER_SIZE)
		return 0;
	*why = agent_header_decode(r->buf + r->start, f);
	if (*why)
		return -1;
	if (r->len < LGUEST_AGENT_HEADER_SIZE + f->length)
		return 0;
	f->payload = r->buf + r->start + LGUEST_AGENT_HEADER_SIZE;
	r->taken = LGUEST_AGENT_HEADER_SIZE + f->length;
	return 1;
}

/* --- the queue -------------------------------------------------------------- */

void agent_queue_init(struct agent_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void agent_queue_free(struct agent_queue *q)
{
	free(q->buf);
	agent_queue_init(q);
}

void agent_queue_clear(struct agent_queue *q)
{
	q->start = q->len = 0;
}

/* Room for n more bytes at the end: 0, or -1. */
static int queue_room(struct agent_queue *q, size_t n)
{
	size_t want;
	uint8_t *p;

	if (q->start + q->len + n <= q->size)
		return 0;
	if (q->start) {
		memmove(q->buf, q->buf + q->start, q->len);
		q->start = 0;
		if (q->len + n <= q->size)
			return 0;
	}
	want = q->size ? q->size : 4096;
	while (want < q->len + n)
		want *= 2;
	p = realloc(q->buf, want);
	if (!p)
		return -1;
	q->buf = p;
	q->size = want;
	return 0;
}

int agent_queue_put(struct agent_queue *q, const void *bytes, size_t n)
{
	if (queue_room(q, n) < 0)
		return -1;
	memcpy(q->buf + q->start + q->len, bytes, n);
	q->len += n;
	return 0;
}

int agent_queue_frame(struct agent_queue *q, uint8_t type, uint32_t session,
		      const void *payload, uint32_t length)
{
	uint8_t *p = agent_queue_begin(q, length);

	if (!p)
		return -1;
	if (length)
		memcpy(p, payload, length);
	agent_queue_commit(q, type, session, length);
	return 0;
}

uint8_t *agent_queue_begin(struct agent_queue *q, uint32_t max)
{
	if (queue_room(q, LGUEST_AGENT_HEADER_SIZE + (size_t)max) < 0)
		return NULL;
	return q->buf + q->start + q->len + LGUEST_AGENT_HEADER_SIZE;
}

void agent_queue_commit(struct agent_queue *q, uint8_t type, uint32_t session,
			uint32_t length)
{
	agent_header_encode(q->buf + q->start + q->len, type, session, length);
	q->len += LGUEST_AGENT_HEADER_SIZE + length;
}

const uint8_t *agent_queue_peek(const struct agent_queue *q, size_t *n)
{
	*n = q->len;
	return q->buf + q->start;
}

void agent_queue_drop(struct agent_queue *q, size_t n)
{
	q->start += n;
	q->len -= n;
	if (!q->len)
		q->start = 0;
}

ssize_t agent_queue_flush(struct agent_queue *q, int fd)
{
	size_t done = 0;

	while (q->len) {
		ssize_t n = write(fd, q->buf + q->start, q->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done)
			break;		/* the error shows at the next flush */
		if (n < 0)
			return -1;
		agent_queue_drop(q, n);
		done += n;
	}
	return done;
}

/* --- EXEC payloads ----------------------------------------------------------- */

#define EXEC_FIXED sizeof(struct lguest_agent_exec)

static size_t count_strings(const char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Append the string s (its NUL too) at out + *at, if it fits in size. */
static bool put_string(uint8_t *out, size_t size, size_t *at, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > size - *at)
		return false;
	memcpy(out + *at, s, n);
	*at += n;
	return true;
}

ssize_t agent_exec_encode(const struct agent_exec *e, uint8_t *out, size_t size)
{
	size_t argc = count_strings(e->argv), envc = count_strings(e->env), at = EXEC_FIXED;
	uint32_t flags = (e->flags & ~LGUEST_AGENT_EXEC_CWD) |
			 (e->cwd ? LGUEST_AGENT_EXEC_CWD : 0);

	if (!argc || argc > 0xffff || envc > 0xffff || size < EXEC_FIXED)
		return -1;
	agent_put_le32(out, flags);
	put_le16(out + 4, argc);
	put_le16(out + 6, envc);
	for (size_t i = 0; i < argc; i++)
		if (!put_string(out, size, &at, e->argv[i]))
			return -1;
	for (size_t i = 0; i < envc; i++)
		if (!put_string(out, size, &at, e->env[i]))
			return -1;
	if (e->cwd && !put_string(out, size, &at, e->cwd))
		return -1;
	return at;
}

/* The next NUL-terminated string at p + *at (before end), or NULL. */
static const char *take_string(const uint8_t *p, size_t end, size_t *at)
{
	const uint8_t *nul;
	const char *s;

	if (*at >= end)
		return NULL;
	nul = memchr(p + *at, 0, end - *at);
	if (!nul)
		return NULL;
	s = (const char *)p + *at;
	*at = nul - p + 1;
	return s;
}

int agent_exec_decode(const uint8_t *payload, uint32_t length, struct agent_exec *e,
		      const char **why)
{
	size_t argc, envc, at = EXEC_FIXED, i;
	const char **v;

	memset(e, 0, sizeof(*e));
	if (length < EXEC_FIXED) {
		*why = "EXEC payload shorter than its fixed part";
		return -1;
	}
	e->flags = agent_get_le32(payload);
	argc = get_le16(payload + 4);
	envc = get_le16(payload + 6);
	if (e->flags & ~(uint32_t)(LGUEST_AGENT_EXEC_STDIN | LGUEST_AGENT_EXEC_CWD)) {
		*why = "EXEC with unknown flags";
		return -1;
	}
	if (!argc) {
		*why = "EXEC with no argv";
		return -1;
	}
	if (argc + envc > (length - EXEC_FIXED)) {
		*why = "EXEC counts more strings than its payload holds";
		return -1;
	}
	v = calloc(argc + envc + 2, sizeof(*v));
	if (!v) {
		*why = "out of memory";
		return -1;
	}
	e->argv = v;
	e->env = v + argc + 1;
	for (i = 0; i < argc + envc; i++) {
		const char *s = take_string(payload, length, &at);

		if (!s) {
			*why = "EXEC string not NUL-terminated, or missing";
			goto bad;
		}
		v[i < argc ? i : i + 1] = s;
	}
	if ((e->flags & LGUEST_AGENT_EXEC_CWD) && !(e->cwd = take_string(payload, length, &at))) {
		*why = "EXEC with LGUEST_AGENT_EXEC_CWD but no directory";
		goto bad;
	}
	if (at != length) {
		*why = "EXEC payload goes on after its last string";
		goto bad;
	}
	if (!e->argv[0][0]) {
		*why = "EXEC with an empty argv[0]";
		goto bad;
	}
	return 0;
bad:
	agent_exec_free(e);
	return -1;
}

void agent_exec_free(struct agent_exec *e)
{
	free(e->argv);
	memset(e, 0, sizeof(*e));
}
