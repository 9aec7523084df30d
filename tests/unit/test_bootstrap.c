/* Tests for agent bootstrap (relay/bootstrap.c): the sans-I/O parser fed byte strings
 * split every way, the stub's text, and describing agent builds from the real
 * ./jumpgate-agent (cwd is the build directory, so a missing agent is a failure, not a
 * skip).  The stub run by /bin/sh is in tests/unit/test_bootstrap_run.c. */
#include "config.h" /* _GNU_SOURCE */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "relay/bootstrap.h"
#include "relay/err.h"
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

int jg_test_register_bootstrap(void)
{
	static const struct tu_test tests[] = {
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
	};

	return tu_add_suite("bootstrap", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
