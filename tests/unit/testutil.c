/* Helpers shared by the unit tests: registering a suite, and running processes. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <event2/buffer.h>
#include <openssl/evp.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/opspec.h"
#include "tests/unit/testutil.h"

int tu_add_suite(const char *name, CU_InitializeFunc setup, CU_CleanupFunc teardown,
		 const struct tu_test *tests, size_t n)
{
	CU_pSuite s = CU_add_suite(name, setup, teardown);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}

/* Set or unset (VALUE NULL) an environment variable, keeping the old value. */
char *tu_swap_env(const char *name, const char *value)
{
	const char *old = getenv(name);
	char *saved = old != NULL ? strdup(old) : NULL;

	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
	return saved;
}

void tu_restore_env(const char *name, char *saved)
{
	if (saved != NULL)
		setenv(name, saved, 1);
	else
		unsetenv(name);
	free(saved);
}

long tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read FD (non-blocking) until EOF (or EIO, a pty's EOF) into BUF; returns the length. */
size_t tu_read_all(int fd, char *buf, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	size_t len = 0;
	long end = tu_now_ms() + 5000;
	ssize_t n;

	while (len + 1 < cap && tu_now_ms() < end) {
		if (poll(&p, 1, 100) < 0)
			break;
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	buf[len] = '\0';
	return len;
}

int tu_wait_child(pid_t pid)
{
	int st = -1;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

void tu_close_child(struct jg_child *c)
{
	int *fds[] = {&c->in_fd, &c->out_fd, &c->err_fd};

	for (int i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* ---- the agent driver ---- */

static void drv_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	((struct tu_drv *)ud)->hello = 1;
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
	struct tu_chan *c = cud;

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
		evbuffer_add(f->flags & JG_DATA_STDERR ? c->err : c->out, f->payload, f->length);
		c->unacked += f->length;
		break;
	case JG_FRAME_EOF:
		c->eof = 1;
		*(f->flags & JG_DATA_STDERR ? &c->err_eof : &c->out_eof) = 1;
		break;
	case JG_FRAME_EXIT:
		c->exited = 1;
		c->exit_flags = f->flags;
		c->exit_code = f->aux;
		break;
	}
}

static void drv_on_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	struct tu_chan *c = cud;

	c->dead = 1;
	text_copy(c->reason, sizeof(c->reason), reason, strlen(reason));
}

void tu_drv_show_log(struct tu_drv *d)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(d->agent.err_fd, buf, sizeof(buf))) > 0)
		if (getenv("JG_AGENT_LOG") != NULL)
			(void)!write(STDERR_FILENO, buf, (size_t)n);
}

