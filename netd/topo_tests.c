/*
 * topo_tests.c: what the lab must do, as "lguest-net test" will check it.
 *
 *   tests:
 *     - ping: {from: h1, to: 10.2.0.10}                 expect: ok by default
 *     - ping: {from: h1, to: h2:eth0, expect: fail}
 *     - route: {from: h1, to: 10.9.0.1, via: 10.1.0.1, dev: eth0}
 *     - source: {from: h1, to: 192.168.50.1, seen: 192.168.50.2}
 *     - connect: {from: h1, to: h2, port: 22}
 *     - capture: {on: lan1, filter: icmp, count: 2}
 *     - exec: {on: r1, run: "sysctl -n net.ipv4.ip_forward", output: "^1$"}
 *
 * Each test is one KIND: {PARAMETERS}, each kind with its own table of
 * parameters (some required), all of them read before any is used (a
 * route's dev: is one of its from: node's interfaces).  "to" (and "seen")
 * may be an address, kept as written, or a node (its first address) or
 * NODE:IFACE (that interface's first address): the test then targets what
 * the topology says that node has.  A capture test needs its switch or
 * link to capture.  Tests without a name: get one that says what they do
 * ("ping h1 -> 10.2.0.10").
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "topo_parse.h"

#define DEFAULT_TIMEOUT_NS (10ull * 1000000000)
#define DEFAULT_PING_COUNT 3
#define DEFAULT_SOURCE_PORT 5000
#define TEXT_MAX 1024
#define REGEX_MAX 256
#define REGEX_REPEAT_MAX 1000

struct test_read {
	tnode *from, *to, *count, *expect, *timeout, *name, *via, *dev, *seen, *port;
	tnode *on, *filter, *run, *output;
};

TP_KEEP(struct test_read, from)
TP_KEEP(struct test_read, to)
TP_KEEP(struct test_read, count)
TP_KEEP(struct test_read, expect)
TP_KEEP(struct test_read, timeout)
TP_KEEP(struct test_read, name)
TP_KEEP(struct test_read, via)
TP_KEEP(struct test_read, dev)
TP_KEEP(struct test_read, seen)
TP_KEEP(struct test_read, port)
TP_KEEP(struct test_read, on)
TP_KEEP(struct test_read, filter)
TP_KEEP(struct test_read, run)
TP_KEEP(struct test_read, output)

#define K_FROM { "from", keep_from, 0, true }
#define K_TO { "to", keep_to, 0, true }
#define K_COMMON { "timeout", keep_timeout, 0, false }, { "name", keep_name, 0, false }
#define K_EXPECT { "expect", keep_expect, 0, false }
#define K_COUNT { "count", keep_count, 0, false }

static const struct tp_key ping_keys[] = { K_FROM, K_TO, K_COUNT, K_EXPECT, K_COMMON };
static const struct tp_key route_keys[] = {
	K_FROM, K_TO, { "via", keep_via, 0, false }, { "dev", keep_dev, 0, false }, K_COMMON
};
static const struct tp_key source_keys[] = {
	K_FROM, K_TO, { "seen", keep_seen, 0, true }, { "port", keep_port, 0, false }, K_COMMON
};
static const struct tp_key connect_keys[] = {
	K_FROM, K_TO, { "port", keep_port, 0, true }, K_EXPECT, K_COMMON
};
static const struct tp_key capture_keys[] = {
	{ "on", keep_on, 0, true }, { "filter", keep_filter, 0, true }, K_COUNT, K_EXPECT,
	K_COMMON
};
static const struct tp_key exec_keys[] = {
	{ "on", keep_on, 0, true }, { "run", keep_run, 0, true },
	{ "output", keep_output, 0, false }, K_EXPECT, K_COMMON
};

/* ---- the parameters ---- */

static struct topo_node *read_node(struct tp *p, tnode *n)
{
	const char *s = ty_str(p, n, "a node's name");
	struct topo_node *node = s ? topo_node(p->t, s) : NULL;
	char q[64];

	if (s && !node)
		tp_error(p, n, "unknown node %s", tp_quote(s, q));
	return node;
}

