/* Tests for agent bootstrap: the sans-I/O parser fed byte strings split every
 * way, and the real stub run by /bin/sh with the real ./jumpgate-agent (cwd is
 * the build directory, so a missing agent is a failure, not a skip). */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "relay/bootstrap.h"
#include "relay/err.h"
#include "relay/spawn.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

#define AGENT_PATH "./jumpgate-agent"
#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- the parser ---- */

/* Feed A split at every byte boundary into fresh parsers; each must end in LAST with
 * NEEDS need events on the way (at most NEEDS when LAST ends the bootstrap), and a
 * reason containing WANT. */
static void check_splits(const char *a, size_t len, enum jg_boot_event last, int needs,
			 const char *want)
{
	for (size_t cut = 0; cut <= len; cut++) {
		struct jg_boot *b = jg_boot_new();
		enum jg_boot_event e1, e2;

		CU_ASSERT_FATAL(b != NULL);
		e1 = jg_boot_feed(b, a, cut);
		e2 = jg_boot_feed(b, a + cut, len - cut);
		CU_ASSERT_EQUAL(e2 == JG_BOOT_NEED ? JG_BOOT_MORE : e2, last);
		/* A need and what ends the bootstrap in one feed: only the end is reported. */
		if (last == JG_BOOT_MORE)
			CU_ASSERT_EQUAL((e1 == JG_BOOT_NEED) + (e2 == JG_BOOT_NEED), needs)
		else
			CU_ASSERT((e1 == JG_BOOT_NEED) + (e2 == JG_BOOT_NEED) <= needs)
		if (want != NULL && strstr(jg_boot_reason(b), want) == NULL) {
			CU_FAIL("reason");
			fprintf(stderr, "\ncut %zu: reason \"%s\", want \"%s\"\n", cut,
				jg_boot_reason(b), want);
		}
		jg_boot_free(b);
	}
}

/* The same for a string literal. */
#define CHECK_SPLITS(lit, last, needs, want) check_splits(lit, sizeof(lit) - 1, last, needs, want)

static void t_parse_need_then_agent_every_split(void)
{
	static const char a[] = "motd\r\nno newline: jumpgate-stub: hello\n"
				"jumpgate-stub: need x86_64 " SHA_A " 1468232\n";
	static const char agent[] = "JG\x00\x01\x02\x03 frames";
	struct jg_boot *b;

	CHECK_SPLITS(a, JG_BOOT_MORE, 1, NULL);
	/* The agent's bytes after the exchange, split everywhere too. */
	for (size_t cut = 0; cut < sizeof(agent); cut++) {
		CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
		CU_ASSERT_EQUAL(jg_boot_feed(b, a, sizeof(a) - 1), JG_BOOT_NEED);
		CU_ASSERT_STRING_EQUAL(jg_boot_need_arch(b), "x86_64");
		CU_ASSERT_STRING_EQUAL(jg_boot_need_sha256(b), SHA_A);
		CU_ASSERT_EQUAL(jg_boot_discarded(b), 6 + 12);
		CU_ASSERT_EQUAL(jg_boot_feed(b, agent, cut),
				cut < 2 ? JG_BOOT_MORE : JG_BOOT_AGENT);
		CU_ASSERT_EQUAL(jg_boot_feed(b, agent + cut, sizeof(agent) - 1 - cut),
				JG_BOOT_AGENT);
		CU_ASSERT_EQUAL(evbuffer_get_length(jg_boot_rest(b)), sizeof(agent) - 1);
		CU_ASSERT(memcmp(evbuffer_pullup(jg_boot_rest(b), -1), agent, sizeof(agent) - 1) ==
			  0);
		jg_boot_free(b);
	}
}

static void t_parse_cached_agent_in_one_feed(void)
{
	static const char a[] = "jumpgate-stub: hello\nJGxyz";
	struct jg_boot *b = jg_boot_new();

	CHECK_SPLITS(a, JG_BOOT_AGENT, 0, NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, sizeof(a) - 1), JG_BOOT_AGENT);
	CU_ASSERT_EQUAL(jg_boot_discarded(b), 0);
	/* Sticky: later bytes go to rest as well. */
	CU_ASSERT_EQUAL(jg_boot_feed(b, "jumpgate-stub: error x\n", 23), JG_BOOT_AGENT);
	CU_ASSERT_EQUAL(evbuffer_get_length(jg_boot_rest(b)), 5 + 23);
	jg_boot_free(b);
}

static void t_parse_stub_errors_every_split(void)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
	    {"error unknown-arch riscv64", "no agent for architecture riscv64 on the gateway"},
	    {"error noexec /home/u/.cache/jumpgate",
	     "cannot execute the agent in /home/u/.cache/jumpgate (mounted noexec?); use raw"},
	    {"error mkdir /ro/.cache/jumpgate", "cannot create the agent cache directory /ro/"},
	    {"error short-read 10/20", "cut short (received/expected bytes: 10/20)"},
	    {"error checksum 00ff", "corrupted on the target (its sha256 is 00ff)"},
	    {"error write /h/x", "cannot write the agent to /h/x"},
	    {"error exec /h/a", "cannot execute the agent /h/a on the target"},
	    {"error martian x\x01y", "the bootstrap stub failed: martian x\\x01y"},
	    {"error unknown-arch a\\b\xff", "architecture a\\x5cb\\xff on"},
	};
	char buf[600];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "jumpgate-stub: hello\njumpgate-stub: %s\r\n",
				 cases[i].line);

		check_splits(buf, (size_t)n, JG_BOOT_FAILED, 0, cases[i].want);
		/* After a need exchange as well. */
		n = snprintf(buf, sizeof(buf),
			     "jumpgate-stub: hello\njumpgate-stub: need x86_64 " SHA_A
			     " 5\njumpgate-stub: %s\n",
			     cases[i].line);
		check_splits(buf, (size_t)n, JG_BOOT_FAILED, 1, cases[i].want);
	}
}

