#!/bin/bash
# Limits (jumpgated.conf.example, "Limits"): each hit gives the client a clear
# error and the log one line, and nobody else is hurt.  Includes an HPACK bomb
# (one table entry referenced 120,000 times) and the buffer budget holding
# slow readers of exec output and of tunnels to a `tunnel` target.  Hostile peers come
# from h2raw.py over the Unix socket (h2c), so they can break the rules that
# curl and nghttp keep; a well-behaved client goes through the TLS port.
. "$(dirname "$0")/lib.sh"
jg_setup
# ASan holds freed memory in a quarantine (256 MiB by default) that reads as RSS
# growth of every request with big buffers: keep it small for this gateway, so the
# RSS bounds below measure what is kept (as t_leaks.sh does).
jg_asan_quarantine 1
jg_require python3
jg_init_pki
SOCK=$JG_T/jg.sock
RAW="python3 $srcdir/tests/integration/h2raw.py"
JG_CONF_EXTRA="unix_socket = \"$SOCK\";
max_streams = 100;
max_header_list_size = 16384;
max_connections_per_identity = 3;
handshake_timeout = 2;
buffer_budget = 1048576;
targets = ( { name = \"src\"; method = \"tunnel\"; host = \"127.0.0.1\"; } );
tunnels = { allow = [ \"src:*\" ]; };"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts with tight limits"
GW=$JG_GW_PID

# cpu_ticks PID: user + system clock ticks so far.
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); print a[12] + a[13] }' "/proc/$1/stat"; }

# --- 10,000 streams on one connection, past max_streams = 100 --------------
jg_exec sh -c 'sleep 1; echo parallel' </dev/null >"$JG_T/par.out" 2>&1 &
par=$!
jg_track parallel "$par"
out=$(timeout 90 $RAW flood "$SOCK" 10000) || true
jg_log "$out"
ok=$(printf '%s' "$out" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
# How many of the first 100 are answered before the GOAWAY depends on how much of
# the flood one read brings (the gateway reads up to 1 MiB at once: often all of it,
# and the connection error then ends the session before any answer is written);
# never more than the limit.
if [ "${ok:-0}" -le 100 ] && printf '%s' "$out" | grep -q "goaway=(1, 'request HEADERS: max concurrent streams exceeded')"; then
	jg_ok "10,000 streams: the excess refused (GOAWAY PROTOCOL_ERROR), $ok answered before it (at most the limit, 100)"
else
	jg_notok "10,000 streams: at most the limit served, the excess refused ($out)"
fi
if grep -q "more than max_streams (100) streams at once" "$JG_GW_LOG"; then
	jg_ok "stream limit: one log line"
else
	jg_notok "stream limit: one log line"
fi
if wait "$par" && [ "$(cat "$JG_T/par.out")" = parallel ]; then
	jg_ok "a parallel exec on another connection is unaffected"
else
	jg_notok "a parallel exec on another connection is unaffected ($(head -c 200 "$JG_T/par.out"))"
fi
jg_untrack parallel
if command -v h2load >/dev/null; then
	# A client that keeps the limit gets everything, 100 at a time.
	out=$(timeout 120 h2load -n 10000 -c 1 -m 10000 -B "unix:$SOCK" http://localhost/healthz 2>&1 | grep '^requests:') || true
	if printf '%s' "$out" | grep -q "10000 succeeded, 0 failed"; then
		jg_ok "h2load -n 10000 -m 10000 (keeps the advertised limit): $out"
	else
		jg_notok "h2load -n 10000 -m 10000: all succeed ($out)"
	fi
fi

# --- header lists -------------------------------------------------------------
out=$(timeout 30 $RAW bigheaders "$SOCK" 5 4000) || true
if printf '%s' "$out" | grep -q 'big=ok big_body={"error":"request header fields too large"' &&
	printf '%s' "$out" | grep -q 'next=ok next_body={"status":"ok"}'; then
	jg_ok "20 KB of headers: 431 with a JSON reason, the connection keeps serving"
else
	jg_notok "20 KB of headers: 431, connection keeps serving ($out)"
fi
grep -q "request headers over max_header_list_size (16384 bytes): refused with 431" "$JG_GW_LOG" &&
	jg_ok "header limit: one log line" || jg_notok "header limit: one log line"
# One field over 64 KiB (nghttp2's limit for a single name or value): 431 as well,
# not a COMPRESSION_ERROR for the whole connection (gateway/edge/h2field.c).
out=$(timeout 30 $RAW bigheaders "$SOCK" 1 70000) || true
if printf '%s' "$out" | grep -q 'big=ok big_body={"error":"request header fields too large"' &&
	printf '%s' "$out" | grep -q 'next=ok next_body={"status":"ok"} goaway=None'; then
	jg_ok "one 70 KB header field: 431, the connection keeps serving"
else
	jg_notok "one 70 KB header field: 431, the connection keeps serving ($out)"
fi
timeout 30 $RAW bigheaders "$SOCK" 40 4000 >/dev/null 2>&1 || true
if grep -q "Too many CONTINUATION frames" "$JG_GW_LOG" && [ "$(jg_http_code GET /healthz)" = 200 ]; then
	jg_ok "160 KB of headers in CONTINUATION frames: connection closed by nghttp2, gateway serves"
else
	jg_notok "160 KB of headers: connection closed, gateway serves"
fi

# --- HPACK bomb: one big entry in the dynamic table, referenced 120,000 times ---
# 124 KB on the wire decode to about 480 MB; ten of them, one after another.
jg_exec sh -c 'sleep 1; echo parallel' </dev/null >"$JG_T/par2.out" 2>&1 &
par=$!
jg_track parallel "$par"
rss0=$(jg_rss_kb "$GW")
cpu0=$(cpu_ticks "$GW")
bombs_ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	out=$(timeout 30 $RAW hpackbomb "$SOCK" 4000 120000) || true
	[ $i != 1 ] || jg_log "$out"
	# Refused with RST_STREAM ENHANCE_YOUR_CALM (11) at once, and the connection's
	# HPACK state still in step: the next request references the same entry.
	secs=$(printf '%s' "$out" | sed -n 's/.* secs=\([0-9.]*\).*/\1/p')
	if printf '%s' "$out" | grep -q 'result=rst:11 ' &&
		printf '%s' "$out" | grep -q 'next=ok next_body={"status":"ok"} goaway=None' &&
		awk -v t="$secs" 'BEGIN { exit !(t != "" && t < 2) }'; then
		bombs_ok=$((bombs_ok + 1))
	fi
done
cpu1=$(cpu_ticks "$GW")
rss1=$(jg_rss_kb "$GW")
jg_log "10 HPACK bombs: gateway cpu $((cpu1 - cpu0)) ticks, rss ${rss0} -> ${rss1} kB"
if [ $bombs_ok = 10 ]; then
	jg_ok "HPACK bomb (124 KB decoding to 480 MB): stream reset ENHANCE_YOUR_CALM within 2 s, the connection serves on"
else
	jg_notok "HPACK bomb: stream reset, the connection serves on ($bombs_ok of 10; $out)"
fi
if [ $((cpu1 - cpu0)) -lt 100 ] && [ $((rss1 - rss0)) -lt 8192 ]; then
	jg_ok "10 HPACK bombs: $((cpu1 - cpu0)) CPU ticks (< 1 s), RSS +$((rss1 - rss0)) kB"
else
	jg_notok "10 HPACK bombs: bounded CPU and memory (cpu $((cpu1 - cpu0)) ticks, rss +$((rss1 - rss0)) kB)"
fi
out=$(timeout 30 $RAW hpackbomb "$SOCK" 4000 120000 trailers) || true
jg_log "$out"
if printf '%s' "$out" | grep -q 'result=rst:11 ' &&
	printf '%s' "$out" | grep -q 'next=ok next_body={"status":"ok"} goaway=None'; then
	jg_ok "HPACK bomb in the trailers of an exec request: stream reset, the connection serves on"
else
	jg_notok "HPACK bomb in trailers: stream reset, the connection serves on ($out)"
fi
grep -q "request headers decode to more than 131072 bytes (8 x max_header_list_size): HPACK bomb or header flood, stream reset" "$JG_GW_LOG" &&
	jg_ok "HPACK bomb: a log line" || jg_notok "HPACK bomb: a log line"
if wait "$par" && [ "$(cat "$JG_T/par2.out")" = parallel ] && [ "$(jg_http_code GET /healthz)" = 200 ]; then
	jg_ok "HPACK bombs: an exec on another connection is unaffected"
else
	jg_notok "HPACK bombs: an exec on another connection is unaffected ($(head -c 200 "$JG_T/par2.out"))"
fi
jg_untrack parallel

# --- connections per identity -------------------------------------------------
out=$(timeout 30 $RAW conns "$SOCK" 4) || true
jg_log "$out"
if printf '%s' "$out" | grep -q "1:open 2:open 3:open 4:goaway(11,too many connections for this identity (max_connections_per_identity 3)) first_still_serves=ok"; then
	jg_ok "4th connection of one identity: GOAWAY ENHANCE_YOUR_CALM with the reason; the others serve"
else
	jg_notok "4th connection of one identity refused ($out)"
fi
grep -q "refused: already 3 connection(s) for this identity" "$JG_GW_LOG" &&
	jg_ok "connection limit: one log line" || jg_notok "connection limit: one log line"

# --- slowloris: connect and send nothing, or half a ClientHello ---------------
for what in nothing partial; do
	t=$(timeout 20 python3 - "$JG_PORT" "$what" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
if sys.argv[2] == "partial":
    s.sendall(bytes.fromhex("160301020001"))  # a record header and the start of a ClientHello
t0 = time.monotonic()
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print("%.1f" % (time.monotonic() - t0))
PY
	) || t=timeout
	if [ "$t" != timeout ] && awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4.5) }'; then
		jg_ok "slowloris ($what): dropped after ${t} s (handshake_timeout 2)"
	else
		jg_notok "slowloris ($what): dropped at handshake_timeout 2 (after $t)"
	fi
done
grep -q "TLS handshake from 127.0.0.1:[0-9]* timed out after 2000 ms" "$JG_GW_LOG" &&
	jg_ok "slowloris: one log line" || jg_notok "slowloris: one log line"

# --- a flood of tiny frames ---------------------------------------------------
rss0=$(jg_rss_kb "$GW")
cpu0=$(cpu_ticks "$GW")
out=$(timeout 60 $RAW tiny "$SOCK" 100000) || true
cpu1=$(cpu_ticks "$GW")
rss1=$(jg_rss_kb "$GW")
jg_log "$out; gateway cpu $((cpu1 - cpu0)) ticks, rss ${rss0} -> ${rss1} kB"
if printf '%s' "$out" | grep -q "result=ok count_in_output=True" && [ $((cpu1 - cpu0)) -lt 1000 ] &&
	[ $((rss1 - rss0)) -lt 65536 ]; then
	jg_ok "100,000 one-byte DATA frames: exec correct, $((cpu1 - cpu0)) CPU ticks, RSS +$((rss1 - rss0)) kB"
else
	jg_notok "100,000 one-byte DATA frames: bounded CPU and memory ($out, cpu $((cpu1 - cpu0)) ticks, rss +$((rss1 - rss0)) kB)"
fi

# --- buffer budget: 8 streams whose output nobody reads -------------------------
rss0=$(jg_rss_kb "$GW")
mkfifo "$JG_T/hold.in"
$RAW hold "$SOCK" 8 head -c 200000000 /dev/zero <"$JG_T/hold.in" >"$JG_T/hold.out" 2>&1 &
holder=$!
jg_track holder "$holder"
exec 7>"$JG_T/hold.in"
deadline=$((SECONDS + 20))
until grep -q "buffer budget reached" "$JG_GW_LOG" || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
sleep 2
rss1=$(jg_rss_kb "$GW")
if grep -q "buffer budget reached" "$JG_GW_LOG" && [ $((rss1 - rss0)) -lt 102400 ]; then
	jg_ok "slow readers: budget reached, links paused, RSS +$((rss1 - rss0)) kB (bounded)"
else
	jg_notok "slow readers: budget reached and RSS bounded (rss +$((rss1 - rss0)) kB)"
fi
exec 7>&-
jg_wait_gone "$holder" 10 || kill "$holder" 2>/dev/null
jg_untrack holder
deadline=$((SECONDS + 20))
until grep -q "agent links resume" "$JG_GW_LOG" || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
if grep -q "agent links resume" "$JG_GW_LOG" && [ "$(jg_exec echo after </dev/null 2>/dev/null)" = after ]; then
	jg_ok "slow readers gone: links resume, exec works"
else
	jg_notok "slow readers gone: links resume, exec works"
fi

# --- buffer budget: 96 tunnels to a `tunnel` target whose reader stops --------
# The far ends push zeros as fast as they can; the client reads the connection
# but opens no stream window past the first 64 KiB.  Each tunnel alone is held
# at 256 KiB queued (tunnel.c); together they are held by buffer_budget (1 MiB):
# without it the gateway would queue 96 x 320 KiB.
cat >"$JG_T/source.py" <<'PY'
# python3 source.py PORTFILE: zeros to every client on 127.0.0.1 until it goes.
import os, socket, sys, threading
def push(c):
    b = bytes(65536)
    try:
        while True:
            c.sendall(b)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(256)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    threading.Thread(target=push, args=(c,), daemon=True).start()
PY
python3 "$JG_T/source.py" "$JG_T/source.port" </dev/null >"$JG_T/source.err" 2>&1 &
jg_track source $!
for i in $(seq 1 100); do [ -s "$JG_T/source.port" ] && break; sleep 0.05; done
rss0=$(jg_rss_kb "$GW")
mkfifo "$JG_T/tun.in"
$RAW tunnels "$SOCK" 96 src "$(cat "$JG_T/source.port")" 1048576 <"$JG_T/tun.in" >"$JG_T/tun.out" 2>&1 &
tunneler=$!
jg_track tunneler "$tunneler"
exec 8>"$JG_T/tun.in"
deadline=$((SECONDS + 40))
until grep -q "^tunnels" "$JG_T/tun.out" || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
maxrss=$rss0
for i in $(seq 1 30); do
	r=$(jg_rss_kb "$GW")
	[ "$r" -le "$maxrss" ] || maxrss=$r
	sleep 0.1
done
jg_log "$(head -n 1 "$JG_T/tun.out"); gateway rss ${rss0} -> at most ${maxrss} kB"
# The bound: 16 MiB (measured +6 MB; unbounded ~30 MB).  ASan's allocator adds its
# redzones and size classes to every queued chain: +15.5 to +16.6 MB measured there,
# before and after the change that found it (13edae7), so 24 MiB under the sanitizers.
lim=16384
jg_sanitized && lim=24576
if grep -q "^tunnels 96 open=96 " "$JG_T/tun.out" && [ $((maxrss - rss0)) -lt $lim ]; then
	jg_ok "96 stalled tunnels: held by buffer_budget, gateway RSS +$((maxrss - rss0)) kB (unbounded: ~30 MB)"
else
	jg_notok "96 stalled tunnels: RSS bounded by buffer_budget ($(head -n 1 "$JG_T/tun.out"); rss +$((maxrss - rss0)) kB, limit $lim kB)"
fi
echo drain >&8
deadline=$((SECONDS + 80))
until grep -q "^drained\|closed" "$JG_T/tun.out" || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
min=$(sed -n 's/^drained 96 min=//p' "$JG_T/tun.out")
if [ -n "$min" ] && [ "$min" -ge 1048576 ]; then
	jg_ok "the reader back: every tunnel resumes, 1 MiB more each ($(tail -n 1 "$JG_T/tun.out"))"
else
	jg_notok "the reader back: every tunnel resumes ($(tail -n 1 "$JG_T/tun.out"))"
fi
exec 8>&-
jg_wait_gone "$tunneler" 10 || kill "$tunneler" 2>/dev/null
jg_untrack tunneler

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
