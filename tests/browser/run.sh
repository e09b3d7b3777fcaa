#!/usr/bin/env bash
# The console's browser scenario: starts a Nimbus server on a free loopback port and a
# temporary data dir, gives it a metadata schema with rules (Admin API) and an owner (the
# CLI), then drives Debian's Chromium through it with playwright-core (tests/browser/scenario.js).
#
# Environment:
#   NIMBUS_BIN                server binary (default: target/debug/nimbus under the repo root)
#   NIMBUS_TEST_DATABASE_URL  if set, the catalog (PostgreSQL); SQLite in the data dir otherwise
#   NIMBUS_SCREENSHOTS        a directory for screenshots of the main pages
#   NIMBUS_KEEP_DATA=1        keep the data dir (with server.log)
# Exit code: 0 when the scenario passed, 1 when it failed, 2 when it could not start.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/browser"
NIMBUS_BIN=${NIMBUS_BIN:-$ROOT/target/debug/nimbus}
log() { printf '[browser] %s\n' "$*" >&2; }

[[ -x "$NIMBUS_BIN" ]] || { log "server binary not found: $NIMBUS_BIN"; exit 2; }
command -v chromium >/dev/null || { log "chromium not installed (scripts/setup.sh installs it)"; exit 2; }
if ! node -e "process.exit(require('$HERE/node_modules/playwright-core/package.json').version === require('$HERE/package.json').dependencies['playwright-core'] ? 0 : 1)" 2>/dev/null; then
  log "installing playwright-core into $HERE/node_modules"
  (cd "$HERE" && npm ci --no-audit --no-fund --silent) || exit 2
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-browser-data.XXXXXX")
LOG="$DATA/server.log"
CLOUD=browser$(printf '%04d' $((RANDOM % 10000)))
KEY=715273859012345
SECRET=NimbusBrowserTestSecret_0123456789
OWNER=owner@example.org
PASSWORD='owner password 1'
DB_ARGS=()
[[ -n "${NIMBUS_TEST_DATABASE_URL:-}" ]] && DB_ARGS=(--database-url "$NIMBUS_TEST_DATABASE_URL")

SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  if [[ "${NIMBUS_KEEP_DATA:-0}" == 1 ]]; then log "kept $DATA"; else rm -rf "$DATA"; fi
}
trap cleanup EXIT

# Info level: mail the server cannot send (invitations) is written to its log.
CLOUDINARY_URL="cloudinary://$KEY:$SECRET@$CLOUD" NIMBUS_LOG=info NO_PROXY=127.0.0.1 \
  "$NIMBUS_BIN" serve --listen "127.0.0.1:$PORT" --public-url "$BASE" --data-dir "$DATA" "${DB_ARGS[@]}" >>"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fsS --noproxy '*' "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited; log:"; tail -n 30 "$LOG" >&2; exit 2; }
  sleep 0.2
done

admin() { curl -fsS --noproxy '*' -u "$KEY:$SECRET" -H 'content-type: application/json' -X POST "$BASE/v1_1/$CLOUD/$1" -d "$2" >/dev/null; }
vals() { local out="" v; for v in "$@"; do out+="{\"external_id\":\"$v\",\"value\":\"${v^^}\"},"; done; echo "[${out%,}]"; }
admin metadata_fields "{\"external_id\":\"category\",\"label\":\"Category\",\"type\":\"enum\",\"datasource\":{\"values\":$(vals employee culture)}}" &&
admin metadata_fields "{\"external_id\":\"team\",\"label\":\"Team\",\"type\":\"enum\",\"default_disabled\":true,\"datasource\":{\"values\":$(vals rnd sales)}}" &&
admin metadata_fields "{\"external_id\":\"names\",\"label\":\"Names\",\"type\":\"set\",\"datasource\":{\"values\":$(vals john jane paul)}}" &&
admin metadata_fields '{"external_id":"note","label":"Note","type":"string"}' &&
admin metadata_rules '{"external_id":"r-team","metadata_field_id":"team","name":"employees have a team","condition":{"metadata_field_id":"category","equals":"employee"},"result":{"enable":true}}' &&
admin metadata_rules '{"external_id":"r-rnd","metadata_field_id":"names","name":"rnd names","condition":{"metadata_field_id":"team","equals":"rnd"},"result":{"activate_values":{"external_ids":["john","jane"]}}}' &&
admin metadata_rules '{"external_id":"r-note","metadata_field_id":"note","name":"rnd needs a note","condition":{"metadata_field_id":"team","equals":"rnd"},"result":{"set_mandatory":true}}' ||
  { log "could not create the metadata schema; log:"; tail -n 30 "$LOG" >&2; exit 2; }

printf '%s\n' "$PASSWORD" | "$NIMBUS_BIN" admin user create "$OWNER" --role owner --cloud "$CLOUD" --password-stdin \
  --data-dir "$DATA" "${DB_ARGS[@]}" >>"$LOG" 2>&1 || { log "could not create the owner"; tail -n 20 "$LOG" >&2; exit 2; }

NIMBUS_BASE_URL="$BASE" NIMBUS_TEST_CLOUD="$CLOUD" NIMBUS_OWNER_EMAIL="$OWNER" NIMBUS_OWNER_PASSWORD="$PASSWORD" \
  NIMBUS_SERVER_LOG="$LOG" timeout 300 node "$HERE/scenario.js"
rc=$?
[[ $rc == 0 ]] || { log "scenario failed (exit $rc); server log tail:"; tail -n 20 "$LOG" >&2; rc=1; }
exit $rc
