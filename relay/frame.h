/* The jumpgate frame codec: sans-I/O.
 *
 * Wire format (docs/protocol.md is the byte-exact spec), all big-endian:
 *
 *   magic u16 (0x4A47 "JG") | type u8 | flags u8 | channel u32 | length u32 | aux u32 | payload
 *
 * The decoder eats bytes (jg_frame_decoder_feed) and yields whole, validated
 * frames (jg_frame_decoder_next).  The encoder appends frames to an evbuffer
 * that the caller drains to its transport.  Nothing here touches a socket. */
#ifndef JG_FRAME_H
#define JG_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define JG_FRAME_MAGIC 0x4A47u
#define JG_FRAME_HEADER_LEN 16u
/* Payload limit every implementation accepts; HELLO may announce a smaller one.
 * Frames inside HTTP/2 exec streams never exceed it. */
#define JG_FRAME_MAX_PAYLOAD 32768u
/* The payload a link of this version announces in HELLO and accepts: larger frames
 * mean fewer headers, callbacks and wake-ups per byte.  A peer announcing less (an
 * older agent: 32 KiB) is sent no more than it announced. */
#define JG_FRAME_LINK_PAYLOAD 262144u
/* Default per-channel receive window (credit), in DATA payload bytes: four link
 * frames, so that a bulk channel keeps every process of the pipe busy. */
#define JG_FRAME_DEFAULT_WINDOW 1048576u
/* Largest window a peer may hold: 2^31 - 1, as in HTTP/2. */
#define JG_FRAME_MAX_WINDOW 0x7fffffffu
#define JG_PROTOCOL_VERSION 1u

enum jg_frame_type {
	JG_FRAME_HELLO = 1,	/* ch 0; aux = version; payload: struct jg_hello */
	JG_FRAME_OPEN = 2,	/* aux = enum jg_open_kind; payload: spec fields (relay/spec.h) */
	JG_FRAME_OPEN_OK = 3,	/* payload: empty, or kind-specific fields (GET: a file spec) */
	JG_FRAME_OPEN_FAIL = 4, /* payload: reason text (UTF-8, no NUL) */
	JG_FRAME_DATA = 5,   /* flags: JG_DATA_STDERR; payload: bytes, counts against the window */
	JG_FRAME_EOF = 6,    /* half-close of one direction; flags: JG_DATA_STDERR selects stderr */
	JG_FRAME_WINDOW = 7, /* aux = credit increment (> 0); no payload */
	JG_FRAME_EXIT =
	    8, /* aux = exit code or signal; flags: JG_EXIT_*; last frame on a channel */
	JG_FRAME_SIGNAL = 9,  /* aux = signal number to deliver */
	JG_FRAME_RESIZE = 10, /* aux = rows << 16 | cols */
	JG_FRAME_CLOSE = 11,  /* abandon the channel; no payload */
	JG_FRAME_PING = 12,   /* ch 0; aux = opaque, echoed */
	JG_FRAME_PONG = 13,   /* ch 0; aux = the PING's aux */
	JG_FRAME_DEAD = 14,   /* payload: reason; ch 0 = the whole link */
};
#define JG_FRAME_TYPE_MAX JG_FRAME_DEAD

/* DATA / EOF flags. */
#define JG_DATA_STDERR 0x01u
/* EXIT flags. */
#define JG_EXIT_SIGNALED 0x01u /* aux is a signal number, not an exit code */
#define JG_EXIT_CORE 0x02u     /* with SIGNALED: a core was dumped */

/* What an OPEN asks for (aux of OPEN). */
enum jg_open_kind {
	JG_OPEN_EXEC = 1,
	JG_OPEN_PUT = 2,
	JG_OPEN_GET = 3,
	JG_OPEN_TUNNEL = 4,
	JG_OPEN_STAT = 5,
};

/* One decoded frame.  payload is borrowed: valid until the next call on the
 * decoder that produced it (or, for encoding, only during the call). */
struct jg_frame {
	uint8_t type;
	uint8_t flags;
	uint32_t channel;
	uint32_t aux;
	uint32_t length;
	const uint8_t *payload;
};

