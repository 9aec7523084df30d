# Helpers of the latency benchmarks (sourced by tests/bench/bench_*.sh).

# stats FILE: "median p95 mean" in ms from microsecond samples, one per line.
stats() {
	sort -n "$1" | awk '{ a[NR] = $1; s += $1 }
		END {
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			i = int(NR * 0.95 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
			printf "%.2f %.2f %.2f\n", m / 1000, a[i] / 1000, s / NR / 1000
		}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# lat NAME RUNS WARMUP COMMAND...: time each run of COMMAND (stdin /dev/null,
# stdout /dev/null) into $JG_T/NAME.us; a failed run is counted in FAILS.
lat() {
	local name=$1 runs=$2 warm=$3 i t0 t1
	shift 3
	: >"$JG_T/$name.us"
	FAILS=0
	for ((i = 0; i < warm; i++)); do "$@" </dev/null >/dev/null 2>&1 || true; done
	for ((i = 0; i < runs; i++)); do
		t0=${EPOCHREALTIME/./}
		"$@" </dev/null >/dev/null 2>"$JG_T/$name.err" || FAILS=$((FAILS + 1))
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$JG_T/$name.us"
	done
	[ "$FAILS" = 0 ] || { echo "WARNING: $name: $FAILS of $runs runs failed:" >&2; head -n 3 "$JG_T/$name.err" >&2; }
}

# cm_start PATH PORT HOST: an ssh ControlMaster ("${SSH[@]}" -M) to HOST:PORT at control
# path PATH, in the foreground of a background job (tracked, stopped by PID);
# returns once it answers -O check (at most 10 s; 1 otherwise, log in PATH.log).
cm_start() {
	local cm=$1 port=$2 host=$3 deadline
	"${SSH[@]}" -M -N -o ControlPath="$cm" -o ControlPersist=no -p "$port" "$host" \
		</dev/null >"$cm.log" 2>&1 &
	jg_track "controlmaster-${cm##*/}" $!
	deadline=$((SECONDS + 10))
	until "${SSH[@]}" -o ControlPath="$cm" -O check -p "$port" "$host" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}
