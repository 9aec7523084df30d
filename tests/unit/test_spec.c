/* Tests for the spec module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_spec(void)
{
	return 0;
}
