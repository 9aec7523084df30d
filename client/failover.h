/* Several gateways: `-g a,b`, JUMPGATE_GATEWAY=a,b.  The client talks to one at a time
 * (c->gateway, c->host, c->port, c->unix_path hold the current one) and moves to the next
 * when a connection to it cannot be made, or when an operation was refused before it
 * started (GOAWAY above our stream, 503 "shutting down").  An operation whose fate is
 * unknown (the connection was lost after the request went out) is never sent again,
 * unless the caller said it may run twice (--retry, JUMPGATE_RETRY=1): then the whole
 * command runs again through the next gateway.
 *
 * Why in the client and not a load balancer only: HAProxy in front of the gateways picks
 * a live one for new connections, but a controller pointed at two gateways directly, or
 * at two HAProxy instances, needs this, and only the client knows whether an operation
 * had started. */
#ifndef JG_CLIENT_FAILOVER_H
#define JG_CLIENT_FAILOVER_H

struct evbuffer;
struct jg_client;

/* Parse one address (HOST:PORT, [V6]:PORT, HOST, V6, unix:PATH) into c->gateway, c->host,
 * c->port, c->unix_path.  0 or -1 (main.c). */
int jg_client_parse_gateway(struct jg_client *c, const char *spec);

/* Parse LIST (up to JG_CLIENT_GATEWAYS_MAX comma-separated addresses, all unix: or none) once and
 * select its first; on a later call (the command runs again) keep the current selection.  0, or -1
 * with a usage error printed. */
int jg_failover_setup(struct jg_client *c, const char *list);

/* Select the next gateway after the current one failed (WHY, for -v) and return 0; -1 when
 * every gateway was tried since a connection last opened (MIN_TRIES: try at least this
 * many in all, so that a single address -- HAProxy -- may be tried twice). */
int jg_failover_next(struct jg_client *c, const char *why, int min_tries);

/* A gateway accepted us (its SETTINGS came): the failed tries are forgotten. */
void jg_failover_opened(struct jg_client *c);

/* A refusal that says the operation did not start (HTTP_STATUS with ERRBODY, the JSON
 * error): 503 "shutting down" from a draining gateway.  1 or 0. */
int jg_failover_refused_before_start(int http_status, struct evbuffer *errbody);

/* After a command returned STATUS: 1 when it should run again through the next gateway
 * (the message is printed), else 0: it failed (JG_EXIT_FAILURE), tries are left, none of
 * our stdin was read (c->stdin_read), and either --retry was given and a connection was
 * lost, or the command sends no stdin (c->rerun_unheard) and no gateway had served
 * anything of it. */
int jg_failover_rerun(struct jg_client *c, int status);

#endif
