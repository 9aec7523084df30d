/* The persistent client's process, the master (see client/mux.h): one connection to the
 * gateway through client/conn.c and a listening Unix socket; each client connection is
 * relayed by client/masterrelay.c.
 *
 * Lifetime: the first line on stdout tells the invocation that started us "ok" (we listen)
 * or "fail: <why>" (the gateway could not be reached).  We leave when no client has been
 * connected for --persist seconds, or when the gateway connection fails: then the socket
 * goes first, every client gets a GOAWAY carrying the reason (client/conn.c prints it as
 * its own), and we leave. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/client.h"
#include "client/conn.h"
#include "client/master.h"
#include "client/mux.h"
#include "relay/log.h"

/* Take every connection waiting; only our own uid is served. */
static void accept_all(struct master *m)
{
	int fd;

	while ((fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    cred.uid != getuid()) {
			jg_log_warn("%s: refused a connection from uid %d (only the owner may use "
				    "it)",
				    m->path, clen == sizeof(cred) ? (int)cred.uid : -1);
			close(fd);
			continue;
		}
		jg_master_client_new(m, fd);
	}
	if (m->clients != NULL)
		evtimer_del(m->idle_ev);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	accept_all(arg);
}

/* Remove the socket (if it is still ours: a later master may have replaced it) and stop
 * listening, after serving whoever connected before the removal. */
static void master_unlisten(struct master *m)
{
	struct stat st;

	if (m->lfd < 0)
		return;
	if (stat(m->path, &st) == 0 && st.st_dev == m->dev && st.st_ino == m->ino)
		unlink(m->path);
	/* A connect(2) that beat the unlink is in the queue: serve it rather than reset it. */
	accept_all(m);
	event_free(m->accept_ev);
	m->accept_ev = NULL;
	close(m->lfd);
	m->lfd = -1;
	m->leaving = 1;
}

void jg_master_check_exit(struct master *m)
{
	if (m->clients != NULL)
		return;
	if (!m->leaving) {
		struct timeval tv = {m->persist, 0};

		evtimer_add(m->idle_ev, &tv);
		return;
	}
	/* A goodbye to the gateway (up_closed ends the loop), unless it is gone already. */
	if (m->up_ok) {
		m->up_ok = 0;
		jg_conn_shutdown(m->up);
		return;
	}
	event_base_loopbreak(m->c->base);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	jg_log_info("no client for %d s: leaving", m->persist);
	master_unlisten(m);
	jg_master_check_exit(m);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(((struct master *)arg)->c->base);
}

/* Bind and listen on m->path (mode 0600: only we may connect).  0 or -1 (MSG filled). */
static int master_listen(struct master *m, char *msg, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", m->path);
	if ((m->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	old = umask(0177);
	if (bind(m->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(m->lfd, SOMAXCONN) != 0 || stat(m->path, &st) != 0)
		goto fail;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->accept_ev = event_new(m->c->base, m->lfd, EV_READ | EV_PERSIST, accept_cb, m);
	if (m->accept_ev == NULL || event_add(m->accept_ev, NULL) != 0)
		goto fail;
	return 0;
fail:
	snprintf(msg, len, "%s: %s", m->path, strerror(errno));
	return -1;
}

/* Tell the invocation that started us how it went, then stop writing to it. */
static void master_report(const char *line)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	const char *logf = getenv("JUMPGATE_MASTER_LOG");
	int out = null;

	dprintf(STDOUT_FILENO, "%s\n", line);
	/* Its log, for a person chasing a problem: debug lines into that file. */
	if (logf != NULL && logf[0] != '\0' &&
	    (out = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0)
		jg_log_set_level(JG_LOG_DEBUG);
	else
		out = null;
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	}
	if (out > STDERR_FILENO && out != null)
		close(out);
	if (null > STDERR_FILENO)
		close(null);
}

static void up_settings(void *arg)
{
	struct master *m = arg;
	char msg[1200];

	if (master_listen(m, msg, sizeof(msg)) != 0) {
		char line[1300];

		/* Not the gateway's fault: the invocation connects directly instead. */
		snprintf(line, sizeof(line), "cannot listen: %s", msg);
		master_report(line);
		m->status = JG_EXIT_FAILURE;
		event_base_loopbreak(m->c->base);
		return;
	}
	m->up_ok = 1;
	master_report("ok");
	jg_master_check_exit(m);
}

static void up_ready(void *arg)
{
}

static void up_failed(void *arg, const char *msg)
{
	struct master *m = arg;
	struct timeval tv = {MASTER_DRAIN_S, 0};

	m->status = JG_EXIT_FAILURE;
	if (!m->up_ok) {
		char line[1200];

		snprintf(line, sizeof(line), "fail: %s", msg);
		master_report(line);
		event_base_loopbreak(m->c->base);
		return;
	}
	jg_log_info("%s", msg);
	m->up_ok = 0;
	master_unlisten(m);
	jg_master_clients_fail(m, msg);
	evtimer_add(m->drain_ev, &tv);
	jg_master_check_exit(m);
}

/* The gateway takes no new streams on this connection: let the next invocation start a new
 * master at once (ours serves what it has, then leaves). */
static void up_goaway(void *arg)
{
	struct master *m = arg;

	if (m->up_ok)
		master_unlisten(m);
}

static void up_closed(void *arg)
{
	event_base_loopbreak(((struct master *)arg)->c->base);
}

static const struct jg_conn_cbs up_cbs = {
    .ready = up_ready,
    .failed = up_failed,
    .closed = up_closed,
    .settings = up_settings,
    .goaway = up_goaway,
};

int jg_cmd_master(struct jg_client *c, int argc, char **argv)
{
	struct master m = {.c = c, .lfd = -1};
	struct rlimit rl;
	int r;

	if (argc != 2)
		return jg_client_usage("%s is started by jumpgate itself", JG_MUX_MASTER_CMD);
	m.path = argv[1];
	if ((r = jg_client_setup(c)) != 0)
		return r;
	m.persist = c->persist > 0 ? c->persist : JG_DEFAULT_PERSIST;
	c->persist = 0; /* our own connection is direct, of course */
	/* One fd per client: many at once is what we are for. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	m.idle_ev = evtimer_new(c->base, idle_cb, &m);
	m.drain_ev = evtimer_new(c->base, drain_cb, &m);
	if (m.idle_ev == NULL || m.drain_ev == NULL)
		return JG_EXIT_FAILURE;
	if ((m.up = jg_conn_new(c, &up_cbs, &m)) == NULL) {
		master_report("fail: cannot set up TLS");
		return JG_EXIT_FAILURE;
	}
	jg_conn_set_manual_window(m.up);
	/* The certificate files are read: hold no directory of the caller's. */
	if (chdir("/") != 0)
		jg_log_debug("chdir /: %s", strerror(errno));
	event_base_dispatch(c->base);
	if (m.lfd >= 0) {
		m.leaving = 1;
		master_unlisten(&m);
	}
	while (m.clients != NULL)
		jg_master_client_free(m.clients);
	jg_master_streams_free(&m);
	jg_conn_free(m.up);
	event_free(m.idle_ev);
	event_free(m.drain_ev);
	return m.status;
}
