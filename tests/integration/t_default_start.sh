#!/bin/bash
# The built-in defaults: a configuration naming only the listen address and
# the state directory makes jumpgated generate its CA, server and client
# certificates on first start (keys 0600), keep them across a restart, and
# the client find them through JUMPGATE_HOME.  When 127.0.0.1:4443 is free,
# jumpgated with no configuration at all and jumpgate with no -g are tried
# too: the exact commands of the README.
. "$(dirname "$0")/lib.sh"
jg_setup

home=$JG_T/home
JG_STATE=$home
JG_CONF_MODE=minimal
export JUMPGATE_HOME=$home
files="ca.pem ca.key server.pem server.key client.pem client.key"

if jg_gateway_start; then
	jg_ok "jumpgated starts with only listen and state_dir configured"
else
	jg_notok "jumpgated starts with only listen and state_dir configured"
	jg_done
fi

missing=
for f in $files; do [ -s "$home/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then
	jg_ok "certificates generated on first start ($files)"
else
	jg_notok "certificates generated on first start: missing$missing"
fi

for f in ca.key server.key client.key; do
	mode=$(stat -c %a "$home/$f" 2>/dev/null || echo none)
	if [ "$mode" = 600 ]; then jg_ok "$f has mode 0600"; else jg_notok "$f has mode 0600 (it has $mode)"; fi
done
mode=$(stat -c %a "$home")
case $mode in
7??) jg_ok "state directory is owner-accessible ($mode)" ;;
*) jg_notok "state directory mode $mode" ;;
esac

if openssl verify -CAfile "$home/ca.pem" "$home/server.pem" "$home/client.pem" >"$JG_T/verify.out" 2>&1; then
	jg_ok "generated server and client certificates verify against the generated CA"
else
	jg_notok "generated certificates verify against the generated CA: $(tr '\n' ' ' <"$JG_T/verify.out")"
fi
if openssl x509 -in "$home/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'IP Address:127.0.0.1'; then
	jg_ok "server certificate names IP 127.0.0.1"
else
	jg_notok "server certificate names IP 127.0.0.1"
fi

(cd "$home" && sha256sum $files) >"$JG_T/sums.1"

# The client finds its certificate in JUMPGATE_HOME; only -g is given.
if timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" exec local -- uname -a \
	>"$JG_T/uname.out" 2>"$JG_T/uname.err" </dev/null &&
	[ "$(cat "$JG_T/uname.out")" = "$(uname -a)" ]; then
	jg_ok "jumpgate exec local -- uname -a with JUMPGATE_HOME and -g"
else
	jg_notok "jumpgate exec local -- uname -a with JUMPGATE_HOME and -g"
	jg_show "$JG_T/uname.out" 5
	jg_show "$JG_T/uname.err" 5
fi

# Same through JUMPGATE_GATEWAY instead of -g.
if JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT timeout 60 "$JUMPGATE" exec local -- echo via-env \
	>"$JG_T/env.out" 2>"$JG_T/env.err" </dev/null && [ "$(cat "$JG_T/env.out")" = via-env ]; then
	jg_ok "JUMPGATE_GATEWAY selects the gateway"
else
	jg_notok "JUMPGATE_GATEWAY selects the gateway"
	jg_show "$JG_T/env.err" 5
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi

# Restart: the same files, untouched.
if jg_gateway_start; then
	jg_ok "restart on the same state directory"
	(cd "$home" && sha256sum $files) >"$JG_T/sums.2"
	if cmp -s "$JG_T/sums.1" "$JG_T/sums.2"; then
		jg_ok "restart keeps the certificates (same sha256)"
	else
		jg_notok "restart keeps the certificates (same sha256)"
		diff "$JG_T/sums.1" "$JG_T/sums.2" | sed 's/^/#   /' || true
	fi
	if timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" exec local -- true </dev/null 2>"$JG_T/r.err"; then
		jg_ok "client still accepted after restart"
	else
		jg_notok "client still accepted after restart"
		jg_show "$JG_T/r.err" 5
	fi
	jg_gateway_stop 10 || jg_notok "SIGTERM after restart: exit 0 (status $JG_GW_STATUS)"
else
	jg_notok "restart on the same state directory"
fi

# The README commands, verbatim: no configuration, no -g.  Only when the
# default port is free; this never touches a gateway somebody else runs.
if jg_port_in_use 4443; then
	jg_ok "# SKIP built-in default on 127.0.0.1:4443: the port is in use"
else
	home2=$JG_T/home2
	export JUMPGATE_HOME=$home2
	log=$JG_T/default.log
	"$JUMPGATED" -f >"$log" 2>&1 </dev/null &
	pid=$!
	jg_track default "$pid"
	up=no
	deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ] && jg_alive "$pid"; do
		if [ -r "$home2/client.key" ] &&
			[ "$(curl -sS --http2 --max-time 5 --cacert "$home2/ca.pem" --cert "$home2/client.pem" \
				--key "$home2/client.key" -o /dev/null -w '%{http_code}' https://127.0.0.1:4443/healthz 2>/dev/null)" = 200 ]; then
			up=yes
			break
		fi
		sleep 0.1
	done
	if [ $up = yes ]; then
		jg_ok "jumpgated with no configuration serves 127.0.0.1:4443"
		if timeout 60 "$JUMPGATE" exec local -- uname -a >"$JG_T/d.out" 2>"$JG_T/d.err" </dev/null &&
			[ "$(cat "$JG_T/d.out")" = "$(uname -a)" ]; then
			jg_ok "jumpgate exec local -- uname -a with no options"
		else
			jg_notok "jumpgate exec local -- uname -a with no options"
			jg_show "$JG_T/d.err" 5
		fi
	elif grep -qi 'in use' "$log"; then
		jg_ok "# SKIP built-in default: 127.0.0.1:4443 was taken meanwhile"
	else
		jg_notok "jumpgated with no configuration serves 127.0.0.1:4443"
		jg_show "$log" 20
	fi
	kill -TERM "$pid" 2>/dev/null || true
	jg_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
	st=0
	wait "$pid" 2>/dev/null || st=$?
	jg_untrack default
	[ $up = no ] || [ $st = 0 ] || jg_notok "default gateway exits 0 on SIGTERM (status $st)"
fi

jg_done
