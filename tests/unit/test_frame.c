/* Tests for the frame codec: round trips, arbitrary input splits, and every
 * kind of bad input with the message a person would read. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/wire.h"
#include "tests/unit/suites.h"

#define MAXF 64

/* A decoded frame with its own copy of the payload. */
struct owned {
	struct jg_frame f;
	uint8_t *data;
};

static void owned_free(struct owned *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(o[i].data);
}

/* Pull every whole frame out of D into OUT[*n...]; returns the last next() result. */
static int drain(struct jg_frame_decoder *d, struct owned *out, size_t *n)
{
	struct jg_frame f;
	int r;

	while ((r = jg_frame_decoder_next(d, &f)) == 1) {
		CU_ASSERT_FATAL(*n < MAXF);
		out[*n].f = f;
		out[*n].data = malloc(f.length + 1);
		memcpy(out[*n].data, f.payload, f.length);
		out[*n].f.payload = out[*n].data;
		(*n)++;
	}
	return r;
}

static int same_frame(const struct jg_frame *a, const struct jg_frame *b)
{
	return a->type == b->type && a->flags == b->flags && a->channel == b->channel &&
	       a->aux == b->aux && a->length == b->length &&
	       (a->length == 0 || memcmp(a->payload, b->payload, a->length) == 0);
}

/* One valid frame of every type, with payloads where the type allows one. */
static size_t sample_frames(struct jg_frame *f)
{
	static const uint8_t hello[] = {0, 0, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 1, 'x', '8', '6'};
	static const uint8_t open[] = {1, 0, 0, 0, 3, 'l', 's', 0};
	static const uint8_t bin[] = {0, 0xff, 0x4a, 0x47, 0x01, 0x80};
	static uint8_t big[JG_FRAME_MAX_PAYLOAD];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	f[n++] = (struct jg_frame){JG_FRAME_HELLO, 0, 0, 1, sizeof(hello), hello};
	f[n++] = (struct jg_frame){JG_FRAME_OPEN, 0, 1, JG_OPEN_EXEC, sizeof(open), open};
	f[n++] = (struct jg_frame){JG_FRAME_OPEN_OK, 0, 1, 0, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_OPEN_FAIL, 0, 2, 0, 4, (const uint8_t *)"nope"};
	f[n++] = (struct jg_frame){JG_FRAME_DATA, 0, 1, 0, sizeof(bin), bin};
	f[n++] = (struct jg_frame){JG_FRAME_DATA, JG_DATA_STDERR, 1, 0, 1, bin + 1};
	f[n++] = (struct jg_frame){JG_FRAME_DATA, 0, 0xffffffffu, 0, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_EOF, JG_DATA_STDERR, 1, 0, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_WINDOW, 0, 1, 65536, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_EXIT, JG_EXIT_SIGNALED | JG_EXIT_CORE, 1, 11, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_SIGNAL, 0, 1, 15, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_RESIZE, 0, 1, 24u << 16 | 80u, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_CLOSE, 0, 3, 0, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_PING, 0, 0, 0xdeadbeef, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_PONG, 0, 0, 0xdeadbeef, 0, NULL};
	f[n++] = (struct jg_frame){JG_FRAME_DEAD, 0, 0, 0, 9, (const uint8_t *)"ssh: gone"};
	f[n++] = (struct jg_frame){JG_FRAME_DATA, 0, 7, 0, sizeof(big), big};
	return n;
}

static struct evbuffer *sample_stream(struct jg_frame *f, size_t *nf)
{
	struct evbuffer *b = evbuffer_new();

	*nf = sample_frames(f);
	for (size_t i = 0; i < *nf; i++)
		CU_ASSERT_EQUAL_FATAL(jg_frame_encode(b, &f[i]), 0);
	return b;
}

