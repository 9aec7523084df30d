/* Tests for relay/hopwatch.c: a chain's stderr read for the password prompts of sudo
 * (by hop index) and su (in chain order), refused and unanswerable prompts, banners that
 * only mention a password, and the failure texts of every tool turned into a reason that
 * names the hop -- fed whole, and split across feeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/hop.h"
#include "relay/hopwatch.h"
#include "tests/unit/suites.h"

/* One hop of a test chain: METHOD, o.user or o.name (or ssh.host) per method, and
 * whether it has a password. */
struct hspec {
	enum jg_method m;
	const char *who;
	int pw;
};

#define MAXH 8

/* W watching the chain SPEC (terminated by m == 0); HOPS keeps what W was made from. */
static size_t watch(struct jg_hop_watch *w, struct jg_hop *hops, const struct hspec *spec)
{
	size_t n = 0;

	for (; spec[n].m != 0 && n < MAXH; n++) {
		struct jg_hop *h = &hops[n];

		memset(h, 0, sizeof(*h));
		h->method = spec[n].m;
		switch (spec[n].m) {
		case JG_METHOD_SSH:
			h->ssh.host = (char *)spec[n].who;
			h->ssh.password = spec[n].pw ? "pw" : NULL;
			break;
		case JG_METHOD_SUDO:
		case JG_METHOD_SU:
		case JG_METHOD_DOAS:
			h->o.user = (char *)spec[n].who;
			h->o.password = spec[n].pw ? "pw" : NULL;
			break;
		default:
			h->o.name = (char *)spec[n].who;
			break;
		}
	}
	jg_hop_watch_init(w, hops, n);
	return n;
}

static int feed(struct jg_hop_watch *w, const char *s)
{
	return jg_hop_watch_stderr(w, s, strlen(s));
}

/* W's reason must be exactly WANT (NULL: no reason). */
static void reason_is(const struct jg_hop_watch *w, const char *want)
{
	char buf[1024] = "";
	int r = jg_hop_watch_reason(w, buf, sizeof(buf));

	if (want == NULL) {
		if (r != 0)
			fprintf(stderr, "\nunexpected reason: %s\n", buf);
		CU_ASSERT_EQUAL(r, 0);
		return;
	}
	if (r != 1 || strcmp(buf, want) != 0)
		fprintf(stderr, "\nreason: %d \"%s\"\n  want: \"%s\"\n", r, buf, want);
	CU_ASSERT_EQUAL(r, 1);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

#define LOCAL                                                                                      \
	{                                                                                          \
		JG_METHOD_LOCAL, NULL, 0                                                           \
	}
#define END                                                                                        \
	{                                                                                          \
		0, NULL, 0                                                                         \
	}

/* ---- prompts ---- */

static void t_sudo_prompt_returns_its_hop(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {
	    {JG_METHOD_SSH, "h1", 0}, {JG_METHOD_SUDO, "root", 1}, {JG_METHOD_SUDO, "pg", 1}, END};

	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Last login: today\njumpgate-sudo-password-1: "), 1);
	jg_hop_watch_answered(&w, 1);
	CU_ASSERT_EQUAL(feed(&w, "\n"), -1);
	/* Split anywhere: the prompt is the tail of the output, whatever the feeds. */
	CU_ASSERT_EQUAL(feed(&w, "jumpgate-sudo-pa"), -1);
	CU_ASSERT_EQUAL(feed(&w, "ssword-2:"), 2);
	CU_ASSERT_EQUAL(feed(&w, " "), 2); /* still the same unanswered prompt */
	jg_hop_watch_answered(&w, 2);
	CU_ASSERT_EQUAL(w.refused_hop, -1);
	CU_ASSERT_EQUAL(w.unanswerable_hop, -1);
	reason_is(&w, NULL);
	/* Asked again: refused, for that hop. */
	CU_ASSERT_EQUAL(feed(&w, "\njumpgate-sudo-password-1: "), -1);
	CU_ASSERT_EQUAL(w.refused_hop, 1);
	reason_is(&w, "hop 2 (sudo to root): the password was refused");
}

static void t_sudo_prompt_of_a_hop_that_is_no_sudo(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_SUDO, "root", 1}, END};

	/* Index 0 is the ssh hop, 5 is past the chain: neither is answered. */
	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "jumpgate-sudo-password-0: "), -1);
	CU_ASSERT_EQUAL(feed(&w, "\njumpgate-sudo-password-5: "), -1);
	CU_ASSERT_EQUAL(w.refused_hop, -1);
	CU_ASSERT_EQUAL(w.unanswerable_hop, -1);
}

