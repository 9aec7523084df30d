/* Request paths: a target goes into one path segment, percent-encoded. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "relay/pct.h"

int jg_client_target_path(char *buf, size_t len, const char *target, const char *rest)
{
	static const char prefix[] = "/v1/targets/";
	size_t n;

	if (len < sizeof(prefix))
		return -1;
	memcpy(buf, prefix, sizeof(prefix));
	n = sizeof(prefix) - 1;
	/* ':' and '@' of target specs stay; '/' above all is encoded: a chain "ssh:a/lxc:b"
	 * is one segment, not two. */
	if (jg_pct_encode(buf + n, len - n, target, ":@") != 0)
		return -1;
	n += strlen(buf + n);
	if (n + 1 + strlen(rest) >= len)
		return -1;
	snprintf(buf + n, len - n, "/%s", rest);
	return 0;
}