static void t_parse_prefix_bounded_at_64k(void)
{
	size_t max = 64 * 1024, hl = strlen("jumpgate-stub: hello\n");
	char *a = malloc(max + 200);
	struct jg_boot *b;

	CU_ASSERT_FATAL(a != NULL);
	/* Exactly 64 KiB discarded (one long line, the hello at its end): accepted. */
	memset(a, 'x', max);
	memcpy(a + max, "jumpgate-stub: hello\n", hl);
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, max + hl), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_discarded(b), max);
	jg_boot_free(b);
	/* Same, in lines. */
	for (size_t i = 99; i < max; i += 100)
		a[i] = '\n';
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, max + hl), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_feed(b, "JG", 2), JG_BOOT_AGENT);
	jg_boot_free(b);
	/* One byte more: refused, in one feed or byte by byte. */
	memset(a, 'x', max + 1);
	memcpy(a + max + 1, "jumpgate-stub: hello\n", hl);
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, max + 1 + hl), JG_BOOT_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_boot_reason(b), "more than 64 KiB before the bootstrap"));
	jg_boot_free(b);
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	for (size_t i = 0; i < max + 1 + hl - 1; i++)
		if (jg_boot_feed(b, a + i, 1) != JG_BOOT_MORE)
			break;
	CU_ASSERT_EQUAL(jg_boot_feed(b, "\n", 1), JG_BOOT_FAILED);
	jg_boot_free(b);
	/* A target printing forever without a newline is stopped, not buffered. */
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	memset(a, 'y', max + 200);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, max + 200), JG_BOOT_FAILED);
	jg_boot_free(b);
	free(a);
}

static void t_parse_garbage_after_hello_quoted(void)
{
	char *a = malloc(700);
	struct jg_boot *b;

	CU_ASSERT_FATAL(a != NULL);
	CHECK_SPLITS("jumpgate-stub: hello\nLast login: \x1b[1m\n", JG_BOOT_FAILED, 0,
		     "unexpected output from the bootstrap stub: \"Last login: \\x1b[1m\"");
	CHECK_SPLITS("jumpgate-stub: hello\n\n", JG_BOOT_FAILED, 0, "\"\"");
	/* Malformed need lines, and a second need. */
	CHECK_SPLITS("jumpgate-stub: hello\njumpgate-stub: need x86_64 abc 5\n", JG_BOOT_FAILED, 0,
		     "need x86_64 abc 5");
	CHECK_SPLITS("jumpgate-stub: hello\njumpgate-stub: need x86_64 " SHA_A " -5\n",
		     JG_BOOT_FAILED, 0, "unexpected");
	CHECK_SPLITS("jumpgate-stub: hello\njumpgate-stub: need a " SHA_A
		     " 5\njumpgate-stub: need a " SHA_A " 5\n",
		     JG_BOOT_FAILED, 1, "unexpected");
	/* A line over 512 bytes fails at byte 513, quoted and truncated. */
	memcpy(a, "jumpgate-stub: hello\n", 21);
	memset(a + 21, 'a', 600);
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a, 21 + 512), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_feed(b, a + 21 + 512, 1), JG_BOOT_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_boot_reason(b), "more than 512 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_boot_reason(b), "aaa...\""));
	CU_ASSERT(strlen(jg_boot_reason(b)) < 300);
	CU_ASSERT_EQUAL(jg_boot_feed(b, "\nJG", 3), JG_BOOT_FAILED); /* sticky */
	jg_boot_free(b);
	free(a);
}

/* ---- stages: a chain runs one stub after the other (relay/hop.h) ---- */

/* Two stages with output between them (a sudo lecture, a line starting "JG" that is not
 * the agent yet), the second stage fetching the agent: split at every byte. */
static void t_parse_two_stages_every_split(void)
{
	static const char a[] = "motd\njumpgate-stub: hello\njumpgate-stub: exec\n"
				"[sudo] We trust you have received the usual lecture\r\n"
				"JG is not the agent before the last stage\n"
				"jumpgate-stub: hello\njumpgate-stub: need x86_64 " SHA_A " 5\n"
				"jumpgate-stub: exec\nJGframes";
	const size_t len = sizeof(a) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		struct jg_boot *b = jg_boot_new();
		enum jg_boot_event e1, e2;

		CU_ASSERT_FATAL(b != NULL);
		jg_boot_set_stages(b, 2);
		e1 = jg_boot_feed(b, a, cut);
		e2 = jg_boot_feed(b, a + cut, len - cut);
		CU_ASSERT_EQUAL(e2, JG_BOOT_AGENT);
		/* The agent's HELLO is the only way to AGENT: "JG" of "JGframes" fed. */
		CU_ASSERT(e1 != JG_BOOT_FAILED && (e1 == JG_BOOT_AGENT) == (cut >= len - 6));
		CU_ASSERT_EQUAL(jg_boot_stages_done(b), 2);
		CU_ASSERT_STRING_EQUAL(jg_boot_need_arch(b), "x86_64");
		CU_ASSERT_EQUAL(evbuffer_get_length(jg_boot_rest(b)), 8);
		CU_ASSERT(memcmp(evbuffer_pullup(jg_boot_rest(b), -1), "JGframes", 8) == 0);
		if (e2 != JG_BOOT_AGENT)
			fprintf(stderr, "\ncut %zu: %d %d, reason \"%s\"\n", cut, e1, e2,
				jg_boot_reason(b));
		jg_boot_free(b);
	}
}

