/* jumpgate, the controller CLI: what every command shares.
 *
 * main() owns the one struct jg_client (options, resolved paths, the event
 * base) and passes it to the command it runs; nothing else is global.
 *
 * Exit status of every command: the remote program's status, 128+N when it
 * died of signal N, JG_EXIT_USAGE for a command-line error and
 * JG_EXIT_FAILURE when jumpgate itself failed (connection, TLS, gateway). */
#ifndef JG_CLIENT_H
#define JG_CLIENT_H

#include <limits.h>
#include <stddef.h>

struct event_base;

#define JG_EXIT_USAGE 2
#define JG_EXIT_FAILURE 255

#define JG_DEFAULT_GATEWAY "127.0.0.1:4443"
#define JG_DEFAULT_PORT "4443"
#define JG_DEFAULT_CONNECT_TIMEOUT 10
#define JG_DEFAULT_TIMEOUT 30
/* Seconds the persistent client stays after its last use (--persist, JUMPGATE_PERSIST). */
#define JG_DEFAULT_PERSIST 60
/* -g unix:PATH */
#define JG_GATEWAY_UNIX_PREFIX "unix:"
/* -g a,b,...: at most this many gateways (client/failover.h) */
#define JG_CLIENT_GATEWAYS_MAX 8

#define JG_CLIENT_DEFAULT_CERT 0x1u
#define JG_CLIENT_DEFAULT_KEY 0x2u
#define JG_CLIENT_DEFAULT_CA 0x4u

struct jg_client {
	struct event_base *base;
	/* From the command line (borrowed from argv), NULL when not given. */
	const char *opt_gateway, *opt_cert, *opt_key, *opt_ca;
	/* Filled by jg_client_setup(). */
	char gateway[300]; /* as the user wrote it, for messages: "127.0.0.1:4443" */
	char host[256];	   /* without brackets: "::1" */
	char port[8];
	/* "unix:PATH": the gateway's Unix socket (h2c with prior knowledge, no TLS; the
	 * gateway names us unix:<user> from SO_PEERCRED).  "" for TCP and TLS. */
	char unix_path[108];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char ca[PATH_MAX];
	char state_dir[PATH_MAX]; /* "" when it could not be computed */
	unsigned defaults;	  /* JG_CLIENT_DEFAULT_*: which files are the state-dir defaults */
	int connect_timeout;	  /* seconds: TCP connect plus TLS handshake */
	int timeout; /* seconds of silence from the gateway (PINGs unanswered); 0: none */
	const char *opt_timeout; /* --timeout, borrowed from argv, NULL when not given */
	/* The persistent client (client/mux.h): its idle time in seconds, 0 when off. */
	int persist;
	const char *opt_persist; /* --persist, borrowed from argv, NULL when not given */
	int verbose;
	/* What the errors of an operation start with: "jumpgate rsh"; NULL: "jumpgate". */
	const char *prog;
	/* Several gateways, `-g a,b` (client/failover.c): the list split in place, which one
	 * is current (copied into gateway/host/port above), how many were tried since a
	 * connection last opened. */
	char gateway_list[JG_CLIENT_GATEWAYS_MAX * 300];
	const char *gateways[JG_CLIENT_GATEWAYS_MAX];
	int ngateways, gateway_at, gateways_tried;
	int retry;	   /* --retry, JUMPGATE_RETRY=1: the command may run again after a loss */
	int gateway_lost;  /* a connection failed once open: what it carried may have run */
	int lost_unheard;  /* one failed before the gateway's SETTINGS: it acted on nothing */
	int heard;	   /* this run heard a gateway's SETTINGS: it may have acted */
	int rerun_unheard; /* the command sends no stdin: it may run again after lost_unheard */
	int reruns;	   /* how many times the command ran again (--retry) */
	int stdin_read;	   /* our stdin was read and sent: the command cannot run again */
};

/* Print "jumpgate: <message>" on stderr, one line.  The single place where the client
 * reports an error to the person running it. */
void jg_client_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error ("jumpgate: <message>" then "try 'jumpgate --help'") and return
 * JG_EXIT_USAGE, so callers can write: return jg_client_usage(...). */
int jg_client_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Resolve the gateway address, the connect timeout and the certificate paths from the
 * options, the environment and the defaults (no certificates for a unix: gateway).
 * Commands call it after parsing their own arguments (so `exec --help` needs no state
 * directory).  0, or the exit status to return (the message is printed). */
int jg_client_setup(struct jg_client *c);

/* Build "/v1/targets/<TARGET percent-encoded>/<REST>" into BUF. 0, or -1 when too long. */
int jg_client_target_path(char *buf, size_t len, const char *target, const char *rest);

