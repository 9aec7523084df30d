#!/bin/bash
# The persistent client (client/mux.h, client/master.c), against a real gateway over real
# TLS: warm invocations share the master's one connection; it is invisible (exit codes,
# stdout, stderr, errors as without it); it leaves when idle; a stale socket is replaced;
# racing first invocations start one master; a dead gateway is reported, then recovered
# from; another uid cannot use the socket; no fd growth in the master.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
jg_require python3 rsync
# The audit records on the gateway's stderr (its log), where peers_since reads them.
JG_CONF_EXTRA='tunnels = { allow = [ "local:*" ]; }; audit = "stderr";'
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
# The masters' own logs: where a sanitizer would report (their stderr is /dev/null).
export JUMPGATE_MASTER_LOG=$JG_T/master.log

# A TCP sink for tunnels: reads to EOF, answers with the byte count and sha256.
cat >"$JG_T/sink.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
while True:
    c, _ = s.accept(); h = hashlib.sha256(); n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        h.update(d); n += len(d)
    c.sendall(("%d %s\n" % (n, h.hexdigest())).encode()); c.close()
EOF
python3 "$JG_T/sink.py" "$JG_T/sink.port" &
jg_track sink $!
for i in $(seq 50); do [ -s "$JG_T/sink.port" ] && break; sleep 0.1; done
SINK=$(cat "$JG_T/sink.port")
CLOSED=$(jg_free_port)

export XDG_RUNTIME_DIR=$JG_T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
DIR=$XDG_RUNTIME_DIR/jumpgate
M=0

# PIDs of this test's masters (only their command line names a socket under our $DIR).
masters() {
	# (The first grep names $DIR itself, but not __master.)
	grep -lsaF -e "$DIR/m-" /proc/[0-9]*/cmdline 2>/dev/null |
		xargs -r grep -lsaF -e __master 2>/dev/null | cut -d/ -f3 || true
}
# Track every master now running, so the EXIT trap stops them.
track_masters() {
	local p
	for p in $(masters); do
		M=$((M + 1))
		jg_track "master$M-$p" "$p"
	done
}
sock() { ls "$DIR"/m-*.sock 2>/dev/null | head -n1; }
# run NAME ARGS...: jg_cli ARGS with stdin from $JG_T/in, into $JG_T/NAME.{out,err,rc}.
run() {
	local name=$1 rc=0
	shift
	jg_cli "$@" <"$JG_T/in" >"$JG_T/$name.out" 2>"$JG_T/$name.err" || rc=$?
	printf '%s\n' "$rc" >"$JG_T/$name.rc"
}
# exec peers: the distinct "peer" of the audit's exec starts since line $1 of the log.
peers_since() {
	tail -n +"$1" "$JG_GW_LOG" | grep '"event":"start"' | grep -o '"peer":"[^"]*"' | sort -u | wc -l
}

head -c 300000 /dev/urandom >"$JG_T/in"
printf 'uploaded\n' >"$JG_T/file"
# The same work, each case its own invocation, first direct, then through the master.
cases() {
	local p=$1
	run "$p.exit" exec local -- sh -c 'echo out; echo err >&2; exit 3'
	run "$p.cat" exec local -- cat
	run "$p.signal" exec local -- sh -c 'kill -TERM $$'
	run "$p.noprog" exec local -- /nonexistent/prog
	run "$p.badtarget" exec -bad -- true
	run "$p.refused" exec 'ssh:a;b' -- true
	run "$p.cp" cp "$JG_T/file" "local:$JG_T/copied.$p"
	run "$p.get" cp "local:$JG_T/file" "$JG_T/got.$p"
	run "$p.run" run local -- echo hi
	run "$p.rsh" rsh local 'echo rsh; echo rsh-err >&2; exit 4'
	run "$p.tunnel" connect local "$SINK"
	run "$p.closed" connect local "$CLOSED"
}
JUMPGATE_PERSIST=0 cases direct
[ -z "$(sock)" ] && jg_ok "JUMPGATE_PERSIST=0: no master, no socket" ||
	jg_notok "JUMPGATE_PERSIST=0: no master, no socket (found $(sock))"

export JUMPGATE_PERSIST=30
line0=$(($(wc -l <"$JG_GW_LOG") + 1))
run first exec local -- echo first
track_masters
s=$(sock)
if [ "$(cat "$JG_T/first.out")" = first ] && [ -n "$s" ] && [ "$(masters | wc -l)" = 1 ]; then
	jg_ok "the first invocation starts one master and its socket ($s)"
