#!/bin/bash
# The main job, on the built-in default, from a clean clone on a fresh
# Debian 12 (as root; no terminal or stdin needed, CI=true is fine):
#   1. installs the Debian packages that are missing (scripts/install-deps.sh);
#   2. builds into ./build (autoreconf -fi, configure, make);
#   3. starts a throwaway OpenSSH server on 127.0.0.2 (a free port), with a
#      host key and a login key made here, to be a real ssh target;
#   4. starts jumpgated with no configuration file: 127.0.0.1:4443, state in
#      a temporary JUMPGATE_HOME where it generates its CA, server and
#      client certificates (if 4443 is taken it says so and exits 1);
#   5. through it: jumpgate exec, a stdin round trip, an exit status, cp
#      there and back (sha256 compared), rsync -e 'jumpgate rsh' (then
#      rsync -c -n finds no difference), first on the `local` target, then
#      on ssh:root@127.0.0.2:PORT; a fan-out copy to both, jumpgate run on
#      both, a tunnel with jumpgate connect, /healthz with curl, and
#      jumpgate stats;
#   6. stops everything it started, by PID, removes its temporary files
#      and prints a summary.
# Nothing outside its temporary directory is touched: not /root/.ssh, not
# /var/lib/jumpgate.  The gateway's ssh reads its settings from the temporary
# directory (see "the gateway user's ssh settings" below).
# JG_NO_DEPS=1 skips step 1; JG_NO_BUILD=1 reuses ./build; JG_DEMO_SSH=0
# leaves out the ssh target; JG_DEMO_KEEP=1 keeps the temporary directory
# (logs) for a look afterwards.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b=$top/build
t_all=$SECONDS
if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
# run CMD...: show the command, then run it (stdin from /dev/null).
# quote ARG...: the words as a shell would need them typed.
quote() {
	local a out=
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	printf '%s' "${out# }"
}
run() { printf '$ %s\n' "$(quote "$@")"; "$@" </dev/null; }
show() { printf '$ %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
summary=()
done_() { summary+=("ok    $*"); }

if [ "$(id -u)" != 0 ]; then
	die "run me as root (sudo $0): I install packages and start sshd"
fi

if [ "${JG_NO_DEPS:-0}" != 1 ]; then
	say "Debian packages"
	scripts/install-deps.sh
fi
if [ "${JG_NO_BUILD:-0}" != 1 ]; then
	say "build into ./build"
	t0=$SECONDS
	autoreconf -fi
	mkdir -p "$b"
	(cd "$b" && "$top/configure" -q)
	make -C "$b" -s -j"$(nproc 2>/dev/null || echo 2)"
	echo "built in $((SECONDS - t0)) s"
fi
for p in jumpgated jumpgate jumpgate-agent; do
	[ -x "$b/$p" ] || die "$b/$p is missing (run without JG_NO_BUILD=1)"
done
t_run=$SECONDS

# port_listening PORT: does anything listen on TCP port PORT (any address)?
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# The built-in default listens on 127.0.0.1:4443; never fight another
# process for it.
if port_listening 4443; then
	echo "demo: something already listens on port 4443 (another jumpgated?)." >&2
	echo "demo: the built-in default needs 127.0.0.1:4443; stop that process and run the demo again." >&2
	exit 1
fi

D=$(mktemp -d "${TMPDIR:-/tmp}/jumpgate-demo.XXXXXX")
chmod 755 "$D"
JUMPGATE_HOME=$D/state
export JUMPGATE_HOME
# The persistent client's socket too (it leaves when the gateway stops).
XDG_RUNTIME_DIR=$D/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
unset JUMPGATE_GATEWAY JUMPGATE_CERT JUMPGATE_KEY JUMPGATE_CA || true
export PATH="$b:$PATH"
gw_pid=
sshd_pid=

# descendants PID: every process below PID (from /proc), deepest last.
descendants() {
	local kids k
	kids=$(awk -v p="$1" '{ sub(/^.*\) /, ""); split($0, f, " "); if (f[2] == p) print FILENAME }' \
		/proc/[0-9]*/stat 2>/dev/null | cut -d/ -f3) || true
	for k in $kids; do
		echo "$k"
		descendants "$k"
	done
}
stop_pid() { # stop_pid PID: TERM, wait (bounded), KILL.
	local p=$1
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
}
cleanup() {
	local rc=$? p sessions=
	set +e
	if [ -n "$gw_pid" ]; then stop_pid "$gw_pid"; wait "$gw_pid" 2>/dev/null; fi
	if [ -n "$sshd_pid" ]; then
		# sshd's session processes outlive the listener: stop those too.
		sessions=$(descendants "$sshd_pid")
		stop_pid "$sshd_pid"
		wait "$sshd_pid" 2>/dev/null
		for p in $sessions; do stop_pid "$p"; done
	fi
	if [ $rc != 0 ]; then
		echo "demo: FAILED (exit $rc); logs:" >&2
		for f in "$D/jumpgated.log" "$D/sshd/sshd.log"; do
			[ -s "$f" ] || continue
			echo "--- $f (last 15 lines)" >&2
			tail -n 15 "$f" >&2
		done
	fi
	if [ "${JG_DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $D" >&2
	else
		rm -rf "$D"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ the ssh target
#
# A throwaway sshd on 127.0.0.2 (Linux routes all of 127/8 to lo), as the
# integration tests start theirs (tests/integration/sshd.sh): its own host
# key and config, the login key below as its only authorized key, and
# HOME=$D/target-home for the sessions, so the agent jumpgate uploads is
# cached there (~/.cache/jumpgate) and not in root's real home.
#
# The gateway user's ssh settings: with no configuration file the ssh
# method uses the built-in ssh defaults (check_host_keys = "enforce", batch
# mode, no identity file), so ssh takes its key, known_hosts and config from
# the gateway user's ~/.ssh -- which OpenSSH finds through the passwd entry,
# not $HOME, so a different HOME would not do.  To leave /root/.ssh alone,
# jumpgated gets an `ssh` earlier in its PATH (the default ssh_path is "ssh"
# from PATH) that runs /usr/bin/ssh -F $D/gw-home/.ssh/config: that file,
# the login key and a known_hosts holding the sshd's host key stand in for
# root's own ~/.ssh.
ssh_ok=no ssh_why=
P=
SSH_T=
setup_sshd() {
	local s=$D/sshd h=$D/gw-home/.ssh port
	[ "${JG_DEMO_SSH:-1}" = 1 ] || { ssh_why="JG_DEMO_SSH=${JG_DEMO_SSH} leaves it out"; return 1; }
	[ -x /usr/sbin/sshd ] || { ssh_why="/usr/sbin/sshd is not installed"; return 1; }
	mkdir -p "$s" "$h" "$D/target-home" "$D/bin"
	chmod 700 "$h"
	[ -d /run/sshd ] || mkdir -p /run/sshd # privilege separation wants it
	ssh-keygen -q -t ed25519 -N '' -C jumpgate-demo-host -f "$s/ssh_host_ed25519_key" </dev/null >/dev/null
	ssh-keygen -q -t ed25519 -N '' -C jumpgate-demo-login -f "$h/id_ed25519" </dev/null >/dev/null
	cp "$h/id_ed25519.pub" "$s/authorized_keys"
	cat >"$h/config" <<-EOF
		# stands in for the gateway user's ~/.ssh/config (see scripts/demo.sh)
		Host *
		  IdentityFile $h/id_ed25519
		  IdentitiesOnly yes
		  UserKnownHostsFile $h/known_hosts
		  GlobalKnownHostsFile /dev/null
	EOF
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$h/config" >"$D/bin/ssh"
	chmod 755 "$D/bin/ssh"
	for _ in 1 2 3 4 5; do
		port=
		for _ in $(seq 1 100); do
			port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
			port_listening "$port" || break
		done
		cat >"$s/sshd_config" <<-EOF
			Port $port
			ListenAddress 127.0.0.2
			HostKey $s/ssh_host_ed25519_key
			PidFile $s/sshd.pid
			AuthorizedKeysFile $s/authorized_keys
			StrictModes no
			UsePAM no
			PermitRootLogin prohibit-password
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PrintMotd no
			PrintLastLog no
			UseDNS no
			LogLevel INFO
			SetEnv HOME=$D/target-home
		EOF
		if ! /usr/sbin/sshd -t -f "$s/sshd_config" >"$s/check.log" 2>&1; then
			ssh_why="sshd -t refuses its configuration: $(head -n1 "$s/check.log")"
			return 1
		fi
		: >"$s/sshd.log"
		/usr/sbin/sshd -D -e -f "$s/sshd_config" >>"$s/sshd.log" 2>&1 </dev/null &
		sshd_pid=$!
		for _ in $(seq 1 100); do
			kill -0 "$sshd_pid" 2>/dev/null || break
			grep -qF "Server listening on 127.0.0.2 port $port." "$s/sshd.log" && break
			sleep 0.1
		done
		if grep -qF "Server listening on 127.0.0.2 port $port." "$s/sshd.log"; then
			P=$port
			break
		fi
		stop_pid "$sshd_pid"
		wait "$sshd_pid" 2>/dev/null || true
		sshd_pid=
		grep -qi 'in use' "$s/sshd.log" && continue # lost a race for the port
		ssh_why="sshd did not start: $(tail -n1 "$s/sshd.log")"
		return 1
	done
	[ -n "$P" ] || { ssh_why="no free port for sshd"; return 1; }
	# known_hosts: the host key, as `ssh-keyscan -p $P 127.0.0.2` would give it.
	printf '[127.0.0.2]:%s %s\n' "$P" "$(cut -d' ' -f1,2 "$s/ssh_host_ed25519_key.pub")" >"$h/known_hosts"
	# Before anything goes through jumpgate: can ssh itself log in?  (A root
	# account locked with '!' cannot, with UsePAM no.)
	if ! "$D/bin/ssh" -o BatchMode=yes -o ConnectTimeout=5 -p "$P" root@127.0.0.2 true \
		</dev/null >"$s/probe.log" 2>&1; then
		ssh_why="ssh root@127.0.0.2 -p $P fails by itself: $(tail -n1 "$s/probe.log");"
		ssh_why="$ssh_why sshd says: $(grep -v 'Server listening' "$s/sshd.log" | tail -n1)"
		return 1
	fi
	SSH_T=ssh:root@127.0.0.2:$P
	ssh_ok=yes
}

say "a real ssh target: a throwaway sshd on 127.0.0.2"
if setup_sshd; then
	echo "sshd (pid $sshd_pid) listens on 127.0.0.2:$P; login key, host key and known_hosts in $D"
	echo "target spec: $SSH_T"
else
	echo "demo: no ssh target: $ssh_why" >&2
	echo "demo: the ssh steps are skipped; the rest goes on." >&2
	if [ -n "$sshd_pid" ]; then stop_pid "$sshd_pid"; wait "$sshd_pid" 2>/dev/null || true; sshd_pid=; fi
fi

# ------------------------------------------------------------ the gateway
say "start jumpgated on the built-in default (no configuration file)"
log=$D/jumpgated.log
show "JUMPGATE_HOME=$JUMPGATE_HOME jumpgated -f &"
mkdir -p "$D/gw-home"
HOME=$D/gw-home PATH="$D/bin:$PATH" "$b/jumpgated" -f >"$log" 2>&1 </dev/null &
gw_pid=$!
curl_gw() {
	curl -sS --http2 --max-time 10 --cacert "$JUMPGATE_HOME/ca.pem" \
		--cert "$JUMPGATE_HOME/client.pem" --key "$JUMPGATE_HOME/client.key" "$@"
}
up=no
for _ in $(seq 1 300); do
	kill -0 "$gw_pid" 2>/dev/null || break
	if [ -r "$JUMPGATE_HOME/client.key" ] &&
		[ "$(curl_gw -o /dev/null -w '%{http_code}' https://127.0.0.1:4443/healthz 2>/dev/null)" = 200 ]; then
		up=yes
		break
	fi
	sleep 0.1
done
[ $up = yes ] || die "jumpgated did not come up"
echo "jumpgated (pid $gw_pid) serves https://127.0.0.1:4443; it generated in \$JUMPGATE_HOME:"
(cd "$JUMPGATE_HOME" && ls -l -- *.pem *.key) | sed 's/^/  /'
show "curl --http2 --cacert ca.pem --cert client.pem --key client.key https://127.0.0.1:4443/healthz"
curl_gw https://127.0.0.1:4443/healthz
done_ "jumpgated up on the built-in default, certificates generated"

# ------------------------------------------------------------ local
say "exec: a command on the target 'local' (the bastion itself)"
run jumpgate exec local -- uname -a
done_ "exec local -- uname -a"

say "stdin round trip: 4 MiB through cat on the far side"
data=$D/data.bin
head -c 4194304 /dev/urandom >"$data"
show "jumpgate exec local -- cat < data.bin | sha256sum"
there=$(jumpgate exec local -- cat <"$data" | sha256sum | cut -d' ' -f1)
here=$(sha256sum "$data" | cut -d' ' -f1)
echo "  sent     $here"
echo "  received $there"
[ "$here" = "$there" ] || die "the round trip changed the bytes"
show "echo 'hello, bastion' | jumpgate exec local -- tr a-z A-Z"
echo 'hello, bastion' | jumpgate exec local -- tr a-z A-Z
done_ "stdin round trip, 4 MiB, sha256 identical"

say "stderr and the exit status come back too"
show "jumpgate exec local -- sh -c 'echo to-stderr >&2; exit 3'"
rc=0
jumpgate exec local -- sh -c 'echo to-stderr >&2; exit 3' </dev/null || rc=$?
echo "  exit status: $rc"
[ $rc = 3 ] || die "expected exit status 3, got $rc"
done_ "stderr apart, exit status 3 mirrored"

# cp_round TARGET DIR: cp data.bin to TARGET:DIR/ and back, compare.
cp_round() {
	local t=$1 dir=$2 back=$D/back.$3 h1 h2
	run jumpgate cp -q --mkdirs "$data" "$t:$dir/data.bin"
	run jumpgate cp -q "$t:$dir/data.bin" "$back"
	h1=$(sha256sum <"$data" | cut -d' ' -f1)
	h2=$(sha256sum <"$back" | cut -d' ' -f1)
	echo "  sha256 here $h1"
	echo "  and back    $h2"
	[ "$h1" = "$h2" ] || die "cp there and back changed the bytes"
}

say "cp: a 4 MiB file to local:$D/local/ and back"
cp_round local "$D/local" local
done_ "cp to local and back, sha256 identical"

# A small tree for rsync: files, a subdirectory, a symlink, modes.
src=$D/site
mkdir -p "$src/css" "$src/img"
for i in $(seq 1 50); do printf 'page %s\n' "$i" >"$src/page$i.html"; done
printf 'body { margin: 0 }\n' >"$src/css/site.css"
head -c 300000 /dev/urandom >"$src/img/banner.bin"
ln -s page1.html "$src/index.html"
chmod 600 "$src/page7.html"

# rsync_round RSH DEST: rsync -a, then rsync -a -c -n -i must list nothing.
rsync_round() {
	local rsh=$1 dest=$2 diff
	show rsync -a --stats -e "'$rsh'" "$src/" "$dest"
	rsync -a --stats -e "$rsh" "$src/" "$dest" </dev/null | grep -E '^(Number of (regular )?files( transferred)?|Total transferred file size):'
	show rsync -a -c -n -i -e "'$rsh'" "$src/" "$dest"
	diff=$(rsync -a -c -n -i -e "$rsh" "$src/" "$dest" </dev/null) || die "rsync -c -n failed"
	[ -z "$diff" ] || die "rsync -c -n still sees differences: $diff"
	echo "  (no output: no difference, checksums compared)"
}

say "rsync -e 'jumpgate rsh' to local (rsync's own protocol, through the gateway)"
rsync_round "jumpgate rsh" "local:$D/local/site/"
done_ "rsync -e 'jumpgate rsh' to local, rsync -c -n: no difference"

# ------------------------------------------------------------ ssh
if [ $ssh_ok = yes ]; then
	say "exec on the ssh target (the gateway runs ssh, uploads the agent, keeps the connection)"
	run jumpgate exec "$SSH_T" -- sh -c 'echo "$(id -un)@$(hostname), sshd port ${SSH_CONNECTION##* }; the agent the gateway uploaded:"; ls $HOME/.cache/jumpgate'
	t0=$(date +%s%N)
	jumpgate exec "$SSH_T" -- true </dev/null
	echo "  (a second exec on the pooled connection: $((($(date +%s%N) - t0) / 1000000)) ms)"
	show "head -c 1000000 /dev/zero | jumpgate exec $SSH_T -- wc -c"
	head -c 1000000 /dev/zero | jumpgate exec "$SSH_T" -- wc -c
	done_ "exec over ssh ($SSH_T), stdin carried"

	say "cp to the ssh target and back"
	cp_round "$SSH_T" "$D/remote" ssh
	done_ "cp over ssh and back, sha256 identical"

	say "rsync over ssh: rsync -e 'jumpgate rsh -p $P' ... root@127.0.0.2:..."
	# rsync splits host:path at the first ':', so a spec with ':' cannot be
	# its host: user and port go as ssh options, jumpgate rsh makes the spec.
	rsync_round "jumpgate rsh -p $P" "root@127.0.0.2:$D/remote/site/"
	done_ "rsync -e 'jumpgate rsh' over ssh, rsync -c -n: no difference"

	say "fan-out: one upload, written on both targets (the bytes cross to the gateway once)"
	printf 'deployed by the jumpgate demo\n' >"$D/motd"
	run jumpgate cp --mkdirs "$D/motd" "local,$SSH_T:$D/fanout/motd"
	done_ "cp fan-out to local and the ssh target"

	say "run: one command on many targets"
	run jumpgate run -b "local,$SSH_T" -- cat "$D/fanout/motd"
	done_ "run -b on both targets"

	say "connect: a byte tunnel (what ssh's ProxyCommand uses) to the sshd, from the target 'local'"
	show "jumpgate connect -H 127.0.0.2 local $P | head -c 40"
	banner=$(jumpgate connect -H 127.0.0.2 local "$P" </dev/null | head -c 40 | head -n1 | tr -d '\r') || true
	echo "  $banner"
	case $banner in SSH-2.0-*) ;; *) die "no ssh banner through the tunnel" ;; esac
	show "ssh -o ProxyCommand='jumpgate connect -H %h local %p' -p $P root@127.0.0.2 uname -n"
	"$D/bin/ssh" -o BatchMode=yes -o ProxyCommand="$b/jumpgate connect -H %h local %p" \
		-p "$P" root@127.0.0.2 uname -n </dev/null
	done_ "connect: ssh through a tunnel of the gateway"

	say "reset: close the gateway's connection to the ssh target; the next operation opens a new one"
	run jumpgate reset "$SSH_T"
	run jumpgate exec "$SSH_T" -- echo "a fresh connection"
	done_ "reset, then exec again"
else
	summary+=("skip  ssh target: $ssh_why")
fi

# ------------------------------------------------------------ stats, stop
say "statistics"
run jumpgate stats
done_ "jumpgate stats"

say "stop (SIGTERM: the gateway drains and exits)"
kill -TERM "$gw_pid"
st=0
for _ in $(seq 1 150); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
wait "$gw_pid" || st=$?
gw_pid=
echo "jumpgated exited with status $st; the end of its log:"
tail -n 5 "$log" | sed 's/^/  /'
[ $st = 0 ] || die "jumpgated exited with status $st"
done_ "jumpgated stopped cleanly (exit 0)"

say "summary"
printf '  %s\n' "${summary[@]}"
echo "  demo took $((SECONDS - t_run)) s after the build ($((SECONDS - t_all)) s in all)"
