/* Admission: the one step between routing (api.c) and the operations (exec,
 * raw, files, fan-out, tunnel, forward).  For every request it
 *  - resolves the target once into its canonical chain (jg_admit_new),
 *  - applies every policy decision: the rules (actions, targets, commands,
 *    paths, become, setid), tunnels.allow, the controller's forwarded agent and
 *    the identity a trusted site asserted (jg_admit_decide),
 *  - opens the audit record, or writes the denial, and
 *  - hands the operation an admitted request, struct jg_admit, which the
 *    operation runs and closes (jg_admit_close) with its outcome.
 *
 * Operations never call up into api.c or back into the router: they hold the
 * jg_admit they were given.  Most questions are complete when the request's
 * headers are (reset, admin, tunnels through an agent, file paths); two are
 * only complete later, and are asked of the same jg_admit then: an exec's argv
 * (its OPEN frame in the request body) and the address a direct tunnel dials
 * (known once its name resolved).  Either way nothing is spawned or connected
 * before the decision, and every decision, allow or deny, is audited once.
 *
 * Lifetime: jg_admit_new -> [jg_admit_decide: 1 allowed | 0 denied and audited]
 * -> jg_admit_close (ends an open record with the outcome; frees).  The stream is
 * used by jg_admit_new and jg_admit_decide only, so an operation may close its
 * admission after its stream is gone. */
#ifndef JG_GATEWAY_ADMISSION_ADMIT_H
#define JG_GATEWAY_ADMISSION_ADMIT_H

#include <stddef.h>

#include "gateway/admitted.h"

struct jg_gateway;
struct jg_stream;
struct jg_chain;
struct jg_audit;
struct jg_audit_op;
struct jg_file_spec;

/* What admission gives the layers below (gateway/admitted.h), set in gw->admission. */
extern const struct jg_admit_cbs jg_admit_cbs;

/* Would ACTION on the gateway itself be allowed for the client on S?  Asked without an
 * audit record: the caller decides what to serve (a listing of one's own targets
 * instead of a 403).  1 or 0. */
int jg_admit_may(struct jg_gateway *gw, struct jg_stream *s, const char *action);
/* A request on S served without an operation (a listing): its record, ACTION on the
 * gateway, started and ended at once with OUTCOME and REASON.  0, or JG_ERR_NOMEM (the
 * caller refuses rather than serve unaudited). */
int jg_admit_note(struct jg_gateway *gw, struct jg_stream *s, const char *action,
		  const char *outcome, const char *reason);

/* The audit log, opened on first use (on failure: logged, and stderr instead). */
struct jg_audit *jg_admit_audit(struct jg_gateway *gw);

#endif
