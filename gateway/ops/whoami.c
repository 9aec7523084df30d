/* GET /v1/whoami: who the gateway takes the caller for, so that a person can check the
 * identity its policy rules will see ("identity" decides which rules match) before
 * asking why something is denied.  Any authenticated caller may ask about itself: the
 * answer holds nothing it did not present, so no policy action guards it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/policy.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"

void jg_whoami_reply(struct jg_gateway *gw, struct jg_stream *s)
{
	const char *via = jg_stream_via(s), *peer = jg_stream_peer(s);
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = via,
	    .action = "admin",
	};
	char why[300], *text;
	const char *how;
	json_t *o;

	/* How the gateway learnt the identity: decides what to fix when it is not the one
	 * expected (the certificate, the Unix account, or the peer gateway's trust). */
	if (via != NULL)
		how = "asserted by a trusted peer gateway";
	else if (strncmp(peer, "unix", 4) == 0)
		how = "unix socket peer credentials";
	else
		how = "client certificate";
	o = json_pack("{s:s, s:s?, s:s, s:s, s:b}", "identity", req.identity, "via", via, "peer",
		      peer, "authenticated_by", how, "admin",
		      jg_policy_check(gw->cfg, &req, why, sizeof(why)));
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
	} else {
		size_t len = strlen(text);

		text[len] = '\n'; /* the NUL becomes the newline curl users expect */
		jg_stream_reply(s, 200, "application/json", text, len + 1);
	}
	free(text);
	json_decref(o);
}
