/* The oversized-header-field filter (h2field.h). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/edge/h2field.h"

#define PREFACE_LEN 24u
#define FRAME_HEADERS 0x1
#define FRAME_CONTINUATION 0x9
#define FLAG_END_STREAM 0x1
#define FLAG_END_HEADERS 0x4
#define FLAG_PADDED 0x8
#define FLAG_PRIORITY 0x20
/* A block held past this is passed on unexamined (nghttp2 bounds CONTINUATIONs). */
#define BLOCK_MAX (1024u * 1024u)
/* The filler: one byte more than the dynamic table can ever hold. */
#define FILLER_LEN 4097u
/* Re-framed blocks use frames of at most the default SETTINGS_MAX_FRAME_SIZE. */
#define FRAME_MAX 16384u
#define FLAGGED_MAX 16

struct jg_h2field {
	size_t preface_left;
	uint8_t hdr[9];
	size_t hdr_have;
	size_t payload_left;	/* of the current frame, passed through as it comes */
	int holding;		/* inside a header block: frames go to BLOCK */
	int passing_block;	/* a block too big to hold: its frames pass through */
	struct evbuffer *block; /* the held frames, whole */
	int32_t flagged[FLAGGED_MAX];
	size_t nflagged;
};

struct jg_h2field *jg_h2field_new(void)
{
	struct jg_h2field *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	if ((f->block = evbuffer_new()) == NULL) {
		free(f);
		return NULL;
	}
	f->preface_left = PREFACE_LEN;
	return f;
}

void jg_h2field_free(struct jg_h2field *f)
{
	if (f == NULL)
		return;
	evbuffer_free(f->block);
	free(f);
}

int jg_h2field_take(struct jg_h2field *f, int32_t stream_id)
{
	for (size_t i = 0; i < f->nflagged; i++) {
		if (f->flagged[i] == stream_id) {
			f->flagged[i] = f->flagged[--f->nflagged];
			return 1;
		}
	}
	return 0;
}

/* An HPACK integer with an N-bit prefix at P (END bounds it): its value, and *P moved
 * past it; -1 when truncated or absurd. */
static int64_t hpack_int(const uint8_t **p, const uint8_t *end, unsigned n)
{
	uint64_t v, m = 0;
	unsigned lim = (1u << n) - 1;

	if (*p >= end)
		return -1;
	v = **p & lim;
	(*p)++;
	if (v < lim)
		return (int64_t)v;
	for (;;) {
		if (*p >= end || m > 28)
			return -1;
		v += (uint64_t)(**p & 0x7f) << m;
		m += 7;
		if (!(*(*p)++ & 0x80))
			return (int64_t)v;
	}
}

/* Append to OUT, or nothing when OUT is NULL (a scan that only looks). */
static int put(struct evbuffer *out, const void *p, size_t n)
{
	return out == NULL ? 0 : evbuffer_add(out, p, n);
}

/* One string at *P: copied to OUT, or a filler when longer than JG_H2FIELD_MAX
 * (*REPLACED set).  -1 when truncated. */
static int hpack_string(const uint8_t **p, const uint8_t *end, struct evbuffer *out, int *replaced)
{
	const uint8_t *start = *p;
	int64_t n = hpack_int(p, end, 7);
	uint8_t filler[FILLER_LEN + 3];

	if (n < 0 || n > end - *p)
		return -1;
	if ((uint64_t)n > JG_H2FIELD_MAX) {
		/* Not Huffman-coded, length 4097 = 127 + 3970: 0x7f, 0x82 0x1f. */
		filler[0] = 0x7f;
		filler[1] = (uint8_t)(((FILLER_LEN - 127) & 0x7f) | 0x80);
		filler[2] = (uint8_t)((FILLER_LEN - 127) >> 7);
		memset(filler + 3, 'x', FILLER_LEN);
		*replaced = 1;
		*p += n;
		return put(out, filler, sizeof(filler));
	}
	*p += n;
	return put(out, start, (size_t)(*p - start));
}

/* Rewrite the block fragment IN (LEN bytes) into OUT, replacing oversized strings; with
 * OUT NULL, only look.  1 when something was (or would be) replaced, 0 when not, -1 when
 * malformed or out of memory. */
