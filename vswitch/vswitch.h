/*
 * vswitch.h: lguest-vswitch, a switch made of one process.
 *
 * Frames come in on ports, the switch decides where each one goes (learning
 * which MAC address lives behind which port, flooding what it does not know),
 * and writes it out of other ports.  One thread does all of that from one
 * epoll loop, so nothing on the forwarding path takes a lock; a second
 * thread writes captures, fed through a ring that never makes the first one
 * wait.  The parts:
 *
 *   main.c      the command line, starting and stopping, signals
 *   loop.c      the epoll loop: watches, deferred frees, the clock
 *   port.c      what every port has: its spec, counters, output queue, sending
 *   port_tap.c  tap ports: a Linux network interface
 *   port_unix.c unix-socket peers: QEMU's -netdev stream and dgram framings
 *   port_sharenet.c a sharenet segment of lguest guests, as a DMA endpoint
 *   queue.c     the bounded byte ring behind each port's output
 *   fdb.c       the forwarding database: learning and ageing
 *   vlan.c      802.1Q: access and trunk ports, tags in and out
 *   forward.c   one frame's trip: checks, learning, the decision, delivery
 *   impair.c    delay, jitter, loss, rate and duplication, per port and direction
 *   capture.c   pcap files, written by their own thread (capture.h)
 *   control.c   the control socket: its commands, in a table
 *   show.c      what "show" answers, as text or JSON (jansson)
 *   ctl.c       the client: lguest-vswitch ctl SOCKET COMMAND...
 */
#ifndef LGUEST_VSWITCH_H
#define LGUEST_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "capture.h"

#define PROGRAM "lguest-vswitch"

#define VSW_MAX_PORTS	256	/* a port index fits in a uint8_t... almost */
_Static_assert(CAPTURE_SWITCH == VSW_MAX_PORTS, "capture points: one per port, then the switch");
#define VSW_MTU_DEFAULT	1500
#define VSW_MTU_MAX	9000
#define ETH_HLEN_	14
#define VLAN_HLEN_	4
/* The biggest frame any port may carry: MTU 9000, a header and a tag. */
#define VSW_FRAME_MAX	(VSW_MTU_MAX + ETH_HLEN_ + VLAN_HLEN_)
/* Reads use buffers this big: anything longer than VSW_FRAME_MAX is oversize. */
#define VSW_READ_MAX	65536
#define VSW_BATCH	32	/* frames read from one port per wakeup */

/* The struct that MEMBER, at PTR, is part of. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* --- loop.c ------------------------------------------------------------ */
struct watch;
typedef void watch_fn(struct watch *w, uint32_t events);
struct watch {
	int fd;
	watch_fn *fn;
};

struct loop {
	int epfd;
	uint64_t now_ns;	/* CLOCK_MONOTONIC, read once per wakeup */
	struct graveyard_entry *graveyard;	/* freed after the wakeup */
};

int loop_init(struct loop *loop);
int loop_add(struct loop *loop, struct watch *w, uint32_t events);
int loop_mod(struct loop *loop, struct watch *w, uint32_t events);
void loop_del(struct loop *loop, struct watch *w);
/* Free P (with FREE_FN) once the current wakeup's events are handled. */
void loop_defer_free(struct loop *loop, void *p, void (*free_fn)(void *));
/* Wait for events (at most TIMEOUT_MS), handle them, then free the dead. */
int loop_run_once(struct loop *loop, int timeout_ms);
uint64_t clock_ns(int clock);

/* --- queue.c ----------------------------------------------------------- */
/* A byte ring with a fixed capacity: what a port could not write yet. */
struct queue {
	uint8_t *buf;
	size_t size, head, tail;	/* head: next write; tail: next read */
	size_t used;
};
int queue_init(struct queue *q, size_t size);
void queue_free(struct queue *q);
static inline size_t queue_space(const struct queue *q) { return q->size - q->used; }
static inline bool queue_empty(const struct queue *q) { return q->used == 0; }
/* Append N bytes; the caller checked queue_space(). */
void queue_put(struct queue *q, const void *data, size_t n);
/* The readable bytes as at most two spans; returns how many spans. */
int queue_spans(const struct queue *q, struct iovec iov[2]);
void queue_drop(struct queue *q, size_t n);
/* Copy the first N bytes out (they may wrap). */
void queue_copy_out(const struct queue *q, void *dst, size_t n);

/* --- vlan.c ------------------------------------------------------------ */
enum vlan_mode { VLAN_ACCESS, VLAN_TRUNK };
struct vlan_conf {
	enum vlan_mode mode;
	uint16_t vid;			/* access: the port's VLAN */
	uint8_t allowed[4096 / 8];	/* trunk: the VLANs it carries */
};
/* Parse "10:20:100-200" into CONF (trunk); NULL or why not. */
const char *vlan_parse_trunk(const char *text, struct vlan_conf *conf);
bool vlan_port_carries(const struct vlan_conf *conf, uint16_t vid);
/* Write CONF as text ("10", "trunk 10,20,100-200") into BUF. */
void vlan_format(const struct vlan_conf *conf, char *buf, size_t size);

