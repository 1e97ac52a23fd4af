/*
 * proto.h: how lguest-net talks to lguest-netd.
 *
 * One unix stream socket, root only (NETD_SOCKET, mode 0600; the daemon
 * also checks the peer's credentials).  A client connects, writes one
 * request, a JSON object on one line:
 *
 *	{"verb": "status", "lab": "twolans", ...}
 *
 * and reads the answer: JSON objects, one per line.  Long work first sends
 * progress, {"progress": {...}}, then every answer ends with one of
 *
 *	{"ok": true, "result": ...}
 *	{"ok": false, "error": "what went wrong"}
 *
 * and the daemon closes the connection.  Three verbs turn the connection
 * into a stream after their {"ok": true, "stream": true} line (exec,
 * console, capture): from then on both sides send frames, an 8-byte header
 * (type, length; little-endian) and the payload:
 *
 *	client -> daemon   INPUT (bytes for stdin or the console), INPUT_EOF,
 *	                   SIGNAL (u32: for the command's process group),
 *	                   RESIZE (u16 rows, u16 cols: the console's window)
 *	daemon -> client   STDOUT (also the console's output, and pcap bytes
 *	                   for a capture), STDERR, EXIT (i32 code, i32 signal)
 *
 * A stream ends with EXIT (exec), or when either side closes (console,
 * capture).  The client closing the connection is "stop": a command is
 * killed, a live capture stops, an `up` still at work is abandoned (and
 * the lab taken down).
 *
 * One request per connection keeps both ends simple and lets hosted mode
 * forward each connection as it is, into the lab-host VM.
 */
#ifndef LGUEST_NETD_PROTO_H
#define LGUEST_NETD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define NETD_SOCKET_DEFAULT	"/run/lguest/netd.sock"
#define NETD_RUN_DIR		"/run/lguest"
#define NETD_CACHE_DIR		"/var/cache/lguest"
#define NETD_REQUEST_MAX	(2u << 20)	/* a request line, topology included */
#define NETD_FRAME_MAX		(64u << 10)	/* a stream frame's payload */

enum proto_frame_type {
	PF_INPUT = 1,
	PF_INPUT_EOF = 2,
	PF_SIGNAL = 3,
	PF_RESIZE = 4,
	PF_STDOUT = 16,
	PF_STDERR = 17,
	PF_EXIT = 18,
};

struct proto_frame {
	uint32_t type;		/* enum proto_frame_type */
	uint32_t len;		/* payload bytes that follow */
};

/* The socket: $LGUEST_NETD_SOCKET, else NETD_SOCKET_DEFAULT. */
const char *proto_socket_path(void);

/* Blocking helpers (lguest-net): each returns 0, or -1 with errno set. */
int proto_write_all(int fd, const void *buf, size_t len);
int proto_send_json(int fd, json_t *msg);	/* one line; MSG is not stolen */
int proto_send_frame(int fd, uint32_t type, const void *data, uint32_t len);

/*
 * Read one line from FD into a JSON object (at most MAX bytes): the object,
 * or NULL with *why set (EOF, too long, not JSON).  BUF keeps bytes read
 * past the line (a stream's first frames): pass the same one each time.
 */
struct proto_buf {
	char *data;
	size_t len, cap;
};
json_t *proto_read_json(int fd, struct proto_buf *buf, size_t max, const char **why);
/* The next frame from FD (after BUF's leftovers): 1, 0 at EOF, -1 on error. */
int proto_read_frame(int fd, struct proto_buf *buf, struct proto_frame *hdr,
		     uint8_t *payload);

/* Grow-on-demand byte buffer, for both sides. */
int buf_append(struct proto_buf *b, const void *data, size_t len);
void buf_consume(struct proto_buf *b, size_t n);
void buf_free(struct proto_buf *b);

#endif
