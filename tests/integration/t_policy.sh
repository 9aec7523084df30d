#!/bin/bash
# Policy (issue 7): rules in the config, first match wins, default deny; a
# denial is 403 naming the rule, decided before anything is spawned (the
# gateway has no new child process), and audited.  Identities from the SAN
# URI; an expired and a revoked (CRL) client certificate are refused.
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
user=$(id -un)
P=$JG_PKI

# A small CA database for `openssl ca`: certificates with chosen dates, and a CRL.
touch "$P/index.txt"
echo 01 >"$P/serial"
echo 1000 >"$P/crlnumber"
cat >"$P/ca.cnf" <<EOC
[ca]
default_ca = CA_default
[CA_default]
database = $P/index.txt
serial = $P/serial
crlnumber = $P/crlnumber
new_certs_dir = $P
default_md = sha256
default_crl_days = 2
policy = pol
unique_subject = no
[pol]
commonName = supplied
EOC
# cacert NAME [openssl ca date options...]: NAME.pem/.key with SAN URI jumpgate:user:NAME.
cacert() {
	local name=$1
	shift
	printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=URI:jumpgate:user:%s\nextendedKeyUsage=clientAuth\n' \
		"$name" >"$P/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$P/$name.key" -out "$P/$name.csr" -subj "/CN=$name" 2>>"$P/openssl.log"
	openssl ca -batch -config "$P/ca.cnf" -keyfile "$P/ca.key" -cert "$P/ca.pem" "$@" \
		-extfile "$P/$name.ext" -in "$P/$name.csr" -out "$P/$name.pem" >>"$P/openssl.log" 2>&1
	chmod 600 "$P/$name.key"
}
cacert mallory -days 2
cacert ops-ann -days 2
cacert expired -startdate 20200101000000Z -enddate 20200102000000Z
cacert revoked -days 2
openssl ca -config "$P/ca.cnf" -keyfile "$P/ca.key" -cert "$P/ca.pem" -revoke "$P/revoked.pem" >>"$P/openssl.log" 2>&1
openssl ca -config "$P/ca.cnf" -keyfile "$P/ca.key" -cert "$P/ca.pem" -gencrl -out "$P/ca.crl" >>"$P/openssl.log" 2>&1
for f in mallory ops-ann expired revoked; do
	[ -s "$P/$f.pem" ] || { jg_notok "openssl ca made $f.pem"; jg_show "$P/openssl.log" 20; jg_done; }
done
[ -s "$P/ca.crl" ] || { jg_notok "openssl ca made a CRL"; jg_done; }

