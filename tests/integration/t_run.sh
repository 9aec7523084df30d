#!/bin/bash
# jumpgate run: one command on 6 targets (l1..l5, method local, each its own
# agent connection, and a dead ssh target) where 2 exit non-zero and 1 is
# unreachable: the summary counts and names them and the exit status is 5
# (1 some failed + 4 some unreachable; 8 some denied);
# lines are prefixed with their target (a partial last line too, stderr
# apart); -B groups identical outputs under the folded list of targets; --json is
# one document that parses; globs and groups are expanded by the gateway, a
# glob matching nothing runs nothing; --fanout bounds the streams in flight.
# With OpenSSH's sshd (tests/integration/sshd.sh) an ssh target s1 joins.
# The same summary over 20 targets (3 unreachable, 2 failing): t_files_scale.sh.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require python3

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
locals='{ name = "l1"; method = "local"; },
  { name = "l2"; method = "local"; },
  { name = "l3"; method = "local"; },
  { name = "l4"; method = "local"; },
  { name = "l5"; method = "local"; },
  { name = "deny1"; method = "local"; }'
groups='groups = { odd = [ "l1", "l3", "l5" ]; };
policy = ( { name = "no-deny1"; targets = [ "deny1" ]; actions = [ "exec" ]; allow = false; },
  { name = "tests"; allow = true; } );'
if [ $SSH = 1 ]; then
	JG_CONF_EXTRA="$(jg_ssh_conf_defaults accept)
targets = (
  $locals,
  $(jg_ssh_target s1 127.0.0.2 "${JG_SSHD_PORT[s1]}")
);
$groups"
else
	JG_CONF_EXTRA="targets = (
  $locals
);
$groups"
fi
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

dead='ssh:nobody@127.0.0.1:1'
six="l1,l2,l3,l4,l5,$dead"
S=$JG_T/slots
# Every target runs the same command on the same host: they take numbered
# slots (mkdir is atomic); slots 4 and 5 exit 4 and 5, so exactly two fail.
claim='for i in 1 2 3 4 5; do if mkdir "$0/s$i" 2>/dev/null; then echo "slot $i"; [ $i -le 3 ] || exit $i; exit 0; fi; done; exit 9'

# ---------------------------------------------------------------- summary and exit status

rm -rf "$S" && mkdir -p "$S"
if jg_cli run "$six" -- sh -c "$claim" "$S" </dev/null >"$JG_T/sum.out" 2>"$JG_T/sum.err"; then rc=0; else rc=$?; fi
if [ $rc = 5 ] && grep -q '^jumpgate: run: 6 targets: 3 ok, 2 failed, 1 unreachable$' "$JG_T/sum.err" &&
	[ "$(grep -c '^jumpgate: failed: l[1-5]: exit status [45]$' "$JG_T/sum.err")" = 2 ] &&
	grep -q "^jumpgate: unreachable: $dead: .*Connection refused" "$JG_T/sum.err"; then
	jg_ok "6 targets, 2 exit non-zero, 1 unreachable: summary right, exit 5 (1 failed + 4 unreachable)"
else
	jg_notok "6 targets, 2 exit non-zero, 1 unreachable: summary right, exit 5 (exit $rc)"
	jg_show "$JG_T/sum.err" 10
fi
if [ "$(grep -c '^l[1-5]: slot [1-5]$' "$JG_T/sum.out")" = 5 ] && [ "$(wc -l <"$JG_T/sum.out")" = 5 ]; then
	jg_ok "each output line prefixed with its target"
else
	jg_notok "each output line prefixed with its target"
	jg_show "$JG_T/sum.out" 10
fi

# All ok: exit 0.
if jg_cli run l1,l2,l3,l4,l5 -- true </dev/null >"$JG_T/ok.out" 2>"$JG_T/ok.err" &&
	grep -q '5 ok, 0 failed, 0 unreachable' "$JG_T/ok.err"; then
	jg_ok "all ok: exit 0"
else
	jg_notok "all ok: exit 0"
	jg_show "$JG_T/ok.err" 5
fi

# Prefixes on stderr too, and a partial last line flushed (with a newline).
jg_cli run l1,l2 -- sh -c 'echo out; echo err >&2; printf tail' </dev/null >"$JG_T/p.out" 2>"$JG_T/p.err" || true
if [ "$(sort "$JG_T/p.out" | tr '\n' ' ')" = "l1: out l1: tail l2: out l2: tail " ] &&
	[ "$(grep -c '^l[12]: err$' "$JG_T/p.err")" = 2 ]; then
	jg_ok "stdout and stderr prefixed apart; a partial last line is flushed"
else
	jg_notok "stdout and stderr prefixed apart (stdout: $(tr '\n' '|' <"$JG_T/p.out"))"
fi

# ---------------------------------------------------------------- -b

