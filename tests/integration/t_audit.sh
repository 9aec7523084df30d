#!/bin/bash
# Audit log (issue 7): 1,000 mixed operations -- exec ok, exec failing, exec
# denied by policy, file put and get -- leave lines that all parse as JSON,
# with each op's start paired with its end, failed and denied ones included.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
command -v python3 >/dev/null || jg_skip "python3 is needed to check the audit lines"

mkdir -p "$JG_T/files"
echo payload >"$JG_T/up.txt"
JG_CONF_EXTRA="audit = \"$JG_T/audit.log\";
policy = (
  { name = \"no-rm\"; actions = [ \"exec\" ]; commands = [ \"rm\" ]; allow = false; },
  { name = \"all\"; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts, auditing to a file"

N=${JG_AUDIT_OPS:-1000}
one() { # one I: operation I of the mix
	case $(($1 % 5)) in
	0) jg_exec echo "op $1" ;;
	1) jg_exec sh -c 'exit 3' ;;
	2) jg_exec rm -f /nonexistent ;;
	3) jg_curl "/v1/targets/local/files$JG_T/files/f$1" -T "$JG_T/up.txt" -o /dev/null ;;
	4) jg_curl "/v1/targets/local/files$JG_T/up.txt" -o /dev/null ;;
	esac
}
start=$SECONDS
for ((i = 0; i < N; i += 10)); do
	pids=()
	for ((j = i; j < i + 10 && j < N; j++)); do
		one $j </dev/null >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true # not a bare wait: the gateway is a background job too
	[ $((SECONDS - start)) -lt 300 ] || { jg_notok "1,000 operations within 300 s (at $i)"; break; }
done
jg_log "$N operations in $((SECONDS - start)) s"
jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"

cat >"$JG_T/check.py" <<'EOP'
import json, sys, collections
path, n = sys.argv[1], int(sys.argv[2])
starts, ends = {}, {}
for no, line in enumerate(open(path, encoding="utf-8"), 1):
    assert line.endswith("\n"), "line %d is not whole" % no
    o = json.loads(line)  # raises on a bad line
    for k in ("time", "event", "op", "identity", "peer", "target", "action"):
        assert k in o, "line %d lacks %s" % (no, k)
    assert o["peer"].startswith("127.0.0.1:"), "line %d: peer %r" % (no, o["peer"])
    d = starts if o["event"] == "start" else ends
    assert o["op"] not in d, "op %s has two %s lines" % (o["op"], o["event"])
    d[o["op"]] = o
assert set(starts) == set(ends), "unpaired ops: %s" % sorted(set(starts) ^ set(ends))[:10]
for op, e in ends.items():
    for k in ("bytes_in", "bytes_out", "duration_ms", "outcome", "reason"):
        assert k in e, "end of op %s lacks %s" % (op, k)
    assert e["action"] == starts[op]["action"]
c = collections.Counter((e["action"], e["outcome"]) for e in ends.values())
print(dict(c))
assert len(ends) == n, "%d ops audited, expected %d" % (len(ends), n)
assert c[("exec", "denied")] == n // 5
assert c[("exec", "failed")] == n // 5
assert c[("exec", "ok")] == n // 5
assert c[("put", "ok")] == n // 5 and c[("get", "ok")] == n // 5
assert all(e.get("exit") == 3 for e in ends.values() if e["action"] == "exec" and e["outcome"] == "failed")
assert all("no-rm" in e["reason"] for e in ends.values() if e["outcome"] == "denied")
assert all(e["bytes_in"] == 8 for e in ends.values() if e["action"] == "put")
EOP
if out=$(python3 "$JG_T/check.py" "$JG_T/audit.log" "$N" 2>&1); then
	jg_ok "every audit line parses; start and end pair for all $N ops: $out"
else
	jg_notok "audit lines: $out"
	jg_show "$JG_T/audit.log" 10
fi
jg_done
