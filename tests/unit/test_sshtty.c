/* Tests for gateway/onward/sshtty.c: ssh's password prompt answered once, a second prompt
 * taken as a refusal, a host-key question answered "yes" (the terminal here is one end
 * of a socket pair; ssh's side is the other). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/onward/sshtty.h"
#include "relay/ssh.h"
#include "tests/unit/suites.h"

struct tty {
	int ours, ssh; /* ours: the master the gateway reads; ssh: what ssh writes and reads */
	struct jg_ssh_watch w;
	int sent;
	char reason[256];
};

static void tty_open(struct tty *t)
{
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	t->ours = sv[0];
	t->ssh = sv[1];
	jg_ssh_watch_init(&t->w);
	t->sent = 0;
	t->reason[0] = '\0';
}

/* SSH writes TEXT; one poll; what the gateway wrote back ("" for nothing), its result. */
static int tty_say(struct tty *t, const char *text, char *back, size_t len)
{
	int r;
	ssize_t n;

	CU_ASSERT_EQUAL(write(t->ssh, text, strlen(text)), (ssize_t)strlen(text));
	r = jg_sshtty_answer(t->ours, &t->w, "s3cret", &t->sent, "web1", t->reason,
			     sizeof(t->reason));
	fcntl(t->ssh, F_SETFL, O_NONBLOCK);
	n = read(t->ssh, back, len - 1);
	back[n > 0 ? n : 0] = '\0';
	return r;
}

static void test_sshtty_answers_the_password_once_then_calls_it_refused(void)
{
	struct tty t;
	char back[64];

	tty_open(&t);
	CU_ASSERT_EQUAL(tty_say(&t, "Welcome, the password policy says...\n", back, sizeof(back)),
			0);
	CU_ASSERT_STRING_EQUAL(back, "");
	CU_ASSERT_EQUAL(tty_say(&t, "u@web1's password: ", back, sizeof(back)), 0);
	CU_ASSERT_STRING_EQUAL(back, "s3cret\n");
	CU_ASSERT_EQUAL(t.sent, 1);
	CU_ASSERT_EQUAL(tty_say(&t, "\nPermission denied, please try again.\nu@web1's password: ",
				back, sizeof(back)),
			1);
	CU_ASSERT_STRING_EQUAL(back, "");
	CU_ASSERT_STRING_EQUAL(
	    t.reason, "ssh to web1 failed: authentication failed: the password was refused");
	close(t.ours);
	close(t.ssh);
}

static void test_sshtty_answers_a_host_key_question_yes(void)
{
	struct tty t;
	char back[64];

	tty_open(&t);
	CU_ASSERT_EQUAL(
	    tty_say(&t, "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
		    back, sizeof(back)),
	    0);
	CU_ASSERT_STRING_EQUAL(back, "yes\n");
	CU_ASSERT_EQUAL(t.sent, 0);
	close(t.ours);
	close(t.ssh);
}

int jg_test_register_sshtty(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("sshtty", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_sshtty_answers_the_password_once_then_calls_it_refused) ||
	    !CU_ADD_TEST(s, test_sshtty_answers_a_host_key_question_yes))
		return -1;
	return 0;
}
