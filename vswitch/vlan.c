/*
 * vlan.c: 802.1Q, one switch cut into several.
 *
 * Every frame inside the switch belongs to one VLAN (a number, 1 to 4094),
 * and goes only to ports that carry that VLAN.  An access port carries one
 * VLAN and its wire knows nothing of them: frames arrive and leave
 * untagged, and a tagged frame arriving there is dropped.  A trunk port
 * carries a list of VLANs, each frame on its wire tagged with its number
 * (ethertype 0x8100, then 12 bits of VLAN id); untagged frames, or tags for
 * VLANs not in its list, are dropped there.  A port with no VLAN option is
 * an access port of VLAN 1, so a switch nobody configured is one plain
 * segment.  Pushing and popping the tag is forward.c's business; this file
 * knows which port carries what.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch.h"

static const char *parse_vid(const char *s, char **end, uint16_t *vid)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return "a VLAN id must be a number from 1 to 4094";
	v = strtoul(s, end, 10);
	if (v < 1 || v > 4094)
		return "a VLAN id must be a number from 1 to 4094";
	*vid = (uint16_t)v;
	return NULL;
}

const char *vlan_parse_trunk(const char *text, struct vlan_conf *conf)
{
	const char *s = text, *why;
	char *end;
	uint16_t lo, hi, v;

	memset(conf->allowed, 0, sizeof(conf->allowed));
	conf->mode = VLAN_TRUNK;
	for (;;) {
		why = parse_vid(s, &end, &lo);
		if (why)
			return why;
		hi = lo;
		if (*end == '-') {
			why = parse_vid(end + 1, &end, &hi);
			if (why)
				return why;
			if (hi < lo)
				return "a VLAN range must go up (10-20, not 20-10)";
		}
		for (v = lo; v <= hi; v++)
			conf->allowed[v / 8] |= 1 << (v % 8);
		if (*end == '\0')
			return NULL;
		if (*end != ':')
			return "trunk VLANs are written 10:20:100-200";
		s = end + 1;
	}
}

bool vlan_port_carries(const struct vlan_conf *conf, uint16_t vid)
{
	if (conf->mode == VLAN_ACCESS)
		return conf->vid == vid;
	return conf->allowed[vid / 8] & (1 << (vid % 8));
}

void vlan_format(const struct vlan_conf *conf, char *buf, size_t size)
{
	size_t n;
	unsigned int v, lo;

	if (conf->mode == VLAN_ACCESS) {
		snprintf(buf, size, "%u", conf->vid);
		return;
	}
	n = (size_t)snprintf(buf, size, "trunk=");
	for (v = 1; v < 4095 && n < size; v++) {
		if (!vlan_port_carries(conf, v))
			continue;
		lo = v;
		while (v + 1 < 4095 && vlan_port_carries(conf, v + 1))
			v++;
		if (lo == v)
			n += (size_t)snprintf(buf + n, size - n, "%s%u", buf[n - 1] == '=' ? "" : ":", v);
		else
			n += (size_t)snprintf(buf + n, size - n, "%s%u-%u",
					      buf[n - 1] == '=' ? "" : ":", lo, v);
	}
}
