/* Durability behind the writes: a file being written is flushed to stable
 * storage in the background while more of it arrives, so the fsync that must
 * come before its rename finds (almost) nothing left to do.
 *
 * Why: an fsync costs in proportion to what was written since the last one
 * (on this machine's virtual disk, 0.17 s for 256 MiB, even when the pages
 * were already written out: the device's cache flush is the cost).  Done once
 * at the end, it adds that whole time to a download; done every STEP bytes by
 * a POSIX AIO fsync (glibc runs it on a helper thread), it overlaps with the
 * network.  At most one background flush is in flight per file.
 *
 * The caller owns the fd and calls jg_syncbehind_wrote() after its writes,
 * then jg_syncbehind_finish() before its own fsync (or before close, when it
 * gives up the file): the aiocb lives in the struct and must outlive the
 * request.  Advice only: a background failure is not reported here; the
 * caller's own final fsync reports what matters. */
#ifndef JG_SYNCBEHIND_H
#define JG_SYNCBEHIND_H

#include <aio.h>
#include <stdint.h>

struct jg_syncbehind {
	struct aiocb cb;
	uint64_t step;	    /* bytes between background flushes; 0: off */
	uint64_t asked_at;  /* file size when the last flush was asked */
	int pending;	    /* a flush in flight (cb in use) */
	unsigned long done; /* flushes finished (tests, logs) */
};

/* Flush FD in the background every STEP bytes written (0 turns it off). */
void jg_syncbehind_init(struct jg_syncbehind *s, int fd, uint64_t step);

/* TOTAL bytes written so far: asks a background flush when STEP more were
 * written since the last one and none is in flight.  Never blocks. */
void jg_syncbehind_wrote(struct jg_syncbehind *s, uint64_t total);

/* Waits for the flush in flight, if any (as long as an fsync would take).
 * After it the fd may be closed and the struct reused or freed. */
void jg_syncbehind_finish(struct jg_syncbehind *s);

#endif
