/* Host lists folded in ClusterShell's nodeset notation, as `clush -b` prints them:
 * web1,web2,web3,web7 -> web[1-3,7]; web01,web02 -> web[01-02] (zero-padding kept).
 * Sans-I/O: strings in, a string out (tests/unit/test_nodeset.c).
 *
 * A name folds on its last run of digits: names with the same text before and after it
 * and the same padding (a number written with a leading zero keeps its width; one
 * without may join a padded range of its own width: web09,web10 -> web[09-10]) share a
 * bracket.  Names without digits, with more than 18 of them, or holding '[', ']' or ','
 * (which would make the notation ambiguous) are kept as they are.  The result is
 * sorted (text, then number) with duplicates removed, as ClusterShell does. */
#ifndef JG_CLIENT_NODESET_H
#define JG_CLIENT_NODESET_H

#include <stddef.h>

/* Fold NAMES[0..N) into one comma-separated string (the caller frees it); NULL on no
 * memory.  N == 0 gives "". */
char *jg_nodeset_fold(const char *const *names, size_t n);

#endif
