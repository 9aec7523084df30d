#!/bin/bash
# The CLI's listing commands against a real gateway (issue 17): `jumpgate
# targets [PATTERN]` (inventory, groups, what the caller may do, sites),
# `jumpgate whoami`, `--json` of targets, stats, routes and whoami parsed by
# python3's json module, and `help CMD` for every command (an unknown one:
# exit 2).  Two identities: the tester (every action) and ops-ann, allowed
# exec of some commands on the web group only (no admin).
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require python3
user=$(id -un)
jg_mkcert "$JG_PKI" ops "ops ann" "subjectAltName=URI:jumpgate:user:ops-ann" "extendedKeyUsage=clientAuth"

SOCK=$JG_T/gw.sock
JG_CONF_EXTRA="identity = \"san-uri\";
unix_socket = \"$SOCK\";
targets = ( { name = \"l1\"; method = \"local\"; },
  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; port = 1; },
  { name = \"web2\"; method = \"ssh\"; host = \"127.0.0.3\"; port = 1; },
  { name = \"db1\"; method = \"ssh\"; host = \"127.0.0.4\"; port = 1; } );
groups = { web = [ \"web*\" ]; };
policy = (
  { name = \"ops\"; identities = [ \"jumpgate:user:ops-*\" ]; targets = [ \"group:web\" ];
    actions = [ \"exec\" ]; commands = [ \"uptime\" ]; allow = true; },
  { name = \"ops-reset\"; identities = [ \"jumpgate:user:ops-*\" ]; targets = [ \"web2\" ];
    actions = [ \"reset\" ]; allow = true; },
  { name = \"tester\"; identities = [ \"jumpgate:user:$user\" ]; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"
as_ops() { JG_CERT=$JG_PKI/ops.pem JG_KEY=$JG_PKI/ops.key "$@"; }

# run NAME CLI-ARGS...: stdout in $JG_T/NAME.out, stderr in .err, status in RC.
run() {
	local n=$1
	shift
	if "$@" </dev/null >"$JG_T/$n.out" 2>"$JG_T/$n.err"; then RC=0; else RC=$?; fi
}
# pyjson NAME EXPR: python3 asserts EXPR over the JSON document d in NAME.out.
pyjson() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$JG_T/$1.out" "$2" 2>"$JG_T/$1.py"
}

# ---------------------------------------------------------------- targets

run t1 jg_cli targets
if [ $RC = 0 ] && grep -Eq '^NAME +METHOD +GROUPS +MAY +GOES TO$' "$JG_T/t1.out" &&
	grep -Eq '^l1 +local +- +exec,put,get,tunnel,reset ' "$JG_T/t1.out" &&
	grep -Eq '^web1 +ssh +web +exec,put,get,tunnel,reset +web1 \(ssh .*127\.0\.0\.2:1\)' "$JG_T/t1.out" &&
	grep -Eq '^local +local ' "$JG_T/t1.out" && [ "$(grep -c . "$JG_T/t1.out")" = 6 ]; then
	jg_ok "targets: the inventory (the built-in local too), one line each, with groups, what we may do and where it goes"
else
	jg_notok "targets: the inventory table (rc $RC)"
	jg_show "$JG_T/t1.out" 10
	jg_show "$JG_T/t1.err" 5
fi
run t2 jg_cli targets 'web*,db1'
if [ $RC = 0 ] && [ "$(awk 'NR>1 { print $1 }' "$JG_T/t2.out" | tr '\n' ' ')" = "web1 web2 db1 " ]; then
	jg_ok "targets PATTERN: the targets it names, in its order"
else
	jg_notok "targets 'web*,db1' (rc $RC)"
	jg_show "$JG_T/t2.out" 10
fi
run t3 jg_cli targets web,db7
if [ $RC = 0 ] && grep -Eq '^db7 +- +- +\? +not in the inventory$' "$JG_T/t3.out" &&
	grep -Eq '^web2 ' "$JG_T/t3.out"; then
	jg_ok "targets GROUP,HOST: the group's members, and a host name shown as not in the inventory"
else
	jg_notok "targets web,db7 (rc $RC)"
	jg_show "$JG_T/t3.out" 10
fi
run t4 jg_cli targets 'nomatch*'
if [ $RC = 1 ] && grep -q 'jumpgate: targets: "nomatch\*" names no target' "$JG_T/t4.err"; then
	jg_ok "targets with a glob matching nothing: exit 1, said"
else
	jg_notok "targets 'nomatch*': exit 1 (rc $RC)"
	jg_show "$JG_T/t4.err" 5
fi
run t5 jg_cli targets --json
if [ $RC = 0 ] && pyjson t5 '[t["name"] for t in d["targets"]] == ["l1","web1","web2","db1","local"] and d["targets"][1]["groups"] == ["web"] and "exec" in d["targets"][0]["actions"] and d["sites"] == []'; then
	jg_ok "targets --json: one document, targets with groups and actions, sites"
else
	jg_notok "targets --json (rc $RC)"
	jg_show "$JG_T/t5.out" 10
	jg_show "$JG_T/t5.py" 5
fi
run t6 as_ops jg_cli targets
if [ $RC = 0 ] && [ "$(awk 'NR>1 { print $1 }' "$JG_T/t6.out" | tr '\n' ' ')" = "web1 web2 " ] &&
	grep -Eq '^web1 +ssh +web +exec\* ' "$JG_T/t6.out" && grep -Eq '^web2 +ssh +web +exec\*,reset ' "$JG_T/t6.out"; then
	jg_ok "targets without the admin action: only the targets we may act on, exec* (some commands), reset"
else
	jg_notok "targets as ops-ann (rc $RC)"
	jg_show "$JG_T/t6.out" 10
	jg_show "$JG_T/t6.err" 5
fi
run t7 as_ops jg_cli targets 'web2,db1'
if [ $RC = 0 ] && [ "$(awk 'NR>1 { print $1 }' "$JG_T/t7.out" | tr '\n' ' ')" = "web2 " ]; then
	jg_ok "targets PATTERN without the admin action: matched among our own targets"
else
	jg_notok "targets web2,db1 as ops-ann (rc $RC)"
	jg_show "$JG_T/t7.out" 10
	jg_show "$JG_T/t7.err" 5
fi
if [ "$(jg_http_code GET /v1/targets)" = 200 ] && JG_CERT=$JG_PKI/ops.pem JG_KEY=$JG_PKI/ops.key jg_curl /v1/targets >"$JG_T/t8.out" &&
	pyjson t8 '[t["name"] for t in d] == ["web1","web2"] and d[0]["actions"] == ["exec:some"]'; then
	jg_ok "GET /v1/targets without admin: our targets, actions [\"exec:some\"]"
else
	jg_notok "GET /v1/targets without admin"
	jg_show "$JG_T/t8.out" 5
fi

# ---------------------------------------------------------------- whoami

run w1 jg_cli whoami
if [ $RC = 0 ] && grep -qx "identity: jumpgate:user:$user" "$JG_T/w1.out" &&
	grep -qx 'known by: client certificate' "$JG_T/w1.out" && grep -q '^admin: *yes' "$JG_T/w1.out" &&
	grep -Eq '^from: +127\.0\.0\.1:[0-9]+$' "$JG_T/w1.out"; then
	jg_ok "whoami: the identity as the gateway reads it (san-uri), how, from where, admin"
else
	jg_notok "whoami (rc $RC)"
	jg_show "$JG_T/w1.out" 10
	jg_show "$JG_T/w1.err" 5
fi
run w2 as_ops jg_cli whoami --json
if [ $RC = 0 ] && pyjson w2 'd["identity"] == "jumpgate:user:ops-ann" and d["admin"] is False and d["via"] is None'; then
	jg_ok "whoami --json for an identity without admin"
else
	jg_notok "whoami --json as ops-ann (rc $RC)"
	jg_show "$JG_T/w2.out" 5
fi
if "$JUMPGATE" -g "unix:$SOCK" whoami </dev/null >"$JG_T/w4.out" 2>"$JG_T/w4.err" &&
	grep -qx "identity: unix:$user" "$JG_T/w4.out" && grep -qx 'known by: unix socket peer credentials' "$JG_T/w4.out" &&
	grep -q '^admin: *no' "$JG_T/w4.out"; then
	jg_ok "whoami on the Unix socket: unix:$user, from the peer credentials, no admin (no rule names it)"
else
	jg_notok "whoami on the Unix socket"
	jg_show "$JG_T/w4.out" 6
	jg_show "$JG_T/w4.err" 4
fi
run w3 jg_cli whoami extra
if [ $RC = 2 ] && grep -q "whoami takes no arguments" "$JG_T/w3.err"; then
	jg_ok "whoami with an operand: usage error, exit 2"
else
	jg_notok "whoami extra: exit 2 (rc $RC)"
fi

# ---------------------------------------------------------------- --json

run s1 jg_cli stats --json
if [ $RC = 0 ] && pyjson s1 'isinstance(d, dict) and "connections" in d'; then
	jg_ok "stats --json parses"
else
	jg_notok "stats --json (rc $RC)"
	jg_show "$JG_T/s1.out" 5
fi
run r1 jg_cli routes --json
if [ $RC = 0 ] && pyjson r1 'd["routes"] == []'; then
	jg_ok "routes --json parses (no sites)"
else
	jg_notok "routes --json (rc $RC)"
	jg_show "$JG_T/r1.out" 5
fi
run s2 as_ops jg_cli stats --json
if [ $RC = 255 ] && grep -q 'stats: .*no rule matched' "$JG_T/s2.err"; then
	jg_ok "stats without admin: 255 with the gateway's reason"
else
	jg_notok "stats without admin (rc $RC)"
	jg_show "$JG_T/s2.err" 5
fi

# ---------------------------------------------------------------- help

for cmd in exec cp run rsh connect reset stats routes targets whoami help; do
	run h "$JUMPGATE" help $cmd
	if [ $RC = 0 ] && grep -q "^    jumpgate $cmd - " "$JG_T/h.out"; then
		jg_ok "help $cmd: its own page, exit 0"
	else
		jg_notok "help $cmd: its own page (rc $RC, $(head -n2 "$JG_T/h.out" | tail -n1))"
	fi
	if [ "$cmd" != help ]; then
		run h2 "$JUMPGATE" $cmd --help
		if [ $RC = 0 ] && cmp -s "$JG_T/h.out" "$JG_T/h2.out"; then
			jg_ok "$cmd --help: the same page"
		else
			jg_notok "$cmd --help: the same page as help $cmd (rc $RC)"
		fi
	fi
done
run hb "$JUMPGATE" help bogus
if [ $RC = 2 ] && [ ! -s "$JG_T/hb.out" ] && grep -q "no help for 'bogus'" "$JG_T/hb.err"; then
	jg_ok "help bogus: exit 2, said on stderr, nothing on stdout"
else
	jg_notok "help bogus: exit 2 (rc $RC)"
fi
run hm "$JUMPGATE" help
if [ $RC = 0 ] && grep -q '^    jumpgate - run commands on targets' "$JG_T/hm.out" &&
	grep -q '^    targets ' "$JG_T/hm.out" && grep -q '^    whoami ' "$JG_T/hm.out"; then
	jg_ok "help: the main page, listing targets and whoami"
else
	jg_notok "help: the main page with targets and whoami (rc $RC)"
fi
# ---------------------------------------------------------------- the manual

# docs/jumpgate.1 is the --help pages (scripts/man-from-help.py): the same text, and
# groff renders it without a warning.
if python3 "$srcdir/scripts/man-from-help.py" "$JUMPGATE" >"$JG_T/jumpgate.1" 2>"$JG_T/man.err" &&
	diff -u "$srcdir/docs/jumpgate.1" "$JG_T/jumpgate.1" >"$JG_T/man.diff"; then
	jg_ok "docs/jumpgate.1 is what the --help pages say (scripts/man-from-help.py)"
else
	jg_notok "docs/jumpgate.1 is stale: run scripts/man-from-help.py build/jumpgate > docs/jumpgate.1"
	jg_show "$JG_T/man.diff" 20
	jg_show "$JG_T/man.err" 5
fi
if command -v groff >/dev/null 2>&1; then
	groff -ww -man -Tutf8 "$srcdir/docs/jumpgate.1" >"$JG_T/man.txt" 2>"$JG_T/groff.err" || true
	if [ ! -s "$JG_T/groff.err" ] && grep -q 'jumpgate whoami - who the gateway takes us for' "$JG_T/man.txt" &&
		! grep -q 'refused by this version' "$JG_T/man.txt"; then
		jg_ok "groff -ww renders docs/jumpgate.1 without warnings, every command in it"
	else
		jg_notok "groff -ww renders docs/jumpgate.1 without warnings"
		jg_show "$JG_T/groff.err" 10
	fi
fi
jg_done
