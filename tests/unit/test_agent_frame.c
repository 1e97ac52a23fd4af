/*
 * test_agent_frame.c: the guest agent's frames, whole, in pieces and broken
 * (lib/agent_frame.h): headers both ways, the reader fed a byte at a time
 * and refusing what it cannot follow, the queue, and EXEC payloads that
 * round-trip or are refused for each way a host could get them wrong.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_frame.h"

static void header_round_trip(void **state)
{
	uint8_t h[LGUEST_AGENT_HEADER_SIZE];
	struct agent_frame f;

	(void)state;
	agent_header_encode(h, LGUEST_AGENT_STDOUT, 0x01020304, 65536);
	assert_memory_equal(h, "LA\x01\x10\x04\x03\x02\x01\x00\x00\x01\x00", 12);
	assert_null(agent_header_decode(h, &f));
	assert_int_equal(f.type, LGUEST_AGENT_STDOUT);
	assert_int_equal(f.session, 0x01020304);
	assert_int_equal(f.length, 65536);
}

static void header_refused(void **state)
{
	uint8_t h[LGUEST_AGENT_HEADER_SIZE];
	struct agent_frame f;

	(void)state;
	agent_header_encode(h, LGUEST_AGENT_EXEC, 1, 65537);
	assert_string_equal(agent_header_decode(h, &f), "payload longer than 64 KiB");
	agent_header_encode(h, LGUEST_AGENT_EXEC, 1, 0);
	h[2] = 2;
	assert_string_equal(agent_header_decode(h, &f), "protocol version not 1");
	h[0] = 'X';
	assert_string_equal(agent_header_decode(h, &f), "bad magic: not an agent frame");
}

/* Frames written into a pipe come out whole, even a byte at a time. */
static void reader_in_pieces(void **state)
{
	struct agent_reader r;
	struct agent_queue q;
	struct agent_frame f;
	const char *why;
	int fds[2], frames = 0;
	size_t len;
	const uint8_t *p;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(agent_reader_init(&r), 0);
	agent_queue_init(&q);
	assert_int_equal(agent_queue_frame(&q, LGUEST_AGENT_HELLO, 0, NULL, 0), 0);
	assert_int_equal(agent_queue_frame(&q, LGUEST_AGENT_STDIN, 7, "hello", 5), 0);
	p = agent_queue_peek(&q, &len);
	assert_int_equal(len, 12 + 17);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(write(fds[1], p + i, 1), 1);
		assert_int_equal(agent_reader_fill(&r, fds[0]), 1);
		while (agent_reader_next(&r, &f, &why) == 1) {
			frames++;
			if (frames == 1) {
				assert_int_equal(f.type, LGUEST_AGENT_HELLO);
				assert_int_equal(f.length, 0);
				assert_int_equal(i, 11);
			} else {
				assert_int_equal(f.type, LGUEST_AGENT_STDIN);
				assert_int_equal(f.session, 7);
				assert_memory_equal(f.payload, "hello", 5);
				assert_int_equal(i, len - 1);
			}
		}
	}
	assert_int_equal(frames, 2);
	agent_queue_drop(&q, len);
	assert_int_equal(q.len, 0);

	/* A bad header stops the stream. */
	assert_int_equal(write(fds[1], "garbage, not a frame", 20), 20);
	assert_int_equal(agent_reader_fill(&r, fds[0]), 20);
	assert_int_equal(agent_reader_next(&r, &f, &why), -1);
	assert_string_equal(why, "bad magic: not an agent frame");

	close(fds[0]);
	close(fds[1]);
	agent_reader_free(&r);
	agent_queue_free(&q);
}

/*
 * A frame of the largest payload fits the reader, after another was read
 * from the same buffer: the reader makes room for it (and the frame is
 * larger than a pipe: it comes in pieces).
 */
