/* Tests for the agent-link session: an OPENER and an ACCEPTOR wired
 * back-to-back in memory, plus a hand-written "raw" peer for the frames a
 * well-behaved link would never send. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "tests/unit/suites.h"

#define MAXREC 1024

struct rec {
	uint32_t ch;
	uint8_t type, flags;
	uint32_t aux, length;
	void *ud;
};

/* What one side saw. */
struct side {
	struct jg_link *l;
	int hellos;
	struct jg_hello hello;
	int opens;
	int auto_accept;	 /* accept every OPEN from inside on_open */
	const char *reject_with; /* or reject it */
	struct rec recs[MAXREC];
	size_t nrec;
	size_t data_bytes;
	int writable;
	int dead;
	uint32_t dead_ch[MAXREC];
	void *dead_ud[MAXREC];
	char reason[512];
	int pongs;
	uint32_t pong_aux;
	int close_on_data; /* close the channel from inside on_frame(DATA) */
	int open_on_ok;	   /* open this many more channels from inside on_frame(OPEN_OK) */
	int last_feed;
};

static void on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	struct side *s = ud;

	s->hellos++;
	s->hello = *h;
}

static void on_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct side *s = ud;

	s->opens++;
	if (s->reject_with != NULL)
		CU_ASSERT_EQUAL(jg_link_reject(l, ch, s->reject_with), 0);
	if (s->auto_accept)
		CU_ASSERT_EQUAL(jg_link_accept(l, ch, (void *)(uintptr_t)(ch + 1000)), 0);
}

static void on_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct side *s = ud;

	CU_ASSERT_FATAL(s->nrec < MAXREC);
	s->recs[s->nrec++] = (struct rec){ch, f->type, f->flags, f->aux, f->length, cud};
	if (f->type == JG_FRAME_DATA) {
		s->data_bytes += f->length;
		if (s->close_on_data)
			CU_ASSERT_EQUAL(jg_link_close(l, ch), 0);
	}
	if (f->type == JG_FRAME_OPEN_OK) {
		for (int i = 0; i < s->open_on_ok; i++)
			CU_ASSERT(jg_link_open(l, JG_OPEN_EXEC, "x", 1, NULL) > 0);
		s->open_on_ok = 0;
	}
}

static void on_writable(struct jg_link *l, uint32_t ch, void *cud, void *ud)
{
	((struct side *)ud)->writable++;
}

static void on_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	struct side *s = ud;

	CU_ASSERT_FATAL(s->dead < MAXREC);
	s->dead_ch[s->dead] = ch;
	s->dead_ud[s->dead] = cud;
	s->dead++;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	/* Re-entrant calls on a failing link must be safe (and refused). */
	(void)jg_link_close(l, ch);
}

static void on_pong(struct jg_link *l, uint32_t aux, void *ud)
{
	struct side *s = ud;

	s->pongs++;
	s->pong_aux = aux;
}

static const struct jg_link_cbs cbs = {on_hello, on_open, on_frame, on_writable, on_dead, on_pong};

static void side_init(struct side *s, enum jg_link_role role)
{
	memset(s, 0, sizeof(*s));
	s->l = jg_link_new(role, &cbs, s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->l);
	s->auto_accept = role == JG_LINK_ACCEPTOR;
}

/* Move everything FROM has queued into TO. Returns TO's feed result.  Every
 * other delivery goes through jg_link_feed_evbuffer (the buffer must end up
 * empty), so both ways of feeding run every test. */
static int deliver(struct side *from, struct side *to)
{
	static unsigned n;
	struct evbuffer *out = jg_link_output(from->l);
	size_t len = evbuffer_get_length(out);
	uint8_t *copy;
	int r;

	if (n++ % 2 == 1) {
		struct evbuffer *b = evbuffer_new();

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		evbuffer_add_buffer(b, out);
		r = jg_link_feed_evbuffer(to->l, b);
		CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
		evbuffer_free(b);
		to->last_feed = r;
		return r;
	}
	copy = malloc(len + 1);
	evbuffer_remove(out, copy, len);
	r = jg_link_feed(to->l, copy, len);
	free(copy);
	to->last_feed = r;
	return r;
}

