/* Tests for h2/client.c: the shared HTTP/2 client against an nghttp2 server session,
 * bytes carried between them through two evbuffers (no sockets, no event loop). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "h2/client.h"
#include "relay/err.h"
#include "tests/unit/suites.h"

#define BIG (1024 * 1024 + 12345) /* a body many windows long */
#define SMALL_WINDOW 65535	  /* the server's and the slow reader's stream window */

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i % 251 + i / 65536);
}

/* The server peer and the client, wired back to back. */
struct tpeer {
	nghttp2_session *srv;
	struct jg_h2client *cl;
	struct evbuffer *c2s, *s2c;
	/* what the server does */
	int manual_srv_window; /* consume request bytes only in check_window's steps */
	int answer;	       /* respond 200 to a complete request */
	size_t resp_len;       /* ... with a body this long */
	size_t resp_off;
	int reset_request;    /* reset each request on its HEADERS (CANCEL) */
	int32_t srv_stream;   /* the last request's stream */
	struct evbuffer *got; /* request body bytes the server received */
	int got_end;	      /* the request ended (END_STREAM) */
	/* what the client saw */
	int settings, goaways;
	uint32_t goaway_code;
	char goaway_data[64];
	int in_send_test;    /* want_send calls jg_h2client_send itself */
	size_t nested_sends; /* jg_h2client_send called from inside a body callback */
	int inside_taken;    /* in body_taken */
};

/* One client stream's view. */
struct tstream {
	struct tpeer *p;
	int32_t id;
	int status;
	struct evbuffer *resp;	   /* response body received */
	struct evbuffer *queue;	   /* the request body, for body_queue streams */
	size_t body_len, body_off; /* the request body: BODY_LEN pattern bytes */
	size_t refill;		   /* body_queue streams: bytes added per refill */
	int closed, ended, headers_ended;
	uint32_t close_code;
};

/* ---------------------------------------------------------------- the server */

static ssize_t srv_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct tpeer *p = ud;

	evbuffer_add(p->s2c, data, len);
	return (ssize_t)len;
}

static ssize_t srv_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *ud)
{
	struct tpeer *p = ud;
	size_t n = p->resp_len - p->resp_off < len ? p->resp_len - p->resp_off : len;

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(p->resp_off + i);
	p->resp_off += n;
	if (p->resp_off == p->resp_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void srv_respond(struct tpeer *p, int32_t id)
{
	nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE};
	nghttp2_data_provider prd = {.read_callback = srv_body};

	p->resp_off = 0;
	CU_ASSERT_EQUAL(nghttp2_submit_response(p->srv, id, &nv, 1, p->resp_len > 0 ? &prd : NULL),
			0);
}

static int srv_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct tpeer *p = ud;

	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		p->srv_stream = f->hd.stream_id;
		if (p->reset_request)
			nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
						  NGHTTP2_CANCEL);
	}
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		p->got_end = 1;
		if (p->answer)
			srv_respond(p, f->hd.stream_id);
	}
	return 0;
}

static int srv_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		    void *ud)
{
	struct tpeer *p = ud;

	evbuffer_add(p->got, data, len);
	return 0;
}

static void srv_new(struct tpeer *p)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
	    {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
	};

	CU_ASSERT_EQUAL_FATAL(nghttp2_session_callbacks_new(&cbs), 0);
	nghttp2_session_callbacks_set_send_callback(cbs, srv_send);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, srv_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, srv_data);
	CU_ASSERT_EQUAL_FATAL(nghttp2_option_new(&opt), 0);
	nghttp2_option_set_no_auto_window_update(opt, p->manual_srv_window);
	CU_ASSERT_EQUAL_FATAL(nghttp2_session_server_new2(&p->srv, cbs, p, opt), 0);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	CU_ASSERT_EQUAL(nghttp2_submit_settings(p->srv, NGHTTP2_FLAG_NONE, iv, 2), 0);
}

/* ---------------------------------------------------------------- the client's owner */

