#!/bin/bash
# Floods at the edge (issue 13): descriptors exhausted by plain TCP connections
# (the gateway under a small descriptor limit, via prlimit), connections held in
# or after the TLS handshake, and HTTP/2 rapid reset against exec.  Each one must
# cost the gateway little CPU and few log lines, and legitimate clients keep
# working.  Hostile peers come from h2raw.py.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require python3
jg_require prlimit
jg_init_pki
RAW="python3 $srcdir/tests/integration/h2raw.py"
SOCK=$JG_T/jg.sock

# cpu_ticks PID: user + system clock ticks so far.
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); print a[12] + a[13] }' "/proc/$1/stat"; }
# nofile PID: its soft and hard RLIMIT_NOFILE.
nofile() { awk '/^Max open files/ { print $4 ":" $5 }' "/proc/$1/limits"; }
# exec_retry: an exec that may need a few tries while descriptors free up (bounded).
exec_retry() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(JG_TIMEOUT=10 jg_exec echo "$1" </dev/null 2>/dev/null)" != "$1" ] || return 0
		sleep 1
	done
	return 1
}

# --- descriptors exhausted: 400 plain TCP connections, limit 128 ------------------
# max_handshakes is set high so that accept(2) itself runs out of descriptors.
JG_GW_WRAP="prlimit --nofile=64:128"
JG_CONF_EXTRA="max_handshakes = 100000;"
jg_gateway_start || { jg_notok "gateway starts under prlimit --nofile=64:128"; jg_done; }
GW=$JG_GW_PID
lim=$(nofile "$GW")
if [ "$lim" = 128:128 ]; then
	jg_ok "the soft descriptor limit is raised to the hard one at start (64 -> $lim)"
else
	jg_notok "the soft descriptor limit is raised to the hard one ($lim)"
fi
lines0=$(wc -l <"$JG_GW_LOG")
cpu0=$(cpu_ticks "$GW")
out=$(timeout 60 $RAW tcpflood "$JG_PORT" 400 5) || true
cpu1=$(cpu_ticks "$GW")
lines=$(($(wc -l <"$JG_GW_LOG") - lines0))
jg_log "$out; gateway cpu $((cpu1 - cpu0)) ticks, $lines log lines"
grep -q "accept failed: Too many open files" "$JG_GW_LOG" &&
	jg_ok "400 connections over a limit of 128: accept runs out of descriptors (logged)" ||
	jg_notok "400 connections over a limit of 128: EMFILE reached and logged"
if [ $((cpu1 - cpu0)) -lt 150 ]; then
	jg_ok "EMFILE for 5 s: the gateway pauses accepting ($((cpu1 - cpu0)) CPU ticks)"
else
	jg_notok "EMFILE for 5 s: the accept loop does not spin ($((cpu1 - cpu0)) CPU ticks)"
fi
if [ "$lines" -lt 600 ] && [ "$(grep -c 'accept failed' "$JG_GW_LOG")" -le 3 ]; then
	jg_ok "EMFILE for 5 s: $lines log lines, accept failures logged once per interval"
else
	jg_notok "EMFILE for 5 s: the log stays small ($lines lines, $(grep -c 'accept failed' "$JG_GW_LOG") accept failures)"
	jg_show "$JG_GW_LOG" 5
fi
if exec_retry after-flood; then
	jg_ok "the flood over: an exec works"
else
	jg_notok "the flood over: an exec works"
fi
jg_gateway_stop 10 || jg_notok "SIGTERM after the descriptor flood: exit 0 (status $JG_GW_STATUS)"

# --- the same flood against max_handshakes (a quarter of 128 by default) ---------
JG_CONF_EXTRA=""
jg_gateway_start || { jg_notok "gateway starts (default max_handshakes)"; jg_done; }
GW=$JG_GW_PID
grep -q "descriptor limit 128, at most 32 TLS handshakes at once" "$JG_GW_LOG" &&
	jg_ok "max_handshakes defaults to a quarter of the descriptor limit (32)" ||
	jg_notok "max_handshakes defaults to a quarter of the descriptor limit"
$RAW tcpflood "$JG_PORT" 400 8 >"$JG_T/flood2.out" 2>&1 &
flooder=$!
jg_track flooder "$flooder"
sleep 2
t0=$(date +%s%N)
during=$(JG_TIMEOUT=10 jg_exec echo during </dev/null 2>&1) || true
t1=$(date +%s%N)
if [ "$during" = during ] && [ $(((t1 - t0) / 1000000)) -lt 4000 ]; then
	jg_ok "400 idle TCP connections held: an exec still works ($(((t1 - t0) / 1000000)) ms)"
else
	jg_notok "400 idle TCP connections held: an exec still works ($during)"
fi
if grep -q "more than 32 connections in their TLS handshake (max_handshakes): dropped the oldest" "$JG_GW_LOG" &&
	[ "$(grep -c 'in their TLS handshake (max_handshakes)' "$JG_GW_LOG")" -le 2 ]; then
	jg_ok "handshakes over max_handshakes: the oldest dropped, one log line"
else
	jg_notok "handshakes over max_handshakes: the oldest dropped, one log line"