else
	jg_notok "the first invocation starts one master and its socket (out '$(cat "$JG_T/first.out")', socket '$s', masters $(masters | tr '\n' ' '))"
fi
perm=$(stat -c '%a %U' "$s" 2>/dev/null)
dperm=$(stat -c '%a %U' "$DIR" 2>/dev/null)
[ "$perm" = "600 $(id -un)" ] && [ "$dperm" = "700 $(id -un)" ] &&
	jg_ok "socket mode 0600, directory 0700, both ours" ||
	jg_notok "socket mode 0600, directory 0700, both ours (socket '$perm', dir '$dperm')"

cases master
for c in exit cat signal noprog badtarget refused cp get run rsh tunnel closed; do
	if cmp -s "$JG_T/direct.$c.out" "$JG_T/master.$c.out" &&
		cmp -s "$JG_T/direct.$c.err" "$JG_T/master.$c.err" &&
		cmp -s "$JG_T/direct.$c.rc" "$JG_T/master.$c.rc"; then
		jg_ok "$c: same exit code ($(cat "$JG_T/master.$c.rc")), stdout and stderr with and without the master"
	else
		jg_notok "$c: same exit code, stdout and stderr with and without the master (direct rc $(cat "$JG_T/direct.$c.rc") err '$(head -c 300 "$JG_T/direct.$c.err")'; master rc $(cat "$JG_T/master.$c.rc") err '$(head -c 300 "$JG_T/master.$c.err")')"
	fi
done
cmp -s "$JG_T/in" "$JG_T/master.cat.out" && cmp -s "$JG_T/file" "$JG_T/copied.master" &&
	cmp -s "$JG_T/file" "$JG_T/got.master" &&
	[ "$(cat "$JG_T/master.tunnel.out")" = "300000 $(sha256sum <"$JG_T/in" | cut -d' ' -f1)" ] &&
	jg_ok "300 kB of stdin, an upload, a download and a tunnel (extended CONNECT, half-close) pass through the master intact" ||
	jg_notok "300 kB of stdin, an upload, a download and a tunnel pass through the master intact (tunnel: '$(cat "$JG_T/master.tunnel.out")')"

# rsync through rsh via the master: rsync's stdin is refilled from inside a send (the
# body callback), which once made nghttp2 offer the same DATA frame twice and failed
# the connection ("The user callback function failed") at rsync's first bytes.
mkdir -p "$JG_T/rtree"
for i in $(seq 40); do head -c $((i * 3000)) /dev/urandom >"$JG_T/rtree/f$i"; done
cat >"$JG_T/rsh" <<EOS
#!/bin/sh
exec "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" rsh "\$@"
EOS
chmod +x "$JG_T/rsh"
rsync_ok=1
for k in 1 2 3; do
	rm -rf "$JG_T/rdst"
	timeout 60 rsync -a --compress --rsh="$JG_T/rsh" "$JG_T/rtree/" "local:$JG_T/rdst/" \
		</dev/null 2>"$JG_T/rsync.err" && diff -r "$JG_T/rtree" "$JG_T/rdst" >/dev/null ||
		{ rsync_ok=0; break; }
done
[ $rsync_ok = 1 ] && jg_ok "rsync -a through jumpgate rsh via the master, three times: the trees equal" ||
	jg_notok "rsync -a through jumpgate rsh via the master: $(head -c 300 "$JG_T/rsync.err")"

n=$(peers_since "$line0")
[ "$n" = 1 ] && jg_ok "every invocation through the master reached the gateway on one connection (audit: one peer)" ||
	jg_notok "every invocation through the master reached the gateway on one connection (audit: $n peers)"

# Programs that exit before reading their stdin: each such stream ends early, and on one
# shared connection the gateway's rapid-reset defence must not mistake them for an attack.
mp=$(masters | head -n1)
bad=0
for i in $(seq 40); do jg_cli exec local -- true <"$JG_T/in" >/dev/null 2>&1 || bad=$((bad + 1)); done
[ "$bad" = 0 ] && [ "$(masters | head -n1)" = "$mp" ] && ! grep -q 'rapid reset' "$JG_GW_LOG" &&
	jg_ok "40 invocations that leave stdin unread: all succeed on the same master, no rapid-reset cut" ||
	jg_notok "40 invocations that leave stdin unread: $bad failed, master $mp -> $(masters | tr '\n' ' '), $(grep -c 'rapid reset' "$JG_GW_LOG") rapid-reset cuts"

