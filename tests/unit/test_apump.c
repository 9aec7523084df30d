/* Tests for the agent's channel <-> fd pump (agent/pump.c): a gateway-side OPENER
 * link and the agent-side ACCEPTOR link wired in memory (no gateway, no agent
 * process), the pump on real pipes, socketpairs, a pty and a regular file. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/spawn.h"
#include "tests/unit/suites.h"

#define MIB (1u << 20)

/* The gateway end (OPENER) and the agent end (ACCEPTOR) of one link, one channel. */
struct rig {
	struct event_base *base;
	struct jg_link *gw, *ag;
	struct jg_apump_host host;
	struct jg_apump *p;
	uint32_t ch;
	int gw_consumes;	    /* the gateway returns credit for DATA it gets */
	struct evbuffer *out, *err; /* DATA the gateway got, by stream */
	int out_eof, err_eof;
	int events[4]; /* by enum jg_apump_event */
	int last_err;
	size_t tapped;
	int free_on_in_done;
};

static void gw_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct rig *r = ud;

	if (f->type == JG_FRAME_DATA) {
		evbuffer_add(f->flags ? r->err : r->out, f->payload, f->length);
		if (r->gw_consumes)
			jg_link_consumed(l, ch, f->length);
	}
	if (f->type == JG_FRAME_EOF)
		*(f->flags ? &r->err_eof : &r->out_eof) = 1;
}

static void ag_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct rig *r = ud;

	r->ch = ch;
	CU_ASSERT_EQUAL(jg_link_accept(l, ch, r), 0);
}

static void ag_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	struct rig *r = ud;

	if (r->p != NULL)
		jg_apump_frame(r->p, f);
}

static void ag_writable(struct jg_link *l, uint32_t ch, void *cud, void *ud)
{
	struct rig *r = ud;

	if (r->p != NULL)
		jg_apump_writable(r->p);
}

static void pump_cb(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which, int err,
		    void *ud)
{
	struct rig *r = ud;

	r->events[ev]++;
	r->last_err = err;
	if (ev == JG_APUMP_IN_DONE && r->free_on_in_done) {
		jg_apump_free(p);
		r->p = NULL;
	}
}

static void tap(const void *data, size_t len, void *ud)
{
	((struct rig *)ud)->tapped += len;
}

/* Move what each link queued to the other, once.  With AG_TOO 0 the agent's output
 * stays where it is (a gateway that stopped reading the transport). */
static void shuttle(struct rig *r, int ag_too)
{
	struct evbuffer *o;
	size_t n;

	o = jg_link_output(r->gw);
	if ((n = evbuffer_get_length(o)) > 0) {
		CU_ASSERT_EQUAL(jg_link_feed(r->ag, evbuffer_pullup(o, -1), n), 0);
		evbuffer_drain(o, n);
	}
	o = jg_link_output(r->ag);
	if (ag_too && (n = evbuffer_get_length(o)) > 0) {
		CU_ASSERT_EQUAL(jg_link_feed(r->gw, evbuffer_pullup(o, -1), n), 0);
		evbuffer_drain(o, n);
		jg_apump_host_resume(&r->host);
	}
}

/* Run the loop and the links for a while (ROUNDS non-blocking loop passes). */
static void spin(struct rig *r, int rounds, int ag_too)
{
	for (int i = 0; i < rounds; i++) {
		shuttle(r, ag_too);
		event_base_loop(r->base, EVLOOP_NONBLOCK);
		shuttle(r, ag_too);
	}
}

static void rig_init(struct rig *r, size_t high)
{
	static const struct jg_link_cbs gcb = {.on_frame = gw_frame};
	static const struct jg_link_cbs acb = {
	    .on_open = ag_open, .on_frame = ag_frame, .on_writable = ag_writable};

	memset(r, 0, sizeof(*r));
	signal(SIGPIPE, SIG_IGN);
	r->base = event_base_new();
	r->gw = jg_link_new(JG_LINK_OPENER, &gcb, r);
	r->ag = jg_link_new(JG_LINK_ACCEPTOR, &acb, r);
	CU_ASSERT_FATAL(r->base != NULL && r->gw != NULL && r->ag != NULL);
	r->out = evbuffer_new();
	r->err = evbuffer_new();
	r->gw_consumes = 1;
	jg_link_send_hello(r->gw, "gw");
	jg_link_send_hello(r->ag, "ag");
	shuttle(r, 1);
	shuttle(r, 1);
	CU_ASSERT_FATAL(jg_link_open(r->gw, JG_OPEN_EXEC, "x", 1, NULL) > 0);
	shuttle(r, 1);
	CU_ASSERT_FATAL(r->ch > 0);
	jg_apump_host_init(&r->host, r->base, r->ag, high);
}