rm -rf "$S" && mkdir -p "$S"
gather='for i in 1 2 3 4 5; do if mkdir "$0/s$i" 2>/dev/null; then if [ $i -le 3 ]; then echo same; echo same-err >&2; else echo "other $i"; fi; exit 0; fi; done'
# -B gathers stderr with stdout (-b keeps it apart: t_run_gather.sh).
if jg_cli run -B l1,l2,l3,l4,l5 -- sh -c "$gather" "$S" </dev/null >"$JG_T/b.out" 2>"$JG_T/b.err"; then rc=0; else rc=$?; fi
# The block of three: its header line folds whichever 3 targets won the race (l[1-3],
# l[1-2,5], l[1,4-5], l[1,3,5]...), "(3)", then both lines.
hdr3=$(grep -E '^l\[[1-5]([-,][1-5])+\] \(3\)$' "$JG_T/b.out" || true)
if [ $rc = 0 ] && [ -n "$hdr3" ] && [ "$(grep -cE '^l[1-5] \(1\)$' "$JG_T/b.out")" = 2 ] &&
	[ "$(grep -c '^---------------$' "$JG_T/b.out")" = 6 ] &&
	grep -A3 -xF "$hdr3" "$JG_T/b.out" | grep -qx 'same-err' &&
	[ "$(grep -c '^other [45]$' "$JG_T/b.out")" = 2 ]; then
	jg_ok "-B: identical outputs (stderr with them) gathered under '$hdr3', the 2 others apart"
else
	jg_notok "-B: identical outputs gathered (exit $rc)"
	jg_show "$JG_T/b.out" 20
fi

# ---------------------------------------------------------------- --json

rm -rf "$S" && mkdir -p "$S"
if jg_cli run --json "$six" -- sh -c "$claim" "$S" </dev/null >"$JG_T/j.out" 2>"$JG_T/j.err"; then rc=0; else rc=$?; fi
if [ $rc = 5 ] && python3 -c 'import json,sys; json.load(sys.stdin)' <"$JG_T/j.out" &&
	python3 - "$JG_T/j.out" "$dead" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 6, d
by = {o["target"]: o for o in d}
assert by[sys.argv[2]]["outcome"] == "unreachable" and by[sys.argv[2]]["error"], by[sys.argv[2]]
assert by[sys.argv[2]]["exit"] is None
oks = [o for o in d if o["outcome"] == "ok"]
bad = [o for o in d if o["outcome"] == "failed"]
assert len(oks) == 3 and all(o["exit"] == 0 and o["stdout"].startswith("slot ") for o in oks), d
assert sorted(o["exit"] for o in bad) == [4, 5], bad
assert all(o["signal"] is None and o["stderr"] == "" for o in oks + bad)
EOF
	jg_ok "--json: one document, parses, per-target outcome/exit/stdout/error right"
else
	jg_notok "--json: one document that parses (exit $rc)"
	jg_show "$JG_T/j.out" 20
	jg_show "$JG_T/j.err" 5
fi
# Signals and bytes that are not UTF-8.
if jg_cli run --json l1 -- sh -c 'printf "\377ok"; kill -9 $$' </dev/null >"$JG_T/k.out" 2>/dev/null; then rc=0; else rc=$?; fi
if [ $rc = 1 ] && python3 -c '
import json, sys
o = json.load(sys.stdin)[0]
assert o["signal"] == 9 and o["exit"] is None and o["outcome"] == "failed", o
assert o["stdout"] == "\ufffdok", o' <"$JG_T/k.out"; then
	jg_ok "--json: a signal death is \"signal\": 9; non-UTF-8 bytes become U+FFFD"
else
	jg_notok "--json: signal and non-UTF-8 (exit $rc)"
	jg_show "$JG_T/k.out" 10
fi

# ---------------------------------------------------------------- expansion

if jg_cli run -b 'l?' -- echo hi </dev/null >"$JG_T/g.out" 2>"$JG_T/g.err" &&
	grep -qx 'l\[1-5\] (5)' "$JG_T/g.out"; then
	jg_ok "a glob ('l?') is expanded by the gateway to l1..l5"
else
	jg_notok "a glob ('l?') is expanded by the gateway"
	jg_show "$JG_T/g.out" 5
	jg_show "$JG_T/g.err" 5
fi
if jg_cli run -b odd,l1,l2 -- echo hi </dev/null >"$JG_T/o.out" 2>"$JG_T/o.err" &&
	grep -qx 'l\[1-3,5\] (4)' "$JG_T/o.out"; then
	jg_ok "a group is expanded; duplicates run once"
else
	jg_notok "a group is expanded; duplicates run once"
	jg_show "$JG_T/o.out" 5
	jg_show "$JG_T/o.err" 5
fi
rm -rf "$S" && mkdir -p "$S"
if jg_cli run 'zz*',l1 -- mkdir "$S/ran" </dev/null >/dev/null 2>"$JG_T/z.err"; then rc=0; else rc=$?; fi
if [ $rc = 1 ] && [ ! -e "$S/ran" ] && grep -q "zz\*" "$JG_T/z.err"; then
	jg_ok "a glob matching nothing: exit 1, nothing runs ($(head -n1 "$JG_T/z.err" | cut -c1-80))"
