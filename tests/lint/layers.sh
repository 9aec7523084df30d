#!/bin/sh
# The gateway's layers stay layered (DESIGN.md, "the gateway's layers"): a request
# flows down once, edge -> admission -> ops -> pump -> onward, with sites beside
# onward, and no file of a lower layer includes a header of a higher one.  A layer is
# a folder of gateway/; what sits in gateway/ itself is the service glue (main,
# systemd notify, metrics, certificates, memory trimming), which may include any
# layer.  The layers may include, of the glue, only its leaf headers (LEAF below),
# and those include no layer header (the context's map of onward connections is a
# relay/keymap.h, a protocol core).  Where a lower layer must reach up, it is given a callback table
# (suffix _cbs) at construction instead of including the higher header: the
# request's stream (gateway/stream.h, jg_stream_cbs, filled by the edge) and the
# admitted request (gateway/admitted.h, jg_admit_cbs, filled by admission) are
# such leaf headers.
#
# Usage: layers.sh   (srcdir from the environment, else the script's tree)
# Exit 0 when layered, 1 with one line per offending include.
set -u
root=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

LEAF="gateway.h stream.h admitted.h metrics.h memtrim.h sdnotify.h"

rank() {
	case $1 in
	edge) echo 1 ;;
	admission) echo 2 ;;
	ops) echo 3 ;;
	pump) echo 4 ;;
	onward | sites) echo 5 ;;
	*) echo 0 ;;
	esac
}

cd "$root" || exit 1
[ -f gateway/gateway.h ] || { echo "layers.sh: no gateway/ under $root" >&2; exit 1; }
bad=0
for f in gateway/*.[ch] gateway/*/*.[ch]; do
	case $f in
	gateway/*/*) from=${f#gateway/}; from=${from%%/*} ;;
	*) from=service ;;
	esac
	rf=$(rank "$from")
	for inc in $(sed -n 's|^#include "gateway/\([^"]*\)".*|\1|p' "$f"); do
		case $inc in
		*/*) to=${inc%%/*} ;;
		*) to=service ;;
		esac
		[ "$to" = "$from" ] && continue
		if [ "$from" = service ]; then
			# The glue may include any layer; its leaf headers only the pool's map.
			case " $LEAF " in
			*" ${f#gateway/} "*)
				echo "$f: includes gateway/$inc: a leaf header of the glue includes no layer"
				bad=1
				;;
			esac
			continue
		fi
		if [ "$to" = service ]; then
			case " $LEAF " in
			*" $inc "*) ;;
			*)
				echo "$f ($from): includes gateway/$inc, the service glue's (not a leaf header)"
				bad=1
				;;
			esac
			continue
		fi
		rt=$(rank "$to")
		if [ "$rt" -lt "$rf" ] || { [ "$rt" -eq "$rf" ] && [ "$to" != "$from" ]; }; then
			echo "$f ($from): includes gateway/$inc, a header of the $to layer, above or beside it"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "ok - gateway layers: no lower layer includes a higher one's header"
exit $bad
