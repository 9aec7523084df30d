#!/bin/bash
# Run each libFuzzer harness for a while from its committed seed corpus.
#   smoke.sh SECONDS CORPUS_ROOT HARNESS...
# FUZZ_JOBS (default 1) harnesses run at a time: each is one process on one
# core, so on N cores N of them side by side get the same time each as one
# alone, and the whole takes 1/N of the wall time.
# HARNESS is the path of a built harness, tests/fuzz/fuzz_NAME; its seeds are
# CORPUS_ROOT/NAME.  The seeds are copied to a temporary directory first, so a
# run never writes into the source tree (which is read-only under distcheck).
# A crash, a leak, undefined behaviour, a timeout (one input running longer
# than 10 s) or running out of memory fails the run: the reproducer is left
# next to the harness as fuzz_NAME-crash-<sha1> (or -leak-, -timeout-, -oom-)
# and the last lines of libFuzzer's output are shown.
# Prints one line per harness: "fuzz_NAME: ok, R runs in S s, cov C, ft F, corpus N".
set -u

seconds=$1
corpus_root=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jg-fuzz-smoke.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

jobs=${FUZZ_JOBS:-1}

# smoke HARNESS: one run; its summary (or failure) in $tmp/NAME.out, and
# $tmp/NAME.failed when it failed.
smoke() {
	local h=$1 name short work log rc runs secs last cov ft n
	name=$(basename "$h")
	short=${name#fuzz_}
	work="$tmp/$short"
	mkdir -p "$work"
	if [ -d "$corpus_root/$short" ]; then
		cp "$corpus_root/$short"/* "$work"/ 2>/dev/null || true
	fi
	log="$tmp/$name.log"
	"$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$(dirname "$h")/$name-" "$work" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	n=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	if [ $rc -eq 0 ]; then
		echo "$name: ok, ${runs:-?} runs in ${secs:-$seconds} s, cov ${cov:-?}, ft ${ft:-?}, corpus ${n:-?}"
	else
		: >"$tmp/$name.failed"
		echo "$name: FAILED (exit $rc) after ${runs:-?} runs; the end of its output:"
		grep -v '^#[0-9]' "$log" | tail -n 60 | sed 's/^/    /'
	fi >"$tmp/$name.out"
}

running=0
for h in "$@"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	smoke "$h" &
	running=$((running + 1))
done
wait
# The summaries in the order of the harnesses given.
for h in "$@"; do
	name=$(basename "$h")
	cat "$tmp/$name.out" 2>/dev/null || { echo "$name: FAILED (no result)"; failed=1; }
	[ ! -e "$tmp/$name.failed" ] || failed=1
done
exit $failed
