/* jumpgated and systemd: sd_notify, the watchdog and socket activation
 * (see sdnotify.h).  Everything is a no-op in a build without libsystemd. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "gateway/sdnotify.h"
#include "relay/log.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

/* $NOTIFY_SOCKET, taken out of the environment by jg_sd_init. */
static char *notify_socket;
/* The watchdog: period (us) and the ping timer. */
static uint64_t watchdog_usec;
static struct event *watchdog_ev;
/* The sockets systemd passed (sd_listen_fds), read by jg_sd_init. */
static int listen_fds;

void jg_sd_init(void)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	int r;

	if (ns != NULL && ns[0] != '\0' && notify_socket == NULL)
		notify_socket = strdup(ns);
	unsetenv("NOTIFY_SOCKET");
	/* sd_watchdog_enabled checks $WATCHDOG_PID against our pid; 1: unset both. */
	r = sd_watchdog_enabled(1, &watchdog_usec);
	if (r <= 0)
		watchdog_usec = 0;
	if (r < 0)
		jg_log_warn("systemd watchdog settings unusable: %s", strerror(-r));
	/* Checks $LISTEN_PID; 1: unset LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES. */
	r = sd_listen_fds(1);
	if (r < 0)
		jg_log_warn("systemd socket activation: %s", strerror(-r));
	listen_fds = r > 0 ? r : 0;
}

/* sd_notify reads $NOTIFY_SOCKET itself: put it back for the call only.  The
 * gateway is single-threaded and spawns nothing meanwhile, so no child sees it. */
static void notify(const char *msg)
{
	int r;

	if (notify_socket == NULL)
		return;
	if (setenv("NOTIFY_SOCKET", notify_socket, 1) != 0)
		return;
	r = sd_notify(0, msg);
	unsetenv("NOTIFY_SOCKET");
	if (r < 0)
		jg_log_debug("sd_notify(%s): %s", msg, strerror(-r));
}

void jg_sd_ready(void)
{
	notify("READY=1");
}

void jg_sd_status(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (notify_socket == NULL)
		return;
	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One line: a newline would start another assignment. */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	notify(msg);
}

void jg_sd_stopping(void)
{
	notify("STOPPING=1");
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify("WATCHDOG=1");
}

int jg_sd_watchdog_start(struct event_base *base)
{
	struct timeval tv;
	uint64_t half = watchdog_usec / 2;

	if (watchdog_usec == 0 || notify_socket == NULL || watchdog_ev != NULL)
		return 0;
	tv.tv_sec = (time_t)(half / 1000000);
	tv.tv_usec = (suseconds_t)(half % 1000000);
	watchdog_ev = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) != 0) {
		jg_log_error("cannot start the systemd watchdog timer");
		jg_sd_watchdog_stop();
		return -1;
	}
	notify("WATCHDOG=1");
	jg_log_info("systemd watchdog: %llu ms, pinging every %llu ms",
		    (unsigned long long)(watchdog_usec / 1000), (unsigned long long)(half / 1000));
	return 1;
}

void jg_sd_watchdog_stop(void)
{
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	watchdog_ev = NULL;
}

int jg_sd_listen_fd(void)
{
	int fd = -1;

	for (int i = 0; i < listen_fds; i++) {
		int s = SD_LISTEN_FDS_START + i;

		if (fd < 0 && (sd_is_socket_inet(s, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0)) {
			fd = s;
			continue;
		}
		jg_log_warn("systemd passed fd %d: %s; closing it", s,
			    fd < 0 ? "not a listening TCP socket"
				   : "only the first socket is used");
		close(s);
	}
	listen_fds = 0;
	return fd;
}

#else /* !HAVE_SYSTEMD */

void jg_sd_init(void)
{
}

void jg_sd_ready(void)
{
}

void jg_sd_status(const char *fmt, ...)
{
}

void jg_sd_stopping(void)
{
}

int jg_sd_watchdog_start(struct event_base *base)
{
	return 0;
}

void jg_sd_watchdog_stop(void)
{
}

int jg_sd_listen_fd(void)
{
	return -1;
}

#endif