static void test_each_type_round_trips(void)
{
	struct jg_frame f[MAXF];
	struct owned got[MAXF];
	size_t nf, n = 0;
	struct evbuffer *b = sample_stream(f, &nf);
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);

	CU_ASSERT_EQUAL(jg_frame_decoder_feed_evbuffer(d, b), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	CU_ASSERT_EQUAL(drain(d, got, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, nf);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT(same_frame(&f[i], &got[i].f));
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), 0);
	CU_ASSERT_PTR_NULL(jg_frame_decoder_error(d));
	owned_free(got, n);
	jg_frame_decoder_free(d);
	evbuffer_free(b);
}

/* Feed the stream cut into CHUNK-byte pieces (or, with SPLIT, cut once at SPLIT).
 * With LEND the pieces are lent from a scratch copy, which is scribbled over once
 * the decoder has settled: what it kept must have been copied. */
static void feed_and_compare_as(const uint8_t *s, size_t len, size_t chunk, size_t split,
				const struct jg_frame *f, size_t nf, int lend)
{
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	struct owned got[MAXF];
	size_t n = 0, off = 0;
	uint8_t *scratch = malloc(len);
	int ok = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(scratch);
	while (off < len) {
		size_t k = split ? (off == 0 ? split : len - off) : chunk;

		if (k > len - off)
			k = len - off;
		if (lend) {
			memcpy(scratch, s + off, k);
			CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_lend(d, scratch, k), 0);
		} else {
			CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_feed(d, s + off, k), 0);
		}
		off += k;
		CU_ASSERT_EQUAL_FATAL(drain(d, got, &n), 0);
		if (lend) {
			CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_settle(d), 0);
			memset(scratch, 0xaa, k);
		}
	}
	free(scratch);
	ok = n == nf && jg_frame_decoder_pending(d) == 0 && jg_frame_decoder_offset(d) == len;
	for (size_t i = 0; ok && i < n; i++)
		ok = same_frame(&f[i], &got[i].f);
	CU_ASSERT(ok);
	owned_free(got, n);
	jg_frame_decoder_free(d);
}

static void feed_and_compare(const uint8_t *s, size_t len, size_t chunk, size_t split,
			     const struct jg_frame *f, size_t nf)
{
	feed_and_compare_as(s, len, chunk, split, f, nf, 0);
	feed_and_compare_as(s, len, chunk, split, f, nf, 1);
}

static void test_stream_split_at_every_byte_boundary_yields_same_frames(void)
{
	struct jg_frame f[MAXF];
	size_t nf, len;
	struct evbuffer *b = sample_stream(f, &nf);
	const uint8_t *s;

	/* Drop the 32 KiB frame here: every split of it costs a quadratic run. */
	len = evbuffer_get_length(b) - JG_FRAME_HEADER_LEN - JG_FRAME_MAX_PAYLOAD;
	s = evbuffer_pullup(b, -1);
	for (size_t k = 1; k <= len; k++)
		feed_and_compare(s, len, k, 0, f, nf - 1);
	for (size_t cut = 1; cut < len; cut++)
		feed_and_compare(s, len, 0, cut, f, nf - 1);
	/* And the whole stream, big frame included, a byte at a time and in odd chunks. */
	len = evbuffer_get_length(b);
	feed_and_compare(s, len, 1, 0, f, nf);
	feed_and_compare(s, len, 4097, 0, f, nf);
	evbuffer_free(b);
}

/* Feed BYTES to a fresh decoder; return next()'s result and keep the message. */
static int decode_bad(const uint8_t *bytes, size_t len, uint32_t max, char *msg, size_t msglen)
{
	struct jg_frame_decoder *d = jg_frame_decoder_new(max);
	struct owned got[MAXF];
	size_t n = 0;
	int r;

	jg_frame_decoder_feed(d, bytes, len);
	r = drain(d, got, &n);
	snprintf(msg, msglen, "%s", jg_frame_decoder_error(d) ? jg_frame_decoder_error(d) : "");
	owned_free(got, n);
	jg_frame_decoder_free(d);
	return r;
}

