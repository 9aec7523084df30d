/* Folding host lists into nodeset notation (nodeset.h has the rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/nodeset.h"

struct node {
	const char *name;
	size_t pre, dlen; /* prefix length, digit-run length (0: not foldable) */
	unsigned long long num;
	size_t width; /* padding class: dlen with a leading zero, else 0 */
};

/* NAME's last run of digits, when it is one we fold on. */
static void node_parse(struct node *nd, const char *name)
{
	size_t len = strlen(name), end = len, start;

	nd->name = name;
	nd->pre = len;
	nd->dlen = 0;
	nd->num = 0;
	nd->width = 0;
	if (strpbrk(name, "[],") != NULL)
		return;
	while (end > 0 && (name[end - 1] < '0' || name[end - 1] > '9'))
		end--;
	start = end;
	while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9')
		start--;
	if (end == start || end - start > 18)
		return;
	nd->pre = start;
	nd->dlen = end - start;
	for (size_t i = start; i < end; i++)
		nd->num = nd->num * 10 + (unsigned long long)(name[i] - '0');
	nd->width = name[start] == '0' && nd->dlen > 1 ? nd->dlen : 0;
}

static const char *suffix(const struct node *n)
{
	return n->name + n->pre + n->dlen;
}

/* Same bracket: same prefix and suffix, and foldable. */
static int same_stem(const struct node *a, const struct node *b)
{
	return a->dlen > 0 && b->dlen > 0 && a->pre == b->pre &&
	       strncmp(a->name, b->name, a->pre) == 0 && strcmp(suffix(a), suffix(b)) == 0;
}

static int node_cmp(const void *pa, const void *pb)
{
	const struct node *a = pa, *b = pb;
	size_t n = a->pre < b->pre ? a->pre : b->pre;
	int c = strncmp(a->name, b->name, n);

	if (c != 0)
		return c;
	if (a->pre != b->pre || (a->dlen == 0) != (b->dlen == 0))
		return strcmp(a->name, b->name);
	if (a->dlen == 0)
		return 0;
	if ((c = strcmp(suffix(a), suffix(b))) != 0)
		return c;
	if (a->width != b->width)
		return a->width < b->width ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->cap ? o->cap * 2 : 64) + n;
		char *b = realloc(o->buf, cap);

		if (b == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_num(struct out *o, unsigned long long v, size_t width)
{
	char d[32];
	int n = snprintf(d, sizeof(d), "%0*llu", (int)width, v);

	put(o, d, (size_t)n);
}

/* A number of unpadded class whose digit count equals a padded class W of the same stem
 * is written the same way either way (10 in 08-10): move it into that class. */
static void join_classes(struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].dlen == 0 || v[i].width != 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (v[j].width == v[i].dlen && same_stem(&v[i], &v[j])) {
				v[i].width = v[i].dlen;
				break;
			}
		}
	}
}

char *jg_nodeset_fold(const char *const *names, size_t n)
{
	struct out o = {NULL, 0, 0, 0};
	struct node *v = calloc(n ? n : 1, sizeof(*v));
	size_t i = 0;

	if (v == NULL)
		return NULL;
	for (size_t k = 0; k < n; k++)
		node_parse(&v[k], names[k]);
	join_classes(v, n);
	qsort(v, n, sizeof(*v), node_cmp);
	put(&o, "", 0);
	while (i < n) {
		size_t j = i + 1, count = 1;

		if (o.len > 0)
			put(&o, ",", 1);
		if (v[i].dlen == 0) {
			put(&o, v[i].name, strlen(v[i].name));
			while (j < n && v[j].dlen == 0 && strcmp(v[j].name, v[i].name) == 0)
				j++; /* duplicates */
			i = j;
			continue;
		}
		/* The group: same stem and padding class, already sorted by number. */
		while (j < n && same_stem(&v[i], &v[j]) && v[j].width == v[i].width) {
			if (v[j].num != v[j - 1].num)
				count++;
			j++;
		}
		put(&o, v[i].name, v[i].pre);
		if (count == 1) {
			put(&o, v[i].name + v[i].pre, v[i].dlen);
		} else {
			size_t k = i;
			int first = 1;

			put(&o, "[", 1);
			while (k < j) {
				size_t e = k;

				/* A run of consecutive numbers, duplicates skipped. */
				while (e + 1 < j &&
				       (v[e + 1].num == v[e].num + 1 || v[e + 1].num == v[e].num))
					e++;
				if (!first)
					put(&o, ",", 1);
				first = 0;
				put_num(&o, v[k].num, v[i].width);
				if (v[e].num != v[k].num) {
					put(&o, "-", 1);
					put_num(&o, v[e].num, v[i].width);
				}
				k = e + 1;
			}
			put(&o, "]", 1);
		}
		put(&o, suffix(&v[i]), strlen(suffix(&v[i])));
		i = j;
	}
	free(v);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
