/* jumpgated -t: the files a parsed configuration refers to, checked the way the
 * gateway will use them, each problem as "FILE:LINE: key: what" (nginx -t, sshd -t).
 *
 * Parsing already names file:line for what the file says; this is what it points at:
 * the TLS files, the CRL, every site's files, ssh keys (identity_file), the agents,
 * the state directory and the audit log.  Nothing is created or changed (an audit file that is
 * missing is judged by its directory). */
#ifndef JG_CONFIG_CHECK_H
#define JG_CONFIG_CHECK_H

#include <stddef.h>

struct jg_config;

/* Called once per problem with one line of text (no newline). */
typedef void (*jg_config_report_fn)(void *ud, const char *msg);

/* Check C's files; AGENT is the agent binary jumpgated would send (NULL: not checked
 * here).  The number of problems reported through REPORT. */
int jg_config_check_files(const struct jg_config *c, const char *agent, jg_config_report_fn report,
			  void *ud);

/* Can the audit log be written at PATH (NULL or "stderr": yes) without creating
 * anything?  0, or -1 with a sentence in WHY. */
int jg_config_check_audit(const char *path, char *why, size_t len);

#endif
