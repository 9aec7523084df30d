/* Small commands: `jumpgate reset TARGET` and `jumpgate stats`. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/client.h"

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
		jg_help_main();
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
		json_t *o = json_loadb((const char *)evbuffer_pullup(body, (ssize_t)len), len, 0,
				       NULL);

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

	if (argc != 1)
		return jg_client_usage("stats takes no arguments");
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
