#!/bin/bash
# Routes learned from peers cannot take names of ours (issue 19): real gateways on
# loopback.  B links to a gateway that calls itself "dep", which is an inventory
# target of A; A links to B and lets it carry any site (learn = [ "*" ]), A2 links to
# B with no learn (the default: configured sites only).
#  - A: "exec dep" runs A's inventory target dep (under A's own jumpgated), never the
#    far gateway; A's routes hold no "dep"; the refusal is logged and counted in
#    /v1/stats (routes_refused of the link to site-b); far-x, two hops away, is learned.
#  - A2: far-x and dep are refused (not configured sites); site-b itself is learned.
#  - a learn entry that is not a name or glob is refused at load with file:line.
#  - A's audit record of an exec forwarded to far-x names the next hop and the
#    destination, counts the bytes that came back and says how it ended.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites.sh"
jg_setup
jg_require python3

site_init site-a site-a2 site-b dep far-x
site_config site-a "$(site_link_entry site-a site-b)" \
	"targets = ( { name = \"dep\"; method = \"local\"; } );
audit = \"$JG_T/site-a/audit.log\";"
site_config site-a2 "$(SITE_LEARN=- site_link_entry site-a2 site-b)"
site_config site-b "$(site_link_entry site-b dep), $(site_link_entry site-b far-x), $(site_trust_entry site-a), $(site_trust_entry site-a2)"
site_config dep "$(site_trust_entry site-b)"
site_config far-x "$(site_trust_entry site-b)"
if site_start dep && site_start far-x && site_start site-b && site_start site-a &&
	site_start site-a2; then
	jg_ok "five gateways start (A and A2 link to B; B links to dep and far-x)"
else
	jg_notok "five gateways start"
	jg_done
fi

# --- A: "*" carries far-x, never an inventory name --------------------------------
if site_wait_route site-a far-x 'up site-b site-b,far-x' 15 &&
	site_wait_route site-b dep 'up dep dep' 5; then
	jg_ok "A learns far-x through B (learn = [\"*\"]); B has a route to the gateway named dep"
else
	jg_notok "A learns far-x through B; B reaches dep"
fi
ppid_prog='awk "/^PPid/ { print \$2 }" /proc/$PPID/status'
got=$(site_cli site-a exec dep -- sh -c "$ppid_prog" </dev/null 2>"$JG_T/dep.err") || true
if [ "$got" = "$(site_pid site-a)" ]; then
	jg_ok "exec dep on A runs A's inventory target (under A's jumpgated, pid $got), not the gateway named dep"
else
	jg_notok "exec dep on A runs A's inventory target (got '$got', A is $(site_pid site-a), dep is $(site_pid dep): $(head -c 300 "$JG_T/dep.err"))"
fi
if [ "$(site_route site-a dep)" = none ]; then
	jg_ok "A's /v1/routes has no site dep"
else
	jg_notok "A's /v1/routes has no site dep (got '$(site_route site-a dep)')"
fi
n=$(site_link_stat site-a site-b routes_refused)
if [ "${n:-0}" -ge 1 ] 2>/dev/null &&
	grep -q 'site site-b: its route to dep refused: "dep" is an inventory target here' "$JG_T/site-a/log"; then
	jg_ok "A logs the refused advertisement and counts it (routes_refused $n)"
else
	jg_notok "A logs and counts the refused advertisement (routes_refused '$n'; $(grep -c refused "$JG_T/site-a/log") log lines)"
fi

# --- the audit of a forwarded operation ----------------------------------------
got=$(site_cli site-a exec far-x/local -- echo forwarded </dev/null 2>"$JG_T/fwd.err") || true
if [ "$got" = forwarded ] && python3 - "$JG_T/site-a/audit.log" <<'EOP'
import json, sys
ends = [json.loads(l) for l in open(sys.argv[1]) if '"end"' in l]
r = [e for e in ends if e["target_typed"] == "far-x/local" and e["action"] == "exec"][-1]
assert r["next_hop"] == "site-b", r
assert r["destination"] == "site far-x via site-b", r
assert r["bytes_out"] > 0 and r["bytes_in"] > 0, r
assert r["outcome"] == "ok" and r["reason"] == "site-b answered 200", r
EOP
then
	jg_ok "A audits the forwarded exec with its next hop, destination, bytes and reason"
else
	jg_notok "A audits the forwarded exec (got '$got': $(tail -n 2 "$JG_T/site-a/audit.log" | head -c 600))"
fi

# --- A2: the default learns configured sites only ---------------------------------
if site_wait_route site-a2 site-b 'up site-b site-b' 15; then
	sleep 1 # B's whole table has reached A2 by now
	if [ "$(site_route site-a2 far-x)" = none ] && [ "$(site_route site-a2 dep)" = none ] &&
		grep -q 'its route to far-x refused: "far-x" is not a configured site' "$JG_T/site-a2/log"; then
		jg_ok "A2 (no learn) learns site-b only: far-x and dep refused, logged"
	else
		jg_notok "A2 (no learn) learns site-b only (far-x '$(site_route site-a2 far-x)', dep '$(site_route site-a2 dep)')"
	fi
else
	jg_notok "A2 learns site-b"
fi

# --- configuration -------------------------------------------------------------
printf 'state_dir = "%s";\npolicy = ( { name = "all"; allow = true; } );\n%s\n' "$JG_T/bad-state" \
	'sites = ( { name = "site-b"; identity = "gw-b"; learn = [ "a/b" ]; } );' >"$JG_T/bad.conf"
if timeout 10 "$JUMPGATED" -f -c "$JG_T/bad.conf" >"$JG_T/bad.log" 2>&1 </dev/null; then
	jg_notok "learn = [ \"a/b\" ] refused at load"
elif grep -q 'bad.conf:3: sites\[0\].learn: element 1 is not a site name or a glob' "$JG_T/bad.log"; then
	jg_ok "learn = [ \"a/b\" ] refused at load with file:line"
else
	jg_notok "learn = [ \"a/b\" ] refused with file:line ($(head -c 300 "$JG_T/bad.log"))"
fi

for n in site-a2 site-a site-b far-x dep; do site_kill "$n" TERM; done
site_no_sanitizer_report
JG_GW_LOG=$JG_T/site-a/log
jg_done
