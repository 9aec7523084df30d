/* The error codes (relay/err.h): none of them is a bare -1, which system calls and small
 * helpers return (153 functions `return -1`), or in -errno's range; each has its own name. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "relay/err.h"
#include "tests/unit/suites.h"

static void test_err_codes_are_never_minus_one_nor_an_errno(void)
{
	for (int e = JG_ERR_NOMEM; e >= JG_ERR_LAST; e--) {
		CU_ASSERT(e != -1);
		CU_ASSERT(e < -133); /* below -EHWPOISON, the largest errno */
	}
	CU_ASSERT(JG_ERR_NOMEM != -1);
	CU_ASSERT(JG_ERR_NOMEM >= JG_ERR_LAST);
}

static void test_err_each_code_has_its_own_name_and_minus_one_none(void)
{
	const char *unknown = jg_strerror(12345);

	CU_ASSERT_STRING_EQUAL(unknown, "unknown error");
	CU_ASSERT_STRING_EQUAL(jg_strerror(JG_OK), "success");
	CU_ASSERT_STRING_EQUAL(jg_strerror(JG_ERR_NOMEM), "out of memory");
	/* A bare -1 that reaches a message is not mistaken for "out of memory". */
	CU_ASSERT_STRING_EQUAL(jg_strerror(-1), unknown);
	for (int e = JG_ERR_NOMEM; e >= JG_ERR_LAST; e--) {
		CU_ASSERT_STRING_NOT_EQUAL(jg_strerror(e), unknown);
		CU_ASSERT_STRING_NOT_EQUAL(jg_strerror(e), jg_strerror(JG_OK));
		for (int f = e - 1; f >= JG_ERR_LAST; f--)
			CU_ASSERT_STRING_NOT_EQUAL(jg_strerror(e), jg_strerror(f));
	}
	/* Nothing beyond the last code is named: JG_ERR_LAST moves with a new code. */
	CU_ASSERT_STRING_EQUAL(jg_strerror(JG_ERR_LAST - 1), unknown);
	CU_ASSERT_STRING_EQUAL(jg_strerror(JG_ERR_NOMEM + 1), unknown);
}

int jg_test_register_err(void)
{
	CU_pSuite s = CU_add_suite("err", NULL, NULL);

	if (s == NULL || !CU_ADD_TEST(s, test_err_codes_are_never_minus_one_nor_an_errno) ||
	    !CU_ADD_TEST(s, test_err_each_code_has_its_own_name_and_minus_one_none))
		return -1;
	return 0;
}