/* --- ports ------------------------------------------------------------- */
enum port_kind {
	PORT_TAP,
	PORT_STREAM_LISTEN,	/* not a port on the wire: makes PORT_STREAM ones */
	PORT_STREAM,
	PORT_DGRAM,
	PORT_SHARENET,		/* a sharenet file: lguest guests, through lg.ko */
};

struct port_counters {
	uint64_t rx_frames, rx_bytes;	/* everything that came in (while up) */
	uint64_t tx_frames, tx_bytes;	/* everything that went out */
	uint64_t rx_runt;		/* shorter than an Ethernet header */
	uint64_t rx_oversize;		/* longer than the port's MTU allows */
	uint64_t rx_garbage;		/* no frame at all (bad length, bad source) */
	uint64_t rx_vlan_drop;		/* a VLAN this port does not carry */
	uint64_t tx_queue_drop;		/* the port's output queue was full */
	uint64_t tx_oversize;		/* too long for this port's MTU */
	uint64_t tx_error;		/* the peer refused it (dgram: no peer) */
	uint64_t capture_drop;		/* the capture ring was full */
	uint64_t impair_loss;		/* lost on purpose (loss=) */
	uint64_t impair_dup;		/* duplicated on purpose (dup=) */
	uint64_t impair_qdrop;		/* the delay line was full */
	uint64_t admin_drop;		/* in or out while the port was down */
};

/* --- impair.c ---------------------------------------------------------- */
enum impair_dir { IMPAIR_IN, IMPAIR_OUT };
struct impair_conf {
	uint64_t delay_ns, jitter_ns, rate_bps;
	uint32_t loss_ppb, dup_ppb;	/* parts per billion */
};
struct impair_line {
	struct impair_conf conf;
	bool active;
	struct queue q;		/* frames waiting, each after a struct line_rec */
	uint64_t rate_free_ns, last_release_ns, rng;
};

