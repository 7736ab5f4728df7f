#!/usr/bin/env bash
# Train several configs side by side on one machine (one GPU shared by all), each fitted
# to the same wall-clock budget with --time-budget (its cosine schedule ends at the steps
# that fit, never more than the config's steps). This is how configs/gpu/*.json were run.
#
#   scripts/train_parallel.sh OUTDIR MINUTES CONFIG.json [CONFIG.json ...]
#
# Each CONFIG writes OUTDIR/NAME.pt (+ .state) and OUTDIR/NAME.log. If $COPY_TO is set,
# finished and in-progress checkpoints are copied there every 30 s (for machines whose
# results are collected from one folder).
set -u
if [ $# -lt 3 ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
out=$1; minutes=$2; shift 2
mkdir -p "$out"
pids=()
for cfg in "$@"; do
    name=$(basename "$cfg" .json)
    PYTHONUNBUFFERED=1 python3 -m scripts.train --config "$cfg" --out "$out/$name.pt" \
        --time-budget "$minutes" > "$out/$name.log" 2>&1 &
    pids+=($!)
done
copy() {
    [ -n "${COPY_TO:-}" ] || return 0
    for f in "$out"/*.pt; do [ -f "$f" ] && cp "$f" "$COPY_TO/$(basename "$f").part" && mv "$COPY_TO/$(basename "$f").part" "$COPY_TO/$(basename "$f")"; done
    return 0
}
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
    sleep "${POLL:-30}"
    copy
    for cfg in "$@"; do
        name=$(basename "$cfg" .json)
        printf '%s: %s\n' "$name" "$(tail -c 400 "$out/$name.log" | tr '\r' '\n' | grep -v '^\s*$' | tail -1 | cut -c1-150)"
    done
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
copy
for cfg in "$@"; do name=$(basename "$cfg" .json); echo "== $name"; grep -o '{"step[^}]*}' "$out/$name.log" | tail -3; grep -E "Error|error:" "$out/$name.log" | tail -3; done
exit $status
