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

#define AGENT_PATH "./jumpgate-agent"
#define NCH 8

/* ---- the driver: jumpgate-agent over its stdio, an OPENER link on our side ---- */

struct fchan {
	struct evbuffer *data; /* DATA received */
	struct evbuffer *ok;   /* OPEN_OK's payload */
	size_t unacked;	       /* returned as credit once per pump round */
	int opened, failed, exited, eof, dead;
	uint32_t exit_code;
	char reason[1024];
};

struct drv {
	struct jg_child agent;
	struct jg_link *link;
	int hello;
	struct fchan ch[NCH];
	int64_t id[NCH];
};

static void drv_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	((struct drv *)ud)->hello = 1;
}

static void text_copy(char *dst, size_t cap, const void *src, size_t len)
{
	len = len < cap - 1 ? len : cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void drv_on_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f,
			 void *ud)
{
	struct fchan *c = cud;

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		c->opened = 1;
		evbuffer_add(c->ok, f->payload, f->length);
		break;
	case JG_FRAME_OPEN_FAIL:
		c->failed = 1;
		text_copy(c->reason, sizeof(c->reason), f->payload, f->length);
		break;
	case JG_FRAME_DATA:
		evbuffer_add(c->data, f->payload, f->length);
		c->unacked += f->length;
		break;
	case JG_FRAME_EOF:
		c->eof = 1;
		break;
	case JG_FRAME_EXIT:
		c->exited = 1;
		c->exit_code = f->aux;
		break;
	}
}

static void drv_on_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	struct fchan *c = cud;

	c->dead = 1;
	text_copy(c->reason, sizeof(c->reason), reason, strlen(reason));
}

static void drv_show_log(struct drv *d)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(d->agent.err_fd, buf, sizeof(buf))) > 0)
		if (getenv("JG_AGENT_LOG") != NULL)
			(void)!write(STDERR_FILENO, buf, (size_t)n);
}

/* Move bytes both ways until DONE(d) or TIMEOUT_MS; STEP (may be NULL) runs each round. */
static int drv_pump(struct drv *d, int (*done)(struct drv *), void (*step)(struct drv *),
		    long timeout_ms)
{
	long end = tu_now_ms() + timeout_ms;
	char buf[65536];

	while (!done(d) && tu_now_ms() < end) {
		struct evbuffer *out = jg_link_output(d->link);
		struct pollfd p[3] = {{d->agent.out_fd, POLLIN, 0},
				      {d->agent.in_fd, 0, 0},
				      {d->agent.err_fd, POLLIN, 0}};
		ssize_t n;

		if (step != NULL)
			step(d);
		for (int i = 0; i < NCH; i++)
			if (d->ch[i].unacked > 0 && d->id[i] > 0) {
				jg_link_consumed(d->link, (uint32_t)d->id[i], d->ch[i].unacked);
				d->ch[i].unacked = 0;
			}
		if (evbuffer_get_length(out) > 0 && d->agent.in_fd >= 0)
			p[1].events = POLLOUT;
		if (poll(p, 3, 20) < 0)
			return -1;
		if (p[2].revents & POLLIN)
			drv_show_log(d);
		if (p[1].revents & (POLLOUT | POLLERR))
			evbuffer_write(out, d->agent.in_fd);
		if (p[0].revents & (POLLIN | POLLHUP)) {
			if ((n = read(d->agent.out_fd, buf, sizeof(buf))) == 0)
				return done(d) ? 0 : -1;
			if (n > 0 && jg_link_feed(d->link, buf, (size_t)n) != 0)
				return done(d) ? 0 : -1;
		}
	}
	return done(d) ? 0 : -1;
}

static int drv_hello_done(struct drv *d)
{
	return d->hello;
}

