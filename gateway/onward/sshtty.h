/* ssh's controlling terminal during a password login: the one place that answers its
 * prompts, for the pool's onward connections (onward.c) and raw ssh sessions (raw.c).
 *
 * ssh reads a password only from /dev/tty, so jg_spawn gives it a PTY of its own as
 * its controlling terminal (its stdio stay pipes).  The master is polled, not
 * watched: while no process has the slave open it reports POLLHUP forever, and a
 * level-triggered read event would spin.  Each poll reads what the terminal holds:
 * the first password prompt gets the password, a second one means it was refused,
 * and a host-key question (check_host_keys = accept only) gets "yes". */
#ifndef JG_GATEWAY_ONWARD_SSHTTY_H
#define JG_GATEWAY_ONWARD_SSHTTY_H

#include <stddef.h>

#include <event2/event.h>

struct jg_ssh_watch;

/* A persistent timer that calls CB(-1, EV_TIMEOUT, ARG) every poll interval, already
 * added to BASE; NULL on ENOMEM. */
struct event *jg_sshtty_poll_new(struct event_base *base, event_callback_fn cb, void *arg);
/* Read what the terminal FD holds through W and answer its prompts with PASSWORD
 * (*PASSWORD_SENT set once it was written).  1 when ssh asked for the password again:
 * it was refused, and REASON says so for DISPLAY ("ssh to web1 failed: authentication
 * failed: the password was refused"); else 0. */
int jg_sshtty_answer(int fd, struct jg_ssh_watch *w, const char *password, int *password_sent,
		     const char *display, char *reason, size_t len);

#endif
