/* The persistent client, as OpenSSH's ControlMaster/ControlPersist: the first jumpgate
 * invocation for a (gateway, certificate) pair starts a small background process, the
 * master (client/master.c), which holds one TLS + HTTP/2 connection to the gateway and
 * listens on a Unix socket; later invocations speak h2c to it over that socket and it
 * relays each of their streams onto its one connection.  It exits after c->persist
 * seconds without a client.
 *
 * Why a relay of streams and not of something else: the client's operations (exec, cp,
 * run, rsh, connect) already speak HTTP/2 to the gateway, and client/conn.c already speaks
 * h2c on a Unix socket ("-g unix:PATH"), so only the transport under client/conn.c
 * changes; HTTP/2 gives each relayed stream its own window, so the master never buffers
 * more than a window per stream; and a TLS session cannot be handed between processes.
 *
 * Where: $XDG_RUNTIME_DIR/jumpgate/, else ~/.cache/jumpgate/ (mode 0700, ours, or the
 * master is not used), one socket (mode 0600) per pair, "m-<hash>.sock", and a lock file
 * beside it that makes two racing first invocations start one master.  Both ends check
 * the other's uid (SO_PEERCRED): only the socket's owner may use it. */
#ifndef JG_CLIENT_MUX_H
#define JG_CLIENT_MUX_H

#include <stddef.h>

struct jg_client;

/* The hidden command that runs the master: jumpgate [global options] __master SOCKET. */
#define JG_MUX_MASTER_CMD "__master"

/* Connect to the master for C's (gateway, certificate) pair; with START, start it when none
 * answers (replacing a stale socket).  1 with *FD a connected non-blocking socket; 0 when
 * no master is to be used (c->persist 0, no private directory, none running and not START,
 * the master could not start): connect directly; -1 when the master could not reach the
 * gateway, with the reason in MSG as a direct connection would have given it. */
int jg_mux_attach(struct jg_client *c, int start, int *fd, char *msg, size_t len);

/* The socket path for C's pair into BUF (creating the private directory).  0 or -1. */
int jg_mux_socket_path(const struct jg_client *c, char *buf, size_t len);

#endif
