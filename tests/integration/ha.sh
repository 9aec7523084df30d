# Helpers of the high-availability tests (t_ha_failover.sh, t_ha_haproxy.sh), sourced
# after lib.sh: two gateways with the same CA and policy, and loops of operations
# whose every outcome is recorded, so a test can say which failed, with what reason,
# which hung, and whether any ran twice.
#
# An op record, one line in $JG_T/ops-LABEL: "ID START_MS END_MS RC", with its stdout
# and stderr in $JG_T/op-LABEL-ID.out / .err.  Exec ops append their ID to
# $JG_T/marker on the target (the bastion: target local), so a count there is the
# number of times each really ran.

ha_ms() { date +%s%3N; }
# The bound on the first success after a gateway went away: the issue's 2 s, and more
# under the sanitizers, where every process runs several times slower.
if jg_sanitized; then HA_FIRST_MS=5000; else HA_FIRST_MS=2000; fi
# ha_le N MAX: N is set and at most MAX.
ha_le() { [ -n "$1" ] && [ "$1" -le "$2" ]; }

# ha_gateway NAME: start one more gateway (own state dir) and track it as NAME;
# HA_PORT_<NAME> and HA_PID_<NAME> are set.
ha_gateway() {
	local name=$1
	JG_STATE=$JG_T/state-$name
	jg_gateway_start || return 1
	jg_untrack gateway
	jg_track "$name" "$JG_GW_PID"
	printf -v "HA_PORT_$name" '%s' "$JG_PORT"
	printf -v "HA_PID_$name" '%s' "$JG_GW_PID"
	JG_GW_PID=
}

# ha_signal NAME SIGNAL: signal gateway NAME; HA_EVENT_MS is when.
ha_signal() {
	local pid
	pid=$(cat "$JG_T/pids/$1.pid")
	kill "-$2" "$pid"
	HA_EVENT_MS=$(ha_ms)
}

# ha_reap NAME: wait (10 s at most) for gateway NAME to exit; HA_ST is its status.
ha_reap() {
	local pid
	pid=$(cat "$JG_T/pids/$1.pid")
	HA_ST=0
	jg_wait_gone "$pid" 10 || true
	wait "$pid" 2>/dev/null || HA_ST=$?
	jg_untrack "$1"
}

# ha_cli GATEWAYS ARGS...: the CLI with -g GATEWAYS, each op bounded (a hang is rc 124).
ha_cli() {
	local gws=$1
	shift
	timeout "${HA_OP_TIMEOUT:-30}" "$JUMPGATE" -g "$gws" \
		--cert "$JG_CERT" --key "$JG_KEY" --ca "$JG_CA" "$@"
}

# ha_op LABEL ID GATEWAYS ARGS...: one recorded op.
ha_op() {
	local label=$1 id=$2 gws=$3 t0 rc
	shift 3
	t0=$(ha_ms)
	rc=0
	ha_cli "$gws" "$@" </dev/null >"$JG_T/op-$label-$id.out" 2>"$JG_T/op-$label-$id.err" || rc=$?
	printf '%s %s %s %s\n' "$id" "$t0" "$(ha_ms)" "$rc" >>"$JG_T/ops-$label"
}

# ha_exec_loop LABEL GATEWAYS FIRST COUNT: COUNT execs in turn, IDs FIRST..., each
# appending its ID to the marker, then sleeping a little (so a kill finds some running).
ha_exec_loop() {
	local label=$1 gws=$2 first=$3 count=$4 i
	for ((i = first; i < first + count; i++)); do
		ha_op "$label" "$i" "$gws" exec local -- \
			sh -c "echo $i >>'$JG_T/marker'; sleep ${HA_OP_SLEEP:-0.3}; echo done-$i"
	done
}

# ha_start_loops LABEL GATEWAYS N COUNT: N exec loops of COUNT ops at once, in the
# background (LABEL1..LABELN, IDs 1000.., 2000..), on a fresh marker.
ha_start_loops() {
	local label=$1 gws=$2 n=$3 count=$4 l
	: >"$JG_T/marker"
	HA_LOOPS=$n
	for ((l = 1; l <= n; l++)); do
		ha_exec_loop "$label$l" "$gws" $((l * 1000)) "$count" &
		jg_track "loop-$label$l" $!
	done
}

# ha_wait_loops LABEL [OTHER...]: wait (bounded) until the loops of ha_start_loops LABEL
# and the loops tracked as loop-OTHER have ended; LABEL's records are merged into one
# set, LABEL (ops-LABEL, op-LABEL-ID.*).
ha_wait_loops() {
	local label=$1 l f pid names=()
	shift
	for ((l = 1; l <= HA_LOOPS; l++)); do names+=("$label$l"); done
	for l in "${names[@]}" "$@"; do
		pid=$(cat "$JG_T/pids/loop-$l.pid")
		jg_wait_gone "$pid" 120 || jg_notok "loop $l ends"
		wait "$pid" 2>/dev/null || true
		jg_untrack "loop-$l"
	done
	: >"$JG_T/ops-$label"
	for l in "${names[@]}"; do
		cat "$JG_T/ops-$l" >>"$JG_T/ops-$label"
		for f in "$JG_T"/op-"$l"-*; do mv "$f" "${f/op-$l-/op-$label-}"; done
	done
}

