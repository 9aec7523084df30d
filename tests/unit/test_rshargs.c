/* Tests for the rsh argument parser (client/rshargs.c): the argv that rsync, git, scp,
 * Ansible's ssh plugin and Mitogen give an ssh client, every option spelling ssh takes,
 * and each refusal with the word it names. */
#include <stdio.h>
#include <string.h>

#include "client/rshargs.h"
#include "relay/err.h"
#include "tests/unit/suites.h"

#define NARGS(v) ((int)(sizeof(v) / sizeof((v)[0])))

static char err[512];

/* Parse V into A; the caller clears A. */
static int parse(struct jg_rshargs *a, int argc, char *const *v)
{
	return jg_rshargs_parse(a, argc, v, err, sizeof(err));
}

/* V must be refused with a reason containing WHAT. */
static void refused(int argc, char *const *v, const char *what)
{
	struct jg_rshargs a;

	CU_ASSERT_EQUAL(parse(&a, argc, v), JG_ERR_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	if (strstr(err, what) == NULL)
		fprintf(stderr, "\n  reason '%s' lacks '%s'\n", err, what);
	jg_rshargs_clear(&a);
}

static void test_rsync_argv_with_user_becomes_ssh_spec(void)
{
	char *v[] = {"-l", "deploy",	"web1", "rsync", "--server", "-logDtpre.iLsfxCIvu",
		     ".",  "/srv/site/"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_RUN);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:deploy@web1");
	CU_ASSERT_STRING_EQUAL(a.command, "rsync --server -logDtpre.iLsfxCIvu . /srv/site/");
	CU_ASSERT_STRING_EQUAL(a.argv[0], "/bin/sh");
	CU_ASSERT_STRING_EQUAL(a.argv[1], "-c");
	CU_ASSERT_PTR_EQUAL(a.argv[2], a.command);
	CU_ASSERT_PTR_NULL(a.argv[3]);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_NO);
	CU_ASSERT_FALSE(a.stdin_null);
	jg_rshargs_clear(&a);
}

static void test_rsync_argv_without_user_passes_host_as_is(void)
{
	char *v[] = {"local", "rsync", "--server", "-logDtpre.iLsfxCIvu", ".", "/tmp/dst/"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "local");
	CU_ASSERT_STRING_EQUAL(a.command, "rsync --server -logDtpre.iLsfxCIvu . /tmp/dst/");
	jg_rshargs_clear(&a);
}

static void test_git_plain_and_with_port_and_sendenv(void)
{
	char *plain[] = {"web1", "git-upload-pack '/srv/repo.git'"};
	char *port[] = {"-o",	"SendEnv=GIT_PROTOCOL",		  "-p", "2222",
			"web1", "git-upload-pack '/srv/repo.git'"};
	char *detect[] = {"-G", "-o", "SendEnv=GIT_PROTOCOL", "-p", "2222", "web1"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(plain), plain), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "web1");
	CU_ASSERT_STRING_EQUAL(a.command, "git-upload-pack '/srv/repo.git'");
	CU_ASSERT_EQUAL(a.nsendenv, 0);
	jg_rshargs_clear(&a);

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(port), port), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:web1:2222");
	CU_ASSERT_EQUAL(a.port, 2222);
	CU_ASSERT_EQUAL_FATAL(a.nsendenv, 1);
	CU_ASSERT_STRING_EQUAL(a.sendenv[0], "GIT_PROTOCOL");
	CU_ASSERT_STRING_EQUAL(a.command, "git-upload-pack '/srv/repo.git'");
	jg_rshargs_clear(&a);

	/* git's "ssh -G" probe must succeed, or git refuses -p for a "simple" ssh. */
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(detect), detect), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_CONFIG);
	CU_ASSERT_STRING_EQUAL(a.host, "web1");
	CU_ASSERT_PTR_NULL(a.command);
	jg_rshargs_clear(&a);
}

/* Recorded from Ansible 2.14's ssh connection plugin (ansible_user=deploy, become off)
 * for `ansible web1 -m shell -a 'echo ~deploy'`: its home-directory probe. */
