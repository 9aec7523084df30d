/* -A: the controller's ssh-agent ($SSH_AUTH_SOCK), relayed to the gateway for the onward
 * ssh of a request (docs/api.md, "Agent streams").
 *
 * Before a request, jg_agentrelay_open opens an agent stream (POST /v1/agent) on the
 * connection and gives the value of the request's x-jumpgate-agent header.  For each
 * channel the gateway OPENs on that stream (one connection of its onward ssh to the
 * agent socket), the relay connects to $SSH_AUTH_SOCK and moves the bytes; the
 * gateway ends the stream when the request ends.  Nothing else is read from the
 * agent: the bytes are the agent protocol between ssh and the agent. */
#ifndef JG_CLIENT_AGENTRELAY_H
#define JG_CLIENT_AGENTRELAY_H

#include <stddef.h>

struct jg_client;
struct jg_conn;
struct jg_agentrelay;

/* -A (HOW 1: the gateway's onward ssh uses the agent) or -AA (HOW 2: and forwards it on
 * to the target, as ssh -A).  Checks now, bounded, that $SSH_AUTH_SOCK is set, answers
 * and holds a key; otherwise prints "PROG: TARGET: -A: why" and returns NULL. */
struct jg_agentrelay *jg_agentrelay_new(struct jg_client *c, const char *target, int how);
/* Open an agent stream on CONN (ready) for the next request; its x-jumpgate-agent value
 * into HDR.  0, or a negative JG_ERR_*. */
int jg_agentrelay_open(struct jg_agentrelay *r, struct jg_conn *conn, char *hdr, size_t len);
/* Close every channel and forget the streams (call before freeing the connection).
 * NULL is fine. */
void jg_agentrelay_free(struct jg_agentrelay *r);

#endif