else
	jg_notok "a glob matching nothing: exit 1, nothing runs (exit $rc)"
	jg_show "$JG_T/z.err" 5
fi
if jg_cli run l1,nosuchprogram-target -- true </dev/null >/dev/null 2>"$JG_T/u.err"; then rc=0; else rc=$?; fi
if [ $rc = 4 ] && grep -q '^jumpgate: unreachable: nosuchprogram-target: ' "$JG_T/u.err"; then
	jg_ok "an unknown host name is unreachable with the gateway's reason, exit 4"
else
	jg_notok "an unknown host name is unreachable (exit $rc)"
	jg_show "$JG_T/u.err" 5
fi
if jg_cli run l1,l2 -- /nonexistent/program </dev/null >/dev/null 2>"$JG_T/n.err"; then rc=0; else rc=$?; fi
if [ $rc = 1 ] && grep -q '0 ok, 2 failed, 0 unreachable' "$JG_T/n.err" &&
	grep -q '^jumpgate: failed: l1: exit status 127$' "$JG_T/n.err" &&
	[ "$(grep -c '^l[12]: cannot run /nonexistent/program: No such file or directory$' "$JG_T/n.err")" = 2 ]; then
	jg_ok "a program that is not there: failed (not unreachable), exit status 127, the reason on stderr"
else
	jg_notok "a program that cannot start: failed (exit $rc)"
	jg_show "$JG_T/n.err" 5
fi

# ---------------------------------------------------------------- --fanout

# --fanout 2 over 5 targets that each sleep 0.5 s: at least 3 rounds (>= 1.4 s);
# --fanout 5: one round.
t0=$(date +%s%N)
jg_cli run --fanout 2 l1,l2,l3,l4,l5 -- sleep 0.5 </dev/null >/dev/null 2>&1 || true
ms2=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
jg_cli run --fanout 5 l1,l2,l3,l4,l5 -- sleep 0.5 </dev/null >/dev/null 2>&1 || true
ms5=$((($(date +%s%N) - t0) / 1000000))
if [ $ms2 -ge 1400 ] && [ $ms5 -lt 1400 ]; then
	jg_ok "--fanout bounds the streams in flight (2: $ms2 ms, 5: $ms5 ms for 5 x sleep 0.5)"
else
	jg_notok "--fanout bounds the streams in flight (2: $ms2 ms, 5: $ms5 ms)"
fi

# One connection for the whole run: the gateway counts connections.
conns() { jg_curl /v1/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"]["total"])'; }
c0=$(conns)
jg_cli run l1,l2,l3,l4,l5 -- true </dev/null >/dev/null 2>&1 || true
c1=$(conns)
if [ $((c1 - c0)) = 2 ]; then # the run, and the stats request itself
	jg_ok "one connection to the gateway for 5 targets"
else
	jg_notok "one connection to the gateway for 5 targets ($((c1 - c0 - 1)))"
fi

if [ $SSH = 1 ]; then
	if jg_cli run -b l1,s1 -- sh -c 'echo $SSH_CONNECTION | cut -d" " -f3' </dev/null >"$JG_T/s.out" 2>"$JG_T/s.err" &&
		grep -qx '127.0.0.2' "$JG_T/s.out"; then
		jg_ok "an ssh target (s1) alongside a local one"
	else
		jg_notok "an ssh target (s1) alongside a local one"
		jg_show "$JG_T/s.out" 10
		jg_show "$JG_T/s.err" 5
	fi
fi

# ---------------------------------------------------------------- a policy denial
# is "denied", not "unreachable": the target was never dialled.
if jg_cli run l1,deny1 -- true </dev/null >"$JG_T/deny.out" 2>"$JG_T/deny.err"; then rc=0; else rc=$?; fi
if [ $rc = 8 ] && grep -q '^jumpgate: run: 2 targets: 1 ok, 0 failed, 0 unreachable, 1 denied$' "$JG_T/deny.err" &&
	grep -q '^jumpgate: denied: deny1: .*no-deny1' "$JG_T/deny.err"; then
	jg_ok "a target the policy denies: counted and named as denied, exit 8"
else
	jg_notok "a target the policy denies: counted and named as denied, exit 8 (exit $rc)"
	jg_show "$JG_T/deny.err" 5
fi
out=$(jg_cli run --json deny1 -- true </dev/null 2>/dev/null) || true
if printf '%s' "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d[0]["outcome"] == "denied", d'; then
	jg_ok "--json: outcome \"denied\""
else
	jg_notok "--json: outcome \"denied\" ($out)"
fi

if jg_cli run --help | grep -q 'clush -b'; then jg_ok "run --help"; else jg_notok "run --help"; fi
z=$(jg_zombies "$JG_GW_PID")
if [ -z "$z" ]; then jg_ok "no zombies"; else jg_notok "no zombies: $(echo $z)"; fi
if jg_gateway_stop 10; then jg_ok "gateway exits 0"; else jg_notok "gateway exits 0 (status $JG_GW_STATUS)"; fi
jg_done
