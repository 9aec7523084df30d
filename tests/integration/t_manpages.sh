#!/bin/bash
# Man pages (issue 17): jumpgate(1), jumpgated(8) and jumpgated.conf(5) render
# with `groff -ww` and `man -l` without a warning, jumpgated.conf(5) names every
# key the configuration parser accepts (config/*.c), and jumpgated(8) covers
# what --help says about certificates and SIGHUP.
. "$(dirname "$0")/lib.sh"
jg_require groff man
JG_T=$(mktemp -d "${TMPDIR:-/tmp}/jg-$JG_NAME.XXXXXX")
trap 'rm -rf "$JG_T"' EXIT

for page in jumpgate.1 jumpgated.8 jumpgated.conf.5; do
	f=$srcdir/docs/$page
	if [ ! -s "$f" ]; then
		jg_notok "docs/$page exists"
		continue
	fi
	groff -ww -man -Tutf8 -z "$f" >"$JG_T/groff.err" 2>&1 || true
	if [ -s "$JG_T/groff.err" ]; then
		jg_notok "groff -ww renders $page without a warning"
		jg_show "$JG_T/groff.err" 10
	else
		jg_ok "groff -ww renders $page without a warning"
	fi
	MANWIDTH=80 man --warnings=w -l "$f" >"$JG_T/man.out" 2>"$JG_T/man.err" || true
	if [ -s "$JG_T/man.err" ] || [ ! -s "$JG_T/man.out" ]; then
		jg_notok "man -l renders $page without a warning"
		jg_show "$JG_T/man.err" 10
	else
		jg_ok "man -l renders $page without a warning"
	fi
done

# Every key: `strcmp(name, "KEY")` in the parsers, and the method option table.
keys=$(grep -ohE 'strcmp\((n|name|key|k), "[a-z_]+"\)|^ *\{"[a-z_]+",' "$srcdir"/config/*.c |
	grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
missing=
for k in $keys; do
	grep -qE "(\\\\fB$k\\\\fR|^\\.BR? $k( |\$))" "$srcdir/docs/jumpgated.conf.5" || missing="$missing $k"
done
if [ -n "$keys" ] && [ -z "$missing" ]; then
	jg_ok "jumpgated.conf(5) names all $(echo "$keys" | wc -w) configuration keys"
else
	jg_notok "jumpgated.conf(5) names every configuration key (missing:$missing)"
fi

# jumpgated(8) says what jumpgated --help says about the cert commands and SIGHUP.
for word in 'cert issue' 'cert revoke' 'cert list' 'cert crl' SIGHUP 'jumpgated.conf'; do
	jg_check "jumpgated(8) mentions $word" grep -q "$word" "$srcdir/docs/jumpgated.8"
done
jg_done
