#!/bin/bash
# Multi-site: real gateways on loopback, each with its own CA.
#  chain  A -> B -> C: routes learned (path vectors), exec (stdin, exit status,
#         large output), files and a fan-out through A to C (the fan-out crossing
#         the A->B link once), C's policy refusing whom A allows, the asserted
#         identity trusted or not; B stalled (SIGSTOP): streams end by the
#         keepalive bound; B killed: streams end with the reason, routes are
#         withdrawn, new operations get 503; B restarted: routes come back.
#  ring   A, B, C each linked to both others: no looped path, the shortest path
#         used, and once the A->C link is cut (a TCP relay killed) traffic to C
#         goes through B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites.sh"
jg_setup
jg_require python3

KA=1 # keepalive_interval of every link, seconds: a stall is noticed within 2 s

# --- configuration errors name the file and line ---------------------------------
badconf() { # badconf NAME WANT TEXT: jumpgated refuses TEXT, saying WANT
	printf 'state_dir = "%s";\npolicy = ( { name = "all"; allow = true; } );\n%s\n' \
		"$JG_T/bad-state" "$3" >"$JG_T/bad-$1.conf"
	if timeout 10 "$JUMPGATED" -f -c "$JG_T/bad-$1.conf" >"$JG_T/bad-$1.log" 2>&1 </dev/null; then
		jg_notok "config: $1 refused (it started)"
	elif grep -q "bad-$1.conf:[0-9]*: .*$2" "$JG_T/bad-$1.log"; then
		jg_ok "config: $1 refused: $(grep -o 'conf:[0-9]*: sites.*' "$JG_T/bad-$1.log" | head -c 150)"
	else
		jg_notok "config: $1 refused with file:line and '$2' ($(head -c 300 "$JG_T/bad-$1.log"))"
	fi
}
badconf noaddr 'address needs ca' 'sites = ( { name = "b"; address = "127.0.0.1:1"; } );'
badconf badname 'not a site name' 'sites = ( { name = "-b"; identity = "x"; } );'
badconf trust 'trust_asserted_identity needs identity' \
	'sites = ( { name = "b"; address = "127.0.0.1:1"; ca = "/x"; cert = "/x"; key = "/x"; trust_asserted_identity = true; } );'
badconf dup 'already defined' 'sites = ( { name = "b"; identity = "x"; }, { name = "b"; identity = "y"; } );'
badconf inventory 'also an inventory target' 'sites = ( { name = "local"; identity = "x"; } );'
badconf self 'own name' 'gateway_name = "me";
sites = ( { name = "me"; identity = "x"; } );'

site_init site-a site-b site-c
site_config site-a "$(site_link_entry site-a site-b $KA)"
site_config site-b "$(site_link_entry site-b site-c $KA), $(site_trust_entry site-a)"
site_config site-c "$(site_trust_entry site-b)" \
	'targets = ( { name = "t2"; method = "local"; } );
tunnels = { allow = [ "local:*" ]; };
policy = ( { name = "no-mallory"; identities = [ "mallory" ]; allow = false; },
	   { name = "rest"; allow = true; } );'
if site_start site-c && site_start site-b && site_start site-a; then
	jg_ok "three gateways start (A links to B, B links to C)"
else
	jg_notok "three gateways start"
	jg_done
fi

# --- routes ---------------------------------------------------------------------
if site_wait_route site-a site-c 'up site-b site-b,site-c' 15 &&
	site_wait_route site-a site-b 'up site-b site-b' 5; then
	jg_ok "A learns site-b (path site-b) and site-c (path site-b,site-c)"
else
	jg_notok "A learns site-b and site-c"
fi
if [ "$(site_route site-c site-a)" = none ] && [ "$(site_route site-b site-a)" = none ]; then
	jg_ok "routes flow against the link direction only (B and C know no site-a)"
else
	jg_notok "routes flow against the link direction only ($(site_route site-b site-a))"
fi
out=$(site_cli site-a routes 2>&1) || true
if grep -q '^site-c  *up  *site-b  *site-b,site-c' <<<"$out"; then
	jg_ok "jumpgate routes lists site-c up via site-b"
else
	jg_notok "jumpgate routes lists site-c up via site-b ($out)"
fi
rtt=$(site_link_stat site-a site-b rtt_ms)
if [ "$rtt" != -1 ] && [ "$rtt" != None ]; then
	jg_ok "A's /v1/stats shows the link to site-b with an RTT (${rtt} ms)"
else
	jg_notok "A's /v1/stats shows the link to site-b with an RTT ($rtt)"
fi

# --- exec through two hops ------------------------------------------------------
ppid_prog='awk "/^PPid/ { print \$2 }" /proc/$PPID/status'
got=$(site_cli site-a exec site-c/local -- sh -c "$ppid_prog" </dev/null 2>"$JG_T/e1.err") || true
if [ "$got" = "$(site_pid site-c)" ]; then
	jg_ok "exec site-c/local through A runs under C's jumpgated (pid $got)"
