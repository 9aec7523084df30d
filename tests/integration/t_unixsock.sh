#!/bin/bash
# The Unix-socket listener: HTTP/2 without TLS (h2c, prior knowledge), the
# caller's identity "unix:<user>" from SO_PEERCRED, the file mode 0660, a stale
# socket replaced, any other file refused, the file removed at exit.  The
# jumpgate CLI over it (-g unix:PATH, JUMPGATE_GATEWAY=unix:PATH): exec, cp and
# reset with no certificate anywhere, audited as unix:<user>; a policy that
# refuses unix:* identities gives the CLI a 403 while TLS clients still pass.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
SOCK=$JG_T/jg.sock
USER_NAME=$(id -un)
JG_CONF_EXTRA="unix_socket = \"$SOCK\";
audit = \"$JG_T/audit.log\";"

# ucurl PATH CURL-ARGS...: h2c over the socket.
ucurl() {
	local path=$1
	shift
	curl -sS --http2-prior-knowledge --max-time 20 --unix-socket "$SOCK" "$@" "http://localhost$path"
}

jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts with unix_socket"

if [ -S "$SOCK" ]; then jg_ok "socket file exists"; else jg_notok "socket file exists"; fi
mode=$(stat -c %a "$SOCK" 2>/dev/null || echo none)
if [ "$mode" = 660 ]; then jg_ok "socket mode 0660"; else jg_notok "socket mode 0660 (got $mode)"; fi

code=$(ucurl /healthz -o "$JG_T/h.body" -w '%{http_code} %{http_version}' 2>"$JG_T/h.err") || true
if [ "$code" = "200 2" ] && tr -d ' \n' <"$JG_T/h.body" | grep -q '"status":"ok"'; then
	jg_ok "curl --http2-prior-knowledge --unix-socket /healthz: 200 over HTTP/2"
else
	jg_notok "curl --unix-socket /healthz: 200 over HTTP/2 (got '$code': $(head -c 200 "$JG_T/h.body" "$JG_T/h.err"))"
fi

code=$(ucurl /v1/stats -o "$JG_T/s.body" -w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 200 ] && grep -q '"connections"' "$JG_T/s.body"; then
	jg_ok "GET /v1/stats over the socket: 200"
else
	jg_notok "GET /v1/stats over the socket: 200 (got $code: $(head -c 200 "$JG_T/s.body"))"
fi

if grep -q "identity \"unix:$USER_NAME\"" "$JG_GW_LOG"; then
	jg_ok "identity unix:$USER_NAME in the log"
else
	jg_notok "identity unix:$USER_NAME in the log"
fi

