/* Tests for the spawn module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_spawn(void)
{
	return 0;
}
