# Integration-test helpers; sourced by tests/integration/t_*.sh (bash).
#
# Every test runs real processes: a jumpgated started in the foreground (-f)
# and backgrounded by the test, the real jumpgate-agent it spawns, and the
# jumpgate CLI, curl or nghttp as clients.  The rules every helper keeps:
#   - only loopback addresses, a free port picked per gateway;
#   - every wait bounded (timeout(1), or a polling loop with a deadline);
#   - processes are stopped only by the PID this test recorded when it started
#     them (PID files under $JG_T/pids), never by name;
#   - everything lives in one temporary directory, removed by the EXIT trap.
#
# Binaries come from the environment make sets (tests/integration/local.mk):
# JUMPGATED, JUMPGATE, JUMPGATE_AGENT, else $builddir/<name>.
#
# Output: one line per check, "ok - name" or "not ok - name"; a test exits
# non-zero when any check failed (jg_done).

set -euo pipefail
export LC_ALL=C
# Debian's tools first.  The tests mean Debian's python3 (the one ansible and
# ansible-mitogen run on), and on the CI machines a pyenv shim stands before
# it in PATH: a bash script that runs a dozen others for every python3, about
# 0.1 s of CPU each time (and ansible's interpreter discovery meets it on
# every task run through a local target).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# sleep as a builtin (Debian's bash-builtins, scripts/install-deps.sh): the
# polling loops sleep 0.05 s thousands of times, and each /usr/bin/sleep is a
# fork and an exec (about 4 ms of CPU on the test machines).  A background
# "sleep N &" becomes a subshell sleeping: the tests only ever kill it.
enable -f /usr/lib/bash/sleep sleep 2>/dev/null || true

: "${builddir:=$(pwd)}"
: "${srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${JUMPGATED:=$builddir/jumpgated}"
: "${JUMPGATE:=$builddir/jumpgate}"
: "${JUMPGATE_AGENT:=$builddir/jumpgate-agent}"
export builddir srcdir JUMPGATED JUMPGATE JUMPGATE_AGENT

# The environment must not steer the client to some other gateway.
unset JUMPGATE_GATEWAY JUMPGATE_HOME JUMPGATE_CERT JUMPGATE_KEY JUMPGATE_CA || true
# Each invocation its own connection, as the tests count them; t_persist.sh turns the
# persistent client on (and keeps its sockets under its own $XDG_RUNTIME_DIR).
export JUMPGATE_PERSIST=0

JG_NAME=$(basename "$0" .sh)
JG_FAILED=0
JG_PASSED=0
JG_GW_PID=
JG_GW_STATUS=
JG_PORT=
# Log level for gateways started by the tests (JG_LOG_LEVEL=debug to dig).
: "${JG_LOG_LEVEL:=info}"
: "${JG_DRAIN_TIMEOUT:=2.0}"

jg_log() { printf '# %s\n' "$*"; }

jg_ok() {
	JG_PASSED=$((JG_PASSED + 1))
	printf 'ok - %s\n' "$*"
}

jg_notok() {
	JG_FAILED=$((JG_FAILED + 1))
	printf 'not ok - %s\n' "$*"
}

# jg_check NAME COMMAND...: ok when COMMAND succeeds.
jg_check() {
	local name=$1
	shift
	if "$@"; then jg_ok "$name"; else jg_notok "$name"; fi
}

# Show a file's tail in the test log (after a failure).
jg_show() {
	local f=$1 n=${2:-40}
	[ -s "$f" ] || return 0
	printf '# --- %s (last %s lines) ---\n' "$f" "$n"
	tail -n "$n" "$f" | cut -c1-400 | sed 's/^/#   /'
}

# ---------------------------------------------------------------- /v1/stats
#
# jg_stats: the body of GET /v1/stats.
jg_stats() { jg_curl /v1/stats 2>/dev/null; }

# jg_links: the objects of /v1/stats' agent_links, one per line (its values
# are all scalars: no nested braces).  Parsed with grep: jq is not assumed.
jg_links() {
	jg_stats | tr -d '\n' | grep -o '"agent_links": *\[[^]]*\]' | grep -o '{[^{}]*}' || true
}

