/* Quoting for a POSIX shell (sh.h). */
#include <stdlib.h>
#include <string.h>

#include "relay/sh.h"

/* Bytes S takes quoted, without the terminating NUL. */
static size_t quoted_len(const char *s)
{
	size_t n = 2; /* the quotes */

	for (; *s != '\0'; s++)
		n += *s == '\'' ? 4 : 1;
	return n;
}

/* Write S quoted at OUT (room for quoted_len(S) bytes); the end of what was written. */
static char *put_quoted(char *out, const char *s)
{
	*out++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(out, "'\\''", 4); /* close, an escaped quote, reopen */
			out += 4;
		} else {
			*out++ = *s;
		}
	}
	*out++ = '\'';
	return out;
}

/* Characters no POSIX shell (nor csh) treats specially in a word. */
static int word_is_plain(const char *s)
{
	/* zsh expands a word starting with '=' (=cmd is the path of cmd) */
	if (*s == '\0' || *s == '=')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-./=:@%+,", *s) != NULL))
			return 0;
	return 1;
}

char *jg_sh_quote(const char *s)
{
	char *out = malloc(quoted_len(s) + 1);

	if (out != NULL)
		*put_quoted(out, s) = '\0';
	return out;
}

char *jg_sh_join(char *const *argv)
{
	size_t len = 1;
	char *out, *o;

	for (char *const *a = argv; *a != NULL; a++)
		len += quoted_len(*a) + 1; /* and the space */
	if ((out = o = malloc(len)) == NULL)
		return NULL;
	for (char *const *a = argv; *a != NULL; a++) {
		if (a != argv)
			*o++ = ' ';
		if (word_is_plain(*a)) {
			memcpy(o, *a, strlen(*a));
			o += strlen(*a);
		} else {
			o = put_quoted(o, *a);
		}
	}
	*o = '\0';
	return out;
}
