#!/bin/bash
# The ssh method against real OpenSSH servers on loopback: key auth, exit
# codes and stdin carried; the agent sent once and found in the target's
# cache by the next connection (bytes counted); one pooled connection for 20
# execs; check_host_keys accept / enforce / ignore and a changed host key;
# a wrong key, a closed port; injection through target specs refused with
# 400 before anything runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup

PWNED=/tmp/pwned
pwned_before=0
[ ! -e "$PWNED" ] || pwned_before=1

jg_sshd_start a 127.0.0.2 || { jg_notok "sshd a starts on 127.0.0.2"; jg_done; }
jg_ok "sshd a listens on 127.0.0.2:${JG_SSHD_PORT[a]} (pid ${JG_SSHD_PID[a]})"
jg_sshd_start b 127.0.0.3 || { jg_notok "sshd b starts on 127.0.0.3"; jg_done; }
jg_ok "sshd b listens on 127.0.0.3:${JG_SSHD_PORT[b]} (pid ${JG_SSHD_PID[b]})"
PA=${JG_SSHD_PORT[a]}
PB=${JG_SSHD_PORT[b]}

: >"$JG_SSH_DIR/empty_known"
: >"$JG_SSH_DIR/ign_known"
: >"$JG_SSH_DIR/chg_known"
ssh-keygen -q -t ed25519 -N '' -f "$JG_SSH_DIR/wrong_key" </dev/null >/dev/null

JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $(jg_ssh_target web1 127.0.0.2 "$PA"),
  $(jg_ssh_target enf 127.0.0.2 "$PA" "check_host_keys = \"enforce\"; known_hosts = \"$JG_SSH_DIR/empty_known\";"),
  $(jg_ssh_target enfok 127.0.0.2 "$PA" "check_host_keys = \"enforce\";"),
  $(jg_ssh_target ign 127.0.0.2 "$PA" "check_host_keys = \"ignore\"; known_hosts = \"$JG_SSH_DIR/ign_known\";"),
  $(jg_ssh_target chg 127.0.0.3 "$PB" "known_hosts = \"$JG_SSH_DIR/chg_known\";"),
  $(jg_ssh_target badkey 127.0.0.2 "$PA" "identity_file = \"$JG_SSH_DIR/wrong_key\";")
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

AGENT_SIZE=$(stat -c %s "$JUMPGATE_AGENT")
AGENT_SHA=$(jg_sha256 "$JUMPGATE_AGENT")
CACHED=${JG_SSHD_HOME[a]}/.cache/jumpgate/agent-$AGENT_SHA

# ---------------------------------------------------------------- key auth

jg_cli_timed "$JG_T/h.out" "$JG_T/h.err" exec web1 -- sh -c 'hostname; id -un'
if [ "$RC" = 0 ] && [ "$(head -n1 "$JG_T/h.out")" = "$(hostname)" ] &&
	[ "$(sed -n 2p "$JG_T/h.out")" = "$JG_SSH_USER" ]; then
	jg_ok "key auth: exec web1 -- hostname, id -un ($(tr '\n' ' ' <"$JG_T/h.out"), first exec ${MS} ms)"
else
	jg_notok "key auth: exec web1 -- hostname (exit $RC, out '$(head -c 200 "$JG_T/h.out")')"
	jg_show "$JG_T/h.err" 5
	jg_show "${JG_SSHD_LOG[a]}" 10
fi

link=$(jg_link web1)
bytes_out1=$(jg_json_val "$link" bytes_out)
pid1=$(jg_json_val "$link" pid)
if [ -n "$bytes_out1" ] && [ "$bytes_out1" -gt "$AGENT_SIZE" ]; then
	jg_ok "first connection sends the agent: bytes_out $bytes_out1 > agent size $AGENT_SIZE"
else
	jg_notok "first connection sends the agent: bytes_out ${bytes_out1:-none} > agent size $AGENT_SIZE (link: $link)"
fi
if [ -x "$CACHED" ] && [ "$(jg_sha256 "$CACHED")" = "$AGENT_SHA" ]; then
	jg_ok "agent cached on the target as ~/.cache/jumpgate/agent-${AGENT_SHA:0:12}..."
else
	jg_notok "agent cached on the target as $CACHED ($(ls -l "${JG_SSHD_HOME[a]}/.cache/jumpgate" 2>&1 | tr '\n' ' '))"
