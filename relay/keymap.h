/* A hash of string keys to pointers: the onward connections by chain key, so that an
 * operation finds its connection in O(1) however many are up (bench_scale.sh: with
 * 1,000 of them the old list walk was the gateway's first cost per exec).
 *
 * Sans-I/O.  Keys are borrowed: a key must outlive its entry (the link's own chain key).
 * Several entries may share a key; get returns the newest.  A map with no entries holds
 * no memory (so nothing is left to free at exit).  Zeroed memory is an empty map. */
#ifndef JG_GATEWAY_ONWARD_KEYMAP_H
#define JG_GATEWAY_ONWARD_KEYMAP_H

#include <stddef.h>

struct jg_keymap_node;

struct jg_keymap {
	struct jg_keymap_node **b;
	size_t nb, n; /* buckets (a power of two, 0 when empty), entries */
};

/* Add KEY -> VAL.  0, or JG_ERR_NOMEM (the map is unchanged). */
int jg_keymap_put(struct jg_keymap *m, const char *key, void *val);
/* The newest value under KEY, or NULL. */
void *jg_keymap_get(const struct jg_keymap *m, const char *key);
/* Remove the entry KEY -> VAL; nothing when there is none. */
void jg_keymap_del(struct jg_keymap *m, const char *key, const void *val);

#endif
