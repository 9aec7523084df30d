#!/bin/bash
# Password logins over the ssh method's PTY path, against a real sshd with
# PasswordAuthentication (UsePAM no: checked against /etc/shadow) and a
# local user this test creates (jgpw<random>, removed by the EXIT trap with
# its home).  A login banner mentioning "password" is not taken for the
# prompt; the right password works; a wrong one fails with "authentication
# failed", exit 255, within the connect timeout.  Needs root (useradd).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
if [ "$(id -u)" != 0 ]; then
	printf 'ok - # SKIP creating a local user needs root\n'
	exit 77
fi
jg_require useradd userdel chpasswd

PW_USER=jgpw$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
PW_PASS=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
PW_MADE=0

# Remove the user (and its home) once nothing of it runs any more.
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

if ! id "$PW_USER" >/dev/null 2>&1 && useradd -m -s /bin/sh -c 'jumpgate test user' "$PW_USER"; then
	PW_MADE=1
	printf '%s:%s\n' "$PW_USER" "$PW_PASS" | chpasswd
	jg_ok "local user $PW_USER created (home $(getent passwd "$PW_USER" | cut -d: -f6))"
else
	jg_notok "local user $PW_USER created"
	jg_done
fi

# A banner that mentions the password without being a prompt.
BANNER=$JG_T/banner
printf 'Authorised use only.\nYour password and every command are audited.\npassword policy: see the wiki\n' >"$BANNER"
JG_SSHD_PASSWORD=1 JG_SSHD_SETHOME=0 JG_SSHD_EXTRA="Banner $BANNER" jg_sshd_start pw 127.0.0.3 ||
	{ jg_notok "sshd with password auth starts on 127.0.0.3"; jg_done; }
P=${JG_SSHD_PORT[pw]}
jg_ok "sshd with PasswordAuthentication listens on 127.0.0.3:$P"

CONNECT_TIMEOUT=10
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $(jg_ssh_target pw1 127.0.0.3 "$P" "user = \"$PW_USER\"; password = \"$PW_PASS\";"),
  $(jg_ssh_target pwbad 127.0.0.3 "$P" "user = \"$PW_USER\"; password = \"not-$PW_PASS\";"),
  $(jg_ssh_target nopw 127.0.0.3 "$P" "user = \"$PW_USER\";")
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

jg_cli_timed "$JG_T/a.out" "$JG_T/a.err" exec pw1 -- sh -c 'id -un; echo "$HOME"'
if [ "$RC" = 0 ] && [ "$(head -n1 "$JG_T/a.out")" = "$PW_USER" ]; then
	jg_ok "password auth: exec pw1 -- id -un says $PW_USER (${MS} ms, banner mentioning 'password' ignored)"
else
	jg_notok "password auth: exec pw1 -- id -un (exit $RC, out '$(head -c 200 "$JG_T/a.out")')"
	jg_show "$JG_T/a.err" 5
	jg_show "${JG_SSHD_LOG[pw]}" 10
fi
home=$(getent passwd "$PW_USER" | cut -d: -f6)
if ls "$home"/.cache/jumpgate/agent-* >/dev/null 2>&1; then
	jg_ok "the agent is cached in $PW_USER's home"
else
	jg_notok "the agent is cached in $PW_USER's home ($home/.cache/jumpgate)"
fi

# More operations share that connection; stdin and exit codes carried.
link=$(jg_link pw1)
pid1=$(jg_json_val "$link" pid)
printf 'through the pty path\n' >"$JG_T/in"
if out=$(jg_cli exec pw1 -- cat <"$JG_T/in" 2>"$JG_T/b.err") && [ "$out" = "through the pty path" ]; then
	jg_ok "password target: stdin carried to cat and back"
else
	jg_notok "password target: stdin carried to cat and back (got '${out:-}')"
	jg_show "$JG_T/b.err" 3
fi
head -c 1048576 /dev/urandom >"$JG_T/mib"
if [ "$(jg_cli exec pw1 -- cat <"$JG_T/mib" 2>"$JG_T/m.err" | jg_sha256 -)" = "$(jg_sha256 "$JG_T/mib")" ]; then
	jg_ok "password target: 1 MiB of binary stdin back intact (the PTY is ssh's, not the channel's)"
else
	jg_notok "password target: 1 MiB of binary stdin back intact"
	jg_show "$JG_T/m.err" 3
fi
jg_cli_timed "$JG_T/x.out" "$JG_T/x.err" exec pw1 -- sh -c 'exit 7'
if [ "$RC" = 7 ]; then jg_ok "password target: exit 7 mirrored"; else
	jg_notok "password target: exit 7 mirrored (got $RC)"
	jg_show "$JG_T/x.err" 3
fi
pid2=$(jg_json_val "$(jg_link pw1)" pid)
if [ -n "$pid1" ] && [ "$pid1" = "$pid2" ]; then
	jg_ok "password target: one connection (ssh pid $pid1) for all"
else
	jg_notok "password target: one connection for all (pid ${pid1:-none} -> ${pid2:-none})"
fi

# A wrong password.
JG_TIMEOUT=60 jg_cli_timed "$JG_T/w.out" "$JG_T/w.err" exec pwbad -- echo should-not-run
if [ "$RC" = 255 ] && grep -qi 'authentication failed' "$JG_T/w.err" && ! grep -q should-not-run "$JG_T/w.out"; then
	jg_ok "wrong password: exit 255, $(head -n1 "$JG_T/w.err")"
else
	jg_notok "wrong password: exit 255 and 'authentication failed' (exit $RC: $(head -c 300 "$JG_T/w.err"))"
	jg_show "${JG_SSHD_LOG[pw]}" 5
fi
if [ "$MS" -le $((CONNECT_TIMEOUT * 1000 + 2000)) ]; then
	jg_ok "wrong password: answered in ${MS} ms (connect timeout ${CONNECT_TIMEOUT} s)"
else
	jg_notok "wrong password: answered within the connect timeout ${CONNECT_TIMEOUT} s (took ${MS} ms)"
fi
if [ "$(wc -l <"$JG_T/w.err")" -le 1 ]; then
	jg_ok "wrong password: one line on stderr"
else
	jg_notok "wrong password: one line on stderr ($(wc -l <"$JG_T/w.err") lines)"
fi
if grep -qF -- "$PW_PASS" "$JG_T/w.err" "$JG_T/a.err" "$JG_GW_LOG"; then
	jg_notok "the password appears in no message or log line"
else
	jg_ok "the password appears in no message or log line"
fi

# No password and no key for that user: BatchMode, refused at once.
JG_TIMEOUT=60 jg_cli_timed "$JG_T/n.out" "$JG_T/n.err" exec nopw -- true
if [ "$RC" = 255 ] && grep -qi 'authentication failed' "$JG_T/n.err" && [ "$MS" -le 5000 ]; then
	jg_ok "no password, no key: exit 255 at once (${MS} ms), $(head -n1 "$JG_T/n.err")"
else
	jg_notok "no password, no key: exit 255 and 'authentication failed' within 5 s (exit $RC, ${MS} ms: $(head -c 300 "$JG_T/n.err"))"
fi

# The good target still works after the failures.
if out=$(jg_cli exec pw1 -- echo still </dev/null 2>"$JG_T/s.err") && [ "$out" = still ]; then
	jg_ok "password target still works after the failures"
else
	jg_notok "password target still works after the failures"
	jg_show "$JG_T/s.err" 3
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_sshd_cleanup
pw_user_cleanup
if id "$PW_USER" >/dev/null 2>&1; then jg_notok "user $PW_USER removed"; else jg_ok "user $PW_USER removed"; fi
jg_done