# --- the CLI over the socket ------------------------------------------------
# No certificate, and nowhere to find one: a unix: gateway needs none.
ucli() {
	timeout 60 env -u HOME JUMPGATE_HOME="$JG_T/no-such-home" "$JUMPGATE" -g "unix:$SOCK" "$@"
}
out=$(printf 'through the socket\n' | ucli exec local -- sh -c 'cat; echo "argv: $0 $1"' x 'a b' 2>"$JG_T/ux.err") && rc=0 || rc=$?
if [ $rc = 0 ] && [ "$out" = "through the socket
argv: x a b" ]; then
	jg_ok "jumpgate -g unix:PATH exec: stdin, stdout and argv through the socket, no certificate"
else
	jg_notok "jumpgate -g unix:PATH exec (rc $rc, out '$out', err $(head -c 300 "$JG_T/ux.err"))"
fi
out=$(timeout 60 env JUMPGATE_GATEWAY="unix:$SOCK" JUMPGATE_HOME="$JG_T/no-such-home" \
	"$JUMPGATE" exec local -- sh -c 'echo out; echo err >&2; exit 7' 2>"$JG_T/ux2.err") && rc=0 || rc=$?
if [ $rc = 7 ] && [ "$out" = out ] && [ "$(cat "$JG_T/ux2.err")" = err ]; then
	jg_ok "JUMPGATE_GATEWAY=unix:PATH: stdout, stderr and exit status 7"
else
	jg_notok "JUMPGATE_GATEWAY=unix:PATH (rc $rc, out '$out', err $(head -c 300 "$JG_T/ux2.err"))"
fi
if grep -q "\"identity\":\"unix:$USER_NAME\",\"peer\":\"unix pid [0-9]*\",\"target\":\"local\",.*\"action\":\"exec\"" "$JG_T/audit.log"; then
	jg_ok "the CLI's exec is audited as unix:$USER_NAME from a unix pid"
else
	jg_notok "the CLI's exec is audited as unix:$USER_NAME ($(tail -n 2 "$JG_T/audit.log"))"
fi

head -c 300000 /dev/urandom >"$JG_T/up.bin"
mkdir -p "$JG_T/remote"
if ucli cp "$JG_T/up.bin" "local:$JG_T/remote/up.bin" >"$JG_T/cp.out" 2>&1 &&
	ucli cp "local:$JG_T/remote/up.bin" "$JG_T/down.bin" >>"$JG_T/cp.out" 2>&1 &&
	cmp -s "$JG_T/up.bin" "$JG_T/remote/up.bin" && cmp -s "$JG_T/up.bin" "$JG_T/down.bin"; then
	jg_ok "jumpgate -g unix:PATH cp: 300 KB up and back down, byte-exact"
else
	jg_notok "jumpgate -g unix:PATH cp up and down ($(head -c 300 "$JG_T/cp.out"))"
fi

out=$(ucli reset local 2>&1) && rc=0 || rc=$?
if [ $rc = 0 ] && printf '%s' "$out" | grep -q "^local: connection closed"; then
	jg_ok "jumpgate -g unix:PATH reset: '$out'"
else
	jg_notok "jumpgate -g unix:PATH reset (rc $rc: $out)"
fi

out=$(timeout 20 env JUMPGATE_HOME="$JG_T/no-such-home" "$JUMPGATE" -g "unix:$JG_T/nothing.sock" exec local -- true 2>&1) && rc=0 || rc=$?
if [ $rc = 255 ] && printf '%s' "$out" | grep -q "cannot connect to gateway unix:$JG_T/nothing.sock: No such file or directory"; then
	jg_ok "no socket at the path: exit 255, '$out'"
else
	jg_notok "no socket at the path: exit 255 with the reason (rc $rc: $out)"
fi
out=$(timeout 20 "$JUMPGATE" -g "unix:" exec local -- true 2>&1) && rc=0 || rc=$?
if [ $rc = 2 ] && printf '%s' "$out" | grep -q "bad gateway address 'unix:'"; then
	jg_ok "-g unix: without a path: usage error"
else
	jg_notok "-g unix: without a path: usage error (rc $rc: $out)"
fi

# TLS on the TCP port is unaffected.
if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "TLS listener still serves"; else jg_notok "TLS listener still serves"; fi

# Something that is not HTTP/2 is a protocol error: closed, gateway fine.
if command -v timeout >/dev/null && command -v python3 >/dev/null; then
	python3 - "$SOCK" <<'PY' >/dev/null 2>&1 || true
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    s.recv(100)
except Exception:
    pass
PY
	if [ "$(ucurl /healthz -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ]; then
		jg_ok "HTTP/1.1 on the socket: refused, the socket keeps serving"
	else
		jg_notok "HTTP/1.1 on the socket: refused, the socket keeps serving"
	fi
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
if [ ! -e "$SOCK" ]; then jg_ok "socket file removed at exit"; else jg_notok "socket file removed at exit"; fi

# --- a policy that refuses local users --------------------------------------
JG_CONF_EXTRA="unix_socket = \"$SOCK\";
policy = (
  { name = \"no-local-users\"; identities = [ \"unix:*\" ]; allow = false; },
  { name = \"certificates\"; allow = true; }
);"
if jg_gateway_start; then
	out=$(ucli exec local -- touch "$JG_T/spawned" 2>&1) && rc=0 || rc=$?
	if [ $rc = 255 ] && printf '%s' "$out" | grep -q "no-local-users" && [ ! -e "$JG_T/spawned" ]; then
		jg_ok "unix:$USER_NAME refused by policy: exit 255, '$out', nothing spawned"
	else
		jg_notok "unix:$USER_NAME refused by policy (rc $rc: $out)"
	fi
	code=$(ucurl /v1/targets/local/reset -X POST -o "$JG_T/deny.body" -w '%{http_code}' 2>/dev/null) || true
	if [ "$code" = 403 ] && grep -q "no-local-users" "$JG_T/deny.body"; then
		jg_ok "unix:$USER_NAME refused by policy: 403 naming the rule"
	else
		jg_notok "unix:$USER_NAME refused: 403 naming the rule (got $code: $(head -c 200 "$JG_T/deny.body"))"
	fi
	out=$(ucli reset local 2>&1) && rc=0 || rc=$?
	if [ $rc = 255 ] && printf '%s' "$out" | grep -q "403\|no-local-users"; then
		jg_ok "jumpgate -g unix:PATH reset refused: '$out'"
	else
		jg_notok "jumpgate -g unix:PATH reset refused (rc $rc: $out)"
	fi
	if [ "$(jg_exec echo tls </dev/null 2>/dev/null)" = tls ]; then
		jg_ok "the certificate identity still passes over TLS"
	else
		jg_notok "the certificate identity still passes over TLS"
	fi
	jg_gateway_stop 10 || jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"
else
	jg_notok "gateway starts with a policy refusing unix:*"
fi
JG_CONF_EXTRA="unix_socket = \"$SOCK\";"

# A stale socket (a previous run killed) is replaced; a regular file is not.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
jg_gateway_start && [ "$(ucurl /healthz -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ] &&
	jg_ok "a stale socket file is replaced" || jg_notok "a stale socket file is replaced"
jg_gateway_stop 10 || true
echo data >"$SOCK"
JG_START_TIMEOUT=5
if jg_gateway_start >/dev/null 2>&1; then
	jg_notok "a regular file at unix_socket: refused to start"
	jg_gateway_stop 10 || true
else
	if grep -q "exists and is not a socket" "$JG_GW_LOG" && [ "$(cat "$SOCK")" = data ]; then
		jg_ok "a regular file at unix_socket: refused to start, file kept"
	else
		jg_notok "a regular file at unix_socket: refused to start, file kept"
	fi
fi
jg_done
