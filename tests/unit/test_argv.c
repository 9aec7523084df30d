/* Tests for relay/argv.c: the one growable string vector (argvs, directory listings,
 * target lists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/argv.h"
#include "tests/unit/suites.h"

static void test_argv_grows_and_stays_null_terminated(void)
{
	struct jg_argv b = {0};
	char **v;

	for (int i = 0; i < 1000; i++) {
		jg_argv_pushf(&b, "w%d", i);
		CU_ASSERT_EQUAL(b.n, (size_t)i + 1);
		CU_ASSERT_PTR_NULL(b.v[b.n]);
	}
	CU_ASSERT_FALSE(b.nomem);
	CU_ASSERT_STRING_EQUAL(b.v[0], "w0");
	CU_ASSERT_STRING_EQUAL(b.v[999], "w999");
	v = jg_argv_take(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NULL(v[1000]);
	CU_ASSERT_EQUAL(b.n, 0);
	CU_ASSERT_PTR_NULL(b.v);
	jg_argv_free(v);
}

static void test_argv_push_kinds(void)
{
	struct jg_argv b = {0};
	char *const more[] = {"c", "d", NULL};
	char **v;

	jg_argv_push(&b, "a");
	jg_argv_pushn(&b, "bXYZ", 1);
	jg_argv_pushn(&b, "e\0f", 3); /* a NUL ends the copy */
	jg_argv_push_all(&b, more);
	jg_argv_push_all(&b, NULL);
	jg_argv_push_take(&b, strdup("g"));
	CU_ASSERT_EQUAL_FATAL(b.n, 6);
	v = jg_argv_take(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v[0], "a");
	CU_ASSERT_STRING_EQUAL(v[1], "b");
	CU_ASSERT_STRING_EQUAL(v[2], "e");
	CU_ASSERT_STRING_EQUAL(v[3], "c");
	CU_ASSERT_STRING_EQUAL(v[4], "d");
	CU_ASSERT_STRING_EQUAL(v[5], "g");
	CU_ASSERT_PTR_NULL(v[6]);
	jg_argv_free(v);
}

/* An empty vector hands over {NULL}; a failed push (NULL taken) is sticky and take
 * frees everything and says NULL. */
static void test_argv_empty_and_nomem(void)
{
	struct jg_argv b = {0};
	char **v = jg_argv_take(&b);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NULL(v[0]);
	jg_argv_free(v);
	jg_argv_push(&b, "kept");
	jg_argv_push_take(&b, NULL);
	CU_ASSERT_TRUE(b.nomem);
	jg_argv_push(&b, "after");
	CU_ASSERT_EQUAL(b.n, 1);
	CU_ASSERT_PTR_NULL(jg_argv_take(&b));
	CU_ASSERT_FALSE(b.nomem);
	jg_argv_free(NULL);
}

static void test_argv_clear_empties_for_reuse(void)
{
	struct jg_argv b = {0};

	jg_argv_push(&b, "x");
	jg_argv_push_take(&b, NULL);
	jg_argv_clear(&b);
	CU_ASSERT_EQUAL(b.n, 0);
	CU_ASSERT_PTR_NULL(b.v);
	CU_ASSERT_FALSE(b.nomem);
	jg_argv_push(&b, "y");
	CU_ASSERT_EQUAL(b.n, 1);
	CU_ASSERT_STRING_EQUAL(b.v[0], "y");
	jg_argv_clear(&b);
	jg_argv_clear(&b); /* twice is fine */
}

int jg_test_register_argv(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("argv", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_argv_grows_and_stays_null_terminated) ||
	    !CU_ADD_TEST(s, test_argv_push_kinds) || !CU_ADD_TEST(s, test_argv_empty_and_nomem) ||
	    !CU_ADD_TEST(s, test_argv_clear_empties_for_reuse))
		return -1;
	return 0;
}
