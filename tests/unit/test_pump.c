/* Tests for the pump (gateway/pump/pump.c): a gateway-side link (OPENER) whose channel
 * is a pump, wired back to back in memory with an agent-side link (ACCEPTOR), and a
 * fake stream that records the credit it is given and the bytes appended to it.
 * No sockets, no event loop: bytes move only when a test shuttles them. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "tests/unit/suites.h"

#define WIN JG_FRAME_DEFAULT_WINDOW

/* The agent end: what arrived on its channel. */
struct agent {
	struct jg_link *l;
	uint32_t ch;
	struct evbuffer *got;
	int eof, closed, writable;
	int reading; /* give window back as bytes arrive (a peer that reads) */
};

/* The stream end. */
struct fake_stream {
	struct evbuffer *body; /* response bytes appended */
	size_t credit;	       /* request-body credit given back */
};

/* The op: what the pump told it. */
struct fake_op {
	int frames[JG_FRAME_TYPE_MAX + 1];
	int dead, link_lost;
	int framed, keep; /* framed mode; on_down queues (1) or drops (0) */
	size_t framed_bytes;
	int framed_eof;
};

struct rig {
	struct jg_link *gw;
	struct agent ag;
	struct fake_stream st;
	struct fake_op op;
	struct jg_pump p;
};

/* --- gateway link: dispatch to the channel user, as agentlink.c does --- */
static void gw_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct jg_chan_user *u = cud;

	if (u != NULL)
		u->cbs->on_frame(u, f);
}

static void gw_writable(struct jg_link *l, uint32_t ch, void *cud, void *ud)
{
	struct jg_chan_user *u = cud;

	if (u != NULL)
		u->cbs->on_writable(u);
}

static void gw_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	struct jg_chan_user *u = cud;

	if (u != NULL)
		u->cbs->on_dead(u, reason);
}

static const struct jg_link_cbs gw_cbs = {
    .on_frame = gw_frame, .on_writable = gw_writable, .on_dead = gw_dead};

/* --- agent link --- */
static void ag_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct agent *a = ud;

	a->ch = ch;
	CU_ASSERT_EQUAL(jg_link_accept(l, ch, a), 0);
}

static void ag_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct agent *a = ud;

	if (f->type == JG_FRAME_DATA) {
		CU_ASSERT_FALSE(a->eof); /* nothing after EOF */
		evbuffer_add(a->got, f->payload, f->length);
		if (a->reading)
			CU_ASSERT_EQUAL(jg_link_consumed(l, ch, f->length), 0);
	} else if (f->type == JG_FRAME_EOF) {
		a->eof++;
	} else if (f->type == JG_FRAME_CLOSE) {
		a->closed++;
	}
}

static void ag_writable(struct jg_link *l, uint32_t ch, void *cud, void *ud)
{
	((struct agent *)ud)->writable++;
}

static void ag_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
}

static const struct jg_link_cbs ag_cbs = {
    .on_open = ag_open, .on_frame = ag_frame, .on_writable = ag_writable, .on_dead = ag_dead};

/* --- the fake stream and op --- */
static void st_consume(void *s, size_t n)
{
	((struct fake_stream *)s)->credit += n;
}

static void st_append(void *s, struct evbuffer *buf)
{
	evbuffer_add_buffer(((struct fake_stream *)s)->body, buf);
}

static const struct jg_pump_stream_cbs st_cbs = {.consume = st_consume, .append = st_append};

static int op_down(void *ud, const struct jg_frame *f)
{
	struct fake_op *o = ud;

	if (f->type == JG_FRAME_EOF) {
		o->framed_eof++;
		return 0;
	}
	o->framed_bytes += f->length;
	return o->keep;
}

static void op_frame(void *ud, const struct jg_frame *f)
{
	((struct fake_op *)ud)->frames[f->type]++;
}

static void op_dead(void *ud, const char *reason, int link_lost)
{
	struct fake_op *o = ud;

	o->dead++;
	o->link_lost = link_lost;
}

