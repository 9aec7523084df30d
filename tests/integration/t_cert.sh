#!/bin/bash
# Certificate lifecycle (issue 17, item 3): `jumpgated cert issue|revoke|list|crl`
# against a real gateway.  An issued certificate verifies with openssl and
# connects; a revoked one is refused by the running gateway within seconds (no
# signal); `cert list` shows both states; the CRL is renewed by the commands and
# by the gateway itself; an expired CRL is named as such on both sides instead
# of telling the client its certificate expired; a loose CA key is refused.
. "$(dirname "$0")/lib.sh"
jg_setup

# ---- the generated CA (no tls in the file), as a fresh install runs ----
JG_CONF_MODE=minimal
JG_CONF_EXTRA='log_level = "info";
drain_timeout = 2.0;
agent_path = "'"$JUMPGATE_AGENT"'";'
jg_gateway_start || { jg_notok "gateway starts with generated certificates"; jg_done; }
S=$JG_STATE
cert() { timeout 60 "$JUMPGATED" -c "$JG_CONF" cert "$@"; }
# as DIR NAME ARGS...: the CLI with DIR/NAME.pem
as() {
	local d=$1 n=$2
	shift 2
	timeout 60 "$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$d/$n.pem" --key "$d/$n.key" \
		--ca "$d/ca.pem" "$@"
}

# Generated certificates no longer last 10 years: the CA 5, the server a year.
if openssl x509 -in "$S/server.pem" -noout -checkend $((400 * 86400)) >/dev/null; then
	jg_notok "the generated server certificate ends within 400 days"
else
	jg_ok "the generated server certificate ends within 400 days"
fi
if openssl x509 -in "$S/ca.pem" -noout -checkend $((6 * 365 * 86400)) >/dev/null; then
	jg_notok "the generated CA ends within 6 years"
else
	jg_ok "the generated CA ends within 6 years"
fi

# ---- issue ----
if cert issue alice --days 3 --out "$JG_T/alice" >"$JG_T/issue.out" 2>&1; then
	jg_ok "cert issue alice"
else
	jg_notok "cert issue alice"
	jg_show "$JG_T/issue.out"
fi
jg_check "issue names the identity and the files" grep -q 'identity "alice"' "$JG_T/issue.out"
jg_check "openssl verify accepts the issued certificate" \
	openssl verify -CAfile "$JG_T/alice/ca.pem" "$JG_T/alice/alice.pem"
jg_check "the issued key is mode 0600" [ "$(stat -c %a "$JG_T/alice/alice.key")" = 600 ]
jg_check "the CA key is mode 0600" [ "$(stat -c %a "$S/ca.key")" = 600 ]
if openssl x509 -in "$JG_T/alice/alice.pem" -noout -checkend $((2 * 86400)) >/dev/null &&
	! openssl x509 -in "$JG_T/alice/alice.pem" -noout -checkend $((4 * 86400)) >/dev/null; then
	jg_ok "--days 3 gives a certificate ending in 3 days"
else
	jg_notok "--days 3 gives a certificate ending in 3 days"
fi
openssl x509 -in "$JG_T/alice/alice.pem" -noout -subject -ext subjectAltName >"$JG_T/alice.txt" 2>&1
jg_check "the certificate names alice in CN and SAN URI" \
	grep -q 'URI:jumpgate:user:alice' "$JG_T/alice.txt"
out=$(as "$JG_T/alice" alice exec local -- echo hello-alice 2>&1) || true
jg_check "alice's certificate connects and runs a command" [ "$out" = hello-alice ]
jg_check "the audit/log names the identity alice" grep -q 'alice' "$JG_GW_LOG"
cert issue bob --out "$JG_T/bob" >/dev/null 2>&1 || jg_notok "cert issue bob"
if cert issue alice --out "$JG_T/alice" >"$JG_T/again.out" 2>&1; then
	jg_notok "issuing over existing files is refused"
else
	jg_check "issuing over existing files is refused" grep -q 'exists already' "$JG_T/again.out"
fi
if cert issue 'bad/name' --out "$JG_T/x" >"$JG_T/bad.out" 2>&1; then
	jg_notok "a name with '/' is refused"
else
	jg_check "a name with '/' is refused" grep -q 'not allowed' "$JG_T/bad.out"
