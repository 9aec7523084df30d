#!/bin/bash
# SIGHUP reloads the configuration file: a target added becomes usable without
# a restart; a stream in flight across the reload completes; a broken file is
# rejected with its file:line logged and the running configuration kept.  The
# `audit` path follows the reload: new lines go to a changed path and the old
# file is closed; a path that cannot be opened keeps the old file; the same
# path is reopened (logrotate).
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

# Many reloads in a row: still serving (t_reload_memory.sh: memory stays flat).
for i in $(seq 1 20); do kill -HUP "$JG_GW_PID"; sleep 0.02; done
sleep 0.3
if [ "$(jg_exec echo ok </dev/null 2>/dev/null)" = ok ] && jg_alive "$JG_GW_PID"; then
	jg_ok "20 reloads in a row: still serving"
else
	jg_notok "20 reloads in a row: still serving"
fi

# --- the audit path changed by a reload -----------------------------------------
# holds FILE: the gateway has FILE open (one of /proc/PID/fd points at it).
holds() {
	local f
	for f in /proc/"$JG_GW_PID"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}
# audit_conf PATH: the first configuration with `audit = PATH`, then SIGHUP.
audit_conf() {
	cp "$JG_T/good.conf" "$JG_CONF"
	printf 'audit = "%s";\n' "$1" >>"$JG_CONF"
	hup_and_wait "SIGHUP: reloaded"
}
A=$JG_T/audit-a.log B=$JG_T/audit-b.log C=$JG_T/no-such-dir/audit-c.log
jg_exec echo before-any-file </dev/null >/dev/null 2>&1 # the audit log is open (stderr)
if audit_conf "$A" && [ "$(jg_exec echo marker-a </dev/null 2>/dev/null)" = marker-a ] &&
	grep -q '"argv":\["echo","marker-a"\]' "$A" && holds "$A"; then
	jg_ok "reload: audit moves from stderr to a file; new lines there"
else
	jg_notok "reload: audit moves from stderr to $A ($(tail -n 2 "$A" 2>&1))"
fi
if audit_conf "$B" && [ "$(jg_exec echo marker-b </dev/null 2>/dev/null)" = marker-b ] &&
	grep -q '"argv":\["echo","marker-b"\]' "$B" && ! grep -q marker-b "$A"; then
	jg_ok "reload: a changed audit path gets the new lines, the old file none"
else
	jg_notok "reload: a changed audit path gets the new lines ($(tail -n 2 "$B" 2>&1))"
fi
if holds "$B" && ! holds "$A"; then
	jg_ok "reload: the old audit file is closed (/proc/$JG_GW_PID/fd), the new one open"
else
	jg_notok "reload: the old audit file is closed ($(ls -l /proc/"$JG_GW_PID"/fd | grep audit))"
fi
if audit_conf "$C" && grep -q "audit log $C: No such file or directory (keeping $B)" "$JG_GW_LOG" &&
	[ "$(jg_exec echo marker-c </dev/null 2>/dev/null)" = marker-c ] &&
	grep -q '"argv":\["echo","marker-c"\]' "$B" && holds "$B"; then
	jg_ok "reload: an audit path that cannot be opened is logged, the old file kept"
else
	jg_notok "reload: an unopenable audit path keeps the old file ($(grep 'audit log' "$JG_GW_LOG" | tail -n 1))"
fi
# logrotate: the file moved away, the same path reopened by SIGHUP.
mv "$B" "$B.1"
if audit_conf "$B" && [ "$(jg_exec echo marker-d </dev/null 2>/dev/null)" = marker-d ] &&
	grep -q marker-d "$B" && ! grep -q marker-d "$B.1" && ! holds "$B.1" && holds "$B"; then
	jg_ok "reload: the same audit path after logrotate: reopened, the rotated file closed"
else
	jg_notok "reload: the same audit path after logrotate is reopened"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
