#!/bin/bash
# 200 SIGHUP reloads of a large configuration (500 inventory targets and a
# linked site) leave the gateway's memory flat: a replaced configuration is
# freed once nothing refers to it, instead of kept until exit.  An exec
# started before the reloads stays alive across them and still finishes
# correctly (its stdin sent only after the last reload); a site link whose
# reload failed keeps the older configuration it uses; the target the last
# file added works; no sanitizer report (the suite's ASan build runs this
# too: a configuration freed while still in use would show up there).
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki

RELOADS=${JG_RELOADS:-200}
WARMUP=10
NTARGETS=500
# ASan's quarantine of freed memory would read as growth: small for this gateway.
jg_asan_quarantine 1

# targets N: N inventory entries, each with the options that make a struct big.
targets() {
	local i
	printf 'targets = (\n  { name = "local"; method = "local"; }'
	for ((i = 1; i <= $1; i++)); do
		printf ',\n  { name = "host%04d"; method = "ssh"; host = "127.0.%d.%d"; ' \
			"$i" $((i / 250)) $((i % 250 + 1))
		printf 'user = "deploy%d"; port = 2222; identity_file = "/nonexistent/id_%d"; ' "$i" "$i"
		printf 'ssh_args = [ "-o", "Ciphers=aes128-ctr" ]; }'
	done
	printf '\n);\n'
}
# A linked site holds its entry of the configuration for as long as the link lives;
# nobody listens on its port, so the link keeps retrying across the reloads.
site_port=$(jg_free_port)
JG_CONF_EXTRA="$(targets $NTARGETS)
sites = ( { name = \"peer\"; address = \"127.0.0.1:$site_port\"; ca = \"$JG_PKI/ca.pem\";
	cert = \"$JG_PKI/client.pem\"; key = \"$JG_PKI/client.key\"; } );"
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts with $NTARGETS targets and a linked site ($(wc -c <"$JG_CONF") bytes of configuration)"

# reload: one SIGHUP, then wait (bounded) for its "SIGHUP: reloaded" line.  One at a
# time: signals that arrive together are delivered once.
reloads_done=0
reload() {
	local deadline=$((SECONDS + 20)) n
	kill -HUP "$JG_GW_PID"
	while [ $SECONDS -lt $deadline ]; do
		n=$(grep -c 'SIGHUP: reloaded' "$JG_GW_LOG" || true)
		if [ "$n" -gt "$reloads_done" ]; then
			reloads_done=$n
			return 0
		fi
		sleep 0.02
	done
	return 1
}
# reload_n N: N reloads; 0 when every one was logged.
reload_n() {
	local i
	for ((i = 0; i < $1; i++)); do reload || return 1; done
}

reload_n $WARMUP || jg_notok "warm-up reloads logged"
sleep 0.3
base_rss=$(jg_rss_kb "$JG_GW_PID")

# A long operation: alive across every reload, its input sent only after them.
fifo=$JG_T/stdin.fifo
mkfifo "$fifo"
exec 7<>"$fifo"
jg_exec sh -c 'read line; echo "got $line"' <"$fifo" >"$JG_T/long.out" 2>"$JG_T/long.err" 7>&- &
long=$!
jg_track long "$long"
jg_wait_descendant "$JG_GW_PID" sh 20 || jg_notok "the long exec runs before the reloads"

start=$SECONDS
if reload_n "$RELOADS"; then
	jg_ok "$RELOADS reloads, each logged ($((SECONDS - start)) s)"
else
	jg_notok "$RELOADS reloads, each logged (stopped after $reloads_done)"
fi
sleep 0.3
end_rss=$(jg_rss_kb "$JG_GW_PID")

# One configuration of this size costs about 0.25 MiB; kept after every reload they
# would add ~50 MiB.  Freed, the heap reuses their memory: allow 8 MiB of noise.
growth=$((end_rss - base_rss))
if [ "$growth" -lt 8192 ]; then
	jg_ok "RSS flat over $RELOADS reloads: $base_rss kB -> $end_rss kB (growth $growth kB)"
else
	jg_notok "RSS flat over $RELOADS reloads: $base_rss kB -> $end_rss kB (growth $growth kB, limit 8192 kB)"
fi

printf 'after-the-reloads\n' >&7
exec 7>&-
if wait "$long" && [ "$(cat "$JG_T/long.out")" = "got after-the-reloads" ]; then
	jg_ok "an exec alive across $RELOADS reloads finishes with its output"
else
	jg_notok "an exec alive across the reloads finishes (got '$(cat "$JG_T/long.out")': $(head -c 300 "$JG_T/long.err"))"
fi
jg_untrack long

# A link whose new settings are unusable (its client certificate an empty file) keeps
# its entry of an older configuration: that one stays alive for it through more
# reloads (ASan would see a use after free here), and is let go once the link follows a
# usable file again.
: >"$JG_T/empty.pem"
cp "$JG_CONF" "$JG_T/usable.conf"
sed -i "s|cert = \"$JG_PKI/client.pem\"|cert = \"$JG_T/empty.pem\"|" "$JG_CONF"
kept=$(grep -c 'the link to peer keeps its running settings' "$JG_GW_LOG" || true)
reload_n 5 || true
stats=$(jg_curl /v1/stats 2>&1) || true
if [ "$(grep -c 'the link to peer keeps its running settings' "$JG_GW_LOG" || true)" -eq $((kept + 5)) ] &&
	printf '%s' "$stats" | grep -q "\"address\": *\"127.0.0.1:$site_port\""; then
	jg_ok "a link whose reload failed 5 times keeps its older entry (/v1/stats names its address)"
else
	jg_notok "a link whose reload failed keeps its older entry ($(printf '%s' "$stats" | head -c 300))"
fi
cp "$JG_T/usable.conf" "$JG_CONF"
reload || true

# The last configuration serves: a new target, added to the file, works.
sed -i 's/{ name = "local"; method = "local"; }/&, { name = "extra"; method = "local"; }/' "$JG_CONF"
reload || true
out=$(jg_cli exec extra -- echo hi </dev/null 2>"$JG_T/extra.err") || true
if [ "$out" = hi ]; then
	jg_ok "after the reloads, a target the last file added works"
else
	jg_notok "after the reloads, a target the last file added works (got '$out': $(head -c 300 "$JG_T/extra.err"))"
fi

if jg_gateway_stop 10; then jg_ok "SIGTERM: exit 0"; else jg_notok "SIGTERM: exit 0 (status $JG_GW_STATUS)"; fi
jg_no_sanitizer_reports
jg_done