/* Shuttle bytes both ways until both outputs are empty (or a link fails). */
static void pump(struct side *a, struct side *b)
{
	while (evbuffer_get_length(jg_link_output(a->l)) ||
	       evbuffer_get_length(jg_link_output(b->l))) {
		deliver(a, b);
		deliver(b, a);
	}
}

/* Opener A and acceptor B, HELLOs exchanged. */
static void pair(struct side *a, struct side *b)
{
	side_init(a, JG_LINK_OPENER);
	side_init(b, JG_LINK_ACCEPTOR);
	CU_ASSERT_EQUAL(jg_link_send_hello(a->l, "gateway"), 0);
	CU_ASSERT_EQUAL(jg_link_send_hello(b->l, "x86_64"), 0);
	pump(a, b);
}

static void unpair(struct side *a, struct side *b)
{
	jg_link_free(a->l);
	jg_link_free(b->l);
}

/* Opener A opens a channel and B accepts it; returns its id. */
static uint32_t open_one(struct side *a, struct side *b, void *ud)
{
	int64_t ch = jg_link_open(a->l, JG_OPEN_EXEC, "\x01\0\0\0\x03ls\0", 8, ud);

	CU_ASSERT_FATAL(ch > 0);
	pump(a, b);
	return (uint32_t)ch;
}

static void test_hello_handshake(void)
{
	struct side a, b;

	pair(&a, &b);
	CU_ASSERT_EQUAL(a.hellos, 1);
	CU_ASSERT_EQUAL(b.hellos, 1);
	CU_ASSERT_STRING_EQUAL(a.hello.arch, "x86_64");
	CU_ASSERT_STRING_EQUAL(b.hello.arch, "gateway");
	CU_ASSERT_EQUAL(a.hello.window, JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_EQUAL(a.hello.max_payload, JG_FRAME_LINK_PAYLOAD);
	CU_ASSERT_PTR_NULL(jg_link_error(a.l));
	CU_ASSERT_EQUAL(jg_link_send_hello(a.l, "again"), JG_ERR_STATE);
	unpair(&a, &b);
}

static void test_open_accept_and_ids_count_up(void)
{
	struct side a, b;
	uint32_t c1, c2;

	pair(&a, &b);
	c1 = open_one(&a, &b, &a);
	c2 = open_one(&a, &b, NULL);
	CU_ASSERT_EQUAL(c1, 1);
	CU_ASSERT_EQUAL(c2, 2);
	CU_ASSERT_EQUAL(b.opens, 2);
	CU_ASSERT_EQUAL(a.nrec, 2);
	CU_ASSERT_EQUAL(a.recs[0].type, JG_FRAME_OPEN_OK);
	CU_ASSERT_PTR_EQUAL(a.recs[0].ud, &a);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 2);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 2);
	CU_ASSERT_EQUAL(jg_link_window(a.l, c1), JG_FRAME_DEFAULT_WINDOW);
	unpair(&a, &b);
}

static void test_reject_delivers_open_fail_and_forgets(void)
{
	struct side a, b;

	pair(&a, &b);
	b.auto_accept = 0;
	b.reject_with = "cannot run nosuch: No such file or directory";
	open_one(&a, &b, NULL);
	CU_ASSERT_EQUAL(a.nrec, 1);
	CU_ASSERT_EQUAL(a.recs[0].type, JG_FRAME_OPEN_FAIL);
	CU_ASSERT_EQUAL(a.recs[0].length, strlen(b.reject_with));
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 0);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 0);
	unpair(&a, &b);
}

