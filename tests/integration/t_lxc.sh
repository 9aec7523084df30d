#!/bin/bash
# The lxc method (lxc-attach) against a real LXC container: a busybox
# container with no network (lxc.net.0.type = empty) made, started, stopped
# and destroyed by this test under its own lxc path ($JG_T/lxc, lxc-* -P),
# so nothing appears in /var/lib/lxc.  Through an inventory entry
# { method = "lxc"; container; lxc_path } it pins: exec inside the
# container (its hostname, a file only its rootfs holds, stdout, stderr and
# exit status apart, container=lxc from --clear-env), 4 MiB of stdin and
# back, cp in and out (the upload seen in the rootfs), the agent cached in
# the container, one lxc-attach for many operations and its argv exactly as
# docs/methods.md gives it; a stopped container and a nonexistent one
# failing with a reason ("not running"), the same once the running one is
# stopped under a pooled connection, and working again once it is started;
# an lxc_attach_path that does not exist; injection through the container
# name refused with 400.
#
# LXC needs root and a kernel and cgroup setup that allow containers.  Where
# the container cannot start (or JG_LXC_DOUBLE=1), the test says why on a
# "# lxc: DOUBLE because ..." line and runs the same checks against
# tests/integration/doubles/lxc-attach, a script that checks its argv and
# runs the command here: that proves the argv and the plumbing, not LXC.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require sha256sum awk

CT=jgt$$
OFF=jgoff$$
LXCP=$JG_T/lxc
CREATED=()
mkdir -p "$LXCP" "$JG_T/files"

# EXIT: the gateway first (its lxc-attach sessions end with it), then every
# container this test made, by name under its own lxc path, then the rest.
lxc_cleanup() {
	local rc=$? c
	set +e
	if [ -n "${JG_GW_PID:-}" ] && jg_alive "$JG_GW_PID"; then
		jg_gateway_stop 5 >/dev/null 2>&1
	fi
	for c in "${CREATED[@]}"; do
		timeout 30 lxc-stop -P "$LXCP" -n "$c" -k >/dev/null 2>&1
		timeout 60 lxc-destroy -P "$LXCP" -n "$c" -f >/dev/null 2>&1 ||
			printf '# lxc-destroy -P %s -n %s failed\n' "$LXCP" "$c"
	done
	(exit $rc)
	jg_cleanup
}
trap lxc_cleanup EXIT

# lxc_why FILE: the lines of an lxc tool's output that say what failed.
lxc_why() {
	local w
	w=$(grep -E 'ERROR|error|Failed|failed|denied|not permitted' "$1" 2>/dev/null | head -n 4 |
		sed 's/^lxc-[a-z]* [^ ]* [0-9.]* //' | tr '\n' ' ')
	[ -n "$w" ] || w=$(tail -n 3 "$1" 2>/dev/null | tr '\n' ' ')
	printf '%s\n' "${w:0:600}"
}

# lxc_make NAME: create container NAME (busybox template, no network).
lxc_make() {
	timeout 120 lxc-create -P "$LXCP" -n "$1" -t busybox -f "$JG_T/lxc.conf" \
		>"$JG_T/create-$1.log" 2>&1 || return 1
	CREATED+=("$1")
}

