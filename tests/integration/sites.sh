# Multi-site helpers, sourced by t_sites.sh and tests/bench/bench_sites.sh after lib.sh.
#
# Each site NAME is a real jumpgated with its own CA under $JG_T/NAME:
#   ca.pem/ca.key      the site's CA
#   server.pem/.key    its server certificate (127.0.0.1)
#   alice.pem/.key     a controller "alice" (CN) the site's CA signed
#   mallory.pem/.key   a controller "mallory"
#   peer-FROM.pem/.key the client certificate gateway FROM links here with
#                      (CN "gw-FROM"), signed by this site's CA
# and a port chosen once (kept across restarts, so peers find it again).

# site_init NAME...: the PKI and a port for each site.
site_init() {
	local n
	for n in "$@"; do
		mkdir -p "$JG_T/$n/state"
		jg_mkca "$JG_T/$n" "CA of $n"
		jg_mkcert "$JG_T/$n" server "127.0.0.1" \
			"subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth"
		jg_mkcert "$JG_T/$n" alice "alice" "extendedKeyUsage=clientAuth"
		jg_mkcert "$JG_T/$n" mallory "mallory" "extendedKeyUsage=clientAuth"
		eval "PORT_${n//-/_}=$(jg_free_port)"
	done
}

site_port() { local v="PORT_${1//-/_}"; printf '%s\n' "${!v}"; }

# site_link_entry FROM TO [KEEPALIVE]: the sites entry with which FROM links to TO
# (minting FROM's client certificate at TO).  SITE_ADDR_<TO> overrides the address
# (a TCP relay in between).  It may teach FROM any site (learn = [ "*" ]: chains
# of sites the test does not list); SITE_LEARN='"a", "b*"' narrows that, and
# SITE_LEARN=- leaves learn out (the default: configured sites only).
site_link_entry() {
	local from=$1 to=$2 ka=${3:-1} v addr learn=${SITE_LEARN-'"*"'}
	[ -e "$JG_T/$to/peer-$from.pem" ] ||
		jg_mkcert "$JG_T/$to" "peer-$from" "gw-$from" "extendedKeyUsage=clientAuth"
	v="SITE_ADDR_${from//-/_}_${to//-/_}"
	addr=${!v:-127.0.0.1:$(site_port "$to")}
	[ "$learn" = - ] && learn= || learn="learn = [ $learn ]; "
	printf '{ name = "%s"; address = "%s"; ca = "%s"; cert = "%s"; key = "%s"; keepalive_interval = %s; %s}' \
		"$to" "$addr" "$JG_T/$to/ca.pem" "$JG_T/$to/peer-$from.pem" "$JG_T/$to/peer-$from.key" "$ka" "$learn"
}

# site_trust_entry NAME: a sites entry knowing gateway NAME by its certificate and
# trusting its assertions.
site_trust_entry() {
	printf '{ name = "%s"; identity = "gw-%s"; trust_asserted_identity = true; }' "$1" "$1"
}

# site_config NAME SITES-ENTRIES [EXTRA]: NAME's configuration file.
site_config() {
	local n=$1 sites=$2 extra=${3:-}
	{
		printf 'listen = "127.0.0.1:%s";\n' "$(site_port "$n")"
		printf 'state_dir = "%s";\n' "$JG_T/$n/state"
		printf 'tls = { ca = "%s"; cert = "%s"; key = "%s"; };\n' \
			"$JG_T/$n/ca.pem" "$JG_T/$n/server.pem" "$JG_T/$n/server.key"
		printf 'log_level = "%s";\ndrain_timeout = 2;\n' "$JG_LOG_LEVEL"
		printf 'agent_path = "%s";\n' "$JUMPGATE_AGENT"
		printf 'gateway_name = "%s";\n' "$n"
		[ -z "$sites" ] || printf 'sites = ( %s );\n' "$sites"
		printf '%s\n' "$extra"
		case "$extra" in
		*policy*) ;;
		*) printf 'policy = ( { name = "all"; allow = true; } );\n' ;;
		esac
	} >"$JG_T/$n/jumpgated.conf"
}

