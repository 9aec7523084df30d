# Real OpenSSH servers for the ssh tests; sourced after lib.sh and jg_setup.
#
# Each server is a `sshd -D -e -f CONFIG` run in the foreground by the test,
# on one or more loopback addresses (127.0.0.2, 127.0.0.3...: Linux routes all
# of 127.0.0.0/8 to lo) and a free port, with everything it needs under
# $JG_T/sshd-NAME: its ed25519 host key (made here), its config, its log
# (sshd -e: stderr) and its PID file.  Logins take the client key that
# jg_ssh_client_key makes per test run (AuthorizedKeysFile points into $JG_T,
# StrictModes no).  Servers are stopped by the PID this test recorded
# (jg_track), never by name; jg_cleanup stops any left running.
#
# The remote HOME: sshd's SetEnv gives the sessions HOME=$JG_T/home-NAME, so
# the agent cache (~/.cache/jumpgate) of each test starts empty and never
# touches the real home of the login user.  ASAN_OPTIONS and UBSAN_OPTIONS,
# when set, are passed the same way (to a sanitized agent).
#
# Variables after jg_sshd_start NAME:
#   JG_SSHD_PORT[NAME], JG_SSHD_PID[NAME], JG_SSHD_DIR[NAME], JG_SSHD_LOG[NAME],
#   JG_SSHD_ADDRS[NAME] (space-separated), JG_SSHD_HOME[NAME]
# and JG_SSH_USER (the login user: root when the tests run as root, else the
# current user, the only one a non-root sshd can log in).

: "${JG_SSHD:=/usr/sbin/sshd}"
declare -gA JG_SSHD_PORT JG_SSHD_PID JG_SSHD_DIR JG_SSHD_LOG JG_SSHD_ADDRS JG_SSHD_HOME
JG_SSH_USER=$(id -un)

# jg_sshd_require: skip (77) when OpenSSH's server or client is missing.
jg_sshd_require() {
	if [ ! -x "$JG_SSHD" ]; then
		printf 'ok - # SKIP %s not installed (apt-get install openssh-server)\n' "$JG_SSHD"
		exit 77
	fi
	jg_require ssh ssh-keygen sha256sum
}

# jg_ssh_client_key: the client key pair of this run, $JG_SSH_KEY(.pub), its
# public half in $JG_SSH_AUTHKEYS (what every test sshd accepts), and an
# empty known_hosts file for the tests to fill ($JG_SSH_KNOWN).
jg_ssh_client_key() {
	JG_SSH_DIR=$JG_T/ssh
	JG_SSH_KEY=$JG_SSH_DIR/id_ed25519
	JG_SSH_AUTHKEYS=$JG_SSH_DIR/authorized_keys
	JG_SSH_KNOWN=$JG_SSH_DIR/known_hosts
	mkdir -p "$JG_SSH_DIR"
	chmod 700 "$JG_SSH_DIR"
	ssh-keygen -q -t ed25519 -N '' -C "jumpgate-test-$JG_NAME" -f "$JG_SSH_KEY" </dev/null >/dev/null
	cat "$JG_SSH_KEY.pub" >>"$JG_SSH_AUTHKEYS"
	chmod 600 "$JG_SSH_AUTHKEYS"
	: >"$JG_SSH_KNOWN"
}

# jg_sshd_hostkey NAME: (re)generate the host key of server NAME.
jg_sshd_hostkey() {
	local d=$JG_T/sshd-$1
	mkdir -p "$d"
	rm -f "$d/ssh_host_ed25519_key" "$d/ssh_host_ed25519_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "jumpgate-test-host-$1" -f "$d/ssh_host_ed25519_key" </dev/null >/dev/null
}

# Is PORT listening on ADDR (IPv4, from /proc/net/tcp)?
jg_listening_on() {
	local addr=$1 port=$2 hex a b c d
	IFS=. read -r a b c d <<<"$addr"
	hex=$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$port")
	awk -v h="$hex" 'FNR > 1 && $4 == "0A" && $2 == h { f = 1 } END { exit !f }' /proc/net/tcp
}