static enum jg_boot_event feed_str(struct jg_boot *b, const char *s)
{
	return jg_boot_feed(b, s, strlen(s));
}

static void t_parse_stages_step_by_step(void)
{
	struct jg_boot *b = jg_boot_new();

	CU_ASSERT_FATAL(b != NULL);
	jg_boot_set_stages(b, 2);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: hello\n"), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 0);
	/* Each stage may fetch the agent (a new account has an empty cache). */
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: need x86_64 " SHA_A " 5\n"), JG_BOOT_NEED);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: exec\n"), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 1);
	/* Between stages: discarded, even a line that starts like the agent's HELLO. */
	CU_ASSERT_EQUAL(feed_str(b, "noise\nJGJG\n"), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_discarded(b), 6 + 5);
	CU_ASSERT_EQUAL(
	    feed_str(b, "jumpgate-stub: hello\njumpgate-stub: need aarch64 " SHA_A " 7\n"),
	    JG_BOOT_NEED);
	CU_ASSERT_STRING_EQUAL(jg_boot_need_arch(b), "aarch64");
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 1);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: exec\n"), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 2);
	CU_ASSERT_EQUAL(feed_str(b, "JGx"), JG_BOOT_AGENT);
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 2);
	CU_ASSERT_EQUAL(evbuffer_get_length(jg_boot_rest(b)), 3);
	jg_boot_free(b);

	/* One stage (the default): the agent may speak right after the exec line. */
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: hello\njumpgate-stub: exec\nJG"),
			JG_BOOT_AGENT);
	CU_ASSERT_EQUAL(jg_boot_stages_done(b), 1);
	jg_boot_free(b);
}

/* A trampoline (setns, askpass) reports on stdout before or between stubs. */
static void t_parse_error_lines_between_stages(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"jumpgate-stub: error setns no process 42\n",
	     "cannot enter the namespaces: no process 42"},
	    {"jumpgate-stub: error setns missing CAP_SYS_ADMIN\r\n",
	     "cannot enter the namespaces: missing CAP_SYS_ADMIN"},
	    {"jumpgate-stub: error password doas asked for the password again: it was refused\n",
	     "doas asked for the password again: it was refused"},
	};
	char buf[600];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "jumpgate-stub: hello\njumpgate-stub: exec\nlecture\n%s",
				 cases[i].text);

		for (int cut = 0; cut <= n; cut++) {
			struct jg_boot *b = jg_boot_new();

			CU_ASSERT_FATAL(b != NULL);
			jg_boot_set_stages(b, 2);
			jg_boot_feed(b, buf, (size_t)cut);
			CU_ASSERT_EQUAL(jg_boot_feed(b, buf + cut, (size_t)(n - cut)),
					JG_BOOT_FAILED);
			CU_ASSERT_STRING_EQUAL(jg_boot_reason(b), cases[i].want);
			CU_ASSERT_EQUAL(jg_boot_stages_done(b), 1);
			jg_boot_free(b);
		}
		/* Before the first stub's hello, too (the gateway's own trampoline). */
		struct jg_boot *b = jg_boot_new();

		CU_ASSERT_FATAL(b != NULL);
		CU_ASSERT_EQUAL(feed_str(b, cases[i].text), JG_BOOT_FAILED);
		CU_ASSERT_STRING_EQUAL(jg_boot_reason(b), cases[i].want);
		jg_boot_free(b);
	}
	/* Only at the start of a line: a banner quoting one is noise. */
	{
		struct jg_boot *b = jg_boot_new();

		CU_ASSERT_FATAL(b != NULL);
		CU_ASSERT_EQUAL(
		    feed_str(b, "motd: jumpgate-stub: error setns x\njumpgate-stub: hello\n"),
		    JG_BOOT_MORE);
		jg_boot_free(b);
	}
}

/* Stages 0: the agent was started directly; only its HELLO or an error line can come. */
static void t_parse_no_stub_at_all(void)
{
	static const char hello[] = "JGabc";
	struct jg_boot *b;

	for (size_t cut = 0; cut <= sizeof(hello) - 1; cut++) {
		CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
		jg_boot_set_stages(b, 0);
		CU_ASSERT_EQUAL(jg_boot_feed(b, hello, cut),
				cut < 2 ? JG_BOOT_MORE : JG_BOOT_AGENT);
		CU_ASSERT_EQUAL(jg_boot_feed(b, hello + cut, sizeof(hello) - 1 - cut),
				JG_BOOT_AGENT);
		CU_ASSERT_EQUAL(evbuffer_get_length(jg_boot_rest(b)), 5);
		CU_ASSERT(memcmp(evbuffer_pullup(jg_boot_rest(b), -1), hello, 5) == 0);
		CU_ASSERT_EQUAL(jg_boot_stages_done(b), 0);
		jg_boot_free(b);
	}
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	jg_boot_set_stages(b, 0);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: error setns not running as root\n"),
			JG_BOOT_FAILED);
	CU_ASSERT_STRING_EQUAL(jg_boot_reason(b),
			       "cannot enter the namespaces: not running as root");
	jg_boot_free(b);
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	jg_boot_set_stages(b, 0);
	CU_ASSERT_EQUAL(feed_str(b, "jumpgate-stub: error password no password line on standard "
				    "input\n"),
			JG_BOOT_FAILED);
	CU_ASSERT_STRING_EQUAL(jg_boot_reason(b), "no password line on standard input");
	jg_boot_free(b);
	/* Anything else is not the agent. */
	CU_ASSERT_FATAL((b = jg_boot_new()) != NULL);
	jg_boot_set_stages(b, 0);
	CU_ASSERT_EQUAL(feed_str(b, "hello\n"), JG_BOOT_FAILED);
	CU_ASSERT_STRING_EQUAL(jg_boot_reason(b),
			       "unexpected output from the bootstrap stub: \"hello\"");
	jg_boot_free(b);
}