static void test_ansible_exact_argv(void)
{
	char *v[] = {"-C",
		     "-o",
		     "ControlMaster=auto",
		     "-o",
		     "ControlPersist=60s",
		     "-o",
		     "StrictHostKeyChecking=no",
		     "-o",
		     "KbdInteractiveAuthentication=no",
		     "-o",
		     "PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey",
		     "-o",
		     "PasswordAuthentication=no",
		     "-o",
		     "User=\"deploy\"",
		     "-o",
		     "ConnectTimeout=10",
		     "-o",
		     "ControlPath=\"/root/.ansible/cp/abc\"",
		     "-tt",
		     "web1",
		     "/bin/sh -c 'echo ~deploy && sleep 0'"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_RUN);
	CU_ASSERT_STRING_EQUAL(a.user, "deploy");
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:deploy@web1");
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_FORCE);
	CU_ASSERT_STRING_EQUAL(a.command, "/bin/sh -c 'echo ~deploy && sleep 0'");
	jg_rshargs_clear(&a);
}

/* Mitogen's ssh method (mitogen/ssh.py get_boot_command): "KEY VALUE" spellings. */
static void test_mitogen_argv(void)
{
	char *v[] = {"-o",
		     "LogLevel ERROR",
		     "-l",
		     "root",
		     "-p",
		     "2200",
		     "-o",
		     "Compression yes",
		     "-o",
		     "ServerAliveInterval 30",
		     "-o",
		     "ServerAliveCountMax 10",
		     "-o",
		     "BatchMode yes",
		     "-o",
		     "StrictHostKeyChecking no",
		     "-o",
		     "UserKnownHostsFile /dev/null",
		     "-o",
		     "GlobalKnownHostsFile /dev/null",
		     "10.0.0.7",
		     "python3",
		     "-c",
		     "'import codecs,os,sys;_=codecs.decode;exec(_(_(\"eNo=\".encode(),\"base64\"),"
		     "\"zip\"))'"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:root@10.0.0.7:2200");
	CU_ASSERT_STRING_EQUAL(a.command, "python3 -c 'import codecs,os,sys;_=codecs.decode;"
					  "exec(_(_(\"eNo=\".encode(),\"base64\"),\"zip\"))'");
	jg_rshargs_clear(&a);
}

/* scp of OpenSSH 9 (SFTP mode) and scp -O (the old protocol). */
static void test_scp_argv(void)
{
	char *sftp[] = {"-x",
			"-oPermitLocalCommand=no",
			"-oClearAllForwardings=yes",
			"-oRemoteCommand=none",
			"-oRequestTTY=no",
			"-oControlMaster=no",
			"-oForwardAgent=no",
			"-l",
			"deploy",
			"-s",
			"--",
			"web1",
			"sftp"};
	char *old[] = {"-x",
		       "-oPermitLocalCommand=no",
		       "-oClearAllForwardings=yes",
		       "-oRemoteCommand=none",
		       "-oRequestTTY=no",
		       "-oControlMaster=no",
		       "-oForwardAgent=no",
		       "--",
		       "web1",
		       "scp -t /tmp/"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(sftp), sftp), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:deploy@web1");
	CU_ASSERT_PTR_EQUAL(a.argv[2], jg_rshargs_sftp_starter);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_NO);
	jg_rshargs_clear(&a);

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(old), old), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "web1");
	CU_ASSERT_STRING_EQUAL(a.command, "scp -t /tmp/");
	jg_rshargs_clear(&a);
}

static void test_every_flag_without_value_is_accepted(void)
{
	const char *flags = "246AaCfgKkMnqsTtvXxYy";
	struct jg_rshargs a;

	for (const char *f = flags; *f != '\0'; f++) {
		char opt[3] = {'-', *f, '\0'};
		char *v[] = {opt, "web1", *f == 's' ? "sftp" : "true"};

		CU_ASSERT_EQUAL(parse(&a, NARGS(v), v), 0);
		CU_ASSERT_STRING_EQUAL(a.target, "web1");
		jg_rshargs_clear(&a);
	}
}