# lxc_up NAME: start NAME in the background and wait (bounded) until
# lxc-attach runs a command in it.
lxc_up() {
	local deadline
	timeout 60 lxc-start -P "$LXCP" -n "$1" -d -l INFO -o "$JG_T/start-$1.log" \
		>"$JG_T/start-$1.out" 2>&1 || return 1
	deadline=$((SECONDS + 20))
	while [ $SECONDS -lt $deadline ]; do
		if [ "$(timeout 10 lxc-attach --clear-env -P "$LXCP" -n "$1" -- /bin/busybox hostname \
			2>"$JG_T/attach-$1.err")" = "$1" ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# Can a container run here?  WHY empty: yes.
MODE=real
WHY=
printf 'lxc.net.0.type = empty\n' >"$JG_T/lxc.conf"
if [ "${JG_LXC_DOUBLE:-0}" = 1 ]; then
	WHY="JG_LXC_DOUBLE=1 is set"
elif [ "$(id -u)" != 0 ]; then
	WHY="not root (uid $(id -u)): these tests make system containers, which need root"
elif ! command -v lxc-create >/dev/null 2>&1 || ! command -v lxc-attach >/dev/null 2>&1; then
	WHY="LXC is not installed (apt-get install lxc)"
elif ! command -v busybox >/dev/null 2>&1; then
	WHY="busybox is not installed (apt-get install busybox-static), the busybox template needs it"
elif ! lxc_make "$CT"; then
	WHY="lxc-create -t busybox failed: $(lxc_why "$JG_T/create-$CT.log")"
elif ! lxc_up "$CT"; then
	WHY="lxc-start failed: $(lxc_why "$JG_T/start-$CT.log") $(lxc_why "$JG_T/start-$CT.out") $(lxc_why "$JG_T/attach-$CT.err")"
elif ! lxc_make "$OFF"; then
	WHY="lxc-create of a second container failed: $(lxc_why "$JG_T/create-$OFF.log")"
fi

ATTACH=$(command -v lxc-attach || echo /usr/bin/lxc-attach)
ROOTFS=$LXCP/$CT/rootfs
REMOTE=/tmp/jg-in.bin
if [ -n "$WHY" ]; then
	MODE=double
	jg_log "lxc: DOUBLE because $WHY"
	for c in "${CREATED[@]}"; do
		timeout 30 lxc-stop -P "$LXCP" -n "$c" -k >/dev/null 2>&1 || true
		timeout 60 lxc-destroy -P "$LXCP" -n "$c" -f >/dev/null 2>&1 || true
	done
	CREATED=()
	# The double: a container "exists" as LXCP/NAME and "runs" with
	# LXCP/NAME/double-running (doubles/lxc-attach).
	mkdir -p "$JG_T/bin" "$LXCP/$CT" "$LXCP/$OFF" "$JG_T/ctr-home"
	cp "$srcdir/tests/integration/doubles/lxc-attach" "$srcdir/tests/integration/doubles/common.sh" "$JG_T/bin/"
	chmod 755 "$JG_T/bin/lxc-attach"
	: >"$LXCP/$CT/double-running"
	ATTACH=$JG_T/bin/lxc-attach
	ROOTFS=
	REMOTE=$JG_T/files/jg-in.bin
	export JG_DOUBLE_LOG=$JG_T/double.log JG_DOUBLE_HOME=$JG_T/ctr-home
	: >"$JG_DOUBLE_LOG"
else
	jg_ok "lxc: REAL container $CT runs (busybox, no network) under $LXCP; $OFF created, not started"
	printf 'only-in-%s\n' "$CT" >"$ROOTFS/jg-marker"
fi

# ---------------------------------------------------------------- gateway

# Pooled connections outlive the whole test (the lxc-attach count relies on it).
JG_CONF_EXTRA="pool = { idle_timeout = 900.0; };
targets = (
  { name = \"pg\"; method = \"lxc\"; container = \"$CT\"; lxc_path = \"$LXCP\"; },
  { name = \"pgpath\"; method = \"lxc\"; container = \"$CT\"; lxc_path = \"$LXCP\"; lxc_attach_path = \"$ATTACH\"; },
  { name = \"pgoff\"; method = \"lxc\"; container = \"$OFF\"; lxc_path = \"$LXCP\"; },
  { name = \"ghost\"; method = \"lxc\"; container = \"jgghost\"; lxc_path = \"$LXCP\"; },
  { name = \"pgns\"; method = \"setns\"; kind = \"lxc\"; container = \"$CT\"; lxc_path = \"$LXCP\"; },
  { name = \"offns\"; method = \"setns\"; kind = \"lxc\"; container = \"$OFF\"; lxc_path = \"$LXCP\"; }
);"
OLDPATH=$PATH
[ $MODE = real ] || export PATH=$JG_T/bin:$PATH
jg_gateway_start || { PATH=$OLDPATH; jg_notok "gateway starts with lxc inventory entries"; jg_done; }
PATH=$OLDPATH
jg_ok "gateway starts with lxc inventory entries on 127.0.0.1:$JG_PORT"


# attach_pids: the lxc-attach processes the gateway runs (real mode), by
# their argv[0]: lxc-attach re-executes itself from a memfd (the runc
# CVE-2019-5736 defence), so its comm is "memfd:lxc-attac".
attach_pids() {
	local d a0
	for d in $(jg_descendants "$JG_GW_PID"); do
		a0=$(tr '\0' '\n' <"/proc/$d/cmdline" 2>/dev/null | head -n1) || continue
		[ "$(basename "${a0:-x}")" != lxc-attach ] || printf '%s\n' "$d"
	done
}

# ---------------------------------------------------------------- exec

if [ $MODE = real ]; then want_host=$CT; else want_host=$(hostname); fi
cli /dev/null "$JG_T/h.out" "$JG_T/h.err" exec pg -- sh -c 'hostname; echo "container=$container"'
if [ "$RC" = 0 ] && [ "$(head -n1 "$JG_T/h.out")" = "$want_host" ] &&
	[ "$(sed -n 2p "$JG_T/h.out")" = container=lxc ]; then
	jg_ok "exec pg -- hostname: $(head -n1 "$JG_T/h.out") (container=lxc: the environment cleared)"
else
	jg_notok "exec pg -- hostname: '$want_host' and container=lxc (exit $RC, out '$(head -c 200 "$JG_T/h.out" | tr '\n' ' ')')"
	jg_show "$JG_T/h.err" 5
fi
if [ $MODE = real ]; then
	cli /dev/null "$JG_T/m.out" "$JG_T/m.err" exec pg -- cat /jg-marker
	if [ "$RC" = 0 ] && [ "$(cat "$JG_T/m.out")" = "only-in-$CT" ]; then
		jg_ok "exec pg -- cat /jg-marker: the file only the container's rootfs holds"
	else
		jg_notok "exec pg -- cat /jg-marker: only-in-$CT (exit $RC, out '$(head -c 200 "$JG_T/m.out")')"
		jg_show "$JG_T/m.err" 5
	fi
fi

# setns into the same container, its PID asked of the real lxc-info -P.
if [ $MODE = real ]; then
	cli /dev/null "$JG_T/ns.out" "$JG_T/ns.err" exec pgns -- sh -c 'hostname; cat /jg-marker; echo $$'
	if [ "$RC" = 0 ] && [ "$(sed -n 1p "$JG_T/ns.out")" = "$CT" ] &&
		[ "$(sed -n 2p "$JG_T/ns.out")" = "only-in-$CT" ] && [ "$(sed -n 3p "$JG_T/ns.out")" -lt 1000 ]; then
		jg_ok "exec pgns (setns:lxc:$CT via lxc-info -P): the container's hostname, rootfs and PID namespace"
	else
		jg_notok "exec pgns (setns via lxc-info): hostname $CT, the marker, a small PID (exit $RC, out '$(head -c 200 "$JG_T/ns.out" | tr '\n' ' ')')"
		jg_show "$JG_T/ns.err" 5
	fi
	cli /dev/null "$JG_T/nsoff.out" "$JG_T/nsoff.err" exec offns -- true
	if [ "$RC" = 255 ] && grep -q "not running" "$JG_T/nsoff.err"; then
		jg_ok "exec offns (setns into a stopped container): $(head -n1 "$JG_T/nsoff.err" | cut -c1-200)"
	else
		jg_notok "exec offns: exit 255 naming 'not running' (exit $RC: $(head -c 300 "$JG_T/nsoff.err"))"
	fi
fi

printf 'hello from stdin\n' >"$JG_T/in.txt"
cli "$JG_T/in.txt" "$JG_T/e.out" "$JG_T/e.err" exec pg -- \
	sh -c 'read -r x; echo "got $x"; echo "to stderr" >&2; exit 7'
if [ "$RC" = 7 ] && [ "$(cat "$JG_T/e.out")" = "got hello from stdin" ] && grep -qx 'to stderr' "$JG_T/e.err"; then
	jg_ok "exec pg: stdout, stderr, stdin and exit status 7 carried"
else
	jg_notok "exec pg: stdout 'got hello from stdin', stderr, exit 7 (exit $RC, out '$(head -c 200 "$JG_T/e.out")')"
	jg_show "$JG_T/e.err" 5
fi
for code in 0 1 42; do
	cli /dev/null "$JG_T/x.out" "$JG_T/x.err" exec pg -- sh -c "exit $code"
	if [ "$RC" = "$code" ]; then jg_ok "exit status $code mirrored from the container"; else
		jg_notok "exit status $code mirrored from the container (got $RC)"
		jg_show "$JG_T/x.err" 3
	fi
done

head -c $((4 * 1048576)) /dev/urandom >"$JG_T/stdin.bin"
want=$(jg_sha256 "$JG_T/stdin.bin")
rc=0
jg_cli exec pg -- cat <"$JG_T/stdin.bin" 2>"$JG_T/c.err" | sha256sum >"$JG_T/c.sum" || rc=$?
if [ "$rc" = 0 ] && [ "$(cut -d' ' -f1 "$JG_T/c.sum")" = "$want" ]; then
	jg_ok "4 MiB of stdin through cat in the container and back, sha256 equal"
else
	jg_notok "4 MiB of stdin through cat in the container and back, sha256 equal (exit $rc)"
	jg_show "$JG_T/c.err" 5
fi
if out=$(jg_cli exec pg -- wc -c <"$JG_T/stdin.bin" 2>"$JG_T/w.err") && [ "$(echo $out)" = $((4 * 1048576)) ]; then
	jg_ok "stdin EOF reaches the program in the container (wc -c counts $((4 * 1048576)))"
else
	jg_notok "stdin EOF reaches the program in the container (wc -c said '${out:-}')"
	jg_show "$JG_T/w.err" 3
fi

# ---------------------------------------------------------------- cp

head -c $((3 * 1048576)) /dev/urandom >"$JG_T/src.bin"
want=$(jg_sha256 "$JG_T/src.bin")
cli /dev/null "$JG_T/cp.out" "$JG_T/cp.err" cp "$JG_T/src.bin" "pg:$REMOTE"
if [ "$RC" = 0 ]; then
	jg_ok "cp up to pg:$REMOTE: exit 0"
else
	jg_notok "cp up to pg:$REMOTE: exit 0 (exit $RC)"
	jg_show "$JG_T/cp.err" 5
fi
if [ $MODE = real ]; then
	if [ -f "$ROOTFS$REMOTE" ] && [ "$(jg_sha256 "$ROOTFS$REMOTE")" = "$want" ]; then
		jg_ok "the upload is in the container's rootfs ($ROOTFS$REMOTE), sha256 equal"
	else
		jg_notok "the upload is in the container's rootfs ($ROOTFS$REMOTE), sha256 equal"
	fi
fi
cli /dev/null "$JG_T/cp.out" "$JG_T/cp.err" cp "pg:$REMOTE" "$JG_T/back.bin"
if [ "$RC" = 0 ] && [ -f "$JG_T/back.bin" ] && [ "$(jg_sha256 "$JG_T/back.bin")" = "$want" ]; then
	jg_ok "cp back down from pg:$REMOTE, sha256 equal"
else
	jg_notok "cp back down from pg:$REMOTE, sha256 equal (exit $RC)"
	jg_show "$JG_T/cp.err" 5
fi

# ---------------------------------------------------------------- the agent, the argv, the pool

AGENT_SHA=$(jg_sha256 "$JUMPGATE_AGENT")
if [ $MODE = real ]; then
	cached=
	# lxc-attach --clear-env leaves no HOME: the stub's fallback, TMPDIR/.jumpgate-UID
	# (asked inside: the container's /tmp may be a tmpfs of its own)
	for f in /root/.cache/jumpgate /tmp/.jumpgate-0; do
		if jg_cli exec pg -- test -x "$f/agent-$AGENT_SHA" </dev/null >/dev/null 2>&1; then
			cached=$f/agent-$AGENT_SHA
		fi
	done
else
	cached=$JG_DOUBLE_HOME/.cache/jumpgate/agent-$AGENT_SHA
	[ -x "$cached" ] || cached=
fi
if [ -n "$cached" ]; then
	jg_ok "the stub cached the agent inside the container: ${cached#"$JG_T"/}"
else
	jg_notok "the stub cached the agent inside the container (agent-${AGENT_SHA:0:12}... under ~/.cache/jumpgate or /tmp/.jumpgate-0)"
fi

# The argv: the real lxc-attach's from /proc, the double's from its log.
if [ $MODE = real ]; then
	mapfile -t pids < <(attach_pids)
	if [ "${#pids[@]}" = 1 ]; then
		mapfile -d '' -t got <"/proc/${pids[0]}/cmdline"
	else
		got=()
		jg_log "lxc-attach processes under the gateway: ${#pids[@]}; its descendants:"
		for d in $(jg_descendants "$JG_GW_PID"); do
			jg_log "  $d $(jg_comm "$d"): $(tr '\0' ' ' <"/proc/$d/cmdline" 2>/dev/null | cut -c1-120)"
		done
	fi
else
	# "=== lxc-attach $0", then the arguments: $0 stands for argv[0].
	mapfile -t got < <(awk '/^=== end$/ { exit } /^=== / { sub(/^=== [^ ]* /, ""); print; next } { print }' "$JG_DOUBLE_LOG")
fi
want=(--clear-env -P "$LXCP" -n "$CT" -- sh -c @STUB@ jumpgate-stub)
ok=1
if [ "${#got[@]}" != $((${#want[@]} + 1)) ] || [ "$(basename "${got[0]:-}")" != lxc-attach ]; then
	ok=0
else
	for i in "${!want[@]}"; do
		g=${got[$((i + 1))]}
		if [ "${want[$i]}" = @STUB@ ]; then
			[[ $g == *'jumpgate-stub: hello'* ]] || ok=0
		else
			[ "$g" = "${want[$i]}" ] || ok=0
		fi
	done
fi
shown=$(for g in "${got[@]}"; do [[ $g == *'jumpgate-stub: hello'* ]] && printf '<stub> ' || printf '%s ' "$g"; done)
if [ $ok = 1 ]; then
	jg_ok "argv: $shown"
else
	jg_notok "argv: lxc-attach --clear-env -P $LXCP -n $CT -- sh -c <stub> jumpgate-stub (got: ${shown:-nothing})"
fi
if [ $MODE = real ]; then
	n=${#pids[@]}
else
	n=$(grep -c '^=== end$' "$JG_DOUBLE_LOG" || true)
fi
if [ "$n" = 1 ]; then
	jg_ok "one lxc-attach (one pooled connection) for every operation so far"
else
	jg_notok "one lxc-attach (one pooled connection) for every operation so far ($n)"
fi

cli /dev/null "$JG_T/p.out" "$JG_T/p.err" exec pgpath -- echo by-path
if [ "$RC" = 0 ] && [ "$(cat "$JG_T/p.out")" = by-path ]; then
	jg_ok "lxc_attach_path = \"$ATTACH\" works"
else
	jg_notok "lxc_attach_path = \"$ATTACH\" works (exit $RC)"
	jg_show "$JG_T/p.err" 5
fi

# ---------------------------------------------------------------- failures

# refused_check NAME TARGET PATTERN: exec fails with 255 and a reason
# matching the extended regex PATTERN (case-insensitive).
refused_check() {
	local name=$1 t=$2 pat=$3
	JG_TIMEOUT=60 cli /dev/null "$JG_T/r.out" "$JG_T/r.err" exec "$t" -- echo should-not-run
	if [ "$RC" = 255 ] && ! grep -q should-not-run "$JG_T/r.out" && grep -qiE -- "$pat" "$JG_T/r.err"; then
		jg_ok "$name: exit 255, $(head -n1 "$JG_T/r.err" | cut -c1-300)"
	else
		jg_notok "$name: exit 255 and a reason matching /$pat/ (exit $RC: $(head -c 400 "$JG_T/r.err"))"
	fi
}

refused_check "stopped container ($OFF)" pgoff "not running"
refused_check "stopped container names it" pgoff "pgoff|$OFF"
refused_check "nonexistent container jgghost" ghost "not running|does not exist|not found|no such"
refused_check "nonexistent container names it" ghost "ghost"
refused_check "spec form local/lxc:jgnosuch$$ (default lxc path)" "local/lxc:jgnosuch$$" "jgnosuch$$"

# Injection through the container name: 400 before any lxc-attach.
[ $MODE = real ] || : >"$JG_DOUBLE_LOG"
n=0
for t in 'local/lxc:-P' 'local/lxc:--rcfile=/etc/passwd' 'local/lxc:a;b' 'local/lxc:$(id)' \
	'local/lxc:a b' 'local/lxc:`id`' 'local/lxc:.x' 'local/lxc:-n'; do
	n=$((n + 1))
	code=$(jg_curl "/v1/targets/$(urlenc "$t")/exec" -X POST -H 'content-type: application/x-jumpgate-frames' \
		-o "$JG_T/inj$n.body" -w '%{http_code}' 2>/dev/null) || true
	touch "$JG_T/inj$n.body"
	if [ "$code" = 400 ] && grep -q '"reason"' "$JG_T/inj$n.body" &&
		! grep -qiE 'not supported|unknown method' "$JG_T/inj$n.body"; then
		jg_ok "injection '$t': 400, $(head -c 200 "$JG_T/inj$n.body")"
	else
		jg_notok "injection '$t': 400 with a reason (got $code: $(head -c 200 "$JG_T/inj$n.body"))"
	fi
done
if [ $MODE = double ]; then
	if [ ! -s "$JG_DOUBLE_LOG" ]; then jg_ok "no lxc-attach ran for any of them"; else
		jg_notok "no lxc-attach ran for any of them"
	fi
fi

# Stop the container under its pooled connection: the link dies with it,
# the next operation says "not running"; started again, it works again.
if [ $MODE = real ]; then
	mapfile -t pids < <(attach_pids)
	if timeout 30 lxc-stop -P "$LXCP" -n "$CT" -k >"$JG_T/stop.log" 2>&1; then
		jg_ok "lxc-stop -k $CT"
	else
		jg_notok "lxc-stop -k $CT ($(lxc_why "$JG_T/stop.log"))"
	fi
	for p in "${pids[@]}"; do jg_wait_gone "$p" 10 || jg_log "lxc-attach $p still there 10 s after the stop"; done
	refused_check "container stopped under a pooled connection" pg "not running"
	if lxc_up "$CT"; then
		cli /dev/null "$JG_T/h.out" "$JG_T/h.err" exec pg -- hostname
		if [ "$RC" = 0 ] && [ "$(cat "$JG_T/h.out")" = "$CT" ]; then
			jg_ok "started again: exec pg works again over a new connection"
		else
			jg_notok "started again: exec pg works again (exit $RC)"
			jg_show "$JG_T/h.err" 5
		fi
	else
		jg_notok "lxc-start $CT again ($(lxc_why "$JG_T/start-$CT.log"))"
	fi
fi

if [ "$(jg_http_code GET /healthz)" = 200 ]; then jg_ok "gateway still serves /healthz"; else jg_notok "gateway still serves /healthz"; fi
if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi

# ---------------------------------------------------------------- lxc-attach missing

# Its own gateway: a refusal when the configuration is loaded (naming the
# path) is as good as a reason at exec time, and must not take the checks
# above with it.
JG_CONF_EXTRA="targets = ( { name = \"noattach\"; method = \"lxc\"; container = \"$CT\"; lxc_path = \"$LXCP\"; lxc_attach_path = \"/nonexistent/lxc-attach\"; } );"
if JG_START_TIMEOUT=15 jg_gateway_start >"$JG_T/noattach.start" 2>&1; then
	refused_check "lxc_attach_path /nonexistent/lxc-attach" noattach "lxc-attach"
	refused_check "lxc_attach_path /nonexistent/lxc-attach: says it is missing" noattach \
		"not installed|missing|no such file|not found"
	jg_gateway_stop 10 || true
elif grep -q '/nonexistent/lxc-attach' "$JG_GW_LOG"; then
	jg_ok "lxc_attach_path /nonexistent/lxc-attach: refused at load, $(grep -m1 '/nonexistent/lxc-attach' "$JG_GW_LOG" | cut -c1-200)"
else
	jg_notok "lxc_attach_path /nonexistent/lxc-attach: a clear error at load or at exec"
	jg_show "$JG_GW_LOG" 10
fi

jg_log "lxc: mode $MODE"
jg_done