# jg_json_val OBJECT KEY: a scalar value from one flat JSON object (strings
# without their quotes).
jg_json_val() {
	# A bash regex: no process of its own (printf | grep | head | sed forked four per
	# value, and the fan-out tests read thousands).  KEY is a plain word.
	local re="\"$2\": *(\"[^\"]*\"|[-0-9.a-z]*)" v
	[[ $1 =~ $re ]] || return 0
	v=${BASH_REMATCH[1]}
	v=${v#\"}
	printf '%s\n' "${v%\"}"
}

# jg_link TARGET: the first agent link (JSON object) whose target or display
# is TARGET and whose state is not dead; empty when none.
jg_link() {
	local l
	while IFS= read -r l; do
		[ "$(jg_json_val "$l" state)" != dead ] || continue
		if [ "$(jg_json_val "$l" target)" = "$1" ] || [ "$(jg_json_val "$l" display)" = "$1" ]; then
			printf '%s\n' "$l"
			return 0
		fi
	done < <(jg_links)
	return 0
}

# ---------------------------------------------------------------- sanitizers
#
# jg_sanitized: true when the programs under test carry the sanitizers
# (--enable-sanitizers).  Each instrumented process costs about 0.08 s of CPU more
# (LeakSanitizer's scan at exit is most of it) and each byte several times more, so
# bulk and loop tests scale down and time bounds widen there, each saying by how much.
jg_sanitized() { [[ ${JG_SANITIZERS:-} == *sanitize* ]]; }

# jg_asan_quarantine MB: under the sanitizers, ASan's quarantine of freed memory (256 MiB
# by default) capped at MB for the processes started from here on, so that an RSS
# measured is what a process holds, not what it allocated and freed.  Otherwise nothing.
jg_asan_quarantine() {
	jg_sanitized || return 0
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=$1:thread_local_quarantine_size_kb=64"
}

jg_done() {
	printf '# %s: %d passed, %d failed\n' "$JG_NAME" "$JG_PASSED" "$JG_FAILED"
	if [ "$JG_FAILED" -ne 0 ]; then
		[ -n "${JG_GW_LOG:-}" ] && jg_show "$JG_GW_LOG" 60
		exit 1
	fi
	exit 0
}

# Skip the whole test (automake: exit 77) when a tool is missing.
jg_require() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			printf 'ok - # SKIP %s not installed (scripts/install-deps.sh installs it)\n' "$t"
			exit 77
		fi
	done
}

# ---------------------------------------------------------------- temp dir

# jg_setup: temp dir, cleanup trap, binaries present.  Call first.
jg_setup() {
	JG_T=$(mktemp -d "${TMPDIR:-/tmp}/jg-$JG_NAME.XXXXXX")
	mkdir -p "$JG_T/pids"
	trap jg_cleanup EXIT
	# Where set -e stopped the test, for jg_cleanup to say (a test must not end silently).
	trap 'JG_ERR_AT="line $LINENO: $BASH_COMMAND"' ERR
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local b
	for b in "$JUMPGATED" "$JUMPGATE" "$JUMPGATE_AGENT"; do
		if [ ! -x "$b" ]; then
			jg_notok "binary $b exists (build first: make)"
			jg_done
		fi
	done
	jg_require curl openssl timeout
}

