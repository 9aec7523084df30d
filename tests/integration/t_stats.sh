#!/bin/bash
# GET /healthz and GET /v1/stats: JSON with the documented fields (docs/api.md),
# counting what the test did.  Parsed with grep/sed: jq is not assumed.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

code=$(jg_curl /healthz -D "$JG_T/h.hdr" -o "$JG_T/h.body" -w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 200 ] && tr -d ' \n' <"$JG_T/h.body" | grep -q '"status":"ok"'; then
	jg_ok "GET /healthz: 200 $(tr -d '\n' <"$JG_T/h.body")"
else
	jg_notok "GET /healthz: 200 {\"status\":\"ok\"} (got $code: $(head -c 200 "$JG_T/h.body"))"
fi

ok=0
for i in 1 2 3 4 5; do
	if out=$(jg_exec echo "run $i" </dev/null 2>/dev/null) && [ "$out" = "run $i" ]; then ok=$((ok + 1)); fi
done
jg_exec sh -c 'exit 7' </dev/null >/dev/null 2>&1 || true
head -c 100000 /dev/zero | jg_exec cat >/dev/null 2>&1 || true
[ $ok = 5 ] && jg_ok "5 execs ran" || jg_notok "5 execs ran (only $ok)"

code=$(jg_curl /v1/stats -D "$JG_T/s.hdr" -o "$JG_T/s.body" -w '%{http_code}' 2>/dev/null) || true
json=$(tr -d ' \n\t' <"$JG_T/s.body")
jg_log "stats: $(head -c 1500 "$JG_T/s.body" | tr -d '\n')"
if [ "$code" = 200 ]; then jg_ok "GET /v1/stats: 200"; else jg_notok "GET /v1/stats: 200 (got $code)"; fi
if grep -qi '^content-type: application/json' "$JG_T/s.hdr"; then
	jg_ok "GET /v1/stats: content-type application/json"
else
	jg_notok "GET /v1/stats: content-type application/json"
fi

for key in connections streams operations exec bytes from_clients to_clients agent_links uptime_s current total failed; do
	if printf '%s' "$json" | grep -q "\"$key\":"; then
		jg_ok "stats has \"$key\""
	else
		jg_notok "stats has \"$key\""
	fi
done

# num OBJECT KEY: the number KEY holds inside the first "OBJECT":{...}.
num() {
	printf '%s' "$json" | grep -o "\"$1\":{[^{}]*}" | head -n1 | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2
}
n=$(num exec total)
if [ -n "$n" ] && [ "$n" -ge 7 ]; then
	jg_ok "operations.exec.total counts the execs ($n >= 7)"
else
	jg_notok "operations.exec.total counts the execs (got '${n:-}', want >= 7)"
fi
n=$(num connections total)
if [ -n "$n" ] && [ "$n" -ge 7 ]; then
	jg_ok "connections.total counts the connections ($n >= 7)"
else
	jg_notok "connections.total counts the connections (got '${n:-}', want >= 7)"
fi
n=$(num bytes from_clients)
if [ -n "$n" ] && [ "$n" -ge 100000 ]; then
	jg_ok "bytes.from_clients counts stdin ($n >= 100000)"
else
	jg_notok "bytes.from_clients counts stdin (got '${n:-}', want >= 100000)"
fi
n=$(num bytes to_clients)
if [ -n "$n" ] && [ "$n" -ge 100000 ]; then
	jg_ok "bytes.to_clients counts stdout ($n >= 100000)"
else
	jg_notok "bytes.to_clients counts stdout (got '${n:-}', want >= 100000)"
fi
if printf '%s' "$json" | grep -q '"agent_links":\[{[^]]*"target":"local"'; then
	jg_ok "agent_links lists the local link"
else
	jg_notok "agent_links lists the local link"
fi

code=$(jg_http_code GET /v1/no-such-endpoint)
if [ "$code" = 404 ]; then jg_ok "unknown path: 404"; else jg_notok "unknown path: 404 (got $code)"; fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
