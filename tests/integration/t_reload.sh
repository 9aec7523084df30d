#!/bin/bash
# SIGHUP reloads the configuration file: a target added becomes usable without
# a restart; a stream in flight across the reload completes; a broken file is
# rejected with its file:line logged and the running configuration kept.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts"

# hup_and_wait PATTERN: SIGHUP, then wait (bounded) for one more log line matching PATTERN.
hup_and_wait() {
	local before deadline=$((SECONDS + 10))
	before=$(grep -c -- "$1" "$JG_GW_LOG" || true)
	kill -HUP "$JG_GW_PID"
	while [ $SECONDS -lt $deadline ]; do
		[ "$(grep -c -- "$1" "$JG_GW_LOG" || true)" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 1
}

if jg_cli exec extra -- echo hi </dev/null >"$JG_T/x.out" 2>&1; then
	jg_notok "before the reload, target 'extra' is unknown"
else
	jg_ok "before the reload, target 'extra' is unknown"
fi

# A stream in flight across the reload.
jg_exec sh -c 'sleep 2; echo survived' </dev/null >"$JG_T/flight.out" 2>&1 &
flight=$!
jg_track flight "$flight"
sleep 0.5

cp "$JG_CONF" "$JG_T/good.conf"
printf 'targets = ( { name = "extra"; method = "local"; } );\n' >>"$JG_CONF"
if hup_and_wait "SIGHUP: reloaded"; then jg_ok "SIGHUP: reloaded logged"; else jg_notok "SIGHUP: reloaded logged"; fi

out=$(jg_cli exec extra -- echo hi </dev/null 2>"$JG_T/extra.err") || true
if [ "$out" = hi ]; then
	jg_ok "after the reload, target 'extra' works without a restart"
else
	jg_notok "after the reload, target 'extra' works (got '$out': $(head -c 300 "$JG_T/extra.err"))"
fi

if wait "$flight" && [ "$(cat "$JG_T/flight.out")" = survived ]; then
	jg_ok "a stream in flight across the reload completes"
else
	jg_notok "a stream in flight across the reload completes (got: $(head -c 300 "$JG_T/flight.out"))"
fi
jg_untrack flight

# A broken file: error with file:line, old configuration (with 'extra') kept.
cp "$JG_CONF" "$JG_T/reloaded.conf"
printf 'max_streams = ;\n' >>"$JG_CONF"
line=$(wc -l <"$JG_CONF")
if hup_and_wait "keeping the running configuration"; then
	jg_ok "broken config: rejected"
else
	jg_notok "broken config: rejected"
fi
if grep -q "SIGHUP: $JG_CONF:$line:" "$JG_GW_LOG"; then
	jg_ok "broken config: the error names $(basename "$JG_CONF"):$line"
else
	jg_notok "broken config: the error names the file and line $line ($(grep SIGHUP "$JG_GW_LOG" | tail -n1))"
fi
out=$(jg_cli exec extra -- echo still </dev/null 2>/dev/null) || true
if [ "$out" = still ]; then jg_ok "broken config: the old one still serves"; else jg_notok "broken config: the old one still serves (got '$out')"; fi

# A semantic error (a key out of range) is rejected the same way.
cp "$JG_T/reloaded.conf" "$JG_CONF"
printf 'max_streams = 0;\n' >>"$JG_CONF"
if hup_and_wait "out of range" && [ "$(jg_exec echo ok </dev/null 2>/dev/null)" = ok ]; then
	jg_ok "out-of-range value: rejected, gateway serves"
else
	jg_notok "out-of-range value: rejected, gateway serves"
fi

# Back to the first file: 'extra' is gone for new operations.
cp "$JG_T/good.conf" "$JG_CONF"
hup_and_wait "SIGHUP: reloaded" || true
if jg_cli exec extra -- echo hi </dev/null >/dev/null 2>&1; then
	jg_notok "a target removed by a reload is refused"
else
	jg_ok "a target removed by a reload is refused"
fi

# Many reloads in a row (old configurations are kept until exit): still serving.
for i in $(seq 1 20); do kill -HUP "$JG_GW_PID"; sleep 0.02; done
sleep 0.3
if [ "$(jg_exec echo ok </dev/null 2>/dev/null)" = ok ] && jg_alive "$JG_GW_PID"; then
	jg_ok "20 reloads in a row: still serving"
else
	jg_notok "20 reloads in a row: still serving"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
