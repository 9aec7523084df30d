/* `jumpgate cp web1:/path web2:/path [web3:/path ...]`: a relayed copy.  Every operand
 * is remote, the first is the source and the others the destinations; the gateway reads
 * the source and writes every destination (PUT /v1/copy/PATH?targets=LIST&from=SRC,
 * gateway/ops/fanout.c), so the bytes never touch the controller.  Destinations that share
 * a path go in one request; each other path is one more read of the source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/batch.h"
#include "client/client.h"
#include "client/cp.h"
#include "relay/pct.h"

/* DST, or DST + the source's last component when DST ends in '/', into a new string. */
static char *dest_path(const char *dst, const char *src)
{
	size_t n = strlen(dst), sl = strlen(src);
	const char *base;
	char *out;

	if (n == 0 || dst[n - 1] != '/')
		return strdup(dst);
	while (sl > 1 && src[sl - 1] == '/')
		sl--;
	for (base = src + sl; base > src && base[-1] != '/'; base--)
		;
	if ((out = malloc(n + (size_t)(src + sl - base) + 1)) != NULL)
		snprintf(out, n + (size_t)(src + sl - base) + 1, "%s%.*s", dst,
			 (int)(src + sl - base), base);
	return out;
}

/* One request: SRC to PATH on the comma-separated escaped LIST.  The number of
 * destinations that failed, or -1 when the request as a whole failed (printed). */
static int relay_one(struct jg_cp *cp, const char *src, const char *path, const char *list,
		     const char *label)
{
	size_t plen = strlen(path) * 3 + 1, slen = strlen(src) * 3 + 1;
	char *epath = malloc(plen), *esrc = malloc(slen), *url = NULL, msg[512];
	const char *hdrs[1][2] = {{"x-jumpgate-mkdirs", "1"}};
	struct evbuffer *body = evbuffer_new();
	json_t *a = NULL, *e;
	int status = 0, failed = -1;
	size_t i, ulen;

	if (epath == NULL || esrc == NULL || body == NULL)
		goto nomem;
	while (*path == '/')
		path++;
	if (jg_pct_encode(epath, plen, path, "/") != 0 || jg_pct_encode(esrc, slen, src, NULL) != 0)
		goto nomem;
	ulen = strlen(epath) + strlen(esrc) + strlen(list) + 40;
	if ((url = malloc(ulen)) == NULL)
		goto nomem;
	snprintf(url, ulen, "/v1/copy/%s?targets=%s&from=%s", epath, list, esrc);
	if (jg_client_request_with(cp->c, "PUT", url, hdrs, cp->mkdirs ? 1 : 0, &status, body) != 0)
		goto out;
	if (status != 200) {
		jg_batch_reason(body, status, msg, sizeof(msg));
		jg_client_fail("cp: %s -> %s: %s", src, label, msg);
		goto out;
	}
	a = json_loadb((const char *)evbuffer_pullup(body, -1), evbuffer_get_length(body), 0, NULL);
	if (!json_is_array(a)) {
		jg_client_fail("cp: %s -> %s: the gateway's answer is not a JSON array", src,
			       label);
		goto out;
	}
	failed = 0;
	json_array_foreach(a, i, e)
	{
		const char *t = json_string_value(json_object_get(e, "target"));
		const char *why = json_string_value(json_object_get(e, "reason"));

		if (json_is_true(json_object_get(e, "ok"))) {
			if (!cp->quiet)
				printf("%s -> %s:/%s: ok, %lld bytes\n", src, t ? t : "?", path,
				       (long long)json_integer_value(json_object_get(e, "size")));
			continue;
		}
		failed++;
		jg_client_fail("cp: %s -> %s:/%s: %s", src, t ? t : "?", path,
			       why ? why : "failed (no reason given)");
	}
	fflush(stdout);
	goto out;
nomem:
	jg_client_fail("cp: out of memory");
out:
	json_decref(a);
	if (body != NULL)
		evbuffer_free(body);
	free(url);
	free(esrc);
	free(epath);
	return failed;
}

int jg_cp_relay(struct jg_cp *cp, const char *src_target, const char *src_path, size_t ndst,
		char *const *dst_targets, const char *const *dst_paths)
{
	char **paths = calloc(ndst, sizeof(*paths));
	char *src = NULL, *list = NULL, *label = NULL;
	int *done = calloc(ndst, sizeof(*done)), r = JG_EXIT_FAILURE, failed = 0, n;
	size_t i, j, cap, len;

	if (cp->recursive) {
		r = jg_client_usage("cp: a copy between targets takes one file (no -r)");
		goto out;
	}
	if (paths == NULL || done == NULL ||
	    (src = malloc(strlen(src_target) + strlen(src_path) + 2)) == NULL)
		goto nomem;
	sprintf(src, "%s:%s", src_target, src_path);
	for (i = 0; i < ndst; i++)
		if ((paths[i] = dest_path(dst_paths[i], src_path)) == NULL)
			goto nomem;
	/* One request per distinct destination path, its targets together. */
	for (i = 0; i < ndst; i++) {
		if (done[i])
			continue;
		cap = 1;
		for (j = i; j < ndst; j++)
			if (!done[j] && strcmp(paths[j], paths[i]) == 0)
				cap += strlen(dst_targets[j]) * 3 + 1;
		free(list);
		free(label);
		if ((list = malloc(cap)) == NULL ||
		    (label = malloc(cap + strlen(paths[i]) + 2)) == NULL)
			goto nomem;
		list[0] = label[0] = '\0';
		for (j = i; j < ndst; j++) {
			if (done[j] || strcmp(paths[j], paths[i]) != 0)
				continue;
			done[j] = 1;
			len = strlen(list);
			if (len > 0)
				list[len++] = ',';
			/* Each operand may itself be a list ("web2,web3"): keep its commas. */
			for (const char *p = dst_targets[j]; *p != '\0';) {
				size_t k = strcspn(p, ",");
				char *one = strndup(p, k);

				if (one == NULL ||
				    jg_pct_encode(list + len, cap - len, one, NULL) != 0) {
					free(one);
					goto nomem;
				}
				free(one);
				len = strlen(list);
				p += k;
				if (*p == ',') {
					list[len++] = ',';
					list[len] = '\0';
					p++;
				}
			}
			strcat(label, label[0] != '\0' ? "," : "");
			strcat(label, dst_targets[j]);
		}
		strcat(label, ":");
		strcat(label, paths[i]);
		if ((n = relay_one(cp, src, paths[i], list, label)) < 0)
			failed++;
		else
			failed += n;
	}
	r = failed > 0 ? 1 : 0;
	goto out;
nomem:
	jg_client_fail("cp: out of memory");
out:
	for (i = 0; paths != NULL && i < ndst; i++)
		free(paths[i]);
	free(paths);
	free(done);
	free(src);
	free(list);
	free(label);
	return r;
}