/* NODE or NODE:IFACE: its first address, as a host (/32, /128). */
static bool node_address(struct tp *p, tnode *n, const char *s, struct topo_addr *a)
{
	const char *colon = strchr(s, ':');
	char name[TOPO_NAME_MAX + 1], q[64];
	struct topo_node *node;
	unsigned int i;

	if ((colon ? (size_t)(colon - s) : strlen(s)) > TOPO_NAME_MAX)
		return tv_check(p, n, "expected an address, a node or NODE:IFACE", s);
	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	node = topo_node(p->t, name);
	if (!node && !tv_name(name, NULL)) {
		tp_error(p, n, "unknown node %s (and not an address)", tp_quote(name, q));
		return false;
	}
	if (!node)
		return tv_check(p, n, "expected an address, a node or NODE:IFACE", s);
	for (i = 0; i < node->nifaces; i++) {
		const struct topo_iface *f = &node->ifaces[i];

		if ((colon && strcmp(f->name, colon + 1)) || !f->naddrs)
			continue;
		*a = f->addrs[0];
		a->prefix = a->family == AF_INET ? 32 : 128;
		topo_addr_parse(ta_host(a, q), a);
		return true;
	}
	tp_error(p, n, "%s has no address to test", tp_quote(s, q));
	return false;
}

/* An address as written, or one the topology gives a node. */
static bool read_target(struct tp *p, tnode *n, char **text, struct topo_addr *a)
{
	const char *s = ty_str(p, n, "an address, a node or NODE:IFACE");
	char host[64];

	if (!s)
		return false;
	if (!topo_addr_parse(s, a)) {
		*text = tp_strdup(p, s);
		return true;
	}
	if (!node_address(p, n, s, a))
		return false;
	*text = tp_strdup(p, ta_host(a, host));
	return true;
}

static void read_expect(struct tp *p, tnode *n, bool *ok)
{
	const char *s = n ? ty_str(p, n, "ok or fail") : "ok";

	*ok = true;
	if (s && !strcmp(s, "fail"))
		*ok = false;
	else if (s && strcmp(s, "ok"))
		tv_check(p, n, "expected ok or fail", s);
}

/* Regular expressions glibc would take ages or gigabytes to compile are refused:
 * a{1000}{1000} is a million copies of a. */
static const char *regex_cost(const char *s)
{
	unsigned long product = 1, v;
	const char *q;

	if (strlen(s) > REGEX_MAX)
		return "expected a regular expression of at most 256 characters";
	for (q = strchr(s, '{'); q; q = strchr(q + 1, '{')) {
		for (v = 0, q++; *q >= '0' && *q <= '9' && v <= REGEX_REPEAT_MAX; q++)
			v = v * 10 + (unsigned long)(*q - '0');
		if (*q == ',')
			for (v = 0, q++; *q >= '0' && *q <= '9' && v <= REGEX_REPEAT_MAX; q++)
				v = v * 10 + (unsigned long)(*q - '0');
		product *= v ? v : 1;
		if (product > REGEX_REPEAT_MAX)
			return "expected a regular expression whose {N} counts multiply to at "
			       "most 1000";
		if (!*q)
			break;
	}
	return NULL;
}

static char *read_regex(struct tp *p, tnode *n)
{
	const char *s = ty_str(p, n, "an extended regular expression"), *why;
	char msg[128];
	regex_t re;
	int err;

	if (!s)
		return NULL;
	why = regex_cost(s);
	if (why)
		return tv_check(p, n, why, s), NULL;
	err = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (err) {
		regerror(err, &re, msg, sizeof(msg));
		tp_error(p, n, "not an extended regular expression: %s", msg);
		return NULL;
	}
	regfree(&re);
	return tp_strdup(p, s);
}

static void read_capture_on(struct tp *p, tnode *n, struct topo_test *t)
{
	const char *s = ty_str(p, n, "a switch or a link");
	const struct topo_capture *c;
	char q[64];

	if (!s)
		return;
	t->capture_switch = topo_switch(p->t, s);
	t->capture_link = t->capture_switch ? NULL : topo_link(p->t, s);
	if (!t->capture_switch && !t->capture_link) {
		tp_error(p, n, "unknown switch or link %s", tp_quote(s, q));
		return;
	}
	c = t->capture_switch ? &t->capture_switch->capture : &t->capture_link->capture;
	if (!c->on)
		tp_error(p, n, "%s %s does not capture: give it capture: true",
			 t->capture_switch ? "switch" : "link", s);
}