fi
if grep -q "web1.*sending the agent" "$JG_GW_LOG"; then
	jg_ok "gateway log: $(grep -m1 'web1.*sending the agent' "$JG_GW_LOG" | sed 's/^[^:]*: //')"
else
	jg_notok "gateway log says it sent the agent to web1"
fi

# ---------------------------------------------------------------- exit codes, stdin

for code in 0 1 42 254; do
	jg_cli_timed "$JG_T/x.out" "$JG_T/x.err" exec web1 -- sh -c "exit $code"
	if [ "$RC" = "$code" ] && [ ! -s "$JG_T/x.err" ]; then
		jg_ok "exit code $code mirrored over ssh"
	else
		jg_notok "exit code $code mirrored over ssh (got $RC)"
		jg_show "$JG_T/x.err" 3
	fi
done
jg_cli_timed "$JG_T/k.out" "$JG_T/k.err" exec web1 -- sh -c 'kill -TERM $$'
if [ "$RC" = 143 ]; then jg_ok "death by SIGTERM over ssh gives 143"; else
	jg_notok "death by SIGTERM over ssh gives 143 (got $RC)"
	jg_show "$JG_T/k.err" 3
fi

head -c $((4 * 1048576)) /dev/urandom >"$JG_T/stdin"
want=$(jg_sha256 "$JG_T/stdin")
t0=$(date +%s%N)
if jg_cli exec web1 -- cat <"$JG_T/stdin" 2>"$JG_T/c.err" | sha256sum >"$JG_T/c.sum"; then rc=0; else rc=$?; fi
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ] && [ "$(cut -d' ' -f1 "$JG_T/c.sum")" = "$want" ]; then
	jg_ok "4 MiB of stdin through cat over ssh and back, sha256 equal (${ms} ms)"
else
	jg_notok "4 MiB of stdin through cat over ssh and back, sha256 equal (exit $rc)"
	jg_show "$JG_T/c.err" 3
fi
if out=$(jg_cli exec web1 -- wc -c <"$JG_T/stdin" 2>"$JG_T/w.err") && [ "$(echo $out)" = $((4 * 1048576)) ]; then
	jg_ok "stdin EOF reaches the remote program (wc -c counts $((4 * 1048576)))"
else
	jg_notok "stdin EOF reaches the remote program (wc -c said '${out:-}')"
	jg_show "$JG_T/w.err" 3
fi

# ---------------------------------------------------------------- pool

links_before=$(jg_links | wc -l)
fails=0
for i in $(seq 1 20); do
	if ! JG_TIMEOUT=30 jg_cli exec web1 -- true </dev/null 2>"$JG_T/p.err"; then
		fails=$((fails + 1))
	fi
done
nweb=0
while IFS= read -r l; do
	[ "$(jg_json_val "$l" target)" != web1 ] || nweb=$((nweb + 1))
done < <(jg_links)
link=$(jg_link web1)
pid2=$(jg_json_val "$link" pid)
bytes_out2=$(jg_json_val "$link" bytes_out)
if [ $fails = 0 ] && [ "$nweb" = 1 ] && [ "$pid2" = "$pid1" ] && [ "$(jg_links | wc -l)" = "$links_before" ]; then
	jg_ok "pool: 20 sequential execs on one connection (one web1 link, ssh pid $pid1 throughout; bytes_out now $bytes_out2)"
else
	jg_notok "pool: 20 sequential execs on one connection ($fails failed, $nweb web1 links, pid $pid1 -> ${pid2:-none})"
	jg_links | sed 's/^/#   /'
	jg_show "$JG_T/p.err" 3
fi
sessions=$(jg_sshd_sessions a | wc -l)
if [ "$sessions" = 1 ]; then
	jg_ok "sshd a has one session process for all of it"
else
	jg_notok "sshd a has one session process for all of it ($sessions)"
fi

# ---------------------------------------------------------------- cached agent not resent