static void test_every_option_with_value_is_accepted_separate_and_attached(void)
{
	const char *opts = "BbcDEeFIiJLlmopPRSw";
	struct jg_rshargs a;

	for (const char *o = opts; *o != '\0'; o++) {
		char opt[3] = {'-', *o, '\0'}, attached[16];
		const char *val = *o == 'p' ? "2222" : *o == 'o' ? "Ciphers=x" : "val";
		char *sep[] = {opt, (char *)val, "web1", "true"};
		char *att[] = {attached, "web1", "true"};

		snprintf(attached, sizeof(attached), "-%c%s", *o, val);
		CU_ASSERT_EQUAL(parse(&a, NARGS(sep), sep), 0);
		CU_ASSERT_STRING_EQUAL(a.command, "true");
		jg_rshargs_clear(&a);
		CU_ASSERT_EQUAL(parse(&a, NARGS(att), att), 0);
		CU_ASSERT_STRING_EQUAL(a.command, "true");
		jg_rshargs_clear(&a);
	}
}

static void test_bundled_flags_and_attached_values(void)
{
	char *v1[] = {"-Cq", "-vvv", "-p2222", "-luser", "web1", "true"};
	char *v2[] = {"-tp", "22", "-oUser=x", "host", "true"};
	char *v3[] = {"-nTtt", "host", "true"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v1), v1), 0);
	CU_ASSERT_EQUAL(a.verbose, 3);
	CU_ASSERT(a.quiet);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:user@web1:2222");
	jg_rshargs_clear(&a);

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v2), v2), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:x@host:22");
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_IF_TERMINAL);
	jg_rshargs_clear(&a);

	/* -T wins over -t, as in ssh. */
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v3), v3), 0);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_NO);
	CU_ASSERT(a.stdin_null);
	jg_rshargs_clear(&a);
}

/* -A, -a and -o ForwardAgent: whether our ssh-agent is relayed for the onward ssh. */
static void test_forward_agent(void)
{
	char *none[] = {"h", "true"};
	char *A[] = {"-A", "h", "true"};
	char *Aa[] = {"-A", "-a", "h", "true"};
	char *o_yes[] = {"-o", "ForwardAgent=yes", "h", "true"};
	char *o_first[] = {"-o", "ForwardAgent=no", "-o", "forwardagent yes", "h", "true"};
	char *flag_wins[] = {"-A", "-o", "ForwardAgent=no", "h", "true"};
	char *o_path[] = {"-o", "ForwardAgent=/tmp/other.sock", "h", "true"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(none), none), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 0);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(A), A), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 1);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(Aa), Aa), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 0);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(o_yes), o_yes), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 1);
	jg_rshargs_clear(&a);
	/* the first ForwardAgent wins, as in ssh; -A beats it */
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(o_first), o_first), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 0);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(flag_wins), flag_wins), 0);
	CU_ASSERT_EQUAL(a.forward_agent, 1);
	jg_rshargs_clear(&a);
	/* another agent's socket: said, not silently ignored */
	refused(NARGS(o_path), o_path, "-o ForwardAgent: unsupported value");
}

static void test_o_spellings_case_and_quotes(void)
{
	char *forms[][2] = {
	    {"-o", "User=x"},	{"-o", "User x"},     {"-o", "user = x"},
	    {"-o", "USER\tx"},	{"-o", "User=\"x\""}, {"-o", "User='x'"},
	    {"-oUser=x", NULL}, {"-o", " User=x "},   {"-o", "User=\\x"},
	};
	struct jg_rshargs a;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *v[] = {forms[i][0], forms[i][1], "h", "true"};
		char *w[] = {forms[i][0], "h", "true"};

		int r = forms[i][1] != NULL ? parse(&a, 4, v) : parse(&a, 3, w);

		CU_ASSERT_EQUAL(r, 0);
		CU_ASSERT_STRING_EQUAL(a.user, "x");
		CU_ASSERT_STRING_EQUAL(a.target, "ssh:x@h");
		jg_rshargs_clear(&a);
	}
}

