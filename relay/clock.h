/* The one monotonic clock, in milliseconds, for deadlines and log rate limits. */
#ifndef JG_CLOCK_H
#define JG_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms (never 0 on a running system: callers use 0 for "never"). */
uint64_t jg_clock_ms(void);

#endif
