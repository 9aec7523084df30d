/* Several gateways and when an operation may go to the next one: see failover.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/client.h"
#include "client/failover.h"
#include "relay/log.h"

/* Make entry I current. */
static void select_gateway(struct jg_client *c, int i)
{
	c->gateway_at = i;
	c->unix_path[0] = '\0';
	/* Checked by jg_failover_setup: cannot fail here. */
	(void)jg_client_parse_gateway(c, c->gateways[i]);
}

int jg_failover_setup(struct jg_client *c, const char *list)
{
	int nunix = 0;
	char *p, *save = NULL;

	if (c->ngateways > 0) /* the command runs again: keep the gateway chosen for it */
		return 0;
	if (strlen(list) >= sizeof(c->gateway_list))
		return jg_client_usage("gateway list '%.40s...' is too long", list);
	snprintf(c->gateway_list, sizeof(c->gateway_list), "%s", list);
	for (p = strtok_r(c->gateway_list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (c->ngateways == JG_CLIENT_GATEWAYS_MAX)
			return jg_client_usage("more than %d gateways in '%s'",
					       JG_CLIENT_GATEWAYS_MAX, list);
		c->unix_path[0] = '\0';
		if (jg_client_parse_gateway(c, p) != 0)
			return jg_client_usage(
			    "bad gateway address '%s' (expected HOST:PORT, [IPV6]:PORT or "
			    "unix:PATH, PATH at most %zu bytes; several separated by commas)",
			    p, sizeof(c->unix_path) - 1);
		nunix += c->unix_path[0] != '\0';
		c->gateways[c->ngateways++] = p;
	}
	if (c->ngateways == 0)
		return jg_client_usage("bad gateway address '%s' (no address in it)", list);
	/* TLS or not is decided once per run (certificates are looked up for TLS only). */
	if (nunix != 0 && nunix != c->ngateways)
		return jg_client_usage("gateway list '%s' mixes unix: sockets and TCP addresses",
				       list);
	select_gateway(c, 0);
	c->gateways_tried = 1;
	return 0;
}

int jg_failover_next(struct jg_client *c, const char *why, int min_tries)
{
	int limit = c->ngateways > min_tries ? c->ngateways : min_tries;
	char was[sizeof(c->gateway)];

	if (c->ngateways == 0 || c->gateways_tried >= limit)
		return -1;
	snprintf(was, sizeof(was), "%s", c->gateway);
	c->gateways_tried++;
	select_gateway(c, (c->gateway_at + 1) % c->ngateways);
	jg_log_info("gateway %s: %s: trying %s", was, why, c->gateway);
	return 0;
}

void jg_failover_opened(struct jg_client *c)
{
	c->gateways_tried = 1;
}

int jg_failover_refused_before_start(int http_status, struct evbuffer *errbody)
{
	/* gateway/ops/exec.c and its siblings answer this before anything is resolved or
	 * spawned; other 503s ("route lost") may come after a forwarded request ran. */
	size_t len = errbody != NULL ? evbuffer_get_length(errbody) : 0;
	json_t *root;
	int drain;

	if (http_status != 503 || len == 0)
		return 0;
	root = json_loadb((const char *)evbuffer_pullup(errbody, -1), len, 0, NULL);
	drain = json_is_string(json_object_get(root, "error")) &&
		strcmp(json_string_value(json_object_get(root, "error")), "shutting down") == 0;
	json_decref(root);
	return drain;
}

int jg_failover_rerun(struct jg_client *c, int status)
{
	/* One more run per gateway in the list, and at least one (HAProxy: one address). */
	int limit = c->ngateways > 1 ? c->ngateways - 1 : 1;
	/* No gateway acted on anything of this run: as if it had never connected. */
	int unheard = c->rerun_unheard && c->lost_unheard && !c->heard;
	char was[sizeof(c->gateway)];

	if (status != JG_EXIT_FAILURE || !(unheard || (c->retry && c->gateway_lost)) ||
	    c->reruns >= limit || c->ngateways == 0)
		return 0;
	if (c->stdin_read) {
		/* rsync through rsh: its protocol was half sent; rerun rsync itself instead. */
		jg_client_fail("not running the command again (--retry): its stdin was already "
			       "read and sent");
		return 0;
	}
	snprintf(was, sizeof(was), "%s", c->gateway);
	c->reruns++;
	c->gateway_lost = c->lost_unheard = c->heard = 0;
	select_gateway(c, (c->gateway_at + 1) % c->ngateways);
	c->gateways_tried = 1;
	jg_client_fail("the connection to gateway %s was lost%s: running the command again "
		       "through %s%s",
		       was, unheard ? " before it served anything" : "", c->gateway,
		       unheard ? "" : " (--retry)");
	return 1;
}
