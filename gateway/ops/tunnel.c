/* Byte tunnels: extended CONNECT (RFC 8441, :protocol jumpgate-tunnel) on
 * /v1/targets/{target}/tunnel?port=N[&host=H][&from=gateway|target].
 *
 * The stream's DATA is raw bytes both ways (no frames).  Two back ends:
 *  - AGENT: a TUNNEL channel; the agent on the target connects to HOST:PORT
 *    (HOST defaults to its own localhost).
 *  - DIRECT: the gateway itself connects to HOST:PORT, as `ssh -W` does (a
 *    bufferevent on a socket, no agent, no credentials for HOST): a target with
 *    `method = "tunnel"` (its configured host), and with from=gateway (what
 *    `jumpgate connect` asks by default) a target that is one network address: a
 *    host, an address, or an inventory target of method ssh (its host).  What has
 *    no address of its own (a chain, lxc, kubectl, local...) is reached from the
 *    target as before.  A name is resolved first, without blocking the loop
 *    (gateway/ops/dial.h), and policy judges the address that will be dialled:
 *    tunnels.allow ("TARGET:PORT" for an inventory target, "local:ADDR:PORT" for
 *    any address: the bastion itself dials it) and the rules' `tunnel` action,
 *    with the canonical chain "tunnel:ADDR".
 *
 * AGENT is a pump (gateway/pump/pump.h) in raw mode: credit both ways, EOF after the
 * queue, abandoning the channel.  DIRECT keeps its own socket pump (a bufferevent, read
 * against the stream's queue and the buffer budget) in gateway/ops/tundirect.c.
 *
 * Flow control, end to end, bounded memory per stream:
 *  - Up (client -> far end): request bytes wait in the pump (AGENT) or in the
 *    socket's output buffer (DIRECT); their HTTP/2 credit is given back only
 *    once the channel took them (within its window) or the socket did.  So
 *    at most one HTTP/2 stream window (stream_window, 1 MiB) is held.
 *  - Down (far end -> client): AGENT: channel DATA is queued on the stream
 *    and credited to the agent only as nghttp2 takes it (on_sent), so at most
 *    one channel window (1 MiB) is queued.  DIRECT: the socket is read
 *    only while the stream's queue is below TUN_QUEUE_HIGH (256 KiB), each
 *    read at most up to it (tundirect.c, not the bufferevent: libevent
 *    2.1 reads sockets 4 KiB at a time).
 *  A reader that stops stalls its own stream and nothing else.  Many of them
 *  together are held by the gateway-wide buffer budget: over it the agent
 *  links stop reading (agentlink.c) and DIRECT sockets too (tundirect.c),
 *  until on_budget says the queues went down.
 *
 * Half-close: client END_STREAM -> EOF on the channel (SHUT_WR on a DIRECT
 * socket) once the queued bytes are out; far end EOF -> END_STREAM of the
 * response.  Each direction ends on its own; the stream closes when both
 * have.  If it closes cleanly while up bytes are still queued, the op
 * lingers (at most TUN_LINGER_SECS) until they are delivered and the agent's
 * EXIT arrives; every other close abandons the channel (CLOSE) or the socket
 * at once.
 *
 * Errors before the 200: 400 bad request, 403 policy, 404/400 bad target,
 * 502 with the reason (connect refused, agent gone).  After the 200: the
 * reason is logged and the stream is reset with INTERNAL_ERROR. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <nghttp2/nghttp2.h>

#include "auth/audit.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/dial.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "gateway/ops/tunnel_int.h"
#include "gateway/onward/agentlink.h"
#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

#define TUN_PROTOCOL "jumpgate-tunnel"
#define TUN_LINGER_SECS 30 /* delivering queued up bytes after the stream closed */

