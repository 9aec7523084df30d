/* libFuzzer harness for the rsh argument parser (client/rshargs.c): the argv
 * that rsync, git, scp and Ansible hand an "ssh" client, which is attacker-
 * shaped when a hostile repository URL or inventory file chooses the host.
 *
 * Input: the words of the argv, separated by NUL bytes (a trailing NUL does
 * not add an empty word; two NULs in a row do).  At most 256 words.
 * Besides "no crash, no leak, no UB" it checks, aborting when they break:
 *   - a refusal always comes with a reason, one line of printable ASCII: the
 *     words it names are quoted (\xNN), so a hostile host name cannot put
 *     terminal escapes on the controller's stderr
 *     (corpus/rshargs/finding-raw-control-chars-in-reason: found by this
 *     harness when rshargs.c echoed them raw; fixed);
 *   - a RUN result names a target, and its argv is {"/bin/sh", "-c", command
 *     (or the sftp starter), NULL};
 *   - a target never starts with '-', plain host or spec ("-ssh:x",
 *     "-oProxyCommand=sh/x", corpus/rshargs/finding-spec-host-leading-dash*:
 *     found by this harness when such specs were passed on as written; fixed),
 *     and holds only printable ASCII without spaces;
 *   - the user and host, when the target is built from them, contain no
 *     whitespace and no shell metacharacters;
 *   - the parser never writes into the argv it was given (ARGV is borrowed);
 *   - jg_rshargs_clear() leaves a struct that parses again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/rshargs.h"
#include "relay/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 256

static void check(int ok)
{
	if (!ok)
		abort();
}

static int clean_name(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || strchr("'\"`$;&|<>()\\*?![]{}~#", *s) != NULL)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *pristine, *argv[MAX_WORDS + 1];
	struct jg_rshargs a;
	char err[512];
	int argc = 0, r;
	size_t start = 0;

	if (size > 65536)
		return 0;
	/* One buffer, the words NUL-terminated in place. */
	if ((copy = malloc(size + 1)) == NULL || (pristine = malloc(size + 1)) == NULL) {
		free(copy);
		return 0;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && argc < MAX_WORDS; i++) {
		if (copy[i] != '\0')
			continue;
		if (i == size && i == start)
			break; /* a trailing NUL ends the last word, it adds no empty one */
		argv[argc++] = copy + start;
		start = i + 1;
	}
	argv[argc] = NULL;
	memcpy(pristine, copy, size + 1);

	err[0] = '\0';
	r = jg_rshargs_parse(&a, argc, argv, err, sizeof(err));
	check(memcmp(pristine, copy, size + 1) == 0);
	if (r != 0) {
		check(r == JG_ERR_INVAL || r == JG_ERR_NOMEM);
		check(err[0] != '\0');
		for (const char *p = err; *p != '\0'; p++)
			check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	} else if (a.action == JG_RSHARGS_RUN) {
		check(a.target[0] != '\0');
		check(a.target[0] != '-');
		for (const char *p = a.target; *p != '\0'; p++)
			check((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
		check(a.argv[0] != NULL && strcmp(a.argv[0], "/bin/sh") == 0);
		check(a.argv[1] != NULL && strcmp(a.argv[1], "-c") == 0);
		check(a.argv[2] != NULL && a.argv[3] == NULL);
		check(a.nsetenv <= JG_RSHARGS_ENV_MAX && a.nsendenv <= JG_RSHARGS_ENV_MAX);
		check(a.setenv[a.nsetenv] == NULL && a.sendenv[a.nsendenv] == NULL);
		if (strncmp(a.target, "ssh:", 4) == 0 && (a.user[0] != '\0' || a.port != 0)) {
			check(clean_name(a.user));
			check(a.port <= 65535);
		}
	}
	jg_rshargs_clear(&a);
	/* Cleared: parsing again must work and give the same answer. */
	check(jg_rshargs_parse(&a, argc, argv, err, sizeof(err)) == r);
	jg_rshargs_clear(&a);
	free(pristine);
	free(copy);
	return 0;
}
