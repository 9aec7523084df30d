#!/bin/bash
# jumpgated -t [-c FILE]: parse, check every file the configuration names
# (certificates, keys, CRL, agents, audit log), print each problem as
# FILE:LINE: what, exit 1 on any, 0 when the gateway would start with it --
# starting nothing and creating nothing.  The audit log: its default is a file
# (beside the state for a gateway not run as the system one), and a path the
# gateway cannot write refuses the start.  The systemd unit's ExecReload runs
# `jumpgated -t` before SIGHUP, so `systemctl reload` fails on a bad file.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
JG_PORT=$(jg_free_port)
JG_STATE=$JG_T/state

# conf NAME EXTRA: a configuration (jg_write_config) in $JG_T/NAME.conf.
conf() { JG_CONF_EXTRA=$2 jg_write_config "$JG_T/$1.conf"; }
# t NAME: jumpgated -t -c NAME.conf; RC, OUT (stdout and stderr).
t() {
	set +e
	OUT=$(timeout 20 "$JUMPGATED" -t -c "$JG_T/$1.conf" 2>&1)
	RC=$?
	set -e
}
# line NAME KEY: the line of the first "KEY =" in NAME.conf.
line() { grep -n "^ *$2 *=" "$JG_T/$1.conf" | head -n1 | cut -d: -f1; }
# expect_bad NAME WHAT REGEX: exit 1 and a line matching REGEX.
expect_bad() {
	if [ "$RC" = 1 ] && printf '%s\n' "$OUT" | grep -q -- "$3"; then
		jg_ok "-t on $2: exit 1, $(printf '%s\n' "$OUT" | grep -- "$3" | head -n1 | sed "s|$JG_T/||g")"
	else
		jg_notok "-t on $2: exit 1 and /$3/ (got $RC: $OUT)"
	fi
}

# --- a good configuration ---------------------------------------------------------
conf good "audit = \"$JG_T/audit.log\";"
t good
if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -q "good.conf: configuration OK"; then
	jg_ok "-t on a good configuration: exit 0, \"configuration OK\""
else
	jg_notok "-t on a good configuration: exit 0 (got $RC: $OUT)"
fi
if [ ! -e "$JG_T/audit.log" ] && [ ! -e "$JG_STATE" ] && ! jg_port_in_use "$JG_PORT"; then
	jg_ok "-t creates nothing and listens nowhere"
else
	jg_notok "-t creates nothing and listens nowhere"
fi

# --- a file that does not parse -----------------------------------------------------
printf 'listen = "127.0.0.1:1";\nmax_streams = "many";\n' >"$JG_T/syntax.conf"
t syntax
expect_bad syntax "a bad value" "syntax.conf:2: max_streams"

# --- each kind of missing or unusable file --------------------------------------------
conf nocert "audit = \"$JG_T/audit.log\";"
sed -i "s|$JG_PKI/server.pem|$JG_PKI/missing.pem|" "$JG_T/nocert.conf"
t nocert
expect_bad nocert "a missing certificate" \
	"nocert.conf:$(line nocert cert): tls.cert: .*missing.pem: No such file or directory"

conf wrongkey "audit = \"$JG_T/audit.log\";"
sed -i "s|$JG_PKI/server.key|$JG_PKI/client.key|" "$JG_T/wrongkey.conf"
t wrongkey
expect_bad wrongkey "a key that does not match its certificate" "wrongkey.conf: tls: .*key"

conf nocrl "audit = \"$JG_T/audit.log\";
crl = \"$JG_T/ca.crl\";"
t nocrl
expect_bad nocrl "a missing CRL" "nocrl.conf:$(line nocrl crl): crl: .*ca.crl: No such file"

cp "$JUMPGATE_AGENT" "$JG_T/agent-noexec"
chmod 644 "$JG_T/agent-noexec"
conf noagent "audit = \"$JG_T/audit.log\";"
sed -i "s|^agent_path = .*|agent_path = \"$JG_T/agent-noexec\";|" "$JG_T/noagent.conf"
t noagent
expect_bad noagent "an agent that is not executable" \
	"noagent.conf:$(line noagent agent_path): agent_path: .*agent-noexec: not executable"

conf noaudit "audit = \"$JG_T/no/such/dir/audit.log\";"
t noaudit
expect_bad noaudit "an audit log in a missing directory" \
	"noaudit.conf:$(line noaudit audit): audit: .*audit.log cannot be created: directory .*/no/such/dir does not exist"
mkdir -p "$JG_T/auditdir"
conf diraudit "audit = \"$JG_T/auditdir\";"
t diraudit
expect_bad diraudit "an audit path that is a directory" "diraudit.conf:$(line diraudit audit): audit: .*is a directory"

