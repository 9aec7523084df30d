#!/bin/bash
# The docker, kubectl and lxd methods against DOUBLES of their tools
# (tests/integration/doubles/: POSIX sh scripts that log their argv, check it
# against the exact shape of docs/methods.md and run the far side's command
# here).  No docker daemon, Kubernetes cluster or lxd runs on a test machine,
# so this pins what the gateway can get right without them: the argv each
# hop builds, argument by argument (the stub text aside); the stub and the
# agent through one, two and three container hops (exec: stdout, stderr, exit
# status, stdin; cp in and out; one pooled connection); the tools found on
# PATH for spec forms and at docker_path / kubectl_path / lxc_path for
# inventory entries; "not found" reasons naming the container or pod; a
# missing tool; the chain length limit; and injection through container,
# pod, namespace and user names refused with 400 before any tool runs.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require sha256sum awk

jg_log "DOUBLE: kubectl/docker/lxd are scripts that check their argv and run the command locally; this proves the argv and the chain plumbing, not the real tools"

# The doubles, copied (modes and a read-only srcdir do not matter then):
# $D is first on the gateway's PATH (spec forms); $INV is on no PATH, only
# named by the inventory's *_path keys.  Each logs "=== TOOL $0", so the log
# tells which copy ran.
D=$JG_T/doubles
INV=$JG_T/inv
mkdir -p "$D" "$INV" "$JG_T/ctr-home" "$JG_T/files"
for f in docker kubectl lxc lxc-attach common.sh; do
	cp "$srcdir/tests/integration/doubles/$f" "$D/$f"
	cp "$srcdir/tests/integration/doubles/$f" "$INV/$f"
