#!/bin/bash
# Raw mode (`raw = true` in the inventory): one `ssh host 'cmd'` per exec and
# no agent, against a real OpenSSH server on 127.0.0.2.  Pins: stdout and
# stderr kept apart and the exit code carried; argv (spaces, quotes, $, glob
# and shell characters, empty strings) arriving verbatim; -e / -C honoured;
# 8 MiB of stdin through cat unchanged; no agent sent (no cache directory on
# the target, no agent link in /v1/stats); a PTY request refused with 400; a
# wrong key reported as an authentication failure with exit 255; a client
# that goes away takes its ssh with it; SIGINT ends the exec as a signal; flat
# fds and no zombies after 100 raw execs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup

jg_sshd_start raw 127.0.0.2 || { jg_notok "sshd starts on 127.0.0.2"; jg_done; }
jg_ok "sshd listens on 127.0.0.2:${JG_SSHD_PORT[raw]} (pid ${JG_SSHD_PID[raw]})"
P=${JG_SSHD_PORT[raw]}
RHOME=${JG_SSHD_HOME[raw]}
ssh-keygen -q -t ed25519 -N '' -f "$JG_SSH_DIR/wrong_key" </dev/null >/dev/null

# Password logins (ssh's controlling terminal answered by the gateway) need a
# local user with a password: only as root; the user is removed by the trap.
PW_USER=jgraw$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
PW_PASS=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
PW_MADE=0
pw_user_cleanup() {
	[ "$PW_MADE" = 1 ] || return 0
	local deadline=$((SECONDS + 10))
	while [ -n "$(ps -o pid= -u "$PW_USER" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do
		sleep 0.1
	done
	userdel -r "$PW_USER" >/dev/null 2>&1 || userdel -f -r "$PW_USER" >/dev/null 2>&1 ||
		printf '# could not remove user %s\n' "$PW_USER"
	PW_MADE=0
}
JG_SSH_CLEANUP_HOOK=pw_user_cleanup
PW_TARGETS=
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v chpasswd >/dev/null &&
	useradd -m -s /bin/sh -c 'jumpgate raw test user' "$PW_USER" 2>/dev/null; then
	PW_MADE=1
	printf '%s:%s\n' "$PW_USER" "$PW_PASS" | chpasswd
	if JG_SSHD_PASSWORD=1 jg_sshd_start rawpw 127.0.0.3; then
		PP=${JG_SSHD_PORT[rawpw]}
		PW_TARGETS=",
  $(jg_ssh_target rawpw 127.0.0.3 "$PP" "raw = true; user = \"$PW_USER\"; password = \"$PW_PASS\";"),
  $(jg_ssh_target rawpwbad 127.0.0.3 "$PP" "raw = true; user = \"$PW_USER\"; password = \"not-$PW_PASS\";")"
	else
		jg_notok "sshd with password logins starts on 127.0.0.3"
	fi
fi

JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $(jg_ssh_target rawbox 127.0.0.2 "$P" "raw = true;"),
  $(jg_ssh_target rawbad 127.0.0.2 "$P" "raw = true; identity_file = \"$JG_SSH_DIR/wrong_key\";")$PW_TARGETS
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

# The first connection records the host key (accept): ssh says so on stderr,
# which raw mode passes through like every stderr byte.
jg_cli_timed "$JG_T/w.out" "$JG_T/w.err" exec rawbox -- true
if [ "$RC" = 0 ]; then
	jg_ok "raw exec rawbox -- true: exit 0 (${MS} ms; stderr: $(head -c 120 "$JG_T/w.err" | tr '\n' ' '))"
else
	jg_notok "raw exec rawbox -- true (exit $RC)"
	jg_show "$JG_T/w.err" 5
	jg_show "${JG_SSHD_LOG[raw]}" 10
fi

# ---------------------------------------------------------------- stdio, exit code

jg_cli_timed "$JG_T/s.out" "$JG_T/s.err" exec rawbox -- sh -c 'echo out; echo err >&2; exit 3'
if [ "$RC" = 3 ] && [ "$(cat "$JG_T/s.out")" = out ] && [ "$(cat "$JG_T/s.err")" = err ]; then
	jg_ok "stdout and stderr kept apart, exit 3 carried"
else
	jg_notok "stdout/stderr/exit (exit $RC, out '$(head -c 100 "$JG_T/s.out")', err '$(head -c 200 "$JG_T/s.err")')"
fi

for code in 0 1 42 254; do
	jg_cli_timed "$JG_T/x.out" "$JG_T/x.err" exec rawbox -- sh -c "exit $code"
	[ "$RC" = "$code" ] || break
done
jg_check "exit codes 0 1 42 254 carried (last: $RC)" [ "$RC" = 254 ]

# ---------------------------------------------------------------- argv verbatim

jg_cli_timed "$JG_T/a.out" "$JG_T/a.err" exec rawbox -- printf '[%s]' 'a b' "it's" '$HOME' \
	'*' '; echo pwned' '' '`id`' 'back\slash' '"dq"' '-n'
want='[a b][it'"'"'s][$HOME][*][; echo pwned][][`id`][back\slash]["dq"][-n]'
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/a.out")" = "$want" ]; then
	jg_ok "argv arrives verbatim: $(cat "$JG_T/a.out")"
