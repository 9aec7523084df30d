/* Tests for relay/log.c: client-supplied text cannot forge log lines or reach a
 * terminal as escape sequences (issue 13 M3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"
#include "tests/unit/suites.h"

static void test_log_escape_controls_newlines_and_del(void)
{
	char out[128];
	size_t n;

	n = jg_log_escape(out, sizeof(out), "/tmp/a\nfake: line\r\t\x1b[31mred\x7f\x01 ok");
	CU_ASSERT_STRING_EQUAL(out, "/tmp/a\\nfake: line\\r\\t\\x1b[31mred\\x7f\\x01 ok");
	CU_ASSERT_EQUAL(n, strlen(out));
	/* Plain text and UTF-8 pass unchanged. */
	jg_log_escape(out, sizeof(out), "caf\xc3\xa9 /srv/x y");
	CU_ASSERT_STRING_EQUAL(out, "caf\xc3\xa9 /srv/x y");
}

static void test_log_escape_truncates_at_a_whole_escape(void)
{
	char out[6];

	/* "ab" + "\x1b" (4 bytes) does not fit in 5: stops before the escape. */
	CU_ASSERT_EQUAL(jg_log_escape(out, sizeof(out), "ab\x1b"), 2);
	CU_ASSERT_STRING_EQUAL(out, "ab");
	CU_ASSERT_EQUAL(jg_log_escape(out, sizeof(out), "abcdefgh"), 5);
	CU_ASSERT_STRING_EQUAL(out, "abcde");
	CU_ASSERT_EQUAL(jg_log_escape(out, 1, "abc"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

/* A message with a forged line, through jg_log itself to a file in place of stderr:
 * one line comes out, the newline escaped. */
static void test_log_line_with_newline_in_argument_stays_one_line(void)
{
	char path[] = "/tmp/jg-test-log.XXXXXX", buf[512];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	unlink(path);
	dup2(fd, STDERR_FILENO);
	jg_log_warn("accepted path %s", "/tmp/x\njumpgated[1]: info: forged\x1b]0;t\x07");
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		lines++;
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "accepted path /tmp/x\\njumpgated[1]: info: "
						   "forged\\x1b]0;t\\x07\n"));
		CU_ASSERT_PTR_NULL(strchr(buf, '\x1b'));
	}
	CU_ASSERT_EQUAL(lines, 1);
	fclose(f);
}

int jg_test_register_log(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("log", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_log_escape_controls_newlines_and_del) ||
	    !CU_ADD_TEST(s, test_log_escape_truncates_at_a_whole_escape) ||
	    !CU_ADD_TEST(s, test_log_line_with_newline_in_argument_stays_one_line))
		return -1;
	return 0;
}
