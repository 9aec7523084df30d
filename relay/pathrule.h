/* Path rules: the policy's `paths` dimension as the gateway hands it to an agent
 * (docs/protocol.md, the RULES field), so the agent judges the path it really
 * opens, after following symlinks, not only the string the client typed.
 * Sans-I/O: strings in, verdicts out.
 *
 * RULES is a list of NUL-terminated strings back to back, in policy order, each
 * "+PREFIX" (allow) or "-PREFIX" (deny), PREFIX absolute.  A path's verdict is the
 * sign of the first entry whose prefix covers it (jg_path_under); none: denied.
 * The gateway builds it from the rules that match the request in every dimension
 * but `paths` (a rule without `paths` becomes "+/" or "-/" and ends the list). */
#ifndef JG_PATHRULE_H
#define JG_PATHRULE_H

#include <stddef.h>

/* PATH (absolute, normalised) is PREFIX or beneath it, on a component boundary:
 * "/srv/" and "/srv" both cover "/srv" and "/srv/a", neither covers "/srvx". */
int jg_path_under(const char *prefix, const char *path);

/* Is RULES (LEN bytes) well formed?  0, or JG_ERR_PROTO with the reason in ERR. */
int jg_pathrule_valid(const char *rules, size_t len, char *err, size_t errlen);

/* 1 when RULES allow PATH (absolute, normalised), else 0. */
int jg_pathrule_allows(const char *rules, size_t len, const char *path);

/* Lexical resolution of TARGET (a symlink's contents) seen from directory DIR
 * (absolute, symlink-free): DIR/TARGET, or TARGET when absolute, with "", "."
 * and ".." components resolved as words ("/" has no parent).  A new string, or
 * NULL when out of memory. */
char *jg_path_lexical(const char *dir, const char *target);

#endif
