#!/usr/bin/env bash
# The test command (and what it needs installed first): every Rust test (the catalog and job
# conformance suites on SQLite and PostgreSQL, the blob-store suite on the filesystem, in memory
# and on a real Garage), then the official Cloudinary SDKs (Python and Node) and the web console
# in Chromium against a real server: on SQLite with local files, and on PostgreSQL with Garage.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need (packages, cargo-nextest, PostgreSQL, test photos); fast when present.
bash scripts/setup.sh

export PGPASSWORD=${PGPASSWORD:-postgres}
export NIMBUS_TEST_POSTGRES=${NIMBUS_TEST_POSTGRES:-postgres://postgres:postgres@127.0.0.1:5432/test}
export NIMBUS_REQUIRE_POSTGRES=${NIMBUS_REQUIRE_POSTGRES:-1}

# A single-node Garage for the S3 tests (built once into the tool cache, outside the clone).
bash scripts/garage.sh install
GARAGE_DIR=$(mktemp -d -t nimbus-garage-XXXXXX)
stop_garage() { bash scripts/garage.sh stop "$GARAGE_DIR"; rm -rf "$GARAGE_DIR"; }
trap stop_garage EXIT
GARAGE_ENV=$(bash scripts/garage.sh start "$GARAGE_DIR")
eval "$GARAGE_ENV"
export NIMBUS_REQUIRE_S3=1

# Scratch databases of earlier runs.
psql -h 127.0.0.1 -U postgres -d test -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'nimbus\_%'" 2>/dev/null |
  while read -r db; do psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null || true; done

cargo nextest run --workspace --locked --no-fail-fast

cargo build --locked -p nimbus-cli
echo "== Process lifecycle (SIGTERM, kill -9, sweep)"
python3 tests/process/lifecycle.py target/debug/nimbus
echo "== Mail to console users through an SMTP server"
timeout 120 python3 tests/process/mail.py target/debug/nimbus
echo "== SDK scenarios on SQLite"
bash tests/sdk/run.sh
echo "== Console in Chromium on SQLite"
bash tests/browser/run.sh
echo "== SDK scenarios on PostgreSQL"
db="nimbus_sdk_$$"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $db" >/dev/null
trap 'psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; stop_garage' EXIT
NIMBUS_BLOB_URL="$NIMBUS_TEST_BLOB_URL/sdk-$$" NIMBUS_TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/$db" \
  bash tests/sdk/run.sh
echo "== Console in Chromium on PostgreSQL and Garage"
browser_db="nimbus_browser_$$"
nodes_db="nimbus_nodes_$$"
drop_dbs() {
  for d in "$db" "$browser_db" "$nodes_db"; do
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
  done
}
trap 'drop_dbs; stop_garage' EXIT
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $browser_db" >/dev/null
NIMBUS_BLOB_URL="$NIMBUS_TEST_BLOB_URL/browser-$$" NIMBUS_TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/$browser_db" \
  bash tests/browser/run.sh
echo "== Two nodes on PostgreSQL and Garage (SIGKILL in the middle)"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $nodes_db" >/dev/null
timeout 600 "${NIMBUS_VENV:-$HOME/.cache/nimbus/sdk-venv}/bin/python" tests/process/nodes.py target/debug/nimbus \
  "postgres://postgres:postgres@127.0.0.1:5432/$nodes_db" "$NIMBUS_TEST_BLOB_URL/nodes-$$"
