/* Tests for relay/pct.c: the one percent-encoder and decoder of request paths and
 * query values (client and gateway). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/pct.h"
#include "tests/unit/suites.h"

static void test_pct_encode_keeps_unreserved_and_named(void)
{
	char out[128];

	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "aZ09-._~", NULL), 0);
	CU_ASSERT_STRING_EQUAL(out, "aZ09-._~");
	/* A chain is one path segment: '/' is encoded unless kept. */
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "ssh:u@a/lxc:b c", ":@"), 0);
	CU_ASSERT_STRING_EQUAL(out, "ssh:u@a%2Flxc:b%20c");
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "/srv/a b", "/"), 0);
	CU_ASSERT_STRING_EQUAL(out, "/srv/a%20b");
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "%\xff\x01+", NULL), 0);
	CU_ASSERT_STRING_EQUAL(out, "%25%FF%01%2B");
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "", NULL), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_pct_encode_refuses_a_short_buffer(void)
{
	char out[4];

	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "abc", NULL), 0); /* exactly fits */
	CU_ASSERT_STRING_EQUAL(out, "abc");
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "abcd", NULL), -1);
	CU_ASSERT_EQUAL(jg_pct_encode(out, sizeof(out), "a b", NULL), -1); /* "a%20b" */
	CU_ASSERT_EQUAL(jg_pct_encode(out, 0, "", NULL), -1);
}

static void test_pct_encode_evbuffer_matches_the_string_form(void)
{
	struct evbuffer *b = evbuffer_new();
	const char *in = "web-1/lxc:c 1@x%";
	char want[64];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(jg_pct_encode(want, sizeof(want), in, ":@"), 0);
	CU_ASSERT_EQUAL(evbuffer_add(b, "/v1/", 4), 0);
	CU_ASSERT_EQUAL(jg_pct_encode_evbuffer(b, in, ":@"), 0);
	n = evbuffer_get_length(b);
	CU_ASSERT_EQUAL(n, 4 + strlen(want));
	CU_ASSERT(memcmp(evbuffer_pullup(b, -1), "/v1/", 4) == 0);
	CU_ASSERT(memcmp(evbuffer_pullup(b, -1) + 4, want, strlen(want)) == 0);
	evbuffer_free(b);
}

static void test_pct_decode_round_trips_every_byte_but_nul(void)
{
	char in[256], enc[256 * 3 + 1], dec[sizeof(enc)];

	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	CU_ASSERT_EQUAL_FATAL(jg_pct_encode(enc, sizeof(enc), in, NULL), 0);
	CU_ASSERT_EQUAL(jg_pct_decode(enc, strlen(enc), dec), 0);
	CU_ASSERT_STRING_EQUAL(dec, in);
	/* Lower-case hex and '+' (not a space here) too. */
	CU_ASSERT_EQUAL(jg_pct_decode("a%2fb+c%7E", 10, dec), 0);
	CU_ASSERT_STRING_EQUAL(dec, "a/b+c~");
	/* Only LEN bytes are read. */
	CU_ASSERT_EQUAL(jg_pct_decode("ab%41zzz", 5, dec), 0);
	CU_ASSERT_STRING_EQUAL(dec, "abA");
}

static void test_pct_decode_refuses_bad_escapes_and_nul(void)
{
	static const char *const bad[] = {"%", "a%4", "%4", "%g1", "%1g", "%00", "x%00y", "%%41"};
	char dec[16], *d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(jg_pct_decode(bad[i], strlen(bad[i]), dec), -1);
		CU_ASSERT_PTR_NULL(jg_pct_decode_dup(bad[i], strlen(bad[i])));
	}
	/* "%41" cut at two bytes is a bad escape, not "A". */
	CU_ASSERT_EQUAL(jg_pct_decode("%41", 2, dec), -1);
	d = jg_pct_decode_dup("a%20b", 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(d, "a b");
	free(d);
}

int jg_test_register_pct(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("pct", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_pct_encode_keeps_unreserved_and_named) ||
	    !CU_ADD_TEST(s, test_pct_encode_refuses_a_short_buffer) ||
	    !CU_ADD_TEST(s, test_pct_encode_evbuffer_matches_the_string_form) ||
	    !CU_ADD_TEST(s, test_pct_decode_round_trips_every_byte_but_nul) ||
	    !CU_ADD_TEST(s, test_pct_decode_refuses_bad_escapes_and_nul))
		return -1;
	return 0;
}
