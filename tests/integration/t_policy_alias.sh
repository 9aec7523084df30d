#!/bin/bash
# What a policy rule really grants or refuses (issues 13 and 19), end to end
# against a real sshd on 127.0.1.3:
#   - H1: a deny rule for t3 (by inventory name, by spec glob, by address
#     glob) holds against every alias of that host: a chain starting with
#     it, another inventory name, a raw spec, a tunnel through another name
#     and a tunnel target for the host (403); numeric spellings the C library
#     reads as 127.0.1.3 (127.0.259, 2130706691, 0x7f.0.1.3, 0177.0.1.3,
#     127.0.1.03) are refused for everyone (400), before policy;
#   - H3: targets = ["*"] does not grant local (nor local/sudo:..., nor an
#     inventory entry of method local); the start-up log warns about a rule
#     granting local exec to other identities, and about a file without
#     policy;
#   - issue 19: a rule scoped to targets grants no admin (/v1/stats,
#     GET /v1/targets, /v1/routes: 403);
#   - issue 19: commands = ["/usr/bin/*"] does not reach /bin/sh through
#     "/usr/bin/../../bin/sh", "/usr/bin/./../../bin/sh" or "//" (403);
#   - issue 19: become = ["jgeve", "nobody"] refuses container hops that
#     land as root (t3/lxc:ctr, t3/docker:ctr, t3/lxd:ctr, t3/kubectl:pod,
#     an inventory lxc hop) with 403 before anything runs;
#   - issue 19: a CA-signed certificate naming "unix:root" (reserved for
#     local users of the Unix socket) fails the handshake, the log says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup

H=127.0.1.3
jg_sshd_start s "$H" || { jg_notok "sshd starts on $H"; jg_done; }
P=${JG_SSHD_PORT[s]}
U=$JG_SSH_USER
jg_ok "sshd on $H:$P (login $U)"

# Certificates naming identities by SAN URI (jumpgate:user:NAME).
for who in mallory mspec mglob mzed cmd beve; do
	jg_mkcert "$JG_PKI" "$who" "$who" "subjectAltName=URI:jumpgate:user:$who" \
		"extendedKeyUsage=clientAuth"
done
me=$(id -un)
jg_mkcert "$JG_PKI" unixroot unixroot "subjectAltName=URI:unix:root" "extendedKeyUsage=clientAuth"

