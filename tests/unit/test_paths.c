/* Tests for config/paths.c: the state directory (JUMPGATE_HOME, root's and a user's
 * default) and the path helpers (join, mkdir_p). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

static void test_state_dir(void)
{
	char *home = tu_swap_env("JUMPGATE_HOME", "/srv/jg-home");
	char *user_home = tu_swap_env("HOME", "/home/someone");
	char buf[256], small[8];
	struct jg_config *c = NULL;

	CU_ASSERT_EQUAL(jg_paths_state_dir(buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/srv/jg-home");
	CU_ASSERT_EQUAL(jg_paths_state_dir(small, sizeof(small)), JG_ERR_TOOBIG);
	CU_ASSERT_EQUAL(jg_config_default(&c, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(c->state_dir, "/srv/jg-home");
	CU_ASSERT_STRING_EQUAL(c->ca_file, "/srv/jg-home/ca.pem");
	jg_config_free(c);

	/* Empty means unset. */
	setenv("JUMPGATE_HOME", "", 1);
	CU_ASSERT_EQUAL(jg_paths_state_dir(buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, geteuid() == 0 ? "/var/lib/jumpgate"
						   : "/home/someone/.local/state/jumpgate");
	unsetenv("HOME");
	CU_ASSERT_EQUAL(jg_paths_state_dir(buf, sizeof(buf)), geteuid() == 0 ? 0 : JG_ERR_NOTFOUND);
	tu_restore_env("HOME", user_home);
	tu_restore_env("JUMPGATE_HOME", home);
}

static void test_paths(void)
{
	char buf[64], dir[] = "/tmp/jgpaths-XXXXXX", sub[128], file[128];
	struct stat st;
	FILE *f;

	CU_ASSERT_EQUAL(jg_paths_join(buf, sizeof(buf), "/a/b", "c"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/a/b/c");
	CU_ASSERT_EQUAL(jg_paths_join(buf, sizeof(buf), "/a/b//", "c"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/a/b/c");
	CU_ASSERT_EQUAL(jg_paths_join(buf, sizeof(buf), "/", "c"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/c");
	CU_ASSERT_EQUAL(jg_paths_join(buf, sizeof(buf), "rel", "/c"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "rel/c");
	CU_ASSERT_EQUAL(jg_paths_join(buf, 6, "/a/b", "c"), JG_ERR_TOOBIG);
	CU_ASSERT_EQUAL(jg_paths_join(buf, 7, "/a/b", "c"), 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/x//y/z/", dir);
	CU_ASSERT_EQUAL(jg_paths_mkdir_p(sub, 0700), 0);
	CU_ASSERT_EQUAL(stat(sub, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(jg_paths_mkdir_p(sub, 0700), 0); /* already there: fine */
	/* A file in the way is an error with errno saying why. */
	snprintf(file, sizeof(file), "%s/x/f", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(file, "w"));
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/x/f/g", dir);
	errno = 0;
	CU_ASSERT_EQUAL(jg_paths_mkdir_p(sub, 0700), JG_ERR_IO);
	CU_ASSERT_EQUAL(errno, ENOTDIR);
	CU_ASSERT_EQUAL(jg_paths_mkdir_p(file, 0700), JG_ERR_IO);
	CU_ASSERT_EQUAL(errno, ENOTDIR);
	unlink(file);
	snprintf(sub, sizeof(sub), "%s/x/y/z", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/x/y", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/x", dir);
	rmdir(sub);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

int jg_test_register_paths(void)
{
	static const struct tu_test tests[] = {
	    {"state directory", test_state_dir},
	    {"join and mkdir_p", test_paths},
	};

	return tu_add_suite("paths", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
