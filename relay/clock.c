/* The monotonic clock (clock.h). */
#include <time.h>

#include "relay/clock.h"

uint64_t jg_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
