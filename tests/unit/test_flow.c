/* Tests for the flow module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_flow(void)
{
	return 0;
}
