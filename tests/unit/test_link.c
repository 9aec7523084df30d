/* Tests for the link module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_link(void)
{
	return 0;
}