# Stop every process this test started (by the PIDs it recorded), then
# remove the temp dir.  JG_KEEP=1 keeps it for a post-mortem.
jg_cleanup() {
	local rc=$? f pid
	set +e
	if [ -n "${JG_T:-}" ] && [ -d "$JG_T/pids" ]; then
		for f in "$JG_T"/pids/*.pid; do
			[ -e "$f" ] || continue
			pid=$(cat "$f")
			jg_alive "$pid" && kill -TERM "$pid" 2>/dev/null
		done
		for f in "$JG_T"/pids/*.pid; do
			[ -e "$f" ] || continue
			pid=$(cat "$f")
			jg_wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
		done
	fi
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "$JG_FAILED" -eq 0 ]; then
		printf 'not ok - %s aborted (exit %d%s)\n' "$JG_NAME" "$rc" \
			"${JG_ERR_AT:+, at $JG_ERR_AT}"
		[ -z "${JG_GW_LOG:-}" ] || jg_show "$JG_GW_LOG" 60
	fi
	if [ -n "${JG_T:-}" ] && [ "${JG_KEEP:-0}" != 1 ]; then
		rm -rf "$JG_T"
	elif [ -n "${JG_T:-}" ]; then
		printf '# kept %s\n' "$JG_T"
	fi
	exit $rc
}

# ---------------------------------------------------------------- processes

# Process helpers read /proc with builtins, never $(cat ...): they run in
# polling loops, and a fork + exec costs about 4 ms of CPU on the test
# machines (a virtual machine), which thousands of polls turn into minutes.

# jg_read1 VAR FILE: the first line of FILE into VAR (a /proc file may end
# without a newline); 1 when FILE cannot be read.
jg_read1() {
	local _l=
	{ read -r _l <"$2"; } 2>/dev/null || [ -n "$_l" ] || return 1
	printf -v "$1" '%s' "$_l"
}

# jg_state_of PID: PID's single-letter state (R, S, Z...) into JG_PSTATE.
jg_state_of() {
	local s
	jg_read1 s "/proc/$1/stat" || return 1
	s=${s##*) }
	JG_PSTATE=${s%% *}
}

# Alive and not a zombie.
jg_alive() { kill -0 "$1" 2>/dev/null && jg_state_of "$1" && [ "$JG_PSTATE" != Z ]; }

# Single-letter state of PID (R, S, Z...), from /proc/PID/stat.
jg_proc_state() { jg_state_of "$1" && printf '%s\n' "$JG_PSTATE"; }

# jg_wait_gone PID SECONDS: wait until PID is gone; 1 on timeout.
jg_wait_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while jg_alive "$pid"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
	return 0
}

# Record a PID this test started: jg_track NAME PID.
jg_track() { printf '%s\n' "$2" >"$JG_T/pids/$1.pid"; }
# jg_term_wait PID NAME: SIGTERM to PID (a child of this shell, tracked as NAME);
# JG_ST is its exit status once it is gone (at most 10 s), else "timeout".
# (Not in a $(...): only this shell can wait for its child.)
jg_term_wait() {
	JG_ST=timeout
	kill -TERM "$1" 2>/dev/null || true
	if jg_wait_gone "$1" 10; then
		JG_ST=0
		wait "$1" || JG_ST=$?
		jg_untrack "$2"
	fi
}
jg_untrack() { rm -f "$JG_T/pids/$1.pid"; }

# Direct children of PID (one per line), zombies included.
jg_child_pids() {
	local pid=$1 f line c
	if [ -e "/proc/$pid/task/$pid/children" ]; then
		for f in /proc/"$pid"/task/*/children; do
			jg_read1 line "$f" || continue
			for c in $line; do printf '%s\n' "$c"; done
		done
	else
		for f in /proc/[0-9]*/stat; do
			awk -v p="$pid" '{ s = $0; sub(/.*\) /, "", s); split(s, a, " ");
				if (a[2] == p) { split(FILENAME, q, "/"); print q[3] } }' "$f" 2>/dev/null || true
		done
	fi
}

# All descendants of PID (children, grandchildren...).
jg_descendants() {
	local c
	for c in $(jg_child_pids "$1"); do
		printf '%s\n' "$c"
		jg_descendants "$c"
	done
}