/* Start the agent and do HELLO; false (after a failed assertion) without a binary. */
static int drv_ready(struct drv *d)
{
	static const struct jg_link_callbacks cb = {
	    .on_hello = drv_on_hello, .on_frame = drv_on_frame, .on_dead = drv_on_dead};
	char *argv[] = {AGENT_PATH, "--log-level",
			getenv("JG_AGENT_LOG") ? getenv("JG_AGENT_LOG") : "error", NULL};
	struct jg_spawn_opts o = {.argv = argv};

	memset(d, 0, sizeof(*d));
	for (int i = 0; i < NCH; i++) {
		d->ch[i].data = evbuffer_new();
		d->ch[i].ok = evbuffer_new();
	}
	d->agent.pid = -1;
	if (access(AGENT_PATH, X_OK) != 0 || jg_spawn(&o, &d->agent, NULL, 0) != 0) {
		CU_FAIL("cannot start " AGENT_PATH " (run the tests from the build directory)");
		return 0;
	}
	d->link = jg_link_new(JG_LINK_OPENER, &cb, d);
	jg_link_send_hello(d->link, "test");
	CU_ASSERT_EQUAL(drv_pump(d, drv_hello_done, NULL, 5000), 0);
	return d->hello;
}

/* Close the agent's stdin (or SIGKILL it with KILL) and reap it; its exit status. */
static int drv_end(struct drv *d, int kill_it)
{
	long end = tu_now_ms() + 8000;
	pid_t got = 0;
	int st = -1;

	if (d->agent.pid > 0) {
		if (kill_it)
			kill(d->agent.pid, SIGKILL);
		close(d->agent.in_fd);
		d->agent.in_fd = -1;
		while ((got = waitpid(d->agent.pid, &st, WNOHANG)) == 0 && tu_now_ms() < end) {
			drv_show_log(d);
			usleep(5000);
		}
		drv_show_log(d);
		if (got != d->agent.pid) {
			kill(d->agent.pid, SIGKILL);
			tu_wait_child(d->agent.pid);
			st = -1;
		}
		tu_close_child(&d->agent);
	}
	if (d->link != NULL)
		jg_link_free(d->link);
	for (int i = 0; i < NCH; i++) {
		evbuffer_free(d->ch[i].data);
		evbuffer_free(d->ch[i].ok);
	}
	return st;
}

static int drv_stop(struct drv *d)
{
	return drv_end(d, 0);
}

/* OPEN(KIND, SPEC) on slot I. */
static int drv_open(struct drv *d, int i, uint32_t kind, const struct jg_file_spec *spec)
{
	struct evbuffer *p = evbuffer_new();

	if (jg_file_spec_encode(spec, p) != 0) {
		evbuffer_free(p);
		return -1;
	}
	d->id[i] =
	    jg_link_open(d->link, kind, evbuffer_pullup(p, -1), evbuffer_get_length(p), &d->ch[i]);
	evbuffer_free(p);
	return d->id[i] > 0 ? 0 : -1;
}

/* Make slot I ready for a new channel. */
static void slot_reset(struct drv *d, int i)
{
	struct fchan *c = &d->ch[i];

	evbuffer_drain(c->data, evbuffer_get_length(c->data));
	evbuffer_drain(c->ok, evbuffer_get_length(c->ok));
	memset(&c->unacked, 0, sizeof(*c) - offsetof(struct fchan, unacked));
}

static int ch0_over(struct drv *d)
{
	return d->ch[0].exited || d->ch[0].failed || d->ch[0].dead;
}

/* Decode slot I's result (the DATA of a PUT, or OPEN_OK's payload with OK). */
static int drv_result(struct drv *d, int i, int ok, struct jg_file_spec *out)
{
	struct evbuffer *b = ok ? d->ch[i].ok : d->ch[i].data;
	char err[256];

	return jg_file_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), out, err,
				   sizeof(err));
}

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
static void up_step(struct drv *d)
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
static void put_all(struct drv *d, const struct jg_file_spec *spec, const void *buf, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(drv_open(d, 0, JG_OPEN_PUT, spec), 0);
	up_begin(buf, len, 1);
	CU_ASSERT_EQUAL(drv_pump(d, ch0_over, up_step, 60000), 0);
}

