/* The frame codec (see frame.h and docs/protocol.md).
 *
 * The decoder validates each header field as soon as its bytes have arrived,
 * so a peer that sends garbage (an ssh banner, an HTTP response, a shell
 * prompt) is refused at once instead of after the decoder waited for a
 * "length" that is really four ASCII letters.  Channel numbers are not
 * checked here: HTTP/2 exec streams carry channel 0 in every frame, so the
 * channel rules belong to whoever knows the context (relay/link.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/wire.h"

#define HELLO_FIXED_LEN 12u
#define HELLO_ARCH_MAX 64u
#define ERR_MAX 256

struct jg_frame_decoder {
	struct evbuffer *in;
	/* Lent bytes (jg_frame_decoder_lend): the caller's, read in place while `in` is
	 * empty; what is left of them is copied into `in` by settle(). */
	const uint8_t *lent;
	size_t lent_len, lent_off;
	uint32_t max_payload;
	size_t returned_len; /* bytes of the frame last returned, drained on the next call */
	int returned_lent;   /* ...and it was in the lent bytes, not in `in` */
	uint64_t offset;     /* stream offset just past the frame last returned */
	int err;	     /* sticky: 0 or the JG_ERR_* that failed the decoder */
	char errmsg[ERR_MAX];
};

static const char *const type_names[] = {"UNKNOWN", "HELLO", "OPEN",   "OPEN_OK", "OPEN_FAIL",
					 "DATA",    "EOF",   "WINDOW", "EXIT",	  "SIGNAL",
					 "RESIZE",  "CLOSE", "PING",   "PONG",	  "DEAD"};

const char *jg_frame_type_name(unsigned type)
{
	if (type == 0 || type > JG_FRAME_TYPE_MAX)
		return type_names[0];
	return type_names[type];
}

/* Flag bits a type may carry; any other bit is a protocol error. */
static uint8_t allowed_flags(unsigned type)
{
	switch (type) {
	case JG_FRAME_DATA:
	case JG_FRAME_EOF:
		return JG_DATA_STDERR;
	case JG_FRAME_EXIT:
		return JG_EXIT_SIGNALED | JG_EXIT_CORE;
	}
	return 0;
}

/* Types whose meaning is all in the header: a payload there is a peer bug. */
static int payload_forbidden(unsigned type)
{
	switch (type) {
	case JG_FRAME_WINDOW:
	case JG_FRAME_EXIT:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
	case JG_FRAME_CLOSE:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
		return 1;
	}
	return 0;
}

struct jg_frame_decoder *jg_frame_decoder_new(uint32_t max_payload)
{
	struct jg_frame_decoder *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->in = evbuffer_new()) == NULL) {
		free(d);
		return NULL;
	}
	d->max_payload = max_payload != 0 ? max_payload : JG_FRAME_MAX_PAYLOAD;
	return d;
}

void jg_frame_decoder_free(struct jg_frame_decoder *d)
{
	if (d == NULL)
		return;
	evbuffer_free(d->in);
	free(d);
}

int jg_frame_decoder_feed(struct jg_frame_decoder *d, const void *data, size_t len)
{
	if (d->err != 0 || len == 0)
		return 0;
	if (jg_frame_decoder_settle(d) != 0) /* the lent bytes come first */
		return JG_ERR_NOMEM;
	return evbuffer_add(d->in, data, len) == 0 ? 0 : JG_ERR_NOMEM;
}

/* The frame last returned is done with: past it in the lent bytes, or out of `in`. */
static void drop_returned(struct jg_frame_decoder *d)
{
	if (d->returned_len == 0)
		return;
	if (d->returned_lent)
		d->lent_off += d->returned_len;
	else
		evbuffer_drain(d->in, d->returned_len);
	d->returned_len = 0;
	d->returned_lent = 0;
}

int jg_frame_decoder_lend(struct jg_frame_decoder *d, const void *data, size_t len)
{
	int r;

	if (d->err != 0 || len == 0)
		return 0;
	if ((r = jg_frame_decoder_settle(d)) != 0)
		return r;
	if (evbuffer_get_length(d->in) != d->returned_len) /* a partial frame waits in `in` */
		return jg_frame_decoder_feed(d, data, len);
	drop_returned(d);
	d->lent = data;
	d->lent_len = len;
	d->lent_off = 0;
	return 0;
}

