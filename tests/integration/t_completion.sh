#!/bin/bash
# Bash completion for jumpgate (issue 17): `make install` puts it in
# $(datadir)/bash-completion/completions/jumpgate under DESTDIR; sourced in a
# plain bash it completes commands, global and per-command options, `help`
# topics, and target names asked from a real gateway with the global options
# already typed (run's comma lists too).
. "$(dirname "$0")/lib.sh"
jg_setup
jg_init_pki
COMP=$srcdir/client/completion/jumpgate

# ---------------------------------------------------------------- install

D=$JG_T/dest
if make -s -C "$builddir" install-dist_bashcompletionDATA DESTDIR="$D" prefix=/opt/jg \
	>"$JG_T/install.log" 2>&1 && cmp -s "$COMP" "$D/opt/jg/share/bash-completion/completions/jumpgate"; then
	jg_ok "make install: DESTDIR/PREFIX/share/bash-completion/completions/jumpgate"
else
	jg_notok "make install puts the completion under DESTDIR"
	jg_show "$JG_T/install.log" 10
	find "$D" -type f | head -n 5
fi

JG_CONF_EXTRA='targets = ( { name = "web1"; method = "local"; }, { name = "web2"; method = "local"; },
  { name = "db1"; method = "local"; } );'
jg_gateway_start || { jg_notok "gateway starts"; jg_done; }
jg_ok "gateway starts on 127.0.0.1:$JG_PORT"

# complete WORDS...: COMPREPLY, sorted, one line, for the last word being completed.
complete_words() {
	timeout 30 bash --norc --noprofile -c '
		. "$0"
		COMP_WORDS=("${@}")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_jumpgate
		[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$COMP" "$@"
}
G=("$JUMPGATE" -g "127.0.0.1:$JG_PORT" --cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA")

# want WHAT EXPECTED WORDS...
want() {
	local what=$1 expected=$2 got
	shift 2
	got=$(complete_words "$@")
	if [ "$got" = "$expected" ]; then
		jg_ok "$what: '$got'"
	else
		jg_notok "$what: got '$got', want '$expected'"
	fi
}
want "commands" "reset routes rsh run " jumpgate r
want "global options" "--ca --cert " jumpgate --c
want "run's options" "--fanout " jumpgate run --f
want "help topics" "targets " jumpgate help ta
want "targets from the gateway, with the global options typed" "web1 web2 " "${G[@]}" exec we
want "after the command's options" "db1 " "${G[@]}" exec -t -C /tmp d
want "run: the last element of a comma list" "web1,db1 web1,local web1,web1 web1,web2 " "${G[@]}" run web1,
want "nothing for the command after --" "" "${G[@]}" exec web1 -- zzjg-no-such
want "no gateway: no targets, no hang" "" "$JUMPGATE" -g 127.0.0.1:1 exec we
jg_done