fi
if cert issue carol --days 0 >"$JG_T/days.out" 2>&1; then
	jg_notok "--days 0 is refused"
else
	jg_check "--days 0 is refused with the range" grep -q '1-3650' "$JG_T/days.out"
fi

# ---- list ----
cert list >"$JG_T/list1" 2>&1 || jg_notok "cert list runs"
jg_check "cert list shows alice valid" grep -Eq '^[0-9A-F]{20,} +alice +20[0-9-]+ [0-9:]+ UTC +valid$' "$JG_T/list1"
jg_check "cert list shows bob valid" grep -Eq ' bob .* valid$' "$JG_T/list1"
jg_check "cert list says there is no CRL yet" grep -q 'none yet' "$JG_T/list1"

# ---- revoke by name: the running gateway refuses alice within seconds ----
if cert revoke alice >"$JG_T/revoke.out" 2>&1; then
	jg_ok "cert revoke alice"
else
	jg_notok "cert revoke alice"
	jg_show "$JG_T/revoke.out"
fi
jg_check "openssl sees alice revoked in the CRL" bash -c \
	"openssl verify -crl_check -CRLfile '$S/crl.pem' -CAfile '$S/ca.pem' '$JG_T/alice/alice.pem' 2>&1 | grep -q 'certificate revoked'"
refused=0
for _ in $(seq 1 50); do
	if ! as "$JG_T/alice" alice exec local -- true >"$JG_T/alice.err" 2>&1; then
		refused=1
		break
	fi
	sleep 0.2
done
jg_check "the running gateway refuses alice after the revoke (no signal, within 10 s)" [ $refused = 1 ]
jg_check "alice is told her certificate was revoked" grep -q 'revoked' "$JG_T/alice.err"
jg_check "the gateway log says the CRL changed" grep -q 'crl.pem changed' "$JG_GW_LOG"
jg_check "the gateway log names the revocation" grep -q 'certificate revoked' "$JG_GW_LOG"
out=$(as "$JG_T/bob" bob exec local -- echo hello-bob 2>&1) || true
jg_check "bob still connects" [ "$out" = hello-bob ]
out=$(jg_cli exec local -- echo own 2>&1) || true
jg_check "the gateway's own client certificate still connects" [ "$out" = own ]

# ---- revoke by serial ----
serial=$(awk '$2 == "bob" { print $1 }' "$JG_T/list1")
cert revoke "$serial" >/dev/null 2>&1 || jg_notok "cert revoke SERIAL"
cert list >"$JG_T/list2" 2>&1
jg_check "cert list shows alice revoked" grep -Eq ' alice .* revoked$' "$JG_T/list2"
jg_check "cert list shows bob (revoked by serial) revoked" grep -Eq "^$serial +bob .* revoked$" "$JG_T/list2"
jg_check "cert list counts 2 revoked in the CRL" grep -q ': 2 revoked, next update' "$JG_T/list2"
if cert revoke nobody >"$JG_T/nobody.out" 2>&1; then
	jg_notok "revoking an unknown name fails"
else
	jg_check "revoking an unknown name fails and points at cert list" grep -q 'cert list' "$JG_T/nobody.out"
fi

# ---- a CRL near its end is renewed by the next issue, and by the gateway ----
nextupdate() { openssl crl -in "$1" -noout -nextupdate | sed 's/^nextUpdate=//'; }
mkcrl() { # mkcrl CADIR NEXTUPDATE OUT: a CRL of CADIR's CA with that nextUpdate (openssl ca)
	local d=$1 db=$JG_T/cadb
	rm -rf "$db" && mkdir -p "$db" && touch "$db/index.txt" && echo 1000 >"$db/crlnumber"
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\ndefault_md=sha256\n' \
		"$db" "$db" >"$db/ca.cnf"
	openssl ca -config "$db/ca.cnf" -keyfile "$d/ca.key" -cert "$d/ca.pem" -gencrl \
		-crl_nextupdate "$2" -out "$3" >>"$db/openssl.log" 2>&1
}
soon=$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)
mkcrl "$S" "$soon" "$JG_T/soon.crl" && cp "$JG_T/soon.crl" "$S/crl.pem"
cert issue dave --out "$JG_T/dave" >/dev/null 2>&1 || jg_notok "cert issue dave"
if [ "$(date -u -d "$(nextupdate "$S/crl.pem")" +%s)" -gt $(($(date +%s) + 20 * 86400)) ]; then
	jg_ok "cert issue renews a CRL with 1 day left"
