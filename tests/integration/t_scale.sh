#!/bin/bash
# One gateway with many things at once, correctness only (issue 18; the figures are
# tests/bench/bench_scale.sh's): 100 onward connections (setns chains into holder
# processes, one agent each) opened by one `jumpgate run`, every one ok; 2,000 idle
# tunnels over 8 controller connections (tunnel_many, TUNNEL_MANY_HOLD) held open at
# the same time, then ended, every one byte-exact; an exec still works meanwhile; the
# memory of those streams goes back once they end (gateway/memtrim.c: not under the
# sanitizers, whose allocator is another); and afterwards the gateway's descriptors
# and children return to their baseline (the pool's idle_timeout closes the onward
# connections), no zombie left.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require python3
: "${JG_TUNNEL_MANY:=$builddir/tests/integration/tunnel_many}"
[ -x "$JG_TUNNEL_MANY" ] || { jg_notok "tunnel_many built ($JG_TUNNEL_MANY)"; jg_done; }
jg_init_pki
ONWARD=100 CONNS=8 PER=250 # max_streams is 256 per connection

JG_CONF_EXTRA="tunnels = { allow = [ \"local:*\" ]; };
child_nofile = 4096;
pool = { idle_timeout = 2.0; connect_timeout = 30.0; keepalive_interval = 15.0; };"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_exec true </dev/null || jg_notok "a first exec"
# The local agent of that exec goes after idle_timeout: the baseline is without it.
deadline=$((SECONDS + 20))
while [ "$(jg_child_count "$JG_GW_PID")" -gt 0 ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
FD0=$(jg_fd_count "$JG_GW_PID")
jg_ok "gateway up: $FD0 descriptors, $(jg_child_count "$JG_GW_PID") children"

# --- 100 onward connections at once.
list=
for ((i = 0; i < ONWARD; i++)); do
	sleep 300 </dev/null >/dev/null 2>&1 &
	jg_track "holder$i" $!
	list="$list${list:+,}local/setns:$!"
done
rc=0
JG_TIMEOUT=300 jg_cli run --fanout 128 "$list" -- true </dev/null >"$JG_T/run.out" 2>"$JG_T/run.err" || rc=$?
n=$(jg_child_count "$JG_GW_PID")
if [ "$rc" = 0 ] && grep -q "$ONWARD ok" "$JG_T/run.err"; then
	jg_ok "run on $ONWARD setns chains: all ok ($(tail -n 1 "$JG_T/run.err"); $n agents)"
else
	jg_notok "run on $ONWARD setns chains: all ok (rc $rc)"
	jg_show "$JG_T/run.err" 10
fi

# --- 500 idle tunnels over 5 connections, held at once.
EPORT=$(jg_free_port)
python3 "$srcdir/tests/integration/echo_many.py" "$EPORT" 2>"$JG_T/echo.err" &
jg_track echo $!
for i in $(seq 1 50); do jg_port_in_use "$EPORT" && break; sleep 0.1; done
RSS0=$(jg_rss_kb "$JG_GW_PID")
for ((c = 0; c < CONNS; c++)); do
	TUNNEL_MANY_HOLD=$JG_T/held-$c "$JG_TUNNEL_MANY" 127.0.0.1 "$JG_PORT" "$JG_CA" "$JG_CERT" \
		"$JG_KEY" local "$EPORT" "$PER" 64 120 >"$JG_T/tm-$c.out" 2>&1 &
	jg_track "tm$c" $!
done
deadline=$((SECONDS + 60))
while [ "$(ls "$JG_T"/held-* 2>/dev/null | wc -l)" -lt "$CONNS" ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.1
done
held=$(ls "$JG_T"/held-* 2>/dev/null | wc -l)
cur=$(jg_curl /v1/stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["streams"]["current"])' 2>/dev/null || echo '?')
if [ "$held" = "$CONNS" ] && [ "$cur" -ge $((CONNS * PER)) ] 2>/dev/null; then
	jg_ok "$((CONNS * PER)) tunnels open at once over $CONNS connections (gateway: $cur streams)"
else
	jg_notok "$((CONNS * PER)) tunnels open at once over $CONNS connections ($held connections held, gateway: $cur streams)"
fi
rc=0
jg_exec echo meanwhile </dev/null >"$JG_T/mid.out" 2>"$JG_T/mid.err" || rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$JG_T/mid.out")" = meanwhile ]; then
	jg_ok "an exec works with the tunnels held"
else
	jg_notok "an exec works with the tunnels held (rc $rc)"
fi
rm -f "$JG_T"/held-*
bad=0
for ((c = 0; c < CONNS; c++)); do
	pid=$(cat "$JG_T/pids/tm$c.pid")
	jg_wait_gone "$pid" 60 || true
	wait "$pid" 2>/dev/null || { bad=$((bad + 1)); head -n 3 "$JG_T/tm-$c.out"; }
	jg_untrack "tm$c"
done
jg_check "every tunnel ended byte-exact ($bad of $CONNS connections had failures)" [ "$bad" = 0 ]
# The heap of those streams goes back (memtrim.c trims at most every 2 s: wait for one).
sleep 2.5
jg_exec true </dev/null || true
rss=$(jg_rss_kb "$JG_GW_PID")
if jg_sanitized; then
	jg_ok "# SKIP RSS after the streams under the sanitizers ($rss KiB, $RSS0 before)"
else
	jg_check "RSS back within 6 MiB of before the streams ($rss KiB, $RSS0 KiB before)" \
		[ "$rss" -le $((RSS0 + 6144)) ]
fi

# --- back to the baseline: the pool closes the idle onward connections.
for ((i = 0; i < ONWARD; i++)); do
	kill "$(cat "$JG_T/pids/holder$i.pid")" 2>/dev/null || true
done
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
	[ "$(jg_child_count "$JG_GW_PID")" = 0 ] && [ "$(jg_fd_count "$JG_GW_PID")" -le "$FD0" ] && break
	sleep 0.2
done
fd=$(jg_fd_count "$JG_GW_PID") ch=$(jg_child_count "$JG_GW_PID") z=$(jg_zombies "$JG_GW_PID")
jg_check "descriptors back to the baseline ($fd, baseline $FD0)" [ "$fd" -le "$FD0" ]
jg_check "no agent left once idle ($ch children)" [ "$ch" = 0 ]
jg_check "no zombie (${z:-none})" [ -z "$z" ]
jg_check "gateway stops cleanly" jg_gateway_stop
jg_done