static void test_data_both_ways_respects_windows(void)
{
	static uint8_t buf[JG_FRAME_DEFAULT_WINDOW + 40000];
	struct side a, b;
	uint32_t ch;

	pair(&a, &b);
	ch = open_one(&a, &b, NULL);
	/* The opener is blocked at the acceptor's window. */
	CU_ASSERT_EQUAL(jg_link_send_data(a.l, ch, 0, buf, sizeof(buf)), JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_EQUAL(jg_link_window(a.l, ch), 0);
	CU_ASSERT_EQUAL(jg_link_send_data(a.l, ch, 0, buf, 1), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(b.data_bytes, JG_FRAME_DEFAULT_WINDOW);
	/* Both ends announce JG_FRAME_LINK_PAYLOAD: DATA goes in frames that large. */
	CU_ASSERT_EQUAL(b.nrec, JG_FRAME_DEFAULT_WINDOW / JG_FRAME_LINK_PAYLOAD);
	/* Consumption below half the window returns no credit yet. */
	CU_ASSERT_EQUAL(jg_link_consumed(b.l, ch, JG_FRAME_DEFAULT_WINDOW / 2 - 1000), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.writable, 0);
	CU_ASSERT_EQUAL(jg_link_consumed(b.l, ch, 1000), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.writable, 1);
	CU_ASSERT_EQUAL(jg_link_window(a.l, ch), JG_FRAME_DEFAULT_WINDOW / 2);
	/* The other direction, stderr flagged. */
	CU_ASSERT_EQUAL(jg_link_send_data(b.l, ch, JG_DATA_STDERR, buf, 1000), 1000);
	CU_ASSERT_EQUAL(jg_link_send_data(b.l, ch, 0x80, buf, 1), JG_ERR_INVAL);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.data_bytes, 1000);
	CU_ASSERT_EQUAL(a.recs[a.nrec - 1].flags, JG_DATA_STDERR);
	CU_ASSERT_PTR_NULL(jg_link_error(a.l));
	CU_ASSERT_PTR_NULL(jg_link_error(b.l));
	unpair(&a, &b);
}

/* jg_link_send_data_buf: the bytes are moved out of the source buffer behind frame
 * headers, split at the max payload, stopped at the window; what stays is in order. */
static void test_data_buf_moves_within_window(void)
{
	size_t total = JG_FRAME_DEFAULT_WINDOW + 40000;
	struct evbuffer *src = evbuffer_new(), *got = evbuffer_new();
	uint8_t *buf = malloc(total);
	struct side a, b;
	uint32_t ch;

	CU_ASSERT_FATAL(src != NULL && got != NULL && buf != NULL);
	for (size_t i = 0; i < total; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	evbuffer_add(src, buf, total);
	pair(&a, &b);
	ch = open_one(&a, &b, NULL);
	CU_ASSERT_EQUAL(jg_link_send_data_buf(a.l, ch, 0, src, total), JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_EQUAL(evbuffer_get_length(src), 40000);
	CU_ASSERT_EQUAL(jg_link_send_data_buf(a.l, ch, 0, src, total), 0);
	CU_ASSERT_EQUAL(jg_link_send_data_buf(a.l, ch, 0x80, src, 1), JG_ERR_INVAL);
	pump(&a, &b);
	CU_ASSERT_EQUAL(b.data_bytes, JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_EQUAL(b.nrec, JG_FRAME_DEFAULT_WINDOW / JG_FRAME_LINK_PAYLOAD);
	/* The rest goes once credit returns; LEN beyond the source is clamped. */
	CU_ASSERT_EQUAL(jg_link_consumed(b.l, ch, JG_FRAME_DEFAULT_WINDOW), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(jg_link_send_data_buf(a.l, ch, 0, src, total), 40000);
	CU_ASSERT_EQUAL(evbuffer_get_length(src), 0);
	/* What went out decodes to the same bytes in order (the output as the peer sees
	 * it: header, payload, header, payload). */
	{
		struct evbuffer *out = jg_link_output(a.l);
		uint8_t hdr[JG_FRAME_HEADER_LEN];

		while (evbuffer_get_length(out) >= JG_FRAME_HEADER_LEN) {
			uint32_t len;

			evbuffer_remove(out, hdr, sizeof(hdr));
			len = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
			      (uint32_t)hdr[10] << 8 | hdr[11];
			CU_ASSERT_EQUAL(hdr[2], JG_FRAME_DATA);
			evbuffer_remove_buffer(out, got, len);
		}
	}
	CU_ASSERT_EQUAL(evbuffer_get_length(got), 40000);
	CU_ASSERT_EQUAL(memcmp(evbuffer_pullup(got, -1), buf + JG_FRAME_DEFAULT_WINDOW, 40000), 0);
	/* After EOF no more DATA. */
	CU_ASSERT_EQUAL(jg_link_send_eof(a.l, ch, 0), 0);
	evbuffer_add(src, buf, 10);
	CU_ASSERT_EQUAL(jg_link_send_data_buf(a.l, ch, 0, src, 10), JG_ERR_STATE);
	unpair(&a, &b);
	evbuffer_free(src);
	evbuffer_free(got);
	free(buf);
}

static void test_eof_each_direction_and_exit_forgets(void)
{
	struct side a, b;
	uint32_t ch;

	pair(&a, &b);
	ch = open_one(&a, &b, NULL);
	CU_ASSERT_EQUAL(jg_link_send_eof(a.l, ch, 0), 0);
	CU_ASSERT_EQUAL(jg_link_send_eof(a.l, ch, 0), JG_ERR_STATE);
	CU_ASSERT_EQUAL(jg_link_send_data(a.l, ch, 0, "x", 1), JG_ERR_STATE);
	pump(&a, &b);
	CU_ASSERT_EQUAL(b.nrec, 1);
	CU_ASSERT_EQUAL(b.recs[0].type, JG_FRAME_EOF);
	CU_ASSERT_EQUAL(jg_link_send_eof(b.l, ch, 0), 0);
	CU_ASSERT_EQUAL(jg_link_send_eof(b.l, ch, JG_DATA_STDERR), 0);
	CU_ASSERT_EQUAL(jg_link_send_exit(a.l, ch, 0, 0), JG_ERR_STATE); /* opener never exits */
	CU_ASSERT_EQUAL(jg_link_send_exit(b.l, ch, JG_EXIT_SIGNALED, 9), 0);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.nrec, 4); /* OPEN_OK, EOF, EOF stderr, EXIT */
	CU_ASSERT_EQUAL(a.recs[3].type, JG_FRAME_EXIT);
	CU_ASSERT_EQUAL(a.recs[3].aux, 9);
	CU_ASSERT_EQUAL(a.recs[3].flags, JG_EXIT_SIGNALED);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 0);
	CU_ASSERT_EQUAL(jg_link_consumed(a.l, ch, 10), 0); /* late consumer: harmless */
	CU_ASSERT_EQUAL(jg_link_send_data(a.l, ch, 0, "x", 1), JG_ERR_NOCHAN);
	unpair(&a, &b);
}

static void test_late_frames_for_forgotten_channel_are_ignored(void)
{
	struct side a, b;
	uint32_t ch;

	pair(&a, &b);
	ch = open_one(&a, &b, NULL);
	/* DATA and CLOSE cross on the wire. */
	CU_ASSERT_EQUAL(jg_link_send_data(b.l, ch, 0, "late", 4), 4);
	CU_ASSERT_EQUAL(jg_link_send_signal(a.l, ch, 15), 0);
	CU_ASSERT_EQUAL(jg_link_close(a.l, ch), 0);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.data_bytes, 0);
	CU_ASSERT_EQUAL(b.recs[b.nrec - 1].type, JG_FRAME_CLOSE);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 0);
	/* More late frames, both ways, still fine. */
	jg_frame_put(jg_link_output(b.l), JG_FRAME_WINDOW, 0, ch, 5, NULL, 0);
	jg_frame_put(jg_link_output(b.l), JG_FRAME_EXIT, 0, ch, 0, NULL, 0);
	pump(&a, &b);
	CU_ASSERT_PTR_NULL(jg_link_error(a.l));
	CU_ASSERT_PTR_NULL(jg_link_error(b.l));
	CU_ASSERT_EQUAL(a.dead + b.dead, 0);
	unpair(&a, &b);
}

static void test_frame_for_never_opened_channel_fails_link(void)
{
	struct side a, b;

	pair(&a, &b);
	open_one(&a, &b, (void *)1);
	open_one(&a, &b, (void *)2);
	jg_frame_put(jg_link_output(b.l), JG_FRAME_DATA, 0, 99, 0, "x", 1);
	CU_ASSERT_EQUAL(deliver(&b, &a), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_link_error(a.l), "DATA for channel 99, which was never opened");
	CU_ASSERT_EQUAL(a.dead, 2);
	CU_ASSERT_STRING_EQUAL(a.reason, jg_link_error(a.l));
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 0);
	CU_ASSERT_EQUAL(jg_link_feed(a.l, "", 0), JG_ERR_CLOSED);
	CU_ASSERT_EQUAL(jg_link_open(a.l, 1, NULL, 0, NULL), JG_ERR_CLOSED);
	/* The peer is told why (DEAD on channel 0) and fails the same way. */
	CU_ASSERT_EQUAL(deliver(&a, &b), JG_ERR_CLOSED);
	CU_ASSERT_STRING_EQUAL(jg_link_error(b.l), jg_link_error(a.l));
	CU_ASSERT_EQUAL(b.dead, 2);
	unpair(&a, &b);
}

