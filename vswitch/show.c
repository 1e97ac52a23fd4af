/*
 * show.c: what the control command "show" answers, as text or JSON.
 *
 * Text is for people: one header line, then one line per port (per MAC,
 * per capture).  JSON is for programs (tests, lguest-netd): one document,
 * built with jansson and dumped by json_dumps, so that names and paths holding
 * quotes, backslashes or control characters come out as valid JSON.  Its
 * field names are an interface, kept as they are and only added to:
 *
 *   show ports, show counters (the same document):
 *     {"hub": BOOL, "captures": [FILE...],          the switch-wide captures
 *      "ports": [{"name", "kind", "where", "vlan", "mtu",
 *                 "state": "up"|"down",
 *                 "capture": FILE or "",             the oldest of...
 *                 "captures": [FILE...],             ...its captures, oldest first
 *                 "impair_in", "impair_out",
 *                 and every counter: "rx_frames", ..., "admin_drop"}]}
 *   show fdb:      {"ageing": SECONDS, "entries": [{"vlan", "mac", "port", "age"}]}
 *   show captures: {"captures": [{"port": NAME or "--switch", "file",
 *                                 "size": BYTES (0: no rotation), "count"}]}
 *
 * JSON strings are UTF-8, and jansson refuses anything else; a path need not
 * be (names are ASCII), so a path that is not shows with every byte above
 * 0x7f as '?', rather than failing the whole answer.  Counters are unsigned
 * 64-bit; JSON carries them as jansson's json_int_t (signed 64-bit), which
 * they fit for some centuries of traffic.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vswitch.h"

#define COUNTERS(X) X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(rx_runt) \
	X(rx_oversize) X(rx_garbage) X(rx_vlan_drop) X(tx_queue_drop) X(tx_oversize) \
	X(tx_error) X(capture_drop) X(impair_loss) X(impair_dup) X(impair_qdrop) \
	X(admin_drop)

/* Dump ROOT (taking it) to OUT, one document and a newline. */
static int dump(json_t *root, FILE *out)
{
	char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) : NULL;

	json_decref(root);
	if (!text)
		return -ENOMEM;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}

/*
 * Add VALUE to the array A, or as KEY to the object O; false if A, O or
 * VALUE is missing (no memory).  Either way VALUE is theirs: jansson's _new
 * calls take the reference even when they fail, so nothing leaks.
 */
static bool append(json_t *a, json_t *value)
{
	return !json_array_append_new(a, value);
}

static bool set(json_t *o, const char *key, json_t *value)
{
	return !json_object_set_new(o, key, value);
}

/* S as a JSON string, its bytes above 0x7f as '?' if it is not UTF-8. */
static json_t *text(const char *s)
{
	json_t *v = json_string(s);
	char *ascii;
	size_t i;

	if (v || !(ascii = strdup(s)))
		return v;
	for (i = 0; ascii[i]; i++)
		if ((unsigned char)ascii[i] > 0x7f)
			ascii[i] = '?';
	v = json_string(ascii);
	free(ascii);
	return v;
}

static json_t *capture_files(struct vswitch *sw, const struct capture_point *pt)
{
	struct capture_info info[CAPTURE_PER_POINT];
	unsigned int i, n = capture_list(sw->cap, pt, info);
	json_t *a = json_array();

	for (i = 0; i < n; i++)
		if (!append(a, text(info[i].file)))
			return json_decref(a), NULL;
	return a;
}

static json_t *port_json(struct vswitch *sw, const struct port *p)
{
	struct capture_info info[CAPTURE_PER_POINT];
	char vlan[256], imp_in[160], imp_out[160];
	json_t *o = json_object();
	bool ok;

	vlan_format(&p->conf.vlan, vlan, sizeof(vlan));
	impair_format(&p->imp[IMPAIR_IN].conf, imp_in, sizeof(imp_in));
	impair_format(&p->imp[IMPAIR_OUT].conf, imp_out, sizeof(imp_out));
	ok = set(o, "name", json_string(p->conf.name)) &&
	     set(o, "kind", json_string(port_kind_name(p->conf.kind))) &&
	     set(o, "where", text(p->conf.arg)) &&
	     set(o, "vlan", json_string(vlan)) &&
	     set(o, "mtu", json_integer(p->conf.mtu)) &&
	     set(o, "state", json_string(p->conf.down ? "down" : "up")) &&
	     set(o, "capture", text(capture_list(sw->cap, &p->capture, info) ?
				     info[0].file : "")) &&
	     set(o, "captures", capture_files(sw, &p->capture)) &&
	     set(o, "impair_in", json_string(imp_in)) &&
	     set(o, "impair_out", json_string(imp_out));
#define JSON_COUNTER(name) ok = ok && set(o, #name, json_integer((json_int_t)p->c.name));
	COUNTERS(JSON_COUNTER)
	if (!ok)
		return json_decref(o), NULL;
	return o;
}

