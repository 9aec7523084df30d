/* Tests for the config module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_config(void)
{
	return 0;
}
