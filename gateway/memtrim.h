/* Give the heap of a burst back to the system once it is over.  glibc keeps freed memory
 * for reuse: after 10,000 streams (bench_scale.sh) the gateway kept 60 MiB it no longer
 * used, for ever.  Reused, not leaked -- but a bastion's memory is shared with ssh. */
#ifndef JG_GATEWAY_MEMTRIM_H
#define JG_GATEWAY_MEMTRIM_H

/* The last stream closed: when the heap holds more than JG_MEMTRIM_FREE_MIN free bytes,
 * return them (malloc_trim), at most once every JG_MEMTRIM_EVERY_MS. */
#define JG_MEMTRIM_FREE_MIN (4u << 20)
#define JG_MEMTRIM_EVERY_MS 2000
void jg_memtrim_idle(void);

#endif
