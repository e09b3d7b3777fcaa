#!/usr/bin/env bash
# Garage (S3-compatible, single node on loopback) vs the local filesystem, in the same run:
# upload throughput (bench/upload.sh), delivery of originals and of a cached derivative
# (bench/delivery.sh) and uncached derivations (bench/derive.sh: original read from the store,
# rendered, stored, served), each run once with `--blob-url` on a Garage bucket and once on
# the data dir. Prints both summaries and the Garage/local ratios.
#
#   NIMBUS_BENCH_SECONDS, NIMBUS_BENCH_DURATION, NIMBUS_BENCH_ROUNDS, NIMBUS_BENCH_REQUESTS:
#   passed on to the scripts (defaults here: 10 s uploads, 5 s x 2 rounds of wrk, 40 derivations)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export NIMBUS_BENCH_SECONDS=${NIMBUS_BENCH_SECONDS:-10}
export NIMBUS_BENCH_DURATION=${NIMBUS_BENCH_DURATION:-5s}
export NIMBUS_BENCH_ROUNDS=${NIMBUS_BENCH_ROUNDS:-2}
export NIMBUS_BENCH_REQUESTS=${NIMBUS_BENCH_REQUESTS:-40}
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/storage-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

build_nimbus
export NIMBUS_BIN
bash "$ROOT/scripts/garage.sh" install
GARAGE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench-garage.XXXXXX")
trap 'bash "$ROOT/scripts/garage.sh" stop "$GARAGE_DIR"; rm -rf "$GARAGE_DIR"' EXIT
GARAGE_ENV=$(bash "$ROOT/scripts/garage.sh" start "$GARAGE_DIR")
eval "$GARAGE_ENV"

for store in local garage; do
  if [[ $store == garage ]]; then
    export NIMBUS_BLOB_URL="$NIMBUS_TEST_BLOB_URL/bench-$$"
  else
    unset NIMBUS_BLOB_URL
  fi
  for b in upload delivery derive; do
    blog "$b on $store"
    NIMBUS_BENCH_OUT="$OUT/$store" bash "$BENCH_DIR/$b.sh" >"$OUT/$store-$b.log" 2>&1 || { tail -n 30 "$OUT/$store-$b.log" >&2; exit 1; }
  done
done

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import glob, os, re, sys
out = sys.argv[1]
def summary(store, bench):
    files = sorted(glob.glob(os.path.join(out, store, bench + "-*", "summary.txt")))
    return open(files[-1]).read() if files else ""
def num(text, pattern):
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else float("nan")
rows = [
    ("uploads/s", "upload", r"^nimbus:\s+([\d.]+) uploads/s"),
    ("original 30 KB req/s", "delivery", r"^small\s+\d+\s+([\d.]+)"),
    ("original 1 MB req/s", "delivery", r"^large\s+\d+\s+([\d.]+)"),
    ("cached derivative req/s", "delivery", r"^derived\s+\d+\s+([\d.]+)"),
    ("uncached derivations req/s", "derive", r"^http .*?:\s+([\d.]+) req/s"),
    ("uncached derivation p50 ms", "derive", r"^http .*?p50 ([\d.]+) ms"),
]
print("Garage (S3, loopback) vs local filesystem, same machine, same run")
print("%-28s %10s %10s %8s" % ("", "local", "garage", "g/local"))
for name, bench, pat in rows:
    l, g = num(summary("local", bench), pat), num(summary("garage", bench), pat)
    print("%-28s %10.1f %10.1f %8.2f" % (name, l, g, g / l if l else float("nan")))
PY