void jg_tunnel_op_free(struct jg_tunnel_op *x)
{
	/* A failure answered straight to the stream says why there. */
	if (!x->opened && x->cause[0] == '\0' && x->stream != NULL &&
	    jg_stream_error_reason(x->stream) != NULL)
		snprintf(x->cause, sizeof(x->cause), "%s", jg_stream_error_reason(x->stream));
	if (!x->opened && x->cause[0] == '\0')
		snprintf(x->cause, sizeof(x->cause), "the tunnel did not open");
	jg_admit_close(x->adm, x->opened ? "ok" : "failed", x->cause);
	if (x->rd != NULL)
		event_free(x->rd);
	if (x->bev != NULL)
		bufferevent_free(x->bev);
	jg_dial_cancel(x->dial);
	jg_pump_clear(&x->pump);
	if (x->scratch != NULL)
		evbuffer_free(x->scratch);
	if (x->linger != NULL)
		event_free(x->linger);
	free(x);
}

static struct jg_tunnel_op *op_tunnel(struct jg_op *op)
{
	return (struct jg_tunnel_op *)((char *)op - offsetof(struct jg_tunnel_op, op));
}

/* Abandon the far side: CLOSE the channel (the agent closes its socket), or close our socket. */
static void tun_abandon(struct jg_tunnel_op *x)
{
	jg_pump_abandon(&x->pump);
	jg_dial_cancel(x->dial);
	x->dial = NULL;
	if (x->rd != NULL) {
		event_free(x->rd);
		x->rd = NULL;
	}
	if (x->bev != NULL) {
		bufferevent_free(x->bev);
		x->bev = NULL;
	}
}

/* The tunnel failed with REASON: an error response before the 200, a reset after it. */
void jg_tunnel_op_failed(struct jg_tunnel_op *x, int status, const char *error, const char *reason)
{
	jg_log_info("tunnel to %s failed: %s", x->desc, reason);
	snprintf(x->cause, sizeof(x->cause), "%s", reason);
	tun_abandon(x);
	if (x->stream == NULL) {
		/* Lingering: nobody to tell; the op is done. */
		jg_tunnel_op_free(x);
		return;
	}
	if (x->state == TS_OPENING)
		jg_stream_reply_error(x->stream, status, error, reason);
	else if (x->state == TS_RUNNING)
		jg_stream_reset(x->stream, NGHTTP2_INTERNAL_ERROR);
	x->state = TS_DONE;
}

/* The far side is answered: 200, no content type (the body is raw bytes). */
int jg_tunnel_op_started(struct jg_tunnel_op *x)
{
	if (jg_stream_start_headers(x->stream, 200, NULL, 0) != 0) {
		tun_abandon(x);
		x->state = TS_DONE;
		return -1;
	}
	x->state = TS_RUNNING;
	x->opened = 1;
	jg_pump_down_open(&x->pump);
	jg_log_debug("tunnel to %s open", x->desc);
	return 0;
}

/* Lingering is over: everything is delivered, or time is up. */
static void tun_on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct jg_tunnel_op *x = arg;

	jg_log_info("tunnel to %s: queued bytes not delivered within %d s of the stream's end; "
		    "dropping them",
		    x->desc, TUN_LINGER_SECS);
	tun_abandon(x);
	jg_tunnel_op_free(x);
}

/* ---------------------------------------------------------------- AGENT */

/* The channel, bridged by the pump in raw mode (up bytes go once the 200 is out, i.e.
 * after OPEN_OK; down bytes from then on).  The frames that end the channel may free
 * X while lingering (the pump touches nothing after them). */
static void agent_frame(void *ud, const struct jg_frame *f)
{
	struct jg_tunnel_op *x = ud;
	char reason[400];

	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_OPEN_OK:
		(void)jg_tunnel_op_started(x); /* on failure it abandons the channel */
		return;
	case JG_FRAME_OPEN_FAIL:
		/* The agent's reason names the address ("connect to 127.0.0.1:22: ..."). */
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		jg_tunnel_op_failed(x, 502, "tunnel failed", reason);
		return;
	case JG_FRAME_EOF:
		x->down_eof = 1;
		if (x->stream != NULL)
			jg_stream_finish(x->stream);
		return;
	case JG_FRAME_EXIT:
		/* Both directions are over on the target; the channel is gone. */
		if (x->stream == NULL) {
			jg_tunnel_op_free(x);
			return;
		}
		if (!x->down_eof) {
			x->down_eof = 1;
			jg_stream_finish(x->stream);
		}
		x->state = TS_DONE;
		return;
	case JG_FRAME_CLOSE:
		jg_tunnel_op_failed(x, 502, "tunnel failed", "the agent abandoned the tunnel");
		return;
	default:
		break;
	}
	jg_log_debug("tunnel to %s: ignoring %s from the agent", x->desc,
		     jg_frame_type_name(f->type));
}