# jg_ppid PID: PID's parent, from its own /proc/PID/stat (empty when it is gone).
# Exact, where a parent's task/*/children list may miss a child while others
# come and go (proc(5): "this interface is not reliable").  No fork.
jg_ppid() {
	local s
	jg_read1 s "/proc/$1/stat" || return 0
	s=${s##*) }
	s=${s#* }
	printf '%s\n' "${s%% *}"
}
jg_child_count() { jg_child_pids "$1" | wc -l; }
# jg_no_sanitizer_reports: ok when no gateway log of this test ($JG_T/jumpgated-*.log,
# where the agents log too) holds an ASan/UBSan report, else not ok with the first lines.
jg_no_sanitizer_reports() {
	if grep -hE 'Sanitizer|runtime error:' "$JG_T"/jumpgated-*.log >"$JG_T/san.txt" 2>/dev/null; then
		jg_notok "sanitizer reports in the gateway or agent logs"
		jg_show "$JG_T/san.txt" 20
	else
		jg_ok "no sanitizer report from the gateway or the agents"
	fi
}
jg_fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
jg_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
jg_comm() {
	local c
	jg_read1 c "/proc/$1/comm" || c='?'
	printf '%s\n' "$c"
}

# Descendants of PID in state Z, as "pid comm" lines (empty: none).
jg_zombies() {
	local d
	for d in $(jg_descendants "$1"); do
		if [ "$(jg_proc_state "$d" 2>/dev/null)" = Z ]; then
			printf '%s %s\n' "$d" "$(jg_comm "$d")"
		fi
	done
}

# jg_wait_descendant PID COMM SECONDS: wait until a descendant named COMM runs.
jg_wait_descendant() {
	local pid=$1 comm=$2 deadline=$((SECONDS + $3)) d
	while [ $SECONDS -lt $deadline ]; do
		for d in $(jg_descendants "$pid"); do
			[ "$(jg_comm "$d")" = "$comm" ] && return 0
		done
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- ports

# jg_listening: the TCP ports listening on any local address, as
# " PORT PORT ... " in JG_LISTENING (from /proc/net/tcp{,6}; builtins only).
jg_listening() {
	local f l lines
	JG_LISTENING=" "
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		# mapfile reads in blocks; read would take a byte per system call,
		# and each regenerates the file in the kernel (28 ms for 26 lines).
		mapfile -t lines <"$f"
		for l in "${lines[@]:1}"; do
			# shellcheck disable=SC2086 # the fields: hex and colons only
			set -- $l
			[ "${4:-}" != 0A ] || JG_LISTENING+="$((16#${2##*:})) "
		done
	done
	return 0
}

# Is TCP PORT listening on any local address?
jg_port_in_use() {
	jg_listening
	case $JG_LISTENING in *" $1 "*) return 0 ;; esac
	return 1
}

# A port nobody listens on, in 10000-31999, and no other test running now
# holds: the ports handed out are kept in one registry for the machine,
# $JG_PORTS ("PORT PID" lines, PID the test's shell), under a lock, and a
# line is dropped once its test has ended.  So two tests started at once
# (make -j check) never draw the same port, and a port one test keeps closed
# (to be refused) is not another's to listen on.  Binding can still race with
# some other process: jg_gateway_start retries with a new port when it does.
: "${JG_PORTS:=${TMPDIR:-/tmp}/jumpgate-test-ports-$(id -u)}"
jg_free_port() {
	local p i fd port pid taken=" " dropped=0 keep=()
	exec {fd}>>"$JG_PORTS.lock"
	if ! flock -w 60 "$fd"; then
		exec {fd}>&-
		jg_log "no lock on $JG_PORTS.lock within 60 s"
		return 1
	fi
	# Builtins only (no fork): t_parallel.sh draws 800 ports under this lock.
	[ -e "$JG_PORTS" ] || : >"$JG_PORTS"
	while read -r port pid; do
		if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
			taken+="$port "
			keep+=("$port $pid")
		else
			dropped=1
		fi
	done <"$JG_PORTS"
	if [ $dropped = 1 ]; then
		if [ ${#keep[@]} -gt 0 ]; then printf '%s\n' "${keep[@]}" >"$JG_PORTS"; else : >"$JG_PORTS"; fi
	fi
	jg_listening
	for ((i = 0; i < 200; i++)); do
		# Below Linux's ephemeral range (32768-60999): a port there can be taken
		# at any moment by the outgoing connection of a test running in parallel
		# (seen: "cannot listen on 127.0.0.1:39500: Address already in use").
		p=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		case $taken$JG_LISTENING in *" $p "*) continue ;; esac
		printf '%s %s\n' "$p" "$$" >>"$JG_PORTS"
		exec {fd}>&-
		printf '%s\n' "$p"
		return 0
	done
	exec {fd}>&-
	return 1
}

# ---------------------------------------------------------------- certificates

# jg_pki DIR: a test CA, a server certificate for 127.0.0.1 and a client
# certificate signed by it, made with the openssl CLI (independent of the
# gateway's own generation, which t_default_start.sh tests):
#   DIR/ca.pem ca.key server.pem server.key client.pem client.key
jg_pki() {
	local d=$1 user
	user=$(id -un)
	mkdir -p "$d"
	jg_mkca "$d" "jumpgate test CA"
	jg_mkcert "$d" server "127.0.0.1" \
		"subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" "extendedKeyUsage=serverAuth"
	jg_mkcert "$d" client "jumpgate test client $user" \
		"subjectAltName=URI:jumpgate:user:$user" "extendedKeyUsage=clientAuth"
}

# jg_foreign_pki DIR: another CA, unknown to the gateway, and a client
# certificate it signed (DIR/ca.pem, client.pem, client.key).
jg_foreign_pki() {
	local d=$1
	mkdir -p "$d"
	jg_mkca "$d" "some other CA"
	jg_mkcert "$d" client "intruder" \
		"subjectAltName=URI:jumpgate:user:intruder" "extendedKeyUsage=clientAuth"
}

# jg_mkca DIR CN
jg_mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$1/openssl.log"
	chmod 600 "$1/ca.key"
}

# jg_mkcert DIR NAME CN EXT...: NAME.pem / NAME.key signed by DIR's CA.
jg_mkcert() {
	local d=$1 name=$2 cn=$3 ext
	shift 3
	{
		printf 'basicConstraints=critical,CA:FALSE\n'
		printf 'keyUsage=critical,digitalSignature,keyEncipherment\n'
		for ext in "$@"; do printf '%s\n' "$ext"; done
	} >"$d/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$cn" 2>>"$d/openssl.log"
	openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
		-days 2 -extfile "$d/$name.ext" -out "$d/$name.pem" 2>>"$d/openssl.log"
	chmod 600 "$d/$name.key"
	rm -f "$d/$name.csr"
}

# ---------------------------------------------------------------- gateway

# jg_write_config FILE: a configuration for port $JG_PORT.
#   JG_CONF_MODE=full (default): test PKI, state dir, log level, drain, agent;
#   JG_CONF_MODE=minimal: only listen and state_dir (certificates generated).
# JG_CONF_EXTRA: more lines appended verbatim; without a `policy` in it, an
#   allow-everything policy is added (a file without one denies everything).
jg_write_config() {
	local f=$1
	{
		printf '# written by %s\n' "$JG_NAME"
		printf 'listen = "127.0.0.1:%s";\n' "$JG_PORT"
		printf 'state_dir = "%s";\n' "$JG_STATE"
		if [ "${JG_CONF_MODE:-full}" = full ]; then
			printf 'tls = {\n  ca = "%s";\n  cert = "%s";\n  key = "%s";\n};\n' \
				"$JG_PKI/ca.pem" "$JG_PKI/server.pem" "$JG_PKI/server.key"
			printf 'log_level = "%s";\n' "$JG_LOG_LEVEL"
			printf 'drain_timeout = %s;\n' "$JG_DRAIN_TIMEOUT"
			printf 'agent_path = "%s";\n' "$JUMPGATE_AGENT"
		fi
		[ -z "${JG_CONF_EXTRA:-}" ] || printf '%s\n' "$JG_CONF_EXTRA"
		# A file without `policy` denies everything (issue 7): tests that do not
		# write their own rules get one allowing every action to everyone.
		case "${JG_CONF_EXTRA:-}" in
		*policy*) ;;
		*) printf 'policy = ( { name = "tests"; allow = true; } );\n' ;;
		esac
	} >"$f"
}