else
	jg_notok "argv verbatim (exit $RC): got '$(cat "$JG_T/a.out")', want '$want'"
	jg_show "$JG_T/a.err" 5
fi

printf 'line1\nline 2\n' >"$JG_T/nl.arg"
jg_cli_timed "$JG_T/n.out" "$JG_T/n.err" exec rawbox -- printf '%s' "$(cat "$JG_T/nl.arg")"
jg_check "an argument with newlines arrives verbatim" \
	[ "$RC" = 0 ] && [ "$(cat "$JG_T/n.out")" = "$(cat "$JG_T/nl.arg")" ]

mkdir -p "$JG_T/dir with space"
jg_cli_timed "$JG_T/e.out" "$JG_T/e.err" exec -e "FOO=x 'y' \$z" -C "$JG_T/dir with space" \
	rawbox -- sh -c 'printf "%s|%s|%s\n" "$FOO" "$(pwd)" "${HOME:-unset}"'
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/e.out")" = "x 'y' \$z|$JG_T/dir with space|$RHOME" ]; then
	jg_ok "-e adds to the environment (HOME kept) and -C sets the directory: $(cat "$JG_T/e.out")"
else
	jg_notok "-e / -C (exit $RC): '$(cat "$JG_T/e.out")'"
	jg_show "$JG_T/e.err" 5
fi

jg_cli_timed "$JG_T/c.out" "$JG_T/c.err" exec rawbox -- nosuch-program-here
jg_check "a missing program: exit 127 from the remote shell (got $RC)" [ "$RC" = 127 ]

# ---------------------------------------------------------------- 8 MiB of stdin

head -c $((8 * 1024 * 1024)) /dev/urandom >"$JG_T/big.in"
t0=$(date +%s%N)
if jg_cli exec rawbox -- cat <"$JG_T/big.in" >"$JG_T/big.out" 2>"$JG_T/big.err"; then RC=0; else RC=$?; fi
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$RC" = 0 ] && [ "$(jg_sha256 "$JG_T/big.in")" = "$(jg_sha256 "$JG_T/big.out")" ]; then
	jg_ok "8 MiB through cat: sha256 equal (${ms} ms)"
else
	jg_notok "8 MiB through cat (exit $RC, $(stat -c %s "$JG_T/big.out") bytes back)"
	jg_show "$JG_T/big.err" 5
fi

# Output larger than every window while the client reads: backpressure, no loss.
if jg_cli exec rawbox -- head -c 20000000 /dev/zero </dev/null 2>"$JG_T/z.err" | cmp -s - <(head -c 20000000 /dev/zero); then
	jg_ok "20 MB of stdout arrive whole"
else
	jg_notok "20 MB of stdout arrive whole"
	jg_show "$JG_T/z.err" 5
fi

# ---------------------------------------------------------------- no agent

