/* Tests for the agent's file channels (agent/files*.c): PUT, GET and STAT,
 * driven end to end over ./jumpgate-agent's stdin/stdout by an OPENER link,
 * as tests/unit/test_agent.c does for exec.  Each test works in its own
 * temporary directory, removed after. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <stddef.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/opspec.h"
#include "relay/spawn.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* ---- the driver (tests/unit/testutil.c) and the file channels on top of it ---- */

/* ---- uploads ---- */

static struct {
	const uint8_t *buf;
	size_t len, sent;
	int send_eof, eof_sent;
	int slot;
} up;

static void up_begin(const void *buf, size_t len, int send_eof)
{
	memset(&up, 0, sizeof(up));
	up.buf = buf;
	up.len = len;
	up.send_eof = send_eof;
}

/* Send what the window allows; EOF after the last byte. */
static void up_step(struct tu_drv *d)
{
	uint32_t ch = (uint32_t)d->id[up.slot];
	int64_t n;

	if (up.sent < up.len &&
	    (n = jg_link_send_data(d->link, ch, 0, up.buf + up.sent, up.len - up.sent)) > 0)
		up.sent += (size_t)n;
	if (up.sent == up.len && up.send_eof && !up.eof_sent &&
	    jg_link_send_eof(d->link, ch, 0) == 0)
		up.eof_sent = 1;
}

/* PUT BUF to SPEC over a fresh channel on slot 0, to the end. */
static void put_all(struct tu_drv *d, const struct jg_file_spec *spec, const void *buf, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(d, 0, JG_OPEN_PUT, spec), 0);
	up_begin(buf, len, 1);
	CU_ASSERT_EQUAL(tu_drv_pump(d, tu_drv_ch0_over, up_step, 60000), 0);
}

/* Temporary files of PUTs (".NAME.jg-HEX.tmp") in DIR. */
static int count_temps(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		n += e->d_name[0] == '.' && strstr(e->d_name, ".jg-") != NULL && len > 4 &&
		     strcmp(e->d_name + len - 4, ".tmp") == 0;
	}
	closedir(d);
	return n;
}

/* ---- PUT ---- */

static void test_files_small_put_with_data_before_open_ok_is_written(void)
{
	static const char body[] = "hello, target\n";
	struct jg_file_spec spec = {0}, res;
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "greeting");
	uint8_t sum[32];
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_PUT, &spec), 0);
	/* One round trip: the bytes and EOF go right behind the OPEN. */
	CU_ASSERT_EQUAL(jg_link_send_data(d.link, (uint32_t)d.id[0], 0, body, strlen(body)),
			(int64_t)strlen(body));
	CU_ASSERT_EQUAL(jg_link_send_eof(d.link, (uint32_t)d.id[0], 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_EQUAL_FATAL(tu_drv_file_result(&d, 0, 0, &res), 0);
	tu_sha256(body, strlen(body), sum);
	CU_ASSERT(res.flags & JG_FILE_HAS_SHA256);
	CU_ASSERT_EQUAL(memcmp(res.sha256, sum, 32), 0);
	CU_ASSERT_EQUAL(res.size, strlen(body));
	CU_ASSERT_EQUAL(res.mode, 0644);
	jg_file_spec_clear(&res);
	CU_ASSERT(tu_file_is(path, body));
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

#define BIG_PUT (20u << 20)

static void test_files_put_20mib_under_flow_control_reports_its_sha256(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "big.bin");
	uint8_t *data = tu_pattern(BIG_PUT, 3), sum[32];
	struct stat st;
	size_t len = 0;
	char *back;
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	tu_sha256(data, BIG_PUT, sum);
	memcpy(spec.sha256, sum, 32);
	spec.flags = JG_FILE_HAS_SHA256 | JG_FILE_HAS_SIZE;
	spec.size = BIG_PUT;
	/* 80 windows: the upload moves only as the agent returns credit. */
	put_all(&d, &spec, data, BIG_PUT);
	CU_ASSERT_EQUAL(up.sent, BIG_PUT);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	if (tu_drv_file_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT_EQUAL(memcmp(res.sha256, sum, 32), 0);
		CU_ASSERT_EQUAL(res.size, BIG_PUT);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec");
	}
	CU_ASSERT(stat(path, &st) == 0 && st.st_size == BIG_PUT);
	back = tu_read_file(path, &len);
	CU_ASSERT(back != NULL && len == BIG_PUT && memcmp(back, data, BIG_PUT) == 0);
	free(back);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_wrong_sha256_gives_dead_and_keeps_the_old_file(void)
{
	static const char body[] = "new contents";
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "conf");
	struct tu_drv d;

	tu_write_file(path, "old contents");
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_HAS_SHA256;
	memset(spec.sha256, 0xab, 32);
	put_all(&d, &spec, body, strlen(body));
	CU_ASSERT(d.ch[0].dead && !d.ch[0].exited);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "sha256 mismatch: expected abababab"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "left unchanged"));
	CU_ASSERT(tu_file_is(path, "old contents"));
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_put_applies_mode_mtime_and_owner_and_keeps_mode_on_replace(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "script.sh"),
	     *kept = tu_join(dir, "kept");
	struct stat st;
	struct tu_drv d;

	tu_write_file(kept, "before");
	chmod(kept, 0600);
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_HAS_MODE | JG_FILE_HAS_MTIME;
	spec.mode = 04751;
	spec.mtime = 1000000000;
	if (geteuid() == 0) {
		spec.owner = "1234";
		spec.group = "root";
	}
	put_all(&d, &spec, "#!/bin/sh\n", 10);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 04751);
	CU_ASSERT_EQUAL(st.st_mtime, 1000000000);
	if (geteuid() == 0)
		CU_ASSERT(st.st_uid == 1234 && st.st_gid == 0);

	/* No MODE given: a replaced file keeps its mode. */
	tu_drv_slot_reset(&d, 0);
	memset(&spec, 0, sizeof(spec));
	spec.path = kept;
	put_all(&d, &spec, "after", 5);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(stat(kept, &st) == 0 && (st.st_mode & 07777) == 0600);
	CU_ASSERT(tu_file_is(kept, "after"));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	free(kept);
	tu_tmpdir_free(dir);
}

