/*
 * forward.c: one frame's trip through the switch.
 *
 * A port's reader hands each frame it read to forward_frame(), which does,
 * in order, what a hardware switch does:
 *
 *   0. drop it if the port is down (counted as admin_drop): its cable is
 *      cut, so nothing of it is counted, captured or learned;
 *   1. count it, and record it for the port's captures and the switch-wide
 *      ones, in one record (capture.c): they show what was on the wire, good
 *      frames and bad, each frame entering the switch once; then the port's
 *      "in" impairments (impair.c) may delay, lose or duplicate it (a frame
 *      they hold while the port goes down is dropped there, as admin_drop);
 *   2. check it: shorter than an Ethernet header is a runt, longer than the
 *      port's MTU (plus header and, if tagged, tag) is oversize, a group
 *      address as the source is garbage; each is counted and dropped;
 *   3. find its VLAN: the port's own on an access port (where a tagged
 *      frame is dropped), the tag's on a trunk port (where an untagged
 *      frame, or a VLAN not carried, is dropped);
 *   4. learn: the source address lives behind this port, on this VLAN;
 *   5. decide: a unicast destination the table knows goes to that port only
 *      (or nowhere, if that is where it came from); anything else, and
 *      everything in hub mode, floods to every other port carrying the VLAN;
 *   6. deliver: each output port gets the frame in its own form, tagged for
 *      a trunk, untagged for an access port; the other form is built once,
 *      in a scratch buffer, only if some port needs it.  A port that is down
 *      drops it there (port.c), counted as admin_drop, not captured.
 *
 * Nothing here allocates, blocks or takes a lock.
 */
#include <string.h>

#include "vswitch.h"

struct frame_forms {
	const uint8_t *frame;
	size_t len;
	bool tagged;
	uint16_t vid;
	const uint8_t *other;	/* the frame with its tag popped or pushed */
	size_t other_len;
	uint8_t *scratch;
};

static void deliver(struct port *out, struct frame_forms *f)
{
	bool want_tag = out->conf.vlan.mode == VLAN_TRUNK;
	size_t payload = f->len - ETH_HLEN_ - (f->tagged ? VLAN_HLEN_ : 0);

	if (payload > out->conf.mtu) {
		out->c.tx_oversize++;
		return;
	}
	if (want_tag == f->tagged) {
		port_send(out, f->frame, f->len);
		return;
	}
	if (!f->other) {
		uint8_t *s = f->scratch;

		memcpy(s, f->frame, 12);	/* destination and source */
		if (f->tagged) {
			memcpy(s + 12, f->frame + 16, f->len - 16);
			f->other_len = f->len - VLAN_HLEN_;
		} else {
			s[12] = 0x81;
			s[13] = 0x00;
			s[14] = (uint8_t)(f->vid >> 8);
			s[15] = (uint8_t)f->vid;
			memcpy(s + 16, f->frame + 12, f->len - 12);
			f->other_len = f->len + VLAN_HLEN_;
		}
		f->other = s;
	}
	port_send(out, f->other, f->other_len);
}

void forward_frame(struct vswitch *sw, struct port *in, uint8_t *frame, size_t len)
{
	if (in->conf.down) {
		in->c.admin_drop++;
		return;
	}
	in->c.rx_frames++;
	in->c.rx_bytes += len;
	if ((in->capture.n | sw->ingress.n) &&
	    !capture_frame(sw->cap, in->capture.n ? in->index : -1, sw->ingress.n, frame, len))
		in->c.capture_drop++;
	if (in->imp[IMPAIR_IN].active && impair_take(in, IMPAIR_IN, frame, len))
		return;		/* it comes back through forward_checked() */
	forward_checked(sw, in, frame, len);
}

void forward_checked(struct vswitch *sw, struct port *in, const uint8_t *frame, size_t len)
{
	struct port_counters *c = &in->c;
	struct frame_forms f = { .frame = frame, .len = len, .scratch = sw->scratch };
	size_t payload;
	int i, to;

	/* 2. is it a frame at all? */
	f.tagged = len >= 14 && frame[12] == 0x81 && frame[13] == 0x00;
	if (len < ETH_HLEN_ + (f.tagged ? VLAN_HLEN_ : 0)) {
		c->rx_runt++;
		return;
	}
	payload = len - ETH_HLEN_ - (f.tagged ? VLAN_HLEN_ : 0);
	if (payload > in->conf.mtu) {
		c->rx_oversize++;
		return;
	}
	if (frame[6] & 1) {
		c->rx_garbage++;
		return;
	}

	/* 3. its VLAN */
	if (in->conf.vlan.mode == VLAN_ACCESS) {
		if (f.tagged) {
			c->rx_vlan_drop++;
			return;
		}
		f.vid = in->conf.vlan.vid;
	} else {
		f.vid = f.tagged ? (uint16_t)(((frame[14] << 8) | frame[15]) & 0xfff) : 0;
		if (!f.tagged || !vlan_port_carries(&in->conf.vlan, f.vid)) {
			c->rx_vlan_drop++;
			return;
		}
	}

	/* 4 and 5: learn, then look the destination up */
	if (!sw->hub) {
		fdb_learn(&sw->fdb, f.vid, frame + 6, in->index, sw->loop.now_ns);
		if (!(frame[0] & 1)) {
			to = fdb_lookup(&sw->fdb, f.vid, frame, sw->loop.now_ns);
			if (to == in->index)
				return;		/* it is already on that segment */
			if (to >= 0 && sw->ports[to]) {
				deliver(sw->ports[to], &f);
				return;
			}
		}
	}

	/* flood */
	for (i = 0; i < sw->port_limit; i++) {
		struct port *out = sw->ports[i];

		if (!out || out == in || out->conf.kind == PORT_STREAM_LISTEN)
			continue;
		if (vlan_port_carries(&out->conf.vlan, f.vid))
			deliver(out, &f);
	}
}
