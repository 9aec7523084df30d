#!/bin/bash
# Tunnels dialled by the gateway (issue 15, part 1): `jumpgate connect HOST PORT`
# opens TCP from the gateway itself to HOST:PORT, as `ssh -W` does, and the
# user's ssh authenticates end to end with the USER's key:
#   - a real sshd listening on 127.0.1.5 only (not the target's localhost),
#     whose authorized_keys knows the user's key and not the gateway's: the
#     gateway's own logins (exec, connect --via-target) fail, while ssh, scp,
#     sftp, rsync -e and git (clone and push to a bare repository) work through
#     ProxyCommand='jumpgate connect %h %p', by address and by inventory name;
#   - policy judges the RESOLVED address: "localhost" resolves (hosts file,
#     evdns) to 127.0.0.1; tunnels.allow "local:127.0.0.1:P" lets it through,
#     another port of it is refused naming the address; a deny rule for
#     "tunnel:127.0.0.1" refuses both the name and the number (403, the rule
#     named); each refusal leaves an audit record naming the address;
#   - names from a tiny DNS server of the test's own on 127.0.0.1 (the
#     gateway's resolv_conf points there): db.test (127.0.0.1) is judged and
#     dialled as 127.0.0.1, ssh reaches far.test (127.0.1.5) by name, and
#     slow.test, never answered, fails in one line within connect_timeout; a
#     client that leaves while its name resolves leaves nothing behind;
#   - a port nobody listens on: one line naming the address, exit 255, within
#     seconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
jg_ssh_setup
jg_require python3 git rsync scp sftp

# The gateway's own key: made here, known to no sshd.
GWKEY=$JG_T/gw_id_ed25519
ssh-keygen -q -t ed25519 -N '' -C "gateway-nobody-knows" -f "$GWKEY" </dev/null >/dev/null

if ! JG_SSHD_EXTRA="Subsystem sftp internal-sftp" jg_sshd_start tgt 127.0.1.5; then
	jg_notok "sshd starts on 127.0.1.5"
	jg_done
fi
P=${JG_SSHD_PORT[tgt]}
jg_ok "sshd listens on 127.0.1.5 port $P only"

# Small TCP servers on 127.0.0.1: MODE echo sends back what comes (the
# resolved-address checks); MODE count answers the byte count at EOF (window growth).
cat >"$JG_T/serve.py" <<'EOP'
import os, socket, sys, threading
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(16)
open(portfile + '.tmp', 'w').write('%d\n' % s.getsockname()[1])
os.rename(portfile + '.tmp', portfile)
def serve(c):
    n = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        n += len(d)
        if mode == 'echo':
            c.sendall(d)
    if mode == 'count':
        c.sendall(b'%d\n' % n)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOP
# serve MODE: start one; its port on stdout, or nothing.
serve() {
	python3 "$JG_T/serve.py" "$1" "$JG_T/$1.port" </dev/null >"$JG_T/$1.err" 2>&1 &
	jg_track "$1" $!
	for _ in $(seq 1 100); do [ -s "$JG_T/$1.port" ] && break; sleep 0.05; done
	cat "$JG_T/$1.port" 2>/dev/null
}
ECHO=$(serve echo) && [ -n "$ECHO" ] || { jg_notok "echo server starts"; jg_done; }
SINKP=$(serve count) && [ -n "$SINKP" ] || { jg_notok "sink server starts"; jg_done; }
OTHER=$(jg_free_port)
CLOSED=$(jg_free_port)