else
	jg_notok "cert issue renews a CRL with 1 day left"
fi
cp "$JG_T/soon.crl" "$S/crl.pem"
kill -HUP "$JG_GW_PID"
renewed=0
for _ in $(seq 1 50); do
	grep -q 'SIGHUP: renewed the CRL' "$JG_GW_LOG" && { renewed=1; break; }
	sleep 0.1
done
jg_check "the gateway renews its own CA's CRL with 1 day left (SIGHUP)" [ $renewed = 1 ]

# ---- CA rotation (docs/security.md): old and new CA accepted side by side ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=jumpgate test CA 2" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign -keyout "$JG_T/ca2.key" -out "$JG_T/ca2.pem" \
	2>>"$JG_T/openssl.log"
chmod 600 "$JG_T/ca2.key"
mv "$S/ca.key" "$S/ca-old.key"
cat "$JG_T/ca2.pem" "$S/ca.pem" >"$S/ca.bundle" && mv "$S/ca.bundle" "$S/ca.pem"
cp "$JG_T/ca2.key" "$S/ca.key"
if cert crl >/dev/null 2>&1 && cert crl --ca-key "$S/ca-old.key" >/dev/null 2>&1; then
	jg_ok "rotation: a CRL for the new CA and one for the old"
else
	jg_notok "rotation: a CRL for the new CA and one for the old"
fi
jg_check "rotation: the CRL file holds both CRLs" [ "$(grep -c 'BEGIN X509 CRL' "$S/crl.pem")" = 2 ]
kill -HUP "$JG_GW_PID"
cert issue erin --out "$JG_T/erin" >/dev/null 2>&1 || jg_notok "rotation: cert issue erin"
jg_check "rotation: erin's certificate comes from the new CA" bash -c \
	"openssl x509 -in '$JG_T/erin/erin.pem' -noout -issuer | grep -q 'test CA 2'"
jg_check "rotation: erin gets the bundle of both CAs" [ "$(grep -c 'BEGIN CERT' "$JG_T/erin/ca.pem")" = 2 ]
both=0
for _ in $(seq 1 50); do
	a=$(as "$JG_T/erin" erin exec local -- echo new 2>/dev/null) || true
	b=$(as "$JG_T/dave" dave exec local -- echo old 2>/dev/null) || true
	[ "$a" = new ] && [ "$b" = old ] && { both=1; break; }
	sleep 0.2
done
jg_check "rotation: a certificate of the new CA and one of the old both connect" [ $both = 1 ]
cert revoke dave >"$JG_T/foreign.out" 2>&1 && jg_notok "rotation: revoking an old-CA certificate with the new key is refused" ||
	jg_check "rotation: revoking an old-CA certificate with the new key is refused" \
		grep -q 'revoke it with --ca-key' "$JG_T/foreign.out"
cert revoke dave --ca-key "$S/ca-old.key" >/dev/null 2>&1 || jg_notok "rotation: revoke dave with the old key"
cert revoke erin >/dev/null 2>&1 || jg_notok "rotation: revoke erin"
gone=0
for _ in $(seq 1 50); do
	if ! as "$JG_T/erin" erin exec local -- true >/dev/null 2>&1 &&
		! as "$JG_T/dave" dave exec local -- true >/dev/null 2>&1; then
		gone=1
		break
	fi
	sleep 0.2
done
jg_check "rotation: revoked in either CA's CRL, both are refused" [ $gone = 1 ]
cert list >"$JG_T/list3" 2>&1
jg_check "rotation: cert list shows dave (old CA) revoked" grep -Eq ' dave .* revoked$' "$JG_T/list3"
out=$(jg_cli exec local -- echo own 2>&1) || true
jg_check "rotation: the gateway's own certificate (old CA) still connects" [ "$out" = own ]

# ---- a loose CA key is refused ----
chmod 640 "$S/ca.key"
if cert list >"$JG_T/loose.out" 2>&1; then
	jg_notok "a CA key readable by the group is refused"