fi
jg_wait_gone "$flooder" 20 || kill "$flooder" 2>/dev/null
jg_untrack flooder
sleep 0.5
n=$(grep -c "TLS handshake from .* failed" "$JG_GW_LOG" || true)
if [ "$n" -le 20 ]; then
	jg_ok "400 connections closed in their handshake: $n log lines (at most 20 per 10 s)"
else
	jg_notok "400 connections closed in their handshake: at most 20 log lines per 10 s ($n)"
fi
jg_gateway_stop 10 || jg_notok "SIGTERM after the handshake flood: exit 0 (status $JG_GW_STATUS)"
JG_GW_WRAP=

# --- TLS connections that never send the HTTP/2 preface ---------------------------
# Three of them fill max_connections_per_identity; preface_timeout frees the
# identity long before idle_timeout (300 s).
JG_CONF_EXTRA="max_connections_per_identity = 3;
preface_timeout = 1;"
jg_gateway_start || { jg_notok "gateway starts with preface_timeout = 1"; jg_done; }
$RAW idletls "$JG_PORT" 3 6 "$JG_CA" "$JG_CERT" "$JG_KEY" >"$JG_T/idle.out" 2>&1 &
idler=$!
jg_track idler "$idler"
for i in $(seq 1 100); do grep -q "^idletls open=3" "$JG_T/idle.out" && break; sleep 0.05; done
sleep 2.5
after=$(JG_TIMEOUT=10 jg_exec echo after-idle </dev/null 2>&1) || true
jg_wait_gone "$idler" 20 || kill "$idler" 2>/dev/null
jg_untrack idler
out=$(tr '\n' ' ' <"$JG_T/idle.out")
jg_log "$out"
last=$(sed -n 's/.*closed=3 last=\([0-9.]*\).*/\1/p' "$JG_T/idle.out")
if [ -n "$last" ] && awk -v t="$last" 'BEGIN { exit !(t >= 0.5 && t <= 3) }'; then
	jg_ok "3 TLS connections without a preface: closed after $last s (preface_timeout 1)"
else
	jg_notok "3 TLS connections without a preface: closed at preface_timeout ($out)"
fi
if [ "$after" = after-idle ]; then
	jg_ok "an identity whose connections sent no preface is not locked out"
else
	jg_notok "an identity whose connections sent no preface is not locked out ($after)"
fi
grep -q "no request within preface_timeout (1000 ms): closing" "$JG_GW_LOG" &&
	jg_ok "preface timeout: logged" || jg_notok "preface timeout: logged"
jg_gateway_stop 10 || jg_notok "SIGTERM after idle TLS connections: exit 0 (status $JG_GW_STATUS)"

# exec_total: operations.exec.total of /v1/stats.
exec_total() {
	jg_curl /v1/stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["operations"]["exec"]["total"])'
}

# --- rapid reset: HEADERS + OPEN + RST_STREAM, 2,000 times on one connection ------
JG_CONF_EXTRA="unix_socket = \"$SOCK\";"
jg_gateway_start || { jg_notok "gateway starts with a unix socket"; jg_done; }
GW=$JG_GW_PID
n0=$(exec_total)
cpu0=$(cpu_ticks "$GW")
$RAW rapidreset "$SOCK" 2000 sleep 7.25 >"$JG_T/reset.out" 2>&1 &
resetter=$!
jg_track resetter "$resetter"
sleep 0.3
t0=$(date +%s%N)
during=$(JG_TIMEOUT=20 jg_exec echo during </dev/null 2>&1) || true
t1=$(date +%s%N)
jg_wait_gone "$resetter" 30 || kill "$resetter" 2>/dev/null
jg_untrack resetter
cpu1=$(cpu_ticks "$GW")
n1=$(exec_total)
out=$(cat "$JG_T/reset.out")
jg_log "$out; $((n1 - n0)) execs started, gateway cpu $((cpu1 - cpu0)) ticks, legitimate exec $(((t1 - t0) / 1000000)) ms"
if printf '%s' "$out" | grep -q "goaway=(11, 'rapid reset: [0-9]* of the [0-9]* streams opened were reset by the client')"; then
	jg_ok "rapid reset: GOAWAY ENHANCE_YOUR_CALM naming the reason"
else
	jg_notok "rapid reset: GOAWAY ENHANCE_YOUR_CALM naming the reason ($out)"
fi
if [ $((n1 - n0)) -lt 100 ]; then
	jg_ok "rapid reset: $((n1 - n0)) execs started for 2,000 attempts (cut early)"
else
	jg_notok "rapid reset: cut before hundreds of processes start ($((n1 - n0)) execs)"
fi
if [ "$during" = during ] && [ $(((t1 - t0) / 1000000)) -lt 2000 ]; then
	jg_ok "rapid reset on another connection: an exec answers in $(((t1 - t0) / 1000000)) ms"
else
	jg_notok "rapid reset on another connection: an exec answers within 2 s ($during, $(((t1 - t0) / 1000000)) ms)"
fi
[ "$(grep -c 'rapid reset:' "$JG_GW_LOG")" = 1 ] && jg_ok "rapid reset: one log line" ||
	jg_notok "rapid reset: one log line ($(grep -c 'rapid reset:' "$JG_GW_LOG"))"
jg_gateway_stop 10 || jg_notok "SIGTERM after the rapid reset: exit 0 (status $JG_GW_STATUS)"

jg_done