static void test_o_port_requesttty_hostname_stdinnull(void)
{
	char *v[] = {"-o",    "PORT=2200",
		     "-o",    "requesttty force",
		     "-o",    "HostName=127.0.0.2",
		     "-o",    "StdinNull=yes",
		     "alias", "true"};
	char *auto_[] = {"-o", "RequestTTY=auto", "h", "true"};
	char *yes[] = {"-o", "RequestTTY=yes", "h", "true"};
	char *beat[] = {"-T", "-o", "RequestTTY=force", "h", "true"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:127.0.0.2:2200");
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_FORCE);
	CU_ASSERT(a.stdin_null);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(auto_), auto_), 0);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_NO);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(yes), yes), 0);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_IF_TERMINAL);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(beat), beat), 0);
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_NO);
	jg_rshargs_clear(&a);
}

static void test_first_user_and_port_win_as_in_ssh(void)
{
	char *v1[] = {"-l", "a", "-l", "b", "-o", "User=c", "d@h", "true"};
	char *v2[] = {"-o", "User=c", "-l", "a", "h", "true"};
	char *v3[] = {"-p", "1", "-o", "Port=2", "-p", "3", "h", "true"};
	char *v4[] = {"d@h", "-l", "a", "true"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL(parse(&a, NARGS(v1), v1), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:a@h");
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(v2), v2), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:c@h");
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(v3), v3), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:h:1");
	jg_rshargs_clear(&a);
	/* user@host comes before an -l that follows it */
	CU_ASSERT_EQUAL(parse(&a, NARGS(v4), v4), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:d@h");
	jg_rshargs_clear(&a);
}

static void test_host_forms(void)
{
	struct {
		const char *host, *extra, *target;
	} cases[] = {
	    {"web1", NULL, "web1"},
	    {"deploy@web1", NULL, "ssh:deploy@web1"},
	    {"ssh://deploy@web1:2222", NULL, "ssh:deploy@web1:2222"},
	    {"ssh://web1", NULL, "web1"},
	    {"ssh://[::1]:22", NULL, "ssh:[::1]:22"},
	    {"::1", NULL, "[::1]"},
	    {"[::1]", NULL, "[::1]"},
	    {"u@::1", NULL, "ssh:u@[::1]"},
	    {"::1", "-p2222", "ssh:[::1]:2222"},
	    {"127.0.0.2", "-p2222", "ssh:127.0.0.2:2222"},
	    {"local", NULL, "local"},
	    {"ssh:deploy@db7:2222", NULL, "ssh:deploy@db7:2222"},
	    {"web1/sudo:www", NULL, "web1/sudo:www"},
	};
	struct jg_rshargs a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v[] = {(char *)cases[i].host, "true", NULL};
		char *w[] = {(char *)cases[i].extra, (char *)cases[i].host, "true"};

		int r = cases[i].extra != NULL ? parse(&a, 3, w) : parse(&a, 2, v);

		CU_ASSERT_EQUAL(r, 0);
		CU_ASSERT_STRING_EQUAL(a.target, cases[i].target);
		if (strcmp(a.target, cases[i].target) != 0)
			fprintf(stderr, "\n  %s: '%s' (%s)\n", cases[i].host, a.target, err);
		jg_rshargs_clear(&a);
	}
}

