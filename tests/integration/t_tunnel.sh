#!/bin/bash
# Tunnels (`jumpgate connect`, extended CONNECT) against small TCP servers on
# 127.0.0.1 (python3: echo, sink, source, slow reader) and a real sshd:
#   - bytes round trip through the agent (sha256), near end closing first
#     (stdin EOF reaches the far end as EOF while its answer still flows back)
#     and far end closing first (the CLI exits at once with stdin still open,
#     the far end sees EOF): no hang, bounded by timeouts;
#   - 100 tunnels at once on ONE controller connection (tunnel_many, a test
#     client: 100 extended CONNECT streams x 64 KiB echoed back byte-exact;
#     /v1/stats shows connections.total +1), and 100 `jumpgate connect`
#     processes at once (one connection each);
#   - ssh -o ProxyCommand='jumpgate connect %h %p' to the target's sshd, a
#     command and an scp through it;
#   - policy: a host not in tunnels.allow -> 403 with the reason; with no
#     `tunnels` key, only port 22 of inventory targets;
#   - a `tunnel` target (the gateway itself connects): round trip, refused port;
#   - a reader that stops for 10 s while 1 GiB (256 MiB under the
#     sanitizers) is pushed at it: gateway RSS stays bounded (printed);
#   - no fd left behind in the gateway or the agent.
. "$(dirname "$0")/lib.sh"
have_sshd=0
if [ -e "$(dirname "$0")/sshd.sh" ] && [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null; then
	. "$(dirname "$0")/sshd.sh"
	have_sshd=1
	jg_ssh_setup
else
	jg_setup
	jg_init_pki
fi
jg_require python3 sha256sum

# ---------------------------------------------------------------- servers

cat >"$JG_T/tsrv.py" <<'EOF'
# python3 tsrv.py MODE PORTFILE LOG [ARG]: one test TCP server on 127.0.0.1.
#   echo:   echo everything; at EOF half-close, log "echo eof N"
#   sink:   read to EOF, answer "N SHA256", close, log "sink eof N"
#   source: send file ARG, half-close, read to EOF, log "source eof"
#   slow:   sleep ARG seconds before reading anything, then as sink
import hashlib, os, socket, sys, threading, time
mode, portfile, logf = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
lock = threading.Lock()
def log(msg):
    with lock, open(logf, 'a') as f:
        f.write(msg + '\n')
def sink(c):
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
    c.sendall(('%d %s\n' % (n, h.hexdigest())).encode())
    log('%s eof %d' % (mode, n))
def handle(c):
    try:
        if mode == 'echo':
            n = 0
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                c.sendall(d)
                n += len(d)
            c.shutdown(socket.SHUT_WR)
            log('echo eof %d' % n)
        elif mode == 'sink':
            sink(c)
        elif mode == 'source':
            with open(arg, 'rb') as f:
                while True:
                    d = f.read(1 << 16)
                    if not d:
                        break
                    c.sendall(d)
            c.shutdown(socket.SHUT_WR)
            while c.recv(1 << 16):
                pass
            log('source eof')
        elif mode == 'slow':
            log('slow accepted')
            time.sleep(float(arg))
            log('slow reading')
            sink(c)
    except OSError as e:
        log('%s error %s' % (mode, e))
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(512)
with open(portfile + '.tmp', 'w') as f:
    f.write('%d\n' % s.getsockname()[1])
os.rename(portfile + '.tmp', portfile)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

# srv_start MODE [ARG]: start one server; its port in PORT_<MODE>.
srv_start() {
	local mode=$1 i
	python3 "$JG_T/tsrv.py" "$mode" "$JG_T/$mode.port" "$JG_T/$mode.log" ${2:+"$2"} \
		>>"$JG_T/srv.err" 2>&1 </dev/null &
	jg_track "srv-$mode" $!
	for i in $(seq 1 100); do
		[ -s "$JG_T/$mode.port" ] && break
		sleep 0.05
	done
	[ -s "$JG_T/$mode.port" ] || return 1
	printf -v "PORT_$mode" '%s' "$(cat "$JG_T/$mode.port")"
}

# wait_log FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_log() {
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

head -c 1048576 /dev/urandom >"$JG_T/src.bin"
for m in echo sink; do
	srv_start "$m" || { jg_notok "test server $m starts"; jg_done; }
done
srv_start source "$JG_T/src.bin" || { jg_notok "test server source starts"; jg_done; }
srv_start slow 10 || { jg_notok "test server slow starts"; jg_done; }
jg_ok "test servers listen: echo $PORT_echo, sink $PORT_sink, source $PORT_source, slow $PORT_slow"
# A port nobody listens on (picked, then checked).
CLOSED=$(jg_free_port)

# ---------------------------------------------------------------- gateway

SSH_TARGET=
if [ $have_sshd = 1 ]; then
	# 127.0.0.1 too: the agent on "web1" connects to ITS localhost, which on
	# one machine is this loopback.
	# scp speaks SFTP by default (OpenSSH >= 9.0): give the server one.
	if JG_SSHD_EXTRA="Subsystem sftp internal-sftp" jg_sshd_start a 127.0.0.2 127.0.0.1; then
		SSHP=${JG_SSHD_PORT[a]}
		SSH_TARGET="$(jg_ssh_target web1 127.0.0.2 "$SSHP"),"
		jg_ok "sshd listens on 127.0.0.2 and 127.0.0.1 port $SSHP"
	else
		jg_notok "sshd starts"
		have_sshd=0
	fi
fi
JG_CONF_EXTRA="$([ $have_sshd = 0 ] || jg_ssh_conf_defaults accept)
targets = (
  $SSH_TARGET
  { name = \"office\"; method = \"tunnel\"; host = \"127.0.0.1\"; },
  { name = \"local\"; method = \"local\"; }
);
tunnels = { allow = [ \"local:*\", \"local:db.example.com:22\", \"office:*\", \"web1:*\" ]; };
# 100 CLI tunnels at once are 100 connections of one identity (default limit 64).
max_connections_per_identity = 200;"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

# tun ARGS...: jumpgate connect, bounded.
tun() { JG_TIMEOUT=${TUN_TIMEOUT:-60} jg_cli connect "$@"; }

# ---------------------------------------------------------------- round trips

head -c 8388608 /dev/urandom >"$JG_T/in.bin"
want=$(jg_sha256 "$JG_T/in.bin")
t0=$(date +%s%N)
if tun local "$PORT_echo" <"$JG_T/in.bin" >"$JG_T/echo.out" 2>"$JG_T/echo.err"; then rc=0; else rc=$?; fi
ms=$((($(date +%s%N) - t0) / 1000000))
got=$(jg_sha256 "$JG_T/echo.out")
if [ $rc = 0 ] && [ "$got" = "$want" ]; then
	jg_ok "8 MiB through local to echo and back: sha256 equal, exit 0 (${ms} ms)"
else
	jg_notok "round trip to echo (exit $rc, sha256 $got, want $want)"
	jg_show "$JG_T/echo.err" 5
fi

# Near end first: our EOF reaches the sink, whose answer (the count and hash
# of what it got) still comes back after it.
if out=$(tun local "$PORT_sink" <"$JG_T/in.bin" 2>"$JG_T/sink.err") &&
	[ "$out" = "8388608 $want" ]; then
	jg_ok "near end closes first: the sink sees EOF after 8 MiB and its answer comes back ($out)"
else
	jg_notok "near end closes first: answer '$out', want '8388608 $want'"
	jg_show "$JG_T/sink.err" 5
fi

# Far end first: the source sends 1 MiB and closes while our stdin stays
# open (a FIFO held by a sleep): the CLI must exit at once, and the source
# must see our side go (EOF), both within seconds.
mkfifo "$JG_T/hold"
sleep 60 >"$JG_T/hold" &
hold=$!
jg_track hold "$hold"
t0=$(date +%s%N)
if tun local "$PORT_source" <"$JG_T/hold" >"$JG_T/src.out" 2>"$JG_T/src.err"; then rc=0; else rc=$?; fi
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$hold" 2>/dev/null || true
jg_untrack hold
if [ $rc = 0 ] && cmp -s "$JG_T/src.out" "$JG_T/src.bin" && [ $ms -lt 10000 ]; then
	jg_ok "far end closes first: 1 MiB received, CLI exits 0 with stdin still open (${ms} ms)"
else
	jg_notok "far end closes first (exit $rc, $(stat -c %s "$JG_T/src.out") bytes, ${ms} ms)"
	jg_show "$JG_T/src.err" 5
fi
jg_check "far end closes first: the source sees EOF from our side" \
	wait_log "$JG_T/source.log" 'source eof' 10

# ---------------------------------------------------------------- errors

if tun local "$CLOSED" </dev/null >/dev/null 2>"$JG_T/closed.err"; then rc=0; else rc=$?; fi
if [ $rc = 255 ] && grep -q "connect to 127.0.0.1:$CLOSED: Connection refused" "$JG_T/closed.err"; then
	jg_ok "closed port: exit 255, '$(head -n1 "$JG_T/closed.err")'"
else
	jg_notok "closed port (exit $rc): $(head -n1 "$JG_T/closed.err")"
fi

if tun -H db.example.com local 22 </dev/null >/dev/null 2>"$JG_T/name.err"; then rc=0; else rc=$?; fi
if [ $rc = 255 ] && grep -q "numeric addresses and localhost only" "$JG_T/name.err"; then
	jg_ok "a host name for the agent is refused: '$(head -n1 "$JG_T/name.err")'"
else
	jg_notok "host name for the agent (exit $rc): $(head -n1 "$JG_T/name.err")"
fi

code=$(jg_curl "/v1/targets/local/tunnel?port=0" -o /dev/null -w '%{http_code}' 2>/dev/null || true)
# curl cannot send extended CONNECT; a plain GET on the path is refused as such.
jg_check "GET on a tunnel path is refused (405, got $code)" [ "$code" = 405 ]

# ---------------------------------------------------------------- policy

if tun -H 127.0.0.9 local 22 </dev/null >/dev/null 2>"$JG_T/deny.err"; then rc=0; else rc=$?; fi
if [ $rc = 255 ] && grep -q "not allowed" "$JG_T/deny.err"; then
	jg_ok "a host not in tunnels.allow: 403, '$(head -n1 "$JG_T/deny.err")'"
else
	jg_notok "denied host (exit $rc): $(head -n1 "$JG_T/deny.err")"
fi

# ---------------------------------------------------------------- tunnel target

if tun office "$PORT_echo" <"$JG_T/src.bin" >"$JG_T/office.out" 2>"$JG_T/office.err" &&
	cmp -s "$JG_T/office.out" "$JG_T/src.bin"; then
	jg_ok "tunnel target office (the gateway connects): 1 MiB echoed back"
else
	jg_notok "tunnel target office round trip"
	jg_show "$JG_T/office.err" 5
fi
if out=$(tun office "$PORT_sink" <"$JG_T/in.bin" 2>"$JG_T/office2.err") &&
	[ "$out" = "8388608 $want" ]; then
	jg_ok "tunnel target, near end first: the sink's answer comes back after our EOF"
else
	jg_notok "tunnel target to sink: '$out'"
	jg_show "$JG_T/office2.err" 5
fi
if tun office "$CLOSED" </dev/null >/dev/null 2>"$JG_T/office3.err"; then rc=0; else rc=$?; fi
if [ $rc = 255 ] && grep -qi "refused" "$JG_T/office3.err"; then
	jg_ok "tunnel target, closed port: '$(head -n1 "$JG_T/office3.err")'"
else
	jg_notok "tunnel target, closed port (exit $rc): $(head -n1 "$JG_T/office3.err")"
fi
if tun -H 127.0.0.1 office 22 </dev/null >/dev/null 2>"$JG_T/office4.err"; then rc=0; else rc=$?; fi
jg_check "tunnel target refuses a host in the request ($(head -n1 "$JG_T/office4.err"))" \
	grep -q "its host is configured" "$JG_T/office4.err"
jg_check "exec on a tunnel target is refused" \
	eval '! jg_cli exec office -- true </dev/null >/dev/null 2>&1'

# ---------------------------------------------------------------- concurrency

N=${JG_TUNNELS:-100}

# stat_num OBJECT KEY: the number KEY holds inside the first "OBJECT":{...} of /v1/stats.
# (Each call is itself one more connection and stream.)
stat_num() {
	jg_curl /v1/stats 2>/dev/null | tr -d ' \n\t' | grep -o "\"$1\":{[^{}]*}" | head -n1 |
		grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2
}

# N streams on one connection: tests/integration/tunnel_many.c.
: "${JG_TUNNEL_MANY:=$builddir/tests/integration/tunnel_many}"
if [ -x "$JG_TUNNEL_MANY" ]; then
	s0=$(stat_num streams total)
	c1=$(stat_num connections total)
	if timeout 120 "$JG_TUNNEL_MANY" 127.0.0.1 "$JG_PORT" "$JG_CA" "$JG_CERT" "$JG_KEY" \
		local "$PORT_echo" "$N" 65536 60 >"$JG_T/tmany.out" 2>"$JG_T/tmany.err"; then
		rc=0
	else
		rc=$?
	fi
	c2=$(stat_num connections total)
	s2=$(stat_num streams total)
	summary=$(grep '^tunnel_many:' "$JG_T/tmany.out" | tail -n1)
	if [ $rc = 0 ]; then
		jg_ok "$N tunnels at once on one connection: all got 200 and their 64 KiB back (${summary#tunnel_many: })"
	else
		jg_notok "$N tunnels on one connection: exit $rc (${summary:-no summary})"
		jg_show "$JG_T/tmany.out" 10
		jg_show "$JG_T/tmany.err" 10
	fi
	# Every stats request is a connection and a stream of its own, counted in its answer:
	# c1 -> c2 is tunnel_many plus the request reading c2; s0 -> s2 is the N tunnels plus
	# the three requests reading c1, c2 and s2.
	if [ -n "$s0" ] && [ -n "$c1" ] && [ -n "$c2" ] && [ -n "$s2" ] &&
		[ $((c2 - c1 - 1)) = 1 ] && [ $((s2 - s0 - 3)) = "$N" ]; then
		jg_ok "/v1/stats: the $N tunnels came on one connection (connections.total +$((c2 - c1 - 1)), streams.total +$((s2 - s0 - 3)))"
	else
		jg_notok "/v1/stats: connections.total $c1 -> $c2, streams.total $s0 -> $s2 (want +1+1 connections, +$N+3 streams)"
	fi
else
	jg_ok "# SKIP $N tunnels on one connection: no tunnel_many (make check builds it)"
fi

# The same with the CLI: N processes, one connection and one stream each.
head -c 65536 /dev/urandom >"$JG_T/small.bin"
small=$(jg_sha256 "$JG_T/small.bin")
t0=$(date +%s%N)
pids=()
for i in $(seq 1 "$N"); do
	tun local "$PORT_echo" <"$JG_T/small.bin" >"$JG_T/many.$i" 2>"$JG_T/many.$i.err" &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
ms=$((($(date +%s%N) - t0) / 1000000))
good=0
for i in $(seq 1 "$N"); do [ "$(jg_sha256 "$JG_T/many.$i")" = "$small" ] && good=$((good + 1)); done
if [ $fails = 0 ] && [ $good = "$N" ]; then
	jg_ok "$N tunnels at once (one CLI process and connection each): all $N echoed 64 KiB intact (${ms} ms)"
else
	jg_notok "$N tunnels at once: $fails failed, $good intact"
	for i in $(seq 1 "$N"); do [ -s "$JG_T/many.$i.err" ] && { jg_show "$JG_T/many.$i.err" 3; break; }; done
fi

# ---------------------------------------------------------------- ssh, scp

if [ $have_sshd = 1 ]; then
	pc="$JUMPGATE -g 127.0.0.1:$JG_PORT --cert $JG_CERT --key $JG_KEY --ca $JG_CA connect %h %p"
	sopts=(-F /dev/null -i "$JG_SSH_KEY" -o IdentitiesOnly=yes -o BatchMode=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
	if out=$(timeout 60 ssh "${sopts[@]}" -o "ProxyCommand=$pc" -p "$SSHP" \
		"$JG_SSH_USER@web1" 'echo via-tunnel; hostname' 2>"$JG_T/ssh.err") &&
		[ "$(printf '%s\n' "$out" | head -n1)" = via-tunnel ]; then
		jg_ok "ssh -o ProxyCommand='jumpgate connect %h %p' web1: runs a command ($(printf '%s' "$out" | tr '\n' ' '))"
	else
		jg_notok "ssh through the tunnel: '$out'"
		jg_show "$JG_T/ssh.err" 10
	fi
	if timeout 60 scp -q "${sopts[@]}" -o "ProxyCommand=$pc" -P "$SSHP" "$JG_T/in.bin" \
		"$JG_SSH_USER@web1:$JG_T/scp.copy" 2>"$JG_T/scp.err" &&
		[ "$(jg_sha256 "$JG_T/scp.copy")" = "$want" ]; then
		jg_ok "scp of 8 MiB through the tunnel: sha256 equal"
	else
		jg_notok "scp through the tunnel"
		jg_show "$JG_T/scp.err" 10
	fi
else
	jg_ok "# SKIP ssh/scp through the tunnel: no sshd or tests/integration/sshd.sh"
fi

# ---------------------------------------------------------------- slow reader

# 1 GiB at a server that reads nothing for 10 s: the windows must stop the
# CLI (and so `head`), not fill the gateway's memory.  Under the sanitizers
# 256 MiB: a thousand windows still, for a quarter of the instrumented work.
slow_bytes=1073741824 slow_name="1 GiB"
! jg_sanitized || slow_bytes=268435456 slow_name="256 MiB"
rss0=$(jg_rss_kb "$JG_GW_PID")
(head -c "$slow_bytes" /dev/zero | tun local "$PORT_slow" >"$JG_T/slow.out" 2>"$JG_T/slow.err") &
slowpid=$!
jg_track slowcli "$slowpid"
wait_log "$JG_T/slow.log" 'slow accepted' 20 || true
maxrss=$rss0
while ! grep -q 'slow reading' "$JG_T/slow.log" 2>/dev/null && jg_alive "$slowpid"; do
	r=$(jg_rss_kb "$JG_GW_PID")
	[ "$r" -le "$maxrss" ] || maxrss=$r
	sleep 0.2
done
rc=0
jg_wait_gone "$slowpid" 120 || rc=1
wait "$slowpid" 2>/dev/null || rc=1
jg_untrack slowcli
grow=$((maxrss - rss0))
jg_log "gateway RSS during the 10 s stall: ${rss0} KiB before, ${maxrss} KiB at most (+${grow} KiB)"
# Windows are 256 KiB per hop; sanitizer builds carry more slack.
limit=16384
! jg_sanitized || limit=49152
if [ $rc = 0 ] && [ "$(cat "$JG_T/slow.out")" = "$slow_bytes $(head -c "$slow_bytes" /dev/zero | sha256sum | cut -d' ' -f1)" ] &&
	[ $grow -lt "$limit" ]; then
	jg_ok "slow reader: $slow_name delivered after a 10 s stall; gateway RSS grew ${grow} KiB (< ${limit} KiB)"
else
	jg_notok "slow reader: exit $rc, answer '$(cat "$JG_T/slow.out")', RSS +${grow} KiB (limit ${limit})"
	jg_show "$JG_T/slow.err" 5
fi

# ---------------------------------------------------------------- leaks

sleep 0.5
agent=$(for d in $(jg_descendants "$JG_GW_PID"); do
	[ "$(jg_comm "$d")" != jumpgate-agent ] || echo "$d"
done | head -n1)
gfd0=$(jg_fd_count "$JG_GW_PID")
afd0=$([ -n "$agent" ] && jg_fd_count "$agent" || echo 0)
for i in 1 2 3 4 5; do
	tun local "$PORT_echo" <"$JG_T/small.bin" >/dev/null 2>&1 || true
	tun office "$PORT_echo" <"$JG_T/small.bin" >/dev/null 2>&1 || true
	tun local "$CLOSED" </dev/null >/dev/null 2>&1 || true
done
sleep 0.5
gfd1=$(jg_fd_count "$JG_GW_PID")
afd1=$([ -n "$agent" ] && jg_fd_count "$agent" || echo 0)
jg_check "no fd left behind: gateway $gfd0 -> $gfd1, agent $afd0 -> $afd1 after 15 more tunnels" \
	test "$gfd1" -le "$gfd0" -a "$afd1" -le "$afd0"

# ---------------------------------------------------------------- default policy

jg_gateway_stop 10 || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"
JG_CONF_EXTRA=""
jg_gateway_start || { jg_notok "gateway without tunnels restarts"; jg_done; }
if tun local "$PORT_echo" </dev/null >/dev/null 2>"$JG_T/default.err"; then rc=0; else rc=$?; fi
if [ $rc = 255 ] && grep -q "only port 22 of inventory targets" "$JG_T/default.err"; then
	jg_ok "no tunnels key: local:$PORT_echo refused: '$(head -n1 "$JG_T/default.err")'"
else
	jg_notok "default policy (exit $rc): $(head -n1 "$JG_T/default.err")"
fi
if tun ssh:127.0.0.2 22 </dev/null >/dev/null 2>"$JG_T/default2.err"; then rc=0; else rc=$?; fi
jg_check "no tunnels key: port 22 of a host outside the inventory is refused ($(head -n1 "$JG_T/default2.err"))" \
	grep -q "not allowed" "$JG_T/default2.err"

jg_check "gateway stops cleanly (status ${JG_GW_STATUS:-?})" jg_gateway_stop 10
# The agents log into the gateway's log: any sanitizer report from either shows here.
if grep -hE 'Sanitizer|runtime error:' "$JG_T"/jumpgated-*.log >"$JG_T/san.txt"; then
	jg_notok "sanitizer reports in the gateway or agent logs"
	jg_show "$JG_T/san.txt" 20
else
	jg_ok "no sanitizer report from the gateway or the agents"
fi

jg_done
