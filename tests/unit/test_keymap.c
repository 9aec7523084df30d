/* relay/keymap.c: the onward connections by chain key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "relay/keymap.h"
#include "tests/unit/suites.h"

static void test_put_get_del(void)
{
	struct jg_keymap m = {0};
	int a, b;

	CU_ASSERT_PTR_NULL(jg_keymap_get(&m, "local"));
	CU_ASSERT_EQUAL(jg_keymap_put(&m, "local", &a), 0);
	CU_ASSERT_EQUAL(jg_keymap_put(&m, "ssh:web1", &b), 0);
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, "local"), &a);
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, "ssh:web1"), &b);
	CU_ASSERT_PTR_NULL(jg_keymap_get(&m, "ssh:web2"));
	jg_keymap_del(&m, "local", &b); /* not that entry: nothing */
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, "local"), &a);
	jg_keymap_del(&m, "local", &a);
	jg_keymap_del(&m, "local", &a); /* twice: nothing */
	CU_ASSERT_PTR_NULL(jg_keymap_get(&m, "local"));
	jg_keymap_del(&m, "ssh:web1", &b);
	/* Empty: no memory held. */
	CU_ASSERT_PTR_NULL(m.b);
	CU_ASSERT_EQUAL(m.n, 0);
}

/* A dead link and its successor share a key for a moment: get finds the newest, and
 * removing the old one leaves the new one. */
static void test_same_key(void)
{
	struct jg_keymap m = {0};
	int old, new;

	CU_ASSERT_EQUAL(jg_keymap_put(&m, "k", &old), 0);
	CU_ASSERT_EQUAL(jg_keymap_put(&m, "k", &new), 0);
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, "k"), &new);
	jg_keymap_del(&m, "k", &old);
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, "k"), &new);
	jg_keymap_del(&m, "k", &new);
	CU_ASSERT_PTR_NULL(m.b);
}

/* 10,000 keys: all found through the growth, newest-first order kept across resizes,
 * then all removed and the memory given back. */
static void test_many(void)
{
	enum { N = 10000 };
	struct jg_keymap m = {0};
	static char keys[N][24];
	static int vals[N], dup;

	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "local/setns:%d", i);
		CU_ASSERT_EQUAL_FATAL(jg_keymap_put(&m, keys[i], &vals[i]), 0);
		if (i == 5)
			CU_ASSERT_EQUAL_FATAL(jg_keymap_put(&m, keys[5], &dup), 0);
	}
	CU_ASSERT_EQUAL(m.n, N + 1);
	CU_ASSERT(m.nb >= m.n / 2);
	for (int i = 0; i < N; i++)
		if (i != 5 && jg_keymap_get(&m, keys[i]) != &vals[i])
			CU_FAIL("a key was lost in the growth");
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, keys[5]), &dup);
	for (int i = 0; i < N; i++)
		jg_keymap_del(&m, keys[i], &vals[i]);
	CU_ASSERT_PTR_EQUAL(jg_keymap_get(&m, keys[5]), &dup);
	jg_keymap_del(&m, keys[5], &dup);
	CU_ASSERT_PTR_NULL(m.b);
}

int jg_test_register_keymap(void)
{
	CU_pSuite s = CU_add_suite("keymap", NULL, NULL);

	if (s == NULL || CU_add_test(s, "put, get, del", test_put_get_del) == NULL ||
	    CU_add_test(s, "entries sharing a key", test_same_key) == NULL ||
	    CU_add_test(s, "10,000 keys", test_many) == NULL)
		return -1;
	return 0;
}
