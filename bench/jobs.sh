#!/usr/bin/env bash
# The job queue and webhooks on SQLite and on PostgreSQL, in the same run: jobs per second
# (enqueue, then claim + run + complete by one worker, 4 at a time) and webhook latency (an
# upload's write committed -> the loopback receiver called), p50 and p99. The measuring
# program is crates/nimbus-testkit/examples/jobs_bench.rs (one process: the application, its
# router and worker, and the receiver).
#
#   NIMBUS_BENCH_JOBS      jobs per database (default 2000)
#   NIMBUS_BENCH_UPLOADS   uploads with a notification_url per database (default 200)
#   NIMBUS_TEST_POSTGRES   PostgreSQL admin URL (default postgres://postgres:postgres@127.0.0.1:5432/test)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JOBS=${NIMBUS_BENCH_JOBS:-2000}
UPLOADS=${NIMBUS_BENCH_UPLOADS:-200}
export NIMBUS_TEST_POSTGRES=${NIMBUS_TEST_POSTGRES:-postgres://postgres:postgres@127.0.0.1:5432/test}
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/jobs-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

blog "cargo build --release -p nimbus-testkit --example jobs_bench"
(cd "$ROOT" && cargo build --release --quiet -p nimbus-testkit --example jobs_bench) || exit 1
BIN=$ROOT/target/release/examples/jobs_bench
for db in sqlite postgres; do
  blog "$db: $JOBS jobs, $UPLOADS webhooks"
  "$BIN" "$db" "$JOBS" "$UPLOADS" | tee "$OUT/$db.json"
done
python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, sys
out = sys.argv[1]
s, p = (json.load(open(f"{out}/{db}.json")) for db in ("sqlite", "postgres"))
print("%-22s %10s %10s %8s" % ("", "SQLite", "PostgreSQL", "PG/SQLite"))
for k, unit in (("enqueue_per_sec", "/s"), ("jobs_per_sec", "/s"), ("webhook_p50_ms", " ms"), ("webhook_p99_ms", " ms")):
    print("%-22s %10s %10s %8.2f" % (k, f"{s[k]}{unit}", f"{p[k]}{unit}", p[k] / s[k]))
PY
