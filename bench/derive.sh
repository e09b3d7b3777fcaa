#!/usr/bin/env bash
# Uncached derivations end to end: every request asks for a new derivative (c_scale,w_N with
# a new N each time) of a real 4 MP photo, so each one decodes, resizes, encodes and stores.
# Reports requests/second over HTTP with 2 clients, beside the engine alone rendering the same
# photo on 2 threads (examples/thumbnail), so the ratio is what HTTP, the blob store and the
# catalog cost on top of the pixels.
#
#   NIMBUS_BENCH_REQUESTS  derivations per run (default 200)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REQUESTS=${NIMBUS_BENCH_REQUESTS:-200}
ensure_python
build_nimbus
(cd "$ROOT" && cargo build --release -q -p nimbus-imaging --example thumbnail)
PHOTO=$(bash "$BENCH_DIR/fetch-photos.sh" | grep -m1 '/Garden.jpg$')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench-derive.XXXXXX")
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/derive-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
cleanup() {
  set +e
  stop_nimbus
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_nimbus "$WORK"
URL=$(blib upload "$PHOTO" bench/garden)
TEMPLATE=$(sed 's#/image/upload/#/image/upload/c_scale,w_{n}/#' <<<"$URL")
blib derive-load "$TEMPLATE" --requests "$REQUESTS" --threads 2 | tee "$OUT/http.json"
"$ROOT/target/release/examples/thumbnail" --threads 2 --rounds $((REQUESTS / 4 > 0 ? REQUESTS / 4 : 1)) "$PHOTO" | tee "$OUT/engine.json"
"$BPY" - "$OUT/http.json" "$OUT/engine.json" "$(machine_line)" <<'PY' | tee "$OUT/summary.txt"
import json, sys
h, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("Uncached derivations of a 2560x1600 JPEG to ~300 px, 2 clients / 2 threads")
print("machine: %s" % sys.argv[3])
print("http (render + store + serve): %7.1f req/s  p50 %.1f ms  p99 %.1f ms" % (h["rps"], h["p50_ms"], h["p99_ms"]))
print("engine alone:                  %7.1f img/s" % e["images_per_s"])
print("http / engine:                 %7.2f" % (h["rps"] / e["images_per_s"]))
PY