static void sha256_of(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 131 + seed + i / 4093);
	return b;
}

/* ---- the file system around a test ---- */

static char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/jg-files-XXXXXX";

	return mkdtemp(tmpl) != NULL ? strdup(tmpl) : NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) != 0 && errno != ENOENT;
}

static void tmpdir_free(char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *join(const char *dir, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The whole file at PATH, NUL-terminated; *len its size.  NULL when missing. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	fstat(fd, &st);
	b = malloc((size_t)st.st_size + 1);
	*len = (size_t)read(fd, b, (size_t)st.st_size);
	b[*len] = '\0';
	close(fd);
	return b;
}

static int file_is(const char *path, const char *text)
{
	size_t len;
	char *b = read_file(path, &len);
	int same = b != NULL && len == strlen(text) && memcmp(b, text, len) == 0;

	free(b);
	return same;
}

/* Live descriptors of PID, from /proc. */
static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
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
	char *dir = tmpdir_new(), *path = join(dir, "greeting");
	uint8_t sum[32];
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_PUT, &spec), 0);
	/* One round trip: the bytes and EOF go right behind the OPEN. */
	CU_ASSERT_EQUAL(jg_link_send_data(d.link, (uint32_t)d.id[0], 0, body, strlen(body)),
			(int64_t)strlen(body));
	CU_ASSERT_EQUAL(jg_link_send_eof(d.link, (uint32_t)d.id[0], 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_EQUAL_FATAL(drv_result(&d, 0, 0, &res), 0);
	sha256_of(body, strlen(body), sum);
	CU_ASSERT(res.flags & JG_FILE_HAS_SHA256);
	CU_ASSERT_EQUAL(memcmp(res.sha256, sum, 32), 0);
	CU_ASSERT_EQUAL(res.size, strlen(body));
	CU_ASSERT_EQUAL(res.mode, 0644);
	jg_file_spec_clear(&res);
	CU_ASSERT(file_is(path, body));
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

#define BIG_PUT (20u << 20)

static void test_files_put_20mib_under_flow_control_reports_its_sha256(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tmpdir_new(), *path = join(dir, "big.bin");
	uint8_t *data = pattern(BIG_PUT, 3), sum[32];
	struct stat st;
	size_t len = 0;
	char *back;
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	sha256_of(data, BIG_PUT, sum);
	memcpy(spec.sha256, sum, 32);
	spec.flags = JG_FILE_HAS_SHA256 | JG_FILE_HAS_SIZE;
	spec.size = BIG_PUT;
	/* 80 windows: the upload moves only as the agent returns credit. */
	put_all(&d, &spec, data, BIG_PUT);
	CU_ASSERT_EQUAL(up.sent, BIG_PUT);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	if (drv_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT_EQUAL(memcmp(res.sha256, sum, 32), 0);
		CU_ASSERT_EQUAL(res.size, BIG_PUT);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec");
	}
	CU_ASSERT(stat(path, &st) == 0 && st.st_size == BIG_PUT);
	back = read_file(path, &len);
	CU_ASSERT(back != NULL && len == BIG_PUT && memcmp(back, data, BIG_PUT) == 0);
	free(back);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tmpdir_free(dir);
}

static void test_files_wrong_sha256_gives_dead_and_keeps_the_old_file(void)
{
	static const char body[] = "new contents";
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "conf");
	struct drv d;

	write_file(path, "old contents");
	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_HAS_SHA256;
	memset(spec.sha256, 0xab, 32);
	put_all(&d, &spec, body, strlen(body));
	CU_ASSERT(d.ch[0].dead && !d.ch[0].exited);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "sha256 mismatch: expected abababab"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "left unchanged"));
	CU_ASSERT(file_is(path, "old contents"));
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