static void rig_pump(struct rig *r, int in, int out, int errfd, enum jg_apump_in_end end,
		     unsigned flags)
{
	struct jg_apump_opts o = {.fd = {in, out, errfd},
				  .in_end = end,
				  .flags = flags,
				  .cb = pump_cb,
				  .tap = tap,
				  .ud = r};

	r->p = jg_apump_new(&r->host, r->ch, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->p);
	jg_apump_start(r->p);
}

static void rig_free(struct rig *r)
{
	jg_apump_free(r->p);
	jg_link_free(r->gw);
	jg_link_free(r->ag);
	evbuffer_free(r->out);
	evbuffer_free(r->err);
	event_base_free(r->base);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Write LEN bytes of a pattern starting at OFF to FD (non-blocking): bytes written. */
static size_t put_pattern(int fd, size_t off, size_t len)
{
	uint8_t buf[65536];
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		size_t k = len - done < sizeof(buf) ? len - done : sizeof(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = (uint8_t)((off + done + i) * 7 + (off + done + i) / 251);
		if ((n = write(fd, buf, k)) <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static int is_pattern(struct evbuffer *b, size_t len)
{
	const uint8_t *p = evbuffer_pullup(b, -1);

	if (evbuffer_get_length(b) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 7 + i / 251))
			return 0;
	return 1;
}

static size_t drain_fd(int fd)
{
	static uint8_t buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

/* Send TOTAL bytes from the gateway as credit allows, reading FD (if >= 0) as they
 * come: bytes sent.  A credit leak stalls it short of TOTAL. */
static size_t push_through(struct rig *r, int fd, size_t total)
{
	static uint8_t chunk[65536];
	size_t sent = 0;
	int64_t n;

	for (int i = 0; i < 20000 && sent < total; i++) {
		size_t want = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);

		if ((n = jg_link_send_data(r->gw, r->ch, 0, chunk, want)) > 0)
			sent += (size_t)n;
		spin(r, 1, 1);
		if (fd >= 0)
			drain_fd(fd);
	}
	return sent;
}

/* Reads stop at the channel's window and go on only as the gateway returns credit. */
static void test_pump_reads_stop_at_the_window(void)
{
	struct rig r;
	int pfd[2];
	size_t put = 0, total = 3 * MIB;

	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	r.gw_consumes = 0;
	rig_pump(&r, -1, pfd[0], -1, JG_APUMP_IN_CLOSE, 0);
	for (int i = 0; i < 200; i++) {
		put += put_pattern(pfd[1], put, total - put);
		spin(&r, 1, 1);
	}
	/* One window and no more, however much the pipe holds. */
	CU_ASSERT_EQUAL(evbuffer_get_length(r.out), JG_FRAME_DEFAULT_WINDOW);
	CU_ASSERT_EQUAL(jg_link_window(r.ag, r.ch), 0);
	CU_ASSERT(put > JG_FRAME_DEFAULT_WINDOW);
	/* Credit back: the rest flows, then EOF. */
	jg_link_consumed(r.gw, r.ch, evbuffer_get_length(r.out));
	r.gw_consumes = 1;
	for (int i = 0; i < 2000 && put < total; i++) {
		put += put_pattern(pfd[1], put, total - put);
		spin(&r, 1, 1);
	}
	close(pfd[1]);
	for (int i = 0; i < 200 && !r.out_eof; i++)
		spin(&r, 1, 1);
	CU_ASSERT(is_pattern(r.out, total));
	CU_ASSERT_EQUAL(r.out_eof, 1);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_OUT_EOF], 1);
	CU_ASSERT_EQUAL(jg_apump_reading(r.p), 0);
	CU_ASSERT_EQUAL(jg_apump_fd(r.p, JG_APUMP_OUT), -1);
	rig_free(&r);
}

/* The gateway's DATA is credited only as the fd takes it. */
static void test_pump_credit_only_for_bytes_written(void)
{
	static uint8_t data[JG_FRAME_DEFAULT_WINDOW];
	struct rig r;
	int sv[2], small = 16384;
	size_t got, in_fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	nonblock(sv[0]);
	nonblock(sv[1]);
	rig_pump(&r, sv[0], -1, -1, JG_APUMP_IN_CLOSE, 0);
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, 0, data, sizeof(data)), sizeof(data));
	spin(&r, 5, 1);
	/* The socket holds a little; the rest waits in the pump, uncredited. */
	in_fd = sizeof(data) - jg_apump_queued(r.p);
	CU_ASSERT(jg_apump_queued(r.p) > 0);
	CU_ASSERT(jg_link_window(r.gw, r.ch) <= in_fd);
	CU_ASSERT_EQUAL(r.tapped, sizeof(data));
	/* The reader takes it all: every byte's credit comes back. */
	got = 0;
	for (int i = 0; i < 2000 && got < sizeof(data); i++) {
		got += drain_fd(sv[1]);
		spin(&r, 1, 1);
	}
	CU_ASSERT_EQUAL(got, sizeof(data));
	CU_ASSERT_EQUAL(jg_apump_queued(r.p), 0);
	CU_ASSERT(jg_link_window(r.gw, r.ch) >= JG_FRAME_DEFAULT_WINDOW / 2);
	/* No credit lost: four more windows go through. */
	CU_ASSERT_EQUAL(push_through(&r, sv[1], 4 * MIB), 4 * MIB);
	close(sv[1]);
	rig_free(&r);
}

