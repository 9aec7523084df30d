/* Tests for OPEN exec specs: round trips (odd bytes included) and every
 * decode error with its reason. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/spec.h"
#include "relay/wire.h"
#include "tests/unit/suites.h"

static int round_trip(const struct jg_exec_spec *in, struct jg_exec_spec *out)
{
	struct evbuffer *b = evbuffer_new();
	char err[128];
	int r;

	if ((r = jg_exec_spec_encode(in, b)) == 0)
		r = jg_exec_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), out, err,
					sizeof(err));
	evbuffer_free(b);
	return r;
}

static void test_full_spec_round_trips(void)
{
	char *argv[] = {"/bin/echo", "", "h\xe9llo \xff\xfe", NULL};
	char *env[] = {"A=1", "EMPTY=", "=odd", NULL};
	struct jg_exec_spec in = {.argv = argv,
				  .argc = 3,
				  .env = env,
				  .envc = 3,
				  .cwd = "/tmp/\x80\x64ir",
				  .pty = 1,
				  .rows = 24,
				  .cols = 65535,
				  .term = "xterm-256color"};
	struct jg_exec_spec out;

	CU_ASSERT_EQUAL_FATAL(round_trip(&in, &out), 0);
	CU_ASSERT_EQUAL(out.argc, 3);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(out.argv[i], argv[i]);
	CU_ASSERT_PTR_NULL(out.argv[3]);
	CU_ASSERT_EQUAL(out.envc, 3);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(out.env[i], env[i]);
	CU_ASSERT_PTR_NULL(out.env[3]);
	CU_ASSERT_STRING_EQUAL(out.cwd, in.cwd);
	CU_ASSERT(out.pty);
	CU_ASSERT_EQUAL(out.rows, 24);
	CU_ASSERT_EQUAL(out.cols, 65535);
	CU_ASSERT_STRING_EQUAL(out.term, "xterm-256color");
	jg_exec_spec_clear(&out);
	CU_ASSERT_PTR_NULL(out.argv);
}

static void test_minimal_spec_round_trips_and_keeps_inherit_vs_empty_env(void)
{
	char *argv[] = {"", NULL};
	char *env[] = {NULL};
	struct jg_exec_spec in = {.argv = argv, .argc = 1};
	struct jg_exec_spec out;

	CU_ASSERT_EQUAL_FATAL(round_trip(&in, &out), 0);
	CU_ASSERT_EQUAL(out.argc, 1);
	CU_ASSERT_STRING_EQUAL(out.argv[0], "");
	CU_ASSERT_PTR_NULL(out.env); /* no ENV field: inherit */
	CU_ASSERT_PTR_NULL(out.cwd);
	CU_ASSERT_PTR_NULL(out.term);
	CU_ASSERT_FALSE(out.pty);
	jg_exec_spec_clear(&out);
	in.env = env;
	CU_ASSERT_EQUAL_FATAL(round_trip(&in, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(out.env); /* empty ENV field: empty environment */
	CU_ASSERT_EQUAL(out.envc, 0);
	jg_exec_spec_clear(&out);
}

static void test_encode_refuses_bad_specs(void)
{
	struct evbuffer *b = evbuffer_new();
	char *argv[] = {"x", NULL};
	char *badenv[] = {"NOEQUALS", NULL};
	struct jg_exec_spec s = {.argv = argv, .argc = 0};
	char *huge = malloc(JG_FRAME_MAX_PAYLOAD);

	CU_ASSERT_EQUAL(jg_exec_spec_encode(&s, b), JG_ERR_INVAL);
	s.argc = 1;
	s.env = badenv;
	s.envc = 1;
	CU_ASSERT_EQUAL(jg_exec_spec_encode(&s, b), JG_ERR_INVAL);
	s.env = NULL;
	s.envc = 0;
	memset(huge, 'a', JG_FRAME_MAX_PAYLOAD - 1);
	huge[JG_FRAME_MAX_PAYLOAD - 1] = '\0';
	s.cwd = huge;
	CU_ASSERT_EQUAL(jg_exec_spec_encode(&s, b), JG_ERR_TOOBIG);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	/* Exactly at the limit: 5+2 (ARGV "x\0") + 5 + cwd. */
	huge[JG_FRAME_MAX_PAYLOAD - 12] = '\0';
	CU_ASSERT_EQUAL(jg_exec_spec_encode(&s, b), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), JG_FRAME_MAX_PAYLOAD);
	free(huge);
	evbuffer_free(b);
}

/* Decode LEN bytes of P; expect JG_ERR_PROTO with WANT inside the reason. */
static void expect_error(const void *p, size_t len, const char *want)
{
	struct jg_exec_spec s;
	char err[128];

	CU_ASSERT_EQUAL(jg_exec_spec_decode(p, len, &s, err, sizeof(err)), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NULL(s.argv);
	CU_ASSERT_PTR_NULL(s.env);
}

/* One payload per line, its fields kept apart. */
/* clang-format off */
static void test_each_decode_error_has_a_reason(void)
{
	expect_error("", 0, "no ARGV field");
	expect_error("\x02\0\0\0\x04" "A=1\0", 9, "no ARGV field");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x09\0\0\0\0", 13, "unknown field tag 9 at offset 8");
	expect_error("\x00\0\0\0\0", 5, "unknown field tag 0");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x01\0\0\0\x01" "x", 14, "ARGV field appears twice");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x01\0", 10, "truncated field header at offset 8");
	expect_error("\x01\0\0\0\x09" "ls\0", 8, "ARGV field: length 9 runs past the end");
	expect_error("\x01\0\0\0\x02" "ls", 7, "ARGV field: last string not NUL-terminated");
	expect_error("\x01\0\0\0\0", 5, "ARGV field: empty");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x02\0\0\0\x06" "A=1\0B\0", 19,
		     "ENV field: string 1 has no '='");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x02\0\0\0\x03" "A=1", 16,
		     "ENV field: last string not NUL-terminated");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x03\0\0\0\x03" "a\0b", 16,
		     "CWD field: contains a NUL byte");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x05\0\0\0\x01" "\0", 14,
		     "TERM field: contains a NUL byte");
	expect_error("\x01\0\0\0\x03" "ls\0" "\x04\0\0\0\x03" "abc", 16,
		     "PTY field: length 3, expected 4");
	expect_error("\x01\xff\xff\xff\xff" "ls\0", 8, "runs past the end");
}
/* clang-format on */

static void test_argv_with_empty_strings_counts_each(void)
{
	struct jg_exec_spec s;
	char err[64];

	CU_ASSERT_EQUAL_FATAL(
	    jg_exec_spec_decode((const uint8_t *)"\x01\0\0\0\x03\0\0\0", 8, &s, err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(s.argc, 3);
	CU_ASSERT_STRING_EQUAL(s.argv[2], "");
	jg_exec_spec_clear(&s);
}

int jg_test_register_spec(void)
{
	CU_pSuite s = CU_add_suite("spec", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "full spec round-trips (empty strings, non-UTF-8 bytes)",
			 test_full_spec_round_trips) ||
	    !CU_add_test(s, "minimal spec round-trips; inherit vs empty env kept",
			 test_minimal_spec_round_trips_and_keeps_inherit_vs_empty_env) ||
	    !CU_add_test(s, "encode refuses bad specs", test_encode_refuses_bad_specs) ||
	    !CU_add_test(s, "each decode error has a reason",
			 test_each_decode_error_has_a_reason) ||
	    !CU_add_test(s, "ARGV with empty strings counts each",
			 test_argv_with_empty_strings_counts_each))
		return -1;
	return 0;
}
