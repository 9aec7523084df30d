/* Helpers shared by the client's operations (client/opconn.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>

#include "client/client.h"
#include "client/opconn.h"
#include "relay/log.h"

int jg_op_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Someone made our stdout non-blocking; waiting is our backpressure. */
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void jg_op_blank_controls(char *msg)
{
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

int jg_op_status(const char *name, const char *value, int *http_status)
{
	if (strcmp(name, ":status") != 0)
		return -1;
	*http_status = atoi(value);
	jg_log_debug("gateway answered %d", *http_status);
	return *http_status == 200;
}

void jg_op_errbody_add(struct evbuffer *errbody, const uint8_t *data, size_t len)
{
	if (evbuffer_get_length(errbody) + len <= JG_OP_ERRBODY_MAX)
		evbuffer_add(errbody, data, len);
}

int jg_op_refusal(struct evbuffer *errbody, int http_status, char *buf, size_t buflen)
{
	size_t len = errbody != NULL ? evbuffer_get_length(errbody) : 0;
	const char *body = len > 0 ? (const char *)evbuffer_pullup(errbody, -1) : NULL;
	const char *reason = NULL;
	json_t *root = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	int found;

	if (json_is_object(root)) {
		reason = json_string_value(json_object_get(root, "reason"));
		if (reason == NULL || reason[0] == '\0')
			reason = json_string_value(json_object_get(root, "error"));
	}
	found = reason != NULL && reason[0] != '\0';
	if (found)
		snprintf(buf, buflen, "%s", reason);
	else
		snprintf(buf, buflen, "the gateway answered HTTP %d", http_status);
	json_decref(root);
	return found;
}

void jg_op_early_close(uint32_t h2_error, char *buf, size_t len)
{
	if (h2_error == NGHTTP2_REFUSED_STREAM)
		snprintf(buf, len, "the gateway refused the request (is it shutting down?)");
	else
		snprintf(buf, len, "the gateway reset the stream before answering (%s)",
			 nghttp2_http2_strerror(h2_error));
}

int jg_op_getopt_error(const char *cmd, int ch, char **argv)
{
	if (ch == ':')
		return jg_client_usage("%s: option %s needs an argument", cmd, argv[optind - 1]);
	if (optopt != 0)
		return jg_client_usage("%s: unknown option -%c", cmd, optopt);
	return jg_client_usage("%s: unknown option %s", cmd, argv[optind - 1]);
}
