/* Tests for jumpgate-agent, driven end to end over its stdin/stdout by a
 * jg_link OPENER.  The agent is built before `make check` runs the tests (cwd =
 * the build directory), so a missing ./jumpgate-agent is a failure, not a skip. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/reaper.h"
#include "relay/spawn.h"
#include "relay/spec.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

#define AGENT_PATH "./jumpgate-agent"

/* ---- jumpgate-agent, driven over its stdio by an OPENER link ---- */

struct drv_chan {
	struct evbuffer *out, *err;
	size_t unacked; /* received, not yet returned as credit (acked once per pump round) */
	int opened, failed, exited, out_eof, err_eof, dead;
	uint8_t exit_flags;
	uint32_t exit_code;
	char reason[256];
};

struct drv {
	struct jg_child agent;
	struct jg_link *link;
	int hello;
	struct drv_chan ch[4];
	int64_t id[4];
};

static void drv_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	((struct drv *)ud)->hello = 1;
}

static void drv_on_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f,
			 void *ud)
{
	struct drv_chan *c = cud;
	size_t n = f->length < sizeof(c->reason) - 1 ? f->length : sizeof(c->reason) - 1;

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		c->opened = 1;
		break;
	case JG_FRAME_OPEN_FAIL:
		c->failed = 1;
		memcpy(c->reason, f->payload, n);
		c->reason[n] = '\0';
		break;
	case JG_FRAME_DATA:
		evbuffer_add(f->flags & JG_DATA_STDERR ? c->err : c->out, f->payload, f->length);
		c->unacked += f->length;
		break;
	case JG_FRAME_EOF:
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
	((struct drv_chan *)cud)->dead = 1;
}

static int drv_start(struct drv *d)
{
	static const struct jg_link_callbacks cb = {
	    .on_hello = drv_on_hello, .on_frame = drv_on_frame, .on_dead = drv_on_dead};
	char *argv[] = {AGENT_PATH, "--log-level",
			getenv("JG_AGENT_LOG") ? getenv("JG_AGENT_LOG") : "error", NULL};
	struct jg_spawn_opts o = {.argv = argv};

	memset(d, 0, sizeof(*d));
	for (int i = 0; i < 4; i++) {
		d->ch[i].out = evbuffer_new();
		d->ch[i].err = evbuffer_new();
	}
	if (access(AGENT_PATH, X_OK) != 0 || jg_spawn(&o, &d->agent, NULL, 0) != 0)
		return -1;
	d->link = jg_link_new(JG_LINK_OPENER, &cb, d);
	return jg_link_send_hello(d->link, "test");
}

/* The agent's log goes to a pipe (tests expect some errors); shown with JG_AGENT_LOG set. */
static void drv_show_log(struct drv *d)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(d->agent.err_fd, buf, sizeof(buf))) > 0)
		if (getenv("JG_AGENT_LOG") != NULL)
			(void)!write(STDERR_FILENO, buf, (size_t)n);
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
		for (int i = 0; i < 4; i++)
			if (d->ch[i].unacked > 0 && d->id[i] > 0) {
				jg_link_consumed(d->link, (uint32_t)d->id[i], d->ch[i].unacked);
				d->ch[i].unacked = 0;
			}
		if (evbuffer_get_length(out) > 0 && d->agent.in_fd >= 0)
			p[1].events = POLLOUT;
		if (poll(p, 3, 50) < 0)
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