static void agent_writable(void *ud)
{
	struct jg_tunnel_op *x = ud;

	if (x->stream == NULL && x->pump.up_eof_sent)
		jg_log_debug("tunnel to %s: queued bytes delivered after the stream", x->desc);
}

static void agent_dead(void *ud, const char *reason, int link_lost)
{
	(void)link_lost;
	/* The pool's reasons already name the target ("ssh to web1 failed: ..."). */
	jg_tunnel_op_failed(ud, 502, "target unreachable", reason);
}

static const struct jg_pump_cbs agent_pump_cbs = {
    .on_frame = agent_frame,
    .on_dead = agent_dead,
    .on_writable = agent_writable,
};

static int agent_open(struct jg_tunnel_op *x, const char *host, uint16_t port)
{
	struct jg_tunnel_spec spec = {.host = (char *)(uintptr_t)host, .port = port};
	struct evbuffer *payload = evbuffer_new();
	struct jg_onward *al;
	char why[400], reason[600];
	int64_t ch;
	int r;

	if (payload == NULL || (r = jg_tunnel_spec_encode(&spec, payload)) != 0) {
		if (payload != NULL)
			evbuffer_free(payload);
		jg_stream_reply_error(x->stream, 500, "internal error", "cannot encode the spec");
		return -1;
	}
	if ((al = jg_onward_get(x->gw, x->chain, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 x->chain->display, why);
		evbuffer_free(payload);
		jg_log_info("tunnel to %s: %s", x->desc, reason);
		jg_stream_reply_error(x->stream, 502, "target unavailable", reason);
		return -1;
	}
	ch = jg_onward_open(al, JG_OPEN_TUNNEL, evbuffer_pullup(payload, -1),
			    evbuffer_get_length(payload), jg_pump_chan(&x->pump));
	evbuffer_free(payload);
	if (ch <= 0) {
		snprintf(reason, sizeof(reason), "cannot open a channel to %s: %s",
			 x->chain->display, jg_strerror((int)ch));
		jg_log_info("tunnel to %s: %s", x->desc, reason);
		jg_stream_reply_error(x->stream, 502, "agent unavailable", reason);
		return -1;
	}
	jg_pump_attach(&x->pump, jg_onward_link(al), (uint32_t)ch, 0);
	return 0;
}

/* ---------------------------------------------------------------- stream */

static void tun_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_tunnel_op *x = op_tunnel(op);

	if (x->audit != NULL)
		x->audit->bytes_in += len;
	if (x->bev == NULL) {
		jg_pump_up(&x->pump, data, len); /* credits what nobody will take at once */
		return;
	}
	if (x->state == TS_DONE || x->up_eof_sent) {
		/* Nobody will take these: credit them at once so the connection does not stall. */
		jg_stream_consume(x->stream, len);
		return;
	}
	/* Credited as the socket takes them (tundirect.c's direct_on_drained). */
	bufferevent_write(x->bev, data, len);
}

static void tun_on_body_end(struct jg_op *op)
{
	struct jg_tunnel_op *x = op_tunnel(op);

	x->up_eof = 1;
	if (x->bev == NULL)
		jg_pump_up_end(&x->pump); /* EOF once open and the queue is out */
	else if (x->state == TS_RUNNING)
		jg_tundirect_maybe_shut(x); /* else once connected */
}

static void tun_on_sent(struct jg_op *op, size_t n)
{
	struct jg_tunnel_op *x = op_tunnel(op);

	if (x->audit != NULL)
		x->audit->bytes_out += n;
	if (x->bev != NULL)
		jg_tundirect_pump_down(x);
	else
		jg_pump_sent(&x->pump, n);
}

/* The buffer budget is no longer exceeded: a DIRECT socket reads again. */
static void tun_on_budget(struct jg_op *op)
{
	struct jg_tunnel_op *x = op_tunnel(op);

	if (x->bev != NULL)
		jg_tundirect_pump_down(x);
}

