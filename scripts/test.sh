#!/bin/bash
# The whole test suite, from a clean clone on a fresh Debian 12 (as root):
#   1. the Debian packages it needs (scripts/install-deps.sh, only if missing);
#   2. autoreconf -fi, and clang-format --dry-run -Werror on every tracked C
#      file (from a git checkout);
#   3. ./build:      configure --enable-werror, make, make check (CUnit + integration);
#   4. ./build-asan: configure --enable-werror --enable-sanitizers, make, make check;
#   5. make distcheck (from ./build; the tarball builds and passes the unit suite);
#   6. make fuzz-smoke (from ./build, when configure found clang): each
#      libFuzzer harness for 30 s from its seed corpus (tests/fuzz/local.mk),
#      JOBS of them side by side (one core each: the same 30 s each);
#   7. a summary: the time of each step, the slowest tests (wall and CPU
#      time) and the CPU time of all tests, the CUnit run
#      summary, the integration checks, and a last line "N passed, N failed"
#      over every test program of both builds (and distcheck, and fuzz-smoke).
# make check runs CHECK_JOBS tests at once (default 2).  Each test has its own
# ports and directories and the timing-bound ones run alone
# (tests/integration/lock.sh, JG_ALONE in tests/integration/local.mk).  The
# suite is bound by CPU (a fork + exec costs about 4 ms here, an instrumented
# process about 0.08 s, LeakSanitizer's scan at exit most of it), and at one
# test at a time half of the 2 cores sat idle in the tests' waits: 2 at once
# took the normal suite from 1,440 s to 857 s on the same machine.
# Exits non-zero when anything failed (a skipped test counts as a failure:
# every tool is installed in step 1, so a skip means something is wrong; set
# JG_ALLOW_SKIP=1 to accept them).  Nothing is skipped to save time.
# Environment: JOBS (default: number of CPUs, at most 4), CHECK_JOBS; for local use
# only, JG_NO_DEPS=1, JG_NO_ASAN=1, JG_NO_DISTCHECK=1, JG_NO_FUZZ=1 leave out
# steps 1, 4, 5, 6.  Without clang, step 6 is left out and says so.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -le 4 ] || jobs=4
check_jobs=${CHECK_JOBS:-2}
export MAKEFLAGS="${MAKEFLAGS:-} -j$jobs"
t_start=$SECONDS
status=0

# step NAME: a step begins (and the one before ends: its time is kept for the
# summary).
step_name= step_at=0 step_times=
step() {
	local now=$((SECONDS - t_start))
	[ -z "$step_name" ] || step_times+=$(printf '  %5d s  %s' $((now - step_at)) "$step_name")$'\n'
	step_name=$* step_at=$now
	printf '\n=== %s (at %d s)\n' "$*" "$now"
}

if [ "${JG_NO_DEPS:-0}" != 1 ]; then
	step "dependencies"
	scripts/install-deps.sh
fi

step "autoreconf -fi"
autoreconf -fi

# The house format (.clang-format) holds for every tracked C file.
format=SKIP
if command -v clang-format >/dev/null 2>&1; then
	step "clang-format --dry-run -Werror"
	if git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror; then
		format=PASS
	else
		format=FAIL
		status=1
		echo "clang-format: the files above drift from .clang-format (clang-format -i FILE)"
	fi
elif [ -d .git ]; then
	echo "clang-format: not installed (scripts/install-deps.sh installs it)"
	format=FAIL
	status=1
fi

# build DIR CONFIGURE-ARGS...: configure, make and make check in DIR.
build() {
	local dir=$1
	shift
	step "$dir: configure $*"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@")
	# configure leaves config.h older than stamp-h1, so every make runs
	# config.h's (empty) rule; under make -j check that waits for a job slot,
	# and the unit test, which depends on config.h, started only after every
	# integration test had (and ran alone at the end, minutes).
	touch -r "$dir/stamp-h1" "$dir/config.h"
	step "$dir: make"
	make -C "$dir" -s
	step "$dir: make check (-j$check_jobs)"
	if ! make -C "$dir" -j"$check_jobs" check; then
		status=1
		printf '\n=== %s: make check FAILED; test-suite.log:\n' "$dir"
		cat "$dir/test-suite.log" 2>/dev/null || true
	fi
}

build build --enable-werror
if [ "${JG_NO_ASAN:-0}" != 1 ]; then
	build build-asan --enable-werror --enable-sanitizers
fi

