/* The DIRECT back end of byte tunnels (gateway/ops/tunnel.c): the gateway itself connects
 * to HOST:PORT, as `ssh -W` does (a bufferevent on a socket, no agent, no credentials for
 * HOST), for a tunnel target and, with from=gateway, for a target that is one address.
 *
 * A name is resolved first, without blocking the loop (gateway/ops/dial.h); policy then
 * judges the addresses in turn and the first it allows is dialled: tunnels.allow
 * ("TARGET:PORT" for an inventory target, "local:ADDR:PORT" for any address: the bastion
 * itself dials it), then the rules' `tunnel` action with the canonical chain "tunnel:ADDR".
 *
 * Flow control: up bytes wait in the socket's output buffer, their HTTP/2 credit given back
 * as the socket takes them (direct_on_drained).  Down, the socket is read only while the
 * stream's queue is below TUN_QUEUE_HIGH and the gateway-wide buffer budget is not
 * exceeded, each read at most up to it (direct_on_readable, not the bufferevent: libevent
 * 2.1 reads sockets 4 KiB at a time).
 *
 * Half-close: the client's END_STREAM is SHUT_WR once the output buffer is empty
 * (jg_tundirect_maybe_shut, which ends a linger too); the socket's EOF ends the response
 * once its input is on the stream.  Failures end through jg_tunnel_op_failed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/gateway.h"
#include "gateway/ops/dial.h"
#include "gateway/ops/tunnel_int.h"
#include "gateway/stream.h"
#include "h2/bulk.h"
#include "relay/log.h"

#define TUN_QUEUE_HIGH (256u * 1024) /* stop reading the socket above this queue */

/* Move socket bytes onto the stream while its queue has room; finish at EOF. */
void jg_tundirect_pump_down(struct jg_tunnel_op *x)
{
	struct evbuffer *in;
	size_t queued, room, len;

	if (x->bev == NULL || x->stream == NULL || x->state != TS_RUNNING || x->down_eof)
		return;
	in = bufferevent_get_input(x->bev);
	queued = jg_stream_queued(x->stream);
	room = queued < TUN_QUEUE_HIGH ? TUN_QUEUE_HIGH - queued : 0;
	len = evbuffer_get_length(in);
	if (len > 0 && room > 0) {
		if (len > room)
			len = room;
		evbuffer_remove_buffer(in, x->scratch, len);
		jg_stream_append(x->stream, x->scratch);
	}
	if (x->sock_eof && evbuffer_get_length(in) == 0) {
		x->down_eof = 1;
		jg_stream_finish(x->stream);
		return;
	}
	/* Read on only while the stream can take it and the gateway-wide buffer budget is not
	 * exceeded: the socket's window is our backpressure, the far end waits in TCP flow
	 * control rather than in our memory (tun_on_budget calls us again). */
	if (x->rd == NULL)
		return;
	if (!x->sock_eof && !x->gw->budget_paused && jg_stream_queued(x->stream) < TUN_QUEUE_HIGH)
		event_add(x->rd, NULL);
	else
		event_del(x->rd);
}

/* The socket is readable: up to the stream's room at once (libevent 2.1 would read
 * it 4 KiB at a time), then on to the stream. */
static void direct_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct jg_tunnel_op *x = arg;
	size_t queued = x->stream != NULL ? jg_stream_queued(x->stream) : TUN_QUEUE_HIGH;
	ssize_t n;
	char reason[600];

	(void)fd;
	(void)what;
	if (queued >= TUN_QUEUE_HIGH) {
		event_del(x->rd);
		return;
	}
	n = jg_h2bulk_read_into(x->bev, TUN_QUEUE_HIGH - queued);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(reason, sizeof(reason), "connection to %s: %s", x->where,
			 evutil_socket_error_to_string(errno));
		jg_tunnel_op_failed(x, 502, "tunnel failed", reason);
		return;
	}
	if (n == 0) {
		x->sock_eof = 1;
		event_del(x->rd);
	}
	jg_tundirect_pump_down(x);
}

/* The socket took N client bytes: that much HTTP/2 credit goes back, and a stream
 * the socket keeps up with may have its window grown. */
static void direct_on_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct jg_tunnel_op *x = arg;

	if (info->n_deleted > 0 && x->stream != NULL)
		jg_stream_consume_socket(x->stream, info->n_deleted);
}

/* Client END_STREAM and everything written: the far end gets EOF.  Lingering
 * ends here too.  Returns 1 when X was freed. */