static void test_files_put_applies_mode_mtime_and_owner_and_keeps_mode_on_replace(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "script.sh"), *kept = join(dir, "kept");
	struct stat st;
	struct drv d;

	write_file(kept, "before");
	chmod(kept, 0600);
	if (!drv_ready(&d))
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
	slot_reset(&d, 0);
	memset(&spec, 0, sizeof(spec));
	spec.path = kept;
	put_all(&d, &spec, "after", 5);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(stat(kept, &st) == 0 && (st.st_mode & 07777) == 0600);
	CU_ASSERT(file_is(kept, "after"));
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	free(kept);
	tmpdir_free(dir);
}

static void test_files_put_of_unknown_owner_is_refused_before_any_write(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "f");
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	spec.owner = "no-such-user-jg";
	put_all(&d, &spec, "x", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "unknown user no-such-user-jg"));
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

static void test_files_put_with_mkdirs_creates_the_parents(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "a//b/./c/file"),
	     *real = join(dir, "a/b/c/file");
	struct stat st;
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "deep", 4);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(file_is(real, "deep"));
	CU_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	free(real);
	tmpdir_free(dir);
}

static void test_files_put_into_missing_parent_without_mkdirs_is_open_fail(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "x/y/file"), *want;
	struct drv d;

	if (!drv_ready(&d))
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
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

static void test_files_dotdot_and_relative_paths_are_refused(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "sub/../escape");
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "z", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "\"..\" is not allowed"));

	slot_reset(&d, 0);
	spec.path = "relative/file";
	spec.flags = 0;
	put_all(&d, &spec, "z", 1);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "is relative"));

	slot_reset(&d, 0);
	spec.path = "ok/../../etc/passwd";
	spec.root = dir;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "\"..\"") != NULL);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

static void test_files_beneath_root_a_symlink_to_outside_is_refused(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *root = join(dir, "root"), *outside = join(dir, "outside");
	char *link = join(root, "link"), *escaped = join(outside, "file");
	char *flink = join(root, "secret"), *victim = join(outside, "victim");
	char *inside = join(root, "a/b/file2");
	struct drv d;

	mkdir(root, 0755);
	mkdir(outside, 0755);
	CU_ASSERT_EQUAL(symlink(outside, link), 0);
	write_file(victim, "outside");
	CU_ASSERT_EQUAL(symlink(victim, flink), 0);
	if (!drv_ready(&d))
		goto out;
	spec.root = root;
	spec.path = "link/file";
	put_all(&d, &spec, "gotcha", 6);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "link is a symbolic link"));
	CU_ASSERT_EQUAL(access(escaped, F_OK), -1);

	/* MKDIRS creates directories but never walks through the link either. */
	slot_reset(&d, 0);
	spec.path = "link/new/file";
	spec.flags = JG_FILE_MKDIRS;
	put_all(&d, &spec, "gotcha", 6);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_EQUAL(count_temps(outside), 0);
	CU_ASSERT_EQUAL(access(escaped, F_OK), -1);

	/* Real directories beneath the root are fine, made or found. */
	slot_reset(&d, 0);
	spec.path = "a/b/file";
	put_all(&d, &spec, "one", 3);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	slot_reset(&d, 0);
	spec.path = "a/b/file2";
	spec.flags = 0;
	put_all(&d, &spec, "two", 3);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(file_is(inside, "two"));

	/* A read beneath the root does not follow a link either. */
	slot_reset(&d, 0);
	spec.path = "secret";
	spec.flags = 0;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "symbolic link") != NULL);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].data), 0);

	/* A PUT of the link itself replaces the link, not what it points to. */
	slot_reset(&d, 0);
	put_all(&d, &spec, "inside", 6);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(file_is(flink, "inside"));
	CU_ASSERT(file_is(victim, "outside"));
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(root);
	free(outside);
	free(link);
	free(escaped);
	free(flink);
	free(victim);
	free(inside);
	tmpdir_free(dir);
}

