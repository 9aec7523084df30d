/* The CUnit runner: every module's suites, registered from one place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/suites.h"

int main(int argc, char **argv)
{
	int (*const registers[])(void) = {
	    jg_test_register_frame,
	    jg_test_register_spec,
	    jg_test_register_flow,
	    jg_test_register_link,
	    jg_test_register_config,
	    jg_test_register_config_access,
	    jg_test_register_config_targets,
	    jg_test_register_paths,
	    jg_test_register_certs,
	    jg_test_register_apump,
	    jg_test_register_spawn,
	    jg_test_register_agent,
	    jg_test_register_ssh,
	    jg_test_register_bootstrap,
	    jg_test_register_bootstrap_run,
	    jg_test_register_target,
	    jg_test_register_chain,
	    jg_test_register_rshargs,
	    jg_test_register_sha256,
	    jg_test_register_files,
	    jg_test_register_opspec,
	    jg_test_register_policy,
	    jg_test_register_audit,
	    jg_test_register_hop,
	    jg_test_register_hop_check,
	    jg_test_register_hop_quoting,
	    jg_test_register_hopwatch,
	    jg_test_register_routes,
	    jg_test_register_log,
	    jg_test_register_identity,
	    jg_test_register_h2field,
	    jg_test_register_pump,
	    jg_test_register_dial,
	    jg_test_register_keymap,
	    jg_test_register_standin,
	    jg_test_register_nodeset,
	    jg_test_register_sh,
	    jg_test_register_pct,
	    jg_test_register_json,
	    jg_test_register_sshtty,
	    jg_test_register_argv,
	    jg_test_register_err,
	    jg_test_register_h2client,
	    jg_test_register_keepalive,
	    jg_test_register_syncbehind,
	    jg_test_register_autowin,
	};
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (size_t i = 0; i < sizeof(registers) / sizeof(registers[0]); i++) {
		if (registers[i]() != 0) {
			fprintf(stderr, "cannot register suite %zu: %s\n", i, CU_get_error_msg());
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(argc > 1 && strcmp(argv[1], "-v") == 0 ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	/* JG_UNIT_SUITE=policy runs that one suite (a quick loop while working on a module). */
	if (getenv("JG_UNIT_SUITE") != NULL && CU_get_suite(getenv("JG_UNIT_SUITE")) != NULL)
		CU_basic_run_suite(CU_get_suite(getenv("JG_UNIT_SUITE")));
	else
		CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
	printf("\n%u tests run, %u failed assertions, %u failed tests\n",
	       CU_get_number_of_tests_run(), CU_get_number_of_failures(),
	       CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}