static const struct jg_pump_cbs raw_cbs = {.on_frame = op_frame, .on_dead = op_dead};
static const struct jg_pump_cbs framed_cbs = {
    .on_down = op_down, .on_frame = op_frame, .on_dead = op_dead};

/* Move queued bytes both ways until both links are quiet. */
static void shuttle(struct rig *r)
{
	struct evbuffer *o1 = jg_link_output(r->gw), *o2 = jg_link_output(r->ag.l);

	while (evbuffer_get_length(o1) || evbuffer_get_length(o2)) {
		size_t n1 = evbuffer_get_length(o1), n2 = evbuffer_get_length(o2);

		if (n1 > 0) {
			(void)jg_link_feed(r->ag.l, evbuffer_pullup(o1, (ssize_t)n1), n1);
			evbuffer_drain(o1, n1);
		}
		if (n2 > 0) {
			(void)jg_link_feed(r->gw, evbuffer_pullup(o2, (ssize_t)n2), n2);
			evbuffer_drain(o2, n2);
		}
	}
}

/* A pump whose channel is open (OPEN, OPEN_OK exchanged). */
static void rig_up(struct rig *r, const struct jg_pump_cbs *cbs, int early, int open)
{
	int64_t ch;

	memset(r, 0, sizeof(*r));
	r->gw = jg_link_new(JG_LINK_OPENER, &gw_cbs, NULL);
	r->ag.l = jg_link_new(JG_LINK_ACCEPTOR, &ag_cbs, &r->ag);
	r->ag.got = evbuffer_new();
	r->st.body = evbuffer_new();
	CU_ASSERT_FATAL(r->gw && r->ag.l && r->ag.got && r->st.body);
	CU_ASSERT_EQUAL(jg_link_send_hello(r->gw, "gateway"), 0);
	CU_ASSERT_EQUAL(jg_link_send_hello(r->ag.l, "x86_64"), 0);
	shuttle(r);
	CU_ASSERT_EQUAL_FATAL(jg_pump_init(&r->p, cbs, &r->op, &st_cbs, &r->st), 0);
	if (!open)
		return;
	ch = jg_link_open(r->gw, JG_OPEN_EXEC, "\x01\0\0\0\x03ls\0", 8, jg_pump_chan(&r->p));
	CU_ASSERT_FATAL(ch > 0);
	jg_pump_attach(&r->p, r->gw, (uint32_t)ch, early);
	shuttle(r);
	CU_ASSERT_EQUAL(r->op.frames[JG_FRAME_OPEN_OK], 1);
	CU_ASSERT_PTR_EQUAL(jg_pump_link(&r->p), r->gw);
}

static void rig_down(struct rig *r)
{
	jg_pump_clear(&r->p);
	jg_link_free(r->gw);
	jg_link_free(r->ag.l);
	evbuffer_free(r->ag.got);
	evbuffer_free(r->st.body);
}

static void fill(uint8_t *b, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((off + i) * 7 + 3);
}

static int check(struct evbuffer *b, size_t n)
{
	uint8_t *p = evbuffer_pullup(b, -1), want[1];

	if (evbuffer_get_length(b) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		fill(want, 1, i);
		if (p[i] != want[0])
			return 0;
	}
	return 1;
}

/* Up: HTTP/2 credit goes back only for bytes the channel window took; a peer that
 * stops reading leaves the rest queued in the pump, bounded by what the client sent. */
