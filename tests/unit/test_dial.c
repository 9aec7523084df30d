/* Tests for gateway/ops/dial.c: numeric hosts are taken as they are (and only real
 * numeric spellings), a name's answer comes from the event loop and never from
 * inside jg_dial_resolve, and a request cancelled before its answer calls nobody
 * and leaks nothing (ASan).  Names are only those of the hosts file: no query
 * leaves this machine. */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <netinet/in.h>

#include "gateway/ops/dial.h"
#include "tests/unit/suites.h"

static void test_dial_numeric_hosts(void)
{
	struct jg_dial_addrs a;

	CU_ASSERT_EQUAL(jg_dial_numeric("127.0.1.5", 2222, &a), 0);
	CU_ASSERT_EQUAL(a.n, 1);
	CU_ASSERT_STRING_EQUAL(a.a[0].text, "127.0.1.5");
	CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&a.a[0].ss)->sin_port), 2222);
	CU_ASSERT_EQUAL(jg_dial_numeric("[::1]", 22, &a), 0);
	CU_ASSERT_STRING_EQUAL(a.a[0].text, "::1");
	CU_ASSERT_EQUAL(a.a[0].ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(jg_dial_numeric("::1", 22, &a), 0);
	CU_ASSERT_STRING_EQUAL(a.a[0].text, "::1");
	/* Names and the C library's other spellings of an address are no numeric hosts:
	 * they go to the resolver, and policy judges what it answers. */
	CU_ASSERT_EQUAL(jg_dial_numeric("localhost", 22, &a), -1);
	CU_ASSERT_EQUAL(jg_dial_numeric("127.1", 22, &a), -1);
	CU_ASSERT_EQUAL(jg_dial_numeric("0x7f.0.0.1", 22, &a), -1);
	CU_ASSERT_EQUAL(jg_dial_numeric("", 22, &a), -1);
}

static void test_dial_host_names(void)
{
	char why[300], long_label[80];

	CU_ASSERT_EQUAL(jg_dial_check_name("db7", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_dial_check_name("web-1.example.com.", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_dial_check_name("_srv.x", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_dial_check_name("db..x", why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "empty label"));
	CU_ASSERT_EQUAL(jg_dial_check_name(".x", why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(jg_dial_check_name("", why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(jg_dial_check_name("a b", why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(jg_dial_check_name("x%00", why, sizeof(why)), -1);
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CU_ASSERT_EQUAL(jg_dial_check_name(long_label, why, sizeof(why)), -1);
	long_label[63] = '\0';
	CU_ASSERT_EQUAL(jg_dial_check_name(long_label, why, sizeof(why)), 0);
}

struct answer {
	int calls;
	struct jg_dial_addrs addrs;
	char error[400];
};

static void on_answer(void *arg, const struct jg_dial_addrs *addrs, const char *error)
{
	struct answer *r = arg;

	r->calls++;
	if (addrs != NULL)
		r->addrs = *addrs;
	snprintf(r->error, sizeof(r->error), "%s", error != NULL ? error : "");
}

/* Does the hosts file name localhost (else the resolver would ask a nameserver)? */
static int hosts_know_localhost(void)
{
	char line[512];
	FILE *f = fopen("/etc/hosts", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = line[0] != '#' && strstr(line, "127.0.0.1") != NULL &&
			strstr(line, "localhost") != NULL;
	fclose(f);
	return found;
}

static void test_dial_name_answers_from_the_loop(void)
{
	struct event_base *base;
	struct answer r = {0};
	struct jg_dial *d;
	char why[400];
	int found = 0;

	if (!hosts_know_localhost())
		return; /* no query may leave the machine: nothing to try */
	base = event_base_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	d = jg_dial_resolve(base, "localhost", 80, 5000, NULL, on_answer, &r, why, sizeof(why));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(r.calls, 0); /* even when the hosts file answers at once */
	for (int i = 0; i < 100 && r.calls == 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_STRING_EQUAL(r.error, "");
	for (size_t i = 0; i < r.addrs.n; i++)
		found |= strcmp(r.addrs.a[i].text, "127.0.0.1") == 0;
	CU_ASSERT(found);
	event_base_free(base);
}

static void test_dial_cancelled_calls_nobody(void)
{
	struct event_base *base;
	struct answer r = {0};
	struct jg_dial *d;
	char why[400];

	if (!hosts_know_localhost())
		return;
	base = event_base_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	d = jg_dial_resolve(base, "localhost", 80, 5000, NULL, on_answer, &r, why, sizeof(why));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	jg_dial_cancel(d);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(r.calls, 0);
	jg_dial_cancel(NULL);
	event_base_free(base);
}

int jg_test_register_dial(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("dial", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_dial_numeric_hosts) || !CU_ADD_TEST(s, test_dial_host_names) ||
	    !CU_ADD_TEST(s, test_dial_name_answers_from_the_loop) ||
	    !CU_ADD_TEST(s, test_dial_cancelled_calls_nobody))
		return -1;
	return 0;
}
