#!/bin/bash
# Ansible through jumpgate, for real (issue 14): Debian's ansible-playbook runs
# tests/integration/ansible/site.yml -- the very files docs/ansible.md shows --
# against three OpenSSH servers on loopback through a real gateway, with the
# one-word stand-ins as ssh_executable, sftp_executable and scp_executable:
# ping, copy (default "smart" transfer method), template, command, shell,
# become via sudo, fetch, a delegate_to fan-in, synchronize push and pull and
# synchronize delegated to web1.  web1 and web2 are names in the gateway's
# inventory; db1 is given to Ansible by address and port (ssh:HOST:PORT).
# The results are checked on the targets (content, mode), the recap must
# show no failure, and no warning about sftp or scp may appear.  Then the
# same playbook under the mitogen_linear strategy (ansible-mitogen), riding
# jumpgate-ssh as Mitogen's ssh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
jg_require ansible-playbook rsync python3
T=$JG_T
PLAY=$srcdir/tests/integration/ansible

declare -A ADDR=([web1]=127.0.0.2 [web2]=127.0.0.3 [db1]=127.0.0.4)
for h in web1 web2 db1; do
	jg_sshd_start "$h" "${ADDR[$h]}" || { jg_notok "sshd $h starts on ${ADDR[$h]}"; jg_done; }
done
jg_ok "sshd web1, web2, db1 on ${ADDR[web1]}:${JG_SSHD_PORT[web1]}, ${ADDR[web2]}:${JG_SSHD_PORT[web2]}, ${ADDR[db1]}:${JG_SSHD_PORT[db1]}"
# The audit records on the gateway's stderr (its log), where the checks read them.
JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
audit = \"stderr\";
targets = ( $(jg_ssh_target web1 "${ADDR[web1]}" "${JG_SSHD_PORT[web1]}"),
            $(jg_ssh_target web2 "${ADDR[web2]}" "${JG_SSHD_PORT[web2]}") );"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT"

# The controller: the stand-ins on PATH (as make install lays them out), the
# gateway and certificate in the environment, Ansible's own files under $T.
mkdir -p "$T/bin"
ln -s "$JUMPGATE" "$T/bin/jumpgate"
for s in ssh scp sftp; do ln -s jumpgate "$T/bin/jumpgate-$s"; done
export PATH="$T/bin:$PATH"
export JUMPGATE_GATEWAY=127.0.0.1:$JG_PORT JUMPGATE_CERT=$JG_CERT JUMPGATE_KEY=$JG_KEY JUMPGATE_CA=$JG_CA
export ANSIBLE_CONFIG=$PLAY/ansible.cfg ANSIBLE_LOCAL_TEMP=$T/ansible-local ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
# Ansible refuses to start without a UTF-8 locale (lib.sh sets LC_ALL=C).
ANSIBLE_LC=C.UTF-8
# db1's sshd listens on a free port, not inventory.yml's 2222: a second
# inventory source, read after the first, says which (a literal: synchronize
# reads ansible_port untemplated).
printf 'all:\n  hosts:\n    db1:\n      ansible_port: %s\n' "${JG_SSHD_PORT[db1]}" >"$T/ports.yml"
# synchronize delegated to web1 runs jumpgate-ssh on web1 (this machine): it
# gets the same PATH and certificate, as a real web1 would have its own.
DELEGATE_ENV=$(printf '{"jg_delegate_env": {"PATH": "%s", "JUMPGATE_GATEWAY": "%s", "JUMPGATE_CERT": "%s", "JUMPGATE_KEY": "%s", "JUMPGATE_CA": "%s"}}' \
	"$PATH" "$JUMPGATE_GATEWAY" "$JG_CERT" "$JG_KEY" "$JG_CA")

# check_results ROOT LABEL: what site.yml leaves on each target.
check_results() {
	local root=$1 label=$2 h bad=
	for h in web1 web2 db1; do
		local d=$root/$h
		[ "$(cat "$d/motd" 2>/dev/null)" = "message of the day" ] && [ "$(stat -c %a "$d/motd")" = 640 ] ||
			bad="$bad $h:motd"
		[ "$(cat "$d/hello" 2>/dev/null)" = "hello $h" ] && [ "$(stat -c %a "$d/hello")" = 604 ] ||
			bad="$bad $h:hello"
		grep -qx "name = $h" "$d/app.conf" 2>/dev/null && [ "$(stat -c %a "$d/app.conf")" = 600 ] ||
			bad="$bad $h:template"
		[ "$(cat "$d/shell.out" 2>/dev/null)" = "42 Linux" ] || bad="$bad $h:command+shell"
		[ "$(cat "$d/become.out" 2>/dev/null)" = "root root" ] || bad="$bad $h:become($(cat "$d/become.out" 2>/dev/null || true))"
		cmp -s "$root/fetched/$h$d/hello" "$d/hello" || bad="$bad $h:fetch"
		[ "$(cat "$root/web1/fanin-$h" 2>/dev/null)" = "$h" ] || bad="$bad $h:delegate_to"
		diff -r "$PLAY/files/tree" "$d/tree" >/dev/null 2>&1 || bad="$bad $h:synchronize-push"
		diff -r "$PLAY/files/tree" "$root/pulled-$h" >/dev/null 2>&1 || bad="$bad $h:synchronize-pull"
		diff -r "$PLAY/files/tree" "$d/tree-from-web1" >/dev/null 2>&1 || bad="$bad $h:synchronize-delegated"
	done
	if [ -z "$bad" ]; then
		jg_ok "$label: on web1, web2, db1: copy, content, template (modes 640/604/600), command, shell, become via sudo, fetch, delegate_to fan-in, synchronize push, pull, delegated"
	else
		jg_notok "$label: results on the targets:$bad"
	fi
}

