/* Tests for relay/sh.c: one quoting for a POSIX shell, used by ssh's remote command,
 * the bootstrap command and a hop chain's command line. */
#include "config.h" /* _GNU_SOURCE: asprintf */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/bootstrap.h"
#include "relay/sh.h"
#include "relay/spawn.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* ---- quoting ---- */

static void test_sh_quote_uses_single_quotes(void)
{
	char *q;

	CU_ASSERT_STRING_EQUAL((q = jg_sh_quote("it's")), "'it'\\''s'");
	free(q);
	CU_ASSERT_STRING_EQUAL((q = jg_sh_quote("")), "''");
	free(q);
	CU_ASSERT_STRING_EQUAL((q = jg_sh_quote("a b")), "'a b'");
	free(q);
}

static void test_sh_quote_round_trips_nasty_strings_through_sh(void)
{
	static const char *const nasty[] = {
	    "",
	    "plain",
	    "it's",
	    "''",
	    "a b  c",
	    "\"double\"",
	    "$HOME `id` $(id) ${x:-y}",
	    "back\\slash\\",
	    "new\nline\n",
	    "\t\r\x01\x7f",
	    "\xff\xfe not utf-8 \x80\xc3",
	    "*?[a-z] ~ # & ; | < > ( ) { } !",
	    "-n",
	    "%s %d %%",
	};

	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		char *q = jg_sh_quote(nasty[i]), *script, out[256];
		char *argv[] = {"/bin/sh", "-c", NULL, NULL};
		struct jg_spawn_opts o = {.argv = argv};
		struct jg_child c;
		size_t n;

		CU_ASSERT_PTR_NOT_NULL_FATAL(q);
		CU_ASSERT_FATAL(asprintf(&script, "printf %%s %s", q) > 0);
		argv[2] = script;
		CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
		n = tu_read_all(c.out_fd, out, sizeof(out));
		CU_ASSERT_EQUAL(n, strlen(nasty[i]));
		CU_ASSERT(memcmp(out, nasty[i], n) == 0);
		CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
		tu_close_child(&c);
		free(script);
		free(q);
	}
}

/* jg_sh_join leaves plain words bare and quotes every other word exactly as jg_sh_quote. */
static void test_sh_join_quotes_words_as_sh_quote_does(void)
{
	static const char *const words[] = {"it's", "", "a b", "$x", "=cmd", "'", "\xff\n"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *argv[] = {"plain", (char *)words[i], NULL};
		char *q = jg_sh_quote(words[i]), *j = jg_sh_join(argv), *want;

		CU_ASSERT_PTR_NOT_NULL_FATAL(q);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_FATAL(asprintf(&want, "plain %s", q) > 0);
		CU_ASSERT_STRING_EQUAL(j, want);
		free(want);
		free(j);
		free(q);
	}
}

/* The bootstrap command is "sh -c" and the stub quoted as one word. */
static void test_sh_bootstrap_command_is_the_quoted_stub(void)
{
	struct jg_agent_build b = {.arch = "x86_64"};
	char *stub, *cmd, *q;

	memset(b.sha256, 'a', sizeof(b.sha256) - 1);
	stub = jg_bootstrap_stub(&b, 1);
	cmd = jg_bootstrap_command(&b, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	q = jg_sh_quote(stub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT(strncmp(cmd, "sh -c ", 6) == 0);
	CU_ASSERT_STRING_EQUAL(cmd + 6, q);
	free(q);
	free(cmd);
	free(stub);
}

int jg_test_register_sh(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("sh", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_sh_quote_uses_single_quotes) ||
	    !CU_ADD_TEST(s, test_sh_quote_round_trips_nasty_strings_through_sh) ||
	    !CU_ADD_TEST(s, test_sh_join_quotes_words_as_sh_quote_does) ||
	    !CU_ADD_TEST(s, test_sh_bootstrap_command_is_the_quoted_stub))
		return -1;
	return 0;
}