JG_CONF_EXTRA="identity = \"san-uri\";
$(jg_ssh_conf_defaults accept)
targets = (
  $(jg_ssh_target t3 "$H" "$P"),
  $(jg_ssh_target t3b "$H" "$P" "user = \"$U\";"),
  { name = \"box3\"; method = \"tunnel\"; host = \"$H\"; },
  { name = \"bastion\"; method = \"local\"; },
  { name = \"ctr\"; method = \"lxc\"; container = \"ctr\"; }
);
tunnels = { allow = [ \"*:*\", \"*:*:*\" ]; };
policy = (
  { name = \"no-t3\"; identities = [ \"jumpgate:user:mallory\" ]; targets = [ \"t3\" ];
    allow = false; },
  { name = \"no-spec\"; identities = [ \"jumpgate:user:mspec\" ];
    targets = [ \"ssh:*@$H:*\" ]; allow = false; },
  { name = \"no-glob\"; identities = [ \"jumpgate:user:mglob\" ]; targets = [ \"*$H*\" ];
    allow = false; },
  { name = \"cmd-bin\"; identities = [ \"jumpgate:user:cmd\" ]; targets = [ \"t3\" ];
    actions = [ \"exec\" ]; commands = [ \"/usr/bin/*\" ]; allow = true; },
  { name = \"eve-become\"; identities = [ \"jumpgate:user:beve\" ]; targets = [ \"t3*\" ];
    become = [ \"jgeve\", \"nobody\" ]; allow = true; },
  { name = \"reach\"; identities = [ \"jumpgate:user:m*\" ]; targets = [ \"*\" ];
    allow = true; },
  { name = \"local-root\"; identities = [ \"unix:root\" ]; allow = true; },
  { name = \"tester\"; identities = [ \"jumpgate:user:$me\" ]; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway on 127.0.0.1:$JG_PORT"

as() { # as NAME CMD...: with NAME's certificate
	local name=$1
	shift
	JG_CERT=$JG_PKI/$name.pem JG_KEY=$JG_PKI/$name.key "$@"
}

# The aliases do reach the host: the tester (allowed everything) runs on each.
ALIASES="t3 t3/sudo:root t3b ssh:$U@$H:$P local/ssh:$U@$H:$P"
for a in $ALIASES; do
	jg_cli_timed "$JG_T/ok.out" "$JG_T/ok.err" exec "$a" -- echo reached
	jg_check "tester reaches $H through $a (exit $RC, $(head -c 200 "$JG_T/ok.err"))" \
		[ "$RC:$(cat "$JG_T/ok.out")" = 0:reached ]
done

# H1: each deny form holds against every alias (403 naming the rule), and
# nothing runs.
for pair in mallory:no-t3 mspec:no-spec mglob:no-glob; do
	who=${pair%%:*}
	rule=${pair#*:}
	for a in $ALIASES; do
		as "$who" jg_cli_timed "$JG_T/d.out" "$JG_T/d.err" exec "$a" -- echo reached
		if [ "$RC" != 0 ] && ! [ -s "$JG_T/d.out" ] &&
			grep -q "denied by rule \"$rule\"" "$JG_T/d.err"; then
			jg_ok "$who: exec on $a refused by rule $rule"
		else
			jg_notok "$who: exec on $a refused by rule $rule (exit $RC, out '$(head -c 100 "$JG_T/d.out")', err $(head -c 300 "$JG_T/d.err"))"
		fi
	done
	# Tunnels to the sshd's port: through another inventory name for the same
	# host, and through a tunnel target for it (named by the rule through
	# the inventory name or the address; "ssh:*@..." names ssh logins only:
	# the gateway's own login to t3b, --via-target, as a tunnel the gateway
	# dials is "tunnel:ADDR" to policy).
	tuns="t3b box3"
	via=
	[ "$who" != mspec ] || { tuns=t3b; via=--via-target; }
	for a in $tuns; do
		if as "$who" jg_cli connect $via "$a" "$P" </dev/null >"$JG_T/c.out" 2>"$JG_T/c.err"; then
			rc=0
		else
			rc=$?
		fi
		if [ $rc != 0 ] && grep -q "denied by rule \"$rule\"" "$JG_T/c.err" &&
			! grep -q SSH- "$JG_T/c.out"; then
			jg_ok "$who: tunnel through $a to port $P refused by rule $rule"
		else
			jg_notok "$who: tunnel through $a refused by rule $rule (exit $rc: $(head -c 300 "$JG_T/c.err"), out $(head -c 40 "$JG_T/c.out"))"
		fi
	done
done

# Numeric spellings of 127.0.1.3: 400 for everyone, naming the address to write.
for n in 127.0.259 2130706691 0x7f.0.1.3 0177.0.1.3 127.0.1.03; do
	enc=$(printf 'ssh%%3Aroot%%40%s%%3A%s' "$n" "$P")
	code=$(as mallory jg_curl "/v1/targets/$enc/exec" -X POST -o "$JG_T/n.body" \
		-w '%{http_code}' 2>/dev/null) || true
	if [ "$code" = 400 ] && grep -q "this one means $H" "$JG_T/n.body"; then
		jg_ok "ssh:root@$n:$P refused with 400 ($(grep -o '"reason": *"[^"]*' "$JG_T/n.body" | cut -c1-120))"
	else
		jg_notok "ssh:root@$n:$P refused with 400 (got $code: $(head -c 300 "$JG_T/n.body"))"
	fi
	jg_cli_timed "$JG_T/n.out" "$JG_T/n.err" exec "ssh:root@$n:$P" -- echo reached
	jg_check "tester: exec on ssh:root@$n:$P refused, nothing ran ($(head -n1 "$JG_T/n.err" | cut -c1-100))" \
		[ "$RC:$(cat "$JG_T/n.out")" = 255: ]
done

# H3: "*" is every target but the bastion itself.
for a in local local/sudo:nobody bastion; do
	as mallory jg_cli_timed "$JG_T/l.out" "$JG_T/l.err" exec "$a" -- echo reached
	jg_check "mallory (targets = [\"*\"]): exec on $a refused, no rule matched ($(head -c 120 "$JG_T/l.err"))" \
		grep -q "no rule matched" "$JG_T/l.err"
	jg_check "mallory: nothing ran on $a" [ ! -s "$JG_T/l.out" ]
done
jg_cli_timed "$JG_T/l.out" "$JG_T/l.err" exec local -- echo reached
jg_check "tester (a rule without targets) still runs on local" [ "$RC:$(cat "$JG_T/l.out")" = 0:reached ]
jg_check "start-up warning: rule \"tester\" grants exec on local to another identity" \
	grep -q "policy rule \"tester\" grants exec on local" "$JG_GW_LOG"
jg_check "no warning for rule \"reach\" (targets = [\"*\"])" \
	eval '! grep -q "policy rule \"reach\" grants" "$JG_GW_LOG"'

# commands = ["/usr/bin/*"]: argv[0] judged normalised, '*' within one component.
as cmd jg_cli_timed "$JG_T/k.out" "$JG_T/k.err" exec t3 -- /usr/bin/id -un
jg_check "cmd: /usr/bin/id runs on t3 (exit $RC, $(head -c 100 "$JG_T/k.err"))" [ "$RC:$(cat "$JG_T/k.out")" = "0:$U" ]
for a0 in /usr/bin/../../bin/sh /usr/bin/./../../bin/sh /usr/bin//../../bin/sh; do
	as cmd jg_cli_timed "$JG_T/k.out" "$JG_T/k.err" exec t3 -- "$a0" -c 'echo shell'
	jg_check "cmd: exec t3 -- $a0 -c ... refused, no rule matched ($(head -c 100 "$JG_T/k.err"))" \
		[ "$(grep -c 'no rule matched' "$JG_T/k.err"):$(cat "$JG_T/k.out")" = 1: ]
done

# become = ["jgeve", "nobody"]: container hops land as root.
as beve jg_cli_timed "$JG_T/b.out" "$JG_T/b.err" exec t3/sudo:nobody -- id -un
jg_check "beve: t3/sudo:nobody runs as nobody (exit $RC, $(head -c 100 "$JG_T/b.err"))" \
	[ "$RC:$(cat "$JG_T/b.out")" = 0:nobody ]
for a in t3/lxc:ctr t3/docker:ctr t3/lxd:ctr t3/kubectl:pod t3/ctr t3/sudo:nobody/lxc:ctr; do
	as beve jg_cli_timed "$JG_T/b.out" "$JG_T/b.err" exec "$a" -- id -un
	jg_check "beve: exec on $a refused, no rule matched ($(head -c 120 "$JG_T/b.err"))" \
		grep -q "no rule matched" "$JG_T/b.err"
done

# Admin is about the gateway itself: mzed's only rule ("reach") names targets,
# and the deny rules (scoped to targets) do not speak about admin either.
# GET /v1/targets without admin lists only what the caller may act on (issue 17); its
# ?match= stays admin.
for p in /v1/stats '/v1/targets?match=*' /v1/routes; do
	code=$(as mzed jg_curl "$p" -o "$JG_T/a.body" -w '%{http_code}' 2>/dev/null) || true
	jg_check "mzed (a rule scoped to targets): GET $p is 403, no rule matched (got $code: $(head -c 100 "$JG_T/a.body"))" \
		grep -q "no rule matched" "$JG_T/a.body"
	code=$(as mallory jg_curl "$p" -o "$JG_T/a.body" -w '%{http_code}' 2>/dev/null) || true
	jg_check "mallory: GET $p is 403, no rule matched, not rule no-t3 (got $code: $(head -c 100 "$JG_T/a.body"))" \
		grep -q "no rule matched" "$JG_T/a.body"
	code=$(jg_curl "$p" -o /dev/null -w '%{http_code}' 2>/dev/null) || true
	jg_check "tester (an unscoped rule): GET $p is 200 (got $code)" [ "$code" = 200 ]
done

code=$(as mallory jg_curl /v1/targets -o "$JG_T/a.body" -w '%{http_code}' 2>/dev/null) || true
jg_check "mallory: GET /v1/targets is 200 with only the targets it may act on (not t3 nor its alias t3b: no-t3; not bastion: * never grants local) ($code: $(head -c 160 "$JG_T/a.body"))" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=[t["name"] for t in d]
assert not {"t3", "t3b", "bastion"} & set(n) and all(t["actions"] for t in d), n' "$JG_T/a.body"

# "unix:" names local users of the Unix socket: no certificate may claim one.
code=$(as unixroot jg_curl /healthz -o /dev/null -w '%{http_code}' 2>/dev/null) || true
as unixroot jg_cli_timed "$JG_T/u.out" "$JG_T/u.err" exec local -- echo reached
jg_check "certificate naming unix:root: handshake refused (healthz $code), nothing ran" \
	[ "$code:$(cat "$JG_T/u.out")" = 000: ]
sleep 0.2
jg_check "the log says unix: is reserved" \
	grep -q 'identity "unix:root" begins with "unix:", which is reserved for local users of the Unix socket' "$JG_GW_LOG"

jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"

# A configuration file without policy: it starts, and says it refuses everything.
JG_CONF_EXTRA="# no policy here (jg_write_config adds one unless this line says policy)"
jg_gateway_start || { jg_notok "gateway starts without a policy"; jg_done; }
code=$(jg_http_code GET /v1/stats)
jg_check "without policy: /v1/stats is 403 (got $code)" [ "$code" = 403 ]
jg_check "without policy: the start-up log warns that every request will be refused" \
	grep -q "has no .policy.: every request will be refused" "$JG_GW_LOG"
jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"
jg_done