# Mitogen 0.3.3 (Debian 12) returns ansible_facts from a delegated task, which
# ansible-core 2.14 strips with this warning, through jumpgate or not.
KNOWN_WARNING='[WARNING]: Removed restricted key from module data: ansible_facts'

# run_play LABEL [ENV...]: ansible-playbook site.yml; recap clean, no sftp/scp warning.
run_play() {
	local label=$1 root=$T/run-$2 rc=0
	shift 2
	mkdir -p "$root"
	env LC_ALL=$ANSIBLE_LC "$@" timeout 600 ansible-playbook -i "$PLAY/inventory.yml" -i "$T/ports.yml" \
		-e "$DELEGATE_ENV" -e "{\"jg_root\": \"$root\"}" "$PLAY/site.yml" \
		</dev/null >"$root.out" 2>&1 || rc=$?
	if [ $rc = 0 ] && grep -Eq 'web1 +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0' "$root.out" &&
		grep -Eq 'db1 +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0' "$root.out"; then
		jg_ok "$label: ansible-playbook site.yml exit 0, no host failed or unreachable"
	else
		jg_notok "$label: ansible-playbook site.yml (exit $rc)"
		jg_show "$root.out" 40
	fi
	if [ $rc != 0 ]; then
		jg_notok "$label: no sftp/scp warning (not known: the playbook failed)"
	elif grep -Eiq 'sftp|scp' "$root.out"; then
		jg_notok "$label: a warning about sftp/scp: $(grep -Ei 'sftp|scp' "$root.out" | head -n2 | tr '\n' ' ')"
	elif grep 'WARNING' "$root.out" | grep -vqF "$KNOWN_WARNING"; then
		jg_notok "$label: a warning: $(grep WARNING "$root.out" | head -n2 | tr '\n' ' ')"
	else
		jg_ok "$label: no warning about sftp or scp, nor any other (sftp rides jumpgate-sftp, no fallback)"
		! grep -qF "$KNOWN_WARNING" "$root.out" ||
			jg_log "$label: Mitogen 0.3.3's own warning after the delegated task: $KNOWN_WARNING"
	fi
	check_results "$root" "$label"
}

run_play "ssh plugin" linear
# The control: OpenSSH's own sftp and scp (which do not know the gateway) make
# the warnings the check above looks for, and Ansible falls back to piped.
rc=0
env LC_ALL=$ANSIBLE_LC ANSIBLE_SFTP_EXECUTABLE=sftp ANSIBLE_SCP_EXECUTABLE=scp timeout 300 \
	ansible web1 -i "$PLAY/inventory.yml" -m copy -a "content=x dest=$T/control mode=0600" \
	</dev/null >"$T/control.out" 2>&1 || rc=$?
if [ $rc = 0 ] && grep -q 'WARNING.*sftp transfer mechanism failed' "$T/control.out"; then
	jg_ok "control: with plain sftp/scp as transfer programs Ansible warns ($(grep -m1 WARNING "$T/control.out" | cut -c1-80))"
else
	jg_notok "control: plain sftp/scp warn (exit $rc)"
	jg_show "$T/control.out" 10
fi
# docs/ansible.md shows these very files.
for f in ansible.cfg inventory.yml site.yml; do
	if awk -v f="tests/integration/ansible/$f" '
		$0 == "<!-- file: " f " -->" { want = 1; next }
		want == 1 && /^```/ { want = 2; next }
		want == 2 && /^```$/ { exit }
		want == 2 { print }' "$srcdir/docs/ansible.md" | cmp -s - "$PLAY/$f"; then
		jg_ok "docs/ansible.md shows tests/integration/ansible/$f as it is"
	else
		jg_notok "docs/ansible.md shows tests/integration/ansible/$f as it is"
	fi
done
# The gateway, not some other path, carried it: its audit names each target.
for t in web1 web2 "ssh:127.0.0.4:${JG_SSHD_PORT[db1]}"; do
	if grep -q "\"target\":\"$t\"" "$JG_GW_LOG"; then
		jg_ok "the gateway ran operations on $t"
	else
		jg_notok "the gateway ran operations on $t"
	fi
done
# ansible-mitogen is a Python package of the interpreter that runs Ansible.
APY=$(sed -n '1s/^#! *//p' "$(command -v ansible-playbook)" | cut -d' ' -f1)
if "${APY:-python3}" -c 'import ansible_mitogen' 2>/dev/null; then
	run_play "mitogen_linear" mitogen ANSIBLE_STRATEGY=mitogen_linear
	# Mitogen rode jumpgate-ssh: one long-lived exec per target running its Python bootstrap.
	if grep -q '"event":"start".*"target":"web2".*python3 -c .import codecs,os,sys;_=codecs.decode' "$JG_GW_LOG"; then
		jg_ok "mitogen_linear: Mitogen's bootstrap ran on web2 through the gateway"
	else
		jg_notok "mitogen_linear: Mitogen's bootstrap ran on web2 through the gateway"
	fi
else
	jg_log "ansible-mitogen is not installed (apt-get install ansible-mitogen): mitogen_linear not tried"
fi
jg_done