/* ---- the stub's text ---- */

static void t_stub_is_one_safe_line(void)
{
	struct jg_agent_build bs[8];
	const char *arch[] = {"x86_64",	 "aarch64", "i686",  "armv7l",
			      "riscv64", "ppc64le", "s390x", "a;b"};
	char *s, *c;

	for (size_t i = 0; i < 8; i++) {
		snprintf(bs[i].arch, sizeof(bs[i].arch), "%s", arch[i]);
		snprintf(bs[i].sha256, sizeof(bs[i].sha256), "%s", SHA_A);
		bs[i].size = 1234567;
		bs[i].path = "/nonexistent";
	}
	CU_ASSERT_FATAL((s = jg_bootstrap_stub(bs, 8)) != NULL);
	/* One line free of ' ! and newline survives sh, csh and fish as the login shell. */
	CU_ASSERT_PTR_NULL(strpbrk(s, "'!\n"));
	/* Short enough for any command line (MAX_ARG_STRLEN is 128 KiB), nested hops too. */
	CU_ASSERT(strlen(s) < 3072);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "x86_64|amd64)a=x86_64 h=" SHA_A " s=1234567;;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "aarch64|arm64)a=aarch64 "));
	CU_ASSERT_PTR_NULL(strstr(s, "a;b")); /* not a name: left out */
	CU_ASSERT_FATAL((c = jg_bootstrap_command(bs, 8)) != NULL);
	CU_ASSERT(strncmp(c, "sh -c '", 7) == 0 && strcmp(c + 7 + strlen(s), "'") == 0);
	free(c);
	free(s);
}

/* The stub prints the exec line before it execs the agent, cached or just fetched, and
 * passes its own arguments on: still one line without a quote. */
static void t_stub_announces_exec_and_passes_args(void)
{
	static const char exec_line[] = "echo jumpgate-stub: exec;PATH=$z;exec \"$f\" \"$@\"";
	struct jg_agent_build b = {.arch = "x86_64", .sha256 = SHA_A, .size = 5, .path = "/x"};
	char *s = jg_bootstrap_stub(&b, 1);
	const char *p;
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (p = s; (p = strstr(p, exec_line)) != NULL; p++)
		n++;
	/* cached, just fetched (a per-run directory's agent runs as a child, to be removed) */
	CU_ASSERT_EQUAL(n, 2);
	/* The fetched agent is exec'd only after it was moved into the cache. */
	CU_ASSERT(strstr(s, "mv -f") != NULL && strstr(strstr(s, "mv -f"), exec_line) != NULL);
	CU_ASSERT_PTR_NULL(strpbrk(s, "'!\n"));
	free(s);
}

/* ---- describing builds ---- */

static void t_build_load_real_agent(void)
{
	struct jg_agent_build b;
	struct utsname u;
	struct stat st;
	char err[256], cmd[64], line[128] = "";
	FILE *p;

	CU_ASSERT_FATAL(stat(AGENT_PATH, &st) == 0);
	CU_ASSERT_EQUAL_FATAL(jg_agent_build_load(AGENT_PATH, &b, err, sizeof(err)), 0);
	CU_ASSERT_FATAL(uname(&u) == 0);
	CU_ASSERT_STRING_EQUAL(b.arch, u.machine);
	CU_ASSERT_EQUAL(b.size, (uint64_t)st.st_size);
	CU_ASSERT_STRING_EQUAL(b.path, AGENT_PATH);
	/* Checked against coreutils, not against our own EVP calls. */
	snprintf(cmd, sizeof(cmd), "sha256sum < %s", AGENT_PATH);
	CU_ASSERT_FATAL((p = popen(cmd, "r")) != NULL);
	CU_ASSERT(fgets(line, sizeof(line), p) != NULL);
	pclose(p);
	CU_ASSERT(strlen(b.sha256) == 64 && strncmp(line, b.sha256, 64) == 0);
}

