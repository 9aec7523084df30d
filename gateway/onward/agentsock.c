/* The private agent socket of one onward connection forwarding a controller's agent
 * (gateway/onward/agentfwd.h): SSH_AUTH_SOCK of the onward ssh.
 *
 * It lives in a directory of its own made by mkdtemp (mode 0700: only the gateway's
 * account can enter it), is listening for the connection's lifetime, and is removed with
 * it.  Each connection to it is checked (SO_PEERCRED: our uid and the ssh's pid) and
 * handed to the running request of the same identity that lends its agent
 * (jg_agentfwd_lend); with none, it is closed at once, so ssh goes on without the agent
 * instead of waiting. */
#include "config.h" /* _GNU_SOURCE: accept4, struct ucred */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "gateway/onward/agentfwd.h"
#include "gateway/gateway.h"
#include "relay/err.h"
#include "relay/log.h"

struct jg_agentsock {
	struct jg_gateway *gw;
	char *key;
	char owner[256];
	int how;
	pid_t pid; /* the onward ssh: the only process answered */
	int fd;
	struct event *ev;
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct jg_agentsock *as = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd;

	(void)what;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    cred.uid != geteuid() || as->pid <= 0 || cred.pid != as->pid) {
			jg_log_warn("agent socket of %s: refused a connection from pid %ld uid %ld "
				    "(only the onward ssh, pid %ld, may use it)",
				    as->key, (long)cred.pid, (long)cred.uid, (long)as->pid);
			close(fd);
			continue;
		}
		if (jg_agentfwd_lend(as->gw, as->key, as->owner, as->how, fd) != 0)
			jg_log_info("agent socket of %s: no request of %s lends its ssh-agent now; "
				    "connection closed",
				    as->key, as->owner);
	}
}

struct jg_agentsock *jg_agentsock_new(struct jg_gateway *gw, const char *key, const char *owner,
				      int how, char *err, size_t errlen)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct jg_agentsock *as = calloc(1, sizeof(*as));

	if (as == NULL || (as->key = strdup(key)) == NULL) {
		free(as);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	as->gw = gw;
	as->fd = -1;
	as->how = how;
	snprintf(as->owner, sizeof(as->owner), "%s", owner);
	if (base == NULL || base[0] != '/' || access(base, W_OK | X_OK) != 0)
		base = getenv("TMPDIR");
	if (base == NULL || base[0] != '/' || access(base, W_OK | X_OK) != 0)
		base = "/tmp";
	snprintf(as->dir, sizeof(as->dir), "%s/jumpgate-agent-XXXXXX", base);
	if ((size_t)snprintf(as->path, sizeof(as->path), "%s/agent", as->dir) >=
	    sizeof(sa.sun_path)) {
		snprintf(err, errlen, "the agent socket path under %s is too long", base);
		as->dir[0] = '\0';
		goto fail;
	}
	if (mkdtemp(as->dir) == NULL) {
		snprintf(err, errlen, "cannot make a directory for the agent socket in %s: %s",
			 base, strerror(errno));
		as->dir[0] = '\0';
		goto fail;
	}
	snprintf(as->path, sizeof(as->path), "%s/agent", as->dir);
	memcpy(sa.sun_path, as->path, strlen(as->path) + 1);
	as->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (as->fd < 0 || bind(as->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(as->fd, 8) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", as->path, strerror(errno));
		goto fail;
	}
	as->ev = event_new(gw->base, as->fd, EV_READ | EV_PERSIST, on_accept, as);
	if (as->ev == NULL || event_add(as->ev, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return as;
fail:
	jg_agentsock_free(as);
	return NULL;
}

const char *jg_agentsock_path(const struct jg_agentsock *as)
{
	return as->path;
}

void jg_agentsock_set_pid(struct jg_agentsock *as, pid_t pid)
{
	as->pid = pid;
}

void jg_agentsock_free(struct jg_agentsock *as)
{
	if (as == NULL)
		return;
	if (as->ev != NULL)
		event_free(as->ev);
	if (as->fd >= 0) {
		close(as->fd);
		unlink(as->path);
	}
	if (as->dir[0] != '\0' && rmdir(as->dir) != 0)
		jg_log_warn("cannot remove %s: %s", as->dir, strerror(errno));
	free(as->key);
	free(as);
}