# jg_init_pki: the test PKI in $JG_T/pki and the client credentials the
# helpers use (JG_CA, JG_CERT, JG_KEY).
jg_init_pki() {
	JG_PKI=$JG_T/pki
	jg_pki "$JG_PKI"
	JG_CA=$JG_PKI/ca.pem
	JG_CERT=$JG_PKI/client.pem
	JG_KEY=$JG_PKI/client.key
}

# jg_gateway_start: start jumpgated -f on a free port with a fresh config and
# wait (bounded) until GET /healthz answers 200 over mutual TLS with
# $JG_CA/$JG_CERT/$JG_KEY.  Sets JG_PORT, JG_GW_PID, JG_GW_LOG, JG_CONF.
# With JG_CONF_MODE=minimal the client credentials are the generated ones in
# $JG_STATE, looked up once they appear.
jg_gateway_start() {
	local attempt deadline n=${JG_GW_N:-0}
	: "${JG_STATE:=$JG_T/state}"
	for attempt in 1 2 3 4 5; do
		n=$((n + 1))
		JG_GW_N=$n
		JG_PORT=$(jg_free_port)
		JG_CONF=$JG_T/jumpgated-$n.conf
		JG_GW_LOG=$JG_T/jumpgated-$n.log
		jg_write_config "$JG_CONF"
		# JG_GW_WRAP: a command the gateway runs under (e.g. prlimit --nofile=256:256).
		${JG_GW_WRAP:-} "$JUMPGATED" -f -c "$JG_CONF" >"$JG_GW_LOG" 2>&1 </dev/null &
		JG_GW_PID=$!
		jg_track gateway "$JG_GW_PID"
		deadline=$((SECONDS + ${JG_START_TIMEOUT:-30}))
		while [ $SECONDS -lt $deadline ]; do
			if ! jg_alive "$JG_GW_PID"; then
				wait "$JG_GW_PID" 2>/dev/null && JG_GW_STATUS=0 || JG_GW_STATUS=$?
				jg_untrack gateway
				if grep -qi 'in use' "$JG_GW_LOG"; then
					jg_log "port $JG_PORT taken meanwhile; retrying"
					continue 2
				fi
				jg_log "jumpgated exited with status $JG_GW_STATUS before serving"
				jg_show "$JG_GW_LOG" 30
				return 1
			fi
			if [ "${JG_CONF_MODE:-full}" = minimal ]; then
				JG_CA=$JG_STATE/ca.pem
				JG_CERT=$JG_STATE/client.pem
				JG_KEY=$JG_STATE/client.key
			fi
			# curl only once the port listens (a builtin check): each
			# curl costs a process and a TLS handshake.
			if [ -r "$JG_CA" ] && [ -r "$JG_CERT" ] && [ -r "$JG_KEY" ] &&
				jg_port_in_use "$JG_PORT" && [ "$(jg_http_code GET /healthz)" = 200 ]; then
				return 0
			fi
			sleep 0.1
		done
		jg_log "jumpgated did not answer /healthz within ${JG_START_TIMEOUT:-30} s"
		jg_show "$JG_GW_LOG" 30
		return 1
	done
	return 1
}