# ha_cp_loop LABEL GATEWAYS FIRST COUNT: COUNT `cp --retry` of $JG_T/src into
# $JG_T/dst/f-ID.
ha_cp_loop() {
	local label=$1 gws=$2 first=$3 count=$4 i
	for ((i = first; i < first + count; i++)); do
		ha_op "$label" "$i" "$gws" cp --retry -q "$JG_T/src" "local:$JG_T/dst/f-$i"
	done
}

# ha_wait_ops LABEL N SECONDS: wait until N ops of LABEL are recorded.
ha_wait_ops() {
	local deadline=$((SECONDS + $3))
	while [ "$(cat "$JG_T/ops-$1" 2>/dev/null | wc -l)" -lt "$2" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# ha_judge_exec LABEL EVENT_MS WHAT: check the exec ops of LABEL:
#   - none hung (rc 124), each succeeded (0, "done-ID") or failed with a reason (255
#     and a "jumpgate:" line);
#   - none ran twice (its ID at most once in the marker; a success exactly once);
#   - every op started after EVENT_MS succeeded, the first within HA_FIRST_MS of it;
#   - with HA_ZERO_FAILED=1: no op failed at all.
ha_judge_exec() {
	local label=$1 event=$2 what=$3 id t0 t1 rc n bad=0 twice=0 late_fail=0 failed=0
	local first_ok= reasons=
	while read -r id t0 t1 rc; do
		n=$(grep -cx "$id" "$JG_T/marker" || true)
		[ "$n" -le 1 ] || { twice=$((twice + 1)); jg_log "op $id ran $n times"; }
		if [ "$rc" = 0 ] && [ "$(cat "$JG_T/op-$label-$id.out")" = "done-$id" ] &&
			[ "$n" = 1 ]; then
			if [ "$t0" -ge "$event" ] && [ -z "$first_ok" ]; then first_ok=$((t1 - event)); fi
			continue
		fi
		failed=$((failed + 1))
		if [ "$rc" = 255 ] && grep -q '^jumpgate: ' "$JG_T/op-$label-$id.err"; then
			reasons="$reasons | $id: $(head -n1 "$JG_T/op-$label-$id.err" | cut -c1-160)"
		else
			bad=$((bad + 1))
			jg_log "op $id: rc $rc, out '$(head -c 80 "$JG_T/op-$label-$id.out")'"
			jg_show "$JG_T/op-$label-$id.err" 5
		fi
		[ "$t0" -lt "$event" ] || late_fail=$((late_fail + 1))
	done <"$JG_T/ops-$label"
	n=$(wc -l <"$JG_T/ops-$label")
	[ -z "$reasons" ] || jg_log "$what: failed with a reason:$reasons"
	jg_check "$what: $n ops, each succeeded or failed with a reason, none hung ($bad bad)" \
		[ "$bad" = 0 ]
	jg_check "$what: none ran twice ($twice did)" [ "$twice" = 0 ]
	jg_check "$what: every op started after it succeeded ($late_fail failed)" \
		[ "$late_fail" = 0 ]
	jg_check "$what: first success within $((HA_FIRST_MS / 1000)) s of it (${first_ok:-none} ms)" \
		ha_le "$first_ok" "$HA_FIRST_MS"
	if [ "${HA_ZERO_FAILED:-0}" = 1 ]; then
		jg_check "$what: zero failed ops ($failed failed)" [ "$failed" = 0 ]
	fi
}

# ha_judge_cp LABEL WHAT: every `cp --retry` succeeded and its copy is whole.
ha_judge_cp() {
	local label=$1 what=$2 id t0 t1 rc bad=0 n
	while read -r id t0 t1 rc; do
		if [ "$rc" != 0 ] || ! cmp -s "$JG_T/src" "$JG_T/dst/f-$id"; then
			bad=$((bad + 1))
			jg_log "cp $id: rc $rc"
			jg_show "$JG_T/op-$label-$id.err" 5
		fi
	done <"$JG_T/ops-$label"
	n=$(wc -l <"$JG_T/ops-$label")
	jg_check "$what: all $n cp --retry succeeded with whole copies ($bad did not)" \
		[ "$bad" = 0 ]
}

# ha_kill_during_loops GATEWAYS NLOOPS WHAT: NLOOPS exec loops and a `cp --retry` loop
# through GATEWAYS, gateway a killed (-9) once they run; then judged (WHAT names it).
ha_kill_during_loops() {
	local gws=$1 n=$2 what=$3
	head -c 2000000 /dev/urandom >"$JG_T/src"
	mkdir -p "$JG_T/dst"
	ha_start_loops k "$gws" "$n" 14
	ha_cp_loop cp "$gws" 1 14 &
	jg_track loop-cp $!
	ha_wait_ops k1 4 60 || jg_notok "the exec loop runs"
	ha_signal a KILL
	ha_reap a
	ha_wait_loops k cp
	ha_judge_exec k "$HA_EVENT_MS" "$what: kill -9 of a during exec loops"
	ha_judge_cp cp "$what: kill -9 of a during a cp --retry loop"
}