int jg_frame_decoder_settle(struct jg_frame_decoder *d)
{
	size_t left;

	if (d->lent == NULL)
		return 0;
	drop_returned(d);
	left = d->lent_len - d->lent_off;
	if (d->err == 0 && left > 0 && evbuffer_add(d->in, d->lent + d->lent_off, left) != 0)
		return JG_ERR_NOMEM;
	d->lent = NULL;
	d->lent_len = d->lent_off = 0;
	return 0;
}

int jg_frame_decoder_feed_evbuffer(struct jg_frame_decoder *d, struct evbuffer *src)
{
	if (d->err != 0) {
		/* Ignored, but still "moved": the caller's buffer ends up empty either way. */
		evbuffer_drain(src, evbuffer_get_length(src));
		return 0;
	}
	if (jg_frame_decoder_settle(d) != 0)
		return JG_ERR_NOMEM;
	return evbuffer_add_buffer(d->in, src) == 0 ? 0 : JG_ERR_NOMEM;
}

/* "41 42 05 00 ..." for the first bytes of a bad header, so the reader can
 * recognise what was sent instead of a frame. */
static void hex_bytes(char *buf, size_t size, const uint8_t *p, size_t n)
{
	size_t shown = n < 8 ? n : 8, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < shown && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%02x", i ? " " : "", p[i]);
	if (n > shown && used < size)
		snprintf(buf + used, size - used, " ...");
}

/* When the header bytes are all printable the peer most likely wrote text
 * (a login banner, "sh: 1: jumpgate-agent: not found") into the channel:
 * quoting it tells a person far more than the hex does. */
