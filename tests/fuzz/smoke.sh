#!/bin/bash
# Run each libFuzzer harness for a while from its committed seed corpus.
#   smoke.sh SECONDS CORPUS_ROOT HARNESS...
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

for h in "$@"; do
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
		failed=1
		echo "$name: FAILED (exit $rc) after ${runs:-?} runs; the end of its output:"
		grep -v '^#[0-9]' "$log" | tail -n 60 | sed 's/^/    /'
	fi
done
exit $failed
