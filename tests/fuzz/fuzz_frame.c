/* libFuzzer harness for the frame protocol core: the decoder, the exec-spec
 * decoder and an ACCEPTOR link, all fed the same bytes.
 *
 * Input: byte 0 picks how the input is cut into feeds, whether a valid
 * HELLO is put in front (so the fuzzer spends its time past the handshake),
 * and whether the rest is the byte stream itself or a compact list of frames
 * (type, flags, channel, aux, length, payload: 5 bytes + payload each) that
 * the harness expands into well-framed bytes, so the fuzzer explores the
 * link's channel states instead of rediscovering the magic.  Besides "no crash, no leak, no UB" it
 * checks two invariants and aborts when they break:
 *   - every frame the decoder accepts, the encoder re-encodes byte for byte;
 *   - every spec the decoder accepts re-encodes and decodes to the same spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int same_vec(char **a, size_t an, char **b, size_t bn)
{
	if ((a == NULL) != (b == NULL) || an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void spec_round_trip(const uint8_t *p, size_t len)
{
	struct jg_exec_spec s, t;
	struct evbuffer *b;
	char err[128];

	if (jg_exec_spec_decode(p, len, &s, err, sizeof(err)) != 0) {
		check(err[0] != '\0');
		return;
	}
	b = evbuffer_new();
	check(jg_exec_spec_encode(&s, b) == 0);
	check(evbuffer_get_length(b) == len); /* same fields, maybe in another order */
	check(jg_exec_spec_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b), &t, err,
				  sizeof(err)) == 0);
	check(same_vec(s.argv, s.argc, t.argv, t.argc) && same_vec(s.env, s.envc, t.env, t.envc));
	check(same_str(s.cwd, t.cwd) && same_str(s.term, t.term));
	check(s.pty == t.pty && s.rows == t.rows && s.cols == t.cols);
	jg_exec_spec_clear(&s);
	jg_exec_spec_clear(&t);
	evbuffer_free(b);
}

/* Decode DATA fed CHUNK bytes at a time, or with LEND lent from a copy that is
 * scribbled over once the decoder has settled; re-encode each frame and compare.
 * The frames seen (count, and the offset reached) go to *NFRAMES and *OFFSET. */
static void fuzz_decoder(const uint8_t *data, size_t size, size_t chunk, int lend, size_t *nframes,
			 uint64_t *offset)
{
	struct jg_frame_decoder *d = jg_frame_decoder_new(0);
	struct evbuffer *re = evbuffer_new();
	struct jg_hello h;
	struct jg_frame f;
	size_t off = 0;
	int r = 0;

	while (off < size && r >= 0) {
		size_t k = size - off < chunk ? size - off : chunk;
		uint8_t *copy = NULL;

		if (lend && (copy = malloc(k)) != NULL) {
			memcpy(copy, data + off, k);
			check(jg_frame_decoder_lend(d, copy, k) == 0);
		} else {
			jg_frame_decoder_feed(d, data + off, k);
		}
		off += k;
		while ((r = jg_frame_decoder_next(d, &f)) == 1) {
			(*nframes)++;
			check(jg_frame_encode(re, &f) == 0);
			check(evbuffer_get_length(re) == JG_FRAME_HEADER_LEN + f.length);
			check(f.length == 0 || memcmp(evbuffer_pullup(re, -1) + JG_FRAME_HEADER_LEN,
						      f.payload, f.length) == 0);
			evbuffer_drain(re, evbuffer_get_length(re));
			if (f.type == JG_FRAME_OPEN)
				spec_round_trip(f.payload, f.length);
			if (f.type == JG_FRAME_HELLO)
				(void)jg_frame_parse_hello(&f, &h);
		}
		if (copy != NULL) {
			check(jg_frame_decoder_settle(d) == 0);
			memset(copy, 0xa5, k);
			free(copy);
		}
	}
	*offset = jg_frame_decoder_offset(d);
	check(r >= 0 ? jg_frame_decoder_error(d) == NULL : jg_frame_decoder_error(d) != NULL);
	evbuffer_free(re);
	jg_frame_decoder_free(d);
}

/* ---- an agent-like owner of an ACCEPTOR link ---- */

static void on_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct jg_exec_spec s;
	char err[128] = "refused";

	/* A real agent refuses a bad spec; accepting most channels anyway lets the
	 * fuzzer reach the open-channel states without first inventing a spec. */
	if (jg_exec_spec_decode(f->payload, f->length, &s, err, sizeof(err)) == 0)
		jg_exec_spec_clear(&s);
	if (ch % 5 == 0)
		jg_link_reject(l, ch, err);
	else if (ch % 7 != 0) /* 7, 14, ...: left pending */
		jg_link_accept(l, ch, NULL);
}

