/* Request routing (api.c): the edge's one call into the gateway's operations.
 *
 * The HTTP/2 layer (h2session.c) hands every request whose headers are complete
 * to jg_api_route, which answers the small read-only endpoints itself (/healthz,
 * /v1/stats, /metrics, /v1/routes, /v1/whoami, target listings) and hands the
 * others, through admission (gateway/admission/admit.h), to their operation.  Nothing
 * below calls back up into this header. */
#ifndef JG_GATEWAY_ADMISSION_API_H
#define JG_GATEWAY_ADMISSION_API_H

struct jg_gateway;
struct jg_stream;
struct jg_op;

/* Route a request whose headers are complete.  The operation serving S, or NULL when the
 * request was answered already.  PROTOCOL is the :protocol of an extended CONNECT, or "". */
struct jg_op *jg_api_route(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			   const char *path, const char *content_type, const char *protocol);
/* A request on S that was answered STATUS (>= 400) with REASON (NULL: none given) and
 * never reached admission (a bad target, path or body; an unknown endpoint): its audit
 * record, start and end with outcome "refused" (h2session.c, when the stream
 * closes).  Every request thus has exactly one record, refusals included. */
void jg_api_refused(struct jg_gateway *gw, struct jg_stream *s, const char *method,
		    const char *path, int status, const char *reason);
/* JSON text of /v1/stats (caller frees). */
char *jg_api_stats_json(const struct jg_gateway *gw);

#endif
