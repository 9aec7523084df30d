#!/bin/bash
# Multi-site benchmark (make bench): figures and ratios, no assertions.
#   1. latency of `jumpgate exec TARGET -- true`, start to exit, median of RUNS,
#      through 1 gateway (A: local), 2 (A -> B: site-b/local) and 3 (A -> B -> C:
#      site-c/local);
#   2. throughput of MIB MiB of stdout (exec cat FILE) through 3 gateways against 1.
# Three real gateways on loopback, each with its own CA (tests/integration/sites.sh).
#
# Under latency: JG_BENCH_RTT_MS=20 adds 20 ms to the round trip of each link
# (A->B, B->C) with a delaying TCP relay on loopback (site_delay_relay), since
# tc's netem is not available on every kernel; the script first tries netem in a
# network namespace of its own (deleted at once) and prints what it found.  The
# defaults then shrink (RUNS 30, MIB 256, REPEAT 3).  JG_BENCH_STREAM_WINDOW sets
# every gateway's stream_window (the HTTP/2 window that bounds bytes in flight per
# stream and link: throughput under latency is about window / round trip).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sites.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_require python3

RTT=${JG_BENCH_RTT_MS:-0}
if [ "$RTT" -gt 0 ]; then
	RUNS=${JG_BENCH_RUNS:-30}
	REPEAT=${JG_BENCH_REPEAT:-3}
	MIB=${JG_BENCH_MIB:-256}
else
	RUNS=${JG_BENCH_RUNS:-100}
	REPEAT=${JG_BENCH_REPEAT:-5}
	MIB=${JG_BENCH_MIB:-1024}
fi
BYTES=$((MIB * 1048576))

# netem_probe: "netem works" or why not (a namespace of our own, deleted by name).
netem_probe() {
	local ns="jgbench-probe-$$" out
	command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || {
		echo "no ip/tc (iproute2)"
		return
	}
	out=$(ip netns add "$ns" 2>&1) || {
		echo "ip netns add: $out"
		return
	}
	if out=$(ip netns exec "$ns" tc qdisc add dev lo root netem delay 10ms 2>&1); then
		echo "netem works"
	else
		echo "tc qdisc add dev lo root netem delay 10ms: $out (kernel $(uname -r))"
	fi
	ip netns del "$ns" 2>/dev/null || true
}

site_init site-a site-b site-c
if [ "$RTT" -gt 0 ]; then
	echo "== netem: $(netem_probe); using a delaying relay on loopback instead"
	relay_ab=$(jg_free_port)
	relay_bc=$(jg_free_port)
	site_delay_relay relay-ab "$relay_ab" "$(site_port site-b)" "$RTT" || { jg_notok "relay A->B"; jg_done; }
	site_delay_relay relay-bc "$relay_bc" "$(site_port site-c)" "$RTT" || { jg_notok "relay B->C"; jg_done; }
	SITE_ADDR_site_a_site_b=127.0.0.1:$relay_ab
	SITE_ADDR_site_b_site_c=127.0.0.1:$relay_bc
fi
# JG_BENCH_STREAM_WINDOW: every gateway's stream_window (bytes; default 256 KiB).
extra=
[ -z "${JG_BENCH_STREAM_WINDOW:-}" ] || extra="stream_window = $JG_BENCH_STREAM_WINDOW;"
site_config site-a "$(site_link_entry site-a site-b 5)" "$extra"
site_config site-b "$(site_link_entry site-b site-c 5), $(site_trust_entry site-a)" "$extra"
site_config site-c "$(site_trust_entry site-b)" "$extra"
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

if [ "$RTT" -gt 0 ]; then
	sleep 1 # the first PING of each link has been answered
	echo "== links: A->B rtt $(site_link_stat site-a site-b rtt_ms) ms, B->C rtt $(site_link_stat site-b site-c rtt_ms) ms (+$RTT ms each)"
fi
echo "== latency of exec true, median of $RUNS runs, start to exit"
l1=$(lat local)
l2=$(lat site-b/local)
l3=$(lat site-c/local)
printf '  1 gateway  (local)          %8.2f ms\n' "$(awk -v n="$l1" 'BEGIN { print n / 1e6 }')"
printf '  2 gateways (site-b/local)   %8.2f ms   x%s\n' "$(awk -v n="$l2" 'BEGIN { print n / 1e6 }')" "$(ratio "$l2" "$l1")"
printf '  3 gateways (site-c/local)   %8.2f ms   x%s\n' "$(awk -v n="$l3" 'BEGIN { print n / 1e6 }')" "$(ratio "$l3" "$l1")"
if [ "$RTT" -gt 0 ]; then
	printf '  per link: +%.2f ms (A->B), +%.2f ms (B->C), i.e. %.2f and %.2f added round trips\n' \
		"$(awk -v a="$l2" -v b="$l1" 'BEGIN { print (a - b) / 1e6 }')" \
		"$(awk -v a="$l3" -v b="$l2" 'BEGIN { print (a - b) / 1e6 }')" \
		"$(awk -v a="$l2" -v b="$l1" -v r="$RTT" 'BEGIN { print (a - b) / 1e6 / r }')" \
		"$(awk -v a="$l3" -v b="$l2" -v r="$RTT" 'BEGIN { print (a - b) / 1e6 / r }')"
fi

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
echo "== throughput: $MIB MiB of stdout, median of $REPEAT (stream_window ${JG_BENCH_STREAM_WINDOW:-262144})"
t1=$(thr local)
t3=$(thr site-c/local)
printf '  1 gateway   %10s MB/s\n' "$(mbps "$t1")"
printf '  3 gateways  %10s MB/s   3/1: %s\n' "$(mbps "$t3")" "$(ratio "$(mbps "$t3")" "$(mbps "$t1")")"
for n in site-a site-b site-c; do site_kill "$n" TERM; done
jg_done
