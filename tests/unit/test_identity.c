/* Tests for auth/identity.c: the identity a client certificate carries. */
#include <string.h>

#include <openssl/x509.h>

#include "auth/identity.h"
#include "tests/unit/suites.h"

/* An unsigned certificate whose subject is CN=CN (jg_identity_from_cert reads only the
 * subject and SANs; verification happens before it). */
static X509 *cert_with_cn(const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return x;
}

static void test_identity_cn_with_newline_is_named_not_missing(void)
{
	X509 *x = cert_with_cn("ann\njumpgated: forged");
	char buf[256];

	CU_ASSERT_EQUAL(jg_identity_from_cert(x, JG_IDENTITY_CN, buf, sizeof(buf)), -1);
	CU_ASSERT_PTR_NULL(strstr(buf, "(no CN)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a CN holding a control, NUL or non-ASCII byte"));
	X509_free(x);
}

static void test_identity_cn_with_quote_is_an_identity(void)
{
	X509 *x = cert_with_cn("ann \"o\" 'b'");
	char buf[256];

	CU_ASSERT_EQUAL(jg_identity_from_cert(x, JG_IDENTITY_CN, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "ann \"o\" 'b'");
	X509_free(x);
}

static void test_identity_no_cn(void)
{
	X509 *x = X509_new();
	char buf[256];

	CU_ASSERT_EQUAL(jg_identity_from_cert(x, JG_IDENTITY_CN, buf, sizeof(buf)), -1);
	CU_ASSERT_STRING_EQUAL(buf, "(no CN)");
	X509_free(x);
}

int jg_test_register_identity(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("identity", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_identity_cn_with_newline_is_named_not_missing) ||
	    !CU_ADD_TEST(s, test_identity_cn_with_quote_is_an_identity) ||
	    !CU_ADD_TEST(s, test_identity_no_cn))
		return -1;
	return 0;
}
