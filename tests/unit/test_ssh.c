/* Tests for the ssh module: exact argv, refusals, shell quoting run through a
 * real /bin/sh, the watcher on OpenSSH's real message texts, and one run of the
 * real ssh client against a closed port. */
#include "config.h" /* _GNU_SOURCE */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/err.h"
#include "relay/spawn.h"
#include "relay/ssh.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* Compare ARGV with the NULL-terminated WANT, element by element. */
static void assert_argv(char **argv, const char *const *want)
{
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(argv);
	for (i = 0; want[i] != NULL && argv[i] != NULL; i++) {
		if (strcmp(argv[i], want[i]) != 0)
			fprintf(stderr, "\nargv[%zu] = \"%s\", want \"%s\"\n", i, argv[i], want[i]);
		CU_ASSERT_STRING_EQUAL(argv[i], want[i]);
	}
	CU_ASSERT_PTR_NULL(want[i]);
	CU_ASSERT_PTR_NULL(argv[i]);
}

static int argv_has(char **argv, const char *s)
{
	for (; *argv != NULL; argv++)
		if (strcmp(*argv, s) == 0)
			return 1;
	return 0;
}

/* ---- argv ---- */

static void test_ssh_argv_minimal_is_batch_mode_enforced_and_ends_options_before_host(void)
{
	struct jg_ssh_opts o = {.host = "web1", .check_host_keys = JG_HOSTKEYS_ENFORCE};
	const char *want[] = {
	    "ssh", "-T",   "-e",   "none", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
	    "--",  "web1", "true", NULL};
	char **argv, err[256];

	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	assert_argv(argv, want);
	jg_argv_free(argv);
}

static void test_ssh_argv_every_option_in_order(void)
{
	char *extra[] = {"-o", "Ciphers=aes128-ctr", "-4", "-J", "jump1", NULL};
	struct jg_ssh_opts o = {
	    .host = "127.0.0.2",
	    .user = "deploy",
	    .port = 2222,
	    .identity_file = "/home/gw/.ssh/id_ed25519",
	    .check_host_keys = JG_HOSTKEYS_ACCEPT,
	    .known_hosts = "/var/lib/jumpgate/known_hosts",
	    .connect_timeout_s = 10,
	    .keepalive_interval_s = 15,
	    .keepalive_count = 3,
	    .compression = 1,
	    .ssh_args = extra,
	    .ssh_path = "/usr/bin/ssh",
	    .identities_only = 1,
	    .debug_level = 7,
	};
	const char *want[] = {"/usr/bin/ssh",
			      "-T",
			      "-e",
			      "none",
			      "-o",
			      "BatchMode=yes",
			      "-l",
			      "deploy",
			      "-p",
			      "2222",
			      "-i",
			      "/home/gw/.ssh/id_ed25519",
			      "-o",
			      "IdentitiesOnly=yes",
			      "-o",
			      "StrictHostKeyChecking=accept-new",
			      "-o",
			      "UserKnownHostsFile=/var/lib/jumpgate/known_hosts",
			      "-o",
			      "ConnectTimeout=10",
			      "-o",
			      "ServerAliveInterval=15",
			      "-o",
			      "ServerAliveCountMax=3",
			      "-C",
			      "-o",
			      "Ciphers=aes128-ctr",
			      "-4",
			      "-J",
			      "jump1",
			      "-v",
			      "-v",
			      "-v",
			      "--",
			      "127.0.0.2",
			      "sh -c 'exec agent'",
			      NULL};
	char **argv, err[256];

	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "sh -c 'exec agent'", &argv, err, sizeof(err)), 0);
	assert_argv(argv, want);
	jg_argv_free(argv);
}

static void test_ssh_argv_password_allows_one_prompt_and_never_carries_the_password(void)
{
	struct jg_ssh_opts o = {
	    .host = "web1", .password = "s3cret-pw", .check_host_keys = JG_HOSTKEYS_ACCEPT};
	const char *want[] = {
	    "ssh",  "-T",
	    "-e",   "none",
	    "-o",   "BatchMode=no",
	    "-o",   "NumberOfPasswordPrompts=1",
	    "-o",   "PreferredAuthentications=publickey,keyboard-interactive,password",
	    "-o",   "StrictHostKeyChecking=accept-new",
	    "--",   "web1",
	    "true", NULL};
	char **argv, err[256];

	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	assert_argv(argv, want);
	CU_ASSERT_FALSE(argv_has(argv, "BatchMode=yes"));
	for (char **p = argv; *p != NULL; p++)
		CU_ASSERT_PTR_NULL(strstr(*p, "s3cret"));
	jg_argv_free(argv);
}