static void test_up_credit_follows_window(void)
{
	struct rig r;
	size_t total = 3 * WIN + 12345, chunk = 16384;
	uint8_t *buf = malloc(chunk);

	rig_up(&r, &raw_cbs, 0, 1);
	for (size_t off = 0; off < total; off += chunk) {
		size_t n = total - off < chunk ? total - off : chunk;

		fill(buf, n, off);
		jg_pump_up(&r.p, buf, n);
		shuttle(&r);
	}
	/* Nothing read at the agent: exactly one window crossed, and credited. */
	CU_ASSERT_EQUAL(evbuffer_get_length(r.ag.got), WIN);
	CU_ASSERT_EQUAL(r.st.credit, WIN);
	CU_ASSERT_EQUAL(jg_pump_queued(&r.p), total - WIN);
	/* The agent starts reading: everything arrives, in order, all credited. */
	r.ag.reading = 1;
	CU_ASSERT_EQUAL(jg_link_consumed(r.ag.l, r.ag.ch, WIN), 0);
	shuttle(&r);
	CU_ASSERT_TRUE(check(r.ag.got, total));
	CU_ASSERT_EQUAL(r.st.credit, total);
	CU_ASSERT_EQUAL(jg_pump_queued(&r.p), 0);
	CU_ASSERT_EQUAL(r.ag.eof, 0);
	free(buf);
	rig_down(&r);
}

/* Up bytes before the channel exists (or before OPEN_OK) wait, uncredited. */
static void test_up_waits_for_open(void)
{
	struct rig r;
	uint8_t buf[1000];
	int64_t ch;

	rig_up(&r, &raw_cbs, 0, 0);
	fill(buf, sizeof(buf), 0);
	jg_pump_up(&r.p, buf, sizeof(buf));
	CU_ASSERT_EQUAL(r.st.credit, 0);
	ch = jg_link_open(r.gw, JG_OPEN_EXEC, "\x01\0\0\0\x03ls\0", 8, jg_pump_chan(&r.p));
	jg_pump_attach(&r.p, r.gw, (uint32_t)ch, 0);
	CU_ASSERT_EQUAL(r.st.credit, 0); /* OPEN_OK not seen yet */
	r.ag.reading = 1;
	shuttle(&r);
	CU_ASSERT_EQUAL(r.st.credit, sizeof(buf));
	CU_ASSERT_TRUE(check(r.ag.got, sizeof(buf)));
	rig_down(&r);
}

/* Half-close up: EOF goes only after the queued bytes; the down side stays open. */
static void test_half_close_up(void)
{
	struct rig r;
	size_t total = WIN + 5000;
	uint8_t *buf = malloc(total);
	uint8_t down[100] = {1};

	rig_up(&r, &raw_cbs, 0, 1);
	fill(buf, total, 0);
	jg_pump_up(&r.p, buf, total);
	jg_pump_up_end(&r.p);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.ag.eof, 0); /* 5000 bytes still wait for window */
	r.ag.reading = 1;
	CU_ASSERT_EQUAL(jg_link_consumed(r.ag.l, r.ag.ch, WIN), 0);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.ag.eof, 1);
	CU_ASSERT_TRUE(check(r.ag.got, total));
	/* Bytes after the end are credited and dropped. */
	jg_pump_up(&r.p, buf, 10);
	CU_ASSERT_EQUAL(r.st.credit, total + 10);
	/* The other direction still flows. */
	jg_pump_down_open(&r.p);
	CU_ASSERT_EQUAL(jg_link_send_data(r.ag.l, r.ag.ch, 0, down, sizeof(down)), 100);
	shuttle(&r);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.st.body), 100);
	free(buf);
	rig_down(&r);
}

/* Down: channel credit goes back only as the stream's consumer takes the bytes; a
 * controller that stops reading holds the pump at one channel window. */
