/* relay/keepalive.c: when a link between gateways is dropped for an unanswered PING,
 * and when it is not (a busy peer, our own stalled loop). */
#include <CUnit/CUnit.h>

#include "relay/keepalive.h"
#include "tests/unit/suites.h"

/* One tick at NOW with RX bytes received; sends the PING when told to, as the
 * link does.  The verdict. */
static enum jg_keepalive_verdict tick(struct jg_keepalive *k, uint64_t now, uint64_t rx,
				      uint64_t *late)
{
	enum jg_keepalive_verdict v = jg_keepalive_tick(k, now, rx, late);

	if (v == JG_KEEPALIVE_PING)
		jg_keepalive_sent(k);
	return v;
}

/* A peer that answers: a PING every tick, never dead, even with no other traffic. */
static void test_answered(void)
{
	struct jg_keepalive k;
	uint64_t late, rx = 100;

	jg_keepalive_start(&k, 1000, 5000, rx);
	for (uint64_t t = 6000; t <= 20000; t += 1000) {
		CU_ASSERT_EQUAL(tick(&k, t, rx, &late), JG_KEEPALIVE_PING);
		CU_ASSERT_EQUAL(late, 0);
		rx += 17; /* the PING's answer */
		jg_keepalive_answered(&k);
	}
}

/* A silent peer: the PING of one tick unanswered at the next, nothing else either. */
static void test_silent(void)
{
	struct jg_keepalive k;
	uint64_t late;

	jg_keepalive_start(&k, 1000, 0, 0);
	CU_ASSERT_EQUAL(tick(&k, 1000, 0, &late), JG_KEEPALIVE_PING);
	CU_ASSERT_EQUAL(tick(&k, 2000, 0, &late), JG_KEEPALIVE_DEAD);
	/* The first PING, sent as the link came up (before any tick), counts too. */
	jg_keepalive_start(&k, 1000, 0, 0);
	jg_keepalive_sent(&k);
	CU_ASSERT_EQUAL(tick(&k, 1000, 0, &late), JG_KEEPALIVE_DEAD);
}

/* A busy peer: its answer is queued behind DATA, but WINDOW_UPDATEs and DATA keep
 * coming: not dead, and no second PING while the first is out.  Once the bytes
 * stop, one silent interval drops it. */
static void test_busy(void)
{
	struct jg_keepalive k;
	uint64_t late, rx = 0;

	jg_keepalive_start(&k, 1000, 0, rx);
	CU_ASSERT_EQUAL(tick(&k, 1000, rx, &late), JG_KEEPALIVE_PING);
	for (uint64_t t = 2000; t <= 30000; t += 1000) {
		rx += 65536;
		CU_ASSERT_EQUAL(tick(&k, t, rx, &late), JG_KEEPALIVE_WAIT);
	}
	CU_ASSERT_EQUAL(tick(&k, 31000, rx, &late), JG_KEEPALIVE_DEAD);
	/* Answered at last, while busy: the next tick sends a new PING. */
	jg_keepalive_start(&k, 1000, 0, 0);
	CU_ASSERT_EQUAL(tick(&k, 1000, 0, &late), JG_KEEPALIVE_PING);
	CU_ASSERT_EQUAL(tick(&k, 2000, 10, &late), JG_KEEPALIVE_WAIT);
	jg_keepalive_answered(&k);
	CU_ASSERT_EQUAL(tick(&k, 3000, 10, &late), JG_KEEPALIVE_PING);
}

/* Our own loop stopped (SIGSTOP, a suspended host, a starved CPU): a tick an
 * interval or more late restarts the count rather than blaming the peer; the
 * next tick on time judges again. */
static void test_our_loop_late(void)
{
	struct jg_keepalive k;
	uint64_t late;

	jg_keepalive_start(&k, 1000, 0, 0);
	CU_ASSERT_EQUAL(tick(&k, 1000, 0, &late), JG_KEEPALIVE_PING);
	CU_ASSERT_EQUAL(tick(&k, 7000, 0, &late), JG_KEEPALIVE_WAIT);
	CU_ASSERT_EQUAL(late, 5000);
	CU_ASSERT_EQUAL(tick(&k, 8000, 0, &late), JG_KEEPALIVE_DEAD);
	CU_ASSERT_EQUAL(late, 0);
	/* Late by less than an interval (10 s), or by less than a second: not ours. */
	jg_keepalive_start(&k, 10000, 0, 0);
	CU_ASSERT_EQUAL(tick(&k, 10000, 0, &late), JG_KEEPALIVE_PING);
	CU_ASSERT_EQUAL(tick(&k, 29000, 0, &late), JG_KEEPALIVE_DEAD);
	CU_ASSERT_EQUAL(late, 0);
	jg_keepalive_start(&k, 500, 0, 0);
	CU_ASSERT_EQUAL(tick(&k, 500, 0, &late), JG_KEEPALIVE_PING);
	CU_ASSERT_EQUAL(tick(&k, 1900, 0, &late), JG_KEEPALIVE_DEAD);
}

/* The bound the docs give: a peer that stops at any moment is dropped within two
 * intervals of its last byte, ticking on time. */
static void test_bound(void)
{
	for (uint64_t stop = 0; stop < 3000; stop += 50) {
		struct jg_keepalive k;
		uint64_t late, rx = 0, t, dead = 0;

		jg_keepalive_start(&k, 1000, 0, 0);
		for (t = 1000; t <= 10000 && dead == 0; t += 1000) {
			/* Until it stops the peer answers each PING at once, and sends. */
			if (t <= stop)
				rx += 100;
			if (tick(&k, t, rx, &late) == JG_KEEPALIVE_DEAD)
				dead = t;
			else if (t <= stop)
				jg_keepalive_answered(&k);
		}
		CU_ASSERT(dead > stop && dead - stop <= 2000);
		if (!(dead > stop && dead - stop <= 2000))
			break; /* one failure says it */
	}
}

int jg_test_register_keepalive(void)
{
	CU_pSuite s = CU_add_suite("keepalive", NULL, NULL);

	if (s == NULL || CU_add_test(s, "a peer that answers lives", test_answered) == NULL ||
	    CU_add_test(s, "a silent peer is dropped at the next tick", test_silent) == NULL ||
	    CU_add_test(s, "a busy peer whose answer is late lives", test_busy) == NULL ||
	    CU_add_test(s, "our own late loop restarts the count", test_our_loop_late) == NULL ||
	    CU_add_test(s, "a stop is noticed within two intervals", test_bound) == NULL)
		return -1;
	return 0;
}