static void t_build_load_refuses_non_elf(void)
{
	char path[] = "/tmp/jg-boot-XXXXXX", err[256];
	struct jg_agent_build b;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "#!/bin/sh\necho hi\n", 18) == 18);
	close(fd);
	CU_ASSERT_EQUAL(jg_agent_build_load(path, &b, err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": not an ELF file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	unlink(path);
	CU_ASSERT_EQUAL(jg_agent_build_load(path, &b, err, sizeof(err)), JG_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
	CU_ASSERT_EQUAL(jg_agent_build_load("/tmp", &b, err, sizeof(err)), JG_ERR_INVAL);
}

/* ---- the stub, run by /bin/sh with the real agent ---- */

struct run {
	const char *prefix; /* shell text run before the command (a chatty login) */
	const char *tmpdir; /* TMPDIR, if not the same as HOME */
	size_t send_limit;  /* send at most this much of the agent, then close stdin */
	struct jg_child c;
	struct jg_boot *boot;
	int send_fd; /* the agent file while sending, else -1 */
	size_t sent;
	int needs;
	enum jg_boot_event ev;
	int status;
	char err[1024]; /* the stub's stderr */
	size_t errlen;
};

static int run_start(struct run *r, const char *home, const struct jg_agent_build *bs, size_t n)
{
	char env_home[600], *cmd = jg_bootstrap_command(bs, n), *line = NULL, err[256];
	char env_tmp[sizeof(env_home) + 8];
	char *envp[] = {env_home, env_tmp, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			NULL};
	char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	struct jg_spawn_opts o = {.argv = argv, .envp = envp};
	int rc = -1;

	r->boot = jg_boot_new();
	r->send_fd = -1;
	r->ev = JG_BOOT_MORE;
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	/* The fallback cache ($TMPDIR/.jumpgate-UID) in the same place: never the real /tmp */
	snprintf(env_tmp, sizeof(env_tmp), "TMPDIR=%s", r->tmpdir != NULL ? r->tmpdir : home);
	if (cmd == NULL || r->boot == NULL ||
	    asprintf(&line, "%s%s", r->prefix != NULL ? r->prefix : "", cmd) < 0)
		goto out;
	argv[2] = line;
	if ((rc = jg_spawn(&o, &r->c, err, sizeof(err))) != 0)
		fprintf(stderr, "\ncannot spawn the stub: %s\n", err);
out:
	free(line);
	free(cmd);
	return rc;
}

/* One round of I/O for R; 0 while it runs, 1 when finished (stub or agent gone). */
static int run_step(struct run *r, const struct jg_agent_build *b)
{
	struct pollfd p[3] = {{r->c.out_fd, POLLIN, 0},
			      {r->c.err_fd, POLLIN, 0},
			      {r->send_fd >= 0 ? r->c.in_fd : -1, POLLOUT, 0}};
	char buf[65536];
	ssize_t n;

	if (poll(p, 3, 50) < 0)
		return 0;
	if (p[1].revents != 0 && (n = read(r->c.err_fd, buf, sizeof(buf))) > 0) {
		n = n < (ssize_t)(sizeof(r->err) - 1 - r->errlen)
			? n
			: (ssize_t)(sizeof(r->err) - 1 - r->errlen);
		memcpy(r->err + r->errlen, buf, (size_t)n);
		r->errlen += (size_t)n;
		r->err[r->errlen] = '\0';
	}
	if (p[2].revents != 0) {
		size_t want =
		    r->send_limit - r->sent < sizeof(buf) ? r->send_limit - r->sent : sizeof(buf);

		n = want > 0 ? pread(r->send_fd, buf, want, (off_t)r->sent) : 0;
		if (n > 0 && (n = write(r->c.in_fd, buf, (size_t)n)) > 0)
			r->sent += (size_t)n;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(r->send_fd);
			r->send_fd = -1;
			if (r->sent < b->size) { /* a cut upload: EOF for the stub */
				close(r->c.in_fd);
				r->c.in_fd = -1;
			}
		}
	}
	if (p[0].revents == 0)
		return 0;
	if ((n = read(r->c.out_fd, buf, sizeof(buf))) <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR);
	if (r->ev == JG_BOOT_AGENT || r->ev == JG_BOOT_FAILED)
		return 0; /* draining until the child exits */
	r->ev = jg_boot_feed(r->boot, buf, (size_t)n);
	if (r->ev == JG_BOOT_NEED) {
		r->needs++;
		r->send_fd = open(b->path, O_RDONLY | O_CLOEXEC);
		CU_ASSERT(r->send_fd >= 0);
	} else if (r->ev == JG_BOOT_AGENT && r->c.in_fd >= 0) {
		close(r->c.in_fd); /* EOF: the agent exits */
		r->c.in_fd = -1;
	}
	return 0;
}

static void run_finish(struct run *r)
{
	if (r->send_fd >= 0)
		close(r->send_fd);
	tu_close_child(&r->c);
	r->status = tu_wait_child(r->c.pid);
	if (r->ev == JG_BOOT_MORE || r->ev == JG_BOOT_NEED)
		fprintf(stderr, "\nstub stopped undecided; stderr: %s\n", r->err);
}

/* Run N stubs at once (same HOME: they race for the cache) to their end; 10 s bound. */
static void run_stubs(struct run *rs, size_t n, const char *home, const struct jg_agent_build *bs,
		      size_t nb)
{
	long end = tu_now_ms() + 10000;
	int done[4] = {0};
	size_t left = n;

	for (size_t i = 0; i < n; i++) {
		if (rs[i].send_limit == 0)
			rs[i].send_limit = (size_t)bs[0].size;
		CU_ASSERT_FATAL(run_start(&rs[i], home, bs, nb) == 0);
	}
	while (left > 0 && tu_now_ms() < end)
		for (size_t i = 0; i < n; i++)
			if (!done[i] && run_step(&rs[i], &bs[0])) {
				done[i] = 1;
				left--;
			}
	CU_ASSERT_EQUAL(left, 0);
	for (size_t i = 0; i < n; i++) {
		if (!done[i])
			kill(rs[i].c.pid, SIGKILL);
		run_finish(&rs[i]);
	}
}

static void run_free(struct run *r)
{
	jg_boot_free(r->boot);
	r->boot = NULL;
}

static int load_agent(struct jg_agent_build *b)
{
	char err[256];

	if (jg_agent_build_load(AGENT_PATH, b, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "\n%s\n", err);
	CU_FAIL("the agent must be built before the tests run");
	return -1;
}

/* Entries of DIR whose names start with PFX. */
static int count_entries(const char *dir, const char *pfx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, pfx, strlen(pfx)) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

static void rm_home(const char *home)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	CU_ASSERT(system(cmd) == 0);
}

static void check_agent_ran(struct run *r)
{
	struct evbuffer *rest = jg_boot_rest(r->boot);

	CU_ASSERT_EQUAL(r->ev, JG_BOOT_AGENT);
	CU_ASSERT(evbuffer_get_length(rest) >= 2 && memcmp(evbuffer_pullup(rest, 2), "JG", 2) == 0);
	/* stdin closed: the agent leaves cleanly. */
	CU_ASSERT(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0);
}

static void t_stub_uploads_then_uses_cache(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], file[700];
	struct jg_agent_build b;
	struct run r[2] = {{0}};
	struct stat st;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* A login that talks before the stub starts. */
	r[0].prefix = "echo motd; printf banner; ";
	run_stubs(&r[0], 1, home, &b, 1);
	CU_ASSERT_EQUAL(r[0].needs, 1);
	CU_ASSERT_EQUAL(r[0].sent, b.size);
	CU_ASSERT_EQUAL(jg_boot_discarded(r[0].boot), 5 + 6);
	CU_ASSERT_STRING_EQUAL(jg_boot_need_arch(r[0].boot), b.arch);
	CU_ASSERT_STRING_EQUAL(jg_boot_need_sha256(r[0].boot), b.sha256);
	check_agent_ran(&r[0]);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	snprintf(file, sizeof(file), "%s/agent-%s", dir, b.sha256);
	CU_ASSERT(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CU_ASSERT(stat(file, &st) == 0 && (st.st_mode & 0777) == 0700 &&
		  (uint64_t)st.st_size == b.size);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	/* Cached: no need line, not one byte sent. */
	run_stubs(&r[1], 1, home, &b, 1);
	CU_ASSERT_EQUAL(r[1].needs, 0);
	CU_ASSERT_EQUAL(r[1].sent, 0);
	check_agent_ran(&r[1]);
	run_free(&r[0]);
	run_free(&r[1]);
	rm_home(home);
}

static void t_stub_two_gateways_at_once(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600];
	struct jg_agent_build b;
	struct run r[2] = {{0}};

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	run_stubs(r, 2, home, &b, 1);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(r[i].needs, 1);
		check_agent_ran(&r[i]);
		run_free(&r[i]);
	}
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 1);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	rm_home(home);
}

