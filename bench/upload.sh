#!/usr/bin/env bash
# Upload throughput: 8 concurrent clients posting ~200 KB JPEGs (signed multipart Upload API
# requests over keep-alive connections) to Nimbus for 20 s, reporting uploads/s, MB/s and
# latency. For comparison it then runs a local baseline on the same bytes and thread count:
# MD5 + SHA-256 of each file, write to a new file, fsync — roughly what an upload must do at
# least — so the result says how close the server is to the disk+hash bound.
#
#   NIMBUS_BENCH_SECONDS   duration of each run (default 20)
#   NIMBUS_BENCH_CLIENTS   concurrent clients / baseline threads (default 8)
#   plus the variables of bench/lib.sh (NIMBUS_BIN, NIMBUS_BENCH_NO_BUILD, NIMBUS_BENCH_OUT, ...)
#
# The client is Python (threads + http.client) on the same 2-core machine as the server, so
# it takes some CPU from it (building each multipart body costs about one memory copy).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_PER_RUN=${NIMBUS_BENCH_SECONDS:-20}
CLIENTS=${NIMBUS_BENCH_CLIENTS:-8}

ensure_python
build_nimbus

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench-upload.XXXXXX")
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/upload-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
cleanup() {
  set +e
  stop_nimbus
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sixteen different ~200 KB photos-like JPEGs, so nothing can be served from a content cache.
mkdir -p "$WORK/in"
for i in $(seq 1 16); do blib jpeg "$WORK/in/img$i.jpg" 200000 "$i" >/dev/null; done
AVG=$(du -cb "$WORK"/in/*.jpg | tail -n 1 | awk '{printf "%d", $1/16}')
blog "16 JPEGs, $AVG bytes on average"

start_nimbus "$WORK"
blog "upload run: $CLIENTS clients for $SECONDS_PER_RUN s"
blib upload-load "$WORK"/in/*.jpg --threads "$CLIENTS" --duration "$SECONDS_PER_RUN" | tee "$OUT/nimbus.json"
STORED=$(du -sb "$NIMBUS_DATA" | cut -f1)
stop_nimbus

blog "baseline run: hash + write + fsync, $CLIENTS threads for $SECONDS_PER_RUN s"
mkdir -p "$WORK/baseline"
blib disk-baseline "$WORK"/in/*.jpg --dir "$WORK/baseline" --threads "$CLIENTS" --duration "$SECONDS_PER_RUN" \
  | tee "$OUT/baseline.json"

"$BPY" - "$OUT/nimbus.json" "$OUT/baseline.json" "$AVG" "$STORED" "$(machine_line)" <<'EOF' | tee "$OUT/summary.txt"
import json, sys
n = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
avg, stored, machine = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print("Upload throughput, %d clients, %s s, ~%d KB JPEGs" % (n["threads"], n["seconds"], avg // 1000))
print("machine: %s" % machine)
print("nimbus:   %8.1f uploads/s  %7.2f MB/s  p50 %.1f ms  p99 %.1f ms  (%d uploads, %d errors)"
      % (n["uploads_per_s"], n["mb_per_s"], n["latency_ms_p50"], n["latency_ms_p99"], n["uploads"], n["errors"]))
if n["errors"]:
    print("          first error: %s" % n["first_error"])
print("baseline: %8.1f files/s    %7.2f MB/s  (MD5 + SHA-256 + write + fsync, %d threads)"
      % (b["files_per_s"], b["mb_per_s"], b["threads"]))
if b["files_per_s"]:
    print("nimbus / baseline: %.2f" % (n["uploads_per_s"] / b["files_per_s"]))
if n["uploads"]:
    print("data dir after the run: %.1f MB (%.2f x the uploaded bytes)"
          % (stored / 1e6, stored / (n["uploads"] * avg)))
EOF
blog "raw results in $OUT"