static void test_link_failure_calls_on_dead_once_per_channel(void)
{
	struct side a, b;
	int seen[301] = {0}, once = 1;

	pair(&a, &b);
	for (int i = 0; i < 300; i++)
		CU_ASSERT(jg_link_open(a.l, JG_OPEN_EXEC, "x", 1, (void *)(uintptr_t)(i + 1)) > 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 300);
	jg_link_fail(a.l, "ssh to web3 exited with status 255");
	jg_link_fail(a.l, "again");
	CU_ASSERT_EQUAL(a.dead, 300);
	for (int i = 0; i < a.dead; i++) {
		once &= a.dead_ch[i] >= 1 && a.dead_ch[i] <= 300 && !seen[a.dead_ch[i]];
		once &= a.dead_ud[i] == (void *)(uintptr_t)a.dead_ch[i];
		seen[a.dead_ch[i]] = 1;
	}
	CU_ASSERT(once);
	CU_ASSERT_STRING_EQUAL(jg_link_error(a.l), "ssh to web3 exited with status 255");
	CU_ASSERT_EQUAL(jg_link_feed(a.l, "JG", 2), JG_ERR_CLOSED);
	unpair(&a, &b);
}

static void test_many_channels_in_the_table(void)
{
	struct side a, b;
	size_t live = 0;

	pair(&a, &b);
	for (int i = 0; i < 500; i++)
		jg_link_open(a.l, JG_OPEN_EXEC, "x", 1, NULL);
	pump(&a, &b);
	for (uint32_t ch = 1; ch <= 500; ch += 2)
		CU_ASSERT_EQUAL(jg_link_close(a.l, ch), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 250);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 250);
	for (uint32_t ch = 1; ch <= 500; ch++)
		live += jg_link_window(a.l, ch) == JG_FRAME_DEFAULT_WINDOW;
	CU_ASSERT_EQUAL(live, 250);
	for (uint32_t ch = 2; ch <= 500; ch += 2)
		CU_ASSERT_EQUAL(jg_link_send_data(b.l, ch, 0, "y", 1), 1);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.data_bytes, 250);
	unpair(&a, &b);
}

