/* Small helpers shared by the unit tests that run processes. */
#ifndef JG_TESTUTIL_H
#define JG_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "relay/spawn.h"

/* Monotonic milliseconds. */
long tu_now_ms(void);
/* Read FD (non-blocking) until EOF (or EIO, a pty's EOF) or 5 s into BUF; returns the length. */
size_t tu_read_all(int fd, char *buf, size_t cap);
/* waitpid(PID) retrying on EINTR; returns the wait status. */
int tu_wait_child(pid_t pid);
/* Close the parent-side fds of C that are open. */
void tu_close_child(struct jg_child *c);

#endif
