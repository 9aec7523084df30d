/* Metrics: the counters and their text rendering (see metrics.h). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth/audit.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/sites/sites.h"

/* From a fast command to a long upload; onward setups use the same scale. */
static const double bucket_le[JG_METRICS_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
						      1,     2.5,  5,	  10,	30,  60,   300};
static const char *const bucket_text[JG_METRICS_NBUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1",     "2.5",  "5",     "10",   "30",  "60",   "300"};

static const char *const action_names[JG_MA_COUNT] = {"exec",  "put",	"get",	"tunnel",
						      "reset", "admin", "other"};
static const char *const outcome_names[JG_MO_COUNT] = {"ok", "failed", "denied", "refused"};

struct jg_metrics *jg_metrics_new(void)
{
	return calloc(1, sizeof(struct jg_metrics));
}

void jg_metrics_free(struct jg_metrics *m)
{
	free(m);
}

void jg_metrics_observe(struct jg_histogram *h, double v)
{
	for (size_t i = 0; i < JG_METRICS_NBUCKETS; i++)
		if (v <= bucket_le[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += v;
}

enum jg_metrics_action jg_metrics_action(const char *name)
{
	for (size_t i = 0; i < JG_MA_OTHER; i++)
		if (strcmp(name, action_names[i]) == 0)
			return (enum jg_metrics_action)i;
	return JG_MA_OTHER;
}

static enum jg_metrics_outcome outcome_of(const char *name)
{
	for (size_t i = 0; i < JG_MO_COUNT; i++)
		if (name != NULL && strcmp(name, outcome_names[i]) == 0)
			return (enum jg_metrics_outcome)i;
	/* The audit's outcomes are these four; anything new is a failure until named. */
	return JG_MO_FAILED;
}

void jg_metrics_audit_end(void *ud, const struct jg_audit_op *op, const char *outcome,
			  uint64_t duration_ms)
{
	struct jg_metrics *m = ud;
	enum jg_metrics_action a;

	if (m == NULL)
		return;
	a = jg_metrics_action(op->action);
	m->ops[a][outcome_of(outcome)]++;
	jg_metrics_observe(&m->op_seconds[a], (double)duration_ms / 1000.0);
	m->op_bytes_in[a] += op->bytes_in;
	m->op_bytes_out[a] += op->bytes_out;
}

void jg_metrics_onward_up(struct jg_metrics *m, uint64_t ms)
{
	if (m == NULL)
		return;
	m->onward_up++;
	jg_metrics_observe(&m->onward_setup_seconds, (double)ms / 1000.0);
}

void jg_metrics_onward_failed(struct jg_metrics *m)
{
	if (m != NULL)
		m->onward_failed++;
}

/* ------------------------------------------------------------------ rendering */

struct out {
	struct evbuffer *b;
	int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(o->b, fmt, ap) < 0)
		o->failed = 1;
	va_end(ap);
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value in the text format: backslash, double quote and newline escaped.
 * Site names are restricted already; this keeps any future label honest. */
static void put_label(struct out *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			put(o, "\\%c", *v);
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
}

/* NAME{LABELS,le="..."} series of H; LABELS is "" or `key="v"`. */
static void put_histogram(struct out *o, const char *name, const char *labels,
			  const struct jg_histogram *h)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;

	for (size_t i = 0; i < JG_METRICS_NBUCKETS; i++) {
		cum += h->bucket[i];
		put(o, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, bucket_text[i],
		    (unsigned long long)cum);
	}
	put(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    (unsigned long long)h->count);
	if (labels[0] != '\0') {
		put(o, "%s_sum{%s} %.6f\n", name, labels, h->sum);
		put(o, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
	} else {
		put(o, "%s_sum %.6f\n", name, h->sum);
		put(o, "%s_count %llu\n", name, (unsigned long long)h->count);
	}
}

static void render_ops(struct out *o, const struct jg_metrics *m)
{
	static const struct jg_metrics empty;
	char labels[64];

	if (m == NULL)
		m = &empty;
	head(o, "jumpgate_operations_total", "counter",
	     "Operations ended, by action and outcome (one per audit record).");
	for (size_t a = 0; a < JG_MA_COUNT; a++)
		for (size_t r = 0; r < JG_MO_COUNT; r++)
			put(o, "jumpgate_operations_total{action=\"%s\",outcome=\"%s\"} %llu\n",
			    action_names[a], outcome_names[r], (unsigned long long)m->ops[a][r]);
	head(o, "jumpgate_policy_denials_total", "counter",
	     "Operations the policy denied, by action.");
	for (size_t a = 0; a < JG_MA_COUNT; a++)
		put(o, "jumpgate_policy_denials_total{action=\"%s\"} %llu\n", action_names[a],
		    (unsigned long long)m->ops[a][JG_MO_DENIED]);
	head(o, "jumpgate_operation_duration_seconds", "histogram",
	     "Time from an operation's admission to its end, by action.");
	for (size_t a = 0; a < JG_MA_COUNT; a++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"", action_names[a]);
		put_histogram(o, "jumpgate_operation_duration_seconds", labels, &m->op_seconds[a]);
	}
	head(o, "jumpgate_operation_bytes_total", "counter",
	     "Payload bytes of ended operations, by action and direction (in: from the client "
	     "towards the target).");
	for (size_t a = 0; a < JG_MA_COUNT; a++) {
		put(o, "jumpgate_operation_bytes_total{action=\"%s\",direction=\"in\"} %llu\n",
		    action_names[a], (unsigned long long)m->op_bytes_in[a]);
		put(o, "jumpgate_operation_bytes_total{action=\"%s\",direction=\"out\"} %llu\n",
		    action_names[a], (unsigned long long)m->op_bytes_out[a]);
	}
	head(o, "jumpgate_onward_connections_opened_total", "counter",
	     "Onward connections that came up (agent HELLO) or failed before it.");
	put(o, "jumpgate_onward_connections_opened_total{result=\"up\"} %llu\n",
	    (unsigned long long)m->onward_up);
	put(o, "jumpgate_onward_connections_opened_total{result=\"failed\"} %llu\n",
	    (unsigned long long)m->onward_failed);
	head(o, "jumpgate_onward_setup_duration_seconds", "histogram",
	     "Time from starting an onward connection to its agent's HELLO.");
	put_histogram(o, "jumpgate_onward_setup_duration_seconds", "", &m->onward_setup_seconds);
}

/* The live onward connections by state: the walk /v1/stats makes too. */
static void render_onward(struct out *o, const struct jg_gateway *gw)
{
	uint64_t connecting, up;

	if (gw->metrics->count_onward == NULL)
		return;
	gw->metrics->count_onward(gw, &connecting, &up);
	head(o, "jumpgate_onward_connections", "gauge", "Onward connections now, by state.");
	put(o, "jumpgate_onward_connections{state=\"connecting\"} %llu\n",
	    (unsigned long long)connecting);
	put(o, "jumpgate_onward_connections{state=\"up\"} %llu\n", (unsigned long long)up);
}

/* Site links, one series per configured peer, from the same objects /v1/stats shows. */
static void render_sites(struct out *o, const struct jg_gateway *gw)
{
	json_t *arr = json_array(), *e;
	size_t i, up = 0, lost = 0;

	if (arr == NULL) {
		o->failed = 1;
		return;
	}
	jg_sites_stats(gw, arr);
	head(o, "jumpgate_site_link_up", "gauge",
	     "1 when the link to a peer gateway is up (its state label says which), else 0.");
	json_array_foreach(arr, i, e)
	{
		const char *site = json_string_value(json_object_get(e, "site"));
		const char *state = json_string_value(json_object_get(e, "state"));

		put(o, "jumpgate_site_link_up{site=\"");
		put_label(o, site != NULL ? site : "");
		put(o, "\",state=\"");
		put_label(o, state != NULL ? state : "");
		put(o, "\"} %d\n", state != NULL && strcmp(state, "up") == 0);
	}
	head(o, "jumpgate_site_link_connects_total", "counter",
	     "Connections made to a peer gateway, and failed attempts.");
	json_array_foreach(arr, i, e)
	{
		const char *site = json_string_value(json_object_get(e, "site"));

		put(o, "jumpgate_site_link_connects_total{site=\"");
		put_label(o, site != NULL ? site : "");
		put(o, "\",result=\"ok\"} %lld\n",
		    (long long)json_integer_value(json_object_get(e, "connects")));
		put(o, "jumpgate_site_link_connects_total{site=\"");
		put_label(o, site != NULL ? site : "");
		put(o, "\",result=\"failed\"} %lld\n",
		    (long long)json_integer_value(json_object_get(e, "failures")));
	}
	json_decref(arr);
	jg_routes_count(gw, &up, &lost);
	head(o, "jumpgate_routes", "gauge", "Routes to other sites in the route table, by state.");
	put(o, "jumpgate_routes{state=\"up\"} %zu\n", up);
	put(o, "jumpgate_routes{state=\"lost\"} %zu\n", lost);
}

int jg_metrics_render(const struct jg_gateway *gw, struct evbuffer *b)
{
	const struct jg_stats *st = &gw->stats;
	struct out o = {.b = b};

	head(&o, "jumpgate_build_info", "gauge", "The version and site name; always 1.");
	put(&o, "jumpgate_build_info{version=\"%s\",site=\"", PACKAGE_VERSION);
	put_label(&o, gw->cfg->gateway_name);
	put(&o, "\"} 1\n");
	head(&o, "jumpgate_start_time_seconds", "gauge", "When the gateway started (Unix time).");
	put(&o, "jumpgate_start_time_seconds %lld\n", (long long)gw->started);
	head(&o, "jumpgate_draining", "gauge", "1 after SIGTERM: no new streams are accepted.");
	put(&o, "jumpgate_draining %d\n", gw->draining ? 1 : 0);
	head(&o, "jumpgate_connections", "gauge", "Controller connections open now.");
	put(&o, "jumpgate_connections %llu\n", (unsigned long long)st->conns_current);
	head(&o, "jumpgate_connections_total", "counter", "Controller connections accepted.");
	put(&o, "jumpgate_connections_total %llu\n", (unsigned long long)st->conns_total);
	head(&o, "jumpgate_streams", "gauge", "HTTP/2 streams open now.");
	put(&o, "jumpgate_streams %llu\n", (unsigned long long)st->streams_current);
	head(&o, "jumpgate_streams_total", "counter", "HTTP/2 streams opened by controllers.");
	put(&o, "jumpgate_streams_total %llu\n", (unsigned long long)st->streams_total);
	head(&o, "jumpgate_client_bytes_total", "counter",
	     "Bytes on controller connections, by direction (in: received).");
	put(&o, "jumpgate_client_bytes_total{direction=\"in\"} %llu\n",
	    (unsigned long long)st->bytes_from_clients);
	put(&o, "jumpgate_client_bytes_total{direction=\"out\"} %llu\n",
	    (unsigned long long)st->bytes_to_clients);
	head(&o, "jumpgate_tls_handshake_failures_total", "counter",
	     "TLS handshakes that failed (no, unknown, revoked or expired certificate...).");
	put(&o, "jumpgate_tls_handshake_failures_total %llu\n",
	    (unsigned long long)st->tls_failures);
	head(&o, "jumpgate_stream_windows_grown_total", "counter",
	     "Request bodies' stream windows grown for a socket that keeps up.");
	put(&o, "jumpgate_stream_windows_grown_total %llu\n",
	    (unsigned long long)st->windows_grown);
	head(&o, "jumpgate_stream_window_growth_bytes", "gauge",
	     "Window growth live streams hold now, of window_budget.");
	put(&o, "jumpgate_stream_window_growth_bytes %llu\n",
	    (unsigned long long)gw->winbudget.used);
	render_ops(&o, gw->metrics);
	render_onward(&o, gw);
	render_sites(&o, gw);
	return o.failed ? -1 : 0;
}