static void test_ssh_argv_ignore_uses_dev_null_known_hosts_and_quiet_log(void)
{
	struct jg_ssh_opts o = {
	    .host = "web1", .check_host_keys = JG_HOSTKEYS_IGNORE, .known_hosts = "/tmp/kh"};
	const char *want[] = {"ssh",  "-T",
			      "-e",   "none",
			      "-o",   "BatchMode=yes",
			      "-o",   "StrictHostKeyChecking=no",
			      "-o",   "UserKnownHostsFile=/dev/null",
			      "-o",   "GlobalKnownHostsFile=/dev/null",
			      "-o",   "LogLevel=ERROR",
			      "--",   "web1",
			      "true", NULL};
	char **argv, err[256];

	/* known_hosts is not used with ignore: nothing is read or recorded. */
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	assert_argv(argv, want);
	jg_argv_free(argv);
}

static void test_ssh_argv_unset_host_key_check_means_enforce(void)
{
	struct jg_ssh_opts o = {.host = "web1"};
	char **argv, err[256];

	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT(argv_has(argv, "StrictHostKeyChecking=yes"));
	jg_argv_free(argv);
}

static void test_ssh_argv_ciphers_key_unless_ssh_args_choose(void)
{
	char *dash_c[] = {"-c", "aes256-ctr", NULL};
	char *dash_o[] = {"-o", "ciphers=aes256-ctr", NULL};
	char *other[] = {"-C", "-4", NULL};
	struct jg_ssh_opts o = {.host = "web1", .ciphers = "^aes128-gcm@openssh.com"};
	char **argv, err[256];

	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT(argv_has(argv, "Ciphers=^aes128-gcm@openssh.com"));
	jg_argv_free(argv);
	o.ssh_args = other;
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT(argv_has(argv, "Ciphers=^aes128-gcm@openssh.com"));
	jg_argv_free(argv);
	/* The operator's own choice in ssh_args wins (ssh keeps the first -o value). */
	o.ssh_args = dash_c;
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(argv_has(argv, "Ciphers=^aes128-gcm@openssh.com"));
	jg_argv_free(argv);
	o.ssh_args = dash_o;
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(argv_has(argv, "Ciphers=^aes128-gcm@openssh.com"));
	jg_argv_free(argv);
	o.ssh_args = NULL;
	o.ciphers = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	for (char **p = argv; *p != NULL; p++)
		CU_ASSERT_PTR_NULL(strstr(*p, "Ciphers"));
	jg_argv_free(argv);
}

static void test_ssh_argv_command_starting_with_dash_stays_one_argument_after_host(void)
{
	struct jg_ssh_opts o = {.host = "web1", .check_host_keys = JG_HOSTKEYS_ENFORCE};
	char **argv, err[256];
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(
	    jg_ssh_argv(&o, "-oProxyCommand=id; rm -rf x", &argv, err, sizeof(err)), 0);
	while (argv[n] != NULL)
		n++;
	CU_ASSERT_STRING_EQUAL(argv[n - 3], "--");
	CU_ASSERT_STRING_EQUAL(argv[n - 2], "web1");
	CU_ASSERT_STRING_EQUAL(argv[n - 1], "-oProxyCommand=id; rm -rf x");
	jg_argv_free(argv);
}

static int refused(struct jg_ssh_opts *o, const char *cmd, const char *why)
{
	char **argv = (char **)1, err[256];
	int r = jg_ssh_argv(o, cmd, &argv, err, sizeof(err));

	if (r != JG_ERR_INVAL || argv != NULL || strstr(err, why) == NULL) {
		fprintf(stderr, "\nnot refused as \"%s\": r=%d err=\"%s\"\n", why, r, err);
		jg_argv_free(r == 0 ? argv : NULL);
		return 0;
	}
	return 1;
}

