/* Tests for gateway/edge/h2field.c: a header field over 64 KiB is replaced before nghttp2
 * sees it, and its stream flagged; everything else passes through unchanged. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/edge/h2field.h"
#include "tests/unit/suites.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static size_t frame(uint8_t *out, uint8_t type, uint8_t flags, uint32_t sid, const uint8_t *p,
		    size_t n)
{
	out[0] = (uint8_t)(n >> 16);
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	out[3] = type;
	out[4] = flags;
	out[5] = (uint8_t)(sid >> 24);
	out[6] = (uint8_t)(sid >> 16);
	out[7] = (uint8_t)(sid >> 8);
	out[8] = (uint8_t)sid;
	if (n > 0)
		memcpy(out + 9, p, n);
	return 9 + n;
}

/* Feed IN one byte at a time (the hardest split) into a new filter; OUT gets the rest. */
static struct jg_h2field *feed_bytewise(const uint8_t *in, size_t n, struct evbuffer *out)
{
	struct jg_h2field *f = jg_h2field_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(jg_h2field_feed(f, in + i, 1, out), 0);
	return f;
}

static void test_h2field_ordinary_frames_pass_unchanged(void)
{
	uint8_t in[512],
	    block[] = {0x82, 0x84, 0x86, 0x41, 0x01, 'h'}; /* GET / http :authority h */
	uint8_t ping[8] = {0};
	struct evbuffer *out = evbuffer_new();
	struct jg_h2field *f;
	size_t n = 0;

	memcpy(in, preface, 24);
	n = 24;
	n += frame(in + n, 0x4, 0, 0, NULL, 0);		       /* SETTINGS */
	n += frame(in + n, 0x1, 0x5, 1, block, sizeof(block)); /* HEADERS */
	n += frame(in + n, 0x6, 0, 0, ping, sizeof(ping));     /* PING */
	n += frame(in + n, 0x1, 0x1, 3, block, 3);	       /* HEADERS, no END_HEADERS */
	n += frame(in + n, 0x9, 0x4, 3, block + 3, 3);	       /* CONTINUATION */
	n += frame(in + n, 0x1, 0x5, 5, block, 0); /* an empty block (found by fuzz_h2) */
	f = feed_bytewise(in, n, out);
	CU_ASSERT_EQUAL(evbuffer_get_length(out), n);
	CU_ASSERT_EQUAL(memcmp(evbuffer_pullup(out, -1), in, n), 0);
	CU_ASSERT_EQUAL(jg_h2field_take(f, 1), 0);
	jg_h2field_free(f);
	evbuffer_free(out);
}

static void test_h2field_oversized_value_is_replaced_and_flagged(void)
{
	size_t vlen = 70000, blen = 0, n = 24, at = 0;
	uint8_t *block = malloc(vlen + 64), *in = malloc(vlen + 512);
	struct evbuffer *out = evbuffer_new();
	struct jg_h2field *f;
	const uint8_t *o;
	size_t olen, off = 24, frag = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(block);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	/* :method GET, then x-big: 70000 bytes, literal with incremental indexing. */
	block[blen++] = 0x82;
	block[blen++] = 0x40;
	block[blen++] = 5;
	memcpy(block + blen, "x-big", 5);
	blen += 5;
	block[blen++] = 0x7f; /* 70000 - 127 = 69873: f1 a1 04 */
	block[blen++] = 0xf1;
	block[blen++] = 0xa1;
	block[blen++] = 0x04;
	memset(block + blen, 'a', vlen);
	blen += vlen;
	block[blen++] = 0x84; /* :path / after it */
	memcpy(in, preface, 24);
	while (at < blen) {
		size_t k = blen - at < 16384 ? blen - at : 16384;

		n += frame(in + n, at == 0 ? 0x1 : 0x9,
			   (uint8_t)((at == 0 ? 0x1 : 0) | (at + k == blen ? 0x4 : 0)), 5,
			   block + at, k);
		at += k;
	}
	f = feed_bytewise(in, n, out);
	CU_ASSERT_EQUAL(jg_h2field_take(f, 5), 1);
	CU_ASSERT_EQUAL(jg_h2field_take(f, 5), 0); /* once */
	/* Out: the preface, then frames carrying the block with a 4097-byte filler. */
	olen = evbuffer_get_length(out);
	o = evbuffer_pullup(out, -1);
	CU_ASSERT_EQUAL(memcmp(o, preface, 24), 0);
	while (off + 9 <= olen) {
		size_t len = (size_t)o[off] << 16 | (size_t)o[off + 1] << 8 | o[off + 2];

		CU_ASSERT(len <= 16384);
		CU_ASSERT_EQUAL(o[off + 8], 5);
		if (off == 24)
			CU_ASSERT_EQUAL(o[off + 4], off + 9 + len == olen ? 0x5 : 0x1);
		frag += len;
		off += 9 + len;
	}
	CU_ASSERT_EQUAL(off, olen);
	CU_ASSERT_EQUAL(frag, 1 + 1 + 1 + 5 + 3 + 4097 + 1);
	jg_h2field_free(f);
	evbuffer_free(out);
	free(block);
	free(in);
}

int jg_test_register_h2field(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("h2field", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_h2field_ordinary_frames_pass_unchanged) ||
	    !CU_ADD_TEST(s, test_h2field_oversized_value_is_replaced_and_flagged))
		return -1;
	return 0;
}
