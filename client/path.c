/* Request paths: a target goes into one path segment, percent-encoded. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"

/* Keep RFC 3986 unreserved characters and the ':' and '@' of target specs; encode the rest,
 * '/' above all: a chain "ssh:a/lxc:b" is one segment, not two. */
static int segment_escape(char *dst, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (o + 4 > len)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~:@", ch) != NULL) {
			dst[o++] = (char)ch;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = '\0';
	return 0;
}

int jg_client_target_path(char *buf, size_t len, const char *target, const char *rest)
{
	static const char prefix[] = "/v1/targets/";
	size_t n;

	if (len < sizeof(prefix))
		return -1;
	memcpy(buf, prefix, sizeof(prefix));
	n = sizeof(prefix) - 1;
	if (segment_escape(buf + n, len - n, target) != 0)
		return -1;
	n += strlen(buf + n);
	if (n + 1 + strlen(rest) >= len)
		return -1;
	snprintf(buf + n, len - n, "/%s", rest);
	return 0;
}
