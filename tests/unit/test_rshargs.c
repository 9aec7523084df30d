/* Tests for the rshargs module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_rshargs(void)
{
	return 0;
}
