/* Percent-encoding (RFC 3986) for request paths and query values: the one encoder
 * and the one decoder the client and the gateway share.
 *
 * Encoding keeps the unreserved characters (ALPHA DIGIT - . _ ~) and the ones the
 * caller names (':' and '@' of a target spec, '/' of a path) and writes every other
 * byte as %XX in upper case.  Decoding refuses a bad escape and an encoded NUL: no
 * target, path or value of ours holds one, and a NUL would cut a C string short. */
#ifndef JG_PCT_H
#define JG_PCT_H

#include <stddef.h>

struct evbuffer;

/* S encoded into DST (LEN bytes with the NUL), KEEP (NULL: none) left as it is.
 * 0, or -1 when DST is too small. */
int jg_pct_encode(char *dst, size_t len, const char *s, const char *keep);
/* S encoded (as jg_pct_encode) and appended to B.  0, or -1 on ENOMEM. */
int jg_pct_encode_evbuffer(struct evbuffer *b, const char *s, const char *keep);
/* [SRC, SRC+LEN) decoded into DST (room for LEN+1 bytes), NUL-terminated; '+' stays '+'.
 * 0, or -1 on a bad escape ('%' not followed by two hex digits) or an encoded NUL. */
int jg_pct_decode(const char *src, size_t len, char *dst);
/* As jg_pct_decode into a new string; NULL on a bad escape, an encoded NUL or ENOMEM. */
char *jg_pct_decode_dup(const char *src, size_t len);

/* The percent-decoded value of query parameter NAME in QUERY ("a=1&b=2") into a new
 * string.  1 found, 0 absent, -1 badly encoded (or out of memory). */
int jg_pct_query_param(const char *query, const char *name, char **out);

#endif