static void tun_on_close(struct jg_op *op, const char *why)
{
	struct jg_tunnel_op *x = op_tunnel(op);
	struct timeval tv = {TUN_LINGER_SECS, 0};

	x->stream = NULL;
	jg_pump_stream_gone(&x->pump);
	/* Both ends said goodbye, yet the far side may not have everything: the agent
	 * may still be writing to its socket (its EXIT says when it is done), our own
	 * socket may still hold the client's last bytes.  Linger until then, bounded. */
	if (x->state == TS_RUNNING && x->up_eof && x->down_eof &&
	    (jg_pump_link(&x->pump) != NULL || (x->bev != NULL && !x->up_eof_sent)) &&
	    (x->linger = evtimer_new(x->gw->base, tun_on_linger, x)) != NULL &&
	    evtimer_add(x->linger, &tv) == 0) {
		jg_log_debug("tunnel to %s: stream closed; finishing delivery", x->desc);
		return;
	}
	if (x->state == TS_RUNNING && !(x->up_eof && x->down_eof))
		jg_log_debug("tunnel to %s: stream ended (%s)", x->desc, why);
	tun_abandon(x);
	jg_tunnel_op_free(x);
}

static const struct jg_op_cbs tun_op_cbs = {
    .on_body = tun_on_body,
    .on_body_end = tun_on_body_end,
    .on_sent = tun_on_sent,
    .on_budget = tun_on_budget,
    .on_close = tun_on_close,
};

/* "port=N[&host=H]": 0, or -1 with the reason in WHY. */
static int tun_parse_query(const char *query, uint16_t *port, char *host, size_t hostlen,
			   int *from_gateway, char *why, size_t whylen)
{
	const char *p = query, *amp, *eq;
	unsigned long n;
	int have_port = 0;

	host[0] = '\0';
	while (*p != '\0') {
		size_t len, klen, vlen;

		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq == NULL) {
			snprintf(why, whylen, "query: \"%.*s\" is not KEY=VALUE",
				 (int)(len > 40 ? 40 : len), p);
			return -1;
		}
		klen = (size_t)(eq - p);
		vlen = len - klen - 1;
		if (klen == 4 && memcmp(p, "port", 4) == 0) {
			n = 0;
			for (size_t i = 0; i < vlen; i++) {
				if (eq[1 + i] < '0' || eq[1 + i] > '9' || n > 65535) {
					n = 0;
					break;
				}
				n = n * 10 + (unsigned long)(eq[1 + i] - '0');
			}
			if (n < 1 || n > 65535) {
				snprintf(why, whylen,
					 "query: port \"%.*s\" is not a number 1-65535",
					 (int)(vlen > 16 ? 16 : vlen), eq + 1);
				return -1;
			}
			*port = (uint16_t)n;
			have_port = 1;
		} else if (klen == 4 && memcmp(p, "host", 4) == 0) {
			if (vlen == 0 || vlen >= hostlen) {
				snprintf(why, whylen, "query: host is empty or too long");
				return -1;
			}
			memcpy(host, eq + 1, vlen);
			host[vlen] = '\0';
			if (jg_target_check_host(host, why, whylen) != 0)
				return -1;
		} else if (klen == 4 && memcmp(p, "from", 4) == 0) {
			/* Who dials: the gateway (as ssh -W), or the target (its agent). */
			if (vlen == 7 && memcmp(eq + 1, "gateway", 7) == 0) {
				*from_gateway = 1;
			} else if (vlen == 6 && memcmp(eq + 1, "target", 6) == 0) {
				*from_gateway = 0;
			} else {
				snprintf(
				    why, whylen,
				    "query: from \"%.*s\" is neither \"gateway\" nor \"target\"",
				    (int)(vlen > 16 ? 16 : vlen), eq + 1);
				return -1;
			}
		} else {
			snprintf(why, whylen,
				 "query: unknown key \"%.*s\" (known: port, host, from)",
				 (int)(klen > 32 ? 32 : klen), p);
			return -1;
		}
		p += len + (amp != NULL ? 1 : 0);
	}
	if (!have_port) {
		snprintf(why, whylen, "query: port missing (as in ?port=22)");
		return -1;
	}
	return 0;
}

