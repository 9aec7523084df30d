#!/bin/bash
# Journal-friendly logs: when stderr is the stream $JOURNAL_STREAM names (as
# systemd sets it for a unit whose output goes to the journal), every log line
# starts with its syslog priority, <3> error, <4> warn, <6> info, which journald
# stores as PRIORITY; on any other stderr (a terminal, a file, a child redirected
# elsewhere that inherited the variable) lines stay as they were.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki

# devino FILE: "DEV:INODE" as systemd writes JOURNAL_STREAM.
devino() { stat -c '%d:%i' "$1"; }

# --- an error: a configuration that does not parse ------------------------------
printf 'listen = "127.0.0.1";\n' >"$JG_T/bad.conf"
: >"$JG_T/err.log"
JOURNAL_STREAM=$(devino "$JG_T/err.log") "$JUMPGATED" -f -c "$JG_T/bad.conf" 2>>"$JG_T/err.log" || true
if grep -q '^<3>jumpgated\[[0-9]*\]: error: .*bad.conf:1: listen' "$JG_T/err.log"; then
	jg_ok "an error line under the journal starts with <3>"
else
	jg_notok "an error line under the journal starts with <3>"
	jg_show "$JG_T/err.log" 5
fi

# --- a serving gateway: info and warn ------------------------------------------
# jg_gateway_start writes jumpgated-N.log with '>', which keeps the inode made here.
next=$((${JG_GW_N:-0} + 1))
: >"$JG_T/jumpgated-$next.log"
export JOURNAL_STREAM
JOURNAL_STREAM=$(devino "$JG_T/jumpgated-$next.log")
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
unset JOURNAL_STREAM
jg_exec true </dev/null >/dev/null 2>&1 || true
if [ "$JG_GW_LOG" != "$JG_T/jumpgated-$next.log" ]; then
	jg_log "the gateway started on a retry (log $JG_GW_LOG): priorities not checked"
	jg_notok "the gateway logs to the stream JOURNAL_STREAM names"
fi
grep -q '^<6>jumpgated\[[0-9]*\]: info: listening on 127.0.0.1' "$JG_GW_LOG" &&
	jg_ok "info lines start with <6>" || jg_notok "info lines start with <6>"
# The allow-everything test policy is linted with a warning.
grep -q '^<4>jumpgated\[[0-9]*\]: warn: .*policy rule' "$JG_GW_LOG" &&
	jg_ok "warn lines start with <4>" || jg_notok "warn lines start with <4>"
n=$(grep -c '^jumpgated\[' "$JG_GW_LOG" || true)
[ "$n" = 0 ] && jg_ok "no gateway line without a priority" ||
	jg_notok "no gateway line without a priority ($n without)"
jg_gateway_stop || true

# --- JOURNAL_STREAM inherited, stderr elsewhere: no prefix ----------------------
: >"$JG_T/other.log"
JOURNAL_STREAM=$(devino "$JG_T/other.log") "$JUMPGATED" -f -c "$JG_T/bad.conf" 2>"$JG_T/plain.log" || true
if grep -q '^jumpgated\[[0-9]*\]: error: ' "$JG_T/plain.log" && ! grep -q '^<' "$JG_T/plain.log"; then
	jg_ok "stderr that is not the named stream: no priority prefix"
else
	jg_notok "stderr that is not the named stream: no priority prefix"
	jg_show "$JG_T/plain.log" 5
fi
"$JUMPGATED" -f -c "$JG_T/bad.conf" 2>"$JG_T/none.log" || true
grep -q '^jumpgated\[[0-9]*\]: error: ' "$JG_T/none.log" &&
	jg_ok "no JOURNAL_STREAM: lines as before" || jg_notok "no JOURNAL_STREAM: lines as before"
jg_done
