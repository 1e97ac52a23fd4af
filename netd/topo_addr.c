/*
 * topo_addr.c: IPv4 and IPv6 addresses with their prefix, "10.1.0.1/24".
 *
 * inet_pton() reads the address (dotted quad only: no octal, no hex, no
 * shorthand like 10.1), the prefix is decimal (at most 32 or 128), and a
 * bare address is a host: /32 or /128.  The text kept is inet_ntop()'s, so
 * "fd00:0::1/64" and "fd00::1/64" are one address.
 *
 * An interface's address must be one a host can have: not 0.0.0.0 or ::,
 * not multicast, and (IPv4, /30 and wider) not its subnet's own address or
 * broadcast address: each is a classic slip that Linux would take silently.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "topo_parse.h"

static unsigned int addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

int topo_addr_parse(const char *text, struct topo_addr *a)
{
	char host[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int prefix = 0;
	const char *q;

	memset(a, 0, sizeof(*a));
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return -1;
	a->prefix = addr_bits(a->family);
	if (slash) {
		for (q = slash + 1; *q >= '0' && *q <= '9' && q - slash <= 3; q++)
			prefix = prefix * 10 + (unsigned int)(*q - '0');
		if (q == slash + 1 || *q || prefix > a->prefix || (q - slash > 2 && slash[1] == '0'))
			goto bad;
		a->prefix = prefix;
	}
	inet_ntop(a->family, a->bytes, out, sizeof(out));
	snprintf(a->text, sizeof(a->text), "%s/%u", out, a->prefix);
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return -1;
}

/* Do A and B agree on their first BITS bits? */
static bool same_bits(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	return !memcmp(a, b, whole) && (!rest || !((a[whole] ^ b[whole]) & mask));
}

bool topo_addr_overlap(const struct topo_addr *a, const struct topo_addr *b)
{
	if (!a->family || a->family != b->family)
		return false;
	return same_bits(a->bytes, b->bytes, a->prefix < b->prefix ? a->prefix : b->prefix);
}

bool ta_contains(const struct topo_addr *net, const struct topo_addr *a)
{
	return net->family && net->family == a->family &&
	       same_bits(net->bytes, a->bytes, net->prefix);
}

bool ta_host_bits(const struct topo_addr *a)
{
	struct topo_addr zero = *a;
	unsigned int i, bits = addr_bits(a->family);

	for (i = a->prefix; i < bits; i++)
		zero.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return memcmp(zero.bytes, a->bytes, sizeof(a->bytes)) != 0;
}

const char *ta_host(const struct topo_addr *a, char buf[64])
{
	if (!a->family)
		return strcpy(buf, "-");
	inet_ntop(a->family, a->bytes, buf, 64);
	return buf;
}

/* Why A cannot be a host's address, or NULL. */
static const char *not_a_host(const struct topo_addr *a)
{
	static const uint8_t zero[16];
	unsigned int bits = addr_bits(a->family), i;
	bool all_ones = true;

	if (!memcmp(a->bytes, zero, bits / 8))
		return "expected a host's address (not 0.0.0.0 or ::)";
	if ((a->family == AF_INET && (a->bytes[0] & 0xf0) == 0xe0) ||
	    (a->family == AF_INET6 && a->bytes[0] == 0xff))
		return "expected a host's address, not a multicast one";
	if (a->family != AF_INET || a->prefix > 30)
		return NULL;
	if (!ta_host_bits(a))
		return "expected a host's address, not its subnet's own (the host part is 0)";
	for (i = a->prefix; i < bits; i++)
		all_ones &= (a->bytes[i / 8] >> (7 - i % 8)) & 1;
	return all_ones ? "expected a host's address, not its subnet's broadcast" : NULL;
}

bool ta_read(struct tp *p, tnode *n, struct topo_addr *a, bool bare_only)
{
	const char *expect = bare_only ? "expected an address like 10.1.0.1 or fd00::1"
				       : "expected an address like 10.1.0.1/24 or fd00::1/64";
	const char *s = ty_str(p, n, expect + strlen("expected "));

	if (!s)
		return false;
	if (topo_addr_parse(s, a) || (bare_only && strchr(s, '/')))
		return tv_check(p, n, expect, s);
	return bare_only || tv_check(p, n, not_a_host(a), s);
}

struct addr_list {
	struct topo_addr *addrs;
	unsigned int n, max;
};

static void read_one(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct addr_list *l = obj;
	struct topo_addr a;
	unsigned int j;
	char q[64];

	(void)i;
	if (!ta_read(p, item, &a, false))
		return;
	for (j = 0; j < l->n; j++) {
		if (!memcmp(l->addrs[j].bytes, a.bytes, sizeof(a.bytes)) &&
		    l->addrs[j].family == a.family) {
			tp_error(p, item, "address %s given twice", tp_quote(a.text, q));
			return;
		}
	}
	if (l->n < l->max)
		l->addrs[l->n++] = a;
}

#define TP_MAX_ADDRS 64

bool ta_read_list(struct tp *p, tnode *n, struct topo_addr **addrs, unsigned int *naddrs)
{
	struct addr_list l = { .max = TP_MAX_ADDRS };

	if (ty_len(n) > TP_MAX_ADDRS) {
		tp_error(p, n, "more than %u addresses", TP_MAX_ADDRS);
		return false;
	}
	l.addrs = tp_alloc(p, sizeof(*l.addrs) * (ty_seq(n) ? ty_len(n) + 1 : 1));
	ty_each_item(p, n, true, "addresses", read_one, &l);
	*addrs = l.addrs;
	*naddrs = l.n;
	return true;
}