conf nokey "audit = \"$JG_T/audit.log\";
targets = ( { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\";
  identity_file = \"$JG_T/no_such_key\"; } );"
t nokey
expect_bad nokey "a missing ssh key" \
	"nokey.conf:$(line nokey identity_file): target web1: identity_file: .*no_such_key: No such file"

# Several at once: each reported, and counted.
conf many "audit = \"$JG_T/no/audit.log\";
crl = \"$JG_T/ca.crl\";"
sed -i "s|$JG_PKI/ca.pem|$JG_PKI/nope.pem|" "$JG_T/many.conf"
t many
n=$(printf '%s\n' "$OUT" | grep -c "^jumpgated: .*many.conf:[0-9]*: " || true)
if [ "$RC" = 1 ] && [ "$n" = 3 ] && printf '%s\n' "$OUT" | grep -q "3 problem(s)"; then
	jg_ok "-t reports every problem (3, each with file:line) and counts them"
else
	jg_notok "-t reports every problem (got $RC, $n lines: $OUT)"
fi

# --- the audit log at start -------------------------------------------------------
set +e
out=$(timeout 20 "$JUMPGATED" -f -c "$JG_T/noaudit.conf" 2>&1)
rc=$?
set -e
if [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -q "error: audit log .*/no/such/dir/audit.log: No such file or directory: refusing to start"; then
	jg_ok "an audit path that cannot be opened refuses the start (exit 1, says why)"
else
	jg_notok "a bad audit path refuses the start (got $rc: $out)"
fi
# No `audit`: a file beside the state, not stderr.
JG_CONF_EXTRA= jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_exec true </dev/null >/dev/null 2>&1 || true
if grep -q '"action":"exec"' "$JG_STATE/audit.log" 2>/dev/null && ! grep -q '"event":' "$JG_GW_LOG"; then
	jg_ok "no \`audit\` key: the audit goes to STATE/audit.log, not stderr"
else
	jg_notok "no \`audit\` key: the audit goes to STATE/audit.log"
fi
# The tree's logrotate entry, run by the real logrotate on this file: the gateway,
# sent SIGHUP as the entry's postrotate does, writes on into the new file.
lr=$builddir/config/logrotate.d/jumpgate
if ! command -v logrotate >/dev/null 2>&1; then
	jg_ok "# SKIP logrotate not installed (scripts/install-deps.sh installs it)"
elif [ -s "$lr" ] && grep -q '^/var/log/jumpgate/audit.log {' "$lr" &&
	grep -q 'systemctl kill --signal=HUP --kill-who=main jumpgated.service' "$lr"; then
	sed -e "s|^/var/log/jumpgate/audit.log|$JG_STATE/audit.log|" -e '/^[[:space:]]*create /d' \
		-e "s|systemctl kill .*|kill -HUP $JG_GW_PID|" "$lr" >"$JG_T/logrotate.conf"
	set +e
	logrotate -f -s "$JG_T/logrotate.state" "$JG_T/logrotate.conf" >"$JG_T/logrotate.out" 2>&1
	rc=$?
	set -e
	sleep 0.5
	jg_exec echo after-rotation </dev/null >/dev/null 2>&1 || true
	if [ $rc = 0 ] && [ -s "$JG_STATE/audit.log.1" ] && grep -q '"after-rotation"' "$JG_STATE/audit.log" &&
		! grep -q '"after-rotation"' "$JG_STATE/audit.log.1"; then
		jg_ok "logrotate with the tree's entry: audit.log.1 kept, new lines in a new audit.log"
	else
		jg_notok "logrotate with the tree's entry rotates the audit log (rc $rc)"
		jg_show "$JG_T/logrotate.out" 10
	fi
else
	jg_notok "config/logrotate.d/jumpgate built, for /var/log/jumpgate/audit.log, postrotate SIGHUP"
fi
jg_gateway_stop || true

# --- the unit: ExecReload checks first ----------------------------------------------
unit=$builddir/systemd/jumpgated.service
if grep -q '^ExecReload=.*/jumpgated -t \$JUMPGATED_OPTS$' "$unit" &&
	[ "$(grep '^ExecReload=' "$unit" | head -n1 | grep -c -- ' -t ')" = 1 ]; then
	jg_ok "jumpgated.service: the first ExecReload is jumpgated -t \$JUMPGATED_OPTS, then SIGHUP"
else
	jg_notok "jumpgated.service: ExecReload runs jumpgated -t first ($(grep '^ExecReload' "$unit" | tr '\n' ' '))"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$JG_T/units"
	sed -e "s|^ExecStart=[^ ]*/jumpgated |ExecStart=$JUMPGATED |" \
		-e "s|^ExecReload=[^ ]*/jumpgated |ExecReload=$JUMPGATED |" "$unit" >"$JG_T/units/jumpgated.service"
	if timeout 60 systemd-analyze verify "$JG_T/units/jumpgated.service" >"$JG_T/verify.out" 2>&1 &&
		[ ! -s "$JG_T/verify.out" ]; then
		jg_ok "systemd-analyze verify jumpgated.service (with the ExecReload check): clean"
	else
		jg_notok "systemd-analyze verify jumpgated.service: clean"
		jg_show "$JG_T/verify.out" 10
	fi
	# What a reload then runs, with the options a site puts in /etc/default/jumpgated.
	JUMPGATED_OPTS="-c $JG_T/noaudit.conf"
	if ! $JUMPGATED -t $JUMPGATED_OPTS >/dev/null 2>&1 && $JUMPGATED -t -c "$JG_T/good.conf" >/dev/null 2>&1; then
		jg_ok "the reload's check fails on a bad file and passes on a good one"
	else
		jg_notok "the reload's check fails on a bad file and passes on a good one"
	fi
fi
jg_done