static void t_su_prompts_in_chain_order(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {
	    LOCAL, {JG_METHOD_SUDO, "x", 1}, {JG_METHOD_SU, "a", 1}, {JG_METHOD_SU, "b", 1}, END};

	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Password: "), 2);
	jg_hop_watch_answered(&w, 2);
	CU_ASSERT_EQUAL(feed(&w, "\n"), -1);
	CU_ASSERT_EQUAL(feed(&w, "Password:"), 3);
	jg_hop_watch_answered(&w, 3);
	CU_ASSERT_EQUAL(w.refused_hop, -1);
	/* Translations PAM prints. */
	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Passwort: "), 2);
	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Mot de passe : "), 2);
}

/* A su hop with no password is one su is not expected to ask (root runs it, or PAM lets
 * it through): the prompt belongs to the first su hop that has a password. */
static void t_su_prompt_goes_to_the_first_su_with_a_password(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {LOCAL, {JG_METHOD_SU, "a", 0}, {JG_METHOD_SU, "b", 1}, END};

	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Password: "), 2);
	CU_ASSERT_EQUAL(w.unanswerable_hop, -1);
	reason_is(&w, NULL);
}

static void t_prompt_without_password_is_unanswerable(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec su[] = {LOCAL, {JG_METHOD_SU, "jgx2", 0}, END};
	const struct hspec sudo[] = {LOCAL, {JG_METHOD_SUDO, "jgx1", 0}, END};

	watch(&w, hops, su);
	CU_ASSERT_EQUAL(feed(&w, "Password: "), -1);
	CU_ASSERT_EQUAL(w.unanswerable_hop, 1);
	CU_ASSERT_EQUAL(w.refused_hop, -1);
	reason_is(&w, "hop 2 (su to jgx2): it asks for a password and none is configured (set "
		      "`password` in an inventory entry for this hop)");

	watch(&w, hops, sudo);
	CU_ASSERT_EQUAL(feed(&w, "jumpgate-sudo-password-1: "), -1);
	CU_ASSERT_EQUAL(w.unanswerable_hop, 1);
	reason_is(&w, "hop 2 (sudo to jgx1): it asks for a password and none is configured (set "
		      "`password` in an inventory entry for this hop)");
}

static void t_second_su_prompt_is_refused(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {LOCAL, {JG_METHOD_SU, "root", 1}, END};

	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Password: "), 1);
	jg_hop_watch_answered(&w, 1);
	CU_ASSERT_EQUAL(feed(&w, "\nPassword: "), -1);
	CU_ASSERT_EQUAL(w.refused_hop, 1);
	reason_is(&w, "hop 2 (su to root): the password was refused");
}

static void t_banner_mentioning_password_is_no_prompt(void)
{
	static const char *const banners[] = {
	    "Your password expires in 3 days\n",
	    "Enter password:\n",
	    "password:\r\n",
	    "Password: none needed\n",
	    "Password policy applies",
	    "Note:",
	    "",
	};
	const struct hspec with[] = {LOCAL, {JG_METHOD_SU, "a", 1}, END};
	const struct hspec without[] = {LOCAL, {JG_METHOD_SU, "a", 0}, END};
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];

	for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]); i++) {
		watch(&w, hops, with);
		CU_ASSERT_EQUAL(feed(&w, banners[i]), -1);
		/* Nothing answered, so the real prompt after it still is. */
		if (strchr(banners[i], '\n') != NULL)
			CU_ASSERT_EQUAL(feed(&w, "Password: "), 1);
		/* Without a password a banner must not end the connection. */
		watch(&w, hops, without);
		CU_ASSERT_EQUAL(feed(&w, banners[i]), -1);
		CU_ASSERT_EQUAL(w.unanswerable_hop, -1);
		reason_is(&w, NULL);
	}
}

/* ---- failure texts ---- */

struct fcase {
	struct hspec chain[5];
	const char *text, *want;
};

