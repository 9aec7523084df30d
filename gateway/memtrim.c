/* See memtrim.h.  The one piece of process-wide state is when we last trimmed: the heap
 * itself is process-wide. */
#include "config.h"

#include <malloc.h>
#include <stdint.h>

#include "gateway/memtrim.h"
#include "relay/clock.h"
#include "relay/log.h"

void jg_memtrim_idle(void)
{
	static uint64_t last_ms;
	uint64_t now = jg_clock_ms();
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi;

	if (last_ms != 0 && now - last_ms < JG_MEMTRIM_EVERY_MS)
		return;
	mi = mallinfo2();
	if (mi.fordblks < JG_MEMTRIM_FREE_MIN)
		return;
	last_ms = now;
	malloc_trim(0);
	jg_log_debug("returned up to %zu KiB of free heap", mi.fordblks / 1024);
#else
	(void)now;
	(void)last_ms;
#endif
}
