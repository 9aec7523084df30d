/* Forwarding a controller's ssh-agent to the onward ssh the gateway starts for it.
 *
 * The controller (`jumpgate exec -A`) opens an agent stream, POST /v1/agent, on its
 * connection, and names it in the request it makes next (x-jumpgate-agent: ID).  The
 * gateway carries each connection that ssh makes to its agent socket as one channel of
 * frames on that stream (docs/api.md): OPEN, DATA, EOF, CLOSE down to the controller,
 * OPEN_OK or OPEN_FAIL, DATA, EOF, CLOSE back; the controller relays each channel to
 * its own $SSH_AUTH_SOCK.  No key, and no message, is kept on the bastion.
 *
 * The rules (docs/security.md):
 *  - an onward connection started with a controller's agent is that identity's alone:
 *    its chain is marked (jg_chain.agent, agent_owner) and the pool only hands it to a
 *    request of the same identity forwarding the same way (agentlink.c);
 *  - its agent socket (agentsock.c) lives in a 0700 directory of its own, answers only
 *    the ssh process it was made for (SO_PEERCRED: our uid, that pid), and only while
 *    a request of that identity that borrowed an agent stream runs and was admitted by
 *    policy: otherwise a connection is closed at once (ssh sees no agent, not a hang);
 *  - policy: the rule granting the request needs forward_agent (auth/policy.h), and the
 *    audit record says forward_agent: "gateway" or "target". */
#ifndef JG_GATEWAY_ONWARD_AGENTFWD_H
#define JG_GATEWAY_ONWARD_AGENTFWD_H

#include <stddef.h>
#include <sys/types.h>

struct jg_gateway;
struct jg_stream;
struct jg_chain;
struct jg_op;
struct jg_ssh_opts;
struct jg_agentsock;

/* The request header naming the agent stream: "ID", or "ID; target" to forward the agent
 * on to the target as ssh -A does. */
#define JG_AGENT_HEADER "x-jumpgate-agent"

/* POST /v1/agent: an agent stream (answered 200 at once; frames both ways). */
struct jg_op *jg_agentfwd_start(struct jg_gateway *gw, struct jg_stream *s);
/* A request on S resolved to CHAIN: with x-jumpgate-agent, CHAIN is marked for agent
 * forwarding by S's identity and S borrows the agent stream (policy decides later, in
 * jg_admit_decide, which reads jg_stream_agent).  0 (also without the header), or an HTTP
 * status (400) with a reason a person can act on in WHY.  Called again for S with
 * another copy of the same chain, it marks that one too. */
int jg_agentfwd_apply(struct jg_gateway *gw, struct jg_stream *s, struct jg_chain *chain, char *why,
		      size_t len);
/* Policy admitted S's request: its agent stream may now answer the onward ssh. */
void jg_agentfwd_admit(struct jg_stream *s);
/* S, which borrowed an agent stream, is closing: the stream ends, its channels close. */
void jg_agentfwd_release(struct jg_stream *s);
/* Prepare the first ssh hop O of a chain forwarding HOW far (JG_POLICY_AGENT_*): ssh uses
 * the agent at $SSH_AUTH_SOCK (keys of the controller; IdentitiesOnly off), and forwards
 * it on only for JG_POLICY_AGENT_TARGET.  0 or JG_ERR_NOMEM. */
int jg_agentfwd_ssh_opts(struct jg_ssh_opts *o, int how);
/* The lender of an agent socket's connection: the running, admitted request of OWNER
 * forwarding HOW far over chain KEY; its agent stream carries the connection FD (taken,
 * closed on every path).  0, or -1 when no such request runs (FD closed). */
int jg_agentfwd_lend(struct jg_gateway *gw, const char *key, const char *owner, int how, int fd);

/* agentsock.c: the private socket of one onward connection. */
/* A socket in a new 0700 directory (under $XDG_RUNTIME_DIR, $TMPDIR or /tmp) for chain
 * KEY of OWNER forwarding HOW far.  NULL with ERR. */
struct jg_agentsock *jg_agentsock_new(struct jg_gateway *gw, const char *key, const char *owner,
				      int how, char *err, size_t errlen);
/* Its path (for SSH_AUTH_SOCK). */
const char *jg_agentsock_path(const struct jg_agentsock *as);
/* Only PID (the onward ssh) may connect. */
void jg_agentsock_set_pid(struct jg_agentsock *as, pid_t pid);
/* Close it and remove the socket and its directory.  NULL is fine. */
void jg_agentsock_free(struct jg_agentsock *as);

#endif
