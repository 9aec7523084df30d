/* Tests for relay/json.c: JSON text from any bytes, and the error body of every HTTP
 * answer, built with jansson. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relay/json.h"
#include "tests/unit/suites.h"

static void test_json_text_keeps_utf8_and_replaces_the_rest(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "plain"},
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	    {"a\xff"
	     "b",
	     "a\xef\xbf\xbd"
	     "b"},
	    {"\xc3", "\xef\xbf\xbd"},				      /* cut short */
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},		      /* overlong '/' */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
	    {"", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = jg_json_text(cases[i].in, strlen(cases[i].in));

		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_STRING_EQUAL(json_string_value(j), cases[i].want);
		json_decref(j);
	}
}

static void test_json_error_is_compact_json_with_a_newline(void)
{
	size_t len;
	char *b = jg_json_error("not found", "unknown target web3", &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(b, "{\"error\":\"not found\",\"reason\":\"unknown target web3\"}\n");
	CU_ASSERT_EQUAL(len, strlen(b));
	free(b);
}

/* Quotes, backslashes, control bytes and bytes that are not UTF-8 in a reason still
 * give one JSON document that reads back to the reason. */
static void test_json_error_reads_back_whatever_the_reason_holds(void)
{
	const char *reason = "no such file: /srv/\"a\\b\"\n\x01\x7f\xff end";
	size_t len;
	char *b = jg_json_error("bad request", reason, &len);
	json_t *root;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NULL(memchr(b, '\n', len - 1)); /* one line */
	root = json_loadb(b, len, 0, NULL);
	CU_ASSERT_FATAL(json_is_object(root));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "error")), "bad request");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "reason")),
			       "no such file: /srv/\"a\\b\"\n\x01\x7f\xef\xbf\xbd end");
	json_decref(root);
	free(b);
}

int jg_test_register_json(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("json", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_json_text_keeps_utf8_and_replaces_the_rest) ||
	    !CU_ADD_TEST(s, test_json_error_is_compact_json_with_a_newline) ||
	    !CU_ADD_TEST(s, test_json_error_reads_back_whatever_the_reason_holds))
		return -1;
	return 0;
}
