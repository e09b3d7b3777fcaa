#!/usr/bin/env bash
# Bulk update_metadata end to end on the embedded default (SQLite): 10,000 assets, a schema of
# 4 fields and 3 rules (a cascade), signed `metadata` calls of 1,000 public ids each, each
# asset run through the rules engine's full write path. For comparison, the same number of
# rows' metadata written straight into the same SQLite file (one transaction per 1,000 rows,
# no HTTP, no rules): the storage floor.
#
#   NIMBUS_BENCH_ASSETS   assets (default 10000)
#   NIMBUS_BENCH_ROUNDS   rounds over all assets (default 3; the median is reported)
#   plus the variables of bench/lib.sh (NIMBUS_BIN, NIMBUS_BENCH_NO_BUILD, NIMBUS_BENCH_OUT, ...)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ASSETS=${NIMBUS_BENCH_ASSETS:-10000}
ROUNDS=${NIMBUS_BENCH_ROUNDS:-3}
MB() { "$BPY" "$BENCH_DIR/metadata_bulk.py" "$@"; }

ensure_python
build_nimbus

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench-metadata.XXXXXX")
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/metadata-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
cleanup() {
  set +e
  stop_nimbus
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_nimbus "$WORK"
MB setup
blog "seeding $ASSETS assets"
MB seed "$ASSETS"
blog "update_metadata: $ASSETS assets, calls of 1000 ids, $ROUNDS rounds"
MB update "$ASSETS" --rounds "$ROUNDS" | tee "$OUT/nimbus.json"
stop_nimbus

blog "baseline: the same rows written straight to SQLite"
MB sqlite-baseline "$NIMBUS_DATA/catalog.db" "$ASSETS" --rounds "$ROUNDS" | tee "$OUT/baseline.json"

"$BPY" - "$OUT/nimbus.json" "$OUT/baseline.json" "$(machine_line)" <<'PY' | tee "$OUT/summary.txt"
import json, sys
n, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("Bulk update_metadata, %d assets, calls of %d ids, median of %d rounds" % (n["assets"], n["batch"], n["rounds"]))
print("machine: %s" % sys.argv[3])
print("nimbus:          %9.1f assets/s  (call of %d ids: %.1f ms median)" % (n["assets_per_s_median"], n["batch"], n["call_ms_median"]))
print("sqlite floor:    %9.1f assets/s  (same rows, direct UPDATEs, no HTTP, no rules)" % b["assets_per_s_median"])
print("ratio:           %9.2fx of the floor" % (n["assets_per_s_median"] / b["assets_per_s_median"]))
PY
blog "results in $OUT"