else
	jg_notok "exec site-c/local through A runs under C's jumpgated (got '$got', C is $(site_pid site-c))"
	jg_show "$JG_T/e1.err" 5
fi
if got=$(printf 'abc\n' | site_cli site-a exec site-c/local -- sh -c 'cat; exit 7' 2>"$JG_T/e2.err"); then rc=0; else rc=$?; fi
if [ "$got" = abc ] && [ "$rc" = 7 ]; then
	jg_ok "stdin reaches C's program and its exit status (7) comes back"
else
	jg_notok "stdin reaches C's program and its exit status comes back (out '$got', rc $rc)"
	jg_show "$JG_T/e2.err" 5
fi
head -c 33554432 /dev/urandom >"$JG_T/big"
want=$(jg_sha256 "$JG_T/big")
start=$(date +%s%N)
got=$(site_cli site-a exec site-c/local -- cat <"$JG_T/big" 2>"$JG_T/e3.err" | sha256sum | cut -d' ' -f1) || true
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$got" = "$want" ]; then
	jg_ok "32 MiB through stdin and back over A->B->C, sha256 equal (${ms} ms)"
else
	jg_notok "32 MiB through stdin and back over A->B->C, sha256 equal"
	jg_show "$JG_T/e3.err" 5
fi
code=$(site_curl site-a "/v1/targets/site-c/exec" -X POST -o "$JG_T/bare.json" -w '%{http_code}') || true
if [ "$code" = 400 ] && grep -q 'site-c is a site' "$JG_T/bare.json"; then
	jg_ok "a bare site name as target is refused with a hint (400)"
else
	jg_notok "a bare site name as target is refused with a hint ($code $(cat "$JG_T/bare.json"))"
fi

# --- policy across sites --------------------------------------------------------
if SITE_USER=mallory site_cli site-a exec site-c/local -- true </dev/null 2>"$JG_T/p1.err"; then rc=0; else rc=$?; fi
if [ "$rc" != 0 ] && grep -q 'no-mallory' "$JG_T/p1.err"; then
	jg_ok "C refuses mallory, whom A and B allow, by its own rule: $(head -c 160 "$JG_T/p1.err")"
else
	jg_notok "C refuses mallory by its own rule (rc $rc: $(head -c 300 "$JG_T/p1.err"))"
fi
code=$(SITE_USER=mallory site_curl site-a "/v1/targets/site-c%2Flocal/files/etc/hostname" -o /dev/null -w '%{http_code}') || true
if [ "$code" = 403 ]; then
	jg_ok "C's 403 passes back through B and A unchanged"
else
	jg_notok "C's 403 passes back through B and A unchanged (got $code)"
fi
if grep -q '"identity":"mallory"' "$JG_T/site-c/log" && grep -q '"outcome":"denied"' "$JG_T/site-c/log"; then
	jg_ok "C audits the denial under the asserted identity (mallory), B being trusted"
else
	jg_notok "C audits the denial under the asserted identity"
fi

# --- files and fan-out ------------------------------------------------------------
dst=$JG_T/dst
mkdir -p "$dst"
code=$(site_curl site-a "/v1/targets/site-c%2Flocal/files$dst/one" -T "$JG_T/big" -o "$JG_T/put.json" -w '%{http_code}') || true
if [ "$code" = 200 ] && [ "$(jg_sha256 "$dst/one")" = "$want" ]; then
	jg_ok "PUT a 32 MiB file to site-c/local through A"
else
	jg_notok "PUT a 32 MiB file to site-c/local through A ($code $(head -c 300 "$JG_T/put.json"))"
fi
if site_curl site-a "/v1/targets/site-c%2Flocal/files$dst/one" -o "$JG_T/got" &&
	[ "$(jg_sha256 "$JG_T/got")" = "$want" ]; then
	jg_ok "GET it back through A, sha256 equal"
else
	jg_notok "GET it back through A, sha256 equal"
fi
if site_cli site-a cp "$JG_T/big" "site-c/t2:$dst/cp" 2>"$JG_T/cp.err" && [ "$(jg_sha256 "$dst/cp")" = "$want" ]; then
	jg_ok "jumpgate cp to site-c/t2 through A"
else
	jg_notok "jumpgate cp to site-c/t2 through A ($(head -c 300 "$JG_T/cp.err"))"