static void test_files_put_over_a_symlink_replaces_it_and_spares_its_target(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *dest = join(dir, "dest"), *target = join(dir, "target");
	struct stat st;
	struct drv d;

	write_file(target, "precious");
	CU_ASSERT_EQUAL(symlink(target, dest), 0);
	if (!drv_ready(&d))
		goto out;
	spec.path = dest;
	put_all(&d, &spec, "replaced", 8);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(lstat(dest, &st) == 0 && S_ISREG(st.st_mode));
	CU_ASSERT(file_is(dest, "replaced"));
	CU_ASSERT(file_is(target, "precious"));
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(dest);
	free(target);
	tmpdir_free(dir);
}

static void test_files_put_dir_and_symlink_kinds(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tmpdir_new(), *sub = join(dir, "sub"), *ln = join(dir, "ln");
	char got[64];
	struct stat st;
	ssize_t n;
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = sub;
	spec.flags = JG_FILE_DIR | JG_FILE_HAS_MODE;
	spec.mode = 0710;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0710);
	if (drv_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT(res.flags & JG_FILE_DIR);
		CU_ASSERT_EQUAL(res.mode, 0710);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec for DIR");
	}

	/* Again: an existing directory is fine, and takes the new mode. */
	slot_reset(&d, 0);
	spec.mode = 0755;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 07777) == 0755);

	slot_reset(&d, 0);
	write_file(ln, "a file was here");
	memset(&spec, 0, sizeof(spec));
	spec.path = ln;
	spec.flags = JG_FILE_SYMLINK;
	spec.link = "sub/../elsewhere";
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	n = readlink(ln, got, sizeof(got) - 1);
	CU_ASSERT(n > 0 && (got[n] = '\0', strcmp(got, "sub/../elsewhere") == 0));
	if (drv_result(&d, 0, 0, &res) == 0) {
		CU_ASSERT((res.flags & JG_FILE_SYMLINK) && res.link != NULL &&
			  strcmp(res.link, "sub/../elsewhere") == 0);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("no result spec for SYMLINK");
	}
	CU_ASSERT_EQUAL(count_temps(dir), 0);

	/* A symlink cannot replace a directory. */
	slot_reset(&d, 0);
	spec.path = sub;
	put_all(&d, &spec, NULL, 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "is a directory") != NULL);
	CU_ASSERT_EQUAL(count_temps(dir), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(sub);
	free(ln);
	tmpdir_free(dir);
}

static void test_files_put_on_a_full_filesystem_dies_and_leaves_no_temp(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *mnt = join(dir, "small"), *path = join(mnt, "big");
	uint8_t *data = pattern(1u << 20, 9);
	struct drv d;

	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
		fprintf(stderr, "\n  SKIP %s: cannot mount a 64k tmpfs on %s: %s\n", __func__, mnt,
			strerror(errno));
		CU_PASS("skipped: no tmpfs mount");
		goto out;
	}
	write_file(path, "old");
	if (!drv_ready(&d))
		goto unmount;
	spec.path = path;
	put_all(&d, &spec, data, 1u << 20);
	CU_ASSERT(d.ch[0].dead);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, "No space left on device"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[0].reason, path));
	CU_ASSERT(file_is(path, "old"));
	CU_ASSERT_EQUAL(count_temps(mnt), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
unmount:
	umount2(mnt, MNT_DETACH);
out:
	free(data);
	free(mnt);
	free(path);
	tmpdir_free(dir);
}

static const char *temps_dir;

static int drv_temp_gone(struct drv *d)
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

static int drv_temp_full(struct drv *d)
{
	return temp_size(temps_dir) == up.len;
}