static int ports_json(struct vswitch *sw, FILE *out)
{
	json_t *root = json_object(), *ports = NULL;
	bool ok = set(root, "hub", json_boolean(sw->hub)) &&
		  set(root, "captures", capture_files(sw, &sw->ingress)) &&
		  set(root, "ports", ports = json_array());
	int i;

	for (i = 0; ok && i < VSW_MAX_PORTS; i++)
		if (sw->ports[i])
			ok = append(ports, port_json(sw, sw->ports[i]));
	if (!ok)
		return json_decref(root), -ENOMEM;
	return dump(root, out);
}

/* Files, comma-separated, or "-". */
static void capture_text(struct vswitch *sw, const struct capture_point *pt, char *buf,
			 size_t size)
{
	struct capture_info info[CAPTURE_PER_POINT];
	unsigned int i, n = capture_list(sw->cap, pt, info);
	size_t len = 0;

	snprintf(buf, size, "-");
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", info[i].file);
}

int show_ports(struct vswitch *sw, FILE *out, bool json)
{
	char vlan[256], imp_in[160], imp_out[160], imp[340], files[4 * 256];
	int i;

	if (json)
		return ports_json(sw, out);
	fprintf(out, "%-16s %-13s %-28s %-16s %5s %-5s %-20s %s\n", "PORT", "KIND", "WHERE",
		"VLAN", "MTU", "STATE", "CAPTURE", "IMPAIRMENTS");
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		struct port *p = sw->ports[i];

		if (!p)
			continue;
		impair_format(&p->imp[IMPAIR_IN].conf, imp_in, sizeof(imp_in));
		impair_format(&p->imp[IMPAIR_OUT].conf, imp_out, sizeof(imp_out));
		snprintf(imp, sizeof(imp), "%s%s%s%s%s", imp_in[0] ? "in:" : "", imp_in,
			 imp_in[0] && imp_out[0] ? " " : "", imp_out[0] ? "out:" : "", imp_out);
		vlan_format(&p->conf.vlan, vlan, sizeof(vlan));
		capture_text(sw, &p->capture, files, sizeof(files));
		fprintf(out, "%-16s %-13s %-28s %-16s %5u %-5s %-20s %s\n", p->conf.name,
			port_kind_name(p->conf.kind), p->conf.arg, vlan, p->conf.mtu,
			p->conf.down ? "down" : "up", files, imp[0] ? imp : "-");
	}
	return 0;
}

int show_counters(struct vswitch *sw, FILE *out, bool json)
{
	int i;

	if (json)
		return ports_json(sw, out);
	fprintf(out, "%-16s %10s %12s %10s %12s %6s %8s %8s %6s %8s %8s %8s %8s %8s %8s %8s %9s\n",
		"PORT", "RX_FRAMES", "RX_BYTES", "TX_FRAMES", "TX_BYTES", "RUNT", "OVERSIZE",
		"GARBAGE", "VLAN", "QDROP", "TX_BIG", "TX_ERR", "CAPDROP", "LOST", "DUPED",
		"IMPQDROP", "ADMINDROP");
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		struct port *p = sw->ports[i];

		if (!p || p->conf.kind == PORT_STREAM_LISTEN)
			continue;
		fprintf(out, "%-16s %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
			" %6" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %9" PRIu64 "\n", p->conf.name,
			p->c.rx_frames, p->c.rx_bytes, p->c.tx_frames, p->c.tx_bytes,
			p->c.rx_runt, p->c.rx_oversize, p->c.rx_garbage, p->c.rx_vlan_drop,
			p->c.tx_queue_drop, p->c.tx_oversize, p->c.tx_error, p->c.capture_drop,
			p->c.impair_loss, p->c.impair_dup, p->c.impair_qdrop, p->c.admin_drop);
	}
	return 0;
}