# jg_gateway_stop [SECONDS]: SIGTERM, wait (bounded; SIGKILL after), and
# collect the exit status in JG_GW_STATUS.  Returns 0 iff it exited 0.
jg_gateway_stop() {
	local limit=${1:-10} pid=$JG_GW_PID
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null || true
	if ! jg_wait_gone "$pid" "$limit"; then
		jg_log "jumpgated (pid $pid) still running ${limit} s after SIGTERM; SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		jg_wait_gone "$pid" 5 || true
	fi
	JG_GW_STATUS=0
	wait "$pid" 2>/dev/null || JG_GW_STATUS=$?
	jg_untrack gateway
	JG_GW_PID=
	[ "$JG_GW_STATUS" -eq 0 ]
}

# ---------------------------------------------------------------- clients

# jg_cli ARGS...: the jumpgate CLI against the test gateway, bounded by
# $JG_TIMEOUT seconds (default 120).
jg_cli() {
	timeout "${JG_TIMEOUT:-120}" "$JUMPGATE" -g "127.0.0.1:$JG_PORT" \
		--cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" "$@"
}

# Shared by the method tests (t_lxc.sh, t_methods_double.sh):
# cli IN OUT ERR ARGS...: the CLI with stdin from IN; sets RC.
cli() {
	local in=$1 out=$2 err=$3
	shift 3
	if jg_cli "$@" <"$in" >"$out" 2>"$err"; then RC=0; else RC=$?; fi
}

# urlenc TEXT: percent-encode all but unreserved characters and ':' '@'
# (what the CLI sends: a chain is one path segment).
urlenc() {
	local s=$1 i c out=
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~:@-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}

# jg_exec ARGV...: jg_cli exec local -- ARGV...
jg_exec() { jg_cli exec local -- "$@"; }

# jg_curl PATH CURL-ARGS...: HTTP/2 over mutual TLS to the test gateway.
jg_curl() {
	local path=$1
	shift
	curl -sS --http2 --max-time "${JG_CURL_TIMEOUT:-20}" \
		--cacert "$JG_CA" --cert "$JG_CERT" --key "$JG_KEY" \
		"$@" "https://127.0.0.1:$JG_PORT$path"
}

# jg_http_code METHOD PATH: just the status (000 when no answer).
jg_http_code() {
	jg_curl "$2" -X "$1" -o /dev/null -w '%{http_code}' 2>/dev/null || true
}

