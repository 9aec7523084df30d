/* Tests for host-list folding in nodeset notation (client/nodeset.c), the host lists
 * `jumpgate run -b` heads each output with: ranges, padding, stems, what stays as is. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "client/nodeset.h"
#include "tests/unit/suites.h"

/* Fold the comma-separated LIST and compare with WANT. */
static void check(const char *list, const char *want)
{
	const char *names[64];
	char copy[1024], *save = NULL, *w;
	size_t n = 0;
	char *got;

	strcpy(copy, list);
	for (w = strtok_r(copy, ",", &save); w != NULL && n < 64; w = strtok_r(NULL, ",", &save))
		names[n++] = w;
	got = jg_nodeset_fold(names, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  fold(%s) = %s, want %s\n", list, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_ranges(void)
{
	check("web1,web2,web3,web4,web5,web6,web7,web8,web9,web10,web11,web12,web13,web14,web15",
	      "web[1-15]");
	check("web1,web2,web3,web7", "web[1-3,7]");
	check("web7,web3,web1,web2", "web[1-3,7]"); /* any order in */
	check("web1,web3,web5", "web[1,3,5]");
	check("web2,web2,web1", "web[1-2]"); /* duplicates once */
	check("web1", "web1");
	check("web5,web5", "web5");
	check("", "");
}

static void test_padding(void)
{
	check("web01,web02,web03", "web[01-03]");
	check("node08,node09,node10,node11", "node[08-11]"); /* 10 joins the width-2 range */
	check("n1,n2,n01,n02", "n[1-2],n[01-02]");	     /* different spellings apart */
	check("n001,n002,n010", "n[001-002,010]");
	check("n0,n1", "n[0-1]");
}

static void test_stems(void)
{
	check("web1,db1,web2,db2,db3", "db[1-3],web[1-2]");
	check("rack1-node1,rack1-node2,rack2-node1", "rack1-node[1-2],rack2-node1");
	check("w1.example.net,w2.example.net,w3.example.org", "w[1-2].example.net,w3.example.org");
	check("local,web1,local", "local,web1");
	check("site-b/web1,site-b/web2,web1", "site-b/web[1-2],web1");
	check("a,b,c", "a,b,c");
}

static void test_kept_as_is(void)
{
	/* Brackets or commas already in a name: folding would be ambiguous. */
	check("w[1],w2", "w2,w[1]");
	/* More digits than a 64-bit number holds safely. */
	check("n1234567890123456789,n1234567890123456790",
	      "n1234567890123456789,n1234567890123456790");
	/* Specs fold on their last number as any name does. */
	check("ssh:a@10.0.0.5:22,ssh:a@10.0.0.6:22", "ssh:a@10.0.0.5:22,ssh:a@10.0.0.6:22");
}

int jg_test_register_nodeset(void)
{
	CU_pSuite s = CU_add_suite("nodeset", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "consecutive numbers fold into ranges", test_ranges) ||
	    !CU_add_test(s, "zero-padding is kept", test_padding) ||
	    !CU_add_test(s, "names fold by their text around the number", test_stems) ||
	    !CU_add_test(s, "ambiguous or huge names are kept as they are", test_kept_as_is))
		return -1;
	return 0;
}
