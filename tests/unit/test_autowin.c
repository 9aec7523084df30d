/* relay/autowin.c: when a stream's receive window grows (the window limits, the
 * next hop keeps up) and when it does not (a slow next hop, a slow sender, the
 * budget spent). */
#include <CUnit/CUnit.h>

#include "relay/autowin.h"
#include "tests/unit/suites.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define MAX (8 * MIB)
#define LIMIT (64 * MIB)

/* One stream as the gateway runs it: the sender spends its credit in DATA, the
 * receiver returns credit in halves of the window as nghttp2 does, and grows the
 * window when the rule says so.  Credit reaches the sender DELAY steps after it
 * left (the sender is busy with its own batch meanwhile): about DELAY pieces are
 * in flight on top of the half window nghttp2 holds back. */
#define MAX_DELAY 16
struct sim {
	struct jg_autowin w;
	uint32_t window;
	uint64_t unacked;	   /* received, credit not yet returned (the receiver's view) */
	uint64_t consumed_unacked; /* passed on, credit not yet returned */
	uint64_t credit;	   /* what the sender may still send (its view) */
	uint64_t acks[MAX_DELAY];  /* credit on its way back, by step */
	unsigned delay;
	unsigned waits; /* steps the sender had no credit */
	uint64_t now;	/* ms */
	unsigned step;
	int grows;
};

static void sim_init(struct sim *s, uint32_t window, unsigned delay)
{
	*s = (struct sim){.window = window, .credit = window, .now = 1000, .delay = delay};
}

static uint32_t peer_left(const struct sim *s)
{
	return s->unacked >= s->window ? 0 : (uint32_t)(s->window - s->unacked);
}

static void arrive(struct sim *s, uint32_t n)
{
	jg_autowin_received(&s->w, n);
	s->unacked += n;
	s->credit -= n;
}

/* The consumer passes N on: the rule is asked before the credit goes back. */
static void pass_on(struct sim *s, struct jg_autowin_budget *b, uint32_t n, uint64_t limit)
{
	uint32_t to = jg_autowin_consumed(&s->w, b, n, s->now, s->window, MAX, limit);

	if (to != 0) {
		CU_ASSERT(to > s->window && to <= MAX);
		s->acks[(s->step + s->delay) % MAX_DELAY] +=
		    to - s->window; /* the WINDOW_UPDATE of the growth */
		s->window = to;
		s->grows++;
	}
	s->consumed_unacked += n;
	if (s->consumed_unacked >= s->window / 2) {
		s->unacked -= s->consumed_unacked;
		s->acks[(s->step + s->delay) % MAX_DELAY] += s->consumed_unacked;
		s->consumed_unacked = 0;
	}
}

/* One step of a bulk sender (TLS-record sized pieces, never aligned to the window)
 * and a next hop that takes each piece at once. */
static void bulk_step(struct sim *s, struct jg_autowin_budget *b, uint64_t limit)
{
	uint32_t n;

	/* Credit sent DELAY steps ago arrives now. */
	s->credit += s->acks[s->step % MAX_DELAY];
	s->acks[s->step % MAX_DELAY] = 0;
	n = s->step % 2 ? 262096 : 245520;
	if (n > s->credit)
		n = (uint32_t)s->credit;
	if (n == 0)
		s->waits++;

	if (n > 0) {
		arrive(s, n);
		pass_on(s, b, n, limit);
	}
	s->step++;
	if (s->step % 4 == 0)
		s->now += 1; /* about a millisecond a window */
}

/* Run a bulk stream with credit DELAY pieces late for STEPS steps; the sender's
 * waits in the last half. */
static unsigned run_bulk(struct sim *s, struct jg_autowin_budget *b, unsigned delay, int steps)
{
	unsigned waits_half = 0;

	sim_init(s, 1 * MIB, delay);
	for (int step = 0; step < steps; step++) {
		if (step == steps / 2)
			waits_half = s->waits;
		bulk_step(s, b, LIMIT);
	}
	return s->waits - waits_half;
}

/* A bulk stream at about 1 GB/s whose credit comes back twelve pieces late (3 MiB
 * in flight on top of the half window nghttp2 holds back): with a fixed 1 MiB
 * window its sender waits, turn after turn.  With growth the window doubles, 1, 2,
 * 4, 8 MiB, to its max and no further, the sender stops waiting, and the growth
 * goes back to the budget when the stream ends. */
static void test_fast_stream_grows(void)
{
	struct jg_autowin_budget b = {0};
	struct sim s;
	unsigned waits;

	sim_init(&s, 1 * MIB, 12);
	for (int step = 0; step < 800; step++)
		bulk_step(&s, &b, 0);
	CU_ASSERT(s.waits > 100);
	CU_ASSERT_EQUAL(s.window, 1 * MIB);
	CU_ASSERT_EQUAL(b.used, 0);

	waits = run_bulk(&s, &b, 12, 800);
	CU_ASSERT_EQUAL(s.window, MAX);
	CU_ASSERT_EQUAL(s.grows, 3);
	CU_ASSERT_EQUAL(b.used, MAX - 1 * MIB);
	CU_ASSERT_EQUAL(waits, 0);
	jg_autowin_release(&s.w, &b);
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_EQUAL(s.w.grown, 0);
}

