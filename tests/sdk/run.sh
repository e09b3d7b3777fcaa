#!/usr/bin/env bash
# Runs the official Cloudinary SDKs (Python, and Node when `node` is installed) against a
# freshly started Nimbus server on a free loopback port and a temporary data directory.
#
# Environment:
#   NIMBUS_BIN                server binary (default: target/debug/nimbus under the repo root)
#   NIMBUS_VENV               Python venv for the SDK (default: ~/.cache/nimbus/sdk-venv)
#   NIMBUS_TEST_DATABASE_URL  if set, passed as --database-url to `serve` and the admin commands
#   NIMBUS_KEEP_DATA=1        keep the temporary data dir (with server.log) after the run
#   NIMBUS_SKIP_NODE=1        skip the Node scenario
# Arguments are passed to scenario.py (step names to run only those, --list to list them).
#
# Exit code: 0 when every scenario passed, 1 otherwise (2 when the server could not start).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/sdk"
NIMBUS_BIN=${NIMBUS_BIN:-$ROOT/target/debug/nimbus}
case "$NIMBUS_BIN" in /*) ;; *) NIMBUS_BIN="$ROOT/$NIMBUS_BIN" ;; esac
VENV=${NIMBUS_VENV:-$HOME/.cache/nimbus/sdk-venv}
PY_SDK_VERSION=1.46.3
CLD_VERSION=1.17.0
PILLOW_VERSION=13.0.0

log() { printf '[sdk] %s\n' "$*" >&2; }

if [[ ! -x "$NIMBUS_BIN" ]]; then
  log "server binary not found: $NIMBUS_BIN (build it with: cargo build -p nimbus-cli)"
  exit 2
fi

# --- Python venv with the pinned SDK --------------------------------------------------------
if ! "$VENV/bin/python" -c "import cloudinary, PIL, sys; from importlib.metadata import version; sys.exit(cloudinary.VERSION != '$PY_SDK_VERSION' or version('cloudinary-cli') != '$CLD_VERSION')" 2>/dev/null; then
  log "creating venv $VENV (cloudinary==$PY_SDK_VERSION, cloudinary-cli==$CLD_VERSION)"
  python3 -m venv "$VENV" || exit 2
  "$VENV/bin/pip" install --quiet "cloudinary==$PY_SDK_VERSION" "cloudinary-cli==$CLD_VERSION" "Pillow==$PILLOW_VERSION" || exit 2
fi
PY="$VENV/bin/python"

# --- server -----------------------------------------------------------------------------------
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-sdk-data.XXXXXX")
LOG="$DATA/server.log"
CLOUD=sdktest
KEY=614273859012345
SECRET=NimbusSdkTestSecret_0123456789
MAX_FILE_BYTES=2000000
REMOTE_TIMEOUT=2
DB_ARGS=()
if [[ -n "${NIMBUS_TEST_DATABASE_URL:-}" ]]; then
  DB_ARGS=(--database-url "$NIMBUS_TEST_DATABASE_URL")
fi
SERVER_PID=

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server did not stop within 10 s of SIGTERM; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID" 2>/dev/null
  fi
  SERVER_PID=
}

cleanup() {
  stop_server
  if [[ "${NIMBUS_KEEP_DATA:-0}" == 1 ]]; then
    log "kept data dir $DATA (server log: $LOG)"
  else
    rm -rf "$DATA"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CLOUDINARY_URL="cloudinary://$KEY:$SECRET@$CLOUD"
# Debug level, so the check at the end sees every line a verbose operator would keep.
export NIMBUS_LOG=${NIMBUS_LOG:-debug}
export NIMBUS_REMOTE_ALLOWLIST=127.0.0.1
export NIMBUS_MAX_FILE_BYTES=$MAX_FILE_BYTES
export NIMBUS_REMOTE_TIMEOUT_SECS=$REMOTE_TIMEOUT
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

start_server() {
  "$NIMBUS_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "${DB_ARGS[@]}" >>"$LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if "$PY" - "$BASE/healthz" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
sys.exit(0 if opener.open(sys.argv[1], timeout=2).status == 200 else 1)
EOF
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server exited during startup; log:"; tail -n 40 "$LOG" >&2
      SERVER_PID=; return 1
    fi
    sleep 0.2
  done
  log "server not healthy after 60 s; log:"; tail -n 40 "$LOG" >&2
  return 1
}

# 1) First start creates the environment from CLOUDINARY_URL; stop it again (graceful SIGTERM).
log "starting $NIMBUS_BIN on $BASE (data dir $DATA)"
start_server || exit 2
stop_server

# 2) With the server stopped, create a second environment and a revoked key of the first.
cli() { "$NIMBUS_BIN" "$@" --data-dir "$DATA" "${DB_ARGS[@]}" 2>>"$LOG"; }
# Prints KEY SECRET CLOUD from the CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD line of a CLI command.
parse_url() { sed -n 's|.*CLOUDINARY_URL=cloudinary://\([^:]*\):\([^@]*\)@\([^?/ ]*\).*|\1 \2 \3|p' | head -n 1; }

OTHER_CLOUD=sdkother$(printf '%05d' $((RANDOM % 100000)))
read -r OTHER_KEY OTHER_SECRET OTHER_NAME < <(cli env create "$OTHER_CLOUD" | tee -a "$LOG" | parse_url)
if [[ "${OTHER_NAME:-}" != "$OTHER_CLOUD" ]]; then
  log "WARNING: 'nimbus env create $OTHER_CLOUD' printed no CLOUDINARY_URL for it; isolation step will fail"
  OTHER_CLOUD='' OTHER_KEY='' OTHER_SECRET=''
fi
read -r REVOKED_KEY REVOKED_SECRET REVOKED_CLOUD < <(cli keys create "$CLOUD" | tee -a "$LOG" | parse_url)
if [[ -n "${REVOKED_KEY:-}" && "${REVOKED_CLOUD:-}" == "$CLOUD" ]]; then
  if ! cli keys revoke "$REVOKED_KEY" >>"$LOG"; then
    log "WARNING: 'nimbus keys revoke $REVOKED_KEY' failed; revoked-key step will fail"
    REVOKED_KEY='' REVOKED_SECRET=''
  fi
else
  log "WARNING: 'nimbus keys create $CLOUD' printed no CLOUDINARY_URL; revoked-key step will fail"
  REVOKED_KEY='' REVOKED_SECRET=''
fi

# 3) Start again (the environment must survive the restart) and run the scenarios.
start_server || exit 2
log "server up (pid $SERVER_PID)"

export NIMBUS_BASE_URL="$BASE" NIMBUS_TEST_CLOUD="$CLOUD" NIMBUS_TEST_KEY="$KEY" NIMBUS_TEST_SECRET="$SECRET"
export NIMBUS_TEST_OTHER_CLOUD="$OTHER_CLOUD" NIMBUS_TEST_OTHER_KEY="$OTHER_KEY" NIMBUS_TEST_OTHER_SECRET="$OTHER_SECRET"
export NIMBUS_TEST_REVOKED_KEY="$REVOKED_KEY" NIMBUS_TEST_REVOKED_SECRET="$REVOKED_SECRET"
export NIMBUS_TEST_MAX_FILE_BYTES="$MAX_FILE_BYTES" NIMBUS_TEST_REMOTE_TIMEOUT="$REMOTE_TIMEOUT"

"$PY" "$HERE/scenario.py" "$@"
PY_RC=$?

CLD_RC=0
if [[ $# -eq 0 ]]; then
  NIMBUS_CLD="$VENV/bin/cld" "$PY" "$HERE/cld_scenario.py"
  CLD_RC=$?
fi

NODE_RC=0
if [[ "${NIMBUS_SKIP_NODE:-0}" != 1 && $# -eq 0 ]] && command -v node >/dev/null 2>&1; then
  NODE_DIR="$HERE/node"
  # Every pinned package at its pinned version, or a fresh `npm ci`.
  if ! node -e "const d = require('$NODE_DIR/package.json').dependencies; process.exit(Object.keys(d).every((n) => require('$NODE_DIR/node_modules/' + n + '/package.json').version === d[n]) ? 0 : 1)" 2>/dev/null; then
    log "installing the Node SDK into $NODE_DIR/node_modules"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) || NODE_RC=1
  fi
  if [[ $NODE_RC == 0 ]]; then
    # The Node SDK chooses http or https when it is loaded, from CLOUDINARY_URL's upload_prefix.
    CLOUDINARY_URL="cloudinary://$KEY:$SECRET@$CLOUD?upload_prefix=$BASE" node "$NODE_DIR/scenario.js"
    NODE_RC=$?
  else
    log "npm ci failed; Node scenario not run"
  fi
elif [[ $# -eq 0 ]]; then
  log "node not found (or NIMBUS_SKIP_NODE=1): Node scenario skipped"
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "the server died during the run; log tail:"; tail -n 40 "$LOG" >&2
  PY_RC=1
elif [[ $PY_RC != 0 || $NODE_RC != 0 || $CLD_RC != 0 ]]; then
  log "server log tail ($LOG):"; tail -n 20 "$LOG" >&2
fi

# Logs never hold secrets or signatures: not the API secret, not an `s--SIG--` component, not
# a signed search URL's signature, not a `signature=` parameter.
LEAKS=$(grep -nE "$SECRET|s--[A-Za-z0-9_-]{8,32}--|/search/[0-9a-f]{40,64}|signature=[0-9a-f]{40}" "$LOG" | grep -v 's--redacted--' | head -n 5)
if [[ -n "$LEAKS" ]]; then
  log "the server log holds a secret or a signature:"; printf '%s\n' "$LEAKS" >&2
  PY_RC=1
fi

log "python scenario exit $PY_RC, cld scenario exit $CLD_RC, node scenario exit $NODE_RC"
[[ $PY_RC == 0 && $CLD_RC == 0 && $NODE_RC == 0 ]]