static void on_frame(struct jg_link *l, uint32_t ch, void *cud, const struct jg_frame *f, void *ud)
{
	switch (f->type) {
	case JG_FRAME_DATA:
		/* Echo what fits and hand the credit back, as a cat would. */
		jg_link_send_data(l, ch, f->flags, f->payload, f->length);
		jg_link_consumed(l, ch, f->length);
		break;
	case JG_FRAME_EOF:
		jg_link_send_eof(l, ch, 0);
		jg_link_send_exit(l, ch, 0, 0);
		break;
	case JG_FRAME_SIGNAL:
		jg_link_close(l, ch);
		break;
	case JG_FRAME_RESIZE:
		jg_link_send_dead(l, ch, "resized to death");
		break;
	}
}

static void on_writable(struct jg_link *l, uint32_t ch, void *cud, void *ud)
{
	jg_link_send_data(l, ch, JG_DATA_STDERR, "more", 4);
}

static void on_dead(struct jg_link *l, uint32_t ch, void *cud, const char *reason, void *ud)
{
	check(reason != NULL);
	jg_link_close(l, ch); /* refused: the channel is already gone */
}

static void fuzz_link(const uint8_t *data, size_t size, size_t chunk, int with_hello)
{
	static const struct jg_link_cbs cb = {NULL, on_open, on_frame, on_writable, on_dead, NULL};
	struct jg_link *l = jg_link_new(JG_LINK_ACCEPTOR, &cb, NULL);
	struct jg_hello h = {JG_PROTOCOL_VERSION, 4096, 65536, 0, "fuzz"};
	struct evbuffer *hello = evbuffer_new();
	size_t off = 0;
	int r = 0;

	jg_link_send_hello(l, "x86_64");
	if (with_hello) {
		jg_frame_put_hello(hello, &h);
		r = jg_link_feed(l, evbuffer_pullup(hello, -1), evbuffer_get_length(hello));
	}
	while (off < size && r == 0) {
		size_t k = size - off < chunk ? size - off : chunk;

		r = jg_link_feed(l, data + off, k);
		off += k;
		evbuffer_drain(jg_link_output(l), evbuffer_get_length(jg_link_output(l)));
	}
	check(r == 0 ? jg_link_error(l) == NULL : jg_link_error(l) != NULL);
	check(r == 0 || jg_link_channel_count(l) == 0);
	jg_link_fail(l, "fuzz input ended");
	check(jg_link_channel_count(l) == 0);
	evbuffer_free(hello);
	jg_link_free(l);
}

/* Expand compact records into frames; the header is written by hand so that
 * invalid types, flags and lengths still reach the decoder. */
static struct evbuffer *expand(const uint8_t *p, size_t size)
{
	struct evbuffer *b = evbuffer_new();
	uint8_t h[JG_FRAME_HEADER_LEN];

	while (size >= 5) {
		size_t len = p[4] < size - 5 ? p[4] : size - 5;

		h[0] = 0x4a;
		h[1] = 0x47;
		h[2] = p[0] % 16;
		h[3] = p[1];
		memset(h + 4, 0, 12);
		h[7] = p[2] % 16;
		h[11] = (uint8_t)len;
		h[12] = p[3] & 0x80 ? 0x7f : 0; /* a huge WINDOW now and then */
		h[15] = p[3];
		evbuffer_add(b, h, sizeof(h));
		evbuffer_add(b, p + 5, len);
		p += 5 + len;
		size -= 5 + len;
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *b = NULL;
	const uint8_t *in;
	size_t chunk, len;
	uint8_t mode;

	if (size < 1)
		return 0;
	/* Bits 0-5: feed size (0: everything at once); 6: compact records; 7: prepend a HELLO. */
	mode = data[0];
	in = data + 1;
	len = size - 1;
	chunk = (mode & 0x3f) == 0 ? size : (size_t)(mode & 0x3f);
	spec_round_trip(in, len);
	if (mode & 0x40) {
		b = expand(in, len);
		len = evbuffer_get_length(b);
		in = len > 0 ? evbuffer_pullup(b, -1) : in;
		chunk = (mode & 0x3f) == 0 ? len + 1 : chunk;
	}
	{
		size_t nf[2] = {0, 0};
		uint64_t at[2];

		/* Lent or fed, the same frames. */
		fuzz_decoder(in, len, chunk, 0, &nf[0], &at[0]);
		fuzz_decoder(in, len, chunk, 1, &nf[1], &at[1]);
		check(nf[0] == nf[1] && at[0] == at[1]);
	}
	fuzz_link(in, len, chunk, (mode & 0x80) != 0);
	if (b != NULL)
		evbuffer_free(b);
	return 0;
}