static void cl_want_send(void *arg)
{
	struct tpeer *p = arg;
	size_t before = evbuffer_get_length(p->c2s);

	if (!p->in_send_test)
		return; /* pump() sends */
	/* As client/conn.c does: send at once, even from inside a body callback. */
	CU_ASSERT_EQUAL(jg_h2client_send(p->cl), 0);
	if (p->inside_taken) {
		/* Not re-entered: nothing was written by the nested call. */
		CU_ASSERT_EQUAL(evbuffer_get_length(p->c2s), before);
		p->nested_sends++;
	}
}

static void cl_settings(void *arg)
{
	((struct tpeer *)arg)->settings++;
}

static void cl_goaway(void *arg, uint32_t code, const uint8_t *data, size_t len)
{
	struct tpeer *p = arg;

	p->goaways++;
	p->goaway_code = code;
	snprintf(p->goaway_data, sizeof(p->goaway_data), "%.*s", (int)len, (const char *)data);
}

static const struct jg_h2client_cbs cl_cbs = {
    .want_send = cl_want_send,
    .settings = cl_settings,
    .goaway = cl_goaway,
};

static void peer_init(struct tpeer *p, int manual_window, uint32_t stream_window)
{
	struct jg_h2client_config cfg = {
	    .scheme = "http",
	    .authority = "localhost",
	    .max_streams = 100,
	    .stream_window = stream_window,
	    .session_window = 8 * 1024 * 1024,
	    .max_frame = 16384,
	    .out_high = 64 * 1024,
	    .manual_window = manual_window,
	    .cbs = &cl_cbs,
	    .arg = p,
	};
	int err = 1;

	p->c2s = evbuffer_new();
	p->s2c = evbuffer_new();
	p->got = evbuffer_new();
	cfg.out = p->c2s;
	srv_new(p);
	p->cl = jg_h2client_new(&cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->cl);
	CU_ASSERT_EQUAL(err, 0);
}

static void peer_free(struct tpeer *p)
{
	jg_h2client_free(p->cl);
	nghttp2_session_del(p->srv);
	evbuffer_free(p->c2s);
	evbuffer_free(p->s2c);
	evbuffer_free(p->got);
}

/* Carry bytes both ways until neither side has anything more to say. */
static void pump(struct tpeer *p)
{
	for (int rounds = 0; rounds < 100000; rounds++) {
		size_t moved = 0, len;

		CU_ASSERT_EQUAL_FATAL(jg_h2client_send(p->cl), 0);
		while ((len = evbuffer_get_length(p->c2s)) > 0) {
			CU_ASSERT_EQUAL_FATAL(
			    nghttp2_session_mem_recv(p->srv, evbuffer_pullup(p->c2s, -1), len),
			    (ssize_t)len);
			evbuffer_drain(p->c2s, len);
			moved += len;
			CU_ASSERT_EQUAL_FATAL(jg_h2client_send(p->cl), 0);
		}
		CU_ASSERT_EQUAL_FATAL(nghttp2_session_send(p->srv), 0);
		if ((len = evbuffer_get_length(p->s2c)) > 0) {
			CU_ASSERT_EQUAL_FATAL(
			    jg_h2client_recv(p->cl, evbuffer_pullup(p->s2c, -1), len), 0);
			evbuffer_drain(p->s2c, len);
			moved += len;
		}
		if (moved == 0)
			return;
	}
	CU_FAIL("the peers never went quiet");
}

/* ---------------------------------------------------------------- a client stream */

static int ts_header(void *arg, const char *name, const char *value)
{
	struct tstream *t = arg;

	if (strcmp(name, ":status") == 0)
		t->status = atoi(value);
	return 0;
}

static int ts_data(void *arg, const uint8_t *data, size_t len)
{
	struct tstream *t = arg;

	evbuffer_add(t->resp, data, len);
	return 0;
}

static ssize_t ts_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct tstream *t = arg;
	size_t n = t->body_len - t->body_off < len ? t->body_len - t->body_off : len;

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(t->body_off + i);
	t->body_off += n;
	*eof = t->body_off == t->body_len;
	return (ssize_t)n;
}