static void test_callbacks_may_close_and_open_reentrantly(void)
{
	struct side a, b;
	uint32_t ch;

	pair(&a, &b);
	a.open_on_ok = 40; /* grows the table while dispatching */
	ch = open_one(&a, &b, NULL);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 41);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 41);
	a.close_on_data = 1;
	jg_link_send_data(b.l, ch, 0, "ab", 2);
	jg_link_send_data(b.l, ch, 0, "cd", 2); /* arrives after the close: dropped */
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.data_bytes, 2);
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 40);
	CU_ASSERT_EQUAL(jg_link_channel_count(b.l), 40);
	CU_ASSERT_PTR_NULL(jg_link_error(a.l));
	unpair(&a, &b);
}

static void test_ping_is_answered_with_pong(void)
{
	struct side a, b;

	pair(&a, &b);
	CU_ASSERT_EQUAL(jg_link_ping(a.l, 0xc0ffee), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.pongs, 1);
	CU_ASSERT_EQUAL(a.pong_aux, 0xc0ffee);
	CU_ASSERT_EQUAL(b.pongs, 0);
	unpair(&a, &b);
}

static void test_dead_frames(void)
{
	struct side a, b;
	uint32_t c1, c2;

	pair(&a, &b);
	c1 = open_one(&a, &b, (void *)1);
	c2 = open_one(&a, &b, (void *)2);
	CU_ASSERT_EQUAL(jg_link_send_dead(b.l, c1, "upstream site-b lost"), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(a.dead, 1);
	CU_ASSERT_EQUAL(a.dead_ch[0], c1);
	CU_ASSERT_STRING_EQUAL(a.reason, "upstream site-b lost");
	CU_ASSERT_EQUAL(jg_link_channel_count(a.l), 1);
	CU_ASSERT_EQUAL(jg_link_send_dead(b.l, 0, "agent shutting down"), 0);
	CU_ASSERT_EQUAL(b.dead, 1);
	CU_ASSERT_EQUAL(deliver(&b, &a), JG_ERR_CLOSED);
	CU_ASSERT_EQUAL(a.dead, 2);
	CU_ASSERT_EQUAL(a.dead_ch[1], c2);
	CU_ASSERT_STRING_EQUAL(jg_link_error(a.l), "agent shutting down");
	unpair(&a, &b);
}

/* ---- a raw peer: the test writes the frames itself ---- */

static int raw_feed(struct side *s, uint8_t type, uint8_t flags, uint32_t ch, uint32_t aux,
		    const void *p, uint32_t len)
{
	struct evbuffer *b = evbuffer_new();
	int r;

	CU_ASSERT_EQUAL(jg_frame_put(b, type, flags, ch, aux, p, len), 0);
	r = jg_link_feed(s->l, evbuffer_pullup(b, -1), evbuffer_get_length(b));
	evbuffer_free(b);
	return r;
}

static void raw_hello(struct side *s, uint32_t version, uint32_t max_payload, uint32_t window)
{
	struct jg_hello h = {version, max_payload, window, 0, "raw"};
	struct evbuffer *b = evbuffer_new();

	jg_frame_put_hello(b, &h);
	s->last_feed = jg_link_feed(s->l, evbuffer_pullup(b, -1), evbuffer_get_length(b));
	evbuffer_free(b);
}

static void test_hello_must_come_first(void)
{
	struct side s;

	side_init(&s, JG_LINK_ACCEPTOR);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_PING, 0, 0, 1, NULL, 0), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_link_error(s.l), "expected HELLO as the first frame, got PING");
	jg_link_free(s.l);
}

