/* JSON text and error bodies (json.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/json.h"

/* Length of the valid UTF-8 sequence at P (at most N bytes), 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t need;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

json_t *jg_json_text(const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i = 0, o = 0;
	char *buf;
	json_t *j;

	if (n == 0)
		return json_string("");
	if ((buf = malloc(n * 3)) == NULL)
		return NULL;
	while (i < n) {
		size_t k = utf8_len(p + i, n - i);

		if (k == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(buf + o, p + i, k);
		o += k;
		i += k;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

char *jg_json_error(const char *error, const char *reason, size_t *len)
{
	json_t *o = json_object();
	char *body = NULL, *out = NULL;

	if (o == NULL || json_object_set_new(o, "error", jg_json_text(error, strlen(error))) != 0 ||
	    json_object_set_new(o, "reason", jg_json_text(reason, strlen(reason))) != 0 ||
	    (body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	*len = strlen(body) + 1;
	if ((out = malloc(*len + 1)) != NULL) {
		memcpy(out, body, *len - 1);
		memcpy(out + *len - 1, "\n", 2);
	}
out:
	free(body);
	json_decref(o);
	return out;
}
