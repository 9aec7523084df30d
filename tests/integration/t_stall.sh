#!/bin/bash
# A gateway that stops answering (SIGSTOP: the process is there, its sockets
# accept, nothing moves).  The client must not wait forever: keepalive PINGs and
# --timeout end an exec or a cp with one line; the connect and TLS handshake are
# bounded by JUMPGATE_CONNECT_TIMEOUT; a signal that cannot be passed on, or a
# second one, ends the client at once with 128+N.  A quiet but healthy gateway
# answers the PINGs, so a long silent command is not cut.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
SOCK=$JG_T/jg.sock
JG_CONF_EXTRA="unix_socket = \"$SOCK\";"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
GW=$JG_GW_PID
D=$JG_T/data
mkdir -p "$D"
head -c 100000 /dev/urandom >"$D/file"

# bg NAME ARGS...: the CLI in the background, its pid in BG (tracked as NAME).
bg() {
	local name=$1
	shift
	"$JUMPGATE" "$@" </dev/null >"$JG_T/$name.out" 2>"$JG_T/$name.err" &
	BG=$!
	jg_track "$name" "$BG"
}
# reap NAME PID LIMIT: wait (bounded) for PID; RC its status (KILLed and 999 when late),
# SECS how long it took.
reap() {
	local t0=$SECONDS
	if jg_wait_gone "$2" "$3"; then
		RC=0
		wait "$2" 2>/dev/null || RC=$?
	else
		kill -KILL "$2" 2>/dev/null || true
		wait "$2" 2>/dev/null || true
		RC=999
	fi
	SECS=$((SECONDS - t0))
	jg_untrack "$1"
}
TLS=(-g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")
stop_gw() { kill -STOP "$GW"; }
cont_gw() { kill -CONT "$GW"; }

# --- a quiet command on a healthy gateway: PINGs answered, not cut -------------------
bg quiet "${TLS[@]}" --timeout 2 exec local -- sh -c 'sleep 5; echo done'
reap quiet "$BG" 30
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/quiet.out")" = done ]; then
	jg_ok "a command silent for 5 s with --timeout 2: finishes (keepalive answered)"
else
	jg_notok "a command silent for 5 s with --timeout 2 finishes (rc $RC: $(cat "$JG_T/quiet.err"))"
fi

# --- exec running when the gateway stops --------------------------------------------
bg stalled "${TLS[@]}" --timeout 3 exec local -- sleep 60
sleep 1
stop_gw
reap stalled "$BG" 20
cont_gw
err=$(cat "$JG_T/stalled.err")
if [ "$RC" = 255 ] && [ "$SECS" -le 8 ] &&
	printf '%s' "$err" | grep -q "has not answered for [0-9]* s (no reply to keepalive PINGs): giving up"; then
	jg_ok "exec, gateway stopped: gives up after --timeout 3 ($SECS s, exit 255): $err"
else
	jg_notok "exec, gateway stopped: gives up after --timeout (rc $RC after $SECS s: $err)"
fi

# --- cp over the Unix socket to a stopped gateway (connect succeeds, no answer) ------
stop_gw
bg cpstall -g "unix:$SOCK" --timeout 3 cp "$D/file" "local:$D/copy"
reap cpstall "$BG" 20
cont_gw
err=$(cat "$JG_T/cpstall.err")
if [ "$RC" != 999 ] && [ "$RC" != 0 ] && [ "$SECS" -le 8 ] && printf '%s' "$err" | grep -q "has not answered for"; then
	jg_ok "cp, gateway stopped: gives up after --timeout 3 ($SECS s, exit $RC)"
else
	jg_notok "cp, gateway stopped: gives up after --timeout (rc $RC after $SECS s: $err)"
fi

# --- the TLS handshake with a stopped gateway ----------------------------------------
stop_gw
JUMPGATE_CONNECT_TIMEOUT=2 bg hsstall "${TLS[@]}" exec local -- true
reap hsstall "$BG" 20
cont_gw
err=$(cat "$JG_T/hsstall.err")
if [ "$RC" = 255 ] && [ "$SECS" -le 5 ] && printf '%s' "$err" | grep -q "timed out after 2 s"; then
	jg_ok "TLS handshake with a stopped gateway: bounded by JUMPGATE_CONNECT_TIMEOUT ($err)"
else
	jg_notok "TLS handshake with a stopped gateway: bounded (rc $RC after $SECS s: $err)"
fi

# --- SIGTERM while the gateway is stopped: cannot be passed on -> 143 ---------------
bg term "${TLS[@]}" exec local -- sleep 60
sleep 1
stop_gw
sleep 0.5
kill -TERM "$BG"
reap term "$BG" 20
cont_gw
if [ "$RC" = 143 ] && [ "$SECS" -le 8 ]; then
	jg_ok "SIGTERM that cannot reach the remote program: exit 143 after $SECS s ($(cat "$JG_T/term.err"))"
else
	jg_notok "SIGTERM that cannot reach the remote program: exit 143 soon (rc $RC after $SECS s: $(cat "$JG_T/term.err"))"
fi

# --- a second SIGTERM: exit at once ---------------------------------------------------
bg term2 "${TLS[@]}" exec local -- sleep 60
sleep 1
stop_gw
sleep 0.5
kill -TERM "$BG"
sleep 0.5
kill -TERM "$BG"
reap term2 "$BG" 20
cont_gw
if [ "$RC" = 143 ] && [ "$SECS" -le 3 ]; then
	jg_ok "a second SIGTERM: exit 143 at once ($SECS s)"
else
	jg_notok "a second SIGTERM: exit 143 at once (rc $RC after $SECS s: $(cat "$JG_T/term2.err"))"
fi

# --- the gateway serves on after being stopped and continued ---------------------------
if [ "$(jg_exec echo alive </dev/null 2>&1)" = alive ]; then
	jg_ok "the gateway, continued, still serves"
else
	jg_notok "the gateway, continued, still serves"
fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi

# --- the gateway's own loop stopped longer than the agents' keepalive ----------------
# Its silence was its own: the links (and the exec on one) must survive.
JG_CONF_EXTRA="pool = { keepalive_interval = 1.0; };"
jg_gateway_start || { jg_notok "gateway starts with keepalive_interval 1"; jg_done; }
GW=$JG_GW_PID
TLS=(-g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")
bg selfstall "${TLS[@]}" --timeout 0 exec local -- sh -c 'sleep 6; echo done'
sleep 1.5
stop_gw
sleep 4
cont_gw
reap selfstall "$BG" 30
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/selfstall.out")" = done ] &&
	! grep -q "no answer from the agent" "$JG_GW_LOG" &&
	grep -q "the gateway's own event loop was [0-9]* ms late; keepalive and connect deadlines restart" "$JG_GW_LOG"; then
	jg_ok "the gateway stopped 4 s (keepalive 1 s): links kept, the exec finishes"
else
	jg_notok "the gateway stopped 4 s (keepalive 1 s): links kept, the exec finishes (rc $RC: $(cat "$JG_T/selfstall.err"))"
	grep "keepalive\|late" "$JG_GW_LOG" | head -3 | while IFS= read -r l; do jg_log "$l"; done
fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