int tu_drv_pump(struct tu_drv *d, int (*done)(struct tu_drv *), void (*step)(struct tu_drv *),
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
		for (int i = 0; i < TU_NCH; i++)
			if (d->ch[i].unacked > 0 && d->id[i] > 0) {
				jg_link_consumed(d->link, (uint32_t)d->id[i], d->ch[i].unacked);
				d->ch[i].unacked = 0;
			}
		if (evbuffer_get_length(out) > 0 && d->agent.in_fd >= 0)
			p[1].events = POLLOUT;
		if (poll(p, 3, d->poll_ms) < 0)
			return -1;
		if (p[2].revents & POLLIN)
			tu_drv_show_log(d);
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

static int drv_hello_done(struct tu_drv *d)
{
	return d->hello;
}

int tu_drv_ready(struct tu_drv *d, int poll_ms)
{
	static const struct jg_link_cbs cb = {
	    .on_hello = drv_on_hello, .on_frame = drv_on_frame, .on_dead = drv_on_dead};
	char *argv[] = {TU_AGENT_PATH, "--log-level",
			getenv("JG_AGENT_LOG") ? getenv("JG_AGENT_LOG") : "error", NULL};
	struct jg_spawn_opts o = {.argv = argv};

	memset(d, 0, sizeof(*d));
	d->poll_ms = poll_ms;
	for (int i = 0; i < TU_NCH; i++) {
		d->ch[i].out = evbuffer_new();
		d->ch[i].err = evbuffer_new();
		d->ch[i].ok = evbuffer_new();
	}
	d->agent.pid = -1;
	if (access(TU_AGENT_PATH, X_OK) != 0 || jg_spawn(&o, &d->agent, NULL, 0) != 0) {
		CU_FAIL("cannot start " TU_AGENT_PATH " (run the tests from the build directory)");
		return 0;
	}
	d->link = jg_link_new(JG_LINK_OPENER, &cb, d);
	jg_link_send_hello(d->link, "test");
	CU_ASSERT_EQUAL(tu_drv_pump(d, drv_hello_done, NULL, 5000), 0);
	return d->hello;
}

int tu_drv_end(struct tu_drv *d, int kill_it)
{
	long end = tu_now_ms() + 8000;
	pid_t got = 0;
	int st = -1;

	if (d->agent.pid > 0) {
		if (kill_it)
			kill(d->agent.pid, SIGKILL);
		close(d->agent.in_fd);
		d->agent.in_fd = -1;
		/* Keep draining its log so it can say goodbye before exiting. */
		while ((got = waitpid(d->agent.pid, &st, WNOHANG)) == 0 && tu_now_ms() < end) {
			tu_drv_show_log(d);
			usleep(5000);
		}
		tu_drv_show_log(d);
		if (got != d->agent.pid) {
			kill(d->agent.pid, SIGKILL);
			tu_wait_child(d->agent.pid);
			st = -1;
		}
		tu_close_child(&d->agent);
	}
	if (d->link != NULL)
		jg_link_free(d->link);
	d->link = NULL;
	for (int i = 0; i < TU_NCH; i++) {
		evbuffer_free(d->ch[i].out);
		evbuffer_free(d->ch[i].err);
		evbuffer_free(d->ch[i].ok);
	}
	return st;
}

int tu_drv_stop(struct tu_drv *d)
{
	return tu_drv_end(d, 0);
}

void tu_drv_slot_reset(struct tu_drv *d, int i)
{
	struct tu_chan *c = &d->ch[i];

	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	evbuffer_drain(c->err, evbuffer_get_length(c->err));
	evbuffer_drain(c->ok, evbuffer_get_length(c->ok));
	memset(&c->unacked, 0, sizeof(*c) - offsetof(struct tu_chan, unacked));
}

int tu_drv_ch0_over(struct tu_drv *d)
{
	return d->ch[0].exited || d->ch[0].failed || d->ch[0].dead;
}

/* ---- file channels and the file system around a test ---- */

/* OPEN(KIND, SPEC) on slot I. */
int tu_drv_open_file(struct tu_drv *d, int i, uint32_t kind, const struct jg_file_spec *spec)
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

/* Decode slot I's result (the DATA of a PUT, or OPEN_OK's payload with OK). */
int tu_drv_file_result(struct tu_drv *d, int i, int ok, struct jg_file_spec *out)
{
	struct evbuffer *b = ok ? d->ch[i].ok : d->ch[i].out;
	char err[256];

	return jg_file_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), out, err,
				   sizeof(err));
}

void tu_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

uint8_t *tu_pattern(size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 131 + seed + i / 4093);
	return b;
}

char *tu_tmpdir_new(void)
{
	char tmpl[] = "/tmp/jg-files-XXXXXX";

	return mkdtemp(tmpl) != NULL ? strdup(tmpl) : NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) != 0 && errno != ENOENT;
}

