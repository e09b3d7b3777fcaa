#!/usr/bin/env bash
# Imaging engine vs libvips on real photos (Debian's mate-backgrounds, 1.3 to 18 MP, fetched by
# bench/fetch-photos.sh): thumbnails to 300 px JPEG q80 and to 1000 px WebP, on 1 and 2
# threads, plus peak memory for the 18 MP photo. Both tools shrink on load.
#
#   NIMBUS_BENCH_ROUNDS   passes over the photo set for the JPEG task (default 3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${NIMBUS_BENCH_OUT:-$ROOT/bench/out}/imaging-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
command -v vipsthumbnail >/dev/null || { echo "imaging: vipsthumbnail not found (apt-get install libvips-tools)" >&2; exit 1; }
mapfile -t PHOTOS < <(bash "$ROOT/bench/fetch-photos.sh")
echo "[bench] cargo build --release -p nimbus-imaging --example thumbnail" >&2
(cd "$ROOT" && cargo build --release -q -p nimbus-imaging --example thumbnail)
BIN=$ROOT/target/release/examples/thumbnail
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(vipsthumbnail --vips-version | head -n1)"
  python3 "$ROOT/bench/imaging.py" "$BIN" "${PHOTOS[@]}" --rounds "${NIMBUS_BENCH_ROUNDS:-3}"
} | tee "$OUT/summary.txt"
echo "[bench] results in $OUT" >&2
