/* Tests for the opspec module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_opspec(void)
{
	return 0;
}