static void test_command_words_joined_with_single_spaces_unquoted(void)
{
	char *v1[] = {"h", "echo", "a b", "", "c"};
	char *v2[] = {"h", "-p", "22", "ls", "-l", "-p", "x"};
	char *v3[] = {"-t", "--", "h", "-l", "x"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL(parse(&a, NARGS(v1), v1), 0);
	CU_ASSERT_STRING_EQUAL(a.command, "echo a b  c");
	jg_rshargs_clear(&a);
	/* Options after the host up to the first command word, as ssh reads them. */
	CU_ASSERT_EQUAL(parse(&a, NARGS(v2), v2), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "ssh:h:22");
	CU_ASSERT_STRING_EQUAL(a.command, "ls -l -p x");
	jg_rshargs_clear(&a);
	/* After "--" nothing is an option. */
	CU_ASSERT_EQUAL(parse(&a, NARGS(v3), v3), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "h");
	CU_ASSERT_STRING_EQUAL(a.command, "-l x");
	CU_ASSERT_EQUAL(a.tty, JG_RSHARGS_TTY_IF_TERMINAL);
	jg_rshargs_clear(&a);
}

static void test_remote_command_sendenv_setenv(void)
{
	char *v1[] = {"-o", "RemoteCommand=uptime -p", "h"};
	char *v2[] = {"-o", "SendEnv=LANG LC_*",	  "-o", "SendEnv GIT_PROTOCOL",
		      "-o", "SetEnv=A=1 \"B=two words\"", "h",	"env"};
	char *both[] = {"-o", "RemoteCommand=uptime", "h", "ls"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL(parse(&a, NARGS(v1), v1), 0);
	CU_ASSERT_STRING_EQUAL(a.command, "uptime -p");
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL_FATAL(parse(&a, NARGS(v2), v2), 0);
	CU_ASSERT_EQUAL_FATAL(a.nsendenv, 3);
	CU_ASSERT_STRING_EQUAL(a.sendenv[0], "LANG");
	CU_ASSERT_STRING_EQUAL(a.sendenv[1], "LC_*");
	CU_ASSERT_STRING_EQUAL(a.sendenv[2], "GIT_PROTOCOL");
	CU_ASSERT_EQUAL_FATAL(a.nsetenv, 2);
	CU_ASSERT_STRING_EQUAL(a.setenv[0], "A=1");
	CU_ASSERT_STRING_EQUAL(a.setenv[1], "B=two words");
	jg_rshargs_clear(&a);
	refused(NARGS(both), both, "both");
}

static void test_actions_version_help_control(void)
{
	char *ver[] = {"-vV", "-Z"};
	char *help[] = {"--help"};
	char *check[] = {"-O", "check", "-o", "ControlPath=/x", "web1"};
	char *stop[] = {"-Ostop", "web1"};
	char *exit_[] = {"-O", "exit", "web1"};
	struct jg_rshargs a;

	/* ssh -V answers at once, whatever follows. */
	CU_ASSERT_EQUAL(parse(&a, NARGS(ver), ver), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_VERSION);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(help), help), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_HELP);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(check), check), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_CTL_NONE);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(stop), stop), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_CTL_STOPPED);
	jg_rshargs_clear(&a);
	CU_ASSERT_EQUAL(parse(&a, NARGS(exit_), exit_), 0);
	CU_ASSERT_EQUAL(a.action, JG_RSHARGS_CTL_STOPPED);
	jg_rshargs_clear(&a);
}

