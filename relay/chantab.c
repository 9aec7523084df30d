/* The agent link's channel table (see chantab.h): an open-addressing hash table,
 * linear probing, backward-shift deletion, so there are no tombstones and lookups
 * stay O(1) however many channels come and go.  The load stays at most 1/2. */
#include <stdlib.h>
#include <string.h>

#include "relay/chantab.h"
#include "relay/err.h"

#define TABLE_MIN 16u

static size_t slot_of(const struct jg_chantab *t, uint32_t id)
{
	return (size_t)(id * 2654435761u) & (t->cap - 1);
}

struct jg_chan *jg_chantab_find(const struct jg_chantab *t, uint32_t id)
{
	if (t->cap == 0 || id == 0)
		return NULL;
	for (size_t i = slot_of(t, id);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].id == id)
			return &t->slots[i];
		if (t->slots[i].id == 0)
			return NULL;
	}
}

static void place(struct jg_chan *slots, size_t cap, const struct jg_chan *c, size_t home)
{
	size_t i;

	for (i = home; slots[i].id != 0; i = (i + 1) & (cap - 1))
		;
	slots[i] = *c;
}

/* Keep the load at most 1/2 so probe sequences stay short. */
static int table_grow(struct jg_chantab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : TABLE_MIN, ocap = t->cap;
	struct jg_chan *old = t->slots, *n;

	if ((n = calloc(ncap, sizeof(*n))) == NULL)
		return JG_ERR_NOMEM;
	t->slots = n;
	t->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].id != 0)
			place(n, ncap, &old[i], slot_of(t, old[i].id));
	free(old);
	return 0;
}

struct jg_chan *jg_chantab_insert(struct jg_chantab *t, uint32_t id)
{
	struct jg_chan c = {.id = id};

	if ((t->count + 1) * 2 > t->cap && table_grow(t) != 0)
		return NULL;
	place(t->slots, t->cap, &c, slot_of(t, id));
	t->count++;
	return jg_chantab_find(t, id);
}

/* Backward-shift deletion: pull later members of the probe run into the hole. */
void jg_chantab_forget(struct jg_chantab *t, uint32_t id)
{
	struct jg_chan *c = jg_chantab_find(t, id);
	size_t mask = t->cap - 1, hole, j;

	if (c == NULL)
		return;
	hole = (size_t)(c - t->slots);
	for (j = (hole + 1) & mask; t->slots[j].id != 0; j = (j + 1) & mask) {
		size_t home = slot_of(t, t->slots[j].id);

		/* Entry j may move to the hole only if its home is not in (hole, j]. */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
}

void jg_chantab_free(struct jg_chantab *t)
{
	free(t->slots);
}
