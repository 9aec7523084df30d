#!/bin/bash
# jumpgate benchmarks (make bench): figures beside a local baseline.
#   1. throughput: 64 MiB of stdout through the gateway (jumpgate exec local --
#      cat FILE) against cat of the same file locally, in MB/s (10^6 bytes/s);
#   2. latency: the whole command `jumpgate exec local -- true`, start to
#      exit, against `sh -c true`: median over 200 runs (hyperfine when
#      installed, else a bash loop timed with date +%s%N).
# The gateway runs with the test PKI on a free loopback port, log level warn.
. "$(dirname "$0")/../integration/lib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }

RUNS=${JG_BENCH_RUNS:-200}
REPEAT=${JG_BENCH_REPEAT:-5}
MIB=${JG_BENCH_MIB:-64}
BYTES=$((MIB * 1048576))
f=$JG_T/big
head -c "$BYTES" /dev/urandom >"$f"
cat "$f" >/dev/null # page cache

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
# mbps NS: MB/s for BYTES moved in NS nanoseconds.
mbps() { awk -v b="$BYTES" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Median of REPEAT timings (ns) of: "$@" (stdout to /dev/null).
time_cmd() {
	local i t0
	for i in $(seq 1 "$REPEAT"); do
		t0=$(now)
		"$@" >/dev/null </dev/null
		echo $(($(now) - t0))
	done | median
}

echo "== throughput: $MIB MiB of stdout (median of $REPEAT)"
local_ns=$(time_cmd cat "$f")
pipe_ns=$(time_cmd sh -c 'cat "$1" | cat' sh "$f")
gw_ns=$(time_cmd jg_exec cat "$f")
if ! jg_exec cat "$f" </dev/null | cmp -s - "$f"; then
	echo "WARNING: output through the gateway differs from the file"
fi
local_mbps=$(mbps "$local_ns")
pipe_mbps=$(mbps "$pipe_ns")
gw_mbps=$(mbps "$gw_ns")
printf '  cat FILE locally                    %10s MB/s  (%d ms)\n' "$local_mbps" $((local_ns / 1000000))
printf '  cat FILE | cat locally (one pipe)   %10s MB/s  (%d ms)\n' "$pipe_mbps" $((pipe_ns / 1000000))
printf '  jumpgate exec local -- cat FILE     %10s MB/s  (%d ms)\n' "$gw_mbps" $((gw_ns / 1000000))
printf '  gateway / local cat: %s   gateway / piped cat: %s\n' \
	"$(ratio "$gw_mbps" "$local_mbps")" "$(ratio "$gw_mbps" "$pipe_mbps")"

echo "== latency: median of $RUNS runs, whole command start to exit"
gwcmd="$JUMPGATE -g 127.0.0.1:$JG_PORT --cert $JG_CERT --key $JG_KEY --ca $JG_CA exec local -- true"
if command -v hyperfine >/dev/null 2>&1 && [ "${JG_BENCH_NO_HYPERFINE:-0}" != 1 ]; then
	how=hyperfine
	hf() { # hf NAME COMMAND: median in ns
		hyperfine -N --style none --warmup 10 --runs "$RUNS" --export-json "$JG_T/$1.json" "$2" >/dev/null 2>&1 ||
			hyperfine --style none --warmup 10 --runs "$RUNS" --export-json "$JG_T/$1.json" "$2" >/dev/null
		tr -d ' \n' <"$JG_T/$1.json" | grep -o '"median":[0-9.e+-]*' | head -n1 | cut -d: -f2 |
			awk '{ printf "%d", $1 * 1e9 }'
	}
	sh_ns=$(hf sh 'sh -c true')
	gwl_ns=$(hf gw "$gwcmd")
else
	how="bash loop"
	loop() {
		local i t0
		for i in $(seq 1 10); do "$@" </dev/null >/dev/null; done
		for i in $(seq 1 "$RUNS"); do
			t0=$(now)
			"$@" </dev/null >/dev/null
			echo $(($(now) - t0))
		done | median
	}
	sh_ns=$(loop sh -c true)
	gwl_ns=$(loop $gwcmd)
fi
us() { awk -v ns="$1" 'BEGIN { printf "%.2f ms", ns / 1e6 }'; }
printf '  (%s)\n' "$how"
printf '  sh -c true                          %12s\n' "$(us "$sh_ns")"
printf '  jumpgate exec local -- true         %12s\n' "$(us "$gwl_ns")"
printf '  ratio: %s\n' "$(ratio "$gwl_ns" "$sh_ns")"

jg_gateway_stop 10 || echo "WARNING: gateway exit status $JG_GW_STATUS"
exit 0