static void test_files_close_mid_upload_removes_the_temp_file(void)
{
	struct jg_file_spec spec = {0}, st_spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "partial");
	uint8_t *data = pattern(100000, 1);
	int fds_idle;
	struct drv d;

	temps_dir = dir;
	if (!drv_ready(&d))
		goto out;
	fds_idle = count_fds(d.agent.pid);
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_PUT, &spec), 0);
	up_begin(data, 100000, 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_temp_full, up_step, 5000), 0);
	CU_ASSERT_EQUAL(count_fds(d.agent.pid), fds_idle + 2); /* the directory, the temp file */
	CU_ASSERT_EQUAL(jg_link_close(d.link, (uint32_t)d.id[0]), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_temp_gone, NULL, 5000), 0);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(count_fds(d.agent.pid), fds_idle);

	/* The link carries on. */
	slot_reset(&d, 0);
	st_spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_STAT, &st_spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tmpdir_free(dir);
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
	char *dir = tmpdir_new(), *path = join(dir, "big"), *other = join(dir, "other");
	char *locked = join(dir, ".held.jg-0123456789abcdef.tmp");
	char *fresh = join(dir, ".new.jg-fedcba9876543210.tmp"), *stale = NULL;
	uint8_t *data = pattern(50000, 2);
	struct dirent *e;
	struct drv d;
	DIR *dd;
	int lfd;

	temps_dir = dir;
	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_PUT, &spec), 0);
	up_begin(data, 50000, 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_temp_full, up_step, 5000), 0);
	drv_end(&d, 1);
	CU_ASSERT_EQUAL_FATAL(count_temps(dir), 1);
	dd = opendir(dir);
	while ((e = readdir(dd)) != NULL)
		if (strstr(e->d_name, ".jg-") != NULL)
			stale = join(dir, e->d_name);
	closedir(dd);
	backdate(stale, 120);
	/* Old but locked (a live transfer, its agent stopped): kept.  Unlocked but
	 * fresh (a transfer that has just begun): kept. */
	write_file(locked, "live");
	backdate(locked, 120);
	lfd = open(locked, O_RDONLY);
	CU_ASSERT_EQUAL(flock(lfd, LOCK_EX), 0);
	write_file(fresh, "new");

	if (!drv_ready(&d))
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.path = other;
	put_all(&d, &spec, "x", 1);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	CU_ASSERT_EQUAL(access(locked, F_OK), 0);
	CU_ASSERT_EQUAL(access(fresh, F_OK), 0);
	close(lfd);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(data);
	free(path);
	free(other);
	free(locked);
	free(fresh);
	free(stale);
	tmpdir_free(dir);
}

/* ---- GET and STAT ---- */

#define BIG_GET (5u << 20)

static void test_files_get_5mib_streams_under_flow_control(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tmpdir_new(), *path = join(dir, "download");
	uint8_t *data = pattern(BIG_GET, 5), want[32], got[32];
	int fd;
	struct drv d;

	fd = open(path, O_WRONLY | O_CREAT, 0640);
	CU_ASSERT_EQUAL(write(fd, data, BIG_GET), (ssize_t)BIG_GET);
	close(fd);
	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 30000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].eof && d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	if (drv_result(&d, 0, 1, &res) == 0) {
		CU_ASSERT_EQUAL(res.size, BIG_GET);
		CU_ASSERT_EQUAL(res.mode, 0640);
		CU_ASSERT(!(res.flags & JG_FILE_DIR));
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].data), BIG_GET);
	sha256_of(data, BIG_GET, want);
	sha256_of(evbuffer_pullup(d.ch[0].data, -1), evbuffer_get_length(d.ch[0].data), got);
	CU_ASSERT_EQUAL(memcmp(want, got, 32), 0);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tmpdir_free(dir);
}

#define NGET 6
#define GET_EACH (1u << 20)

static int all_gets_over(struct drv *d)
{
	for (int i = 0; i < NGET; i++)
		if (!d->ch[i].exited && !d->ch[i].failed && !d->ch[i].dead)
			return 0;
	return 1;
}

static int all_gets_opened(struct drv *d)
{
	for (int i = 0; i < NGET; i++)
		if (!d->ch[i].opened)
			return 0;
	return 1;
}