struct fdb_show {
	struct vswitch *sw;
	FILE *out;
	json_t *entries;	/* NULL: text */
	bool ok;
};

static void fdb_entry(const struct fdb_entry *e, uint64_t age_ns, void *arg)
{
	struct fdb_show *s = arg;
	struct port *p = s->sw->ports[e->port];
	char mac[18];
	json_t *o;

	if (!p)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
		 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	if (!s->entries) {
		fprintf(s->out, "%4u  %s  %-16s %8.1f\n", e->vid, mac, p->conf.name,
			(double)age_ns / 1e9);
		return;
	}
	if (!s->ok)
		return;
	o = json_object();
	s->ok = set(o, "vlan", json_integer(e->vid)) && set(o, "mac", json_string(mac)) &&
		set(o, "port", json_string(p->conf.name)) &&
		set(o, "age", json_real((double)(age_ns / 1000000) / 1e3));
	s->ok = s->ok ? append(s->entries, o) : (json_decref(o), false);
}

int show_fdb(struct vswitch *sw, FILE *out, bool json)
{
	struct fdb_show s = { sw, out, NULL, true };
	json_t *root;

	if (!json) {
		fprintf(out, "VLAN  MAC                PORT             AGE(s)\n");
		fdb_each(&sw->fdb, sw->loop.now_ns, fdb_entry, &s);
		return 0;
	}
	root = json_object();
	s.ok = set(root, "ageing", json_integer((json_int_t)(sw->fdb.ageing_ns / 1000000000u))) &&
	       set(root, "entries", s.entries = json_array());
	if (s.ok)
		fdb_each(&sw->fdb, sw->loop.now_ns, fdb_entry, &s);
	if (!s.ok)
		return json_decref(root), -ENOMEM;
	return dump(root, out);
}

/* Call FN for every capture: the switch's first, then each port's. */
static bool each_capture(struct vswitch *sw,
			 bool (*fn)(const char *point, const struct capture_info *info, void *arg),
			 void *arg)
{
	struct capture_info info[CAPTURE_PER_POINT];
	unsigned int n, k;
	int i;

	for (i = -1; i < VSW_MAX_PORTS; i++) {
		const struct capture_point *pt = i < 0 ? &sw->ingress :
						 sw->ports[i] ? &sw->ports[i]->capture : NULL;

		n = pt ? capture_list(sw->cap, pt, info) : 0;
		for (k = 0; k < n; k++)
			if (!fn(i < 0 ? "--switch" : sw->ports[i]->conf.name, &info[k], arg))
				return false;
	}
	return true;
}

static bool capture_line(const char *point, const struct capture_info *info, void *arg)
{
	char rotate[64] = "-";

	if (info->rotate_size)
		snprintf(rotate, sizeof(rotate), "size=%" PRIu64 " count=%u", info->rotate_size,
			 info->rotate_count);
	fprintf(arg, "%-16s %-40s %s\n", point, info->file, rotate);
	return true;
}

static bool capture_object(const char *point, const struct capture_info *info, void *arg)
{
	json_t *o = json_object();

	if (set(o, "port", json_string(point)) && set(o, "file", text(info->file)) &&
	    set(o, "size", json_integer((json_int_t)info->rotate_size)) &&
	    set(o, "count", json_integer(info->rotate_count)))
		return append(arg, o);
	json_decref(o);
	return false;
}

int show_captures(struct vswitch *sw, FILE *out, bool json)
{
	json_t *root, *list;

	if (!json) {
		fprintf(out, "%-16s %-40s %s\n", "PORT", "FILE", "ROTATE");
		each_capture(sw, capture_line, out);
		return 0;
	}
	root = json_object();
	if (!set(root, "captures", list = json_array()) ||
	    !each_capture(sw, capture_object, list))
		return json_decref(root), -ENOMEM;
	return dump(root, out);
}
