# Shared by the doubles in this directory (sourced, POSIX sh).
#
# A double stands in for a container tool whose server cannot run on a test
# machine (docker, kubectl, lxd's lxc; lxc-attach where LXC cannot start).
# Each one:
#   - appends its argv to $JG_DOUBLE_LOG: a line "=== TOOL $0", one line per
#     argument, a line "=== end" (arguments never hold a newline here: the
#     bootstrap stub is one line);
#   - checks the argv against the exact shape docs/methods.md gives for its
#     method, names included (the allow-list of target specs), and on any
#     mismatch prints "double: unexpected argv: ..." on stderr and exits 2;
#   - for a container or pod named "missing" prints the real tool's
#     not-found message and exits as the tool does;
#   - otherwise runs the rest of the argv (the far side's command) here, with
#     HOME set to $JG_DOUBLE_HOME when that is set (the container's home: the
#     agent cache of the stub lands there, not in the caller's home).
# What runs is the test's own user on this machine: a double proves the argv
# and the plumbing of a chain, not the real tool.

double_argv=
for double_a in "$@"; do
	double_argv="$double_argv '$double_a'"
done

double_log() {
	[ -n "${JG_DOUBLE_LOG:-}" ] || return 0
	{
		printf '=== %s %s\n' "$DOUBLE_TOOL" "$0"
		for double_a in "$@"; do printf '%s\n' "$double_a"; done
		printf '=== end\n'
	} >>"$JG_DOUBLE_LOG"
}

# double_bad WHY: the argv is not what the spec says.
double_bad() {
	printf 'double: unexpected argv: %s:%s (%s)\n' "$DOUBLE_TOOL" "$double_argv" "$1" >&2
	exit 2
}

# double_name WHAT VALUE: VALUE follows the names allow-list of target specs.
double_name() {
	case $2 in
	'' | -* | .* | *[!A-Za-z0-9._-]*) double_bad "$1 \"$2\" is not an allowed name" ;;
	esac
}

# double_rest ARGV...: the far side's command, as a hop leaves it: the
# bootstrap stub `sh -c <stub> jumpgate-stub [ARGS...]`, or the next hop's
# tool (a chain), whose own double checks the rest.
double_rest() {
	[ $# -gt 0 ] || double_bad "no command after the container"
	case $1 in
	sh)
		[ $# -ge 4 ] && [ "$2" = -c ] && [ "$4" = jumpgate-stub ] ||
			double_bad "the command is not: sh -c <stub> jumpgate-stub [args]"
		case $3 in
		*'jumpgate-stub: hello'*) ;;
		*) double_bad "the sh -c script is not the bootstrap stub" ;;
		esac
		;;
	docker | kubectl | lxc | lxc-attach | sudo | su | doas | jumpgate-agent | */jumpgate-agent) ;;
	*) double_bad "the command is neither the stub nor a hop's tool: $1" ;;
	esac
}

# double_run ARGV...: run the far side's command here.
double_run() {
	[ -z "${JG_DOUBLE_HOME:-}" ] || { HOME=$JG_DOUBLE_HOME; export HOME; }
	exec "$@"
}