static void header(uint8_t *h, uint8_t type, uint8_t flags, uint32_t ch, uint32_t len, uint32_t aux)
{
	jg_put_u16(h, JG_FRAME_MAGIC);
	h[2] = type;
	h[3] = flags;
	jg_put_u32(h + 4, ch);
	jg_put_u32(h + 8, len);
	jg_put_u32(h + 12, aux);
}

/* Lent bytes: whole frames come back in place (no copy); a partial frame waits,
 * copied, across settle() and is completed by the next bytes, lent or fed;
 * pending() counts lent bytes not yet returned. */
static void test_lent_frames_are_read_in_place(void)
{
	struct jg_frame f[MAXF], g;
	size_t nf, len, first;
	struct evbuffer *b = sample_stream(f, &nf);
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	uint8_t *s;

	len = evbuffer_get_length(b);
	s = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	evbuffer_remove(b, s, len);
	/* All but the last 5 bytes: every frame but the last (the 32 KiB DATA) in place. */
	CU_ASSERT_EQUAL(jg_frame_decoder_lend(d, s, len - 5), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), len - 5);
	for (size_t i = 0; i + 1 < nf; i++) {
		CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_next(d, &g), 1);
		CU_ASSERT(same_frame(&f[i], &g));
		CU_ASSERT(g.length == 0 || (g.payload > s && g.payload < s + len));
	}
	first = (size_t)jg_frame_decoder_offset(d);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), 0); /* the rest is partial */
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), len - 5 - first);
	CU_ASSERT_EQUAL(jg_frame_decoder_settle(d), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_settle(d), 0); /* twice: nothing more */
	memset(s, 0xaa, len - 5);			/* the caller's bytes go away */
	evbuffer_free(b);
	b = sample_stream(f, &nf);
	{
		uint8_t tail[5];

		evbuffer_drain(b, len - 5);
		evbuffer_remove(b, tail, 5);
		CU_ASSERT_EQUAL(jg_frame_decoder_lend(d, tail, 5), 0);
		CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_next(d, &g), 1);
		CU_ASSERT(same_frame(&f[nf - 1], &g));
		CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), 0);
		CU_ASSERT_EQUAL(jg_frame_decoder_settle(d), 0);
	}
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_offset(d), len);
	free(s);
	evbuffer_free(b);
	jg_frame_decoder_free(d);
}

/* Frames not taken before settle() are kept (copied) and come back afterwards, in
 * order before bytes fed later; a bad frame in lent bytes fails the decoder with
 * the offset and bytes, as fed ones do. */
static void test_lent_frames_not_taken_are_kept(void)
{
	struct jg_frame f[MAXF], g;
	size_t nf, len;
	struct evbuffer *b = sample_stream(f, &nf);
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	uint8_t *s, bad[16];

	len = evbuffer_get_length(b);
	s = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	evbuffer_remove(b, s, len);
	CU_ASSERT_EQUAL(jg_frame_decoder_lend(d, s, len), 0);
	CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_next(d, &g), 1);
	CU_ASSERT(same_frame(&f[0], &g));
	CU_ASSERT_EQUAL(jg_frame_decoder_settle(d), 0);
	memset(s, 0xaa, len);
	header(bad, JG_FRAME_DATA, 0, 1, 0, 0);
	bad[0] = 'S'; /* "SSH-..." where a frame should be */
	CU_ASSERT_EQUAL(jg_frame_decoder_feed(d, bad, sizeof(bad)), 0);
	for (size_t i = 1; i < nf; i++) {
		CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_next(d, &g), 1);
		CU_ASSERT(same_frame(&f[i], &g));
	}
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_frame_decoder_error(d), "bad magic"));
	jg_frame_decoder_free(d);

	/* The same bad header lent, after one good frame: the offset is the frame's length. */
	d = jg_frame_decoder_new(0);
	evbuffer_free(b);
	b = evbuffer_new();
	CU_ASSERT_EQUAL(jg_frame_encode(b, &f[2]), 0); /* OPEN_OK: a header alone */
	evbuffer_add(b, bad, sizeof(bad));
	len = evbuffer_get_length(b);
	evbuffer_remove(b, s, len);
	CU_ASSERT_EQUAL(jg_frame_decoder_lend(d, s, len), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), 1);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(jg_frame_decoder_error(d), "at offset 16 "));
	CU_ASSERT_EQUAL(jg_frame_decoder_settle(d), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &g), JG_ERR_PROTO); /* sticks */
	free(s);
	evbuffer_free(b);
	jg_frame_decoder_free(d);
}