static void test_files_put_of_unknown_owner_is_refused_before_any_write(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "f");
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	spec.owner = "no-such-user-jg";
	put_all(&d, &spec, "x", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "unknown user no-such-user-jg"));
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_put_with_mkdirs_creates_the_parents(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "a//b/./c/file"),
	     *real = tu_join(dir, "a/b/c/file");
	struct stat st;
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "deep", 4);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(tu_file_is(real, "deep"));
	CU_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	free(real);
	tu_tmpdir_free(dir);
}

static void test_files_put_into_missing_parent_without_mkdirs_is_open_fail(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "x/y/file"), *want;
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	put_all(&d, &spec, "z", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT(asprintf(&want, "parent directory %s/x/y does not exist (use mkdirs)", dir) > 0);
	CU_ASSERT_STRING_EQUAL(d.ch[0].reason, want);
	free(want);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	/* The DATA and EOF sent behind the refused OPEN were dropped quietly. */
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_dotdot_and_relative_paths_are_refused(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "sub/../escape");
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "z", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "\"..\" is not allowed"));

	tu_drv_slot_reset(&d, 0);
	spec.path = "relative/file";
	spec.flags = 0;
	put_all(&d, &spec, "z", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "is relative"));

	tu_drv_slot_reset(&d, 0);
	spec.path = "ok/../../etc/passwd";
	spec.root = dir;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "\"..\"") != NULL);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(path);
	tu_tmpdir_free(dir);
}

static void test_files_beneath_root_a_symlink_to_outside_is_refused(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *root = tu_join(dir, "root"),
	     *outside = tu_join(dir, "outside");
	char *link = tu_join(root, "link"), *escaped = tu_join(outside, "file");
	char *flink = tu_join(root, "secret"), *victim = tu_join(outside, "victim");
	char *inside = tu_join(root, "a/b/file2");
	struct tu_drv d;

	mkdir(root, 0755);
	mkdir(outside, 0755);
	CU_ASSERT_EQUAL(symlink(outside, link), 0);
	tu_write_file(victim, "outside");
	CU_ASSERT_EQUAL(symlink(victim, flink), 0);
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.root = root;
	spec.path = "link/file";
	put_all(&d, &spec, "gotcha", 6);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "link is a symbolic link"));
	CU_ASSERT_EQUAL(access(escaped, F_OK), -1);

	/* MKDIRS creates directories but never walks through the link either. */
	tu_drv_slot_reset(&d, 0);
	spec.path = "link/new/file";
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "gotcha", 6);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_EQUAL(count_temps(outside), 0);
	CU_ASSERT_EQUAL(access(escaped, F_OK), -1);

	/* Real directories beneath the root are fine, made or found. */
	tu_drv_slot_reset(&d, 0);
	spec.path = "a/b/file";
	put_all(&d, &spec, "one", 3);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	tu_drv_slot_reset(&d, 0);
	spec.path = "a/b/file2";
	spec.flags = 0;
	put_all(&d, &spec, "two", 3);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(tu_file_is(inside, "two"));

	/* A read beneath the root does not follow a link either. */
	tu_drv_slot_reset(&d, 0);
	spec.path = "secret";
	spec.flags = 0;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "symbolic link") != NULL);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), 0);

	/* A PUT of the link itself replaces the link, not what it points to. */
	tu_drv_slot_reset(&d, 0);
	put_all(&d, &spec, "inside", 6);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(tu_file_is(flink, "inside"));
	CU_ASSERT(tu_file_is(victim, "outside"));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(root);
	free(outside);
	free(link);
	free(escaped);
	free(flink);
	free(victim);
	free(inside);
	tu_tmpdir_free(dir);
}