# site_start NAME: start it (tracked as site-NAME) and wait for /healthz.
site_start() {
	local n=$1 pid deadline
	"$JUMPGATED" -f -c "$JG_T/$n/jumpgated.conf" >>"$JG_T/$n/log" 2>&1 </dev/null &
	pid=$!
	jg_track "site-$n" "$pid"
	eval "PID_${n//-/_}=$pid"
	deadline=$((SECONDS + 20))
	while [ $SECONDS -lt $deadline ]; do
		jg_alive "$pid" || { jg_show "$JG_T/$n/log" 20; return 1; }
		[ "$(site_curl "$n" /healthz -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# site_no_sanitizer_report: nothing crashed (sanitizer builds report into the logs).
site_no_sanitizer_report() {
	if grep -l 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$JG_T"/*/log 2>/dev/null; then
		jg_notok "no sanitizer report in the gateways' logs"
	else
		jg_ok "no sanitizer report in the gateways' logs"
	fi
}

site_pid() { local v="PID_${1//-/_}"; printf '%s\n' "${!v}"; }

# site_kill NAME [SIGNAL]: signal the gateway this test started (by PID), wait for it.
site_kill() {
	local pid
	pid=$(site_pid "$1")
	kill "-${2:-KILL}" "$pid" 2>/dev/null || true
	jg_wait_gone "$pid" 10 || true
	wait "$pid" 2>/dev/null || true
	jg_untrack "site-$1"
}

# site_curl NAME PATH CURL-ARGS... as alice (SITE_USER overrides).
site_curl() {
	local n=$1 path=$2 u=${SITE_USER:-alice}
	shift 2
	curl -sS --http2 --max-time "${JG_CURL_TIMEOUT:-30}" --cacert "$JG_T/$n/ca.pem" \
		--cert "$JG_T/$n/$u.pem" --key "$JG_T/$n/$u.key" "$@" \
		"https://127.0.0.1:$(site_port "$n")$path"
}

# site_cli NAME ARGS...: the jumpgate CLI against NAME as alice (SITE_USER overrides).
site_cli() {
	local n=$1 u=${SITE_USER:-alice}
	shift
	timeout "${JG_TIMEOUT:-120}" "$JUMPGATE" -g "127.0.0.1:$(site_port "$n")" \
		--cert "$JG_T/$n/$u.pem" --key "$JG_T/$n/$u.key" --ca "$JG_T/$n/ca.pem" "$@"
}

# site_route NAME SITE: "STATE NEXT_HOP PATH,..." of NAME's route to SITE ("none").
site_route() {
	site_curl "$1" /v1/routes 2>/dev/null | python3 -c '
import json, sys
site = sys.argv[1]
try:
    d = json.load(sys.stdin)
except Exception:
    print("none"); sys.exit(0)
for r in d.get("routes", []):
    if r["site"] == site:
        print(r["state"], r.get("next_hop") or "-", ",".join(r["path"]) or "-"); break
else:
    print("none")' "$2"
}

# site_wait_route NAME SITE WANT SECONDS: until site_route prints WANT (a glob).
site_wait_route() {
	local deadline=$((SECONDS + $4)) got
	while :; do
		got=$(site_route "$1" "$2")
		# shellcheck disable=SC2053
		[[ $got == $3 ]] && return 0
		[ $SECONDS -lt $deadline ] || { jg_log "route $1 -> $2: '$got', wanted '$3'"; return 1; }
		sleep 0.2
	done
}

# site_link_stat NAME PEER KEY: a number from NAME's /v1/stats link to PEER.
site_link_stat() {
	local stats
	# A failed GET says so and reads as -1, so a check fails with a reason rather than set -e
	# ending the test at an assignment.
	if ! stats=$(site_curl "$1" /v1/stats); then
		jg_log "GET /v1/stats on $1 failed"
		echo -1
		return 0
	fi
	printf '%s' "$stats" | python3 -c '
import json, sys
for l in json.load(sys.stdin).get("sites", []):
    if l["site"] == sys.argv[1]:
        print(l[sys.argv[2]]); break
else:
    print(-1)' "$2" "$3"
}

# site_delay_relay NAME LISTEN_PORT TARGET_PORT RTT_MS: a TCP relay on loopback that
# holds every chunk RTT_MS/2 in each direction (a link's round trip grows by RTT_MS),
# tracked as NAME.  For measuring under latency where tc's netem is not available;
# unlike netem it adds no loss and does not limit TCP's own window.
site_delay_relay() {
	local name=$1 listen=$2 target=$3 rtt=$4 pid deadline
	python3 - "$listen" "$target" "$rtt" >"$JG_T/$name.log" 2>&1 <<'PYEOF' &
import asyncio, sys
LISTEN, TARGET, HALF = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 2000.0
async def pipe(r, w):
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()
    async def writer():
        try:
            while True:
                due, b = await q.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not b:
                    break
                w.write(b)
                await w.drain()
        except Exception:
            pass
        w.close()
    task = asyncio.create_task(writer())
    try:
        while True:
            b = await r.read(262144)
            q.put_nowait((loop.time() + HALF, b))
            if not b:
                break
    except Exception:
        q.put_nowait((loop.time() + HALF, b""))
    await task
async def handle(r, w):
    try:
        r2, w2 = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        w.close()
        return
    await asyncio.gather(pipe(r, w2), pipe(r2, w))
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PYEOF
	pid=$!
	jg_track "$name" "$pid"
	deadline=$((SECONDS + 10))
	while ! jg_port_in_use "$listen"; do
		[ $SECONDS -lt $deadline ] && jg_alive "$pid" || return 1
		sleep 0.1
	done
}
