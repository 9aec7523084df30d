/* Tests for the agent's GET and STAT file channels (agent/files*.c), driven end to
 * end over ./jumpgate-agent's stdin/stdout by an OPENER link (tests/unit/testutil.c);
 * they run in the "files" suite of tests/unit/test_files.c, after its PUT tests.
 * Each test works in its own temporary directory, removed after. */
#include "config.h" /* _GNU_SOURCE */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "relay/frame.h"
#include "relay/link.h"
#include "relay/opspec.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* ---- GET and STAT ---- */

#define BIG_GET (5u << 20)

static void test_files_get_5mib_streams_under_flow_control(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "download");
	uint8_t *data = tu_pattern(BIG_GET, 5), want[32], got[32];
	int fd;
	struct tu_drv d;

	fd = open(path, O_WRONLY | O_CREAT, 0640);
	CU_ASSERT_EQUAL(write(fd, data, BIG_GET), (ssize_t)BIG_GET);
	close(fd);
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 30000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].eof && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	if (tu_drv_file_result(&d, 0, 1, &res) == 0) {
		CU_ASSERT_EQUAL(res.size, BIG_GET);
		CU_ASSERT_EQUAL(res.mode, 0640);
		CU_ASSERT(!(res.flags & JG_FILE_DIR));
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), BIG_GET);
	tu_sha256(data, BIG_GET, want);
	tu_sha256(evbuffer_pullup(d.ch[0].out, -1), evbuffer_get_length(d.ch[0].out), got);
	CU_ASSERT_EQUAL(memcmp(want, got, 32), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tu_tmpdir_free(dir);
}

#define NGET 6
#define GET_EACH (1u << 20)

static int all_gets_over(struct tu_drv *d)
{
	for (int i = 0; i < NGET; i++)
		if (!d->ch[i].exited && !d->ch[i].failed && !d->ch[i].dead)
			return 0;
	return 1;
}

static int all_gets_opened(struct tu_drv *d)
{
	for (int i = 0; i < NGET; i++)
		if (!d->ch[i].opened)
			return 0;
	return 1;
}

static void test_files_concurrent_gets_to_a_slow_reader_are_throttled_and_resumed(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "shared");
	uint8_t *data = tu_pattern(GET_EACH, 7);
	int fd, fds_idle;
	struct tu_drv d;

	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CU_ASSERT_EQUAL(write(fd, data, GET_EACH), (ssize_t)GET_EACH);
	close(fd);
	if (!tu_drv_ready(&d, 20))
		goto out;
	fds_idle = tu_count_fds(d.agent.pid);
	spec.path = path;
	for (int i = 0; i < NGET; i++)
		CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, i, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, all_gets_opened, NULL, 5000), 0);
	/* Six windows (1.5 MiB) exceed the agent's 1 MiB output mark while we do not
	 * read: the reads stop on the mark, and resume as the output drains. */
	usleep(300000);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, all_gets_over, NULL, 30000), 0);
	for (int i = 0; i < NGET; i++) {
		CU_ASSERT(d.ch[i].exited && d.ch[i].exit_code == 0);
		CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[i].out), GET_EACH);
		CU_ASSERT(memcmp(evbuffer_pullup(d.ch[i].out, -1), data, GET_EACH) == 0);
	}
	CU_ASSERT_EQUAL(tu_count_fds(d.agent.pid), fds_idle);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_get_of_missing_file_or_directory_is_open_fail(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "nothing"), *want;
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT(asprintf(&want, "no such file: %s", path) > 0);
	CU_ASSERT_STRING_EQUAL(d.ch[0].reason, want);
	free(want);

	tu_drv_slot_reset(&d, 0);
	spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "is a directory") != NULL);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

static int ch12_over(struct tu_drv *d)
{
	for (int i = 1; i <= 2; i++)
		if (!d->ch[i].exited && !d->ch[i].failed && !d->ch[i].dead)
			return 0;
	return 1;
}

static void test_files_stat_describes_a_directory_a_file_and_a_missing_path(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tu_tmpdir_new(), *file = tu_join(dir, "f"), *missing = tu_join(dir, "nope");
	struct tu_drv d;

	tu_write_file(file, "12345");
	chmod(dir, 0751);
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_STAT, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	if (tu_drv_file_result(&d, 0, 1, &res) == 0) {
		CU_ASSERT(res.flags & JG_FILE_DIR);
		CU_ASSERT(res.flags & JG_FILE_HAS_MTIME);
		CU_ASSERT_EQUAL(res.mode, 0751);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}

	spec.path = file;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 1, JG_OPEN_STAT, &spec), 0);
	spec.path = missing;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 2, JG_OPEN_STAT, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, ch12_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[1].exited && d.ch[2].failed);
	if (tu_drv_file_result(&d, 1, 1, &res) == 0) {
		CU_ASSERT(!(res.flags & JG_FILE_DIR));
		CU_ASSERT_EQUAL(res.size, 5);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[2].reason, "no such file: "));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(file);
	free(missing);
	tu_tmpdir_free(dir);
}

/* Add the GET and STAT tests to the "files" suite S. */
int jg_test_add_files_get(CU_pSuite s)
{
	if (!CU_ADD_TEST(s, test_files_get_5mib_streams_under_flow_control) ||
	    !CU_ADD_TEST(s,
			 test_files_concurrent_gets_to_a_slow_reader_are_throttled_and_resumed) ||
	    !CU_ADD_TEST(s, test_files_get_of_missing_file_or_directory_is_open_fail) ||
	    !CU_ADD_TEST(s, test_files_stat_describes_a_directory_a_file_and_a_missing_path))
		return -1;
	return 0;
}
