/* The manual pages of the commands added after client.h was laid out (help.c). */
#ifndef JG_CLIENT_HELP_H
#define JG_CLIENT_HELP_H

void jg_help_cp(void);
void jg_help_run(void);
/* pages.c: the small commands' pages, and `jumpgate help [COMMAND]`: the page of COMMAND
 * (the main page for NULL) and 0, or a usage error (exit 2) for no such command. */
void jg_help_reset(void);
void jg_help_stats(void);
void jg_help_routes(void);
void jg_help_targets(void);
void jg_help_whoami(void);
void jg_help_help(void);
int jg_help_show(const char *cmd);

#endif
