#!/bin/bash
# Multi-site benchmark (make bench): figures and ratios, no assertions.
#   1. latency of `jumpgate exec TARGET -- true`, start to exit, median of RUNS,
#      through 1 gateway (A: local), 2 (A -> B: site-b/local) and 3 (A -> B -> C:
#      site-c/local);
#   2. throughput of MIB MiB of stdout (exec cat FILE) through 3 gateways against 1.
# Three real gateways on loopback, each with its own CA (tests/integration/sites.sh).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sites.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_require python3

RUNS=${JG_BENCH_RUNS:-100}
REPEAT=${JG_BENCH_REPEAT:-5}
MIB=${JG_BENCH_MIB:-1024}
BYTES=$((MIB * 1048576))

site_init site-a site-b site-c
site_config site-a "$(site_link_entry site-a site-b 5)"
site_config site-b "$(site_link_entry site-b site-c 5), $(site_trust_entry site-a)"
site_config site-c "$(site_trust_entry site-b)"
site_start site-c && site_start site-b && site_start site-a || { jg_notok "gateways start"; jg_done; }
site_wait_route site-a site-c 'up site-b site-b,site-c' 20 || { jg_notok "routes"; jg_done; }

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# lat TARGET: median ns of RUNS runs of exec TARGET -- true.
lat() {
	local i t0
	for i in $(seq 1 "$RUNS"); do
		t0=$(now)
		site_cli site-a exec "$1" -- true </dev/null >/dev/null 2>&1
		echo $(($(now) - t0))
	done | median
}

echo "== latency of exec true, median of $RUNS runs, start to exit"
l1=$(lat local)
l2=$(lat site-b/local)
l3=$(lat site-c/local)
printf '  1 gateway  (local)          %8.2f ms\n' "$(awk -v n="$l1" 'BEGIN { print n / 1e6 }')"
printf '  2 gateways (site-b/local)   %8.2f ms   x%s\n' "$(awk -v n="$l2" 'BEGIN { print n / 1e6 }')" "$(ratio "$l2" "$l1")"
printf '  3 gateways (site-c/local)   %8.2f ms   x%s\n' "$(awk -v n="$l3" 'BEGIN { print n / 1e6 }')" "$(ratio "$l3" "$l1")"

f=$JG_T/big
head -c "$BYTES" /dev/urandom >"$f"
cat "$f" >/dev/null
# thr TARGET: median ns of REPEAT runs of exec TARGET -- cat FILE.
thr() {
	local i t0
	for i in $(seq 1 "$REPEAT"); do
		t0=$(now)
		site_cli site-a exec "$1" -- cat "$f" </dev/null >/dev/null 2>&1
		echo $(($(now) - t0))
	done | median
}
mbps() { awk -v b="$BYTES" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }
echo "== throughput: $MIB MiB of stdout, median of $REPEAT"
t1=$(thr local)
t3=$(thr site-c/local)
printf '  1 gateway   %10s MB/s\n' "$(mbps "$t1")"
printf '  3 gateways  %10s MB/s   3/1: %s\n' "$(mbps "$t3")" "$(ratio "$(mbps "$t3")" "$(mbps "$t1")")"
for n in site-a site-b site-c; do site_kill "$n" TERM; done
jg_done
