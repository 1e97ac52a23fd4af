/*
 * test_tables.c: the switch's tables, without a switch: the forwarding
 * database (learning, moves, ageing, a full table, a port's flush), VLAN
 * lists (parsing, refusing, writing back) and the output queue's ring
 * (wrapping, spans).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <cmocka.h>

#include "vswitch.h"

#define SEC 1000000000ull

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

static void fdb_learns_and_moves(void **state)
{
	struct fdb fdb;

	(void)state;
	assert_int_equal(fdb_init(&fdb, 64, 300 * SEC), 0);
	assert_int_equal(fdb_lookup(&fdb, 1, mac_a, 0), -1);
	fdb_learn(&fdb, 1, mac_a, 3, 0);
	assert_int_equal(fdb_lookup(&fdb, 1, mac_a, 1 * SEC), 3);
	assert_int_equal(fdb_lookup(&fdb, 2, mac_a, 1 * SEC), -1);	/* per VLAN */
	fdb_learn(&fdb, 1, mac_a, 5, 2 * SEC);				/* it moved */
	assert_int_equal(fdb_lookup(&fdb, 1, mac_a, 2 * SEC), 5);
	assert_int_equal(fdb.used, 1);
}

static void fdb_ages(void **state)
{
	struct fdb fdb;

	(void)state;
	fdb_init(&fdb, 64, 300 * SEC);
	fdb_learn(&fdb, 1, mac_a, 3, 0);
	fdb_learn(&fdb, 1, mac_b, 4, 200 * SEC);
	assert_int_equal(fdb_lookup(&fdb, 1, mac_a, 300 * SEC), 3);
	assert_int_equal(fdb_lookup(&fdb, 1, mac_a, 301 * SEC), -1);	/* too old */
	fdb_age(&fdb, 501 * SEC);
	assert_int_equal(fdb.used, 0);
}

static void fdb_full_and_flushed(void **state)
{
	struct fdb fdb;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 0 };
	int i;

	(void)state;
	fdb_init(&fdb, 16, 300 * SEC);
	for (i = 0; i < 20; i++) {
		mac[5] = (uint8_t)i;
		fdb_learn(&fdb, 1, mac, i % 2, 0);
	}
	assert_int_equal(fdb.used, 16);
	assert_int_equal(fdb.full_drops, 4);
	fdb_flush_port(&fdb, 0);
	assert_int_equal(fdb.used, 8);
	mac[5] = 1;
	assert_int_equal(fdb_lookup(&fdb, 1, mac, 0), 1);
	mac[5] = 0;
	assert_int_equal(fdb_lookup(&fdb, 1, mac, 0), -1);
}

static void vlan_lists(void **state)
{
	struct vlan_conf c;
	char text[64];

	(void)state;
	assert_null(vlan_parse_trunk("10:20:100-103", &c));
	assert_true(vlan_port_carries(&c, 10));
	assert_true(vlan_port_carries(&c, 103));
	assert_false(vlan_port_carries(&c, 11));
	assert_false(vlan_port_carries(&c, 104));
	vlan_format(&c, text, sizeof(text));
	assert_string_equal(text, "trunk=10:20:100-103");
	assert_non_null(vlan_parse_trunk("0", &c));
	assert_non_null(vlan_parse_trunk("4095", &c));
	assert_non_null(vlan_parse_trunk("20-10", &c));
	assert_non_null(vlan_parse_trunk("10,20", &c));
	assert_non_null(vlan_parse_trunk("", &c));
	c.mode = VLAN_ACCESS;
	c.vid = 7;
	assert_true(vlan_port_carries(&c, 7));
	assert_false(vlan_port_carries(&c, 1));
	vlan_format(&c, text, sizeof(text));
	assert_string_equal(text, "7");
}

static void queue_wraps(void **state)
{
	struct queue q;
	struct iovec iov[2];
	uint8_t out[16];

	(void)state;
	assert_int_equal(queue_init(&q, 16), 0);
	queue_put(&q, "0123456789", 10);
	queue_drop(&q, 8);
	queue_put(&q, "abcdefghij", 10);	/* wraps */
	assert_int_equal(queue_space(&q), 4);
	assert_int_equal(queue_spans(&q, iov), 2);
	assert_int_equal(iov[0].iov_len + iov[1].iov_len, 12);
	queue_copy_out(&q, out, 12);
	assert_memory_equal(out, "89abcdefghij", 12);
	queue_drop(&q, 12);
	assert_true(queue_empty(&q));
	queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fdb_learns_and_moves),
		cmocka_unit_test(fdb_ages),
		cmocka_unit_test(fdb_full_and_flushed),
		cmocka_unit_test(vlan_lists),
		cmocka_unit_test(queue_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
