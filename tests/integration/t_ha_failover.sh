#!/bin/bash
# Several gateways without a load balancer: `jumpgate -g A,B` (issue 18).
#  1. A down (nothing listens): every op goes to B; a bad list is a usage error.
#  2. kill -9 of A during loops of exec: each op succeeds or fails with a reason,
#     none hangs, none runs twice (a marker counts the runs); every op started after
#     the kill succeeds through B, the first within 2 s.  `cp --retry` in flight at
#     the kill is copied again through B: all succeed.
#  3. SIGTERM of A (drain) during loops of exec: zero failed ops.
#  4. SIGTERM with a TLS handshake pending: the gateway exits 0 (nothing leaked).
#  5. exec --retry runs again through B after its gateway died, unless its stdin was read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ha.sh"
jg_setup
jg_init_pki

ha_gateway a || { jg_notok "gateway a starts"; jg_done; }
ha_gateway b || { jg_notok "gateway b starts"; jg_done; }
jg_ok "two gateways, same CA and policy: a on $HA_PORT_a, b on $HA_PORT_b"
A=127.0.0.1:$HA_PORT_a
B=127.0.0.1:$HA_PORT_b
dead=127.0.0.1:$(jg_free_port)

# --- 1. the first is down: the second serves, with nothing said on stderr.
rc=0
ha_cli "$dead,$B" exec local -- echo via-b </dev/null >"$JG_T/1.out" 2>"$JG_T/1.err" || rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$JG_T/1.out")" = via-b ] && [ ! -s "$JG_T/1.err" ]; then jg_ok "-g DEAD,B: exec succeeds through B (rc $rc, '$(cat "$JG_T/1.out")')"; else jg_notok "-g DEAD,B: exec succeeds through B (rc $rc, '$(cat "$JG_T/1.out")')"; fi
rc=0
JUMPGATE_GATEWAY="$dead,$B" timeout 30 "$JUMPGATE" --cert "$JG_CERT" --key "$JG_KEY" \
	--ca "$JG_CA" exec local -- echo env </dev/null >"$JG_T/1e.out" 2>"$JG_T/1e.err" || rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$JG_T/1e.out")" = env ]; then jg_ok "JUMPGATE_GATEWAY=DEAD,B: exec succeeds through B (rc $rc)"; else jg_notok "JUMPGATE_GATEWAY=DEAD,B: exec succeeds through B (rc $rc)"; fi
rc=0
ha_cli "$dead,$dead" exec local -- true </dev/null 2>"$JG_T/1d.err" || rc=$?
if [ "$rc" = 255 ] && grep -q "cannot connect to gateway" "$JG_T/1d.err"; then jg_ok "-g DEAD,DEAD: 255 with a reason ($(head -n1 "$JG_T/1d.err"))"; else jg_notok "-g DEAD,DEAD: 255 with a reason ($(head -n1 "$JG_T/1d.err"))"; fi
rc=0
ha_cli "$A,unix:/nonexistent" exec local -- true </dev/null 2>"$JG_T/1u.err" || rc=$?
if [ "$rc" = 2 ] && grep -q "mixes unix" "$JG_T/1u.err"; then jg_ok "a list mixing TCP and unix: is a usage error ($(head -n1 "$JG_T/1u.err"))"; else jg_notok "a list mixing TCP and unix: is a usage error ($(head -n1 "$JG_T/1u.err"))"; fi
rc=0
ha_cli "$A,127.0.0.1:99999" exec local -- true </dev/null 2>"$JG_T/1b.err" || rc=$?
if [ "$rc" = 2 ] && grep -q "bad gateway address '127.0.0.1:99999'" "$JG_T/1b.err"; then jg_ok "a bad address in the list is a usage error ($(head -n1 "$JG_T/1b.err"))"; else jg_notok "a bad address in the list is a usage error ($(head -n1 "$JG_T/1b.err"))"; fi

# --- 2. kill -9 of a during loops of exec and cp --retry.
ha_kill_during_loops "$A,$B" 3 "-g A,B"

# --- 3. SIGTERM of a gateway during loops of exec: nothing fails.
ha_gateway c || { jg_notok "gateway c starts"; jg_done; }
C=127.0.0.1:$HA_PORT_c
ha_start_loops t "$C,$B" 3 12
ha_wait_ops t1 4 60 || jg_notok "the exec loop runs"
ha_signal c TERM
term_ms=$HA_EVENT_MS
ha_wait_loops t
HA_ZERO_FAILED=1 ha_judge_exec t "$term_ms" "SIGTERM of c during exec loops"
ha_reap c
jg_check "the drained gateway exited 0 (status $HA_ST)" [ "$HA_ST" = 0 ]

# --- 4. a drain with a TLS handshake pending (a health check, a controller connecting
# as the gateway stops): the connection is closed and the gateway still exits 0 -- under
# the sanitizers, with nothing left behind (its lingering close was leaked).
ha_gateway d || { jg_notok "gateway d starts"; jg_done; }
exec 7<>"/dev/tcp/127.0.0.1/$HA_PORT_d"
sleep 0.3
ha_signal d TERM
ha_reap d
exec 7<&-
jg_check "a gateway drained with a handshake pending exits 0 (status $HA_ST)" [ "$HA_ST" = 0 ]

# --- 5. exec --retry: run again through B after its gateway was lost -- but not when
# its stdin was already read and sent (that input is gone: rsync through rsh).
# retry_case NAME STDIN: exec --retry through E,B, E killed (-9) while it runs; sets RC,
# and RUNS (how many times the command ran).
retry_case() {
	local name=$1 input=$2 pid
	ha_gateway "$name" || { jg_notok "gateway $name starts"; jg_done; }
	: >"$JG_T/marker"
	(
		rc=0
		printf '%s' "$input" | ha_cli "127.0.0.1:$(eval echo "\$HA_PORT_$name"),$B" exec --retry \
			local -- sh -c "cat >/dev/null; echo ran >>'$JG_T/marker'; sleep 1; echo done" \
			>"$JG_T/$name.out" 2>"$JG_T/$name.err" || rc=$?
		echo $rc >"$JG_T/$name.rc"
	) &
	pid=$!
	jg_track "op-$name" $pid
	local deadline=$((SECONDS + 20))
	until [ -s "$JG_T/marker" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
	ha_signal "$name" KILL
	ha_reap "$name"
	jg_wait_gone "$pid" 30 || true
	wait "$pid" 2>/dev/null || true
	jg_untrack "op-$name"
	RC=$(cat "$JG_T/$name.rc" 2>/dev/null || echo none)
	RUNS=$(grep -c ran "$JG_T/marker" || true)
}
retry_case e ""
if [ "$RC" = 0 ] && [ "$RUNS" = 2 ] && grep -q "running the command again" "$JG_T/e.err"; then
	jg_ok "exec --retry, no stdin: ran again through B after the kill (ran $RUNS times, rc 0)"
else
	jg_notok "exec --retry, no stdin: ran again through B (rc $RC, ran $RUNS times)"
	jg_show "$JG_T/e.err" 5
fi
retry_case f "some input"
if [ "$RC" = 255 ] && [ "$RUNS" = 1 ] && grep -q "its stdin was already read" "$JG_T/f.err"; then
	jg_ok "exec --retry with stdin read: not run again, 255 with the reason (ran $RUNS time)"
else
	jg_notok "exec --retry with stdin read: not run again (rc $RC, ran $RUNS times)"
	jg_show "$JG_T/f.err" 5
fi

jg_done
