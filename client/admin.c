/* Small commands: `jumpgate reset TARGET`, `jumpgate stats` and `jumpgate routes`. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/client.h"
#include "client/help.h"

/* Print the JSON error body of a refused request as one line. */
static void print_refusal(const char *what, int status, struct evbuffer *body)
{
	size_t len = evbuffer_get_length(body);
	json_t *o = json_loadb((const char *)evbuffer_pullup(body, (ssize_t)len), len, 0, NULL);
	const char *reason = o ? json_string_value(json_object_get(o, "reason")) : NULL;

	if (reason != NULL)
		jg_client_fail("%s: %s", what, reason);
	else
		jg_client_fail("%s: the gateway answered HTTP %d", what, status);
	json_decref(o);
}

int jg_cmd_reset(struct jg_client *c, int argc, char **argv)
{
	struct evbuffer *body;
	char path[2048];
	int status = 0, r;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		jg_help_reset();
		return 0;
	}
	if (argc != 2)
		return jg_client_usage("reset takes one TARGET");
	if (jg_client_target_path(path, sizeof(path), argv[1], "reset") != 0)
		return jg_client_usage("target too long");
	if ((r = jg_client_setup(c)) != 0)
		return r;
	if ((body = evbuffer_new()) == NULL)
		return JG_EXIT_FAILURE;
	r = jg_client_request(c, "POST", path, &status, body);
	if (r == 0 && status != 200) {
		print_refusal(argv[1], status, body);
		r = JG_EXIT_FAILURE;
	} else if (r == 0) {
		size_t len = evbuffer_get_length(body);
		json_t *o =
		    json_loadb((const char *)evbuffer_pullup(body, (ssize_t)len), len, 0, NULL);

		printf("%s: %s\n", argv[1],
		       json_is_true(json_object_get(o, "reset"))
			   ? "connection closed; the next operation opens a new one"
			   : "no open connection");
		json_decref(o);
	}
	evbuffer_free(body);
	return r;
}

int jg_cmd_stats(struct jg_client *c, int argc, char **argv)
{
	struct evbuffer *body;
	int status = 0, r;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		jg_help_stats();
		return 0;
	}
	/* --json: the output is JSON anyway; accepted as every listing command takes it. */
	if (argc != 1 && !(argc == 2 && strcmp(argv[1], "--json") == 0))
		return jg_client_usage("stats takes no arguments but --json");
	if ((r = jg_client_setup(c)) != 0)
		return r;
	if ((body = evbuffer_new()) == NULL)
		return JG_EXIT_FAILURE;
	r = jg_client_request(c, "GET", "/v1/stats", &status, body);
	if (r == 0 && status != 200) {
		print_refusal("stats", status, body);
		r = JG_EXIT_FAILURE;
	} else if (r == 0) {
		fwrite(evbuffer_pullup(body, -1), 1, evbuffer_get_length(body), stdout);
	}
	evbuffer_free(body);
	return r;
}

/* One line per route: SITE STATE NEXT_HOP PATH SINCE RTT [REASON]. */
static void print_routes(const json_t *root)
{
	const json_t *routes = json_object_get(root, "routes"), *r, *hop;
	size_t i, j;

	printf("%-20s %-5s %-20s %-30s %-20s %8s %s\n", "SITE", "STATE", "NEXT_HOP", "PATH",
	       "SINCE", "RTT_MS", "REASON");
	json_array_foreach(routes, i, r)
	{
		const char *next = json_string_value(json_object_get(r, "next_hop"));
		const char *reason = json_string_value(json_object_get(r, "reason"));
		json_t *rtt = json_object_get(r, "rtt_ms");
		time_t since = (time_t)json_integer_value(json_object_get(r, "since"));
		char path[512] = "", when[32] = "-", ms[32] = "-";
		size_t off = 0;
		struct tm tm;

		json_array_foreach(json_object_get(r, "path"), j, hop)
		{
			int n = snprintf(path + off, sizeof(path) - off, "%s%s", j ? "," : "",
					 json_string_value(hop) ? json_string_value(hop) : "?");
			if (n < 0 || (size_t)n >= sizeof(path) - off)
				break;
			off += (size_t)n;
		}
		if (localtime_r(&since, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		if (json_is_number(rtt))
			snprintf(ms, sizeof(ms), "%.3f", json_number_value(rtt));
		printf("%-20s %-5s %-20s %-30s %-20s %8s %s\n",
		       json_string_value(json_object_get(r, "site")),
		       json_string_value(json_object_get(r, "state")), next ? next : "-",
		       path[0] ? path : "-", when, ms, reason ? reason : "");
	}
}

int jg_cmd_routes(struct jg_client *c, int argc, char **argv)
{
	struct evbuffer *body;
	int status = 0, r, as_json = 0;
	json_t *root;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		as_json = 1;
	else if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		jg_help_routes();
		return 0;
	} else if (argc != 1)
		return jg_client_usage("routes takes no arguments but --json");
	if ((r = jg_client_setup(c)) != 0)
		return r;
	if ((body = evbuffer_new()) == NULL)
		return JG_EXIT_FAILURE;
	r = jg_client_request(c, "GET", "/v1/routes", &status, body);
	if (r == 0 && status != 200) {
		print_refusal("routes", status, body);
		r = JG_EXIT_FAILURE;
	} else if (r == 0 && as_json) {
		fwrite(evbuffer_pullup(body, -1), 1, evbuffer_get_length(body), stdout);
	} else if (r == 0) {
		size_t len = evbuffer_get_length(body);

		root = json_loadb((const char *)evbuffer_pullup(body, (ssize_t)len), len, 0, NULL);
		if (root == NULL) {
			jg_client_fail("routes: the gateway's answer is not JSON");
			r = JG_EXIT_FAILURE;
		} else {
			print_routes(root);
		}
		json_decref(root);
	}
	evbuffer_free(body);
	return r;
}