/* Add the next REFILL pattern bytes of the body to the queue. */
static void ts_refill(struct tstream *t)
{
	size_t n = t->body_len - t->body_off < t->refill ? t->body_len - t->body_off : t->refill;
	uint8_t *chunk = malloc(n > 0 ? n : 1);

	for (size_t i = 0; i < n; i++)
		chunk[i] = pattern(t->body_off + i);
	evbuffer_add(t->queue, chunk, n);
	t->body_off += n;
	free(chunk);
}

static struct evbuffer *ts_queue(void *arg, int *eof)
{
	struct tstream *t = arg;

	*eof = t->body_off == t->body_len;
	return t->queue;
}

/* The queue drained into a frame: refill it and resume the stream from inside
 * nghttp2_session_send, as the rsync relay of the persistent client does. */
static void ts_taken(void *arg)
{
	struct tstream *t = arg;

	if (evbuffer_get_length(t->queue) > 0 || t->body_off == t->body_len)
		return;
	ts_refill(t);
	t->p->inside_taken = 1;
	jg_h2client_resume(t->p->cl, t->id);
	t->p->inside_taken = 0;
}

static void ts_close(void *arg, uint32_t code)
{
	struct tstream *t = arg;

	t->closed++;
	t->close_code = code;
}

static void ts_frame_end(void *arg, int headers, int end_stream)
{
	struct tstream *t = arg;

	if (headers == JG_H2CLIENT_HEADERS)
		t->headers_ended++;
	if (end_stream)
		t->ended++;
}

static const struct jg_h2client_stream_cbs copy_cbs = {
    .header = ts_header,
    .data = ts_data,
    .body = ts_body,
    .close = ts_close,
    .frame_end = ts_frame_end,
};

static const struct jg_h2client_stream_cbs queue_cbs = {
    .header = ts_header,
    .data = ts_data,
    .body = ts_body,
    .body_queue = ts_queue,
    .body_taken = ts_taken,
    .close = ts_close,
    .frame_end = ts_frame_end,
};

static const struct jg_h2client_stream_cbs nobody_cbs = {
    .header = ts_header,
    .data = ts_data,
    .close = ts_close,
    .frame_end = ts_frame_end,
};

static void ts_init(struct tstream *t, struct tpeer *p, size_t body_len)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->resp = evbuffer_new();
	t->queue = evbuffer_new();
	t->body_len = body_len;
}

static void ts_free(struct tstream *t)
{
	evbuffer_free(t->resp);
	evbuffer_free(t->queue);
}

