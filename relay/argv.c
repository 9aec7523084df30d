/* The growing argv of relay/argv.h. */
#include "config.h" /* _GNU_SOURCE: vasprintf */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/argv.h"

void jg_argv_push_take(struct jg_argv *b, char *s)
{
	char **nv;

	if (s == NULL || b->nomem) {
		b->nomem = 1;
		free(s);
		return;
	}
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;

		if ((nv = realloc(b->v, cap * sizeof(*nv))) == NULL) {
			b->nomem = 1;
			free(s);
			return;
		}
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
}

void jg_argv_push(struct jg_argv *b, const char *s)
{
	jg_argv_push_take(b, strdup(s));
}

void jg_argv_pushn(struct jg_argv *b, const char *s, size_t len)
{
	jg_argv_push_take(b, strndup(s, len));
}

void jg_argv_pushf(struct jg_argv *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	jg_argv_push_take(b, s);
}

void jg_argv_push_all(struct jg_argv *b, char *const *v)
{
	for (; v != NULL && *v != NULL; v++)
		jg_argv_push(b, *v);
}

char **jg_argv_take(struct jg_argv *b)
{
	char **v;

	if (!b->nomem && b->v == NULL)
		b->v = calloc(1, sizeof(*b->v));
	if (b->nomem || b->v == NULL) {
		jg_argv_free(b->v);
		v = NULL;
	} else {
		v = b->v;
	}
	b->v = NULL;
	b->n = b->cap = 0;
	b->nomem = 0;
	return v;
}

void jg_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

void jg_argv_clear(struct jg_argv *b)
{
	jg_argv_free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
	b->nomem = 0;
}