static void test_refusals_name_the_offending_word(void)
{
	char *unknown[] = {"-Cz", "h", "true"};
	char *dash[] = {"--foo", "h", "true"};
	char *novalue[] = {"h", "true", NULL};
	char *noval[] = {"-p"};
	char *badport[] = {"-p", "22x", "h", "true"};
	char *bigport[] = {"-o", "Port=70000", "h", "true"};
	char *nohost[] = {"-C"};
	char *nocmd[] = {"-tt", "h"};
	char *emptycmd[] = {"h", ""};
	char *n[] = {"-N", "h"};
	char *w[] = {"-W", "db:5432", "h"};
	char *q[] = {"-Q", "cipher"};
	char *sub[] = {"-s", "h", "netconf"};
	char *ctl[] = {"-O", "forward", "h"};
	char *local[] = {"-l", "root", "local", "true"};
	char *spec[] = {"-p", "22", "ssh:h", "true"};
	char *badhost[] = {"-l", "u", "a;b", "true"};
	char *opthost[] = {"-p", "22", "-", "true"};
	char *baduser[] = {"-l", "-oProxyCommand=x", "h", "true"};
	char *quote[] = {"-o", "User=\"x", "h", "true"};
	char *nokv[] = {"-o", "User", "h", "true"};
	char *garbage[] = {"-o", "Port=22 23", "h", "true"};
	char *tty[] = {"-o", "RequestTTY=maybe", "h", "true"};
	char *setenv[] = {"-o", "SetEnv=NOVALUE", "h", "true"};
	char *none[] = {"-o", "SessionType=none", "h"};

	(void)novalue;
	refused(NARGS(unknown), unknown, "unknown option -z");
	refused(NARGS(dash), dash, "unknown option '--foo'");
	refused(NARGS(noval), noval, "-p needs a value");
	refused(NARGS(badport), badport, "-p '22x': not a port");
	refused(NARGS(bigport), bigport, "-o Port '70000'");
	refused(NARGS(nohost), nohost, "no host");
	refused(NARGS(nocmd), nocmd, "jumpgate exec -t TARGET -- $SHELL -l");
	refused(NARGS(emptycmd), emptycmd, "no command");
	refused(NARGS(n), n, "-N");
	refused(NARGS(w), w, "jumpgate connect");
	refused(NARGS(q), q, "-Q cipher");
	refused(NARGS(sub), sub, "'netconf'");
	refused(NARGS(ctl), ctl, "-O forward");
	refused(NARGS(local), local, "'local' is a jumpgate target spec");
	refused(NARGS(spec), spec, "'ssh:h' is a jumpgate target spec");
	refused(NARGS(badhost), badhost, "bad host");
	refused(NARGS(opthost), opthost, "bad host");
	refused(NARGS(baduser), baduser, "bad user");
	refused(NARGS(quote), quote, "unterminated quote");
	refused(NARGS(nokv), nokv, "User has no value");
	refused(NARGS(garbage), garbage, "garbage");
	refused(NARGS(tty), tty, "'maybe'");
	refused(NARGS(setenv), setenv, "'NOVALUE' is not NAME=VALUE");
	refused(NARGS(none), none, "SessionType=none");
}

/* V refused with a reason containing WHAT, and the reason one line of printable ASCII:
 * the words it names come from the argv, which a hostile URL can shape. */
static void refused_printably(int argc, char *const *v, const char *what)
{
	refused(argc, v, what);
	for (const char *p = err; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
			CU_FAIL("a refusal prints a raw control or non-ASCII byte");
			fprintf(stderr, "\n  reason has byte 0x%02x: ", (unsigned char)*p);
			for (const char *q = err; *q != '\0'; q++)
				fprintf(stderr,
					(unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f
					    ? "<%02x>"
					    : "%c",
					(unsigned char)*q);
			fprintf(stderr, "\n");
			return;
		}
	}
}

