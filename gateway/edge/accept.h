/* Listener back-off: what a listener does when accept(2) fails.
 *
 * A listening socket stays readable while its backlog holds connections, so a
 * listener that keeps trying after EMFILE/ENFILE (no descriptor left) spins the
 * event loop and writes a log line per try.  The guard disables the listener
 * for a moment instead, and logs once per interval with the count of failures
 * in between.  Connections wait in the kernel's backlog meanwhile. */
#ifndef JG_ACCEPT_H
#define JG_ACCEPT_H

struct event_base;
struct evconnlistener;
struct jg_accept_guard;

/* A guard for LST (borrowed; free the guard before the listener), named WHAT in log
 * lines ("TLS listener", "unix socket /run/x").  NULL when out of memory. */
struct jg_accept_guard *jg_accept_guard_new(struct event_base *base, struct evconnlistener *lst,
					    const char *what);
/* accept(2) failed with ERR (the listener's error callback): pause the listener on
 * descriptor or memory exhaustion, log at most once per interval. */
void jg_accept_guard_error(struct jg_accept_guard *g, int err);
/* Stop the timer and free; NULL is fine. */
void jg_accept_guard_free(struct jg_accept_guard *g);

#endif
