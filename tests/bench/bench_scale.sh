#!/bin/bash
# Scale of one gateway (issue 18; `make bench-scale`; figures, not pass/fail):
#   onward  JG_SCALE_ONWARD (1000) onward connections alive at once: setns chains
#           (local/setns:PID into holder processes, one agent each: sshd's listener
#           limit is not what we measure) plus JG_SCALE_SSH (48) through real loopback
#           sshds; all opened by one `jumpgate run`, then idle in the pool;
#   streams JG_SCALE_STREAMS (10000) idle tunnels over JG_SCALE_CONNS (50) controller
#           connections (tests/integration/tunnel_many, TUNNEL_MANY_HOLD), each to a
#           loopback echo server through the local agent, held open;
#   and for each: the gateway's RSS and descriptors per stream / per connection, the
#   CPU the gateway spends per exec, and the latency of `jumpgate exec local -- true`
#   (median of JG_SCALE_RUNS, 20) idle, with the onward connections up, and with the
#   streams held: it must stay flat.  Targets: <= 64 KiB RSS per idle stream, <= 256
#   KiB per idle onward connection, exec latency at 10,000 streams <= 1.5x idle.
#   JG_SCALE_PERF=FILE: a perf profile of the gateway during the execs with the streams.
# Everything is stopped by PID (tests/integration/lib.sh), under one temp dir.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sshd.sh"
. "$(dirname "$0")/benchlib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_ssh_setup
jg_require python3

ONWARD=${JG_SCALE_ONWARD:-1000}
NSSH=${JG_SCALE_SSH:-48}
STREAMS=${JG_SCALE_STREAMS:-10000}
CONNS=${JG_SCALE_CONNS:-50}
RUNS=${JG_SCALE_RUNS:-20}
PER=$((STREAMS / CONNS))
TM=${JG_TUNNEL_MANY:-$builddir/tests/integration/tunnel_many}
FIRST=10

die() { echo "bench_scale: $*" >&2; exit 1; }
[ -x "$TM" ] || die "$TM missing (make check builds it: make tests/integration/tunnel_many)"

# Gateway figures: RSS kB, descriptors, CPU ticks (utime + stime).
gw_rss() { jg_rss_kb "$JG_GW_PID"; }
gw_fds() { jg_fd_count "$JG_GW_PID"; }
gw_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); print a[12] + a[13] }' "/proc/$JG_GW_PID/stat"; }
TCK=$(getconf CLK_TCK)
kib_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'; }

# exec_lat NAME: RUNS execs; sets LAT (median ms) and CPU_MS (gateway CPU ms per exec).
exec_lat() {
	local t0 t1
	t0=$(gw_ticks)
	lat "$1" "$RUNS" 3 jg_cli exec local -- true
	t1=$(gw_ticks)
	read -r LAT _ _ < <(stats "$JG_T/$1.us")
	CPU_MS=$(awk -v d=$((t1 - t0)) -v t="$TCK" -v n=$((RUNS + 3)) 'BEGIN { printf "%.2f", d * 1000 / t / n }')
}

# ---------------------------------------------------------------- set-up
NSSH_UP=0
if [ "$NSSH" -gt 0 ]; then
	if sshd_range s $FIRST "$NSSH"; then NSSH_UP=$NSSH; else NSSH=0; fi
fi
targets=
for ((i = FIRST; i < FIRST + NSSH_UP; i++)); do
	targets="$targets${targets:+,
  }$(jg_ssh_target "s$i" "127.0.0.$i" "${port_of[$i]}")"
