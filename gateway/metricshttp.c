/* The plain-HTTP metrics listener (metrics_listen): GET /metrics and GET /healthz
 * with no client certificate, for Prometheus and load balancers (HAProxy's
 * `option httpchk GET /healthz`).  libevent's evhttp does the HTTP/1.1; nothing
 * here reaches an operation, a target or the policy: what it serves is what
 * /v1/stats would show anyone allowed `admin`, counts and names of sites only.
 * Bind it to loopback, or to an address only the monitoring network reaches. */
#include <errno.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "relay/err.h"
#include "relay/log.h"

/* A scrape is a few KiB; anything larger from a client is not a scrape. */
#define MAX_HEADERS 8192
#define IDLE_TIMEOUT_S 10

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct jg_gateway *gw = arg;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || jg_metrics_render(gw, b) != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "cannot render the metrics (out of memory)");
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  JG_METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* Same answer as the TLS API's /healthz: 200 while serving, 503 while draining, so a
 * load balancer stops sending before the gateway goes away. */
static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct jg_gateway *gw = arg;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evbuffer_add_printf(b, "{\"status\":\"%s\"}\n", gw->draining ? "draining" : "ok");
	evhttp_send_reply(req, gw->draining ? 503 : HTTP_OK,
			  gw->draining ? "Service Unavailable" : "OK", b);
	evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND,
			  "this listener serves only GET /metrics and GET /healthz");
}

int jg_metrics_listen(struct jg_gateway *gw, char *err, size_t errlen)
{
	const struct jg_config *cfg = gw->cfg;
	struct evhttp *http;

	if (cfg->metrics_host == NULL)
		return 0;
	if ((http = evhttp_new(gw->base)) == NULL) {
		snprintf(err, errlen, "metrics_listen: out of memory");
		return JG_ERR_IO;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(http, MAX_HEADERS);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_timeout(http, IDLE_TIMEOUT_S);
	evhttp_set_cb(http, "/metrics", on_metrics, gw);
	evhttp_set_cb(http, "/healthz", on_healthz, gw);
	evhttp_set_gencb(http, on_other, gw);
	errno = 0;
	if (evhttp_bind_socket(http, cfg->metrics_host, cfg->metrics_port) != 0) {
		snprintf(err, errlen, "metrics_listen: cannot listen on %s:%u: %s",
			 cfg->metrics_host, (unsigned)cfg->metrics_port,
			 errno != 0 ? strerror(errno) : "address not usable");
		evhttp_free(http);
		return JG_ERR_IO;
	}
	gw->metrics_http = http;
	jg_log_info("serving /metrics and /healthz over plain HTTP on %s:%u (no authentication)",
		    cfg->metrics_host, (unsigned)cfg->metrics_port);
	return 0;
}

void jg_metrics_close(struct jg_gateway *gw)
{
	if (gw->metrics_http != NULL)
		evhttp_free(gw->metrics_http);
	gw->metrics_http = NULL;
}
