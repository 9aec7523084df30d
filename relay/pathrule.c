/* Path rules (relay/pathrule.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/err.h"
#include "relay/pathrule.h"

int jg_path_under(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (strncmp(prefix, path, n) != 0)
		return 0;
	return n == 1 || path[n] == '\0' || path[n] == '/';
}

int jg_pathrule_valid(const char *rules, size_t len, char *err, size_t errlen)
{
	size_t off = 0, n;

	if (len == 0 || rules[len - 1] != '\0') {
		snprintf(err, errlen, "RULES field: %s", len == 0 ? "empty" : "not NUL-terminated");
		return JG_ERR_PROTO;
	}
	for (; off < len; off += n + 1) {
		n = strlen(rules + off);
		if (n < 2 || (rules[off] != '+' && rules[off] != '-') || rules[off + 1] != '/') {
			snprintf(
			    err, errlen,
			    "RULES field: entry at offset %zu is not \"+/PREFIX\" or \"-/PREFIX\"",
			    off);
			return JG_ERR_PROTO;
		}
	}
	return 0;
}

int jg_pathrule_allows(const char *rules, size_t len, const char *path)
{
	for (size_t off = 0; off < len; off += strlen(rules + off) + 1)
		if (jg_path_under(rules + off + 1, path))
			return rules[off] == '+';
	return 0;
}

char *jg_path_lexical(const char *dir, const char *target)
{
	size_t cap = strlen(dir) + strlen(target) + 3, w = 0, n;
	const char *p = target;
	char *o;

	if ((o = malloc(cap)) == NULL)
		return NULL;
	if (target[0] != '/') {
		/* Start from DIR, itself normalised the same way. */
		char *d = jg_path_lexical("/", dir);

		if (d == NULL) {
			free(o);
			return NULL;
		}
		w = strcmp(d, "/") == 0 ? 0 : strlen(d);
		memcpy(o, d, w);
		free(d);
	}
	while (*p != '\0') {
		p += strspn(p, "/");
		if ((n = strcspn(p, "/")) == 0)
			break;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (w > 0 && o[w - 1] != '/')
				w--;
			if (w > 0)
				w--; /* the slash before the popped component */
		} else if (!(n == 1 && p[0] == '.')) {
			o[w++] = '/';
			memcpy(o + w, p, n);
			w += n;
		}
		p += n;
	}
	if (w == 0)
		o[w++] = '/';
	o[w] = '\0';
	return o;
}