static void test_version_mismatch_fails_link(void)
{
	struct side s;

	side_init(&s, JG_LINK_ACCEPTOR);
	raw_hello(&s, 2, 32768, 65536);
	CU_ASSERT_EQUAL(s.last_feed, JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_link_error(s.l), "protocol version 2"));
	CU_ASSERT_EQUAL(s.hellos, 0);
	jg_link_free(s.l);
}

static void test_peer_max_payload_and_window_are_adopted(void)
{
	static uint8_t buf[12000];
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	struct jg_frame f;
	struct side s;
	size_t frames = 0, bytes = 0;

	side_init(&s, JG_LINK_OPENER);
	jg_link_send_hello(s.l, "gw");
	raw_hello(&s, 1, 1000, 5000);
	CU_ASSERT_EQUAL(s.last_feed, 0);
	CU_ASSERT_EQUAL(jg_link_open(s.l, JG_OPEN_EXEC, buf, 1001, NULL), JG_ERR_TOOBIG);
	CU_ASSERT_EQUAL(jg_link_open(s.l, JG_OPEN_EXEC, "x", 1, NULL), 1);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_OPEN_OK, 0, 1, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_link_window(s.l, 1), 5000);
	CU_ASSERT_EQUAL(jg_link_send_data(s.l, 1, 0, buf, sizeof(buf)), 5000);
	jg_frame_decoder_feed_evbuffer(d, jg_link_output(s.l));
	while (jg_frame_decoder_next(d, &f) == 1) {
		if (f.type != JG_FRAME_DATA)
			continue;
		CU_ASSERT(f.length <= 1000);
		frames++;
		bytes += f.length;
	}
	CU_ASSERT_EQUAL(frames, 5);
	CU_ASSERT_EQUAL(bytes, 5000);
	jg_frame_decoder_free(d);
	jg_link_free(s.l);
}