/* Close the agent's stdin and collect its exit status (-1 on timeout). */
static int drv_stop(struct drv *d)
{
	long end = tu_now_ms() + 8000;
	pid_t got = 0;
	int st = -1;

	if (d->agent.pid > 0) {
		close(d->agent.in_fd);
		d->agent.in_fd = -1;
		/* Keep draining its log so it can say goodbye before exiting. */
		while ((got = waitpid(d->agent.pid, &st, WNOHANG)) == 0 && tu_now_ms() < end) {
			drv_show_log(d);
			usleep(10000);
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
	for (int i = 0; i < 4; i++) {
		evbuffer_free(d->ch[i].out);
		evbuffer_free(d->ch[i].err);
	}
	return st;
}

static int drv_hello_done(struct drv *d)
{
	return d->hello;
}

static int drv_open(struct drv *d, int i, char **argv, int pty)
{
	struct jg_exec_spec spec = {.argv = argv, .pty = pty, .rows = 24, .cols = 80};
	struct evbuffer *p = evbuffer_new();
	size_t argc = 0;

	while (argv[argc] != NULL)
		argc++;
	spec.argc = argc;
	if (jg_exec_spec_encode(&spec, p) != 0)
		return -1;
	d->id[i] = jg_link_open(d->link, JG_OPEN_EXEC, evbuffer_pullup(p, -1),
				evbuffer_get_length(p), &d->ch[i]);
	evbuffer_free(p);
	return d->id[i] > 0 ? 0 : -1;
}

static int drv_ch0_over(struct drv *d)
{
	return d->ch[0].exited || d->ch[0].failed || d->ch[0].dead;
}

static char *drv_text(struct evbuffer *b)
{
	evbuffer_add(b, "", 1);
	return (char *)evbuffer_pullup(b, -1);
}

/* Start the agent and do HELLO; false (and the test passes vacuously) without a binary. */
static int drv_ready(struct drv *d)
{
	if (drv_start(d) != 0) {
		CU_FAIL("cannot start " AGENT_PATH " (run the tests from the build directory)");
		drv_stop(d);
		return 0;
	}
	CU_ASSERT_EQUAL(drv_pump(d, drv_hello_done, NULL, 5000), 0);
	return d->hello;
}

static void test_agent_exec_relays_stdout_stderr_and_exit_code(void)
{
	char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	struct drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].out_eof && d.ch[0].err_eof);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "out\n");
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].err), "err\n");
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_flags == 0 && d.ch[0].exit_code == 3);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

#define CAT_BYTES (1u << 20)
static uint8_t *cat_data;
static size_t cat_sent;

static void cat_step(struct drv *d)
{
	int64_t n;

	if (cat_sent == CAT_BYTES)
		return;
	n = jg_link_send_data(d->link, (uint32_t)d->id[0], 0, cat_data + cat_sent,
			      CAT_BYTES - cat_sent);
	if (n > 0)
		cat_sent += (size_t)n;
	if (cat_sent == CAT_BYTES)
		jg_link_send_eof(d->link, (uint32_t)d->id[0], 0);
}

static void test_agent_cat_echoes_1mib_under_flow_control(void)
{
	char *argv[] = {"cat", NULL};
	struct drv d;

	if (!drv_ready(&d))
		return;
	cat_data = malloc(CAT_BYTES);
	for (size_t i = 0; i < CAT_BYTES; i++)
		cat_data[i] = (uint8_t)(i * 7 + i / 251);
	cat_sent = 0;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	/* 1 MiB is four windows each way: only credit returned by both sides moves it. */
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, cat_step, 20000), 0);
	CU_ASSERT_EQUAL(cat_sent, CAT_BYTES);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), CAT_BYTES);
	CU_ASSERT(memcmp(evbuffer_pullup(d.ch[0].out, -1), cat_data, CAT_BYTES) == 0);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	free(cat_data);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

static void test_agent_reports_death_by_signal(void)
{
	char *argv[] = {"sh", "-c", "kill -9 $$", NULL};
	struct drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(d.ch[0].exit_flags & JG_EXIT_SIGNALED);
	CU_ASSERT_EQUAL(d.ch[0].exit_code, 9);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

static void test_agent_missing_program_gives_open_fail_with_reason(void)
{
	char *argv[] = {"jumpgate-no-such-program", NULL};
	struct drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_STRING_EQUAL(d.ch[0].reason,
			       "cannot run jumpgate-no-such-program: No such file or directory");
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

static void test_agent_pty_exec_runs_on_a_terminal(void)
{
	char *argv[] = {"sh", "-c", "test -t 0 && test -t 1 && echo tty; exit 4", NULL};
	struct drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 1), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "tty\r\n");
	CU_ASSERT(d.ch[0].out_eof && d.ch[0].exited && d.ch[0].exit_code == 4);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

static int drv_ch0_opened(struct drv *d)
{
	return d->ch[0].opened;
}

/* All three open, and the third has set its trap (it said so). */
static int drv_all_ready(struct drv *d)
{
	return d->ch[0].opened && d->ch[1].opened && evbuffer_get_length(d->ch[2].out) > 0;
}

static void test_agent_stdin_eof_kills_children_and_exits(void)
{
	char *sleeper[] = {"sleep", "30", NULL};
	char *deaf[] = {"sh", "-c", "trap '' HUP; echo ready; exec sleep 30", NULL};
	long t0;
	struct drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, sleeper, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 1, sleeper, 1), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 2, deaf, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_all_ready, NULL, 5000), 0);
	/* SIGHUP ends two at once; the one ignoring it needs the SIGKILL 2 s later. */
	t0 = tu_now_ms();
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
	CU_ASSERT(tu_now_ms() - t0 >= 1500 && tu_now_ms() - t0 < 5000);
}

