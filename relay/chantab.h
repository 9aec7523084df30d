/* The agent link's channel table (relay/link.c's, sans-I/O): its channels by id.
 *
 * An open-addressing hash table keyed by channel id (chantab.c).  Entries move
 * when the table grows or an entry is forgotten: a pointer returned here is
 * valid only until the next jg_chantab_insert() or jg_chantab_forget() on the
 * table, so callers keep the id, not the pointer, across anything that may
 * change the table (the link's callbacks).  A zeroed struct jg_chantab is an
 * empty table; the link reads `count`, and walks `slots` (cap of them, id 0
 * free) only to take every channel out at once. */
#ifndef JG_CHANTAB_H
#define JG_CHANTAB_H

#include <stddef.h>
#include <stdint.h>

#include "relay/flow.h"

/* One channel of a link, as the link keeps it (state and EOF bits: link.c's). */
struct jg_chan {
	uint32_t id; /* 0: free slot */
	uint8_t state;
	uint8_t peer_eof; /* EOF_BIT()s the peer has sent */
	uint8_t our_eof;  /* EOF_BIT()s we have sent */
	uint8_t early;	  /* OPENER: flow set up at OPEN, DATA may go before OPEN_OK */
	void *ud;
	struct jg_flow flow;
};

struct jg_chantab {
	struct jg_chan *slots;
	size_t cap; /* power of two, or 0 */
	size_t count;
};

/* The channel ID (not 0), or NULL. */
struct jg_chan *jg_chantab_find(const struct jg_chantab *t, uint32_t id);
/* A new zeroed channel ID (not 0, not in T), or NULL out of memory. */
struct jg_chan *jg_chantab_insert(struct jg_chantab *t, uint32_t id);
/* Drop channel ID; nothing when it is not in T. */
void jg_chantab_forget(struct jg_chantab *t, uint32_t id);
/* Free T's slots (not T itself, nor what the channels' ud point to). */
void jg_chantab_free(struct jg_chantab *t);

#endif
