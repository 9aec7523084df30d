#!/bin/bash
# The LOG_COMPILER of `make check` (tests/integration/local.mk): runs one test
# program, "$@", under the suite lock of this build tree, so that
# `make -jN check` runs the tests that can share the machine side by side and
# the others alone.
#   - A test named in JG_ALONE (a space-separated list of paths, compared by
#     base name; local.mk's INTEGRATION_ALONE: the tests whose checks bound a
#     time, which a busy neighbour can push over) takes the lock exclusive:
#     it runs with no other test of this tree.  Every other test takes it
#     shared.
#   - A turnstile lock, taken by every test on its way in and held by an
#     exclusive one until it has its lock: a stream of shared holders cannot
#     starve it (flock(2) prefers no one).
# The locks are held by this script, which waits for the test; the test and
# everything it starts get the descriptors closed, so a process left behind
# cannot hold a lock.  Every wait is bounded (JG_LOCK_WAIT seconds, default
# 1800); a test that cannot get its lock fails and says why.
# The lock files are $builddir/tests/integration/.lock-{suite,turnstile}
# (builddir: from local.mk's AM_TESTS_ENVIRONMENT; else the current directory).
set -u

name=$(basename "$1")
dir=${builddir:-.}/tests/integration
mkdir -p "$dir"
wait_s=${JG_LOCK_WAIT:-1800}
mode=-s
for t in ${JG_ALONE:-}; do
	[ "$(basename "$t")" != "$name" ] || mode=-x
done

exec {turn}>>"$dir/.lock-turnstile" {suite}>>"$dir/.lock-suite"
if ! flock -x -w "$wait_s" "$turn"; then
	printf 'not ok - %s: no turn on %s/.lock-turnstile within %s s\n' "$name" "$dir" "$wait_s"
	exit 99
fi
if ! flock "$mode" -w "$wait_s" "$suite"; then
	printf 'not ok - %s: no %s lock on %s/.lock-suite within %s s\n' "$name" \
		"$([ "$mode" = -x ] && echo exclusive || echo shared)" "$dir" "$wait_s"
	exit 99
fi
flock -u "$turn"

# In the foreground: stdin stays the test's, and on make's SIGINT this shell
# waits for the test to end before it exits (and lets the lock go).  The time
# it ran and the CPU time it used end its log (scripts/test.sh lists the slowest).
start=$SECONDS
rc=0
"$@" {turn}>&- {suite}>&- || rc=$?
# The CPU time (user + system) of the test and every process it waited for,
# in whole seconds: what a test costs the machine, beside how long it took.
# (times runs in this shell, not a subshell: a subshell has no children.)
times >"$dir/.times-$$"
cpu=$(sed -n 2p "$dir/.times-$$" | awk '{
	t = 0
	for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] }
	printf "%d", t }')
rm -f "$dir/.times-$$"
printf '# lock.sh: %s ran %d s (%s), cpu %s s\n' "$name" $((SECONDS - start)) \
	"$([ "$mode" = -x ] && echo alone || echo shared)" "$cpu"
exit $rc