/* Everything a port was asked to be, from its spec. */
struct port_conf {
	enum port_kind kind;
	char name[32];
	char arg[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* tap name or path */
	char remote[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* dgram */
	unsigned int mtu;
	bool down;		/* administratively: nothing crosses it */
	struct vlan_conf vlan;
	char capture[4096];
	uint64_t capture_size;
	unsigned int capture_count;
	struct impair_conf impair[2];
};

struct vswitch;
struct port {
	struct watch watch;
	struct vswitch *sw;
	struct port_conf conf;
	int index;		/* in sw->ports */
	bool dead;
	bool tap_created;	/* we made the interface (it goes when we close) */
	bool out_armed;		/* EPOLLOUT is being watched */
	struct queue q;
	struct capture_point capture;	/* its wire, both directions */
	struct port_counters c;
	struct impair_line imp[2];	/* IMPAIR_IN, IMPAIR_OUT */
	/* stream: a frame being gathered */
	uint8_t *in;
	size_t in_len;		/* bytes in "in" */
	size_t skip;		/* bytes of an oversize frame still to throw away */
	/* stream listener: how many connections so far */
	unsigned int conn_seq;
	int listener;		/* a stream connection's listener index, or -1 */
	/* dgram: where frames go */
	struct sockaddr_un peer;
	socklen_t peer_len;
	/* sharenet: our slot, buffers and the file's page (port_sharenet.c) */
	struct sharenet_port *sharenet;
	/* tap through io_uring: its posted buffers (uring.c), or NULL */
	struct tap_io *io;
};

/* --- fdb.c ------------------------------------------------------------- */
struct fdb_entry {
	uint8_t mac[6];
	uint16_t vid;
	uint16_t port;
	uint64_t seen_ns;
	struct fdb_entry *next;
};
struct fdb {
	struct fdb_entry **buckets;
	unsigned int nbuckets;
	struct fdb_entry *pool, *free;
	unsigned int capacity, used;
	uint64_t ageing_ns;
	uint64_t full_drops;	/* addresses not learned: table full */
};
int fdb_init(struct fdb *fdb, unsigned int capacity, uint64_t ageing_ns);
void fdb_free(struct fdb *fdb);
void fdb_learn(struct fdb *fdb, uint16_t vid, const uint8_t *mac, int port, uint64_t now);
/* The port MAC lives behind on VID, or -1. */
int fdb_lookup(struct fdb *fdb, uint16_t vid, const uint8_t *mac, uint64_t now);
void fdb_age(struct fdb *fdb, uint64_t now);
void fdb_flush_port(struct fdb *fdb, int port);
/* Call FN for every live entry. */
void fdb_each(struct fdb *fdb, uint64_t now,
	      void (*fn)(const struct fdb_entry *e, uint64_t age_ns, void *arg), void *arg);

/* --- the switch -------------------------------------------------------- */
struct control;
struct vswitch {
	struct loop loop;
	struct port *ports[VSW_MAX_PORTS];
	int port_limit;			/* no port at this index or above */
	struct fdb fdb;
	struct capture *cap;
	struct capture_point ingress;	/* every frame entering, once */
	struct control *control;
	bool hub;
	bool verbose;
	bool stopping;
	size_t queue_bytes;
	/* Shared read buffers: only one frame is in flight at a time. */
	uint8_t *rx;			/* VSW_READ_MAX */
	uint8_t *rx_batch;		/* VSW_BATCH of the above (dgram) */
	uint8_t *scratch;		/* the other form of a frame (tag pushed/popped) */
	uint8_t *txbuf;			/* a queued frame on its way out */
	uint8_t *impairbuf;		/* a frame leaving a delay line */
	uint64_t seed;			/* --seed: impairments' random numbers */
	bool any_impair;		/* some port has (had) an impairment */
	struct watch impair_timer;
	uint64_t impair_armed_ns;
	struct uring *uring;		/* taps' I/O, or NULL: read() and write() */
};

/* uring.c: tap ports' reads and writes batched through one io_uring */
struct uring;
/* NULL if io_uring cannot be used (why in ERR): taps then use syscalls. */
struct uring *uring_new(struct vswitch *sw, char *err, size_t errlen);
void uring_free(struct uring *u);
/* Hand the kernel what was queued this turn of the loop. */
void uring_submit(struct uring *u);
/* Post P's reads; 0 or -errno. */
int uring_tap_start(struct uring *u, struct port *p);
void uring_tap_stop(struct port *p);
/* Queue a frame to write; false if P has too many in flight (drop it). */
bool uring_tap_send(struct port *p, const uint8_t *frame, size_t len);

/* port.c */
/* Parse SPEC into CONF; 0, or -EINVAL with "port SPEC: why" in ERR. */
int port_parse_spec(const char *spec, struct port_conf *conf, char *err, size_t errlen);
struct port *port_add_connection(struct port *listener, int fd);
/* Add a port; on failure, writes "port NAME: why" into ERR and returns NULL. */
struct port *port_add(struct vswitch *sw, const struct port_conf *conf, char *err, size_t errlen);
void port_remove(struct port *p, const char *why);
struct port *port_find(struct vswitch *sw, const char *name);
/* Send one frame out of P (counts, captures, queues if it must). */
void port_send(struct port *p, const uint8_t *frame, size_t len);
int port_watch_out(struct port *p, bool on);
const char *port_kind_name(enum port_kind kind);
/* Take P down (nothing crosses it, its addresses are forgotten) or up;
 * a stream listener's connections follow it. */
void port_set_down(struct port *p, bool down);
void vsw_log(struct vswitch *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* port_tap.c / port_unix.c: open the port's descriptor, handle its events */
int tap_open(struct port *p, char *err, size_t errlen);
void tap_event(struct watch *w, uint32_t events);
int tap_write(struct port *p, const uint8_t *frame, size_t len);
int stream_listen(struct port *p, char *err, size_t errlen);
void stream_listen_event(struct watch *w, uint32_t events);
void stream_event(struct watch *w, uint32_t events);
int dgram_open(struct port *p, char *err, size_t errlen);
/* Make PATH free for a socket of TYPE: 0, or -EADDRINUSE if one is alive there. */
int unix_claim_path(const char *path, int type);
void dgram_event(struct watch *w, uint32_t events);
int dgram_write(struct port *p, const uint8_t *frame, size_t len);
void port_flush_queue(struct port *p);
int sharenet_port_open(struct port *p, char *err, size_t errlen);
void sharenet_port_event(struct watch *w, uint32_t events);
int sharenet_port_write(struct port *p, const uint8_t *frame, size_t len);
void sharenet_port_close(struct port *p);

/* Send now, past the port's impairments (impair.c releases frames here). */
void port_send_now(struct port *p, const uint8_t *frame, size_t len);

/* forward.c: a frame read from IN; forward_checked() is the part after the
 * "in" impairments. */
void forward_frame(struct vswitch *sw, struct port *in, uint8_t *frame, size_t len);
void forward_checked(struct vswitch *sw, struct port *in, const uint8_t *frame, size_t len);

/* impair.c */
const char *impair_parse(const char *key, const char *val, struct impair_conf *c);
void impair_format(const struct impair_conf *c, char *buf, size_t size);
int impair_set(struct port *p, enum impair_dir dir, const struct impair_conf *c);
/* True if the frame was taken (delayed, lost...): the caller is done with it. */
bool impair_take(struct port *p, enum impair_dir dir, const uint8_t *frame, size_t len);
void impair_free(struct port *p);
int impair_init(struct vswitch *sw);
/* Release frames that are due, and arm the timer for the next. */
void impair_run(struct vswitch *sw);

/* control.c */
struct control *control_open(struct vswitch *sw, const char *path, char *err, size_t errlen);
void control_close(struct control *ctl);
/* The commands, one a line, for --help. */
void control_usage(FILE *out);

/* show.c: "show WHAT [--json]" into OUT; 0, or -ENOMEM. */
int show_ports(struct vswitch *sw, FILE *out, bool json);
int show_counters(struct vswitch *sw, FILE *out, bool json);
int show_fdb(struct vswitch *sw, FILE *out, bool json);
int show_captures(struct vswitch *sw, FILE *out, bool json);

/* ctl.c */
int ctl_main(int argc, char **argv);

#endif
