#!/usr/bin/env bash
# Search latency at scale: loads a synthetic catalog (default 1,000,000 assets with tags,
# context and structured metadata) into SQLite through the catalog's own import path and into
# PostgreSQL with its bulk loader (the same rows, sent with COPY), then runs a mix of 10 expressions (selective to broad, with sorts and
# aggregations) and prints p50 / p99 per expression for each database.
#
#   NIMBUS_BENCH_ASSETS     assets to load (default 1000000)
#   NIMBUS_BENCH_ROUNDS     runs per expression (default 20)
#   NIMBUS_BENCH_DBS        which databases (default "sqlite postgres")
#   NIMBUS_BENCH_KEEP=1     keep the SQLite file and PostgreSQL database for another run
#   NIMBUS_BENCH_STREAMS    PostgreSQL: concurrent COPY connections (default 2)
#   NIMBUS_BENCH_LOADER=import  PostgreSQL: load through the import path instead
#   NIMBUS_BENCH_OUT        where results go (default bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS=${NIMBUS_BENCH_ASSETS:-1000000}
ROUNDS=${NIMBUS_BENCH_ROUNDS:-20}
DBS=${NIMBUS_BENCH_DBS:-sqlite postgres}
OUT=${NIMBUS_BENCH_OUT:-bench/out}/search-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
log() { printf '[bench] %s\n' "$*" >&2; }

cargo build --release --locked -p nimbus-db --example search_bench >&2
BIN=target/release/examples/search_bench
WORK=${NIMBUS_BENCH_WORK:-${TMPDIR:-/tmp}/nimbus-bench-search}
mkdir -p "$WORK"
export PGPASSWORD=${PGPASSWORD:-postgres}
PGDB=nimbus_bench_search_$ASSETS
cleanup() {
  if [[ "${NIMBUS_BENCH_KEEP:-0}" != 1 ]]; then
    rm -f "$WORK/search-$ASSETS.db"*
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

for db in $DBS; do
  case $db in
    sqlite) url="sqlite://$WORK/search-$ASSETS.db" ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -d test -qAtc "SELECT 1 FROM pg_database WHERE datname = '$PGDB'" | grep -q 1 ||
        psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $PGDB" >/dev/null
      url="postgres://postgres:postgres@127.0.0.1:5432/$PGDB"
      ;;
    *) log "unknown database $db"; exit 2 ;;
  esac
  log "$db: $ASSETS assets, $ROUNDS rounds"
  "$BIN" "$url" "$ASSETS" "$ROUNDS" | tee "$OUT/$db.txt"
done
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "nimbus: $(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
  for db in $DBS; do cat "$OUT/$db.txt"; done
} >"$OUT/summary.txt"
log "results in $OUT/summary.txt"