# No fd growth in the master: the same count after 30 more invocations.
mp=$(masters | head -n1)
fd0=$(jg_fd_count "$mp")
for i in $(seq 30); do jg_cli exec local -- true </dev/null >/dev/null 2>&1 || true; done
# (The master sees the last client's close a moment after that client exits: wait, bounded.)
for i in $(seq 50); do
	fd1=$(jg_fd_count "$mp")
	[ "$fd1" -le "$fd0" ] && break
	sleep 0.1
done
[ "$fd0" = "$fd1" ] && [ -z "$(jg_zombies "$mp")" ] &&
	jg_ok "no fd growth in the master after 30 invocations ($fd0 fds), no zombies" ||
	jg_notok "no fd growth in the master after 30 invocations ($fd0 -> $fd1 fds; zombies: $(jg_zombies "$mp"))"

# Only the owner: another uid that reaches the socket gets nothing from the master.
. "$srcdir/tests/integration/users.sh"
probe='import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(5)
try:
    s.connect(sys.argv[1]); s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0"); d=s.recv(100)
except (BrokenPipeError, ConnectionResetError):
    d=b""  # closed on us: as good as no bytes
except OSError as e:
    print("error", e.errno); sys.exit(0)
print(len(d))'
if [ "$(id -u)" = 0 ] && command -v python3 >/dev/null && command -v runuser >/dev/null &&
	jg_users_locked jg_users_user jgx1 "$JG_USERS_PW_jgx1" >/dev/null 2>&1; then
	chmod 0711 "$JG_T" "$XDG_RUNTIME_DIR" "$DIR"
	chmod 0666 "$s"
	mine=$(python3 -c "$probe" "$s")
	theirs=$(runuser -u jgx1 -- python3 -c "$probe" "$s")
	chmod 0700 "$JG_T" "$XDG_RUNTIME_DIR" "$DIR"
	chmod 0600 "$s"
	if [ "$mine" -gt 0 ] 2>/dev/null && [ "$theirs" = 0 ]; then
		jg_ok "SO_PEERCRED: the owner gets the master's SETTINGS ($mine bytes), uid jgx1 is cut off (0 bytes) even with the socket opened to it"
	else
		jg_notok "SO_PEERCRED: owner gets SETTINGS, jgx1 is cut off (owner '$mine', jgx1 '$theirs')"
	fi
	[ "$(stat -c '%a' "$DIR")" = 700 ] && jg_cli exec local -- true </dev/null >/dev/null 2>&1 &&
		jg_ok "the owner still uses it" || jg_notok "the owner still uses it"
else
	jg_log "not root or no python3/runuser: the other-uid check is skipped"
fi

# A stale socket (its master killed without cleaning up) is replaced.
kill -KILL "$mp"
jg_wait_gone "$mp" 5 || true
[ -S "$s" ] && jg_ok "a killed master leaves its socket behind" || jg_notok "a killed master leaves its socket behind"
run stale exec local -- echo again
track_masters
np=$(masters | head -n1)
[ "$(cat "$JG_T/stale.out")" = again ] && [ -n "$np" ] && [ "$np" != "$mp" ] &&
	jg_ok "a stale socket is replaced: the next invocation works and starts a new master" ||
	jg_notok "a stale socket is replaced (out '$(cat "$JG_T/stale.out")' err '$(cat "$JG_T/stale.err")', master '$np')"

# Racing first invocations: twelve at once, one master.
kill -TERM "$np"
jg_wait_gone "$np" 30 || true
pids=()
for i in $(seq 12); do
	jg_cli exec local -- echo "race $i" </dev/null >"$JG_T/race.$i" 2>&1 &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
track_masters
nm=$(masters | wc -l)
[ "$bad" = 0 ] && [ "$nm" = 1 ] &&
	jg_ok "twelve racing first invocations all succeed and start one master" ||
	jg_notok "twelve racing first invocations: $bad failed, $nm masters ($(cat "$JG_T"/race.* | grep -v race | head -3))"

