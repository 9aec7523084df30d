/* Tests for the certs module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_certs(void)
{
	return 0;
}
