#!/bin/bash
# Debian's HAProxy in TCP mode in front of two gateways, configured by docs/haproxy.cfg
# itself (addresses and paths replaced), health-checked on /healthz (issue 18):
#  1. both gateways are up for HAProxy's checks; an exec through HAProxy works;
#  2. kill -9 of one during loops of exec (and cp --retry): each op succeeds or fails
#     with a reason, none hangs, none runs twice; every op started after the kill
#     succeeds, the first within 2 s; HAProxy's check marks the dead one DOWN;
#  3. SIGTERM of the other (a third took the dead one's place): zero failed ops, and
#     the draining gateway is marked DOWN by its 503 /healthz.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ha.sh"
jg_setup
jg_require haproxy
jg_init_pki

ha_gateway a || { jg_notok "gateway a starts"; jg_done; }
ha_gateway b || { jg_notok "gateway b starts"; jg_done; }
jg_mkcert "$JG_PKI" haproxy-check "haproxy health check" \
	"subjectAltName=URI:jumpgate:user:haproxy-check" "extendedKeyUsage=clientAuth"
cat "$JG_PKI/haproxy-check.pem" "$JG_PKI/haproxy-check.key" >"$JG_T/check.pem"

# haproxy_start: HAProxy on a free port in front of $1 and $2 (ports), from the
# documented configuration; HA_LB is its address, HA_LB_LOG its log.
haproxy_start() {
	local attempt
	for attempt in 1 2 3; do
		HA_LB=127.0.0.1:$(jg_free_port)
		sed -e "s|127.0.0.1:4443|$HA_LB|; s|10.0.0.11:4443|127.0.0.1:$1|" \
			-e "s|10.0.0.12:4443|127.0.0.1:$2|" \
			-e "s|/etc/jumpgate/ca.pem|$JG_CA|; s|/etc/jumpgate/haproxy-check.pem|$JG_T/check.pem|" \
			"$srcdir/docs/haproxy.cfg" >"$JG_T/haproxy.cfg"
		HA_LB_LOG=$JG_T/haproxy-$attempt.log
		haproxy -db -f "$JG_T/haproxy.cfg" >"$HA_LB_LOG" 2>&1 </dev/null &
		HA_LB_PID=$!
		jg_track haproxy "$HA_LB_PID"
		sleep 0.5
		if jg_alive "$HA_LB_PID"; then return 0; fi
		wait "$HA_LB_PID" 2>/dev/null || true
		jg_untrack haproxy
		grep -qi 'address already in use\|cannot bind' "$HA_LB_LOG" || break
	done
	jg_show "$HA_LB_LOG" 20
	return 1
}

# ha_wait_log PATTERN SECONDS: wait until HAProxy's log matches PATTERN.
ha_wait_log() {
	local deadline=$((SECONDS + $2))
	until grep -q "$1" "$HA_LB_LOG"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# --- 1. HAProxy up, both gateways healthy.
haproxy_start "$HA_PORT_a" "$HA_PORT_b" || { jg_notok "haproxy starts"; jg_done; }
jg_ok "haproxy on $HA_LB in front of a ($HA_PORT_a) and b ($HA_PORT_b), docs/haproxy.cfg"
sleep 3 # three rounds of health checks
if grep -q "is DOWN" "$HA_LB_LOG"; then
	jg_notok "the /healthz checks pass on both gateways"
	jg_show "$HA_LB_LOG" 10
else
	jg_ok "the /healthz checks pass on both gateways (none DOWN after 3 s)"
fi
rc=0
ha_cli "$HA_LB" exec local -- echo through-haproxy </dev/null >"$JG_T/1.out" 2>"$JG_T/1.err" || rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$JG_T/1.out")" = through-haproxy ]; then
	jg_ok "exec through haproxy"
else
	jg_notok "exec through haproxy (rc $rc)"
	jg_show "$JG_T/1.err" 5
fi

# --- 2. kill -9 of a during loops of exec and cp --retry.
ha_kill_during_loops "$HA_LB" 4 haproxy
if ha_wait_log "gw1 is DOWN" 5; then
	jg_ok "haproxy's check marked the killed gateway DOWN"
else
	jg_notok "haproxy's check marked the killed gateway DOWN"
	jg_show "$HA_LB_LOG" 10
fi

# --- 3. a third gateway in a's place; SIGTERM of b during exec loops.
ha_gateway c || { jg_notok "gateway c starts"; jg_done; }
jg_term_wait "$HA_LB_PID" haproxy
haproxy_start "$HA_PORT_c" "$HA_PORT_b" || { jg_notok "haproxy restarts"; jg_done; }
sleep 3
ha_start_loops t "$HA_LB" 4 12
ha_wait_ops t1 4 60 || jg_notok "the exec loop runs"
ha_signal b TERM
term_ms=$HA_EVENT_MS
ha_wait_loops t
HA_ZERO_FAILED=1 ha_judge_exec t "$term_ms" "haproxy, SIGTERM of b during exec loops"
if ha_wait_log "gw2 is DOWN" 5; then
	jg_ok "haproxy's check marked the draining gateway DOWN"
else
	jg_notok "haproxy's check marked the draining gateway DOWN"
	jg_show "$HA_LB_LOG" 10
fi
ha_reap b
jg_check "the drained gateway exited 0 (status $HA_ST)" [ "$HA_ST" = 0 ]

jg_done