fi
before=$(site_link_stat site-a site-b bytes_out)
code=$(site_curl site-a "/v1/files$dst/fan?targets=site-c%2Flocal,site-c%2Ft2" -T "$JG_T/big" -o "$JG_T/fan.json" -w '%{http_code}') || true
after=$(site_link_stat site-a site-b bytes_out)
size=$(stat -c %s "$JG_T/big")
ratio=$(awk -v a="$before" -v b="$after" -v s="$size" 'BEGIN { printf "%.3f", (b - a) / s }')
if [ "$code" = 200 ] && [ "$(grep -o '"ok":true' "$JG_T/fan.json" | wc -l)" = 2 ] &&
	grep -q '"target":"site-c/t2"' "$JG_T/fan.json" && [ "$(jg_sha256 "$dst/fan")" = "$want" ]; then
	jg_ok "fan-out to site-c/local,site-c/t2 through A: both written, named with their site"
else
	jg_notok "fan-out to two targets at site-c through A ($code $(head -c 300 "$JG_T/fan.json"))"
fi
if awk -v r="$ratio" 'BEGIN { exit !(r >= 1.0 && r < 1.2) }'; then
	jg_ok "the fan-out crossed the A->B link once: ${ratio}x the file's size"
else
	jg_notok "the fan-out crossed the A->B link once: ${ratio}x the file's size"
fi
code=$(site_curl site-a "/v1/files$dst/mix?targets=site-c%2Flocal,local" -T /dev/null -o "$JG_T/mix.json" -w '%{http_code}') || true
if [ "$code" = 400 ] && grep -q 'one place' "$JG_T/mix.json"; then
	jg_ok "a fan-out mixing sites is refused with the reason (400)"
else
	jg_notok "a fan-out mixing sites is refused ($code $(cat "$JG_T/mix.json"))"
fi

# --- a tunnel through two hops, each direction closing on its own ----------------
echo_port=$(jg_free_port)
python3 - "$echo_port" >"$JG_T/echo.log" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    data = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    c.sendall(data[::-1])
    c.close()
EOF
echo_pid=$!
jg_track echo "$echo_pid"
deadline=$((SECONDS + 10))
while ! jg_port_in_use "$echo_port" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
got=$(printf 'abcdef' | site_cli site-a connect site-c/local "$echo_port" 2>"$JG_T/tun.err") || true
if [ "$got" = fedcba ]; then
	jg_ok "tunnel through A and B to a port at C: sent, half-closed, answered after our EOF"
else
	jg_notok "tunnel through A and B to a port at C (got '$got': $(head -c 300 "$JG_T/tun.err"))"
fi
kill "$echo_pid" 2>/dev/null || true
wait "$echo_pid" 2>/dev/null || true
jg_untrack echo

# --- B stalls: the keepalive notices ----------------------------------------------
site_cli site-a exec site-c/local -- sleep 60 </dev/null >/dev/null 2>"$JG_T/stall.err" &
cli=$!
sleep 1
kill -STOP "$(site_pid site-b)"
t0=$SECONDS
if jg_wait_gone "$cli" $((2 * KA + 3)); then
	wait "$cli" 2>/dev/null || true
	if grep -q 'route to site-b lost: no answer to PING' "$JG_T/stall.err"; then
		jg_ok "B stalled: the exec through it ends within $((SECONDS - t0)) s: $(head -c 120 "$JG_T/stall.err")"
	else
		jg_notok "B stalled: the exec ends with the keepalive reason ($(head -c 300 "$JG_T/stall.err"))"
	fi
else
	jg_notok "B stalled: the exec through it ends within $((2 * KA + 3)) s"
	kill "$cli" 2>/dev/null || true
fi
kill -CONT "$(site_pid site-b)"
if site_wait_route site-a site-c 'up site-b *' 40; then
	jg_ok "B resumed: A links again and site-c is back"
else
	jg_notok "B resumed: A links again and site-c is back"
fi

# --- B killed: streams end with the reason, routes withdrawn, 503 ----------------
site_cli site-a exec site-c/local -- sleep 60 </dev/null >/dev/null 2>"$JG_T/kill.err" &
cli=$!
sleep 1
site_kill site-b KILL
t0=$SECONDS
if jg_wait_gone "$cli" 5; then
	wait "$cli" 2>/dev/null || true
	if grep -q 'route to site-b lost' "$JG_T/kill.err"; then
		jg_ok "B killed: the exec through it ends within $((SECONDS - t0)) s: $(head -c 120 "$JG_T/kill.err")"
	else
		jg_notok "B killed: the exec ends with the reason ($(head -c 300 "$JG_T/kill.err"))"
	fi
else
	jg_notok "B killed: the exec through it ends within 5 s"
	kill "$cli" 2>/dev/null || true
fi
if site_wait_route site-a site-c 'lost - -' 3 && site_wait_route site-a site-b 'lost - -' 1; then
	jg_ok "A withdraws site-b and site-c"
else
	jg_notok "A withdraws site-b and site-c"