else
	jg_check "a CA key readable by the group is refused with chmod 600" grep -q 'chmod 600' "$JG_T/loose.out"
fi
chmod 600 "$S/ca.key"
jg_gateway_stop || jg_notok "gateway stops cleanly"

# ---- a configured CA whose CRL expired: named on both sides, then renewed ----
unset JG_CONF_MODE JG_CONF_EXTRA JG_STATE
jg_init_pki
mkcrl "$JG_PKI" 20200102000000Z "$JG_PKI/ca.crl"
JG_STATE=$JG_T/state2
JG_PORT=$(jg_free_port)
jg_write_config "$JG_T/nocrl.conf"
if timeout 60 "$JUMPGATED" -c "$JG_T/nocrl.conf" cert revoke alice >"$JG_T/nocrl.out" 2>&1; then
	jg_notok "with tls and no crl, revoke refuses (the gateway would not check it)"
else
	jg_check "with tls and no crl, revoke refuses and names the key to add" \
		grep -q 'add crl = ' "$JG_T/nocrl.out"
fi
JG_CONF_EXTRA="crl = \"$JG_PKI/ca.crl\";"
# The gateway cannot answer /healthz to our certificate: start it and wait for its log.
JG_PORT=$(jg_free_port)
JG_CONF=$JG_T/expired.conf
JG_GW_LOG=$JG_T/expired.log
JG_STATE=$JG_T/state2
jg_write_config "$JG_CONF"
"$JUMPGATED" -f -c "$JG_CONF" >"$JG_GW_LOG" 2>&1 </dev/null &
JG_GW_PID=$!
jg_track gateway "$JG_GW_PID"
for _ in $(seq 1 100); do
	grep -q 'listening on' "$JG_GW_LOG" 2>/dev/null && break
	sleep 0.1
done
jg_check "start: the log says the CRL expired and that every client is refused" \
	grep -q "start: the CRL $JG_PKI/ca.crl expired at 2020-01-02.*EVERY client" "$JG_GW_LOG"
jg_cli exec local -- true >"$JG_T/expired.err" 2>&1 || true
jg_check "the client is not told its own certificate expired" bash -c "! grep -q 'has expired' '$JG_T/expired.err'"
jg_check "the client is told the gateway could not check it (e.g. an expired CRL)" \
	grep -q 'could not check our client certificate.*expired CRL' "$JG_T/expired.err"
jg_check "the gateway log names the expired CRL at the handshake" \
	grep -q "refused: the gateway's CRL is unusable (CRL has expired)" "$JG_GW_LOG"
if timeout 60 "$JUMPGATED" -c "$JG_CONF" cert crl >"$JG_T/crl.out" 2>&1; then
	jg_ok "cert crl renews the configured CA's CRL (key beside tls.ca)"
else
	jg_notok "cert crl renews the configured CA's CRL (key beside tls.ca)"
	jg_show "$JG_T/crl.out"
fi
ok=0
for _ in $(seq 1 50); do
	out=$(jg_cli exec local -- echo back 2>/dev/null) || true
	[ "$out" = back ] && { ok=1; break; }
	sleep 0.2
done
jg_check "the running gateway takes the renewed CRL and lets the client in" [ $ok = 1 ]
jg_gateway_stop || jg_notok "gateway stops cleanly"

# ---- the identity in the form `identity` reads ----
for form in san-dns san-uri; do
	JG_CONF_MODE=minimal JG_STATE=$JG_T/state-$form JG_CONF_EXTRA="identity = \"$form\";" \
		jg_write_config "$JG_T/$form.conf"
	timeout 60 "$JUMPGATED" -c "$JG_T/$form.conf" cert issue carol --out "$JG_T/$form" \
		>"$JG_T/$form.out" 2>&1 || jg_notok "cert issue with identity = $form"
	openssl x509 -in "$JG_T/$form/carol.pem" -noout -ext subjectAltName >"$JG_T/$form.san" 2>&1 || true
done
jg_check "identity = san-dns: the certificate carries DNS:carol" grep -q 'DNS:carol' "$JG_T/san-dns.san"
jg_check "identity = san-uri: issue names the identity jumpgate:user:carol" \
	grep -q 'identity "jumpgate:user:carol"' "$JG_T/san-uri.out"
jg_done