static void text_hint(char *buf, size_t size, const uint8_t *p, size_t n)
{
	size_t i;

	buf[0] = '\0';
	if (n < 4)
		return;
	for (i = 0; i < n; i++)
		if (!isprint(p[i]) && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return;
	snprintf(buf, size, "; the peer sent text: \"");
	for (i = 0; i < n; i++) {
		size_t used = strlen(buf);

		if (used + 3 >= size)
			return;
		buf[used] = isprint(p[i]) ? (char)p[i] : ' ';
		buf[used + 1] = '\0';
	}
	strncat(buf, "...\"", size - strlen(buf) - 1);
}

/* Fail the decoder for good with a message about the header at the current offset. */
__attribute__((format(printf, 6, 7))) static int fail(struct jg_frame_decoder *d, int err,
						      const uint8_t *hdr, size_t n,
						      const char *tail, const char *fmt, ...)
{
	char what[128], hex[40], hint[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hex_bytes(hex, sizeof(hex), hdr, n);
	text_hint(hint, sizeof(hint), hdr, n);
	snprintf(d->errmsg, sizeof(d->errmsg), "%s at offset %llu (header bytes %s)%s%s", what,
		 (unsigned long long)d->offset, hex, tail, hint);
	d->err = err;
	return err;
}

/* Check the N (<= 16) header bytes available so far; 0 when nothing is wrong yet. */
static int check_header(struct jg_frame_decoder *d, const uint8_t *h, size_t n)
{
	uint16_t magic;
	uint32_t len;
	unsigned type;

	if (n < 2)
		return 0;
	if ((magic = jg_get_u16(h)) != JG_FRAME_MAGIC)
		return fail(d, JG_ERR_PROTO, h, n, ", expected 0x4a47 ('JG')", "bad magic 0x%04x",
			    magic);
	if (n < 3)
		return 0;
	type = h[2];
	if (type == 0 || type > JG_FRAME_TYPE_MAX)
		return fail(d, JG_ERR_PROTO, h, n, "", "frame type %u unknown", type);
	if (n < 4)
		return 0;
	if ((h[3] & ~allowed_flags(type)) != 0)
		return fail(d, JG_ERR_PROTO, h, n, "", "%s flags 0x%02x invalid (allowed 0x%02x)",
			    jg_frame_type_name(type), h[3], allowed_flags(type));
	if (n < 12)
		return 0;
	len = jg_get_u32(h + 8);
	if (len > d->max_payload)
		return fail(d, JG_ERR_TOOBIG, h, n, "", "%s payload length %u over the limit %u",
			    jg_frame_type_name(type), len, d->max_payload);
	if (len != 0 && payload_forbidden(type))
		return fail(d, JG_ERR_PROTO, h, n, "",
			    "%s with a payload of %u bytes (must be empty)",
			    jg_frame_type_name(type), len);
	if (n < 16)
		return 0;
	if (type == JG_FRAME_WINDOW && jg_get_u32(h + 12) == 0)
		return fail(d, JG_ERR_PROTO, h, n, "", "WINDOW with a zero increment");
	return 0;
}

/* Return the checked frame of header HDR and PAYLOAD (in the lent bytes, LENT, or in
 * `in`): 1. */
static int hand_out(struct jg_frame_decoder *d, struct jg_frame *out, const uint8_t *hdr,
		    const uint8_t *payload, int lent)
{
	out->type = hdr[2];
	out->flags = hdr[3];
	out->channel = jg_get_u32(hdr + 4);
	out->length = jg_get_u32(hdr + 8);
	out->aux = jg_get_u32(hdr + 12);
	out->payload = payload;
	d->returned_len = JG_FRAME_HEADER_LEN + out->length;
	d->returned_lent = lent;
	d->offset += d->returned_len;
	return 1;
}

int jg_frame_decoder_next(struct jg_frame_decoder *d, struct jg_frame *out)
{
	uint8_t hdr[JG_FRAME_HEADER_LEN];
	size_t avail, n;
	uint32_t len;
	unsigned char *p;
	int r;

	if (d->err != 0)
		return d->err;
	drop_returned(d);
	if (d->lent != NULL) {
		/* Whole frames are returned from the lent bytes in place; a partial one is
		 * copied into `in` to wait for the rest. */
		const uint8_t *h = d->lent + d->lent_off;

		avail = d->lent_len - d->lent_off;
		if (avail >= JG_FRAME_HEADER_LEN) {
			if ((r = check_header(d, h, JG_FRAME_HEADER_LEN)) != 0)
				return r;
			len = jg_get_u32(h + 8);
			if (avail - JG_FRAME_HEADER_LEN >= len)
				return hand_out(d, out, h, h + JG_FRAME_HEADER_LEN, 1);
		}
		if ((r = jg_frame_decoder_settle(d)) != 0)
			return r;
	}
	avail = evbuffer_get_length(d->in);
	n = avail < JG_FRAME_HEADER_LEN ? avail : JG_FRAME_HEADER_LEN;
	if (n > 0 && evbuffer_copyout(d->in, hdr, n) != (ev_ssize_t)n)
		return JG_ERR_NOMEM;
	if ((r = check_header(d, hdr, n)) != 0)
		return r;
	if (n < JG_FRAME_HEADER_LEN)
		return 0;
	len = jg_get_u32(hdr + 8);
	if (avail - JG_FRAME_HEADER_LEN < len)
		return 0;
	/* One contiguous frame, so the payload can be handed out without a copy of our own. */
	if ((p = evbuffer_pullup(d->in, (ev_ssize_t)(JG_FRAME_HEADER_LEN + len))) == NULL)
		return JG_ERR_NOMEM;
	return hand_out(d, out, hdr, p + JG_FRAME_HEADER_LEN, 0);
}

const char *jg_frame_decoder_error(const struct jg_frame_decoder *d)
{
	return d->err != 0 ? d->errmsg : NULL;
}

size_t jg_frame_decoder_pending(const struct jg_frame_decoder *d)
{
	size_t lent = d->lent != NULL ? d->lent_len - d->lent_off : 0;

	return evbuffer_get_length(d->in) + lent - d->returned_len;
}

uint64_t jg_frame_decoder_offset(const struct jg_frame_decoder *d)
{
	return d->offset;
}

/* The encoder refuses what the decoder would refuse, so a bug on our side
 * shows up here and not as a dead link at the peer. */
int jg_frame_encode(struct evbuffer *out, const struct jg_frame *f)
{
	uint8_t hdr[JG_FRAME_HEADER_LEN];

	if (f->type == 0 || f->type > JG_FRAME_TYPE_MAX)
		return JG_ERR_INVAL;
	if ((f->flags & ~allowed_flags(f->type)) != 0)
		return JG_ERR_INVAL;
	if (f->length > JG_FRAME_LINK_PAYLOAD)
		return JG_ERR_TOOBIG;
	if (f->length != 0 && (payload_forbidden(f->type) || f->payload == NULL))
		return JG_ERR_INVAL;
	if (f->type == JG_FRAME_WINDOW && f->aux == 0)
		return JG_ERR_INVAL;
	jg_put_u16(hdr, JG_FRAME_MAGIC);
	hdr[2] = f->type;
	hdr[3] = f->flags;
	jg_put_u32(hdr + 4, f->channel);
	jg_put_u32(hdr + 8, f->length);
	jg_put_u32(hdr + 12, f->aux);
	/* Reserve first so a frame is appended whole or not at all. */
	if (evbuffer_expand(out, JG_FRAME_HEADER_LEN + f->length) != 0)
		return JG_ERR_NOMEM;
	if (evbuffer_add(out, hdr, sizeof(hdr)) != 0)
		return JG_ERR_NOMEM;
	if (f->length != 0 && evbuffer_add(out, f->payload, f->length) != 0)
		return JG_ERR_NOMEM;
	return 0;
}

int jg_frame_put(struct evbuffer *out, uint8_t type, uint8_t flags, uint32_t channel, uint32_t aux,
		 const void *payload, uint32_t length)
{
	struct jg_frame f;

	f.type = type;
	f.flags = flags;
	f.channel = channel;
	f.aux = aux;
	f.length = length;
	f.payload = payload;
	return jg_frame_encode(out, &f);
}

int jg_frame_put_header(struct evbuffer *out, uint8_t type, uint8_t flags, uint32_t channel,
			uint32_t aux, uint32_t length)
{
	uint8_t hdr[JG_FRAME_HEADER_LEN];

	if (type == 0 || type > JG_FRAME_TYPE_MAX || (flags & ~allowed_flags(type)) != 0)
		return JG_ERR_INVAL;
	if (length > JG_FRAME_LINK_PAYLOAD)
		return JG_ERR_TOOBIG;
	if (length != 0 && payload_forbidden(type))
		return JG_ERR_INVAL;
	jg_put_u16(hdr, JG_FRAME_MAGIC);
	hdr[2] = type;
	hdr[3] = flags;
	jg_put_u32(hdr + 4, channel);
	jg_put_u32(hdr + 8, length);
	jg_put_u32(hdr + 12, aux);
	return evbuffer_add(out, hdr, sizeof(hdr)) == 0 ? 0 : JG_ERR_NOMEM;
}

int jg_frame_put_hello(struct evbuffer *out, const struct jg_hello *h)
{
	uint8_t buf[HELLO_FIXED_LEN + HELLO_ARCH_MAX];
	size_t arch_len = strnlen(h->arch, sizeof(h->arch));

	if (arch_len > HELLO_ARCH_MAX)
		return JG_ERR_INVAL;
	jg_put_u32(buf, h->max_payload);
	jg_put_u32(buf + 4, h->window);
	jg_put_u32(buf + 8, h->capabilities);
	memcpy(buf + HELLO_FIXED_LEN, h->arch, arch_len);
	return jg_frame_put(out, JG_FRAME_HELLO, 0, 0, h->version, buf,
			    (uint32_t)(HELLO_FIXED_LEN + arch_len));
}

int jg_frame_parse_hello(const struct jg_frame *f, struct jg_hello *h)
{
	uint32_t arch_len;

	memset(h, 0, sizeof(*h));
	if (f->type != JG_FRAME_HELLO || f->length < HELLO_FIXED_LEN)
		return JG_ERR_PROTO;
	arch_len = f->length - HELLO_FIXED_LEN;
	if (arch_len > HELLO_ARCH_MAX)
		return JG_ERR_PROTO;
	if (memchr(f->payload + HELLO_FIXED_LEN, '\0', arch_len) != NULL)
		return JG_ERR_PROTO;
	h->version = f->aux;
	h->max_payload = jg_get_u32(f->payload);
	h->window = jg_get_u32(f->payload + 4);
	h->capabilities = jg_get_u32(f->payload + 8);
	memcpy(h->arch, f->payload + HELLO_FIXED_LEN, arch_len);
	h->arch[arch_len] = '\0';
	return 0;
}