static void test_corrupt_magic_is_named_with_offset_and_bytes(void)
{
	uint8_t s[32];
	char msg[256];

	header(s, JG_FRAME_PING, 0, 0, 0, 1);
	header(s + 16, JG_FRAME_PING, 0, 0, 0, 1);
	s[16] = 0x41;
	s[17] = 0x42;
	CU_ASSERT_EQUAL(decode_bad(s, sizeof(s), 0, msg, sizeof(msg)), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "bad magic 0x4142 at offset 16 (header bytes 41 42 0c"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "expected 0x4a47 ('JG')"));
	/* Two bytes are enough to know: no waiting for a whole header. */
	CU_ASSERT_EQUAL(decode_bad((const uint8_t *)"AB", 2, 0, msg, sizeof(msg)), JG_ERR_PROTO);
}

static void test_text_instead_of_frames_is_quoted(void)
{
	const char *banner = "sh: 1: jumpgate-agent: not found\n";
	char msg[256];

	CU_ASSERT_EQUAL(decode_bad((const uint8_t *)banner, strlen(banner), 0, msg, sizeof(msg)),
			JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "the peer sent text: \"sh: 1: jumpgate-...\""));
}

static void test_oversize_length_is_toobig(void)
{
	uint8_t s[32];
	char msg[256];

	header(s, JG_FRAME_CLOSE, 0, 1, 0, 0);
	header(s + 16, JG_FRAME_DATA, 0, 1, 1048576, 0);
	CU_ASSERT_EQUAL(decode_bad(s, sizeof(s), 0, msg, sizeof(msg)), JG_ERR_TOOBIG);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(msg, "DATA payload length 1048576 over the limit 32768 at offset 16"));
	/* A decoder configured smaller enforces its own limit. */
	header(s, JG_FRAME_DATA, 0, 1, 1025, 0);
	CU_ASSERT_EQUAL(decode_bad(s, 16, 1024, msg, sizeof(msg)), JG_ERR_TOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "over the limit 1024"));
}

static void test_unknown_type_is_refused(void)
{
	uint8_t s[16];
	char msg[256];
	const uint8_t types[] = {0, 15, 99, 255};

	for (size_t i = 0; i < sizeof(types); i++) {
		header(s, types[i], 0, 0, 0, 0);
		CU_ASSERT_EQUAL(decode_bad(s, 3, 0, msg, sizeof(msg)), JG_ERR_PROTO);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "frame type 255 unknown at offset 0"));
	header(s, 99, 0, 0, 0, 0);
	decode_bad(s, 16, 0, msg, sizeof(msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "frame type 99 unknown at offset 0"));
}

static void test_bad_flags_are_refused(void)
{
	struct {
		uint8_t type, flags;
		int ok;
	} cases[] = {
	    {JG_FRAME_DATA, JG_DATA_STDERR, 1},
	    {JG_FRAME_DATA, 0x02, 0},
	    {JG_FRAME_EOF, 0x80, 0},
	    {JG_FRAME_EXIT, JG_EXIT_SIGNALED | JG_EXIT_CORE, 1},
	    {JG_FRAME_EXIT, 0x04, 0},
	    {JG_FRAME_OPEN, 0x01, 0},
	    {JG_FRAME_PING, 0x01, 0},
	};
	uint8_t s[16];
	char msg[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header(s, cases[i].type, cases[i].flags, 1, 0, 1);
		CU_ASSERT_EQUAL(decode_bad(s, sizeof(s), 0, msg, sizeof(msg)),
				cases[i].ok ? 0 : JG_ERR_PROTO);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "PING flags 0x01 invalid"));
}

