#!/bin/bash
# A program that is not there exits 127 and one that cannot run 126, as a
# shell and ssh say (issue 17): over the local method and over ssh (real
# sshd; an inventory name and a spec), for exec, rsh and run --json; "cannot run NAME: REASON" comes on stderr.  A
# missing working directory stays a jumpgate error (255, "cannot change
# directory").
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki

SSH=0
if [ -f "$srcdir/tests/integration/sshd.sh" ] && [ -x "${JG_SSHD:-/usr/sbin/sshd}" ] &&
	command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
	. "$srcdir/tests/integration/sshd.sh"
	trap jg_ssh_cleanup EXIT
	jg_ssh_client_key
	if jg_sshd_start s1 127.0.0.2; then
		SSH=1
		jg_ok "sshd s1 listens on 127.0.0.2:${JG_SSHD_PORT[s1]}"
	else
		jg_notok "sshd s1 starts"
	fi
fi
if [ $SSH = 1 ]; then
	JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = ( { name = \"l1\"; method = \"local\"; },
  $(jg_ssh_target s1 127.0.0.2 "${JG_SSHD_PORT[s1]}") );"
else
	JG_CONF_EXTRA='targets = ( { name = "l1"; method = "local"; } );'
fi
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

# A file that exists but may not be executed.
NX=$JG_T/not-executable
printf '#!/bin/sh\necho ran\n' >"$NX"
chmod 0644 "$NX"
chmod 0755 "$JG_T"

# status WHAT WANT_RC WANT_ERR CLI-ARGS...
status() {
	local what=$1 want=$2 werr=$3 rc
	shift 3
	if jg_cli "$@" </dev/null >"$JG_T/st.out" 2>"$JG_T/st.err"; then rc=0; else rc=$?; fi
	if [ "$rc" = "$want" ] && grep -qF -- "$werr" "$JG_T/st.err"; then
		jg_ok "$what: exit $want, '$werr' on stderr"
	else
		jg_notok "$what: exit $want with '$werr' (got $rc)"
		jg_show "$JG_T/st.err" 5
	fi
}

targets="l1"
[ $SSH = 0 ] || targets="l1 s1"
for t in $targets; do
	status "exec on $t, no such command" 127 "cannot run jg-no-such-command: No such file or directory" \
		exec "$t" -- jg-no-such-command
	status "exec on $t, no such path" 127 "cannot run /nonexistent/jg-cmd: No such file or directory" \
		exec "$t" -- /nonexistent/jg-cmd
	status "exec on $t, not executable" 126 "cannot run $NX: Permission denied" \
		exec "$t" -- "$NX"
	status "rsh on $t, no such command" 127 "" rsh "$t" jg-no-such-command
	status "exec on $t, missing working directory: a jumpgate error" 255 \
		"cannot change directory to /nonexistent-dir" exec -C /nonexistent-dir "$t" -- true
done
if [ $SSH = 1 ]; then
	status "exec on the spec ssh:USER@127.0.0.2:PORT, no such command" 127 \
		"cannot run jg-no-such-command" exec "ssh:$(id -un)@127.0.0.2:${JG_SSHD_PORT[s1]}" -- jg-no-such-command
fi

if command -v python3 >/dev/null 2>&1; then
	if jg_cli run --json "${targets// /,}" -- jg-no-such-command </dev/null >"$JG_T/run.json" 2>"$JG_T/run.err"; then rc=0; else rc=$?; fi
	if python3 - "$JG_T/run.json" <<'PY'; then
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc and all(e["outcome"] == "failed" and e["exit"] == 127 for e in doc), doc
assert all("cannot run jg-no-such-command" in e["stderr"] for e in doc), doc
PY
		jg_ok "run --json: every target 'failed' with exit 127 and the reason in its stderr (run exit $rc)"
	else
		jg_notok "run --json: exit 127 per target"
		jg_show "$JG_T/run.json" 5
	fi
fi
jg_done