# ---------------------------------------------------------------- frames
#
# Frame layout (docs/api.md, relay/frame.h), every integer big-endian:
#   magic u16 0x4A47 'JG' | type u8 | flags u8 | channel u32 | length u32 | aux u32 | payload
# Types: OPEN 2 (aux 1 = exec), OPEN_OK 3, OPEN_FAIL 4, DATA 5 (flag 1 = stderr),
# EOF 6, WINDOW 7, EXIT 8 (aux = code; flag 1 = aux is a signal), SIGNAL 9,
# RESIZE 10, CLOSE 11, PING 12, PONG 13, DEAD 14 (payload = reason).
# An exec OPEN payload is a list of fields tag u8 | length u32 | value; ARGV
# (tag 1) is NUL-terminated strings back to back.  Inside an HTTP/2 exec
# stream the channel is always 0.

# Four bytes, big-endian.
jg_be32() {
	local n=$1
	printf "\\x$(printf %02x $(((n >> 24) & 255)))\\x$(printf %02x $(((n >> 16) & 255)))"
	printf "\\x$(printf %02x $(((n >> 8) & 255)))\\x$(printf %02x $((n & 255)))"
}

# jg_frame TYPE FLAGS AUX [PAYLOAD-FILE]: one channel-0 frame on stdout.
jg_frame() {
	local type=$1 flags=$2 aux=$3 file=${4:-} len=0
	[ -z "$file" ] || len=$(stat -c %s "$file")
	printf '\x4a\x47'
	printf "\\x$(printf %02x "$type")\\x$(printf %02x "$flags")"
	jg_be32 0
	jg_be32 "$len"
	jg_be32 "$aux"
	[ -z "$file" ] || cat "$file"
}

# jg_open_exec ARGV...: an OPEN exec frame (ARGV field only) on stdout.
jg_open_exec() {
	local tmp
	tmp=$(mktemp "$JG_T/open.XXXXXX")
	printf '%s\0' "$@" >"$tmp.argv"
	{
		printf '\x01'
		jg_be32 "$(stat -c %s "$tmp.argv")"
		cat "$tmp.argv"
	} >"$tmp"
	jg_frame 2 0 1 "$tmp"
	rm -f "$tmp" "$tmp.argv"
}

# jg_frames_list FILE: one line per frame: "TYPE flags=F len=L aux=A payload=HEX..."
# (payload hex cut at 48 bytes).  Stops with "BAD ..." at anything not a frame
# and "TRUNCATED ..." at a partial frame.
jg_frames_list() {
	od -An -v -tx1 "$1" | tr -s ' \n' '\n\n' | sed '/^$/d' | awk '
	BEGIN {
		split("HELLO OPEN OPEN_OK OPEN_FAIL DATA EOF WINDOW EXIT SIGNAL RESIZE CLOSE PING PONG DEAD", names, " ")
		for (i = 0; i < 256; i++) hx[sprintf("%02x", i)] = i
	}
	{ b[n++] = $1 }
	END {
		off = 0
		while (off < n) {
			if (off + 16 > n) { printf "TRUNCATED header at offset %d\n", off; exit }
			if (b[off] != "4a" || b[off + 1] != "47") {
				printf "BAD magic %s%s at offset %d\n", b[off], b[off + 1], off; exit
			}
			t = hx[b[off + 2]]; fl = hx[b[off + 3]]
			len = 0; aux = 0; ch = 0
			for (i = 0; i < 4; i++) {
				ch = ch * 256 + hx[b[off + 4 + i]]
				len = len * 256 + hx[b[off + 8 + i]]
				aux = aux * 256 + hx[b[off + 12 + i]]
			}
			if (off + 16 + len > n) { printf "TRUNCATED payload at offset %d\n", off; exit }
			p = ""
			for (i = 0; i < len && i < 48; i++) p = p b[off + 16 + i]
			name = (t >= 1 && t <= 14) ? names[t] : "UNKNOWN" t
			printf "%s flags=%d ch=%d len=%d aux=%d payload=%s\n", name, fl, ch, len, aux, p
			off += 16 + len
		}
	}'
}

# Hex of a string (for comparing payloads).
jg_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# sha256 of a file (or of stdin with "-").
jg_sha256() { sha256sum "$1" | cut -d' ' -f1; }