/* BUF holds LEN pattern bytes from offset 0. */
static int is_pattern(struct evbuffer *buf, size_t len)
{
	const uint8_t *b;

	if (evbuffer_get_length(buf) != len)
		return 0;
	b = evbuffer_pullup(buf, -1);
	for (size_t i = 0; i < len; i++)
		if (b[i] != pattern(i))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- the tests */

/* A request body of many windows: never more in flight than the server's window, and
 * every byte arrives, in order, as the server gives credit back.  Once copied, once
 * zero-copy from a queue. */
static void body_beyond_window(const struct jg_h2client_stream_cbs *cbs)
{
	struct tpeer p = {.manual_srv_window = 1, .answer = 1};
	struct tstream t;
	size_t credited = 0;

	peer_init(&p, 0, 1024 * 1024);
	ts_init(&t, &p, BIG);
	if (cbs->body_queue != NULL) {
		t.refill = 100000;
		ts_refill(&t);
	}
	t.id = jg_h2client_submit(p.cl, "PUT", NULL, "/up", NULL, 0, 0, cbs, &t);
	CU_ASSERT_FATAL(t.id > 0);
	pump(&p);
	CU_ASSERT_EQUAL(p.settings, 1);
	/* The server's initial windows (65535) stop the client, and nothing more comes. */
	CU_ASSERT_EQUAL(evbuffer_get_length(p.got), SMALL_WINDOW);
	pump(&p);
	CU_ASSERT_EQUAL(evbuffer_get_length(p.got), SMALL_WINDOW);
	while (!p.got_end) {
		size_t have = evbuffer_get_length(p.got);

		/* In flight: at most one window beyond what the server gave back. */
		CU_ASSERT_FATAL(have - credited <= SMALL_WINDOW);
		CU_ASSERT_FATAL(have > credited);
		nghttp2_session_consume(p.srv, p.srv_stream, have - credited);
		credited = have;
		pump(&p);
	}
	CU_ASSERT(is_pattern(p.got, BIG));
	CU_ASSERT_EQUAL(t.status, 200);
	CU_ASSERT_EQUAL(t.closed, 1);
	CU_ASSERT_EQUAL(t.close_code, 0);
	ts_free(&t);
	peer_free(&p);
}

static void test_h2client_body_beyond_window_arrives_in_order(void)
{
	body_beyond_window(&copy_cbs);
}

static void test_h2client_queue_body_beyond_window_arrives_in_order(void)
{
	body_beyond_window(&queue_cbs);
}

/* manual_window: the server may send only what the client consumed, plus one window. */
static void test_h2client_slow_reader_gets_credit_as_consumed(void)
{
	struct tpeer p = {.answer = 1, .resp_len = BIG};
	struct tstream t;
	size_t consumed = 0;

	peer_init(&p, 1, SMALL_WINDOW);
	ts_init(&t, &p, 0);
	t.id = jg_h2client_submit(p.cl, "GET", NULL, "/down", NULL, 0, 0, &nobody_cbs, &t);
	CU_ASSERT_FATAL(t.id > 0);
	pump(&p);
	CU_ASSERT_EQUAL(t.status, 200);
	CU_ASSERT_EQUAL(t.headers_ended, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(t.resp), SMALL_WINDOW);
	/* A little consumed: not yet worth a WINDOW_UPDATE, so nothing more arrives. */
	jg_h2client_consume(p.cl, t.id, 1000);
	consumed = 1000;
	pump(&p);
	CU_ASSERT_EQUAL(evbuffer_get_length(t.resp), SMALL_WINDOW);
	while (!t.ended) {
		size_t have = evbuffer_get_length(t.resp);

		CU_ASSERT_FATAL(have - consumed <= SMALL_WINDOW);
		CU_ASSERT_FATAL(have > consumed);
		jg_h2client_consume(p.cl, t.id, have - consumed);
		consumed = have;
		pump(&p);
	}
	CU_ASSERT(is_pattern(t.resp, BIG));
	CU_ASSERT_EQUAL(t.closed, 1);
	CU_ASSERT_EQUAL(t.close_code, 0);
	ts_free(&t);
	peer_free(&p);
}

/* The server resets the stream: its close reports the code, once; the session goes on. */
static void test_h2client_reset_by_peer_closes_stream_with_code(void)
{
	struct tpeer p = {.reset_request = 1};
	struct tstream t, u;

	peer_init(&p, 0, SMALL_WINDOW);
	ts_init(&t, &p, 100000);
	t.id = jg_h2client_submit(p.cl, "PUT", NULL, "/x", NULL, 0, 0, &copy_cbs, &t);
	CU_ASSERT_FATAL(t.id > 0);
	pump(&p);
	CU_ASSERT_EQUAL(t.closed, 1);
	CU_ASSERT_EQUAL(t.close_code, NGHTTP2_CANCEL);
	CU_ASSERT_EQUAL(t.status, 0);
	CU_ASSERT(jg_h2client_alive(p.cl));
	/* The next stream works. */
	p.reset_request = 0;
	p.answer = 1;
	p.resp_len = 10;
	ts_init(&u, &p, 5);
	u.id = jg_h2client_submit(p.cl, "PUT", NULL, "/y", NULL, 0, 0, &copy_cbs, &u);
	CU_ASSERT_FATAL(u.id > t.id);
	pump(&p);
	CU_ASSERT_EQUAL(u.status, 200);
	CU_ASSERT(is_pattern(u.resp, 10));
	CU_ASSERT_EQUAL(u.closed, 1);
	CU_ASSERT_EQUAL(u.close_code, 0);
	ts_free(&t);
	ts_free(&u);
	peer_free(&p);
}

/* GOAWAY: reported with its code and debug data; a request after it is refused. */
static void test_h2client_goaway_reported_and_new_streams_refused(void)
{
	struct tpeer p = {.answer = 1};
	struct tstream t;
	int32_t id;

	peer_init(&p, 0, SMALL_WINDOW);
	pump(&p);
	CU_ASSERT_EQUAL(p.settings, 1);
	CU_ASSERT(jg_h2client_heard_settings(p.cl));
	CU_ASSERT_EQUAL(jg_h2client_can_connect(p.cl), 1);
	CU_ASSERT_EQUAL(nghttp2_submit_goaway(p.srv, NGHTTP2_FLAG_NONE, 0, NGHTTP2_INTERNAL_ERROR,
					      (const uint8_t *)"bye", 3),
			0);
	pump(&p);
	CU_ASSERT_EQUAL(p.goaways, 1);
	CU_ASSERT_EQUAL(p.goaway_code, NGHTTP2_INTERNAL_ERROR);
	CU_ASSERT_STRING_EQUAL(p.goaway_data, "bye");
	ts_init(&t, &p, 0);
	id = jg_h2client_submit(p.cl, "GET", NULL, "/late", NULL, 0, 0, &nobody_cbs, &t);
	if (id > 0) {
		t.id = id;
		pump(&p);
		CU_ASSERT_EQUAL(t.closed, 1);
		CU_ASSERT_EQUAL(t.close_code, NGHTTP2_REFUSED_STREAM);
	} else {
		CU_ASSERT_EQUAL(id, JG_ERR_STATE);
	}
	CU_ASSERT_EQUAL(t.status, 0);
	CU_ASSERT_EQUAL(p.got_end, 0);
	ts_free(&t);
	peer_free(&p);
}

/* body_taken refills the queue and resumes the stream, whose want_send sends at once:
 * from inside nghttp2_session_send that must only ask for one more round, never send
 * (nghttp2 would offer the frame being sent twice).  Every byte arrives once, in order. */
static void test_h2client_refill_inside_send_is_not_reentered(void)
{
	struct tpeer p = {.answer = 1, .in_send_test = 1};
	struct tstream t;

	peer_init(&p, 0, SMALL_WINDOW);
	ts_init(&t, &p, 300000);
	t.refill = 7000;
	ts_refill(&t);
	t.id = jg_h2client_submit(p.cl, "PUT", NULL, "/refill", NULL, 0, 0, &queue_cbs, &t);
	CU_ASSERT_FATAL(t.id > 0);
	pump(&p);
	CU_ASSERT(p.nested_sends > 10);
	CU_ASSERT(is_pattern(p.got, 300000));
	CU_ASSERT_EQUAL(p.got_end, 1);
	CU_ASSERT_EQUAL(t.status, 200);
	CU_ASSERT_EQUAL(t.closed, 1);
	CU_ASSERT_EQUAL(t.close_code, 0);
	ts_free(&t);
	peer_free(&p);
}

int jg_test_register_h2client(void)
{
	CU_pSuite s = CU_add_suite("h2client", NULL, NULL);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "body beyond the window arrives in order",
			test_h2client_body_beyond_window_arrives_in_order) == NULL ||
	    CU_add_test(s, "queue body beyond the window arrives in order",
			test_h2client_queue_body_beyond_window_arrives_in_order) == NULL ||
	    CU_add_test(s, "slow reader gets credit as consumed",
			test_h2client_slow_reader_gets_credit_as_consumed) == NULL ||
	    CU_add_test(s, "reset by peer closes the stream with its code",
			test_h2client_reset_by_peer_closes_stream_with_code) == NULL ||
	    CU_add_test(s, "GOAWAY reported, new streams refused",
			test_h2client_goaway_reported_and_new_streams_refused) == NULL ||
	    CU_add_test(s, "refill inside send is not re-entered",
			test_h2client_refill_inside_send_is_not_reentered) == NULL)
		return -1;
	return 0;
}
