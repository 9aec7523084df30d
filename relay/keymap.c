/* String-keyed hash, chained, doubled when it holds more entries than buckets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/keymap.h"
#include "relay/err.h"

#define KEYMAP_MIN_BUCKETS 64

struct jg_keymap_node {
	const char *key;
	void *val;
	struct jg_keymap_node *next;
};

/* FNV-1a, 64 bits: chain keys are short strings. */
static uint64_t hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* Rehash into NB buckets.  0 or JG_ERR_NOMEM (nothing moved). */
static int resize(struct jg_keymap *m, size_t nb)
{
	struct jg_keymap_node **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return JG_ERR_NOMEM;
	for (size_t i = 0; i < m->nb; i++) {
		struct jg_keymap_node *n, *next;

		/* Appended, not prepended: entries sharing a key keep their newest-first
		 * order (put() prepends). */
		for (n = m->b[i]; n != NULL; n = next) {
			struct jg_keymap_node **pp = &b[hash(n->key) & (nb - 1)];

			next = n->next;
			while (*pp != NULL)
				pp = &(*pp)->next;
			n->next = NULL;
			*pp = n;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int jg_keymap_put(struct jg_keymap *m, const char *key, void *val)
{
	struct jg_keymap_node *n;
	size_t i;

	if (m->nb == 0 || m->n >= m->nb) {
		if (resize(m, m->nb == 0 ? KEYMAP_MIN_BUCKETS : m->nb * 2) != 0)
			return JG_ERR_NOMEM;
	}
	if ((n = malloc(sizeof(*n))) == NULL)
		return JG_ERR_NOMEM;
	i = hash(key) & (m->nb - 1);
	n->key = key;
	n->val = val;
	n->next = m->b[i];
	m->b[i] = n;
	m->n++;
	return 0;
}

void *jg_keymap_get(const struct jg_keymap *m, const char *key)
{
	if (m->nb == 0)
		return NULL;
	for (struct jg_keymap_node *n = m->b[hash(key) & (m->nb - 1)]; n != NULL; n = n->next)
		if (strcmp(n->key, key) == 0)
			return n->val;
	return NULL;
}

void jg_keymap_del(struct jg_keymap *m, const char *key, const void *val)
{
	struct jg_keymap_node **pp, *n;

	if (m->nb == 0)
		return;
	for (pp = &m->b[hash(key) & (m->nb - 1)]; (n = *pp) != NULL; pp = &n->next) {
		if (n->val == val && strcmp(n->key, key) == 0) {
			*pp = n->next;
			free(n);
			if (--m->n == 0) {
				free(m->b);
				m->b = NULL;
				m->nb = 0;
			}
			return;
		}
	}
}