static void test_files_put_over_a_symlink_replaces_it_and_spares_its_target(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *dest = tu_join(dir, "dest"), *target = tu_join(dir, "target");
	struct stat st;
	struct tu_drv d;

	tu_write_file(target, "precious");
	CU_ASSERT_EQUAL(symlink(target, dest), 0);
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = dest;
	put_all(&d, &spec, "replaced", 8);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(lstat(dest, &st) == 0 && S_ISREG(st.st_mode));
	CU_ASSERT(tu_file_is(dest, "replaced"));
	CU_ASSERT(tu_file_is(target, "precious"));
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(dest);
	free(target);
	tu_tmpdir_free(dir);
}

static void test_files_put_dir_and_symlink_kinds(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tu_tmpdir_new(), *sub = tu_join(dir, "sub"), *ln = tu_join(dir, "ln");
	char got[64];
	struct stat st;
	ssize_t n;
	struct tu_drv d;

	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = sub;
	spec.flags = JG_FILE_DIR | JG_FILE_HAS_MODE;
	spec.mode = 0710;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0710);
	if (tu_drv_file_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT(res.flags & JG_FILE_DIR);
		CU_ASSERT_EQUAL(res.mode, 0710);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec for DIR");
	}

	/* Again: an existing directory is fine, and takes the new mode. */
	tu_drv_slot_reset(&d, 0);
	spec.mode = 0755;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 07777) == 0755);

	tu_drv_slot_reset(&d, 0);
	tu_write_file(ln, "a file was here");
	memset(&spec, 0, sizeof(spec));
	spec.path = ln;
	spec.flags = JG_FILE_SYMLINK;
	spec.link = "sub/../elsewhere";
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	n = readlink(ln, got, sizeof(got) - 1);
	CU_ASSERT(n > 0 && (got[n] = '\0', strcmp(got, "sub/../elsewhere") == 0));
	if (tu_drv_file_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT((res.flags & JG_FILE_SYMLINK) && res.link != NULL &&
			  strcmp(res.link, "sub/../elsewhere") == 0);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec for SYMLINK");
	}
	CU_ASSERT_EQUAL(count_temps(dir), 0);

	/* A symlink cannot replace a directory. */
	tu_drv_slot_reset(&d, 0);
	spec.path = sub;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "is a directory") != NULL);
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(sub);
	free(ln);
	tu_tmpdir_free(dir);
}

static void test_files_put_on_a_full_filesystem_dies_and_leaves_no_temp(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *mnt = tu_join(dir, "small"), *path = tu_join(mnt, "big");
	uint8_t *data = tu_pattern(1u << 20, 9);
	struct tu_drv d;

	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
		fprintf(stderr, "\n  SKIP %s: cannot mount a 64k tmpfs on %s: %s\n", __func__, mnt,
			strerror(errno));
		CU_PASS("skipped: no tmpfs mount");
		goto out;
	}
	tu_write_file(path, "old");
	if (!tu_drv_ready(&d, 20))
		goto unmount;
	spec.path = path;
	put_all(&d, &spec, data, 1u << 20);
	CU_ASSERT(d.ch[0].dead);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "No space left on device"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, path));
	CU_ASSERT(tu_file_is(path, "old"));
	CU_ASSERT_EQUAL(count_temps(mnt), 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
unmount:
	umount2(mnt, MNT_DETACH);
out:
	free(data);
	free(mnt);
	free(path);
	tu_tmpdir_free(dir);
}

static const char *temps_dir;

static int drv_temp_gone(struct tu_drv *d)
{
	return count_temps(temps_dir) == 0;
}

/* The agent has written the first LEN bytes of the upload to its temp file. */
static size_t temp_size(const char *dir)
{
	struct dirent *e;
	struct stat st;
	DIR *dd = opendir(dir);
	size_t size = 0;

	while (dd != NULL && (e = readdir(dd)) != NULL)
		if (strstr(e->d_name, ".jg-") != NULL && fstatat(dirfd(dd), e->d_name, &st, 0) == 0)
			size = (size_t)st.st_size;
	if (dd != NULL)
		closedir(dd);
	return size;
}

static int drv_temp_full(struct tu_drv *d)
{
	return temp_size(temps_dir) == up.len;
}

