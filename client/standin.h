/* One-word stand-ins: `jumpgate-ssh`, `jumpgate-scp` and `jumpgate-sftp`, the names under
 * which the jumpgate binary (a symlink to it, installed by `make install`) behaves as an
 * ssh-compatible program.  Tools that take ONE executable path (Ansible's
 * ansible_ssh_executable, rsync --rsh=, GIT_SSH, scp -S, Mitogen's ssh_path) cannot take
 * the two words `jumpgate rsh`; they take these.
 *
 *   jumpgate-ssh ARGS   is exactly `jumpgate rsh ARGS` (no global options: the gateway and
 *                       the certificate come from JUMPGATE_GATEWAY, JUMPGATE_CERT, ...);
 *   jumpgate-scp ARGS   runs OpenSSH's `scp -S SSH ARGS`, SSH being the jumpgate-ssh next
 *                       to this program (or on PATH), so scp's transport is the gateway;
 *   jumpgate-sftp ARGS  the same with `sftp -S SSH ARGS`.
 *
 * The choice and the argv are sans-I/O (tested in tests/unit/test_standin.c); only
 * jg_standin_find_ssh() looks at the file system and jg_standin_exec() replaces the
 * process. */
#ifndef JG_STANDIN_H
#define JG_STANDIN_H

#include <stddef.h>

enum jg_standin {
	JG_STANDIN_NONE = 0, /* plain `jumpgate`: global options, then a command */
	JG_STANDIN_SSH,	     /* jumpgate-ssh: `jumpgate rsh` */
	JG_STANDIN_SCP,	     /* jumpgate-scp: scp -S jumpgate-ssh */
	JG_STANDIN_SFTP,     /* jumpgate-sftp: sftp -S jumpgate-ssh */
};

/* The name of the ssh stand-in, as installed in bindir. */
#define JG_STANDIN_SSH_NAME "jumpgate-ssh"

/* Which stand-in ARGV0 names: its last path component, exactly (no other suffix or
 * prefix: "jumpgate-ssh.sh" or "my-jumpgate-ssh" are plain jumpgate). */
enum jg_standin jg_standin_kind(const char *argv0);

/* The OpenSSH program a transfer stand-in runs ("scp", "sftp"), NULL for the others. */
const char *jg_standin_program(enum jg_standin kind);

/* The argv a transfer stand-in executes: {PROGRAM, "-S", SSH, ARGV[1..ARGC), NULL} into
 * OUT, which holds ARGC + 3 pointers (all borrowed).  0, or JG_ERR_INVAL when KIND is not
 * a transfer stand-in. */
int jg_standin_argv(enum jg_standin kind, const char *ssh, int argc, char *const *argv, char **out);

/* The jumpgate-ssh to give scp/sftp, into BUF: the one in ARGV0's directory when ARGV0
 * holds a '/', else the first on PATH.  0, or JG_ERR_NOTFOUND (nothing executable of that
 * name in either place). */
int jg_standin_find_ssh(const char *argv0, char *buf, size_t len);

/* Run a transfer stand-in: execvp() of its program with the argv above.  Returns only on
 * failure, with the exit status to use (the reason printed on stderr). */
int jg_standin_exec(enum jg_standin kind, int argc, char **argv);

#endif
