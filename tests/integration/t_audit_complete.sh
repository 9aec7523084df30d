#!/bin/bash
# Audit completeness (issue 19): every request that reaches the gateway with a
# valid certificate leaves exactly one start and one end record, refusals
# included, with the target as typed and as resolved:
#   - an exec (target_typed, destination), one denied by policy;
#   - a tunnel refused by tunnels.allow, through the target's agent and dialled
#     by the gateway itself: a denial like the policy's (outcome "denied", its
#     reason, target, port and host in the record); one that fails to open (the
#     cause, not "the tunnel did not open"; host and port in the record);
#   - 400s before any policy question: a badly encoded target, a path with
#     "..", a bad target spec, an exec body that is no OPEN frame; a 404;
#   - a PUT beneath x-jumpgate-root (the root kept beside the relative path).
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
command -v python3 >/dev/null || jg_skip "python3 is needed to check the audit lines"

mkdir -p "$JG_T/root"
echo payload >"$JG_T/up.txt"
CLOSED=$(jg_free_port)
JG_CONF_EXTRA="audit = \"$JG_T/audit.log\";
tunnels = { allow = [ \"local:$CLOSED\" ]; };
policy = (
  { name = \"no-rm\"; actions = [ \"exec\" ]; commands = [ \"rm\" ]; allow = false; },
  { name = \"all\"; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts, auditing to a file"

jg_exec echo hi </dev/null >/dev/null 2>&1 || true                          # ok
jg_exec rm -f /nonexistent </dev/null >/dev/null 2>&1 || true               # denied
JG_TIMEOUT=30 jg_cli connect local 9 </dev/null >/dev/null 2>&1 || true    # denied: tunnels.allow
JG_TIMEOUT=30 jg_cli connect 127.0.0.1 9 </dev/null >/dev/null 2>&1 || true # denied: tunnels.allow (dialled)
JG_TIMEOUT=30 jg_cli connect local "$CLOSED" </dev/null >/dev/null 2>&1 || true # failed to open
jg_curl "/v1/targets/%ZZ/exec" -X POST -o /dev/null 2>/dev/null || true      # 400 bad target encoding
jg_curl "/v1/targets/local/files/a/%2E%2E/b" -o /dev/null 2>/dev/null || true # 400 path escapes
jg_cli exec 'ssh:-oProxyCommand=x' -- true </dev/null >/dev/null 2>&1 || true # 400 bad target spec
jg_curl "/v1/targets/local/exec" -X POST --data-binary 'garbage!' -o /dev/null 2>/dev/null || true # 400 body
jg_curl "/v1/nope" -o /dev/null 2>/dev/null || true                          # 404
jg_curl "/v1/targets/local/files/okroot" -T "$JG_T/up.txt" -H "x-jumpgate-root: $JG_T/root" -o /dev/null 2>/dev/null || true
jg_curl /healthz -o /dev/null 2>/dev/null || true                            # not an operation
jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"

cat >"$JG_T/check.py" <<'EOP'
import json, sys
path, closed = sys.argv[1], sys.argv[2]
starts, ends = {}, {}
for no, line in enumerate(open(path, encoding="utf-8"), 1):
    o = json.loads(line)
    d = starts if o["event"] == "start" else ends
    assert o["op"] not in d, "op %s has two %s lines" % (o["op"], o["event"])
    d[o["op"]] = o
assert set(starts) == set(ends), "unpaired ops: %s" % sorted(set(starts) ^ set(ends))[:10]
recs = [dict(starts[k], **ends[k]) for k in sorted(ends)]
fails = []
def one(what, pred):
    got = [r for r in recs if pred(r)]
    if len(got) != 1:
        fails.append("%s: %d records (want 1)" % (what, len(got)))
        return {}
    return got[0]
def check(what, cond):
    if not cond:
        fails.append(what)
r = one("exec echo", lambda r: r["action"] == "exec" and r.get("argv") == ["echo", "hi"])
check("exec: target_typed local", r.get("target_typed") == "local")
check("exec: destination", "local" in r.get("destination", ""))
r = one("exec rm (denied)", lambda r: r["action"] == "exec" and r.get("argv", [""])[0] == "rm")
check("denied: outcome and rule", r.get("outcome") == "denied" and "no-rm" in r.get("reason", ""))
check("denied: destination", "local" in r.get("destination", ""))
for typed, host in (("local", "localhost"), ("127.0.0.1", "127.0.0.1")):
    r = one("tunnel to %s port 9" % typed, lambda r: r["action"] == "tunnel" and r.get("target_typed") == typed
            and "port=9" in r.get("request", "") + "port=%s" % r.get("port"))
    check("tunnels.allow refusal of %s: denied with its reason %r, outcome %r" % (typed, r.get("reason"), r.get("outcome")),
          r.get("outcome") == "denied" and "not allowed" in r.get("reason", ""))
    check("tunnels.allow refusal of %s: port 9 and host %r in the record" % (typed, r.get("host")),
          r.get("port") == 9 and r.get("host") == host)
r = one("tunnel to the closed port", lambda r: r["action"] == "tunnel" and r.get("port") == int(closed))
check("failed tunnel: the cause %r" % r.get("reason"),
      r.get("outcome") == "failed" and "refused" in r.get("reason", "").lower())
check("failed tunnel: host %r" % r.get("host"), r.get("host") == "localhost")
r = one("bad target encoding", lambda r: "%ZZ" in r.get("request", ""))
check("bad encoding: 400 refused", r.get("status") == 400 and r.get("outcome") == "refused" and r.get("action") == "exec")
r = one("path escape", lambda r: "%2E%2E" in r.get("request", ""))
check("path escape: 400 refused, reason %r" % r.get("reason"), r.get("status") == 400 and ".." in r.get("reason", ""))
r = one("bad spec", lambda r: r.get("target_typed", "").startswith("ssh:-o"))
check("bad spec: 400 refused", r.get("status") == 400 and r.get("outcome") == "refused")
r = one("bad exec body", lambda r: r.get("request") == "POST /v1/targets/local/exec")
check("bad body: 400 refused", r.get("status") == 400 and r.get("action") == "exec")
r = one("404", lambda r: r.get("request") == "GET /v1/nope")
check("404 refused", r.get("status") == 404)
r = one("put beneath a root", lambda r: r["action"] == "put")
check("put: root %r kept with path %r" % (r.get("root"), r.get("path")),
      r.get("root", "").endswith("/root") and r.get("path") == r.get("root", "") + "/okroot")
check("healthz not audited", not any("/healthz" in r.get("request", "") for r in recs))
check("%d records, want 11" % len(recs), len(recs) == 11)
if fails:
    print("; ".join(fails))
    sys.exit(1)
print("%d requests, %d records, each a start and an end" % (len(recs), len(recs)))
EOP
if out=$(python3 "$JG_T/check.py" "$JG_T/audit.log" "$CLOSED" 2>&1); then
	jg_ok "one start and one end per request, refusals included: $out"
else
	jg_notok "audit records: $out"
	jg_show "$JG_T/audit.log" 30
fi
jg_done