static void test_down_credit_follows_sent(void)
{
	struct rig r;
	size_t total = 2 * WIN, off = 0;
	uint8_t *buf = malloc(total);
	int64_t n;

	rig_up(&r, &raw_cbs, 0, 1);
	jg_pump_down_open(&r.p);
	fill(buf, total, 0);
	while (off < total &&
	       (n = jg_link_send_data(r.ag.l, r.ag.ch, 0, buf + off, total - off)) > 0) {
		off += (size_t)n;
		shuttle(&r);
	}
	CU_ASSERT_EQUAL(off, WIN);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.st.body), WIN);
	/* The client reads half: that much window returns to the agent. */
	jg_pump_sent(&r.p, WIN / 2);
	shuttle(&r);
	CU_ASSERT(r.ag.writable > 0);
	CU_ASSERT_EQUAL(jg_link_window(r.ag.l, r.ag.ch), WIN / 2);
	CU_ASSERT_EQUAL(r.p.owed, WIN / 2);
	/* More "sent" than owed (framing overhead) credits no more than owed. */
	jg_pump_sent(&r.p, 10 * WIN);
	shuttle(&r);
	CU_ASSERT_EQUAL(jg_link_window(r.ag.l, r.ag.ch), WIN);
	CU_ASSERT_EQUAL(r.p.owed, 0);
	n = jg_link_send_data(r.ag.l, r.ag.ch, 0, buf + off, total - off);
	CU_ASSERT_EQUAL(n, WIN);
	shuttle(&r);
	CU_ASSERT_TRUE(check(r.st.body, total));
	free(buf);
	rig_down(&r);
}

/* Raw DATA before the op opened its down side is dropped and credited at once;
 * framed mode hands DATA and EOF to the op. */
static void test_down_drop_and_framed(void)
{
	struct rig r;
	uint8_t buf[4096] = {0};

	rig_up(&r, &raw_cbs, 0, 1);
	CU_ASSERT_EQUAL(jg_link_send_data(r.ag.l, r.ag.ch, 0, buf, sizeof(buf)), 4096);
	shuttle(&r);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.st.body), 0);
	/* Window back in full (at the link's threshold or at once). */
	CU_ASSERT_EQUAL(jg_link_send_eof(r.ag.l, r.ag.ch, 0), 0);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.op.frames[JG_FRAME_EOF], 1); /* half-close down, raw mode */
	rig_down(&r);

	rig_up(&r, &framed_cbs, 0, 1);
	r.op.keep = 1;
	CU_ASSERT_EQUAL(jg_link_send_data(r.ag.l, r.ag.ch, 0, buf, sizeof(buf)), 4096);
	CU_ASSERT_EQUAL(jg_link_send_eof(r.ag.l, r.ag.ch, 0), 0);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.op.framed_bytes, 4096);
	CU_ASSERT_EQUAL(r.op.framed_eof, 1);
	CU_ASSERT_EQUAL(r.op.frames[JG_FRAME_EOF], 0);
	CU_ASSERT_EQUAL(jg_link_window(r.ag.l, r.ag.ch), WIN - 4096);
	jg_pump_sent(&r.p, 4096);
	shuttle(&r);
	rig_down(&r);
}

/* Reset: abandon sends CLOSE once, the pump is gone, later up bytes are credited and
 * never sent; EXIT and a failed link make it gone too. */
static void test_abandon_exit_dead(void)
{
	struct rig r;
	uint8_t buf[100] = {0};

	rig_up(&r, &raw_cbs, 0, 1);
	jg_pump_abandon(&r.p);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.ag.closed, 1);
	CU_ASSERT_PTR_NULL(jg_pump_link(&r.p));
	jg_pump_up(&r.p, buf, sizeof(buf));
	jg_pump_abandon(&r.p);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.ag.closed, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.ag.got), 0);
	CU_ASSERT_EQUAL(r.st.credit, sizeof(buf));
	rig_down(&r);

	rig_up(&r, &raw_cbs, 0, 1);
	CU_ASSERT_EQUAL(jg_link_send_exit(r.ag.l, r.ag.ch, 0, 0), 0);
	shuttle(&r);
	CU_ASSERT_EQUAL(r.op.frames[JG_FRAME_EXIT], 1);
	CU_ASSERT_PTR_NULL(jg_pump_link(&r.p));
	jg_pump_sent(&r.p, 100); /* nothing to credit on a forgotten channel */
	rig_down(&r);		 /* clear: no CLOSE for a channel that ended */

	rig_up(&r, &raw_cbs, 0, 1);
	jg_link_fail(r.gw, "agent went away");
	CU_ASSERT_EQUAL(r.op.dead, 1);
	CU_ASSERT_EQUAL(r.op.link_lost, 1);
	CU_ASSERT_PTR_NULL(jg_pump_link(&r.p));
	rig_down(&r);
}

