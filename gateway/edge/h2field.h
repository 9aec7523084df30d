/* A filter in front of nghttp2 for one oversized header field.
 *
 * nghttp2's HPACK decoder refuses any name or value longer than 64 KiB with a
 * connection error (COMPRESSION_ERROR), before our header callback could answer
 * the request 431 as documented for max_header_list_size.  This sans-I/O filter
 * reads the client's bytes first: it follows the frames, and holds each header
 * block (HEADERS + CONTINUATION) until its END_HEADERS; a block with a string over
 * JG_H2FIELD_MAX is re-framed with that string replaced by a filler of 4097 bytes
 * -- still too big for the 4096-byte dynamic table, so the table stays in step
 * with the client's encoder, which evicted everything and kept nothing too -- and
 * its stream is flagged, for h2session.c to answer 431.  Everything else passes through
 * unchanged.  Malformed input is passed on for nghttp2 to judge. */
#ifndef JG_H2FIELD_H
#define JG_H2FIELD_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct jg_h2field;

/* nghttp2's limit on one HPACK string (NGHTTP2_HD_MAX_NV). */
#define JG_H2FIELD_MAX 65536u

/* A filter for the server side of a connection (the client preface comes first).
 * NULL when out of memory. */
struct jg_h2field *jg_h2field_new(void);
void jg_h2field_free(struct jg_h2field *f);
/* Take LEN bytes from the client; append to OUT what nghttp2 is to read now.
 * 0, or -1 when out of memory. */
int jg_h2field_feed(struct jg_h2field *f, const uint8_t *in, size_t len, struct evbuffer *out);
/* jg_h2field_feed in two steps, so that frame payloads that pass unchanged (DATA above
 * all) reach nghttp2 from where they are, not copied into OUT: feed_some takes bytes up
 * to the start of such a payload (its count, or JG_H2FIELD_NOMEM), and pass says how
 * many of the next LEN bytes are that payload, counting them as passed.  The caller
 * hands nghttp2 what OUT holds first, then those bytes. */
#define JG_H2FIELD_NOMEM ((size_t)-1)
size_t jg_h2field_feed_some(struct jg_h2field *f, const uint8_t *in, size_t len,
			    struct evbuffer *out);
size_t jg_h2field_pass(struct jg_h2field *f, size_t len);
/* 1 (once) when STREAM_ID's header block had an oversized field replaced. */
int jg_h2field_take(struct jg_h2field *f, int32_t stream_id);

#endif
