/* One pump between a link channel and up to three file descriptors (the agent side).
 *
 * Contract.  A pump moves bytes for one live channel CH of HOST->link:
 *  - IN: DATA (flags 0) from the gateway is queued and written to fd IN; its credit
 *    goes back (jg_link_consumed) only for bytes the fd took, so a consumer that
 *    stops reading stops the gateway after one window.  DATA flagged otherwise, or
 *    arriving once IN is done, goes nowhere but its credit comes back.  The gateway's
 *    EOF closes IN (or shuts a socket's write side, or only reports, as IN_END says)
 *    once the queue drained, and reports JG_APUMP_IN_DONE.
 *  - OUT and ERR: read while the channel's send window is open and the link output
 *    is below HOST->high, at most JG_AGENT_READ_MAX at a time; what is read goes out
 *    as DATA (ERR's flagged JG_DATA_STDERR).  A read of 0 sends EOF on that stream
 *    and reports JG_APUMP_OUT_EOF.  A pump stopped by HOST->high sets
 *    HOST->throttled; jg_apump_host_resume() restarts it when the output drained.
 *    A regular file cannot be polled: it is read in a loop whenever the pump runs
 *    (start, credit, resume) until the window or the output is full.
 *  - Errors: a failed write drops the queue (credit returned), ends IN and reports
 *    JG_APUMP_WRITE_FAILED; a failed read ends that stream and reports
 *    JG_APUMP_READ_FAILED (nothing sent: the owner says DEAD), unless
 *    JG_APUMP_READ_ERROR_IS_EOF, when it is an EOF (OUT_EOF with the errno).
 *  - Pipes that keep filling are grown once (jg_pipe_grow, relay/spawn.h).
 *  - The pump takes its fds (the same fd may serve IN and OUT: a socket) and closes
 *    each once, when its stream ends or at jg_apump_free(); an IN of
 *    JG_APUMP_IN_KEEP is borrowed and never closed.
 *  - It sends DATA and EOF only; OPEN_OK, EXIT, DEAD and CLOSE are the owner's.
 * The callback runs last in whatever pump call made it: it may free the pump (and
 * its owner) but no other pump; after a call that may report (every jg_apump_* that
 * moves bytes) the owner must not touch a pump it may have freed.  Sans globals:
 * every pump hangs off one jg_apump_host. */
#ifndef JG_AGENT_PUMP_H
#define JG_AGENT_PUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct event_base;
struct jg_frame;
struct jg_link;
struct jg_apump;

/* What every pump of one link shares. */
struct jg_apump_host {
	struct event_base *base;
	struct jg_link *link;
	size_t high;   /* link output at or above this: reads stop */
	int dead;      /* the transport is gone: reads stop for good */
	int throttled; /* some pump stopped at HIGH */
	LIST_HEAD(, jg_apump) pumps;
};

enum jg_apump_slot {
	JG_APUMP_IN = 0,  /* written with the gateway's DATA */
	JG_APUMP_OUT = 1, /* read into DATA */
	JG_APUMP_ERR = 2, /* read into DATA|STDERR */
};

/* How IN ends after the gateway's EOF (or a write failure). */
enum jg_apump_in_end {
	JG_APUMP_IN_CLOSE = 0, /* close(2): a pipe's reader sees EOF */
	JG_APUMP_IN_SHUTDOWN,  /* shutdown(SHUT_WR): a socket that OUT still reads */
	JG_APUMP_IN_KEEP,      /* borrowed: only report; the owner closes it */
};

enum jg_apump_event {
	JG_APUMP_OUT_EOF,      /* OUT or ERR (WHICH) ended and EOF went out; ERR: errno or 0 */
	JG_APUMP_READ_FAILED,  /* reading WHICH failed with ERR; nothing was sent */
	JG_APUMP_IN_DONE,      /* EOF from the gateway and the queue written: IN ended */
	JG_APUMP_WRITE_FAILED, /* writing IN failed with ERR: IN ended, the queue dropped */
};

#define JG_APUMP_READ_ERROR_IS_EOF 0x1u /* a pty master's EIO is its EOF */

struct jg_apump_opts {
	int fd[3]; /* by enum jg_apump_slot; -1 when absent */
	enum jg_apump_in_end in_end;
	unsigned flags;
	/* WHICH is JG_APUMP_OUT or JG_APUMP_ERR for the read side, JG_APUMP_IN otherwise. */
	void (*cb)(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which, int err,
		   void *ud);
	/* May be NULL: sees every DATA byte queued for IN, before it is written (a hash). */
	void (*tap)(const void *data, size_t len, void *ud);
	void *ud;
};

void jg_apump_host_init(struct jg_apump_host *h, struct event_base *base, struct jg_link *link,
			size_t high);
/* True when the link output is at or above HIGH (or the transport is dead). */
int jg_apump_host_full(const struct jg_apump_host *h);
/* The link output drained: restart every pump HIGH stopped. */
void jg_apump_host_resume(struct jg_apump_host *h);

/* A pump for channel CH, taking the fds in O.  Nothing moves before jg_apump_start().
 * NULL on ENOMEM; then the fds are still the caller's. */
struct jg_apump *jg_apump_new(struct jg_apump_host *h, uint32_t ch, const struct jg_apump_opts *o);
/* Start reading (the channel is open). May report. */
void jg_apump_start(struct jg_apump *p);
/* DATA or EOF for this channel: 1 when handled (may have reported), 0 for other frames. */
int jg_apump_frame(struct jg_apump *p, const struct jg_frame *f);
/* The gateway granted credit. May report. */
void jg_apump_writable(struct jg_apump *p);
/* The fd of SLOT, or -1 once that stream ended. */
int jg_apump_fd(const struct jg_apump *p, enum jg_apump_slot slot);
/* Streams still being read (OUT and ERR not yet at EOF). */
int jg_apump_reading(const struct jg_apump *p);
/* Bytes queued for IN, not yet written. */
size_t jg_apump_queued(const struct jg_apump *p);
/* Stop everything, close the fds (not a kept IN), free.  Sends nothing. NULL is fine. */
void jg_apump_free(struct jg_apump *p);

#endif