# A tiny DNS server on 127.0.0.1 (UDP): A records for db.test and far.test, no
# answer ever for slow.test, NXDOMAIN for the rest.  Every question is logged.
cat >"$JG_T/dns.py" <<'EOP'
import os, socket, struct, sys
names = {'db.test': '127.0.0.1', 'far.test': '127.0.1.5'}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
open(sys.argv[1] + '.tmp', 'w').write('%d\n' % s.getsockname()[1])
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
log = open(sys.argv[2], 'a', buffering=1)
while True:
    q, peer = s.recvfrom(512)
    qid, flags = struct.unpack('>HH', q[:4])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    qtype = struct.unpack('>H', q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = '.'.join(labels)
    log.write('%s %d\n' % (name, qtype))
    if name == 'slow.test':
        continue
    answers = b''
    rcode = 0 if name in names else 3
    if name in names and qtype == 1:
        answers = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + socket.inet_aton(names[name])
    hdr = struct.pack('>HHHHHH', qid, 0x8180 | rcode, 1, 1 if answers else 0, 0, 0)
    s.sendto(hdr + question + answers, peer)
EOP
python3 "$JG_T/dns.py" "$JG_T/dns.port" "$JG_T/dns.log" </dev/null >"$JG_T/dns.err" 2>&1 &
jg_track dns $!
for _ in $(seq 1 100); do [ -s "$JG_T/dns.port" ] && break; sleep 0.05; done
DNSP=$(cat "$JG_T/dns.port" 2>/dev/null) || { jg_notok "the test DNS server starts"; jg_done; }
# evdns alone would wait 3 x 5 s for slow.test: the gateway's own bound (connect_timeout) ends it.
printf 'nameserver 127.0.0.1:%s\noptions timeout:5 attempts:3\n' "$DNSP" >"$JG_T/resolv.conf"

JG_CONF_EXTRA="audit = \"$JG_T/audit.log\";
resolv_conf = \"$JG_T/resolv.conf\";
pool = { connect_timeout = 3.0; };
ssh_defaults = {
  user = \"$JG_SSH_USER\";
  check_host_keys = \"accept\";
  known_hosts = \"$JG_T/gw_known_hosts\";
  identity_file = \"$GWKEY\";
  identities_only = true;
  connect_timeout = 5;
};
targets = ( $(jg_ssh_target web1 127.0.1.5 "$P") );
tunnels = { allow = [ \"web1:$P\", \"local:127.0.1.5:*\", \"local:127.0.0.1:$ECHO\", \"local:127.0.0.1:$SINKP\" ]; };
policy = ( { name = \"all\"; allow = true; } );"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts; its ssh key is known to no sshd"

# The gateway cannot log in anywhere: its own onward ssh fails.
if JG_TIMEOUT=60 jg_cli exec web1 -- true </dev/null >/dev/null 2>"$JG_T/exec.err"; then
	jg_notok "the gateway's own login to web1 should fail"
else
	jg_ok "the gateway's own login to web1 fails: $(head -n1 "$JG_T/exec.err")"
fi

# ProxyCommand: the CLI with this run's credentials, bounded.
cat >"$JG_T/jgc" <<EOS
#!/bin/sh
exec timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" connect "\$@"
EOS
chmod +x "$JG_T/jgc"
SSHCFG=$(jg_ssh_client_config)
PC="ProxyCommand=$JG_T/jgc %h %p"
SSH=(timeout 60 ssh -F "$SSHCFG" -o "$PC" -p "$P")

# ---------------------------------------------------------------- ssh, scp, sftp, rsync, git

if out=$("${SSH[@]}" 127.0.1.5 'echo hello from $(hostname)' 2>"$JG_T/ssh.err") &&
	[ "${out#hello from }" != "$out" ]; then
	jg_ok "ssh -o ProxyCommand='jumpgate connect %h %p' 127.0.1.5: the user's key logs in ($out)"
else
	jg_notok "ssh through the gateway-dialled tunnel to 127.0.1.5 (got '$out')"
	jg_show "$JG_T/ssh.err" 5
	jg_show "$JG_GW_LOG" 10
fi
if out=$("${SSH[@]}" web1 'echo by name' 2>"$JG_T/ssh2.err") && [ "$out" = "by name" ]; then
	jg_ok "ssh ... web1: the inventory name is dialled at its address 127.0.1.5"
else
	jg_notok "ssh through the tunnel to web1 by name (got '$out')"
	jg_show "$JG_T/ssh2.err" 5
fi

head -c 3000000 /dev/urandom >"$JG_T/f.bin"
want=$(jg_sha256 "$JG_T/f.bin")
mkdir -p "$JG_T/dst"
if timeout 60 scp -q -F "$SSHCFG" -o "$PC" -P "$P" "$JG_T/f.bin" "127.0.1.5:$JG_T/dst/scp.bin" 2>"$JG_T/scp.err" &&
	[ "$(jg_sha256 "$JG_T/dst/scp.bin")" = "$want" ]; then
	jg_ok "scp through it: 3 MB arrive, sha256 equal"
else
	jg_notok "scp through the tunnel"
	jg_show "$JG_T/scp.err" 5
fi
printf 'get %s %s\n' "$JG_T/dst/scp.bin" "$JG_T/sftp.bin" >"$JG_T/sftp.batch"
if timeout 60 sftp -q -F "$SSHCFG" -o "$PC" -P "$P" -b "$JG_T/sftp.batch" 127.0.1.5 >"$JG_T/sftp.out" 2>&1 &&
	[ "$(jg_sha256 "$JG_T/sftp.bin")" = "$want" ]; then
	jg_ok "sftp through it: the file comes back, sha256 equal"
else
	jg_notok "sftp through the tunnel"
	jg_show "$JG_T/sftp.out" 5
fi
mkdir -p "$JG_T/tree/a/b"
head -c 200000 /dev/urandom >"$JG_T/tree/a/b/x"
echo small >"$JG_T/tree/a/y"
if timeout 60 rsync -a -e "ssh -F $SSHCFG -o 'ProxyCommand=$JG_T/jgc %h %p' -p $P" "$JG_T/tree/" "127.0.1.5:$JG_T/rtree/" 2>"$JG_T/rsync.err" &&
	diff -r "$JG_T/tree" "$JG_T/rtree" >/dev/null; then
	jg_ok "rsync -e 'ssh -o ProxyCommand=...' through it: the tree arrives equal"
else
	jg_notok "rsync through the tunnel"
	jg_show "$JG_T/rsync.err" 5
fi
export GIT_SSH_COMMAND="ssh -F $SSHCFG -o 'ProxyCommand=$JG_T/jgc %h %p'"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git init -q --bare "$JG_T/repo.git" && git init -q "$JG_T/work" &&
	(cd "$JG_T/work" && echo one >f && git add f &&
		git -c user.name=t -c user.email=t@t commit -qm one) >/dev/null 2>&1
if (cd "$JG_T/work" && timeout 60 git push -q "ssh://127.0.1.5:$P$JG_T/repo.git" HEAD:refs/heads/main) >"$JG_T/git.err" 2>&1 &&
	timeout 60 git clone -q -b main "ssh://127.0.1.5:$P$JG_T/repo.git" "$JG_T/clone" >>"$JG_T/git.err" 2>&1 &&
	[ "$(cat "$JG_T/clone/f")" = one ]; then
	jg_ok "git push and clone over ssh through it (a bare repository on the sshd)"
else
	jg_notok "git over ssh through the tunnel"
	jg_show "$JG_T/git.err" 5
fi
unset GIT_SSH_COMMAND

# The old way, asked for explicitly: the gateway logs into web1 itself (its key fails).
if JG_TIMEOUT=60 jg_cli connect --via-target web1 "$P" </dev/null >/dev/null 2>"$JG_T/via.err"; then
	jg_notok "connect --via-target web1 should need the gateway's own login"
elif grep -q "Permission denied" "$JG_T/via.err" && [ "$(wc -l <"$JG_T/via.err")" = 1 ]; then
	jg_ok "connect --via-target still goes through the target's agent: $(head -n1 "$JG_T/via.err")"
else
	jg_notok "connect --via-target: unclear error"
	jg_show "$JG_T/via.err" 5
fi

# ---------------------------------------------------------------- policy on the resolved address

if out=$(printf 'ping' | JG_TIMEOUT=30 jg_cli connect localhost "$ECHO" 2>"$JG_T/lh.err") && [ "$out" = ping ]; then
	jg_ok "localhost resolves to 127.0.0.1, allowed as local:127.0.0.1:$ECHO: echoed"
else
	jg_notok "connect localhost $ECHO (got '$out')"
	jg_show "$JG_T/lh.err" 5
	jg_show "$JG_GW_LOG" 10
fi
t0=$(date +%s%N)
rc=0
JG_TIMEOUT=30 jg_cli connect localhost "$OTHER" </dev/null >/dev/null 2>"$JG_T/lh2.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc != 0 ] && grep -q "127.0.0.1" "$JG_T/lh2.err" && grep -q "not allowed" "$JG_T/lh2.err"; then
	jg_ok "localhost port $OTHER refused by its address: $(head -n1 "$JG_T/lh2.err")"
else
	jg_notok "connect localhost $OTHER should be refused naming 127.0.0.1 (exit $rc)"
	jg_show "$JG_T/lh2.err" 5
fi
# ssh's %h spells IPv6 bare: judged as the address ::1 (refused here); a name that is
# no host name is refused before any resolver is asked.
rc=0
JG_TIMEOUT=30 jg_cli connect ::1 "$OTHER" </dev/null >/dev/null 2>"$JG_T/v6.err" || rc=$?
jg_check "connect ::1 $OTHER: judged as ::1 ($(head -n1 "$JG_T/v6.err"))" \
	grep -q "local:\[::1\]:$OTHER" "$JG_T/v6.err"
rc=0
JG_TIMEOUT=30 jg_cli connect db..test "$ECHO" </dev/null >/dev/null 2>"$JG_T/bad.err" || rc=$?
if [ $rc = 255 ] && grep -q "is not a host name" "$JG_T/bad.err" && ! grep -q '^db\.\.test' "$JG_T/dns.log"; then
	jg_ok "db..test is no host name: refused without asking the resolver ($(head -n1 "$JG_T/bad.err"))"
else
	jg_notok "connect db..test: exit $rc"
	jg_show "$JG_T/bad.err" 5
fi

# Names from the test's DNS server: judged and dialled by the address it answers.
if out=$(printf 'dns' | JG_TIMEOUT=30 jg_cli connect db.test "$ECHO" 2>"$JG_T/db.err") && [ "$out" = dns ] &&
	grep -q '^db.test 1$' "$JG_T/dns.log"; then
	jg_ok "db.test resolved by the gateway's resolv_conf (127.0.0.1), allowed as local:127.0.0.1:$ECHO: echoed"
else
	jg_notok "connect db.test $ECHO (got '$out')"
	jg_show "$JG_T/db.err" 5
	jg_show "$JG_T/dns.log" 5
fi
if out=$("${SSH[@]}" far.test 'echo by dns' 2>"$JG_T/ssh3.err") && [ "$out" = "by dns" ]; then
	jg_ok "ssh ... far.test: the name is resolved and dialled by the gateway (127.0.1.5)"
else
	jg_notok "ssh through the tunnel to far.test (got '$out')"
	jg_show "$JG_T/ssh3.err" 5
fi
t0=$(date +%s%N)
rc=0
JG_TIMEOUT=30 jg_cli connect slow.test "$ECHO" </dev/null >/dev/null 2>"$JG_T/slow.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc = 255 ] && [ "$(wc -l <"$JG_T/slow.err")" = 1 ] &&
	grep -q "cannot resolve slow.test: no answer within 3000 ms" "$JG_T/slow.err" && [ $ms -lt 10000 ]; then
	jg_ok "a name never answered: one line, exit 255, ${ms} ms (connect_timeout 3 s): $(cat "$JG_T/slow.err")"
else
	jg_notok "a name never answered: exit $rc, ${ms} ms"
	jg_show "$JG_T/slow.err" 5
fi
# The client leaves while its name resolves: the gateway forgets the request.
rc=0
timeout 1 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" \
	connect slow.test "$ECHO" </dev/null >/dev/null 2>&1 || rc=$?
sleep 3.5
if out=$(printf 'after' | JG_TIMEOUT=30 jg_cli connect db.test "$ECHO" 2>"$JG_T/after.err") && [ "$out" = after ] &&
	jg_alive "$JG_GW_PID"; then
	jg_ok "a client gone while its name resolved (exit $rc): the gateway serves on"
else
	jg_notok "after a client left during a resolve (got '$out')"
	jg_show "$JG_T/after.err" 5
fi

# ---------------------------------------------------------------- unreachable

t0=$(date +%s%N)
rc=0
JG_TIMEOUT=30 jg_cli connect 127.0.1.5 "$CLOSED" </dev/null >/dev/null 2>"$JG_T/closed.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc = 255 ] && [ "$(wc -l <"$JG_T/closed.err")" = 1 ] &&
	grep -q "127.0.1.5 port $CLOSED: Connection refused" "$JG_T/closed.err" && [ $ms -lt 10000 ]; then
	jg_ok "a closed port: one line, exit 255, ${ms} ms: $(cat "$JG_T/closed.err")"
else
	jg_notok "a closed port: exit $rc, ${ms} ms"
	jg_show "$JG_T/closed.err" 5
fi

# ---------------------------------------------------------------- window growth
# A tunnel whose socket keeps up gets a larger window for the client's bytes
# (relay/autowin.h), and gives the growth back when it ends; exec's stdin, whose
# next hop is the agent's channel window, never grows.
# metric NAME: its value in /metrics, or nothing.  awk reads to the end: leaving early
# would cut curl's pipe (curl exit 23, which pipefail turns into the test's abort).
metric() {
	jg_curl /metrics 2>/dev/null | awk -v s="$1" '$1 == s && !seen { print $2; seen = 1 }' || true
}
g0=$(metric jumpgate_stream_windows_grown_total)
n=$(head -c 67108864 /dev/zero | JG_TIMEOUT=120 jg_cli connect 127.0.0.1 "$SINKP" 2>"$JG_T/grow.err") || true
g1=$(metric jumpgate_stream_windows_grown_total)
used=x
for _ in $(seq 1 50); do
	used=$(metric jumpgate_stream_window_growth_bytes)
	[ "$used" = 0 ] && break
	sleep 0.1
done
if [ "$n" = 67108864 ] && [ -n "$g0" ] && [ "${g1:-0}" -gt "$g0" ] && [ "$used" = 0 ]; then
	jg_ok "64 MiB into a sink: all counted, the window grew $((g1 - g0)) times, growth given back at the end"
else
	jg_notok "window growth: sink counted '$n' of 67108864, windows grown '$g0' -> '$g1', growth held after '$used'"
	jg_show "$JG_T/grow.err" 5
fi
n=$(head -c 33554432 /dev/zero | JG_TIMEOUT=120 jg_cli exec local -- wc -c 2>"$JG_T/grow2.err") || true
g2=$(metric jumpgate_stream_windows_grown_total)
if [ "$n" = 33554432 ] && [ "$g2" = "$g1" ]; then
	jg_ok "32 MiB of exec stdin: all arrive, no window grown (the agent's channel is the limit)"
else
	jg_notok "exec stdin: wc -c '$n' of 33554432, windows grown '$g1' -> '$g2' (want unchanged)"
	jg_show "$JG_T/grow2.err" 5
fi

jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"

# A deny rule for the address: the name that resolves to it is denied with it.
JG_CONF_EXTRA="audit = \"$JG_T/audit.log\";
resolv_conf = \"$JG_T/resolv.conf\";
tunnels = { allow = [ \"local:127.0.0.1:*\" ]; };
policy = (
  { name = \"no-loopback\"; allow = false; actions = [ \"tunnel\" ]; targets = [ \"tunnel:127.0.0.1\" ]; },
  { name = \"all\"; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts with a deny rule"; jg_done; }
for h in localhost db.test 127.0.0.1; do
	rc=0
	printf 'ping' | JG_TIMEOUT=30 jg_cli connect "$h" "$ECHO" >"$JG_T/deny.out" 2>"$JG_T/deny.err" || rc=$?
	if [ $rc != 0 ] && grep -q 'no-loopback' "$JG_T/deny.err" && [ ! -s "$JG_T/deny.out" ]; then
		jg_ok "connect $h $ECHO: denied by the rule on tunnel:127.0.0.1 ($(head -n1 "$JG_T/deny.err"))"
	else
		jg_notok "connect $h $ECHO should be denied by rule no-loopback (exit $rc)"
		jg_show "$JG_T/deny.err" 5
	fi
done
jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"

# ---------------------------------------------------------------- audit

cat >"$JG_T/check.py" <<'EOP'
import json, sys
recs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    recs.setdefault(o["op"], {}).update(o)
tun = [r for r in recs.values() if r.get("action") == "tunnel"]
fails = []
def want(what, pred):
    if not any(pred(r) for r in tun):
        fails.append(what)
other, echo = int(sys.argv[2]), int(sys.argv[3])
want("localhost:%d refused naming 127.0.0.1" % other,
     lambda r: r.get("outcome") in ("refused", "denied") and "127.0.0.1" in r.get("reason", "")
     and (r.get("port") == other or "port=%d" % other in r.get("request", "")))
for typed in ("localhost", "db.test", "127.0.0.1"):
    want("%s:%d denied by the rule, host 127.0.0.1" % (typed, echo),
         lambda r: r.get("outcome") == "denied" and "no-loopback" in r.get("reason", "")
         and r.get("host") == "127.0.0.1" and r.get("target_typed") == typed)
want("localhost:%d ok with host 127.0.0.1" % echo,
     lambda r: r.get("outcome") == "ok" and r.get("host") == "127.0.0.1" and r.get("port") == echo)
if fails:
    print("; ".join(fails))
    sys.exit(1)
print("%d tunnel records" % len(tun))
EOP
if out=$(python3 "$JG_T/check.py" "$JG_T/audit.log" "$OTHER" "$ECHO" 2>&1); then
	jg_ok "refused destinations are audited by their address: $out"
else
	jg_notok "audit: $out"
	grep '"tunnel"' "$JG_T/audit.log" | head -n 20 | sed 's/^/# /'
fi
# Under ASan/UBSan: a resolve cancelled or answered, a refused address, a closed port.
jg_no_sanitizer_reports
jg_done