done
[ -z "$targets" ] || targets="targets = (
  $targets
);"
# The pool's idle_timeout outlasts the run; ssh keepalives every 15 s.
JG_SSH_KEEPALIVE=15
JG_CONF_EXTRA="$(jg_ssh_conf_defaults ignore | sed 's/idle_timeout = 300.0/idle_timeout = 3600.0/')
$targets
child_nofile = 16384;
max_onward_setups = 64;
max_onward_setups_per_identity = 64;
tunnels = { allow = [ \"local:*\" ]; };"
jg_gateway_start || die "gateway does not start"
jg_cli exec local -- true </dev/null >/dev/null || die "exec local fails"

echo "bench_scale: one gateway on 2 cores ($(nproc) online), $ONWARD onward connections ($NSSH_UP over ssh), $STREAMS streams over $CONNS connections"
RSS0=$(gw_rss) FD0=$(gw_fds)
exec_lat idle
LAT_IDLE=$LAT CPU_IDLE=$CPU_MS
printf '  idle gateway:            RSS %6d KiB, %5d fds; exec %.2f ms (median of %d), gateway CPU %s ms per exec\n' \
	"$RSS0" "$FD0" "$LAT_IDLE" "$RUNS" "$CPU_IDLE"

# ---------------------------------------------------------------- onward connections
NSETNS=$((ONWARD - NSSH_UP))
list=
for ((i = 0; i < NSETNS; i++)); do
	sleep 3600 </dev/null >/dev/null 2>&1 &
	jg_track "holder$i" $!
	list="$list${list:+,}local/setns:$!"
done
for ((i = FIRST; i < FIRST + NSSH_UP; i++)); do list="$list,s$i"; done
list=${list#,}
ticks0=$(gw_ticks)
t0=${EPOCHREALTIME/./}
JG_TIMEOUT=600 jg_cli run --fanout 256 "$list" -- true </dev/null >"$JG_T/run.out" 2>"$JG_T/run.err" ||
	echo "WARNING: jumpgate run: $(tail -n 3 "$JG_T/run.err" | tr '\n' ' ')" >&2
t1=${EPOCHREALTIME/./}
ticks1=$(gw_ticks)
RSS1=$(gw_rss) FD1=$(gw_fds)
up=$(jg_cli stats 2>/dev/null | python3 -c 'import json, sys
links = json.load(sys.stdin).get("agent_links", [])
print("%d of %d" % (sum(1 for x in links if x.get("state") == "up"), len(links)))' 2>/dev/null || echo '?')
SETUP_MS=$(( (10#$t1 - 10#$t0) / 1000 ))
printf '  %5d onward connections:  up %s in %d ms (%.0f/s), gateway CPU %.1f ms per setup\n' \
	"$ONWARD" "$up" "$SETUP_MS" "$(awk -v n="$ONWARD" -v ms="$SETUP_MS" 'BEGIN { print n * 1000 / ms }')" \
	"$(awk -v d=$((ticks1 - ticks0)) -v t="$TCK" -v n="$ONWARD" 'BEGIN { print d * 1000 / t / n }')"
printf '                           RSS %6d KiB (+%s KiB per onward connection, target <= 256), %d fds (+%s per connection)\n' \
	"$RSS1" "$(kib_per "$RSS0" "$RSS1" "$ONWARD")" "$FD1" "$(kib_per "$FD0" "$FD1" "$ONWARD")"
exec_lat onward
LAT_ONWARD=$LAT
printf '                           exec %.2f ms (%sx idle), gateway CPU %s ms per exec\n' \
	"$LAT_ONWARD" "$(ratio "$LAT_ONWARD" "$LAT_IDLE")" "$CPU_MS"

# ---------------------------------------------------------------- streams
EPORT=$(jg_free_port)
python3 "$srcdir/tests/integration/echo_many.py" "$EPORT" 2>"$JG_T/echo.err" &
jg_track echo $!
for i in $(seq 1 50); do jg_port_in_use "$EPORT" && break; sleep 0.1; done
jg_port_in_use "$EPORT" || die "the echo server does not start: $(tail -n 1 "$JG_T/echo.err")"
RSS2=$(gw_rss) FD2=$(gw_fds)
ticks0=$(gw_ticks)
t0=${EPOCHREALTIME/./}
for ((c = 0; c < CONNS; c++)); do
	TUNNEL_MANY_HOLD=$JG_T/held-$c "$TM" 127.0.0.1 "$JG_PORT" "$JG_CA" "$JG_CERT" "$JG_KEY" \
		local "$EPORT" "$PER" 16 900 >"$JG_T/tm-$c.out" 2>&1 &
	jg_track "tm$c" $!
done
deadline=$((SECONDS + 300))
while [ "$(ls "$JG_T"/held-* 2>/dev/null | wc -l)" -lt "$CONNS" ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.2
done
t1=${EPOCHREALTIME/./}
ticks1=$(gw_ticks)
held=$(ls "$JG_T"/held-* 2>/dev/null | wc -l)
[ "$held" = "$CONNS" ] || echo "WARNING: only $held of $CONNS connections hold their streams" >&2
sleep 1
RSS3=$(gw_rss) FD3=$(gw_fds)
printf '  %5d idle streams:       open in %d ms, gateway CPU %.3f ms per stream opened\n' \
	$((held * PER)) $(( (10#$t1 - 10#$t0) / 1000 )) \
	"$(awk -v d=$((ticks1 - ticks0)) -v t="$TCK" -v n=$((held * PER)) 'BEGIN { if (n) print d * 1000 / t / n; else print 0 }')"
printf '                           RSS %6d KiB (+%s KiB per idle stream, target <= 64), %d fds (+%s per stream)\n' \
	"$RSS3" "$(kib_per "$RSS2" "$RSS3" $((held * PER)))" "$FD3" "$(kib_per "$FD2" "$FD3" $((held * PER)))"
# JG_SCALE_PERF=FILE: profile the gateway (perf record -e cpu-clock -g) during these execs.
if [ -n "${JG_SCALE_PERF:-}" ]; then
	perf record -q -e cpu-clock -g -p "$JG_GW_PID" -o "$JG_SCALE_PERF" >/dev/null 2>&1 &
	PERF_PID=$!
	jg_track perf "$PERF_PID"
	sleep 0.5
fi
exec_lat streams
LAT_STREAMS=$LAT
if [ -n "${JG_SCALE_PERF:-}" ]; then
	kill -INT "$PERF_PID" 2>/dev/null || true
	jg_wait_gone "$PERF_PID" 30 || true
	jg_untrack perf
	echo "  profile of those execs: perf report -i $JG_SCALE_PERF"
fi
printf '                           exec %.2f ms (%sx idle, target <= 1.5x), gateway CPU %s ms per exec\n' \
	"$LAT_STREAMS" "$(ratio "$LAT_STREAMS" "$LAT_IDLE")" "$CPU_MS"

# CPU per GB moved: JG_SCALE_BULK_MIB (256) echoed through 4 tunnels (in and out of the
# gateway: BULK up and BULK back, 2 x BULK crossing it), with the idle streams held.
BULK=${JG_SCALE_BULK_MIB:-256}
ticks0=$(gw_ticks)
t0=${EPOCHREALTIME/./}
"$TM" 127.0.0.1 "$JG_PORT" "$JG_CA" "$JG_CERT" "$JG_KEY" local "$EPORT" 4 $((BULK * 1048576 / 4)) 600 \
	>"$JG_T/bulk.out" 2>&1 || echo "WARNING: bulk: $(tail -n 1 "$JG_T/bulk.out")" >&2
t1=${EPOCHREALTIME/./}
ticks1=$(gw_ticks)
printf '  bulk through tunnels:     %d MiB each way in %d ms; gateway CPU %.2f s per GB crossing it\n' \
	"$BULK" $(( (10#$t1 - 10#$t0) / 1000 )) \
	"$(awk -v d=$((ticks1 - ticks0)) -v t="$TCK" -v m="$BULK" 'BEGIN { print d / t / (m * 2 / 1024) }')"

# Release: every stream ends with its bytes intact; the descriptors come back.
rm -f "$JG_T"/held-*
bad=0
for ((c = 0; c < CONNS; c++)); do
	pid=$(cat "$JG_T/pids/tm$c.pid")
	jg_wait_gone "$pid" 120 || true
	wait "$pid" 2>/dev/null || bad=$((bad + 1))
	jg_untrack "tm$c"
done
[ "$bad" = 0 ] || { echo "WARNING: $bad tunnel_many runs failed:" >&2; grep -h "tunnel_many:" "$JG_T"/tm-*.out | grep -v " 0 failed" | head -n 3 >&2; }
sleep 1
printf '  after release:            RSS %6d KiB, %d fds (%d with the onward connections up); %d of %d connections ended cleanly\n' \
	"$(gw_rss)" "$(gw_fds)" "$FD1" $((CONNS - bad)) "$CONNS"
