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

/* ---- jumpgate-agent, driven over its stdio by an OPENER link (tests/unit/testutil.c) ---- */

static int drv_open_spec(struct tu_drv *d, int i, const struct jg_exec_spec *spec)
{
	struct evbuffer *p = evbuffer_new();

	if (jg_exec_spec_encode(spec, p) != 0)
		return -1;
	d->id[i] = jg_link_open(d->link, JG_OPEN_EXEC, evbuffer_pullup(p, -1),
				evbuffer_get_length(p), &d->ch[i]);
	evbuffer_free(p);
	return d->id[i] > 0 ? 0 : -1;
}

static int drv_open(struct tu_drv *d, int i, char **argv, int pty)
{
	struct jg_exec_spec spec = {.argv = argv, .pty = pty, .rows = 24, .cols = 80};
	size_t argc = 0;

	while (argv[argc] != NULL)
		argc++;
	spec.argc = argc;
	return drv_open_spec(d, i, &spec);
}

static char *drv_text(struct evbuffer *b)
{
	evbuffer_add(b, "", 1);
	return (char *)evbuffer_pullup(b, -1);
}

/* Start the agent and do HELLO; false (and the test passes vacuously) without a binary. */
static int drv_ready(struct tu_drv *d)
{
	int ok = tu_drv_ready(d, 50);

	if (!ok && d->link == NULL) /* no agent started: nothing for the test to stop */
		tu_drv_stop(d);
	return ok;
}

static void test_agent_exec_relays_stdout_stderr_and_exit_code(void)
{
	char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && d.ch[0].out_eof && d.ch[0].err_eof);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "out\n");
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].err), "err\n");
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_flags == 0 && d.ch[0].exit_code == 3);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

#define CAT_BYTES (1u << 20)
static uint8_t *cat_data;
static size_t cat_sent;

static void cat_step(struct tu_drv *d)
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
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	cat_data = malloc(CAT_BYTES);
	for (size_t i = 0; i < CAT_BYTES; i++)
		cat_data[i] = (uint8_t)(i * 7 + i / 251);
	cat_sent = 0;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	/* 1 MiB is four windows each way: only credit returned by both sides moves it. */
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, cat_step, 20000), 0);
	CU_ASSERT_EQUAL(cat_sent, CAT_BYTES);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), CAT_BYTES);
	CU_ASSERT(memcmp(evbuffer_pullup(d.ch[0].out, -1), cat_data, CAT_BYTES) == 0);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_code == 0);
	CU_ASSERT_PTR_NULL(jg_link_error(d.link));
	free(cat_data);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

static void test_agent_reports_death_by_signal(void)
{
	char *argv[] = {"sh", "-c", "kill -9 $$", NULL};
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].exited);
	CU_ASSERT(d.ch[0].exit_flags & JG_EXIT_SIGNALED);
	CU_ASSERT_EQUAL(d.ch[0].exit_code, 9);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

/* As a shell and ssh: 127 and the reason on stderr, not a refused channel (issue 17). */
static void test_agent_missing_program_exits_127_with_reason(void)
{
	char *argv[] = {"jumpgate-no-such-program", NULL};
	static const char want[] =
	    "cannot run jumpgate-no-such-program: No such file or directory\n";
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].opened && !d.ch[0].failed);
	CU_ASSERT(d.ch[0].exited && d.ch[0].exit_flags == 0 && d.ch[0].exit_code == 127);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].err), sizeof(want) - 1);
	CU_ASSERT(evbuffer_get_length(d.ch[0].err) == sizeof(want) - 1 &&
		  memcmp(evbuffer_pullup(d.ch[0].err, -1), want, sizeof(want) - 1) == 0);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

/* A missing working directory is still the agent's refusal, with the reason. */
static void test_agent_missing_cwd_gives_open_fail_with_reason(void)
{
	char *argv[] = {"true", NULL};
	struct jg_exec_spec spec = {.argv = argv, .argc = 1, .cwd = "/nonexistent-jg-dir"};
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open_spec(&d, 0, &spec), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT(d.ch[0].failed);
	CU_ASSERT_STRING_EQUAL(d.ch[0].reason, "cannot run true: cannot change directory to "
					       "/nonexistent-jg-dir: No such file or directory");
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

static void test_agent_pty_exec_runs_on_a_terminal(void)
{
	char *argv[] = {"sh", "-c", "test -t 0 && test -t 1 && echo tty; exit 4", NULL};
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, argv, 1), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "tty\r\n");
	CU_ASSERT(d.ch[0].out_eof && d.ch[0].exited && d.ch[0].exit_code == 4);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