/* A next hop slower than the sender: bytes are always held, the window stays. */
static void test_slow_next_hop_stays(void)
{
	struct jg_autowin_budget b = {0};
	struct sim s;

	sim_init(&s, 1 * MIB, 3);
	for (int turn = 0; turn < 2000; turn++) {
		uint32_t n = peer_left(&s) < 256 * KIB ? peer_left(&s) : 256 * KIB;

		if (n > 0)
			arrive(&s, n);
		/* It takes 64 KiB a turn, so some bytes always wait. */
		if (s.w.held > 64 * KIB)
			pass_on(&s, &b, 64 * KIB, LIMIT);
		s.now += 1;
	}
	CU_ASSERT_EQUAL(s.window, 1 * MIB);
	CU_ASSERT_EQUAL(s.grows, 0);
	CU_ASSERT_EQUAL(b.used, 0);
}

/* A sender slower than a window a period (a shell, a trickle), each piece passed on
 * at once: just before each half of the window comes back it has less than half
 * left, yet the window stays, whatever the piece sizes. */
static void test_slow_sender_stays(void)
{
	struct jg_autowin_budget b = {0};
	struct sim s;

	sim_init(&s, 1 * MIB, 3);
	for (uint32_t i = 0; i < 20000; i++) {
		uint32_t n = 1000 + (i * 7919) % 3001; /* 1000-4000 bytes, never aligned */

		arrive(&s, n);
		pass_on(&s, &b, n, LIMIT);
		s.now += 1; /* 2.5 MB/s: a window takes about 400 ms */
	}
	CU_ASSERT_EQUAL(s.window, 1 * MIB);
	CU_ASSERT_EQUAL(s.grows, 0);
	CU_ASSERT_EQUAL(b.used, 0);
}

/* Many streams growing at once share the budget: all growth together never passes
 * it, the last grant is cut to what is left, and what a stream gives back at its
 * end lets another grow. */
static void test_budget_shared(void)
{
	struct jg_autowin_budget b = {0};
	struct sim s[5];
	uint64_t sum = 0;
	int more = 0;

	for (int i = 0; i < 5; i++)
		sim_init(&s[i], 1 * MIB, 12);
	for (int step = 0; step < 400; step++)
		for (int i = 0; i < 5; i++) {
			bulk_step(&s[i], &b, 5 * MIB);
			CU_ASSERT(b.used <= 5 * MIB);
		}
	CU_ASSERT_EQUAL(b.used, 5 * MIB);
	for (int i = 0; i < 5; i++)
		sum += s[i].window - 1 * MIB;
	CU_ASSERT_EQUAL(sum, 5 * MIB);
	/* A stream ends: its growth is another's to take. */
	for (int i = 0; i < 5; i++)
		if (s[i].window > 1 * MIB) {
			jg_autowin_release(&s[i].w, &b);
			sim_init(&s[i], 1 * MIB, 12); /* a new stream in its place */
			break;
		}
	CU_ASSERT(b.used < 5 * MIB);
	for (int step = 0; step < 400; step++)
		for (int i = 0; i < 5; i++) {
			int before = s[i].grows;

			bulk_step(&s[i], &b, 5 * MIB);
			more += s[i].grows - before;
		}
	CU_ASSERT(more > 0);
	CU_ASSERT_EQUAL(b.used, 5 * MIB);
}

/* No growth when off: MAX at the window, or no budget. */
static void test_off(void)
{
	struct jg_autowin_budget b = {0};
	struct jg_autowin w = {0};

	for (uint64_t t = 1000; t < 1010; t++) {
		jg_autowin_received(&w, 1 * MIB);
		CU_ASSERT_EQUAL(jg_autowin_consumed(&w, &b, 1 * MIB, t, 1 * MIB, 1 * MIB, LIMIT),
				0);
		jg_autowin_received(&w, 1 * MIB);
		CU_ASSERT_EQUAL(jg_autowin_consumed(&w, &b, 1 * MIB, t, 1 * MIB, 512 * KIB, LIMIT),
				0);
		jg_autowin_received(&w, 1 * MIB);
		CU_ASSERT_EQUAL(jg_autowin_consumed(&w, &b, 1 * MIB, t, 1 * MIB, MAX, 0), 0);
	}
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_EQUAL(w.grown, 0);
	/* A consumer that reports more than arrived does not wrap the count. */
	CU_ASSERT_EQUAL(jg_autowin_consumed(&w, &b, 5 * MIB, 2000, 1 * MIB, 1 * MIB, 0), 0);
	CU_ASSERT_EQUAL(w.held, 0);
}

int jg_test_register_autowin(void)
{
	CU_pSuite s = CU_add_suite("autowin", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "a fast stream: the window doubles to its max",
			test_fast_stream_grows) == NULL ||
	    CU_add_test(s, "a slow next hop: the window stays", test_slow_next_hop_stays) == NULL ||
	    CU_add_test(s, "a slow sender: the window stays", test_slow_sender_stays) == NULL ||
	    CU_add_test(s, "growth shares one budget", test_budget_shared) == NULL ||
	    CU_add_test(s, "no growth when off", test_off) == NULL)
		return -1;
	return 0;
}
