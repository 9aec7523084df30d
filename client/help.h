/* The manual pages of the commands added after client.h was laid out (help.c). */
#ifndef JG_CLIENT_HELP_H
#define JG_CLIENT_HELP_H

void jg_help_cp(void);
void jg_help_run(void);

#endif
