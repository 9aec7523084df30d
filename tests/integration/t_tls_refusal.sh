#!/bin/bash
# Mutual TLS: a client with no certificate, or with one from a CA the gateway
# does not trust, is refused, and the user is told why (jumpgate: exit 255,
# one line naming the certificate problem).  A gateway certificate the client
# does not trust is refused by the client.  The gateway keeps serving.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_foreign_pki "$JG_T/foreign"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"
url=https://127.0.0.1:$JG_PORT

# One line on stderr that mentions the certificate.
one_line_about_cert() {
	[ "$(wc -l <"$1")" -le 1 ] && grep -qi 'certificate' "$1"
}

# curl with no client certificate: the handshake or the first read fails.
set +e
code=$(curl -sS --http2 --max-time 20 --cacert "$JG_CA" -o /dev/null -w '%{http_code}' \
	"$url/healthz" 2>"$JG_T/curl1.err")
rc=$?
set -e
if [ "$rc" != 0 ] && [ "$code" != 200 ]; then
	jg_ok "curl without a client certificate refused (curl exit $rc: $(head -n1 "$JG_T/curl1.err"))"
else
	jg_notok "curl without a client certificate refused (curl exit $rc, status $code)"
fi

# curl with a certificate from another CA.
set +e
code=$(curl -sS --http2 --max-time 20 --cacert "$JG_CA" --cert "$JG_T/foreign/client.pem" \
	--key "$JG_T/foreign/client.key" -o /dev/null -w '%{http_code}' "$url/healthz" 2>"$JG_T/curl2.err")
rc=$?
set -e
if [ "$rc" != 0 ] && [ "$code" != 200 ]; then
	jg_ok "curl with a foreign CA's client certificate refused (curl exit $rc: $(head -n1 "$JG_T/curl2.err"))"
else
	jg_notok "curl with a foreign CA's client certificate refused (curl exit $rc, status $code)"
fi

# jumpgate with a certificate from another CA.
set +e
timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_T/foreign/client.pem" \
	--key "$JG_T/foreign/client.key" --ca "$JG_CA" exec local -- echo should-not-run \
	</dev/null >"$JG_T/j1.out" 2>"$JG_T/j1.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ ! -s "$JG_T/j1.out" ] && one_line_about_cert "$JG_T/j1.err"; then
	jg_ok "jumpgate with a foreign CA's certificate: 255, '$(head -n1 "$JG_T/j1.err")'"
else
	jg_notok "jumpgate with a foreign CA's certificate: 255 and one line about the certificate (exit $rc)"
	jg_show "$JG_T/j1.err" 5
fi

# jumpgate with no client certificate at all: an empty JUMPGATE_HOME and
# no --cert: it cannot even present one, and says which file is missing.
mkdir -p "$JG_T/empty"
set +e
JUMPGATE_HOME=$JG_T/empty timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --ca "$JG_CA" \
	exec local -- echo should-not-run </dev/null >"$JG_T/j2.out" 2>"$JG_T/j2.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ ! -s "$JG_T/j2.out" ] && [ "$(wc -l <"$JG_T/j2.err")" -le 1 ] &&
	grep -qiE 'certificate|client\.pem' "$JG_T/j2.err"; then
	jg_ok "jumpgate with no client certificate: 255, '$(head -n1 "$JG_T/j2.err")'"
else
	jg_notok "jumpgate with no client certificate: 255 and one line naming it (exit $rc)"
	jg_show "$JG_T/j2.err" 5
fi

# --cert naming a file that does not exist.
set +e
timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_T/nonexistent.pem" --key "$JG_KEY" \
	--ca "$JG_CA" exec local -- echo should-not-run </dev/null >"$JG_T/j3.out" 2>"$JG_T/j3.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ "$(wc -l <"$JG_T/j3.err")" -le 1 ] && grep -q 'nonexistent.pem' "$JG_T/j3.err"; then
	jg_ok "jumpgate --cert missing file: 255, '$(head -n1 "$JG_T/j3.err")'"
else
	jg_notok "jumpgate --cert missing file: 255 and one line naming the file (exit $rc)"
	jg_show "$JG_T/j3.err" 5
fi

# The client does not trust a gateway whose certificate another CA signed.
set +e
timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" \
	--ca "$JG_T/foreign/ca.pem" exec local -- echo should-not-run \
	</dev/null >"$JG_T/j4.out" 2>"$JG_T/j4.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ ! -s "$JG_T/j4.out" ] && one_line_about_cert "$JG_T/j4.err"; then
	jg_ok "jumpgate refuses an untrusted gateway certificate: 255, '$(head -n1 "$JG_T/j4.err")'"
else
	jg_notok "jumpgate refuses an untrusted gateway certificate: 255 and one line about the certificate (exit $rc)"
	jg_show "$JG_T/j4.err" 5
fi

# Nothing listening: a clear message, 255.
dead=$(jg_free_port)
set +e
timeout 60 "$JUMPGATE" -g "127.0.0.1:$dead" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" \
	exec local -- true </dev/null >/dev/null 2>"$JG_T/j5.err"
rc=$?
set -e
if [ "$rc" = 255 ] && [ "$(wc -l <"$JG_T/j5.err")" -le 1 ] && grep -qi 'refused' "$JG_T/j5.err"; then
	jg_ok "connection refused: 255, '$(head -n1 "$JG_T/j5.err")'"
else
	jg_notok "connection refused: 255 and one line saying so (exit $rc)"
	jg_show "$JG_T/j5.err" 5
fi

# The gateway still serves the rightful client.
if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if out=$(jg_exec echo still-here </dev/null 2>"$JG_T/ok.err") && [ "$out" = still-here ]; then
	jg_ok "gateway still runs execs for the trusted client"
else
	jg_notok "gateway still runs execs for the trusted client"
	jg_show "$JG_T/ok.err" 5
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