if [ ! -e "$RHOME/.cache/jumpgate" ]; then
	jg_ok "no agent cache on the target ($RHOME/.cache/jumpgate absent)"
else
	jg_notok "no agent cache on the target: $(ls -la "$RHOME/.cache/jumpgate" | tr '\n' ' ')"
fi
links=$(jg_links)
if ! printf '%s\n' "$links" | grep -q rawbox && ! grep -q "sending the agent" "$JG_GW_LOG"; then
	jg_ok "no agent link for rawbox in /v1/stats, no agent sent"
else
	jg_notok "no agent link for rawbox: $links"
fi

# ---------------------------------------------------------------- refusals, failures

# OPEN with ARGV ["true"] and PTY 24x80: raw mode has no pty.
{
	printf '\x01'; jg_be32 5; printf 'true\0'
	printf '\x04'; jg_be32 4; printf '\x00\x18\x00\x50'
} >"$JG_T/ptyspec"
jg_frame 2 0 1 "$JG_T/ptyspec" >"$JG_T/pty.body"
code=$(jg_curl /v1/targets/rawbox/exec -X POST -H 'content-type: application/x-jumpgate-frames' \
	--data-binary @"$JG_T/pty.body" -o "$JG_T/pty.resp" -w '%{http_code}' 2>/dev/null || true)
if [ "$code" = 400 ] && grep -q 'raw mode has no pty' "$JG_T/pty.resp"; then
	jg_ok "a PTY request is refused: 400 $(cat "$JG_T/pty.resp")"
else
	jg_notok "a PTY request is refused with 400 (got $code: $(head -c 200 "$JG_T/pty.resp"))"
fi

