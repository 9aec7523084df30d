/* Transport: the local listener, HTTP/2 over a Unix socket without TLS (h2c with
 * prior knowledge, RFC 9113 3.3).  The kernel vouches for the peer: its uid from
 * SO_PEERCRED names the identity "unix:<user>", and the socket file's mode (0660)
 * and directory decide who may connect at all.  Above the bufferevent everything
 * is h2.c's, as for TLS connections. */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "config/config.h"
#include "gateway/edge/accept.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "h2/bulk.h"
#include "relay/err.h"
#include "relay/log.h"

/* "unix:<user>" for UID; "unix:uid<N>" when the account has no name. */
static void uid_identity(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		snprintf(buf, len, "unix:%s", pw->pw_name);
	else
		snprintf(buf, len, "unix:uid%ld", (long)uid);
}

static void on_unix_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
			   int salen, void *arg)
{
	struct jg_gateway *gw = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct bufferevent *bev;
	char peer[80], identity[300];

	if (gw->draining) {
		evutil_closesocket(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || clen != sizeof(cred)) {
		jg_log_warn("connection on %s dropped: no peer credentials (%s)", gw->unix_path,
			    strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	snprintf(peer, sizeof(peer), "unix pid %ld", (long)cred.pid);
	uid_identity(cred.uid, identity, sizeof(identity));
	bev = jg_h2bulk_plain_new(gw->base, fd, BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		jg_log_error("connection from %s dropped: cannot create a bufferevent", peer);
		evutil_closesocket(fd);
		return;
	}
	jg_h2conn_accept_plain(gw, bev, peer, identity);
}

static void on_unix_error(struct evconnlistener *lst, void *arg)
{
	struct jg_gateway *gw = arg;

	/* EMFILE and friends: paused a moment, logged once per interval (accept.h). */
	jg_accept_guard_error(gw->unix_guard, EVUTIL_SOCKET_ERROR());
}

int jg_unix_listen(struct jg_gateway *gw, char *err, size_t errlen)
{
	const char *path = gw->cfg->unix_socket;
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;
	char what[160];
	int fd = -1, r = JG_ERR_IO, bound = 0;

	if (path == NULL)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix_socket %s: path too long (at most %zu bytes)", path,
			 sizeof(sun.sun_path) - 1);
		return JG_ERR_INVAL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* A socket left by a previous run that died is replaced; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "unix_socket %s exists and is not a socket", path);
			return JG_ERR_IO;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "unix_socket %s: %s", path, strerror(errno));
		goto out;
	}
	/* Bind under a umask that leaves 0660 at most, so the file is never wider, even
	 * between bind and chmod. */
	mask = umask(0117);
	bound = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	umask(mask);
	if (!bound || chmod(path, 0660) != 0) {
		snprintf(err, errlen, "cannot listen on unix_socket %s: %s", path, strerror(errno));
		goto out;
	}
	if ((gw->unix_path = strdup(path)) == NULL) {
		r = JG_ERR_NOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	gw->unix_listener = evconnlistener_new(
	    gw->base, on_unix_accept, gw, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (gw->unix_listener == NULL) {
		snprintf(err, errlen, "cannot listen on unix_socket %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(what, sizeof(what), "unix socket %s", path);
	if ((gw->unix_guard = jg_accept_guard_new(gw->base, gw->unix_listener, what)) == NULL) {
		evconnlistener_free(gw->unix_listener);
		gw->unix_listener = NULL;
		fd = -1; /* closed with the listener */
		r = JG_ERR_NOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	evconnlistener_set_error_cb(gw->unix_listener, on_unix_error);
	return 0;
out:
	if (fd >= 0)
		close(fd);
	if (bound)
		unlink(path);
	free(gw->unix_path);
	gw->unix_path = NULL;
	return r;
}

void jg_unix_stop(struct jg_gateway *gw)
{
	jg_accept_guard_free(gw->unix_guard);
	gw->unix_guard = NULL;
	if (gw->unix_listener != NULL) {
		evconnlistener_free(gw->unix_listener);
		gw->unix_listener = NULL;
	}
}

void jg_unix_close(struct jg_gateway *gw)
{
	jg_unix_stop(gw);
	if (gw->unix_path != NULL) {
		unlink(gw->unix_path);
		free(gw->unix_path);
		gw->unix_path = NULL;
	}
}