static int drv_ch0_opened(struct tu_drv *d)
{
	return d->ch[0].opened;
}

/* All three open, and the third has set its trap (it said so). */
static int drv_all_ready(struct tu_drv *d)
{
	return d->ch[0].opened && d->ch[1].opened && evbuffer_get_length(d->ch[2].out) > 0;
}

static void test_agent_stdin_eof_kills_children_and_exits(void)
{
	char *sleeper[] = {"sleep", "30", NULL};
	char *deaf[] = {"sh", "-c", "trap '' HUP; echo ready; exec sleep 30", NULL};
	long t0;
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, sleeper, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 1, sleeper, 1), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 2, deaf, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, drv_all_ready, NULL, 5000), 0);
	/* SIGHUP ends two at once; the one ignoring it needs the SIGKILL 2 s later. */
	t0 = tu_now_ms();
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
	CU_ASSERT(tu_now_ms() - t0 >= 1500 && tu_now_ms() - t0 < 5000);
}

static void test_agent_garbage_input_gets_dead_and_exit_1(void)
{
	static const char junk[] = "ABCDEFGHIJKLMNOP";
	struct tu_drv d;
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
	st = tu_drv_stop(&d);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

static void test_agent_close_kills_the_child_and_leaves_the_link_usable(void)
{
	char *sleeper[] = {"sleep", "30", NULL}, *echo[] = {"echo", "after", NULL};
	int fds_idle;
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	fds_idle = tu_count_fds(d.agent.pid);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, sleeper, 0), 0);
	CU_ASSERT_EQUAL_FATAL(tu_drv_pump(&d, drv_ch0_opened, NULL, 5000), 0);
	CU_ASSERT_EQUAL(jg_link_close(d.link, (uint32_t)d.id[0]), 0);
	/* Reuse slot 0's bookkeeping for a fresh channel: the link works on. */
	memset(&d.ch[0].opened, 0, sizeof(d.ch[0]) - offsetof(struct tu_chan, opened));
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, echo, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, tu_drv_ch0_over, NULL, 5000), 0);
	CU_ASSERT_STRING_EQUAL(drv_text(d.ch[0].out), "after\n");
	CU_ASSERT_EQUAL(tu_count_fds(d.agent.pid), fds_idle);
	/* The killed sleep is gone, so stopping is quick (no SIGKILL wait). */
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

static int drv_four_over(struct tu_drv *d)
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
	struct tu_drv d;

	if (!drv_ready(&d))
		return;
	fds_idle = tu_count_fds(d.agent.pid);
	/* Each output (about 340 KB) exceeds the 256 KiB window: all four must be
	 * throttled and resumed by credit, independently of one another. */
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 0, seq, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 1, err, 0), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 2, pty, 1), 0);
	CU_ASSERT_EQUAL_FATAL(drv_open(&d, 3, seq, 0), 0);
	CU_ASSERT_EQUAL(tu_drv_pump(&d, drv_four_over, NULL, 20000), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[0].out), 348894);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[1].err), 348894);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[2].out), 13893 + 3000);
	CU_ASSERT_EQUAL(evbuffer_get_length(d.ch[3].out), 348894);
	for (int i = 0; i < 4; i++)
		CU_ASSERT(d.ch[i].exited && d.ch[i].exit_code == 0);
	CU_ASSERT_EQUAL(tu_count_fds(d.agent.pid), fds_idle);
	CU_ASSERT_EQUAL(tu_drv_stop(&d), 0);
}

int jg_test_register_agent(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("agent", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_agent_exec_relays_stdout_stderr_and_exit_code) ||
	    !CU_ADD_TEST(s, test_agent_cat_echoes_1mib_under_flow_control) ||
	    !CU_ADD_TEST(s, test_agent_reports_death_by_signal) ||
	    !CU_ADD_TEST(s, test_agent_missing_program_exits_127_with_reason) ||
	    !CU_ADD_TEST(s, test_agent_missing_cwd_gives_open_fail_with_reason) ||
	    !CU_ADD_TEST(s, test_agent_pty_exec_runs_on_a_terminal) ||
	    !CU_ADD_TEST(s, test_agent_stdin_eof_kills_children_and_exits) ||
	    !CU_ADD_TEST(s, test_agent_garbage_input_gets_dead_and_exit_1) ||
	    !CU_ADD_TEST(s, test_agent_close_kills_the_child_and_leaves_the_link_usable) ||
	    !CU_ADD_TEST(s, test_agent_concurrent_channels_complete_and_leak_no_fds))
		return -1;
	return 0;
}
