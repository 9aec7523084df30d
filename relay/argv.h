/* A growing, NULL-terminated argv of heap strings: the one growable string vector
 * (argvs, directory listings, target lists).  Out of memory is sticky (nomem), so a
 * builder pushes without checks and looks once at the end.  A zeroed struct is empty. */
#ifndef JG_ARGV_H
#define JG_ARGV_H

#include <stddef.h>

struct jg_argv {
	char **v; /* NULL-terminated once anything was pushed; owned */
	size_t n, cap;
	int nomem;
};

/* Append S (taken: freed on failure; NULL sets nomem). */
void jg_argv_push_take(struct jg_argv *b, char *s);
/* Append a copy of S. */
void jg_argv_push(struct jg_argv *b, const char *s);
/* Append a copy of the LEN bytes at S (a NUL among them ends the copy). */
void jg_argv_pushn(struct jg_argv *b, const char *s, size_t len);
/* Append a formatted string. */
void jg_argv_pushf(struct jg_argv *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append copies of every string of V (NULL-terminated; NULL is empty). */
void jg_argv_push_all(struct jg_argv *b, char *const *v);
/* Hand the vector over (an empty one becomes {NULL}); NULL when nomem (all freed). */
char **jg_argv_take(struct jg_argv *b);
/* Free an argv (NULL is fine). */
void jg_argv_free(char **argv);
/* Free B's strings and empty it (nomem too), ready for reuse. */
void jg_argv_clear(struct jg_argv *b);

#endif
