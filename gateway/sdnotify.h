/* jumpgated and systemd: readiness and status notifications (sd_notify),
 * watchdog keep-alive pings, and socket activation.
 *
 * With libsystemd (configure found it: HAVE_SYSTEMD) these talk to the service
 * manager named by $NOTIFY_SOCKET / $WATCHDOG_USEC / $LISTEN_FDS; without it,
 * or when not started by systemd, every call is a no-op (and jg_sd_listen_fd
 * says there is no inherited socket). */
#ifndef JG_SDNOTIFY_H
#define JG_SDNOTIFY_H

#include <stddef.h>

struct event_base;
struct jg_gateway;

/* Take the systemd variables out of the environment, so that agents and the
 * programs they run (the `local` target) inherit none of them; the values are
 * kept for the calls below.  Call once, first thing in main(). */
void jg_sd_init(void);
/* READY=1: the gateway listens and serves (Type=notify). */
void jg_sd_ready(void);
/* STATUS=...: one line for `systemctl status`. */
void jg_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1: the drain has begun. */
void jg_sd_stopping(void);
/* When the service has WatchdogSec= (and the watchdog is meant for this
 * process), send WATCHDOG=1 from BASE's loop every half period, so a wedged
 * loop misses its pings and systemd restarts the gateway.  1 when started, 0
 * when there is no watchdog, -1 on error. */
int jg_sd_watchdog_start(struct event_base *base);
/* Stop the pings and free their timer (before BASE is freed). */
void jg_sd_watchdog_stop(void);
/* The listening TCP socket systemd passed (jumpgated.socket), or -1 when there
 * is none.  Only the first socket is used; others are reported and closed. */
int jg_sd_listen_fd(void);

/* tls.c: serve FD, an already listening TCP socket (socket activation), as
 * jg_edge_tls_listen would the one it binds.  0 or JG_ERR_IO with the reason in ERR. */
int jg_edge_tls_listen_fd(struct jg_gateway *gw, int fd, char *err, size_t errlen);

#endif
