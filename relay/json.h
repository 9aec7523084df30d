/* JSON text from arbitrary bytes, and the error body every HTTP answer carries: JSON
 * is built with jansson, never by hand.
 *
 * JSON strings are Unicode text; what we put in them (a peer's name, a path, a
 * program's output) may hold any bytes.  Bytes that are not UTF-8 become U+FFFD, so
 * the document is always valid and every other byte arrives as it was. */
#ifndef JG_JSON_H
#define JG_JSON_H

#include <stddef.h>

#include <jansson.h>

/* [S, S+N) as a JSON string, invalid UTF-8 bytes each as U+FFFD.  A new reference, or
 * NULL on ENOMEM. */
json_t *jg_json_text(const void *s, size_t n);
/* {"error":ERROR,"reason":REASON} and a newline, compact, in a malloc'd string (its
 * length in *LEN); NULL on ENOMEM. */
char *jg_json_error(const char *error, const char *reason, size_t *len);

#endif
