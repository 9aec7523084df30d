/* Percent-encoding (pct.h). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/pct.h"

static const char hex[] = "0123456789ABCDEF";

static int keeps(unsigned char ch, const char *keep)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("-._~", ch) != NULL || (keep != NULL && strchr(keep, ch) != NULL);
}

/* CH as it goes on the wire into OUT (up to 3 bytes); how many bytes. */
static size_t encode_one(unsigned char ch, const char *keep, char out[3])
{
	if (keeps(ch, keep)) {
		out[0] = (char)ch;
		return 1;
	}
	out[0] = '%';
	out[1] = hex[ch >> 4];
	out[2] = hex[ch & 15];
	return 3;
}

int jg_pct_encode(char *dst, size_t len, const char *s, const char *keep)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		char one[3];
		size_t n = encode_one((unsigned char)*s, keep, one);

		if (o + n >= len)
			return -1;
		memcpy(dst + o, one, n);
		o += n;
	}
	if (o >= len)
		return -1;
	dst[o] = '\0';
	return 0;
}

int jg_pct_encode_evbuffer(struct evbuffer *b, const char *s, const char *keep)
{
	for (; *s != '\0'; s++) {
		char one[3];
		size_t n = encode_one((unsigned char)*s, keep, one);

		if (evbuffer_add(b, one, n) != 0)
			return -1;
	}
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int jg_pct_decode(const char *src, size_t len, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (src[i] != '%') {
			dst[o++] = src[i];
			continue;
		}
		if (i + 2 >= len)
			return -1;
		hi = hexval((unsigned char)src[i + 1]);
		lo = hexval((unsigned char)src[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		dst[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	dst[o] = '\0';
	return 0;
}

char *jg_pct_decode_dup(const char *src, size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL && jg_pct_decode(src, len, d) != 0) {
		free(d);
		d = NULL;
	}
	return d;
}

int jg_pct_query_param(const char *query, const char *name, char **out)
{
	size_t nlen = strlen(name);
	const char *p = query;

	*out = NULL;
	while (*p != '\0') {
		size_t len = strcspn(p, "&");

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			*out = jg_pct_decode_dup(p + nlen + 1, len - nlen - 1);
			return *out != NULL ? 1 : -1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}