/* Gateway EOF: IN is closed once written, while OUT and ERR go on; then they end. */
static void test_pump_half_close_from_the_gateway(void)
{
	struct rig r;
	int in[2], out[2], err[2];
	char buf[64];

	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
			pipe2(err, O_CLOEXEC) == 0);
	nonblock(in[1]);
	nonblock(out[0]);
	nonblock(err[0]);
	rig_pump(&r, in[1], out[0], err[0], JG_APUMP_IN_CLOSE, 0);
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, 0, "hello", 5), 5);
	/* stderr-flagged DATA has nowhere to go here: dropped, credited. */
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, JG_DATA_STDERR, "zz", 2), 2);
	CU_ASSERT_EQUAL(jg_link_send_eof(r.gw, r.ch, 0), 0);
	spin(&r, 3, 1);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_IN_DONE], 1);
	CU_ASSERT_EQUAL(jg_apump_fd(r.p, JG_APUMP_IN), -1);
	CU_ASSERT_EQUAL(read(in[0], buf, sizeof(buf)), 5);
	CU_ASSERT_EQUAL(read(in[0], buf, sizeof(buf)), 0); /* the reader sees EOF */
	CU_ASSERT_EQUAL(r.tapped, 5);
	/* The other direction still flows. */
	CU_ASSERT_EQUAL(write(out[1], "out", 3), 3);
	CU_ASSERT_EQUAL(write(err[1], "err", 3), 3);
	spin(&r, 3, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.out), 3);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.err), 3);
	CU_ASSERT_EQUAL(jg_apump_reading(r.p), 2);
	close(out[1]);
	spin(&r, 3, 1);
	CU_ASSERT(r.out_eof && !r.err_eof);
	close(err[1]);
	spin(&r, 3, 1);
	CU_ASSERT(r.out_eof && r.err_eof);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_OUT_EOF], 2);
	CU_ASSERT_EQUAL(jg_apump_reading(r.p), 0);
	/* 7 bytes taken (5 written, 2 dropped): below half a window, no WINDOW frame yet. */
	CU_ASSERT_EQUAL(jg_link_window(r.gw, r.ch), JG_FRAME_DEFAULT_WINDOW - 7);
	close(in[0]);
	rig_free(&r);
}

/* A socket read and written (a tunnel): the far end's EOF goes to the gateway while
 * the gateway still writes; the gateway's EOF is a SHUT_WR the far end sees. */
static void test_pump_half_close_on_a_shared_socket(void)
{
	struct rig r;
	int sv[2];
	char buf[64];

	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	nonblock(sv[0]);
	rig_pump(&r, sv[0], sv[0], -1, JG_APUMP_IN_SHUTDOWN, 0);
	CU_ASSERT_EQUAL(write(sv[1], "up", 2), 2);
	CU_ASSERT_EQUAL(shutdown(sv[1], SHUT_WR), 0);
	spin(&r, 3, 1);
	CU_ASSERT(r.out_eof && evbuffer_get_length(r.out) == 2);
	/* Our reading side is done, the fd is still open for writing. */
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, 0, "down", 4), 4);
	CU_ASSERT_EQUAL(jg_link_send_eof(r.gw, r.ch, 0), 0);
	r.free_on_in_done = 1; /* the owner frees the pump from its callback */
	spin(&r, 3, 1);
	CU_ASSERT_PTR_NULL(r.p);
	CU_ASSERT_EQUAL(read(sv[1], buf, sizeof(buf)), 4);
	CU_ASSERT_EQUAL(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
	rig_free(&r);
}