/* An ACCEPTOR with a raw opener that has sent HELLO and opened channel 1. */
static void raw_opened(struct side *s)
{
	side_init(s, JG_LINK_ACCEPTOR);
	jg_link_send_hello(s->l, "agent");
	raw_hello(s, 1, 32768, 262144);
	CU_ASSERT_EQUAL(raw_feed(s, JG_FRAME_OPEN, 0, 1, JG_OPEN_EXEC, "x", 1), 0);
}

static void test_data_beyond_window_fails_with_flow_error(void)
{
	static uint8_t buf[32768];
	struct side s;
	int r = 0;

	raw_opened(&s);
	char want[128];

	for (unsigned i = 0; i <= JG_FRAME_DEFAULT_WINDOW / sizeof(buf) && r == 0; i++)
		r = raw_feed(&s, JG_FRAME_DATA, 0, 1, 0, buf, sizeof(buf));
	CU_ASSERT_EQUAL(r, JG_ERR_FLOW);
	snprintf(want, sizeof(want), "channel 1: peer sent %u bytes of DATA with a window of %u",
		 JG_FRAME_DEFAULT_WINDOW + (unsigned)sizeof(buf), JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_STRING_EQUAL(jg_link_error(s.l), want);
	CU_ASSERT_EQUAL(s.dead, 1);
	CU_ASSERT_EQUAL(s.data_bytes, JG_FRAME_DEFAULT_WINDOW);
	jg_link_free(s.l);
}

static void test_open_ids_must_increase(void)
{
	struct side s;

	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_OPEN, 0, 5, JG_OPEN_EXEC, "x", 1), 0);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_OPEN, 0, 3, JG_OPEN_EXEC, "x", 1), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_link_error(s.l), "OPEN for channel 3, not above"));
	CU_ASSERT_EQUAL(s.dead, 2);
	jg_link_free(s.l);
}

static void test_channel_zero_rules(void)
{
	struct side s;

	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_PING, 0, 1, 1, NULL, 0), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_link_error(s.l), "PING on channel 1 (must be 0)");
	jg_link_free(s.l);
	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_OPEN, 0, 0, 1, "x", 1), JG_ERR_PROTO);
	jg_link_free(s.l);
	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_DATA, 0, 0, 0, "x", 1), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_link_error(s.l), "DATA on channel 0");
	jg_link_free(s.l);
}