static void test_files_close_mid_upload_removes_the_temp_file(void)
{
	struct jg_file_spec spec = {0}, st_spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "partial");
	uint8_t *data = tu_pattern(100000, 1);
	int fds_idle;
	struct tu_drv d;

	temps_dir = dir;
	if (!tu_drv_ready(&d, 20))
		goto out;
	fds_idle = tu_count_fds(d.agent.pid);
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_PUT, &spec), 0);
	up_begin(data, 100000, 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, drv_temp_full, up_step, 5000), 0);
	/* the directory, the temp file, and the put journal when one can be kept (HOME) */
	CU_ASSERT(tu_count_fds(d.agent.pid) == fds_idle + 2 ||
		  tu_count_fds(d.agent.pid) == fds_idle + 3);
	CU_ASSERT_EQUAL(jg_link_close(d.link, (uint32_t)d.id[0]), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, drv_temp_gone, NULL, 5000), 0);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(tu_count_fds(d.agent.pid), fds_idle);

	/* The link carries on. */
	tu_drv_slot_reset(&d, 0);
	st_spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_STAT, &st_spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tu_tmpdir_free(dir);
}

static void backdate(const char *path, long seconds)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_files_temp_of_a_killed_agent_is_swept_by_the_next_one(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tu_tmpdir_new(), *path = tu_join(dir, "big"), *other = tu_join(dir, "other");
	char *locked = tu_join(dir, ".held.jg-0123456789abcdef.tmp");
	char *fresh = tu_join(dir, ".new.jg-fedcba9876543210.tmp"), *stale = NULL;
	uint8_t *data = tu_pattern(50000, 2);
	struct dirent *e;
	struct tu_drv d;
	DIR *dd;
	int lfd;

	temps_dir = dir;
	if (!tu_drv_ready(&d, 20))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(tu_drv_open_file(&d, 0, JG_OPEN_PUT, &spec), 0);
	up_begin(data, 50000, 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, drv_temp_full, up_step, 5000), 0);
	tu_drv_end(&d, 1);
	CU_ASSERT_EQUAL_FATAL(count_temps(dir), 1);
	dd = opendir(dir);
	while ((e = readdir(dd)) != NULL)
		if (strstr(e->d_name, ".jg-") != NULL)
			stale = tu_join(dir, e->d_name);
	closedir(dd);
	backdate(stale, 120);
	/* Old but locked (a live transfer, its agent stopped): kept.  Unlocked but
	 * fresh (a transfer that has just begun): kept. */
	tu_write_file(locked, "live");
	backdate(locked, 120);
	lfd = open(locked, O_RDONLY);
	CU_ASSERT_EQUAL(flock(lfd, LOCK_EX), 0);
	tu_write_file(fresh, "new");

	if (!tu_drv_ready(&d, 20))
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.path = other;
	put_all(&d, &spec, "x", 1);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	CU_ASSERT_EQUAL(access(locked, F_OK), 0);
	CU_ASSERT_EQUAL(access(fresh, F_OK), 0);
	close(lfd);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
out:
	free(data);
	free(path);
	free(other);
	free(locked);
	free(fresh);
	free(stale);
	tu_tmpdir_free(dir);
}

int jg_test_register_files(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("files", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_files_small_put_with_data_before_open_ok_is_written) ||
	    !CU_ADD_TEST(s, test_files_put_20mib_under_flow_control_reports_its_sha256) ||
	    !CU_ADD_TEST(s, test_files_wrong_sha256_gives_dead_and_keeps_the_old_file) ||
	    !CU_ADD_TEST(s,
			 test_files_put_applies_mode_mtime_and_owner_and_keeps_mode_on_replace) ||
	    !CU_ADD_TEST(s, test_files_put_of_unknown_owner_is_refused_before_any_write) ||
	    !CU_ADD_TEST(s, test_files_put_with_mkdirs_creates_the_parents) ||
	    !CU_ADD_TEST(s, test_files_put_into_missing_parent_without_mkdirs_is_open_fail) ||
	    !CU_ADD_TEST(s, test_files_dotdot_and_relative_paths_are_refused) ||
	    !CU_ADD_TEST(s, test_files_beneath_root_a_symlink_to_outside_is_refused) ||
	    !CU_ADD_TEST(s, test_files_put_over_a_symlink_replaces_it_and_spares_its_target) ||
	    !CU_ADD_TEST(s, test_files_put_dir_and_symlink_kinds) ||
	    !CU_ADD_TEST(s, test_files_put_on_a_full_filesystem_dies_and_leaves_no_temp) ||
	    !CU_ADD_TEST(s, test_files_close_mid_upload_removes_the_temp_file) ||
	    !CU_ADD_TEST(s, test_files_temp_of_a_killed_agent_is_swept_by_the_next_one) ||
	    jg_test_add_files_get(s) != 0)
		return -1;
	return 0;
}