static void test_payload_on_header_only_type_is_refused(void)
{
	/* OPEN_OK is not among them: it may carry kind-specific fields (GET metadata). */
	const uint8_t types[] = {JG_FRAME_WINDOW, JG_FRAME_EXIT, JG_FRAME_SIGNAL, JG_FRAME_RESIZE,
				 JG_FRAME_CLOSE,  JG_FRAME_PING, JG_FRAME_PONG};
	uint8_t s[20] = {0};
	char msg[256];

	for (size_t i = 0; i < sizeof(types); i++) {
		header(s, types[i], 0, 1, 4, 1);
		CU_ASSERT_EQUAL(decode_bad(s, sizeof(s), 0, msg, sizeof(msg)), JG_ERR_PROTO);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "PONG with a payload of 4 bytes"));
}

static void test_window_zero_increment_is_refused(void)
{
	uint8_t s[16];
	char msg[256];

	header(s, JG_FRAME_WINDOW, 0, 1, 0, 0);
	CU_ASSERT_EQUAL(decode_bad(s, sizeof(s), 0, msg, sizeof(msg)), JG_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "WINDOW with a zero increment"));
}

static void test_truncated_input_leaves_bytes_pending(void)
{
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	struct jg_frame f;
	uint8_t s[16 + 10];

	header(s, JG_FRAME_DATA, 0, 1, 10, 0);
	memset(s + 16, 'x', 10);
	jg_frame_decoder_feed(d, s, 9);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), 9);
	jg_frame_decoder_feed(d, s + 9, 16);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), 25);
	CU_ASSERT_EQUAL(jg_frame_decoder_offset(d), 0);
	CU_ASSERT_PTR_NULL(jg_frame_decoder_error(d));
	jg_frame_decoder_feed(d, s + 25, 1);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), 1);
	CU_ASSERT_EQUAL(f.length, 10);
	CU_ASSERT_EQUAL(jg_frame_decoder_pending(d), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_offset(d), 26);
	jg_frame_decoder_free(d);
}

static void test_error_sticks(void)
{
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	struct jg_frame f;
	uint8_t good[16];
	char first[256];

	header(good, JG_FRAME_PING, 0, 0, 0, 1);
	jg_frame_decoder_feed(d, "XXXXXXXXXXXXXXXX", 16);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), JG_ERR_PROTO);
	snprintf(first, sizeof(first), "%s", jg_frame_decoder_error(d));
	CU_ASSERT_EQUAL(jg_frame_decoder_feed(d, good, sizeof(good)), 0);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), JG_ERR_PROTO);
	CU_ASSERT_EQUAL(jg_frame_decoder_next(d, &f), JG_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(jg_frame_decoder_error(d), first);
	jg_frame_decoder_free(d);
}

