/* Tests for the frame module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_frame(void)
{
	return 0;
}