if jg_has_reset; then
	how="jumpgate reset web1"
	if jg_cli reset web1 </dev/null >"$JG_T/reset.out" 2>"$JG_T/reset.err"; then
		jg_ok "jumpgate reset web1: exit 0 ($(head -c 200 "$JG_T/reset.out" | tr '\n' ' '))"
	else
		jg_notok "jumpgate reset web1: exit 0"
		jg_show "$JG_T/reset.err" 3
	fi
	deadline=$((SECONDS + 10))
	while [ -n "$(jg_link web1)" ] && [ "$(jg_json_val "$(jg_link web1)" pid)" = "$pid1" ] &&
		[ $SECONDS -lt $deadline ]; do sleep 0.1; done
	if [ "$(jg_json_val "$(jg_link web1)" pid)" != "$pid1" ]; then
		jg_ok "after reset the web1 connection (ssh pid $pid1) is gone"
	else
		jg_notok "after reset the web1 connection (ssh pid $pid1) is gone"
	fi
	if jg_wait_gone "$pid1" 10; then jg_ok "reset: ssh pid $pid1 exited"; else jg_notok "reset: ssh pid $pid1 exited"; fi
	if jg_cli reset web1 </dev/null >"$JG_T/reset2.out" 2>"$JG_T/reset2.err" &&
		grep -qi 'no open connection' "$JG_T/reset2.out"; then
		jg_ok "reset with no connection open: exit 0, $(head -n1 "$JG_T/reset2.out")"
	else
		jg_notok "reset with no connection open: exit 0, 'no open connection' (got '$(head -c 200 "$JG_T/reset2.out" "$JG_T/reset2.err")')"
	fi
	if JG_TIMEOUT=30 jg_cli reset 'ssh:x;y@127.0.0.2' </dev/null >/dev/null 2>"$JG_T/reset3.err"; then rc=0; else rc=$?; fi
	if [ "$rc" = 255 ] && grep -q "';'" "$JG_T/reset3.err"; then
		jg_ok "reset of a bad spec: exit 255, $(head -n1 "$JG_T/reset3.err")"
	else
		jg_notok "reset of a bad spec: exit 255 naming the character (exit $rc: $(head -c 200 "$JG_T/reset3.err"))"
	fi
else
	jg_log "no 'jumpgate reset' in this build ($JUMPGATE --help): restarting the gateway instead"
	code=$(jg_http_code POST /v1/targets/web1/reset)
	jg_log "POST /v1/targets/web1/reset answers $code"
	how="a gateway restart"
	if jg_gateway_stop 10; then jg_ok "gateway stops (SIGTERM: exit 0)"; else jg_notok "gateway stops (status $JG_GW_STATUS)"; fi
	if jg_wait_gone "$pid1" 5; then jg_ok "its ssh (pid $pid1) is gone"; else jg_notok "its ssh (pid $pid1) is gone"; fi
	jg_gateway_start || { jg_notok "gateway restarts"; jg_done; }
	jg_ok "gateway restarts on 127.0.0.1:$JG_PORT"
fi
log_lines=$(wc -l <"$JG_GW_LOG")
jg_cli_timed "$JG_T/r.out" "$JG_T/r.err" exec web1 -- echo again
link=$(jg_link web1)
bytes_out3=$(jg_json_val "$link" bytes_out)
pid3=$(jg_json_val "$link" pid)
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/r.out")" = again ] && [ -n "$pid3" ] && [ "$pid3" != "$pid1" ]; then
	jg_ok "after $how a new connection (ssh pid $pid3) runs the exec (${MS} ms)"
else
	jg_notok "after $how a new connection runs the exec (exit $RC, pid ${pid3:-none}, was $pid1)"
	jg_show "$JG_T/r.err" 3
fi
if [ -n "$bytes_out3" ] && [ "$bytes_out3" -lt 65536 ]; then
	jg_ok "cached agent not resent: the new connection sent $bytes_out3 bytes (the first sent $bytes_out1, agent $AGENT_SIZE)"
else
	jg_notok "cached agent not resent: the new connection sent ${bytes_out3:-?} bytes (< 65536 wanted; agent $AGENT_SIZE)"
fi
if tail -n +"$((log_lines + 1))" "$JG_GW_LOG" | grep -q 'sending the agent'; then
	jg_notok "gateway log: no 'sending the agent' for the new connection"
else
	jg_ok "gateway log: no 'sending the agent' for the new connection"
fi