/* Run one stub that must fail with a reason containing WANT; the cache keeps no file. */
static void expect_failure(const char *home, struct jg_agent_build *b, size_t send_limit, int needs,
			   const char *want)
{
	char dir[600];
	struct run r = {.send_limit = send_limit};

	run_stubs(&r, 1, home, b, 1);
	CU_ASSERT_EQUAL(r.ev, JG_BOOT_FAILED);
	CU_ASSERT_EQUAL(r.needs, needs);
	if (r.ev != JG_BOOT_FAILED || strstr(jg_boot_reason(r.boot), want) == NULL) {
		CU_FAIL("reason");
		fprintf(stderr, "\nreason \"%s\", want \"%s\"; stderr: %s\n",
			jg_boot_reason(r.boot), want, r.err);
	}
	CU_ASSERT(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 0);
	run_free(&r);
}

/* A cached agent (here a script printing its arguments) is exec'd after the exec line,
 * with the stub's own arguments, whatever they hold. */
static void t_stub_runs_cached_agent_with_args(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], file[700], env_home[640], out[512];
	char *envp[] = {env_home, "PATH=/usr/bin:/bin", NULL};
	struct jg_agent_build b = {.sha256 = SHA_A, .size = 5, .path = "/nonexistent"};
	struct jg_spawn_opts o = {.envp = envp};
	struct jg_boot *boot;
	struct jg_child c;
	struct utsname u;
	char *stub, err[256];
	size_t n;

	if (mkdtemp(home) == NULL || uname(&u) != 0) {
		CU_FAIL("mkdtemp or uname");
		return;
	}
	snprintf(b.arch, sizeof(b.arch), "%s", u.machine);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	snprintf(file, sizeof(file), "%s/agent-%s", dir, SHA_A);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(out, sizeof(out), "%s/.cache", home);
	CU_ASSERT_FATAL(mkdir(out, 0700) == 0 && mkdir(dir, 0700) == 0);
	tu_write_file(file, "#!/bin/sh\nprintf '[%s]' \"$@\"\n");
	CU_ASSERT_FATAL(chmod(file, 0700) == 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stub = jg_bootstrap_stub(&b, 1));
	{
		char *argv[] = {"/bin/sh", "-c", stub, "jumpgate-stub", "a b", "--setns=pid:42",
				"it's $x", "",	 NULL};

		o.argv = argv;
		CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, err, sizeof(err)), 0);
	}
	n = tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);
	CU_ASSERT_STRING_EQUAL(out, "jumpgate-stub: hello\njumpgate-stub: exec\n"
				    "[a b][--setns=pid:42][it's $x][]");
	/* The parser counts the stage; no bytes were asked for. */
	CU_ASSERT_FATAL((boot = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(boot, out, strcspn(out, "[")), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_stages_done(boot), 1);
	jg_boot_free(boot);
	CU_ASSERT(n > 0);
	free(stub);
	rm_home(home);
}

static void t_stub_refuses_unknown_arch(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[128];
	struct jg_agent_build b;
	struct utsname u;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	uname(&u);
	snprintf(b.arch, sizeof(b.arch), "nosucharch");
	snprintf(want, sizeof(want), "no agent for architecture %s on the gateway", u.machine);
	expect_failure(home, &b, 0, 0, want);
	rm_home(home);
}

