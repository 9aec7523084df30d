/* Metrics for Prometheus: counters fed where the gateway already counts, rendered
 * in the text exposition format (version 0.0.4) for GET /metrics.
 *
 * Sources, so that nothing is counted twice or scanned per scrape beyond what
 * /v1/stats does:
 *   - every operation ends in exactly one audit record (auth/audit.h): its action,
 *     outcome, duration and bytes arrive here through the audit's observer
 *     (jg_metrics_audit_end), so operations, denials and durations agree with the
 *     audit log by construction;
 *   - onward connections report their setup (jg_metrics_onward_up / _failed);
 *   - connections, streams, client bytes and TLS failures are gw->stats, the
 *     agent links, site links and routes are walked as /v1/stats walks them. */
#ifndef JG_GATEWAY_METRICS_H
#define JG_GATEWAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct jg_gateway;
struct jg_audit_op;

/* Upper bounds (seconds) of the histograms' buckets; +Inf is implicit. */
#define JG_METRICS_NBUCKETS 14

struct jg_histogram {
	uint64_t bucket[JG_METRICS_NBUCKETS]; /* not cumulative: rendered cumulatively */
	uint64_t count;
	double sum;
};

enum jg_metrics_action {
	JG_MA_EXEC,
	JG_MA_PUT,
	JG_MA_GET,
	JG_MA_TUNNEL,
	JG_MA_RESET,
	JG_MA_ADMIN,
	JG_MA_OTHER, /* a refused request that named no action */
	JG_MA_COUNT,
};

enum jg_metrics_outcome {
	JG_MO_OK,
	JG_MO_FAILED,
	JG_MO_DENIED,
	JG_MO_REFUSED,
	JG_MO_COUNT,
};

struct jg_metrics {
	uint64_t ops[JG_MA_COUNT][JG_MO_COUNT];
	struct jg_histogram op_seconds[JG_MA_COUNT];
	uint64_t op_bytes_in[JG_MA_COUNT], op_bytes_out[JG_MA_COUNT];
	uint64_t onward_up, onward_failed;
	struct jg_histogram onward_setup_seconds;
	/* The live onward connections by state, asked at each render: set by main.c
	 * (jg_onward_count), so the pool, which counts into this struct, is not
	 * included from here; NULL renders no gauge. */
	void (*count_onward)(const struct jg_gateway *gw, uint64_t *connecting, uint64_t *up);
};

/* A zeroed set (calloc'd), or NULL when out of memory. */
struct jg_metrics *jg_metrics_new(void);
void jg_metrics_free(struct jg_metrics *m);
/* Observer of auth/audit.h: OP ended with OUTCOME after DURATION_MS.  UD is the
 * struct jg_metrics (NULL: nothing counted). */
void jg_metrics_audit_end(void *ud, const struct jg_audit_op *op, const char *outcome,
			  uint64_t duration_ms);
/* An onward connection came up after MS milliseconds / failed before it did. */
void jg_metrics_onward_up(struct jg_metrics *m, uint64_t ms);
void jg_metrics_onward_failed(struct jg_metrics *m);
/* Count V (seconds) into H. */
void jg_metrics_observe(struct jg_histogram *h, double v);
/* The action's index for its audit name ("exec", ...; anything else: JG_MA_OTHER). */
enum jg_metrics_action jg_metrics_action(const char *name);

/* Append GW's metrics in the text format to OUT.  0, or -1 when out of memory. */
int jg_metrics_render(const struct jg_gateway *gw, struct evbuffer *out);
/* The content type of that text. */
#define JG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* metricshttp.c: the optional plain-HTTP listener (cfg->metrics_host:metrics_port)
 * serving GET /metrics and GET /healthz with no authentication, for Prometheus and
 * load-balancer health checks.  0 (also when not configured), or JG_ERR_IO with
 * the reason in ERR. */
int jg_metrics_listen(struct jg_gateway *gw, char *err, size_t errlen);
/* Stop it (SIGTERM: /healthz must not answer "ok" from a draining gateway, so it
 * keeps answering until exit, with 503). */
void jg_metrics_close(struct jg_gateway *gw);

#endif
