#!/bin/bash
# ssh-agent forwarding through the gateway (-A), for real: a real ssh-agent
# holds the only key the target's authorized_keys knows; the gateway's own
# account has no key that works (its identity_file is another key).  exec, cp
# and rsync -e 'jumpgate rsh -A' through the gateway succeed with -A; without
# -A ssh's own reason comes back; another identity does not get the
# connection the first one's agent opened; policy refuses -A without
# forward_agent; no agent, or an agent without keys: one clear line naming
# the target; the agent socket answers only the onward ssh (not another
# process of the gateway's account) and lives in a 0700 directory that goes
# with the connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
jg_require ssh-agent ssh-add rsync
# Nothing of the test runner's own agent: only the agents started here.
unset SSH_AUTH_SOCK SSH_AGENT_PID
export TMPDIR=$JG_T # the gateway's agent sockets are made under it

# The controller's key: in its agent only, and the only one sshd accepts.
ssh-keygen -q -t ed25519 -N '' -C "jumpgate-test-controller" -f "$JG_T/ctl_key" </dev/null >/dev/null
cat "$JG_T/ctl_key.pub" >"$JG_SSH_AUTHKEYS"
# Another identity's agent, with a key sshd does not know.
ssh-keygen -q -t ed25519 -N '' -f "$JG_T/bob_key" </dev/null >/dev/null