# Idle exit: with --persist 5 the master leaves 5 s after its last client, socket and all.
# The old master is gone first (an instrumented one takes a while to exit under load: a
# new invocation must not find it still answering), and the new one is looked for at
# once (3 s of idle was once over before a loaded machine had scanned /proc for it).
mp=$(masters | head -n1)
kill -TERM "$mp"
jg_wait_gone "$mp" 30 || true
t0=$SECONDS
jg_cli --persist 5 exec local -- true </dev/null >/dev/null 2>&1
s_after=$(sock)
track_masters
mp=$(masters | head -n1)
if [ -n "$mp" ] && jg_wait_gone "$mp" 20 && [ -z "$(sock)" ]; then
	jg_ok "--persist 5: the master leaves when idle, and removes its socket"
else
	jg_notok "--persist 5: the master leaves when idle (master '$mp' alive: $(jg_alive "$mp" && echo yes || echo no), socket after the invocation '$s_after', now '$(sock)', $((SECONDS - t0)) s)"
fi

# The gateway dies: a running invocation and the next one say so as a direct one would;
# a new gateway on the same address is used at once.
JUMPGATE_PERSIST=30 jg_cli exec local -- true </dev/null >/dev/null 2>&1
track_masters
line1=$(($(wc -l <"$JG_GW_LOG") + 1))
JUMPGATE_PERSIST=0 jg_cli exec local -- sleep 30 </dev/null >/dev/null 2>"$JG_T/dead.direct.err" &
dpid=$!
jg_cli exec local -- sleep 30 </dev/null >/dev/null 2>"$JG_T/dead.master.err" &
mpid=$!
# The gateway dies once both execs run there (two audited starts), not at a guessed
# moment: under load one not yet started would fail differently, and rightly so.
for i in $(seq 200); do
	[ "$(tail -n +"$line1" "$JG_GW_LOG" | grep '"event":"start"' | grep -c '"argv":\["sleep","30"\]')" -ge 2 ] && break
	sleep 0.1
done
kill -KILL "$JG_GW_PID"
jg_wait_gone "$JG_GW_PID" 5 || true
jg_untrack gateway
drc=0; wait "$dpid" || drc=$?
mrc=0; wait "$mpid" || mrc=$?
if [ "$drc" = "$mrc" ] && [ "$mrc" = 255 ] && cmp -s "$JG_T/dead.direct.err" "$JG_T/dead.master.err"; then
	jg_ok "gateway killed mid-exec: the same error through the master ($(head -c 200 "$JG_T/dead.master.err"))"
else
	jg_notok "gateway killed mid-exec: the same error (direct $drc '$(cat "$JG_T/dead.direct.err")', master $mrc '$(cat "$JG_T/dead.master.err")')"
fi
JUMPGATE_PERSIST=0 run gone.direct exec local -- true
run gone.master exec local -- true
if [ "$(cat "$JG_T/gone.master.rc")" = 255 ] && cmp -s "$JG_T/gone.direct.err" "$JG_T/gone.master.err"; then
	jg_ok "gateway down: the same error through the master ($(cat "$JG_T/gone.master.err"))"
else
	jg_notok "gateway down: the same error (direct '$(cat "$JG_T/gone.direct.err")', master rc $(cat "$JG_T/gone.master.rc") '$(cat "$JG_T/gone.master.err")')"
fi
"$JUMPGATED" -f -c "$JG_CONF" >>"$JG_GW_LOG" 2>&1 </dev/null &
JG_GW_PID=$!
jg_track gateway "$JG_GW_PID"
for i in $(seq 100); do [ "$(jg_http_code GET /healthz)" = 200 ] && break; sleep 0.1; done
run back exec local -- echo back
track_masters
[ "$(cat "$JG_T/back.out")" = back ] && jg_ok "a restarted gateway is used at once" ||
	jg_notok "a restarted gateway is used at once ($(cat "$JG_T/back.err"))"

# A gateway that stops cleanly (GOAWAY) takes its master with it, socket and all.
mp=$(masters | head -n1)
jg_gateway_stop 10 || true
if [ -n "$mp" ] && jg_wait_gone "$mp" 5 && [ -z "$(sock)" ]; then
	jg_ok "a gateway stopping (GOAWAY) ends its master, socket removed"
else
	jg_notok "a gateway stopping (GOAWAY) ends its master (master '$mp', socket '$(sock)')"
fi

if grep -q 'Sanitizer\|runtime error' "$JUMPGATE_MASTER_LOG" 2>/dev/null; then
	jg_notok "the masters' logs hold no sanitizer report"
	jg_show "$JUMPGATE_MASTER_LOG" 40
else
	jg_ok "the masters' logs hold no sanitizer report"
fi
jg_done
