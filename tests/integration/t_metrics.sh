#!/bin/bash
# /metrics in the Prometheus text format, checked by the real promtool after real
# operations: over mutual TLS (policy action admin) and on the plain-HTTP
# metrics_listen, with curl and no certificate, which also serves /healthz for load
# balancers (200 while serving, 503 while draining).  The counters agree with
# what the test did: execs ok and failed, a policy denial, a refused request, a
# failed TLS handshake, an onward connection set up.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_require promtool
jg_init_pki
# The metrics port can be taken meanwhile too (jg_gateway_start retries only the
# TLS port): a few tries with a new one each.
for try in 1 2 3; do
	MPORT=$(jg_free_port)
	JG_CONF_EXTRA="metrics_listen = \"127.0.0.1:$MPORT\";
policy = (
  { name = \"no-reset\"; actions = [ \"reset\" ]; allow = false; },
  { name = \"tests\"; allow = true; }
);"
	jg_gateway_start && break
	[ $try = 3 ] && { jg_notok "gateway starts"; jg_done; }
done
jg_ok "gateway starts with metrics_listen = 127.0.0.1:$MPORT"

plain() { curl -sS --max-time 10 "$@"; }

# --- real operations ------------------------------------------------------------
ok=0
for i in 1 2 3; do
	[ "$(jg_exec echo "run $i" </dev/null 2>/dev/null)" = "run $i" ] && ok=$((ok + 1))
done
jg_exec sh -c 'exit 3' </dev/null >/dev/null 2>&1 || true
head -c 50000 /dev/zero | jg_exec cat >/dev/null 2>&1 || true
[ $ok = 3 ] && jg_ok "3 execs ran" || jg_notok "3 execs ran (only $ok)"
code=$(jg_http_code POST /v1/targets/local/reset)
[ "$code" = 403 ] && jg_ok "a reset is denied by policy (403)" || jg_notok "reset denied (got $code)"
code=$(jg_http_code GET /no/such/endpoint)
[ "$code" = 404 ] && jg_ok "an unknown endpoint is refused (404)" || jg_notok "404 (got $code)"
# A TLS handshake with no client certificate fails.
curl -sS --http2 --max-time 5 --cacert "$JG_CA" -o /dev/null "https://127.0.0.1:$JG_PORT/healthz" \
	2>/dev/null && jg_notok "a client without a certificate is refused" ||
	jg_ok "a client without a certificate is refused"

# --- the plain listener, no certificate ---------------------------------------
code=$(plain -D "$JG_T/p.hdr" -o "$JG_T/plain.txt" -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics") || true
if [ "$code" = 200 ] && grep -qi '^content-type: text/plain; version=0.0.4' "$JG_T/p.hdr"; then
	jg_ok "curl without a certificate: GET /metrics on metrics_listen: 200 text/plain; version=0.0.4"
else
	jg_notok "plain GET /metrics: 200 text/plain; version=0.0.4 (got $code)"
	jg_show "$JG_T/p.hdr" 10
fi
if promtool check metrics <"$JG_T/plain.txt" >"$JG_T/promtool.out" 2>&1; then
	jg_ok "promtool check metrics accepts the scrape ($(wc -l <"$JG_T/plain.txt") lines)"
else
	jg_notok "promtool check metrics accepts the scrape"
	jg_show "$JG_T/promtool.out" 30
fi

# val SERIES: the value of the series whose name{labels} is exactly SERIES.
val() { awk -v s="$1" '$1 == s { print $2; exit }' "$JG_T/plain.txt"; }
# atleast SERIES MIN WHAT
atleast() {
	local v
	v=$(val "$1")
	if [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }'; then
		jg_ok "$3: $1 = $v (>= $2)"
	else
		jg_notok "$3: $1 = '${v:-missing}' (want >= $2)"
	fi
}
exactly() {
	local v
	v=$(val "$1")
	[ "$v" = "$2" ] && jg_ok "$3: $1 = $v" || jg_notok "$3: $1 = '${v:-missing}' (want $2)"
}
atleast 'jumpgate_operations_total{action="exec",outcome="ok"}' 4 "execs that ended well"
exactly 'jumpgate_operations_total{action="reset",outcome="denied"}' 1 "the denied reset"
exactly 'jumpgate_policy_denials_total{action="reset"}' 1 "policy denials"
atleast 'jumpgate_operations_total{action="other",outcome="refused"}' 1 "the refused request"
atleast 'jumpgate_operation_duration_seconds_count{action="exec"}' 5 "exec duration histogram"
atleast 'jumpgate_operation_duration_seconds_bucket{action="exec",le="+Inf"}' 5 "exec +Inf bucket"
atleast 'jumpgate_operation_bytes_total{action="exec",direction="in"}' 50000 "exec bytes in"
atleast 'jumpgate_onward_connections_opened_total{result="up"}' 1 "onward connections set up"
atleast 'jumpgate_onward_setup_duration_seconds_count' 1 "onward setup histogram"
exactly 'jumpgate_onward_connections{state="up"}' 1 "the pooled onward connection to local"
atleast 'jumpgate_tls_handshake_failures_total' 1 "the failed handshake"
atleast 'jumpgate_streams_total' 7 "streams"
atleast 'jumpgate_client_bytes_total{direction="in"}' 50000 "client bytes in"
exactly 'jumpgate_routes{state="up"}' 0 "routes (no sites)"

# --- over mutual TLS ------------------------------------------------------------
code=$(jg_curl /metrics -o "$JG_T/tls.txt" -w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 200 ] && promtool check metrics <"$JG_T/tls.txt" >"$JG_T/promtool2.out" 2>&1; then
	jg_ok "GET /metrics over mutual TLS: 200, promtool accepts it"
else
	jg_notok "GET /metrics over mutual TLS: 200 and valid (got $code)"
	jg_show "$JG_T/promtool2.out" 20
fi

# --- what the plain listener does not serve -----------------------------------
code=$(plain -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/v1/stats") || true
[ "$code" = 404 ] && jg_ok "plain /v1/stats: 404 (only /metrics and /healthz)" ||
	jg_notok "plain /v1/stats: 404 (got $code)"
code=$(plain -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics") || true
case $code in 405 | 501) jg_ok "plain POST /metrics refused ($code)" ;;
*) jg_notok "plain POST /metrics refused (got $code)" ;; esac

# --- /healthz for a load balancer ---------------------------------------------
body=$(plain "http://127.0.0.1:$MPORT/healthz") || true
[ "$body" = '{"status":"ok"}' ] && jg_ok "plain GET /healthz: {\"status\":\"ok\"}" ||
	jg_notok "plain GET /healthz: {\"status\":\"ok\"} (got '$body')"
# HAProxy's health check, as docs/operations.md configures it: the TLS port passed
# through as TCP, `option httpchk GET /healthz` on the plain listener.  Its stats
# (CSV) say whether the check passed (UP, L7OK) -- and later, while draining, not.
HAPROXY_UP=0
if command -v haproxy >/dev/null 2>&1; then
	HP=$(jg_free_port)
	SP=$(jg_free_port)
	cat >"$JG_T/haproxy.cfg" <<EOH
global
	maxconn 100
defaults
	timeout connect 2s
	timeout client 10s
	timeout server 10s
listen jumpgate
	mode tcp
	bind 127.0.0.1:$HP
	option httpchk GET /healthz
	http-check expect status 200
	server gw 127.0.0.1:$JG_PORT check port $MPORT inter 200ms fall 1 rise 1
listen stats
	mode http
	bind 127.0.0.1:$SP
	stats enable
	stats uri /st
EOH
	haproxy -db -f "$JG_T/haproxy.cfg" >"$JG_T/haproxy.log" 2>&1 </dev/null &
	jg_track haproxy $!
	# hastate: "STATUS CHECK" of server gw, from the stats CSV.
	hastate() {
		plain "http://127.0.0.1:$SP/st;csv" 2>/dev/null |
			awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") s = i; else if ($i == "check_status") c = i }
				$1 == "jumpgate" && $2 == "gw" { print $s, $c }'
	}
	st=
	deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		st=$(hastate) || true
		[ "$st" = "UP L7OK" ] && break
		sleep 0.2
	done
	if [ "$st" = "UP L7OK" ]; then
		HAPROXY_UP=1
		jg_ok "HAProxy option httpchk GET /healthz on metrics_listen: server UP (L7OK)"
	else
		jg_notok "HAProxy option httpchk: server UP, L7OK (got '$st')"
		jg_show "$JG_T/haproxy.log" 10
	fi
else
	jg_ok "# SKIP haproxy not installed (scripts/install-deps.sh installs it)"
fi

# Draining: an exec still running keeps the gateway up after SIGTERM; /healthz says 503.
jg_exec sleep 4 </dev/null >/dev/null 2>&1 &
EXEC_PID=$!
jg_track exec "$EXEC_PID"
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && ! plain "http://127.0.0.1:$MPORT/metrics" | grep -q '^jumpgate_streams 1$'; do
	sleep 0.1
done
kill -TERM "$JG_GW_PID"
code=000
deadline=$((SECONDS + 5))
while [ $SECONDS -lt $deadline ]; do
	code=$(plain -o "$JG_T/hz.body" -w '%{http_code}' "http://127.0.0.1:$MPORT/healthz") || true
	[ "$code" = 503 ] && break
	sleep 0.1
done
if [ "$code" = 503 ] && grep -q draining "$JG_T/hz.body"; then
	jg_ok "plain /healthz while draining: 503 {\"status\":\"draining\"}"
else
	jg_notok "plain /healthz while draining: 503 (got $code)"
fi
if [ $HAPROXY_UP = 1 ]; then
	deadline=$((SECONDS + 5))
	while [ $SECONDS -lt $deadline ]; do
		st=$(hastate) || true
		case $st in DOWN*) break ;; esac
		sleep 0.1
	done
	case $st in
	"DOWN L7STS") jg_ok "HAProxy marks the draining gateway DOWN (L7STS: the 503)" ;;
	*) jg_notok "HAProxy marks the draining gateway DOWN (got '$st')" ;;
	esac
fi
wait "$EXEC_PID" 2>/dev/null || true
jg_untrack exec
jg_wait_gone "$JG_GW_PID" 15 || jg_notok "gateway exits after the drain"

# --- a bad metrics_listen refuses the start -----------------------------------
JG_PORT=$(jg_free_port)
JG_CONF_EXTRA="metrics_listen = \"127.0.0.1\";" jg_write_config "$JG_T/bad.conf"
if out=$("$JUMPGATED" -f -c "$JG_T/bad.conf" 2>&1); then
	jg_notok "metrics_listen without a port is refused"
else
	printf '%s\n' "$out" | grep -q 'bad.conf:[0-9]*: metrics_listen: "127.0.0.1" is not host:port' &&
		jg_ok "metrics_listen without a port: file:line and what is wrong" ||
		jg_notok "metrics_listen without a port: file:line message (got: $out)"
fi
jg_done