static const struct fcase failures[] = {
    {{LOCAL, {JG_METHOD_SUDO, "root", 0}, END},
     "sudo: a password is required\n",
     "hop 2 (sudo to root): sudo wants a password: set `password` in the inventory or allow "
     "NOPASSWD: sudo: a password is required"},
    {{LOCAL, {JG_METHOD_SUDO, "root", 1}, END},
     "sudo: 1 incorrect password attempt\n",
     "hop 2 (sudo to root): the password was refused: sudo: 1 incorrect password attempt"},
    {{LOCAL, {JG_METHOD_SUDO, "root", 0}, END},
     "jgx1 is not in the sudoers file.  This incident will be reported.\n",
     "hop 2 (sudo to root): not allowed by sudoers: jgx1 is not in the sudoers file.  This "
     "incident will be reported."},
    {{{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_LXC, "pg", 0}, {JG_METHOD_SUDO, "postgres", 0}, END},
     "sudo: unknown user postgres\n",
     "hop 3 (sudo to postgres): no such user: sudo: unknown user postgres"},
    {{LOCAL, {JG_METHOD_SU, "root", 1}, END},
     "su: Authentication failure\n",
     "hop 2 (su to root): the password was refused: su: Authentication failure"},
    {{LOCAL, {JG_METHOD_SU, "nobody2", 1}, END},
     "su: user nobody2 does not exist or the user entry does not contain all the required "
     "fields\n",
     "hop 2 (su to nobody2): no such user: su: user nobody2 does not exist or the user entry "
     "does not contain all the required fields"},
    {{LOCAL, {JG_METHOD_DOAS, "root", 1}, END},
     "doas: Authentication failed\n",
     "hop 2 (doas to root): the password was refused: doas: Authentication failed"},
    {{LOCAL, {JG_METHOD_DOAS, "root", 0}, END},
     "doas: Operation not permitted\n",
     "hop 2 (doas to root): not permitted by doas.conf: doas: Operation not permitted"},
    /* opendoas -n when the rule wants a password (PAM build: "Authentication required",
     * shadow and BSD builds: "Authorization required"). */
    {{LOCAL, {JG_METHOD_DOAS, "root", 0}, END},
     "doas: Authentication required\n",
     "hop 2 (doas to root): doas wants a password: set `password` in the inventory or use a "
     "nopass rule: doas: Authentication required"},
    {{LOCAL, {JG_METHOD_DOAS, "root", 0}, END},
     "doas: Authorization required\n",
     "hop 2 (doas to root): doas wants a password: set `password` in the inventory or use a "
     "nopass rule: doas: Authorization required"},
    {{{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_DOCKER, "web", 0}, END},
     "Error response from daemon: No such container: web\n",
     "hop 2 (docker web): no such container: Error response from daemon: No such container: "
     "web"},
    {{LOCAL, {JG_METHOD_DOCKER, "web", 0}, END},
     "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon "
     "running?\n",
     "hop 2 (docker web): the Docker daemon is not running: Cannot connect to the Docker daemon "
     "at unix:///var/run/docker.sock. Is the docker daemon running?"},
    {{LOCAL, {JG_METHOD_KUBECTL, "p", 0}, END},
     "Error from server (NotFound): pods \"p\" not found\n",
     "hop 2 (kubectl p): no such pod: Error from server (NotFound): pods \"p\" not found"},
    {{LOCAL, {JG_METHOD_KUBECTL, "p", 0}, END},
     "The connection to the server localhost:8080 was refused - did you specify the right host "
     "or port?\n",
     "hop 2 (kubectl p): cannot reach the Kubernetes API server: The connection to the server "
     "localhost:8080 was refused - did you specify the right host or port?"},
    {{{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_LXC, "pg", 0}, END},
     "lxc-attach: pg: attach.c: get_attach_context: 405 Connection refused - Failed to get init "
     "pid\n",
     "hop 2 (lxc pg): the container is not running (or does not exist): lxc-attach: pg: "
     "attach.c: get_attach_context: 405 Connection refused - Failed to get init pid"},
    {{LOCAL, {JG_METHOD_LXD, "c1", 0}, END},
     "Error: Instance not found\n",
     "hop 2 (lxd c1): no such container: Error: Instance not found"},
    {{{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_KUBECTL, "p", 0}, END},
     "sh: 1: kubectl: not found\n",
     "hop 2 (kubectl p): the tool is not installed (or its *_path is wrong): sh: 1: kubectl: not "
     "found"},
    {{{JG_METHOD_SSH, "h1", 0}, {JG_METHOD_SUDO, "root", 0}, {JG_METHOD_LXC, "pg", 0}, END},
     "bash: line 1: lxc-attach: command not found\n",
     "hop 3 (lxc pg): the tool is not installed (or its *_path is wrong): bash: line 1: "
     "lxc-attach: command not found"},
    /* sudo ran, the tool it was to run is missing: the later hop is named. */
    {{LOCAL, {JG_METHOD_SUDO, "x", 0}, {JG_METHOD_KUBECTL, "p", 0}, END},
     "sudo: kubectl: command not found\n",
     "hop 3 (kubectl p): the tool is not installed (or its *_path is wrong): sudo: kubectl: "
     "command not found"},
    /* Texts more than one tool prints go to the hop whose tool printed them. */
    {{LOCAL, {JG_METHOD_LXC, "pg", 0}, {JG_METHOD_DOCKER, "web", 0}, END},
     "Error response from daemon: Container 3f2a9c is not running\n",
     "hop 3 (docker web): the container is not running: Error response from daemon: Container "
     "3f2a9c is not running"},
    /* A tool that is not in the chain is not recognised. */
    {{LOCAL, {JG_METHOD_SUDO, "x", 0}, END},
     "Error from server (NotFound): pods \"p\" not found\n",
     NULL},
    {{LOCAL, {JG_METHOD_SUDO, "x", 0}, END}, "motd: have a nice day\n", NULL},
};