# Reset under running operations: they end with 255 and the reason; the
# next exec opens a new connection.  Through the API this time.
if jg_has_reset; then
	rpid=$(jg_json_val "$(jg_link web1)" pid)
	timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" \
		exec web1 -- sleep 30 </dev/null >/dev/null 2>"$JG_T/rs.err" &
	rcli=$!
	jg_track rcli "$rcli"
	deadline=$((SECONDS + 20))
	until [ "$(jg_json_val "$(jg_link web1)" channels)" = 1 ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
	code=$(jg_curl /v1/targets/web1/reset -X POST -o "$JG_T/rs.body" -w '%{http_code}' 2>/dev/null) || true
	t0=$(date +%s%N)
	jg_wait_gone "$rcli" 10 || true
	ms=$((($(date +%s%N) - t0) / 1000000))
	rc=0
	wait "$rcli" 2>/dev/null || rc=$?
	jg_untrack rcli
	if [ "$code" = 200 ] && grep -q '"reset": *true' "$JG_T/rs.body"; then
		jg_ok "POST /v1/targets/web1/reset: 200, $(head -c 200 "$JG_T/rs.body")"
	else
		jg_notok "POST /v1/targets/web1/reset: 200 and reset true (got $code: $(head -c 200 "$JG_T/rs.body"))"
	fi
	if [ "$rc" = 255 ] && grep -qi 'reset' "$JG_T/rs.err"; then
		jg_ok "reset under a running exec: it ends in ${ms} ms with 255, $(head -n1 "$JG_T/rs.err")"
	else
		jg_notok "reset under a running exec: it ends with 255 and a reason saying reset (exit $rc after ${ms} ms: $(head -c 300 "$JG_T/rs.err"))"
	fi
	if out=$(jg_cli exec web1 -- echo fresh </dev/null 2>"$JG_T/rf.err") && [ "$out" = fresh ] &&
		[ "$(jg_json_val "$(jg_link web1)" pid)" != "$rpid" ]; then
		jg_ok "after the reset the next exec works over a new connection"
	else
		jg_notok "after the reset the next exec works over a new connection"
		jg_show "$JG_T/rf.err" 3
	fi
fi

# ---------------------------------------------------------------- host keys

# accept: the key was recorded in known_hosts by the first connection.
if ssh-keygen -F "[127.0.0.2]:$PA" -f "$JG_SSH_KNOWN" >/dev/null 2>&1 &&
	ssh-keygen -F "[127.0.0.2]:$PA" -f "$JG_SSH_KNOWN" | grep -qF "$(cut -d' ' -f2 "${JG_SSHD_DIR[a]}/ssh_host_ed25519_key.pub")"; then
	jg_ok "check_host_keys accept: known_hosts holds sshd a's host key for [127.0.0.2]:$PA"
else
	jg_notok "check_host_keys accept: known_hosts holds sshd a's host key ($(wc -l <"$JG_SSH_KNOWN") lines)"
fi

# enforce, with the key known: works.
jg_cli_timed "$JG_T/e1.out" "$JG_T/e1.err" exec enfok -- echo enforced
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/e1.out")" = enforced ]; then
	jg_ok "check_host_keys enforce with the key known: exec works"
else
	jg_notok "check_host_keys enforce with the key known: exec works (exit $RC)"
	jg_show "$JG_T/e1.err" 3
fi

# enforce, with an empty known_hosts: refused, with the reason.
JG_TIMEOUT=30 jg_cli_timed "$JG_T/e2.out" "$JG_T/e2.err" exec enf -- echo should-not-run
if [ "$RC" = 255 ] && grep -qi 'host key' "$JG_T/e2.err" && ! grep -q should-not-run "$JG_T/e2.out" &&
	[ "$(wc -l <"$JG_T/e2.err")" -le 1 ]; then
	jg_ok "check_host_keys enforce, empty known_hosts: exit 255, $(head -n1 "$JG_T/e2.err") (${MS} ms)"
else
	jg_notok "check_host_keys enforce, empty known_hosts: exit 255 and a 'host key' reason on one line (exit $RC: $(head -c 300 "$JG_T/e2.err"))"
fi
if [ ! -s "$JG_SSH_DIR/empty_known" ]; then
	jg_ok "check_host_keys enforce: known_hosts left empty"
else
	jg_notok "check_host_keys enforce: known_hosts left empty"
fi

# ignore: works, records nothing.
jg_cli_timed "$JG_T/i.out" "$JG_T/i.err" exec ign -- echo ignored
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/i.out")" = ignored ] && [ ! -s "$JG_SSH_DIR/ign_known" ]; then
	jg_ok "check_host_keys ignore: exec works, its known_hosts stays empty"