static void test_refusals_quote_control_characters(void)
{
	char *port[] = {"-p", "\n11x", "h", "true"};
	char *letter[] = {"-\x1b[31m", "h", "true"};
	char *longopt[] = {"--\x1b]0;owned\x07", "h", "true"};
	char *oport[] = {"-o", "Port=\x1b[2J", "h", "true"};
	char *ctl[] = {"-O", "\x1b[31mstop", "h"};
	char *w[] = {"-W", "\23331m", "h"}; /* 0x9b, the 8-bit CSI */
	char *q[] = {"-Q", "\x1b", "h"};
	char *novalue[] = {"-o", "\x1bUser", "h", "true"};
	char *choice[] = {"-o", "RequestTTY=\x1b", "h", "true"};
	char *setenv[] = {"-o", "SetEnv=\x1b[1m", "h", "true"};
	char *garbage[] = {"-o", "Port=22 \x1b", "h", "true"};
	char *hostname[] = {"-o", "HostName=%h\x1b", "h", "true"};
	char *uri[] = {"ssh://[\x1b", "true"};
	char *user[] = {"@\x1b", "true"};
	char *spec[] = {"ssh:\x1b[31mweb1", "true"};
	char *c1[] = {"ssh:web\2331", "true"};
	char *sub[] = {"-s", "h", "\x1b[31m"};
	char *plain[] = {"-l", "u", "web\x1b", "true"};
	char *quote[] = {"-o", "User=\"\x1b", "h", "true"};
	char longhost[400];
	char *toolong[] = {"-l", "u", longhost, "true"};
	/* Shorter than the 40 bytes a long word is cut at, longer than its buffer. */
	char *uriport[] = {"ssh://h:123456789\x1b", "true"};

	refused_printably(NARGS(port), port, "-p '\\x0a11x': not a port number");
	refused_printably(NARGS(letter), letter, "unknown option -\\x1b (in '-\\x1b[31m')");
	refused_printably(NARGS(longopt), longopt, "unknown option '--\\x1b]0;owned\\x07'");
	refused_printably(NARGS(oport), oport, "-o Port '\\x1b[2J'");
	refused_printably(NARGS(ctl), ctl, "-O \\x1b[31mstop");
	refused_printably(NARGS(w), w, "-W \\x9b31m");
	refused_printably(NARGS(q), q, "-Q \\x1b");
	refused_printably(NARGS(novalue), novalue, "\\x1bUser has no value");
	refused_printably(NARGS(choice), choice, "unsupported value '\\x1b'");
	refused_printably(NARGS(setenv), setenv, "'\\x1b[1m' is not NAME=VALUE");
	refused_printably(NARGS(garbage), garbage, "'Port=22 \\x1b': garbage");
	refused_printably(NARGS(hostname), hostname, "'%h\\x1b': % tokens");
	refused_printably(NARGS(uri), uri, "'ssh://[\\x1b': bad IPv6");
	refused_printably(NARGS(user), user, "'@\\x1b': empty user");
	refused_printably(NARGS(spec), spec, "bad host 'ssh:\\x1b[31mweb1'");
	refused_printably(NARGS(spec), spec, "control character \\x1b is not allowed in a target");
	refused_printably(NARGS(c1), c1, "bad host 'ssh:web\\x9b1'");
	refused_printably(NARGS(sub), sub, "not '\\x1b[31m'");
	refused_printably(NARGS(plain), plain, "bad host");
	refused_printably(NARGS(quote), quote, "unterminated quote");
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	longhost[3] = '\x1b';
	refused_printably(NARGS(toolong), toolong, "'aaa\\x1b");
	refused_printably(NARGS(uriport), uriport, "port '123456789\\x1b' is too long");
}

/* A host written as a spec that starts with '-' is refused by rsh itself, however it
 * arrives: as the host word, after "--", or through -o HostName. */
static void test_spec_host_starting_with_dash_is_refused(void)
{
	char *spec[] = {"-ssh:x", "true"}; /* an option word, not a host: -s -s -h ... */
	char *dashdash[] = {"--", "-ssh:x", "true"};
	char *proxy[] = {"--", "-oProxyCommand=sh/x", "true"};
	char *hostname[] = {"-o", "HostName=-oProxyCommand=x:1", "h", "true"};
	char *chain[] = {"--", "-x/y", "true"};
	struct jg_rshargs a;

	/* "-ssh:x" first is bundled flags -s -s -h: h is no option of ssh. */
	refused(NARGS(spec), spec, "unknown option -h");
	refused_printably(NARGS(dashdash), dashdash,
			  "bad host '-ssh:x': a target may not start with '-'");
	refused_printably(NARGS(proxy), proxy, "may not start with '-'");
	refused_printably(NARGS(hostname), hostname, "may not start with '-'");
	refused_printably(NARGS(chain), chain, "may not start with '-'");
	/* A shell character is named as what it is, not as whitespace or a control. */
	{
		char *semi[] = {"ssh:web1;id", "true"};
		char *sp[] = {"ssh:web1 x", "true"};

		refused_printably(
		    NARGS(semi), semi,
		    "bad host 'ssh:web1;id': character ';' is not allowed in a target");
		refused_printably(NARGS(sp), sp, "whitespace is not allowed in a target");
	}
	/* A spec without the dash still passes as written. */
	{
		char *ok[] = {"--", "ssh:x", "true"};

		CU_ASSERT_EQUAL(parse(&a, NARGS(ok), ok), 0);
		CU_ASSERT_STRING_EQUAL(a.target, "ssh:x");
		jg_rshargs_clear(&a);
	}
}