done
chmod 755 "$D"/* "$INV"/*

# What the gateway hands to the doubles: their log, the "container's" HOME
# (the stub caches the agent there), and nothing that could reach a real
# daemon or cluster should a real tool ever run.
export JG_DOUBLE_LOG=$JG_T/double.log
export JG_DOUBLE_HOME=$JG_T/ctr-home
export KUBECONFIG=$JG_T/no-kubeconfig
export DOCKER_HOST=unix://$JG_T/no-docker.sock
: >"$JG_DOUBLE_LOG"

# The agent arguments the gateway passes the stub after "jumpgate-stub"
# (docs/methods.md: "sh -c '<stub>' jumpgate-stub [AGENT-ARGS...]"); none
# for an agent that simply serves its link.
STUB=(sh -c @STUB@ jumpgate-stub)

# ---------------------------------------------------------------- helpers

# dbl_reset: empty the log (before an operation whose calls are checked).
dbl_reset() { : >"$JG_DOUBLE_LOG"; }

# dbl_calls: how many times a double ran since the last reset.
dbl_calls() { grep -c '^=== end$' "$JG_DOUBLE_LOG" || true; }

# dbl_call N: call N (from 1): "TOOL PATH", then one line per argument.
dbl_call() {
	awk -v n="$1" '
		/^=== end$/ { if (i == n) exit; next }
		/^=== / { i++; if (i == n) print substr($0, 5); next }
		i == n { print }' "$JG_DOUBLE_LOG"
}

# dbl_show N: call N on one line, the stub as <stub>.
dbl_show() {
	dbl_call "$1" | awk '{ if (index($0, "jumpgate-stub: hello")) $0 = "<stub>"; printf "%s%s", sep, $0; sep = " " }'
}

# dbl_expect N TOOLPATH ARG...: call N ran TOOLPATH (the double named by its
# path) with exactly ARG...; @STUB@ stands for the stub script (any text
# holding "jumpgate-stub: hello").  On a mismatch WHY says where.
dbl_expect() {
	local n=$1 i got want
	shift
	mapfile -t got < <(dbl_call "$n")
	want=("$(basename "$1") $1" "${@:2}")
	for i in "${!want[@]}"; do
		if [ "$i" -ge "${#got[@]}" ]; then
			WHY="call $n has ${#got[@]} words, ${#want[@]} wanted: missing '${want[$i]}'"
			return 1
		fi
		if [ "${want[$i]}" = @STUB@ ]; then
			if [[ ${got[$i]} != *'jumpgate-stub: hello'* ]]; then
				WHY="call $n word $i is not the stub: '${got[$i]:0:80}'"
				return 1
			fi
		elif [ "${got[$i]}" != "${want[$i]}" ]; then
			WHY="call $n word $i is '${got[$i]:0:80}', '${want[$i]}' wanted"
			return 1
		fi
	done
	if [ "${#got[@]}" -ne "${#want[@]}" ]; then
		WHY="call $n has ${#got[@]} words, ${#want[@]} wanted: extra '${got[${#want[@]}]:0:80}'"
		return 1
	fi
	return 0
}

# check_argv NAME NCALLS [N TOOLPATH ARG... ";"]...: the log holds exactly
# NCALLS calls and each listed one is as given.
check_argv() {
	local name=$1 ncalls=$2 n tool args ok=1 calls
	shift 2
	calls=$(dbl_calls)
	if [ "$calls" != "$ncalls" ]; then
		jg_notok "$name: $ncalls call(s) of the doubles, got $calls"
		for n in $(seq 1 "$calls"); do jg_log "call $n: $(dbl_show "$n" | cut -c1-300)"; done
		return 0
	fi
	while [ $# -gt 0 ]; do
		n=$1 tool=$2
		shift 2
		args=()
		while [ $# -gt 0 ] && [ "$1" != ";" ]; do
			args+=("$1")
			shift
		done
		[ $# -eq 0 ] || shift
		if ! dbl_expect "$n" "$tool" "${args[@]}"; then
			ok=0
			jg_notok "$name: argv exactly as docs/methods.md ($WHY)"
			jg_log "call $n: $(dbl_show "$n" | cut -c1-300)"
		fi
	done
	if [ $ok = 1 ]; then
		jg_ok "$name: argv $(for n in $(seq 1 "$calls"); do printf '[%s] ' "$(dbl_show "$n" | sed "s|$JG_T|\$T|g")"; done)"
	fi
}


# exec_check NAME TARGET: exec through TARGET: stdout, stderr and exit status
# kept apart, stdin read by the far side.
exec_check() {
	local name=$1 t=$2
	printf 'hello from stdin\n' >"$JG_T/in.txt"
	cli "$JG_T/in.txt" "$JG_T/e.out" "$JG_T/e.err" exec "$t" -- \
		sh -c 'read -r x; echo "got $x"; echo "to stderr" >&2; exit 7'
	if [ "$RC" = 7 ] && [ "$(cat "$JG_T/e.out")" = "got hello from stdin" ] &&
		grep -qx 'to stderr' "$JG_T/e.err"; then
		jg_ok "$name: exec $t: stdout, stderr, stdin and exit status 7 carried"
	else
		jg_notok "$name: exec $t: stdout 'got hello from stdin', stderr, exit 7 (exit $RC, out '$(head -c 200 "$JG_T/e.out")')"
		jg_show "$JG_T/e.err" 5
	fi
}

# stream_check NAME TARGET: 2 MiB through cat and back, sha256 equal.
stream_check() {
	local name=$1 t=$2 want rc=0
	head -c $((2 * 1048576)) /dev/urandom >"$JG_T/stdin.bin"
	want=$(jg_sha256 "$JG_T/stdin.bin")
	jg_cli exec "$t" -- cat <"$JG_T/stdin.bin" 2>"$JG_T/s.err" | sha256sum >"$JG_T/s.sum" || rc=$?
	if [ "$rc" = 0 ] && [ "$(cut -d' ' -f1 "$JG_T/s.sum")" = "$want" ]; then
		jg_ok "$name: 2 MiB of stdin through cat on $t and back, sha256 equal"
	else
		jg_notok "$name: 2 MiB of stdin through cat on $t and back, sha256 equal (exit $rc)"
		jg_show "$JG_T/s.err" 5
	fi
}

# cp_check NAME TARGET: a file up to TARGET and back down, sha256 equal
# (the double runs the agent here: the upload is also looked at directly).
cp_check() {
	local name=$1 t=$2 tag remote want
	tag=$(printf '%s' "$t" | tr -c 'A-Za-z0-9' _)
	remote=$JG_T/files/up-$tag.bin
	head -c 300000 /dev/urandom >"$JG_T/src-$tag.bin"
	want=$(jg_sha256 "$JG_T/src-$tag.bin")
	cli /dev/null "$JG_T/cp.out" "$JG_T/cp.err" cp "$JG_T/src-$tag.bin" "$t:$remote"
	if [ "$RC" = 0 ] && [ -f "$remote" ] && [ "$(jg_sha256 "$remote")" = "$want" ]; then
		jg_ok "$name: cp up to $t:/.../up-$tag.bin, sha256 equal"
	else
		jg_notok "$name: cp up to $t: exit 0 and the file in place (exit $RC)"
		jg_show "$JG_T/cp.err" 5
	fi
	cli /dev/null "$JG_T/cp.out" "$JG_T/cp.err" cp "$t:$remote" "$JG_T/down-$tag.bin"
	if [ "$RC" = 0 ] && [ -f "$JG_T/down-$tag.bin" ] && [ "$(jg_sha256 "$JG_T/down-$tag.bin")" = "$want" ]; then
		jg_ok "$name: cp back down from $t, sha256 equal"
	else
		jg_notok "$name: cp back down from $t, sha256 equal (exit $RC)"
		jg_show "$JG_T/cp.err" 5
	fi
}

# refused_check NAME TARGET WORD...: exec through TARGET fails with 255 and
# a reason holding every WORD (case-insensitive).
refused_check() {
	local name=$1 t=$2 w ok=1
	shift 2
	JG_TIMEOUT=30 cli /dev/null "$JG_T/r.out" "$JG_T/r.err" exec "$t" -- echo should-not-run
	[ "$RC" = 255 ] || ok=0
	! grep -q should-not-run "$JG_T/r.out" || ok=0
	for w in "$@"; do grep -qiF -- "$w" "$JG_T/r.err" || ok=0; done
	if [ $ok = 1 ]; then
		jg_ok "$name: exit 255, $(head -n1 "$JG_T/r.err" | cut -c1-300)"
	else
		jg_notok "$name: exit 255 and a reason with: $* (exit $RC: $(head -c 400 "$JG_T/r.err"))"
	fi
}

# ---------------------------------------------------------------- gateway

# The inventory: every target names its tool by path ($INV); kubectl's
# entry carries what a spec cannot (context, extra arguments).
INVENTORY="targets = (
  { name = \"dk\"; method = \"docker\"; container = \"web\"; user = \"app\"; docker_path = \"$INV/docker\"; },
  { name = \"k8\"; method = \"kubectl\"; namespace = \"ns1\"; pod = \"pod1\"; container = \"c1\";
    context = \"ctx1\"; kubectl_args = [ \"--kubeconfig=/nonexistent/kubeconfig\", \"--request-timeout=5s\" ];
    kubectl_path = \"$INV/kubectl\"; },
  { name = \"lx\"; method = \"lxd\"; container = \"ct1\"; lxc_path = \"$INV/lxc\"; },
  { name = \"dkmiss\"; method = \"docker\"; container = \"missing\"; docker_path = \"$INV/docker\"; }
);"

OLDPATH=$PATH
export PATH=$D:$PATH
INV_OK=1
# Pooled connections outlive the whole test (the call counts rely on it).
POOL='pool = { idle_timeout = 900.0; };'
JG_CONF_EXTRA="$POOL
$INVENTORY"
if ! jg_gateway_start; then
	jg_notok "gateway starts with the docker/kubectl/lxd inventory (see the log above)"
	INV_OK=0
	JG_CONF_EXTRA=$POOL
	jg_gateway_start || { PATH=$OLDPATH; jg_notok "gateway starts without an inventory"; jg_done; }
else
	jg_ok "gateway starts with docker, kubectl and lxd inventory entries, on 127.0.0.1:$JG_PORT"
fi
export PATH=$OLDPATH

# ---------------------------------------------------------------- docker

dbl_reset
exec_check docker local/docker:web
check_argv "docker: local/docker:web" 1 1 "$D/docker" exec -i web "${STUB[@]}"
AGENT_SHA=$(jg_sha256 "$JUMPGATE_AGENT")
if [ -x "$JG_DOUBLE_HOME/.cache/jumpgate/agent-$AGENT_SHA" ]; then
	jg_ok "docker: the stub ran behind docker exec and cached the agent in the container's HOME"
else
	jg_notok "docker: the stub cached the agent in the container's HOME ($(ls -A "$JG_DOUBLE_HOME/.cache/jumpgate" 2>&1 | tr '\n' ' '))"
fi
stream_check docker local/docker:web
cp_check docker local/docker:web
for code in 0 1 42; do
	cli /dev/null "$JG_T/x.out" "$JG_T/x.err" exec local/docker:web -- sh -c "exit $code"
	if [ "$RC" = "$code" ]; then jg_ok "docker: exit status $code mirrored"; else
		jg_notok "docker: exit status $code mirrored (got $RC)"
		jg_show "$JG_T/x.err" 3
	fi
done
n=$(dbl_calls)
if [ "$n" = 1 ]; then
	jg_ok "docker: one docker exec (one pooled connection) for all 7 operations"
else
	jg_notok "docker: one docker exec (one pooled connection) for all 7 operations ($n calls)"
fi

dbl_reset
exec_check "docker user" local/docker:app@web
check_argv "docker: local/docker:app@web" 1 1 "$D/docker" exec -i -u app web "${STUB[@]}"

# ---------------------------------------------------------------- kubectl

dbl_reset
exec_check kubectl local/kubectl:pod1
check_argv "kubectl: local/kubectl:pod1" 1 1 "$D/kubectl" exec -i pod1 -- "${STUB[@]}"

dbl_reset
exec_check kubectl local/kubectl:ns1:pod1:c1
check_argv "kubectl: local/kubectl:ns1:pod1:c1" 1 1 "$D/kubectl" -n ns1 exec -i pod1 -c c1 -- "${STUB[@]}"
stream_check kubectl local/kubectl:ns1:pod1:c1
cp_check kubectl local/kubectl:ns1:pod1:c1

# Two parts: the grammar's first optional part, the namespace, is taken.
dbl_reset
exec_check kubectl local/kubectl:ns2:pod2
check_argv "kubectl: local/kubectl:ns2:pod2 (namespace:pod)" 1 1 "$D/kubectl" -n ns2 exec -i pod2 -- "${STUB[@]}"

# ---------------------------------------------------------------- lxd

dbl_reset
exec_check lxd local/lxd:ct1
check_argv "lxd: local/lxd:ct1" 1 1 "$D/lxc" exec --mode=non-interactive ct1 -- "${STUB[@]}"
stream_check lxd local/lxd:ct1
cp_check lxd local/lxd:ct1

# ---------------------------------------------------------------- chains

# Each hop wraps the next one's argv untouched: docker's REST is kubectl's
# whole argv (found on the PATH of the "container", the doubles' one).
dbl_reset
exec_check "chain of 3" local/docker:web/kubectl:ns2:pod2:c2
check_argv "chain local/docker:web/kubectl:ns2:pod2:c2" 2 \
	1 "$D/docker" exec -i web kubectl -n ns2 exec -i pod2 -c c2 -- "${STUB[@]}" ";" \
	2 "$D/kubectl" -n ns2 exec -i pod2 -c c2 -- "${STUB[@]}"
cp_check "chain of 3" local/docker:web/kubectl:ns2:pod2:c2

dbl_reset
exec_check "chain of 4" local/lxd:ct1/docker:app@web/kubectl:pod3
check_argv "chain local/lxd:ct1/docker:app@web/kubectl:pod3" 3 \
	1 "$D/lxc" exec --mode=non-interactive ct1 -- docker exec -i -u app web kubectl exec -i pod3 -- "${STUB[@]}" ";" \
	2 "$D/docker" exec -i -u app web kubectl exec -i pod3 -- "${STUB[@]}" ";" \
	3 "$D/kubectl" exec -i pod3 -- "${STUB[@]}"
stream_check "chain of 4" local/lxd:ct1/docker:app@web/kubectl:pod3

# Seven hops work (local and six docker hops); ten are refused before
# anything runs (docs/methods.md: at most 8).
long=local
for i in 1 2 3 4 5 6; do long="$long/docker:c$i"; done
dbl_reset
cli /dev/null "$JG_T/l.out" "$JG_T/l.err" exec "$long" -- echo deep
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/l.out")" = deep ] && [ "$(dbl_calls)" = 6 ]; then
	jg_ok "a chain of 7 hops ($long) works: 6 nested docker execs"
else
	jg_notok "a chain of 7 hops works (exit $RC, $(dbl_calls) calls, out '$(head -c 100 "$JG_T/l.out")')"
	jg_show "$JG_T/l.err" 5
fi
long=local
for i in 1 2 3 4 5 6 7 8 9; do long="$long/docker:c$i"; done
dbl_reset
code=$(jg_curl "/v1/targets/$(urlenc "$long")/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
	-o "$JG_T/long.body" -w '%{http_code}' 2>/dev/null) || true
touch "$JG_T/long.body"
if [ "$code" = 400 ] && grep -q '"reason"' "$JG_T/long.body" && [ "$(dbl_calls)" = 0 ]; then
	jg_ok "a chain of 10 hops: 400, $(head -c 200 "$JG_T/long.body"), no tool run"
else
	jg_notok "a chain of 10 hops: 400 with a reason and no tool run (got $code: $(head -c 200 "$JG_T/long.body"); $(dbl_calls) calls)"
fi

# ---------------------------------------------------------------- not found

refused_check "docker: no such container" local/docker:missing missing "no such container"
refused_check "kubectl: no such pod" local/kubectl:ns1:missing missing "not found"
refused_check "lxd: no such instance" local/lxd:missing missing "not found"
refused_check "chain: no such pod behind docker" local/docker:web/kubectl:missing missing "not found"

# ---------------------------------------------------------------- inventory

if [ $INV_OK = 1 ]; then
	dbl_reset
	exec_check "inventory docker" dk
	check_argv "inventory dk (docker_path)" 1 1 "$INV/docker" exec -i -u app web "${STUB[@]}"
	cp_check "inventory docker" dk

	dbl_reset
	exec_check "inventory kubectl" k8
	check_argv "inventory k8 (kubectl_path, context, kubectl_args)" 1 1 "$INV/kubectl" \
		--kubeconfig=/nonexistent/kubeconfig --request-timeout=5s --context ctx1 -n ns1 \
		exec -i pod1 -c c1 -- "${STUB[@]}"

	dbl_reset
	exec_check "inventory lxd" lx
	check_argv "inventory lx (lxc_path)" 1 1 "$INV/lxc" exec --mode=non-interactive ct1 -- "${STUB[@]}"

	# An inventory entry starting a chain: its tool at its path, the next
	# hop's tool from the PATH of the far side.
	dbl_reset
	exec_check "inventory chain" dk/kubectl:pod9
	check_argv "inventory chain dk/kubectl:pod9" 2 \
		1 "$INV/docker" exec -i -u app web kubectl exec -i pod9 -- "${STUB[@]}" ";" \
		2 "$D/kubectl" exec -i pod9 -- "${STUB[@]}"

	refused_check "inventory dkmiss: no such container" dkmiss missing "no such container"
fi

# ---------------------------------------------------------------- injection

# Names outside the allow-list never reach an argv: 400 naming the part,
# before any tool runs (the log stays empty).
# Each entry: TARGET, a TAB, and a piece the reason must show (the name or
# the character refused; empty where the reason may word it freely).  A
# reason saying chains are "not supported" or the method "unknown" does not
# count: the refusal must come from the name checks.
dbl_reset
n=0
while IFS=$'\t' read -r t needle; do
	[ -n "$t" ] || continue
	t=$(printf '%b' "$t")
	n=$((n + 1))
	code=$(jg_curl "/v1/targets/$(urlenc "$t")/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
		-o "$JG_T/inj$n.body" -w '%{http_code}' 2>/dev/null) || true
	touch "$JG_T/inj$n.body"
	shown=$t
	[[ $t != *[[:cntrl:]]* ]] || shown=$(printf '%q' "$t")
	if [ "$code" = 400 ] && grep -q '"reason"' "$JG_T/inj$n.body" &&
		! grep -qiE 'not supported|unknown method' "$JG_T/inj$n.body" &&
		{ [ -z "$needle" ] || grep -qF -- "$needle" "$JG_T/inj$n.body"; }; then
		jg_ok "injection '$shown': 400, $(head -c 200 "$JG_T/inj$n.body" | tr '\n' ' ')"
	else
		jg_notok "injection '$shown': 400 with a reason${needle:+ showing '$needle'} (got $code: $(head -c 200 "$JG_T/inj$n.body"))"
	fi
done <<'LIST'
local/docker:-rm	-rm
local/docker:--privileged	--privileged
local/docker:a b	a b
local/docker:a;b	;
local/docker:$(id)	$
local/docker:`id`	`
local/docker:.hidden	.hidden
local/docker:-u@web	-u
local/docker:root@-rm	-rm
local/docker:a$b@web	$
local/docker:web\n-x	
local/docker:web\tx	
local/docker:w\001b	
local/docker:	
local/docker:a|b	|
local/docker:a&b	&
local/docker:web:extra	
local/kubectl:a;b	;
local/kubectl:-n:pod	-n
local/kubectl:ns:-pod	-pod
local/kubectl:ns:pod:-c	-c
local/kubectl:ns:pod:c:extra	
local/kubectl:ns:$(id)	$
local/kubectl:--kubeconfig=x	--kubeconfig
local/kubectl:ns::c	
local/lxd:-x	-x
local/lxd:a$b	$
local/lxd:a`b`	`
local/lxd:a>b	>
local/docker:web/kubectl:p;q	;
local/docker:web/lxd:-x	-x
local/docker:web/local	
docker:web/local	
LIST
# The same through the CLI: its own checks, or the gateway's 400.
for t in 'local/docker:-rm' 'local/docker:a b' 'local/kubectl:a;b' 'local/lxd:$(id)' 'local/docker:`id`'; do
	JG_TIMEOUT=30 cli /dev/null "$JG_T/ci.out" "$JG_T/ci.err" exec -- "$t" -- touch "$JG_T/pwned"
	if [ "$RC" = 255 ] && [ -s "$JG_T/ci.err" ] && ! grep -qiE 'not supported|unknown method' "$JG_T/ci.err"; then
		jg_ok "CLI exec -- '$t': exit 255, $(head -n1 "$JG_T/ci.err" | cut -c1-200)"
	else
		jg_notok "CLI exec -- '$t': exit 255 with a reason (exit $RC: $(head -c 300 "$JG_T/ci.err"))"
	fi
done
code=$(jg_curl "/v1/targets/$(urlenc local/dockerx:web)/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
	-o "$JG_T/um.body" -w '%{http_code}' 2>/dev/null) || true
touch "$JG_T/um.body"
if { [ "$code" = 400 ] || [ "$code" = 404 ]; } && grep -q 'dockerx' "$JG_T/um.body" &&
	! grep -qi 'not supported' "$JG_T/um.body"; then
	jg_ok "unknown method local/dockerx:web: $code, $(head -c 200 "$JG_T/um.body")"
else
	jg_notok "unknown method local/dockerx:web: 400 or 404 naming the method (got $code: $(head -c 200 "$JG_T/um.body"))"
fi
if [ "$(dbl_calls)" = 0 ] && [ ! -e "$JG_T/pwned" ]; then
	jg_ok "no tool ran for any refused target (the doubles' log is empty)"
else
	jg_notok "no tool ran for any refused target ($(dbl_calls) calls)"
	for n in $(seq 1 "$(dbl_calls)"); do jg_log "call $n: $(dbl_show "$n" | cut -c1-300)"; done
fi

# ---------------------------------------------------------------- end

if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi

# ---------------------------------------------------------------- missing tool

# A docker_path that does not exist: refused when the configuration is
# loaded (naming the path), or an operation fails with a reason saying the
# tool is missing.  Its own gateway, so that a refusal at load time does not
# take the other checks with it.
JG_CONF_EXTRA="targets = ( { name = \"notool\"; method = \"docker\"; container = \"web\"; docker_path = \"/nonexistent/docker\"; } );"
if JG_START_TIMEOUT=15 jg_gateway_start >"$JG_T/notool.start" 2>&1; then
	refused_check "docker_path /nonexistent/docker" notool /nonexistent/docker
	if grep -qiE 'not installed|no such file' "$JG_T/r.err"; then
		jg_ok "docker_path /nonexistent/docker: the reason says the tool is missing"
	else
		jg_notok "docker_path /nonexistent/docker: the reason says the tool is missing ($(head -c 300 "$JG_T/r.err"))"
	fi
	jg_gateway_stop 10 || true
elif grep -q '/nonexistent/docker' "$JG_GW_LOG"; then
	jg_ok "docker_path /nonexistent/docker: refused at load, $(grep -m1 '/nonexistent/docker' "$JG_GW_LOG" | cut -c1-200)"
else
	jg_notok "docker_path /nonexistent/docker: a clear error at load or at exec"
	jg_show "$JG_GW_LOG" 10
fi

# ---------------------------------------------------------------- su on a terminal

# password_tty: a su that reads its password from a terminal (doubles/su-tty,
# as shadow's su) gets one from the agent (--askpass-tty); util-linux su, which
# reads stdin, is t_become.sh's.  The double runs COMMAND with runuser.
if id nobody >/dev/null 2>&1; then
	cp "$srcdir/tests/integration/doubles/su-tty" "$INV/su-tty"
	chmod 755 "$INV/su-tty"
	JG_CONF_EXTRA="targets = (
  { name = \"ttysu\"; method = \"su\"; user = \"nobody\"; password = \"pw-nobody\";
    password_tty = true; su_path = \"$INV/su-tty\"; },
  { name = \"ttysubad\"; method = \"su\"; user = \"nobody\"; password = \"wrong\";
    password_tty = true; su_path = \"$INV/su-tty\"; },
  { name = \"stdinsu\"; method = \"su\"; user = \"nobody\"; password = \"pw-nobody\";
    su_path = \"$INV/su-tty\"; }
);"
	if jg_gateway_start; then
		cli /dev/null "$JG_T/tty.out" "$JG_T/tty.err" exec local/ttysu -- sh -c 'id -un; [ -t 0 ] || echo stdin-not-a-tty'
		if [ "$RC" = 0 ] && [ "$(cat "$JG_T/tty.out")" = $'nobody\nstdin-not-a-tty' ]; then
			jg_ok "su with password_tty: the agent answers on a PTY; the command's stdin stays a pipe"
		else
			jg_notok "su with password_tty: nobody (exit $RC, out '$(head -c 200 "$JG_T/tty.out" | tr '\n' ' ')': $(head -c 300 "$JG_T/tty.err"))"
		fi
		JG_TIMEOUT=60 cli /dev/null "$JG_T/ttyb.out" "$JG_T/ttyb.err" exec local/ttysubad -- true
		if [ "$RC" = 255 ] && grep -qi 'refused\|authentication failure' "$JG_T/ttyb.err"; then
			jg_ok "su with password_tty, a wrong password: $(head -n1 "$JG_T/ttyb.err" | cut -c1-200)"
		else
			jg_notok "su with password_tty, a wrong password: exit 255, refused (exit $RC: $(head -c 300 "$JG_T/ttyb.err"))"
		fi
		JG_TIMEOUT=60 cli /dev/null "$JG_T/ttys.out" "$JG_T/ttys.err" exec local/stdinsu -- true
		if [ "$RC" = 255 ] && grep -q 'must be run from a terminal' "$JG_T/ttys.err"; then
			jg_ok "the same su without password_tty: refused with a hint, $(head -n1 "$JG_T/ttys.err" | cut -c1-200)"
		else
			jg_notok "the same su without password_tty: 'must be run from a terminal' (exit $RC: $(head -c 300 "$JG_T/ttys.err"))"
		fi
		jg_gateway_stop 10 || true
	else
		jg_notok "gateway starts with su password_tty entries"
	fi
fi
jg_done