static void t_stub_detects_corruption_and_short_upload(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[64];
	struct jg_agent_build b;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* The stub's table names another sha256 than the file sent. */
	memset(b.sha256, '0', 64);
	expect_failure(home, &b, 0, 1, "corrupted on the target (its sha256 is ");
	/* Only 1000 bytes, then EOF. */
	load_agent(&b);
	snprintf(want, sizeof(want), "bytes: 1000/%llu)", (unsigned long long)b.size);
	expect_failure(home, &b, 1000, 1, want);
	rm_home(home);
}

static void t_stub_reports_unusable_home(void)
{
	struct jg_agent_build b;

	if (load_agent(&b) != 0)
		return;
	/* A HOME (and TMPDIR) that is a file: mkdir fails even for root, in both places;
	 * the reason names the second. */
	expect_failure("/dev/null", &b, 0, 0,
		       "cannot create the agent cache directory /dev/null/.jumpgate-");
}

/* A HOME that cannot hold the cache: the agent goes to $TMPDIR/.jumpgate-UID; a
 * directory there that someone else owns is never used, nor does it stop the hop: the
 * agent runs from a per-run directory, removed when it exits. */
static void t_stub_falls_back_to_tmpdir(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], pfx[64];
	struct jg_agent_build b;
	struct run r = {0}, r2 = {0};

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* .cache is a file: HOME's cache cannot be made */
	snprintf(dir, sizeof(dir), "%s/.cache", home);
	tu_write_file(dir, "not a directory");
	run_stubs(&r, 1, home, &b, 1);
	check_agent_ran(&r);
	CU_ASSERT_EQUAL(r.needs, 1);
	snprintf(dir, sizeof(dir), "%s/.jumpgate-%u", home, (unsigned)getuid());
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 1);
	run_free(&r);
	/* the same directory, now owned by someone else: never used, never touched */
	if (getuid() == 0 && chown(dir, 65534, 65534) == 0) {
		run_stubs(&r2, 1, home, &b, 1);
		check_agent_ran(&r2);
		CU_ASSERT_EQUAL(r2.needs, 1);
		CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
		/* the per-run directory is gone once the agent has exited */
		snprintf(pfx, sizeof(pfx), ".jumpgate-%u.", (unsigned)getuid());
		CU_ASSERT_EQUAL(count_entries(home, pfx), 0);
		run_free(&r2);
	}
	rm_home(home);
}

/* ---- another local user racing the stub (fs.protected_symlinks=0) ---- */

#define RACE_UID 65534 /* nobody: a real second account on every system */
#define RACE_PIDS 300  /* stub pids ($$) planted ahead */
#define RACE_PAYLOAD "#!/bin/sh\ntouch \"$0.pwned\"\nexit 0\n"

/* The next pids the kernel will hand out (a guess, good enough to plant ahead). */
static long race_next_pid(void)
{
	char buf[32] = "";
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "r");
	long p = 0;

	if (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
		p = atol(buf);
	if (f != NULL)
		fclose(f);
	return p + 1;
}

