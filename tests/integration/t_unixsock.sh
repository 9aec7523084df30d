#!/bin/bash
# The Unix-socket listener: HTTP/2 without TLS (h2c, prior knowledge), the
# caller's identity "unix:<user>" from SO_PEERCRED, the file mode 0660, a stale
# socket replaced, any other file refused, the file removed at exit.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
SOCK=$JG_T/jg.sock
JG_CONF_EXTRA="unix_socket = \"$SOCK\";"
USER_NAME=$(id -un)

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