static void reader_largest_frame(void **state)
{
	static uint8_t payload[LGUEST_AGENT_MAX_PAYLOAD];
	struct agent_reader r;
	struct agent_queue q;
	struct agent_frame f;
	const char *why;
	int fds[2], got = 0;

	(void)state;
	memset(payload, 0x5a, sizeof(payload));
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	assert_int_equal(agent_reader_init(&r), 0);
	agent_queue_init(&q);
	assert_int_equal(agent_queue_frame(&q, LGUEST_AGENT_STDOUT, 1, "x", 1), 0);
	assert_int_equal(agent_queue_frame(&q, LGUEST_AGENT_STDOUT, 2, payload, sizeof(payload)), 0);
	while (got < 2) {
		assert_true(agent_queue_flush(&q, fds[1]) >= 0);
		assert_true(agent_reader_fill(&r, fds[0]) > 0);
		while (agent_reader_next(&r, &f, &why) == 1) {
			got++;
			assert_int_equal(f.session, got);
			assert_int_equal(f.length, got == 1 ? 1 : sizeof(payload));
		}
	}
	close(fds[0]);
	close(fds[1]);
	agent_reader_free(&r);
	agent_queue_free(&q);
}

static void exec_round_trip(void **state)
{
	const char *argv[] = { "sh", "-c", "echo $X", NULL };
	const char *env[] = { "X=1", NULL };
	struct agent_exec e = { .flags = LGUEST_AGENT_EXEC_STDIN, .argv = argv, .env = env,
				.cwd = "/tmp" }, d;
	uint8_t buf[256];
	const char *why = NULL;
	ssize_t n;

	(void)state;
	n = agent_exec_encode(&e, buf, sizeof(buf));
	assert_int_equal(n, 8 + 3 + 3 + 8 + 4 + 5);
	assert_int_equal(agent_exec_decode(buf, n, &d, &why), 0);
	assert_int_equal(d.flags, LGUEST_AGENT_EXEC_STDIN | LGUEST_AGENT_EXEC_CWD);
	assert_string_equal(d.argv[0], "sh");
	assert_string_equal(d.argv[2], "echo $X");
	assert_null(d.argv[3]);
	assert_string_equal(d.env[0], "X=1");
	assert_null(d.env[1]);
	assert_string_equal(d.cwd, "/tmp");
	agent_exec_free(&d);

	assert_int_equal(agent_exec_encode(&e, buf, 20), -1);	/* does not fit */
	e.argv = (const char *[]){ NULL };
	assert_int_equal(agent_exec_encode(&e, buf, sizeof(buf)), -1);	/* no argv */
}

static void assert_exec_refused(const uint8_t *p, size_t n, const char *reason)
{
	struct agent_exec d;
	const char *why = NULL;

	assert_int_equal(agent_exec_decode(p, n, &d, &why), -1);
	assert_string_equal(why, reason);
	assert_null(d.argv);
}

static void exec_refused(void **state)
{
	(void)state;
	assert_exec_refused((const uint8_t *)"\0\0\0\0\1\0", 6,
			    "EXEC payload shorter than its fixed part");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\0\0\0\0", 8, "EXEC with no argv");
	assert_exec_refused((const uint8_t *)"\4\0\0\0\1\0\0\0ls\0", 11, "EXEC with unknown flags");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\2\0\0\0ls\0", 11,
			    "EXEC string not NUL-terminated, or missing");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\1\0\0\0ls", 10,
			    "EXEC string not NUL-terminated, or missing");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\5\0\0\0ls\0", 11,
			    "EXEC counts more strings than its payload holds");
	assert_exec_refused((const uint8_t *)"\2\0\0\0\1\0\0\0ls\0", 11,
			    "EXEC with LGUEST_AGENT_EXEC_CWD but no directory");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\1\0\0\0ls\0x", 12,
			    "EXEC payload goes on after its last string");
	assert_exec_refused((const uint8_t *)"\0\0\0\0\1\0\0\0\0", 9, "EXEC with an empty argv[0]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(header_refused),
		cmocka_unit_test(reader_in_pieces),
		cmocka_unit_test(reader_largest_frame),
		cmocka_unit_test(exec_round_trip),
		cmocka_unit_test(exec_refused),
	};

	return cmocka_run_group_tests_name("agent_frame", tests, NULL, NULL);
}