static int race_sysctl(const char *val, char *old, size_t oldlen)
{
	FILE *f = fopen("/proc/sys/fs/protected_symlinks", "r+");
	int ok = f != NULL;

	if (ok && old != NULL)
		ok = fgets(old, (int)oldlen, f) != NULL;
	if (ok) {
		rewind(f);
		ok = fputs(val, f) >= 0;
	}
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* The attacker, as RACE_UID: .jumpgate-0 in the shared TMP is a symlink to PLANT (a
 * root-owned sticky directory like /tmp), where every temp name the stub may pick is
 * either a symlink to VICTIM (SWAP 0) or a file of ours held open, rewritten with a
 * payload once the stub has hashed it and made it 0700 (SWAP 1).  Exits within 10 s. */
static void race_attacker(const char *tmp, const char *plant, const char *victim, const char *sha,
			  int swap, int ready_fd)
{
	static int fds[RACE_PIDS];
	char link[700], name[800];
	long first = race_next_pid();
	struct stat st;
	int left = 0;

	if (setgroups(0, NULL) != 0 || setgid(RACE_UID) != 0 || setuid(RACE_UID) != 0)
		_exit(2);
	snprintf(link, sizeof(link), "%s/.jumpgate-0", tmp);
	if (symlink(plant, link) != 0)
		_exit(3);
	for (int i = 0; i < RACE_PIDS; i++) {
		snprintf(name, sizeof(name), "%s/.agent-%s.%ld", plant, sha, first + i);
		fds[i] = -1;
		if (!swap)
			left += symlink(victim, name) == 0;
		else if ((fds[i] = open(name, O_RDWR | O_CREAT | O_EXCL, 0666)) >= 0)
			left++;
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	close(ready_fd);
	for (long end = tu_now_ms() + 10000; swap && tu_now_ms() < end;) {
		for (int i = 0; i < RACE_PIDS; i++)
			if (fds[i] >= 0 && fstat(fds[i], &st) == 0 && (st.st_mode & 0777) == 0700) {
				/* hashed, about to be run: ours now */
				if (ftruncate(fds[i], 0) != 0 ||
				    pwrite(fds[i], RACE_PAYLOAD, strlen(RACE_PAYLOAD), 0) < 0)
					_exit(5);
				close(fds[i]); /* no ETXTBSY for the exec */
				_exit(0);
			}
		usleep(200);
	}
	_exit(left > 0 ? 0 : 6);
}

static void race_one(int swap)
{
	char base[] = "/tmp/jg-race-XXXXXX", tmp[64], plant[64], victim[64];
	char buf[4] = "", pfx[32];
	struct jg_agent_build b;
	struct run r = {0};
	struct stat st;
	int pfd[2], status;
	pid_t pid;

	if (load_agent(&b) != 0 || mkdtemp(base) == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s/tmp", base);
	snprintf(plant, sizeof(plant), "%s/plant", base);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	CU_ASSERT_FATAL(chmod(base, 0755) == 0 && mkdir(tmp, 0700) == 0 && chmod(tmp, 01777) == 0 &&
			mkdir(plant, 0700) == 0 && chmod(plant, 01777) == 0);
	tu_write_file(victim, "precious\n");
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		race_attacker(tmp, plant, victim, b.sha256, swap, pfd[1]);
	}
	close(pfd[1]);
	CU_ASSERT_FATAL(pid > 0 && read(pfd[0], buf, 1) == 1);
	close(pfd[0]);
	/* root with no HOME (lxc-attach --clear-env), TMPDIR the shared directory */
	r.tmpdir = tmp;
	run_stubs(&r, 1, "", &b, 1);
	/* the hop still works, from a directory of its own */
	check_agent_ran(&r);
	CU_ASSERT_EQUAL(r.needs, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* nothing of root's was changed or run through the attacker's names */
	CU_ASSERT(stat(plant, &st) == 0 && (st.st_mode & 07777) == 01777);
	CU_ASSERT(tu_file_is(victim, "precious\n"));
	CU_ASSERT_EQUAL(count_entries(plant, "agent-"), 0);
	for (DIR *d = opendir(plant); d != NULL; d = NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			if (strstr(e->d_name, ".pwned") != NULL) {
				CU_FAIL("the attacker's payload ran as root");
				fprintf(stderr, "\n%s ran as root\n", e->d_name);
			}
		closedir(d);
	}
	/* the per-run directory went with the agent */
	snprintf(pfx, sizeof(pfx), ".jumpgate-0.");
	CU_ASSERT_EQUAL(count_entries(tmp, pfx), 0);
	run_free(&r);
	rm_home(base);
}

static void t_stub_another_user_cannot_plant_or_swap(void)
{
	char old[16] = "";

	if (getuid() != 0 || race_sysctl("0", old, sizeof(old)) != 0) {
		/* Needs root (setuid to the second user, the sysctl). */
		fprintf(stderr, "\n  [skipped: needs root and a writable fs.protected_symlinks] ");
		return;
	}
	race_one(0); /* symlink plants: the directory and the temp file */
	race_one(1); /* the temp file rewritten after it was hashed */
	CU_ASSERT(race_sysctl(old, NULL, 0) == 0);
}

static void t_stub_reports_noexec_home(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[128];
	struct jg_agent_build b;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	if (mount("tmpfs", home, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, "size=16m") != 0) {
		/* Not root, or no CAP_SYS_ADMIN in this container. */
		fprintf(stderr, "\n  [skipped: cannot mount a noexec tmpfs: %s] ", strerror(errno));
		rmdir(home);
		return;
	}
	snprintf(want, sizeof(want),
		 "cannot execute the agent in %s/.cache/jumpgate (mounted noexec?)", home);
	expect_failure(home, &b, 0, 1, want);
	CU_ASSERT(umount2(home, MNT_DETACH) == 0);
	rmdir(home);
}

int jg_test_register_bootstrap(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
	    {"parse: need then agent, split at every byte", t_parse_need_then_agent_every_split},
	    {"parse: cached agent right after hello", t_parse_cached_agent_in_one_feed},
	    {"parse: stub errors become reasons, every split", t_parse_stub_errors_every_split},
	    {"parse: output before hello bounded at 64 KiB", t_parse_prefix_bounded_at_64k},
	    {"parse: garbage and long lines after hello fail, quoted",
	     t_parse_garbage_after_hello_quoted},
	    {"parse: two stages, noise and an early JG between them, every split",
	     t_parse_two_stages_every_split},
	    {"parse: stages step by step, a need in each", t_parse_stages_step_by_step},
	    {"parse: error lines before and between stages, every split",
	     t_parse_error_lines_between_stages},
	    {"parse: stages 0, the agent started directly", t_parse_no_stub_at_all},
	    {"stub: one line, no quote, '!' or newline", t_stub_is_one_safe_line},
	    {"stub: exec line before exec \"$f\" \"$@\", cached and fetched",
	     t_stub_announces_exec_and_passes_args},
	    {"build: the real agent's arch, size, sha256", t_build_load_real_agent},
	    {"build: non-ELF, missing, directory refused", t_build_load_refuses_non_elf},
	    {"stub (sh): upload once, then cached with no bytes sent",
	     t_stub_uploads_then_uses_cache},
	    {"stub (sh): two bootstraps racing for one cache", t_stub_two_gateways_at_once},
	    {"stub (sh): cached agent exec'd with the stub's arguments",
	     t_stub_runs_cached_agent_with_args},
	    {"stub (sh): unknown arch", t_stub_refuses_unknown_arch},
	    {"stub (sh): wrong sha256 and cut upload", t_stub_detects_corruption_and_short_upload},
	    {"stub (sh): HOME where no directory can be made", t_stub_reports_unusable_home},
	    {"stub (sh): falls back to TMPDIR, never to a directory of another owner",
	     t_stub_falls_back_to_tmpdir},
	    {"stub (sh): noexec home (tmpfs)", t_stub_reports_noexec_home},
	    {"stub (sh): another local user cannot plant or swap the TMPDIR agent",
	     t_stub_another_user_cannot_plant_or_swap},
	};
	CU_pSuite s = CU_add_suite("bootstrap", NULL, NULL);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