static void test_wrong_frame_for_role_or_state_fails_link(void)
{
	struct side s;

	/* EXIT comes only from the acceptor. */
	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_EXIT, 0, 1, 0, NULL, 0), JG_ERR_PROTO);
	jg_link_free(s.l);
	/* DATA before the channel was accepted. */
	raw_opened(&s);
	s.auto_accept = 0;
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_OPEN, 0, 2, 1, "x", 1), 0);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_DATA, 0, 2, 0, "x", 1), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_link_error(s.l),
			       "channel 2: unexpected DATA (channel not accepted yet)");
	jg_link_free(s.l);
	/* DATA after EOF. */
	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_EOF, 0, 1, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_DATA, 0, 1, 0, "x", 1), JG_ERR_PROTO);
	jg_link_free(s.l);
	/* A second HELLO. */
	raw_opened(&s);
	raw_hello(&s, 1, 32768, 1);
	CU_ASSERT_EQUAL(s.last_feed, JG_ERR_PROTO);
	jg_link_free(s.l);
}

static void test_bad_bytes_fail_link_with_decoder_reason(void)
{
	struct side s;

	raw_opened(&s);
	CU_ASSERT_EQUAL(jg_link_feed(s.l, "SSH-2.0-OpenSSH_9.2\r\n", 21), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_link_error(s.l), "bad magic 0x5353 at offset"));
	CU_ASSERT_STRING_EQUAL(s.reason, jg_link_error(s.l));
	CU_ASSERT_EQUAL(jg_link_feed(s.l, "", 0), JG_ERR_CLOSED);
	jg_link_free(s.l);
}

static void test_window_overflow_fails_link(void)
{
	struct side s;

	raw_opened(&s);
	CU_ASSERT_EQUAL(raw_feed(&s, JG_FRAME_WINDOW, 0, 1, 0x7fffffff, NULL, 0), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_link_error(s.l), "overflows the send window"));
	jg_link_free(s.l);
}

int jg_test_register_link(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
	    {"HELLO handshake", test_hello_handshake},
	    {"open, accept, ids count up", test_open_accept_and_ids_count_up},
	    {"reject delivers OPEN_FAIL and forgets", test_reject_delivers_open_fail_and_forgets},
	    {"data both ways respects windows", test_data_both_ways_respects_windows},
	    {"DATA from an evbuffer moves within the window", test_data_buf_moves_within_window},
	    {"EOF each direction; EXIT forgets", test_eof_each_direction_and_exit_forgets},
	    {"late frames for a forgotten channel are ignored",
	     test_late_frames_for_forgotten_channel_are_ignored},
	    {"frame for a never-opened channel fails the link",
	     test_frame_for_never_opened_channel_fails_link},
	    {"link failure calls on_dead once per channel",
	     test_link_failure_calls_on_dead_once_per_channel},
	    {"many channels in the table", test_many_channels_in_the_table},
	    {"callbacks may close and open re-entrantly",
	     test_callbacks_may_close_and_open_reentrantly},
	    {"PING is answered with PONG", test_ping_is_answered_with_pong},
	    {"DEAD on a channel and on channel 0", test_dead_frames},
	    {"HELLO must come first", test_hello_must_come_first},
	    {"version mismatch fails the link", test_version_mismatch_fails_link},
	    {"peer max payload and window are adopted",
	     test_peer_max_payload_and_window_are_adopted},
	    {"DATA beyond the window fails with a flow error",
	     test_data_beyond_window_fails_with_flow_error},
	    {"OPEN ids must increase", test_open_ids_must_increase},
	    {"channel 0 rules", test_channel_zero_rules},
	    {"wrong frame for role or state fails the link",
	     test_wrong_frame_for_role_or_state_fails_link},
	    {"bad bytes fail the link with the decoder's reason",
	     test_bad_bytes_fail_link_with_decoder_reason},
	    {"window overflow fails the link", test_window_overflow_fails_link},
	};
	CU_pSuite s = CU_add_suite("link", NULL, NULL);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
