#!/usr/bin/env bash
# The web console with a large library: loads NIMBUS_BENCH_ASSETS (default 10,000) small images
# through the Upload API, then measures the library page: server time (time to first byte,
# p50/p99 of 30 requests) and, in Debian's Chromium, the first contentful paint, the page's
# bytes and requests (tests/browser's playwright-core).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ASSETS=${NIMBUS_BENCH_ASSETS:-10000}
OUT=${NIMBUS_BENCH_OUT:-$ROOT/bench/out}/console-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
WORK=$(mktemp -d -t nimbus-bench-console-XXXXXX)
trap 'stop_nimbus; rm -rf "$WORK"' EXIT

need_tool chromium chromium >/dev/null
(cd "$ROOT/tests/browser" && [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund --silent)
ensure_python
build_nimbus
start_nimbus "$WORK"
python3 "$BENCH_DIR/console_load.py" "$NIMBUS_BENCH_BASE" "$BENCH_CLOUD" "$BENCH_KEY" "$BENCH_SECRET" "$ASSETS" | tee "$OUT/load.txt"
printf '%s\n' 'bench password 1' | "$NIMBUS_BIN" admin user create bench@example.org --role viewer --cloud "$BENCH_CLOUD" \
  --password-stdin --data-dir "$NIMBUS_DATA" >/dev/null
NODE_PATH="$ROOT/tests/browser/node_modules" node "$BENCH_DIR/console_render.js" "$NIMBUS_BENCH_BASE" "$BENCH_CLOUD" \
  bench@example.org 'bench password 1' | tee "$OUT/render.txt"
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "nimbus: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
  cat "$OUT/load.txt" "$OUT/render.txt"
} >"$OUT/summary.txt"
blog "results in $OUT/summary.txt"
