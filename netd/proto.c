/*
 * proto.c: the few pieces of the client-daemon protocol (proto.h) that both
 * sides use: the socket's path, byte buffers, and blocking reads and writes
 * of JSON lines and stream frames for lguest-net.  (The daemon never blocks:
 * it parses lines and frames out of its own buffers, netd/client.c.)
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

const char *proto_socket_path(void)
{
	const char *p = getenv("LGUEST_NETD_SOCKET");

	return p && *p ? p : NETD_SOCKET_DEFAULT;
}

int buf_append(struct proto_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + len)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			errno = ENOMEM;
			return -1;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void buf_consume(struct proto_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_free(struct proto_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int proto_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int proto_send_json(int fd, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	int rc;

	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	rc = proto_write_all(fd, text, strlen(text));
	if (!rc)
		rc = proto_write_all(fd, "\n", 1);
	free(text);
	return rc;
}

int proto_send_frame(int fd, uint32_t type, const void *data, uint32_t len)
{
	struct proto_frame hdr = { htole32(type), htole32(len) };

	if (proto_write_all(fd, &hdr, sizeof(hdr)))
		return -1;
	return len ? proto_write_all(fd, data, len) : 0;
}

/* Read more bytes into B: >0 read, 0 at EOF, -1 on error. */
static ssize_t fill(int fd, struct proto_buf *b)
{
	char chunk[65536];
	ssize_t n;

	do
		n = read(fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n > 0 && buf_append(b, chunk, (size_t)n))
		return -1;
	return n;
}

json_t *proto_read_json(int fd, struct proto_buf *b, size_t max, const char **why)
{
	json_error_t err;
	json_t *msg;
	char *nl;

	while (!(nl = b->len ? memchr(b->data, '\n', b->len) : NULL)) {
		ssize_t n;

		if (b->len > max) {
			*why = "answer too long";
			return NULL;
		}
		n = fill(fd, b);
		if (n <= 0) {
			*why = n ? strerror(errno) : "the daemon closed the connection";
			return NULL;
		}
	}
	msg = json_loadb(b->data, (size_t)(nl - b->data), 0, &err);
	buf_consume(b, (size_t)(nl - b->data) + 1);
	if (!msg || !json_is_object(msg)) {
		json_decref(msg);
		*why = "not a JSON object";
		return NULL;
	}
	return msg;
}

int proto_read_frame(int fd, struct proto_buf *b, struct proto_frame *hdr, uint8_t *payload)
{
	struct proto_frame raw;

	for (;;) {
		if (b->len >= sizeof(raw)) {
			memcpy(&raw, b->data, sizeof(raw));
			hdr->type = le32toh(raw.type);
			hdr->len = le32toh(raw.len);
			if (hdr->len > NETD_FRAME_MAX) {
				errno = EPROTO;
				return -1;
			}
			if (b->len >= sizeof(raw) + hdr->len) {
				memcpy(payload, b->data + sizeof(raw), hdr->len);
				buf_consume(b, sizeof(raw) + hdr->len);
				return 1;
			}
		}
		ssize_t n = fill(fd, b);

		if (n <= 0)
			return n < 0 ? -1 : 0;
	}
}
