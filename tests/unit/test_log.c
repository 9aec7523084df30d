/* Tests for relay/log.c: client-supplied text cannot forge log lines or reach a
 * terminal as escape sequences (issue 13 M3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* LEVEL's line, logged with stderr on a temporary file whose DEV:INODE is (MATCH) or
 * is not JOURNAL_STREAM, into BUF. */
static void log_to_file(int match, enum jg_log_level level, char *buf, size_t len)
{
	char path[] = "/tmp/jg-test-log.XXXXXX", js[64];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;
	ssize_t n;

	buf[0] = '\0';
	CU_ASSERT_FATAL(fd >= 0 && saved >= 0 && fstat(fd, &st) == 0);
	unlink(path);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (match ? 0 : 1));
	setenv("JOURNAL_STREAM", js, 1);
	dup2(fd, STDERR_FILENO);
	jg_log_init("jgtest", JG_LOG_DEBUG);
	jg_log(level, "hello");
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	jg_log_init("jgtest", JG_LOG_INFO);
	n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Under the journal each level carries its syslog priority; elsewhere nothing. */
static void test_log_journal_priority_prefix(void)
{
	static const struct {
		enum jg_log_level level;
		const char *prefix;
	} want[] = {{JG_LOG_ERROR, "<3>jgtest["},
		    {JG_LOG_WARN, "<4>jgtest["},
		    {JG_LOG_INFO, "<6>jgtest["},
		    {JG_LOG_DEBUG, "<7>jgtest["}};
	char buf[256];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		log_to_file(1, want[i].level, buf, sizeof(buf));
		CU_ASSERT_EQUAL(strncmp(buf, want[i].prefix, strlen(want[i].prefix)), 0);
	}
	log_to_file(0, JG_LOG_ERROR, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, "jgtest[", 7), 0);
	/* A malformed variable is not the journal. */
	setenv("JOURNAL_STREAM", "12:34:56", 1);
	CU_ASSERT_EQUAL(jg_log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "x", 1);
	CU_ASSERT_EQUAL(jg_log_stderr_is_journal(), 0);
	unsetenv("JOURNAL_STREAM");
	CU_ASSERT_EQUAL(jg_log_stderr_is_journal(), 0);
}

int jg_test_register_log(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("log", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_log_escape_controls_newlines_and_del) ||
	    !CU_ADD_TEST(s, test_log_escape_truncates_at_a_whole_escape) ||
	    !CU_ADD_TEST(s, test_log_line_with_newline_in_argument_stays_one_line) ||
	    !CU_ADD_TEST(s, test_log_journal_priority_prefix))
		return -1;
	return 0;
}