void tu_tmpdir_free(char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *tu_join(const char *dir, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

void tu_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The whole file at PATH, NUL-terminated; *len its size.  NULL when missing. */
char *tu_read_file(const char *path, size_t *len)
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

int tu_file_is(const char *path, const char *text)
{
	size_t len;
	char *b = tu_read_file(path, &len);
	int same = b != NULL && len == strlen(text) && memcmp(b, text, len) == 0;

	free(b);
	return same;
}

/* Live descriptors of PID, from /proc. */
int tu_count_fds(pid_t pid)
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

/* ---- configuration files ---- */

/* Write TEXT to a new file under /tmp; its name into PATH (>= 32 bytes). */
void tu_write_tmp(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/jgconf-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Loading TEXT must fail with CODE and a message starting "FILE:LINE: WHAT". */
void tu_expect_error(const char *text, int code, int line, const char *what)
{
	char path[32], err[512], want[600];
	struct jg_config *c = NULL;
	int r;

	tu_write_tmp(path, text);
	r = jg_config_load(path, &c, err, sizeof(err));
	CU_ASSERT_EQUAL(r, code);
	CU_ASSERT_PTR_NULL(c);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, what);
	if (r == 0 || strncmp(err, want, strlen(want)) != 0)
		fprintf(stderr, "\n  config: %s\n  got:  %s\n  want: %s...\n", text,
			r == 0 ? "(ok)" : err, want);
	CU_ASSERT_NSTRING_EQUAL(err, want, strlen(want));
	jg_config_free(c);
	unlink(path);
}

struct jg_config *tu_load_ok(const char *text, char *path)
{
	char err[512] = "";
	struct jg_config *c = NULL;
	int r;

	tu_write_tmp(path, text);
	r = jg_config_load(path, &c, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "\n  unexpected error: %s\n", err);
	CU_ASSERT_EQUAL(r, 0);
	return c;
}

/* ---- target specs ---- */

/* The inventory every target and chain test resolves against. */
static const char inventory[] =
    "ssh_defaults = { user = \"ops\"; identity_file = \"/k/id\"; check_host_keys = \"ignore\";\n"
    "  known_hosts = \"/dev/null\"; ssh_args = [ \"-4\" ]; connect_timeout = 3; };\n"
    "targets = (\n"
    "  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; user = \"deploy\";\n"
    "    port = 2222; },\n"
    "  { name = \"v6\"; method = \"ssh\"; host = \"[::1]\"; },\n"
    "  { name = \"here\"; method = \"local\"; },\n"
    "  { name = \"db7\"; method = \"local\"; },\n"
    /* Entries of other methods, used as later hops of chains. */
    "  { name = \"asroot\"; method = \"su\"; user = \"root\"; password = \"s3cret\";\n"
    "    login = true; },\n"
    "  { name = \"pgct\"; method = \"lxc\"; container = \"pg\"; lxc_path = \"/srv/lxc\"; },\n"
    "  { name = \"kpod\"; method = \"kubectl\"; pod = \"api-0\"; namespace = \"shop\";\n"
    "    container = \"app\"; kubectl_args = [ \"--kubeconfig=/k/config\" ]; },\n"
    "  { name = \"office\"; method = \"tunnel\"; host = \"127.0.0.5\"; },\n"
    "  { name = \"pwhost\"; method = \"ssh\"; host = \"10.0.0.9\"; password = \"pw\"; },\n"
    "  { name = \"rawhost\"; method = \"ssh\"; host = \"10.0.0.8\"; raw = true; }\n"
    ");\n";

struct jg_config *tu_target_cfg;

int tu_target_setup(void)
{
	char path[] = "/tmp/jgtarget-XXXXXX", err[512];
	int fd = mkstemp(path), r;

	if (fd < 0)
		return -1;
	r = write(fd, inventory, strlen(inventory)) == (ssize_t)strlen(inventory) ? 0 : -1;
	close(fd);
	if (r == 0 && jg_config_load(path, &tu_target_cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "target tests: %s\n", err);
		r = -1;
	}
	unlink(path);
	return r;
}

int tu_target_teardown(void)
{
	jg_config_free(tu_target_cfg);
	tu_target_cfg = NULL;
	return 0;
}

/* TEXT must resolve to one hop with KEY and DISPLAY; the chain is returned. */
struct jg_chain *tu_resolve_ok(const char *text, const char *key, const char *display)
{
	char err[256] = "";
	struct jg_chain *c = NULL;
	int r = jg_target_resolve(tu_target_cfg, text, &c, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "\n  %s: unexpected error %d: %s\n", text, r, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->nhops, 1);
	if (strcmp(c->key, key) != 0 || strcmp(c->display, display) != 0)
		fprintf(stderr, "\n  %s: key %s display %s\n", text, c->key, c->display);
	CU_ASSERT_STRING_EQUAL(c->key, key);
	CU_ASSERT_STRING_EQUAL(c->display, display);
	return c;
}

/* TEXT must be refused with CODE and exactly WHY. */
void tu_resolve_err(const char *text, int code, const char *why)
{
	char err[256] = "";
	struct jg_chain *c = (struct jg_chain *)&c; /* must be reset to NULL */
	int r = jg_target_resolve(tu_target_cfg, text, &c, err, sizeof(err));

	if (r != code || strcmp(err, why) != 0)
		fprintf(stderr, "\n  target: %s\n  got:  %d %s\n  want: %d %s\n", text, r, err,
			code, why);
	CU_ASSERT_EQUAL(r, code);
	CU_ASSERT_STRING_EQUAL(err, why);
	CU_ASSERT_PTR_NULL(c);
}

/* Options every non-inventory ssh spec gets from ssh_defaults. */
void tu_check_ssh_defaults(const struct jg_ssh_opts *o)
{
	CU_ASSERT_STRING_EQUAL(o->identity_file, "/k/id");
	CU_ASSERT_EQUAL(o->check_host_keys, JG_HOSTKEYS_IGNORE);
	CU_ASSERT_STRING_EQUAL(o->known_hosts, "/dev/null");
	CU_ASSERT_EQUAL(o->connect_timeout_s, 3);
	CU_ASSERT_EQUAL(o->keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(o->keepalive_count, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->ssh_args);
	CU_ASSERT_STRING_EQUAL(o->ssh_args[0], "-4");
	CU_ASSERT_PTR_NULL(o->ssh_args[1]);
	/* A copy, not the configuration's own strings. */
	CU_ASSERT_PTR_NOT_EQUAL(o->ssh_args, tu_target_cfg->ssh_defaults.ssh.ssh_args);
	CU_ASSERT_PTR_NOT_EQUAL(o->identity_file, tu_target_cfg->ssh_defaults.ssh.identity_file);
}

/* ---- hops and shell runs ---- */

char *tu_xdup(const char *s)
{
	char *d = strdup(s);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

/* A hop of method M; USER and NAME (either may be NULL) into o.user and o.name. */
void tu_hop_mk(struct jg_hop *h, enum jg_method m, const char *user, const char *name)
{
	memset(h, 0, sizeof(*h));
	h->method = m;
	h->o.user = user != NULL ? tu_xdup(user) : NULL;
	h->o.name = name != NULL ? tu_xdup(name) : NULL;
}

void tu_hop_mk_ssh(struct jg_hop *h, const char *host)
{
	memset(h, 0, sizeof(*h));
	h->method = JG_METHOD_SSH;
	h->ssh.host = tu_xdup(host);
	h->ssh.check_host_keys = JG_HOSTKEYS_ENFORCE;
}

void tu_hops_clear(struct jg_hop *hops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jg_hop_clear(&hops[i]);
}

/* Run ARGV (stdin at EOF, ENVP NULL: ours) and put its stdout in OUT (NUL-terminated, at
 * most CAP - 1 bytes).  Bounded by TU_RUN_MS: past it the whole process group is killed.
 * Returns the length, or -1 when the run timed out or did not exit with status 0. */
ssize_t tu_run_capture(char *const *argv, char *const *envp, char *out, size_t cap)
{
	struct jg_spawn_opts o = {.argv = argv, .envp = envp};
	struct jg_child c;
	char err[512], ebuf[1024], scratch[4096];
	size_t len = 0, elen = 0;
	long end = tu_now_ms() + TU_RUN_MS;
	int st = -1, timed_out = 0;
	pid_t w = 0;

	if (jg_spawn(&o, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "\ncannot spawn %s: %s\n", argv[0], err);
		return -1;
	}
	close(c.in_fd);
	c.in_fd = -1;
	while ((c.out_fd >= 0 || c.err_fd >= 0) && tu_now_ms() < end) {
		struct pollfd p[2] = {{c.out_fd, POLLIN, 0}, {c.err_fd, POLLIN, 0}};
		int *fds[2] = {&c.out_fd, &c.err_fd};

		if (poll(p, 2, 100) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i == 0 ? out + len : ebuf + elen;
			size_t room = i == 0 ? cap - 1 - len : sizeof(ebuf) - 1 - elen;
			ssize_t n;

			if (*fds[i] < 0 || p[i].revents == 0)
				continue;
			if (room == 0) { /* keep reading so the child never blocks */
				buf = scratch;
				room = sizeof(scratch);
			}
			n = read(*fds[i], buf, room);
			if (n > 0 && buf != scratch)
				*(i == 0 ? &len : &elen) += (size_t)n;
			else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				close(*fds[i]);
				*fds[i] = -1;
			}
		}
	}
	while ((w = waitpid(c.pid, &st, WNOHANG)) == 0 && tu_now_ms() < end)
		usleep(1000);
	if (w == 0) {
		timed_out = 1;
		kill(-c.pid, SIGKILL);
		st = tu_wait_child(c.pid);
	}
	tu_close_child(&c);
	out[len] = '\0';
	ebuf[elen] = '\0';
	if (timed_out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "\n%s: %s (status %d); stderr: %s\n", argv[0],
			timed_out ? "timed out" : "failed", st, ebuf);
		return -1;
	}
	return (ssize_t)len;
}