# jg_sshd_start NAME ADDR...: start server NAME listening on every ADDR (one
# port for all), and wait (bounded) until it listens on each.  Keeps the host
# key NAME already has (so a restart presents the same key), else makes one.
#   JG_SSHD_PASSWORD=1: password (and keyboard-interactive) logins allowed.
#   JG_SSHD_EXTRA: more sshd_config lines.
#   JG_SSHD_SETHOME=0: sessions keep the login user's own HOME (for users
#   who cannot write into $JG_T).
#   JG_SSHD_PORT_WANT: this port instead of a free one (a restart).
jg_sshd_start() {
	local name=$1 d=$JG_T/sshd-$1 port attempt a deadline ok pid pw=no setenv
	shift
	[ $# -gt 0 ] || set -- 127.0.0.2
	[ -e "$d/ssh_host_ed25519_key" ] || jg_sshd_hostkey "$name"
	mkdir -p "$JG_T/home-$name"
	# Privilege separation wants its (empty) chroot directory; the package
	# makes it at boot (tmpfiles), a fresh container may lack it.
	[ "$(id -u)" != 0 ] || [ -d /run/sshd ] || mkdir -p /run/sshd || true
	[ "${JG_SSHD_PASSWORD:-0}" != 1 ] || pw=yes
	for attempt in 1 2 3 4 5; do
		port=${JG_SSHD_PORT_WANT:-$(jg_free_port)}
		{
			printf '# written by %s\n' "$JG_NAME"
			printf 'Port %s\n' "$port"
			for a in "$@"; do printf 'ListenAddress %s\n' "$a"; done
			printf 'HostKey %s\n' "$d/ssh_host_ed25519_key"
			printf 'PidFile %s\n' "$d/sshd.pid"
			printf 'AuthorizedKeysFile %s\n' "$JG_SSH_AUTHKEYS"
			printf 'StrictModes no\nUsePAM no\nPermitRootLogin yes\n'
			printf 'PubkeyAuthentication yes\n'
			printf 'PasswordAuthentication %s\nKbdInteractiveAuthentication %s\n' "$pw" "$pw"
			printf 'PermitEmptyPasswords no\n'
			# Many handshakes at once (the fan-out): never drop one.
			printf 'MaxStartups 500:100:1000\nMaxSessions 200\nMaxAuthTries 6\n'
			printf 'LoginGraceTime 30\nPrintMotd no\nPrintLastLog no\nUseDNS no\n'
			printf 'AllowTcpForwarding yes\nX11Forwarding no\nPermitTunnel no\n'
			printf 'ClientAliveInterval 0\nLogLevel INFO\n'
			# One SetEnv line (sshd keeps the first of a keyword).  The
			# sanitizers' options reach a sanitized agent this way too.
			setenv=
			[ "${JG_SSHD_SETHOME:-1}" != 1 ] || setenv="HOME=$JG_T/home-$name"
			[ -z "${ASAN_OPTIONS:-}" ] || setenv="$setenv ASAN_OPTIONS=$ASAN_OPTIONS"
			[ -z "${UBSAN_OPTIONS:-}" ] || setenv="$setenv UBSAN_OPTIONS=$UBSAN_OPTIONS"
			[ -z "$setenv" ] || printf 'SetEnv %s\n' "$setenv"
		} >"$d/sshd_config"
		# OpenSSH >= 9.8 penalises sources that fail to log in (the
		# wrong-key tests would lock loopback out): off where it exists.
		# Before the extra lines: they may open a Match block.
		if "$JG_SSHD" -t -f "$d/sshd_config" -o PerSourcePenalties=no >/dev/null 2>&1; then
			printf 'PerSourcePenalties no\n' >>"$d/sshd_config"
		fi
		[ -z "${JG_SSHD_EXTRA:-}" ] || printf '%s\n' "$JG_SSHD_EXTRA" >>"$d/sshd_config"
		if ! "$JG_SSHD" -t -f "$d/sshd_config" >"$d/check.log" 2>&1; then
			jg_log "sshd -t refuses $d/sshd_config:"
			jg_show "$d/check.log" 10
			return 1
		fi
		rm -f "$d/sshd.pid"
		[ ! -s "$d/sshd.log" ] || cat "$d/sshd.log" >>"$d/sshd.log.previous"
		: >"$d/sshd.log"
		"$JG_SSHD" -D -e -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 </dev/null &
		pid=$!
		jg_track "sshd-$name" "$pid"
		deadline=$((SECONDS + ${JG_SSHD_START_TIMEOUT:-15}))
		while [ $SECONDS -lt $deadline ]; do
			if ! jg_alive "$pid"; then
				wait "$pid" 2>/dev/null || true
				jg_untrack "sshd-$name"
				if [ -z "${JG_SSHD_PORT_WANT:-}" ] && grep -qi 'in use' "$d/sshd.log"; then
					jg_log "port $port taken meanwhile; retrying"
					continue 2
				fi
				jg_log "sshd $name exited before listening"
				jg_show "$d/sshd.log" 20
				return 1
			fi
			# sshd carries on when only some of its addresses bind.
			if [ -z "${JG_SSHD_PORT_WANT:-}" ] && grep -q "Bind to port $port .*in use" "$d/sshd.log"; then
				jg_log "port $port taken on some address meanwhile; retrying"
				kill -TERM "$pid" 2>/dev/null || true
				jg_wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
				wait "$pid" 2>/dev/null || true
				jg_untrack "sshd-$name"
				continue 2
			fi
			# Listening: sshd says so for each address (which no other
			# process's socket can fake), and the socket is there.
			ok=1
			for a in "$@"; do
				if ! grep -qF "Server listening on $a port $port." "$d/sshd.log" ||
					! jg_listening_on "$a" "$port"; then
					ok=0
					break
				fi
			done
			if [ $ok = 1 ]; then
				JG_SSHD_PORT[$name]=$port
				JG_SSHD_PID[$name]=$pid
				JG_SSHD_DIR[$name]=$d
				JG_SSHD_LOG[$name]=$d/sshd.log
				JG_SSHD_ADDRS[$name]="$*"
				JG_SSHD_HOME[$name]=$JG_T/home-$name
				return 0
			fi
			sleep 0.05
		done
		jg_log "sshd $name not listening on $* port $port within ${JG_SSHD_START_TIMEOUT:-15} s"
		jg_show "$d/sshd.log" 20
		return 1
	done
	return 1
}

# jg_sshd_sessions NAME: the PIDs of server NAME's session processes (its
# direct children: one per connection), one per line.
jg_sshd_sessions() {
	local pid=${JG_SSHD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	jg_child_pids "$pid"
}

# jg_sshd_stop NAME: SIGTERM to server NAME (by its PID), bounded wait
# (SIGKILL after), then the same for the session processes it had started,
# which outlive their listener by design.
jg_sshd_stop() {
	local name=$1 pid=${JG_SSHD_PID[$1]:-} desc d
	[ -n "$pid" ] || return 0
	desc=$(jg_descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	if ! jg_wait_gone "$pid" 5; then
		kill -KILL "$pid" 2>/dev/null || true
		jg_wait_gone "$pid" 5 || true
	fi
	wait "$pid" 2>/dev/null || true
	jg_untrack "sshd-$name"
	jg_sshd_kill_pids $desc
	JG_SSHD_PID[$name]=
}

# jg_sshd_kill_pids PID...: TERM, bounded wait, KILL (sessions of our sshd).
jg_sshd_kill_pids() {
	local d
	[ $# -gt 0 ] || return 0
	for d in "$@"; do kill -TERM "$d" 2>/dev/null || true; done
	for d in "$@"; do jg_wait_gone "$d" 3 || kill -KILL "$d" 2>/dev/null || true; done
}

# jg_sshd_cleanup: stop every server started (for EXIT traps, before
# jg_cleanup, which would stop the listeners but not their sessions).
jg_sshd_cleanup() {
	local n
	for n in "${!JG_SSHD_PID[@]}"; do
		[ -z "${JG_SSHD_PID[$n]}" ] || jg_sshd_stop "$n"
	done
}

# jg_ssh_conf_defaults [CHECK]: the ssh_defaults group for the gateway
# config: this run's key, known_hosts, check_host_keys CHECK (default
# accept), short timeouts.  JG_SSH_KEEPALIVE (default 2) sets both the ssh
# and the pool keepalive, JG_POOL_CONNECT_TIMEOUT (default 10) the pool's
# connect_timeout.
jg_ssh_conf_defaults() {
	local check=${1:-accept} ka=${JG_SSH_KEEPALIVE:-2} ct=${JG_POOL_CONNECT_TIMEOUT:-10}
	printf 'ssh_defaults = {\n'
	printf '  user = "%s";\n' "$JG_SSH_USER"
	printf '  check_host_keys = "%s";\n' "$check"
	printf '  known_hosts = "%s";\n' "$JG_SSH_KNOWN"
	printf '  identity_file = "%s";\n' "$JG_SSH_KEY"
	printf '  identities_only = true;\n'
	printf '  connect_timeout = 5;\n'
	printf '  keepalive_interval = %s;\n  keepalive_count = 2;\n' "$ka"
	printf '};\n'
	printf 'pool = {\n  idle_timeout = 300.0;\n  connect_timeout = %s.0;\n  keepalive_interval = %s.0;\n};\n' "$ct" "$ka"
}

# jg_ssh_client_config: an ssh_config for the tests' own direct ssh (the
# baselines of the benchmark): this run's key only, batch mode, no host key
# checking or recording.  Prints its path; use as `ssh -F PATH ...` (-F
# reaches the hops of -J as well, where -i and -o would not).
jg_ssh_client_config() {
	local f=$JG_SSH_DIR/config
	{
		printf 'Host *
'
		printf '  User %s
' "$JG_SSH_USER"
		printf '  IdentityFile %s
  IdentitiesOnly yes
' "$JG_SSH_KEY"
		printf '  BatchMode yes
  StrictHostKeyChecking no
'
		printf '  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
'
		printf '  LogLevel ERROR
  ConnectTimeout 5
'
	} >"$f"
	printf '%s\n' "$f"
}

# jg_ssh_setup: what every ssh test does first: jg_setup, skip without
# sshd, the test PKI, this run's client key, and an EXIT trap that stops the
# gateway, then every sshd with its sessions, runs $JG_SSH_CLEANUP_HOOK (a
# command, e.g. removing a user the test made), then jg_cleanup.
jg_ssh_setup() {
	jg_setup
	trap jg_ssh_cleanup EXIT
	jg_sshd_require
	jg_init_pki
	jg_ssh_client_key
}

jg_ssh_cleanup() {
	local rc=$?
	set +e
	if [ -n "${JG_GW_PID:-}" ] && jg_alive "$JG_GW_PID"; then
		jg_gateway_stop 5 >/dev/null 2>&1
	fi
	jg_sshd_cleanup
	[ -z "${JG_SSH_CLEANUP_HOOK:-}" ] || eval "$JG_SSH_CLEANUP_HOOK"
	(exit $rc)
	jg_cleanup
}

# jg_ssh_target NAME HOST PORT [KEY = VALUE;...]: one inventory entry (ssh).
jg_ssh_target() {
	local name=$1 host=$2 port=$3
	shift 3
	printf '{ name = "%s"; method = "ssh"; host = "%s"; port = %s; %s }' "$name" "$host" "$port" "$*"
}

# jg_cli_timed OUT ERR ARGS...: jg_cli with stdin from /dev/null, stdout to
# OUT, stderr to ERR; sets RC (exit status) and MS (milliseconds taken).
jg_cli_timed() {
	local out=$1 err=$2 t0
	shift 2
	t0=$(date +%s%N)
	if jg_cli "$@" </dev/null >"$out" 2>"$err"; then RC=0; else RC=$?; fi
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# jg_has_reset: the gateway's reset is there (CLI `jumpgate reset`).
jg_has_reset() { "$JUMPGATE" --help 2>&1 | grep -qw reset; }