# start_agent NAME: ssh-agent on $JG_T/NAME.sock (foreground, tracked by PID).
start_agent() {
	local sock=$JG_T/$1.sock pid i
	ssh-agent -D -a "$sock" >/dev/null 2>&1 </dev/null &
	pid=$!
	jg_track "agent-$1" "$pid"
	for i in $(seq 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}
start_agent ctl || { jg_notok "ssh-agent starts"; jg_done; }
start_agent bob || { jg_notok "bob's ssh-agent starts"; jg_done; }
start_agent empty || { jg_notok "an empty ssh-agent starts"; jg_done; }
# An agent that refuses to sign: the key needs confirming (ssh-add -c) and the
# agent's askpass says no.
SSH_ASKPASS=/bin/false SSH_ASKPASS_REQUIRE=force DISPLAY=:0 start_agent refusing ||
	{ jg_notok "a refusing ssh-agent starts"; jg_done; }
SSH_AUTH_SOCK=$JG_T/ctl.sock ssh-add -q "$JG_T/ctl_key" 2>/dev/null || { jg_notok "ssh-add"; jg_done; }
SSH_AUTH_SOCK=$JG_T/bob.sock ssh-add -q "$JG_T/bob_key" 2>/dev/null || { jg_notok "ssh-add (bob)"; jg_done; }
SSH_AUTH_SOCK=$JG_T/refusing.sock ssh-add -q -c "$JG_T/ctl_key" 2>/dev/null || { jg_notok "ssh-add -c"; jg_done; }
jg_ok "ssh-agents: the controller's (the authorized key), bob's (another key), an empty one, one refusing to sign"

jg_sshd_start a 127.0.0.2 || { jg_notok "sshd a starts on 127.0.0.2"; jg_done; }
PA=${JG_SSHD_PORT[a]}

P=$JG_PKI
user=$(id -un)
for n in bob carol dave; do
	jg_mkcert "$P" "$n" "$n" "subjectAltName=URI:jumpgate:user:$n" "extendedKeyUsage=clientAuth"
done
# The gateway logs in with $JG_SSH_KEY, which is no longer authorized.
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
identity = \"san-uri\";
audit = \"$JG_T/audit.log\";
targets = ( $(jg_ssh_target web1 127.0.0.2 "$PA") );
policy = (
  { name = \"ctl\"; identities = [ \"jumpgate:user:$user\" ]; forward_agent = true; allow = true; },
  { name = \"bob\"; identities = [ \"jumpgate:user:bob\" ]; forward_agent = true; allow = true; },
  { name = \"carol\"; identities = [ \"jumpgate:user:carol\" ]; allow = true; },
  { name = \"dave\"; identities = [ \"jumpgate:user:dave\" ]; forward_agent_to_target = true; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT, sshd on 127.0.0.2:$PA"

as() { # as NAME CMD...: with NAME's certificate
	local name=$1
	shift
	JG_CERT=$P/$name.pem JG_KEY=$P/$name.key "$@"
}
ctl() { SSH_AUTH_SOCK=$JG_T/ctl.sock "$@"; }

# ---------------------------------------------------------------- without -A

jg_cli_timed "$JG_T/n.out" "$JG_T/n.err" exec web1 -- id -un
if [ "$RC" != 0 ] && grep -q "Permission denied" "$JG_T/n.err"; then
	jg_ok "without -A: ssh's reason ($(head -c 160 "$JG_T/n.err"))"
else
	jg_notok "without -A fails with ssh's reason (exit $RC: $(head -c 300 "$JG_T/n.err"))"
fi

# ---------------------------------------------------------------- exec -A

ctl jg_cli_timed "$JG_T/a.out" "$JG_T/a.err" exec -A web1 -- id -un
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/a.out")" = "$JG_SSH_USER" ]; then
	jg_ok "exec -A: the onward ssh logs in with the controller's key (${MS} ms)"
else
	jg_notok "exec -A web1 -- id -un (exit $RC, out '$(head -c 200 "$JG_T/a.out")')"
	jg_show "$JG_T/a.err" 5
	jg_show "$JG_GW_LOG" 20
fi
if grep '"action":"exec"' "$JG_T/audit.log" | grep '"event":"start"' |
	grep -q '"forward_agent":"gateway"'; then
	jg_ok "audit: the exec's record says forward_agent \"gateway\""
else
	jg_notok "audit: forward_agent in the record ($(tail -n 2 "$JG_T/audit.log"))"
fi

# The socket: in a 0700 directory under TMPDIR, answering only the onward ssh.
sock=$(find "$JG_T" -maxdepth 2 -path "$JG_T/jumpgate-agent-*/agent" -type s | head -n1)
if [ -n "$sock" ] && [ "$(stat -c %a "$(dirname "$sock")")" = 700 ]; then
	jg_ok "the agent socket lives in a 0700 directory ($(basename "$(dirname "$sock")"))"
else
	jg_notok "an agent socket in a 0700 directory under $JG_T (found '${sock:-none}')"
fi
if [ -n "$sock" ]; then
	rc=0
	SSH_AUTH_SOCK=$sock timeout 10 ssh-add -l >"$JG_T/l.out" 2>&1 || rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && ! grep -q ED25519 "$JG_T/l.out" &&
		grep -q "refused a connection from pid" "$JG_GW_LOG"; then
		jg_ok "another process of the gateway's account is refused by the socket (ssh-add -l: exit $rc)"
	else
		jg_notok "ssh-add -l on the gateway's agent socket refused (exit $rc: $(head -c 200 "$JG_T/l.out"))"
	fi
fi

if jg_cli stats 2>/dev/null | grep -q "\"agent_of\": \"jumpgate:user:$user\""; then
	jg_ok "stats: the connection says whose agent logged it in (agent_of)"
else
	jg_notok "stats: agent_of names the controller ($(jg_cli stats 2>&1 | grep -c agent_of) agent_of)"
fi

# The connection is the controller's: the same identity reuses it with -A.
ctl jg_cli_timed "$JG_T/a2.out" "$JG_T/a2.err" exec -A web1 -- echo again
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/a2.out")" = again ]; then
	jg_ok "a second exec -A of the same identity"
else
	jg_notok "a second exec -A (exit $RC)"
	jg_show "$JG_T/a2.err" 5
fi

# ---------------------------------------------------------------- another identity

# bob, with -A and his own agent (a key sshd refuses), and without -A: neither
# gets the connection the controller's agent opened.
SSH_AUTH_SOCK=$JG_T/bob.sock as bob jg_cli_timed "$JG_T/b.out" "$JG_T/b.err" exec -A web1 -- id -un
rc1=$RC
as bob jg_cli_timed "$JG_T/b2.out" "$JG_T/b2.err" exec web1 -- id -un
if [ "$rc1" != 0 ] && grep -q "Permission denied" "$JG_T/b.err" && [ "$RC" != 0 ] &&
	grep -q "Permission denied" "$JG_T/b2.err"; then
	jg_ok "another identity does not get the controller's connection (-A: own key refused; without -A: refused)"
else
	jg_notok "bob reuses the controller's connection? (-A exit $rc1: $(head -c 200 "$JG_T/b.err"); without: exit $RC: $(head -c 200 "$JG_T/b2.err"))"
fi

# ---------------------------------------------------------------- cp -A, rsync -e 'jumpgate rsh -A'

# A fresh gateway connection to web1 each time: reset closes the pooled one.
reset_web1() { jg_cli reset web1 >/dev/null 2>&1 || true; }
head -c 300000 /dev/urandom >"$JG_T/up.bin"
reset_web1
ctl jg_cli_timed "$JG_T/cp.out" "$JG_T/cp.err" cp -A "$JG_T/up.bin" "web1:$JG_T/remote.bin"
rc1=$RC
ctl jg_cli_timed "$JG_T/cp2.out" "$JG_T/cp2.err" cp -A "web1:$JG_T/remote.bin" "$JG_T/down.bin"
if [ "$rc1" = 0 ] && [ "$RC" = 0 ] && cmp -s "$JG_T/up.bin" "$JG_T/down.bin"; then
	jg_ok "cp -A up and down (300 kB, same bytes)"
else
	jg_notok "cp -A up (exit $rc1) and down (exit $RC)"
	jg_show "$JG_T/cp.err" 5
	jg_show "$JG_T/cp2.err" 5
fi
reset_web1
jg_cli_timed "$JG_T/cp3.out" "$JG_T/cp3.err" cp "$JG_T/up.bin" "web1:$JG_T/remote2.bin"
if [ "$RC" != 0 ] && grep -q "Permission denied" "$JG_T/cp3.err" && [ ! -e "$JG_T/remote2.bin" ]; then
	jg_ok "cp without -A: ssh's reason"
else
	jg_notok "cp without -A fails with ssh's reason (exit $RC: $(head -c 300 "$JG_T/cp3.err"))"
fi

mkdir -p "$JG_T/tree/sub"
for i in 1 2 3 4 5; do head -c $((i * 10000)) /dev/urandom >"$JG_T/tree/sub/f$i"; done
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
# rsync_through RSH SRC DST: rsync -a -e RSH on a fresh connection, with the
# controller's agent; then the copy must equal the tree.
rsync_through() {
	local rsh=$1 src=$2 dst=$3 rc=0
	reset_web1
	ctl timeout 120 rsync -a -e "$JUMPGATE $rsh" "$src" "$dst" >"$JG_T/rs.out" 2>"$JG_T/rs.err" || rc=$?
	if [ "$rc" = 0 ] && diff -r "$JG_T/tree" "${dst#web1:}" >/dev/null; then
		jg_ok "rsync -a -e 'jumpgate $rsh' $src -> $dst"
	else
		jg_notok "rsync -e 'jumpgate $rsh' $src -> $dst (exit $rc)"
		jg_show "$JG_T/rs.err" 5
	fi
}
rsync_through "rsh -A" "$JG_T/tree/" "web1:$JG_T/tree-copy/"
rsync_through "rsh -o ForwardAgent=yes" "web1:$JG_T/tree/" "$JG_T/tree-back/"
reset_web1
rc=0
ctl timeout 60 rsync -a -e "$JUMPGATE rsh" "$JG_T/tree/" "web1:$JG_T/tree-no/" \
	>"$JG_T/rs3.out" 2>"$JG_T/rs3.err" || rc=$?
if [ "$rc" != 0 ] && grep -q "Permission denied" "$JG_T/rs3.err"; then
	jg_ok "rsync -e 'jumpgate rsh' without -A: ssh's reason"
else
	jg_notok "rsync without -A fails with ssh's reason (exit $rc: $(head -c 300 "$JG_T/rs3.err"))"
fi
unset JUMPGATE_GATEWAY JUMPGATE_CERT JUMPGATE_KEY JUMPGATE_CA

# ---------------------------------------------------------------- policy

ctl as carol jg_cli_timed "$JG_T/c.out" "$JG_T/c.err" exec -A web1 -- id -un
if [ "$RC" != 0 ] && grep -q "forward_agent = true" "$JG_T/c.err" && [ ! -s "$JG_T/c.out" ]; then
	jg_ok "policy: -A refused without forward_agent ($(head -c 200 "$JG_T/c.err"))"
else
	jg_notok "policy refuses carol's -A (exit $RC: $(head -c 300 "$JG_T/c.err"))"
fi
if grep '"identity":"jumpgate:user:carol"' "$JG_T/audit.log" | grep -q '"outcome":"denied"'; then
	jg_ok "audit: carol's -A recorded as denied"
else
	jg_notok "audit: carol's -A recorded as denied"
fi

# -AA: on to the target as ssh -A would, only with forward_agent_to_target.
ctl jg_cli_timed "$JG_T/t.out" "$JG_T/t.err" exec -AA web1 -- true
if [ "$RC" != 0 ] && grep -q "forward_agent_to_target = true" "$JG_T/t.err"; then
	jg_ok "policy: -AA refused with forward_agent alone ($(head -c 200 "$JG_T/t.err"))"
else
	jg_notok "policy refuses -AA without forward_agent_to_target (exit $RC: $(head -c 300 "$JG_T/t.err"))"
fi
ctl as dave jg_cli_timed "$JG_T/t.out" "$JG_T/t.err" exec -AA web1 -- sh -c 'ssh-add -l'
if [ "$RC" = 0 ] && grep -q "jumpgate-test-controller" "$JG_T/t.out"; then
	jg_ok "-AA: the program on the target sees the controller's agent (ssh-add -l: $(head -c 120 "$JG_T/t.out"))"
else
	jg_notok "-AA: ssh-add -l on the target lists the controller's key (exit $RC: $(head -c 200 "$JG_T/t.out") $(head -c 200 "$JG_T/t.err"))"
fi
ctl as dave jg_cli_timed "$JG_T/t2.out" "$JG_T/t2.err" exec -A web1 -- sh -c 'ssh-add -l'
if [ "$RC" != 0 ] && ! grep -q "jumpgate-test-controller" "$JG_T/t2.out"; then
	jg_ok "-A alone: the target sees no agent (ssh-add -l exit $RC)"
else
	jg_notok "-A alone: no agent on the target (exit $RC: $(head -c 200 "$JG_T/t2.out"))"
fi
# After the request: a process it left on the target asks the forwarded agent
# (through the pooled connection's ssh) and gets nothing.
rm -f "$JG_T/late.rc"
ctl as dave jg_cli_timed "$JG_T/l.out" "$JG_T/l.err" exec -AA web1 -- sh -c \
	"setsid sh -c 'sleep 2; ssh-add -l >$JG_T/late.out 2>&1; echo \$? >$JG_T/late.rc' </dev/null >/dev/null 2>&1 &"
deadline=$((SECONDS + 15))
while [ ! -s "$JG_T/late.rc" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if [ "$RC" = 0 ] && [ -s "$JG_T/late.rc" ] && [ "$(cat "$JG_T/late.rc")" != 0 ] &&
	! grep -q "jumpgate-test-controller" "$JG_T/late.out" &&
	grep -q "no request of jumpgate:user:dave lends its ssh-agent now" "$JG_GW_LOG"; then
	jg_ok "after the request ends, the agent forwarded to the target answers nothing ($(head -c 100 "$JG_T/late.out"))"
else
	jg_notok "after the request, the forwarded agent is closed (exit $RC, late rc $(cat "$JG_T/late.rc" 2>/dev/null): $(head -c 200 "$JG_T/late.out" 2>/dev/null))"
fi
if grep '"identity":"jumpgate:user:dave"' "$JG_T/audit.log" | grep -q '"forward_agent":"target"'; then
	jg_ok "audit: -AA recorded as forward_agent \"target\""
else
	jg_notok "audit: -AA recorded as forward_agent \"target\""
fi

# run -A: the same over the batch of `jumpgate run`.
reset_web1
ctl jg_cli_timed "$JG_T/r.out" "$JG_T/r.err" run -A web1 -- id -un
if [ "$RC" = 0 ] && grep -q "$JG_SSH_USER" "$JG_T/r.out"; then
	jg_ok "run -A web1 -- id -un"
else
	jg_notok "run -A web1 -- id -un (exit $RC: $(head -c 200 "$JG_T/r.out") $(head -c 300 "$JG_T/r.err"))"
fi

# reset closes every connection to web1, those made with agents too, and
# their agent sockets go with them.
ndirs() { find "$JG_T" -maxdepth 1 -name 'jumpgate-agent-*' | wc -l; }
ctl as dave jg_cli_timed "$JG_T/d.out" "$JG_T/d.err" exec -A web1 -- true # a second identity's
before=$(ndirs)
reset_web1
deadline=$((SECONDS + 10))
while [ "$(ndirs)" != 0 ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
if [ "$before" -ge 2 ] && [ "$(ndirs)" = 0 ]; then
	jg_ok "reset web1 closes all $before connections made with agents; their socket directories are removed"
else
	jg_notok "reset web1: agent socket directories $before before, $(ndirs) after"
fi

# An agent that refuses to sign: ssh's reason, one line naming the target, no hang.
reset_web1
SSH_AUTH_SOCK=$JG_T/refusing.sock jg_cli_timed "$JG_T/rf.out" "$JG_T/rf.err" exec -A web1 -- true
if [ "$RC" = 255 ] && [ "$(wc -l <"$JG_T/rf.err")" = 1 ] &&
	grep -q "^jumpgate: web1: .*Permission denied" "$JG_T/rf.err" && [ "$MS" -lt 30000 ]; then
	jg_ok "an agent refusing to sign: one line, ${MS} ms ($(cat "$JG_T/rf.err"))"
else
	jg_notok "an agent refusing to sign: one line naming web1 (exit $RC, ${MS} ms: $(head -c 300 "$JG_T/rf.err"))"
fi

# ---------------------------------------------------------------- no agent, empty agent

jg_cli_timed "$JG_T/e.out" "$JG_T/e.err" exec -A web1 -- true
if [ "$RC" = 255 ] && [ "$(wc -l <"$JG_T/e.err")" = 1 ] &&
	grep -q "^jumpgate: web1: -A: no ssh-agent to forward: SSH_AUTH_SOCK is not set" "$JG_T/e.err"; then
	jg_ok "no agent: $(cat "$JG_T/e.err")"
else
	jg_notok "no agent: one clear line (exit $RC: $(head -c 300 "$JG_T/e.err"))"
fi
SSH_AUTH_SOCK=$JG_T/empty.sock jg_cli_timed "$JG_T/e.out" "$JG_T/e.err" exec -A web1 -- true
if [ "$RC" = 255 ] && [ "$(wc -l <"$JG_T/e.err")" = 1 ] && grep -q "web1: -A: .*holds no keys" "$JG_T/e.err"; then
	jg_ok "an agent without keys: $(cat "$JG_T/e.err")"
else
	jg_notok "an agent without keys: one clear line (exit $RC: $(head -c 300 "$JG_T/e.err"))"
fi
SSH_AUTH_SOCK=$JG_T/nothing-here.sock jg_cli_timed "$JG_T/e.out" "$JG_T/e.err" exec -A web1 -- true
if [ "$RC" = 255 ] && [ "$(wc -l <"$JG_T/e.err")" = 1 ] && grep -q "web1: -A: cannot reach the ssh-agent" "$JG_T/e.err"; then
	jg_ok "an agent socket that is not there: $(cat "$JG_T/e.err")"
else
	jg_notok "an agent socket that is not there: one clear line (exit $RC: $(head -c 300 "$JG_T/e.err"))"
fi

# The gateway stops cleanly, and said nothing of the sanitizers.
jg_gateway_stop 10 || true
if [ "$JG_GW_STATUS" = 0 ] && ! grep -q "Sanitizer\|runtime error" "$JG_GW_LOG"; then
	jg_ok "gateway exits 0 on SIGTERM, no sanitizer report"
else
	jg_notok "gateway exit $JG_GW_STATUS, sanitizer reports: $(grep -c "Sanitizer\|runtime error" "$JG_GW_LOG")"
	grep -A20 "Sanitizer\|runtime error" "$JG_GW_LOG" | head -40
fi

jg_done