static void t_failure_texts_name_the_hop(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];

	for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
		const struct fcase *f = &failures[i];
		size_t len = strlen(f->text);

		/* Whole, and split at every byte: lines across feeds are joined. */
		for (size_t cut = 0; cut <= len; cut++) {
			watch(&w, hops, f->chain);
			CU_ASSERT_EQUAL(jg_hop_watch_stderr(&w, f->text, cut), -1);
			CU_ASSERT_EQUAL(jg_hop_watch_stderr(&w, f->text + cut, len - cut), -1);
			reason_is(&w, f->want);
			CU_ASSERT_EQUAL(w.refused_hop, -1);
			CU_ASSERT_EQUAL(w.unanswerable_hop, -1);
		}
		/* Not before the line ends. */
		watch(&w, hops, f->chain);
		jg_hop_watch_stderr(&w, f->text, len - 1);
		reason_is(&w, NULL);
	}
}

static void t_first_failure_wins(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {
	    LOCAL, {JG_METHOD_SUDO, "root", 0}, {JG_METHOD_SU, "a", 1}, END};

	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "sudo: a password is required\n"), -1);
	CU_ASSERT_EQUAL(feed(&w, "su: Authentication failure\nsudo: unknown user root\n"), -1);
	CU_ASSERT_EQUAL(w.fail_hop, 1);
	reason_is(&w, "hop 2 (sudo to root): sudo wants a password: set `password` in the "
		      "inventory or allow NOPASSWD: sudo: a password is required");
	/* A refused password outranks the tool's own failure line. */
	watch(&w, hops, chain);
	CU_ASSERT_EQUAL(feed(&w, "Password: "), 2);
	jg_hop_watch_answered(&w, 2);
	CU_ASSERT_EQUAL(feed(&w, "\nsu: Authentication failure\nPassword: "), -1);
	reason_is(&w, "hop 3 (su to a): the password was refused");
}

static void t_long_lines_and_nul_bytes_are_bounded(void)
{
	struct jg_hop_watch w;
	struct jg_hop hops[MAXH];
	const struct hspec chain[] = {LOCAL, {JG_METHOD_DOCKER, "web", 0}, END};
	char big[3000];
	char buf[1024];

	watch(&w, hops, chain);
	memset(big, 'x', sizeof(big));
	memcpy(big, "No such container: ", 19);
	big[sizeof(big) - 1] = '\n';
	CU_ASSERT_EQUAL(jg_hop_watch_stderr(&w, big, sizeof(big)), -1);
	CU_ASSERT_EQUAL(jg_hop_watch_reason(&w, buf, sizeof(buf)), 1);
	CU_ASSERT(strlen(buf) < 400);
	/* A NUL inside a line does not cut it short. */
	watch(&w, hops, chain);
	{
		static const char nul[] = "Error\0 No such container: web\n";

		CU_ASSERT_EQUAL(jg_hop_watch_stderr(&w, nul, sizeof(nul) - 1), -1);
	}
	reason_is(&w, "hop 2 (docker web): no such container: Error? No such container: web");
	/* A label never overflows: a long container name. */
	{
		char name[300];
		const struct hspec longname[] = {LOCAL, {JG_METHOD_DOCKER, name, 0}, END};

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		watch(&w, hops, longname);
		feed(&w, "No such container\n");
		CU_ASSERT_EQUAL(jg_hop_watch_reason(&w, buf, sizeof(buf)), 1);
		CU_ASSERT(strncmp(buf, "hop 2 (docker nnn", 17) == 0);
	}
}

int jg_test_register_hopwatch(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
	    {"sudo prompt: answered for its hop, split anywhere; asked again: refused",
	     t_sudo_prompt_returns_its_hop},
	    {"sudo prompt naming a hop that is no sudo: not answered",
	     t_sudo_prompt_of_a_hop_that_is_no_sudo},
	    {"su prompts: in chain order, translations", t_su_prompts_in_chain_order},
	    {"su prompt: the first su hop with a password",
	     t_su_prompt_goes_to_the_first_su_with_a_password},
	    {"prompt for a hop without password: unanswerable",
	     t_prompt_without_password_is_unanswerable},
	    {"second su prompt after an answer: refused", t_second_su_prompt_is_refused},
	    {"a banner mentioning password is no prompt",
	     t_banner_mentioning_password_is_no_prompt},
	    {"failure texts of every tool name the hop, split at every byte",
	     t_failure_texts_name_the_hop},
	    {"the first failure wins; a refusal outranks it", t_first_failure_wins},
	    {"long lines and NUL bytes are bounded", t_long_lines_and_nul_bytes_are_bounded},
	};
	CU_pSuite s = CU_add_suite("hopwatch", NULL, NULL);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
