/* Tests for the files module (stub: the owner of the module fills it in). */
#include "tests/unit/suites.h"

int jg_test_register_files(void)
{
	return 0;
}
