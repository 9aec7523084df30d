/* A one-line progress bar on stderr for `jumpgate cp`: bytes, percentage, rate,
 * ETA and files.  Drawn only when stderr is a terminal, from a timer (at most
 * 10 redraws a second, whatever the transfer rate); counting is just additions.
 *
 * Messages printed while the bar is up must call jg_progress_clear() first, so
 * that they start on a clean line; the next tick draws the bar again below. */
#ifndef JG_CLIENT_PROGRESS_H
#define JG_CLIENT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event;
struct event_base;

struct jg_progress {
	int enabled; /* stderr is a terminal and the caller wants a bar */
	int drawn;   /* the bar is on screen (the cursor is at its end) */
	uint64_t total, done;
	size_t files_total, files_done;
	struct timespec start, last_sample;
	uint64_t last_done; /* DONE at LAST_SAMPLE */
	double rate;	    /* bytes per second, smoothed */
	struct event *tick;
};

/* Prepare; the bar shows only when ENABLED and stderr is a terminal.  0 or JG_ERR_NOMEM. */
int jg_progress_init(struct jg_progress *p, struct event_base *base, int enabled);
/* More to do (totals may grow as transfers learn their sizes). */
void jg_progress_expect(struct jg_progress *p, uint64_t bytes, size_t files);
/* Bytes moved, a file finished. */
void jg_progress_add(struct jg_progress *p, uint64_t bytes);
void jg_progress_file_done(struct jg_progress *p);
/* Erase the bar (before a message), if drawn. */
void jg_progress_clear(struct jg_progress *p);
/* Draw the final state, end the line, stop the timer. */
void jg_progress_finish(struct jg_progress *p);
void jg_progress_free(struct jg_progress *p);

/* The bar's text for a terminal WIDTH columns wide (pure: for tests and the timer).  RATE in
 * bytes/s (0: unknown), ELAPSED in seconds. */
void jg_progress_format(char *buf, size_t len, unsigned width, uint64_t done, uint64_t total,
			size_t files_done, size_t files_total, double rate, double elapsed);
/* "1.5 MiB", "512 B": SI-free binary units. */
void jg_progress_bytes(char *buf, size_t len, uint64_t n);

#endif
