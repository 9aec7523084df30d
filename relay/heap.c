/* See heap.h. */
#include "config.h"

#include <stdlib.h> /* first: <features.h> defines __GLIBC__ */

#include "relay/heap.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Above the largest bulk buffer (1 MiB writes): those stay in the heap. */
#define HEAP_MMAP_MIN (4u << 20)

void jg_heap_tune(size_t trim_max, size_t top_pad)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_MIN);
	mallopt(M_TRIM_THRESHOLD, (int)trim_max);
	mallopt(M_TOP_PAD, (int)top_pad);
#else
	(void)trim_max;
	(void)top_pad;
#endif
}