/* PUT channels send DATA before OPEN_OK (early), within the window. */
static void test_early_data(void)
{
	struct rig r;
	uint8_t buf[3000];
	int64_t ch;

	rig_up(&r, &raw_cbs, 1, 0);
	r.ag.reading = 1;
	fill(buf, sizeof(buf), 0);
	ch = jg_link_open(r.gw, JG_OPEN_EXEC, "\x01\0\0\0\x03ls\0", 8, jg_pump_chan(&r.p));
	jg_pump_attach(&r.p, r.gw, (uint32_t)ch, 1);
	jg_pump_up(&r.p, buf, sizeof(buf));
	CU_ASSERT_EQUAL(r.st.credit, sizeof(buf)); /* taken before any answer */
	jg_pump_up_end(&r.p);
	shuttle(&r);
	CU_ASSERT_TRUE(check(r.ag.got, sizeof(buf)));
	CU_ASSERT_EQUAL(r.ag.eof, 1);
	rig_down(&r);
}

/* A shared body source (fan-out): offer takes what the window allows, queues and
 * credits nothing; on_writable says when more fits; nothing after the end. */
static int writable_calls;

static void op_writable(void *ud)
{
	writable_calls++;
}

static const struct jg_pump_cbs offer_cbs = {
    .on_down = op_down, .on_frame = op_frame, .on_dead = op_dead, .on_writable = op_writable};

static void test_offer_shared_source(void)
{
	struct rig r;
	size_t total = WIN + 1000;
	uint8_t *buf = malloc(total);

	rig_up(&r, &offer_cbs, 1, 1);
	fill(buf, total, 0);
	CU_ASSERT_EQUAL(jg_pump_window(&r.p), WIN);
	CU_ASSERT_EQUAL(jg_pump_offer(&r.p, buf, total), WIN);
	CU_ASSERT_EQUAL(jg_pump_offer(&r.p, buf + WIN, 1000), 0);
	CU_ASSERT_EQUAL(jg_pump_queued(&r.p), 0);
	CU_ASSERT_EQUAL(r.st.credit, 0); /* the owner credits its stream */
	shuttle(&r);
	writable_calls = 0;
	CU_ASSERT_EQUAL(jg_link_consumed(r.ag.l, r.ag.ch, WIN), 0);
	shuttle(&r);
	CU_ASSERT_EQUAL(writable_calls, 1);
	CU_ASSERT_EQUAL(jg_pump_offer(&r.p, buf + WIN, 1000), 1000);
	jg_pump_up_end(&r.p);
	CU_ASSERT_EQUAL(jg_pump_window(&r.p), 0);
	CU_ASSERT_EQUAL(jg_pump_offer(&r.p, buf, 1), 0);
	shuttle(&r);
	CU_ASSERT_TRUE(check(r.ag.got, total));
	CU_ASSERT_EQUAL(r.ag.eof, 1);
	free(buf);
	rig_down(&r);
}

int jg_test_register_pump(void)
{
	CU_pSuite s = CU_add_suite("pump", NULL, NULL);

	if (s == NULL)
		return -1;
	CU_add_test(s, "up credit follows the channel window", test_up_credit_follows_window);
	CU_add_test(s, "up bytes wait for OPEN_OK", test_up_waits_for_open);
	CU_add_test(s, "half-close up after the queue", test_half_close_up);
	CU_add_test(s, "down credit follows what is sent", test_down_credit_follows_sent);
	CU_add_test(s, "down drop and framed mode", test_down_drop_and_framed);
	CU_add_test(s, "abandon, exit, dead link", test_abandon_exit_dead);
	CU_add_test(s, "early data (PUT)", test_early_data);
	CU_add_test(s, "offer from a shared source", test_offer_shared_source);
	return 0;
}