/* Manual pages, printed to stdout (help.c). */
/* Prefix of error lines (default "jumpgate"); PROG is borrowed for the process lifetime. */
void jg_client_set_prog(const char *prog);
void jg_help_main(void);
void jg_help_exec(void);
void jg_help_connect(void);
void jg_help_rsh(void);

/* Flags of jg_client_run_exec: a terminal mode (the low two bits), and how a closed stdout
 * ends the remote program. */
#define JG_CLIENT_TTY_NO 0
#define JG_CLIENT_TTY_IF_TERMINAL 1 /* a pty when stdin is a terminal, else say why not */
#define JG_CLIENT_TTY_FORCE 2	    /* even when it is not (ssh -tt) */
#define JG_CLIENT_TTY_MASK 3
/* When our stdout's reader goes away (EPIPE, or SIGUSR1: rsync's "we are leaving"), send
 * the remote program SIGPIPE and wait (bounded) for its own exit, as it would under ssh,
 * instead of killing it at once: rsync's receiver saves its --partial file on the way. */
#define JG_CLIENT_EXEC_SOFT_EPIPE 4
/* -A: relay our ssh-agent for the gateway's onward ssh (client/agentrelay.h); with
 * AGENT_TARGET (-AA) the onward ssh forwards it on to the target, as ssh -A does. */
#define JG_CLIENT_EXEC_AGENT 8
#define JG_CLIENT_EXEC_AGENT_TARGET 16

/* Run ARGV (NULL-terminated, borrowed) on TARGET through the gateway: stdin streamed to it
 * (end of stdin closes its stdin while its output keeps flowing), its stdout and stderr
 * written to ours, nothing else on stdout.  ENV: NULL-terminated "KEY=VALUE" list replacing
 * its environment, or NULL to inherit the agent's; CWD: NULL for the home directory;
 * FLAGS: JG_CLIENT_TTY_* | JG_CLIENT_EXEC_*.  Call jg_client_setup() first.  Returns the
 * exit status (see above); errors are one line on stderr, "<c->prog>: TARGET: reason". */
/* The JG_CLIENT_EXEC_AGENT* flags for -A given N times (0: none). */
int jg_client_agent_flags(int n);
int jg_client_run_exec(struct jg_client *c, const char *target, char **argv, char **env,
		       const char *cwd, int flags);
/* `jumpgate exec`: ARGV starts at the word "exec". Returns the process exit status. */
int jg_cmd_exec(struct jg_client *c, int argc, char **argv);
/* `jumpgate reset TARGET`: close the gateway's onward connection to TARGET. */
int jg_cmd_reset(struct jg_client *c, int argc, char **argv);
/* `jumpgate stats`: print the gateway's /v1/stats JSON. */
int jg_cmd_stats(struct jg_client *c, int argc, char **argv);
int jg_cmd_routes(struct jg_client *c, int argc, char **argv);
/* `jumpgate targets [PATTERN]` and `jumpgate whoami` (client/inventory.c). */
int jg_cmd_targets(struct jg_client *c, int argc, char **argv);
int jg_cmd_whoami(struct jg_client *c, int argc, char **argv);
/* `jumpgate cp`: files to and from targets, fan-out (client/cp.c). */
int jg_cmd_cp(struct jg_client *c, int argc, char **argv);
/* `jumpgate run TARGETS -- ARGV`: one command on many targets (client/run.c). */
int jg_cmd_run(struct jg_client *c, int argc, char **argv);
/* `jumpgate rsh`: an ssh-compatible command for rsync -e, git, Ansible (client/rsh.c). */
int jg_cmd_rsh(struct jg_client *c, int argc, char **argv);
/* The persistent client's own process, started by client/mux.c (client/master.c). */
int jg_cmd_master(struct jg_client *c, int argc, char **argv);
/* `jumpgate connect HOST PORT`: a byte tunnel on stdin/stdout, for ProxyCommand. */
int jg_cmd_connect(struct jg_client *c, int argc, char **argv);
struct evbuffer;
/* Send METHOD PATH with no body and collect the answer: 0 with *STATUS and BODY filled, or
 * JG_EXIT_FAILURE after printing why. */
int jg_client_request(struct jg_client *c, const char *method, const char *path, int *status,
		      struct evbuffer *body);
/* The same with request HEADERS (NHEADERS name/value pairs). */
int jg_client_request_with(struct jg_client *c, const char *method, const char *path,
			   const char *const headers[][2], size_t nheaders, int *status,
			   struct evbuffer *body);

#endif
