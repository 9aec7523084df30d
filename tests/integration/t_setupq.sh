#!/bin/bash
# Onward connection setups are limited (issue 13 M1): a fan-out naming 40
# distinct ssh targets whose host never answers starts at most
# max_onward_setups_per_identity ssh processes at a time, the rest wait in
# order; another identity still gets its own setups at once.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require python3
jg_require ssh
jg_init_pki
SOCK=$JG_T/jg.sock
# A TCP listener that accepts and never says a word: ssh waits for its banner.
cat >"$JG_T/silent.py" <<'PY'
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(512)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
python3 "$JG_T/silent.py" "$JG_T/silent.port" </dev/null >"$JG_T/silent.err" 2>&1 &
jg_track silent $!
for i in $(seq 1 100); do [ -s "$JG_T/silent.port" ] && break; sleep 0.05; done
PORT=$(cat "$JG_T/silent.port")

JG_CONF_EXTRA="unix_socket = \"$SOCK\";
max_onward_setups = 8;
max_onward_setups_per_identity = 4;
pool = { connect_timeout = 2.0; };"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
GW=$JG_GW_PID
printf 'x' >"$JG_T/small"
targets=
for i in $(seq 1 40); do targets+="${targets:+,}ssh%3Au$i%40127.0.0.1%3A$PORT"; done
JG_CURL_TIMEOUT=120 jg_curl "/v1/files$JG_T/fan.out?targets=$targets" -T "$JG_T/small" \
	-o "$JG_T/fan.json" -w '%{http_code}' >"$JG_T/fan.code" 2>"$JG_T/fan.err" &
fan=$!
jg_track fan "$fan"
# Sample the gateway's ssh children while the fan-out runs.
max=0
during=
deadline=$((SECONDS + 100))
while jg_alive "$fan" && [ $SECONDS -lt $deadline ]; do
	n=0
	for p in $(jg_child_pids "$GW"); do [ "$(jg_comm "$p")" != ssh ] || n=$((n + 1)); done
	[ "$n" -le "$max" ] || max=$n
	if [ -z "$during" ] && [ "$n" -gt 0 ]; then
		# Another identity (unix:<user> on the socket) while the fan-out waits.
		t0=$(date +%s%N)
		during=$(timeout 20 "$JUMPGATE" -g "unix:$SOCK" exec local -- echo other </dev/null 2>&1) || true
		took=$((($(date +%s%N) - t0) / 1000000))
	fi
	sleep 0.1
done
jg_wait_gone "$fan" 10 || kill "$fan" 2>/dev/null
jg_untrack fan
jg_log "fan-out: HTTP $(cat "$JG_T/fan.code"), at most $max ssh processes at once; other identity: $during in ${took:-?} ms"
# A setup that timed out frees its place when its ssh is told to stop; the process
# may be seen a moment longer beside its successor: 4 running, and at most 2 dying.
if [ "$max" -ge 1 ] && [ "$max" -le 6 ]; then
	jg_ok "a fan-out to 40 silent ssh targets: at most $max ssh processes at once (per identity 4, plus those exiting)"
else
	jg_notok "a fan-out to 40 silent ssh targets: at most 4 ssh setups (+2 exiting) at once ($max)"
fi
if [ "$during" = other ] && [ "${took:-99999}" -lt 3000 ]; then
	jg_ok "another identity's exec during the fan-out: served in $took ms"
else
	jg_notok "another identity's exec during the fan-out: served at once ($during, ${took:-?} ms)"
fi
n=$(grep -o '"status": *[0-9]*' "$JG_T/fan.json" | grep -vc '"status": *20[01]' || true)
if [ "$(cat "$JG_T/fan.code")" != 000 ] && grep -q "cannot reach ssh:u40@127.0.0.1:$PORT within 2 s" "$JG_T/fan.json"; then
	jg_ok "every target got its answer, the last one too (each failed after its own 2 s)"
else
	jg_notok "every target got its answer ($(head -c 300 "$JG_T/fan.json"))"
fi
grep -q "onward connection setups: [0-9]* running, [0-9]* waiting (max_onward_setups 8, per identity 4)" "$JG_GW_LOG" &&
	jg_ok "setups waiting: logged" || jg_notok "setups waiting: logged"
if [ "$(jg_exec echo after </dev/null 2>&1)" = after ]; then
	jg_ok "after the fan-out: an exec works"
else
	jg_notok "after the fan-out: an exec works"
fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