static int rewrite(const uint8_t *in, size_t len, struct evbuffer *out)
{
	const uint8_t *p = in, *end, *start;
	int replaced = 0;
	int64_t idx;

	if (len == 0)
		return 0; /* an empty block (IN may be NULL then) */
	end = in + len;
	while (p < end) {
		start = p;
		if (*p & 0x80) { /* indexed */
			if (hpack_int(&p, end, 7) < 0)
				return -1;
			if (put(out, start, (size_t)(p - start)) != 0)
				return -1;
			continue;
		}
		if ((*p & 0xe0) == 0x20) { /* dynamic table size update */
			if (hpack_int(&p, end, 5) < 0 || put(out, start, (size_t)(p - start)) != 0)
				return -1;
			continue;
		}
		/* Literals: with incremental indexing (01), without (0000), never (0001). */
		idx = hpack_int(&p, end, (*p & 0x40) ? 6 : 4);
		if (idx < 0 || put(out, start, (size_t)(p - start)) != 0)
			return -1;
		if (idx == 0 && hpack_string(&p, end, out, &replaced) != 0)
			return -1;
		if (hpack_string(&p, end, out, &replaced) != 0)
			return -1;
	}
	return replaced;
}

static void put_frame_header(uint8_t h[9], size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	h[0] = (uint8_t)(len >> 16);
	h[1] = (uint8_t)(len >> 8);
	h[2] = (uint8_t)len;
	h[3] = type;
	h[4] = flags;
	h[5] = (uint8_t)(sid >> 24);
	h[6] = (uint8_t)(sid >> 16);
	h[7] = (uint8_t)(sid >> 8);
	h[8] = (uint8_t)sid;
}

/* The held block is complete: pass it on as it came, or re-framed with its oversized
 * strings replaced. */
static int block_done(struct jg_h2field *f, struct evbuffer *out)
{
	size_t total = evbuffer_get_length(f->block), off = 0;
	const uint8_t *b = evbuffer_pullup(f->block, -1);
	struct evbuffer *frag = NULL, *re = NULL;
	uint32_t sid = 0;
	uint8_t flags0 = 0, h[9];
	int r = -1, rw;

	if (total > 0 && b == NULL)
		return -1;
	if ((frag = evbuffer_new()) == NULL || (re = evbuffer_new()) == NULL)
		goto out;
	/* The fragments, without padding and priority. */
	while (off + 9 <= total) {
		size_t len = (size_t)b[off] << 16 | (size_t)b[off + 1] << 8 | b[off + 2];
		const uint8_t *pl = b + off + 9;
		size_t pad = 0, skip = 0;

		if (off == 0) {
			flags0 = b[off + 4];
			sid = (uint32_t)b[off + 5] << 24 | (uint32_t)b[off + 6] << 16 |
			      (uint32_t)b[off + 7] << 8 | b[off + 8];
			sid &= 0x7fffffffu;
			if (flags0 & FLAG_PADDED) {
				if (len < 1)
					goto pass;
				pad = pl[0];
				skip = 1;
			}
			if (flags0 & FLAG_PRIORITY)
				skip += 5;
			if (skip + pad > len)
				goto pass;
		}
		/* The usual block is one frame: look at it where it is, copy nothing (an
		 * HPACK bomb is a big block of small fields that needs no rewrite). */
		if (off == 0 && 9 + len == total && rewrite(pl + skip, len - skip - pad, NULL) <= 0)
			goto pass;
		if (evbuffer_add(frag, pl + skip, len - skip - pad) != 0)
			goto out;
		off += 9 + len;
	}
	if (rewrite(evbuffer_pullup(frag, -1), evbuffer_get_length(frag), NULL) <= 0)
		goto pass; /* nothing to replace, or malformed: nghttp2 judges the original */
	rw = rewrite(evbuffer_pullup(frag, -1), evbuffer_get_length(frag), re);
	if (rw <= 0)
		goto pass;
	/* Re-frame: HEADERS (END_STREAM as sent), then CONTINUATIONs, END_HEADERS last. */
	{
		size_t n = evbuffer_get_length(re), at = 0;
		const uint8_t *rb = evbuffer_pullup(re, -1);

		do {
			size_t k = n - at < FRAME_MAX ? n - at : FRAME_MAX;
			uint8_t type = at == 0 ? FRAME_HEADERS : FRAME_CONTINUATION;
			uint8_t fl = (uint8_t)((at == 0 ? flags0 & FLAG_END_STREAM : 0) |
					       (at + k == n ? FLAG_END_HEADERS : 0));

			put_frame_header(h, k, type, fl, sid);
			if (evbuffer_add(out, h, 9) != 0 || evbuffer_add(out, rb + at, k) != 0)
				goto out;
			at += k;
		} while (at < n);
	}
	if (f->nflagged < FLAGGED_MAX)
		f->flagged[f->nflagged++] = (int32_t)sid;
	evbuffer_drain(f->block, total);
	r = 0;
	goto out;
pass:
	r = evbuffer_add_buffer(out, f->block);
out:
	if (frag != NULL)
		evbuffer_free(frag);
	if (re != NULL)
		evbuffer_free(re);
	return r;
}