static void test_files_concurrent_gets_to_a_slow_reader_are_throttled_and_resumed(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "shared");
	uint8_t *data = pattern(GET_EACH, 7);
	int fd, fds_idle;
	struct drv d;

	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CU_ASSERT_EQUAL(write(fd, data, GET_EACH), (ssize_t)GET_EACH);
	close(fd);
	if (!drv_ready(&d))
		goto out;
	fds_idle = count_fds(d.agent.pid);
	spec.path = path;
	for (int i = 0; i < NGET; i++)
		CU_ASSERT_EQUAL_FATAL(drv_open(&d, i, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, all_gets_opened, NULL, 5000), 0);
	/* Six windows (1.5 MiB) exceed the agent's 1 MiB output mark while we do not
	 * read: the reads stop on the mark, and resume as the output drains. */
	usleep(300000);
	CU_ASSERT_EQUAL(drv_pump(&d, all_gets_over, NULL, 30000), 0);
	for (int i = 0; i < NGET; i++) {
		CU_ASSERT(d.ch[i].exited && d.ch[i].exit_code == 0);
		CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[i].data), GET_EACH);
		CU_ASSERT(memcmp(evbuffer_pullup(d.ch[i].data, -1), data, GET_EACH) == 0);
	}
	CU_ASSERT_EQUAL(count_fds(d.agent.pid), fds_idle);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(data);
	free(path);
	tmpdir_free(dir);
}

static void test_files_get_of_missing_file_or_directory_is_open_fail(void)
{
	struct jg_file_spec spec = {0};
	char *dir = tmpdir_new(), *path = join(dir, "nothing"), *want;
	struct drv d;

	if (!drv_ready(&d))
		goto out;
	spec.path = path;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT(asprintf(&want, "no such file: %s", path) > 0);
	CU_ASSERT_STRING_EQUAL(d.ch[0].reason, want);
	free(want);

	slot_reset(&d, 0);
	spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_GET, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed && strstr(d.ch[0].reason, "is a directory") != NULL);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(path);
	tmpdir_free(dir);
}

static int ch12_over(struct drv *d)
{
	for (int i = 1; i <= 2; i++)
		if (!d->ch[i].exited && !d->ch[i].failed && !d->ch[i].dead)
			return 0;
	return 1;
}

static void test_files_stat_describes_a_directory_a_file_and_a_missing_path(void)
{
	struct jg_file_spec spec = {0}, res;
	char *dir = tmpdir_new(), *file = join(dir, "f"), *missing = join(dir, "nope");
	struct drv d;

	write_file(file, "12345");
	chmod(dir, 0751);
	if (!drv_ready(&d))
		goto out;
	spec.path = dir;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, JG_OPEN_STAT, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].exited && d.ch[0].exit_code == 0);
	if (drv_result(&d, 0, 1, &res) == 0) {
		CU_ASSERT(res.flags & JG_FILE_DIR);
		CU_ASSERT(res.flags & JG_FILE_HAS_MTIME);
		CU_ASSERT_EQUAL(res.mode, 0751);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}

	spec.path = file;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 1, JG_OPEN_STAT, &spec), 0);
	spec.path = missing;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 2, JG_OPEN_STAT, &spec), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, ch12_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[1].exited && d.ch[2].failed);
	if (drv_result(&d, 1, 1, &res) == 0) {
		CU_ASSERT(!(res.flags & JG_FILE_DIR));
		CU_ASSERT_EQUAL(res.size, 5);
		jg_file_spec_clear(&res);
	} else {
		CU_FAIL("OPEN_OK carries no file spec");
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(d.ch[2].reason, "no such file: "));
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
out:
	free(file);
	free(missing);
	tmpdir_free(dir);
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
	    !CU_ADD_TEST(s, test_files_get_5mib_streams_under_flow_control) ||
	    !CU_ADD_TEST(s,
			 test_files_concurrent_gets_to_a_slow_reader_are_throttled_and_resumed) ||
	    !CU_ADD_TEST(s, test_files_get_of_missing_file_or_directory_is_open_fail) ||
	    !CU_ADD_TEST(s, test_files_stat_describes_a_directory_a_file_and_a_missing_path))
		return -1;
	return 0;
}