static void test_ssh_argv_refuses_option_like_and_unsafe_hosts(void)
{
	struct jg_ssh_opts o = {.check_host_keys = JG_HOSTKEYS_ENFORCE};
	const struct {
		char *host;
		const char *why;
	} cases[] = {
	    {"-oProxyCommand=x", "starts with '-'"},
	    {"a b", "whitespace"},
	    {"a\tb", "whitespace"},
	    {"a\nb", "whitespace"},
	    {"x;y", "metacharacter"},
	    {"$(id)", "metacharacter"},
	    {"`id`", "metacharacter"},
	    {"a|b", "metacharacter"},
	    {"root@web1", "'@'"},
	    {"ssh://web1:2222", "'/'"},
	    {"", "empty"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o.host = cases[i].host;
		CU_ASSERT(refused(&o, "true", cases[i].why));
	}
	o.host = NULL;
	CU_ASSERT(refused(&o, "true", "no ssh host"));
}

static void test_ssh_argv_refuses_unsafe_users_and_missing_command(void)
{
	struct jg_ssh_opts o = {.host = "web1", .check_host_keys = JG_HOSTKEYS_ENFORCE};
	char err[256], **argv;

	o.user = "-oProxyCommand=x";
	CU_ASSERT(refused(&o, "true", "ssh user refused: starts with '-'"));
	o.user = "a b";
	CU_ASSERT(refused(&o, "true", "ssh user refused"));
	o.user = "x;y";
	CU_ASSERT(refused(&o, "true", "ssh user refused"));
	o.user = "deploy";
	CU_ASSERT(refused(&o, "", "no remote command"));
	CU_ASSERT(refused(&o, NULL, "no remote command"));
	/* The refused value is shown, made printable. */
	o.host = "a\x1b[2Jb";
	CU_ASSERT_EQUAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err, "\"a?[2Jb\": ssh host refused: contains whitespace or a "
				    "control character");
}

static void test_ssh_argv_refuses_local_commands_and_stray_words_in_ssh_args(void)
{
	struct jg_ssh_opts o = {.host = "web1", .check_host_keys = JG_HOSTKEYS_ENFORCE};
	char *proxy1[] = {"-oProxyCommand=nc %h %p", NULL};
	char *proxy2[] = {"-o", "proxycommand nc web1 22", NULL};
	char *local[] = {"-o", "LocalCommand=id", NULL};
	char *permit[] = {"-oPermitLocalCommand=yes", NULL};
	char *khcmd[] = {"-oKnownHostsCommand=/bin/x", NULL};
	char *word[] = {"-4", "web2", NULL};
	char *dashdash[] = {"--", NULL};
	char *dangling[] = {"-4", "-o", NULL};
	char *ok[] = {"-l", "-odd-but-a-value", "-4", "-p", "22", NULL};
	char **argv, err[256];

	o.ssh_args = proxy1;
	CU_ASSERT(refused(&o, "true", "may not set ProxyCommand"));
	o.ssh_args = proxy2;
	CU_ASSERT(refused(&o, "true", "may not set ProxyCommand"));
	o.ssh_args = local;
	CU_ASSERT(refused(&o, "true", "may not set LocalCommand"));
	o.ssh_args = permit;
	CU_ASSERT(refused(&o, "true", "may not set"));
	o.ssh_args = khcmd;
	CU_ASSERT(refused(&o, "true", "may not set KnownHostsCommand"));
	o.ssh_args = word;
	CU_ASSERT(refused(&o, "true", "neither an option nor its value"));
	o.ssh_args = dashdash;
	CU_ASSERT(refused(&o, "true", "may not end ssh's options"));
	o.ssh_args = dangling;
	CU_ASSERT(refused(&o, "true", "needs a value"));
	/* The value of a value-taking option is taken as it is, even with a '-'. */
	o.ssh_args = ok;
	CU_ASSERT_EQUAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	jg_argv_free(argv);
}