static void test_agent_garbage_input_gets_dead_and_exit_1(void)
{
	static const char junk[] = "ABCDEFGHIJKLMNOP";
	struct drv d;
	char buf[512];
	ssize_t n;
	int st;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL(write(d.agent.in_fd, junk, 16), 16);
	/* Read until EOF: the agent answers with DEAD(reason) on channel 0 and exits. */
	n = (ssize_t)tu_read_all(d.agent.out_fd, buf, sizeof(buf));
	CU_ASSERT(n > 16);
	if (n > 16) {
		jg_link_feed(d.link, buf, (size_t)n);
		CU_ASSERT_PTR_NOT_NULL(jg_link_error(d.link));
		CU_ASSERT_PTR_NOT_NULL(strstr(jg_link_error(d.link) ?: "", "bad magic"));
	}
	st = drv_stop(&d);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

static void test_agent_close_kills_the_child_and_leaves_the_link_usable(void)
{
	char *sleeper[] = {"sleep", "30", NULL}, *echo[] = {"echo", "after", NULL};
	int fds_idle;
	struct drv d;

	if (!drv_ready(&d))
		return;
	fds_idle = count_fds(d.agent.pid);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, sleeper, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_pump(&d, drv_ch0_opened, NULL, 5000), 0);
	CU_ASSERT_EQUAL(jg_link_close(d.link, (uint32_t)d.id[0]), 0);
	/* Reuse slot 0's bookkeeping for a fresh channel: the link works on. */
	memset(&d.ch[0].opened, 0, sizeof(d.ch[0]) - offsetof(struct drv_chan, opened));
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, echo, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "after\n");
	CU_ASSERT_EQUAL(count_fds(d.agent.pid), fds_idle);
	/* The killed sleep is gone, so stopping is quick (no SIGKILL wait). */
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}

static int drv_four_over(struct drv *d)
{
	for (int i = 0; i < 4; i++)
		if (!d->ch[i].exited)
			return 0;
	return 1;
}

static void test_agent_concurrent_channels_complete_and_leak_no_fds(void)
{
	char *seq[] = {"seq", "1", "60000", NULL}, *pty[] = {"seq", "1", "3000", NULL};
	char *err[] = {"sh", "-c", "seq 1 60000 >&2", NULL};
	int fds_idle;
	struct drv d;

	if (!drv_ready(&d))
		return;
	fds_idle = count_fds(d.agent.pid);
	/* Each output (about 340 KB) exceeds the 256 KiB window: all four must be
	 * throttled and resumed by credit, independently of one another. */
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, seq, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 1, err, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 2, pty, 1), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 3, seq, 0), 0);
	CU_ASSERT_EQUAL(drv_pump(&d, drv_four_over, NULL, 20000), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), 348894);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[1].err), 348894);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[2].out), 13893 + 3000);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[3].out), 348894);
	for (int i = 0; i < 4; i++)
		CU_ASSERT(d.ch[i].exited && d.ch[i].exit_code == 0);
	CU_ASSERT_EQUAL(count_fds(d.agent.pid), fds_idle);
	CU_ASSERT_EQUAL(drv_stop(&d), 0);
}


int jg_test_register_agent(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("agent", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_agent_exec_relays_stdout_stderr_and_exit_code) ||
	    !CU_ADD_TEST(s, test_agent_cat_echoes_1mib_under_flow_control) ||
	    !CU_ADD_TEST(s, test_agent_reports_death_by_signal) ||
	    !CU_ADD_TEST(s, test_agent_missing_program_gives_open_fail_with_reason) ||
	    !CU_ADD_TEST(s, test_agent_pty_exec_runs_on_a_terminal) ||
	    !CU_ADD_TEST(s, test_agent_stdin_eof_kills_children_and_exits) ||
	    !CU_ADD_TEST(s, test_agent_garbage_input_gets_dead_and_exit_1) ||
	    !CU_ADD_TEST(s, test_agent_close_kills_the_child_and_leaves_the_link_usable) ||
	    !CU_ADD_TEST(s, test_agent_concurrent_channels_complete_and_leak_no_fds))
		return -1;
	return 0;
}