mkdir -p "$JG_T/srv"
JG_CONF_EXTRA="identity = \"san-uri\";
crl = \"$P/ca.crl\";
audit = \"$JG_T/audit.log\";
policy = (
  { name = \"no-mallory\"; identities = [ \"jumpgate:user:mallory\" ]; allow = false; },
  { name = \"ops\"; identities = [ \"jumpgate:user:ops-*\" ]; targets = [ \"local\" ];
    actions = [ \"exec\", \"put\", \"get\" ]; commands = [ \"echo\", \"true\" ];
    paths = [ \"$JG_T/srv/\" ]; allow = true; },
  { name = \"tester\"; identities = [ \"jumpgate:user:$user\" ]; allow = true; }
);"
jg_gateway_start || { jg_notok "gateway starts with a policy"; jg_done; }
jg_ok "gateway starts with identity, crl, audit and policy"

children() { { pgrep -P "$JG_GW_PID" || true; } | wc -l; }
as() { # as NAME CMD...: run with NAME's certificate
	local name=$1
	shift
	JG_CERT=$P/$name.pem JG_KEY=$P/$name.key "$@"
}

# 1. A denied identity: 403 naming the rule, and no child process.
before=$(children)
out=$(as mallory jg_cli exec local -- true </dev/null 2>&1) && st=0 || st=$?
after=$(children)
jg_log "mallory: status $st: $out"
if [ $st -ne 0 ] && printf '%s' "$out" | grep -q 'denied by rule "no-mallory"'; then
	jg_ok "denied identity: refused, the reason names rule \"no-mallory\""
else
	jg_notok "denied identity: refused naming rule \"no-mallory\" (status $st: $out)"
fi
[ "$before" = "$after" ] && jg_ok "denied identity: no child process created ($before before, $after after)" ||
	jg_notok "denied identity: no child process created ($before before, $after after)"
code=$(as mallory jg_curl /v1/stats -o "$JG_T/d.body" -w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 403 ] && grep -q '"error": *"forbidden"' "$JG_T/d.body" &&
	grep -q 'denied by rule \\"no-mallory\\"' "$JG_T/d.body"; then
	jg_ok "denied identity: GET /v1/stats is 403 {\"error\":\"forbidden\",\"reason\":...}"
else
	jg_notok "denied identity: /v1/stats 403 forbidden (got $code: $(head -c 300 "$JG_T/d.body"))"
fi

# 2. A command outside the allow-list: "ops" does not match, nothing else does.
before=$(children)
out=$(as ops-ann jg_cli exec local -- id </dev/null 2>&1) && st=0 || st=$?
after=$(children)
if [ $st -ne 0 ] && printf '%s' "$out" | grep -q 'no rule matched'; then
	jg_ok "command outside the allow-list: refused (no rule matched)"
else
	jg_notok "command outside the allow-list: refused (status $st: $out)"
fi
[ "$before" = "$after" ] && jg_ok "command outside the allow-list: nothing spawned" ||
	jg_notok "command outside the allow-list: nothing spawned ($before -> $after)"
out=$(as ops-ann jg_cli exec local -- echo allowed </dev/null 2>&1) || true
[ "$out" = allowed ] && jg_ok "command inside the allow-list runs" ||
	jg_notok "command inside the allow-list runs (got: $out)"

# 3. A target outside policy.
out=$(as ops-ann jg_cli exec "ssh:127.0.0.1" -- echo x </dev/null 2>&1) && st=0 || st=$?
if [ $st -ne 0 ] && printf '%s' "$out" | grep -q 'no rule matched'; then
	jg_ok "target outside policy: refused"
else
	jg_notok "target outside policy: refused (status $st: $out)"
fi

# 4. Paths: inside the prefix works, outside is 403.
echo data >"$JG_T/up.txt"
code=$(as ops-ann jg_curl "/v1/targets/local/files$JG_T/srv/a.txt" -T "$JG_T/up.txt" \
	-o "$JG_T/p1.body" -w '%{http_code}' 2>/dev/null) || true
[ "$code" = 200 ] && jg_ok "put inside the path prefix: 200" ||
	jg_notok "put inside the path prefix: 200 (got $code: $(head -c 300 "$JG_T/p1.body"))"
code=$(as ops-ann jg_curl "/v1/targets/local/files$JG_T/up.txt" -o "$JG_T/p2.body" \
	-w '%{http_code}' 2>/dev/null) || true
if [ "$code" = 403 ] && grep -q 'no rule matched' "$JG_T/p2.body"; then
	jg_ok "get outside the path prefix: 403 no rule matched"
else
	jg_notok "get outside the path prefix: 403 (got $code: $(head -c 300 "$JG_T/p2.body"))"
fi
code=$(as ops-ann jg_curl "/v1/targets/local/files$JG_T/srvx/a.txt" -T "$JG_T/up.txt" \
	-o /dev/null -w '%{http_code}' 2>/dev/null) || true
[ "$code" = 403 ] && jg_ok "put beside the prefix (srvx): 403" || jg_notok "put beside the prefix (srvx): 403 (got $code)"
code=$(as ops-ann jg_curl /v1/targets/local/reset -X POST -o "$JG_T/r.body" \
	-w '%{http_code}' 2>/dev/null) || true
[ "$code" = 403 ] && jg_ok "reset (an action outside the rule): 403" || jg_notok "reset: 403 (got $code)"

# 5. The tester's own identity (SAN URI) may do everything.
out=$(jg_exec echo hello </dev/null 2>&1) || true
[ "$out" = hello ] && jg_ok "identity from the SAN URI: tester allowed" || jg_notok "tester allowed (got: $out)"

# 6. Expired and revoked certificates fail the handshake; the log says why.
for who in expired revoked; do
	code=$(as $who jg_curl /healthz -o /dev/null -w '%{http_code}' 2>/dev/null) || true
	[ "$code" = 000 ] && jg_ok "$who certificate: handshake refused" ||
		jg_notok "$who certificate: handshake refused (got $code)"
done
sleep 0.3
grep -q 'rejected: certificate has expired' "$JG_GW_LOG" && jg_ok "log names the expiry" ||
	{ jg_notok "log names the expiry"; jg_show "$JG_GW_LOG" 20; }
grep -q 'rejected: certificate revoked' "$JG_GW_LOG" && jg_ok "log names the revocation" ||
	jg_notok "log names the revocation"
# The client's hint names the expiry or the revocation, not the CA.
for who in expired revoked; do
	err=$(as $who jg_cli exec local -- true </dev/null 2>&1) || true
	case $who in expired) want="it has expired" ;; revoked) want="it has been revoked" ;; esac
	if printf '%s' "$err" | grep -q "$want" && ! printf '%s' "$err" | grep -q "signed by"; then
		jg_ok "$who certificate: the client says so ($err)"
	else
		jg_notok "$who certificate: the client says so, not 'signed by the CA?' ($err)"
	fi
done

# 7. Denials are audited: start and end with outcome "denied" and the rule.
if python3 - "$JG_T/audit.log" <<'EOP'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
den = [l for l in lines if l.get("outcome") == "denied"]
ids = {l["op"] for l in den}
starts = {l["op"] for l in lines if l["event"] == "start"}
assert den and ids <= starts, (den, starts)
assert any('no-mallory' in l["reason"] and l["identity"] == "jumpgate:user:mallory" for l in den)
assert any(l.get("argv") == ["id"] for l in den)
EOP
	jg_ok "denials are audited (start + end, outcome denied, the rule named)"
else
	jg_notok "denials are audited"
	jg_show "$JG_T/audit.log" 20
fi

jg_gateway_stop && jg_ok "gateway stops cleanly" || jg_notok "gateway stops cleanly (status $JG_GW_STATUS)"
jg_done