int jg_tundirect_maybe_shut(struct jg_tunnel_op *x)
{
	if (x->bev == NULL || !x->up_eof || x->up_eof_sent ||
	    evbuffer_get_length(bufferevent_get_output(x->bev)) > 0)
		return 0;
	x->up_eof_sent = 1;
	if (shutdown(bufferevent_getfd(x->bev), SHUT_WR) != 0 && errno != ENOTCONN)
		jg_log_debug("tunnel to %s: shutdown: %s", x->desc, strerror(errno));
	if (x->stream == NULL) {
		jg_tunnel_op_free(x);
		return 1;
	}
	return 0;
}

static void direct_on_write(struct bufferevent *bev, void *arg)
{
	jg_tundirect_maybe_shut(arg);
}

static void direct_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct jg_tunnel_op *x = arg;
	char reason[600];
	int err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(bev, NULL, NULL);
		x->rd = event_new(x->gw->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST,
				  direct_on_readable, x);
		if (x->rd == NULL) {
			jg_tunnel_op_failed(x, 500, "internal error", "out of memory");
			return;
		}
		if (jg_tunnel_op_started(x) == 0) {
			jg_tundirect_pump_down(x);
			jg_tundirect_maybe_shut(x);
		}
		return;
	}
	if (what & BEV_EVENT_EOF) {
		x->sock_eof = 1;
		jg_tundirect_pump_down(x);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(reason, sizeof(reason), "connect to %s: timed out after %u ms", x->where,
			 x->gw->cfg->connect_timeout_ms);
	else
		snprintf(reason, sizeof(reason), "%s %s: %s",
			 x->state == TS_OPENING ? "connect to" : "connection to", x->where,
			 evutil_socket_error_to_string(err));
	jg_tunnel_op_failed(x, 502, "tunnel failed", reason);
}

/* May the gateway dial ADDR port x->port for this tunnel, by tunnels.allow?  An inventory
 * target's own entry ("web1:22") covers the host it is configured with; any address is
 * "local:ADDR:PORT": the bastion itself dials it.  0 with the reason in WHY. */
static int direct_allowed(struct jg_tunnel_op *x, const char *addr, char *why, size_t whylen)
{
	const struct jg_config *cfg = x->gw->cfg;
	int inventory = jg_config_find_target(cfg, x->typed) != NULL;
	char ignored[400];

	if (inventory &&
	    jg_target_tunnel_allowed(cfg, x->typed, NULL, x->port, ignored, sizeof(ignored)))
		return 1;
	if (jg_target_tunnel_allowed(cfg, "local", addr, x->port, ignored, sizeof(ignored)))
		return 1;
	if (cfg->tunnel_policy == JG_TUNNELS_DEFAULT)
		snprintf(
		    why, whylen,
		    "a tunnel to %s is not allowed: without `tunnels` in the configuration, the "
		    "gateway dials port 22 of inventory targets only (see tunnels.allow)",
		    x->where);
	else if (inventory)
		snprintf(why, whylen,
			 "a tunnel to %s is not allowed (no tunnels.allow entry matches \"%s:%u\" "
			 "or \"local:%s%s%s:%u\")",
			 x->where, x->typed, (unsigned)x->port, strchr(addr, ':') ? "[" : "", addr,
			 strchr(addr, ':') ? "]" : "", (unsigned)x->port);
	else
		snprintf(why, whylen,
			 "a tunnel to %s is not allowed (no tunnels.allow entry matches "
			 "\"local:%s%s%s:%u\")",
			 x->where, strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "",
			 (unsigned)x->port);
	return 0;
}

/* x->where for ADDR: "127.0.1.5 port 22", or "web1 (127.0.1.5) port 22" for a name. */
static void direct_where(struct jg_tunnel_op *x, const char *addr)
{
	size_t n = strlen(addr);

	if (strcmp(x->typed, addr) == 0 ||
	    (x->typed[0] == '[' && strncmp(x->typed + 1, addr, n) == 0 &&
	     strcmp(x->typed + 1 + n, "]") == 0))
		snprintf(x->where, sizeof(x->where), "%s port %u", addr, (unsigned)x->port);
	else
		snprintf(x->where, sizeof(x->where), "%s (%s) port %u", x->typed, addr,
			 (unsigned)x->port);
}

/* The host's addresses are known: the first one policy allows is dialled.  Policy judges
 * that address (tunnels.allow, then the rules with the canonical chain "tunnel:ADDR",
 * audited); a name resolving only to refused addresses is refused.  0, or -1 after an
 * error answer on the stream. */
