#!/bin/bash
# Regenerate docs/jumpgated.8 from `jumpgated --help` (run from a build
# directory: scripts/man-jumpgated.sh ./jumpgated > ../docs/jumpgated.8).
# Upper-case lines become sections; the text stays as it is (.nf).
set -euo pipefail
bin=${1:-./jumpgated}
printf '.\\" Generated from the --help texts of jumpgated %s; edit those, not this file.\n' \
	"$("$bin" --version | awk '{ print $2 }')"
printf '.TH JUMPGATED 8 "" "jumpgate %s" "jumpgate"\n' "$("$bin" --version | awk '{ print $2 }')"
"$bin" --help | awk '
	BEGIN { first = 1 }
	/^[A-Z][A-Z ]+$/ { if (!first) print ""; first = 0; blank = 0; print ".SH " $0; print ".nf"; next }
	/^$/ { blank = 1; next }
	{ if (blank) { print ""; blank = 0 } sub(/^    /, ""); print }'
printf '.fi\n\n.SH SEE ALSO\n'
printf 'jumpgated.conf(5), jumpgate(1); docs/api.md, docs/operations.md, docs/protocol.md and config/jumpgated.conf.example in the source tree\n'
