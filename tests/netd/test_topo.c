/*
 * test_topo.c: what topo.h promises lguest-net and lguest-netd beyond the
 * file format (tests/netd/topo.test has the format): addresses parsed and
 * compared, lookups by name and by link end, topo_parse() on text that is
 * no file, and errors printed as "FILE:LINE:COL: MESSAGE".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "topo.h"

static void addr_ok(const char *text, int family, unsigned int prefix, const char *normal)
{
	struct topo_addr a;

	if (topo_addr_parse(text, &a))
		fail_msg("\"%s\" refused", text);
	assert_int_equal(a.family, family);
	assert_int_equal(a.prefix, prefix);
	assert_string_equal(a.text, normal);
}

static void addresses_normalized(void **state)
{
	(void)state;
	addr_ok("10.1.0.1/24", AF_INET, 24, "10.1.0.1/24");
	addr_ok("10.1.0.1", AF_INET, 32, "10.1.0.1/32");
	addr_ok("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
	addr_ok("fd00:0:0::1/64", AF_INET6, 64, "fd00::1/64");
	addr_ok("FD00::1", AF_INET6, 128, "fd00::1/128");
}

static void addresses_refused(void **state)
{
	static const char *const bad[] = {
		"", "/24", "10.1.0.1/", "10.1.0.1/33", "10.1.0.1/024", "10.1.0.1/+4",
		"10.1.0.1/2x", "10.1/16", "010.1.0.1", "0x0a.1.0.1", "10.1.0.1 /24",
		"fd00::1/129", "fd00::1%eth0", "host", "10.1.0.1/24/8",
	};
	struct topo_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!topo_addr_parse(bad[i], &a))
			fail_msg("\"%s\" taken as %s", bad[i], a.text);
}

static bool overlap(const char *x, const char *y)
{
	struct topo_addr a, b;

	assert_int_equal(topo_addr_parse(x, &a), 0);
	assert_int_equal(topo_addr_parse(y, &b), 0);
	assert_int_equal(topo_addr_overlap(&a, &b), topo_addr_overlap(&b, &a));
	return topo_addr_overlap(&a, &b);
}

static void subnets_overlap(void **state)
{
	(void)state;
	assert_true(overlap("10.1.0.1/24", "10.1.0.200/24"));
	assert_true(overlap("10.0.0.0/8", "10.1.2.3/32"));
	assert_true(overlap("0.0.0.0/0", "192.168.1.1/24"));
	assert_true(overlap("10.1.0.1/23", "10.1.1.1/24"));
	assert_false(overlap("10.1.0.1/24", "10.2.0.1/24"));
	assert_false(overlap("10.1.0.1/25", "10.1.0.129/25"));
	assert_false(overlap("10.1.0.1/24", "fd00::1/64"));
	assert_true(overlap("fd00::1/64", "fd00::ffff/120"));
	assert_false(overlap("fd00:1::1/64", "fd00:2::1/64"));
}

static const char lab[] =
	"lab: api\n"
	"nodes:\n"
	"  r1: {interfaces: {eth0: 10.1.0.1/24}}\n"
	"  h[1..2]: {interfaces: {eth0: \"10.1.0.{i+10}/24\"}}\n"
	"switches: {lan1: {}, lan2: {}}\n"
	"links:\n"
	"  - [r1:eth0, lan1]\n"
	"  - [\"h[1..2]:eth0\", lan1]\n"
	"  - {ends: [lan1, lan2], name: trunk}\n";

static int setup_kernel(void **state)
{
	(void)state;
	return setenv("LGUEST_NET_KERNEL", "/proc/self/exe", 1);
}

static void lookups(void **state)
{
	struct topo_errors errs;
	struct topo *t = topo_parse("api.topo", lab, strlen(lab), &errs);
	struct topo_link *l;

	(void)state;
	if (!t) {
		topo_errors_print(&errs, stderr);
		fail_msg("the lab does not parse");
	}
	assert_int_equal(t->nnodes, 3);
	assert_non_null(topo_node(t, "h2"));
	assert_null(topo_node(t, "h3"));
	assert_null(topo_node(t, "lan1"));
	assert_non_null(topo_switch(t, "lan2"));
	assert_null(topo_switch(t, "r1"));
	/* By name, and by either node end. */
	l = topo_link(t, "h2:eth0");
	assert_non_null(l);
	assert_ptr_equal(l, topo_node(t, "h2")->ifaces[0].link);
	assert_ptr_equal(l->ends[1].sw, topo_switch(t, "lan1"));
	assert_string_equal(topo_link(t, "trunk")->ends[1].sw->name, "lan2");
	assert_null(topo_link(t, "h2:eth1"));
	assert_null(topo_link(t, "h2:"));
	assert_null(topo_link(t, ":eth0"));
	assert_string_equal(topo_node(t, "h2")->ifaces[0].addrs[0].text, "10.1.0.12/24");
	assert_string_equal(t->file + strlen(t->file) - strlen("/api.topo"), "/api.topo");
	topo_free(t);
	topo_free(NULL);
}

static void errors_printed(void **state)
{
	static const char bad[] = "lab: api\nnodes: {r1: {memory: lots}}\nextra: 1\n";
	struct topo_errors errs;
	char *out = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	assert_null(topo_parse("bad.topo", bad, strlen(bad), &errs));
	assert_int_equal(errs.n, 2);
	f = open_memstream(&out, &size);
	topo_errors_print(&errs, f);
	fclose(f);
	assert_string_equal(out,
		"bad.topo:2:22: nodes.r1.memory: expected a size from 32m to 3g, like 128m, "
		"got 'lots'\n"
		"bad.topo:3:1: unknown key 'extra' in the topology (known: lab, dir, defaults, "
		"groups, nodes, switches, links, tests)\n");
	free(out);
	/* Beyond TOPO_MAX_ERRORS, a count. */
	errs.more = 3;
	f = open_memstream(&out, &size);
	topo_errors_print(&errs, f);
	fclose(f);
	assert_non_null(strstr(out, "\n... and 3 more\n"));
	free(out);
}

static void load_refuses_what_is_no_file(void **state)
{
	struct topo_errors errs;

	(void)state;
	assert_null(topo_load("/nonexistent/lab.topo", &errs));
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].line, 0);
	assert_string_equal(errs.e[0].msg, "cannot open: No such file or directory");
	assert_null(topo_load("/", &errs));
	assert_string_equal(errs.e[0].msg, "not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses_normalized),
		cmocka_unit_test(addresses_refused),
		cmocka_unit_test(subnets_overlap),
		cmocka_unit_test_setup(lookups, setup_kernel),
		cmocka_unit_test_setup(errors_printed, setup_kernel),
		cmocka_unit_test(load_refuses_what_is_no_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