static void read_route_via(struct tp *p, tnode *n, struct topo_test *t)
{
	if (ty_scalar(n) && !strcmp((const char *)n->data.scalar.value, "direct"))
		return;
	ta_read(p, n, &t->via, true);
}

static void read_route_dev(struct tp *p, tnode *n, struct topo_test *t)
{
	const char *s = tv_read(p, n, tv_ifname, NULL);

	if (!s)
		return;
	if (t->from && !tp_iface_get(p, t->from, s, false, n))
		tp_error(p, n, "node %s has no interface %s", t->from->name, s);
	strcpy(t->dev, s);
}

/* ---- the kinds ---- */

struct kind {
	const char *name;
	enum topo_test_kind kind;
	const struct tp_key *keys;
	size_t nkeys;
};

static const struct kind kinds[] = {
	[TOPO_TEST_PING] = { "ping", TOPO_TEST_PING, TP_KEYS(ping_keys) },
	[TOPO_TEST_ROUTE] = { "route", TOPO_TEST_ROUTE, TP_KEYS(route_keys) },
	[TOPO_TEST_SOURCE] = { "source", TOPO_TEST_SOURCE, TP_KEYS(source_keys) },
	[TOPO_TEST_CONNECT] = { "connect", TOPO_TEST_CONNECT, TP_KEYS(connect_keys) },
	[TOPO_TEST_CAPTURE] = { "capture", TOPO_TEST_CAPTURE, TP_KEYS(capture_keys) },
	[TOPO_TEST_EXEC] = { "exec", TOPO_TEST_EXEC, TP_KEYS(exec_keys) },
};

/* What a test without a name: does, in a line; TO is "to:" as written. */
static char *describe(struct tp *p, const struct topo_test *t, const char *to)
{
	const char *who = t->from ? t->from->name : "?", *fail = t->expect_ok ? "" : " (expect fail)";
	char via[64];
	char *port = tp_printf(p, strchr(t->to ? t->to : "", ':') ? "[%s]:%u" : "%s:%u",
			       t->to ? t->to : "?", t->port);

	if (t->to && to && strcmp(t->to, to)) {
		port = tp_printf(p, "%s (%s)", to, port);	/* a node: its address */
		to = tp_printf(p, "%s (%s)", to, t->to);
	} else {
		to = t->to;
	}
	switch (t->kind) {
	case TOPO_TEST_PING:
		return tp_printf(p, "ping %s -> %s%s", who, to, fail);
	case TOPO_TEST_ROUTE:
		return tp_printf(p, "route %s -> %s%s%s%s%s", who, to,
				 t->via.family || !t->dev[0] ? " via " : "",
				 t->via.family ? ta_host(&t->via, via) : t->dev[0] ? "" : "direct",
				 t->dev[0] ? " dev " : "", t->dev);
	case TOPO_TEST_SOURCE:
		return tp_printf(p, "source %s -> %s seen as %s", who, port, ta_host(&t->seen, via));
	case TOPO_TEST_CONNECT:
		return tp_printf(p, "connect %s -> %s%s", who, port, fail);
	case TOPO_TEST_CAPTURE:
		return tp_printf(p, "capture %s: %.60s%s", t->capture_switch ? t->capture_switch->name
						      : t->capture_link ? t->capture_link->name : "?",
				 t->filter ? t->filter : "", fail);
	case TOPO_TEST_EXEC:
		return tp_printf(p, "exec %s: %.*s%s%s", who,
				 t->run ? (int)strcspn(t->run, "\n") : 0, t->run ? t->run : "",
				 t->run && t->run[strcspn(t->run, "\n")] ? " ..." : "", fail);
	}
	return tp_strdup(p, "test");
}