else
	jg_notok "check_host_keys ignore: exec works, its known_hosts stays empty (exit $RC, $(wc -c <"$JG_SSH_DIR/ign_known") bytes)"
	jg_show "$JG_T/i.err" 3
fi

# A changed host key: chg accepted sshd b's key; b restarts, same port, new key.
jg_cli_timed "$JG_T/c1.out" "$JG_T/c1.err" exec chg -- echo first
if [ "$RC" = 0 ] && [ -s "$JG_SSH_DIR/chg_known" ]; then
	jg_ok "changed host key: first exec to sshd b works, key recorded"
else
	jg_notok "changed host key: first exec to sshd b works, key recorded (exit $RC)"
	jg_show "$JG_T/c1.err" 3
fi
chg_pid=$(jg_json_val "$(jg_link chg)" pid)
jg_sshd_stop b
jg_sshd_hostkey b
JG_SSHD_PORT_WANT=$PB jg_sshd_start b 127.0.0.3 || jg_notok "sshd b restarts on port $PB with a new host key"
# The old connection died with its session; wait until the gateway saw it.
[ -z "$chg_pid" ] || jg_wait_gone "$chg_pid" 10 || true
JG_TIMEOUT=30 jg_cli_timed "$JG_T/c2.out" "$JG_T/c2.err" exec chg -- echo should-not-run
if [ "$RC" = 255 ] && grep -qi 'changed' "$JG_T/c2.err" && ! grep -q should-not-run "$JG_T/c2.out"; then
	jg_ok "changed host key: exit 255, $(head -n1 "$JG_T/c2.err")"
else
	jg_notok "changed host key: exit 255 and a reason saying the key changed (exit $RC: $(head -c 300 "$JG_T/c2.err"))"
fi

# ---------------------------------------------------------------- auth, refused

JG_TIMEOUT=30 jg_cli_timed "$JG_T/a.out" "$JG_T/a.err" exec badkey -- echo should-not-run
if [ "$RC" = 255 ] && grep -qi 'authentication fail' "$JG_T/a.err"; then
	jg_ok "wrong identity: exit 255, $(head -n1 "$JG_T/a.err") (${MS} ms)"
else
	jg_notok "wrong identity: exit 255 and an authentication-failure reason (exit $RC: $(head -c 300 "$JG_T/a.err"))"
fi

closed=$(jg_free_port)
JG_TIMEOUT=30 jg_cli_timed "$JG_T/cp.out" "$JG_T/cp.err" exec "ssh:$JG_SSH_USER@127.0.0.2:$closed" -- true
if [ "$RC" = 255 ] && grep -qi 'connection refused' "$JG_T/cp.err"; then
	jg_ok "closed port 127.0.0.2:$closed: exit 255, $(head -n1 "$JG_T/cp.err") (${MS} ms)"
else
	jg_notok "closed port: exit 255 and a 'connection refused' reason (exit $RC: $(head -c 300 "$JG_T/cp.err"))"
fi

# A spec naming the same sshd directly works too (ssh_defaults apply).
jg_cli_timed "$JG_T/s.out" "$JG_T/s.err" exec "ssh:$JG_SSH_USER@127.0.0.2:$PA" -- echo by-spec
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/s.out")" = by-spec ]; then
	jg_ok "spec ssh:$JG_SSH_USER@127.0.0.2:$PA works"
else
	jg_notok "spec ssh:$JG_SSH_USER@127.0.0.2:$PA works (exit $RC)"
	jg_show "$JG_T/s.err" 3
fi

# ---------------------------------------------------------------- injection

spawned_before=$(grep -c 'onward connection to .*starting' "$JG_GW_LOG" || true)
# The target in the URL path is percent-encoded and the first '/' ends it:
# with a bare '/', "-oProxyCommand=touch " is the target and "tmp" the
# action, refused by the router (404) if not by the target check (400).
code=$(jg_curl "/v1/targets/-oProxyCommand=touch%20/tmp/pwned/exec" -X POST \
	-H 'content-type: application/x-jumpgate-frames' -o "$JG_T/inj0.body" -w '%{http_code}' 2>/dev/null) || true
touch "$JG_T/inj0.body"
if { [ "$code" = 400 ] || [ "$code" = 404 ]; } && grep -q '"reason"' "$JG_T/inj0.body"; then
	jg_ok "injection -oProxyCommand=touch%20/tmp/pwned (bare '/'): $code, $(head -c 200 "$JG_T/inj0.body")"