/* HELLO payload: max_payload u32 | window u32 | capabilities u32 | arch (rest, <= 64 bytes, no
 * NUL). */
struct jg_hello {
	uint32_t version;
	uint32_t max_payload;
	uint32_t window;
	uint32_t capabilities;
	char arch[65];
};

struct jg_frame_decoder;

/* A decoder accepting payloads up to max_payload (0 means JG_FRAME_MAX_PAYLOAD). NULL on ENOMEM. */
struct jg_frame_decoder *jg_frame_decoder_new(uint32_t max_payload);
void jg_frame_decoder_free(struct jg_frame_decoder *d);
/* Append LEN input bytes (copied). 0, or JG_ERR_NOMEM. Feeding a failed decoder is allowed and
 * ignored. */
int jg_frame_decoder_feed(struct jg_frame_decoder *d, const void *data, size_t len);
/* Lend LEN input bytes: the whole frames among them are returned in place, with no
 * copy (a partial frame already waiting is completed by copying, as feed does).
 * The bytes are the caller's and must stay as they are until
 * jg_frame_decoder_settle(), which the caller calls before they go away, whether or
 * not it took every frame: it copies what is left (a partial frame, frames not
 * taken).  0, or JG_ERR_NOMEM. */
int jg_frame_decoder_lend(struct jg_frame_decoder *d, const void *data, size_t len);
/* Copy what is left of the lent bytes into the decoder (nothing when none were lent);
 * after it the previous frame's payload pointer is invalid.  0, or JG_ERR_NOMEM. */
int jg_frame_decoder_settle(struct jg_frame_decoder *d);
/* Move all of SRC's bytes into the decoder without copying. 0 or JG_ERR_NOMEM. */
int jg_frame_decoder_feed_evbuffer(struct jg_frame_decoder *d, struct evbuffer *src);
/* Next whole frame: 1 and *out filled; 0 when more bytes are needed; JG_ERR_PROTO or
 * JG_ERR_TOOBIG when the input is bad -- the decoder then stays failed and
 * jg_frame_decoder_error() describes the offending bytes. The previous frame's payload
 * pointer becomes invalid. */
int jg_frame_decoder_next(struct jg_frame_decoder *d, struct jg_frame *out);
/* Why the decoder failed ("bad magic 0x4142 at offset 0 (header bytes 41 42 ...), expected 0x4a47
 * ('JG')"); NULL when it has not. */
const char *jg_frame_decoder_error(const struct jg_frame_decoder *d);
/* Bytes buffered but not yet returned as frames (a partial frame at EOF means truncation). */
size_t jg_frame_decoder_pending(const struct jg_frame_decoder *d);
/* Total input bytes consumed so far (offsets in error messages are relative to this). */
uint64_t jg_frame_decoder_offset(const struct jg_frame_decoder *d);

/* Append one frame to OUT. JG_ERR_TOOBIG when f->length > JG_FRAME_MAX_PAYLOAD,
 * JG_ERR_INVAL for an unknown type or anything else the decoder would refuse (flags
 * not allowed for the type, a payload on a header-only type, WINDOW with aux 0), JG_ERR_NOMEM. */
int jg_frame_encode(struct evbuffer *out, const struct jg_frame *f);
/* Convenience encoders; same returns as jg_frame_encode. */
int jg_frame_put(struct evbuffer *out, uint8_t type, uint8_t flags, uint32_t channel, uint32_t aux,
		 const void *payload, uint32_t length);
/* Only the header of a frame whose LENGTH payload bytes the caller appends next
 * (moved from another buffer, no copy).  Same checks as jg_frame_encode. */
int jg_frame_put_header(struct evbuffer *out, uint8_t type, uint8_t flags, uint32_t channel,
			uint32_t aux, uint32_t length);
int jg_frame_put_hello(struct evbuffer *out, const struct jg_hello *h);
/* Parse a HELLO frame's payload into *h. 0 or JG_ERR_PROTO. */
int jg_frame_parse_hello(const struct jg_frame *f, struct jg_hello *h);
/* Name of a frame type ("DATA"), or "UNKNOWN". */
const char *jg_frame_type_name(unsigned type);

#endif
