#!/bin/bash
# SIGTERM drains: a running exec finishes with its output and exit status,
# the gateway stops taking new work at once and exits 0 within
# drain_timeout + 2 s, and new connections are refused afterwards.  An exec
# that outlasts the drain ends (the client does not hang) and the gateway
# still exits 0 in time.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki

# --- 1. an exec shorter than the drain.
JG_DRAIN_TIMEOUT=5.0
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT (drain_timeout 5.0)"
port=$JG_PORT

(set +e; jg_exec sh -c 'sleep 1.5; echo finished' </dev/null >"$JG_T/e1.out" 2>"$JG_T/e1.err"; echo $? >"$JG_T/e1.rc") &
jg_track e1 $!
jg_wait_descendant "$JG_GW_PID" sleep 20 || jg_notok "exec started before SIGTERM"

gw=$JG_GW_PID
t0=$(date +%s%N)
kill -TERM "$gw"
sleep 0.3

# While draining: no new work.  /healthz says draining (503) or the listener
# is already closed (no answer); either way not 200, and an exec fails.
code=$(jg_http_code GET /healthz)
if [ "$code" != 200 ]; then
	jg_ok "while draining, /healthz is not 200 (got $code)"
else
	jg_notok "while draining, /healthz is not 200 (got 200)"
fi
set +e
JG_TIMEOUT=20 jg_exec echo late </dev/null >"$JG_T/late.out" 2>"$JG_T/late.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ ! -s "$JG_T/late.out" ]; then
	jg_ok "while draining, a new exec is refused: 255, '$(head -n1 "$JG_T/late.err")'"
else
	jg_notok "while draining, a new exec is refused (exit $rc, stdout '$(head -c 100 "$JG_T/late.out")')"
fi

pid=$(cat "$JG_T/pids/e1.pid")
jg_wait_gone "$pid" 20 || true
wait "$pid" 2>/dev/null || true
jg_untrack e1
if [ "$(cat "$JG_T/e1.rc" 2>/dev/null)" = 0 ] && [ "$(cat "$JG_T/e1.out")" = finished ]; then
	jg_ok "the running exec finished during the drain (exit 0, output 'finished')"
else
	jg_notok "the running exec finished during the drain (exit $(cat "$JG_T/e1.rc" 2>/dev/null), output '$(cat "$JG_T/e1.out")')"
	jg_show "$JG_T/e1.err" 5
fi

if jg_wait_gone "$gw" 7; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	st=0
	wait "$gw" 2>/dev/null || st=$?
	jg_untrack gateway
	JG_GW_PID=
	if [ $st = 0 ]; then
		jg_ok "gateway exits 0 within drain_timeout + 2 s (${ms} ms)"
	else
		jg_notok "gateway exits 0 within drain_timeout + 2 s (status $st after ${ms} ms)"
		jg_show "$JG_GW_LOG" 20
	fi
else
	jg_notok "gateway exits within drain_timeout + 2 s (still running after 7 s)"
	jg_gateway_stop 1 || true
fi

set +e
curl -sS --http2 --max-time 10 --cacert "$JG_CA" --cert "$JG_CERT" --key "$JG_KEY" \
	-o /dev/null "https://127.0.0.1:$port/healthz" 2>"$JG_T/after.err"
rc=$?
set -e
if [ "$rc" = 7 ]; then
	jg_ok "new connections refused after exit ($(head -n1 "$JG_T/after.err"))"
else
	jg_notok "new connections refused after exit (curl exit $rc: $(head -n1 "$JG_T/after.err"))"
fi

# --- 2. an exec longer than the drain.
JG_DRAIN_TIMEOUT=1.0
jg_gateway_start || { jg_notok "gateway restarts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT (drain_timeout 1.0)"

(set +e; jg_exec sh -c 'echo started; exec sleep 8' </dev/null >"$JG_T/e2.out" 2>"$JG_T/e2.err"; echo $? >"$JG_T/e2.rc") &
jg_track e2 $!
jg_wait_descendant "$JG_GW_PID" sleep 20 || jg_notok "long exec started before SIGTERM"
desc=$(jg_descendants "$JG_GW_PID")

gw=$JG_GW_PID
t0=$(date +%s%N)
kill -TERM "$gw"
if jg_wait_gone "$gw" 3; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	st=0
	wait "$gw" 2>/dev/null || st=$?
	jg_untrack gateway
	JG_GW_PID=
	if [ $st = 0 ]; then
		jg_ok "with an exec outlasting the drain, gateway exits 0 within drain_timeout + 2 s (${ms} ms)"
	else
		jg_notok "with an exec outlasting the drain, gateway exits 0 (status $st after ${ms} ms)"
		jg_show "$JG_GW_LOG" 20
	fi
else
	jg_notok "with an exec outlasting the drain, gateway exits within drain_timeout + 2 s"
	jg_gateway_stop 1 || true
fi

pid=$(cat "$JG_T/pids/e2.pid")
if jg_wait_gone "$pid" 5; then
	wait "$pid" 2>/dev/null || true
	jg_untrack e2
	rc=$(cat "$JG_T/e2.rc" 2>/dev/null || echo '?')
	if [ "$rc" != 0 ] && [ -s "$JG_T/e2.err" ]; then
		jg_ok "the cut-off exec's client ends with an error: $rc, '$(head -n1 "$JG_T/e2.err")'"
	else
		jg_notok "the cut-off exec's client ends with an error and a reason (exit $rc, stderr '$(head -c 200 "$JG_T/e2.err")')"
	fi
else
	jg_notok "the cut-off exec's client ends within 5 s of the gateway (it hangs)"
fi

# What the gateway ran (agent, sh/sleep) does not outlive it for long.
left=
deadline=$((SECONDS + 5))
while :; do
	left=
	for d in $desc; do jg_alive "$d" && left="$left $d:$(jg_comm "$d")"; done
	[ -n "$left" ] && [ $SECONDS -lt $deadline ] || break
	sleep 0.1
done
if [ -z "$left" ]; then
	jg_ok "the gateway's processes (agent, program) are gone after it exits"
else
	jg_notok "the gateway's processes are gone after it exits (left:$left)"
fi

jg_done