/* A gateway that stops reading the transport: the agent's output stays near HIGH,
 * the pump is throttled, and resumes once the output drains. */
static void test_pump_output_stays_bounded_when_the_gateway_stops_reading(void)
{
	struct rig r;
	int pfd[2];
	size_t put = 0, total = 4 * MIB, high = 256 * 1024;

	rig_init(&r, high);
	CU_ASSERT_FATAL(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	rig_pump(&r, -1, pfd[0], -1, JG_APUMP_IN_CLOSE, 0);
	for (int i = 0; i < 100; i++) {
		put += put_pattern(pfd[1], put, total - put);
		spin(&r, 1, 0);
	}
	CU_ASSERT(evbuffer_get_length(jg_link_output(r.ag)) >= high);
	CU_ASSERT(evbuffer_get_length(jg_link_output(r.ag)) < high + 256 * 1024 + 64);
	CU_ASSERT_EQUAL(r.host.throttled, 1);
	CU_ASSERT(put < total); /* the writer is stalled, not buffered in us */
	for (int i = 0; i < 4000 && put < total; i++) {
		put += put_pattern(pfd[1], put, total - put);
		spin(&r, 1, 1);
	}
	close(pfd[1]);
	for (int i = 0; i < 200 && !r.out_eof; i++)
		spin(&r, 1, 1);
	CU_ASSERT(is_pattern(r.out, total));
	rig_free(&r);
}

/* A reader that went away: the queue is dropped, every byte credited, IN ended. */
static void test_pump_write_error_returns_credit(void)
{
	static uint8_t data[300000];
	struct rig r;
	int pfd[2];

	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	close(pfd[0]);
	rig_pump(&r, pfd[1], -1, -1, JG_APUMP_IN_CLOSE, 0);
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, 0, data, sizeof(data)), sizeof(data));
	spin(&r, 3, 1);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_WRITE_FAILED], 1);
	CU_ASSERT_EQUAL(r.last_err, EPIPE);
	CU_ASSERT_EQUAL(jg_apump_fd(r.p, JG_APUMP_IN), -1);
	/* Nothing written, yet no credit lost: four windows go through (into nowhere). */
	CU_ASSERT_EQUAL(push_through(&r, -1, 4 * MIB), 4 * MIB);
	/* A later EOF: nothing more reported. */
	CU_ASSERT_EQUAL(jg_link_send_eof(r.gw, r.ch, 0), 0);
	spin(&r, 3, 1);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_IN_DONE], 0);
	CU_ASSERT_PTR_NULL(jg_link_error(r.ag));
	rig_free(&r);
}

