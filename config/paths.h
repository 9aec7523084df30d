/* Where jumpgate keeps its state: $JUMPGATE_HOME, else /var/lib/jumpgate for
 * root, else ~/.local/state/jumpgate ($HOME, never a passwd lookup).  The
 * gateway and the client compute it the same way, so a client on the bastion
 * finds the generated certificates with no options. */
#ifndef JG_PATHS_H
#define JG_PATHS_H

#include <stddef.h>

/* File names inside the state directory. */
#define JG_CA_CERT "ca.pem"
#define JG_CA_KEY "ca.key"
#define JG_SERVER_CERT "server.pem"
#define JG_SERVER_KEY "server.key"
#define JG_CLIENT_CERT "client.pem"
#define JG_CLIENT_KEY "client.key"

/* Write the default state directory into BUF. 0, JG_ERR_TOOBIG, or JG_ERR_NOTFOUND when
 * neither $JUMPGATE_HOME nor $HOME is set for a non-root user. */
int jg_paths_state_dir(char *buf, size_t len);
/* Where the audit log goes when the configuration does not say: $LOGS_DIRECTORY/audit.log
 * (systemd's LogsDirectory=, its first entry: /var/log/jumpgate under the shipped unit),
 * else JG_LOGDIR/audit.log (/var/log/jumpgate) for the system state directory
 * /var/lib/jumpgate, else STATE_DIR/audit.log (a user's or a test's own gateway keeps
 * its audit beside its state).  0 or JG_ERR_TOOBIG. */
int jg_paths_audit_default(const char *state_dir, char *buf, size_t len);
/* Join DIR and NAME with one '/'. 0 or JG_ERR_TOOBIG. */
int jg_paths_join(char *buf, size_t len, const char *dir, const char *name);
/* Create DIR and its parents with MODE (like mkdir -p). 0 or JG_ERR_IO (errno set). */
int jg_paths_mkdir_p(const char *dir, unsigned mode);

#endif