static void build(struct tp *p, tnode *v, const struct test_read *r, struct topo_test *t)
{
	struct topo_addr seen;
	char *seen_text;
	const char *s;

	t->timeout_ns = DEFAULT_TIMEOUT_NS;
	t->count = t->kind == TOPO_TEST_PING ? DEFAULT_PING_COUNT : 1;
	t->port = t->kind == TOPO_TEST_SOURCE ? DEFAULT_SOURCE_PORT : 0;
	if (r->from || r->on)
		t->from = t->kind == TOPO_TEST_CAPTURE ? NULL : read_node(p, r->from ? r->from : r->on);
	if (r->to)
		read_target(p, r->to, &t->to, &t->to_addr);
	if (r->count)
		tv_read(p, r->count, tv_count, &t->count);
	read_expect(p, r->expect, &t->expect_ok);
	s = r->timeout ? tv_read(p, r->timeout, tv_time, &t->timeout_ns) : NULL;
	if (s && !t->timeout_ns)
		tv_check(p, r->timeout, "expected a time above 0", s);
	if (r->via)
		read_route_via(p, r->via, t);
	if (r->dev)
		read_route_dev(p, r->dev, t);
	if (r->seen && read_target(p, r->seen, &seen_text, &seen))
		t->seen = seen;
	if (r->port)
		tv_read(p, r->port, tv_port, &t->port);
	if (r->on && t->kind == TOPO_TEST_CAPTURE)
		read_capture_on(p, r->on, t);
	if (r->filter)
		t->filter = tv_read_text(p, r->filter, TEXT_MAX);
	if (r->run)
		t->run = tv_read_text(p, r->run, TP_MAX_STRING);
	if (r->output)
		t->output = read_regex(p, r->output);
	if (t->kind == TOPO_TEST_ROUTE && !r->via && !r->dev)
		tp_error(p, v, "a route test needs via: (a gateway, or direct) or dev:");
	t->name = r->name ? tv_read_text(p, r->name, TEXT_MAX)
			  : describe(p, t, r->to && ty_scalar(r->to) ? ty_str(p, r->to, "") : NULL);
}

static void read_test(struct tp *p, tnode *v, struct topo_test *t, enum topo_test_kind kind)
{
	struct test_read r = { 0 };

	t->kind = kind;
	ty_read_map(p, v, kinds[kind].keys, kinds[kind].nkeys, 0, kinds[kind].name, &r);
	build(p, v, &r, t);
}

#define KIND(fn, kind) \
	static void fn(struct tp *p, tnode *v, void *obj) { read_test(p, v, obj, kind); }
KIND(read_ping, TOPO_TEST_PING)
KIND(read_route, TOPO_TEST_ROUTE)
KIND(read_source, TOPO_TEST_SOURCE)
KIND(read_connect, TOPO_TEST_CONNECT)
KIND(read_capture, TOPO_TEST_CAPTURE)
KIND(read_exec, TOPO_TEST_EXEC)

static const struct tp_key kind_keys[] = {
	{ "ping", read_ping, 0, false },
	{ "route", read_route, 0, false },
	{ "source", read_source, 0, false },
	{ "connect", read_connect, 0, false },
	{ "capture", read_capture, 0, false },
	{ "exec", read_exec, 0, false },
};

static void read_test_item(struct tp *p, unsigned int i, tnode *item, void *obj)
{
	struct topo_test *t = &p->t->tests[p->t->ntests];

	(void)obj;
	tp_path_set(p, "test %u", i + 1);
	if (ty_len(item) != 1 || !ty_map(item)) {
		tp_error(p, item, "expected a test, KIND: {...} (ping, route, source, connect, "
			 "capture or exec), got %s", ty_map(item) ? "a mapping of another size"
								  : ty_kind(item));
		return;
	}
	memset(t, 0, sizeof(*t));
	t->pos = ty_pos(item);
	if (ty_read_map(p, item, TP_KEYS(kind_keys), 0, "a test", t))
		p->t->ntests++;
}

void tp_read_tests(struct tp *p)
{
	p->t->tests = tp_alloc(p, TOPO_MAX_TESTS * sizeof(*p->t->tests));
	tp_path_set(p, "tests");
	if (ty_len(p->top.tests) > TOPO_MAX_TESTS)
		tp_error(p, p->top.tests, "more than %u tests", TOPO_MAX_TESTS);
	else
		ty_each_item(p, p->top.tests, false, "tests", read_test_item, NULL);
	tp_path_set(p, "%s", "");
}
