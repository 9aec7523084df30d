/* One reaper per process: SIGCHLD through the event loop, waitpid(WNOHANG)
 * in a loop, a callback per registered pid.  Children nobody registered are
 * reaped too, so no zombie survives. */
#ifndef JG_REAPER_H
#define JG_REAPER_H

#include <sys/types.h>

struct event_base;
struct jg_reaper;

typedef void (*jg_reaper_cb)(pid_t pid, int wstatus, void *ud);

/* Install the SIGCHLD handler on BASE. NULL on failure. */
struct jg_reaper *jg_reaper_new(struct event_base *base);
void jg_reaper_free(struct jg_reaper *r);
/* Call CB(pid, wstatus, UD) once when PID exits. 0 or JG_ERR_NOMEM. Register in the same
 * event-loop callback that spawned PID: collection happens only from the loop (or from
 * jg_reaper_poll), so the exit cannot be missed. */
int jg_reaper_watch(struct jg_reaper *r, pid_t pid, jg_reaper_cb cb, void *ud);
/* Stop watching PID (its exit will still be collected, silently). */
void jg_reaper_forget(struct jg_reaper *r, pid_t pid);
/* Collect any exited children now (also done on each SIGCHLD). */
void jg_reaper_poll(struct jg_reaper *r);
/* Number of watched pids. */
unsigned jg_reaper_count(const struct jg_reaper *r);

#endif