fi
code=$(site_curl site-a "/v1/targets/site-c%2Flocal/files/etc/hostname" -o "$JG_T/503.json" -w '%{http_code}') || true
if [ "$code" = 503 ] && grep -q 'route to site-b lost' "$JG_T/503.json"; then
	jg_ok "a new operation on site-c gets 503 with the reason"
else
	jg_notok "a new operation on site-c gets 503 with the reason ($code $(cat "$JG_T/503.json"))"
fi

# --- B restarted: routes return without touching A or C --------------------------
if site_start site-b && site_wait_route site-a site-c 'up site-b site-b,site-c' 40; then
	jg_ok "B restarted: A's route to site-c returns"
else
	jg_notok "B restarted: A's route to site-c returns"
fi
if got=$(site_cli site-a exec site-c/local -- echo again </dev/null 2>"$JG_T/again.err") && [ "$got" = again ]; then
	jg_ok "exec through the restarted B works"
else
	jg_notok "exec through the restarted B works ($(head -c 300 "$JG_T/again.err"))"
fi
for n in site-a site-b site-c; do site_kill "$n" TERM; done

# --- ring: A, B, C each linked to the two others; A->C through a relay ----------
site_init ring-a ring-b ring-c
relay_port=$(jg_free_port)
python3 - "$relay_port" "$(site_port ring-c)" >"$JG_T/relay.log" 2>&1 <<'EOF' &
import asyncio, sys
async def pipe(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
    except Exception:
        pass
    w.close()
async def handle(r, w):
    r2, w2 = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
    await asyncio.gather(pipe(r, w2), pipe(r2, w))
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
EOF
relay=$!
jg_track relay "$relay"
SITE_ADDR_ring_a_ring_c=127.0.0.1:$relay_port
site_config ring-a "$(site_link_entry ring-a ring-b $KA), $(site_link_entry ring-a ring-c $KA)"
site_config ring-b "$(site_link_entry ring-b ring-a $KA), $(site_link_entry ring-b ring-c $KA)"
site_config ring-c "$(site_link_entry ring-c ring-a $KA), $(site_link_entry ring-c ring-b $KA)"
if site_start ring-a && site_start ring-b && site_start ring-c &&
	site_wait_route ring-a ring-c 'up ring-c ring-c' 15 &&
	site_wait_route ring-a ring-b 'up ring-b ring-b' 5; then
	jg_ok "ring: A reaches B and C directly (the shortest paths)"
else
	jg_notok "ring: A reaches B and C directly"
fi
looped=
for n in ring-a ring-b ring-c; do
	site_curl "$n" /v1/routes | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(any(d["gateway"] in r["path"] for r in d["routes"]))' || looped="$looped $n"
done
if [ -z "$looped" ]; then
	jg_ok "ring: no gateway holds a path through itself"
else
	jg_notok "ring: no gateway holds a path through itself (looped:$looped)"
fi
before=$(site_link_stat ring-a ring-c streams_total)
got=$(site_cli ring-a exec ring-c/local -- sh -c "$ppid_prog" </dev/null 2>/dev/null) || true
after=$(site_link_stat ring-a ring-c streams_total)
if [ "$got" = "$(site_pid ring-c)" ] && [ "$after" = $((before + 1)) ]; then
	jg_ok "ring: exec on ring-c takes the direct link"
else
	jg_notok "ring: exec on ring-c takes the direct link (ran under '$got', streams $before -> $after)"
fi
kill -KILL "$relay"
wait "$relay" 2>/dev/null || true
jg_untrack relay
if site_wait_route ring-a ring-c 'up ring-b ring-b,ring-c' $((2 * KA + 5)); then
	jg_ok "ring: A->C cut: A's route to ring-c goes through ring-b"
else
	jg_notok "ring: A->C cut: A's route to ring-c goes through ring-b"
fi
before=$(site_link_stat ring-a ring-b streams_total)
got=$(site_cli ring-a exec ring-c/local -- sh -c "$ppid_prog" </dev/null 2>"$JG_T/ring.err") || true
after=$(site_link_stat ring-a ring-b streams_total)
if [ "$got" = "$(site_pid ring-c)" ] && [ "$after" = $((before + 1)) ]; then
	jg_ok "ring: exec on ring-c now goes through ring-b"
else
	jg_notok "ring: exec on ring-c now goes through ring-b ('$got', $before -> $after, $(head -c 200 "$JG_T/ring.err"))"
fi
for n in ring-a ring-b ring-c; do site_kill "$n" TERM; done

# Nothing crashed on the way (sanitizer builds report into the logs).
if grep -l 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$JG_T"/*/log 2>/dev/null; then
	jg_notok "no sanitizer report in the gateways' logs"
else
	jg_ok "no sanitizer report in the gateways' logs"
fi
JG_GW_LOG=$JG_T/site-a/log
jg_done
