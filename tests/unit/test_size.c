/*
 * test_size.c: sizes as people write them, and the mistakes they make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "size.h"

static void assert_size(const char *text, uint64_t want)
{
	uint64_t got = 12345;
	const char *err = size_parse(text, &got);

	if (err)
		fail_msg("\"%s\": %s", text, err);
	assert_int_equal(got, want);
}

static void assert_refused(const char *text, const char *reason)
{
	uint64_t got = 12345;
	const char *err = size_parse(text, &got);

	assert_non_null(err);
	assert_string_equal(err, reason);
	assert_int_equal(got, 12345); /* untouched */
}

static void plain_bytes(void **state)
{
	(void)state;
	assert_size("0", 0);
	assert_size("4096", 4096);
	assert_size("18446744073709551615", UINT64_MAX);
}

static void binary_units_either_case(void **state)
{
	(void)state;
	assert_size("64m", 64ULL << 20);
	assert_size("64M", 64ULL << 20);
	assert_size("1g", 1ULL << 30);
	assert_size("512k", 512ULL << 10);
	assert_size("2T", 2ULL << 40);
	assert_size("64MB", 64ULL << 20);
	assert_size("64MiB", 64ULL << 20);
	assert_size("1gib", 1ULL << 30);
}

static void garbage_refused(void **state)
{
	(void)state;
	assert_refused("", "empty size");
	assert_refused("m", "not a size (expected a number like 64m or 1g)");
	assert_refused("-1", "not a size (expected a number like 64m or 1g)");
	assert_refused(" 64m", "not a size (expected a number like 64m or 1g)");
	assert_refused("64x", "unknown unit (use k, m, g or t)");
	assert_refused("64mm", "unknown unit (use k, m, g or t)");
	assert_refused("64m ", "unknown unit (use k, m, g or t)");
	assert_refused("1e3", "unknown unit (use k, m, g or t)");
	assert_refused("1.5g", "unknown unit (use k, m, g or t)");
}

static void overflow_refused(void **state)
{
	(void)state;
	assert_refused("18446744073709551616", "too large");
	assert_refused("99999999999999999999999", "too large");
	assert_refused("16777216t", "too large"); /* 2^24 * 2^40 = 2^64 */
	assert_size("16777215t", 16777215ULL << 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_bytes),
		cmocka_unit_test(binary_units_either_case),
		cmocka_unit_test(garbage_refused),
		cmocka_unit_test(overflow_refused),
	};

	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