# The release tarball builds and passes its tests from a read-only source
# tree in a separate build directory.
distcheck=SKIP
if [ "${JG_NO_DISTCHECK:-0}" != 1 ]; then
	step "build: make distcheck"
	# The tarball must build and pass the unit suite; the integration suites
	# already ran twice above (normal and sanitizer builds), so distcheck does
	# not run them a third time (it would add minutes, not coverage).
	if make -C build distcheck TESTS=tests/unit/run >build/distcheck.out 2>&1; then
		distcheck=PASS
		grep -A2 'archives ready' build/distcheck.out || true
	else
		distcheck=FAIL
		status=1
		echo "make distcheck FAILED; the end of its output:"
		tail -n 60 build/distcheck.out
		find build/jumpgate-*/_build -name test-suite.log -exec cat {} + 2>/dev/null || true
	fi
fi

# The fuzz harnesses, briefly: a crash, leak or UB in 30 s from the seeds fails.
fuzz=SKIP
if [ "${JG_NO_FUZZ:-0}" != 1 ]; then
	if grep -q '^CLANG = ..*' build/Makefile 2>/dev/null; then
		step "build: make fuzz-smoke"
		if make -C build -s fuzz-smoke FUZZ_JOBS="$jobs"; then
			fuzz=PASS
		else
			fuzz=FAIL
			status=1
		fi
	else
		echo "make fuzz-smoke: skipped, configure found no clang"
	fi
fi

step "summary"
printf 'time of each step:\n%s' "$step_times"
for dir in build build-asan; do
	[ -d "$dir/tests/integration" ] || continue
	# lock.sh ends each log with the test's wall time and CPU time (user +
	# system, every process it waited for): on a 2-core machine the CPU time
	# is what bounds how fast the suite can run side by side.
	echo "slowest tests in $dir (wall, cpu):"
	sed -n 's/^# lock.sh: \(.*\) ran \([0-9]*\) s ([a-z]*), cpu \([0-9]*\) s$/\2 \3 \1/p' \
		"$dir"/tests/integration/*.log "$dir"/tests/unit/*.log 2>/dev/null |
		sort -rn | head -n 8 | awk '{ printf "  %5d s  %5d s  %s\n", $1, $2, $3 }'
	sed -n 's/^# lock.sh: .* cpu \([0-9]*\) s$/\1/p' "$dir"/tests/integration/*.log \
		"$dir"/tests/unit/*.log 2>/dev/null | awk '{ t += $1 } END { printf "  cpu of all tests: %d s\n", t }'
done
pass=0 fail=0 skip=0
for dir in build build-asan; do
	[ -d "$dir" ] || continue
	[ "$dir" != build-asan ] || [ "${JG_NO_ASAN:-0}" != 1 ] || continue
	echo "--- $dir"
	if [ -f "$dir/tests/unit/run.log" ]; then
		sed -n '/Run Summary/,/Elapsed/p' "$dir/tests/unit/run.log"
	fi
	ok=$(cat "$dir"/tests/integration/*.log 2>/dev/null | grep -c '^ok - ' || true)
	nok=$(cat "$dir"/tests/integration/*.log 2>/dev/null | grep -c '^not ok - ' || true)
	echo "integration checks: $ok ok, $nok not ok"
	while read -r trs; do
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
		name=${trs#"$dir"/}
		name=${name%.trs}
		case $res in
		PASS | XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
		printf '  %-6s %s\n' "$res" "$name"
	done < <(find "$dir" -path "$dir/jumpgate-*" -prune -o -name '*.trs' -print | sort)
done
echo "--- clang-format: $format"
case $format in
PASS) pass=$((pass + 1)) ;;
FAIL) fail=$((fail + 1)) ;;
esac
echo "--- make distcheck: $distcheck"
case $distcheck in
PASS) pass=$((pass + 1)) ;;
FAIL) fail=$((fail + 1)) ;;
esac
echo "--- make fuzz-smoke: $fuzz"
case $fuzz in
PASS) pass=$((pass + 1)) ;;
FAIL) fail=$((fail + 1)) ;;
esac
if [ $skip -gt 0 ]; then
	echo "$skip skipped"
	if [ "${JG_ALLOW_SKIP:-0}" != 1 ]; then
		fail=$((fail + skip))
	else
		pass=$((pass + skip))
	fi
fi
[ $((pass + fail)) -gt 0 ] || fail=1
[ $fail = 0 ] || status=1
printf 'total time %d s\n' $((SECONDS - t_start))
printf '%d passed, %d failed\n' "$pass" "$fail"
exit $status
