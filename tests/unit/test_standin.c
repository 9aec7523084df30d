/* The one-word stand-ins (client/standin.c): which name argv[0] gives, the argv scp and
 * sftp get, and where the jumpgate-ssh they are given is found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "client/standin.h"
#include "relay/err.h"
#include "tests/unit/suites.h"

static void test_kind_is_the_exact_last_path_component(void)
{
	CU_ASSERT_EQUAL(jg_standin_kind("jumpgate-ssh"), JG_STANDIN_SSH);
	CU_ASSERT_EQUAL(jg_standin_kind("/usr/bin/jumpgate-ssh"), JG_STANDIN_SSH);
	CU_ASSERT_EQUAL(jg_standin_kind("./jumpgate-scp"), JG_STANDIN_SCP);
	CU_ASSERT_EQUAL(jg_standin_kind("/opt/jg/bin/jumpgate-sftp"), JG_STANDIN_SFTP);
	CU_ASSERT_EQUAL(jg_standin_kind("jumpgate"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind("/usr/bin/jumpgate"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind("/usr/bin/jumpgate-ssh/"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind("jumpgate-ssh.sh"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind("my-jumpgate-ssh"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind("jumpgate-rsh"), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind(""), JG_STANDIN_NONE);
	CU_ASSERT_EQUAL(jg_standin_kind(NULL), JG_STANDIN_NONE);
}

static void test_transfer_argv_puts_dash_S_first(void)
{
	char *in[] = {"jumpgate-scp", "-p", "a.txt", "web1:/tmp/", NULL};
	char *out[4 + 3];

	CU_ASSERT_EQUAL(jg_standin_argv(JG_STANDIN_SCP, "/usr/bin/jumpgate-ssh", 4, in, out), 0);
	CU_ASSERT_STRING_EQUAL(out[0], "scp");
	CU_ASSERT_STRING_EQUAL(out[1], "-S");
	CU_ASSERT_STRING_EQUAL(out[2], "/usr/bin/jumpgate-ssh");
	CU_ASSERT_STRING_EQUAL(out[3], "-p");
	CU_ASSERT_STRING_EQUAL(out[4], "a.txt");
	CU_ASSERT_STRING_EQUAL(out[5], "web1:/tmp/");
	CU_ASSERT_PTR_NULL(out[6]);

	char *in2[] = {"jumpgate-sftp", NULL};
	CU_ASSERT_EQUAL(jg_standin_argv(JG_STANDIN_SFTP, "jumpgate-ssh", 1, in2, out), 0);
	CU_ASSERT_STRING_EQUAL(out[0], "sftp");
	CU_ASSERT_STRING_EQUAL(out[2], "jumpgate-ssh");
	CU_ASSERT_PTR_NULL(out[3]);

	CU_ASSERT_EQUAL(jg_standin_argv(JG_STANDIN_SSH, "x", 1, in2, out), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_standin_argv(JG_STANDIN_NONE, "x", 1, in2, out), JG_ERR_INVAL);
	CU_ASSERT_PTR_NULL(jg_standin_program(JG_STANDIN_SSH));
}

/* find_ssh: next to a path-qualified argv[0] only; else PATH, in order, empty = ".". */
static void test_find_ssh_next_to_argv0_else_on_path(void)
{
	char dir[200], a[220], b[220], f[240], me[256], got[256], old[4096];
	const char *p = getenv("PATH"), *tmp = getenv("TMPDIR");
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/jg-standin.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 150 ? tmp : "/tmp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	CU_ASSERT_EQUAL(mkdir(a, 0700), 0);
	CU_ASSERT_EQUAL(mkdir(b, 0700), 0);
	snprintf(f, sizeof(f), "%s/jumpgate-ssh", b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = fopen(f, "w"));
	fclose(fp);
	snprintf(old, sizeof(old), "%s", p != NULL ? p : "");

	/* Not executable yet: not found anywhere. */
	snprintf(me, sizeof(me), "%s/jumpgate-scp", b);
	CU_ASSERT_EQUAL(jg_standin_find_ssh(me, got, sizeof(got)), JG_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(chmod(f, 0755), 0);
	CU_ASSERT_EQUAL(jg_standin_find_ssh(me, got, sizeof(got)), 0);
	CU_ASSERT_STRING_EQUAL(got, f);
	/* A path-qualified argv[0] in a directory without one: PATH is not searched. */
	setenv("PATH", b, 1);
	snprintf(me, sizeof(me), "%s/jumpgate-scp", a);
	CU_ASSERT_EQUAL(jg_standin_find_ssh(me, got, sizeof(got)), JG_ERR_NOTFOUND);
	/* A bare name: PATH in order. */
	{
		char path[460];

		snprintf(path, sizeof(path), "%s:%s", a, b);
		setenv("PATH", path, 1);
		CU_ASSERT_EQUAL(jg_standin_find_ssh("jumpgate-scp", got, sizeof(got)), 0);
		CU_ASSERT_STRING_EQUAL(got, f);
		setenv("PATH", a, 1);
		CU_ASSERT_EQUAL(jg_standin_find_ssh("jumpgate-scp", got, sizeof(got)),
				JG_ERR_NOTFOUND);
		/* Too small a buffer is "not found", never a cut path. */
		setenv("PATH", b, 1);
		CU_ASSERT_EQUAL(jg_standin_find_ssh("jumpgate-scp", got, 8), JG_ERR_NOTFOUND);
	}
	setenv("PATH", old, 1);
	unlink(f);
	rmdir(a);
	rmdir(b);
	rmdir(dir);
}

int jg_test_register_standin(void)
{
	CU_pSuite s = CU_add_suite("standin", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "the stand-in is the exact last path component of argv[0]",
			 test_kind_is_the_exact_last_path_component) ||
	    !CU_add_test(s, "scp and sftp get -S jumpgate-ssh first",
			 test_transfer_argv_puts_dash_S_first) ||
	    !CU_add_test(s, "jumpgate-ssh next to argv[0], else on PATH",
			 test_find_ssh_next_to_argv0_else_on_path))
		return -1;
	return 0;
}