else
	jg_notok "injection -oProxyCommand=touch%20/tmp/pwned (bare '/'): 400 or 404 with a reason (got $code: $(head -c 200 "$JG_T/inj0.body"))"
fi
n=0
for t in '-oProxyCommand=touch%20%2Ftmp%2Fpwned' \
	'ssh:-oProxyCommand=touch%20%2Ftmp%2Fpwned' 'ssh:a%20b@127.0.0.2' 'ssh:x;y@127.0.0.2' \
	'ssh:%24(id)@h' 'ssh:root@-oProxyCommand=touch%20%2Ftmp%2Fpwned' 'ssh:root@127.0.0.2%0a-oX' \
	'-oProxyCommand=id' 'ssh:-oProxyCommand=id' 'ssh:root@-oProxyCommand=id' 'ssh:-lroot@127.0.0.2' \
	'-oProxyCommand=touch%20%24HOME%3Bx' 'ssh:root@127.0.0.2%09-v' 'ssh:root@%2D%2Dhelp' \
	"ssh:root@127.0.0.2:$PA%20-oProxyCommand=x" 'ssh:%60touch%20%2Ftmp%2Fpwned%60@127.0.0.2' \
	'ssh:root@127.0.0.2:0' 'ssh:root@127.0.0.2:65536' 'ssh:root@127.0.0.2:-1'; do
	n=$((n + 1))
	code=$(jg_curl "/v1/targets/$t/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
		-o "$JG_T/inj$n.body" -w '%{http_code}' 2>"$JG_T/inj$n.err") || true
	touch "$JG_T/inj$n.body"
	if [ "$code" = 400 ] && grep -q '"reason"' "$JG_T/inj$n.body"; then
		jg_ok "injection $t: 400, $(head -c 200 "$JG_T/inj$n.body" | tr '\n' ' ')"
	else
		jg_notok "injection $t: 400 with a reason (got $code: $(head -c 200 "$JG_T/inj$n.body"))"
	fi
done
# The same through the CLI (its own checks, or the gateway's 400).  A target
# starting with '-' comes after "--" (else it is an unknown option: exit 2).
for t in '-oProxyCommand=touch /tmp/pwned' 'ssh:-oProxyCommand=touch /tmp/pwned' \
	'ssh:a b@127.0.0.2' 'ssh:x;y@127.0.0.2' 'ssh:$(id)@h' 'ssh:`id`@127.0.0.2'; do
	JG_TIMEOUT=30 jg_cli_timed "$JG_T/ci.out" "$JG_T/ci.err" exec -- "$t" -- touch "$PWNED"
	if [ "$RC" = 255 ] && [ -s "$JG_T/ci.err" ]; then
		jg_ok "CLI exec -- '$t': exit 255, $(head -n1 "$JG_T/ci.err")"
	else
		jg_notok "CLI exec -- '$t': exit 255 with a reason (exit $RC: $(head -c 300 "$JG_T/ci.err"))"
	fi
done
JG_TIMEOUT=30 jg_cli_timed "$JG_T/ci.out" "$JG_T/ci.err" exec '-oProxyCommand=touch /tmp/pwned' -- touch "$PWNED"
if [ "$RC" = 2 ] || [ "$RC" = 255 ]; then
	jg_ok "CLI exec '-oProxyCommand=...' (no --): exit $RC, $(head -n1 "$JG_T/ci.err")"
else
	jg_notok "CLI exec '-oProxyCommand=...' (no --): exit 2 or 255 (exit $RC: $(head -c 300 "$JG_T/ci.err"))"
fi
spawned_after=$(grep -c 'onward connection to .*starting' "$JG_GW_LOG" || true)
if [ "$spawned_after" = "$spawned_before" ]; then
	jg_ok "no onward connection started for any of them"
else
	jg_notok "no onward connection started for any of them ($((spawned_after - spawned_before)) started)"
	grep 'onward connection to .*starting' "$JG_GW_LOG" | tail -n 5 | sed 's/^/#   /'
fi
if [ $pwned_before = 1 ]; then
	jg_log "$PWNED existed before this test (not ours): not checked"
elif [ ! -e "$PWNED" ]; then
	jg_ok "$PWNED never created"
else
	jg_notok "$PWNED never created"
	rm -f "$PWNED"
fi

if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_done