/* A pty master whose slave is gone reads EIO: a failure, or EOF when told so. */
static void test_pump_read_error_fails_or_is_eof(void)
{
	for (int as_eof = 0; as_eof < 2; as_eof++) {
		struct rig r;
		int m, s;

		rig_init(&r, 8 * MIB);
		CU_ASSERT_FATAL((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0);
		CU_ASSERT_FATAL(grantpt(m) == 0 && unlockpt(m) == 0);
		CU_ASSERT_FATAL((s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0);
		close(s);
		nonblock(m);
		rig_pump(&r, -1, m, -1, JG_APUMP_IN_CLOSE, as_eof ? JG_APUMP_READ_ERROR_IS_EOF : 0);
		spin(&r, 3, 1);
		CU_ASSERT_EQUAL(r.last_err, EIO);
		CU_ASSERT_EQUAL(r.events[JG_APUMP_READ_FAILED], !as_eof);
		CU_ASSERT_EQUAL(r.events[JG_APUMP_OUT_EOF], as_eof);
		CU_ASSERT_EQUAL(r.out_eof,
				as_eof); /* a failure sends nothing: the owner says DEAD */
		CU_ASSERT_EQUAL(jg_apump_fd(r.p, JG_APUMP_OUT), -1);
		rig_free(&r);
	}
}

/* A regular file (GET) is read without events, window by window, to its EOF. */
static void test_pump_reads_a_regular_file_by_windows(void)
{
	char path[] = "/tmp/jgpumpXXXXXX";
	size_t total = 3 * MIB + 12345;
	struct rig r;
	int w;

	CU_ASSERT_FATAL((w = mkstemp(path)) >= 0);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(put_pattern(w, 0, total), total);
	lseek(w, 0, SEEK_SET);
	rig_init(&r, 8 * MIB);
	r.gw_consumes = 0;
	rig_pump(&r, -1, w, -1, JG_APUMP_IN_CLOSE, 0);
	/* Read at start, up to the window. */
	CU_ASSERT_EQUAL(evbuffer_get_length(jg_link_output(r.ag)) > JG_FRAME_DEFAULT_WINDOW, 1);
	spin(&r, 2, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(r.out), JG_FRAME_DEFAULT_WINDOW);
	r.gw_consumes = 1;
	jg_link_consumed(r.gw, r.ch, JG_FRAME_DEFAULT_WINDOW);
	for (int i = 0; i < 50 && !r.out_eof; i++)
		spin(&r, 1, 1);
	CU_ASSERT(is_pattern(r.out, total));
	CU_ASSERT_EQUAL(r.events[JG_APUMP_OUT_EOF], 1);
	rig_free(&r);
}

/* A PUT's temp file: written as DATA comes, tapped, and kept open at EOF. */
static void test_pump_writes_a_kept_regular_file(void)
{
	char path[] = "/tmp/jgpumpXXXXXX";
	size_t total = 3 * MIB + 777;
	struct rig r;
	int w;

	CU_ASSERT_FATAL((w = mkstemp(path)) >= 0);
	unlink(path);
	rig_init(&r, 8 * MIB);
	rig_pump(&r, w, -1, -1, JG_APUMP_IN_KEEP, 0);
	CU_ASSERT_EQUAL(push_through(&r, -1, total), total);
	CU_ASSERT_EQUAL(jg_link_send_eof(r.gw, r.ch, 0), 0);
	spin(&r, 2, 1);
	CU_ASSERT_EQUAL(r.events[JG_APUMP_IN_DONE], 1);
	CU_ASSERT_EQUAL(r.tapped, total);
	CU_ASSERT_EQUAL(jg_apump_fd(r.p, JG_APUMP_IN), -1);
	CU_ASSERT_EQUAL(fcntl(w, F_GETFD) >= 0, 1); /* still open: the owner's */
	CU_ASSERT_EQUAL(lseek(w, 0, SEEK_END), (off_t)total);
	close(w);
	rig_free(&r);
}

/* A pipe that fills is grown once (to JG_PIPE_BULK). */
static void test_pump_grows_a_full_pipe(void)
{
	static uint8_t data[JG_PIPE_BULK / 2 + 65536];
	struct rig r;
	int pfd[2];

	rig_init(&r, 8 * MIB);
	CU_ASSERT_FATAL(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	CU_ASSERT_EQUAL(fcntl(pfd[1], F_GETPIPE_SZ), 65536);
	rig_pump(&r, pfd[1], -1, -1, JG_APUMP_IN_CLOSE, 0);
	CU_ASSERT_EQUAL(jg_link_send_data(r.gw, r.ch, 0, data, sizeof(data)), sizeof(data));
	spin(&r, 3, 1);
	CU_ASSERT_EQUAL(fcntl(pfd[1], F_GETPIPE_SZ), JG_PIPE_BULK);
	CU_ASSERT_EQUAL(jg_apump_queued(r.p), 0); /* it all fit once grown */
	CU_ASSERT_EQUAL(drain_fd(pfd[0]), sizeof(data));
	close(pfd[0]);
	rig_free(&r);
}

int jg_test_register_apump(void)
{
	CU_pSuite s = CU_add_suite("apump", NULL, NULL);

	if (s == NULL || !CU_ADD_TEST(s, test_pump_reads_stop_at_the_window) ||
	    !CU_ADD_TEST(s, test_pump_credit_only_for_bytes_written) ||
	    !CU_ADD_TEST(s, test_pump_half_close_from_the_gateway) ||
	    !CU_ADD_TEST(s, test_pump_half_close_on_a_shared_socket) ||
	    !CU_ADD_TEST(s, test_pump_output_stays_bounded_when_the_gateway_stops_reading) ||
	    !CU_ADD_TEST(s, test_pump_write_error_returns_credit) ||
	    !CU_ADD_TEST(s, test_pump_read_error_fails_or_is_eof) ||
	    !CU_ADD_TEST(s, test_pump_reads_a_regular_file_by_windows) ||
	    !CU_ADD_TEST(s, test_pump_writes_a_kept_regular_file) ||
	    !CU_ADD_TEST(s, test_pump_grows_a_full_pipe))
		return -1;
	return 0;
}
