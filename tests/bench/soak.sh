#!/bin/bash
# Soak under attack (issue 13): a legitimate client runs execs, puts and tunnel
# round trips for JG_SOAK_SECONDS (default 600), quietly for the first quarter,
# then while a second client attacks: floods of half-open connections to the
# TLS port (plain TCP that never finishes a handshake) and HTTP/2 rapid resets
# against exec on the Unix socket (tests/integration/h2raw.py).  Prints the
# legitimate client's exec latency (median, p99) quiet and under attack, its
# failures, and the gateway's RSS and descriptors before and after.
# Not part of `make check`: run it by hand,
#   JG_SOAK_SECONDS=60 bash tests/bench/soak.sh
. "$(dirname "$0")/../integration/lib.sh"
JG_LOG_LEVEL=${JG_LOG_LEVEL:-warn}
jg_setup
jg_require python3
jg_init_pki
. "$(dirname "$0")/benchlib.sh"
SECS=${JG_SOAK_SECONDS:-600}
RAW="python3 $srcdir/tests/integration/h2raw.py"
SOCK=$JG_T/jg.sock

# The far end of the tunnels: an echo server on loopback.
cat >"$JG_T/echo.py" <<'PY'
import os, socket, sys, threading
def serve(c):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$JG_T/echo.py" "$JG_T/echo.port" </dev/null >"$JG_T/echo.err" 2>&1 &
jg_track echo $!
for i in $(seq 1 100); do [ -s "$JG_T/echo.port" ] && break; sleep 0.05; done
EPORT=$(cat "$JG_T/echo.port")

JG_CONF_EXTRA="unix_socket = \"$SOCK\";
targets = ( { name = \"echo\"; method = \"tunnel\"; host = \"127.0.0.1\"; } );
tunnels = { allow = [ \"echo:$EPORT\" ]; };"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
GW=$JG_GW_PID
mkdir -p "$JG_T/dst"
head -c 65536 /dev/urandom >"$JG_T/put.bin"

# legit PHASE UNTIL: the legitimate client's loop until SECONDS >= UNTIL; exec
# latencies (us) into PHASE.us, failures counted into PHASE.fail.
legit() {
	local phase=$1 until=$2 t0 t1 fails=0 n=0
	: >"$JG_T/$phase.us"
	while [ $SECONDS -lt "$until" ]; do
		t0=${EPOCHREALTIME/./}
		if [ "$(JG_TIMEOUT=30 jg_exec echo ok </dev/null 2>>"$JG_T/$phase.err")" != ok ]; then
			fails=$((fails + 1))
		fi
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$JG_T/$phase.us"
		n=$((n + 1))
		if [ $((n % 5)) = 0 ]; then
			JG_TIMEOUT=30 jg_cli cp -q "$JG_T/put.bin" "local:$JG_T/dst/put.bin" </dev/null \
				2>>"$JG_T/$phase.err" || fails=$((fails + 1))
			[ "$(printf 'ping\n' | JG_TIMEOUT=30 jg_cli connect echo "$EPORT" 2>>"$JG_T/$phase.err" | head -n 1)" = ping ] ||
				fails=$((fails + 1))
		fi
	done
	echo "$fails" >"$JG_T/$phase.fail"
}
# p99 FILE: the 99th percentile in ms.
p99() { sort -n "$1" | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.999999); if (i < 1) i = 1; printf "%.1f", a[i] / 1000 }'; }

rss0=$(jg_rss_kb "$GW")
fd0=$(jg_fd_count "$GW")
quiet=$((SECS / 4))
[ "$quiet" -ge 5 ] || quiet=5
echo "== soak: ${SECS} s (${quiet} s quiet, then under attack); gateway pid $GW"
legit quiet $((SECONDS + quiet))

# The attackers: loops, each bounded by the end of the run.
end=$((SECONDS + SECS - quiet))
( while [ $SECONDS -lt $end ]; do timeout 30 $RAW tcpflood "$JG_PORT" 300 3 >/dev/null 2>&1 || true; done ) &
jg_track flooder $!
( while [ $SECONDS -lt $end ]; do timeout 30 $RAW rapidreset "$SOCK" 2000 sleep 5 >>"$JG_T/reset.out" 2>&1 || true; done ) &
jg_track resetter $!
legit attack "$end"
jg_wait_gone "$(cat "$JG_T/pids/flooder.pid")" 40 || true
jg_wait_gone "$(cat "$JG_T/pids/resetter.pid")" 40 || true
jg_untrack flooder
jg_untrack resetter
sleep 3
rss1=$(jg_rss_kb "$GW")
fd1=$(jg_fd_count "$GW")
cut=$(grep -c "goaway=(11, 'rapid reset" "$JG_T/reset.out" || true)
runs=$(grep -c '^rapidreset' "$JG_T/reset.out" || true)

printf '%-14s %8s %10s %8s %8s\n' phase execs "median ms" "p99 ms" failures
read -r qm _ _ < <(stats "$JG_T/quiet.us")
read -r am _ _ < <(stats "$JG_T/attack.us")
printf '%-14s %8s %10s %8s %8s\n' quiet "$(wc -l <"$JG_T/quiet.us")" "$qm" "$(p99 "$JG_T/quiet.us")" "$(cat "$JG_T/quiet.fail")"
printf '%-14s %8s %10s %8s %8s\n' "under attack" "$(wc -l <"$JG_T/attack.us")" "$am" "$(p99 "$JG_T/attack.us")" "$(cat "$JG_T/attack.fail")"
echo "rapid-reset connections: $runs, cut with GOAWAY ENHANCE_YOUR_CALM: $cut"
echo "gateway RSS ${rss0} kB -> ${rss1} kB; descriptors ${fd0} -> ${fd1}; log $(wc -l <"$JG_GW_LOG") lines"
[ "$(cat "$JG_T/attack.fail")" = 0 ] && jg_ok "no legitimate operation failed under attack" ||
	{ jg_notok "no legitimate operation failed under attack"; head -n 5 "$JG_T/attack.err"; }
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