struct jg_op *jg_tunnel_op_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
				 const char *protocol, const char *query)
{
	struct jg_tunnel_op *x = NULL;
	struct jg_admit_ask ask = {.tunnels_allow = 1};
	char why[400], host[256];
	uint16_t port = 0;
	const struct jg_hop *hop;
	int r, from_gateway = 0, direct;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		jg_admit_close(adm, "failed", "");
		return NULL;
	}
	if (strcmp(protocol, TUN_PROTOCOL) != 0) {
		snprintf(why, sizeof(why), "unknown :protocol \"%.32s\" (tunnels speak \"%s\")",
			 protocol, TUN_PROTOCOL);
		jg_stream_reply_error(s, 400, "bad request", why);
		jg_admit_close(adm, "failed", "");
		return NULL;
	}
	if (tun_parse_query(query, &port, host, sizeof(host), &from_gateway, why, sizeof(why)) !=
	    0) {
		jg_stream_reply_error(s, 400, "bad request", why);
		jg_admit_close(adm, "failed", "");
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		jg_admit_close(adm, "failed", "");
		goto nomem;
	}
	x->gw = gw;
	x->stream = s;
	x->adm = adm;
	x->chain = adm->chain;
	x->typed = adm->typed;
	/* Validation happened in admission, before anything is spawned or connected. */
	if (jg_admit_unresolved(adm, s, "tunnel"))
		goto fail;
	hop = &x->chain->hops[0];
	snprintf(x->desc, sizeof(x->desc), "%s%s%s port %u (by %s)", x->chain->display,
		 host[0] != '\0' ? " host " : "", host, (unsigned)port, jg_stream_identity(s));
	/* The gateway dials what is one network address; what has none of its own is
	 * reached from the target whatever was asked. */
	direct = hop->method == JG_METHOD_TUNNEL ||
		 (from_gateway && x->chain->nhops == 1 && hop->method == JG_METHOD_SSH);
	if (direct && from_gateway && host[0] != '\0') {
		snprintf(why, sizeof(why),
			 "host=%s names a host as seen from the target, and the gateway dials "
			 "this tunnel itself (from=gateway): leave one of them out",
			 host);
		jg_stream_reply_error(s, 400, "bad request", why);
		goto fail;
	}
	if (hop->method == JG_METHOD_TUNNEL && host[0] != '\0') {
		snprintf(why, sizeof(why),
			 "%s is a tunnel target: its host is configured, the "
			 "request may not name one",
			 x->chain->display);
		jg_stream_reply_error(s, 400, "bad request", why);
		goto fail;
	}
	if (!direct && hop->method == JG_METHOD_SSH && hop->ssh.raw) {
		snprintf(why, sizeof(why), "%s is a raw target (no agent): tunnels need the agent",
			 x->chain->display);
		jg_stream_reply_error(s, 400, "bad target", why);
		goto fail;
	}
	/* Through the agent: tunnels.allow and the rules judge HOST and PORT now.  DIRECT:
	 * they judge the address dialled, once it is known (tundirect.c). */
	ask.host = host[0] != '\0' ? host : "localhost";
	ask.port = port;
	if (!direct && !jg_admit_decide(adm, s, &ask)) {
		jg_stream_reply_error(s, 403, "forbidden", adm->reason);
		goto fail;
	}
	x->audit = adm->audit;
	if (jg_pump_init(&x->pump, &agent_pump_cbs, x, &jg_stream_pump_cbs, s) != 0 ||
	    (x->scratch = evbuffer_new()) == NULL)
		goto nomem;
	x->op.cbs = &tun_op_cbs;
	x->state = TS_OPENING;
	x->port = port;
	jg_log_info("tunnel to %s", x->desc);
	if (direct)
		r = jg_tundirect_open(x, hop->ssh.host);
	else
		r = agent_open(x, host[0] != '\0' ? host : "localhost", port);
	if (r != 0)
		goto fail;
	return &x->op;
nomem:
	jg_stream_reply_error(s, 500, "internal error", "out of memory");
fail:
	if (x != NULL) {
		jg_pump_gone(&x->pump); /* no channel was opened */
		jg_tunnel_op_free(x);
	}
	return NULL;
}