static void test_ssh_argv_refuses_paths_ssh_would_expand_or_split(void)
{
	struct jg_ssh_opts o = {.host = "web1", .check_host_keys = JG_HOSTKEYS_ENFORCE};
	char **argv, err[256];

	o.identity_file = "/keys/%u";
	CU_ASSERT(refused(&o, "true", "identity_file refused"));
	o.identity_file = "/keys/${HOME}";
	CU_ASSERT(refused(&o, "true", "identity_file refused"));
	o.identity_file = "/keys/my key"; /* one argv element after -i: fine */
	CU_ASSERT_EQUAL(jg_ssh_argv(&o, "true", &argv, err, sizeof(err)), 0);
	CU_ASSERT(argv_has(argv, "/keys/my key"));
	jg_argv_free(argv);
	o.identity_file = NULL;
	o.known_hosts = "/kh/a b"; /* an -o value: ssh would split it into two files */
	CU_ASSERT(refused(&o, "true", "known_hosts refused"));
	o.known_hosts = "";
	CU_ASSERT(refused(&o, "true", "known_hosts refused: empty"));
}

/* ---- watcher: prompts ---- */

static enum jg_ssh_prompt tty_once(const char *s)
{
	struct jg_ssh_watch w;

	jg_ssh_watch_init(&w);
	return jg_ssh_watch_tty(&w, s, strlen(s));
}

static void test_watch_recognises_each_password_prompt_form(void)
{
	static const char *const prompts[] = {
	    "deploy@127.0.0.2's password: ",
	    "Password:",
	    "Password for x@y: ",
	    "(deploy@127.0.0.2) Password: ",
	    "Enter passphrase for key '/home/gw/.ssh/id_ed25519': ",
	    "Welcome\r\n\r\ndeploy@web1's password: ",
	    "PASSWORD:  \t",
	};

	for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++)
		CU_ASSERT_EQUAL(tty_once(prompts[i]), JG_SSH_PROMPT_PASSWORD);
}

static void test_watch_banner_mentioning_password_is_not_a_prompt(void)
{
	static const char *const banners[] = {
	    "Welcome; your password expires in 3 days\n",
	    "password policy applies to this host.",
	    "Enter your password:\r\n",
	    "Passwords are rotated every 90 days\r\n",
	    "",
	};

	for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]); i++)
		CU_ASSERT_EQUAL(tty_once(banners[i]), JG_SSH_PROMPT_NONE);
}

static void test_watch_prompt_split_over_two_feeds_is_seen_once_complete(void)
{
	struct jg_ssh_watch w;

	jg_ssh_watch_init(&w);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "deploy@web1's pass", 18), JG_SSH_PROMPT_NONE);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "word: ", 6), JG_SSH_PROMPT_PASSWORD);
	/* Answered: the echoed line end must not make it a prompt again. */
	jg_ssh_watch_answered(&w);
	CU_ASSERT_EQUAL(w.prompts_answered, 1);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "\r\n", 2), JG_SSH_PROMPT_NONE);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "", 0), JG_SSH_PROMPT_NONE);
}

static void test_watch_recognises_the_host_key_question(void)
{
	const char *q = "The authenticity of host '127.0.0.2 (127.0.0.2)' can't be established.\r\n"
			"ED25519 key fingerprint is SHA256:Xx0/abc.\r\n"
			"This key is not known by any other names.\r\n"
			"Are you sure you want to continue connecting (yes/no/[fingerprint])? ";

	CU_ASSERT_EQUAL(tty_once(q), JG_SSH_PROMPT_HOSTKEY);
	CU_ASSERT_EQUAL(tty_once("Are you sure you want to continue connecting (yes/no)? "),
			JG_SSH_PROMPT_HOSTKEY);
	CU_ASSERT_EQUAL(tty_once("(yes/no)? maybe\r\n"), JG_SSH_PROMPT_NONE);
}

static void test_watch_tty_keeps_a_bounded_tail(void)
{
	struct jg_ssh_watch w;
	char junk[2000];

	memset(junk, 'x', sizeof(junk));
	jg_ssh_watch_init(&w);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, junk, sizeof(junk)), JG_SSH_PROMPT_NONE);
	CU_ASSERT(w.tty_len < sizeof(w.tty_tail));
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, " Password: ", 11), JG_SSH_PROMPT_PASSWORD);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, junk, 300), JG_SSH_PROMPT_NONE);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "\0\n", 2), JG_SSH_PROMPT_NONE);
	CU_ASSERT_EQUAL(strlen(w.tty_tail), w.tty_len);
}

/* ---- watcher: failures ---- */