# Garbage after a good OPEN: ssh was started (200 sent), so the reason comes
# as the last frame, DEAD, and the ssh is stopped.
{ jg_open_exec sleep 30; printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'; } >"$JG_T/bad.body"
code=$(jg_curl /v1/targets/rawbox/exec -X POST -H 'content-type: application/x-jumpgate-frames' \
	--data-binary @"$JG_T/bad.body" -o "$JG_T/bad.resp" -w '%{http_code}' 2>/dev/null || true)
last=$(jg_frames_list "$JG_T/bad.resp" | tail -n1)
if [ "$code" = 200 ] && [ "${last%% *}" = DEAD ]; then
	jg_ok "garbage after OPEN: 200 then DEAD ($(tail -c +17 "$JG_T/bad.resp" | head -c 80))"
else
	jg_notok "garbage after OPEN: 200 then DEAD (got $code, last frame '$last')"
fi

jg_cli_timed "$JG_T/b.out" "$JG_T/b.err" exec rawbad -- true
if [ "$RC" = 255 ] && grep -q 'authentication' "$JG_T/b.err"; then
	jg_ok "wrong key: exit 255, $(grep -m1 authentication "$JG_T/b.err")"
else
	jg_notok "wrong key: exit 255 with an authentication reason (exit $RC: $(head -c 300 "$JG_T/b.err"))"
fi

if [ -n "$PW_TARGETS" ]; then
	printf 'stdin over a password login\n' >"$JG_T/pw.in"
	jg_cli exec rawpw -- sh -c 'id -un; cat' <"$JG_T/pw.in" >"$JG_T/pw.out" 2>"$JG_T/pw.err" && RC=0 || RC=$?
	if [ "$RC" = 0 ] && [ "$(cat "$JG_T/pw.out")" = "$PW_USER
stdin over a password login" ]; then
		jg_ok "password login (ssh's terminal answered): $(head -n1 "$JG_T/pw.out"), stdin carried"
	else
		jg_notok "password login (exit $RC, out '$(head -c 200 "$JG_T/pw.out")', err '$(head -c 300 "$JG_T/pw.err")')"
	fi
	jg_cli_timed "$JG_T/pb.out" "$JG_T/pb.err" exec rawpwbad -- true
	if [ "$RC" = 255 ] && grep -q 'authentication failed' "$JG_T/pb.err"; then
		jg_ok "wrong password: exit 255 in ${MS} ms, $(grep -m1 'authentication' "$JG_T/pb.err")"
	else
		jg_notok "wrong password: exit 255 with an authentication reason (exit $RC: $(head -c 300 "$JG_T/pb.err"))"
	fi
else
	jg_ok "# SKIP password logins (needs root, useradd and chpasswd)"
fi

# ---------------------------------------------------------------- early ends

# gateway's ssh children (comm "ssh").
ssh_children() {
	local d n=0
	for d in $(jg_child_pids "$JG_GW_PID"); do
		[ "$(jg_comm "$d")" = ssh ] && n=$((n + 1))
	done
	echo $n
}
wait_ssh_children() { # N SECONDS
	local deadline=$((SECONDS + $2))
	while [ "$(ssh_children)" != "$1" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# The CLI itself in the background (not through jg_cli's timeout: signals must
# reach it), stopped by its PID.
cli_bg() {
	"$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" "$@" &
	cli=$!
	jg_track cli "$cli"
}

cli_bg exec rawbox -- sleep 60 </dev/null >/dev/null 2>&1
if jg_wait_descendant "$JG_GW_PID" ssh 10; then
	kill -KILL "$cli" 2>/dev/null || true
	wait "$cli" 2>/dev/null || true
	jg_untrack cli
	if wait_ssh_children 0 5; then
		jg_ok "client killed mid-exec: the gateway's ssh ends too"
	else
		jg_notok "client killed mid-exec: $(ssh_children) ssh still running after 5 s"
	fi
else
	jg_notok "raw exec sleep 60 starts an ssh"
fi

# A sleep that would outlive the test: the CLI turns SIGINT into a SIGNAL frame,
# which kills the local ssh; the exec ends as "killed by SIGINT" (130).
cli_bg exec rawbox -- sleep 60 </dev/null >/dev/null 2>"$JG_T/int.err"
if jg_wait_descendant "$JG_GW_PID" ssh 10; then
	sleep 0.3
	kill -INT "$cli" 2>/dev/null || true
	t0=$SECONDS
	while jg_alive "$cli" && [ $((SECONDS - t0)) -lt 10 ]; do sleep 0.05; done
	if wait "$cli" 2>/dev/null; then RC=0; else RC=$?; fi
	jg_untrack cli
	if [ "$RC" = 130 ]; then
		jg_ok "SIGINT: the local ssh is killed, exit 130"
	else
		jg_notok "SIGINT: exit $RC, expected 130 ($(head -c 200 "$JG_T/int.err"))"
	fi
else
	jg_notok "raw exec sleep 60 starts an ssh (SIGINT case)"
fi
wait_ssh_children 0 5 || true

# ---------------------------------------------------------------- leaks

fd0=$(jg_fd_count "$JG_GW_PID")
fails=0
for i in $(seq 1 100); do
	out=$(jg_cli exec rawbox -- echo "$i" </dev/null 2>/dev/null) || fails=$((fails + 1))
	[ "$out" = "$i" ] || fails=$((fails + 1))
done
jg_check "100 raw execs succeed ($fails failures)" [ "$fails" = 0 ]
wait_ssh_children 0 5 || true
fd1=$(jg_fd_count "$JG_GW_PID")
jg_check "gateway fds flat after 100 raw execs ($fd0 -> $fd1)" [ "$fd1" -le "$fd0" ]
z=$(jg_zombies "$JG_GW_PID")
jg_check "no zombies under the gateway${z:+: $z}" [ -z "$z" ]

stats=$(jg_stats | tr -d ' \n')
cur=$(printf '%s' "$stats" | grep -o '"exec":{[^}]*}' | grep -o '"current":[0-9]*' | cut -d: -f2)
jg_check "stats: no exec left current (exec: $(printf '%s' "$stats" | grep -o '"exec":{[^}]*}'))" [ "$cur" = 0 ]

jg_gateway_stop 10
jg_check "gateway exits 0 on SIGTERM (status $JG_GW_STATUS)" [ "$JG_GW_STATUS" = 0 ]
jg_done