static void test_quote_helper(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(jg_rshargs_quote(buf, sizeof(buf), "web1", 80), 4);
	CU_ASSERT_STRING_EQUAL(buf, "web1");
	jg_rshargs_quote(buf, sizeof(buf), "a\\b\x1b\x7f\xc3\xa9", 80);
	CU_ASSERT_STRING_EQUAL(buf, "a\\\\b\\x1b\\x7f\\xc3\\xa9");
	jg_rshargs_quote(buf, sizeof(buf), "abcdef", 3);
	CU_ASSERT_STRING_EQUAL(buf, "abc...");
	/* A small buffer: cut at a whole escape, still terminated, "..." when it fits. */
	jg_rshargs_quote(buf, 10, "\x1b\x1b\x1b\x1b", 80);
	CU_ASSERT_STRING_EQUAL(buf, "\\x1b...");
	CU_ASSERT_EQUAL(jg_rshargs_quote(buf, 1, "x", 80), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_unknown_o_keys_are_ignored_whatever_their_value(void)
{
	char *v[] = {"-o", "NoSuchOption=\"unterminated", "-o", "ProxyJump none", "h", "true"};
	struct jg_rshargs a;

	CU_ASSERT_EQUAL(parse(&a, NARGS(v), v), 0);
	CU_ASSERT_STRING_EQUAL(a.target, "h");
	jg_rshargs_clear(&a);
}

int jg_test_register_rshargs(void)
{
	CU_pSuite s = CU_add_suite("rshargs", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "rsync argv with -l becomes an ssh spec",
			 test_rsync_argv_with_user_becomes_ssh_spec) ||
	    !CU_add_test(s, "rsync argv without a user passes the host as is",
			 test_rsync_argv_without_user_passes_host_as_is) ||
	    !CU_add_test(s, "git plain, with -p and SendEnv, and its -G probe",
			 test_git_plain_and_with_port_and_sendenv) ||
	    !CU_add_test(s, "Ansible's exact argv", test_ansible_exact_argv) ||
	    !CU_add_test(s, "Mitogen's argv", test_mitogen_argv) ||
	    !CU_add_test(s, "scp argv, sftp and legacy", test_scp_argv) ||
	    !CU_add_test(s, "every flag without a value is accepted",
			 test_every_flag_without_value_is_accepted) ||
	    !CU_add_test(s, "every option with a value, separate and attached",
			 test_every_option_with_value_is_accepted_separate_and_attached) ||
	    !CU_add_test(s, "bundled flags and attached values",
			 test_bundled_flags_and_attached_values) ||
	    !CU_add_test(s, "-o spellings, key case, quotes", test_o_spellings_case_and_quotes) ||
	    !CU_add_test(s, "-o Port, RequestTTY, HostName, StdinNull",
			 test_o_port_requesttty_hostname_stdinnull) ||
	    !CU_add_test(s, "the first user and port win",
			 test_first_user_and_port_win_as_in_ssh) ||
	    !CU_add_test(s, "host forms", test_host_forms) ||
	    !CU_add_test(s, "command words joined with single spaces, unquoted",
			 test_command_words_joined_with_single_spaces_unquoted) ||
	    !CU_add_test(s, "RemoteCommand, SendEnv, SetEnv", test_remote_command_sendenv_setenv) ||
	    !CU_add_test(s, "-V, --help, -O", test_actions_version_help_control) ||
	    !CU_add_test(s, "refusals name the offending word",
			 test_refusals_name_the_offending_word) ||
	    !CU_add_test(s, "refusals quote control characters as \\xNN",
			 test_refusals_quote_control_characters) ||
	    !CU_add_test(s, "a spec-shaped host starting with '-' is refused",
			 test_spec_host_starting_with_dash_is_refused) ||
	    !CU_add_test(s, "jg_rshargs_quote", test_quote_helper) ||
	    !CU_add_test(s, "-A, -a and ForwardAgent", test_forward_agent) ||
	    !CU_add_test(s, "unknown -o keys are ignored",
			 test_unknown_o_keys_are_ignored_whatever_their_value))
		return -1;
	return 0;
}