size_t jg_h2field_pass(struct jg_h2field *f, size_t len)
{
	size_t k;

	/* Inside a frame's payload (its header read), not held in a block: it goes on as is. */
	if (f->preface_left > 0 || f->holding || f->payload_left == 0)
		return 0;
	k = len < f->payload_left ? len : f->payload_left;
	f->payload_left -= k;
	return k;
}

size_t jg_h2field_feed_some(struct jg_h2field *f, const uint8_t *in, size_t len,
			    struct evbuffer *out)
{
	size_t used = 0;

	while (len > 0 && !(f->preface_left == 0 && f->payload_left > 0 && !f->holding)) {
		size_t k;

		if (f->preface_left > 0) {
			k = len < f->preface_left ? len : f->preface_left;
			if (evbuffer_add(out, in, k) != 0)
				return JG_H2FIELD_NOMEM;
			f->preface_left -= k;
		} else if (f->payload_left > 0) {
			k = len < f->payload_left ? len : f->payload_left;
			if (evbuffer_add(f->holding ? f->block : out, in, k) != 0)
				return JG_H2FIELD_NOMEM;
			f->payload_left -= k;
		} else {
			k = 9 - f->hdr_have < len ? 9 - f->hdr_have : len;
			memcpy(f->hdr + f->hdr_have, in, k);
			f->hdr_have += k;
		}
		in += k;
		len -= k;
		used += k;
		if (f->preface_left == 0 && f->payload_left == 0 && f->hdr_have == 9) {
			/* A frame header is complete: where does this frame go? */
			uint8_t type = f->hdr[3], flags = f->hdr[4];
			int in_block = type == FRAME_HEADERS || (type == FRAME_CONTINUATION &&
								 (f->holding || f->passing_block));

			f->payload_left =
			    (size_t)f->hdr[0] << 16 | (size_t)f->hdr[1] << 8 | f->hdr[2];
			f->hdr_have = 0;
			if (f->holding && !in_block) {
				/* Another frame inside a header block: a protocol error that
				 * nghttp2 names; it gets the bytes as they came. */
				if (evbuffer_add_buffer(out, f->block) != 0)
					return JG_H2FIELD_NOMEM;
				f->holding = 0;
			}
			if (in_block && !f->passing_block &&
			    evbuffer_get_length(f->block) + 9 + f->payload_left > BLOCK_MAX) {
				/* Too big to hold: what is held goes on, the rest follows as is. */
				if (evbuffer_add_buffer(out, f->block) != 0)
					return JG_H2FIELD_NOMEM;
				f->holding = 0;
				f->passing_block = 1;
			}
			f->holding = in_block && !f->passing_block;
			if (evbuffer_add(f->holding ? f->block : out, f->hdr, 9) != 0)
				return JG_H2FIELD_NOMEM;
			/* A block passed on unheld ends with this frame. */
			if (in_block && (flags & FLAG_END_HEADERS) && !f->holding)
				f->passing_block = 0;
		}
		if (f->holding && f->payload_left == 0 && f->hdr_have == 0 &&
		    (f->hdr[4] & FLAG_END_HEADERS)) {
			f->holding = 0;
			if (block_done(f, out) != 0)
				return JG_H2FIELD_NOMEM;
		}
	}
	return used;
}

int jg_h2field_feed(struct jg_h2field *f, const uint8_t *in, size_t len, struct evbuffer *out)
{
	while (len > 0) {
		size_t k = jg_h2field_feed_some(f, in, len, out);

		if (k == JG_H2FIELD_NOMEM)
			return -1;
		in += k;
		len -= k;
		k = jg_h2field_pass(f, len);
		if (k > 0 && evbuffer_add(out, in, k) != 0)
			return -1;
		in += k;
		len -= k;
	}
	return 0;
}