static void test_encoder_refuses_what_decoder_refuses(void)
{
	struct evbuffer *b = evbuffer_new();
	static uint8_t big[JG_FRAME_LINK_PAYLOAD + 1];

	CU_ASSERT_EQUAL(jg_frame_put(b, 0, 0, 1, 0, NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_frame_put(b, 15, 0, 1, 0, NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_frame_put(b, JG_FRAME_DATA, 0, 1, 0, big, sizeof(big)), JG_ERR_TOOBIG);
	CU_ASSERT_EQUAL(jg_frame_put(b, JG_FRAME_DATA, 0x02, 1, 0, NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_frame_put(b, JG_FRAME_WINDOW, 0, 1, 0, NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_frame_put(b, JG_FRAME_CLOSE, 0, 1, 0, big, 1), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	CU_ASSERT_EQUAL(jg_frame_put(b, JG_FRAME_DATA, 0, 1, 0, big, JG_FRAME_LINK_PAYLOAD), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), JG_FRAME_HEADER_LEN + JG_FRAME_LINK_PAYLOAD);
	evbuffer_free(b);
}

static void test_hello_round_trips_and_bad_hello_is_refused(void)
{
	struct jg_hello h = {.version = 1,
			     .max_payload = 16384,
			     .window = 65536,
			     .capabilities = 5,
			     .arch = "aarch64"};
	struct jg_hello g;
	struct jg_frame f;
	struct evbuffer *b = evbuffer_new();
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	uint8_t p[12 + 65] = {0};

	CU_ASSERT_EQUAL(jg_frame_put_hello(b, &h), 0);
	jg_frame_decoder_feed_evbuffer(d, b);
	CU_ASSERT_EQUAL_FATAL(jg_frame_decoder_next(d, &f), 1);
	CU_ASSERT_EQUAL(f.length, 12 + 7);
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), 0);
	CU_ASSERT_EQUAL(g.version, 1);
	CU_ASSERT_EQUAL(g.max_payload, 16384);
	CU_ASSERT_EQUAL(g.window, 65536);
	CU_ASSERT_EQUAL(g.capabilities, 5);
	CU_ASSERT_STRING_EQUAL(g.arch, "aarch64");
	f = (struct jg_frame){JG_FRAME_HELLO, 0, 0, 1, 11, p};
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), JG_ERR_PROTO); /* short */
	f.length = 12 + 65;
	memset(p + 12, 'a', 65);
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), JG_ERR_PROTO); /* arch too long */
	f.length = 12 + 64;
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), 0);
	CU_ASSERT_EQUAL(strlen(g.arch), 64);
	p[20] = 0;
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), JG_ERR_PROTO); /* NUL in arch */
	f.type = JG_FRAME_PING;
	CU_ASSERT_EQUAL(jg_frame_parse_hello(&f, &g), JG_ERR_PROTO);
	jg_frame_decoder_free(d);
	evbuffer_free(b);
}

static void test_type_names(void)
{
	CU_ASSERT_STRING_EQUAL(jg_frame_type_name(JG_FRAME_DATA), "DATA");
	CU_ASSERT_STRING_EQUAL(jg_frame_type_name(JG_FRAME_DEAD), "DEAD");
	CU_ASSERT_STRING_EQUAL(jg_frame_type_name(0), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(jg_frame_type_name(99), "UNKNOWN");
}

int jg_test_register_frame(void)
{
	CU_pSuite s = CU_add_suite("frame", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "each type round-trips", test_each_type_round_trips) ||
	    !CU_add_test(s, "stream split at every byte boundary yields the same frames",
			 test_stream_split_at_every_byte_boundary_yields_same_frames) ||
	    !CU_add_test(s, "lent frames are read in place", test_lent_frames_are_read_in_place) ||
	    !CU_add_test(s, "lent frames not taken are kept",
			 test_lent_frames_not_taken_are_kept) ||
	    !CU_add_test(s, "corrupt magic is named with offset and bytes",
			 test_corrupt_magic_is_named_with_offset_and_bytes) ||
	    !CU_add_test(s, "text instead of frames is quoted",
			 test_text_instead_of_frames_is_quoted) ||
	    !CU_add_test(s, "oversize length is TOOBIG", test_oversize_length_is_toobig) ||
	    !CU_add_test(s, "unknown type is refused", test_unknown_type_is_refused) ||
	    !CU_add_test(s, "bad flags are refused", test_bad_flags_are_refused) ||
	    !CU_add_test(s, "payload on a header-only type is refused",
			 test_payload_on_header_only_type_is_refused) ||
	    !CU_add_test(s, "WINDOW with zero increment is refused",
			 test_window_zero_increment_is_refused) ||
	    !CU_add_test(s, "truncated input leaves bytes pending",
			 test_truncated_input_leaves_bytes_pending) ||
	    !CU_add_test(s, "error sticks", test_error_sticks) ||
	    !CU_add_test(s, "encoder refuses what the decoder refuses",
			 test_encoder_refuses_what_decoder_refuses) ||
	    !CU_add_test(s, "HELLO round-trips; bad HELLO is refused",
			 test_hello_round_trips_and_bad_hello_is_refused) ||
	    !CU_add_test(s, "type names", test_type_names))
		return -1;
	return 0;
}
