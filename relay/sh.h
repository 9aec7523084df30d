/* Quoting for a POSIX shell: the one place that turns words into shell text.
 *
 * A word is quoted as '...' with every ' written '\'' (close, an escaped quote,
 * reopen), which every POSIX shell and csh read back byte for byte: nothing is
 * special between single quotes.  ssh's remote command, the bootstrap stub and
 * a hop chain's command line all go through here. */
#ifndef JG_SH_H
#define JG_SH_H

/* S quoted as one word, always in single quotes, in a malloc'd string; NULL on ENOMEM. */
char *jg_sh_quote(const char *s);
/* ARGV as one POSIX shell command line: each word quoted (as jg_sh_quote) unless it is
 * made only of characters no shell treats specially.  NULL on ENOMEM. */
char *jg_sh_join(char *const *argv);

#endif