static void test_watch_classifies_openssh_failure_messages(void)
{
	static const struct {
		const char *line;
		enum jg_ssh_failure failure;
	} cases[] = {
	    {"deploy@127.0.0.2: Permission denied (publickey).", JG_SSH_FAIL_AUTH},
	    {"deploy@127.0.0.2: Permission denied (publickey,password).", JG_SSH_FAIL_AUTH},
	    {"Permission denied, please try again.", JG_SSH_FAIL_AUTH},
	    {"Received disconnect from 127.0.0.2 port 22:2: Too many authentication failures",
	     JG_SSH_FAIL_AUTH},
	    {"Host key verification failed.", JG_SSH_FAIL_HOSTKEY_UNKNOWN},
	    {"Unable to negotiate with 127.0.0.2 port 2222: no matching host key type found. "
	     "Their offer: ssh-dss",
	     JG_SSH_FAIL_REFUSED},
	    {"ssh: connect to host 127.0.0.2 port 2222: Connection refused", JG_SSH_FAIL_REFUSED},
	    {"ssh: connect to host 10.255.255.1 port 22: Connection timed out",
	     JG_SSH_FAIL_TIMEOUT},
	    {"Connection timed out during banner exchange", JG_SSH_FAIL_TIMEOUT},
	    {"ssh: connect to host web9 port 22: Operation timed out", JG_SSH_FAIL_TIMEOUT},
	    {"ssh: Could not resolve hostname nosuch.invalid: Name or service not known",
	     JG_SSH_FAIL_RESOLVE},
	    {"ssh: connect to host 10.0.0.1 port 22: No route to host", JG_SSH_FAIL_UNREACHABLE},
	    {"ssh: connect to host 10.0.0.1 port 22: Network is unreachable",
	     JG_SSH_FAIL_UNREACHABLE},
	    {"kex_exchange_identification: Connection closed by remote host", JG_SSH_FAIL_NONE},
	    {"Load key \"/k\": Permission denied", JG_SSH_FAIL_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_ssh_watch w;

		jg_ssh_watch_init(&w);
		jg_ssh_watch_stderr(&w, cases[i].line, strlen(cases[i].line));
		CU_ASSERT_EQUAL(w.failure, JG_SSH_FAIL_NONE); /* not a line until its end */
		jg_ssh_watch_stderr(&w, "\r\n", 2);
		if (w.failure != cases[i].failure)
			fprintf(stderr, "\n\"%s\": %d\n", cases[i].line, w.failure);
		CU_ASSERT_EQUAL(w.failure, cases[i].failure);
		CU_ASSERT_STRING_EQUAL(w.last_line, cases[i].line);
	}
}

static void test_watch_changed_host_key_wins_over_verification_failed(void)
{
	const char *out =
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
	    "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n"
	    "It is also possible that a host key has just been changed.\n"
	    "The fingerprint for the ED25519 key sent by the remote host is\n"
	    "SHA256:Xx0/abc.\n"
	    "Please contact your system administrator.\n"
	    "Add correct host key in /tmp/kh to get rid of this message.\n"
	    "Offending ED25519 key in /tmp/kh:1\n"
	    "  remove with:\n"
	    "  ssh-keygen -f \"/tmp/kh\" -R \"127.0.0.2\"\n"
	    "Host key for 127.0.0.2 has changed and you have requested strict checking.\n"
	    "Host key verification failed.\n";
	struct jg_ssh_watch w;
	char reason[512];

	jg_ssh_watch_init(&w);
	/* Fed in odd-sized pieces, as a pipe delivers it. */
	for (size_t off = 0, n = strlen(out); off < n; off += 7)
		jg_ssh_watch_stderr(&w, out + off, n - off < 7 ? n - off : 7);
	CU_ASSERT_EQUAL(w.failure, JG_SSH_FAIL_HOSTKEY_CHANGED);
	CU_ASSERT_STRING_EQUAL(w.last_line, "Host key verification failed.");
	jg_ssh_watch_reason(&w, W_EXITCODE(255, 0), reason, sizeof(reason));
	CU_ASSERT_STRING_EQUAL(reason, "host key of the target changed (possible "
				       "man-in-the-middle; fix known_hosts): Host key "
				       "verification failed.");
}

static void test_watch_failure_printed_on_the_terminal_counts(void)
{
	struct jg_ssh_watch w;

	jg_ssh_watch_init(&w);
	CU_ASSERT_EQUAL(jg_ssh_watch_tty(&w, "Permission denied, please try again.\r\n", 38),
			JG_SSH_PROMPT_NONE);
	CU_ASSERT_EQUAL(w.failure, JG_SSH_FAIL_AUTH);
	CU_ASSERT_STRING_EQUAL(w.last_line, "Permission denied, please try again.");
}

static void test_watch_last_line_skips_noise_but_noise_is_still_classified(void)
{
	const char *out = "real line\r\n"
			  "Warning: Permanently added '127.0.0.2' (ED25519) to the list of known "
			  "hosts.\r\n"
			  "debug1: connect to address 127.0.0.1 port 1: Connection refused\n"
			  "\n   \n";
	struct jg_ssh_watch w;
	char longline[2000];

	jg_ssh_watch_init(&w);
	jg_ssh_watch_stderr(&w, out, strlen(out));
	CU_ASSERT_STRING_EQUAL(w.last_line, "real line");
	CU_ASSERT_EQUAL(w.failure, JG_SSH_FAIL_REFUSED);
	/* A very long line is bounded, and the next line is still seen whole. */
	memset(longline, 'y', sizeof(longline));
	jg_ssh_watch_stderr(&w, longline, sizeof(longline));
	CU_ASSERT(w.err_len < sizeof(w.err_partial));
	jg_ssh_watch_stderr(&w, "\nlast\n", 6);
	CU_ASSERT_STRING_EQUAL(w.last_line, "last");
}

static void test_watch_reason_texts(void)
{
	static const struct {
		const char *out;
		int wstatus;
		const char *reason;
	} cases[] = {
	    {"deploy@127.0.0.2: Permission denied (publickey).\n", W_EXITCODE(255, 0),
	     "authentication failed: deploy@127.0.0.2: Permission denied (publickey)."},
	    {"Host key verification failed.\n", W_EXITCODE(255, 0),
	     "host key not known and check_host_keys = enforce: Host key verification "
	     "failed."},
	    {"ssh: connect to host 127.0.0.2 port 2222: Connection refused\r\n", W_EXITCODE(255, 0),
	     "connection refused: ssh: connect to host 127.0.0.2 port 2222: Connection refused"},
	    {"Connection timed out during banner exchange\n", W_EXITCODE(255, 0),
	     "connection timed out: Connection timed out during banner exchange"},
	    {"ssh: Could not resolve hostname nx: Name or service not known\n", -1,
	     "host name not resolved: ssh: Could not resolve hostname nx: Name or service not "
	     "known"},
	    {"Connection to 127.0.0.2 closed by remote host.\n", W_EXITCODE(255, 0),
	     "ssh exited with status 255: Connection to 127.0.0.2 closed by remote host."},
	    {"", W_EXITCODE(0, 0), "ssh exited with status 0"},
	    {"", W_EXITCODE(0, 9), "ssh killed by signal 9"},
	    {"Timeout, server 127.0.0.2 not responding.\n", W_EXITCODE(0, 15),
	     "ssh killed by signal 15: Timeout, server 127.0.0.2 not responding."},
	    {"debug1: Authentications that can continue: publickey\n", -1, "ssh still running"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_ssh_watch w;
		char reason[512];

		jg_ssh_watch_init(&w);
		jg_ssh_watch_stderr(&w, cases[i].out, strlen(cases[i].out));
		jg_ssh_watch_reason(&w, cases[i].wstatus, reason, sizeof(reason));
		CU_ASSERT_STRING_EQUAL(reason, cases[i].reason);
	}
	CU_ASSERT_STRING_EQUAL(jg_ssh_failure_name(JG_SSH_FAIL_AUTH), "authentication failed");
	CU_ASSERT_STRING_EQUAL(jg_ssh_failure_name(JG_SSH_FAIL_OTHER), "ssh failed");
}

/* ---- the real client ---- */

static void test_real_ssh_to_a_closed_port_is_refused_and_runs_no_local_command(void)
{
	char pwned[64], cmd[128], out[4096], reason[512], err[256], **argv;
	struct jg_ssh_opts o = {.host = "127.0.0.1",
				.port = 1,
				.check_host_keys = JG_HOSTKEYS_IGNORE,
				.connect_timeout_s = 5};
	struct jg_spawn_opts so = {0};
	struct jg_ssh_watch w;
	struct jg_child c;
	size_t n;
	int st;

	if (access("/usr/bin/ssh", X_OK) != 0) {
		fprintf(stderr, "(no /usr/bin/ssh: skipped) ");
		return;
	}
	/* A command that ssh would take for an option were it not after "--". */
	snprintf(pwned, sizeof(pwned), "/tmp/jg-test-ssh-pwned-%ld", (long)getpid());
	snprintf(cmd, sizeof(cmd), "-oProxyCommand=touch %s", pwned);
	CU_ASSERT_EQUAL_FATAL(jg_ssh_argv(&o, cmd, &argv, err, sizeof(err)), 0);
	so.argv = argv;
	CU_ASSERT_EQUAL_FATAL(jg_spawn(&so, &c, err, sizeof(err)), 0);
	close(c.in_fd);
	c.in_fd = -1;
	n = tu_read_all(c.err_fd, out, sizeof(out));
	st = tu_wait_child(c.pid);
	jg_ssh_watch_init(&w);
	jg_ssh_watch_stderr(&w, out, n);
	jg_ssh_watch_reason(&w, st, reason, sizeof(reason));
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 255);
	CU_ASSERT_EQUAL(w.failure, JG_SSH_FAIL_REFUSED);
	CU_ASSERT_STRING_EQUAL(reason, "connection refused: ssh: connect to host 127.0.0.1 port 1: "
				       "Connection refused");
	CU_ASSERT_NOT_EQUAL(access(pwned, F_OK), 0);
	unlink(pwned);
	tu_close_child(&c);
	jg_argv_free(argv);
}

int jg_test_register_ssh(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("ssh", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(
		s, test_ssh_argv_minimal_is_batch_mode_enforced_and_ends_options_before_host) ||
	    !CU_ADD_TEST(s, test_ssh_argv_every_option_in_order) ||
	    !CU_ADD_TEST(s,
			 test_ssh_argv_password_allows_one_prompt_and_never_carries_the_password) ||
	    !CU_ADD_TEST(s, test_ssh_argv_ignore_uses_dev_null_known_hosts_and_quiet_log) ||
	    !CU_ADD_TEST(s, test_ssh_argv_unset_host_key_check_means_enforce) ||
	    !CU_ADD_TEST(s, test_ssh_argv_ciphers_key_unless_ssh_args_choose) ||
	    !CU_ADD_TEST(s,
			 test_ssh_argv_command_starting_with_dash_stays_one_argument_after_host) ||
	    !CU_ADD_TEST(s, test_ssh_argv_refuses_option_like_and_unsafe_hosts) ||
	    !CU_ADD_TEST(s, test_ssh_argv_refuses_unsafe_users_and_missing_command) ||
	    !CU_ADD_TEST(s, test_ssh_argv_refuses_local_commands_and_stray_words_in_ssh_args) ||
	    !CU_ADD_TEST(s, test_ssh_argv_refuses_paths_ssh_would_expand_or_split) ||
	    !CU_ADD_TEST(s, test_watch_recognises_each_password_prompt_form) ||
	    !CU_ADD_TEST(s, test_watch_banner_mentioning_password_is_not_a_prompt) ||
	    !CU_ADD_TEST(s, test_watch_prompt_split_over_two_feeds_is_seen_once_complete) ||
	    !CU_ADD_TEST(s, test_watch_recognises_the_host_key_question) ||
	    !CU_ADD_TEST(s, test_watch_tty_keeps_a_bounded_tail) ||
	    !CU_ADD_TEST(s, test_watch_classifies_openssh_failure_messages) ||
	    !CU_ADD_TEST(s, test_watch_changed_host_key_wins_over_verification_failed) ||
	    !CU_ADD_TEST(s, test_watch_failure_printed_on_the_terminal_counts) ||
	    !CU_ADD_TEST(s, test_watch_last_line_skips_noise_but_noise_is_still_classified) ||
	    !CU_ADD_TEST(s, test_watch_reason_texts) ||
	    !CU_ADD_TEST(s, test_real_ssh_to_a_closed_port_is_refused_and_runs_no_local_command))
		return -1;
	return 0;
}
