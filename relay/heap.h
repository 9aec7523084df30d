/* The heap of a process that moves bulk bytes.
 *
 * Every bulk path allocates and frees buffers of 256 KiB to 1 MiB all the time (a read
 * of up to JG_H2_READ_MAX, a TLS write of up to 1 MiB, a frame's payload).  glibc's
 * defaults hand those to the kernel and take them back again: above the mmap threshold
 * (128 KiB until a free raises it) each buffer is a fresh mmap whose every page faults
 * on first touch, and below it the heap's top is given back past the trim threshold and
 * faulted in again (a 1 GiB tunnel: a fifth of the gateway's time in page faults and
 * brk).  Setting the trim threshold alone makes it worse: it also freezes the mmap
 * threshold at 128 KiB.  So both are set, with a pad. */
#ifndef JG_RELAY_HEAP_H
#define JG_RELAY_HEAP_H

#include <stddef.h>

/* Buffers up to 4 MiB come from the heap; up to TRIM_MAX bytes of free heap are kept
 * (the gateway gives the rest back when idle: gateway/memtrim.c); the heap grows by
 * TOP_PAD more than asked.  Process-wide; call once, early in main.  No-op without
 * glibc. */
void jg_heap_tune(size_t trim_max, size_t top_pad);

#endif