static int direct_admit(struct jg_tunnel_op *x, const struct jg_dial_addrs *addrs)
{
	struct jg_admit_ask ask = {.port = x->port};
	const struct jg_dial_addr *pick = NULL;
	char why[700], canon[96];

	for (size_t i = 0; i < addrs->n && pick == NULL; i++) {
		direct_where(x, addrs->a[i].text);
		if (direct_allowed(x, addrs->a[i].text, why, sizeof(why)))
			pick = &addrs->a[i];
	}
	if (pick == NULL) {
		/* The refusal names the first address, and says there were others. */
		direct_where(x, addrs->a[0].text);
		(void)direct_allowed(x, addrs->a[0].text, why, sizeof(why));
		if (addrs->n > 1)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; nor is any other of its %zu addresses", addrs->n);
		/* Audited as a denial, as the rules' are. */
		ask.host = addrs->a[0].text;
		jg_admit_deny(x->adm, x->stream, &ask, why);
		jg_stream_reply_error(x->stream, 403, "forbidden", why);
		return -1;
	}
	snprintf(x->addr, sizeof(x->addr), "%s", pick->text);
	direct_where(x, x->addr);
	snprintf(canon, sizeof(canon), "tunnel:%s%s%s", strchr(x->addr, ':') ? "[" : "", x->addr,
		 strchr(x->addr, ':') ? "]" : "");
	ask.host = x->addr;
	ask.canon = canon;
	if (!jg_admit_decide(x->adm, x->stream, &ask)) {
		jg_stream_reply_error(x->stream, 403, "forbidden", x->adm->reason);
		return -1;
	}
	x->audit = x->adm->audit;
	jg_log_info("tunnel to %s: the gateway dials %s", x->desc, x->where);
	if (bufferevent_socket_connect(x->bev, (struct sockaddr *)&pick->ss, (int)pick->len) != 0) {
		snprintf(why, sizeof(why), "connect to %s: %s", x->where,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		jg_log_info("tunnel to %s: %s", x->desc, why);
		snprintf(x->cause, sizeof(x->cause), "%s", why);
		jg_stream_reply_error(x->stream, 502, "tunnel failed", why);
		return -1;
	}
	return 0;
}

static void direct_on_resolved(void *arg, const struct jg_dial_addrs *addrs, const char *error)
{
	struct jg_tunnel_op *x = arg;

	x->dial = NULL;
	if (addrs == NULL) {
		jg_tunnel_op_failed(x, 502, "tunnel failed", error);
		return;
	}
	if (direct_admit(x, addrs) != 0)
		x->state = TS_DONE; /* answered; the stream's close frees X */
}

/* The gateway dials HOST (a name or an address) port x->port itself.  0 (connecting, or
 * resolving first), or -1 after an error answer on the stream. */
int jg_tundirect_open(struct jg_tunnel_op *x, const char *host)
{
	struct timeval tmo = {x->gw->cfg->connect_timeout_ms / 1000,
			      (x->gw->cfg->connect_timeout_ms % 1000) * 1000};
	struct jg_dial_addrs addrs;
	char reason[600];

	x->bev = bufferevent_socket_new(x->gw->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (x->bev == NULL)
		goto nomem;
	/* libevent writes a socket bufferevent 16 KiB per writev by default: a 1 GiB
	 * tunnel took 67,591 writevs, each after its own epoll_wait, half the gateway's
	 * time.  Up to JG_H2_MAX_IO per call instead. */
	jg_h2bulk_tune_bev(x->bev);
	bufferevent_setcb(x->bev, NULL, direct_on_write, direct_on_event, x);
	if (evbuffer_add_cb(bufferevent_get_output(x->bev), direct_on_drained, x) == NULL)
		goto nomem;
	/* Until connected, the write timeout bounds the connect (the resolver has its own). */
	bufferevent_set_timeouts(x->bev, NULL, &tmo);
	bufferevent_disable(x->bev, EV_READ);
	if (jg_dial_numeric(host, x->port, &addrs) == 0)
		return direct_admit(x, &addrs);
	if (jg_dial_check_name(host, reason, sizeof(reason)) != 0) {
		jg_log_info("tunnel to %s refused: %s", x->desc, reason);
		jg_stream_reply_error(x->stream, 400, "bad target", reason);
		return -1;
	}
	/* A name: policy waits for its addresses; the loop does not. */
	x->dial =
	    jg_dial_resolve(x->gw->base, host, x->port, x->gw->cfg->connect_timeout_ms,
			    x->gw->cfg->resolv_conf, direct_on_resolved, x, reason, sizeof(reason));
	if (x->dial == NULL) {
		jg_log_info("tunnel to %s: %s", x->desc, reason);
		jg_stream_reply_error(x->stream, 502, "tunnel failed", reason);
		return -1;
	}
	return 0;
nomem:
	jg_stream_reply_error(x->stream, 500, "internal error", "out of memory");
	return -1;
}
